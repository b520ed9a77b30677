"""Forward mode against reverse mode: the time of a whole Jacobian of f: R^n -> R^m, both ways.

Run: python benchmarks/forward_vs_reverse.py [--sizes 2 8 32 128] [--plot crossover.png]
Prints figures only; nothing here asserts a speed.

f sums its n inputs, passes the sum through a shared trunk of 300 nodes, then gives m outputs
sin((i + 1) t): every output depends on every input. ``jacfwd`` sweeps the whole graph once per
input (n sweeps), ``jacobian`` sweeps it back once per output (m sweeps), so forward mode should
win when n < m and reverse mode when n > m, crossing near n = m.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import autograd as ag
from autograd import Value


def make_f(m: int) -> Callable[..., list[Any]]:
    def f(xs: list[Value]) -> list[Any]:
        t = ag.sum(xs)
        for _ in range(100):  # the shared trunk
            t = (t * 0.9 + 0.1).tanh()
        return [(t * float(i + 1)).sin() for i in range(m)]

    return f


def best_time(run: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 8, 32, 128], help="values of n and of m")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing; the best counts")
    parser.add_argument("--plot", help="save the ratio against n for each m as a PNG (needs matplotlib)")
    options = parser.parse_args()
    sizes = options.sizes
    ratios: dict[int, list[float]] = {}
    print("time of jacfwd / time of jacobian (reverse); below 1: forward mode is faster")
    print("m \\ n " + "".join(f"{n:>9}" for n in sizes))
    for m in sizes:
        f = make_f(m)
        row = []
        for n in sizes:
            point = [0.01 * (k + 1) for k in range(n)]
            forward = best_time(lambda: ag.jacfwd(f)(point), options.repeats)  # noqa: B023
            reverse = best_time(lambda: ag.jacobian(f)(point), options.repeats)  # noqa: B023
            row.append(forward / reverse)
        ratios[m] = row
        print(f"{m:>5} " + "".join(f"{r:>9.2f}" for r in row))
    if options.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(6, 4))
        for m, row in ratios.items():
            axes.plot(sizes, row, marker="o", label=f"m = {m} outputs")
        axes.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
        axes.set(xscale="log", yscale="log", xlabel="n inputs", ylabel="time jacfwd / time jacobian")
        axes.set_title("jacfwd wins below the dashed line, jacobian above")
        axes.legend()
        figure.tight_layout()
        figure.savefig(options.plot, dpi=120)
        print(f"wrote {options.plot}")


if __name__ == "__main__":
    main()

"""BLAS threads for fit(compile=True)'s step: one thread, numpy's default, and what fit chooses, in one run.

Run: python benchmarks/threads.py  [--runs 5] [--steps 20]

For each network the step ``fit(compile=True)`` repeats (compiled forward and backward, nn.SGD on the
parameter array, a batch of --batch) is timed with BLAS limited to 1 thread, with numpy's default count,
and with the count ``nn.compiled_run.choose_threads`` gives for the layer sizes. The settings alternate
within a run; each figure is the median of --steps steps, and the table shows the median over --runs runs
and the range, with each ratio taken within a run. The load average is printed with it: a busy machine
is where more threads than free cores cost the most. Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import nn
from nn.compiled_run import CompiledRun, choose_threads
from nn.loss_table import find_loss

NETWORKS = {"moons 2-16-16-1": ([2, 16, 16, 1], "hinge"), "784-300-100-10": ([784, 300, 100, 10], "cross_entropy"),
            "784-1000-1000-10": ([784, 1000, 1000, 10], "cross_entropy")}  # fmt: skip


def stepper(sizes: list[int], loss: str, batch: int) -> tuple[CompiledRun, Callable[[], object]]:
    model = nn.MLP(sizes[0], sizes[1:], seed=0)
    run = CompiledRun(model, find_loss(loss), nn.SGD(model.parameters(), lr=0.01), None, 0.0)
    data = np.random.default_rng(0)
    x = data.random((batch, sizes[0]))
    y = data.integers(0, sizes[-1], size=batch) if sizes[-1] > 1 else np.where(data.random(batch) > 0.5, 1, -1)
    run.step(x, y, 1)  # traces
    return run, lambda: run.step(x, y, 1)


def median_seconds(step: Callable[[], object], steps: int, threads: int) -> float:
    times = []
    with threadpool_limits(limits=threads, user_api="blas"):
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def spread(values: list[float], unit: float, digits: int) -> str:
    low, middle, high = (f"{v * unit:,.{digits}f}" for v in (min(values), statistics.median(values), max(values)))
    return f"{middle} ({low}-{high})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs; each figure is the median over them")
    parser.add_argument("--steps", type=int, default=20, help="steps per figure in a run (their median)")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    default = max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
    print(f"{os.cpu_count()} cores, numpy's default {default} BLAS threads, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")  # fmt: skip
    print(f"| network, batch {args.batch} | 1 thread | {default} threads | fit's choice | default / 1 thread |")
    print("|---|---|---|---|---|")
    for name, (sizes, loss) in NETWORKS.items():
        run, step = stepper(sizes, loss, args.batch)
        chosen = choose_threads(len(run.parameters), args.batch)
        runs = [{count: median_seconds(step, args.steps, count) for count in (1, default)} for _ in range(args.runs)]
        ratios = [r[default] / r[1] for r in runs]
        print(f"| {name} | {spread([r[1] for r in runs], 1e3, 2)} ms | {spread([r[default] for r in runs], 1e3, 2)} ms "
              f"| {chosen} | {spread(ratios, 1, 2)}x |")  # fmt: skip
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""What Python's cyclic collector costs the scalar engine's training step, and what fit's pause wins back.

Run: python benchmarks/collector.py  [--runs 5] [--steps 20] [--heap 0]

The step is fit's scalar step on micrograd's moons demo (100 moons, MLP 2-16-16-1, hinge + 1e-4 L2, SGD),
timed three ways in each run, interleaved: as ``fit`` runs it (the collector paused for the step,
``ScalarRun.step``), without the pause (``ScalarRun._step``, the step as it ran before the pause), and with
the collector off for the whole run. micrograd's own demo step is timed with the collector on and off.
Each run gives the median of --steps steps; the table shows the median over --runs runs and their range,
and every ratio is of two figures of the same run. --heap N first allocates N small lists, as a notebook's
heap holds data, since the collector's full passes walk the whole heap. Prints figures only.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from compare_micrograd import micrograd_moons_stepper, moons

import nn
from nn.loss_table import find_loss
from nn.scalar_run import ScalarRun

try:
    import micrograd  # noqa: F401  (only whether it is there)
except ImportError:
    HAVE_MICROGRAD = False
else:
    HAVE_MICROGRAD = True


def scalar_run() -> tuple[ScalarRun, np.ndarray, np.ndarray]:
    points, labels = nn.make_moons(100, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16, 1], seed=1337)
    run = ScalarRun(model, find_loss("hinge"), nn.SGD(model.parameters(), lr=0.1), None, 1e-4)
    return run, points, labels


def median_step(step: Callable[[], Any], steps: int, collector: bool) -> float:
    """The median seconds of ``steps`` calls, with the collector on or off around them (as it was after)."""
    was = gc.isenabled()
    times = []
    if not collector:
        gc.disable()
    try:
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    finally:
        if was:
            gc.enable()
    return statistics.median(times)


def one_run(steps: int) -> dict[str, float]:
    run, points, labels = scalar_run()
    figures = {
        "fit's step (paused)": median_step(lambda: run.step(points, labels, 1), steps, collector=True),
        "without the pause": median_step(lambda: run._step(points, labels, 1), steps, collector=True),
        "collector off": median_step(lambda: run._step(points, labels, 1), steps, collector=False),
    }
    if HAVE_MICROGRAD:
        micro_points, micro_labels = moons()
        _, micro_step = micrograd_moons_stepper(micro_points, micro_labels)
        figures["micrograd, collector on"] = median_step(micro_step, max(3, steps // 5), collector=True)
        figures["micrograd, collector off"] = median_step(micro_step, max(3, steps // 5), collector=False)
    return figures


def spread(values: list[float], unit: float = 1e3, digits: int = 1) -> str:
    low, middle, high = (f"{x * unit:.{digits}f}" for x in (min(values), statistics.median(values), max(values)))
    return f"{middle} ({low}-{high})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs; each figure is the median over them")
    parser.add_argument("--steps", type=int, default=20, help="steps per figure in a run (their median)")
    parser.add_argument("--heap", type=int, default=0, help="small lists allocated first, as a notebook's data")
    args = parser.parse_args()
    heap = [[i] for i in range(args.heap)]
    gc.collect()
    runs = [one_run(args.steps) for _ in range(args.runs)]
    print(f"scalar moons step, {args.runs} runs of {args.steps} steps, heap of {len(heap):,} extra lists; "
          "ms, median (range over runs)")  # fmt: skip
    for name in runs[0]:
        print(f"  {name:<26} {spread([r[name] for r in runs])} ms")
    paused = [r["without the pause"] / r["fit's step (paused)"] for r in runs]
    off = [r["without the pause"] / r["collector off"] for r in runs]
    print(f"  fit's pause: {spread(paused, 1, 2)}x faster than the step without it (ratio within each run)")
    print(f"  collector off for good: {spread(off, 1, 2)}x faster than the step without the pause")
    if HAVE_MICROGRAD:
        for setting in ("on", "off"):
            ours = "fit's step (paused)" if setting == "on" else "collector off"
            ratio = [r[f"micrograd, collector {setting}"] / r[ours] for r in runs]
            print(f"  micrograd / chainrule, collector {setting}: {spread(ratio, 1, 1)}x")


if __name__ == "__main__":
    main()

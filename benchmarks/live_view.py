"""The live view's cost: frames a second while training, and how much slower training is with it, in one run.

Run: python benchmarks/live_view.py  [--runs 5] [--epochs 60] [--seconds 0.05,0.1] [--compile]

micrograd's moons demo (100 points, MLP 2-16-16-1, hinge loss, SGD, full batch: one step per epoch), trained
by ``nn.fit`` with the scalar engine (``--compile``: ``compile=True``). Each run trains a fresh model the same
way without the view and then with ``live=viz.LiveView(model, seconds=s, display=...)`` for each ``--seconds``
value, in a rotating order. Outside Jupyter a view draws nothing, so each frame's HTML goes to ``display=``,
a function that keeps the last one: every frame is drawn whole, as a notebook would get it. For each setting
the table gives the frames shown a second of training and the ratio of the time with the view to the time
without it in the same run: the median over the runs and the range. Prints figures only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import nn
import viz


def train(epochs: int, points: int, compiled: bool, seconds: float | None) -> tuple[float, int]:
    """Seconds ``nn.fit`` took on the moons, and the frames shown (0 without a view when ``seconds`` is None)."""
    xs, ys = nn.make_moons(points, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16, 1], seed=1337)
    view = None if seconds is None else viz.LiveView(model, seconds=seconds, display=keep_last([]))
    started = time.perf_counter()
    nn.fit(model, xs, ys, epochs=epochs, progress=False, compile=compiled, live=view if view is not None else False)
    elapsed = time.perf_counter() - started
    return elapsed, 0 if view is None else view.updates


def keep_last(kept: list[str]) -> Callable[[str], None]:
    """A display function that keeps the last frame's HTML, as a notebook's output area keeps what is on show."""

    def show(html: str) -> None:
        kept[:] = [html]

    return show


def summary(values: list[float], unit: str) -> str:
    return f"{statistics.median(values):.2f}{unit} ({min(values):.2f}-{max(values):.2f}{unit})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--seconds", default="0.05,0.1", help="the views' seconds=, comma-separated")
    parser.add_argument("--compile", action="store_true", help="train with compile=True")
    args = parser.parse_args(argv)
    settings = [float(s) for s in args.seconds.split(",")]
    train(3, args.points, args.compile, settings[0])  # warm up: imports, the compiled plans, the first layouts
    rates: dict[float, list[float]] = {s: [] for s in settings}
    ratios: dict[float, list[float]] = {s: [] for s in settings}
    for run in range(args.runs):
        order: list[float | None] = [None, *settings]
        order = order[run % len(order) :] + order[: run % len(order)]  # rotate, so no setting always goes first
        times: dict[float | None, tuple[float, int]] = {s: train(args.epochs, args.points, args.compile, s)
                                                         for s in order}  # fmt: skip
        bare = times[None][0]
        for s in settings:
            elapsed, updates = times[s]
            rates[s].append(updates / elapsed)
            ratios[s].append(elapsed / bare)
    engine = "compile=True" if args.compile else "scalar engine"
    print(f"moons {args.points} points, MLP 2-16-16-1, full batch, {args.epochs} steps, {engine}; "
          f"{args.runs} runs: median (range)")  # fmt: skip
    print("| view's seconds= | frames a second | training time, view on / off |")
    print("|---|---|---|")
    for s in settings:
        print(f"| {s:g} | {summary(rates[s], '')} | {summary(ratios[s], 'x')} |")


if __name__ == "__main__":
    main()

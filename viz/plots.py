"""Training pictures with matplotlib (``pip install matplotlib``): curves, boundaries, gradient checks.

Every ``plot_*`` function returns the matplotlib ``Figure`` it drew on, so ``plot_history(h).savefig("loss.png")``
writes the picture. Given ``ax=``, it draws into that Axes and returns ``ax.figure``, the figure holding it.
In a notebook the figure shows when the cell ends; end a last line that plots with ``;`` to show it once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from viz.checks import require_numpy

try:
    import numpy as np
except ImportError:  # the error that names viz.plots and how to install numpy
    require_numpy("viz.plots")

import autograd as ag
from autograd import Value

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _axes(ax: Axes | None, size: tuple[float, float] = (6, 4)) -> Axes:
    """``ax``, or the Axes of a new pyplot figure of ``size`` inches."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        message = "viz.plots needs matplotlib: pip install matplotlib (or the 'plots' extra of this package)"
        raise ImportError(message) from None
    return plt.subplots(figsize=size)[1]


History = Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]]


def plot_history(history: History, ax: Axes | None = None) -> Figure:
    """Loss (left axis) and any accuracy (right axis) per epoch; returns the Figure (``.savefig(path)``).

    ``history`` maps a name to one number per epoch (``{"loss": [...], "accuracy": [...]}``), or is a
    list of per-epoch records (``[{"loss": 0.7, "accuracy": 0.5}, ...]``). Epochs whose number is NaN or
    infinite (a diverged run) leave a gap, and a note in the corner counts them.
    """
    history = _columns(history)
    ax = _axes(ax)
    losses = {k: v for k, v in history.items() if "acc" not in k}
    accuracies = {k: v for k, v in history.items() if "acc" in k}
    for name, values in losses.items():
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    lines, labels = ax.get_legend_handles_labels()
    if accuracies:
        right = ax.twinx()
        for name, values in accuracies.items():
            right.plot(range(1, len(values) + 1), values, linestyle="--", label=name)
        right.set_ylabel("accuracy")
        right.set_ylim(0, 1.05)
        more_lines, more_labels = right.get_legend_handles_labels()
        lines, labels = lines + more_lines, labels + more_labels
    ax.legend(lines, labels, loc="center right")
    ax.set_title("training history")
    missing = {name: sum(not np.isfinite(x) for x in values) for name, values in history.items()}
    missing = {name: count for name, count in missing.items() if count}
    if missing:
        counted = ", ".join(f"{name}: {count}" for name, count in missing.items())
        ax.text(0.02, 0.02, f"epochs not finite, not drawn ({counted})", transform=ax.transAxes, fontsize=8,
                color="crimson")  # fmt: skip
    return ax.figure  # type: ignore[return-value]  # an Axes' figure is a Figure once it is drawn on


def _columns(history: object) -> dict[str, list[float]]:
    """``history`` as one list of floats per name, or a ValueError/TypeError saying what is wrong with it."""
    if isinstance(history, Mapping):
        columns = {str(name): _floats(str(name), values) for name, values in history.items()}
    elif isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise TypeError(
            "plot_history: history must map names to one number per epoch, or be a list of per-epoch records, "
            f"got {type(history).__name__}"
        )
    else:
        records = list(history)
        keys = list(records[0]) if records and isinstance(records[0], Mapping) else []
        for number, record in enumerate(records):
            if not isinstance(record, Mapping) or list(record) != keys:
                shown = list(record) if isinstance(record, Mapping) else type(record).__name__
                raise ValueError(
                    f"plot_history: record {number} has {shown}, record 0 has {keys}: every epoch's record "
                    "must name the same numbers"
                )
        columns = {str(key): _floats(str(key), [r[key] for r in records]) for key in keys}
    if not columns or not any(columns.values()):
        raise ValueError("plot_history: the history is empty")
    return columns


def _floats(name: str, values: object) -> list[float]:
    """``values`` as floats, or a TypeError naming ``name`` and the epoch whose entry is not a number."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"plot_history: {name!r} must be one number per epoch, got {type(values).__name__}")
    numbers = []
    for epoch, x in enumerate(values, start=1):
        try:
            numbers.append(float(x))
        except (TypeError, ValueError):
            raise TypeError(f"plot_history: {name!r} at epoch {epoch} is not a number: {x!r:.60}") from None
    return numbers


def decision_regions(
    predict: Callable[[list[float]], Any], points: Any, resolution: int = 120, threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The class ``predict`` gives each point of a grid covering ``points`` (shape (n, 2)), padded.

    ``predict(point)`` returns a score (class 1 when ``score > threshold``) or a list of class
    scores (the class is the largest). Returns the grid's x, y and class arrays. Runs under ``no_grad``.
    """
    xy = _points("decision_regions", points)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"decision_regions: resolution must be an int of at least 2, got {resolution!r}")
    pad = 0.1 * (xy.max(axis=0) - xy.min(axis=0)) + 0.25
    low, high = xy.min(axis=0) - pad, xy.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))

    def classify(point: list[float]) -> int:
        score = predict(point)
        if isinstance(score, (list, tuple)):
            return int(np.argmax([float(s) for s in score]))
        return int(float(score) > threshold)

    with ag.no_grad():
        classes = [classify([float(a), float(b)]) for a, b in zip(gx.ravel(), gy.ravel(), strict=True)]
    return gx, gy, np.array(classes).reshape(gx.shape)


def _points(caller: str, points: Any) -> np.ndarray:
    """``points`` as a float array of shape (n, 2), n at least 1, every coordinate finite: the grid spans them."""
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
        raise ValueError(f"{caller}: points must have shape (n, 2) with n at least 1, got {xy.shape}")
    bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if bad.size:
        raise ValueError(f"{caller}: point {bad[0]} is {xy[bad[0]].tolist()}; every coordinate must be finite")
    return xy


def plot_decision_boundary(
    predict: Callable[[list[float]], Any],
    points: Any,
    labels: Any,
    ax: Axes | None = None,
    resolution: int = 120,
    threshold: float = 0.0,
) -> Figure:
    """The regions a 2-D classifier assigns to each class (see :func:`decision_regions`), data on top;
    returns the Figure (``.savefig(path)``). ``labels`` holds one class per point."""
    xy = _points("plot_decision_boundary", points)
    classes = np.asarray(labels)
    if classes.shape != (len(xy),):
        raise ValueError(f"plot_decision_boundary: {len(xy)} points but labels of shape {classes.shape}")
    gx, gy, regions = decision_regions(predict, xy, resolution, threshold)
    ax = _axes(ax, (5, 5))
    levels = np.arange(regions.max() + 2) - 0.5
    ax.contourf(gx, gy, regions, levels=levels, alpha=0.3, cmap="coolwarm")
    ax.scatter(xy[:, 0], xy[:, 1], c=classes, cmap="coolwarm", edgecolors="black", linewidths=0.5, s=25)
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    ax.set_title("decision boundary")
    return ax.figure  # type: ignore[return-value]


def plot_gradient_check(
    analytic: Sequence[float | Value],
    numeric: Sequence[float],
    names: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Engine gradients against finite differences, on the diagonal when they agree; returns the Figure
    (``.savefig(path)``). Pairs with a NaN or an infinity cannot be placed: a note counts them as disagreeing."""
    a = np.array([float(x) for x in analytic])
    n = np.array([float(x) for x in numeric])
    if a.shape != n.shape:
        raise ValueError(f"plot_gradient_check: {a.size} analytic values but {n.size} numeric ones")
    if names is not None and (isinstance(names, str) or len(names) != a.size):
        count = "one str" if isinstance(names, str) else f"{len(names)} names"
        raise ValueError(f"plot_gradient_check: {a.size} values but {count}; give one name per value")
    ax = _axes(ax, (5, 5))
    placed = np.isfinite(a) & np.isfinite(n)
    span = max(float(np.abs(np.concatenate([a[placed], n[placed]])).max(initial=0.0)), 1e-12) * 1.1
    ax.plot([-span, span], [-span, span], color="grey", linewidth=0.8, label="agreement")
    wrong = ~np.isclose(a, n, rtol=1e-4, atol=1e-6) | ~placed
    ax.scatter(n[~wrong], a[~wrong], s=25, label="agree")
    ax.scatter(n[wrong & placed], a[wrong & placed], s=40, color="crimson", marker="x", label="disagree")
    if names is not None:
        _label_points(ax, n, a, [str(name) for name in names], np.flatnonzero(wrong & placed))
    ax.set_xlabel("finite differences")
    ax.set_ylabel("engine (backward)")
    unplaced = int(np.count_nonzero(~placed))
    if unplaced:
        ax.text(0.98, 0.02, f"{unplaced} not finite, not drawn (they disagree)", transform=ax.transAxes,
                fontsize=8, color="crimson", ha="right")  # fmt: skip
    ax.legend()
    ax.set_title("gradient check")
    return ax.figure  # type: ignore[return-value]


def _label_points(ax: Axes, xs: np.ndarray, ys: np.ndarray, names: list[str], which: np.ndarray) -> None:
    """Name the points ``which``, the farthest from the diagonal first, skipping any whose label would
    overlap one already placed; a note in the corner counts the ones left unnamed."""
    ax.figure.canvas.draw()  # fixes the axes' scale, so positions can be compared in pixels
    order = sorted(which.tolist(), key=lambda i: -abs(float(xs[i]) - float(ys[i])))
    placed: list[tuple[float, float]] = []
    skipped = 0
    for i in order:
        px, py = ax.transData.transform((float(xs[i]), float(ys[i])))
        if any(abs(px - qx) < 90 and abs(py - qy) < 14 for qx, qy in placed):
            skipped += 1
            continue
        placed.append((px, py))
        ax.annotate(names[i], (xs[i], ys[i]), textcoords="offset points", xytext=(5, 5), fontsize=8)
    if skipped:
        ax.text(0.02, 0.02, f"{skipped} more not named (they overlap)", transform=ax.transAxes, fontsize=8,
                color="grey")  # fmt: skip

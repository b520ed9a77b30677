"""Training pictures with matplotlib (``pip install matplotlib``): curves, boundaries, gradient checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd as ag
from autograd import Value

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _axes(ax: Axes | None, size: tuple[float, float] = (6, 4)) -> Axes:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        message = "viz.plots needs matplotlib: pip install matplotlib (or the 'plots' extra of this package)"
        raise ImportError(message) from None
    return plt.subplots(figsize=size)[1]


History = Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]]


def plot_history(history: History, ax: Axes | None = None) -> Axes:
    """Loss (left axis) and any accuracy (right axis) per epoch.

    ``history`` maps a name to one number per epoch (``{"loss": [...], "accuracy": [...]}``), or is a
    list of per-epoch records (``[{"loss": 0.7, "accuracy": 0.5}, ...]``).
    """
    if not isinstance(history, Mapping):
        records = list(history)
        history = {key: [float(r[key]) for r in records] for key in (records[0] if records else {})}
    if not history:
        raise ValueError("plot_history: the history is empty")
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
    return ax


def decision_regions(
    predict: Callable[[list[float]], Any], points: Any, resolution: int = 120, threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The class ``predict`` gives each point of a grid covering ``points`` (shape (n, 2)), padded.

    ``predict(point)`` returns a score (class 1 when ``score > threshold``) or a list of class
    scores (the class is the largest). Returns the grid's x, y and class arrays. Runs under ``no_grad``.
    """
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"decision_regions: points must have shape (n, 2), got {xy.shape}")
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


def plot_decision_boundary(
    predict: Callable[[list[float]], Any],
    points: Any,
    labels: Any,
    ax: Axes | None = None,
    resolution: int = 120,
    threshold: float = 0.0,
) -> Axes:
    """The regions a 2-D classifier assigns to each class (see :func:`decision_regions`), data on top."""
    gx, gy, regions = decision_regions(predict, points, resolution, threshold)
    xy = np.asarray(points, dtype=float)
    ax = _axes(ax, (5, 5))
    levels = np.arange(regions.max() + 2) - 0.5
    ax.contourf(gx, gy, regions, levels=levels, alpha=0.3, cmap="coolwarm")
    ax.scatter(xy[:, 0], xy[:, 1], c=np.asarray(labels), cmap="coolwarm", edgecolors="black", linewidths=0.5, s=25)
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    ax.set_title("decision boundary")
    return ax


def plot_gradient_check(
    analytic: Sequence[float | Value],
    numeric: Sequence[float],
    names: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Engine gradients against finite differences: on the diagonal when they agree."""
    a = np.array([float(x) for x in analytic])
    n = np.array([float(x) for x in numeric])
    if a.shape != n.shape:
        raise ValueError(f"plot_gradient_check: {a.size} analytic values but {n.size} numeric ones")
    ax = _axes(ax, (5, 5))
    span = max(float(np.abs(np.concatenate([a, n])).max(initial=0.0)), 1e-12) * 1.1
    ax.plot([-span, span], [-span, span], color="grey", linewidth=0.8, label="agreement")
    wrong = ~np.isclose(a, n, rtol=1e-4, atol=1e-6)
    ax.scatter(n[~wrong], a[~wrong], s=25, label="agree")
    ax.scatter(n[wrong], a[wrong], s=40, color="crimson", marker="x", label="disagree")
    if names is not None:
        _label_points(ax, n, a, [names[int(i)] for i in range(len(a))], np.flatnonzero(wrong))
    ax.set_xlabel("finite differences")
    ax.set_ylabel("engine (backward)")
    ax.legend()
    ax.set_title("gradient check")
    return ax


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

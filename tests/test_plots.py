"""viz.plots: the numbers behind each picture."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from autograd import Value
from viz.plots import decision_regions, plot_decision_boundary, plot_gradient_check, plot_history


def teardown_function() -> None:
    plt.close("all")


def test_history_from_mapping_and_records():
    ax, twin = plot_history({"loss": [0.9, 0.5, 0.2], "accuracy": [0.5, 0.8, 1.0]}).axes
    assert np.array_equal(np.asarray(ax.lines[0].get_ydata()), [0.9, 0.5, 0.2])
    assert np.array_equal(np.asarray(twin.lines[0].get_ydata()), [0.5, 0.8, 1.0])
    ax = plot_history([{"loss": 3.0}, {"loss": 1.0}]).axes[0]
    assert np.array_equal(np.asarray(ax.lines[0].get_ydata()), [3.0, 1.0])
    with pytest.raises(ValueError, match="history is empty"):
        plot_history({})


def test_decision_regions_of_a_linear_rule():
    points = np.array([[-1.0, -1.0], [1.0, 1.0], [0.5, -0.5]])
    gx, _, classes = decision_regions(lambda p: Value(p[0]) - 0.3, points, resolution=40)
    assert np.array_equal(classes, (gx > 0.3).astype(int))
    _, _, multi = decision_regions(lambda p: [p[1], -p[1], 0.0], points, resolution=40)
    assert set(np.unique(multi)) == {0, 1}
    with pytest.raises(ValueError, match=r"points must have shape \(n, 2\) with n at least 1, got \(3,\)"):
        decision_regions(lambda p: 0.0, [1.0, 2.0, 3.0])


def test_decision_boundary_plot_shows_every_point():
    points = np.array([[-1.0, 0.0], [1.0, 0.0]])
    ax = plot_decision_boundary(lambda p: p[0], points, [0, 1], resolution=20).axes[0]
    assert np.array_equal(ax.collections[-1].get_offsets(), points)


def test_gradient_check_marks_the_disagreements():
    ax = plot_gradient_check([1.0, 2.0, Value(-3.0)], [1.0, 2.5, -3.0], names=["a", "b", "c"]).axes[0]
    agree, disagree = np.asarray(ax.collections[0].get_offsets()), np.asarray(ax.collections[1].get_offsets())
    assert len(agree) == 2
    assert disagree.tolist() == [[2.5, 2.0]]
    assert [t.get_text() for t in ax.texts] == ["b"]
    with pytest.raises(ValueError, match="2 analytic values but 1 numeric"):
        plot_gradient_check([1.0, 2.0], [1.0])


def test_gradient_check_names_the_worst_points_without_overlapping_labels():
    # 12 wrong points crowded near the origin and one far from the diagonal: the far one is named
    # first, and no two labels overlap on the figure.
    numeric = [0.0, *[0.01 * k for k in range(12)]]
    analytic = [-1.0, *[0.01 * k + 0.05 for k in range(12)]]
    names = ["far", *[f"layers.0.neurons.{k}.w.0" for k in range(12)]]
    ax = plot_gradient_check(analytic, numeric, names).axes[0]
    labels = [t for t in ax.texts if t.get_text() in names]
    assert labels[0].get_text() == "far" and 1 < len(labels) < 13
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1 :])
    note = [t.get_text() for t in ax.texts if t.get_text() not in names]
    assert note == [f"{13 - len(labels)} more not named (they overlap)"]


def test_every_plot_returns_its_figure_which_saves(tmp_path):
    points = np.array([[-1.0, 0.0], [1.0, 0.0]])
    made = {
        "history": plot_history({"loss": [0.9, 0.5]}),
        "boundary": plot_decision_boundary(lambda p: p[0], points, [0, 1], resolution=10),
        "check": plot_gradient_check([1.0, 2.0], [1.0, 2.0]),
    }
    for name, figure in made.items():
        assert isinstance(figure, Figure), name
        figure.savefig(tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG"), name


def test_given_an_axes_a_plot_draws_into_it_and_returns_its_figure():
    figure, (left, middle, right) = plt.subplots(1, 3)
    assert plot_decision_boundary(lambda p: p[0], [[-1.0, 0.0], [1.0, 0.0]], [0, 1], ax=left, resolution=10) is figure
    assert plot_history({"loss": [0.9, 0.5]}, ax=middle) is figure
    assert plot_gradient_check([1.0], [1.0], ax=right) is figure
    assert left.get_title() == "decision boundary" and middle.get_title() == "training history"
    assert right.get_title() == "gradient check"


def test_a_diverged_history_leaves_gaps_and_says_how_many():
    ax = plot_history({"loss": [1.0, float("nan"), float("inf"), 0.5]}).axes[0]
    assert np.isnan(np.asarray(ax.lines[0].get_ydata())[1])
    assert [t.get_text() for t in ax.texts] == ["epochs not finite, not drawn (loss: 2)"]


def test_a_gradient_check_with_non_finite_values_counts_them_as_disagreeing():
    ax = plot_gradient_check([1.0, float("nan"), 2.0], [1.0, 1.0, float("inf")], names=["a", "b", "c"]).axes[0]
    agree, disagree = (np.asarray(c.get_offsets()) for c in ax.collections[:2])
    assert agree.tolist() == [[1.0, 1.0]] and len(disagree) == 0
    assert [t.get_text() for t in ax.texts] == ["2 not finite, not drawn (they disagree)"]

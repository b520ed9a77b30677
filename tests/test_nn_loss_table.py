"""fit with a loss given by name or as the function itself: the same labels, checks, numbers and accuracy.

The expected losses are written out by hand from each loss's formula for a model whose output is
known exactly (output = x, or the two scores (x, -x)); the first epoch's loss is the loss before
any update.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Value

POINTS = np.array([[2.0], [-0.5]])
LABELS = np.array([1, 0])  # numpy ints, as the data sets give them
CLASSES = np.array([0, 1])  # for the scores (x, -x): class 0 scores higher at x = 2, class 1 at x = -0.5


def identity_model() -> nn.MLP:
    """One input, one linear output equal to the input."""
    model = nn.MLP(1, [1], seed=0)
    model.set_weights([([[1.0]], [0.0])])
    return model


def two_class_model() -> nn.MLP:
    """One input, two linear outputs: the scores (x, -x)."""
    model = nn.MLP(1, [2], seed=0)
    model.set_weights([([[1.0], [-1.0]], [0.0, 0.0])])
    return model


def first_epoch(model: nn.MLP, loss: Any, labels: Any = LABELS) -> dict[str, list[float]]:
    return nn.fit(model, POINTS, labels, loss=loss, epochs=1, progress=False)


# Outputs 2 and -0.5 for labels 1 and 0 (as -1/+1: +1 and -1).
HINGE = (max(0.0, 1 - 1 * 2.0) + max(0.0, 1 - (-1) * (-0.5))) / 2  # (0 + 0.5) / 2
BCE = (math.log(1 + math.exp(-2.0)) + math.log(1 + math.exp(-0.5))) / 2  # -log sigmoid(2), -log(1 - sigmoid(-0.5))
MSE = ((2.0 - 1.0) ** 2 + (-0.5 - 0.0) ** 2) / 2
# Scores (2, -2) with label 0 and (-0.5, 0.5) with label 1: -log of the right class's softmax.
CROSS_ENTROPY = (math.log(1 + math.exp(-4.0)) + math.log(1 + math.exp(-1.0))) / 2


@pytest.mark.parametrize(
    ("loss", "model", "labels", "expected", "classifier"),
    [
        (nn.hinge, identity_model, LABELS, HINGE, True),
        (nn.max_margin, identity_model, LABELS, HINGE, True),
        (nn.binary_cross_entropy_with_logits, identity_model, LABELS, BCE, True),
        (nn.mse, identity_model, LABELS, MSE, False),
        (nn.cross_entropy, two_class_model, CLASSES, CROSS_ENTROPY, True),
    ],
)
def test_fit_with_each_loss_function_gives_the_hand_computed_loss(
    loss: Callable[..., Value], model: Callable[[], nn.MLP], labels: np.ndarray, expected: float, classifier: bool
):
    history = first_epoch(model(), loss, labels)
    assert history["loss"] == [pytest.approx(expected, rel=1e-12)]
    if classifier:  # both points are on the right side (or have the largest score) before the update
        assert history["accuracy"] == [1.0]
    else:
        assert "accuracy" not in history


@pytest.mark.parametrize(
    ("name", "function", "model"),
    [
        ("hinge", nn.hinge, identity_model),
        ("bce", nn.binary_cross_entropy_with_logits, identity_model),
        ("mse", nn.mse, identity_model),
        ("cross_entropy", nn.cross_entropy, two_class_model),
    ],
)
def test_a_loss_function_trains_exactly_like_its_name(
    name: str, function: Callable[..., Value], model: Callable[[], nn.MLP]
):
    by_name, by_function = model(), model()
    points, labels = nn.make_blobs(24, centers=2, std=1.5, seed=3)  # two classes, overlapping: not all right
    x = points[:, :1]
    options: dict[str, Any] = {"epochs": 4, "batch_size": 5, "progress": False, "l2": 1e-3}
    named = nn.fit(by_name, x, labels, loss=name, optimizer=nn.Adam(by_name.parameters(), lr=0.05), **options)
    given = nn.fit(by_function, x, labels, loss=function, optimizer=nn.Adam(by_function.parameters(), lr=0.05),
                   **options)  # fmt: skip
    assert given == named
    assert by_function.state_dict() == by_name.state_dict()
    assert 0.0 < named["loss"][-1] < named["loss"][0]


@pytest.mark.parametrize("loss", ["bce", nn.binary_cross_entropy_with_logits, "hinge", nn.hinge])
def test_binary_losses_take_minus_one_plus_one_labels_like_zero_one(loss: Any):
    # The label check accepts 0/1 and -1/+1 alike, so both must mean the same classes.
    expected = BCE if loss in ("bce", nn.binary_cross_entropy_with_logits) else HINGE
    assert first_epoch(identity_model(), loss, np.array([1, -1]))["loss"] == [pytest.approx(expected, rel=1e-12)]


def test_cross_entropy_function_takes_numpy_int_labels():
    labels = CLASSES.astype(np.int64)
    assert isinstance(labels[1], np.int64)  # once refused: "label np.int64(1) is not a class index"
    history = first_epoch(two_class_model(), nn.cross_entropy, labels)
    assert history["loss"] == [pytest.approx(CROSS_ENTROPY, rel=1e-12)]
    assert history["accuracy"] == [1.0]


def test_hinge_function_turns_zero_one_labels_into_signs():
    signs = first_epoch(identity_model(), nn.hinge, np.array([1, -1]))
    zero_one = first_epoch(identity_model(), nn.hinge, np.array([1, 0]))
    assert signs["loss"] == zero_one["loss"] == [pytest.approx(HINGE, rel=1e-12)]


def test_wrong_output_shapes_and_labels_are_refused_by_the_function_path_too():
    points, labels = nn.make_moons(20, seed=0)
    one_output, two_outputs = nn.MLP(2, [4, 1], seed=0), nn.MLP(2, [4, 2], seed=0)
    with pytest.raises(ValueError, match="'cross_entropy' needs one output per class, but the model gives one"):
        nn.fit(one_output, points, labels, loss=nn.cross_entropy, progress=False)
    with pytest.raises(ValueError, match="'bce' needs one output, but the model gives 2"):
        nn.fit(two_outputs, points, labels, loss=nn.binary_cross_entropy_with_logits, progress=False)
    with pytest.raises(ValueError, match="'hinge' needs one output, but the model gives 2"):
        nn.fit(two_outputs, points, labels, loss=nn.max_margin, progress=False)
    with pytest.raises(ValueError, match=r"'hinge' needs labels 0/1 or -1/\+1, got \[0, 2\]"):
        nn.fit(one_output, points, labels * 2, loss=nn.hinge, progress=False)
    with pytest.raises(ValueError, match=r"'bce' needs labels 0/1 or -1/\+1, got \[0, 3\]"):
        nn.fit(one_output, points, labels * 3, loss=nn.binary_cross_entropy_with_logits, progress=False)


def test_other_functions_are_used_as_they_are():
    seen: list[list[Any]] = []

    def spy(outputs: list[Any], labels: list[Any]) -> Value:
        seen.append(labels)
        return nn.mse(outputs, [float(y) for y in labels])

    history = first_epoch(identity_model(), spy)
    assert history["loss"] == [pytest.approx(MSE, rel=1e-12)]
    assert "accuracy" not in history
    # The step's call (the last) gets the labels unconverted, as plain numbers; the calls before it are
    # fit's tries before the first step: the first sample alone, then each distinct label.
    assert seen[:2] == [[1], [0, 1]] and seen[-1] == [1, 0]
    assert all(type(y) is int for labels in seen for y in labels)
    with pytest.raises(TypeError, match=r"fit: loss must be a name \(hinge, bce, cross_entropy, mse\) or a function"):
        first_epoch(identity_model(), 3)

"""``fit(compile=True)`` against ``fit(compile=False)`` on whole runs: every loss of the table and one of one's
own, with schedules, l2, callbacks that change the learning rate or the parameters (trained or not), and
early stops. The scalar run is the reference; the two share no code below the loss table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value

POINTS, LABELS = nn.make_moons(40, noise=0.2, seed=5)
THREE_CLASSES = LABELS + (POINTS[:, 0] > 1.0)  # 0, 1 and 2


def squared_hinge(outputs: list[Any], labels: list[Any]) -> Value:
    """A loss of one's own for 0/1 labels, a mean over the minibatch as fit asks, and no branch on a label."""
    per_sample = [ag.relu(1 - (2 * y - 1) * o) ** 2 for o, y in zip(outputs, labels, strict=True)]
    total: Value = ag.sum(per_sample)
    return total / len(per_sample)


def own_cross_entropy(outputs: list[Any], labels: list[Any]) -> Value:
    """nn.cross_entropy as a loss of one's own: it takes int labels only, as the scalar run gives them."""
    return nn.cross_entropy(outputs, labels)


LOSSES: dict[str, tuple[Any, np.ndarray, int]] = {
    "hinge": ("hinge", LABELS * 2 - 1, 1),
    "bce": ("bce", LABELS, 1),
    "cross_entropy": ("cross_entropy", THREE_CLASSES, 3),
    "mse": ("mse", LABELS.astype(float), 1),
    "own": (squared_hinge, LABELS, 1),
    "own cross_entropy": (own_cross_entropy, THREE_CLASSES, 3),
}

Settings = Callable[[nn.MLP, nn.Optimizer], dict[str, Any]]


def halve_lr(optimizer: nn.Optimizer) -> Callable[[int, dict[str, float]], None]:
    def callback(epoch: int, logs: dict[str, float]) -> None:
        optimizer.lr *= 0.5

    return callback


def nudge(model: nn.MLP) -> Callable[[int, dict[str, float]], None]:
    def callback(epoch: int, logs: dict[str, float]) -> None:
        if epoch == 2:
            for i, p in enumerate(model.parameters()):
                p.data += 0.01 * (-1) ** i

    return callback


SCENARIOS: dict[str, Settings] = {
    "StepLR and l2": lambda model, opt: {"schedule": nn.StepLR(opt, step_size=3, gamma=0.5), "l2": 1e-3},
    "LinearDecay, full batch": lambda model, opt: {"schedule": nn.LinearDecay(opt, 0.2, 0.02, 5), "batch_size": None},
    "callback halves lr": lambda model, opt: {"callback": halve_lr(opt)},
    "callback moves parameters": lambda model, opt: {"callback": nudge(model), "l2": 1e-4},
    "early stop": lambda model, opt: {"callback": lambda epoch, logs: epoch == 3},
}


def train(loss: str, scenario: str, compiled: bool) -> tuple[dict[str, list[float]], list[float]]:
    function, labels, outputs = LOSSES[loss]
    model = nn.MLP(2, [5, outputs], activation="tanh" if loss == "mse" else "relu", seed=3)
    optimizer = nn.SGD(model.parameters(), lr=0.2, momentum=0.5)
    settings: dict[str, Any] = {"epochs": 5, "batch_size": 10, "progress": False}
    settings.update(SCENARIOS[scenario](model, optimizer))
    history = nn.fit(model, POINTS, labels, loss=function, optimizer=optimizer, compile=compiled, **settings)
    return history, [p.data for p in model.parameters()]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("loss", list(LOSSES))
def test_compiled_runs_take_the_scalar_runs_steps(loss: str, scenario: str):
    scalar_history, scalar_params = train(loss, scenario, compiled=False)
    history, params = train(loss, scenario, compiled=True)
    assert history.keys() == scalar_history.keys()
    assert len(history["loss"]) == (3 if scenario == "early stop" else 5)
    for key in history:
        np.testing.assert_allclose(history[key], scalar_history[key], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(params, scalar_params, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("compiled", [False, True])
def test_a_callback_that_changes_an_untrained_parameter_is_seen_by_the_next_step(compiled: bool):
    # Only the first layer is trained; the callback moves the output neuron's weights, which the
    # compiled run once read a single time, when it adopted its plan.
    model = nn.MLP(2, [4, 1], seed=8)
    output = model.layers[1].neurons[0]

    def callback(epoch: int, logs: dict[str, float]) -> None:
        if epoch == 1:
            for w in output.w:
                w.data = -w.data
            output.b.data = 0.5

    history = nn.fit(model, POINTS, LABELS, loss="bce", optimizer=nn.SGD(model.layers[0].parameters(), lr=0.1),
                     epochs=2, progress=False, callback=callback, compile=compiled)  # fmt: skip
    # The reference: the same two steps written out with the scalar engine by hand.
    reference = nn.MLP(2, [4, 1], seed=8)
    trained = reference.layers[0].parameters()
    by_hand = []
    for epoch in (1, 2):
        if epoch == 2:
            for w in reference.layers[1].neurons[0].w:
                w.data = -w.data
            reference.layers[1].neurons[0].b.data = 0.5
        scores = [reference(p.tolist()) for p in POINTS]
        loss = nn.binary_cross_entropy_with_logits(scores, LABELS.tolist())  # type: ignore[arg-type]
        by_hand.append(loss.data)
        for p in trained:
            p.grad = 0.0
        loss.backward()
        for p in trained:
            p.data -= 0.1 * p.grad
    np.testing.assert_allclose(history["loss"], by_hand, rtol=1e-12)
    np.testing.assert_allclose([p.data for p in model.parameters()], [p.data for p in reference.parameters()],
                               rtol=1e-12)  # fmt: skip

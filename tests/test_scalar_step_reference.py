"""``fit``'s scalar step on micrograd's moons (MLP 2-16-16-1, hinge + 1e-4 L2, SGD) checked two ways: against
the same network written out in numpy with its derivatives by hand (the loss, every gradient and every
parameter to 1e-12 after each step), and against the engine's own general paths (Op's checked call, the
general reverse loop), which must give the same bits as the shortcuts a step takes."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
from nn.loss_table import find_loss
from nn.scalar_run import ScalarRun

ALPHA, LR, STEPS = 1e-4, 0.1, 3
POINTS, LABELS = nn.make_moons(100, noise=0.1, seed=1)


def matrices(model: nn.MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each layer's weights (a row per neuron) and biases, as floats."""
    return [
        (np.array([[w.data for w in n.w] for n in layer.neurons]), np.array([n.b.data for n in layer.neurons]))
        for layer in model.layers
    ]


def gradients_of(model: nn.MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.array([[w.grad for w in n.w] for n in layer.neurons]), np.array([n.b.grad for n in layer.neurons]))
        for layer in model.layers
    ]


def reference_step(
    layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, labels: np.ndarray
) -> tuple[float, list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
    """The loss, the gradients and the parameters after one SGD step, by hand: relu hidden layers, a linear
    output s, loss mean max(0, 1 - y s) + alpha * sum p**2 with y = -1 for label 0 and +1 for label 1."""
    activations, pre = [x], []
    for k, (w, b) in enumerate(layers):
        z = activations[-1] @ w.T + b
        pre.append(z)
        activations.append(np.maximum(z, 0.0) if k < len(layers) - 1 else z)
    y = np.where(labels > 0, 1.0, -1.0)
    margins = 1.0 - y * activations[-1][:, 0]
    squares = sum(float(np.sum(w * w) + np.sum(b * b)) for w, b in layers)
    loss = float(np.mean(np.maximum(margins, 0.0))) + ALPHA * squares
    upstream = np.where(margins > 0.0, -y / len(y), 0.0)[:, None]  # d loss / d s
    grads: list[tuple[np.ndarray, np.ndarray]] = []
    for k in range(len(layers) - 1, -1, -1):
        w, b = layers[k]
        grads.insert(0, (upstream.T @ activations[k] + 2 * ALPHA * w, upstream.sum(axis=0) + 2 * ALPHA * b))
        if k > 0:
            upstream = (upstream @ w) * (pre[k - 1] > 0.0)  # relu's derivative: 1 above 0, else 0
    stepped = [(w - LR * gw, b - LR * gb) for (w, b), (gw, gb) in zip(layers, grads, strict=True)]
    return loss, grads, stepped


def close(mine: list[tuple[np.ndarray, np.ndarray]], theirs: list[tuple[np.ndarray, np.ndarray]]) -> None:
    for (w, b), (w_ref, b_ref) in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-15)


def test_the_moons_step_is_the_networks_derivative():
    model = nn.MLP(2, [16, 16, 1], seed=1337)
    run = ScalarRun(model, find_loss("hinge"), nn.SGD(model.parameters(), lr=LR), None, ALPHA)
    for _ in range(STEPS):
        loss_ref, grads_ref, stepped_ref = reference_step(matrices(model), POINTS, LABELS)
        loss, _ = run.step(POINTS, LABELS, 1)
        assert loss == pytest.approx(loss_ref, rel=1e-12)
        close(gradients_of(model), grads_ref)
        close(matrices(model), stepped_ref)


def test_the_shortcuts_give_the_general_paths_bits():
    model = nn.MLP(2, [16, 16, 1], seed=1337)
    rows, labels = POINTS.tolist(), LABELS.tolist()
    parameters = model.parameters()

    def loss() -> ag.Value:
        return find_loss("hinge")([model(row) for row in rows], labels) + nn.losses.l2(parameters, ALPHA)

    usual = loss()
    fast = ag.gradients(usual, parameters)
    with ag.detect_anomaly():  # Op's checked call, apply's checked path and the general reverse loop
        checked = loss()
        general = ag.gradients(checked, parameters)
    assert usual.data == checked.data
    assert [g.hex() for g in fast] == [g.hex() for g in general]  # type: ignore[union-attr]

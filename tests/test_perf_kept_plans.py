"""Plans kept per model: a second compiled ``fit`` or ``predict`` replays the first one's trace, and traces
again exactly when the model changed in a way its plan cannot see (the rules of ``nn.compiled_run``).

Every number is checked against the scalar engine (``compile=False``), which never traces.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from nn import compiled_run
from nn.compiled_run import forget_plans, traces

POINTS, LABELS = nn.make_moons(40, noise=0.1, seed=0)


def _fit(model: nn.MLP, compiled: bool, loss: str = "hinge", epochs: int = 2) -> dict[str, list[float]]:
    return nn.fit(model, POINTS, LABELS, loss=loss, epochs=epochs, batch_size=16, progress=False, compile=compiled)


def _same_predictions(model: Any) -> None:
    np.testing.assert_allclose(nn.predict(model, POINTS, compile=True), nn.predict(model, POINTS),
                               rtol=1e-12, atol=1e-14)  # fmt: skip


def test_a_second_fit_replays_the_plan_and_takes_the_scalar_runs_steps():
    model, reference = nn.MLP(2, [6, 1], seed=1), nn.MLP(2, [6, 1], seed=1)
    histories = [_fit(model, True), _fit(model, True, epochs=3)]
    assert traces(model) == 1
    expected = [_fit(reference, False), _fit(reference, False, epochs=3)]
    for got, want in zip(histories, expected, strict=True):
        np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-10)
    np.testing.assert_allclose([p.data for p in model.parameters()], [p.data for p in reference.parameters()],
                               rtol=1e-10, atol=1e-13)  # fmt: skip
    assert traces(reference) == 0


def test_predict_and_accuracy_share_one_trace():
    model = nn.MLP(2, [5, 3], seed=2)
    _same_predictions(model)
    labels = np.arange(len(POINTS)) % 3
    assert nn.accuracy(model, POINTS, labels, compile=True) == nn.accuracy(model, POINTS, labels)
    nn.predict(model, POINTS[:7], compile=True)  # another batch size: the same sample shape
    assert traces(model) == 1


def test_a_changed_layer_is_traced_again():
    model = nn.MLP(2, [4, 4, 1], seed=3)
    _same_predictions(model)
    model.layers[1] = nn.Layer(4, 4, seed=9)
    _same_predictions(model)
    assert traces(model) == 2
    model.layers.append(nn.Layer(1, 1, activation="linear", seed=10))
    _same_predictions(model)
    assert traces(model) == 3


def test_a_swapped_parameter_is_traced_again():
    model = nn.MLP(2, [3, 1], seed=4)
    _same_predictions(model)
    model.layers[0].neurons[1].w[0] = ag.Value(7.5)
    _same_predictions(model)
    assert traces(model) == 2


def test_a_changed_setting_is_traced_again():
    model = nn.MLP(2, [3, 1], seed=5)
    _same_predictions(model)
    model.layers[0].neurons[2].activation = "tanh"
    _same_predictions(model)
    assert traces(model) == 2


def test_an_attribute_replaced_by_another_object_is_traced_again():
    model = Scaled()
    points = np.arange(6.0).reshape(3, 2)
    assert nn.predict(model, points, compile=True) == pytest.approx([0.5, 2.5, 4.5], rel=1e-15)
    model.squash = ag.tanh  # a function the model's code calls: the plan cannot see which
    assert nn.predict(model, points, compile=True) == pytest.approx(np.tanh([0.5, 2.5, 4.5]).tolist(), rel=1e-15)
    model.sizes = [1, 2]
    nn.predict(model, points, compile=True)
    model.sizes.append(3)  # a list of settings changed in place
    nn.predict(model, points, compile=True)
    assert traces(model) == 4


def test_moved_parameters_are_no_reason_to_trace():
    model = nn.MLP(2, [3, 1], seed=6)
    _same_predictions(model)
    for p in model.parameters():
        p.data *= -1.5  # in place: the plan reads the numbers afresh at every call
    _same_predictions(model)
    assert traces(model) == 1


def test_a_new_loss_traces_and_an_old_one_replays():
    model, reference = nn.MLP(2, [5, 1], seed=7), nn.MLP(2, [5, 1], seed=7)
    for loss in ("hinge", "bce", "hinge"):
        got, want = _fit(model, True, loss), _fit(reference, False, loss)
        np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-10)
    assert traces(model) == 2


class Scaled(nn.Module):
    """squash(w * (x0 + x1 + ...)): any number of inputs, so new sample shapes reach the same model."""

    def __init__(self) -> None:
        self.w = ag.Value(0.5)
        self.squash: Callable[[ag.Value], ag.Value] = lambda v: v
        self.sizes: list[int] = []

    def __call__(self, x: list[Any]) -> ag.Value:
        return self.squash(self.w * ag.sum(x))


def test_new_shapes_trace_and_old_ones_replay():
    model = Scaled()
    for width in (2, 3, 2):
        points = np.arange(4.0 * width).reshape(4, width)
        assert nn.predict(model, points, compile=True) == pytest.approx(0.5 * points.sum(axis=1), rel=1e-15)
    assert traces(model) == 2


def test_forget_plans_traces_again():
    model = nn.MLP(2, [3, 1], seed=8)
    _same_predictions(model)
    forget_plans(model)
    _same_predictions(model)
    assert traces(model) == 2


def test_kept_plans_do_not_keep_the_model_alive():
    model = nn.MLP(2, [3, 1], seed=9)
    _fit(model, True)
    _same_predictions(model)
    key = id(model)
    assert key in compiled_run._KEPT
    del model
    gc.collect()
    assert key not in compiled_run._KEPT


def test_a_callable_that_is_not_a_module_is_compiled_afresh():
    model = nn.MLP(2, [3, 1], seed=10)
    wrapped = lambda x: model(x)  # a plain function as the model
    np.testing.assert_allclose(nn.predict(wrapped, POINTS, compile=True), nn.predict(model, POINTS), rtol=1e-12)
    assert traces(model) == 0


def test_a_replayed_plan_serves_another_optimizer_and_a_subset_of_parameters():
    model, reference = nn.MLP(2, [5, 1], seed=11), nn.MLP(2, [5, 1], seed=11)
    runs = [
        lambda m: nn.SGD(m.parameters(), lr=0.1),
        lambda m: nn.Adam(m.parameters(), lr=0.01),
        lambda m: nn.SGD(m.layers[1].parameters(), lr=0.1),  # the last layer only: the rest read from the Values
    ]
    for make in runs:
        for m, compiled in ((model, True), (reference, False)):
            nn.fit(m, POINTS, LABELS, loss="hinge", optimizer=make(m), epochs=2, batch_size=16, progress=False,
                   compile=compiled)  # fmt: skip
    np.testing.assert_allclose([p.data for p in model.parameters()], [p.data for p in reference.parameters()],
                               rtol=1e-10, atol=1e-13)  # fmt: skip
    assert traces(model) == 1


def test_same_objects_replays_a_known_plan_without_walking_what_fn_reads(monkeypatch: pytest.MonkeyPatch):
    # fit vouches for its per-sample step's objects: a known plan is replayed without _bindings; a new
    # sample shape still traces (and walks them, to keep with the plan).
    w = ag.Value(0.5)
    compiled = ag.compile(lambda x: (x[0] * w).tanh())
    first = compiled.evaluate(np.ones((3, 2)))
    walks: list[object] = []
    real = ag.compiler.compiled._bindings
    def counted(fn: Any) -> tuple[object, ...]:
        walks.append(fn)
        return real(fn)

    monkeypatch.setattr(ag.compiler.compiled, "_bindings", counted)
    again = compiled.evaluate(np.ones((4, 2)), same_objects=True)
    assert walks == [] and again.plan is first.plan and compiled.traces == 1
    np.testing.assert_array_equal(again.outputs, np.full((4, 1), np.tanh(0.5)))
    compiled.evaluate(np.ones((2, 3)), same_objects=True)
    assert len(walks) == 1 and compiled.traces == 2
    compiled.evaluate(np.ones((2, 2)))  # without the promise, the walk runs for a known plan too
    assert len(walks) == 2 and compiled.traces == 2

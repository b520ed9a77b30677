"""``fit(compile=True)`` takes the same steps as ``fit``: the same history and parameters, to rounding.

The reference is the scalar training loop itself (``compile=False``), run from the same seed on the
same batches; the compiled run shares no code with it below the loss table.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Value

POINTS, LABELS = nn.make_moons(60, noise=0.2, seed=4)


def _train(compiled: bool, loss: str, optimizer: str, l2: float, batch_size: int | None) -> tuple[Any, ...]:
    outputs = 3 if loss == "cross_entropy" else 1
    model = nn.MLP(2, [6, 5, outputs], activation="tanh" if loss == "mse" else "relu", seed=11)
    labels = LABELS * 2 - 1 if loss == "hinge" else LABELS  # hinge with -1/+1, the rest with 0/1
    if optimizer == "sgd":
        opt: nn.Optimizer = nn.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    else:
        opt = nn.Adam(model.parameters(), lr=0.02)
    history = nn.fit(
        model, POINTS, labels, loss=loss, optimizer=opt, epochs=4, batch_size=batch_size, l2=l2,
        progress=False, compile=compiled,
    )  # fmt: skip
    return history, [p.data for p in model.parameters()], [p.grad for p in model.parameters()]


@pytest.mark.parametrize("loss", ["hinge", "bce", "cross_entropy", "mse"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize(("l2", "batch_size"), [(0.0, 16), (1e-3, None)])
def test_compiled_training_matches_the_scalar_loop(loss: str, optimizer: str, l2: float, batch_size: int | None):
    scalar_history, scalar_params, scalar_grads = _train(False, loss, optimizer, l2, batch_size)
    history, params, grads = _train(True, loss, optimizer, l2, batch_size)
    assert history.keys() == scalar_history.keys()
    for key in history:
        np.testing.assert_allclose(history[key], scalar_history[key], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(params, scalar_params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads, scalar_grads, rtol=1e-9, atol=1e-12)  # the last step's, as fit leaves them


def test_hinge_with_zero_one_labels_compiles_to_the_same_steps():
    model_a, model_b = nn.MLP(2, [4, 1], seed=2), nn.MLP(2, [4, 1], seed=2)
    a = nn.fit(model_a, POINTS, LABELS, loss="hinge", epochs=3, progress=False)
    b = nn.fit(model_b, POINTS, LABELS, loss="hinge", epochs=3, progress=False, compile=True)
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-12)
    np.testing.assert_allclose([p.data for p in model_b.parameters()], [p.data for p in model_a.parameters()])


class HalfSteps(nn.Optimizer):
    """A user's optimizer with its own ``updates`` on Values: p -= lr/2 * grad."""

    def updates(self) -> tuple[list[float], object]:
        return [p.data - 0.5 * self.lr * p.grad for p in self.parameters], None


def test_an_optimizer_of_ones_own_gets_the_gradients_in_grad():
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [5, 1], seed=3)
        history = nn.fit(model, POINTS, LABELS, loss="bce", optimizer=HalfSteps(model.parameters(), lr=0.2),
                         epochs=3, batch_size=20, l2=1e-3, progress=False, compile=compiled)  # fmt: skip
        runs.append((history["loss"], [p.data for p in model.parameters()]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-9)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-9)


def test_an_optimizer_over_some_parameters_moves_only_those():
    model = nn.MLP(2, [4, 1], seed=5)
    first_layer = model.layers[0].parameters()
    before = [p.data for p in model.layers[1].parameters()]
    nn.fit(model, POINTS, LABELS, loss="bce", optimizer=nn.SGD(first_layer, lr=0.1), epochs=2,
           l2=1e-2, progress=False, compile=True)  # fmt: skip
    assert [p.data for p in model.layers[1].parameters()] == before
    reference = nn.MLP(2, [4, 1], seed=5)
    nn.fit(reference, POINTS, LABELS, loss="bce", optimizer=nn.SGD(reference.layers[0].parameters(), lr=0.1),
           epochs=2, l2=1e-2, progress=False)  # fmt: skip
    np.testing.assert_allclose([p.data for p in model.parameters()], [p.data for p in reference.parameters()])


def test_the_callback_sees_the_current_parameters_and_may_change_them():
    seen = []
    model = nn.MLP(2, [4, 1], seed=6)

    def callback(epoch: int, logs: dict[str, float]) -> None:
        seen.append([p.data for p in model.parameters()])
        if epoch == 1:
            for p in model.parameters():
                p.data *= 0.5  # the next epoch must start from here

    reference = nn.MLP(2, [4, 1], seed=6)
    expected = []

    def reference_callback(epoch: int, logs: dict[str, float]) -> None:
        expected.append([p.data for p in reference.parameters()])
        if epoch == 1:
            for p in reference.parameters():
                p.data *= 0.5

    nn.fit(model, POINTS, LABELS, loss="bce", epochs=3, progress=False, callback=callback, compile=True)
    nn.fit(reference, POINTS, LABELS, loss="bce", epochs=3, progress=False, callback=reference_callback)
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


def test_an_overflowing_step_raises_and_keeps_the_last_parameters():
    model = nn.MLP(2, [4, 1], seed=7)
    before = [p.data for p in model.parameters()]
    with pytest.raises(nn.TrainingError, match="epoch 1, step 1") as caught:
        nn.fit(model, POINTS * 1e300, LABELS, loss="bce", optimizer=nn.SGD(model.parameters(), lr=1e300),
               epochs=2, progress=False, compile=True)  # fmt: skip
    assert caught.value.epoch == 1 and caught.value.step == 1
    assert [p.data for p in model.parameters()] == before
    assert all(math.isfinite(p.data) for p in model.parameters())


def test_ctrl_c_keeps_the_parameters_of_the_last_whole_step_and_the_history():
    model = nn.MLP(2, [4, 1], seed=8)
    snapshots: list[list[float]] = []

    def callback(epoch: int, logs: dict[str, float]) -> None:
        snapshots.append([p.data for p in model.parameters()])
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        nn.fit(model, POINTS, LABELS, loss="bce", epochs=5, progress=False, callback=callback, compile=True)
    assert len(caught.value.history["loss"]) == 2  # type: ignore[attr-defined]
    assert [p.data for p in model.parameters()] == snapshots[-1]


def test_a_schedule_changes_the_compiled_steps_too():
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [4, 1], seed=9)
        optimizer = nn.SGD(model.parameters(), lr=0.5)
        schedule = nn.StepLR(optimizer, step_size=2, gamma=0.5)
        nn.fit(model, POINTS, LABELS, loss="bce", optimizer=optimizer, schedule=schedule, epochs=5,
               progress=False, compile=compiled)  # fmt: skip
        runs.append([p.data for p in model.parameters()])
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-10)


@pytest.mark.parametrize("flag", ["yes", 1, None])
def test_compile_must_be_a_bool(flag: object):
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(TypeError, match="compile must be True or False"):
        nn.fit(model, POINTS, LABELS, epochs=1, progress=False, compile=flag)  # type: ignore[arg-type]
    assert model.state_dict() == before


def test_a_model_that_branches_on_its_input_is_named_before_any_step():
    class Branching(nn.Module):
        def __init__(self) -> None:
            self.w = Value(0.5)

        def __call__(self, x: list[Any]) -> Value:
            out: Value = self.w * x[0] if x[0] > 0 else self.w * x[1]  # data-dependent: refused when traced
            return out

        def parameters(self) -> list[Value]:
            return [self.w]

    model = Branching()
    with pytest.raises(TypeError, match=r"test_fit_compiled\.py:\d+.*x\[0\] > 0"):
        nn.fit(model, POINTS, LABELS, loss="bce", epochs=1, progress=False, compile=True)
    assert model.w.data == 0.5


@pytest.mark.parametrize("sizes", [[5, 1], [5, 3]])
def test_compiled_predict_and_accuracy_match_the_scalar_ones(sizes: list[int], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(nn.train, "PREDICT_CHUNK", 7)  # several chunks, and a short last one
    model = nn.MLP(2, sizes, seed=1)
    expected = nn.predict(model, POINTS)
    np.testing.assert_allclose(nn.predict(model, POINTS, compile=True), expected, rtol=1e-12, atol=1e-15)
    labels = LABELS if sizes[-1] == 1 else np.arange(len(POINTS)) % 3
    assert nn.accuracy(model, POINTS, labels, compile=True) == nn.accuracy(model, POINTS, labels)


def test_compiled_predict_refuses_what_predict_refuses():
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="the model takes 2 inputs"):
        nn.predict(model, np.zeros((4, 3)), compile=True)
    with pytest.raises(TypeError, match="compile must be True or False"):
        nn.predict(model, POINTS, compile="fast")  # type: ignore[arg-type]


def test_compiled_predict_takes_what_predict_takes():
    model = nn.MLP(2, [3, 1], seed=0)
    assert nn.predict(model, np.zeros((0, 2)), compile=True) == nn.predict(model, np.zeros((0, 2))) == []
    nan_point = np.array([[math.nan, 1.0]])
    assert math.isnan(nn.predict(model, nan_point, compile=True)[0]) and math.isnan(nn.predict(model, nan_point)[0])


def summed_squares(outputs: list[Any], labels: list[Any]) -> Value:
    """A loss of one's own that sums over the batch instead of averaging."""
    return sum(((o - y) ** 2 for o, y in zip(outputs, labels, strict=True)), Value(0.0))


def mean_squares(outputs: list[Any], labels: list[Any]) -> Value:
    """The same as a mean: what compile=True can take."""
    return summed_squares(outputs, labels) / len(outputs)


def test_a_loss_that_is_not_a_mean_over_samples_is_refused_before_any_step():
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"loss 'summed_squares' of 3 samples together is .* mean over the batch"):
        nn.fit(model, POINTS, LABELS, loss=summed_squares, epochs=1, batch_size=10, progress=False, compile=True)
    assert model.state_dict() == before
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [3, 1], seed=0)
        runs.append(nn.fit(model, POINTS, LABELS, loss=mean_squares, epochs=2, batch_size=10, progress=False,
                           compile=compiled)["loss"])  # fmt: skip
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-9)

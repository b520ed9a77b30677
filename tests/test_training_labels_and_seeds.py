"""Shapes and arguments as users pass them: labels in a column, seeds as ints or Generators, losses of
one's own; and the same refusals, word for word, whether a run is compiled or not."""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
import nn.train
from autograd import Value

POINTS, LABELS = nn.make_moons(30, noise=0.2, seed=3)
THREE = LABELS + (POINTS[:, 0] > 1.0)


def own_mean_squares(outputs: list[Any], labels: list[Any]) -> Value:
    total: Value = ag.sum([(o - y) ** 2 for o, y in zip(outputs, labels, strict=True)])
    return total / len(outputs)


RUNS = [("hinge", LABELS, 1), ("bce", LABELS, 1), ("cross_entropy", THREE, 3), ("mse", LABELS, 1),
        (own_mean_squares, LABELS, 1)]  # fmt: skip


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize(("loss", "labels", "outputs"), RUNS, ids=["hinge", "bce", "cross_entropy", "mse", "own"])
def test_a_column_of_labels_trains_as_the_labels_do(loss: Any, labels: np.ndarray, outputs: int, compiled: bool):
    histories = []
    for given in (labels, labels.reshape(-1, 1)):
        model = nn.MLP(2, [4, outputs], seed=0)
        histories.append(nn.fit(model, POINTS, given, loss=loss, epochs=2, batch_size=8, progress=False,
                                compile=compiled))  # fmt: skip
    assert histories[1] == histories[0]


@pytest.mark.parametrize("compiled", [False, True])
def test_accuracy_of_a_column_of_labels_counts_each_sample_once(compiled: bool):
    model = nn.MLP(1, [1], seed=0)
    model.set_weights([([[1.0]], [0.0])])  # output = x: 2 and 1 say class 1, -1 says class 0
    points = np.array([[2.0], [-1.0], [1.0]])
    column = np.array([[1], [0], [0]])
    # Two right of three; a column once broadcast against the row of outputs into a 3 x 3 table.
    assert nn.accuracy(model, points, column, compile=compiled) == pytest.approx(2 / 3)
    three = nn.MLP(2, [3], seed=0)
    assert nn.accuracy(three, POINTS, THREE.reshape(-1, 1), compile=compiled) == nn.accuracy(three, POINTS, THREE)


def refusal(run: Any) -> tuple[type[BaseException], str]:
    with pytest.raises((ValueError, TypeError)) as caught:
        run()
    return type(caught.value), str(caught.value)


def own_hinge(outputs: list[Any], labels: list[Any]) -> Value:
    return nn.hinge(outputs, labels)


BAD: dict[str, tuple[Any, np.ndarray, int]] = {
    "hinge label 2 late, own loss": (own_hinge, np.array([1, 0] * 14 + [2, 1]), 1),
    "class 7 of 3": ("cross_entropy", np.array([0, 1, 2] * 9 + [7, 0, 1]), 3),
    "labels in two columns": ("bce", np.stack([LABELS, LABELS], axis=1), 1),
    "text labels, own loss": (own_hinge, np.array(["no", "yes"])[LABELS], 1),
    "a list of one output": ("hinge", LABELS, 0),  # 0: a Layer of one neuron, whose output is a list of one
}


@pytest.mark.parametrize("case", list(BAD))
def test_compiled_or_not_a_run_refuses_the_same_data_with_the_same_words_before_any_step(case: str):
    loss, labels, outputs = BAD[case]
    found = []
    for compiled in (False, True):
        model: nn.Module = nn.MLP(2, [4, outputs], seed=0) if outputs else nn.Layer(2, 1, seed=0)
        before = model.state_dict()
        settings = {"loss": loss, "epochs": 1, "batch_size": 4, "progress": False, "compile": compiled}
        found.append(refusal(lambda: nn.fit(model, POINTS, labels, **settings)))  # noqa: B023
        assert model.state_dict() == before
    assert found[0] == found[1]


def test_every_maker_of_random_weights_takes_seed_as_an_int_or_a_generator():
    def weights(module: nn.Module) -> list[float]:
        return [p.data for p in module.parameters()]

    assert weights(nn.Neuron(3, seed=5)) == weights(nn.Neuron(3, seed=np.random.default_rng(5)))
    assert weights(nn.Layer(3, 4, seed=5)) == weights(nn.Layer(3, 4, seed=np.random.default_rng(5)))
    assert weights(nn.MLP(3, [4, 2], seed=5)) == weights(nn.MLP(3, [4, 2], seed=np.random.default_rng(5)))
    shared = np.random.default_rng(9)  # drawn from in turn: the second layer differs from the first
    first, second = nn.Layer(3, 4, seed=shared), nn.Layer(3, 4, seed=shared)
    both = np.random.default_rng(9)
    expected = [both.normal(0.0, np.sqrt(2 / 3), 3).tolist() for _ in range(8)]  # He for relu: N(0, 2 / 3)
    drawn = [[w.data for w in neuron.w] for layer in (first, second) for neuron in layer.neurons]
    np.testing.assert_allclose(drawn, expected, rtol=0, atol=0)
    assert weights(nn.Layer(3, 4, seed=np.random.default_rng(5))) == weights(nn.Layer(3, 4, seed=5))  # a Generator


def test_fit_takes_seed_as_an_int_or_a_generator_for_its_shuffles():
    def run(seed: Any) -> list[float]:
        model = nn.MLP(2, [4, 1], seed=0)
        return nn.fit(model, POINTS, LABELS, loss="bce", epochs=3, batch_size=7, progress=False, seed=seed)["loss"]

    assert run(4) == run(4)
    assert run(np.random.default_rng(4)) == run(np.random.default_rng(4))
    assert run(4) != run(5)
    # An int seed shuffles epoch e from seed + e, as nn.batches does with that seed.
    seen: list[list[float]] = []

    def record(outputs: list[Any], labels: list[Any]) -> Value:
        seen.append(labels)
        return own_mean_squares(outputs, labels)

    nn.fit(nn.MLP(2, [4, 1], seed=0), POINTS, LABELS, loss=record, epochs=2, batch_size=30, progress=False, seed=4)
    steps = seen[-2:]  # before them, fit's tries of the loss
    for epoch, labels in enumerate(steps, start=1):
        ((_, expected),) = list(nn.batches(POINTS, LABELS, 30, seed=4 + epoch))
        assert labels == expected.tolist()


def test_a_loss_of_ones_own_gets_lists_of_plain_numbers():
    seen: list[tuple[list[Any], list[Any]]] = []

    def spy(outputs: list[Any], labels: list[Any]) -> Value:
        seen.append((outputs, labels))
        return own_mean_squares(outputs, [y[0] if isinstance(y, list) else y for y in labels])

    nn.fit(nn.MLP(2, [3, 1], seed=0), POINTS, LABELS, loss=spy, epochs=1, batch_size=10, progress=False)
    outputs, labels = seen[-1]
    assert type(outputs) is list and all(isinstance(o, Value) for o in outputs) and len(outputs) == 10
    assert type(labels) is list and all(type(y) is int for y in labels)
    rows = np.stack([LABELS, 1 - LABELS], axis=1).astype(float)
    seen.clear()

    def rows_spy(outputs: list[Any], labels: list[Any]) -> Value:
        seen.append((outputs, labels))
        return nn.mse(outputs, labels)

    nn.fit(nn.MLP(2, [3, 2], seed=0), POINTS, rows, loss=rows_spy, epochs=1, batch_size=10, progress=False)
    _, labels = seen[-1]
    assert all(type(y) is list and len(y) == 2 and all(type(v) is float for v in y) for y in labels)


def test_a_loss_of_one_sample_is_told_what_it_gets_and_what_to_pass():
    def per_sample(output: Any, label: Any) -> Value:
        return (output - label) ** 2  # type: ignore[no-any-return]

    for compiled in (False, True):
        with pytest.raises(TypeError, match=r"gets the whole minibatch, a list of outputs and a list") as caught:
            nn.fit(nn.MLP(2, [3, 1], seed=0), POINTS, LABELS, loss=per_sample, progress=False, compile=compiled)
        hint = str(caught.value).split("pass ")[-1]
        wrapped = eval(hint.removeprefix("loss="), {"ag": ag, "f": per_sample})  # the hint, as written, trains
        history = nn.fit(nn.MLP(2, [3, 1], seed=0), POINTS, LABELS, loss=wrapped, epochs=2, progress=False,
                         compile=compiled)  # fmt: skip
        assert history["loss"][1] < history["loss"][0]


def test_the_docstring_example_of_a_loss_of_ones_own_runs():
    result = doctest.testmod(nn.train, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0

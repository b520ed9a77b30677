"""The usual first-hour slips get a message that names the problem and the fix, not Python's own error."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nn
from autograd import Value


@pytest.fixture
def one_input() -> nn.MLP:
    return nn.MLP(1, [4, 1], seed=0)


@pytest.fixture
def two_inputs() -> nn.MLP:
    return nn.MLP(2, [4, 1], seed=0)


@pytest.mark.parametrize("sample", [1.0, 1, np.float64(1.0)])
def test_a_single_number_says_wrap_it_in_a_list(one_input, sample):
    message = r"MLP: expected a list of 1 input \(one sample\), got a single .*wrap it in a list: model\(\[1\.0\]\)"
    with pytest.raises(TypeError, match=message):
        one_input(sample)


def test_a_single_value_says_wrap_it_in_a_list(one_input):
    with pytest.raises(TypeError, match=r"got a single Value .*wrap it in a list: model\(\[x\]\)"):
        one_input(Value(1.0))


def test_the_wrapped_forms_work(one_input):
    assert isinstance(one_input([1.0]), Value)
    assert isinstance(one_input([Value(1.0)]), Value)
    assert isinstance(one_input(np.array([1.0])), Value)


@pytest.mark.parametrize("module", [nn.Neuron(1), nn.Layer(1, 2)])
def test_neurons_and_layers_say_the_same(module):
    name = type(module).__name__
    with pytest.raises(TypeError, match=rf"{name}: expected a list of 1 input \(one sample\).*model\(\[2\.5\]\)"):
        module(2.5)


def test_a_number_for_a_model_of_two_inputs_asks_for_both(two_inputs):
    with pytest.raises(TypeError, match="pass all 2 inputs in one list"):
        two_inputs(1.0)


@pytest.mark.parametrize("shape", [(5, 2), (2, 2), (1, 2)])
def test_a_batch_array_says_a_model_takes_one_sample(two_inputs, shape):
    message = "expected one sample, a list of 2 inputs, got an array of shape " + re.escape(str(shape))
    with pytest.raises(ValueError, match=message + r".*nn.predict\(model, points\)"):
        two_inputs(np.zeros(shape))


def test_a_batch_as_a_list_of_rows_says_so(two_inputs):
    with pytest.raises(ValueError, match=r"input 0 is itself a list or array \(\[1\.0, 2\.0\]\).*one sample"):
        two_inputs([[1.0, 2.0], [3.0, 4.0]])  # as many rows as inputs: the lengths agree
    with pytest.raises(ValueError, match="expected 2 inputs, got 1; its items are lists or arrays"):
        two_inputs([[1.0, 2.0]])  # one sample wrapped twice


@pytest.mark.parametrize(
    ("sample", "error", "message"),
    [
        ("ab", TypeError, "expected a list of 2 inputs, numbers or Values \\(one sample\\), got 'ab'"),
        (None, TypeError, "expected a list of 2 inputs, numbers or Values \\(one sample\\), got None"),
        ({"a": 1.0, "b": 2.0}, TypeError, "got \\{'a': 1.0, 'b': 2.0\\}"),
        (["a", "b"], TypeError, "input 0 must be a number or a Value, got str 'a'"),
        ([1.0, 2.0, 3.0], ValueError, "MLP: expected 2 inputs, got 3$"),
    ],
)
def test_other_wrong_samples_are_named(two_inputs, sample, error, message):
    with pytest.raises(error, match=message):
        two_inputs(sample)


def test_tuples_arrays_and_numpy_numbers_are_samples(two_inputs):
    expected = two_inputs([1.0, 2.0]).data
    assert two_inputs((1.0, 2.0)).data == expected
    assert two_inputs(np.array([1.0, 2.0])).data == expected
    assert two_inputs([np.float64(1.0), 2]).data == expected


@pytest.mark.parametrize("loss", [nn.cross_entropy, lambda z, _: nn.softmax(z), lambda z, _: nn.log_softmax(z)])
def test_one_score_where_class_scores_are_expected(loss):
    with pytest.raises(TypeError, match=r"expected a list of class scores, one per class, got a single Value .*"
                                        r"nn.binary_cross_entropy_with_logits or nn.hinge"):
        loss(Value(0.3), 0)


def test_fit_wants_a_model_instance():
    points, labels = np.zeros((4, 2)), np.array([1, -1, 1, -1])
    with pytest.raises(TypeError, match=r"fit: model is the class MLP, not a model; make one first"):
        nn.fit(nn.MLP, points, labels, epochs=1, progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"must be an nn module such as nn.MLP\(2, \[16, 16, 1\]\).*function"):
        nn.fit(lambda p: p[0], points, labels, epochs=1, progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"fit: model must be an nn module .*got list"):
        nn.fit([nn.MLP(2, [1])], points, labels, epochs=1, progress=False)  # type: ignore[arg-type]


def test_an_optimizer_given_the_model_says_parameters():
    with pytest.raises(TypeError, match=r"(?s)SGD: parameters must be .* got MLP.*; pass model.parameters\(\)"):
        nn.SGD(nn.MLP(2, [1]), lr=0.1)  # type: ignore[arg-type]


def test_predict_given_one_sample(two_inputs):
    with pytest.raises(ValueError, match=r"predict: points must be a list of samples.*predict\(model, \[sample\]\)"):
        nn.predict(two_inputs, [1.0, 2.0])  # type: ignore[list-item]
    assert nn.predict(two_inputs, [[1.0, 2.0]]) == [two_inputs([1.0, 2.0]).data]


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (np.array([1.0, 2.0]), r"a Value holds one number: .* for v in x.ravel\(\).tolist\(\)\]"),
        (np.array(1.5), r"a Value holds one number: take it out of the array with x.item\(\)"),
        (np.array([1.5]), r"a Value holds one number: take it out of the array with x.item\(\)"),
        ([1.0, 2.0], r"a Value holds one number: make one Value per number, \[Value\(v\) for v in x\]"),
        (Value(1.0), r"it is a Value already: use it as it is, or x.detach\(\)"),
    ],
)
def test_value_of_a_container_says_what_to_do(data, hint):
    with pytest.raises(TypeError, match=r"Value: expected a real number, got .*; " + hint):
        Value(data)


def test_round_rounds_the_data_as_for_a_float():
    x = Value(2.71828)
    assert round(x, 2) == 2.72  # round(2.71828, 2), a plain float
    assert round(x) == 3 and isinstance(round(x), int)
    assert round(Value(2.5)) == 2  # Python's rounding: half to even

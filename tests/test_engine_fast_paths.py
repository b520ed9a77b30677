"""The engine's shortcuts for the common case take the same operands and give the same numbers as the
general paths they skip: an op called with many operands (a neuron's dot) reads their types as it reads
their numbers, and converts or refuses anything else as the general call does."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import autograd as ag
from autograd import Value


class Tagged(Value):
    """A Value of a subclass: not exactly a Value, so the shortcut hands it to the general call."""

    __slots__ = ()


def operands(node: Value) -> list[tuple[type, float]]:
    return [(type(x), x.data if isinstance(x, Value) else x) for x in node.inputs]


def checking(anomaly: bool) -> contextlib.AbstractContextManager[None]:
    return ag.detect_anomaly() if anomaly else contextlib.nullcontext()


@pytest.mark.parametrize("anomaly", [False, True])
def test_many_operands_of_other_types_are_recorded_as_floats(anomaly: bool):
    ws = [Value(0.5), Value(-1.25), Value(2.0)]
    plain = ag.dot(ws, [3.0, 2.5, 1.0])
    with checking(anomaly):
        converted = ag.dot(ws, [3, np.float64(2.5), True])
        summed = ag.sum([ws[0], 2, np.float32(0.25)])
    assert isinstance(converted, Value) and isinstance(plain, Value) and isinstance(summed, Value)
    assert converted.data == plain.data == 0.375
    assert operands(converted) == operands(plain)  # the int, the numpy number and the bool as floats
    assert operands(summed) == [(Value, 0.5), (float, 2.0), (float, 0.25)] and summed.data == 2.75


@pytest.mark.parametrize("anomaly", [False, True])
def test_a_value_of_a_subclass_among_many_operands_is_recorded_as_itself(anomaly: bool):
    w, x = Tagged(1.5), Value(-2.0)
    with checking(anomaly):
        first = ag.dot([w, x, 3.0], [2.0, 0.5, x])  # the subclass first: the shortcut is not taken
        later = ag.dot([x, w, 3.0], [0.5, 2.0, x])  # the subclass after a Value: the shortcut gives way
    for node in (first, later):
        assert isinstance(node, Value)
        assert node.data == 3.0 - 1.0 - 6.0
        assert {type(v) for v in node.inputs} == {Tagged, Value, float}
    assert ag.gradients(later, [w, x]) == [2.0, 0.5 + 3.0]


def test_a_non_number_among_many_operands_is_refused_naming_the_op():
    with pytest.raises(TypeError, match="dot: expected a real number, got str 'a'"):
        ag.dot([Value(1.0), Value(2.0), Value(3.0)], [1.0, "a", 2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="sum: expected a real number, got NoneType"):
        ag.sum([Value(1.0), 2.0, None])  # type: ignore[list-item]


def test_many_plain_numbers_give_a_float():
    assert ag.dot([1.0, 2.0, 3.0], [4, 5, 6]) == 32.0 and type(ag.sum([1, 2.5, 3])) is float

"""The ops as functions: a float in gives a float out, a Value in gives a Value out."""

from __future__ import annotations

import numbers
import reprlib
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast, overload

from autograd import rules
from autograd.arrays import is_array
from autograd.engine import Number, Op, Operand, Value
from autograd.validation import leaky_slope

T = TypeVar("T", Value, float)


def _unary(op: Op, x: T) -> T:
    return cast(T, op(x))


def exp(x: T) -> T:
    """e**x; d/dx = e**x. Raises OverflowError above x = 709.78."""
    return _unary(rules.EXP, x)


def log(x: T) -> T:
    """Natural logarithm; d/dx = 1/x. Raises ValueError for x <= 0."""
    return _unary(rules.LOG, x)


def sqrt(x: T) -> T:
    """Square root; d/dx = 1 / (2 sqrt x). Raises ValueError for x < 0."""
    return _unary(rules.SQRT, x)


def tanh(x: T) -> T:
    """Hyperbolic tangent; d/dx = 1 - tanh(x)**2."""
    return _unary(rules.TANH, x)


def sigmoid(x: T) -> T:
    """Logistic function 1 / (1 + e**-x); d/dx = sigmoid(x) (1 - sigmoid(x)). Stable for any x."""
    return _unary(rules.SIGMOID, x)


def relu(x: T) -> T:
    """max(x, 0); d/dx = 1 for x > 0, else 0 (the kink at 0 gets 0, as in PyTorch)."""
    return _unary(rules.RELU, x)


def leaky_relu(x: T, slope: Number = 0.01) -> T:
    """x for x > 0, else slope * x; d/dx = 1 for x > 0, else slope."""
    return cast(T, rules.LEAKY_RELU(x, leaky_slope(slope)))


def softplus(x: T) -> T:
    """log(1 + e**x), a smooth relu, computed without overflow; d/dx = sigmoid(x)."""
    return _unary(rules.SOFTPLUS, x)


def sin(x: T) -> T:
    """Sine; d/dx = cos x."""
    return _unary(rules.SIN, x)


def cos(x: T) -> T:
    """Cosine; d/dx = -sin x."""
    return _unary(rules.COS, x)


@overload
def sum(values: Iterable[Value]) -> Value: ...
@overload
def sum(values: Iterable[Number]) -> float: ...
@overload
def sum(values: Iterable[Operand | Number]) -> Value | float: ...
def sum(values: Iterable[Operand | Number]) -> Value | float:
    """x_1 + ... + x_n as one node; d/dx_i = 1.

    One node instead of the chain of n - 1 additions that the builtin ``sum`` builds, so summing
    100,000 terms stays one step deep. The empty sum is 0.0.
    """
    items = _items(values, "sum")
    return rules.SUM(*items) if items else 0.0


@overload
def dot(ws: Sequence[Value], xs: Iterable[Operand | Number]) -> Value: ...
@overload
def dot(ws: Iterable[Operand | Number], xs: Sequence[Value]) -> Value: ...
@overload
def dot(ws: Iterable[Number], xs: Iterable[Number]) -> float: ...
@overload
def dot(ws: Iterable[Operand | Number], xs: Iterable[Operand | Number]) -> Value | float: ...
def dot(ws: Iterable[Operand | Number], xs: Iterable[Operand | Number]) -> Value | float:
    """w_1 x_1 + ... + w_n x_n as one node; d/dw_i = x_i, d/dx_i = w_i. The lengths must match."""
    if type(ws) is not list or type(xs) is not list:  # a neuron's two lists go as they are: they have a length
        ws, xs = _items(ws, "dot"), _items(xs, "dot")
    if len(ws) != len(xs):
        raise ValueError(f"dot: the two sequences differ in length ({len(ws)} weights, {len(xs)} inputs)")
    return rules.DOT(*ws, *xs) if ws else 0.0


@overload
def logsumexp(values: Iterable[Value]) -> Value: ...
@overload
def logsumexp(values: Iterable[Number]) -> float: ...
@overload
def logsumexp(values: Iterable[Operand | Number]) -> Value | float: ...
def logsumexp(values: Iterable[Operand | Number]) -> Value | float:
    """log(e^x_1 + ... + e^x_n) as one node, never overflowing; d/dx_i = e^(x_i - logsumexp(x)), the softmax.

    Softmax and cross-entropy are built on it. It needs at least one value.
    """
    items = _items(values, "logsumexp")
    if not items:
        raise ValueError("logsumexp: no values (the log of an empty sum is -inf)")
    return rules.LOGSUMEXP(*items)


def pick(values: Sequence[T], index: int | Value) -> T:
    """``values[index]``, where ``index`` may be a Value holding a whole number: d/dx_j = 1 if j == index, else 0.

    With an int, this is plain indexing and records nothing. With a Value index (a class label that
    ``autograd.compile`` passes in per sample) it records one ``pick`` node, so the choice is made
    from each sample's own index when the graph is replayed over a batch. The index gets no gradient.
    """
    items = _items(values, "pick")
    if isinstance(index, Value):
        return cast(T, rules.PICK(*items, index))
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):  # numpy's ints are indices too
        raise TypeError(f"pick: index must be an int or a Value, got {type(index).__name__} {index!r}")
    if not 0 <= index < len(items):
        raise IndexError(f"pick: index {index} is not in [0, {len(items)})")
    return items[int(index)]


def _items(values: object, name: str) -> tuple[Any, ...]:
    """Any iterable of operands (a generator too) as a tuple; one number, a string or an array of
    another shape than 1-d is a TypeError naming ``name``, not an iteration over something else."""
    kind = type(values)
    if kind is tuple or kind is list:  # what nn passes, once per neuron: spared the checks below
        return tuple(values)  # type: ignore[arg-type]  # a list or a tuple
    if is_array(values) and values.ndim != 1:  # a matrix iterates by rows, a 0-d array not at all
        raise TypeError(
            f"{name}: expected a sequence or a 1-d array, got an array of shape {values.shape} "
            "(ravel() it to take all of its entries)"
        )
    if isinstance(values, (Value, str, bytes)) or not isinstance(values, Iterable):
        got = f"{kind.__name__} {reprlib.repr(values)}"
        raise TypeError(f"{name}: expected an iterable of numbers or Values, got {got}")
    return tuple(values)


__all__ = [
    "cos", "dot", "exp", "leaky_relu", "log", "logsumexp", "pick",
    "relu", "sigmoid", "sin", "softplus", "sqrt", "sum", "tanh",
]

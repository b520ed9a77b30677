"""The numpy halves of the rule table: :class:`ArrayRule`, and what an op's array rule needs beyond a
plain numpy function.

``rules.py`` gives each op an ``ArrayRule(forward, vjp, ieee)`` on its row, and the helpers here are
the parts of those rows that do not fit on one line. Operands are float arrays of shape (batch, k)
(k nodes of the op side by side), or (k,) for parameters and constants shared by the whole batch.
Each helper gives the same numbers as the float helper of the same name in ``rules.py``, NaN in,
NaN out included. Where a float helper raises (log of 0, division by 0), its array helper raises
``FloatingPointError`` instead, and the compiled executor reruns the scalar rule element by element
to raise the scalar error naming the sample. Nothing here imports the rest of the package.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

Array = Any  # an ndarray, or a float where a vjp gives a constant


class ArrayRule(NamedTuple):
    """An op over a batch, for ``autograd.compile``: ``forward(*arrays)`` and ``vjp(g, *arrays, out)``.

    Arrays are (batch, k) for k nodes side by side, or (k,) for what every sample shares. ``vjp`` left
    out means the op's scalar vjp, for rules written with operators that work on arrays as they are.
    ``ieee``: the op may give inf or NaN from finite numbers, as + - * do; for any other op a result
    that is not finite makes the executor rerun the scalar rule, which raises its error for the sample.
    """

    forward: Callable[..., Any]
    vjp: Callable[..., Sequence[Any]] | None = None
    ieee: bool = False


def where_positive(x: Array, positive: Array, other: Array) -> Array:
    """``positive`` where x > 0, ``other`` where x <= 0, NaN where x is NaN (NaN in, NaN out)."""
    out = np.where(x > 0.0, positive, other)
    nan = np.isnan(x)
    return np.where(nan, np.nan, out) if nan.any() else out  # the second pass only where there is a NaN


def relu_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (where_positive(x, g, 0.0),)


def leaky_relu_vjp(g: Array, x: Array, a: Array, out: Array) -> tuple[Array]:
    return (where_positive(x, g, g * a),)


def abs_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    """g sign(x), 0 at 0, NaN at NaN."""
    return (np.where(x > 0.0, g, np.where(x < 0.0, -g, np.where(x == 0.0, 0.0, np.nan))),)


def exponent_vjp(g: Array, base: Array, out: Array) -> Array:
    """g d(b ** y)/dy = g b ** y log b for b > 0, 0 for b = 0, NaN for b < 0 (as rules' float helper)."""
    positive = base > 0.0
    return np.where(positive, g * out * np.log(np.where(positive, base, 1.0)), np.where(base == 0.0, 0.0, np.nan))


def pow_const_vjp(g: Array, x: Array, k: Array, out: Array) -> tuple[Array]:
    zero = np.where(x == x, 0.0, np.nan)  # d(x ** 0)/dx: 0, NaN at NaN
    safe_k = np.where(k == 0.0, 1.0, k)  # x ** -1 at x = 0 is never needed where k = 0
    return (np.where(k == 0.0, zero, g * k * np.power(x, safe_k - 1.0)),)


def pow_vjp(g: Array, x: Array, y: Array, out: Array) -> tuple[Array, Array]:
    return g * y * np.power(x, y - 1.0), exponent_vjp(g, x, out)


def rpow_vjp(g: Array, x: Array, c: Array, out: Array) -> tuple[Array]:
    return (exponent_vjp(g, c, out),)


def power(x: Array, k: Array) -> Array:
    """x ** k; a negative base with a non-integer (or infinite) exponent raises, as the float rule does."""
    # floor(inf) is inf, so an infinite exponent passes for an integer unless asked; a NaN one gives NaN.
    if np.any((x < 0.0) & (((k != np.floor(k)) & (k == k)) | np.isinf(k))):
        raise FloatingPointError("a negative base with a non-integer exponent")  # the executor names the sample
    out = np.power(x, k)
    return np.where((x != x) | (k != k), np.nan, out)  # NaN in, NaN out: even x ** 0 and 1 ** x


def fsum(values: Sequence[float]) -> float:
    """The exactly rounded sum (math.fsum), following IEEE 754 where fsum raises: inf - inf is NaN, and an
    overflow on the way gives inf, as + does."""
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        total = 0.0
        for x in values:
            total += x
        return total


def rpow(x: Array, c: Array) -> Array:
    return power(c, x)


def _stack(xs: Sequence[Array]) -> Array:
    return np.stack(np.broadcast_arrays(*xs), axis=-1)


def total(*xs: Array) -> Array:
    return functools.reduce(np.add, xs)


def dot(*ws_then_xs: Array) -> Array:
    n = len(ws_then_xs) // 2
    return functools.reduce(np.add, (w * x for w, x in zip(ws_then_xs[:n], ws_then_xs[n:], strict=True)))


def logsumexp(*xs: Array) -> Array:
    stacked = _stack(xs)
    m = stacked.max(axis=-1)
    finite = np.isfinite(m)
    shift = np.where(finite, m, 0.0)
    with np.errstate(divide="ignore"):
        out = shift + np.log(np.exp(stacked - shift[..., None]).sum(axis=-1))
    return np.where(finite, out, np.where(np.isnan(stacked).any(axis=-1), np.nan, m))


def logsumexp_vjp(g: Array, *xs_then_out: Array) -> list[Array]:
    return [g * np.exp(x - xs_then_out[-1]) for x in xs_then_out[:-1]]  # the softmax


def _pick_index(i: Array, n: int) -> Array:
    whole = (i == np.floor(i)) & (i >= 0) & (i < n)
    if not whole.all():
        bad = np.asarray(i)[~whole].ravel()[0]
        raise IndexError(f"pick: index {float(bad)!r} is not a whole number in [0, {n})")
    return np.asarray(i).astype(np.intp)


def pick(*xs_then_i: Array) -> Array:
    *xs, i = xs_then_i
    index = _pick_index(i, len(xs))
    if all(np.ndim(x) <= 1 for x in xs):  # values every sample shares (a table of labels): a lookup per column
        table = np.stack(np.broadcast_arrays(*xs), axis=-1).reshape(-1, len(xs))  # (k, n)
        return table[np.arange(len(table)), index] if np.ndim(index) else table[:, index]
    # Values per sample: the index broadcasts with them ((k,) against (batch, k)).
    *values, index = np.broadcast_arrays(*xs, index)
    return np.take_along_axis(np.stack(values, axis=-1), index[..., None], axis=-1)[..., 0]


def pick_vjp(g: Array, *xs_then_i_then_out: Array) -> list[Array]:
    i = xs_then_i_then_out[-2]
    return [np.where(i == j, g, 0.0) for j in range(len(xs_then_i_then_out) - 2)]


def softplus(x: Array) -> Array:
    return np.where(x > 0.0, x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: Array) -> Array:
    z = np.exp(-np.abs(x))  # never overflows: the two branches of the float sigmoid at once
    return np.where(x >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def softplus_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (g * sigmoid(x),)


def relu(x: Array) -> Array:
    return np.where(x <= 0.0, 0.0, x)


def leaky_relu(x: Array, a: Array) -> Array:
    return np.where(x > 0.0, x, a * x)


def _periodic(f: Callable[[Array], Array]) -> Callable[[Array], Array]:
    def periodic(x: Array) -> Array:
        if np.isinf(x).any():
            raise FloatingPointError("sin or cos of infinity")  # the executor re-runs the scalar rule to name it
        return f(x)

    return periodic


sin, cos = _periodic(np.sin), _periodic(np.cos)


def sin_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (g * np.cos(x),)


def cos_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (-g * np.sin(x),)


def _within(f: Callable[..., Array], domain: Callable[..., Array]) -> Callable[..., Array]:
    """``f``, raising FloatingPointError where ``domain`` is False, as numpy's invalid-value error would."""

    def checked(*xs: Array) -> Array:
        if not np.all(domain(*xs) | np.isnan(xs[0])):
            raise FloatingPointError("outside the domain")  # the executor re-runs the scalar rule to name it
        return f(*xs)

    return checked


divide = _within(np.divide, lambda x, y: y != 0.0)
log = _within(np.log, lambda x: x > 0.0)
sqrt = _within(np.sqrt, lambda x: x >= 0.0)

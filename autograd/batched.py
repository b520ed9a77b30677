"""The rule table again, over arrays: each op's forward and vjp on a batch, one line each, for compile.

An entry maps an Op to ``Batched(forward, vjp, ieee)``. Operands are float arrays of shape (batch, k)
(k nodes of the op side by side), or (k,) for parameters and constants shared by the whole batch;
``vjp(g, *operands, out)`` returns g times the partial derivative for each differentiable operand,
exactly as the scalar rule in ``rules.py`` does. Everything runs with numpy's warnings off. ``ieee``
ops (+, -, *, sums) may quietly give inf, as their scalar rules do; where another op's result is not
finite, the executor reruns its scalar rule element by element, which raises the scalar error
naming the sample (or gives the same NaN). An op missing here (a custom ``Op``) is run through its
scalar forward and vjp for every element (:func:`elementwise`): slow, but the same numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from autograd import rules
from autograd.engine import Op

Array = Any  # an ndarray, or a float where a vjp gives a constant


class Batched(NamedTuple):
    forward: Callable[..., Array]
    vjp: Callable[..., Sequence[Array]]
    ieee: bool = False


def _where_positive(x: Array, positive: Array, other: Array) -> Array:
    """``positive`` where x > 0, ``other`` where x <= 0, NaN where x is NaN (NaN in, NaN out)."""
    out = np.where(x > 0.0, positive, other)
    nan = np.isnan(x)
    return np.where(nan, np.nan, out) if nan.any() else out  # the second pass only where there is a NaN


def _exponent_vjp(g: Array, base: Array, out: Array) -> Array:
    """g d(b ** y)/dy = g b ** y log b for b > 0, 0 for b = 0, NaN for b < 0 (as rules._exponent_vjp)."""
    positive = base > 0.0
    return np.where(positive, g * out * np.log(np.where(positive, base, 1.0)), np.where(base == 0.0, 0.0, np.nan))


def _pow_const_vjp(g: Array, x: Array, k: Array, out: Array) -> tuple[Array]:
    zero = np.where(x == x, 0.0, np.nan)  # d(x ** 0)/dx: 0, NaN at NaN
    safe_k = np.where(k == 0.0, 1.0, k)  # x ** -1 at x = 0 is never needed where k = 0
    return (np.where(k == 0.0, zero, g * k * np.power(x, safe_k - 1.0)),)


def _pow(x: Array, k: Array) -> Array:
    out = np.power(x, k)
    return np.where((x != x) | (k != k), np.nan, out)  # NaN in, NaN out: even x ** 0 and 1 ** x


def _stack(xs: Sequence[Array]) -> Array:
    return np.stack(np.broadcast_arrays(*xs), axis=-1)


def _sum(*xs: Array) -> Array:
    return functools.reduce(np.add, xs)


def _dot(*ws_then_xs: Array) -> Array:
    n = len(ws_then_xs) // 2
    return functools.reduce(np.add, (w * x for w, x in zip(ws_then_xs[:n], ws_then_xs[n:], strict=True)))


def _logsumexp(*xs: Array) -> Array:
    stacked = _stack(xs)
    m = stacked.max(axis=-1)
    finite = np.isfinite(m)
    shift = np.where(finite, m, 0.0)
    with np.errstate(divide="ignore"):
        out = shift + np.log(np.exp(stacked - shift[..., None]).sum(axis=-1))
    return np.where(finite, out, np.where(np.isnan(stacked).any(axis=-1), np.nan, m))


def _pick_index(i: Array, n: int) -> Array:
    if not ((i == np.floor(i)) & (i >= 0) & (i < n)).all():
        bad = np.asarray(i)[~((i == np.floor(i)) & (i >= 0) & (i < n))].ravel()[0]
        raise IndexError(f"pick: index {float(bad)!r} is not a whole number in [0, {n})")
    return np.asarray(i).astype(np.intp)


def _pick(*xs_then_i: Array) -> Array:
    xs, i = xs_then_i[:-1], xs_then_i[-1]
    stacked = _stack(xs)
    index = _pick_index(np.broadcast_to(i, stacked.shape[:-1]), len(xs))
    return np.take_along_axis(stacked, index[..., None], axis=-1)[..., 0]


def _pick_vjp(g: Array, *xs_then_i_then_out: Array) -> list[Array]:
    i = xs_then_i_then_out[-2]
    return [np.where(i == j, g, 0.0) for j in range(len(xs_then_i_then_out) - 2)]


def _softplus(x: Array) -> Array:
    return np.where(x > 0.0, x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: Array) -> Array:
    z = np.exp(-np.abs(x))  # never overflows: the two branches of rules._sigmoid at once
    return np.where(x >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def _periodic(f: Callable[[Array], Array]) -> Callable[[Array], Array]:
    def periodic(x: Array) -> Array:
        if np.isinf(x).any():
            raise FloatingPointError("sin or cos of infinity")  # compile re-runs the scalar rule to name it
        return f(x)

    return periodic


def _checked(f: Callable[..., Array], domain: Callable[..., Array]) -> Callable[..., Array]:
    """``f``, raising FloatingPointError where ``domain`` is False, as numpy's invalid-value error would."""

    def checked(*xs: Array) -> Array:
        if not np.all(domain(*xs) | np.isnan(xs[0])):
            raise FloatingPointError("outside the domain")  # compile re-runs the scalar rule to name it
        return f(*xs)

    return checked


# fmt: off
TABLE: dict[Op, Batched] = {
    rules.ADD: Batched(np.add, lambda g, x, y, out: (g, g), ieee=True),
    rules.SUB: Batched(np.subtract, lambda g, x, y, out: (g, -g), ieee=True),
    rules.MUL: Batched(np.multiply, lambda g, x, y, out: (g * y, g * x), ieee=True),
    rules.NEG: Batched(np.negative, lambda g, x, out: (-g,), ieee=True),
    rules.DIV: Batched(_checked(np.divide, lambda x, y: y != 0.0), lambda g, x, y, out: (g / y, -(g * out) / y)),
    rules.LOG: Batched(_checked(np.log, lambda x: x > 0.0), lambda g, x, out: (g / x,)),
    rules.POW_CONST: Batched(_pow, _pow_const_vjp),
    rules.POW: Batched(_pow, lambda g, x, y, out: (g * y * np.power(x, y - 1.0), _exponent_vjp(g, x, out))),
    rules.RPOW: Batched(lambda x, c: _pow(c, x), lambda g, x, c, out: (_exponent_vjp(g, c, out),)),
    rules.EXP: Batched(np.exp, lambda g, x, out: (g * out,)),
    rules.SQRT: Batched(_checked(np.sqrt, lambda x: x >= 0.0), lambda g, x, out: (g / (2.0 * out),)),
    rules.TANH: Batched(np.tanh, lambda g, x, out: (g * (1.0 - out * out),)),
    rules.SIGMOID: Batched(_sigmoid, lambda g, x, out: (g * out * (1.0 - out),)),
    rules.RELU: Batched(lambda x: np.where(x <= 0.0, 0.0, x), lambda g, x, out: (_where_positive(x, g, 0.0),)),
    rules.LEAKY_RELU: Batched(lambda x, a: np.where(x > 0.0, x, a * x), lambda g, x, a, out: (_where_positive(x, g, g * a),)),  # noqa: E501
    rules.SOFTPLUS: Batched(_softplus, lambda g, x, out: (g * _sigmoid(x),)),
    rules.SIN: Batched(_periodic(np.sin), lambda g, x, out: (g * np.cos(x),)),
    rules.COS: Batched(_periodic(np.cos), lambda g, x, out: (-g * np.sin(x),)),
    rules.ABS: Batched(np.abs, lambda g, x, out: (np.where(x > 0.0, g, np.where(x < 0.0, -g, np.where(x == 0.0, 0.0, np.nan))),)),  # noqa: E501
    rules.SUM: Batched(_sum, lambda g, *xs_then_out: (g,) * (len(xs_then_out) - 1), ieee=True),
    rules.DOT: Batched(_dot, lambda g, *wxo: [g * v for v in wxo[len(wxo) // 2 : -1] + wxo[: len(wxo) // 2]], ieee=True),  # noqa: E501
    rules.IDENTITY: Batched(lambda x: x, lambda g, x, out: (g,), ieee=True),
    rules.LOGSUMEXP: Batched(_logsumexp, lambda g, *xs_then_out: [g * np.exp(x - xs_then_out[-1]) for x in xs_then_out[:-1]]),  # noqa: E501
    rules.PICK: Batched(_pick, _pick_vjp),  # not ieee: a bad index is located, so its sample is named
}
# fmt: on


def elementwise(op: Op, gradients: int) -> Batched:
    """An op without a batched rule, run through its scalar forward and vjp element by element (np.frompyfunc)."""

    def run_forward(*xs: Array) -> Array:
        return np.frompyfunc(op.forward, len(xs), 1)(*xs).astype(float)

    def run_vjp(g: Array, *xs_then_out: Array) -> list[Array]:
        def one(*scalars: float) -> tuple[float, ...] | float:
            partials = tuple(float(p) for p in op.vjp(*scalars)[:gradients])
            return partials if gradients > 1 else partials[0]  # frompyfunc with one output wants the bare number

        parts = np.frompyfunc(one, len(xs_then_out) + 1, gradients)(g, *xs_then_out)
        return [np.asarray(p, dtype=float) for p in (parts if gradients > 1 else (parts,))]

    return Batched(run_forward, run_vjp)


def rule_for(op: Op, gradients: int) -> Batched:
    """The batched rule of ``op``: the table's, or one made from its scalar rule."""
    return TABLE.get(op) or elementwise(op, gradients)

"""Every primitive in one table: each row holds every fact about one op.

A row is ``Rule(name, forward, vjp, symbol, kinks, constants=, arrays=, formula=, noun=)`` (an ``Op``
whose forward is known to return a float and whose vjp a tuple, so they are not checked on every
call), where ``vjp(g, *inputs, out)`` returns the upstream gradient ``g`` times d(out)/d(input) for
each differentiable input. The vjps use only operators and ops, so they run on floats for an
ordinary backward pass and on Values for higher derivatives. The rest of the row is what the other
parts of the package read: ``kinks`` (where the op is not differentiable, for the gradient checks),
``constants`` (trailing operands that get no gradient: an exponent, a slope, an index), ``arrays``
(the rule over a batch, for ``autograd.compile``; its helpers are in ``arrays.py``, and numpy is
imported when compile first uses them), ``formula`` (the sympy form, for ``autograd.formula``) and
``noun`` (how an error names the op's result).
Nothing about an op is kept anywhere else, and tests/test_rule_table.py fails when a row lacks a part.
Every op has its own name (``pow`` and ``pow_const`` are two ops, as PyTorch names its overloads
apart), and whatever keeps track of ops keys them by the Op object itself, never by the name.

Numeric rules (docs/guide/autograd.md, "When numbers go wrong"):

- NaN in, NaN out: an op given a NaN returns NaN, forward and backward, and never a number (relu,
  abs, leaky_relu, ``x ** 0`` and ``1 ** x`` included) and never raises for it.
- An infinite operand gives the op's limit where it has one (exp(-inf) = 0, tanh(inf) = 1); sin and
  cos of ±inf have none and raise ``ValueError``. + - * (and sum, dot) follow IEEE 754 (inf - inf is NaN).
- Finite operands: domain errors raise ``ValueError`` (log of x <= 0, sqrt of x < 0, a negative base
  with a non-integer exponent), division by zero and 0 to a negative power raise
  ``ZeroDivisionError``, and results too large for a float64 (exp(1000), 10.0 ** 400, 1e200 / 1e-200)
  raise ``OverflowError``; each message names the op and the operands. Only + - * may quietly give inf.
- Backward: a derivative that is infinite or too large at the point (sqrt at 0, 1/x at 1e-200, for
  ``1 / x`` and ``x ** -1`` alike) raises with the op and the inputs named. The exponent of a negative
  base (``Value(-8.0) ** Value(2.0)``) has no derivative, since x ** y has no real value for y near 2:
  it gets NaN, and the base its ordinary gradient.
"""

from __future__ import annotations

import cmath
import functools
import math
from collections.abc import Callable, Sequence
from operator import add, mul, neg, sub
from typing import TypeVar

from autograd import arrays
from autograd import complex_forwards as cx
from autograd.arrays import ArrayRule

# np.add on a row names numpy's add, looked up the first time compile reads the row: importing the table
# (and autograd) does not import numpy, so the scalar engine runs where numpy is not installed.
from autograd.arrays import numpy_function as np
from autograd.engine import Op, Value

Rule = functools.partial(Op, checked=False)
T = TypeVar("T")


def _div(x: float, y: float) -> float:
    if y == 0.0:
        if x != x:
            return x  # NaN in, NaN out
        raise ZeroDivisionError(f"div: division by zero in {x!r} / {y!r}")
    out = x / y
    if out - out != 0.0 and x - x == 0.0 and y - y == 0.0:  # inf (or NaN) from two finite numbers
        raise OverflowError(f"div: {x!r} / {y!r} is too large for a float64")
    return out


def _pow(x: float, k: float) -> float:
    if x != x or k != k:
        return math.nan  # NaN in, NaN out: even x ** 0 and 1 ** x, which IEEE 754 makes 1
    if x == 0.0 and k < 0.0:
        raise ZeroDivisionError(f"pow: 0.0 cannot be raised to the negative power {k!r}")
    if x < 0.0 and not k.is_integer():
        raise ValueError(f"pow: negative base {x!r} with non-integer exponent {k!r} has no real value")
    try:
        return math.pow(x, k)
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {k!r} is too large for a float64") from None


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) is too large for a float64 (exp overflows above x = 709.78)") from None


def _periodic(name: str, f: Callable[[float], float]) -> Callable[[float], float]:
    def periodic(x: float) -> float:
        if x - x != 0.0 and x == x:  # ±inf; NaN passes through as NaN
            raise ValueError(f"{name}: {name}({x!r}) is undefined ({name} has no limit at infinity)")
        return f(x)

    periodic.__name__ = name
    return periodic


def _power(x: Value | float, k: Value | float) -> Value | float:
    """x ** k for the rules: on floats with _pow's checks (overflow raises), on Values recorded by the operator."""
    return _pow(x, k) if type(x) is float and type(k) is float else x**k


def _exponent_vjp(g: Value | float, base: Value | float, out: Value | float) -> Value | float:
    """g d(b ** y)/dy = g b ** y log b for b > 0; 0 for b = 0 (0 ** y = 0 near y > 0); NaN for b < 0, where
    b ** y is real only at integers y and has no derivative in y."""
    b = float(base)
    if b > 0.0:
        return g * out * (LOG(base) if isinstance(base, Value) else math.log(b))
    return 0.0 if b == 0.0 else math.nan


def _quotient(x: Value | float, y: Value | float) -> Value | float:
    """x / y for the rules: on floats with _div's checks (overflow raises), on Values recorded by the operator."""
    return _div(x, y) if type(x) is float and type(y) is float else x / y


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: argument must be positive, got {x!r}")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt: argument must be non-negative, got {x!r}")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never sees a large positive argument.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for large |x|, no cancellation.
    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))  # NaN: 0.0 + NaN


def _dot(*ws_then_xs: float) -> float:
    n = len(ws_then_xs) // 2
    return arrays.fsum(list(map(mul, ws_then_xs[:n], ws_then_xs[n:])))


def _dot_vjp(g: Value | float, *ws_then_xs_then_out: Value | float) -> list[Value | float]:
    n = (len(ws_then_xs_then_out) - 1) // 2
    ws, xs = ws_then_xs_then_out[:n], ws_then_xs_then_out[n : 2 * n]
    return [g * v for v in xs + ws]  # d/dw_i = x_i, then d/dx_i = w_i


def _logsumexp(*xs: float) -> float:
    # Shifted by the largest x, so exp never overflows: log sum e^x = m + log sum e^(x - m).
    m = max(xs)
    if m != m or any(x != x for x in xs):
        return math.nan  # NaN in, NaN out (max would skip a NaN that is not first)
    if m - m != 0.0:
        return m  # +inf, or every x is -inf
    return m + math.log(arrays.fsum([math.exp(x - m) for x in xs]))


def _logsumexp_vjp(g: Value | float, *xs_then_out: Value | float) -> list[Value | float]:
    out = xs_then_out[-1]
    return [g * EXP(x - out) for x in xs_then_out[:-1]]  # d/dx_i = e^(x_i - lse) = softmax_i


def _index(i: Value | float, n: int) -> int:
    """The position ``i`` names among ``n`` items, else IndexError naming pick and the index."""
    k = float(i)
    if not k.is_integer() or not 0 <= k < n:
        raise IndexError(f"pick: index {k!r} is not a whole number in [0, {n})")
    return int(k)


def _pick(*xs_then_i: float) -> float:
    return xs_then_i[_index(xs_then_i[-1], len(xs_then_i) - 1)]


def _pick_vjp(g: Value | float, *xs_then_i_then_out: Value | float) -> list[Value | float]:
    n = len(xs_then_i_then_out) - 2
    chosen = _index(xs_then_i_then_out[-2], n)
    return [g if j == chosen else 0.0 for j in range(n)]  # the index itself gets no gradient


def _zero_or_nan(x: Value | float) -> float:
    """d(x ** 0)/dx: 0, and NaN at NaN (NaN in, NaN out)."""
    return 0.0 if float(x) == float(x) else math.nan

def _halves(ws_then_xs: Sequence[T]) -> list[tuple[T, T]]:
    """dot's operands as (w_i, x_i) pairs."""
    n = len(ws_then_xs) // 2
    return list(zip(ws_then_xs[:n], ws_then_xs[n:], strict=True))


# One row per op: Rule(name, forward, vjp(g, *inputs, out) -> g * d(out)/d(input) per input, symbol, kinks,
# constants=trailing operands without a gradient, arrays=the rule on batches (a vjp left out means the
# scalar vjp, which is written so that it runs on arrays as it is), formula=its sympy form,
# noun=how an error names its result).
# fmt: off
ADD = Rule("add", lambda x, y: x + y, lambda g, x, y, out: (g, g), "+",
           arrays=ArrayRule(np.add, ieee=True), complex_forward=add, formula=lambda sp, x, y: x + y, noun="an addition")
SUB = Rule("sub", lambda x, y: x - y, lambda g, x, y, out: (g, -g), "-",
           arrays=ArrayRule(np.subtract, ieee=True), complex_forward=sub, formula=lambda sp, x, y: x - y, noun="a subtraction")  # noqa: E501
MUL = Rule("mul", lambda x, y: x * y, lambda g, x, y, out: (g * y, g * x), "*",
           arrays=ArrayRule(np.multiply, ieee=True), complex_forward=mul, formula=lambda sp, x, y: x * y, noun="a multiplication")  # noqa: E501
DIV = Rule("div", _div, lambda g, x, y, out: (_quotient(g, y), -_quotient(g * out, y)), "/",
           arrays=ArrayRule(arrays.divide), complex_forward=cx.divide, formula=lambda sp, x, y: x / y, noun="a division")  # noqa: E501
NEG = Rule("neg", lambda x: -x, lambda g, x, out: (-g,), "-",
           arrays=ArrayRule(np.negative, ieee=True), complex_forward=neg, formula=lambda sp, x: -x, noun="a negation")
LOG = Rule("log", _log, lambda g, x, out: (_quotient(g, x),),
           arrays=ArrayRule(arrays.log), complex_forward=cx.log, formula=lambda sp, x: sp.log(x))
POW_CONST = Rule("pow_const", _pow, lambda g, x, k, out: (g * k * _power(x, k - 1) if k != 0.0 else _zero_or_nan(x),), "**",  # noqa: E501
                 constants=1, arrays=ArrayRule(arrays.power, arrays.pow_const_vjp), complex_forward=cx.power,
                 formula=lambda sp, x, k: x**k)
POW = Rule("pow", _pow, lambda g, x, y, out: (g * y * _power(x, y - 1), _exponent_vjp(g, x, out)), "**",
           arrays=ArrayRule(arrays.power, arrays.pow_vjp), complex_forward=cx.power_of, formula=lambda sp, x, y: x**y, noun="a power")  # noqa: E501
RPOW = Rule("rpow", lambda x, c: _pow(c, x), lambda g, x, c, out: (_exponent_vjp(g, c, out),), "**",
            constants=1, arrays=ArrayRule(arrays.rpow, arrays.rpow_vjp), complex_forward=cx.exponential_of,
            formula=lambda sp, x, c: c**x)
EXP = Rule("exp", _exp, lambda g, x, out: (g * out,),
           arrays=ArrayRule(np.exp), complex_forward=cmath.exp, formula=lambda sp, x: sp.exp(x))
SQRT = Rule("sqrt", _sqrt, lambda g, x, out: (g / (2.0 * out),), "√",
            arrays=ArrayRule(arrays.sqrt), complex_forward=cx.sqrt, formula=lambda sp, x: sp.sqrt(x))
TANH = Rule("tanh", math.tanh, lambda g, x, out: (g * (1.0 - out * out),),
            arrays=ArrayRule(np.tanh), complex_forward=cmath.tanh, formula=lambda sp, x: sp.tanh(x))
SIGMOID = Rule("sigmoid", _sigmoid, lambda g, x, out: (g * out * (1.0 - out),), "σ",
               arrays=ArrayRule(arrays.sigmoid), complex_forward=cx.sigmoid, formula=lambda sp, x: 1 / (1 + sp.exp(-x)))
# relu's array rule is "ieee": its float rules raise for nothing, so its results need no finiteness check.
RELU = Rule("relu", lambda x: 0.0 if x <= 0.0 else x, lambda g, x, out: (g if x > 0.0 else 0.0 if x <= 0.0 else math.nan,), "ReLU", kinks=[0.0],  # noqa: E501
            arrays=ArrayRule(arrays.relu, arrays.relu_vjp, ieee=True), complex_forward=cx.relu,
            formula=lambda sp, x: sp.Max(x, 0))
LEAKY_RELU = Rule("leaky_relu", lambda x, a: x if x > 0.0 else a * x, lambda g, x, a, out: (g if x > 0.0 else g * a if x <= 0.0 else math.nan,), kinks=[0.0],  # noqa: E501
                  constants=1, arrays=ArrayRule(arrays.leaky_relu, arrays.leaky_relu_vjp), complex_forward=cx.leaky_relu,  # noqa: E501
                  formula=lambda sp, x, a: sp.Piecewise((x, x > 0), (a * x, True)))
SOFTPLUS = Rule("softplus", _softplus, lambda g, x, out: (g * SIGMOID(x),),
                arrays=ArrayRule(arrays.softplus, arrays.softplus_vjp), complex_forward=cx.softplus, formula=lambda sp, x: sp.log(1 + sp.exp(x)))  # noqa: E501
COS: Op  # defined below; the two derivatives refer to each other
SIN = Rule("sin", _periodic("sin", math.sin), lambda g, x, out: (g * COS(x),),
           arrays=ArrayRule(arrays.sin, arrays.sin_vjp), complex_forward=cmath.sin, formula=lambda sp, x: sp.sin(x))
COS = Rule("cos", _periodic("cos", math.cos), lambda g, x, out: (-g * SIN(x),),
           arrays=ArrayRule(arrays.cos, arrays.cos_vjp), complex_forward=cmath.cos, formula=lambda sp, x: sp.cos(x))
ABS = Rule("abs", abs, lambda g, x, out: (g if x > 0.0 else -g if x < 0.0 else 0.0 if x <= 0.0 else math.nan,), "|x|", kinks=[0.0],  # noqa: E501
           arrays=ArrayRule(np.abs, arrays.abs_vjp), complex_forward=cx.absolute, formula=lambda sp, x: sp.Abs(x))
SUM = Rule("sum", lambda *xs: arrays.fsum(xs), lambda g, *xs_then_out: (g,) * (len(xs_then_out) - 1), "Σ",
           arrays=ArrayRule(arrays.total, ieee=True), complex_forward=cx.total, formula=lambda sp, *xs: sp.Add(*xs))
DOT = Rule("dot", _dot, _dot_vjp, "w·x",
           arrays=ArrayRule(arrays.dot, ieee=True), complex_forward=cx.dot,
           formula=lambda sp, *ws_xs: sp.Add(*[w * x for w, x in _halves(ws_xs)]))
IDENTITY = Rule("identity", lambda x: x, lambda g, x, out: (g,), "id",
                arrays=ArrayRule(lambda x: x, ieee=True), complex_forward=lambda x: x, formula=lambda sp, x: x)
# logsumexp's array rule is "ieee": its float forward raises for nothing, and its vjp's exp(x_i - lse) cannot
# overflow, as no x_i exceeds lse.
LOGSUMEXP = Rule("logsumexp", _logsumexp, _logsumexp_vjp, "lse",
                 arrays=ArrayRule(arrays.logsumexp, arrays.logsumexp_vjp, ieee=True), complex_forward=cx.logsumexp,
                 formula=lambda sp, *xs: sp.log(sp.Add(*[sp.exp(x) for x in xs])))
# pick's array rule is "ieee": its float rules raise only for a bad index, and so does its array forward (IndexError,
# which has the executor name the sample); a result that is not finite is a picked number that came in so.
PICK = Rule("pick", _pick, _pick_vjp, "[i]",
            constants=1, arrays=ArrayRule(arrays.pick, arrays.pick_vjp, ieee=True), complex_forward=cx.pick,
            formula=lambda sp, *xs_i: sp.Piecewise(*[(x, sp.Eq(xs_i[-1], j)) for j, x in enumerate(xs_i[:-1])]))
# fmt: on

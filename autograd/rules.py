"""Every primitive in one table: its forward function and its derivative, one line each.

Each rule is ``Op(name, forward, vjp, symbol)`` where ``vjp(g, *inputs, out)`` returns the upstream
gradient ``g`` times d(out)/d(input) for each differentiable input. The vjps use only operators and
ops, so they run on floats for an ordinary backward pass and on Values for higher derivatives.
Every op has its own name (``pow`` and ``pow_const`` are two ops, as PyTorch names its overloads
apart), and whatever keeps track of ops keys them by the Op object itself, never by the name.

Numeric rules, in the forward direction: domain errors raise ``ValueError`` (log of x <= 0, sqrt of
x < 0, a negative base with a non-integer exponent), division by zero and 0 to a negative power
raise ``ZeroDivisionError``, and results too large for a float64 (exp(1000), 10.0 ** 400) raise
``OverflowError``; each message names the op and the operand. Only + - * follow IEEE 754 and may
quietly give inf or nan; ``detect_anomaly()`` catches those. In the backward direction, a
derivative that is infinite at the point (sqrt at 0) raises with the op and the inputs named.
"""

from __future__ import annotations

import math
from operator import mul

from autograd.engine import Op, Value


def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"div: division by zero in {x!r} / {y!r}")
    return x / y


def _pow(x: float, k: float) -> float:
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
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _dot(*ws_then_xs: float) -> float:
    n = len(ws_then_xs) // 2
    return math.fsum(map(mul, ws_then_xs[:n], ws_then_xs[n:]))


def _dot_vjp(g: Value | float, *ws_then_xs_then_out: Value | float) -> list[Value | float]:
    n = (len(ws_then_xs_then_out) - 1) // 2
    ws, xs = ws_then_xs_then_out[:n], ws_then_xs_then_out[n : 2 * n]
    return [g * v for v in xs + ws]  # d/dw_i = x_i, then d/dx_i = w_i


def _nonzero(x: Value | float) -> bool:
    # Values compare by identity with ==, so test the number.
    return float(x) != 0.0


# Op(name, forward, vjp(g, *inputs, out) -> g * d(out)/d(input) per input, symbol, kinks)
# fmt: off
ADD = Op("add", lambda x, y: x + y, lambda g, x, y, out: (g, g), "+")
SUB = Op("sub", lambda x, y: x - y, lambda g, x, y, out: (g, -g), "-")
MUL = Op("mul", lambda x, y: x * y, lambda g, x, y, out: (g * y, g * x), "*")
DIV = Op("div", _div, lambda g, x, y, out: (g / y, -g * out / y), "/")
NEG = Op("neg", lambda x: -x, lambda g, x, out: (-g,), "-")
LOG = Op("log", _log, lambda g, x, out: (g / x,))
POW_CONST = Op("pow_const", _pow, lambda g, x, k, out: (g * k * x ** (k - 1) if k != 0.0 else 0.0,), "**")
POW = Op("pow", _pow, lambda g, x, y, out: (g * y * x ** (y - 1), g * out * LOG(x) if _nonzero(x) else 0.0), "**")
RPOW = Op("rpow", lambda x, c: _pow(c, x), lambda g, x, c, out: (g * out * _log(c) if c != 0.0 else 0.0,), "**")
EXP = Op("exp", _exp, lambda g, x, out: (g * out,))
SQRT = Op("sqrt", _sqrt, lambda g, x, out: (g / (2.0 * out),), "√")
TANH = Op("tanh", math.tanh, lambda g, x, out: (g * (1.0 - out * out),))
SIGMOID = Op("sigmoid", _sigmoid, lambda g, x, out: (g * out * (1.0 - out),), "σ")
RELU = Op("relu", lambda x: x if x > 0.0 else 0.0, lambda g, x, out: (g if x > 0.0 else 0.0,), "ReLU", kinks=[0.0])
LEAKY_RELU = Op("leaky_relu", lambda x, a: x if x > 0.0 else a * x, lambda g, x, a, out: (g if x > 0.0 else g * a,), kinks=[0.0])  # noqa: E501
SOFTPLUS = Op("softplus", _softplus, lambda g, x, out: (g * SIGMOID(x),))
COS: Op  # defined below; the two derivatives refer to each other
SIN = Op("sin", math.sin, lambda g, x, out: (g * COS(x),))
COS = Op("cos", math.cos, lambda g, x, out: (-g * SIN(x),))
ABS = Op("abs", abs, lambda g, x, out: (g if x > 0.0 else -g if x < 0.0 else 0.0,), "|x|", kinks=[0.0])
SUM = Op("sum", lambda *xs: math.fsum(xs), lambda g, *xs_then_out: (g,) * (len(xs_then_out) - 1), "Σ")
DOT = Op("dot", _dot, _dot_vjp, "w·x")
IDENTITY = Op("identity", lambda x: x, lambda g, x, out: (g,), "id")
# fmt: on

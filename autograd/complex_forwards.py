"""The rule table's forwards on complex numbers, for complex-step differentiation.

For an f that is analytic at a real x, f(x + ih) = f(x) + ih f'(x) - h² f''(x)/2 - ..., so
f'(x) = Im f(x + ih) / h to within h² f''' / 6: with h = 1e-100 or so, as exact as the floats
allow, with no difference of nearby values anywhere (Squire and Trapp, 1998). These functions are
each op's forward extended to complex arguments, so that ``autograd.testing`` can replay a recorded
graph in complex numbers and compare the engine with a reference that shares none of its rules.

Decisions are taken on the real part, as the real forward takes them: sigmoid's and softplus's two
branches, relu's side of 0. Where an op is not analytic (relu, abs and leaky_relu at their kink,
sqrt at 0, a negative base raised to a varying power), each raises ``ValueError`` saying so, and the
checks fall back to finite differences. Only the imaginary parts are read: the replay keeps each
node's real part at the value the engine recorded.
"""

from __future__ import annotations

import cmath
import math

from autograd.arrays import fsum


def _not_analytic(name: str, x: complex, why: str) -> ValueError:
    return ValueError(f"{name} is not analytic at {x.real!r}: {why}")


def divide(x: complex, y: complex) -> complex:
    """x / y."""
    if y == 0:
        raise ZeroDivisionError(f"div: division by zero in {x!r} / {y!r}")
    return x / y


def log(x: complex) -> complex:
    """log x, for Re x > 0."""
    if x.real <= 0.0:
        raise ValueError(f"log: argument must be positive, got {x.real!r}")
    return cmath.log(x)


def sqrt(x: complex) -> complex:
    """√x, for Re x > 0 (at 0 its derivative is infinite)."""
    if x.real <= 0.0:
        raise _not_analytic("sqrt", x, "its derivative is infinite at 0 and it has no real value below")
    return cmath.sqrt(x)


def power(x: complex, k: float) -> complex:
    """x ** k for a real constant k: a negative base only to a whole power, which is repeated multiplication."""
    if k.is_integer():
        if x.real < 0.0:  # (-1)^k |x|^k: the polar form would round the angle π and lose the small part
            return (-1.0 if k % 2 else 1.0) * (-x) ** k
        if x.real == 0.0 and k < 0.0:
            raise ZeroDivisionError(f"pow: 0.0 cannot be raised to the negative power {k!r}")
        return x**k
    if x.real <= 0.0:
        raise _not_analytic("pow", x, f"x ** {k!r} has no real value below 0 and no derivative at 0")
    return x**k


def power_of(x: complex, y: complex) -> complex:
    """x ** y with both varying: analytic for Re x > 0; elsewhere only with y fixed at a whole number."""
    if x.real > 0.0:
        return x**y  # pow(|x|, Re y) first: exp(y log x) would lose |y log x| ulps to the rounding of y log x
    if y.imag == 0.0:
        return power(x, y.real)
    raise _not_analytic("pow", x, "a base <= 0 raised to a varying exponent has no derivative in the exponent")


def exponential_of(x: complex, c: float) -> complex:
    """c ** x for a real constant base c > 0 (0 ** x = 0 for x > 0)."""
    if c > 0.0:
        return complex(c) ** x
    if c == 0.0 and x.real > 0.0:
        return 0j
    raise _not_analytic("rpow", x, f"{c!r} ** x is real only at whole x")


def sigmoid(x: complex) -> complex:
    """1 / (1 + e^-x), with exp never given a large positive real part."""
    if x.real >= 0.0:
        return 1.0 / (1.0 + cmath.exp(-x))
    z = cmath.exp(x)
    return z / (1.0 + z)


def softplus(x: complex) -> complex:
    """log(1 + e^x), with exp never given a large positive real part."""
    if x.real > 0.0:
        return x + cmath.log(1.0 + cmath.exp(-x))
    return cmath.log(1.0 + cmath.exp(x))


def relu(x: complex) -> complex:
    """x for Re x > 0, else 0."""
    return leaky_relu(x, 0.0, "relu")


def leaky_relu(x: complex, slope: float, name: str = "leaky_relu") -> complex:
    """x for Re x > 0, else slope · x."""
    if x.real > 0.0:
        return x
    if x.real < 0.0:
        return slope * x
    if x.real == 0.0:
        raise _not_analytic(name, x, "its kink")
    return complex(math.nan, math.nan)


def absolute(x: complex) -> complex:
    """|x| as x or -x, by the sign of Re x."""
    if x.real == 0.0:
        raise _not_analytic("abs", x, "its kink")
    return x if x.real > 0.0 else -x


def total(*xs: complex) -> complex:
    """x_1 + ... + x_n, each part summed exactly once (math.fsum)."""
    return complex(fsum([complex(x).real for x in xs]), fsum([complex(x).imag for x in xs]))


def dot(*ws_then_xs: complex) -> complex:
    """Σ w_i x_i."""
    n = len(ws_then_xs) // 2
    return total(*[w * x for w, x in zip(ws_then_xs[:n], ws_then_xs[n:], strict=True)])


def logsumexp(*xs: complex) -> complex:
    """log Σ e^x, shifted by the largest real part."""
    m = max(complex(x).real for x in xs)
    return m + cmath.log(total(*[cmath.exp(x - m) for x in xs]))


def pick(*xs_then_i: complex) -> complex:
    """The item the last operand (a whole number, a constant) names."""
    index = xs_then_i[-1]
    return complex(xs_then_i[int(complex(index).real)])

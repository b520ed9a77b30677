"""Every op's value, first and second derivatives against sympy, and against finite differences."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import sympy as sp

import autograd as ag
from autograd import Value
from tests.numeric import central_difference, partial_difference, second_difference

x_, y_ = sp.symbols("x y", real=True)

SPREAD = [-3.1, -2.0, -0.7, -0.15, 0.2, 0.5, 1.3, 2.6, 4.0]
POSITIVE = [0.05, 0.3, 1.0, 1.7, 3.2, 9.5, 120.0]

# name, engine function (works on Values and on floats), sympy expression, points
UNARY: list[tuple[str, Callable[[Any], Any], sp.Expr, list[float]]] = [
    ("exp", ag.exp, sp.exp(x_), [*SPREAD, -30.0, 30.0]),
    ("log", ag.log, sp.log(x_), POSITIVE),
    ("sqrt", ag.sqrt, sp.sqrt(x_), POSITIVE),
    ("tanh", ag.tanh, sp.tanh(x_), [*SPREAD, -8.0, 8.0]),
    ("sigmoid", ag.sigmoid, 1 / (1 + sp.exp(-x_)), [*SPREAD, -30.0, 30.0]),
    ("relu", ag.relu, sp.Piecewise((x_, x_ > 0), (0, True)), SPREAD),
    ("leaky_relu", lambda v: ag.leaky_relu(v, 0.1), sp.Piecewise((x_, x_ > 0), (x_ / 10, True)), SPREAD),
    ("softplus", ag.softplus, sp.log(1 + sp.exp(x_)), [*SPREAD, -30.0, 30.0]),
    ("sin", ag.sin, sp.sin(x_), SPREAD),
    ("cos", ag.cos, sp.cos(x_), SPREAD),
    ("abs", abs, sp.Abs(x_), SPREAD),
    ("neg", lambda v: -v, -x_, SPREAD),
    ("square", lambda v: v**2, x_**2, SPREAD),
    ("cube", lambda v: v**3, x_**3, SPREAD),
    ("pow 2.5", lambda v: v**2.5, x_**sp.Rational(5, 2), POSITIVE),
    ("pow -2", lambda v: v**-2, x_**-2, SPREAD),
    ("reciprocal", lambda v: 1 / v, 1 / x_, SPREAD),
    ("2 ** x", lambda v: 2**v, 2**x_, SPREAD),
    ("0.5 ** x", lambda v: 0.5**v, sp.Rational(1, 2) ** x_, SPREAD),
    ("3 - x", lambda v: 3 - v, 3 - x_, SPREAD),
    ("x / 4 + 1", lambda v: v / 4 + 1, x_ / 4 + 1, SPREAD),
]

CASES = [(name, fn, expr, p) for name, fn, expr, points in UNARY for p in points]
IDS = [f"{name}@{p}" for name, _, _, p in CASES]


def exact(expr: sp.Expr, point: float, order: int = 0) -> float:
    """The sympy derivative of the given order, evaluated to 30 digits."""
    return float(sp.diff(expr, x_, order).subs(x_, sp.Float(point, 30)).evalf(30))


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@pytest.mark.parametrize(("name", "fn", "expr", "point"), CASES, ids=IDS)
def test_value_and_first_derivative_match_sympy(name, fn, expr, point):
    x = Value(point)
    y = fn(x)
    y.backward()
    assert close(y.data, exact(expr, point)), (y.data, exact(expr, point))
    assert close(x.grad, exact(expr, point, 1)), (x.grad, exact(expr, point, 1))
    assert close(fn(point), exact(expr, point)), "the float form gives the same number"


@pytest.mark.parametrize(("name", "fn", "expr", "point"), CASES, ids=IDS)
def test_second_derivative_matches_sympy(name, fn, expr, point):
    second = ag.grad(ag.grad(fn))(point)
    assert isinstance(second, float)
    assert close(second, exact(expr, point, 2), rel=1e-8, abs_=1e-10), (second, exact(expr, point, 2))


@pytest.mark.parametrize(("name", "fn", "expr", "point"), CASES, ids=IDS)
def test_derivatives_match_finite_differences(name, fn, expr, point):
    plain = sp.lambdify(x_, expr, "math")  # evaluated by the math module, not by the engine
    first = ag.grad(fn)(point)
    second = ag.grad(ag.grad(fn))(point)
    scale = max(1.0, abs(plain(point)))
    assert math.isclose(first, central_difference(plain, point), rel_tol=1e-6, abs_tol=1e-6 * scale)
    assert math.isclose(second, second_difference(plain, point), rel_tol=1e-4, abs_tol=1e-4 * scale)


BINARY: list[tuple[str, Callable[[Any, Any], Any], sp.Expr]] = [
    ("add", lambda a, b: a + b, x_ + y_),
    ("sub", lambda a, b: a - b, x_ - y_),
    ("mul", lambda a, b: a * b, x_ * y_),
    ("div", lambda a, b: a / b, x_ / y_),
    ("pow", lambda a, b: a**b, x_**y_),
    ("dot", lambda a, b: ag.dot([a, b, 2.0], [b, 3.0, a]), x_ * y_ + 3 * y_ + 2 * x_),
    ("sum", lambda a, b: ag.sum([a, b * b, a, 1.5]), 2 * x_ + y_**2 + sp.Rational(3, 2)),
]
PAIRS = [(0.7, 1.9), (2.5, -0.6), (1.3, 3.0), (4.2, 0.35)]


@pytest.mark.parametrize(("name", "fn", "expr"), BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("pair", PAIRS, ids=str)
def test_binary_ops_gradient_and_hessian_match_sympy(name, fn, expr, pair):
    a, b = pair
    at = {x_: sp.Float(a, 30), y_: sp.Float(b, 30)}
    va, vb = Value(a), Value(b)
    out = fn(va, vb)
    out.backward()
    assert close(out.data, float(expr.subs(at).evalf(30)))
    assert close(va.grad, float(sp.diff(expr, x_).subs(at).evalf(30)))
    assert close(vb.grad, float(sp.diff(expr, y_).subs(at).evalf(30)))
    expected = sp.hessian(expr, (x_, y_)).subs(at).evalf(30)
    got = ag.hessian(fn, argnums=(0, 1))(a, b)
    for i in range(2):
        for j in range(2):
            assert close(got[i][j], float(expected[i, j]), rel=1e-8, abs_=1e-10), (i, j, got, expected)


@pytest.mark.parametrize(("name", "fn", "expr"), BINARY, ids=[b[0] for b in BINARY])
def test_binary_ops_match_finite_differences(name, fn, expr):
    plain = sp.lambdify((x_, y_), expr, "math")
    for a, b in PAIRS:
        ga, gb = ag.grad(fn, argnums=(0, 1))(a, b)
        assert math.isclose(ga, partial_difference(plain, [a, b], 0), rel_tol=1e-6, abs_tol=1e-7)
        assert math.isclose(gb, partial_difference(plain, [a, b], 1), rel_tol=1e-6, abs_tol=1e-7)


def test_third_derivative_of_sin_and_exp():
    # d3/dx3 sin = -cos, d3/dx3 e^(2x) = 8 e^(2x): hand-derived
    third = ag.grad(ag.grad(ag.grad(ag.sin)))
    assert close(third(0.4), -math.cos(0.4))
    fourth = ag.grad(ag.grad(ag.grad(ag.grad(lambda v: ag.exp(2 * v)))))
    assert close(fourth(0.3), 16 * math.exp(0.6))


def test_stable_forms_at_extreme_arguments():
    # sigmoid and softplus are finite where the naive formulas overflow
    assert ag.sigmoid(-1000.0) == 0.0
    assert ag.sigmoid(1000.0) == 1.0
    assert ag.softplus(1000.0) == 1000.0
    assert ag.softplus(-1000.0) == 0.0
    v = Value(-800.0)
    ag.softplus(v).backward()
    assert v.grad == 0.0


def test_kinks_use_the_zero_subgradient():
    # relu, leaky_relu and abs at exactly 0 get derivative 0 (relu, abs) or the slope (leaky), as in PyTorch
    for fn, expected in [(ag.relu, 0.0), (lambda v: ag.leaky_relu(v, 0.2), 0.2), (abs, 0.0)]:
        v = Value(0.0)
        fn(v).backward()
        assert v.grad == expected


def test_op_count_in_the_rule_table():
    from autograd import rules

    ops = [value for value in vars(rules).values() if isinstance(value, ag.Op)]
    names = {op.name for op in ops}
    assert names >= {"add", "sub", "mul", "div", "neg", "pow", "rpow", "exp", "log", "sqrt", "tanh", "sigmoid"}
    assert names >= {"relu", "leaky_relu", "softplus", "sin", "cos", "abs", "sum", "dot"}

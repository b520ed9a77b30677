"""Graphs as sympy formulas: every op's form, names and constants, derivatives and chain-rule paths."""

from __future__ import annotations

import math
import re
import sys

import pytest
import sympy as sp

import autograd as ag
import nn
from autograd import Op, Value
from tests.test_ops import BINARY, UNARY, x_, y_
from tests.test_viz import sigmoid_graph

x_sym, y_sym = sp.Symbol("x", real=True), sp.Symbol("y", real=True)


def numerically_equal(a: sp.Expr, b: sp.Expr, points: list[dict[sp.Symbol, float]]) -> bool:
    return all(math.isclose(float(a.subs(p).evalf(30)), float(b.subs(p).evalf(30)), rel_tol=1e-12, abs_tol=1e-12)
               for p in points)  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "expr", "points"), UNARY, ids=[u[0] for u in UNARY])
def test_every_unary_op_becomes_its_formula(name, fn, expr, points):
    built = ag.to_sympy(fn(Value(points[0], label="x")))
    expected = expr.subs(x_, x_sym)
    assert numerically_equal(built, expected, [{x_sym: p} for p in points])


@pytest.mark.parametrize(("name", "fn", "expr"), BINARY, ids=[b[0] for b in BINARY])
def test_every_binary_op_becomes_its_formula(name, fn, expr):
    built = ag.to_sympy(fn(Value(1.3, label="x"), Value(0.7, label="y")))
    expected = expr.subs({x_: x_sym, y_: y_sym})
    assert numerically_equal(built, expected, [{x_sym: 1.3, y_sym: 0.7}, {x_sym: 2.2, y_sym: -0.4}])


def test_names_and_constants():
    a, b, c = Value(1.0, label="w"), Value(2.0, label="w"), Value(3.0)
    built = ag.to_sympy(a * 0.1 + b * 2.0 + c ** 2.5 + Value(4.0))
    w, w_2, x0, x1 = (sp.Symbol(n, real=True) for n in ("w", "w_2", "x0", "x1"))
    assert built == w / 10 + 2 * w_2 + x0 ** sp.Rational(5, 2) + x1  # labels, a repeated label, stable names
    assert ag.to_sympy(a * math.pi).has(sp.Float(math.pi))  # a long decimal stays a float
    cube = Op("cube", lambda v: v**3, lambda g, v, out: (3 * g * v**2,))
    cubed = cube(a)
    assert isinstance(cubed, Value)
    assert ag.to_sympy(cubed) == sp.Function("cube")(w)  # a custom op: an undefined function


def test_formula_of_the_sigmoid_graph_gives_its_worked_chain_rule():
    x, f = sigmoid_graph(0.5)
    shown = ag.formula(f)
    assert shown.expression == 1 / (1 + sp.exp(-x_sym))
    # by hand: dF/dx = e^-x / (1 + e^-x)^2, and along the path dF/dC · dC/dB · dB/dA · dA/dx
    assert sp.simplify(shown.derivatives["x"] - sp.exp(-x_sym) / (1 + sp.exp(-x_sym)) ** 2) == 0
    assert shown.chains["x"] == ["dF/dC · dC/dB · dB/dA · dA/dx = (-1/C**2) · (1) · (exp(A)) · (-1)"]
    f.backward()
    assert math.isclose(float(shown.derivatives["x"].subs(x_sym, 0.5)), x.grad, rel_tol=1e-14)
    text = str(shown)
    assert text.splitlines()[0] == "F = 1/(1 + exp(-x))"
    assert r"\frac{\partial F}{\partial x}" in shown._repr_latex_()


def test_paths_are_counted_and_summed():
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    y = (x * w + x).tanh() * x  # x reaches y directly, through the sum, and through the product
    shown = ag.formula(y, wrt=[x])
    assert list(shown.derivatives) == ["x"]
    assert len(shown.chains["x"]) == 4 and shown.chains["x"][-1] == "(the 3 paths are summed)"
    z = x
    for _ in range(6):
        z = z * x + z  # doubles the paths each time
    chains = ag.formula(z, wrt="x").chains["x"]
    assert len(chains) == 9 and chains[-1] == "... and 87 more paths; all 95 are summed"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ag.to_sympy(1.0), TypeError, "to_sympy: expected a Value, got float"),  # type: ignore[arg-type]
        (lambda: ag.formula(sigmoid_graph()[1], wrt="z"), ValueError, "'z' is not in the graph; its leaves are"),
        (lambda: ag.formula(sigmoid_graph()[1], wrt="B"), ValueError, "wrt must name leaves (inputs); B is computed"),
        (lambda: ag.to_sympy(ag.sum([Value(float(k)) for k in range(3000)])), ValueError, "3001 nodes, more than"),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_without_sympy_the_error_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "sympy", None)  # import sympy now raises ImportError
    with pytest.raises(ImportError, match="formulas need sympy: pip install sympy"):
        ag.to_sympy(Value(1.0) * 2.0)


def test_logsumexp_is_the_log_of_a_sum_of_exponentials_and_its_derivative_the_softmax():
    a, b, c = (Value(v, label=n) for v, n in ((0.5, "a"), (-1.0, "b"), (2.0, "c")))
    sa, sb, sc = (sp.Symbol(n, real=True) for n in "abc")
    expr = ag.to_sympy(ag.logsumexp([a, b, c]))
    by_hand = sp.log(sp.exp(sa) + sp.exp(sb) + sp.exp(sc))
    point = {sa: 0.5, sb: -1.0, sc: 2.0}
    assert numerically_equal(expr, by_hand, [point, {sa: -3.0, sb: 0.0, sc: 1.5}])
    softmax_a = math.exp(0.5) / (math.exp(0.5) + math.exp(-1.0) + math.exp(2.0))
    assert math.isclose(float(sp.diff(expr, sa).subs(point)), softmax_a, rel_tol=1e-12)


def test_cross_entropy_reads_as_minus_the_picked_logit_plus_logsumexp():
    z = [Value(0.5, label="a"), Value(-1.0, label="b")]
    sa, sb = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    expr = ag.to_sympy(nn.cross_entropy(z, 1))
    assert numerically_equal(expr, -sb + sp.log(sp.exp(sa) + sp.exp(sb)), [{sa: 0.5, sb: -1.0}, {sa: 2.0, sb: 3.0}])


def test_pick_with_a_value_index_is_a_piecewise_choice():
    x, i = Value(2.0, label="x"), Value(1.0, label="i")
    expr = ag.to_sympy(ag.pick([x * x, x * 3.0], i))
    sx, si = sp.Symbol("x", real=True), sp.Symbol("i", real=True)
    assert expr.subs({sx: 2.0, si: 0}) == 4.0 and expr.subs({sx: 2.0, si: 1}) == 6.0
    assert sp.diff(expr, sx).subs({sx: 2.0, si: 0}) == 4.0  # d(x**2)/dx at 2, where i = 0

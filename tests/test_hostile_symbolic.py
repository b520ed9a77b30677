# ruff: noqa: E501  (the catalogue keeps one case per line)
# mypy: disable-error-code="arg-type, operator, return-value, assignment, list-item"
# (hostile inputs break the signatures on purpose)
"""Hostile inputs to ``to_sympy`` and ``formula``: a catalogue of cases, then what the fixes promise.

Each case gives the exact exception type and a pattern for a message that names the culprit (the
argument, the label, the op, the depth). The expected formulas come from the math: d(c x)/dx = c,
d(a + 3b)/db = 3, d cube(2x)/dx = 2 cube'(2x), worked by hand or by sympy's diff of a hand-written
expression.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

import autograd as ag
from autograd import Op, Value, symbolic
from tests.test_symbolic import latex_of

NAN, INF = math.nan, math.inf
FAILING = Op("failing", lambda v: v, lambda g, v, out: (g,), formula=lambda sp, v: math.exp(v))  # math.exp of a symbol
HOLLOW = Op("hollow", lambda v: v, lambda g, v, out: (g,), formula=lambda sp, v: None)
WORDY = Op("wordy", lambda v: v, lambda g, v, out: (g,), formula=lambda sp, v: "v + 1")
CUBE = Op("cube", lambda v: v**3, lambda g, v, out: (3.0 * g * v**2,))  # no formula


def leaf(x: float = 2.0, label: str = "x") -> Value:
    return Value(x, label=label)


def square() -> Value:
    x = leaf()
    return x * x


def product() -> Value:
    return leaf(2.0, "x") * leaf(3.0, "y")


def chain(depth: int, step: Callable[[Value], Value] = Value.tanh) -> Value:
    y = leaf(0.5)
    for _ in range(depth):
        y = step(y)
    return y


def relabelled(label: Any) -> Value:
    y = product()
    y.label = label
    return y


def from_deep_inside(levels: int, call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` made with ``levels`` frames of the caller's own recursion below it."""

    def descend(k: int) -> Any:
        return call() if k == 0 else descend(k - 1)

    return lambda: descend(levels)


def within(seconds: float, call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` made with ``seconds`` for sympy to build and differentiate in, rather than the default."""

    def run() -> Any:
        default, symbolic.SYMPY_SECONDS = symbolic.SYMPY_SECONDS, seconds
        try:
            return call()
        finally:
            symbolic.SYMPY_SECONDS = default

    return run


def twice_labelled(label: str) -> Value:
    return leaf(1.0, label) * leaf(2.0, label)


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    # -- the value and max_nodes ----------------------------------------------------------------
    ("to_sympy of a float", lambda: ag.to_sympy(1.5), TypeError, r"to_sympy: expected a Value, got float"),
    ("formula of None", lambda: ag.formula(None), TypeError, r"formula: expected a Value, got NoneType"),
    ("formula of a list", lambda: ag.formula([leaf()]), TypeError, r"formula: expected a Value, got list"),
    ("max_nodes None", lambda: ag.to_sympy(square(), max_nodes=None), TypeError, r"to_sympy: max_nodes must be a positive int, got NoneType None"),
    ("max_nodes True", lambda: ag.to_sympy(square(), max_nodes=True), TypeError, r"to_sympy: max_nodes must be a positive int, got bool True"),
    ("max_nodes False", lambda: ag.formula(square(), max_nodes=False), TypeError, r"formula: max_nodes must be a positive int, got bool False"),
    ("max_nodes float", lambda: ag.to_sympy(square(), max_nodes=2000.0), TypeError, r"max_nodes must be a positive int, got float 2000\.0"),
    ("max_nodes inf", lambda: ag.formula(square(), max_nodes=INF), TypeError, r"formula: max_nodes must be a positive int, got float inf"),
    ("max_nodes str", lambda: ag.to_sympy(square(), max_nodes="2000"), TypeError, r"max_nodes must be a positive int, got str '2000'"),
    ("max_nodes 0", lambda: ag.to_sympy(square(), max_nodes=0), ValueError, r"to_sympy: max_nodes must be a positive int, got 0"),
    ("max_nodes -5", lambda: ag.formula(square(), max_nodes=-5), ValueError, r"formula: max_nodes must be a positive int, got -5"),
    ("graph beyond max_nodes", lambda: ag.to_sympy(product() + 1.0, max_nodes=3), ValueError, r"to_sympy: the graph has 4 nodes, more than max_nodes=3"),
    # -- depth: never a RecursionError ----------------------------------------------------------
    ("to_sympy of a 201-node tanh chain", lambda: ag.to_sympy(chain(200)), ValueError, r"to_sympy: at n\d+ \(tanh\), the formula nests \d+ levels deep.*max_nodes=2000 counts the nodes \(this graph has 201\), not how deep"),
    ("formula of a 201-node tanh chain", lambda: ag.formula(chain(200)), ValueError, r"formula: at n\d+ \(tanh\), the formula nests \d+ levels deep.*sys\.setrecursionlimit"),
    ("a sigmoid chain", lambda: ag.to_sympy(chain(100, Value.sigmoid)), ValueError, r"at n\d+ \(sigmoid\), the formula nests \d+ levels deep"),
    ("a chain of x * x + 1", lambda: ag.to_sympy(chain(300, lambda y: y * y + 1.0)), ValueError, r"at n\d+ \((mul|add)\), the formula nests \d+ levels deep"),
    ("a leaky_relu chain, twice as long a formula each step", within(1.0, lambda: ag.to_sympy(chain(12, lambda y: (y * leaf(0.7, "w")).leaky_relu(0.1)))), ValueError, r"to_sympy: at n\d+ \(leaky_relu\), sympy took over 1\.0 s or all the recursion allowed to build the formula; max_nodes=2000"),
    ("forty squarings of x / 2", lambda: ag.to_sympy(chain(40, lambda y: y * y * 0.5)), ValueError, r"to_sympy: at n\d+ \(mul\), the formula holds a number of \d+ bits, more than 65536; max_nodes=2000"),
    ("called from deep in a recursion", from_deep_inside(850, lambda: ag.to_sympy(chain(3))), ValueError, r"at n1 \(tanh\), the formula nests \d levels deep.*leaves sympy room for \d here"),
    # -- wrt ------------------------------------------------------------------------------------
    ("wrt int", lambda: ag.formula(product(), wrt=3), TypeError, r"formula: wrt must be a Value, a name or a list of them, got int 3"),
    ("wrt float in a list", lambda: ag.formula(product(), wrt=["x", 0.5]), TypeError, r"formula: wrt must hold Values or names, got float 0\.5"),
    ("wrt bytes", lambda: ag.formula(product(), wrt=b"x"), TypeError, r"formula: wrt must hold Values or names, got int 120"),
    ("wrt unknown label", lambda: ag.formula(product(), wrt="z"), ValueError, r"formula: 'z' is not in the graph; its leaves are \['x', 'y'\]"),
    ("wrt empty name", lambda: ag.formula(product(), wrt=""), ValueError, r"formula: '' is not in the graph"),
    ("wrt a Value of another graph", lambda: ag.formula(product(), wrt=leaf(2.0, "x")), ValueError, r"formula: Value\(data=2\.0.*label='x'\) is not in the graph; its leaves are \['x', 'y'\]"),
    ("wrt a computed node by name", lambda: ag.formula(product() + 1.0, wrt="n1"), ValueError, r"formula: wrt must name leaves \(inputs\); n1 is computed by mul"),
    ("wrt the root by name", lambda: ag.formula(product(), wrt="f"), ValueError, r"formula: wrt must name leaves \(inputs\); f is computed by mul"),
    ("wrt a label two leaves share", lambda: ag.formula(twice_labelled("my x"), wrt="my x"), ValueError, r"formula: 'my x' is the label of 2 nodes \(x0, x1\); name one of them"),
    # -- labels changed after the fact ----------------------------------------------------------
    ("label set to an int", lambda: ag.formula(relabelled(5)), TypeError, r"formula: a label must be a str, got int 5 on a node of data 6\.0"),
    ("label set to None", lambda: ag.to_sympy(relabelled(None)), TypeError, r"to_sympy: a label must be a str, got NoneType None"),
    # -- custom ops whose formula cannot be used -------------------------------------------------
    ("a formula that fails on symbols", lambda: ag.to_sympy(FAILING(leaf())), TypeError, r"to_sympy: the formula of 'failing' failed on \(x,\): TypeError"),
    ("a formula that gives None", lambda: ag.formula(HOLLOW(leaf())), TypeError, r"formula: the formula of 'hollow' must give a sympy expression, got NoneType None"),
    ("a formula that gives a str", lambda: ag.to_sympy(WORDY(leaf())), TypeError, r"to_sympy: the formula of 'wordy' must give a sympy expression, got str 'v \+ 1'"),
]


@pytest.mark.parametrize(("thunk", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_input_is_refused_by_name(thunk: Callable[[], Any], error: type[BaseException], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        thunk()
    assert type(caught.value) is error  # exactly this type: never a bare RecursionError or a sympy error


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({name for name, *_ in CASES}) == len(CASES)


# -- what the fixes promise, with numbers from the math -------------------------------------------

WEIRD_LABELS = ["", " ", "my x", "\\frac", "{", "}", "_", "x_", "x^2", "$", "%", "&", "#", "~", "\n", "a\tb", "1x",
                "é", "α", "alpha", "E", "nan", "oo", "zoo", "f", "x0", "n1", "lambda", "x" * 300, "\\", "x\u200b"]  # fmt: skip


def weird_sum() -> tuple[list[Value], Value]:
    """f = sum_k (k + 1) leaf_k over one leaf per weird label, so that df/dleaf_k = k + 1."""
    leaves = [Value(0.5, label=label) for label in WEIRD_LABELS]
    return leaves, ag.sum([leaf_k * float(k + 1) for k, leaf_k in enumerate(leaves)])


def test_every_weird_label_is_its_own_symbol_with_the_right_derivative() -> None:
    leaves, f = weird_sum()
    shown = ag.formula(f, wrt=leaves)
    names = list(shown.derivatives)
    assert len(set(names)) == len(leaves) == len(shown.expression.free_symbols)
    assert [shown.derivatives[name] for name in names] == list(range(1, len(leaves) + 1))
    assert all(name.isidentifier() and name not in ("nan", "oo", "zoo") for name in names)
    assert len({sp.latex(sp.Symbol(n)) for n in names}) == len({sp.pretty(sp.Symbol(n)) for n in names}) == len(names)


def test_weird_labels_are_listed_and_the_latex_stays_well_formed() -> None:
    leaves, f = weird_sum()
    shown = ag.formula(f, wrt=leaves[:3])
    unusable = {label for label in WEIRD_LABELS if label and not (label.isidentifier() and label[0].isalpha())}
    assert set(shown.relabelled.values()) == unusable  # the empty label is no label: nothing to say
    text = str(shown)
    assert "x0 is labelled ' '" not in text and "is labelled '\\\\frac'" in text and "is labelled '\\n'" in text
    latex = latex_of(shown)
    body = latex[1:-1].replace(r"\{", "").replace(r"\}", "").replace(r"\$", "")
    assert latex.startswith("$") and latex.endswith("$") and "$" not in body
    assert body.count("{") == body.count("}") and r"\frac}" not in body and "\n" not in latex


def test_a_weird_label_names_its_leaf_in_wrt() -> None:
    x, y = leaf(2.0, "my x"), leaf(3.0, "\\frac")
    shown = ag.formula(x * y * y, wrt="my x")
    assert list(shown.derivatives) == ["x0"] and shown.relabelled == {"x0": "my x", "x1": "\\frac"}
    assert shown.derivatives["x0"] == sp.Symbol("x1", real=True) ** 2  # d(x y^2)/dx = y^2


@pytest.mark.parametrize(
    ("make", "expression", "derivative"),
    [(lambda x: x * NAN, sp.nan, sp.nan),  # d(c x)/dx = c, and c is NaN
     (lambda x: x + NAN, sp.nan, sp.nan),
     (lambda x: x * INF, sp.oo * sp.Symbol("x", real=True), sp.oo),  # d(c x)/dx = c = inf
     (lambda x: x * -INF, -sp.oo * sp.Symbol("x", real=True), -sp.oo),
     (lambda x: x + INF, sp.oo, sp.nan),  # inf wherever x is: no difference quotient has a value
     (lambda x: (x * 0.0).exp() * INF, sp.oo, sp.nan)],
    ids=["x * nan", "x + nan", "x * inf", "x * -inf", "x + inf", "exp(0 x) * inf"],
)
def test_nan_and_inf_constants_give_nan_where_the_derivative_has_no_value(make, expression, derivative) -> None:
    shown = ag.formula(make(leaf()))
    assert shown.expression == expression
    assert shown.derivatives["x"] == derivative or (derivative is sp.nan and shown.derivatives["x"] is sp.nan)


def test_a_custom_op_without_a_formula_is_an_undefined_function_and_the_chain_rule_holds() -> None:
    x = leaf(0.5)
    shown = ag.formula(CUBE(x * 2.0))
    s, cube = sp.Symbol("x", real=True), sp.Function("cube")
    assert shown.expression == cube(2 * s)
    assert shown.derivatives["x"] == sp.diff(cube(2 * s), s)  # 2 cube'(2x), left unevaluated
    n1 = sp.Symbol("n1", real=True)
    assert [factor for *_, factor in shown.paths["x"][0]] == [sp.Derivative(cube(n1), n1), 2]
    assert shown.where == {"n1": 2 * s}


@pytest.mark.parametrize(
    ("make", "derivative", "chain"),
    [(lambda x: x * x, 2 * sp.Symbol("x", real=True), ["df/dx = (2*x)"]),  # one step, counting both uses
     (lambda x: x / x, 0, ["df/dx = (0)"]),  # x / x is 1 for x != 0
     (lambda x: x - x, 0, ["df/dx = (0)"]),
     (lambda x: ag.dot([x, x], [x, 1.0]), 2 * sp.Symbol("x", real=True) + 1, ["df/dx = (2*x + 1)"])],
    ids=["x * x", "x / x", "x - x", "dot([x, x], [x, 1])"],
)
def test_the_same_value_as_two_operands_is_one_step(make, derivative, chain) -> None:
    shown = ag.formula(make(leaf()))
    assert shown.derivatives["x"] == derivative and shown.chains["x"] == chain and shown.where == {}


def test_a_leaf_alone_is_its_own_formula() -> None:
    assert str(ag.formula(leaf())) == "x = x\ndx/dx = 1"
    assert str(ag.formula(Value(3.0))) == "f = f\ndf/df = 1"


def test_the_root_keeps_its_label_and_a_leaf_that_shares_it_moves_aside() -> None:
    x = leaf(2.0, "x")
    y = x * 3.0
    y.label = "x"
    assert str(ag.formula(y)) == "x = 3*x_2\ndx/dx_2 = 3\n    dx/dx_2 = (3)"
    f_leaf = leaf(2.0, "f")
    assert str(ag.formula(f_leaf * 3.0)) == "f_2 = 3*f\ndf_2/df = 3\n    df_2/df = (3)"


def test_wrt_empty_or_repeated() -> None:
    x, y = leaf(2.0, "x"), leaf(3.0, "y")
    assert str(ag.formula(x * y, wrt=[])) == "f = x*y"
    assert list(ag.formula(x * y, wrt=[x, "x", x]).derivatives) == ["x"]


def test_huge_and_numpy_max_nodes_are_taken() -> None:
    assert ag.to_sympy(square(), max_nodes=10**100) == sp.Symbol("x", real=True) ** 2
    assert ag.to_sympy(square(), max_nodes=np.int64(2)) == sp.Symbol("x", real=True) ** 2
    with pytest.raises(ValueError, match=r"the graph has 2 nodes, more than max_nodes=1"):
        ag.to_sympy(square(), max_nodes=np.int32(1))


def test_a_deep_chain_leaves_the_recursion_limit_and_the_trace_function_as_they_were() -> None:
    limit, tracer = sys.getrecursionlimit(), sys.gettrace()
    with pytest.raises(ValueError, match="levels deep"):
        ag.formula(chain(200))
    ag.formula(leaf(0.5) / (leaf(0.5) + 1.0))
    assert sys.getrecursionlimit() == limit and sys.gettrace() is tracer


def test_latex_that_sympy_would_take_minutes_to_typeset_falls_back_to_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = ag.formula(chain(8, Value.sigmoid))  # sympy's LaTeX printer simplifies as it prints: minutes here
    monkeypatch.setattr("autograd.symbolic.LATEX_SECONDS", 0.5)
    assert shown._repr_latex_() is None and str(shown).count("exp") > 8  # Jupyter then shows the text
    assert latex_of(ag.formula(chain(2, Value.sigmoid))).startswith(r"$\begin{aligned}")


def test_squaring_a_constant_times_x_is_exact_while_the_numbers_stay_readable() -> None:
    y = chain(12, lambda v: v * v * 0.5)  # y_k = y_(k-1)^2 / 2, so y_12 = x^4096 / 2^4095
    assert ag.to_sympy(y) == sp.Symbol("x", real=True) ** 4096 / sp.Integer(2) ** 4095


def test_a_custom_formula_with_a_symbol_of_its_own_keeps_it() -> None:
    shift = Op("shift", lambda v: v + 1.0, lambda g, v, out: (g,), formula=lambda sp, v: v + sp.Symbol("t"))
    x = leaf(2.0)
    shown = ag.formula(shift(x * 2.0))
    s, t = sp.Symbol("x", real=True), sp.Symbol("t")
    assert shown.expression == 2 * s + t and shown.derivatives["x"] == 2  # d(2x + t)/dx = 2
    assert shown.where == {"n1": 2 * s} and str(shown).endswith("where n1 = 2*x")


def test_a_short_leaky_relu_chain_is_a_piecewise_with_the_right_slopes() -> None:
    x = leaf(0.5)
    y = (x * 3.0).leaky_relu(0.1).leaky_relu(0.2)
    s = sp.Symbol("x", real=True)
    derivative = ag.formula(y).derivatives["x"]
    # x > 0: 3 x, then 3 x again: slope 3; x < 0: 0.1 * 3 x, then 0.2 * 0.3 x: slope 0.06
    assert derivative.subs(s, 0.5) == 3 and math.isclose(float(derivative.subs(s, -0.5)), 0.06, rel_tol=1e-12)

"""Graphs as sympy formulas: every op's form, names and constants, derivatives and chain-rule paths,
the budget on simplification, the depth sympy can recurse to, and every name defined."""

from __future__ import annotations

import math
import re
import sys
import time
from typing import Any

import pytest
import sympy as sp

import autograd as ag
import nn
from autograd import Op, Value
from tests.test_ops import BINARY, UNARY, x_, y_
from tests.test_viz import sigmoid_graph

x_sym, y_sym = sp.Symbol("x", real=True), sp.Symbol("y", real=True)


def latex_of(shown: ag.Formula) -> str:
    latex = shown._repr_latex_()
    assert latex is not None, "sympy took longer than LATEX_SECONDS to typeset it"
    return latex


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
    assert r"\frac{\partial F}{\partial x}" in latex_of(shown)


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
        (lambda: ag.to_sympy(sigmoid_graph()[1], max_nodes=None), TypeError, "max_nodes must be a positive int, got NoneType"),  # type: ignore[arg-type]  # noqa: E501
        (lambda: ag.formula(sigmoid_graph()[1], max_nodes=True), TypeError, "max_nodes must be a positive int, got bool True"),  # noqa: E501
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


# -- distinct leaves are distinct symbols, whatever their labels ------------------------------------


def symbol_names(expression: sp.Expr) -> set[str]:
    return {str(s) for s in expression.free_symbols}


def test_a_label_used_twice_and_a_label_like_its_suffix_stay_three_symbols():
    a, b, c = Value(1.0, label="x"), Value(2.0, label="x"), Value(3.0, label="x_2")
    f = a * b * c
    shown = ag.formula(f, wrt=[a, b, c])
    assert list(shown.derivatives) == ["x", "x_3", "x_2"]  # each label once first, then the first free suffix
    x, x_3, x_2 = (sp.Symbol(n, real=True) for n in ("x", "x_3", "x_2"))
    assert shown.expression == x * x_3 * x_2
    # d(abc)/dc = ab, d(abc)/da = bc: by hand
    assert shown.derivatives["x_2"] == x * x_3 and shown.derivatives["x"] == x_3 * x_2
    f.backward()
    assert float(shown.derivatives["x_2"].subs({x: 1.0, x_3: 2.0})) == c.grad == 2.0


@pytest.mark.parametrize(
    ("first", "second"),
    [("x2", "x_2"), ("alpha", "α"), ("lamda", "lambda"), ("x", "ｘ"), ("x__2", "x__2"), ("beta1", "beta_1")],
    ids=["x2 and x_2", "alpha and α", "lamda and lambda", "fullwidth x", "x__2 twice", "beta1 and beta_1"],
)
def test_labels_sympy_prints_alike_become_names_it_prints_apart(first: str, second: str):
    a, b = Value(1.0, label=first), Value(2.0, label=second)
    shown = ag.formula(a + 3 * b, wrt=[a, b])
    names = list(shown.derivatives)
    symbols = [sp.Symbol(name) for name in names]
    assert names[0] == first and names[1] != second  # the first keeps its label; the second gets a suffix
    assert len({sp.latex(s) for s in symbols}) == 2 and len({sp.pretty(s) for s in symbols}) == 2
    assert [shown.derivatives[n] for n in names] == [1, 3]  # d(a + 3b)/da = 1, d/db = 3


def test_labels_like_generated_names_push_the_generated_ones_along():
    labelled, plain = Value(1.0, label="x0"), Value(2.0)
    under = Value(3.0, label="x_1")  # shown as x₁, as x1 would be
    inner = labelled * plain
    inner.label = "n1"
    f = inner + under * Value(4.0)
    names = list(ag.formula(f).derivatives)
    assert names == ["x0", "x2", "x_1", "x3"] and len(symbol_names(ag.to_sympy(f))) == 4
    assert "      n2 = x3*x_1" in str(ag.formula(f))  # the computed node after the labelled n1 is n2


def test_the_names_are_stable_from_call_to_call():
    _, f = sigmoid_graph(0.5)
    g = (f * Value(2.0) + Value(3.0, label="x")).tanh()
    first, second = ag.formula(g), ag.formula(g)
    assert list(first.derivatives) == list(second.derivatives) == ["x", "x0", "x_2"]  # x as the formula reads it first
    assert first.chains == second.chains and first.where == second.where and first.expression == second.expression


# -- the budget on simplification ------------------------------------------------------------------


def tanh_network() -> tuple[dict[str, Value], Value]:
    """A 2-3-1 tanh network by hand: f = c + sum_j v_j tanh(w_j1 x1 + w_j2 x2 + b_j), every leaf labelled."""
    leaves = {"x1": Value(0.5, label="x1"), "x2": Value(-0.3, label="x2"), "c": Value(0.1, label="c")}
    f = leaves["c"]
    for j in (1, 2, 3):
        for name, data in ((f"w{j}1", 0.2 * j), (f"w{j}2", -0.1 * j), (f"b{j}", 0.05 * j), (f"v{j}", 0.3 - 0.2 * j)):
            leaves[name] = Value(data, label=name)
        pre = leaves[f"w{j}1"] * leaves["x1"] + leaves[f"w{j}2"] * leaves["x2"] + leaves[f"b{j}"]
        f = f + leaves[f"v{j}"] * pre.tanh()
    return leaves, f


def test_a_small_tanh_networks_formula_returns_in_seconds_and_its_derivatives_are_right():
    leaves, f = tanh_network()
    start = time.perf_counter()
    shown = ag.formula(f)  # sympy's simplify alone ran for minutes on d f/d x1
    assert time.perf_counter() - start < 10.0
    s = {name: sp.Symbol(name, real=True) for name in leaves}
    pre = [s[f"w{j}1"] * s["x1"] + s[f"w{j}2"] * s["x2"] + s[f"b{j}"] for j in (1, 2, 3)]
    by_hand = s["c"] + sum(s[f"v{j}"] * sp.tanh(pre[j - 1]) for j in (1, 2, 3))
    point = {s[name]: leaf.data for name, leaf in leaves.items()}
    assert set(shown.derivatives) == set(leaves)
    for name in leaves:
        assert numerically_equal(shown.derivatives[name], sp.diff(by_hand, s[name]), [point])


def test_without_time_to_simplify_a_derivative_is_shown_as_sympys_diff_gives_it(monkeypatch: pytest.MonkeyPatch):
    x = Value(2.0, label="x")
    f = x / (x + 1)
    assert ag.formula(f).derivatives["x"] == (x_sym + 1) ** -2  # simplified: 1/(x+1) - x/(x+1)^2 = 1/(x+1)^2
    monkeypatch.setattr("autograd.symbolic.SIMPLIFY_SECONDS", 0.0)
    assert ag.formula(f).derivatives["x"] == 1 / (x_sym + 1) - x_sym / (x_sym + 1) ** 2  # the same, longer


def test_a_simplification_cut_short_leaves_no_trace_function_behind(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("autograd.symbolic.SIMPLIFY_SECONDS", 0.05)
    before = sys.gettrace()
    _, f = tanh_network()
    start = time.perf_counter()
    ag.formula(f, wrt="x1")
    assert time.perf_counter() - start < 5.0 and sys.gettrace() is before


# -- depth: sympy recurses, so a formula too deep for the recursion limit is refused by name --------


def test_a_2000_node_chain_that_sympy_keeps_flat_works():
    x = Value(0.5, label="x")
    y = x
    for _ in range(999):
        y = y * 1.01 + 0.1  # 1999 nodes
    a, c, n = sp.Rational(101, 100), sp.Rational(1, 10), 999
    by_hand = a**n * x_sym + c * (a**n - 1) / (a - 1)  # y_n = a y_(n-1) + c, summed as a geometric series
    assert sp.expand(ag.to_sympy(y) - by_hand) == 0
    assert ag.formula(y).derivatives["x"] == a**n


@pytest.mark.parametrize(
    "step",
    [lambda y: y.tanh(), lambda y: y.sigmoid(), lambda y: (y * y + 1.0).log(), lambda y: y.sin(),
     lambda y: abs(y) + 1.0, lambda y: y.relu() * 2.0, lambda y: 1.0 / (y + 2.0), lambda y: y.sqrt() + 1.0],
    ids=["tanh", "sigmoid", "log", "sin", "abs", "relu", "reciprocal", "sqrt"],
)
def test_a_chain_within_max_nodes_works_or_is_refused_by_depth_never_by_recursion(step):
    x = Value(0.5, label="x")
    per_step = len(ag.operand_order([step(x)])) - 1
    y = x
    for _ in range(1_999 // per_step):
        y = step(y)
    for call in (ag.to_sympy, ag.formula):
        refusal = ""
        try:
            str(call(y))  # sympy keeps abs and relu chains flat (|(|x| + 1)| is |x| + 1): these work
        except ValueError as error:
            refusal = str(error)
        assert not refusal or re.search(r"at n\d+ \(\w+\), the formula nests \d+ levels deep.*max_nodes=2000", refusal)


def test_a_deep_chain_works_once_the_recursion_limit_makes_room():
    x = Value(0.5, label="x")
    y = x
    for _ in range(200):
        y = y.tanh()
    with pytest.raises(ValueError, match=r"recursion limit of 1000 leaves sympy room for \d+ here"):
        ag.to_sympy(y)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(6_000)
    try:
        expression = ag.to_sympy(y)
        by_hand = x_sym
        for _ in range(200):
            by_hand = sp.tanh(by_hand)
        assert expression == by_hand and str(expression).count("tanh") == 200
    finally:
        sys.setrecursionlimit(limit)


def test_a_formula_just_within_the_depth_prints_and_differentiates():
    x = Value(0.3, label="x")
    y = x
    for _ in range(50):
        y = y.tanh()
    shown = ag.formula(y)
    text, latex = str(shown), latex_of(shown)
    assert text.count("tanh") > 50 and latex.count(r"\tanh") > 50
    y.backward()
    assert math.isclose(float(shown.derivatives["x"].subs(x_sym, 0.3)), x.grad, rel_tol=1e-12)


# -- every name a formula uses is a label, an input, or defined under "where" ----------------------


def assert_every_name_is_defined(shown: ag.Formula) -> None:
    leaves = symbol_names(shown.expression) | set(shown.derivatives)
    known = leaves | set(shown.where) | {shown.name}
    for paths in shown.paths.values():
        for path in paths:
            assert path[0][0] == shown.name  # the root goes by one name
            for top, bottom, factor in path:
                assert {top, bottom} | symbol_names(factor) <= known
    for local in shown.where.values():
        assert symbol_names(local) <= known - {shown.name}


def test_unlabelled_nodes_are_defined_under_where_and_the_root_is_f_throughout():
    x, y = Value(2.0), Value(3.0)
    shown = ag.formula(x * x * y + 1)
    # by hand: f = x0^2 x1 + 1; n1 = x0^2, n2 = n1 x1; df/dn2 = 1, dn2/dn1 = x1, dn1/dx0 = 2 x0, dn2/dx1 = n1
    assert str(shown) == "\n".join([
        "f = x0**2*x1 + 1",
        "df/dx0 = 2*x0*x1",
        "    df/dn2 · dn2/dn1 · dn1/dx0 = (1) · (x1) · (2*x0)",
        "df/dx1 = x0**2",
        "    df/dn2 · dn2/dx1 = (1) · (n1)",
        "where n1 = x0**2",
        "      n2 = n1*x1",
    ])  # fmt: skip
    assert_every_name_is_defined(shown)


@pytest.mark.parametrize(
    "make",
    [lambda: sigmoid_graph(0.5)[1], lambda: tanh_network()[1], lambda: (Value(1.0) * Value(2.0)).exp() / Value(3.0),
     lambda: nn.cross_entropy([Value(0.5), Value(-1.0) * Value(2.0)], 1)],
    ids=["sigmoid", "tanh network", "unlabelled", "cross entropy"],
)
def test_every_name_in_a_formula_is_defined(make):
    assert_every_name_is_defined(ag.formula(make()))


def test_the_latex_has_the_texts_rows_in_the_same_order():
    x, f = sigmoid_graph(0.5)
    g = f * Value(2.0) + (x * x).exp()
    shown = ag.formula(g)
    text, latex = str(shown).splitlines(), latex_of(shown)
    rows = latex.removeprefix(r"$\begin{aligned}").removesuffix(r"\end{aligned}$").split(r" \\ ")
    assert len(rows) == len(text)
    assert rows[-len(shown.where)].startswith(r"\text{where } ") and text[-len(shown.where)].startswith("where ")
    summed = [k for k, line in enumerate(text) if "paths are summed" in line]
    assert summed and all(r"\text{(the 2 paths are summed)}" in rows[k] for k in summed)


def test_the_readme_sigmoid_keeps_its_lines_and_defines_its_steps():
    _, f = sigmoid_graph(0.5)
    assert str(ag.formula(f)).splitlines() == [
        "F = 1/(1 + exp(-x))",
        "dF/dx = exp(-x)/(1 + exp(-x))**2",
        "    dF/dC · dC/dB · dB/dA · dA/dx = (-1/C**2) · (1) · (exp(A)) · (-1)",
        "where A = -x",
        "      B = exp(A)",
        "      C = B + 1",
    ]


@pytest.mark.parametrize("finalizer", ["__del__", "generator"])
def test_running_out_of_time_inside_a_finalizer_still_stops_the_task(finalizer: str, monkeypatch: pytest.MonkeyPatch):
    # Past the deadline, the collector runs a finalizer; time runs out inside it, where Python reports the raise
    # as unraisable, unsets the tracer and goes on. The task must still stop at its next call, with nothing
    # reported, and the tracer and the hook must be given back.
    from autograd.deadline import before

    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    finished: list[str] = []

    def note(word: str) -> None:
        finished.append(word)

    class Held:
        def __del__(self) -> None:
            note("finalizer")

    def suspended() -> Any:
        try:
            yield 1
        finally:
            note("finalizer")

    def task() -> str:
        held: Any = Held() if finalizer == "__del__" else suspended()
        if finalizer == "generator":
            next(held)  # started, so that dropping it runs its finally
        time.sleep(0.02)  # past the deadline from here on
        del held  # the finalizer runs now, and time runs out inside it
        note("task")
        return "done"

    tracer = sys.gettrace()
    assert before(time.perf_counter() + 0.01, task) is None
    assert "task" not in finished
    assert unraisable == []
    assert sys.gettrace() is tracer and sys.unraisablehook == unraisable.append
    assert before(time.perf_counter() + 60, lambda: "quick") == "quick"  # an unexpired task runs as it is

"""The gradient-testing toolkit: passes on right derivatives, names the wrong input, rule or derivation."""

from __future__ import annotations

import math
import re
import textwrap
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import GradientCheckError, Op, Value
from autograd.testing import GradientChecker

# Matt Mazur's 2-2-2 worked example; its published gradients.
X = (0.05, 0.10)
T = (0.01, 0.99)
W = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)
PUBLISHED = {"w5": 0.082167041, "w1": 0.000438568}

CUBE = Op("cube", lambda x: x**3, lambda g, x, out: (3 * g * x**2,))
WRONG_CUBE = Op("cube", lambda x: x**3, lambda g, x, out: (2 * g * x**2,))  # the classic slip: 2 for 3
FLOAT_EXP = Op("float_exp", math.exp, lambda g, x, out: (g * math.exp(x),))  # right once, cannot go twice


def seed_004_loss() -> tuple[Value, dict[str, Value]]:
    w = {f"w{i + 1}": Value(v, label=f"w{i + 1}") for i, v in enumerate(W)}
    net_h1 = (w["w1"] * X[0] + w["w2"] * X[1] + 0.35).sigmoid()
    net_h2 = (w["w3"] * X[0] + w["w4"] * X[1] + 0.35).sigmoid()
    net_o1 = w["w5"] * net_h1 + w["w6"] * net_h2 + 0.60
    net_o1.label = "net_o1"
    o1 = net_o1.sigmoid()
    o2 = (w["w7"] * net_h1 + w["w8"] * net_h2 + 0.60).sigmoid()
    return 0.5 * (T[0] - o1) ** 2 + 0.5 * (T[1] - o2) ** 2, w


def seed_004_by_hand() -> dict[str, float]:
    """dE/dw by the chain rule with plain floats: delta_o = (o - t) o (1 - o), dE/dw5 = delta_o1 h1, ..."""
    s = lambda z: 1 / (1 + math.exp(-z))
    h1, h2 = s(W[0] * X[0] + W[1] * X[1] + 0.35), s(W[2] * X[0] + W[3] * X[1] + 0.35)
    o1, o2 = s(W[4] * h1 + W[5] * h2 + 0.6), s(W[6] * h1 + W[7] * h2 + 0.6)
    delta_o1, delta_o2 = (o1 - T[0]) * o1 * (1 - o1), (o2 - T[1]) * o2 * (1 - o2)
    delta_h1 = (delta_o1 * W[4] + delta_o2 * W[6]) * h1 * (1 - h1)
    delta_h2 = (delta_o1 * W[5] + delta_o2 * W[7]) * h2 * (1 - h2)
    return {
        "w1": delta_h1 * X[0], "w2": delta_h1 * X[1], "w3": delta_h2 * X[0], "w4": delta_h2 * X[1],
        "w5": delta_o1 * h1, "w6": delta_o1 * h2, "w7": delta_o2 * h1, "w8": delta_o2 * h2,
        "net_o1": delta_o1,
    }  # fmt: skip


# -- gradcheck --------------------------------------------------------------------------------


def test_gradcheck_rows_carry_the_engine_and_the_numeric_derivative():
    report = ag.gradcheck(lambda x, y: x * y + x.exp(), 1.0, 2.0)
    assert report.passed and bool(report)
    x_row, y_row = report.rows
    assert (x_row.name, y_row.name) == ("x", "y")
    assert x_row.engine == pytest.approx(2.0 + math.e, rel=1e-15)  # d/dx = y + e^x by hand
    assert x_row.numeric == pytest.approx(2.0 + math.e, rel=1e-8)
    assert y_row.engine == 1.0
    assert x_row.abs_error == pytest.approx(abs(x_row.engine - x_row.numeric))
    assert x_row.abs_error < 1e-8 and x_row.rel_error < 1e-8
    table = str(report)
    assert "gradcheck of f at x=1, y=2: passed" in table
    assert "engine" in table and "finite diff." in table and "rel error" in table


def test_gradcheck_names_list_arguments_and_labels():
    report = ag.gradcheck(lambda w, b: ag.dot(w, [1.0, 2.0]) + b * b, [0.5, -1.0], Value(3.0, label="bias"))
    assert [row.name for row in report.rows] == ["w[0]", "w[1]", "bias"]
    assert [row.engine for row in report.rows] == [1.0, 2.0, 6.0]  # d/dw = x, d/db = 2b


def test_gradcheck_order_2_compares_every_second_derivative():
    report = ag.gradcheck(lambda x, y: x * x * y + y.sin(), 3.0, 2.0, order=2)
    assert report.passed
    seconds = {row.name: row.engine for row in report.rows[2:]}
    # f = x²y + sin y: f_xx = 2y, f_xy = 2x, f_yy = -sin y
    assert seconds["d²/dx²"] == pytest.approx(4.0)
    assert seconds["d²/dx dy"] == pytest.approx(6.0) and seconds["d²/dy dx"] == pytest.approx(6.0)
    assert seconds["d²/dy²"] == pytest.approx(-math.sin(2.0))


def test_gradcheck_names_the_op_whose_rule_is_wrong():
    assert ag.gradcheck(lambda x: CUBE(x) + x, 2.0).passed
    report = ag.gradcheck(lambda x: WRONG_CUBE(x) + x, 2.0)
    assert not report.passed
    (row,) = report.failures
    assert row.engine == 2 * 4 + 1 and row.numeric == pytest.approx(3 * 4 + 1)
    assert "engine differs from finite differences" in row.verdict
    assert any("'cube'" in note and "looks wrong" in note for note in report.notes)
    assert "'cube'" in str(report)


def test_gradcheck_catches_a_computation_that_leaves_the_graph():
    report = ag.gradcheck(lambda x: Value(x.data) * x, 3.0)  # x.data hides one factor from the engine
    assert not report.passed
    assert report.rows[0].engine == 3.0 and report.rows[0].numeric == pytest.approx(6.0)
    assert "outside the graph" in report.notes[0]


def test_gradcheck_order_2_catches_a_rule_that_only_works_on_floats():
    assert ag.gradcheck(lambda x: FLOAT_EXP(x), 0.5).passed
    report = ag.gradcheck(lambda x: FLOAT_EXP(x), 0.5, order=2)
    assert [row.name for row in report.failures] == ["d²/dx²"]
    assert report.failures[0].numeric == pytest.approx(math.exp(0.5), rel=1e-6)


def test_gradcheck_says_kink_instead_of_failing():
    report = ag.gradcheck(lambda x: (x - 1.0).relu() * 2.0, 1.0)  # relu's argument is exactly 0
    (row,) = report.rows
    assert row.engine == 0.0 and row.numeric == pytest.approx(1.0)  # the convention vs the average of 0 and 2
    assert row.verdict.startswith("kink: relu") and row.passed
    near = ag.gradcheck(lambda x: abs(x), 1e-7)  # the first step straddles 0, smaller ones do not
    assert near.rows[0].verdict == "ok" and near.rows[0].numeric == pytest.approx(1.0)
    smooth = ag.gradcheck(lambda x: x * abs(x), 0.0)  # differentiable at its kink: f'(0) = 0
    assert smooth.passed and smooth.rows[0].engine == 0.0
    close_kinks = ag.gradcheck(lambda x: (x + 1e-7).relu() - (x - 5e-7).relu(), 0.0)  # f = x + 1e-7 near 0
    assert close_kinks.passed and close_kinks.rows[0].engine == 1.0


def test_gradcheck_reports_points_outside_the_domain():
    report = ag.gradcheck(lambda x: x * 1.0 if x.data == 1.0 else Value(-1.0).log(), 1.0)  # defined at 1 only
    assert not report.passed and report.rows[0].kind == "undefined"
    assert report.rows[0].verdict.startswith("inconclusive: cannot decide: finite differences cannot be taken here: f(")
    assert "log: argument must be positive" in report.rows[0].verdict  # why: the error f raised there
    assert ag.gradcheck(lambda x: x.log(), 5e-7).passed  # the steps shrink to stay inside the domain


def test_gradcheck_raises_with_the_table():
    with pytest.raises(GradientCheckError, match=r"(?s)FAILED.*cube") as caught:
        ag.gradcheck(lambda x: WRONG_CUBE(x), 2.0, raise_on_failure=True)
    assert isinstance(caught.value, AssertionError)
    assert not caught.value.report.passed


def test_gradcheck_bad_input():
    with pytest.raises(TypeError, match=r"gradcheck: argument x must be a real number, got str '1\.0'"):
        ag.gradcheck(lambda x: x, "1.0")
    with pytest.raises(ValueError, match="order must be 1 or 2, got 3"):
        ag.gradcheck(lambda x: x, 1.0, order=3)
    with pytest.raises(ValueError, match="at least one number to differentiate"):
        ag.gradcheck(lambda: Value(1.0))
    with pytest.raises(TypeError, match=r"must return a scalar.*list"):
        ag.gradcheck(lambda x: [x, x], 1.0)


def test_gradcheck_leaves_the_callers_values_alone():
    x = Value(2.0)
    x.grad = 5.0
    ag.gradcheck(lambda v: v * v, x)
    assert x.grad == 5.0


# -- check_gradients: hand derivations ----------------------------------------------------------


def test_check_gradients_passes_a_right_hand_derivation():
    loss, w = seed_004_loss()
    hand = seed_004_by_hand()
    report = ag.check_gradients(loss, hand)
    assert report.passed, report
    assert [row.name for row in report.rows] == list(hand)
    assert loss.data == pytest.approx(0.298371109, abs=1e-9)  # the published total error
    assert all(v.grad == 0.0 for v in w.values())  # nothing written to .grad
    hand_by_value: dict[Value | str, float] = {w["w5"]: PUBLISHED["w5"], "w1": PUBLISHED["w1"]}
    published = ag.check_gradients(loss, hand_by_value, atol=1e-9)
    assert published.passed, published


def test_check_gradients_pins_a_sign_error_on_the_hand_derivation():
    loss, _ = seed_004_loss()
    hand = seed_004_by_hand()
    hand["w1"] = -hand["w1"]
    report = ag.check_gradients(loss, hand)
    assert [row.name for row in report.failures] == ["w1"]
    assert report.failures[0].verdict == "WRONG: hand derivation differs (opposite sign)"
    assert "hand" in str(report).splitlines()[1]


def test_check_gradients_pins_a_wrong_hand_derivation():
    loss, _ = seed_004_loss()
    hand = seed_004_by_hand()
    hand["w6"] = hand["w5"]  # h1 where h2 belongs
    report = ag.check_gradients(loss, hand)
    assert [row.name for row in report.failures] == ["w6"]
    assert report.failures[0].verdict == "WRONG: hand derivation differs"


def test_check_gradients_blames_the_code_when_the_hand_agrees_with_finite_differences():
    x = Value(2.0, label="x")
    loss = x * WRONG_CUBE(x) / x
    report = ag.check_gradients(loss, {"x": 12.0})  # d(x³)/dx = 3x² = 12
    (row,) = report.failures
    assert row.engine == 8.0 and row.numeric == pytest.approx(12.0)
    assert "engine differs; hand and finite differences agree" in row.verdict
    assert any("'cube'" in note for note in report.notes)


def test_check_gradients_bad_input():
    loss, w = seed_004_loss()
    with pytest.raises(ValueError, match=r"no node labelled 'w9'.*'w1'"):
        ag.check_gradients(loss, {"w9": 1.0})
    twice = w["w1"] * w["w2"]
    clash = Value(1.0, label="w1") + twice
    with pytest.raises(ValueError, match="2 nodes are labelled 'w1'"):
        ag.check_gradients(clash, {"w1": 1.0})
    with pytest.raises(TypeError, match="expected gradient for 'w1' must be a real number, got str 'a'"):
        ag.check_gradients(loss, {"w1": "a"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keys must be Values or labels, got int"):
        ag.check_gradients(loss, {1: 1.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="loss must be a Value, got float"):
        ag.check_gradients(1.0, {"w1": 1.0})  # type: ignore[arg-type]


def test_assert_gradients_close_puts_the_table_in_the_assertion():
    loss, _ = seed_004_loss()
    assert ag.assert_gradients_close(loss, seed_004_by_hand()).passed
    with pytest.raises(AssertionError) as caught:
        ag.assert_gradients_close(loss, {"w5": PUBLISHED["w5"], "w2": 0.0})
    message = str(caught.value)
    assert "check_gradients of the loss" in message and "FAILED (1 of 2 wrong)" in message
    assert next(line for line in message.splitlines() if line.strip().startswith("w2")).endswith("differs")


# -- check_parameters: models -------------------------------------------------------------------


def test_check_parameters_on_an_mlp_names_every_parameter():
    model = nn.MLP(2, [3, 2], activation="tanh", seed=0)
    loss = nn.cross_entropy(model([0.5, -1.5]), 1)
    report = ag.check_parameters(loss, model)
    assert report.passed, report
    assert [row.name for row in report.rows] == [name for name, _ in model.named_parameters()]
    assert "layers.0.neurons.2.w.1" in str(report)
    assert all(p.grad == 0.0 for p in model.parameters())


def test_check_parameters_finds_a_wrong_activation_rule(monkeypatch: pytest.MonkeyPatch):
    bad_tanh = Op("tanh", math.tanh, lambda g, x, out: (g * (1.0 + out * out),))  # sign slip in 1 - tanh²
    monkeypatch.setitem(nn.layers.ACTIVATIONS, "tanh", bad_tanh)
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    loss = nn.mse(model([0.5, -1.5]), 1.0)
    report = ag.check_parameters(loss, dict(model.named_parameters()))
    failed = {row.name for row in report.failures}
    assert failed and all(name.startswith("layers.0.") for name in failed)  # the output layer is linear
    assert any("'tanh'" in note for note in report.notes)


def test_check_parameters_bad_input():
    with pytest.raises(TypeError, match="parameter 'a' must be a Value, got float"):
        ag.check_parameters(Value(1.0), {"a": 1.0})


# -- check_op: custom rules ----------------------------------------------------------------------


def test_check_op_passes_the_built_in_rules_to_second_order():
    from autograd import rules

    points = {
        rules.EXP: (0.3,), rules.LOG: (1.7,), rules.SQRT: (2.0,), rules.TANH: (-0.4,), rules.SIGMOID: (0.8,),
        rules.SOFTPLUS: (-1.2,), rules.SIN: (1.0,), rules.COS: (2.0,), rules.MUL: (1.5, -2.0),
        rules.DIV: (1.5, -2.0), rules.POW: (1.5, 2.5), rules.POW_CONST: (1.5, 3.0), rules.RPOW: (0.7, 2.0),
        rules.DOT: (1.0, 2.0, 3.0, 4.0), rules.SUM: (1.0, 2.0, 3.0), rules.LEAKY_RELU: (-0.5, 0.1),
    }  # fmt: skip
    for op, point in points.items():
        report = ag.check_op(op, *point, order=2)
        assert report.passed, report


def test_check_op_names_the_op_and_its_input():
    report = ag.check_op(WRONG_CUBE, 2.0)
    assert report.title.startswith("check_op 'cube' at x=2")
    (row,) = report.failures
    assert row.name == "dcube/dx" and row.engine == 8.0 and row.numeric == pytest.approx(12.0)
    assert ag.check_op(CUBE, 2.0, order=2).passed
    leaky = ag.check_op(ag.rules.LEAKY_RELU, -0.5, 0.1)
    assert [row.name for row in leaky.rows] == ["dleaky_relu/dx"]  # the slope is a constant parameter


def test_check_op_second_order_says_why_a_rule_cannot_be_differentiated():
    report = ag.check_op(FLOAT_EXP, 0.5, order=2)
    assert [row.name for row in report.failures] == ["d²float_exp/dx²"]
    assert "write it with ops" in report.notes[0]
    with pytest.raises(TypeError, match="expected an Op, got builtin_function_or_method"):
        ag.check_op(math.exp, 1.0)  # type: ignore[arg-type]


# -- the report ---------------------------------------------------------------------------------


def test_report_html_marks_failed_rows():
    html = ag.check_op(WRONG_CUBE, 2.0)._repr_html_()
    assert "<table>" in html and "color:#c0392b" in html and "dcube/dx" in html


def test_checker_uses_its_tolerances():
    loose = GradientChecker(atol=10.0)
    assert loose(lambda x: WRONG_CUBE(x), 2.0).passed
    with pytest.raises(GradientCheckError):
        GradientChecker()(lambda x: WRONG_CUBE(x), 2.0)


# -- the pytest plugin --------------------------------------------------------------------------


def test_pytest_plugin_gives_the_gradcheck_fixture(pytester: pytest.Pytester):
    pytester.makepyfile(
        textwrap.dedent(
            """
            from autograd import Op, Value

            def test_right(gradcheck):
                gradcheck(lambda x: x.tanh() * x, 0.3, order=2)
                x = Value(2.0, label="x")
                gradcheck.gradients(x * x, {"x": 4.0})

            def test_wrong_rule(gradcheck):
                square = Op("square", lambda x: x * x, lambda g, x, out: (g * x,))
                gradcheck(lambda x: square(x), 3.0)
            """
        )
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*GradientCheckError: gradcheck of f at x=3: FAILED (1 of 1 wrong)*", "*op 'square' looks wrong*"]
    )


def test_pytest_plugin_reads_its_tolerances_from_the_ini_file(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\ngradcheck_atol = 100\n")
    pytester.makepyfile(
        textwrap.dedent(
            """
            from autograd import Op

            def test_wrong_but_tolerated(gradcheck):
                assert gradcheck.tolerances.atol == 100.0
                gradcheck.op(Op("square", lambda x: x * x, lambda g, x, out: (g * x,)), 3.0)
            """
        )
    )
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makeini("[pytest]\ngradcheck_rtol = tight\n")
    result = pytester.runpytest()
    assert result.ret != 0 and "'tight'" in result.stderr.str()  # pytest (>= 8.4) or the plugin refuses it
    pytester.makeini("[pytest]\ngradcheck_eps = -1\n")
    pytester.runpytest().stderr.fnmatch_lines(["*gradcheck ini options: GradientChecker: eps must be > 0, got -1.0*"])


# -- what a careless check would let through ------------------------------------------------------

NO_G = Op("cube", lambda x: x**3, lambda g, x, out: (3 * x**2,))  # forgets the upstream gradient
HALF_MUL = Op("half_mul", lambda x, y: x * y, lambda g, x, y, out: (g * y,))  # no partial for y


def test_a_rule_that_forgets_the_upstream_gradient_is_caught():
    report = ag.check_op(NO_G, 2.0)
    (row,) = report.failures
    assert row.engine == 12.0 and row.numeric == pytest.approx(12.0)  # right at g = 1 ...
    assert "not proportional to the upstream gradient g" in row.verdict  # ... but 12 again at g = 0.7
    through = ag.gradcheck(lambda x: NO_G(x) * 5.0, 2.0)  # true 5 * 3x² = 60; the engine passes 3x² on
    assert through.rows[0].engine == 12.0 and through.rows[0].numeric == pytest.approx(60.0)
    assert "'cube' ignores the upstream gradient g" in through.notes[0]


def test_small_gradients_are_checked_relative_to_their_size():
    tiny = ag.gradcheck(lambda x: WRONG_CUBE(x), 1e-3)  # 2e-6 instead of 3e-6
    assert not tiny.passed and tiny.rows[0].numeric == pytest.approx(3e-6, rel=1e-6)
    loss, _ = seed_004_loss()
    typo = seed_004_by_hand()
    typo["w1"] = 0.000439568  # a single wrong digit in 0.000438568 (0.23 % off)
    assert [row.name for row in ag.check_gradients(loss, typo).failures] == ["w1"]
    x = Value(0.5, label="x")
    assert not ag.check_gradients(1e-6 * x * x, {"x": 0.0}).passed  # the true value is 1e-6


def test_a_kink_elsewhere_does_not_excuse_a_wrong_row():
    report = ag.gradcheck(lambda x, y: WRONG_CUBE(x) + y.relu(), 2.0, 0.0)
    x_row, y_row = report.rows
    assert x_row.kind == "engine" and y_row.kind == "kink"
    assert not ag.gradcheck(lambda x: WRONG_CUBE(x) + Value(0.0).relu(), 2.0).passed


def test_at_a_kink_the_value_must_lie_between_the_one_sided_slopes():
    w = Value(0.0, label="w")
    loss = (w * 2.0).relu()  # slopes 0 (left) and 2 (right)
    assert ag.check_gradients(loss, {"w": 1.0}).rows[0].kind == "kink"  # a subgradient is fine
    outside = ag.check_gradients(loss, {"w": 5.0}).rows[0]
    assert outside.kind == "hand" and "outside" in outside.verdict
    assert ag.check_op(ag.rules.RELU, 0.0).rows[0].kind == "kink"


def test_finite_differences_that_cannot_decide_say_so():
    assert ag.gradcheck(lambda x: x.log(), 1e-4).passed  # 1/x = 10000: the extrapolation keeps up
    assert ag.gradcheck(lambda x: x * 2.0, 1e10).passed  # the step grows with |x|
    for f, x in [(lambda a: 1 / a, 1e-5), (lambda a: a**-2, 1.4e-5), (lambda a: a.sqrt(), 4e-6)]:
        assert ag.gradcheck(f, x).passed  # near a pole or a domain edge, and still no correct rule blamed
    jump = ag.gradcheck(lambda x: x * 1.0 if x.data <= 0 else x + 1.0, 0.0).rows[0]  # f jumps by 1 at 0
    assert jump.kind == "unsettled" and jump.verdict.startswith("inconclusive")
    noisy = ag.gradcheck(lambda x: x + 1e12, 1.0).rows[0]  # 1e12 leaves rounding noise of ±1e-4 in a step of 1e-3
    assert noisy.passed and noisy.referee == "complex step" and noisy.exact == 1.0  # which the complex step has not
    plain_add = Op("plain_add", lambda x, y: x + y, lambda g, x, y, out: (g, g))  # no complex forward
    noisy = ag.gradcheck(lambda x: plain_add(x, 1e12), 1.0).rows[0]
    assert noisy.passed and noisy.referee == "finite differences" and "within the" in noisy.verdict
    branch = ag.gradcheck(lambda x: x * x if x > 0 else -x, 0.0)  # f branches on x, at x: no derivative there
    assert branch.rows[0].kind == "unsettled" and "a branch on x" in branch.rows[0].verdict
    outside = ag.gradcheck(lambda x: x * math.exp(x.data), 1.0)  # e^x read as a number: d/dx = e, not 2e
    assert outside.rows[0].kind == "engine" and "outside the graph" in outside.notes[0]


def test_a_missing_partial_is_named():
    report = ag.gradcheck(lambda x, y: HALF_MUL(x, y), 2.0, 3.0)
    assert [row.name for row in report.failures] == ["y"]
    assert "'half_mul' gives no derivative for its input 2" in report.notes[0]
    assert "no derivative for y: treated as constant" in ag.check_op(HALF_MUL, 2.0, 3.0).notes[0]


def test_gradcheck_of_a_function_that_differentiates_inside():
    report = ag.gradcheck(lambda x: ag.grad(lambda y: y**3)(x), 2.0)  # d/dx 3x² = 6x
    assert report.passed and report.rows[0].engine == pytest.approx(12.0)


def test_checks_refuse_to_pass_on_nothing():
    model, other = nn.MLP(2, [3, 1], seed=0), nn.MLP(2, [3, 1], seed=1)
    loss = nn.mse(model([0.5, -1.5]), 1.0)
    with pytest.raises(ValueError, match="none of the 13 parameters is in the graph"):
        ag.check_parameters(loss, other)
    with ag.no_grad():
        untracked = nn.mse(model([0.5, -1.5]), 1.0)
    with pytest.raises(ValueError, match="no_grad"):
        ag.check_parameters(untracked, model)
    with pytest.raises(ValueError, match="nothing to check"):
        ag.check_parameters(loss, {})
    with pytest.raises(ValueError, match="nothing to check"):
        ag.check_gradients(loss, {})
    x = Value(2.0, label="x")
    with pytest.raises(ValueError, match=r"'x' \(data=2.0\) is not in the graph of the loss"):
        ag.check_gradients(x * x, {x.detach(): 4.0})
    with pytest.raises(ValueError, match="give the inputs at which to check 'sum'"):
        ag.check_op(ag.rules.SUM)


def test_a_stale_graph_is_refused():
    w = Value(1.0, label="w")
    loss = (w * 3.0).tanh()
    w.data = 2.0  # as an optimizer step would
    with pytest.raises(ValueError, match=r"the graph is stale.*Compute the loss again"):
        ag.check_gradients(loss, {"w": 1.0})


def test_settings_and_arguments_are_validated():
    f = lambda x: x.exp()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"eps": 0.0}, "eps must be > 0, got 0.0"), ({"eps": -1e-6}, "eps must be > 0"),
        ({"atol": -1.0}, "atol must be >= 0"), ({"rtol": math.nan}, "rtol must be finite, got nan"),
        ({"order": True}, "order must be 1 or 2, got True"), ({"order": 2.0}, "order must be 1 or 2, got 2.0"),
    ]  # fmt: skip
    for bad, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            ag.gradcheck(f, 1.0, **bad)
    with pytest.raises(TypeError, match="gradcheck: eps must be a real number, got str 'a'"):
        ag.gradcheck(f, 1.0, eps="a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gradcheck: argument x must be finite, got nan"):
        ag.gradcheck(f, math.nan)
    assert ag.gradcheck(lambda x: x * x, np.int64(2)).rows[0].engine == 4.0
    assert ag.gradcheck(lambda x: x * x, Fraction(1, 2)).rows[0].engine == 1.0


def test_check_op_errors_name_the_op():
    with pytest.raises(ZeroDivisionError, match=r"check_op: the rule of 'sqrt' fails at \(0\)"):
        ag.check_op(ag.rules.SQRT, 0.0)
    with pytest.raises(TypeError, match=r"check_op: the forward of 'exp' fails at \(1, 2\)"):
        ag.check_op(ag.rules.EXP, 1.0, 2.0)
    with pytest.raises(TypeError, match="rule of 'three' must return a tuple of at most 1 derivatives"):
        ag.check_op(Op("three", lambda x: x, lambda g, x, out: (g, g, g)), 1.0)
    with pytest.raises(TypeError, match="rule of 'bare' must return a tuple"):
        ag.check_op(Op("bare", lambda x: x, lambda g, x, out: g), 1.0)
    with pytest.raises(TypeError, match=r"rule of 'none' returned a non-number among \(None,\)"):
        ag.check_op(Op("none", lambda x: x, lambda g, x, out: (None,)), 1.0)  # type: ignore[arg-type,return-value]


def test_check_parameters_takes_values_and_names_repeats_apart():
    model = nn.MLP(2, [2, 1], seed=0)
    loss = nn.mse(model([0.5, -1.5]), 1.0)
    report = ag.check_parameters(loss, model.parameters())
    assert report.passed and report.rows[0].name == "[0] w0"  # every neuron has a w0
    with pytest.raises(TypeError, match="check_parameters: loss must be a Value, got float"):
        ag.check_parameters(1.0, model)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="check_gradients: expected must map Values or labels to numbers: NoneType"):
        ag.check_gradients(loss, None)  # type: ignore[arg-type]


def test_pytest_fixture_takes_tolerances_per_call_and_from_toml(pytester: pytest.Pytester):
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\ngradcheck_rtol = 0.5\n")
    pytester.makepyfile(
        textwrap.dedent(
            """
            from autograd import Op

            square = Op("square", lambda x: x * x, lambda g, x, out: (1.5 * g * x,))  # 4.5 for 6 at x = 3

            def test_tolerated_by_the_toml_setting(gradcheck):
                assert repr(gradcheck) == "GradientChecker(eps=0.001, atol=1e-15, rtol=0.5)"
                gradcheck.op(square, 3.0)

            def test_tightened_for_one_call(gradcheck):
                gradcheck.op(square, 3.0, rtol=1e-5)
            """
        )
    )
    pytester.runpytest().assert_outcomes(passed=1, failed=1)



# -- found by a second review: false passes, wrong blame, false failures -----------------------------


def test_a_two_percent_error_is_caught_next_to_large_values():
    wrong_sin = Op("mysin", math.sin, lambda g, x, out: (g * 1.02 * ag.cos(x),))
    report = ag.gradcheck(lambda x, y: wrong_sin(x) + y**3, 0.5, 100.0)  # y³ = 10⁶ once made noise
    assert [row.name for row in report.failures] == ["x"] and "'mysin' looks wrong" in report.notes[0]
    a, t = Value(0.5, label="a"), Value(5000.0, label="t")
    loss = wrong_sin(a) * (-t / 1000.0).exp()
    hand = math.cos(0.5) * math.exp(-5)  # right by hand
    row = ag.check_gradients(loss, {"a": hand}).rows[0]
    assert row.kind == "engine" and "hand and finite differences agree" in row.verdict


def test_correct_code_passes_where_the_gradient_is_small_next_to_the_value():
    assert ag.gradcheck(lambda x: (x - 3.0) ** 2 + 100.0, 3.0000001).passed
    assert ag.gradcheck(lambda x: 50 * x.cos(), 1e-7).passed
    assert ag.gradcheck(lambda a, b, c: nn.cross_entropy([a, b, c], 0), 15.0, 0.0, 1.0).passed
    weights = np.random.default_rng(0).normal(0, 10, 200)
    assert ag.gradcheck(lambda w: ag.dot(w, w).sqrt(), weights).passed  # a numpy vector as the argument
    x = Value(3.0000001, label="x")
    row = ag.check_gradients((x - 3.0) ** 2 + 100.0, {"x": -1.0}).rows[0]
    assert row.kind == "hand"


def test_tiny_functions_are_not_excused_by_atol():
    assert not ag.gradcheck(lambda x: WRONG_CUBE(x) * 1e-10, 2.0).passed


def test_a_rule_at_the_root_that_ignores_g_is_still_caught():
    report = ag.gradcheck(lambda x: NO_G(x), 2.0)  # backward starts with g = 1, where the slip is invisible
    assert not report.passed and report.failures[0].name == "rule of 'cube', input 1"
    w = Value(2.0, label="w")
    assert not ag.check_parameters(Value(1.0) * NO_G(w), [w]).passed


def test_a_parameter_cut_off_from_the_loss_fails():
    neuron = nn.Neuron(2, activation="linear", seed=np.random.default_rng(0))
    loss = ag.dot(neuron.w, [1.0, 2.0]) + neuron.b.data  # the bug: .data detaches the bias
    (row,) = ag.check_parameters(loss, neuron).failures
    assert row.name == "b" and "not in the loss's graph" in row.verdict


def test_eps_is_a_relative_step():
    with pytest.raises(ValueError, match=r"eps is a relative step and must be at most 0\.1, got 10"):
        ag.gradcheck(lambda x: x, 1.0, eps=10)


def test_a_rule_with_the_wrong_signature_is_named_in_backward():
    two_arguments = Op("bad", lambda x: 2 * x, lambda g, x: (2 * g,))
    with pytest.raises(TypeError, match=r"backward of bad: its derivative rule must be vjp\(g, \*inputs, out\)"):
        ag.gradcheck(lambda x: two_arguments(x), 1.0)


def test_pytest_fixture_settings_do_not_leak_between_tests(pytester: pytest.Pytester):
    pytester.makepyfile(
        textwrap.dedent(
            """
            import dataclasses

            from autograd import Op

            wrong = Op("square", lambda x: x * x, lambda g, x, out: (g * x,))

            def test_loosens_its_own_checker(gradcheck):
                gradcheck.tolerances = dataclasses.replace(gradcheck.tolerances, rtol=100.0)
                gradcheck.op(wrong, 3.0)

            def test_gets_a_fresh_checker(gradcheck):
                gradcheck.op(wrong, 3.0)
            """
        )
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1, failed=1)

"""Gradient checks to machine precision: the complex-step referee and hand values read at the digits typed.

Every expected number here comes from a hand derivation (d x³ = 3x², d cos = -sin, the 2-2-2 network's
deltas worked with plain floats), from Python's own rounding of it, or from a published worked example;
none is taken from the checks under test.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable

import pytest

import autograd as ag
from autograd import Op, Value, rules
from autograd.testing import GradientChecker
from autograd.testing.tolerances import HandPrecision, typed_digits
from tests.test_testing import seed_004_by_hand, seed_004_loss


def cube(factor: float = 1.0, *, complex_forward: bool = True) -> Op:
    """x³ with a rule ``factor`` times the true 3x²: 1 + 1e-12 is a slip in the twelfth digit."""
    return Op(
        "cube", lambda x: x**3, lambda g, x, out: (factor * 3.0 * g * x * x,),
        complex_forward=(lambda z: z * z * z) if complex_forward else None,
    )  # fmt: skip


# -- the referee ---------------------------------------------------------------------------------


def test_a_rule_off_in_its_twelfth_digit_is_caught_by_the_complex_step():
    slightly_wrong = cube(1 + 1e-12)
    for report in (ag.gradcheck(lambda x: slightly_wrong(x), 0.7), ag.check_op(slightly_wrong, 0.7)):
        assert not report.passed, report
        assert report.failures[0].kind == "engine" and report.failures[0].referee == "complex step", report
    assert ag.gradcheck(lambda x: cube()(x), 0.7).rows[0].referee == "complex step"
    # Finite differences cannot see so small a slip: without a complex forward the referee changes, and says so.
    row = ag.gradcheck(lambda x: cube(1 + 1e-12, complex_forward=False)(x), 0.7).rows[0]
    assert row.referee == "finite differences" and row.passed


def test_a_slip_in_one_op_of_a_composition_is_named():
    bent_tanh = Op("bent_tanh", math.tanh, lambda g, x, out: (g * (1 - out * out) * (1 + 1e-11),),
                   complex_forward=cmath.tanh)  # fmt: skip
    report = ag.gradcheck(lambda w, x: (bent_tanh(w * x + 0.3) - 0.5) ** 2, 0.8, -1.1)
    assert not report.passed and {row.kind for row in report.failures} == {"engine"}, report
    assert any("'bent_tanh' looks wrong" in note for note in report.notes), report


@pytest.mark.parametrize(
    ("f", "x", "derivative"),
    [
        (lambda x: x.cos() * 2.0, 3.0e8, -2.0 * math.sin(3.0e8)),  # the step of finite differences is beyond the period
        (lambda x: x.exp(), 700.0, math.exp(700.0)),  # e^700.7 would overflow a long step's other side... almost
        (lambda x: 1.0 / x, 1e-150, -1.0 / (1e-150 * 1e-150)),  # next to the pole: steps would cross it
        (lambda x: x.sin(), 1e17, math.cos(1e17)),  # floats are 16 apart: no finite difference resolves sin here
    ],
    ids=["2 cos at 3e8", "exp at 700", "1 / x at 1e-150", "sin at 1e17"],
)
def test_points_finite_differences_cannot_resolve_are_decided(
    f: Callable[[Value], Value], x: float, derivative: float
) -> None:
    report = ag.gradcheck(f, x)
    (row,) = report.rows
    assert report.passed and row.referee == "complex step" and row.verdict == "ok", report
    assert row.exact == pytest.approx(derivative, rel=1e-15)


def test_at_a_kink_the_complex_step_stands_aside():
    row = ag.gradcheck(lambda x: x.relu() * 3.0, 0.0).rows[0]  # no derivative at 0: the one-sided slopes decide
    assert row.referee == "finite differences" and row.kind == "kink" and math.isnan(row.exact)
    near = ag.gradcheck(lambda x: x.relu() * 3.0, 1e-190).rows[0]  # analytic on the positive side, however near
    assert near.referee == "complex step" and near.exact == 3.0


def test_a_function_that_leaves_its_graph_is_never_passed_by_the_complex_step():
    # The graph sees x · cos(3e8) as a constant factor; f itself is x cos x. The complex step of the graph
    # agrees with the engine, but f near x is not its graph, so only finite differences of f may judge, and
    # at 3e8 they cannot: undecided, not ok.
    report = ag.gradcheck(lambda x: x * math.cos(x.data), 3.0e8)
    assert not report.passed and report.rows[0].referee == "finite differences", report
    outside = ag.gradcheck(lambda x: x * math.exp(x.data), 1.0)  # e^x read as a number: d/dx = 2e, the graph says e
    assert outside.rows[0].kind == "engine" and outside.rows[0].numeric == pytest.approx(2 * math.e)


def test_second_derivatives_are_refereed_by_the_complex_step_too():
    report = ag.gradcheck(lambda x, y: (x * y).tanh(), 0.4, -0.9, order=2)
    assert report.passed and {row.referee for row in report.rows} == {"complex step"}, report
    t = math.tanh(0.4 * -0.9)
    d2_dx2 = -2 * t * (1 - t * t) * 0.81  # d²/dx² tanh(xy) = -2 tanh (1 - tanh²) y²
    assert report.rows[2].exact == pytest.approx(d2_dx2, rel=1e-14)


def test_a_complex_forward_that_fails_leaves_finite_differences_to_judge():
    broken = Op("broken", lambda x: x * x, lambda g, x, out: (2 * g * x,), complex_forward=lambda z: "not a number")  # type: ignore[arg-type, return-value]
    row = ag.gradcheck(lambda x: broken(x), 1.5).rows[0]
    assert row.passed and row.referee == "finite differences"


def test_the_table_names_the_referee_of_each_row():
    plain = Op("plain_sin", math.sin, lambda g, x, out: (g * ag.cos(x),))  # no complex forward
    text = str(ag.gradcheck(lambda x, y: x.sin() + plain(y), 0.3, 0.6))
    assert "judged by" in text and "complex step" in text and "finite differences" in text


# -- hand values at the digits typed -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "digits"),
    [("0.082167", 5), ("2.0", 1), ("0.25", 2), ("1e-05", 1), ("123456.0", 6), ("0.30000000000000004", 17),
     ("-0.000438568", 6), ("6.02e+23", 3)],
)  # fmt: skip
def test_the_digits_typed_are_read_from_the_shortest_repr(typed: str, digits: int) -> None:
    assert typed_digits(float(typed)) == digits


def test_a_published_value_passes_rounded_or_truncated_and_fails_one_unit_off():
    loss, _ = seed_004_loss()
    truth = seed_004_by_hand()["w5"]  # 0.0821670405526...
    rounded, truncated = float(f"{truth:.5g}"), math.trunc(truth * 1e6) / 1e6
    assert (rounded, truncated) == (0.082167, 0.082167)
    for typed in (0.082167, 0.0821670, 0.08216704, 0.082167041):  # Mazur publishes 0.082167041
        row = ag.check_gradients(loss, {"w5": typed}).rows[0]
        assert row.passed and row.precision == f"typed to {typed_digits(typed)} digits", row
    row = ag.check_gradients(loss, {"w5": 0.082169}).rows[0]  # two units off in the fifth digit
    assert row.kind == "hand" and "typed to 5 digits, it would read 0.082167" in row.verdict, row
    assert ag.check_gradients(loss, {"w5": 0.0821680}).rows[0].kind == "ok"  # within one unit: 0.0821670 + 1e-6
    assert ag.check_gradients(loss, {"w5": 0.0821685}).rows[0].kind == "hand"  # 1.5 units off in the sixth digit


def test_a_computed_hand_value_is_held_to_the_rounding_of_the_arithmetic():
    loss, _ = seed_004_loss()
    by_hand = seed_004_by_hand()  # plain floats, the four BP equations: every digit
    report = ag.check_gradients(loss, by_hand)
    assert report.passed and {row.precision for row in report.rows} == {"full precision"}, report
    slipped = dict(by_hand, w1=by_hand["w1"] * (1 + 1e-12))  # a slip in the twelfth digit
    assert [(row.name, row.kind) for row in ag.check_gradients(loss, slipped).failures] == [("w1", "hand")]


def test_one_or_two_digits_are_read_as_exact_and_digits_overrides():
    x = Value(1.2, label="x")
    loss = x * x  # d/dx = 2.4
    assert ag.check_gradients(loss, {"x": 2.4}).passed  # two digits, exactly right
    assert ag.check_gradients(loss, {"x": 2.0}).rows[0].kind == "hand"  # not "2.4 truncated to one digit"
    assert ag.check_gradients(loss, {"x": 2.0}, digits=1).passed  # unless you say you typed one digit
    almost = 2.4 * (1 + 1e-7)
    assert ag.check_gradients(loss, {"x": almost}).rows[0].kind == "hand"
    assert ag.check_gradients(loss, {"x": almost}, digits=7).passed
    assert GradientChecker().gradients(loss, {"x": almost}, digits=7).passed


@pytest.mark.parametrize("digits", [0, 18, 2.5, True, "5"])
def test_digits_out_of_range_is_refused_by_name(digits: object) -> None:
    x = Value(1.0, label="x")
    with pytest.raises(ValueError, match=r"check_gradients: digits must be a whole number from 1 to 17"):
        ag.check_gradients(x * x, {"x": 2.0}, digits=digits)  # type: ignore[arg-type]


def test_hand_precision_units():
    assert HandPrecision.of(0.082167, None).unit(0.082167) == pytest.approx(1e-6)
    assert HandPrecision.of(123456.0, None).unit(123456.0) == pytest.approx(1.0)
    assert HandPrecision.of(0.1 + 0.2, None).digits is None
    assert HandPrecision.of(0.3, 5).unit(0.3) == pytest.approx(1e-5)
    assert str(HandPrecision.of(0.082167, None)) == "typed to 5 digits"


def test_the_builtin_rules_pass_at_machine_precision_across_their_domains():
    # Every built-in op alone, at points from 1e-8 to 1e8 in its domain: judged by the complex step, no false alarm.
    points = [sign * 1.37 * 10.0**k for k in range(-8, 9) for sign in (1.0, -1.0)]
    domains = {rules.LOG: lambda x: x > 0, rules.SQRT: lambda x: x > 0, rules.EXP: lambda x: x < 700}
    for op in (rules.SIN, rules.COS, rules.EXP, rules.LOG, rules.SQRT, rules.TANH, rules.SIGMOID, rules.SOFTPLUS):
        for x in filter(domains.get(op, lambda x: True), points):
            report = ag.gradcheck(lambda v: op(v) * 1.5 + v, x)  # noqa: B023  # called at once
            assert report.passed and report.rows[0].referee == "complex step", report


def softmax_cross_entropy(*logits: float, on: object = math) -> float:
    """-log softmax(z)[2] = max z + log Σ e^(z - max z) - z[2], on floats (math) or complex numbers (cmath)."""
    top = max(z.real for z in map(complex, logits)) if on is cmath else max(logits)
    return top + on.log(sum(on.exp(z - top) for z in logits)) - logits[2]  # type: ignore[attr-defined, no-any-return]


def softmax_cross_entropy_gradient(*logits: float) -> list[float]:
    """softmax(z) - onehot(2), by hand; the third entry summed from the others, so nothing cancels."""
    top = max(logits)
    terms = [math.exp(z - top) for z in logits]
    total = math.fsum(terms)
    return [t / total if i != 2 else -math.fsum(terms[:2] + terms[3:]) / total for i, t in enumerate(terms)]


def test_rounding_inside_a_custom_complex_forward_is_measured_not_blamed():
    # The op's complex forward computes Im log Σ e^z - h for the largest logit: 2.6 digits cancel inside it,
    # which the graph (one node) cannot show. The second complex step, with other digits, measures it.
    op = Op("softmax_ce", softmax_cross_entropy,
            lambda g, *args: tuple(g * d for d in softmax_cross_entropy_gradient(*args[:-1])),
            complex_forward=lambda *zs: softmax_cross_entropy(*zs, on=cmath))  # fmt: skip
    point = (-2.188873631729341, -4.266419795527469, 4.685787030534847, -1.9606259443301188)
    report = ag.gradcheck(lambda *zs: op(*zs), *point)
    assert report.passed and {row.referee for row in report.rows} == {"complex step"}, report
    # mpmath at 40 digits: d/dz2 = -0.0024557261964952808...; the hand gradient above has it to the last bit
    assert report.rows[2].engine == pytest.approx(-0.0024557261964952808, rel=2e-16)
    bent = Op("softmax_ce", softmax_cross_entropy,
              lambda g, *args: tuple(g * d * (1 + 1e-12) for d in softmax_cross_entropy_gradient(*args[:-1])),
              complex_forward=lambda *zs: softmax_cross_entropy(*zs, on=cmath))  # fmt: skip
    assert not ag.gradcheck(lambda *zs: bent(*zs), *point).passed  # and a slip in the twelfth digit still shows


def test_a_hand_value_that_lost_digits_to_cancellation_is_told_how_to_say_so():
    z = Value(19.0, label="z")
    sigma = 1 / (1 + (-z).exp())  # exp and div: the engine's derivative loses nothing
    s = 1 / (1 + math.exp(-19.0))
    by_hand = s * (1 - s)  # 1 - s cancels 8 digits: the formula is right, the float is 7.7e-9 off
    row = ag.check_gradients(sigma, {"z": by_hand}).rows[0]
    assert row.kind == "hand" and "read it at the digits it keeps with digits=8" in row.verdict, row
    assert ag.check_gradients(sigma, {"z": by_hand}, digits=8).passed
    # With the sigmoid op, whose rule is σ(1 - σ) too, rounding moves the engine's value as much, and both pass.
    assert ag.check_gradients(z.sigmoid(), {"z": by_hand}).passed

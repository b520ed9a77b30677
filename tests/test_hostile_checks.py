"""Hostile inputs for the gradient checks: a correct rule is never blamed, a wrong one is still caught.

The catalogue: each case is a call, whether its report passes, and a pattern its printed table must
show. It runs twice. With every op's complex forward removed (finite differences as the only
referee, as for a custom op that declares none): where finite differences cannot be trusted (steps
beyond a period, floats too sparse, a step that overflows or leaves the domain) the promised verdict
is "cannot decide", naming why, and no one is blamed. With the complex step, as shipped: most of
those points are decided, and correctly. The sweeps run correct functions over magnitudes from
1e-300 to 1e300 through every check, both ways, and wrong rules and hand values (1% off) at
ordinary points. Every expected derivative is worked out by hand (d cos = -sin, d exp = exp, ...),
never taken from the code under test.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import autograd as ag
from autograd import GradientReport, Op, Value, rules

X98 = 98.46065535615772  # 1e4 x is within a few float spacings of a zero of sin
LAST_FINITE_EXP = math.log(sys.float_info.max)  # 709.78271289...: exp of anything above overflows
BLAME = ("engine", "hand")


def bent(op: Op, factor: float = 1.01) -> Op:
    """``op`` with a rule 1% off: the same forward and kinks, every partial times ``factor``."""
    vjp = op.vjp
    return Op(f"bent_{op.name}", op.forward, lambda g, *args: tuple(factor * d for d in vjp(g, *args)), kinks=op.kinks)


BENT_COS = bent(rules.COS)
COS_1E4 = Op("cos_1e4", lambda x: math.cos(1e4 * x), lambda g, x, out: (-g * 1e4 * math.sin(1e4 * x),))
BENT_RELU = bent(rules.RELU)
FLAT_RELU = Op("flat_relu", rules.RELU.forward, lambda g, x, out: (g,))  # relu' is 0 below 0, not 1
OFF_BY_ONE_PERCENT = Op("off", lambda x: x * x * x, lambda g, x, out: (g * 3.03 * x * x,))  # d x³ = 3x², not 3.03x²


def by_hand(f: Callable[[Value], Value | float], x: float, derivative: float) -> GradientReport:
    """check_gradients of f at x against the hand-derived ``derivative``."""
    loss = f(Value(x, label="x"))
    assert isinstance(loss, Value)
    return ag.check_gradients(loss, {"x": derivative})


def tanh_bump_derivative(x: float) -> float:
    """d/dx 1 / (1 + t²) with t = tanh(1e4 x): -2 t (1 - t²) 1e4 / (1 + t²)²."""
    t = math.tanh(1e4 * x)
    return -2 * t * (1 - t * t) * 1e4 / (1 + t * t) ** 2


def off_then_tanh(x: Value) -> Value:
    inner = OFF_BY_ONE_PERCENT(x)
    assert isinstance(inner, Value)
    return inner.tanh()


def sigmoid_of_overflow(x: Value) -> Value:
    """sigmoid(1 / (1 + s²)) with s = sqrt(x² + 1): at x = 3e196, x² and s are inf, and the result is 0.5."""
    s = (x * x + 1).sqrt()
    return (1 / (1 + s * s)).sigmoid()


def parameters_of_cos_1e4_w() -> GradientReport:
    w = Value(1e4, label="w")
    return ag.check_parameters((w * 1e4).cos(), [w])


@dataclass(frozen=True)
class Case:
    call: Callable[[], GradientReport]
    passed: bool
    pattern: str  # searched for in the printed report
    derivative: float | None = None  # d/dx by hand: the engine's value in the first row
    blamed: str = ""  # the kind of every failing row where someone is rightly blamed; "" blames no one


CASES: dict[str, Case] = {
    # The findings of the review: correct rules were blamed, or a measurable point was refused.
    "cos at 3e8: the step is beyond the period": Case(
        lambda: ag.gradcheck(lambda x: x.cos(), 3e8),
        False, r"INCONCLUSIVE \(1 of 1 undecided\).*cannot decide.*at eps=\S+ they do", -math.sin(3e8)),
    "2 cos at 3e8": Case(
        lambda: ag.gradcheck(lambda x: x.cos() * 2.0, 3.0e8), False, r"cannot decide", -2.0 * math.sin(3e8)),
    "cos(1e4 x) at 1e4: the intermediate argument is 1e8": Case(
        lambda: ag.gradcheck(lambda x: (x * 1e4).cos(), 1e4),
        False, r"cannot decide: .*at eps=\S+ they do", -1e4 * math.sin(1e8)),
    "check_gradients of cos at 1e8": Case(
        lambda: by_hand(lambda x: x.cos(), 1e8, -math.sin(1e8)), False, r"cannot decide", -math.sin(1e8)),
    "check_gradients of cos at 3e8": Case(
        lambda: by_hand(lambda x: x.cos(), 3e8, -math.sin(3e8)), False, r"cannot decide", -math.sin(3e8)),
    "check_gradients of cos at 1e9": Case(
        lambda: by_hand(lambda x: x.cos(), 1e9, -math.sin(1e9)), False, r"cannot decide", -math.sin(1e9)),
    "check_op cos at 1e8": Case(lambda: ag.check_op(rules.COS, 1e8), False, r"cannot decide", -math.sin(1e8)),
    "check_op cos at 3e8": Case(lambda: ag.check_op(rules.COS, 3e8), False, r"cannot decide", -math.sin(3e8)),
    "check_op cos at 1e9": Case(lambda: ag.check_op(rules.COS, 1e9), False, r"cannot decide", -math.sin(1e9)),
    "exp at 709.7: x + h overflows, shorter steps fit": Case(
        lambda: ag.gradcheck(lambda x: x.exp(), 709.7), True, r": passed", math.exp(709.7)),
    # Of the same kinds.
    "check_op exp at 709.7": Case(lambda: ag.check_op(rules.EXP, 709.7), True, r": passed", math.exp(709.7)),
    "check_gradients of exp at 709.7": Case(
        lambda: by_hand(lambda x: x.exp(), 709.7, math.exp(709.7)), True, r": passed", math.exp(709.7)),
    "exp at its last finite point: every step overflows": Case(
        lambda: ag.gradcheck(lambda x: x.exp(), LAST_FINITE_EXP),
        False, r"INCONCLUSIVE.*cannot decide: finite differences cannot be taken here: f\(709\.78\d*\) fails: exp",
        math.exp(LAST_FINITE_EXP)),
    "exp(2x) at 354.89: the derivative itself overflows": Case(
        lambda: ag.gradcheck(lambda x: (x * 2.0).exp(), 354.89), False, r"cannot decide: .*overflows"),
    "sqrt at the smallest float: every step crosses 0": Case(
        lambda: ag.gradcheck(lambda x: x.sqrt(), 5e-324),
        False, r"cannot decide: .*fails: sqrt: argument must be non-negative", 0.5 / math.sqrt(5e-324)),
    "sqrt(x - 1) at 1 + 1e-12: every step leaves the domain": Case(
        lambda: ag.gradcheck(lambda x: (x - 1.0).sqrt(), 1.0 + 1e-12),
        False, r"cannot decide: .*fails: sqrt: argument must be non-negative", 0.5 / math.sqrt((1.0 + 1e-12) - 1.0)),
    "log(x - 1) at 1 + 1e-9: the steps shrink past the edge": Case(
        lambda: ag.gradcheck(lambda x: (x - 1.0).log(), 1.0 + 1e-9), True, r": passed", 1.0 / ((1.0 + 1e-9) - 1.0)),
    "sin at 1e17: floats are 16 apart, no eps helps": Case(
        lambda: ag.gradcheck(lambda x: x.sin(), 1e17),
        False, r"cannot decide: .*a thousand float spacings at x \(floats there are 1\.6e\+01 apart\)", math.cos(1e17)),
    "sin at 1e300": Case(
        lambda: ag.gradcheck(lambda x: x.sin(), 1e300), False, r"cannot decide: .*float spacings", math.cos(1e300)),
    "tan as sin / cos at 1.37e200": Case(
        lambda: ag.gradcheck(lambda x: x.sin() / x.cos(), 1.37e200),
        False, r"cannot decide", 1.0 / math.cos(1.37e200) ** 2),
    "exp(sin x) at 1.37e200": Case(
        lambda: ag.gradcheck(lambda x: x.sin().exp(), 1.37e200),
        False, r"cannot decide", math.exp(math.sin(1.37e200)) * math.cos(1.37e200)),
    "cos at 3e8, order 2": Case(
        lambda: ag.gradcheck(lambda x: x.cos(), 3e8, order=2), False, r"2 of 2 undecided", -math.sin(3e8)),
    "check_op cos at 3e8, order 2": Case(
        lambda: ag.check_op(rules.COS, 3e8, order=2), False, r"2 of 2 undecided", -math.sin(3e8)),
    "check_parameters of cos(1e4 w) at w = 1e4": Case(
        parameters_of_cos_1e4_w, False, r"cannot decide", -1e4 * math.sin(1e8)),
    "check_gradients of sin(1e4 x) at 1e4": Case(
        lambda: by_hand(lambda x: (x * 1e4).sin(), 1e4, 1e4 * math.cos(1e8)),
        False, r"cannot decide", 1e4 * math.cos(1e8)),
    "the advised eps settles cos at 3e8": Case(
        lambda: ag.gradcheck(lambda x: x.cos(), 3e8, eps=1e-9), True, r": passed", -math.sin(3e8)),
    "at the advised eps a 1%-wrong cos is blamed": Case(
        lambda: ag.gradcheck(lambda x: BENT_COS(x), 3e8, eps=1e-9),
        False, r"derivative rule of op 'bent_cos' looks wrong", -1.01 * math.sin(3e8), "engine"),
    "a hand value 1% off at cos 3e8 is still reported, the engine is not blamed": Case(
        lambda: by_hand(lambda x: x.cos(), 3e8, -1.01 * math.sin(3e8)),
        False, r"hand derivation differs from the engine \(finite differences cannot decide here\)",
        -math.sin(3e8), "hand"),
    "the advised eps settles cos(1e4 x) at 1e4": Case(
        lambda: ag.gradcheck(lambda x: (x * 1e4).cos(), 1e4, eps=1e-8), True, r": passed", -1e4 * math.sin(1e8)),
    "at that eps a 1%-wrong cos inside is blamed": Case(
        lambda: ag.gradcheck(lambda x: BENT_COS(x * 1e4), 1e4, eps=1e-8),
        False, r"derivative rule of op 'bent_cos' looks wrong", -1.01e4 * math.sin(1e8), "engine"),
    "cos(1e4 x) at π/2, near a zero of its derivative": Case(
        lambda: ag.gradcheck(lambda x: (x * 1e4).cos(), math.pi / 2),
        True, r": passed", -1e4 * math.sin(1e4 * (math.pi / 2))),
    "check_gradients of cos(1e4 x) at π/2": Case(
        lambda: by_hand(lambda x: (x * 1e4).cos(), math.pi / 2, -1e4 * math.sin(1e4 * (math.pi / 2))),
        True, r": passed", -1e4 * math.sin(1e4 * (math.pi / 2))),
    "cos(1e4 x) at 98.46: 1e4 x is rounded, which moves the engine's value by more than its size": Case(
        lambda: ag.gradcheck(lambda x: (x * 1e4).cos(), X98),
        True, r"ok, within the .* by which rounding moves the engine's value", -1e4 * math.sin(1e4 * X98)),
    "a correct op computing cos(1e4 x) with math, at 98.46: check_op": Case(
        lambda: ag.check_op(COS_1E4, X98),
        True, r"by which rounding moves the engine's value", -1e4 * math.sin(1e4 * X98)),
    "the same op inside gradcheck, its rule out of reach of the graph": Case(
        lambda: ag.gradcheck(lambda x: COS_1E4(x) * 3.0, X98),
        True, r"by which rounding moves the engine's value", -3e4 * math.sin(1e4 * X98)),
    "log(1 + x²) · 1e4 at -2.19e-12: 1 + x² rounds to 1, the shortest steps see a flat 0": Case(
        lambda: ag.gradcheck(lambda x: ag.log(1 + x * x) * 1e4, -2.1904236767060975e-12),
        True, r": passed", 2e4 * -2.1904236767060975e-12),
    "1 / (1 + (3.7e4 x)²) at -1.4e-20: longer steps see flat tails, shorter ones only rounding": Case(
        lambda: ag.gradcheck(lambda x: 1 / (1 + (x * 3.7e4) ** 2), -1.3966193806176582e-20),
        True, r": passed", 2 * 3.7e4**2 * 1.3966193806176582e-20),
    "relu(cos x) x at 1.2e14: the step crosses relu's kink, and the one-sided slopes are noise": Case(
        lambda: ag.gradcheck(lambda x: x.cos().relu() * x.cos(), 122442984708135.14),
        False, r"INCONCLUSIVE.*cannot decide",
        -2 * math.cos(122442984708135.14) * math.sin(122442984708135.14)),
    "relu(cos eˣ) cos eˣ at 38.97: eˣ = 8e16 is known to ±8, the one-sided slopes are noise": Case(
        lambda: ag.gradcheck(lambda x: x.exp().cos().relu() * x.exp().cos(), 38.96996421675928),
        False, r"INCONCLUSIVE.*cannot decide"),
    "cos(sqrt(x² + 1)) at 5.6e14: x² = 3e29 is inf-free but known only to ±2e13": Case(
        lambda: ag.gradcheck(lambda x: (x * x + 1).sqrt().cos(), 559262193198004.2),
        False, r"INCONCLUSIVE.*cannot decide"),
    "sigmoid(1 / (1 + s²)), s = sqrt(x² + 1), at 3e196: x² overflows, the engine's value is NaN": Case(
        lambda: ag.gradcheck(lambda x: sigmoid_of_overflow(x), 3.1316645524859896e196),
        False, r"cannot decide: the engine's value is nan because the forward pass holds .*inf"),
    "a wrong row and an undecided one: the status counts both": Case(
        lambda: ag.gradcheck(lambda x, y: OFF_BY_ONE_PERCENT(x) + y.cos(), 0.7, 3e8),
        False, r"FAILED \(1 of 2 wrong, 1 undecided\).*looks wrong", 3.03 * 0.49, "engine"),
    "1 / (1 + tanh²(1e4 x)) at -0.00174: longer steps see only the flat, saturated tails": Case(
        lambda: ag.gradcheck(lambda x: 1 / (1 + (x * 1e4).tanh() ** 2), -0.001739209754913588),
        True, r": passed", tanh_bump_derivative(-0.001739209754913588)),
    # Wrong rules and hand values at ordinary points: still caught.
    "a relu rule 1% off, with the step across the kink at 1e-7": Case(
        lambda: ag.gradcheck(lambda x: BENT_RELU(x), 1e-7), False, r"WRONG at a kink", 1.01, "engine"),
    "a relu rule 1% off just above its kink, at 8.7e-84": Case(
        lambda: ag.check_op(BENT_RELU, 8.733257911e-84), False, r"WRONG at a kink", 1.01, "engine"),
    "a relu rule that gives 1 where relu is flat, at -1": Case(
        lambda: ag.check_op(FLAT_RELU, -1.0), False, r"WRONG: engine differs", 1.0, "engine"),
    "a custom op with a 1% error at 0.7, gradcheck": Case(
        lambda: ag.gradcheck(lambda x: OFF_BY_ONE_PERCENT(x), 0.7),
        False, r"derivative rule of op 'off' looks wrong", 3.03 * 0.49, "engine"),
    "a custom op with a 1% error at 0.7, check_op": Case(
        lambda: ag.check_op(OFF_BY_ONE_PERCENT, 0.7), False, r"WRONG: engine differs", 3.03 * 0.49, "engine"),
    "a custom op with a 1% error at 0.7, inside check_gradients": Case(
        lambda: by_hand(off_then_tanh, 0.7, 3.03 * 0.49 * (1 - math.tanh(0.343) ** 2)),
        False, r"derivative rule of op 'off' looks wrong", 3.03 * 0.49 * (1 - math.tanh(0.343) ** 2), "engine"),
    "a hand value 1% off at 0.7": Case(
        lambda: by_hand(lambda x: x.sin() * x, 0.7, 1.01 * (math.cos(0.7) * 0.7 + math.sin(0.7))),
        False, r"WRONG: hand derivation differs", math.cos(0.7) * 0.7 + math.sin(0.7), "hand"),
}  # fmt: skip


@pytest.fixture
def finite_differences_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every built-in op without its complex forward: finite differences are the only referee."""
    for op in vars(rules).values():
        if isinstance(op, Op):
            monkeypatch.setattr(op, "complex_forward", None)


@pytest.mark.parametrize("name", list(CASES))
def test_catalogue_by_finite_differences(name: str, finite_differences_only: None) -> None:
    assert_case(CASES[name])


DECIDED = r": passed.*complex step +ok"
# What changes with the complex step: the derivative exists at each of these points, and the referee takes it.
BY_COMPLEX_STEP: dict[str, tuple[bool, str, str]] = {
    "cos at 3e8: the step is beyond the period": (True, DECIDED, ""),
    "2 cos at 3e8": (True, DECIDED, ""),
    "cos(1e4 x) at 1e4: the intermediate argument is 1e8": (True, DECIDED, ""),
    "check_gradients of cos at 1e8": (True, DECIDED, ""),
    "check_gradients of cos at 3e8": (True, DECIDED, ""),
    "check_gradients of cos at 1e9": (True, DECIDED, ""),
    "check_op cos at 1e8": (True, DECIDED, ""),
    "check_op cos at 3e8": (True, DECIDED, ""),
    "check_op cos at 1e9": (True, DECIDED, ""),
    "exp at its last finite point: every step overflows": (True, DECIDED, ""),
    "sqrt(x - 1) at 1 + 1e-12: every step leaves the domain": (True, DECIDED, ""),
    "sin at 1e17: floats are 16 apart, no eps helps": (True, DECIDED, ""),
    "sin at 1e300": (True, DECIDED, ""),
    "tan as sin / cos at 1.37e200": (True, DECIDED, ""),
    "exp(sin x) at 1.37e200": (True, DECIDED, ""),
    "cos at 3e8, order 2": (True, r": passed.*d²/dx².*complex step +ok", ""),
    "check_op cos at 3e8, order 2": (True, r": passed.*d²cos/dx².*complex step +ok", ""),
    "check_parameters of cos(1e4 w) at w = 1e4": (True, DECIDED, ""),
    "check_gradients of sin(1e4 x) at 1e4": (True, DECIDED, ""),
    "a hand value 1% off at cos 3e8 is still reported, the engine is not blamed": (
        False, r"complex step +WRONG: hand derivation differs$", "hand"),
    "cos(1e4 x) at 98.46: 1e4 x is rounded, which moves the engine's value by more than its size": (True, DECIDED, ""),
    "relu(cos x) x at 1.2e14: the step crosses relu's kink, and the one-sided slopes are noise": (True, DECIDED, ""),
    "relu(cos eˣ) cos eˣ at 38.97: eˣ = 8e16 is known to ±8, the one-sided slopes are noise": (True, DECIDED, ""),
    "cos(sqrt(x² + 1)) at 5.6e14: x² = 3e29 is inf-free but known only to ±2e13": (True, DECIDED, ""),
    "a wrong row and an undecided one: the status counts both": (
        False, r"FAILED \(1 of 2 wrong\).*finite differences +WRONG.*complex step +ok.*looks wrong", "engine"),
    "1 / (1 + tanh²(1e4 x)) at -0.00174: longer steps see only the flat, saturated tails": (
        True, r": passed.*complex step +ok", ""),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_catalogue(name: str) -> None:
    case = CASES[name]
    if name in BY_COMPLEX_STEP:
        passed, pattern, blamed = BY_COMPLEX_STEP[name]
        case = dataclasses.replace(case, passed=passed, pattern=pattern, blamed=blamed)
    assert_case(case)


def assert_case(case: Case) -> None:
    report = case.call()
    text = str(report)
    assert report.passed is case.passed, text
    assert re.search(case.pattern, text, re.DOTALL), text
    if case.derivative is not None:
        assert report.rows[0].engine == pytest.approx(case.derivative, rel=1e-9), text
    if case.blamed:
        assert {row.kind for row in report.failures} - {"unsettled"} == {case.blamed}, text
        assert case.blamed == "engine" or "looks wrong" not in text, text  # a wrong hand value blames no rule
    else:
        assert not [row for row in report.rows if row.kind in BLAME] and "looks wrong" not in text, text


# -- sweeps: correct functions at every magnitude -------------------------------------------------


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@dataclass(frozen=True)
class Smooth:
    f: Callable[[Value], Value]
    derivative: Callable[[float], float]  # by hand
    defined: Callable[[float], bool]  # where f and its derivative are finite
    ordinary: Callable[[float], bool]  # where finite differences resolve f at the default eps: it must pass
    op: Op | None = None  # the op to check_op on its own


def anywhere(x: float) -> bool:
    return True


def moderate(x: float) -> bool:
    return 1e-3 <= abs(x) <= 1e3


SMOOTH: dict[str, Smooth] = {
    "sin": Smooth(lambda x: x.sin(), math.cos, anywhere, moderate, rules.SIN),
    "cos": Smooth(lambda x: x.cos(), lambda x: -math.sin(x), anywhere, moderate, rules.COS),
    "2 cos": Smooth(lambda x: x.cos() * 2.0, lambda x: -2.0 * math.sin(x), anywhere, moderate),
    "tan": Smooth(lambda x: x.sin() / x.cos(), lambda x: 1.0 / math.cos(x) ** 2, anywhere,
                  lambda x: moderate(x) and abs(math.cos(x)) > 1e-2),
    "cos(1e4 x)": Smooth(lambda x: (x * 1e4).cos(), lambda x: -1e4 * math.sin(1e4 * x), anywhere,
                         lambda x: 1e-3 <= abs(x) <= 1e-1),
    "exp(sin x)": Smooth(lambda x: x.sin().exp(), lambda x: math.exp(math.sin(x)) * math.cos(x), anywhere, moderate),
    "exp": Smooth(lambda x: x.exp(), math.exp, lambda x: x <= 709.78, anywhere, rules.EXP),  # steps shrink to fit
    "log": Smooth(lambda x: x.log(), lambda x: 1.0 / x, lambda x: x > 1e-300, lambda x: x > 1e-300, rules.LOG),
    "sqrt": Smooth(lambda x: x.sqrt(), lambda x: 0.5 / math.sqrt(x), lambda x: x > 1e-300, lambda x: x > 1e-300,
                   rules.SQRT),
    "x³": Smooth(lambda x: x**3, lambda x: 3.0 * x * x, lambda x: abs(x) < 1e100, lambda x: 1e-100 < abs(x) < 1e100),
    "x^2.5": Smooth(lambda x: x**2.5, lambda x: 2.5 * x**1.5, lambda x: 0 < x < 1e120, lambda x: 1e-100 < x < 1e120),
    "1 / x": Smooth(lambda x: 1.0 / x, lambda x: -1.0 / (x * x), lambda x: 1e-150 < abs(x) < 1e150,
                    lambda x: 1e-150 < abs(x) < 1e150),
    "tanh": Smooth(lambda x: x.tanh(), lambda x: 1.0 - math.tanh(x) ** 2, anywhere, anywhere, rules.TANH),
    "sigmoid": Smooth(lambda x: x.sigmoid(), lambda x: sigmoid(x) * (1.0 - sigmoid(x)), anywhere, anywhere,
                      rules.SIGMOID),
    "softplus": Smooth(lambda x: x.softplus(), sigmoid, anywhere, anywhere, rules.SOFTPLUS),
    "log(1 + x²)": Smooth(lambda x: ag.log(1 + x * x), lambda x: 2.0 * x / (1.0 + x * x), lambda x: abs(x) < 1e150,
                          lambda x: abs(x) < 1e150),
    "sqrt(x² + 1)": Smooth(lambda x: (x * x + 1).sqrt(), lambda x: x / math.sqrt(x * x + 1.0),
                           lambda x: abs(x) < 1e150, lambda x: abs(x) < 1e150),
    "x relu(x)": Smooth(lambda x: x.relu() * x, lambda x: 2.0 * x if x > 0 else 0.0, lambda x: abs(x) < 1e150,
                        lambda x: abs(x) < 1e150),
}  # fmt: skip

MAGNITUDES = [sign * 1.37 * 10.0**k for k in range(-300, 301, 9) for sign in (1.0, -1.0)]
EDGES = [709.7, 709.78, -745.0, 5e-7, 1e-4, 3e8, 1e7, 1e17, math.pi / 2, 1.0, 0.7, -0.7, 2.5]
POINTS = sorted({*MAGNITUDES, *EDGES, *(-x for x in EDGES)})


def reports(smooth: Smooth, x: float) -> list[tuple[str, GradientReport]]:
    made = [("gradcheck", ag.gradcheck(smooth.f, x))]
    hand = smooth.derivative(x)
    if math.isfinite(hand):
        made.append(("check_gradients", by_hand(smooth.f, x, hand)))
    if smooth.op is not None:
        made.append(("check_op", ag.check_op(smooth.op, x)))
    return made


@pytest.mark.parametrize("name", list(SMOOTH))
def test_a_correct_function_is_never_blamed_by_finite_differences(name: str, finite_differences_only: None) -> None:
    test_a_correct_function_is_never_blamed_and_passes_where_steps_resolve_it(name)


@pytest.mark.parametrize("name", list(SMOOTH))
def test_a_correct_function_is_never_blamed_and_passes_where_steps_resolve_it(name: str) -> None:
    smooth, blamed, refused = SMOOTH[name], [], []
    for x in POINTS:
        if not smooth.defined(x):
            continue
        for check, report in reports(smooth, x):
            if any(row.kind in BLAME for row in report.rows) or "looks wrong" in str(report):
                blamed.append(f"{check} at {x!r}:\n{report}")
            elif smooth.ordinary(x) and not report.passed:
                refused.append(f"{check} at {x!r}:\n{report}")
    assert not blamed, "\n".join(blamed[:3])
    assert not refused, "\n".join(refused[:3])


@pytest.mark.parametrize(
    ("f", "args"),
    [
        (lambda x, y: ag.logsumexp([x, y, x * 0.5]), (1e300, -1e300)),
        (lambda x, y: ag.logsumexp([x, y]), (-745.0, 709.0)),
        (lambda w, x: ag.dot([w, x], [x, w]), (1e150, 1e-150)),
        (lambda x, y: x**y, (1e100, 3.0)),
        (lambda x, y: x**y, (0.5, 1e3)),
        (lambda x, y: (x * y).tanh() + x.exp(), (1e-300, 1e300)),
        (lambda x, y: (x / y).sigmoid() * y.softplus(), (1e200, -1e100)),
    ],
    ids=["logsumexp at ±1e300", "logsumexp at -745 and 709", "dot across 1e±150", "x ** y at 1e100",
         "0.5 ** 1000", "tanh(xy) + exp x", "sigmoid(x / y) softplus y"],
)  # fmt: skip
def test_compositions_at_extreme_magnitudes_pass(f: Callable[..., Value], args: tuple[float, ...]) -> None:
    report = ag.gradcheck(f, *args)
    assert report.passed, report


# -- sweeps: wrong rules and hand values at ordinary points -----------------------------------------

WRONG_AT = [0.7, -0.7, 2.5, 0.031, 13.0, -4.2]
VISIBLE = 1e-9  # 1% of a smaller derivative is within atol = 1e-12 of the truth, and rightly passes
OPS = [rules.SIN, rules.COS, rules.EXP, rules.LOG, rules.SQRT, rules.TANH, rules.SIGMOID, rules.SOFTPLUS]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_a_rule_one_percent_off_is_blamed_at_ordinary_points(op: Op) -> None:
    wrong = bent(op)
    for x in WRONG_AT:
        if (op in (rules.LOG, rules.SQRT) and x <= 0) or abs(SMOOTH[op.name].derivative(x)) < VISIBLE:
            continue
        for report in (
            ag.gradcheck(lambda v: wrong(v) * 1.5 + v, x),
            ag.check_op(wrong, x),
            by_hand(wrong, x, 1.01 * SMOOTH[op.name].derivative(x)),
        ):
            assert any(row.kind == "engine" for row in report.rows), report


@pytest.mark.parametrize("name", ["sin", "cos", "exp", "log", "tanh", "sigmoid", "softplus", "log(1 + x²)"])
def test_a_hand_value_one_percent_off_is_reported_at_ordinary_points(name: str) -> None:
    smooth = SMOOTH[name]
    for x in WRONG_AT:
        if smooth.defined(x) and abs(smooth.derivative(x)) >= VISIBLE:
            report = by_hand(smooth.f, x, 1.01 * smooth.derivative(x))
            assert [row.kind for row in report.rows] == ["hand"], report

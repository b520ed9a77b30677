"""Structural guarantees: ops are known by identity, the fast reverse loop is the one taken and hands
over only what it should, and tolerances are one validated object."""

from __future__ import annotations

import dataclasses
import math

import pytest

import autograd as ag
from autograd import Op, Value, backward, rules
from autograd.testing import Tolerances

BUILT_IN = [op for op in vars(rules).values() if isinstance(op, Op)]


def test_built_in_ops_have_unique_names():
    names = [op.name for op in BUILT_IN]
    assert len(BUILT_IN) == 24  # with logsumexp and pick
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)
    assert (rules.POW.name, rules.POW_CONST.name, rules.RPOW.name) == ("pow", "pow_const", "rpow")
    assert (Value(2.0) ** 3).op == "pow_const" and (Value(2.0) ** Value(3.0)).op == "pow"


def test_a_wrong_custom_op_named_like_a_built_in_is_still_audited():
    # d/dx x³ is 3x², not 2x². Three built-in pow nodes lie nearer the root, so an audit that counts
    # nodes by op name would have used up its tries on them and never looked at the custom op.
    wrong = Op("pow", lambda x: x**3, lambda g, x, out: (2 * g * x**2,))

    def f(x: Value, y: Value) -> Value:
        return ((wrong(x) ** y) ** y) ** y

    report = ag.gradcheck(f, 1.3, 1.1)
    assert not report.passed
    assert any("rule of op 'pow' looks wrong" in note and "1.3" in note for note in report.notes), report.notes
    assert not any("every op's rule agrees" in note for note in report.notes)


def loss_of_a_small_network() -> tuple[Value, list[Value]]:
    ws = [Value(w, label=f"w{i}") for i, w in enumerate([0.3, -0.8, 1.1, 0.45])]
    hidden = [(ws[0] * 0.5 + ws[1] * -1.2).tanh(), (ws[2] * 0.5 - ws[3]).sigmoid()]
    out = ag.dot(hidden, [ws[0], ws[3]]).relu() + (hidden[0] * hidden[1]) ** 2 / (1.0 + ws[2].exp())
    return out, ws


def test_the_fast_loop_is_the_path_taken_and_agrees_exactly(monkeypatch: pytest.MonkeyPatch):
    out, ws = loss_of_a_small_network()
    with ag.detect_anomaly():  # forces the general loop
        general = [ag.backprop(out)[w] for w in ws]

    def no_general_loop(*args: object) -> None:
        raise AssertionError("the general loop ran")

    monkeypatch.setattr(backward, "_backprop_general", no_general_loop)
    fast = [ag.backprop(out)[w] for w in ws]
    assert fast == general  # the same floats, bit for bit (the next test checks they are the derivative)
    with pytest.raises(AssertionError, match="the general loop ran"):
        ag.backprop(out, create_graph=True)  # the patch is live: Value gradients need the general loop


def test_the_fast_loop_gives_the_derivative():
    out, ws = loss_of_a_small_network()
    grads = ag.gradients(out, ws)
    values = [w.data for w in ws]

    def loss_at(point: list[float]) -> float:
        ws_here = [Value(v) for v in point]
        hidden = [(ws_here[0] * 0.5 + ws_here[1] * -1.2).tanh(), (ws_here[2] * 0.5 - ws_here[3]).sigmoid()]
        total = ag.dot(hidden, [ws_here[0], ws_here[3]]).relu()
        return (total + (hidden[0] * hidden[1]) ** 2 / (1.0 + ws_here[2].exp())).data

    for i in range(len(ws)):
        h = 1e-6
        plus, minus = list(values), list(values)
        plus[i] += h
        minus[i] -= h
        assert math.isclose(grads[i], (loss_at(plus) - loss_at(minus)) / (2 * h), rel_tol=1e-7, abs_tol=1e-9)


@pytest.mark.parametrize("error", [RuntimeError("rule broke"), MemoryError(), KeyboardInterrupt()])
def test_the_fast_loop_hands_over_only_what_the_general_loop_handles(error: BaseException):
    calls = []

    def vjp(g: float, x: float, out: float) -> tuple[float]:
        calls.append(x)
        raise error

    broken = Op("broken", lambda x: 2 * x, vjp)
    y = broken(Value(1.5)) * 3.0
    assert isinstance(y, Value)
    with pytest.raises(type(error)):
        y.backward()
    assert calls == [1.5]  # raised once, straight through: not swallowed and run again


def test_what_the_fast_loop_hands_over_is_worded_by_the_general_loop():
    # A partial missing for a Value operand makes unpacking fail in the fast loop; the general loop
    # treats the operand as a constant parameter, as documented for trailing inputs.
    half = Op("half", lambda x, y: x * y, lambda g, x, y, out: (g * y,))
    x, y = Value(2.0), Value(5.0)
    assert ag.gradients(half(x, y) * 1.0, [x, y]) == [5.0, 0.0]


def test_tolerances_are_frozen_and_validated_once():
    tolerances = Tolerances(eps=1e-4, atol=1e-10, rtol=1e-6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tolerances.eps = 0.5  # type: ignore[misc]
    with pytest.raises(ValueError, match="eps must be > 0, got 0"):
        dataclasses.replace(tolerances, eps=0)
    with pytest.raises(ValueError, match="rtol must be finite, got nan"):
        Tolerances(rtol=math.nan)
    with pytest.raises(TypeError, match="atol must be a real number, got str '1'"):
        Tolerances(atol="1")  # type: ignore[arg-type]
    assert type(Tolerances(atol=0).atol) is float
    assert str(Tolerances()) == "eps=0.001, atol=1e-15, rtol=1e-09"
    checker = ag.GradientChecker(rtol=1e-3)
    assert checker.tolerances == Tolerances(rtol=1e-3)
    with pytest.raises(ValueError, match=r"GradientChecker: eps is a relative step and must be at most 0\.1, got 0\.5"):
        ag.GradientChecker(eps=0.5)

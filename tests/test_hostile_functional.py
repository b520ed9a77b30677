# ruff: noqa: E501  (the catalogue keeps one case per line)
# mypy: disable-error-code="arg-type, operator, return-value, call-overload, type-var, list-item, var-annotated"
# (hostile inputs break the signatures on purpose)
"""Hostile inputs to the reverse pass and the functional API (grad, jacobian, hessian, jvp, vjp, jacfwd,
hvp, gradients, backprop, sum, dot, logsumexp, pick): a catalogue of cases, as in test_hostile_engine.

Each case gives the exact exception type and a pattern for a message that names the culprit (the
function, the argument or entry, and the value). Where something must work, the expected numbers
come from the math: pick([x, 2x], 1) is 2x, so its derivative is 2; d(x y)/dy = x.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd as ag
import autograd.arguments
from autograd import Op, Value
from tests.catalogue import assert_refused

NAN, INF = math.nan, math.inf
HUGE = np.longdouble("1e4000")  # finite as a long double, beyond a float64: float() would make it inf
SCALE = Op("scale", lambda x, k: x * k, lambda g, x, k, out: (g * k,), constants=1)  # k gets no partial
TWO_OF_THREE = Op("two_of_three", lambda x, a, k: x * k + a, lambda g, x, a, k, out: (g * k, g))


def leaf(x: float, label: str = "x") -> Value:
    return Value(x, label=label)


def product(x: Any, y: Any) -> Any:
    return x * y


def cube_sum(x: Any) -> Any:
    return ag.sum([a * a * a for a in np.ravel(x)])


def boom(x: Any) -> Any:
    raise RuntimeError("boom inside f")


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    # -- argnums: numpy ints are ints; a wrong type is refused where the transform is made -----------
    ("jacfwd argnums str", lambda: ag.jacfwd(product, argnums="a"), TypeError, r"jacfwd: argnums must be an int or a tuple of ints, got str 'a'"),
    ("jacfwd argnums None", lambda: ag.jacfwd(product, argnums=None), TypeError, r"jacfwd: argnums must be an int or a tuple of ints, got NoneType None"),
    ("jacfwd argnums float", lambda: ag.jacfwd(product, argnums=1.0), TypeError, r"jacfwd: argnums must be an int or a tuple of ints, got float 1\.0"),
    ("jacfwd argnums bool", lambda: ag.jacfwd(product, argnums=True), TypeError, r"jacfwd: argnums must hold ints, got bool True"),
    ("jacfwd argnums numpy bool", lambda: ag.jacfwd(product, argnums=(np.True_,)), TypeError, r"jacfwd: argnums must hold ints, got bool"),
    ("jacfwd argnums array", lambda: ag.jacfwd(product, argnums=np.array([0, 1])), TypeError, r"jacfwd: argnums must be an int or a tuple of ints, got ndarray"),
    ("jacfwd argnums out of range", lambda: ag.jacfwd(product, argnums=np.int64(2))(1.0, 2.0), ValueError, r"jacfwd: argnums=np\.int64\(2\) does not fit a call with 2 positional arguments: index 2"),
    ("grad argnums -3", lambda: ag.grad(product, argnums=(0, -3))(1.0, 2.0), ValueError, r"grad: .*index -3 is out of range"),
    # -- f itself: callable, and returning a scalar or a flat list of them ----------------------------
    ("grad of an int", lambda: ag.grad(3), TypeError, r"grad: f must be callable, got int 3"),
    ("hessian of None", lambda: ag.hessian(None), TypeError, r"hessian: f must be callable, got NoneType None"),
    ("jacfwd of a str", lambda: ag.jacfwd("f"), TypeError, r"jacfwd: f must be callable, got str 'f'"),
    ("jvp of an int", lambda: ag.jvp(3, (1.0,), (1.0,)), TypeError, r"jvp: f must be callable, got int 3"),
    ("vjp of an int", lambda: ag.vjp(3, 1.0), TypeError, r"vjp: f must be callable, got int 3"),
    ("hvp of a list", lambda: ag.hvp([], (1.0,), (1.0,)), TypeError, r"hvp: f must be callable, got list \[\]"),
    ("grad returns nothing", lambda: ag.grad(lambda x: None)(1.0), TypeError, r"grad: the function must return a scalar \(Value or number\), got NoneType"),
    ("grad returns a bool", lambda: ag.grad(lambda x: x > 0)(1.0), TypeError, r"grad: the function must return a scalar .*got bool"),
    ("grad returns an array of one", lambda: ag.grad(lambda x: np.array([x]))(1.0), TypeError, r"grad: .*got ndarray; use jacobian for a function with several outputs"),
    ("grad returns a huge long double", lambda: ag.grad(lambda x: HUGE)(1.0), OverflowError, r"grad: the function's result: np\.longdouble\('1e\+4000'\) is too large for a float64"),
    ("jacobian nested list", lambda: ag.jacobian(lambda x: [[x, x]])(1.0), TypeError, r"jacobian: the function must return a scalar \(Value or number\) or a flat list or array of them, got list as output 0"),
    ("jacfwd nested list", lambda: ag.jacfwd(lambda x: [x, [x]])(1.0), TypeError, r"jacfwd: .*or a flat list or array of them, got list as output 1"),
    ("jvp output str", lambda: ag.jvp(lambda x: [x, "y"], (1.0,), (1.0,)), TypeError, r"jvp: .*got str as output 1"),
    ("jvp returns None", lambda: ag.jvp(lambda x: None, (1.0,), (1.0,)), TypeError, r"jvp: the function must return a scalar .*got NoneType"),
    ("hvp of a list output", lambda: ag.hvp(lambda x: [x], (1.0,), (1.0,)), TypeError, r"hvp: the function must return a scalar .*use jacobian"),
    ("f raises inside grad", lambda: ag.grad(boom)(1.0), RuntimeError, r"^boom inside f$"),
    ("f raises inside jvp", lambda: ag.jvp(boom, (1.0,), (1.0,)), RuntimeError, r"^boom inside f$"),
    # -- primals, tangents and cotangents -------------------------------------------------------------
    ("jvp without primals", lambda: ag.jvp(lambda: 1.0, (), ()), ValueError, r"jvp: no primals: give the point"),
    ("vjp without primals", lambda: ag.vjp(lambda: 1.0), ValueError, r"vjp: no primals: give the point"),
    ("hvp without primals", lambda: ag.hvp(lambda: 1.0, (), ()), ValueError, r"hvp: no primals: give the point"),
    ("jvp one tangent short", lambda: ag.jvp(product, (1.0, 2.0), (1.0,)), ValueError, r"jvp: 2 primals but 1 tangents"),
    ("jvp tangents not a tuple", lambda: ag.jvp(product, (1.0, 2.0), 1.0), TypeError, r"jvp: tangents must be a tuple or list with one entry per argument, got float"),
    ("jvp tangent list for a number", lambda: ag.jvp(lambda x: x, (1.0,), ([1.0],)), ValueError, r"jvp: tangent 0 must have the shape of primal 0"),
    ("jvp tangent nan", lambda: ag.jvp(lambda x: x * 2.0, (1.0,), (NAN,)), ValueError, r"jvp: tangents must be finite, got nan \(entry 0\)"),
    ("jvp tangent inf", lambda: ag.jvp(product, (1.0, 1.0), (0.0, INF)), ValueError, r"jvp: tangents must be finite, got inf \(entry 1\)"),
    ("jvp tangent array with -inf", lambda: ag.jvp(cube_sum, (np.ones(3),), (np.array([1.0, -INF, 0.0]),)), ValueError, r"jvp: tangents must be finite, got -inf \(entry 1\)"),
    ("jvp tangent huge long double", lambda: ag.jvp(lambda x: x, (1.0,), (HUGE,)), OverflowError, r"jvp: tangents entry 0: np\.longdouble\('1e\+4000'\) is too large"),
    ("jvp tangent str", lambda: ag.jvp(lambda x: x, (1.0,), ("a",)), TypeError, r"jvp: tangents must be numbers, got str 'a' \(entry 0\)"),
    ("vjp cotangent str", lambda: ag.vjp(lambda x: x * 2.0, 1.0)[1]("a"), TypeError, r"vjp: cotangents must be numbers, got str 'a'"),
    ("vjp cotangent None", lambda: ag.vjp(lambda x: [x, x], 1.0)[1]([1.0, None]), TypeError, r"vjp: cotangents must be numbers, got NoneType None \(entry 1\)"),
    ("vjp cotangent list for a number", lambda: ag.vjp(lambda x: x * 2.0, 1.0)[1]([1.0]), ValueError, r"vjp: the cotangent must have the output's structure \(a number\), got list"),
    ("vjp cotangent nan", lambda: ag.vjp(lambda x: x * 2.0, 1.0)[1](NAN), ValueError, r"vjp: cotangents must be finite, got nan \(entry 0\)"),
    ("vjp cotangent inf", lambda: ag.vjp(lambda x: [x, x], 1.0)[1]([1.0, INF]), ValueError, r"vjp: cotangents must be finite, got inf \(entry 1\)"),
    ("hvp vector too short", lambda: ag.hvp(cube_sum, ([1.0, 2.0],), ([1.0],)), ValueError, r"hvp: tangent 0 must have the shape of primal 0"),
    ("hvp vector of the wrong shape", lambda: ag.hvp(cube_sum, (np.ones(3),), (np.ones(2),)), ValueError, r"hvp: tangent 0 must have the shape of primal 0"),
    ("hvp one vector for two", lambda: ag.hvp(product, (1.0, 2.0), (1.0,)), ValueError, r"hvp: 2 primals but 1 tangents"),
    ("hvp vector nan", lambda: ag.hvp(cube_sum, (1.0,), (NAN,)), ValueError, r"hvp: tangents must be finite, got nan"),
    # -- numbers beyond float64 -----------------------------------------------------------------------
    ("Value of a huge long double", lambda: Value(HUGE), OverflowError, r"Value: np\.longdouble\('1e\+4000'\) is too large for a float64"),
    ("Value of a huge negative long double", lambda: Value(-HUGE), OverflowError, r"Value: np\.longdouble\('-1e\+4000'\) is too large"),
    ("operand a huge long double", lambda: leaf(1.0) + HUGE, OverflowError, r"operand: np\.longdouble\('1e\+4000'\) is too large"),
    ("grad at a huge long double", lambda: ag.grad(lambda x: x)(HUGE), OverflowError, r"grad: argument 0: np\.longdouble\('1e\+4000'\) is too large"),
    ("grad at an array holding one", lambda: ag.grad(cube_sum)(np.array([1.0, HUGE], dtype=np.longdouble)), OverflowError, r"grad: argument 0\[1\]: .*too large for a float64"),
    ("backward of a huge long double", lambda: (leaf(1.0) * 2.0).backward(HUGE), OverflowError, r"backward: np\.longdouble\('1e\+4000'\) is too large"),
    # -- sizes a scalar engine refuses before making any node -----------------------------------------
    ("grad of 10**8 numbers", lambda: ag.grad(cube_sum)(np.zeros(10**8)), ValueError, r"grad: argument 0 holds 100,000,000 numbers, more than autograd\.arguments\.MAX_INPUTS = 1,000,000: .*use autograd\.compile.*raise the cap"),
    ("value_and_grad of a long list", lambda: ag.value_and_grad(cube_sum)([0.0] * 1_000_001), ValueError, r"value_and_grad: argument 0 holds 1,000,001 numbers, more than .*MAX_INPUTS"),
    ("grad of two arguments together", lambda: ag.grad(product, argnums=(0, 1))(np.zeros(600_000), np.zeros(700_000)), ValueError, r"grad: argument 1 holds 700,000 numbers \(1,300,000 with the other arguments\)"),
    ("grad beside a long list of floats", lambda: ag.grad(lambda x, ys: x)(1.0, [0.0] * 1_000_001), ValueError, r"grad: argument 1 holds 1,000,001 numbers \(1,000,002 with the other arguments\)"),
    ("jvp of 10**7 numbers", lambda: ag.jvp(cube_sum, (np.zeros(10**7),), (np.zeros(10**7),)), ValueError, r"jvp: argument 0 holds 10,000,000 numbers"),
    ("vjp of 10**7 numbers", lambda: ag.vjp(cube_sum, np.zeros((10**4, 10**3))), ValueError, r"vjp: argument 0 holds 10,000,000 numbers"),
    ("hessian of 4,000 numbers", lambda: ag.hessian(cube_sum)(np.zeros(4000)), ValueError, r"hessian: argument 0 holds 4,000 numbers \(4,000 in all\), so the Hessian would hold 4,000 x 4,000 = 16,000,000 entries, more than autograd\.arguments\.MAX_ENTRIES = 10,000,000; hvp"),
    ("jacobian of 20,000 outputs by 1,000", lambda: ag.jacobian(lambda x: [x[0]] * 20_000)(np.zeros(1000)), ValueError, r"jacobian: 20,000 outputs by 1,000 inputs make 20,000,000 derivatives, more than autograd\.arguments\.MAX_ENTRIES"),
    ("jacfwd of 20,000 outputs by 1,000", lambda: ag.jacfwd(lambda x: [x[0]] * 20_000)(np.zeros(1000)), ValueError, r"jacfwd: 20,000 outputs by 1,000 inputs make 20,000,000 derivatives"),
    # -- the reverse pass and its orders, called directly ---------------------------------------------
    ("gradients of a str", lambda: ag.gradients("y", [leaf(1.0)]), TypeError, r"gradients: output must be a Value or a number, got str 'y'"),
    ("gradients of None", lambda: ag.gradients(None, [leaf(1.0)]), TypeError, r"gradients: output must be a Value or a number, got NoneType"),
    ("gradients for a str", lambda: ag.gradients(leaf(1.0) * 2.0, "xy"), TypeError, r"gradients: inputs must be a list of Values, got str"),
    ("gradients for one Value", lambda: ag.gradients(leaf(1.0) * 2.0, leaf(2.0)), TypeError, r"gradients: inputs must be a list of Values, got Value \(write \[x\] for one\)"),
    ("gradients for a float", lambda: ag.gradients(leaf(1.0) * 2.0, [1.0]), TypeError, r"gradients: inputs\[0\] must be a Value, got float 1\.0"),
    ("gradients of a number for a label", lambda: ag.gradients(3.0, [leaf(1.0), "x"]), TypeError, r"gradients: inputs\[1\] must be a Value, got str 'x'"),
    ("backprop of a float", lambda: ag.backprop(1.0), TypeError, r"backprop: root must be a Value, got float 1\.0"),
    ("backprop seed str", lambda: ag.backprop(leaf(1.0) * 2.0, "1"), TypeError, r"backprop: seed: expected a real number, got str '1'"),
    ("backprop seed None", lambda: ag.backprop(leaf(1.0) * 2.0, None), TypeError, r"backprop: seed: expected a real number, got NoneType"),
    ("backprop seed list", lambda: ag.backprop(leaf(1.0) * 2.0, [1.0]), TypeError, r"backprop: seed: expected a real number, got list \[1\.0\]"),
    ("backprop seed nan", lambda: ag.backprop(leaf(1.0) * 2.0, NAN), ValueError, r"backprop: seed must be finite, got nan"),
    ("backward seed inf", lambda: (leaf(1.0) * 2.0).backward(INF), ValueError, r"backprop: seed must be finite, got inf"),
    ("backward_order of None", lambda: ag.backward_order(None), TypeError, r"backward_order: root must be a Value, got NoneType"),
    ("operand_order of one Value", lambda: ag.operand_order(leaf(1.0)), TypeError, r"operand_order: roots must be a list of Values, got Value \(write \[y\] for one\)"),
    ("operand_order of a float", lambda: ag.operand_order([leaf(1.0), 2.0]), TypeError, r"operand_order: roots\[1\] must be a Value, got float 2\.0"),
    ("local_derivatives of a float", lambda: ag.local_derivatives(1.0), TypeError, r"local_derivatives: node must be a Value, got float 1\.0"),
    ("local_derivatives of sqrt at 0", lambda: ag.local_derivatives(leaf(0.0, "z").sqrt()), ZeroDivisionError, r"local_derivatives of sqrt at 'z' \(data=0\.0\): the derivative is not finite here"),
    ("jvp of sqrt at 0", lambda: ag.jvp(lambda x: x.sqrt(), (0.0,), (1.0,)), ZeroDivisionError, r"jvp of sqrt at an input Value without a label \(data=0\.0\): the derivative is not finite here"),
    ("jacfwd of 1/x at 1e-200", lambda: ag.jacfwd(lambda x: 1.0 / x)(1e-200), OverflowError, r"jacfwd of div at the constant 1\.0, .*\(data=1e-200\): the derivative is not finite here"),
    # -- sum, dot, logsumexp, pick: what they iterate over --------------------------------------------
    ("sum of one Value", lambda: ag.sum(leaf(1.0)), TypeError, r"sum: expected an iterable of numbers or Values, got Value"),
    ("sum of a float", lambda: ag.sum(3.0), TypeError, r"sum: expected an iterable of numbers or Values, got float 3\.0"),
    ("sum of a str", lambda: ag.sum("12"), TypeError, r"sum: expected an iterable of numbers or Values, got str '12'"),
    ("sum of a 0-d array", lambda: ag.sum(np.array(3.0)), TypeError, r"sum: expected a sequence or a 1-d array, got an array of shape \(\)"),
    ("sum of a matrix of Values", lambda: ag.sum(np.array([[leaf(1.0), leaf(2.0)]], dtype=object)), TypeError, r"sum: expected a sequence or a 1-d array, got an array of shape \(1, 2\) \(ravel\(\) it"),
    ("dot of matrices", lambda: ag.dot(np.ones((2, 2)), np.ones((2, 2))), TypeError, r"dot: expected a sequence or a 1-d array, got an array of shape \(2, 2\)"),
    ("dot of a Value", lambda: ag.dot(leaf(1.0), [1.0]), TypeError, r"dot: expected an iterable of numbers or Values, got Value"),
    ("logsumexp of one Value", lambda: ag.logsumexp(leaf(1.0)), TypeError, r"logsumexp: expected an iterable of numbers or Values, got Value"),
    ("logsumexp of an empty generator", lambda: ag.logsumexp(x for x in []), ValueError, r"logsumexp: no values"),
    ("pick from a Value", lambda: ag.pick(leaf(1.0), 0), TypeError, r"pick: expected an iterable of numbers or Values, got Value"),
    ("pick numpy index past the end", lambda: ag.pick([leaf(1.0)], np.int64(1)), IndexError, r"pick: index 1 is not in \[0, 1\)"),
    ("pick numpy bool index", lambda: ag.pick([leaf(1.0)], np.True_), TypeError, r"pick: index must be an int or a Value, got bool"),
]


@pytest.mark.parametrize(("thunk", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_input_is_refused_by_name(thunk: Callable[[], Any], error: type[BaseException], message: str) -> None:
    assert_refused(thunk, error, message)


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({name for name, *_ in CASES}) == len(CASES)


# -- a node that no gradient reaches --------------------------------------------------------------


def test_a_computed_index_for_pick_gets_no_gradient_and_stops_nothing() -> None:
    # pick([x, 2x], i) with i = y * 1 = 1 is 2x: d/dx = 2, and the index gets nothing (its node is in the
    # graph, but pick's rule gives it no partial).
    x, y = leaf(2.0), leaf(1.0, "y")
    index = y * 1.0
    out = ag.pick([x, x * 2.0], index)
    assert ag.gradients(out, [x, y, index]) == [2.0, 0.0, 0.0]
    grads = ag.backprop(out)
    assert grads[x] == 2.0 and index not in grads and y not in grads  # left out, as an unreached leaf is
    out.backward()
    assert (x.grad, y.grad, index.grad) == (2.0, 0.0, 0.0)


@pytest.mark.parametrize("mode", ["fast", "general on Values", "anomaly"])
def test_both_loops_skip_what_no_rule_reaches(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # two_of_three(x, x, k + 1) + pick([x, 3x], k - 1) at k = 2 is x (k + 1) + x + 3x: d/dx = 3 + 1 + 3 = 7.
    # The computed constant k + 1 and the computed index k - 1 get no partial, and so k gets 0.
    x, k = leaf(1.5), leaf(2.0, "k")
    out = TWO_OF_THREE(x, x, k + 1.0) + ag.pick([x, x * 3.0], k - 1.0)
    if mode == "fast":  # the fast loop alone must do it, without handing over
        monkeypatch.setattr(ag.backward, "_backprop_general", lambda *args: pytest.fail("fell back"))
        grads = ag.gradients(out, [x, k])
    elif mode == "general on Values":
        grads = [float(g) for g in ag.gradients(out, [x, k], create_graph=True)]
    else:
        with ag.detect_anomaly():
            grads = ag.gradients(out, [x, k])
    assert grads == [7.0, 0.0]


def test_a_custom_ops_computed_constant_gets_no_gradient() -> None:
    # scale(x, 3k) = 3 k x: d/dx = 3k = 6; the constant 3k (a node, since k is a Value) gets none
    x, k = leaf(1.5), leaf(2.0, "k")
    out = SCALE(x, k * 3.0)
    assert isinstance(out, Value)
    out.backward()
    assert (x.grad, k.grad) == (6.0, 0.0)
    assert ag.grad(lambda x, k: SCALE(x, k * 3.0), argnums=(0, 1))(1.5, 2.0) == (6.0, 0.0)


def test_a_rules_own_key_error_is_not_taken_for_a_missing_gradient() -> None:
    table: dict[str, float] = {}
    lookup = Op("lookup", lambda x: x, lambda g, x, out: (table["missing"],))
    with pytest.raises(KeyError, match="missing"):
        (leaf(1.0) * 2.0 + lookup(leaf(1.0))).backward()


def test_the_skip_works_deep_in_a_long_chain() -> None:
    # A chain of 3,000 steps with a computed pick index at every tenth: d/dx of (x·1.001^n) stays exact.
    x = leaf(1.0)
    y: Value = x
    for step in range(3000):
        y = y * 1.001
        if step % 10 == 0:
            y = ag.pick([y, y * 0.0], leaf(0.0) * 1.0)
    assert math.isclose(ag.gradients(y, [x])[0], 1.001**3000, rel_tol=1e-10)


# -- numpy numbers where Python's work ------------------------------------------------------------


@pytest.mark.parametrize("index", [1, np.int64(1), np.int32(1), np.uint8(1), (np.int16(1),)])
def test_numpy_ints_are_argnums_everywhere(index: Any) -> None:
    # f = x y²: d/dy = 2 x y = 12, d²/dy² = 2x = 4 at (2, 3)
    f = lambda x, y: x * y * y
    assert np.ravel(ag.grad(f, argnums=index)(2.0, 3.0)).tolist() == [12.0]
    assert np.ravel(ag.value_and_grad(f, argnums=index)(2.0, 3.0)[1]).tolist() == [12.0]
    assert ag.jacobian(f, argnums=index)(2.0, 3.0) == [[12.0]]
    assert ag.jacfwd(f, argnums=index)(2.0, 3.0) == [[12.0]]
    assert ag.hessian(f, argnums=index)(2.0, 3.0) == [[4.0]]
    assert ag.hvp(lambda y: f(2.0, y), (3.0,), (np.int64(1),)) == 4.0


@pytest.mark.parametrize("result", [np.float32(2.5), np.float16(2.5), np.int64(2), np.longdouble(2.5), np.array(2.5)])
def test_any_real_numpy_scalar_is_a_result(result: Any) -> None:
    # a constant result: its value as a float, its derivative 0
    expected = float(result)
    assert ag.jvp(lambda x: result, (1.0,), (1.0,)) == (expected, 0.0)
    assert ag.value_and_grad(lambda x: result)(1.0) == (expected, 0.0)
    assert ag.jacobian(lambda x: [x, result])(1.0) == [[1.0], [0.0]]


def test_a_result_in_a_0d_array_keeps_its_derivative() -> None:
    # f = 3x returned in a 0-d array (of one Value): still 3x; a float32 beside it is a constant
    assert ag.grad(lambda x: np.array(x * 3.0))(2.0) == 3.0
    assert ag.jvp(lambda x: [x * 3.0, np.float32(1.0)], (2.0,), (1.0,)) == ([6.0, 1.0], [3.0, 0.0])


def test_long_doubles_within_range_are_numbers() -> None:
    assert Value(np.longdouble(2.5)).data == 2.5 and Value(np.longdouble("inf")).data == INF
    assert ag.grad(lambda x: x * x)(np.longdouble(1.5)) == 3.0


def test_zero_dimensional_arrays_round_trip() -> None:
    # x³ at 2: 8, 12, 12 (the Hessian is 6x)
    g = ag.grad(lambda x: x * x * x)(np.array(2.0))
    assert isinstance(g, np.ndarray) and g.shape == () and float(g) == 12.0
    assert float(ag.hessian(lambda x: x * x * x)(np.array(2.0))) == 12.0
    assert ag.jvp(lambda x: x * x * x, (np.array(2.0),), (np.array(1.0),))[1] == 12.0
    value, pull = ag.vjp(lambda x: np.array(x * x * x), 2.0)
    assert value == 8.0 and pull(np.array(1.0)) == (12.0,)


# -- the caps: fast, named, and raisable ----------------------------------------------------------


def test_a_refusal_by_size_is_immediate() -> None:
    big = np.zeros(10**8)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="MAX_INPUTS"):
        ag.grad(cube_sum)(big)
    with pytest.raises(ValueError, match="MAX_ENTRIES"):
        ag.hessian(cube_sum)(big[:10**4])
    assert time.perf_counter() - start < 1.0  # no node made: before this, 10**8 Values and a MemoryError after 34 s


def test_the_caps_can_be_raised_and_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autograd.arguments, "MAX_INPUTS", 3)
    with pytest.raises(ValueError, match=r"argument 0 holds 4 numbers, more than autograd\.arguments\.MAX_INPUTS = 3"):
        ag.grad(cube_sum)([1.0, 2.0, 3.0, 4.0])
    assert ag.grad(cube_sum)([1.0, 2.0, 3.0]) == [3.0, 12.0, 27.0]  # 3x²
    monkeypatch.setattr(autograd.arguments, "MAX_ENTRIES", 4)
    with pytest.raises(ValueError, match=r"hessian: argument 0 holds 3 numbers \(3 in all\), so the Hessian would hold 3 x 3 = 9"):
        ag.hessian(cube_sum)([1.0, 2.0, 3.0])
    assert ag.hessian(cube_sum)([1.0, 2.0]) == [[6.0, 0.0], [0.0, 12.0]]  # 6x on the diagonal
    with pytest.raises(ValueError, match=r"jacfwd: 3 outputs by 2 inputs make 6 derivatives"):
        ag.jacfwd(lambda x: [x[0], x[1], x[0]])([1.0, 2.0])
    monkeypatch.setattr(autograd.arguments, "MAX_INPUTS", 10**9)
    monkeypatch.setattr(autograd.arguments, "MAX_ENTRIES", 10**9)
    assert ag.jacobian(lambda x: [x[0]] * 5)([1.0, 2.0]) == [[1.0, 0.0]] * 5


def test_a_list_of_ints_beside_the_argument_is_not_counted() -> None:
    # Only a list of floats becomes constant Values; a long list of ints (indices) is passed as it is.
    indices = list(range(1_000_001))
    assert ag.grad(lambda x, ks: x * float(len(ks)))(1.0, indices) == 1_000_001.0


# -- the rest of the functional API under stress --------------------------------------------------


def test_argnums_repeated_and_negative_agree_across_both_modes() -> None:
    # d(x y²)/dy = 2 x y = 12 at (2, 3), once per selection
    f = lambda x, y: x * y * y
    assert ag.jacfwd(f, argnums=(1, -1))(2.0, 3.0) == ag.jacobian(f, argnums=(1, -1))(2.0, 3.0) == [[12.0, 12.0]]
    assert ag.jvp(f, (2.0, 3.0), (0.0, 1.0))[1] == 12.0


def test_the_same_value_given_twice_is_two_arguments() -> None:
    # d(a b)/da = b and d(a b)/db = a, both 2 here: each slot differentiated alone
    x = leaf(2.0)
    da, db = ag.grad(lambda a, b: a * b, argnums=(0, 1))(x, x)
    assert (float(da), float(db)) == (2.0, 2.0)
    assert ag.gradients(x * x, [x, x]) == [4.0, 4.0]  # d(x²)/dx = 2x, asked twice


def test_gradients_of_a_node_for_itself_is_one() -> None:
    y = leaf(2.0) * 3.0
    assert ag.gradients(y, [y]) == [1.0]
    assert ag.gradients(leaf(5.0), [leaf(1.0)]) == [0.0]  # unrelated leaves
    assert ag.gradients(np.float32(3.0), [leaf(1.0)]) == [0.0]  # a number depends on nothing
    assert ag.gradients(y, (v for v in [y])) == [1.0]  # any iterable of Values


def test_backprop_seeds_of_any_real_type_give_floats() -> None:
    x = leaf(2.0)
    y = x * 3.0
    for seed in (2, np.float32(2.0), np.int64(2), True):
        grads = ag.backprop(y, seed)
        assert type(grads[x]) is float and grads[x] == 3.0 * float(seed)


def test_local_derivatives_of_a_leaf_are_none() -> None:
    x = leaf(2.0)
    assert ag.local_derivatives(x) == ()
    assert ag.local_derivatives(x * 3.0) == (3.0, 2.0)  # d(x c)/dx = c, d(x c)/dc = x: mul differentiates both
    assert ag.local_derivatives(x**3) == (12.0,)  # d(x³)/dx = 3x²; the exponent is a parameter, with none


def test_a_failing_f_leaves_no_transform_running() -> None:
    with pytest.raises(RuntimeError):
        ag.grad(boom)(1.0)
    # if the failure had left the transform depth raised, this would return a Value
    assert type(ag.grad(lambda x: x * x)(3.0)) is float


def test_nan_primals_still_follow_the_numeric_rules() -> None:
    # only tangents and seeds must be finite: a NaN point gives NaN, as everywhere else
    value, tangent = ag.jvp(lambda x: x * 2.0, (NAN,), (1.0,))
    assert math.isnan(value) and tangent == 2.0


def test_sum_dot_and_logsumexp_take_generators_and_arrays_of_values() -> None:
    xs = [leaf(float(k)) for k in range(3)]
    assert float(ag.sum(x * 1.0 for x in xs)) == 3.0
    assert float(ag.dot((x for x in xs), (2.0 for _ in xs))) == 6.0
    assert math.isclose(ag.logsumexp(x for x in xs).data, math.log(1 + math.e + math.e**2), rel_tol=1e-15)
    column = np.array(xs, dtype=object)
    total = ag.sum(column)
    assert ag.gradients(total, xs) == [1.0, 1.0, 1.0]
    assert ag.pick(column, np.int64(2)) is xs[2]
    assert ag.grad(lambda v: ag.dot(v, v))(np.array([1.0, 2.0])).tolist() == [2.0, 4.0]  # d(v·v)/dv = 2v


def test_two_threads_differentiating_the_same_function_get_their_own_numbers() -> None:
    # f = tanh(x y) + x³: df/dx = 2 (1 - tanh²(2x)) + 3x² at y = 2, computed by reverse and forward mode.
    f = lambda x, y: (x * y).tanh() + x**3
    df = ag.grad(f)
    barrier = threading.Barrier(2)
    wrong: list[tuple[float, float, float]] = []

    def work(offset: float) -> None:
        barrier.wait()
        for i in range(200):
            x = offset + 0.001 * i
            t = math.tanh(2.0 * x)
            expected = 2.0 * (1.0 - t * t) + 3.0 * x * x
            for got in (df(x, 2.0), ag.jvp(f, (x, 2.0), (1.0, 0.0))[1]):
                if not math.isclose(got, expected, rel_tol=1e-12):
                    wrong.append((x, got, expected))

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (0.1, 0.7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []

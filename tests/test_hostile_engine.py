# ruff: noqa: E501  (the catalogue keeps one case per line)
# mypy: disable-error-code="arg-type, operator, return-value"
# (hostile inputs break the signatures on purpose)
"""Hostile inputs to the engine, the functional API and the gradient checks: a catalogue of cases.

Each case gives the exact exception type and a pattern for a message that names the culprit (the
op or the argument, and the value). The expected numbers come from the math: relu(nan) is nan, d(x y)/dx
is y, sin's period is 2 pi.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import AnomalyError, Op, Value
from tests.catalogue import assert_refused

NAN, INF = math.nan, math.inf
STR_OP = Op("shout", lambda x: "loud", lambda g, x, out: (g,))
BARE_VJP = Op("bare", lambda x: 2.0 * x, lambda g, x, out: 2.0 * g)
NONE_VJP = Op("hollow", lambda x: 2.0 * x, lambda g, x, out: (None,))
LIST_OP = Op("listy", lambda x: [x], lambda g, x, out: (g,))


def leaf(x: float, label: str = "x") -> Value:
    return Value(x, label=label)


def backward_of(make: Callable[[Value], Value], x: float) -> Callable[[], None]:
    return lambda: make(leaf(x)).backward()


def anomaly(thunk: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with ag.detect_anomaly():
            return thunk()

    return run


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    # -- Value and operators --------------------------------------------------------------------
    ("Value(str)", lambda: Value("1.5"), TypeError, r"Value: expected a real number, got str '1\.5'"),
    ("Value(None)", lambda: Value(None), TypeError, r"Value: expected a real number, got NoneType None"),
    ("Value(complex)", lambda: Value(1j), TypeError, r"Value: expected a real number, got complex 1j"),
    ("Value(list)", lambda: Value([1.0]), TypeError, r"Value: expected a real number, got list \[1\.0\]"),
    ("Value(10**400)", lambda: Value(10**400), OverflowError, r"Value: 1000.*too large for a float64"),
    ("Value label int", lambda: Value(1.0, label=3), TypeError, r"label must be a str, got int"),
    ("Value + str", lambda: leaf(1.0) + "a", TypeError, r"unsupported operand.*'Value' and 'str'"),
    ("None * Value", lambda: None * leaf(1.0), TypeError, r"unsupported operand.*'NoneType' and 'Value'"),
    ("Value / 0", lambda: leaf(1.0) / 0, ZeroDivisionError, r"div: division by zero in 1\.0 / 0\.0"),
    ("Value + 10**400", lambda: leaf(1.0) + 10**400, OverflowError, r"operand: 1000.*too large for a float64"),
    ("1e200 / 1e-200", lambda: leaf(1e200) / 1e-200, OverflowError, r"div: 1e\+200 / 1e-200 is too large"),
    ("0 ** -1", lambda: leaf(0.0) ** -1, ZeroDivisionError, r"pow: 0\.0 cannot be raised to the negative power -1"),
    ("(-8) ** 0.5", lambda: leaf(-8.0) ** 0.5, ValueError, r"pow: negative base -8\.0 with non-integer exponent 0\.5"),
    ("10 ** 400", lambda: leaf(10.0) ** 400, OverflowError, r"pow: 10\.0 \*\* 400\.0 is too large"),
    ("exp(1000)", lambda: leaf(1000.0).exp(), OverflowError, r"exp: exp\(1000\.0\) is too large"),
    ("log(0)", lambda: leaf(0.0).log(), ValueError, r"log: argument must be positive, got 0\.0"),
    ("log(-inf)", lambda: leaf(-INF).log(), ValueError, r"log: argument must be positive, got -inf"),
    ("sqrt(-1)", lambda: leaf(-1.0).sqrt(), ValueError, r"sqrt: argument must be non-negative, got -1\.0"),
    ("sin(inf)", lambda: leaf(INF).sin(), ValueError, r"sin: sin\(inf\) is undefined"),
    ("cos(-inf)", lambda: ag.cos(-INF), ValueError, r"cos: cos\(-inf\) is undefined"),
    ("leaky slope nan", lambda: leaf(1.0).leaky_relu(NAN), ValueError, r"leaky_relu slope: must be finite, got nan"),
    ("leaky slope str", lambda: ag.leaky_relu(1.0, "a"), TypeError, r"leaky_relu slope: expected a real number, got str"),
    ("dot lengths", lambda: ag.dot([leaf(1.0)], [1.0, 2.0]), ValueError, r"dot: .*1 weights, 2 inputs"),
    ("x < str", lambda: leaf(1.0) < "a", TypeError, r"'<' not supported between instances of 'Value' and 'str'"),
    # -- backward -------------------------------------------------------------------------------
    ("backward(str)", lambda: (leaf(1.0) * 2).backward("1"), TypeError, r"backward: expected a real number, got str"),
    ("backward(None)", lambda: (leaf(1.0) * 2).backward(None), TypeError, r"backward: expected a real number, got NoneType"),
    ("1/x at 1e-200", backward_of(lambda x: 1 / x, 1e-200), OverflowError, r"backward of div at .*'x' \(data=1e-200\)"),
    ("x**-1 at 1e-200", backward_of(lambda x: x**-1, 1e-200), OverflowError, r"backward of pow_const at 'x' \(data=1e-200\)"),
    ("sqrt'(0)", backward_of(lambda x: x.sqrt(), 0.0), ZeroDivisionError, r"backward of sqrt at 'x' \(data=0\.0\)"),
    ("log'(5e-324)", backward_of(lambda x: x.log(), 5e-324), OverflowError, r"backward of log at 'x' \(data=5e-324\)"),
    # -- custom ops -----------------------------------------------------------------------------
    ("forward gives str", lambda: STR_OP(leaf(1.0)), TypeError, r"the forward of 'shout' must return a real number, got str 'loud'"),
    ("forward gives str on floats", lambda: STR_OP(1.0), TypeError, r"the forward of 'shout' must return a real number"),
    ("forward gives list", lambda: LIST_OP(leaf(2.0)), TypeError, r"the forward of 'listy' must return a real number, got list"),
    ("vjp gives bare float", backward_of(BARE_VJP, 1.0), TypeError, r"backward of bare: .*the rule of 'bare' must return a tuple.*got float 2\.0"),
    ("vjp gives None", backward_of(NONE_VJP, 1.0), TypeError, r"backward of hollow: .*rule of 'hollow' returned a non-number among \(None,\)"),
    ("Op name int", lambda: Op(3, abs, abs), TypeError, r"Op: name must be a non-empty str, got int 3"),
    ("Op forward not callable", lambda: Op("f", 2.0, abs), TypeError, r"Op 'f': forward must be callable, got float 2\.0"),
    ("Op vjp not callable", lambda: Op("f", abs, None), TypeError, r"Op 'f': vjp must be callable, got NoneType"),
    ("Op kink nan", lambda: Op("f", abs, abs, kinks=[NAN]), ValueError, r"Op 'f': kink: must be finite, got nan"),
    ("Op symbol int", lambda: Op("f", abs, abs, symbol=1), TypeError, r"Op 'f': symbol must be a str, got int"),
    # -- detect_anomaly -------------------------------------------------------------------------
    ("anomaly relu(nan)", anomaly(lambda: leaf(NAN).relu()), AnomalyError, r"forward of relu gave nan from 'x' \(data=nan\)"),
    ("anomaly abs(nan)", anomaly(lambda: abs(leaf(NAN))), AnomalyError, r"forward of abs gave nan from 'x'"),
    ("anomaly leaky(nan)", anomaly(lambda: leaf(NAN).leaky_relu()), AnomalyError, r"forward of leaky_relu gave nan"),
    ("anomaly x**0 at nan", anomaly(lambda: leaf(NAN) ** 0), AnomalyError, r"forward of pow_const gave nan"),
    ("anomaly tanh(inf)", anomaly(lambda: leaf(INF).tanh()), AnomalyError, r"tanh was given inf, in 'x' \(data=inf\)"),
    ("anomaly inf - inf", anomaly(lambda: leaf(INF) - INF), AnomalyError, r"forward of sub gave nan"),
    ("anomaly backward pow exponent", anomaly(lambda: (leaf(-8.0) ** leaf(2.0, "k")).backward()), AnomalyError, r"backward of pow .*gave the gradient nan for its input 'k'"),
    # -- functional API -------------------------------------------------------------------------
    ("argnums out of range", lambda: ag.grad(lambda x, y: x * y, argnums=(0, 2))(1.0, 2.0), ValueError, r"grad: argnums=\(0, 2\) does not fit a call with 2 positional arguments: index 2"),
    ("argnums -3", lambda: ag.grad(lambda x, y: x * y, argnums=-3)(1.0, 2.0), ValueError, r"index -3 is out of range"),
    ("argnums float", lambda: ag.grad(lambda x: x, argnums=0.0), TypeError, r"grad: argnums must be an int or a tuple of ints, got float 0\.0"),
    ("argnums bool", lambda: ag.grad(lambda x, y: x, argnums=True), TypeError, r"grad: argnums must hold ints, got bool True"),
    ("argnums str", lambda: ag.value_and_grad(lambda x: x, argnums="0"), TypeError, r"value_and_grad: argnums must be an int or a tuple of ints, got str"),
    ("argnums None in tuple", lambda: ag.jacobian(lambda x: x, argnums=(0, None)), TypeError, r"jacobian: argnums must hold ints, got NoneType None"),
    ("argnums empty", lambda: ag.hessian(lambda x: x, argnums=()), ValueError, r"hessian: argnums=\(\) selects no argument"),
    ("grad of str arg", lambda: ag.grad(lambda x: x)("1.0"), TypeError, r"grad: argument 0: expected a real number, got str '1\.0'"),
    ("grad of None arg", lambda: ag.grad(lambda x, y: x * y, argnums=1)(1.0, None), TypeError, r"grad: argument 1: expected a real number, got NoneType"),
    ("grad of list item str", lambda: ag.grad(lambda xs: xs[0])([1.0, "b"]), TypeError, r"grad: argument 0\[1\]: expected a real number, got str 'b'"),
    ("grad of 10**400", lambda: ag.grad(lambda x: x)(10**400), OverflowError, r"grad: argument 0: 1000.*too large"),
    ("grad non-scalar", lambda: ag.grad(lambda x: [x, x])(1.0), TypeError, r"grad: the function must return a scalar .*got list; use jacobian"),
    ("grad returns str", lambda: ag.grad(lambda x: "x")(1.0), TypeError, r"grad: the function must return a scalar .*got str"),
    ("grad returns None", lambda: ag.value_and_grad(lambda x: None)(1.0), TypeError, r"value_and_grad: the function must return a scalar .*got NoneType"),
    ("jacobian row str", lambda: ag.jacobian(lambda x: [x, "y"])(1.0), TypeError, r"jacobian: the function must return a scalar .*got str"),
    ("hessian of sqrt at 0", lambda: ag.hessian(lambda x: x.sqrt())(0.0), ZeroDivisionError, r"backward of sqrt"),
    ("grad of log at nan under anomaly", anomaly(lambda: ag.grad(lambda x: x.log())(NAN)), AnomalyError, r"forward of log gave nan"),
    # -- gradient checks ------------------------------------------------------------------------
    ("gradcheck eps 0", lambda: ag.gradcheck(lambda x: x, 1.0, eps=0.0), ValueError, r"gradcheck: eps must be > 0, got 0\.0"),
    ("gradcheck eps nan", lambda: ag.gradcheck(lambda x: x, 1.0, eps=NAN), ValueError, r"gradcheck: eps must be finite, got nan"),
    ("gradcheck atol -1", lambda: ag.gradcheck(lambda x: x, 1.0, atol=-1.0), ValueError, r"gradcheck: atol must be >= 0, got -1\.0"),
    ("gradcheck rtol str", lambda: ag.gradcheck(lambda x: x, 1.0, rtol="1"), TypeError, r"gradcheck: rtol must be a real number, got str"),
    ("gradcheck rtol bool", lambda: ag.gradcheck(lambda x: x, 1.0, rtol=True), TypeError, r"gradcheck: rtol must be a real number, got bool"),
    ("gradcheck eps 1", lambda: ag.gradcheck(lambda x: x, 1.0, eps=1.0), ValueError, r"eps is a relative step and must be at most 0\.1"),
    ("gradcheck at nan", lambda: ag.gradcheck(lambda x: x, NAN), ValueError, r"gradcheck: argument x must be finite, got nan"),
    ("gradcheck at inf", lambda: ag.gradcheck(lambda x, y: x * y, 1.0, INF), ValueError, r"gradcheck: argument y must be finite, got inf"),
    ("gradcheck at str", lambda: ag.gradcheck(lambda x: x, "1"), TypeError, r"gradcheck: argument x must be a real number, got str"),
    ("gradcheck order 3", lambda: ag.gradcheck(lambda x: x, 1.0, order=3), ValueError, r"gradcheck: order must be 1 or 2, got 3"),
    ("gradcheck returns list", lambda: ag.gradcheck(lambda x: [x], 1.0), TypeError, r"gradcheck: f must return a scalar .*got list"),
    ("gradcheck no args", lambda: ag.gradcheck(lambda: Value(1.0)), ValueError, r"gradcheck: give at least one number"),
    ("check_gradients float loss", lambda: ag.check_gradients(1.0, {"x": 1.0}), TypeError, r"check_gradients: loss must be a Value, got float"),
    ("check_gradients list expected", lambda: ag.check_gradients(leaf(1.0) * 2, [1.0]), TypeError, r"check_gradients: expected must map Values or labels to numbers: list"),
    ("check_gradients nan tol", lambda: ag.check_gradients(leaf(1.0) * 2, {"x": 2.0}, atol=NAN), ValueError, r"check_gradients: atol must be finite, got nan"),
    ("check_gradients str hand", lambda: ag.check_gradients(leaf(1.0) * 2, {"x": "2"}), TypeError, r"the expected gradient for 'x' must be a real number, got str"),
    ("check_parameters None loss", lambda: ag.check_parameters(None, [leaf(1.0)]), TypeError, r"check_parameters: loss must be a Value, got NoneType"),
    ("check_parameters str params", lambda: ag.check_parameters(leaf(1.0) * 2, "w"), TypeError, r"check_parameters: parameters must be .*got str"),
    ("check_parameters float param", lambda: ag.check_parameters(leaf(1.0) * 2, {"w": 1.0}), TypeError, r"parameter 'w' must be a Value, got float"),
    ("check_parameters empty", lambda: ag.check_parameters(leaf(1.0) * 2, []), ValueError, r"check_parameters: nothing to check"),
    ("check_parameters outsider", lambda: ag.check_parameters(leaf(1.0) * 2, [leaf(3.0, "w")]), ValueError, r"none of the 1 parameters is in the graph"),
    ("check_op not an Op", lambda: ag.check_op(abs, 1.0), TypeError, r"check_op: expected an Op, got builtin_function_or_method"),
    ("check_op at nan", lambda: ag.check_op(ag.rules.RELU, NAN), ValueError, r"check_op 'relu': argument 0 must be finite, got nan"),
    ("check_op no args", lambda: ag.check_op(ag.rules.EXP), ValueError, r"check_op: give the inputs at which to check 'exp'"),
    ("check_op bare vjp", lambda: ag.check_op(BARE_VJP, 1.0), TypeError, r"rule of 'bare' must return a tuple"),
    ("check_op order bool", lambda: ag.check_op(ag.rules.EXP, 1.0, order=True), ValueError, r"check_op: order must be 1 or 2, got True"),
]


@pytest.mark.parametrize(("thunk", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_input_is_refused_by_name(thunk: Callable[[], Any], error: type[BaseException], message: str) -> None:
    assert_refused(thunk, error, message)


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({name for name, *_ in CASES}) == len(CASES)


# -- what the fixes promise, with numbers from the math -------------------------------------------


@pytest.mark.parametrize(
    "make",
    [lambda x: x.relu(), lambda x: abs(x), lambda x: x.leaky_relu(0.1), lambda x: x**0, lambda x: 1.0**x,
     lambda x: x.softplus(), lambda x: x.sigmoid(), lambda x: x.log(), lambda x: x.sqrt(), lambda x: x * x],
    ids=["relu", "abs", "leaky_relu", "x**0", "1**x", "softplus", "sigmoid", "log", "sqrt", "square"],
)
def test_nan_in_nan_out_forward_and_backward(make: Callable[[Value], Value]) -> None:
    x = leaf(NAN)
    out = make(x)
    out.backward()
    assert math.isnan(out.data) and math.isnan(x.grad)


def test_a_derivative_that_does_not_depend_on_x_stays_finite_at_nan() -> None:
    x = leaf(NAN)
    (ag.sum([x, 1.0]) - 2.0 * x).backward()  # d/dx (x + 1 - 2x) = -1 wherever x is
    assert x.grad == -1.0 and math.isnan((x / 0.0).data)


def test_infinite_inputs_give_the_limits() -> None:
    assert ag.relu(INF) == INF and ag.relu(-INF) == 0.0 and ag.tanh(INF) == 1.0 and ag.exp(-INF) == 0.0
    assert math.isnan(ag.sum([INF, -INF]))  # + follows IEEE 754 (fsum alone would raise)
    x = leaf(-INF)
    x.relu().backward()
    assert x.grad == 0.0


def test_numpy_bools_and_numbers_are_taken_like_python_ones() -> None:
    assert Value(np.True_).data == 1.0 and Value(True).data == 1.0 and Value(np.False_).data == 0.0
    assert (leaf(2.0) * np.True_).data == 2.0 and (np.int64(3) * leaf(2.0)).data == 6.0
    assert ag.grad(lambda x: x * x)(np.float32(1.5)) == 3.0


def test_pow_with_a_negative_base_differentiates_the_base() -> None:
    base, exponent = leaf(-8.0, "b"), leaf(2.0, "k")
    (base**exponent).backward()  # d/db b^2 = 2b = -16; d/dk has no real value for b < 0
    assert base.grad == -16.0 and math.isnan(exponent.grad)
    k = leaf(3.0, "k")
    ((-2.0) ** k).backward()
    assert math.isnan(k.grad)
    assert ag.grad(lambda b, k: b**k)(-8.0, 2.0) == -16.0


def test_a_failed_backward_leaves_every_grad_as_it_was() -> None:
    x = leaf(1e-200)
    x.grad = 5.0
    with pytest.raises(OverflowError):
        (1 / x).backward()
    assert x.grad == 5.0 and x.data == 1e-200


@pytest.mark.parametrize(
    ("argnums", "expected"),
    [((0, 0), (3.0, 3.0)), ((0, -2), (3.0, 3.0)), ((1, 0, 1), (2.0, 3.0, 2.0)), ((-1,), (2.0,))],
)
def test_repeated_argnums_give_the_derivative_once_per_selection(argnums: tuple[int, ...], expected: tuple[float, ...]) -> None:
    # d(x y)/dx = y = 3, d(x y)/dy = x = 2
    assert ag.grad(lambda x, y: x * y, argnums=argnums)(2.0, 3.0) == expected
    assert ag.jacobian(lambda x, y: x * y, argnums=argnums)(2.0, 3.0) == [list(expected)]


def test_repeated_argnums_in_hessian() -> None:
    # f = x^2 y: d2f/dx2 = 2y = 4
    assert ag.hessian(lambda x, y: x * x * y, argnums=(0, 0))(3.0, 2.0) == [[4.0, 4.0], [4.0, 4.0]]


def test_a_scope_object_shared_by_threads_tags_each_threads_nodes() -> None:
    shared = ag.scope("layer")
    barrier = threading.Barrier(4)
    wrong: list[tuple[object, ...]] = []

    def work(name: str) -> None:
        barrier.wait()
        for _ in range(300):
            with ag.scope(name), shared:
                node = leaf(1.0) * 2.0
            if node.scope != (name, "layer"):
                wrong.append(node.scope)

    threads = [threading.Thread(target=work, args=(f"t{k}",)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_scope_object_nests_in_itself_and_comes_back_out() -> None:
    s = ag.scope("block")
    with s:
        with s:
            inner = leaf(1.0) * 2.0
        middle = leaf(1.0) * 2.0
    outer = leaf(1.0) * 2.0
    assert inner.scope == ("block", "block") and middle.scope == ("block",) and outer.scope == ()
    with s:  # not stuck: usable again
        assert (leaf(1.0) * 2.0).scope == ("block",)


def test_gradcheck_cannot_decide_when_its_step_is_beyond_sins_period() -> None:
    # at x = 1e7 the step is 1e-3 * 1e7 = 1e4, more than 2 pi: sin's samples are unrelated.
    plain_sin = Op("plain_sin", math.sin, lambda g, x, out: (g * ag.cos(x),))  # no complex forward: differences
    row = ag.gradcheck(lambda x: plain_sin(x), 1e7).rows[0]
    assert row.kind == "unsettled" and "cannot decide" in row.verdict and "engine differs" not in row.verdict
    assert ag.gradcheck(lambda x: plain_sin(x), 1e7, eps=1e-9).passed  # a step of 0.01 resolves it
    exact = ag.gradcheck(lambda x: x.sin(), 1e7).rows[0]  # the built-in sin has a complex forward
    assert exact.passed and exact.referee == "complex step" and exact.exact == math.cos(1e7)
    wrong_sin = Op("wrong_sin", math.sin, lambda g, x, out: (g * ag.cos(x) * 2.0,))
    assert ag.gradcheck(lambda x: wrong_sin(x), 1e7).rows[0].kind in ("unsettled", "engine")
    assert ag.gradcheck(lambda x: wrong_sin(x), 1.0).rows[0].kind == "engine"


def test_check_gradients_with_the_same_node_twice_and_a_nan_hand_value() -> None:
    x = leaf(2.0)
    loss = x * x  # d/dx = 4
    report = ag.check_gradients(loss, {x: 4.0, "x": 4.0})
    assert report.passed and len(report.rows) == 2
    with pytest.raises(ValueError, match=r"expected gradient for 'x' must be finite, got nan"):
        ag.check_gradients(loss, {"x": NAN})
    assert x.grad == 0.0 and loss.data == 4.0  # the checks touch no grad and no data


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ag.logsumexp([]), ValueError, "logsumexp: no values"),
        (lambda: ag.pick([Value(1.0)], 1), IndexError, r"pick: index 1 is not in \[0, 1\)"),
        (lambda: ag.pick([Value(1.0)], True), TypeError, "pick: index must be an int or a Value, got bool"),
        (lambda: ag.pick([Value(1.0)], 0.0), TypeError, "pick: index must be an int or a Value, got float"),
        (lambda: ag.pick([Value(1.0), Value(2.0)], Value(0.5)), IndexError, "pick: index 0.5 is not a whole number"),
        (lambda: ag.pick([Value(1.0), Value(2.0)], Value(-1.0)), IndexError, "pick: index -1.0 is not a whole number"),
    ],
    ids=["logsumexp of nothing", "index past the end", "bool index", "float index", "fractional Value", "negative Value"],
)
def test_logsumexp_and_pick_refuse_what_has_no_meaning(call: Callable[[], object], error: type, message: str):
    with pytest.raises(error, match=message):
        call()


def test_logsumexp_keeps_the_numeric_rules():
    # NaN in, NaN out; +inf wins; all -inf is -inf; huge finite values do not overflow (log(2) + 1000).
    assert math.isnan(ag.logsumexp([Value(1.0), Value(math.nan)]).data)
    assert ag.logsumexp([Value(1.0), Value(math.inf)]).data == math.inf
    assert ag.logsumexp([Value(-math.inf), Value(-math.inf)]).data == -math.inf
    assert math.isclose(ag.logsumexp([Value(1000.0), Value(1000.0)]).data, 1000.0 + math.log(2.0), rel_tol=1e-15)

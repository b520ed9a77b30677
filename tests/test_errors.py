"""Bad input: wrong types, domain errors, overflow. Each error is typed and names the op and operand."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import autograd as ag
from autograd import Value


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [("abc", "str"), (None, "NoneType"), ([1.0], "list"), (1 + 2j, "complex"), (object(), "object"), ({}, "dict")],
)
def test_value_rejects_non_numbers(bad, type_name):
    with pytest.raises(TypeError, match=rf"Value: expected a real number, got {type_name}"):
        Value(bad)


def test_value_accepts_real_numbers_as_float():
    for number in [3, 2.5, np.float32(1.5), np.int64(7), Fraction(1, 4), True]:
        v = Value(number)
        assert type(v.data) is float and v.data == float(number)


def test_label_must_be_a_string():
    with pytest.raises(TypeError, match="label must be a str, got int"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["a", None, [1], 1j])
def test_operators_reject_non_numbers(bad):
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"unsupported operand|not supported"):
        x + bad
    with pytest.raises(TypeError, match="Value"):
        bad * x
    with pytest.raises(TypeError, match="not supported"):
        x < bad  # noqa: B015


def test_functions_reject_non_numbers():
    with pytest.raises(TypeError, match="exp: expected a real number, got str 'abc'"):
        ag.exp("abc")  # type: ignore[type-var]
    with pytest.raises(TypeError, match="leaky_relu slope: expected a real number, got str"):
        Value(1.0).leaky_relu("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sum: expected a real number, got NoneType"):
        ag.sum([Value(1.0), None])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Value(0.0).log(), ValueError, r"log: argument must be positive, got 0\.0"),
        (lambda: Value(-2.0).log(), ValueError, r"log: argument must be positive, got -2\.0"),
        (lambda: ag.log(-1.0), ValueError, r"log: argument must be positive, got -1\.0"),
        (lambda: Value(-4.0).sqrt(), ValueError, r"sqrt: argument must be non-negative, got -4\.0"),
        (lambda: Value(1.0) / 0, ZeroDivisionError, r"div: division by zero in 1\.0 / 0\.0"),
        (lambda: 1 / Value(0.0), ZeroDivisionError, r"div: division by zero in 1\.0 / 0\.0"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, r"pow: 0\.0 cannot be raised to the negative power -1\.0"),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, r"pow: negative base -8\.0 with non-integer exponent"),
        (lambda: Value(-8.0) ** Value(0.5), ValueError, r"pow: negative base -8\.0 with non-integer exponent 0\.5"),
        (lambda: (-2) ** Value(0.5), ValueError, r"pow: negative base -2\.0 with non-integer exponent 0\.5"),
    ],
)
def test_domain_errors_name_the_op_and_operand(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_no_bare_math_domain_error():
    for make in [lambda: Value(0.0).log(), lambda: Value(-1.0).sqrt(), lambda: Value(-1.0) ** 0.5]:
        with pytest.raises(ValueError, match=r"^(log|sqrt|pow): ") as info:
            make()
        assert "math domain error" not in str(info.value)


def test_overflow_rule():
    with pytest.raises(OverflowError, match=r"exp: exp\(1000\.0\) is too large for a float64"):
        Value(1000.0).exp()
    with pytest.raises(OverflowError, match=r"pow: 10\.0 \*\* 400\.0 is too large"):
        Value(10.0) ** 400
    assert ag.exp(709.0) == pytest.approx(math.exp(709.0))
    # + - * follow IEEE 754: inf, not an exception (detect_anomaly reports it)
    assert (Value(1e308) * 10).data == math.inf


def test_integer_powers_of_negative_bases_are_fine():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0


def test_infinite_derivative_in_backward_names_the_op():
    x = Value(0.0, label="x")
    y = x.sqrt()
    assert y.data == 0.0
    with pytest.raises(ZeroDivisionError, match=r"backward of sqrt at 'x' \(data=0\.0\): the derivative is not finite"):
        y.backward()
    with pytest.raises(ZeroDivisionError, match="backward of pow"):
        (Value(0.0) ** 0.5).backward()


def test_a_negative_base_keeps_its_gradient_and_the_exponent_gets_nan():
    # (-2)^k is real only at integers k, so d/dk does not exist; d/dbase = k base^(k-1) = 2 * -2 = -4.
    base, exponent = Value(-2.0, label="base"), Value(2.0, label="k")
    (base**exponent).backward()
    assert base.grad == -4.0 and math.isnan(exponent.grad)


def test_zero_base_powers_have_finite_derivatives_where_they_exist():
    k = Value(2.0)
    (0.0**k).backward()  # d/dk 0^k = 0 for k > 0
    assert k.grad == 0.0
    x = Value(0.0)
    (x**0).backward()  # x^0 = 1 everywhere
    assert x.grad == 0.0


def test_functional_api_errors():
    with pytest.raises(ValueError, match=r"grad: argnums=3 does not fit a call with 1 positional arguments"):
        ag.grad(lambda x: x, argnums=3)(1.0)
    with pytest.raises(TypeError, match=r"grad: the function must return a scalar .* got list; use jacobian"):
        ag.grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="grad: argument 0: expected a real number, got str"):
        ag.grad(lambda x: x)("1")
    with pytest.raises(TypeError, match="backward: expected a real number, got str"):
        Value(1.0).backward("1")  # type: ignore[arg-type]

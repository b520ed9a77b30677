"""numpy arrays of any shape in and out of the functional API, and the arguments not differentiated
arriving as constant Values (floats) or as they are (ints and everything else)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd import Value

X1 = np.array([0.5, -1.0, 2.0])
X2 = np.array([[1.0, 2.0, -0.5], [0.25, 3.0, -2.0]])


def cubes(x: Any) -> Any:
    return (x**3).sum()  # Σ x³: gradient 3x², Hessian diag(6x)


@pytest.mark.parametrize("x", [X1, X2], ids=["vector", "matrix"])
def test_grad_and_value_and_grad_give_arrays_of_the_argument_shape(x: np.ndarray):
    g = ag.grad(cubes)(x)
    assert isinstance(g, np.ndarray) and g.dtype == float and g.shape == x.shape
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-15)
    value, g2 = ag.value_and_grad(cubes)(x)
    assert value == pytest.approx(float(np.sum(x**3)), rel=1e-15)
    np.testing.assert_array_equal(g, g2)


@pytest.mark.parametrize("x", [X1, X2], ids=["vector", "matrix"])
def test_hessian_and_jacobians_have_output_shape_plus_input_shape(x: np.ndarray):
    h = ag.hessian(cubes)(x)
    assert h.shape == x.shape + x.shape
    expected = np.diag(6 * x.ravel()).reshape(x.shape + x.shape)  # by hand: d²/dx_i dx_j Σ x³ = 6 x_i [i = j]
    np.testing.assert_allclose(h, expected, rtol=1e-15)
    square = lambda v: v**2
    reverse, forward = ag.jacobian(square)(x), ag.jacfwd(square)(x)
    np.testing.assert_allclose(reverse, np.diag(2 * x.ravel()).reshape(x.shape + x.shape), rtol=1e-15)
    np.testing.assert_array_equal(reverse, forward)
    assert ag.jacobian(cubes)(x).shape == x.shape  # a scalar out: the gradient


def test_forward_mode_and_vector_products_take_arrays():
    f = lambda w: (w * w).sum() + w[0, 1] * w[1, 0]
    w = np.array([[1.0, 2.0], [3.0, 0.5]])
    v = np.ones((2, 2))
    value, tangent = ag.jvp(f, (w,), (v,))
    # by hand: ∇f = 2w + [[0, w10], [w01, 0]] = [[2, 7], [8, 1]], and ∇f · v = 18
    assert value == pytest.approx(1 + 4 + 9 + 0.25 + 6) and tangent == pytest.approx(18.0)
    out, pull = ag.vjp(lambda a: a**2, w)
    np.testing.assert_array_equal(out, w**2)
    (back,) = pull(np.ones((2, 2)))
    np.testing.assert_array_equal(back, 2 * w)
    np.testing.assert_allclose(ag.hvp(f, (w,), (v,)), [[2.0, 3.0], [3.0, 2.0]])  # H v = 2v + v with w01, w10 swapped


def test_nested_derivatives_of_arrays():
    inner = lambda y: cubes(y)
    outer = ag.grad(lambda x: ag.grad(inner)(x).sum())(X1)  # d/dx Σ 3x² = 6x
    np.testing.assert_allclose(outer, 6 * X1, rtol=1e-15)


def test_gradcheck_names_array_entries_and_catches_a_wrong_rule():
    report = ag.gradcheck(cubes, X2)
    assert report.passed and [row.name for row in report.rows][:2] == ["x[0,0]", "x[0,1]"]
    wrong = ag.Op("cube", lambda v: v**3, lambda g, v, out: (2 * g * v**2,))
    assert not ag.gradcheck(lambda x: ag.sum([wrong(v) for v in x.ravel()]), X2).passed


def test_check_gradients_takes_numpy_numbers():
    x = Value(2.0, label="x")
    assert ag.check_gradients(x**3, {"x": np.float64(12.0)}).passed
    assert not ag.check_gradients(x**3, {"x": np.float32(11.0)}).passed


def test_lists_stay_lists():
    g = ag.grad(lambda v: v[0] * v[1])([2.0, 5.0])
    assert g == [5.0, 2.0] and isinstance(g, list)


def test_numbers_not_differentiated_arrive_as_constant_values():
    seen: list[Any] = []

    def f(x: Value, y: Any, n: Any, flags: Any, name: Any, ys: Any, data: Any) -> Any:
        seen.extend([y, n, flags, name, ys, data])
        total = x * y.sigmoid()  # method syntax on a constant
        for _ in range(n):  # an int is a count ...
            total = total * x
        return total + ys[0] * ys[1] + data[n - 1]  # ... and an index; an array arrives unchanged

    value, g = ag.value_and_grad(f)(0.7, -0.3, 2, True, "label", [1.5, 2.0], np.array([10.0, 20.0]))
    y, n, flags, name, ys, data = seen
    assert isinstance(y, Value) and y.data == -0.3 and y.grad == 0.0
    assert n == 2 and type(n) is int and flags is True and name == "label"
    assert isinstance(ys, list) and all(isinstance(v, Value) for v in ys)
    assert isinstance(data, np.ndarray) and data.dtype == float
    s = 1 / (1 + math.exp(0.3))
    assert value == pytest.approx(0.7**3 * s + 3.0 + 20.0, rel=1e-14)
    assert g == pytest.approx(3 * 0.7**2 * s, rel=1e-14)  # d/dx x³ s(y)
    assert ag.grad(lambda a, b: a * b.sigmoid())(0.7, np.float64(-0.3)) == pytest.approx(s, rel=1e-14)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ag.grad(cubes)(np.array(["a", "b"])), TypeError, "grad: argument 0: an array to differentiate"),
        (lambda: ag.grad(cubes)(np.array([1.0, None], dtype=object)), TypeError, "argument 0[1]: expected a real"),
        (lambda: ag.gradcheck(cubes, np.array([1.0, np.nan])), ValueError, "argument x[1] must be finite, got nan"),
        (lambda: ag.jvp(cubes, (X1,), (np.ones(2),)), ValueError, "tangent 0 must have the shape of primal 0"),
        (lambda: ag.vjp(lambda a: a**2, X1)[1](np.ones(2)), ValueError, "the cotangent must have the output's shape"),
    ],
)
def test_bad_arrays_are_named(call: Any, error: type[Exception], message: str):
    with pytest.raises(error, match=re.escape(message)):
        call()


@pytest.mark.parametrize(
    ("function", "derivative"),
    [(np.exp, np.exp), (np.log, lambda x: 1 / x), (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
     (np.tanh, lambda x: 1 - np.tanh(x) ** 2), (np.sin, np.cos), (np.cos, lambda x: -np.sin(x)),
     (np.abs, np.sign)],
    ids=lambda f: getattr(f, "__name__", ""),
)  # fmt: skip
def test_numpy_functions_on_values_keep_the_gradient(function: Any, derivative: Any):
    # numpy calls the Value's method of the same name, so the gradient flows (d/dx x f(x) = f + x f')
    x = 0.7
    expected = function(x) + x * derivative(x)
    assert ag.grad(lambda v: v * function(v))(x) == pytest.approx(float(expected), rel=1e-14)
    arrays = ag.grad(lambda a: (a * function(a)).sum())(np.array([0.7, 1.3]))
    np.testing.assert_allclose(arrays, [function(t) + t * derivative(t) for t in (0.7, 1.3)], rtol=1e-14)

"""grad, value_and_grad, jacobian, hessian: values against hand derivations and sympy."""

from __future__ import annotations

import math

import pytest
import sympy as sp

import autograd as ag
from autograd import Value


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def test_grad_of_rosenbrock_matches_hand_derivation():
    # df/dx = -2(1 - x) - 400 x (y - x^2), df/dy = 200 (y - x^2)
    x, y = -1.2, 1.0
    gx, gy = ag.grad(rosenbrock, argnums=(0, 1))(x, y)
    assert gx == pytest.approx(-2 * (1 - x) - 400 * x * (y - x**2))
    assert gy == pytest.approx(200 * (y - x**2))
    assert isinstance(gx, float) and isinstance(gy, float)


def test_hessian_of_rosenbrock_matches_hand_derivation():
    x, y = -1.2, 1.0
    h = ag.hessian(rosenbrock, argnums=(0, 1))(x, y)
    expected = [[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]]
    assert h == [[pytest.approx(e) for e in row] for row in expected]
    assert all(isinstance(e, float) for row in h for e in row)


def test_hessian_with_a_list_argument_matches_sympy():
    a, b, c = sp.symbols("a b c", real=True)
    expr = sp.exp(a * b) + sp.sin(c) * a**2 + b * c
    point = [0.3, -0.8, 1.1]
    expected = sp.hessian(expr, (a, b, c)).subs(dict(zip((a, b, c), point, strict=True)))

    def f(v):
        return ag.exp(v[0] * v[1]) + ag.sin(v[2]) * v[0] ** 2 + v[1] * v[2]

    h = ag.hessian(f)(point)
    for i in range(3):
        for j in range(3):
            assert h[i][j] == pytest.approx(float(expected[i, j]), rel=1e-12, abs=1e-12)


def test_value_and_grad():
    value, gradient = ag.value_and_grad(lambda x: x.sin() * x)(0.7)
    assert value == pytest.approx(math.sin(0.7) * 0.7)
    assert gradient == pytest.approx(math.cos(0.7) * 0.7 + math.sin(0.7))


def test_grad_with_list_argument_returns_list():
    g = ag.grad(lambda v: ag.dot(v, v))([1.0, 2.0, 3.0])
    assert g == [2.0, 4.0, 6.0]
    g = ag.grad(lambda v, s: ag.sum(v) * s, argnums=(0, 1))((1.0, 2.0), 3.0)
    assert g == ([3.0, 3.0], 3.0)


def test_negative_argnums_and_kwargs():
    f = lambda a, b, scale=1.0: a * b * scale
    assert ag.grad(f, argnums=-1)(2.0, 5.0, scale=3.0) == 6.0


def test_jacobian():
    # f(x, y) = (x y, x + sin y): J = [[y, x], [1, cos y]]
    j = ag.jacobian(lambda x, y: [x * y, x + ag.sin(y)], argnums=(0, 1))(2.0, 0.5)
    assert j == [[0.5, 2.0], [1.0, pytest.approx(math.cos(0.5))]]
    assert ag.jacobian(lambda v: v[0] * v[1])([3.0, 4.0]) == [[4.0, 3.0]]


def test_higher_orders_compose_and_match_sympy():
    t = sp.Symbol("t", real=True)
    expr = sp.sin(t) * sp.exp(t / 2)
    f = lambda v: ag.sin(v) * ag.exp(v / 2)
    derivative = f
    for order in range(1, 5):
        derivative = ag.grad(derivative)
        exact = float(sp.diff(expr, t, order).subs(t, 0.9))
        assert derivative(0.9) == pytest.approx(exact, rel=1e-12), order


def test_nested_grad_does_not_confuse_perturbations():
    # d/dx [ d/dy (x y) at y = x ] = d/dx [x] = 1, not 2
    assert ag.grad(lambda x: ag.grad(lambda y: x * y)(x))(2.0) == 1.0


def test_inner_grad_sees_outer_variables_through_closures():
    # d/dw [ d/dx (x w) ] = d/dw [w] = 1
    assert ag.grad(lambda w: ag.grad(lambda x: x * w)(1.0))(2.0) == 1.0


def test_functional_api_leaves_callers_grads_alone():
    x = Value(1.5, label="x")
    w = Value(2.0, label="w")
    x.grad, w.grad = 7.0, -3.0
    result = ag.grad(lambda v: v * w * v)(x)
    assert isinstance(result, Value) and result.data == pytest.approx(2 * 1.5 * 2.0)
    ag.hessian(lambda v: v * w * v)(x)
    ag.jacobian(lambda v: [v * w])(x)
    assert (x.grad, w.grad) == (7.0, -3.0)


def test_grad_with_value_input_stays_differentiable():
    x = Value(3.0)
    dy = ag.grad(lambda v: v**3)(x)  # 3 x^2 as a Value connected to x
    dy.backward()
    assert dy.data == 27.0
    assert x.grad == 18.0  # d/dx 3x^2 = 6x


def test_constant_function_has_zero_gradient():
    assert ag.grad(lambda x: 5.0)(1.0) == 0.0
    assert ag.hessian(lambda x: x * 3)(1.0) == [[0.0]]


def test_newtons_method_finds_the_minimum():
    # f(x) = x^4 - 3x^2 + x has a local minimum near x = 1.13 (f'(x) = 4x^3 - 6x + 1 = 0)
    f = lambda x: x**4 - 3 * x**2 + x
    df, d2f = ag.grad(f), ag.grad(ag.grad(f))
    x = 2.0
    for _ in range(20):
        x -= df(x) / d2f(x)
    assert 4 * x**3 - 6 * x + 1 == pytest.approx(0.0, abs=1e-12)
    assert d2f(x) > 0


def test_hessian_errors_name_hessian():
    with pytest.raises(ValueError, match=r"^hessian: argnums=\(0, 1\) does not fit a call with 1 positional"):
        ag.hessian(lambda x: x * x, argnums=(0, 1))(1.0)

"""Forward mode against sympy and against reverse mode: every op at orders 1 to 3, vector products,
Jacobians both ways, Hessian-vector products, composition with grad, and bad arguments."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pytest
import sympy as sp

import autograd as ag
from autograd import Op, Value
from tests.test_ops import BINARY, CASES, IDS, PAIRS, close, exact, x_, y_


def forward_derivative(fn: Callable[[Any], Any], order: int) -> Callable[[Any], Any]:
    """d^order fn / dx^order, by nesting jvp with the unit tangent (forward over forward)."""
    if order == 0:
        return fn
    inner = forward_derivative(fn, order - 1)
    return lambda x: ag.jvp(inner, (x,), (1.0,))[1]


@pytest.mark.parametrize(("name", "fn", "expr", "point"), CASES, ids=IDS)
def test_every_unary_op_matches_sympy_at_orders_one_to_three(name, fn, expr, point):
    value, tangent = ag.jvp(fn, (point,), (1.0,))
    assert isinstance(tangent, float)
    assert close(value, exact(expr, point)) and close(tangent, exact(expr, point, 1))
    assert close(forward_derivative(fn, 2)(point), exact(expr, point, 2), rel=1e-8, abs_=1e-10)
    assert close(forward_derivative(fn, 3)(point), exact(expr, point, 3), rel=1e-7, abs_=1e-9)
    # forward over reverse and reverse over forward agree with the same numbers
    assert close(ag.jvp(ag.grad(fn), (point,), (1.0,))[1], exact(expr, point, 2), rel=1e-8, abs_=1e-10)
    assert close(ag.grad(forward_derivative(fn, 1))(point), exact(expr, point, 2), rel=1e-8, abs_=1e-10)


@pytest.mark.parametrize(("name", "fn", "expr"), BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("pair", PAIRS, ids=str)
def test_every_binary_op_pushes_any_direction(name, fn, expr, pair):
    point = {x_: sp.Float(pair[0], 30), y_: sp.Float(pair[1], 30)}
    direction = (0.6, -1.3)
    expected = sum(float(sp.diff(expr, s).subs(point)) * d for s, d in zip((x_, y_), direction, strict=True))
    _, tangent = ag.jvp(fn, pair, direction)
    assert close(tangent, expected, rel=1e-9, abs_=1e-11)
    # second order along the direction: vᵀ H v, from hvp, against sympy's Hessian
    hessian = [[float(sp.diff(expr, a, b).subs(point)) for b in (x_, y_)] for a in (x_, y_)]
    quadratic = sum(direction[i] * hessian[i][j] * direction[j] for i in range(2) for j in range(2))
    hv = ag.hvp(fn, pair, direction)
    assert close(sum(h * d for h, d in zip(hv, direction, strict=True)), quadratic, rel=1e-8, abs_=1e-10)


def many_to_many(x: Value, ys: list[Value]) -> list[Any]:
    total = ag.sum([y * y for y in ys])
    return [x * total, (x * ys[0]).tanh(), ag.dot(ys, ys[::-1]) + x.exp(), ys[-1] / (1.0 + x * x), 2.0]


def test_jacfwd_and_jacobian_agree():
    args = (0.4, [1.5, -0.3, 2.0])
    forward = ag.jacfwd(many_to_many, argnums=(0, 1))(*args)
    reverse = ag.jacobian(many_to_many, argnums=(0, 1))(*args)
    assert len(forward) == 5 and all(len(row) == 4 for row in forward)
    for row_f, row_r in zip(forward, reverse, strict=True):
        for a, b in zip(row_f, row_r, strict=True):
            assert close(a, b, rel=1e-12, abs_=1e-15)
    assert forward[4] == [0.0] * 4  # a constant output
    # one selected argument: columns for it alone, here d f_0 / dx = sum(y²)
    assert close(ag.jacfwd(many_to_many)(*args)[0][0], 1.5**2 + 0.3**2 + 2.0**2)


def test_an_argument_selected_twice_gives_its_column_twice_in_both_modes():
    f = lambda x, y: [x * y, x.exp()]
    forward = ag.jacfwd(f, argnums=(0, 0, 1))(2.0, 3.0)
    assert forward == ag.jacobian(f, argnums=(0, 0, 1))(2.0, 3.0)
    assert forward == [[3.0, 3.0, 2.0], [math.exp(2.0), math.exp(2.0), 0.0]]  # by hand: d(xy)/dx = y, d/dy = x


def test_vjp_pulls_back_any_cotangent():
    out, pull = ag.vjp(many_to_many, 0.4, [1.5, -0.3, 2.0])
    jac = ag.jacobian(many_to_many, argnums=(0, 1))(0.4, [1.5, -0.3, 2.0])
    assert out[4] == 2.0 and close(out[0], 0.4 * (1.5**2 + 0.3**2 + 4.0))
    cotangent = [1.0, -2.0, 0.5, 3.0, 7.0]
    dx, dys = pull(cotangent)
    expected = [sum(c * jac[i][j] for i, c in enumerate(cotangent)) for j in range(4)]
    assert close(dx, expected[0]) and all(close(a, b) for a, b in zip(dys, expected[1:], strict=True))
    assert isinstance(dys, list)
    assert pull([0.0] * 5) == (0.0, [0.0, 0.0, 0.0])  # the graph is kept: pull again


def test_hvp_is_hessian_times_vector_without_the_hessian():
    f = lambda x, y, z: (x * y).sin() + z * x**3 - (y * z).exp()
    point, v = (0.3, -1.1, 0.7), (1.0, 2.0, -0.5)
    hessian = ag.hessian(f, argnums=(0, 1, 2))(*point)
    product = ag.hvp(f, point, v)
    assert isinstance(product, tuple) and len(product) == 3
    for i in range(3):
        assert close(product[i], sum(hessian[i][j] * v[j] for j in range(3)), rel=1e-12, abs_=1e-14)
    assert close(ag.hvp(lambda x: x**4, (2.0,), (0.5,)), 12 * 2.0**2 * 0.5)  # a lone argument: a lone result


def test_forward_mode_composes_with_grad_and_stays_differentiable():
    # d/dx of the directional derivative of x³y along (1, 0) at y = 2: d/dx (3x² y) = 6xy
    g = ag.grad(lambda x: ag.jvp(lambda a, b: a**3 * b, (x, 2.0), (1.0, 0.0))[1])
    assert g(1.5) == pytest.approx(6 * 1.5 * 2.0, rel=1e-14)
    x = Value(0.8)
    _, tangent = ag.jvp(lambda a: a.tanh(), (x,), (1.0,))  # Values in: a Value out, with a graph
    assert isinstance(tangent, Value)
    tangent.backward()
    assert math.isclose(x.grad, -2 * math.tanh(0.8) * (1 - math.tanh(0.8) ** 2), rel_tol=1e-14)


def test_custom_ops_and_trailing_constants_work_in_forward_mode():
    cube = Op("cube", lambda x: x**3, lambda g, x, out: (3 * g * x**2,))
    scaled = Op("scaled", lambda x, a: a * x, lambda g, x, a, out: (g * a,))  # a: a constant parameter
    assert ag.jvp(lambda x: cube(x), (2.0,), (1.0,))[1] == 12.0
    assert ag.jvp(lambda x, a: scaled(x, a), (2.0, 3.0), (1.0, 1.0))[1] == 3.0  # a has no partial


def test_operand_order_lists_every_node_once_after_its_inputs():
    x, y = Value(1.0), Value(2.0)
    shared = x * y
    first, second = shared.exp(), shared + x
    order = ag.operand_order([first, second, shared])
    assert len(order) == len(set(order)) == 5  # x, y, shared, first, second
    position = {node: k for k, node in enumerate(order)}
    assert all(position[p] < position[node] for node in order for p in node.parents)
    # Operands in order, the first one's whole subgraph first: as the code made the nodes.
    assert order == [x, y, shared, first, second]


def test_the_same_input_used_twice_and_a_reused_subexpression():
    def f(x: Value) -> Value:
        s = x * x
        return s * s + s  # x⁴ + x²
    assert ag.jvp(f, (1.5,), (2.0,))[1] == pytest.approx((4 * 1.5**3 + 2 * 1.5) * 2.0, rel=1e-15)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ag.jvp(lambda x: x, 1.0, (1.0,)), TypeError, "primals must be a tuple or list"),  # type: ignore[arg-type]
        (lambda: ag.jvp(lambda x: x, (1.0,), 1.0), TypeError, "tangents must be a tuple or list"),  # type: ignore[arg-type]
        (lambda: ag.jvp(lambda x: x, (1.0, 2.0), (1.0,)), ValueError, "2 primals but 1 tangents"),
        (lambda: ag.jvp(lambda x: x[0], ([1.0, 2.0],), ([1.0],)), ValueError, "tangent 0 must have the shape"),
        (lambda: ag.jvp(lambda x: x, (1.0,), ("a",)), TypeError, "tangents must be numbers, got str 'a'"),
        (lambda: ag.jvp(lambda x: x, ("a",), (1.0,)), TypeError, "jvp: argument 0: expected a real number, got str"),
        (lambda: ag.jvp(lambda x: "y", (1.0,), (1.0,)), TypeError, "jvp: the function must return a scalar"),
        (lambda: ag.jacfwd(lambda x: x, argnums=3)(1.0), ValueError, "index 3 is out of range"),
        (lambda: ag.jacfwd(lambda x: x, argnums=())(1.0), ValueError, "argnums"),
        (lambda: ag.vjp(lambda x: [x, x], 1.0)[1]([1.0]), ValueError, "the cotangent must have the output's"),
        (lambda: ag.hvp(lambda x: [x], (1.0,), (1.0,)), TypeError, "use jacobian for a function with several"),
    ],
)
def test_bad_arguments_are_named(call: Callable[[], Any], error: type[Exception], message: str):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_jvp_through_logsumexp_and_pick_matches_the_derivative_by_hand():
    # f(x) = log(e^x + e^2x): f'(x) = (e^x + 2 e^2x) / (e^x + e^2x); at x = 1 worked out with math.
    value, tangent = ag.jvp(lambda x: ag.logsumexp([x, x * 2.0]), (1.0,), (1.0,))
    e1, e2 = math.exp(1.0), math.exp(2.0)
    assert math.isclose(value, math.log(e1 + e2), rel_tol=1e-14)
    assert math.isclose(tangent, (e1 + 2 * e2) / (e1 + e2), rel_tol=1e-14)
    # pick(x**2, 3x, index 1) is 3x: its tangent along 1 is 3.
    _, picked = ag.jvp(lambda x: ag.pick([x * x, x * 3.0], Value(1.0)), (2.0,), (1.0,))
    assert picked == 3.0


def test_no_outputs_or_no_inputs_is_an_empty_jacobian_in_both_modes():
    # f: R -> R^0 has a 0 x 1 Jacobian, and f: R^0 -> R a 1 x 0 one: empty, not an error, in either mode.
    assert ag.jacobian(lambda x: [])(1.0) == ag.jacfwd(lambda x: [])(1.0) == []
    assert ag.jvp(lambda x: [], (1.0,), (1.0,)) == ([], [])
    value, pull = ag.vjp(lambda x: [], 2.0)
    assert value == [] and pull([]) == (0.0,)
    assert ag.jacobian(lambda xs: ag.sum(xs))([]) == ag.jacfwd(lambda xs: ag.sum(xs))([]) == [[]]
    assert ag.jvp(lambda xs, y: ag.sum(xs) + y, ([], 3.0), ([], 2.0)) == (3.0, 2.0)

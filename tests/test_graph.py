"""Graph shapes: reuse, diamonds, constants, accumulation, very deep chains, the Value API."""

from __future__ import annotations

import math
import sys

import pytest

import autograd as ag
from autograd import Value


def test_reused_node_gets_both_contributions():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0  # d(a + a)/da = 2
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0  # d(b^2)/db = 2b


def test_diamond():
    # d = (2a)(3a) = 6a^2, dd/da = 12a; the gradients of b and c are 3a and 2a
    a = Value(1.5)
    b, c = a * 2, a * 3
    d = b * c
    d.backward()
    assert a.grad == pytest.approx(12 * 1.5)
    assert b.grad == pytest.approx(3 * 1.5)
    assert c.grad == pytest.approx(2 * 1.5)


def test_micrograd_readme_expression():
    # micrograd's README example; its published results are g.data = 24.7041, a.grad = 138.8338, b.grad = 645.5773
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_constants_are_not_nodes():
    x = Value(2.0)
    three_x = 3 * x
    y = three_x + 1
    assert three_x.parents == (x,) and three_x.inputs == (3.0, x)
    assert y.parents == (three_x,) and y.inputs == (three_x, 1.0)
    y.backward()
    assert x.grad == 3.0


def test_reflected_operators():
    x = Value(2.0)
    for expr, derivative in [
        (lambda v: 5 - v, -1.0),
        (lambda v: 8 / v, -8 / 4),
        (lambda v: 3**v, 9 * math.log(3)),
        (lambda v: 2 + v, 1.0),
        (lambda v: 4 * v, 4.0),
    ]:
        x.grad = 0.0
        expr(x).backward()
        assert x.grad == pytest.approx(derivative)


def test_gradients_accumulate_across_calls_and_zero_grad_resets():
    x = Value(2.0)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad == 8.0  # 2 * (2x), as in PyTorch
    assert y.grad == 2.0
    y.zero_grad()
    assert (x.grad, y.grad) == (0.0, 0.0)
    y.backward()
    assert x.grad == 4.0


def test_second_backward_through_intermediate_nodes_is_not_double_counted():
    # a node whose grad already holds an earlier result must pass on only this pass's gradient
    x = Value(1.0)
    h = x * 3
    y = h * h  # dy/dx = 18 x
    y.backward()
    y.backward()
    assert x.grad == 36.0
    assert h.grad == 12.0


def test_backward_with_seed():
    x = Value(2.0)
    (x * x).backward(0.5)
    assert x.grad == 2.0


def test_million_node_chain_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    n = 1_000_000
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.000001
    y.backward()
    expected = math.exp(n * math.log1p(1e-6))  # d/dx of x * c^n is c^n
    assert x.grad == pytest.approx(expected, rel=1e-8)
    assert y.data == pytest.approx(expected, rel=1e-8)


def test_wide_sum_is_one_node():
    xs = [Value(float(i)) for i in range(100_000)]
    total = ag.sum(xs)
    assert total.parents == tuple(xs)
    assert total.data == sum(range(100_000))
    total.backward()
    assert all(x.grad == 1.0 for x in xs)


def test_dot_gradients_and_length_check():
    ws = [Value(1.0), Value(-2.0)]
    xs: list[Value | float] = [Value(3.0), 4.0]
    out = ag.dot(ws, xs)
    out.backward()
    assert out.data == 3.0 - 8.0
    assert [w.grad for w in ws] == [3.0, 4.0]
    assert isinstance(xs[0], Value)
    assert xs[0].grad == 1.0
    with pytest.raises(ValueError, match=r"dot: .*2 weights, 3 inputs"):
        ag.dot([1.0, 2.0], [1.0, 2.0, 3.0])
    nothing: list[float] = []
    assert ag.sum(nothing) == 0.0
    assert ag.dot(nothing, nothing) == 0.0


def test_floats_in_floats_out():
    assert ag.exp(0.0) == 1.0
    assert isinstance(ag.tanh(0.5), float)
    assert isinstance(ag.sum([1.0, 2]), float)
    assert isinstance(ag.exp(Value(0.0)), Value)


def test_value_api():
    x = Value(2.5, label="x")
    y = (x * 2).tanh()
    assert y.op == "tanh"
    assert x.op == ""
    assert y.parents[0].op == "mul"
    assert repr(x) == "Value(data=2.5, grad=0.0, label='x')"
    assert repr(Value(1)) == "Value(data=1.0, grad=0.0)"
    assert float(x) == 2.5
    assert f"{x:.2f}" == "2.50"
    assert x > 2 and x < 3 and x >= 2.5 and x <= Value(2.5)
    assert not (x > Value(3.0))
    assert max([Value(1.0), x, Value(-1.0)]) is x


def test_equality_and_hash_are_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b
    assert a == a
    grads = {a: "a", b: "b"}
    assert grads[a] == "a" and len({a, b}) == 2


def test_detach_cuts_the_graph():
    x = Value(3.0, label="x")
    y = (x * x).detach()
    assert y.op == "" and y.parents == () and y.data == 9.0
    (y * 2).backward()
    assert x.grad == 0.0


def test_scope_tags_nodes():
    x = Value(1.0)
    with ag.scope("layer"), ag.scope("neuron"):
        y = x * 2
        w = Value(0.5)
    z = y + 1
    assert y.scope == ("layer", "neuron")
    assert w.scope == ("layer", "neuron")
    assert z.scope == ()


def test_backward_order_puts_consumers_first():
    a = Value(1.0)
    b = a * 2
    c = a + b
    d = c * b
    order = ag.backward_order(d)
    position = {node: i for i, node in enumerate(order)}
    assert order[0] is d
    assert set(order) == {a, b, c, d}
    assert position[c] < position[b] < position[a]


def test_local_derivatives():
    x, y = Value(3.0), Value(4.0)
    assert ag.local_derivatives(x * y) == (4.0, 3.0)
    assert ag.local_derivatives(x**2) == (6.0,)
    assert ag.local_derivatives(x) == ()

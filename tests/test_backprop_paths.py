"""The reverse pass has a fast loop for float gradients and a general one; they must agree exactly.

backprop runs the fast loop unless gradients must be Values (create_graph) or checked (detect_anomaly),
and falls back to the general loop on anything unusual. No timings here: benchmarks/ measures speed.
"""

from __future__ import annotations

import math
import threading

import pytest
from hypothesis import given, settings

import autograd as ag
from autograd import Op, Value
from tests.test_random_graphs import points, programs, run


@settings(max_examples=150, deadline=None)
@given(programs(), points)
def test_fast_and_general_loops_agree(program, point):
    leaves = [Value(p) for p in point]
    out = run(program, leaves, engine=True)
    if not isinstance(out, Value):
        return
    fast = ag.backprop(out)
    with ag.detect_anomaly():  # the general loop, on floats
        general = ag.backprop(out)
    as_values = ag.backprop(out, create_graph=True)  # the general loop, on Values
    assert fast.keys() == general.keys() == as_values.keys()
    for node, grad in fast.items():
        assert type(grad) is float
        assert grad == general[node]
        assert math.isclose(grad, float(as_values[node]), rel_tol=1e-12, abs_tol=1e-300)


def test_backward_order_lists_each_node_once_after_its_consumers():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    a = x * y
    b = a + x
    c = ag.sum([a, b, a * b, x])
    order = ag.backward_order(c)
    assert len(order) == len(set(order)) == 6  # x, y, a, b, a * b, c
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[node] < position[parent]


def test_a_value_as_a_trailing_constant_parameter_gets_no_gradient():
    # vjp returns nothing for the slope: a Value passed there is a constant, as a float would be
    scaled = Op("scaled", lambda x, a: a * x, lambda g, x, a, out: (g * a,))
    x, slope = Value(3.0), Value(0.5)
    y = scaled(x, slope)
    assert isinstance(y, Value)
    (y * 2.0).backward()
    assert x.grad == 1.0
    assert slope.grad == 0.0
    n_ary = Op("n_ary", lambda x, y, a: a * (x + y), lambda g, x, y, a, out: (g * a, g * a))
    z = n_ary(x, Value(1.0), slope)
    assert ag.gradients(z, [x, slope]) == [0.5, 0.0]


def test_errors_in_the_fast_loop_are_reported_by_the_general_one():
    x = Value(0.0, label="x")
    y = x.sqrt() * 3.0
    with pytest.raises(ZeroDivisionError, match=r"backward of sqrt at 'x' \(data=0\.0\): the derivative is not finite"):
        y.backward()
    assert x.grad == 0.0  # nothing written when the pass fails


def test_a_leaf_as_the_root():
    x = Value(2.0)
    assert ag.backward_order(x) == [x]
    assert ag.backprop(x) == {x: 1.0}
    x.backward(3.0)
    assert x.grad == 3.0


def test_scope_works_as_a_decorator_and_per_thread():
    seen: list[tuple[object, ...]] = []

    @ag.scope("outer")
    def make(depth: int) -> Value:
        v = Value(1.0) * 2.0
        seen.append(v.scope)
        return make(depth - 1) if depth else v

    make(2)
    assert seen == [("outer",), ("outer", "outer"), ("outer", "outer", "outer")]
    results: list[tuple[object, ...]] = []
    thread = threading.Thread(target=lambda: results.append((Value(1.0) + 1.0).scope))
    with ag.scope("main thread"):
        thread.start()
        thread.join()
    assert results == [()]

"""Random expression graphs (with shared subexpressions) against finite differences of a plain-math twin."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Value

# Each op twice: once on plain floats with the math module (the yardstick), once through the engine.
UNARY: dict[str, tuple[Callable[[float], float], Callable[[Any], Any]]] = {
    "tanh": (math.tanh, lambda a: a.tanh()),
    "sin": (math.sin, lambda a: a.sin()),
    "cos": (math.cos, lambda a: a.cos()),
    "sigmoid": (lambda a: 1 / (1 + math.exp(-a)), lambda a: a.sigmoid()),
    "exp_sin": (lambda a: math.exp(math.sin(a)), lambda a: a.sin().exp()),
    "softplus": (lambda a: math.log1p(math.exp(a)), lambda a: a.softplus()),
    "square": (lambda a: a * a, lambda a: a**2),
    "log_1p_sq": (lambda a: math.log(1 + a * a), lambda a: (1 + a * a).log()),
    "sqrt_1p_sq": (lambda a: math.sqrt(1 + a * a), lambda a: (1 + a**2).sqrt()),
    "neg": (lambda a: -a, lambda a: -a),
}
BINARY: dict[str, tuple[Callable[[float, float], float], Callable[[Any, Any], Any]]] = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div_1p_sq": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "sum3": (lambda a, b: a + 2 * b + a, lambda a, b: ag.sum([a, 2 * b, a])),
    "dot": (lambda a, b: a * b + b * 0.5, lambda a, b: ag.dot([a, b], [b, 0.5])),
}
N_INPUTS = 3


@st.composite
def programs(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """A straight-line program; each step may reuse any earlier result, which makes diamonds."""
    steps = []
    for position in range(draw(st.integers(1, 12))):
        available = N_INPUTS + position
        name = draw(st.sampled_from(sorted(UNARY) + sorted(BINARY)))
        steps.append((name, draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1))))
    return steps


def run(program: list[tuple[str, int, int]], inputs: list[Any], engine: bool) -> Any:
    slots = list(inputs)
    for name, i, j in program:
        if name in UNARY:
            slots.append(UNARY[name][engine](slots[i]))
        else:
            slots.append(BINARY[name][engine](slots[i], slots[j]))
    return slots[-1]


points = st.lists(st.floats(-1.5, 1.5), min_size=N_INPUTS, max_size=N_INPUTS)


@settings(max_examples=150, deadline=None)
@given(programs(), points)
def test_backward_matches_finite_differences(program, point):
    leaves = [Value(p) for p in point]
    out = run(program, leaves, engine=True)
    plain = lambda *xs: run(program, list(xs), engine=False)
    assert math.isclose(out.data, plain(*point), rel_tol=1e-12, abs_tol=1e-12)
    out.backward()
    for i, leaf in enumerate(leaves):
        h = 1e-6
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        numeric = (plain(*up) - plain(*down)) / (2 * h)
        tolerance = 1e-6 * max(1.0, abs(out.data))
        assert math.isclose(leaf.grad, numeric, rel_tol=1e-5, abs_tol=tolerance), (i, leaf.grad, numeric)


@settings(max_examples=60, deadline=None)
@given(programs(), points)
def test_hessian_matches_finite_differences(program, point):
    plain = lambda *xs: run(program, list(xs), engine=False)
    hessian = ag.hessian(lambda v: run(program, list(v), engine=True))(point)
    h = 1e-4
    scale = max(1.0, abs(plain(*point)))
    for i in range(N_INPUTS):
        for j in range(N_INPUTS):
            corners = []
            for si, sj in [(1, 1), (1, -1), (-1, 1), (-1, -1)]:
                shifted = list(point)
                shifted[i] += si * h
                shifted[j] += sj * h
                corners.append(plain(*shifted))
            numeric = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * h * h)
            assert math.isclose(hessian[i][j], numeric, rel_tol=1e-3, abs_tol=1e-4 * scale), (i, j, hessian, numeric)
        assert all(math.isclose(hessian[i][j], hessian[j][i], rel_tol=1e-9, abs_tol=1e-12) for j in range(N_INPUTS))


# Zero, or away from the tiniest floats (below about 1e-197 the complex step is not small against x).
wide = st.one_of(st.just(0.0), st.floats(1e-150, 3.0), st.floats(-3.0, -1e-150))


@settings(max_examples=150, deadline=None)
@given(programs(), st.lists(wide, min_size=N_INPUTS, max_size=N_INPUTS))
def test_the_complex_step_never_blames_a_correct_engine(program, point):
    # Every op here is analytic, so every row is judged by the complex step, at its rounding allowance: a
    # false alarm would be a failing row. The allowance itself stays near machine precision relative to the
    # sum of the paths' magnitudes, which is what lets a slip in the twelfth digit show.
    report = ag.gradcheck(lambda *xs: run(program, list(xs), engine=True), *point)
    assert report.passed, report
    assert {row.referee for row in report.rows} == {"complex step"}, report


@settings(max_examples=40, deadline=None)
@given(programs(), st.lists(wide, min_size=N_INPUTS, max_size=N_INPUTS))
def test_the_complex_step_never_blames_a_correct_hessian(program, point):
    report = ag.gradcheck(lambda *xs: run(program, list(xs), engine=True), *point, order=2)
    assert report.passed, report

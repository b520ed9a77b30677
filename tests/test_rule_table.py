"""Every fact about an op is on its row of the rule table, and every row is whole.

Each built-in op is checked three ways at points inside its domain: its array rule (``Op.arrays``)
compiled over a batch against the scalar engine, node by node; its formula (``Op.formula``) against
its forward function; and the formula's sympy derivative against its vjp. A custom Op may bring its
own array rule, which compile then uses instead of running the scalar rule element by element.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

import autograd as ag
from autograd import ArrayRule, Op, Value, rules
from autograd.testing.complex_step import op_partials

BUILT_IN = {name: op for name, op in vars(rules).items() if isinstance(op, Op)}

# For each op: how to call it on Values made from one sample's numbers (the differentiable operands
# first), and three samples inside its domain. Constants (an exponent, a slope) are fixed numbers.
CASES: dict[str, tuple[Callable[[list[Value]], Any], list[list[float]]]] = {
    "ADD": (lambda v: rules.ADD(v[0], v[1]), [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]]),
    "SUB": (lambda v: rules.SUB(v[0], v[1]), [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]]),
    "MUL": (lambda v: rules.MUL(v[0], v[1]), [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]]),
    "DIV": (lambda v: rules.DIV(v[0], v[1]), [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]]),
    "NEG": (lambda v: rules.NEG(v[0]), [[0.3], [-2.0], [1.5]]),
    "LOG": (lambda v: rules.LOG(v[0]), [[0.3], [2.0], [11.5]]),
    "POW_CONST": (lambda v: rules.POW_CONST(v[0], 3.0), [[0.3], [-2.0], [1.5]]),
    "POW": (lambda v: rules.POW(v[0], v[1]), [[0.3, 1.7], [2.0, -0.5], [1.5, 2.5]]),
    "RPOW": (lambda v: rules.RPOW(v[0], 2.5), [[0.3], [-2.0], [1.5]]),
    "EXP": (lambda v: rules.EXP(v[0]), [[0.3], [-2.0], [1.5]]),
    "SQRT": (lambda v: rules.SQRT(v[0]), [[0.3], [2.0], [11.5]]),
    "TANH": (lambda v: rules.TANH(v[0]), [[0.3], [-2.0], [1.5]]),
    "SIGMOID": (lambda v: rules.SIGMOID(v[0]), [[0.3], [-2.0], [1.5]]),
    "RELU": (lambda v: rules.RELU(v[0]), [[0.3], [-2.0], [1.5]]),
    "LEAKY_RELU": (lambda v: rules.LEAKY_RELU(v[0], 0.1), [[0.3], [-2.0], [1.5]]),
    "SOFTPLUS": (lambda v: rules.SOFTPLUS(v[0]), [[0.3], [-2.0], [1.5]]),
    "SIN": (lambda v: rules.SIN(v[0]), [[0.3], [-2.0], [1.5]]),
    "COS": (lambda v: rules.COS(v[0]), [[0.3], [-2.0], [1.5]]),
    "ABS": (lambda v: rules.ABS(v[0]), [[0.3], [-2.0], [1.5]]),
    "SUM": (lambda v: rules.SUM(*v), [[0.3, -1.2, 0.4], [2.0, 0.5, 1.0], [-0.7, 0.1, 3.0]]),
    "DOT": (lambda v: rules.DOT(*v), [[0.3, -1.2, 0.4, 2.0], [2.0, 0.5, 1.0, -1.0], [-0.7, 0.1, 3.0, 0.25]]),
    "IDENTITY": (lambda v: rules.IDENTITY(v[0]), [[0.3], [-2.0], [1.5]]),
    "LOGSUMEXP": (lambda v: rules.LOGSUMEXP(*v), [[0.3, -1.2, 0.4], [2.0, 0.5, 1.0], [-0.7, 0.1, 3.0]]),
    # pick's last operand is the index: a Value, per sample, which gets no gradient.
    "PICK": (lambda v: rules.PICK(*v), [[0.3, -1.2, 0.4, 2.0], [2.0, 0.5, 1.0, 0.0], [-0.7, 0.1, 3.0, 1.0]]),
}


def test_every_built_in_op_has_a_case_here():
    assert set(CASES) == set(BUILT_IN)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_every_row_is_whole(name: str):
    op = BUILT_IN[name]
    assert isinstance(op.arrays, ArrayRule), f"{op.name} has no array rule: compile would run it element by element"
    assert callable(op.formula), f"{op.name} has no formula: autograd.formula would show it as an undefined function"
    assert callable(op.complex_forward), f"{op.name} has no complex forward: the checks would use finite differences"
    assert op.noun and op.symbol


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_array_rule_matches_the_scalar_engine(name: str, monkeypatch: pytest.MonkeyPatch):
    build, samples = CASES[name]
    op = BUILT_IN[name]

    def scalar_rule_elementwise(*args: object) -> None:
        raise AssertionError(f"{op.name} ran element by element: its array rule was not used")

    monkeypatch.setattr("autograd.compiler.executor._elementwise_forward", scalar_rule_elementwise)
    monkeypatch.setattr("autograd.compiler.executor._elementwise_vjp", scalar_rule_elementwise)
    weights = [Value(w) for w in (0.8, -1.1, 0.6, 1.3)[: len(samples[0])]]

    def per_sample(x: list[Value]) -> Any:
        # Multiplying by a weight first makes the operands computed nodes, so the gradient reaches the
        # weights through the op's array vjp; pick's index stays the sample's own number.
        operands = [w * xi for w, xi in zip(weights, x, strict=False)] if name != "PICK" else [
            *(w * xi for w, xi in zip(weights, x[:-1], strict=False)), x[-1]]
        return build(operands)

    compiled = ag.compile(per_sample, reduce="sum")
    result = compiled(np.array(samples))
    result.backward()
    compiled_grads = [w.grad for w in weights]
    for w in weights:
        w.grad = 0.0
    expected = []
    for sample in samples:
        out = per_sample([Value(s) for s in sample])
        expected.append(out.data)
        out.backward()
    assert result.outputs.tolist() == pytest.approx(expected, rel=1e-13, abs=1e-15)
    assert compiled_grads == pytest.approx([w.grad for w in weights], rel=1e-12, abs=1e-15)
    assert compiled.plan is not None and compiled.plan.array_ops >= 1


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_formula_matches_the_forward_and_its_derivative_the_vjp(name: str):
    build, samples = CASES[name]
    op = BUILT_IN[name]
    point = samples[1]
    leaves = [Value(v, label=f"a{i}") for i, v in enumerate(point)]
    out = build(leaves)
    expression = ag.to_sympy(out)
    symbols = {s.name: s for s in expression.free_symbols}
    at = {symbols[f"a{i}"]: sp.Float(v, 30) for i, v in enumerate(point) if f"a{i}" in symbols}
    assert float(expression.evalf(30, subs=at)) == pytest.approx(out.data, rel=1e-13)
    partials = op.vjp(1.0, *[leaf.data for leaf in leaves], *out.inputs[len(leaves):], out.data)
    for i, partial in enumerate(partials):
        if f"a{i}" not in symbols:
            continue
        derivative = sp.diff(expression, symbols[f"a{i}"])
        assert float(derivative.evalf(30, subs=at)) == pytest.approx(partial, rel=1e-12, abs=1e-15), f"d/da{i}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_complex_forward_gives_the_sympy_derivative_to_the_last_bits(name: str):
    # Im f(x + ih) / h for each differentiable operand, against sympy's derivative of the row's formula at 30
    # digits: the complex step shares nothing with the vjp, so this holds each row's two halves to each other.
    build, samples = CASES[name]
    op = BUILT_IN[name]
    for point in samples:
        leaves = [Value(v, label=f"a{i}") for i, v in enumerate(point)]
        out = build(leaves)
        expression = ag.to_sympy(out)
        symbols = {s.name: s for s in expression.free_symbols}
        at = {symbols[f"a{i}"]: sp.Float(v, 30) for i, v in enumerate(point) if f"a{i}" in symbols}
        operands = [x.data if isinstance(x, Value) else x for x in out.inputs]
        assert op.complex_forward is not None
        assert complex(op.complex_forward(*operands)).real == pytest.approx(out.data, rel=1e-15)
        for i, reference in enumerate(op_partials(op, operands)):
            exact = float(sp.diff(expression, symbols[f"a{i}"]).evalf(30, subs=at))
            assert reference.usable, reference.why_not
            assert reference.value == pytest.approx(exact, rel=4e-16, abs=1e-300), f"d/da{i} at {point}"


@pytest.mark.parametrize(
    ("op", "point", "why"),
    [
        (rules.RELU, [0.0], "relu is not analytic at 0.0: its kink"),
        (rules.ABS, [0.0], "abs is not analytic at 0.0: its kink"),
        (rules.LEAKY_RELU, [0.0, 0.1], "leaky_relu is not analytic at 0.0: its kink"),
        (rules.SQRT, [0.0], "sqrt is not analytic at 0.0"),
        (rules.POW, [-2.0, 3.0], "pow is not analytic at -2.0: a base <= 0 raised to a varying exponent"),
        (rules.POW_CONST, [0.0, 0.5], "pow is not analytic at 0.0"),
    ],
)
def test_where_an_op_is_not_analytic_the_complex_step_says_so(op: Op, point: list[float], why: str):
    refused = [reference for reference in op_partials(op, point) if not reference.usable]
    assert refused and why in refused[-1].why_not


def test_a_negative_base_to_a_whole_power_keeps_every_bit():
    # The polar form would round the angle π and return noise in the small part: (-2)^3 has d/dx = 3·4 = 12.
    (reference,) = op_partials(rules.POW_CONST, [-2.0, 3.0])
    assert reference.value == 12.0
    assert op_partials(rules.POW, [-2.0, 3.0])[0].value == 12.0  # the base's derivative; the exponent's has none


def test_a_custom_op_brings_its_own_array_rule():
    calls = {"scalar": 0, "array": 0}

    def forward(x: float) -> float:
        calls["scalar"] += 1
        return x**3

    def array_forward(x: np.ndarray) -> np.ndarray:
        calls["array"] += 1
        return x**3

    cube = Op("cube", forward, lambda g, x, out: (3 * g * x**2,), arrays=ArrayRule(array_forward))
    w = Value(0.5)
    compiled = ag.compile(lambda x: cube(w * x), reduce="sum")
    xs = np.linspace(-1.0, 1.0, 50)
    result = compiled(xs)
    result.backward()
    # The trace runs the scalar forward once, at sample 0; the batch runs the array rule once.
    assert calls == {"scalar": 1, "array": 1}
    assert result.data == pytest.approx(math.fsum((0.5 * x) ** 3 for x in xs), rel=1e-13)
    assert w.grad == pytest.approx(math.fsum(3 * (0.5 * x) ** 2 * x for x in xs), rel=1e-12)  # the scalar vjp on arrays


def test_a_custom_op_without_an_array_rule_runs_element_by_element():
    cube = Op("cube", lambda x: x**3, lambda g, x, out: (3 * g * x**2,))
    w = Value(0.5)
    result = ag.compile(lambda x: cube(w * x), reduce="sum")(np.array([1.0, 2.0, -3.0]))
    result.backward()
    assert result.data == pytest.approx(0.125 * (1 + 8 - 27))
    assert w.grad == pytest.approx(3 * 0.25 * (1 + 8 - 27))


def test_a_forward_only_call_runs_no_derivative_rule():
    # Planning used to ask each op's vjp how many operands it differentiates, at sample 0.
    def vjp(g: float, x: float, out: float) -> tuple[float]:
        raise AssertionError("a derivative rule ran for a forward-only call")

    square = Op("square", lambda x: x * x, vjp)
    outputs = ag.compile(lambda x: square(x) + ag.sqrt(x), reduce=None)(np.array([0.0, 4.0]))
    assert np.asarray(outputs.data).tolist() == [0.0, 18.0]  # sqrt at 0 is fine forward: its derivative is not


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"constants": -1}, "constants counts trailing operands"),
        ({"constants": True}, "constants counts trailing operands"),
        ({"arrays": (np.exp,)}, "arrays must be an autograd.ArrayRule, got tuple"),
        ({"formula": "exp(x)"}, "formula must be callable"),
        ({"complex_forward": "cmath.exp"}, "complex_forward must be callable, got str"),
        ({"noun": 3}, "noun must be a str, got int"),
    ],
)
def test_a_malformed_row_is_refused_naming_the_part(arguments: dict[str, object], message: str):
    with pytest.raises(TypeError, match=rf"Op 'mine': {message}"):
        Op("mine", lambda x: x, lambda g, x, out: (g,), **arguments)  # type: ignore[arg-type]


def test_pick_from_values_every_sample_shares_uses_its_array_rule(monkeypatch: pytest.MonkeyPatch):
    # A table of labels (the -1/+1 of a hinge loss) picked by each sample's class: one lookup, not a
    # scalar rule run element by element, and the same numbers as the scalar engine.
    def elementwise(*args: object) -> None:
        raise AssertionError("pick ran element by element")

    monkeypatch.setattr("autograd.compiler.executor._elementwise_forward", elementwise)
    monkeypatch.setattr("autograd.compiler.executor._elementwise_vjp", elementwise)
    w = Value(2.0)
    labels = np.array([0, 1, 1, 0])
    result = ag.compile(lambda y: ag.pick([-1.0, 1.0], y) * w, reduce="sum")(labels)
    result.backward()
    assert result.outputs.tolist() == [-2.0, 2.0, 2.0, -2.0]
    assert w.grad == 0.0  # -1 + 1 + 1 - 1
    two = ag.compile(lambda y: [ag.pick([10.0, 20.0], y), ag.pick([11.0, 21.0, 31.0], y)], reduce=None)
    assert np.asarray(two(np.array([1, 0])).data).tolist() == [[20.0, 21.0], [10.0, 11.0]]

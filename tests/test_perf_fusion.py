"""Sums of products become dots (``autograd/compiler/fusion.py``): micrograd's neuron as micrograd writes it
is planned as one matrix product per layer, and gives the scalar engine's numbers to 1e-12 relative.

The yardstick is the scalar engine, one graph per sample (``tests.test_compile.assert_same_as_scalar``); the
plan is read only to see what was fused, never for the numbers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Value
from autograd.compiler import Plan
from tests.scripts import load_script
from tests.test_compile import assert_same_as_scalar

rng = np.random.default_rng(7)


# benchmarks/micrograd_code.py holds micrograd's nn.py as micrograd writes it (on chainrule's Values): the
# tests compile the very code the benchmark times.
MLP = load_script("benchmarks/micrograd_code.py").MLP


def plan_of(fn: Callable[..., Any], *args: np.ndarray) -> Plan:
    compiled = ag.compile(fn, reduce="sum")
    compiled(*args)
    assert compiled.plan is not None
    return compiled.plan


def kinds(plan: Plan) -> list[str]:
    """Each array op as "matmul" or its op's name."""
    return ["matmul" if s.kind == "matmul" else s.op.name for s in plan.steps if s.op is not None]


def test_micrographs_mlp_is_one_matrix_product_per_layer_with_the_scalar_engines_gradients():
    random.seed(1337)
    model = MLP(3, [8, 8, 4])
    x, labels = rng.normal(size=(20, 3)), np.arange(20) % 4

    def loss(sample: Any, label: Any) -> Any:
        scores = model(sample)
        return ag.logsumexp(scores) - ag.pick(scores, label)

    assert_same_as_scalar(loss, [x, labels], model.parameters(), int_args=[1])
    steps = kinds(plan_of(loss, x, labels))
    assert steps.count("matmul") == 3 and "add" not in steps and "mul" not in steps, steps


def test_the_moons_demo_as_micrograd_writes_it():
    random.seed(1)
    model = MLP(2, [16, 16, 1])
    x, y = rng.normal(size=(30, 2)), np.where(rng.random(30) > 0.5, 1.0, -1.0)

    def loss(sample: Any, label: Any) -> Any:
        return (1 + -label * model(sample)).relu()

    assert_same_as_scalar(loss, [x, y], model.parameters())
    steps = kinds(plan_of(loss, x, y))
    assert steps.count("matmul") == 3 and steps.count("add") == 1, steps  # the add: 1 + -y * score


def test_terms_in_either_order_and_a_sum_without_a_start():
    w = [Value(v) for v in rng.normal(size=4)]
    x = rng.normal(size=(9, 4))

    def f(sample: Any) -> Any:
        return sum(s * wi if i % 2 else wi * s for i, (wi, s) in enumerate(zip(w, sample, strict=True)))

    assert_same_as_scalar(f, [x], w)
    assert kinds(plan_of(f, x)) == ["matmul"]


def test_numbers_as_weights_are_one_matrix_product_of_constants():
    x = rng.normal(size=(6, 3))

    def f(sample: Any) -> Any:
        return sum((c * s for c, s in zip((2.0, -3.0, 0.5), sample, strict=True)), 1.5)

    scale = Value(1.0)
    assert_same_as_scalar(lambda s: scale * f(s), [x], [scale])
    plan = plan_of(f, x)
    assert kinds(plan) == ["matmul"] and len(plan.leaves) == 0


def test_ag_sum_of_products_is_fused_too():
    w, b = [Value(v) for v in rng.normal(size=5)], Value(0.3)
    x = rng.normal(size=(7, 5))

    def f(sample: Any) -> Any:
        return ag.sum([wi * s for wi, s in zip(w, sample, strict=True)]) + b

    assert_same_as_scalar(f, [x], [*w, b])
    assert kinds(plan_of(f, x)) == ["matmul"]


def test_a_product_of_two_inputs_stays_a_product():
    w, b = [Value(v) for v in rng.normal(size=3)], Value(-0.2)
    x = rng.normal(size=(8, 4))

    def f(sample: Any) -> Any:
        return sum((wi * s for wi, s in zip(w, sample[:3], strict=True)), b) + sample[0] * sample[3]

    assert_same_as_scalar(f, [x], [*w, b])
    assert sorted(kinds(plan_of(f, x))) == ["add", "matmul", "mul"]  # the dot, then + x0 x3

    def only_inputs(sample: Any) -> Any:
        return sum(s * s for s in sample)

    assert "matmul" not in kinds(plan_of(only_inputs, x))
    assert_same_as_scalar(lambda s: b * only_inputs(s), [x], [b])


def test_a_parameter_used_twice_is_left_as_written():
    w, b = Value(0.7), Value(0.1)
    x = rng.normal(size=(5, 3))

    def f(sample: Any) -> Any:
        return w * sample[0] + w * sample[1] + b * sample[2]

    assert_same_as_scalar(f, [x], [w, b])
    assert "matmul" not in kinds(plan_of(f, x))

    def bias_twice(sample: Any) -> Any:
        return sum((wi * s for wi, s in zip((w, b), sample[:2], strict=True)), b)

    assert_same_as_scalar(bias_twice, [x], [w, b])
    assert "matmul" not in kinds(plan_of(bias_twice, x))


def test_a_partial_sum_read_elsewhere_is_kept():
    w = [Value(v) for v in rng.normal(size=4)]
    x = rng.normal(size=(6, 4))

    def f(sample: Any) -> Any:
        half = w[0] * sample[0] + w[1] * sample[1]
        whole = half + w[2] * sample[2] + w[3] * sample[3]
        return whole * half.tanh()

    assert_same_as_scalar(f, [x], w)
    # half is one dot, read twice; whole is a dot of the last two terms, then + half
    assert sorted(kinds(plan_of(f, x))) == ["add", "matmul", "matmul", "mul", "tanh"]


# -- random networks of chains -----------------------------------------------------------------------------

starts = st.sampled_from(["parameter", "none", "zero", "number", "traced", "product"])


@st.composite
def networks(draw: st.DrawFn) -> tuple[int, list[list[dict[str, Any]]]]:
    """Layers of neurons, each a chain of terms with its own start, order of factors and twists."""
    inputs = draw(st.integers(1, 4))
    layers = []
    width = inputs
    for _ in range(draw(st.integers(1, 3))):
        neurons = []
        for _ in range(draw(st.integers(1, 4))):
            neurons.append({
                "start": draw(starts),
                "flips": draw(st.lists(st.booleans(), min_size=width, max_size=width)),
                "reuse": draw(st.booleans()) and width > 1,  # the first weight again in place of the last
                "ag_sum": draw(st.booleans()),
            })  # fmt: skip
        layers.append(neurons)
        width = len(neurons)
    return inputs, layers


@settings(max_examples=60, deadline=None)
@given(networks(), st.integers(0, 2**32 - 1))
def test_random_networks_of_chains_give_the_scalar_engines_gradients(
    network: tuple[int, list[list[dict[str, Any]]]], seed: int
) -> None:
    inputs, layers = network
    draw = np.random.default_rng(seed)
    params: list[Value] = []
    weights: list[list[tuple[list[Value], Value]]] = []
    width = inputs
    for neurons in layers:
        made = []
        for spec in neurons:
            w = [Value(float(v)) for v in draw.uniform(-1, 1, size=width)]
            if spec["reuse"]:
                w[-1] = w[0]
            b = Value(float(draw.uniform(-1, 1)))
            params.extend([*w, b])
            made.append((w, b))
        weights.append(made)
        width = len(neurons)

    def neuron(spec: dict[str, Any], w: list[Value], b: Value, x: list[Any]) -> Any:
        terms = [xi * wi if flip else wi * xi for wi, xi, flip in zip(w, x, spec["flips"], strict=True)]
        start: Any = {"parameter": b, "none": None, "zero": 0.0, "number": 0.25, "traced": x[0],
                      "product": x[0] * x[-1]}[spec["start"]]  # fmt: skip
        if spec["ag_sum"]:
            total = ag.sum(terms)
            return (total if start is None else total + start).tanh()
        return (sum(terms) if start is None else sum(terms, start)).tanh()

    def net(sample: Any) -> Any:
        x = list(sample)
        for neurons, made in zip(layers, weights, strict=True):
            x = [neuron(spec, w, b, x) for spec, (w, b) in zip(neurons, made, strict=True)]
        return ag.sum(x)

    points = draw.uniform(-1, 1, size=(5, inputs))
    assert_same_as_scalar(net, [points], list(dict.fromkeys(params)))

"""The generated code of a plan (autograd/compiler/codegen.py) against the interpreter it stands in for.

The interpreter (executor.interpret, executor.interpreted_gradients) is the yardstick: it is what
test_compile.py and test_nn_compiled_equals_scalar.py held to the scalar engine before the generated
code existed. Here the two run on the same plans and must give the same arrays, bit for bit (a zero
gradient may differ in sign: the code adds a step's contributions without starting from zeros).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd import Value
from autograd.compiler import executor
from autograd.compiler.codegen import generated
from nn import loss_table
from nn.compiled_run import _labels
from nn.loss_table import LOSS_TABLE
from tests.test_perf_fusion import networks
from tests.test_random_graphs import programs, run

W = Value(0.35)


def both_ways(fn: Any, arguments: list[np.ndarray]) -> tuple[Any, Any]:
    """(values, leaf gradients) of ``fn`` over the batch, from the generated code and from the interpreter."""
    compiled = ag.compile(fn, reduce=None)
    evaluation = compiled.evaluate(*arguments)
    plan = evaluation.plan
    code = generated(plan)
    assert code.forward is not None and code.backward is not None
    batch = len(arguments[0])
    inputs = [np.asarray(a, dtype=float).reshape(batch, -1) for a in arguments]
    seed = np.random.default_rng(5).uniform(-1, 1, size=evaluation.outputs.shape)
    with np.errstate(all="ignore"):
        made, kept, outputs, finite = code.forward(inputs, evaluation.leaves, plan.constants, batch)
        grads, finite_grads = code.backward(made, kept, evaluation.leaves, plan.constants, seed, batch)
    interpreted = executor.interpret(plan, inputs, evaluation.leaves)
    expected = executor.interpreted_gradients(interpreted, seed)
    assert finite and finite_grads
    np.testing.assert_array_equal(outputs, interpreted.outputs)
    assert outputs.flags.writeable and not any(np.shares_memory(outputs, v) for v in made)
    assert len(made) == len(interpreted.values)
    for ours, theirs in zip(made, interpreted.values, strict=True):
        assert np.shape(ours) == np.shape(theirs)
        np.testing.assert_array_equal(ours, theirs, strict=False)
    for ours, theirs in zip(kept, interpreted.operands, strict=True):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grads, expected)  # == holds for 0.0 against -0.0
    return made, grads


@settings(max_examples=80, deadline=None)
@given(programs(), st.lists(st.floats(-1.5, 1.5), min_size=8, max_size=8))
def test_random_graphs_give_the_interpreters_arrays(program, numbers):
    def fn(x):
        return run(program, [x[0], x[1], W], engine=True) * 1.0

    batch = np.array(numbers).reshape(4, 2)
    try:
        ag.compile(fn)(batch)
    except (ArithmeticError, ValueError):  # what the scalar rules refuse: test_compile.py checks the error
        return
    both_ways(fn, [batch])


@settings(max_examples=40, deadline=None)
@given(networks(), st.integers(0, 2**32 - 1))
def test_random_networks_of_chains_give_the_interpreters_arrays(network, seed):
    inputs, layers = network
    draw = np.random.default_rng(seed)
    weights = [[[Value(float(v)) for v in draw.uniform(-1, 1, size=width)] for _ in neurons]
               for width, neurons in zip([inputs, *(len(n) for n in layers)], layers, strict=False)]  # fmt: skip

    def net(sample: Any) -> Any:
        x = list(sample)
        for made in weights:
            x = [sum((wi * xi for wi, xi in zip(w, x, strict=True)), w[0]).tanh() for w in made]
        return [ag.sum(x), x[0]]

    both_ways(net, [draw.uniform(-1, 1, size=(5, inputs))])


def test_an_mlp_with_cross_entropy_and_labels():
    model = nn.MLP(6, [5, 4], activation="relu", seed=3)
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(7, 6)), rng.integers(0, 4, 7).astype(float)
    def per_sample(s: Any, y: Any) -> list[Any]:
        scores = model(s)
        assert isinstance(scores, list)
        return [nn.cross_entropy(scores, y), *scores]

    made, _ = both_ways(per_sample, [x, labels])
    assert len(made) > 5


def test_columns_gathered_from_several_steps_and_repeated():
    # Each output reads columns of different steps, one column twice: the gradients of those steps are
    # assembled column by column (zeros, then added into), and the repeats through np.add.at.
    def fn(x: list[Value]) -> list[Value]:
        a = [xi.tanh() for xi in x]
        b = [xi * W for xi in x]
        return [a[0] * b[1] + a[0] * a[0], ag.dot([a[2], b[0], a[2]], [b[2], a[1], W])]

    both_ways(fn, [np.random.default_rng(1).normal(size=(6, 3))])


def test_a_non_finite_result_is_judged_by_the_interpreter():
    # log is not IEEE here: -1 in sample #2 makes the code's check fail, and the interpreter's scalar rule
    # words the error naming the sample, as before the code existed.
    loss = ag.compile(lambda x: (x * W).log())
    with pytest.raises(ValueError, match="sample #2"):
        loss(np.array([1.0, 2.0, -1.0]))
    assert loss.plan is not None and generated(loss.plan).forward is not None
    nan_in = loss(np.array([1.0, np.nan]))  # NaN in is NaN out, no error: the interpreter finds nothing to blame
    assert np.isnan(nan_in.outputs[1])


def test_a_backward_the_scalar_rule_refuses_is_worded_by_the_interpreter():
    # sqrt's vjp at 0 divides by zero in the scalar rule: the code's sum of the partial is not finite, the
    # interpreter runs the backward again and raises the scalar rule's error naming sample #1; no .grad moves.
    loss = ag.compile(lambda x: (x * W).sqrt())
    result = loss(np.array([1.0, 0.0, 4.0]))
    assert loss.plan is not None and generated(loss.plan).backward is not None
    before = W.grad
    with pytest.raises(ZeroDivisionError, match="sample #1"):
        result.backward()
    assert W.grad == before


def test_under_detect_anomaly_the_interpreter_checks_every_step():
    loss = ag.compile(lambda x: (x * W).relu() * np.inf)
    assert loss(np.array([1.0])).data == np.inf
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="sample #0"):
        loss(np.array([1.0]))


def test_results_handed_out_do_not_change_on_the_next_call():
    # No buffer is shared between calls: the outputs and gradients of one call stay as they were while
    # later calls run on other numbers, and an earlier evaluation's gradients come out the same after them.
    model = nn.MLP(3, [4, 2], seed=0)
    compiled = ag.compile(lambda s: model(s), reduce=None)
    rng = np.random.default_rng(2)
    first_x = rng.normal(size=(5, 3))
    first = compiled.evaluate(first_x)
    outputs, seed = first.outputs.copy(), rng.normal(size=first.outputs.shape)
    grads = first.gradients(seed)
    kept_grads = grads.copy()
    values = [np.array(v, copy=True) for v in first.values]
    for _ in range(3):
        later = compiled.evaluate(rng.normal(size=(5, 3)))
        later.gradients(rng.normal(size=later.outputs.shape))
    np.testing.assert_array_equal(first.outputs, outputs)
    np.testing.assert_array_equal(grads, kept_grads)
    np.testing.assert_array_equal(first.gradients(seed), kept_grads)
    for now, then in zip(first.values, values, strict=True):
        np.testing.assert_array_equal(now, then)


def test_a_replaced_plan_has_no_code_of_the_old_one():
    import dataclasses

    compiled = ag.compile(lambda x: (x * W).tanh())
    compiled(np.array([0.5]))
    plan = compiled.plan
    assert plan is not None and "generated" in plan.code
    assert dataclasses.replace(plan).code == {}


@pytest.mark.parametrize("entry", LOSS_TABLE, ids=lambda entry: entry.name)
@pytest.mark.parametrize(
    "labels",
    [np.array([0, 1, 1, 0, 2]), np.array([-1.0, 1.0, 0.0, np.nan, 3.0]), np.array([True, False]),
     np.array([[0.5, 1.0], [2.0, -3.0]]), np.array([0.0, 1.7]), np.array([1.0, np.inf])],
)  # fmt: skip
def test_labels_in_one_pass_are_the_rules_one_by_one(entry, labels):
    try:
        expected = np.array([entry.label(y) for y in labels], dtype=float)
    except (ValueError, TypeError) as error:
        with pytest.raises(type(error), match=str(error)[:30]):
            _labels(entry, labels)
        return
    got = _labels(entry, labels)
    assert got.dtype == float and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    assert entry.label in (loss_table._sign, loss_table._zero_one, loss_table._class_index, loss_table._listed)


@pytest.mark.parametrize("loss", [nn.hinge, nn.binary_cross_entropy_with_logits, nn.cross_entropy])
def test_the_loss_of_one_sample_is_its_term_to_the_bit(loss):
    # One sample's mean is its own loss term, with no sum or division node (two array ops fewer in a compiled
    # step); the numbers are those of sum([x]) / 1, worked by hand here with the scalar engine's own ops.
    s = Value(0.3)
    outputs, label = ([s, Value(-1.2), Value(0.7)], 2) if loss is nn.cross_entropy else (s, 1.0)
    result = loss([outputs], [label])
    result.backward()
    by_hand = ag.sum([loss([outputs], [label])]) / 1
    s_grad, s.grad = s.grad, 0.0
    by_hand.backward()
    assert result.data == by_hand.data and s_grad == s.grad
    assert result.rule is not None and result.rule.name not in ("div", "sum")


def test_a_weight_also_read_elementwise_is_added_into_not_written_over():
    # The first layer's weight gradient is the only one for its leaves, except the weight that a product
    # outside the layer reads too: that layer's block is added into zeros, the others written in place.
    model = nn.MLP(3, [4, 2], seed=4)
    shared = model.layers[0].neurons[1].w[2]
    extra = Value(0.7)  # a leaf no layer reads: the gradient array cannot start uninitialised

    def fn(x: list[Value]) -> list[Value]:
        scores = model(x)
        assert isinstance(scores, list)
        return [scores[0] + shared * x[0] * extra, scores[1]]

    compiled = ag.compile(fn, reduce=None)
    compiled.evaluate(np.ones((2, 3)))
    assert compiled.plan is not None
    source = generated(compiled.plan).backward_source
    assert "leaf_grads = zeros(" in source and "out=leaf_grads[" in source and "] += block" in source
    both_ways(fn, [np.random.default_rng(3).normal(size=(5, 3))])


@pytest.mark.parametrize("shapes", [[(1,)] * 3, [(4,)] * 3, [()] * 3, [(), (4,), (4,)], [(1,), (4,), ()]])
def test_pick_from_a_shared_table_looks_up_each_nodes_column(shapes):
    # pick's table of values every sample shares, columns of one shape or not: entry [node, index of the sample].
    from autograd import arrays

    width = max((s[0] for s in shapes if s), default=1)
    columns = [np.arange(width, dtype=float) * 10 + j if s else np.float64(j) for j, s in enumerate(shapes)]
    labels = np.array([[2.0] * width, [0.0] * width, [1.0] * width])  # (batch, width): 3 samples
    got = arrays.pick(*columns, labels)
    expected = [[float(np.broadcast_to(columns[int(labels[b, k])], (width,))[k]) for k in range(width)]
                for b in range(3)]  # fmt: skip
    assert got.tolist() == expected

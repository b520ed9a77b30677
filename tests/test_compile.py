"""``autograd.compile`` against the scalar engine.

Every check builds the same per-sample graphs with ordinary Values, reduces them the same way (mean,
sum, or per-sample backward calls with the given gradient), runs backward, and asks the compiled
result for the same loss and the same additions to every ``.grad``, to 1e-12 relative. Errors are
compared with what the scalar engine raises for the offending sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd import Value
from nn.layers import ACTIVATIONS
from tests.test_random_graphs import programs, run

RTOL, ATOL = 1e-12, 1e-14  # relative, with a floor for gradients that are exactly zero on one side


# -- the yardstick: the scalar engine, one graph per sample ------------------------------------------------


def values_of(sample: np.ndarray, as_int: bool = False) -> Any:
    """One sample as the scalar engine takes it: a Value per number (or an int label), nested like the array."""
    if sample.ndim == 0:
        return int(sample) if as_int else Value(float(sample))
    return [values_of(part, as_int) for part in sample]


def as_list(out: Any) -> list[Value]:
    """A model's output as a list: it gives a Value when it has one output."""
    return out if isinstance(out, list) else [out]


def zero(params: Sequence[Value]) -> None:
    for p in params:
        p.grad = 0.0


def scalar_run(
    fn: Callable[..., Any],
    args: Sequence[Any],
    params: Sequence[Value],
    reduce: str | None = "mean",
    gradient: Any = None,
    int_args: Sequence[int] = (),
) -> tuple[Any, list[float]]:
    """The scalar engine's result for the batch and what its backward adds to each parameter's grad."""
    zero(params)
    arrays = [np.asarray(a) for a in args]
    outs = [fn(*(values_of(a[b], i in int_args) for i, a in enumerate(arrays))) for b in range(len(arrays[0]))]
    if reduce is None:
        seeds: np.ndarray = np.ones((len(outs), 1 if isinstance(outs[0], Value) else len(outs[0])))
        if gradient is not None:
            seeds = np.asarray(gradient, dtype=float).reshape(seeds.shape)
        for out, row in zip(outs, seeds, strict=True):
            for node, seed in zip([out] if isinstance(out, Value) else out, row, strict=True):
                node.backward(float(seed))
        data: Any = np.array([o.data if isinstance(o, Value) else [v.data for v in o] for o in outs])
    else:
        total = ag.sum(outs)
        if reduce == "mean":
            total = total / len(outs)
        total.backward(1.0 if gradient is None else gradient)
        data = total.data
    grads = [p.grad for p in params]
    zero(params)
    return data, grads


def compiled_run(
    fn: Callable[..., Any],
    args: Sequence[Any],
    params: Sequence[Value],
    reduce: str | None = "mean",
    gradient: Any = None,
) -> tuple[Any, list[float]]:
    zero(params)
    result = ag.compile(fn, reduce=reduce)(*args)
    result.backward(gradient)
    grads = [p.grad for p in params]
    zero(params)
    return result.data, grads


def assert_close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=RTOL, atol=ATOL)


def assert_same_as_scalar(
    fn: Callable[..., Any],
    args: Sequence[Any],
    params: Sequence[Value],
    reduce: str | None = "mean",
    gradient: Any = None,
    int_args: Sequence[int] = (),
) -> None:
    expected_data, expected_grads = scalar_run(fn, args, params, reduce, gradient, int_args)
    data, grads = compiled_run(fn, args, params, reduce, gradient)
    assert_close(data, expected_data)
    assert_close(grads, expected_grads)


rng = np.random.default_rng(2024)


def normal(*shape: int) -> np.ndarray:
    return rng.normal(size=shape)


# -- neural networks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("nin", "sizes", "seed"), [(2, [4, 1], 0), (3, [5, 4, 2], 1), (1, [3, 3, 3], 7)])
@pytest.mark.parametrize("reduce", ["mean", "sum"])
def test_mlp_with_mse_matches_the_scalar_engine(activation, nin, sizes, seed, reduce):
    model = nn.MLP(nin, sizes, activation=activation, seed=seed)
    batch = 6
    xs, targets = normal(batch, nin), normal(batch, sizes[-1]) if sizes[-1] > 1 else normal(batch)
    assert_same_as_scalar(lambda x, t: nn.mse(model(x), t), [xs, targets], model.parameters(), reduce)


@pytest.mark.parametrize("output_activation", sorted(ACTIVATIONS))
def test_every_output_activation(output_activation):
    model = nn.MLP(3, [4, 3], activation="tanh", output_activation=output_activation, seed=3)
    assert_same_as_scalar(lambda x: ag.sum(as_list(model(x))), [normal(5, 3)], model.parameters(), "sum")


def test_a_model_whose_neurons_share_weights():
    layer = nn.Layer(3, 3, activation="tanh", seed=np.random.default_rng(5))
    layer.neurons[2].w = layer.neurons[0].w  # tied: the same Values in two rows of the matmul
    layer.neurons[1].w = [layer.neurons[1].w[0]] * 3  # one Value three times in one row
    params = list(dict.fromkeys(layer.parameters()))
    assert_same_as_scalar(lambda x: ag.sum(as_list(layer(x))) * layer.neurons[0].w[1], [normal(4, 3)], params)


MODEL: Any = nn.MLP(3, [5, 3], activation="relu", seed=11)  # three outputs: the losses take one or all
LOSSES: dict[str, tuple[Callable[..., Any], Callable[[int], list[np.ndarray]], Sequence[int]]] = {
    "mse": (lambda x, t: nn.mse(MODEL(x)[0], t), lambda b: [normal(b, 3), normal(b)], ()),
    "mse vector, half, sum": (
        lambda x, t: nn.mse(MODEL(x), t, half=True, reduction="sum"), lambda b: [normal(b, 3), normal(b, 3)], ()
    ),
    "binary_cross_entropy_with_logits": (
        lambda x, t: nn.binary_cross_entropy_with_logits(MODEL(x)[1], t),
        lambda b: [normal(b, 3), rng.uniform(0.0, 1.0, b)],
        (),
    ),
    "cross_entropy": (
        lambda x, label: nn.cross_entropy(MODEL(x), label), lambda b: [normal(b, 3), rng.integers(0, 3, b)], (1,)
    ),
    "cross_entropy, float labels": (
        lambda x, label: nn.cross_entropy(MODEL(x), label), lambda b: [normal(b, 3), rng.integers(0, 3, b) * 1.0], (1,)
    ),
    "hinge -1/+1": (lambda x, y: nn.hinge(MODEL(x)[2], y), lambda b: [normal(b, 3), rng.choice([-1, 1], b)], (1,)),
    "hinge 0/1": (lambda x, y: nn.hinge(MODEL(x)[2], y), lambda b: [normal(b, 3), rng.choice([0, 1], b)], (1,)),
}
@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduce", ["mean", "sum"])
def test_every_loss_matches_the_scalar_engine_given_plain_labels(name, reduce):
    # The yardstick gets the labels as ints, so cross_entropy indexes and hinge maps 0 to -1 on its plain
    # path there; the compiled function gets them as traced Values (pick, and y*y + y - 1).
    loss, data, int_args = LOSSES[name]
    assert_same_as_scalar(loss, data(8), MODEL.parameters(), reduce, int_args=int_args)


def test_hinge_labels_0_and_minus_1_are_the_same_class():
    w = Value(0.8)
    scores = np.array([0.3, -0.2, 1.7])
    a = ag.compile(lambda s, y: nn.hinge(s * w, y))(scores, np.array([0, 1, 0]))
    b = ag.compile(lambda s, y: nn.hinge(s * w, y))(scores, np.array([-1, 1, -1]))
    by_hand = np.mean([max(0.0, 1 + 0.3 * 0.8), max(0.0, 1 - -0.2 * 0.8), max(0.0, 1 + 1.7 * 0.8)])
    assert a.data == pytest.approx(by_hand, rel=1e-15) and b.data == pytest.approx(by_hand, rel=1e-15)


# -- every op ------------------------------------------------------------------------------------------

P = [Value(0.7, label="p0"), Value(-0.4, label="p1"), Value(1.3, label="p2")]
p0, p1, p2 = P

cube = ag.Op("cube", lambda x: x**3, lambda g, x, out: (3 * g * x**2,))
scaled_square = ag.Op("scaled_square", lambda x, k: k * x * x, lambda g, x, k, out: (2 * g * k * x,))
affine = ag.Op("affine", lambda x, y: x * y + y, lambda g, x, y, out: (g * y, g * (x + 1)))

# One sample is three Values xs; each case mixes them with the parameters, so gradients reach both.
OPS: dict[str, Callable[[list[Value]], Any]] = {
    "add": lambda xs: xs[0] + p0 + 2.0,
    "sub": lambda xs: p1 - xs[0] - 1.5,
    "mul": lambda xs: xs[0] * p0 * xs[1],
    "div": lambda xs: xs[0] / p2 + p0 / (xs[1] * xs[1] + 1.0),
    "neg": lambda xs: -(xs[0] * p0),
    "exp": lambda xs: (xs[0] * p0).exp() + ag.exp(xs[1]),
    "log": lambda xs: (xs[0] * xs[0] + p2).log() + ag.log(p2 + xs[1] * xs[1]),
    "sqrt": lambda xs: (xs[0] * xs[0] + p2).sqrt() + ag.sqrt(p2 * p2 + xs[2] * xs[2]),
    "tanh": lambda xs: (p0 * xs[0] + p1).tanh() + ag.tanh(xs[1]),
    "sigmoid": lambda xs: (p0 * xs[0] + p1).sigmoid() + ag.sigmoid(xs[1] * 30.0),
    "softplus": lambda xs: (p0 * xs[0] + p1).softplus() + ag.softplus(xs[1] * 40.0),
    "sin": lambda xs: (p0 * xs[0] + p1).sin() + ag.sin(xs[1]),
    "cos": lambda xs: (p0 * xs[0] + p1).cos() + ag.cos(xs[1]),
    "relu": lambda xs: (p0 * xs[0] + p1).relu() + ag.relu(xs[1]) * p2,
    "abs": lambda xs: abs(p0 * xs[0] + p1) + abs(xs[1]) * p2,
    "leaky_relu": lambda xs: (p0 * xs[0]).leaky_relu() + ag.leaky_relu(xs[1] * p2, 0.2) + xs[2].leaky_relu(0.3),
    "pow_const": lambda xs: (p0 * xs[0]) ** 3 + (xs[1] * xs[1] + p2) ** 0.5 + (xs[2] * xs[2] + p2) ** -2,
    "pow_const 0": lambda xs: (p0 * xs[0]) ** 0 + xs[1] * p1,
    "pow": lambda xs: (xs[0] * xs[0] + p2) ** (p0 * xs[1]) + p2 ** (xs[2] * p1),
    "pow, integer exponent": lambda xs: (xs[0] * p0) ** (p0 - p0 + 2.0),
    "rpow": lambda xs: 2.0 ** (p0 * xs[0]) + 0.5 ** xs[1],
    "sum": lambda xs: ag.sum([xs[0], p0, xs[1] * p1, 2.0]) + ag.sum(xs),
    "dot, weights second": lambda xs: ag.dot(xs, P),
    "dot, weights first": lambda xs: ag.dot(P, xs),
    "dot, traced both sides": lambda xs: ag.dot(xs, [xs[1] * p0, xs[2], xs[0]]),
    "dot, constant weights": lambda xs: ag.dot([1.0, -2.0, 0.5], xs) * p0,
    "dot, weights mixed": lambda xs: ag.dot([p0, 2.0, p1], xs),
    "dot of parameters": lambda xs: ag.dot([p0, p1], [p1, p2]) * xs[0],
    "logsumexp": lambda xs: ag.logsumexp([xs[0], xs[1] * p0, p1]),
    "logsumexp, large": lambda xs: ag.logsumexp([xs[0] * 800.0, xs[1] * p0 * 900.0, p1 * 700.0]),
    "logsumexp, one value": lambda xs: ag.logsumexp([xs[0] * p2]),
    "pick, constant index": lambda xs: ag.pick([xs[0] * p0, xs[1], p1], Value(2.0)),
    "custom op": lambda xs: cube(xs[0] * p0) + cube(p1),
    "custom op, trailing constant": lambda xs: scaled_square(xs[0] * p0, 3.0),
    "custom op, two gradients": lambda xs: affine(xs[0], p0) * affine(p1, xs[1]),
    # Reused subexpressions: a node used twice, x*x, one parameter in several places.
    "x*x": lambda xs: xs[0] * xs[0] + p0 * p0,
    "node used twice": lambda xs: (lambda h: h * h + h)((p0 * xs[0]).tanh()),
    "parameter in two places": lambda xs: p0 * xs[0] + p0 * p0 * xs[1] + (p0 + xs[2]).sigmoid(),
    "the same Value on both sides of a dot": lambda xs: ag.dot([p0, p1, p0], [xs[0], p0, xs[0]]),
}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("reduce", ["mean", "sum", None])
def test_every_op_matches_the_scalar_engine(name, reduce):
    fn = OPS[name]
    assert_same_as_scalar(fn, [normal(7, 3)], P, reduce, gradient=normal(7) if reduce is None else None)


def test_pick_by_a_traced_label():
    # The yardstick passes the label as an int, with which pick is plain indexing: no pick node at all.
    labels = np.array([0, 2, 1, 1, 0])
    fn = lambda xs, i: ag.pick([xs[0] * p0, xs[1], p1], i)
    assert_same_as_scalar(fn, [normal(5, 3), labels], P, int_args=(1,))
    assert_same_as_scalar(fn, [normal(5, 3), labels], P, "sum", int_args=(1,))


def test_pick_and_logsumexp_by_hand():
    # cross-entropy of logits (w x, 0) with label 0 for x = 1: log(e^w + 1) - w, d/dw = sigmoid(w) - 1
    w = Value(0.3)
    result = ag.compile(lambda x, label: ag.logsumexp([w * x, x * 0.0]) - ag.pick([w * x, x * 0.0], label))(
        np.array([1.0]), np.array([0])
    )
    result.backward()
    assert result.data == pytest.approx(math.log(math.exp(0.3) + 1) - 0.3, rel=1e-15)
    assert w.grad == pytest.approx(1 / (1 + math.exp(-0.3)) - 1, rel=1e-14)


def test_pow_of_a_negative_base_gives_the_exponent_nan_as_the_scalar_engine_does():
    e = Value(2.0)
    data, grads = compiled_run(lambda x: x ** e, [np.array([-1.5, 2.0])], [e], "sum")
    assert data == pytest.approx(2.25 + 4.0, rel=1e-15)
    assert math.isnan(grads[0])  # d(x ** e)/de has no real value at x < 0, so the sum is NaN
    assert math.isnan(scalar_run(lambda x: x ** e, [np.array([-1.5, 2.0])], [e], "sum")[1][0])


# -- arguments and outputs ------------------------------------------------------------------------------


def test_several_arguments_of_different_shapes():
    def fn(xs, y, m):
        return ag.dot(xs, P) * y + ag.sum([m[0][1], m[1][0] * p0]) + (m[1][1] * y).tanh()

    assert_same_as_scalar(fn, [normal(6, 3), normal(6), normal(6, 2, 2)], P)


def test_plain_lists_and_integer_arrays_are_batches_too():
    assert_same_as_scalar(lambda x, n: x * p0 + n * p1, [[1.0, 2.5, -3.0], [1, 2, 3]], P, "sum")


def test_an_argument_the_output_does_not_read():
    assert_same_as_scalar(lambda x, unused: (x * p0).exp(), [normal(4), normal(4, 2)], P)


@pytest.mark.parametrize("reduce", ["mean", "sum", None])
@pytest.mark.parametrize(
    "fn",
    [lambda x: p0, lambda x: p0 * p1, lambda x: Value(2.5) * p0, lambda x: x, lambda x: [p0, x * p1]],
    ids=["a parameter", "parameters only", "a constant Value", "the input", "a list with a parameter"],
)
def test_outputs_that_depend_on_no_input(fn, reduce):
    if reduce is not None and isinstance(fn(Value(1.0)), list):
        return  # a list output needs reduce=None (tested below)
    assert_same_as_scalar(fn, [normal(3)], P, reduce)


def test_a_node_made_outside_from_a_parameter_gets_its_gradient():
    doubled = p0 * 2.0  # made before compile: the scalar engine fills in doubled.grad as well as p0.grad
    _, grads = scalar_run(lambda x: doubled * x, [np.array([1.0, 2.0])], [doubled, p0], "sum")
    assert grads == [3.0, 6.0]
    assert_same_as_scalar(lambda x: doubled * x, [np.array([1.0, 2.0])], [doubled, p0], "sum")


def test_reduce_none_gives_per_sample_outputs_and_takes_a_gradient_array():
    xs = normal(5, 3)
    result = ag.compile(lambda x: (ag.dot(x, P)).tanh(), reduce=None)(xs)
    assert np.shape(result.data) == (5,)
    assert_close(result.data, np.tanh(xs @ np.array([0.7, -0.4, 1.3])))  # numpy as the yardstick
    assert_same_as_scalar(lambda x: (ag.dot(x, P)).tanh(), [xs], P, None, gradient=normal(5))
    with pytest.raises(ValueError, match=r"gradient has shape \(4,\), the outputs \(5,\)"):
        result.backward(np.ones(4))


def test_list_outputs_with_reduce_none():
    def fn(x):
        return [x[0] * p0, (x[1] * p1).exp(), p2 * x[0] * x[2]]

    result = ag.compile(fn, reduce=None)(normal(4, 3))
    assert np.shape(result.data) == (4, 3)
    assert_same_as_scalar(fn, [normal(4, 3)], P, None, gradient=normal(4, 3))
    assert_same_as_scalar(lambda x: [x[0] * p0], [normal(4, 3)], P, None)  # one Value in a list: shape (4, 1)
    assert np.shape(ag.compile(lambda x: [x[0] * p0], reduce=None)(normal(4, 3)).data) == (4, 1)


@pytest.mark.parametrize("reduce", ["mean", "sum"])
def test_backward_scales_by_a_gradient(reduce):
    assert_same_as_scalar(lambda x: (x * p0).sin(), [normal(5)], P, reduce, gradient=2.5)


def test_gradients_accumulate_across_calls_as_with_the_scalar_engine():
    compiled = ag.compile(lambda x: x * p0)
    zero(P)
    compiled(np.array([1.0, 3.0])).backward()
    compiled(np.array([5.0])).backward()
    assert p0.grad == 2.0 + 5.0
    zero(P)


def test_changing_the_result_array_does_not_change_the_gradient():
    result = ag.compile(lambda x: (x * p0).exp(), reduce=None)(np.array([0.5, 1.0]))
    data = result.data
    assert isinstance(data, np.ndarray)
    data[:] = 0.0  # the exp step's output is what its backward reads
    zero(P)
    result.backward()
    assert p0.grad == pytest.approx(0.5 * math.exp(0.35) + math.exp(0.7), rel=1e-15)
    zero(P)


def test_compiled_gradients_match_finite_differences():
    model = nn.MLP(2, [4, 3], activation="tanh", seed=4)
    xs, labels = normal(6, 2), rng.integers(0, 3, 6)
    compiled = ag.compile(lambda x, label: nn.cross_entropy(model(x), label))
    params = model.parameters()
    zero(params)
    compiled(xs, labels).backward()
    grads = [p.grad for p in params]
    zero(params)
    h = 1e-6
    for p, g in zip(params, grads, strict=True):
        start = p.data
        p.data = start + h
        up = compiled(xs, labels).data
        p.data = start - h
        down = compiled(xs, labels).data
        p.data = start
        assert g == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-8)
    assert compiled.traces == 1  # new parameter values are read at each call, no new trace


# -- random expression graphs ------------------------------------------------------------------------

W = Value(0.35, label="w")


@settings(max_examples=60, deadline=None)
@given(programs(), st.lists(st.floats(-1.5, 1.5), min_size=8, max_size=8))
def test_random_graphs_match_the_scalar_engine(program, numbers):
    # Slots 0 and 1 are traced inputs, slot 2 a parameter: every op meets samples, parameters or both.
    def fn(x):
        return run(program, [x[0], x[1], W], engine=True) * 1.0  # * 1.0: an output that is not itself a slot

    batch = np.array(numbers).reshape(4, 2)
    try:
        expected = scalar_run(fn, [batch], [W], "sum")
    except (ArithmeticError, ValueError) as error:  # an overflow, sin of inf: compile raises the same
        with pytest.raises(type(error)):
            compiled_run(fn, [batch], [W], "sum")
        return
    data, grads = compiled_run(fn, [batch], [W], "sum")
    np.testing.assert_allclose(data, expected[0], rtol=RTOL, atol=ATOL, equal_nan=True)
    np.testing.assert_allclose(grads, expected[1], rtol=RTOL, atol=ATOL, equal_nan=True)

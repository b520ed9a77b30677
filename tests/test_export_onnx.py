"""Compiled plans exported to ONNX give, under ONNX Runtime in float64, the compiled forward's numbers.

Every op of the rule table and every loss of ``nn`` is exported and run by onnxruntime (a separate
implementation of every op), and its outputs are compared with ``compiled(...)``'s to 1e-12, NaN for
NaN and infinity for infinity. A custom op, a call before any plan, wrong leaves and a missing onnx
package are refused by name.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Op, Value, rules
from autograd.compiler.onnx_export import MAPPINGS, OnnxExportError, save_onnx, to_onnx

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install -e '.[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install -e '.[test]'")

TOLERANCE = 1e-12
BUILT_IN = {name: op for name, op in vars(rules).items() if isinstance(op, Op)}


def run(model: Any, *arrays: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feed = {name: np.asarray(a, dtype=np.float64).reshape(len(a), -1) for name, a in zip(names, arrays, strict=True)}
    return [np.asarray(out) for out in session.run(None, feed)]


def relative_difference(got: np.ndarray, expected: np.ndarray) -> float:
    """max |got - expected| / max |expected| over the finite entries; NaN and inf must sit at the same places."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert (np.isnan(got) == np.isnan(expected)).all(), (got, expected)
    infinite = np.isinf(expected)
    assert (got[infinite] == expected[infinite]).all() and not np.isinf(got[~infinite]).any(), (got, expected)
    finite = np.isfinite(expected)
    if not finite.any():
        return 0.0
    scale = np.abs(expected[finite]).max()
    return float(np.abs(got[finite] - expected[finite]).max() / (scale if scale > 0 else 1.0))


def check(fn: Callable[..., Any], *arrays: Any, reduce: str | None = None) -> float:
    """Export ``ag.compile(fn, reduce)`` after one call and compare onnxruntime's outputs (and loss) with it."""
    compiled = ag.compile(fn, reduce=reduce)
    result = compiled(*arrays)
    outputs = run(to_onnx(compiled), *[np.asarray(a) for a in arrays])
    worst = relative_difference(outputs[0], result.outputs)
    if reduce is None:
        assert len(outputs) == 1
    else:
        assert outputs[1].shape == () and relative_difference(outputs[1], np.array(result.data)) <= TOLERANCE
    assert worst <= TOLERANCE, worst
    return worst


# Each op of the rule table on one sample's Values (differentiable operands made nodes by a weight, so
# that the plan's operands come from steps), and a batch inside its domain, edges included.
W = [Value(w) for w in (0.8, -1.1, 0.6, 1.3)]
GRID = np.array([[0.3, -1.2, 0.4, 2.0], [2.0, 0.5, 1.0, -1.0], [-0.7, 0.1, 3.0, 0.25], [1e-3, 40.0, -40.0, 7.5]])
POSITIVE = np.abs(GRID) + 0.1
CASES: dict[str, tuple[Callable[[list[Value]], Any], np.ndarray]] = {
    "ADD": (lambda v: rules.ADD(W[0] * v[0], v[1]), GRID),
    "SUB": (lambda v: rules.SUB(v[0], W[1] * v[1]), GRID),
    "MUL": (lambda v: rules.MUL(W[0] * v[0], v[1]), GRID),
    "DIV": (lambda v: rules.DIV(W[0] * v[0], v[1]), GRID),
    "NEG": (lambda v: rules.NEG(W[0] * v[0]), GRID),
    "LOG": (lambda v: rules.LOG(v[0] * 1.5), POSITIVE),
    "POW_CONST": (lambda v: [rules.POW_CONST(W[1] * v[0], 3.0), rules.POW_CONST(v[1], 2.0), v[2] ** 0.5], POSITIVE),
    "POW": (lambda v: rules.POW(W[0] * v[0], v[1]), POSITIVE),
    "RPOW": (lambda v: [rules.RPOW(W[1] * v[0], 2.5), 2.0 ** v[1]], GRID),
    "EXP": (lambda v: rules.EXP(W[0] * v[0]), GRID),
    "SQRT": (lambda v: rules.SQRT(W[2] * v[0]), POSITIVE),
    "TANH": (lambda v: [rules.TANH(W[0] * x) for x in v], GRID),
    "SIGMOID": (lambda v: [rules.SIGMOID(W[0] * x * 20.0) for x in v], GRID),
    "RELU": (lambda v: [rules.RELU(W[1] * x) for x in v], GRID),
    "LEAKY_RELU": (lambda v: [rules.LEAKY_RELU(W[0] * v[0], 0.1), v[1].leaky_relu(), v[2].leaky_relu(0.3)], GRID),
    "SOFTPLUS": (lambda v: [rules.SOFTPLUS(W[0] * x * 20.0) for x in v], GRID),
    "SIN": (lambda v: [rules.SIN(W[0] * x) for x in v], GRID),
    "COS": (lambda v: [rules.COS(W[0] * x) for x in v], GRID),
    "ABS": (lambda v: [rules.ABS(W[1] * x) for x in v], GRID),
    "SUM": (lambda v: rules.SUM(*(w * x for w, x in zip(W, v, strict=True))), GRID),
    "DOT": (lambda v: [rules.DOT(W[0] * v[0], v[1], v[2], v[3]), ag.dot(W, v)], GRID),  # per sample, and a matmul
    "IDENTITY": (lambda v: rules.IDENTITY(W[0] * v[0]), GRID),
    "LOGSUMEXP": (lambda v: [rules.LOGSUMEXP(*(w * x for w, x in zip(W, v, strict=True))), ag.logsumexp(v[:2])], GRID),
    # pick's last operand is the index: per sample (the sample's own number) and one every sample shares.
    "PICK": (lambda v: [rules.PICK(W[0] * v[0], v[1], v[2], v[3] * 0.0 + 2.0), ag.pick([1.5, -2.0], v[3] * 0.0)], GRID),
}


def test_every_op_of_the_rule_table_has_a_mapping_and_a_case():
    with_arrays = {name for name, op in BUILT_IN.items() if op.arrays is not None}
    assert set(CASES) == with_arrays
    assert set(MAPPINGS) == {BUILT_IN[name] for name in with_arrays}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("reduce", [None, "sum"])
def test_every_op_of_the_rule_table_exports_and_runs_in_onnxruntime(name: str, reduce: str | None):
    build, batch = CASES[name]
    fn = build if reduce is None else (lambda v: ag.sum(out if isinstance(out := build(v), list) else [out]))
    check(fn, batch, reduce=reduce)


@pytest.mark.parametrize("name", ["TANH", "SIGMOID", "RELU", "LEAKY_RELU", "SOFTPLUS", "ABS", "NEG", "EXP", "POW_CONST",
                                  "POW", "LOGSUMEXP", "SUM", "IDENTITY"])  # fmt: skip
def test_nan_in_gives_nan_out_and_infinities_their_limits(name: str):
    build, _ = CASES[name]
    edges = np.array([[np.nan, 1.0, 2.0, 0.5], [np.inf, -np.inf, 1.0, 2.0], [-800.0, 800.0, -40.0, 0.0],
                      [2.0, np.nan, np.nan, np.nan], [-np.inf, -np.inf, -np.inf, -np.inf]])  # fmt: skip
    if name in ("POW_CONST", "POW"):
        # a negative base with a non-integer exponent raises in compile, and so does 800 ** 800
        edges = np.where(np.isfinite(edges), np.minimum(np.abs(edges), 3.0), np.abs(edges))
    check(build, edges)


LOGITS, LABELS = nn.make_spirals(40, classes=3, seed=0)
MODEL = nn.MLP(2, [8, 8, 3], activation="tanh", seed=0)
SCORES = nn.MLP(2, [6, 1], seed=1)
TARGETS = np.random.default_rng(0).normal(size=(40, 3))
LOSSES: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
    "mse": (lambda x, t: nn.mse(MODEL(x), t), (LOGITS, TARGETS)),
    "mse_half_sum": (lambda x, t: nn.mse(MODEL(x), t, half=True, reduction="sum"), (LOGITS, TARGETS)),
    "binary_cross_entropy_with_logits": (lambda x, t: nn.binary_cross_entropy_with_logits(SCORES(x), t),
                                         (LOGITS, (LABELS == 1).astype(float))),
    "cross_entropy": (lambda x, label: nn.cross_entropy(MODEL(x), label), (LOGITS, LABELS)),
    "hinge": (lambda x, y: nn.hinge(SCORES(x), y), (LOGITS, (LABELS == 1).astype(float))),
    "max_margin": (lambda x, y: nn.max_margin(SCORES(x), 2.0 * y - 1.0), (LOGITS, (LABELS == 2).astype(float))),
    "l2": (lambda x, label: nn.cross_entropy(MODEL(x), label) + nn.l2(MODEL.parameters(), 1e-3), (LOGITS, LABELS)),
    "log_softmax": (lambda x: nn.log_softmax(cast(list[Value], MODEL(x))), (LOGITS,)),
    "softmax": (lambda x: nn.softmax(cast(list[Value], MODEL(x))), (LOGITS,)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduce", [None, "sum", "mean"])
def test_every_loss_of_nn_exports_and_runs_in_onnxruntime(name: str, reduce: str | None):
    fn, arrays = LOSSES[name]
    if reduce is not None and name in ("log_softmax", "softmax"):
        fn = (lambda f: lambda x: ag.sum(f(x)))(fn)  # one Value, so that it can be reduced
    check(fn, *arrays, reduce=reduce)


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_every_activation_of_nn_exports(activation: str):
    model = nn.MLP(3, [5, 4, 2], activation=activation, output_activation=activation, seed=2)
    check(lambda x: model(x), np.random.default_rng(1).normal(size=(16, 3)) * 3.0)


def test_outputs_that_are_parameters_constants_or_permuted_inputs():
    w, u = Value(0.25), Value(-1.5)
    doubled = w * 2.0  # made before the call: the plan recomputes it from w
    batch = np.arange(12.0).reshape(4, 3)
    check(lambda x: [w, x[2], 3.0 * doubled, x[0], u, x[1] * u], batch)
    check(lambda x: [x[2], x[0], x[1], x[0]], batch)
    check(lambda x, y: [w * x, y[1] - x, ag.logsumexp([w, u, x])], batch[:, 0], batch[:, 1:])


def test_the_loss_output_is_the_mean_or_the_sum():
    w = Value(0.5)
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 1.0])
    for reduce, expected in (("mean", (0.25 + 1.0 + 0.25) / 3), ("sum", 1.5)):
        compiled = ag.compile(lambda a, b: (w * a - b) ** 2, reduce=reduce)
        compiled(x, y)
        outputs, loss = run(to_onnx(compiled), x, y)
        assert outputs.tolist() == [0.25, 1.0, 0.25] and float(loss) == pytest.approx(expected, rel=1e-15)
    per_sample = ag.compile(lambda a, b: [w * a, b], reduce=None)
    per_sample(x, y)
    (outputs,) = run(to_onnx(per_sample), x, y)
    assert outputs.tolist() == [[0.5, 0.0], [1.0, 2.0], [1.5, 1.0]]


def test_a_plan_its_leaves_and_its_names_can_be_given():
    w = Value(2.0)
    compiled = ag.compile(lambda a: w * a + 1.0)
    compiled(np.array([1.0, 2.0]))
    assert compiled.plan is not None
    model = to_onnx(compiled.plan, leaves=np.array([10.0]), names=["a"])
    assert [i.name for i in model.graph.input] == ["a"] and [o.name for o in model.graph.output] == ["outputs"]
    assert run(model, np.array([1.0, 2.0]))[0].tolist() == [11.0, 21.0]


def test_save_onnx_writes_a_model_onnx_loads(tmp_path):
    w = Value(0.5)
    compiled = ag.compile(lambda a: (w * a).tanh(), reduce="sum")
    compiled(np.array([1.0, -2.0]))
    path = save_onnx(compiled, tmp_path / "plan.onnx")
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert run(loaded, np.array([1.0, -2.0]))[0] == pytest.approx(np.tanh([0.5, -1.0]), rel=1e-15)
    assert [p.name for p in tmp_path.iterdir()] == ["plan.onnx"]


def test_a_custom_op_without_a_mapping_is_refused_by_name():
    cube = Op("cube", lambda x: x**3, lambda g, x, out: (3 * g * x**2,))
    compiled = ag.compile(lambda a: cube(a * 2.0) + 1.0)
    compiled(np.array([1.0, 2.0]))
    with pytest.raises(OnnxExportError, match=r"to_onnx: op 'cube' \(2 cube nodes|to_onnx: op 'cube' \(1 cube node"):
        to_onnx(compiled)


@pytest.mark.parametrize(
    ("target", "leaves", "error", "message"),
    [
        (lambda: ag.compile(lambda a: a * 2.0), None, ValueError, r"has no plan yet: call it once on a batch"),
        (lambda: "loss", None, TypeError, r"expected a compiled function or its Plan, got str"),
        (None, np.array([1.0, 2.0]), ValueError, r"leaves must be a float array of shape \(1,\).*got ndarray \(2,\)"),
        (None, [1.0], ValueError, r"leaves must be a float array of shape \(1,\).*got list"),
    ],
)
def test_wrong_targets_and_leaves_are_refused(target, leaves, error, message):
    if target is None:
        w = Value(1.0)
        compiled = ag.compile(lambda a: w * a)
        compiled(np.array([1.0]))
        target = lambda: compiled
    with pytest.raises(error, match=message):
        to_onnx(target(), leaves=leaves)


def test_without_onnx_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    w = Value(1.0)
    compiled = ag.compile(lambda a: w * a)
    compiled(np.array([1.0]))
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[onnx\]'"):
        to_onnx(compiled)


def test_micrograds_neuron_written_as_a_sum_of_products_exports():
    ws, b = [Value(0.3), Value(-0.7), Value(1.1)], Value(0.2)
    batch = np.random.default_rng(2).normal(size=(9, 3))
    check(lambda x: sum((wi * xi for wi, xi in zip(ws, x, strict=True)), b).tanh(), batch)
    check(lambda x: [sum((wi * xi for wi, xi in zip(ws, x, strict=True)), b) * k for k in (1.0, 2.0)], batch)


@pytest.mark.parametrize("names", [["x", "x"], ["loss", "y"], ["step2.weight", "y"], ["/a", "y"], ["x"], "xy", [1, 2]])
def test_names_that_would_clash_or_do_not_fit_are_refused(names: Any):
    compiled = ag.compile(lambda x, y: x * y)
    compiled(np.array([1.0]), np.array([2.0]))
    with pytest.raises(ValueError, match=r"to_onnx: names must be 2 distinct strings, one per argument"):
        to_onnx(compiled, names=names)


def test_an_argument_named_like_an_output_is_renamed():
    compiled = ag.compile(lambda loss, leaves: loss * leaves)
    compiled(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    model = to_onnx(compiled)
    assert [i.name for i in model.graph.input] == ["loss_input", "leaves_input"]
    assert run(model, np.array([1.0, 2.0]), np.array([3.0, 4.0]))[0].tolist() == [3.0, 8.0]


def test_a_kind_of_step_without_a_mapping_is_refused_by_name():
    w = Value(0.5)
    compiled = ag.compile(lambda a: (w * a).exp())
    compiled(np.array([1.0, 2.0]))
    assert compiled.plan is not None
    steps = list(compiled.plan.steps)
    steps[-1] = dataclasses.replace(steps[-1], kind="scan")
    plan = dataclasses.replace(compiled.plan, steps=tuple(steps))
    with pytest.raises(OnnxExportError, match=r"to_onnx: step 2 of the plan is of kind 'scan', which has no ONNX"):
        to_onnx(plan)

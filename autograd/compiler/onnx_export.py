"""A compiled plan as an ONNX model, for every engine that reads ONNX (ONNX Runtime, onnx2torch, TensorRT)::

    compiled = ag.compile(fn)              # per-sample code, as for training
    compiled(*batch)                       # traced on a batch: compiled.plan
    model = to_onnx(compiled)              # an onnx.ModelProto
    save_onnx(compiled, "loss.onnx")       # or straight to a file

The graph computes what the compiled forward computes, in float64: its inputs are the batched arguments,
flattened as compile flattens them ((batch, n) for samples of n numbers); its output ``outputs`` holds the
per-sample results ((batch,) for a function of one Value, else (batch, k)); a function compiled with
``reduce="mean"`` or ``"sum"`` also gets ``loss``, their mean or sum. The Values the function read
are initialisers: each matrix product's weights as an (n, k) matrix, every other one in the vector
``leaves``. Each step of the plan becomes a few ONNX nodes (a layer's dot nodes one ``MatMul``), each
written to give the numbers of the op's array rule, NaN in NaN out included. Where the compiled forward
raises (log of 0, a bad ``pick`` index), ONNX cannot: the graph gives inf or NaN there instead.

``onnx`` is imported only here, on the first export: ``import autograd`` never needs it.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autograd import rules
from autograd.compiler.compiled import Compiled
from autograd.compiler.plan import CONSTANTS, LEAVES, ArrayOp, Gather, Index, Piece, Plan
from autograd.engine import Op
from autograd.files import write_atomically

OPSET = 17
"""The ONNX opset the models declare (every op used is in it; ONNX Runtime, onnx2torch and TensorRT read it)."""


class OnnxExportError(TypeError):
    """A plan holds a step that ONNX has no mapping for (a custom ``Op``); the message names the op."""


def _onnx() -> Any:
    """The onnx package, or ImportError naming the extra that installs it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "to_onnx: exporting a plan needs the onnx package: pip install 'chainrule[onnx]' (or pip install onnx)",
            name="onnx",
        ) from None
    return onnx


Tensor = tuple[str, bool]  # (name in the graph, shared: (k,) the same for every sample, not (batch, k))


class _Graph:
    """The ONNX nodes and initialisers of one plan, as they are made; sources are named by step number."""

    def __init__(self, onnx: Any, plan: Plan, leaves: np.ndarray, batch_of: str) -> None:
        self.helper, self.numpy_helper = onnx.helper, onnx.numpy_helper
        self.plan, self.leaves, self.batch_of = plan, leaves, batch_of
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.values: dict[int, Tensor] = {}
        self._made: dict[object, str] = {}

    def node(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        out = f"/{len(self.nodes)}/{op_type}"
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], **attributes))
        return out

    def initializer(self, array: np.ndarray, name: str | None = None) -> str:
        name = name or f"/init/{len(self.initializers)}"
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def constant(self, value: float | list[int], key: object = None) -> str:
        """A scalar float64, or a vector of int64 (indices, axes, shapes), made once per value."""
        key = key if key is not None else (type(value).__name__, repr(value))
        if key not in self._made:
            array = np.array(value, dtype=np.int64 if isinstance(value, list) else np.float64)
            self._made[key] = self.initializer(array)
        return self._made[key]

    def source(self, number: int) -> Tensor:
        if number not in self.values:  # the leaves and constants, made when a step first reads them
            array = self.leaves if number == LEAVES else self.plan.constants
            self.values[number] = (self.initializer(array, "leaves" if number == LEAVES else "constants"), True)
        return self.values[number]

    def take(self, number: int, columns: Index) -> Tensor:
        """Columns ``columns`` of a source."""
        name, shared = self.source(number)
        width = len(self.leaves) if number == LEAVES else len(self.plan.constants) if number == CONSTANTS else (
            self.plan.steps[number].width)  # fmt: skip
        if isinstance(columns, slice):
            start, stop = columns.start or 0, width if columns.stop is None else columns.stop
            if (start, stop) == (0, width):
                return name, shared
            ends = self.constant([stop])
            return self.node("Slice", [name, self.constant([start]), ends, self.constant([-1])]), shared
        return self.node("Gather", [name, self.constant([int(i) for i in columns])], axis=-1), shared

    def per_sample(self, tensor: Tensor, width: int) -> str:
        """A (k,) tensor broadcast to (batch, k), as the executor broadcasts a step's output."""
        name, shared = tensor
        if not shared:
            return name
        key = ("shape", width)
        if key not in self._made:
            batch = self.node("Shape", [self.batch_of], start=0, end=1)
            self._made[key] = self.node("Concat", [batch, self.constant([width])], axis=0)
        return self.node("Expand", [name, self._made[key]])

    def gather(self, gather: Gather) -> Tensor:
        """An operand assembled from its pieces: their columns side by side, then put in their positions."""
        if gather.whole is not None:
            return self.take(gather.whole.source, gather.whole.take)
        parts = [(self.take(piece.source, piece.take), _length(piece)) for piece in gather.pieces]
        shared = all(tensor[1] for tensor, _ in parts)
        names = [tensor[0] if shared else self.per_sample(tensor, n) for tensor, n in parts]
        joined = self.node("Concat", names, axis=-1)
        positions = np.concatenate([np.arange(gather.width)[piece.into] for piece in gather.pieces])
        order = np.argsort(positions, kind="stable")  # column j of the operand is joined column order[j]
        if (order == np.arange(gather.width)).all():
            return joined, shared
        return self.node("Gather", [joined, self.constant([int(i) for i in order])], axis=-1), shared


def _length(piece: Piece) -> int:
    into = piece.into
    return into.stop - into.start if isinstance(into, slice) else len(into)


# Each op as ONNX nodes: mapping(graph, operands) -> name of the result. Operands are (batch, k) or (k,),
# and broadcast against each other as numpy's do. Written to give the array rule's numbers (arrays.py).
Mapping = Callable[[_Graph, list[Tensor], int], str]


def _unary(op_type: str) -> Mapping:
    return lambda g, xs, width: g.node(op_type, [xs[0][0]])


def _binary(op_type: str) -> Mapping:
    return lambda g, xs, width: g.node(op_type, [xs[0][0], xs[1][0]])


def _where_positive(g: _Graph, x: str, positive: str, other: str) -> str:
    """``positive`` where x > 0, else ``other`` (x NaN: ``other``, which the callers make NaN there)."""
    return g.node("Where", [g.node("Greater", [x, g.constant(0.0)]), positive, other])


def _nan_where_nan(g: _Graph, out: str, *xs: str) -> str:
    """NaN in, NaN out: ``out``, or NaN where any of ``xs`` is NaN (ONNX's Pow gives x ** 0 = 1 for x NaN)."""
    nan = g.node("IsNaN", [xs[0]])
    for x in xs[1:]:
        nan = g.node("Or", [nan, g.node("IsNaN", [x])])
    return g.node("Where", [nan, g.constant(float("nan")), out])


def _power(base: int, exponent: int) -> Mapping:
    def power(g: _Graph, xs: list[Tensor], width: int) -> str:
        b, k = xs[base][0], xs[exponent][0]
        return _nan_where_nan(g, g.node("Pow", [b, k]), b, k)

    return power


def _relu(g: _Graph, xs: list[Tensor], width: int) -> str:
    """max(x, 0) as np.where(x <= 0, 0, x): NaN passes through."""
    x = xs[0][0]
    return g.node("Where", [g.node("LessOrEqual", [x, g.constant(0.0)]), g.constant(0.0), x])


def _leaky_relu(g: _Graph, xs: list[Tensor], width: int) -> str:
    """x for x > 0, else a x (a is an operand: one slope per node)."""
    x, a = xs[0][0], xs[1][0]
    return _where_positive(g, x, x, g.node("Mul", [a, x]))


def _sigmoid(g: _Graph, xs: list[Tensor], width: int) -> str:
    """1 / (1 + z) for x >= 0, z / (1 + z) for x < 0, z = e^-|x|: exp never overflows."""
    x = xs[0][0]
    z = g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])])
    one_plus = g.node("Add", [g.constant(1.0), z])
    positive = g.node("GreaterOrEqual", [x, g.constant(0.0)])
    return g.node("Where", [positive, g.node("Div", [g.constant(1.0), one_plus]), g.node("Div", [z, one_plus])])


def _log1p(g: _Graph, u: str) -> str:
    """log(1 + u) to a few ulps without a log1p op: u log(w) / (w - 1) with w = 1 + u (Goldberg), u where w = 1."""
    w = g.node("Add", [g.constant(1.0), u])
    ratio = g.node("Div", [g.node("Log", [w]), g.node("Sub", [w, g.constant(1.0)])])
    return g.node("Where", [g.node("Equal", [w, g.constant(1.0)]), u, g.node("Mul", [u, ratio])])


def _softplus(g: _Graph, xs: list[Tensor], width: int) -> str:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|, no cancellation for x << 0."""
    x = xs[0][0]
    positive_part = _where_positive(g, x, x, g.constant(0.0))  # 0 at NaN, as numpy's; log1p then gives NaN
    return g.node("Add", [positive_part, _log1p(g, g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])]))])


def _sum(g: _Graph, xs: list[Tensor], width: int) -> str:
    return g.node("Sum", [x for x, _ in xs])


def _dot(g: _Graph, xs: list[Tensor], width: int) -> str:
    """sum_i w_i x_i, for dot nodes that are not one matrix product (both sides vary per sample)."""
    n = len(xs) // 2
    return g.node("Sum", [g.node("Mul", [w, x]) for (w, _), (x, _) in zip(xs[:n], xs[n:], strict=True)])


def _logsumexp(g: _Graph, xs: list[Tensor], width: int) -> str:
    """m + log sum e^(x - m), m the largest x; where m is not finite: m, or NaN where an x is NaN."""
    shared = all(s for _, s in xs)
    columns = [g.node("Unsqueeze", [x if shared else g.per_sample((x, s), width), g.constant([-1])]) for x, s in xs]
    stacked = g.node("Concat", columns, axis=-1)
    m = g.node("ReduceMax", [stacked], axes=[-1], keepdims=0)
    finite = g.node("Not", [g.node("Or", [g.node("IsInf", [m]), g.node("IsNaN", [m])])])
    shift = g.node("Where", [finite, m, g.constant(0.0)])
    shifted = g.node("Sub", [stacked, g.node("Unsqueeze", [shift, g.constant([-1])])])
    total = g.node("ReduceSum", [g.node("Exp", [shifted]), g.constant([-1])], keepdims=0)
    out = g.node("Add", [shift, g.node("Log", [total])])
    any_nan = g.node("Cast", [g.node("ReduceMax", [g.node("Cast", [g.node("IsNaN", [stacked])], to=11)],
                                      axes=[-1], keepdims=0)], to=9)  # fmt: skip
    return g.node("Where", [finite, out, g.node("Where", [any_nan, g.constant(float("nan")), m])])


def _pick(g: _Graph, xs: list[Tensor], width: int) -> str:
    """x_i for the index i (a whole number in [0, n)); NaN for any other index, where compile raises."""
    *values, (index, _) = xs
    out = g.constant(float("nan"))
    for j in range(len(values) - 1, -1, -1):  # x_0 where i == 0, else x_1 where i == 1, ..., else NaN
        out = g.node("Where", [g.node("Equal", [index, g.constant(float(j))]), values[j][0], out])
    return out


MAPPINGS: dict[Op, Mapping] = {
    rules.ADD: _binary("Add"), rules.SUB: _binary("Sub"), rules.MUL: _binary("Mul"), rules.DIV: _binary("Div"),
    rules.NEG: _unary("Neg"), rules.LOG: _unary("Log"), rules.EXP: _unary("Exp"), rules.SQRT: _unary("Sqrt"),
    rules.TANH: _unary("Tanh"), rules.SIN: _unary("Sin"), rules.COS: _unary("Cos"), rules.ABS: _unary("Abs"),
    rules.IDENTITY: _unary("Identity"), rules.POW_CONST: _power(0, 1), rules.POW: _power(0, 1),
    rules.RPOW: _power(1, 0), rules.RELU: _relu, rules.LEAKY_RELU: _leaky_relu, rules.SIGMOID: _sigmoid,
    rules.SOFTPLUS: _softplus, rules.SUM: _sum, rules.DOT: _dot, rules.LOGSUMEXP: _logsumexp, rules.PICK: _pick,
}  # fmt: skip
"""Each op of the rule table, keyed by the Op itself, to the ONNX nodes that compute it."""


def _matmul(g: _Graph, number: int, step: ArrayOp) -> Tensor:
    """The shared side (batch, n) times the weights, kept as an (n, k) initialiser."""
    source = g.leaves if step.weight_source == LEAVES else g.plan.constants
    assert step.weights is not None
    weights = source[step.weights].reshape(step.width, -1) if isinstance(step.weights, slice) else source[step.weights]
    x = g.gather(step.operands[0])
    matrix = g.initializer(np.ascontiguousarray(weights.T), f"step{number}.weight")
    return g.node("MatMul", [x[0], matrix]), x[1]


def _step(g: _Graph, number: int, step: ArrayOp) -> str:
    if step.kind == "matmul":
        out = _matmul(g, number, step)
    elif step.kind == "elementwise" and step.op is not None:
        mapping = MAPPINGS.get(step.op)
        if mapping is None:
            raise OnnxExportError(
                f"to_onnx: op {step.op.name!r} ({step.describe()}, step {number} of the plan) has no ONNX mapping; "
                f"ONNX export knows the ops of the rule table ({', '.join(op.name for op in MAPPINGS)})"
            )
        operands = [g.gather(operand) for operand in step.operands]
        out = (mapping(g, operands, step.width), all(shared for _, shared in operands))
    else:  # a kind of step this exporter was not written for: refused, never guessed at
        raise OnnxExportError(f"to_onnx: step {number} of the plan is of kind {step.kind!r}, which has no ONNX mapping")
    return g.per_sample(out, step.width)


def _internal(name: str) -> bool:
    """Whether ``name`` is one the graph gives its own tensors."""
    return name in _RESERVED or name.startswith("/") or re.fullmatch(r"step\d+\.weight", name) is not None


_RESERVED = ("outputs", "loss", "leaves", "constants")


def _argument_names(fn: Any, count: int) -> list[str]:
    try:
        parameters = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]  # fmt: skip
    except (TypeError, ValueError):  # a builtin without a signature
        parameters = []
    names = [parameters[i] if i < len(parameters) else f"arg{i}" for i in range(count)]
    return [f"{name}_input" if name in _RESERVED else name for name in names]


def to_onnx(target: Compiled | Plan, *, leaves: np.ndarray | None = None, names: list[str] | None = None) -> Any:
    """The plan of ``target`` (a compiled function's, of its latest call; or a :class:`Plan`) as an ``onnx.ModelProto``.

    ``outputs[b] = fn(*sample b)``, and ``loss`` = mean_b or sum_b outputs[b] for a function compiled with reduce
    "mean" or "sum". ``leaves``: the numbers for ``plan.leaves`` (default: the Values' data now); ``names``:
    the inputs' names (default: fn's argument names). Raises :class:`OnnxExportError` naming an op without
    a mapping (a custom ``Op``), and ImportError naming the ``onnx`` extra where onnx is not installed.
    """
    if isinstance(target, Compiled):
        if target.plan is None:
            raise ValueError(f"to_onnx: {target!r} has no plan yet: call it once on a batch, then export")
        plan, reduce, fn = target.plan, target.reduce, target.fn
    elif isinstance(target, Plan):
        plan, reduce, fn = target, None, None
    else:
        raise TypeError(f"to_onnx: expected a compiled function or its Plan, got {type(target).__name__}")
    if leaves is None:
        leaves = np.array([leaf.data for leaf in plan.leaves], dtype=float)
    elif not isinstance(leaves, np.ndarray) or leaves.shape != (len(plan.leaves),) or leaves.dtype != float:
        raise ValueError(f"to_onnx: leaves must be a float array of shape ({len(plan.leaves)},), one per leaf of the "
                         f"plan, got {type(leaves).__name__} {getattr(leaves, 'shape', '')}".strip())  # fmt: skip
    inputs = [step for step in plan.steps if step.kind == "input"]
    if names is None:
        names = _argument_names(fn, len(inputs)) if fn is not None else [f"arg{i}" for i in range(len(inputs))]
    if (not isinstance(names, (list, tuple)) or len(names) != len(inputs) or not all(isinstance(n, str) for n in names)
            or len(set(names)) != len(names) or any(_internal(n) for n in names)):  # fmt: skip
        raise ValueError(
            f"to_onnx: names must be {len(inputs)} distinct strings, one per argument, none of them "
            f"outputs, loss, leaves, constants, step<i>.weight or starting with '/'; got {names!r}"[:300]
        )
    onnx = _onnx()
    g = _Graph(onnx, plan, leaves, names[inputs[0].argument])
    for number, step in enumerate(plan.steps):
        g.values[number] = (names[step.argument], False) if step.kind == "input" else (_step(g, number, step), False)
    result = g.per_sample(g.gather(plan.outputs), plan.outputs.width)
    if plan.single_output:
        result = g.node("Squeeze", [result, g.constant([1])])
    g.nodes.append(g.helper.make_node("Identity", [result], ["outputs"]))
    double = onnx.TensorProto.DOUBLE
    shape = ["batch"] if plan.single_output else ["batch", plan.outputs.width]
    graph_outputs = [g.helper.make_tensor_value_info("outputs", double, shape)]
    if reduce is not None:
        g.nodes.append(g.helper.make_node("ReduceMean" if reduce == "mean" else "ReduceSum", ["outputs"], ["loss"],
                                          keepdims=0))  # fmt: skip
        graph_outputs.append(g.helper.make_tensor_value_info("loss", double, []))
    graph_inputs = [g.helper.make_tensor_value_info(names[s.argument], double, ["batch", s.width]) for s in inputs]
    graph = g.helper.make_graph(g.nodes, "chainrule_plan", graph_inputs, graph_outputs, g.initializers)
    model = g.helper.make_model(graph, producer_name="chainrule", opset_imports=[g.helper.make_opsetid("", OPSET)])
    model.ir_version = min(model.ir_version, 8)  # opset 17's IR version: readers older than onnx itself accept it
    onnx.checker.check_model(model)
    return model


def save_onnx(target: Compiled | Plan, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write :func:`to_onnx` of ``target`` to ``path`` (whole or not at all, as every writer of the package)."""
    model = to_onnx(target, **options)
    return write_atomically(path, model.SerializeToString(), who="save_onnx")

"""``autograd.compile``: per-sample scalar code, traced once and replayed over whole batches with numpy.

>>> import numpy as np, autograd as ag
>>> w = ag.Value(0.5)
>>> loss = ag.compile(lambda x, y: (w * x - y) ** 2)      # one sample's squared error
>>> result = loss(np.array([1.0, 2.0]), np.array([0.0, 2.0]))
>>> result.data                                          # mean of 0.25 and 1.0
0.625
>>> result.backward(); w.grad                            # mean of 2(wx - y)x: 1 and -4
-1.5

The first call traces ``fn`` on the first sample (``tracing.py``), the trace is grouped into array ops
(``plan.py``) and run with each op's batched rule (``batched.py``). Later calls whose samples have
the same shapes replay the plan; new sample shapes, or a function that now reads other objects (a
model rebuilt under the same name), trace again.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from operator import attrgetter
from types import CodeType, FunctionType
from typing import Any, cast

import numpy as np

from autograd.batched import Batched, rule_for
from autograd.modes import AnomalyError, current
from autograd.plan import CONSTANTS, LEAVES, Gather, Plan, Step, build
from autograd.tracing import trace

_REDUCTIONS = ("mean", "sum", None)
_RAISE: Any = {"divide": "raise", "over": "raise", "invalid": "raise", "under": "ignore"}


class Evaluation:
    """One forward run of a plan over a batch: the per-sample outputs, and what backward needs."""

    def __init__(self, plan: Plan, batch: int, leaves: np.ndarray, values: list[Any], operands: list[Any]) -> None:
        self.plan, self.batch, self.leaves, self.values, self.operands = plan, batch, leaves, values, operands
        # A copy, shaped (batch, width) even where an output is a parameter or a constant (a (width,) gather),
        # so that the caller's array is never a view of the step values that backward reads.
        outputs = _assemble(plan.outputs, values, leaves, plan.constants, batch)
        self.outputs: np.ndarray = np.array(np.broadcast_to(outputs, (batch, plan.outputs.width)), dtype=float)

    def gradients(self, seed: np.ndarray) -> np.ndarray:
        """d(sum of seed * outputs)/d(node) for every leaf of the plan, in ``plan.leaves`` order, then for
        every node of ``plan.outer``."""
        return _backward(self, np.broadcast_to(seed, self.outputs.shape))


class Compiled:
    """What :func:`compile` returns: call it on batched arguments to get a :class:`CompiledResult`."""

    def __init__(self, fn: Callable[..., Any], reduce: str | None) -> None:
        self.fn, self.reduce = fn, reduce
        self.traces = 0  # how many times fn was traced
        self.plan: Plan | None = None  # the plan of the latest call
        self._plans: dict[object, tuple[Plan, tuple[object, ...]]] = {}

    def __call__(self, *args: Any) -> CompiledResult:
        if not args:
            raise TypeError("compile: call the compiled function with at least one batched argument")
        arrays, batch = _batched(args)
        plan = self.plan_for(arrays)
        leaves = np.fromiter(map(_DATA, plan.leaves), dtype=float, count=len(plan.leaves))
        evaluation = evaluate(plan, [a.reshape(batch, -1) for a in arrays], leaves)
        return CompiledResult(self, evaluation)

    def plan_for(self, arrays: list[np.ndarray]) -> Plan:
        """The plan for batched arguments shaped like ``arrays``, traced now if there is none yet."""
        key = tuple((a.shape[1:], a.dtype.kind) for a in arrays)
        bindings = _bindings(self.fn)
        known = self._plans.get(key)
        stale = known is None or len(known[1]) != len(bindings) or any(map(operator.is_not, known[1], bindings))
        if known is None or stale:
            names = _argument_names(self.fn, len(arrays))
            try:
                traced = trace(self.fn, [a[0] for a in arrays], names)
            except (ArithmeticError, ValueError, IndexError) as error:  # the scalar rules ran on sample #0
                raise type(error)(f"{error} (sample #0 of the batch, met while tracing)") from error
            if self.reduce is not None and not traced.single_output:
                raise TypeError(
                    f"compile: reduce={self.reduce!r} needs the function to return one Value (a loss), but it "
                    f"returned {len(traced.outputs)} Values; use reduce=None for per-sample outputs"
                )
            known = (build(traced, [math.prod(a.shape[1:]) for a in arrays]), bindings)
            self._plans[key] = known
            self.traces += 1
        self.plan = known[0]
        return known[0]

    def __repr__(self) -> str:
        return f"compile({getattr(self.fn, '__name__', self.fn)!r}, reduce={self.reduce!r})"


class CompiledResult:
    """The function over a batch: ``data`` (the mean or sum, or per-sample outputs with reduce=None)."""

    def __init__(self, compiled: Compiled, evaluation: Evaluation) -> None:
        self.evaluation, self.reduce = evaluation, compiled.reduce
        outputs = evaluation.outputs
        self.outputs: np.ndarray = outputs[:, 0] if evaluation.plan.single_output else outputs
        if self.reduce is None:
            self.data: float | np.ndarray = self.outputs
        else:
            total = math.fsum(self.outputs.tolist())
            self.data = total / len(outputs) if self.reduce == "mean" else total

    def backward(self, gradient: float | np.ndarray | None = None) -> None:
        """Add to ``.grad`` of every Value the function read what the scalar engine would for this batch.

        That is the gradient of the mean (or sum) of the per-sample results; with ``reduce=None``, of
        the sum of ``gradient * outputs`` (``gradient`` an array shaped like ``data``, ones by default).
        """
        seed = self._seed(gradient)
        grads = self.evaluation.gradients(seed)
        plan = self.evaluation.plan
        nodes = (*plan.leaves, *(node for node, _, _ in plan.outer))
        for node, g in zip(nodes, grads.tolist(), strict=True):
            node.grad += g

    def _seed(self, gradient: float | np.ndarray | None) -> np.ndarray:
        batch = self.evaluation.batch
        if self.reduce is not None:
            scale = 1.0 if gradient is None else float(gradient)
            return np.full((batch, 1), scale / batch if self.reduce == "mean" else scale)
        seed = np.ones(self.outputs.shape) if gradient is None else np.asarray(gradient, dtype=float)
        if seed.shape != self.outputs.shape:
            raise ValueError(f"backward: gradient has shape {seed.shape}, the outputs {self.outputs.shape}")
        return seed.reshape(self.evaluation.outputs.shape)

    def __repr__(self) -> str:
        return f"CompiledResult(data={self.data!r}, batch={self.evaluation.batch})"


def compile(fn: Callable[..., Any], reduce: str | None = "mean") -> Compiled:  # noqa: A001  (autograd.compile, as jax.jit)
    """Compile per-sample scalar code ``fn(*sample)`` to run over batches with numpy.

    ``compiled(*batched)`` takes arrays (or sequences) whose first axis is the batch and returns a
    :class:`CompiledResult` whose ``data`` is the mean (``reduce="sum"``: the sum) of ``fn`` over the
    samples, or with ``reduce=None`` the per-sample outputs as an array. Its ``backward()`` adds to
    the ``.grad`` of every Value ``fn`` read (a model's parameters) exactly what the scalar engine
    adds for the same reduction of the per-sample graphs. A sample of shape (n,) reaches ``fn`` as a
    list of n Values, of shape () as one Value; integer labels arrive as Values too, for ``ag.pick``.

    ``fn`` must not branch on its traced inputs or read their numbers (``if x > 0``, ``float(x)``,
    ``x.data``, ``math.exp(x)``): that raises :class:`autograd.tracing.TracingError` naming the line.
    """
    if not callable(fn):
        raise TypeError(f"compile: fn must be a function of one sample, got {type(fn).__name__} {fn!r}"[:200])
    if reduce not in _REDUCTIONS:
        raise ValueError(f"compile: reduce must be 'mean', 'sum' or None, got {reduce!r}")
    return Compiled(fn, reduce)


_DATA = attrgetter("data")


def _batched(args: tuple[Any, ...]) -> tuple[list[np.ndarray], int]:
    arrays = []
    for i, arg in enumerate(args):
        try:
            array = np.asarray(arg)
        except ValueError as error:
            raise ValueError(f"compile: argument {i} is not a rectangular array: {error}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"compile: argument {i} must hold numbers, got dtype {array.dtype}")
        if array.ndim == 0:
            raise ValueError(f"compile: argument {i} is one number; its first axis must be the batch")
        arrays.append(array.astype(float, copy=False) if array.dtype.kind == "f" else array)
    batch = len(arrays[0])
    for i, array in enumerate(arrays):
        if len(array) != batch:
            raise ValueError(f"compile: argument 0 has {batch} samples but argument {i} has {len(array)}")
    if batch == 0:
        raise ValueError("compile: the batch is empty")
    return [a.astype(float) for a in arrays], batch


def _bindings(fn: Callable[..., Any]) -> tuple[object, ...]:
    """The objects ``fn`` reads from its closure and module: a change means tracing again.

    Names read in its comprehensions and lambdas count (their code is nested in fn's), and so do the
    bindings of the plain functions it reads: a helper that reads the model is reading it for fn.
    """
    found: list[object] = []
    seen: set[int] = set()
    pending = [fn]
    while pending:
        f = pending.pop()
        code = getattr(f, "__code__", None)
        if code is None or id(f) in seen:
            continue
        seen.add(id(f))
        start = len(found)
        for cell in getattr(f, "__closure__", None) or ():
            try:
                found.append(cell.cell_contents)
            except ValueError:  # a cell not yet filled
                found.append(None)
        namespace = getattr(f, "__globals__", {})
        found.extend(namespace[name] for name in _names(code) if name in namespace)
        pending.extend(x for x in found[start:] if isinstance(x, FunctionType))
    return tuple(found)


def _names(code: CodeType) -> list[str]:
    """The global names ``code`` and the code nested in it (comprehensions before Python 3.12, lambdas) read."""
    names: list[str] = []
    stack = [code]
    while stack:
        code = stack.pop()
        names.extend(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, CodeType))
    return names


def _argument_names(fn: Callable[..., Any], count: int) -> list[str]:
    code = getattr(fn, "__code__", None)
    names = list(code.co_varnames[: code.co_argcount]) if code is not None else []
    return [names[i] if i < len(names) else f"arg{i}" for i in range(count)]


# -- running a plan --------------------------------------------------------------------------


def _source(number: int, values: list[Any], leaves: np.ndarray, constants: np.ndarray) -> np.ndarray:
    return leaves if number == LEAVES else constants if number == CONSTANTS else values[number]


def _assemble(gather: Gather, values: list[Any], leaves: np.ndarray, constants: np.ndarray, batch: int) -> Any:
    whole = gather.whole
    if whole is not None:
        return _source(whole.source, values, leaves, constants)[..., whole.take]
    out = np.empty((batch, gather.width))
    for piece in gather.pieces:
        out[:, piece.into] = _source(piece.source, values, leaves, constants)[..., piece.take]
    return out


def _weights(step: Step, leaves: np.ndarray, constants: np.ndarray) -> np.ndarray:
    source = leaves if step.weight_source == LEAVES else constants
    if isinstance(step.weights, slice):
        return source[step.weights].reshape(step.width, -1)
    return source[step.weights]


def evaluate(plan: Plan, inputs: list[np.ndarray], leaves: np.ndarray) -> Evaluation:
    """Run ``plan`` forward on the batched ``inputs`` (one (batch, n) array per argument) and ``leaves``."""
    batch = len(inputs[0])
    anomaly = current().anomaly
    values: list[Any] = []
    operands: list[Any] = []
    for step in plan.steps:
        if step.kind == "input":
            values.append(inputs[step.argument])
            operands.append(())
            continue
        given = tuple(_assemble(g, values, leaves, plan.constants, batch) for g in step.operands)
        if step.kind == "matmul":
            out = given[0] @ _weights(step, leaves, plan.constants).T
        else:
            assert step.op is not None
            out = _forward(step, rule_for(step.op, step.gradients), given)
        out = np.broadcast_to(out, (batch, step.width))
        if anomaly:
            _check_finite(step, out, given)
        values.append(out)
        operands.append(given)
    return Evaluation(plan, batch, leaves, values, operands)


def _forward(step: Step, rule: Batched, given: tuple[Any, ...]) -> Any:
    if rule.ieee:
        with np.errstate(all="ignore"):
            return rule.forward(*given)
    try:
        with np.errstate(**_RAISE):
            return rule.forward(*given)
    except (ArithmeticError, ValueError, IndexError):
        assert step.op is not None
        _locate(step, given, lambda *xs: step.op.forward(*xs), "")  # type: ignore[union-attr]
        with np.errstate(all="ignore"):  # the scalar rule raises nowhere: numpy's warning was not an error
            return rule.forward(*given)


def _locate(step: Step, arrays: tuple[Any, ...], scalar: Callable[..., Any], what: str) -> None:
    """Re-run the scalar rule element by element; raise its error, naming the sample, where it raises."""
    assert step.op is not None
    batch = max((len(a) for a in arrays if np.ndim(a) == 2), default=1)
    columns = [np.broadcast_to(a, (batch, step.width)) for a in arrays]
    for b in range(batch):
        for j in range(step.width):
            try:
                scalar(*(float(c[b, j]) for c in columns))
            except (ArithmeticError, ValueError, IndexError) as error:
                where = f"sample #{b} of the batch, node {j} of the {step.op.name} step"
                raise type(error)(f"{what}{error} ({where})") from None


def _check_finite(step: Step, out: np.ndarray, given: tuple[Any, ...]) -> None:
    assert step.op is not None
    for role, array in (("gave", out), *(("was given", g) for g in given)):
        # Each array against its own width: a matmul's operand is n columns wide, its output k.
        array = np.broadcast_to(array, (len(out), np.shape(array)[-1] if np.ndim(array) else 1))
        bad = ~np.isfinite(array)
        if bad.any():
            b, j = (int(i) for i in np.argwhere(bad)[0])
            number = float(array[b, j])
            verb = f"forward of {step.op.name} gave" if role == "gave" else f"{step.op.name} was given"
            raise AnomalyError(
                f"detect_anomaly: {verb} {number!r} at sample #{b} of the batch (node {j} of {step.width} at depth {step.depth})"  # noqa: E501
            )


def _backward(evaluation: Evaluation, seed: np.ndarray) -> np.ndarray:
    plan, batch = evaluation.plan, evaluation.batch
    grads: list[Any] = [None] * len(plan.steps)
    leaf_grads = np.zeros(len(plan.leaves))
    anomaly = current().anomaly

    def scatter(gather: Gather, contribution: Any) -> None:
        contribution = np.broadcast_to(contribution, (batch, gather.width))
        for piece in gather.pieces:
            if piece.source == CONSTANTS or (piece.source >= 0 and plan.steps[piece.source].kind == "input"):
                continue
            part = contribution[:, piece.into]
            if piece.source == LEAVES:
                column_sums = part.sum(axis=0)
                if piece.repeats:
                    np.add.at(leaf_grads, cast(np.ndarray, piece.take), column_sums)  # repeats: never a slice
                else:
                    leaf_grads[piece.take] += column_sums
                continue
            target = grads[piece.source]
            if target is None:
                target = grads[piece.source] = np.zeros((batch, plan.steps[piece.source].width))
            if piece.repeats:
                np.add.at(target, cast(Any, (slice(None), piece.take)), part)  # repeats: never a slice
            else:
                target[:, piece.take] += part

    scatter(plan.outputs, seed)
    for number in range(len(plan.steps) - 1, -1, -1):
        step, g = plan.steps[number], grads[number]
        if g is None or step.kind == "input":
            continue
        given = evaluation.operands[number]
        if step.kind == "matmul":
            weights = _weights(step, evaluation.leaves, plan.constants)
            scatter(step.operands[0], g @ weights)
            if step.weight_source == LEAVES:
                # The shared side is (n,) when it is all parameters and constants: every sample has the same.
                block = g.T @ np.broadcast_to(given[0], (batch, step.operands[0].width))
                if isinstance(step.weights, slice):
                    leaf_grads[step.weights] += block.ravel()
                else:
                    assert step.weights is not None
                    np.add.at(leaf_grads, step.weights.ravel(), block.ravel())
            continue
        assert step.op is not None
        partials = _vjp(step, rule_for(step.op, step.gradients), g, given, evaluation.values[number])
        for position in range(step.gradients):
            if anomaly:
                _check_gradient(step, partials[position], batch)
            scatter(step.operands[position], partials[position])
    outer = [0.0 if grads[number] is None else grads[number][:, column].sum() for _, number, column in plan.outer]
    return np.concatenate([leaf_grads, outer])


def _vjp(step: Step, rule: Batched, g: np.ndarray, given: tuple[Any, ...], out: np.ndarray) -> Any:
    if rule.ieee:
        with np.errstate(all="ignore"):
            return rule.vjp(g, *given, out)
    try:
        with np.errstate(**_RAISE):
            return rule.vjp(g, *given, out)
    except (ArithmeticError, ValueError, IndexError):
        assert step.op is not None
        _locate(step, (g, *given, out), lambda *xs: step.op.vjp(*xs), f"backward of {step.op.name}: ")  # type: ignore[union-attr]
        with np.errstate(all="ignore"):
            return rule.vjp(g, *given, out)


def _check_gradient(step: Step, partial: Any, batch: int) -> None:
    assert step.op is not None
    bad = ~np.isfinite(np.broadcast_to(partial, (batch, step.width)))
    if bad.any():
        b, j = (int(i) for i in np.argwhere(bad)[0])
        raise AnomalyError(
            f"detect_anomaly: backward of {step.op.name} gave a non-finite gradient at sample #{b} of the batch "
            f"(node {j} of {step.width} at depth {step.depth})"
        )

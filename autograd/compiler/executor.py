"""Running a compiled plan over a batch: forward step by step, and backward in reverse (for compiled.py).

Each step's operands are assembled from their sources (a step's output columns, the leaves, the
constants), the op's array rule runs on them (``Op.arrays``, on its row of the rule table), or one
matrix product for a layer's dot nodes. An op without an array rule (a custom ``Op``) runs its
scalar forward and vjp element by element (:func:`elementwise`): slow, but the same numbers. Numbers
numpy would warn about are judged by the scalar rules instead: where a batched result is not finite,
the op's scalar rule runs element by element and raises its own error, naming the sample (NaN in,
NaN out is no error).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.arrays import ArrayRule
from autograd.compiler.codegen import generated
from autograd.compiler.plan import CONSTANTS, LEAVES, ArrayOp, Gather, Plan
from autograd.engine import Op
from autograd.modes import AnomalyError, current


class Evaluation:
    """One forward run of a plan over a batch: the per-sample outputs, and what backward needs."""

    def __init__(
        self, plan: Plan, batch: int, leaves: np.ndarray, values: list[Any], operands: list[Any],
        outputs: np.ndarray | None = None,
    ) -> None:
        self.plan, self.batch, self.leaves, self.values, self.operands = plan, batch, leaves, values, operands
        # A new array, shaped (batch, width) even where an output is a parameter or a constant (a (width,) gather),
        # so that the caller's array is never a view of the step values that backward reads. The generated
        # code makes it as it runs (``outputs``).
        if outputs is None:
            assembled = _assemble(plan.outputs, values, leaves, plan.constants, batch)
            outputs = np.array(np.broadcast_to(assembled, (batch, plan.outputs.width)), dtype=float)
        self.outputs: np.ndarray = outputs

    def gradients(self, seed: np.ndarray) -> np.ndarray:
        """d(sum of seed * outputs)/d(node) for every leaf of the plan, in ``plan.leaves`` order, then for
        every node of ``plan.outer``."""
        shape = self.outputs.shape
        return _backward(self, seed if getattr(seed, "shape", None) == shape else np.broadcast_to(seed, shape))


def rule_for(op: Op) -> ArrayRule:
    """The array rule of ``op``: its row's, or one made from its scalar rule."""
    return op.arrays or elementwise(op)


def elementwise(op: Op) -> ArrayRule:
    """An op without an array rule, run through its scalar forward and vjp element by element (np.frompyfunc)."""
    return ArrayRule(_elementwise_forward(op), _elementwise_vjp(op))


def _elementwise_forward(op: Op) -> Callable[..., Any]:
    def run_forward(*xs: Any) -> Any:
        return np.frompyfunc(op.forward, len(xs), 1)(*xs).astype(float)

    return run_forward


def _elementwise_vjp(op: Op) -> Callable[..., list[Any]]:
    """The scalar vjp element by element. Its partials are counted at the first element, when a gradient is
    asked for: a forward-only run never calls a derivative rule."""

    def run_vjp(g: Any, *xs_then_out: Any) -> list[Any]:
        first = [float(np.ravel(a)[0]) for a in (g, *xs_then_out)]
        count = len(op.vjp(*first))
        if count == 0:
            return []

        def one(*scalars: float) -> tuple[float, ...] | float:
            partials = tuple(float(p) for p in op.vjp(*scalars)[:count])
            return partials if count > 1 else partials[0]  # frompyfunc with one output wants the bare number

        parts = np.frompyfunc(one, len(xs_then_out) + 1, count)(g, *xs_then_out)
        return [np.asarray(p, dtype=float) for p in (parts if count > 1 else (parts,))]

    return run_vjp


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


def _weights(step: ArrayOp, leaves: np.ndarray, constants: np.ndarray) -> np.ndarray:
    source = leaves if step.weight_source == LEAVES else constants
    if isinstance(step.weights, slice):
        return source[step.weights].reshape(step.width, -1)
    return source[step.weights]


def evaluate(plan: Plan, inputs: list[np.ndarray], leaves: np.ndarray) -> Evaluation:
    """Run ``plan`` forward on the batched ``inputs`` (one (batch, n) array per argument) and ``leaves``:
    with its generated code (``codegen.py``) where it has some, else (or where that code meets an error or
    a number that is not finite) step by step here."""
    batch = len(inputs[0])
    anomaly = current().anomaly
    forward = None if anomaly else generated(plan).forward
    if forward is not None:
        try:
            with np.errstate(all="ignore"):
                made, kept, outputs, finite = forward(inputs, leaves, plan.constants, batch)
        except (ArithmeticError, ValueError, IndexError):
            finite = False  # the steps below meet it again, and word it
        if finite:
            return Evaluation(plan, batch, leaves, made, kept, outputs)
    return interpret(plan, inputs, leaves, anomaly)


def interpret(plan: Plan, inputs: list[np.ndarray], leaves: np.ndarray, anomaly: bool = False) -> Evaluation:
    """:func:`evaluate` step by step, reading each step's record; ``anomaly``: check every step's numbers."""
    batch = len(inputs[0])
    values: list[Any] = []
    operands: list[Any] = []
    with np.errstate(all="ignore"):  # what numpy would warn about is checked below, against the scalar rules
        for step in plan.steps:
            if step.kind == "input":
                values.append(inputs[step.argument])
                operands.append(())
                continue
            given = tuple([_assemble(g, values, leaves, plan.constants, batch) for g in step.operands])
            if step.kind == "matmul":
                out = given[0] @ _weights(step, leaves, plan.constants).T
            else:
                assert step.op is not None
                out = _forward(step, rule_for(step.op), given)
            if getattr(out, "shape", None) != (batch, step.width):
                out = np.broadcast_to(out, (batch, step.width))
            if anomaly:
                _check_finite(step, out, given)
            values.append(out)
            operands.append(given)
    return Evaluation(plan, batch, leaves, values, operands)


def _forward(step: ArrayOp, rule: ArrayRule, given: tuple[Any, ...]) -> Any:
    """The batched forward. Where it is not finite (and not an IEEE op), or refuses its operands, the scalar
    rule runs element by element and raises its own error naming the sample; NaN in gives NaN out."""
    assert step.op is not None
    scalar = step.op.forward
    try:
        out = rule.forward(*given)
    except (ArithmeticError, ValueError, IndexError):
        _locate(step, given, scalar, "")
        return _elementwise_forward(step.op)(*given)  # the scalar rule raised nowhere
    if not rule.ieee and not _all_finite(out):
        _locate(step, given, scalar, "")
    return out


def _all_finite(array: Any) -> bool:
    """Whether every number of ``array`` is finite, by its sum: a NaN or an infinity makes the sum one too. A
    sum that overflows from finite numbers says no as well, and the caller's scalar check then finds nothing."""
    return math.isfinite(np.add.reduce(array, axis=None))


def _locate(step: ArrayOp, arrays: tuple[Any, ...], scalar: Callable[..., Any], what: str) -> None:
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
                raise naming_the_sample(error, where, what) from None


def naming_the_sample(error: Exception, where: str, what: str = "") -> Exception:
    """The same error with the sample named in its message: a new one of its type where the type takes
    a message alone (every built-in error does), else the error itself with the words as a note."""
    try:
        named = type(error)(f"{what}{error} ({where})")
    except Exception:  # an exception class of a custom op that wants other arguments
        named = None
    if type(named) is type(error):
        return named
    if hasattr(error, "add_note"):  # Python 3.11+
        error.add_note(f"{what}({where})")
    return error


def _check_finite(step: ArrayOp, out: np.ndarray, given: tuple[Any, ...]) -> None:
    assert step.op is not None
    for role, array in (("gave", out), *(("was given", g) for g in given)):
        # Each array against its own width: a matmul's operand is n columns wide, its output k.
        array = np.broadcast_to(array, (len(out), np.shape(array)[-1] if np.ndim(array) else 1))
        bad = _first_non_finite(array)
        if bad is not None:
            verb = f"forward of {step.op.name} gave" if role == "gave" else f"{step.op.name} was given"
            raise AnomalyError(f"detect_anomaly: {verb} {float(array[bad])!r} at {_place(step, *bad)}")


def _first_non_finite(array: np.ndarray) -> tuple[int, int] | None:
    """(sample, node) of the first NaN or infinity in a (batch, width) array, or None."""
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    b, j = (int(i) for i in np.argwhere(bad)[0])
    return b, j


def _place(step: ArrayOp, sample: int, node: int) -> str:
    return f"sample #{sample} of the batch (node {node} of {step.width} at depth {step.depth})"


def _backward(evaluation: Evaluation, seed: np.ndarray) -> np.ndarray:
    plan, batch = evaluation.plan, evaluation.batch
    backward = None if current().anomaly else generated(plan).backward
    if backward is not None:
        try:
            with np.errstate(all="ignore"):
                leaf_grads, finite = backward(evaluation.values, evaluation.operands, evaluation.leaves,
                                              plan.constants, seed, batch)  # fmt: skip
        except (ArithmeticError, ValueError, IndexError):
            finite = False  # the steps below meet it again, and word it
        if finite:
            return leaf_grads
    return interpreted_gradients(evaluation, seed)


def interpreted_gradients(evaluation: Evaluation, seed: np.ndarray) -> np.ndarray:
    """:meth:`Evaluation.gradients` step by step, reading each step's record (``seed`` shaped as the outputs)."""
    plan, batch = evaluation.plan, evaluation.batch
    grads: list[Any] = [None] * len(plan.steps)
    leaf_grads = np.zeros(len(plan.leaves))
    anomaly = current().anomaly

    def scatter(gather: Gather, contribution: Any) -> None:
        if getattr(contribution, "shape", None) != (batch, gather.width):  # a rule may give (width,) or a number
            contribution = np.broadcast_to(contribution, (batch, gather.width))
        for piece in gather.targets:
            part = contribution if gather.whole is not None else contribution[:, piece.into]
            if piece.source == LEAVES:
                column_sums = np.add.reduce(part, axis=0)  # the ufunc itself: ndarray.sum's wrapper costs as much
                if piece.repeats:
                    np.add.at(leaf_grads, piece.take, column_sums)  # type: ignore[arg-type]
                else:
                    leaf_grads[piece.take] += column_sums
                continue
            target = grads[piece.source]
            if target is None:
                target = grads[piece.source] = np.zeros((batch, plan.steps[piece.source].width))
            if piece.repeats:
                np.add.at(target, (slice(None), piece.take), part)  # type: ignore[arg-type]
            else:
                target[:, piece.take] += part

    with np.errstate(all="ignore"):  # as in evaluate: the scalar rules judge what is not finite
        scatter(plan.outputs, seed)
        _reverse(evaluation, grads, leaf_grads, scatter, anomaly)
    if not plan.outer:
        return leaf_grads
    outer = [0.0 if grads[number] is None else grads[number][:, column].sum() for _, number, column in plan.outer]
    return np.concatenate([leaf_grads, outer])


def _reverse(
    evaluation: Evaluation, grads: list[Any], leaf_grads: np.ndarray, scatter: Callable[[Gather, Any], None],
    anomaly: bool,
) -> None:
    """The steps backwards: each step's gradient (batch, width) through its rule to its operands' sources."""
    plan, batch = evaluation.plan, evaluation.batch
    for number in range(len(plan.steps) - 1, -1, -1):
        step, g = plan.steps[number], grads[number]
        if g is None or step.kind == "input":
            continue
        given = evaluation.operands[number]
        if step.kind == "matmul":
            weights = _weights(step, evaluation.leaves, plan.constants)
            if step.operands[0].targets:  # not for a first layer, which reads only the inputs
                scatter(step.operands[0], g @ weights)
            if step.weight_source == LEAVES:
                # The shared side is (n,) when it is all parameters and constants: every sample has the same.
                shared = given[0] if given[0].ndim == 2 else np.broadcast_to(given[0], (batch, step.operands[0].width))
                block = g.T @ shared
                if isinstance(step.weights, slice):
                    leaf_grads[step.weights] += block.ravel()
                else:
                    assert isinstance(step.weights, np.ndarray)
                    np.add.at(leaf_grads, step.weights.ravel(), block.ravel())
            continue
        assert step.op is not None
        partials = _vjp(step, rule_for(step.op), g, given, evaluation.values[number])
        # A custom op's vjp may give no partial for trailing operands: those are constants to it.
        for operand, partial in zip(step.operands[: step.differentiable], partials, strict=False):
            if anomaly:
                _check_gradient(step, partial, batch)
            scatter(operand, partial)


def _vjp(step: ArrayOp, rule: ArrayRule, g: np.ndarray, given: tuple[Any, ...], out: np.ndarray) -> Any:
    """The batched vjp, checked as :func:`_forward` checks the forward: by the scalar rule, where not finite."""
    assert step.op is not None
    scalar, what = step.op.vjp, f"backward of {step.op.name}: "
    assert rule.vjp is not None  # rule_for fills it in
    try:
        partials = rule.vjp(g, *given, out)
    except (ArithmeticError, ValueError, IndexError):
        _locate(step, (g, *given, out), scalar, what)
        return _elementwise_vjp(step.op)(g, *given, out)
    if not rule.ieee and not all(_all_finite(p) for p in partials[: step.differentiable]):
        _locate(step, (g, *given, out), scalar, what)
    return partials


def _check_gradient(step: ArrayOp, partial: Any, batch: int) -> None:
    assert step.op is not None
    bad = _first_non_finite(np.broadcast_to(partial, (batch, step.width)))
    if bad is not None:
        what = f"backward of {step.op.name} gave a non-finite gradient"
        raise AnomalyError(f"detect_anomaly: {what} at {_place(step, *bad)}")

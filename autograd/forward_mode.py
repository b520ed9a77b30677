"""Forward mode, and the vector products of both modes: ``jvp``, ``vjp``, ``jacfwd``, ``hvp``.

Reverse mode pulls one output's gradient back to every input; forward mode pushes one direction
of the inputs forward to every output. Both use the same rule table: an op's local derivatives
d(out)/d(x_i) are its vjp called with g = 1, so the tangent of a node is

    tangent(node) = Σ_i d(node)/d(x_i) · tangent(x_i)

computed from the inputs towards the output, once per direction. Forward mode costs one sweep
per input direction and reverse mode one per output, so ``jacfwd`` wins for few inputs and many
outputs, and ``jacobian`` for the opposite. Like the rest of the functional API, the results are
floats when called with numbers and Values (differentiable again) when called with Values or from
inside another transform, so everything composes with ``grad`` to any order.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from autograd.arguments import (
    ArgNums,
    arrange_jacobian,
    as_array,
    call_inside,
    check_entries,
    checked_argnums,
    checked_function,
    flatten,
    is_nested,
    prepare,
    scalar_outputs,
    unflatten,
)
from autograd.arrays import is_array
from autograd.backward import gradients, operand_order, rule_error
from autograd.engine import Value, as_float
from autograd.modes import TracingError
from autograd.ops import dot
from autograd.transforms import Function, grad_for

Tangent = Any  # a float, or a Value when the result must stay differentiable


def jvp(f: Function, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J · tangents)``: the output and its directional derivative, in one forward sweep.

    ``primals`` and ``tangents`` are sequences of the same structure (numbers, lists of numbers or
    numpy arrays, one entry per argument of ``f``). ``f`` returns a scalar, a list of scalars or an
    array; the output tangent has the same structure. d/dt f(x + t v) at t = 0 is ``jvp(f, (x,), (v,))[1]``.
    Tangents must be finite: along an infinite one, outputs that do not depend on it would stay 0.

    >>> jvp(lambda x, y: x * y, (3.0, 2.0), (1.0, 0.0))
    (6.0, 2.0)
    """
    return _jvp(f, primals, tangents, "jvp")


def _jvp(f: Function, primals: Sequence[Any], tangents: Sequence[Any], caller: str) -> tuple[Any, Any]:
    checked_function(f, caller)
    primals, tangents = _checked_pair(primals, tangents, caller)
    line = _Linearization(f, primals, {}, tuple(range(len(primals))), caller)
    seeds = [_tangent(t, caller, "tangents", k) for k, t in enumerate(flatten(tuple(tangents)))]
    if len(seeds) != len(line.inputs):
        raise ValueError(f"{caller}: {len(seeds)} tangent entries for {len(line.inputs)} primal entries")
    return line.value(), line.push(seeds)


def vjp(f: Function, *primals: Any) -> tuple[Any, Callable[[Any], Any]]:
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(cotangent)`` gives cotangent · J for every argument.

    The cotangent has the output's structure (a number, or a list for a list output); ``vjp_fn``
    returns one gradient per argument, shaped like it, as a tuple. It can be called many times:
    the graph is recorded once. Cotangents must be finite, as tangents must.

    >>> out, pull = vjp(lambda x, y: [x * y, x + y], 3.0, 2.0)
    >>> pull([1.0, 0.0])
    (2.0, 3.0)
    """
    checked_function(f, "vjp")
    if not primals:
        raise ValueError("vjp: no primals: give the point to differentiate at, vjp(f, x) or vjp(f, x, y)")
    line = _Linearization(f, primals, {}, tuple(range(len(primals))), "vjp")

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        if is_array(line.result) and _numpy_shape(cotangent) != line.result.shape:
            raise ValueError(f"vjp: the cotangent must have the output's shape {line.result.shape}")
        if line.several:
            weights = flatten(cotangent)
        elif isinstance(cotangent, (list, tuple)) or (is_array(cotangent) and cotangent.ndim > 0):
            kind = type(cotangent).__name__
            raise ValueError(f"vjp: the cotangent must have the output's structure (a number), got {kind}")
        else:
            weights = [cotangent[()] if is_array(cotangent) else cotangent]  # a 0-d array's item
        if len(weights) != len(line.outputs):
            raise ValueError(f"vjp: the cotangent must have the output's structure ({len(line.outputs)} entries)")
        weights = [_tangent(w, "vjp", "cotangents", k) for k, w in enumerate(weights)]
        combined = dot(weights, line.outputs)  # Σ_j c_j y_j: its gradient is c · J
        grads = gradients(combined, line.inputs, create_graph=line.nested)
        result = unflatten(grads if line.nested else [float(g) for g in grads], line.shapes, single=False)
        return tuple(result)

    return line.value(), vjp_fn


def jacfwd(f: Function, argnums: ArgNums = 0) -> Function:
    """The function computing J[i][j] = d f_i / d x_j column by column, one forward sweep per input.

    The same layout as :func:`autograd.jacobian` (reverse mode, a sweep per output): rows follow
    f's outputs, columns the selected arguments laid out flat; a scalar f gives one row.
    """
    checked_function(f, "jacfwd")
    checked_argnums(argnums, "jacfwd")  # a wrong type is refused here, the range at the call

    @functools.wraps(f)
    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        line = _Linearization(f, args, kwargs, argnums, "jacfwd")
        n = len(line.inputs)
        check_entries(len(line.outputs), n, "jacfwd", "jvp and vjp give its products with a vector without it")
        columns = [flatten(line.push([1.0 if k == j else 0.0 for k in range(n)])) for j in range(n)]
        rows = [[column[i] for column in columns] for i in range(len(line.outputs))]
        return arrange_jacobian(rows, line.result, line.shapes)

    return jacfwd_f


def hvp(f: Function, primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """The Hessian of a scalar ``f`` times ``tangents``, forward over reverse: the Hessian is never built.

    It is ``jvp(grad(f), primals, tangents)[1]``: the directional derivative of the gradient, at the
    cost of a few gradient evaluations. Shaped like the gradient: the lone argument's entry for one
    primal, otherwise a tuple with one entry per argument.

    >>> hvp(lambda x, y: x * x * y, (3.0, 2.0), (1.0, 0.0))  # H = [[2y, 2x], [2x, 0]]
    (4.0, 6.0)
    """
    checked_function(f, "hvp")
    primals, tangents = _checked_pair(primals, tangents, "hvp")
    everything: ArgNums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return _jvp(grad_for("hvp", f, everything), primals, tangents, "hvp")[1]


class _Linearization:
    """``f`` recorded once at the primals, ready to push tangents forward through its graph.

    No inputs (an empty list) or no outputs (f returns []) is an empty Jacobian, as in reverse mode:
    every tangent pushed is zero, or there is none to push.
    """

    def __init__(
        self, f: Function, args: Sequence[Any], kwargs: dict[str, Any], argnums: ArgNums, caller: str
    ) -> None:
        self.caller = caller
        self.nested = is_nested(args, kwargs)
        call_args, self.inputs, self.shapes, _ = prepare(args, argnums, caller)
        self.result = result = call_inside(f, call_args, kwargs)
        self.several = isinstance(result, (list, tuple)) or (is_array(result) and result.ndim > 0)
        self.outputs = scalar_outputs(result, caller)
        # Every node before the nodes that use it, with its Value operands by position: worked out
        # once, used by every sweep.
        self.steps = [
            (node, [(i, x) for i, x in enumerate(node.inputs) if isinstance(x, Value)])
            for node in operand_order([y for y in self.outputs if isinstance(y, Value)])
            if node.rule is not None
        ]

    def value(self) -> Any:
        return self._shaped(self.outputs if self.nested else [float(y) for y in self.outputs])

    def _shaped(self, items: list[Any]) -> Any:
        """Per-output items in the structure f returned: one item, a list or tuple, or an array."""
        if is_array(self.result):
            return as_array(items, self.result.shape)
        return type(self.result)(items) if self.several else items[0]

    def push(self, seeds: Sequence[Tangent]) -> Any:
        """The outputs' tangents when the inputs move along ``seeds`` (one per flat input)."""
        tangent: dict[Value, Tangent] = {}
        for x, t in zip(self.inputs, seeds, strict=True):  # an argument selected twice moves by both
            if _moves(t):
                tangent[x] = tangent[x] + t if x in tangent else t
        for node, operands in self.steps:
            moving = [(i, tangent[x]) for i, x in operands if x in tangent]
            if moving and node not in tangent:  # an input node keeps its seed
                tangent[node] = self._local(node, moving)
        result = [tangent.get(y, 0.0) if isinstance(y, Value) else 0.0 for y in self.outputs]
        return self._shaped(result if self.nested else [float(t) for t in result])

    def _local(self, node: Value, moving: list[tuple[int, Tangent]]) -> Tangent:
        """Σ_i d(node)/d(x_i) · t_i over the inputs that move, from the op's own vjp."""
        op = node.rule
        assert op is not None
        arguments = node.inputs if self.nested else [x.data if isinstance(x, Value) else x for x in node.inputs]
        out = node if self.nested else node.data
        try:
            if len(moving) == 1:  # vjp with g = t gives t · d(node)/d(x_i) directly
                i, t = moving[0]
                partials = op.vjp(t, *arguments, out)
                return partials[i] if i < len(partials) else 0.0
            partials = op.vjp(1.0, *arguments, out)
        except TracingError:
            raise
        except (ArithmeticError, ValueError, TypeError) as error:  # worded as the reverse pass words it
            raise rule_error(error, self.caller, op, node.inputs) from error
        total: Tangent = 0.0
        for i, t in moving:
            if i < len(partials):  # a trailing constant parameter has no partial
                total = total + partials[i] * t
        return total


def _checked_pair(primals: Any, tangents: Any, caller: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    for name, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (list, tuple)):
            kind = type(given).__name__
            raise TypeError(f"{caller}: {name} must be a tuple or list with one entry per argument, got {kind}")
    if not primals:
        raise ValueError(f"{caller}: no primals: give the point as a tuple with one entry per argument of f")
    if len(primals) != len(tangents):
        counts = f"{len(primals)} primals but {len(tangents)} tangents"
        raise ValueError(f"{caller}: {counts}: give one tangent per argument")
    for k, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        if _shape(p) != _shape(t):
            raise ValueError(f"{caller}: tangent {k} must have the shape of primal {k}: {t!r} against {p!r}")
    return tuple(primals), tuple(tangents)


def _numpy_shape(x: Any) -> tuple[int, ...]:
    """``np.shape(x)``, called where an array came out of f, so numpy is imported already."""
    import numpy as np

    return np.shape(x)


def _shape(x: Any) -> tuple[int, ...]:
    if is_array(x):
        return tuple(x.shape)
    return (len(x),) if isinstance(x, (list, tuple)) else ()


def _tangent(t: Any, caller: str, noun: str, entry: int) -> Tangent:
    """A tangent or cotangent entry as a float (a Value as it is); errors name ``noun`` and the flat ``entry``.

    A plain number must be finite: along an infinite direction inf * 0 = NaN on some paths, while
    outputs that do not depend on the input stay at exactly 0, so the answer would be neither the
    math's nor IEEE 754's. A Value's data follows the numeric rules, as any node's does.
    """
    if isinstance(t, Value):
        return t
    if isinstance(t, bool) or not isinstance(t, Real):
        raise TypeError(f"{caller}: {noun} must be numbers, got {type(t).__name__} {t!r} (entry {entry})")
    number = as_float(t, f"{caller}: {noun} entry {entry}")
    if not math.isfinite(number):
        raise ValueError(f"{caller}: {noun} must be finite, got {number!r} (entry {entry})")
    return number


def _moves(t: Tangent) -> bool:
    return isinstance(t, Value) or t != 0.0

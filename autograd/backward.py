"""The reverse pass: order the graph once, then apply each op's rule from the output back.

``backprop`` visits the nodes so that a node's gradient is complete before it is passed on, and
adds each op's vector-Jacobian product into its inputs' gradients: the chain rule, summed over
every path. Two loops do this: a general one (any op, gradients that are Values for higher
orders, the checks of ``detect_anomaly``) and a fast one for the common case, which gives the
same floats in the same order of additions.

A node that no gradient reaches is skipped: pick's index, or a custom op's trailing constant that
is itself computed, is in the graph, but the rule gives it no partial, so d(root)/d(node) is 0 there
and nothing flows on from it. Such nodes are left out of the result, as the leaves root does not
depend on are, so ``gradients`` reports 0.0 for them and ``backward`` leaves their ``.grad`` alone.

The graph's orders live here too: ``backward_order`` (consumers first, for the reverse pass) and
``operand_order`` (inputs first, each node's operands in order, for replaying, drawing and planning).

This module reads nodes and never makes them, so it needs nothing of ``engine`` at run time, and the
engine (whose ``Value.backward`` calls it) is the only module of the two that imports the other. An
operand is a Value or a float, as ``apply`` records them: anything not a float is a Value.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any, TypeGuard, Union

from autograd.modes import AnomalyError, TracingError, current
from autograd.validation import as_float, describe, describe_all

if TYPE_CHECKING:
    from autograd.engine import Op, Value

Gradient = Union["Value", float]

# What the fast loop hands over to the general one: a rule that fails (the general loop names the op
# and its inputs) or gives fewer partials than the node has Value operands (unpacking fails).
FAST_LOOP_GIVES_UP = (ArithmeticError, ValueError, TypeError)


def is_node(x: object) -> TypeGuard[Value]:
    """Whether ``x`` is a Value (or a traced node), known by the slots only nodes have: this module may not
    import the engine, which imports it."""
    kind = type(x)
    return hasattr(kind, "_inputs") and hasattr(kind, "_op")


def checked_node(x: object, where: str) -> Value:
    """``x`` if it is a Value; a TypeError saying ``where`` otherwise."""
    if not is_node(x):
        raise TypeError(f"{where} must be a Value, got {type(x).__name__} {reprlib.repr(x)}")
    return x


def backward_order(root: Value) -> list[Value]:
    """root first, then every node it depends on, each after all of its consumers (reverse topological order)."""
    return _reverse_topological_order([checked_node(root, "backward_order: root")], with_leaves=True)


def operand_order(roots: Sequence[Value]) -> list[Value]:
    """Every node the roots depend on once, each after its inputs, the first operand's whole subgraph before
    the second's: a depth-first post-order, with an explicit stack, so any depth works.

    This is the order in which code made the nodes of one layer (neuron 0 first), so the compiled plan
    lays out a layer's weights in the model's own order, and the order in which a diagram declares its
    nodes, so graphviz draws x0 above x1 and neuron 0 above neuron 1.
    """
    if is_node(roots) or not isinstance(roots, Iterable):
        kind = type(roots).__name__
        raise TypeError(f"operand_order: roots must be a list of Values, got {kind} (write [y] for one)")
    roots = [checked_node(root, f"operand_order: roots[{k}]") for k, root in enumerate(roots)]
    finished: list[Value] = []
    expanded: set[Value] = set()
    stack: list[Value | None] = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node is None:
            finished.append(stack.pop())  # type: ignore[arg-type]  # below a marker is always its node
        elif node not in expanded:
            expanded.add(node)
            stack.extend((node, None))
            stack.extend(x for x in reversed(node._inputs) if not isinstance(x, float) and x not in expanded)
    return finished


def _reverse_topological_order(roots: Sequence[Value], with_leaves: bool) -> list[Value]:
    # The reverse of a depth-first post-order, with an explicit stack: no recursion, so graph depth
    # is limited only by memory, and one pass over the graph (Kahn's algorithm needs a counting pass
    # first). A node is expanded when first popped: it goes back on the stack under a None marker,
    # with its inputs on top; when the marker comes off, every input is finished, so the node is
    # too. Leaves have no inputs: they finish when first seen. Without leaves, a leaf is pushed like
    # any input and dropped when first popped (then it is expanded, so never pushed again): one test
    # per operand instead of two, and most operands are a neuron's weights.
    finished: list[Value] = []
    expanded: set[Value] = set()
    stack: list[Any] = list(reversed(roots))  # the first root is explored first
    pop, push, finish, expand = stack.pop, stack.append, finished.append, expanded.add  # bound once
    while stack:
        node = pop()
        if node is None:
            finish(pop())  # below a marker is always its node
        elif node not in expanded:
            expand(node)
            if node._op is None and not with_leaves:  # a leaf pushed by the loop below: nothing to pass on
                continue
            push(node)
            push(None)
            if with_leaves:
                for x in node._inputs:
                    if type(x) is not float and x not in expanded:  # a Value (apply's operands: floats or Values)
                        if x._op is not None:
                            push(x)
                        else:
                            expand(x)
                            finish(x)
            else:
                for x in node._inputs:
                    if type(x) is not float and x not in expanded:
                        push(x)
    finished.reverse()
    return finished


def backprop(root: Value, seed: Gradient = 1.0, create_graph: bool = False) -> dict[Value, Gradient]:
    """d(root)/d(node) * seed for every node root depends on, without touching any ``.grad``.

    Visiting nodes in ``backward_order`` means a node's gradient is complete before it is passed on.
    With ``create_graph`` the rules run on Values, so the gradients can be differentiated again. The
    seed is a finite number or a Value: an infinite one would make inf * 0 = NaN on some paths and
    leave the nodes no rule reaches at 0, an answer that is neither the math's nor IEEE 754's.
    """
    checked_node(root, "backprop: root")
    seed = _checked_seed(seed)
    if root._op is None:
        return {root: seed}
    order = _reverse_topological_order([root], with_leaves=False)  # leaves have nothing to pass on
    if not create_graph and isinstance(seed, float) and not current().anomaly:
        try:
            return _backprop_floats(order, {root: seed})
        except FAST_LOOP_GIVES_UP:  # start again on the general loop, which words the error or handles the odd op
            pass
    return _backprop_general(order, {root: seed}, create_graph)


def _checked_seed(seed: object) -> Gradient:
    if is_node(seed):
        return seed  # its data, like any node's, follows the numeric rules
    number = seed if type(seed) is float else as_float(seed, "backprop: seed")  # so every gradient is a float
    if not math.isfinite(number):
        raise ValueError(f"backprop: seed must be finite, got {number!r}")
    return number


def rule_error(error: Exception, where: str, op: Op, inputs: Sequence[Any]) -> Exception:
    """The error a derivative rule raised, worded with the op and its operands for ``where`` (backward, jvp).

    A number out of range keeps its type (ZeroDivisionError at sqrt's 0, OverflowError at 1 / 1e-200);
    a TypeError means the rule itself is malformed.
    """
    if isinstance(error, (ArithmeticError, ValueError)):
        at = describe_all(inputs)
        return type(error)(f"{where} of {op.name} at {at}: the derivative is not finite here ({error})")
    rule = "vjp(g, *inputs, out) returning a tuple"
    return TypeError(f"{where} of {op.name}: its derivative rule must be {rule} ({error})")


def _backprop_general(order: list[Value], grads: dict[Value, Gradient], create_graph: bool) -> dict[Value, Gradient]:
    """The reverse pass for any op and any gradient type, checking what ``detect_anomaly`` asks for."""
    anomaly = current().anomaly
    for node in order:
        g = grads.get(node)
        if g is None:  # no rule gave this node a partial: it passes on nothing
            continue
        op, inputs = node._op, node._inputs
        assert op is not None  # the order holds no leaves
        try:
            if create_graph:
                partials = op.vjp(g, *inputs, node)
            else:
                partials = op.vjp(g, *[x if isinstance(x, float) else x.data for x in inputs], node.data)
        except TracingError:
            raise  # the compiler's refusal of a traced number, worded already: not a malformed rule
        except (ArithmeticError, ValueError, TypeError) as error:
            raise rule_error(error, "backward", op, inputs) from error
        # strict=False: trailing constant parameters (an exponent, a slope) get no partial.
        for parent, partial in zip(inputs, partials, strict=False):
            if not isinstance(parent, float):
                if anomaly and not math.isfinite(float(partial)):
                    raise AnomalyError(
                        f"detect_anomaly: backward of {op.name} (node {describe(node)}) gave the gradient "
                        f"{float(partial)!r} for its input {describe(parent)}"
                    )
                earlier = grads.get(parent)
                grads[parent] = partial if earlier is None else earlier + partial
    return grads


def _backprop_floats(order: list[Value], grads: dict[Value, Any]) -> dict[Value, Gradient]:
    """``_backprop_general`` for the common case, float gradients and no checks, tuned for speed.

    Nearly every node has one or two operands, so those skip building argument lists and zipping
    partials. The arithmetic is the same as the general loop's; anything out of the ordinary (an
    error, an op that gives no partial for a Value operand) raises, and ``backprop`` falls back.
    """
    get = grads.get
    nodes = iter(order)
    while True:
        # The try is around the loop, not in it: a node that no rule reached (pick's index) raises
        # KeyError where its gradient is read, before it has passed anything on, and the same
        # iterator carries on with the next node. So the usual node pays nothing for the rare one.
        try:
            for node in nodes:
                inputs: tuple[Any, ...] = node._inputs
                vjp = node._op.vjp  # type: ignore[union-attr]  # the order holds no leaves
                count = len(inputs)
                # apply's operands are exact floats or Values, so a type test tells them apart (faster than isinstance)
                if count > 2:  # first: a neuron's dot, where most of the operands are
                    partials = vjp(grads[node], *[x if type(x) is float else x.data for x in inputs], node.data)
                    for x, dx in zip(inputs, partials, strict=False):  # as in the general loop
                        if type(x) is not float:
                            earlier = get(x)
                            grads[x] = dx if earlier is None else earlier + dx
                elif count == 1:  # the operand is a Value: nodes always have one
                    (x,) = inputs
                    (dx,) = vjp(grads[node], x.data, node.data)
                    earlier = get(x)
                    grads[x] = dx if earlier is None else earlier + dx
                else:
                    x, y = inputs
                    if type(y) is not float:
                        if type(x) is not float:
                            dx, dy = vjp(grads[node], x.data, y.data, node.data)
                            earlier = get(x)
                            grads[x] = dx if earlier is None else earlier + dx
                        else:
                            _, dy = vjp(grads[node], x, y.data, node.data)
                        earlier = get(y)
                        grads[y] = dy if earlier is None else earlier + dy
                    else:  # a constant y may be a parameter with no partial (the 2 in x ** 2)
                        dx = vjp(grads[node], x.data, y, node.data)[0]
                        earlier = get(x)
                        grads[x] = dx if earlier is None else earlier + dx
            return grads
        except KeyError:
            if node in grads:  # the rule's own KeyError, not a node without a gradient: not ours to hide
                raise


def gradients(output: Value | float, inputs: Sequence[Value], create_graph: bool = False) -> list[Gradient]:
    """d(output)/d(x) for each x in ``inputs`` (0.0 where output does not depend on x).

    Unlike ``backward()`` this leaves every ``.grad`` alone. With ``create_graph=True`` the results
    are Values that can be differentiated again.
    """
    if is_node(inputs) or isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"gradients: inputs must be a list of Values, got {type(inputs).__name__} (write [x] for one)")
    items = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
    if is_node(output):
        grads = backprop(output, 1.0, create_graph)
        found = [grads.get(x) for x in items]
        if None not in found:  # the usual case: every input was reached, so every one is a Value
            return found  # type: ignore[return-value]  # None is not in it
    elif isinstance(output, Real):  # a number: it depends on nothing
        found = [None] * len(items)
    else:
        kind = type(output).__name__
        raise TypeError(f"gradients: output must be a Value or a number, got {kind} {reprlib.repr(output)}")
    for k, x in enumerate(items):  # the inputs not reached: they must still be Values, not a typo's strings
        if found[k] is None:
            checked_node(x, f"gradients: inputs[{k}]")
            found[k] = 0.0
    return found  # type: ignore[return-value]  # every None replaced


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d(node)/d(input) for each Value-or-constant input the op differentiates (the edge labels of a diagram)."""
    op = checked_node(node, "local_derivatives: node")._op
    if op is None:  # a leaf: no inputs, nothing to differentiate
        return ()
    args = [x if isinstance(x, float) else x.data for x in node._inputs]
    try:
        partials = op.vjp(1.0, *args, node.data)
    except TracingError:
        raise
    except (ArithmeticError, ValueError, TypeError) as error:
        raise rule_error(error, "local_derivatives", op, node._inputs) from error
    return tuple(float(d) for d in partials)

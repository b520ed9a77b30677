"""Sums of products become dots: micrograd's neuron, ``sum((wi * xi for wi, xi in zip(w, x)), b)``, planned
as an ``ag.dot`` node is, so that a layer of such neurons becomes one matrix product (for plan.py).

Python's ``sum`` builds a chain of binary adds, ``((b + w0 x0) + w1 x1) + ...``: planned as it stands,
that is one array op per add, n deep for n inputs, with a (batch, k) array kept for each. Its value is
w · x + b, so the chain is planned as ``dot([*w, b], [*x, 1.0])`` instead; the gradients are the same
(d/dwi = g xi, d/dxi = g wi, d/db = g) and the sum is rounded as numpy's, not left to right.

A chain is the adds (``+`` or ``ag.sum``) under a node that is itself an add; its *terms* are what the
adds add up. A chain is fused when:

- each add inside it and each product it adds is read by nothing else (not by another node, not as an
  output), so the plan loses no value anything needs;
- at least two of its terms are products of a *fixed* operand (a Value with no inputs that is not one of
  the traced inputs: a parameter; or a plain number) and a traced one, in either order;
- at most one term is anything else (a product of two traced values, a traced value, a parameter);
- no parameter is the fixed side of two products, or also that other term: a parameter used twice is left
  as written.

The other term, if any, is the bias: a parameter when the weights are parameters, or a number when they are
numbers, joins the dot times 1.0; the start 0.0 of a ``sum`` without one is dropped; anything else is added
after the dot. A chain that does not qualify as a whole may still hold one that does (the adds below a
product of two inputs added last).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autograd import rules
from autograd.compiler.tracing import TracedValue
from autograd.engine import Op, Value

_DATA: Any = Value.__dict__["data"]  # the slot itself: a TracedValue's ``data`` property refuses to be set
Operand = Value | float


class Fusion:
    """The chains found in a trace: ``replacements`` maps each fused chain's last add to the nodes planned
    in its place (a dot, then perhaps an add of the other term; the last stands for the chain), and
    ``absorbed`` holds the adds and products those nodes replace, which the plan leaves out."""

    __slots__ = ("replacements", "absorbed")

    def __init__(self) -> None:
        self.replacements: dict[Value, tuple[Value, ...]] = {}
        self.absorbed: set[Value] = set()


def find(order: Sequence[Value], outputs: Sequence[Value], inputs: Mapping[Value, object]) -> Fusion:
    """The chains to fuse (see the module docstring) among ``order``, every node of ``outputs``' graph once,
    each after its operands (``operand_order``); ``inputs``: the traced inputs."""
    reads: dict[Value, int] = {}
    get = reads.get
    for output in outputs:
        reads[output] = get(output, 0) + 1
    for node in order:  # one pass over every edge: a bound method and no generator, as graphs run to millions
        for x in node._inputs:
            if not isinstance(x, float):
                reads[x] = get(x, 0) + 1
    fusion = Fusion()
    for node in reversed(order):  # each node before its operands, so a chain is met at its last add first
        if node in fusion.absorbed or not _is_sum(node):
            continue
        inner, terms = _chain(node, reads)
        made = _dot_of(node, terms, reads, inputs)
        if made is not None:
            planned, products = made
            fusion.replacements[node] = planned
            fusion.absorbed.update(inner)
            fusion.absorbed.add(node)
            fusion.absorbed.update(products)
    return fusion


def _is_sum(node: Value) -> bool:
    return isinstance(node, TracedValue) and (node._op is rules.ADD or node._op is rules.SUM)


def _chain(root: Value, reads: dict[Value, int]) -> tuple[list[Value], list[Operand]]:
    """The adds under ``root`` read by nothing else, and the terms they add, in the order the code wrote them."""
    inner: list[Value] = []
    terms: list[Operand] = []
    stack: list[Operand] = list(reversed(root._inputs))
    while stack:  # iteratively: a chain is as deep as a layer is wide
        x = stack.pop()
        if not isinstance(x, float) and _is_sum(x) and reads[x] == 1:
            inner.append(x)
            stack.extend(reversed(x._inputs))
        else:
            terms.append(x)
    return inner, terms


def _fixed(x: Operand, inputs: Mapping[Value, object]) -> bool:
    """A parameter or a number: the same for every sample."""
    return isinstance(x, float) or (x._op is None and x not in inputs)


def _product(term: Value, reads: dict[Value, int], inputs: Mapping[Value, object]) -> tuple[Operand, Value] | None:
    """(weight, traced value) if ``term`` is a product of a fixed operand and a traced one, read only by its chain."""
    if not isinstance(term, TracedValue) or term._op is not rules.MUL or reads[term] != 1:
        return None
    a, b = term._inputs
    if _fixed(a, inputs) and isinstance(b, TracedValue):
        return a, b
    if _fixed(b, inputs) and isinstance(a, TracedValue):
        return b, a
    return None


def _dot_of(
    root: Value, terms: list[Operand], reads: dict[Value, int], inputs: Mapping[Value, object]
) -> tuple[tuple[Value, ...], list[Value]] | None:
    """The nodes that compute the chain as a dot (and an add), and the products they replace; None if the
    chain does not qualify."""
    weights: list[Operand] = []
    shared: list[Operand] = []
    others: list[Operand] = []
    products: list[Value] = []
    for term in terms:
        if isinstance(term, float):
            if term != 0.0:  # sum's start, 0.0, adds nothing
                others.append(term)
            continue
        product = _product(term, reads, inputs)
        if product is None:
            others.append(term)
        else:
            weights.append(product[0])
            shared.append(product[1])
            products.append(term)
    if len(weights) < 2 or len(others) > 1:
        return None
    parameters = [w for w in weights if not isinstance(w, float)]
    seen = {id(w) for w in parameters}
    if len(seen) < len(parameters) or (others and id(others[0]) in seen):
        return None  # a parameter used twice
    if others and _fixed(others[0], inputs) and all(isinstance(w, float) == isinstance(others[0], float)
                                                      for w in weights):  # fmt: skip
        weights.append(others.pop())  # the bias, times 1.0: nn's neuron, dot([*w, b], [*x, 1.0])
        shared.append(1.0)
    dot = _node(rules.DOT, (*weights, *shared), root if not others else None)
    if not others:
        return (dot,), products
    return (dot, _node(rules.ADD, (dot, others[0]), root)), products


def _node(op: Op, operands: tuple[Operand, ...], standing_for: Value | None) -> Value:
    """A traced node of the plan's own, holding the chain's number (what it stands for) or NaN."""
    node = object.__new__(TracedValue)
    _DATA.__set__(node, float("nan") if standing_for is None else _DATA.__get__(standing_for))
    node.grad, node.label, node._inputs, node._op, node._scope = 0.0, "", operands, op, ()
    if standing_for is not None:
        node.label, node._scope = standing_for.label, standing_for._scope
    return node

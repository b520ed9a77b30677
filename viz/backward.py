"""The backward pass one node at a time, as numbers: which gradient became known, and the chain-rule sum behind it.

:func:`backward_steps` lists them; ``viz.steps`` draws them as frames, ``viz.animation`` as one animated SVG.
"""

from __future__ import annotations

from dataclasses import dataclass

import autograd as ag
from autograd import Value


@dataclass(frozen=True)
class Term:
    """One route of the chain rule: d(root)/d(consumer) * d(consumer)/d(node)."""

    consumer: Value
    upstream: float  # d(root)/d(consumer), known from an earlier step
    local: float  # d(consumer)/d(node)

    @property
    def product(self) -> float:
        return self.upstream * self.local


@dataclass(frozen=True)
class Step:
    """Step ``index`` of the backward pass: ``node``'s gradient ``grad`` is the sum of ``terms``."""

    index: int
    node: Value
    grad: float
    terms: tuple[Term, ...]
    root: Value

    def formula(self, precision: int = 4) -> str:
        """The chain rule for this step in words and numbers, e.g. ``dF/dB = dF/dC · dC/dB = -0.25 × 1 = -0.25``.

        A node that only the root consumes has its local derivative alone: ``dF/dC = -0.25 (...)``; a node
        no route passes a gradient back to (the index of ``autograd.pick``) gets ``dF/dy = 0 (...)``.
        """
        name, top = _name(self.node), _name(self.root)
        if not self.terms and self.node is self.root:
            return f"d{name}/d{name} = 1 (the start of the backward pass)"
        if not self.terms:
            return f"d{top}/d{name} = 0 (no op passes a gradient back to {name})"
        numeric = " + ".join(f"{t.upstream:.{precision}g} × {t.local:.{precision}g}" for t in self.terms)
        if all(t.consumer is self.root for t in self.terms):  # "dF/dF · dF/dC" would explain nothing
            local = " + ".join(f"{t.local:.{precision}g}" for t in self.terms)
            total = f" = {self.grad:.{precision}g}" if len(self.terms) > 1 else ""
            return f"d{top}/d{name} = {local}{total} (the local derivative: d{top}/d{top} = 1)"
        symbolic = " + ".join(f"d{top}/d{_name(t.consumer)} · d{_name(t.consumer)}/d{name}" for t in self.terms)
        return f"d{top}/d{name} = {symbolic} = {numeric} = {self.grad:.{precision}g}"


def backward_steps(root: Value) -> list[Step]:
    """The frames of ``root.backward()``, in the order the engine completes each node's gradient.

    Each step's gradient is the chain-rule sum its terms show, added up in the engine's order; a node no
    op passes a gradient back to (the index of ``autograd.pick``) gets 0. Nothing is written to ``.grad``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps: root must be a Value, got {type(root).__name__}")
    order = ag.backward_order(root)
    routes: dict[Value, list[tuple[Value, float]]] = {v: [] for v in order}
    for consumer in order:
        # zip stops early where an op gives no derivative for its last operands (pick's index)
        for x, local in zip(consumer.inputs, ag.local_derivatives(consumer), strict=False):
            if isinstance(x, Value):
                routes[x].append((consumer, local))
    grads: dict[Value, float] = {}
    steps = []
    for index, node in enumerate(order):  # every consumer comes before the nodes it reads
        terms = tuple(Term(c, grads[c], local) for c, local in routes[node])
        grad = 1.0 if node is root else _total(terms)
        grads[node] = grad
        steps.append(Step(index, node, grad, terms, root))
    return steps


def _total(terms: tuple[Term, ...]) -> float:
    """The terms' products added one after another, as the reverse pass adds them (0.0 for none)."""
    total = 0.0
    for number, term in enumerate(terms):
        total = term.product if number == 0 else total + term.product
    return total


def _name(v: Value) -> str:
    return v.label or (v.op or "leaf")

"""Graph replay: a recorded computation run forward again with some nodes' values changed.

The finite differences of ``check_gradients`` and ``check_parameters`` shift one node of the loss's
graph and replay only what lies downstream, through each op's forward function: they see exactly
what the graph saw, nothing computed outside it.
"""

from __future__ import annotations

import math

from autograd.backward import backward_order, gradients
from autograd.engine import Value
from autograd.modes import enable_grad
from autograd.testing.report import number
from autograd.testing.tolerances import Tolerances
from autograd.validation import describe


class RecordedGraph:
    """A recorded computation, replayable with some nodes' values changed."""

    def __init__(self, root: Value | float) -> None:
        self.root = root
        self.order = backward_order(root)[::-1] if isinstance(root, Value) else []  # inputs first
        self.nodes = {node: position for position, node in enumerate(self.order)}
        self._downstream: dict[Value, list[Value]] = {}

    def downstream(self, node: Value) -> list[Value]:
        """The nodes that depend on ``node``, inputs first (found once, then remembered)."""
        if node not in self._downstream:
            reached, found = {node}, []
            for later in self.order[self.nodes.get(node, len(self.order)) + 1 :]:
                if any(x in reached for x in later.inputs if isinstance(x, Value)):
                    reached.add(later)
                    found.append(later)
            self._downstream[node] = found
        return self._downstream[node]

    def replay(self, shifted: dict[Value, float]) -> dict[Value, float]:
        """The new data of every node downstream of ``shifted`` (the others keep theirs)."""
        changed = dict(shifted)
        for start in shifted:
            for node in self.downstream(start):
                if node not in shifted:
                    inputs = node.inputs
                    changed[node] = node.rule.forward(  # type: ignore[union-attr]  # downstream nodes have ops
                        *[changed.get(x, x.data) if isinstance(x, Value) else x for x in inputs]
                    )
        return changed

    def root_at(self, node: Value, value: float) -> float:
        """The root's data with ``node`` set to ``value``."""
        return self.replay({node: value}).get(self.root, float(self.root))  # type: ignore[arg-type]

    def not_finite(self) -> Value | None:
        """The first node, inputs first, whose value is infinite or NaN (an overflow in the forward pass)."""
        return next((node for node in self.order if not math.isfinite(node.data)), None)

    def value_noise(self, node: Value) -> float:
        """How far rounding of the values downstream of ``node`` may move the root's value: the sum of
        |d root/du| ulp(u) / 2. Where the root passes through values much larger than itself (log(1 + x²)
        near x = 0), this is far above ε|root|, the rounding finite differences otherwise assume."""
        later = self.downstream(node)
        if not isinstance(self.root, Value) or not later:
            return 0.0
        try:
            sensitivities = gradients(self.root, later)
        except (ArithmeticError, ValueError, TypeError):
            return 0.0
        terms = [abs(float(s)) * math.ulp(u.data) / 2 for s, u in zip(sensitivities, later, strict=True)]
        return math.fsum(term for term in terms if math.isfinite(term))

    def rounding(self, node: Value) -> float:
        """How far the engine's g = d root / d node may lie from the exact derivative because ``node`` and
        every value downstream of it are rounded to floats: the sum of |dg/du| ulp(u) / 2 over those
        values u, with g differentiated once more. Finite differences, taken from many points, see the
        exact slope; near a zero of g the two can differ far beyond atol: in cos(1e4 x) at x = π/2,
        1e4 x = 15707.96 is known to ±9e-13, which moves g = -1e4 sin(1e4 x) by 9e-9 around its zero.
        Rules that compute with plain numbers cannot be differentiated again and add nothing here."""
        later = [node, *self.downstream(node)]
        try:
            with enable_grad():
                (g,) = gradients(self.root, [node], create_graph=True)
                if not isinstance(g, Value):
                    return 0.0
                sensitivities = gradients(g, later)
        except (ArithmeticError, ValueError, TypeError):  # a rule that cannot run on Values: no estimate
            return 0.0
        terms = [abs(float(s)) * math.ulp(u.data) / 2 for s, u in zip(sensitivities, later, strict=True)]
        return math.fsum(term for term in terms if math.isfinite(term))  # no allowance where none can be told

    def kink(self, node: Value, tolerances: Tolerances) -> str:
        """Where shifting ``node`` by ±h moves some kinked op's argument onto or across its kink ("" if nowhere)."""
        h = tolerances.step(node.data)
        try:
            minus, plus = self.replay({node: node.data - h}), self.replay({node: node.data + h})
        except (ArithmeticError, ValueError):
            return ""
        for consumer in self.order:
            argument = consumer.inputs[0] if consumer.rule is not None and consumer.rule.kinks else None
            if not isinstance(argument, Value) or argument not in plus:
                continue
            for k in consumer.rule.kinks:  # type: ignore[union-attr]
                low, high = minus.get(argument, argument.data) - k, plus[argument] - k
                if argument.data == k or low * high <= 0.0:
                    return f"{consumer.op} of {describe(argument)} at or across its kink at {number(k)}"
        return ""

    def find(self, key: object, caller: str) -> Value:
        if isinstance(key, Value):
            if key not in self.nodes:
                raise ValueError(
                    f"{caller}: {describe(key)} is not in the graph of the loss (a detached copy, or a loss "
                    "computed under no_grad?)"
                )
            return key
        if not isinstance(key, str):
            raise TypeError(f"{caller}: keys must be Values or labels, got {type(key).__name__} {key!r}")
        found = [node for node in self.order if node.label == key]
        if len(found) == 1:
            return found[0]
        if not found:
            labels = sorted({node.label for node in self.order if node.label})
            raise ValueError(f"{caller}: no node labelled {key!r} in the loss's graph; labels there: {labels}")
        raise ValueError(f"{caller}: {len(found)} nodes are labelled {key!r}; pass the Value itself")

    def stale_node(self) -> Value | None:
        """The first node whose op no longer gives its data (its inputs changed after the forward pass)."""
        fresh: dict[Value, float] = {}
        for node in self.order:
            if node.rule is not None:
                args = [fresh.get(x, x.data) if isinstance(x, Value) else x for x in node.inputs]
                fresh[node] = node.rule.forward(*args)
                if fresh[node] != node.data and not (math.isnan(fresh[node]) and math.isnan(node.data)):
                    return node
        return None

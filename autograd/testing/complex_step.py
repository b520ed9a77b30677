"""The complex-step referee: a recorded graph replayed in complex numbers, for derivatives exact to rounding.

Give one node an imaginary part h and run every op downstream on complex numbers through its
``complex_forward``: where the path is analytic, the root comes out as f + ih f' (the h² terms are
below the last bit), so d root / d node = Im root / h with no difference of nearby values anywhere,
at any scale. Each node keeps its recorded real part: the replay differentiates exactly what the
engine differentiated. The step is h = 2⁻³⁰⁰ min(|x|, 1); where some value along the way is so small that
its imaginary part is more than 2⁻⁴⁵ of it (sqrt at 5e-324), or the derivative taken again with a
step 2⁴⁰·π/4 times longer disagrees by more than 1e-6, a value inside is too close to a singularity
for such a step, and there is no reference; a smaller disagreement is rounding inside the complex
forwards, and widens the allowance.

How closely a correct engine must agree. Both sides round: each op its value and its partials, and
the chain rule multiplies partials along every path and adds the paths. ``Conditioning`` measures
what that can amount to: A, the sum over paths of the products of |partials| (the derivative if no
two paths cancelled), and D, the length of the longest path; the engine and the replay agree to
within ULPS · ε · (D + 1) · A. Where paths cancel, A is much larger than the derivative, and so is
the allowance: the comparison is as strict as the arithmetic allows and no stricter.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autograd.engine import Op, Value
from autograd.testing.replay import RecordedGraph
from autograd.validation import describe

STEP = 2.0**-300  # small enough that h² terms vanish, large enough that h f' does not underflow
CONFIRM = 2.0**40 * 0.7853981633974483  # the second step: longer, and with other digits, so other roundings
NOISE = 1e-6  # two steps further apart than this, relative, disagree: a singularity is near, not rounding
SMALL = 2.0**-45  # the most an imaginary part may be of its real part: h stays short of every singularity near 0
ULPS = 8.0  # roundings per op allowed, engine and replay together
_TINY = sys.float_info.min  # below this the imaginary parts lose digits


@dataclass(frozen=True)
class Reference:
    """A derivative by complex step and how far a correct engine value may lie from it; ``why_not`` says
    why there is none (then ``value`` is NaN). ``confirmed()`` takes it again with a step 2⁴⁰·π/4 times
    longer, before anyone is blamed: the allowance widened by their difference, or no reference at all
    where they differ by more than rounding."""

    value: float
    bound: float
    why_not: str = ""
    confirm: Callable[[], Reference] | None = field(default=None, compare=False, repr=False)
    noise: float = 0.0  # the part of ``bound`` that is the complex step's own rounding, measured

    @property
    def usable(self) -> bool:
        return not self.why_not

    def confirmed(self) -> Reference:
        return self.confirm() if self.confirm is not None and self.usable else self


def step(x: float) -> float:
    """The complex step at x: 2⁻³⁰⁰ |x| below 1 (1/x at 1e-150 needs h far below x), 2⁻³⁰⁰ above (sin at
    1e300 does not get wider as x grows), and never below 2⁻⁷⁰⁰, below which h f' may underflow (so for
    |x| under about 1e-197 the step is not small against x, and finite differences judge)."""
    return STEP * min(max(abs(x), 2.0**-400), 1.0)


def nothing(why: str) -> Reference:
    return Reference(math.nan, math.inf, why)


class ComplexStep:
    """The complex-step derivatives of a recorded graph's root with respect to its nodes."""

    def __init__(self, graph: RecordedGraph) -> None:
        self.graph = graph
        self._conditioning: tuple[dict[Value, float], dict[Value, int]] | None = None

    def derivative(self, node: Value) -> Reference:
        """d root / d node by complex step, with its allowance; no reference where an op downstream has no
        complex forward, the path is not analytic, or the two steps disagree."""
        graph = self.graph
        if not isinstance(graph.root, Value) or node not in graph.nodes:
            return Reference(0.0, 0.0)  # the root does not depend on it: exactly 0
        if not math.isfinite(node.data) or graph.not_finite() is not None:
            return nothing("the forward pass holds a value that is not finite")
        missing = next((later.rule for later in graph.downstream(node) if later.rule.complex_forward is None), None)  # type: ignore[union-attr]
        if missing is not None:
            return nothing(f"op {missing.name!r} has no complex_forward")
        h = step(node.data)
        first = self._tangent(node, h)
        if isinstance(first, str):
            return nothing(first)
        magnitude, depth = self.conditioning()
        paths = magnitude.get(node, math.inf) if node is not graph.root else 1.0
        bound = ULPS * sys.float_info.epsilon * (depth.get(node, 0) + 1) * paths
        bound += (len(graph.downstream(node)) + 1) * _TINY / h  # what underflow in the imaginary parts may cost
        if not math.isfinite(bound):
            return nothing("the chain rule's partials are not finite along the way")
        return Reference(first, bound, confirm=functools.partial(self._confirm, node, h, first, bound))

    def _confirm(self, node: Value, h: float, first: float, bound: float) -> Reference:
        """The derivative again with a step 2⁴⁰·π/4 times longer. Its digits differ from h's, so its roundings
        are others: a small disagreement measures the rounding inside the complex forwards themselves (a
        custom op's own cancellation, which the graph cannot see) and widens the allowance by it; a large
        one means h is not small against a singularity nearby, and there is no reference."""
        second = self._tangent(node, h * CONFIRM)
        if isinstance(second, str):
            return nothing(second)
        return _held(first, second, bound, f"the complex step does not hold steady ({first!r} at h, {second!r} at "
                     "a longer one): a value along the way is too close to a singularity")  # fmt: skip

    def _tangent(self, node: Value, h: float) -> float | str:
        """Im root / h with ``node`` given the imaginary part h, or why it cannot be taken."""
        graph = self.graph
        tangent: dict[Value, float] = {node: h}
        for later in graph.downstream(node):
            rule = later.rule
            assert rule is not None and rule.complex_forward is not None  # checked by the caller
            first_constant = len(later.inputs) - rule.constants
            args: list[complex | float] = []
            for i, x in enumerate(later.inputs):
                if not isinstance(x, Value):
                    args.append(x)
                elif i >= first_constant:
                    args.append(x.data)  # an exponent, a slope, an index: no gradient, as in the engine
                else:
                    moved = tangent.get(x, 0.0)
                    if abs(moved) > SMALL * abs(x.data) and x.data != 0.0:
                        return f"the step is not small against {describe(x)}, which {rule.name!r} is given"
                    args.append(complex(x.data, moved))
            try:
                out = complex(rule.complex_forward(*args))
            except (ArithmeticError, ValueError, TypeError) as error:
                return f"the complex forward of {rule.name!r} at {describe(later)} fails: {error}"
            if not math.isfinite(out.imag):
                return f"the complex step overflows at {describe(later)}"
            tangent[later] = out.imag
        return tangent.get(graph.root, 0.0) / h  # type: ignore[arg-type]

    def conditioning(self) -> tuple[dict[Value, float], dict[Value, int]]:
        """For every node: A, the sum over paths to the root of the products of |partials|, and D, the length
        of the longest such path. The partials are the rules' own, at g = 1: a wrong rule moves A by no more
        than it moves the engine's value."""
        if self._conditioning is None:
            self._conditioning = absolute_paths(self.graph.order, self.graph.root)
        return self._conditioning


def absolute_paths(order: Sequence[Value], root: Value | float) -> tuple[dict[Value, float], dict[Value, int]]:
    """A and D of :meth:`ComplexStep.conditioning`, in one reverse pass over ``order`` (inputs first)."""
    magnitude: dict[Value, float] = {}
    depth: dict[Value, int] = {}
    if isinstance(root, Value):
        magnitude[root], depth[root] = 1.0, 0
    for node in reversed(order):
        here = magnitude.get(node)
        if here is None or node.rule is None:
            continue
        try:
            partials = node.rule.vjp(1.0, *[x.data if isinstance(x, Value) else x for x in node.inputs], node.data)
        except (ArithmeticError, ValueError, TypeError):
            partials = [math.inf] * len(node.inputs)
        for x, partial in zip(node.inputs, partials, strict=False):
            if isinstance(x, Value):
                size = abs(float(partial)) * here
                magnitude[x] = magnitude.get(x, 0.0) + (size if not math.isnan(size) else math.inf)
                depth[x] = max(depth.get(x, 0), depth[node] + 1)
    return magnitude, depth


def op_partials(op: Op, point: Sequence[float]) -> list[Reference]:
    """d out / d input_i of one op at ``point`` by complex step, for each input the rule differentiates
    (the trailing constants excepted), each allowed a few roundings of its own size."""
    forward = op.complex_forward
    if forward is None:
        return [nothing(f"op {op.name!r} has no complex_forward")] * len(point)
    references = []
    for i in range(len(point) - op.constants):
        h = step(point[i])
        try:
            first, second = (_imaginary(forward, point, i, t) / t for t in (h, h * CONFIRM))
        except (ArithmeticError, ValueError, TypeError) as error:
            references.append(nothing(f"the complex forward of {op.name!r} fails: {error}"))
            continue
        bound = ULPS * sys.float_info.epsilon * 2 * abs(first) + 2 * _TINY / h
        references.append(_held(first, second, bound, f"the complex step of {op.name!r} does not hold steady here"))
    return references


def _imaginary(forward: Callable[..., complex], point: Sequence[float], i: int, h: float) -> float:
    """Im forward(point with input i given the imaginary part h)."""
    args: list[complex | float] = list(point)
    args[i] = complex(point[i], h)
    return complex(forward(*args)).imag


def _held(first: float, second: float, bound: float, unsteady: str) -> Reference:
    """``first``, allowed ``bound`` plus twice its difference from ``second`` (the same derivative by a longer
    step: what rounding inside the complex forwards leaves); no reference, saying ``unsteady``, where they
    differ by more than rounding does."""
    if not (math.isfinite(first) and abs(first - second) <= NOISE * abs(first) + 2 * bound):
        return nothing(unsteady)
    noise = 2 * abs(first - second)
    return Reference(first, bound + noise, noise=noise)

"""gradcheck's probe: ``f`` evaluated at the checked point and at shifted ones, its graph recorded, and
each derivative judged by the complex step through that graph where ``f`` is its graph near the point,
else by finite differences of ``f`` itself."""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from autograd.arguments import unflatten
from autograd.backward import gradients
from autograd.engine import Value
from autograd.modes import enable_grad
from autograd.testing.complex_step import ComplexStep, Reference
from autograd.testing.differences import Entry, FiniteDifference, along, wobble
from autograd.testing.inputs import flatten_arguments
from autograd.testing.replay import RecordedGraph
from autograd.testing.report import GradientRow, number
from autograd.testing.tolerances import Tolerances
from autograd.testing.verdicts import judge
from autograd.validation import describe


class Probe:
    """``f`` at the checked point and at shifted points: what gradcheck compares."""

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], tolerances: Tolerances, order: int) -> None:
        self.f, self.tolerances, self.order = f, tolerances, order
        self.names, self.point, self.shapes = flatten_arguments(f, args)
        self.gradient_at = functools.cache(self._gradient_at)  # row i of the Hessian shifts the points of row 0
        self.out, self.leaves = self.evaluate(self.point)
        self.graph = RecordedGraph(self.out)
        self.complex_step = ComplexStep(self.graph)

    def evaluate(self, at: Sequence[float]) -> tuple[Value | float, list[Value]]:
        leaves = [Value(x, label=name) for x, name in zip(at, self.names, strict=True)]
        with enable_grad():  # a function that differentiates inside needs its graph recorded
            out = self.f(*unflatten(leaves, self.shapes, single=False))
        if isinstance(out, bool) or not isinstance(out, (Value, Real)):
            raise TypeError(f"gradcheck: f must return a scalar (Value or number), got {type(out).__name__}")
        return (out if isinstance(out, Value) else float(out)), leaves

    def value_at(self, at: Sequence[float]) -> float:
        return float(self.evaluate(at)[0])

    def _gradient_at(self, at: tuple[float, ...]) -> list[float]:
        out, leaves = self.evaluate(at)
        return [float(g) for g in gradients(out, leaves)]

    def rows(self) -> list[GradientRow]:
        """A row per first derivative, and with order 2 one per second derivative."""
        first = gradients(self.out, self.leaves, create_graph=self.order == 2)
        rows = [self._row(name, first[i], self.value_at, i, self.out) for i, name in enumerate(self.names)]
        if self.order == 2:
            for i, name_i in enumerate(self.names):
                second = gradients(first[i], self.leaves) if isinstance(first[i], Value) else [0.0] * len(self.leaves)
                inner = RecordedGraph(first[i])
                for j, name_j in enumerate(self.names):
                    label = f"d²/d{name_i}²" if i == j else f"d²/d{name_i} d{name_j}"
                    rows.append(self._row(label, second[j], Entry(self.gradient_at, i), j, first[i], inner))
        return rows

    def _row(
        self,
        name: str,
        engine: Value | float,
        g: Callable[[Sequence[float]], float],
        j: int,
        g_here: Value | float,
        inner: RecordedGraph | None = None,
    ) -> GradientRow:
        """``engine`` as d g / d x_j, judged against the complex step through g's recorded graph (``inner``,
        for the Hessian's rows) where f is that graph near x, else against finite differences of ``g``
        (whose value here is ``g_here``)."""
        x = self.point[j]
        first = inner is None  # a row of first derivatives, not of the Hessian
        graph = inner or self.graph
        noise = functools.partial(self.graph.value_noise, self.leaves[j]) if first else None
        measure = FiniteDifference(along(g, self.point, j), x, float(g_here), self.tolerances.step(x), noise)
        kink = functools.partial(self.graph.kink, self.leaves[j], self.tolerances)
        # how far rounding moves the engine's value: through the graph's values (and, for first derivatives,
        # through rules that compute with plain numbers, seen by moving x a spacing or two)
        leaf = self.leaves[j]
        rounding: Callable[[], float] = (
            functools.partial(self._rounding, j, float(engine)) if first else functools.partial(graph.rounding, leaf)
        )
        reference = (self.complex_step if first else ComplexStep(graph)).derivative(leaf)
        if reference.usable and not self.tolerances.agree(float(engine), measure.quick.central, reference.bound):
            reference = self._faithful(graph, g, j, reference)
        return overflowed(name, float(engine), None, measure, self.graph) or judge(
            name, float(engine), None, measure, kink, self.tolerances, rounding, reference
        )

    def _faithful(
        self, graph: RecordedGraph, g: Callable[[Sequence[float]], float], j: int, reference: Reference
    ) -> Reference:
        """``reference`` if g, called afresh at x_j ± h, gives what its recorded graph replayed there gives;
        else none: the graph is not g near x (part of it is computed outside the graph, or g branches on
        x), so its derivative is not g's, and only finite differences of g itself can judge."""
        leaf, x = self.leaves[j], self.point[j]
        for shifted in (x + self.tolerances.step(x), x - self.tolerances.step(x)):
            called, replayed = _value_or_error(along(g, self.point, j), shifted), _value_or_error(
                functools.partial(graph.root_at, leaf), shifted
            )
            if isinstance(called, str) or isinstance(replayed, str):
                if isinstance(called, str) and isinstance(replayed, str):
                    continue  # outside the domain of both: consistent
                return Reference(math.nan, math.inf, f"f({shifted!r}) is {called!r}, its graph gives {replayed!r}")
            allowed = 4 * graph.value_noise(leaf) + 16 * sys.float_info.epsilon * max(abs(called), abs(replayed))
            if not abs(called - replayed) <= allowed:
                return Reference(math.nan, math.inf, f"f({shifted!r}) = {called!r}, its graph gives {replayed!r}")
        return reference

    def _rounding(self, j: int, engine: float) -> float:
        """How far rounding may move the engine's df/dx_j: through the graph's values (rules written with
        ops), or as x_j moves by a float spacing or two (which also reaches rules that use plain math)."""
        nearby = along(lambda at: self.gradient_at(tuple(at))[j], self.point, j)
        return max(self.graph.rounding(self.leaves[j]), wobble(nearby, self.point[j], engine))

    def title(self) -> str:
        function = getattr(self.f, "__name__", "f")
        shown = ", ".join(f"{name}={number(x)}" for name, x in zip(self.names[:6], self.point, strict=False))
        shown += f", ... ({len(self.names)} inputs)" if len(self.names) > 6 else ""
        return f"gradcheck of {'f' if function == '<lambda>' else function} at {shown}"


def _value_or_error(g: Callable[[float], float], x: float) -> float | str:
    """g(x), or the error it raises (outside its domain)."""
    try:
        return g(x)
    except (ArithmeticError, ValueError) as error:
        return f"{type(error).__name__}: {error}"


def overflowed(
    name: str, engine: float, hand: float | None, measure: FiniteDifference, graph: RecordedGraph
) -> GradientRow | None:
    """A row for a non-finite engine value where the forward pass itself overflowed (x * x at 1e200 is inf,
    and 1 / (1 + inf) a finite 0): inf · 0 in the chain rule is NaN with every rule right."""
    broken = graph.not_finite() if not math.isfinite(engine) else None
    if broken is None:
        return None
    verdict = (f"inconclusive: cannot decide: the engine's value is {engine} because the forward pass holds "
               f"{describe(broken)}; no derivative rule is to blame")  # fmt: skip
    return GradientRow(name, engine, measure.careful.central, hand, verdict, "undefined")

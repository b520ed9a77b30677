"""The op audit: each op's derivative rule against finite differences of its own forward function.

A rule is called with the upstream gradient g = 0.7, not 1, and divided by it, so a rule that
forgets to multiply by g is caught. Every check audits the ops of its graph this way, so a wrong
rule is named even where the rows happen to agree; ``check_op`` audits one op in depth. Ops are
told apart by identity: a custom op that shares a built-in's name is audited on its own.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from autograd.backward import backward_order, gradients
from autograd.engine import Op, Value, apply
from autograd.testing.complex_step import ComplexStep, Reference, op_partials
from autograd.testing.differences import Entry, FiniteDifference, along, wobble
from autograd.testing.replay import RecordedGraph
from autograd.testing.report import GradientRow, number
from autograd.testing.tolerances import Tolerances
from autograd.testing.verdicts import judge
from autograd.validation import describe

UPSTREAM = 0.7
NODES_PER_OP = 3  # the audit looks at the first few nodes of each op


class RuleAt:
    """An op at one point: its forward value, its rule's partials (checked), and rows that judge them."""

    def __init__(self, op: Op, point: Sequence[float]) -> None:
        self.op, self.point = op, list(point)
        self.out: float = self._call("forward", op.forward, *self.point)
        self.references = functools.cache(functools.partial(op_partials, op, self.point))

    def _call(self, what: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return function(*args)
        except (ArithmeticError, ValueError, TypeError) as error:
            shown = ", ".join(map(number, self.point))
            raise type(error)(f"check_op: the {what} of {self.op.name!r} fails at ({shown}): {error}") from error

    def partials(self, upstream: float = UPSTREAM) -> list[float]:
        """The rule's partials for the upstream gradient g = ``upstream``, checked for shape and type."""
        op, count = self.op, len(self.point)
        result = self._call("rule", op.vjp, upstream, *self.point, self.out)
        if not isinstance(result, (tuple, list)) or len(result) > count:
            raise TypeError(
                f"check_op: the rule of {op.name!r} must return a tuple of at most {count} derivatives, got {result!r}"
            )
        if not all(isinstance(d, (Real, Value)) and not isinstance(d, bool) for d in result):
            raise TypeError(f"check_op: the rule of {op.name!r} returned a non-number among {result!r}")
        return [float(d) for d in result]

    def kink(self, i: int, tolerances: Tolerances) -> str:
        """Whether the step for input i crosses a kink the op declares (kinks are in its first input)."""
        near = any(abs(self.point[0] - k) <= tolerances.step(self.point[0]) for k in self.op.kinks)
        return f"{self.op.name} at its kink" if i == 0 and near else ""

    def rounding(self, i: int, engine: float) -> float:
        """How far rounding alone moves partial i (``engine`` here) as the inputs, and the output the rule is
        given, move by a float spacing or two, each in turn: what a correct rule may differ by from the exact
        slope (tanh's 1 - out² near out = ±1 magnifies the rounding of out)."""

        def partial(at: Sequence[float]) -> float:
            return RuleAt(self.op, at).partials()[i] / UPSTREAM

        def partial_given(out: float) -> float:
            return float(self.op.vjp(UPSTREAM, *self.point, out)[i]) / UPSTREAM

        inputs = math.fsum(wobble(along(partial, self.point, j), x, engine) for j, x in enumerate(self.point))
        return inputs + wobble(partial_given, self.out, engine)

    def row(self, name: str, i: int, engine: float, tolerances: Tolerances) -> GradientRow:
        """``engine`` as d(out)/d(input i), judged against finite differences of the forward function."""
        forward = along(lambda at: self.op.forward(*at), self.point, i)
        measure = FiniteDifference(forward, self.point[i], self.out, tolerances.step(self.point[i]))
        kink, rounding = functools.partial(self.kink, i, tolerances), functools.partial(self.rounding, i, engine)
        references = self.references()
        reference = references[i] if i < len(references) else None
        return judge(name, engine, None, measure, kink, tolerances, rounding, reference)


def second_derivative_rows(
    rule: RuleAt, names: Sequence[str], count: int, tolerances: Tolerances
) -> tuple[list[GradientRow], list[str]]:
    """Rows for d/dx_j of the rule's i-th partial (the rule run on Values against differences of the
    rule itself), and notes on a rule that cannot be differentiated."""
    op, point = rule.op, rule.point
    leaves = [Value(x, label=name) for x, name in zip(point, names, strict=True)]
    try:
        partials = op.vjp(UPSTREAM, *leaves, apply(op, tuple(leaves)))
    except TypeError as error:
        note = f"the rule of {op.name!r} does not run on Values ({error}): write it with operators and ops"
        return [GradientRow(f"d²{op.name}", math.nan, math.nan, None, "WRONG: the rule cannot be differentiated",
                            "engine")], [note]  # fmt: skip

    def rule_at(at: Sequence[float]) -> list[float]:
        return [d / UPSTREAM for d in RuleAt(op, at).partials()]

    rows: list[GradientRow] = []
    notes: list[str] = []
    for i in range(count):
        partial = partials[i]
        seconds = gradients(partial, leaves) if isinstance(partial, Value) else [0.0] * len(leaves)
        complex_step = ComplexStep(RecordedGraph(partial)) if isinstance(partial, Value) else None
        for j in range(count):
            step = tolerances.step(point[j])
            measure = FiniteDifference(along(Entry(rule_at, i), point, j), point[j], rule_at(tuple(point))[i], step)
            label = f"d²{op.name}/d{names[i]}²" if i == j else f"d²{op.name}/d{names[i]} d{names[j]}"
            kink = functools.partial(rule.kink, j, tolerances)
            reference = complex_step.derivative(leaves[j]) if complex_step is not None else None
            if reference is not None and reference.usable:  # the rule times g = 0.7, replayed: divide by g
                reference = Reference(reference.value / UPSTREAM, reference.bound / UPSTREAM)
            rows.append(judge(label, float(seconds[j]) / UPSTREAM, None, measure, kink, tolerances, None, reference))
            if rows[-1].kind == "engine" and not isinstance(partial, Value) and not notes:
                notes.append(
                    f"run on Values, the rule of {op.name!r} returned the plain number {partial!r} for "
                    f"{names[i]}: if it calls math functions, write it with ops so it can be differentiated"
                )
    return rows, notes


def audit_graph(root: Value | float, tolerances: Tolerances) -> list[tuple[str, GradientRow]]:
    """Each op of the graph whose rule disagrees, at one of its first few nodes, with finite
    differences of its own forward, or gives no derivative for a Value input: a note naming it, and
    a row to show when nothing else failed."""
    if not isinstance(root, Value):
        return []
    found: list[tuple[str, GradientRow]] = []
    tried: dict[Op, int] = {}  # by identity: two ops may share a name
    for node in backward_order(root):
        op = node.rule
        if op is None or tried.get(op, 0) >= NODES_PER_OP:
            continue
        tried[op] = tried.get(op, 0) + 1
        try:
            rule = RuleAt(op, [x.data if isinstance(x, Value) else x for x in node.inputs])
            partials = rule.partials()
        except (ArithmeticError, ValueError, TypeError):
            continue
        problem = _unreached_input(node, len(partials)) or _wrong_partial(rule, partials, tolerances)
        if problem is not None:
            found.append(problem)
            tried[op] = NODES_PER_OP
    return found


def _unreached_input(node: Value, count: int) -> tuple[str, GradientRow] | None:
    """A Value operand beyond the rule's partials: the engine silently treats it as a constant."""
    unreached = [i for i, x in enumerate(node.inputs) if isinstance(x, Value) and i >= count]
    if not unreached:
        return None
    name = node.op
    note = (f"the rule of op {name!r} gives no derivative for its input {unreached[0] + 1}, "
            f"{describe(node.inputs[unreached[0]])}, so the engine treats it as a constant")  # fmt: skip
    return note, GradientRow(f"rule of {name!r}", 0.0, math.nan, None, f"WRONG: {note}", "engine")


def _wrong_partial(rule: RuleAt, partials: list[float], tolerances: Tolerances) -> tuple[str, GradientRow] | None:
    """The first partial that finite differences of the forward contradict, with a note saying how."""
    name, inputs = rule.op.name, ", ".join(number(x) for x in rule.point)
    for i, partial in enumerate(partials):
        row = rule.row(f"rule of {name!r}, input {i + 1}", i, partial / UPSTREAM, tolerances)
        if row.kind != "engine":
            continue
        if math.isclose(partial, row.numeric, rel_tol=1e-6, abs_tol=1e-12):
            note = (f"the derivative rule of op {name!r} ignores the upstream gradient g: at ({inputs}) with "
                    f"g = {UPSTREAM} it returns {number(partial)} for input {i + 1}, not g times that; "
                    "multiply by g")  # fmt: skip
        else:
            note = (f"the derivative rule of op {name!r} looks wrong: at ({inputs}) it gives "
                    f"{number(partial / UPSTREAM)} for input {i + 1}, finite differences of its forward give "
                    f"{number(row.numeric)}")  # fmt: skip
        return note, GradientRow(row.name, row.engine, row.numeric, None, f"WRONG: {note}", "engine")
    return None

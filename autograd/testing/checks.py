"""The public checks: ``gradcheck``, ``check_gradients``, ``check_parameters``, ``check_op`` and the
``GradientChecker`` that binds tolerances once. Each builds rows, adds the audit of the graph's op
rules, and returns a :class:`GradientReport`."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, Union

from autograd.backward import gradients
from autograd.engine import Op, Value
from autograd.testing.audit import UPSTREAM, RuleAt, audit_graph, second_derivative_rows
from autograd.testing.complex_step import ComplexStep
from autograd.testing.differences import FiniteDifference
from autograd.testing.inputs import checked_loss, named_parameters, parameter_names
from autograd.testing.probe import Probe, overflowed
from autograd.testing.replay import RecordedGraph
from autograd.testing.report import GradientReport, GradientRow, number
from autograd.testing.tolerances import (
    ATOL,
    EPS,
    RTOL,
    HandPrecision,
    Tolerances,
    checked_digits,
    checked_order,
    finite_number,
)
from autograd.testing.verdicts import judge
from autograd.validation import describe

# Hand-derived gradients keyed by the Value or by its label.
Expected = Union[Mapping[Value, float], Mapping[str, float], Mapping[Union[Value, str], float]]
OUTSIDE_GRAPH_HINT = (
    "every op's rule agrees with its own forward here; is part of the result computed outside the graph "
    "(.data, float(), math functions on numbers), or does f branch on its input (if, max, min) near this point?"
)


def gradcheck(
    f: Callable[..., Any],
    *args: Any,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    order: int = 1,
    raise_on_failure: bool = False,
) -> GradientReport:
    """Compare d f / d(each input), from the backward pass, with finite differences of ``f``.

    ``args`` are numbers, lists of numbers or numpy arrays (a Value gives its data and label); rows
    are named after f's parameters (``x``, ``w[0]``, ``W[1,0]``), and an array reaches f as an array
    of Values of its shape. ``order=2`` also compares each second derivative
    d²f/dx_i dx_j with finite differences of the engine's gradient. ``f`` is called afresh at
    every shifted point, so a computation that leaves the graph (through ``.data`` or ``float()``)
    shows up as a wrong row. When the engine is wrong, a note names the op whose rule disagrees
    with its own forward function.

    >>> gradcheck(lambda x, y: x * y + x.exp(), 1.0, 2.0).passed
    True
    """
    __tracebackhide__ = True
    tolerances = Tolerances.of("gradcheck", eps=eps, atol=atol, rtol=rtol)
    probe = Probe(f, args, tolerances, checked_order("gradcheck", order))
    report = _finish(probe.title(), probe.rows(), probe.out, tolerances, unexplained=OUTSIDE_GRAPH_HINT)
    return report.raise_if_failed() if raise_on_failure else report


def check_gradients(
    loss: Value,
    expected: Expected,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    digits: int | None = None,
    raise_on_failure: bool = False,
) -> GradientReport:
    """Your hand-derived d loss / d node (``expected``, keyed by Value or by label) against the engine,
    the complex step and finite differences, one row each, with a verdict: "ok"; "hand derivation
    differs" (the engine and the referee agree with each other, not with you); "engine differs" (a
    derivative rule is wrong, and a note names the op); a kink; or no referee could decide.

    A hand value is read as precisely as it was typed: 0.082167 passes when the true value rounds or
    truncates to it (within one unit in its fifth digit), and a value with 15 digits or more (a computed
    one), or with one or two (2.0, 0.25: exact), is held to the rounding the replay measures.
    ``digits=n`` reads every hand value as typed to n significant digits (15 or more: full precision).

    Nodes may be leaves or intermediate results (a pre-activation's delta). The references replay the
    recorded graph with one node moved (in complex numbers, or shifted for finite differences), so
    they see only what the graph saw. No ``.grad`` is touched.
    """
    __tracebackhide__ = True
    tolerances = Tolerances.of("check_gradients", eps=eps, atol=atol, rtol=rtol)
    digits = checked_digits("check_gradients", digits)
    graph = RecordedGraph(checked_loss(loss, "check_gradients"))
    if not isinstance(expected, Mapping):
        raise TypeError(f"check_gradients: expected must map Values or labels to numbers: {type(expected).__name__}")
    targets: list[tuple[str, Value, float | None]] = []
    for key, hand in expected.items():
        node = graph.find(key, "check_gradients")
        name = key if isinstance(key, str) else node.label or describe(node)
        targets.append((name, node, finite_number(hand, f"check_gradients: the expected gradient for {key!r}")))
    rows = _rows_on_graph("check_gradients", graph, targets, tolerances, digits)
    report = _finish(_graph_title("check_gradients", loss), rows, loss, tolerances)
    return report.raise_if_failed() if raise_on_failure else report


def check_parameters(
    loss: Value,
    parameters: Any,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_on_failure: bool = False,
) -> GradientReport:
    """The engine's d loss / d p for every parameter against finite differences, in one table.

    ``parameters`` is a model with ``named_parameters()`` (such as ``nn.MLP``), a mapping or pairs
    of (name, Value), or plain Values (named by label). No ``.grad`` is touched.
    """
    __tracebackhide__ = True
    tolerances = Tolerances.of("check_parameters", eps=eps, atol=atol, rtol=rtol)
    graph = RecordedGraph(checked_loss(loss, "check_parameters"))
    pairs = named_parameters(parameters)
    if not any(value in graph.nodes for _, value in pairs):
        raise ValueError(
            f"check_parameters: none of the {len(pairs)} parameters is in the graph of the loss "
            "(was it computed under no_grad, or by another model?)"
        )
    targets: list[tuple[str, Value, float | None]] = [(name, node, None) for name, node in pairs]
    rows = _rows_on_graph("check_parameters", graph, targets, tolerances)
    report = _finish(_graph_title("check_parameters", loss), rows, loss, tolerances)
    return report.raise_if_failed() if raise_on_failure else report


def assert_gradients_close(
    loss: Value,
    expected: Expected,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    digits: int | None = None,
) -> GradientReport:
    """:func:`check_gradients` that raises :class:`GradientCheckError` with the table when any row is off."""
    __tracebackhide__ = True
    return check_gradients(loss, expected, eps=eps, atol=atol, rtol=rtol, digits=digits, raise_on_failure=True)


def _graph_title(caller: str, loss: Value) -> str:
    return f"{caller} of {loss.label or 'the loss'} (data={number(loss.data)})"


def _rows_on_graph(
    caller: str,
    graph: RecordedGraph,
    targets: list[tuple[str, Value, float | None]],
    tolerances: Tolerances,
    digits: int | None = None,
) -> list[GradientRow]:
    """A row per (name, node, hand value or None): the engine against the complex step through the replayed
    graph, or against its finite differences where the path has no complex forward or is not analytic."""
    if not targets:
        raise ValueError(f"{caller}: nothing to check")
    stale = graph.stale_node()
    if stale is not None:
        raise ValueError(
            f"{caller}: the graph is stale: {describe(stale)} no longer follows from its inputs; were parameters "
            "changed after the forward pass (an optimizer step)? Compute the loss again."
        )
    loss = graph.root
    assert isinstance(loss, Value)  # checked_loss made sure
    engine = gradients(loss, [node for _, node, _ in targets])
    complex_step = ComplexStep(graph)
    rows = []
    for (name, node, hand), derivative in zip(targets, engine, strict=True):
        if node not in graph.nodes:
            verdict = "WRONG: not in the loss's graph (cut off by .data or float(), or unused by this loss?)"
            rows.append(GradientRow(name, 0.0, math.nan, hand, verdict, "engine"))
            continue
        measure = FiniteDifference(
            functools.partial(graph.root_at, node), node.data, loss.data, tolerances.step(node.data),
            functools.partial(graph.value_noise, node),
        )
        kink = functools.partial(graph.kink, node, tolerances)
        rounding = functools.partial(graph.rounding, node)
        row = overflowed(name, float(derivative), hand, measure, graph)
        precision = HandPrecision.of(hand, digits) if hand is not None else None
        reference = complex_step.derivative(node)
        row = row or judge(name, float(derivative), hand, measure, kink, tolerances, rounding, reference, precision)
        rows.append(row)
    return rows


def _finish(
    title: str, rows: list[GradientRow], root: Value | float, tolerances: Tolerances, unexplained: str = ""
) -> GradientReport:
    """The report, with the audit of every op's rule in the graph; ``unexplained`` is the note for
    rows that fail while every rule agrees with its forward."""
    audit = audit_graph(root, tolerances)
    notes = [note for note, _ in audit]
    engine_failed = any(row.kind == "engine" for row in rows)
    if audit and not engine_failed:
        rows = rows + [row for _, row in audit]  # the rows agree, yet a rule is wrong: say so as a failure
    if not audit and unexplained and engine_failed:
        notes.append(unexplained)
    return GradientReport(title, tuple(rows), tuple(notes), tolerances)


def check_op(
    op: Op,
    *args: float,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    order: int = 1,
    raise_on_failure: bool = False,
) -> GradientReport:
    """Check an op's derivative rule at ``args``: its vjp against finite differences of its forward.

    The rule is called with an upstream gradient g = 0.7, so forgetting to multiply by g shows.
    ``order=2`` also differentiates the rule itself, which needs the rule to be written with
    operators and ops (so it runs on Values); one that calls ``math`` functions is reported.
    """
    __tracebackhide__ = True
    tolerances = Tolerances.of("check_op", eps=eps, atol=atol, rtol=rtol)
    order = checked_order("check_op", order)
    if not isinstance(op, Op):
        raise TypeError(f"check_op: expected an Op, got {type(op).__name__}")
    if not args:
        raise ValueError(f"check_op: give the inputs at which to check {op.name!r}")
    point = [finite_number(x, f"check_op {op.name!r}: argument {k}") for k, x in enumerate(args)]
    names = parameter_names(op.forward, len(point))
    rule = RuleAt(op, point)
    partials = rule.partials()
    if not partials:
        raise ValueError(f"check_op: the rule of {op.name!r} gives no derivative at all for {len(point)} inputs")
    at_g_one = rule.partials(upstream=1.0)
    rows = []
    for i, partial in enumerate(partials):
        row = rule.row(f"d{op.name}/d{names[i]}", i, at_g_one[i], tolerances)
        if not math.isclose(partial, UPSTREAM * at_g_one[i], rel_tol=1e-9, abs_tol=1e-300):
            verdict = (f"WRONG: not proportional to the upstream gradient g: g = 1 gives {number(at_g_one[i])}, "
                       f"g = {UPSTREAM} gives {number(partial)}; multiply by g")  # fmt: skip
            row = GradientRow(row.name, row.engine, row.numeric, None, verdict, "engine")
        rows.append(row)
    notes = []
    if len(partials) < len(point):
        notes.append(f"the rule gives no derivative for {', '.join(names[len(partials) :])}: "
                     "treated as constant parameters")  # fmt: skip
    if order == 2:
        second_rows, second_notes = second_derivative_rows(rule, names, len(partials), tolerances)
        rows += second_rows
        notes += second_notes
    shown = ", ".join(f"{n}={number(x)}" for n, x in zip(names, point, strict=True))
    report = GradientReport(f"check_op {op.name!r} at {shown}", tuple(rows), tuple(notes), tolerances)
    return report.raise_if_failed() if raise_on_failure else report


class GradientChecker:
    """The checks with tolerances bound once; the pytest fixture ``gradcheck`` is one of these.

    Calling it runs :func:`gradcheck`; ``.gradients``, ``.parameters`` and ``.op`` run the other
    checks. Each raises :class:`GradientCheckError` on failure and returns the report otherwise;
    ``eps``, ``atol`` and ``rtol`` given to a call override the checker's ``tolerances`` for that call.
    """

    def __init__(self, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL) -> None:
        self.tolerances = Tolerances.of("GradientChecker", eps=eps, atol=atol, rtol=rtol)

    def __repr__(self) -> str:
        return f"GradientChecker({self.tolerances})"

    def _settings(self, overrides: dict[str, float]) -> dict[str, float]:
        return {**dataclasses.asdict(self.tolerances), **overrides}

    def __call__(self, f: Callable[..., Any], *args: Any, order: int = 1, **tolerances: float) -> GradientReport:
        __tracebackhide__ = True
        return gradcheck(f, *args, order=order, raise_on_failure=True, **self._settings(tolerances))

    def gradients(
        self, loss: Value, expected: Expected, *, digits: int | None = None, **tolerances: float
    ) -> GradientReport:
        __tracebackhide__ = True
        return check_gradients(loss, expected, digits=digits, raise_on_failure=True, **self._settings(tolerances))

    def parameters(self, loss: Value, parameters: Any, **tolerances: float) -> GradientReport:
        __tracebackhide__ = True
        return check_parameters(loss, parameters, raise_on_failure=True, **self._settings(tolerances))

    def op(self, op: Op, *args: float, order: int = 1, **tolerances: float) -> GradientReport:
        __tracebackhide__ = True
        return check_op(op, *args, order=order, raise_on_failure=True, **self._settings(tolerances))

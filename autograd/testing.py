"""Check gradients: the engine against finite differences, and both against a hand derivation.

- ``gradcheck(f, *args)``: df/d(each input) from the backward pass against central differences of
  ``f``; ``order=2`` adds every second derivative.
- ``check_gradients(loss, expected)``: your hand-derived numbers, the engine's and the finite
  differences side by side, one row per parameter, with a verdict saying which one is off.
- ``check_parameters(loss, params)``: every named parameter (``model.named_parameters()``) at once.
- ``check_op(op, *args)``: the derivative rule of an ``Op`` (yours) against its forward function.
- ``assert_gradients_close(loss, expected)``: ``check_gradients`` that raises for plain pytest.

Each returns a :class:`GradientReport` that prints as a table; ``report.passed`` says whether every
row agrees and ``report.raise_if_failed()`` raises :class:`GradientCheckError` (an AssertionError)
with the table as its message.

Tolerances. A central difference (f(x+h) - f(x-h)) / 2h is off by about h²|f'''|/6 (truncation)
plus ε|f|/h (rounding, ε = 2.2e-16 in float64). With h = ``eps`` = 1e-6 both stay below about
1e-9 for quantities of order one, so the default test |engine - numeric| <= atol + rtol |numeric|
with atol = 1e-6 and rtol = 1e-5 leaves a wide margin for noise yet catches any wrong rule. Hand
values copied from a text with fewer digits need a larger ``atol``.

Kinks. relu, leaky_relu and abs have no derivative at 0; the engine uses a convention (0, slope, 0)
there, and a difference quotient that straddles the kink averages the two sides. When an input's
±eps step moves a kinked op's argument across (or onto) its kink, the row says so instead of failing.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, Union

from autograd.engine import Op, Value, _describe, apply, backward_order, gradients
from autograd.functional import _unflatten
from autograd.modes import enable_grad, no_grad

EPS = 1e-6
ATOL = 1e-6
RTOL = 1e-5

# Where each kinked op's first argument has its kink; add your own op's name to have it reported.
KINKS: dict[str, float] = {"relu": 0.0, "leaky_relu": 0.0, "abs": 0.0}

# Hand-derived gradients keyed by the Value or by its label.
Expected = Union[Mapping[Value, float], Mapping[str, float], Mapping[Union[Value, str], float]]
Parameters = Union[Mapping[str, Value], Iterable[tuple[str, Value]], Any]


class GradientCheckError(AssertionError):
    """A gradient check failed; the message is the report's table and ``.report`` the report itself."""

    def __init__(self, report: GradientReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class GradientRow:
    """One derivative: the engine's value, the finite difference and, if given, the hand-derived one."""

    name: str
    engine: float
    numeric: float
    expected: float | None = None
    verdict: str = "ok"
    passed: bool = True

    @property
    def abs_error(self) -> float:
        """|engine - finite difference|."""
        return abs(self.engine - self.numeric)

    @property
    def rel_error(self) -> float:
        """|engine - finite difference| / |finite difference| (the absolute error where that is 0)."""
        return self.abs_error / abs(self.numeric) if self.numeric != 0.0 else self.abs_error


@dataclass(frozen=True)
class GradientReport:
    """The result of a check: one row per derivative, printed as a table; true when every row passed."""

    title: str
    rows: tuple[GradientRow, ...]
    notes: tuple[str, ...] = ()
    settings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every row agrees within the tolerances."""
        return all(row.passed for row in self.rows)

    @property
    def failures(self) -> tuple[GradientRow, ...]:
        """The rows that did not pass."""
        return tuple(row for row in self.rows if not row.passed)

    def __bool__(self) -> bool:
        return self.passed

    def raise_if_failed(self) -> GradientReport:
        """Raise :class:`GradientCheckError` (with this table as its message) unless every row passed."""
        __tracebackhide__ = True  # pytest: show the table, not this frame
        if not self.passed:
            raise GradientCheckError(self)
        return self

    def _columns(self) -> list[tuple[str, Callable[[GradientRow], str]]]:
        columns: list[tuple[str, Callable[[GradientRow], str]]] = [("", lambda r: r.name)]
        if any(row.expected is not None for row in self.rows):
            columns.append(("hand", lambda r: "" if r.expected is None else f"{r.expected:.10g}"))
        columns += [
            ("engine", lambda r: f"{r.engine:.10g}"),
            ("finite diff.", lambda r: f"{r.numeric:.10g}"),
            ("abs error", lambda r: f"{r.abs_error:.1e}"),
            ("rel error", lambda r: f"{r.rel_error:.1e}"),
            ("verdict", lambda r: r.verdict),
        ]
        return columns

    def __str__(self) -> str:
        failed = len(self.failures)
        status = "passed" if failed == 0 else f"FAILED ({failed} of {len(self.rows)} wrong)"
        settings = ", ".join(f"{key}={value:g}" for key, value in self.settings.items())
        columns = self._columns()
        cells = [[heading for heading, _ in columns]] + [[cell(row) for _, cell in columns] for row in self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
        lines = [f"{self.title}: {status}" + (f" [{settings}]" if settings else "")]
        for line in cells:
            lines.append("  " + "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip())
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        columns = self._columns()
        head = "".join(f"<th>{escape(heading)}</th>" for heading, _ in columns)
        body = "".join(
            ("<tr>" if row.passed else '<tr style="color:#c0392b;font-weight:bold">')
            + "".join(f"<td>{escape(cell(row))}</td>" for _, cell in columns)
            + "</tr>"
            for row in self.rows
        )
        notes = "".join(f"<p>note: {escape(note)}</p>" for note in self.notes)
        return f"<p><b>{escape(str(self).splitlines()[0])}</b></p><table><tr>{head}</tr>{body}</table>{notes}"


# -- the checks -------------------------------------------------------------------------------


def gradcheck(
    f: Callable[..., Any],
    *args: Any,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    order: int = 1,
    raise_on_failure: bool = False,
) -> GradientReport:
    """Compare d f / d(each input), from the backward pass, with central differences of ``f``.

    ``args`` are numbers or lists of numbers (Values are read for their data and label); rows are
    named after f's parameters (``x``, ``w[0]``). ``order=2`` also compares each second derivative
    d²f/dx_i dx_j with central differences of the engine's gradient. ``f`` is called afresh at every
    shifted point, so a computation that leaves the graph (through ``.data`` or ``float()``) shows up
    as a wrong row. When rows fail, the ops whose rules disagree with their own forward are named.

    >>> gradcheck(lambda x, y: x * y + x.exp(), 1.0, 2.0).passed
    True
    """
    __tracebackhide__ = True
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    names, point, rebuild = _flatten_arguments(f, args)

    def engine_gradient(at: list[float], create_graph: bool = False) -> tuple[Any, list[Value], list[Any]]:
        leaves = [Value(x) for x in at]
        with enable_grad():
            out = f(*rebuild(leaves))
        if not isinstance(out, (Value, int, float)) or isinstance(out, bool):
            raise TypeError(f"gradcheck: f must return a scalar (Value or number), got {type(out).__name__}")
        return out, leaves, gradients(out, leaves, create_graph=create_graph)

    def value_at(at: list[float]) -> float:
        with no_grad():
            return float(f(*rebuild([Value(x) for x in at])))

    def gradient_entry(i: int, at: list[float]) -> float:
        return float(engine_gradient(at)[2][i])

    out, leaves, first = engine_gradient(point, create_graph=order == 2)
    shifted = _Shifts(out, leaves, eps)
    rows = []
    for i, name in enumerate(names):
        numeric = _central_difference(value_at, point, i, eps)
        rows.append(_row(name, float(first[i]), numeric, None, atol, rtol, shifted.kink_note(i)))
    if order == 2:
        for i, name_i in enumerate(names):
            row_i = gradients(first[i], leaves) if isinstance(first[i], Value) else [0.0] * len(leaves)
            for j, name_j in enumerate(names):
                numeric = _central_difference(functools.partial(gradient_entry, i), point, j, eps)
                second = f"d²/d{name_i} d{name_j}" if i != j else f"d²/d{name_i}²"
                rows.append(_row(second, float(row_i[j]), numeric, None, atol, rtol, shifted.kink_note(j)))
    function = getattr(f, "__name__", "f")
    title = f"gradcheck of {'f' if function == '<lambda>' else function} at " + ", ".join(
        f"{name}={x:g}" for name, x in zip(names, point, strict=True)
    )
    return _finish(title, rows, out, eps, atol, rtol, raise_on_failure)


def check_gradients(
    loss: Value,
    expected: Expected,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_on_failure: bool = False,
) -> GradientReport:
    """Your hand-derived d loss / d node (``expected``, keyed by Value or by label) against the engine
    and finite differences, one row each, with a verdict: "ok", "hand derivation differs" (the
    engine and the finite difference agree with each other, not with you), "engine differs" (you
    and the finite difference agree: a derivative rule is wrong), ...

    Nodes may be leaves or intermediate results (a pre-activation's delta). The finite differences
    replay the recorded graph with one node shifted by ±eps, so they see only what the graph saw.
    No ``.grad`` is touched.
    """
    __tracebackhide__ = True
    if not isinstance(loss, Value):
        raise TypeError(f"check_gradients: loss must be a Value, got {type(loss).__name__}")
    order = backward_order(loss)
    targets, hands = [], []
    for key, number in expected.items():
        node = _find_node(key, order, "check_gradients")
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise TypeError(f"check_gradients: the expected gradient for {key!r} must be a number, got {number!r}")
        targets.append((_name(node, key), node))
        hands.append(float(number))
    return _check_on_graph("check_gradients", loss, order, targets, hands, eps, atol, rtol, raise_on_failure)


def check_parameters(
    loss: Value,
    parameters: Parameters,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_on_failure: bool = False,
) -> GradientReport:
    """The engine's d loss / d p for every named parameter against finite differences, in one table.

    ``parameters`` is a mapping or pairs of (name, Value), or any object with ``named_parameters()``
    such as an ``nn.MLP``: ``check_parameters(loss, model)``. No ``.grad`` is touched.
    """
    __tracebackhide__ = True
    if hasattr(parameters, "named_parameters"):
        parameters = parameters.named_parameters()
    pairs = list(parameters.items() if isinstance(parameters, Mapping) else parameters)
    for name, value in pairs:
        if not isinstance(value, Value):
            raise TypeError(f"check_parameters: parameter {name!r} must be a Value, got {type(value).__name__}")
    order = backward_order(loss)
    return _check_on_graph("check_parameters", loss, order, pairs, None, eps, atol, rtol, raise_on_failure)


def assert_gradients_close(
    loss: Value, expected: Expected, *, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL
) -> GradientReport:
    """:func:`check_gradients` that raises :class:`GradientCheckError` with the table when any row is off."""
    __tracebackhide__ = True
    return check_gradients(loss, expected, eps=eps, atol=atol, rtol=rtol, raise_on_failure=True)


def check_op(
    op: Op,
    *args: float,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    order: int = 1,
    raise_on_failure: bool = False,
) -> GradientReport:
    """Check an op's derivative rule at ``args``: its vjp against central differences of its forward.

    ``order=2`` also differentiates the rule itself, which needs the rule to be written with
    operators and ops (so it runs on Values); one that calls ``math`` functions is reported.
    """
    __tracebackhide__ = True
    if not isinstance(op, Op):
        raise TypeError(f"check_op: expected an Op, got {type(op).__name__}")
    if order not in (1, 2):
        raise ValueError(f"check_op: order must be 1 or 2, got {order!r}")
    point = [_number(x, "check_op") for x in args]
    names = _parameter_names(op.forward, len(point))
    rule = _rule_partials(op, point)

    forward = functools.partial(_forward, op)
    rows = [
        _row(f"d{op.name}/d{names[i]}", rule[i], _central_difference(forward, point, i, eps), None, atol, rtol)
        for i in range(len(rule))
    ]
    notes: list[str] = []
    if order == 2:
        rows += _op_second_derivatives(op, point, names, len(rule), eps, atol, rtol, notes)
    title = f"check_op {op.name!r} at " + ", ".join(f"{n}={x:g}" for n, x in zip(names, point, strict=True))
    report = GradientReport(title, tuple(rows), tuple(notes), {"eps": eps, "atol": atol, "rtol": rtol})
    return report.raise_if_failed() if raise_on_failure else report


def _op_second_derivatives(
    op: Op, point: list[float], names: list[str], count: int, eps: float, atol: float, rtol: float, notes: list[str]
) -> list[GradientRow]:
    """Rows for d/dx_j of the rule's i-th partial, the rule run on Values against differences of the rule on floats."""
    leaves = [Value(x) for x in point]
    try:
        partials = op.vjp(1.0, *leaves, apply(op, tuple(leaves)))
    except TypeError as error:
        notes.append(f"the rule of {op.name!r} does not run on Values ({error}): write it with operators and ops")
        return [_failed_row(f"d²{op.name}", "the rule cannot be differentiated")]
    rows = []
    for i in range(count):
        partial = partials[i]
        seconds = gradients(partial, leaves) if isinstance(partial, Value) else [0.0] * len(leaves)
        for j in range(count):
            numeric = _central_difference(functools.partial(_rule_partial, op, i), point, j, eps)
            second = f"d²{op.name}/d{names[i]}²" if i == j else f"d²{op.name}/d{names[i]} d{names[j]}"
            rows.append(_row(second, float(seconds[j]), numeric, None, atol, rtol))
            if not rows[-1].passed and not isinstance(partial, Value) and not notes:
                notes.append(
                    f"run on Values, the rule of {op.name!r} returned the plain number {partial!r} for "
                    f"{names[i]}: if it calls math functions, write it with ops so it can be differentiated"
                )
    return rows


class GradientChecker:
    """The checks with shared tolerances; the pytest fixture ``gradcheck`` is one of these.

    Calling it runs :func:`gradcheck`; ``.gradients``, ``.parameters`` and ``.op`` run the other
    checks. Every check raises :class:`GradientCheckError` on failure and returns the report otherwise.
    """

    def __init__(self, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL) -> None:
        self.tolerances = {"eps": eps, "atol": atol, "rtol": rtol}

    def __call__(self, f: Callable[..., Any], *args: Any, order: int = 1) -> GradientReport:
        __tracebackhide__ = True
        return gradcheck(f, *args, order=order, raise_on_failure=True, **self.tolerances)

    def gradients(self, loss: Value, expected: Expected) -> GradientReport:
        __tracebackhide__ = True
        return check_gradients(loss, expected, raise_on_failure=True, **self.tolerances)

    def parameters(self, loss: Value, parameters: Parameters) -> GradientReport:
        __tracebackhide__ = True
        return check_parameters(loss, parameters, raise_on_failure=True, **self.tolerances)

    def op(self, op: Op, *args: float, order: int = 1) -> GradientReport:
        __tracebackhide__ = True
        return check_op(op, *args, order=order, raise_on_failure=True, **self.tolerances)


# -- machinery --------------------------------------------------------------------------------


def _close(a: float, b: float, atol: float, rtol: float) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


def _row(
    name: str, engine: float, numeric: float, hand: float | None, atol: float, rtol: float, kink: str = ""
) -> GradientRow:
    """Compare the numbers and say which of them is off."""
    engine_ok = _close(engine, numeric, atol, rtol)
    hand_ok = hand is None or _close(hand, engine, atol, rtol)
    if kink and not engine_ok:
        return GradientRow(name, engine, numeric, hand, kink, hand_ok)
    if math.isnan(numeric):
        return GradientRow(name, engine, numeric, hand, "f is not defined at x ± eps", False)
    if engine_ok and hand_ok:
        return GradientRow(name, engine, numeric, hand, "ok", True)
    if hand is None:
        return GradientRow(name, engine, numeric, hand, "WRONG: engine differs from finite differences", False)
    if engine_ok:
        sign = " (opposite sign)" if _close(-hand, engine, atol, rtol) else ""
        return GradientRow(name, engine, numeric, hand, f"WRONG: hand derivation differs{sign}", False)
    if _close(hand, numeric, atol, rtol):
        verdict = "WRONG: engine differs; hand and finite differences agree (a derivative rule?)"
    elif hand_ok:
        verdict = "WRONG: hand and engine agree, finite differences do not"
    else:
        verdict = "WRONG: all three differ"
    return GradientRow(name, engine, numeric, hand, verdict, False)


def _failed_row(name: str, verdict: str) -> GradientRow:
    return GradientRow(name, math.nan, math.nan, None, f"WRONG: {verdict}", False)


def _finish(
    title: str,
    rows: list[GradientRow],
    root: Any,
    eps: float,
    atol: float,
    rtol: float,
    raise_on_failure: bool,
) -> GradientReport:
    __tracebackhide__ = True
    bad_rules = []
    # Only a failure of the engine against finite differences puts a rule (or the code) in doubt.
    engine_off = any(
        not (row.passed or math.isnan(row.numeric) or _close(row.engine, row.numeric, atol, rtol)) for row in rows
    )
    if engine_off:
        bad_rules = _suspect_ops(root, eps, atol, rtol) or [
            "every op's rule agrees with its own forward at this point: is part of the result computed outside "
            "the graph (.data, float(), math functions on numbers)?"
        ]
    report = GradientReport(title, tuple(rows), tuple(bad_rules), {"eps": eps, "atol": atol, "rtol": rtol})
    return report.raise_if_failed() if raise_on_failure else report


def _check_on_graph(
    caller: str,
    loss: Value,
    order: list[Value],
    targets: list[tuple[str, Value]],
    hands: list[float] | None,
    eps: float,
    atol: float,
    rtol: float,
    raise_on_failure: bool,
) -> GradientReport:
    __tracebackhide__ = True
    forward_order = order[::-1]
    engine = gradients(loss, [node for _, node in targets])
    rows = []
    for k, (name, node) in enumerate(targets):
        minus = _replay(forward_order, {node: node.data - eps})
        plus = _replay(forward_order, {node: node.data + eps})
        numeric = (plus[loss] - minus[loss]) / (2 * eps) if loss in plus else math.nan
        kink = _kinks_crossed(forward_order, minus, plus)
        rows.append(_row(name, float(engine[k]), numeric, None if hands is None else hands[k], atol, rtol, kink))
    return _finish(f"{caller} of {_name(loss, 'the loss')}", rows, loss, eps, atol, rtol, raise_on_failure)


def _replay(forward_order: list[Value], shifted: dict[Value, float]) -> dict[Value, float]:
    """Every node's data recomputed from the recorded ops, with the nodes in ``shifted`` set as given.

    Nodes downstream of an op that fails at the shifted point are missing from the result.
    """
    values: dict[Value, float] = {}
    for node in forward_order:
        if node in shifted:
            values[node] = shifted[node]
        elif node._op is None:
            values[node] = node.data
        else:
            inputs = [values.get(x, math.nan) if isinstance(x, Value) else x for x in node._inputs]
            try:
                values[node] = node._op.forward(*inputs)
            except (ArithmeticError, ValueError, TypeError):
                values[node] = math.nan
    return values


def _kinks_crossed(forward_order: list[Value], minus: dict[Value, float], plus: dict[Value, float]) -> str:
    """A note if some kinked op's argument sits on its kink, or crosses it between the two shifted points."""
    for node in forward_order:
        kink = KINKS.get(node.op)
        if kink is None or not isinstance(node._inputs[0], Value):
            continue
        argument = node._inputs[0]
        below, above = minus.get(argument, math.nan) - kink, plus.get(argument, math.nan) - kink
        if argument.data == kink or below * above < 0.0:
            return f"kink: {node.op} of {_describe(argument)} is at or across {kink:g}; no derivative there"
    return ""


class _Shifts:
    """Kink detection for gradcheck: replays f's recorded graph with one input shifted by ±eps."""

    def __init__(self, out: Any, leaves: list[Value], eps: float) -> None:
        self.order = backward_order(out)[::-1] if isinstance(out, Value) else []
        self.leaves = leaves
        self.eps = eps

    def kink_note(self, i: int) -> str:
        leaf = self.leaves[i]
        minus = _replay(self.order, {leaf: leaf.data - self.eps})
        plus = _replay(self.order, {leaf: leaf.data + self.eps})
        return _kinks_crossed(self.order, minus, plus)


def _suspect_ops(root: Any, eps: float, atol: float, rtol: float) -> list[str]:
    """Notes naming each op whose rule disagrees with central differences of its own forward, once per op."""
    if not isinstance(root, Value):
        return []
    notes, seen = [], set()
    for node in backward_order(root):
        op = node._op
        if op is None or op.name in seen:
            continue
        point = [x.data if isinstance(x, Value) else x for x in node._inputs]
        kink = KINKS.get(op.name)
        if kink is not None and abs(point[0] - kink) <= eps:
            continue
        try:
            rule = _rule_partials(op, point)
            numeric = [_central_difference(functools.partial(_forward, op), point, i, eps) for i in range(len(rule))]
        except (ArithmeticError, ValueError):
            continue
        for i, (r, n) in enumerate(zip(rule, numeric, strict=True)):
            if not _close(r, n, atol, rtol):
                seen.add(op.name)
                notes.append(
                    f"the derivative rule of op {op.name!r} looks wrong: at {_describe(node)} with inputs "
                    f"{', '.join(f'{x:g}' for x in point)} it gives {r:.10g} for input {i}, "
                    f"finite differences of its forward give {n:.10g}"
                )
                break
    return notes


def _rule_partials(op: Op, point: Sequence[float]) -> list[float]:
    return [float(d) for d in op.vjp(1.0, *point, op.forward(*point))]


def _rule_partial(op: Op, i: int, point: Sequence[float]) -> float:
    return _rule_partials(op, point)[i]


def _forward(op: Op, point: Sequence[float]) -> float:
    return op.forward(*point)


def _central_difference(g: Callable[[list[float]], float], point: Sequence[float], i: int, eps: float) -> float:
    """(g(x + eps e_i) - g(x - eps e_i)) / 2 eps; NaN where g cannot be evaluated there."""
    plus, minus = list(point), list(point)
    plus[i] += eps
    minus[i] -= eps
    try:
        return (g(plus) - g(minus)) / (2 * eps)
    except (ArithmeticError, ValueError):
        return math.nan


def _number(x: object, caller: str) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{caller}: arguments must be numbers or lists of numbers, got {type(x).__name__} {x!r}")
    return float(x)


def _parameter_names(f: Callable[..., Any], count: int) -> list[str]:
    """f's positional parameter names for the first ``count`` arguments (x0, x1, ... where unknown)."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"x{i}" for i in range(count)]


def _flatten_arguments(
    f: Callable[..., Any], args: Sequence[Any]
) -> tuple[list[str], list[float], Callable[[list[Value]], list[Any]]]:
    """Names and numbers of every scalar in ``args`` (lists laid out flat), and how to rebuild the call."""
    names: list[str] = []
    point: list[float] = []
    shapes: list[int | None] = []
    for arg_name, arg in zip(_parameter_names(f, len(args)), args, strict=True):
        if isinstance(arg, (list, tuple)):
            shapes.append(len(arg))
            for k, x in enumerate(arg):
                names.append(x.label if isinstance(x, Value) and x.label else f"{arg_name}[{k}]")
                point.append(_number(x, "gradcheck"))
        else:
            shapes.append(None)
            names.append(arg.label if isinstance(arg, Value) and arg.label else arg_name)
            point.append(_number(arg, "gradcheck"))
    if not point:
        raise ValueError("gradcheck: give at least one argument to differentiate")

    def rebuild(leaves: list[Value]) -> list[Any]:
        return list(_unflatten(leaves, shapes, single=False))

    return names, point, rebuild


def _find_node(key: Value | str, order: list[Value], caller: str) -> Value:
    if isinstance(key, Value):
        return key
    if not isinstance(key, str):
        raise TypeError(f"{caller}: keys must be Values or labels, got {type(key).__name__} {key!r}")
    found = [node for node in order if node.label == key]
    if len(found) == 1:
        return found[0]
    if not found:
        labels = sorted({node.label for node in order if node.label})
        raise ValueError(f"{caller}: no node labelled {key!r} in the loss's graph; labels there: {labels}")
    raise ValueError(f"{caller}: {len(found)} nodes are labelled {key!r}; pass the Value itself")


def _name(node: Value, key: object) -> str:
    if isinstance(key, str):
        return f"{node.label or key} (data={node.data:g})" if key == "the loss" else key
    return node.label or f"{node.op or 'leaf'} node (data={node.data:g})"

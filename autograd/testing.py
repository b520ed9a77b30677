"""Check gradients: the engine against finite differences, and both against a hand derivation.

- ``gradcheck(f, *args)``: df/d(each input) from the backward pass against finite differences of
  ``f``; ``order=2`` adds every second derivative.
- ``check_gradients(loss, expected)``: your hand-derived numbers, the engine's and the finite
  differences side by side, one row per node, with a verdict saying which one is off.
- ``check_parameters(loss, model)``: every named parameter of a model at once.
- ``check_op(op, *args)``: the derivative rule of an ``Op`` (yours) against its forward function.
- ``assert_gradients_close(loss, expected)``: ``check_gradients`` that raises, for plain pytest.

Each returns a :class:`GradientReport` that prints as a table; ``report.passed`` says whether every
row agrees, and ``raise_on_failure=True`` (or ``report.raise_if_failed()``) raises
:class:`GradientCheckError`, an AssertionError whose message is the table.

The finite differences. With step h = eps * max(1, |x|), the central differences at h and h/2 are
combined by Richardson extrapolation, D = D(h/2) + (D(h/2) - D(h)) / 3, which cancels their h²
error terms: what remains is rounding, about ε M / h for values of size M (ε = 2.2e-16). So a
derivative passes when |engine - D| <= atol + rtol |D| + 100 ε M / h, the last term being a floor
for that rounding noise. With eps = 1e-6, rtol = 1e-5 and atol = 1e-9 that is tight enough to
catch a wrong rule even for gradients of 1e-6, and loose enough for published values rounded to
six significant digits. Where D(h) and D(h/2) disagree grossly (a jump or a pole within the step),
the row says the finite differences do not settle instead of blaming anyone.

Kinks. Where an op declares a kink (``Op(..., kinks=[0.0])``: relu, leaky_relu, abs) and the step
moves its argument onto or across it, the derivative does not exist; the row then passes if the
engine's value (and yours) lies between the one-sided slopes, and says so.
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from numbers import Real
from typing import Any, Literal, Union

from autograd.engine import Op, Value, _describe, apply, backward_order, gradients
from autograd.functional import _unflatten
from autograd.modes import enable_grad

EPS = 1e-6
ATOL = 1e-9
RTOL = 1e-5
# Rounding noise of a difference quotient, as a multiple of ε M / h: room for the rounding of a few
# hundred operations on values of size M.
ROUNDING = 100 * sys.float_info.epsilon
# Rules are called with this upstream gradient, not 1, so a rule that forgets to multiply by g is caught.
UPSTREAM = 0.7

Kind = Literal["ok", "kink", "hand", "engine", "unsettled", "undefined"]
# Hand-derived gradients keyed by the Value or by its label.
Expected = Union[Mapping[Value, float], Mapping[str, float], Mapping[Union[Value, str], float]]


class GradientCheckError(AssertionError):
    """A gradient check failed; the message is the report's table and ``.report`` the report itself."""

    def __init__(self, report: GradientReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class GradientRow:
    """One derivative: the engine's value, the finite difference and, if given, the hand-derived one.

    ``kind`` is "ok", "kink" (passed at a kink), or what failed: "hand" (your value differs),
    "engine" (the engine differs from finite differences), "unsettled" or "undefined" (finite
    differences unusable here).
    """

    name: str
    engine: float
    numeric: float
    expected: float | None
    verdict: str
    kind: Kind

    @property
    def passed(self) -> bool:
        return self.kind in ("ok", "kink")

    @property
    def abs_error(self) -> float:
        """|engine - finite difference|."""
        return abs(self.engine - self.numeric)

    @property
    def rel_error(self) -> float:
        """|engine - finite difference| / |finite difference| (the absolute error where that is 0)."""
        return self.abs_error / abs(self.numeric) if self.numeric != 0.0 else self.abs_error

    @property
    def hand_error(self) -> float:
        """|hand-derived - engine| (NaN without a hand value)."""
        return math.nan if self.expected is None else abs(self.expected - self.engine)


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

    def status(self) -> str:
        """The first line of the table: what was checked, and passed or how many rows failed."""
        failed = len(self.failures)
        outcome = "passed" if failed == 0 else f"FAILED ({failed} of {len(self.rows)} wrong)"
        settings = ", ".join(f"{key}={value:g}" for key, value in self.settings.items())
        return f"{self.title}: {outcome}" + (f" [{settings}]" if settings else "")

    def _columns(self) -> list[tuple[str, Callable[[GradientRow], str]]]:
        if any(row.expected is not None for row in self.rows):
            return [
                ("", lambda r: r.name),
                ("hand", lambda r: "" if r.expected is None else _number(r.expected)),
                ("engine", lambda r: _number(r.engine)),
                ("finite diff.", lambda r: _number(r.numeric)),
                ("hand error", lambda r: "" if r.expected is None else f"{r.hand_error:.1e}"),
                ("engine error", lambda r: f"{r.abs_error:.1e}"),
                ("verdict", lambda r: r.verdict),
            ]
        return [
            ("", lambda r: r.name),
            ("engine", lambda r: _number(r.engine)),
            ("finite diff.", lambda r: _number(r.numeric)),
            ("abs error", lambda r: f"{r.abs_error:.1e}"),
            ("rel error", lambda r: f"{r.rel_error:.1e}"),
            ("verdict", lambda r: r.verdict),
        ]

    def __str__(self) -> str:
        columns = self._columns()
        cells = [[heading for heading, _ in columns]] + [[cell(row) for _, cell in columns] for row in self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
        lines = [self.status()]
        for line in cells:
            lines.append("  " + "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip())
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        failed = ' style="color:#c0392b;font-weight:bold"'
        styles = {"ok": "", "kink": ' style="color:#9c6500"'}
        columns = self._columns()
        head = "".join(f"<th>{escape(heading)}</th>" for heading, _ in columns)
        body = "".join(
            f"<tr{styles.get(row.kind, failed)}>"
            + "".join(f"<td>{escape(cell(row))}</td>" for _, cell in columns)
            + "</tr>"
            for row in self.rows
        )
        notes = "".join(f"<p>note: {escape(note)}</p>" for note in self.notes)
        return f"<p><b>{escape(self.status())}</b></p><table><tr>{head}</tr>{body}</table>{notes}"


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
    """Compare d f / d(each input), from the backward pass, with finite differences of ``f``.

    ``args`` are numbers or lists of numbers (a Value gives its data and label); rows are named
    after f's parameters (``x``, ``w[0]``). ``order=2`` also compares each second derivative
    d²f/dx_i dx_j with finite differences of the engine's gradient. ``f`` is called afresh at
    every shifted point, so a computation that leaves the graph (through ``.data`` or ``float()``)
    shows up as a wrong row. When the engine is wrong, a note names the op whose rule disagrees
    with its own forward function.

    >>> gradcheck(lambda x, y: x * y + x.exp(), 1.0, 2.0).passed
    True
    """
    __tracebackhide__ = True
    _check_settings("gradcheck", eps, atol, rtol, order)
    names, point, shapes = _flatten_arguments(f, args)

    def evaluate(at: Sequence[float]) -> tuple[Value | float, list[Value]]:
        leaves = [Value(x, label=name) for x, name in zip(at, names, strict=True)]
        with enable_grad():  # a function that differentiates inside needs its graph recorded
            out = f(*_unflatten(leaves, shapes, single=False))
        if isinstance(out, bool) or not isinstance(out, (Value, Real)):
            raise TypeError(f"gradcheck: f must return a scalar (Value or number), got {type(out).__name__}")
        return (out if isinstance(out, Value) else float(out)), leaves

    def value_at(at: Sequence[float]) -> float:
        return float(evaluate(at)[0])

    def gradient_at(at: Sequence[float]) -> list[float]:
        out, leaves = evaluate(at)
        return [float(g) for g in gradients(out, leaves)]

    out, leaves = evaluate(point)
    graph = _Graph(out)
    first = gradients(out, leaves, create_graph=order == 2)
    rows = []
    for i, name in enumerate(names):
        slope = _slope(_along(value_at, point, i), point[i], float(out), eps, graph.magnitude)
        kink = functools.partial(graph.kink, leaves[i], eps)
        rows.append(_judge(name, float(first[i]), slope, None, atol, rtol, kink))
    if order == 2:
        at_point = [float(g) for g in first]
        for i, name_i in enumerate(names):
            second = gradients(first[i], leaves) if isinstance(first[i], Value) else [0.0] * len(leaves)
            for j, name_j in enumerate(names):
                entry = _Entry(gradient_at, i)
                slope = _slope(_along(entry, point, j), point[j], at_point[i], eps, graph.magnitude)
                label = f"d²/d{name_i}²" if i == j else f"d²/d{name_i} d{name_j}"
                kink = functools.partial(graph.kink, leaves[j], eps)
                rows.append(_judge(label, float(second[j]), slope, None, atol, rtol, kink))
    function = getattr(f, "__name__", "f")
    shown = ", ".join(f"{name}={_number(x)}" for name, x in zip(names, point, strict=True))
    title = f"gradcheck of {'f' if function == '<lambda>' else function} at {shown}"
    notes = _diagnose(rows, out, eps, atol, rtol, outside_graph_possible=True)
    return _report(title, rows, notes, eps, atol, rtol, raise_on_failure)


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
    and finite differences, one row each, with a verdict: "ok"; "hand derivation differs" (the
    engine and the finite difference agree with each other, not with you); "engine differs" (a
    derivative rule is wrong, and a note names the op); a kink; or finite differences unusable.

    Nodes may be leaves or intermediate results (a pre-activation's delta). The finite differences
    replay the recorded graph with one node shifted, so they see only what the graph saw. No
    ``.grad`` is touched.
    """
    __tracebackhide__ = True
    _check_settings("check_gradients", eps, atol, rtol)
    graph = _Graph(_loss(loss, "check_gradients"))
    if not isinstance(expected, Mapping):
        raise TypeError(f"check_gradients: expected must map Values or labels to numbers: {type(expected).__name__}")
    targets, hands = [], []
    for key, number in expected.items():
        node = graph.find(key, "check_gradients")
        hands.append(_real(number, f"check_gradients: the expected gradient for {key!r}"))
        targets.append((key if isinstance(key, str) else node.label or _describe(node), node))
    return _check_on_graph("check_gradients", loss, graph, targets, hands, eps, atol, rtol, raise_on_failure)


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
    _check_settings("check_parameters", eps, atol, rtol)
    graph = _Graph(_loss(loss, "check_parameters"))
    pairs = _named(parameters)
    if not any(value in graph.nodes for _, value in pairs):
        raise ValueError(
            f"check_parameters: none of the {len(pairs)} parameters is in the graph of the loss "
            "(was it computed under no_grad, or by another model?)"
        )
    return _check_on_graph("check_parameters", loss, graph, pairs, None, eps, atol, rtol, raise_on_failure)


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
    """Check an op's derivative rule at ``args``: its vjp against finite differences of its forward.

    The rule is called with an upstream gradient g = 0.7, so forgetting to multiply by g shows.
    ``order=2`` also differentiates the rule itself, which needs the rule to be written with
    operators and ops (so it runs on Values); one that calls ``math`` functions is reported.
    """
    __tracebackhide__ = True
    _check_settings("check_op", eps, atol, rtol, order)
    if not isinstance(op, Op):
        raise TypeError(f"check_op: expected an Op, got {type(op).__name__}")
    if not args:
        raise ValueError(f"check_op: give the inputs at which to check {op.name!r}")
    point = [_finite(x, f"check_op {op.name!r}: argument {k}") for k, x in enumerate(args)]
    names = _parameter_names(op.forward, len(point))
    out = _op_call(op, "forward", op.forward, point, *point)
    partials = _op_partials(op, point, out)
    if not partials:
        raise ValueError(f"check_op: the rule of {op.name!r} gives no derivative at all for {len(point)} inputs")
    at_g_one = _op_partials(op, point, out, upstream=1.0)
    magnitude = max(abs(out), *map(abs, point))
    rows = []
    for i, partial in enumerate(partials):
        slope = _slope(_along(_Forward(op), point, i), point[i], out, eps, magnitude)
        kink = functools.partial(_op_kink, op, point, i, eps)
        row = _judge(f"d{op.name}/d{names[i]}", at_g_one[i], slope, None, atol, rtol, kink)
        if not math.isclose(partial, UPSTREAM * at_g_one[i], rel_tol=1e-9, abs_tol=1e-300):
            verdict = (f"WRONG: not proportional to the upstream gradient g: g = 1 gives {_number(at_g_one[i])}, "
                       f"g = {UPSTREAM} gives {_number(partial)}; multiply by g")  # fmt: skip
            row = GradientRow(row.name, row.engine, row.numeric, None, verdict, "engine")
        rows.append(row)
    notes = []
    if len(partials) < len(point):
        constants = ", ".join(names[len(partials) :])
        notes.append(f"the rule gives no derivative for {constants}: treated as constant parameters")
    if order == 2:
        rows += _op_second_derivatives(op, point, names, len(partials), eps, atol, rtol, magnitude, notes)
    shown = ", ".join(f"{n}={_number(x)}" for n, x in zip(names, point, strict=True))
    return _report(f"check_op {op.name!r} at {shown}", rows, notes, eps, atol, rtol, raise_on_failure)


class GradientChecker:
    """The checks with shared tolerances; the pytest fixture ``gradcheck`` is one of these.

    Calling it runs :func:`gradcheck`; ``.gradients``, ``.parameters`` and ``.op`` run the other
    checks. Each raises :class:`GradientCheckError` on failure and returns the report otherwise;
    ``eps``, ``atol`` and ``rtol`` given to a call override the checker's for that call.
    """

    def __init__(self, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL) -> None:
        _check_settings("GradientChecker", eps, atol, rtol)
        self.tolerances = {"eps": eps, "atol": atol, "rtol": rtol}

    def __repr__(self) -> str:
        return "GradientChecker(" + ", ".join(f"{key}={value:g}" for key, value in self.tolerances.items()) + ")"

    def __call__(self, f: Callable[..., Any], *args: Any, order: int = 1, **tolerances: float) -> GradientReport:
        __tracebackhide__ = True
        return gradcheck(f, *args, order=order, raise_on_failure=True, **{**self.tolerances, **tolerances})

    def gradients(self, loss: Value, expected: Expected, **tolerances: float) -> GradientReport:
        __tracebackhide__ = True
        return check_gradients(loss, expected, raise_on_failure=True, **{**self.tolerances, **tolerances})

    def parameters(self, loss: Value, parameters: Any, **tolerances: float) -> GradientReport:
        __tracebackhide__ = True
        return check_parameters(loss, parameters, raise_on_failure=True, **{**self.tolerances, **tolerances})

    def op(self, op: Op, *args: float, order: int = 1, **tolerances: float) -> GradientReport:
        __tracebackhide__ = True
        return check_op(op, *args, order=order, raise_on_failure=True, **{**self.tolerances, **tolerances})


# -- finite differences and verdicts ------------------------------------------------------------


@dataclass(frozen=True)
class _Slope:
    """A derivative measured from function values: central (extrapolated) and the one-sided slopes."""

    central: float
    left: float
    right: float
    noise: float  # the rounding floor for comparisons with ``central``
    settled: bool  # the differences at h and h/2 agree, as they must where f is smooth


def _slope(g: Callable[[float], float], x: float, at_x: float, eps: float, magnitude: float) -> _Slope:
    h = eps * max(1.0, abs(x))
    try:
        plus, minus, plus_half, minus_half = g(x + h), g(x - h), g(x + h / 2), g(x - h / 2)
    except (ArithmeticError, ValueError):
        plus = minus = plus_half = minus_half = math.nan
    if not all(map(math.isfinite, (plus, minus, plus_half, minus_half))):
        return _Slope(math.nan, math.nan, math.nan, 0.0, False)
    coarse, fine = (plus - minus) / (2 * h), (plus_half - minus_half) / h
    noise = ROUNDING * max(magnitude, abs(plus), abs(minus), abs(at_x)) / h
    settled = abs(fine - coarse) <= 10 * noise + 1e-2 * abs(fine)
    return _Slope(fine + (fine - coarse) / 3, (at_x - minus) / h, (plus - at_x) / h, noise, settled)


def _judge(
    name: str,
    engine: float,
    slope: _Slope,
    hand: float | None,
    atol: float,
    rtol: float,
    kink: Callable[[], str],
) -> GradientRow:
    """One row: compare the numbers and say which of them is off."""
    numeric = slope.central

    def row(verdict: str, kind: Kind) -> GradientRow:
        return GradientRow(name, engine, numeric, hand, verdict, kind)

    if math.isnan(numeric):
        return row("cannot evaluate f at the shifted points (outside its domain, or inf)", "undefined")
    tolerance = atol + rtol * abs(numeric) + slope.noise
    engine_ok = abs(engine - numeric) <= tolerance
    hand_ok = hand is None or abs(hand - engine) <= atol + rtol * abs(engine)
    if engine_ok and abs(engine - numeric) > atol + rtol * abs(numeric) and slope.noise > 0.1 * abs(engine):
        return row(f"inconclusive: rounding leaves finite differences ±{slope.noise:.1e} of noise here; rescale "
                   "the values or check at another point", "unsettled")  # fmt: skip
    if engine_ok and hand_ok:
        return row("ok", "ok")
    where = kink()
    if where:
        low, high = sorted((slope.left, slope.right))
        margin = tolerance + 1e-3 * (abs(low) + abs(high))
        inside = [v for v in (engine, hand) if v is not None and low - margin <= v <= high + margin]
        slopes = f"one-sided slopes {_number(slope.left)} and {_number(slope.right)}"
        if len(inside) == (1 if hand is None else 2):
            return row(f"kink: {where}; the value lies between the {slopes}", "kink")
        return row(f"WRONG at a kink: {where}; {slopes}, and the {'engine' if engine not in inside else 'hand'} "
                   "value lies outside them", "engine" if engine not in inside else "hand")  # fmt: skip
    if not slope.settled:
        return row("finite differences do not settle here (a jump or a pole within the step?): try another point",
                   "unsettled")  # fmt: skip
    if hand is None or (not engine_ok and hand_ok):
        agree = "" if hand is None else "; hand agrees with the engine"
        return row(f"WRONG: engine differs from finite differences{agree}", "engine")
    if engine_ok:
        sign = " (opposite sign)" if abs(hand + engine) <= atol + rtol * abs(engine) else ""
        return row(f"WRONG: hand derivation differs{sign}", "hand")
    if abs(hand - numeric) <= tolerance:
        return row("WRONG: engine differs; hand and finite differences agree", "engine")
    return row("WRONG: all three differ", "engine")


def _report(
    title: str, rows: list[GradientRow], notes: list[str], eps: float, atol: float, rtol: float, raising: bool
) -> GradientReport:
    __tracebackhide__ = True
    report = GradientReport(title, tuple(rows), tuple(notes), {"eps": eps, "atol": atol, "rtol": rtol})
    return report.raise_if_failed() if raising else report


def _diagnose(
    rows: list[GradientRow], root: Any, eps: float, atol: float, rtol: float, outside_graph_possible: bool
) -> list[str]:
    """When the engine disagrees with finite differences: which op's rule is wrong, or what else it may be."""
    if not any(row.kind == "engine" for row in rows):
        return []
    notes = _suspect_ops(root, eps, atol, rtol)
    if not notes and outside_graph_possible:
        notes.append(
            "every op's rule agrees with its own forward here; is part of the result computed outside the graph "
            "(.data, float(), math functions on numbers), or does f branch on its input (if, max, min) near this point?"
        )
    return notes


# -- the recorded graph -------------------------------------------------------------------------


class _Graph:
    """A recorded computation, replayable with some nodes' values changed."""

    def __init__(self, root: Value | float) -> None:
        self.root = root
        self.order = backward_order(root)[::-1] if isinstance(root, Value) else []  # inputs first
        self.nodes = dict.fromkeys(self.order)
        self.magnitude = max((abs(node.data) for node in self.order if math.isfinite(node.data)), default=0.0)

    def replay(self, shifted: dict[Value, float]) -> dict[Value, float]:
        """The new data of every node downstream of ``shifted`` (the others keep theirs)."""
        changed = dict(shifted)
        for node in self.order:
            op = node._op
            if op is None or node in changed or not any(x in changed for x in node._inputs if isinstance(x, Value)):
                continue
            changed[node] = op.forward(*[changed.get(x, x.data) if isinstance(x, Value) else x for x in node._inputs])
        return changed

    def root_at(self, node: Value, value: float) -> float:
        return self.replay({node: value}).get(self.root, float(self.root))  # type: ignore[arg-type]

    def kink(self, node: Value, eps: float) -> str:
        """Where shifting ``node`` by ±h moves some kinked op's argument onto or across its kink ("" if nowhere)."""
        h = eps * max(1.0, abs(node.data))
        try:
            minus, plus = self.replay({node: node.data - h}), self.replay({node: node.data + h})
        except (ArithmeticError, ValueError):
            return ""
        for consumer in self.order:
            argument = consumer._inputs[0] if consumer._op is not None and consumer._op.kinks else None
            if not isinstance(argument, Value) or argument not in plus:
                continue
            for k in consumer._op.kinks:  # type: ignore[union-attr]
                low, high = minus.get(argument, argument.data) - k, plus[argument] - k
                if argument.data == k or low * high <= 0.0:
                    return f"{consumer.op} of {_describe(argument)} at or across its kink at {_number(k)}"
        return ""

    def find(self, key: object, caller: str) -> Value:
        if isinstance(key, Value):
            if key not in self.nodes:
                raise ValueError(
                    f"{caller}: {_describe(key)} is not in the graph of the loss (a detached copy, or a loss "
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
            if node._op is not None:
                args = [fresh.get(x, x.data) if isinstance(x, Value) else x for x in node._inputs]
                fresh[node] = node._op.forward(*args)
                if fresh[node] != node.data and not (math.isnan(fresh[node]) and math.isnan(node.data)):
                    return node
        return None


def _check_on_graph(
    caller: str,
    loss: Value,
    graph: _Graph,
    targets: list[tuple[str, Value]],
    hands: list[float] | None,
    eps: float,
    atol: float,
    rtol: float,
    raising: bool,
) -> GradientReport:
    __tracebackhide__ = True
    if not targets:
        raise ValueError(f"{caller}: nothing to check")
    stale = graph.stale_node()
    if stale is not None:
        raise ValueError(
            f"{caller}: the graph is stale: {_describe(stale)} no longer follows from its inputs; were parameters "
            "changed after the forward pass (an optimizer step)? Compute the loss again."
        )
    engine = gradients(loss, [node for _, node in targets])
    rows = []
    for k, (name, node) in enumerate(targets):
        hand = None if hands is None else hands[k]
        if node not in graph.nodes:
            rows.append(GradientRow(name, 0.0, 0.0, hand, "ok (not in the loss's graph)", "ok"))
            continue
        slope = _slope(functools.partial(graph.root_at, node), node.data, loss.data, eps, graph.magnitude)
        rows.append(_judge(name, float(engine[k]), slope, hand, atol, rtol, functools.partial(graph.kink, node, eps)))
    title = f"{caller} of {loss.label or 'the loss'} (data={_number(loss.data)})"
    notes = _diagnose(rows, loss, eps, atol, rtol, outside_graph_possible=False)
    return _report(title, rows, notes, eps, atol, rtol, raising)


# -- checking op rules --------------------------------------------------------------------------


class _Forward:
    """An op's forward as a function of its argument list."""

    def __init__(self, op: Op) -> None:
        self.op = op

    def __call__(self, point: Sequence[float]) -> float:
        return self.op.forward(*point)


class _Entry:
    """Entry i of a vector-valued function of the argument list."""

    def __init__(self, g: Callable[[Sequence[float]], Sequence[float]], i: int) -> None:
        self.g, self.i = g, i

    def __call__(self, point: Sequence[float]) -> float:
        return self.g(point)[self.i]


def _along(g: Callable[[Sequence[float]], float], point: Sequence[float], i: int) -> Callable[[float], float]:
    """g as a function of coordinate i alone, the others held at ``point``."""

    def moved(t: float) -> float:
        return g([*point[:i], t, *point[i + 1 :]])

    return moved


def _op_call(op: Op, what: str, function: Callable[..., Any], point: Sequence[float], *args: Any) -> Any:
    try:
        return function(*args)
    except (ArithmeticError, ValueError, TypeError) as error:
        shown = ", ".join(map(_number, point))
        raise type(error)(f"check_op: the {what} of {op.name!r} fails at ({shown}): {error}") from error


def _op_partials(op: Op, point: Sequence[float], out: float, upstream: float = UPSTREAM) -> list[float]:
    """The rule's partials at ``point`` for the upstream gradient g = ``upstream``, checked for shape and type."""
    result = _op_call(op, "rule", op.vjp, point, upstream, *point, out)
    if not isinstance(result, (tuple, list)) or len(result) > len(point):
        raise TypeError(
            f"check_op: the rule of {op.name!r} must return a tuple of at most {len(point)} derivatives, got {result!r}"
        )
    if not all(isinstance(d, (Real, Value)) and not isinstance(d, bool) for d in result):
        raise TypeError(f"check_op: the rule of {op.name!r} returned a non-number among {result!r}")
    return [float(d) for d in result]


def _op_kink(op: Op, point: Sequence[float], i: int, eps: float) -> str:
    h = eps * max(1.0, abs(point[0]))
    if i == 0 and any(abs(point[0] - k) <= h for k in op.kinks):
        return f"{op.name} at its kink"
    return ""


def _op_second_derivatives(
    op: Op,
    point: list[float],
    names: list[str],
    count: int,
    eps: float,
    atol: float,
    rtol: float,
    magnitude: float,
    notes: list[str],
) -> list[GradientRow]:
    """Rows for d/dx_j of the rule's i-th partial: the rule run on Values against differences of the rule."""
    leaves = [Value(x, label=name) for x, name in zip(point, names, strict=True)]
    try:
        partials = op.vjp(UPSTREAM, *leaves, apply(op, tuple(leaves)))
    except TypeError as error:
        notes.append(f"the rule of {op.name!r} does not run on Values ({error}): write it with operators and ops")
        return [GradientRow(f"d²{op.name}", math.nan, math.nan, None, "WRONG: the rule cannot be differentiated",
                            "engine")]  # fmt: skip

    def rule_at(at: Sequence[float]) -> list[float]:
        return [d / UPSTREAM for d in _op_partials(op, at, op.forward(*at))]

    rows = []
    for i in range(count):
        partial = partials[i]
        seconds = gradients(partial, leaves) if isinstance(partial, Value) else [0.0] * len(leaves)
        for j in range(count):
            slope = _slope(_along(_Entry(rule_at, i), point, j), point[j], rule_at(point)[i], eps, magnitude)
            label = f"d²{op.name}/d{names[i]}²" if i == j else f"d²{op.name}/d{names[i]} d{names[j]}"
            kink = functools.partial(_op_kink, op, point, j, eps)
            rows.append(_judge(label, float(seconds[j]) / UPSTREAM, slope, None, atol, rtol, kink))
            if rows[-1].kind == "engine" and not isinstance(partial, Value) and not notes:
                notes.append(
                    f"run on Values, the rule of {op.name!r} returned the plain number {partial!r} for "
                    f"{names[i]}: if it calls math functions, write it with ops so it can be differentiated"
                )
    return rows


def _suspect_ops(root: Any, eps: float, atol: float, rtol: float) -> list[str]:
    """Notes naming each op whose rule disagrees with finite differences of its own forward, once per op."""
    if not isinstance(root, Value):
        return []
    notes, named = [], set()
    for node in backward_order(root):
        op = node._op
        if op is None or op.name in named:
            continue
        point = [x.data if isinstance(x, Value) else x for x in node._inputs]
        try:
            partials = _op_partials(op, point, op.forward(*point))
        except (ArithmeticError, ValueError, TypeError):
            continue
        unreached = [i for i, x in enumerate(node._inputs) if isinstance(x, Value) and i >= len(partials)]
        if unreached:
            named.add(op.name)
            notes.append(
                f"the rule of op {op.name!r} gives no derivative for its input {unreached[0] + 1}, "
                f"{_describe(node._inputs[unreached[0]])}, so the engine treats it as a constant"
            )
            continue
        for i, partial in enumerate(partials):
            if i == 0 and _op_kink(op, point, 0, eps):
                continue
            magnitude = max(abs(node.data), *map(abs, point))
            slope = _slope(_along(_Forward(op), point, i), point[i], node.data, eps, magnitude)
            if not slope.settled or abs(partial / UPSTREAM - slope.central) <= atol + rtol * abs(slope.central):
                continue
            named.add(op.name)
            inputs = ", ".join(_number(x) for x in point)
            if math.isclose(partial, slope.central, rel_tol=1e-6, abs_tol=1e-12):
                notes.append(
                    f"the derivative rule of op {op.name!r} ignores the upstream gradient g: at ({inputs}) with "
                    f"g = {UPSTREAM} it returns {_number(partial)} for input {i + 1}, not g times that; multiply by g"
                )
            else:
                notes.append(
                    f"the derivative rule of op {op.name!r} looks wrong: at ({inputs}) it gives "
                    f"{_number(partial / UPSTREAM)} for input {i + 1}, finite differences of its forward give "
                    f"{_number(slope.central)}"
                )
            break
    return notes


# -- arguments and checks of input ----------------------------------------------------------------


def _check_settings(caller: str, eps: float, atol: float, rtol: float, order: int = 1) -> None:
    for name, value, low in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        number = _finite(value, f"{caller}: {name}")
        if number < 0.0 or (number == 0.0 and name == "eps"):
            raise ValueError(f"{caller}: {name} must be {low}, got {value!r}")
    if isinstance(order, bool) or order not in (1, 2) or not isinstance(order, int):
        raise ValueError(f"{caller}: order must be 1 or 2, got {order!r}")


def _real(x: object, what: str) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


def _finite(x: object, what: str) -> float:
    number = _real(x, what)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number!r}")
    return number


def _loss(loss: object, caller: str) -> Value:
    if not isinstance(loss, Value):
        raise TypeError(f"{caller}: loss must be a Value, got {type(loss).__name__}")
    return loss


def _named(parameters: Any) -> list[tuple[str, Value]]:
    """(name, Value) pairs from a model, a mapping, pairs, or plain Values (named by label or position)."""
    if hasattr(parameters, "named_parameters"):
        parameters = parameters.named_parameters()
    if isinstance(parameters, Mapping):
        parameters = parameters.items()
    if not isinstance(parameters, Iterable) or isinstance(parameters, (str, Value)):
        raise TypeError(
            "check_parameters: parameters must be a model with named_parameters(), a mapping or pairs of "
            f"(name, Value), or Values; got {type(parameters).__name__}"
        )
    pairs = []
    for k, item in enumerate(parameters):
        name, value = (item.label or f"parameters[{k}]", item) if isinstance(item, Value) else item
        if not isinstance(value, Value):
            raise TypeError(f"check_parameters: parameter {name!r} must be a Value, got {type(value).__name__}")
        pairs.append((str(name), value))
    if not pairs:
        raise ValueError("check_parameters: nothing to check (no parameters given)")
    names = [name for name, _ in pairs]
    if len(set(names)) < len(names):  # repeated labels: say which one is which
        pairs = [(f"[{k}] {name}", value) for k, (name, value) in enumerate(pairs)]
    return pairs


def _parameter_names(f: Callable[..., Any], count: int) -> list[str]:
    """f's positional parameter names for the first ``count`` arguments (x0, x1, ... where unknown)."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"x{i}" for i in range(count)]


def _flatten_arguments(f: Callable[..., Any], args: Sequence[Any]) -> tuple[list[str], list[float], list[int | None]]:
    """Row names and values of every scalar in ``args`` (lists laid out flat), and the shapes to rebuild them."""
    names: list[str] = []
    point: list[float] = []
    shapes: list[int | None] = []
    for arg_name, arg in zip(_parameter_names(f, len(args)), args, strict=True):
        items = list(arg) if isinstance(arg, (list, tuple)) else [arg]
        shapes.append(len(items) if isinstance(arg, (list, tuple)) else None)
        for k, x in enumerate(items):
            name = f"{arg_name}[{k}]" if isinstance(arg, (list, tuple)) else arg_name
            names.append(x.label if isinstance(x, Value) and x.label else name)
            point.append(_finite(x, f"gradcheck: argument {name}"))
    if not point:
        raise ValueError("gradcheck: give at least one number to differentiate")
    return names, point, shapes


def _number(x: float) -> str:
    return f"{x + 0.0:.10g}"  # + 0.0 turns -0.0 into 0.0

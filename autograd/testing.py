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

The finite differences. A first estimate combines central differences at h = eps * max(1, |x|)
(eps = 1e-3) and h/2 by Richardson extrapolation, D = D(h/2) + (D(h/2) - D(h)) / 3, whose error is
O(h⁴) plus rounding: a derivative that matches it within atol + rtol |D| passes at once. Anything
else is measured again with Ridders' method (a tableau of ever smaller steps, extrapolated, started
from several step sizes), which also estimates its own error e; then the derivative passes when
|engine - D| <= atol + rtol |D| + 2e. With rtol = 1e-5 and atol = 1e-12, a wrong rule is caught
even for tiny gradients, and published values rounded to six significant digits still pass. Where
e is large next to the derivative (a jump, a pole, values so large that rounding swamps the step)
the row says the finite differences cannot decide instead of blaming anyone.

Rules. Every check also audits the derivative rule of each op in the graph at a few of its nodes:
the rule is called with the upstream gradient g = 0.7 and compared with finite differences of its
forward function, so a rule that is wrong, or forgets to multiply by g, is named even where the
rows happen to agree.

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

EPS = 1e-3
ATOL = 1e-12
RTOL = 1e-5
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

    @functools.cache
    def gradient_at(at: tuple[float, ...]) -> list[float]:  # row i of the Hessian shifts the same points as row 0
        out, leaves = evaluate(at)
        return [float(g) for g in gradients(out, leaves)]

    out, leaves = evaluate(point)
    graph = _Graph(out)
    first = gradients(out, leaves, create_graph=order == 2)
    rows = []
    for i, name in enumerate(names):
        moved = _along(value_at, point, i)
        kink = functools.partial(graph.kink, leaves[i], eps)
        rows.append(_judge(name, float(first[i]), None, _Measure(moved, point[i], float(out), eps), kink, atol, rtol))
    if order == 2:
        for i, name_i in enumerate(names):
            second = gradients(first[i], leaves) if isinstance(first[i], Value) else [0.0] * len(leaves)
            for j, name_j in enumerate(names):
                moved = _along(_Entry(gradient_at, i), point, j)
                measure = _Measure(moved, point[j], float(first[i]), eps)
                label = f"d²/d{name_i}²" if i == j else f"d²/d{name_i} d{name_j}"
                kink = functools.partial(graph.kink, leaves[j], eps)
                rows.append(_judge(label, float(second[j]), None, measure, kink, atol, rtol))
    function = getattr(f, "__name__", "f")
    shown = ", ".join(f"{name}={_number(x)}" for name, x in zip(names[:6], point, strict=False))
    shown += f", ... ({len(names)} inputs)" if len(names) > 6 else ""
    title = f"gradcheck of {'f' if function == '<lambda>' else function} at {shown}"
    return _report(title, rows, out, eps, atol, rtol, raise_on_failure, outside_graph_possible=True)


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
    rows = []
    for i, partial in enumerate(partials):
        measure = _Measure(_along(_Forward(op), point, i), point[i], out, eps)
        kink = functools.partial(_op_kink, op, point, i, eps)
        row = _judge(f"d{op.name}/d{names[i]}", at_g_one[i], None, measure, kink, atol, rtol)
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
        rows += _op_second_derivatives(op, point, names, len(partials), eps, atol, rtol, notes)
    shown = ", ".join(f"{n}={_number(x)}" for n, x in zip(names, point, strict=True))
    report = GradientReport(f"check_op {op.name!r} at {shown}", tuple(rows), tuple(notes), _settings(eps, atol, rtol))
    return report.raise_if_failed() if raise_on_failure else report


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
    """A derivative measured from function values, and how far off it may be."""

    central: float
    error: float


def _values(g: Callable[[float], float], points: Sequence[float]) -> list[float] | None:
    """g at each point, or None if any is outside g's domain or not finite."""
    try:
        values = [g(t) for t in points]
    except (ArithmeticError, ValueError):
        return None
    return values if all(map(math.isfinite, values)) else None


class _Measure:
    """The derivative of g at x: a quick estimate first, Ridders' method when that is not enough."""

    def __init__(self, g: Callable[[float], float], x: float, at_x: float, eps: float) -> None:
        self.g, self.x, self.at_x, self.eps = g, x, at_x, eps

    @functools.cached_property
    def quick(self) -> _Slope:
        """Richardson on central differences at h and h/2: error O(h⁴), plus rounding."""
        x = self.x
        h = self.eps * max(1.0, abs(x))
        values = _values(self.g, [x + h, x - h, x + h / 2, x - h / 2])
        if values is None:
            return _Slope(math.nan, math.inf)
        plus, minus, plus_half, minus_half = values
        coarse, fine = (plus - minus) / (2 * h), (plus_half - minus_half) / h
        return _Slope(fine + (fine - coarse) / 3, math.inf)

    def one_sided_slopes(self) -> list[tuple[float, float]]:
        """Second-order one-sided slopes (left, right) at the step h, h/1000 and h/10⁶, where g is defined."""
        slopes = []
        for shrink in (1.0, 1e-3, 1e-6):
            h = self.eps * max(1.0, abs(self.x)) * shrink
            values = _values(self.g, [self.x - h, self.x - h / 2, self.x + h / 2, self.x + h])
            if values is not None:
                minus, minus_half, plus_half, plus = values
                at_x = self.at_x
                slopes.append(((3 * at_x - 4 * minus_half + minus) / h, (4 * plus_half - 3 * at_x - plus) / h))
        return slopes or [(math.nan, math.nan)]

    @functools.cached_property
    def careful(self) -> _Slope:
        """Ridders' method from several starting steps. A pole, jump or kink nearby spoils the large ones,
        sometimes with a deceptively small error estimate (1/x² looks flat from far away), so the most
        local run that converged (relative error 1e-8) wins; failing that, the one with the smallest error."""
        scale = max(1.0, abs(self.x))
        near_zero = [0.1 * abs(self.x)] if 0 < abs(self.x) < 1 else []  # steps that stay on x's side of 0
        starts = sorted([0.1 * scale, 1e-4 * scale, 1e-6 * scale, *near_zero])
        runs = [_ridders(self.g, self.x, h) for h in starts]
        converged = [(central, error) for central, error in runs if error <= 1e-8 * abs(central)]
        central, error = converged[0] if converged else min(runs, key=lambda run: run[1])
        return _Slope(central, error)


def _ridders(g: Callable[[float], float], x: float, h: float) -> tuple[float, float]:
    """Ridders' tableau (as Numerical Recipes' dfridr): central differences at h, h/1.4, h/1.4², ...
    extrapolated to h = 0; returns the entry with the smallest error estimate, and that estimate."""
    best, error = math.nan, math.inf
    previous: list[float] = []
    for _ in range(12):
        values = _values(g, [x + h, x - h])
        if values is None:  # outside the domain at this step: start again closer in
            previous, h = [], h / 1.4
            continue
        # The tableau cannot see rounding: f(x ± h) are each off by about ε|f|, so no entry built from
        # this step is better than ε|f| / h (times a few for the extrapolation).
        rounding = 8 * sys.float_info.epsilon * max(map(abs, values)) / h
        row = [(values[0] - values[1]) / (2 * h)]
        factor = 1.4**2
        for j in range(1, len(previous) + 1):
            row.append((row[j - 1] * factor - previous[j - 1]) / (factor - 1))
            factor *= 1.4**2
            estimate = max(abs(row[j] - row[j - 1]), abs(row[j] - previous[j - 1]), rounding)
            if estimate <= error:
                best, error = row[j], estimate
        if previous and abs(row[-1] - previous[-1]) >= 2 * error:  # higher orders only get worse
            break
        previous, h = row, h / 1.4
    return best, error


def _judge(
    name: str,
    engine: float,
    hand: float | None,
    measure: _Measure,
    kink: Callable[[], str],
    atol: float,
    rtol: float,
) -> GradientRow:
    """One row: compare the numbers and say which of them is off."""
    hand_ok = hand is None or abs(hand - engine) <= atol + rtol * abs(engine)
    quick = measure.quick.central
    if hand_ok and abs(engine - quick) <= atol + rtol * abs(quick):
        return GradientRow(name, engine, quick, hand, "ok", "ok")
    slope = measure.careful
    numeric = slope.central

    def row(verdict: str, kind: Kind) -> GradientRow:
        return GradientRow(name, engine, numeric, hand, verdict, kind)

    hand_wrong = "WRONG: hand derivation differs from the engine (finite differences cannot decide here)"
    if math.isnan(numeric) or math.isinf(slope.error):
        return row(hand_wrong, "hand") if not hand_ok else row(
            "cannot evaluate f near this point (outside its domain, or not finite)", "undefined")  # fmt: skip
    noise = 2 * slope.error
    tolerance = atol + rtol * abs(numeric) + noise
    engine_ok = abs(engine - numeric) <= tolerance
    unsettled = noise > 0.1 * max(abs(engine), abs(numeric)) + atol
    if engine_ok and hand_ok:  # where the noise is large, the audit of each op's rule still looks closely
        exact = abs(engine - numeric) <= atol + rtol * abs(numeric)
        return row("ok" if exact else f"ok, within the ±{noise:.1e} of finite differences", "ok")
    where = kink() if not engine_ok or unsettled else ""
    if where:
        # Between the one-sided slopes at the step, or at a much smaller one (two kinks closer than the step).
        for left, right in measure.one_sided_slopes():
            low, high = sorted((left, right))
            margin = atol + rtol * max(abs(low), abs(high)) + 1e-3 * (abs(low) + abs(high))
            outside = [who for who, v in (("engine", engine), ("hand", hand)) if v is not None and not
                       low - margin <= v <= high + margin]  # fmt: skip
            slopes = f"one-sided slopes {_number(left)} and {_number(right)}"
            if not outside:
                return row(f"kink: {where}; the value lies between the {slopes}", "kink")
        return row(f"WRONG at a kink: {where}; {slopes}, and the {outside[0]} value lies outside them",
                   "engine" if outside[0] == "engine" else "hand")  # fmt: skip
    if unsettled:
        if not hand_ok:
            return row(hand_wrong, "hand")
        return row(f"inconclusive: finite differences are only good to ±{noise:.1e} here (a jump or a pole "
                   "nearby, or rounding of large values?): check at another point", "unsettled")  # fmt: skip
    if hand is None or (not engine_ok and hand_ok):
        agree = "" if hand is None else "; hand agrees with the engine"
        return row(f"WRONG: engine differs from finite differences{agree}", "engine")
    if engine_ok:
        sign = " (opposite sign)" if abs(hand + engine) <= atol + rtol * abs(engine) else ""
        return row(f"WRONG: hand derivation differs{sign}", "hand")
    if abs(hand - numeric) <= tolerance:
        return row("WRONG: engine differs; hand and finite differences agree", "engine")
    return row("WRONG: all three differ", "engine")


def _settings(eps: float, atol: float, rtol: float) -> dict[str, float]:
    return {"eps": eps, "atol": atol, "rtol": rtol}


def _report(
    title: str,
    rows: list[GradientRow],
    root: Any,
    eps: float,
    atol: float,
    rtol: float,
    raising: bool,
    outside_graph_possible: bool,
) -> GradientReport:
    """The report, with the audit of every op's rule in the graph, and a hint when nothing explains a failure."""
    __tracebackhide__ = True
    audit = _audit(root, eps, atol, rtol)
    notes = [note for note, _ in audit]
    if audit and not any(row.kind == "engine" for row in rows):
        rows = rows + [row for _, row in audit]  # the rows agree, yet a rule is wrong: say so as a failure
    if not audit and outside_graph_possible and any(row.kind == "engine" for row in rows):
        notes.append(
            "every op's rule agrees with its own forward here; is part of the result computed outside the graph "
            "(.data, float(), math functions on numbers), or does f branch on its input (if, max, min) near this point?"
        )
    report = GradientReport(title, tuple(rows), tuple(notes), _settings(eps, atol, rtol))
    return report.raise_if_failed() if raising else report


# -- the recorded graph -------------------------------------------------------------------------


class _Graph:
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
                if any(x in reached for x in later._inputs if isinstance(x, Value)):
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
                    inputs = node._inputs
                    changed[node] = node._op.forward(  # type: ignore[union-attr]  # downstream nodes have ops
                        *[changed.get(x, x.data) if isinstance(x, Value) else x for x in inputs]
                    )
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
            verdict = "WRONG: not in the loss's graph (cut off by .data or float(), or unused by this loss?)"
            rows.append(GradientRow(name, 0.0, math.nan, hand, verdict, "engine"))
            continue
        measure = _Measure(functools.partial(graph.root_at, node), node.data, loss.data, eps)
        rows.append(_judge(name, float(engine[k]), hand, measure, functools.partial(graph.kink, node, eps), atol, rtol))
    title = f"{caller} of {loss.label or 'the loss'} (data={_number(loss.data)})"
    return _report(title, rows, loss, eps, atol, rtol, raising, outside_graph_possible=False)


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
        return self.g(tuple(point))[self.i]


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
            measure = _Measure(_along(_Entry(rule_at, i), point, j), point[j], rule_at(tuple(point))[i], eps)
            label = f"d²{op.name}/d{names[i]}²" if i == j else f"d²{op.name}/d{names[i]} d{names[j]}"
            kink = functools.partial(_op_kink, op, point, j, eps)
            rows.append(_judge(label, float(seconds[j]) / UPSTREAM, None, measure, kink, atol, rtol))
            if rows[-1].kind == "engine" and not isinstance(partial, Value) and not notes:
                notes.append(
                    f"run on Values, the rule of {op.name!r} returned the plain number {partial!r} for "
                    f"{names[i]}: if it calls math functions, write it with ops so it can be differentiated"
                )
    return rows


def _audit(root: Any, eps: float, atol: float, rtol: float) -> list[tuple[str, GradientRow]]:
    """Each op of the graph whose rule disagrees, at one of its first few nodes, with finite
    differences of its own forward (called with g = 0.7 and divided by it), or gives no derivative
    for a Value input: a note naming it, and a row to show when nothing else failed."""
    if not isinstance(root, Value):
        return []
    found: list[tuple[str, GradientRow]] = []
    tried: dict[str, int] = {}
    for node in backward_order(root):
        op = node._op
        if op is None or tried.get(op.name, 0) >= 3:
            continue
        tried[op.name] = tried.get(op.name, 0) + 1
        point = [x.data if isinstance(x, Value) else x for x in node._inputs]
        try:
            partials = _op_partials(op, point, op.forward(*point))
        except (ArithmeticError, ValueError, TypeError):
            continue
        inputs = ", ".join(_number(x) for x in point)
        unreached = [i for i, x in enumerate(node._inputs) if isinstance(x, Value) and i >= len(partials)]
        if unreached:
            note = (f"the rule of op {op.name!r} gives no derivative for its input {unreached[0] + 1}, "
                    f"{_describe(node._inputs[unreached[0]])}, so the engine treats it as a constant")  # fmt: skip
            found.append((note, GradientRow(f"rule of {op.name!r}", 0.0, math.nan, None, f"WRONG: {note}", "engine")))
            tried[op.name] = 3
            continue
        for i, partial in enumerate(partials):
            measure = _Measure(_along(_Forward(op), point, i), point[i], node.data, eps)
            kink = functools.partial(_op_kink, op, point, i, eps)
            row = _judge(f"rule of {op.name!r}, input {i + 1}", partial / UPSTREAM, None, measure, kink, atol, rtol)
            if row.kind != "engine":
                continue
            if math.isclose(partial, row.numeric, rel_tol=1e-6, abs_tol=1e-12):
                note = (f"the derivative rule of op {op.name!r} ignores the upstream gradient g: at ({inputs}) with "
                        f"g = {UPSTREAM} it returns {_number(partial)} for input {i + 1}, not g times that; "
                        "multiply by g")  # fmt: skip
            else:
                note = (f"the derivative rule of op {op.name!r} looks wrong: at ({inputs}) it gives "
                        f"{_number(partial / UPSTREAM)} for input {i + 1}, finite differences of its forward give "
                        f"{_number(row.numeric)}")  # fmt: skip
            found.append((note, GradientRow(row.name, row.engine, row.numeric, None, f"WRONG: {note}", "engine")))
            tried[op.name] = 3
            break
    return found


# -- arguments and checks of input ----------------------------------------------------------------


def _check_settings(caller: str, eps: float, atol: float, rtol: float, order: int = 1) -> None:
    for name, value, low in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        number = _finite(value, f"{caller}: {name}")
        if number < 0.0 or (number == 0.0 and name == "eps"):
            raise ValueError(f"{caller}: {name} must be {low}, got {value!r}")
        if name == "eps" and number > 0.1:
            raise ValueError(f"{caller}: eps is a relative step and must be at most 0.1, got {value!r}")
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
        if getattr(arg, "ndim", None) == 1:  # a numpy vector, as the nn data sets give
            arg = arg.tolist()
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

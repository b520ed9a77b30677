"""What a check returns: one ``GradientRow`` per derivative in a ``GradientReport`` that prints as a table."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Literal

from autograd.testing.tolerances import Tolerances

Kind = Literal["ok", "kink", "hand", "engine", "unsettled", "undefined"]


class GradientCheckError(AssertionError):
    """A gradient check failed; the message is the report's table and ``.report`` the report itself."""

    def __init__(self, report: GradientReport) -> None:
        super().__init__(str(report))
        self.report = report


COMPLEX_STEP = "complex step"
FINITE_DIFFERENCES = "finite differences"


@dataclass(frozen=True)
class GradientRow:
    """One derivative: the engine's value, the references and, if given, the hand-derived one.

    ``numeric`` is the finite difference; ``exact`` the complex-step derivative (NaN where there is
    none); ``referee`` names the one that judged the row; ``precision`` says how the hand value was
    read ("typed to 5 digits", "full precision"). ``kind`` is "ok", "kink" (passed at a kink), or
    what failed: "hand" (your value differs), "engine" (the engine differs from the referee),
    "unsettled" or "undefined" (no referee could decide here).
    """

    name: str
    engine: float
    numeric: float
    expected: float | None
    verdict: str
    kind: Kind
    exact: float = math.nan
    referee: str = FINITE_DIFFERENCES
    precision: str = ""

    @property
    def passed(self) -> bool:
        return self.kind in ("ok", "kink")

    @property
    def reference(self) -> float:
        """The referee's value: the complex step where it judged the row, else the finite difference."""
        return self.exact if self.referee == COMPLEX_STEP else self.numeric

    @property
    def abs_error(self) -> float:
        """|engine - reference|."""
        return abs(self.engine - self.reference)

    @property
    def rel_error(self) -> float:
        """|engine - reference| / |reference| (the absolute error where that is 0)."""
        return self.abs_error / abs(self.reference) if self.reference != 0.0 else self.abs_error

    @property
    def hand_error(self) -> float:
        """|hand-derived - reference| (NaN without a hand value)."""
        return math.nan if self.expected is None else abs(self.expected - self.reference)


@dataclass(frozen=True)
class GradientReport:
    """The result of a check: one row per derivative, printed as a table; true when every row passed."""

    title: str
    rows: tuple[GradientRow, ...]
    notes: tuple[str, ...] = ()
    tolerances: Tolerances | None = None

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
        """The first line of the table: what was checked, and passed, how many rows are wrong, or how many
        finite differences could not decide (not a pass, since nothing was verified, but no one is blamed)."""
        wrong = sum(row.kind in ("hand", "engine") for row in self.rows)
        undecided = len(self.failures) - wrong
        count = f" of {len(self.rows)}"
        if wrong:
            outcome = f"FAILED ({wrong}{count} wrong" + (f", {undecided} undecided)" if undecided else ")")
        else:
            outcome = f"INCONCLUSIVE ({undecided}{count} undecided)" if undecided else "passed"
        return f"{self.title}: {outcome}" + (f" [finite differences: {self.tolerances}]" if self.tolerances else "")

    def _columns(self) -> list[tuple[str, Callable[[GradientRow], str]]]:
        exact = [("complex step", lambda r: "" if math.isnan(r.exact) else every_digit(r.exact))]
        exact = exact if any(not math.isnan(row.exact) for row in self.rows) else []
        if any(row.expected is not None for row in self.rows):
            return [
                ("", lambda r: r.name),
                ("hand", lambda r: "" if r.expected is None else every_digit(r.expected)),
                ("read as", lambda r: r.precision.replace("typed to ", "")),
                ("engine", lambda r: every_digit(r.engine)),
                *exact,
                ("finite diff.", lambda r: number(r.numeric)),
                ("hand error", lambda r: "" if r.expected is None else f"{r.hand_error:.1e}"),
                ("engine error", lambda r: f"{r.abs_error:.1e}"),
                ("judged by", lambda r: r.referee),
                ("verdict", lambda r: r.verdict),
            ]
        return [
            ("", lambda r: r.name),
            ("engine", lambda r: every_digit(r.engine)),
            *exact,
            ("finite diff.", lambda r: number(r.numeric)),
            ("abs error", lambda r: f"{r.abs_error:.1e}"),
            ("rel error", lambda r: f"{r.rel_error:.1e}"),
            ("judged by", lambda r: r.referee),
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


def number(x: float) -> str:
    """A number as messages show it: ten significant digits, and never -0."""
    return f"{x + 0.0:.10g}"  # + 0.0 turns -0.0 into 0.0


def every_digit(x: float) -> str:
    """A number as the table's columns show it: its shortest repr, which tells it from every other float
    (differences of 1e-12 are what the complex step resolves), and never -0."""
    return repr(float(x) + 0.0)

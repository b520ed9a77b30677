"""Verdicts: from the engine's derivative, a hand-derived one and finite differences, say which is off.

Most rows are settled by the quick estimate. The others are measured again with Ridders' method,
whose error e widens the tolerance: the engine agrees when |engine - D| <= atol + rtol |D| + 2e.
Blame needs a measurement that settled (its extrapolations agreed as the steps shrank) with e small
next to the derivative. Otherwise (a jump, a pole, rounding of large values, steps long against the
scale on which f changes, f undefined or overflowing near the point) finite differences cannot
decide, and the row says so and why instead of blaming anyone; where the step crosses a declared
kink, the value passes if it lies between the one-sided slopes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from autograd.testing.complex_step import Reference
from autograd.testing.differences import FiniteDifference
from autograd.testing.report import COMPLEX_STEP, GradientRow, Kind, number
from autograd.testing.tolerances import HandPrecision, Tolerances

Verdict = tuple[str, Kind]
HAND_UNDECIDED = "WRONG: hand derivation differs from the engine (finite differences cannot decide here)"


def judge(
    name: str,
    engine: float,
    hand: float | None,
    measure: FiniteDifference,
    kink: Callable[[], str],
    tolerances: Tolerances,
    rounding: Callable[[], float] | None = None,
    reference: Reference | None = None,
    precision: HandPrecision | None = None,
) -> GradientRow:
    """One row: the engine's value (and ``hand``, if given) against the complex step ``reference`` where
    there is one, else against the finite difference ``measure``.

    ``kink()`` says which declared kink the step moves across ("" if none); ``rounding()`` how far the
    rounding of the graph's own values may move the engine's value. Each is asked only when needed.
    ``precision`` says how precisely ``hand`` is meant (as typed, when not given).
    """
    precision = precision or HandPrecision.of(hand if hand is not None else 0.0, None)
    if rounding is not None:  # a backward pass and more: a row that is judged twice asks it once
        rounding = functools.cache(rounding)
    if reference is not None and reference.usable:
        row = _by_complex_step(name, engine, hand, measure, reference, precision, rounding)
        if row.passed:
            return row
        reference = reference.confirmed()  # before blaming anyone: taken again, with its own rounding measured
        if reference.usable:
            return _by_complex_step(name, engine, hand, measure, reference, precision, rounding)
    row = _by_finite_differences(name, engine, hand, measure, kink, tolerances, rounding, precision)
    if hand is not None:
        row = dataclasses.replace(row, precision=str(precision))
    return row


def _by_complex_step(
    name: str,
    engine: float,
    hand: float | None,
    measure: FiniteDifference,
    reference: Reference,
    precision: HandPrecision,
    rounding: Callable[[], float] | None,
) -> GradientRow:
    """The row judged by the complex step: the engine within its allowance, the hand value within one unit
    in its last typed digit (or the allowance, at full precision)."""
    exact, base, slack = reference.value, reference.bound - reference.noise, reference.bound
    unit = precision.unit(hand) if hand is not None else 0.0  # one unit in the hand value's last typed digit
    engine_ok = abs(engine - exact) <= slack
    hand_ok = hand is None or abs(hand - exact) <= slack + unit
    if not (engine_ok and hand_ok) and rounding is not None:
        # Rounding of the graph's values moves a derivative computed from them, the engine's or one worked in
        # floats by hand: σ(1 - σ) at 19 has lost 8 of its digits to the rounding of σ, whoever computes it.
        slack += 2 * rounding()
        engine_ok = abs(engine - exact) <= slack
        hand_ok = hand is None or abs(hand - exact) <= slack + unit
    needed = max(abs(engine - exact), abs(hand - exact) - unit if hand is not None else 0.0)
    rounded = ""
    if engine_ok and needed > base:
        rounded = (f", within the ±{slack - base:.1e} by which rounding moves values computed here (the engine's, "
                   "the complex step's own, or one worked in floats)")  # fmt: skip
    hand_slack = slack + unit
    typed = f"; hand agrees to the {precision.digits} digits typed" if hand is not None and precision.digits else ""
    verdict: str
    kind: Kind = "engine"
    if engine_ok and hand_ok:
        verdict, kind = "ok" + rounded + typed, "ok"
    elif engine_ok:
        assert hand is not None
        sign = " (opposite sign)" if abs(hand + exact) <= hand_slack else ""
        should = f"; {precision}, it would read {precision.rounded(exact)}" if precision.digits else ""
        off = abs(hand - exact) / abs(exact) if exact else math.inf
        if not precision.digits and off < 1e-6:  # a correct formula worked in floats may lose this much
            kept = math.floor(-math.log10(off))
            should = (f"; it is {off:.1e} off, relative: if it was worked in floats where digits cancel (σ(1 - σ) "
                      f"near saturation), read it at the digits it keeps with digits={kept}")  # fmt: skip
        verdict, kind = f"WRONG: hand derivation differs{sign}{should}", "hand"
    elif hand is None:
        verdict = "WRONG: engine differs from complex step"
    elif hand_ok:
        verdict = "WRONG: engine differs from complex step; hand and complex step agree"
    elif abs(hand - engine) <= hand_slack:
        verdict = "WRONG: engine differs from complex step; hand agrees with the engine"
    else:
        verdict = "WRONG: all three differ"
    shown = str(precision) if hand is not None else ""
    numeric = measure.quick.central
    if not abs(numeric - exact) <= 1e-6 * abs(exact) + 1e-12:  # show finite differences at their best
        numeric = measure.careful.central
    return GradientRow(name, engine, numeric, hand, verdict, kind, exact, COMPLEX_STEP, shown)


def _by_finite_differences(
    name: str,
    engine: float,
    hand: float | None,
    measure: FiniteDifference,
    kink: Callable[[], str],
    tolerances: Tolerances,
    rounding: Callable[[], float] | None,
    precision: HandPrecision,
) -> GradientRow:
    """The row judged by finite differences, which decide only where they settle."""
    hand_ok = hand is None or tolerances.agree(hand, engine, precision.unit(hand))
    quick = measure.quick.central
    if hand_ok and tolerances.agree(engine, quick):
        return GradientRow(name, engine, quick, hand, "ok", "ok")
    slope = measure.careful
    noise = 2 * slope.error
    evidence = _Evidence(engine, hand, hand_ok, slope.central, noise, tolerances, slope.settled, slope.trouble)
    verdict, kind = _verdict(evidence, measure, kink, rounding)
    return GradientRow(name, engine, slope.central, hand, verdict, kind)


@dataclass(frozen=True)
class _Evidence:
    """The three numbers of a row that the quick estimate did not settle, and the noise of the reference."""

    engine: float
    hand: float | None
    hand_ok: bool
    numeric: float  # the careful finite difference
    noise: float  # twice its estimated error
    tolerances: Tolerances
    settled: bool  # the extrapolations agreed as the steps shrank: the noise is an honest bound
    trouble: str  # why f could not be evaluated near the point, where it could not
    rounding: float = 0.0  # how far rounding of the graph's own values may move the engine's value

    @property
    def engine_ok(self) -> bool:
        return self.tolerances.agree(self.engine, self.numeric, self.noise + 2 * self.rounding)

    def too_noisy(self, noise: float, numeric: float) -> bool:
        """Whether finite differences good only to ±noise are too rough to blame anyone for this engine value."""
        return noise > 0.1 * max(abs(self.engine), abs(numeric)) + self.tolerances.atol

    @property
    def unsettled(self) -> bool:
        """Whether the finite difference did not settle, or is too noisy, to blame anyone."""
        return not self.settled or self.too_noisy(self.noise, self.numeric)


def _verdict(
    evidence: _Evidence, measure: FiniteDifference, kink: Callable[[], str], rounding: Callable[[], float] | None
) -> Verdict:
    if math.isnan(evidence.numeric) or math.isinf(evidence.noise):
        if not evidence.hand_ok:
            return HAND_UNDECIDED, "hand"
        why = evidence.trouble or "f is outside its domain, or not finite, near this point"
        return f"inconclusive: cannot decide: finite differences cannot be taken here: {why}", "undefined"
    if evidence.engine_ok and evidence.hand_ok:  # where the noise is large, the audit of each op's rule still looks
        exact = evidence.tolerances.agree(evidence.engine, evidence.numeric)
        return ("ok" if exact else f"ok, within the ±{evidence.noise:.1e} of finite differences"), "ok"
    where = kink() if not evidence.engine_ok or evidence.unsettled else ""
    if where:
        return _at_kink(evidence, measure, where)
    if not evidence.engine_ok and not evidence.unsettled and rounding is not None:
        evidence = dataclasses.replace(evidence, rounding=rounding())
        if evidence.engine_ok and evidence.hand_ok:
            return (f"ok, within the ±{2 * evidence.rounding:.1e} by which rounding moves the engine's value "
                    "here (finite differences see the exact slope)"), "ok"  # fmt: skip
    if evidence.unsettled:
        if not evidence.hand_ok:
            return HAND_UNDECIDED, "hand"
        if not evidence.settled:
            return _unsettled(evidence, measure), "unsettled"
        return (f"inconclusive: cannot decide: finite differences are only good to ±{evidence.noise:.1e} here "
                "(rounding of large values, or a pole nearby?): check at another point"), "unsettled"  # fmt: skip
    return _blame(evidence)


def _unsettled(evidence: _Evidence, measure: FiniteDifference) -> str:
    """Why finite differences do not settle, and whether a smaller eps would help. The smaller steps are
    tried first, so the advice is never to shrink a step that cannot shrink enough (cos at 1e17, where
    neighbouring floats are 16 apart, or of an intermediate value that large)."""
    scale, floor, last = max(1.0, abs(measure.x)), 1e3 * math.ulp(measure.x), measure.step
    for last, slope in measure.finer():
        if slope.settled and not evidence.too_noisy(2 * slope.error, slope.central):
            return (f"inconclusive: cannot decide: finite differences do not settle at these steps (long "
                    f"against the scale on which f changes here); at eps={last / scale:.0e} they do: check with it")
    spacing = f", a thousand float spacings at x (floats there are {math.ulp(measure.x):.1e} apart)"
    return (f"inconclusive: cannot decide: finite differences do not settle at any step down to {last:.0e}"
            f"{spacing if last / 10 < floor else ''}: f, or a value computed inside it, changes faster than such "
            "steps resolve, or f jumps, has a pole, or has a kink here (a branch on x: if, max, min?): check at "
            "another point")  # fmt: skip


def _at_kink(evidence: _Evidence, measure: FiniteDifference, where: str) -> Verdict:
    """Between the one-sided slopes at the step, or at a much smaller one (two kinks closer than the step).
    Outside them is wrong only if the slopes hold steady from the shortest step to half of it: with steps
    long against the scale on which f changes (relu(cos x) at 1e14), they are noise."""
    tolerances, slopes, outside = evidence.tolerances, "", ["engine"]
    measured = measure.one_sided_slopes()
    for left, right, rounding in measured:
        low, high = sorted((left, right))
        margin = tolerances.atol + tolerances.rtol * max(abs(low), abs(high)) + 1e-3 * (abs(low) + abs(high))
        margin += rounding
        candidates = (("engine", evidence.engine), ("hand", evidence.hand))
        outside = [who for who, v in candidates if v is not None and not low - margin <= v <= high + margin]
        slopes = f"one-sided slopes {number(left)} and {number(right)}"
        if not outside:
            return f"kink: {where}; the value lies between the {slopes}", "kink"
    if len(measured) < 2 or not _steady(measured[-2], measured[-1]):
        return (f"inconclusive: cannot decide: {where}, and the one-sided slopes change with the step "
                f"({slopes} at the shortest): check at another point"), "unsettled"  # fmt: skip
    # Their error is O(h²): extrapolate from the last two steps (h and h/e), and allow for the change.
    (left_h, right_h, _), (left, right, rounding) = measured[-2:]
    ends = [(late + (late - early) / (math.e**2 - 1), abs(late - early)) for early, late in
            ((left_h, left), (right_h, right))]  # fmt: skip
    low, high = min(end - change for end, change in ends), max(end + change for end, change in ends)
    margin = tolerances.atol + tolerances.rtol * max(abs(low), abs(high)) + rounding
    outside = [who for who, v in (("engine", evidence.engine), ("hand", evidence.hand))
               if v is not None and not low - margin <= v <= high + margin]  # fmt: skip
    if not outside:
        return f"kink: {where}; the value lies between the {slopes}, extrapolated to a zero step", "kink"
    blamed: Kind = "engine" if outside[0] == "engine" else "hand"
    return f"WRONG at a kink: {where}; {slopes}, and the {outside[0]} value lies outside them", blamed


def _steady(before: tuple[float, float, float], after: tuple[float, float, float]) -> bool:
    """Whether two (left, right, rounding) one-sided slopes agree to 1% (a change of a millionth of the
    largest of them is none: relu's flat side gives 3 relu(x) / h). Neither atol nor their rounding may
    help: slopes that are noise may all be tiny, or all within a rounding that swamps them."""
    largest = max(abs(v) for v in (*before[:2], *after[:2]))
    return all(abs(b - a) <= 1e-2 * (abs(b) + abs(a)) + 1e-6 * largest
               for b, a in zip(before[:2], after[:2], strict=True))  # fmt: skip


def _blame(evidence: _Evidence) -> Verdict:
    """The finite difference is trustworthy and something disagrees with it: say what."""
    engine, hand, tolerances = evidence.engine, evidence.hand, evidence.tolerances
    if hand is None or (not evidence.engine_ok and evidence.hand_ok):
        agree = "" if hand is None else "; hand agrees with the engine"
        return f"WRONG: engine differs from finite differences{agree}", "engine"
    if evidence.engine_ok:
        sign = " (opposite sign)" if tolerances.agree(-hand, engine) else ""
        return f"WRONG: hand derivation differs{sign}", "hand"
    if tolerances.agree(hand, evidence.numeric, evidence.noise):
        return "WRONG: engine differs; hand and finite differences agree", "engine"
    return "WRONG: all three differ", "engine"

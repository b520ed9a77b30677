"""Verdicts: from the engine's derivative, a hand-derived one and finite differences, say which is off.

Most rows are settled by the quick estimate. The others are measured again with Ridders' method,
whose error e widens the tolerance: the engine agrees when |engine - D| <= atol + rtol |D| + 2e.
Where e is large next to the derivative (a jump, a pole, rounding of large values), finite
differences cannot decide, and the row says so instead of blaming anyone; where the step crosses
a declared kink, the value passes if it lies between the one-sided slopes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from autograd.testing.differences import FiniteDifference
from autograd.testing.report import GradientRow, Kind, number
from autograd.testing.tolerances import Tolerances

Verdict = tuple[str, Kind]
HAND_UNDECIDED = "WRONG: hand derivation differs from the engine (finite differences cannot decide here)"


def judge(
    name: str,
    engine: float,
    hand: float | None,
    measure: FiniteDifference,
    kink: Callable[[], str],
    tolerances: Tolerances,
) -> GradientRow:
    """One row: the engine's value (and ``hand``, if given) against the finite difference ``measure``.

    ``kink()`` says which declared kink the step moves across ("" if none); it is asked only when needed.
    """
    hand_ok = hand is None or tolerances.agree(hand, engine)
    quick = measure.quick.central
    if hand_ok and tolerances.agree(engine, quick):
        return GradientRow(name, engine, quick, hand, "ok", "ok")
    slope = measure.careful
    evidence = _Evidence(engine, hand, hand_ok, slope.central, 2 * slope.error, tolerances, slope.coarse)
    verdict, kind = _verdict(evidence, measure, kink)
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
    coarse: bool  # the steps were long against the scale on which f changes

    @property
    def engine_ok(self) -> bool:
        return self.tolerances.agree(self.engine, self.numeric, self.noise)

    @property
    def unsettled(self) -> bool:
        """Whether the finite difference is too noisy, or its steps too long for f, to blame anyone."""
        return self.coarse or self.noise > 0.1 * max(abs(self.engine), abs(self.numeric)) + self.tolerances.atol


def _verdict(evidence: _Evidence, measure: FiniteDifference, kink: Callable[[], str]) -> Verdict:
    if math.isnan(evidence.numeric) or math.isinf(evidence.noise):
        if not evidence.hand_ok:
            return HAND_UNDECIDED, "hand"
        return "cannot evaluate f near this point (outside its domain, or not finite)", "undefined"
    if evidence.engine_ok and evidence.hand_ok:  # where the noise is large, the audit of each op's rule still looks
        exact = evidence.tolerances.agree(evidence.engine, evidence.numeric)
        return ("ok" if exact else f"ok, within the ±{evidence.noise:.1e} of finite differences"), "ok"
    where = kink() if not evidence.engine_ok or evidence.unsettled else ""
    if where:
        return _at_kink(evidence, measure, where)
    if evidence.unsettled:
        if not evidence.hand_ok:
            return HAND_UNDECIDED, "hand"
        if evidence.coarse:
            return ("inconclusive: cannot decide: the finite-difference steps are not small against the scale "
                    "on which f changes here (f varies faster than they resolve): try a smaller eps"), "unsettled"
        return (f"inconclusive: finite differences are only good to ±{evidence.noise:.1e} here (a jump or a pole "
                "nearby, or rounding of large values?): check at another point"), "unsettled"  # fmt: skip
    return _blame(evidence)


def _at_kink(evidence: _Evidence, measure: FiniteDifference, where: str) -> Verdict:
    """Between the one-sided slopes at the step, or at a much smaller one (two kinks closer than the step)."""
    tolerances, slopes, outside = evidence.tolerances, "", ["engine"]
    for left, right in measure.one_sided_slopes():
        low, high = sorted((left, right))
        margin = tolerances.atol + tolerances.rtol * max(abs(low), abs(high)) + 1e-3 * (abs(low) + abs(high))
        candidates = (("engine", evidence.engine), ("hand", evidence.hand))
        outside = [who for who, v in candidates if v is not None and not low - margin <= v <= high + margin]
        slopes = f"one-sided slopes {number(left)} and {number(right)}"
        if not outside:
            return f"kink: {where}; the value lies between the {slopes}", "kink"
    blamed: Kind = "engine" if outside[0] == "engine" else "hand"
    return f"WRONG at a kink: {where}; {slopes}, and the {outside[0]} value lies outside them", blamed


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

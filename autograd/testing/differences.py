"""Finite differences: derivatives measured from function values alone, each with its error. Pure float code.

``FiniteDifference(g, x, g(x), h)`` first estimates g'(x) by Richardson extrapolation of central
differences at h and h/2 (error O(h⁴) plus rounding), and on demand by Ridders' method from several
starting steps, which also estimates its own error and says whether the estimate settled (see
``careful`` and ``ridders``); near a kink it gives the one-sided slopes.

Every difference quotient divides by the distance between the two points as floats, (x+h) - (x-h),
not by 2h: near |x| = 1e8 the spacing of floats (1.5e-8) is a visible part of a short step, and
dividing by the step that was asked for, not the one taken, would put that error into the slope.
"""

from __future__ import annotations

import functools
import itertools
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

SHRINK = 1.4  # Ridders' step ratio (Numerical Recipes' CON)
TABLEAU = 12  # rows of a tableau
TRIES = 40  # steps tried in all, shrinking past points where g is undefined (1.4⁻²⁸ ≈ 1e-4 of the start)
CONVERGED = 1e-8  # relative error at which a run counts as settled
FINER = 16  # smaller starts tried, a tenth each, when asked what a smaller eps would measure


@dataclass(frozen=True)
class Slope:
    """A derivative measured from function values, and how far off it may be.

    ``settled``: as the steps shrank, the extrapolations agreed with each other (to 1e-8, or within
    the rounding of g's values), the curvature held steady, and no other run contradicts it. Ridders'
    error estimate means something only then: when the steps are long against the scale on which g
    changes (cos at 3e8 with steps of 300, beyond its period), every tableau entry is a sample of
    noise about |g| / h, and so is the error, which made such runs look precise for bounded g.
    ``trouble`` says why g could not be sampled where it could not.
    """

    central: float
    error: float
    settled: bool = True
    trouble: str = ""


def _shown(t: float) -> str:
    return repr(t + 0.0)  # every digit: the failing point is often x plus a step far below ten digits


def _sample(g: Callable[[float], float], points: Sequence[float]) -> list[float] | str:
    """g at each point, or why not: the first point outside g's domain or where g is not finite."""
    values = []
    for t in points:
        try:
            value = g(t)
        except (ArithmeticError, ValueError) as error:
            return f"f({_shown(t)}) fails: {error}"
        if not math.isfinite(value):
            return f"f({_shown(t)}) = {value}"
        values.append(value)
    return values


def _central(
    g: Callable[[float], float], x: float, h: float, at_x: float = math.nan, noise: float = 0.0
) -> tuple[float, float, float, float] | str:
    """The central difference quotient at step h and its rounding floor, the second difference
    g(x+h) + g(x-h) - 2 g(x) (NaN without ``at_x``) and its floor from ε|g| alone, or why there are
    none. ``noise`` is how far rounding inside g may move its values, where that exceeds ε|g|."""
    plus, minus = x + h, x - h
    if plus == minus:
        return f"the step {h:.1e} is below the spacing of floats at {_shown(x)}"
    values = _sample(g, [plus, minus])
    if isinstance(values, str):
        return values
    width = plus - minus
    slope = (values[0] - values[1]) / width
    if not math.isfinite(slope):
        return f"the difference quotient overflows at the step {width / 2:.1e}"
    # g(x ± h) are each off by about ε|g|, or more, so no estimate from this step is better than that
    # over h (times a few for the extrapolation): the tableau cannot see this on its own.
    off = sys.float_info.epsilon * max(map(abs, values))
    bend = (values[0] - at_x) + (values[1] - at_x)  # not their sum less 2 g(x), which overflows near 1e308
    return slope, 16 * max(off, noise) / width, bend, 16 * off


class FiniteDifference:
    """The derivative of g at x: a quick estimate first, Ridders' method when that is not enough."""

    def __init__(
        self, g: Callable[[float], float], x: float, at_x: float, step: float, noise: Callable[[], float] | None = None
    ) -> None:
        """``noise()``, if given, says how far rounding inside g may move its values: ε|g| understates it
        where g passes through larger values (log(1 + x²) near 0 rounds 1 + x², near 1, to a spacing of
        2e-16, while g itself is near 1e-24); it is asked for only when the quick estimate is not enough."""
        self.g, self.x, self.at_x, self.step, self._noise = g, x, at_x, step, noise

    @functools.cached_property
    def noise(self) -> float:
        return self._noise() if self._noise is not None else 0.0

    @functools.cached_property
    def quick(self) -> Slope:
        """Richardson on central differences at h and h/2: error O(h⁴), plus rounding."""
        coarse, fine = _central(self.g, self.x, self.step), _central(self.g, self.x, self.step / 2)
        if isinstance(coarse, str) or isinstance(fine, str):
            return Slope(math.nan, math.inf, False, coarse if isinstance(coarse, str) else str(fine))
        return Slope(fine[0] + (fine[0] - coarse[0]) / 3, math.inf, False)

    def one_sided_slopes(self) -> list[tuple[float, float, float]]:
        """Second-order one-sided slopes (left, right) at the step h, h/1000, h/10⁶ and that over e, where g
        is defined, each with how far rounding of g's values (ε|g|, or the noise inside g) may move them.
        The last two show whether the slopes hold steady at the shortest steps; their ratio is e, which no
        decimal shares, so that points on a lattice (x a multiple of π/2) do not line up with the steps."""
        slopes = []
        for shrink in (1.0, 1e-3, 1e-6, 1e-6 / math.e):
            h = self.step * shrink
            values = _sample(self.g, [self.x - h, self.x - h / 2, self.x + h / 2, self.x + h])
            if not isinstance(values, str):
                minus, minus_half, plus_half, plus = values
                at_x = self.at_x
                off = max(sys.float_info.epsilon * max(map(abs, [*values, at_x])), self.noise)
                left, right = (3 * at_x - 4 * minus_half + minus) / h, (4 * plus_half - 3 * at_x - plus) / h
                slopes.append((left, right, 8 * off / h))
        return slopes or [(math.nan, math.nan, 0.0)]

    @functools.cached_property
    def careful(self) -> Slope:
        """Ridders' method from several starting steps, trusted only where they agree.

        A pole, a jump or a narrow feature near x spoils the long steps, often with a deceptively small
        error estimate (1/x² looks flat from far away; 1/(1 + 1e8 x²) looks flat from 0.1 off), while
        the shortest may only see the quantum of f's rounded values (log(1 + (1e4 x)²) is exactly 0 for
        |x| < 1e-12). So the settled runs are read outwards from the most local, each more precise one
        replacing the estimate if the two agree; runs that contradict it leave it standing but
        unsettled, so that it can still confirm the engine and blame no one."""
        scale = max(1.0, abs(self.x))
        near_zero = [0.1 * abs(self.x)] if 0 < abs(self.x) < 1 else []  # steps that stay on x's side of 0
        # the caller's own step too: when a smaller eps is the advice, following it must help
        starts = sorted(h for h in {0.1 * scale, 1e-4 * scale, 1e-6 * scale, self.step, *near_zero} if h > 0)
        runs = [ridders(self.g, self.x, h, self.at_x, self.noise) for h in starts]
        settled = [run for run in runs if run.settled]
        if not settled:
            best = min(runs, key=lambda run: run.error)
            if math.isnan(best.central):  # say why at the most local start: the reason no step fits
                return Slope(math.nan, math.inf, False, next((run.trouble for run in runs if run.trouble), ""))
            return best
        best = settled[0]
        for run in settled[1:]:
            if run.error < best.error and _agree(run, best):
                best = run
        # Contradicted by a settled run, or by two nearly settled ones (to 1%) that agree with each other,
        # it is unsettled: near log(1 + (1e4 x)²) at 5e-16 the shortest steps see a flat 0 and settle,
        # while two longer runs see the slope, 9.4e-8, to 1e-4 without settling. Rougher runs prove
        # nothing: sin at 1e4 with steps of 10 or more gives noise, which can agree with other noise.
        against = [run for run in runs if not math.isnan(run.central) and not _agree(run, best)]
        sharp = [run for run in against if run.error <= 1e-2 * abs(run.central)]
        corroborated = any(_agree(one, other) for k, one in enumerate(sharp) for other in sharp[k + 1 :])
        if corroborated or any(run.settled for run in against):
            return Slope(best.central, best.error, False)
        return best

    def finer(self) -> Iterator[tuple[float, Slope]]:
        """Ridders' runs from ever smaller starts, a tenth of the step and less, down to a thousand float
        spacings at x (below that the points x ± h are too few floats apart to follow a curve): what a
        smaller eps would measure. Each item is (start, slope)."""
        h, floor = self.step / 10, 1e3 * math.ulp(self.x)
        for _ in range(FINER):
            if h < floor:
                return
            yield h, ridders(self.g, self.x, h, self.at_x, self.noise)
            h /= 10


def _agree(one: Slope, other: Slope) -> bool:
    """Whether two measurements agree within twice their estimated errors, or to 1e-8 relative (the
    estimates are a little optimistic, and closer than a run's own convergence is the same answer)."""
    slack = 2 * (one.error + other.error) + CONVERGED * max(abs(one.central), abs(other.central))
    return abs(one.central - other.central) <= slack


class _Tableau:
    """One Ridders tableau: estimates at h, h/1.4, ... extrapolated to h = 0, keeping the entry with the
    smallest error estimate (at least the rounding floor given with each row)."""

    def __init__(self) -> None:
        self.previous: list[float] = []
        self.best, self.error, self.within_rounding = math.nan, math.inf, False
        self.diagonal: list[tuple[float, float]] = []  # each row's last entry, and its rounding floor

    def add(self, estimate: float, rounding: float) -> list[float]:
        row = self._row(estimate, rounding)
        self.diagonal.append((row[-1], rounding))
        return row

    def steady(self, relative: float) -> bool:
        """Whether the last three rows' most extrapolated entries agree, to ``relative`` or within rounding:
        a convergence that lasts, unlike the best of many entries, which noise also reaches by chance."""
        last = self.diagonal[-3:]
        return len(self.diagonal) >= 4 and all(
            abs(after - before) <= relative * abs(after) + rounding
            for (before, _), (after, rounding) in itertools.pairwise(last)
        )

    def _row(self, estimate: float, rounding: float) -> list[float]:
        row, factor = [estimate], SHRINK**2
        for j in range(1, len(self.previous) + 1):
            # the same as (row·factor - previous) / (factor - 1), without overflowing near 1e308
            row.append(row[j - 1] + (row[j - 1] - self.previous[j - 1]) / (factor - 1))
            factor *= SHRINK**2
            disagreement = max(abs(row[j] - row[j - 1]), abs(row[j] - self.previous[j - 1]))
            if max(disagreement, rounding) <= self.error:
                self.best, self.error = row[j], max(disagreement, rounding)
                self.within_rounding = disagreement <= rounding
        return row

    def settled(self, relative: float) -> bool:
        """Whether the extrapolations agreed, to ``relative`` or to within rounding."""
        return math.isfinite(self.best) and (self.within_rounding or self.error <= relative * abs(self.best))


def ridders(g: Callable[[float], float], x: float, h: float, at_x: float = math.nan, noise: float = 0.0) -> Slope:
    """Ridders' tableau (as Numerical Recipes' dfridr): central differences at h, h/1.4, h/1.4², ...
    extrapolated to h = 0; the entry with the smallest error estimate, that estimate, and whether the
    extrapolations agreed (to 1e-8 relative, or to within rounding).

    The extrapolation assumes the steps are short against the scale on which g changes, and its error
    estimate cannot tell when they are not: far from a narrow feature both sides are flat or mirror
    each other, and every difference is a precise 0 (1/(1 + 1e8 x²) near x = 0 with steps of 0.01).
    So, given g(x), the curvature (g(x+h) + g(x-h) - 2 g(x)) / h² is extrapolated alongside: where g
    is smooth at the step it settles on g''(x), while far out it grows like 1/h², or jumps about. The
    slope counts as settled only if the curvature holds steady too (to 1% over the last rows)."""
    slopes, curvatures, trouble = _Tableau(), _Tableau(), ""
    rows, start = 0, h
    for _ in range(TRIES):
        if rows == TABLEAU:
            break
        sample = _central(g, x, h, at_x, noise)
        if isinstance(sample, str):  # outside the domain at this step: start again closer in
            trouble, slopes.previous, curvatures.previous, h = sample, [], [], h / SHRINK
            continue
        slope, rounding, bend, bend_rounding = sample
        row = slopes.add(slope, rounding)
        shrunk = (start / h) ** 2  # the curvature in units of 1/start²: g'' itself may overflow (log at 1e-300)
        if math.isfinite(bend * shrunk):
            # against ε|g| alone: where noise inside g swamps the curvature, the steps prove nothing
            curvatures.previous = curvatures.add(bend * shrunk, bend_rounding * shrunk)
        # higher orders only get worse; but four rows at least, for the curvature to show it holds steady
        if rows >= 3 and slopes.previous and abs(row[-1] - slopes.previous[-1]) >= 2 * slopes.error:
            break
        slopes.previous, h, rows = row, h / SHRINK, rows + 1
    smooth = math.isnan(at_x) or curvatures.steady(1e-2)
    if math.isnan(slopes.best):
        return Slope(math.nan, math.inf, False, trouble)
    return Slope(slopes.best, slopes.error, smooth and slopes.settled(CONVERGED))


def wobble(g: Callable[[float], float], x: float, at_x: float) -> float:
    """How far g moves when x moves by one or two float spacings: what rounding alone does to g at x.

    A value computed in floats is, at best, exact for inputs a spacing or two away (cos(1e4 x) rounds
    1e4 x first), so it may differ this much from the exact value that finite differences see. Only a
    steady drift counts: where g jumps within those spacings (a branch on x at x) the answer is 0."""
    spacing = math.ulp(x)
    try:
        moved = {k: g(x + k * spacing) - at_x for k in (-2, -1, 1, 2)}
    except (ArithmeticError, ValueError, TypeError):
        return 0.0
    if not all(map(math.isfinite, moved.values())):
        return 0.0
    slope = (moved[2] - moved[-2]) / 4  # per spacing
    if any(abs(change - k * slope) > abs(slope) for k, change in moved.items()):
        return 0.0
    return max(map(abs, moved.values()))


def along(g: Callable[[Sequence[float]], float], point: Sequence[float], i: int) -> Callable[[float], float]:
    """g as a function of coordinate i alone, the others held at ``point``."""

    def moved(t: float) -> float:
        return g([*point[:i], t, *point[i + 1 :]])

    return moved


class Entry:
    """Entry i of a vector-valued function of the argument list."""

    def __init__(self, g: Callable[[Sequence[float]], Sequence[float]], i: int) -> None:
        self.g, self.i = g, i

    def __call__(self, point: Sequence[float]) -> float:
        return self.g(tuple(point))[self.i]

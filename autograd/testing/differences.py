"""Finite differences: derivatives measured from function values alone, each with its error. Pure float code.

``FiniteDifference(g, x, g(x), h)`` first estimates g'(x) by Richardson extrapolation of central
differences at h and h/2 (error O(h⁴) plus rounding), and on demand by Ridders' method, which also
estimates its own error; near a kink it gives the one-sided slopes.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Slope:
    """A derivative measured from function values, and how far off it may be."""

    central: float
    error: float
    coarse: bool = False  # the steps were not small against the scale on which g changes


def _values(g: Callable[[float], float], points: Sequence[float]) -> list[float] | None:
    """g at each point, or None if any is outside g's domain or not finite."""
    try:
        values = [g(t) for t in points]
    except (ArithmeticError, ValueError):
        return None
    return values if all(map(math.isfinite, values)) else None


class FiniteDifference:
    """The derivative of g at x: a quick estimate first, Ridders' method when that is not enough."""

    def __init__(self, g: Callable[[float], float], x: float, at_x: float, step: float) -> None:
        self.g, self.x, self.at_x, self.step = g, x, at_x, step

    @functools.cached_property
    def quick(self) -> Slope:
        """Richardson on central differences at h and h/2: error O(h⁴), plus rounding."""
        x, h = self.x, self.step
        values = _values(self.g, [x + h, x - h, x + h / 2, x - h / 2])
        if values is None:
            return Slope(math.nan, math.inf)
        plus, minus, plus_half, minus_half = values
        coarse, fine = (plus - minus) / (2 * h), (plus_half - minus_half) / h
        return Slope(fine + (fine - coarse) / 3, math.inf)

    def one_sided_slopes(self) -> list[tuple[float, float]]:
        """Second-order one-sided slopes (left, right) at the step h, h/1000 and h/10⁶, where g is defined."""
        slopes = []
        for shrink in (1.0, 1e-3, 1e-6):
            h = self.step * shrink
            values = _values(self.g, [self.x - h, self.x - h / 2, self.x + h / 2, self.x + h])
            if values is not None:
                minus, minus_half, plus_half, plus = values
                at_x = self.at_x
                slopes.append(((3 * at_x - 4 * minus_half + minus) / h, (4 * plus_half - 3 * at_x - plus) / h))
        return slopes or [(math.nan, math.nan)]

    @functools.cached_property
    def careful(self) -> Slope:
        """Ridders' method from several starting steps. A pole, jump or kink nearby spoils the large ones,
        sometimes with a deceptively small error estimate (1/x² looks flat from far away), so the most
        local run that converged (relative error 1e-8) wins; failing that, the one with the smallest error."""
        scale = max(1.0, abs(self.x))
        near_zero = [0.1 * abs(self.x)] if 0 < abs(self.x) < 1 else []  # steps that stay on x's side of 0
        starts = sorted([0.1 * scale, 1e-4 * scale, 1e-6 * scale, *near_zero])
        runs = [(*ridders(self.g, self.x, h), h) for h in starts]
        converged = [run for run in runs if run[1] <= 1e-8 * abs(run[0])]
        central, error, start = converged[0] if converged else min(runs, key=lambda run: run[1])
        return Slope(central, error, not converged and error > 0.1 * self.secant(start))

    def secant(self, h: float) -> float:
        """The steepest secant from x to x ± h, |g(x ± h) - g(x)| / h: the largest slope g shows at step h.

        Ridders' error estimate is meaningful only if it is small against this. When the step is long
        against the scale on which g changes (sin at 1e7 with a step of 1e4, beyond its period), the
        differences are unrelated samples of g, every tableau entry is of this size, and so is the error
        (small in absolute terms when g is bounded, which made such runs look settled)."""
        values = _values(self.g, [self.x + h, self.x - h])
        if values is None:
            return math.inf
        return max(abs(v - self.at_x) for v in values) / h


def ridders(g: Callable[[float], float], x: float, h: float) -> tuple[float, float]:
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

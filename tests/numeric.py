"""Finite differences on plain float functions: the engine-independent yardstick for the tests."""

from __future__ import annotations

from collections.abc import Callable


def central_difference(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """(f(x + h) - f(x - h)) / 2h: error O(h**2) from truncation plus O(eps / h) from rounding."""
    return (f(x + h) - f(x - h)) / (2 * h)


def second_difference(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """(f(x + h) - 2 f(x) + f(x - h)) / h**2."""
    return (f(x + h) - 2 * f(x) + f(x - h)) / (h * h)


def partial_difference(f: Callable[..., float], point: list[float], i: int, h: float = 1e-6) -> float:
    """Central difference of f along coordinate i at ``point``."""
    up, down = list(point), list(point)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)

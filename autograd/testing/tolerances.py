"""How closely the checks look: one frozen, validated ``Tolerances`` instead of three loose numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

from autograd.engine import Value

EPS = 1e-3
ATOL = 1e-15
RTOL = 1e-9


@dataclass(frozen=True)
class Tolerances:
    """The finite-difference step and the tolerances of a gradient check, checked once when made
    (``dataclasses.replace`` gives a changed copy, checked the same way).

    ``eps`` is the relative step: h = eps * max(1, |x|), at most 0.1. A derivative D passes when
    |engine - D| <= atol + rtol |D| (plus the finite differences' own error, where they measured it).
    """

    eps: float = EPS
    atol: float = ATOL
    rtol: float = RTOL

    def __post_init__(self) -> None:
        for name, low in (("eps", "> 0"), ("atol", ">= 0"), ("rtol", ">= 0")):
            number = finite_number(getattr(self, name), name)
            if number < 0.0 or (number == 0.0 and name == "eps"):
                raise ValueError(f"{name} must be {low}, got {getattr(self, name)!r}")
            object.__setattr__(self, name, number)  # frozen: set once, as a float
        if self.eps > 0.1:
            raise ValueError(f"eps is a relative step and must be at most 0.1, got {self.eps:g}")

    @classmethod
    def of(cls, caller: str, **settings: Any) -> Tolerances:
        """Tolerances from keyword settings; an invalid one raises with ``caller`` named first."""
        try:
            return cls(**settings)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{caller}: {error}") from None

    def agree(self, value: float, reference: float, slack: float = 0.0) -> bool:
        """|value - reference| <= atol + rtol |reference| + slack."""
        return abs(value - reference) <= self.atol + self.rtol * abs(reference) + slack

    def step(self, x: float) -> float:
        """The finite-difference step at x: eps relative to |x|, absolute below 1."""
        return self.eps * max(1.0, abs(x))

    def __str__(self) -> str:
        return f"eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}"


FULL_PRECISION = 15  # digits from which a hand value counts as computed, not typed


@dataclass(frozen=True)
class HandPrecision:
    """How precisely a hand-derived value is meant: ``digits`` significant digits (typed, rounded or
    truncated), or None for full precision (computed, or exact like 2.0 or 0.25)."""

    digits: int | None

    @classmethod
    def of(cls, hand: float, digits: int | None) -> HandPrecision:
        """``digits`` if given (FULL_PRECISION or more is full precision); else as typed: the digits of
        hand's shortest repr (0.082167 has five), where one or two digits are taken as exact."""
        if digits is None:
            typed = typed_digits(hand)
            return cls(typed if 3 <= typed < FULL_PRECISION else None)
        return cls(digits if digits < FULL_PRECISION else None)

    def unit(self, hand: float) -> float:
        """One unit in the last digit of ``hand`` as typed (0 at full precision): 1e-6 for 0.082167."""
        if self.digits is None or hand == 0.0:
            return 0.0
        return 10.0 ** (math.floor(math.log10(abs(hand))) - self.digits + 1)

    def rounded(self, x: float) -> str:
        """x as it would be typed to these digits."""
        return f"{x:.{self.digits}g}" if self.digits is not None else repr(x)

    def __str__(self) -> str:
        return "full precision" if self.digits is None else f"typed to {self.digits} digits"


def typed_digits(x: float) -> int:
    """The significant digits of x's shortest repr, which is what was typed: 0.082167 -> 5, 2.0 -> 1."""
    mantissa = repr(abs(float(x))).split("e")[0].replace(".", "").strip("0")
    return max(len(mantissa), 1)


def checked_digits(caller: str, digits: object) -> int | None:
    """``digits=`` of a check: None, or a whole number of significant digits from 1 to 17."""
    if digits is None:
        return None
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"{caller}: digits must be a whole number from 1 to 17 (or None: as typed), got {digits!r}")
    return digits


def real_number(x: object, what: str) -> float:
    """``x`` (a real number, or a Value's data) as a float; a TypeError naming ``what`` otherwise."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


def finite_number(x: object, what: str) -> float:
    """:func:`real_number` that also refuses NaN and infinities."""
    number = real_number(x, what)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number!r}")
    return number


def checked_order(caller: str, order: object) -> int:
    """The derivative order of a check: 1 or 2 (an int, not a bool or a float)."""
    if isinstance(order, bool) or not isinstance(order, int) or order not in (1, 2):
        raise ValueError(f"{caller}: order must be 1 or 2, got {order!r}")
    return order

"""Argument checks that several parts of nn share, each worded one way."""

from __future__ import annotations

from numbers import Integral


def check_count(value: object, what: str, minimum: int = 1, *, alternative: str = "") -> int:
    """``value`` as an int if it is a whole number (not a bool) of at least ``minimum``.

    Otherwise raise ValueError "``what`` must be a positive int, got ..." (or "an int >= minimum").
    ``alternative`` names what else the caller accepts, such as "None (the full data)", for the message;
    the caller handles that case itself before calling.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        if alternative:
            wanted += f" or {alternative}"
        raise ValueError(f"{what} must be {wanted}, got {value!r}")
    return int(value)

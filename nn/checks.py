"""Argument checks that several parts of nn share, each worded one way."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Union

import numpy as np


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
        raise ValueError(f"{what} must be {wanted}, got {excerpt(value)}")
    return int(value)


def excerpt(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to about ``limit`` characters, so a huge input never makes a huge message.

    Strings and bytes are cut before ``repr`` is taken, so even a gigabyte-long text costs little.
    """
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} long)"
    text = repr(value) if not isinstance(value, (list, tuple, dict)) or len(value) <= 20 else _short_container(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _short_container(value: list[object] | tuple[object, ...] | dict[object, object]) -> str:
    """The repr of a long container's first items only (its full repr could be enormous)."""
    items = list(value.items())[:20] if isinstance(value, dict) else list(value[:20])
    return f"{type(value).__name__} of {len(value)} starting {items!r}"


def check_number(value: object, what: str, *, minimum: float | None = None, strict: bool = False,
                 below: float | None = None) -> float:  # fmt: skip
    """``value`` as a float if it is a finite real number (not a bool) within the bounds, else ValueError.

    ``minimum`` is a lower bound (excluded when ``strict``), ``below`` an upper bound (always excluded).
    The message names ``what`` and quotes the value, e.g. "SGD: weight_decay must be a finite number >= 0, got nan".
    """
    if minimum is not None and below is not None:
        wanted = f"lie in {'(' if strict else '['}{minimum:g}, {below:g})"
    elif minimum is not None:
        wanted = f"be a finite number {'>' if strict else '>='} {minimum:g}"
    elif below is not None:
        wanted = f"be a finite number < {below:g}"
    else:
        wanted = "be a finite number"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{what} must {wanted}, got {excerpt(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} must {wanted}, got a number too large for a float") from None
    if (
        not math.isfinite(number)
        or (minimum is not None and (number <= minimum if strict else number < minimum))
        or (below is not None and number >= below)
    ):
        raise ValueError(f"{what} must {wanted}, got {excerpt(value)}")
    return number


def shorten(text: str, limit: int = 80) -> str:
    """``text`` as it is if it has at most ``limit`` characters, else its start and its length."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def count_text(count: int) -> str:
    """A count for a message: its digits, or "more than 10**30" for a huge one (str of a huge int may fail)."""
    return str(count) if count < 10**30 else "more than 10**30"


Seed = Union[int, np.random.Generator, None]


def check_seed(seed: object, who: str) -> np.random.Generator:
    """The generator a ``seed=`` argument stands for: an int >= 0 seeds a new one, a Generator is used
    as it is (and advanced), None draws fresh entropy; anything else is a TypeError naming ``who``.

    Every part of nn that draws random numbers takes its seed through here, so ``seed=0`` and
    ``seed=np.random.default_rng(0)`` mean the same everywhere.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        legacy = isinstance(seed, np.random.RandomState)
        hint = "; a RandomState is numpy's legacy kind: use np.random.default_rng(...)" if legacy else ""
        raise TypeError(
            f"{who}: seed must be an int, a numpy Generator (np.random.default_rng(0)) or None, "
            f"got {type(seed).__name__} {excerpt(seed)}{hint}"
        )
    number = int(seed)
    if number < 0:
        shown = str(number) if number > -(10**30) else "a negative int of more than 30 digits"
        raise ValueError(f"{who}: seed must be an int >= 0, got {shown}")
    return np.random.default_rng(number)

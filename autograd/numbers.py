"""Numbers coming in: what counts as a real number, and the checks wrapped around user-defined ops.

The rule for numbers given as data (``Value(x)``, an operand, an argument to differentiate at): any
real number, Python's or numpy's, is taken as its float value, and so are bools, Python's and
numpy's alike (``True`` and ``numpy.True_`` are 1.0), as Python and numpy treat them in arithmetic.
An int too large for a float64 (10**400) raises OverflowError naming where it was given; anything
else (str, None, complex, a list) raises TypeError. Settings are stricter: an argnums index, a
tolerance or a derivative order that is a bool is refused, since a flag there is a mistake.
"""

from __future__ import annotations

import functools
import math
import reprlib
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any


def as_float(x: object, where: str) -> float:
    """``x`` as a float if it is a real number (int, float, numpy number, bool or numpy bool); otherwise a
    TypeError that says ``where``."""
    if type(x) is float:
        return x
    if isinstance(x, Real) or is_bool(x):
        try:
            return float(x)  # type: ignore[arg-type]  # a real number or a numpy bool
        except OverflowError:
            raise OverflowError(f"{where}: {reprlib.repr(x)} is too large for a float64") from None
    hint = _value_hint(x) if where == "Value" else ""
    raise TypeError(f"{where}: expected a real number, got {type(x).__name__} {reprlib.repr(x)}{hint}")


def _value_hint(x: object) -> str:
    """What to do instead, for the usual wrong things given to ``Value(...)``: each Value holds one number."""
    from autograd.engine import Value

    if isinstance(x, Value):
        return "; it is a Value already: use it as it is, or x.detach() for a constant copy"
    size = getattr(x, "size", None)
    if type(x).__module__ == "numpy" and size == 1:
        return "; a Value holds one number: take it out of the array with x.item()"
    if type(x).__module__ == "numpy":
        return "; a Value holds one number: make one Value per number, [Value(v) for v in x.ravel().tolist()]"
    if isinstance(x, (list, tuple)):
        return "; a Value holds one number: make one Value per number, [Value(v) for v in x]"
    return ""


def is_bool(x: object) -> bool:
    """Whether x is a bool, Python's or numpy's."""
    return isinstance(x, bool) or (type(x).__module__ == "numpy" and type(x).__name__ in ("bool_", "bool"))


def checked_forward(name: str, forward: Callable[..., float]) -> Callable[..., float]:
    """``forward`` refusing results that are not real numbers; ints and numpy floats become floats."""

    @functools.wraps(forward)
    def checked(*inputs: float) -> float:
        out = forward(*inputs)
        if type(out) is float:
            return out
        if isinstance(out, Real) and not isinstance(out, bool):
            return float(out)
        raise TypeError(
            f"the forward of {name!r} must return a real number, got {type(out).__name__} {reprlib.repr(out)} "
            f"from {reprlib.repr(inputs)}"
        )

    return checked


def checked_vjp(name: str, vjp: Callable[..., Sequence[Any]], node_type: type) -> Callable[..., Sequence[Any]]:
    """``vjp`` refusing results that are not a tuple or list of numbers and ``node_type`` (Values)."""

    @functools.wraps(vjp)
    def checked(*args: Any) -> Sequence[Any]:
        partials = vjp(*args)
        if not isinstance(partials, (tuple, list)):
            raise TypeError(
                f"the rule of {name!r} must return a tuple with one partial per input, got "
                f"{type(partials).__name__} {reprlib.repr(partials)} (write (d,) for one input)"
            )
        for d in partials:
            if not isinstance(d, (float, int, node_type)) or isinstance(d, bool):
                raise TypeError(
                    f"the rule of {name!r} returned a non-number among {reprlib.repr(partials)}: "
                    f"{type(d).__name__} {reprlib.repr(d)} (each partial must be a number or a Value)"
                )
        return partials

    return checked


def finite(x: float, where: str) -> float:
    if not math.isfinite(x):
        raise ValueError(f"{where}: must be finite, got {x!r}")
    return x


def leaky_slope(slope: object) -> float:
    """leaky_relu's slope as a float: a finite real number, else TypeError or ValueError naming it."""
    return finite(as_float(slope, "leaky_relu slope"), "leaky_relu slope")

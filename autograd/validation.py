"""Numbers coming in and going out: what counts as a real number, the checks wrapped around
user-defined ops, and how error messages name an operand.

The rule for numbers given as data (``Value(x)``, an operand, an argument to differentiate at): any
real number, Python's or numpy's, is taken as its float value, and so are bools, Python's and
numpy's alike (``True`` and ``numpy.True_`` are 1.0), as Python and numpy treat them in arithmetic.
A finite number too large for a float64 (the int 10**400, or numpy's long double 1e4000, which
``float`` would quietly make inf) raises OverflowError naming where it was given; anything else
(str, None, complex, a list) raises TypeError. Settings are stricter: an argnums index, a
tolerance or a derivative order that is a bool is refused, since a flag there is a mistake.
"""

from __future__ import annotations

import functools
import math
import operator
import reprlib
from collections.abc import Callable, Iterable, Sequence
from numbers import Real
from typing import Any

from autograd.arrays import ArrayRule


def as_float(x: object, where: str, hint: Callable[[object], str] | None = None) -> float:
    """``x`` as a float if it is a real number (int, float, numpy number, bool or numpy bool); otherwise a
    TypeError that says ``where`` and, from ``hint(x)``, what to do instead."""
    if type(x) is float:
        return x
    if isinstance(x, Real) or is_bool(x):
        try:
            out = float(x)  # type: ignore[arg-type]  # a real number or a numpy bool
        except OverflowError:
            out = math.inf  # Python's ints and fractions raise where numpy's long double rounds to inf
        if (out == math.inf or out == -math.inf) and x != out:  # a finite number beyond float64's range
            raise OverflowError(f"{where}: {reprlib.repr(x)} is too large for a float64")
        return out
    advice = hint(x) if hint is not None else ""
    raise TypeError(f"{where}: expected a real number, got {type(x).__name__} {reprlib.repr(x)}{advice}")


def value_hint(x: object) -> str:
    """What to do instead, for the usual wrong things given to ``Value(...)``: each Value holds one number."""
    size = getattr(x, "size", None)
    if type(x).__module__ == "numpy" and size == 1:
        return "; a Value holds one number: take it out of the array with x.item()"
    if type(x).__module__ == "numpy":
        return "; a Value holds one number: make one Value per number, [Value(v) for v in x.ravel().tolist()]"
    if isinstance(x, (list, tuple)):
        return "; a Value holds one number: make one Value per number, [Value(v) for v in x]"
    return ""


def check_op_row(
    name: object, forward: object, vjp: object, symbol: object, constants: object, arrays: object,
    complex_forward: object, formula: object, noun: object,
) -> None:
    """The checks of ``Op(...)``'s arguments: TypeError naming the op and the argument that is wrong."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"Op: name must be a non-empty str, got {type(name).__name__} {reprlib.repr(name)}")
    for role, f in (("forward", forward), ("vjp", vjp)):
        if not callable(f):
            raise TypeError(f"Op {name!r}: {role} must be callable, got {type(f).__name__} {reprlib.repr(f)}")
    for role, text in (("symbol", symbol), ("noun", noun)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"Op {name!r}: {role} must be a str, got {type(text).__name__}")
    if isinstance(constants, bool) or not isinstance(constants, int) or constants < 0:
        raise TypeError(f"Op {name!r}: constants counts trailing operands without a gradient, got {constants!r}")
    if arrays is not None and not isinstance(arrays, ArrayRule):
        raise TypeError(f"Op {name!r}: arrays must be an autograd.ArrayRule, got {type(arrays).__name__}")
    if complex_forward is not None and not callable(complex_forward):
        raise TypeError(f"Op {name!r}: complex_forward must be callable, got {type(complex_forward).__name__}")
    if formula is not None and not callable(formula):
        raise TypeError(f"Op {name!r}: formula must be callable (sympy, *operands), got {type(formula).__name__}")


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


def describe(x: Any, number: Callable[[Any], float] = operator.attrgetter("data")) -> str:
    """How error messages name an operand: its label, or its op and data, or the constant.

    An operand is a float (a constant) or a Value (anything else), as ``apply`` records them. ``number``
    reads a Value's data: the engine passes its own accessor, which also reads a traced node's.
    """
    if type(x) is float:
        return f"the constant {x!r}"
    if x.label:
        return f"{x.label!r} (data={number(x)!r})"
    if x.rule is None:
        return f"an input Value without a label (data={number(x)!r})"
    return f"the result of {x.rule.noun} (data={number(x)!r})"


def describe_all(inputs: Iterable[Any], number: Callable[[Any], float] = operator.attrgetter("data")) -> str:
    return ", ".join(describe(x, number) for x in inputs)

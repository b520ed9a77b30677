"""Differentiated arguments, shared by the functional API, forward mode and the gradient checks.

An argument is a scalar or a list (or tuple) of scalars. ``prepare`` replaces the selected ones by
fresh nodes; derivatives are computed over all of them laid out flat, in order, and ``shapes``
records how to rebuild the arguments' structure: None for a scalar, the length for a list.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any, Union

from autograd.engine import Value, apply, as_float
from autograd.modes import changed, current
from autograd.rules import IDENTITY

Shape = Union[int, None]
ArgNums = Union[int, Sequence[int]]


def unflatten(flat: Sequence[Any], shapes: Sequence[Shape], single: bool) -> Any:
    """The flat items regrouped as the arguments were: one item per scalar, a list per list.

    With ``single`` the lone argument's result itself, otherwise a tuple with one entry per argument.
    """
    parts: list[Any] = []
    position = 0
    for shape in shapes:
        if shape is None:
            parts.append(flat[position])
            position += 1
        else:
            parts.append(list(flat[position : position + shape]))
            position += shape
    return parts[0] if single else tuple(parts)


def flatten(structure: Any) -> list[Any]:
    """The inverse of :func:`unflatten`: a result, or a tuple of results, laid out flat."""
    items = structure if isinstance(structure, tuple) else (structure,)
    return [y for item in items for y in (item if isinstance(item, list) else [item])]


# -- preparing a call of a function to differentiate ------------------------------------------


def is_nested(args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """Whether the result must stay differentiable: Values came in, or an outer transform is running."""
    if current().transform_depth > 0:
        return True
    for x in [*args, *kwargs.values()]:
        if isinstance(x, Value) or (isinstance(x, (list, tuple)) and any(isinstance(y, Value) for y in x)):
            return True
    return False


def _wrap(x: Any, where: str) -> Value:
    # A fresh node per input, even for a Value: grad(lambda y: x * y)(x) must differentiate the
    # y slot only, not every use of x (the "perturbation confusion" of naive nesting).
    if isinstance(x, Value):
        return apply(IDENTITY, (x,))
    return Value(as_float(x, where))


def checked_argnums(argnums: object, caller: str) -> list[int]:
    """The argument indices as a list; a TypeError unless each is an int (not a bool), a ValueError if none."""
    indices = [argnums] if isinstance(argnums, int) or _is_index(argnums) else argnums
    if not isinstance(indices, (list, tuple)):
        kind = type(argnums).__name__
        raise TypeError(f"{caller}: argnums must be an int or a tuple of ints, got {kind} {argnums!r}")
    if not indices:
        raise ValueError(f"{caller}: argnums={argnums!r} selects no argument to differentiate")
    for index in indices:
        if isinstance(index, bool) or not (isinstance(index, int) or _is_index(index)):
            raise TypeError(f"{caller}: argnums must hold ints, got {type(index).__name__} {index!r} in {argnums!r}")
    return [operator.index(index) for index in indices]


def _is_index(x: object) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Integral)


def prepare(
    args: Sequence[Any], argnums: ArgNums, caller: str
) -> tuple[list[Any], list[Value], list[int | None], bool]:
    """Replace the differentiated arguments by fresh nodes; return them flat and their shapes.

    An argument selected twice (argnums=(0, 0), or 0 and -n) is wrapped once, and its derivative appears
    once per selection: d(x y)/dx for (0, 0) is (y, y).
    """
    single = isinstance(argnums, int) or _is_index(argnums)
    call_args = list(args)
    inputs: list[Value] = []
    shapes: list[int | None] = []
    wrapped_at: dict[int, list[Value]] = {}
    for index in checked_argnums(argnums, caller):
        if not -len(args) <= index < len(args):
            raise ValueError(
                f"{caller}: argnums={argnums!r} does not fit a call with {len(args)} positional "
                f"arguments: index {index} is out of range"
            )
        position = index % len(args)
        arg = args[position]
        if position not in wrapped_at:
            if isinstance(arg, (list, tuple)):
                wrapped = [_wrap(x, f"{caller}: argument {position}[{k}]") for k, x in enumerate(arg)]
                call_args[position] = type(arg)(wrapped)
            else:
                wrapped = [_wrap(arg, f"{caller}: argument {position}")]
                call_args[position] = wrapped[0]
            wrapped_at[position] = wrapped
        inputs.extend(wrapped_at[position])
        shapes.append(len(arg) if isinstance(arg, (list, tuple)) else None)
    return call_args, inputs, shapes, single


def call_inside(f: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """Call ``f`` as a transform does: operations inside know an outer transform is running."""
    with changed(transform_depth=current().transform_depth + 1):
        return f(*args, **kwargs)


def scalar_output(y: Any, caller: str) -> Value | float:
    """``y`` if it is a Value, a number as a float; a TypeError naming ``caller`` otherwise."""
    if isinstance(y, Value):
        return y
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return float(y)
    hint = "; use jacobian for a function with several outputs" if isinstance(y, (list, tuple)) else ""
    raise TypeError(f"{caller}: the function must return a scalar (Value or number), got {type(y).__name__}{hint}")

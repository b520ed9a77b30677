"""What callers pass to the checks, read and named: the loss, parameters, and f's arguments laid out flat."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from autograd.arguments import Shape, shape_of
from autograd.arrays import is_array
from autograd.engine import Value
from autograd.testing.tolerances import finite_number


def checked_loss(loss: object, caller: str) -> Value:
    """``loss`` if it is a Value; a TypeError naming ``caller`` otherwise."""
    if not isinstance(loss, Value):
        raise TypeError(f"{caller}: loss must be a Value, got {type(loss).__name__}")
    return loss


def named_parameters(parameters: Any) -> list[tuple[str, Value]]:
    """(name, Value) pairs from a model, a mapping, pairs, or plain Values (named by label or position)."""
    if hasattr(parameters, "named_parameters"):
        parameters = parameters.named_parameters()
    if isinstance(parameters, Mapping):
        parameters = parameters.items()
    if not isinstance(parameters, Iterable) or isinstance(parameters, (str, Value)):
        raise TypeError(
            "check_parameters: parameters must be a model with named_parameters(), a mapping or pairs of "
            f"(name, Value), or Values; got {type(parameters).__name__}"
        )
    pairs = []
    for k, item in enumerate(parameters):
        name, value = (item.label or f"parameters[{k}]", item) if isinstance(item, Value) else item
        if not isinstance(value, Value):
            raise TypeError(f"check_parameters: parameter {name!r} must be a Value, got {type(value).__name__}")
        pairs.append((str(name), value))
    if not pairs:
        raise ValueError("check_parameters: nothing to check (no parameters given)")
    names = [name for name, _ in pairs]
    if len(set(names)) < len(names):  # repeated labels: say which one is which
        pairs = [(f"[{k}] {name}", value) for k, (name, value) in enumerate(pairs)]
    return pairs


def parameter_names(f: Callable[..., Any], count: int) -> list[str]:
    """f's positional parameter names for the first ``count`` arguments (x0, x1, ... where unknown)."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [names[i] if i < len(names) else f"x{i}" for i in range(count)]


def flatten_arguments(f: Callable[..., Any], args: Sequence[Any]) -> tuple[list[str], list[float], list[Shape]]:
    """Row names and values of every scalar in ``args`` (lists and arrays laid out flat), and the shapes
    to rebuild them: ``x``, ``w[0]``, ``W[1,0]``."""
    names: list[str] = []
    point: list[float] = []
    shapes: list[Shape] = []
    for arg_name, arg in zip(parameter_names(f, len(args)), args, strict=True):
        if is_array(arg):
            items = [(f"{arg_name}[{','.join(map(str, index))}]", x) for index, x in _entries(arg)]
        elif isinstance(arg, (list, tuple)):
            items = [(f"{arg_name}[{k}]", x) for k, x in enumerate(arg)]
        else:
            items = [(arg_name, arg)]
        shapes.append(shape_of(arg))
        for name, x in items:
            names.append(x.label if isinstance(x, Value) and x.label else name)
            point.append(finite_number(x, f"gradcheck: argument {name}"))
    if not point:
        raise ValueError("gradcheck: give at least one number to differentiate")
    return names, point, shapes


def _entries(array: Any) -> Iterable[tuple[tuple[int, ...], Any]]:
    """``np.ndenumerate(array)``: numpy is imported already, since ``array`` is one of its arrays."""
    import numpy as np

    return np.ndenumerate(array)

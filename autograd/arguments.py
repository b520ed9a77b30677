"""The layout of differentiated arguments, shared by the functional API and the gradient checks.

An argument is a scalar or a list (or tuple) of scalars. Derivatives are computed over all of them
laid out flat, in order; ``shapes`` records how to rebuild the arguments' structure: None for a
scalar, the length for a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Shape = int | None


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

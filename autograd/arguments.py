"""Differentiated arguments, shared by the functional API, forward mode and the gradient checks.

An argument is a scalar, a list (or tuple) of scalars, or a numpy array of any shape. ``prepare``
replaces the selected ones by fresh nodes (an array by an object array of nodes, shaped like it);
derivatives are computed over all of them laid out flat, in order, and ``shapes`` records how to
rebuild the arguments' structure: None for a scalar, the length for a list, the shape (a tuple)
for an array, so a gradient comes back as a number, a list or an array of the argument's shape.
Scalars and lists never import numpy: only where an array came in or went out (so numpy is loaded
already) does the code here call it.

The arguments that are not differentiated: a float (Python's or numpy's) or a list of floats
arrives as constant Values, so method syntax (``y.sigmoid()``) works on it; an int arrives as it
is, since it is so often a count or an index; so does everything else (arrays, strings, models).

Sizes are capped before any node is made, since the engine makes one Value per number: see
``MAX_INPUTS`` and ``MAX_ENTRIES`` below, which a user with the memory and the time may raise.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Union

from autograd.arrays import is_array, is_numpy_float
from autograd.engine import Value, apply, as_float
from autograd.modes import changed, current
from autograd.rules import IDENTITY

if TYPE_CHECKING:
    import numpy as np

Shape = Union[int, tuple[int, ...], None]  # a list's length, an array's shape, None for a scalar
ArgNums = Union[int, Sequence[int]]

MAX_INPUTS = 1_000_000
"""The most numbers one call of a transform turns into Values. A Value is 80 bytes and its float 24;
with even the smallest function's graph (sum(x * x)) a number costs about 500 bytes and 10 µs, so a
million is half a gigabyte and ten seconds: past that a scalar engine is the wrong tool, and
``autograd.compile``, which runs one graph over a batch held in arrays, the right one."""

MAX_ENTRIES = 10_000_000
"""The most derivatives a ``jacobian``, ``jacfwd`` or ``hessian`` computes in one call: outputs x inputs
(n x n for a Hessian). Ten million floats are 80 MB as an array and over 300 MB as the lists built on
the way, and each row or column is a pass over the graph; ``jvp``, ``vjp`` and ``hvp`` give the
products with a vector without building the matrix."""


def unflatten(flat: Sequence[Any], shapes: Sequence[Shape], single: bool) -> Any:
    """The flat items regrouped as the arguments were: one item per scalar, a list per list, an array
    of the same shape per array (of floats, or of Values where the items are Values).

    With ``single`` the lone argument's result itself, otherwise a tuple with one entry per argument.
    """
    parts: list[Any] = []
    position = 0
    for shape in shapes:
        if shape is None:
            parts.append(flat[position])
            position += 1
        elif isinstance(shape, tuple):
            size = math.prod(shape)
            parts.append(as_array(flat[position : position + size], shape))
            position += size
        else:
            parts.append(list(flat[position : position + shape]))
            position += shape
    return parts[0] if single else tuple(parts)


def flatten(structure: Any) -> list[Any]:
    """The inverse of :func:`unflatten`: a result, or a tuple of results, laid out flat."""
    items = structure if isinstance(structure, tuple) else (structure,)
    return [y for item in items for y in _items(item)]


def _items(item: Any) -> list[Any]:
    if isinstance(item, list):
        return item
    if is_array(item):
        return list(item.ravel())
    return [item]


def outputs_of(result: Any) -> list[Any]:
    """A function's result as the list of its outputs: a list's items, an array's in order, or itself."""
    if is_array(result):
        return list(result.ravel())
    return list(result) if isinstance(result, (list, tuple)) else [result]


def arrange_jacobian(rows: list[list[Any]], result: Any, shapes: Sequence[Shape], square: bool = False) -> Any:
    """The rows d y_i / d x_j laid out as the arguments were: a list of lists for numbers and lists;
    an array of shape (output shape + input shape) when f returns an array or the one argument is
    one (``square``: the outputs are the gradient, shaped like the input, as for a Hessian)."""
    array_in = len(shapes) == 1 and isinstance(shapes[0], tuple)
    if not (array_in or is_array(result)):
        return rows
    sizes = [math.prod(s) if isinstance(s, tuple) else (1 if s is None else s) for s in shapes]
    in_shape: tuple[int, ...] = shapes[0] if array_in else (sum(sizes),)  # type: ignore[assignment]
    if square:
        out_shape = in_shape
    elif is_array(result):
        out_shape = tuple(result.shape)
    else:
        out_shape = (len(rows),) if isinstance(result, (list, tuple)) else ()
    return as_array([d for row in rows for d in row], out_shape + in_shape)


def as_array(items: Sequence[Any], shape: tuple[int, ...]) -> np.ndarray:
    """``items`` as an array of ``shape``: floats if they all are, otherwise an object array (of Values)."""
    import numpy as np  # imported already: an array came in or went out

    if not any(isinstance(x, Value) for x in items):
        return np.array(items, dtype=float).reshape(shape)
    array = np.empty(len(items), dtype=object)
    array[:] = list(items)
    return array.reshape(shape)


# -- preparing a call of a function to differentiate ------------------------------------------


def is_nested(args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """Whether the result must stay differentiable: Values came in, or an outer transform is running."""
    if current().transform_depth > 0:
        return True
    for x in [*args, *kwargs.values()]:
        if isinstance(x, Value) or (isinstance(x, (list, tuple)) and any(isinstance(y, Value) for y in x)):
            return True
        if is_array(x) and x.dtype == object and any(isinstance(y, Value) for y in x.flat):
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


def checked_function(f: object, caller: str) -> None:
    """A TypeError, when the transform is made, if ``f`` cannot be called (not at its first use)."""
    if not callable(f):
        raise TypeError(f"{caller}: f must be callable, got {type(f).__name__} {f!r}")


def _is_index(x: object) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Integral)


def prepare(
    args: Sequence[Any], argnums: ArgNums, caller: str
) -> tuple[list[Any], list[Value], list[Shape], bool]:
    """Replace the differentiated arguments by fresh nodes, and floats not differentiated by constant
    Values; return the call's arguments, the fresh nodes laid out flat and their shapes.

    An argument selected twice (argnums=(0, 0), or 0 and -n) is wrapped once, and its derivative appears
    once per selection: d(x y)/dx for (0, 0) is (y, y).
    """
    single = isinstance(argnums, int) or _is_index(argnums)
    call_args = list(args)
    inputs: list[Value] = []
    shapes: list[Shape] = []
    wrapped_at: dict[int, list[Value]] = {}
    positions = selected_positions(args, argnums, caller)
    _check_inputs(args, positions, caller)
    for position in positions:
        arg = args[position]
        if position not in wrapped_at:
            call_args[position], wrapped_at[position] = _wrapped(arg, f"{caller}: argument {position}")
        inputs.extend(wrapped_at[position])
        shapes.append(shape_of(arg))
    for position, arg in enumerate(args):
        if position not in wrapped_at:
            call_args[position] = _constant(arg)
    return call_args, inputs, shapes, single


def selected_positions(args: Sequence[Any], argnums: ArgNums, caller: str) -> list[int]:
    """The positions argnums selects in a call with ``args``, once per selection (negative ones counted
    from the end); a ValueError naming the index that does not fit."""
    positions = []
    for index in checked_argnums(argnums, caller):
        if not -len(args) <= index < len(args):
            raise ValueError(
                f"{caller}: argnums={argnums!r} does not fit a call with {len(args)} positional "
                f"arguments: index {index} is out of range"
            )
        positions.append(index % len(args))
    return positions


def size_of(arg: Any) -> int:
    """How many numbers an argument holds: an array's size, a list's length, 1 for a scalar."""
    if is_array(arg):
        return int(arg.size)
    return len(arg) if isinstance(arg, (list, tuple)) else 1


def _check_inputs(args: Sequence[Any], positions: Sequence[int], caller: str) -> None:
    """A ValueError, before any node is made, if the call would turn more than ``MAX_INPUTS`` numbers into Values."""
    sizes = {position: size_of(args[position]) for position in positions}
    constants = [p for p, arg in enumerate(args) if p not in sizes and isinstance(arg, (list, tuple))]
    sizes.update({position: len(args[position]) for position in constants})
    if sum(sizes.values()) <= MAX_INPUTS:
        return  # the usual case, decided without looking inside any list
    for position in constants:  # only a list of floats becomes constant Values (see _constant)
        if not all(_is_float(x) for x in args[position]):
            del sizes[position]
    total = sum(sizes.values())
    if total <= MAX_INPUTS:
        return
    largest = max(sizes, key=sizes.__getitem__)
    others = f" ({total:,} with the other arguments)" if total > sizes[largest] else ""
    raise ValueError(
        f"{caller}: argument {largest} holds {sizes[largest]:,} numbers{others}, more than "
        f"autograd.arguments.MAX_INPUTS = {MAX_INPUTS:,}: the engine makes a Value per number, with its "
        "share of the graph about 500 bytes; for a batch of samples use autograd.compile, which runs the "
        "graph on arrays, or raise the cap"
    )


def check_entries(rows: int, columns: int, caller: str, instead: str) -> None:
    """A ValueError if a rows x columns matrix of derivatives is more than ``MAX_ENTRIES``: before any pass."""
    if rows * columns > MAX_ENTRIES:
        raise ValueError(
            f"{caller}: {rows:,} outputs by {columns:,} inputs make {rows * columns:,} derivatives, more than "
            f"autograd.arguments.MAX_ENTRIES = {MAX_ENTRIES:,}; {instead}, or raise the cap"
        )


def check_hessian_size(args: Sequence[Any], argnums: ArgNums, caller: str) -> None:
    """A ValueError, before any node is made, if the n x n Hessian of the selected arguments is too large."""
    positions = selected_positions(args, argnums, caller)
    n = sum(size_of(args[position]) for position in positions)  # per selection: (0, 0) is twice the rows
    if n * n > MAX_ENTRIES:
        largest = max(positions, key=lambda position: size_of(args[position]))
        raise ValueError(
            f"{caller}: argument {largest} holds {size_of(args[largest]):,} numbers ({n:,} in all), so the "
            f"Hessian would hold {n:,} x {n:,} = {n * n:,} entries, more than autograd.arguments.MAX_ENTRIES = "
            f"{MAX_ENTRIES:,}; hvp gives its product with a vector without building it, or raise the cap"
        )


def shape_of(arg: Any) -> Shape:
    """How to rebuild an argument from its flat items: None, a list's length, or an array's shape."""
    if is_array(arg):
        return tuple(arg.shape)
    return len(arg) if isinstance(arg, (list, tuple)) else None


def _wrapped(arg: Any, where: str) -> tuple[Any, list[Value]]:
    """The argument with each number replaced by a fresh node, and those nodes in order."""
    if is_array(arg):
        if arg.dtype.kind not in "biuf" and arg.dtype != object:
            raise TypeError(f"{where}: an array to differentiate must hold real numbers, got dtype {arg.dtype}")
        import numpy as np  # imported already: arg is an array

        nodes = [_wrap(x, f"{where}{list(i)}") for i, x in np.ndenumerate(arg)]
        return as_array(nodes, arg.shape), nodes
    if isinstance(arg, (list, tuple)):
        nodes = [_wrap(x, f"{where}[{k}]") for k, x in enumerate(arg)]
        return type(arg)(nodes), nodes
    node = _wrap(arg, where)
    return node, [node]


def _constant(arg: Any) -> Any:
    """A float not being differentiated as a constant Value (a list of floats as a list of them)."""
    if _is_float(arg):
        return Value(float(arg))
    if isinstance(arg, (list, tuple)) and arg and all(_is_float(x) for x in arg):
        return type(arg)(Value(float(x)) for x in arg)
    return arg


def _is_float(x: object) -> bool:
    return isinstance(x, float) or is_numpy_float(x)


def call_inside(f: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """Call ``f`` as a transform does: operations inside know an outer transform is running."""
    with changed(transform_depth=current().transform_depth + 1):
        return f(*args, **kwargs)


def scalar_output(y: Any, caller: str, position: int | None = None) -> Value | float:
    """``y`` if it is a Value, a real number (Python's or numpy's, a 0-d array's) as a float; a TypeError
    naming ``caller`` otherwise, and ``position``, the output's place among several.

    A bool is refused: a function returning a comparison is a mistake, not a 0 or a 1 to differentiate.
    """
    if isinstance(y, Value):
        return y
    if is_array(y) and y.ndim == 0:  # numpy's scalar in an array: its one item
        y = y[()]
        if isinstance(y, Value):
            return y
    if isinstance(y, numbers.Real) and not isinstance(y, bool):
        return as_float(y, f"{caller}: the function's result" if position is None else f"{caller}: output {position}")
    kind = type(y).__name__
    if position is not None:  # one of several outputs: a list here is a list of lists
        raise TypeError(
            f"{caller}: the function must return a scalar (Value or number) or a flat list or array of them, "
            f"got {kind} as output {position}"
        )
    several = isinstance(y, (list, tuple)) or (is_array(y) and y.ndim > 0)
    hint = "; use jacobian for a function with several outputs" if several else ""
    raise TypeError(f"{caller}: the function must return a scalar (Value or number), got {kind}{hint}")


def scalar_outputs(result: Any, caller: str) -> list[Value | float]:
    """A function's result as the list of its outputs (a list's or an array's items in order, or itself),
    each checked by :func:`scalar_output`."""
    if isinstance(result, (list, tuple)) or (is_array(result) and result.ndim > 0):
        return [scalar_output(y, caller, k) for k, y in enumerate(outputs_of(result))]
    return [scalar_output(result, caller)]

"""Derivatives as functions: ``grad``, ``value_and_grad``, ``jacobian``, ``hessian``.

They compose: ``grad(grad(f))`` is the second derivative. Called with floats they return floats;
called with Values, or from inside another of these transforms, they return Values that can be
differentiated again. They never read or write any ``.grad``.

Each differentiated argument is a number (or Value) or a list/tuple of them; the gradient has the
same shape. ``jacobian`` and ``hessian`` lay the selected arguments out flat, in order.
"""

from __future__ import annotations

import functools
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any, Union

from autograd.arguments import flatten, unflatten
from autograd.backward import gradients
from autograd.engine import Value, apply, as_float
from autograd.modes import changed, current
from autograd.rules import IDENTITY

ArgNums = Union[int, Sequence[int]]
Function = Callable[..., Any]


def grad(f: Function, argnums: ArgNums = 0) -> Function:
    """The function computing df/dx for the argument(s) ``argnums`` of a scalar function ``f``.

    >>> grad(lambda x: x ** 3)(2.0)
    12.0
    >>> grad(grad(lambda x: x ** 3))(2.0)
    12.0
    """
    value_and_grad_f = _value_and_grad(f, argnums, "grad")

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def value_and_grad(f: Function, argnums: ArgNums = 0) -> Function:
    """Like :func:`grad`, but the function returns ``(f(*args), gradient)`` from one forward pass."""
    return _value_and_grad(f, argnums, "value_and_grad")


def _value_and_grad(f: Function, argnums: ArgNums, caller: str) -> Function:
    _argnums(argnums, caller)  # a wrong type is refused here, the range at the call

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        nested = _is_nested(args, kwargs)
        call_args, inputs, shapes, single = _prepare(args, argnums, caller)
        out = _scalar_output(_call(f, call_args, kwargs), caller)
        grads = gradients(out, inputs, create_graph=nested)
        value = out if nested else float(out)
        return value, unflatten(grads if nested else [float(g) for g in grads], shapes, single)

    return value_and_grad_f


def jacobian(f: Function, argnums: ArgNums = 0) -> Function:
    """The function computing J[i][j] = d f_i / d x_j, for ``f`` returning a list of scalars.

    Columns follow the selected arguments laid out flat; a scalar-valued ``f`` gives one row.
    """
    return _jacobian(f, argnums, "jacobian")


def _jacobian(f: Function, argnums: ArgNums, caller: str) -> Function:
    _argnums(argnums, caller)

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> list[list[Any]]:
        nested = _is_nested(args, kwargs)
        call_args, inputs, _, _ = _prepare(args, argnums, caller)
        result = _call(f, call_args, kwargs)
        outputs = result if isinstance(result, (list, tuple)) else [result]
        rows = [gradients(_scalar_output(y, caller), inputs, create_graph=nested) for y in outputs]
        return rows if nested else [[float(d) for d in row] for row in rows]

    return jacobian_f


def hessian(f: Function, argnums: ArgNums = 0) -> Function:
    """The function computing H[i][j] = d2 f / dx_i dx_j (a list of lists): the jacobian of the gradient.

    >>> hessian(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    [[4.0, 6.0], [6.0, 0.0]]
    """
    grad_f = _value_and_grad(f, argnums, "hessian")

    def flat_grad_f(*args: Any, **kwargs: Any) -> list[Any]:
        return flatten(grad_f(*args, **kwargs)[1])

    return functools.wraps(f)(_jacobian(flat_grad_f, argnums, "hessian"))


# -- helpers --------------------------------------------------------------------------------


def _is_nested(args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
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


def _argnums(argnums: object, caller: str) -> list[int]:
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


def _prepare(
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
    for index in _argnums(argnums, caller):
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


def _call(f: Function, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    with changed(transform_depth=current().transform_depth + 1):
        return f(*args, **kwargs)


def _scalar_output(y: Any, caller: str) -> Value | float:
    if isinstance(y, Value):
        return y
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return float(y)
    hint = "; use jacobian for a function with several outputs" if isinstance(y, (list, tuple)) else ""
    raise TypeError(f"{caller}: the function must return a scalar (Value or number), got {type(y).__name__}{hint}")

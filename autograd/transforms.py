"""Derivatives as functions: ``grad``, ``value_and_grad``, ``jacobian``, ``hessian``.

They compose: ``grad(grad(f))`` is the second derivative. Called with floats they return floats;
called with Values, or from inside another of these transforms, they return Values that can be
differentiated again. They never read or write any ``.grad``.

Each differentiated argument is a number (or Value) or a list/tuple of them; the gradient has the
same shape. ``jacobian`` and ``hessian`` lay the selected arguments out flat, in order. Sizes a
scalar engine cannot carry are refused before any node is made (``autograd.arguments.MAX_INPUTS``
numbers to differentiate, ``MAX_ENTRIES`` derivatives in a Jacobian or Hessian).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from autograd.arguments import (
    ArgNums,
    arrange_jacobian,
    call_inside,
    check_entries,
    check_hessian_size,
    checked_argnums,
    checked_function,
    flatten,
    is_nested,
    prepare,
    scalar_output,
    scalar_outputs,
    unflatten,
)
from autograd.backward import gradients

Function = Callable[..., Any]


def grad(f: Function, argnums: ArgNums = 0) -> Function:
    """The function computing df/dx for the argument(s) ``argnums`` of a scalar function ``f``.

    >>> grad(lambda x: x ** 3)(2.0)
    12.0
    >>> grad(grad(lambda x: x ** 3))(2.0)
    12.0
    """
    return grad_for("grad", f, argnums)


def grad_for(caller: str, f: Function, argnums: ArgNums) -> Function:
    """:func:`grad`, its errors naming ``caller``: the transforms built on a gradient (hvp) say their own name."""
    value_and_grad_f = _value_and_grad(f, argnums, caller)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def value_and_grad(f: Function, argnums: ArgNums = 0) -> Function:
    """Like :func:`grad`, but the function returns ``(f(*args), gradient)`` from one forward pass."""
    return _value_and_grad(f, argnums, "value_and_grad")


def _value_and_grad(f: Function, argnums: ArgNums, caller: str) -> Function:
    checked_function(f, caller)
    checked_argnums(argnums, caller)  # a wrong type is refused here, the range at the call

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        nested = is_nested(args, kwargs)
        call_args, inputs, shapes, single = prepare(args, argnums, caller)
        out = scalar_output(call_inside(f, call_args, kwargs), caller)
        grads = gradients(out, inputs, create_graph=nested)
        value = out if nested else float(out)
        return value, unflatten(grads if nested else [float(g) for g in grads], shapes, single)

    return value_and_grad_f


def jacobian(f: Function, argnums: ArgNums = 0) -> Function:
    """The function computing J[i][j] = d f_i / d x_j, for ``f`` returning a list of scalars.

    Columns follow the selected arguments laid out flat; a scalar-valued ``f`` gives one row. With a
    numpy array as the one selected argument, or an array returned, J is an array of shape
    (output shape + input shape), as in JAX.
    """
    return _jacobian(f, argnums, "jacobian")


def _jacobian(f: Function, argnums: ArgNums, caller: str, square: bool = False) -> Function:
    checked_function(f, caller)
    checked_argnums(argnums, caller)

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        if square:  # a Hessian's size is known from the arguments alone: refused before any node is made
            check_hessian_size(args, argnums, caller)
        nested = is_nested(args, kwargs)
        call_args, inputs, shapes, _ = prepare(args, argnums, caller)
        result = call_inside(f, call_args, kwargs)
        outputs = scalar_outputs(result, caller)
        check_entries(len(outputs), len(inputs), caller, "jvp and vjp give its products with a vector without it")
        rows = [gradients(y, inputs, create_graph=nested) for y in outputs]
        return arrange_jacobian(rows if nested else [[float(d) for d in row] for row in rows], result, shapes, square)

    return jacobian_f


def hessian(f: Function, argnums: ArgNums = 0) -> Function:
    """The function computing H[i][j] = d2 f / dx_i dx_j (a list of lists): the jacobian of the gradient.

    For a numpy array x of shape s, H is an array of shape s + s.

    >>> hessian(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    [[4.0, 6.0], [6.0, 0.0]]
    """
    grad_f = _value_and_grad(f, argnums, "hessian")

    def flat_grad_f(*args: Any, **kwargs: Any) -> list[Any]:
        return flatten(grad_f(*args, **kwargs)[1])

    return functools.wraps(f)(_jacobian(flat_grad_f, argnums, "hessian", square=True))

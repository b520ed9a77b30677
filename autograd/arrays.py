"""The numpy halves of the rule table: :class:`ArrayRule`, and what an op's array rule needs beyond a
plain numpy function.

``rules.py`` gives each op an ``ArrayRule(forward, vjp, ieee)`` on its row, and the helpers here are
the parts of those rows that do not fit on one line. Operands are float arrays of shape (batch, k)
(k nodes of the op side by side), or (k,) for parameters and constants shared by the whole batch.
Each helper gives the same numbers as the float helper of the same name in ``rules.py``, NaN in,
NaN out included. Where a float helper raises (log of 0, division by 0), its array helper raises
``FloatingPointError`` instead, and the compiled executor reruns the scalar rule element by element
to raise the scalar error naming the sample. Nothing here imports the rest of the package.

numpy is imported on first use, not with the package: the scalar engine runs where numpy is not
installed (Pyodide). ``np`` below is a stand-in until then (the first attribute read imports numpy and
puts the module in its place, so the helpers pay nothing afterwards), a row names a numpy function as
``numpy_function.add`` (looked up when compile first reads the row), and :func:`require_numpy` raises
the ImportError that names the feature and how to install numpy. :func:`is_array` asks whether
something is an array without importing numpy: an array exists only once numpy has been imported.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

if TYPE_CHECKING:
    import numpy as np

Array = Any  # an ndarray, or a float where a vjp gives a constant

INSTALL = "pip install numpy (in Pyodide or JupyterLite: %pip install numpy, or await micropip.install('numpy'))"


def require_numpy(feature: str) -> ModuleType:
    """numpy, imported now; a ModuleNotFoundError saying that ``feature`` needs it, and how to install
    it, where numpy cannot be imported. The scalar engine itself never needs it."""
    try:
        import numpy
    except ImportError as error:
        raise ModuleNotFoundError(f"{feature} needs numpy, which is not installed: {INSTALL}", name="numpy") from error
    return numpy


def numpy_installed() -> bool:
    """Whether numpy can be imported, found without importing it."""
    try:
        return importlib.util.find_spec("numpy") is not None
    except (ImportError, ValueError):
        return False


def is_array(x: object) -> TypeGuard[np.ndarray]:
    """Whether ``x`` is a numpy array; never imports numpy (no array exists before it is imported)."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(x, numpy.ndarray)


def is_numpy_float(x: object) -> bool:
    """Whether ``x`` is one of numpy's float scalars (np.float64, np.float32...); never imports numpy."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(x, numpy.floating)


class _NumpyOnFirstUse:
    """Stands for numpy in this module until an array helper first reads an attribute of it: then numpy is
    imported (or the ImportError naming compile raised) and replaces this object as the module's ``np``."""

    def __getattr__(self, name: str) -> Any:
        numpy = require_numpy("autograd.compile (the array rules of the ops)")
        globals()["np"] = numpy
        return getattr(numpy, name)


if not TYPE_CHECKING:
    np = _NumpyOnFirstUse()


class NumpyFunction(NamedTuple):
    """numpy's function ``name`` on a row of the rule table, looked up when the row's rule is first used."""

    name: str

    def resolve(self) -> Callable[..., Any]:
        numpy = require_numpy(f"autograd.compile (numpy.{self.name}, an array rule)")
        function: Callable[..., Any] = getattr(numpy, self.name)
        return function

    def __repr__(self) -> str:
        return f"numpy.{self.name}"


class _NumpyFunctions:
    """``numpy_function.add`` is ``NumpyFunction("add")``: a row reads as it would with numpy imported."""

    def __getattr__(self, name: str) -> NumpyFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return NumpyFunction(name)


numpy_function = _NumpyFunctions()

Forward = Callable[..., Any]


class ArrayRule:
    """An op over a batch, for ``autograd.compile``: ``forward(*arrays)`` and ``vjp(g, *arrays, out)``.

    Arrays are (batch, k) for k nodes side by side, or (k,) for what every sample shares. ``vjp`` left
    out means the op's scalar vjp, for rules written with operators that work on arrays as they are.
    ``ieee``: the op may give inf or NaN from finite numbers, as + - * do, or its scalar rules never raise
    (relu: there is no error to find); for any other op a result that is not finite makes the executor
    rerun the scalar rule, which raises its error for the sample.

    ``forward`` or ``vjp`` may be a :class:`NumpyFunction` (``numpy_function.exp``): it is looked up the
    first time either is read, and from then on the attribute is numpy's function itself, read as fast
    as any other (a slot, as a NamedTuple's field).
    """

    __slots__ = ("_named", "forward", "ieee", "vjp")
    forward: Forward
    vjp: Callable[..., Sequence[Any]] | None
    ieee: bool

    def __init__(
        self,
        forward: Forward | NumpyFunction,
        vjp: Callable[..., Sequence[Any]] | NumpyFunction | None = None,
        ieee: bool = False,
    ) -> None:
        given = {"forward": forward, "vjp": vjp}
        self._named = {field: f for field, f in given.items() if isinstance(f, NumpyFunction)}
        for field, f in given.items():
            if field not in self._named:
                setattr(self, field, f)
        self.ieee = ieee
        if self._named:
            self.__class__ = _NotLookedUp  # until the first read of forward or vjp

    def _given(self, field: str) -> Any:
        """The field as given (a numpy function by its name, looked up or not): nothing is imported, and a
        rule compares, hashes and prints the same before and after compile has used it."""
        return self._named[field] if field in self._named else getattr(self, field)

    def __reduce__(self) -> tuple[type[ArrayRule], tuple[Any, ...]]:
        """Copied and pickled as given, so that copying a rule never imports numpy."""
        return ArrayRule, tuple(self._given(f) for f in ("forward", "vjp", "ieee"))

    def _replace(self, **changes: Any) -> ArrayRule:
        """A copy with some fields changed, as a NamedTuple's ``_replace``."""
        fields = {field: self._given(field) for field in ("forward", "vjp", "ieee")}
        return ArrayRule(**{**fields, **changes})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayRule):
            return NotImplemented
        return all(self._given(f) == other._given(f) for f in ("forward", "vjp", "ieee"))

    def __hash__(self) -> int:
        return hash(tuple(self._given(f) for f in ("forward", "vjp", "ieee")))

    def __repr__(self) -> str:
        return "ArrayRule({})".format(", ".join(f"{f}={_shown(self._given(f))}" for f in ("forward", "vjp", "ieee")))


class _NotLookedUp(ArrayRule):
    """An ArrayRule whose numpy functions have not been looked up: the first read of ``forward`` or ``vjp``
    (an empty slot) imports numpy, fills both slots, and makes the rule a plain ArrayRule, so that no read
    after it pays for this ``__getattr__``."""

    __slots__ = ()

    def __getattr__(self, field: str) -> Any:
        if field not in ("forward", "vjp"):
            raise AttributeError(f"'ArrayRule' object has no attribute {field!r}")
        for name, function in self._named.items():
            setattr(self, name, function.resolve())
        object.__setattr__(self, "__class__", ArrayRule)  # a plain ArrayRule from now on
        return getattr(self, field)


def _shown(given: object) -> str:
    """A field of an ArrayRule as its repr shows it: ``numpy.add``, ``autograd.arrays.divide``, ``True``."""
    name = getattr(given, "__qualname__", getattr(given, "__name__", None))
    if name is None or isinstance(given, NumpyFunction):
        return repr(given)
    module = getattr(given, "__module__", None)
    return f"{module}.{name}" if module else str(name)


def where_positive(x: Array, positive: Array, other: Array) -> Array:
    """``positive`` where x > 0, ``other`` where x <= 0, NaN where x is NaN (NaN in, NaN out)."""
    out = np.where(x > 0.0, positive, other)
    nan = np.isnan(x)
    return np.where(nan, np.nan, out) if nan.any() else out  # the second pass only where there is a NaN


def relu_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (where_positive(x, g, 0.0),)


def leaky_relu_vjp(g: Array, x: Array, a: Array, out: Array) -> tuple[Array]:
    return (where_positive(x, g, g * a),)


def abs_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    """g sign(x), 0 at 0, NaN at NaN."""
    return (np.where(x > 0.0, g, np.where(x < 0.0, -g, np.where(x == 0.0, 0.0, np.nan))),)


def exponent_vjp(g: Array, base: Array, out: Array) -> Array:
    """g d(b ** y)/dy = g b ** y log b for b > 0, 0 for b = 0, NaN for b < 0 (as rules' float helper)."""
    positive = base > 0.0
    return np.where(positive, g * out * np.log(np.where(positive, base, 1.0)), np.where(base == 0.0, 0.0, np.nan))


def pow_const_vjp(g: Array, x: Array, k: Array, out: Array) -> tuple[Array]:
    zero = np.where(x == x, 0.0, np.nan)  # d(x ** 0)/dx: 0, NaN at NaN
    safe_k = np.where(k == 0.0, 1.0, k)  # x ** -1 at x = 0 is never needed where k = 0
    return (np.where(k == 0.0, zero, g * k * np.power(x, safe_k - 1.0)),)


def pow_vjp(g: Array, x: Array, y: Array, out: Array) -> tuple[Array, Array]:
    return g * y * np.power(x, y - 1.0), exponent_vjp(g, x, out)


def rpow_vjp(g: Array, x: Array, c: Array, out: Array) -> tuple[Array]:
    return (exponent_vjp(g, c, out),)


def power(x: Array, k: Array) -> Array:
    """x ** k; a negative base with a non-integer (or infinite) exponent raises, as the float rule does."""
    # floor(inf) is inf, so an infinite exponent passes for an integer unless asked; a NaN one gives NaN.
    if np.any((x < 0.0) & (((k != np.floor(k)) & (k == k)) | np.isinf(k))):
        raise FloatingPointError("a negative base with a non-integer exponent")  # the executor names the sample
    out = np.power(x, k)
    return np.where((x != x) | (k != k), np.nan, out)  # NaN in, NaN out: even x ** 0 and 1 ** x


def fsum(values: Sequence[float]) -> float:
    """The exactly rounded sum (math.fsum), following IEEE 754 where fsum raises: inf - inf is NaN, and an
    overflow on the way gives inf, as + does."""
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        total = 0.0
        for x in values:
            total += x
        return total


def rpow(x: Array, c: Array) -> Array:
    return power(c, x)


def _stack(xs: Sequence[Array]) -> Array:
    """The operands broadcast to one shape and laid side by side on a new last axis."""
    shape = np.shape(xs[0])
    # Columns (batch, 1) of one shape, as a classifier's scores: joined by one C call, without broadcasting.
    if shape[-1:] == (1,) and all(getattr(x, "shape", None) == shape for x in xs):
        return np.concatenate(xs, axis=-1).reshape(*shape, len(xs))
    return np.stack(np.broadcast_arrays(*xs), axis=-1)


def total(*xs: Array) -> Array:
    return functools.reduce(np.add, xs)


def dot(*ws_then_xs: Array) -> Array:
    n = len(ws_then_xs) // 2
    return functools.reduce(np.add, (w * x for w, x in zip(ws_then_xs[:n], ws_then_xs[n:], strict=True)))


def logsumexp(*xs: Array) -> Array:
    """log sum_i e^(x_i) = m + log sum_i e^(x_i - m), m = max_i x_i (no overflow); m itself where m is ±inf, NaN
    where an x is NaN."""
    stacked = _stack(xs)
    m = stacked.max(axis=-1)
    if math.isfinite(np.add.reduce(m, axis=None)):  # every m finite (the usual case): no shift to choose
        return m + np.log(np.exp(stacked - m[..., None]).sum(axis=-1))
    finite = np.isfinite(m)
    shift = np.where(finite, m, 0.0)
    with np.errstate(divide="ignore"):
        out = shift + np.log(np.exp(stacked - shift[..., None]).sum(axis=-1))
    return np.where(finite, out, np.where(np.isnan(stacked).any(axis=-1), np.nan, m))


def logsumexp_vjp(g: Array, *xs_then_out: Array) -> list[Array]:
    """g e^(x_i - lse) for each x_i (g times the softmax), all columns in one pass, each handed out as a view."""
    *xs, out = xs_then_out
    partials = np.asarray(g)[..., None] * np.exp(_stack(xs) - np.asarray(out)[..., None])
    return [partials[..., j] for j in range(len(xs))]


def _pick_index(i: Array, n: int) -> Array:
    whole = (i == np.floor(i)) & (i >= 0) & (i < n)
    if not whole.all():
        bad = np.asarray(i)[~whole].ravel()[0]
        raise IndexError(f"pick: index {float(bad)!r} is not a whole number in [0, {n})")
    return np.asarray(i).astype(np.intp)


def pick(*xs_then_i: Array) -> Array:
    *xs, i = xs_then_i
    index = _pick_index(i, len(xs))
    if all(np.ndim(x) <= 1 for x in xs):  # values every sample shares (a table of labels): a lookup per column
        try:  # (k, n): the columns side by side; of one shape (the usual case), without broadcasting them first
            table = np.array(xs, dtype=float).T.reshape(-1, len(xs))
        except ValueError:  # a number beside a column of k
            table = np.stack(np.broadcast_arrays(*xs), axis=-1).reshape(-1, len(xs))
        return table[np.arange(len(table)), index] if np.ndim(index) else table[:, index]
    # Values per sample: the index broadcasts with them ((k,) against (batch, k)).
    stacked = _stack(xs)
    if index.shape != stacked.shape[:-1]:
        *values, index = np.broadcast_arrays(*xs, index)
        stacked = np.stack(values, axis=-1)
    return np.take_along_axis(stacked, index[..., None], axis=-1)[..., 0]


def pick_vjp(g: Array, *xs_then_i_then_out: Array) -> list[Array]:
    """g for the x picked, 0 for the others: every column in one pass, each handed out as a view."""
    n, i = len(xs_then_i_then_out) - 2, xs_then_i_then_out[-2]
    partials = np.where(np.asarray(i)[..., None] == np.arange(n), np.asarray(g)[..., None], 0.0)
    return [partials[..., j] for j in range(n)]


def softplus(x: Array) -> Array:
    return np.where(x > 0.0, x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: Array) -> Array:
    z = np.exp(-np.abs(x))  # never overflows: the two branches of the float sigmoid at once
    return np.where(x >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def softplus_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (g * sigmoid(x),)


def relu(x: Array) -> Array:
    """max(x, 0): NaN stays NaN (np.maximum propagates it), one pass and no mask. At -0.0 numpy may give
    either zero, equal in value to the float rule's 0.0."""
    return np.maximum(x, 0.0)


def leaky_relu(x: Array, a: Array) -> Array:
    return np.where(x > 0.0, x, a * x)


def sin(x: Array) -> Array:
    if np.isinf(x).any():
        raise FloatingPointError("sin of infinity")  # the executor re-runs the scalar rule to name it
    return np.sin(x)


def cos(x: Array) -> Array:
    if np.isinf(x).any():
        raise FloatingPointError("cos of infinity")  # the executor re-runs the scalar rule to name it
    return np.cos(x)


def sin_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (g * np.cos(x),)


def cos_vjp(g: Array, x: Array, out: Array) -> tuple[Array]:
    return (-g * np.sin(x),)


def _outside(inside: Array, x: Array) -> None:
    """A FloatingPointError where ``inside`` is False and x is not NaN, as numpy's invalid-value error would
    be; the executor re-runs the scalar rule to name the sample."""
    if not np.all(inside | np.isnan(x)):
        raise FloatingPointError("outside the domain")


def divide(x: Array, y: Array) -> Array:
    _outside(y != 0.0, x)
    return np.divide(x, y)


def log(x: Array) -> Array:
    _outside(x > 0.0, x)
    return np.log(x)


def sqrt(x: Array) -> Array:
    _outside(x >= 0.0, x)
    return np.sqrt(x)

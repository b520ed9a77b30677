"""``autograd.compile``: per-sample scalar code, traced once and replayed over whole batches with numpy.

>>> import numpy as np, autograd as ag
>>> w = ag.Value(0.5)
>>> loss = ag.compile(lambda x, y: (w * x - y) ** 2)      # one sample's squared error
>>> result = loss(np.array([1.0, 2.0]), np.array([0.0, 2.0]))
>>> result.data                                          # mean of 0.25 and 1.0
0.625
>>> result.backward(); w.grad                            # mean of 2(wx - y)x: 1 and -4
-1.5

The first call traces ``fn`` on the first sample (``tracing.py``), the trace is grouped into array ops
(``plan.py``) and run with each op's array rule (``executor.py``). Later calls whose samples have
the same shapes replay the plan; new sample shapes, or a function that now reads other objects (a
model rebuilt under the same name), trace again.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from operator import attrgetter
from types import CodeType, FunctionType, MethodType, ModuleType
from typing import Any

import numpy as np

from autograd.arrays import fsum
from autograd.compiler.executor import Evaluation, evaluate, naming_the_sample
from autograd.compiler.plan import Plan, build
from autograd.compiler.tracing import trace
from autograd.engine import as_float
from autograd.modes import TracingError, current

_REDUCTIONS = ("mean", "sum", None)
PLANS_KEPT = 8
"""How many plans a compiled function keeps, one per set of sample shapes, before it drops the oldest."""


class Compiled:
    """What :func:`compile` returns: call it on batched arguments to get a :class:`CompiledResult`."""

    def __init__(self, fn: Callable[..., Any], reduce: str | None) -> None:
        self.fn, self.reduce = fn, reduce
        self.traces = 0  # how many times fn was traced
        self.plan: Plan | None = None  # the plan of the latest call
        self._plans: dict[object, tuple[Plan, tuple[object, ...]]] = {}

    def __call__(self, *args: Any) -> CompiledResult:
        return CompiledResult(self, self.evaluate(*args))

    def evaluate(
        self, *args: Any, leaves: np.ndarray | Callable[[Plan], np.ndarray] | None = None, same_objects: bool = False
    ) -> Evaluation:
        """Run the plan over batched ``args``: an :class:`Evaluation` with the per-sample ``outputs`` (an array
        of shape (batch, outputs)) and ``gradients(seed)``, an array of d(sum of seed * outputs)/d(leaf) for
        each of ``plan.leaves``. No ``.grad`` is touched.

        ``leaves``: the numbers to use for ``plan.leaves`` (a float array in that order), such as an
        optimizer's parameter array, or a function of the plan that gives them (the plan may be traced
        by this call); by default the Values' own ``data`` now.

        ``same_objects``: the caller vouches that ``fn`` reads the objects it read when its plans were traced
        (fit's per-sample step holds its model and loss itself, and fit checks the model), so the walk over
        them that would notice a rebinding (``_bindings``, a few microseconds) is skipped for a known plan.
        """
        if not args:
            raise TypeError("compile: call the compiled function with at least one batched argument")
        if current().tracing is not None:
            raise TracingError(
                f"compile: {self!r} called while another function is being compiled: its arguments would be one "
                "sample's traced Values, not batches. Call its per-sample function there instead (compiled.fn)"
            )
        arrays, batch = _batched(args)
        plan = self.plan_for(arrays, same_objects)
        if callable(leaves):
            leaves = leaves(plan)
        if leaves is None:
            leaves = np.fromiter(map(_read_data, plan.leaves), dtype=float, count=len(plan.leaves))
        elif not isinstance(leaves, np.ndarray) or leaves.shape != (len(plan.leaves),) or leaves.dtype != _FLOAT:
            got = f"{type(leaves).__name__} {getattr(leaves, 'shape', '')}".strip()
            raise ValueError(f"compile: leaves must be a float array of shape ({len(plan.leaves)},), one per leaf of "
                             f"the plan, got {got}")  # fmt: skip
        return evaluate(plan, [a.reshape(batch, -1) for a in arrays], leaves)

    def plan_for(self, arrays: list[np.ndarray], same_objects: bool = False) -> Plan:
        """The plan for batched arguments shaped like ``arrays``, traced now if there is none yet (or if ``fn``
        reads other objects now, unless the caller vouches for them: see :meth:`evaluate`)."""
        key = tuple((a.shape[1:], a.dtype.kind) for a in arrays)
        known = self._plans.get(key)
        if known is not None and same_objects:
            self.plan = known[0]
            return known[0]
        bindings = _bindings(self.fn)
        if known is None or not _same(known[1], bindings):
            names = _argument_names(self.fn, len(arrays))
            try:
                traced = trace(self.fn, [a[0] for a in arrays], names)
            except (ArithmeticError, ValueError, IndexError) as error:  # the scalar rules ran on sample #0
                raise naming_the_sample(error, "sample #0 of the batch, met while tracing") from error
            if self.reduce is not None and not traced.single_output:
                raise TypeError(
                    f"compile: reduce={self.reduce!r} needs the function to return one Value (a loss), but it "
                    f"returned {len(traced.outputs)} Values; use reduce=None for per-sample outputs"
                )
            known = (build(traced, [math.prod(a.shape[1:]) for a in arrays]), bindings)
            if len(self._plans) >= PLANS_KEPT:  # the oldest goes: a stream of new sample shapes must not grow memory
                del self._plans[next(iter(self._plans))]
            self._plans[key] = known
            self.traces += 1
        self.plan = known[0]
        return known[0]

    def __repr__(self) -> str:
        return f"compile({getattr(self.fn, '__name__', self.fn)!r}, reduce={self.reduce!r})"


class CompiledResult:
    """The function over a batch: ``data`` (the mean or sum, or per-sample outputs with reduce=None)."""

    def __init__(self, compiled: Compiled, evaluation: Evaluation) -> None:
        self.evaluation, self.reduce = evaluation, compiled.reduce
        outputs = evaluation.outputs
        self.outputs: np.ndarray = outputs[:, 0] if evaluation.plan.single_output else outputs
        if self.reduce is None:
            self.data: float | np.ndarray = self.outputs
        else:
            total = fsum(self.outputs.tolist())  # as the scalar engine adds: inf - inf is NaN, not an error
            self.data = total / len(outputs) if self.reduce == "mean" else total

    def backward(self, gradient: float | np.ndarray | None = None) -> None:
        """Add to ``.grad`` of every Value the function read what the scalar engine would for this batch.

        That is the gradient of the mean (or sum) of the per-sample results; with ``reduce=None``, of
        the sum of ``gradient * outputs`` (``gradient`` an array shaped like ``data``, ones by default).
        """
        seed = self._seed(gradient)
        grads = self.evaluation.gradients(seed)
        plan = self.evaluation.plan
        nodes = (*plan.leaves, *(node for node, _, _ in plan.outer))
        for node, g in zip(nodes, grads.tolist(), strict=True):
            node.grad += g

    def _seed(self, gradient: float | np.ndarray | None) -> np.ndarray:
        batch = self.evaluation.batch
        if self.reduce is not None:
            scale = 1.0 if gradient is None else as_float(gradient, f"backward of a {self.reduce} (gradient)")
            return np.full((batch, 1), scale / batch if self.reduce == "mean" else scale)
        try:
            seed = np.ones(self.outputs.shape) if gradient is None else np.asarray(gradient, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"backward: gradient must be an array of numbers, got {gradient!r}"[:200]) from None
        if seed.shape != self.outputs.shape:
            raise ValueError(f"backward: gradient has shape {seed.shape}, the outputs {self.outputs.shape}")
        return seed.reshape(self.evaluation.outputs.shape)

    def __repr__(self) -> str:
        return f"CompiledResult(data={self.data!r}, batch={self.evaluation.batch})"


def compile(fn: Callable[..., Any], reduce: str | None = "mean") -> Compiled:  # noqa: A001  (autograd.compile, as jax.jit)
    """Compile per-sample scalar code ``fn(*sample)`` to run over batches with numpy.

    ``compiled(*batched)`` takes arrays (or sequences) whose first axis is the batch and returns a
    :class:`CompiledResult` whose ``data`` is the mean (``reduce="sum"``: the sum) of ``fn`` over the
    samples, or with ``reduce=None`` the per-sample outputs as an array. Its ``backward()`` adds to
    the ``.grad`` of every Value ``fn`` read (a model's parameters) exactly what the scalar engine
    adds for the same reduction of the per-sample graphs. A sample of shape (n,) reaches ``fn`` as a
    list of n Values, of shape () as one Value; integer labels arrive as Values too, for ``ag.pick``.

    ``fn`` must not branch on its traced inputs or read their numbers (``if x > 0``, ``float(x)``,
    ``x.data``, ``math.exp(x)``): that raises :class:`autograd.compiler.tracing.TracingError` naming the line.
    The plan keeps the Values ``fn`` read when it was traced (their numbers are read on every call)
    and any plain number ``fn`` computed: replacing a model's Values in place, or a number taken from
    a parameter's ``data``, needs a new compile. A node made before the call from parameters is
    recomputed from them on every call.
    """
    if not callable(fn):
        raise TypeError(f"compile: fn must be a function of one sample, got {type(fn).__name__} {fn!r}"[:200])
    if reduce not in _REDUCTIONS:
        raise ValueError(f"compile: reduce must be 'mean', 'sum' or None, got {reduce!r}")
    return Compiled(fn, reduce)


_read_data = attrgetter("data")
_FLOAT = np.dtype(float)  # compared with as it is: ``dtype != float`` makes a dtype of float at every call


def _batched(args: tuple[Any, ...]) -> tuple[list[np.ndarray], int]:
    arrays = []
    for i, arg in enumerate(args):
        try:
            array = np.asarray(arg)
        except ValueError as error:
            raise ValueError(f"compile: argument {i} is not a rectangular array: {error}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"compile: argument {i} must hold numbers, got dtype {array.dtype}")
        if array.ndim == 0:
            raise ValueError(f"compile: argument {i} is one number; its first axis must be the batch")
        arrays.append(array.astype(float, copy=False))  # int labels too: every column is a float column
    batch = len(arrays[0])
    for i, array in enumerate(arrays):
        if len(array) != batch:
            raise ValueError(f"compile: argument 0 has {batch} samples but argument {i} has {len(array)}")
    if batch == 0:
        raise ValueError("compile: the batch is empty")
    return arrays, batch


def _bindings(fn: Callable[..., Any]) -> tuple[object, ...]:
    """The objects ``fn`` reads: a change of any of them means tracing again.

    What a function's code reads from its closure and its module by name, and, for each of those
    that is a module or an object with attributes, the attributes its code names (``model`` in
    ``self.model(x)`` or ``mymodule.model(x)``). A ``functools.partial`` is read through to its
    function and arguments, a bound method to its function and object, a callable object to its
    ``__call__``. The functions found are read the same way: a helper that reads the model is reading
    it for ``fn``. Names read in comprehensions and lambdas count (their code is nested in fn's). The
    insides of this distribution's, numpy's and the standard modules' functions and objects are not
    walked (see ``_from_a_library``): only their identity counts.
    """
    found: list[object] = []
    seen: set[int] = set()
    pending: list[object] = [fn]
    while pending:
        f = pending.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        start = len(found)
        function, bound = _code_and_objects(f)
        found.extend(bound)
        if function is not None and (f is fn or not _from_a_library(function)):
            for cell in function.__closure__ or ():
                try:
                    found.append(cell.cell_contents)
                except ValueError:  # a cell not yet filled
                    found.append(None)
            names = _names(function.__code__)
            found.extend(function.__globals__[name] for name in names if name in function.__globals__)
            for holder in found[start:]:
                attributes = getattr(holder, "__dict__", None)  # the object's or module's own: no property runs
                if isinstance(attributes, dict) and not isinstance(holder, type) and not _from_a_library(holder):
                    found.extend(attributes[name] for name in names if name in attributes)
        pending.extend(x for x in found[start:] if callable(x) and not isinstance(x, type))
    return tuple(found)


_LIBRARIES = frozenset({"autograd", "nn", "viz", "numpy", "builtins", "math", "functools", "operator", "itertools"})


def _from_a_library(thing: object) -> bool:
    """Whether ``thing`` (a function, a module, or an object by its class's module) belongs to this
    distribution, numpy or the standard modules the engine uses: their insides are not rebound between
    calls, and walking them would cost every call."""
    name = thing.__name__ if isinstance(thing, ModuleType) else getattr(thing, "__module__", None) or ""
    return name.split(".")[0] in _LIBRARIES


def _code_and_objects(f: object) -> tuple[FunctionType | None, list[object]]:
    """The function whose code runs when ``f`` is called, and the objects bound to it."""
    if isinstance(f, functools.partial):
        return None, [f.func, *f.args, *f.keywords.values()]
    if isinstance(f, MethodType):
        return (f.__func__ if isinstance(f.__func__, FunctionType) else None), [f.__self__]
    if isinstance(f, FunctionType):
        return f, []
    # A callable object: its class's __call__ (or a base's), with f as self.
    call = next((vars(klass)["__call__"] for klass in type(f).__mro__ if "__call__" in vars(klass)), None)
    return (call, [f]) if isinstance(call, FunctionType) else (None, [])


def _same(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    return len(old) == len(new) and all(a is b for a, b in zip(old, new, strict=True))


def _names(code: CodeType) -> list[str]:
    """The global names ``code`` and the code nested in it (comprehensions before Python 3.12, lambdas) read."""
    names: list[str] = []
    stack = [code]
    while stack:
        code = stack.pop()
        names.extend(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, CodeType))
    return names


def _argument_names(fn: Callable[..., Any], count: int) -> list[str]:
    code = getattr(fn, "__code__", None)
    names = list(code.co_varnames[: code.co_argcount]) if code is not None else []
    return [names[i] if i < len(names) else f"arg{i}" for i in range(count)]

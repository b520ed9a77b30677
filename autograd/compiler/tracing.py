"""Tracing for ``autograd.compile``: run per-sample code once, on Values that refuse to act as numbers.

The trace is the ordinary scalar graph of the first sample. Its structure is then replayed for every
sample of a batch, so anything that would make the structure depend on a sample's numbers must be
refused while tracing: a branch on a comparison, ``float(v)``, ``v.data``, ``math.exp(v)``, or a
traced label used as a list index. Each raises :class:`TracingError` naming the line and the op to
use instead. Only the nodes of a trace (``TracedValue``) carry these checks; ordinary Values, and
the engine's hot path, are untouched (``apply`` asks the state for the class of the node it makes).
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from autograd.engine import Value
from autograd.modes import TracingError, changed

_DATA: Any = Value.__dict__["data"]  # the slot itself: the engine reads it (engine.number), and TracedValue writes it
_AUTOGRAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # the package, subpackages too


_BRANCH = (
    "the branch taken would be the first sample's for every sample. Write it with ops instead: "
    "relu(x) for max(x, 0), a + relu(b - a) for max(a, b), abs(x), or compute both sides and mix them"
)
_NUMBER = (
    "that takes the number out of the graph, and the compiled code would use the first sample's "
    "number for every sample. Use the Value itself, with its methods and autograd's functions "
    "(x.exp(), ag.log(x), ag.logsumexp(xs)) instead of math's"
)
_INDEX = "a traced index cannot choose a list item: use ag.pick(values, index), which picks per sample"


def _user_line() -> str:
    """``file:line (source)`` of the innermost caller outside autograd, for the error message."""
    frame = sys._getframe(2)
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_AUTOGRAD_DIR):
        frame = frame.f_back
    source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" + (f" ({source})" if source else "")


def _refuse(what: str, why: str) -> NoReturn:
    raise TracingError(f"compile: {what} at {_user_line()}: {why}")


class TracedValue(Value):
    """A node of a trace: a Value whose number cannot be read by the code being traced.

    ``apply`` makes every node of a trace one of these, and compile's per-sample inputs are too. Its
    ``data`` always refuses: the engine reads the number through its own accessor (``engine.number``).
    """

    __slots__ = ()

    @property
    def data(self) -> float:
        _refuse("reading .data of a traced Value", _NUMBER)

    @data.setter
    def data(self, value: float) -> None:
        _DATA.__set__(self, value)

    def __bool__(self) -> bool:
        _refuse("the truth value of a traced Value (an if, and, or, not, or while on it)", _BRANCH)

    def __float__(self) -> float:
        _refuse("float() of a traced Value (or a math function given one)", _NUMBER)

    def __int__(self) -> int:
        _refuse("int() of a traced Value", _NUMBER)

    def __index__(self) -> int:
        _refuse("a traced Value used as an index", _INDEX)

    def __round__(self, ndigits: int | None = None) -> NoReturn:
        _refuse("round() of a traced Value", _NUMBER)

    def __lt__(self, other: object) -> bool:
        _refuse("comparing a traced Value (<, or min/max/sorted)", _BRANCH)

    def __le__(self, other: object) -> bool:
        _refuse("comparing a traced Value (<=)", _BRANCH)

    def __gt__(self, other: object) -> bool:
        _refuse("comparing a traced Value (>, or min/max/sorted)", _BRANCH)

    def __ge__(self, other: object) -> bool:
        _refuse("comparing a traced Value (>=)", _BRANCH)

    def __format__(self, spec: str) -> str:
        if spec:  # f"{x:.3f}" is the number as text: float() of it would be the first sample's for all
            _refuse("formatting the number of a traced Value (a format spec such as :.3f)", _NUMBER)
        return repr(self)

    def detach(self) -> Value:
        _refuse("detach() of a traced Value", _NUMBER)

    __hash__ = Value.__hash__  # defining comparisons does not change identity hashing

    @staticmethod
    def node_class(inputs: tuple[object, ...], recorded: bool) -> type[Value]:
        """The class of a node ``apply`` makes while tracing: a TracedValue, or under ``no_grad`` (where the
        node is cut from the graph) a plain constant Value, refused if it was made from the trace."""
        if recorded:
            return TracedValue
        if any(isinstance(x, TracedValue) for x in inputs):
            _refuse(
                "an op on a traced Value under no_grad()",
                "its result would be cut from the graph, a constant holding the first sample's number for every "
                "sample. Leave no_grad() out of the compiled function",
            )
        return Value


def _input(number: float, label: str) -> TracedValue:
    node = object.__new__(TracedValue)
    _DATA.__set__(node, number)
    node.grad, node.label, node._inputs, node._op, node._scope = 0.0, label, (), None, ()
    return node


class Trace:
    """One traced call: the outputs, and for each input node its argument and flat position."""

    def __init__(self, outputs: list[Value], positions: dict[Value, tuple[int, int]], single_output: bool) -> None:
        self.outputs, self.positions, self.single_output = outputs, positions, single_output


def trace(fn: Callable[..., Any], samples: Sequence[np.ndarray], names: Sequence[str]) -> Trace:
    """Call ``fn`` once on traced inputs holding ``samples`` (one per argument, the first sample of each).

    A sample of shape () arrives as one Value, of shape (n,) as a list of n Values, and of any other
    shape as nested lists of Values.
    """
    positions: dict[Value, tuple[int, int]] = {}
    args: list[Any] = []
    for a, (sample, name) in enumerate(zip(samples, names, strict=True)):
        flat = sample.ravel().tolist()
        nodes = [_input(float(x), name if sample.ndim == 0 else f"{name}[{i}]") for i, x in enumerate(flat)]
        positions.update((node, (a, i)) for i, node in enumerate(nodes))
        args.append(nodes[0] if sample.ndim == 0 else _nest(nodes, sample.shape))
    with changed(tracing=TracedValue, grad_enabled=True):
        result = fn(*args)
    single = isinstance(result, Value)
    outputs = [result] if single else _flat_outputs(result)
    return Trace(outputs, positions, single)


def _nest(nodes: list[TracedValue], shape: tuple[int, ...]) -> list[Any]:
    if len(shape) == 1:
        return list(nodes)
    step = len(nodes) // shape[0]
    return [_nest(nodes[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _flat_outputs(result: Any) -> list[Value]:
    if isinstance(result, np.ndarray):
        result = result.ravel().tolist()
    if isinstance(result, (list, tuple)) and result and all(isinstance(x, Value) for x in result):
        return list(result)
    got = f"{type(result).__name__} {result!r}"[:200]
    raise TypeError(
        f"compile: the function must return a Value (or a non-empty list of Values) computed from its "
        f"arguments, got {got}"
    )


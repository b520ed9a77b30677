"""Tracing for ``autograd.compile``: run per-sample code once, on Values that refuse to act as numbers.

The trace is the ordinary scalar graph of the first sample. Its structure is then replayed for every
sample of a batch, so anything that would make the structure depend on a sample's numbers must be
refused while tracing: a branch on a comparison (``<``, and ``==`` with a number), ``float(v)``,
``v.data``, ``math.exp(v)``, a traced label used as a list index, or an exception that the code
catches (the handler's branch would be taken for every sample). Each raises :class:`TracingError`
naming the line and what to use instead. Only the nodes of a trace (``TracedValue``) carry these
checks; ordinary Values, and the engine's hot path, are untouched (``apply`` asks the state's
:class:`Tracer` for the class of the node it makes, in the branch it takes for ``detect_anomaly``).

A refusal is also recorded on the tracer, so that code which catches it (``except Exception``) still
fails when the trace ends; so is an op that raised (log of a negative number at the first sample).
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from autograd.engine import Op, Value
from autograd.modes import TracingError, changed, current

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
    error = TracingError(f"compile: {what} at {_user_line()}: {why}")
    tracer = current().tracing
    if tracer is None:
        raise TracingError(
            f"compile: {what} at {_user_line()}, outside the trace that made it (in another thread, or after "
            "compile returned): a traced Value holds the first sample's number and belongs to its compiled function"
        )
    tracer.refusals.append(error)
    raise error


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

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Value):
            return self is other  # Values are equal by identity, so the engine's dicts and sets work as ever
        _refuse("comparing a traced Value with == (or in, or a match)", _BRANCH)

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Value):
            return self is not other
        _refuse("comparing a traced Value with !=", _BRANCH)

    def __format__(self, spec: str) -> str:
        if spec:  # f"{x:.3f}" is the number as text: float() of it would be the first sample's for all
            _refuse("formatting the number of a traced Value (a format spec such as :.3f)", _NUMBER)
        return repr(self)

    def __repr__(self) -> str:
        # No number: the first sample's, printed, would be read as if it were every sample's.
        label = f", label={self.label!r}" if self.label else ""
        made = f", op={self.op!r}" if self.op else ""
        return f"TracedValue(one number per sample{label}{made})"

    def detach(self) -> Value:
        _refuse("detach() of a traced Value", _NUMBER)

    __hash__ = Value.__hash__  # defining == does not change identity hashing


class Tracer:
    """The state of one trace: what ``apply`` asks while it runs, and what went wrong inside ``fn``."""

    __slots__ = ("refusals", "failures")

    def __init__(self) -> None:
        self.refusals: list[TracingError] = []  # raised, and perhaps caught by fn
        self.failures: list[str] = []  # ops that raised: where, and the error

    def node_class(self, inputs: tuple[object, ...], recorded: bool) -> type[Value]:
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

    def forward(self, op: Op, numbers: list[float]) -> float:
        """``op``'s forward at the first sample; an error is noted, so that if ``fn`` catches it and goes on,
        the trace is refused."""
        try:
            return op.forward(*numbers)
        except Exception as error:
            if not isinstance(error, TracingError):
                self.failures.append(f"{op.name} raised {type(error).__name__}: {error} at {_user_line()}")
            raise

    def refuse_number(self, value: Value, how: str) -> None:
        """A Value that is not traced (a parameter) read as a number inside ``fn``: refused."""
        _refuse(
            f"{how} of a Value ({value.label or 'unlabelled'}) inside the compiled function",
            "its number would be frozen into the compiled code as a constant, while with compile=False it is read "
            "again at every call (a parameter that training moves). Use the Value itself in the computation",
        )

    def check(self) -> None:
        """After ``fn`` returned: refuse the trace if it caught a refusal or an op's error and went on."""
        if self.refusals:
            raise self.refusals[0]
        if self.failures:
            raise TracingError(
                f"compile: {self.failures[0]}, while tracing the first sample, and the function went on (a "
                "try/except or contextlib.suppress caught it). The branch an exception takes cannot be replayed: "
                "every sample would take the handler's. Compute the value with ops that are defined for every "
                "sample (ag.relu, ag.softplus, a clamp with ops), or check the data before compiling"
            )


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
    tracer = Tracer()
    try:
        with changed(tracing=tracer, grad_enabled=True):
            result = fn(*args)
    except KeyError as error:
        if error.args and isinstance(error.args[0], TracedValue):  # a dict looked up by a traced label
            raise TracingError(
                "compile: a traced Value used as a dict key: the lookup would be by the first sample's Value, "
                "never by its number. Use ag.pick(values, index) to choose per sample"
            ) from None
        raise
    tracer.check()
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


"""The forward half of the engine: the ``Value`` node, the ``Op`` and ``apply``, which records a node.

What each op computes and how it differentiates lives in ``rules.py``, which builds on the classes
here, so this module imports it last: ``Value``'s operators (``+``, ``*``, ``exp`` ...) each hand over
to one row of the rule table. ``Value.backward`` hands over to the reverse pass, ``backward.py``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any, Union

from autograd import backward as _reverse
from autograd.arrays import ArrayRule
from autograd.modes import AnomalyError, current
from autograd.validation import as_float as as_float  # re-exported: other modules take it from here
from autograd.validation import (
    check_op_row,
    checked_forward,
    checked_vjp,
    describe_all,
    finite,
    is_bool,
    leaky_slope,
    value_hint,
)

Number = Union[int, float]
Operand = Union["Value", float]  # apply keeps this true: an operand is a Value or a float, never another type


class Op:
    """A primitive operation: ``forward`` on floats and its vector-Jacobian product ``vjp``.

    ``vjp(g, *inputs, out)`` returns ``g * d(out)/d(input_i)`` for the leading inputs. Written with
    operators and ops only, it runs on floats (a backward pass) and on Values (higher orders).
    The rest of a row (the guide's "Adding an op"): ``kinks``, where it is not differentiable in its first
    input (relu's 0); ``constants``, how many trailing operands get no gradient (an exponent, a slope);
    ``arrays``, an :class:`ArrayRule` for compiled batches (else the scalar rule runs element by
    element); ``complex_forward``, the forward on complex numbers, analytic where the op is, for the
    complex-step checks; ``formula(sympy, *operands)``, its symbolic form; ``noun``, its result in errors.

    Calling an op applies it: plain numbers in, a float out; any Value in, a Value out. User-defined
    ops work exactly like the built-in ones: ``Op("cube", lambda x: x**3, lambda g, x, out: (3 * g * x**2,))``.
    With ``checked`` (the default) a forward that returns anything but a real number, or a vjp that
    returns anything but a tuple of numbers or Values, raises ``TypeError`` naming the op. The
    built-in rules, known to be well-formed, skip these checks.
    """

    __slots__ = ("name", "forward", "vjp", "symbol", "kinks", "constants", "arrays", "complex_forward", "formula",
                 "noun")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        vjp: Callable[..., Sequence[Operand]],
        symbol: str | None = None,
        kinks: Sequence[float] = (),
        *,
        constants: int = 0,
        arrays: ArrayRule | None = None,
        complex_forward: Callable[..., complex] | None = None,
        formula: Callable[..., Any] | None = None,
        noun: str | None = None,
        checked: bool = True,
    ) -> None:
        check_op_row(name, forward, vjp, symbol, constants, arrays, complex_forward, formula, noun)
        self.name = name
        self.forward = checked_forward(name, forward) if checked else forward
        self.vjp = checked_vjp(name, vjp, Value) if checked else vjp
        self.symbol = symbol or name
        self.kinks = tuple(finite(as_float(k, f"Op {name!r}: kink"), f"Op {name!r}: kink") for k in kinks)
        if arrays is not None and arrays.vjp is None:  # the scalar vjp as written (unchecked), run on arrays
            arrays = arrays._replace(vjp=vjp)
        self.constants, self.arrays, self.formula, self.noun = constants, arrays, formula, noun or name
        self.complex_forward = complex_forward

    def __call__(self, *inputs: Operand | Number) -> Value | float:
        if len(inputs) > 2 and Value in map(type, inputs):  # a dot or a sum: a Value (a weight) comes first
            try:
                return apply(self, inputs)  # which tells each operand's type as it reads its number
            except _OddOperandError:
                pass  # an int, a numpy number, a string: converted or refused below
        kinds = set(map(type, inputs))  # one pass in C
        if not kinds <= _PLAIN:  # not only Values and floats (an int, a traced node, a string)
            inputs = tuple(_as_operand(x, self.name) for x in inputs)
            kinds = {float, Value} if any(isinstance(x, Value) for x in inputs) else set()
        return apply(self, inputs) if Value in kinds else self.forward(*inputs)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


class Value:
    """A scalar in a computation graph: its ``data``, its gradient ``grad`` and how it was made.

    Arithmetic (``+ - * / **``, unary ``-``, ``abs``) and the methods below build the graph;
    ``backward()`` fills in ``grad`` for every node the result depends on. ``<``, ``>`` compare
    ``data``; ``==`` and ``hash`` are by identity, so Values can be dict keys and set members.
    """

    __slots__ = ("data", "grad", "label", "_inputs", "_op", "_scope")

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data: float = as_float(data, "Value", _value_hint)
        self.grad: float = 0.0
        self.label = label
        self._inputs: tuple[Operand, ...] = ()
        self._op: Op | None = None
        self._scope: tuple[object, ...] = current().scope

    # -- the graph --------------------------------------------------------------------------

    @property
    def op(self) -> str:
        """Name of the op that made this node ("" for a leaf)."""
        return self._op.name if self._op is not None else ""

    @property
    def rule(self) -> Op | None:
        """The Op (a row of the rule table, or your own) that made this node; None for a leaf."""
        return self._op

    @property
    def op_symbol(self) -> str:
        """The op's short symbol for diagrams ("*", "+", "tanh"); "" for a leaf."""
        return self._op.symbol if self._op is not None else ""

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this node was computed from, in operand order."""
        return tuple(x for x in self._inputs if isinstance(x, Value))

    @property
    def scope(self) -> tuple[object, ...]:
        """The ``autograd.scope`` objects active when this node was made, outermost first (e.g. layer, neuron)."""
        return self._scope

    @property
    def inputs(self) -> tuple[Operand, ...]:
        """All operands in order, Values and plain-number constants (such as the 2 in ``x * 2``)."""
        return self._inputs

    def backward(self, gradient: Number = 1.0) -> None:
        """Add d(self)/d(node), times ``gradient``, to ``node.grad`` for every node self depends on.

        Gradients accumulate across calls, as in PyTorch; ``zero_grad()`` resets them.
        """
        for node, grad in _reverse.backprop(self, as_float(gradient, "backward")).items():
            node.grad += grad  # type: ignore[assignment]  # floats: the pass ran without create_graph

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on this node and every node it depends on."""
        for node in _reverse.backward_order(self):
            node.grad = 0.0

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from the graph."""
        return Value(self.data, self.label)
    # -- ops: each line hands over to the rule table ------------------------------------------

    def __add__(self, other: Operand | Number) -> Value:
        return apply(rules.ADD, (self, other))

    def __radd__(self, other: Number) -> Value:
        return apply(rules.ADD, (other, self))

    def __sub__(self, other: Operand | Number) -> Value:
        return apply(rules.SUB, (self, other))

    def __rsub__(self, other: Number) -> Value:
        return apply(rules.SUB, (other, self))

    def __mul__(self, other: Operand | Number) -> Value:
        return apply(rules.MUL, (self, other))

    def __rmul__(self, other: Number) -> Value:
        return apply(rules.MUL, (other, self))

    def __truediv__(self, other: Operand | Number) -> Value:
        return apply(rules.DIV, (self, other))

    def __rtruediv__(self, other: Number) -> Value:
        return apply(rules.DIV, (other, self))

    def __pow__(self, other: Operand | Number) -> Value:
        return apply(rules.POW if isinstance(other, Value) else rules.POW_CONST, (self, other))

    def __rpow__(self, other: Number) -> Value:
        return apply(rules.RPOW, (self, other))  # c ** x is recorded as rpow(x, c): the exponent first

    def __neg__(self) -> Value:
        return apply(rules.NEG, (self,))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return apply(rules.ABS, (self,))

    def exp(self) -> Value:
        """e**x; d/dx = e**x."""
        return apply(rules.EXP, (self,))

    def log(self) -> Value:
        """Natural log; d/dx = 1/x. Raises ValueError for x <= 0."""
        return apply(rules.LOG, (self,))

    def sqrt(self) -> Value:
        """Square root; d/dx = 1/(2 sqrt x). Raises ValueError for x < 0."""
        return apply(rules.SQRT, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent; d/dx = 1 - tanh(x)**2."""
        return apply(rules.TANH, (self,))

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x); d/dx = s(x) (1 - s(x))."""
        return apply(rules.SIGMOID, (self,))

    def relu(self) -> Value:
        """max(x, 0); d/dx = 1 for x > 0, else 0 (0 at the kink)."""
        return apply(rules.RELU, (self,))

    def leaky_relu(self, slope: Number = 0.01) -> Value:
        """x for x > 0, else slope * x; d/dx = 1 or slope."""
        return apply(rules.LEAKY_RELU, (self, leaky_slope(slope)))

    def softplus(self) -> Value:
        """log(1 + e**x), computed without overflow; d/dx = sigmoid(x)."""
        return apply(rules.SOFTPLUS, (self,))

    def sin(self) -> Value:
        """Sine; d/dx = cos x."""
        return apply(rules.SIN, (self,))

    def cos(self) -> Value:
        """Cosine; d/dx = -sin x."""
        return apply(rules.COS, (self,))

    # -- comparisons and conversions --------------------------------------------------------

    def __lt__(self, other: Operand | Number) -> bool:
        return _compare(operator.lt, self, other)

    def __le__(self, other: Operand | Number) -> bool:
        return _compare(operator.le, self, other)

    def __gt__(self, other: Operand | Number) -> bool:
        return _compare(operator.gt, self, other)

    def __ge__(self, other: Operand | Number) -> bool:
        return _compare(operator.ge, self, other)

    def __float__(self) -> float:
        if current().tracing is not None:  # a parameter's number, frozen into compiled code as a constant
            current().tracing.refuse_number(self, "float()")
        return self.data

    def __round__(self, ndigits: int | None = None) -> float | int:
        """``round(x)`` and ``round(x, n)`` round ``x.data``, as for a float: a plain number, outside the graph."""
        if current().tracing is not None:
            current().tracing.refuse_number(self, "round()")
        return round(self.data, ndigits)

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={number(self)!r}, grad={self.grad!r}{label})"


# -- applying ops ---------------------------------------------------------------------------

_new_value = object.__new__
_PLAIN = frozenset((float, Value))  # the operand types that Op's call passes to apply as they are
number: Callable[[Value], float] = Value.__dict__["data"].__get__
"""The engine's one way to read a node's number: the slot itself, which a traced node's ``data`` property
(autograd.compiler) does not guard, so the engine can record and name traced nodes that their code cannot read."""


def _value_hint(x: object) -> str:
    if isinstance(x, Value):
        return "; it is a Value already: use it as it is, or x.detach() for a constant copy"
    return value_hint(x)  # the other usual mistakes: an array, a list


def apply(op: Op, inputs: tuple[Operand | Number, ...]) -> Value:
    """Run ``op`` forward on ``inputs`` (at least one a Value, the rest floats) and record the result's node.

    Value's operators pass the other operand as given: for two operands, other real numbers become
    floats, and anything else gives NotImplemented, so that Python tries the other operand's method.
    Op's call passes many operands unchecked, and any of another type raises ``_OddOperandError`` for
    the call to convert them.
    """
    state, node_class = current(), Value
    if state.watched:  # detect_anomaly or a trace: the checks, and numbers read through the engine's accessor
        if not all(type(x) is float or isinstance(x, Value) for x in inputs):
            if len(inputs) == 2:
                return _apply_converted(op, *inputs)
            raise _OddOperandError  # from Op's call, which converts the operands
        numbers = [number(x) if isinstance(x, Value) else x for x in inputs]
        out = op.forward(*numbers) if state.tracing is None else state.tracing.forward(op, numbers)
        if state.anomaly:
            _check_anomaly(op, inputs, out)
        node_class = Value if state.tracing is None else state.tracing.node_class(inputs, state.grad_enabled)
    elif len(inputs) == 2:  # nearly every op has one or two operands: spare those building a list
        x, y = inputs
        if isinstance(x, Value):  # the usual case first: a Value's operator with a float or Value operand
            x_data = x.data
        elif type(x) is float:
            x_data = x
        else:
            return _apply_converted(op, x, y)
        if type(y) is float:
            y_data = y
        elif isinstance(y, Value):
            y_data = y.data
        else:
            return _apply_converted(op, x, y)
        out = op.forward(x_data, y_data)
    elif len(inputs) == 1:
        out = op.forward(inputs[0].data)  # type: ignore[union-attr]  # a lone operand is a Value
    else:  # Op's call with many operands (a dot, a sum), unchecked: the types are told here, Values first
        out = op.forward(*[x.data if type(x) is Value else x if type(x) is float else _odd(x) for x in inputs])
    node: Value = _new_value(node_class)
    node.data = out
    node.grad = 0.0
    node.label = ""
    node._scope = state.scope
    if state.grad_enabled:
        node._inputs = inputs
        node._op = op
    else:
        node._inputs = ()
        node._op = None
    return node


class _OddOperandError(Exception):
    """An operand of Op's call that is neither a float nor a Value: the call converts it (or refuses it)."""


def _odd(x: object) -> float:
    """The number of a Value whose type is a subclass of Value; :class:`_OddOperandError` for anything else."""
    if isinstance(x, Value):
        return number(x)
    raise _OddOperandError


def _check_anomaly(op: Op, inputs: tuple[Operand | Number, ...], out: float) -> None:
    """Under detect_anomaly: raise at the first op that makes a NaN or an infinity, or is given one (even
    where its result is finite, as tanh(inf) = 1 is: the non-finite value came from outside the graph)."""
    if not math.isfinite(out):
        raise AnomalyError(f"detect_anomaly: forward of {op.name} gave {out!r} from {describe_all(inputs, number)}")
    for x in inputs:
        value = number(x) if isinstance(x, Value) else x
        if not math.isfinite(value):
            raise AnomalyError(f"detect_anomaly: {op.name} was given {value!r}, in {describe_all(inputs, number)}")


def _as_operand(x: object, where: str) -> Operand:
    return x if isinstance(x, Value) else as_float(x, where)  # ints become floats; anything else: TypeError


def _operand_or_none(x: object) -> Operand | None:
    """The operand as Value or float, or None when it is not a number (so Python can say so)."""
    if type(x) is float or isinstance(x, Value):
        return x
    return as_float(x, "operand") if isinstance(x, Real) or is_bool(x) else None


def _apply_converted(op: Op, x: object, y: object) -> Value:
    """``apply`` on two operands that are not both floats or Values: ints and other reals become floats."""
    x_operand, y_operand = _operand_or_none(x), _operand_or_none(y)
    if x_operand is None or y_operand is None:
        return NotImplemented  # type: ignore[no-any-return]
    return apply(op, (x_operand, y_operand))


def _compare(relation: Callable[[float, float], bool], x: Value, y: object) -> bool:
    other = _operand_or_none(y)
    return NotImplemented if other is None else relation(x.data, float(other))


# Value's operators are the rule table's ops, which build on the classes above, so they come last (the
# package imports this module before any other).
from autograd import rules  # noqa: E402

"""Switches that change how ops record: ``no_grad``, ``detect_anomaly``, ``scope``.

They live in a context variable, so each thread (and each asyncio task) has its own: one thread's
``no_grad`` never affects another thread's graph. Reading it costs one lookup per op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from contextvars import ContextVar
from typing import Any


class AnomalyError(FloatingPointError):
    """Raised under :func:`detect_anomaly` where a forward or backward step first makes NaN or inf."""


class TracingError(TypeError):
    """Per-sample code used a traced Value as a plain number, so one sample's numbers would decide for all.

    Raised while ``autograd.compile`` traces (the ``tracing`` mode below), naming the line.
    """


class State:
    """One thread's switches. Never changed in place: ``changed`` and ``Scope`` set a new State.

    A class with slots rather than a NamedTuple because ``apply`` reads three fields on every op,
    and slot reads are cheaper than unpacking a NamedTuple (about 25 ns per op).
    """

    __slots__ = ("grad_enabled", "anomaly", "scope", "transform_depth", "outside", "tracing", "watched")

    def __init__(
        self,
        grad_enabled: bool = True,
        anomaly: bool = False,
        scope: tuple[object, ...] = (),
        transform_depth: int = 0,  # how many grad/jacobian calls are evaluating their function right now
        outside: State | None = None,  # set by Scope: the state its exit goes back to
        tracing: Any = None,  # set by autograd.compile while it traces: its Tracer (compiler/tracing.py)
    ) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.scope = scope
        self.transform_depth = transform_depth
        self.outside = outside
        self.tracing = tracing
        self.watched = anomaly or tracing is not None  # apply's one test for both, so neither costs it more

    def replace(self, **changes: Any) -> State:
        """A copy with some fields changed."""
        fields = {name: getattr(self, name) for name in State.__slots__ if name != "watched"}
        return State(**{**fields, **changes})


_state: ContextVar[State] = ContextVar("autograd_state", default=State())  # noqa: B039  (State is never mutated)
current = _state.get


@contextmanager
def changed(**changes: Any) -> Iterator[None]:
    """Run the block with some fields of the state replaced, restoring them on the way out."""
    token = _state.set(_state.get().replace(**changes))
    try:
        yield
    finally:
        _state.reset(token)


@contextmanager
def no_grad() -> Iterator[None]:
    """Compute values without recording the graph (also usable as a decorator: ``@no_grad()``).

    Ops inside return leaf Values: cheaper, and nothing can backpropagate through them.
    """
    with changed(grad_enabled=False):
        yield


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph again inside a ``no_grad`` block."""
    with changed(grad_enabled=True):
        yield


def is_grad_enabled() -> bool:
    """Whether ops in this thread record the graph."""
    return current().grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first op whose result or gradient is NaN or inf.

    The message names the op and the labels of the nodes involved, so a NaN loss can be traced to
    the ``log`` or the division that made it. Checking costs one ``isfinite`` per op, so it is off
    by default. Inside a function being compiled it is refused: there it would check only the first
    sample; around the compiled call it checks every sample.
    """
    tracer = current().tracing
    if tracer is not None:
        error = TracingError(
            "compile: detect_anomaly() inside a compiled function would check only the first sample; enter it "
            "around the call instead (with ag.detect_anomaly(): loss(x, y)), where it checks every sample"
        )
        tracer.refusals.append(error)
        raise error
    with changed(anomaly=True):
        yield


def scope(owner: object) -> Scope:
    """Tag every node made inside with ``owner`` (any object: a name, a layer, a neuron).

    Scopes nest; ``value.scope`` is the tuple of active owners, outermost first. nn modules use
    this so that diagrams can draw the nodes of a neuron or a layer as one group.
    """
    return Scope(owner)


class Scope(ContextDecorator):
    """The context manager (or decorator) that :func:`scope` returns.

    A class rather than a ``contextmanager`` generator, and a ``State`` built directly rather than
    by ``replace``: nn enters one per neuron call, and this way costs a quarter as much.

    One Scope object may be entered by several threads at once, or nested in itself: nothing about
    an entry is kept on the object. Each entry's State records the state to go back to, and it lives
    in the entering thread's (or task's) own context.
    """

    __slots__ = ("owner",)

    def __init__(self, owner: object) -> None:
        self.owner = owner

    def _recreate_cm(self) -> Scope:
        # As a decorator: a fresh Scope per call, so recursive or concurrent calls never share a token.
        return Scope(self.owner)

    def __enter__(self) -> None:
        state = _state.get()
        scope = (*state.scope, self.owner)
        _state.set(State(state.grad_enabled, state.anomaly, scope, state.transform_depth, state, state.tracing))

    def __exit__(self, *exc_info: object) -> None:
        state = _state.get()
        if state.outside is None or not state.scope or state.scope[-1] is not self.owner:
            raise RuntimeError(f"scope({self.owner!r}) exited where it was not the innermost scope entered")
        _state.set(state.outside)

"""Thread-local switches: recording the graph (``no_grad``) and checking for NaN/inf (``detect_anomaly``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class AnomalyError(FloatingPointError):
    """Raised under :func:`detect_anomaly` where a forward or backward step first makes NaN or inf."""


class _Mode(threading.local):
    # Class attributes are the defaults every new thread starts from.
    grad_enabled: bool = True
    anomaly: bool = False
    transform_depth: int = 0
    scope: tuple[object, ...] = ()  # how many grad/jacobian calls are evaluating their function right now


mode = _Mode()


@contextmanager
def no_grad() -> Iterator[None]:
    """Compute values without recording the graph (also usable as a decorator: ``@no_grad()``).

    Ops inside return leaf Values: cheaper, and nothing can backpropagate through them.
    The switch is per thread, so one thread's ``no_grad`` never affects another's graph.
    """
    previous = mode.grad_enabled
    mode.grad_enabled = False
    try:
        yield
    finally:
        mode.grad_enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph again inside a ``no_grad`` block."""
    previous = mode.grad_enabled
    mode.grad_enabled = True
    try:
        yield
    finally:
        mode.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether ops in this thread record the graph."""
    return mode.grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first op whose result or gradient is NaN or inf.

    The message names the op and the labels of the nodes involved, so a NaN loss can be traced to
    the ``log`` or the division that made it. Checking costs one ``isfinite`` per op, so it is off
    by default.
    """
    previous = mode.anomaly
    mode.anomaly = True
    try:
        yield
    finally:
        mode.anomaly = previous


@contextmanager
def scope(owner: object) -> Iterator[None]:
    """Tag every node made inside with ``owner`` (any object: a name, a layer, a neuron).

    Scopes nest; ``value.scope`` is the tuple of active owners, outermost first. nn modules use
    this so that diagrams can draw the nodes of a neuron or a layer as one group.
    """
    previous = mode.scope
    mode.scope = (*previous, owner)
    try:
        yield
    finally:
        mode.scope = previous

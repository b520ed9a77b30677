"""A pure-Python task run with a deadline: sympy's simplify and printers can take minutes on a formula
that reads in a line, and a thread running them could not be stopped, so the clock is read at each call."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


class OutOfTime(BaseException):
    """Time is up; a BaseException, so that no ``except Exception`` inside sympy swallows it."""


def before(deadline: float, task: Callable[[], T]) -> T | None:
    """``task()``, or None if it is still running at ``deadline`` (``time.perf_counter``) or recurses too deep.

    The clock is read at each Python call the task makes: sympy is pure Python, and a thread could not be
    stopped. Python unsets a tracer that raises; when the raise lands in a finalizer (a ``__del__``, a
    generator closed by the collector), Python reports it as unraisable and goes on, so the report sets the
    tracer again and the task's next call stops it.
    """

    def check(frame: FrameType, event: str, arg: Any) -> None:
        if time.perf_counter() > deadline:
            raise OutOfTime

    def unraisable(report: Any) -> None:
        if isinstance(report.exc_value, OutOfTime):
            sys.settrace(check)
        else:
            previous_hook(report)

    previous, previous_hook = sys.gettrace(), sys.unraisablehook  # a debugger's or coverage's, given back
    sys.unraisablehook = unraisable
    sys.settrace(check)
    try:
        return task()
    except (OutOfTime, RecursionError):
        return None
    finally:
        sys.settrace(previous)
        sys.unraisablehook = previous_hook

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


def in_finalizer(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside a ``__del__`` or a weakref callback, where Python reports an exception
    as unraisable and goes on, instead of passing it up to the task (the next ordinary call stops it)."""
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code.co_filename.endswith("weakref.py"):
            return True
        frame = frame.f_back
    return False


def before(deadline: float, task: Callable[[], T]) -> T | None:
    """``task()``, or None if it is still running at ``deadline`` (``time.perf_counter``) or recurses too deep.
    The clock is read at each Python call it makes: sympy is pure Python, and a thread could not be stopped."""

    def check(frame: FrameType, event: str, arg: Any) -> None:
        if time.perf_counter() > deadline and not in_finalizer(frame):
            raise OutOfTime

    previous = sys.gettrace()  # a debugger's or coverage's tracer, given back afterwards
    sys.settrace(check)
    try:
        return task()
    except (OutOfTime, RecursionError):
        return None
    finally:
        sys.settrace(previous)

"""The one way the hostile-input catalogues check a case: the exact exception type, and a message naming the culprit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def assert_refused(thunk: Callable[[], Any], error: type[BaseException], message: str) -> None:
    """``thunk()`` raises exactly ``error`` (not a subclass or a parent) with a message matching ``message``."""
    with pytest.raises(error, match=message) as caught:
        thunk()
    assert type(caught.value) is error, f"raised {type(caught.value).__name__}: {caught.value}"

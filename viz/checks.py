"""Argument checks the drawing functions share, each refusal worded one way whichever function makes it.

Each check takes the name of the function being called first, for the message ("draw_plan: batch must
be ..."), and returns the argument as the drawing uses it.
"""

from __future__ import annotations

import numbers
from types import ModuleType

INSTALL_NUMPY = "pip install numpy (in Pyodide or JupyterLite: %pip install numpy, or await micropip.install('numpy'))"

RANKDIRS = ("LR", "TB", "RL", "BT")
FORMATS = ("svg", "png", "pdf")
PRECISIONS = range(18)  # beyond 17 significant digits a float has nothing more to show


def check_max_nodes(caller: str, max_nodes: object) -> int | None:
    """``max_nodes`` if it is None (no limit) or an int of at least 1; a bool is refused, not read as 0 or 1."""
    if max_nodes is None:
        return None
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
        raise TypeError(f"{caller}: max_nodes must be an int or None (no limit), got {type(max_nodes).__name__}")
    if max_nodes < 1:
        raise ValueError(f"{caller}: max_nodes must be at least 1, or None for no limit, got {max_nodes}")
    return max_nodes


def check_title(caller: str, title: object) -> str | None:
    """``title`` if it is a str or None."""
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{caller}: title must be a str, got {type(title).__name__}")
    return title


def check_flag(caller: str, name: str, value: object) -> bool:
    """``value`` if it is True or False: a str such as "no" would otherwise count as true."""
    if not isinstance(value, bool):
        raise TypeError(f"{caller}: {name} must be True or False, got {type(value).__name__}")
    return value


def check_batch(caller: str, batch: object) -> int | None:
    """``batch`` as an int if it is None or a whole number of at least 1 (numpy ints too, bools not)."""
    if batch is None:
        return None
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral):  # numpy's ints are Integral, its bool not
        raise TypeError(f"{caller}: batch must be an int or None, got {type(batch).__name__}")
    if batch < 1:
        raise ValueError(f"{caller}: batch must be at least 1, got {batch}")
    return int(batch)


def check_precision(caller: str, precision: object) -> int:
    """``precision`` if it is an int from 0 to 17 (digits after the point); anything else is a ValueError."""
    if not isinstance(precision, int) or precision not in PRECISIONS:
        raise ValueError(f"{caller}: precision must be an int from 0 to 17, got {precision!r}")
    return precision


def check_rankdir(caller: str, rankdir: object) -> str:
    """``rankdir`` if Graphviz knows it; the message names the two directions most drawings want."""
    if not isinstance(rankdir, str) or rankdir not in RANKDIRS:
        raise ValueError(f"{caller}: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    return rankdir


def check_format(caller: str, fmt: object) -> str:
    """``fmt`` if it is a format graphviz's own ``render()`` can write for a diagram: svg, png or pdf."""
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValueError(f"{caller}: format must be 'svg', 'png' or 'pdf', got {fmt!r}")
    return fmt


def require_numpy(feature: str) -> ModuleType:
    """numpy, imported now; a ModuleNotFoundError saying that ``feature`` needs it, and how to install it,
    where numpy cannot be imported (the diagrams of scalar graphs never need it)."""
    try:
        import numpy
    except ImportError as error:
        message = f"{feature} needs numpy, which is not installed: {INSTALL_NUMPY}"
        raise ModuleNotFoundError(message, name="numpy") from error
    return numpy

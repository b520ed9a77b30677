"""``save_diagram``: a diagram to a file in the format its suffix names, or a Value's backward pass animated.

It sits above the modules it writes with (``viz.render``, ``viz.tikz``, ``viz.animation``), so that none of
them imports another to save a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from autograd import Value
from autograd.files import write_atomically
from viz.render import FORMATS, RenderError, render


def save_diagram(
    graph: graphviz.Digraph | graphviz.Graph | Value,
    path: str | os.PathLike[str],
    *,
    standalone: bool = False,
    animate: bool = False,
    **animation: Any,
) -> Path:
    """Render ``graph`` to ``path`` in the format its suffix names (.svg, .png, .pdf, .dot, .gv, .tex).

    ``.tex`` writes a TikZ picture laid out by Graphviz (:func:`viz.tikz.to_tikz`): a ``tikzpicture`` to
    ``\\input`` into a document, or with ``standalone=True`` a document that compiles on its own.
    ``animate=True`` takes a Value instead of a diagram and writes its backward pass as one animated SVG
    (:func:`viz.backward_animation`, whose options it passes on: ``seconds_per_step=``, ``rankdir=``, ...);
    ``viz.save_animation(root, path)`` is the same.
    The file is written by ``autograd.files.write_atomically``: it appears whole or not at all, an
    existing file keeps its permissions, and a symlink is written through to its target.
    """
    if not isinstance(animate, bool):
        raise TypeError(f"save_diagram: animate must be True or False, got {type(animate).__name__}")
    if animate:
        if not isinstance(graph, Value):
            raise TypeError(
                f"save_diagram: animate=True animates a Value's backward pass; pass the Value itself, as in "
                f"save_diagram(f, 'f.svg', animate=True), not a {type(graph).__name__}"
            )
        if standalone:
            raise ValueError("save_diagram: standalone=True is for .tex files, not for an animated SVG")
        from viz.animation import write_animation  # here, so that drawing without animation never loads it

        return write_animation(graph, path, animation, who="save_diagram")
    if animation:
        names = ", ".join(sorted(animation))
        raise TypeError(f"save_diagram: unexpected options {names}: they are an animation's, for animate=True")
    source = getattr(graph, "source", None)
    if not isinstance(source, str):
        raise TypeError(f"save_diagram: expected a diagram (a graphviz.Digraph), got {type(graph).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_diagram: path must be a str or a path, got {type(path).__name__}")
    if not isinstance(standalone, bool):
        raise TypeError(f"save_diagram: standalone must be True or False, got {type(standalone).__name__}")
    target = Path(path)
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise RenderError(
            f"save_diagram: cannot tell the format from {target.name!r}; use .svg, .png, .pdf, .dot, .gv or .tex"
        )
    if fmt == "tex":
        from viz.tikz import to_tikz  # here, so that drawing without TikZ never loads it

        return write_atomically(target, to_tikz(graph, standalone=standalone).encode("utf-8"))
    if standalone:
        raise ValueError(f"save_diagram: standalone=True is for .tex files (a LaTeX document), not {target.name!r}")
    return write_atomically(target, render(source, fmt))

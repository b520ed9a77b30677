"""The backward pass one node at a time, drawn: a diagram per step (``draw_step``), files, a GIF, a slider."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd import Value
from autograd.files import write_atomically
from viz.backward import Step, Term, backward_steps
from viz.graph import draw_graph
from viz.render import FORMATS, Diagram, RenderError, render
from viz.saving import save_diagram

__all__ = ["Step", "Term", "backward_steps", "draw_step", "save_gif", "save_steps", "step_slider"]


def draw_step(root: Value, steps: Sequence[Step], index: int, **options: Any) -> Diagram:
    """The diagram after ``steps[index]`` (0-based, like the list): gradients known so far, the current node
    outlined, the formula on top. Its title counts from 1, as the saved files and the slider do."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"draw_step: index must be an int, got {type(index).__name__}")
    if not 0 <= index < len(steps):
        raise IndexError(f"draw_step: index {index} is outside 0..{len(steps) - 1}")
    step = steps[index]
    known = {s.node: s.grad for s in steps[: index + 1]}
    title = f"step {index + 1} of {len(steps)}:  {step.formula()}"
    highlight = {step.node, *(t.consumer for t in step.terms)}
    return draw_graph(root, grads=known, highlight=highlight, title=title, **options)


def save_steps(root: Value, folder: str | os.PathLike[str], fmt: str = "svg", **options: Any) -> list[Path]:
    """Write one numbered file per backward step (``step_01.svg``, ...) and return their paths.

    ``fmt`` is a suffix :func:`viz.save_diagram` knows ("svg", "png", "pdf", "dot", "gv"). Each frame is
    written atomically (``autograd.files.write_atomically``), and every frame is drawn before the first
    is written, so a bad option fails before any file changes.
    """
    if not isinstance(fmt, str) or f".{fmt.lower()}" not in FORMATS:
        raise RenderError(f"save_steps: unknown format {fmt!r}; use one of svg, png, pdf, dot, gv")
    steps = backward_steps(root)
    width = len(str(len(steps)))
    diagrams = [draw_step(root, steps, i, **options) for i in range(len(steps))]
    return [
        save_diagram(diagram, Path(folder) / f"step_{i + 1:0{width}d}.{fmt}") for i, diagram in enumerate(diagrams)
    ]


def save_gif(root: Value, path: str | os.PathLike[str], seconds_per_step: float = 1.5, **options: Any) -> Path:
    """An animated GIF of the backward pass, one frame per step (needs Pillow: ``pip install pillow``).

    The file is written atomically (``autograd.files.write_atomically``): a full disk or an interrupt
    leaves the old GIF, if any, in place and no partial file.
    """
    if isinstance(seconds_per_step, bool) or not isinstance(seconds_per_step, (int, float)):
        raise TypeError(f"save_gif: seconds_per_step must be a number, got {type(seconds_per_step).__name__}")
    if not (math.isfinite(seconds_per_step) and seconds_per_step > 0):
        raise ValueError(f"save_gif: seconds_per_step must be a positive finite number, got {seconds_per_step!r}")
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_gif needs Pillow: pip install pillow (or the 'plots' extra of this package)") from None
    steps = backward_steps(root)
    pngs = [render(draw_step(root, steps, i, **options).source, "png") for i in range(len(steps))]
    frames = [Image.open(io.BytesIO(png)) for png in pngs]
    width, height = max(f.width for f in frames), max(f.height for f in frames)
    canvas = []
    for frame in frames:  # frames differ in size as numbers appear: pad them onto one white canvas
        page = Image.new("RGB", (width, height), "white")
        page.paste(frame.convert("RGB"), (0, 0))
        canvas.append(page)
    encoded = io.BytesIO()
    duration = max(int(seconds_per_step * 1000), 1)
    canvas[0].save(encoded, format="GIF", save_all=True, append_images=canvas[1:], duration=duration, loop=0)
    return write_atomically(path, encoded.getvalue())


def step_slider(root: Value, **options: Any) -> Any:
    """A notebook slider over the backward steps (needs ipywidgets)."""
    try:
        import ipywidgets
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        raise ImportError("step_slider needs ipywidgets: pip install ipywidgets") from None
    if get_ipython() is None:
        raise RuntimeError("step_slider needs a running notebook; elsewhere use viz.save_steps or viz.save_gif")
    steps = backward_steps(root)
    return ipywidgets.interact(
        lambda step: display(draw_step(root, steps, step - 1, **options)),  # type: ignore[no-untyped-call]
        step=ipywidgets.IntSlider(min=1, max=len(steps), value=1, description="step"),
    )

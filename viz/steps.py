"""The backward pass one node at a time: which gradient became known, and the chain-rule sum behind it."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import autograd as ag
from autograd import Value
from autograd.files import write_atomically
from viz.graph import draw_graph
from viz.render import FORMATS, Diagram, RenderError, render, save_diagram


@dataclass(frozen=True)
class Term:
    """One route of the chain rule: d(root)/d(consumer) * d(consumer)/d(node)."""

    consumer: Value
    upstream: float  # d(root)/d(consumer), known from an earlier step
    local: float  # d(consumer)/d(node)

    @property
    def product(self) -> float:
        return self.upstream * self.local


@dataclass(frozen=True)
class Step:
    """Step ``index`` of the backward pass: ``node``'s gradient ``grad`` is the sum of ``terms``."""

    index: int
    node: Value
    grad: float
    terms: tuple[Term, ...]
    root: Value

    def formula(self, precision: int = 4) -> str:
        """The chain rule for this step in words and numbers, e.g. ``dF/dB = dF/dC · dC/dB = -0.25 × 1 = -0.25``.

        A node that only the root consumes has its local derivative alone: ``dF/dC = -0.25 (...)``; a node
        no route passes a gradient back to (the index of ``autograd.pick``) gets ``dF/dy = 0 (...)``.
        """
        name, top = _name(self.node), _name(self.root)
        if not self.terms and self.node is self.root:
            return f"d{name}/d{name} = 1 (the start of the backward pass)"
        if not self.terms:
            return f"d{top}/d{name} = 0 (no op passes a gradient back to {name})"
        numeric = " + ".join(f"{t.upstream:.{precision}g} × {t.local:.{precision}g}" for t in self.terms)
        if all(t.consumer is self.root for t in self.terms):  # "dF/dF · dF/dC" would explain nothing
            local = " + ".join(f"{t.local:.{precision}g}" for t in self.terms)
            total = f" = {self.grad:.{precision}g}" if len(self.terms) > 1 else ""
            return f"d{top}/d{name} = {local}{total} (the local derivative: d{top}/d{top} = 1)"
        symbolic = " + ".join(f"d{top}/d{_name(t.consumer)} · d{_name(t.consumer)}/d{name}" for t in self.terms)
        return f"d{top}/d{name} = {symbolic} = {numeric} = {self.grad:.{precision}g}"


def backward_steps(root: Value) -> list[Step]:
    """The frames of ``root.backward()``, in the order the engine completes each node's gradient.

    Each step's gradient is the chain-rule sum its terms show, added up in the engine's order; a node no
    op passes a gradient back to (the index of ``autograd.pick``) gets 0. Nothing is written to ``.grad``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps: root must be a Value, got {type(root).__name__}")
    order = ag.backward_order(root)
    routes: dict[Value, list[tuple[Value, float]]] = {v: [] for v in order}
    for consumer in order:
        # zip stops early where an op gives no derivative for its last operands (pick's index)
        for x, local in zip(consumer.inputs, ag.local_derivatives(consumer), strict=False):
            if isinstance(x, Value):
                routes[x].append((consumer, local))
    grads: dict[Value, float] = {}
    steps = []
    for index, node in enumerate(order):  # every consumer comes before the nodes it reads
        terms = tuple(Term(c, grads[c], local) for c, local in routes[node])
        grad = 1.0 if node is root else _total(terms)
        grads[node] = grad
        steps.append(Step(index, node, grad, terms, root))
    return steps


def _total(terms: tuple[Term, ...]) -> float:
    """The terms' products added one after another, as the reverse pass adds them (0.0 for none)."""
    total = 0.0
    for number, term in enumerate(terms):
        total = term.product if number == 0 else total + term.product
    return total


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


def _name(v: Value) -> str:
    return v.label or (v.op or "leaf")

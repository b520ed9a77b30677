"""The backward pass as one animated SVG that plays by itself: no script, so it runs in an ``<img>`` tag.

:func:`backward_animation` draws the graph once (``viz.draw_graph`` with the gradients and the local
derivatives on the edges), renders it to SVG with Graphviz, and animates that picture with CSS alone:

1. the forward pass: each node's ``data`` appears, inputs first, in a topological order;
2. the backward pass, one step per node in the engine's order (``autograd.backward_order``, as
   ``viz.backward_steps`` lists it): the node is outlined, the edges to the ops that read it light up
   and show their local derivative, its ``grad ?`` becomes its gradient (coloured on the gradient scale),
   and the caption gives the chain-rule sum with its numbers;
3. a pause on the finished picture, then it starts again.

Every change is an opacity window, ``@keyframes`` with ``step-end`` timing, so the SVG needs nothing
but a browser's CSS. Each animated element also carries the opacity of the last frame as a plain
attribute, so a viewer that does not animate (or a reader who asked for reduced motion) sees the
finished pass rather than every frame at once.
"""

from __future__ import annotations

import copy
import html
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autograd import Value
from autograd.files import write_atomically
from viz.backward import Step, backward_steps
from viz.checks import check_max_nodes, check_precision, check_rankdir
from viz.escape import escape_dot
from viz.graph import draw_graph
from viz.render import SVG_FONTS, render

SVG = "http://www.w3.org/2000/svg"
_NS = {"svg": SVG}
ET.register_namespace("", SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

HIGHLIGHT = "#e8590c"
"""The colour of the current step's node and edges (the orange of ``draw_graph(highlight=...)``)."""
CAPTION_HEIGHT = 30.0
"""Points added below the graph for the caption line."""
_CAPTION_SIZE = 12.0
_CHAR_WIDTH = 0.62  # DejaVu Sans's average advance, in ems: enough room for a caption in the widest usual font


def backward_animation(
    root: Value,
    *,
    seconds_per_step: float = 1.2,
    forward_seconds: float | None = None,
    hold_seconds: float = 3.0,
    precision: int = 4,
    rankdir: str = "LR",
    max_nodes: int | None = 500,
) -> str:
    """One SVG (a str) that animates ``root``'s forward values, then its backward pass node by node, looping.

    - ``seconds_per_step``: how long each backward step is shown;
    - ``forward_seconds``: the length of the forward pass, shared among the nodes (default 0.25 s a node,
      at most 4 s);
    - ``hold_seconds``: the pause on the finished pass before it starts again;
    - ``precision``, ``rankdir``, ``max_nodes``: as in :func:`viz.draw_graph`.

    The gradients are the engine's (``viz.backward_steps``: each the chain-rule sum of its terms, added in the
    engine's order), the edge labels ``autograd.local_derivatives``; nothing is written to ``.grad``. The SVG
    has no script and loads nothing, so it plays in an ``<img>`` tag, a README or a slide.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_animation: root must be a Value, got {type(root).__name__}")
    seconds_per_step = _seconds("seconds_per_step", seconds_per_step, positive=True)
    hold_seconds = _seconds("hold_seconds", hold_seconds, positive=False)
    check_precision("backward_animation", precision)
    check_rankdir("backward_animation", rankdir)
    check_max_nodes("backward_animation", max_nodes)
    steps = backward_steps(root)
    forward = (
        min(0.25 * len(steps), 4.0)
        if forward_seconds is None
        else _seconds("forward_seconds", forward_seconds, positive=False)
    )
    timeline = _Timeline(len(steps), forward, seconds_per_step, hold_seconds)
    options = {"precision": precision, "rankdir": rankdir, "max_nodes": max_nodes, "edge_labels": True}
    grads = {s.node: s.grad for s in steps}
    diagram = draw_graph(root, grads=grads, **options)  # type: ignore[arg-type]
    names = _dot_names(root, steps, diagram.source, options)
    svg = ET.fromstring(render(diagram.source, "svg"))
    return _animate(svg, steps, names, timeline, precision)


def save_animation(root: Value, path: str | os.PathLike[str], **options: object) -> Path:
    """Write :func:`backward_animation` of ``root`` to ``path`` (an ``.svg``), atomically; return the path.

    ``options`` are those of :func:`backward_animation`. The file appears whole or not at all
    (``autograd.files.write_atomically``). ``viz.save_diagram(root, path, animate=True)`` is the same.
    """
    return write_animation(root, path, options, who="save_animation")


def write_animation(root: Value, path: str | os.PathLike[str], options: Mapping[str, object], *, who: str) -> Path:
    """What ``save_animation`` and ``save_diagram(..., animate=True)`` do; ``who`` names the caller in errors."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or a path, got {type(path).__name__}")
    target = Path(path)
    if target.suffix.lower() != ".svg":
        raise ValueError(f"{who}: an animation is an SVG; name the file .svg, not {target.name!r}")
    svg = backward_animation(root, **options)  # type: ignore[arg-type]
    return write_atomically(target, svg.encode("utf-8"))


def _seconds(name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"backward_animation: {name} must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"backward_animation: {name} must be a {kind} finite number of seconds, got {value!r}")
    return float(value)


# -- the timeline -----------------------------------------------------------------------------


@dataclass
class _Timeline:
    """When each thing happens, in seconds from the start of the loop, and the CSS that makes it so."""

    nodes: int
    forward: float
    per_step: float
    hold: float
    windows: dict[tuple[float, float], str] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.forward + self.nodes * self.per_step + self.hold

    def computed(self, position: int) -> float:
        """When the forward pass computes the ``position``-th node of its order (inputs first)."""
        return self.forward * position / self.nodes

    def step(self, index: int) -> float:
        return self.forward + index * self.per_step

    def window(self, start: float, end: float) -> str:
        """The class of the elements shown from ``start`` to ``end`` seconds (and hidden the rest of the loop)."""
        key = (round(start, 6), round(end, 6))
        return self.windows.setdefault(key, f"w{len(self.windows)}")

    def final_opacity(self, start: float, end: float) -> str:
        """The opacity in the last frame, written as an attribute for viewers that do not animate."""
        return "1" if start < self.total <= end + 1e-9 else "0"

    def css(self) -> str:
        total = self.total
        rules = [f"[class^=w] {{ animation-duration: {total:.3f}s; animation-timing-function: step-end; "
                 "animation-iteration-count: infinite; }"]  # fmt: skip
        for (start, end), name in self.windows.items():
            frames = [f"0% {{ opacity: {1 if start <= 0 else 0} }}"]
            if 0 < start < total:
                frames.append(f"{100 * start / total:.4f}% {{ opacity: 1 }}")
            if end < total:
                frames.append(f"{100 * end / total:.4f}% {{ opacity: 0 }}")
            frames.append(f"100% {{ opacity: {1 if end >= total else 0} }}")
            rules.append(f".{name} {{ animation-name: {name}; }}")
            rules.append(f"@keyframes {name} {{ {' '.join(frames)} }}")
        rules.append("@media (prefers-reduced-motion: reduce) { [class^=w] { animation: none; } }")
        return "\n".join(rules)


# -- which DOT node is which Value ------------------------------------------------------------


def _dot_names(root: Value, steps: list[Step], source: str, options: Mapping[str, object]) -> dict[Value, str]:
    """The DOT name (``v7``) of each Value's box in ``source``.

    draw_graph numbers its nodes in drawing order and does not say which number is which Value, so the
    graph is drawn once more with each node's position in ``steps`` as its "gradient": the numbering does
    not depend on the gradients, and each box then says which Value it is. The two drawings are checked to
    have the same nodes and edges.
    """
    probe = draw_graph(root, grads={s.node: float(s.index) for s in steps}, **options)  # type: ignore[arg-type]
    if _skeleton(probe.source) != _skeleton(source):
        raise RuntimeError("backward_animation: the diagram's nodes changed between two drawings of the same graph")
    names: dict[Value, str] = {}
    for line in probe.source.splitlines():
        found = re.match(r"\s*(v\d+) \[label=<.*>grad (\d+)(?:\.0*)?</td></tr></table>>", line)
        if found:
            names[steps[int(found.group(2))].node] = found.group(1)
    return names


def _skeleton(source: str) -> list[str]:
    """The node names and edges of DOT ``source``, in order, without labels or colours."""
    return re.findall(r"^\s*(\S+(?: -> \S+)?) \[", source, re.M) + re.findall(r"^\s*(\S+ -> \S+)$", source, re.M)


# -- animating the SVG ------------------------------------------------------------------------


def _title(group: ET.Element) -> str:
    title = group.find("svg:title", _NS)
    return "".join(title.itertext()) if title is not None else ""


def _show(element: ET.Element, timeline: _Timeline, start: float, end: float) -> None:
    element.set("class", timeline.window(start, end))
    element.set("opacity", timeline.final_opacity(start, end))


def _svg_text(text: str) -> str:
    """``text`` as the diagram shows it: control and invisible characters visible (``\\x07``), cut at 400."""
    return html.unescape(escape_dot(text, quoted=True)).replace("\\\\", "\\")


def _animate(svg: ET.Element, steps: list[Step], names: dict[Value, str], timeline: _Timeline, precision: int) -> str:
    groups = {_title(g): g for g in svg.iter(f"{{{SVG}}}g") if g.get("class") in ("node", "edge")}
    end = timeline.total
    order = {s.node: s.index for s in steps}
    step_of_name = {names[s.node]: s.index for s in steps if s.node in names}
    forward = sorted(steps, key=lambda s: -s.index)  # the reverse of the backward order: inputs first
    for position, s in enumerate(forward):
        group = groups.get(names.get(s.node, ""))
        if group is None:
            continue
        texts = group.findall("svg:text", _NS)
        polygons = group.findall("svg:polygon", _NS)
        if len(texts) < 2 or not polygons:
            continue
        data, grad, fill = texts[-2], texts[-1], polygons[-1]
        computed, known = timeline.computed(position), timeline.step(order[s.node])
        _placeholder(group, data, "data ?", timeline, 0.0, computed)
        _show(data, timeline, computed, end)
        _placeholder(group, grad, "grad ?", timeline, 0.0, known)
        _show(grad, timeline, known, end)
        _show(fill, timeline, known, end)
        outline = next((e for e in group if e.tag in (f"{{{SVG}}}path", f"{{{SVG}}}polygon")), None)
        if outline is not None:
            _overlay(group, outline, timeline, known, known + timeline.per_step)
    for title, group in groups.items():
        if "->" not in title:
            continue
        source, target = title.split("->", 1)
        if source not in step_of_name or not target.startswith("op"):
            continue  # a constant's edge, or an op's edge to its result: no gradient flows back along it
        index = step_of_name[source]
        known = timeline.step(index)
        for text in group.findall("svg:text", _NS):  # the local derivative, shown as the gradient crosses it
            _show(text, timeline, known, end)
        path = group.find("svg:path", _NS)
        if path is not None:
            _overlay(group, path, timeline, known, known + timeline.per_step)
    _add_captions(svg, steps, timeline, precision)
    return ET.tostring(svg, encoding="unicode", xml_declaration=False) + "\n"


def _placeholder(group: ET.Element, text: ET.Element, words: str, timeline: _Timeline, start: float,
                 end: float) -> None:  # fmt: skip
    """A copy of ``text`` saying ``words`` ("grad ?"), shown until the real number arrives."""
    if end <= start:
        return
    unknown = copy.deepcopy(text)
    unknown.text = words
    unknown.set("fill", "#868e96")
    _show(unknown, timeline, start, end)
    group.insert(list(group).index(text), unknown)


def _overlay(group: ET.Element, shape: ET.Element, timeline: _Timeline, start: float, end: float) -> None:
    """``shape`` drawn again, thick and orange, on top of the group while its step lasts."""
    mark = copy.deepcopy(shape)
    mark.set("fill", "none")
    mark.set("stroke", HIGHLIGHT)
    mark.set("stroke-width", "2.5")
    _show(mark, timeline, start, end)
    group.append(mark)


def _add_captions(svg: ET.Element, steps: list[Step], timeline: _Timeline, precision: int) -> None:
    """A caption line below the graph: the forward pass, each step's chain-rule sum, then "done"."""
    box = [float(v) for v in (svg.get("viewBox") or "0 0 100 100").split()]
    width, height = box[2], box[3]
    top = _svg_text(steps[0].root.label or "the root") if steps else "the root"
    captions = [(0.0, timeline.step(0), "forward pass: each node's data, computed from its inputs")]
    for s in steps:
        words = f"step {s.index + 1} of {len(steps)}: {_svg_text(s.formula(precision))}"
        captions.append((timeline.step(s.index), timeline.step(s.index + 1), words))
    captions.append((timeline.step(len(steps)), timeline.total,
                     f"backward pass done: the gradient of {top} at every node"))  # fmt: skip
    widest = max(len(words) for _, _, words in captions) * _CAPTION_SIZE * _CHAR_WIDTH + 16
    width = max(width, widest)
    svg.set("viewBox", f"{box[0]:.2f} {box[1]:.2f} {width:.2f} {height + CAPTION_HEIGHT:.2f}")
    svg.set("width", f"{width:.0f}pt")
    svg.set("height", f"{height + CAPTION_HEIGHT:.0f}pt")
    background = ET.Element(f"{{{SVG}}}rect", {"width": "100%", "height": "100%", "fill": "white"})
    svg.insert(0, background)
    for start, end, words in captions:
        if end <= start:
            continue
        place = {"x": "8", "y": f"{height + CAPTION_HEIGHT * 0.65:.2f}"}
        font = {"font-family": SVG_FONTS, "font-size": f"{_CAPTION_SIZE:g}"}
        caption = ET.SubElement(svg, f"{{{SVG}}}text", {**place, **font})
        caption.text = words
        _show(caption, timeline, start, end)
    style = ET.Element(f"{{{SVG}}}style")
    style.text = timeline.css()  # last: every window is known by now
    svg.insert(0, style)


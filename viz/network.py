"""A multilayer perceptron as the textbook picture: neurons as circles, weights as edges."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from autograd import Value
from viz.escape import escape_dot, html_label
from viz.render import FONT, Diagram, RenderError, find_renderer, render


def draw_network(model: Any, input_names: Sequence[str] | None = None, precision: int = 2) -> Diagram:
    """Draw ``model`` (anything with ``.layers``, each with ``.neurons``, each with weights ``.w`` and bias ``.b``).

    Edge colour gives the weight's sign (red positive, blue negative) and its width the weight's
    size relative to the largest; each neuron shows its bias and activation.
    """
    try:
        layers = [list(layer.neurons) for layer in model.layers]
    except AttributeError:
        raise TypeError(
            f"draw_network: expected a model with .layers of .neurons (like nn.MLP), got {type(model).__name__}"
        ) from None
    if not layers or not layers[0]:
        raise ValueError("draw_network: the model has no neurons")
    n_inputs = len(layers[0][0].w)
    if isinstance(input_names, (str, bytes)):
        raise TypeError(
            f"draw_network: input_names must be a sequence of str, one per input, "
            f"got one {type(input_names).__name__} {input_names!r:.60}"
        )
    names = list(input_names) if input_names is not None else [f"x{i}" for i in range(n_inputs)]
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"draw_network: input_names[{i}] must be a str, got {type(name).__name__} {name!r:.60}")
    if len(names) != n_inputs:
        raise ValueError(f"draw_network: {len(names)} input names for a model with {n_inputs} inputs")
    return _network(layers, names, precision, reverse=_reverse_declaration())


def _network(layers: list[list[Any]], names: list[str], precision: int, reverse: bool) -> Diagram:
    # A complete bipartite layer has the same crossings in any order, so crossing minimisation would only
    # shuffle neurons; with it (mclimit) nearly off, dot keeps the order in which nodes are declared, and
    # stacks it top-down or bottom-up depending on its version (see _reverse_declaration).
    def in_order(items: list[Any]) -> list[Any]:
        return items[::-1] if reverse else items

    largest = max((abs(w.data) for layer in layers for neuron in layer for w in neuron.w), default=1.0) or 1.0
    layout = {"rankdir": "LR", "splines": "line", "nodesep": "0.15", "ranksep": "1.6", "fontname": FONT,
              "mclimit": "0.01", "outputorder": "edgesfirst", "pad": "0.3", "label": _LEGEND,
              "labelloc": "b", "fontsize": "10"}  # fmt: skip  # nodes over edges
    diagram = Diagram(graph_attr=layout)
    diagram.attr("node", fontname=FONT, fontsize="10")
    # Each column's title is a node of its own, declared after the column's neurons; the titles are chained
    # by invisible, heavy edges, which puts them in one row above everything, where no weight edge passes
    # (tests/test_viz.py checks where they land).
    titles = ["inputs", *(f"layer {depth}" for depth in range(len(layers)))]
    columns: list[list[tuple[str, str, dict[str, str]]]] = [[
        (f"in{i}", html_label(name), {"shape": "circle", "style": "filled", "fillcolor": "#e9ecef", "width": "0.5"})
        for i, name in enumerate(names)
    ]]  # fmt: skip
    for depth, layer in enumerate(layers):
        column = []
        for j, neuron in enumerate(layer):
            activation = getattr(neuron, "activation", "")
            activation = activation if isinstance(activation, str) else getattr(activation, "__name__", "")
            label = html_label(f"b={neuron.b.data:.{precision}f}" + (f"\n{activation}" if activation else ""))
            column.append((f"l{depth}n{j}", label, {"shape": "circle", "width": "0.75", "fixedsize": "true",
                                                    "style": "filled", "fillcolor": "white"}))  # fmt: skip
        columns.append(column)
    for depth, (title, column) in enumerate(zip(titles, columns, strict=True)):
        nodes = [*column, (f"title{depth}", html_label(title), {"shape": "plaintext", "fontcolor": "#495057"})]
        for name, label, attributes in in_order(nodes):
            diagram.node(name, label, **attributes)
        if depth:
            diagram.edge(f"title{depth - 1}", f"title{depth}", style="invis", weight="100")
    previous = [name for name, _, _ in columns[0]]
    for depth, layer in enumerate(layers):
        current = [name for name, _, _ in columns[depth + 1]]
        for j, neuron in in_order(list(enumerate(layer))):
            for source, w in in_order(list(zip(previous, neuron.w, strict=True))):
                share = math.sqrt(abs(w.data) / largest)  # sqrt keeps small weights visible
                opacity = round(60 + 195 * share)  # faint small weights calm the middle of a wide layer
                diagram.edge(
                    source, current[j], color=f"{_POSITIVE if w.data >= 0 else _NEGATIVE}{opacity:02x}",
                    penwidth=f"{0.3 + 3.2 * share:.2f}", arrowhead="none",
                    tooltip=escape_dot(f"{w.label or 'w'} = {w.data:.{precision}f}", quoted=True),
                )  # fmt: skip
        previous = current
    return diagram


_POSITIVE, _NEGATIVE = "#d6336c", "#1c7ed6"
_LEGEND = (
    f'<<font color="{_POSITIVE}">red edge: positive weight</font>     '
    f'<font color="{_NEGATIVE}">blue edge: negative weight</font>     '
    "wider and darker: larger |weight|     b: the neuron's bias>"
)


def _reverse_declaration() -> bool:
    """Whether columns must be declared bottom-up for neuron 0 to be drawn on top.

    Graphviz 2.4x (the Debian and Ubuntu packages) stacks a column as declared; later versions,
    graphviz-pure among them, the other way up. A two-neuron probe, once per renderer, tells which.
    """
    program = find_renderer("svg")
    try:
        return _probe(str(program)) if program is not None else True
    except (RenderError, KeyError, ValueError):
        return True


@functools.cache
def _probe(program: str) -> bool:
    neurons = [SimpleNamespace(w=[Value(1.0)], b=Value(0.0)) for _ in range(2)]
    svg = render(_network([neurons], ["x"], 0, reverse=True).source).decode("utf-8", "replace")
    heights = dict(re.findall(r"<title>(l0n[01])</title>\s*<ellipse[^>]*cy=\"([-\d.]+)\"", svg))
    return float(heights["l0n0"]) < float(heights["l0n1"])  # SVG y grows downwards

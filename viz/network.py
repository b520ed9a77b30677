"""A multilayer perceptron as the textbook picture: neurons as circles, weights as edges."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from graphviz.quoting import quote

from autograd import Value
from viz.checks import check_precision
from viz.escape import escape_dot, html_label
from viz.render import FONT, Diagram, RenderError, find_renderer, render


def draw_network(model: Any, input_names: Sequence[str] | None = None, precision: int = 2) -> Diagram:
    """Draw ``model`` (anything with ``.layers``, each with ``.neurons``, each with weights ``.w`` and bias ``.b``).

    Edge colour gives the weight's sign (red positive, blue negative) and its width the weight's
    size relative to the largest finite one; a weight that is NaN or infinite is a grey dashed edge.
    Each neuron shows its bias (``precision`` digits, 0 to 17) and activation.
    """
    try:
        layers = [list(layer.neurons) for layer in model.layers]
    except AttributeError:
        raise TypeError(
            f"draw_network: expected a model with .layers of .neurons (like nn.MLP), got {type(model).__name__}"
        ) from None
    check_precision("draw_network", precision)
    if not layers:
        raise ValueError("draw_network: the model has no layers, so no neurons to draw")
    for depth, layer in enumerate(layers):
        if not layer:
            raise ValueError(f"draw_network: layer {depth} has no neurons")
    n_inputs = len(layers[0][0].w)
    for depth, layer in enumerate(layers):
        width = n_inputs if depth == 0 else len(layers[depth - 1])
        for j, neuron in enumerate(layer):
            if len(neuron.w) != width:
                reads = "the model's inputs" if depth == 0 else f"the outputs of layer {depth - 1}"
                raise ValueError(
                    f"draw_network: neuron {j} of layer {depth} has {len(neuron.w)} weights, but {reads} are {width}"
                )
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

    weights = [abs(w.data) for layer in layers for neuron in layer for w in neuron.w]
    largest = max((w for w in weights if math.isfinite(w)), default=1.0) or 1.0
    layout = {"rankdir": "LR", "splines": "line", "nodesep": "0.15", "ranksep": "1.6", "fontname": FONT,
              "mclimit": "0.01", "outputorder": "edgesfirst", "pad": "0.3", "label": _legend(weights),
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
                tooltip = escape_dot(f"{w.label or 'w'} = {w.data:.{precision}f}", quoted=True)
                if not math.isfinite(w.data):  # no size to scale, and no sign for NaN
                    diagram.edge(source, current[j], color=_GREY, style="dashed", arrowhead="none", tooltip=tooltip)
                    continue
                share = math.sqrt(abs(w.data) / largest)  # sqrt keeps small weights visible
                opacity = round(60 + 195 * share)  # faint small weights calm the middle of a wide layer
                # The line diagram.edge would write, written directly: a live view redraws 300 edges a frame,
                # and graphviz's quoting of each attribute was most of the drawing's time.
                colour = f"{_POSITIVE if w.data >= 0 else _NEGATIVE}{opacity:02x}"
                diagram.body.append(f'\t{source} -> {current[j]} [arrowhead=none color="{colour}" '
                                    f"penwidth={0.3 + 3.2 * share:.2f} tooltip={quote(tooltip)}]\n")  # fmt: skip
        previous = current
    return diagram


_POSITIVE, _NEGATIVE, _GREY = "#d6336c", "#1c7ed6", "#868e96"


def _legend(weights: list[float]) -> str:
    """The colour key under the picture; it explains grey dashed edges only when there are some."""
    finite = all(map(math.isfinite, weights))
    odd = "" if finite else f'     <font color="{_GREY}">grey dashed: NaN or infinite</font>'
    return (
        f'<<font color="{_POSITIVE}">red edge: positive weight</font>     '
        f'<font color="{_NEGATIVE}">blue edge: negative weight</font>     '
        f"wider and darker: larger |weight|{odd}     b: the neuron's bias>"
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

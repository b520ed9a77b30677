"""The computation graph as a diagram: a box per Value (label, data, grad), a circle per op."""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import graphviz

import autograd as ag
from autograd import Value
from viz.checks import check_flag, check_format, check_max_nodes, check_precision, check_rankdir, check_title
from viz.escape import escape_dot, html_label
from viz.render import FONT, Diagram, RenderError, find_renderer, render

Owner = object
T = TypeVar("T")
Collapse = type | tuple[type, ...] | Callable[[Owner], bool] | None


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``; drawing it would be unreadable and slow."""


def draw_graph(
    root: Value | Sequence[Value],
    *,
    rankdir: str = "LR",
    precision: int = 4,
    show_grad: bool = True,
    grads: Mapping[Value, float] | None = None,
    edge_labels: bool = False,
    color: bool = True,
    highlight: Iterable[Value] = (),
    clusters: bool = True,
    collapse: Collapse = None,
    max_nodes: int | None = 500,
    title: str | None = None,
    format: str = "svg",  # noqa: A002  (micrograd's keyword)
) -> Diagram:
    """Draw the graph that ``root`` (one Value or several) was computed from.

    Each Value is a box with its label, ``data`` and ``grad`` (``precision`` digits); each op is a
    circle between its operands and its result. ``rankdir`` is "LR" (left to right) or "TB".

    - ``grads``: show these gradients instead of ``.grad`` (e.g. ``autograd.backprop(root)``);
      nodes missing from the mapping show "grad ?".
    - ``edge_labels``: write the local derivative d(result)/d(operand) on each edge.
    - ``color``: shade each grad cell red (positive) or blue (negative), darker for larger |grad|.
    - ``highlight``: Values to outline, with the edges between them (see :func:`nodes_on_paths`).
    - ``clusters``: group nodes made inside ``autograd.scope`` blocks (nn neurons and layers).
    - ``collapse``: a type (e.g. ``nn.Neuron``), tuple of types or predicate on scope owners; each
      matching owner is drawn as one box, so a whole MLP stays readable. Where every one of several
      sources feeds every one of several boxes (one wide layer into the next), the edges meet in one
      small node that counts them ("16 × 16"), instead of a band of 256 crossing lines.
    - ``max_nodes``: a larger graph raises :class:`GraphTooLargeError` instead of hanging the renderer;
      counting stops as soon as the limit is passed, so a huge graph fails at once. ``None`` means no
      limit (the renderer's timeout, ``RENDER_TIMEOUT`` in viz/render.py, still applies).
    - ``format``: what graphviz's own ``render()`` writes, as in micrograd's ``draw_dot(root, format="svg")``.

    A ``dot`` node whose last weight multiplies the constant 1, the way ``nn.Neuron`` adds its bias, is
    drawn "w·x+b". Plain numbers a ``dot`` reads as inputs are dashed boxes named x0, x1, ...; every
    other number (the bias's 1, the 2 of ``x * 2``) is small grey text.
    """
    check_format("draw_graph", format)
    check_rankdir("draw_graph", rankdir)
    check_precision("draw_graph", precision)
    for name, flag in (("show_grad", show_grad), ("edge_labels", edge_labels), ("color", color),
                       ("clusters", clusters)):  # fmt: skip
        check_flag("draw_graph", name, flag)
    roots = _roots(root)
    check_max_nodes("draw_graph", max_nodes)
    check_title("draw_graph", title)
    layout = layout_within(roots, collapse, clusters, max_nodes, _too_large)
    everything = [*layout.values, *(v for _, members in layout.boxes.values() for v in members)]
    style = Style(precision, show_grad, grads, color, set(highlight), everything, set(roots), rankdir=rankdir)
    layout_attributes = {"rankdir": rankdir, "fontname": FONT, "nodesep": "0.25", "ranksep": "0.35", "pad": "0.1"}
    diagram = Diagram(format=format, graph_attr=layout_attributes)
    diagram.attr("node", fontname=FONT, fontsize="11")
    diagram.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")
    if title:
        diagram.attr(label=html_label(title), labelloc="t", fontsize="13")
    emit_nodes(diagram, layout, style)
    emit_edges(diagram, layout, style, edge_labels)
    return diagram


draw_dot = draw_graph  # the name micrograd users know

_ADVICE = "pass collapse=nn.Neuron (or nn.Layer) to draw each neuron or layer as one box, or raise max_nodes"


def _roots(root: object) -> list[Value]:
    """The Values to draw: ``root`` itself, or the items of a list or tuple of Values, at least one."""
    candidates: list[object] = list(root) if isinstance(root, (list, tuple)) else [root]
    roots = [r for r in candidates if isinstance(r, Value)]
    if len(roots) != len(candidates) or not roots:
        bad = next((r for r in candidates if not isinstance(r, Value)), root)
        raise TypeError(f"draw_graph: expected a Value or a sequence of Values, got {type(bad).__name__}")
    return roots


def layout_within(
    roots: list[Value], collapse: Collapse, clusters: bool, limit: int | None, refuse: Callable[[int, int, bool], str]
) -> Layout:
    """The layout of the roots' graph, or GraphTooLargeError(refuse(limit, count, exact)) once it passes ``limit``.

    The count stops soon after ``limit``, so a huge graph is refused at once (``exact`` False, the count where it
    stopped); a graph that passes the limit only when laid out is refused with its size (``exact`` True).
    """
    collapsed = matcher(collapse)
    if limit is not None:
        counted = count_until(roots, collapsed, collapse is None, limit)
        if counted > limit:
            raise GraphTooLargeError(refuse(limit, counted, False))
    layout = Layout.of(roots, collapsed, clusters)
    if limit is not None and layout.size > limit:
        raise GraphTooLargeError(refuse(limit, layout.size, True))
    return layout


def _too_large(max_nodes: int, count: int, exact: bool) -> str:
    if exact:
        return f"draw_graph: the graph has {count:,} nodes to draw, more than max_nodes={max_nodes:,}; {_ADVICE}"
    return (
        f"draw_graph: the graph has more than max_nodes={max_nodes:,} nodes to draw (counting stopped at {count:,}); "
        f"{_ADVICE}"
    )


def count_until(roots: list[Value], collapsed: Callable[[Owner], bool], plain: bool, limit: int) -> int:
    """A lower bound on the drawing's size, counted only until it passes ``limit``: a huge graph is refused
    after about ``limit`` nodes instead of after walking all of it.

    An op node is drawn as a box, a circle and its constants unless a collapsed owner holds it; each
    collapsed owner is one box. Leaves count only without ``collapse`` (with it, a leaf may join its
    consumers' box). The exact size is checked after the layout when this bound stays within ``limit``.
    """
    seen: set[Value] = set()
    boxes: set[int] = set()
    stack = list(roots)
    count = 0
    while stack and count <= limit:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        owner = next((o for o in node.scope if collapsed(o)), None) if not plain else None
        if owner is not None:
            if id(owner) not in boxes:
                boxes.add(id(owner))
                count += 1
        elif node.op:
            count += 2 + sum(1 for x in node.inputs if not isinstance(x, Value))
        elif plain:
            count += 1
        stack.extend(node.parents)
    return count


def nodes_on_paths(root: Value, leaf: Value) -> set[Value]:
    """Every Value on some path from ``leaf`` up to ``root`` (empty if root does not depend on leaf).

    ``draw_graph(root, highlight=nodes_on_paths(root, w))`` shows which routes w's gradient is summed over.
    """
    ancestors = ag.backward_order(root)
    on_path: set[Value] = {leaf} if any(v is leaf for v in ancestors) else set()
    for node in reversed(ancestors):  # inputs before results
        if any(p in on_path for p in node.parents):
            on_path.add(node)
    return on_path


# -- which nodes go where ---------------------------------------------------------------------


@dataclass
class _Cluster:
    owner: Owner
    children: dict[int, _Cluster] = field(default_factory=dict)
    members: list[Value] = field(default_factory=list)


@dataclass
class Layout:
    values: list[Value]  # every Value drawn on its own, inputs before results
    boxes: dict[int, tuple[Owner, list[Value]]]  # collapsed owners: id -> (owner, the Values inside)
    box_of: dict[Value, int]
    top: _Cluster  # cluster tree for the Values drawn on their own
    consumers: dict[Value, list[Value]]
    size: int
    rank: dict[Value, int] = field(default_factory=dict)  # every Value, boxed or not: its place in operand order
    names: dict[int, int] = field(default_factory=dict)

    def name(self, ident: int) -> int:
        """A small number for an object's id, given in drawing order: the DOT is the same on every run."""
        return self.names.setdefault(ident, len(self.names))

    @classmethod
    def of(cls, roots: list[Value], collapsed: Callable[[Owner], bool], clusters: bool) -> Layout:
        everything = dict.fromkeys(ag.operand_order(roots))
        consumers: dict[Value, list[Value]] = {v: [] for v in everything}
        for node in everything:
            for parent in node.parents:
                consumers[parent].append(node)

        # A leaf (a weight, a bias) belongs with the nodes that use it when they all share one scope
        # inside the leaf's own: a weight made by a layer but used only by one neuron sits in the neuron.
        def scope_of(v: Value) -> tuple[Owner, ...]:
            if v.op or not consumers[v]:
                return v.scope
            used_in = {tuple(map(id, c.scope)) for c in consumers[v]}
            inner = consumers[v][0].scope
            if len(used_in) == 1 and tuple(map(id, inner[: len(v.scope)])) == tuple(map(id, v.scope)):
                return inner
            return v.scope

        boxes: dict[int, tuple[Owner, list[Value]]] = {}
        box_of: dict[Value, int] = {}
        top = _Cluster(owner=None)
        drawn: list[Value] = []
        size = 0
        for v in everything:
            scope = scope_of(v)
            owner = next((o for o in scope if collapsed(o)), None)
            if owner is not None:
                boxes.setdefault(id(owner), (owner, []))[1].append(v)
                box_of[v] = id(owner)
                continue
            drawn.append(v)
            size += 1 + (1 if v.op else 0) + sum(1 for x in v.inputs if not isinstance(x, Value))
            cluster = top
            for o in scope if clusters else ():
                if collapsed(o):
                    break
                cluster = cluster.children.setdefault(id(o), _Cluster(owner=o))
            cluster.members.append(v)
        rank = {v: i for i, v in enumerate(everything)}
        return cls(drawn, boxes, box_of, top, consumers, size + len(boxes), rank)


def matcher(collapse: Collapse) -> Callable[[Owner], bool]:
    """Whether a scope owner is drawn as one box; a predicate that raises has its error named as draw_graph's."""
    if collapse is None:
        return lambda owner: False
    if isinstance(collapse, (type, tuple)):
        kinds = collapse
        return lambda owner: isinstance(owner, kinds)
    if callable(collapse):
        predicate = collapse

        def asked(owner: Owner) -> bool:
            try:
                return bool(predicate(owner))
            except Exception as error:
                raise _named(error, f"draw_graph: collapse raised {type(error).__name__} on the scope owner "
                                    f"{_owner_name(owner)!r:.80}: {error}") from error  # fmt: skip

        return asked
    raise TypeError(f"draw_graph: collapse must be a type, a tuple of types or a predicate, got {collapse!r}")


def _named(error: Exception, message: str) -> Exception:
    """An error of ``error``'s type saying ``message``; where the type wants other arguments, ``error`` itself
    with the message as a note, so a custom exception class still reaches the caller unchanged."""
    try:
        named = type(error)(message)
    except Exception:
        named = None
    if type(named) is type(error):
        assert named is not None
        return named
    if hasattr(error, "add_note"):  # Python 3.11+
        error.add_note(message)
    return error


# -- how nodes look ---------------------------------------------------------------------------


@dataclass
class Style:
    precision: int
    show_grad: bool
    grads: Mapping[Value, float] | None
    color: bool
    highlight: set[Value]
    values: list[Value]
    roots: set[Value]
    largest: float = 0.0
    rankdir: str = "LR"

    def __post_init__(self) -> None:
        known = [abs(g) for v in self.values if (g := self.grad(v)) is not None and math.isfinite(g)]
        self.largest = max(known, default=0.0)

    def grad(self, v: Value) -> float | None:
        if self.grads is None:
            return v.grad
        found = self.grads.get(v)
        return None if found is None else float(found)

    def number(self, x: float) -> str:
        if x == 0:
            x = 0.0  # no "-0.0000"
        if x == 0 or (1e-3 <= abs(x) < 1e6):
            return f"{x:.{self.precision}f}"
        return f"{x:.{max(self.precision - 1, 0)}e}"

    def grad_text(self, g: float | None) -> str:
        """"grad 0.2500", or "grad ?" for a gradient not known (yet)."""
        return "grad ?" if g is None else f"grad {self.number(g)}"

    def grad_width(self) -> int:
        """Points enough for the widest known gradient: every grad cell gets at least this width, so a box
        keeps its size from frame to frame of the backward pass while its "grad ?" is filled in."""
        widest = f"grad {self.number(-(self.largest or 1.0))}"
        return math.ceil(len(widest) * 7.0) + 8  # DejaVu Sans 11 pt digits are about 7 pt wide

    def fill(self, g: float | None) -> str:
        """White for 0, deepening red for positive and blue for negative gradients."""
        if not self.color or g is None or g == 0 or not math.isfinite(g) or self.largest == 0:
            return "#ffffff"
        strength = math.sqrt(min(abs(g) / self.largest, 1.0))  # sqrt keeps small gradients visible
        fade = round(255 - 150 * strength)
        return f"#ff{fade:02x}{fade:02x}" if g > 0 else f"#{fade:02x}{fade:02x}ff"


def _value_label(v: Value, style: Style) -> str:
    cells = [f'<td border="1" sides="r">{escape_dot(v.label)}</td>'] if v.label else []
    cells.append(f"<td>data {style.number(v.data)}</td>")
    if style.show_grad:
        g = style.grad(v)
        width = style.grad_width()
        cells.append(f'<td width="{width}" bgcolor="{style.fill(g)}" border="1" sides="l">{style.grad_text(g)}</td>')
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="3"><tr>{"".join(cells)}</tr></table>>'


def _box_label(owner: Owner, members: list[Value], style: Style, outputs: list[Value]) -> str:
    rows = [f'<tr><td colspan="2"><b>{escape_dot(_owner_name(owner))}</b></td></tr>']
    rows.append(f'<tr><td colspan="2"><font point-size="9">{len(members)} nodes inside</font></td></tr>')
    for v in outputs:
        g = style.grad(v)
        grad = style.grad_text(g)
        cell = f'<td width="{style.grad_width()}" bgcolor="{style.fill(g)}">{grad}</td>'
        rows.append(f"<tr><td>data {style.number(v.data)}</td>{cell}</tr>")
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="3">{"".join(rows)}</table>>'


def op_symbol(v: Value) -> str:
    """The op's symbol in its circle: "w·x+b" for a dot node that adds a bias (see :func:`operand_kind`)."""
    if v.op == "dot" and operand_kind(v, len(v.inputs) - 1) == "bias":
        return "w·x+b"
    return v.op_symbol


def operand_kind(v: Value, position: int) -> str:
    """What the number at ``v.inputs[position]`` is: "bias", "input" or "constant" ("value" for a Value).

    A dot node's operands are its weights, then its inputs. nn's neuron adds its bias b as one more
    weight whose input is the constant 1 (``ag.dot([*w, b], [*x, 1.0])``): that last 1, when it
    multiplies a Value, is the "bias" constant. Other numbers in the inputs' half are the sample's
    "input"s; every other number, such as the 2 of ``x * 2``, is a "constant".
    """
    inputs = v.inputs
    x = inputs[position]
    if isinstance(x, Value):
        return "value"
    if v.op != "dot" or len(inputs) % 2 or position < len(inputs) // 2:
        return "constant"
    half = len(inputs) // 2
    if position == len(inputs) - 1 and x == 1.0 and isinstance(inputs[half - 1], Value):
        return "bias"
    return "input"


def _operand_node(v: Value, position: int, style: Style) -> tuple[str, dict[str, str]]:
    """The label and look of the number ``v.inputs[position]``: an input as a dashed box, a constant as grey text."""
    x = v.inputs[position]
    assert not isinstance(x, Value)
    kind = operand_kind(v, position)
    if kind == "input":
        name = f"x{position - len(v.inputs) // 2}"
        cells = f'<td border="1" sides="r">{name}</td><td>data {style.number(x)}</td>'
        label = f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="3"><tr>{cells}</tr></table>>'
        return label, {"shape": "box", "style": "rounded,dashed", "margin": "0.02", "color": "#868e96"}
    text = f"{x:g}" if kind == "constant" else "constant 1 (b's input)"
    return html_label(text), {"shape": "plaintext", "fontcolor": "#868e96", "fontsize": "9", "height": "0.2"}


def _owner_name(owner: Owner) -> str:
    if isinstance(owner, str):
        return owner
    name = getattr(owner, "name", None)
    if isinstance(name, str) and name:
        return name
    describe = getattr(owner, "describe", None)  # nn modules: a one-line summary
    return str(describe()) if callable(describe) else repr(owner)


# -- writing the DOT --------------------------------------------------------------------------


def _node_id(v: Value, layout: Layout) -> str:
    box = layout.box_of.get(v)
    return f"box{layout.name(box)}" if box is not None else f"v{layout.name(id(v))}"


def emit_nodes(diagram: Diagram, layout: Layout, style: Style) -> None:
    def emit(target: graphviz.Digraph, cluster: _Cluster) -> None:
        for v in cluster.members if cluster is layout.top else _in_order(cluster.members):
            marked = v in style.highlight
            target.node(
                f"v{layout.name(id(v))}", _value_label(v, style), shape="box", style="rounded", margin="0.02",
                color="#e8590c" if marked else "#444444", penwidth="3" if marked else "1",
            )  # fmt: skip
            if v.op:
                target.node(f"op{layout.name(id(v))}", html_label(op_symbol(v)), shape="circle", width="0.3",
                            margin="0.01", style="filled", fillcolor="#f1f3f5", ordering="in",
                            color="#e8590c" if marked else "#868e96")
            for position, x in enumerate(v.inputs):
                if not isinstance(x, Value):
                    label, attributes = _operand_node(v, position, style)
                    target.node(f"c{layout.name(id(v))}_{position}", label, **attributes)
        for number, child in _in_order(list(enumerate(cluster.children.values()))):
            with target.subgraph(name=f"cluster_{layout.name(id(child.owner))}_{number}") as sub:
                sub.attr(label=html_label(_owner_name(child.owner)), style="rounded,dashed", color="#adb5bd",
                         fontcolor="#495057", fontsize="10")
                emit(sub, child)

    emit(diagram, layout.top)
    for box, (owner, members) in layout.boxes.items():
        outputs = box_outputs(layout, box, style.roots)
        diagram.node(f"box{layout.name(box)}", _box_label(owner, members, style, outputs), shape="box",
                     style="rounded,filled", fillcolor="#f8f9fa", color="#495057")


def box_outputs(layout: Layout, box: int, roots: set[Value]) -> list[Value]:
    """The Values of a collapsed box that are read outside it (or are roots), in the order they are read.

    A layer's outputs are listed as the next layer reads them, neuron 0 first: each is placed by the
    first node outside the box that reads it and by its position among that node's operands.
    """
    members = layout.boxes[box][1]
    outputs = [v for v in members if v in roots or any(layout.box_of.get(c) != box for c in layout.consumers[v])]

    def place(v: Value) -> tuple[int, int]:
        readers = [c for c in layout.consumers[v] if layout.box_of.get(c) != box]
        if v in roots or not readers:
            return (-1, layout.rank[v])
        first = min(readers, key=layout.rank.__getitem__)
        return (layout.rank[first], next(i for i, x in enumerate(first.inputs) if x is v))

    return sorted(outputs, key=place)


def emit_edges(diagram: Diagram, layout: Layout, style: Style, edge_labels: bool) -> None:
    seen_box_edges: set[tuple[str, str]] = set()
    outside = set(layout.top.members)
    for v in layout.values:
        if not v.op:
            continue
        derivatives = ag.local_derivatives(v) if edge_labels else ()
        # Inside a cluster, dot stacks an op's operands from the bottom up in the order their edges are
        # declared when it lays out left to right; top to bottom, it puts them left to right in that order.
        operands = list(enumerate(v.inputs))
        for position, x in operands if v in outside or style.rankdir in ("TB", "BT") else operands[::-1]:
            source = _node_id(x, layout) if isinstance(x, Value) else f"c{layout.name(id(v))}_{position}"
            attributes: dict[str, str] = {}
            if isinstance(x, Value) and x in style.highlight and v in style.highlight:
                attributes.update(color="#e8590c", penwidth="2.5")
            if position < len(derivatives) and isinstance(x, Value):
                attributes["label"] = html_label(style.number(derivatives[position]))
            if source.startswith("box"):
                if (source, f"op{layout.name(id(v))}") in seen_box_edges:
                    continue
                seen_box_edges.add((source, f"op{layout.name(id(v))}"))
            diagram.edge(source, f"op{layout.name(id(v))}", **attributes)
        out_attributes = {"color": "#e8590c", "penwidth": "2.5"} if v in style.highlight else {}
        diagram.edge(f"op{layout.name(id(v))}", f"v{layout.name(id(v))}", **out_attributes)
    _emit_box_inputs(diagram, layout)


BUNDLE_AT = 16
"""Edges from every one of several sources into every one of several boxes are bundled from this many on."""


def _emit_box_inputs(diagram: Diagram, layout: Layout) -> None:
    """The edges of Values that enter a collapsed box from outside it, one per source, labelled with how many
    Values flow along it when more than one; a complete set of at least ``BUNDLE_AT`` edges between several
    sources and several boxes (one wide layer into the next) goes through one node that counts them."""
    entering: dict[str, dict[str, set[Value]]] = {}  # box -> source -> the Values it sends into the box
    for box, (_, members) in layout.boxes.items():
        sources = entering.setdefault(f"box{layout.name(box)}", {})
        for v in members:
            for x in v.parents:
                if layout.box_of.get(x) != box:
                    sources.setdefault(_node_id(x, layout), set()).add(x)
    groups: dict[frozenset[str], list[str]] = {}
    for target, sources in entering.items():
        if sources:
            groups.setdefault(frozenset(sources), []).append(target)
    for targets in groups.values():
        sources = entering[targets[0]]
        if len(sources) > 1 and len(targets) > 1 and len(sources) * len(targets) >= BUNDLE_AT:
            _emit_bundle(diagram, layout, list(sources), targets)
            continue
        for target in targets:
            for source, values in entering[target].items():
                carried = {"label": html_label(f"{len(values)} values")} if len(values) > 1 else {}
                diagram.edge(source, target, **carried)


def _emit_bundle(diagram: Diagram, layout: Layout, sources: list[str], targets: list[str]) -> None:
    """Every source joined to every target through one small node that says how many edges it stands for."""
    hub = f"bundle{layout.name(id(targets[0]))}"
    label = (
        f'<<b>{len(sources)} × {len(targets)}</b><br/><font point-size="8">{len(sources) * len(targets)} edges: '
        f"each of {len(sources)} to each of {len(targets)}</font>>"
    )
    diagram.node(hub, label, shape="box", style="rounded,filled", fillcolor="#e9ecef", color="#adb5bd",
                 fontsize="10", margin="0.05,0.02")  # fmt: skip
    for source in sources:
        diagram.edge(source, hub, arrowhead="none", color="#868e96")
    for target in targets:
        diagram.edge(hub, target, color="#868e96")


def _in_order(items: list[T]) -> list[T]:
    """``items`` in the order to declare them for the first to be drawn on top (see _stacked_upwards)."""
    return items[::-1] if _stacked_upwards() else items


def _stacked_upwards() -> bool:
    """Whether the renderer stacks what is declared first at the bottom of a column.

    Graphviz 2.4x (the Debian and Ubuntu packages) stacks nodes and clusters as declared, top-down;
    later versions, graphviz-pure among them, often the other way up. A probe of one small cluster, once
    per renderer, tells which.
    """
    if sys.platform == "emscripten":  # viz.js (viz/browser.py): a recent Graphviz, probed like the others
        try:
            return _probe("viz.js")
        except (RenderError, KeyError, ValueError):
            return True  # viz.js not loaded yet: recent Graphviz stacks upwards
    program = find_renderer("svg")
    try:
        return _probe(str(program)) if program is not None else False
    except (RenderError, KeyError, ValueError):
        return False


@functools.cache
def _probe(program: str) -> bool:
    source = "digraph { rankdir=LR; subgraph cluster_0 { a0; a1; a0 -> c; a1 -> c; } }"
    svg = render(source, "svg").decode("utf-8", "replace")
    heights = dict(re.findall(r"<title>(a[01])</title>\s*<ellipse[^>]*cy=\"([-\d.]+)\"", svg))
    return float(heights["a0"]) > float(heights["a1"])  # SVG y grows downwards: a0 drawn below a1

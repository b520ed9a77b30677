"""A compiled plan as a diagram: one box per array op, arrows where its columns come from.

``autograd.compile`` regroups the scalar nodes of one sample's graph into a few array ops (see
autograd/compiler/plan.py). :func:`draw_plan` draws those ops top to bottom, and with ``beside=`` puts the scalar
graph of one neuron on the left, so the two pictures of the same computation can be compared.

numpy and the compiler are imported when :func:`draw_plan` is called, not with ``viz``: the diagrams of
scalar graphs need neither (where numpy is missing, draw_plan raises an ImportError saying so).
"""

from __future__ import annotations

import functools
import itertools
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autograd import Value
from viz.checks import check_batch, check_flag, check_max_nodes, check_title, require_numpy
from viz.escape import escape_dot
from viz.graph import GraphTooLargeError, Layout, Style, emit_edges, emit_nodes, layout_within
from viz.render import FONT, Diagram

if TYPE_CHECKING:
    import numpy as np

    from autograd.compiler import ArrayOp, Gather, Piece, Plan

_INPUT, _MATMUL, _ELEMENTWISE = "#e9ecef", "#d0ebff", "#ffffff"
_PARAMETERS, _LINK = "#fff3bf", "#e8590c"
_GREY = "#868e96"


def draw_plan(
    plan: Plan,
    *,
    beside: Value | None = None,
    batch: int | None = None,
    edge_labels: bool = True,
    title: str | None = None,
    max_nodes: int | None = 500,
) -> Diagram:
    """Draw a compiled plan: a box per step, an arrow from each step (or input) to the steps that read it.

    Each box says what the step is and how many scalar nodes it stands for, e.g. "8 dot nodes → matmul
    (B×5)·(5×8)": the eight neurons of a layer, their four weights and bias each, as one matrix product
    (the inputs get a column of ones for the bias). B is the batch size, or ``batch`` when given. The
    parameters (and plain numbers) a step reads are drawn as small boxes beside it; ``edge_labels``
    writes on each arrow how many columns flow along it. The title gives the totals.

    ``beside``: a Value, such as one neuron's output, whose scalar graph is drawn on the left as
    :func:`viz.draw_graph` draws it. A dashed arrow joins each of its dot nodes to the matmul step
    that computes it, as one column, when its weights are parameters of the plan.

    ``max_nodes``: a drawing with more boxes than this (steps, parameter boxes and the ``beside`` graph)
    raises :class:`GraphTooLargeError`; ``None`` means no limit.

    >>> import numpy as np, autograd as ag, nn, viz
    >>> model = nn.MLP(4, [8, 8, 3])
    >>> loss = ag.compile(lambda x, y: nn.cross_entropy(model(x), y))
    >>> _ = loss(np.zeros((32, 4)), np.zeros(32, dtype=int))
    >>> neuron = model.layers[0].neurons[0]([0.5, -1.0, 2.0, 0.1])
    >>> diagram = viz.draw_plan(loss.plan, beside=neuron, batch=32)
    >>> "8 dot nodes → matmul (32×5)·(5×8)" in diagram.source
    True

    ``viz.save_diagram(diagram, "plan.svg")`` writes it.
    """
    _check_plan(plan, beside)
    batch = check_batch("draw_plan", batch)
    check_flag("draw_plan", "edge_labels", edge_labels)
    check_title("draw_plan", title)
    check_max_nodes("draw_plan", max_nodes)
    boxes = _boxes(plan)
    if max_nodes is not None and len(boxes) > max_nodes:
        raise GraphTooLargeError(
            f"draw_plan: the plan has {len(boxes):,} boxes to draw, more than max_nodes={max_nodes:,}; raise max_nodes"
        )
    limit = None if max_nodes is None else max_nodes - len(boxes)
    refuse = functools.partial(_too_large, len(boxes))
    layout = None if beside is None else layout_within([beside], None, True, limit, refuse)
    shape = _Shapes("B" if batch is None else str(batch))
    diagram = Diagram(graph_attr={"rankdir": "TB", "fontname": FONT, "nodesep": "0.3", "ranksep": "0.35",
                                  "pad": "0.15", "newrank": "true"})  # fmt: skip
    diagram.attr("node", fontname=FONT, fontsize="11")
    diagram.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7", color="#495057", fontcolor=_GREY)
    links = [] if beside is None or layout is None else _draw_beside(diagram, plan, beside, layout)
    with diagram.subgraph(name="cluster_plan") as right:
        right.attr(label=_html("the compiled plan: one box per array op"),
                   style="rounded", color="#adb5bd", fontcolor="#495057", fontsize="11")  # fmt: skip
        for box in boxes:
            right.node(box.name, box.label(plan, shape), **box.attributes)
    for box in boxes:
        for source, columns in box.reads:
            attributes = {"label": _html(_counted(columns, "column"))} if edge_labels and columns else {}
            diagram.edge(source, box.name, **attributes)
    if layout is not None:
        _draw_links(diagram, plan, layout, links)
    diagram.attr(label=_title(plan, title, shape, links, beside is not None), labelloc="t", fontsize="13")
    return diagram


def _check_plan(plan: object, beside: object) -> None:
    """Refuse what is not a plan (naming ``.plan`` when given the compiled function) and a ``beside`` not a Value.

    The compiler is imported here, and numpy with it: a clear ImportError where numpy is missing."""
    require_numpy("viz.draw_plan")
    from autograd.compiler import Compiled, Plan

    if not isinstance(plan, Plan):
        hint = "; pass compiled.plan, after calling it once" if isinstance(plan, Compiled) else ""
        raise TypeError(f"draw_plan: expected an autograd Plan (compiled.plan), got {type(plan).__name__}{hint}")
    if beside is not None and not isinstance(beside, Value):
        raise TypeError(f"draw_plan: beside must be a Value (one neuron's output) or None, got {type(beside).__name__}")


def _too_large(boxes: int, limit: int, count: int, exact: bool) -> str:
    """The refusal of a graph beside that, with the plan's ``boxes``, has more than max_nodes to draw."""
    max_nodes = boxes + limit
    if exact:
        return (
            f"draw_plan: the plan ({boxes:,} boxes) and the graph beside it ({count:,} nodes) are more than "
            f"max_nodes={max_nodes:,}; pass one neuron's output as beside, or raise max_nodes"
        )
    return (
        f"draw_plan: the plan ({boxes:,} boxes) and the graph beside it have more than max_nodes={max_nodes:,} "
        "nodes to draw; pass one neuron's output as beside, or raise max_nodes"
    )


# -- what is drawn ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shapes:
    batch: str  # "B", or the batch size

    def batched(self, columns: int) -> str:
        return f"({self.batch}×{columns})"


@dataclass(frozen=True)
class _Box:
    """One node of the plan's drawing: a step, the outputs, or the parameters or constants one of them reads."""

    name: str
    kind: str  # a step's kind ("input", "elementwise", "matmul"), or "outputs", "parameters", "constants"
    number: int  # the step's number (for a side box: its reader's; -1 for the outputs)
    reads: tuple[tuple[str, int], ...]  # (the box read from, columns read): no columns for a matmul's weights
    values: tuple[float, ...] = ()  # constants: the distinct numbers
    matrix: tuple[int, int] | None = None  # a matmul's weights, parameters or constants: (n, k)
    count: int = 0  # parameters: how many a step reads (besides a matmul's weights)
    names: tuple[str, ...] = ()  # parameters: the labels of those it reads, when there are a few

    @property
    def attributes(self) -> dict[str, str]:
        if self.kind == "parameters":
            return {"shape": "box", "style": "rounded,filled", "fillcolor": _PARAMETERS, "color": "#f08c00",
                    "fontsize": "10"}  # fmt: skip
        if self.kind == "constants":
            return {"shape": "box", "style": "rounded,dashed", "color": _GREY, "fontcolor": "#495057",
                    "fontsize": "10"}  # fmt: skip
        if self.kind == "outputs":
            return {"shape": "box", "style": "rounded,bold", "color": "#495057"}
        fill = {"input": _INPUT, "matmul": _MATMUL}.get(self.kind, _ELEMENTWISE)
        return {"shape": "box", "style": "rounded,filled", "fillcolor": fill, "color": "#495057"}

    def label(self, plan: Plan, shape: _Shapes) -> str:
        if self.kind == "parameters":
            count = self.matrix[0] * self.matrix[1] + self.count if self.matrix else self.count
            lines = [f"weights {self.matrix[0]}×{self.matrix[1]}"] if self.matrix else ["parameters"]
            if self.names and not self.matrix:
                lines = [f"parameter{'s' * (len(self.names) != 1)} {', '.join(self.names)}"]
            return _html(*lines, f"{count:,} Value{'s' * (count != 1)}")
        if self.kind == "constants":
            numbers = ", ".join(f"{x:g}" for x in self.values[:3]) + (", …" if len(self.values) > 3 else "")
            if self.matrix:
                return _html(f"constant weights {self.matrix[0]}×{self.matrix[1]}", numbers)
            return _html(f"constant{'s' * (len(self.values) != 1)} {numbers}")
        if self.kind == "outputs":
            width = plan.outputs.width
            return _html("output", f"{shape.batched(width)}: {'one Value' if width == 1 else f'{width} Values'} "
                                   "per sample", bold=True)  # fmt: skip
        step = plan.steps[self.number]
        return _html(f"step {self.number}: {step.kind}", _describe(step, shape), f"depth {step.depth}", bold=True)


def _describe(step: ArrayOp, shape: _Shapes) -> str:
    """"8 dot nodes → matmul (B×5)·(5×8)", "8 relu nodes → one relu (B×8)", "argument 0 → (B×4)"."""
    if step.kind == "input":
        return f"argument {step.argument} → {shape.batched(step.width)}"
    name = step.op.name if step.op is not None else "?"
    nodes = f"{step.width:,} {name} node{'s' * (step.width != 1)}"
    if step.kind == "matmul":
        n = step.operands[0].width
        return f"{nodes} → matmul {shape.batched(n)}·({n}×{step.width})"
    return f"{nodes} → one {name} {shape.batched(step.width)}"


def _boxes(plan: Plan) -> list[_Box]:
    """The steps in order, each after the parameters and constants it reads; then the outputs."""
    boxes: list[_Box] = []
    for number, step in enumerate(plan.steps):
        boxes += _with_sides(plan, f"step{number}", step.kind, number, step.operands, step)
    boxes += _with_sides(plan, "outputs", "outputs", -1, (plan.outputs,), None)
    return boxes


def _with_sides(
    plan: Plan, name: str, kind: str, number: int, operands: Sequence[Gather], step: ArrayOp | None
) -> list[_Box]:
    """Box ``name`` after the boxes of what it reads besides steps: parameters, constants, a matmul's weights.

    A matmul's weights that are constants get a box of their own, apart from the constants its columns
    read (the 1 of a bias column), as parameter weights would be apart from them in a parameters box.
    """
    import numpy as np

    from autograd.compiler import CONSTANTS, LEAVES

    columns: dict[int, int] = {}  # source (a step, LEAVES or CONSTANTS) -> columns read from it
    numbers: list[float] = []
    leaves: dict[int, None] = {}
    for gather in operands:
        for piece in gather.pieces:
            columns[piece.source] = columns.get(piece.source, 0) + _count(piece)
            if piece.source == LEAVES:
                leaves.update(dict.fromkeys(np.arange(len(plan.leaves))[piece.take].tolist()))
            if piece.source == CONSTANTS:
                numbers += np.asarray(plan.constants[piece.take], dtype=float).tolist()
    weights = step.weight_source if step is not None and step.kind == "matmul" else None
    matrix = (step.operands[0].width, step.width) if step is not None and weights is not None else None
    sides = []
    if LEAVES in columns or weights == LEAVES:
        labels = tuple(plan.leaves[i].label for i in leaves)
        named = labels if len(labels) <= 3 and all(labels) else ()
        sides.append(_Box(f"{name}_parameters", "parameters", number, (), matrix=matrix if weights == LEAVES else None,
                          count=columns.get(LEAVES, 0), names=named))  # fmt: skip
    if step is not None and weights == CONSTANTS:
        values = np.asarray(plan.constants[_flat(step)], dtype=float).ravel().tolist()
        sides.append(_Box(f"{name}_weights", "constants", number, (), _distinct(values), matrix))
    if CONSTANTS in columns:
        sides.append(_Box(f"{name}_constants", "constants", number, (), _distinct(numbers)))
    reads = [(_source_name(source, name), count) for source, count in columns.items()]
    if weights is not None and (weights != LEAVES or LEAVES not in columns):  # the weights: no columns of a batch
        reads.append((f"{name}_parameters" if weights == LEAVES else f"{name}_weights", 0))
    return [*sides, _Box(name, kind, number, tuple(reads))]


def _distinct(numbers: list[float]) -> tuple[float, ...]:
    """The numbers once each, in order; told apart by their bits, so 0.0 and -0.0 (and NaNs) both stay."""
    found: dict[bytes, float] = {}
    for x in numbers:
        found.setdefault(struct.pack("d", x), x)
    return tuple(found.values())


def _count(piece: Piece) -> int:
    if isinstance(piece.into, slice):
        return int(piece.into.stop - piece.into.start)
    return len(piece.into)


def _flat(step: ArrayOp) -> np.ndarray:
    """The positions of a matmul's weights in the leaves (or constants), one row per node: shape (k, n)."""
    import numpy as np

    weights = step.weights
    k, n = step.width, step.operands[0].width
    if isinstance(weights, slice):
        return np.arange(weights.start, weights.stop).reshape(k, n)
    assert weights is not None
    return np.asarray(weights).reshape(k, n)


def _source_name(source: int, reader: str) -> str:
    from autograd.compiler import CONSTANTS, LEAVES

    if source == LEAVES:
        return f"{reader}_parameters"
    if source == CONSTANTS:
        return f"{reader}_constants"
    return f"step{source}"


def _counted(count: int, noun: str) -> str:
    """The count and its noun, plural unless the count is one: "1 column", "1,024 scalar nodes"."""
    return f"{count:,} {noun}{'s' * (count != 1)}"


def _count_ops(values: Sequence[Value]) -> int:
    return sum(1 for v in values if v.op)


def _html(*lines: str, bold: bool = False) -> str:
    """An HTML-like label of escaped lines; with ``bold``, the first is bold and the last small and grey."""
    cells = [escape_dot(line) for line in lines]
    if bold and cells:
        cells[0] = f"<b>{cells[0]}</b>"
        if len(cells) > 2:
            cells[-1] = f'<font point-size="9" color="{_GREY}">{cells[-1]}</font>'
    return "<" + "<br/>".join(cells) + ">"


# -- the scalar graph beside --------------------------------------------------------------------


def _draw_beside(diagram: Diagram, plan: Plan, beside: Value, layout: Layout) -> list[tuple[Value, int, int]]:
    """Draw ``beside``'s scalar graph in a cluster of its own; return its dot nodes' columns in the plan."""
    with diagram.subgraph(name="cluster_beside") as left:
        left.attr(label=_html(f"the scalar graph: {_count_ops(layout.values)} op nodes"),
                  style="rounded", color="#adb5bd", fontcolor="#495057", fontsize="11")  # fmt: skip
        style = Style(4, False, None, False, set(), layout.values, {beside}, rankdir="TB")
        emit_nodes(left, layout, style)
    emit_edges(diagram, layout, style, edge_labels=False)
    _keep_operands_in_order(diagram, layout)
    return _links(plan, layout.values)


def _keep_operands_in_order(diagram: Diagram, layout: Layout) -> None:
    """Hold each op's leaf and constant operands in one row, in operand order: w0 leftmost, the constant last.

    Beside the plan's cluster, dot 2.43 lays that row out mirrored whatever the order of declaration;
    invisible edges within the row fix the order for every renderer. A leaf other ops read too is left
    out of the row, so no two rows pull it different ways.
    """
    for v in layout.values:
        row = []
        for position, x in enumerate(v.inputs):
            if not isinstance(x, Value):
                row.append(f"c{layout.name(id(v))}_{position}")
            elif not x.op and x not in layout.box_of and len(layout.consumers[x]) == 1:
                row.append(f"v{layout.name(id(x))}")
        if len(row) > 1:
            with diagram.subgraph() as same:
                same.attr(rank="same")
                for before, after in itertools.pairwise(row):
                    same.edge(before, after, style="invis")


def _draw_links(diagram: Diagram, plan: Plan, layout: Layout, links: list[tuple[Value, int, int]]) -> None:
    """The dashed arrows from the dot nodes of the graph beside to the matmul steps that compute them."""
    for value, step, column in links:
        diagram.edge(
            f"v{layout.name(id(value))}", f"step{step}", style="dashed", color=_LINK,
            fontcolor=_LINK, penwidth="1.5", constraint="false",
            label=_html(f"column {column} of {plan.steps[step].width}"),
        )  # fmt: skip


def _links(plan: Plan, values: Sequence[Value]) -> list[tuple[Value, int, int]]:
    """(dot node, matmul step, column) for each dot node of ``values`` whose weights are a row of a matmul's."""
    from autograd.compiler import LEAVES

    rows: dict[tuple[int, ...], tuple[int, int]] = {}
    for number, step in enumerate(plan.steps):
        if step.kind == "matmul" and step.weight_source == LEAVES:
            for column, row in enumerate(_flat(step).tolist()):
                rows.setdefault(tuple(id(plan.leaves[i]) for i in row), (number, column))
    found = []
    for v in values:
        if v.op != "dot":
            continue
        inputs = v.inputs
        n = len(inputs) // 2
        for side in (inputs[:n], inputs[n:]):
            match = rows.get(tuple(id(x) for x in side))
            if match is not None:
                found.append((v, *match))
                break
    return found


def _title(plan: Plan, title: str | None, shape: _Shapes, links: list[tuple[Value, int, int]], beside: bool) -> str:
    totals = f"{_counted(plan.scalar_nodes, 'scalar node')} → {_counted(plan.array_ops, 'array op')}"
    details = (
        f"{len(plan.leaves):,} parameter Values and {len(plan.constants):,} constant"
        f"{'s' * (len(plan.constants) != 1)} read; "
        + ("B: the batch size" if shape.batch == "B" else f"a batch of {shape.batch}")
    )
    lines = [title, totals] if title else [totals]
    if beside:
        if len(links) == 1:
            _, step, column = links[0]
            lines.append(
                f"The neuron's dot node (left) is one column of the matmul of step {step}: column {column} of "
                f"{plan.steps[step].width}, one per neuron of the layer."
            )
        elif links:
            lines.append(f"Each of the {len(links)} dot nodes on the left is one column of a matmul step (dashed).")
        else:
            lines.append("No dot node on the left has weights among this plan's parameters.")
    cells = [f"<b>{escape_dot(line)}</b>" if i == 0 else escape_dot(line) for i, line in enumerate(lines)]
    cells.append(f'<font point-size="10" color="{_GREY}">{escape_dot(details)}</font>')
    return "<" + "<br/>".join(cells) + ">"

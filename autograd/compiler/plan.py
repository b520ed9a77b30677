"""A compiled plan: the traced scalar graph regrouped into array operations over a batch.

Nodes of one op at one depth (the longest path from the inputs) never depend on each other, so they
run together as one array op of shape (batch, k). A sum of products written out (micrograd's neuron,
``sum(wi * xi ...)``) is first planned as the ``dot`` node it computes (``fusion.py``). ``dot`` nodes
that read the same inputs and whose other side is all parameters, or all constants (the neurons of a
layer), become one matrix product instead; a side that mixes the two runs elementwise. Everything here
is data: a :class:`Plan` prints as a table and ``viz.draw_plan`` draws it.

Where a column comes from is a *source*: a step's output (its number, >= 0), :data:`LEAVES` (the
Values the function read, parameters mostly, gathered before each call) or :data:`CONSTANTS` (the
plain numbers of the trace).
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from autograd import rules
from autograd.backward import operand_order
from autograd.compiler.fusion import find as find_chains
from autograd.compiler.tracing import Trace, TracedValue
from autograd.engine import Op, Value

LEAVES, CONSTANTS = -1, -2
Index = Union[slice, np.ndarray]
Ref = tuple[int, int]  # (source, position in it)


@dataclass(frozen=True)
class Piece:
    """Columns ``take`` of ``source`` fill positions ``into`` of an operand; ``repeats``: ``take`` has repeats."""

    source: int
    take: Index
    into: Index
    repeats: bool


@dataclass(frozen=True)
class Gather:
    """How the ``width`` columns of one operand are assembled from their sources."""

    width: int
    pieces: tuple[Piece, ...]
    whole: Piece | None = None  # the one piece, when the operand is a single source's columns (no copy)
    targets: tuple[Piece, ...] = ()  # the pieces a gradient goes back to: not the inputs, not the constants


@dataclass(frozen=True)
class ArrayOp:
    """One step of a plan, an array op. ``kind`` is "input" (an argument, flattened), "elementwise" or "matmul".

    For "matmul", ``operands`` is the one shared side (width n) and ``weights`` the (k, n) leaves or
    constants of the other side: a block of consecutive positions (a slice) or an index array.
    ``differentiable`` is how many leading operands the op differentiates (the rest are its row's ``constants``).
    """

    kind: str
    op: Op | None
    width: int
    depth: int
    operands: tuple[Gather, ...] = ()
    differentiable: int = 0
    weights: Index | None = None
    weight_source: int = LEAVES
    argument: int = -1

    def describe(self) -> str:
        if self.kind == "input":
            return f"argument {self.argument}: {self.width} column{'s' * (self.width != 1)}"
        assert self.op is not None
        nodes = "node" if self.width == 1 else "nodes"
        if self.kind == "matmul":
            n = self.operands[0].width
            return f"{self.width} {self.op.name} {nodes} -> matmul (batch, {n}) @ ({n}, {self.width})"
        return f"{self.width} {self.op.name} {nodes} -> one {self.op.name} over (batch, {self.width})"


@dataclass(frozen=True)
class Plan:
    """Steps in an order that runs each after its operands; then where the outputs are."""

    steps: tuple[ArrayOp, ...]
    leaves: tuple[Value, ...]
    constants: np.ndarray
    outputs: Gather
    single_output: bool
    scalar_nodes: int
    # Nodes computed outside fn from the Values it read (a ``w * 2`` made before the call): their steps
    # recompute them, and as with the scalar engine their ``.grad`` gets a gradient too. (node, step, column).
    outer: tuple[tuple[Value, int, int], ...] = ()
    # What the executor makes from the plan once and keeps (codegen's functions); not part of the plan's
    # data: a copy made by dataclasses.replace starts empty.
    code: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def array_ops(self) -> int:
        return sum(step.kind != "input" for step in self.steps)

    def summary(self) -> str:
        """One line per step, under a line with the totals."""
        lines = [
            f"{self.scalar_nodes:,} scalar op nodes -> {self.array_ops} array ops "
            f"({len(self.leaves):,} Values read, {len(self.constants)} constant{'s' * (len(self.constants) != 1)})"
        ]
        lines += [f"  depth {step.depth:>3}  {step.describe()}" for step in self.steps]
        return "\n".join(lines)

    __str__ = summary


def build(trace: Trace, input_widths: Sequence[int]) -> Plan:
    """Group the trace's nodes into steps (see the module docstring)."""
    builder = _Builder(trace)
    return builder.plan(input_widths)


class _Builder:
    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.refs: dict[Value, Ref] = {}
        self.depth: dict[Value, int] = {}
        self.leaf_index: dict[Value, int] = {}
        self.constant_index: dict[bytes, int] = {}
        self.constants: list[float] = []
        self.steps: list[ArrayOp] = []
        self.standing_for: dict[Value, Value] = {}  # a fused chain's last planned node -> the chain's last add

    def plan(self, input_widths: Sequence[int]) -> Plan:
        self.inputs = len(input_widths)  # the first steps: sources no gradient goes back to
        for argument, width in enumerate(input_widths):
            self.steps.append(ArrayOp("input", None, width, 0, argument=argument))
        levels: dict[int, list[Value]] = defaultdict(list)
        nodes = 0
        # Operand order keeps the nodes of one depth in the order the code made them (neuron 0 first), so a
        # layer's weights fill the leaves in the model's own order of parameters.
        order = operand_order(self.trace.outputs)
        fused = find_chains(order, self.trace.outputs, self.trace.positions)
        for node in order:
            position = self.trace.positions.get(node)
            if position is not None:
                self.refs[node], self.depth[node] = position, 0
            elif node.rule is None:
                self.depth[node] = 0
            else:
                nodes += 1
                planned = fused.replacements.get(node)
                if planned is None and node in fused.absorbed:
                    continue  # an add or product of a fused chain: its dot is planned in the chain's place
                for made in planned or (node,):
                    depth = 1 + max((self.depth[x] for x in made.inputs if isinstance(x, Value)), default=0)
                    self.depth[made] = depth
                    levels[depth].append(made)
                if planned is not None:
                    self.standing_for[planned[-1]] = node
                    self.depth[node] = self.depth[planned[-1]]
        for depth in sorted(levels):
            groups: dict[object, list[Value]] = defaultdict(list)
            for node in levels[depth]:
                groups[self._key(node)].append(node)
            for key, members in groups.items():
                self._add_step(key, members, depth)
        outputs = self._gather([[self._ref(node) for node in self.trace.outputs]])[0]
        leaves = tuple(sorted(self.leaf_index, key=self.leaf_index.__getitem__))
        # The trace's own nodes are TracedValues; a plain Value with an op was made before the call.
        outer = tuple((node, *self.refs[node]) for depth in sorted(levels) for node in levels[depth]
                      if not isinstance(node, TracedValue))  # fmt: skip
        return Plan(
            tuple(self.steps), leaves, np.array(self.constants, dtype=float), outputs, self.trace.single_output, nodes,
            outer,
        )

    def _ref(self, x: Value | float) -> Ref:
        if isinstance(x, Value):
            ref = self.refs.get(x)
            if ref is not None:
                return ref
            index = self.leaf_index.setdefault(x, len(self.leaf_index))  # a leaf Value: a parameter or a constant
            return (LEAVES, index)
        key = struct.pack("<d", x)  # by bits: 0.0 and -0.0 stay apart, a NaN finds itself
        if key not in self.constant_index:
            self.constant_index[key] = len(self.constants)
            self.constants.append(x)
        return (CONSTANTS, self.constant_index[key])

    def _key(self, node: Value) -> object:
        op, inputs = node.rule, node.inputs
        if op is rules.DOT:
            n = len(inputs) // 2
            for weights_first, shared, other in ((True, inputs[n:], inputs[:n]), (False, inputs[:n], inputs[n:])):
                if all(self._is_fixed(x) for x in other):
                    return ("matmul", weights_first, tuple(self._ref(x) for x in shared))
        return (op, len(inputs))

    def _is_fixed(self, x: Value | float) -> bool:
        """A leaf Value or a constant: the same for every sample."""
        return not isinstance(x, Value) or (x.rule is None and x not in self.refs)

    def _add_step(self, key: object, members: list[Value], depth: int) -> None:
        number = len(self.steps)
        op = members[0].rule
        assert op is not None
        step = None
        if isinstance(key, tuple) and key[0] == "matmul":
            step = self._matmul(op, members, depth, weights_first=key[1], shared_refs=list(key[2]))
        self.steps.append(step or self._elementwise(op, members, depth))
        for column, node in enumerate(members):
            self.refs[node] = (number, column)
            chain = self.standing_for.get(node)
            if chain is not None:  # the chain's readers find its value in the fused node's column
                self.refs[chain] = (number, column)

    def _elementwise(self, op: Op, members: list[Value], depth: int) -> ArrayOp:
        columns = [[self._ref(x) for x in node.inputs] for node in members]
        operands = tuple(self._gather([list(c) for c in zip(*columns, strict=True)]))
        return ArrayOp("elementwise", op, len(members), depth, operands, len(operands) - op.constants)

    def _matmul(
        self, op: Op, members: list[Value], depth: int, weights_first: bool, shared_refs: list[Ref]
    ) -> ArrayOp | None:
        """One matrix product for dot nodes that share ``shared_refs``; None where their weights mix
        leaves and constants (they then run as an elementwise step)."""
        n = len(members[0].inputs) // 2
        sides = [(node.inputs[:n], node.inputs[n:]) if weights_first else (node.inputs[n:], node.inputs[:n])
                 for node in members]  # fmt: skip
        is_leaf = [isinstance(x, Value) for weights, _ in sides for x in weights]
        source = LEAVES if all(is_leaf) else CONSTANTS if not any(is_leaf) else None
        if source is None:
            return None
        shared = self._gather([shared_refs])[0]
        fresh = source == LEAVES and all(x not in self.leaf_index for weights, _ in sides for x in weights)
        start = len(self.leaf_index)
        flat = [self._ref(x)[1] for weights, _ in sides for x in weights]
        contiguous = fresh and flat == list(range(start, start + len(flat)))
        weights: Index = slice(start, start + len(flat)) if contiguous else np.array(flat).reshape(len(members), n)
        return ArrayOp("matmul", op, len(members), depth, (shared,), 2 * n, weights, source)

    def _gather(self, operands: list[list[Ref]]) -> list[Gather]:
        return [_gather_of(refs, self.inputs) for refs in operands]


def _gather_of(refs: list[Ref], inputs: int) -> Gather:
    """Runs of one source are coalesced; a run of consecutive positions becomes a slice."""
    by_source: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for position, (source, column) in enumerate(refs):
        by_source[source].append((position, column))
    pieces = []
    for source, pairs in by_source.items():
        positions = np.array([i for i, _ in pairs])
        taken = np.array([t for _, t in pairs])
        repeats = len(set(taken.tolist())) < len(taken)
        pieces.append(Piece(source, _as_slice(taken), _as_slice(positions), repeats))
    targets = tuple(piece for piece in pieces if piece.source == LEAVES or piece.source >= inputs)
    return Gather(len(refs), tuple(pieces), pieces[0] if len(pieces) == 1 else None, targets)


def _as_slice(index: np.ndarray) -> Index:
    if len(index) and (np.diff(index) == 1).all():
        return slice(int(index[0]), int(index[-1]) + 1)
    return index

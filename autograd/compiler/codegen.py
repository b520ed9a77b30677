"""A plan as straight-line Python: one function for its forward pass, one for its backward (for executor.py).

The interpreter in ``executor.py`` reads each step's record on every call (its kind, its gathers'
pieces, its rule), which at a small network's size costs more than the numpy calls themselves. Here
the same decisions are taken once per plan and written out as source text, which is compiled once:

    v3 = inputs[0]                      # a step's output, by its number
    a4_0 = empty((batch, 3)); a4_0[:, 0:2] = v3; a4_0[:, 2:3] = constants[0:1]
    v4 = a4_0 @ leaves[0:48].reshape(16, -1).T
    v5 = f5(v4)                         # relu's array rule, bound when the code is made

The numbers are the interpreter's to the bit: the same numpy calls on the same operands in the same
order. The one difference is how a step's gradient starts: the interpreter adds every contribution
into zeros, ``0 + a + b``; where every contribution covers the step's columns whole, the code here
starts from the first one, ``a + b``, which differs only in the sign of a zero gradient.

What the code does not do, it hands back to the interpreter rather than repeat it: it judges no
error. Where a rule raises (ArithmeticError, ValueError, IndexError), or the result of a rule that
is not IEEE (see :class:`autograd.arrays.ArrayRule`) is not finite, the caller discards the run and
the interpreter runs the plan again, which words the error naming the sample, or finds that NaN came
in. A run has no side effect but the arrays it makes, so running again is safe. Plans the code does
not cover at all (an op without an array rule, run element by element; nodes made outside ``fn``,
whose gradients the interpreter collects) and runs under ``detect_anomaly`` (which checks every step)
use the interpreter throughout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.compiler.plan import CONSTANTS, LEAVES, ArrayOp, Gather, Index, Piece, Plan

Forward = Callable[[list[np.ndarray], np.ndarray, np.ndarray, int], tuple[list[Any], list[Any], np.ndarray, bool]]
"""``forward(inputs, leaves, constants, batch)``: each step's output and operands, as the interpreter keeps
them, the outputs (batch, width), and whether every check of finiteness passed."""
Backward = Callable[[list[Any], list[Any], np.ndarray, np.ndarray, np.ndarray, int], tuple[np.ndarray, bool]]
"""``backward(values, operands, leaves, constants, seed, batch)``: the leaves' gradients, and whether every
check of finiteness passed."""


class Generated:
    """A plan's forward and backward functions and their source (``forward``/``backward`` are None where the
    plan is not covered: see the module docstring)."""

    def __init__(self, plan: Plan) -> None:
        covered = all(step.op is None or step.op.arrays is not None for step in plan.steps)
        differentiable = covered and not plan.outer and all(
            step.op is None or step.op.arrays is None or step.op.arrays.vjp is not None for step in plan.steps
        )
        writer = _Writer(plan)
        self.forward_source = writer.forward() if covered else ""
        self.backward_source = writer.backward() if differentiable else ""
        namespace = writer.namespace()
        self.forward: Forward | None = _made(self.forward_source, namespace, "forward")
        self.backward: Backward | None = _made(self.backward_source, namespace, "backward")


def generated(plan: Plan) -> Generated:
    """The plan's generated code, made at the first call and kept in the plan."""
    made = plan.code.get("generated")
    if made is None:
        made = plan.code["generated"] = Generated(plan)
    return made


def _made(source: str, namespace: dict[str, Any], name: str) -> Any:
    if not source:
        return None
    exec(compile(source, f"<plan {name}>", "exec"), namespace)  # our own source, written just above
    return namespace[name]


class _Writer:
    """Writes one plan's source. Index arrays and rules are named in the namespace the source runs in."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.lines: list[str] = []
        self.names: dict[int, tuple[str, object]] = {}  # id(object) -> (its name in the source, the object)

    def namespace(self) -> dict[str, Any]:
        """What the sources written so far read besides their arguments: numpy's functions, the rules and the
        index arrays."""
        helpers = {"empty": np.empty, "zeros": np.zeros, "broadcast_to": np.broadcast_to, "isfinite": np.isfinite,
                   "add_reduce": np.add.reduce, "add_at": np.add.at, "matmul": np.matmul}  # fmt: skip
        return {**helpers, **dict(self.names.values())}

    def _name(self, prefix: str, thing: object) -> str:
        known = self.names.get(id(thing))
        if known is None:
            known = self.names[id(thing)] = (f"{prefix}{len(self.names)}", thing)
        return known[0]

    def _index(self, index: Index) -> str:
        """An index as source: a slice literally, an index array by a name."""
        if isinstance(index, slice):
            return f"{index.start}:{index.stop}"
        return self._name("i", index)

    def _source(self, number: int) -> str:
        return "leaves" if number == LEAVES else "constants" if number == CONSTANTS else f"v{number}"

    def _columns(self, piece: Piece) -> str:
        """``take`` of the piece's source: the whole source where that is every column of a step's output."""
        source = self._source(piece.source)
        if piece.source == CONSTANTS:  # the plan's own numbers: their columns are taken once, when the code is made
            return self._name("k", self.plan.constants[piece.take])
        if piece.source < 0:
            return f"{source}[{self._index(piece.take)}]"  # the leaves are 1-D
        whole = isinstance(piece.take, slice) and piece.take == slice(0, self.plan.steps[piece.source].width)
        return source if whole else f"{source}[:, {self._index(piece.take)}]"

    def _assemble(self, name: str, gather: Gather) -> None:
        """``name = `` the operand, as executor._assemble makes it."""
        if gather.whole is not None:
            self.lines.append(f"    {name} = {self._columns(gather.whole)}")
            return
        self.lines.append(f"    {name} = empty((batch, {gather.width}))")
        for piece in gather.pieces:
            self.lines.append(f"    {name}[:, {self._index(piece.into)}] = {self._columns(piece)}")

    def _weights(self, step: ArrayOp) -> str:
        source = self._source(step.weight_source)
        if isinstance(step.weights, slice):
            return f"{source}[{self._index(step.weights)}].reshape({step.width}, -1)"
        assert step.weights is not None
        return f"{source}[{self._index(step.weights)}]"

    def _shaped(self, name: str, width: int) -> None:
        """A rule may give (width,) or a number where every operand is shared: spread over the batch, as the
        interpreter does."""
        self.lines.append(f"    if getattr({name}, 'shape', None) != (batch, {width}):")
        self.lines.append(f"        {name} = broadcast_to({name}, (batch, {width}))")

    def forward(self) -> str:
        self.lines = ["def forward(inputs, leaves, constants, batch):", "    checks = 0.0"]
        operands = []
        for number, step in enumerate(self.plan.steps):
            if step.kind == "input":
                self.lines.append(f"    v{number} = inputs[{step.argument}]")
                operands.append("()")
                continue
            names = [f"a{number}_{k}" for k in range(len(step.operands))]
            for name, gather in zip(names, step.operands, strict=True):
                self._assemble(name, gather)
            operands.append(f"({', '.join(names)},)")
            out = f"v{number}"
            if step.kind == "matmul":
                self.lines.append(f"    {out} = {names[0]} @ {self._weights(step)}.T")
                if any(piece.source >= 0 for piece in step.operands[0].pieces) or not step.operands[0].whole:
                    continue  # a (batch, n) operand: the product is (batch, width) already

            else:
                assert step.op is not None and step.op.arrays is not None
                rule = step.op.arrays
                self.lines.append(f"    {out} = {self._name('f', rule.forward)}({', '.join(names)})")
                if not rule.ieee:  # a NaN or an infinity makes the sum one too (see executor._all_finite)
                    self.lines.append(f"    checks += add_reduce({out}, None)")
            self._shaped(out, step.width)
        # The outputs, always a new array (batch, width): the caller may keep or change it, and backward reads
        # the steps' own arrays.
        self.lines.append(f"    outputs = empty((batch, {self.plan.outputs.width}))")
        for piece in self.plan.outputs.pieces:
            self.lines.append(f"    outputs[:, {self._index(piece.into)}] = {self._columns(piece)}")
        values = ", ".join(f"v{n}" for n in range(len(self.plan.steps)))
        self.lines.append(f"    return [{values}], [{', '.join(operands)}], outputs, bool(isfinite(checks))")
        return "\n".join(self.lines) + "\n"

    def backward(self) -> str:
        """Reverse order, as executor._reverse; each step's gradient ``d<n>``, the leaves' in ``leaf_grads``.

        Written twice: the first time to find where the leaves' gradients come from. A layer's weight
        gradient, (k, batch) @ (batch, n), that is the only contribution to its leaves is written by the
        matrix product straight into its place in ``leaf_grads`` (out=) rather than made apart and added
        into zeros: at 784-300-100-10 that is a pass over 1.9 MB and its allocation fewer, and the same
        numbers (0 + x is x). Where such products cover every leaf, ``leaf_grads`` starts uninitialised.
        """
        self.sole: set[int] = set()
        self.leaf_writes: list[tuple[Index, int | None]] = []  # (leaves written, the matmul step or None)
        self._backward("zeros")
        counts = np.zeros(len(self.plan.leaves), dtype=np.intp)
        for index, _ in self.leaf_writes:
            np.add.at(counts, index, 1)  # type: ignore[arg-type]
        self.sole = {number for index, number in self.leaf_writes if number is not None and (counts[index] == 1).all()}
        covered = np.zeros(len(self.plan.leaves), dtype=bool)
        for index, number in self.leaf_writes:
            if number in self.sole:
                covered[index] = True
        return self._backward("empty" if covered.all() else "zeros")

    def _backward(self, start: str) -> str:
        plan = self.plan
        self.leaf_writes.clear()
        self.lines = [
            "def backward(values, operands, leaves, constants, seed, batch):",
            f"    leaf_grads = {start}({len(plan.leaves)})",
            "    checks = 0.0",
        ]
        self.started: set[int] = set()  # the steps whose gradient has a first contribution
        self.owned = {n for n in range(len(plan.steps)) if not _whole_only(plan, n)}  # start from zeros, add in place
        self._scatter(plan.outputs, "seed")
        for number in range(len(plan.steps) - 1, -1, -1):
            step = plan.steps[number]
            if number not in self.started or step.kind == "input":
                continue
            g = f"d{number}"
            given = [f"operands[{number}][{k}]" for k in range(len(step.operands))]
            if step.kind == "matmul":
                if step.operands[0].targets:  # not for a first layer, which reads only the inputs
                    self._scatter(step.operands[0], f"{g} @ {self._weights(step)}")
                if step.weight_source == LEAVES:
                    self.lines.append(f"    shared = {given[0]}")
                    self.lines.append("    if shared.ndim != 2:")  # all parameters and constants: every sample's
                    self.lines.append(f"        shared = broadcast_to(shared, (batch, {step.operands[0].width}))")
                    if number in self.sole:
                        assert isinstance(step.weights, slice)
                        place = f"leaf_grads[{self._index(step.weights)}].reshape({step.width}, -1)"
                        self.lines.append(f"    matmul({g}.T, shared, out={place})")
                    else:
                        self.lines.append(f"    block = ({g}.T @ shared).ravel()")
                    if isinstance(step.weights, slice):
                        self.leaf_writes.append((step.weights, number))
                        if number not in self.sole:
                            self.lines.append(f"    leaf_grads[{self._index(step.weights)}] += block")
                    else:
                        assert isinstance(step.weights, np.ndarray)
                        self.leaf_writes.append((step.weights.ravel(), None))
                        self.lines.append(f"    add_at(leaf_grads, {self._name('i', step.weights.ravel())}, block)")
                continue
            assert step.op is not None and step.op.arrays is not None
            rule = step.op.arrays
            partials = [f"p{number}_{k}" for k in range(step.differentiable)]
            if not any(operand.targets for operand in step.operands[: step.differentiable]):
                continue  # its partials would reach only inputs and constants (a label's lookup)
            vjp = f"{self._name('f', rule.vjp)}({g}, {', '.join(given)}, values[{number}])"
            # Exactly one partial per differentiable operand: a rule giving fewer fails to unpack, and the
            # interpreter (which takes fewer) runs instead.
            self.lines.append(f"    {', '.join(partials)}, *_ = {vjp}")
            for operand, partial in zip(step.operands, partials, strict=False):
                if not rule.ieee:
                    self.lines.append(f"    checks += add_reduce({partial}, None)")
                self._scatter(operand, partial)
        self.lines.append("    return leaf_grads, bool(isfinite(checks))")
        return "\n".join(self.lines) + "\n"

    def _scatter(self, gather: Gather, contribution: str) -> None:
        """Add ``contribution`` (batch, gather.width) to the gradients of the gather's sources (executor's scatter)."""
        if not gather.targets:
            return
        self.lines.append(f"    c = {contribution}")
        self._shaped("c", gather.width)
        for piece in gather.targets:
            part = "c" if gather.whole is not None else f"c[:, {self._index(piece.into)}]"
            take = self._index(piece.take)
            if piece.source == LEAVES:
                self.leaf_writes.append((piece.take, None))
                if piece.repeats:
                    self.lines.append(f"    add_at(leaf_grads, {take}, add_reduce({part}, 0))")
                else:
                    self.lines.append(f"    leaf_grads[{take}] += add_reduce({part}, 0)")
                continue
            target, first = f"d{piece.source}", piece.source not in self.started
            self.started.add(piece.source)
            if piece.source not in self.owned:  # every contribution covers the step whole: a sum, no zeros
                self.lines.append(f"    {target} = {part}" if first else f"    {target} = {target} + {part}")
                continue
            if first:
                self.lines.append(f"    {target} = zeros((batch, {self.plan.steps[piece.source].width}))")
            if piece.repeats:
                self.lines.append(f"    add_at({target}, (slice(None), {take}), {part})")
            else:
                self.lines.append(f"    {target}[:, {take}] += {part}")


def _whole_only(plan: Plan, number: int) -> bool:
    """Whether every gradient contribution to step ``number`` covers all its columns, once each."""
    width = plan.steps[number].width
    gathers = [plan.outputs, *(g for step in plan.steps for g in step.operands)]
    return all(
        isinstance(piece.take, slice) and piece.take == slice(0, width) and not piece.repeats
        for gather in gathers
        for piece in gather.targets
        if piece.source == number
    )

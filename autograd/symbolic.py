"""Graphs as formulas: ``to_sympy`` turns a recorded computation into a sympy expression, and
``formula`` shows it with its derivatives and the chain-rule product along each path.

Leaves become symbols named by their labels (unlabelled ones x0, x1, ... in the order the graph
reaches them; a label used twice gets a suffix), and constants stay numbers (0.1 is 1/10). Each op's
symbolic form is on its row of the rule table (``Op.formula``); a custom op without one becomes an
undefined sympy function of its name, whose derivative sympy leaves unevaluated. sympy is optional
(the ``symbolic`` extra): without it these functions raise ImportError saying how to install it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from autograd.backward import operand_order
from autograd.engine import Value

MAX_NODES = 2_000  # larger graphs make expressions too large to read or simplify
MAX_PATHS = 8  # paths shown per variable in the chain rule


def _sympy() -> Any:
    try:
        import sympy
    except ImportError:
        message = "formulas need sympy: pip install sympy (or install this package's 'symbolic' extra)"
        raise ImportError(message) from None
    return sympy


def _constant(sp: Any, c: float) -> Any:
    """A constant as sympy shows it best: 2 for 2.0, 1/10 for 0.1, a float where the decimal is long."""
    if not math.isfinite(c):
        return sp.nan if math.isnan(c) else (sp.oo if c > 0 else -sp.oo)
    if c.is_integer():
        return sp.Integer(int(c))
    text = repr(c)
    return sp.Rational(text) if len(text.lstrip("-").replace(".", "")) <= 8 and "e" not in text else sp.Float(c)


class _Namer:
    """Names for the nodes of one graph: labels where given (a repeated label gets _2, _3), else
    x0, x1 for leaves, in the order the formula reads them (left to right), and n1, n2 for computed
    nodes, in the order they are computed."""

    def __init__(self, order: Sequence[Value]) -> None:
        reading = _preorder(order[-1])
        leaves = [node for node in reading if node.rule is None]
        computed = [node for node in order if node.rule is not None]
        self.names: dict[Value, str] = {}
        taken = {node.label for node in order if node.label}
        counts: dict[str, int] = {}
        for node in [*leaves, *computed]:
            if node.label:
                counts[node.label] = counts.get(node.label, 0) + 1
                self.names[node] = node.label if counts[node.label] == 1 else f"{node.label}_{counts[node.label]}"
        fresh = {"x": 0, "n": 1}
        for node in [*leaves, *computed]:
            if node not in self.names:
                prefix = "n" if node.rule is not None else "x"
                while f"{prefix}{fresh[prefix]}" in taken:
                    fresh[prefix] += 1
                self.names[node] = f"{prefix}{fresh[prefix]}"
                taken.add(self.names[node])
                fresh[prefix] += 1


def _preorder(root: Value) -> list[Value]:
    """Every node once, as a left-to-right reading of the formula meets it (pre-order, no recursion)."""
    seen: set[Value] = set()
    order: list[Value] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            order.append(node)
            stack += reversed([x for x in node.inputs if isinstance(x, Value)])
    return order


def _graph(value: Value, caller: str, max_nodes: int) -> list[Value]:
    if not isinstance(value, Value):
        raise TypeError(f"{caller}: expected a Value, got {type(value).__name__}")
    order = operand_order([value])
    if len(order) > max_nodes:
        raise ValueError(
            f"{caller}: the graph has {len(order)} nodes, more than max_nodes={max_nodes} a formula can show"
        )
    return order


def to_sympy(value: Value, max_nodes: int = MAX_NODES) -> Any:
    """The sympy expression that ``value``'s graph computes, in the symbols of its leaves.

    >>> x = Value(0.5, label="x")
    >>> to_sympy((x * 2).exp() + 1)
    exp(2*x) + 1
    """
    order = _graph(value, "to_sympy", max_nodes)
    return _expressions(_sympy(), order, _Namer(order), expand=True)[value]


def _expressions(sp: Any, order: Sequence[Value], namer: _Namer, expand: bool) -> dict[Value, Any]:
    """Each node's expression: in the leaves' symbols (``expand``), or in its own inputs' symbols."""
    expressions: dict[Value, Any] = {}
    for node in order:
        op = node.rule
        if op is None:
            expressions[node] = sp.Symbol(namer.names[node], real=True)
            continue
        arguments = [
            (expressions[x] if expand else sp.Symbol(namer.names[x], real=True)) if isinstance(x, Value)
            else _constant(sp, x)
            for x in node.inputs
        ]  # fmt: skip
        expressions[node] = op.formula(sp, *arguments) if op.formula is not None else sp.Function(op.name)(*arguments)
    return expressions


@dataclass(frozen=True)
class Formula:
    """A value as a formula, its derivatives, and the chain-rule product along each path of the graph.

    ``expression`` and ``derivatives`` (by variable name) are sympy expressions; ``chains`` maps a
    variable to its chain-rule products, one line per path, as text. Prints as text; shows as LaTeX
    in Jupyter.
    """

    name: str
    expression: Any
    derivatives: dict[str, Any]
    chains: dict[str, list[str]]
    latex_chains: dict[str, list[str]]

    def __str__(self) -> str:
        lines = [f"{self.name} = {self.expression}"]
        for variable, derivative in self.derivatives.items():
            lines.append(f"d{self.name}/d{variable} = {derivative}")
            lines += [f"    {chain}" for chain in self.chains[variable]]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_latex_(self) -> str:
        sp = _sympy()
        rows = [f"{self.name} &= {sp.latex(self.expression)}"]
        for variable, derivative in self.derivatives.items():
            rows.append(rf"\frac{{\partial {self.name}}}{{\partial {variable}}} &= {sp.latex(derivative)}")
            rows += [rf"&= {chain}" for chain in self.latex_chains[variable]]
        return r"$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$"


def formula(
    value: Value, wrt: Value | str | Iterable[Value | str] | None = None, max_nodes: int = MAX_NODES
) -> Formula:
    """``value`` as a formula with its simplified derivative with respect to each leaf in ``wrt``
    (Values or labels; every leaf by default), and under each derivative the chain rule written out
    along every path from the leaf, as in d F/d x = dF/dC · dC/dB · dB/dA · dA/dx, each local
    derivative in the symbols of the node's own inputs.
    """
    sp = _sympy()
    order = _graph(value, "formula", max_nodes)
    namer = _Namer(order)
    expanded = _expressions(sp, order, namer, expand=True)
    local_forms = _expressions(sp, order, namer, expand=False)
    symbols = {node: sp.Symbol(namer.names[node], real=True) for node in order}
    name = namer.names[value] if value.label else "f"
    derivatives: dict[str, Any] = {}
    chains: dict[str, list[str]] = {}
    latex_chains: dict[str, list[str]] = {}
    for leaf in _variables(order, wrt, namer):
        variable = namer.names[leaf]
        derivatives[variable] = _tidy(sp, sp.diff(expanded[value], symbols[leaf]))
        count, paths = _paths(order, leaf)
        text, latex = [], []
        for path in paths:
            steps = list(pairwise(path))
            factors = [sp.diff(local_forms[a], symbols[b]) for a, b in steps]
            text.append(" · ".join(f"d{namer.names[a]}/d{namer.names[b]}" for a, b in steps)
                        + " = " + " · ".join(f"({factor})" for factor in factors))  # fmt: skip
            latex.append(r" \cdot ".join(rf"\left({sp.latex(factor)}\right)" for factor in factors))
        if count > len(paths):
            text.append(f"... and {count - len(paths)} more paths; all {count} are summed")
        elif count > 1:
            text.append(f"(the {count} paths are summed)")
        chains[variable], latex_chains[variable] = text, latex
    return Formula(name, expanded[value], derivatives, chains, latex_chains)


def _variables(order: Sequence[Value], wrt: Any, namer: _Namer) -> list[Value]:
    leaves = [node for node in order if node.rule is None]
    if wrt is None:
        return leaves
    wanted = [wrt] if isinstance(wrt, (Value, str)) else list(wrt)
    found = []
    for key in wanted:
        matches = [node for node in order if node is key or (isinstance(key, str) and namer.names[node] == key)]
        if not matches:
            raise ValueError(f"formula: {key!r} is not in the graph; its leaves are {[namer.names[n] for n in leaves]}")
        if matches[0].rule is not None:
            computed = namer.names[matches[0]]
            raise ValueError(f"formula: wrt must name leaves (inputs); {computed} is computed by {matches[0].op}")
        found.append(matches[0])
    return found


def _paths(order: Sequence[Value], leaf: Value) -> tuple[int, list[list[Value]]]:
    """How many paths lead from the root (last in ``order``) down to ``leaf``, and the first few of them.

    A path steps from a node to each distinct Value among its inputs; x * x is one step, whose
    local derivative 2x counts both uses.
    """
    count: dict[Value, int] = {}
    for node in order:
        count[node] = 1 if node is leaf else sum(count[x] for x in _distinct_inputs(node))
    found: list[list[Value]] = []
    stack: list[list[Value]] = [[order[-1]]] if count[order[-1]] else []
    while stack and len(found) < MAX_PATHS:
        path = stack.pop()
        if path[-1] is leaf:
            found.append(path)
            continue
        stack += [[*path, x] for x in reversed(_distinct_inputs(path[-1])) if count[x]]
    return count[order[-1]], found


def _distinct_inputs(node: Value) -> list[Value]:
    return list(dict.fromkeys(x for x in node.inputs if isinstance(x, Value)))


def _tidy(sp: Any, derivative: Any) -> Any:
    """A simpler form when sympy finds one that is shorter and brings in no new functions
    (the sigmoid's derivative stays in exponentials rather than turning into 1/(4 cosh²(x/2)))."""
    if sp.count_ops(derivative) > 200:
        return derivative
    functions = {type(f) for f in derivative.atoms(sp.Function)}

    def measure(e: Any) -> float:
        new = {type(f) for f in e.atoms(sp.Function)} - functions
        return float(sp.count_ops(e)) + (1000.0 if new else 0.0)

    simpler = sp.simplify(derivative, measure=measure)
    return simpler if measure(simpler) < measure(derivative) else derivative

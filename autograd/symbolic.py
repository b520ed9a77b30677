"""Graphs as formulas: ``to_sympy`` turns a recorded computation into a sympy expression, and
``formula`` shows it with its derivatives and the chain-rule product along each path.

A label that reads as a name (an identifier starting with a letter) names its node; one met again, or
one sympy would print like a name already given (x2 and x_2 are both x₂), gets the first free suffix
_2, _3, ...; other leaves are x0, x1, ... in reading order, other computed nodes n1, n2, ... as
computed, the root f. Constants stay numbers (0.1 is 1/10). An op's form is ``Op.formula`` on its row
of the rule table; a custom op without one is an undefined function of its name. sympy is optional
(the ``symbolic`` extra): without it these raise ImportError saying how to install it.
"""

from __future__ import annotations

import math
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import count, pairwise
from numbers import Integral
from types import FrameType
from typing import Any

from autograd.backward import operand_order
from autograd.deadline import before
from autograd.engine import Value

MAX_NODES = 2_000  # larger graphs make expressions too large to read
MAX_PATHS = 8  # paths shown per variable in the chain rule
SIMPLIFY_SECONDS = 1.0  # after this long, a formula's derivatives are left as sympy's diff gives them
SYMPY_SECONDS = 10.0  # a formula sympy cannot build and differentiate in this long is refused
SIMPLIFY_OPS = 200  # a derivative with more operations is shown as sympy's diff gives it
LATEX_SECONDS = 5.0  # a formula sympy takes longer to typeset is shown as text
FRAMES_PER_LEVEL = 10  # measured: sympy's diff takes up to 8.5 frames a level, its printers up to 6
SPARE_FRAMES = 100  # for sympy's calls above the recursion, and for printing from a deeper stack later
MAX_BITS = 65_536  # no formula to read holds a longer exact number (1.01 ** 2000 takes 13,300 bits)
CONSTANT_NAMES = ("nan", "oo", "zoo")  # how sympy prints NaN and the infinities: no name may look like them
Step = tuple[str, str, Any]  # d top/d bottom, and its value: the local derivative
# Text shown literally in LaTeX's math mode, MathJax's and KaTeX's alike.
LATEX_ESCAPES = str.maketrans({"\\": r"\backslash ", "{": r"\{", "}": r"\}", "_": r"\_", "#": r"\#", "$": r"\$",
                               "%": r"\%", "&": r"\&", "^": r"\hat{}", "~": r"\sim ", " ": r"\ "})  # fmt: skip


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


def _reads_as_name(label: str) -> bool:
    # Spaces, operators or LaTeX (\frac, {) in a name would make the printed formula ambiguous or break it.
    return label.isidentifier() and label[0].isalpha()


@lru_cache(maxsize=4096)
def _looks(name: str) -> frozenset[str]:
    """Every way ``name`` is shown: itself, its NFKC form, and sympy's LaTeX and unicode renderings."""
    sp, symbol = _sympy(), _sympy().Symbol(name)
    looks = {name, unicodedata.normalize("NFKC", name), sp.latex(symbol), sp.pretty(symbol, use_unicode=True)}
    return frozenset(looks)


class _Namer:
    """Distinct names for one graph's nodes (by the module docstring's rules); ``nodes``: name to node."""

    def __init__(self, order: Sequence[Value]) -> None:
        root = order[-1]
        self.names: dict[Value, str] = {}
        self.shown: set[str] = {look for name in CONSTANT_NAMES for look in _looks(name)}
        self.next: dict[str, int] = {}
        named = [node for node in dict.fromkeys([root, *order]) if _reads_as_name(node.label)]
        for node in named:  # every label once, the root's first, before any suffix
            if not _looks(node.label) & self.shown:
                self._give(node, node.label)
        for node in [n for n in named if n not in self.names]:
            self._give(node, self._fresh(f"{node.label}_", 2))
        if root not in self.names:
            self._give(root, self._fresh("f_", 2) if _looks("f") & self.shown else "f")
        for node in order:  # leaves come in reading order, computed nodes as computed
            if node not in self.names:
                self._give(node, self._fresh("x", 0) if node.rule is None else self._fresh("n", 1))
        self.nodes = {name: node for node, name in self.names.items()}

    def _give(self, node: Value, name: str) -> None:
        self.names[node] = name
        self.shown |= _looks(name)

    def _fresh(self, prefix: str, start: int) -> str:
        k = next(k for k in count(self.next.get(prefix, start)) if not _looks(f"{prefix}{k}") & self.shown)
        self.next[prefix] = k + 1
        return f"{prefix}{k}"


def _graph(value: Value, caller: str, max_nodes: int) -> list[Value]:
    if not isinstance(value, Value):
        raise TypeError(f"{caller}: expected a Value, got {type(value).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, Integral):
        raise TypeError(f"{caller}: max_nodes must be a positive int, got {type(max_nodes).__name__} {max_nodes!r}")
    if max_nodes < 1:
        raise ValueError(f"{caller}: max_nodes must be a positive int, got {max_nodes}")
    order = operand_order([value])
    if len(order) > max_nodes:
        raise ValueError(f"{caller}: the graph has {len(order)} nodes, more than max_nodes={max_nodes}")
    for node in (node for node in order if not isinstance(node.label, str)):  # Value checks; .label may change
        kind, label = type(node.label).__name__, node.label
        raise TypeError(f"{caller}: a label must be a str, got {kind} {label!r} on a node of data {node.data}")
    return order


def to_sympy(value: Value, max_nodes: int = MAX_NODES) -> Any:
    """The sympy expression that ``value``'s graph computes, in the symbols of its leaves. A graph of
    more than ``max_nodes`` nodes is refused (ValueError), and so is one whose formula nests deeper than
    Python's recursion limit leaves sympy room for (about ``FRAMES_PER_LEVEL`` frames a level: sympy
    recurses), or holds a number of more than ``MAX_BITS`` bits (squaring c x over and over).

    >>> x = Value(0.5, label="x")
    >>> to_sympy((x * 2).exp() + 1)
    exp(2*x) + 1
    """
    order = _graph(value, "to_sympy", max_nodes)
    deadline = time.perf_counter() + SYMPY_SECONDS
    return _expressions(_sympy(), order, _Namer(order), "to_sympy", max_nodes, deadline)[value]


def _expressions(
    sp: Any, order: Sequence[Value], namer: _Namer, caller: str, max_nodes: int, deadline: float, expand: bool = True
) -> dict[Value, Any]:
    """Each node's expression, built by ``deadline``: in the leaves' symbols (``expand``), or in its inputs'."""
    frame: FrameType | None
    frames, frame = 0, sys._getframe()  # what the stack below leaves of the limit is what sympy may use
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    limit = sys.getrecursionlimit()
    deepest = (limit - frames - SPARE_FRAMES) // FRAMES_PER_LEVEL
    levels: dict[int, tuple[Any, int, int]] = {}
    symbols = {node: sp.Symbol(namer.names[node], real=True) for node in order}
    expressions = dict(symbols)  # each computed node's symbol to be replaced by what it computes
    operands = expressions if expand else symbols
    for node in [node for node in order if node.rule is not None]:
        arguments = [operands[x] if isinstance(x, Value) else _constant(sp, x) for x in node.inputs]
        built = before(deadline, partial(_apply, sp, node.rule, arguments, caller))  # leaky_relu's doubles
        depth, bits = _measure(built, levels) if built is not None else (0, 0)
        if built is None or depth > deepest or bits > MAX_BITS:  # each squaring of c x doubles c's digits
            reason = (f"sympy took over {SYMPY_SECONDS} s or all the recursion allowed to build the formula"
                      if built is None else f"the formula holds a number of {bits} bits, more than {MAX_BITS}"
                      if bits > MAX_BITS else f"the formula nests {depth} levels deep, and Python's recursion "
                      f"limit of {limit} leaves sympy room for {max(deepest, 0)} here (it recurses about "
                      f"{FRAMES_PER_LEVEL} frames a level; sys.setrecursionlimit raises the limit)")  # fmt: skip
            raise _refused(caller, f"{namer.names[node]} ({node.op})", reason, max_nodes, len(order))
        expressions[node] = built
    return expressions


def _refused(caller: str, at: str, reason: str, max_nodes: int, nodes: int) -> ValueError:
    return ValueError(f"{caller}: at {at}, {reason}; max_nodes={max_nodes} counts the nodes (this graph has "
                      f"{nodes}), not how deep or large the formula grows")  # fmt: skip


def _apply(sp: Any, op: Any, arguments: list[Any], caller: str) -> Any:
    """``op``'s formula on sympy ``arguments``; a custom op without one is an undefined function."""
    if op.formula is None:
        return sp.Function(op.name)(*arguments)
    try:
        return sp.sympify(op.formula(sp, *arguments), strict=True)
    except sp.SympifyError as error:
        got = f"{type(error.expr).__name__} {error.expr!r}"
        raise TypeError(f"{caller}: the formula of {op.name!r} must give a sympy expression, got {got}") from None
    except (TypeError, ValueError, AttributeError, ArithmeticError) as error:  # a custom formula that fails on symbols
        raise TypeError(f"{caller}: the formula of {op.name!r} failed on {tuple(arguments)}: {error!r}") from error


def _measure(expression: Any, levels: dict[int, tuple[Any, int, int]]) -> tuple[int, int]:
    """How many levels deep ``expression``'s tree goes (an atom is 1) and how many bits its longest exact
    number takes, without recursion; ``levels`` keeps each part measured (alive, so its id stays its own)."""
    stack = [expression]
    while stack:
        part = stack.pop()
        unmeasured = [a for a in part.args if id(a) not in levels]
        if unmeasured:
            stack += [part, *unmeasured]
        elif id(part) not in levels:
            bits = max(abs(part.p), part.q).bit_length() if part.is_Rational else 0
            below = [levels[id(a)] for a in part.args]
            levels[id(part)] = (part, 1 + max((b[1] for b in below), default=0), max([bits, *(b[2] for b in below)]))
    return levels[id(expression)][1:]


@dataclass(frozen=True)
class Formula:
    """A value as a formula (``expression``), its ``derivatives`` by variable name, and per variable the
    first ``paths`` from the root down to it as steps (``path_counts``: how many there are; ``chains``:
    them as lines of text). ``where`` defines each node the steps name, in its inputs' symbols;
    ``relabelled`` gives the labels that could not be names. Prints as text, shows as LaTeX in Jupyter,
    row for row the same."""

    name: str
    expression: Any
    derivatives: dict[str, Any]
    paths: dict[str, list[list[Step]]]
    path_counts: dict[str, int]
    where: dict[str, Any]
    relabelled: dict[str, str]

    @property
    def chains(self) -> dict[str, list[str]]:
        return {variable: [" · ".join(f"d{a}/d{b}" for a, b, _ in path) + " = " + " · ".join(f"({f})" for *_, f in path)
                           for path in paths] + self._notes(variable)
                for variable, paths in self.paths.items()}  # fmt: skip

    def _notes(self, variable: str) -> list[str]:
        shown, total = len(self.paths[variable]), self.path_counts[variable]
        more = [f"... and {total - shown} more paths; all {total} are summed"] if total > shown else []
        return more or ([f"(the {total} paths are summed)"] if total > 1 else [])

    def __str__(self) -> str:
        lines, chains = [f"{self.name} = {self.expression}"], self.chains
        for variable, derivative in self.derivatives.items():
            lines += [f"d{self.name}/d{variable} = {derivative}", *(f"    {chain}" for chain in chains[variable])]
        definitions = [f"{name} = {local}" for name, local in self.where.items()]
        definitions += [f"{name} is labelled {label!r}" for name, label in self.relabelled.items()]
        return "\n".join(lines + [f"{'where' if k == 0 else '     '} {row}" for k, row in enumerate(definitions)])

    __repr__ = __str__

    def _repr_latex_(self) -> str | None:
        """The rows as LaTeX, or None (Jupyter then shows the text) where sympy takes over ``LATEX_SECONDS``
        to typeset them: its LaTeX printer simplifies products as it goes, and can take hours on a long one."""
        return before(time.perf_counter() + LATEX_SECONDS, self._latex)

    def _latex(self) -> str:
        sp = _sympy()
        rows = [f"{_latex_name(self.name)} &= {sp.latex(self.expression)}"]
        for variable, derivative in self.derivatives.items():
            rows += [rf"{_latex_step(self.name, variable)} &= {sp.latex(derivative)}"]
            for path in self.paths[variable]:
                factors = r" \cdot ".join(rf"\left({sp.latex(f)}\right)" for *_, f in path)
                rows.append(r"\quad " + " ".join(_latex_step(a, b) for a, b, _ in path) + " &= " + factors)
            rows += [rf"\quad & \text{{{note}}}" for note in self._notes(variable)]
        definitions = [f"{_latex_name(name)} &= {sp.latex(local)}" for name, local in self.where.items()]
        definitions += [rf"{_latex_name(n)} &\ \text{{is labelled }} \mathtt{{{repr(label).translate(LATEX_ESCAPES)}}}"
                        for n, label in self.relabelled.items()]  # fmt: skip
        rows += [(r"\text{where } " if k == 0 else "") + row for k, row in enumerate(definitions)]
        return r"$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$"


def _latex_name(name: str) -> str:
    return str(_sympy().latex(_sympy().Symbol(name)))


def _latex_step(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {_latex_name(top)}}}{{\partial {_latex_name(bottom)}}}"


def formula(
    value: Value, wrt: Value | str | Iterable[Value | str] | None = None, max_nodes: int = MAX_NODES
) -> Formula:
    """``value`` as a formula with its derivative with respect to each leaf in ``wrt`` (Values, names
    as shown, or labels; every leaf by default), under each the chain rule along every path from the
    leaf (dF/dx = dF/dC · dC/dB · dB/dA · dA/dx), each local derivative in the symbols of the node's
    inputs, and every node named there defined under "where". Refused as ``to_sympy`` refuses.

    Derivatives are simplified within a budget: one of more than ``SIMPLIFY_OPS`` operations is not
    tried, and once the formula has run ``SIMPLIFY_SECONDS`` the rest are shown as sympy's diff gives
    them (exact, only longer), so no formula waits on sympy's simplify (for hours, on a small MLP's).
    The derivative of an expression that is NaN, or that an infinity has swallowed, is NaN."""
    sp = _sympy()
    order = _graph(value, "formula", max_nodes)
    namer = _Namer(order)
    start = time.perf_counter()
    expanded = _expressions(sp, order, namer, "formula", max_nodes, start + SYMPY_SECONDS)
    local_forms = _expressions(sp, order, namer, "formula", max_nodes, start + SYMPY_SECONDS, expand=False)
    symbols = {node: sp.Symbol(namer.names[node], real=True) for node in order}
    derivatives: dict[str, Any] = {}
    paths: dict[str, list[list[Step]]] = {}
    path_counts: dict[str, int] = {}
    for leaf in _variables(order, wrt, namer):
        variable = namer.names[leaf]
        derivative = before(start + SYMPY_SECONDS, partial(_derivative, sp, expanded[value], symbols[leaf]))
        if derivative is None:
            reason = f"sympy took over {SYMPY_SECONDS} s or all the recursion allowed to differentiate"
            raise _refused("formula", f"d{namer.names[value]}/d{variable}", reason, max_nodes, len(order))
        derivatives[variable] = _tidy(sp, derivative, start + SIMPLIFY_SECONDS)
        path_counts[variable], found = _paths(order, leaf)
        paths[variable] = [[(namer.names[a], namer.names[b], _derivative(sp, local_forms[a], symbols[b]))
                            for a, b in pairwise(path)] for path in found]  # fmt: skip
    mentioned = {namer.nodes[name] for steps in paths.values() for path in steps for a, b, factor in path
                 for name in (a, b, *map(str, factor.free_symbols)) if name in namer.nodes}  # fmt: skip
    needed = set(operand_order([node for node in mentioned if node.rule is not None and node is not value]))
    defined = [node for node in order if node in needed and node.rule is not None]
    shown = [node for node in order if node in defined or node is value or node.rule is None]
    relabelled = {namer.names[n]: n.label for n in shown if n.label and not _reads_as_name(n.label)}
    where = {namer.names[node]: local_forms[node] for node in defined}
    return Formula(namer.names[value], expanded[value], derivatives, paths, path_counts, where, relabelled)


def _variables(order: Sequence[Value], wrt: Any, namer: _Namer) -> list[Value]:
    leaves = [node for node in order if node.rule is None]
    if wrt is None:
        return leaves
    if not isinstance(wrt, (Value, str, Iterable)):
        raise TypeError(f"formula: wrt must be a Value, a name or a list of them, got {type(wrt).__name__} {wrt!r}")
    found = []
    for key in [wrt] if isinstance(wrt, (Value, str)) else list(wrt):
        if not isinstance(key, (Value, str)):
            raise TypeError(f"formula: wrt must hold Values or names, got {type(key).__name__} {key!r}")
        named = [namer.nodes[key]] if isinstance(key, str) and key in namer.nodes else []  # else a label, or a Value
        matches = named or [node for node in order if node is key or node.label == key != ""]
        if not matches:
            raise ValueError(f"formula: {key!r} is not in the graph; its leaves are {[namer.names[n] for n in leaves]}")
        if len(matches) > 1:
            names = ", ".join(namer.names[node] for node in matches)
            raise ValueError(f"formula: {key!r} is the label of {len(matches)} nodes ({names}); name one of them")
        if (node := matches[0]).rule is not None:
            raise ValueError(f"formula: wrt must name leaves (inputs); {namer.names[node]} is computed by {node.op}")
        found.append(node)
    return found


def _paths(order: Sequence[Value], leaf: Value) -> tuple[int, list[list[Value]]]:
    """How many paths lead from the root (last in ``order``) to ``leaf``, and the first few, each stepping to
    distinct inputs (x * x is one step, of derivative 2x); a root that is the leaf itself has none."""
    if order[-1] is leaf:
        return 0, []
    paths_to: dict[Value, int] = {}
    for node in order:
        paths_to[node] = 1 if node is leaf else sum(paths_to[x] for x in _distinct_inputs(node))
    found: list[list[Value]] = []
    stack: list[list[Value]] = [[order[-1]]] if paths_to[order[-1]] else []
    while stack and len(found) < MAX_PATHS:
        path = stack.pop()
        if path[-1] is leaf:
            found.append(path)
            continue
        stack += [[*path, x] for x in reversed(_distinct_inputs(path[-1])) if paths_to[x]]
    return paths_to[order[-1]], found


def _distinct_inputs(node: Value) -> list[Value]:
    return list(dict.fromkeys(x for x in node.inputs if isinstance(x, Value)))


def _derivative(sp: Any, expression: Any, symbol: Any) -> Any:
    """d expression/d symbol; NaN where the expression is NaN or an infinity that swallowed x (sympy: 0)."""
    if expression.has(sp.nan) or expression in (sp.oo, -sp.oo, sp.zoo):
        return sp.nan
    return sp.diff(expression, symbol)


def _tidy(sp: Any, derivative: Any, deadline: float) -> Any:
    """A simpler form when sympy finds one before ``deadline`` that is shorter and brings in no new
    functions (the sigmoid's derivative stays in exponentials, not 1/(4 cosh²(x/2)))."""
    if not before(deadline, lambda: sp.count_ops(derivative) <= SIMPLIFY_OPS):  # too long, or out of time
        return derivative
    functions = {type(f) for f in derivative.atoms(sp.Function)}

    def measure(e: Any) -> float:
        new = {type(f) for f in e.atoms(sp.Function)} - functions
        return float(sp.count_ops(e)) + (1000.0 if new else 0.0)

    simpler = before(deadline, lambda: sp.simplify(derivative, measure=measure))
    return simpler if simpler is not None and measure(simpler) < measure(derivative) else derivative

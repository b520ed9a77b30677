"""The import graph of autograd, nn and viz, read from the source with ``ast``: no circles but one.

The one allowed is engine <-> rules, the price of micrograd's ``x + y``: Value's operators are rows of
the rule table, and the table's rows are Ops that make Values. Imports under ``if TYPE_CHECKING:``
are for annotations only and never run, so they are not edges; imports inside functions are.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "viz")
ALLOWED = {frozenset({"autograd.engine", "autograd.rules"})}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(tree: ast.AST, known: set[str]) -> set[str]:
    """The modules of the project ``tree`` imports at run time: ``from a import b`` is a.b when that is a module."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] in PACKAGES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
        stack.extend(ast.iter_child_nodes(node))
    return found & known


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported(ast.parse(path.read_text(encoding="utf-8")), known) - {name} for name, path in found.items()}


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def test_the_only_circle_is_engine_and_rules():
    found = circles(import_graph())
    unexpected = [sorted(c) for c in found if frozenset(c) not in ALLOWED]
    assert not unexpected, unexpected


def test_the_circle_finder_finds_a_circle():
    # A circle of three and a lone edge: the finder must report exactly the three.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [{"a", "b", "c"}]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_import_reader_skips_type_checking_and_sees_function_level_imports():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from autograd.engine import Value\n"
        "def f():\n    from autograd import rules\n"
    )
    assert imported(ast.parse(source), {"autograd.engine", "autograd.rules", "autograd"}) == {"autograd.rules"}


def test_nn_and_viz_use_only_the_public_face_of_autograd():
    # nn and viz import autograd and autograd.compiler (public packages) and autograd.files (atomic writes),
    # never the compiler's inner modules or the engine's.
    public = {"autograd", "autograd.compiler", "autograd.files"}
    graph = import_graph()
    reaching = {(name, target) for name, targets in graph.items() if name.split(".")[0] in ("nn", "viz")
                for target in targets if target.startswith("autograd") and target not in public}  # fmt: skip
    assert not reaching, sorted(reaching)

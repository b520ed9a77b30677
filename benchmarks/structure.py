"""Structure figures: lines per module, the longest functions and the largest parameter lists.

Run: python benchmarks/structure.py [FOLDER ...]   (default: autograd nn viz)
Reads the source with ``ast``; prints figures only.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def parameter_count(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Named parameters, not counting self/cls (``*args`` and ``**kwargs`` count one each)."""
    arguments = function.args
    names = [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]
    names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return len([name for name in names if name not in ("self", "cls")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", default=["autograd", "nn", "viz"])
    parser.add_argument("--top", type=int, default=3, help="how many of the longest and widest functions to list")
    options = parser.parse_args()
    found: list[tuple[str, str, int, int]] = []  # (file, function, lines, parameters)
    print(f"{'module':<40} {'lines':>6}")
    for folder in options.folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            name = str(path.relative_to(ROOT))
            print(f"{name:<40} {len(source.splitlines()):>6}")
            for function in functions(ast.parse(source)):
                length = (function.end_lineno or function.lineno) - function.lineno + 1
                found.append((name, function.name, length, parameter_count(function)))
    print()
    print("longest functions (lines):")
    for name, function_name, length, _ in sorted(found, key=lambda f: -f[2])[: options.top]:
        print(f"  {length:>4}  {name}:{function_name}")
    print("largest parameter lists (parameters, self not counted):")
    for name, function_name, _, count in sorted(found, key=lambda f: -f[3])[: options.top]:
        print(f"  {count:>4}  {name}:{function_name}")


if __name__ == "__main__":
    main()

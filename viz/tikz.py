"""Any diagram as a TikZ picture for LaTeX, drawn where Graphviz laid it out.

:func:`to_tikz` asks Graphviz for its layout in JSON (``dot -Tjson``: every node's position and size,
every edge's spline, arrowhead and label, every cluster's frame, each as the drawing operations of
Graphviz's xdot format) and writes those operations as TikZ, in Graphviz's own coordinates (1 unit = 1 bp,
the PostScript point Graphviz measures in), so the picture looks like the SVG: same positions, same splines,
same colours (the gradient scale of the grad cells, the red and blue of a network's weights).

Three things are more than lines and text:

- every node is also a named TikZ node, ``(v0)``, ``(op3)``, at its centre with its size, so a document can
  draw its own arrows to and from it;
- a record, a node whose label is one row of cells (label | data | grad), stays a record: a ``\\matrix``
  named ``(v0-cells)`` of cell nodes ``(v0-1)``, ``(v0-2)``, ``(v0-3)``, each as wide as Graphviz made it,
  filled with its colour, with the dividers Graphviz drew between them;
- all text is escaped for LaTeX by :func:`escape_latex`: ``# $ % & _ { } ~ ^ \\`` and ``< > |`` print as
  themselves, Greek letters and symbols such as ``·``, ``×``, ``²`` become math or ``\\textsuperscript``, and
  any other character pdflatex could not typeset is shown as ``[U+XXXX]``; markup in a label is never read.

Text is set in the document's sans-serif font, centred where Graphviz centred DejaVu Sans, so a narrower
font still sits in the middle of its cell.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAYOUT_TIMEOUT = 120.0
"""Seconds Graphviz may take to lay out a diagram for :func:`to_tikz` before it is stopped."""

_PREAMBLE = (
    "\\RequirePackage{fix-cm}% any font size, as Graphviz uses\n"
    "\\documentclass[border=2pt]{standalone}\n"
    "\\usepackage{tikz}\n"
    "\\begin{document}\n"
)

Op = Mapping[str, Any]
Point = tuple[float, float]


class TikzError(RuntimeError):
    """Graphviz could not lay the diagram out, or is not installed."""


# -- escaping ---------------------------------------------------------------------------------

_ASCII = {
    "\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "#": "\\#", "$": "\\$", "%": "\\%", "&": "\\&",
    "_": "\\_", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}", "<": "\\textless{}",
    ">": "\\textgreater{}", "|": "\\textbar{}", "`": "\\textasciigrave{}",
    # ligatures that would change the text: -- and --- become dashes, '' a closing quote, !` and ?` Spanish marks
    "-": "-{}", "'": "'{}", "!": "!{}", "?": "?{}",
    "\t": " ", "\n": " ", "\r": " ",
}  # fmt: skip
_GREEK = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "o", "pi", "rho", "varsigma", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
)  # fmt: skip
_UNICODE: dict[str, str] = {}
for _offset, _name in enumerate(_GREEK):
    # U+03B1 (alpha) to U+03C9 (omega); U+0391.. are the capitals, U+03A2 is unassigned
    _UNICODE[chr(0x3B1 + _offset)] = "o" if _name == "o" else f"\\(\\{_name}\\)"
    if _name not in ("varsigma",):
        capital = _name.capitalize()
        latin = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K",
                 "Mu": "M", "Nu": "N", "O": "O", "Rho": "P", "Tau": "T", "Chi": "X"}  # fmt: skip
        _UNICODE[chr(0x391 + _offset)] = latin.get(capital, f"\\(\\{capital}\\)")
_UNICODE.update({
    "\u03d5": "\\(\\phi\\)", "\u03b5": "\\(\\varepsilon\\)",
    "·": "\\(\\cdot\\)", "×": "\\(\\times\\)", "÷": "\\(\\div\\)", "−": "\\(-\\)", "±": "\\(\\pm\\)",
    "∂": "\\(\\partial\\)", "∇": "\\(\\nabla\\)", "∑": "\\(\\sum\\)", "∏": "\\(\\prod\\)", "√": "\\(\\surd\\)",
    "∞": "\\(\\infty\\)", "≈": "\\(\\approx\\)", "≠": "\\(\\neq\\)", "≤": "\\(\\leq\\)", "≥": "\\(\\geq\\)",
    "→": "\\(\\rightarrow\\)", "←": "\\(\\leftarrow\\)", "↦": "\\(\\mapsto\\)", "∘": "\\(\\circ\\)",
    "∈": "\\(\\in\\)", "∫": "\\(\\int\\)", "⊙": "\\(\\odot\\)", "⊗": "\\(\\otimes\\)", "′": "\\('\\)",
    "…": "\\ldots{}", "–": "\\textendash{}", "—": "\\textemdash{}", "‘": "\\textquoteleft{}",
    "’": "\\textquoteright{}", "“": "\\textquotedblleft{}", "”": "\\textquotedblright{}", "°": "\\textdegree{}",
    "µ": "\\(\\mu\\)", "\u00a0": "~", "§": "\\S{}", "¶": "\\P{}", "©": "\\textcopyright{}", "£": "\\pounds{}",
    "¬": "\\(\\neg\\)", "ß": "\\ss{}", "æ": "\\ae{}", "Æ": "\\AE{}", "ø": "\\o{}", "Ø": "\\O{}", "œ": "\\oe{}",
    "Œ": "\\OE{}", "å": "\\aa{}", "Å": "\\AA{}", "ı": "\\i{}",
})  # fmt: skip
for _digit, (_sup, _sub) in enumerate(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "₀₁₂₃₄₅₆₇₈₉", strict=True)):
    _UNICODE[_sup] = f"\\textsuperscript{{{_digit}}}"
    _UNICODE[_sub] = f"\\textsubscript{{{_digit}}}"
_UNICODE.update({"⁺": "\\textsuperscript{+}", "⁻": "\\textsuperscript{\\(-\\)}", "ⁿ": "\\textsuperscript{n}",
                 "₊": "\\textsubscript{+}", "₋": "\\textsubscript{\\(-\\)}"})  # fmt: skip
# Accented Latin-1 letters: LaTeX's utf8 input (the default since 2018) composes them in any font encoding.
_LATIN1_LETTERS = {chr(c) for c in range(0xC0, 0x100)} - {"×", "÷", "Ð", "ð", "Þ", "þ"}


def escape_latex(text: str) -> str:
    """``text`` as LaTeX that prints it literally: no command, group, math or comment in it is ever read.

    The ten special characters and ``< > | `` ` `` print as themselves; ``-``, ``'``, ``!`` and ``?`` are
    kept from forming ligatures (``--`` would print a dash); Greek letters and common symbols become math
    (``σ`` is ``\\(\\sigma\\)``, ``·`` is ``\\(\\cdot\\)``), superscript and subscript digits become
    ``\\textsuperscript``/``\\textsubscript``, accented Latin-1 letters stay as they are, and any other
    character beyond ASCII, or a control character, is shown as ``[U+XXXX]``. Line breaks become spaces.
    Raises TypeError if ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"escape_latex: text must be a str, got {type(text).__name__} ({text!r:.60})")
    out = []
    for number, char in enumerate(text):
        if char == " " and number and text[number - 1] == " ":
            out.append("\\ ")  # TeX would run spaces together; Graphviz keeps each (a legend's gaps)
        elif char in _ASCII:
            out.append(_ASCII[char])
        elif " " <= char <= "~":
            out.append(char)
        elif char in _UNICODE:
            out.append(_UNICODE[char])
        elif char in _LATIN1_LETTERS:
            out.append(char)
        else:
            out.append(f"[U+{ord(char):04X}]")
    return "".join(out)


# -- the layout -------------------------------------------------------------------------------


def graphviz_layout(source: str, *, caller: str = "to_tikz") -> dict[str, Any]:
    """Graphviz's layout of DOT ``source``: the parsed output of ``dot -Tjson`` (positions in bp, y upwards).

    Uses Graphviz's ``dot`` when installed, else the ``graphviz-pure`` port pip installs with this package.
    Raises TikzError when neither can lay the graph out, or when the layout takes longer than ``LAYOUT_TIMEOUT``.
    """
    if not isinstance(source, str):
        raise TypeError(f"{caller}: source must be DOT text (a str), got {type(source).__name__}")
    program = _layout_program()
    if program is None:
        raise TikzError(f"{caller}: no Graphviz to lay the diagram out: install Graphviz (apt-get install graphviz; "
                        "brew install graphviz) or reinstall this package to get graphviz-pure")  # fmt: skip
    try:
        done = subprocess.run(
            [program, "-Tjson"], input=source.encode("utf-8"), capture_output=True, timeout=LAYOUT_TIMEOUT,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise TikzError(f"{caller}: {Path(program).name} took more than {LAYOUT_TIMEOUT:g} s to lay the diagram out "
                        "and was stopped; draw a smaller graph (collapse=..., max_nodes=...)") from None  # fmt: skip
    except OSError as error:
        raise TikzError(f"{caller}: cannot run {program}: {error.strerror or error}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or "no output"
        raise TikzError(f"{caller}: {Path(program).name} could not lay the diagram out: {message[:2000]}")
    try:
        layout = json.loads(done.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as error:
        raise TikzError(f"{caller}: {Path(program).name} wrote a layout that is not JSON: {error}") from None
    if not isinstance(layout, dict):
        raise TikzError(f"{caller}: {Path(program).name} wrote a layout that is not a JSON object")
    if _beziers_swapped(program):
        _swap_beziers(layout)
    if _texts_left_escaped(program):
        _unescape_texts(layout)
    return layout


@functools.cache
def _beziers_swapped(program: str) -> bool:
    """Whether ``program``'s JSON names its splines the wrong way round.

    In xdot, ``B`` is an open spline and ``b`` a filled one; Graphviz 2.43's JSON writer (Debian's and
    Ubuntu's Graphviz) swaps the two. An edge is never filled, so one edge, laid out once per program, tells.
    """
    try:
        done = subprocess.run([program, "-Tjson"], input=b"digraph { a -> b }", capture_output=True,
                              timeout=LAYOUT_TIMEOUT, check=False)  # fmt: skip
        edge = json.loads(done.stdout.decode("utf-8", "replace"))["edges"][0]
        return any(op.get("op") == "b" for op in edge["_draw_"])
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError, TypeError):
        return False


@functools.cache
def _texts_left_escaped(program: str) -> bool:
    """Whether ``program``'s JSON gives a label's text with DOT's escaped backslashes left in: graphviz-pure
    writes ``x\\\\y`` where Graphviz writes the ``x\\y`` the label shows (its SVG is right). One label tells."""
    try:
        done = subprocess.run([program, "-Tjson"], input=b'digraph { a [label="x\\\\y"] }', capture_output=True,
                              timeout=LAYOUT_TIMEOUT, check=False)  # fmt: skip
        node = json.loads(done.stdout.decode("utf-8", "replace"))["objects"][0]
        return any(op.get("op") == "T" and op.get("text") == "x\\\\y" for op in node["_ldraw_"])
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError, TypeError):
        return False


def _unescape_texts(layout: Any) -> None:
    """Every text operation's text as the label shows it: DOT's escaped backslash read as one backslash."""
    stack = [layout]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("op") == "T" and isinstance(item.get("text"), str):
                item["text"] = item["text"].replace("\\\\", "\\")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _swap_beziers(layout: Any) -> None:
    """Rename every ``b`` operation ``B`` and back, everywhere in the layout."""
    stack = [layout]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("op") in ("b", "B") and "points" in item:
                item["op"] = "B" if item["op"] == "b" else "b"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _layout_program() -> str | None:
    """``dot`` when on the PATH, else ``graphviz-pure`` beside this Python or on the PATH (the order of viz.render)."""
    dot = shutil.which("dot")
    if dot:
        return dot
    name = "graphviz-pure.exe" if os.name == "nt" else "graphviz-pure"
    beside_python = Path(sysconfig.get_path("scripts")) / name
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("graphviz-pure")


# -- drawing xdot operations as TikZ ----------------------------------------------------------

_NAMED_COLOURS = {"black": "000000", "white": "ffffff", "red": "ff0000", "green": "00ff00", "blue": "0000ff",
                  "gray": "c0c0c0", "grey": "c0c0c0", "lightgrey": "d3d3d3", "lightgray": "d3d3d3",
                  "orange": "ffa500", "yellow": "ffff00"}  # fmt: skip


@dataclass
class _Colours:
    """The colours a picture uses, each defined once at its top as ``gv`` + its hex digits."""

    used: dict[str, str] = field(default_factory=dict)

    def name(self, colour: str) -> tuple[str, float] | None:
        """The TikZ colour name and opacity for a Graphviz colour, or None for a transparent or unknown one."""
        colour = colour.strip().lower()
        if colour in ("none", "transparent", ""):
            return None
        digits = colour[1:] if colour.startswith("#") else _NAMED_COLOURS.get(colour, "")
        if not re.fullmatch(r"[0-9a-f]{6}([0-9a-f]{2})?", digits):
            digits = "000000"  # a colour name Graphviz knows but this table does not: drawn black, never dropped
        alpha = int(digits[6:], 16) / 255 if len(digits) == 8 else 1.0
        if alpha == 0:
            return None
        name = f"gv{digits[:6]}"
        self.used[name] = digits[:6].upper()
        return name, alpha

    def definitions(self) -> list[str]:
        return [f"\\definecolor{{{name}}}{{HTML}}{{{hex_}}}" for name, hex_ in sorted(self.used.items())]


@dataclass
class _Pen:
    """The drawing state xdot operations set before they draw: colours, line style, font."""

    colour: str = "#000000"
    fill: str = "#000000"
    style: list[str] = field(default_factory=list)
    font_size: float = 14.0
    font_face: str = "Times-Roman"
    flags: int = 0


def _num(x: float) -> str:
    """A coordinate in bp, at most two decimals (Graphviz's own precision), no "-0"."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _point(p: Sequence[float]) -> str:
    return f"({_num(p[0])},{_num(p[1])})"


def _line_options(pen: _Pen, colours: _Colours) -> list[str]:
    options = []
    for style in pen.style:
        width = re.fullmatch(r"setlinewidth\(([\d.]+)\)", style)
        if width:
            options.append(f"line width={_num(float(width.group(1)))}bp")
        elif style in ("dashed", "dotted"):
            options.append(style)
        elif style == "bold":
            options.append("line width=2bp")
    named = colours.name(pen.colour)
    if named is None:
        options.append("draw=none")
    else:
        options.append(f"draw={named[0]}")
        if named[1] < 1:
            options.append(f"draw opacity={named[1]:.3f}")
    return options


def _fill_options(pen: _Pen, colours: _Colours) -> list[str]:
    named = colours.name(pen.fill)
    if named is None:
        return []
    return [f"fill={named[0]}"] + ([f"fill opacity={named[1]:.3f}"] if named[1] < 1 else [])


def _font(pen: _Pen) -> str:
    bold = bool(pen.flags & 1) or "bold" in pen.font_face.lower()
    italic = bool(pen.flags & 2) or "italic" in pen.font_face.lower() or "oblique" in pen.font_face.lower()
    size = pen.font_size
    # \sffamily here, not in "every node": a node's own font= replaces that style's
    return (f"\\sffamily\\fontsize{{{_num(size)}}}{{{_num(size * 1.2)}}}\\selectfont"
            + ("\\bfseries" if bold else "") + ("\\itshape" if italic else ""))  # fmt: skip


def _text_centre(op: Op) -> float:
    """Where Graphviz centred a line of text: its anchor moved by half its width for left or right alignment."""
    x, width = float(op["pt"][0]), float(op.get("width", 0.0))
    align = op.get("align", "c")
    return x + width / 2 if align == "l" else x - width / 2 if align == "r" else x


def _draw_ops(ops: Iterable[Op], colours: _Colours, pen: _Pen | None = None) -> list[str]:
    """TikZ commands for a list of xdot operations, Graphviz's drawing state carried from one to the next."""
    pen = pen or _Pen()
    lines = []
    for op in ops:
        kind = op.get("op")
        if kind == "c":
            pen.colour = str(op.get("color", "#000000"))
        elif kind == "C":
            pen.fill = str(op.get("color", "#000000"))
        elif kind == "S":
            style = str(op.get("style", "solid"))
            if style == "solid":
                pen.style = [s for s in pen.style if s.startswith("setlinewidth")]
            else:
                pen.style = [*pen.style, style]
        elif kind == "F":
            pen.font_size, pen.font_face = float(op.get("size", 14.0)), str(op.get("face", ""))
        elif kind == "t":
            pen.flags = int(op.get("fontchar", 0))
        elif kind in ("P", "p", "L", "B", "b"):
            points = [(float(p[0]), float(p[1])) for p in op.get("points", [])]
            if len(points) < 2:
                continue
            filled = kind in ("P", "b")
            options = _line_options(pen, colours) + (_fill_options(pen, colours) if filled else [])
            if kind in ("B", "b"):
                path = _point(points[0]) + "".join(
                    f" .. controls {_point(points[i])} and {_point(points[i + 1])} .. {_point(points[i + 2])}"
                    for i in range(1, len(points) - 2, 3)
                )
            else:
                path = " -- ".join(_point(p) for p in points)
            if kind in ("P", "p") or (kind == "b" and points[0] == points[-1]):
                path += " -- cycle"
            lines.append(f"\\path[{', '.join(options)}] {path};")
        elif kind in ("E", "e"):
            rect = op.get("rect", [0, 0, 0, 0])
            options = _line_options(pen, colours) + (_fill_options(pen, colours) if kind == "E" else [])
            lines.append(f"\\path[{', '.join(options)}] {_point(rect[:2])} ellipse "
                         f"[x radius={_num(float(rect[2]))}, y radius={_num(float(rect[3]))}];")  # fmt: skip
        elif kind == "T":
            named = colours.name(pen.colour)
            if named is None or not str(op.get("text", "")).strip():
                continue
            y = float(op["pt"][1])
            lines.append(f"\\node[gvtext, text={named[0]}, font={_font(pen)}] at "
                         f"{_point((_text_centre(op), y))} {{{escape_latex(str(op['text']))}}};")  # fmt: skip
        # "I" (an image) never occurs: viz escapes every label, so no <IMG> reaches Graphviz
    return lines


# -- records ----------------------------------------------------------------------------------


@dataclass
class _Cell:
    left: float
    right: float
    lines: list[tuple[float, str, _Pen]] = field(default_factory=list)  # (baseline, text, its pen)
    fill: str | None = None


def _is_record(node: Mapping[str, Any]) -> bool:
    """Whether the node's label is one row of cells: an HTML-like table with one ``<tr>`` and no spans.

    The label here is Graphviz's copy of the markup, in which user text is escaped (``&lt;tr``), so only
    the diagram's own tags are counted.
    """
    label = str(node.get("label", ""))
    return (
        label.lstrip().lower().startswith("<table")
        and label.lower().count("<tr") == 1
        and not re.search(r"(colspan|rowspan)=\"", label, re.IGNORECASE)
    )


def _record_cells(ops: Sequence[Op]) -> tuple[list[_Cell], float, float, list[tuple[float, str]]] | None:
    """The cells of a one-row table, read from where Graphviz drew them, with the row's bottom and top and the
    dividers (x, colour); None when the drawing does not show where each cell starts and ends.

    Graphviz draws a cell's background as a filled polygon and its borders as lines; each text line is
    centred in its cell. Neighbouring cells in viz's records are always parted by a border or a background,
    so those edges are the dividers; the outer edges are the backgrounds' where there are any, else the
    mirror image of the nearest divider about the text's centre.
    """
    pen = _Pen()
    texts: list[tuple[float, float, str, _Pen]] = []  # (centre, baseline, text, pen)
    fills: list[tuple[float, float, float, float, str]] = []
    dividers: list[tuple[float, str]] = []
    spans: list[tuple[float, float]] = []
    for op in ops:
        kind = op.get("op")
        if kind == "c":
            pen = _Pen(str(op.get("color")), pen.fill, pen.style, pen.font_size, pen.font_face, pen.flags)
        elif kind == "C":
            pen = _Pen(pen.colour, str(op.get("color")), pen.style, pen.font_size, pen.font_face, pen.flags)
        elif kind == "F":
            pen = _Pen(pen.colour, pen.fill, pen.style, float(op.get("size", 14.0)), str(op.get("face", "")), 0)
        elif kind == "t":
            pen = _Pen(pen.colour, pen.fill, pen.style, pen.font_size, pen.font_face, int(op.get("fontchar", 0)))
        elif kind == "T" and str(op.get("text", "")):
            texts.append((_text_centre(op), float(op["pt"][1]), str(op["text"]), pen))
        elif kind == "P":
            xs = [float(p[0]) for p in op["points"]]
            ys = [float(p[1]) for p in op["points"]]
            fills.append((min(xs), max(xs), min(ys), max(ys), pen.fill))
            spans.append((min(ys), max(ys)))
        elif kind == "L":
            (x0, y0), (x1, y1) = (op["points"][0], op["points"][-1])
            if x0 == x1 and len(op["points"]) == 2:
                dividers.append((float(x0), pen.colour))
                spans.append((min(float(y0), float(y1)), max(float(y0), float(y1))))
            else:
                return None  # a horizontal border: not a plain row of cells
        elif kind in ("p", "B", "b", "E", "e", "I"):
            return None
    if not texts or not spans:
        return None
    first = min(c for c, *_ in texts)
    last = max(c for c, *_ in texts)
    edges = sorted({round(x, 2) for x, _ in dividers} | {round(e, 2) for f in fills for e in f[:2]})
    inner = [e for e in edges if first < e < last]
    if not inner:
        return None
    left_fill = [f[0] for f in fills if f[0] < inner[0]]
    right_fill = [f[1] for f in fills if f[1] > inner[-1]]
    first_centre = min(c for c, *_ in texts if c < inner[0]) if any(c < inner[0] for c, *_ in texts) else None
    last_centre = max(c for c, *_ in texts if c > inner[-1]) if any(c > inner[-1] for c, *_ in texts) else None
    if (not left_fill and first_centre is None) or (not right_fill and last_centre is None):
        return None
    left = min(left_fill) if left_fill else 2 * float(first_centre or 0.0) - inner[0]
    right = max(right_fill) if right_fill else 2 * float(last_centre or 0.0) - inner[-1]
    bounds = [left, *inner, right]
    cells = [_Cell(a, b) for a, b in itertools.pairwise(bounds)]
    for centre, baseline, text, text_pen in texts:
        cell = next((c for c in cells if c.left <= centre <= c.right), None)
        if cell is None:
            return None
        cell.lines.append((baseline, text, text_pen))
    for x0, x1, _, _, colour in fills:
        for cell in cells:
            if x0 <= (cell.left + cell.right) / 2 <= x1:
                cell.fill = colour
    bottom, top = min(s[0] for s in spans), max(s[1] for s in spans)
    return cells, bottom, top, dividers


def _record(name: str, node: Mapping[str, Any], colours: _Colours) -> list[str] | None:
    """A record node's cells as a TikZ matrix of nodes placed where Graphviz placed the cells, with its dividers."""
    found = _record_cells(node.get("_ldraw_", []))
    if found is None:
        return None
    cells, bottom, top, dividers = found
    centre = ((cells[0].left + cells[-1].right) / 2, (bottom + top) / 2)
    lines = [f"\\matrix[gvrecord] ({name}-cells) at {_point(centre)} {{"]
    for number, cell in enumerate(cells, start=1):
        options = [f"minimum width={_num(cell.right - cell.left)}bp", f"minimum height={_num(top - bottom)}bp"]
        fill = colours.name(cell.fill) if cell.fill else None
        if fill is not None:
            options.append(f"fill={fill[0]}")
        texts = sorted(cell.lines, key=lambda line: -line[0])  # top line first
        if texts:
            pen = texts[0][2]
            text_colour = colours.name(pen.colour)
            options.append(f"font={_font(pen)}")
            if text_colour is not None:
                options.append(f"text={text_colour[0]}")
        body = " \\\\ ".join(escape_latex(text) for _, text, _ in texts)
        end = " \\\\" if number == len(cells) else " &"
        lines.append(f"  \\node[gvcell, {', '.join(options)}] ({name}-{number}) {{{body}}};{end}")
    lines.append("};")
    for x, colour in dividers:
        named = colours.name(colour)
        if named is None:
            continue
        # each divider sits on the edge of the cell to its right (or left, for the last one)
        on_left = [i for i, c in enumerate(cells, start=1) if abs(c.left - x) <= 1.0]
        on_right = [i for i, c in enumerate(cells, start=1) if abs(c.right - x) <= 1.0]
        if not on_left and not on_right:
            continue
        number, corner = (on_left[0], "west") if on_left else (on_right[0], "east")
        lines.append(f"\\draw[{named[0]}] ({name}-{number}.north {corner}) -- ({name}-{number}.south {corner});")
    return lines


# -- the picture ------------------------------------------------------------------------------


def _tikz_names(objects: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """A TikZ name per node: the DOT name where TikZ can use it as it is (``_`` written ``-``), else node<id>."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for number, node in enumerate(objects):
        wanted = re.sub("_", "-", str(node.get("name", "")))
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", wanted) or wanted in taken or wanted.endswith("-cells"):
            wanted = f"node{number}"
        taken.add(wanted)
        names[number] = wanted
    return names


def tikz_picture(layout: Mapping[str, Any]) -> str:
    """The ``tikzpicture`` of a Graphviz JSON layout (see :func:`graphviz_layout`): clusters, edges, then nodes."""
    colours = _Colours()
    objects: list[Mapping[str, Any]] = list(layout.get("objects", []))
    clusters = int(layout.get("_subgraph_cnt", 0))
    names = _tikz_names(objects)
    body: list[str] = ["% the page: background and title"]
    for key in ("_draw_", "_ldraw_"):
        body += _draw_ops(layout.get(key, []), colours)
    for number, cluster in enumerate(objects[:clusters]):
        if cluster.get("_draw_") or cluster.get("_ldraw_"):
            body.append(f"% cluster {number}")
            for key in ("_draw_", "_ldraw_"):
                body += _draw_ops(cluster.get(key, []), colours)
    body.append("% edges: splines, arrowheads and labels")
    for edge in layout.get("edges", []):
        for key in ("_draw_", "_tdraw_", "_hdraw_", "_ldraw_", "_tldraw_", "_hldraw_", "_xldraw_"):
            body += _draw_ops(edge.get(key, []), colours)
    body.append("% nodes: each named, at Graphviz's centre with Graphviz's size")
    for number, node in enumerate(objects[clusters:], start=clusters):
        if "pos" not in node:
            continue
        name = names[number]
        x, y = (float(v) for v in str(node["pos"]).split(",")[:2])
        width, height = float(node.get("width", 0)) * 72, float(node.get("height", 0)) * 72
        body.append(f"\\node[gvnode, minimum width={_num(width)}bp, minimum height={_num(height)}bp] ({name}) at "
                    f"{_point((x, y))} {{}};")  # fmt: skip
        body += _draw_ops(node.get("_draw_", []), colours)
        record = _record(name, node, colours) if _is_record(node) else None
        body += record if record is not None else _draw_ops(node.get("_ldraw_", []), colours)
    styles = (
        "x=1bp, y=1bp,\n"
        "  gvtext/.style={anchor=base, inner sep=0pt, outer sep=0pt},\n"
        "  gvnode/.style={inner sep=0pt, outer sep=0pt, shape=rectangle},\n"
        "  gvrecord/.style={matrix, inner sep=0pt, outer sep=0pt, column sep=0pt, row sep=0pt},\n"
        "  gvcell/.style={inner sep=0pt, outer sep=0pt, align=center, anchor=center}"
    )
    head = [f"\\begin{{tikzpicture}}[{styles}]", *colours.definitions()]
    return "\n".join([*head, *body, "\\end{tikzpicture}"]) + "\n"


def to_tikz(graph: Any, *, standalone: bool = False) -> str:
    """The diagram ``graph`` (any ``graphviz.Digraph`` viz draws, or DOT text) as TikZ, laid out by Graphviz.

    ``standalone=False`` gives a ``tikzpicture`` to ``\\input`` into a document that loads ``tikz``;
    ``standalone=True`` a whole document (``standalone`` class, ``tikz``, ``fix-cm``) that compiles with
    ``pdflatex`` on its own. Record nodes are kept as records (see the module's notes); every node is named
    as in the DOT (``v0``, ``op3``; ``_`` is written ``-``). Raises TikzError when Graphviz is missing or fails.
    """
    if not isinstance(standalone, bool):
        raise TypeError(f"to_tikz: standalone must be True or False, got {type(standalone).__name__}")
    source = graph if isinstance(graph, str) else getattr(graph, "source", None)
    if not isinstance(source, str):
        raise TypeError(f"to_tikz: expected a diagram (a graphviz.Digraph) or DOT text, got {type(graph).__name__}")
    picture = tikz_picture(graphviz_layout(source, caller="to_tikz"))
    if not standalone:
        return picture
    return _PREAMBLE + picture + "\\end{document}\n"

"""TikZ output: records stay records, positions are Graphviz's, text is escaped, and the file compiles.

Positions are checked against Graphviz's own ``-Tplain`` layout (inches, read independently of the JSON
that viz.tikz translates); numbers against the engine's ``backward``. The pdflatex check runs only where
pdflatex is installed (Debian: ``apt-get install texlive-latex-base texlive-pictures texlive-latex-extra``).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

import nn
import viz
import viz.tikz
from autograd import Value
from tests.test_viz import sigmoid_graph
from viz.tikz import escape_latex, to_tikz

HOSTILE = "a\\b{c}#$%&_~^ <b>x</b> \\end{tikzpicture}\\input{/etc/passwd} σ·x² %\n2nd `!'\"|"
NODE = re.compile(
    r"\\node\[gvnode, minimum width=([-\d.]+)bp, minimum height=([-\d.]+)bp\] \(([\w-]+)\) at \(([-\d.]+),([-\d.]+)\)"
)


def tikz_nodes(tikz: str) -> dict[str, tuple[float, float, float, float]]:
    """name -> (x, y, width, height) in bp, as the TikZ places each node."""
    return {m[3]: (float(m[4]), float(m[5]), float(m[1]), float(m[2])) for m in NODE.finditer(tikz)}


def plain_layout(source: str, program: str) -> tuple[dict[str, tuple[float, float, float, float]], list[list[float]]]:
    """Graphviz's own layout in bp from ``-Tplain``: node name -> (x, y, width, height), and each edge's points."""
    done = subprocess.run([program, "-Tplain"], input=source.encode(), capture_output=True, check=True)
    nodes, edges = {}, []
    for line in done.stdout.decode().splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            nodes[parts[1]] = tuple(float(v) * 72 for v in parts[2:6])
        elif parts and parts[0] == "edge":
            count = int(parts[3])
            edges.append([float(v) * 72 for v in parts[4 : 4 + 2 * count]])
    return nodes, edges  # type: ignore[return-value]


@pytest.fixture(params=["dot", "graphviz-pure"])
def layout_program(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test once with Graphviz's dot, once with it hidden so that the bundled graphviz-pure lays out."""
    if request.param == "dot":
        found = shutil.which("dot")
        if found is None:
            pytest.skip("Graphviz dot is not installed")
        return found
    monkeypatch.setenv("PATH", "")
    pure = viz.find_renderer("svg")
    if pure is None or not pure.name.startswith("graphviz-pure"):
        pytest.skip("graphviz-pure is not installed")
    return str(pure)


def sigmoid_tikz(**options: object) -> tuple[Value, Value, viz.Diagram, str]:
    x, f = sigmoid_graph()
    f.backward()
    diagram = viz.draw_graph(f, edge_labels=True, rankdir="TB")
    return x, f, diagram, to_tikz(diagram, **options)  # type: ignore[arg-type]


# -- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("#$%&_{}", "\\#\\$\\%\\&\\_\\{\\}"),
        ("~^\\", "\\textasciitilde{}\\textasciicircum{}\\textbackslash{}"),
        ("a<b>|c", "a\\textless{}b\\textgreater{}\\textbar{}c"),
        ("x--y", "x-{}-{}y"),
        ("σ·x²", "\\(\\sigma\\)\\(\\cdot\\)x\\textsuperscript{2}"),
        ("w₁×Δ", "w\\textsubscript{1}\\(\\times\\)\\(\\Delta\\)"),
        ("café", "café"),
        ("\u202e\x07日", "[U+202E][U+0007][U+65E5]"),
        ("a\nb  c", "a b \\ c"),
    ],
)
def test_escape_latex_prints_each_character_as_itself(text: str, latex: str):
    assert escape_latex(text) == latex


def test_escaped_text_holds_no_live_markup():
    escaped = escape_latex(HOSTILE)
    # what remains after the escapes' own commands: no backslash, brace, $, %, #, &, _, ^ or ~ of the input
    known = r"\\text[a-z]+\{\}|\\textsuperscript\{2\}|\\(sigma|cdot)\b|\\[#$%&_{}()]|\{\}"
    assert not re.search(r"[\\{}$%#&_^~]", re.sub(known, "", escaped)), escaped
    assert escaped.count("{") == escaped.count("}")


def test_escape_latex_names_itself_for_a_non_string():
    with pytest.raises(TypeError, match=r"escape_latex: text must be a str, got int"):
        escape_latex(3)  # type: ignore[arg-type]


# -- structure and positions ------------------------------------------------------------------


def test_records_stay_records_with_the_engines_numbers():
    x, f, diagram, tikz = sigmoid_tikz()
    # the sigmoid at x = 0, by hand: F = 1/2, dF/dx = 1/4; the rest comes from the engine's backward
    assert (f.data, x.grad) == (0.5, 0.25)
    matrices = re.findall(r"\\matrix\[gvrecord\] \((v\d+)-cells\) at [^{]*\{\n(.*?)\n\};", tikz, re.S)
    assert len(matrices) == 5  # x, A, B, C, F: a record each
    cells = {name: re.findall(r"\((v\d+-\d)\) \{(.*?)\};", body) for name, body in matrices}
    by_label = {found[0][1]: [text for _, text in found] for found in cells.values()}
    for v in (x, *_ancestors(f)):
        assert by_label[v.label] == [v.label, f"data {v.data + 0.0:.4f}".replace("-", "-{}"),
                                     f"grad {v.grad:.4f}".replace("-", "-{}")]  # fmt: skip
    # the grad cell keeps the colour of the gradient scale the DOT gives it
    for colour in re.findall(r'bgcolor="#([0-9a-f]{6})"', diagram.source):
        assert f"fill=gv{colour}" in tikz
        assert f"\\definecolor{{gv{colour}}}{{HTML}}{{{colour.upper()}}}" in tikz
    # the dividers between label | data | grad are drawn on the cells' edges
    for cell in (2, 3):
        divider = rf"\\draw\[gv444444\] \(v\d+-{cell}\.north west\) -- \(v\d+-{cell}\.south west\);"
        assert len(re.findall(divider, tikz)) == 5
    # edge labels: the local derivatives dA/dx = -1 and dF/dC = -1/C² = -0.25
    assert "{-{}1.0000};" in tikz
    assert "{-{}0.2500};" in tikz
    assert "\\documentclass" not in tikz
    assert tikz.startswith("\\begin{tikzpicture}") and tikz.endswith("\\end{tikzpicture}\n")


def _ancestors(root: Value) -> list[Value]:
    found, stack = [], [root]
    while stack:
        v = stack.pop()
        if v not in found:
            found.append(v)
            stack.extend(p for p in v.parents)
    return found


def test_positions_sizes_and_splines_are_graphvizs(layout_program: str):
    _, f = sigmoid_graph()
    f.backward()
    diagram = viz.draw_graph(f, edge_labels=True)
    tikz = to_tikz(diagram)
    placed = tikz_nodes(tikz)
    nodes, edges = plain_layout(diagram.source, layout_program)
    assert set(placed) == {name.replace("_", "-") for name in nodes}
    for name, (px, py, pw, ph) in nodes.items():  # plain writes inches to 3 or 4 decimals: 0.036 bp at worst
        tx, ty, tw, th = placed[name.replace("_", "-")]
        assert abs(tx - px) <= 0.04 and abs(ty - py) <= 0.04, name
        assert abs(tw - pw) <= 0.04 and abs(th - ph) <= 0.04, name
    # every spline Graphviz drew, control point for control point
    splines = re.findall(r"\\path\[draw=gv000000\] (\([-\d.]+,[-\d.]+\)(?: \.\. controls .*?)?);", tikz)
    drawn = [[float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", s)] for s in splines]
    assert len(edges) == diagram.source.count(" -> ")
    for points in edges:
        assert any(len(d) == len(points) and all(abs(a - b) <= 0.04 for a, b in zip(d, points, strict=True))
                   for d in drawn)  # fmt: skip


def test_outlines_and_edges_are_never_filled():
    # Graphviz 2.43's JSON swaps xdot's open (B) and filled (b) splines; a filled edge would be a black blob
    _, _, _, tikz = sigmoid_tikz()
    for line in tikz.splitlines():
        if " .. controls " in line:
            assert "fill=" not in line, line


def test_clusters_edges_labels_of_a_neuron_drawing():
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    out = out[0] if isinstance(out, list) else out
    out.backward()
    diagram = viz.draw_graph(out)
    tikz = to_tikz(diagram)
    clusters = re.findall(r"% cluster \d+\n\\path\[dashed, draw=gvadb5bd\]", tikz)
    assert len(clusters) == diagram.source.count("subgraph cluster_")
    for match in re.finditer(r"label=<([^<>]+)> (?:color|style)", diagram.source):  # every cluster's name
        assert escape_latex(html.unescape(match.group(1))) in tikz


@pytest.mark.parametrize("program", ["dot", "graphviz-pure"])
def test_hostile_labels_are_text(program: str, monkeypatch: pytest.MonkeyPatch):
    # Each program's layout, the same text: graphviz-pure's JSON leaves DOT's escaped backslashes in its texts.
    found = shutil.which("dot") if program == "dot" else str(Path(sysconfig.get_path("scripts")) / "graphviz-pure")
    if not found or not Path(found).exists():
        pytest.skip(f"{program} is not installed")
    monkeypatch.setattr(viz.tikz, "_layout_program", lambda: found)
    a = Value(2.0, label=HOSTILE)
    b = a * 3
    b.backward()
    tikz = to_tikz(viz.draw_graph(b, title=HOSTILE))
    assert "\\end{tikzpicture}" not in tikz[:-len("\\end{tikzpicture}\n")]
    assert "\\input{" not in tikz
    assert tikz.count(escape_latex("\\end{tikzpicture}\\input{/etc/passwd}")) == 2  # the title and the label


def test_standalone_document_and_save_diagram(tmp_path: Path):
    _, _, diagram, tikz = sigmoid_tikz(standalone=True)
    assert tikz.startswith("\\RequirePackage{fix-cm}")
    assert "\\documentclass[border=2pt]{standalone}\n\\usepackage{tikz}\n\\begin{document}\n" in tikz
    assert tikz.endswith("\\end{tikzpicture}\n\\end{document}\n")
    saved = viz.save_diagram(diagram, tmp_path / "graph.tex")
    assert saved.read_text(encoding="utf-8") == to_tikz(diagram)
    viz.save_diagram(diagram, tmp_path / "whole.tex", standalone=True)
    assert (tmp_path / "whole.tex").read_text(encoding="utf-8") == tikz
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.tex", "whole.tex"]  # no temporary file left


def test_bad_arguments_are_named(tmp_path: Path):
    _, _, diagram, _ = sigmoid_tikz()
    with pytest.raises(TypeError, match=r"to_tikz: expected a diagram .* got int"):
        to_tikz(3)
    with pytest.raises(TypeError, match=r"to_tikz: standalone must be True or False, got str"):
        to_tikz(diagram, standalone="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"save_diagram: standalone=True is for \.tex files .*'g\.svg'"):
        viz.save_diagram(diagram, tmp_path / "g.svg", standalone=True)
    with pytest.raises(TypeError, match=r"save_diagram: standalone must be True or False, got int"):
        viz.save_diagram(diagram, tmp_path / "g.tex", standalone=1)  # type: ignore[arg-type]
    with pytest.raises(viz.TikzError, match=r"to_tikz: .* could not lay the diagram out"):
        to_tikz("digraph { a -> }")
    assert not list(tmp_path.iterdir())


def test_without_any_graphviz_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("viz.tikz.sysconfig.get_path", lambda name: str(tmp_path))
    with pytest.raises(viz.TikzError, match=r"to_tikz: no Graphviz .*apt-get install graphviz"):
        to_tikz("digraph { a -> b }")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (Debian: apt-get install "
                    "texlive-latex-base texlive-pictures texlive-latex-extra)")  # fmt: skip
def test_standalone_compiles_with_pdflatex(tmp_path: Path):
    a = Value(2.0, label=HOSTILE)
    b = (a * Value(-3.0, label="σ_b")).tanh()
    b.label = "out²"
    b.backward()
    viz.save_diagram(viz.draw_graph(b, edge_labels=True, title=HOSTILE), tmp_path / "graph.tex", standalone=True)
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "graph.tex"],
        cwd=tmp_path, capture_output=True, timeout=300, env={**os.environ, "openin_any": "p"},
    )  # fmt: skip
    log = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, log[-3000:]
    assert (tmp_path / "graph.pdf").stat().st_size > 1000
    assert "(/etc/passwd" not in log  # TeX logs each file it reads as "(path": the label's \input was only printed

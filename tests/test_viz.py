"""Diagrams rendered to real SVG (through dot where installed, and through the bundled fallback), and checked."""

from __future__ import annotations

import ast
import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

import autograd as ag
import autograd.compiler as compiler
import viz
from autograd import Value
from viz.render import find_renderer

SVG = "{http://www.w3.org/2000/svg}"


def sigmoid_graph(x0: float = 0.0) -> tuple[Value, Value]:
    """The graph of sigma(x) = 1 / (1 + e^-x), one named node per step (A = -x, B = e^A, C = B + 1, F = 1/C)."""
    x = Value(x0, label="x")
    a = -x
    a.label = "A"
    b = a.exp()
    b.label = "B"
    c = b + 1
    c.label = "C"
    f = 1 / c
    f.label = "F"
    return x, f


def svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # also proves the SVG is well-formed XML
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def svg_groups(svg: bytes, kind: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == kind]


@pytest.fixture(params=["fallback", "dot"])
def renderer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with Graphviz's dot hidden (the bundled graphviz-pure renders) and once with dot."""
    if request.param == "fallback":
        monkeypatch.setenv("PATH", "")
        fallback = find_renderer("svg")
        assert fallback is not None
        assert fallback.name.startswith("graphviz-pure")
    elif shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    return str(request.param)


def test_sigmoid_graph_shows_hand_derived_data_and_grads(renderer: str):
    # By hand at x = 0: A = 0, B = e^0 = 1, C = 2, F = 1/2; dF/dC = -1/C^2 = -1/4, dF/dB = -1/4,
    # dF/dA = -1/4 * e^A = -1/4, dF/dx = -1/4 * -1 = 1/4 = sigma(0)(1 - sigma(0)).
    x, f = sigmoid_graph()
    f.backward()
    assert x.grad == 0.25
    texts = svg_texts(viz.render(viz.draw_graph(f, edge_labels=True).source, "svg"))
    for expected in ["x", "A", "B", "C", "F", "data 0.5000", "data 2.0000", "data 1.0000", "grad 1.0000"]:
        assert expected in texts, expected
    assert texts.count("grad -0.2500") == 3
    assert "grad 0.2500" in texts
    # local derivatives on the edges: dA/dx = -1, dB/dA = e^A = 1, dF/dC = -1/C^2 = -0.25
    assert {"-1.0000", "1.0000", "-0.2500"} <= set(texts)
    ops = [t for t in texts if t in {"-", "exp", "+", "/"}]
    assert sorted(ops) == ["+", "-", "/", "exp"]


def test_precision_and_direction():
    _, f = sigmoid_graph()
    f.backward()
    source = viz.draw_graph(f, precision=2, rankdir="TB").source
    assert "rankdir=TB" in source
    assert "data 0.50" in source and "grad -0.25<" in source
    with pytest.raises(ValueError, match="rankdir must be 'LR' or 'TB', got 'up'"):
        viz.draw_graph(f, rankdir="up")
    with pytest.raises(TypeError, match="expected a Value or a sequence of Values, got float"):
        viz.draw_graph(1.0)  # type: ignore[arg-type]


def test_gradients_from_a_mapping_and_unknown_ones():
    x, f = sigmoid_graph()
    grads = {f: 1.0, f.parents[0]: -0.25}
    texts = svg_texts(viz.render(viz.draw_graph(f, grads=grads).source, "svg"))
    assert [t.strip("\u2007") for t in texts].count("grad ?") == 3  # B, A and x are not known yet
    assert x.grad == 0.0


def test_colors_follow_gradient_sign():
    _, f = sigmoid_graph()
    f.backward()
    source = viz.draw_graph(f).source
    positive = re.findall(r'bgcolor="(#ff[0-9a-f]{4})"[^>]*>grad 0\.2500', source)
    negative = re.findall(r'bgcolor="(#[0-9a-f]{4}ff)"[^>]*>grad -0\.2500', source)
    assert positive and len(negative) == 3
    assert 'bgcolor="#ffffff"' not in viz.draw_graph(f, color=True).source.split("grad 1.0000")[0][-60:]


def test_highlight_path():
    x, f = sigmoid_graph()
    w = Value(3.0, label="w")
    g = f * w + x  # x reaches g by two routes, w by one
    on_path = viz.nodes_on_paths(g, w)
    assert on_path == {w, g.parents[0], g}
    assert viz.nodes_on_paths(f, w) == set()
    source = viz.draw_graph(g, highlight=on_path).source
    assert source.count("penwidth=3") == 3


HOSTILE = [
    'say "hi"; x [label=pwn]',
    "<b>bold</b> & <script>alert(1)</script>",
    "{a|b} \\ back\\slash",
    "line1\nline2",
    "中文标签 ∂L/∂w",
]


def test_hostile_labels_render_as_plain_text(renderer: str):
    values = [Value(float(i), label=text) for i, text in enumerate(HOSTILE)]
    total = ag.sum(values)
    total.label = "total"
    svg = viz.render(viz.draw_graph(total).source, "svg")
    texts = svg_texts(svg)
    for text in HOSTILE:
        for line in text.split("\n"):
            assert line in texts, line
    assert "pwn" not in texts  # no node was injected
    assert len(svg_groups(svg, "node")) == len(HOSTILE) + 2  # the leaves, the sum and its op
    assert b"<script" not in svg and b"<b>" not in svg


class Owner:
    def __init__(self, name: str) -> None:
        self.name = name


def scoped_network() -> tuple[Value, list[Owner]]:
    layer, first, second = Owner("layer 0"), Owner("neuron 0"), Owner("neuron 1")
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    outputs = []
    with ag.scope(layer):
        for neuron, weights in [(first, [0.1, 0.2]), (second, [-0.3, 0.4])]:
            ws = [Value(w, label=f"w{i}") for i, w in enumerate(weights)]
            with ag.scope(neuron):
                outputs.append(ag.dot(ws, x).tanh())
    out = outputs[0] + outputs[1]
    out.label = "out"
    return out, [layer, first, second]


def test_scopes_become_clusters(renderer: str):
    out, _ = scoped_network()
    out.backward()
    svg = viz.render(viz.draw_graph(out).source, "svg")
    titles = [t for g in svg_groups(svg, "cluster") for t in svg_texts(ET.tostring(g))]
    assert {"layer 0", "neuron 0", "neuron 1"} <= set(titles)
    clusters = viz.draw_graph(out, clusters=False).source
    assert "cluster" not in clusters


def test_collapse_draws_each_owner_as_one_box(renderer: str):
    out, _ = scoped_network()
    out.backward()
    full = viz.draw_graph(out)
    collapsed = viz.draw_graph(out, collapse=lambda owner: getattr(owner, "name", "").startswith("neuron"))
    svg = viz.render(collapsed.source, "svg")
    texts = svg_texts(svg)
    assert "neuron 0" in texts and "neuron 1" in texts
    assert "w0" not in texts  # the weights are inside the boxes
    assert len(svg_groups(svg, "node")) < len(svg_groups(viz.render(full.source, "svg"), "node"))
    # each box shows its output: tanh(0.1 * 0.5 + 0.2 * -1) and tanh(-0.3 * 0.5 + 0.4 * -1)
    assert f"data {math.tanh(0.05 - 0.2):.4f}" in texts
    assert f"data {math.tanh(-0.15 - 0.4):.4f}" in texts
    with pytest.raises(TypeError, match="collapse must be a type"):
        viz.draw_graph(out, collapse=3)  # type: ignore[arg-type]


def test_large_graph_raises_with_advice():
    x = Value(1.0)
    y = x
    for _ in range(300):
        y = y * 1.01  # a value, an op and a constant each: 1 + 3 * 300 nodes
    too_many = r"more than max_nodes=500 nodes to draw \(counting stopped at 50[0-9]\); pass collapse="
    with pytest.raises(viz.GraphTooLargeError, match=too_many):
        viz.draw_graph(y)
    assert viz.draw_graph(y, max_nodes=1000) is not None


def test_save_by_suffix_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _, f = sigmoid_graph()
    diagram = viz.draw_graph(f)
    assert viz.save_diagram(diagram, tmp_path / "g.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert viz.save_diagram(diagram, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.save_diagram(diagram, tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(viz.RenderError, match=r"cannot tell the format from 'g.jpeg'"):
        viz.save_diagram(diagram, tmp_path / "g.jpeg")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(viz.RenderError, match=r"pdf output needs the Graphviz dot program.*apt-get install graphviz"):
        viz.save_diagram(diagram, tmp_path / "g.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "g.png", "g.svg"]  # no partial files


def test_each_thing_has_one_name_and_the_old_aliases_are_gone():
    assert set(viz.__all__) <= set(dir(viz)) and len(set(viz.__all__)) == len(viz.__all__)
    assert not {"save", "path"} & set(dir(viz))  # never released: save_diagram and nodes_on_paths only
    assert viz.Step is viz.steps.Step and not hasattr(viz, "ArrayOp")  # a backward step; a plan's step is ArrayOp


def test_viz_reads_autograd_through_its_public_names_only():
    public = {"autograd": set(ag.__all__), "autograd.compiler": set(compiler.__all__), "autograd.files": None}
    for path in sorted(Path(viz.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "autograd":
                assert node.module in public, f"{path.name} imports from {node.module}"
                names = public[node.module]
                for alias in node.names:
                    assert not alias.name.startswith("_"), f"{path.name} imports {node.module}.{alias.name}"
                    assert names is None or alias.name in names, f"{path.name}: {node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "autograd" or a.name == "autograd" for a in node.names), path.name
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ag":
                assert node.attr in ag.__all__, f"{path.name} reads ag.{node.attr}"


def test_inline_display_without_graphviz(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", "")
    _, f = sigmoid_graph()
    bundle = viz.draw_graph(f)._repr_mimebundle_()
    assert "grad" in bundle["image/svg+xml"]


def test_bad_dot_is_reported():
    with pytest.raises(viz.RenderError, match="could not render the graph"):
        viz.render("digraph { a -> }", "svg")
    with pytest.raises(viz.RenderError, match="unknown format 'bmp'"):
        viz.render("digraph {}", "bmp")


def test_backward_steps_follow_the_chain_rule():
    x, f = sigmoid_graph()
    steps = viz.backward_steps(f)
    assert [s.node.label for s in steps] == ["F", "C", "B", "A", "x"]
    assert [s.grad for s in steps] == [1.0, -0.25, -0.25, -0.25, 0.25]  # the hand derivation above
    assert steps[1].formula() == "dF/dC = -0.25 (the local derivative: dF/dF = 1)"
    assert x.grad == 0.0  # computing the frames does not run backward on the graph


def test_step_with_two_routes_sums_them():
    # y = a * b + a: dy/da = b + 1 = 4 by two routes (through the product and directly)
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    product = a * b
    product.label = "p"
    y = product + a
    y.label = "y"
    step = next(s for s in viz.backward_steps(y) if s.node is a)
    assert sorted(t.product for t in step.terms) == [1.0, 3.0]
    assert step.grad == 4.0


def test_step_frames_and_exports(tmp_path: Path):
    _, f = sigmoid_graph()
    steps = viz.backward_steps(f)
    frame = viz.draw_step(f, steps, 2)
    texts = svg_texts(viz.render(frame.source, "svg"))
    assert [t.strip("\u2007") for t in texts].count("grad ?") == 2
    assert any(t.startswith("step 3 of 5:") for t in texts)
    with pytest.raises(IndexError, match=r"index 5 is outside 0..4"):
        viz.draw_step(f, steps, 5)
    files = viz.save_steps(f, tmp_path / "frames")
    assert [p.name for p in files] == [f"step_{i}.svg" for i in range(1, 6)]
    pytest.importorskip("PIL")
    from PIL import Image

    gif = viz.save_gif(f, tmp_path / "backward.gif")
    with Image.open(gif) as image:
        assert image.n_frames == 5


class FakeNeuron:
    def __init__(self, weights: list[float], bias: float) -> None:
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)
        self.activation = "sigmoid"


class FakeLayer:
    def __init__(self, neurons: list[FakeNeuron]) -> None:
        self.neurons = neurons


class FakeModel:
    def __init__(self) -> None:  # Matt Mazur's 2-2-2 worked example
        hidden = FakeLayer([FakeNeuron([0.15, 0.20], 0.35), FakeNeuron([0.25, 0.30], 0.35)])
        output = FakeLayer([FakeNeuron([0.40, 0.45], 0.60), FakeNeuron([0.50, 0.55], 0.60)])
        self.layers = [hidden, output]


def test_network_diagram(renderer: str):
    svg = viz.render(viz.draw_network(FakeModel(), input_names=["i1", "i2"]).source, "svg")
    texts = svg_texts(svg)
    assert texts.count("b=0.35") == 2 and texts.count("b=0.60") == 2
    assert {"i1", "i2", "sigmoid"} <= set(texts)
    assert len(svg_groups(svg, "edge")) == 8
    with pytest.raises(TypeError, match=r"expected a model with \.layers of \.neurons"):
        viz.draw_network(object())
    with pytest.raises(ValueError, match="3 input names for a model with 2 inputs"):
        viz.draw_network(FakeModel(), input_names=["a", "b", "c"])


def test_network_diagram_keeps_neurons_in_order_top_to_bottom(renderer: str):
    hidden = FakeLayer([FakeNeuron([0.1 * j, -0.2, 0.3], 0.01 * j) for j in range(5)])
    output = FakeLayer([FakeNeuron([0.5] * 5, 0.5 + 0.01 * j) for j in range(2)])
    wide = SimpleNamespace(layers=[hidden, output])  # enough neurons for dot to shuffle them if it may
    svg = viz.render(viz.draw_network(wide, input_names=["a", "b", "c"]).source, "svg").decode()
    heights = {t: float(y) for t, y in re.findall(r"<title>(\w+)</title>\s*<ellipse[^>]*cy=\"([-\d.]+)\"", svg)}
    for column in (["in0", "in1", "in2"], [f"l0n{j}" for j in range(5)], ["l1n0", "l1n1"]):
        ys = [heights[name] for name in column]
        assert ys == sorted(ys), f"{column} drawn out of order: {ys}"  # SVG y grows downwards


def test_draw_graph_is_deterministic_and_works_with_graphviz_own_methods(tmp_path: Path):
    first, second = sigmoid_graph()[1], sigmoid_graph()[1]
    assert viz.draw_graph(first).source == viz.draw_graph(second).source  # no id()s in the DOT
    diagram = viz.draw_dot(first, format="png")  # micrograd's call
    assert diagram.format == "png"
    written = diagram.save("graph.gv", directory=str(tmp_path))  # graphviz's own save(filename, directory)
    assert Path(written).read_text(encoding="utf-8") == diagram.source
    with pytest.raises(ValueError, match="format must be 'svg', 'png' or 'pdf', got 'gif'"):
        viz.draw_dot(first, format="gif")

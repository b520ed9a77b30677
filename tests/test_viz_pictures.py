"""The pictures read correctly: things stacked in index order, the demo's neuron adds up, captions say something."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import autograd as ag
import nn
import viz
from autograd import Value
from tests.test_viz import renderer, sigmoid_graph  # noqa: F401  (the fixture runs each test per renderer)

ROOT = Path(__file__).resolve().parent.parent


def heights(svg: bytes) -> list[tuple[float, str]]:
    """(y of the first text line, that text) for every node and cluster, top first (SVG y grows downwards)."""
    found = []
    for match in re.finditer(r'class="(?:node|cluster)">\s*<title>\w+</title>(.*?)</g>', svg.decode(), re.S):
        texts = re.findall(r'<text[^>]*y="([-\d.]+)"[^>]*>([^<]*)</text>', match.group(1))
        if texts:
            found.append((float(texts[0][0]), texts[0][1]))
    return sorted(found)


def order_of(svg: bytes, names: list[str]) -> list[str]:
    return [text for _, text in heights(svg) if text in names]


def two_neurons() -> Value:
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    outputs = []
    with ag.scope("layer 0"):
        for name, weights, bias in [("neuron 0", [0.1, 0.2], 0.3), ("neuron 1", [-0.3, 0.4], -0.1)]:
            with ag.scope(name):
                w = [Value(v, label=f"w{i}") for i, v in enumerate(weights)]
                outputs.append((ag.dot(w, x) + Value(bias, label="b")).tanh())
    return outputs[0] + outputs[1]


def test_clusters_stack_inputs_weights_and_neurons_in_index_order(renderer: str):  # noqa: F811
    svg = viz.render(viz.draw_graph(two_neurons()).source, "svg")
    assert order_of(svg, ["x0", "x1", "neuron 0", "neuron 1", "w0", "w1"]) == [
        "x0", "neuron 0", "w0", "w1", "neuron 1", "w0", "w1", "x1"
    ]  # fmt: skip


def test_collapsed_neurons_stack_in_index_order(renderer: str):  # noqa: F811
    is_neuron = lambda owner: str(owner).startswith("neuron")
    svg = viz.render(viz.draw_graph(two_neurons(), collapse=is_neuron).source, "svg")
    assert order_of(svg, ["x0", "x1", "neuron 0", "neuron 1"]) == ["neuron 0", "x0", "neuron 1", "x1"]


def test_a_neurons_weights_and_inputs_stack_in_index_order(renderer: str):  # noqa: F811
    model = nn.MLP(3, [4, 1], activation="relu", seed=0)
    x = [Value(v, label=f"x{i}") for i, v in enumerate([0.3, -0.2, 0.5])]
    a = model.layers[0].neurons[0](x)
    a.backward()
    shown = order_of(viz.render(viz.draw_graph(a).source, "svg"), ["x0", "x1", "x2", "w0", "w1", "w2"])
    assert [n for n in shown if n.startswith("x")] == ["x0", "x1", "x2"]
    assert [n for n in shown if n.startswith("w")] == ["w0", "w1", "w2"]


def test_network_titles_sit_above_every_neuron(renderer: str):  # noqa: F811
    model = nn.MLP(2, [6, 4, 1], seed=0)
    svg = viz.render(viz.draw_network(model, input_names=["x0", "x1"]).source, "svg").decode()
    pattern = r"<title>(\w+)</title>\s*<(?:ellipse|text)[^>]*?(?:cy|y)=\"([-\d.]+)\""
    ys = {t: float(y) for t, y in re.findall(pattern, svg)}
    titles = [ys[f"title{i}"] for i in range(4)]
    neurons = [y for name, y in ys.items() if not name.startswith("title")]
    assert max(titles) < min(neurons)  # the titles' row is above the top neuron: no edge crosses it
    assert "positive weight" in svg and "negative weight" in svg  # the colour legend


def test_the_demo_neuron_picture_adds_up():
    """On the demo's picture each leaf's grad is its edge's local derivative times the grad it feeds."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import demo
    finally:
        sys.path.pop(0)
    points, labels = nn.make_moons(30, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=1337)
    nn.fit(model, points, labels, loss="hinge", optimizer=nn.SGD(model.parameters(), lr=1.0), epochs=3,
           progress=False)  # fmt: skip  # training leaves gradients behind
    source = demo.neuron_picture(model, points[0]).source
    boxes = {}
    for node, label in re.findall(r"(v\d+) \[label=<<table.*?<tr>(.*?)</tr>", source):
        cells = re.sub(r"<[^>]+>", "|", label).split("|")
        texts = [c for c in cells if c]
        boxes[node] = (texts[0] if not texts[0].startswith("data") else "", float(texts[-1].split()[-1]))
    edges = re.findall(r"(v\d+) -> (op\d+) \[label=<([-\d.]+)>\]", source)
    leaves = [node for node, (name, _) in boxes.items() if re.fullmatch(r"[wx]\d|b", name)]
    assert len(leaves) == 5
    for source_node, op, local in edges:
        if source_node in leaves:
            upstream = boxes["v" + op[2:]][1]
            assert boxes[source_node][1] == pytest.approx(float(local) * upstream, abs=1e-4), boxes[source_node]


def test_step_captions_never_multiply_by_df_df():
    _, f = sigmoid_graph()
    captions = [step.formula() for step in viz.backward_steps(f)]
    assert not any("dF/dF ·" in c for c in captions), captions
    assert captions[1].startswith("dF/dC = -0.25")
    assert captions[2] == "dF/dB = dF/dC · dC/dB = -0.25 × 1 = -0.25"


def box_widths(svg: str) -> dict[str, float]:
    """Each node's outline width in a rendered SVG: the spread of the x coordinates of its first path."""
    widths = {}
    for title, path in re.findall(r'<title>(v\d+)</title>\s*<path[^>]* d="([^"]+)"', svg):
        xs = [float(x) for x in re.findall(r"(-?[\d.]+),-?[\d.]+", path)]
        widths[title] = max(xs) - min(xs)
    return widths


def test_unknown_gradients_keep_boxes_as_wide_as_known_ones():
    # The GIF must not jump: every box has the same size in the first frame (only F's gradient
    # known, the others "grad ?") as in the last (all known).
    _, f = sigmoid_graph()
    steps = viz.backward_steps(f)
    first, last = (viz.render(viz.draw_step(f, steps, k).source, "svg").decode() for k in (0, len(steps) - 1))
    assert first.count("grad ?") == 4 and "grad ?" not in last
    before, after = box_widths(first), box_widths(last)
    assert len(before) == 5 and before.keys() == after.keys()
    for node, width in before.items():
        assert width == pytest.approx(after[node], abs=0.01), (node, width, after[node])


def test_svg_names_dejavu_sans_first_with_fallbacks():
    _, f = sigmoid_graph()
    svg = viz.render(viz.draw_graph(f).source, "svg").decode()
    assert "font-family=\"'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif\"" in svg

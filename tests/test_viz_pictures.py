"""The pictures read correctly: things stacked in index order, the demo's neuron adds up, captions say something."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from autograd import Value
from tests.test_viz import SVG, renderer, sigmoid_graph, svg_groups, svg_texts  # noqa: F401  (the fixture runs each test per renderer)

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


# -- wide layers, collapsed ----------------------------------------------------------------------------


def wide_mlp() -> tuple[nn.MLP, Value]:
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    out.backward()
    return model, out


def test_two_wide_layers_collapsed_meet_in_one_counted_bundle(renderer: str):  # noqa: F811
    _, out = wide_mlp()
    svg = viz.render(viz.draw_graph(out, collapse=nn.Neuron).source, "svg")
    texts = [t.replace("\xa0", " ") for t in svg_texts(svg)]
    assert texts.count("16 × 16") == 1 and "256 edges: each of 16 to each of 16" in texts
    edges = len(re.findall(r'class="edge"', svg.decode()))
    assert edges == 16 + 16 + 16  # into the bundle, out of it, and into the output neuron: not 256 + 16
    assert texts.count("Neuron(16, relu)") == 16 and texts.count("Neuron(2, relu)") == 16


def test_small_complete_sets_of_edges_stay_direct():
    source = viz.draw_graph(two_neurons(), collapse=lambda owner: str(owner).startswith("neuron")).source
    assert "bundle" not in source  # 2 inputs into 2 neurons: four edges read better than a bundle


def test_a_collapsed_layer_lists_its_outputs_in_neuron_order_and_counts_what_flows_on():
    model, out = wide_mlp()
    source = viz.draw_graph(out, collapse=nn.Layer).source
    first = re.search(r"box\d+ \[label=<(.*?Layer\(2 -&gt; 16, relu\).*?)> color", source)
    assert first is not None
    shown = [float(x) for x in re.findall(r"data (-?[\d.]+)", first.group(1))]
    expected = [neuron([0.5, -1.0]).data for neuron in model.layers[0].neurons]
    assert shown == pytest.approx(expected, abs=1e-4)
    assert source.count("label=<16 values>") == 2  # layer 0 -> layer 1 -> layer 2


# -- a neuron's dot node, its bias and its inputs ------------------------------------------------------


def test_a_neurons_dot_node_says_it_adds_the_bias_and_draws_the_bias_input_as_a_constant(renderer: str):  # noqa: F811
    neuron = nn.MLP(2, [1], seed=0).layers[0].neurons[0]
    svg = viz.render(viz.draw_graph(neuron([0.5, -1.0])).source, "svg")
    texts = svg_texts(svg)
    assert "w·x+b" in texts and "w·x" not in texts
    assert "constant 1 (b's input)" in texts  # not a bare "1", which would read like an input of 1
    assert "x0" in texts and "x1" in texts and "data -1.0000" in texts  # the sample's inputs, named
    constant = next(g for g in svg_groups(svg, "node") if "constant 1" in "".join(g.itertext()))
    [text] = constant.iter(f"{SVG}text")
    assert text.get("fill") == "#868e96" and float(text.get("font-size", "0")) < 11  # grey and small
    assert not list(constant.iter(f"{SVG}polygon")) and not list(constant.iter(f"{SVG}path"))  # no box
    inputs = [g for g in svg_groups(svg, "node") if [t.text for t in g.iter(f"{SVG}text")][:1] in (["x0"], ["x1"])]
    assert len(inputs) == 2 and all(p.get("stroke-dasharray") for g in inputs for p in g.iter(f"{SVG}path"))


def test_only_a_weight_times_the_constant_1_is_a_bias():
    w, x = [Value(0.5, label="w0"), Value(2.0, label="w1")], [Value(1.0, label="x0"), Value(3.0, label="x1")]
    assert "label=<w·x>" in viz.draw_graph(ag.dot(w, x)).source  # no constant: no bias
    source = viz.draw_graph(ag.dot(w, [3.0, 1.0])).source  # ends in w1 * 1: that is a bias
    assert "label=<w·x+b>" in source and "constant 1 (b&#39;s input)" in source
    source = viz.draw_graph(ag.dot([0.5, 2.0], x)).source  # numbers as weights are constants, not inputs
    assert "label=<w·x>" in source and "label=<0.5>" in source and "label=<2>" in source
    source = viz.draw_graph(Value(3.0, label="y") * 2).source  # the 2 of y * 2: small grey text
    assert re.search(r"label=<2> fontcolor=\"#868e96\" fontsize=9", source)


def test_a_neuron_beside_a_plan_lists_its_operands_in_order(renderer: str):  # noqa: F811
    model = nn.MLP(4, [8, 8, 3], seed=0)
    loss = ag.compile(lambda x, y: nn.cross_entropy(model(x), y))
    loss(np.zeros((32, 4)), np.zeros(32, dtype=int))
    assert loss.plan is not None
    neuron = model.layers[0].neurons[0]([0.5, -1.0, 2.0, 0.1])
    svg = viz.render(viz.draw_plan(loss.plan, beside=neuron, batch=32).source, "svg").decode()
    names = re.findall(r'x="([-\d.]+)"[^>]*>(w\d|x\d|b|constant 1 \(b&#39;s input\))<', svg)
    assert [name[:3] for _, name in sorted(names, key=lambda t: float(t[0]))] == [
        "w0", "w1", "w2", "w3", "b", "x0", "x1", "x2", "x3", "con"
    ]  # fmt: skip

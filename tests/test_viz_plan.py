"""viz.draw_plan: a compiled plan drawn as one box per step, with arrows along the data flow.

The counts the boxes must show are worked out from the model's shape, and the arrows from what each
step computes, not read back from the plan the drawing was made of.
"""

from __future__ import annotations

import itertools
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from autograd import Op, Value

SVG = "{http://www.w3.org/2000/svg}"
NODE = re.compile(r"^\t+(\w+) \[label=(<.*>)(?: \w+=.*)?\]$", re.M)
EDGE = re.compile(r"^\t+(\w+) -> (\w+)(?: \[(.*)\])?$", re.M)


def nodes(source: str) -> dict[str, str]:
    """Node name -> its label, from the DOT source."""
    found = {}
    for name, label in NODE.findall(source):
        found[name] = label.split("> ", 1)[0] + ">" if "> " in label else label
    return found


def edges(source: str) -> list[tuple[str, str, str]]:
    return [(a, b, attributes) for a, b, attributes in EDGE.findall(source)]


def grab(pattern: str, text: str) -> tuple[str, ...]:
    """The groups of ``pattern``'s first match in ``text``, which must have one."""
    match = re.search(pattern, text)
    assert match is not None, (pattern, text)
    return match.groups()


def steps_of(source: str) -> dict[str, str]:
    """The step boxes: name -> label."""
    return {name: label for name, label in nodes(source).items() if re.fullmatch(r"step\d+", name)}


def named(source: str, text: str) -> list[str]:
    """The step boxes whose label contains ``text``, in step order."""
    return sorted((n for n, label in steps_of(source).items() if text in label), key=lambda n: int(n[4:]))


def mlp_loss(sizes: list[int], nin: int = 4) -> tuple[nn.MLP, ag.Compiled]:
    model = nn.MLP(nin, sizes)
    loss = ag.compile(lambda x, y: nn.cross_entropy(model(x), y))
    rng = np.random.default_rng(0)
    loss(rng.normal(size=(6, nin)), rng.integers(0, sizes[-1], size=6))
    return model, loss


def scalar_op_nodes(root: Value) -> int:
    return sum(1 for v in ag.backward_order(root) if v.op)


def test_mlp_plan_has_one_box_per_layer_op_with_counts_from_the_model_shape():
    sizes, nin = [8, 8, 3], 4
    model, loss = mlp_loss(sizes, nin)
    assert loss.plan is not None
    source = viz.draw_plan(loss.plan).source

    # Each layer is one matmul: its neurons' dot nodes, its inputs plus a column of ones for the biases.
    fan_in = [nin, *sizes[:-1]]
    matmuls = named(source, "matmul (B×")
    assert len(matmuls) == len(sizes)
    for box, n, k in zip(matmuls, fan_in, sizes, strict=True):
        assert f"{k} dot nodes → matmul (B×{n + 1})·({n + 1}×{k})" in steps_of(source)[box]
    assert sum(int(grab(r"(\d+) dot nodes", steps_of(source)[b])[0]) for b in matmuls) == 8 + 8 + 3
    # The hidden layers' relus, one op each; the last layer is linear.
    relus = named(source, "relu nodes → one relu")
    assert [grab(r"(\d+) relu nodes → one relu \(B×(\d+)\)", steps_of(source)[b]) for b in relus] == [("8", "8")] * 2
    # Two arguments, x and the label.
    inputs = named(source, ": input")
    assert [grab(r"argument (\d) → \(B×(\d+)\)", steps_of(source)[b]) for b in inputs] == [("0", "4"), ("1", "1")]
    # Every box is one step; the totals: the scalar nodes of one sample's loss, the array ops.
    assert len(steps_of(source)) == len(loss.plan.steps)
    one_sample = nn.cross_entropy(model([0.1, 0.2, 0.3, 0.4]), Value(1.0))  # type: ignore[arg-type]  # as compile passes it
    assert f"{scalar_op_nodes(one_sample)} scalar nodes → {len(steps_of(source)) - 2} array ops" in source
    parameters = sum(len(n.w) + 1 for layer in model.layers for n in layer.neurons)
    assert f"{parameters} parameter Values" in source  # 5·8 + 9·8 + 9·3 = 139
    assert "B: the batch size" in source


def test_mlp_arrows_follow_the_layers():
    _, loss = mlp_loss([8, 8, 3])
    assert loss.plan is not None
    source = viz.draw_plan(loss.plan).source
    flow = {(a, b) for a, b, _ in edges(source)}
    matmuls, relus = named(source, "matmul (B×"), named(source, "one relu")
    x, y = named(source, ": input")
    chain = [x, matmuls[0], relus[0], matmuls[1], relus[1], matmuls[2]]
    for a, b in itertools.pairwise(chain):
        assert (a, b) in flow, (a, b)
    assert not any(b == matmuls[0] and a.startswith("step") and a != x and "_" not in a for a, b in flow)
    # Each matmul reads its own weights box and a box with the constant 1 (the biases' column of ones).
    labels = nodes(source)
    for box, shape, count in zip(matmuls, ["5×8", "9×8", "9×3"], [40, 72, 27], strict=True):
        assert (f"{box}_parameters", box) in flow and (f"{box}_constants", box) in flow
        assert f"weights {shape}" in labels[f"{box}_parameters"] and f"{count} Values" in labels[f"{box}_parameters"]
        assert "constant 1" in labels[f"{box}_constants"]
    # The label is read only by the loss, after the logits; the last step feeds the output box.
    readers_of_y = [b for a, b in flow if a == y]
    assert len(readers_of_y) == 1 and int(readers_of_y[0][4:]) > int(matmuls[2][4:])
    assert any(b == "outputs" for _, b in flow)
    assert [a for a, b in flow if b == "outputs"] == [max(steps_of(source), key=lambda n: int(n[4:]))]
    # Edge labels: the columns flowing; the first matmul reads x's 4 columns.
    [(_, _, attributes)] = [e for e in edges(source) if e[:2] == (x, matmuls[0])]
    assert "label=<4 columns>" in attributes
    assert not [e for e in edges(viz.draw_plan(loss.plan, edge_labels=False).source) if "column" in e[2]]


def test_a_hand_sized_plan_has_exactly_the_arrows_of_its_formula():
    # tanh(w·x + b) on one number: a mul that reads x and w, an add that reads it and b, then tanh.
    w, b = Value(0.5, label="w"), Value(-1.0, label="b")
    compiled = ag.compile(lambda x: (w * x + b).tanh())
    compiled(np.array([1.0, 2.0, 3.0]))
    assert compiled.plan is not None
    source = viz.draw_plan(compiled.plan, batch=3).source
    labels = steps_of(source)
    assert len(labels) == 4
    [mul], [add], [tanh] = named(source, "1 mul node"), named(source, "1 add node"), named(source, "1 tanh node")
    [x] = named(source, "argument 0 → (3×1)")
    assert "one mul (3×1)" in labels[mul]
    assert {(a, c) for a, c, _ in edges(source)} == {
        (x, mul), (f"{mul}_parameters", mul), (mul, add), (f"{add}_parameters", add), (add, tanh), (tanh, "outputs"),
    }
    assert nodes(source)[f"{mul}_parameters"] == "<parameter w<br/>1 Value>"
    assert nodes(source)[f"{add}_parameters"] == "<parameter b<br/>1 Value>"
    assert "3 scalar nodes → 3 array ops" in source and "a batch of 3" in source


def test_a_matmul_with_constant_weights_draws_them_as_constant_weights():
    # ag.dot([0.5, 2.0], x): one dot node whose weights are numbers, not parameters.
    compiled = ag.compile(lambda x: ag.dot([0.5, 2.0], x), reduce=None)
    compiled(np.ones((3, 2)))
    assert compiled.plan is not None
    source = viz.draw_plan(compiled.plan).source
    [matmul] = named(source, "1 dot node → matmul (B×2)·(2×1)")
    assert nodes(source)[f"{matmul}_weights"] == "<constant weights 2×1<br/>0.5, 2>"
    assert (f"{matmul}_weights", matmul) in {(a, b) for a, b, _ in edges(source)}
    assert f"{matmul}_parameters" not in source
    assert "1 scalar node → 1 array op<" in source and "2 constants read" in source


def test_constant_weights_with_a_bias_column_are_two_boxes_as_parameters_would_be():
    # Three neurons of numbers, each w·x + b with the bias as the weight of a column of ones.
    weights = [[0.5, 2.0, 0.125], [-1.0, 0.25, 3.0], [1.5, 1.5, 1.5]]
    compiled = ag.compile(lambda x: [ag.dot(w, [*x, 1.0]).relu() for w in weights], reduce=None)
    compiled(np.ones((5, 2)))
    assert compiled.plan is not None
    source = viz.draw_plan(compiled.plan, batch=5).source
    [matmul] = named(source, "3 dot nodes → matmul (5×3)·(3×3)")
    labels, flow = nodes(source), {(a, b): attributes for a, b, attributes in edges(source)}
    assert labels[f"{matmul}_weights"] == "<constant weights 3×3<br/>0.5, 2, 0.125, …>"  # the first row, in order
    assert labels[f"{matmul}_constants"] == "<constant 1>"  # the column of ones, in its own box
    assert flow[(f"{matmul}_constants", matmul)] == "label=<1 column>"
    assert flow[(f"{matmul}_weights", matmul)] == ""  # the weights: no columns of the batch flow along it
    assert "8 constants read" in source  # each number once: the seven distinct weights and the 1 of the bias column


def test_beside_draws_the_neurons_scalar_graph_and_joins_its_dot_node_to_its_column():
    model, loss = mlp_loss([8, 8, 3])
    assert loss.plan is not None
    x = [0.5, -1.0, 2.0, 0.1]
    hidden = [h.data for h in model.layers[0](x)]  # numbers: the graph beside is the one neuron's
    out = model.layers[1].neurons[2](hidden)
    dot = out.parents[0]  # relu(dot(...))
    assert dot.op == "dot"
    source = viz.draw_plan(loss.plan, beside=out).source
    # The scalar graph is there, in its own cluster, left of the plan.
    beside = source.split("subgraph cluster_beside", 1)[1].split("subgraph cluster_plan", 1)[0]
    assert all(f">w{i}</td>" in beside for i in range(8)) and ">b</td>" in beside
    assert source.index("cluster_beside") < source.index("cluster_plan")
    # One dashed arrow, from the dot node to the second layer's matmul, naming the column.
    links = [(a, b, attributes) for a, b, attributes in edges(source) if "dashed" in attributes]
    assert len(links) == 1
    _, box, attributes = links[0]
    assert box == named(source, "matmul (B×")[1]
    column = int(grab(r"column (\d+) of 8", attributes)[0])
    assert f"one column of the matmul of step {box[4:]}: column {column} of 8" in source
    # And it is that column: run the plan on x and compare with the neuron's own dot node.
    leaves = np.array([v.data for v in loss.plan.leaves])
    values = loss.evaluate(np.array([x]), np.array([0]), leaves=leaves).values
    assert values[int(box[4:])][0, column] == pytest.approx(dot.data, rel=1e-12)


def test_beside_a_graph_without_the_plans_weights():
    _, loss = mlp_loss([3, 2])
    assert loss.plan is not None
    stranger = nn.Neuron(4)([1.0, 2.0, 3.0, 4.0])
    source = viz.draw_plan(loss.plan, beside=stranger).source
    assert "dashed" not in source.split("subgraph cluster_plan", 1)[1].split("}", 1)[1]
    assert "No dot node on the left has weights among this plan" in source
    whole_layer = ag.sum(nn.Layer(4, 3)([1.0, 2.0, 3.0, 4.0]))
    assert "No dot node" in viz.draw_plan(loss.plan, beside=whole_layer).source


def test_a_whole_layer_beside_links_every_neuron_to_a_different_column():
    model, loss = mlp_loss([5, 2])
    assert loss.plan is not None
    outputs = model.layers[0]([0.1, 0.2, 0.3, 0.4])
    source = viz.draw_plan(loss.plan, beside=ag.sum(outputs)).source
    links = [attributes for _, _, attributes in edges(source) if "dashed" in attributes]
    columns = sorted(int(grab(r"column (\d+) of 5", a)[0]) for a in links)
    assert columns == [0, 1, 2, 3, 4]
    assert "Each of the 5 dot nodes on the left is one column of a matmul step" in source


@pytest.fixture(params=["fallback", "dot"])
def renderer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Once with Graphviz's dot hidden (the bundled graphviz-pure renders), once with dot."""
    if request.param == "fallback":
        monkeypatch.setenv("PATH", "")
    elif shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    return str(request.param)


def test_the_drawing_renders_with_every_renderer(renderer: str):
    model, loss = mlp_loss([8, 3])
    assert loss.plan is not None
    diagram = viz.draw_plan(loss.plan, beside=model.layers[0].neurons[0]([1.0, 0.0, -1.0, 2.0]), batch=32)
    svg = viz.render(diagram.source, "svg")
    texts = ["".join(t.itertext()).replace("\xa0", " ") for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "8 dot nodes → matmul (32×5)·(5×8)" in texts, texts
    assert any(t.startswith("25 scalar nodes → ") for t in texts), texts
    assert viz.render(diagram.source, "png").startswith(b"\x89PNG")


def test_markup_in_op_names_and_titles_is_shown_not_interpreted():
    evil = Op('<IMG SRC="/etc/passwd"/> & \\N', lambda x: 2 * x, lambda g, x, out: (2 * g,))
    w = Value(3.0, label="<b>w</b>")
    compiled = ag.compile(lambda x: evil(x * w))
    compiled(np.array([1.0, 2.0]))
    assert compiled.plan is not None
    beside = evil(w * 2.0)
    assert isinstance(beside, Value)
    diagram = viz.draw_plan(compiled.plan, beside=beside, title="<i>my</i> plan\\G")
    source = diagram.source
    assert "<IMG" not in source and "<i>" not in source and "<b>w" not in source
    assert "&lt;IMG SRC=&quot;/etc/passwd&quot;/&gt; &amp; \\\\N" in source
    texts = ["".join(t.itertext()).replace("\xa0", " ") for t in ET.fromstring(viz.render(source, "svg")).iter(
        f"{SVG}text")]  # fmt: skip
    assert any('1 <IMG SRC="/etc/passwd"/> & \\N node → one <IMG SRC="/etc/passwd"/> & \\N (B×1)' in t
               for t in texts), texts  # fmt: skip
    assert "<i>my</i> plan\\G" in texts and "<b>w</b>" in texts


def small_plan():
    compiled = ag.compile(lambda x: x * 2.0)
    compiled(np.array([1.0, 2.0]))
    return compiled


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: viz.draw_plan("plan"), TypeError, "expected an autograd Plan .*got str"),  # type: ignore[arg-type]
        (lambda c: viz.draw_plan(None), TypeError, "got NoneType"),  # type: ignore[arg-type]
        (lambda c: viz.draw_plan(c), TypeError, "got Compiled; pass compiled.plan"),
        (lambda c: viz.draw_plan(c.plan, beside=1.0), TypeError, "beside must be a Value .*got float"),  # type: ignore[arg-type]
        (lambda c: viz.draw_plan(c.plan, beside=[Value(1.0)]), TypeError, "beside must be a Value .*got list"),  # type: ignore[arg-type]
        (lambda c: viz.draw_plan(c.plan, batch=2.5), TypeError, "batch must be an int or None, got float"),  # type: ignore[arg-type]
        (lambda c: viz.draw_plan(c.plan, batch=True), TypeError, "batch must be an int or None, got bool"),
        (lambda c: viz.draw_plan(c.plan, batch=0), ValueError, "batch must be at least 1, got 0"),
        (lambda c: viz.draw_plan(c.plan, title=3), TypeError, "title must be a str, got int"),  # type: ignore[arg-type]
        (lambda c: viz.draw_plan(c.plan, max_nodes="9"), TypeError, "max_nodes must be an int or None .*got str"),  # type: ignore[arg-type]
        (lambda c: viz.draw_plan(c.plan, max_nodes=0), ValueError, "max_nodes must be at least 1.*got 0"),
        (lambda c: viz.draw_plan(c.plan, max_nodes=2), viz.GraphTooLargeError, "4 boxes .*max_nodes=2"),
        (lambda c: viz.draw_plan(c.plan, beside=ag.sum([Value(float(i)) for i in range(50)]), max_nodes=20),
         viz.GraphTooLargeError, "graph beside it .*max_nodes=20"),
    ],
)
def test_bad_arguments_are_refused_by_name(call, error, message):
    compiled = small_plan()
    with pytest.raises(error, match=message):
        call(compiled)


def test_limits_count_the_plan_and_the_graph_beside():
    compiled = small_plan()
    assert compiled.plan is not None
    # input, mul, its constant, the output: four boxes
    assert len(steps_of(viz.draw_plan(compiled.plan, max_nodes=4).source)) == 2
    big = ag.sum([Value(float(i)) for i in range(600)])
    viz.draw_plan(compiled.plan, beside=big, max_nodes=None)
    with pytest.raises(viz.GraphTooLargeError, match="max_nodes=500"):
        viz.draw_plan(compiled.plan, beside=big)


def test_the_same_plan_draws_the_same_source():
    compiled = small_plan()
    assert compiled.plan is not None
    first = viz.draw_plan(compiled.plan, beside=Value(1.0) * 2).source
    assert first == viz.draw_plan(compiled.plan, beside=Value(1.0) * 2).source


def test_draw_plan_takes_numpy_ints_and_refuses_a_string_for_edge_labels():
    model = nn.MLP(2, [3, 1], seed=0)
    forward = ag.compile(lambda x: model(x))
    plan = forward.plan_for([np.zeros((4, 2))])
    assert "(4×3)" in viz.draw_plan(plan, batch=np.int64(4)).source
    with pytest.raises(TypeError, match="edge_labels must be True or False, got str"):
        viz.draw_plan(plan, edge_labels="no")  # type: ignore[arg-type]

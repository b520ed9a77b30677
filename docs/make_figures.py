"""Regenerate the pictures in docs/images/ that the README shows.

Run: python docs/make_figures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd as ag
import nn
import viz
from autograd import Value

IMAGES = Path(__file__).resolve().parent / "images"


def sigmoid_graph(long_labels: bool = True) -> Value:
    """sigma(x) = 1 / (1 + e^-x) at x = 0, one named node per step: x, A = -x, B = e^A, C = B + 1, F = 1/C."""
    x = Value(0.0, label="x")
    a = -x
    b = a.exp()
    c = b + 1
    f = 1 / c
    for node, name, formula in [(a, "A", " = -x"), (b, "B", " = e^A"), (c, "C", " = B + 1"), (f, "F", " = 1/C")]:
        node.label = name + formula if long_labels else name
    return f


class Unit:
    """A named scope owner, standing in for a layer or a neuron."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def two_neurons() -> Value:
    """Two tanh neurons of one layer on two inputs, summed: clusters from autograd.scope."""
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    outputs = []
    with ag.scope(Unit("layer 0")):
        for name, weights, bias in [("neuron 0", [0.1, 0.2], 0.3), ("neuron 1", [-0.3, 0.4], -0.1)]:
            with ag.scope(Unit(name)):
                w = [Value(v, label=f"w{i}") for i, v in enumerate(weights)]
                b = Value(bias, label="b")
                outputs.append((ag.dot(w, x) + b).tanh())
    out = outputs[0] + outputs[1]
    out.label = "out"
    out.backward()
    return out


def compiled_plan() -> viz.Diagram:
    """The plan autograd.compile makes of an MLP's loss, beside one neuron of its first layer as scalar nodes."""
    model = nn.MLP(4, [8, 8, 3], seed=0)
    loss = ag.compile(lambda x, y: nn.cross_entropy(model(x), y))
    rng = np.random.default_rng(0)
    loss(rng.normal(size=(32, 4)), rng.integers(0, 3, size=32))
    assert loss.plan is not None
    neuron = model.layers[0].neurons[0]([0.5, -1.0, 2.0, 0.1])
    return viz.draw_plan(loss.plan, beside=neuron, batch=32)


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    f = sigmoid_graph()
    f.backward()
    written = [
        viz.save_diagram(viz.draw_graph(f, edge_labels=True, rankdir="TB"), IMAGES / "sigmoid_graph.svg"),
        viz.save_gif(sigmoid_graph(long_labels=False), IMAGES / "sigmoid_backward.gif", seconds_per_step=1.8),
    ]
    out = two_neurons()
    written.append(viz.save_diagram(viz.draw_graph(out), IMAGES / "neurons_clusters.svg"))
    is_neuron = lambda owner: str(owner).startswith("neuron")
    written.append(viz.save_diagram(viz.draw_graph(out, collapse=is_neuron), IMAGES / "neurons_collapsed.svg"))
    written.append(viz.save_diagram(compiled_plan(), IMAGES / "compiled_plan.svg"))
    for path in written:
        print(f"wrote {path.relative_to(IMAGES.parent.parent)}")


if __name__ == "__main__":
    main()

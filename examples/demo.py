"""The flagship demo: train micrograd's two-moons MLP, then draw what it learned.

Run: python examples/demo.py [--output FOLDER]
Writes into FOLDER (default ./output): the computation graph of one neuron and the trained network's
weights (SVG), and the decision boundary with the training curves (PNG).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window needed
import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from autograd import Value
from viz.plots import plot_decision_boundary, plot_history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("output"), help="folder for the pictures")
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()

    points, labels = nn.make_moons(100, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=1337)
    print(model)
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    schedule = nn.LinearDecay(optimizer, start=1.0, end=0.1, steps=args.epochs)  # micrograd's 1.0 - 0.9 k / 100
    start = time.perf_counter()
    history = nn.fit(model, points, labels, loss="hinge", optimizer=optimizer, schedule=schedule,
                     epochs=args.epochs, l2=1e-4)  # fmt: skip
    seconds = time.perf_counter() - start
    print(f"trained {args.epochs} full-batch steps in {seconds:.1f} s ({seconds / args.epochs * 1e3:.0f} ms per step)")
    compiled_seconds, gap = train_compiled(points, labels, args.epochs, history["loss"])
    print(f"the same {args.epochs} steps with fit(compile=True), the whole batch at once: {compiled_seconds:.2f} s "
          f"({seconds / compiled_seconds:.0f}x faster), losses equal to {gap:.0e}")
    print(f"training accuracy: {nn.accuracy(model, points, labels):.0%}   final loss: {history['loss'][-1]:.4f}")

    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    print(f"drawing the pictures into {out}/", flush=True)
    path = viz.save_diagram(neuron_picture(model, points[0]), out / "neuron.svg")
    print(f"  wrote {path}: the graph of one neuron, with data and gradients", flush=True)
    path = viz.save_diagram(viz.draw_network(model, input_names=["x0", "x1"]), out / "network.svg")
    print(f"  wrote {path}: the trained network's weights", flush=True)

    print("  drawing the decision boundary: the model at every point of a grid, a few seconds", flush=True)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    plot_decision_boundary(lambda p: model(p), points, labels, ax=left)
    plot_history(history, ax=right)
    figure.tight_layout()
    figure.savefig(out / "decision_boundary.png", dpi=110)
    print(f"  wrote {out / 'decision_boundary.png'}: the decision boundary and the training curves", flush=True)


def train_compiled(points: np.ndarray, labels: np.ndarray, epochs: int, losses: list[float]) -> tuple[float, float]:
    """The same training from the same start, compiled: (seconds, largest difference from ``losses``)."""
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=1337)
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    schedule = nn.LinearDecay(optimizer, start=1.0, end=0.1, steps=epochs)
    start = time.perf_counter()
    history = nn.fit(model, points, labels, loss="hinge", optimizer=optimizer, schedule=schedule,
                     epochs=epochs, l2=1e-4, progress=False, compile=True)
    seconds = time.perf_counter() - start
    return seconds, max(abs(a - b) for a, b in zip(history["loss"], losses, strict=True))


def neuron_picture(model: nn.MLP, point: Sequence[float]) -> viz.Diagram:
    """The first neuron of the first layer on one point, from a fresh forward and backward pass.

    Training leaves gradients in the weights; they are zeroed first, so every grad in the picture is
    this one pass's: the product of its edge label and the gradient of the node it feeds.
    """
    model.zero_grad()
    x = [Value(float(v), label=f"x{i}") for i, v in enumerate(point)]
    activation = model.layers[0].neurons[0](x)
    activation.label = "relu(w·x + b)"
    activation.backward()
    title = "one neuron of the first layer, on the first training point"
    return viz.draw_graph(activation, edge_labels=True, title=title)


if __name__ == "__main__":
    main()

"""Regenerate the pictures in docs/images/ by running the code the pages show above each of them.

Run: python docs/make_figures.py

``BLOCKS`` holds that code, block for block as README.md and docs/guide/viz.md show it
(tests/test_viz_figures.py checks that every page showing a picture shows its block above it, and
that the committed pictures are what the blocks draw). The blocks run in order in one namespace, as
a reader runs a page, in an empty folder; each writes the files its last line names, which are then
copied into docs/images/ under the names the pages use.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from autograd.files import write_atomically

IMAGES = Path(__file__).resolve().parent / "images"


@dataclass(frozen=True)
class Block:
    """A code block of the pages and the pictures it writes: the file it names -> the file in docs/images.

    ``after`` names the block whose variables it goes on with (the sigmoid's ``f``), shown above it.
    """

    name: str
    code: str
    pictures: dict[str, str]
    after: str | None = None


SIGMOID = """\
import viz
from autograd import Value

x = Value(0.0, label="x")
a = -x; a.label = "A"
b = a.exp(); b.label = "B"
c = b + 1; c.label = "C"
f = 1 / c; f.label = "F"           # the sigmoid, one op per node, labelled as tutorial 1 labels it
f.backward()
viz.save_diagram(viz.draw_graph(f, edge_labels=True, rankdir="TB"), "sigmoid.svg")
"""

CLUSTERS = """\
import nn
import viz

model = nn.MLP(2, [2, 1], seed=0)     # 2 inputs, 2 ReLU neurons, 1 linear output
out = model([0.5, -1.0])
out.backward()
viz.save_diagram(viz.draw_graph(out), "clusters.svg")
viz.save_diagram(viz.draw_graph(out, collapse=nn.Neuron), "collapsed.svg")
"""

STEPS = """\
steps = viz.backward_steps(f)
print(steps[2].formula())
viz.save_gif(f, "backward.gif", seconds_per_step=1.8)
"""

ANIMATION = """\
viz.save_diagram(f, "backward.svg", animate=True, rankdir="TB", seconds_per_step=1.5)
"""

PLAN = """\
import numpy as np
import autograd as ag
import nn
import viz

model = nn.MLP(4, [8, 8, 3], seed=0)
loss = ag.compile(lambda x, y: nn.cross_entropy(model(x), y))
loss(np.zeros((32, 4)), np.zeros(32, dtype=int))              # traced once, run on 32 samples
neuron = model.layers[0].neurons[0]([0.5, -1.0, 2.0, 0.1])      # one neuron, as scalar nodes
viz.save_diagram(viz.draw_plan(loss.plan, beside=neuron, batch=32), "plan.svg")
print(loss.plan.summary().splitlines()[0])
"""

BLOCKS = [
    Block("sigmoid", SIGMOID, {"sigmoid.svg": "sigmoid_graph.svg"}),
    Block("clusters", CLUSTERS, {"clusters.svg": "neurons_clusters.svg", "collapsed.svg": "neurons_collapsed.svg"}),
    Block("steps", STEPS, {"backward.gif": "sigmoid_backward.gif"}, after="sigmoid"),
    Block("animation", ANIMATION, {"backward.svg": "sigmoid_backward.svg"}, after="sigmoid"),
    Block("plan", PLAN, {"plan.svg": "compiled_plan.svg"}),
]

MADE_ELSEWHERE = {"forward_vs_reverse.png": "python benchmarks/forward_vs_reverse.py --plot"}
"""Pictures of docs/images/ that other scripts make, with the command that makes each."""


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """Run the body with ``folder`` as the working directory, as a reader's blocks would run in theirs."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def draw(folder: Path) -> dict[str, Path]:
    """Run every block of ``BLOCKS`` in order, in one namespace, inside ``folder``: picture name -> file written.

    Raises FileNotFoundError naming a picture whose block did not write the file it should.
    """
    namespace: dict[str, object] = {"__name__": "readme"}
    written: dict[str, Path] = {}
    with _inside(folder):
        for block in BLOCKS:
            exec(compile(block.code, "README.md", "exec"), namespace)
            for name, picture in block.pictures.items():
                if not (folder / name).is_file():
                    raise FileNotFoundError(f"make_figures: the code for {picture} did not write {name}")
                written[picture] = folder / name
    return written


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        for picture, made in draw(Path(scratch)).items():
            target = write_atomically(IMAGES / picture, made.read_bytes())
            print(f"wrote {target.relative_to(IMAGES.parent.parent)}")


if __name__ == "__main__":
    main()

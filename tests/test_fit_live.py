"""nn.fit(live=...): the view is told about every step, and every frame's numbers are the engine's.

Each frame is compared with a separate run of the engine: a fresh model trained for as many steps without a
view, whose loss on the chosen sample is then differentiated by ``Value.backward``; the frame's neuron graph
must show that model's weights and those gradients, and its status line the step's loss from fit's history.
The view draws outside Jupyter here because it is given ``display=``, a list's append.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autograd as ag
import nn
import viz

ROOT = Path(__file__).resolve().parent.parent
POINTS, LABELS = nn.make_moons(30, noise=0.1, seed=0)
SVG = "{http://www.w3.org/2000/svg}"


def neuron_rows(frame: str) -> dict[str, tuple[float, float]]:
    """The neuron panel's boxes that have a label: label -> (data, grad), as the frame writes them."""
    panel = frame[frame.index('<div class="panel neuron">') :]
    svg = panel[panel.index("<svg") : panel.index("</svg>") + 6]
    root = ET.fromstring(svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1))
    rows = {}
    for group in root.iter(f"{SVG}g"):
        texts = [html.unescape(t.text or "") for t in group.iter(f"{SVG}text")]
        if group.get("class") == "node" and len(texts) == 3 and texts[1].startswith("data "):
            rows[texts[0]] = (float(texts[1].split()[1]), float(texts[2].split()[1]))
    return rows


def engine_after(steps: int) -> tuple[nn.MLP, float]:
    """The model after ``steps`` full-batch steps of fit without a view, and the grads of sample 0's hinge loss."""
    model = nn.MLP(2, [4, 4, 1], seed=0)
    if steps:
        nn.fit(model, POINTS, LABELS, epochs=steps, progress=False)
    model.zero_grad()
    output = model(POINTS[0].tolist())
    assert isinstance(output, ag.Value)
    loss = nn.hinge([output], LABELS[:1].tolist())
    loss.backward()
    return model, loss.data


@pytest.mark.parametrize("compiled", [False, True], ids=["scalar", "compile"])
def test_every_frame_shows_the_engines_numbers(compiled: bool):
    model = nn.MLP(2, [4, 4, 1], seed=0)
    shown: list[str] = []
    view = viz.LiveView(model, seconds=0, grid=6, display=shown.append)
    history = nn.fit(model, POINTS, LABELS, epochs=4, progress=False, live=view, compile=compiled)
    # a step is drawn before its epoch's accuracy is known; after fit, the last step is drawn once more with it
    assert view.updates == len(shown) == view.steps + 1 == 5
    assert f"step 4 (epoch 4): loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.1%}" in shown[-1]
    assert f"accuracy {history['accuracy'][2]:.1%}" in shown[-2]  # the epoch before's
    for step, frame in enumerate(shown[:4], start=1):
        assert f"step {step} (epoch {step}): loss {history['loss'][step - 1]:.4f}" in frame
        engine, _ = engine_after(step)
        output = engine.layers[-1].neurons[0]  # the default: the output neuron, on sample 0
        expected = {f"w{i}": (w.data, w.grad) for i, w in enumerate(output.w)} | {"b": (output.b.data, output.b.grad)}
        rows = neuron_rows(frame)
        assert rows.keys() == expected.keys()
        for name, (data, grad) in expected.items():
            # four digits, as drawn; a compiled run's parameters agree with the scalar engine's to rounding
            assert rows[name] == pytest.approx((data, grad), abs=5.1e-5), (step, name)
        assert "neuron 0 of layer 2 on sample 0: data, and grad = d(the sample&#x27;s loss)/d(node)" in frame


def test_a_chosen_neuron_and_sample_and_minibatch_steps():
    model = nn.MLP(2, [4, 4, 1], seed=0)
    shown: list[str] = []
    view = viz.LiveView(model, seconds=0, every=2, neuron=(0, 3), sample=5, grid=6, display=shown.append,
                        network=False)  # fmt: skip
    nn.fit(model, POINTS, LABELS, epochs=2, batch_size=10, progress=False, live=view)
    drawn = [int(re.search(r"step (\d+) \(epoch (\d+)\)", frame).group(1)) for frame in shown]  # type: ignore[union-attr]
    assert view.steps == 6 and drawn == [1, 2, 4, 6, 6]  # the first step, then every second; three steps an epoch
    assert "neuron 3 of layer 0 on sample 5" in shown[-1]
    # the last frame against the engine: the trained model's neuron, sample 5's loss differentiated
    model.zero_grad()
    output = model(POINTS[5].tolist())
    assert isinstance(output, ag.Value)
    nn.hinge([output], LABELS[5:6].tolist()).backward()
    neuron = model.layers[0].neurons[3]
    rows = neuron_rows(shown[-1])
    assert rows["w0"] == pytest.approx((neuron.w[0].data, neuron.w[0].grad), abs=5.1e-5)
    assert rows["b"] == pytest.approx((neuron.b.data, neuron.b.grad), abs=5.1e-5)


def test_live_true_outside_jupyter_says_so_once_and_bad_arguments_are_named():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.fit(nn.MLP(2, [4, 1], seed=0), POINTS, LABELS, epochs=3, progress=False, live=True)
    said = [w for w in caught if "LiveView" in str(w.message)]
    assert len(said) == 1 and str(said[0].message).startswith("LiveView: not in a Jupyter notebook, so nothing is")
    assert said[0].filename == __file__  # the line that called fit, not a line inside nn or viz
    model = nn.MLP(2, [4, 1], seed=0)
    for bad in ("yes", 3, 1):
        with pytest.raises(TypeError, match=r"fit: live must be True, False or a viz.LiveView, got"):
            nn.fit(model, POINTS, LABELS, epochs=1, progress=False, live=bad)  # type: ignore[arg-type]
    frames: list[str] = []
    view = viz.LiveView(model, display=frames.append)
    with pytest.raises(ValueError, match=r"fit: the same LiveView is both live and callback"):
        nn.fit(model, POINTS, LABELS, epochs=1, progress=False, live=view, callback=view)
    with pytest.raises(TypeError, match=r"LiveView: neuron must be \(layer, index\), two ints, or None, got 'out'"):
        viz.LiveView(model, neuron="out")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"LiveView: neuron's index 4 is outside layer 1's 1 neurons"):
        viz.LiveView(model, neuron=(1, 4))
    with pytest.raises(ValueError, match=r"LiveView: neuron's layer -3 is outside the model's 2 layers"):
        viz.LiveView(model, neuron=(-3, 0))
    with pytest.raises(TypeError, match=r"LiveView: display must be a function of a frame's HTML, got str"):
        viz.LiveView(model, display="stdout")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"LiveView: sample 30 is beyond the 30 training points"):
        nn.fit(model, POINTS, LABELS, epochs=1, progress=False, live=viz.LiveView(model, sample=30))


def test_fit_without_live_never_imports_viz():
    code = ("import sys, nn\n"
            "xs, ys = nn.make_moons(20, seed=0)\n"
            "nn.fit(nn.MLP(2, [4, 1], seed=0), xs, ys, epochs=2, progress=False)\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'viz'], sorted(sys.modules)\n")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)

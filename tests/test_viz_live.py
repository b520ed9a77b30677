"""The live view: outside Jupyter it says so once and draws nothing; inside, each drawing is its epoch's.

A Jupyter output area is stood in for by a list that collects what would replace its content; the numbers
in each drawing are compared with nn.fit's history and the network with the trained model's own diagram.
"""

from __future__ import annotations

import html
import re
import warnings
from pathlib import Path

import pytest

import nn
import viz

POINTS, LABELS = nn.make_moons(30, noise=0.1, seed=0)


def texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.fixture
def output_area(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the view writes into its notebook output, one entry per update."""
    written: list[str] = []
    monkeypatch.setattr("viz.live._jupyter_display", lambda: written.append)
    return written


def test_outside_jupyter_it_says_so_once_and_draws_nothing():
    model = nn.MLP(2, [4, 1], seed=0)
    seen: list[int] = []
    view = viz.LiveView(model, POINTS, LABELS, callback=lambda epoch, logs: seen.append(epoch))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # so that a second warning would be seen, not deduplicated
        history = nn.fit(model, POINTS, LABELS, epochs=4, callback=view, progress=False)
        view.show()
    said = [w for w in caught if "LiveView" in str(w.message)]
    assert len(said) == 1 and str(said[0].message).startswith("LiveView: not in a Jupyter notebook, so nothing is")
    assert said[0].filename == __file__  # the line that called fit, not a line inside nn or viz
    assert seen == [1, 2, 3, 4] and view.updates == 0 and view.frames == []
    assert view.losses == history["loss"]


def test_each_drawing_is_its_epochs_numbers_and_network(output_area: list[str]):
    model = nn.MLP(2, [4, 1], seed=0)
    view = viz.LiveView(model, POINTS, LABELS, seconds=0, grid=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # in a notebook: no warning
        history = nn.fit(model, POINTS, LABELS, epochs=4, callback=view, progress=False)
    assert view.updates == len(output_area) == 4
    for epoch, shown in enumerate(output_area, start=1):
        loss, accuracy = history["loss"][epoch - 1], history["accuracy"][epoch - 1]
        assert f"epoch {epoch} of {epoch}: loss {loss:.4f}, accuracy {accuracy:.1%}" in shown
        assert shown.count('<div class="chainrule-live">') == 1 and "<script" not in shown
    last = output_area[-1]
    network = last[last.index('<div class="panel network">') : last.index('<div class="panel neuron">')]
    assert texts(network) == texts(viz.render(viz.draw_network(model).source, "svg").decode())
    assert len(view.frames) == 1  # only the picture on show is kept
    assert view.drawing_seconds > 0


def test_the_clock_and_every_decide_which_epochs_are_drawn(output_area: list[str]):
    model = nn.MLP(2, [4, 1], seed=0)
    slow = viz.LiveView(model, POINTS, LABELS, seconds=3600, grid=4, network=False)
    history = nn.fit(model, POINTS, LABELS, epochs=5, callback=slow, progress=False)
    assert len(output_area) == 1 and "epoch 1 of 1:" in output_area[0]  # the clock held the rest back
    slow.show()  # after fit: the last epoch is the one that stays
    assert len(output_area) == 2 and f"epoch 5 of 5: loss {history['loss'][-1]:.4f}" in output_area[-1]
    slow.show()
    assert len(output_area) == 2  # already on show
    output_area.clear()
    kept = viz.LiveView(nn.MLP(2, [4, 1], seed=0), POINTS, LABELS, every=2, seconds=0, keep=True, grid=4)
    nn.fit(kept.model, POINTS, LABELS, epochs=5, callback=kept, progress=False)
    assert [f.epoch for f in kept.frames] == [1, 2, 4]
    assert [re.search(r"epoch (\d+) of", shown).group(1) for shown in output_area] == ["1", "2", "4"]  # type: ignore[union-attr]


def test_kept_frames_make_a_page_and_bad_arguments_are_named(tmp_path: Path):
    model = nn.MLP(2, [4, 1], seed=0)
    view = viz.LiveView(model, POINTS, LABELS, seconds=0, keep=True, grid=4, network=False)
    with pytest.warns(UserWarning, match="LiveView"):
        nn.fit(model, POINTS, LABELS, epochs=3, callback=view, progress=False)
    assert [f.epoch for f in view.frames] == [1, 2, 3]  # outside Jupyter, kept frames are still recorded
    page = viz.save_training_page(view, tmp_path / "run.html").read_text(encoding="utf-8")
    assert page.count('class="frame') == 3
    with pytest.raises(ValueError, match=r"LiveView: seconds must be a non-negative finite number, got -1"):
        viz.LiveView(model, seconds=-1)
    with pytest.raises(TypeError, match=r"LiveView: keep must be True or False, got str"):
        viz.LiveView(model, keep="yes")  # type: ignore[arg-type]


Look = tuple[list[str], list[tuple[str | None, ...]], list[str | None]]


def _opacity(text: str | None) -> str | None:
    """An opacity to five places: Graphviz writes alpha/255 to six, and graphviz-pure rounds the sixth otherwise."""
    return None if text is None else f"{float(text):.5f}"


def looks(svg: str) -> dict[str, list[Look]]:
    """Per node and edge (by title): its texts, each shape's colours and widths, and its tooltips."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    found: dict[str, list[Look]] = {}
    for group in ET.fromstring(svg).iter(f"{ns}g"):
        if group.get("class") not in ("node", "edge"):
            continue
        title = "".join(group.find(f"{ns}title").itertext())  # type: ignore[union-attr]
        shapes: list[tuple[str | None, ...]] = [
            tuple(_opacity(e.get(name)) if name.endswith("opacity") else e.get(name)
                  for name in ("fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity"))
            for e in group.iter() if e.tag in (f"{ns}path", f"{ns}polygon", f"{ns}ellipse")
        ]  # fmt: skip
        tips = [e.get("{http://www.w3.org/1999/xlink}title") for e in group.iter(f"{ns}a")]
        found.setdefault(title, []).append(([t.text or "" for t in group.iter(f"{ns}text")], shapes, tips))
    return found


def test_a_kept_layout_redraws_what_a_fresh_render_draws():
    # Frame after frame, the network and a neuron's graph written into the first layout show the texts,
    # colours, widths and tooltips Graphviz draws for that frame from scratch; one render until a weight
    # turns NaN, which changes the structure (a dashed edge, another legend) and is laid out afresh.
    import autograd as ag
    from viz.redraw import FixedLayout

    model = nn.MLP(2, [4, 4, 1], seed=0)
    network, neuron = FixedLayout(), FixedLayout()
    for _ in range(3):
        drawn = viz.draw_network(model)
        assert looks(network.svg(drawn)) == looks(viz.render(drawn.source, "svg").decode())
        out = model.layers[1].neurons[2]([0.3, -1.2, 0.7, 2.0])
        graph = viz.draw_graph(out, grads={v: float(g) for v, g in ag.backprop(out).items()}, edge_labels=True)
        assert looks(neuron.svg(graph)) == looks(viz.render(graph.source, "svg").decode())
        nn.fit(model, POINTS, LABELS, epochs=5, progress=False)
    assert network.renders == neuron.renders == 1
    model.layers[0].neurons[1].w[0].data = float("nan")
    drawn = viz.draw_network(model)
    assert looks(network.svg(drawn)) == looks(viz.render(drawn.source, "svg").decode())
    assert network.renders == 2


def test_a_kept_layout_writes_hostile_labels_as_graphviz_does():
    # markup shown, never run; doubled backslashes and runs of spaces as Graphviz writes them, in texts and tooltips
    import autograd as ag
    from viz.redraw import FixedLayout

    hostile = "</text><script>alert(1)</script>&amp;<b>\x07\u202e{x}  two   spaces \\N \\"
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[1].neurons[0].w[0].label = hostile
    out = model([0.5, -1.0])
    assert isinstance(out, ag.Value)
    drawings = [viz.draw_network(model, input_names=[hostile, "y"]),
                viz.draw_graph(out, grads={v: float(g) for v, g in ag.backprop(out).items()}, edge_labels=True)]
    for drawn in drawings:
        layout = FixedLayout()
        layout.svg(drawn)
        again = layout.svg(drawn)  # written into the kept layout
        assert "<script" not in again
        assert looks(again) == looks(viz.render(drawn.source, "svg").decode())


def test_as_a_callback_the_neuron_shows_the_gradients_of_its_output(output_area: list[str]):
    # fit does not tell a callback its loss: the neuron's graph then holds d(output)/d(node), which the engine
    # gives by calling the neuron on the hidden layer's outputs for that sample and running backward from it
    import autograd as ag
    from tests.test_fit_live import neuron_rows

    model = nn.MLP(2, [4, 4, 1], seed=0)
    view = viz.LiveView(model, POINTS, LABELS, seconds=0, grid=4, network=False, neuron=(1, 2), sample=3)
    nn.fit(model, POINTS, LABELS, epochs=2, callback=view, progress=False)
    assert "neuron 2 of layer 1 on sample 3: data, and grad = d(the neuron&#x27;s output)/d(node)" in output_area[-1]
    with ag.no_grad():
        hidden = [n(POINTS[3].tolist()).data for n in model.layers[0].neurons]
    neuron = model.layers[1].neurons[2]
    model.zero_grad()
    neuron(hidden).backward()
    rows = neuron_rows(output_area[-1])
    for i, w in enumerate(neuron.w):
        assert rows[f"w{i}"] == pytest.approx((w.data, w.grad), abs=5.1e-5)
    assert rows["b"] == pytest.approx((neuron.b.data, neuron.b.grad), abs=5.1e-5)

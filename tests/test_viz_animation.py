"""The animated backward pass: every frame's numbers are the engine's, it is script-free XML, and it plays.

The frames are read back from the SVG's own CSS (each animated element is shown in one window of the
loop, ``step-end`` keyframes), then compared with ``Value.backward``'s gradients, ``autograd.local_derivatives``
and ``autograd.backward_order``, the engine's. The Chromium check runs where ``chromium`` is installed
(Debian: ``apt-get install chromium``) and is skipped with a message elsewhere.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import autograd as ag
import nn
import viz
from autograd import Value
from tests.test_viz import renderer, sigmoid_graph  # noqa: F401  (the fixture runs a test per renderer)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "</text><script>alert(1)</script>&amp;<b>\x07\u202e{x}"


@dataclass
class Movie:
    """The SVG and its timeline, read from its CSS: which element shows when."""

    root: ET.Element
    duration: float
    frames: dict[str, list[tuple[float, float]]]  # class -> [(percent, opacity)] in order

    @classmethod
    def of(cls, svg: str) -> Movie:
        root = ET.fromstring(svg)  # well-formed XML, or this raises
        [style] = list(root.iter(f"{SVG}style"))
        css = style.text or ""
        duration = float(re.search(r"animation-duration: ([\d.]+)s", css).group(1))  # type: ignore[union-attr]
        frames = {
            name: [(float(p), float(o)) for p, o in re.findall(r"([\d.]+)% \{ opacity: ([01]) \}", body)]
            for name, body in re.findall(r"@keyframes (w\d+) \{ (.*) \}", css)
        }
        return cls(root, duration, frames)

    def shown(self, element: ET.Element, t: float) -> bool:
        """Whether ``element`` is visible ``t`` seconds into the loop (step-end: each keyframe holds until the next)."""
        name = element.get("class")
        if name is None or not name.startswith("w"):
            return True
        percent = 100 * t / self.duration
        opacity = [o for p, o in self.frames[name] if p <= percent][-1]
        return opacity == 1

    def texts(self, t: float) -> dict[str, list[str]]:
        """title of each node or edge -> its visible texts at ``t``; "" -> the visible captions."""
        found: dict[str, list[str]] = {}
        for group in self.root.iter(f"{SVG}g"):
            if group.get("class") in ("node", "edge"):
                title = "".join(group.find(f"{SVG}title").itertext())  # type: ignore[union-attr]
                found[title] = ["".join(e.itertext()) for e in group.findall(f"{SVG}text") if self.shown(e, t)]
        found[""] = ["".join(e.itertext()) for e in self.root.findall(f"{SVG}text") if self.shown(e, t)]
        return found


def box_of(movie: Movie, v: Value) -> str:
    """The title of the node box that shows ``v``: the box whose label cell reads v.label."""
    boxes = [title for title, texts in movie.texts(movie.duration * 0.999).items()
             if title.startswith("v") and texts and texts[0] == v.label]  # fmt: skip
    assert len(boxes) == 1, (v.label, boxes)
    return boxes[0]


def labelled_graph() -> Value:
    """A graph where one node feeds two ops (a), so its gradient is a sum of two terms."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    e = d.tanh()
    e.label = "e"
    return e


def check_every_frame(root: Value, **options: object) -> Movie:
    """Every moment of the backward pass shows exactly the engine's gradients so far, and its local derivatives."""
    movie = Movie.of(viz.backward_animation(root, **options))  # type: ignore[arg-type]
    order = ag.backward_order(root)  # the engine's order
    for v in order:
        v.grad = 0.0
    root.backward()
    boxes = {v: box_of(movie, v) for v in order}
    per_step = float(options.get("seconds_per_step", 1.2))  # type: ignore[arg-type]
    forward = movie.duration - len(order) * per_step - float(options.get("hold_seconds", 3.0))  # type: ignore[arg-type]
    for k, node in enumerate(order):
        t = forward + (k + 0.5) * per_step
        texts = movie.texts(t)
        for i, v in enumerate(order):
            shown = texts[boxes[v]]
            assert shown[-1] == (f"grad {v.grad + 0.0:.4f}" if i <= k else "grad ?"), (k, v.label, shown)
            assert shown[-2] == f"data {v.data + 0.0:.4f}"
        caption = [c for c in texts[""] if c.startswith("step ")]
        assert len(caption) == 1 and caption[0].startswith(f"step {k + 1} of {len(order)}: d{root.label}/d{node.label}")
        if k:
            assert caption[0].endswith(f"{node.grad:.4g}") or caption[0].endswith("(the local derivative: "
                                                                                   f"d{root.label}/d{root.label} = 1)")
        # the local derivatives of the edges the gradient has crossed so far, none of the others
        for consumer in order:
            for x, local in zip(consumer.inputs, ag.local_derivatives(consumer), strict=False):
                if not isinstance(x, Value):
                    continue
                edge = texts[f"{boxes[x]}->op{boxes[consumer][1:]}"]
                assert edge == ([f"{local:.4f}"] if order.index(x) <= k else []), (k, x.label, consumer.label)
    return movie


@pytest.mark.usefixtures("renderer")
def test_sigmoid_frames_are_the_engines_backward_pass():
    x, f = sigmoid_graph()
    movie = check_every_frame(f)
    assert x.grad == 0.25  # by hand: sigma'(0) = 1/4
    svg = ET.tostring(movie.root)
    assert len(svg) < 200_000


@pytest.mark.usefixtures("renderer")
def test_a_node_read_twice_sums_its_two_terms_in_every_frame():
    e = labelled_graph()
    check_every_frame(e, seconds_per_step=0.5, hold_seconds=1.0)
    a = next(v for v in ag.backward_order(e) if v.label == "a")
    assert a.grad == pytest.approx((1 - e.data**2) * (-3.0 + 1.0))  # de/da = (1 - tanh²)·(b + 1), by hand


def test_a_neuron_of_nn_frames_match_the_engine():
    neuron = nn.Neuron(2, seed=0)
    out = neuron([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    out.label = "out"
    for p in neuron.parameters():
        p.label = p.label or "p"
    movie = Movie.of(viz.backward_animation(out))
    out.backward()
    final = movie.texts(movie.duration * 0.999)
    grads = sorted(t[-1] for title, t in final.items() if title.startswith("v") and t and t[-1].startswith("grad"))
    engine = sorted(f"grad {v.grad + 0.0:.4f}" for v in ag.backward_order(out))
    assert grads == engine


def test_the_forward_pass_comes_first_inputs_before_results():
    e = labelled_graph()
    movie = Movie.of(viz.backward_animation(e, forward_seconds=2.0, seconds_per_step=1.0, hold_seconds=1.0))
    start = movie.texts(0.0)
    boxes = {v.label: box_of(movie, v) for v in ag.backward_order(e)}
    assert start[boxes["a"]][-2:] == ["data 2.0000", "grad ?"]  # an input is known at once
    assert start[boxes["e"]][-2:] == ["data ?", "grad ?"]
    assert start[""] == ["forward pass: each node's data, computed from its inputs"]
    computed = movie.texts(1.99)
    assert computed[boxes["e"]][-2] == f"data {e.data:.4f}"
    done = movie.texts(movie.duration - 0.5)
    assert done[""] == ["backward pass done: the gradient of e at every node"]


def test_no_script_and_a_static_viewer_sees_the_last_frame():
    e = labelled_graph()
    svg = viz.backward_animation(e)
    movie = Movie.of(svg)
    assert not [el for el in movie.root.iter() if el.tag.endswith("script") or el.tag.endswith("foreignObject")]
    assert not [name for el in movie.root.iter() for name in el.attrib if name.lower().startswith("on")]
    assert "href" not in svg and "url(" not in svg and "@import" not in svg
    for el in movie.root.iter():
        if (el.get("class") or "").startswith("w"):
            assert el.get("opacity") == ("1" if movie.shown(el, movie.duration * 0.9999) else "0")


def test_hostile_labels_are_text():
    a = Value(2.0, label=HOSTILE)
    b = a * a
    b.label = HOSTILE
    svg = viz.backward_animation(b)
    movie = Movie.of(svg)
    assert "<script" not in svg and not list(movie.root.iter("script"))
    visible = "\\x07\\u202e"  # control and bidirectional characters shown, as in every viz diagram
    everything = [text for texts in movie.texts(movie.duration * 0.999).values() for text in texts]
    assert f"</text><script>alert(1)</script>&amp;<b>{visible}{{x}}" in everything
    captions = [c for texts in (movie.texts(t) for t in range(int(movie.duration))) for c in texts[""]]
    assert any(visible in c and "<script>" in c for c in captions)


def test_save_animation_and_bad_arguments(tmp_path: Path):
    _, f = sigmoid_graph()
    path = viz.save_animation(f, tmp_path / "backward.svg", seconds_per_step=0.8)
    assert path.read_text(encoding="utf-8") == viz.backward_animation(f, seconds_per_step=0.8)
    with pytest.raises(TypeError, match=r"backward_animation: root must be a Value, got int"):
        viz.backward_animation(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"backward_animation: seconds_per_step must be a positive .* got 0"):
        viz.backward_animation(f, seconds_per_step=0)
    with pytest.raises(TypeError, match=r"backward_animation: hold_seconds must be a number of seconds, got bool"):
        viz.backward_animation(f, hold_seconds=True)
    with pytest.raises(ValueError, match=r"backward_animation: forward_seconds must be a non-negative .* got nan"):
        viz.backward_animation(f, forward_seconds=float("nan"))
    with pytest.raises(ValueError, match=r"save_animation: an animation is an SVG; .* 'b\.gif'"):
        viz.save_animation(f, tmp_path / "b.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backward.svg"]



def test_save_diagram_with_animate_writes_the_same_animation(tmp_path: Path):
    _, f = sigmoid_graph()
    path = viz.save_diagram(f, tmp_path / "f.svg", animate=True, rankdir="TB", seconds_per_step=1.5)
    assert path.read_text(encoding="utf-8") == viz.backward_animation(f, rankdir="TB", seconds_per_step=1.5)
    with pytest.raises(TypeError, match=r"save_diagram: animate=True animates a Value's .* not a Diagram"):
        viz.save_diagram(viz.draw_graph(f), tmp_path / "g.svg", animate=True)
    with pytest.raises(ValueError, match=r"save_diagram: an animation is an SVG; name the file \.svg, not 'f\.png'"):
        viz.save_diagram(f, tmp_path / "f.png", animate=True)
    with pytest.raises(TypeError, match=r"save_diagram: animate must be True or False, got str"):
        viz.save_diagram(f, tmp_path / "f.svg", animate="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"save_diagram: unexpected options seconds_per_step: .* for animate=True"):
        viz.save_diagram(viz.draw_graph(f), tmp_path / "g.svg", seconds_per_step=2)
    with pytest.raises(ValueError, match=r"save_diagram: standalone=True is for \.tex files"):
        viz.save_diagram(f, tmp_path / "f.svg", animate=True, standalone=True)
    with pytest.raises(ValueError, match=r"backward_animation: seconds_per_step must be a positive"):
        viz.save_diagram(f, tmp_path / "f.svg", animate=True, seconds_per_step=-1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.svg"]

# -- it plays in a browser, from an <img> tag ------------------------------------------------


class _Slow(http.server.SimpleHTTPRequestHandler):
    """Files of one folder; ``/slow?ms=N`` answers after N ms, so a page that loads it finishes that late."""

    def do_GET(self) -> None:
        url = urllib.parse.urlparse(self.path)
        if url.path == "/slow":
            time.sleep(int(urllib.parse.parse_qs(url.query)["ms"][0]) / 1000)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Slow, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (Debian: apt-get install "
                    "chromium); the animation's frames are checked from its CSS above")  # fmt: skip
def test_it_plays_in_an_img_tag_in_chromium(tmp_path: Path, server: str):
    # headless Chromium screenshots a page once it has loaded: a stylesheet that answers late holds the
    # screenshot back while the <img> plays, so two delays give two moments of the loop
    _, f = sigmoid_graph()
    viz.save_animation(f, tmp_path / "anim.svg", forward_seconds=1.0, seconds_per_step=1.5, hold_seconds=2.0)
    shots = []
    for ms in (300, 4200):
        (tmp_path / f"page{ms}.html").write_text(
            f'<!doctype html><body style="margin:0"><img src="anim.svg"><link rel="stylesheet" href="/slow?ms={ms}">'
        )
        shot = tmp_path / f"shot{ms}.png"
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=800,700",
             f"--screenshot={shot}", f"{server}/page{ms}.html"],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert shot.is_file() and shot.stat().st_size > 1000
        shots.append(shot.read_bytes())
    assert shots[0] != shots[1]  # the picture moved: no script ran, only the SVG's own CSS

"""A training run as one HTML page: self-contained, and each frame shows that epoch's numbers and model.

Each frame is checked against what nn.fit reports (its history) and against the model itself: a fresh
model trained for just that many epochs draws the same network, and the decision regions are the model's
own classes at the grid's centres, read back from the page's PNG with zlib.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from viz.training import PALETTE

POINTS, LABELS = nn.make_moons(30, noise=0.1, seed=0)


def train(epochs: int, **recorder: object) -> tuple[nn.MLP, viz.TrainingRecorder, dict[str, list[float]]]:
    model = nn.MLP(2, [4, 1], seed=0)
    run = viz.TrainingRecorder(model, POINTS, LABELS, grid=12, **recorder)  # type: ignore[arg-type]
    history = nn.fit(model, POINTS, LABELS, epochs=epochs, callback=run, progress=False)
    return model, run, history


class Links(HTMLParser):
    """Every tag and every attribute that could make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "data", "poster", "srcset") and value is not None:
                self.urls.append(value)


def frames(page: str) -> list[str]:
    return re.findall(r'<div class="frame[^"]*" data-epoch="\d+".*?</div></div>', page, re.S)


def texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def png_pixels(data: bytes) -> np.ndarray:
    """An 8-bit RGB PNG without filters decoded, rows top first (what the page's images are)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, at = b"", 8
    while at < len(data):
        (length,), kind = struct.unpack(">I", data[at : at + 4]), data[at + 4 : at + 8]
        if kind == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(idat)
    rows = [raw[r * (3 * width + 1) : (r + 1) * (3 * width + 1)] for r in range(height)]
    assert all(row[0] == 0 for row in rows)
    return np.array([list(row[1:]) for row in rows], dtype=int).reshape(height, width, 3)


def test_the_page_loads_nothing_from_outside():
    _, run, _ = train(4)
    page = viz.training_page(run)
    links = Links()
    links.feed(page)
    assert links.urls and all(url.startswith("data:image/png;base64,") for url in links.urls)
    assert not {"link", "iframe", "object", "embed", "audio", "video", "img"} & set(links.tags)
    assert links.tags.count("script") == 1
    for outside in ("http:", "https:", "//", "@import", "url(", "ftp:"):
        assert outside not in page.replace("// a link to one epoch", ""), outside


def test_every_frame_is_its_epochs_loss_accuracy_and_network():
    model, run, history = train(5)
    page = viz.training_page(run)
    shown = frames(page)
    assert [f.epoch for f in run.frames] == [1, 2, 3, 4, 5] and len(shown) == 5
    for epoch, frame in enumerate(shown, start=1):
        loss, accuracy = history["loss"][epoch - 1], history["accuracy"][epoch - 1]
        assert f'data-loss="{loss!r}"' in frame
        assert f"epoch {epoch} of 5: loss {loss:.4f}, accuracy {accuracy:.1%}" in frame
        # the network as it was at that epoch: the same model trained afresh for just that many epochs
        fresh = nn.MLP(2, [4, 1], seed=0)
        nn.fit(fresh, POINTS, LABELS, epochs=epoch, progress=False)
        network = frame[frame.index('<div class="panel network">') :]
        assert texts(network) == texts(viz.render(viz.draw_network(fresh).source, "svg").decode())
    assert texts(viz.render(viz.draw_network(model).source, "svg").decode()) == texts(shown[-1][shown[-1].index(
        '<div class="panel network">'):])  # fmt: skip


def test_the_regions_are_the_models_own_classes():
    model, run, _ = train(6)
    last = frames(viz.training_page(run))[-1]
    [encoded] = re.findall(r'href="data:image/png;base64,([^"]+)"', last)
    pixels = png_pixels(base64.b64decode(encoded))
    assert pixels.shape == (12, 12, 3)
    # the grid over the points, padded by a tenth of their extent and 0.25, 12 cells a side, centres sampled
    low = POINTS.min(axis=0) - (0.1 * np.ptp(POINTS, axis=0) + 0.25)
    high = POINTS.max(axis=0) + (0.1 * np.ptp(POINTS, axis=0) + 0.25)
    for row in range(12):
        for column in range(12):
            x = low[0] + (high[0] - low[0]) * (column + 0.5) / 12
            y = high[1] - (high[1] - low[1]) * (row + 0.5) / 12  # PNG rows go down, y goes up
            with ag.no_grad():
                score = model([float(x), float(y)])
            assert isinstance(score, ag.Value)
            expected = PALETTE[int(score.data > 0)]
            assert tuple(pixels[row, column]) == expected, (row, column)
    assert len({tuple(p) for p in pixels.reshape(-1, 3)}) == 2  # both classes are on the picture


def test_a_compiled_run_is_recorded_as_it_trains():
    model = nn.MLP(2, [4, 1], seed=0)
    run = viz.TrainingRecorder(model, POINTS, LABELS, grid=6, every=2)
    history = nn.fit(model, POINTS, LABELS, epochs=6, callback=run, progress=False, compile=True)
    assert [f.epoch for f in run.frames] == [1, 2, 4, 6]
    assert [f.loss for f in run.frames] == [history["loss"][e - 1] for e in (1, 2, 4, 6)]
    assert run.frames[0].network != run.frames[-1].network  # the weights moved between the frames


def test_hostile_title_and_arguments(tmp_path: Path):
    _, run, _ = train(2)
    page = viz.training_page(run, title="</script><script>alert(1)</script><b>&")
    assert page.count("<script>") == 1 and "alert(1)</script>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;&amp;" in page
    saved = viz.save_training_page(run, tmp_path / "run.html")
    assert saved.read_text(encoding="utf-8") == viz.training_page(run)
    with pytest.raises(TypeError, match=r"TrainingRecorder: model must be a model that can be called, got int"):
        viz.TrainingRecorder(3)
    with pytest.raises(ValueError, match=r"TrainingRecorder: every must be an int of at least 1, got 0"):
        viz.TrainingRecorder(nn.MLP(2, [1], seed=0), every=0)
    with pytest.raises(ValueError, match=r"training_page: the run has no frames"):
        viz.training_page(viz.TrainingRecorder(nn.MLP(2, [1], seed=0)))
    with pytest.raises(TypeError, match=r"training_page: run must be a viz.TrainingRecorder, got dict"):
        viz.training_page({})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"save_training_page: the page is HTML; .* 'run\.txt'"):
        viz.save_training_page(run, tmp_path / "run.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.html"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (Debian: apt-get install "
                    "chromium); the page's frames are checked from its HTML above")  # fmt: skip
def test_the_player_shows_the_frame_a_link_asks_for(tmp_path: Path):
    _, run, _ = train(3)
    viz.save_training_page(run, tmp_path / "run.html")
    shots: list[bytes] = []
    for fragment in ("", "#epoch=1"):
        shot = tmp_path / f"shot{len(shots)}.png"
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,500",
             f"--screenshot={shot}", (tmp_path / "run.html").as_uri() + fragment],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert shot.is_file() and shot.stat().st_size > 1000
        shots.append(shot.read_bytes())
    assert shots[0] != shots[1]  # the script ran: the link's epoch, not the last, is shown

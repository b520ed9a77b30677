"""A training run as one self-contained HTML page: a frame per recorded epoch, a slider and a play button.

Record the run with :class:`TrainingRecorder`, given to ``nn.fit`` as its ``callback``; each recorded epoch keeps
the loss (and accuracy), the decision regions for 2-D inputs (the model's class at each point of a grid,
as a small PNG), and the network diagram (``viz.draw_network``, rendered to SVG then and there, so the
weights shown are those of that epoch). :func:`training_page` lays the frames out as one HTML file that
needs no network and no server: the pictures are inline SVG and ``data:`` images, the player a few lines
of script in the page itself. numpy is imported when a recorder is made, not with ``viz``.

``nn.fit(..., compile=True)`` writes its parameters back into the model before each callback, so a compiled
run is recorded as it trains too.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import autograd as ag
from autograd.files import write_atomically
from viz.checks import require_numpy
from viz.network import draw_network
from viz.redraw import FixedLayout
from viz.render import SVG_FONTS

if TYPE_CHECKING:
    import numpy as np

Predict: TypeAlias = "Callable[[np.ndarray], Sequence[Any]]"
PALETTE = ((0xCF, 0xE2, 0xFF), (0xFF, 0xD6, 0xD6), (0xD3, 0xF9, 0xD8), (0xFF, 0xF3, 0xBF), (0xE5, 0xDB, 0xFF),
           (0xFF, 0xDE, 0xEB), (0xC5, 0xF6, 0xFA), (0xE9, 0xEC, 0xEF))  # fmt: skip
"""The regions' colours, class 0 first (light blue, light red, ...); the points are drawn in darker shades."""
POINT_COLOURS = ("#1c7ed6", "#e03131", "#2f9e44", "#f08c00", "#7048e8", "#d6336c", "#1098ad", "#495057")


@dataclass(frozen=True)
class Frame:
    """One recorded epoch (or step, drawn live): its number (from 1), its loss, the regions grid and the network's
    SVG; a live view's frame also has its step (counted over the run, from 1) and the chosen neuron's graph."""

    epoch: int
    loss: float
    accuracy: float | None
    regions: np.ndarray | None  # (grid, grid) class indices, row 0 at the bottom (low y)
    network: str | None  # the network diagram, SVG text
    step: int | None = None
    neuron: str | None = None  # the chosen neuron's graph with its data and gradients, SVG text
    neuron_title: str = ""


class TrainingRecorder:
    """Records a training run for :func:`training_page`; pass it to ``nn.fit`` as ``callback``.

    - ``model``: the model being trained (anything ``viz.draw_network`` draws, called on one point);
    - ``points``, ``labels``: the training data; with 2-D points the page shows the decision regions
      on a ``grid`` × ``grid`` grid over the points (padded as ``viz.plots.decision_regions`` pads);
    - ``every``: record the first epoch and every k-th after it (``run.record(...)`` adds one by hand);
    - ``network``: draw the network diagram in each frame;
    - ``predict``: the model's outputs for an array of points, shape (n, 2) (default: the model called on
      each point under ``autograd.no_grad``; ``lambda p: nn.predict(model, p, compile=True)`` is faster);
    - ``callback``: another ``callback(epoch, logs)`` to run after recording; its result is returned.
    """

    def __init__(
        self,
        model: Any,
        points: Any = None,
        labels: Any = None,
        *,
        every: int = 1,
        grid: int = 40,
        network: bool = True,
        predict: Predict | None = None,
        callback: Callable[[int, Mapping[str, float]], Any] | None = None,
    ) -> None:
        require_numpy("viz.TrainingRecorder")
        if not callable(model):
            raise TypeError(f"TrainingRecorder: model must be a model that can be called, got {type(model).__name__}")
        for name, value, low in (("every", every, 1), ("grid", grid, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"TrainingRecorder: {name} must be an int of at least {low}, got {value!r}")
        if not isinstance(network, bool):
            raise TypeError(f"TrainingRecorder: network must be True or False, got {type(network).__name__}")
        if predict is not None and not callable(predict):
            raise TypeError(f"TrainingRecorder: predict must be a function of an array of points, got {predict!r:.60}")
        if callback is not None and not callable(callback):
            raise TypeError(f"TrainingRecorder: callback must be a function (epoch, logs), got {callback!r:.60}")
        self.model = model
        self.every, self.grid, self.network = every, grid, network
        self.predict = predict
        self.callback = callback
        self.frames: list[Frame] = []
        self.points, self.labels, self.classes = training_data(points, labels)
        self._losses: list[float] = []
        self._accuracies: list[float] = []
        self._compiled: Any = None  # the compiled forward pass for the grid; False where the model does not compile
        self._network_layout = FixedLayout()  # the network is laid out once; later frames only recolour it

    def __call__(self, epoch: int, logs: Mapping[str, float]) -> Any:
        """Record epoch ``epoch`` (from 1, as ``nn.fit`` counts) if it is one to keep; run ``callback``."""
        loss = float(logs.get("loss", math.nan))
        self._losses.append(loss)
        accuracy = logs.get("accuracy")
        if accuracy is not None:
            self._accuracies.append(float(accuracy))
        if epoch % self.every == 0 or epoch == 1:
            self.record(epoch, loss, None if accuracy is None else float(accuracy))
        return self.callback(epoch, logs) if self.callback is not None else None

    def record(self, epoch: int, loss: float, accuracy: float | None = None) -> Frame:
        """Keep a frame of the model as it is now, labelled ``epoch`` (counted from 1) with its loss."""
        regions = self.regions() if self.points is not None and self.points.shape[1] == 2 else None
        network = self._network_layout.svg(draw_network(self.model)) if self.network else None
        frame = Frame(epoch, loss, accuracy, regions, network)
        if self.frames and self.frames[-1].epoch == epoch:
            self.frames[-1] = frame
        else:
            self.frames.append(frame)
        return frame

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid's corners: the points' box padded by a tenth of its size and 0.25 (as viz.plots pads)."""
        assert self.points is not None
        pad = 0.1 * (self.points.max(axis=0) - self.points.min(axis=0)) + 0.25
        return self.points.min(axis=0) - pad, self.points.max(axis=0) + pad

    def grid_points(self) -> np.ndarray:
        """The centres of the grid's cells, shape (grid², 2), row by row from the bottom left."""
        import numpy as np

        low, high = self.bounds()
        step = (high - low) / self.grid
        xs = low[0] + step[0] * (np.arange(self.grid) + 0.5)
        ys = low[1] + step[1] * (np.arange(self.grid) + 0.5)
        gx, gy = np.meshgrid(xs, ys)
        return np.column_stack([gx.ravel(), gy.ravel()])

    def regions(self) -> np.ndarray:
        """The model's class at each grid cell now: one output above 0 is class 1, several outputs their argmax."""
        import numpy as np

        centres = self.grid_points()
        outputs: list[Any] | None = list(self.predict(centres)) if self.predict is not None else None
        if outputs is None:
            outputs = self._compiled_outputs(centres)
        if outputs is None:
            with ag.no_grad():
                outputs = [self.model([float(a), float(b)]) for a, b in centres]
        classes = _classes_of(outputs)
        if len(classes) != len(centres):
            raise ValueError(f"TrainingRecorder: predict gave {len(classes)} outputs for {len(centres)} points")
        return np.array(classes, dtype=int).reshape(self.grid, self.grid)

    def _compiled_outputs(self, centres: np.ndarray) -> list[Any] | None:
        """The model's outputs on the grid from its compiled forward pass (``autograd.compile``, one array op
        per layer instead of a graph per point: the grid in milliseconds), or None where the model does not
        compile, which is then called point by point.

        The plan is made once and reads the parameters' current values on every call, so each frame shows its
        epoch's model.
        """
        if self._compiled is False:
            return None
        try:
            if self._compiled is None:
                model = self.model
                self._compiled = ag.compile(lambda x: model(x), reduce=None)
            with ag.no_grad():
                return list(self._compiled(centres).data)
        except Exception:  # a model compile cannot trace (an op of one's own without array rules): go point by point
            self._compiled = False
            return None

    @property
    def losses(self) -> list[float]:
        """Every epoch's loss, recorded or not."""
        return list(self._losses)

    def curve(self) -> tuple[list[float], str]:
        """The loss curve the frames draw, and what its points are: every epoch's loss, "epoch"."""
        return self.losses, "epoch"


def training_data(points: Any, labels: Any) -> tuple[np.ndarray | None, np.ndarray | None, list[Any]]:
    """Points as an (n, d) float array and labels as n values (each None if not given), and the classes."""
    import numpy as np

    if points is None:
        return None, None, []
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or len(xy) == 0 or not np.isfinite(xy).all():
        raise ValueError(f"TrainingRecorder: points must be an (n, d) array of finite numbers, got shape {xy.shape}")
    if labels is None:
        return xy, None, []
    ys = np.asarray(labels).reshape(len(xy), -1)[:, 0] if np.size(labels) == len(xy) else None
    if ys is None:
        raise ValueError(f"TrainingRecorder: labels must hold one label per point ({len(xy)}), got {np.size(labels)}")
    classes = sorted(set(ys.tolist()))
    return xy, ys, classes


def _classes_of(outputs: Sequence[Any]) -> Sequence[int]:
    """The class of each output: at once for the rows of finite numbers the compiled forward pass gives (a live
    view's grid every frame), one by one otherwise (Values, lists, and NaN, which ``max`` orders its own way)."""
    import numpy as np

    if outputs and isinstance(outputs[0], np.ndarray | np.floating):
        scores = np.asarray(outputs, dtype=float).reshape(len(outputs), -1)
        if np.isfinite(scores).all():
            return (scores.argmax(axis=1) if scores.shape[1] > 1 else scores[:, 0] > 0).astype(int).tolist()  # type: ignore[no-any-return]
    return [_class_of(output) for output in outputs]


def _class_of(output: Any) -> int:
    """The class of one output: above 0 is class 1 for one score, the largest for several (a Value or a number each)."""
    listed = output.tolist() if hasattr(output, "tolist") else output  # a numpy row, or a numpy number
    scores = list(listed) if isinstance(listed, (list, tuple)) else [listed]
    numbers = [_number(score) for score in scores]
    return max(range(len(numbers)), key=numbers.__getitem__) if len(numbers) > 1 else int(numbers[0] > 0)


def _number(score: Any) -> float:
    value: Any = getattr(score, "data", score)
    return float(value)


# -- the pictures -----------------------------------------------------------------------------


def png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (shape (height, width, 3), row 0 at the top), made with zlib alone."""
    import numpy as np

    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[row].astype(np.uint8).tobytes() for row in range(height))  # filter 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _svg(width: float, height: float) -> ET.Element:
    return ET.Element("svg", {"width": f"{width:g}", "height": f"{height:g}", "viewBox": f"0 0 {width:g} {height:g}",
                              "font-family": SVG_FONTS, "font-size": "11"})  # fmt: skip


def _text(parent: ET.Element, x: float, y: float, words: str, **attributes: str) -> None:
    ET.SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", **attributes}).text = words


def _regions_svg(run: TrainingRecorder, frame: Frame, size: float = 320.0) -> str:
    import numpy as np

    assert frame.regions is not None and run.points is not None
    colours = np.array([PALETTE[c % len(PALETTE)] for c in range(max(len(run.classes), 2))])
    image = colours[frame.regions[::-1]]  # PNG row 0 is the top: the grid's last row (highest y)
    data = base64.b64encode(png(image)).decode("ascii")
    svg = _svg(size, size)
    ET.SubElement(svg, "image", {"href": f"data:image/png;base64,{data}", "width": f"{size:g}", "height": f"{size:g}",
                                 "preserveAspectRatio": "none", "class": "regions"})  # fmt: skip
    low, high = run.bounds()
    for i, (x, y) in enumerate(run.points):
        cx = (x - low[0]) / (high[0] - low[0]) * size
        cy = size - (y - low[1]) / (high[1] - low[1]) * size
        label = run.labels[i] if run.labels is not None else None
        index = run.classes.index(label) if label is not None else 0
        fill = POINT_COLOURS[index % len(POINT_COLOURS)]
        ET.SubElement(svg, "circle", {"cx": f"{cx:.1f}", "cy": f"{cy:.1f}", "r": "3.2", "stroke": "white",
                                      "stroke-width": "0.8", "fill": fill})  # fmt: skip
    return ET.tostring(svg, encoding="unicode")


def _curve_svg(run: TrainingRecorder, frame: Frame, width: float = 360.0, height: float = 220.0) -> str:
    """The loss by epoch (or by step): the whole run faint, the run up to this frame dark, this frame marked."""
    losses, unit = run.curve()
    position = frame.step if unit == "step" and frame.step is not None else frame.epoch
    finite = [v for v in losses if math.isfinite(v)]
    svg = _svg(width, height)
    left, right, top, bottom = 56.0, width - 12, 14.0, height - 30  # room for a loss such as 0.00843
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if high == low:
        high = low + 1.0

    def at(epoch: int, value: float) -> tuple[float, float]:
        x = left + (right - left) * ((epoch - 1) / max(len(losses) - 1, 1))
        return x, bottom - (bottom - top) * (value - low) / (high - low)

    ET.SubElement(svg, "path", {"d": f"M{left},{top} V{bottom} H{right}", "stroke": "#868e96", "fill": "none"})
    for value in (low, high):
        _text(svg, left - 4, at(1, value)[1] + 4, f"{value:.3g}", **{"text-anchor": "end", "fill": "#495057"})
    _text(svg, (left + right) / 2, height - 8, f"{unit} (1 to {len(losses)})", **{"text-anchor": "middle",
                                                                                    "fill": "#495057"})  # fmt: skip
    for upto, colour, stroke in ((len(losses), "#dee2e6", "1.5"), (position, "#1c7ed6", "2")):
        runs = _segments([(e, v) for e, v in enumerate(losses[:upto], start=1) if math.isfinite(v)])
        for part in runs:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(e, v) for e, v in part))
            ET.SubElement(svg, "polyline", {"points": points, "fill": "none", "stroke": colour, "stroke-width": stroke})
    if math.isfinite(frame.loss) and 1 <= position <= len(losses):
        x, y = at(position, frame.loss)
        ET.SubElement(svg, "circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": "4", "fill": "#1c7ed6"})
    return ET.tostring(svg, encoding="unicode")


def _segments(points: list[tuple[int, float]]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive epochs: a NaN or infinite loss leaves a gap, as viz.plots.plot_history does."""
    parts: list[list[tuple[int, float]]] = []
    for epoch, value in points:
        if parts and parts[-1][-1][0] == epoch - 1:
            parts[-1].append((epoch, value))
        else:
            parts.append([(epoch, value)])
    return parts


def _inline(svg: str, *, sized: bool = False) -> str:
    """Graphviz's SVG made ready to sit inside HTML: no XML prolog, DOCTYPE or comments, no namespace URLs (HTML
    knows SVG's), and no font on every text (the page sets it once): a third smaller. Unless ``sized``, without
    its width and height, for the page to size it."""
    if "<?xml" in svg or "<!" in svg:  # a render's own (a kept layout has none: a live frame skips the search)
        svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S)
    head, _, body = svg.partition(">")  # namespaces are declared on the svg element alone
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", head) + ">" + body
    svg = svg.replace(f' font-family="{SVG_FONTS}"', "")
    return (svg if sized else re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", svg)).strip()


# -- the page ---------------------------------------------------------------------------------

STYLE = """
body { font-family: %s; margin: 16px; color: #212529; }
.controls { display: flex; gap: 12px; align-items: center; margin: 8px 0 12px; }
.controls input[type=range] { width: 420px; }
.frame { display: none; } .frame.shown { display: block; }
.panels { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.panel h2 { font-size: 13px; font-weight: normal; color: #495057; margin: 0 0 4px; }
.network svg { width: 440px; height: 440px; }
.neuron { max-height: 460px; max-width: 920px; overflow: auto; }
.status { font-variant-numeric: tabular-nums; }
"""
_SCRIPT = r"""
(function () {
  var frames = document.querySelectorAll('.frame');
  var slider = document.getElementById('epoch');
  var play = document.getElementById('play');
  var timer = null;
  function show(i) {
    for (var k = 0; k < frames.length; k++) frames[k].classList.toggle('shown', k === i);
    slider.value = i;
  }
  slider.addEventListener('input', function () { show(parseInt(slider.value, 10)); });
  play.addEventListener('click', function () {
    if (timer !== null) { clearInterval(timer); timer = null; play.textContent = 'play'; return; }
    if (parseInt(slider.value, 10) === frames.length - 1) show(0);
    play.textContent = 'pause';
    timer = setInterval(function () {
      var next = parseInt(slider.value, 10) + 1;
      if (next >= frames.length) { clearInterval(timer); timer = null; play.textContent = 'play'; return; }
      show(next);
    }, %d);
  });
  var asked = /^#epoch=(\d+)$/.exec(window.location.hash);  // a link to one epoch: page.html#epoch=12
  var start = frames.length - 1;
  for (var k = 0; asked && k < frames.length; k++) if (frames[k].dataset.epoch === asked[1]) start = k;
  show(start);
})();
"""


def frame_html(run: TrainingRecorder, frame: Frame, *, shown: bool = True) -> str:
    """One frame as an HTML block: the status line (epoch, loss, accuracy) and the panels, its epoch's own."""
    status = f"epoch {frame.epoch} of {len(run.losses)}: loss {frame.loss:.4f}"
    if frame.step is not None:  # drawn live after a step: the step's own (minibatch) loss
        status = f"step {frame.step} (epoch {frame.epoch}): loss {frame.loss:.4f}"
    if frame.accuracy is not None:
        status += f", accuracy {frame.accuracy:.1%}"
    parts = [
        f'<div class="frame{" shown" if shown else ""}" data-epoch="{frame.epoch}" data-loss="{frame.loss!r}">',
        f'<p class="status">{html.escape(status)}</p><div class="panels">',
        f'<div class="panel"><h2>loss</h2>{_curve_svg(run, frame)}</div>',
    ]
    if frame.regions is not None:
        parts.append(f'<div class="panel"><h2>decision regions</h2>{_regions_svg(run, frame)}</div>')
    if frame.network is not None:
        parts.append(f'<div class="panel network"><h2>network</h2>{_inline(frame.network)}</div>')
    if frame.neuron is not None:
        title = html.escape(frame.neuron_title)
        parts.append(f'<div class="panel neuron"><h2>{title}</h2>{_inline(frame.neuron, sized=True)}</div>')
    parts.append("</div></div>")
    return "\n".join(parts)


def training_page(run: TrainingRecorder, *, title: str = "training run", frame_ms: int = 400) -> str:
    """The recorded run as one HTML page (a str): a slider over the frames, a play button, and per frame the
    loss curve, the decision regions (2-D points) and the network, each epoch's own. Nothing outside the
    page is loaded. It opens on the last frame; without script, every frame but that one stays hidden."""
    if not isinstance(run, TrainingRecorder):
        raise TypeError(f"training_page: run must be a viz.TrainingRecorder, got {type(run).__name__}")
    if not isinstance(title, str):
        raise TypeError(f"training_page: title must be a str, got {type(title).__name__}")
    if isinstance(frame_ms, bool) or not isinstance(frame_ms, int) or frame_ms < 10:
        raise ValueError(f"training_page: frame_ms must be an int of at least 10 (milliseconds), got {frame_ms!r}")
    if not run.frames:
        raise ValueError("training_page: the run has no frames: pass it to nn.fit as callback=run, or call run.record")
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE % SVG_FONTS}</style></head><body>",
        f"<h1 style=\"font-size:18px\">{html.escape(title)}</h1>",
        '<div class="controls"><button id="play" type="button">play</button>',
        f'<input id="epoch" type="range" min="0" max="{len(run.frames) - 1}" value="{len(run.frames) - 1}" '
        'aria-label="frame"></div>',
    ]
    last = len(run.frames) - 1
    for index, frame in enumerate(run.frames):
        parts.append(frame_html(run, frame, shown=index == last))
    parts.append(f"<script>{_SCRIPT % frame_ms}</script></body></html>")
    return "\n".join(parts) + "\n"


def save_training_page(run: TrainingRecorder, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write :func:`training_page` to ``path`` (an ``.html``), atomically (``autograd.files.write_atomically``)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_training_page: path must be a str or a path, got {type(path).__name__}")
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"save_training_page: the page is HTML; name the file .html, not {target.name!r}")
    return write_atomically(target, training_page(run, **options).encode("utf-8"))

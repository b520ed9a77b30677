"""Training drawn live in Jupyter: one output area, updated in place while ``nn.fit`` runs.

``nn.fit(model, points, labels, live=True)`` (or ``live=viz.LiveView(model, ..., options)``) draws the loss
curve, the decision regions for 2-D points, the network with its weights, and the graph of one chosen neuron
with its data and gradients, and replaces the output area's content with each new frame. ``fit`` tells the
view about every step (a minibatch's update): the view counts it and says whether a frame is due (the first
step, then every ``every``-th, and no sooner than ``seconds`` after the last frame began); only then does
``fit`` write a compiled run's parameters back into the model and the view draw. Between frames a step
costs the view a counter and a clock reading, so training is slowed by the drawing alone, and ``seconds``
bounds how much: a frame that takes D seconds every ``seconds`` seconds spends that share of the time.

Drawing is kept cheap: the network and the neuron's graph are laid out by Graphviz once and later frames only
write new numbers and colours into that layout (:class:`viz.redraw.FixedLayout`), and the regions come from
the model's compiled forward pass. Because the output is plain HTML, the last frame stays in the saved
notebook as a static picture.

As ``nn.fit``'s ``callback`` (the way it was first used) a view draws after each due epoch instead. Outside
a Jupyter kernel (a script, a terminal) it draws nothing and says so once, unless given ``display=``, a
function to hand each frame's HTML to. With ``keep=True`` it keeps every frame it draws, for
``viz.save_training_page`` afterwards.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import autograd as ag
from autograd import Value
from viz.graph import GraphTooLargeError, draw_graph
from viz.redraw import FixedLayout
from viz.render import SVG_FONTS
from viz.training import Predict, TrainingRecorder, frame_html, training_data

Update = Callable[[str], None]
_DRIVERS = tuple(os.path.join(Path(__file__).resolve().parent.parent, name, "") for name in ("viz", "nn"))
Loss = Callable[[list[Any], list[Any]], Value]

_STYLE = """<style>
.chainrule-live { font-family: %s; color: #212529; }
.chainrule-live .panels { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chainrule-live .panel h2 { font-size: 13px; font-weight: normal; color: #495057; margin: 0 0 4px; }
.chainrule-live .network svg { width: 440px; height: 440px; }
.chainrule-live .neuron { max-height: 460px; max-width: 920px; overflow: auto; }
.chainrule-live .status { font-variant-numeric: tabular-nums; margin: 4px 0; }
</style>"""  # scoped to the view's own block: a notebook's other outputs keep their look


def _callers_level() -> int:
    """The stacklevel of the first frame outside viz and nn: the user's line, whether it called ``fit(live=...)``
    or the view itself, at whatever depth fit calls the view from."""
    frame: FrameType | None = sys._getframe(2)  # the caller of the function that warns
    level = 2
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_DRIVERS):
        frame, level = frame.f_back, level + 1
    return level


def _jupyter_display() -> Update | None:
    """A function that replaces one fresh output area's HTML, or None outside a Jupyter kernel."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:  # IPython in a terminal has no kernel to draw in
        return None
    handle = display(HTML("<p>training: the first frame is being drawn</p>"), display_id=True)  # type: ignore[no-untyped-call]
    if handle is None:
        return None
    return lambda text: handle.update(HTML(text))  # type: ignore[no-untyped-call]


class LiveView(TrainingRecorder):
    """A live picture of training in a Jupyter notebook: ``nn.fit(..., live=view)`` (or ``live=True``).

    - ``every``: draw the first step and every k-th after it (epochs, when the view is ``fit``'s ``callback``);
    - ``seconds``: and about this many seconds after the last frame began (0 for every due step): the step that
      ends nearest that time is drawn, so a fast run (``compile=True``) is drawn by the clock, not slowed down
      by the drawing, and a slow one about every ``seconds`` too (as a callback: no sooner than that);
    - ``neuron``: ``(layer, index)`` of the neuron whose graph is drawn, with its data and gradients for one
      sample at the current step; by default ``(-1, 0)``, the first neuron of the last layer (the output);
      None for no neuron panel. Its gradients are those of the sample's loss (without ``l2``) when ``fit``
      tells the view its loss, of the neuron's output otherwise;
    - ``sample``: which training sample the neuron's graph is computed on (0, the first);
    - ``precision``: digits of the neuron graph's numbers;
    - ``display``: a function given each frame's HTML, instead of the notebook's output area; with it the
      view draws anywhere (a benchmark, a file, a test), without it only in a Jupyter kernel;
    - ``keep``: keep every frame drawn, for ``viz.save_training_page(view, "run.html")``;
    - ``model``, ``points``, ``labels``, ``grid``, ``network``, ``predict``, ``callback``: as for
      :class:`viz.TrainingRecorder`; ``fit`` fills in ``points`` and ``labels`` if they are not given.

    After ``nn.fit(..., live=view)`` the last step is on show. As a ``callback``, call :meth:`show` after ``fit``
    to draw the last epoch if the clock skipped it. ``updates`` counts the frames shown, ``drawing_seconds``
    the time drawing took, and ``steps`` the steps ``fit`` told the view about.
    """

    def __init__(
        self,
        model: Any,
        points: Any = None,
        labels: Any = None,
        *,
        every: int = 1,
        seconds: float = 0.1,
        neuron: tuple[int, int] | None = (-1, 0),
        sample: int = 0,
        precision: int = 4,
        display: Update | None = None,
        keep: bool = False,
        grid: int = 32,
        network: bool = True,
        predict: Predict | None = None,
        callback: Callable[[int, Mapping[str, float]], Any] | None = None,
    ) -> None:
        super().__init__(model, points, labels, every=every, grid=grid, network=network, predict=predict,
                         callback=callback)  # fmt: skip
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (
            math.isfinite(seconds) and seconds >= 0
        ):
            raise ValueError(f"LiveView: seconds must be a non-negative finite number, got {seconds!r}")
        if not isinstance(keep, bool):
            raise TypeError(f"LiveView: keep must be True or False, got {type(keep).__name__}")
        if display is not None and not callable(display):
            raise TypeError(f"LiveView: display must be a function of a frame's HTML, got {type(display).__name__}")
        for name, value, low in (("sample", sample, 0), ("precision", precision, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"LiveView: {name} must be an int of at least {low}, got {value!r}")
        self.neuron = _checked_neuron(model, neuron)
        self.seconds, self.keep = float(seconds), keep
        self.sample, self.precision = sample, precision
        self.updates = 0
        self.drawing_seconds = 0.0
        self.steps = 0
        self._display = display
        self._update: Update | None = display
        self._looked = display is not None
        self._last_started = -math.inf
        self._last_step = time.perf_counter()
        self._latest: tuple[int, float, float | None] | None = None
        self._drawn: tuple[int, int | None] | None = None
        self._loss: Loss | None = None
        self._driven = False  # told about each step by nn.fit(live=...), not only about epochs
        self._step_losses: list[float] = []
        self._epoch = 0
        self._accuracy: float | None = None
        self._neuron_layout = FixedLayout()

    # -- as nn.fit's live view: told about every step --------------------------------------------

    def start(self, points: Any, labels: Any, loss: Loss | None = None) -> None:
        """Called by ``nn.fit`` before the first step: the training data (used unless the view was given its
        own) and the loss, ``loss(outputs, labels)``, whose gradient the neuron's graph shows."""
        if self.points is None:
            self.points, self.labels, self.classes = training_data(points, labels)
        if self.points is not None and self.neuron is not None and self.sample >= len(self.points):
            raise ValueError(f"LiveView: sample {self.sample} is beyond the {len(self.points)} training points")
        self._loss = loss
        self._driven = True

    def due(self, loss: float) -> bool:
        """Count a step, keep its loss for the curve, and say whether to draw after it (``fit`` then writes a
        compiled run's parameters into the model and calls :meth:`step`).

        This runs after every step of a live run: a counter, an append, a clock reading, and nothing else.
        """
        self.steps += 1
        self._step_losses.append(float(loss))
        now = time.perf_counter()
        step, self._last_step = now - self._last_step, now
        if not (self.steps % self.every == 0 or self.steps == 1):
            return False
        # The frame goes to the step that ends nearest the time it is due, not the first one after it: with
        # 40 ms steps and seconds=0.1, every second step (80 ms) rather than every third (120 ms).
        if now - self._last_started < self.seconds - step / 2:
            return False
        return self._target() is not None or self.keep

    def step(self, epoch: int) -> None:
        """Draw the model as it stands after the last step counted by :meth:`due`, a step of epoch ``epoch``."""
        self._epoch = epoch
        self._latest = (epoch, self._step_losses[-1], self._accuracy)
        self._draw()

    def end_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Called by ``nn.fit`` after epoch ``epoch`` of a live run: its loss and accuracy join the history."""
        self._epoch = epoch
        self._losses.append(float(logs.get("loss", math.nan)))
        accuracy = logs.get("accuracy")
        if accuracy is not None:
            self._accuracy = float(accuracy)
            self._accuracies.append(self._accuracy)

    def finish(self) -> None:
        """Called by ``nn.fit`` after the last step: draw it, if it is not the one on show (or shows the accuracy
        of the epoch before: a step is drawn before its epoch's accuracy is known)."""
        shown = self._latest[2] if self._latest is not None else None
        stale = self._drawn != (self._epoch, self.steps) or shown != self._accuracy  # the last epoch's accuracy
        if self._driven and self.steps and stale and (self._target() is not None or self.keep):
            self._latest = (self._epoch, self._step_losses[-1], self._accuracy)
            self._draw()

    def curve(self) -> tuple[list[float], str]:
        """Every step's loss in a live run ("step"), else every epoch's ("epoch")."""
        return (list(self._step_losses), "step") if self._driven else (self.losses, "epoch")

    # -- as nn.fit's callback: told about every epoch ----------------------------------------------

    def __call__(self, epoch: int, logs: Mapping[str, float]) -> Any:
        """After epoch ``epoch`` (from 1): note its loss, draw it if it is due; then run ``callback``."""
        loss = float(logs.get("loss", math.nan))
        accuracy = logs.get("accuracy")
        self._losses.append(loss)
        self._latest = (epoch, loss, None if accuracy is None else float(accuracy))
        due = (epoch % self.every == 0 or epoch == 1) and time.perf_counter() - self._last_started >= self.seconds
        if due and (self._target() is not None or self.keep):
            self._draw()
        return self.callback(epoch, logs) if self.callback is not None else None

    def show(self) -> None:
        """Draw the latest epoch now, if it is not the one on show (after ``nn.fit``: the last epoch stays)."""
        if self._driven:
            self.finish()
            return
        fresh = self._latest is not None and self._drawn != (self._latest[0], None)
        if fresh and (self._target() is not None or self.keep):
            self._draw()

    # -- drawing ----------------------------------------------------------------------------------

    def _target(self) -> Update | None:
        if not self._looked:
            self._looked = True
            self._update = _jupyter_display()
            if self._update is None:
                message = "LiveView: not in a Jupyter notebook, so nothing is drawn; record with viz.TrainingRecorder"
                message += " and write viz.save_training_page, or pass display="
                warnings.warn(message, stacklevel=_callers_level())
        return self._update

    def _draw(self) -> None:
        assert self._latest is not None
        started = time.perf_counter()
        self._last_started = started
        epoch, loss, accuracy = self._latest
        if not self.keep:
            self.frames.clear()  # only the picture on show is kept
        frame = self.record(epoch, loss, accuracy)
        step = self.steps if self._driven else None
        title, neuron = self._neuron_panel()
        frame = dataclasses.replace(frame, step=step, neuron=neuron, neuron_title=title)
        self.frames[-1] = frame
        if self._update is not None:
            self._update(f'{_STYLE % SVG_FONTS}<div class="chainrule-live">{frame_html(self, frame)}</div>')
            self.updates += 1
        self._drawn = (epoch, step)
        self.drawing_seconds += time.perf_counter() - started

    def _neuron_panel(self) -> tuple[str, str | None]:
        """The chosen neuron's graph on the chosen sample, as SVG, and the panel's title; no panel without data."""
        if self.neuron is None or self.points is None:
            return "", None
        layer, index = self.neuron
        label = self.labels[self.sample : self.sample + 1].tolist() if self.labels is not None else None
        loss = self._loss if label is not None else None
        out, grads = neuron_graph(self.model, self.points[self.sample].tolist(), layer, index,
                                  loss=loss, label=label)  # fmt: skip
        depth = layer % len(self.model.layers)
        of = "the sample's loss" if loss is not None else "the neuron's output"
        title = f"neuron {index} of layer {depth} on sample {self.sample}: data, and grad = d({of})/d(node)"
        try:
            diagram = draw_graph(out, grads=grads, edge_labels=True, precision=self.precision)
        except GraphTooLargeError:
            return f"neuron {index} of layer {depth}: too many inputs to draw; choose another with neuron=", None
        return title, self._neuron_layout.svg(diagram)


def neuron_graph(
    model: Any,
    point: Sequence[float],
    layer: int = -1,
    index: int = 0,
    *,
    loss: Loss | None = None,
    label: list[Any] | None = None,
) -> tuple[Value, dict[Value, float]]:
    """Neuron ``index`` of layer ``layer`` computed on ``point``, and the gradients of its graph's nodes.

    The neuron reads the previous layer's outputs as plain numbers, so its graph is its own weights, bias and
    ops; the layers after it are computed from its output as the model computes them. The gradients are those
    of ``loss([output], label)`` (the sample's loss) when a loss is given, else of the neuron's output: as
    ``autograd.backprop`` gives them, without touching any ``.grad``.
    """
    layers = list(model.layers)
    depth = layer % len(layers)
    inputs = [float(v) for v in point]
    with ag.no_grad():
        for before in layers[:depth]:
            inputs = [neuron(inputs).data for neuron in before.neurons]
        others = [n(inputs).data if j != index else 0.0 for j, n in enumerate(layers[depth].neurons)]
    out = layers[depth].neurons[index](inputs)
    if loss is None or label is None:
        return out, _floats(ag.backprop(out))
    current: list[Any] = [out if j == index else v for j, v in enumerate(others)]
    for after in layers[depth + 1 :]:
        current = [neuron(current) for neuron in after.neurons]
    output = current[0] if len(current) == 1 else current  # as nn.MLP returns it
    return out, _floats(ag.backprop(loss([output], label)))


def _floats(grads: Mapping[Value, Any]) -> dict[Value, float]:
    return {node: float(grad) for node, grad in grads.items()}


def _checked_neuron(model: Any, neuron: object) -> tuple[int, int] | None:
    """``neuron`` as ``(layer, index)`` within the model's layers, or a TypeError/ValueError naming it."""
    if neuron is None:
        return None
    if (not isinstance(neuron, tuple) or len(neuron) != 2
            or any(isinstance(i, bool) or not isinstance(i, int) for i in neuron)):  # fmt: skip
        raise TypeError(f"LiveView: neuron must be (layer, index), two ints, or None, got {neuron!r:.60}")
    layers = getattr(model, "layers", None)
    if layers is None:
        raise ValueError("LiveView: neuron needs a model with .layers of .neurons (like nn.MLP); pass neuron=None")
    layer, index = neuron
    if not -len(layers) <= layer < len(layers):
        raise ValueError(f"LiveView: neuron's layer {layer} is outside the model's {len(layers)} layers")
    width = len(layers[layer].neurons)
    if not 0 <= index < width:
        raise ValueError(f"LiveView: neuron's index {index} is outside layer {layer}'s {width} neurons")
    return layer, index

"""Training drawn live in Jupyter: one output area, updated in place while ``nn.fit`` runs.

:class:`LiveView` is a callback for ``nn.fit`` (``callback=viz.LiveView(model, points, labels)``). After each
epoch that is due (every ``every`` epochs, and at most once per ``seconds``), it draws what
:class:`viz.TrainingRecorder` records (the loss curve, the decision regions for 2-D points, the network with
its weights) and replaces the output area's content with it. Nothing is drawn between updates, so training
is slowed by the drawing alone, and ``seconds`` bounds how often that happens. Because the output is plain
HTML, the last frame stays in the saved notebook as a static picture.

Outside a Jupyter kernel (a script, a terminal) it draws nothing and says so once. With ``keep=True`` it
keeps every frame it draws, for ``viz.save_training_page`` afterwards.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from viz.render import SVG_FONTS
from viz.training import Predict, TrainingRecorder, frame_html

Update = Callable[[str], None]

_STYLE = """<style>
.chainrule-live { font-family: %s; color: #212529; }
.chainrule-live .panels { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chainrule-live .panel h2 { font-size: 13px; font-weight: normal; color: #495057; margin: 0 0 4px; }
.chainrule-live .network svg { width: 440px; height: 440px; }
.chainrule-live .status { font-variant-numeric: tabular-nums; margin: 4px 0; }
</style>"""  # scoped to the view's own block: a notebook's other outputs keep their look


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
    """A live picture of training in a Jupyter notebook; pass it to ``nn.fit`` as ``callback``.

    - ``every``: draw the first epoch and every k-th after it;
    - ``seconds``: and no sooner than this many seconds after the last drawing (0 for every due epoch), so a
      fast run (``compile=True``) is drawn by the clock, not slowed down by the drawing;
    - ``keep``: keep every frame drawn, for ``viz.save_training_page(view, "run.html")``;
    - ``model``, ``points``, ``labels``, ``grid``, ``network``, ``predict``, ``callback``: as for
      :class:`viz.TrainingRecorder`.

    Call :meth:`show` after ``nn.fit`` to draw the last epoch if the clock skipped it. ``updates`` counts the
    drawings and ``drawing_seconds`` the time they took.
    """

    def __init__(
        self,
        model: Any,
        points: Any = None,
        labels: Any = None,
        *,
        every: int = 1,
        seconds: float = 0.1,
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
        self.seconds, self.keep = float(seconds), keep
        self.updates = 0
        self.drawing_seconds = 0.0
        self._update: Update | None = None
        self._looked = False
        self._last_drawn = -math.inf
        self._latest: tuple[int, float, float | None] | None = None
        self._drawn_epoch = 0

    def __call__(self, epoch: int, logs: Mapping[str, float]) -> Any:
        """After epoch ``epoch`` (from 1): note its loss, draw it if it is due; then run ``callback``."""
        loss = float(logs.get("loss", math.nan))
        accuracy = logs.get("accuracy")
        self._losses.append(loss)
        self._latest = (epoch, loss, None if accuracy is None else float(accuracy))
        due = (epoch % self.every == 0 or epoch == 1) and time.perf_counter() - self._last_drawn >= self.seconds
        if due and (self._target() is not None or self.keep):
            self._draw()
        return self.callback(epoch, logs) if self.callback is not None else None

    def show(self) -> None:
        """Draw the latest epoch now, if it is not the one on show (after ``nn.fit``: the last epoch stays)."""
        fresh = self._latest is not None and self._latest[0] != self._drawn_epoch
        if fresh and (self._target() is not None or self.keep):
            self._draw()

    def _target(self) -> Update | None:
        if not self._looked:
            self._looked = True
            self._update = _jupyter_display()
            if self._update is None:
                message = "LiveView: not in a Jupyter notebook, so nothing is drawn; record with viz.TrainingRecorder"
                warnings.warn(f"{message} and write viz.save_training_page instead", stacklevel=3)
        return self._update

    def _draw(self) -> None:
        assert self._latest is not None
        started = time.perf_counter()
        epoch, loss, accuracy = self._latest
        if not self.keep:
            self.frames.clear()  # only the picture on show is kept
        frame = self.record(epoch, loss, accuracy)
        if self._update is not None:
            self._update(f'{_STYLE % SVG_FONTS}<div class="chainrule-live">{frame_html(self, frame)}</div>')
            self.updates += 1
        self._drawn_epoch = epoch
        self._last_drawn = time.perf_counter()
        self.drawing_seconds += self._last_drawn - started

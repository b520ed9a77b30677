"""What ``fit`` shows and says while it trains: the progress bar, and :class:`nn.TrainingWarning` when the
loss explodes, when it stays at the loss of guessing, and when the run will be slow at its settings.

:class:`Monitor` is the one object ``fit`` talks to; :class:`LossWatch` and :class:`Pace` each word one
kind of warning, at most once a run.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from pathlib import Path
from time import perf_counter
from types import FrameType

import numpy as np

from nn.loss_table import LossEntry
from nn.optim import TrainingWarning

SLOW_RUN = 60.0
"""Seconds: a run expected to take longer gets one line naming the settings that would speed it up."""

EXPLOSION = 1000.0
"""A step's loss this many times the first step's (or the loss of guessing, if larger) has exploded."""

PLATEAU = 0.02
"""Two epochs within this fraction of the loss of guessing, with one output for all samples, are stuck there."""

_PACKAGE = os.path.join(Path(__file__).resolve().parent, "")  # with the separator: nn/, not nn_other/


class Monitor:
    """The progress bar (samples, with the epoch and an estimate of the whole run) and the run's warnings."""

    def __init__(
        self, entry: LossEntry, labels: np.ndarray, model: object, optimizer: object, *, epochs: int,
        batch_size: int | None, compiled: bool, seconds_per_sample: float | None, progress: bool,
    ) -> None:  # fmt: skip
        from tqdm.auto import tqdm

        samples = len(labels)
        self.epochs, self.steps = epochs, 0
        self.watch = LossWatch(entry, labels, model, optimizer)
        self.bar = tqdm(total=epochs * samples, disable=not progress, desc="training", unit="sample", unit_scale=True)
        estimate = seconds_per_sample * samples * epochs if seconds_per_sample is not None else None
        if estimate is not None:
            self.bar.set_postfix_str(f"epoch 1/{epochs}, about {duration(estimate)} in all", refresh=True)
        self.pace = Pace(samples, epochs, batch_size, compiled, estimate)
        self._warn(self.pace.line())

    def after_step(self, loss: float, scores: np.ndarray | None, samples: int, epoch: int) -> None:
        """A step is done: move the bar, and warn if its loss exploded or the run turns out slow."""
        self.steps += 1  # counted over the whole run, as TrainingError counts them
        self.bar.update(samples)
        for message in (self.watch.after_step(loss, scores, epoch, self.steps), self.pace.after_step()):
            self._warn(message)

    def after_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        """An epoch is done: show its figures, and warn if the loss has settled at guessing."""
        shown = {"epoch": f"{epoch}/{self.epochs}", **{key: f"{value:.4f}" for key, value in logs.items()}}
        self.bar.set_postfix(shown, refresh=False)  # at tqdm's pace
        self._warn(self.watch.after_epoch(logs["loss"], epoch))

    def close(self) -> None:
        self.bar.close()

    @staticmethod
    def _warn(message: str | None) -> None:
        """Warn at the line that called ``fit``: the first frame outside nn, however deep fit's own calls go."""
        if message is None:
            return
        frame: FrameType | None = sys._getframe(1)
        level = 2  # level 1 is this function's own line
        while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
            frame, level = frame.f_back, level + 1
        warnings.warn(message, TrainingWarning, stacklevel=level)


class LossWatch:
    """Watches a run's losses for the two signs that training is going nowhere, and words one warning.

    - exploded: a step's loss above ``EXPLOSION`` times the first step's (or the loss of guessing, if larger);
    - stuck: two epochs after the first within ``PLATEAU`` of the loss of guessing, the model giving every
      sample of every minibatch the same output (all ReLUs at 0, say): it no longer looks at its inputs.

    The loss of guessing is the loss table's ``guessing``: what the best output that ignores the input
    scores on these labels (ln k for k balanced classes with cross-entropy). The outputs are the scores
    a classifier's steps give; a run without them (mse, a loss of one's own) is watched for explosions only,
    as a loss near guessing alone is also where a slow but healthy run starts.
    """

    def __init__(self, entry: LossEntry, labels: np.ndarray, model: object, optimizer: object) -> None:
        self.guess = entry.guessing(labels) if entry.guessing is not None else None
        self.name, self.model, self.optimizer = entry.name, model, optimizer
        self.first: float | None = None
        self.epochs: list[tuple[float, bool]] = []  # each epoch's loss, and whether every step's outputs were alike
        self.alike = True  # so far this epoch
        self.said = False

    def after_step(self, loss: float, scores: np.ndarray | None, epoch: int, step: int) -> str | None:
        """The warning to give after this step, if its loss is the first sign of an explosion."""
        self.alike = self.alike and _alike(scores)
        if self.first is None:
            self.first = loss
            return None
        scale = max(self.first, self.guess or 0.0)
        if self.said or scale <= 0 or not loss > EXPLOSION * scale:
            return None
        self.said = True
        start = f"from {self.first:.4g} at the first step to {loss:.4g} at epoch {epoch}, step {step}"
        lr = self._lr()
        rate = f"lr={lr:g} (try lr={lr / 10:g})" if lr is not None else "its step size"
        return (
            f"fit: the loss exploded, {start}{self._already()}. Likely causes: {self._initialisation()}; or the "
            f"optimizer's learning rate, {rate}: a step too large overshoots, and each overshoot makes the next "
            "gradient larger"
        )

    def after_epoch(self, loss: float, epoch: int) -> str | None:
        """The warning to give after this epoch, if it is the second in a row stuck at the loss of guessing."""
        self.epochs.append((loss, self.alike))
        self.alike = True
        guess = self.guess
        if self.said or guess is None or guess <= 0 or len(self.epochs) < 3:
            return None
        if not all(alike and abs(value - guess) <= PLATEAU * guess for value, alike in self.epochs[-2:]):
            return None
        self.said = True
        now = loss
        lr = self._lr()
        rate = f"lr={lr:g} (try {lr / 10:g}, or {lr * 10:g} if it was small)" if lr is not None else "its step size"
        return (
            f"fit: the loss has stayed at {now:.4g} for epochs {epoch - 1} and {epoch}, the loss of guessing for "
            f"these labels ({guess:.4g} with {self.name!r}, what the best output that ignores the input scores), "
            f"with the same output for every sample: the model no longer looks at its inputs (its ReLUs may all "
            f"be 0). Likely causes: "
            f"{self._initialisation()}; or the optimizer's learning rate, {rate}: a step too large can leave "
            "every ReLU at 0, one too small moves nothing"
        )

    def _lr(self) -> float | None:
        lr = getattr(self.optimizer, "lr", None)
        return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None

    def _already(self) -> str:
        """Whether the very first loss was far above guessing, a sign of initial weights too large."""
        if self.guess is None or self.first is None or self.guess <= 0 or self.first < 10 * self.guess:
            return ""
        return f" (the first was already {self.first / self.guess:.0f} times the loss of guessing, {self.guess:.4g})"

    def _initialisation(self) -> str:
        init = getattr(self.model, "init", None)
        if init in ("uniform", "micrograd"):
            return (
                f"the initialisation, init={init!r}: U(-1, 1) whatever a layer's width, too large for wide layers; "
                "leave init at its default, 'auto', which scales the weights by fan-in (He or Xavier)"
            )
        if init == "auto":
            return "the initialisation, less likely (init='auto' already scales each layer by its fan-in)"
        if isinstance(init, str):
            return f"the initialisation (init={init!r}; the default, 'auto', is He or Xavier by layer)"
        return "the initial weights (too large for the layers' widths?)"


def _alike(scores: np.ndarray | None) -> bool:
    """Whether a minibatch's outputs are one and the same for every sample (to a relative 1e-9); unknown (False)
    without outputs or with a single sample."""
    if scores is None or len(scores) < 2:
        return False
    spread = float(np.ptp(scores, axis=0).max())
    return spread <= 1e-9 * max(1.0, float(np.abs(scores).max()))


class Pace:
    """The run's expected duration, and the one line given when it is over ``SLOW_RUN`` at the current settings.

    The scalar run's comes from the time of one sample before the start; the compiled run's over the full
    data from its first step (tracing included, so it errs long).
    """

    def __init__(self, samples: int, epochs: int, batch_size: int | None, compiled: bool, estimate: float | None):
        self.samples, self.epochs, self.batch_size, self.compiled = samples, epochs, batch_size, compiled
        self.estimate = estimate
        self.started = perf_counter()
        self.steps = 0
        self.said = False

    def line(self) -> str | None:
        """The line to give now, if the run is known to be slow and a setting not in use would speed it up."""
        if self.said or self.estimate is None or self.estimate <= SLOW_RUN:
            return None
        advice = []
        if not self.compiled:
            advice.append("compile=True runs each minibatch at once, many times faster")
        if self.batch_size is None and self.samples > 100:
            steps = math.ceil(self.samples / 100)
            advice.append(f"batch_size=100 takes {steps:,} steps an epoch instead of one: far fewer epochs are needed")
        if not advice:
            return None
        self.said = True
        batches = "one step an epoch on all of them" if self.batch_size is None else f"minibatches of {self.batch_size}"
        engine = "compiled" if self.compiled else "on the scalar engine, sample by sample"
        return (
            f"fit: at these settings the run takes about {duration(self.estimate)} ({self.epochs} epochs of "
            f"{self.samples:,} samples, {batches}, {engine}). To go faster: {'; '.join(advice)}; "
            f"e.g. nn.fit(model, points, labels, ..., batch_size=100, compile=True)"
        )

    def after_step(self) -> str | None:
        """After the compiled run's first step over the full data, its estimate and line (if any)."""
        self.steps += 1
        if self.steps == 1 and self.compiled and self.batch_size is None:
            self.estimate = (perf_counter() - self.started) * self.epochs
            return self.line()
        return None


def duration(seconds: float) -> str:
    """A rough duration: "40 s", "12 min", "58 h", "3 days"."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"

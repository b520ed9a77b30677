"""``fit``'s scalar run: each step calls the model on every sample of the minibatch and backpropagates Values.

A step runs with Python's cyclic garbage collector paused (:class:`CollectorPaused`): its graph of Values
is acyclic (a node points only to its inputs), so reference counting frees all of it when the step
returns, and the collector's passes over its thousands of young nodes would find nothing to free.
"""

from __future__ import annotations

import gc
import math
from types import TracebackType
from typing import Union

import numpy as np

import autograd as ag
from nn import losses
from nn.checks import excerpt, shorten
from nn.layers import Output
from nn.loss_table import LossEntry
from nn.module import Module
from nn.optim import Optimizer, TrainingError
from nn.run import Schedule, Step, guarded_step

__all__ = ["CollectorPaused", "Numbers", "ScalarRun", "as_numbers"]

Numbers = Union[float, list[float]]


def as_numbers(output: Output) -> Numbers:
    """A model's output as plain numbers: a float for one output (a bare Value), else a list of floats."""
    return [float(o) for o in output] if isinstance(output, list) else float(output)


class CollectorPaused:
    """Python's cyclic collector off inside the block, and on again after it if it was on before.

    Cyclic garbage made inside the block (a model's own objects that refer to each other) is not lost:
    the collector keeps counting the containers allocated and not yet freed, so what the block leaves
    over counts towards the next collection after it, as it would have inside. The switch is
    the process's, so a block in one thread pauses the collector for all; a block entered while it is
    off (the caller's choice, or another thread's block) leaves it off.
    """

    __slots__ = ("paused",)

    def __init__(self) -> None:
        self.paused = False

    def __enter__(self) -> None:
        self.paused = gc.isenabled()
        if self.paused:
            gc.disable()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.paused:
            gc.enable()


class ScalarRun:
    """A :class:`nn.run.TrainingRun` on the model's own Values, with the checks that keep the parameters finite.

    The parameters never leave the model's Values, so ``sync_model`` and ``reload_model`` have nothing to do.
    """

    def __init__(self, model: Module, entry: LossEntry, optimizer: Optimizer, schedule: Schedule, l2: float) -> None:
        self.model, self.entry, self.optimizer, self.schedule, self.l2 = model, entry, optimizer, schedule, l2
        self.parameters = model.parameters()
        self.count = 0  # steps taken, for error messages

    def step(self, batch_x: np.ndarray, batch_y: np.ndarray, epoch: int) -> Step:
        """Forward, loss, backward, update and schedule for one minibatch: (the batch's loss, its scores or None)."""
        # The graph lives in _step's frame, so it is freed before the collector comes back: were it still
        # alive, the first collection after the pause would walk all of it.
        with CollectorPaused():
            return self._step(batch_x, batch_y, epoch)

    def _step(self, batch_x: np.ndarray, batch_y: np.ndarray, epoch: int) -> Step:
        self.count += 1
        step = self.count
        try:
            outputs = [self.model(row.tolist()) for row in batch_x]  # type: ignore[operator]
            self.entry.check_output(outputs[0])
            batch_loss = self.entry(outputs, batch_y.tolist())  # plain numbers, as a loss of one's own is promised
        except OverflowError as error:
            raise TrainingError.in_step(epoch, step, f"the loss overflowed ({shorten(str(error))})") from error
        if not isinstance(batch_loss, ag.Value):
            raise TypeError(
                f"fit: the loss {self.entry.name!r} returned {excerpt(batch_loss)}, not a Value; "
                "compute it from the outputs with Value operations so it can be differentiated"
            )
        if self.l2:
            batch_loss = batch_loss + losses.l2(self.parameters, self.l2)
        if not math.isfinite(batch_loss.data):
            raise TrainingError.in_step(epoch, step, f"the loss is {batch_loss.data!r}")
        self.optimizer.zero_grad()
        batch_loss.backward()
        guarded_step(self.optimizer, self.parameters, epoch, step)
        if self.schedule is not None:
            self.schedule.step()
        # The outputs' data are the forward pass's: the update moved only the parameters.
        scores = np.array([as_numbers(out) for out in outputs], dtype=float) if self.entry.classifier else None
        return batch_loss.data, scores

    def sync_model(self) -> None:
        """Nothing to write: the run trains the model's Values themselves."""

    def reload_model(self) -> None:
        """Nothing to read: the run trains the model's Values themselves."""

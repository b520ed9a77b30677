"""What ``fit`` asks of a training run, and the guarded optimizer step that every run ends its step with.

``fit`` trains through :class:`TrainingRun` alone: the scalar run (``nn.scalar_run``) and the compiled
run (``nn.compiled_run``) are its two implementations, and neither imports the other or ``fit``.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, Union, runtime_checkable

import numpy as np

from autograd import Value
from nn.optim import Optimizer, TrainingError

__all__ = ["Schedule", "Step", "TrainingRun", "guarded_step"]

Schedule = Any  # anything with .step(): StepLR, LinearDecay
Step = tuple[float, Union[np.ndarray, None]]
"""What one step gives ``fit``: the minibatch's loss, and its scores for accuracy (None if none are kept)."""


@runtime_checkable
class TrainingRun(Protocol):
    """One training run: a step per minibatch, and the model's Values kept current around each epoch's callback.

    A run may hold the parameters somewhere other than the model's Values (the compiled run keeps them
    in one array); ``sync_model`` and ``reload_model`` are where the two meet, and a run that trains
    the Values themselves does nothing in them.
    """

    def step(self, batch_x: np.ndarray, batch_y: np.ndarray, epoch: int) -> Step:
        """Forward, mean loss (+ l2), backward, optimizer and schedule on one minibatch.

        Returns the loss and, when the loss records accuracy, the model's outputs from before the update
        as a float array with one row per sample: shape (n,) for a single output, (n, classes) for a list.
        """
        ...

    def sync_model(self) -> None:
        """Write the run's parameters and last gradients to the model's Values (before the callback, and at the end)."""
        ...

    def reload_model(self) -> None:
        """Take the parameters from the model's Values again, after a callback that may have changed them."""
        ...


def guarded_step(optimizer: Optimizer, parameters: list[Value], epoch: int, step: int) -> None:
    """``optimizer.step()``, all or nothing for the model's parameters, refusing non-finite results.

    On an interrupt or error inside the step, or if a parameter comes out NaN or infinite, every
    parameter gets back its value from before the step. ``Optimizer.step`` itself already works that
    way, so only another optimizer's step (a replaced or foreign ``step``) is snapshotted and checked here.
    """
    guarded = getattr(optimizer.step, "__func__", None) is Optimizer.step
    before = None if guarded else [p.data for p in parameters]
    try:
        optimizer.step()
    except TrainingError as error:
        if before is not None:
            _restore(parameters, before)
        raise TrainingError(f"fit: epoch {epoch}, step {step}: {error}", epoch, step) from None
    except BaseException:
        if before is not None:
            _restore(parameters, before)
        raise
    if before is not None and not all(math.isfinite(p.data) for p in parameters):
        bad = next(name for name, p in enumerate(parameters) if not math.isfinite(p.data))
        value = parameters[bad].data
        _restore(parameters, before)
        raise TrainingError.in_step(epoch, step, f"the optimizer made parameter #{bad} {value!r}")


def _restore(parameters: list[Value], values: list[float]) -> None:
    for p, value in zip(parameters, values, strict=True):
        p.data = value

"""``fit``: the training loop, with a progress bar, per-epoch history and a callback; ``predict``, ``accuracy``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

import autograd as ag
from nn import losses
from nn.checks import check_count
from nn.data import batches
from nn.layers import Output
from nn.loss_table import LOSSES, LossFunction, find_loss
from nn.module import Module
from nn.optim import SGD, Optimizer

__all__ = ["LOSSES", "Callback", "LossFunction", "Model", "Schedule", "accuracy", "fit", "predict"]

Model = Callable[[list[float]], Output]
Schedule = Any  # anything with .step(): StepLR, LinearDecay
Callback = Callable[[int, dict[str, float]], Union[bool, None]]
Numbers = Union[float, list[float]]


def _numbers(output: Output) -> Numbers:
    """A model's output as plain numbers: a float for one output (a bare Value), else a list of floats."""
    return [float(o) for o in output] if isinstance(output, list) else float(output)


def predict(model: Model, points: Sequence[Sequence[float]] | np.ndarray) -> list[Any]:
    """The model's outputs for each point, as floats (or lists of floats), computed under ``no_grad``."""
    with ag.no_grad():
        outputs = [model([float(v) for v in point]) for point in points]
    return [_numbers(out) for out in outputs]


def accuracy(
    model: Model,
    points: Sequence[Sequence[float]] | np.ndarray,
    labels: Sequence[Any] | np.ndarray,
    threshold: float | None = None,
) -> float:
    """Fraction classified right: a list output by argmax, a scalar output as class 1 when > ``threshold``.

    The threshold is 0 for scores and logits (hinge, bce) and 0.5 for probabilities or for outputs
    trained with mse towards 0/1; by default 0.5 if the model's output activation is sigmoid, else 0.
    Labels are 0/1 or -1/+1 for a scalar output, class indices for a list.
    """
    if threshold is None:
        threshold = 0.5 if getattr(model, "output_activation", None) == "sigmoid" else 0.0
    return _accuracy(predict(model, points), labels, threshold)


def _accuracy(outputs: Sequence[Numbers], labels: Sequence[Any] | np.ndarray, threshold: float = 0.0) -> float:
    """A list of class scores is right when its argmax is the label; one score when it is on the label's side."""
    if len(outputs) != len(labels):
        raise ValueError(f"accuracy: {len(outputs)} outputs but {len(labels)} labels")
    right = 0
    for output, label in zip(outputs, labels, strict=True):
        if isinstance(output, (list, tuple)):
            right += int(np.argmax(output)) == int(label)
        else:
            right += (float(output) > threshold) == (float(label) > 0)
    return right / len(outputs)


def fit(
    model: Module,
    points: np.ndarray | Sequence[Sequence[float]],
    labels: np.ndarray | Sequence[Any],
    loss: str | LossFunction = "hinge",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    schedule: Schedule | None = None,
    l2: float = 0.0,
    progress: bool = True,
    callback: Callback | None = None,
    seed: int | None = 0,
) -> dict[str, list[float]]:
    """Train ``model`` and return its history: per-epoch ``loss`` and, for classifiers, ``accuracy``.

    ``loss`` is "hinge" (labels ±1 or 0/1, one output), "bce" (0/1 labels, one logit output),
    "cross_entropy" (integer labels, one logit per class), "mse", or the same losses as functions
    (``nn.hinge``, ``nn.max_margin``, ``nn.binary_cross_entropy_with_logits``, ``nn.cross_entropy``,
    ``nn.mse``), which behave exactly like their names; any other function ``(outputs, labels) -> Value``
    gets the outputs and labels as they are, and no accuracy is recorded. Each step: forward the
    minibatch (the full data when ``batch_size`` is None), mean loss + ``l2 * sum(p**2)``, backward,
    ``optimizer.step()`` (default ``SGD(lr=0.1)``) and ``schedule.step()``. ``callback(epoch, logs)``
    runs after every epoch; returning True stops training early. ``progress`` shows a tqdm bar
    (notebook-aware).
    """
    from tqdm.auto import tqdm

    xs, ys = np.asarray(points, dtype=float), np.asarray(labels)
    if len(xs) != len(ys) or len(xs) == 0:
        raise ValueError(f"fit: {len(xs)} points but {len(ys)} labels")
    check_count(epochs, "fit: epochs")
    if batch_size is not None:
        check_count(batch_size, "fit: batch_size", alternative="None (the full data)")
    entry = find_loss(loss)
    entry.check(ys)
    parameters = model.parameters()
    optimizer = optimizer if optimizer is not None else SGD(parameters, lr=0.1)
    history: dict[str, list[float]] = {"loss": []}
    if entry.classifier:
        history["accuracy"] = []
    bar = tqdm(range(1, epochs + 1), disable=not progress, desc="training", unit="epoch")
    for epoch in bar:
        total = 0.0
        scores: list[Numbers] = []
        labels_seen: list[Any] = []
        shuffled = batch_size is not None
        for batch_x, batch_y in batches(xs, ys, batch_size or len(xs), shuffle=shuffled, seed=(seed or 0) + epoch):
            outputs = [model(row.tolist()) for row in batch_x]  # type: ignore[operator]
            entry.check_output(outputs[0])
            batch_loss = entry(outputs, list(batch_y))
            if l2:
                batch_loss = batch_loss + losses.l2(parameters, l2)
            optimizer.zero_grad()
            batch_loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            total += batch_loss.data * len(batch_x)
            if entry.classifier:
                scores.extend(_numbers(out) for out in outputs)  # as they were before this step
                labels_seen.extend(batch_y.tolist())
        logs = {"loss": total / len(xs)}
        if entry.classifier:
            logs["accuracy"] = _accuracy(scores, labels_seen)
        for key, value in logs.items():
            history[key].append(value)
        bar.set_postfix({key: f"{value:.4f}" for key, value in logs.items()}, refresh=False)  # redraw at tqdm's pace
        if callback is not None and callback(epoch, logs):
            break
    bar.close()
    return history

"""``fit``: the training loop, with a progress bar, per-epoch history and a callback; ``predict``, ``accuracy``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

import autograd as ag
from autograd import Value
from nn import losses
from nn.data import batches
from nn.layers import Output
from nn.module import Module
from nn.optim import SGD, Optimizer

Model = Callable[[list[float]], Output]
LossFunction = Callable[[list[Any], list[Any]], Value]
Schedule = Any  # anything with .step(): StepLR, LinearDecay
Callback = Callable[[int, dict[str, float]], Union[bool, None]]


def _hinge(outputs: list[Any], labels: list[Any]) -> Value:
    return losses.hinge(outputs, [1.0 if y > 0 else -1.0 for y in labels])  # 0/1 labels become -1/+1


LOSSES: dict[str, LossFunction] = {
    "hinge": _hinge,
    "bce": lambda outputs, labels: losses.binary_cross_entropy_with_logits(outputs, [float(y) for y in labels]),
    "cross_entropy": lambda outputs, labels: losses.cross_entropy(outputs, [int(y) for y in labels]),
    "mse": lambda outputs, targets: losses.mse(outputs, [t.tolist() if hasattr(t, "tolist") else t for t in targets]),
}


def _predicted_class(output: Any, threshold: float) -> int:
    if isinstance(output, (list, tuple)):
        return int(np.argmax([float(o) for o in output]))
    return int(float(output) > threshold)


def predict(model: Model, points: Sequence[Sequence[float]] | np.ndarray) -> list[Any]:
    """The model's outputs for each point, as floats (or lists of floats), computed under ``no_grad``."""
    with ag.no_grad():
        outputs = [model([float(v) for v in point]) for point in points]
    return [[o.data for o in out] if isinstance(out, list) else float(out) for out in outputs]


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


def _accuracy(outputs: Sequence[Any], labels: Sequence[Any] | np.ndarray, threshold: float = 0.0) -> float:
    if len(outputs) != len(labels):
        raise ValueError(f"accuracy: {len(outputs)} outputs but {len(labels)} labels")
    scalar = not isinstance(outputs[0], (list, tuple))
    right = 0
    for output, label in zip(outputs, labels, strict=True):
        truth = int(float(label) > 0) if scalar else int(label)
        right += _predicted_class(output, threshold) == truth
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
    "cross_entropy" (integer labels, one logit per class), "mse", or a function
    ``(outputs, labels) -> Value``. Each step: forward the minibatch (the full data when
    ``batch_size`` is None), mean loss + ``l2 * sum(p**2)``, backward, ``optimizer.step()``
    (default ``SGD(lr=0.1)``) and ``schedule.step()``. ``callback(epoch, logs)`` runs after every
    epoch; returning True stops training early. ``progress`` shows a tqdm bar (notebook-aware).
    """
    from tqdm.auto import tqdm

    xs, ys = np.asarray(points, dtype=float), np.asarray(labels)
    if len(xs) != len(ys) or len(xs) == 0:
        raise ValueError(f"fit: {len(xs)} points but {len(ys)} labels")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"fit: batch_size must be a positive int or None (the full data), got {batch_size!r}")
    if loss in ("hinge", "bce"):
        _check_binary_labels(ys, loss)
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
        loss_function = LOSSES[loss]
    else:
        loss_function = loss
    classifier = loss in ("hinge", "bce", "cross_entropy")
    parameters = model.parameters()
    optimizer = optimizer if optimizer is not None else SGD(parameters, lr=0.1)
    history: dict[str, list[float]] = {"loss": []}
    if classifier:
        history["accuracy"] = []
    bar = tqdm(range(1, epochs + 1), disable=not progress, desc="training", unit="epoch")
    for epoch in bar:
        total, outputs_seen, labels_seen = 0.0, [], []
        shuffled = batch_size is not None
        for batch_x, batch_y in batches(xs, ys, batch_size or len(xs), shuffle=shuffled, seed=(seed or 0) + epoch):
            outputs = [model(row.tolist()) for row in batch_x]  # type: ignore[operator]
            if isinstance(loss, str):
                _check_output_shape(outputs[0], loss)
            batch_loss = loss_function(outputs, list(batch_y))
            if l2:
                batch_loss = batch_loss + losses.l2(parameters, l2)
            optimizer.zero_grad()
            batch_loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            total += batch_loss.data * len(batch_x)
            outputs_seen.extend(outputs)
            labels_seen.extend(batch_y.tolist())
        logs = {"loss": total / len(xs)}
        if classifier:
            scores = [[o.data for o in out] if isinstance(out, list) else out.data for out in outputs_seen]
            logs["accuracy"] = _accuracy(scores, labels_seen)
        for key, value in logs.items():
            history[key].append(value)
        bar.set_postfix({key: f"{value:.4f}" for key, value in logs.items()}, refresh=False)  # redraw at tqdm's pace
        if callback is not None and callback(epoch, logs):
            break
    bar.close()
    return history


def _check_binary_labels(labels: np.ndarray, loss: str) -> None:
    found = set(labels.tolist())
    if not (found <= {0, 1} or found <= {-1, 1}):
        raise ValueError(f"fit: loss {loss!r} needs labels 0/1 or -1/+1, got {sorted(found)[:10]}")


def _check_output_shape(output: Any, loss: str) -> None:
    """Say which loss fits the model's output when they do not match, before a confusing error deeper down."""
    several = isinstance(output, (list, tuple))
    if loss == "cross_entropy" and not several:
        raise ValueError("fit: loss 'cross_entropy' needs one output per class, but the model gives one number; "
                         "use 'bce' or 'hinge' for a single output")  # fmt: skip
    if loss in ("hinge", "bce") and several:
        raise ValueError(f"fit: loss {loss!r} needs one output, but the model gives {len(output)}; "
                         "use 'cross_entropy' for one output per class")  # fmt: skip

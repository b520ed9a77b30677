"""Loss functions. Each takes a batch (or one sample) and returns the mean loss as one Value."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any, Union

import numpy as np

import autograd as ag
from autograd import Value
from nn.checks import excerpt

Score = Union[Value, float]
# Targets and labels may come straight from the data sets as numpy arrays.
Targets = Union[float, Sequence[float], Sequence[Sequence[float]], "np.ndarray[Any, Any]"]


def _plain(xs: Any) -> Any:
    """numpy arrays become lists, so targets can come straight from the data sets."""
    return xs.tolist() if isinstance(xs, np.ndarray) else xs


def _target(t: Any) -> Score:
    """A target as a float; a Value (a label ``autograd.compile`` passes in per sample) stays a Value."""
    return t if isinstance(t, Value) else float(t)


def _pairs(predictions: Any, targets: Any, name: str) -> list[tuple[Score, Score]]:
    targets = _plain(targets)
    preds = list(predictions) if isinstance(predictions, (list, tuple)) else [predictions]
    wanted = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if len(preds) != len(wanted):
        raise ValueError(f"{name}: {len(preds)} predictions but {len(wanted)} targets")
    if not preds:
        raise ValueError(f"{name}: the batch is empty")
    return list(zip(preds, (_target(t) for t in wanted), strict=True))


def _flatten(xs: Any) -> list[Score]:
    if not isinstance(xs, (list, tuple)):
        return [xs]
    return [y for x in xs for y in (x if isinstance(x, (list, tuple)) else [x])]


def _flat_targets(ts: Any) -> list[Score]:
    ts = _plain(ts)
    if not isinstance(ts, (list, tuple)):
        return [_target(ts)]
    return [_target(y) for t in ts for y in (t if isinstance(t, (list, tuple)) else [t])]


def mse(
    predictions: Score | Sequence[Score] | Sequence[Sequence[Score]],
    targets: Targets,
    half: bool = False,
    reduction: str = "mean",
) -> Value:
    """Squared error: mean (or sum) over every output of (prediction - target)**2, times 1/2 if ``half``.

    ``half=True, reduction="sum"`` is the textbook E = sum 1/2 (target - output)**2 of hand-worked examples,
    whose derivative is simply (output - target).
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"mse: reduction must be 'mean' or 'sum', got {reduction!r}")
    pairs = _pairs(_flatten(predictions), _flat_targets(targets), "mse")
    total = ag.sum([(p - t) ** 2 for p, t in pairs])
    scale = (0.5 if half else 1.0) / (len(pairs) if reduction == "mean" else 1)
    return _as_value(total * scale)


def binary_cross_entropy_with_logits(logits: Score | Sequence[Score], targets: Targets) -> Value:
    """Mean of -[t log s(z) + (1 - t) log(1 - s(z))] for logits z and targets t in [0, 1].

    Computed as softplus(z) - t z, which never overflows (logits of ±1000 are fine);
    d/dz = sigmoid(z) - t.
    """
    pairs = _pairs(logits, targets, "binary_cross_entropy_with_logits")
    for _, t in pairs:
        if not isinstance(t, Value) and not 0.0 <= t <= 1.0:  # a Value target is checked by whoever made it
            raise ValueError(f"binary_cross_entropy_with_logits: targets must lie in [0, 1], got {t!r}")
    return _mean([ag.softplus(_as_value(z)) - t * z for z, t in pairs])


def _check_logits(logits: object, who: str) -> None:
    """TypeError for one bare score where a list of class scores is expected, saying what to use instead."""
    if isinstance(logits, (Value, Real)) or (isinstance(logits, np.ndarray) and logits.ndim == 0):
        raise TypeError(
            f"{who}: expected a list of class scores, one per class, got a single {type(logits).__name__} "
            f"{excerpt(logits)}; a model with one output gives one score: for two classes use "
            "nn.binary_cross_entropy_with_logits or nn.hinge, or give the model one output per class"
        )
    if isinstance(logits, (str, bytes)) or not isinstance(logits, (Sequence, np.ndarray)):
        raise TypeError(f"{who}: expected a list of class scores, got {type(logits).__name__} {excerpt(logits)}")


def log_softmax(logits: Sequence[Score]) -> list[Value]:
    """log(e^z_i / sum_j e^z_j) = z_i - logsumexp(z); logsumexp is one node that never overflows."""
    _check_logits(logits, "log_softmax")
    if not logits:
        raise ValueError("log_softmax: no logits")
    log_total = ag.logsumexp(logits)
    return [_as_value(z) - log_total for z in logits]


def softmax(logits: Sequence[Score]) -> list[Value]:
    """e^z_i / sum_j e^z_j, stable for any logits; the outputs are positive and sum to 1."""
    _check_logits(logits, "softmax")
    return [p.exp() for p in log_softmax(logits)]


def cross_entropy(logits: Any, labels: int | Sequence[int] | np.ndarray[Any, Any]) -> Value:
    """Softmax cross-entropy: mean of -log softmax(z)[label]; d/dz_i = softmax(z)_i - [i == label].

    ``logits`` is one sample's list of class scores with an int label, or a batch of such lists
    with a list of labels.
    """
    _check_logits(logits, "cross_entropy")
    batch = [logits] if not logits or not isinstance(logits[0], (list, tuple)) else list(logits)
    labels = _plain(labels)
    wanted = [labels] if isinstance(labels, (int, Value)) else list(labels)
    if len(batch) != len(wanted):
        raise ValueError(f"cross_entropy: {len(batch)} samples but {len(wanted)} labels")
    losses = []
    for sample, label in zip(batch, wanted, strict=True):
        scores: list[Score] = list(sample)
        if isinstance(label, Value):  # a label compile passes in per sample: picked per sample, checked by pick
            losses.append(-ag.pick(log_softmax(scores), label))
            continue
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(scores):
            raise ValueError(f"cross_entropy: label {label!r} is not a class index for {len(scores)} classes")
        losses.append(-log_softmax(scores)[label])
    return _mean(losses)


def hinge(scores: Score | Sequence[Score], labels: Targets) -> Value:
    """Max-margin loss, mean of max(0, 1 - y s) for labels y in {-1, +1} (micrograd's demo loss).

    Labels 0/1, as ``make_moons`` and the other data sets give them, are taken as -1/+1 (0 is the
    negative class), the same as ``fit(loss="hinge")`` does.
    """
    pairs = _pairs(scores, labels, "hinge")
    for _, y in pairs:
        if not isinstance(y, Value) and y not in (-1.0, 0.0, 1.0):
            raise ValueError(f"hinge: labels must be -1 or +1 (or 0 and 1), got {y!r}")
    return _mean([ag.relu(1 - _sign(y) * _as_value(s)) for s, y in pairs])


def _sign(y: Score) -> Score:
    """A label -1, 0 or +1 as -1 or +1. A Value label (compiled code cannot branch on it) picks from
    (-1, -1, +1) at y + 1, so a compiled replay refuses any other label (IndexError) as the check above does."""
    return ag.pick([-1.0, -1.0, 1.0], y + 1.0) if isinstance(y, Value) else (y or -1.0)


max_margin = hinge


def l2(parameters: Sequence[Value], alpha: float) -> Value:
    """L2 regularisation alpha * sum(p**2); add it to a loss to pull weights towards 0."""
    if alpha < 0:
        raise ValueError(f"l2: alpha must be >= 0, got {alpha!r}")
    return _as_value(alpha * ag.dot(parameters, parameters))


def _mean(terms: list[Value]) -> Value:
    """sum(terms) / len(terms). One term is its own mean: sum([x]) / 1 is x, to the bit, and so is the
    gradient through it (g * 1 / 1), so no sum and division nodes are made for a batch of one, which is
    what a compiled step's per-sample loss is (two array ops fewer each step)."""
    if len(terms) == 1:
        return _as_value(terms[0])
    return _as_value(ag.sum(terms) / len(terms))


def _as_value(x: Score) -> Value:
    """A number as a (constant) Value; a Value as itself."""
    return x if isinstance(x, Value) else Value(x)

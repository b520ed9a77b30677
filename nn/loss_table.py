"""The losses ``fit`` knows, as a table: how to feed each one its labels, and what to check and record.

``fit`` looks a loss up by its name ("hinge") or by the function itself (``nn.hinge``), so both
behave the same; a function not in the table is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from autograd import Value
from nn import losses
from nn.checks import excerpt

LossFunction = Callable[[list[Any], list[Any]], Value]
OutputShape = Literal["one", "per_class", "any"]


def _sign(label: Any) -> float:
    """A 0/1 or -1/+1 label as the -1/+1 that hinge expects."""
    return 1.0 if label > 0 else -1.0


def _zero_one(label: Any) -> float:
    """A 0/1 or -1/+1 label as the 0/1 target that binary cross-entropy expects."""
    return 1.0 if label > 0 else 0.0


def _listed(target: Any) -> Any:
    """A numpy target (a row of a 2-D array, or a numpy number) as plain Python, for mse."""
    return target.tolist() if hasattr(target, "tolist") else target


def _unchanged(label: Any) -> Any:
    return label


def _check_binary(labels: np.ndarray, name: str) -> None:
    found = set(labels.tolist())
    if not (found <= {0, 1} or found <= {-1, 1}):
        raise ValueError(f"fit: loss {name!r} needs labels 0/1 or -1/+1, got {sorted(found)[:10]}")


def _share_positive(labels: np.ndarray) -> float:
    return float(np.mean(labels > 0))


def _guess_hinge(labels: np.ndarray) -> float:
    """The best constant score c gives mean max(0, 1 - y c) = 1 + c (1 - 2p) on [-1, 1]: 2 min(p, 1 - p) at c = ±1
    (1 for balanced classes, where c stays at 0)."""
    p = _share_positive(labels)
    return 2.0 * min(p, 1.0 - p)


def _entropy(shares: np.ndarray) -> float:
    """-sum p ln p over the nonzero shares: the cross-entropy of predicting the shares themselves."""
    shares = shares[shares > 0]
    return float(-(shares * np.log(shares)).sum())


def _guess_bce(labels: np.ndarray) -> float:
    """The best constant logit predicts the share p of positives: the binary entropy of p (ln 2 when balanced)."""
    p = _share_positive(labels)
    return _entropy(np.array([p, 1.0 - p]))


def _guess_classes(labels: np.ndarray) -> float:
    """The best constant logits predict each class's share: the entropy of the shares (ln k for k balanced classes)."""
    _, counts = np.unique(labels, return_counts=True)
    return _entropy(counts / len(labels))


def _guess_mse(labels: np.ndarray) -> float:
    """The best constant output is the targets' mean: their variance, averaged over the outputs."""
    with np.errstate(over="ignore", invalid="ignore"):  # targets near the float limit: inf, and no warning from it
        return float(np.var(np.asarray(labels, dtype=float), axis=0).mean())


def _check_classes(labels: np.ndarray, name: str) -> None:
    """Class indices: whole numbers >= 0 (1.7 is not class 1)."""
    for i, label in enumerate(labels.tolist()):
        if isinstance(label, bool) or not isinstance(label, (int, float)) or not float(label).is_integer() or label < 0:
            raise ValueError(f"fit: loss {name!r} needs class indices 0, 1, 2, ..., but label #{i} is {excerpt(label)}")


def _class_index(label: Any) -> int:
    """A class label as an int, refusing a fraction such as 1.7 rather than truncating it."""
    if isinstance(label, (float, np.floating)) and not float(label).is_integer():
        raise ValueError(f"cross_entropy: label {label!r} is not a whole class index")
    return int(label)


@dataclass(frozen=True)
class LossEntry:
    """One loss as ``fit`` uses it.

    - ``function``: ``(outputs, labels) -> Value``, the mean loss over a batch;
    - ``label``: turns one label as it comes from the data into what ``function`` wants;
    - ``check_labels``: raises on labels the loss cannot take, before training starts (or None);
    - ``outputs``: "one" (a single score or logit), "per_class" (one logit per class) or "any";
    - ``classifier``: whether ``fit`` records accuracy (and wants one label per sample);
    - ``guessing``: the loss of the best output that ignores the input, for these labels (or None):
      where a model stuck at guessing settles, which ``fit`` warns about.
    """

    name: str
    function: LossFunction
    label: Callable[[Any], Any] = _unchanged
    check_labels: Callable[[np.ndarray, str], None] | None = None
    outputs: OutputShape = "any"
    classifier: bool = False
    guessing: Callable[[np.ndarray], float] | None = None

    def __call__(self, outputs: list[Any], labels: list[Any]) -> Value:
        """The loss of a batch: the labels converted one by one, then ``function``."""
        return self.function(outputs, [self.label(y) for y in labels])

    def check(self, labels: np.ndarray) -> None:
        """Raise ValueError if the loss cannot take these labels (a classifier's are one number per sample)."""
        if self.classifier and labels.ndim != 1:
            hint = "; for one-hot rows pass labels.argmax(axis=1)" if self.outputs == "per_class" else ""
            raise ValueError(f"fit: loss {self.name!r} needs one label per sample, an array of shape "
                             f"({len(labels)},), but the labels have shape {labels.shape}{hint}")  # fmt: skip
        if self.check_labels is not None:
            self.check_labels(labels, self.name)

    def check_output(self, output: Any) -> None:
        """Say which loss fits the model's output when they do not match, before a confusing error deeper down."""
        several = isinstance(output, (list, tuple))
        if self.outputs == "per_class" and not several:
            raise ValueError(f"fit: loss {self.name!r} needs one output per class, but the model gives one number; "
                             "use 'bce' or 'hinge' for a single output")  # fmt: skip
        if self.outputs == "one" and several and len(output) == 1:
            raise ValueError(f"fit: loss {self.name!r} needs one output, a Value, but the model gives a list of one; "
                             "return its item, output[0], as nn.MLP does for a last layer of one neuron")  # fmt: skip
        if self.outputs == "one" and several:
            raise ValueError(f"fit: loss {self.name!r} needs one output, but the model gives {len(output)}; "
                             "use 'cross_entropy' for one output per class")  # fmt: skip

    def check_classes(self, output: Any, labels: np.ndarray) -> None:
        """For one logit per class, every label must name one of the model's outputs (ValueError if not)."""
        if self.outputs != "per_class" or not isinstance(output, (list, tuple)):
            return
        beyond = np.flatnonzero(labels >= len(output))
        if beyond.size:
            first = int(beyond[0])
            raise ValueError(
                f"fit: loss {self.name!r} needs class indices 0 to {len(output) - 1} for the model's "
                f"{len(output)} outputs, but label #{first} is {excerpt(labels[first].item())}"
            )


LOSS_TABLE: tuple[LossEntry, ...] = (
    LossEntry("hinge", losses.hinge, _sign, _check_binary, "one", True, _guess_hinge),  # also nn.max_margin
    LossEntry("bce", losses.binary_cross_entropy_with_logits, _zero_one, _check_binary, "one", True, _guess_bce),
    LossEntry("cross_entropy", losses.cross_entropy, _class_index, _check_classes, "per_class", True, _guess_classes),
    LossEntry("mse", losses.mse, _listed, guessing=_guess_mse),
)
LOSSES: dict[str, LossEntry] = {entry.name: entry for entry in LOSS_TABLE}


def find_loss(loss: str | LossFunction) -> LossEntry:
    """The table's entry for a loss name or loss function; any other function gets a plain entry.

    A plain entry passes the labels through unchanged, checks nothing and records no accuracy.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"fit: loss must be a name ({', '.join(LOSSES)}) or a function, got {loss!r}")
    for entry in LOSS_TABLE:
        if entry.function is loss:
            return entry
    return LossEntry(getattr(loss, "__name__", type(loss).__name__), loss)

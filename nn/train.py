"""``fit``: the training loop, with a progress bar, per-epoch history and a callback; ``predict``, ``accuracy``.

``fit`` drives a :class:`nn.run.TrainingRun` (the scalar or the compiled one) and knows nothing else of it.
Before the first step it runs the model and the loss once on the first sample, for the checks both runs
share and the scalar engine's time per sample; during the run a :class:`nn.monitor.Monitor` shows the progress
and warns of a loss that explodes or stays at the loss of guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral
from time import perf_counter
from typing import TYPE_CHECKING, Any, Union

import numpy as np

import autograd as ag
from nn.checks import Seed, check_count, check_number, check_seed, excerpt, shorten
from nn.compiled_run import CompiledRun, Forward, blas_threads, choose_threads, kept_compiled
from nn.data import batches
from nn.layers import Output
from nn.loss_table import LOSS_TABLE, LOSSES, LossEntry, LossFunction, find_loss
from nn.module import Module
from nn.monitor import Monitor
from nn.optim import SGD, Optimizer
from nn.run import Schedule, TrainingRun
from nn.scalar_run import Numbers, ScalarRun, as_numbers

if TYPE_CHECKING:
    from viz.live import LiveView

__all__ = ["LOSSES", "Callback", "LossFunction", "Model", "Schedule", "accuracy", "fit", "predict"]

Model = Callable[[list[float]], Output]
Callback = Callable[[int, dict[str, float]], Union[bool, None]]


PREDICT_CHUNK = 1000
"""How many samples ``predict(compile=True)`` runs at once: memory of the order of chunk x widest layer."""



def predict(
    model: Model,
    points: Sequence[Sequence[float]] | np.ndarray,
    compile: bool = False,  # noqa: A002  (as in fit)
) -> list[Any]:
    """The model's outputs for each point, as floats (or lists of floats), computed under ``no_grad``.

    ``compile=True`` runs the model over chunks of the points at once (``autograd.compile``, with
    ``reduce=None``): the same numbers to rounding, fast enough for a 10,000-image test set.
    """
    if isinstance(points, np.ndarray) and points.ndim != 2:
        raise ValueError(f"predict: points must have shape (n, features), got shape {points.shape}")
    if isinstance(points, Sequence) and any(not isinstance(point, (Sequence, np.ndarray)) for point in points):
        raise ValueError(
            f"predict: points must be a list of samples, each a list of inputs, got {excerpt(points)}; "
            "for one sample use predict(model, [sample]), or call the model itself: model(sample)"
        )
    if not isinstance(compile, bool):
        raise TypeError(f"predict: compile must be True or False, got {excerpt(compile)}")
    if compile:
        xs = np.asarray(points, dtype=float)
        if len(xs) == 0:
            return []
        nin = getattr(model, "nin", None)
        if isinstance(nin, int) and xs.shape[1] != nin:
            raise ValueError(f"predict: the points have {xs.shape[1]} features, but the model takes {nin} inputs")
        forward = _forward_of(model)
        chunks = [forward(xs[i : i + PREDICT_CHUNK]).data for i in range(0, len(xs), PREDICT_CHUNK)]
        return np.concatenate(chunks).tolist()  # type: ignore[no-any-return]
    with ag.no_grad():
        outputs = [model([float(v) for v in point]) for point in points]
    return [as_numbers(out) for out in outputs]


def _forward_of(model: Model) -> ag.Compiled:
    """The compiled forward pass: kept with the model's other plans for an nn module (traced once for its
    shapes, see ``nn.compiled_run``), made afresh for any other callable."""
    if isinstance(model, Module):
        return kept_compiled(model, "predict", lambda: ag.compile(Forward(model), reduce=None))
    return ag.compile(lambda x: model(x), reduce=None)


def accuracy(
    model: Model,
    points: Sequence[Sequence[float]] | np.ndarray,
    labels: Sequence[Any] | np.ndarray,
    threshold: float | None = None,
    compile: bool = False,  # noqa: A002  (as in fit)
) -> float:
    """Fraction classified right: a list output by argmax, a scalar output as class 1 when > ``threshold``.

    The threshold is 0 for scores and logits (hinge, bce) and 0.5 for probabilities or for outputs
    trained with mse towards 0/1; by default 0.5 if the model's output activation is sigmoid, else 0.
    Labels are 0/1 or -1/+1 for a scalar output, class indices for a list. ``compile`` as in :func:`predict`.
    """
    xs, ys = _checked_data(model, points, labels, "accuracy")
    if ys.ndim != 1:
        raise ValueError(f"accuracy: labels must be one number per sample, an array of shape ({len(ys)},), "
                         f"got shape {ys.shape}; for one-hot rows pass labels.argmax(axis=1)")  # fmt: skip
    if not np.isfinite(ys).all():
        raise ValueError(f"accuracy: labels must be finite numbers, got {excerpt(ys.tolist())}")
    if threshold is None:
        threshold = 0.5 if getattr(model, "output_activation", None) == "sigmoid" else 0.0
    return _accuracy(predict(model, xs, compile=compile), ys, threshold)


def _accuracy(
    outputs: Sequence[Numbers] | np.ndarray, labels: Sequence[Any] | np.ndarray, threshold: float = 0.0
) -> float:
    """Rows of class scores are right where their argmax is the label; single scores where they lie on the
    label's side of ``threshold`` (labels 0/1 or -1/+1)."""
    scores, wanted = np.asarray(outputs, dtype=float), np.asarray(labels, dtype=float)
    if len(scores) != len(wanted) or wanted.ndim != 1:  # a column of labels would broadcast to an n x n table
        raise ValueError(f"accuracy: {len(scores)} outputs but labels of shape {wanted.shape}")
    by_class = scores.ndim == 2
    right = np.argmax(scores, axis=1) == wanted.astype(int) if by_class else (scores > threshold) == (wanted > 0)
    return float(right.mean())


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
    seed: Seed = 0,
    compile: bool = False,  # noqa: A002  (as autograd.compile names it)
    threads: int | None = None,
    live: bool | LiveView = False,
) -> dict[str, list[float]]:
    """Train ``model`` and return its history: per-epoch ``loss`` and, for classifiers, ``accuracy``.

    ``loss`` is "hinge" (labels ±1 or 0/1, one output), "bce" (0/1 labels, one logit output),
    "cross_entropy" (integer labels, one logit per class), "mse", or the same losses as functions
    (``nn.hinge``, ``nn.max_margin``, ``nn.binary_cross_entropy_with_logits``, ``nn.cross_entropy``,
    ``nn.mse``), which behave exactly like their names. Each step: forward the minibatch (the full
    data when ``batch_size`` is None), mean loss + ``l2 * sum(p**2)``, backward, ``optimizer.step()``
    (default ``SGD(lr=0.1)``) and ``schedule.step()``. ``callback(epoch, logs)`` runs after every
    epoch; returning True stops training early. Minibatches are shuffled anew each epoch: from
    ``seed + epoch`` for an int seed (the same batches on every run), from the Generator for a numpy
    Generator, at random for None. ``progress`` shows a tqdm bar (notebook-aware) that counts samples,
    with an estimate of the whole run's time from the first sample.

    Labels are numbers, one per sample, of shape (n,); a column of shape (n, 1) is taken as (n,).
    Rows of several numbers are targets for "mse" or a loss of one's own only.

    A loss of one's own is a function ``(outputs, labels) -> Value`` that gets one minibatch: a list
    of the model's outputs (a Value, or a list of Values, per sample) and a list of their labels as
    plain numbers (or lists of numbers), and returns the mean loss over the minibatch, as a Value.
    No accuracy is recorded. Before the first step it is tried on the first sample and on each
    distinct label, so a label it refuses stops ``fit`` before any parameter moves. For example:

    >>> import nn, autograd as ag
    >>> def squared_hinge(outputs, labels):  # labels 0/1; 2y - 1 is their sign, with no branch on y
    ...     per_sample = [ag.relu(1 - (2 * y - 1) * o) ** 2 for o, y in zip(outputs, labels)]
    ...     return ag.sum(per_sample) / len(per_sample)
    >>> points, labels = nn.make_moons(40, noise=0.1, seed=0)
    >>> model = nn.MLP(2, [8, 1], seed=0)
    >>> history = nn.fit(model, points, labels, loss=squared_hinge, epochs=30, progress=False)
    >>> history["loss"][-1] < history["loss"][0]
    True
    >>> again = nn.fit(nn.MLP(2, [8, 1], seed=0), points, labels, loss=squared_hinge, epochs=30, progress=False,
    ...                compile=True)
    >>> abs(again["loss"][-1] - history["loss"][-1]) < 1e-12
    True

    ``compile=True`` runs each step over the whole minibatch with ``autograd.compile``: the same
    steps and numbers (to rounding), many times faster on large models. With nn's SGD or Adam the
    parameters are held in one array during the run and written back to the model at the end (and
    on any error or Ctrl-C). The loss must be a mean over samples, as every loss of the table is;
    a loss of one's own then sees one sample at a time, its label a Value it cannot branch on. The
    plan is kept with the model: another ``fit`` or ``predict`` with ``compile=True`` on the same
    model and shapes does not trace again (``nn.compiled_run`` lists what does). ``threads`` sets
    numpy's BLAS threads for the run, restored after it; by default a compiled run chooses them
    (``nn.compiled_run.choose_threads``: one for small layers or a busy machine), a scalar one leaves them.

    Before the first step, points must be finite with shape (n, features), labels finite and fit for
    the loss (cross-entropy labels whole class indices below the model's number of outputs), and
    every setting in range, else ValueError or TypeError naming it, the same whether compiled or not.
    After each step the loss and the parameters are checked: if either is NaN or infinite, ``fit``
    raises :class:`nn.TrainingError` naming the epoch and step, and the parameters keep their last
    finite values (so ``nn.save_model`` still works). A KeyboardInterrupt (Ctrl-C) is re-raised with
    the parameters as they were after the last whole step, and the history of the epochs completed so
    far attached to it as ``.history``.

    :class:`nn.TrainingWarning`, at most once a run for each: the loss exploded (grew a thousandfold),
    or a classifier gives every sample the same output and its loss stays at the loss of guessing (what
    the best output that ignores the input scores, such as ln 10 for ten balanced classes), with the
    likely causes (initialisation, learning rate) and the setting to change; and a run expected to take
    more than a minute, with ``batch_size=`` and ``compile=True`` named if they are not in use.

    ``live=True`` draws the run as it trains in a Jupyter notebook (``viz.LiveView``: the loss, the decision
    regions of 2-D points, the network, one neuron's graph with its data and gradients), in one output area
    updated in place; ``live=viz.LiveView(model, every=..., seconds=...)`` chooses how. After every step the
    view counts it and says whether a frame is due; only then are a compiled run's parameters written back
    to the model and the frame drawn, so a step without a frame costs the view a counter and a clock
    reading. Outside Jupyter the view says so once and draws nothing.
    """
    _check_model(model)
    xs, ys = _checked_data(model, points, labels, "fit")
    _check_counts(epochs, batch_size)
    entry = _checked_loss(loss, ys)
    optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr=0.1)
    _check_callables(optimizer, schedule, callback)
    if not isinstance(compile, bool):
        raise TypeError(f"fit: compile must be True or False, got {excerpt(compile)}")
    l2 = check_number(l2, "fit: l2", minimum=0.0)
    if threads is not None:
        threads = check_count(threads, "fit: threads", alternative="None (chosen for the run)")
    view = _live_view(live, model, callback)
    shuffle_seed = _shuffle_seeds(seed)
    per_sample = _probe(model, entry, xs, ys, timed=not compile)
    if threads is None and compile:
        threads = choose_threads(len(model.parameters()), min(batch_size or len(xs), len(xs)))
    with blas_threads(threads):
        run = _start_run(model, entry, optimizer, schedule, l2, compile)
        monitor = Monitor(entry, ys, model, optimizer, epochs=epochs, batch_size=batch_size, compiled=compile,
                          seconds_per_sample=per_sample, progress=progress)  # fmt: skip
        if view is not None:
            view.start(xs, ys, loss=entry)
        return _train(run, monitor, xs, ys, epochs, batch_size, shuffle_seed, callback, entry.classifier, view)


def _live_view(live: object, model: Module, callback: object) -> LiveView | None:
    """The view ``live`` asks for: None for False, a default ``viz.LiveView`` for True, else the view given."""
    if live is False or live is None:
        return None
    from viz.live import LiveView  # only a live run needs viz; viz never imports nn

    if live is True:
        return LiveView(model)
    if not isinstance(live, LiveView):
        raise TypeError(f"fit: live must be True, False or a viz.LiveView, got {excerpt(live)}")
    if live is callback:
        raise ValueError("fit: the same LiveView is both live and callback; pass it once, as live=")
    return live


def _train(
    run: TrainingRun, monitor: Monitor, xs: np.ndarray, ys: np.ndarray, epochs: int, batch_size: int | None,
    shuffle_seed: Callable[[int], int], callback: Callback | None, classifier: bool, view: LiveView | None = None,
) -> dict[str, list[float]]:  # fmt: skip
    """fit's epochs: each one's steps, its history and monitor, the model synced around the callback."""
    history: dict[str, list[float]] = {"loss": [], **({"accuracy": []} if classifier else {})}
    after_step: AfterStep = monitor.after_step
    if view is not None:

        def after_step(loss: float, scores: np.ndarray | None, samples: int, epoch: int) -> None:
            monitor.after_step(loss, scores, samples, epoch)
            if view.due(loss):
                run.sync_model()  # the view draws the parameters as they stand after this step
                view.step(epoch)

    try:
        for epoch in range(1, epochs + 1):
            logs = _epoch(run, xs, ys, batch_size, shuffle_seed(epoch), epoch, after_step)
            for key, value in logs.items():
                history[key].append(value)
            monitor.after_epoch(epoch, logs)
            if view is not None:
                view.end_epoch(epoch, logs)
            run.sync_model()  # the callback sees, and may change, the parameters as they stand
            if callback is not None and callback(epoch, logs):
                break
            run.reload_model()
    except KeyboardInterrupt as interrupt:
        interrupt.history = history  # type: ignore[attr-defined]
        raise
    finally:
        monitor.close()
        run.sync_model()
    if view is not None:
        view.finish()  # the last step stays on show
    return history


def _start_run(
    model: Module, entry: LossEntry, optimizer: Optimizer, schedule: Schedule, l2: float, compiled: bool
) -> TrainingRun:
    """The run ``fit`` drives: over each whole minibatch at once when ``compiled``, else sample by sample."""
    kind = CompiledRun if compiled else ScalarRun
    return kind(model, entry, optimizer, schedule, l2)


AfterStep = Callable[[float, Union[np.ndarray, None], int, int], None]
"""What ``_epoch`` reports after each step: the step's loss, its scores (or None), its number of samples, the epoch."""


def _epoch(
    run: TrainingRun, xs: np.ndarray, ys: np.ndarray, batch_size: int | None, seed: int, epoch: int,
    after_step: AfterStep,
) -> dict[str, float]:  # fmt: skip
    """One pass over the data: the mean of the batch losses weighted by batch size, and the accuracy of the
    outputs each step saw (before its update) when the run gives them.

    Minibatches are shuffled from ``seed``; ``batch_size=None`` is one batch in order.
    """
    total = 0.0
    scores: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    shuffled = batch_size is not None
    for batch_x, batch_y in batches(xs, ys, batch_size or len(xs), shuffle=shuffled, seed=seed):
        batch_loss, batch_scores = run.step(batch_x, batch_y, epoch)
        total += batch_loss * len(batch_x)
        if batch_scores is not None:
            scores.append(batch_scores)
            seen.append(batch_y)
        after_step(batch_loss, batch_scores, len(batch_x), epoch)
    logs = {"loss": total / len(xs)}
    if scores:
        logs["accuracy"] = _accuracy(np.concatenate(scores), np.concatenate(seen))
    return logs


def _shuffle_seeds(seed: object) -> Callable[[int], int]:
    """Each epoch's shuffling seed: ``seed + epoch`` for an int, so every run shuffles alike epoch by epoch;
    drawn from the Generator (or from fresh entropy for None) otherwise."""
    if isinstance(seed, Integral) and not isinstance(seed, bool):
        check_seed(seed, "fit")  # refuses a negative one
        start = int(seed)
        return lambda epoch: start + epoch
    generator = check_seed(seed, "fit")
    return lambda epoch: int(generator.integers(2**63))


def _check_model(model: object) -> None:
    """TypeError unless ``model`` is an nn module (an instance, not the class), which ``fit`` can train."""
    if isinstance(model, type) and issubclass(model, Module):
        raise TypeError(
            f"fit: model is the class {model.__name__}, not a model; make one first, "
            f"e.g. model = nn.MLP(2, [16, 16, 1]), and pass that"
        )
    if not isinstance(model, Module):
        raise TypeError(
            f"fit: model must be an nn module such as nn.MLP(2, [16, 16, 1]), whose parameters() it can train; "
            f"got {type(model).__name__} {excerpt(model)}"
        )


def _check_counts(epochs: object, batch_size: object) -> None:
    """``epochs`` a positive int, ``batch_size`` one too or None (the full data), else TypeError or ValueError."""
    check_count(epochs, "fit: epochs")
    if batch_size is not None:
        check_count(batch_size, "fit: batch_size", alternative="None (the full data)")


def _checked_loss(loss: str | LossFunction, labels: np.ndarray) -> LossEntry:
    """The loss's table entry, once the labels are known to suit it (and, if they are floats, to be finite)."""
    entry = find_loss(loss)
    entry.check(labels)
    if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
        bad = _first_bad(labels)
        raise ValueError(f"fit: label #{bad} is {labels.ravel()[bad].item()!r}; labels must be finite")
    return entry


def _check_callables(optimizer: object, schedule: object, callback: object) -> None:
    """TypeError unless the optimizer has step() and zero_grad(), a schedule step(), and the callback is callable."""
    for thing, what in ((optimizer, "optimizer"), (schedule, "schedule")):
        if thing is not None and not callable(getattr(thing, "step", None)):
            raise TypeError(f"fit: {what} must have a step() method, got {excerpt(thing)}")
    if not callable(getattr(optimizer, "zero_grad", None)):
        raise TypeError(f"fit: optimizer must have a zero_grad() method, got {excerpt(optimizer)}")
    if callback is not None and not callable(callback):
        raise TypeError(f"fit: callback must be a function (epoch, logs) -> bool, got {excerpt(callback)}")


def _first_bad(array: np.ndarray) -> int:
    return int(np.flatnonzero(~np.isfinite(array.ravel()))[0])


def _checked_data(
    model: object, points: Any, labels: Any, who: str
) -> tuple[np.ndarray, np.ndarray]:
    """Points as a finite float array of shape (n, features), labels as an array of n numbers or rows of
    numbers (a column of shape (n, 1) becomes shape (n,)), else ValueError naming what is wrong."""
    try:
        xs = np.asarray(points, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{who}: points must be rows of numbers of one length: {shorten(str(error))}") from None
    try:
        ys = np.asarray(labels)
    except ValueError as error:  # ragged rows
        raise ValueError(f"{who}: labels must be numbers, one per sample: {shorten(str(error))}") from None
    if xs.ndim >= 1 and len(xs) == 0:
        raise ValueError(f"{who}: no points")
    if xs.ndim != 2:
        raise ValueError(
            f"{who}: points must have shape (n, features), got shape {xs.shape}; "
            "for one feature per point use points.reshape(-1, 1)"
        )
    if ys.ndim == 0 or len(xs) != len(ys):
        raise ValueError(f"{who}: {len(xs)} points but {ys.size if ys.ndim == 0 else len(ys)} labels")
    if ys.ndim == 2 and ys.shape[1] == 1:
        ys = ys[:, 0]  # a column, as y.reshape(-1, 1) or a one-column table gives it: one label per sample
    if ys.ndim > 2:
        raise ValueError(f"{who}: labels must have shape (n,) or (n, outputs), got shape {ys.shape}")
    if ys.dtype.kind not in "biuf":
        bad = _first_non_number(ys)
        raise ValueError(
            f"{who}: labels must be numbers, but label #{bad} is {excerpt(ys.ravel()[bad : bad + 1].tolist()[0])}; "
            "for named classes use their indices: classes, labels = np.unique(labels, return_inverse=True)"
        )
    if not np.isfinite(xs).all():
        row, column = divmod(_first_bad(xs), xs.shape[1])
        value = float(xs[row, column])
        raise ValueError(f"{who}: point #{row} has {value!r} at feature {column}; points must be finite")
    nin = getattr(model, "nin", None)
    if isinstance(nin, int) and xs.shape[1] != nin:
        raise ValueError(f"{who}: the points have {xs.shape[1]} features, but the model takes {nin} inputs")
    return xs, ys


def _first_non_number(labels: np.ndarray) -> int:
    """The first label (in ``ravel`` order) that is not an int or float: the first of all for text."""
    if labels.dtype.kind != "O":
        return 0
    for i, item in enumerate(labels.ravel().tolist()):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            return i
    return 0


def _probe(model: Module, entry: LossEntry, xs: np.ndarray, ys: np.ndarray, timed: bool) -> float | None:
    """Run the model and the loss on the first sample, as the scalar engine does, before any step.

    So both runs refuse alike, before a parameter moves: an output that does not suit the loss, a class
    index beyond the model's outputs, a loss of one's own that cannot take a minibatch or one of the
    labels. Returns the scalar engine's seconds per sample when ``timed``, else None; None too when the
    sample overflows, which the first step then reports with its epoch and step.
    """
    sample = xs[0].tolist()
    try:
        with ag.no_grad():
            output = model(sample)  # type: ignore[operator]
        entry.check_output(output)
        entry.check_classes(output, ys)
        if entry not in LOSS_TABLE:
            _check_own_loss(entry, output, ys)
        return _seconds_per_sample(model, entry, sample, ys[:1].tolist()) if timed else None
    except OverflowError:
        return None


def _check_own_loss(entry: LossEntry, output: Output, labels: np.ndarray) -> None:
    """A loss of one's own on the first sample as a minibatch of one, then on each distinct label with that
    output: TypeError if it is not given what it expects or gives no Value, its own error for a label it refuses."""
    try:
        with ag.no_grad():
            first = entry([output], labels[:1].tolist())
    except (TypeError, AttributeError) as error:
        raise TypeError(
            f"fit: the loss {entry.name!r} failed on a minibatch of one sample ({type(error).__name__}: "
            f"{shorten(str(error))}). A loss of one's own gets the whole minibatch, a list of outputs and a "
            "list of labels, and returns their mean; for a loss f of one sample pass "
            "loss=lambda outputs, labels: ag.sum([f(o, y) for o, y in zip(outputs, labels)]) / len(outputs)"
        ) from error
    if not isinstance(first, ag.Value):
        raise TypeError(
            f"fit: the loss {entry.name!r} returned {excerpt(first)}, not a Value; "
            "compute it from the outputs with Value operations so it can be differentiated"
        )
    distinct = np.unique(labels, axis=0).tolist()
    with ag.no_grad():
        entry([output] * len(distinct), distinct)


def _seconds_per_sample(model: Module, entry: LossEntry, sample: list[float], label: list[Any]) -> float:
    """The scalar engine's time for one sample's forward, loss and backward: the faster of two tries, as the
    first may pay for warming up. The parameters' gradients are put back as they were."""
    parameters = model.parameters()
    grads = [p.grad for p in parameters]
    times = []
    try:
        for _ in range(2):
            start = perf_counter()
            entry([model(sample)], label).backward()  # type: ignore[operator]
            times.append(perf_counter() - start)
    finally:
        for p, grad in zip(parameters, grads, strict=True):
            p.grad = grad
    return min(times)

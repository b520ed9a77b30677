"""``fit(compile=True)``'s run: the same training steps as the scalar run, each over the whole minibatch at once.

The per-sample code ``[loss(model(x), label), *model(x)]`` is compiled once (``autograd.compile``)
and replayed on every minibatch. With one of nn's optimizers the parameters live in one array for
the whole run: the step is the compiled forward and backward, then ``Optimizer.update`` on arrays,
so no Python loop visits the parameters until the end, when (as after any error or Ctrl-C) the
array is written back to the model's Values. Any other optimizer gets the gradients in ``.grad``
and its own ``step()``, as in ``fit``.

Plans are kept per model (:func:`kept_compiled`): a second ``fit(compile=True)``, or ``predict`` with
``compile=True``, on the same model, loss and sample shapes replays the plan the first one traced. It
traces again when the plan could be wrong, which :class:`Signature` decides:

- new sample shapes (a plan per shape, as ``autograd.compile`` keeps them);
- another loss (a plan per loss function, the last :data:`LOSSES_KEPT` of them);
- a parameter swapped, added or removed anywhere in the model (a layer replaced or appended): the
  plan reads the parameter Values it saw, so the model's ``parameters()`` must be the same objects;
- a plain setting of any module changed (an attribute that is a str, int, float, bool or None, or a
  list of them, such as a neuron's ``activation``), a module replaced by one of another class, or any
  other attribute of a module replaced by another object (a function, an array).

What it cannot see: code outside the model that the model's ``__call__`` reads (a global flag), or an
object attribute changed in place (an array's numbers). :func:`forget_plans` drops a model's plans then.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from operator import is_
from typing import Any

import numpy as np

import autograd as ag
from autograd.compiler import Compiled, Plan
from nn import loss_table
from nn.checks import shorten
from nn.loss_table import LOSS_TABLE, LossEntry
from nn.module import Module
from nn.optim import SGD, Optimizer, TrainingError
from nn.run import Schedule, Step, guarded_step

__all__ = ["CompiledRun", "Signature", "blas_threads", "choose_threads", "forget_plans", "kept_compiled", "traces"]

THREADED_WORK = 10_000_000
"""Parameters x batch from which a compiled step may use more than one BLAS thread: below it the matrix
products are too small for threads to pay (the moons network's step is as fast on one)."""

LOSSES_KEPT = 4
"""How many losses' compiled steps are kept per model before the oldest goes."""
_SETTINGS = (str, int, float, bool, type(None))


class Signature:
    """What of a model a plan depends on beyond the Values it read: the parameters, by identity and in
    order; each module's class; its plain settings (str, int, float, bool or None attributes, and lists
    of them) by value; and any other attribute (a function, an array, an object) by identity."""

    __slots__ = ("parameters", "settings", "objects")

    def __init__(self, model: Module, parameters: list[ag.Value] | None = None) -> None:
        self.parameters = model.parameters() if parameters is None else parameters
        settings: list[object] = []
        objects: list[object] = []
        stack: list[Any] = [model]
        seen: set[int] = set()
        while stack:  # the module tree, iteratively: a deep or self-referring model is walked once
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if not isinstance(item, Module):  # a list or tuple of modules or Values
                stack.extend(v for v in item if isinstance(v, (Module, list, tuple)))
                continue
            settings.append(type(item))
            for key, value in vars(item).items():
                if type(value) in _SETTINGS:
                    settings.append((key, value))
                elif isinstance(value, (list, tuple)) and all(type(v) in _SETTINGS for v in value):
                    settings.append((key, tuple(value)))  # sizes, names: by value, as they may change in place
                elif isinstance(value, (Module, list, tuple)):
                    stack.append(value)
                elif not isinstance(value, ag.Value):  # parameters are compared above
                    objects.append(value)
        self.settings, self.objects = tuple(settings), tuple(objects)

    def matches(self, other: Signature) -> bool:
        """The same parameter Values in the same order, equal settings, the same other objects."""
        mine, theirs = self.parameters, other.parameters
        return (
            len(mine) == len(theirs) and all(map(is_, mine, theirs)) and self.settings == other.settings
            and len(self.objects) == len(other.objects) and all(map(is_, self.objects, other.objects))
        )  # fmt: skip


def choose_threads(parameters: int, batch: int) -> int:
    """BLAS threads for a compiled run: 1 for small matrix products (parameters x batch below
    :data:`THREADED_WORK`), else numpy's count capped at the cores no other process is using.

    Free cores = cores - (1-minute load average - 1): the run's own process counts for one. Measured on a
    2-core VM (``benchmarks/threads.py``): idle, two threads are up to 1.2x faster on 784-300-100-10; with
    the other core busy, two are 1.1-3x slower (6x in an epoch of notebook 8), so where the load cannot be
    read the choice is one.
    """
    if parameters * batch < THREADED_WORK:
        return 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows, or a system that does not say
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    try:
        from threadpoolctl import threadpool_info  # a dependency; imported here so that nn imports without it
    except ImportError:  # a platform it was left out on (Pyodide): numpy's BLAS, if any, as it is
        return 1
    default = max((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1)
    free = int(cores - max(0.0, load - 1.0))
    return max(1, min(default, free))


def blas_threads(count: int | None) -> AbstractContextManager[object]:
    """numpy's BLAS limited to ``count`` threads inside the block and restored after it; None leaves it as it is."""
    if count is None:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # as in choose_threads: nothing to limit with
        return nullcontext()
    limits: AbstractContextManager[object] = threadpool_limits(limits=count, user_api="blas")
    return limits


class _Kept:
    """One model's compiled functions, by what they compute (a loss, or the forward pass)."""

    __slots__ = ("signature", "compiled", "traces")

    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        self.compiled: dict[object, Compiled] = {}
        self.traces = 0  # of the compiled functions dropped, for traces()


_KEPT: dict[int, _Kept] = {}  # by id(model); an entry goes when its model is collected (weakref.finalize)


def kept_compiled(
    model: Module, key: object, make: Callable[[], Compiled], parameters: list[ag.Value] | None = None
) -> Compiled:
    """The compiled function kept for ``model`` under ``key``, made by ``make`` if there is none, or if the
    model changed in a way its plans cannot see (see the module docstring), in which case all of the
    model's plans go. ``make``'s function must not hold the model strongly, or the model would never go.
    ``parameters``: ``model.parameters()`` if the caller has them (a large model's walk takes a while)."""
    signature = Signature(model, parameters)
    kept = _KEPT.get(id(model))
    if kept is None:
        kept = _KEPT[id(model)] = _Kept(signature)
        weakref.finalize(model, _KEPT.pop, id(model), None)
    elif not kept.signature.matches(signature):
        kept.traces += sum(c.traces for c in kept.compiled.values())
        kept.compiled.clear()
        kept.signature = signature
    compiled = kept.compiled.get(key)
    if compiled is None:
        if len(kept.compiled) >= LOSSES_KEPT:
            oldest = next(iter(kept.compiled))
            kept.traces += kept.compiled.pop(oldest).traces
        compiled = kept.compiled[key] = make()
    return compiled


def traces(model: Module) -> int:
    """How many times ``fit`` and ``predict`` with ``compile=True`` have traced ``model`` (0 if never)."""
    kept = _KEPT.get(id(model))
    return 0 if kept is None else kept.traces + sum(c.traces for c in kept.compiled.values())


def forget_plans(model: Module) -> None:
    """Drop the plans kept for ``model``: the next compiled run traces it again."""
    kept = _KEPT.get(id(model))
    if kept is not None:
        kept.traces += sum(c.traces for c in kept.compiled.values())
        kept.compiled.clear()


class _Weakly:
    """Holds the model weakly, so that the plans kept for it do not keep it alive."""

    __slots__ = ("model",)

    def __init__(self, model: Module) -> None:
        self.model = weakref.ref(model)

    def _model(self) -> Any:
        model = self.model()
        if model is None:  # only a plan kept past its model could call this: kept_compiled drops them first
            raise ReferenceError("fit(compile=True): the model of this compiled step no longer exists")
        return model


class PerSample(_Weakly):
    """``[loss(model(x), label), *model(x)]`` for one sample: what ``fit(compile=True)`` compiles."""

    __slots__ = ("entry",)

    def __init__(self, model: Module, entry: LossEntry) -> None:
        super().__init__(model)
        self.entry = entry

    def __call__(self, x: Any, label: Any) -> list[ag.Value]:
        output = self._model()(x)
        self.entry.check_output(output)
        outputs = output if isinstance(output, list) else [output]
        loss = self.entry.function([output], [label])
        return [loss, *outputs]


class Forward(_Weakly):
    """``model(x)`` for one sample: what ``predict(compile=True)`` compiles."""

    __slots__ = ()

    def __call__(self, x: Any) -> Any:
        return self._model()(x)


def _native(optimizer: Optimizer) -> bool:
    """Whether the optimizer's step is exactly its ``update`` rule on arrays (nn's SGD and Adam, unchanged)."""
    kind = type(optimizer)
    return (
        kind.update is not Optimizer.update
        and kind.updates is Optimizer.updates
        and kind.step is Optimizer.step
        and "step" not in vars(optimizer)  # not replaced on the instance
    )


# The table's label rules over a whole array of numbers at once: the same floats as the rule applied to each
# label (a NaN is not > 0 either way), without a Python call per label.
_VECTORISED: dict[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray]] = {
    loss_table._sign: lambda y: np.where(y > 0, 1.0, -1.0),
    loss_table._zero_one: lambda y: np.where(y > 0, 1.0, 0.0),
    loss_table._listed: lambda y: y.astype(float),
    loss_table._unchanged: lambda y: y.astype(float),
}


def _labels(entry: LossEntry, batch_y: np.ndarray) -> np.ndarray:
    """``np.array([entry.label(y) for y in batch_y], dtype=float)``, in one numpy pass where the rule is one of
    the table's and the labels are numbers. A class index must be a finite whole number (_class_index refuses
    1.7 with its own error, which the loop below raises)."""
    rule = entry.label
    # A classifier's rules take one number per label: a row of a 2-D array goes to the loop, which refuses it.
    per_number = rule not in (loss_table._listed, loss_table._unchanged)
    if isinstance(batch_y, np.ndarray) and batch_y.dtype.kind in "biuf" and (batch_y.ndim == 1 or not per_number):
        vectorised = _VECTORISED.get(rule)
        if vectorised is not None:
            return vectorised(batch_y)
        if rule is loss_table._class_index and (batch_y.dtype.kind != "f" or bool(np.isfinite(batch_y).all() and
                                                (batch_y == np.floor(batch_y)).all())):  # fmt: skip
            return batch_y.astype(float)
    return np.array([rule(y) for y in batch_y], dtype=float)


def _mean(losses: np.ndarray) -> float:
    """The mean of the per-sample losses, summed exactly; ±inf or NaN (for the caller to refuse) where the sum
    leaves the floats, as the scalar run's sum then does, never an OverflowError or ValueError of ``fsum``."""
    try:
        return math.fsum(losses.tolist()) / len(losses)
    except (OverflowError, ValueError):  # 1e308 + 1e308, or inf + -inf
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.sum(losses)) / len(losses)


class CompiledRun:
    """A :class:`nn.run.TrainingRun` that replays one compiled per-sample step over each whole minibatch.

    With a native optimizer the parameters live in ``values`` (the optimizer's order) between
    ``reload_model`` and ``sync_model``; the model's Values are stale in between.
    """

    def __init__(self, model: Module, entry: LossEntry, optimizer: Optimizer, schedule: Schedule, l2: float) -> None:
        self.model, self.entry, self.optimizer, self.schedule, self.l2 = model, entry, optimizer, schedule, l2
        self.parameters = model.parameters()
        self.count = 0  # steps taken, for error messages
        self.compiled: Compiled = kept_compiled(
            model, ("fit", entry.function), lambda: ag.compile(PerSample(model, entry), reduce=None), self.parameters
        )
        self.native = _native(optimizer)
        # The run's parameters: one array in the optimizer's order, and each model parameter's row in it
        # (-1: not trained). A foreign optimizer moves the Values themselves: no array, no rows.
        trained = optimizer.parameters if self.native else []
        self.values = np.array([p.data for p in trained], dtype=float)
        self.grads = np.zeros(len(self.values))
        # nn's SGD (its own update rule, not a subclass's) writes the new values into this array, the values of
        # the step before last, which only this run holds: no new array of every parameter each step.
        self.spare: np.ndarray | None = None
        if self.native and type(optimizer).update is SGD.update:
            self.spare = np.empty_like(self.values)
        self.row_of = {id(p): i for i, p in enumerate(trained)}  # by id: a parameter's row in ``values``
        self.model_rows = np.array([self.row_of.get(id(p), -1) for p in self.parameters], dtype=np.intp)
        self.trained_rows = self.model_rows[self.model_rows >= 0]  # the rows l2 pulls towards 0
        # Whether the model's parameters are ``values`` row for row (nn's optimizers made from model.parameters()):
        # then l2 reads and adds to ``values`` whole, without gathering the rows.
        self.model_is_values = bool(np.array_equal(self.model_rows, np.arange(len(self.values))))
        # The plan being replayed and how its leaves map onto ``values``: set by _adopt for each new plan.
        self.plan: Plan | None = None
        self.leaf_rows = np.zeros(0, dtype=np.intp)  # each leaf's row in ``values``, -1 for a non-parameter
        self.moved = np.zeros(0, dtype=bool)  # which leaves the optimizer moves (their rows are >= 0)
        # The leaves it does not move are read from their Values at every step, as the scalar run reads
        # them: a callback or a schedule may change an untrained parameter between steps.
        self.unmoved: list[ag.Value] = []
        self.identity = False  # whether the leaves are ``values`` itself, row for row

    def step(self, batch_x: np.ndarray, batch_y: np.ndarray, epoch: int) -> Step:
        """One minibatch: (its mean loss, its scores or None), with the parameters then moved."""
        self.count += 1
        step = self.count
        labels = _labels(self.entry, batch_y)  # as the loss takes them: bce's 0/1
        if step == 1 and self.entry not in LOSS_TABLE:
            self._check_mean(batch_x, batch_y)
        try:  # tracing runs the per-sample code on the first sample, so it may overflow as a replay may
            # PerSample reads only its own model and loss, which kept_compiled checked for this run.
            evaluation = self.compiled.evaluate(batch_x, labels, leaves=self._leaves_of, same_objects=True)
            plan = evaluation.plan
        except OverflowError as error:
            raise TrainingError.in_step(epoch, step, f"the loss overflowed ({shorten(str(error))})") from error
        per_sample = evaluation.outputs[:, 0]
        loss = _mean(per_sample)
        if self.l2:
            values = self._model_values()
            loss += self.l2 * float(values @ values)
        if not math.isfinite(loss):
            raise TrainingError.in_step(epoch, step, f"the loss is {loss!r}")
        seed = np.zeros(evaluation.outputs.shape)
        seed[:, 0] = 1.0 / len(per_sample)
        leaf_grads = evaluation.gradients(seed)[: len(plan.leaves)]  # the leaves' (then any outer nodes')
        if self.native:
            self._native_step(leaf_grads, epoch, step)
        else:
            self._foreign_step(leaf_grads, epoch, step)
        if self.schedule is not None:
            self.schedule.step()
        return loss, self._scores(evaluation.outputs[:, 1:])

    def _scores(self, outputs: np.ndarray) -> np.ndarray | None:
        """The outputs in the scalar run's form: a column per class for a loss on a list, else one number a sample."""
        if not self.entry.classifier:
            return None
        # Decided by the loss, not the width: a list of one output is a row of one class score.
        return outputs if self.entry.outputs == "per_class" else outputs[:, 0]

    def _check_mean(self, batch_x: np.ndarray, batch_y: np.ndarray) -> None:
        """A loss of one's own must be a mean over samples, as the compiled step assumes: check on three.

        The labels are given as the scalar run gives them (plain ints stay ints), so a loss that takes
        them there takes them here."""
        count = min(len(batch_x), 3)
        if count < 2:
            return
        with ag.no_grad():
            outputs = [self.model(row.tolist()) for row in batch_x[:count]]  # type: ignore[operator]
            wanted = batch_y[:count].tolist()
            together = float(self.entry(outputs, wanted))
            alone = [float(self.entry([o], [y])) for o, y in zip(outputs, wanted, strict=True)]
        mean = math.fsum(alone) / count
        if not math.isclose(together, mean, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(
                f"fit(compile=True): the loss {self.entry.name!r} of {count} samples together is {together!r}, but "
                f"the mean of their losses one at a time is {mean!r}. A compiled step averages per-sample losses: "
                "make the loss a mean over the batch (divide a sum by its length), or use compile=False"
            )

    def _model_values(self) -> np.ndarray:
        """The model's parameters as they stand in this run (an optimizer may train only some of them)."""
        if not self.native:
            return np.array([p.data for p in self.parameters])
        if self.model_is_values:
            return self.values
        moved = self.model_rows >= 0
        if moved.all():
            return np.asarray(self.values[self.model_rows])
        values = np.array([p.data for p in self.parameters])
        values[moved] = self.values[self.model_rows[moved]]
        return values

    def _adopt(self, plan: Plan) -> None:
        """Map the plan's leaves to the run's parameter array; the rest are read from their Values each step."""
        self.plan = plan
        if self.native:
            rows = np.array([self.row_of.get(id(leaf), -1) for leaf in plan.leaves], dtype=np.intp)
            self.leaf_rows, self.moved = rows, rows >= 0
            self.unmoved = [leaf for leaf, row in zip(plan.leaves, rows.tolist(), strict=True) if row < 0]
            self.identity = len(rows) == len(self.values) and bool((rows == np.arange(len(rows))).all())

    def _leaves_of(self, plan: Plan) -> np.ndarray:
        """Every leaf's value for this step: the trained ones from ``values``, the others as their Values stand."""
        if plan is not self.plan:  # traced at this call (the first step, or new shapes)
            self._adopt(plan)
        if not self.native:
            return np.fromiter((leaf.data for leaf in plan.leaves), dtype=float, count=len(plan.leaves))
        if self.identity:
            return np.asarray(self.values)
        leaves = np.empty(len(plan.leaves))
        leaves[self.moved] = self.values[self.leaf_rows[self.moved]]
        leaves[~self.moved] = np.fromiter((leaf.data for leaf in self.unmoved), dtype=float, count=len(self.unmoved))
        return leaves

    def _native_step(self, leaf_grads: np.ndarray, epoch: int, step: int) -> None:
        if self.identity:
            grads = leaf_grads
        else:
            grads = np.zeros(len(self.values))
            np.add.at(grads, self.leaf_rows[self.moved], leaf_grads[self.moved])
        if self.l2:  # d(l2 * sum p**2)/dp = 2 l2 p, for the model's parameters
            if self.model_is_values:  # the same sums as below, element for element
                grads = grads + 2.0 * self.l2 * self.values
            else:
                rows = self.trained_rows
                grads = grads.copy()
                grads[rows] += 2.0 * self.l2 * self.values[rows]
        spare = self.spare
        with np.errstate(over="ignore", invalid="ignore"):  # a non-finite result is refused just below
            if spare is not None and spare is not self.values and spare is not grads:
                new, state = self.optimizer.update(self.values, grads, out=spare)  # type: ignore[call-arg]
            else:
                new, state = self.optimizer.update(self.values, grads)
            # The sum is finite where every value is (one pass, no array of flags); only a sum that is not, which
            # finite values that overflow it can also make, has the values looked at one by one.
            finite = math.isfinite(np.add.reduce(new)) or bool(np.isfinite(new).all())
        if not finite:
            bad = int(np.flatnonzero(~np.isfinite(new))[0])
            raise TrainingError(
                f"fit: epoch {epoch}, step {step}: {type(self.optimizer).__name__}: the step would make parameter "
                f"#{bad} {float(new[bad])!r} (value {float(self.values[bad])!r}, gradient {float(grads[bad])!r}); "
                "no parameter was changed",
                epoch, step,
            )  # fmt: skip
        if new is spare:  # the values before this step are the next one's spare (checked above not to alias)
            self.spare = self.values
        self.values, self.grads = new, grads  # one assignment each: an interrupt leaves the last whole step
        self.optimizer.commit(state)

    def _foreign_step(self, leaf_grads: np.ndarray, epoch: int, step: int) -> None:
        assert self.plan is not None
        self.optimizer.zero_grad()
        for p in self.parameters:
            p.grad = 0.0
        for leaf, g in zip(self.plan.leaves, leaf_grads.tolist(), strict=True):
            leaf.grad += g
        if self.l2:
            for p in self.parameters:
                p.grad += 2.0 * self.l2 * p.data
        guarded_step(self.optimizer, self.parameters, epoch, step)

    def reload_model(self) -> None:
        """Take the parameters from the model's Values again, after a callback that may have changed them."""
        if self.native:
            self.values = np.array([p.data for p in self.optimizer.parameters])

    def sync_model(self) -> None:
        """Write the run's parameters and last gradients to the model's Values (before the callback, and at the end)."""
        if self.native:
            values, grads = self.values.tolist(), self.grads.tolist()
            for p, value, grad in zip(self.optimizer.parameters, values, grads, strict=True):
                p.data, p.grad = value, grad

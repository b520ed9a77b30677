"""Optimizers (SGD with momentum, Adam) and learning-rate schedules.

Every setting is checked when the object is made: a NaN, an infinity or a number out of range is
refused with a ValueError naming the setting and the value. A step is all-or-nothing: the new
values are computed first and assigned only if every one is finite; otherwise :class:`TrainingError`
is raised and the parameters and the optimizer's state stay as they were.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from autograd import Value
from nn.checks import check_count, check_number, excerpt
from nn.module import Module


class TrainingError(FloatingPointError):
    """Training produced a non-finite loss or parameter; the parameters keep their last finite values.

    ``epoch`` and ``step`` (both counted from 1) say where, when ``fit`` raised it; otherwise they are None.
    """

    def __init__(self, message: str, epoch: int | None = None, step: int | None = None) -> None:
        super().__init__(message)
        self.epoch, self.step = epoch, step

    @classmethod
    def in_step(cls, epoch: int, step: int, problem: str) -> TrainingError:
        """The error ``fit`` raises when a step goes wrong before any parameter moved."""
        message = f"fit: epoch {epoch}, step {step}: {problem}; the parameters keep their values from before this step"
        return cls(message, epoch, step)


class TrainingWarning(UserWarning):
    """Training runs but is going nowhere, or will take very long: the message names the likely cause and the setting.

    ``fit`` gives at most one about the loss (exploding, or stuck at the loss of guessing) and one about
    a run expected to take more than a minute. ``warnings.simplefilter("ignore", nn.TrainingWarning)`` silences them.
    """


def _check_rate(lr: object, who: str) -> float:
    """A learning rate: a finite number > 0 (not NaN, not infinite)."""
    try:
        return check_number(lr, who, minimum=0.0, strict=True)
    except ValueError:
        raise ValueError(f"{who}: the learning rate must be a positive number, got {excerpt(lr)}") from None


def _check_fraction(value: object, name: str, who: str) -> float:
    return check_number(value, f"{who}: {name}", minimum=0.0, below=1.0)


class Optimizer:
    """Holds the parameters and the learning rate ``lr`` (which a schedule may change).

    The parameters must be Values with finite data; a Value passed twice is kept once, so it moves
    once per step. Subclasses implement :meth:`update`, the rule on arrays (which ``fit(compile=True)``
    runs on parameters held in one array), or :meth:`updates`; :meth:`step` applies them all or none.
    """

    def __init__(self, parameters: Iterable[Value], lr: float) -> None:
        who = type(self).__name__
        try:
            given = list(parameters)
        except TypeError:
            hint = "; pass model.parameters()" if isinstance(parameters, Module) else ""
            given_text = excerpt(parameters)
            raise TypeError(f"{who}: parameters must be an iterable of Values, got {given_text}{hint}") from None
        unique: dict[int, Value] = {}
        for i, p in enumerate(given):
            if not isinstance(p, Value):
                raise TypeError(f"{who}: parameters must be Values, but parameter #{i} is {excerpt(p)}")
            if not math.isfinite(p.data):
                raise ValueError(f"{who}: parameter #{i} is {p.data!r}; parameters must be finite")
            unique.setdefault(id(p), p)
        if not unique:
            raise ValueError(f"{who}: no parameters to optimise")
        self.parameters = list(unique.values())
        self.lr = _check_rate(lr, who)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0."""
        for p in self.parameters:
            p.grad = 0.0

    def update(self, values: np.ndarray, grads: np.ndarray) -> tuple[np.ndarray, object]:
        """The rule on arrays: new values from the parameters' ``values`` and ``grads`` (in the order of
        ``self.parameters``), and the optimizer's new state (given to :meth:`commit`). Changes nothing."""
        raise NotImplementedError(f"{type(self).__name__} implements neither update() nor updates()")

    def updates(self) -> tuple[list[float], object]:
        """The parameters' new values, and the optimizer's new state (given to :meth:`commit`)."""
        values = np.array([p.data for p in self.parameters])
        grads = np.array([p.grad for p in self.parameters])
        with np.errstate(over="ignore", invalid="ignore"):  # a non-finite result is refused by step()
            new, state = self.update(values, grads)
        return new.tolist(), state

    def commit(self, state: object) -> None:
        """Keep the state that :meth:`updates` computed (called only once the new values are in place)."""

    def step(self) -> None:
        """Move every parameter, all or nothing.

        Raises TrainingError (and changes nothing) if any new value would be NaN or infinite. An
        interrupt while the values are assigned puts the old ones back before it propagates.
        """
        new, state = self.updates()
        finite = np.isfinite(new)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            p = self.parameters[bad]
            raise TrainingError(
                f"{type(self).__name__}: the step would make parameter #{bad} {new[bad]!r} "
                f"(value {p.data!r}, gradient {p.grad!r}); no parameter was changed"
            )
        old = [p.data for p in self.parameters]
        try:
            for p, x in zip(self.parameters, new, strict=True):
                p.data = x
        except BaseException:
            for p, x in zip(self.parameters, old, strict=True):
                p.data = x
            raise
        self.commit(state)


class SGD(Optimizer):
    """v = momentum * v + (grad + weight_decay * p);  p -= lr * v.

    With momentum 0 this is plain gradient descent, p -= lr * grad. ``lr`` must be finite and > 0,
    ``momentum`` in [0, 1), ``weight_decay`` finite and >= 0.
    """

    def __init__(
        self, parameters: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(parameters, lr)
        self.momentum = _check_fraction(momentum, "momentum", "SGD")
        self.weight_decay = check_number(weight_decay, "SGD: weight_decay", minimum=0.0)
        self.velocity = np.zeros(len(self.parameters))

    def update(
        self, values: np.ndarray, grads: np.ndarray, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, object]:
        """p - lr * v for every parameter, and the new velocities.

        ``out``: an array of the values' shape, neither ``values`` nor ``grads``, to write the new values
        into (``fit(compile=True)`` passes the array of the step before last, which it owns): the same
        numbers as a new array, p - (lr * v), without allocating two arrays of every parameter each step.
        """
        velocity = grads if self.momentum == 0.0 else self.momentum * self.velocity + grads
        if self.weight_decay:  # skipped when 0, as adding 0 * p would change nothing but the time
            velocity = velocity + self.weight_decay * values
        if out is None:
            return values - self.lr * velocity, velocity
        np.multiply(velocity, self.lr, out=out)  # lr * v, as above (a product is the same either way round)
        return np.subtract(values, out, out=out), velocity

    def commit(self, state: object) -> None:
        """Keep the new velocities."""
        assert isinstance(state, np.ndarray)
        self.velocity = state


class Adam(Optimizer):
    """Adam: m and v are running means of grad and grad**2, bias-corrected; p -= lr * m̂ / (sqrt(v̂) + eps).

    ``lr`` and ``eps`` must be finite and > 0, both ``betas`` in [0, 1), ``weight_decay`` finite and >= 0.
    """

    def __init__(
        self,
        parameters: Iterable[Value],
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr)
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair of numbers in [0, 1), got {excerpt(betas)}")
        self.beta1 = _check_fraction(betas[0], "betas[0]", "Adam")
        self.beta2 = _check_fraction(betas[1], "betas[1]", "Adam")
        self.eps = check_number(eps, "Adam: eps", minimum=0.0, strict=True)
        self.weight_decay = check_number(weight_decay, "Adam: weight_decay", minimum=0.0)
        self.m = np.zeros(len(self.parameters))
        self.v = np.zeros(len(self.parameters))
        self.steps = 0

    def update(self, values: np.ndarray, grads: np.ndarray) -> tuple[np.ndarray, object]:
        """The new values, and the new running means (m, v) with the step count."""
        steps = self.steps + 1
        b1, b2, lr, eps = self.beta1, self.beta2, self.lr, self.eps
        correction1, correction2 = 1 - b1**steps, 1 - b2**steps
        g = grads + self.weight_decay * values if self.weight_decay else grads
        m = b1 * self.m + (1 - b1) * g
        v = b2 * self.v + (1 - b2) * g * g
        return values - lr * (m / correction1) / (np.sqrt(v / correction2) + eps), (m, v, steps)

    def commit(self, state: object) -> None:
        """Keep the new running means and step count."""
        assert isinstance(state, tuple)
        self.m, self.v, self.steps = state


def _check_optimizer(optimizer: object, who: str) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{who}: optimizer must be an nn Optimizer (SGD, Adam), got {excerpt(optimizer)}")
    return optimizer


class StepLR:
    """Multiply the optimizer's learning rate by ``gamma`` every ``step_size`` calls of :meth:`step`.

    ``step_size`` is a positive int, ``gamma`` a finite number > 0.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.optimizer = _check_optimizer(optimizer, "StepLR")
        self.step_size = check_count(step_size, "StepLR: step_size")
        self.gamma = check_number(gamma, "StepLR: gamma", minimum=0.0, strict=True)
        self.initial, self.count = optimizer.lr, 0

    def step(self) -> None:
        """Count one step and set the learning rate (kept above 0 and finite)."""
        self.count += 1
        try:
            lr = self.initial * self.gamma ** (self.count // self.step_size)
        except OverflowError:
            lr = math.inf
        if not 0 < float(lr) < math.inf:
            raise TrainingError(f"StepLR: after {self.count} steps the learning rate would be {lr!r}")
        self.optimizer.lr = lr


class LinearDecay:
    """lr = start + (end - start) * k / steps after k calls of :meth:`step`, then ``end``.

    micrograd's demo uses start 1.0, end 0.1, steps 100: lr = 1.0 - 0.9 k / 100. ``start`` and ``end``
    must be finite and > 0, ``steps`` a positive int.
    """

    def __init__(self, optimizer: Optimizer, start: float, end: float, steps: int) -> None:
        self.optimizer = _check_optimizer(optimizer, "LinearDecay")
        self.steps = check_count(steps, "LinearDecay: steps")
        self.start = _check_rate(start, "LinearDecay: start")
        self.end = _check_rate(end, "LinearDecay: end")
        self.count = 0
        optimizer.lr = self.start

    def step(self) -> None:
        """Count one step and set the learning rate."""
        self.count += 1
        fraction = min(self.count / self.steps, 1.0)
        self.optimizer.lr = self.start + (self.end - self.start) * fraction

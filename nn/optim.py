"""Optimizers (SGD with momentum, Adam) and learning-rate schedules."""

from __future__ import annotations

import math
from collections.abc import Iterable

from autograd import Value
from nn.checks import check_count


def _check_rate(lr: float, who: str) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"{who}: the learning rate must be a positive number, got {lr!r}")
    return float(lr)


def _check_fraction(value: float, name: str, who: str) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{who}: {name} must lie in [0, 1), got {value!r}")
    return float(value)


class Optimizer:
    """Holds the parameters and the learning rate ``lr`` (which a schedule may change)."""

    def __init__(self, parameters: Iterable[Value], lr: float) -> None:
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError(f"{type(self).__name__}: no parameters to optimise")
        if not all(isinstance(p, Value) for p in self.parameters):
            raise TypeError(f"{type(self).__name__}: parameters must be Values")
        self.lr = _check_rate(lr, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0."""
        for p in self.parameters:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """v = momentum * v + (grad + weight_decay * p);  p -= lr * v.

    With momentum 0 this is plain gradient descent, p -= lr * grad.
    """

    def __init__(
        self, parameters: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(parameters, lr)
        self.momentum = _check_fraction(momentum, "momentum", "SGD")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)
        self.velocity = [0.0] * len(self.parameters)

    def step(self) -> None:
        for i, p in enumerate(self.parameters):
            v = self.momentum * self.velocity[i] + p.grad + self.weight_decay * p.data
            self.velocity[i] = v
            p.data -= self.lr * v


class Adam(Optimizer):
    """Adam: m and v are running means of grad and grad**2, bias-corrected; p -= lr * m̂ / (sqrt(v̂) + eps)."""

    def __init__(
        self,
        parameters: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr)
        self.beta1 = _check_fraction(betas[0], "betas[0]", "Adam")
        self.beta2 = _check_fraction(betas[1], "betas[1]", "Adam")
        if eps <= 0:
            raise ValueError(f"Adam: eps must be positive, got {eps!r}")
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.m = [0.0] * len(self.parameters)
        self.v = [0.0] * len(self.parameters)
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        correction1 = 1 - self.beta1**self.steps
        correction2 = 1 - self.beta2**self.steps
        for i, p in enumerate(self.parameters):
            g = p.grad + self.weight_decay * p.data
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            p.data -= self.lr * (self.m[i] / correction1) / (math.sqrt(self.v[i] / correction2) + self.eps)


class StepLR:
    """Multiply the optimizer's learning rate by ``gamma`` every ``step_size`` calls of :meth:`step`."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        step_size = check_count(step_size, "StepLR: step_size")
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.initial, self.count = optimizer.lr, 0

    def step(self) -> None:
        self.count += 1
        self.optimizer.lr = self.initial * self.gamma ** (self.count // self.step_size)


class LinearDecay:
    """lr = start + (end - start) * k / steps after k calls of :meth:`step`, then ``end``.

    micrograd's demo uses start 1.0, end 0.1, steps 100: lr = 1.0 - 0.9 k / 100.
    """

    def __init__(self, optimizer: Optimizer, start: float, end: float, steps: int) -> None:
        steps = check_count(steps, "LinearDecay: steps")
        _check_rate(start, "LinearDecay start")
        _check_rate(end, "LinearDecay end")
        self.optimizer, self.start, self.end, self.steps = optimizer, start, end, steps
        self.count = 0
        optimizer.lr = start

    def step(self) -> None:
        self.count += 1
        fraction = min(self.count / self.steps, 1.0)
        self.optimizer.lr = self.start + (self.end - self.start) * fraction

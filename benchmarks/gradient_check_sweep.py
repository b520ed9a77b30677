"""How often the gradient checks fail on correct code: random MLPs, losses, scales and smooth functions.

Run: python benchmarks/gradient_check_sweep.py
Every model and function here is correct, so every failure printed is a false alarm of the checks.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import autograd as ag
import nn
from autograd import Value

FUNCTIONS: list[Callable[[Value, Value], Value]] = [
    lambda x, y: (x * y).tanh() + x.exp(),
    lambda x, y: (x * x + y * y).sqrt(),
    lambda x, y: x.sigmoid() * y.softplus(),
    lambda x, y: (x - y) ** 3 / (1 + y * y),
    lambda x, y: ag.log(1 + x * x) * y.cos(),
]


def random_model_loss(rng: random.Random, trial: int) -> tuple[nn.MLP, Value]:
    kind = rng.choice(["mse", "cross_entropy", "hinge", "bce"])
    outputs = 3 if kind == "cross_entropy" else 1
    hidden = [rng.randint(2, 8) for _ in range(rng.randint(1, 2))]
    model = nn.MLP(3, [*hidden, outputs], activation=rng.choice(["relu", "tanh", "sigmoid", "leaky_relu"]),
                   init=rng.choice(["uniform", "he"]), seed=trial)  # fmt: skip
    scale = rng.choice([0.1, 1.0, 10.0, 30.0])
    points = [[rng.gauss(0.0, scale) for _ in range(3)] for _ in range(rng.randint(1, 8))]
    scores: list[Any] = [model(p) for p in points]
    if kind == "mse":
        loss = nn.mse(scores, [rng.random() for _ in points])
    elif kind == "cross_entropy":
        loss = nn.cross_entropy(scores, [rng.randrange(3) for _ in points])
    elif kind == "hinge":
        loss = nn.hinge(scores, [rng.choice([-1.0, 1.0]) for _ in points])
    else:
        loss = nn.binary_cross_entropy_with_logits(scores, [rng.choice([0.0, 1.0]) for _ in points])
    return model, loss + nn.l2(model.parameters(), 1e-3)


def main() -> None:
    rng = random.Random(0)
    start, failed = time.perf_counter(), 0
    models = 200
    for trial in range(models):
        model, loss = random_model_loss(rng, trial)
        report = ag.check_parameters(loss, model)
        if not report.passed:
            failed += 1
            print(report)
    print(f"models: {failed} of {models} failed ({time.perf_counter() - start:.1f} s)")
    start, failed, functions = time.perf_counter(), 0, 400
    for _ in range(functions):
        f = rng.choice(FUNCTIONS)
        x, y = rng.gauss(0.0, rng.choice([0.01, 1.0, 5.0])), rng.gauss(0.0, 2.0)
        report = ag.gradcheck(f, x, y, order=rng.choice([1, 2]))
        if not report.passed:
            failed += 1
            print(report)
    print(f"functions: {failed} of {functions} failed ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()

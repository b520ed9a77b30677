"""micrograd's own Neuron/Layer/MLP code, compiled, against nn.MLP compiled: the same step, in one run.

Run: python benchmarks/micrograd_code.py  [--sizes 784 300 100 10] [--batch 100] [--runs 5] [--threads 1]

micrograd's nn.py is copied below as micrograd writes it (a neuron is ``sum((wi*xi ...), self.b)``), on
chainrule's Values. Both models get the same weights; each step is the compiled forward and backward of
softmax cross-entropy over a batch, then SGD on the parameter array (what ``fit(compile=True)`` does).
Each run times --steps steps (their median); the table shows the median over --runs runs and the range,
and the ratio is of the two models' figures in the same run. Memory: tracemalloc's peak during one step,
against the activations (every step's output, batch x width x 8 bytes). Prints figures only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

import autograd as ag
import nn
from autograd import Value
from autograd.compiler import Compiled, Plan


class Neuron:
    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: list[Any]) -> Any:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # noqa: B905  (micrograd's line)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]  # noqa: RUF005  (micrograd's line)


class Layer:
    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: list[Any]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin: int, nouts: list[int]) -> None:
        sz = [nin] + nouts  # noqa: RUF005  (micrograd's line)
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]


def copy_weights(source: MLP, target: nn.MLP) -> None:
    """nn.MLP's neurons hold the same numbers as micrograd's (its activation is relu, its last layer linear)."""
    target.set_weights([([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons])
                        for layer in source.layers])  # fmt: skip


class Stepper:
    """One SGD step of a compiled per-sample loss on a parameter array, as fit(compile=True) takes it."""

    def __init__(self, model: Callable[[Any], Any], x: np.ndarray, labels: np.ndarray, lr: float = 0.01) -> None:
        def loss(image: Any, label: Any) -> Value:
            scores = model(image)
            total: Value = ag.logsumexp(scores) - ag.pick(scores, label)
            return total

        self.compiled: Compiled = ag.compile(loss, reduce=None)
        self.x, self.labels, self.lr = x, labels, lr
        start = time.perf_counter()
        self.plan: Plan = self.compiled.plan_for([x, labels.astype(float)])
        self.trace_seconds = time.perf_counter() - start
        self.theta = np.array([leaf.data for leaf in self.plan.leaves])

    def __call__(self) -> float:
        evaluation = self.compiled.evaluate(self.x, self.labels, leaves=self.theta)
        seed = np.full((len(self.x), 1), 1.0 / len(self.x))
        self.theta = self.theta - self.lr * evaluation.gradients(seed)[: len(self.theta)]
        return float(evaluation.outputs.mean())

    def activation_bytes(self) -> int:
        return sum(step.width for step in self.plan.steps) * len(self.x) * 8


def median_seconds(step: Callable[[], float], steps: int) -> float:
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_bytes(step: Callable[[], float]) -> int:
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def spread(values: list[float], unit: float, digits: int) -> str:
    low, middle, high = (f"{v * unit:,.{digits}f}" for v in (min(values), statistics.median(values), max(values)))
    return f"{middle} ({low}-{high})"


def threads(count: int) -> AbstractContextManager[Any]:
    if count <= 0:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    limits: AbstractContextManager[Any] = threadpool_limits(limits=count)
    return limits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[784, 300, 100, 10], help="inputs, then layers")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="runs; each figure is the median over them")
    parser.add_argument("--steps", type=int, default=10, help="steps per figure in a run (their median)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl); 0: numpy's default")
    args = parser.parse_args()
    random.seed(1337)
    data = np.random.default_rng(0)
    x = data.random((args.batch, args.sizes[0]))
    labels = data.integers(0, args.sizes[-1], size=args.batch)
    micro = MLP(args.sizes[0], args.sizes[1:])
    ours = nn.MLP(args.sizes[0], args.sizes[1:], seed=0)
    copy_weights(micro, ours)
    with threads(args.threads):
        steppers = {"micrograd's code": Stepper(micro, x, labels), "nn.MLP": Stepper(ours, x, labels)}
        first = {name: s() for name, s in steppers.items()}
        runs = [{name: median_seconds(s, args.steps) for name, s in steppers.items()} for _ in range(args.runs)]
        peaks = {name: peak_bytes(s) for name, s in steppers.items()}
    sizes = "-".join(map(str, args.sizes))
    setting = f"BLAS threads {args.threads or 'default'}; {args.runs} runs of {args.steps} steps"
    print(f"{sizes}, batch {args.batch}, {setting}")
    print("| model | plan | trace | step, median (range) | peak memory of a step | activations |")
    print("|---|---|---|---|---|---|")
    for name, stepper in steppers.items():
        plan = stepper.plan.summary().splitlines()[0].split(" (")[0]
        print(f"| {name} | {plan} | {stepper.trace_seconds:.2f} s | {spread([r[name] for r in runs], 1e3, 2)} ms "
              f"| {peaks[name] / 1e6:.1f} MB | {stepper.activation_bytes() / 1e6:.1f} MB |")  # fmt: skip
    ratios = [r["micrograd's code"] / r["nn.MLP"] for r in runs]
    print(f"micrograd's code / nn.MLP, step: {spread(ratios, 1, 2)}x (target: within 1.5x)")
    micro_loss, mlp_loss = first["micrograd's code"], first["nn.MLP"]
    print(f"first step's mean loss: {micro_loss:.12f} (micrograd's code), {mlp_loss:.12f} (nn.MLP)")


if __name__ == "__main__":
    main()

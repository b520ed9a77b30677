"""chainrule's compiled path (``autograd.compile``) against micrograd, torch and numpy written by hand.

Run: python benchmarks/compiled.py  (a few minutes; --quick: about one; --smoke: tiny sizes, seconds)
micrograd and torch are optional (pip install -e ".[bench]"; pip install torch for the CPU build):
their rows are left out without them. Prints figures only; nothing here asserts a speed, and the
"target" lines only say whether this run's figures met the project's goals.

(a) micrograd's moons demo, one training step: 100 moons, MLP 2-16-16-1 (relu), max-margin loss
    + 1e-4 L2, forward, backward and SGD update. chainrule compiled (the parameters as one array),
    compiled with the gradients written back into the Values, the scalar engine, micrograd, numpy.
(b) the tutorial's network, one training step: 784-300-100-10 (relu), softmax cross-entropy, a batch
    of 100, SGD: chainrule compiled, compiled into the Values, torch (CPU, float64), numpy.
(c) one epoch of Fashion-MNIST (60,000 images, batches of 100) with the compiled step, torch and numpy.
    Skipped with a message when the data is not installed (apt-get install dataset-fashion-mnist).
(d) tracing the network of (b): seconds, tracemalloc's peak, and the arrays the plan and one batch keep.
(e) fit(compile=True) called twice on the network of (b), one epoch of 10 batches each: the second call
    replays the plan the first traced (nn.compiled_run.traces counts the traces).

--tree name=directory (given twice or more; a ``git worktree add /tmp/before <commit>`` for an earlier
commit): instead of the sections above, the steps of (a) and (b) as ``fit(compile=True)`` takes them,
in each checkout, against numpy by hand and torch timed in the same process. Each of --runs runs starts
one process per tree, in a rotating order; a process gives the median of 5 timings of each step, the
peers' timings interleaved with the compiled step's. The table shows medians over the runs with their
range, and ratios of two figures of one process (compiled / numpy, compiled / torch) or of one run
(tree / first tree). Every process prints its first loss to 15 digits, so the trees must agree.

--bare TREE WORKLOAD N: in this process, with TREE's ``autograd`` and ``nn``, one step then N steps of the
compiled step of (a) (WORKLOAD moons) or (b) (784) and nothing else, for an instruction count that a
shared machine's load does not change. The N steps run inside one call of functools.reduce, so that
``valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce python
benchmarks/compiled.py --bare TREE moons 100`` counts them alone. TREE ``numpy``: numpy by hand, the peer.

Each time is measured --repeats times (steps faster than 50 ms are run in a loop and averaged) with
the garbage collector on; the tables give min, median and max, and every ratio is of two medians of
this run. BLAS runs on --threads threads (1 by default, for numpy and torch alike): on a shared
2-core machine more threads made the same matrix product 5x slower, not faster; --threads 0 leaves
each library its default.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import importlib
import itertools
import os
import platform
import pstats
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from compare_micrograd import micrograd_moons_stepper, moons, ours_moons_stepper, timings

import autograd as ag
import nn
from autograd.compiler import Compiled, Plan
from nn.compiled_run import CompiledRun, traces
from nn.loss_table import find_loss

try:
    import micrograd  # noqa: F401  (only whether it is there)
except ImportError:
    HAVE_MICROGRAD = False
else:
    HAVE_MICROGRAD = True

torch: Any  # imported by name, so that type checking reads the same with torch installed or not
try:
    torch = importlib.import_module("torch")
except ImportError:
    torch = None

FASHION = Path("/usr/share/datasets/fashion-mnist")
THREADS: int | None = None  # fit's threads= for the runs of fit here: --threads, or None (fit chooses) for 0
Step = Callable[[], float]  # one training step; returns its loss
Array = np.ndarray[Any, Any]


@dataclass
class Sizes:
    hidden: list[int] = field(default_factory=lambda: [300, 100])
    batch: int = 100
    epoch_images: int | None = None  # None: all of Fashion-MNIST; 0: no epoch
    synthetic_epoch: int = 0  # images of random data for the epoch when there is no data set (--smoke)


# -- timing ----------------------------------------------------------------------------------------


def seconds_per_step(step: Step, repeats: int) -> list[float]:
    """``repeats`` timings of ``step``; each runs it often enough to take 50 ms and gives the mean."""
    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    loops = max(1, min(1000, int(0.05 / max(first, 1e-9))))

    def run() -> float:
        start = time.perf_counter()
        for _ in range(loops):
            step()
        return (time.perf_counter() - start) / loops

    return timings(repeats, run)


def timed(step: Callable[[], object]) -> Step:
    """A step whose own return value is ignored: for the stepper functions that time themselves."""

    def run() -> float:
        step()
        return 0.0

    return run


@dataclass
class Row:
    engine: str
    times: list[float] | None  # None: the library is not installed
    note: str = ""

    @property
    def median(self) -> float:
        assert self.times is not None
        return statistics.median(self.times)


def show(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms" if seconds < 0.01 else f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def factor(ours: float, theirs: float) -> str:
    """How ``ours`` compares with ``theirs`` (two medians): "12x faster" or "1.8x slower"."""
    ratio = theirs / ours
    if ratio >= 1:
        return f"{ratio:,.0f}x faster" if ratio >= 100 else f"{ratio:.1f}x faster"
    return f"{1 / ratio:.1f}x slower"


def table(title: str, rows: list[Row], against: Row) -> None:
    print(f"\n{title}\n")
    print("| engine | min | median | max | compiled is |")
    print("|---|---|---|---|---|")
    for row in rows:
        if row.times is None:
            print(f"| {row.engine} | - | - | - | {row.note or 'not installed'} |")
            continue
        ratio = "-" if row is against else factor(against.median, row.median)
        low, mid, high = show(min(row.times)), show(row.median), show(max(row.times))
        print(f"| {row.engine} | {low} | {mid} | {high} | {ratio} |")


def target(text: str, met: bool | None) -> None:
    verdict = "not measured" if met is None else "met" if met else "NOT met"
    print(f"target: {text}: {verdict}")


# -- the networks in numpy, written by hand ----------------------------------------------------------


def layers_of(model: nn.MLP) -> list[tuple[Array, Array]]:
    """The weights (out, in) and biases of each layer of a chainrule MLP, as arrays."""
    return [
        (np.array([[w.data for w in n.w] for n in layer.neurons]), np.array([n.b.data for n in layer.neurons]))
        for layer in model.layers
    ]


class NumpyMLP:
    """A relu MLP with a linear last layer, its forward and backward written out, and an SGD update."""

    def __init__(self, layers: list[tuple[Array, Array]], lr: float, l2: float = 0.0) -> None:
        self.layers = [(w.copy(), b.copy()) for w, b in layers]
        self.lr, self.l2 = lr, l2

    def step(self, x: Array, head: Callable[[Array], tuple[float, Array]]) -> float:
        """One step: ``head(scores)`` gives the mean loss and its gradient with respect to the scores."""
        activations, pre = [x], []
        for i, (w, b) in enumerate(self.layers):
            z = activations[-1] @ w.T + b
            pre.append(z)
            activations.append(np.maximum(z, 0.0) if i < len(self.layers) - 1 else z)
        loss, grad = head(activations[-1])
        if self.l2:
            loss += self.l2 * sum(float(np.vdot(w, w) + np.vdot(b, b)) for w, b in self.layers)
        for i in range(len(self.layers) - 1, -1, -1):
            w, b = self.layers[i]
            if i < len(self.layers) - 1:
                grad = grad * (pre[i] > 0)
            grad_w, grad_b = grad.T @ activations[i], grad.sum(axis=0)
            if i > 0:
                grad = grad @ w
            if self.l2:
                grad_w += 2 * self.l2 * w
                grad_b += 2 * self.l2 * b
            w -= self.lr * grad_w
            b -= self.lr * grad_b
        return loss


def hinge_head(signs: Array) -> Callable[[Array], tuple[float, Array]]:
    """Mean of max(0, 1 - y s) for labels y = ±1, and its gradient."""

    def head(scores: Array) -> tuple[float, Array]:
        margins = 1.0 - signs[:, None] * scores
        grad = np.where(margins > 0, -signs[:, None], 0.0) / len(scores)
        return float(np.maximum(margins, 0.0).mean()), grad

    return head


def cross_entropy_head(labels: Array) -> Callable[[Array], tuple[float, Array]]:
    """Mean softmax cross-entropy for integer labels, and its gradient: (softmax - one-hot) / batch."""

    def head(logits: Array) -> tuple[float, Array]:
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_total = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_probabilities = shifted - log_total
        rows = np.arange(len(labels))
        grad = np.exp(log_probabilities)
        grad[rows, labels] -= 1.0
        return float(-log_probabilities[rows, labels].mean()), grad / len(labels)

    return head


# -- chainrule compiled ----------------------------------------------------------------------------


def fit_step(model: nn.MLP, loss: str, x: Array, y: Array, lr: float, l2: float = 0.0) -> Step:
    """The step ``fit(compile=True)`` repeats for each minibatch (its CompiledRun), with nn.SGD on arrays."""
    run = CompiledRun(model, find_loss(loss), nn.SGD(model.parameters(), lr=lr), None, l2)
    return lambda: run.step(x, y, 1)[0]


def fit_epochs(model: nn.MLP, loss: str, x: Array, y: Array, lr: float, l2: float, epochs: int) -> list[float]:
    """Seconds of each epoch of ``fit(compile=True)`` on (x, y) as one batch, after the first (which traces)."""
    stamps: list[float] = []

    def stamp(epoch: int, logs: dict[str, float]) -> bool:
        stamps.append(time.perf_counter())
        return False

    optimizer = nn.SGD(model.parameters(), lr=lr)
    nn.fit(model, x, y, loss=loss, optimizer=optimizer, epochs=epochs + 1, l2=l2, progress=False, callback=stamp,
           compile=True, threads=THREADS)  # fmt: skip
    return [later - earlier for earlier, later in itertools.pairwise(stamps)]


def fit_per_epoch(model: nn.MLP, loss: str, x: Array, y: Array, lr: float, l2: float, repeats: int) -> list[float]:
    """``repeats`` figures, each the mean epoch of a stretch of ``fit`` epochs lasting about 50 ms."""
    first = fit_epochs(model, loss, x, y, lr, l2, 1)[0]
    loops = max(1, min(1000, int(0.05 / max(first, 1e-9))))
    gc.collect()
    epochs = fit_epochs(model, loss, x, y, lr, l2, loops * repeats)
    return [statistics.fmean(epochs[i * loops : (i + 1) * loops]) for i in range(repeats)]


class ArrayStep:
    """A compiled training step with the parameters held as one array: forward, backward, SGD on arrays.

    The plan reads the model's parameters (``plan.leaves``) once, at the start; the Values are written
    back by :meth:`write_back` only. ``l2`` adds ``l2 * sum(p**2)`` outside the traced function.
    """

    def __init__(self, fn: Callable[..., Any], model: nn.MLP, x: Array, y: Array, lr: float, l2: float = 0.0) -> None:
        self.loss = ag.compile(fn)
        self.plan = self.loss.plan_for([x.astype(float), y.astype(float)])
        if set(map(id, self.plan.leaves)) != set(map(id, model.parameters())):
            raise RuntimeError("the traced function read Values other than the model's parameters")
        self.theta = np.array([v.data for v in self.plan.leaves])
        self.lr, self.l2 = lr, l2
        self.seeds: dict[int, Array] = {}

    def __call__(self, x: Array, y: Array) -> float:
        batch = len(x)
        seed = self.seeds.get(batch)
        if seed is None:
            seed = self.seeds[batch] = np.full((batch, 1), 1.0 / batch)
        evaluation = self.loss.evaluate(x, y, leaves=self.theta)
        grads = evaluation.gradients(seed)
        loss = float(evaluation.outputs.mean())
        if self.l2:
            loss += self.l2 * float(np.vdot(self.theta, self.theta))
            grads += 2 * self.l2 * self.theta
        self.theta -= self.lr * grads
        return loss

    def write_back(self) -> None:
        for value, number in zip(self.plan.leaves, self.theta.tolist(), strict=True):
            value.data = number


def values_step(fn: Callable[..., Any], model: nn.MLP, x: Array, y: Array, lr: float, l2: float = 0.0) -> Step:
    """The compiled loss used as a Value: backward adds into each parameter's .grad, nn.SGD steps the Values."""
    loss = ag.compile(fn)
    parameters = model.parameters()
    optimizer = nn.SGD(parameters, lr=lr)

    def step() -> float:
        result = loss(x, y)
        optimizer.zero_grad()
        result.backward()
        total = float(result.data)
        if l2:
            penalty = nn.l2(parameters, l2)
            penalty.backward()
            total += penalty.data
        optimizer.step()
        return total

    return step


# -- torch -----------------------------------------------------------------------------------------


def torch_net(layers: list[tuple[Array, Array]]) -> Any:
    """nn.Sequential of Linear and ReLU in float64, starting from ``layers``."""
    assert torch is not None
    modules: list[Any] = []
    for i, (w, b) in enumerate(layers):
        linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, torch.nn.ReLU()] if i < len(layers) - 1 else [linear]
    return torch.nn.Sequential(*modules)


def torch_step(layers: list[tuple[Array, Array]], x: Array, labels: Array, lr: float) -> Step:
    """torch's idiom: the net of :func:`torch_net`, F.cross_entropy, optim.SGD."""
    assert torch is not None
    net = torch_net(layers)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))

    def step() -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(inputs), targets)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return step


# -- (a) -------------------------------------------------------------------------------------------


def moons_section(repeats: int) -> None:
    points, signs = moons()
    x, y = np.array(points), np.array(signs)
    lr, l2 = 1.0, 1e-4

    def new_model() -> nn.MLP:
        return nn.MLP(2, [16, 16, 1], activation="relu", seed=1337)

    def hinge(sample: Any, label: Any) -> Any:
        return nn.hinge(model(sample), label)

    model = new_model()
    numpy_net = NumpyMLP(layers_of(model), lr, l2)
    head = hinge_head(y)
    step = fit_step(model, "hinge", x, y, lr, l2)
    print(f"(a) first step's loss: compiled {step():.15f}, numpy {numpy_net.step(x, head):.15f}")
    compiled = Row("chainrule compiled: the step of fit(compile=True)", seconds_per_step(step, repeats))
    model = new_model()
    fitted = Row("  fit(compile=True), one step per epoch", fit_per_epoch(model, "hinge", x, y, lr, l2, repeats))
    model = new_model()
    arrays = ArrayStep(hinge, model, x, y, lr, l2)
    bare = Row("  compile + evaluate, SGD on the array by hand", seconds_per_step(lambda: arrays(x, y), repeats))
    model = new_model()
    into_values = Row(
        "  compiled, gradients into the Values, nn.SGD",
        seconds_per_step(values_step(hinge, model, x, y, lr, l2), repeats),
    )
    _, scalar = ours_moons_stepper(points, signs)
    scalar_row = Row("chainrule scalar engine (not compiled)", timings(repeats, scalar))
    micro_row = Row("micrograd", None)
    if HAVE_MICROGRAD:
        micro_row.times = timings(repeats, micrograd_moons_stepper(points, signs)[1])
    numpy_row = Row("numpy, forward and backward by hand", seconds_per_step(lambda: numpy_net.step(x, head), repeats))
    table(
        "(a) moons training step: 100 samples, MLP 2-16-16-1 relu, hinge + 1e-4 L2, forward+backward+SGD",
        [compiled, fitted, bare, into_values, scalar_row, micro_row, numpy_row],
        compiled,
    )
    target(
        f">= 500x faster than micrograd ({factor(compiled.median, micro_row.median) if micro_row.times else '-'})",
        micro_row.median / compiled.median >= 500 if micro_row.times else None,
    )
    target(
        f"within 10x of numpy ({factor(compiled.median, numpy_row.median)})",
        compiled.median / numpy_row.median <= 10,
    )


# -- (b) -------------------------------------------------------------------------------------------


def mnist_model(sizes: Sizes) -> nn.MLP:
    return nn.MLP(784, [*sizes.hidden, 10], activation="relu", init="he", seed=0)


def cross_entropy_of(model: nn.MLP) -> Callable[[Any, Any], Any]:
    def loss(image: Any, label: Any) -> Any:
        return nn.cross_entropy(model(image), label)

    return loss


def network_section(sizes: Sizes, repeats: int) -> None:
    rng = np.random.default_rng(0)
    x, labels = rng.random((sizes.batch, 784)), rng.integers(0, 10, sizes.batch)
    lr = 0.01
    model = mnist_model(sizes)
    shape = "-".join(str(n) for n in [784, *sizes.hidden, 10])
    layers = layers_of(model)
    numpy_net = NumpyMLP(layers, lr)
    head = cross_entropy_head(labels)
    torch_train = torch_step(layers, x, labels, lr) if torch is not None else None
    step = fit_step(model, "cross_entropy", x, labels, lr)
    losses = [step(), numpy_net.step(x, head)] + ([torch_train()] if torch_train else [])
    print(f"\n(b) first step's loss: compiled, numpy, torch: {', '.join(f'{v:.15f}' for v in losses)}")

    compiled = Row("chainrule compiled: the step of fit(compile=True)", seconds_per_step(step, repeats))
    model = mnist_model(sizes)
    arrays = ArrayStep(cross_entropy_of(model), model, x, labels, lr)
    bare = Row("  compile + evaluate, SGD on the array by hand", seconds_per_step(lambda: arrays(x, labels), repeats))
    fitted = Row(
        "  fit(compile=True), one step per epoch",
        fit_per_epoch(mnist_model(sizes), "cross_entropy", x, labels, lr, 0.0, repeats),
    )
    into_values = Row(
        "  compiled, gradients into the Values, nn.SGD",
        seconds_per_step(values_step(cross_entropy_of(model), model, x, labels, lr), repeats),
    )
    torch_row = Row(f"torch {torch.__version__} float64" if torch else "torch", None)
    if torch_train is not None:
        torch_row.times = seconds_per_step(torch_train, repeats)
    numpy_row = Row("numpy, forward and backward by hand", seconds_per_step(lambda: numpy_net.step(x, head), repeats))
    table(
        f"(b) training step: {shape} relu, softmax cross-entropy, batch of {sizes.batch}, SGD",
        [compiled, bare, fitted, into_values, torch_row, numpy_row],
        compiled,
    )
    within = f"({factor(compiled.median, torch_row.median)})" if torch_row.times else "(torch not installed)"
    target(f"within 2x of torch {within}", compiled.median / torch_row.median <= 2 if torch_row.times else None)


# -- (c) -------------------------------------------------------------------------------------------


def epoch_data(sizes: Sizes) -> tuple[Array, Array, Array, Array] | None:
    if sizes.synthetic_epoch:
        rng = np.random.default_rng(1)
        n = sizes.synthetic_epoch
        return rng.random((n, 784)), rng.integers(0, 10, n), rng.random((n, 784)), rng.integers(0, 10, n)
    try:
        train_x, train_y = nn.load_mnist(FASHION)
        test_x, test_y = nn.load_mnist(FASHION, kind="t10k")
    except FileNotFoundError as error:
        print(f"\n(c) skipped: Fashion-MNIST is not installed ({error}); apt-get install dataset-fashion-mnist")
        return None
    if sizes.epoch_images:
        train_x, train_y = train_x[: sizes.epoch_images], train_y[: sizes.epoch_images]
    return train_x, train_y, test_x, test_y


def test_accuracy(layers: Sequence[tuple[Array, Array]], x: Array, labels: Array) -> float:
    for i, (w, b) in enumerate(layers):
        x = x @ w.T + b
        if i < len(layers) - 1:
            x = np.maximum(x, 0.0)
    return float((x.argmax(axis=1) == labels).mean())


def epoch_section(sizes: Sizes, repeats: int) -> None:
    data = epoch_data(sizes)
    if data is None:
        return
    train_x, train_y, test_x, test_y = data
    lr, batch = 0.05, sizes.batch
    model = mnist_model(sizes)
    initial = layers_of(model)

    def compiled_epoch() -> float:
        optimizer = nn.SGD(model.parameters(), lr=lr)
        start = time.perf_counter()
        nn.fit(model, train_x, train_y, loss="cross_entropy", optimizer=optimizer, epochs=1, batch_size=batch,
               progress=False, compile=True, threads=THREADS)  # fmt: skip  (the first call traces, later ones replay)
        return time.perf_counter() - start

    def numpy_epoch() -> float:
        net = NumpyMLP(initial, lr)
        start = time.perf_counter()
        for x, y in nn.batches(train_x, train_y, batch, seed=1):  # fit's order in its first epoch
            net.step(x, cross_entropy_head(y))
        seconds = time.perf_counter() - start
        accuracies["numpy"] = test_accuracy(net.layers, test_x, test_y)
        return seconds

    accuracies: dict[str, float] = {}
    compiled_times = []
    for _ in range(repeats):
        model = mnist_model(sizes)  # each run trains from the same start
        gc.collect()
        compiled_times.append(compiled_epoch())
    accuracies["compiled"] = test_accuracy(layers_of(model), test_x, test_y)
    compiled = Row("chainrule fit(compile=True), the call (tracing included)", compiled_times)
    numpy_row = Row("numpy, forward and backward by hand", timings(repeats, numpy_epoch))
    torch_row = Row(f"torch {torch.__version__} float64" if torch else "torch", None)
    if torch is not None:
        run = torch_epoch_of(initial, train_x, train_y, lr, batch, accuracies, test_x, test_y)
        torch_row.times = timings(repeats, run)
    images = len(train_x)
    table(
        f"(c) one epoch: {images:,} {'random' if sizes.synthetic_epoch else 'Fashion-MNIST'} images, "
        f"batches of {batch}, SGD lr {lr}",
        [compiled, torch_row, numpy_row],
        compiled,
    )
    print("test accuracy after the epoch: " + ", ".join(f"{name} {value:.1%}" for name, value in accuracies.items()))
    if not sizes.synthetic_epoch and not sizes.epoch_images:
        target(f"an epoch under 15 s ({show(compiled.median)})", compiled.median < 15)


def torch_epoch_of(
    layers: list[tuple[Array, Array]],
    train_x: Array,
    train_y: Array,
    lr: float,
    batch: int,
    accuracies: dict[str, float],
    test_x: Array,
    test_y: Array,
) -> Callable[[], float]:
    """One torch epoch from ``layers``, as a function returning its seconds; records its test accuracy."""
    assert torch is not None

    def run() -> float:
        net = torch_net(layers)
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
        start = time.perf_counter()
        for x, y in nn.batches(train_x, train_y, batch, seed=1):  # fit's order in its first epoch
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y.astype(np.int64)))
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        trained = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in net if isinstance(m, torch.nn.Linear)]
        accuracies["torch"] = test_accuracy(trained, test_x, test_y)
        return seconds

    return run


# -- (d) -------------------------------------------------------------------------------------------


def plan_bytes(plan: Plan) -> int:
    """The arrays a plan keeps: its constants and the index arrays of its gathers and weights."""
    arrays: dict[int, Array] = {id(plan.constants): plan.constants}
    for step in plan.steps:
        for gather in (*step.operands, plan.outputs):
            for piece in gather.pieces:
                for index in (piece.take, piece.into):
                    if isinstance(index, np.ndarray):
                        arrays[id(index)] = index
        if isinstance(step.weights, np.ndarray):
            arrays[id(step.weights)] = step.weights
    return sum(a.nbytes for a in arrays.values())


def batch_bytes(compiled: Compiled, x: Array, labels: Array, theta: Array) -> int:
    """The arrays one forward pass keeps for backward: each step's output and assembled operands."""
    evaluation = compiled.evaluate(x, labels, leaves=theta)
    arrays: dict[int, Array] = {}
    for item in [*evaluation.values, *(a for given in evaluation.operands for a in given)]:
        if isinstance(item, np.ndarray) and item.base is None:  # views of inputs and leaves cost nothing
            arrays[id(item)] = item
    return sum(a.nbytes for a in arrays.values())


def trace_section(sizes: Sizes, repeats: int) -> None:
    rng = np.random.default_rng(0)
    x, labels = rng.random((sizes.batch, 784)), rng.integers(0, 10, sizes.batch)
    arguments = [x, labels.astype(float)]
    build_start = time.perf_counter()
    model = mnist_model(sizes)
    build = time.perf_counter() - build_start
    fn = cross_entropy_of(model)

    def trace_once() -> float:
        start = time.perf_counter()
        ag.compile(fn).plan_for(arguments)
        return time.perf_counter() - start

    seconds = timings(repeats, trace_once)
    gc.collect()
    tracemalloc.start()
    compiled = ag.compile(fn)
    plan = compiled.plan_for(arguments)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    theta = np.array([v.data for v in plan.leaves])
    shape = "-".join(str(n) for n in [784, *sizes.hidden, 10])
    print(f"\n(d) tracing {shape} ({len(plan.leaves):,} parameters; building the model took {show(build)})\n")
    print("| what | figure |")
    print("|---|---|")
    print(f"| trace and plan, min / median / max | {show(min(seconds))} / {show(statistics.median(seconds))} / "
          f"{show(max(seconds))} |")  # fmt: skip
    print(f"| tracemalloc peak while tracing | {tracemalloc_mb(peak)} |")
    print(f"| the plan's own arrays (constants, gather and weight indices) | {tracemalloc_mb(plan_bytes(plan))} |")
    print(f"| the parameters as one float64 array | {tracemalloc_mb(theta.nbytes)} |")
    kept = batch_bytes(compiled, x, labels, theta)
    print(f"| what one batch of {sizes.batch} keeps for backward | {tracemalloc_mb(kept)} |")
    print(f"| scalar op nodes -> array ops | {plan.scalar_nodes:,} -> {plan.array_ops} |")
    target(f"trace under 5 s ({show(statistics.median(seconds))})", statistics.median(seconds) < 5)


def second_fit_section(sizes: Sizes, repeats: int) -> None:
    """Each of ``repeats`` times a new model: fit it for one epoch, then again; both calls timed."""
    rng = np.random.default_rng(0)
    x, labels = rng.random((10 * sizes.batch, 784)), rng.integers(0, 10, 10 * sizes.batch)
    first: list[float] = []
    second: list[float] = []
    counts: list[int] = []
    for _ in range(repeats):
        model = mnist_model(sizes)
        for times in (first, second):
            gc.collect()
            start = time.perf_counter()
            nn.fit(model, x, labels, loss="cross_entropy", optimizer=nn.SGD(model.parameters(), lr=0.01), epochs=1,
                   batch_size=sizes.batch, progress=False, compile=True, threads=THREADS)  # fmt: skip
            times.append(time.perf_counter() - start)
        counts.append(traces(model))
    shape = "-".join(str(n) for n in [784, *sizes.hidden, 10])
    print(f"\n(e) fit(compile=True) twice on one {shape} model, one epoch of {len(x):,} images each\n")
    print("| call | min | median | max |")
    print("|---|---|---|---|")
    for name, times in (("first call (traces)", first), ("second call (replays)", second)):
        print(f"| {name} | {show(min(times))} | {show(statistics.median(times))} | {show(max(times))} |")
    ratios = [a / b for a, b in zip(first, second, strict=True)]
    spread = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
    print(f"first / second call, each model's: median {spread}; traces per model after both: {sorted(set(counts))}")
    target(f"a second fit does not trace (traces: {max(counts)})", max(counts) == 1)


def tracemalloc_mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size < 1e8 else f"{size / 1e6:,.0f} MB"


# -- --profile ------------------------------------------------------------------------------------


def profile_section(sizes: Sizes, steps: int) -> None:
    """cProfile over ``steps`` of the step of (b): the functions where the time goes, by their own time."""
    rng = np.random.default_rng(0)
    x, labels = rng.random((sizes.batch, 784)), rng.integers(0, 10, sizes.batch)
    step = fit_step(mnist_model(sizes), "cross_entropy", x, labels, 0.01)
    step()  # traces
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    print(f"\n(profile) {steps} steps of (b) under cProfile, the top functions by their own time:\n")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(12)


# -- the run ---------------------------------------------------------------------------------------


def limit_threads(threads: int) -> tuple[AbstractContextManager[Any], str]:
    """Hold BLAS (and torch) to ``threads`` threads; 0 leaves the defaults. Returns the context and a description."""
    if torch is not None and threads:
        torch.set_num_threads(threads)
    torch_threads = f", torch {torch.get_num_threads()}" if torch is not None else ""
    if not threads:
        return nullcontext(), f"library defaults{torch_threads}"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext(), f"numpy's default (threadpoolctl is not installed){torch_threads}"
    return threadpool_limits(limits=threads), f"BLAS {threads}{torch_threads}"


# -- --tree ----------------------------------------------------------------------------------------


def tree_child() -> dict[str, float | str]:
    """In a process whose ``autograd`` and ``nn`` come from one checkout: each step's median seconds, the peers'
    timed between the compiled step's runs, and the first losses."""
    points, signs = moons()
    x, y = np.array(points), np.array(signs)
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=1337)
    numpy_moons = NumpyMLP(layers_of(model), 1.0, 1e-4)
    head = hinge_head(y)
    steps: dict[str, Step] = {
        "moons": fit_step(model, "hinge", x, y, 1.0, 1e-4),
        "moons numpy": lambda: numpy_moons.step(x, head),
    }
    rng = np.random.default_rng(0)
    images, labels = rng.random((100, 784)), rng.integers(0, 10, 100)
    network = mnist_model(Sizes())
    layers = layers_of(network)
    numpy_net = NumpyMLP(layers, 0.01)
    ce_head = cross_entropy_head(labels)
    steps["784"] = fit_step(network, "cross_entropy", images, labels, 0.01)
    steps["784 numpy"] = lambda: numpy_net.step(images, ce_head)
    if torch is not None:
        steps["784 torch"] = torch_step(layers, images, labels, 0.01)
    result: dict[str, float | str] = {f"{name} loss": f"{step():.15f}" for name, step in steps.items()}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(5):
        for name, step in steps.items():
            times[name] += seconds_per_step(step, 1)
    result.update({name: statistics.median(values) for name, values in times.items()})
    return result


def bare_steps(tree: str, workload: str, count: str) -> None:
    """``count`` + 1 compiled steps of (a) or (b) with ``tree``'s packages, one BLAS thread, nothing timed."""
    path = os.path.abspath("." if tree == "numpy" else tree)
    for name in [m for m in sys.modules if m.split(".")[0] in ("autograd", "nn")]:
        del sys.modules[name]  # imported from this checkout by this script: taken again from the tree's
    sys.path.insert(0, path)
    import nn as tree_nn
    from nn.compiled_run import CompiledRun as TreeRun
    from nn.loss_table import find_loss as tree_loss

    assert tree_nn.__file__.startswith(path), tree_nn.__file__
    if workload == "moons":
        points, signs = moons()
        x, y = np.array(points), np.array(signs)
        model = tree_nn.MLP(2, [16, 16, 1], activation="relu", seed=1337)
        run = TreeRun(model, tree_loss("hinge"), tree_nn.SGD(model.parameters(), lr=1.0), None, 1e-4)
    else:
        rng = np.random.default_rng(0)
        x, y = rng.random((100, 784)), rng.integers(0, 10, 100)
        model = tree_nn.MLP(784, [300, 100, 10], activation="relu", init="he", seed=0)
        run = TreeRun(model, tree_loss("cross_entropy"), tree_nn.SGD(model.parameters(), lr=0.01), None, 0.0)
    step: Step = lambda: run.step(x, y, 1)[0]
    if tree == "numpy":  # the peer: numpy by hand, same sizes and starting weights
        by_hand = NumpyMLP(layers_of(model), 1.0 if workload == "moons" else 0.01, 1e-4 if workload == "moons" else 0.0)
        head = hinge_head(y) if workload == "moons" else cross_entropy_head(y)
        step = lambda: by_hand.step(x, head)
    limits, _ = limit_threads(1)
    with limits:
        step()  # traces: outside the count
        # The counted steps run inside one call of a C function, for callgrind's --toggle-collect.
        functools.reduce(lambda _, __: step(), range(int(count)), 0.0)


def trees_section(trees: list[tuple[str, str]], runs: int, threads: int) -> None:
    """Run :func:`tree_child` for every tree, ``runs`` times in rotation, and print the table."""
    import json
    import subprocess

    here = str(Path(__file__).resolve().parent)
    figures: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    for run in range(runs):
        for name, path in trees[run % len(trees) :] + trees[: run % len(trees)]:
            child = (f"import sys; sys.path[:0] = [{os.path.abspath(path)!r}, {here!r}]; import compiled, json, nn; "
                     f"assert nn.__file__.startswith({os.path.abspath(path)!r}), nn.__file__; "
                     f"limits, _ = compiled.limit_threads({threads}); limits.__enter__(); "
                     f"print(json.dumps(compiled.tree_child()))")  # fmt: skip
            out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True, cwd="/")
            figures[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = trees[0][0]

    def spread(values: list[float], unit: float = 1.0, digits: int = 2, suffix: str = "") -> str:
        v = [x * unit for x in values]
        return f"{statistics.median(v):.{digits}f}{suffix} ({min(v):.{digits}f}-{max(v):.{digits}f})"

    print(f"{runs} runs, one process per tree each, BLAS threads {threads or 'default'}; medians (range) over the runs")
    print("\n| tree | moons step µs | / numpy by hand | 784 step ms | / numpy by hand | / torch | "
          f"{base} / tree, moons | {base} / tree, 784 | first losses |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, _ in trees:
        rows, first = figures[name], figures[base]
        torch_ratio = (spread([r["784"] / r["784 torch"] for r in rows], suffix="x")
                       if "784 torch" in rows[0] else "-")  # fmt: skip
        print(
            f"| {name} | {spread([r['moons'] for r in rows], 1e6, 0)} "
            f"| {spread([r['moons'] / r['moons numpy'] for r in rows], suffix='x')} "
            f"| {spread([r['784'] for r in rows], 1e3)} "
            f"| {spread([r['784'] / r['784 numpy'] for r in rows], suffix='x')} | {torch_ratio} "
            f"| {spread([b['moons'] / r['moons'] for b, r in zip(first, rows, strict=True)], suffix='x')} "
            f"| {spread([b['784'] / r['784'] for b, r in zip(first, rows, strict=True)], suffix='x')} "
            f"| {sorted({r['moons loss'] for r in rows})[0]}, {sorted({r['784 loss'] for r in rows})[0]} |"
        )
    for peer in ("moons numpy", "784 numpy", "784 torch"):
        if peer in figures[base][0]:
            every = [r[peer] for rows in figures.values() for r in rows]
            print(f"{peer} step, every process: {spread(every, 1e6, 0)} µs")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timings per figure (the epoch: a third as many)")
    parser.add_argument("--quick", action="store_true", help="3 repeats and an epoch of 10,000 images")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and one repeat: checks that it runs")
    parser.add_argument("--skip-epoch", action="store_true", help="leave out (c)")
    parser.add_argument("--profile", action="store_true", help="then profile the step of (b) with cProfile")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads; 0: the libraries' defaults")
    parser.add_argument("--tree", action="append", help="name=directory: compare checkouts (see above)")
    parser.add_argument("--runs", type=int, default=5, help="with --tree: processes per tree")
    parser.add_argument("--bare", nargs=3, metavar=("TREE", "WORKLOAD", "N"), help="N steps alone (see above)")
    args = parser.parse_args(argv)
    if args.bare:
        bare_steps(*args.bare)
        return
    if args.tree:
        trees_section([(item.split("=", 1)[0], item.split("=", 1)[1]) for item in args.tree], args.runs, args.threads)
        return
    sizes, repeats, epoch_repeats = Sizes(), args.repeats, max(1, args.repeats // 3)
    if args.quick:
        sizes.epoch_images, repeats, epoch_repeats = 10_000, 3, 1
    if args.smoke:
        sizes = Sizes(hidden=[24, 12], batch=10, synthetic_epoch=200)
        repeats = epoch_repeats = 1
    global THREADS
    THREADS = args.threads or None
    limits, threads = limit_threads(args.threads)
    with limits:
        print(f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
              f"{os.cpu_count()} cores, {platform.system()}; garbage collector on; threads: {threads}")  # fmt: skip
        missing = [name for name, there in (("micrograd", HAVE_MICROGRAD), ("torch", torch is not None)) if not there]
        if missing:
            print(f"not installed, rows left out: {', '.join(missing)}")
        moons_section(repeats)
        network_section(sizes, repeats)
        if args.skip_epoch:
            print("\n(c) skipped (--skip-epoch)")
        else:
            epoch_section(sizes, epoch_repeats)
        trace_section(sizes, repeats if not args.quick else 1)
        second_fit_section(sizes, 3 if not args.smoke else 1)
        if args.profile:
            profile_section(sizes, 5 if args.smoke else 100)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

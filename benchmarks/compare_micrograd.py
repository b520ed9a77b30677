"""chainrule against micrograd: the same workloads, in one process and one run.

Run: python benchmarks/compare_micrograd.py
micrograd is optional (pip install -e ".[bench]"); without it only chainrule's column is filled.
Prints figures only; nothing here asserts a speed.

(a) one full-batch training step of micrograd's demo: 100 moons, an MLP 2-16-16-1 (relu), max-margin
    loss + 1e-4 L2, forward, backward and SGD update; each library with its own MLP and idioms.
(b) a chain of ops cycling through mul, add, relu, mul, add; time per op node, forward+backward.
(c) the sum of 100,000 squares, forward+backward (chainrule: one n-ary node; micrograd: the builtin sum).
(d) bytes allocated per op node of the chain in (b), measured with tracemalloc (constants included).
(e) the deepest chain of multiplications whose backward() succeeds at the default recursion limit.

Every time is the best of --repeats runs (5) for both libraries, with garbage collection on, as in
real use; --no-gc times them with Python's cyclic collector off, which shows how much of each
library's time the collector takes (it walks every container object, so it costs micrograd, whose
nodes hold closures and sets, far more than this engine, and how much depends on the heap and host).
micrograd's backward recurses once per node, so for (b) and (c) it runs in a thread with a raised
recursion limit and a large stack; (e) shows where it stops without that.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import autograd as ag
import nn
from autograd import Value

try:
    from micrograd import nn as micro_nn
    from micrograd.engine import Value as MicroValue
except ImportError:  # the column stays empty
    micro_nn = None
    MicroValue = None

T = TypeVar("T")
Points = list[list[float]]
Labels = list[float]  # -1.0 or +1.0


@dataclass
class Row:
    workload: str
    ours: float
    theirs: float | None
    unit: str  # "ms", "us", "B" or "nodes"
    higher_is_better: bool = False


def timings(repeats: int, run: Callable[[], float]) -> list[float]:
    """``repeats`` runs (each returns its own elapsed seconds), after a full collection each."""
    times = []
    for _ in range(repeats):
        gc.collect()
        times.append(run())
    return times


def best_time(repeats: int, run: Callable[[], float]) -> float:
    """The fastest of ``repeats`` runs."""
    return min(timings(repeats, run))


def in_deep_thread(run: Callable[[], T], depth: int) -> T:
    """Run ``run()`` in a thread that may recurse ``depth`` frames deep (for micrograd's recursive backward)."""
    result: list[T] = []
    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, depth + 1000))
    threading.stack_size(min(1 << 30, max(old_stack, depth * 2048)))  # generous: C frames on Python < 3.11
    try:
        thread = threading.Thread(target=lambda: result.append(run()))
        thread.start()
        thread.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_stack)
    if not result:
        raise RuntimeError("the deep-recursion thread failed (see the traceback above)")
    return result[0]


# -- (a) micrograd's moons demo, one training step -------------------------------------------------


def moons() -> tuple[Points, Labels]:
    points, labels = nn.make_moons(100, noise=0.1, seed=1)
    return points.tolist(), [1.0 if y > 0 else -1.0 for y in labels.tolist()]


def ours_moons_stepper(points: Points, labels: Labels) -> tuple[nn.MLP, Callable[[], float]]:
    """The model and a function that takes one step with chainrule's nn and returns its seconds."""
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=1337)
    parameters = model.parameters()
    optimizer = nn.SGD(parameters, lr=1.0)

    def step() -> float:
        start = time.perf_counter()
        scores = [cast(Value, model(x)) for x in points]
        loss = nn.hinge(scores, labels) + nn.l2(parameters, 1e-4)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    return model, step


def ours_moons_step(points: Points, labels: Labels, repeats: int) -> tuple[float, int]:
    """Seconds for one step with chainrule's nn, and the number of nodes in its graph."""
    model, step = ours_moons_stepper(points, labels)
    parameters = model.parameters()
    seconds = best_time(repeats, step)
    scores = [cast(Value, model(x)) for x in points]
    graph = nn.hinge(scores, labels) + nn.l2(parameters, 1e-4)
    return seconds, len(ag.backward_order(graph))


def micrograd_moons_stepper(points: Points, labels: Labels) -> tuple[Callable[[], Any], Callable[[], float]]:
    """micrograd's demo notebook, as written there: its loss function, and one step returning its seconds."""
    import random

    random.seed(1337)
    model = micro_nn.MLP(2, [16, 16, 1])

    def loss() -> Any:
        inputs = [list(map(MicroValue, row)) for row in points]
        scores = list(map(model, inputs))
        losses = [(1 + -y * score).relu() for y, score in zip(labels, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        return data_loss + reg_loss

    def step() -> float:
        start = time.perf_counter()
        total = loss()
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= 1.0 * p.grad
        return time.perf_counter() - start

    return loss, step


def micrograd_moons_step(points: Points, labels: Labels, repeats: int) -> tuple[float, int]:
    """Seconds for one step of micrograd's demo notebook, and its node count."""
    loss, step = micrograd_moons_stepper(points, labels)
    seconds = best_time(repeats, step)
    return seconds, micrograd_node_count(loss())


def micrograd_node_count(root: Any) -> int:
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


# -- (b) and (d): a long chain ---------------------------------------------------------------------


def chain(make_leaf: Callable[[float], Any], n_ops: int) -> Any:
    """n_ops op nodes: (y * 1.0001 + 0.01).relu() * 0.999 + x, repeated; y stays near 344."""
    x = make_leaf(0.3)
    y = x
    for _ in range(n_ops // 5):
        y = (y * 1.0001 + 0.01).relu() * 0.999 + x
    return y


def time_chain(make_leaf: Callable[[float], Any], n_ops: int) -> float:
    start = time.perf_counter()
    y = chain(make_leaf, n_ops)
    y.backward()
    return time.perf_counter() - start


def bytes_per_node(make_leaf: Callable[[float], Any], n_ops: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = chain(make_leaf, n_ops)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del y
    return (after - before) / n_ops


# -- (c) a wide sum --------------------------------------------------------------------------------


def ours_wide_sum(n_terms: int) -> float:
    xs = [Value(float(i)) for i in range(n_terms)]
    start = time.perf_counter()
    total = ag.sum(x * x for x in xs)
    total.backward()
    return time.perf_counter() - start


def micrograd_wide_sum(n_terms: int) -> float:
    xs = [MicroValue(float(i)) for i in range(n_terms)]
    start = time.perf_counter()
    total = sum(x * x for x in xs)
    total.backward()
    return time.perf_counter() - start


# -- (e) the deepest chain -------------------------------------------------------------------------


def backprops(make_leaf: Callable[[float], Any], depth: int) -> bool:
    y = x = make_leaf(1.0)
    for _ in range(depth):
        y = y * 1.0000001
    try:
        y.backward()
    except RecursionError:
        return False
    return bool(x.grad != 0)


def micrograd_deepest() -> int:
    """Double the depth until backward() fails, then bisect: the deepest chain that works."""
    good, bad = 0, 64
    while backprops(MicroValue, bad):
        good, bad = bad, bad * 2
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (middle, bad) if backprops(MicroValue, middle) else (good, middle)
    return good


def ours_deepest(target: int) -> tuple[int, float]:
    """chainrule backprops through ``target`` nodes (it has no recursion limit); and how long it took."""
    y = x = Value(1.0)
    for _ in range(target):
        y = y * 1.0000001
    start = time.perf_counter()
    y.backward()
    seconds = time.perf_counter() - start
    if x.grad == 0:
        raise RuntimeError("the deep chain gave no gradient")
    return target, seconds


# -- the table -------------------------------------------------------------------------------------


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value * 1e3:.1f} ms" if value < 1 else f"{value * 1e3:,.0f} ms"
    if unit == "us":
        return f"{value * 1e6:.2f} µs"
    if unit == "B":
        return f"{value:.0f} B"
    return f"{value:,.0f}"


def ratio(row: Row) -> str:
    if row.theirs is None:
        return "-"
    if row.higher_is_better:
        return f"{row.ours / row.theirs:,.0f}x deeper"
    factor = row.theirs / row.ours
    return f"{factor:.1f}x {'less' if row.unit == 'B' else 'faster'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chain", type=int, default=100_000, help="op nodes in the chain of (b) and (d)")
    parser.add_argument("--wide", type=int, default=100_000, help="terms in the sum of (c)")
    parser.add_argument("--deep", type=int, default=1_000_000, help="depth chainrule must backprop in (e)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing; the best counts")
    parser.add_argument("--no-gc", action="store_true", help="time with Python's cyclic garbage collector off")
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()  # best_time still collects before each run, so every run starts from the same heap
    have_micrograd = MicroValue is not None
    collector = "off" if args.no_gc else "on"
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.machine()}, "
          f"{os.cpu_count()} cores, {platform.system()}, garbage collector {collector}")  # fmt: skip
    if not have_micrograd:
        print('micrograd is not installed: pip install -e ".[bench]" (or pip install micrograd) for its column')

    points, labels = moons()
    n, w, repeats = args.chain, args.wide, args.repeats
    ours_step, ours_nodes = ours_moons_step(points, labels, repeats)
    micro_step, micro_nodes = micrograd_moons_step(points, labels, repeats) if have_micrograd else (None, None)
    ours_chain = best_time(repeats, lambda: time_chain(Value, n)) / n
    ours_sum = best_time(repeats, lambda: ours_wide_sum(w))
    micro_chain = micro_sum = None
    if have_micrograd:
        micro_chain = in_deep_thread(lambda: best_time(repeats, lambda: time_chain(MicroValue, n)), 2 * n) / n
        micro_sum = in_deep_thread(lambda: best_time(repeats, lambda: micrograd_wide_sum(w)), 2 * w)
    ours_bytes = bytes_per_node(Value, n)
    micro_bytes = bytes_per_node(MicroValue, n) if have_micrograd else None
    deepest, deep_seconds = ours_deepest(args.deep)
    micro_deepest = float(micrograd_deepest()) if have_micrograd else None

    rows = [
        Row("(a) moons training step: 100 samples, MLP 2-16-16-1, fwd+bwd+update", ours_step, micro_step, "ms"),
        Row(f"(b) chain of {n:,} ops, forward+backward, per node", ours_chain, micro_chain, "us"),
        Row(f"(c) sum of {w:,} squares, forward+backward", ours_sum, micro_sum, "ms"),
        Row("(d) memory per node of the chain (tracemalloc)", ours_bytes, micro_bytes, "B"),
        Row("(e) deepest chain that backprops, default recursion limit", deepest, micro_deepest, "nodes", True),
    ]
    print()
    print("| workload | chainrule | micrograd | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row.workload} | {show(row.ours, row.unit)} | {show(row.theirs, row.unit)} | {ratio(row)} |")
    print()
    theirs = f", micrograd {micro_nodes:,}" if micro_nodes is not None else ""
    print(f"(a) nodes in one step's graph: chainrule {ours_nodes:,}{theirs}. "
          f"(e) chainrule's {deepest:,}-node backward took {deep_seconds:.1f} s.")  # fmt: skip


if __name__ == "__main__":
    main()

"""Engine figures: forward+backward time per node, a wide sum, bytes per node, the deepest chain.

Run: python benchmarks/engine.py [--deep N]
Prints figures only; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

import autograd as ag
from autograd import Value


def mixed_chain(n_nodes: int) -> tuple[Value, Value]:
    """A chain of n_nodes nodes cycling through mul, add, tanh, mul, add (each reusing the input x)."""
    x = Value(0.3)
    y = x
    for _ in range(n_nodes // 5):
        y = (y * 1.0001 + 0.01).tanh() * 0.999 + x
    return x, y


def best_of(repeats: int, run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    results = []
    for _ in range(repeats):
        gc.collect()
        results.append(run())
    return min(results, key=sum)


def time_chain(n_nodes: int) -> tuple[float, float]:
    start = time.perf_counter()
    _, y = mixed_chain(n_nodes)
    middle = time.perf_counter()
    y.backward()
    return middle - start, time.perf_counter() - middle


def time_wide_sum(n_terms: int) -> tuple[float, float]:
    xs = [Value(float(i)) for i in range(n_terms)]
    start = time.perf_counter()
    total = ag.sum(x * x for x in xs)
    middle = time.perf_counter()
    total.backward()
    return middle - start, time.perf_counter() - middle


def bytes_per_node(n_nodes: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    graph = mixed_chain(n_nodes)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del graph
    return (after - before) / n_nodes


def deep_chain(depth: int) -> float:
    x = Value(1.0)
    y = x
    for _ in range(depth):
        y = y * 1.0000001
    start = time.perf_counter()
    y.backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deep", type=int, default=1_000_000, help="depth of the deep-chain test")
    args = parser.parse_args()

    n = 100_000
    forward, backward = best_of(3, lambda: time_chain(n))
    print(f"mixed chain, {n:,} nodes: forward {forward * 1e3:.0f} ms + backward {backward * 1e3:.0f} ms "
          f"= {(forward + backward) * 1e3:.0f} ms ({(forward + backward) / n * 1e6:.2f} us per node)")
    forward, backward = best_of(3, lambda: time_wide_sum(n))
    print(f"wide sum of {n:,} squares: forward {forward * 1e3:.0f} ms + backward {backward * 1e3:.0f} ms")
    print(f"memory: {bytes_per_node(n):.0f} bytes per node (tracemalloc, mixed chain)")
    print(f"deepest chain: {args.deep:,} nodes backpropagated in {deep_chain(args.deep):.1f} s "
          f"at the default recursion limit")


if __name__ == "__main__":
    main()

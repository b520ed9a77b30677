"""fit's scalar step on moons, timed in several checkouts of the project in one run, and their results compared.

Run: python benchmarks/scalar_step.py --tree old=/tmp/old --tree new=.  [--runs 5] [--steps 20]

Each tree is a directory holding ``autograd`` and ``nn`` (a ``git worktree add /tmp/old <commit>`` for an earlier
commit). The step is ``ScalarRun.step`` on micrograd's moons demo (100 moons, MLP 2-16-16-1, hinge + 1e-4 L2,
SGD), the collector on in the caller's program, as ``fit`` runs it. Each run starts one fresh process per tree,
in a rotating order, and each process gives the median of --steps timed steps after two untimed ones; the
table shows the median over --runs runs and the range, and each ratio is of two figures of the same run. Every
process also prints a digest of the parameters' exact bits after its steps, so the trees must agree bit for bit.
Prints figures only.

--bare TREE N runs one tree's child in this process (N + 2 steps, one JSON line), for an instruction
count (``valgrind --tool=callgrind python benchmarks/scalar_step.py --bare TREE N`` with N = 1 and 4:
the difference is three steps without the start-up); --phases TREE times one tree's forward, topological
order, reverse loop and ``.grad`` updates apart (medians of 15, collector off; the engine's private
functions, so only for checkouts that have them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import gc, hashlib, json, statistics, struct, sys, time
sys.path.insert(0, sys.argv[1])
import nn
from nn.loss_table import find_loss
from nn.scalar_run import ScalarRun
assert nn.__file__.startswith(sys.argv[1]), nn.__file__
steps = int(sys.argv[2])
points, labels = nn.make_moons(100, noise=0.1, seed=1)
model = nn.MLP(2, [16, 16, 1], seed=1337)
run = ScalarRun(model, find_loss("hinge"), nn.SGD(model.parameters(), lr=0.1), None, 1e-4)
times = []
for k in range(steps + 2):
    start = time.perf_counter()
    run.step(points, labels, 1)
    if k >= 2:
        times.append(time.perf_counter() - start)
digest = hashlib.sha256(b"".join(struct.pack("<dd", p.data, p.grad) for p in model.parameters())).hexdigest()
print(json.dumps({"median": statistics.median(times), "digest": digest[:16], "gc": gc.isenabled()}))
"""


PHASES = r"""
import gc, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import nn
from autograd import backward
from nn.loss_table import find_loss
points, labels = nn.make_moons(100, noise=0.1, seed=1)
model = nn.MLP(2, [16, 16, 1], seed=1337)
entry, parameters = find_loss("hinge"), model.parameters()
rows, ys = [row.tolist() for row in points], labels.tolist()
times = {"forward": [], "order": [], "reverse loop": [], ".grad": []}
gc.disable()
for _ in range(15):
    t0 = time.perf_counter()
    loss = entry([model(row) for row in rows], ys) + nn.losses.l2(parameters, 1e-4)
    t1 = time.perf_counter()
    order = backward._reverse_topological_order([loss], with_leaves=False)
    t2 = time.perf_counter()
    grads = backward._backprop_floats(order, {loss: 1.0})
    t3 = time.perf_counter()
    for node, grad in grads.items():
        node.grad += grad
    t4 = time.perf_counter()
    for name, start, end in zip(times, (t0, t1, t2, t3), (t1, t2, t3, t4)):
        times[name].append(end - start)
print(", ".join(f"{name} {statistics.median(values) * 1e3:.2f} ms" for name, values in times.items()))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", help="name=directory, the first is the baseline")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--bare", nargs=2, metavar=("TREE", "N"))
    parser.add_argument("--phases", metavar="TREE")
    args = parser.parse_args()
    if args.bare or args.phases:
        code = CHILD if args.bare else PHASES
        tree, rest = (args.bare[0], args.bare[1:]) if args.bare else (args.phases, [])
        sys.argv = ["-c", os.path.abspath(tree), *rest]
        exec(compile(code, "<step>", "exec"), {"__name__": "__step__"})
        return
    if not args.tree:
        parser.error("give at least one --tree name=directory")
    trees = [tuple(item.split("=", 1)) for item in args.tree]
    figures: dict[str, list[float]] = {name: [] for name, _ in trees}
    digests: dict[str, set[str]] = {name: set() for name, _ in trees}
    for run in range(args.runs):
        order = trees[run % len(trees) :] + trees[: run % len(trees)]
        for name, path in order:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, os.path.abspath(path), str(args.steps)],
                capture_output=True, text=True, check=True, cwd="/",
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            figures[name].append(result["median"])
            digests[name].add(result["digest"])
    base = trees[0][0]
    print(f"{args.runs} runs of {args.steps} steps each; median (range), ms per step; ratios within each run")
    for name, _ in trees:
        times = figures[name]
        ratios = [b / t for b, t in zip(figures[base], times, strict=True)]
        print(
            f"{name:>10}: {statistics.median(times) * 1e3:6.2f} ms ({min(times) * 1e3:.2f}-{max(times) * 1e3:.2f})"
            f"  {base}/{name}: {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)"
            f"  digest {', '.join(sorted(digests[name]))}"
        )


if __name__ == "__main__":
    main()

"""How small a mistake in a derivative rule each gradient checker catches, and how often it cries wolf.

Run: python benchmarks/gradient_sensitivity.py [--points N] [--smoke] [--functions a,b,c]
(torch and jax rows appear when those are importable; run it from a venv that has them).

Every function f: Rⁿ → R below is one primitive whose forward is f and whose backward is (1 + δ)·∇f,
∇f written by hand with ``math`` (accurate to the last bits; tests/test_gradient_sensitivity.py checks
it against the engine and sympy). The same forward and backward code is wrapped for each checker:

- chainrule, complex step: an ``autograd.Op`` with a ``complex_forward`` (f in ``cmath``, kinks decided
  on the real part), checked with ``autograd.gradcheck(lambda *xs: op(*xs), *point)``;
- chainrule, finite differences: the same op without ``complex_forward``;
- torch: a ``torch.autograd.Function``, ``torch.autograd.gradcheck`` on float64 inputs, defaults;
- jax: ``jax.custom_vjp``, ``jax.test_util.check_grads(f, args, order=1, modes=["rev"])``, defaults,
  with ``jax_enable_x64``.

For each function and checker: 200 seeded random points of the function's domain; δ runs down from
1e-2 through 1e-14 and the table gives the smallest δ such that it and every larger δ were caught at
≥ 99% of the points (a chainrule report counts as a catch when a row's kind is "engine"; "unsettled"
and "undefined" rows are inconclusive: neither a catch nor a false alarm). At δ = 0 the table gives
the false-alarm rate and the inconclusive rate, and the median time of one check, as a ratio to
chainrule's finite-difference row for the same function in the same run (not an absolute claim).
The last column holds chainrule's rows to its targets (1e-12 for analytic functions with the
complex step; 1e-8 for the kinked function and for finite differences) and gives the catch rate at the
target δ; each false alarm or missed target is printed after the table with its point and report.

Then the cost target: a complex-step ``check_parameters`` of a ~1,000-node MLP loss against the same
check with every built-in op's ``complex_forward`` set to None (finite differences as referee).
"""

from __future__ import annotations

import argparse
import cmath
import importlib
import itertools
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from types import ModuleType
from typing import Any

import autograd as ag
from autograd import Value

DELTAS = [10.0**-k for k in range(2, 15)]  # 1e-2 ... 1e-14, scanned from the largest down
CATCH_RATE = 0.99
ANALYTIC_TARGET, KINKED_TARGET, FD_TARGET = 1e-12, 1e-8, 1e-8
Y = 0.25  # the neuron's target
TARGET_CLASS = 2  # softmax cross-entropy's label
DEPTH = 20


# The forwards are written once against a namespace: floats (math), complex numbers (cmath, branches on
# the real part), chainrule Values (to check the hand gradients) and sympy (the same, symbolically).
class Real:
    sin, cos, tanh, exp, log, log1p = math.sin, math.cos, math.tanh, math.exp, math.log, math.log1p
    pow = math.pow  # a negative base raises ValueError, not a complex number

    @staticmethod
    def relu(x: Any) -> Any:
        return x if x > 0.0 else 0.0

    @staticmethod
    def abs(x: Any) -> Any:
        return abs(x)

    @staticmethod
    def sigmoid(x: Any) -> Any:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)

    @staticmethod
    def shift(xs: Sequence[Any]) -> float:
        """A constant subtracted for a stable logsumexp."""
        return float(max(xs))


class Complex:
    sin, cos, tanh, exp, log = cmath.sin, cmath.cos, cmath.tanh, cmath.exp, cmath.log

    @staticmethod
    def pow(z: Any, k: float) -> Any:
        return z**k

    @staticmethod
    def log1p(z: Any) -> Any:
        return cmath.log(1.0 + z)

    @staticmethod
    def relu(z: Any) -> Any:
        return z if z.real > 0.0 else 0j

    @staticmethod
    def abs(z: Any) -> Any:
        return z if z.real >= 0.0 else -z

    @staticmethod
    def sigmoid(z: Any) -> Any:
        if z.real >= 0.0:
            return 1.0 / (1.0 + cmath.exp(-z))
        e = cmath.exp(z)
        return e / (1.0 + e)

    @staticmethod
    def shift(zs: Sequence[Any]) -> float:
        return float(max(z.real for z in zs))


class Engine:
    """chainrule's ops on Values (and floats)."""

    sin, cos, tanh, exp, log, relu = ag.sin, ag.cos, ag.tanh, ag.exp, ag.log, ag.relu

    @staticmethod
    def pow(x: Any, k: float) -> Any:
        return x**k

    @staticmethod
    def sigmoid(x: Any) -> Any:  # not ag.sigmoid, whose rule out·(1 - out) loses digits in the right tail
        if (x.data if isinstance(x, Value) else x) >= 0.0:
            return 1.0 / (1.0 + ag.exp(-x))
        e = ag.exp(x)
        return e / (1.0 + e)

    @staticmethod
    def log1p(x: Any) -> Any:
        return ag.log(1.0 + x)

    @staticmethod
    def abs(x: Any) -> Any:
        return abs(x)

    @staticmethod
    def shift(xs: Sequence[Any]) -> float:
        return float(max(x.data if isinstance(x, Value) else x for x in xs))


def symbolic_namespace() -> Any:
    """sympy's functions under the same names (for the smoke test's check of the hand gradients)."""
    import sympy as sp

    class Symbolic:
        sin, cos, tanh, exp, log = sp.sin, sp.cos, sp.tanh, sp.exp, sp.log

        @staticmethod
        def pow(x: Any, k: float) -> Any:
            return x**k

        @staticmethod
        def log1p(x: Any) -> Any:
            return sp.log(1 + x)

        @staticmethod
        def relu(x: Any) -> Any:
            return sp.Max(x, 0)

        @staticmethod
        def abs(x: Any) -> Any:
            return sp.Abs(x)

        @staticmethod
        def sigmoid(x: Any) -> Any:
            return 1 / (1 + sp.exp(-x))

        @staticmethod
        def shift(xs: Sequence[Any]) -> float:
            return 0.0

    return Symbolic


# ---------------------------------------------------------------- the functions and their hand gradients


def neuron(xs: Sequence[Any], m: Any) -> Any:
    w, x, b = xs[0:3], xs[3:6], xs[6]
    r = m.tanh(w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + b) - Y
    return r * r


def neuron_grad(xs: Sequence[float]) -> list[float]:
    w, x, b = xs[0:3], xs[3:6], xs[6]
    a = w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + b
    da = 2.0 * (math.tanh(a) - Y) / math.cosh(a) ** 2  # sech², not 1 - tanh²: no cancellation in the tails
    return [da * x[0], da * x[1], da * x[2], da * w[0], da * w[1], da * w[2], da]


def softmax_ce(zs: Sequence[Any], m: Any) -> Any:
    c = m.shift(zs)
    total = m.exp(zs[0] - c) + m.exp(zs[1] - c) + m.exp(zs[2] - c) + m.exp(zs[3] - c)
    return c + m.log(total) - zs[TARGET_CLASS]


def softmax_ce_grad(zs: Sequence[float]) -> list[float]:
    c = max(zs)
    es = [math.exp(z - c) for z in zs]
    total = math.fsum(es)
    grads = [e / total for e in es]
    others = math.fsum(e for i, e in enumerate(es) if i != TARGET_CLASS)
    grads[TARGET_CLASS] = -others / total  # p - 1, without cancelling
    return grads


def deep(xs: Sequence[Any], m: Any) -> Any:
    s = xs[0]
    for i in range(DEPTH):
        s = m.tanh(1.5 * s + 0.1) if i % 2 == 0 else 1.3 * m.sin(s)
    return s


def deep_grad(xs: Sequence[float]) -> list[float]:
    s, d = xs[0], 1.0
    for i in range(DEPTH):
        if i % 2 == 0:
            a = 1.5 * s + 0.1
            d *= 1.5 / math.cosh(a) ** 2
            s = math.tanh(a)
        else:
            d *= 1.3 * math.cos(s)
            s = 1.3 * math.sin(s)
    return [d]


def kinked(xs: Sequence[Any], m: Any) -> Any:
    x = xs[0]
    return m.relu(x) * x + m.abs(x - 2.0)


def kinked_grad(xs: Sequence[float]) -> list[float]:
    x = xs[0]
    return [(2.0 * x if x > 0.0 else 0.0) + (1.0 if x > 2.0 else -1.0)]


def sigmoid_grad(xs: Sequence[float]) -> list[float]:
    e = math.exp(-abs(xs[0]))
    return [e / (1.0 + e) ** 2]


def uniform(n: int, low: float, high: float) -> Callable[[random.Random], list[float]]:
    return lambda rng: [rng.uniform(low, high) for _ in range(n)]


def away_from_kinks(rng: random.Random) -> list[float]:
    while True:
        x = rng.uniform(-3.0, 5.0)
        if abs(x) >= 1e-3 and abs(x - 2.0) >= 1e-3:
            return [x]


@dataclass(frozen=True)
class Function:
    name: str
    forward: Callable[[Sequence[Any], Any], Any]  # f(xs, namespace)
    gradient: Callable[[Sequence[float]], list[float]]  # ∇f(xs) by hand, in math
    sample: Callable[[random.Random], list[float]]
    domain: str
    kinked: bool = False

    @property
    def target(self) -> float:
        return KINKED_TARGET if self.kinked else ANALYTIC_TARGET


FUNCTIONS = [
    Function("neuron", neuron, neuron_grad, uniform(7, -2.0, 2.0), "(tanh(w·x + b) - 0.25)², w, x, b in [-2, 2]"),
    Function("softmax_ce", softmax_ce, softmax_ce_grad, uniform(4, -5.0, 5.0), "cross-entropy of 4 logits in [-5, 5]"),
    Function("offset", lambda xs, m: 1e6 + m.sin(xs[0]), lambda xs: [math.cos(xs[0])], uniform(1, -10.0, 10.0),
             "1e6 + sin x, x in [-10, 10]"),
    Function("tiny", lambda xs, m: 1e-8 * xs[0] * xs[0], lambda xs: [2e-8 * xs[0]], uniform(1, -3.0, 3.0),
             "1e-8·x², x in [-3, 3]"),
    Function("cos30", lambda xs, m: m.cos(30.0 * xs[0]), lambda xs: [-30.0 * math.sin(30.0 * xs[0])],
             uniform(1, -1.0, 1.0), "cos 30x, x in [-1, 1]"),
    Function("exp5", lambda xs, m: m.exp(5.0 * xs[0]), lambda xs: [5.0 * math.exp(5.0 * xs[0])], uniform(1, -2.0, 2.0),
             "exp 5x, x in [-2, 2]"),
    Function("deep", deep, deep_grad, uniform(1, -3.0, 3.0),
             f"{DEPTH} steps of tanh(1.5s + 0.1), 1.3 sin s; x in [-3, 3]"),
    Function("kinked", kinked, kinked_grad, away_from_kinks, "relu(x)·x + |x - 2|, x in [-3, 5], ≥ 1e-3 from kinks",
             kinked=True),
    Function("sigmoid", lambda xs, m: m.sigmoid(xs[0]), sigmoid_grad, uniform(1, -35.0, 35.0), "σ(x), x in [-35, 35]"),
    Function("log1p_sq", lambda xs, m: m.log1p(xs[0] * xs[0]), lambda xs: [2.0 * xs[0] / (1.0 + xs[0] * xs[0])],
             uniform(1, -1e-2, 1e-2), "log(1 + x²), x in [-0.01, 0.01]"),
    Function("pow2.5", lambda xs, m: m.pow(xs[0], 2.5), lambda xs: [2.5 * xs[0] ** 1.5], uniform(1, 0.01, 10.0),
             "x^2.5, x in [0.01, 10]"),
]  # fmt: skip


# ---------------------------------------------------------------- the checkers: one check of f at a point
CAUGHT, PASSED, INCONCLUSIVE = "caught", "passed", "inconclusive"


@dataclass(frozen=True)
class Outcome:
    result: str  # CAUGHT, PASSED or INCONCLUSIVE
    detail: str = ""  # the printed report (chainrule) or the message


Check = Callable[[Function, list[float], float], Outcome]


def chainrule_op(fn: Function, delta: float, complex_step: bool) -> ag.Op:
    def forward(*xs: float) -> float:
        return float(fn.forward(xs, Real))

    def vjp(g: float, *xs_then_out: float) -> tuple[float, ...]:
        return tuple(g * (1.0 + delta) * d for d in fn.gradient(xs_then_out[:-1]))

    def complex_forward(*zs: complex) -> complex:
        return complex(fn.forward(zs, Complex))

    return ag.Op(fn.name, forward, vjp, complex_forward=complex_forward if complex_step else None)


def chainrule_check(complex_step: bool) -> Check:
    ops: dict[tuple[str, float], ag.Op] = {}

    def check(fn: Function, point: list[float], delta: float) -> Outcome:
        key = (fn.name, delta)
        if key not in ops:
            ops[key] = chainrule_op(fn, delta, complex_step)
        op = ops[key]
        report = ag.gradcheck(lambda *xs: op(*xs), *point)
        if report.passed:
            return Outcome(PASSED, str(report))
        if any(row.kind in ("engine", "hand") for row in report.rows):
            return Outcome(CAUGHT, str(report))
        return Outcome(INCONCLUSIVE, str(report))

    return check


def torch_check(torch: ModuleType) -> Check:
    classes: dict[tuple[str, float], Any] = {}

    def function_class(fn: Function, delta: float) -> Any:
        def forward(ctx: Any, *inputs: Any) -> Any:
            xs = [float(t) for t in inputs]
            ctx.xs = xs
            return torch.tensor(float(fn.forward(xs, Real)), dtype=torch.float64)

        def backward(ctx: Any, g: Any) -> Any:
            return tuple(torch.tensor(float(g) * (1.0 + delta) * d, dtype=torch.float64) for d in fn.gradient(ctx.xs))

        body = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
        return type(f"Wrong_{fn.name}", (torch.autograd.Function,), body)

    def check(fn: Function, point: list[float], delta: float) -> Outcome:
        key = (fn.name, delta)
        if key not in classes:
            classes[key] = function_class(fn, delta)
        inputs = tuple(torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point)
        try:
            passed = torch.autograd.gradcheck(classes[key].apply, inputs, raise_exception=False)
        except Exception as error:  # anything but a verdict: neither a catch nor a pass
            return Outcome(INCONCLUSIVE, f"{type(error).__name__}: {error}")
        return Outcome(PASSED if passed else CAUGHT)

    return check


def jax_check(jax: ModuleType) -> Check:
    jax.config.update("jax_enable_x64", True)
    jnp = importlib.import_module("jax.numpy")
    check_grads = importlib.import_module("jax.test_util").check_grads
    functions: dict[tuple[str, float], Any] = {}

    def wrapped(fn: Function, delta: float) -> Any:
        def f(*xs: Any) -> Any:  # eager: check_grads calls it on concrete arrays
            return jnp.asarray(float(fn.forward([float(x) for x in xs], Real)), dtype=jnp.float64)

        def f_fwd(*xs: Any) -> Any:
            return f(*xs), [float(x) for x in xs]

        def f_bwd(xs: list[float], g: Any) -> Any:
            return tuple(jnp.asarray(float(g) * (1.0 + delta) * d, dtype=jnp.float64) for d in fn.gradient(xs))

        custom = jax.custom_vjp(f)
        custom.defvjp(f_fwd, f_bwd)
        return custom

    def check(fn: Function, point: list[float], delta: float) -> Outcome:
        key = (fn.name, delta)
        if key not in functions:
            functions[key] = wrapped(fn, delta)
        args = tuple(jnp.asarray(x, dtype=jnp.float64) for x in point)
        try:
            check_grads(functions[key], args, order=1, modes=["rev"])
        except AssertionError as error:
            return Outcome(CAUGHT, str(error))
        except Exception as error:
            return Outcome(INCONCLUSIVE, f"{type(error).__name__}: {error}")
        return Outcome(PASSED)

    return check


def importable(name: str) -> ModuleType | None:
    if find_spec(name) is None:
        return None
    try:
        return importlib.import_module(name)
    except Exception:  # installed but broken (or hidden): its rows are left out
        return None


def checkers() -> tuple[dict[str, Check], list[str]]:
    found: dict[str, Check] = {
        "chainrule complex step": chainrule_check(complex_step=True),
        "chainrule finite diff.": chainrule_check(complex_step=False),
    }
    missing = []
    torch = importable("torch")
    if torch is None:
        missing.append("torch")
    else:
        found[f"torch {torch.__version__} gradcheck"] = torch_check(torch)
    jax = importable("jax")
    if jax is None:
        missing.append("jax")
    else:
        found[f"jax {jax.__version__} check_grads"] = jax_check(jax)
    return found, missing


# ---------------------------------------------------------------- the sweep


@dataclass
class Row:
    function: Function
    checker: str
    smallest: float | None = None  # None: not even 1e-2 caught at 99% of points
    false_alarms: int = 0
    inconclusive: int = 0
    points: int = 0
    times: list[float] = field(default_factory=list)
    at_target: tuple[int, int] | None = None  # (caught, inconclusive) at the target δ, chainrule rows only
    examples: list[tuple[str, list[float], float, Outcome]] = field(default_factory=list)

    def run(self, check: Check, point: list[float], delta: float) -> Outcome:
        start = time.perf_counter()
        outcome = check(self.function, point, delta)
        self.times.append(time.perf_counter() - start)
        return outcome


def sweep(fn: Function, name: str, check: Check, points: list[list[float]]) -> Row:
    row = Row(fn, name, points=len(points))
    for point in points:
        outcome = row.run(check, point, 0.0)
        if outcome.result == CAUGHT:
            row.false_alarms += 1
            if row.false_alarms == 1 and name.startswith("chainrule"):
                row.examples.append(("false alarm at δ = 0", point, 0.0, outcome))
        elif outcome.result == INCONCLUSIVE:
            row.inconclusive += 1
    allowed = math.floor(len(points) * (1.0 - CATCH_RATE) + 1e-9)
    for delta in DELTAS:
        misses = 0
        for point in points:
            if row.run(check, point, delta).result != CAUGHT:
                misses += 1
                if misses > allowed:
                    break
        if misses > allowed:
            break
        row.smallest = delta
    if name.startswith("chainrule"):
        target = FD_TARGET if "finite" in name else fn.target
        caught = inconclusive = 0
        for point in points:
            outcome = row.run(check, point, target)
            caught += outcome.result == CAUGHT
            inconclusive += outcome.result == INCONCLUSIVE
            if outcome.result != CAUGHT and not any(e[0].startswith("missed") for e in row.examples):
                row.examples.append((f"missed at δ = {target:.0e} ({outcome.result})", point, target, outcome))
        row.at_target = (caught, inconclusive)
        if caught >= CATCH_RATE * len(points) - 1e-9:
            row.examples = [e for e in row.examples if not e[0].startswith("missed")]  # target met: no reproducer
    return row


def delta_text(delta: float | None) -> str:
    return "none ≤ 1e-2" if delta is None else f"{delta:.0e}"


def percent(count: int, total: int) -> str:
    return f"{100.0 * count / total:.1f}%" if total else "-"


def print_table(rows: list[Row]) -> None:
    headings = ["function", "checker", "smallest δ caught at ≥ 99%", "false alarms δ=0", "inconclusive δ=0",
                "median time / check", "time vs chainrule FD", "chainrule target"]  # fmt: skip
    lines = [headings]
    reference: dict[str, float] = {}
    for row in rows:
        if row.checker == "chainrule finite diff.":
            reference[row.function.name] = statistics.median(row.times)
    for row in rows:
        median = statistics.median(row.times)
        base = reference.get(row.function.name)
        target = ""
        if row.at_target is not None:
            wanted = FD_TARGET if "finite" in row.checker else row.function.target
            met = row.smallest is not None and row.smallest <= wanted
            caught, inconclusive = row.at_target
            target = (f"{wanted:.0e}: {'met' if met else 'MISSED'} (caught {percent(caught, row.points)}"
                      + (f", inconclusive {percent(inconclusive, row.points)})" if inconclusive else ")"))
        lines.append([
            row.function.name, row.checker, delta_text(row.smallest), percent(row.false_alarms, row.points),
            percent(row.inconclusive, row.points), f"{median * 1e3:.3f} ms",
            f"{median / base:.2f}x" if base else "-", target,
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(headings))]
    for k, line in enumerate(lines):
        print("| " + " | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


# ---------------------------------------------------------------- the cost of the complex-step referee


def mlp_loss(samples: int, rng: random.Random) -> tuple[dict[str, Value], Value, int]:
    """An MLP 3-6-6-1 (tanh) mean squared error over ``samples`` points, built with chainrule's ops."""
    sizes = [3, 6, 6, 1]
    params: dict[str, Value] = {}
    layers = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        ws = [[Value(rng.gauss(0.0, 1.0 / math.sqrt(n_in)), label=f"W{k}[{j},{i}]") for i in range(n_in)]
              for j in range(n_out)]  # fmt: skip
        bs = [Value(rng.gauss(0.0, 0.1), label=f"b{k}[{j}]") for j in range(n_out)]
        for j in range(n_out):
            for i in range(n_in):
                params[f"W{k}[{j},{i}]"] = ws[j][i]
            params[f"b{k}[{j}]"] = bs[j]
        layers.append((ws, bs))
    losses = []
    for _ in range(samples):
        h: list[Any] = [rng.uniform(-1.0, 1.0) for _ in range(3)]
        for k, (ws, bs) in enumerate(layers):
            pre = [sum((w * x for w, x in zip(row, h, strict=True)), b) for row, b in zip(ws, bs, strict=True)]
            h = [ag.tanh(p) for p in pre] if k < len(layers) - 1 else pre
        losses.append((h[0] - rng.uniform(-1.0, 1.0)) ** 2)
    loss = ag.sum(losses) / samples
    return params, loss, len(ag.backward_order(loss))


def without_complex_forwards() -> list[tuple[ag.Op, Any]]:
    """Every built-in op's complex_forward set to None; returns what to restore."""
    from autograd import rules

    saved = []
    seen: set[int] = set()
    for value in vars(rules).values():
        if isinstance(value, ag.Op) and id(value) not in seen:
            seen.add(id(value))
            saved.append((value, value.complex_forward))
            value.complex_forward = None
    return saved


def cost(samples: int, runs: int) -> None:
    params, loss, nodes = mlp_loss(samples, random.Random(1))
    ratios, complex_times, fd_times = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        with_cs = ag.check_parameters(loss, params)
        complex_time = time.perf_counter() - start
        saved = without_complex_forwards()
        try:
            start = time.perf_counter()
            with_fd = ag.check_parameters(loss, params)
            fd_time = time.perf_counter() - start
        finally:
            for op, forward in saved:
                op.complex_forward = forward
        referees = {row.referee for row in with_cs.rows}, {row.referee for row in with_fd.rows}
        complex_times.append(complex_time)
        fd_times.append(fd_time)
        ratios.append(complex_time / fd_time)
    print(f"\ncost: check_parameters of an MLP 3-6-6-1 loss over {samples} points: {nodes} nodes, {len(params)} "
          f"parameters; judged by {sorted(referees[0])} vs {sorted(referees[1])} with complex_forward=None")
    print(f"  complex step: median {statistics.median(complex_times):.3f} s; finite differences only: median "
          f"{statistics.median(fd_times):.3f} s ({runs} runs each)")
    print(f"  ratio complex-step / finite-difference check: median {statistics.median(ratios):.2f}, "
          f"range {min(ratios):.2f} to {max(ratios):.2f} (target: at most 3)")


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=None, help="random points per function (default 200, smoke 4)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 4 points, a small cost graph, 1 run")
    parser.add_argument("--functions", default="", help="comma-separated names: " + ",".join(f.name for f in FUNCTIONS))
    args = parser.parse_args(argv)
    n_points = args.points if args.points is not None else 4 if args.smoke else 200
    names = [name.strip() for name in args.functions.split(",") if name.strip()]
    unknown = [name for name in names if name not in {f.name for f in FUNCTIONS}]
    if unknown:
        parser.error(f"unknown functions {unknown}; choose from {[f.name for f in FUNCTIONS]}")
    functions = [f for f in FUNCTIONS if not names or f.name in names]
    found, missing = checkers()
    start = time.perf_counter()
    print(f"gradient-check sensitivity: {n_points} points per function, δ from 1e-2 down to 1e-14; "
          f"python {sys.version.split()[0]}")
    if missing:
        print(f"not installed, rows left out: {', '.join(missing)}")
    print("functions:")
    for fn in functions:
        print(f"  {fn.name}: {fn.domain}")
    rows = []
    for index, fn in enumerate(functions):
        rng = random.Random(1000 + index)
        points = [fn.sample(rng) for _ in range(n_points)]
        for name, check in found.items():
            rows.append(sweep(fn, name, check, points))
    print()
    print_table(rows)
    problems = [(row, example) for row in rows for example in row.examples]
    print(f"\nchainrule false alarms and missed targets: {len(problems) or 'none'}")
    for row, (what, point, _, outcome) in problems:
        print(f"- {row.function.name}, {row.checker}, {what}: point {point!r}")
        print("    " + outcome.detail.replace("\n", "\n    "))
    cost(samples=2 if args.smoke else 7, runs=1 if args.smoke else 7)  # 7 samples: 1,013 nodes
    print(f"\ntotal time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

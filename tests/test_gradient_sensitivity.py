"""benchmarks/gradient_sensitivity.py runs end to end on a few points and prints its table (not timed here).

Its hand-written gradients are checked once against the engine on Values and against sympy, so a row of
the benchmark measures the checker, not a slip in the benchmark. torch and jax are made unimportable in
one run: their rows must then be left out, not break it.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from autograd import Value, rules
from tests.scripts import hiding, load_script

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gradient_sensitivity.py"
CHAINRULE_ROWS = ["| chainrule complex step", "| chainrule finite diff."]


bench = load_script("benchmarks/gradient_sensitivity.py")


def run_smoke(tmp_path: Path, *paths: Path, extra: tuple[str, ...] = ()) -> str:
    path = os.pathsep.join([*map(str, paths), str(ROOT), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", *extra],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path}, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "| function " in out and "smallest δ caught at ≥ 99%" in out, out
    assert "ratio complex-step / finite-difference check: median" in out, out
    return out


def test_the_benchmark_runs_without_torch_and_jax(tmp_path):
    out = run_smoke(tmp_path, hiding(tmp_path / "hidden", "torch", "jax"))
    assert "not installed, rows left out: torch, jax" in out
    for fn in bench.FUNCTIONS:
        for row in CHAINRULE_ROWS:
            assert f"| {fn.name.ljust(10)} {row}" in out, f"{fn.name}: {row!r} is missing from:\n{out}"
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert not any("torch" in line or "jax" in line for line in table), out


def test_the_benchmark_runs_with_what_is_installed(tmp_path):
    out = run_smoke(tmp_path, extra=("--functions", "exp5,kinked"))
    lines = [line for line in out.splitlines() if line.startswith("| exp5 ") or line.startswith("| kinked ")]
    assert len([line for line in lines if "chainrule" in line]) == 4, out
    for name, checker in (("torch", "gradcheck"), ("jax", "check_grads")):
        if find_spec(name) is not None and f"rows left out: {name}" not in out and f", {name}" not in out:
            assert len([line for line in lines if f"| {name} " in line and checker in line]) == 2, out


def test_unknown_functions_are_refused(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--functions", "nope"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=60, check=False)  # fmt: skip
    assert result.returncode != 0 and "unknown functions ['nope']" in result.stderr


@pytest.mark.parametrize("fn", bench.FUNCTIONS, ids=lambda fn: fn.name)
def test_the_hand_gradients_agree_with_the_engine(fn):
    rng = random.Random(7)
    for _ in range(20):
        point = fn.sample(rng)
        xs = [Value(x) for x in point]
        out = fn.forward(xs, bench.Engine)
        out.backward()
        hand = fn.gradient(point)
        assert math.isclose(out.data, fn.forward(point, bench.Real), rel_tol=1e-9, abs_tol=1e-300)
        for x, h in zip(xs, hand, strict=True):
            assert math.isclose(x.grad, h, rel_tol=1e-11, abs_tol=1e-300), (fn.name, point, x.grad, h)


@pytest.mark.parametrize("fn", bench.FUNCTIONS, ids=lambda fn: fn.name)
def test_the_hand_gradients_agree_with_sympy(fn):
    sp = pytest.importorskip("sympy")
    rng = random.Random(11)
    symbols = sp.symbols(f"x0:{len(fn.sample(random.Random(0)))}", real=True)
    expression = fn.forward(list(symbols), bench.symbolic_namespace())
    derivatives = [sp.diff(expression, s) for s in symbols]
    for _ in range(5):
        point = fn.sample(rng)
        exact_point = {s: sp.Float(x, 60) for s, x in zip(symbols, point, strict=True)}  # the float, exactly
        for derivative, hand in zip(derivatives, fn.gradient(point), strict=True):
            exact = float(derivative.evalf(50, subs=exact_point))
            assert math.isclose(hand, exact, rel_tol=1e-13, abs_tol=1e-300), (fn.name, point, hand, exact)


def test_the_wrong_rule_is_caught_by_the_complex_step_and_correct_one_passes():
    fn = next(f for f in bench.FUNCTIONS if f.name == "exp5")
    check = bench.chainrule_check(complex_step=True)
    assert check(fn, [0.3], 0.0).result == bench.PASSED
    assert check(fn, [0.3], 1e-10).result == bench.CAUGHT


def test_the_cost_patch_removes_every_complex_forward_and_can_be_restored():
    before = rules.EXP.complex_forward
    saved = bench.without_complex_forwards()
    try:
        assert rules.EXP in [op for op, _ in saved] and rules.EXP.complex_forward is None
        assert all(op.complex_forward is None for op, _ in saved)
    finally:
        for op, forward in saved:
            op.complex_forward = forward
    assert rules.EXP.complex_forward is before is not None

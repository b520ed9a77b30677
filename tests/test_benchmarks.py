"""benchmarks/compiled.py runs end to end on tiny sizes and prints every table (it is not timed here).

Once as installed, and once with micrograd and torch made unimportable: the test extra installs
neither, and their rows must then be left out, not break the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.scripts import hiding

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "compiled.py"
ROWS = [
    "(a) moons training step",
    "| chainrule compiled: the step of fit(compile=True) |",
    "| chainrule scalar engine (not compiled) |",
    "(b) training step: 784-24-12-10",
    "(c) one epoch: 200 random images",
    "(d) tracing 784-24-12-10",
    "| trace and plan, min / median / max |",
    "target: trace under 5 s",
]


def run_smoke(tmp_path: Path, *paths: Path) -> str:
    path = os.pathsep.join([*map(str, paths), str(ROOT), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--profile"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path}, cwd=tmp_path, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for row in ROWS:
        assert row in result.stdout, f"{row!r} is missing from:\n{result.stdout}"
    return result.stdout


def test_the_compiled_benchmark_runs_without_micrograd_and_torch(tmp_path):
    out = run_smoke(tmp_path, hiding(tmp_path / "hidden", "micrograd", "torch"))
    assert "not installed, rows left out: micrograd, torch" in out
    assert "| micrograd | - | - | - | not installed |" in out


def test_the_compiled_benchmark_runs_with_what_is_installed(tmp_path):
    there = [name for name in ("micrograd", "torch") if find_spec(name) is not None]
    if not there:
        pytest.skip("neither micrograd nor torch is installed: the other test covers this run")
    out = run_smoke(tmp_path)
    if "micrograd" in there:
        assert "| micrograd | " in out and "target: >= 500x faster than micrograd" in out
    if "torch" in there:
        assert "first step's loss: compiled, numpy, torch" in out

"""benchmarks/live_view.py runs end to end at a tiny size and prints its table (it is not timed here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_live_view_benchmark_runs_and_prints_its_table(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "live_view.py"), "--runs", "2", "--epochs", "3", "--points", "20",
         "--seconds", "0,0.05"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "moons 20 points, MLP 2-16-16-1, full batch, 3 steps, scalar engine; 2 runs: median (range)"
    assert lines[1] == "| view's seconds= | frames a second | training time, view on / off |"
    rows = [line for line in lines if line.startswith(("| 0 |", "| 0.05 |"))]
    assert len(rows) == 2 and all(line.endswith("x) |") for line in rows), result.stdout

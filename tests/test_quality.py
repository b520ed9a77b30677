"""The source tree stays ruff- and mypy-clean: the same checks a reviewer runs, as part of the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_module(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff_is_clean():
    result = run_module("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    result = run_module("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_autograd_module_reads_in_one_sitting():
    lengths = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
               for path in (ROOT / "autograd").rglob("*.py")}  # fmt: skip
    assert max(lengths.values()) <= 400, {name: n for name, n in lengths.items() if n > 400}

"""The scalar engine's moons step in ``fit`` keeps the exact bits of 5423393, the engine before the speed-ups
of issue 25: both checkouts take the same steps in fresh processes (``benchmarks/scalar_step.py --bare``),
and the digests of their parameters' and gradients' bits must be equal. Skipped outside a git checkout
that holds that commit (an unpacked sdist, a shallow clone)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "5423393"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """autograd and nn as they were at BASELINE, in a directory of their own."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    found = subprocess.run(["git", "cat-file", "-e", f"{BASELINE}^{{commit}}"], cwd=ROOT, capture_output=True)
    if found.returncode != 0:
        pytest.skip(f"commit {BASELINE} is not in this checkout")
    archive = subprocess.run(["git", "archive", BASELINE, "autograd", "nn"], cwd=ROOT, capture_output=True, check=True)
    target = tmp_path_factory.mktemp("baseline")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:  # git's own archive of this checkout
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # filters came in 3.11.4 and 3.10.12
        tar.extractall(target, **safe)  # type: ignore[arg-type]
    return target


def digest(tree: Path) -> str:
    """The digest of the parameters' and gradients' bits after five moons steps of ``fit`` run on ``tree``."""
    script = ROOT / "benchmarks" / "scalar_step.py"
    run = subprocess.run(
        [sys.executable, str(script), "--bare", str(tree), "3"], capture_output=True, text=True, check=True, cwd="/"
    )
    result: dict[str, str] = json.loads(run.stdout.strip().splitlines()[-1])
    return result["digest"]


def test_the_moons_step_keeps_the_bits_of_the_engine_before_the_speed_ups(baseline: Path):
    assert digest(ROOT) == digest(baseline)

"""The demo says what it is doing after training: each picture is named as it is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_names_each_picture_as_it_writes_it(tmp_path):
    pytest.importorskip("matplotlib")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--epochs", "2", "--output", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    after_training = lines[next(i for i, line in enumerate(lines) if line.startswith("training accuracy")) + 1 :]
    out = tmp_path / "out"
    assert after_training == [
        f"drawing the pictures into {out}/",
        f"  wrote {out / 'neuron.svg'}: the graph of one neuron, with data and gradients",
        f"  wrote {out / 'network.svg'}: the trained network's weights",
        "  drawing the decision boundary: the model at every point of a grid, a few seconds",
        f"  wrote {out / 'decision_boundary.png'}: the decision boundary and the training curves",
    ]
    for name in ("neuron.svg", "network.svg", "decision_boundary.png"):
        assert (out / name).stat().st_size > 0

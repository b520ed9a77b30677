"""Fixtures more than one test module uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built once per test session with warnings as errors (notebooks executed).

    Tests read it; a test that adds to it works on a copy.
    """
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(out / "doctrees")]
    result = subprocess.run([*command, str(DOCS), str(out / "html")], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"the docs build failed:\n{result.stderr[-6000:]}"
    return out / "html"

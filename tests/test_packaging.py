"""The wheel: it builds from a copy of the source tree, holds every package and its metadata, and runs installed.

Without network the build needs setuptools >= 77 in this environment (the test extra installs it); with an
older setuptools, pip fetches a new one into an isolated build environment, and the test is skipped if it cannot.
"""

from __future__ import annotations

import email
import email.message
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
VERSION = re.findall(r'^version = "(.+)"$', PYPROJECT, re.MULTILINE)[0]  # tomllib is not in Python 3.10
DIST_INFO = f"chainrule-{VERSION}.dist-info"
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "output", "*.egg-info", "__pycache__", ".*_cache", "*.whl"
)


def _setuptools_is_new_enough() -> bool:
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 77


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the tree (so the build leaves nothing in the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    source, dist = base / "source", base / "dist"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dist)]
    offline = _setuptools_is_new_enough()
    if offline:
        command.append("--no-build-isolation")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        if not offline:
            pytest.skip(f"no setuptools >= 77 here and pip could not fetch one: {result.stderr[-300:]}")
        pytest.fail(f"the wheel did not build:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    (found,) = dist.glob("chainrule-*.whl")
    return found


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"{DIST_INFO}/METADATA").decode("utf-8")
    return email.message_from_string(text)


def test_the_wheel_holds_every_module_and_the_type_markers(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    packages = [ROOT / "autograd", ROOT / "nn", ROOT / "viz"]
    sources = {path.relative_to(ROOT).as_posix() for package in packages for path in package.rglob("*.py")}
    assert "autograd/testing/__init__.py" in sources
    assert sources <= names, sorted(sources - names)
    assert {"autograd/py.typed", "nn/py.typed", "viz/py.typed"} <= names
    assert not any(name.startswith(("tests/", "examples/", "notebooks/", "docs/", "benchmarks/")) for name in names)


def test_the_wheel_carries_the_licence(wheel):
    with zipfile.ZipFile(wheel) as archive:
        licence = archive.read(f"{DIST_INFO}/licenses/LICENSE").decode("utf-8")
    assert licence == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 The chainrule maintainers\n")


def test_the_metadata(wheel):
    metadata = _metadata(wheel)
    assert metadata["Name"] == "chainrule"
    assert metadata["Version"] == VERSION == "0.1.0"
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.10"
    extras = {"plots", "symbolic", "notebooks", "docs", "test", "dev", "bench", "onnx", "torch"}
    assert set(metadata.get_all("Provides-Extra") or []) == extras
    requirements = metadata.get_all("Requires-Dist") or []
    assert 'pillow>=9; extra == "plots"' in requirements  # viz.save_gif writes the GIF with Pillow
    assert 'matplotlib>=3.7; extra == "plots"' in requirements
    assert 'numpy>=1.24; sys_platform != "emscripten"' in requirements  # Pyodide: the scalar library without it
    assert 'graphviz-pure>=0.2.2; sys_platform != "emscripten"' in requirements  # no WebAssembly wheel
    assert 'onnxruntime>=1.17; extra == "onnx"' in requirements  # the ONNX export tests run in the test extra
    assert [r for r in requirements if r.startswith("torch")] == ['torch>=2.0; extra == "torch"']  # large: opt-in
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_pytest_plugin_is_registered(wheel):
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"{DIST_INFO}/entry_points.txt").decode("utf-8")
    assert "[pytest11]\nchainrule = autograd.pytest_plugin" in entry_points


@pytest.mark.skipif(importlib.util.find_spec("twine") is None, reason="twine is not installed (the test extra has it)")
def test_twine_accepts_the_wheel(wheel):
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout


def test_the_installed_wheel_works(wheel, tmp_path):
    """Unpacked next to this environment's dependencies, the wheel's own code runs, not the checkout's."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    program = (
        "import autograd, nn, viz\n"
        "from autograd import Value\n"
        "x = Value(2.0)\n"
        "(x * x + 3 * x).backward()\n"
        "print(x.grad, nn.MLP(2, [3, 1], seed=0)([1.0, 2.0]).data == nn.MLP(2, [3, 1], seed=0)([1.0, 2.0]).data)\n"
        "print(autograd.__file__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, env=env, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    grad, same, location = result.stdout.split("\n")[0].split(" ") + result.stdout.split("\n")[1:2]
    assert (grad, same) == ("7.0", "True")  # dy/dx = 2x + 3 at x = 2
    assert Path(location).is_relative_to(target)


def test_the_readme_gives_the_wheels_size_truly(wheel):
    # The README says "one wheel file of about N kB": within a quarter of what the build makes.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"one wheel file of about (\d+) kB", readme)
    assert match, "the README no longer gives the wheel's size"
    said, built = int(match.group(1)), wheel.stat().st_size / 1000
    assert 0.75 * said <= built <= 1.25 * said, f"the README says about {said} kB, the wheel is {built:.0f} kB"

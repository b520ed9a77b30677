"""The examples of the README and of the guides run as written, and the output they show is what they print.

Each page runs top to bottom in one namespace, in a scratch folder: a ``python`` block runs, and a
``text`` block right after it must be found, line by line, in what that block printed.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from autograd.testing import GradientChecker

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs" / "guide").glob("*.md"))
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def run_page(page: Path) -> tuple[dict[str, object], int]:
    """Run every python block of ``page``, checking each text block against the output before it."""
    namespace: dict[str, object] = {"__name__": page.stem}
    blocks = FENCE.findall(page.read_text(encoding="utf-8"))
    printed = ""
    for language, code in blocks:
        if language == "python":
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(code, str(page), "exec"), namespace)
            printed = output.getvalue()
        elif language == "text":  # shown output: the block before it must print these lines
            for line in code.strip().splitlines():
                assert line.rstrip() in printed, f"{page.name} shows {line!r}, the example printed:\n{printed}"
    return namespace, sum(language == "python" for language, _ in blocks)


def test_readme_examples_run_and_print_what_the_readme_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    _, count = run_page(README)
    assert count >= 6  # one example per package at least
    assert (tmp_path / "sigmoid.svg").read_text(encoding="utf-8").lstrip().startswith("<")


@pytest.mark.parametrize("page", GUIDES, ids=[page.stem for page in GUIDES])
def test_guide_examples_run_and_print_what_the_guide_shows(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    namespace, count = run_page(page)
    assert count >= 1
    if page.stem == "testing":
        test_cube_rule = namespace["test_cube_rule"]
        assert callable(test_cube_rule)
        test_cube_rule(GradientChecker())  # the pytest example, with the fixture's object


def test_the_readme_is_a_front_door():
    # What it is, installing, 30 seconds, the two commands, a section per package, performance, and links for
    # the rest: a page a newcomer reads through, so every addition has to earn its lines.
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 320
    assert "<the repository URL>" not in text
    for page in ["guide/autograd.md", "guide/testing.md", "guide/nn.md", "guide/compile.md", "guide/viz.md"]:
        assert f"docs/{page}" in text and (ROOT / "docs" / page).is_file()


def test_ci_runs_the_readme_test_command_verbatim():
    command = (README.parent / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    shell_blocks = [code for language, code in FENCE.findall(README.read_text(encoding="utf-8")) if language == "sh"]
    assert any(command in block.splitlines() for block in shell_blocks), command
    assert " -q -e " not in command  # pip shows its progress: a fresh install takes minutes

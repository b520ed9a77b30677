"""The README's Python examples run as written, and the output it shows is what they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from autograd.testing import GradientChecker

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def test_readme_examples_run_and_print_what_the_readme_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "readme"}
    blocks = FENCE.findall(README.read_text(encoding="utf-8"))
    printed = ""
    for language, code in blocks:
        if language == "python":
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(code, str(README), "exec"), namespace)
            printed = output.getvalue()
        elif language == "text":  # shown output: the block before it must print these lines
            for line in code.strip().splitlines():
                assert line.rstrip() in printed, f"README shows {line!r}, the example printed:\n{printed}"
    assert sum(language == "python" for language, _ in blocks) >= 8
    assert (tmp_path / "sigmoid.svg").read_text(encoding="utf-8").lstrip().startswith("<")
    test_cube_rule = namespace["test_cube_rule"]
    assert callable(test_cube_rule)
    test_cube_rule(GradientChecker())  # the pytest example, with the fixture's object


def test_ci_runs_the_readme_test_command_verbatim():
    command = (README.parent / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    shell_blocks = [code for language, code in FENCE.findall(README.read_text(encoding="utf-8")) if language == "sh"]
    assert any(command in block.splitlines() for block in shell_blocks), command
    assert " -q -e " not in command  # pip shows its progress: a fresh install takes minutes

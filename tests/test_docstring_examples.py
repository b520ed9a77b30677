"""The examples in docstrings (``>>>`` lines) run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "autograd", "autograd.compiler.compiled", "autograd.forward_mode", "autograd.transforms", "autograd.symbolic",
    "autograd.testing.checks", "nn", "viz.plan",
]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_shown(name: str):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples any more: take it off the list"
    assert result.failed == 0

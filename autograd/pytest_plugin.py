"""pytest plugin, registered through the ``pytest11`` entry point: the ``gradcheck`` fixture.

Installed with the package, it needs no configuration::

    def test_my_derivation(gradcheck):
        gradcheck(lambda x: x.tanh(), 0.3)                    # engine vs finite differences
        gradcheck.gradients(loss, {"w1": 0.000438568})       # your numbers vs both

Tolerances come from ini options ``gradcheck_eps``, ``gradcheck_atol`` and ``gradcheck_rtol``.
"""

from __future__ import annotations

import pytest

from autograd.testing import ATOL, EPS, RTOL, GradientChecker

_OPTIONS = {
    "gradcheck_eps": ("step h of the central differences (f(x+h) - f(x-h)) / 2h", EPS),
    "gradcheck_atol": ("absolute tolerance of the gradcheck fixture", ATOL),
    "gradcheck_rtol": ("relative tolerance of the gradcheck fixture", RTOL),
}


_SETTINGS = pytest.StashKey[dict[str, float]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (help_text, default) in _OPTIONS.items():
        parser.addini(name, f"{help_text} (default {default:g})", default=str(default))


def pytest_configure(config: pytest.Config) -> None:
    """Read the tolerances once, so a typo in the ini file stops the run at the start."""
    settings = {}
    for name in _OPTIONS:
        text = config.getini(name)
        try:
            settings[name.removeprefix("gradcheck_")] = float(text)
        except ValueError:
            raise pytest.UsageError(f"ini option {name} must be a number, got {text!r}") from None
    config.stash[_SETTINGS] = settings


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> GradientChecker:
    """Gradient checks that fail the test with a table of every derivative: ``gradcheck(f, *args)``,
    ``gradcheck.gradients(loss, expected)``, ``gradcheck.parameters(loss, model)``, ``gradcheck.op(op, *args)``."""
    return GradientChecker(**request.config.stash[_SETTINGS])

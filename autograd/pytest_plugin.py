"""pytest plugin, registered through the ``pytest11`` entry point: the ``gradcheck`` fixture.

Installed with the package, it needs no configuration::

    def test_my_derivation(gradcheck):
        gradcheck(lambda x: x.tanh(), 0.3)                    # engine vs finite differences
        gradcheck.gradients(loss, {"w1": 0.000438568})       # your numbers vs both

Tolerances come from the ini options ``gradcheck_eps``, ``gradcheck_atol`` and ``gradcheck_rtol``,
and a call may override them: ``gradcheck(f, 1.0, atol=1e-6)``.
"""

from __future__ import annotations

import pytest

from autograd.testing import ATOL, EPS, RTOL, GradientChecker

_OPTIONS = {
    "gradcheck_eps": ("step h of the finite differences", EPS),
    "gradcheck_atol": ("absolute tolerance of the gradcheck fixture", ATOL),
    "gradcheck_rtol": ("relative tolerance of the gradcheck fixture", RTOL),
}
_SETTINGS = pytest.StashKey[dict[str, float]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (help_text, default) in _OPTIONS.items():
        try:  # pytest >= 8.4 reads numbers natively, also from a [tool.pytest] TOML table
            parser.addini(name, f"{help_text} (default {default:g})", type="float", default=default)
        except (AssertionError, ValueError, TypeError):
            parser.addini(name, f"{help_text} (default {default:g})", default=str(default))


def pytest_configure(config: pytest.Config) -> None:
    """Read the tolerances once, so a typo in the ini file stops the run at the start."""
    settings = {}
    for name in _OPTIONS:
        try:
            settings[name.removeprefix("gradcheck_")] = float(config.getini(name))
        except (TypeError, ValueError) as error:
            raise pytest.UsageError(f"ini option {name} must be a number ({error})") from None
    try:
        GradientChecker(**settings)
    except ValueError as error:
        raise pytest.UsageError(f"gradcheck ini options: {error}") from None
    config.stash[_SETTINGS] = settings


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> GradientChecker:
    """Gradient checks that fail the test with a table of every derivative: ``gradcheck(f, *args)``,
    ``gradcheck.gradients(loss, expected)``, ``gradcheck.parameters(loss, model)``, ``gradcheck.op(op, *args)``."""
    return GradientChecker(**request.config.stash[_SETTINGS])  # a fresh one per test: no settings leak between tests

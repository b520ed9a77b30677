"""Check gradients: the engine against a referee, and both against a hand derivation.

- ``gradcheck(f, *args)``: df/d(each input) from the backward pass against the referees; ``order=2``
  adds every second derivative.
- ``check_gradients(loss, expected)``: your hand-derived numbers, the engine's and the referees' side
  by side, one row per node, with a verdict saying which one is off.
- ``check_parameters(loss, model)``: every named parameter of a model at once.
- ``check_op(op, *args)``: the derivative rule of an ``Op`` (yours) against its forward function.
- ``assert_gradients_close(loss, expected)``: ``check_gradients`` that raises, for plain pytest.
- ``check_numpy_gradients(f, gradient, *arrays)``, ``check_numpy_vjp(f, vjp, *arrays)``: a derivation
  written in numpy, as it stands.

Each returns a :class:`GradientReport` that prints as a table; ``report.passed`` says whether every
row agrees, and ``raise_on_failure=True`` (or ``report.raise_if_failed()``) raises
:class:`GradientCheckError`, an AssertionError whose message is the table.

The complex step (``complex_step``). The recorded graph is replayed with one node given an
imaginary part h, each op through its ``complex_forward``: f(x + ih) = f(x) + ih f'(x) + O(h²), so
f' = Im f / h with no difference of nearby values, exact to rounding at any scale. The engine must
agree within 8·ε·(D + 1)·A, A the sum over paths of the products of |partials| and D the longest
path, plus what rounding of the graph's values moves its value by; a hand value within one unit
in the last digit it was typed with (``digits=`` overrides), or that same allowance when computed.
The complex step is the referee wherever every op downstream has a complex forward, the path is
analytic (no kink at the point), the step is small against every value on the way, and, for
gradcheck, ``f`` is its recorded graph near x (called afresh at x ± h, it gives what its graph
replayed gives). The table's *judged by* column names the referee of each row.

The finite differences: the third column, and the referee everywhere else. A first estimate
combines central differences at h = eps * max(1, |x|) (eps = 1e-3) and h/2 by Richardson
extrapolation, D = D(h/2) + (D(h/2) - D(h)) / 3, whose error is O(h⁴) plus rounding: a derivative
that matches it within atol + rtol |D| passes at once. Anything else is measured again with
Ridders' method (a tableau of ever smaller steps, extrapolated, started from several step sizes,
the caller's among them), which also estimates its own error e; then the derivative passes when
|engine - D| <= atol + rtol |D| + 2e. Every quotient divides by the distance between the points as
floats, not by 2h.

Cannot decide (where finite differences judge). Someone is blamed only by a measurement that settled
(its extrapolations agreed as the steps shrank, to 1e-8 or within rounding; its curvature held
steady, so the steps were short against the scale on which f changes; no other run contradicted it)
with e small next to the derivative. The rounding of f's values counts what the graph's own values
add (log(1 + x²) near 0 rounds 1 + x²), and the engine's value may differ from the exact slope by
what rounding does to it (cos(1e4 x) rounds 1e4 x). Otherwise the row is "inconclusive: cannot
decide" and says why: steps long against the scale on which f changes (cos at 3e8; the verdict names
an eps at which they settle, having tried it, or says that none does, as at 1e17, where floats are
16 apart), a jump, a pole or a branch, rounding, an overflow in the forward pass, or f undefined or
overflowing at every step near the point (exp at 709.7827; at 709.7 shorter steps fit, and the row
is measured with them). Such a report does not pass (nothing was verified), but its status says
INCONCLUSIVE, not FAILED, when no row is wrong.

Rules. Every check also audits the derivative rule of each op in the graph at a few of its nodes:
the rule is called with the upstream gradient g = 0.7 and compared with the complex step (or finite
differences) of its forward function, so a rule that is wrong, or forgets to multiply by g, is
named even where the rows happen to agree.

The package keeps one concern per module: ``checks`` (the public checks), ``probe`` (gradcheck's
f at shifted points), ``report`` (rows and tables), ``tolerances`` (and how hand values were typed),
``complex_step`` (the complex replay and its allowance), ``differences`` (finite differences, pure
float code), ``verdicts`` (which number is off), ``replay`` (the recorded graph run again),
``audit`` (each op's rule against its forward), ``inputs`` (reading what callers pass) and
``numpy_checks`` (derivations written in numpy, imported with numpy on first use of its checks).

Kinks. Where an op declares a kink (``Op(..., kinks=[0.0])``: relu, leaky_relu, abs) and the step
moves its argument onto or across it, the derivative does not exist; the row then passes if the
engine's value (and yours) lies between the one-sided slopes, and says so; outside them it is wrong
only if the slopes hold steady as the step shrinks.
"""

from typing import TYPE_CHECKING, Any

from autograd.arrays import numpy_installed
from autograd.testing.checks import (
    GradientChecker,
    assert_gradients_close,
    check_gradients,
    check_op,
    check_parameters,
    gradcheck,
)
from autograd.testing.report import GradientCheckError, GradientReport, GradientRow
from autograd.testing.tolerances import ATOL, EPS, RTOL, Tolerances

if TYPE_CHECKING:
    from autograd.testing.numpy_checks import check_numpy_gradients, check_numpy_vjp

_NUMPY_CHECKS = ("check_numpy_gradients", "check_numpy_vjp")


def __getattr__(name: str) -> Any:
    """The numpy checks, imported on first access: the other checks run where numpy is not installed."""
    if name not in _NUMPY_CHECKS:
        raise AttributeError(f"module 'autograd.testing' has no attribute {name!r}")
    from autograd.arrays import require_numpy

    require_numpy(f"autograd.testing.{name}")
    from autograd.testing import numpy_checks

    return getattr(numpy_checks, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_NUMPY_CHECKS})

__all__ = [
    "ATOL",
    "EPS",
    "RTOL",
    "GradientCheckError",
    "GradientChecker",
    "GradientReport",
    "GradientRow",
    "Tolerances",
    "assert_gradients_close",
    "check_gradients",
    "check_numpy_gradients",
    "check_numpy_vjp",
    "check_op",
    "check_parameters",
    "gradcheck",
]
if not numpy_installed():  # so that `from autograd.testing import *` takes what runs without numpy
    __all__ = [name for name in __all__ if name not in _NUMPY_CHECKS]

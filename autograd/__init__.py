"""A scalar reverse-mode automatic-differentiation engine.

Where things live: ``engine.py`` (the Value node, Op, applying an op), ``rules.py`` (every op on one
row: forward, derivative, array rule, formula), ``backward.py`` (the reverse pass and the graph's
orders), ``forward_mode.py`` (jvp, vjp, jacfwd, hvp), ``transforms.py`` (grad, jacobian, hessian),
``ops.py`` (the ops as functions), ``symbolic.py`` (formulas), ``compiler/`` (trace, plan, execute:
``autograd.compile``) and ``testing/`` (the gradient checks).

numpy is imported where arrays are used, not here: ``compile`` (and ``Compiled``, ``CompiledResult``)
import the compiler on first access, so the scalar engine, the functional API on floats, the checks
and ``formula`` run where numpy is not installed (Pyodide), and compile there raises an ImportError
saying how to install it.

>>> from autograd import Value
>>> x = Value(2.0, label="x")
>>> y = x * x + 3 * x
>>> y.backward()
>>> x.grad  # dy/dx = 2x + 3
7.0
"""

# The engine first: it imports the rule table at its end, and the table builds on its classes.
from autograd.engine import Op, Value

# isort: split
from typing import TYPE_CHECKING, Any

from autograd.arrays import ArrayRule, numpy_installed
from autograd.backward import backprop, backward_order, gradients, local_derivatives, operand_order
from autograd.forward_mode import hvp, jacfwd, jvp, vjp
from autograd.modes import AnomalyError, TracingError, detect_anomaly, enable_grad, is_grad_enabled, no_grad, scope
from autograd.ops import (
    cos,
    dot,
    exp,
    leaky_relu,
    log,
    logsumexp,
    pick,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    sum,
    tanh,
)
from autograd.symbolic import Formula, formula, to_sympy
from autograd.testing import (
    GradientChecker,
    GradientCheckError,
    GradientReport,
    assert_gradients_close,
    check_gradients,
    check_op,
    check_parameters,
    gradcheck,
)
from autograd.transforms import grad, hessian, jacobian, value_and_grad

if TYPE_CHECKING:
    from autograd.compiler import Compiled, CompiledResult, compile

_COMPILER = ("Compiled", "CompiledResult", "compile")


def __getattr__(name: str) -> Any:
    """``compile``, ``Compiled`` and ``CompiledResult`` from the compiler, imported on first access (with
    numpy; where numpy is missing, an ImportError naming compile and how to install numpy)."""
    if name not in _COMPILER:
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")
    from autograd.arrays import require_numpy

    require_numpy(f"autograd.{name}")
    from autograd import compiler

    found = getattr(compiler, name)
    globals().update({n: getattr(compiler, n) for n in _COMPILER})  # looked up once: plain attributes from now on
    return found


def __dir__() -> list[str]:
    return sorted({*globals(), *_COMPILER})

__all__ = [
    "AnomalyError",
    "ArrayRule",
    "Compiled",
    "CompiledResult",
    "Formula",
    "GradientCheckError",
    "GradientChecker",
    "GradientReport",
    "Op",
    "TracingError",
    "Value",
    "assert_gradients_close",
    "backprop",
    "backward_order",
    "check_gradients",
    "check_op",
    "check_parameters",
    "compile",
    "cos",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "exp",
    "formula",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacfwd",
    "jacobian",
    "jvp",
    "leaky_relu",
    "local_derivatives",
    "log",
    "logsumexp",
    "no_grad",
    "operand_order",
    "pick",
    "relu",
    "scope",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "sum",
    "tanh",
    "to_sympy",
    "value_and_grad",
    "vjp",
]
if not numpy_installed():  # so that `from autograd import *` takes what runs without numpy
    __all__ = [name for name in __all__ if name not in _COMPILER]

"""A scalar reverse-mode automatic-differentiation engine.

>>> from autograd import Value
>>> x = Value(2.0, label="x")
>>> y = x * x + 3 * x
>>> y.backward()
>>> x.grad  # dy/dx = 2x + 3
7.0
"""

from autograd.backward import backprop, backward_order, gradients, local_derivatives
from autograd.compiled import Compiled, CompiledResult, compile
from autograd.engine import Op, Value
from autograd.forward import hvp, jacfwd, jvp, vjp
from autograd.functional import grad, hessian, jacobian, value_and_grad
from autograd.functions import (
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
from autograd.modes import AnomalyError, detect_anomaly, enable_grad, is_grad_enabled, no_grad, scope
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
from autograd.tracing import TracingError

__all__ = [
    "AnomalyError",
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

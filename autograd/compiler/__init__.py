"""The compiler: per-sample scalar code, run once and replayed over whole batches with numpy.

    fn(*one sample) --trace--> scalar graph --plan--> array ops --execute--> outputs, gradients
                    tracing.py               plan.py              executor.py

- ``tracing.py`` runs ``fn`` once on the first sample, on Values that refuse to be read as numbers
  (a branch, ``float(x)``, ``x.data``): the graph must not depend on a sample's numbers.
- ``plan.py`` groups the graph's nodes into array ops: one op at one depth becomes one step over
  (batch, k) columns, and a layer's dot nodes one matrix product. A :class:`Plan` is plain data.
- ``executor.py`` runs a plan forward and backward with each op's array rule (``Op.arrays``, on its
  row of the rule table), and words errors as the scalar engine does, naming the sample.
- ``compiled.py`` is the entry point: :func:`compile` and what it returns, which traces again when
  the shapes or the objects ``fn`` reads change.

numpy is imported here, so ``import autograd.compiler`` where numpy is missing raises the ImportError
that names compile and how to install numpy (``import autograd`` alone does not import this package).
"""

try:
    import numpy  # noqa: F401  # the compiler's arrays
except ImportError:  # the error that names compile and how to install numpy, not "No module named 'numpy'"
    from autograd.arrays import require_numpy

    require_numpy("autograd.compile")

from autograd.compiler.compiled import Compiled, CompiledResult, compile
from autograd.compiler.executor import Evaluation
from autograd.compiler.plan import CONSTANTS, LEAVES, ArrayOp, Gather, Piece, Plan
from autograd.compiler.tracing import TracedValue
from autograd.modes import TracingError

__all__ = [
    "CONSTANTS",
    "LEAVES",
    "ArrayOp",
    "Compiled",
    "CompiledResult",
    "Evaluation",
    "Gather",
    "Piece",
    "Plan",
    "TracedValue",
    "TracingError",
    "compile",
]

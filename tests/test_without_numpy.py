"""The scalar library where numpy cannot be imported (as under Pyodide, where numpy is not installed).

Each test runs a fresh Python whose import system refuses ``numpy`` and ``numpy.*`` (a meta-path finder
installed before anything else): ``import autograd`` and ``import viz``, the engine, the functional API
on floats, the gradient checks (their complex-step referee is pure Python), ``formula`` and DOT
generation work, and never import numpy; compile, the numpy checks, ``viz.draw_plan``, ``viz.plots``
and ``nn`` raise an ImportError naming the feature and how to install numpy.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

BLOCK_NUMPY = '''
import sys


class _NoNumpy:
    """numpy and its submodules cannot be found, as where numpy is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoNumpy())
for _name in [m for m in sys.modules if m == "numpy" or m.startswith("numpy.")]:
    del sys.modules[_name]
'''


def run_without_numpy(code: str) -> Any:
    """Run ``code`` in a new Python that cannot import numpy; return the JSON it prints on its last line."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_NUMPY + textwrap.dedent(code)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_numpy_is_unimportable_in_the_subprocess():
    found = run_without_numpy('''
        import json
        try:
            import numpy  # noqa: F401
            print(json.dumps("imported"))
        except ImportError as error:
            print(json.dumps(str(error)))
    ''')
    assert found == "No module named 'numpy'"


def test_the_scalar_engine_the_functional_api_and_the_checks_run_without_numpy():
    found = run_without_numpy('''
        import json
        import math
        import sys

        import autograd as ag
        from autograd import Op, Value

        x = Value(2.0, label="x")
        y = x * x + 3 * x
        y.backward()
        out = {"backward": x.grad}
        out["grad"] = ag.grad(lambda a, b: a * b + ag.sin(a), argnums=(0, 1))(1.5, 2.0)
        out["hessian"] = ag.hessian(lambda a: a**3)(2.0)
        out["hessian_list"] = ag.hessian(lambda a, b: a * a * b, argnums=(0, 1))(1.0, 3.0)
        out["jacobian"] = ag.jacobian(lambda a: [a * a, ag.exp(a)])(0.0)
        out["jvp"] = list(ag.jvp(lambda a: ag.tanh(a), (0.0,), (2.0,)))
        out["vjp"] = list(ag.vjp(lambda a: a * a, 3.0)[1](1.0))
        out["value_and_grad"] = list(ag.value_and_grad(lambda a: ag.log(a))(math.e))
        out["hvp"] = ag.hvp(lambda a: a**4, (1.0,), (1.0,))

        out["gradcheck"] = ag.gradcheck(lambda a, b: ag.sigmoid(a * b) + ag.sqrt(b), 0.3, 1.7, order=2).passed
        w = Value(0.7, label="w")
        b = Value(-0.2, label="b")
        loss = ag.softplus(w * 1.5 + b) ** 2
        loss.backward()
        report = ag.check_gradients(loss, {"w": w.grad, "b": b.grad})
        out["check_gradients"] = report.passed
        out["judged_by_complex_step"] = "complex step" in str(report)
        out["check_parameters"] = ag.check_parameters(loss, [w, b]).passed
        cube = Op("cube", lambda a: a * a * a, lambda g, a, out: (3.0 * g * a * a,))
        out["check_op"] = ag.check_op(cube, 0.8).passed
        wrong = Op("wrong_cube", lambda a: a * a * a, lambda g, a, out: (2.0 * g * a * a,))
        out["check_op_catches"] = not ag.check_op(wrong, 0.8).passed

        try:
            import sympy  # noqa: F401
        except ImportError:
            out["formula"] = None
        else:
            out["formula"] = str(ag.formula(x * x + 3 * x))
        namespace = {}
        exec("from autograd import *", namespace)
        exec("from autograd.testing import *", namespace)
        out["star"] = sorted({"Value", "grad", "gradcheck", "compile", "check_numpy_gradients"} & set(namespace))
        out["numpy_loaded"] = "numpy" in sys.modules
        print(json.dumps(out))
    ''')
    assert found["backward"] == 7.0
    assert found["grad"] == [2.0 + math.cos(1.5), 1.5]  # d(ab + sin a) = (b + cos a, a)
    assert found["hessian"] == [[12.0]]
    assert found["hessian_list"] == [[6.0, 2.0], [2.0, 0.0]]
    assert found["jacobian"] == [[0.0], [1.0]]
    assert found["jvp"] == [0.0, 2.0]
    assert found["vjp"] == [6.0]
    assert found["value_and_grad"][0] == 1.0 and found["value_and_grad"][1] == 1 / math.e
    assert found["hvp"] == 12.0
    assert found["gradcheck"] and found["check_gradients"] and found["judged_by_complex_step"]
    assert found["check_parameters"] and found["check_op"] and found["check_op_catches"]
    assert found["formula"] is None or "x**2 + 3*x" in found["formula"]
    assert found["star"] == ["Value", "grad", "gradcheck"]  # a star import takes what runs without numpy
    assert not found["numpy_loaded"]


def test_diagrams_of_scalar_graphs_are_made_without_numpy():
    found = run_without_numpy('''
        import json
        import sys

        import autograd as ag
        import viz
        from autograd import Value

        x = Value(0.5, label="x")
        w = Value(-1.5, label="w")
        y = ag.sigmoid(x * w)
        y.backward()
        source = viz.draw_graph(y).source
        steps = viz.backward_steps(y)
        print(json.dumps({
            "digraph": source.lstrip().startswith("digraph"),
            "labels": all(label in source for label in ("x", "w", "σ")),
            "steps": len(steps),
            "numpy_loaded": "numpy" in sys.modules,
        }))
    ''')
    assert found == {"digraph": True, "labels": True, "steps": 4, "numpy_loaded": False}  # y, x·w, x, w


def test_what_needs_arrays_says_so_and_how_to_install_numpy():
    found = run_without_numpy('''
        import importlib
        import json

        import autograd as ag
        import viz

        def error_of(action):
            try:
                action()
            except ImportError as error:
                return [type(error).__name__, error.name, str(error)]
            return None

        print(json.dumps({
            "ag.compile": error_of(lambda: ag.compile(lambda x: x * x)),
            "from autograd import compile": error_of(lambda: exec("from autograd import compile")),
            "autograd.compiler": error_of(lambda: importlib.import_module("autograd.compiler")),
            "check_numpy_gradients": error_of(lambda: ag.testing.check_numpy_gradients),
            "viz.draw_plan": error_of(lambda: viz.draw_plan(None)),
            "viz.plots": error_of(lambda: importlib.import_module("viz.plots")),
            "nn": error_of(lambda: importlib.import_module("nn")),
        }))
    ''')
    features = {
        "ag.compile": "autograd.compile",
        "from autograd import compile": "autograd.compile",
        "autograd.compiler": "autograd.compile",
        "check_numpy_gradients": "autograd.testing.check_numpy_gradients",
        "viz.draw_plan": "viz.draw_plan",
        "viz.plots": "viz.plots",
        "nn": "nn",
    }
    for action, feature in features.items():
        assert found[action] is not None, f"{action} ran without numpy"
        kind, name, message = found[action]
        assert kind == "ModuleNotFoundError" and name == "numpy", (action, kind, name)
        assert message.startswith(f"{feature} needs numpy"), (action, message)
        assert "pip install numpy" in message, (action, message)

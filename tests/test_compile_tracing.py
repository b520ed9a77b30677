"""``autograd.compile``: what tracing refuses (naming the line), when it traces again, and its errors.

Errors met while a batch is replayed must be the scalar engine's own, with the sample named: each
case here finds the scalar engine's exception by running the offending sample through it.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value

HERE = Path(__file__).resolve()


def line_marked(tag: str) -> str:
    """``file:line`` of the line of this file that ends with the comment ``# <tag>``."""
    for number, text in enumerate(HERE.read_text(encoding="utf-8").splitlines(), 1):
        if text.rstrip().endswith(f"# {tag}"):
            return f"{HERE}:{number}"
    raise AssertionError(f"no line marked {tag}")


# -- control flow on traced values -----------------------------------------------------------------


def branch_on_comparison(x):
    if x > 0:  # refused: if
        return x
    return -x


def builtin_max(x):
    return max(x, 2 * x)  # refused: max


def builtin_max_of_a_list(xs):
    return max(xs)  # refused: max of a list


def float_of(x):
    return x * float(x)  # refused: float


def data_of(x):
    return x * x.data  # refused: data


def math_exp_of(x):
    return x * math.exp(x)  # refused: math.exp


def label_as_index(xs, label):
    return xs[label]  # refused: index


def rounded(x):
    return x * round(x)  # refused: round


def truth_of(x):
    return x * bool(x)  # refused: bool


def while_on(x):
    while x:  # refused: while
        x = x - 1
    return x


def int_of(x):
    return x * int(x)  # refused: int


def detached(x):
    return x.detach() * x  # refused: detach


def formatted(x):
    return x * float(f"{x:.3f}")  # refused: format


def sorted_values(xs):
    return sorted(xs)[0]  # refused: sorted


def inside_a_model_call(xs):
    model: Any = nn.MLP(3, [2, 1], seed=0)
    return model(xs) * math.exp(xs[0])  # refused: inside a model call


CASES: dict[str, tuple[Callable[..., Any], str, str]] = {
    "if": (branch_on_comparison, "comparing a traced Value", "relu"),
    "max": (builtin_max, "comparing a traced Value", "a + relu(b - a)"),
    "max of a list": (builtin_max_of_a_list, "comparing a traced Value", "relu"),
    "float": (float_of, "float() of a traced Value", "x.exp()"),
    "data": (data_of, "reading .data of a traced Value", "Use the Value itself"),
    "math.exp": (math_exp_of, "a math function", "instead of math's"),
    "index": (label_as_index, "used as an index", "ag.pick(values, index)"),
    "round": (rounded, "round() of a traced Value", "Use the Value itself"),
    "bool": (truth_of, "the truth value of a traced Value", "relu"),
    "while": (while_on, "the truth value of a traced Value", "relu"),
    "int": (int_of, "int() of a traced Value", "Use the Value itself"),
    "detach": (detached, "detach() of a traced Value", "Use the Value itself"),
    "format": (formatted, "formatting the number of a traced Value", "Use the Value itself"),
    "sorted": (sorted_values, "comparing a traced Value", "relu"),
    "inside a model call": (inside_a_model_call, "a math function", "instead of math's"),
}


def batch_for(fn: Callable[..., Any]) -> list[np.ndarray]:
    if fn is label_as_index:
        return [np.ones((3, 2)), np.array([0, 1, 1])]
    if fn in (builtin_max_of_a_list, sorted_values, inside_a_model_call):
        return [np.arange(9.0).reshape(3, 3)]
    return [np.array([1.5, -2.0, 3.0])]


@pytest.mark.parametrize("tag", sorted(CASES))
def test_control_flow_on_a_traced_value_names_the_line_and_the_way_out(tag):
    fn, what, instead = CASES[tag]
    with pytest.raises(ag.TracingError) as caught:
        ag.compile(fn, reduce="sum")(*batch_for(fn))
    message = str(caught.value)
    assert f"at {line_marked(f'refused: {tag}')} (" in message, message
    assert what in message and instead in message, message
    assert isinstance(caught.value, TypeError)  # a TracingError is a TypeError, as float(None) is


def test_the_same_code_runs_on_plain_values():
    # Nothing is refused outside a trace: the functions above are ordinary scalar code.
    assert float_of(Value(2.0)).data == 4.0
    assert branch_on_comparison(Value(-2.0)).data == 2.0
    assert label_as_index([Value(1.0), Value(5.0)], 1).data == 5.0


def test_what_is_allowed_while_tracing():
    w = Value(0.5)

    def fn(x):
        text = f"{x} {x!r} {w:.2f}"  # repr (which shows no number), and the number of a parameter as text
        assert "TracedValue(one number per sample, label='x')" in text and "0.50" in text
        return x * w + (x is x) + (x == x)  # identity tests involve no number

    result = ag.compile(fn, reduce="sum")(np.array([1.0, 2.0]))
    assert result.data == pytest.approx(0.5 * (1.0 + 2.0) + 2 * (1 + 1), rel=1e-15)  # True counts as 1


# -- tracing again ---------------------------------------------------------------------------------


def test_same_sample_shapes_replay_and_new_ones_trace():
    w = Value(1.5)
    compiled = ag.compile(lambda x: ag.sum(x) * w)
    compiled(np.ones((4, 3)))
    compiled(np.full((4, 3), 2.0))
    compiled(np.ones((7, 3)))  # another batch size: the same per-sample shape
    assert compiled.traces == 1
    result = compiled(np.ones((2, 5)))
    assert compiled.traces == 2
    assert result.data == pytest.approx(5 * 1.5, rel=1e-15)
    compiled(np.ones((2, 3)))  # back to the first shape: its plan is kept
    assert compiled.traces == 2


def scalar_mean(model: Any, xs: np.ndarray) -> float:
    return float(np.mean([model([float(v) for v in row]).data for row in xs]))


def test_rebinding_a_closed_over_model_traces_again():
    xs = np.random.default_rng(0).normal(size=(5, 2))
    model = nn.MLP(2, [3, 1], seed=0)
    compiled = ag.compile(lambda x: model(x))
    assert compiled(xs).data == pytest.approx(scalar_mean(model, xs), rel=1e-12)
    model = nn.MLP(2, [3, 1], seed=1)
    result = compiled(xs)
    assert compiled.traces == 2
    assert result.data == pytest.approx(scalar_mean(model, xs), rel=1e-12)
    result.backward()
    assert any(p.grad != 0.0 for p in model.parameters())  # the new model's parameters get the gradient


GLOBAL_MODEL: Any = nn.MLP(2, [3, 1], seed=0)


def helper(x):
    return GLOBAL_MODEL(x)


def test_rebinding_a_global_model_read_by_a_helper_or_a_comprehension_traces_again():
    global GLOBAL_MODEL
    xs = np.random.default_rng(1).normal(size=(4, 2))
    through_helper = ag.compile(lambda x: helper(x))
    in_comprehension = ag.compile(lambda rows: ag.sum([GLOBAL_MODEL(row) for row in rows]), reduce=None)
    first = GLOBAL_MODEL
    try:
        through_helper(xs)
        in_comprehension(xs[:, None, :])
        GLOBAL_MODEL = nn.MLP(2, [3, 1], seed=2)
        assert through_helper(xs).data == pytest.approx(scalar_mean(GLOBAL_MODEL, xs), rel=1e-12)
        expected = [GLOBAL_MODEL([float(v) for v in row]).data for row in xs]
        np.testing.assert_allclose(in_comprehension(xs[:, None, :]).data, expected, rtol=1e-12)
        assert (through_helper.traces, in_comprehension.traces) == (2, 2)
    finally:
        GLOBAL_MODEL = first


def test_updated_parameters_are_read_without_tracing_again():
    w = Value(2.0)
    compiled = ag.compile(lambda x: x * w, reduce="sum")
    assert compiled(np.array([1.0, 2.0])).data == 6.0
    w.data = -1.0
    assert compiled(np.array([1.0, 2.0])).data == -3.0
    assert compiled.traces == 1


# -- wrong calls ---------------------------------------------------------------------------------------


def test_wrong_calls_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"reduce must be 'mean', 'sum' or None, got 'max'"):
        ag.compile(lambda x: x, reduce="max")
    with pytest.raises(TypeError, match="fn must be a function of one sample, got int 3"):
        ag.compile(3)  # type: ignore[arg-type]
    compiled = ag.compile(lambda x, y: x * y)
    with pytest.raises(ValueError, match="the batch is empty"):
        compiled(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="argument 0 has 3 samples but argument 1 has 2"):
        compiled(np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match="argument 1 must hold numbers, got dtype <U1"):
        compiled(np.ones(2), np.array(["a", "b"]))
    with pytest.raises(ValueError, match="argument 0 is one number; its first axis must be the batch"):
        compiled(2.0, np.ones(2))
    with pytest.raises(TypeError, match="at least one batched argument"):
        ag.compile(lambda: Value(1.0))()
    with pytest.raises(TypeError, match=r"must return a Value .* got float 1\.0"):
        ag.compile(lambda x: 1.0)(np.ones(2))
    with pytest.raises(TypeError, match=r"reduce='mean' needs the function to return one Value .* returned 2 Values"):
        ag.compile(lambda x: [x, x * 2])(np.ones(2))
    with pytest.raises(TypeError, match=r"reduce='sum' needs"):
        ag.compile(lambda x: [x], reduce="sum")(np.ones(2))
    assert compiled.traces == 0


# -- errors while replaying ------------------------------------------------------------------------------


def scalar_error(fn: Callable[..., Any], *numbers: float, backward: bool = False) -> BaseException:
    """What the scalar engine raises for one sample."""
    try:
        out = fn(*(Value(n) for n in numbers))
        if backward:
            out.backward()
    except (ArithmeticError, ValueError, IndexError) as error:
        return error
    raise AssertionError("the scalar engine raised nothing")


DOMAIN: dict[str, tuple[Callable[..., Any], float]] = {
    "log of 0": (lambda x: (x * 1.0).log(), 0.0),
    "sqrt of a negative": (lambda x: ag.sqrt(x + 1.0), -2.0),
    "division by zero": (lambda x: 1.0 / x, 0.0),
    "exp overflow": (lambda x: (x * 2.0).exp(), 400.0),
    "pow overflow": (lambda x: x**400, 1e10),
    "0 to a negative power": (lambda x: x**-1.5, 0.0),
    "negative base, fractional power": (lambda x: x**0.5, -4.0),
    "sin of infinity": (lambda x: (x * 1e300).sin(), 1e10),
}


@pytest.mark.parametrize("name", sorted(DOMAIN))
@pytest.mark.parametrize("sample", [0, 2])
def test_domain_errors_raise_as_the_scalar_engine_does_and_name_the_sample(name, sample):
    fn, bad = DOMAIN[name]
    numbers = np.array([0.5, 0.75, 0.25, 0.6])
    numbers[sample] = bad
    expected = scalar_error(fn, bad)
    for first_call in (True, False):
        compiled = ag.compile(fn)
        if not first_call:
            compiled(np.array([0.5]))  # traced on a good sample: the error is met while replaying
        with pytest.raises(type(expected)) as caught:
            compiled(numbers)
        assert type(caught.value) is type(expected)
        assert str(expected) in str(caught.value) and f"sample #{sample}" in str(caught.value)


def test_domain_errors_in_backward_name_the_sample():
    fn = lambda x: ag.sqrt(x * x)  # d sqrt(u)/du is infinite at u = 0
    expected = scalar_error(fn, 0.0, backward=True)
    result = ag.compile(fn)(np.array([1.0, 0.0, 2.0]))
    with pytest.raises(type(expected), match=r"sample #1 of the batch"):
        result.backward()


def test_a_bad_label_names_the_sample():
    expected = scalar_error(lambda i: ag.pick([Value(1.0), Value(2.0)], i), 5.0)
    for labels in (np.array([0, 1, 5]), np.array([0, 1, 0.5])):
        with pytest.raises(type(expected), match=r"pick: index .* is not a whole number in \[0, 2\).*sample #2"):
            ag.compile(lambda xs, i: ag.pick(xs, i))(np.ones((3, 2)), labels)


def test_custom_op_errors_name_the_sample():
    reciprocal = ag.Op("reciprocal", lambda x: 1.0 / x, lambda g, x, out: (-g / (x * x),))
    with pytest.raises(ZeroDivisionError, match=r"sample #1 of the batch, node 0 of the reciprocal step"):
        ag.compile(lambda x: reciprocal(x))(np.array([1.0, 0.0]))


def test_quiet_infinities_stay_quiet_as_in_the_scalar_engine():
    # + - * may give inf without raising; the scalar engine does the same
    result = ag.compile(lambda x: x * 1e300 * 1e300, reduce=None)(np.array([1e-300, 1.0]))
    assert isinstance(result.data, np.ndarray)
    assert result.data[0] == pytest.approx(1e300, rel=1e-15) and result.data[1] == math.inf


# -- detect_anomaly --------------------------------------------------------------------------------------


def anomaly_message(fn: Callable[..., Any], data: Any, backward: bool = False) -> str:
    compiled = ag.compile(fn)
    with ag.detect_anomaly():
        if not backward:
            with pytest.raises(ag.AnomalyError) as caught:
                compiled(*data)
            return str(caught.value)
        result = compiled(*data)
        with pytest.raises(ag.AnomalyError) as caught:
            result.backward()
        return str(caught.value)


def test_detect_anomaly_names_the_op_and_the_sample():
    fn = lambda x: (x * 1e300 * 1e300).tanh()
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="forward of mul gave inf"):
        fn(Value(1.0))  # the scalar engine stops at the same op
    message = anomaly_message(fn, [np.array([1e-300, 1e-300, 1.0])])
    assert "forward of mul gave inf" in message and "sample #2 of the batch" in message


def test_detect_anomaly_on_a_nan_in_the_data():
    fn = lambda x: ag.tanh(x * 2.0)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="forward of mul gave nan"):
        fn(Value(math.nan))
    message = anomaly_message(fn, [np.array([0.1, 0.2, 0.3, math.nan])])
    assert "forward of mul gave nan" in message and "sample #3" in message


def test_detect_anomaly_in_a_network_whose_layers_change_width():
    model: Any = nn.MLP(3, [5, 2], seed=0)
    xs = np.ones((4, 3))
    xs[1, 2] = math.inf
    message = anomaly_message(lambda x: ag.sum(model(x)), [xs])
    assert re.search(r"forward of dot gave -?inf", message) and "sample #1" in message  # the sign: neuron 0's weight
    with ag.detect_anomaly():  # and a clean batch runs through
        assert np.isfinite(ag.compile(lambda x: ag.sum(model(x)))(np.ones((4, 3))).data)


def test_detect_anomaly_in_backward():
    e = Value(2.0)
    fn = lambda x: x**e  # d/de at a negative base is NaN
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError):
        fn(Value(-1.0)).backward()
    message = anomaly_message(fn, [np.array([1.0, -1.0])], backward=True)
    assert re.search(r"backward of pow gave a non-finite gradient at sample #1", message), message


def test_detect_anomaly_on_the_first_sample_while_tracing():
    message = anomaly_message(lambda x: ag.tanh(x * 2.0), [np.array([math.nan, 0.2])])
    assert "forward of mul gave nan" in message and "sample #0" in message


def test_no_grad_on_traced_values_is_refused_at_its_line():
    w = Value(2.0)

    def fn(x: Value) -> Value:
        with ag.no_grad():
            scale = x * 3.0  # cut from the graph: would be sample 0's number for every sample
        return w * scale

    with pytest.raises(ag.TracingError, match=r"test_compile_tracing\.py:\d+ \(scale = x \* 3\.0.*no_grad"):
        ag.compile(fn)(np.array([1.0, 2.0]))
    with ag.no_grad():  # no_grad around the call, as in evaluation code, still compiles the graph
        assert ag.compile(lambda x: w * x)(np.array([1.0, 2.0])).data == 3.0


def test_no_grad_on_parameters_alone_makes_a_constant():
    w = Value(2.0)

    def fn(x: Value) -> Value:
        with ag.no_grad():
            scale = w * 3.0  # no traced input: a constant, as the scalar engine makes it
        return scale * x

    result = ag.compile(fn)(np.array([1.0, 2.0]))
    assert result.data == 9.0  # 6 * mean(1, 2), by hand
    result.backward()
    assert w.grad == 0.0  # cut from the graph in the scalar engine too


class CodedError(ValueError):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def test_an_error_of_a_custom_type_keeps_its_type_and_gets_the_sample_as_a_note():
    def forward(v: float) -> float:
        if v > 1.5:
            raise CodedError(f"too big: {v}", 7)
        return v

    op = ag.Op("picky", forward, lambda g, v, out: (g,))
    compiled = ag.compile(lambda x: op(x))
    with pytest.raises(CodedError) as caught:
        compiled(np.array([1.0, 2.0]))  # sample 0 traces fine; sample 1 fails in the replay
    assert caught.value.code == 7
    if sys.version_info >= (3, 11):
        assert any("sample #1" in note for note in caught.value.__notes__)


@pytest.mark.parametrize("gradient", [np.ones(2), "a", None])
def test_backward_of_a_mean_takes_one_number(gradient: object):
    w = Value(2.0)
    result = ag.compile(lambda x: w * x)(np.array([1.0, 2.0]))
    if gradient is None:
        result.backward()
        assert w.grad == 1.5
        return
    with pytest.raises(TypeError, match=r"backward of a mean \(gradient\): expected a real number"):
        result.backward(gradient)  # type: ignore[arg-type]
    assert w.grad == 0.0

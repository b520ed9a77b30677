"""check_numpy_gradients and check_numpy_vjp: numpy derivations, right and wrong, against each referee.

The expected numbers come from outside the code under test: the derivations are written out here by
hand, and the wrong ones are the right ones with one slip each (a sign, a transpose, a factor, an
axis), so the rows that must fail are exactly those where the two differ.
"""

from __future__ import annotations

import doctest
import functools
import inspect
import math
from typing import Any

import numpy as np
import pytest

import autograd.testing.checks as checks
import autograd.testing.numpy_checks as numpy_checks
from autograd.testing import GradientCheckError, GradientReport, check_numpy_gradients, check_numpy_vjp

RNG = np.random.default_rng(7)
W = np.array([[0.5, -1.0, 0.2], [2.0, 0.3, -0.7], [-0.4, 0.9, 1.1]])
X = np.array([0.4, 0.7, -0.3])


def layer(w, x):
    return np.sum(np.tanh(w @ x))


def layer_gradient(w, x):
    delta = 1 - np.tanh(w @ x) ** 2  # d sum(tanh z) / dz
    return np.outer(delta, x), w.T @ delta


def failing(report: GradientReport) -> set[str]:
    return {row.name for row in report.failures}


def differing(right: tuple[np.ndarray, ...], wrong: tuple[np.ndarray, ...], names: tuple[str, ...]) -> set[str]:
    """The row names where a wrong derivation differs from the right one."""
    found = set()
    for name, a, b in zip(names, right, wrong, strict=True):
        for index in np.ndindex(a.shape):
            if not np.isclose(a[index], b[index], rtol=1e-9, atol=1e-15):
                found.add(f"{name}[{','.join(map(str, index))}]" if index else name)
    return found


def test_a_right_derivation_passes_with_the_engine_as_referee():
    report = check_numpy_gradients(layer, layer_gradient, W, X)
    assert report.passed and "the engine" in report.title
    assert [row.name for row in report.rows][:2] == ["w[0,0]", "w[0,1]"] and report.rows[-1].name == "x[2]"
    dw, dx = layer_gradient(W, X)
    assert [row.engine for row in report.rows] == pytest.approx([*dw.ravel(), *dx], rel=1e-12)


@pytest.mark.parametrize(
    "slip",
    [
        pytest.param(lambda w, x, d: (np.outer(d, x), -(w.T @ d)), id="sign"),
        pytest.param(lambda w, x, d: (np.outer(d, x), w @ d), id="missing transpose"),
        pytest.param(lambda w, x, d: (np.outer(np.ones(3), x), w.T @ d), id="forgotten tanh' factor"),
        pytest.param(lambda w, x, d: (np.outer(x, d), w.T @ d), id="outer product the wrong way round"),
    ],
)
def test_each_slip_is_blamed_on_the_hand_derivation(slip: Any):
    def wrong(w, x):
        return slip(w, x, 1 - np.tanh(w @ x) ** 2)

    report = check_numpy_gradients(layer, wrong, W, X)
    expected = differing(layer_gradient(W, X), wrong(W, X), ("w", "x"))
    assert expected and not report.passed
    assert failing(report) == expected
    assert {row.kind for row in report.failures} == {"hand"}


def broadcast(x, b):
    return np.sum(np.tanh(x + b) * np.arange(1.0, 10.0).reshape(3, 3))


def broadcast_gradient(x, b, axis=0):
    delta = (1 - np.tanh(x + b) ** 2) * np.arange(1.0, 10.0).reshape(3, 3)
    return delta, delta.sum(axis=axis)  # b is added to every row: its gradient sums over the rows, axis 0


def test_a_broadcast_summed_over_the_wrong_axis_is_caught():
    bias = np.array([0.1, -0.2, 0.3])
    assert check_numpy_gradients(broadcast, broadcast_gradient, W, bias).passed
    report = check_numpy_gradients(broadcast, lambda x, b: broadcast_gradient(x, b, axis=1), W, bias)
    expected = differing(broadcast_gradient(W, bias), broadcast_gradient(W, bias, axis=1), ("x", "b"))
    assert expected == {"b[0]", "b[1]", "b[2]"} and failing(report) == expected
    assert {row.kind for row in report.failures} == {"hand"}


def test_a_keepdims_slip_is_a_shape_error_naming_the_argument_and_both_shapes():
    def keepdims(x, b):
        delta = broadcast_gradient(x, b)[0]
        return delta, delta.sum(axis=0, keepdims=True)

    with pytest.raises(ValueError, match=r"keepdims returned shape \(1, 3\) for b, expected \(3,\)"):
        check_numpy_gradients(broadcast, keepdims, W, np.zeros(3))


# A two-layer network: affine, relu, affine, softmax cross-entropy (mean over the batch).
N, D, H, C = 4, 3, 5, 3
DATA = RNG.normal(size=(N, D))
LABELS = np.array([0, 2, 1, 2])
PARAMETERS = (RNG.normal(size=(D, H)), RNG.normal(size=H) * 0.1, RNG.normal(size=(H, C)), RNG.normal(size=C) * 0.1)


def network_loss(w1, b1, w2, b2):
    hidden = np.maximum(DATA @ w1 + b1, 0.0)
    scores = hidden @ w2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probabilities[np.arange(N), LABELS]) / N


def network_gradient(w1, b1, w2, b2, relu_mask=True):
    pre = DATA @ w1 + b1
    hidden = np.maximum(pre, 0.0)
    scores = hidden @ w2 + b2
    probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    dscores = probabilities.copy()
    dscores[np.arange(N), LABELS] -= 1
    dscores /= N
    dhidden = dscores @ w2.T
    dpre = dhidden * (pre > 0) if relu_mask else dhidden
    return DATA.T @ dpre, dpre.sum(axis=0), hidden.T @ dscores, dscores.sum(axis=0)


def test_an_affine_relu_softmax_network_passes_and_a_missing_relu_mask_does_not():
    report = check_numpy_gradients(network_loss, network_gradient, *PARAMETERS)
    assert report.passed, report
    assert "the engine" in report.title and len(report.rows) == D * H + H + H * C + C
    no_mask = check_numpy_gradients(network_loss, functools.partial(network_gradient, relu_mask=False), *PARAMETERS)
    expected = differing(network_gradient(*PARAMETERS), network_gradient(*PARAMETERS, relu_mask=False),
                         ("w1", "b1", "w2", "b2"))  # fmt: skip
    assert expected and failing(no_mask) == expected
    assert {row.kind for row in no_mask.failures} == {"hand"}


def test_units_the_graph_never_reaches_have_derivative_zero():
    dead = np.array([[-1.0, -2.0], [3.0, 0.5]])  # the first unit's input is negative: relu cuts it off

    def relu_layer(w, x):
        return np.sum(np.maximum(w @ x, 0.0))

    def relu_gradient(w, x, leak=0.0):
        mask = np.where(w @ x > 0, 1.0, leak)
        return np.outer(mask, x), w.T @ mask

    x = np.array([0.4, 0.7])
    assert check_numpy_gradients(relu_layer, relu_gradient, dead, x).passed
    report = check_numpy_gradients(relu_layer, lambda w, x: relu_gradient(w, x, leak=0.1), dead, x)
    assert failing(report) == {"w[0,0]", "w[0,1]", "x[0]", "x[1]"}
    assert {row.kind for row in report.failures} == {"hand"}


def test_a_tie_in_np_maximum_is_a_kink_whichever_side_the_hand_takes():
    x = np.array([1.0, -1.0])

    def relu_layer(w, b):  # at w = (0.5, 0.5), b = 0 the first unit's input is exactly 0
        return np.sum(np.maximum(w @ x + b, 0.0) * np.array([1.0, 2.0]))

    def relu_gradient(w, b, scale=1.0):
        mask = (w @ x + b > 0) * np.array([1.0, 2.0])  # 0 at the tie, where np.maximum on Values keeps the input
        return np.outer(mask, x), mask * np.array([1.0, scale])

    w, b = np.array([[0.5, 0.5], [1.0, -1.0]]), np.zeros(2)
    report = check_numpy_gradients(relu_layer, relu_gradient, w, b)
    assert report.passed and {row.name for row in report.rows if row.kind == "kink"} == {"w[0,0]", "w[0,1]", "b[0]"}
    slip = check_numpy_gradients(relu_layer, functools.partial(relu_gradient, scale=3.0), w, b)
    assert failing(slip) == {"b[1]"} and slip.failures[0].kind == "hand"


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps, reason="long double is float64 here")
def test_float64_rounding_of_a_right_formula_is_no_slip_and_a_real_slip_still_is():
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def saturated(w, b):
        return np.sum(sigmoid(3.0 * w + b))

    def saturated_gradient(w, b, factor=3.0):  # σ(z)(1 - σ(z)) at z = 19 keeps eight digits: 1 - σ cancels
        s = sigmoid(3.0 * w + b)
        return factor * s * (1 - s), s * (1 - s)

    w, b = np.array([6.0, 0.1, -6.5]), np.array([1.0, 0.2, -1.0])
    report = check_numpy_gradients(saturated, saturated_gradient, w, b)
    assert report.passed, report
    assert "long double" in report.rows[0].verdict  # off the exact slope by 8e-9 of it, by rounding alone
    slip = check_numpy_gradients(saturated, functools.partial(saturated_gradient, factor=1.0), w, b)
    assert failing(slip) == {"w[0]", "w[1]", "w[2]"} and {row.kind for row in slip.failures} == {"hand"}


def softplus(x):
    return np.sum(np.log1p(np.exp(x)))  # no log1p for Values: the engine cannot run this


def test_complex_step_referees_what_the_engine_cannot_run():
    x = np.array([0.3, -1.2, 2.0])
    report = check_numpy_gradients(softplus, lambda x: 1 / (1 + np.exp(-x)), x)
    assert report.passed and "complex step" in report.title
    assert any("log1p" in note for note in report.notes)
    wrong = check_numpy_gradients(softplus, lambda x: 1 / (1 + np.exp(x)), x)  # the sign slip of sigmoid
    assert failing(wrong) == {"x[0]", "x[1]", "x[2]"} and {row.kind for row in wrong.failures} == {"hand"}
    # complex step is exact to rounding, so a slip of one part in ten million is seen too
    slight = check_numpy_gradients(softplus, lambda x: (1 + 1e-7) / (1 + np.exp(-x)), x)
    assert failing(slight) == {"x[0]", "x[1]", "x[2]"} and {row.kind for row in slight.failures} == {"hand"}
    assert {row.referee for row in report.rows} == {"complex step"}


def test_np_linalg_is_refereed_by_complex_step_and_a_missing_transpose_caught():
    matrix = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4], [0.2, 0.7, 1.0]])

    def log_det(a):
        return np.log(np.linalg.det(a))  # d log det a / da = a⁻ᵀ

    right = check_numpy_gradients(log_det, lambda a: np.linalg.inv(a).T, matrix)
    assert right.passed and "complex step" in right.title
    wrong = check_numpy_gradients(log_det, lambda a: np.linalg.inv(a), matrix)
    assert failing(wrong) == differing((np.linalg.inv(matrix).T,), (np.linalg.inv(matrix),), ("a",))
    assert {row.kind for row in wrong.failures} == {"hand"}


def test_finite_differences_referee_what_neither_can_run_and_the_report_says_why():
    special = pytest.importorskip("scipy.special")
    x = np.array([0.3, -1.2, 2.0])

    def log_sigmoid(x):
        return np.sum(np.log(special.expit(x)))  # expit has neither a Value nor a complex loop

    report = check_numpy_gradients(log_sigmoid, lambda x: 1 - special.expit(x), x)
    assert report.passed and "finite differences" in report.title
    assert len(report.notes) == 2 and "engine" in report.notes[0] and "complex" in report.notes[1]
    wrong = check_numpy_gradients(log_sigmoid, lambda x: special.expit(x), x)
    assert failing(wrong) == {"x[0]", "x[1]", "x[2]"} and {row.kind for row in wrong.failures} == {"hand"}


def test_a_function_of_plain_floats_is_refereed_by_finite_differences():
    erf = np.vectorize(math.erf)  # math.erf takes a Value as a float, and refuses complex numbers

    def mass(x):
        return np.sum(erf(x))

    slope = np.vectorize(lambda t: 2 / math.sqrt(math.pi) * math.exp(-t * t))
    x = np.array([0.3, -1.2, 2.0])
    report = check_numpy_gradients(mass, slope, x)
    assert report.passed and "finite differences" in report.title
    assert "returns float" in report.notes[0] and "complex" in report.notes[1]
    wrong = check_numpy_gradients(mass, lambda x: slope(x) / 2, x)  # the 2 of 2/√π forgotten
    assert failing(wrong) == {"x[0]", "x[1]", "x[2]"} and {row.kind for row in wrong.failures} == {"hand"}


def test_a_function_that_quietly_leaves_the_graph_or_the_complex_plane_is_not_trusted():
    x = np.array([0.3, -1.2, 2.0])

    def half_out(x):  # np.asarray(x, float) turns Values into numbers: the engine sees tanh(x) * constant
        return np.sum(np.tanh(x) * np.asarray(x, dtype=float))

    def half_out_gradient(x):
        return (1 - np.tanh(x) ** 2) * x + np.tanh(x)

    report = check_numpy_gradients(half_out, half_out_gradient, x)
    assert report.passed and "finite differences" in report.title
    assert "random direction" in report.notes[0]

    def squared_modulus(x):  # conj is the identity on reals, not analytic on complex numbers
        return np.sum(np.log1p(x) * np.conj(np.log1p(x)))

    x = np.array([0.3, 1.2, 2.0])
    report = check_numpy_gradients(squared_modulus, lambda x: 2 * np.log1p(x) / (1 + x), x)
    assert report.passed and "finite differences" in report.title
    assert "random direction" in report.notes[-1]


def affine_forward(x, w, b):
    return x @ w + b


def affine_backward(dout, cache):
    x, w, _ = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def affine_backward_no_transpose(dout, cache):
    x, w, _ = cache
    return dout @ w, x.T @ dout, dout.sum(axis=0)


def test_the_vjp_of_affine_backward_right_and_with_a_missing_transpose():
    x, w, b = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 3)), RNG.normal(size=3)
    right = check_numpy_vjp(affine_forward, lambda dout, x, w, b: affine_backward(dout, (x, w, b)), x, w, b)
    assert right.passed and "the engine" in right.title and len(right.rows) == 12 + 9 + 3
    wrong = check_numpy_vjp(affine_forward, lambda dout, x, w, b: affine_backward_no_transpose(dout, (x, w, b)),
                            x, w, b)  # fmt: skip
    assert not wrong.passed and {row.name[0] for row in wrong.failures} == {"x"}
    assert {row.kind for row in wrong.failures} == {"hand"}
    u = np.random.default_rng(0).standard_normal((4, 3))  # the cotangent of seed 0: the same rows again
    dx = u @ w.T
    assert [row.engine for row in wrong.rows if row.name.startswith("x")] == pytest.approx(dx.ravel(), rel=1e-12)


def test_a_transposed_weight_gradient_of_a_non_square_layer_is_a_shape_error():
    x, w, b = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2)), RNG.normal(size=2)

    def backward(dout, x, w, b):
        return dout @ w.T, dout.T @ x, dout.sum(axis=0)

    with pytest.raises(ValueError, match=r"returned shape \(2, 3\) for w, expected \(3, 2\).*transposed"):
        check_numpy_vjp(affine_forward, backward, x, w, b)


def test_argnums_checks_some_arguments_only():
    report = check_numpy_gradients(layer, lambda w, x: layer_gradient(w, x)[0], W, X, argnums=0)
    assert report.passed and {row.name[0] for row in report.rows} == {"w"}
    report = check_numpy_gradients(layer, lambda w, x: layer_gradient(w, x)[1:], W, X, argnums=(-1,))
    assert report.passed and {row.name[0] for row in report.rows} == {"x"}
    bad: Any
    for bad in (2, (0, 0), True, (), "W"):
        with pytest.raises((TypeError, ValueError), match="check_numpy_gradients: argnums"):
            check_numpy_gradients(layer, layer_gradient, W, X, argnums=bad)


def test_integer_arrays_and_plain_numbers_are_checked_as_floats():
    report = check_numpy_gradients(lambda w, s: s * layer(w, np.array([1, 2, 0])),
                                   lambda w, s: (s * layer_gradient(w, np.array([1, 2, 0]))[0],
                                                 layer(w, np.array([1, 2, 0]))),
                                   np.array([[1, 0, 0], [0, -1, 0], [0, 0, 2]]), 0.5)  # fmt: skip
    assert report.passed and any("int" in note and "float64" in note for note in report.notes)
    assert report.rows[-1].name == "s"


def test_f_may_change_its_arguments_in_place():
    def scaled(x):
        x *= 2.0
        return np.sum(x**2)

    assert check_numpy_gradients(scaled, lambda x: 8 * x, np.array([0.5, -1.0])).passed


def test_raise_on_failure_raises_with_the_table():
    with pytest.raises(GradientCheckError, match="w\\[0,0\\]"):
        check_numpy_gradients(layer, lambda w, x: (-layer_gradient(w, x)[0], layer_gradient(w, x)[1]), W, X,
                              raise_on_failure=True)  # fmt: skip


def bad_gradient(*returned: Any):
    def gradient(w, x):
        return returned

    return gradient


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: check_numpy_gradients(layer, layer_gradient, W.tolist(), X), TypeError, "argument w of layer.*list"),
        (lambda: check_numpy_gradients(layer, layer_gradient, np.where(W > 1, np.nan, W), X), ValueError,
         r"argument w of layer holds nan at w\[1,0\]"),
        (lambda: check_numpy_gradients(layer, layer_gradient, W, X.astype(bool)), TypeError, "x of layer.*dtype bool"),
        (lambda: check_numpy_gradients(layer, layer_gradient, W, X + 0j), TypeError, "x of layer.*complex"),
        (lambda: check_numpy_gradients(layer, layer_gradient, np.zeros((0, 3)), X), ValueError, "w of layer is empty"),
        (lambda: check_numpy_gradients(layer, layer_gradient), ValueError, "give the arrays"),
        (lambda: check_numpy_gradients(layer, 3.0, W, X), TypeError, "gradient must be a function"),  # type: ignore
        (lambda: check_numpy_gradients(lambda w, x: np.tanh(w @ x), layer_gradient, W, X), TypeError,
         r"must return a float, got an array of shape \(3,\).*check_numpy_vjp"),
        (lambda: check_numpy_gradients(lambda w, x: np.log(-layer(w, x)), layer_gradient, W, X), ValueError,
         "result of f holds nan"),
        (lambda: check_numpy_gradients(layer, bad_gradient(np.ones((3, 3))), W, X), ValueError,
         "returned 1 arrays for the 2 arguments w, x: nothing for x"),
        (lambda: check_numpy_gradients(layer, bad_gradient(np.ones((3, 3)), X, X), W, X), ValueError,
         "returned 3 arrays for the 2 arguments"),
        (lambda: check_numpy_gradients(layer, bad_gradient(np.ones((3, 3)), [1.0, 2.0, 3.0]), W, X), TypeError,
         "gradient for x must be a numpy array.*list"),
        (lambda: check_numpy_gradients(layer, bad_gradient(np.ones((3, 3)), np.array([1.0, np.inf, 0.0])), W, X),
         ValueError, r"gradient for x holds inf at x\[1\]"),
        (lambda: check_numpy_gradients(layer, bad_gradient(np.ones((3, 3)), np.ones(4)), W, X), ValueError,
         r"returned shape \(4,\) for x, expected \(3,\)"),
        (lambda: check_numpy_gradients(layer, lambda w, x: {"W": 1}, W, X), TypeError, "must return a tuple"),
        (lambda: check_numpy_vjp(lambda x: list(x), lambda u, x: u, X), TypeError, "result of f.*list"),
    ],
)
def test_hostile_input_is_refused_by_name(call: Any, error: type[Exception], message: str):
    with pytest.raises(error, match=message) as raised:
        call()
    assert str(raised.value).startswith(("check_numpy_gradients:", "check_numpy_vjp:"))


def test_numpy_gradients_are_compared_at_full_precision_once_the_checker_takes_digits(monkeypatch):
    seen: dict[str, Any] = {}
    original = checks.check_gradients

    def with_digits(loss: Any, expected: Any, *, digits: int | None = None, **settings: Any) -> GradientReport:
        seen["digits"] = digits
        return original(loss, expected, **settings)

    monkeypatch.setattr(numpy_checks, "check_gradients", with_digits)
    assert check_numpy_gradients(layer, layer_gradient, W, X).passed
    assert seen["digits"] == 17
    assert "digits" in inspect.signature(with_digits).parameters


def test_the_docstring_example_runs():
    result = doctest.testmod(numpy_checks, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0

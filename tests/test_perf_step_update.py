"""relu's array rule (np.maximum, no finiteness check) and nn.SGD writing a compiled run's new parameters into the
run's spare array: the same numbers as the float rules and as a new array, and no array handed out that changes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value, rules
from autograd.compiler.codegen import generated
from nn.compiled_run import CompiledRun
from nn.loss_table import find_loss

SPECIAL = [-2.5, -0.0, 0.0, 1e-300, 3.0, np.inf, -np.inf, np.nan, -1e308, 1e308]


def test_relu_array_rule_is_the_float_rule_at_special_numbers():
    x = np.array(SPECIAL)
    g = np.array([1.5, -2.0, 3.0, -np.inf, np.inf, -1.0, 2.0, 4.0, np.nan, -7.0])
    rule = rules.RELU.arrays
    assert rule is not None and rule.vjp is not None and rule.ieee  # no check: relu's float rules raise for nothing
    forward = rule.forward(x)
    (partial,) = rule.vjp(g, x, forward)
    for i, (xi, gi) in enumerate(zip(SPECIAL, g.tolist(), strict=True)):
        want = rules.RELU.forward(xi)
        assert forward[i] == want or (math.isnan(want) and math.isnan(forward[i])), (xi, forward[i])
        (want_g,) = rules.RELU.vjp(gi, xi, want)
        assert partial[i] == want_g or (math.isnan(want_g) and math.isnan(partial[i])), (xi, gi, partial[i])


def test_relu_of_nan_and_inf_in_generated_code_is_the_scalar_engines():
    # relu's results are no longer checked: NaN and inf pass through to the outputs and gradients as the
    # scalar engine gives them, without an error.
    w = Value(0.5)
    compiled = ag.compile(lambda x: (x * w).relu() * 2.0 + (x - 1.0).relu())
    data = [1.0, np.nan, np.inf, -np.inf, -3.0, 0.0]
    result = compiled(np.array(data))
    assert compiled.plan is not None and generated(compiled.plan).forward is not None
    w.grad = 0.0
    result.backward()
    compiled_grad = w.grad
    want_grad = 0.0
    for i, xi in enumerate(data):
        w.grad = 0.0
        out = (Value(xi) * w).relu() * 2.0 + (Value(xi) - 1.0).relu()
        out.backward()
        want_grad += w.grad / len(data)
        got = result.outputs[i]
        assert got == out.data or (math.isnan(got) and math.isnan(out.data))
    assert math.isnan(compiled_grad) and math.isnan(want_grad)  # NaN in, NaN out, as the scalar engine


@pytest.mark.parametrize(("momentum", "weight_decay"), [(0.0, 0.0), (0.9, 0.0), (0.5, 1e-3)])
def test_sgd_update_into_an_array_is_the_new_arrays_numbers(momentum: float, weight_decay: float):
    rng = np.random.default_rng(4)
    params = [Value(float(v)) for v in rng.normal(size=50)]
    sgd = nn.SGD(params, lr=0.03, momentum=momentum, weight_decay=weight_decay)
    sgd.velocity = rng.normal(size=50)
    values, grads = rng.normal(size=50), rng.normal(size=50)
    out = np.full(50, np.nan)
    new, velocity = sgd.update(values, grads, out=out)
    assert new is out
    # Written out independently: v = momentum v + g + weight_decay p; p - lr v.
    want_velocity = (momentum * sgd.velocity + grads if momentum else grads) + weight_decay * values
    np.testing.assert_array_equal(velocity, want_velocity)
    np.testing.assert_array_equal(new, values - 0.03 * want_velocity)


def _runs(seed: int) -> tuple[nn.MLP, CompiledRun]:
    model = nn.MLP(4, [6, 3], activation="relu", seed=seed)
    return model, CompiledRun(model, find_loss("cross_entropy"), nn.SGD(model.parameters(), lr=0.1), None, 1e-3)


def test_a_compiled_run_with_sgd_steps_as_with_new_arrays_and_never_aliases():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    model, run = _runs(2)
    _, fresh = _runs(2)
    fresh.spare = None  # the update makes a new array each step
    assert run.spare is not None
    seen = []
    for _ in range(5):
        before = run.values.copy()
        kept = run.values
        loss, _ = run.step(x, y, 1)
        fresh_loss, _ = fresh.step(x, y, 1)
        assert loss == fresh_loss
        np.testing.assert_array_equal(run.values, fresh.values)
        np.testing.assert_array_equal(run.grads, fresh.grads)
        assert run.values is not run.spare and run.values is not run.grads and run.spare is not run.grads
        np.testing.assert_array_equal(kept, before)  # the last step's values are the next spare, not yet written
        seen.append(id(run.values))
    assert len(set(seen)) == 2  # two arrays take turns
    run.sync_model()
    fresh.sync_model()
    assert [p.data for p in model.parameters()] == fresh.values.tolist()


def test_an_interrupted_swap_does_not_write_into_the_values():
    # Were the spare left as the values themselves, the update would read what it writes: it makes a new array.
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    _, run = _runs(3)
    _, fresh = _runs(3)
    fresh.spare = None
    run.step(x, y, 1)
    fresh.step(x, y, 1)
    run.spare = run.values
    run.step(x, y, 1)
    fresh.step(x, y, 1)
    np.testing.assert_array_equal(run.values, fresh.values)


def test_a_refused_sgd_step_into_the_spare_keeps_the_values():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    _, run = _runs(4)
    run.step(x, y, 1)
    before = run.values.copy()
    run.optimizer.lr = 1e308
    with pytest.raises(nn.TrainingError, match="no parameter was changed"):
        run.step(x * 1e200, y, 1)
    np.testing.assert_array_equal(run.values, before)
    run.optimizer.lr = 0.1
    run.step(x, y, 1)  # and the run goes on
    assert np.isfinite(run.values).all()


def _close(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == want or math.isclose(got, want, rel_tol=1e-12)


@pytest.mark.parametrize(("shared", "width"), [(False, 1), (False, 2), (True, 2)])
def test_logsumexp_and_pick_rules_in_one_pass_are_the_float_rules_column_by_column(shared: bool, width: int):
    # Four operands (batch 6, ``width`` nodes; a width of 1 is a classifier's columns, joined in one call): random,
    # with rows of ±inf, NaN and large numbers; with ``shared`` the second operand is one (2,) row every sample
    # shares. Each element against the float rules.
    rng = np.random.default_rng(8)
    xs = [rng.normal(scale=3.0, size=(6, width)) for _ in range(4)]
    xs[0][1], xs[1][2], xs[2][3], xs[3][4] = np.inf, -np.inf, np.nan, 800.0
    xs[0][5] = xs[1][5] = xs[2][5] = xs[3][5] = -np.inf
    if shared:
        xs[1] = np.array([0.5, -1.5])
    index = rng.integers(0, 4, size=(6, width)).astype(float)
    g = rng.normal(size=(6, width))
    lse, pick = rules.LOGSUMEXP.arrays, rules.PICK.arrays
    assert lse is not None and lse.vjp is not None and pick is not None and pick.vjp is not None
    with np.errstate(all="ignore"):  # as compile runs the rules: inf - inf is NaN here, as in the float rule
        out = lse.forward(*xs)
        partials = lse.vjp(g, *xs, out)
        picked = pick.forward(*xs, index)
        pick_partials = pick.vjp(g, *xs, index, picked)
    columns = [np.broadcast_to(x, (6, width)) for x in xs]
    for b in range(6):
        for k in range(width):
            row = [float(c[b, k]) for c in columns]
            want = rules.LOGSUMEXP.forward(*row)
            assert _close(float(out[b, k]), want), (b, k)
            for partial, want_partial in zip(partials, rules.LOGSUMEXP.vjp(float(g[b, k]), *row, want), strict=True):
                assert _close(float(np.broadcast_to(partial, (6, width))[b, k]), float(want_partial)), (b, k)
            chosen = rules.PICK.forward(*row, float(index[b, k]))
            assert _close(float(picked[b, k]), chosen)
            wanted = rules.PICK.vjp(float(g[b, k]), *row, float(index[b, k]), chosen)
            for partial, want_partial in zip(pick_partials, wanted, strict=True):
                assert float(np.broadcast_to(partial, (6, width))[b, k]) == want_partial


def test_a_cross_entropy_head_of_non_finite_scores_is_the_scalar_engines_without_an_error():
    # logsumexp and pick are no longer checked: a score of ±inf or NaN gives what the scalar engine gives.
    w = Value(1.5)
    rows = [[1.0, 2.0, 3.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 0.0], [800.0, -800.0, 0.0]]
    labels = [2.0, 1.0, 0.0, 1.0, 0.0]

    def head(x: list[Value], label: Value) -> Value:
        scores = [xi * w for xi in x]
        return ag.logsumexp(scores) - ag.pick(scores, label)

    compiled = ag.compile(head, reduce=None)
    with np.errstate(all="ignore"):
        result = compiled(np.array(rows), np.array(labels))
    assert compiled.plan is not None and generated(compiled.plan).backward is not None
    for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
        want = head([Value(v) for v in row], Value(label)).data
        assert _close(float(result.outputs[i]), want), (i, result.outputs[i], want)
    finite = compiled(np.array(rows[:1] + rows[4:]), np.array(labels[:1] + labels[4:]))
    w.grad = 0.0
    finite.backward(np.ones(2))
    got = w.grad
    want_grad = 0.0
    for row, label in zip(rows[:1] + rows[4:], labels[:1] + labels[4:], strict=True):
        w.grad = 0.0
        head([Value(v) for v in row], Value(label)).backward()
        want_grad += w.grad
    assert math.isclose(got, want_grad, rel_tol=1e-12)


def test_pick_of_columns_per_sample_by_an_index_every_sample_shares():
    # The index (2,) broadcasts with the values (5, 2): the path that lays them out again.
    rng = np.random.default_rng(9)
    xs = [rng.normal(size=(5, 2)) for _ in range(3)]
    index = np.array([2.0, 0.0])
    pick = rules.PICK.arrays
    assert pick is not None
    got = pick.forward(*xs, index)
    for b in range(5):
        for k in range(2):
            assert got[b, k] == rules.PICK.forward(*(float(x[b, k]) for x in xs), float(index[k]))

"""no_grad (per thread) and detect_anomaly."""

from __future__ import annotations

import math
import threading

import pytest

import autograd as ag
from autograd import AnomalyError, Value


def test_no_grad_computes_data_but_records_nothing():
    x = Value(2.0)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * x + 1
    assert ag.is_grad_enabled()
    assert y.data == 5.0 and y.parents == () and y.op == ""
    y.backward()
    assert x.grad == 0.0


def test_no_grad_as_decorator_and_enable_grad_inside():
    @ag.no_grad()
    def step(v: Value) -> tuple[Value, Value]:
        untracked = v * 2
        with ag.enable_grad():
            tracked = v * 3
        return untracked, tracked

    x = Value(1.0)
    untracked, tracked = step(x)
    assert untracked.parents == ()
    assert tracked.parents == (x,)


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError), ag.no_grad():
        Value(1.0) / 0
    assert ag.is_grad_enabled()


def test_no_grad_is_per_thread():
    inside_no_grad = threading.Event()
    other_done = threading.Event()
    recorded: list[bool] = []

    def other_thread() -> None:
        inside_no_grad.wait(5)
        x = Value(1.0)
        recorded.append((x * 2).parents == (x,))
        other_done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with ag.no_grad():
        inside_no_grad.set()
        other_done.wait(5)
        y = Value(1.0) * 2
    worker.join()
    assert recorded == [True], "the other thread kept recording while this one was in no_grad"
    assert y.parents == ()


def test_detach_and_no_grad_values_can_be_used_later():
    with ag.no_grad():
        w = Value(3.0) * 2
    x = Value(2.0)
    (w * x).backward()
    assert x.grad == 6.0


def test_anomaly_in_forward_names_op_and_inputs():
    big = Value(1e200, label="big")
    with ag.detect_anomaly(), pytest.raises(AnomalyError, match=r"forward of mul gave inf from 'big' \(data=1e\+200\)"):
        big * big
    big * big  # without the switch, IEEE inf is allowed


def test_anomaly_nan_in_forward():
    inf = Value(math.inf, label="inf")
    with ag.detect_anomaly(), pytest.raises(AnomalyError, match=r"forward of sub gave nan from 'inf'"):
        inf - inf


def test_anomaly_in_backward_names_the_node_where_it_first_appears():
    # y = tanh(x) * 1e300 * 1e10 at x = 1e-20: every forward value is finite (about 1e290),
    # but dy/dt = 1e310 overflows on the way down
    x = Value(1e-20, label="x")
    with ag.detect_anomaly():
        t = x.tanh()
        t.label = "t"
        scaled = t * 1e300
        scaled.label = "scaled"
        y = scaled * 1e10
        y.label = "y"
        expected = r"backward of mul \(node 'scaled' .*\) gave the gradient inf for its input 't'"
        with pytest.raises(AnomalyError, match=expected):
            y.backward()
    assert math.isfinite(y.data)


def test_anomaly_off_lets_inf_through():
    x = Value(1e-20)
    y = x.tanh() * 1e300 * 1e10
    y.backward()
    assert x.grad == math.inf


def test_anomaly_switch_is_scoped():
    with ag.detect_anomaly():
        pass
    (Value(1e308) * 10).backward()  # no error once the block is left

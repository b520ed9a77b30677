"""``fit``'s BLAS threads: chosen for a compiled run (or given as ``threads=``), in force during the run only,
and restored after it, however it ends. The numbers do not depend on them."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import threadpoolctl
from threadpoolctl import threadpool_info, threadpool_limits

import nn
from nn.compiled_run import THREADED_WORK, choose_threads

POINTS, LABELS = nn.make_moons(40, noise=0.1, seed=0)


def blas_threads() -> int:
    return max(int(info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas")


def _fit(model: nn.MLP, compiled: bool = True, **settings: object) -> tuple[dict[str, list[float]], list[int]]:
    seen: list[int] = []
    history = nn.fit(model, POINTS, LABELS, loss="hinge", epochs=3, batch_size=16, progress=False, compile=compiled,
                     callback=lambda epoch, logs: seen.append(blas_threads()), **settings)  # type: ignore[arg-type]
    return history, seen


def test_threads_given_hold_for_the_run_and_are_restored_after():
    with threadpool_limits(limits=2, user_api="blas"):
        _, seen = _fit(nn.MLP(2, [4, 1], seed=0), threads=1)
        assert seen == [1, 1, 1]
        assert blas_threads() == 2


def test_a_small_compiled_run_chooses_one_thread():
    with threadpool_limits(limits=2, user_api="blas"):
        _, seen = _fit(nn.MLP(2, [4, 1], seed=0))
        assert seen == [1, 1, 1] and blas_threads() == 2


def test_a_scalar_run_leaves_the_threads_unless_told():
    with threadpool_limits(limits=2, user_api="blas"):
        assert _fit(nn.MLP(2, [4, 1], seed=0), compiled=False)[1] == [2, 2, 2]
        assert _fit(nn.MLP(2, [4, 1], seed=0), compiled=False, threads=1)[1] == [1, 1, 1]


def test_the_threads_are_restored_after_a_failed_run():
    model = nn.MLP(2, [4, 1], seed=1)
    with threadpool_limits(limits=2, user_api="blas"):
        with pytest.raises(nn.TrainingError):
            nn.fit(model, POINTS * 1e300, LABELS, loss="bce", optimizer=nn.SGD(model.parameters(), lr=1e300),
                   epochs=2, progress=False, compile=True, threads=1)  # fmt: skip
        assert blas_threads() == 2


def test_the_threads_change_no_number():
    histories = [_fit(nn.MLP(2, [8, 8, 1], seed=2), threads=count)[0]["loss"] for count in (1, 2)]
    scalar = _fit(nn.MLP(2, [8, 8, 1], seed=2), compiled=False)[0]["loss"]
    np.testing.assert_allclose(histories[0], scalar, rtol=1e-10)
    np.testing.assert_allclose(histories[1], scalar, rtol=1e-10)


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2", True])
def test_threads_must_be_a_positive_int(threads: object):
    with pytest.raises(ValueError, match=r"fit: threads must be a positive int or None \(chosen for the run\)"):
        nn.fit(nn.MLP(2, [4, 1], seed=0), POINTS, LABELS, epochs=1, progress=False, threads=threads)  # type: ignore[arg-type]


def test_the_choice_follows_the_work_and_the_load(monkeypatch: pytest.MonkeyPatch):
    big = THREADED_WORK  # parameters x batch at the threshold
    assert choose_threads(337, 100) == 1  # the moons network: too small to share
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: [{"user_api": "blas", "num_threads": 4}])
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert choose_threads(big, 1) == 4  # idle: numpy's count
    monkeypatch.setattr(os, "getloadavg", lambda: (1.0, 1.0, 1.0))
    assert choose_threads(big, 1) == 4  # the run's own process alone
    monkeypatch.setattr(os, "getloadavg", lambda: (3.5, 1.0, 1.0))
    assert choose_threads(big, 1) == 1  # 2.5 cores busy elsewhere: 1.5 free
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert choose_threads(big, 1) == 1

    def unknown() -> tuple[float, float, float]:
        raise OSError("no load average here")

    monkeypatch.setattr(os, "getloadavg", unknown)
    assert choose_threads(big, 1) == 1


def test_without_threadpoolctl_the_threads_are_left_as_they_are(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # as on a platform it is not installed on
    assert choose_threads(THREADED_WORK, 1) == 1
    with threadpool_limits(limits=2, user_api="blas"):
        _, seen = _fit(nn.MLP(2, [4, 1], seed=0), threads=1)
        assert seen == [2, 2, 2]

"""``fit``'s scalar steps run with Python's cyclic collector paused, and that loses nothing: the collector
is back on between steps (or stays off if the caller turned it off), cyclic garbage the model makes is
still freed while training goes on, and memory stays flat over many steps."""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from typing import Any

import pytest

import autograd as ag
import nn

POINTS, LABELS = nn.make_moons(50, noise=0.1, seed=0)


class Cyclic(nn.Module):
    """An MLP whose every call leaves a reference cycle behind (an object holding itself and 1 KB), and
    notes whether the collector was on."""

    def __init__(self) -> None:
        self.mlp = nn.MLP(2, [4, 1], seed=0)
        self.made = 0
        self.freed: list[int] = [0]
        self.collector_on: list[bool] = []

    def __call__(self, x: list[Any]) -> Any:
        self.collector_on.append(gc.isenabled())
        cycle = _Node()
        cycle.payload, cycle.me = bytes(1000), cycle
        weakref.finalize(cycle, _count, self.freed)
        self.made += 1
        return self.mlp(x)


class _Node:
    payload: bytes
    me: _Node


def _count(freed: list[int]) -> None:
    freed[0] += 1


def _fit(model: nn.Module, epochs: int, callback: Any = None) -> dict[str, list[float]]:
    return nn.fit(model, POINTS, LABELS, loss="hinge", epochs=epochs, progress=False, callback=callback)


def test_the_collector_is_off_in_a_step_and_on_between_steps():
    model = Cyclic()
    between: list[bool] = []
    assert gc.isenabled()
    _fit(model, 3, callback=lambda epoch, logs: between.append(gc.isenabled()))
    steps = model.collector_on[-3 * len(POINTS) :]  # 3 full-batch steps; fit's checks before the run come first
    assert steps and not any(steps)
    assert between == [True, True, True] and gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off():
    gc.disable()
    try:
        _fit(Cyclic(), 2)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_comes_back_after_a_failed_step():
    model = nn.MLP(2, [4, 1], seed=1)
    with pytest.raises(nn.TrainingError):
        nn.fit(model, POINTS * 1e300, LABELS, loss="bce", optimizer=nn.SGD(model.parameters(), lr=1e300),
               epochs=2, progress=False)  # fmt: skip
    assert gc.isenabled()


def test_the_models_cycles_are_freed_while_training_goes_on():
    model = Cyclic()
    freed_during: list[int] = []
    _fit(model, 60, callback=lambda epoch, logs: freed_during.append(model.freed[0]))
    # 50 cycles a step: the collector's threshold (700 containers by default) is passed every few steps,
    # and the cycles left for it at the end are fewer than that.
    threshold = gc.get_threshold()[0]
    assert freed_during[-1] > 0 and freed_during[-1] > freed_during[len(freed_during) // 2]
    assert model.made - freed_during[-1] <= threshold + 2 * len(POINTS)


def test_memory_stays_flat_over_many_steps():
    model = Cyclic()
    traced: list[int] = []

    def measure(epoch: int, logs: dict[str, float]) -> None:
        if epoch in (20, 100):
            traced.append(tracemalloc.get_traced_memory()[0])

    tracemalloc.start()
    try:
        _fit(model, 100, callback=measure)
    finally:
        tracemalloc.stop()
    # Kept, the 80 epochs' cycles between the two measures would be 80 x 50 x 1 KB = 4 MB; collected,
    # at most the collector's threshold of them is ever waiting.
    assert traced[1] - traced[0] < 1_000_000, traced


def test_a_paused_step_trains_as_an_unpaused_one():
    paused, reference = nn.MLP(2, [4, 1], seed=2), nn.MLP(2, [4, 1], seed=2)
    history = _fit(paused, 3)
    optimizer = nn.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):  # fit's step written out, with the collector as it is
        outputs = [reference.layers[-1](reference.layers[0](x))[0] for x in POINTS.tolist()]  # one Value each
        loss = nn.hinge(outputs, LABELS.tolist())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert [p.data for p in paused.parameters()] == [p.data for p in reference.parameters()]
    assert isinstance(loss, ag.Value) and history["loss"][-1] > 0

"""Defaults that train: the initialisation scaled by fan-in, a warning when a run goes nowhere, and an
estimate of a long run's time with the settings that would shorten it.

Expected figures come from the distributions' formulas (He: N(0, 2 / fan_in), Xavier: U(±sqrt(6 / (fan_in +
fan_out))), whose standard deviation is the bound over sqrt(3)) or from the loss of guessing (ln 2 for two
balanced classes), never from the code under test.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
import nn.monitor
import nn.train

ROOT = Path(__file__).resolve().parent.parent
MOONS, MOON_LABELS = nn.make_moons(100, noise=0.1, seed=0)


def layer_weights(layer: nn.Layer) -> np.ndarray:
    return np.array([w.data for neuron in layer.neurons for w in neuron.w])


def test_the_default_init_is_he_for_relu_layers_and_xavier_for_the_linear_output():
    model = nn.MLP(400, [200, 50, 10], seed=0)
    assert model.init == "auto"
    first, second, output = (layer_weights(layer) for layer in model.layers)
    assert first.std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)  # 80,000 draws of N(0, 2/400)
    assert second.std() == pytest.approx(math.sqrt(2 / 200), rel=0.05)
    bound = math.sqrt(6 / (50 + 10))
    assert np.abs(output).max() <= bound
    assert output.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    tanh = nn.MLP(300, [100, 1], activation="tanh", seed=0)
    hidden = layer_weights(tanh.layers[0])
    assert np.abs(hidden).max() <= math.sqrt(6 / 400) and hidden.std() == pytest.approx(math.sqrt(2 / 400), rel=0.03)


def test_micrograd_uniform_init_is_kept_by_both_its_names():
    uniform, micrograd = nn.MLP(50, [50], init="uniform", seed=1), nn.MLP(50, [50], init="micrograd", seed=1)
    assert uniform.state_dict() == micrograd.state_dict()
    weights = layer_weights(uniform.layers[0])
    assert -1 <= weights.min() < -0.9 and 0.9 < weights.max() <= 1
    neuron = nn.Neuron(2000, init="micrograd", seed=2)
    assert np.std([w.data for w in neuron.w]) == pytest.approx(1 / math.sqrt(3), rel=0.05)  # U(-1, 1)


def test_the_docstrings_say_why_the_default_is_what_it_is():
    text = " ".join((nn.MLP.__doc__ or "").split())
    assert '"auto" (the default): "he" for relu' in text
    assert "fan-in" in text and "PyTorch and Keras" in text and "learns nothing" in text
    assert "as in :class:`MLP`" in (nn.Neuron.__doc__ or "") and "as in :class:`MLP`" in (nn.Layer.__doc__ or "")


def test_the_benchmark_trains_the_tutorial_network_with_the_defaults_on_the_digits():
    # 64-300-100-10 on the digits, SGD at lr 0.1 in batches of 100, ten epochs (140 steps): the test
    # accuracy is 0.92 to 0.95 over seeds 0 to 4. micrograd's U(-1, 1) is not the point here.
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}  # on a busy machine BLAS threads only wait for each other
    script = ROOT / "benchmarks" / "default_init.py"
    result = subprocess.run([sys.executable, str(script), "--digits"], capture_output=True, text=True, timeout=300,
                            cwd=ROOT, env=environment, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "init='auto'" in result.stdout
    found = re.search(r"test accuracy: ([\d.]+)", result.stdout)
    assert found is not None, result.stdout
    assert float(found.group(1)) >= 0.80
    assert "TrainingWarning" not in result.stderr


def training_warnings(run: Any) -> list[str]:
    """The TrainingWarnings a run gives, each shown however often it repeats; the run's error, if any, last."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run()
        except nn.TrainingError as error:
            return [str(w.message) for w in caught if w.category is nn.TrainingWarning] + [f"error: {error}"]
    return [str(w.message) for w in caught if w.category is nn.TrainingWarning]


@pytest.mark.parametrize("init", ["auto", "uniform"])
def test_a_loss_that_explodes_is_named_with_its_causes_once(init: str):
    model = nn.MLP(2, [16, 16, 2], init=init, seed=0)
    optimizer = nn.SGD(model.parameters(), lr=10.0)
    said = training_warnings(lambda: nn.fit(model, MOONS, MOON_LABELS, loss="cross_entropy", optimizer=optimizer,
                                            epochs=5, batch_size=10, compile=True, progress=False))  # fmt: skip
    explosions = [text for text in said if "exploded" in text]
    assert len(explosions) == 1, said
    assert "lr=10 (try lr=1)" in explosions[0] and f"init={init!r}" in explosions[0]
    if init == "uniform":
        assert "U(-1, 1) whatever a layer's width" in explosions[0]


def dead_network() -> nn.MLP:
    """Every hidden ReLU at 0 for every input, as a step far too large can leave them: outputs = output biases."""
    model = nn.MLP(2, [8, 2], seed=0)
    for neuron in model.layers[0].neurons:
        neuron.b.data = -100.0
    return model


@pytest.mark.parametrize("compiled", [False, True])
def test_a_network_stuck_at_guessing_is_named_once(compiled: bool):
    # Balanced classes: the output biases get no gradient, the loss is ln 2 at every epoch.
    assert MOON_LABELS.mean() == 0.5
    model = dead_network()
    history: dict[str, list[float]] = {}
    said = training_warnings(lambda: history.update(nn.fit(model, MOONS, MOON_LABELS, loss="cross_entropy", epochs=5,
                                                           progress=False, compile=compiled)))  # fmt: skip
    np.testing.assert_allclose(history["loss"], [math.log(2)] * 5, rtol=1e-12)
    assert len(said) == 1, said
    assert said[0].startswith("fit: the loss has stayed at 0.6931 for epochs 2 and 3, the loss of guessing")
    assert "same output for every sample" in said[0] and "lr=0.1" in said[0]


@pytest.mark.parametrize(("loss", "outputs"), [("hinge", 1), ("bce", 1), ("cross_entropy", 2), ("mse", 1)])
def test_healthy_runs_give_no_warning(loss: str, outputs: int):
    for compiled, batch_size in [(True, None), (True, 10), (False, 25)]:
        settings: dict[str, Any] = {"loss": loss, "batch_size": batch_size, "compile": compiled, "progress": False,
                                    "epochs": 100 if compiled and batch_size is None else 4}  # fmt: skip
        model = nn.MLP(2, [16, 16, outputs], seed=1)
        assert training_warnings(lambda: nn.fit(model, MOONS, MOON_LABELS, **settings)) == []  # noqa: B023


class Clock:
    """A stand-in for time.perf_counter that advances one second at every reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_slow_scalar_run_gets_an_estimate_and_one_line_naming_batch_size_and_compile(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setattr(nn.train, "perf_counter", Clock())  # one second a sample: 200 samples x 2 epochs
    monkeypatch.setattr(nn.monitor, "perf_counter", Clock())
    model = nn.MLP(2, [3, 1], seed=0)
    points, labels = nn.make_moons(200, seed=0)
    said = training_warnings(lambda: nn.fit(model, points, labels, epochs=2))
    assert len(said) == 1
    assert said[0].startswith("fit: at these settings the run takes about 7 min (2 epochs of 200 samples")
    assert "To go faster: compile=True runs each minibatch at once" in said[0]
    assert "batch_size=100 takes 2 steps" in said[0]
    bar = capsys.readouterr().err
    assert "epoch 1/2, about 7 min in all" in bar  # shown before the first step ends
    assert "400/400" in bar and "sample" in bar  # the bar counts samples


def test_a_quick_run_or_one_already_compiled_in_minibatches_gets_no_line(monkeypatch: pytest.MonkeyPatch):
    model = nn.MLP(2, [3, 1], seed=0)
    assert training_warnings(lambda: nn.fit(model, MOONS, MOON_LABELS, epochs=2, progress=False)) == []
    monkeypatch.setattr(nn.train, "perf_counter", Clock())
    monkeypatch.setattr(nn.monitor, "perf_counter", Clock())
    assert training_warnings(lambda: nn.fit(model, MOONS, MOON_LABELS, epochs=100, batch_size=10, compile=True,
                                            progress=False)) == []  # fmt: skip


def test_a_slow_compiled_run_on_the_full_data_is_told_of_batch_size_only(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(nn.train, "perf_counter", Clock())
    monkeypatch.setattr(nn.monitor, "perf_counter", Clock())  # the first step seems to take a second
    model = nn.MLP(2, [3, 1], seed=0)
    points, labels = nn.make_moons(300, seed=0)
    said = training_warnings(lambda: nn.fit(model, points, labels, epochs=100, compile=True, progress=False))
    assert len(said) == 1, said
    assert said[0].startswith("fit: at these settings the run takes about 2 min (100 epochs of 300 samples, "
                              "one step an epoch on all of them, compiled)")  # fmt: skip
    assert "batch_size=100 takes 3 steps" in said[0] and "compile=True runs" not in said[0]


@pytest.mark.parametrize("live", [False, True])
def test_training_warnings_point_at_the_line_that_called_fit(live: bool):
    # However deep fit's own calls go (a live view adds one around each step), the warning names this file.
    import viz

    model = nn.MLP(2, [16, 16, 2], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=10.0)
    view = viz.LiveView(model, display=lambda html: None, every=1000) if live else False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.fit(model, MOONS, MOON_LABELS, loss="cross_entropy", optimizer=optimizer, epochs=5, batch_size=10,
               progress=False, live=view)  # fmt: skip
    places = {(Path(w.filename).name, w.lineno) for w in caught if w.category is nn.TrainingWarning}
    assert places, "the run gave no TrainingWarning"
    line = test_training_warnings_point_at_the_line_that_called_fit.__code__.co_firstlineno + 10
    assert places == {(Path(__file__).name, line)}, places

"""``fit`` drives a training run only through :class:`nn.run.TrainingRun`; the scalar and compiled runs are
two implementations of it that give their steps' results in one form and never import ``fit`` or each other."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
import nn.train
from nn.compiled_run import CompiledRun
from nn.loss_table import LossEntry, find_loss
from nn.run import Step, TrainingRun
from nn.scalar_run import ScalarRun

ROOT = Path(__file__).resolve().parent.parent
RUN_CLASSES = {"ScalarRun", "CompiledRun"}
POINTS, LABELS = nn.make_moons(24, noise=0.2, seed=2)


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function: ``from a import b`` counts as a and a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_fit_never_names_a_run_class_nor_tests_a_run_type():
    tree = ast.parse((ROOT / "nn" / "train.py").read_text(encoding="utf-8"))
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    for name in ("fit", "_epoch"):
        assert not names_in(functions[name]) & RUN_CLASSES, name
    type_tests = [
        call for call in ast.walk(tree)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in ("isinstance", "type")
        and names_in(call) & (RUN_CLASSES | {"TrainingRun"})
    ]  # fmt: skip
    assert not type_tests, [ast.unparse(call) for call in type_tests]
    # The one place that chooses between them:
    assert [name for name, node in functions.items() if names_in(node) & RUN_CLASSES] == ["_start_run"]


def test_the_runs_import_neither_fit_nor_each_other():
    runs = {"nn.run": "run.py", "nn.scalar_run": "scalar_run.py", "nn.compiled_run": "compiled_run.py"}
    for module, file in runs.items():
        imports = imported_modules(ROOT / "nn" / file)
        others = {"nn.train", "nn.scalar_run", "nn.compiled_run"} - {module}
        assert not imports & others, (module, sorted(imports & others))


def make_runs(loss: str, outputs: int) -> list[TrainingRun]:
    """A scalar and a compiled run of the same model from the same seed, each with its own nn.SGD."""
    made: list[TrainingRun] = []
    for kind in (ScalarRun, CompiledRun):
        model = nn.MLP(2, [5, outputs], seed=3)
        made.append(kind(model, find_loss(loss), nn.SGD(model.parameters(), lr=0.1), None, 1e-3))
    return made


def test_both_runs_are_training_runs():
    scalar, compiled = make_runs("bce", 1)
    assert isinstance(scalar, TrainingRun) and isinstance(compiled, TrainingRun)
    assert not isinstance(object(), TrainingRun)


@pytest.mark.parametrize(("loss", "outputs", "shape"), [
    ("hinge", 1, (8,)), ("bce", 1, (8,)), ("cross_entropy", 3, (8, 3)), ("mse", 1, None),
])  # fmt: skip
def test_both_runs_give_a_step_in_one_form(loss: str, outputs: int, shape: tuple[int, ...] | None):
    labels = LABELS * 2 - 1 if loss == "hinge" else LABELS
    steps: list[Step] = []
    for run in make_runs(loss, outputs):
        steps.append(run.step(POINTS[:8], labels[:8], 1))
        run.sync_model()
    (scalar_loss, scalar_scores), (compiled_loss, compiled_scores) = steps
    assert type(scalar_loss) is float and type(compiled_loss) is float
    assert compiled_loss == pytest.approx(scalar_loss, rel=1e-12)
    if shape is None:  # a loss that records no accuracy gets no scores from either run
        assert scalar_scores is None and compiled_scores is None
        return
    assert isinstance(scalar_scores, np.ndarray) and isinstance(compiled_scores, np.ndarray)
    assert scalar_scores.dtype == compiled_scores.dtype == np.float64
    assert scalar_scores.shape == compiled_scores.shape == shape
    np.testing.assert_allclose(compiled_scores, scalar_scores, rtol=1e-12)


def test_the_scalar_runs_epoch_hooks_leave_the_model_alone():
    model = nn.MLP(2, [3, 1], seed=1)
    run = ScalarRun(model, find_loss("bce"), nn.SGD(model.parameters(), lr=0.1), None, 0.0)
    before = [p.data for p in model.parameters()]
    run.sync_model()
    assert [p.data for p in model.parameters()] == before
    for p in model.parameters():
        p.data += 1.0  # as a callback might
    run.reload_model()
    assert [p.data for p in model.parameters()] == [v + 1.0 for v in before]


class RecordingRun:
    """A scalar run that writes down, in order, what ``fit`` asks of it."""

    def __init__(self, inner: TrainingRun, events: list[str], interrupt_at: int | None = None) -> None:
        self.inner, self.events, self.interrupt_at = inner, events, interrupt_at

    def step(self, batch_x: np.ndarray, batch_y: np.ndarray, epoch: int) -> Step:
        self.events.append(f"step {epoch}")
        if self.events.count(f"step {epoch}") == 1 and epoch == self.interrupt_at:
            raise KeyboardInterrupt
        return self.inner.step(batch_x, batch_y, epoch)

    def sync_model(self) -> None:
        self.events.append("sync")

    def reload_model(self) -> None:
        self.events.append("reload")


def recorded_fit(monkeypatch: pytest.MonkeyPatch, interrupt_at: int | None = None, **settings: Any) -> list[str]:
    """What ``fit`` asked of its run, in order; on an interrupt, the list so far is on the KeyboardInterrupt."""
    events: list[str] = []

    def start(model: nn.Module, entry: LossEntry, optimizer: nn.Optimizer, schedule: Any, l2: float,
              compiled: bool) -> TrainingRun:  # fmt: skip
        return RecordingRun(ScalarRun(model, entry, optimizer, schedule, l2), events, interrupt_at)

    monkeypatch.setattr(nn.train, "_start_run", start)
    try:
        nn.fit(nn.MLP(2, [3, 1], seed=0), POINTS, LABELS, loss="bce", batch_size=12, progress=False, **settings)
    except KeyboardInterrupt as interrupt:
        interrupt.events = events  # type: ignore[attr-defined]
        raise
    return events


def test_fit_syncs_the_model_around_each_callback_and_at_the_end(monkeypatch: pytest.MonkeyPatch):
    events = recorded_fit(monkeypatch, epochs=2, callback=lambda epoch, logs: None)
    assert events == ["step 1", "step 1", "sync", "reload", "step 2", "step 2", "sync", "reload", "sync"]
    stopped = recorded_fit(monkeypatch, epochs=3, callback=lambda epoch, logs: True)
    assert stopped == ["step 1", "step 1", "sync", "sync"]  # no reload after a stop: the model is final


def test_fit_syncs_the_model_after_ctrl_c(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(KeyboardInterrupt) as caught:
        recorded_fit(monkeypatch, interrupt_at=2, epochs=3)
    history: dict[str, list[float]] = caught.value.history  # type: ignore[attr-defined]
    assert history.keys() == {"loss", "accuracy"} and len(history["loss"]) == len(history["accuracy"]) == 1
    assert caught.value.events == ["step 1", "step 1", "sync", "reload", "step 2", "sync"]  # type: ignore[attr-defined]


def test_a_model_with_a_list_of_one_output_scores_alike_compiled_or_not():
    # cross_entropy over one class: each output is a list of one logit, an argmax row, for both runs
    # (the compiled run once read the lone column as a single score against a threshold).
    histories = []
    for compiled in (False, True):
        model = nn.Layer(2, 1, seed=0)
        histories.append(nn.fit(model, POINTS, np.zeros(len(POINTS), dtype=int), loss="cross_entropy", epochs=2,
                                progress=False, compile=compiled))  # fmt: skip
    scalar, compiled_history = histories
    assert scalar["accuracy"] == compiled_history["accuracy"] == [1.0, 1.0]
    np.testing.assert_allclose(compiled_history["loss"], scalar["loss"], rtol=1e-9, atol=1e-12)

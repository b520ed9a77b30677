"""nn models moved to PyTorch and back: torch's outputs, losses and gradients equal the scalar engine's.

Torch computes every number here by its own kernels (Linear, its activations, its loss functions,
its autograd); the scalar engine computes them one Value at a time. They agree to 1e-12 relative in
float64. Every activation and layer shape of nn makes the round trip, the printed PyTorch code runs
and gives the same outputs, and what has no counterpart is refused by name. The tests that need
PyTorch skip without it (it is large, and never a dependency); the rest run everywhere.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Value
from tests.catalogue import assert_refused
from tests.test_readme import FENCE

TOLERANCE = 1e-12
SHAPES = ["neuron", "layer", "mlp_one_output", "mlp"]


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[torch]' to run these")


def relative(got: Any, expected: Any) -> float:
    """max |got - expected| / max |expected|."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    return float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-300))


def build(shape: str, activation: str, seed: int = 0) -> nn.Module:
    other = "tanh" if activation != "tanh" else "sigmoid"
    if shape == "neuron":
        return nn.Neuron(3, activation, seed=seed)
    if shape == "layer":
        return nn.Layer(3, 4, activation, seed=seed)
    if shape == "mlp_one_output":
        return nn.MLP(3, [5, 1], activation, output_activation=activation, seed=seed)
    return nn.MLP(3, [5, 4, 2], activation, output_activation=other, seed=seed)


def chainrule_outputs(model: nn.Module, points: np.ndarray) -> np.ndarray:
    rows = []
    for x in points.tolist():
        out = model(x)  # type: ignore[operator]
        rows.append([v.data for v in out] if isinstance(out, list) else [out.data])
    return np.array(rows)


def torch_layers(module: Any) -> list[Any]:
    return [layer for layer in module if type(layer).__name__ == "Linear"]


def chainrule_layers(model: nn.Module) -> list[list[nn.Neuron]]:
    if isinstance(model, nn.Neuron):
        return [[model]]
    if isinstance(model, nn.Layer):
        return [model.neurons]
    assert isinstance(model, nn.MLP)
    return [layer.neurons for layer in model.layers]


POINTS = np.random.default_rng(3).normal(size=(12, 2)) * 2.0
LABELS = np.arange(12) % 3


def chainrule_loss(name: str, model: nn.MLP) -> Value:
    outputs: list[Any] = [model(x) for x in POINTS.tolist()]
    if name == "mse":
        return nn.mse(outputs, np.sin(POINTS @ np.ones((2, 3))))
    if name == "cross_entropy":
        return nn.cross_entropy(outputs, LABELS.tolist())
    if name == "binary_cross_entropy_with_logits":
        return nn.binary_cross_entropy_with_logits(outputs, (LABELS == 1).astype(float))
    return nn.hinge(outputs, (LABELS == 1).astype(float))


def torch_loss(name: str, torch: Any, y: Any) -> Any:
    functional = torch.nn.functional
    if name == "mse":
        return functional.mse_loss(y, torch.tensor(np.sin(POINTS @ np.ones((2, 3)))))
    if name == "cross_entropy":
        return functional.cross_entropy(y, torch.tensor(LABELS))
    ones = torch.tensor((LABELS == 1).astype(float))
    if name == "binary_cross_entropy_with_logits":
        return functional.binary_cross_entropy_with_logits(y[:, 0], ones)
    return functional.relu(1.0 - (2.0 * ones - 1.0) * y[:, 0]).mean()


LOSSES = ["mse", "cross_entropy", "binary_cross_entropy_with_logits", "hinge"]


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
@pytest.mark.parametrize("loss", LOSSES)
def test_outputs_losses_and_gradients_equal_the_scalar_engines(torch, loss: str, activation: str):
    outputs = 3 if loss in ("mse", "cross_entropy") else 1
    model = nn.MLP(2, [6, 5, outputs], activation, output_activation="tanh" if loss == "mse" else None, seed=4)
    module = nn.to_torch(model)
    y = module(torch.tensor(POINTS))
    assert relative(y.detach().numpy(), chainrule_outputs(model, POINTS)) <= TOLERANCE
    ours, theirs = chainrule_loss(loss, model), torch_loss(loss, torch, y)
    ours.backward()
    theirs.backward()
    assert relative(theirs.item(), ours.data) <= TOLERANCE
    for linear, neurons in zip(torch_layers(module), chainrule_layers(model), strict=True):
        assert relative(linear.weight.grad.numpy(), [[w.grad for w in n.w] for n in neurons]) <= TOLERANCE
        assert relative(linear.bias.grad.numpy(), [n.b.grad for n in neurons]) <= TOLERANCE


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
@pytest.mark.parametrize("shape", SHAPES)
def test_every_activation_and_layer_shape_makes_the_round_trip(torch, shape: str, activation: str):
    model = build(shape, activation)
    module = nn.to_torch(model)
    points = np.random.default_rng(5).normal(size=(7, 3)) * 2.0
    assert module[0].weight.dtype == torch.float64
    assert relative(module(torch.tensor(points)).detach().numpy(), chainrule_outputs(model, points)) <= TOLERANCE
    back = nn.from_torch(module, into=build(shape, activation, seed=9))
    assert type(back) is type(model) and back.state_dict() == model.state_dict()  # the same floats, exactly
    rebuilt = nn.from_torch(module)
    assert isinstance(rebuilt, nn.MLP)
    assert np.array_equal(chainrule_outputs(rebuilt, points), chainrule_outputs(model, points))


def test_a_torch_model_comes_over_and_goes_back(torch):
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LeakyReLU(0.01)),
        torch.nn.Linear(8, 8),
        torch.nn.LeakyReLU(),
        torch.nn.Linear(8, 3),
        torch.nn.Identity(),
    )  # float32, as torch makes layers: the weights come over exactly, as float64
    model = nn.from_torch(module)
    assert isinstance(model, nn.MLP) and model.config()["sizes"] == [8, 8, 3]
    assert model.config()["activation"] == "leaky_relu" and model.config()["output_activation"] == "linear"
    points = np.random.default_rng(6).normal(size=(5, 4))
    expected = module.double()(torch.tensor(points)).detach().numpy()
    assert relative(chainrule_outputs(model, points), expected) <= TOLERANCE
    again = nn.to_torch(model, dtype=torch.float32)
    assert again[0].weight.dtype == torch.float32
    assert torch.equal(again[0].weight, module[0][0].weight.float())


def test_the_printed_code_runs_and_loads_the_model_file(torch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    points = np.random.default_rng(7).normal(size=(6, 3))
    for shape, activation in [("mlp", "relu"), ("layer", "leaky_relu"), ("neuron", "sigmoid"), ("mlp", "linear")]:
        model = build(shape, activation, seed=2)
        nn.save_model(model, "model.json")
        namespace: dict[str, Any] = {"__name__": "printed"}
        exec(compile(nn.torch_code(model), "printed.py", "exec"), namespace)
        got = namespace["model"](torch.tensor(points)).detach().numpy()
        assert relative(got, chainrule_outputs(model, points)) <= TOLERANCE, (shape, activation)


def test_the_code_is_written_without_torch(capsys: pytest.CaptureFixture[str]):
    model = nn.MLP(2, [16, 16, 1], seed=0)
    nn.print_torch_code(model, "moons.json")
    code = capsys.readouterr().out
    assert "class MLP(nn.Module):" in code and "self.fc3 = nn.Linear(16, 1, dtype=torch.float64)" in code
    assert "x = torch.relu(self.fc2(x))" in code and "return self.fc3(x)" in code
    assert 'model = load_chainrule(MLP(), "moons.json")' in code
    compile(code, "printed.py", "exec")  # it parses


def test_without_torch_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert_refused(lambda: nn.to_torch(nn.MLP(2, [1], seed=0)), ImportError, r"pip install 'chainrule\[torch\]'")
    assert_refused(lambda: nn.from_torch(object()), ImportError, r"pip install 'chainrule\[torch\]'")


class Custom(nn.Module):
    def __init__(self) -> None:
        self.inner = nn.Layer(2, 2, seed=0)


def test_a_model_that_is_not_an_mlp_layer_or_neuron_is_refused_by_name():
    assert_refused(lambda: nn.to_torch(Custom()), nn.TorchMappingError, r"to_torch: cannot map a Custom")
    assert_refused(lambda: nn.torch_code(Custom()), nn.TorchMappingError, r"to_torch: cannot map a Custom")
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[1] = Custom()  # type: ignore[call-overload]
    assert_refused(lambda: nn.to_torch(model), nn.TorchMappingError, r"layers\[1\] is a Custom, not an nn.Layer")
    layer = nn.Layer(2, 2, seed=0)
    layer.neurons[1] = nn.Neuron(2, "tanh", seed=0)
    assert_refused(lambda: nn.to_torch(layer), nn.TorchMappingError, r"neuron 1 \(Neuron\(2, tanh\)\) differs")


REFUSED: dict[str, tuple[str, str]] = {
    "conv": ("Sequential(Linear(4, 3), Conv1d(1, 1, 2))", r"layer 1 \(Conv1d\(1, 1.*has no counterpart in nn"),
    "dropout": ("Sequential(Linear(4, 3), ReLU(), Dropout(0.5), Linear(3, 1))", r"layer 2 \(Dropout\(p=0.5"),
    "slope": ("Sequential(Linear(4, 3), LeakyReLU(0.2))", r"layer 1 \(LeakyReLU\(negative_slope=0.2\)\) has slope 0.2"),
    "bias": ("Sequential(Linear(4, 3, bias=False))", r"layer 0 \(Linear\(.*bias=False\)\) has no bias"),
    "first": ("Sequential(ReLU(), Linear(4, 3))", r"layer 0 \(ReLU\(\)\) follows no Linear layer"),
    "twice": ("Sequential(Linear(4, 3), ReLU(), Tanh())", r"layer 2 \(Tanh\(\)\) follows no Linear layer"),
    "sizes": ("Sequential(Linear(4, 3), Linear(5, 1))", r"layer 1 \(Linear\(in_features=5.*reads 5 inputs but the lay"),
    "mixed": ("Sequential(Linear(4, 3), ReLU(), Linear(3, 3), Tanh(), Linear(3, 1))",
              r"layer 3 \(Tanh\(\)\) makes hidden layer 1 tanh, but hidden layer 0 is relu"),
    "empty": ("Sequential()", r"the module holds no Linear layer"),
    "custom": ("Bilinear(2, 2, 1)", r"cannot map a Bilinear: its forward is its own code"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_torch_layer_without_a_counterpart_is_refused_by_name(torch, case: str):
    source, message = REFUSED[case]
    module = eval(source, {name: getattr(torch.nn, name) for name in dir(torch.nn)})
    assert_refused(lambda: nn.from_torch(module), nn.TorchMappingError, "from_torch: " + message)


def test_into_must_have_the_modules_shape(torch):
    module = nn.to_torch(nn.MLP(3, [4, 2], seed=0))
    message = r"layers \(outputs, inputs, activation\) are \[\(4, 3, 'relu'\), \(2, 4, 'linear'\)\], but MLP into"
    assert_refused(lambda: nn.from_torch(module, into=nn.MLP(3, [4, 3], seed=0)), nn.TorchMappingError, message)
    assert_refused(lambda: nn.from_torch(module, into=Custom()), nn.TorchMappingError, r"from_torch: into: cannot map")


def test_the_guides_pytorch_examples_run(torch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # tests/test_readme.py runs the python blocks of the guide everywhere; the py blocks need PyTorch and run here,
    # in order with the others, in one namespace, as a reader would run them.
    monkeypatch.chdir(tmp_path)
    guide = Path(__file__).resolve().parent.parent / "docs" / "guide" / "export.md"
    blocks = [
        code for language, code in FENCE.findall(guide.read_text(encoding="utf-8")) if language in ("python", "py")
    ]
    assert sum(code.startswith("import torch") for code in blocks) == 1
    namespace: dict[str, Any] = {"__name__": "export_guide"}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for code in blocks:
            exec(compile(code, str(guide), "exec"), namespace)
    printed = output.getvalue()
    assert "MLP(2 -> 16 -> 16 -> 1, relu hidden, linear output, 337 parameters)" in printed
    assert "from_torch: layer 1 (Dropout(p=0.5, inplace=False)) has no counterpart in nn" in printed
    module, model = namespace["module"], namespace["model"]  # the torch gradient is of the weights before its step
    points, labels = nn.make_moons(100, noise=0.1, seed=1)
    model.zero_grad()
    nn.hinge([model(x) for x in points.tolist()], labels).backward()
    expected = [[w.grad for w in neuron.w] for neuron in model.layers[0].neurons]
    assert relative(module[0].weight.grad.numpy(), expected) <= TOLERANCE


def test_a_dtype_or_path_that_is_not_one_is_refused(torch):
    model = nn.MLP(2, [1], seed=0)
    assert_refused(
        lambda: nn.to_torch(model, dtype=torch.int64), TypeError, r"to_torch: dtype must be a floating-poi.*int64"
    )
    assert_refused(lambda: nn.to_torch(model, dtype="float64"), TypeError, r"to_torch: .*got 'float64'")
    assert_refused(lambda: nn.torch_code(model, 3), TypeError, r"torch_code: path must be .* got int 3")  # type: ignore[arg-type]
    assert 'load_chainrule(MLP(), "m.json")' in nn.torch_code(model, Path("m.json"))

"""``nn`` models in PyTorch and back: :func:`to_torch`, :func:`from_torch`, and the code to write by hand.

A layer of ``n`` neurons reading ``m`` inputs is ``torch.nn.Linear(m, n)``: neuron j's weights are row j
of its weight matrix and its bias is bias[j], so y = activation(W x + b) in both. The activations are
``ReLU``, ``Tanh``, ``Sigmoid``, ``LeakyReLU(0.01)`` and none for "linear". PyTorch is imported only
when a function here needs it (``pip install 'chainrule[torch]'``); :func:`torch_code` needs none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from nn.layers import MLP, Layer, Neuron
from nn.module import Module

LEAKY_SLOPE = 0.01
"""The slope of nn's "leaky_relu" (``Value.leaky_relu``'s default), and of the ``LeakyReLU`` it maps to."""

_MODULES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU"}
_FUNCTIONS = {"relu": "torch.relu({})", "tanh": "torch.tanh({})", "sigmoid": "torch.sigmoid({})",
              "leaky_relu": f"nn.functional.leaky_relu({{}}, {LEAKY_SLOPE})", "linear": "{}"}  # fmt: skip
_MAPPED = "Linear (with a bias), ReLU, Tanh, Sigmoid, LeakyReLU(0.01) and Identity"

Dense = tuple[list[list[float]], list[float], str]  # one layer: weights[j][k] (neuron j, input k), biases, activation


class TorchMappingError(TypeError):
    """A model, module or layer without a counterpart on the other side; the message names it."""


def _torch() -> Any:
    """The torch package, or ImportError naming the extra that installs it."""
    try:
        import torch
    except ImportError:
        raise ImportError(
            "PyTorch is not installed: pip install 'chainrule[torch]' (or pip install torch) to move models to "
            "and from PyTorch",
            name="torch",
        ) from None
    return torch


def _neuron_layer(neurons: Sequence[Neuron], where: str) -> Dense:
    for j, neuron in enumerate(neurons):
        if type(neuron) is not Neuron:
            raise TorchMappingError(f"to_torch: {where}neuron {j} is a {type(neuron).__name__}, not an nn.Neuron")
        if neuron.activation != neurons[0].activation or len(neuron.w) != len(neurons[0].w):
            raise TorchMappingError(
                f"to_torch: {where}neuron {j} ({neuron.describe()}) differs from neuron 0 ({neurons[0].describe()}); "
                "a Linear layer's neurons share their inputs and activation"
            )
    return [[w.data for w in n.w] for n in neurons], [n.b.data for n in neurons], neurons[0].activation


def dense_layers(model: Module) -> list[Dense]:
    """(weights, biases, activation) of each layer of an MLP, a Layer or a Neuron, in order."""
    if type(model) is Neuron:
        return [_neuron_layer([model], "")]
    if type(model) is Layer:
        return [_neuron_layer(model.neurons, "")]
    if type(model) is MLP:
        layers = []
        for i, layer in enumerate(model.layers):
            if type(layer) is not Layer:
                raise TorchMappingError(f"to_torch: layers[{i}] is a {type(layer).__name__}, not an nn.Layer")
            layers.append(_neuron_layer(layer.neurons, f"layers[{i}] "))
            if i and len(layers[i][0][0]) != len(layers[i - 1][0]):
                raise TorchMappingError(f"to_torch: layers[{i}] reads {len(layers[i][0][0])} inputs but "
                                        f"layers[{i - 1}] gives {len(layers[i - 1][0])}")  # fmt: skip
        return layers
    raise TorchMappingError(
        f"to_torch: cannot map a {type(model).__name__}: its forward is its own code; nn.to_torch maps "
        "nn.MLP, nn.Layer and nn.Neuron"
    )


def to_torch(model: Module, dtype: Any = None) -> Any:
    """``model`` as a ``torch.nn.Sequential`` of ``Linear`` and activation layers holding its weights.

    y = act(W x + b) per layer, W[j, k] = neuron j's weight k; float64 unless ``dtype`` says otherwise,
    so outputs and gradients equal chainrule's to rounding. Raises :class:`TorchMappingError` naming a
    model that is not an MLP, Layer or Neuron, and ImportError naming the ``torch`` extra without PyTorch.
    """
    layers = dense_layers(model)
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"to_torch: dtype must be a floating-point torch dtype such as torch.float64, got {dtype!r}")
    modules: list[Any] = []
    for weights, biases, activation in layers:
        linear = torch.nn.Linear(len(weights[0]), len(weights), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules.append(linear)
        if activation == "leaky_relu":
            modules.append(torch.nn.LeakyReLU(LEAKY_SLOPE))
        elif activation != "linear":
            modules.append(getattr(torch.nn, _MODULES[activation])())
    return torch.nn.Sequential(*modules)


def _flatten(module: Any, torch: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(module, torch.nn.Sequential):
        return [item for name, child in module.named_children() for item in _flatten(child, torch, prefix + name + ".")]
    return [(prefix.rstrip(".") or type(module).__name__, module)]


def _activation(name: str, layer: Any, torch: Any) -> str | None:
    """nn's name for an activation layer; None for a layer that is not one."""
    for key, kind in _MODULES.items():
        if type(layer) is getattr(torch.nn, kind):
            if key == "leaky_relu" and layer.negative_slope != LEAKY_SLOPE:
                raise TorchMappingError(f"from_torch: layer {name} ({layer!r}) has slope {layer.negative_slope!r}; "
                                        f"nn's leaky_relu has slope {LEAKY_SLOPE}")  # fmt: skip
            return key
    return "linear" if type(layer) is torch.nn.Identity else None


def _read(module: Any, torch: Any) -> tuple[list[Dense], list[str]]:
    """The (weights, biases, activation) of a Sequential of Linear layers, each followed by at most one
    activation; and the name of each one's last torch layer (its activation's, if it has one)."""
    if not isinstance(module, (torch.nn.Sequential, torch.nn.Linear)):
        raise TorchMappingError(
            f"from_torch: cannot map a {type(module).__name__}: its forward is its own code; give an "
            f"nn.Sequential of {_MAPPED} layers"
        )
    layers: list[Dense] = []
    names: list[str] = []
    for name, layer in _flatten(module, torch):
        activation = _activation(name, layer, torch)
        if activation is not None:
            if not layers or layers[-1][2] != "linear":
                raise TorchMappingError(f"from_torch: layer {name} ({layer!r}) follows no Linear layer; an nn "
                                        "layer is a Linear layer and at most one activation")  # fmt: skip
            layers[-1], names[-1] = (*layers[-1][:2], activation), f"{name} ({layer!r})"
            continue
        if type(layer) is not torch.nn.Linear:
            raise TorchMappingError(f"from_torch: layer {name} ({layer!r}) has no counterpart in nn; it maps {_MAPPED}")
        if layer.bias is None:
            raise TorchMappingError(f"from_torch: layer {name} ({layer!r}) has no bias; every nn neuron has one")
        if layers and len(layers[-1][0]) != layer.in_features:
            raise TorchMappingError(f"from_torch: layer {name} ({layer!r}) reads {layer.in_features} inputs but "
                                    f"the layer before gives {len(layers[-1][0])}")  # fmt: skip
        weights = layer.weight.detach().to(device="cpu", dtype=torch.float64).tolist()
        biases = layer.bias.detach().to(device="cpu", dtype=torch.float64).tolist()
        layers.append((weights, biases, "linear"))
        names.append(f"{name} ({layer!r})")
    if not layers:
        raise TorchMappingError("from_torch: the module holds no Linear layer")
    return layers, names


def from_torch(module: Any, into: Module | None = None) -> Module:
    """The ``nn`` model of a ``torch.nn.Sequential`` of Linear and activation layers (or of one Linear).

    A new :class:`MLP` (its hidden layers share one activation), or ``into`` (an MLP, Layer or Neuron of the
    same shape and activations) with its parameters set. Raises :class:`TorchMappingError` naming the layer
    or module that nn has no counterpart for, and ImportError naming the ``torch`` extra without PyTorch.
    """
    torch = _torch()
    layers, names = _read(module, torch)
    hidden = {activation for _, _, activation in layers[:-1]}
    if into is None:
        if len(hidden) > 1:
            i = next(i for i, (_, _, kind) in enumerate(layers) if kind != layers[0][2])
            raise TorchMappingError(
                f"from_torch: layer {names[i]} makes hidden layer {i} {layers[i][2]}, but "
                f"hidden layer 0 is {layers[0][2]}: an nn.MLP has one hidden activation"
            )
        nin, sizes = len(layers[0][0][0]), [len(weights) for weights, _, _ in layers]
        into = MLP(nin, sizes, hidden.pop() if hidden else "relu", layers[-1][2], seed=0)
    try:
        expected = dense_layers(into)
    except TorchMappingError as error:
        raise TorchMappingError(str(error).replace("to_torch:", "from_torch: into:", 1)) from None
    shape = [(len(w), len(w[0]), activation) for w, _, activation in layers]
    wanted = [(len(w), len(w[0]), activation) for w, _, activation in expected]
    if shape != wanted:
        raise TorchMappingError(f"from_torch: the module's layers (outputs, inputs, activation) are {shape}, but "
                                f"{type(into).__name__} into has {wanted}")  # fmt: skip
    # named_parameters walks neuron by neuron, each's weights then its bias: the order of the rows here.
    numbers = [x for weights, biases, _ in layers for row, b in zip(weights, biases, strict=True) for x in (*row, b)]
    into.load_state_dict(dict(zip((name for name, _ in into.named_parameters()), numbers, strict=True)))
    return into


def torch_code(model: Module, path: str | os.PathLike[str] = "model.json") -> str:
    """The PyTorch code of ``model``: a class with one ``nn.Linear`` per layer and its ``forward``, and a
    function that loads the file ``nn.save_model(model, path)`` writes into it (neuron j's weights are row j).
    Needs no PyTorch to write; the code itself imports only torch and json."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"torch_code: path must be the model file's path, a str, got {type(path).__name__} {path!r}")
    layers = dense_layers(model)
    name = type(model).__name__
    prefix = {"MLP": "layers.{i}.neurons.{j}.", "Layer": "neurons.{j}.", "Neuron": ""}[name]
    fields = [f"        self.fc{i + 1} = nn.Linear({len(w[0])}, {len(w)}, dtype=torch.float64)"
              for i, (w, _, _) in enumerate(layers)]  # fmt: skip
    steps = [f"        x = {_FUNCTIONS[a].format(f'self.fc{i + 1}(x)')}" for i, (_, _, a) in enumerate(layers)]
    steps[-1] = steps[-1].replace("x = ", "return ", 1)
    file = json.dumps(os.fspath(path))
    linears = ", ".join(f"model.fc{i + 1}" for i in range(len(layers)))
    return "\n".join([
        "import json", "", "import torch", "from torch import nn", "", "",
        f"class {name}(nn.Module):",
        f'    """chainrule\'s {model.describe()}, in PyTorch."""', "",
        "    def __init__(self) -> None:", "        super().__init__()", *fields, "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:", *steps, "", "",
        f"def load_chainrule(model: {name}, path: str) -> {name}:",
        '    """Copy the parameters of a chainrule model file (nn.save_model) into model."""',
        '    with open(path, encoding="utf-8") as file:', '        parameters = json.load(file)["parameters"]',
        "    with torch.no_grad():",
        f"        for i, layer in enumerate([{linears}]):",
        "            for j in range(layer.out_features):",
        f'                prefix = "{prefix}".format(i=i, j=j)',
        '                row = [parameters[f"{prefix}w.{k}"] for k in range(layer.in_features)]',
        "                layer.weight[j] = torch.tensor(row, dtype=torch.float64)",
        '                layer.bias[j] = parameters[f"{prefix}b"]',
        "    return model", "", "",
        f"model = load_chainrule({name}(), {file})  # the file nn.save_model(model, {file}) wrote",
        "",
    ])  # fmt: skip


def print_torch_code(model: Module, path: str | os.PathLike[str] = "model.json") -> None:
    """Print :func:`torch_code` of ``model``: the class to read and edit, and how its weights are loaded."""
    print(torch_code(model, path))

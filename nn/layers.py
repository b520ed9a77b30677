"""Neurons, layers and multilayer perceptrons built from Values."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

import autograd as ag
from autograd import Value
from nn.module import Module

Input = Union[Value, float]
Output = Union[Value, list[Value]]

ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,
    "linear": lambda z: z,
}
INITS = ("uniform", "xavier", "glorot", "he")


def _check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name


def _check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value


def _initial_weights(nin: int, nout: int, init: str, rng: np.random.Generator) -> list[float]:
    """uniform: U(-1, 1) as micrograd; xavier/glorot: U(±sqrt(6 / (nin + nout))); he: N(0, 2 / nin)."""
    if init == "uniform":
        return [float(w) for w in rng.uniform(-1.0, 1.0, nin)]
    if init in ("xavier", "glorot"):
        limit = math.sqrt(6.0 / (nin + nout))
        return [float(w) for w in rng.uniform(-limit, limit, nin)]
    if init == "he":
        return [float(w) for w in rng.normal(0.0, math.sqrt(2.0 / nin), nin)]
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


class Neuron(Module):
    """activation(w · x + b): one ``dot`` node (the bias folded in) and one activation node."""

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        init: str = "uniform",
        nout: int = 1,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.nin = _check_size(nin, "Neuron: nin")
        self.activation = _check_activation(activation)
        rng = rng if rng is not None else np.random.default_rng()
        self.w = [Value(w, label=f"w{i}") for i, w in enumerate(_initial_weights(nin, nout, init, rng))]
        self.b = Value(0.0, label="b")

    def __call__(self, x: Sequence[Input]) -> Value:
        if len(x) != self.nin:
            raise ValueError(f"Neuron: expected {self.nin} inputs, got {len(x)}")
        with ag.scope(self):
            return ACTIVATIONS[self.activation](ag.dot([*self.w, self.b], [*x, 1.0]))

    def describe(self) -> str:
        return f"Neuron({self.nin}, {self.activation})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        init: str = "uniform",
        rng: np.random.Generator | None = None,
    ) -> None:
        self.nin = _check_size(nin, "Layer: nin")
        self.nout = _check_size(nout, "Layer: nout")
        self.activation = _check_activation(activation)
        rng = rng if rng is not None else np.random.default_rng()
        self.neurons = [Neuron(nin, activation, init, nout, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Input]) -> Output:
        if len(x) != self.nin:
            raise ValueError(f"Layer: expected {self.nin} inputs, got {len(x)}")
        with ag.scope(self):
            outputs = [neuron(x) for neuron in self.neurons]
        return outputs[0] if len(outputs) == 1 else outputs

    def set_weights(self, weights: Sequence[Sequence[float]], biases: Sequence[float]) -> None:
        """Set ``weights[j][k]`` (neuron j, input k) and ``biases[j]``, e.g. to reproduce a worked example."""
        shape = [len(row) for row in weights]
        if shape != [self.nin] * self.nout or len(biases) != self.nout:
            raise ValueError(
                f"Layer.set_weights: expected {self.nout} rows of {self.nin} weights and {self.nout} biases, "
                f"got rows of lengths {shape} and {len(biases)} biases"
            )
        for neuron, row, bias in zip(self.neurons, weights, biases, strict=True):
            for w, value in zip(neuron.w, row, strict=True):
                w.data = float(value)
            neuron.b.data = float(bias)

    def describe(self) -> str:
        return f"Layer({self.nin} -> {self.nout}, {self.activation})"

    def __repr__(self) -> str:  # the neurons are alike: one line says it all
        return self.describe()


class MLP(Module):
    """A multilayer perceptron: ``nin`` inputs, then a layer per entry of ``sizes``.

    Hidden layers use ``activation``; the last uses ``output_activation`` (default "linear", so the
    outputs are scores or logits for a loss to interpret). ``seed`` makes the initial weights
    reproducible; ``init`` is "uniform" (micrograd's U(-1, 1)), "xavier"/"glorot" or "he".
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        init: str = "uniform",
        seed: int | None = None,
    ) -> None:
        self.nin = _check_size(nin, "MLP: nin")
        if not isinstance(sizes, Sequence) or isinstance(sizes, str):
            raise TypeError(f"MLP: sizes must be a list of layer sizes such as [16, 16, 1], got {sizes!r}")
        if not sizes:
            raise ValueError("MLP: sizes must list at least one layer size")
        self.sizes = [_check_size(s, "MLP: every layer size") for s in sizes]
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation or "linear")
        self.init = init
        self.seed = seed
        rng = np.random.default_rng(seed)
        fan_in = [nin, *self.sizes[:-1]]
        kinds = [activation] * (len(self.sizes) - 1) + [self.output_activation]
        self.layers = [Layer(n, m, kind, init, rng) for n, m, kind in zip(fan_in, self.sizes, kinds, strict=True)]

    def __call__(self, x: Sequence[Input]) -> Output:
        if len(x) != self.nin:
            raise ValueError(f"MLP: expected {self.nin} inputs, got {len(x)}")
        values: Sequence[Input] = x
        out: Output = []
        with ag.scope(self):
            for layer in self.layers:
                out = layer(values)
                values = out if isinstance(out, list) else [out]
        return out

    def set_weights(self, layers: Sequence[tuple[Sequence[Sequence[float]], Sequence[float]]]) -> None:
        """Set every weight and bias: one ``(weights, biases)`` pair per layer, as in :meth:`Layer.set_weights`."""
        if len(layers) != len(self.layers):
            raise ValueError(f"MLP.set_weights: expected {len(self.layers)} (weights, biases) pairs, got {len(layers)}")
        for layer, (weights, biases) in zip(self.layers, layers, strict=True):
            layer.set_weights(weights, biases)

    def config(self) -> dict[str, Any]:
        """The architecture, enough to rebuild the model (used by ``nn.save``)."""
        return {
            "type": "MLP",
            "nin": self.nin,
            "sizes": list(self.sizes),
            "activation": self.activation,
            "output_activation": self.output_activation,
        }

    def describe(self) -> str:
        shape = " -> ".join(str(n) for n in [self.nin, *self.sizes])
        count = len(self.parameters())
        return f"MLP({shape}, {self.activation} hidden, {self.output_activation} output, {count} parameters)"

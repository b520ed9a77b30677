"""Neurons, layers and multilayer perceptrons built from Values."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any, Union

import numpy as np

import autograd as ag
from autograd import Value
from nn.checks import Seed, check_count, check_seed, excerpt
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
INITS = ("auto", "he", "xavier", "glorot", "uniform", "micrograd")
"""The initialisations by name. "auto", the default, is He for ReLU-like layers and Xavier/Glorot for the rest."""
# What "auto" picks by a layer's activation: He's derivation assumes half the units at 0, Glorot's a unit
# that is linear near 0 (tanh, sigmoid up to scale, and the linear output layer itself).
_SCALED_FOR = {"relu": "he", "leaky_relu": "he", "tanh": "xavier", "sigmoid": "xavier", "linear": "xavier"}


def _check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name


def _check_inputs(x: Sequence[Input], nin: int, who: str) -> None:
    """Raise a TypeError or ValueError that says what is wrong unless ``x`` is one sample of ``nin`` inputs.

    A sample is a list (or tuple, or 1-d numpy array) of numbers or Values. The usual slips get a message
    that says what to do: one bare number or Value ("wrap it in a list"), a batch of samples (a 2-d
    array, or a list of lists: "call it once per sample"), a string, or a list of the wrong length.
    """
    if type(x) is list and len(x) == nin:  # the common case, a list of Values or floats, checked fast
        for item in x:
            if type(item) is not Value and type(item) is not float:
                break
        else:
            return
    inputs = f"{nin} input{'s' if nin != 1 else ''}"
    if isinstance(x, (Value, Real)) or (isinstance(x, np.ndarray) and x.ndim == 0):
        example = repr(float(x)) if isinstance(x, Real) and not isinstance(x, bool) else "x"
        hint = f"wrap it in a list: model([{example}])" if nin == 1 else f"pass all {nin} inputs in one list"
        raise TypeError(
            f"{who}: expected a list of {inputs} (one sample), got a single {type(x).__name__} {excerpt(x)}; {hint}"
        )
    if isinstance(x, np.ndarray) and x.ndim != 1:
        raise ValueError(
            f"{who}: expected one sample, a list of {inputs}, got an array of shape {x.shape}. "
            f"A model takes one sample at a time: for a batch use [model(row) for row in points] "
            f"or nn.predict(model, points)"
        )
    if isinstance(x, (str, bytes)) or not isinstance(x, (Sequence, np.ndarray)):
        raise TypeError(f"{who}: expected a list of {inputs}, numbers or Values (one sample), got {excerpt(x)}")
    if len(x) != nin:
        raise ValueError(f"{who}: expected {nin} inputs, got {len(x)}{_nested_hint(x)}")
    for i, item in enumerate(x):
        if not isinstance(item, (Value, Real)) or isinstance(item, np.ndarray):
            if isinstance(item, (Sequence, np.ndarray)) and not isinstance(item, (str, bytes)):
                raise ValueError(
                    f"{who}: input {i} is itself a list or array ({excerpt(item)}): a model takes one sample, "
                    f"a flat list of {inputs}; for a batch use [model(row) for row in points] "
                    f"or nn.predict(model, points)"
                )
            raise TypeError(f"{who}: input {i} must be a number or a Value, got {type(item).__name__} {excerpt(item)}")


def _nested_hint(x: Sequence[Input]) -> str:
    """For a list whose items are themselves lists (a batch, or one sample wrapped twice), what to do."""
    if len(x) > 0 and isinstance(x[0], (Sequence, np.ndarray)) and not isinstance(x[0], (str, bytes)):
        return (
            "; its items are lists or arrays: a model takes one sample, a flat list of inputs "
            "(for a batch use [model(row) for row in points] or nn.predict(model, points))"
        )
    return ""


def _check_init(init: object, who: str) -> str:
    """``init`` if it names an initialisation, else ValueError naming ``who``, the choices and the nearest name."""
    if not isinstance(init, str) or init not in INITS:
        close = difflib.get_close_matches(init.lower(), INITS, n=1) if isinstance(init, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{who}: unknown init {excerpt(init)}{hint}; choose one of {', '.join(INITS)}")
    return init


def _initial_weights(nin: int, fan_out: int, init: str, activation: str, rng: np.random.Generator) -> list[float]:
    """One neuron's weights. he: N(0, 2 / nin); xavier/glorot: U(±sqrt(6 / (nin + fan_out)));
    uniform/micrograd: U(-1, 1); auto: he before relu and leaky_relu, xavier before tanh, sigmoid, linear.

    He keeps the variance of a ReLU layer's outputs near its inputs' (ReLU zeroes half, so 2 / nin);
    Xavier keeps it near 1 both ways through a layer that is linear around 0. U(-1, 1) ignores nin: a
    784-input layer's pre-activations then have a standard deviation sqrt(784 / 3), about 16, times the
    inputs' root mean square.
    """
    kind = _SCALED_FOR[activation] if init == "auto" else init
    if kind in ("uniform", "micrograd"):
        return [float(w) for w in rng.uniform(-1.0, 1.0, nin)]
    if kind in ("xavier", "glorot"):
        limit = math.sqrt(6.0 / (nin + fan_out))
        return [float(w) for w in rng.uniform(-limit, limit, nin)]
    return [float(w) for w in rng.normal(0.0, math.sqrt(2.0 / nin), nin)]


class Neuron(Module):
    """activation(w · x + b): one ``dot`` node (the bias folded in) and one activation node.

    ``init`` and ``seed`` as in :class:`MLP`. ``fan_out`` is the number of neurons in this neuron's
    layer; only Xavier/Glorot initialisation uses it.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        init: str = "auto",
        fan_out: int = 1,
        seed: Seed = None,
    ) -> None:
        self.nin = check_count(nin, "Neuron: nin")
        self.fan_out = check_count(fan_out, "Neuron: fan_out")
        self.activation = _check_activation(activation)
        init = _check_init(init, "Neuron")
        weights = _initial_weights(nin, fan_out, init, activation, check_seed(seed, "Neuron"))
        self.w = [Value(w, label=f"w{i}") for i, w in enumerate(weights)]
        self.b = Value(0.0, label="b")

    def __call__(self, x: Sequence[Input]) -> Value:
        if type(x) is not list or len(x) != self.nin:  # the full check only off the common path: it runs per neuron
            _check_inputs(x, self.nin, "Neuron")
        with ag.scope(self):
            return ACTIVATIONS[self.activation](ag.dot([*self.w, self.b], [*x, 1.0]))

    def describe(self) -> str:
        return f"Neuron({self.nin}, {self.activation})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; calling it gives a list of ``nout`` Values.

    ``init`` and ``seed`` as in :class:`MLP`;
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        init: str = "auto",
        seed: Seed = None,
    ) -> None:
        self.nin = check_count(nin, "Layer: nin")
        self.nout = check_count(nout, "Layer: nout")
        self.activation = _check_activation(activation)
        init = _check_init(init, "Layer")
        generator = check_seed(seed, "Layer")
        self.neurons = [Neuron(nin, activation, init, fan_out=nout, seed=generator) for _ in range(nout)]

    def __call__(self, x: Sequence[Input]) -> list[Value]:
        _check_inputs(x, self.nin, "Layer")
        with ag.scope(self):
            return [neuron(x) for neuron in self.neurons]

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
    outputs are scores or logits for a loss to interpret). Calling it gives a Value when the last
    layer has one neuron, else a list of Values.

    ``init`` sets the initial weights (biases start at 0), each layer's scaled by its fan-in as
    PyTorch and Keras do, so a wide network starts with outputs of moderate size and trains:

    - "auto" (the default): "he" for relu and leaky_relu layers, "xavier" for tanh, sigmoid and linear
      ones (the output layer, usually);
    - "he": N(0, 2 / fan_in); "xavier" or "glorot": U(±sqrt(6 / (fan_in + fan_out)));
    - "uniform" or "micrograd": U(-1, 1), micrograd's choice, fine for its 2-16-16-1 network but not
      scaled: on Fashion-MNIST a 784-300-100-10 network starts with logits of standard deviation near
      185, its loss explodes, and it learns nothing (accuracy 0.10, where "auto" has 0.83 after one epoch).

    ``seed`` is an int, a numpy Generator (drawn from, layer by layer), or None for fresh randomness.
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        init: str = "auto",
        seed: Seed = None,
    ) -> None:
        self.nin = check_count(nin, "MLP: nin")
        if not isinstance(sizes, Sequence) or isinstance(sizes, str):
            raise TypeError(f"MLP: sizes must be a list of layer sizes such as [16, 16, 1], got {sizes!r}")
        if not sizes:
            raise ValueError("MLP: sizes must list at least one layer size")
        self.sizes = [check_count(s, "MLP: every layer size") for s in sizes]
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation or "linear")
        self.init = _check_init(init, "MLP")
        self.seed = seed
        rng = check_seed(seed, "MLP")
        fan_in = [nin, *self.sizes[:-1]]
        kinds = [activation] * (len(self.sizes) - 1) + [self.output_activation]
        self.layers = [Layer(n, m, kind, init, rng) for n, m, kind in zip(fan_in, self.sizes, kinds, strict=True)]

    def __call__(self, x: Sequence[Input]) -> Output:
        _check_inputs(x, self.nin, "MLP")
        with ag.scope(self):
            outputs = self.layers[0](x)
            for layer in self.layers[1:]:
                outputs = layer(outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def set_weights(self, layers: Sequence[tuple[Sequence[Sequence[float]], Sequence[float]]]) -> None:
        """Set every weight and bias: one ``(weights, biases)`` pair per layer, as in :meth:`Layer.set_weights`."""
        if len(layers) != len(self.layers):
            raise ValueError(f"MLP.set_weights: expected {len(self.layers)} (weights, biases) pairs, got {len(layers)}")
        for layer, (weights, biases) in zip(self.layers, layers, strict=True):
            layer.set_weights(weights, biases)

    def config(self) -> dict[str, Any]:
        """The architecture, enough to rebuild the model (used by ``nn.save_model``)."""
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

"""Neural networks on the scalar engine: layers, losses, optimizers, data, training, saving.

>>> from nn import MLP
>>> model = MLP(2, [16, 16, 1], seed=0)
>>> model([0.5, -1.0]).data  # doctest: +SKIP
"""

try:
    import numpy  # noqa: F401  # nn's data, models and training hold arrays
except ImportError as error:  # not "No module named 'numpy'": what needs it, and how to install it
    message = "nn needs numpy, which is not installed: pip install numpy (in Pyodide, JupyterLite: %pip install numpy)"
    raise ModuleNotFoundError(message, name="numpy") from error

from nn.data import (
    MNIST_CLASSES,
    IDXFormatError,
    batches,
    find_mnist,
    load_digits,
    load_mnist,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    mnist_name,
    read_idx,
    train_test_split,
)
from nn.io import ModelFileError, load_into, load_model, save_model
from nn.layers import ACTIVATIONS, MLP, Layer, Neuron
from nn.losses import binary_cross_entropy_with_logits, cross_entropy, hinge, l2, log_softmax, max_margin, mse, softmax
from nn.module import Module
from nn.optim import SGD, Adam, LinearDecay, Optimizer, StepLR, TrainingError, TrainingWarning
from nn.pytorch import TorchMappingError, from_torch, print_torch_code, to_torch, torch_code
from nn.train import accuracy, fit, predict

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MNIST_CLASSES",
    "SGD",
    "Adam",
    "IDXFormatError",
    "Layer",
    "LinearDecay",
    "ModelFileError",
    "Module",
    "Neuron",
    "Optimizer",
    "StepLR",
    "TorchMappingError",
    "TrainingError",
    "TrainingWarning",
    "accuracy",
    "batches",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "find_mnist",
    "fit",
    "from_torch",
    "hinge",
    "l2",
    "load_digits",
    "load_into",
    "load_mnist",
    "load_model",
    "log_softmax",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "max_margin",
    "mnist_name",
    "mse",
    "predict",
    "print_torch_code",
    "read_idx",
    "save_model",
    "softmax",
    "to_torch",
    "torch_code",
    "train_test_split",
]

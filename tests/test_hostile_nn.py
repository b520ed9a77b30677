"""A catalogue of hostile inputs to nn: each must fail with the exact exception type and a message
naming the culprit, and leave the model and the files on disk as they were."""

from __future__ import annotations

import gzip
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value

Thunk = Callable[[], object]
Setup = Callable[[Path, nn.MLP], Thunk]
ROOT = Path(__file__).resolve().parent.parent


def model_file(tmp: Path, text: str | bytes, name: str = "m.json") -> Path:
    path = tmp / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def document(model: nn.MLP, **changes: Any) -> str:
    doc: dict[str, Any] = {"format": "chainrule-model", "version": 1, "architecture": model.config(),
                           "parameters": model.state_dict()}  # fmt: skip
    doc.update(changes)
    return json.dumps(doc)


def arch(**changes: Any) -> dict[str, Any]:
    base = {"type": "MLP", "nin": 2, "sizes": [3, 1], "activation": "relu", "output_activation": "linear"}
    return {**base, **changes}


def load(text: str | bytes) -> Setup:
    def setup(tmp: Path, model: nn.MLP) -> Thunk:
        path = model_file(tmp, text)
        return lambda: nn.load_model(path)

    return setup


def load_doc(**changes: Any) -> Setup:
    def setup(tmp: Path, model: nn.MLP) -> Thunk:
        path = model_file(tmp, document(model, **changes))
        return lambda: nn.load_model(path)

    return setup


def into(text_of: Callable[[nn.MLP], str]) -> Setup:
    def setup(tmp: Path, model: nn.MLP) -> Thunk:
        path = model_file(tmp, text_of(model))
        return lambda: nn.load_into(model, path)

    return setup


def on_file(name: str, data: bytes | str, action: Callable[[Path, nn.MLP], object]) -> Setup:
    def setup(tmp: Path, model: nn.MLP) -> Thunk:
        path = model_file(tmp, data, name)
        return lambda: action(path, model)

    return setup


def idx(data: bytes, gz: bool = False) -> Setup:
    def setup(tmp: Path, model: nn.MLP) -> Thunk:
        path = tmp / ("d.idx.gz" if gz else "d.idx")
        path.write_bytes(gzip.compress(data) if gz else data)
        return lambda: nn.read_idx(path)

    return setup


def call(make: Callable[[nn.MLP], object]) -> Setup:
    return lambda tmp, model: lambda: make(model)


POINTS = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
LABELS = np.array([1, 0, 1, 0])


def fit(points: Any = POINTS, labels: Any = LABELS, **settings: Any) -> Setup:
    settings.setdefault("epochs", 2)
    settings.setdefault("progress", False)
    return call(lambda model: nn.fit(model, points, labels, **settings))


def classes(labels: Any, outputs: int = 3, **settings: Any) -> Setup:
    """fit of a fresh model with one logit per class (the catalogue's model has one output)."""
    settings.setdefault("epochs", 2)
    settings.setdefault("progress", False)
    return call(lambda m: nn.fit(nn.MLP(2, [outputs], seed=0), POINTS, labels, loss="cross_entropy", **settings))


def own_hinge(outputs: list[Any], labels: list[Any]) -> Value:
    """A loss of one's own that hands the batch to nn.hinge, so fit cannot check the labels itself."""
    return nn.hinge(outputs, labels)


def own_bce(outputs: list[Any], labels: list[Any]) -> Value:
    return nn.binary_cross_entropy_with_logits(outputs, labels)


def squared_error(output: Any, label: Any) -> Value:
    """A loss of one sample, the slip: fit gives a loss the whole minibatch."""
    return (output - label) ** 2  # type: ignore[no-any-return]


class ListOfOne(nn.Module):
    """A model whose one output comes in a list, as nn.Layer(2, 1) gives it."""

    def __init__(self) -> None:
        self.layer = nn.Layer(2, 1, seed=0)

    def __call__(self, x: list[Any]) -> list[Value]:
        return self.layer(x)


def optimizer(cls: type[nn.Optimizer], **settings: Any) -> Setup:
    return call(lambda model: cls(model.parameters(), **settings))


def sgd(model: nn.MLP) -> nn.SGD:
    return nn.SGD(model.parameters(), lr=0.1)


def _corrupt(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data))
    packed[12:20] = b"\xff" * 8
    return bytes(packed)


nested = "[" * 100_000 + "]" * 100_000
header = bytes([0, 0, 8, 1]) + (4).to_bytes(4, "big")

CASES: list[tuple[str, Setup, type[BaseException], str]] = [
    # -- model files
    ("empty file", load(""), nn.ModelFileError, r"m\.json is not valid JSON"),
    ("truncated", load('{"format": "chainrule-model", "vers'), nn.ModelFileError, "not valid JSON"),
    ("not utf-8", load(b"\xff\xfe{}"), nn.ModelFileError, "not valid JSON"),
    ("a list", load("[1, 2]"), nn.ModelFileError, "is not a chainrule-model file"),
    ("wrong format", load('{"format": "other"}'), nn.ModelFileError, "is not a chainrule-model file"),
    ("wrong version", load_doc(version=2), nn.ModelFileError, "format version 2; this library reads 1"),
    ("version string", load_doc(version="1"), nn.ModelFileError, "format version '1'"),
    ("huge version string", load_doc(version="9" * 100_000), nn.ModelFileError, r"format version '9{60}'\.\.\."),
    ("no parameters", load_doc(parameters=[]), nn.ModelFileError, "lacks its architecture or parameters"),
    ("architecture a list", load_doc(architecture=[]), nn.ModelFileError, "lacks its architecture"),
    ("other type", load_doc(architecture=arch(type="CNN")), nn.ModelFileError, "cannot rebuild a 'CNN'"),
    ("nin a string", load_doc(architecture=arch(nin="2")), nn.ModelFileError, "invalid nin '2'"),
    ("nin a bool", load_doc(architecture=arch(nin=True)), nn.ModelFileError, "invalid nin True"),
    ("nin zero", load_doc(architecture=arch(nin=0)), nn.ModelFileError, "invalid nin 0"),
    ("sizes empty", load_doc(architecture=arch(sizes=[])), nn.ModelFileError, r"invalid sizes \[\]"),
    ("sizes a float", load_doc(architecture=arch(sizes=[3.5, 1])), nn.ModelFileError, r"invalid sizes \[3\.5, 1\]"),
    ("sizes negative", load_doc(architecture=arch(sizes=[-3, 1])), nn.ModelFileError, "invalid sizes"),
    ("bad activation", load_doc(architecture=arch(activation="<b>")), nn.ModelFileError, "unknown activation '<b>'"),
    (
        "huge sizes, tiny file",
        load_doc(architecture=arch(nin=1000, sizes=[1000])),
        nn.ModelFileError,
        "describes 1001000 parameters but holds 13",
    ),
    (
        "over the budget",
        load_doc(architecture=arch(nin=10**6, sizes=[10**6] * 3)),
        nn.ModelFileError,
        "more than max_parameters=5000000",
    ),
    (
        "huge int nin",
        load_doc(architecture=arch(nin=10**4000, sizes=[10**4000])),
        nn.ModelFileError,
        r"describes more than 10\*\*30 parameters, more than max_parameters",
    ),
    (
        "int beyond 4300 digits",
        load('{"format": "chainrule-model", "version": ' + "9" * 5000 + "}"),
        nn.ModelFileError,
        "holds a number that cannot be read",
    ),
    ("deeply nested", load(nested), nn.ModelFileError, "nested too deeply"),
    (
        "NaN literal",
        load('{"format": "chainrule-model", "version": 1, "x": NaN}'),
        nn.ModelFileError,
        "the literal NaN is not a finite number",
    ),
    (
        "Infinity literal",
        load('{"format": "chainrule-model", "version": 1, "x": -Infinity}'),
        nn.ModelFileError,
        "the literal -Infinity",
    ),
    (
        "1e999 parameter",
        into(lambda m: document(m).replace(repr(m.layers[0].neurons[0].w[0].data), "1e999", 1)),
        nn.ModelFileError,
        r"layers\.0\.neurons\.0\.w\.0 must be a finite number, got inf",
    ),
    (
        "huge int parameter",
        into(lambda m: document(m).replace(repr(m.layers[0].neurons[0].w[0].data), "9" * 400, 1)),
        nn.ModelFileError,
        "got a number too large for a float",
    ),
    (
        "string parameter",
        into(lambda m: document(m).replace(repr(m.layers[0].neurons[0].b.data), '"x"', 1)),
        nn.ModelFileError,
        r"neurons\.0\.b must be a finite number, got 'x'",
    ),
    (
        "huge unexpected name",
        into(lambda m: document(m, parameters={**m.state_dict(), "z" * 10**6: 1.0})),
        nn.ModelFileError,
        r"unexpected z{80}\.\.\. \(1000000 characters\)",
    ),
    ("missing parameter", into(lambda m: document(m, parameters={})), nn.ModelFileError, r"missing layers\.0"),
    (
        "other architecture",
        into(lambda m: document(m, architecture=arch(sizes=[4, 1]))),
        nn.ModelFileError,
        "holds .*but the model is",
    ),
    ("a directory", lambda tmp, model: lambda: nn.load_model(tmp), nn.ModelFileError, "is not a regular file"),
    (
        "over max_bytes",
        on_file("m.json", " " * 2000, lambda p, m: nn.load_model(p, max_bytes=1000)),
        nn.ModelFileError,
        "has 2000 bytes, more than max_bytes=1000",
    ),
    (
        "bad max_bytes",
        on_file("m.json", "{}", lambda p, m: nn.load_into(m, p, max_bytes=0)),
        ValueError,
        "load_into: max_bytes must be a positive int, got 0",
    ),
    # -- IDX files
    ("idx empty", idx(b""), nn.IDXFormatError, r"d\.idx does not start with an IDX magic number"),
    ("idx wrong magic", idx(b"\x01\x00\x08\x01" + bytes(8)), nn.IDXFormatError, "IDX magic number"),
    ("idx bad dtype", idx(b"\x00\x00\x07\x01" + bytes(8)), nn.IDXFormatError, "IDX magic number"),
    ("idx no dims", idx(b"\x00\x00\x08\x00"), nn.IDXFormatError, "declares no dimensions"),
    ("idx truncated header", idx(b"\x00\x00\x08\x03\x00\x00"), nn.IDXFormatError, "truncated inside its header"),
    (
        "idx truncated data",
        idx(header + b"\x01\x02"),
        nn.IDXFormatError,
        r"holds 2 bytes of data, but its header \(4,\) needs 4",
    ),
    (
        "idx extra data",
        idx(header + bytes(5)),
        nn.IDXFormatError,
        r"holds more bytes of data, but its header \(4,\) needs 4",
    ),
    (
        "idx huge dims",
        idx(bytes([0, 0, 0x0E, 255]) + b"\xff" * 1020),
        nn.IDXFormatError,
        r"needs more than 10\*\*30 bytes, more than max_bytes=1073741824",
    ),
    (
        "gz truncated",
        on_file("t.gz", gzip.compress(header + bytes(4))[:-12], lambda p, m: nn.read_idx(p)),
        nn.IDXFormatError,
        r"t\.gz is not a valid gzip stream",
    ),
    (
        "gz not gzip",
        on_file("n.gz", b"plain text, not gzip", lambda p, m: nn.read_idx(p)),
        nn.IDXFormatError,
        r"n\.gz is not a valid gzip stream",
    ),
    (
        "gz corrupt body",
        on_file("c.gz", _corrupt(header + bytes(4000)), lambda p, m: nn.read_idx(p)),
        nn.IDXFormatError,
        r"c\.gz is not a valid gzip stream",
    ),
    ("gz bomb after header", idx(header + bytes(4) + bytes(50 << 20), gz=True), nn.IDXFormatError, "holds more bytes"),
    # -- fit
    (
        "fit 1-D points",
        fit(points=np.arange(4.0)),
        ValueError,
        r"points must have shape \(n, features\), got shape \(4,\)",
    ),
    ("fit ragged points", fit(points=[[0.0, 1.0], [1.0]]), ValueError, "points must be rows of numbers"),
    ("fit string points", fit(points=[["a", "b"]] * 4), ValueError, "points must be rows of numbers"),
    (
        "fit NaN point",
        fit(points=[[0.0, 1.0], [1.0, math.nan], [1.0, 1.0], [0.0, 0.0]]),
        ValueError,
        "point #1 has nan at feature 1",
    ),
    (
        "fit inf point",
        fit(points=[[0.0, 1.0], [1.0, 0.0], [math.inf, 1.0], [0.0, 0.0]]),
        ValueError,
        "point #2 has inf",
    ),
    ("fit no points", fit(points=np.zeros((0, 2)), labels=[]), ValueError, "fit: no points"),
    ("fit label count", fit(labels=[1, 0]), ValueError, "4 points but 2 labels"),
    ("fit wrong width", fit(points=np.zeros((4, 3))), ValueError, "3 features, but the model takes 2 inputs"),
    ("fit NaN label mse", fit(labels=[1.0, math.nan, 0.0, 1.0], loss="mse"), ValueError, "label #1 is nan"),
    ("fit NaN label hinge", fit(labels=[1.0, math.nan, 0.0, 1.0]), ValueError, r"needs labels 0/1 or -1/\+1"),
    ("fit label 2 hinge", fit(labels=[1, 2, 0, 1]), ValueError, r"got \[0, 1, 2\]"),
    (
        "fit fractional class",
        call(lambda m: nn.fit(nn.MLP(2, [2], seed=0), POINTS, [1.7, 0, 1, 0], loss="cross_entropy", progress=False)),
        ValueError,
        "label #0 is 1.7",
    ),
    (
        "fit negative class",
        call(lambda m: nn.fit(nn.MLP(2, [2], seed=0), POINTS, [1, -1, 1, 0], loss="cross_entropy", progress=False)),
        ValueError,
        "label #1 is -1",
    ),
    ("fit l2 NaN", fit(l2=math.nan), ValueError, "fit: l2 must be a finite number >= 0, got nan"),
    ("fit l2 negative", fit(l2=-1.0), ValueError, "fit: l2 must be a finite number >= 0, got -1.0"),
    ("fit l2 string", fit(l2="0.1"), ValueError, "fit: l2 must be a finite number >= 0, got '0.1'"),
    ("fit epochs NaN", fit(epochs=math.nan), ValueError, "fit: epochs must be a positive int, got nan"),
    ("fit batch 0", fit(batch_size=0), ValueError, "fit: batch_size must be a positive int"),
    ("fit unknown loss", fit(loss="huber"), ValueError, "unknown loss 'huber'"),
    ("fit float loss", fit(loss=lambda outputs, labels: 0.5), TypeError, r"returned 0\.5, not a Value"),
    ("fit optimizer a float", fit(optimizer=0.1), TypeError, "optimizer must have a step"),
    ("fit callback a string", fit(callback="stop"), TypeError, "callback must be a function"),
    # -- fit: labels a loss cannot take are refused before the first step, alike compiled or not
    (
        "own hinge label 2 compiled",  # the fourth sample: past the three a loss of one's own is tried on
        fit(labels=[1, 0, 1, 2], loss=own_hinge, compile=True),
        ValueError,
        r"hinge: labels must be -1 or \+1 \(or 0 and 1\), got 2\.0",
    ),
    (
        "own hinge label 2 in a later batch",
        fit(labels=[1, 0, 2, 1], loss=own_hinge, batch_size=2, seed=None),
        ValueError,
        r"hinge: labels must be -1 or \+1 \(or 0 and 1\), got 2\.0",
    ),
    (
        "own bce label 2 compiled",
        fit(labels=[1, 0, 1, 2], loss=own_bce, compile=True),
        ValueError,
        r"binary_cross_entropy_with_logits: targets must lie in \[0, 1\], got 2\.0",
    ),
    (
        "class 7 of 3 compiled",
        classes([0, 7, 1, 2], compile=True),
        ValueError,
        "fit: loss 'cross_entropy' needs class indices 0 to 2 for the model's 3 outputs, but label #1 is 7",
    ),
    (
        "class 7 of 3",
        classes([0, 7, 1, 2]),
        ValueError,
        "fit: loss 'cross_entropy' needs class indices 0 to 2 for the model's 3 outputs, but label #1 is 7",
    ),
    ("class 0.5", classes([0, 0.5, 1, 2], compile=True), ValueError, r"label #1 is 0\.5"),
    ("class True", classes([True, False, True, False]), ValueError, "label #0 is True"),
    ("class NaN compiled", classes([0, math.nan, 1, 2], compile=True), ValueError, "label #1 is nan"),
    (
        "labels (n, 2) for hinge",
        fit(labels=np.eye(4, 2), compile=True),
        ValueError,
        r"loss 'hinge' needs one label per sample, an array of shape \(4,\), but the labels have shape \(4, 2\)",
    ),
    (
        "one-hot labels for cross_entropy",
        classes(np.eye(3)[[0, 1, 2, 0]]),
        ValueError,
        r"shape \(4, 3\); for one-hot rows pass labels\.argmax\(axis=1\)",
    ),
    (
        "labels (n, 1, 1)",
        fit(labels=np.zeros((4, 1, 1))),
        ValueError,
        r"fit: labels must have shape \(n,\) or \(n, outputs\), got shape \(4, 1, 1\)",
    ),
    ("ragged labels", fit(labels=[[1], [0, 1], [1], [0]]), ValueError, "fit: labels must be numbers, one per sample"),
    (
        "string labels compiled",
        fit(labels=np.array(["cat", "dog", "cat", "dog"]), loss=own_hinge, compile=True),
        ValueError,
        r"fit: labels must be numbers, but label #0 is 'cat'; .*np\.unique\(labels, return_inverse=True\)",
    ),
    ("a None label", fit(labels=[1, None, 0, 1], loss=own_hinge), ValueError, "label #1 is None"),
    ("empty lists", fit(points=[], labels=[]), ValueError, "fit: no points"),
    (
        "a list of one output for bce",
        call(lambda m: nn.fit(ListOfOne(), POINTS, LABELS, loss="bce", epochs=1, progress=False, compile=True)),
        ValueError,
        r"loss 'bce' needs one output, a Value, but the model gives a list of one; return its item, output\[0\]",
    ),
    (
        "a loss of one sample",
        fit(loss=squared_error, compile=True),
        TypeError,
        r"loss 'squared_error' failed on a minibatch of one sample .*list.* gets the whole minibatch",
    ),
    ("own loss gives a float compiled", fit(loss=lambda o, y: 0.5, compile=True), TypeError, r"returned 0\.5, not a"),
    (
        "accuracy one-hot labels",
        call(lambda m: nn.accuracy(m, POINTS, np.eye(4, 2))),
        ValueError,
        r"accuracy: labels must be one number per sample, an array of shape \(4,\), got shape \(4, 2\)",
    ),
    (
        "accuracy string labels",
        call(lambda m: nn.accuracy(m, POINTS, ["a", "b", "a", "b"])),
        ValueError,
        "accuracy: labels must be numbers, but label #0 is 'a'",
    ),
    (
        "nn.hinge compiled, label 2",
        call(lambda m: ag.compile(lambda s, y: nn.hinge(s, y))(np.array([0.5, 0.5]), np.array([1.0, 2.0]))),
        IndexError,
        r"pick: index 3\.0 is not a whole number in \[0, 3\) \(sample #1 of the batch",  # label + 1: -1, 0, 1 only
    ),
    # -- fit: a step that overflows is a TrainingError naming where, compiled or not
    (
        "compiled mean overflows",
        fit(labels=np.full(4, 1.3e154), loss="mse", compile=True),
        nn.TrainingError,
        r"fit: epoch 1, step 1: the loss is inf",
    ),
    (
        "compiled trace overflows",
        fit(labels=np.full(4, 1e300), loss="mse", compile=True),
        nn.TrainingError,
        r"fit: epoch 1, step 1: the loss overflowed",
    ),
    # -- seeds and initialisations, one way everywhere
    (
        "MLP seed a string",
        call(lambda m: nn.MLP(2, [3], seed="0")),  # type: ignore[arg-type]
        TypeError,
        r"MLP: seed must be an int, a numpy Generator \(np\.random\.default_rng\(0\)\) or None, got str '0'",
    ),
    ("MLP seed a float", call(lambda m: nn.MLP(2, [3], seed=1.5)), TypeError, "got float 1.5"),  # type: ignore[arg-type]
    ("MLP seed a bool", call(lambda m: nn.MLP(2, [3], seed=True)), TypeError, "got bool True"),
    ("Neuron seed negative", call(lambda m: nn.Neuron(2, seed=-1)), ValueError, "Neuron: seed must be an int >= 0"),
    (
        "Layer seed a RandomState",
        call(lambda m: nn.Layer(2, 3, seed=np.random.RandomState(0))),  # type: ignore[arg-type]
        TypeError,
        r"Layer: seed must be .* numpy's legacy kind: use np\.random\.default_rng",
    ),
    ("fit seed a string", fit(seed="x", batch_size=2), TypeError, "fit: seed must be an int, a numpy Generator"),
    (
        "rng, a name never released",
        call(lambda m: nn.Neuron(2, rng=np.random.default_rng(0))),  # type: ignore[call-arg]
        TypeError,
        "unexpected keyword argument 'rng'",
    ),
    (
        "init misspelt",
        call(lambda m: nn.MLP(2, [3], init="xaiver")),
        ValueError,
        r"MLP: unknown init 'xaiver' \(did you mean 'xavier'\?\)",
    ),
    (
        "init capitalised",
        call(lambda m: nn.Layer(2, 3, init="He")),
        ValueError,
        r"Layer: unknown init 'He' \(did you mean 'he'\?\)",
    ),
    (
        "init not a string",
        call(lambda m: nn.MLP(2, [3], init=None)),  # type: ignore[arg-type]
        ValueError,
        "MLP: unknown init None; choose one of auto",
    ),
    # -- optimisers and schedules
    (
        "SGD lr NaN",
        optimizer(nn.SGD, lr=math.nan),
        ValueError,
        "SGD: the learning rate must be a positive number, got nan",
    ),
    ("SGD lr inf", optimizer(nn.SGD, lr=math.inf), ValueError, "got inf"),
    ("SGD lr 0", optimizer(nn.SGD, lr=0), ValueError, "got 0"),
    ("SGD lr huge int", optimizer(nn.SGD, lr=10**400), ValueError, "the learning rate must be a positive number"),
    (
        "SGD momentum NaN",
        optimizer(nn.SGD, lr=0.1, momentum=math.nan),
        ValueError,
        r"SGD: momentum must lie in \[0, 1\), got nan",
    ),
    ("SGD momentum 1", optimizer(nn.SGD, lr=0.1, momentum=1.0), ValueError, r"momentum must lie in \[0, 1\), got 1\.0"),
    (
        "SGD weight_decay NaN",
        optimizer(nn.SGD, lr=0.1, weight_decay=math.nan),
        ValueError,
        "SGD: weight_decay must be a finite number >= 0, got nan",
    ),
    ("SGD weight_decay inf", optimizer(nn.SGD, lr=0.1, weight_decay=math.inf), ValueError, "weight_decay .* got inf"),
    ("SGD weight_decay negative", optimizer(nn.SGD, lr=0.1, weight_decay=-0.1), ValueError, "got -0.1"),
    ("Adam eps NaN", optimizer(nn.Adam, eps=math.nan), ValueError, "Adam: eps must be a finite number > 0, got nan"),
    ("Adam eps 0", optimizer(nn.Adam, eps=0.0), ValueError, "Adam: eps must be a finite number > 0, got 0.0"),
    (
        "Adam beta NaN",
        optimizer(nn.Adam, betas=(math.nan, 0.9)),
        ValueError,
        r"Adam: betas\[0\] must lie in \[0, 1\), got nan",
    ),
    (
        "Adam beta2 inf",
        optimizer(nn.Adam, betas=(0.9, math.inf)),
        ValueError,
        r"betas\[1\] must lie in \[0, 1\), got inf",
    ),
    ("Adam one beta", optimizer(nn.Adam, betas=(0.9,)), ValueError, r"betas must be a pair .* got \(0\.9,\)"),
    ("Adam weight_decay NaN", optimizer(nn.Adam, weight_decay=math.nan), ValueError, "Adam: weight_decay .* got nan"),
    (
        "Adam lr string",
        optimizer(nn.Adam, lr="fast"),
        ValueError,
        "learning rate must be a positive number, got 'fast'",
    ),
    ("no parameters", call(lambda m: nn.SGD([], lr=0.1)), ValueError, "SGD: no parameters to optimise"),
    ("non-Value parameter", call(lambda m: nn.SGD([*m.parameters(), 1.5], lr=0.1)), TypeError, "parameter #13 is 1.5"),  # type: ignore[list-item]
    (
        "parameters not iterable",
        call(lambda m: nn.Adam(3)),  # type: ignore[arg-type]
        TypeError,
        "parameters must be an iterable of Values, got 3",
    ),
    ("NaN parameter", call(lambda m: nn.SGD([Value(math.nan)], lr=0.1)), ValueError, "parameter #0 is nan"),
    (
        "StepLR gamma NaN",
        call(lambda m: nn.StepLR(sgd(m), 2, gamma=math.nan)),
        ValueError,
        "StepLR: gamma must be a finite number > 0, got nan",
    ),
    (
        "StepLR gamma 0",
        call(lambda m: nn.StepLR(sgd(m), 2, gamma=0.0)),
        ValueError,
        "gamma must be a finite number > 0",
    ),
    (
        "StepLR step_size NaN",
        call(lambda m: nn.StepLR(sgd(m), math.nan)),  # type: ignore[arg-type]
        ValueError,
        "step_size must be a positive int, got nan",
    ),
    (
        "StepLR not an optimizer",
        call(lambda m: nn.StepLR(0.1, 2)),  # type: ignore[arg-type]
        TypeError,
        "StepLR: optimizer must be an nn Optimizer",
    ),
    (
        "LinearDecay end NaN",
        call(lambda m: nn.LinearDecay(sgd(m), 1.0, math.nan, 10)),
        ValueError,
        "LinearDecay: end: the learning rate must be a positive number, got nan",
    ),
    # -- layers and MLP
    ("MLP sizes string", call(lambda m: nn.MLP(2, "16")), TypeError, "sizes must be a list of layer sizes"),  # type: ignore[arg-type]
    (
        "MLP size NaN",
        call(lambda m: nn.MLP(2, [math.nan])),  # type: ignore[list-item]
        ValueError,
        "every layer size must be a positive int, got nan",
    ),
    ("MLP nin string", call(lambda m: nn.MLP("2", [1])), ValueError, "MLP: nin must be a positive int, got '2'"),  # type: ignore[arg-type]
    ("MLP too many inputs", call(lambda m: m([1.0, 2.0, 3.0])), ValueError, "MLP: expected 2 inputs, got 3"),
    ("Layer wrong inputs", call(lambda m: m.layers[1]([1.0])), ValueError, "Layer: expected 3 inputs, got 1"),
    ("Neuron activation", call(lambda m: nn.Neuron(2, activation="gelu")), ValueError, "unknown activation 'gelu'"),
    ("accuracy empty", call(lambda m: nn.accuracy(m, np.zeros((0, 2)), [])), ValueError, "accuracy: no points"),
    (
        "accuracy 1-D",
        call(lambda m: nn.accuracy(m, [1.0, 2.0], [1, 0])),  # type: ignore[list-item]
        ValueError,
        "accuracy: points must have shape",
    ),
    (
        "accuracy NaN label",
        call(lambda m: nn.accuracy(m, POINTS, [1, 0, math.nan, 1])),
        ValueError,
        "labels must be finite numbers",
    ),
    # -- losses
    ("mse empty", call(lambda m: nn.mse([], [])), ValueError, "mse: the batch is empty"),
    ("mse mismatch", call(lambda m: nn.mse([Value(1.0)], [1.0, 2.0])), ValueError, "1 predictions but 2 targets"),
    (
        "hinge label 0.5",
        call(lambda m: nn.hinge([Value(1.0)], [0.5])),
        ValueError,
        "labels must be -1 or \\+1 \\(or 0 and 1\\), got 0.5",
    ),
    (
        "bce NaN target",
        call(lambda m: nn.binary_cross_entropy_with_logits([Value(1.0)], [math.nan])),
        ValueError,
        r"targets must lie in \[0, 1\], got nan",
    ),
    (
        "cross_entropy 1.7",
        call(lambda m: nn.cross_entropy([Value(1.0), Value(2.0)], [1.7])),  # type: ignore[list-item]
        ValueError,
        "label 1.7 is not a class index",
    ),
    (
        "cross_entropy mismatch",
        call(lambda m: nn.cross_entropy([[Value(1.0)], [Value(2.0)]], [0])),
        ValueError,
        "2 samples but 1 labels",
    ),
    ("log_softmax empty", call(lambda m: nn.log_softmax([])), ValueError, "log_softmax: no logits"),
]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize(("name", "setup", "error", "message"), CASES, ids=[case[0] for case in CASES])
def test_hostile_input(tmp_path: Path, name: str, setup: Setup, error: type[BaseException], message: str):
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    thunk = setup(tmp_path, model)
    files = snapshot(tmp_path)
    with pytest.raises(error) as caught:
        thunk()
    assert type(caught.value) is error, f"{name}: {caught.value!r}"
    text = str(caught.value)
    assert re.search(message, text), text
    assert len(text) < 1000, f"{name}: the message has {len(text)} characters"
    assert model.state_dict() == before
    assert snapshot(tmp_path) == files


def test_the_catalogue_is_large():
    assert len(CASES) >= 60


class Pair(nn.Module):
    def __init__(self, weight: Value) -> None:
        self.w = weight
        self.partner: nn.Module | None = None


def test_self_reference_and_cycles_end_and_tied_weights_move_once():
    model = nn.MLP(2, [2, 1], seed=0)
    model.me = model  # type: ignore[attr-defined]
    assert len(model.parameters()) == 9
    assert "<cycle>" in repr(model)
    a, b = Pair(Value(1.0)), Pair(Value(2.0))
    a.partner, b.partner = b, a
    assert [name for name, _ in a.named_parameters()] == ["w", "partner.w"]
    tied = Value(3.0)
    first, second = Pair(tied), Pair(tied)
    first.partner = second
    assert list(first.state_dict()) == ["w"]
    tied.grad = 0.5
    nn.SGD(first.parameters(), lr=0.1).step()
    assert tied.data == 3.0 - 0.1 * 0.5  # one step, not two
    again = Value(1.0)
    again.grad = 2.0
    nn.SGD([again, again], lr=0.25).step()
    assert again.data == 0.5


def test_fit_stops_on_a_non_finite_loss_and_keeps_the_last_good_parameters(tmp_path: Path):
    model = nn.MLP(2, [3, 1], seed=0)
    huge = np.array([[1e200, 1e200], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    before = model.state_dict()
    with pytest.raises(nn.TrainingError, match=r"epoch 1, step 1: the loss (is inf|is nan|overflowed)") as caught:
        nn.fit(model, huge, [1.0, 0.0, 0.0, 1.0], loss="mse", epochs=3, progress=False)
    assert (caught.value.epoch, caught.value.step) == (1, 1)
    assert model.state_dict() == before
    nn.save_model(model, tmp_path / "good.json")


def test_a_step_that_would_make_a_parameter_nan_changes_nothing():
    weights = [Value(1.0), Value(2.0), Value(3.0)]
    for w, g in zip(weights, [1.0, math.inf, 1.0], strict=True):
        w.grad = g
    optimizer = nn.SGD(weights, lr=0.1, momentum=0.5)
    with pytest.raises(nn.TrainingError, match=r"parameter #1 -?inf .*no parameter was changed"):
        optimizer.step()
    assert [w.data for w in weights] == [1.0, 2.0, 3.0]
    assert optimizer.velocity.tolist() == [0.0, 0.0, 0.0]


_DATA_SLOT: Any = Value.__dict__["data"]


class OneInterrupt(Value):
    """A Value whose next assignment to ``data`` raises KeyboardInterrupt, once."""

    __slots__ = ()
    armed = False

    @property
    def data(self) -> float:
        return _DATA_SLOT.__get__(self)  # type: ignore[no-any-return]

    @data.setter
    def data(self, value: float) -> None:
        if OneInterrupt.armed:
            OneInterrupt.armed = False
            raise KeyboardInterrupt
        _DATA_SLOT.__set__(self, value)


def test_ctrl_c_inside_a_step_changes_nothing_and_keeps_the_history():
    model = nn.MLP(2, [3, 1], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    calls = []

    def callback(epoch: int, logs: dict[str, float]) -> None:
        calls.append(epoch)

    snapshots = []
    original_step = optimizer.step

    def recording_step() -> None:
        snapshots.append(model.state_dict())
        if len(calls) == 2:  # the third epoch's step is interrupted halfway through assigning the parameters
            OneInterrupt.armed = True
            model.parameters()[6].__class__ = OneInterrupt
        original_step()

    optimizer.step = recording_step  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt) as caught:
        nn.fit(model, POINTS, LABELS, optimizer=optimizer, epochs=5, callback=callback, progress=False)
    assert len(caught.value.history["loss"]) == 2  # type: ignore[attr-defined]
    assert model.state_dict() == snapshots[-1]  # as before the interrupted step: all or nothing


BOMB = """
import json, resource, sys, time, gzip
resource.setrlimit(resource.RLIMIT_AS, (400 * 2**20, 400 * 2**20))  # the old loader needed 443 MB
resource.setrlimit(resource.RLIMIT_CPU, (20, 20))  # and seconds: fail fast, or be killed
import nn
folder = sys.argv[1]
path = folder + "/bomb.json"
architecture = {"type": "MLP", "nin": 1000, "sizes": [1000], "activation": "relu", "output_activation": "linear"}
doc = {"format": "chainrule-model", "version": 1, "parameters": {}, "architecture": architecture}
open(path, "w").write(json.dumps(doc))
start = time.perf_counter()
try:
    nn.load_model(path)
except nn.ModelFileError as error:
    print("model", type(error).__name__, round(time.perf_counter() - start, 3))
with gzip.open(folder + "/bomb.gz", "wb", compresslevel=9) as file:
    file.write(bytes([0, 0, 8, 1]) + (4).to_bytes(4, "big") + bytes(4))
    for _ in range(1024):
        file.write(bytes(2**20))
start = time.perf_counter()
try:
    nn.read_idx(folder + "/bomb.gz")
except nn.IDXFormatError as error:
    print("idx", type(error).__name__, round(time.perf_counter() - start, 3))
"""


def test_memory_bombs_fail_fast_under_a_memory_limit(tmp_path: Path):
    result = subprocess.run([sys.executable, "-c", BOMB, str(tmp_path)], capture_output=True, text=True, timeout=120,
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.split("\n")
    assert lines[0].startswith("model ModelFileError")
    assert lines[1].startswith("idx IDXFormatError")
    assert (tmp_path / "bomb.gz").stat().st_size < 2 * 2**20  # a gigabyte of zeros, small on disk


def test_fit_keeps_the_parameters_when_a_step_overflows_with_either_kind_of_optimizer():
    # The library's own optimizer refuses the step itself; any other object with step() and
    # zero_grad() is snapshotted and checked by fit. Either way: TrainingError, parameters unchanged.
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    overflowing = nn.SGD(model.parameters(), lr=1e10, weight_decay=1e300)  # finite settings; lr * decay * p overflows
    with pytest.raises(nn.TrainingError, match=r"fit: epoch 1, step 1: SGD: the step would make parameter #\d+ -?inf"):
        nn.fit(model, POINTS, LABELS, loss="mse", optimizer=overflowing, progress=False)
    assert model.state_dict() == before

    class Foreign:
        def zero_grad(self) -> None:
            model.zero_grad()

        def step(self) -> None:
            for p in model.parameters()[:2]:
                p.data = math.nan

    with pytest.raises(nn.TrainingError, match=r"fit: epoch 1, step 1: the optimizer made parameter #0 nan"):
        nn.fit(model, POINTS, LABELS, loss="mse", optimizer=Foreign(), progress=False)  # type: ignore[arg-type]
    assert model.state_dict() == before

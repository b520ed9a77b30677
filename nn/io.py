"""Save and load models as readable JSON: atomic writes, a format version, validation before any change."""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

from autograd.files import write_atomically
from nn.layers import MLP
from nn.module import Module

FORMAT = "chainrule-model"
VERSION = 1


class ModelFileError(ValueError):
    """A model file is unreadable, corrupt, from another format version, or does not fit the model."""


def save_model(model: Module, path: str | os.PathLike[str]) -> Path:
    """Write the architecture and every parameter to ``path`` as JSON; :func:`load_model` reads it back.

    Floats are written with ``repr`` precision, so loading gives back exactly the same numbers.
    The file appears whole or not at all (written to a temporary file, then renamed).
    """
    config = getattr(model, "config", None)
    parameters = model.state_dict()
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(f"save_model: parameter {name} is {value!r}; only finite numbers can be saved")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": config() if callable(config) else {"type": type(model).__name__},
        "parameters": parameters,
    }
    return write_atomically(path, json.dumps(document, indent=1).encode("utf-8"))


def _read(path: str | os.PathLike[str], who: str) -> dict[str, Any]:
    """The checked JSON document in ``path``; ``who`` (the public function) starts every error message."""
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{who}: {source.name} is not valid JSON (truncated or corrupt?): {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{who}: {source.name} is not a {FORMAT} file")
    if document.get("version") != VERSION:
        found = document.get("version")
        raise ModelFileError(f"{who}: {source.name} has format version {found!r}; this library reads {VERSION}")
    if not isinstance(document.get("parameters"), dict) or not isinstance(document.get("architecture"), dict):
        raise ModelFileError(f"{who}: {source.name} lacks its architecture or parameters")
    return document


def _fill(model: Module, document: dict[str, Any], name: str, who: str) -> None:
    """Set ``model``'s parameters from a checked document, or raise and leave the model unchanged."""
    config = getattr(model, "config", None)
    expected = config() if callable(config) else None
    if expected is not None and document["architecture"] != expected:
        raise ModelFileError(f"{who}: {name} holds {document['architecture']}, but the model is {expected}")
    try:
        model.load_state_dict(document["parameters"])
    except (KeyError, ValueError) as error:
        raise ModelFileError(f"{who}: {name} does not fit the model: {error}") from None


def load_into(model: Module, path: str | os.PathLike[str]) -> Module:
    """Load parameters from ``path`` into ``model``; on any mismatch raise and leave the model unchanged."""
    _fill(model, _read(path, "load_into"), Path(path).name, "load_into")
    return model


def load_model(path: str | os.PathLike[str]) -> MLP:
    """Rebuild the MLP that :func:`save_model` wrote to ``path``, with its parameters."""
    document = _read(path, "load_model")
    architecture = document["architecture"]
    if architecture.get("type") != "MLP":
        raise ModelFileError(f"load_model: cannot rebuild a {architecture.get('type')!r}; use load_into with a model")
    try:
        model = MLP(
            architecture["nin"], architecture["sizes"], architecture["activation"], architecture["output_activation"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"load_model: {Path(path).name} has an invalid architecture: {error}") from None
    _fill(model, document, Path(path).name, "load_model")
    return model


def save(model: Module, path: str | os.PathLike[str]) -> Path:
    """Deprecated name of :func:`save_model`, kept for one release."""
    warnings.warn(
        "nn.save is deprecated and will be removed in the next release; use nn.save_model",
        DeprecationWarning,
        stacklevel=2,
    )
    return save_model(model, path)


def load(path: str | os.PathLike[str]) -> MLP:
    """Deprecated name of :func:`load_model`, kept for one release."""
    warnings.warn(
        "nn.load is deprecated and will be removed in the next release; use nn.load_model",
        DeprecationWarning,
        stacklevel=2,
    )
    return load_model(path)

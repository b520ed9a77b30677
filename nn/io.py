"""Save and load models as readable JSON: atomic writes, a format version, validation before any change."""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path
from typing import Any

from nn.layers import MLP
from nn.module import Module

FORMAT = "chainrule-model"
VERSION = 1


class ModelFileError(ValueError):
    """A model file is unreadable, corrupt, from another format version, or does not fit the model."""


def save(model: Module, path: str | os.PathLike[str]) -> Path:
    """Write the architecture and every parameter to ``path`` as JSON.

    Floats are written with ``repr`` precision, so loading gives back exactly the same numbers.
    The file appears whole or not at all (written to a temporary file, then renamed).
    """
    config = getattr(model, "config", None)
    parameters = model.state_dict()
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(f"save: parameter {name} is {value!r}; only finite numbers can be saved")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": config() if callable(config) else {"type": type(model).__name__},
        "parameters": parameters,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as file:
            json.dump(document, file, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"load: {source.name} is not valid JSON (truncated or corrupt?): {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"load: {source.name} is not a {FORMAT} file")
    if document.get("version") != VERSION:
        found = document.get("version")
        raise ModelFileError(f"load: {source.name} has format version {found!r}; this library reads {VERSION}")
    if not isinstance(document.get("parameters"), dict) or not isinstance(document.get("architecture"), dict):
        raise ModelFileError(f"load: {source.name} lacks its architecture or parameters")
    return document


def load_into(model: Module, path: str | os.PathLike[str]) -> Module:
    """Load parameters from ``path`` into ``model``; on any mismatch raise and leave the model unchanged."""
    document = _read(path)
    config = getattr(model, "config", None)
    expected = config() if callable(config) else None
    if expected is not None and document["architecture"] != expected:
        raise ModelFileError(f"load: {Path(path).name} holds {document['architecture']}, but the model is {expected}")
    try:
        model.load_state_dict(document["parameters"])
    except (KeyError, ValueError) as error:
        raise ModelFileError(f"load: {Path(path).name} does not fit the model: {error}") from None
    return model


def load(path: str | os.PathLike[str]) -> MLP:
    """Rebuild the MLP saved in ``path``, with its parameters."""
    architecture = _read(path)["architecture"]
    if architecture.get("type") != "MLP":
        raise ModelFileError(f"load: cannot rebuild a {architecture.get('type')!r}; use load_into with a model")
    try:
        model = MLP(
            architecture["nin"], architecture["sizes"], architecture["activation"], architecture["output_activation"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"load: {Path(path).name} has an invalid architecture: {error}") from None
    return load_into(model, path)  # type: ignore[return-value]

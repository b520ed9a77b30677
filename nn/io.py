"""Save and load models as readable JSON: atomic writes, a format version, validation before any change."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from autograd.files import for_message, open_regular, os_error_naming, printable, write_atomically
from nn.checks import check_count, count_text, excerpt, shorten
from nn.layers import ACTIVATIONS, MLP
from nn.module import Module

FORMAT = "chainrule-model"
VERSION = 1
MAX_MODEL_BYTES = 256 * 2**20
"""The largest model file ``load_model``/``load_into`` read (256 MiB); pass ``max_bytes=`` to change it."""
MAX_PARAMETERS = 5_000_000
"""The most parameters ``load_model`` builds a network for; pass ``max_parameters=`` to change it."""

_KEYS = ("format", "version", "architecture", "parameters")
_MLP_KEYS = ("type", "nin", "sizes", "activation", "output_activation")


class ModelFileError(ValueError):
    """A model file is unreadable, corrupt, too large, from another format version, or does not fit the model."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))  # names from a file may hold lone surrogates, which print cannot encode


def save_model(model: Module, path: str | os.PathLike[str]) -> Path:
    """Write the architecture and every parameter to ``path`` as JSON; :func:`load_model` reads it back.

    Floats are written with ``repr`` precision, so loading gives back exactly the same numbers.
    The file appears whole or not at all (written to a temporary file, then renamed): a failed save,
    of a model with a NaN or into a full disk, leaves the file that was there as it was. OSErrors keep
    their type and name ``path``.
    """
    config = getattr(model, "config", None)
    parameters = model.state_dict()
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(
                f"save_model: parameter {for_message(name)} is {value!r}; only finite numbers can be saved"
            )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": config() if callable(config) else {"type": type(model).__name__},
        "parameters": parameters,
    }
    return write_atomically(path, json.dumps(document, indent=1).encode("utf-8"), who="save_model")


def _refuse_constant(name: str) -> Any:
    raise ModelFileError(f"the literal {name} is not a finite number")


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (json would keep the last silently)."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ModelFileError(f"the key {excerpt(key)} is given twice in one object")
        document[key] = value
    return document


def _version_text(version: object) -> str:
    """The version as found, for a message; a bool and a float are said to be one (True == 1 == 1.0)."""
    if isinstance(version, bool):
        return f"{json.dumps(version)} (a boolean, not a number, in its \"version\" field)"
    if isinstance(version, float):
        return f"{version!r} (a float; versions are whole numbers)"
    return excerpt(version)


def _read(path: str | os.PathLike[str], who: str, max_bytes: int) -> dict[str, Any]:
    """The checked JSON document in ``path``; ``who`` (the public function) starts every error message.

    The file must be a regular file (a pipe is refused at once, never waited on) of at most
    ``max_bytes`` bytes, checked before it is read, and must keep its size while it is read.
    """
    source = Path(path)
    max_bytes = check_count(max_bytes, f"{who}: max_bytes")
    name = for_message(source.name)
    try:
        file, size = open_regular(
            source, lambda kind: ModelFileError(f"{who}: {name} is not a regular file but {kind}")
        )
    except FileNotFoundError as error:
        raise os_error_naming(error, f"{who}: {for_message(str(source))} cannot be opened") from None
    except OSError as error:
        raise ModelFileError(f"{who}: {name} cannot be opened: {error.strerror or for_message(str(error))}") from None
    with file:
        if size > max_bytes:
            raise ModelFileError(f"{who}: {name} has {size} bytes, more than max_bytes={max_bytes}")
        try:
            raw = file.read(size + 1)  # one byte more than the size checked, to notice growth since
        except OSError as error:
            raise ModelFileError(f"{who}: {name} cannot be read: {error.strerror or for_message(str(error))}") from None
    if len(raw) != size:
        read = "more" if len(raw) > size else str(len(raw))
        raise ModelFileError(
            f"{who}: {name} changed while it was read: it had {size} bytes when opened, {read} were read"
        )
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, object_pairs_hook=_refuse_repeats)
    except ModelFileError as error:
        raise ModelFileError(f"{who}: {name}: {error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        reason = shorten(str(error), 120)
        raise ModelFileError(f"{who}: {name} is not valid JSON (truncated or corrupt?): {reason}") from None
    except RecursionError:
        raise ModelFileError(f"{who}: {name} is nested too deeply to be a model file") from None
    except ValueError as error:  # e.g. an integer literal of more than 4300 digits
        raise ModelFileError(f"{who}: {name} holds a number that cannot be read: {shorten(str(error), 120)}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{who}: {name} is not a {FORMAT} file")
    version = document.get("version")
    if type(version) is not int or version != VERSION:
        raise ModelFileError(f"{who}: {name} has format version {_version_text(version)}; this library reads {VERSION}")
    if not isinstance(document.get("parameters"), dict) or not isinstance(document.get("architecture"), dict):
        raise ModelFileError(f"{who}: {name} lacks its architecture or parameters")
    unknown = [key for key in document if key not in _KEYS]
    if unknown:  # a key this version does not define is a file this reader does not understand
        raise ModelFileError(f"{who}: {name} has keys that version {VERSION} does not define: {excerpt(unknown)}")
    return document


def _fill(model: Module, document: dict[str, Any], name: str, who: str) -> None:
    """Set ``model``'s parameters from a checked document, or raise and leave the model unchanged."""
    config = getattr(model, "config", None)
    expected = config() if callable(config) else None
    if expected is not None and document["architecture"] != expected:
        found = excerpt(document["architecture"], 200)
        raise ModelFileError(f"{who}: {name} holds {found}, but the model is {expected}")
    try:
        model.load_state_dict(document["parameters"])
    except (KeyError, ValueError) as error:
        raise ModelFileError(f"{who}: {name} does not fit the model: {error}") from None


def load_into(model: Module, path: str | os.PathLike[str], *, max_bytes: int = MAX_MODEL_BYTES) -> Module:
    """Load parameters from ``path`` into ``model``; on any mismatch raise and leave the model unchanged.

    Every problem with the file (too large, not JSON, wrong format, wrong numbers) is a ModelFileError;
    a missing file is a FileNotFoundError.
    """
    _fill(model, _read(path, "load_into", max_bytes), for_message(Path(path).name), "load_into")
    return model


def _architecture(architecture: dict[str, Any], name: str, found: int, max_parameters: int) -> tuple[int, list[int]]:
    """``nin`` and ``sizes`` once they are checked, with the parameter count, against the file and the budget."""
    unknown = [key for key in architecture if key not in _MLP_KEYS]
    if unknown:  # such as a dropout rate: a setting this MLP would silently go without
        raise ModelFileError(f"load_model: {name}'s architecture has keys an MLP does not have: {excerpt(unknown)}")
    nin, sizes = architecture.get("nin"), architecture.get("sizes")
    for key in ("activation", "output_activation"):
        if architecture.get(key) not in ACTIVATIONS:
            raise ModelFileError(f"load_model: {name} has an unknown {key} {excerpt(architecture.get(key))}")
    if not _positive_int(nin):
        raise ModelFileError(f"load_model: {name} has an invalid nin {excerpt(nin)}")
    if not isinstance(sizes, list) or not sizes or not all(_positive_int(size) for size in sizes):
        raise ModelFileError(f"load_model: {name} has invalid sizes {excerpt(sizes)}")
    count = sum((fan_in + 1) * size for fan_in, size in zip([nin, *sizes[:-1]], sizes, strict=True))
    if count > max_parameters:
        raise ModelFileError(
            f"load_model: {name} describes {count_text(count)} parameters, more than max_parameters={max_parameters}"
        )
    if count != found:
        raise ModelFileError(f"load_model: {name} describes {count} parameters but holds {found}")
    assert isinstance(nin, int)
    return nin, sizes


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def load_model(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_MODEL_BYTES, max_parameters: int = MAX_PARAMETERS
) -> MLP:
    """Rebuild the MLP that :func:`save_model` wrote to ``path``, with its parameters.

    Before anything is built, the file's size is checked against ``max_bytes`` and the architecture's
    parameter count against ``max_parameters`` and against the number of parameters the file holds,
    so a tiny file cannot make a huge network. Every problem with the file is a ModelFileError.
    """
    document = _read(path, "load_model", max_bytes)
    max_parameters = check_count(max_parameters, "load_model: max_parameters")
    name = for_message(Path(path).name)
    architecture = document["architecture"]
    if architecture.get("type") != "MLP":
        kind = excerpt(architecture.get("type"))
        raise ModelFileError(f"load_model: cannot rebuild a {kind}; use load_into with a model")
    nin, sizes = _architecture(architecture, name, len(document["parameters"]), max_parameters)
    model = MLP(nin, sizes, architecture["activation"], architecture["output_activation"])
    _fill(model, document, name, "load_model")
    return model


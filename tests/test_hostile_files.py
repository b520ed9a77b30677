# ruff: noqa: E501  (the catalogue keeps one case per line)
"""Hostile files and paths for the readers and writers of nn: a catalogue of cases.

Each case gives the call, the exact exception type and a pattern for a message that names the
culprit (the file, and what is wrong with it). Every case also checks that the message is short and
printable, never names a temporary file, that the call ends (a pipe must not be waited on), and that
nothing changed: the model's parameters and every file under the case's folder are as before.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import os
import re
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
import nn.data
import nn.io
from autograd import Value
from autograd.files import write_atomically

Thunk = Callable[[], object]
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
TIMEOUT = 20.0  # seconds: far beyond any case's need, so only a call that waits forever reaches it
LONG = "x" * 100_000
GOOD_LABELS = [5, 0, 4]


@dataclass
class World:
    tmp: Path
    model: nn.MLP
    patch: pytest.MonkeyPatch
    changing: set[str] = field(default_factory=set)  # files the case itself changes, as another process would


Setup = Callable[[World], Thunk]


# -- making files ---------------------------------------------------------------------------------


def header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def idx(array: np.ndarray, code: int = 0x08) -> bytes:
    kinds = {0x08: ">u1", 0x09: ">i1", 0x0D: ">f4", 0x0E: ">f8"}
    return header(code, array.shape) + array.astype(kinds[code]).tobytes()


def mnist_files(labels: list[int] = GOOD_LABELS) -> dict[str, bytes]:
    """The four files of a small sound set: 2x2 images, gzipped labels."""
    n = len(labels)
    return {
        "train-images-idx3-ubyte": idx(np.arange(n * 4).reshape(n, 2, 2)),
        "train-labels-idx1-ubyte.gz": gzip.compress(idx(np.array(labels))),
        "t10k-images-idx3-ubyte": idx(np.full((2, 2, 2), 255)),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(idx(np.array([8, 2]))),
    }


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_folder(path: Path) -> None:
    path.mkdir()
    (path / "inside.txt").write_bytes(b"kept")


def make_loop(path: Path) -> None:
    other = path.with_name(path.name + ".other")
    path.symlink_to(other)
    other.symlink_to(path)


Special = Callable[[Path], None]


def mnist(world: World, changes: dict[str, bytes | Special | None] | None = None) -> Path:
    """A sound MNIST folder under the case's folder with ``changes``: new bytes, a special file, None to leave out."""
    folder = world.tmp / "mnist"
    folder.mkdir(exist_ok=True)
    files: dict[str, bytes | Special | None] = {**mnist_files(), **(changes or {})}
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        elif content is not None:
            content(folder / name)
    return folder


def with_mnist_dir(world: World, folder: str | Path) -> None:
    world.patch.setenv("MNIST_DIR", str(folder))
    world.patch.delenv("CHAINRULE_NO_MNIST", raising=False)
    world.patch.setattr(nn.data, "MNIST_FOLDERS", (str(world.tmp / "nowhere"),))


def document(model: nn.MLP, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"format": "chainrule-model", "version": 1, "architecture": model.config(),
                           "parameters": model.state_dict()}  # fmt: skip
    doc.update(changes)
    return doc


def model_text(model: nn.MLP, **changes: Any) -> str:
    return json.dumps(document(model, **changes))


# -- the setups -------------------------------------------------------------------------------------


def read_idx_of(name: str, content: bytes | Special, **settings: Any) -> Setup:
    def setup(world: World) -> Thunk:
        path = world.tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content(path)
        return lambda: nn.read_idx(path, **settings)

    return setup


def load_mnist_with(changes: dict[str, bytes | Special | None], kind: str = "train") -> Setup:
    def setup(world: World) -> Thunk:
        folder = mnist(world, changes)
        return lambda: nn.load_mnist(folder, kind=kind)

    return setup


def mnist_name_with(changes: dict[str, bytes | Special | None]) -> Setup:
    def setup(world: World) -> Thunk:
        folder = mnist(world, changes)
        return lambda: nn.mnist_name(folder)

    return setup


def find_mnist_with(changes: dict[str, bytes | Special | None]) -> Setup:
    def setup(world: World) -> Thunk:
        with_mnist_dir(world, mnist(world, changes))
        return nn.find_mnist

    return setup


def env_call(value: str, call: Callable[[], object]) -> Setup:
    def setup(world: World) -> Thunk:
        with_mnist_dir(world, value)
        return call

    return setup


def load_file(name: str, content: str | bytes | Special, *, into: bool = False, **settings: Any) -> Setup:
    def setup(world: World) -> Thunk:
        path = world.tmp / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content(path)
        if into:
            return lambda: nn.load_into(world.model, path, **settings)
        return lambda: nn.load_model(path, **settings)

    return setup


def load_doc(into: bool = False, **changes: Any) -> Setup:
    def setup(world: World) -> Thunk:
        path = world.tmp / "m.json"
        path.write_text(model_text(world.model, **changes), encoding="utf-8")
        return (lambda: nn.load_into(world.model, path)) if into else (lambda: nn.load_model(path))

    return setup


def load_edited(edit: Callable[[str, nn.MLP], str], into: bool = True) -> Setup:
    def setup(world: World) -> Thunk:
        path = world.tmp / "m.json"
        path.write_text(edit(model_text(world.model), world.model), encoding="utf-8")
        return (lambda: nn.load_into(world.model, path)) if into else (lambda: nn.load_model(path))

    return setup


SENTINEL = 123456.789  # a number no parameter has, replaced in the text by a literal


def load_literal(parameter: str, literal: str, into: bool = True) -> Setup:
    def setup(world: World) -> Thunk:
        path = world.tmp / "m.json"
        text = model_text(world.model, parameters={**world.model.state_dict(), parameter: SENTINEL})
        path.write_text(text.replace(repr(SENTINEL), literal), encoding="utf-8")
        return (lambda: nn.load_into(world.model, path)) if into else (lambda: nn.load_model(path))

    return setup


def resized_on_open(module: Any, change: Callable[[Path], None]) -> Callable[[World], None]:
    """Make ``module``'s open_regular change the file's length just after it has measured it."""

    def arm(world: World) -> None:
        real = module.open_regular
        world.changing.add("m.json" if module is nn.io else "shrinking.idx")

        def opened(path: Path, refuse: Callable[[str], Exception]) -> tuple[Any, int]:
            file, size = real(path, refuse)
            change(Path(path))
            return file, size

        world.patch.setattr(module, "open_regular", opened)

    return arm


def shrink(path: Path) -> None:
    os.truncate(path, os.path.getsize(path) - 3)


def grow(path: Path) -> None:
    with open(path, "ab") as file:
        file.write(b"    ")


def read_shrinking_idx(world: World) -> Thunk:
    path = world.tmp / "shrinking.idx"
    path.write_bytes(idx(np.zeros((4, 4))))
    resized_on_open(nn.data, shrink)(world)
    return lambda: nn.read_idx(path)


def load_resized_model(change: Callable[[Path], None]) -> Setup:
    def setup(world: World) -> Thunk:
        path = world.tmp / "m.json"
        path.write_text(model_text(world.model), encoding="utf-8")
        resized_on_open(nn.io, change)(world)
        return lambda: nn.load_into(world.model, path)

    return setup


def save_to(where: Callable[[World], Path], model: Callable[[World], Any] = lambda world: world.model) -> Setup:
    def setup(world: World) -> Thunk:
        path = where(world)
        return lambda: nn.save_model(model(world), path)

    return setup


def made(make: Special, name: str) -> Callable[[World], Path]:
    """The path ``name`` in the case's folder, where ``make`` has put something."""

    def where(world: World) -> Path:
        make(world.tmp / name)
        return world.tmp / name

    return where


def existing(world: World, name: str = "model.json") -> Path:
    """A model file already saved, whose bytes a failed save must leave as they are."""
    path = world.tmp / name
    nn.save_model(nn.MLP(2, [3, 1], seed=7), path)
    return path


def failing(function: str, error: OSError) -> Callable[[World], Path]:
    def where(world: World) -> Path:
        path = existing(world)
        real = getattr(os, function)

        def fail(*arguments: Any, **keywords: Any) -> Any:
            if function == "write" and not stat.S_ISREG(os.fstat(arguments[0]).st_mode):
                return real(*arguments, **keywords)
            raise error

        world.patch.setattr(os, function, fail)
        return path

    return where


def rename_refused(world: World) -> Path:
    path = existing(world)

    def refuse(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        # As the system words it: both names, the temporary one first.
        raise PermissionError(errno.EACCES, "Permission denied", str(source), None, str(destination))

    world.patch.setattr(os, "replace", refuse)
    return path


def nan_model(world: World) -> nn.MLP:
    model = nn.MLP(2, [3, 1], seed=3)
    model.layers[0].neurons[1].b.data = float("nan")
    return model


def surrogate_nan_model(world: World) -> nn.MLP:
    model = nn.MLP(2, [1], seed=3)
    model.__dict__["\udc80"] = Value(float("nan"))
    return model


def into_surrogate_model(world: World) -> Thunk:
    world.model.__dict__["\udc80"] = Value(1.0)  # a parameter the file does not hold
    path = world.tmp / "m.json"
    path.write_text(model_text(nn.MLP(2, [3, 1], seed=1)), encoding="utf-8")
    return lambda: nn.load_into(world.model, path)


def read_only_folder(world: World) -> Path:
    folder = world.tmp / "ro"
    folder.mkdir(mode=0o555)
    return folder / "model.json"


def gz_bomb(claim: tuple[int, ...], megabytes: int) -> bytes:
    """A .gz whose header claims ``claim`` and whose body is ``megabytes`` of zeros: a few hundred KiB."""
    compressor = gzip.compress(header(0x08, claim) + bytes(megabytes << 20), compresslevel=9)
    return compressor


def model_under(world: World, name: str) -> Thunk:
    path = world.tmp / name
    path.write_text("{", encoding="utf-8")
    return lambda: nn.load_model(path)


BOMB = gz_bomb((4,), 64)
WIDE = nn.MLP(2, [3, 1]).config()

CASES: list[tuple[str, Setup, type[BaseException], str]] = [
    # -- 1. a pipe (FIFO) where a file should be: refused at once, never waited on ---------------------
    ("read_idx of a FIFO", read_idx_of("pipe.idx", make_fifo), nn.IDXFormatError, r"^read_idx: pipe\.idx is not a regular file but a pipe \(FIFO\)$"),
    ("read_idx of a FIFO named .gz", read_idx_of("pipe.gz", make_fifo), nn.IDXFormatError, r"^read_idx: pipe\.gz is not a regular file but a pipe \(FIFO\)$"),
    ("load_mnist with a FIFO for its images", load_mnist_with({"train-images-idx3-ubyte": make_fifo}), nn.IDXFormatError, r"^load_mnist: .*mnist/train-images-idx3-ubyte is not a regular file but a pipe \(FIFO\)$"),
    ("load_mnist with a .gz FIFO for its labels", load_mnist_with({"train-labels-idx1-ubyte.gz": make_fifo}), nn.IDXFormatError, r"^load_mnist: .*mnist/train-labels-idx1-ubyte\.gz is not a regular file but a pipe"),
    ("find_mnist with a FIFO in MNIST_DIR", find_mnist_with({"t10k-images-idx3-ubyte": make_fifo}), nn.IDXFormatError, r"^find_mnist: MNIST_DIR='.*mnist': .*t10k-images-idx3-ubyte is not a regular file but a pipe"),
    ("mnist_name with a FIFO for the labels", mnist_name_with({"train-labels-idx1-ubyte.gz": None, "train-labels-idx1-ubyte": make_fifo}), nn.IDXFormatError, r"^read_idx: train-labels-idx1-ubyte is not a regular file but a pipe"),
    ("load_model of a FIFO", load_file("pipe.json", make_fifo), nn.ModelFileError, r"^load_model: pipe\.json is not a regular file but a pipe \(FIFO\)$"),
    ("load_into of a FIFO", load_file("pipe.json", make_fifo, into=True), nn.ModelFileError, r"^load_into: pipe\.json is not a regular file but a pipe"),
    # -- 2. find_mnist accepts only what load_mnist loads -----------------------------------------------
    ("load_mnist with a folder named like the images", load_mnist_with({"train-images-idx3-ubyte": make_folder, "train-images-idx3-ubyte.gz": gzip.compress(idx(np.zeros((3, 2, 2))))}), nn.IDXFormatError, r"^load_mnist: .*mnist/train-images-idx3-ubyte is not a regular file but a directory$"),
    ("find_mnist with a folder named like the images", find_mnist_with({"train-images-idx3-ubyte": make_folder, "train-images-idx3-ubyte.gz": gzip.compress(idx(np.zeros((3, 2, 2))))}), nn.IDXFormatError, r"^find_mnist: MNIST_DIR='.*': .*mnist/train-images-idx3-ubyte is not a regular file but a directory$"),
    ("load_mnist of 0 images", load_mnist_with({"train-images-idx3-ubyte": idx(np.zeros((0, 2, 2))), "train-labels-idx1-ubyte.gz": gzip.compress(idx(np.zeros(0)))}), nn.IDXFormatError, r"^load_mnist: .*train-images-idx3-ubyte's header \(0, 2, 2\) describes 0 images of 2 x 2 pixels"),
    ("find_mnist of 0 test images", find_mnist_with({"t10k-images-idx3-ubyte": idx(np.zeros((0, 2, 2))), "t10k-labels-idx1-ubyte.gz": gzip.compress(idx(np.zeros(0)))}), nn.IDXFormatError, r"t10k-images-idx3-ubyte's header \(0, 2, 2\) describes 0 images"),
    ("load_mnist of images of 0 rows", load_mnist_with({"train-images-idx3-ubyte": header(0x08, (3, 0, 2))}), nn.IDXFormatError, r"train-images-idx3-ubyte's header \(3, 0, 2\) describes 3 images of 0 x 2 pixels"),
    ("load_mnist of labels in a column", load_mnist_with({"train-labels-idx1-ubyte.gz": gzip.compress(idx(np.zeros((3, 1))))}), nn.IDXFormatError, r"^load_mnist: in .*mnist, train-images-idx3-ubyte of shape \(3, 2, 2\) and train-labels-idx1-ubyte\.gz of shape \(3, 1\) are not n images"),
    ("load_mnist of more labels than images", load_mnist_with({"t10k-labels-idx1-ubyte.gz": gzip.compress(idx(np.zeros(5)))}, kind="t10k"), nn.IDXFormatError, r"t10k-images-idx3-ubyte of shape \(2, 2, 2\) and t10k-labels-idx1-ubyte\.gz of shape \(5,\) are not n images"),
    ("find_mnist of a truncated plain file", find_mnist_with({"train-images-idx3-ubyte": idx(np.zeros((3, 2, 2)))[:-1]}), nn.IDXFormatError, r"train-images-idx3-ubyte holds 11 bytes of data, but its header \(3, 2, 2\) needs 12: the file has 27 bytes"),
    # -- 3. pixels are unsigned bytes, labels unsigned bytes from 0 to 9 ------------------------------
    ("load_mnist of int8 labels of -1", load_mnist_with({"train-labels-idx1-ubyte.gz": gzip.compress(idx(np.array([-1, 0, 1]), 0x09))}), nn.IDXFormatError, r"train-labels-idx1-ubyte\.gz holds IDX type 0x09, not unsigned bytes \(0x08\) as MNIST's labels are: it holds signed bytes"),
    ("load_mnist of float64 pixels of 1e300", load_mnist_with({"train-images-idx3-ubyte": idx(np.full((3, 2, 2), 1e300), 0x0E)}), nn.IDXFormatError, r"train-images-idx3-ubyte holds IDX type 0x0E, not unsigned bytes \(0x08\) as MNIST's pixels are: it holds 64-bit floats"),
    ("load_mnist of a label 10", load_mnist_with({"train-labels-idx1-ubyte.gz": gzip.compress(idx(np.array([5, 0, 10])))}), nn.IDXFormatError, r"train-labels-idx1-ubyte\.gz: label #2 is 10, not a class from 0 to 9$"),
    ("find_mnist of a label 255", find_mnist_with({"t10k-labels-idx1-ubyte.gz": gzip.compress(idx(np.array([255, 2])))}), nn.IDXFormatError, r"t10k-labels-idx1-ubyte\.gz: label #0 is 255, not a class from 0 to 9$"),
    # -- 4. headers checked against the file before anything is allocated -----------------------------
    ("read_idx of 65 dimensions", read_idx_of("deep.idx", header(0x08, (1,) * 65) + b"\x07"), nn.IDXFormatError, r"^read_idx: deep\.idx's header declares 65 dimensions; numpy arrays have at most 64$"),
    ("read_idx of 2**32-1 beside a 0", read_idx_of("empty.idx", header(0x08, (2**32 - 1, 2**32 - 1, 0))), nn.IDXFormatError, r"^read_idx: empty\.idx's header \(4294967295, 4294967295, 0\) holds no data, but its other sizes multiply to 18446744065119617025 bytes, more than max_bytes=1073741824; the file has 16 bytes$"),
    ("read_idx of 2**32-1 x 0 in 12 bytes", read_idx_of("thin.idx", header(0x08, (2**32 - 1, 0))), nn.IDXFormatError, r"thin\.idx's header \(4294967295, 0\) holds no data.*; the file has 12 bytes$"),
    ("read_idx of a 10 GB claim in 100 bytes", read_idx_of("claim.idx", header(0x08, (100_000, 100_000)) + bytes(88)), nn.IDXFormatError, r"^read_idx: claim\.idx's header \(100000, 100000\) needs 10000000000 bytes, more than max_bytes=1073741824; the file has 100 bytes$"),
    ("read_idx of a 1 MB claim in 100 bytes", read_idx_of("short.idx", header(0x08, (1000, 1000)) + bytes(88)), nn.IDXFormatError, r"^read_idx: short\.idx holds 88 bytes of data, but its header \(1000, 1000\) needs 1000000: the file has 100 bytes, 12 of them the header$"),
    ("read_idx of a gz bomb", read_idx_of("bomb.gz", BOMB), nn.IDXFormatError, r"^read_idx: bomb\.gz holds more bytes of data, but its header \(4,\) needs 4$"),
    ("read_idx of a gz claiming 4 GB", read_idx_of("claim.gz", gz_bomb((2**32 - 1,), 1)), nn.IDXFormatError, r"^read_idx: claim\.gz's header \(4294967295,\) needs 4294967295 bytes, more than max_bytes=1073741824; the \.gz file has \d+ bytes$"),
    ("read_idx of a gz bomb under max_bytes", read_idx_of("small.gz", gz_bomb((1000,), 16), max_bytes=1000), nn.IDXFormatError, r"small\.gz holds more bytes of data, but its header \(1000,\) needs 1000$"),
    # -- 5. a path of any length makes a short message of the same type --------------------------------
    ("find_mnist with a 100,000-character MNIST_DIR", env_call(LONG, nn.find_mnist), OSError, r"^\[Errno 36\] find_mnist: MNIST_DIR='x{50}\.\.\.x{50} \(100000 characters\)' cannot be looked at: File name too long$"),
    ("load_mnist from a 100,000-character MNIST_DIR", env_call(LONG, nn.load_mnist), OSError, r"^\[Errno 36\] find_mnist: MNIST_DIR='x{50}\.\.\.x{50} \(100000 characters\)' cannot be looked at"),
    ("load_mnist of a 100,000-character folder", lambda w: lambda: nn.load_mnist(LONG), OSError, r"^\[Errno 36\] load_mnist: x{50}\.\.\.x+/train-images-idx3-ubyte \(100024 characters\) cannot be looked at: File name too long$"),
    ("read_idx of a 100,000-character name", lambda w: lambda: nn.read_idx(w.tmp / LONG), OSError, r"^\[Errno 36\] read_idx: x{50}\.\.\.x{50} \(100000 characters\) cannot be opened: File name too long$"),
    ("load_model of a 100,000-character name", lambda w: lambda: nn.load_model(w.tmp / LONG), nn.ModelFileError, r"^load_model: x{50}\.\.\.x{50} \(100000 characters\) cannot be opened: File name too long$"),
    ("save_model to a 100,000-character name", save_to(lambda w: w.tmp / LONG), OSError, r"^\[Errno 36\] save_model: cannot write .{50}\.\.\.x{50} \(1000\d\d characters\): File name too long$"),
    ("mnist_name of a 100,000-character folder", lambda w: lambda: nn.mnist_name(LONG), OSError, r"^\[Errno 36\] mnist_name: x{50}\.\.\..* cannot be looked at: File name too long$"),
    # -- 6. a lone surrogate anywhere still makes a printable message ---------------------------------
    ("load_into with a key \\udc80 in the file", load_edited(lambda text, m: text.replace('"layers.0.neurons.0.b"', '"\\udc80"')), nn.ModelFileError, r"^load_into: m\.json does not fit the model: .*missing layers\.0\.neurons\.0\.b; unexpected \\udc80$"),
    ("load_into a model with an attribute \\udc80", into_surrogate_model, nn.ModelFileError, r"does not fit the model: load_state_dict: the names do not match this MLP; missing \\udc80$"),
    ("save_model of a NaN named \\udc80", save_to(lambda w: w.tmp / "m.json", surrogate_nan_model), ValueError, r"^save_model: parameter \\udc80 is nan; only finite numbers can be saved$"),
    ("load_model of a file named \\udcff.json", lambda w: model_under(w, os.fsdecode(b"\xff.json")), nn.ModelFileError, r"^load_model: \\udcff\.json is not valid JSON"),
    ("read_idx of a file named \\udcff.idx", read_idx_of(os.fsdecode(b"\xff.idx"), b"\x00\x00\x08"), nn.IDXFormatError, r"^read_idx: \\udcff\.idx does not start with an IDX magic number$"),
    # -- 7. a version is a whole number, not a bool ----------------------------------------------------
    ("version true", load_doc(version=True), nn.ModelFileError, r'^load_model: m\.json has format version true \(a boolean, not a number, in its "version" field\); this library reads 1$'),
    ("version true into a model", load_doc(into=True, version=True), nn.ModelFileError, r"^load_into: m\.json has format version true \(a boolean"),
    ("version 1.0", load_doc(version=1.0), nn.ModelFileError, r"^load_model: m\.json has format version 1\.0 \(a float; versions are whole numbers\); this library reads 1$"),
    # -- 8. truncated, shrinking, growing ---------------------------------------------------------------
    ("read_idx of a truncated file", read_idx_of("cut.idx", idx(np.zeros((2, 3, 2)))[:-1]), nn.IDXFormatError, r"^read_idx: cut\.idx holds 11 bytes of data, but its header \(2, 3, 2\) needs 12: the file has 27 bytes, 16 of them the header$"),
    ("read_idx of a truncated .gz", read_idx_of("cut.gz", gzip.compress(idx(np.zeros(40)))[:-12]), nn.IDXFormatError, r"^read_idx: cut\.gz is not a valid gzip stream: Compressed file ended"),
    ("read_idx of a file cut inside its header", read_idx_of("head.idx", header(0x08, (2, 3))[:-2]), nn.IDXFormatError, r"^read_idx: head\.idx is truncated inside its header$"),
    ("read_idx of a file that shrinks while read", read_shrinking_idx, nn.IDXFormatError, r"^read_idx: shrinking\.idx changed while it was read: its header \(4, 4\) needs 16 bytes of data, the file had them when opened \(28 bytes\), but 13 could be read$"),
    ("load_into of a truncated model file", load_edited(lambda text, m: text[: len(text) // 2]), nn.ModelFileError, r"^load_into: m\.json is not valid JSON \(truncated or corrupt\?\)"),
    ("load_into of a model file that shrinks while read", load_resized_model(shrink), nn.ModelFileError, r"^load_into: m\.json changed while it was read: it had \d+ bytes when opened, \d+ were read$"),
    ("load_into of a model file that grows while read", load_resized_model(grow), nn.ModelFileError, r"^load_into: m\.json changed while it was read: it had \d+ bytes when opened, more were read$"),
    # -- 8. directories, devices, loops ----------------------------------------------------------------
    ("load_model of a directory", load_file("dir.json", make_folder), nn.ModelFileError, r"^load_model: dir\.json is not a regular file but a directory$"),
    ("load_into of a directory", load_file("dir.json", make_folder, into=True), nn.ModelFileError, r"^load_into: dir\.json is not a regular file but a directory$"),
    ("read_idx of a directory", read_idx_of("dir.idx", make_folder), nn.IDXFormatError, r"^read_idx: dir\.idx is not a regular file but a directory$"),
    ("load_model of /dev/null", lambda w: lambda: nn.load_model("/dev/null"), nn.ModelFileError, r"^load_model: null is not a regular file but a character device$"),
    ("read_idx of /dev/zero", lambda w: lambda: nn.read_idx("/dev/zero"), nn.IDXFormatError, r"^read_idx: zero is not a regular file but a character device$"),
    ("load_model of a symlink loop", load_file("loop.json", make_loop), nn.ModelFileError, r"^load_model: loop\.json cannot be opened: Too many levels of symbolic links$"),
    ("read_idx of a symlink loop", read_idx_of("loop.idx", make_loop), OSError, r"^\[Errno 40\] read_idx: loop\.idx cannot be opened: Too many levels of symbolic links$"),
    ("load_mnist through a symlink loop", load_mnist_with({"train-images-idx3-ubyte": None, "train-images-idx3-ubyte.gz": make_loop}), OSError, r"^\[Errno 40\] load_mnist: .*mnist/train-images-idx3-ubyte\.gz cannot be opened: Too many levels of symbolic links$"),
    ("load_mnist through a dangling symlink", load_mnist_with({"t10k-labels-idx1-ubyte.gz": lambda p: p.symlink_to(p.with_name("gone"))}, kind="t10k"), FileNotFoundError, r"^\[Errno 2\] load_mnist: .*mnist/t10k-labels-idx1-ubyte\.gz cannot be opened: No such file or directory$"),
    ("load_model of a dangling symlink", load_file("dangling.json", lambda p: p.symlink_to(p.with_name("gone"))), FileNotFoundError, r"^\[Errno 2\] load_model: .*dangling\.json cannot be opened: No such file or directory$"),
    ("load_model of a missing file", lambda w: lambda: nn.load_model(w.tmp / "missing.json"), FileNotFoundError, r"^\[Errno 2\] load_model: .*missing\.json cannot be opened: No such file or directory$"),
    ("mnist_name of a folder named like the labels", mnist_name_with({"train-labels-idx1-ubyte": make_folder}), nn.IDXFormatError, r"^read_idx: train-labels-idx1-ubyte is not a regular file but a directory$"),
    ("load_mnist of a file given as the folder", lambda w: (lambda path: lambda: nn.load_mnist(path))(existing(w)), FileNotFoundError, r"^load_mnist: neither .*model\.json/train-images-idx3-ubyte nor train-images-idx3-ubyte\.gz exists$"),
    # -- 8. model files: numbers, keys, sizes, encodings ------------------------------------------------
    ("load_into of a NaN weight", load_literal("layers.0.neurons.0.w.0", "NaN"), nn.ModelFileError, r"^load_into: m\.json: the literal NaN is not a finite number$"),
    ("load_model of an -Infinity bias", load_literal("layers.1.neurons.0.b", "-Infinity", into=False), nn.ModelFileError, r"^load_model: m\.json: the literal -Infinity is not a finite number$"),
    ("load_into of a weight 1e999", load_literal("layers.0.neurons.0.w.0", "1e999"), nn.ModelFileError, r"^load_into: m\.json does not fit the model: load_state_dict: layers\.0\.neurons\.0\.w\.0 must be a finite number, got inf$"),
    ("an extra top-level key", load_doc(comment="trained on Tuesday"), nn.ModelFileError, r"^load_model: m\.json has keys that version 1 does not define: \['comment'\]$"),
    ("an extra architecture key", load_doc(architecture={**WIDE, "dropout": 0.5}), nn.ModelFileError, r"^load_model: m\.json's architecture has keys an MLP does not have: \['dropout'\]$"),
    ("an extra parameter", load_edited(lambda text, m: text.replace('"parameters": {', '"parameters": {"layers.9.w": 1.0, ', 1)), nn.ModelFileError, r"^load_into: m\.json does not fit the model: .*unexpected layers\.9\.w$"),
    ("a key given twice", load_edited(lambda text, m: text.replace('"version": 1', '"version": 1, "version": 1', 1), into=False), nn.ModelFileError, r"^load_model: m\.json: the key 'version' is given twice in one object$"),
    ("a 10 GB network in a tiny file", load_doc(architecture={**WIDE, "nin": 100_000, "sizes": [100_000]}), nn.ModelFileError, r"^load_model: m\.json describes 10000100000 parameters, more than max_parameters=5000000$"),
    ("a Latin-1 model file", load_file("latin.json", '{"format": "chainrule-model", "note": "café"}'.encode("latin-1")), nn.ModelFileError, r"^load_model: latin\.json is not valid JSON \(truncated or corrupt\?\): 'utf-8' codec can't decode byte 0xe9"),
    ("a UTF-16 model file", load_file("wide.json", '{"format": "chainrule-model"}'.encode("utf-16")), nn.ModelFileError, r"^load_model: wide\.json is not valid JSON"),
    ("a model file with a byte order mark", load_file("bom.json", b"\xef\xbb\xbf{}"), nn.ModelFileError, r"^load_model: bom\.json is not valid JSON .*BOM"),
    ("an empty model file", load_file("empty.json", ""), nn.ModelFileError, r"^load_model: empty\.json is not valid JSON"),
    ("an empty IDX file", read_idx_of("empty.idx", b""), nn.IDXFormatError, r"^read_idx: empty\.idx does not start with an IDX magic number$"),
    ("an empty .gz file", read_idx_of("empty.gz", b""), nn.IDXFormatError, r"^read_idx: empty\.gz does not start with an IDX magic number$"),
    ("an IDX type 0x07", read_idx_of("seven.idx", b"\x00\x00\x07\x01" + bytes(5)), nn.IDXFormatError, r"^read_idx: seven\.idx's IDX magic number names the unknown type 0x07$"),
    ("parameters as a list", load_doc(parameters=[1.0, 2.0]), nn.ModelFileError, r"^load_model: m\.json lacks its architecture or parameters$"),
    ("max_bytes True", load_file("m.json", "{}", max_bytes=True), ValueError, r"^load_model: max_bytes must be a positive int, got True$"),
    # -- 8. names with markup and newlines are quoted, not obeyed ---------------------------------------
    ("a model file named with markup and a newline", lambda w: model_under(w, "<b>bold\n.json"), nn.ModelFileError, r"^load_model: <b>bold\\n\.json is not valid JSON"),
    ("an IDX file named with a terminal escape", read_idx_of("\x1b[31mred.idx", b""), nn.IDXFormatError, r"^read_idx: \\x1b\[31mred\.idx does not start"),
    ("MNIST_DIR with markup and a newline", env_call("<i>data</i>\nmnist", nn.find_mnist), FileNotFoundError, r"^find_mnist: MNIST_DIR='<i>data</i>\\nmnist' is not a folder$"),
    # -- 8. saving: the target named, the old file kept -------------------------------------------------
    ("save_model to a directory", save_to(made(make_folder, "out")), IsADirectoryError, r"^\[Errno 21\] save_model: .*/out is a directory, not a file$"),
    ("save_model under a file", save_to(lambda w: existing(w, "plain.txt") / "model.json"), FileExistsError, r"^\[Errno 17\] save_model: cannot write .*plain\.txt/model\.json: .*plain\.txt is a file, not a folder$"),
    ("save_model two levels under a file", save_to(lambda w: existing(w, "plain.txt") / "sub" / "model.json"), NotADirectoryError, r"^\[Errno 20\] save_model: cannot write .*plain\.txt/sub/model\.json: .*plain\.txt is a file, not a folder$"),
    ("save_model through a symlink loop", save_to(made(make_loop, "loop.json")), OSError, r"^\[Errno 40\] save_model: .*loop\.json is a symlink loop$"),
    ("save_model of a NaN over a good file", save_to(existing, nan_model), ValueError, r"^save_model: parameter layers\.0\.neurons\.1\.b is nan; only finite numbers can be saved$"),
    ("save_model when the rename is refused", save_to(rename_refused), PermissionError, r"^\[Errno 13\] save_model: cannot write .*/model\.json: Permission denied$"),
    ("save_model on a full disk", save_to(failing("write", OSError(errno.ENOSPC, "No space left on device"))), OSError, r"^\[Errno 28\] save_model: cannot write .*/model\.json: No space left on device$"),
    ("save_model when fsync fails", save_to(failing("fsync", OSError(errno.EIO, "Input/output error"))), OSError, r"^\[Errno 5\] save_model: cannot write .*/model\.json: Input/output error$"),
    ("write_atomically when the temporary cannot be made", lambda w: (lambda path: lambda: write_atomically(path, b"new"))(failing("open", PermissionError(errno.EACCES, "Permission denied", "/x/.chainrule-00000000-0000000000000000.tmp"))(w)), PermissionError, r"^\[Errno 13\] write_atomically: cannot write .*/model\.json: Permission denied$"),
    pytest.param(  # type: ignore[list-item]
        "save_model into a read-only folder", save_to(read_only_folder), PermissionError, r"^\[Errno 13\] save_model: cannot write .*/ro/model\.json: Permission denied$",
        marks=pytest.mark.skipif(ROOT_USER, reason="permission bits do not stop root"),
    ),
]


def case_id(case: Any) -> str:
    return str(case.values[0] if hasattr(case, "values") else case[0])


def snapshot(folder: Path) -> dict[str, bytes | int]:
    """Every entry under ``folder``: a regular file's bytes, else its kind (nothing followed, nothing opened)."""
    found: dict[str, bytes | int] = {}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(root) / name
            mode = os.lstat(path).st_mode
            found[str(path.relative_to(folder))] = path.read_bytes() if stat.S_ISREG(mode) else stat.S_IFMT(mode)
    return found


def release_pipes(folder: Path) -> None:
    """Give any reader stuck on a pipe under ``folder`` its end of file, so a regression ends."""
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if stat.S_ISFIFO(os.lstat(path).st_mode):
                with contextlib.suppress(OSError):  # no reader: nothing to release
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def bounded(thunk: Thunk, folder: Path) -> None:
    """Run ``thunk`` in a thread and re-raise what it raised; fail, not hang, if it does not end."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            thunk()
            outcome.append(None)
        except BaseException as error:  # handed back to the test's thread
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    if worker.is_alive():
        release_pipes(folder)
        worker.join(5.0)
        pytest.fail(f"the call was still running after {TIMEOUT} s (waiting on a pipe?)")
    if outcome[0] is not None:
        raise outcome[0]


@pytest.mark.parametrize(("name", "setup", "error", "message"), CASES, ids=[case_id(case) for case in CASES])
def test_hostile_file(tmp_path: Path, name: str, setup: Setup, error: type[BaseException], message: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        world = World(tmp_path, nn.MLP(2, [3, 1], seed=0), patch)
        thunk = setup(world)
        before, files = world.model.state_dict(), snapshot(tmp_path)
        with pytest.raises(BaseException) as caught:  # noqa: PT011  (the exact type is checked below)
            bounded(thunk, tmp_path)
    assert type(caught.value) is error, f"{name}: {caught.value!r}"
    text = str(caught.value)
    assert re.search(message, text), text
    assert len(text) < 500, f"{name}: the message has {len(text)} characters"
    assert text.isprintable() and text.encode("utf-8"), ascii(text)
    assert ".chainrule-" not in text, text  # the temporary file is no name the caller knows
    assert world.model.state_dict() == before
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k not in world.changing} == {k: v for k, v in files.items() if k not in world.changing}


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 80
    assert len({case_id(case) for case in CASES}) == len(CASES)


# -- what the fixes promise beyond refusals -----------------------------------------------------------


def test_a_refused_pipe_is_refused_at_once_and_a_file_swapped_for_one_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The swap happens between the check by name and the open: the open itself must not wait.
    pipe, good = tmp_path / "pipe.idx", tmp_path / "good.idx"
    os.mkfifo(pipe)
    good.write_bytes(idx(np.zeros(3)))
    real_open = os.open

    def swapped_open(path: Any, flags: int, *rest: Any) -> int:
        return real_open(pipe if Path(path) == good else path, flags, *rest)

    monkeypatch.setattr(os, "open", swapped_open)
    with pytest.raises(nn.IDXFormatError, match=r"good\.idx is not a regular file but a pipe"):
        bounded(lambda: nn.read_idx(good), tmp_path)


def variants() -> dict[str, dict[str, bytes | Special | None]]:
    """Folders find_mnist and load_mnist must agree about: sound, or wrong in one way each."""
    return {
        "sound": {},
        "plain labels": {"train-labels-idx1-ubyte.gz": None, "train-labels-idx1-ubyte": idx(np.array(GOOD_LABELS))},
        "a folder and a good .gz": {"train-images-idx3-ubyte": make_folder, "train-images-idx3-ubyte.gz": gzip.compress(idx(np.zeros((3, 2, 2))))},
        "a pipe": {"t10k-images-idx3-ubyte": make_fifo},
        "no images": {"train-images-idx3-ubyte": idx(np.zeros((0, 2, 2))), "train-labels-idx1-ubyte.gz": gzip.compress(idx(np.zeros(0)))},
        "signed labels": {"t10k-labels-idx1-ubyte.gz": gzip.compress(idx(np.array([-1, 2]), 0x09))},
        "float pixels": {"t10k-images-idx3-ubyte": idx(np.zeros((2, 2, 2)), 0x0D)},
        "a label 10": {"train-labels-idx1-ubyte.gz": gzip.compress(idx(np.array([1, 10, 2])))},
        "a short plain file": {"t10k-images-idx3-ubyte": idx(np.zeros((2, 2, 2)))[:-1]},
        "a long plain file": {"train-images-idx3-ubyte": idx(np.zeros((3, 2, 2))) + b"\x00"},
        "labels in a column": {"t10k-labels-idx1-ubyte.gz": gzip.compress(idx(np.zeros((2, 1))))},
    }


@pytest.mark.parametrize("variant", list(variants()))
def test_find_mnist_accepts_exactly_what_load_mnist_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str) -> None:
    world = World(tmp_path, nn.MLP(2, [1]), monkeypatch)
    folder = mnist(world, variants()[variant])
    with_mnist_dir(world, folder)
    outcomes = []
    for call in (nn.find_mnist, lambda: nn.load_mnist(folder, "train"), lambda: nn.load_mnist(folder, "t10k")):
        try:
            bounded(call, tmp_path)
            outcomes.append("ok")
        except nn.IDXFormatError as error:
            outcomes.append(str(error))
    found, *loaded = outcomes
    if found == "ok":
        assert loaded == ["ok", "ok"], (variant, loaded)
    else:  # the same file, named by both
        culprit = re.search(r"(train|t10k)-(images|labels)-idx\d-ubyte(\.gz)?", found)
        assert culprit is not None, found
        assert any(culprit.group(0) in outcome for outcome in loaded), (found, loaded)
    assert (found == "ok") == (variant in ("sound", "plain labels")), found


def test_save_model_makes_the_missing_folders(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    path = nn.save_model(model, tmp_path / "new" / "deeper" / "model.json")
    assert nn.load_model(path).state_dict() == model.state_dict()


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = nn.save_model(nn.MLP(2, [3, 1], seed=1), tmp_path / "model.json")
    old = path.read_bytes()

    def refuse(*arguments: Any) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(OSError, match=r"save_model: cannot write .*model\.json: Input/output error"):
        nn.save_model(nn.MLP(2, [3, 1], seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["model.json"]
    assert nn.load_model(path).state_dict() == nn.MLP(2, [3, 1], seed=1).state_dict()


def test_a_surrogate_in_a_parameter_name_round_trips_and_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.MLP(2, [1], seed=0)
    model.__dict__["\udc80"] = Value(0.25)
    path = nn.save_model(model, tmp_path / "m.json")
    other = nn.MLP(2, [1], seed=1)
    other.__dict__["\udc80"] = Value(0.0)
    nn.load_into(other, path)
    assert other.state_dict() == model.state_dict()
    with pytest.raises(nn.ModelFileError) as caught:
        nn.load_into(nn.MLP(2, [1]), path)
    print(caught.value)  # printing the error must not itself fail
    assert "\\udc80" in capsys.readouterr().out

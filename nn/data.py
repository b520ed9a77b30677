"""Toy data sets (numpy, seeded), minibatches, splits, MNIST-format folders (found and read), the 8x8 digits."""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from autograd.files import for_message, open_regular, os_error_naming, printable
from nn.checks import check_count, count_text, shorten

Dataset = tuple[np.ndarray, np.ndarray]


def _check_samples(n: int, who: str) -> int:
    return check_count(n, f"{who}: n_samples", minimum=2)


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Two interleaving half circles: class 0 on top (centre (0, 0)), class 1 below (centre (1, 0.5)).

    Returns points of shape (n, 2) and labels 0/1 (use ``2 * y - 1`` for the ±1 of a hinge loss).
    """
    n = _check_samples(n_samples, "make_moons")
    rng = np.random.default_rng(seed)
    n_top = n // 2
    top = np.linspace(0, np.pi, n_top)
    bottom = np.linspace(0, np.pi, n - n_top)
    points = np.concatenate([
        np.stack([np.cos(top), np.sin(top)], axis=1),
        np.stack([1 - np.cos(bottom), 0.5 - np.sin(bottom)], axis=1),
    ])
    return _two_classes(points, n_top, noise, rng)


def make_circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = None) -> Dataset:
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0)."""
    n = _check_samples(n_samples, "make_circles")
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must lie in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    angles = np.concatenate([np.linspace(0, 2 * np.pi, n_outer, endpoint=False),
                             np.linspace(0, 2 * np.pi, n - n_outer, endpoint=False)])  # fmt: skip
    radius = np.concatenate([np.ones(n_outer), np.full(n - n_outer, factor)])
    points = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    return _two_classes(points, n_outer, noise, rng)


def make_spirals(n_samples: int = 150, classes: int = 3, noise: float = 0.2, seed: int | None = None) -> Dataset:
    """``classes`` interleaved spiral arms, each turning once around the origin."""
    n = _check_samples(n_samples, "make_spirals")
    classes = check_count(classes, "make_spirals: classes", minimum=2)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    radius = np.concatenate([np.linspace(0.05, 1.0, int(np.sum(labels == c))) for c in range(classes)])
    labels = np.sort(labels)
    angle = labels * 2 * np.pi / classes + radius * 2 * np.pi + rng.normal(0, noise * 0.5, n)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return _shuffled(points, labels, rng)


def make_xor(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Points around the four corners (±1, ±1); the label is 1 where exactly one coordinate is positive."""
    n = _check_samples(n_samples, "make_xor")
    rng = np.random.default_rng(seed)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float)
    which = np.arange(n) % 4
    points = corners[which] + rng.normal(0, noise, (n, 2))
    labels = np.array([0, 1, 1, 0])[which]
    return _shuffled(points, labels, rng)


def make_blobs(n_samples: int = 100, centers: int = 3, std: float = 0.5, seed: int | None = None) -> Dataset:
    """Gaussian blobs around ``centers`` points spaced evenly on a circle of radius 3."""
    n = _check_samples(n_samples, "make_blobs")
    centers = check_count(centers, "make_blobs: centers")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % centers
    angle = 2 * np.pi * labels / centers
    points = 3 * np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0, std, (n, 2))
    return _shuffled(points, labels, rng)


def _two_classes(points: np.ndarray, n_first: int, noise: float, rng: np.random.Generator) -> Dataset:
    """The first ``n_first`` points are class 0, the rest class 1; add Gaussian noise, then shuffle."""
    labels = np.concatenate([np.zeros(n_first, dtype=int), np.ones(len(points) - n_first, dtype=int)])
    return _shuffled(points + rng.normal(0, noise, points.shape), labels, rng)


def _shuffled(points: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> Dataset:
    order = rng.permutation(len(labels))
    return points[order], labels[order]


def train_test_split(
    points: np.ndarray, labels: np.ndarray, test_fraction: float = 0.25, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into (train points, test points, train labels, test labels)."""
    if len(points) != len(labels):
        raise ValueError(f"train_test_split: {len(points)} points but {len(labels)} labels")
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must lie in (0, 1), got {test_fraction!r}")
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = max(1, round(test_fraction * len(labels)))
    test, train = order[:n_test], order[n_test:]
    return points[train], points[test], labels[train], labels[test]


def batches(
    points: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool = True, seed: int | None = None
) -> Iterator[Dataset]:
    """Minibatches of at most ``batch_size`` samples covering the data once (one epoch)."""
    if len(points) != len(labels):
        raise ValueError(f"batches: {len(points)} points but {len(labels)} labels")
    batch_size = check_count(batch_size, "batches: batch_size")
    order = np.random.default_rng(seed).permutation(len(labels)) if shuffle else np.arange(len(labels))
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        yield points[chosen], labels[chosen]


# -- MNIST's IDX format -------------------------------------------------------------------------

_IDX_TYPES: dict[int, str | type] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_TYPE_NAMES = {0x08: "unsigned bytes", 0x09: "signed bytes", 0x0B: "16-bit integers", 0x0C: "32-bit integers",
                   0x0D: "32-bit floats", 0x0E: "64-bit floats"}  # fmt: skip
_MAX_DIMENSIONS = 64  # numpy's limit on an array's rank


class IDXFormatError(ValueError):
    """The file is not a well-formed IDX file (MNIST's format), or not one that fits where it is used."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))  # a file name may hold a lone surrogate, which print cannot encode


MAX_IDX_BYTES = 1 << 30
"""The most data bytes ``read_idx`` accepts from a header (1 GiB); pass ``max_bytes=`` to change it."""


class _IDXFile(NamedTuple):
    code: int
    shape: tuple[int, ...]
    data: np.ndarray | None  # None when only the header was read


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (plain or .gz), as MNIST ships them: magic 0 0 type ndim, sizes, then the data.

    Only a regular file is read: a directory, pipe or device is refused at once (a pipe is never
    waited on). The header is checked before anything is allocated: at most 64 dimensions, at most
    ``max_bytes`` bytes of data, and for a plain file, exactly the bytes the file holds after the
    header. Then exactly the bytes it promises are read or decompressed, and the stream must end there
    (a .gz that expands further is refused after one byte more, however far it would go). Anything
    else (a bad magic number, a truncated or over-long stream, a corrupt gzip stream) raises
    IDXFormatError naming the file, and where sizes disagree the header's claim and the file's size.
    A missing file raises FileNotFoundError; other OSErrors keep their type, with a bounded message.
    Every IDX type is read (bytes, integers, floats); :func:`load_mnist` takes only MNIST's.
    """
    max_bytes = check_count(max_bytes, "read_idx: max_bytes")
    source = Path(path)
    data = _read_idx(source, f"read_idx: {for_message(source.name)}", max_bytes).data
    assert data is not None
    return data


def _read_idx(
    source: Path, subject: str, max_bytes: int, *, header_only: bool = False,
    expect: tuple[int, tuple[int, ...]] | None = None,
) -> _IDXFile:  # fmt: skip
    """The type code, shape and (unless ``header_only``) data of the IDX file ``source``.

    ``subject`` ("read_idx: name", "load_mnist: path") starts every message. With ``expect``, the
    header must still be the one a header-only read found before.
    """
    try:
        file, size = open_regular(source, lambda kind: IDXFormatError(f"{subject} is not a regular file but {kind}"))
    except OSError as error:
        raise os_error_naming(error, f"{subject} cannot be opened") from None
    compressed = source.suffix == ".gz"
    opened: contextlib.AbstractContextManager[io.BufferedIOBase] = (
        gzip.GzipFile(fileobj=file, mode="rb") if compressed else contextlib.nullcontext(file)
    )
    with file, opened as stream:
        try:
            code, shape = _read_idx_header(stream, subject)
            if expect is not None and (code, shape) != expect:
                raise IDXFormatError(
                    f"{subject} changed while it was read: type 0x{expect[0]:02X} of shape {_shape_text(expect[1])}, "
                    f"then type 0x{code:02X} of shape {_shape_text(shape)}"
                )
            expected = _checked_claim(subject, code, shape, size, compressed, max_bytes)
            if header_only:
                return _IDXFile(code, shape, None)
            raw = _read_data(stream, subject, shape, expected, size, compressed)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:  # BadGzipFile is an OSError: caught first
            raise IDXFormatError(f"{subject} is not a valid gzip stream: {for_message(str(error))}") from None
        except OSError as error:
            raise os_error_naming(error, f"{subject} cannot be read") from None
    return _IDXFile(code, shape, np.frombuffer(raw, dtype=_IDX_TYPES[code]).reshape(shape))


def _read_exactly(file: io.BufferedIOBase, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of the stream; memory grows only as bytes arrive."""
    parts, wanted = [], size
    while wanted > 0:
        part = file.read(min(wanted, 1 << 24))
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _read_idx_header(file: io.BufferedIOBase, subject: str) -> tuple[int, tuple[int, ...]]:
    """The type code and the sizes from the header at the start of ``file``."""
    magic = _read_exactly(file, 4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise IDXFormatError(f"{subject} does not start with an IDX magic number")
    if magic[2] not in _IDX_TYPES:
        raise IDXFormatError(f"{subject}'s IDX magic number names the unknown type 0x{magic[2]:02X}")
    ndim = magic[3]
    if ndim == 0:
        raise IDXFormatError(f"{subject} declares no dimensions")
    sizes = _read_exactly(file, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IDXFormatError(f"{subject} is truncated inside its header")
    return magic[2], tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))


def _checked_claim(subject: str, code: int, shape: tuple[int, ...], size: int, compressed: bool, max_bytes: int) -> int:
    """The bytes of data the header claims, once checked against ``max_bytes``, numpy and the file's size."""
    itemsize = np.dtype(_IDX_TYPES[code]).itemsize
    expected = math.prod(shape) * itemsize  # Python ints: no overflow
    on_disk = f"the {'.gz ' if compressed else ''}file has {size} bytes"
    if expected > max_bytes:
        raise IDXFormatError(
            f"{subject}'s header {_shape_text(shape)} needs {count_text(expected)} bytes, "
            f"more than max_bytes={max_bytes}; {on_disk}"
        )
    # A size of 0 makes the data empty, but numpy still refuses other sizes whose product it cannot index.
    span = math.prod(max(n, 1) for n in shape) * itemsize
    if span > max_bytes:
        raise IDXFormatError(
            f"{subject}'s header {_shape_text(shape)} holds no data, but its other sizes multiply to "
            f"{count_text(span)} bytes, more than max_bytes={max_bytes}; {on_disk}"
        )
    if len(shape) > _MAX_DIMENSIONS:
        raise IDXFormatError(
            f"{subject}'s header declares {len(shape)} dimensions; numpy arrays have at most {_MAX_DIMENSIONS}"
        )
    header = 4 + 4 * len(shape)
    if not compressed and size != header + expected:
        held = "more" if size > header + expected else str(max(size - header, 0))
        raise IDXFormatError(
            f"{subject} holds {held} bytes of data, but its header {_shape_text(shape)} needs {expected}: "
            f"{on_disk}, {header} of them the header"
        )
    return expected


def _read_data(
    stream: io.BufferedIOBase, subject: str, shape: tuple[int, ...], expected: int, size: int, compressed: bool
) -> bytes:
    """The ``expected`` bytes after the header, and nothing after them."""
    raw = _read_exactly(stream, expected)
    extra = bool(stream.read(1))
    if len(raw) == expected and not extra:
        return raw
    held = "more" if extra else str(len(raw))
    if compressed:
        raise IDXFormatError(
            f"{subject} holds {held} bytes of data, but its header {_shape_text(shape)} needs {expected}"
        )
    raise IDXFormatError(  # the size matched the header when the file was opened
        f"{subject} changed while it was read: its header {_shape_text(shape)} needs {expected} bytes of data, "
        f"the file had them when opened ({size} bytes), but {held} could be read"
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return shorten(str(shape), 60)


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
"""The four files of an MNIST-format folder, each plain or gzipped (with ``.gz`` added to the name)."""

MNIST_FOLDERS = ("data/mnist", "~/data/mnist", "/usr/share/datasets/mnist", "/usr/share/datasets/fashion-mnist")
"""Where :func:`find_mnist` looks after ``$MNIST_DIR``, in order; ``data/mnist`` is under the current folder.
The last is where Debian's ``dataset-fashion-mnist`` package puts Fashion-MNIST."""

MNIST_CLASSES = {
    "MNIST": ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
    "Fashion-MNIST": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}  # fmt: skip
"""The names of the ten classes, by label, for each name :func:`mnist_name` returns."""

_FIRST_TRAIN_LABELS = {"MNIST": (5, 0, 4, 1, 9, 2, 1, 3, 1, 4), "Fashion-MNIST": (9, 0, 0, 3, 0, 2, 7, 2, 5, 5)}


def _mnist_file(folder: Path, name: str, who: str) -> Path | None:
    """``folder/name`` or else ``folder/name.gz``, whichever exists first; None if neither does.

    Whatever is there counts, a directory, a pipe or a broken symlink too: reading it then refuses it
    by name, so that :func:`find_mnist` and :func:`load_mnist` see the same file and agree about it.
    """
    for candidate in (folder / name, folder / f"{name}.gz"):
        try:
            candidate.lstat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:  # e.g. a name too long for the file system
            raise os_error_naming(error, f"{who}: {for_message(str(candidate))} cannot be looked at") from None
        return candidate
    return None


def _is_folder(folder: Path, subject: str) -> bool:
    try:
        return folder.is_dir()
    except OSError as error:
        raise os_error_naming(error, f"{subject} cannot be looked at") from None


def _checked_set(
    images_path: Path, labels_path: Path, folder: Path, who: str, *, with_images: bool
) -> tuple[np.ndarray | None, np.ndarray]:
    """A set's pixels (if ``with_images``) and labels, checked as :func:`load_mnist` needs them.

    Both headers first, before any data: unsigned bytes, n images of rows x columns with n labels,
    n, rows and columns at least 1, and a plain file exactly as long as its header says. Then the
    labels (small), each from 0 to 9, and last the pixels. Every error names the file.
    """
    paths = (images_path, labels_path)
    subjects = tuple(f"{who}: {for_message(str(path))}" for path in paths)
    headers = [
        _read_idx(path, subject, MAX_IDX_BYTES, header_only=True) for path, subject in zip(paths, subjects, strict=True)
    ]
    for header, subject, what in zip(headers, subjects, ("pixels", "labels"), strict=True):
        if header.code != 0x08:
            raise IDXFormatError(
                f"{subject} holds IDX type 0x{header.code:02X}, not unsigned bytes (0x08) as MNIST's {what} are: "
                f"it holds {_IDX_TYPE_NAMES[header.code]}"
            )
    images, labels = headers[0].shape, headers[1].shape
    if len(images) != 3 or len(labels) != 1 or images[0] != labels[0]:
        raise IDXFormatError(
            f"{who}: in {for_message(str(folder))}, {for_message(images_path.name)} of shape {_shape_text(images)} "
            f"and {for_message(labels_path.name)} of shape {_shape_text(labels)} are not n images of rows x columns "
            "with n labels"
        )
    if 0 in images:
        raise IDXFormatError(
            f"{subjects[0]}'s header {images} describes {images[0]} images of {images[1]} x {images[2]} pixels: "
            "no pixels to learn from"
        )
    found = _read_idx(labels_path, subjects[1], MAX_IDX_BYTES, expect=(headers[1].code, labels)).data
    assert found is not None
    wrong = np.flatnonzero(found > 9)
    if wrong.size:
        first = int(wrong[0])
        raise IDXFormatError(f"{subjects[1]}: label #{first} is {int(found[first])}, not a class from 0 to 9")
    if not with_images:
        return None, found
    pixels = _read_idx(images_path, subjects[0], MAX_IDX_BYTES, expect=(headers[0].code, images)).data
    return pixels, found


def _check_mnist_folder(folder: Path, who: str) -> bool:
    """True if ``folder`` holds the four files, sound as far as :func:`load_mnist` checks without the pixels;
    False if any is missing. A file that is there but unsound raises IDXFormatError naming it."""
    paths = [_mnist_file(folder, name, who) for name in MNIST_FILES]
    if any(path is None for path in paths):
        return False
    for images, labels in (paths[:2], paths[2:]):
        assert images is not None and labels is not None
        _checked_set(images, labels, folder, who, with_images=False)
    return True


def _no_mnist() -> bool:
    return os.environ.get("CHAINRULE_NO_MNIST", "") not in ("", "0")


def _expanded(path: str) -> Path:
    """``path`` with ``~`` expanded; a ``~user`` that names nobody stays as written (and is then no folder)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # "Could not determine home directory"
        return Path(path)


def find_mnist() -> Path | None:
    """The first folder holding MNIST's four files (:data:`MNIST_FILES`), or None if there is none.

    Looks in ``$MNIST_DIR`` if that environment variable is set (and not empty), then in each of
    :data:`MNIST_FOLDERS`: ``./data/mnist``, ``~/data/mnist``, ``/usr/share/datasets/mnist`` and
    ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist`` on Debian and
    Ubuntu). A folder counts when all four files are there, each plain or gzipped, and pass
    :func:`load_mnist`'s checks short of the pixels: regular files, sound headers (unsigned bytes,
    n images of rows x columns with n labels, none of them 0), a plain file as long as its header
    says, labels from 0 to 9. So what it accepts, load_mnist loads, unless a gzipped images file is
    corrupt after its header. A folder that lacks some of the files is passed over; but
    ``$MNIST_DIR`` must be a valid folder (else FileNotFoundError naming it), and a folder whose four
    files are there but one fails a check raises IDXFormatError naming the file.

    With the environment variable ``CHAINRULE_NO_MNIST`` set to anything but ``""`` or ``"0"``,
    returns None without looking, even if ``$MNIST_DIR`` is set: the tutorial notebook then trains on
    the small 8x8 digits, as the test suite and the documentation build want.
    """
    if _no_mnist():
        return None
    chosen = os.environ.get("MNIST_DIR", "")
    if chosen:
        label = f"find_mnist: MNIST_DIR='{for_message(chosen)}'"
        folder = _expanded(chosen)
        if not _is_folder(folder, label):
            raise FileNotFoundError(f"{label} is not a folder")
        if not _check_mnist_folder(folder, label):
            missing = [name for name in MNIST_FILES if _mnist_file(folder, name, label) is None]
            raise FileNotFoundError(f"{label} lacks {', '.join(missing)} (plain or .gz)")
        return folder
    for place in MNIST_FOLDERS:
        folder = _expanded(place)
        if _is_folder(folder, f"find_mnist: {for_message(place)}") and _check_mnist_folder(folder, "find_mnist"):
            return folder
    return None


def mnist_name(folder: str | os.PathLike[str]) -> str | None:
    """"MNIST" or "Fashion-MNIST" if ``folder``'s first ten training labels are that set's, else None.

    MNIST's training labels start 5 0 4 1 9 2 1 3 1 4 and Fashion-MNIST's 9 0 0 3 0 2 7 2 5 5; only
    the labels file is read. Use the name with :data:`MNIST_CLASSES` for the class names.
    """
    path = _mnist_file(Path(folder), "train-labels-idx1-ubyte", "mnist_name")
    if path is None:
        raise FileNotFoundError(f"mnist_name: {for_message(os.fspath(folder))} holds no train-labels-idx1-ubyte[.gz]")
    first = tuple(read_idx(path).ravel()[:10].tolist())
    return next((name for name, labels in _FIRST_TRAIN_LABELS.items() if labels == first), None)


def load_mnist(folder: str | os.PathLike[str] | None = None, kind: str = "train") -> Dataset:
    """MNIST-format images scaled to [0, 1] and flattened (n, rows * columns), and integer labels.

    ``kind`` is "train" (60,000 images in MNIST and Fashion-MNIST) or "t10k" (the 10,000 test images).
    ``folder`` holds files such as train-images-idx3-ubyte[.gz]; by default it is :func:`find_mnist`'s
    answer, and FileNotFoundError, naming the places looked in, if there is none. The files must be
    regular files of unsigned bytes (IDX type 0x08): n images of rows x columns, n labels from 0 to 9,
    n, rows and columns at least 1; anything else raises IDXFormatError naming the file, before the
    pixels are read where the headers already tell.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"load_mnist: kind must be 'train' or 't10k', got {kind!r}")
    if folder is None:
        found_folder = find_mnist()
        if found_folder is None:
            why = "CHAINRULE_NO_MNIST is set" if _no_mnist() else f"looked in {', '.join(MNIST_FOLDERS)}"
            raise FileNotFoundError(
                f"load_mnist: no MNIST folder found ({why}); pass folder= or set MNIST_DIR to a folder "
                f"holding {', '.join(MNIST_FILES)}"
            )
        folder = found_folder
    base = Path(folder)
    paths = []
    for part in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        name = f"{kind}-{part}"
        path = _mnist_file(base, name, "load_mnist")
        if path is None:
            raise FileNotFoundError(f"load_mnist: neither {for_message(str(base / name))} nor {name}.gz exists")
        paths.append(path)
    pixels, labels = _checked_set(paths[0], paths[1], base, "load_mnist", with_images=True)
    assert pixels is not None
    return pixels.reshape(len(pixels), -1).astype(float) / 255.0, labels.astype(int)


def load_digits() -> Dataset:
    """The 8x8 handwritten digits from scikit-learn (1797 images), pixels scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn, which ships the data: pip install scikit-learn") from None
    digits = sklearn_digits()
    return digits.data / 16.0, digits.target.astype(int)

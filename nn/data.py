"""Toy data sets (numpy, seeded), minibatches, splits, MNIST-format folders (found and read), the 8x8 digits."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

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


class IDXFormatError(ValueError):
    """The file is not a well-formed IDX file (MNIST's format)."""


MAX_IDX_BYTES = 1 << 30
"""The most data bytes ``read_idx`` accepts from a header (1 GiB); pass ``max_bytes=`` to change it."""


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (plain or .gz), as MNIST ships them: magic 0 0 type ndim, sizes, then the data.

    The header is read first; then exactly the bytes it promises (at most ``max_bytes``) are read or
    decompressed, and the file must end there. Anything else (a bad magic number, a truncated or
    over-long stream, a corrupt gzip stream, sizes beyond ``max_bytes``) raises IDXFormatError
    naming the file; a missing file raises FileNotFoundError.
    """
    source = Path(path)
    max_bytes = check_count(max_bytes, "read_idx: max_bytes")
    name = shorten(source.name)
    opener = gzip.open if source.suffix == ".gz" else open
    try:
        with opener(source, "rb") as file:
            return _read_idx_stream(file, name, max_bytes)  # type: ignore[arg-type]
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise IDXFormatError(f"read_idx: {name} is not a valid gzip stream: {shorten(str(error))}") from None


def _read_exactly(file: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of the stream."""
    parts, wanted = [], size
    while wanted > 0:
        part = file.read(min(wanted, 1 << 24))
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _read_idx_header(file: BinaryIO, name: str) -> tuple[int, tuple[int, ...]]:
    """The type code and the sizes from the header at the start of ``file``."""
    magic = _read_exactly(file, 4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES:
        raise IDXFormatError(f"read_idx: {name} does not start with an IDX magic number")
    ndim = magic[3]
    if ndim == 0:
        raise IDXFormatError(f"read_idx: {name} declares no dimensions")
    sizes = _read_exactly(file, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IDXFormatError(f"read_idx: {name} is truncated inside its header")
    return magic[2], tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))


def _read_idx_stream(file: BinaryIO, name: str, max_bytes: int) -> np.ndarray:
    code, shape = _read_idx_header(file, name)
    dtype = np.dtype(_IDX_TYPES[code])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if expected > max_bytes:
        raise IDXFormatError(
            f"read_idx: {name}'s header {_shape_text(shape)} needs {count_text(expected)} bytes, "
            f"more than max_bytes={max_bytes}"
        )
    raw = _read_exactly(file, expected)
    if len(raw) != expected or file.read(1):
        held = "more" if len(raw) == expected else str(len(raw))
        raise IDXFormatError(
            f"read_idx: {name} holds {held} bytes of data, but its header {_shape_text(shape)} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


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


def _mnist_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` or else ``folder/name.gz``, whichever exists first; None if neither does."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _idx_shape(path: Path) -> tuple[int, tuple[int, ...]]:
    """The type code and shape in an IDX file's header, reading only the header (IDXFormatError if bad)."""
    name = shorten(path.name)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            return _read_idx_header(file, name)  # type: ignore[arg-type]
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise IDXFormatError(f"read_idx: {name} is not a valid gzip stream: {shorten(str(error))}") from None


def _check_mnist_folder(folder: Path, who: str) -> bool:
    """True if ``folder`` holds the four files with sound headers; False if any is missing.

    A file that is there but whose header is not an MNIST one (bytes, images n x rows x columns,
    labels n, as many of each) raises IDXFormatError naming it.
    """
    files = [_mnist_file(folder, name) for name in MNIST_FILES]
    if any(f is None for f in files):
        return False
    shapes = []
    for path in files:
        assert path is not None
        try:
            code, shape = _idx_shape(path)
        except IDXFormatError as error:
            raise IDXFormatError(f"{who}: {path}: {error}") from None
        if code != 0x08:
            raise IDXFormatError(f"{who}: {path} holds IDX type 0x{code:02X}, not unsigned bytes as MNIST does")
        shapes.append(shape)
    for kind, (images, labels) in (("train", shapes[:2]), ("t10k", shapes[2:])):
        if len(images) != 3 or len(labels) != 1 or images[0] != labels[0]:
            raise IDXFormatError(
                f"{who}: in {folder}, {kind} images of shape {_shape_text(images)} and labels of shape "
                f"{_shape_text(labels)} are not n images of rows x columns with n labels"
            )
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
    Ubuntu). Only the files' headers are read: a folder counts when all four files are there, each
    plain or gzipped, with sound headers. A folder that lacks some of them is passed over; but
    ``$MNIST_DIR`` must be a valid folder (else FileNotFoundError naming it), and a folder whose
    four files are there but a header is not MNIST's raises IDXFormatError naming the file.

    With the environment variable ``CHAINRULE_NO_MNIST`` set to anything but ``""`` or ``"0"``,
    returns None without looking, even if ``$MNIST_DIR`` is set: the tutorial notebook then trains on
    the small 8x8 digits, as the test suite and the documentation build want.
    """
    if _no_mnist():
        return None
    chosen = os.environ.get("MNIST_DIR", "")
    if chosen:
        folder = _expanded(chosen)
        if not folder.is_dir():
            raise FileNotFoundError(f"find_mnist: MNIST_DIR={shorten(chosen)!r} is not a folder")
        if not _check_mnist_folder(folder, f"find_mnist: MNIST_DIR={shorten(chosen)!r}"):
            missing = [name for name in MNIST_FILES if _mnist_file(folder, name) is None]
            raise FileNotFoundError(
                f"find_mnist: MNIST_DIR={shorten(chosen)!r} lacks {', '.join(missing)} (plain or .gz)"
            )
        return folder
    for place in MNIST_FOLDERS:
        folder = _expanded(place)
        if folder.is_dir() and _check_mnist_folder(folder, "find_mnist"):
            return folder
    return None


def mnist_name(folder: str | os.PathLike[str]) -> str | None:
    """"MNIST" or "Fashion-MNIST" if ``folder``'s first ten training labels are that set's, else None.

    MNIST's training labels start 5 0 4 1 9 2 1 3 1 4 and Fashion-MNIST's 9 0 0 3 0 2 7 2 5 5; only
    the labels file is read. Use the name with :data:`MNIST_CLASSES` for the class names.
    """
    path = _mnist_file(Path(folder), "train-labels-idx1-ubyte")
    if path is None:
        raise FileNotFoundError(f"mnist_name: {folder} holds no train-labels-idx1-ubyte[.gz]")
    first = tuple(read_idx(path).ravel()[:10].tolist())
    return next((name for name, labels in _FIRST_TRAIN_LABELS.items() if labels == first), None)


def load_mnist(folder: str | os.PathLike[str] | None = None, kind: str = "train") -> Dataset:
    """MNIST-format images scaled to [0, 1] and flattened (n, rows * columns), and integer labels.

    ``kind`` is "train" (60,000 images in MNIST and Fashion-MNIST) or "t10k" (the 10,000 test images).
    ``folder`` holds files such as train-images-idx3-ubyte[.gz]; by default it is :func:`find_mnist`'s
    answer, and FileNotFoundError, naming the places looked in, if there is none.
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
    found = {}
    for part in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        candidates = [Path(folder) / f"{kind}-{part}{suffix}" for suffix in ("", ".gz")]
        existing = [c for c in candidates if c.exists()]
        if not existing:
            raise FileNotFoundError(f"load_mnist: neither {candidates[0]} nor {candidates[1].name} exists")
        found[part] = read_idx(existing[0])
    images, labels = found["images-idx3-ubyte"], found["labels-idx1-ubyte"]
    if len(images) != len(labels):
        raise IDXFormatError(f"load_mnist: {len(images)} images but {len(labels)} labels")
    return images.reshape(len(images), -1).astype(float) / 255.0, labels.astype(int)


def load_digits() -> Dataset:
    """The 8x8 handwritten digits from scikit-learn (1797 images), pixels scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn, which ships the data: pip install scikit-learn") from None
    digits = sklearn_digits()
    return digits.data / 16.0, digits.target.astype(int)

"""Finding an MNIST-format folder: MNIST_DIR, the usual places, the switch that turns the search off."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

import nn
import nn.data

MNIST_START = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the first training labels of MNIST (LeCun et al.)
FASHION_START = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # and of Fashion-MNIST (Xiao et al., 2017)


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file by hand: two zero bytes, type 0x08 (unsigned bytes), the rank, big-endian sizes, the data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def make_folder(folder: Path, train_labels: list[int] = MNIST_START, gz: bool = True, skip: str = "") -> Path:
    """Four small files as MNIST names them: 3x2 images, labels; the test images plain, the rest gzipped."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(train_labels)
    files = {
        "train-images-idx3-ubyte": np.arange(n * 6).reshape(n, 3, 2) % 256,
        "train-labels-idx1-ubyte": np.array(train_labels),
        "t10k-images-idx3-ubyte": np.full((2, 3, 2), 255),
        "t10k-labels-idx1-ubyte": np.array([8, 2]),
    }
    for name, array in files.items():
        if name == skip:
            continue
        if gz and not name.startswith("t10k-images"):
            (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
        else:
            (folder / name).write_bytes(idx_bytes(array))
    return folder


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MNIST_DIR, no switch, and the usual places replaced by folders under tmp_path that do not exist."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.delenv("CHAINRULE_NO_MNIST", raising=False)
    places = tuple(str(tmp_path / "places" / name) for name in ("first", "second", "third"))
    monkeypatch.setattr(nn.data, "MNIST_FOLDERS", places)
    return tmp_path / "places"


def test_mnist_dir_is_found_and_loaded(nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = make_folder(tmp_path / "mine")
    monkeypatch.setenv("MNIST_DIR", str(folder))
    assert nn.find_mnist() == folder
    points, labels = nn.load_mnist()
    assert points.shape == (10, 6) and labels.tolist() == MNIST_START
    assert points[1].tolist() == pytest.approx([6 / 255, 7 / 255, 8 / 255, 9 / 255, 10 / 255, 11 / 255])
    test_points, test_labels = nn.load_mnist(kind="t10k")  # the plain (not gzipped) file
    assert test_points.tolist() == [[1.0] * 6] * 2 and test_labels.tolist() == [8, 2]


def test_the_usual_places_in_order_and_a_partial_folder_passed_over(nowhere: Path):
    assert nn.find_mnist() is None
    make_folder(nowhere / "first", skip="t10k-labels-idx1-ubyte")  # three of the four: not a data folder
    make_folder(nowhere / "third", FASHION_START)
    assert nn.find_mnist() == nowhere / "third"
    make_folder(nowhere / "second", gz=False)
    assert nn.find_mnist() == nowhere / "second"


def test_the_default_places(monkeypatch: pytest.MonkeyPatch):
    assert nn.data.MNIST_FOLDERS[0] == "data/mnist"
    assert nn.data.MNIST_FOLDERS[-1] == "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist


def test_a_relative_place_is_under_the_current_folder(nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(nn.data, "MNIST_FOLDERS", ("data/mnist",))
    monkeypatch.chdir(tmp_path)
    make_folder(tmp_path / "data" / "mnist")
    assert nn.find_mnist() == Path("data/mnist")
    assert nn.load_mnist()[1].tolist() == MNIST_START


def test_mnist_name_from_the_first_training_labels(tmp_path: Path):
    assert nn.mnist_name(make_folder(tmp_path / "digits")) == "MNIST"
    assert nn.mnist_name(make_folder(tmp_path / "clothes", FASHION_START, gz=False)) == "Fashion-MNIST"
    assert nn.mnist_name(make_folder(tmp_path / "other", [1, 2, 3])) is None
    assert nn.MNIST_CLASSES["Fashion-MNIST"][0] == "T-shirt/top"
    assert nn.MNIST_CLASSES["Fashion-MNIST"][9] == "Ankle boot"
    assert nn.MNIST_CLASSES["MNIST"][7] == "7"
    with pytest.raises(FileNotFoundError, match=r"mnist_name: .* holds no train-labels-idx1-ubyte"):
        nn.mnist_name(tmp_path)


def test_mnist_dir_pointing_nowhere_is_an_error_not_a_fallback(
    nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    make_folder(nowhere / "first")  # a good folder that must not be used instead
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=r"find_mnist: MNIST_DIR='.*missing' is not a folder"):
        nn.find_mnist()
    with pytest.raises(FileNotFoundError, match="MNIST_DIR"):
        nn.load_mnist()


def test_mnist_dir_with_three_of_the_four_files(nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = make_folder(tmp_path / "partial", skip="train-labels-idx1-ubyte")
    monkeypatch.setenv("MNIST_DIR", str(folder))
    with pytest.raises(FileNotFoundError, match=r"MNIST_DIR='.*partial' lacks train-labels-idx1-ubyte \(plain or"):
        nn.find_mnist()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("train-images-idx3-ubyte.gz", b"PK\x03\x04 a zip file", r"train-images-idx3-ubyte.gz is not a valid gzip"),
        ("t10k-images-idx3-ubyte", b"\x00\x00\x08", r"t10k-images-idx3-ubyte does not start with an IDX magic"),
        ("t10k-images-idx3-ubyte", bytes([0, 0, 8, 3, 0, 0]), r"t10k-images-idx3-ubyte is truncated inside its header"),
        ("t10k-labels-idx1-ubyte.gz", gzip.compress(b"\x00\x00\x0d\x01" + struct.pack(">I", 2) + bytes(8)),
         r"holds IDX type 0x0D, not unsigned bytes"),
        ("t10k-labels-idx1-ubyte.gz", gzip.compress(idx_bytes(np.array([1, 2, 3]))),
         r"t10k-images-idx3-ubyte of shape \(2, 3, 2\) and t10k-labels-idx1-ubyte\.gz of shape \(3,\)"),
        ("train-labels-idx1-ubyte.gz", gzip.compress(idx_bytes(np.zeros((10, 1)))),
         r"train-images-idx3-ubyte\.gz of shape \(10, 3, 2\) and train-labels-idx1-ubyte\.gz of shape \(10, 1\)"),
    ],
)  # fmt: skip
def test_a_corrupt_file_is_named(
    nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes, message: str
):
    folder = make_folder(tmp_path / "corrupt")
    (folder / name).write_bytes(content)
    monkeypatch.setenv("MNIST_DIR", str(folder))
    with pytest.raises(nn.IDXFormatError, match=message):
        nn.find_mnist()
    monkeypatch.delenv("MNIST_DIR")
    monkeypatch.setattr(nn.data, "MNIST_FOLDERS", (str(folder),))  # in a usual place: an error too, not a skip
    with pytest.raises(nn.IDXFormatError, match=message):
        nn.find_mnist()


def test_a_file_corrupt_after_its_header_fails_when_loaded(nowhere: Path, tmp_path: Path):
    folder = make_folder(tmp_path / "short")
    good = idx_bytes(np.zeros((2, 3, 2)))
    (folder / "t10k-images-idx3-ubyte").write_bytes(good[:-1])  # the header is sound: find_mnist reads no further
    assert nn.find_mnist() is None  # not in a searched place
    with pytest.raises(nn.IDXFormatError, match=r"holds 11 bytes of data, but its header \(2, 3, 2\) needs 12"):
        nn.load_mnist(folder, kind="t10k")


@pytest.mark.parametrize("value", ["1", "yes"])
def test_the_switch_turns_the_search_off(
    nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
):
    make_folder(nowhere / "first")
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "missing"))  # not even looked at
    monkeypatch.setenv("CHAINRULE_NO_MNIST", value)
    assert nn.find_mnist() is None
    with pytest.raises(FileNotFoundError, match="no MNIST folder found \\(CHAINRULE_NO_MNIST is set\\)"):
        nn.load_mnist()
    assert nn.load_mnist(nowhere / "first")[1].tolist() == MNIST_START  # a folder given explicitly still loads


@pytest.mark.parametrize("value", ["", "0"])
def test_the_switch_off(nowhere: Path, monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("CHAINRULE_NO_MNIST", value)
    make_folder(nowhere / "second")
    assert nn.find_mnist() == nowhere / "second"
    monkeypatch.setenv("MNIST_DIR", "")  # empty counts as unset
    assert nn.find_mnist() == nowhere / "second"


def test_nothing_found_names_the_places(nowhere: Path):
    with pytest.raises(FileNotFoundError, match=r"looked in .*first, .*second, .*third\); pass folder= or set MNIST"):
        nn.load_mnist()


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(nowhere: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(nn.data, "MNIST_FOLDERS", (str(nowhere / "first"), str(FASHION)))
    assert nn.find_mnist() == FASHION
    assert nn.mnist_name(FASHION) == "Fashion-MNIST"
    points, labels = nn.load_mnist(kind="t10k")
    # Xiao et al. (2017): 10,000 test images of 28x28, 1,000 of each of the ten classes
    assert points.shape == (10_000, 784) and np.bincount(labels).tolist() == [1000] * 10
    assert points.min() >= 0.0 and points.max() <= 1.0


def test_a_home_folder_of_nobody_in_mnist_dir_is_named_as_not_a_folder(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CHAINRULE_NO_MNIST", raising=False)
    monkeypatch.setenv("MNIST_DIR", "~nobody-by-this-name/mnist")
    with pytest.raises(FileNotFoundError, match="MNIST_DIR='~nobody-by-this-name/mnist' is not a folder"):
        nn.find_mnist()

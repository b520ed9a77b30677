"""nn: losses against their formulas and finite differences, the data generators and readers, saving and loading."""

from __future__ import annotations

import gzip
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value
from tests.numeric import partial_difference


def test_mse_conventions():
    preds = [Value(0.5), Value(2.0)]
    assert nn.mse(preds, [1.0, 1.0]).data == pytest.approx((0.25 + 1.0) / 2)
    assert nn.mse(preds, [1.0, 1.0], half=True, reduction="sum").data == pytest.approx(0.5 * (0.25 + 1.0))
    loss = nn.mse([[Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]], [[1.0, 1.0], [1.0, 1.0]])
    assert loss.data == pytest.approx((0 + 1 + 4 + 9) / 4)
    with pytest.raises(ValueError, match="mse: 2 predictions but 3 targets"):
        nn.mse(preds, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum', got 'max'"):
        nn.mse(preds, [1.0, 1.0], reduction="max")


def test_softmax_cross_entropy_matches_its_formula_and_finite_differences():
    logits = [Value(1.0), Value(-0.5), Value(2.5)]
    loss = nn.cross_entropy(logits, 1)
    exps = [math.exp(z) for z in (1.0, -0.5, 2.5)]
    assert loss.data == pytest.approx(-math.log(exps[1] / sum(exps)), rel=1e-14)
    loss.backward()
    probabilities = [e / sum(exps) for e in exps]
    expected = [p - (i == 1) for i, p in enumerate(probabilities)]  # softmax - one-hot, by hand
    assert [z.grad for z in logits] == pytest.approx(expected, rel=1e-12)

    plain = lambda a, b, c: -math.log(math.exp(b) / (math.exp(a) + math.exp(b) + math.exp(c)))
    for i in range(3):
        assert logits[i].grad == pytest.approx(partial_difference(plain, [1.0, -0.5, 2.5], i), rel=1e-6)
    assert sum(p.data for p in nn.softmax(logits)) == pytest.approx(1.0)


def test_cross_entropy_is_finite_for_huge_logits():
    for scale in (1000.0, -1000.0):
        logits = [Value(scale), Value(0.0), Value(-scale)]
        loss = nn.cross_entropy(logits, 2)
        assert math.isfinite(loss.data)
        assert loss.data == pytest.approx(2 * scale if scale > 0 else 0.0, abs=1e-9)
        loss.backward()
        assert all(math.isfinite(z.grad) for z in logits)
    batch = nn.cross_entropy([[Value(1000.0), Value(-1000.0)], [Value(0.0), Value(0.0)]], [0, 1])
    assert batch.data == pytest.approx(math.log(2) / 2)
    with pytest.raises(ValueError, match="label 3 is not a class index for 2 classes"):
        nn.cross_entropy([Value(0.0), Value(1.0)], 3)


def test_binary_cross_entropy_with_logits():
    z = Value(0.3)
    loss = nn.binary_cross_entropy_with_logits(z, 1.0)
    s = 1 / (1 + math.exp(-0.3))
    assert loss.data == pytest.approx(-math.log(s), rel=1e-14)
    loss.backward()
    assert z.grad == pytest.approx(s - 1.0, rel=1e-12)  # d/dz = sigmoid(z) - t
    huge = nn.binary_cross_entropy_with_logits([Value(1000.0), Value(-1000.0)], [0.0, 1.0])
    assert huge.data == pytest.approx(1000.0)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got 2.0"):
        nn.binary_cross_entropy_with_logits(z, 2.0)


def test_hinge_and_l2():
    scores = [Value(2.0), Value(0.5), Value(-0.2)]
    loss = nn.hinge(scores, [1, 1, 1])  # max(0, 1 - s): 0, 0.5, 1.2
    assert loss.data == pytest.approx((0 + 0.5 + 1.2) / 3)
    loss.backward()
    assert [s.grad for s in scores] == pytest.approx([0.0, -1 / 3, -1 / 3])
    assert nn.hinge(scores, np.array([1, 1, 1])).data == pytest.approx(loss.data)  # labels straight from numpy
    # 0/1 labels, as make_moons gives them, mean -1/+1: max(0, 1 - 2), max(0, 1 + 0.5), max(0, 1 + 0.2)
    assert nn.hinge(scores, [1, 0, 1]).data == pytest.approx((0 + 1.5 + 1.2) / 3)
    assert nn.hinge(scores, [1, 0, 1]).data == pytest.approx(nn.hinge(scores, [1, -1, 1]).data)
    with pytest.raises(ValueError, match=r"labels must be -1 or \+1 \(or 0 and 1\), got 2\.0"):
        nn.hinge(scores, [1, 2, 1])
    ws = [Value(3.0), Value(-4.0)]
    penalty = nn.l2(ws, 0.5)
    penalty.backward()
    assert penalty.data == pytest.approx(12.5)
    assert [w.grad for w in ws] == [3.0, -4.0]


def test_moons_geometry_and_determinism():
    points, labels = nn.make_moons(200, noise=0.0, seed=0)
    top, bottom = points[labels == 0], points[labels == 1]
    assert len(top) == len(bottom) == 100
    assert np.allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)  # (cos t, sin t)
    assert np.allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0)  # (1 - cos t, 0.5 - sin t)
    a, b = nn.make_moons(50, seed=3), nn.make_moons(50, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="n_samples must be an int >= 2, got 1"):
        nn.make_moons(1)


def test_other_generators():
    points, labels = nn.make_circles(100, noise=0.0, factor=0.4, seed=0)
    radii = np.hypot(points[:, 0], points[:, 1])
    assert np.allclose(radii[labels == 0], 1.0) and np.allclose(radii[labels == 1], 0.4)
    points, labels = nn.make_xor(80, noise=0.05, seed=0)
    assert np.array_equal(labels, (np.sign(points[:, 0]) != np.sign(points[:, 1])).astype(int))
    points, labels = nn.make_blobs(90, centers=3, std=0.1, seed=0)
    for c in range(3):
        centre = points[labels == c].mean(axis=0)
        angle = 2 * math.pi * c / 3
        assert np.allclose(centre, [3 * math.cos(angle), 3 * math.sin(angle)], atol=0.1)
    points, labels = nn.make_spirals(150, classes=3, seed=0)
    assert points.shape == (150, 2) and sorted(np.bincount(labels)) == [50, 50, 50]


def test_split_and_batches():
    points, labels = np.arange(20).reshape(10, 2), np.arange(10)
    train_x, _, train_y, test_y = nn.train_test_split(points, labels, 0.3, seed=0)
    assert len(test_y) == 3 and len(train_y) == 7
    assert sorted([*train_y, *test_y]) == list(range(10))
    assert np.array_equal(train_x[:, 0] // 2, train_y)
    seen = [y for _, ys in nn.batches(points, labels, 4, seed=1) for y in ys]
    assert sorted(seen) == list(range(10))
    assert [len(ys) for _, ys in nn.batches(points, labels, 4, shuffle=False)] == [4, 4, 2]
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        list(nn.batches(points, labels, 0))


def write_idx(path: Path, array: np.ndarray, type_code: int = 0x08) -> None:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    data = header + array.astype(">u1" if type_code == 0x08 else ">f4").tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_idx_reader_and_mnist_folder(tmp_path: Path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([7, 1], dtype=np.uint8))
    assert np.array_equal(nn.read_idx(tmp_path / "train-images-idx3-ubyte.gz"), images)
    floats = np.array([[1.5, -2.0]], dtype=np.float32)
    write_idx(tmp_path / "floats.idx", floats, 0x0D)
    assert np.array_equal(nn.read_idx(tmp_path / "floats.idx"), floats)
    x, y = nn.load_mnist(tmp_path)
    assert x.shape == (2, 12) and x.max() == pytest.approx(23 / 255) and list(y) == [7, 1]


def test_idx_reader_rejects_bad_files(tmp_path: Path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"PK\x03\x04not idx")
    with pytest.raises(nn.IDXFormatError, match="does not start with an IDX magic number"):
        nn.read_idx(bad)
    write_idx(tmp_path / "full", np.zeros((4, 4), dtype=np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "full").read_bytes()[:-3])
    with pytest.raises(nn.IDXFormatError, match=r"holds 13 bytes of data, but its header \(4, 4\) needs 16"):
        nn.read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError, match="load_mnist: neither"):
        nn.load_mnist(tmp_path / "nowhere")


def test_load_digits_without_scikit_learn(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        nn.load_digits()


def test_save_then_load_round_trips_exactly(tmp_path: Path):
    model = nn.MLP(3, [4, 2], activation="tanh", seed=5)
    path = nn.save_model(model, tmp_path / "model.json")
    document = json.loads(path.read_text())
    assert document["format"] == "chainrule-model" and document["version"] == 1
    assert document["architecture"] == {"type": "MLP", "nin": 3, "sizes": [4, 2], "activation": "tanh",
                                        "output_activation": "linear"}  # fmt: skip
    rebuilt = nn.load_model(path)
    assert rebuilt.state_dict() == model.state_dict()  # exact equality of every float
    x = [0.1, -0.2, 0.3]
    assert [o.data for o in rebuilt(x)] == [o.data for o in model(x)]  # type: ignore[union-attr]
    other = nn.MLP(3, [4, 2], activation="tanh", seed=9)
    nn.load_into(other, path)
    assert other.state_dict() == model.state_dict()
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]  # no temporary files left


def test_bad_files_raise_and_leave_the_model_alone(tmp_path: Path):
    model = nn.MLP(2, [3, 1], seed=1)
    good = nn.save_model(model, tmp_path / "good.json")
    text = good.read_text()
    target = nn.MLP(2, [3, 1], seed=2)
    before = target.state_dict()

    cases = {
        "truncated.json": (text[: len(text) // 2], "not valid JSON"),
        "other.json": (json.dumps({"format": "something else"}), "is not a chainrule-model file"),
        "future.json": (text.replace('"version": 1', '"version": 99'), "format version 99"),
        "wrong_shape.json": (nn.save_model(nn.MLP(2, [4, 1]), tmp_path / "x.json").read_text(),
                             "holds .* but the model is"),
        "bad_number.json": (text.replace(f'{model.layers[0].neurons[0].w[0].data!r}', '"oops"', 1), "must be a finite"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(nn.ModelFileError, match=message):
            nn.load_into(target, tmp_path / name)
        assert target.state_dict() == before, name
    model.layers[0].neurons[0].w[0].data = float("nan")
    with pytest.raises(ValueError, match=r"parameter layers\.0\.neurons\.0\.w\.0 is nan"):
        nn.save_model(model, tmp_path / "nan.json")
    assert not (tmp_path / "nan.json").exists()


def test_load_errors_name_the_function(tmp_path: Path):
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(nn.ModelFileError, match=r"^load_model: broken\.json is not valid JSON"):
        nn.load_model(tmp_path / "broken.json")
    with pytest.raises(nn.ModelFileError, match=r"^load_into: broken\.json is not valid JSON"):
        nn.load_into(nn.MLP(2, [1]), tmp_path / "broken.json")


def test_save_and_load_have_one_name_each():
    # Never released, so the old names went without a deprecation period.
    assert not hasattr(nn, "save") and not hasattr(nn, "load")
    assert {"save_model", "load_model"} <= set(nn.__all__)


def test_neuron_uses_one_dot_node():
    neuron = nn.Neuron(4, activation="relu")
    out = neuron([1.0, 2.0, 3.0, 4.0])
    assert out.op == "relu" and out.parents[0].op == "dot"
    assert len(ag.backward_order(out)) == 1 + 1 + 5  # relu, dot, 4 weights and the bias

"""nn: Matt Mazur's 2-2-2 worked example against BP1-BP4 by hand, micrograd's moons demo, modules, optimizers."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

import nn
from autograd import Value

X_004 = [0.05, 0.10]
TARGET_004 = [0.01, 0.99]
HIDDEN_W = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 into h1, w3 w4 into h2
OUTPUT_W = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 into o1, w7 w8 into o2


def network_004() -> nn.MLP:
    net = nn.MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    net.set_weights([(HIDDEN_W, [0.35, 0.35]), (OUTPUT_W, [0.60, 0.60])])
    return net


def total_error(net: nn.MLP) -> Value:
    """E = sum over outputs of 1/2 (target - output)**2."""
    return nn.mse(net(X_004), TARGET_004, half=True, reduction="sum")


def hand_backprop() -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """The four backpropagation equations (Nielsen, chapter 2) written out with numpy for the 2-2-2 network."""
    sigma = lambda z: 1 / (1 + np.exp(-z))
    w = [np.array(HIDDEN_W), np.array(OUTPUT_W)]
    b = [np.array([0.35, 0.35]), np.array([0.60, 0.60])]
    a0, y = np.array(X_004), np.array(TARGET_004)
    z1 = w[0] @ a0 + b[0]
    a1 = sigma(z1)
    z2 = w[1] @ a1 + b[1]
    a2 = sigma(z2)
    error = float(np.sum(0.5 * (y - a2) ** 2))
    delta2 = (a2 - y) * a2 * (1 - a2)  # BP1: dC/da ⊙ σ'(z), σ'(z) = σ(z)(1 - σ(z))
    delta1 = (w[1].T @ delta2) * a1 * (1 - a1)  # BP2
    grad_b = [delta1, delta2]  # BP3
    grad_w = [np.outer(delta1, a0), np.outer(delta2, a1)]  # BP4: a^{l-1}_k δ^l_j
    return error, grad_w, grad_b


def test_seed_004_error_and_gradients_match_the_four_equations():
    error, grad_w, grad_b = hand_backprop()
    net = network_004()
    e = total_error(net)
    assert e.data == pytest.approx(error, rel=1e-14)
    assert e.data == pytest.approx(0.298371109, abs=1e-9)  # the published figure of this classic example
    e.backward()
    for layer, gw, gb in zip(net.layers, grad_w, grad_b, strict=True):
        engine_w = np.array([[w.grad for w in neuron.w] for neuron in layer.neurons])
        engine_b = np.array([neuron.b.grad for neuron in layer.neurons])
        assert np.allclose(engine_w, gw, rtol=1e-13, atol=0)
        assert np.allclose(engine_b, gb, rtol=1e-13, atol=0)


def test_seed_004_one_update_gives_the_published_weights():
    _, grad_w, _ = hand_backprop()
    net = network_004()
    weights = [p for name, p in net.named_parameters() if not name.endswith(".b")]  # the example keeps biases fixed
    optimizer = nn.SGD(weights, lr=0.5)
    total_error(net).backward()
    optimizer.step()
    updated = [[w.data for w in neuron.w] for layer in net.layers for neuron in layer.neurons]
    old_weights = [HIDDEN_W, OUTPUT_W]
    by_hand = [row.tolist() for old, g in zip(old_weights, grad_w, strict=True) for row in np.array(old) - 0.5 * g]
    assert np.allclose(updated, by_hand, rtol=1e-14)
    published = [[0.149780716, 0.19956143], [0.24975114, 0.29950229],
                 [0.35891648, 0.408666186], [0.511301270, 0.561370121]]  # fmt: skip
    assert np.allclose(updated, published, atol=5e-9)


def test_seed_004_training_drives_the_error_down():
    net = network_004()
    weights = [p for name, p in net.named_parameters() if not name.endswith(".b")]
    optimizer = nn.SGD(weights, lr=0.5)
    errors = []
    for _ in range(10_000):
        e = total_error(net)
        errors.append(e.data)
        optimizer.zero_grad()
        e.backward()
        optimizer.step()
    assert all(later < earlier for earlier, later in itertools.pairwise(errors))
    # published after 10,000 updates: E = 0.0000351085, outputs 0.015912196 and 0.984065734
    # (computed there with rounded intermediate values, so they agree to about 4 digits)
    outputs = [o.data for o in net(X_004)]  # type: ignore[union-attr]
    assert total_error(net).data == pytest.approx(0.0000351085, rel=2e-3)
    assert outputs == pytest.approx([0.015912196, 0.984065734], rel=2e-4)


def test_micrograd_moons_demo_reaches_full_training_accuracy():
    points, labels = nn.make_moons(100, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16, 1], seed=1337)
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    schedule = nn.LinearDecay(optimizer, start=1.0, end=0.1, steps=100)  # lr = 1.0 - 0.9 k / 100
    history = nn.fit(model, points, labels, loss="hinge", optimizer=optimizer, schedule=schedule, epochs=100, l2=1e-4,
                     progress=False)  # fmt: skip
    assert history["loss"][-1] < history["loss"][0] / 10
    assert nn.accuracy(model, points, labels) == 1.0


def test_named_parameters_are_stable_dotted_names():
    model = nn.MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == (2 + 1) * 3 + (3 + 1) * 1
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert model.parameters()[0] is model.layers[0].neurons[0].w[0]


def test_calling_a_model():
    model = nn.MLP(2, [3, 2], seed=0)
    out = model([1.0, Value(2.0)])
    assert isinstance(out, list) and len(out) == 2
    single = nn.MLP(2, [3, 1], seed=0)([1.0, 2.0])
    assert isinstance(single, Value)
    with pytest.raises(ValueError, match="MLP: expected 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP(2, [3], activation="swish")
    with pytest.raises(ValueError, match="every layer size must be a positive int, got 0"):
        nn.MLP(2, [0])
    with pytest.raises(ValueError, match="unknown init 'zeros'"):
        nn.MLP(2, [3], init="zeros")


def test_neuron_forward_is_activation_of_dot_plus_bias():
    neuron = nn.Neuron(3, activation="tanh", seed=0)
    x = [0.5, -1.0, 2.0]
    expected = math.tanh(sum(w.data * xi for w, xi in zip(neuron.w, x, strict=True)) + neuron.b.data)
    assert neuron(x).data == pytest.approx(expected, rel=1e-15)
    for name, fn in [("relu", lambda z: max(z, 0.0)), ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
                     ("linear", lambda z: z), ("leaky_relu", lambda z: z if z > 0 else 0.01 * z)]:  # fmt: skip
        unit = nn.Neuron(3, activation=name, seed=1)
        z = sum(w.data * xi for w, xi in zip(unit.w, x, strict=True)) + unit.b.data
        assert unit(x).data == pytest.approx(fn(z), rel=1e-15)


def test_values_trace_back_to_their_modules():
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])
    assert isinstance(out, Value)
    assert out.scope == (model, model.layers[1], model.layers[1].neurons[0])


def test_seeded_initialisation():
    assert nn.MLP(3, [4, 2], seed=7).state_dict() == nn.MLP(3, [4, 2], seed=7).state_dict()
    assert nn.MLP(3, [4, 2], seed=7).state_dict() != nn.MLP(3, [4, 2], seed=8).state_dict()
    for name in ("uniform", "micrograd"):
        uniform = [p.data for n, p in nn.MLP(50, [50], init=name, seed=0).named_parameters() if ".w." in n]
        assert -1 <= min(uniform) < -0.9 and 0.9 < max(uniform) <= 1
    xavier = [p.data for n, p in nn.MLP(50, [50], init="xavier", seed=0).named_parameters() if ".w." in n]
    assert max(map(abs, xavier)) <= math.sqrt(6 / 100)
    he = np.array([p.data for n, p in nn.MLP(200, [100], init="he", seed=0).named_parameters() if ".w." in n])
    assert he.std() == pytest.approx(math.sqrt(2 / 200), rel=0.05)
    biases = [p.data for n, p in nn.MLP(3, [4], seed=0).named_parameters() if n.endswith(".b")]
    assert biases == [0.0] * 4


def test_state_dict_round_trip_and_validation():
    model, other = nn.MLP(2, [3, 1], seed=1), nn.MLP(2, [3, 1], seed=2)
    other.load_state_dict(model.state_dict())
    assert other.state_dict() == model.state_dict()
    before = other.state_dict()
    broken = dict(before, **{"layers.0.neurons.0.w.0": float("nan")})
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.0\.w\.0 must be a finite number, got nan"):
        other.load_state_dict(broken)
    with pytest.raises(ValueError, match=r"missing layers\.1\.neurons\.0\.b; unexpected extra"):
        other.load_state_dict({**{k: v for k, v in before.items() if k != "layers.1.neurons.0.b"}, "extra": 1.0})
    assert other.state_dict() == before  # nothing changed


def test_zero_grad_and_repr():
    model = nn.MLP(2, [3, 1], seed=0)
    out = model([1.0, -1.0])
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    text = repr(model)
    assert text.splitlines()[0] == "MLP(2 -> 3 -> 1, relu hidden, linear output, 13 parameters)"
    assert "(layers.0): Layer(2 -> 3, relu)" in text


def test_sgd_momentum_and_weight_decay_by_hand():
    p = Value(1.0)
    optimizer = nn.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    p.grad = 2.0
    optimizer.step()  # v = 2 + 0.01 * 1 = 2.01; p = 1 - 0.201 = 0.799
    assert p.data == pytest.approx(0.799)
    optimizer.step()  # v = 0.9 * 2.01 + 2 + 0.01 * 0.799 = 3.81699; p = 0.799 - 0.381699
    assert p.data == pytest.approx(0.799 - 0.381699)


def test_adam_first_steps_by_hand():
    p = Value(1.0)
    optimizer = nn.Adam([p], lr=0.01)
    p.grad = 4.0
    optimizer.step()  # m̂ = g, v̂ = g², so the first step is lr * g / |g| = lr
    assert p.data == pytest.approx(1.0 - 0.01, abs=1e-9)
    p.grad = -2.0
    optimizer.step()
    m = (0.9 * 0.1 * 4.0 + 0.1 * -2.0) / (1 - 0.9**2)
    v = (0.999 * 0.001 * 16.0 + 0.001 * 4.0) / (1 - 0.999**2)
    first = 1.0 - 0.01 * 4.0 / (4.0 + 1e-8)
    assert p.data == pytest.approx(first - 0.01 * m / (math.sqrt(v) + 1e-8), rel=1e-12)


def test_schedules():
    optimizer = nn.SGD([Value(0.0)], lr=1.0)
    schedule = nn.LinearDecay(optimizer, start=1.0, end=0.1, steps=100)
    rates = []
    for _ in range(101):
        rates.append(optimizer.lr)
        schedule.step()
    assert rates[:3] == pytest.approx([1.0, 0.991, 0.982])  # micrograd: 1.0 - 0.9 k / 100
    assert rates[100] == pytest.approx(0.1)
    stepped = nn.SGD([Value(0.0)], lr=0.5)
    step_lr = nn.StepLR(stepped, step_size=2, gamma=0.1)
    seen = []
    for _ in range(5):
        step_lr.step()
        seen.append(stepped.lr)
    assert seen == pytest.approx([0.5, 0.05, 0.05, 0.005, 0.005])


def test_optimizer_errors():
    with pytest.raises(ValueError, match="SGD: the learning rate must be a positive number, got -1"):
        nn.SGD([Value(0.0)], lr=-1)
    with pytest.raises(ValueError, match=r"SGD: momentum must lie in \[0, 1\), got 1.5"):
        nn.SGD([Value(0.0)], lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="Adam: no parameters to optimise"):
        nn.Adam([])
    with pytest.raises(TypeError, match="parameters must be Values"):
        nn.SGD([1.0], lr=0.1)  # type: ignore[list-item]


def test_fit_history_callback_and_losses():
    points, labels = nn.make_blobs(60, centers=3, std=0.3, seed=0)
    model = nn.MLP(2, [8, 3], seed=0)
    stops: list[int] = []

    def record(epoch: int, logs: dict[str, float]) -> bool:
        stops.append(epoch)
        return False

    history = nn.fit(model, points, labels, loss="cross_entropy", optimizer=nn.Adam(model.parameters(), lr=0.05),
                     epochs=40, batch_size=16, progress=False, callback=record)  # fmt: skip
    assert len(history["loss"]) == len(history["accuracy"]) == 40 == len(stops)
    assert history["accuracy"][-1] == 1.0
    assert nn.accuracy(model, points, labels) == 1.0
    early = nn.fit(model, points, labels, loss="cross_entropy", epochs=10, progress=False,
                   callback=lambda epoch, logs: epoch == 3)  # fmt: skip
    assert len(early["loss"]) == 3
    custom = nn.fit(nn.MLP(2, [1], seed=0), points, labels.astype(float), epochs=2, progress=False,
                    loss=lambda outputs, targets: nn.mse(outputs, targets))  # fmt: skip
    assert "accuracy" not in custom
    with pytest.raises(ValueError, match="fit: unknown loss 'l1'"):
        nn.fit(model, points, labels, loss="l1", progress=False)
    with pytest.raises(ValueError, match="fit: 60 points but 3 labels"):
        nn.fit(model, points, labels[:3], progress=False)


def test_predict_and_accuracy():
    model = nn.MLP(1, [1], output_activation="linear", seed=0)
    model.set_weights([([[1.0]], [0.0])])  # output = x
    assert nn.predict(model, [[2.0], [-3.0]]) == [2.0, -3.0]
    assert nn.accuracy(model, [[2.0], [-3.0], [1.0]], [1, -1, -1]) == pytest.approx(2 / 3)
    assert nn.accuracy(model, [[2.0], [-3.0]], [1, 0]) == 1.0


def test_accuracy_threshold_for_probabilities_and_mse_outputs():
    model = nn.MLP(1, [1], output_activation="sigmoid", seed=0)
    model.set_weights([([[1.0]], [0.0])])  # sigmoid(x): 0.88 for x = 2, 0.27 for x = -1
    assert nn.accuracy(model, [[2.0], [-1.0]], [1, 0]) == 1.0  # sigmoid output: class 1 above 0.5
    linear = nn.MLP(1, [1], seed=0)
    linear.set_weights([([[1.0]], [0.0])])  # output = x, as if trained with mse towards 0/1
    assert nn.accuracy(linear, [[0.3], [0.8]], [0, 1]) == 0.5  # default threshold 0 calls 0.3 a one
    assert nn.accuracy(linear, [[0.3], [0.8]], [0, 1], threshold=0.5) == 1.0


def test_fit_refuses_mismatched_losses_outputs_and_labels():
    points, labels = nn.make_moons(20, seed=0)
    one_output, two_outputs = nn.MLP(2, [4, 1], seed=0), nn.MLP(2, [4, 2], seed=0)
    with pytest.raises(ValueError, match="'cross_entropy' needs one output per class, but the model gives one"):
        nn.fit(one_output, points, labels, loss="cross_entropy", progress=False)
    with pytest.raises(ValueError, match="'bce' needs one output, but the model gives 2"):
        nn.fit(two_outputs, points, labels, loss="bce", progress=False)
    with pytest.raises(ValueError, match=r"'hinge' needs labels 0/1 or -1/\+1, got \[0, 2\]"):
        nn.fit(one_output, points, labels * 2, loss="hinge", progress=False)
    with pytest.raises(ValueError, match=r"batch_size must be a positive int or None .*got 0"):
        nn.fit(one_output, points, labels, batch_size=0, progress=False)


def test_model_construction_errors_say_what_to_pass():
    with pytest.raises(TypeError, match=r"MLP: sizes must be a list of layer sizes such as \[16, 16, 1\], got 3"):
        nn.MLP(2, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="MLP: sizes must list at least one layer size"):
        nn.MLP(2, [])
    with pytest.raises(ValueError, match=r"MLP: every layer size must be a positive int, got 0"):
        nn.MLP(2, [0])


def test_a_layer_always_returns_a_list_and_an_mlp_unwraps_one_output():
    layer = nn.Layer(2, 1, activation="linear")
    layer.set_weights([[2.0, 3.0]], [1.0])
    out = layer([1.0, -1.0])
    assert isinstance(out, list) and len(out) == 1
    assert out[0].data == 2.0 * 1.0 + 3.0 * -1.0 + 1.0
    model = nn.MLP(2, [3, 1], seed=0)
    assert isinstance(model.layers[-1]([1.0, 2.0, 3.0]), list)
    assert isinstance(model([1.0, 2.0]), Value)


def test_neuron_fan_out():
    limit = math.sqrt(6 / (50 + 30))  # Glorot's bound for 50 inputs and a layer of 30
    weights = [w.data for w in nn.Neuron(50, init="xavier", fan_out=30, seed=4).w]
    assert max(map(abs, weights)) <= limit
    assert max(map(abs, weights)) > 0.9 * limit  # the bound of fan_out=1 would be sqrt(6 / 51), larger
    with pytest.raises(TypeError, match="unexpected keyword argument 'nout'"):  # the old name, never released
        nn.Neuron(50, init="xavier", nout=30)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="Neuron: fan_out must be a positive int, got 0"):
        nn.Neuron(50, fan_out=0)


def test_counts_are_checked_one_way_everywhere():
    points, labels = np.arange(20).reshape(10, 2), np.arange(10)
    optimizer = nn.SGD([Value(1.0)], lr=0.1)
    cases = [
        (lambda: nn.StepLR(optimizer, step_size=0), "StepLR: step_size must be a positive int, got 0"),
        (lambda: nn.LinearDecay(optimizer, 1.0, 0.1, steps=2.5), "LinearDecay: steps must be a positive int, got 2.5"),  # type: ignore[arg-type]
        (lambda: nn.make_spirals(30, classes=1), "make_spirals: classes must be an int >= 2, got 1"),
        (lambda: nn.make_blobs(30, centers=0), "make_blobs: centers must be a positive int, got 0"),
        (lambda: nn.make_xor(True), "make_xor: n_samples must be an int >= 2, got True"),
        (lambda: nn.Layer(2, -1), "Layer: nout must be a positive int, got -1"),
        (lambda: list(nn.batches(points, labels, 1.0)), "batches: batch_size must be a positive int, got 1.0"),  # type: ignore[arg-type]
        (lambda: nn.fit(nn.MLP(2, [1]), points, labels % 2, epochs=0), "fit: epochs must be a positive int, got 0"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            make()
    # numpy ints count as ints
    assert [len(ys) for _, ys in nn.batches(points, labels, np.int64(4), shuffle=False)] == [4, 4, 2]
    assert nn.MLP(np.int64(2), [np.int64(3), 1]).sizes == [3, 1]

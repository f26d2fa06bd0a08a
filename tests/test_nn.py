"""Tests of calcml.nn: hand-written backprop against calcml.autodiff and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcml import autodiff as ad
from calcml.nn import (
    MLP,
    Dense,
    MSELoss,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    TrainResult,
    sgd,
    two_moons,
)

ACT = {"tanh": ad.tanh, "sigmoid": ad.sigmoid, "relu": ad.relu}


def autodiff_loss(params, X, target, activation, kind):
    """The same network and loss written with autodiff Tensors."""
    h = X
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = h @ params[2 * i] + params[2 * i + 1]
        if i < n_layers - 1:
            h = ACT[activation](h)
    if kind == "mse":
        return ((h - target) ** 2).mean()
    z = h - h.value.max(axis=1, keepdims=True)  # a constant shift: softmax is unchanged
    log_p = z - ad.log(ad.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(target)), target].mean()


def problem(seed, kind, n=7, sizes=(3, 5, 4, 2)):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    target = rng.normal(size=(n, sizes[-1])) if kind == "mse" else rng.integers(0, sizes[-1], n)
    return X, target


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from(["tanh", "sigmoid", "relu"]),
    st.sampled_from(["mse", "xent"]),
)
def test_hand_backprop_equals_autodiff(seed, activation, kind):
    X, target = problem(seed, kind)
    net = MLP([3, 5, 4, 2], activation=activation, rng=seed)
    loss = MSELoss() if kind == "mse" else SoftmaxCrossEntropy()
    value, grads = net.loss_and_gradients(X, target, loss)
    params = [ad.Tensor(p) for p in net.parameters()]
    Xt = ad.Tensor(X)
    L = autodiff_loss(params, Xt, target, activation, kind)
    L.backward()
    assert abs(value - float(L.value)) <= 1e-12 * abs(value)
    for g_hand, p in zip(grads, params, strict=True):
        scale = max(np.max(np.abs(p.grad)), 1e-300)
        assert np.max(np.abs(g_hand - p.grad)) <= 1e-12 * scale
    # dL/dx, returned by backward(), matches too.
    dx = net.backward(loss.backward())
    np.testing.assert_allclose(dx, Xt.grad, rtol=1e-12, atol=1e-15 * np.max(np.abs(dx)))


@pytest.mark.parametrize("kind", ["mse", "xent"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_hand_backprop_equals_finite_differences(activation, kind):
    X, target = problem(3, kind)
    net = MLP([3, 5, 4, 2], activation=activation, rng=1)
    loss = MSELoss() if kind == "mse" else SoftmaxCrossEntropy()
    _, grads = net.loss_and_gradients(X, target, loss)
    grads = [g.copy() for g in grads]
    for p, g in zip(net.parameters(), grads, strict=True):
        fd = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            h = 1e-5 * max(1.0, abs(old))
            p[i] = old + h
            up = loss.forward(net.forward(X), target)
            p[i] = old - h
            down = loss.forward(net.forward(X), target)
            p[i] = old
            fd[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_layers_against_closed_forms():
    x = np.array([[-2.0, 0.0, 3.0]])
    g = np.array([[1.0, 2.0, 3.0]])
    t, s, r = Tanh(), Sigmoid(), ReLU()
    np.testing.assert_allclose(t.forward(x), np.tanh(x))
    np.testing.assert_allclose(t.backward(g), g / np.cosh(x) ** 2, rtol=1e-14)
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(s.forward(x), sig, rtol=1e-15)
    np.testing.assert_allclose(s.backward(g), g * np.exp(-x) / (1 + np.exp(-x)) ** 2, rtol=1e-14)
    np.testing.assert_array_equal(r.forward(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(r.backward(g), [[0.0, 0.0, 3.0]])
    d = Dense(3, 2, rng=np.random.default_rng(0), gain=2.0)
    np.testing.assert_allclose(d.forward(x), x @ d.W + d.b)
    d.backward(np.array([[1.0, -1.0]]))
    np.testing.assert_allclose(d.dW, x.T @ np.array([[1.0, -1.0]]))


def test_initialisation_is_seeded_and_scaled():
    a, b = MLP([4, 50, 3], rng=7), MLP([4, 50, 3], rng=7)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(MLP([4, 50, 3], rng=8).parameters()[0], a.parameters()[0])
    # rng as numpy.random.default_rng takes it: a Generator, or None for fresh entropy
    g = MLP([4, 50, 3], rng=np.random.default_rng(7))
    np.testing.assert_array_equal(g.parameters()[0], a.parameters()[0])
    fresh = [MLP([4, 50, 3]).parameters()[0] for _ in range(2)]
    assert not np.array_equal(fresh[0], fresh[1])
    X0, _ = two_moons(20, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(X0, two_moons(20, rng=5)[0])
    big = MLP([400, 300], rng=0, gain=2.0).parameters()[0]
    assert abs(big.std() - 2.0 / np.sqrt(400)) < 0.005
    assert [type(layer).__name__ for layer in MLP([2, 3, 3, 1], activation="relu").layers] == [
        "Dense",
        "ReLU",
        "Dense",
        "ReLU",
        "Dense",
    ]


def test_training_on_two_moons_reaches_high_accuracy():
    X, y = two_moons(200, noise=0.1, rng=0)
    net = MLP([2, 16, 16, 2], rng=0)
    res = sgd(net, X, y, SoftmaxCrossEntropy(), lr=0.5, epochs=400, rng=0)
    assert isinstance(res, TrainResult) and res.nit == 400 and res.fun == res.losses[-1]
    accuracy = np.mean(net.forward(X).argmax(axis=1) == y)
    assert accuracy >= 0.95
    assert res.losses[-1] < 0.1 * res.losses[0]
    # Deterministic: the same seeds give the same losses, mini-batches included.
    runs = [
        sgd(
            MLP([2, 8, 2], rng=1),
            X,
            y,
            SoftmaxCrossEntropy(),
            lr=0.2,
            epochs=5,
            batch_size=32,
            rng=np.random.default_rng(4),
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    assert runs[0].nit == 5 * 7


def test_regression_with_mse_decreases_loss():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(64, 1))
    Y = np.sin(X)
    net = MLP([1, 16, 1], rng=0)
    before = MSELoss().forward(net.forward(X), Y)
    res = sgd(net, X, Y, MSELoss(), lr=0.1, epochs=300, batch_size=16, rng=0)
    assert res.losses[-1] < min(0.01, 0.05 * before)


def test_two_moons_shape_labels_and_noise():
    X, y = two_moons(101, noise=0.0, rng=3)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)


def test_bad_input():
    for sizes in ([2, 0, 1], [2, -3]):
        with pytest.raises(ValueError, match="`sizes` must be >= 1"):
            MLP(sizes)
    for sizes in ([2, 2.5, 1], [2, True]):
        with pytest.raises(TypeError, match=r"`sizes` must be an integer, got (float|bool)"):
            MLP(sizes)
    with pytest.raises(ValueError, match=r"`sizes` must list at least two layer widths, got \[2\]"):
        MLP([2])
    for sizes in ("23", 5):
        with pytest.raises(TypeError, match="`sizes` must be a sequence of integers"):
            MLP(sizes)
    with pytest.raises(ValueError, match="`n_in` must be >= 1, got 0"):
        Dense(0, 2, rng=0)
    with pytest.raises(TypeError, match="`n_out` must be an integer, got float"):
        Dense(2, 2.0, rng=0)
    with pytest.raises(ValueError, match="`activation` must be one of"):
        MLP([2, 2], activation="softsign")
    with pytest.raises(ValueError, match="`gain` must be positive"):
        MLP([2, 2], gain=0.0)
    with pytest.raises(TypeError, match="`rng` must be None, an integer seed or a numpy"):
        MLP([2, 2], rng="seed")
    net = MLP([2, 3, 2], rng=0)
    with pytest.raises(ValueError, match=r"shape \(batch, 2\), got \(4,\)"):
        net.forward(np.ones(4))
    with pytest.raises(ValueError, match="`target` has shape"):
        MSELoss().forward(np.ones((3, 1)), np.ones(3))
    with pytest.raises(
        TypeError, match="`labels` must be integer class indices, got dtype float64"
    ):
        SoftmaxCrossEntropy().forward(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"`labels` must be 3 class indices, got shape \(2,\)"):
        SoftmaxCrossEntropy().forward(np.ones((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        SoftmaxCrossEntropy().forward(np.ones((3, 2)), np.array([0, 2, 1]))
    X, y = two_moons(10, rng=0)
    with pytest.raises(TypeError, match="`model` must be an MLP"):
        sgd("net", X, y, SoftmaxCrossEntropy())
    with pytest.raises(ValueError, match="10 rows but `target` has 9"):
        sgd(net, X, y[:9], SoftmaxCrossEntropy())
    with pytest.raises(ValueError, match="`lr` must be positive"):
        sgd(net, X, y, SoftmaxCrossEntropy(), lr=-1.0)
    with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
        sgd(net, X, y, SoftmaxCrossEntropy(), batch_size=0)
    with pytest.raises(ValueError, match=r"`rng` is not a valid seed"):
        sgd(net, X, y, SoftmaxCrossEntropy(), rng=-2)
    with pytest.raises(ValueError, match=r"`noise` must be >= 0, got -0\.1"):
        two_moons(10, noise=-0.1)
    with pytest.raises(TypeError, match="`noise` must be a real number, got str"):
        two_moons(10, noise="none")

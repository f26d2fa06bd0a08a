"""Tests of calcml.testing.check_grad: it passes correct gradients and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der

from calcml.testing import check_grad


def _loss(w):
    # A smooth loss: logistic regression on fixed data.
    X = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [-2.0, 0.3, 0.1], [1.5, 1.5, 1.5]])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    z = X @ w
    return float(np.mean(np.logaddexp(0, z) - t * z))


def _loss_grad(w):
    X = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [-2.0, 0.3, 0.1], [1.5, 1.5, 1.5]])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    s = 1 / (1 + np.exp(-(X @ w)))
    return X.T @ (s - t) / len(t)


@given(st.lists(st.floats(-2, 2), min_size=2, max_size=6), st.integers(0, 2**32 - 1))
@settings(max_examples=40)
def test_correct_gradient_passes(xs, seed):
    assert check_grad(rosen, rosen_der, np.array(xs), rng=seed) <= 1e-6


@given(st.lists(st.floats(-2, 2), min_size=3, max_size=3), st.integers(0, 2**32 - 1))
@settings(max_examples=40)
def test_logistic_regression_gradient_passes(ws, seed):
    assert check_grad(_loss, _loss_grad, np.array(ws), rng=np.random.default_rng(seed)) <= 1e-6


@pytest.mark.parametrize("seed", range(20))
def test_wrong_by_a_tenth_of_a_percent_is_detected(seed):
    # Test the tester: a gradient off by 0.1%, scaled or pushed in a random direction.
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, 5)
    assert check_grad(rosen, lambda v: 1.001 * rosen_der(v), x, rng=seed) > 1e-4
    w = rng.standard_normal(5)
    w /= np.linalg.norm(w)

    def off_by_a_tenth_of_a_percent(v):
        g = rosen_der(v)
        return g + 1e-3 * np.linalg.norm(g) * w

    assert check_grad(rosen, off_by_a_tenth_of_a_percent, x, rng=seed) > 1e-6


def test_wrong_sign_or_transposed_gradient():
    x = np.array([0.3, -0.8, 1.2])
    assert check_grad(rosen, lambda v: -rosen_der(v), x, rng=0) > 1.9
    assert check_grad(rosen, lambda v: rosen_der(v)[::-1], x, rng=0) > 1e-2


def test_stationary_point_is_not_a_false_alarm():
    # At the minimum both slopes are round-off; the floor keeps the error small.
    assert check_grad(rosen, rosen_der, np.ones(4), rng=0) <= 1e-6
    assert check_grad(lambda v: 1e3 + v @ v, lambda v: 2 * v, np.zeros(3), rng=0) <= 1e-6
    # ... but a nonzero claimed gradient there is caught.
    assert check_grad(lambda v: v @ v, lambda v: 2 * v + 1e-3, np.zeros(3), rng=0) > 1e-2


def test_rng_fixes_the_direction_and_matrix_shapes_work():
    # The oracle: the relative error along u, the direction rng draws, computed here in
    # closed form from a gradient that is wrong by a known matrix E.
    W = np.arange(6.0).reshape(2, 3) / 7
    f = lambda m: float(np.sum(np.sin(m) * m))  # noqa: E731
    g = lambda m: np.cos(m) * m + np.sin(m)  # noqa: E731
    E = np.array([[1e-3, 0.0, -2e-3], [0.0, 5e-4, 0.0]])
    for seed in (0, 1, 2):
        u = np.random.default_rng(seed).standard_normal(W.shape)
        u /= np.linalg.norm(u)
        claimed, exact = np.sum((g(W) + E) * u), np.sum(g(W) * u)
        expected = abs(claimed - exact) / max(abs(claimed), abs(exact))
        got = check_grad(f, lambda m: g(m) + E, W, rng=seed)
        assert got == pytest.approx(expected, rel=1e-6)
        assert check_grad(f, lambda m: g(m) + E, W, rng=np.random.default_rng(seed)) == got
    assert check_grad(f, g, W, rng=0) <= 1e-10


def test_bad_input():
    with pytest.raises(TypeError, match="`f` must be callable"):
        check_grad(None, rosen_der, [1.0, 2.0])
    with pytest.raises(TypeError, match="`grad` must be callable"):
        check_grad(rosen, rosen_der(np.ones(2)), [1.0, 2.0])
    with pytest.raises(ValueError, match="`x` must be finite"):
        check_grad(rosen, rosen_der, [np.nan, 2.0])
    with pytest.raises(ValueError, match="`x` must not be empty"):
        check_grad(rosen, rosen_der, [])
    with pytest.raises(TypeError, match=r"`rng` must be None, an integer seed or a numpy\.random"):
        check_grad(rosen, rosen_der, [1.0, 2.0], rng=0.5)
    with pytest.raises(TypeError, match=r"`rng` must be None, an integer seed or a numpy\.random"):
        check_grad(rosen, rosen_der, [1.0, 2.0], rng=True)
    with pytest.raises(ValueError, match=r"`grad` must return shape \(2,\), got shape \(3,\)"):
        check_grad(rosen, lambda v: np.ones(3), [1.0, 2.0])
    with pytest.raises(ValueError, match="`grad` returned non-finite values"):
        check_grad(rosen, lambda v: v * np.inf, [1.0, 2.0])
    with pytest.raises(TypeError, match="`grad` must return real numbers, got dtype complex"):
        check_grad(rosen, lambda v: v + 1j, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`f` must return a scalar, got shape \(2,\)"):
        check_grad(lambda v: v, rosen_der, [1.0, 2.0])

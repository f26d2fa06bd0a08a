"""Tests of calcml.differentiate against closed forms, SciPy's Rosenbrock oracles and orders."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der, rosen_hess

from calcml import autodiff as ad
from calcml.differentiate import (
    METHODS,
    ErrorVsStep,
    default_step,
    derivative,
    directional_derivative,
    error_vs_step,
    gradient,
    hessian,
    jacobian,
)

EPS = np.finfo(float).eps


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# f, exact f' (written to avoid cancellation, so the oracle is accurate), domain.
BATTERY = {
    "exp": (np.exp, np.exp, (-10, 10)),
    "sin": (np.sin, np.cos, (-10, 10)),
    "log": (np.log, lambda x: 1 / x, (0.5, 10)),
    "sigmoid": (_sigmoid, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, (-10, 10)),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2, (-10, 10)),
    "cubic": (lambda x: x**3 - 2 * x + 1, lambda x: 3 * x**2 - 2, (-10, 10)),
    "quintic": (
        lambda x: x**5 - 3 * x**3 + 2 * x - 1,
        lambda x: 5 * x**4 - 9 * x**2 + 2,
        (-10, 10),
    ),
}

# The bars of the issue: relative error |err| / max(|f'(x)|, 1) at the default step.
BARS = {"forward": 1e-6, "backward": 1e-6, "central": 1e-9, "five_point": 1e-10, "complex": 1e-14}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(BATTERY))
def test_battery_accuracy_at_default_step(name, method):
    f, df, (lo, hi) = BATTERY[name]
    x = np.linspace(lo, hi, 801)
    exact = df(x)
    err = np.abs(derivative(f, x, method=method) - exact)
    assert np.all(err <= BARS[method] * np.maximum(np.abs(exact), 1.0))


@pytest.mark.parametrize("method", ["central", "five_point", "complex"])
def test_plain_relative_error_where_derivative_is_large(method):
    # Where |f'| >= 0.1 the bar holds as a plain relative error too. (Not for the
    # quintic: near its critical points the truncation error f'''(x) h**2 / 6 ~ 7e-10
    # is not small next to f'; the mixed bar above covers it.)
    for name, (f, df, (lo, hi)) in BATTERY.items():
        if name == "quintic":
            continue
        x = np.linspace(lo, hi, 401)
        exact = df(x)
        keep = np.abs(exact) >= 0.1
        rel = np.abs(derivative(f, x[keep], method=method) / exact[keep] - 1)
        assert rel.max() <= BARS[method]


@pytest.mark.parametrize(
    ("method", "order"), [("forward", 1), ("backward", 1), ("central", 2), ("five_point", 4)]
)
def test_order_of_convergence(method, order):
    # In the truncation regime the log-log slope of error against step is the order.
    steps = np.geomspace(2e-2, 2e-1, 6) if order == 4 else np.geomspace(1e-3, 1e-1, 6)
    res = error_vs_step(np.exp, 0.5, math.exp(0.5), steps, method=method)
    slope = np.polyfit(np.log(res.steps), np.log(res.errors), 1)[0]
    assert abs(slope - order) < 0.1


def test_error_vs_step_u_curve():
    steps = np.geomspace(1e-14, 1e-1, 40)
    res = error_vs_step(np.sin, 1.0, math.cos(1.0), steps, method="central")
    assert isinstance(res, ErrorVsStep)
    assert res.steps.shape == res.errors.shape == (40,)
    # Round-off dominates at the left end, truncation at the right: a U shape.
    assert res.errors[0] > 1e3 * res.best_error
    assert res.errors[-1] > 1e3 * res.best_error
    # The best step is near eps**(1/3) (within a factor of 10).
    assert 0.1 < res.best_step / EPS ** (1 / 3) < 10
    assert res.best_error == res.errors.min()
    # Steps are exact: (x + h) - x == h.
    assert np.all((1.0 + res.steps) - 1.0 == res.steps)


def test_default_step_values_and_exactness():
    assert default_step("central", 0.0) == pytest.approx(EPS ** (1 / 3), rel=1e-12)
    assert default_step("forward", 0.0) == pytest.approx(EPS**0.5, rel=1e-12)
    assert default_step("five_point", 0.0) == pytest.approx(0.5 * EPS**0.2, rel=1e-12)
    assert default_step("complex", -3.0) == pytest.approx(3e-20)
    x = np.array([0.1, -7.3, 1e5])
    h = default_step("central", x)
    assert h.shape == x.shape
    assert np.all((x + h) - x == h)
    # Scaled to max(1, |x|).
    assert h[2] / h[0] == pytest.approx(1e5, rel=1e-6)
    assert isinstance(default_step("backward", 2.0), float)


def test_derivative_shapes_and_types():
    assert isinstance(derivative(np.sin, 1.0), float)
    x = np.linspace(0, 1, 6).reshape(2, 3)
    d = derivative(np.sin, x)
    assert d.shape == (2, 3)
    np.testing.assert_allclose(d, np.cos(x), rtol=1e-9)
    # Integer input is accepted.
    assert derivative(lambda t: t**2, 3) == pytest.approx(6.0, rel=1e-9)
    # A scalar-only function works at a scalar point.
    assert derivative(math.sin, 0.3) == pytest.approx(math.cos(0.3), rel=1e-9)


def test_user_step():
    d = derivative(np.exp, 0.0, method="forward", step=1e-3)
    assert d == pytest.approx((math.exp(1e-3) - 1) / 1e-3, rel=1e-12)
    assert derivative(np.exp, 0.0, method="complex", step=1e-30) == pytest.approx(1.0, rel=1e-15)


@given(st.floats(-5, 5), st.floats(-2, 2), st.floats(-2, 2))
@settings(max_examples=30)
def test_quadratic_central_is_exact_up_to_roundoff(x, a, b):
    # Central differences are exact for quadratics: only round-off remains.
    d = derivative(lambda t: a * t**2 + b * t, x)
    assert abs(d - (2 * a * x + b)) <= 1e-8 * (1 + abs(a * x) + abs(b))


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=5))
@settings(max_examples=30)
def test_gradient_matches_closed_form(xs):
    x = np.array(xs)
    f = lambda v: np.sum(np.sin(v) * v**2)  # noqa: E731
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    for method in ("central", "five_point", "complex"):
        np.testing.assert_allclose(gradient(f, x, method=method), exact, rtol=0, atol=1e-8)


@pytest.mark.parametrize("method", METHODS)
def test_gradient_rosenbrock(method):
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.uniform(-2, 2, 4)
        g = gradient(rosen, x, method=method)
        ref = rosen_der(x)
        assert np.max(np.abs(g - ref)) <= BARS[method] * 1e2 * np.max(np.abs(ref))


def test_gradient_keeps_shape():
    w = np.arange(6.0).reshape(2, 3) / 10
    g = gradient(lambda m: np.sum(m**3), w)
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g, 3 * w**2, atol=1e-9)
    # A size-1 array output counts as a scalar.
    assert gradient(lambda v: np.array([v @ v]), [1.0, 2.0]) == pytest.approx([2.0, 4.0])


@pytest.mark.parametrize("method", METHODS)
def test_jacobian_against_closed_form(method):
    f = lambda x: np.array([x[0] * x[1] ** 2, np.exp(x[0]), np.sin(x[1]) + x[2]])  # noqa: E731
    x = np.array([0.7, -1.2, 0.3])
    exact = np.array(
        [[x[1] ** 2, 2 * x[0] * x[1], 0.0], [np.exp(x[0]), 0.0, 0.0], [0.0, np.cos(x[1]), 1.0]]
    )
    J = jacobian(f, x, method=method)
    assert J.shape == (3, 3)
    np.testing.assert_allclose(J, exact, atol=100 * BARS[method])


def test_jacobian_shapes():
    J = jacobian(lambda x: np.outer(x, x), [1.0, 2.0])  # f(x).shape + x.shape
    assert J.shape == (2, 2, 2)
    np.testing.assert_allclose(J[0, 1], [2.0, 1.0], atol=1e-9)  # d(x0 x1)/dx
    # Scalar input and scalar output give a float (the package's scalar rule).
    assert type(jacobian(np.sin, 0.0)) is float and type(hessian(np.sin, 0.5)) is float
    assert hessian(np.sin, 0.5) == pytest.approx(-np.sin(0.5), rel=1e-7)
    # A scalar f gives the gradient.
    np.testing.assert_allclose(jacobian(np.sum, np.ones((2, 3))), np.ones((2, 3)), atol=1e-9)
    assert jacobian(lambda x: x[:0], [1.0, 2.0]).shape == (0, 2)
    assert jacobian(lambda x: x * 2, np.zeros((0, 3))).shape == (0, 3, 0, 3)


# Matrix-shaped x: JAX's convention, checked against calcml.autodiff and closed forms.
X23 = np.array([[0.3, -1.2, 0.5], [0.8, 0.1, -0.4]])


def test_hessian_of_a_matrix_argument_matches_autodiff():
    def fd(X):
        return np.sum(np.sin(X) * X**2) + np.sum(X[0] * X[1]) ** 2

    def fa(X):
        return (ad.sin(X) * X**2).sum() + ((X[0] * X[1]).sum()) ** 2

    H_fd = hessian(fd, X23)
    H_ad = ad.hessian(fa)(X23)
    assert H_fd.shape == H_ad.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(H_fd, H_ad, rtol=1e-6, atol=1e-6)
    flat = H_fd.reshape(6, 6)
    assert np.array_equal(flat, flat.T)


def test_jacobian_of_a_matrix_function_matches_autodiff_and_the_closed_form():
    A = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]])  # (3, 2)
    J = jacobian(lambda X: X @ A, X23, method="complex")  # (2, 2) + (2, 3)
    assert J.shape == (2, 2, 2, 3)
    # d(XA)_ij / dX_kl = delta_ik A_lj
    closed = np.einsum("ik,lj->ijkl", np.eye(2), A)
    np.testing.assert_allclose(J, closed, atol=1e-14)
    np.testing.assert_allclose(J, ad.jacobian(lambda X: X @ A)(X23), atol=1e-14)
    S = np.array([[1.0, 0.2], [-0.3, 2.0]])
    JS = jacobian(lambda X: X @ X, S, method="five_point")  # d(XX)_ij/dX_kl = d_ik X_lj + X_ik d_jl
    closed = np.einsum("ik,lj->ijkl", np.eye(2), S) + np.einsum("ik,jl->ijkl", S, np.eye(2))
    np.testing.assert_allclose(JS, closed, atol=1e-11)


def test_matrix_calculus_identities():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((3, 3))
    X = rng.standard_normal((3, 3)) + 3 * np.eye(3)  # det X > 0
    # grad tr(A X) = A^T
    np.testing.assert_allclose(gradient(lambda Y: np.trace(A @ Y), X), A.T, atol=1e-10)
    # grad log det X = X^{-T}
    g = gradient(lambda Y: np.linalg.slogdet(Y)[1], X, method="five_point")
    np.testing.assert_allclose(g, np.linalg.inv(X).T, rtol=1e-10, atol=1e-11)
    # Hessian of tr(X^T B X) with B symmetric: 2 B_ik delta_jl
    B = np.array([[2.0, 0.5], [0.5, 1.0]])
    H = hessian(lambda Y: np.trace(Y.T @ B @ Y), X23)
    np.testing.assert_allclose(H, 2 * np.einsum("ik,jl->ijkl", B, np.eye(3)), atol=1e-6)


def test_jacobian_of_gradient_is_hessian():
    x = np.array([0.3, -0.4, 1.1])
    J = jacobian(rosen_der, x, method="complex")
    np.testing.assert_allclose(J, rosen_hess(x), rtol=1e-13, atol=1e-12)


def test_hessian_from_function_values():
    rng = np.random.default_rng(2)
    for n in (2, 3, 5):
        for _ in range(4):
            x = rng.uniform(-2, 2, n)
            H = hessian(rosen, x)
            ref = rosen_hess(x)
            assert np.array_equal(H, H.T)
            assert np.max(np.abs(H - ref)) <= 1e-6 * np.max(np.abs(ref))


@pytest.mark.parametrize("x0", [-10.0, -1.0, 0.0, 2.5, 10.0])
def test_hessian_battery_one_dimension(x0):
    for name in ("exp", "sin", "tanh", "cubic"):
        f, _, _ = BATTERY[name]
        second = {
            "exp": np.exp,
            "sin": lambda t: -np.sin(t),
            "tanh": lambda t: -2 * np.tanh(t) / np.cosh(t) ** 2,
            "cubic": lambda t: 6 * t,
        }[name]
        H = hessian(lambda v, f=f: f(v[0]), [x0])
        exact = second(x0)
        assert abs(H[0, 0] - exact) <= 1e-6 * max(abs(exact), 1.0)


def test_hessian_with_step():
    H = hessian(lambda v: v[0] ** 2 * v[1], [1.0, 2.0], step=1e-3)
    np.testing.assert_allclose(H, [[4.0, 2.0], [2.0, 0.0]], atol=1e-6)


def test_directional_derivative_equals_gradient_dot_v():
    rng = np.random.default_rng(3)
    x = rng.normal(size=4)
    g = rosen_der(x)
    for _ in range(10):
        v = rng.normal(size=4)
        for method in ("central", "five_point", "complex"):
            d = directional_derivative(rosen, x, v, method=method)
            assert d == pytest.approx(g @ v, rel=1e-7, abs=1e-7)
    assert directional_derivative(rosen, x, v, step=1e-5) == pytest.approx(g @ v, rel=1e-6)


def test_directional_derivative_large_x():
    x = np.array([1e3, -2e3])
    f = lambda v: v[0] ** 2 + v[1]  # noqa: E731
    assert directional_derivative(f, x, [1.0, 1.0]) == pytest.approx(2001.0, rel=1e-9)


# ---- bad input ------------------------------------------------------------------


@pytest.mark.parametrize("func", [derivative, gradient, jacobian, hessian])
def test_f_not_callable(func):
    with pytest.raises(TypeError, match="`f` must be callable"):
        func(3.0, 1.0)


def test_f_not_callable_other_functions():
    with pytest.raises(TypeError, match="`f` must be callable"):
        directional_derivative("sin", [1.0], [1.0])
    with pytest.raises(TypeError, match="`f` must be callable"):
        error_vs_step(None, 1.0, 1.0, [1e-3])


@pytest.mark.parametrize("bad", [np.nan, np.inf, [1.0, -np.inf]])
@pytest.mark.parametrize("func", [derivative, gradient, jacobian, hessian])
def test_nonfinite_x(func, bad):
    with pytest.raises(ValueError, match="`x` must be finite"):
        func(np.sin, bad)


def test_nonfinite_x_other_functions():
    with pytest.raises(ValueError, match="`x` must be finite"):
        default_step("central", np.nan)
    with pytest.raises(ValueError, match="`x` must be finite"):
        directional_derivative(np.sum, [np.nan], [1.0])
    with pytest.raises(ValueError, match="`v` must be finite"):
        directional_derivative(np.sum, [1.0], [np.inf])
    with pytest.raises(ValueError, match="`x` must be finite"):
        error_vs_step(np.sin, np.inf, 1.0, [1e-3])
    with pytest.raises(ValueError, match="`exact` must be finite"):
        error_vs_step(np.sin, 1.0, np.nan, [1e-3])
    with pytest.raises(ValueError, match="`steps` must be finite"):
        error_vs_step(np.sin, 1.0, 1.0, [np.nan])


@pytest.mark.parametrize("step", [0.0, -1e-3, np.nan, np.inf])
def test_bad_step_value(step):
    with pytest.raises(ValueError, match="`step` must be"):
        derivative(np.sin, 1.0, step=step)
    with pytest.raises(ValueError, match="`step` must be"):
        hessian(rosen, [1.0, 2.0], step=step)
    with pytest.raises(ValueError, match="`step` must be"):
        directional_derivative(rosen, [1.0, 2.0], [1.0, 0.0], step=step)


def test_step_not_a_number():
    with pytest.raises(TypeError, match="`step` must be a real number"):
        gradient(rosen, [1.0, 2.0], step="small")


def test_step_too_small_for_x():
    with pytest.raises(ValueError, match=r"`step` = 1e-20 is too small for `x`"):
        derivative(np.sin, 1.0, step=1e-20)
    with pytest.raises(ValueError, match="too small for `x`"):
        gradient(rosen, [1e6, 1.0], step=1e-12)
    with pytest.raises(ValueError, match="too small for `x`"):
        error_vs_step(np.sin, 1.0, math.cos(1.0), [1e-3, 1e-17])
    # The complex step has no cancellation: a tiny step is fine.
    assert derivative(np.sin, 1.0, method="complex", step=1e-20) == pytest.approx(math.cos(1.0))


def test_unknown_method_lists_valid_ones():
    msg = "`method` must be one of 'forward', 'backward', 'central', 'five_point', 'complex'"
    for call in (
        lambda: derivative(np.sin, 1.0, method="centre"),
        lambda: gradient(rosen, [1.0, 2.0], method="spline"),
        lambda: jacobian(np.sin, [1.0], method=None),
        lambda: directional_derivative(rosen, [1.0, 2.0], [1.0, 0.0], method="x"),
        lambda: default_step("richardson", 1.0),
        lambda: error_vs_step(np.sin, 1.0, 1.0, [1e-3], method=""),
    ):
        with pytest.raises(ValueError, match=msg):
            call()


@pytest.mark.parametrize(
    "g", [np.abs, np.real, lambda z: float(z) ** 2, abs, lambda z: z.real * 2.0]
)
def test_complex_step_rejects_functions_dropping_imaginary_part(g):
    with pytest.raises(ValueError, match="drops the imaginary part"):
        derivative(g, 1.5, method="complex")


def test_complex_step_detects_zero_imaginary_part():
    # Complex output but the imaginary part was thrown away along the way.
    g = lambda z: np.abs(z) + 0j  # noqa: E731
    with pytest.raises(ValueError, match="zero imaginary part where a central difference"):
        derivative(g, [0.5, 2.0], method="complex")
    with pytest.raises(ValueError, match="drops the imaginary part"):
        gradient(lambda v: np.sum(np.abs(v)) + 0j, [1.0, 2.0], method="complex")
    with pytest.raises(ValueError, match="drops the imaginary part"):
        jacobian(lambda v: np.abs(v), [1.0, 2.0], method="complex")
    with pytest.raises(ValueError, match="drops the imaginary part"):
        directional_derivative(lambda v: np.real(v @ v), [1.0, 2.0], [1.0, 0.0], method="complex")


def test_complex_step_allows_a_true_zero_derivative():
    # A constant has derivative 0: a zero imaginary part is then correct.
    assert derivative(lambda z: 0 * z + 3.0, 1.0, method="complex") == 0.0
    np.testing.assert_array_equal(
        gradient(lambda v: 0 * v[0] + 2.0, [1.0, 2.0], method="complex"), [0.0, 0.0]
    )


def test_f_returning_wrong_shape():
    with pytest.raises(ValueError, match=r"`f` must return shape \(3,\), got shape \(\)"):
        derivative(np.sum, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"`f` must return a scalar, got shape \(2,\)"):
        gradient(lambda v: v * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"got shape \(2,\)"):
        hessian(lambda v: v * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"got shape \(2,\)"):
        directional_derivative(lambda v: v * 2, [1.0, 2.0], [1.0, 0.0])
    calls = iter(range(100))
    with pytest.raises(ValueError, match=r"`f` must return shape \(2,\), got shape \(3,\)"):
        jacobian(lambda v: np.ones(2 if next(calls) == 0 else 3), [1.0, 2.0])


def test_f_returning_non_finite_values():
    with pytest.raises(ValueError, match="`f` returned a non-finite value"):
        derivative(np.log, 0.0)  # log(-h) is nan
    with pytest.raises(ValueError, match="non-finite value"):
        gradient(lambda v: np.log(v[0]), [0.0])
    with pytest.raises(ValueError, match="non-finite value"):
        hessian(lambda v: np.sqrt(v[0]), [0.0])
    with pytest.raises(ValueError, match="non-finite value"):
        jacobian(lambda v: np.array([np.inf, 1.0]), [0.0])


def test_f_returning_non_numbers():
    with pytest.raises(TypeError, match="`f` must return real numbers, got dtype <U1"):
        derivative(lambda t: "a", 1.0)
    with pytest.raises(TypeError, match="`f` must return real numbers, got dtype complex128"):
        derivative(lambda t: t + 1j, 1.0)
    with pytest.raises(TypeError, match="`f` must return real numbers, got dtype complex128"):
        gradient(lambda v: v[0] + 1j, [1.0])
    with pytest.raises(TypeError, match="`f` must return real numbers, got dtype object"):
        hessian(lambda v: None, [1.0])


def test_directional_derivative_bad_v():
    with pytest.raises(ValueError, match=r"`v` must have the shape of `x` \(2,\), got \(3,\)"):
        directional_derivative(rosen, [1.0, 2.0], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="`v` must be a nonzero direction"):
        directional_derivative(rosen, [1.0, 2.0], [0.0, 0.0])


def test_error_vs_step_bad_shapes():
    with pytest.raises(ValueError, match=r"`x` must be a scalar, got shape \(2,\)"):
        error_vs_step(np.sin, [1.0, 2.0], 1.0, [1e-3])
    with pytest.raises(ValueError, match=r"`exact` must be a scalar, got shape \(1,\)"):
        error_vs_step(np.sin, 1.0, [1.0], [1e-3])
    with pytest.raises(ValueError, match=r"`steps` must be a non-empty 1-D array"):
        error_vs_step(np.sin, 1.0, 1.0, [])
    with pytest.raises(ValueError, match=r"`steps` must be a non-empty 1-D array"):
        error_vs_step(np.sin, 1.0, 1.0, [[1e-3]])
    with pytest.raises(ValueError, match="`step` must be positive"):
        error_vs_step(np.sin, 1.0, 1.0, [1e-3, -1e-3])


def test_x_of_wrong_type():
    with pytest.raises(TypeError, match="`x` must contain real numbers"):
        derivative(np.sin, "1.0")
    with pytest.raises(TypeError, match="`x` must contain real numbers"):
        gradient(rosen, [1 + 1j, 2.0])


# Matrix calculus (book section sec-matrix-calculus): gradients of scalar functions of a
# matrix have the matrix's shape; Jacobians of matrix functions are f(X).shape + X.shape.
_RNG = np.random.default_rng(2024)
_A = _RNG.standard_normal((3, 3))
_X = _RNG.standard_normal((3, 3)) + 3 * np.eye(3)


@pytest.mark.parametrize(
    ("f", "closed_form"),
    [
        (lambda X: np.trace(_A @ X), lambda X: _A.T),
        (lambda X: np.trace(X.T @ _A @ X), lambda X: (_A + _A.T) @ X),
        (lambda X: np.linalg.slogdet(X)[1], lambda X: np.linalg.inv(X).T),
        (np.linalg.det, lambda X: np.linalg.det(X) * np.linalg.inv(X).T),
        (
            lambda X: np.trace(_A @ np.linalg.inv(X)),
            lambda X: -np.linalg.inv(X).T @ _A.T @ np.linalg.inv(X).T,
        ),
    ],
)
@pytest.mark.parametrize("method", ["central", "five_point"])
def test_matrix_gradient_identities(f, closed_form, method):
    G = gradient(f, _X, method=method)
    assert G.shape == _X.shape
    np.testing.assert_allclose(
        G, closed_form(_X), rtol=0, atol=1e-8 * np.abs(closed_form(_X)).max()
    )


_X_NEG = _X.copy()
_X_NEG[0] *= -1  # one row negated: det < 0


@pytest.mark.parametrize(
    ("f", "closed_form"),
    [
        (lambda X: np.linalg.slogdet(X)[1], lambda X: np.linalg.inv(X).T),
        (np.linalg.det, lambda X: np.linalg.det(X) * np.linalg.inv(X).T),
    ],
)
def test_log_abs_det_and_det_gradients_at_negative_determinant(f, closed_form):
    # Book rule 5 and exercise 9: d log|det X| / dX = X^-T also when det X < 0.
    assert np.linalg.det(_X_NEG) < 0
    G = gradient(f, _X_NEG)
    np.testing.assert_allclose(
        G, closed_form(_X_NEG), rtol=0, atol=1e-8 * np.abs(closed_form(_X_NEG)).max()
    )


def test_matrix_gradient_rectangular_matches_flattened():
    W = _RNG.standard_normal((2, 4))
    f = lambda M: float(np.sum(np.sin(M) * M))  # noqa: E731
    G = gradient(f, W)
    flat = gradient(lambda v: f(v.reshape(2, 4)), W.ravel())
    assert G.shape == (2, 4)
    np.testing.assert_array_equal(G, flat.reshape(2, 4))
    np.testing.assert_allclose(G, np.sin(W) + W * np.cos(W), atol=1e-9)


def test_jacobian_of_matrix_inverse_is_minus_inverse_dX_inverse():
    Xi = np.linalg.inv(_X)
    J = jacobian(np.linalg.inv, _X)
    assert J.shape == (3, 3, 3, 3)
    np.testing.assert_allclose(J, -np.einsum("ik,lj->ijkl", Xi, Xi), atol=1e-9)


def test_jacobian_of_matrix_product_against_kronecker():
    # d(AX)_ij / dX_kl = A_ik delta_jl
    J = jacobian(lambda X: _A @ X, _X)
    np.testing.assert_allclose(J, np.einsum("ik,jl->ijkl", _A, np.eye(3)), atol=1e-9)

"""Tests for calcml.curvature against closed forms, SymPy, SciPy and NumPy oracles."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der, rosen_hess
from scipy.stats import ortho_group

from calcml import autodiff as ad
from calcml.curvature import (
    EigenResult,
    MinimizeResult,
    classify_critical_point,
    condition_number,
    find_critical_points,
    gauss_newton,
    gradient_descent,
    hutchinson_trace,
    lagrange_newton,
    newton,
    top_eigenvalue,
)

X, Y = sp.symbols("x y")


def sympy_derivatives(expr):
    """f, grad and Hessian of a SymPy expression in x, y as NumPy callables."""
    variables = (X, Y)
    f = sp.lambdify(variables, expr, "numpy")
    g = sp.lambdify(variables, [sp.diff(expr, v) for v in variables], "numpy")
    h = sp.lambdify(variables, sp.hessian(expr, variables), "numpy")
    return (
        lambda p: float(f(*p)),
        lambda p: np.array(g(*p), dtype=float),
        lambda p: np.array(h(*p), dtype=float),
    )


HIMMELBLAU = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (X**2 + Y**2, "minimum"),
        (-(X**2) - Y**2, "maximum"),
        (X**2 - Y**2, "saddle"),
        (X**3 - 3 * X * Y**2, "degenerate"),
        (X**2 + Y**4, "degenerate"),
        (X**2 - Y**4, "degenerate"),  # a saddle the second-order test cannot see
    ],
)
def test_classify_textbook_examples_at_origin(expr, expected):
    _, grad, hess = sympy_derivatives(expr)
    assert np.allclose(grad(np.zeros(2)), 0.0)
    assert classify_critical_point(hess(np.zeros(2))) == expected


@pytest.mark.parametrize("expr", [X**2 + Y**2, -(X**2) - Y**2, X**2 - Y**2])
def test_nondegenerate_quadratics_have_one_critical_point(expr):
    _, grad, hess = sympy_derivatives(expr)
    points = find_critical_points(grad, [[-3, 3], [-3, 3]], starts=10, rng=0, hess=hess)
    np.testing.assert_allclose(points, [[0.0, 0.0]], atol=1e-12)


def test_himmelblau_has_nine_critical_points():
    f, grad, hess = sympy_derivatives(HIMMELBLAU)
    points = find_critical_points(grad, [[-6, 6], [-6, 6]], starts=64, rng=1, hess=hess)
    assert points.shape == (9, 2)
    kinds = [classify_critical_point(hess(p)) for p in points]
    assert Counter(kinds) == {"minimum": 4, "maximum": 1, "saddle": 4}
    minima = points[[k == "minimum" for k in kinds]]
    np.testing.assert_allclose([f(p) for p in minima], 0.0, atol=1e-12)
    known = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    for m in known:
        assert np.min(np.linalg.norm(minima - np.array(m), axis=1)) < 1e-5
    (maximum,) = points[[k == "maximum" for k in kinds]]
    np.testing.assert_allclose(maximum, [-0.270845, -0.923039], atol=1e-6)
    # The points are sorted and distinct.
    assert np.all(np.diff(points[:, 0]) > 0)


def test_find_critical_points_is_reproducible_and_takes_explicit_starts():
    _, grad, _ = sympy_derivatives(HIMMELBLAU)
    bounds = [[-6, 6], [-6, 6]]
    a = find_critical_points(grad, bounds, starts=20, rng=0)
    b = find_critical_points(grad, bounds, starts=20, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)
    # a Generator is used as it is, not copied (SPEC 7): the call advances it
    gen = np.random.default_rng(0)
    find_critical_points(grad, bounds, starts=3, rng=gen)
    expected = np.random.default_rng(0)
    expected.random((3, 2))
    assert gen.random() == expected.random()
    one = find_critical_points(grad, bounds, starts=[[2.9, 2.1]])
    np.testing.assert_allclose(one, [[3.0, 2.0]], atol=1e-10)


def test_find_critical_points_keeps_only_points_inside_bounds():
    def grad(p):  # f = (x - 5)^2 + y^2, minimum outside the box
        return np.array([2 * (p[0] - 5), 2 * p[1]])

    points = find_critical_points(grad, [[-1, 1], [-1, 1]], starts=5, rng=0)
    assert points.shape == (0, 2)


def test_find_critical_points_skips_failed_roots():
    def grad(p):  # f = exp(x) + y^2 has no critical point at all
        return np.array([np.exp(p[0]), 2 * p[1]])

    assert find_critical_points(grad, [[-3, 3], [-3, 3]], starts=4, rng=0).shape == (0, 2)


def test_find_critical_points_never_calls_grad_at_non_finite_points():
    # From x = 2.5 the gradient is NaN, so MINPACK's next iterate is NaN. A gradient that
    # rejects non-finite input (as calcml.autodiff does) must not be called there.
    def grad(p):
        if not np.all(np.isfinite(p)):
            raise ValueError("non-finite input")
        with np.errstate(invalid="ignore"):
            return np.array([np.sqrt(2.0 - p[0]) - 1.0, p[1]])  # NaN for x > 2; root (1, 0)

    points = find_critical_points(grad, [[-3, 3], [-3, 3]], starts=[[2.5, 0.5], [0.0, 0.5]])
    np.testing.assert_allclose(points, [[1.0, 0.0]], atol=1e-10)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_rosen_hess_oracle(n):
    ones = np.ones(n)
    H = rosen_hess(ones)
    assert classify_critical_point(H) == "minimum"
    assert condition_number(H) == pytest.approx(np.linalg.cond(H), rel=1e-10)
    res = newton(rosen, np.full(n, 0.8), grad=rosen_der, hess=rosen_hess, damping=1e-3)
    assert res.success
    np.testing.assert_allclose(res.x, ones, atol=1e-10)


def test_newton_solves_rosenbrock_from_the_classic_start():
    res = newton(rosen, [-1.2, 1.0], grad=rosen_der, hess=rosen_hess, damping=1e-3)
    assert res.success and res.nit < 50
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-10)
    assert np.all(np.diff(res.values) <= 1e-12)  # the line search makes f decrease
    assert res.history.shape == (res.nit + 1, 2) and res.values.shape == (res.nit + 1,)


def test_newton_converges_quadratically_near_a_minimum():
    res = newton(rosen, [1.05, 1.1], grad=rosen_der, hess=rosen_hess, tol=1e-14)
    err = np.linalg.norm(res.history - 1.0, axis=1)
    err = err[err > 1e-13]
    orders = np.log(err[2:] / err[1:-1]) / np.log(err[1:-1] / err[:-2])
    assert len(orders) >= 1
    assert orders[-1] == pytest.approx(2.0, abs=0.25)


def test_newton_on_exp_converges_quadratically_in_one_dimension():
    # f = exp(x) - 2x has its minimum at log 2; e_{k+1} / e_k^2 -> f'''/(2 f'') = 1/2.
    res = newton(
        lambda x: np.exp(x[0]) - 2 * x[0],
        [1.5],
        grad=lambda x: np.exp(x) - 2,
        hess=lambda x: np.exp(x).reshape(1, 1),
        tol=1e-15,
    )
    err = np.abs(res.history[:, 0] - np.log(2))
    err = err[err > 1e-12]
    assert err[-1] / err[-2] ** 2 == pytest.approx(0.5, rel=0.05)


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_one_newton_step_solves_a_quadratic(seed, n):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    A = B @ B.T + n * np.eye(n)
    b = rng.standard_normal(n)
    res = newton(
        lambda x: 0.5 * x @ A @ x - b @ x,
        rng.standard_normal(n),
        grad=lambda x: A @ x - b,
        hess=lambda x: A,
        tol=1e-8,
    )
    assert res.success and res.nit == 1
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), rtol=1e-9, atol=1e-9)


def saddle_and_two_minima():
    # f = x^2 + y^4/4 - y^2/2: a saddle at the origin, minima at (0, +-1).
    return sympy_derivatives(X**2 + Y**4 / 4 - Y**2 / 2)


def test_pure_newton_is_attracted_to_a_saddle_and_damping_fixes_it():
    f, grad, hess = saddle_and_two_minima()
    pure = newton(f, [0.5, 0.3], grad=grad, hess=hess)
    assert pure.success
    assert classify_critical_point(hess(pure.x)) == "saddle"
    damped = newton(f, [0.5, 0.3], grad=grad, hess=hess, damping=1e-2)
    assert damped.success
    assert classify_critical_point(hess(damped.x)) == "minimum"
    np.testing.assert_allclose(np.abs(damped.x), [0.0, 1.0], atol=1e-10)


def test_pure_newton_on_a_singular_hessian_stops_with_a_message():
    f, grad, hess = sympy_derivatives(X**2 + Y**4)
    res = newton(f, [1.0, 0.0], grad=grad, hess=hess)
    assert not res.success and res.nit == 0
    assert "singular Hessian at iteration 0" in res.message and "damping" in res.message
    fixed = newton(f, [1.0, 0.0], grad=grad, hess=hess, damping=1e-3)
    assert fixed.success and fixed.nit <= 6
    np.testing.assert_allclose(fixed.x, 0.0, atol=1e-10)


def test_newton_iteration_count_is_bounded():
    f, grad, hess = sympy_derivatives(X**4 + Y**4)  # linear convergence only
    res = newton(f, [1.0, 1.0], grad=grad, hess=hess, maxiter=5)
    assert not res.success and res.nit == 5
    assert res.message == "maximum number of iterations (5) reached"


def test_newton_reports_a_failed_line_search_and_a_non_finite_hessian():
    res = newton(
        lambda x: x @ x,
        [1.0],
        grad=lambda x: -2 * x,  # the wrong sign: no step decreases f
        hess=lambda x: np.eye(1),
        damping=1.0,
    )
    assert not res.success and "line search failed at iteration 0" in res.message
    res = newton(lambda x: x @ x, [1.0], grad=lambda x: 2 * x, hess=lambda x: [[np.nan]])
    assert not res.success and res.message == "non-finite Hessian at iteration 0"


def test_damped_newton_trusts_the_step_when_f_cannot_resolve_the_decrease():
    # f = 1e8 + x^2 from 1e-5: the decrease 1e-10 is below the rounding of f(x) = 1e8.
    res = newton(
        lambda x: 1e8 + x @ x,
        [1e-5],
        grad=lambda x: 2 * x,
        hess=lambda x: 2 * np.eye(1),
        damping=1e-3,
        tol=1e-12,
    )
    assert res.success and res.nit == 1
    np.testing.assert_allclose(res.x, 0.0, atol=1e-12)


def rotated_quadratic(mu, L, n, seed):
    rng = np.random.default_rng(seed)
    Q = ortho_group.rvs(n, random_state=rng) if n > 1 else np.eye(1)
    eig = np.linspace(mu, L, n)
    return Q @ np.diag(eig) @ Q.T, rng.standard_normal(n)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 6),
    mu=st.floats(0.1, 2.0),
    kappa=st.floats(1.5, 200.0),
)
def test_gradient_descent_obeys_the_condition_number_bound(seed, n, mu, kappa):
    L = mu * kappa
    A, x0 = rotated_quadratic(mu, L, n, seed)
    assert condition_number(A) == pytest.approx(kappa, rel=1e-8)
    res = gradient_descent(
        lambda x: 0.5 * x @ A @ x, x0, grad=lambda x: A @ x, step=2 / (L + mu), maxiter=200
    )
    q = (kappa - 1) / (kappa + 1)
    err = np.linalg.norm(res.history, axis=1)
    bound = q ** np.arange(len(err)) * err[0]
    assert np.all(err <= bound * (1 + 1e-9) + 1e-14)


def test_gradient_descent_bound_is_attained():
    mu, L = 1.0, 50.0
    A = np.diag([mu, L])
    res = gradient_descent(
        lambda x: 0.5 * x @ A @ x, [1.0, 1.0], grad=lambda x: A @ x, step=2 / (L + mu)
    )
    q = (L / mu - 1) / (L / mu + 1)
    ratios = np.linalg.norm(res.history[1:], axis=1) / np.linalg.norm(res.history[:-1], axis=1)
    np.testing.assert_allclose(ratios, q, rtol=1e-9)


def test_gradient_descent_iterations_grow_like_kappa():
    counts = []
    for kappa in (10.0, 100.0, 1000.0):
        A = np.diag([1.0, kappa])
        res = gradient_descent(
            lambda x, A=A: 0.5 * x @ A @ x,
            [1.0, 1.0],
            grad=lambda x, A=A: A @ x,
            step=2 / (kappa + 1),
            tol=1e-8,
            maxiter=100_000,
        )
        assert res.success
        q = (kappa - 1) / (kappa + 1)
        g0 = np.linalg.norm(A @ [1.0, 1.0])
        predicted = np.log(1e-8 / g0) / np.log(q)  # |g_k| = q^k |g_0| here
        assert res.nit == pytest.approx(predicted, abs=2)
        counts.append(res.nit)
    assert counts[0] < counts[1] < counts[2]


def test_gradient_descent_divergence_and_maxiter_are_reported():
    res = gradient_descent(lambda x: x @ x, [1.0], grad=lambda x: 2 * x, step=3.0)
    assert not res.success and "diverged" in res.message and res.nit < 1000
    res = gradient_descent(lambda x: x @ x, [1.0], grad=lambda x: 2 * x, step=0.1, maxiter=3)
    assert not res.success and res.nit == 3
    assert res.message == "maximum number of iterations (3) reached"
    assert isinstance(res, MinimizeResult)
    with pytest.raises(AttributeError):
        res.nit = 4  # type: ignore[misc]


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 12))
def test_top_eigenvalue_matches_eigvalsh(seed, n):
    rng = np.random.default_rng(seed)
    Q = ortho_group.rvs(n, random_state=rng)
    eig = np.concatenate([rng.uniform(0, 7, n - 1), [10.0]])
    H = Q @ np.diag(eig) @ Q.T
    res = top_eigenvalue(lambda v: H @ v, n, rng=seed)
    assert isinstance(res, EigenResult) and res.success
    assert res.value == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-10)
    assert abs(res.vector @ Q[:, -1]) == pytest.approx(1.0, abs=1e-7)


def test_top_eigenvalue_finds_the_largest_magnitude_and_reports_non_convergence():
    H = np.diag([1.0, 2.0, -5.0])
    res = top_eigenvalue(lambda v: H @ v, 3, rng=0)
    assert res.success and res.value == pytest.approx(-5.0, rel=1e-12)
    slow = top_eigenvalue(lambda v: np.diag([1.0, 0.999]) @ v, 2, iters=3, rng=0)
    assert not slow.success and slow.nit == 3 and slow.residual > 0
    assert slow.message == "maximum number of products (3) reached"
    zero = top_eigenvalue(lambda v: 0 * v, 4, rng=0)
    assert zero.success and zero.value == 0.0 and zero.nit == 1


@settings(max_examples=40)
@given(
    signs=st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=1, max_size=5),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(1e-6, 1e6),
)
def test_classification_follows_eigenvalue_signs(signs, seed, scale):
    rng = np.random.default_rng(seed)
    n = len(signs)
    Q = ortho_group.rvs(n, random_state=rng) if n > 1 else np.eye(1)
    eig = np.array(signs) * rng.uniform(0.5, 2.0, n) * scale
    H = Q @ np.diag(eig) @ Q.T
    H = (H + H.T) / 2
    s = set(signs)
    if {-1.0, 1.0} <= s:
        expected = "saddle"
    elif 0.0 in s:
        expected = "degenerate"
    else:
        expected = "minimum" if s == {1.0} else "maximum"
    tol = 1e-9 * scale  # the rotation leaves rounding of size eps * scale on the zeros
    assert classify_critical_point(H, tol=tol) == expected
    assert classify_critical_point(-H, tol=tol) == {"minimum": "maximum", "maximum": "minimum"}.get(
        expected, expected
    )


def test_default_tolerance_scales_like_matrix_rank():
    H = np.diag([1.0, 1e-20])
    assert np.linalg.matrix_rank(H) == 1
    assert classify_critical_point(H) == "degenerate"
    assert classify_critical_point(np.diag([1.0, 1e-10])) == "minimum"
    assert classify_critical_point(np.diag([1.0, 1e-10]), tol=1e-8) == "degenerate"
    assert condition_number(np.diag([1.0, 0.0])) == np.inf


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("func", [classify_critical_point, condition_number])
@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], ValueError, r"square .* got shape \(2, 3\)"),
        ([1.0, 2.0], ValueError, r"got shape \(2,\)"),
        (np.zeros((0, 0)), ValueError, r"got shape \(0, 0\)"),
        ([[1.0, np.nan], [np.nan, 1.0]], ValueError, r"`hessian` must be finite; the \(2, 2\)"),
        ([[1.0, np.inf], [np.inf, 1.0]], ValueError, r"NaN or inf"),
        ([[1.0, 2.0], [0.0, 1.0]], ValueError, r"symmetric: max \|H - H.T\| = 2 exceeds"),
        ([["a", "b"], ["c", "d"]], TypeError, r"`hessian` must contain real numbers"),
        ([[1.0, 2.0], [3.0]], TypeError, r"`hessian` must be an array of numbers"),
    ],
)
def test_bad_hessians(func, bad, error, match):
    with pytest.raises(error, match=match):
        func(bad)


def test_small_asymmetry_is_tolerated():
    H = np.array([[2.0, 1.0], [1.0 + 1e-9, 3.0]])
    assert classify_critical_point(H) == "minimum"


@pytest.mark.parametrize(
    ("tol", "error", "match"),
    [(-1.0, ValueError, r"`tol` must be >= 0"), ("x", TypeError, r"`tol` must be a real")],
)
def test_bad_classification_tolerance(tol, error, match):
    with pytest.raises(error, match=match):
        classify_critical_point(np.eye(2), tol=tol)


def quad():
    return (lambda x: x @ x), (lambda x: 2 * x), (lambda x: 2 * np.eye(x.size))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"maxiter": 0}, ValueError, r"`maxiter` must be >= 1, got 0"),
        ({"maxiter": 2.5}, TypeError, r"`maxiter` must be an integer"),
        ({"tol": -1e-3}, ValueError, r"`tol` must be >= 0"),
        ({"damping": 0.0}, ValueError, r"`damping` must be positive or None"),
        ({"damping": np.nan}, ValueError, r"`damping` must be finite"),
        ({"x0": [[1.0, 2.0]]}, ValueError, r"`x0` must be a non-empty 1-D array"),
        ({"x0": [np.nan]}, ValueError, r"`x0` must be finite"),
        ({"f": 3}, TypeError, r"`f` must be callable"),
        ({"grad": None}, TypeError, r"`grad` must be callable"),
        ({"hess": "H"}, TypeError, r"`hess` must be callable"),
        ({"f": lambda x: x}, ValueError, r"`f` must return a scalar, got shape \(2,\)"),
        ({"f": lambda x: "one"}, TypeError, r"`f` must return real numbers, got dtype <U3"),
        ({"grad": lambda x: 2 * x[:1]}, ValueError, r"`grad` must return shape \(2,\), got"),
        ({"grad": lambda x: [None, 1]}, TypeError, r"`grad` must return real numbers"),
        ({"hess": lambda x: np.eye(3)}, ValueError, r"`hess` must return an array of shape"),
        (
            {"hess": lambda x: np.array([[2.0, 1.0], [0.0, 2.0]])},
            ValueError,
            r"`hess\(x\)` must be symmetric",
        ),
    ],
)
def test_newton_bad_input(kwargs, error, match):
    f, g, h = quad()
    args = {"f": f, "x0": [1.0, 2.0], "grad": g, "hess": h, **kwargs}
    with pytest.raises(error, match=match):
        newton(args.pop("f"), args.pop("x0"), **args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"step": 0.0}, ValueError, r"`step` must be positive"),
        ({"step": "big"}, TypeError, r"`step` must be a real number"),
        ({"maxiter": -3}, ValueError, r"`maxiter` must be >= 1"),
        ({"grad": lambda x: [1, 2, 3]}, ValueError, r"`grad` must return shape \(2,\)"),
    ],
)
def test_gradient_descent_bad_input(kwargs, error, match):
    f, g, _ = quad()
    args = {"grad": g, "step": 0.1, **kwargs}
    with pytest.raises(error, match=match):
        gradient_descent(f, [1.0, 2.0], **args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"bounds": [[-1, 1, 2]]}, ValueError, r"`bounds` must have shape \(n, 2\)"),
        ({"bounds": [[1, -1], [0, 1]]}, ValueError, r"`bounds` needs lower < upper"),
        ({"bounds": [[0, np.inf], [0, 1]]}, ValueError, r"`bounds` must be finite"),
        ({"starts": 0}, ValueError, r"`starts` must be >= 1"),
        ({"starts": [[0.0, 0.0, 0.0]]}, ValueError, r"`starts` must be an int or an \(m, 2\)"),
        ({"grad": 1.0}, TypeError, r"`grad` must be callable"),
        ({"hess": 1.0}, TypeError, r"`hess` must be callable"),
        ({"grad": lambda x: x[0]}, ValueError, r"`grad` must return shape \(2,\), got shape \(\)"),
        ({"rng": "seed"}, TypeError, r"`rng` must be None, an integer seed or a numpy"),
        ({"rng": True}, TypeError, r"`rng` must be None, an integer seed or a numpy"),
        ({"rng": -1}, ValueError, r"`rng` is not a valid seed"),
        ({"gtol": -1.0}, ValueError, r"`gtol` must be >= 0"),
    ],
)
def test_find_critical_points_bad_input(kwargs, error, match):
    args = {"grad": lambda x: 2 * x, "bounds": [[-1, 1], [-1, 1]], **kwargs}
    with pytest.raises(error, match=match):
        find_critical_points(args.pop("grad"), args.pop("bounds"), **args)


@pytest.mark.parametrize(
    ("hvp", "n", "kwargs", "error", "match"),
    [
        (lambda v: v, 0, {}, ValueError, r"`n` must be >= 1"),
        (lambda v: v, 2, {"iters": 0}, ValueError, r"`iters` must be >= 1"),
        (lambda v: v, 2, {"tol": -1.0}, ValueError, r"`tol` must be >= 0"),
        ("H", 2, {}, TypeError, r"`hvp` must be callable"),
        (lambda v: v[:1], 2, {}, ValueError, r"`hvp` must return shape \(2,\), got shape \(1,\)"),
        (lambda v: v, 2, {"rng": 1.5}, TypeError, r"`rng` must be None, an integer seed"),
        (lambda v: v * np.nan, 2, {}, ValueError, r"`hvp` returned non-finite values at product 1"),
    ],
)
def test_top_eigenvalue_bad_input(hvp, n, kwargs, error, match):
    with pytest.raises(error, match=match):
        top_eigenvalue(hvp, n, **kwargs)


# --- gauss_newton -----------------------------------------------------------------------


def test_gauss_newton_of_linear_least_squares_is_the_hessian():
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((12, 4)), rng.standard_normal(12)
    G = gauss_newton(lambda w: A @ w - b, rng.standard_normal(4))
    np.testing.assert_allclose(G, A.T @ A, rtol=1e-13)
    np.testing.assert_allclose(
        gauss_newton(lambda w: A @ w - b, np.zeros(4), reduction="mean"), A.T @ A / 12, rtol=1e-13
    )


def test_gauss_newton_of_logistic_regression_is_the_hessian():
    rng = np.random.default_rng(1)
    X, w = rng.standard_normal((30, 3)), rng.standard_normal(3)
    p = 1 / (1 + np.exp(-X @ w))
    hess = X.T @ (X * (p * (1 - p))[:, None])
    np.testing.assert_allclose(gauss_newton(lambda v: X @ v, w, loss="logistic"), hess, rtol=1e-12)
    # an explicit Jacobian gives the same matrix
    G = gauss_newton(lambda v: X @ v, w, loss="logistic", jac=lambda v: X)
    np.testing.assert_allclose(G, hess, rtol=1e-12)


def test_gauss_newton_of_poisson_regression_matches_sympy():
    a, b = sp.symbols("a b")
    ts, ys = [0.0, 0.5, 1.0, 2.0], [1, 0, 3, 2]
    z = [a + b * ti for ti in ts]  # log-rates, linear: Gauss-Newton = Hessian
    nll = sum(sp.exp(zi) - yi * zi for zi, yi in zip(z, ys, strict=True))
    H = np.array(sp.hessian(nll, (a, b)).subs({a: 0.3, b: -0.2}), dtype=float)
    T = np.column_stack([np.ones(4), ts])
    G = gauss_newton(lambda w: T @ w, [0.3, -0.2], loss="poisson")
    np.testing.assert_allclose(G, H, rtol=1e-12)


def test_gauss_newton_drops_exactly_the_residual_term():
    # r_i(w) = w0 exp(-w1 t_i) - y_i: Hessian = J^T J + sum_i r_i hess r_i (closed forms)
    t_obs = np.linspace(0, 2, 7)
    y_obs = 2 * np.exp(-1.3 * t_obs) + 0.1 * np.cos(5 * t_obs)
    w = np.array([1.7, 0.9])
    e = np.exp(-w[1] * t_obs)
    r = w[0] * e - y_obs
    J = np.column_stack([e, -w[0] * t_obs * e])
    second = [
        np.array([[0, -ti * ei], [-ti * ei, w[0] * ti**2 * ei]])
        for ti, ei in zip(t_obs, e, strict=True)
    ]
    residual_term = sum(ri * Si for ri, Si in zip(r, second, strict=True))
    H = ad.hessian(lambda v: 0.5 * ((v[0] * ad.exp(-v[1] * t_obs) - y_obs) ** 2).sum())(w)
    G = gauss_newton(lambda v: v[0] * ad.exp(-v[1] * t_obs) - y_obs, w)
    np.testing.assert_allclose(G, J.T @ J, rtol=1e-12)
    np.testing.assert_allclose(G + residual_term, H, rtol=1e-12)
    assert np.linalg.norm(H - G) > 1e-2  # the residual term is not small away from a fit


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 6), n=st.integers(1, 5))
def test_gauss_newton_is_positive_semidefinite_for_a_convex_loss(seed, m, n):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, n))
    G = gauss_newton(lambda v: ad.tanh(W @ v), rng.standard_normal(n), loss="logistic")
    assert np.array_equal(G, G.T)
    assert np.linalg.eigvalsh(G)[0] >= -1e-12 * max(1.0, np.abs(G).max())


def test_gauss_newton_accepts_a_loss_hessian():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 3))
    B = rng.standard_normal((5, 5))
    M = B @ B.T
    G = gauss_newton(lambda v: X @ v, np.ones(3), loss=lambda z: M)
    np.testing.assert_allclose(G, X.T @ M @ X, rtol=1e-12)
    d = np.arange(1.0, 6.0)
    G = gauss_newton(lambda v: X @ v, np.ones(3), loss=lambda z: d)
    np.testing.assert_allclose(G, X.T @ np.diag(d) @ X, rtol=1e-12)


def test_gauss_newton_rejects_bad_input():
    X = np.eye(3)
    with pytest.raises(TypeError, match="`outputs`"):
        gauss_newton("not callable", np.zeros(3))
    with pytest.raises(ValueError, match="`loss` must be one of"):
        gauss_newton(lambda v: X @ v, np.zeros(3), loss="hinge")
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        gauss_newton(lambda v: X @ v, np.zeros(3), reduction="max")
    with pytest.raises(ValueError, match="`w` must be one-dimensional"):
        gauss_newton(lambda v: v, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="`outputs` must return a finite one-dimensional"):
        gauss_newton(lambda v: np.outer(v, v), np.zeros(3))
    with pytest.raises(ValueError, match=r"`jac` must return a finite \(3, 3\)"):
        gauss_newton(lambda v: X @ v, np.zeros(3), jac=lambda v: np.eye(2))
    with pytest.raises(ValueError, match=r"`loss` must return a finite \(3,\) diagonal"):
        gauss_newton(lambda v: X @ v, np.zeros(3), loss=lambda z: np.ones(2))
    with pytest.raises(ValueError, match="asymmetric"):
        gauss_newton(lambda v: X @ v, np.zeros(3), loss=lambda z: np.triu(np.ones((3, 3))))
    with pytest.raises(TypeError, match="`loss` must return real numbers"):
        gauss_newton(lambda v: X @ v, np.zeros(3), loss=lambda z: ["a", "b", "c"])
    with pytest.raises(TypeError, match="`jac` must return real numbers"):
        gauss_newton(lambda v: X @ v, np.zeros(3), jac=lambda v: [["ab"] * 3] * 3)
    with pytest.raises(ValueError, match="exp overflows"):
        gauss_newton(lambda v: 1000.0 * v, np.ones(2), loss="poisson")
    with pytest.raises(ValueError, match="overflows"):
        gauss_newton(lambda v: X @ v, np.zeros(3), jac=lambda v: 1e200 * np.eye(3))


# --- hutchinson_trace -------------------------------------------------------------------


def _random_symmetric(n, seed):
    B = np.random.default_rng(seed).standard_normal((n, n))
    return (B + B.T) / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hutchinson_is_unbiased_within_its_standard_error(seed):
    H = _random_symmetric(8, seed)
    res = hutchinson_trace(lambda v: H @ v, 8, samples=2000, rng=seed)
    assert res.nsamples == 2000 and res.values.shape == (2000,)
    assert abs(res.estimate - np.trace(H)) < 4 * res.standard_error


def test_hutchinson_variance_is_twice_the_off_diagonal_sum_of_squares():
    H = _random_symmetric(6, 7)
    res = hutchinson_trace(lambda v: H @ v, 6, samples=40_000, rng=1)
    predicted = 2 * (np.sum(H**2) - np.sum(np.diag(H) ** 2))
    # the sample variance of 40 000 values is within a few percent of the exact one
    assert abs(res.values.var(ddof=1) / predicted - 1) < 0.05
    np.testing.assert_allclose(res.standard_error, np.sqrt(predicted / 40_000), rtol=0.05)


def test_hutchinson_is_exact_for_a_diagonal_matrix_and_reproducible():
    d = np.array([1.0, -2.0, 5.0])
    res = hutchinson_trace(lambda v: d * v, 3, samples=5, rng=3)
    assert res.estimate == 4.0 and res.standard_error == 0.0
    again = hutchinson_trace(lambda v: (d + 1) * v + v[::-1], 3, samples=5, rng=3)
    same = hutchinson_trace(lambda v: (d + 1) * v + v[::-1], 3, samples=5, rng=3)
    assert again.estimate == same.estimate


def test_hutchinson_on_rosenbrock_hessian_products():
    x = np.linspace(-1, 2, 10)
    res = hutchinson_trace(lambda v: rosen_hess(x) @ v, 10, samples=3000, rng=0)
    assert abs(res.estimate - np.trace(rosen_hess(x))) < 4 * res.standard_error


def test_hutchinson_rejects_bad_input():
    with pytest.raises(TypeError, match="`hvp`"):
        hutchinson_trace(None, 3)
    with pytest.raises(ValueError, match="`samples`"):
        hutchinson_trace(lambda v: v, 3, samples=1)
    with pytest.raises(ValueError, match="`n`"):
        hutchinson_trace(lambda v: v, 0)
    with pytest.raises(ValueError, match=r"`hvp` must return shape \(3,\)"):
        hutchinson_trace(lambda v: v[:2], 3)
    with pytest.raises(ValueError, match="non-finite values at product 1"):
        hutchinson_trace(lambda v: v * np.nan, 3)


# --- lagrange_newton --------------------------------------------------------------------


def test_lagrange_newton_on_the_circle_matches_the_closed_form():
    res = lagrange_newton(lambda x: x[0] + 2 * x[1], lambda x: [x @ x - 1.0], [-0.5, -1.0], [1.0])
    # grad f + lam grad g = 0: (1, 2) + 2 lam x = 0 with |x| = 1
    np.testing.assert_allclose(res.x, -np.array([1.0, 2.0]) / np.sqrt(5), rtol=1e-12)
    np.testing.assert_allclose(res.multipliers, [np.sqrt(5) / 2], rtol=1e-12)
    assert res.success and res.nit <= 8 and res.residual <= 1e-10
    assert np.isclose(res.fun, -np.sqrt(5))


def test_lagrange_newton_multiplier_is_the_eigenvalue():
    S = np.cov(np.random.default_rng(0).standard_normal((4, 50)))
    lam, U = np.linalg.eigh(S)
    res = lagrange_newton(
        lambda v: -(v @ S @ v), lambda v: [v @ v - 1.0], U[:, -1] + 0.05, [-lam[-1] + 0.1]
    )
    assert res.success
    np.testing.assert_allclose(res.multipliers[0], lam[-1], rtol=1e-12)
    np.testing.assert_allclose(np.abs(res.x), np.abs(U[:, -1]), rtol=1e-9)


def test_lagrange_newton_agrees_with_slsqp_on_two_constraints():
    from scipy.optimize import minimize

    A = np.diag([1.0, 2.0, 3.0])

    def f(x):
        return 0.5 * x @ A @ x + x[0] - x[2]

    def g(x):
        return [x[0] + x[1] + x[2] - 1.0, x[0] * x[1] - 0.1]

    ref = minimize(
        f,
        [0.5, 0.5, 0.0],
        method="SLSQP",
        constraints=[{"type": "eq", "fun": lambda x: np.asarray(g(x), dtype=float)}],
        options={"ftol": 1e-14},
    )
    res = lagrange_newton(f, g, ref.x + 0.01, [0.0, 0.0])
    assert res.success and ref.success
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    # stationarity with the returned multipliers (independent check with the derivatives
    # written by hand)
    grad_f = A @ res.x + np.array([1.0, 0.0, -1.0])
    J = np.array([[1.0, 1.0, 1.0], [res.x[1], res.x[0], 0.0]])
    np.testing.assert_allclose(grad_f + J.T @ res.multipliers, 0, atol=1e-9)


def test_lagrange_newton_reports_failure():
    few = lagrange_newton(
        lambda x: x[0] + x[1], lambda x: [x @ x - 1.0], [3.0, -2.0], [1.0], maxiter=1
    )
    assert not few.success and "maximum number of steps (1)" in few.message
    # at the origin the constraint gradient 2x vanishes: the KKT matrix is singular
    sing = lagrange_newton(lambda x: x[0] + x[1], lambda x: [x @ x - 1.0], [0.0, 0.0], [0.0])
    assert not sing.success and "singular KKT matrix" in sing.message


def test_lagrange_newton_rejects_bad_input():
    f, g = (lambda x: x @ x), (lambda x: [x[0] - 1.0])
    with pytest.raises(TypeError, match="`f`"):
        lagrange_newton(1.0, g, [1.0, 2.0], [0.0])
    with pytest.raises(TypeError, match="`g`"):
        lagrange_newton(f, None, [1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match="`lam0` must have shape"):
        lagrange_newton(f, g, [1.0, 2.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"`g` must return shape \(2,\)"):
        lagrange_newton(f, g, [1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="`maxiter`"):
        lagrange_newton(f, g, [1.0, 2.0], [0.0], maxiter=0)
    with pytest.raises(ValueError, match="`tol` must be >= 0"):
        lagrange_newton(f, g, [1.0, 2.0], [0.0], tol=-1.0)
    with pytest.raises(ValueError, match="`x0` must be finite"):
        lagrange_newton(f, g, [1.0, np.nan], [0.0])
    with pytest.raises(ValueError, match="`x0` must be a non-empty 1-D array"):
        lagrange_newton(f, g, [[1.0, 2.0]], [0.0])
    with pytest.raises(ValueError, match="`lam0` must be finite"):
        lagrange_newton(f, g, [1.0, 2.0], [np.inf])


def test_lagrange_newton_success_bounds_the_residual_not_the_error():
    # LICQ holds but the KKT matrix is singular at the solution (0, 0): linear convergence
    res = lagrange_newton(lambda x: x[0] ** 4 + x[1] ** 2, lambda x: [x[1]], [1.0, 0.0], [0.0])
    assert res.success and res.nit > 10
    assert abs(res.x[0]) > 1e3 * res.residual

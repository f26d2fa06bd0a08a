"""Tests for calcml.taylor against SymPy, closed forms, Taylor's theorem and convergence orders."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial import Polynomial

from calcml.taylor import (
    QuadraticModel,
    delta_method,
    quadratic_model,
    remainder_bound,
    taylor_coefficients,
    taylor_polynomial,
)

X = sp.Symbol("x")
EPS = np.finfo(float).eps


def derivative_oracle(expr: sp.Expr, x0: float, degree: int) -> np.ndarray:
    """c_k = f^(k)(x0)/k! by repeated differentiation: independent of ``series``."""
    out, d = [], expr
    for k in range(degree + 1):
        out.append(float(sp.N(d.subs(X, sp.Rational(x0)) / sp.factorial(k), 30)))
        d = sp.diff(d, X)
    return np.array(out)


def series_oracle(expr: sp.Expr, x0: float, degree: int) -> np.ndarray:
    """Coefficients read off SymPy's ``series`` of ``expr`` about ``x0`` in powers of (x - x0)."""
    s = sp.series(expr, X, sp.Rational(x0), degree + 1).removeO()
    t = sp.Symbol("t")
    s = sp.expand(s.subs(X, t + sp.Rational(x0)))
    return np.array([float(sp.N(s.coeff(t, k), 30)) for k in range(degree + 1)])


EXPRESSIONS = {
    "exp": (sp.exp(X), np.exp),
    "sin": (sp.sin(X), np.sin),
    "cos": (sp.cos(X), np.cos),
    "log1p": (sp.log(1 + X), np.log1p),
    "geometric": (1 / (1 - X), lambda z: 1 / (1 - z)),
    "sigmoid": (1 / (1 + sp.exp(-X)), lambda z: 1 / (1 + np.exp(-z))),
    "tanh": (sp.tanh(X), np.tanh),
    "softplus": (sp.log(1 + sp.exp(X)), lambda z: np.log(1 + np.exp(z))),
    "runge": (1 / (1 + X**2), lambda z: 1 / (1 + z**2)),
}


# --- taylor_coefficients: SymPy expressions ------------------------------------------------


@pytest.mark.parametrize("name", list(EXPRESSIONS))
@pytest.mark.parametrize("x0", [0.0, -0.5])
def test_symbolic_coefficients_match_sympy_series_and_derivatives(name: str, x0: float) -> None:
    expr, _ = EXPRESSIONS[name]
    c = taylor_coefficients(expr, x0, 6)
    assert c.dtype == np.float64 and c.shape == (7,)
    np.testing.assert_allclose(c, series_oracle(expr, x0, 6), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(c, derivative_oracle(expr, x0, 6), rtol=1e-14, atol=1e-15)


def test_known_closed_forms() -> None:
    k = np.arange(10)
    factorial = np.array([math.factorial(i) for i in k], dtype=float)
    np.testing.assert_allclose(taylor_coefficients(sp.exp(X), 0, 9), 1 / factorial, rtol=1e-15)
    np.testing.assert_allclose(taylor_coefficients(1 / (1 - X), 0, 9), np.ones(10), rtol=0)
    log1p = np.r_[0.0, (-1.0) ** (k[1:] + 1) / k[1:]]
    np.testing.assert_allclose(taylor_coefficients(sp.log(1 + X), 0, 9), log1p, rtol=1e-15)
    # e^x about x0: every coefficient is e^x0 / k!
    np.testing.assert_allclose(
        taylor_coefficients(sp.exp(X), 1.5, 9), np.exp(1.5) / factorial, rtol=1e-15
    )


@settings(max_examples=15)
@given(
    coef=st.lists(st.integers(-20, 20), min_size=1, max_size=6),
    x0=st.integers(-5, 5),
    extra=st.integers(0, 3),
)
def test_polynomials_reproduced_exactly(coef: list[int], x0: int, extra: int) -> None:
    expr = sum(c * X**i for i, c in enumerate(coef))
    degree = len(coef) - 1 + extra
    # Oracle: SymPy's exact shift p(t + x0) as a polynomial in t.
    t = sp.Symbol("t")
    shifted = sp.Poly(sp.expand(sp.sympify(expr).subs(X, t + x0)), t)
    exact = [float(shifted.coeff_monomial(t**k)) for k in range(degree + 1)]
    c = taylor_coefficients(sp.sympify(expr), x0, degree)
    assert c.tolist() == exact  # integers: exact in float64, zeros past the degree
    p = taylor_polynomial(sp.sympify(expr), x0, degree)
    # Integer arithmetic is exact in float64 here: expanding back gives the input exactly.
    expanded = np.zeros(degree + 1)
    converted = p.convert().coef  # NumPy trims trailing zeros here
    expanded[: converted.size] = converted
    np.testing.assert_array_equal(expanded, np.r_[coef, np.zeros(extra)])
    xs = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(p(xs), Polynomial(coef)(xs), rtol=1e-12, atol=1e-9)


def test_constant_expression() -> None:
    np.testing.assert_array_equal(taylor_coefficients(sp.Integer(3), 2.0, 2), [3.0, 0.0, 0.0])
    np.testing.assert_array_equal(taylor_coefficients(sp.pi, 0.0, 0), [math.pi])


# --- taylor_coefficients: numeric callables (FFT on circles) -------------------------------


@pytest.mark.parametrize("f, expr", [(np.exp, sp.exp(X)), (np.sin, sp.sin(X)), (np.cos, sp.cos(X))])
@pytest.mark.parametrize("x0", [-3.0, -0.7, 0.3, 1.0, 2.5, 5.0])
def test_numeric_entire_functions_first_eight_within_1e_10(f, expr, x0: float) -> None:
    c = taylor_coefficients(f, x0, 7)
    exact = derivative_oracle(expr, x0, 7)
    assert np.all(np.abs(c - exact) <= 1e-10 * np.abs(exact))


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_numeric_matches_sympy_series_for_book_functions(name: str) -> None:
    expr, f = EXPRESSIONS[name]
    x0 = 0.0 if name in {"softplus", "tanh", "sigmoid"} else 0.25  # series is slow elsewhere
    exact = series_oracle(expr, x0, 10)
    c = taylor_coefficients(f, x0, 10)
    np.testing.assert_allclose(c, exact, rtol=1e-9, atol=1e-13 * np.abs(exact).max())


def test_numeric_zero_coefficients_are_tiny() -> None:
    c = taylor_coefficients(np.sin, 0.0, 9)
    np.testing.assert_allclose(c[::2], 0.0, atol=1e-15)
    np.testing.assert_allclose(c[1::2], [1, -1 / 6, 1 / 120, -1 / 5040, 1 / 362880], rtol=1e-12)


def test_numeric_near_a_singularity() -> None:
    # 1/x about 0.5: c_k = 2 (-2)^k, radius of convergence 0.5
    c = taylor_coefficients(lambda z: 1 / z, 0.5, 10)
    exact = 2.0 * (-2.0) ** np.arange(11)
    np.testing.assert_allclose(c, exact, rtol=1e-9)


def test_numeric_high_degree_uses_more_points() -> None:
    c = taylor_coefficients(np.exp, 0.0, 20)
    exact = 1 / np.array([math.factorial(k) for k in range(21)], dtype=float)
    np.testing.assert_allclose(c, exact, rtol=1e-9)


def test_scalar_only_complex_safe_callable_is_accepted() -> None:
    import cmath

    c = taylor_coefficients(cmath.exp, 0.0, 4)  # rejects arrays, accepts complex scalars
    np.testing.assert_allclose(c, [1, 1, 1 / 2, 1 / 6, 1 / 24], rtol=1e-13)


def test_constant_callable() -> None:
    np.testing.assert_allclose(taylor_coefficients(lambda z: 2.5, 1.0, 3), [2.5, 0, 0, 0])


# --- taylor_polynomial --------------------------------------------------------------------


def test_polynomial_evaluates_in_original_variable() -> None:
    p = taylor_polynomial(sp.exp(X), 1.0, 12)  # about 1: every coefficient is e / k!
    assert isinstance(p, Polynomial)
    xs = np.linspace(0.5, 1.5, 11)
    np.testing.assert_allclose(p(xs), np.exp(xs), rtol=1e-12)
    np.testing.assert_allclose(p.coef, taylor_coefficients(sp.exp(X), 1.0, 12), rtol=0)


def test_polynomial_far_from_origin_is_accurate() -> None:
    # Expanding (x - 1e6)^k in powers of x would cancel catastrophically; the shifted map must not.
    x0 = 1e6
    p = taylor_polynomial(sp.sin(X), x0, 6)
    xs = x0 + np.linspace(-0.1, 0.1, 5)
    np.testing.assert_allclose(p(xs), np.sin(xs), atol=1e-9)
    off, scl = p.mapparms()
    assert (off, scl) == (-x0, 1.0)


def test_polynomial_huge_x0_maps_exactly() -> None:
    x0 = 2.0**60
    p = taylor_polynomial(1 + X, x0, 1)
    off, scl = p.mapparms()
    assert (off, scl) == (-x0, 1.0)
    assert p(x0) == 1 + x0


@pytest.mark.parametrize("f, x0", [(np.exp, 0.3), (np.sin, 0.7), (np.log1p, 0.2)])
@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_error_shrinks_like_h_to_the_k_plus_1(f, x0: float, k: int) -> None:
    p = taylor_polynomial(f, x0, k)
    h = np.geomspace(0.02, 0.2, 8)
    err = np.abs(f(x0 + h) - p(x0 + h))
    slope = np.polyfit(np.log(h), np.log(err), 1)[0]
    assert abs(slope - (k + 1)) < 0.15


# --- remainder_bound -----------------------------------------------------------------------


def test_remainder_bound_closed_form() -> None:
    b = remainder_bound(2.0, [-1.0, 0.0, 0.5, 2.0], 0.0, 2)
    np.testing.assert_allclose(b, 2.0 * np.abs([-1.0, 0.0, 0.5, 2.0]) ** 3 / 6, rtol=1e-14)
    assert type(remainder_bound(1.0, 0.5, 0.0, 0)) is float  # the package's scalar rule
    np.testing.assert_array_equal(remainder_bound(0.0, [1.0, 2.0], 0.0, 3), [0.0, 0.0])
    assert remainder_bound(1.0, [1.0, 2.0], 0.0, 400).tolist() == [0.0, 0.0]  # no overflow
    assert remainder_bound(1e300, 100.0, 0.0, 150) == math.inf  # overflow is inf, silently


@settings(max_examples=50)
@given(
    which=st.sampled_from(["sin", "cos", "exp"]),
    x0=st.floats(-3, 3, allow_subnormal=False),
    dx=st.floats(-2.5, 2.5),
    degree=st.integers(0, 10),
)
def test_bound_is_never_below_the_true_error(which: str, x0: float, dx: float, degree: int) -> None:
    _, f = EXPRESSIONS[which]
    x = x0 + dx
    if which == "exp":  # every derivative is e^x: its max on the interval
        m = math.exp(max(x0, x))
    else:  # derivatives of sin and cos are bounded by 1
        m = 1.0
    p = taylor_polynomial(f, x0, degree)  # numeric coefficients: relative error ~1e-14
    actual = abs(float(f(x)) - float(p(x)))
    bound = float(remainder_bound(m, x, x0, degree))
    # Rounding in f, in the coefficients and in p (never the bound's fault) is the only
    # slack: 1e-13 times the size of f and of the terms sum_k max|f^(k)| |x - x0|^k / k!.
    scale = math.exp(x0) if which == "exp" else 1.0
    slack = 1e-13 * (abs(float(f(x))) + scale * math.exp(abs(dx)))
    assert actual <= bound + slack


def test_bound_is_tight_for_exp_at_degree_zero() -> None:
    # e^x - 1 = e^xi x <= e^x x: the bound with M = e^x is attained in the limit x -> 0
    x = 1e-4
    assert remainder_bound(math.exp(x), x, 0.0, 0) >= math.expm1(x) >= 0.9999 * x


# --- quadratic_model ------------------------------------------------------------------------


def rosen(x: np.ndarray) -> float:
    return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)


def rosen_grad(x: np.ndarray) -> np.ndarray:
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def rosen_hess(x: np.ndarray) -> np.ndarray:
    return np.array([[2 - 400 * x[1] + 1200 * x[0] ** 2, -400 * x[0]], [-400 * x[0], 200.0]])


def test_quadratic_model_is_exact_for_a_quadratic() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    a = a @ a.T
    b = rng.normal(size=3)

    def f(x: np.ndarray) -> float:
        return float(0.5 * x @ a @ x + b @ x + 1.0)

    q = quadratic_model(f, [0.1, -0.2, 0.3], grad=lambda x: a @ x + b, hess=lambda x: a)
    assert isinstance(q, QuadraticModel)
    pts = rng.normal(size=(5, 3))
    # The variables run along the first axis, as in symbolic.lambdify and f itself.
    np.testing.assert_allclose(q(pts.T), [f(p) for p in pts], rtol=1e-12)
    assert type(q(pts[0])) is float
    grid = rng.normal(size=(3, 4, 2))
    expected = [[f(grid[:, i, j]) for j in range(2)] for i in range(4)]
    np.testing.assert_allclose(q(grid), expected, rtol=1e-12)


def test_quadratic_model_error_is_third_order() -> None:
    from scipy.optimize import rosen as sp_rosen
    from scipy.optimize import rosen_der
    from scipy.optimize import rosen_hess as sp_rosen_hess

    x0 = np.array([-0.5, 0.8])
    q = quadratic_model(sp_rosen, x0, grad=rosen_der, hess=sp_rosen_hess)
    np.testing.assert_allclose(q.gradient, rosen_grad(x0), rtol=1e-14)
    np.testing.assert_allclose(q.hessian, rosen_hess(x0), rtol=1e-14)
    d = np.array([0.6, -0.8])
    t = np.geomspace(1e-3, 1e-1, 6)
    err = [abs(rosen(x0 + s * d) - q(x0 + s * d)) for s in t]
    slope = np.polyfit(np.log(t), np.log(err), 1)[0]
    assert abs(slope - 3) < 0.1


def test_quadratic_model_falls_back_to_finite_differences() -> None:
    x0 = np.array([-0.5, 0.8])
    q = quadratic_model(rosen, x0)
    np.testing.assert_allclose(q.gradient, rosen_grad(x0), rtol=1e-8)
    np.testing.assert_allclose(q.hessian, rosen_hess(x0), rtol=1e-5)
    assert q.value == rosen(x0)


def test_quadratic_model_symmetrises_and_mixes_exact_and_numeric() -> None:
    x0 = np.array([0.3, 0.1])
    q = quadratic_model(rosen, x0, grad=rosen_grad)
    np.testing.assert_array_equal(q.gradient, rosen_grad(x0))
    np.testing.assert_allclose(q.hessian, rosen_hess(x0), rtol=1e-5)
    h = np.array([[1.0, 2.0], [0.0, 1.0]])
    q2 = quadratic_model(rosen, x0, hess=lambda x: h)
    np.testing.assert_array_equal(q2.hessian, [[1.0, 1.0], [1.0, 1.0]])


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [sp.exp(X), np.exp])
def test_degree_must_be_a_nonnegative_integer(f) -> None:
    with pytest.raises(ValueError, match=r"`degree` must be >= 0, got -1"):
        taylor_coefficients(f, 0.0, -1)
    with pytest.raises(TypeError, match=r"`degree` must be an integer, got float"):
        taylor_coefficients(f, 0.0, 2.0)
    with pytest.raises(TypeError, match=r"`degree` must be an integer, got bool"):
        taylor_polynomial(f, 0.0, True)
    with pytest.raises(ValueError, match=r"`degree` must be >= 0"):
        remainder_bound(1.0, 0.5, 0.0, -2)


@pytest.mark.parametrize("x0", [math.nan, math.inf, -math.inf])
def test_x0_must_be_finite(x0: float) -> None:
    with pytest.raises(ValueError, match=r"`x0` must be finite"):
        taylor_coefficients(sp.exp(X), x0, 2)
    with pytest.raises(ValueError, match=r"`x0` must be finite"):
        taylor_coefficients(np.exp, x0, 2)
    with pytest.raises(ValueError, match=r"`x0` must be finite"):
        remainder_bound(1.0, 0.5, x0, 2)
    with pytest.raises(ValueError, match=r"`x0` must be finite"):
        quadratic_model(rosen, [x0, 0.0])
    with pytest.raises(TypeError, match=r"`x0` must be a real number, got str"):
        taylor_coefficients(np.exp, "0", 2)


def test_more_than_one_free_symbol_is_named() -> None:
    y, a = sp.symbols("y a")
    with pytest.raises(ValueError, match=r"one symbol, got 3 free symbols: a, x, y"):
        taylor_coefficients(a * sp.exp(X * y), 0.0, 2)


def test_expression_without_a_taylor_expansion() -> None:
    with pytest.raises(ValueError, match=r"no Taylor expansion at `x0` = 0.0"):
        taylor_coefficients(sp.sqrt(X), 0.0, 2)
    with pytest.raises(ValueError, match=r"not real and finite near `x0` = -2.0"):
        taylor_coefficients(sp.log(X), -2.0, 2)


@pytest.mark.parametrize(
    "f",
    [np.abs, lambda x: np.real(np.exp(x)), lambda x: np.exp(x) * np.conj(np.exp(x))],
    ids=["abs", "np.real", "conj"],
)
def test_real_valued_on_the_circle_is_not_complex_safe(f) -> None:
    with pytest.raises(ValueError, match=r"`f` is not complex-safe: its values on a circle"):
        taylor_coefficients(f, 0.5, 3)


@pytest.mark.parametrize("f", [math.exp, lambda x: float(x) ** 2], ids=["math.exp", "float"])
def test_typeerror_on_complex_input_is_not_complex_safe(f) -> None:
    with pytest.raises(ValueError, match=r"`f` is not complex-safe: it raised TypeError"):
        taylor_coefficients(f, 0.5, 3)


def test_non_analytic_callable_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"`f` does not look analytic near `x0` = 0.0"):
        taylor_coefficients(np.sqrt, 0.0, 3)


def test_f_must_be_callable_or_expression() -> None:
    with pytest.raises(TypeError, match=r"`f` must be callable, got str"):
        taylor_coefficients("exp(x)", 0.0, 2)


def test_remainder_bound_bad_input() -> None:
    with pytest.raises(ValueError, match=r"`max_abs_derivative` must be >= 0, got -1.0"):
        remainder_bound(-1.0, 0.5, 0.0, 2)
    with pytest.raises(ValueError, match=r"`max_abs_derivative` must be finite"):
        remainder_bound(math.inf, 0.5, 0.0, 2)
    with pytest.raises(ValueError, match=r"`x` must be finite"):
        remainder_bound(1.0, [0.5, math.nan], 0.0, 2)


def test_quadratic_model_bad_input() -> None:
    with pytest.raises(ValueError, match=r"`x0` must be a non-empty 1-D array, got shape \(2, 2\)"):
        quadratic_model(rosen, np.eye(2))
    with pytest.raises(TypeError, match=r"`f` must be callable"):
        quadratic_model(None, [1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`grad` must return shape \(2,\), got shape \(3,\)"):
        quadratic_model(rosen, [1.0, 2.0], grad=lambda x: np.zeros(3), hess=rosen_hess)
    with pytest.raises(ValueError, match=r"`hess` must return shape \(2, 2\), got shape \(2,\)"):
        quadratic_model(rosen, [1.0, 2.0], grad=rosen_grad, hess=lambda x: np.zeros(2))
    with pytest.raises(TypeError, match=r"`hess` must be callable"):
        quadratic_model(rosen, [1.0, 2.0], grad=rosen_grad, hess=np.eye(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"not finite at `x0`"):
        quadratic_model(lambda x: math.inf, [1.0, 2.0], grad=rosen_grad, hess=rosen_hess)
    q = quadratic_model(rosen, [1.0, 2.0], grad=rosen_grad, hess=rosen_hess)
    with pytest.raises(ValueError, match=r"`x` must have first axis of length 2, got shape \(3,\)"):
        q([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"`x` must have first axis of length 2, got shape \(\)"):
        q(1.0)
    with pytest.raises(TypeError, match=r"`f` must return real numbers, got dtype <U1"):
        quadratic_model(lambda x: "a", [1.0, 2.0], grad=rosen_grad, hess=rosen_hess)
    with pytest.raises(ValueError, match=r"`f` must return a scalar, got shape \(2,\)"):
        quadratic_model(lambda x: x, [1.0, 2.0], grad=rosen_grad, hess=rosen_hess)


def test_point_without_a_short_fraction_is_used_exactly() -> None:
    x0 = 0.1234567891234  # no fraction with denominator <= 1e6 rounds to it
    expected = math.exp(x0) / np.array([1.0, 1.0, 2.0, 6.0])
    np.testing.assert_allclose(taylor_coefficients(sp.exp(X), x0, 3), expected, rtol=1e-15)


def test_callable_returning_the_wrong_shape_is_evaluated_pointwise() -> None:
    def f(z):  # flattens array input: the vectorised call is not trusted
        return np.exp(z) if np.ndim(z) == 0 else np.exp(z).ravel()

    np.testing.assert_allclose(taylor_coefficients(f, 0.0, 3), [1, 1, 1 / 2, 1 / 6], rtol=1e-13)


def test_callable_that_is_nowhere_finite_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"`f` does not look analytic near `x0` = 1.0"):
        taylor_coefficients(lambda z: z * np.nan, 1.0, 2)


@pytest.mark.parametrize(
    "x0",
    [
        2.0**20 - 2.0**-33,
        2.0**30 - 2.0**-23,
        -(2.0**20 - 2.0**-33),
        1e6,
        0.3,
        -0.3,
        0.0,
        5e-324,
        -1e-300,
        1e150,
        np.nextafter(2.0**512, 0.0),
        -np.nextafter(2.0**512, 0.0),
        2.0,
        1.0,
    ],
)
def test_taylor_polynomial_shift_is_exact(x0: float) -> None:
    """The domain/window map is t -> t - x0 with scale 1 exactly, even just below 2**k."""
    p = taylor_polynomial(sp.Symbol("x"), x0, 1)
    off, scl = p.mapparms()
    assert off == -x0 and scl == 1.0
    t = np.nextafter(x0, np.inf)
    assert float(p(t)) - x0 == t - x0 or abs(x0) > 1e100


def test_delta_method_affine_is_exact() -> None:
    """For f(x) = a^T x + b, Var f(X) = a^T Sigma a exactly (closed form)."""
    a = np.array([1.0, -2.0, 0.5])
    sigma = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]])
    v = delta_method(lambda x: a @ x + 3.0, [1.0, 2.0, 3.0], sigma, grad=lambda x: a)
    assert v == pytest.approx(a @ sigma @ a, rel=1e-15)
    v_fd = delta_method(lambda x: a @ x + 3.0, [1.0, 2.0, 3.0], sigma)
    assert v_fd == pytest.approx(a @ sigma @ a, rel=1e-9)


@pytest.mark.parametrize("s", [0.01, 0.03, 0.1])
def test_delta_method_lognormal(s: float) -> None:
    """exp(X), X ~ N(mu, s^2): exact variance (e^{s^2} - 1) e^{2 mu + s^2}; ratio 1 + O(s^2)."""
    mu = 0.7
    exact = math.expm1(s**2) * math.exp(2 * mu + s**2)
    v = delta_method(lambda x: math.exp(x[0]), [mu], [[s**2]])
    assert v == pytest.approx(math.exp(2 * mu) * s**2, rel=1e-9)
    assert abs(exact / v - 1) < 2 * s**2  # 1.5 s^2 + O(s^4)


def test_delta_method_against_monte_carlo() -> None:
    """A sigmoid of a linear form, small covariance: Monte Carlo within 4 standard errors.

    Plus 1% for the linearisation bias of the delta method (-0.40% by quadrature here).
    """
    rng = np.random.default_rng(7)
    mu = np.array([0.3, -0.4])
    sigma = 1e-3 * np.array([[1.0, 0.4], [0.4, 2.0]])
    xs = np.array([1.0, 2.0])

    def f(w: np.ndarray) -> float:
        return float(1 / (1 + np.exp(-(xs @ w))))

    v = delta_method(f, mu, sigma)
    samples = rng.multivariate_normal(mu, sigma, size=200_000)
    values = 1 / (1 + np.exp(-(samples @ xs)))
    mc = float(np.var(values))
    # the sample variance of N draws has relative standard error about sqrt(2/N)
    assert abs(mc / v - 1) < 4 * math.sqrt(2 / 200_000) + 0.01


def test_delta_method_errors() -> None:
    f = lambda x: float(x[0])  # noqa: E731
    with pytest.raises(TypeError, match="`f` must be callable"):
        delta_method(1.0, [0.0], [[1.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`mean` must be a non-empty 1-D"):
        delta_method(f, 0.0, [[1.0]])
    with pytest.raises(ValueError, match=r"`cov` must have shape \(2, 2\)"):
        delta_method(f, [0.0, 1.0], [[1.0]])
    with pytest.raises(ValueError, match="`cov` must be symmetric"):
        delta_method(f, [0.0, 1.0], [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="`cov` must be positive semidefinite"):
        delta_method(f, [0.0, 1.0], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="`cov` must be finite"):
        delta_method(f, [0.0], [[np.nan]])
    with pytest.raises(ValueError, match="`grad` must return shape"):
        delta_method(f, [0.0, 1.0], np.eye(2), grad=lambda x: [1.0])
    with pytest.raises(ValueError, match="gradient of `f` is not finite"):
        delta_method(f, [0.0], [[1.0]], grad=lambda x: [np.inf])


@pytest.mark.parametrize("x0", [2.0**512, -(2.0**512), 1e155, -1e200, 1e300])
def test_taylor_polynomial_rejects_x0_beyond_2_to_the_512(x0: float) -> None:
    """NumPy's mapparms would overflow to (-inf, 1.0) and p(x0) to nan there."""
    with pytest.raises(ValueError, match=r"`x0` must satisfy \|x0\| < 2\*\*512"):
        taylor_polynomial(sp.Symbol("x"), x0, 1)


def test_delta_method_validates_tiny_covariances() -> None:
    """The symmetry and PSD checks are scale invariant; a zero covariance passes."""
    f = lambda x: float(x[0] - x[1])  # noqa: E731
    grad = lambda x: [1.0, -1.0]  # noqa: E731
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])
    for scale in [1e-14, 1.0, 1e14]:
        with pytest.raises(ValueError, match="`cov` must be positive semidefinite"):
            delta_method(f, [0.0, 0.0], scale * indefinite, grad=grad)
        with pytest.raises(ValueError, match="`cov` must be symmetric"):
            delta_method(f, [0.0, 0.0], scale * np.array([[1e-6, 1.0], [0.0, 1e-6]]))
        v = delta_method(f, [0.0, 0.0], scale * np.eye(2), grad=grad)
        assert v == pytest.approx(2 * scale, rel=1e-15)
    assert delta_method(f, [0.0, 0.0], np.zeros((2, 2)), grad=grad) == 0.0

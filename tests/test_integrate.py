"""Tests for calcml.integrate against closed forms, SciPy, and theorems about the rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate as si
from scipy import stats
from scipy.special import gammaln

from calcml.integrate import (
    GradientEstimateResult,
    ImportanceSamplingResult,
    MonteCarloResult,
    expectation,
    gauss_hermite_expectation,
    gauss_legendre,
    gaussian_elbo,
    importance_sampling,
    laplace_approximation,
    log_normalizing_constant,
    monte_carlo,
    normalizing_constant,
    reparameterization_gradient,
    riemann_sum,
    score_function_gradient,
    simpson_rule,
    trapezoid_rule,
)

coef = st.floats(-5, 5, allow_nan=False)
limit = st.floats(-3, 3, allow_nan=False)


def monomial_integral(k: int, a: float, b: float) -> float:
    return (b ** (k + 1) - a ** (k + 1)) / (k + 1)


def slope(ns: np.ndarray, errors: np.ndarray) -> float:
    return float(np.polyfit(np.log(ns), np.log(errors), 1)[0])


# --- degrees of exactness ---------------------------------------------------------------


@given(c0=coef, c1=coef, a=limit, b=limit, n=st.integers(1, 20))
def test_trapezoid_exact_for_lines(c0, c1, a, b, n):
    exact = c0 * (b - a) + c1 * (b**2 - a**2) / 2
    assert trapezoid_rule(lambda x: c0 + c1 * x, a, b, n) == pytest.approx(exact, abs=1e-11)


def test_trapezoid_error_on_parabola_is_the_textbook_term():
    # int_0^1 x^2 = 1/3; the trapezoid rule overestimates by h^2/6 = 1/(6 n^2).
    for n in (1, 2, 5, 10):
        assert trapezoid_rule(np.square, 0.0, 1.0, n) == pytest.approx(
            1 / 3 + 1 / (6 * n**2), rel=1e-14
        )


@given(c=st.lists(coef, min_size=4, max_size=4), a=limit, b=limit, n=st.integers(1, 10))
def test_simpson_exact_for_cubics(c, a, b, n):
    exact = sum(ck * monomial_integral(k, a, b) for k, ck in enumerate(c))
    got = simpson_rule(lambda x: np.polyval(c[::-1], x), a, b, 2 * n)
    assert got == pytest.approx(exact, abs=1e-10)


def test_simpson_not_exact_for_quartic():
    # Simpson on x^4 over [0, 1] with one panel: (0 + 4/16 + 1)/6 = 5/24, not 1/5.
    assert simpson_rule(lambda x: x**4, 0.0, 1.0, 2) == pytest.approx(5 / 24, rel=1e-14)


@pytest.mark.parametrize("n", range(1, 11))
def test_gauss_legendre_degree_of_exactness(n):
    a, b = -1.0, 2.0
    for k in range(2 * n):
        got = gauss_legendre(lambda x, k=k: x**k, a, b, n)
        assert got == pytest.approx(monomial_integral(k, a, b), rel=1e-12, abs=1e-12)
    k = 2 * n
    assert abs(gauss_legendre(lambda x: x**k, a, b, n) - monomial_integral(k, a, b)) > 1e-6


@pytest.mark.parametrize("n", range(1, 11))
def test_gauss_hermite_degree_of_exactness(n):
    mean, std = 0.7, 1.3
    for k in range(2 * n):
        exact = stats.norm.moment(k, loc=mean, scale=std)
        got = gauss_hermite_expectation(lambda x, k=k: x**k, mean, std, n)
        assert got == pytest.approx(exact, rel=1e-11, abs=1e-11)
    k = 2 * n
    exact = stats.norm.moment(k, loc=mean, scale=std)
    assert abs(gauss_hermite_expectation(lambda x: x**k, mean, std, n) - exact) > 1e-6 * exact


def test_gauss_hermite_cos_matches_guide_bars():
    exact = math.exp(-0.5)  # E[cos X], X ~ N(0, 1)
    errors = {n: abs(gauss_hermite_expectation(np.cos, n=n) - exact) for n in (5, 10, 20)}
    assert 1e-5 < errors[5] < 1e-3
    assert errors[10] < 1e-9
    assert errors[20] < 1e-15


# --- orders of convergence ---------------------------------------------------------------


def test_orders_of_convergence():
    ns = np.array([8, 16, 32, 64, 128])
    exact = math.e - 1
    trap = np.array([abs(trapezoid_rule(np.exp, 0.0, 1.0, n) - exact) for n in ns])
    simp = np.array([abs(simpson_rule(np.exp, 0.0, 1.0, n) - exact) for n in ns])
    assert slope(ns, trap) == pytest.approx(-2.0, abs=0.02)
    assert slope(ns, simp) == pytest.approx(-4.0, abs=0.05)
    # Gauss-Legendre: the log of the error falls faster than any power of n (log-log
    # slope keeps steepening) until round-off, where 6 nodes already beat 128 Simpson panels.
    gl = np.array([abs(gauss_legendre(np.exp, 0.0, 1.0, n) - exact) for n in (2, 3, 4, 5)])
    local = np.diff(np.log(gl)) / np.diff(np.log([2, 3, 4, 5]))
    assert np.all(np.diff(local) < 0) and local[-1] < -15
    assert abs(gauss_legendre(np.exp, 0.0, 1.0, 6) - exact) < simp[-1]


@pytest.mark.parametrize(("point", "order"), [("left", 1), ("right", 1), ("midpoint", 2)])
def test_riemann_sum_orders(point, order):
    ns = np.array([10, 20, 40, 80, 160])
    errors = np.array(
        [abs(riemann_sum(np.exp, 0.0, 1.0, n, point=point) - (math.e - 1)) for n in ns]
    )
    assert slope(ns, errors) == pytest.approx(-order, abs=0.03)


def test_riemann_left_right_bracket_increasing_function():
    exact = math.e - 1
    assert (
        riemann_sum(np.exp, 0, 1, 7, point="left")
        < exact
        < riemann_sum(np.exp, 0, 1, 7, point="right")
    )


# --- densities, normalizing constants and expectations ------------------------------------


def test_normalizing_constants_against_closed_forms():
    assert normalizing_constant(lambda x: np.exp(-(x**4))) == pytest.approx(
        2 * math.gamma(1.25), rel=1e-10
    )
    assert normalizing_constant(lambda x: x * (1 - x) ** 2, 0, 1) == pytest.approx(
        math.gamma(2) * math.gamma(3) / math.gamma(5), rel=1e-12
    )
    assert normalizing_constant(lambda x: np.exp(-3 * x), 0) == pytest.approx(1 / 3, rel=1e-12)


def test_normal_mass_68_95_997():
    pdf = stats.norm.pdf
    masses = [normalizing_constant(pdf, -k, k) for k in (1, 2, 3)]
    np.testing.assert_allclose(masses, [math.erf(k / math.sqrt(2)) for k in (1, 2, 3)], rtol=1e-12)


@given(mu=st.floats(-50, 50), s=st.floats(0.05, 20))
@settings(max_examples=30)
def test_log_normalizing_constant_gaussian_anywhere(mu, s):
    log_z = log_normalizing_constant(lambda x: 700.0 - (x - mu) ** 2 / (2 * s**2))
    assert log_z == pytest.approx(700.0 + 0.5 * math.log(2 * math.pi * s**2), abs=1e-8)


def test_log_normalizing_constant_gamma_function():
    for n in (1, 10, 100, 1000):
        log_z = log_normalizing_constant(lambda x, n=n: n * np.log(x) - x, 0.0, np.inf)
        assert log_z == pytest.approx(gammaln(n + 1), rel=1e-12, abs=1e-12)


def test_log_normalizing_constant_other_limits_and_given_mode():
    ld = stats.norm.logpdf
    assert log_normalizing_constant(ld, -np.inf, 0.0) == pytest.approx(math.log(0.5), rel=1e-12)
    assert log_normalizing_constant(ld, -1.0, 1.0) == pytest.approx(
        math.log(math.erf(1 / math.sqrt(2))), rel=1e-12
    )
    assert log_normalizing_constant(ld, mode=0.0) == pytest.approx(0.0, abs=1e-12)
    # -inf outside the support is allowed (the uniform density on [0, 1]).
    assert log_normalizing_constant(
        lambda x: np.where((x > 0) & (x < 1), 0.0, -np.inf), -2.0, 2.0, mode=0.5
    ) == pytest.approx(0.0, abs=1e-8)
    assert log_normalizing_constant(lambda x: 0.0, 0.0, 2.0) == pytest.approx(
        math.log(2), rel=1e-12
    )


def test_expectation_against_closed_forms_and_quad():
    rate = 2.0
    pdf = lambda x: rate * np.exp(-rate * x)  # noqa: E731
    assert expectation(lambda x: x, pdf, 0) == pytest.approx(1 / rate, rel=1e-12)
    assert expectation(lambda x: (x - 1 / rate) ** 2, pdf, 0) == pytest.approx(
        1 / rate**2, rel=1e-12
    )
    # An unnormalized Gaussian kernel: E[cos X] = exp(-1/2).
    assert expectation(np.cos, lambda x: np.exp(-(x**2) / 2)) == pytest.approx(
        math.exp(-0.5), rel=1e-12
    )
    beta = stats.beta(2.0, 5.0)
    ref = si.quad(lambda x: np.sin(x) * beta.pdf(x), 0, 1)[0]
    assert expectation(np.sin, beta.pdf, 0, 1) == pytest.approx(ref, rel=1e-10)


# --- Monte Carlo and importance sampling -------------------------------------------------


def normal_sampler(rng, n):
    return rng.standard_normal(n)


def test_monte_carlo_interval_coverage():
    truth, reps = math.exp(0.5), 400  # E[exp(X)], X ~ N(0, 1)
    rng = np.random.default_rng(12345)
    hits = 0
    for _ in range(reps):
        lo, hi = monte_carlo(np.exp, normal_sampler, 400, rng=rng).confidence_interval()
        hits += lo <= truth <= hi
    # Binomial(400, 0.95) has sd 4.4; allow 4 sd (heavy right tail pulls coverage a bit low).
    assert abs(hits - 0.95 * reps) <= 4 * math.sqrt(reps * 0.95 * 0.05)


def test_monte_carlo_std_error_and_multivariate_samples():
    res = monte_carlo(
        lambda x: np.sum(x**2, axis=1), lambda rng, n: rng.standard_normal((n, 3)), 20_000, rng=1
    )
    assert isinstance(res, MonteCarloResult) and res.n == 20_000
    assert res.std_error == pytest.approx(math.sqrt(6 / 20_000), rel=0.05)  # Var chi2_3 = 6
    assert abs(res.estimate - 3.0) < 4 * res.std_error
    same = monte_carlo(
        lambda x: np.sum(x**2, axis=1), lambda rng, n: rng.standard_normal((n, 3)), 20_000, rng=1
    )
    assert same == res  # seeded runs repeat exactly


def test_monte_carlo_error_shrinks_like_inverse_sqrt():
    ns = np.array([100, 400, 1600, 6400, 25600])
    ses = [monte_carlo(np.exp, normal_sampler, int(n), rng=0).std_error for n in ns]
    assert slope(ns, np.array(ses)) == pytest.approx(-0.5, abs=0.05)


def test_confidence_interval_levels():
    res = MonteCarloResult(estimate=2.0, std_error=0.1, n=10)
    lo, hi = res.confidence_interval(0.6827)
    assert (lo, hi) == pytest.approx((1.9, 2.1), abs=1e-4)
    with pytest.raises(ValueError, match=r"`level` must be in \(0, 1\)"):
        res.confidence_interval(1.0)
    with pytest.raises(ValueError, match="`level` must be positive"):
        res.confidence_interval(0.0)


def test_importance_sampling_tail_probability():
    truth = stats.norm.sf(4.0)
    res = importance_sampling(
        lambda x: x > 4,
        stats.norm.logpdf,
        lambda rng, n: rng.normal(4.0, 1.0, n),
        lambda x: stats.norm.logpdf(x, 4.0),
        20_000,
        rng=3,
    )
    assert isinstance(res, ImportanceSamplingResult)
    assert abs(res.estimate - truth) < 4 * res.std_error
    assert res.std_error < 0.02 * truth
    assert 1 < res.ess < res.n
    plain_se = math.sqrt(truth * (1 - truth) / 20_000)  # plain Monte Carlo's standard error
    assert res.std_error < plain_se / 50


def test_importance_sampling_self_normalized_unnormalized_target():
    log_target = lambda x: -((x - 1.0) ** 2) / 2 + 50.0  # noqa: E731  N(1, 1), Z = e^50 sqrt(2 pi)
    res = importance_sampling(
        lambda x: x,
        log_target,
        lambda rng, n: rng.normal(0.0, 2.0, n),
        lambda x: stats.norm.logpdf(x, 0.0, 2.0),
        20_000,
        rng=4,
        self_normalize=True,
    )
    assert abs(res.estimate - 1.0) < 4 * res.std_error
    assert res.std_error < 0.03


def test_importance_sampling_with_proposal_equal_target_is_monte_carlo():
    res = importance_sampling(
        np.exp, stats.norm.logpdf, normal_sampler, stats.norm.logpdf, 1000, rng=5
    )
    plain = monte_carlo(np.exp, normal_sampler, 1000, rng=5)
    assert res.ess == pytest.approx(1000, rel=1e-14)
    assert res.estimate == pytest.approx(plain.estimate, rel=1e-14)
    assert res.std_error == pytest.approx(plain.std_error, rel=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_importance_sampling_errors():
    with pytest.raises(ValueError, match="every importance weight is zero"):
        importance_sampling(
            lambda x: x,
            lambda x: np.full(x.shape, -np.inf),
            normal_sampler,
            stats.norm.logpdf,
            10,
            rng=0,
        )
    with pytest.raises(ValueError, match="importance weights overflow"):
        importance_sampling(
            lambda x: x, lambda x: 1000.0 + 0 * x, normal_sampler, stats.norm.logpdf, 10, rng=0
        )
    with pytest.raises(ValueError, match="`log_target` must return one finite"):
        importance_sampling(
            lambda x: x, lambda x: np.nan * x, normal_sampler, stats.norm.logpdf, 10, rng=0
        )
    with pytest.raises(ValueError, match="`log_proposal` returned a non-finite"):
        importance_sampling(
            lambda x: x, stats.norm.logpdf, normal_sampler, lambda x: np.log(x), 10, rng=0
        )


# --- the Laplace approximation -----------------------------------------------------------


@st.composite
def gaussians(draw):
    d = draw(st.integers(1, 3))
    vals = draw(st.lists(st.floats(0.2, 5.0), min_size=d, max_size=d))
    angle = draw(st.floats(0, math.pi))
    q = np.linalg.qr(np.eye(d) + angle * np.tri(d, k=-1))[0]
    precision = q @ np.diag(vals) @ q.T
    mean = np.array(draw(st.lists(st.floats(-3, 3), min_size=d, max_size=d)))
    return mean, precision, draw(st.floats(-10, 10))


@given(g=gaussians(), use_derivatives=st.booleans())
@settings(max_examples=25)
def test_laplace_exact_for_gaussians(g, use_derivatives):
    mean, precision, c = g
    d = mean.size

    def ld(x):
        return c - 0.5 * (x - mean) @ precision @ (x - mean)

    kwargs = {}
    if use_derivatives:
        kwargs = {"grad": lambda x: -precision @ (x - mean), "hess": lambda x: -precision}
    res = laplace_approximation(ld, np.zeros(d), **kwargs)
    exact = c + 0.5 * d * math.log(2 * math.pi) - 0.5 * math.log(np.linalg.det(precision))
    # With exact derivatives only the optimizer's tolerance remains; without them the
    # Hessian from function values (chapter 1) is good to about 1e-7.
    tol = 1e-9 if use_derivatives else 1e-6
    assert res.success
    np.testing.assert_allclose(res.mode, mean, atol=100 * tol)
    np.testing.assert_allclose(res.cov, np.linalg.inv(precision), rtol=10 * tol, atol=10 * tol)
    assert res.log_normalizer == pytest.approx(exact, abs=tol)


def test_laplace_matches_quadrature_for_gaussian_1d():
    res = laplace_approximation(lambda x: -((x[0] - 2.0) ** 2) / (2 * 0.3**2), 0.0)
    assert res.log_normalizer == pytest.approx(
        log_normalizing_constant(lambda x: -((x - 2.0) ** 2) / (2 * 0.3**2)), abs=1e-8
    )
    assert res.mode.shape == (1,) and res.cov.shape == (1, 1)


def test_laplace_stirling_relative_error_like_one_over_12n():
    errors = []
    for n in (5, 50, 500):
        res = laplace_approximation(
            lambda x, n=n: n * np.log(x[0]) - x[0], float(n) / 2, grad=lambda x, n=n: n / x - 1
        )
        rel = math.expm1(res.log_normalizer - gammaln(n + 1))
        assert rel == pytest.approx(-1 / (12 * n), rel=0.05)
        errors.append(abs(rel))
    assert errors[0] > errors[1] > errors[2]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_laplace_rejects_non_maximum():
    with pytest.raises(ValueError, match="not negative definite"):
        laplace_approximation(
            lambda x: x[0] ** 2 - x[1] ** 2,
            [0.0, 0.0],
            grad=lambda x: np.array([2 * x[0], -2 * x[1]]),
            hess=lambda x: np.diag([2.0, -2.0]),
        )
    with pytest.raises(ValueError, match="`log_density` is not finite at the mode"):
        laplace_approximation(lambda x: -np.inf, 0.0)
    with pytest.raises(ValueError, match="`log_density` must return a scalar"):
        laplace_approximation(lambda x: np.array([1.0, 2.0]), 0.0)
    with pytest.raises(ValueError, match="`x0` must be a scalar or a 1-D array"):
        laplace_approximation(lambda x: 0.0, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="`hess` must be callable"):
        laplace_approximation(lambda x: -(x[0] ** 2), 0.0, hess=3)
    with pytest.raises(TypeError, match="`grad` must be callable"):
        laplace_approximation(lambda x: -(x[0] ** 2), 0.0, grad=3)
    with pytest.raises(TypeError, match="`log_density` must be callable"):
        laplace_approximation(None, 0.0)
    with pytest.raises(ValueError, match="`x0` must be finite"):
        laplace_approximation(lambda x: -(x[0] ** 2), np.nan)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_laplace_survives_nan_outside_support():
    # log(x) is NaN for x < 0; the optimizer must treat that as -inf, not crash.
    res = laplace_approximation(lambda x: 3 * np.log(x[0]) - x[0], 0.5)
    assert res.mode[0] == pytest.approx(3.0, abs=1e-5)


# --- bad input, each message pinned ------------------------------------------------------

RULES = [trapezoid_rule, simpson_rule, gauss_legendre, riemann_sum]


@pytest.mark.parametrize("rule", RULES)
def test_rules_reject_bad_n(rule):
    with pytest.raises(TypeError, match="`n` must be an integer, got float"):
        rule(np.sin, 0.0, 1.0, 4.0)
    with pytest.raises(ValueError, match="`n` must be >="):
        rule(np.sin, 0.0, 1.0, 0)


@pytest.mark.parametrize("rule", RULES)
def test_rules_reject_infinite_limits_and_name_the_alternatives(rule):
    msg = f"`b` must be finite for {rule.__name__}, got inf; normalizing_constant"
    with pytest.raises(ValueError, match=msg):
        rule(np.sin, 0.0, np.inf, 4)
    with pytest.raises(ValueError, match=r"`a` must be finite .* expectation accept infinite"):
        rule(np.sin, -np.inf, 0.0, 4)
    with pytest.raises(TypeError, match="`a` must be a real number, got str"):
        rule(np.sin, "0", 1.0, 4)
    with pytest.raises(TypeError, match="`f` must be callable"):
        rule(1.0, 0.0, 1.0, 4)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_rules_reject_non_finite_integrand(rule):
    with pytest.raises(ValueError, match=r"`f` returned a non-finite value \(inf\)"):
        rule(lambda x: 1 / (x - x[0]), 0.0, 1.0, 4)
    with pytest.raises(ValueError, match=r"`f` returned a non-finite value \(nan\)"):
        rule(lambda x: np.sqrt(x - 0.5), 0.0, 1.0, 4)


def test_integrand_shape_and_type_errors():
    with pytest.raises(ValueError, match="`f` must return one value per point"):
        trapezoid_rule(lambda x: x[:2], 0.0, 1.0, 4)
    with pytest.raises(TypeError, match="`f` must return real numbers"):
        trapezoid_rule(lambda x: "abc", 0.0, 1.0, 4)
    assert trapezoid_rule(lambda x: 2.0, 0.0, 3.0, 4) == 6.0  # constants broadcast


def test_simpson_needs_even_n():
    with pytest.raises(ValueError, match="`n` must be even for Simpson's rule, got 3"):
        simpson_rule(np.sin, 0.0, 1.0, 3)


def test_riemann_point_choice():
    with pytest.raises(ValueError, match="`point` must be one of 'left', 'right', 'midpoint'"):
        riemann_sum(np.sin, 0.0, 1.0, 4, point="center")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_gauss_hermite_bad_input():
    with pytest.raises(ValueError, match=r"`std` must be positive, got 0\.0"):
        gauss_hermite_expectation(np.cos, std=0.0)
    with pytest.raises(ValueError, match=r"`std` must be positive, got -1\.0"):
        gauss_hermite_expectation(np.cos, std=-1.0)
    with pytest.raises(ValueError, match="`mean` must be finite"):
        gauss_hermite_expectation(np.cos, mean=np.nan)
    with pytest.raises(TypeError, match="`n` must be an integer"):
        gauss_hermite_expectation(np.cos, n=2.5)
    with pytest.raises(ValueError, match="`n` must be >= 1"):
        gauss_hermite_expectation(np.cos, n=0)
    with pytest.raises(ValueError, match="`f` returned a non-finite value"):
        gauss_hermite_expectation(lambda x: np.exp(x**4), n=40)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_normalizing_constant_errors():
    with pytest.raises(
        ValueError, match=r"normalizing constant .* is 0\.0.*log_normalizing_constant"
    ):
        normalizing_constant(lambda x: np.exp(-((x - 1000) ** 2)))
    with pytest.raises(ValueError, match=r"may diverge.*quad says 'The integral is probably div"):
        normalizing_constant(lambda x: 1.0 + 0 * x)
    with pytest.raises(ValueError, match="may diverge"):
        normalizing_constant(lambda x: 1 / (1 + abs(x)))
    with pytest.raises(ValueError, match="`unnormalized_density` must be non-negative"):
        normalizing_constant(np.sin, 0, 4)
    with pytest.raises(ValueError, match="`unnormalized_density` returned a non-finite value"):
        normalizing_constant(lambda x: np.exp(-(x**2)) * 1e308 * 10, 0, 1)
    with pytest.raises(ValueError, match="`a` must be less than `b`"):
        normalizing_constant(np.exp, 1.0, 0.0)
    with pytest.raises(ValueError, match="`b` must not be NaN"):
        normalizing_constant(np.exp, 0.0, np.nan)
    with pytest.raises(TypeError, match="`a` must be a real number, got NoneType"):
        normalizing_constant(np.exp, None, 1.0)
    with pytest.raises(TypeError, match="`unnormalized_density` must be callable"):
        normalizing_constant(2.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_log_normalizing_constant_errors():
    with pytest.raises(ValueError, match=r"`log_density` is -inf on a grid .* pass `mode`"):
        log_normalizing_constant(lambda x: np.full(x.shape, -np.inf))
    with pytest.raises(ValueError, match="`log_density` must return one value per point"):
        log_normalizing_constant(lambda x: np.log(x))  # NaN for x < 0
    with pytest.raises(ValueError, match=r"`mode` must lie in \[a, b\]"):
        log_normalizing_constant(stats.norm.logpdf, 0.0, 1.0, mode=3.0)
    with pytest.raises(ValueError, match="`log_density` is -inf at the mode"):
        log_normalizing_constant(lambda x: np.where(x > 0, 0.0, -np.inf), -1.0, 1.0, mode=-0.5)
    with pytest.raises(ValueError, match="may diverge"):
        log_normalizing_constant(lambda x: -0.5 * np.log1p(x**2))
    with pytest.raises(TypeError, match="`mode` must be a real number"):
        log_normalizing_constant(stats.norm.logpdf, mode="0")


def test_expectation_errors():
    with pytest.raises(ValueError, match=r"`f` returned a non-finite value \(inf\)"):
        expectation(lambda x: np.inf if abs(x) < 1 else x, stats.norm.pdf)
    with pytest.raises(ValueError, match="may diverge"):
        expectation(lambda x: x**2, stats.cauchy.pdf)
    with pytest.raises(TypeError, match="`density` must be callable"):
        expectation(np.cos, "pdf")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the bad integrands warn
def test_monte_carlo_bad_input():
    with pytest.raises(ValueError, match=r"`sampler` must return n = 10 samples .* got 9"):
        monte_carlo(np.exp, lambda rng, n: rng.standard_normal(n - 1), 10)
    with pytest.raises(ValueError, match=r"`sampler` must return n = 10 samples .* got a scalar"):
        monte_carlo(np.exp, lambda rng, n: 1.0, 10)
    with pytest.raises(ValueError, match=r"`sampler\(rng, n\)` must be finite"):
        monte_carlo(np.exp, lambda rng, n: np.full(n, np.nan), 10)
    with pytest.raises(ValueError, match="`n` must be >= 2"):
        monte_carlo(np.exp, normal_sampler, 1)
    with pytest.raises(TypeError, match="`n` must be an integer, got float"):
        monte_carlo(np.exp, normal_sampler, 1e3)
    with pytest.raises(TypeError, match="`sampler` must be callable"):
        monte_carlo(np.exp, None, 10)
    with pytest.raises(ValueError, match="`f` returned a non-finite value"):
        monte_carlo(np.log, normal_sampler, 100, rng=0)
    with pytest.raises(ValueError, match="`sampler` must return n = 10 samples"):
        importance_sampling(
            np.exp, stats.norm.logpdf, lambda rng, n: np.zeros(3), stats.norm.logpdf, 10
        )


def test_laplace_logistic_posterior_converges_to_quadrature_as_data_grow():
    from scipy.special import expit, log_expit

    gaps = []
    for n_data in (10, 100, 1000):
        rng = np.random.default_rng(n_data)
        x = rng.standard_normal(n_data)
        y = (rng.random(n_data) < expit(1.5 * x)).astype(float)

        def ld(w, x=x, y=y):
            z = np.multiply.outer(np.asarray(w, dtype=float), x)
            return np.sum(y * log_expit(z) + (1 - y) * log_expit(-z), axis=-1) - w**2 / 2

        def grad(w, x=x, y=y):
            return np.array([x @ (y - expit(w[0] * x)) - w[0]])

        def hess(w, x=x):
            s = expit(w[0] * x)
            return np.array([[-np.sum(x**2 * s * (1 - s)) - 1.0]])

        exact = log_normalizing_constant(ld)
        newton = laplace_approximation(lambda w: ld(w[0]), 0.0, grad=grad, hess=hess)
        plain = laplace_approximation(lambda w: ld(w[0]), 0.0)
        assert newton.success and plain.success
        assert plain.log_normalizer == pytest.approx(newton.log_normalizer, abs=1e-6)
        gaps.append(abs(newton.log_normalizer - exact))
    assert gaps[0] > gaps[1] > gaps[2]


def test_outputs_of_the_callables_are_checked_with_one_taxonomy():
    # A wrong dtype is a TypeError and a wrong shape a ValueError, as in calcml.differentiate.
    with pytest.raises(TypeError, match=r"`f` must return real numbers, got dtype <U1"):
        trapezoid_rule(lambda x: np.full(x.shape, "a"), 0.0, 1.0, 4)
    with pytest.raises(TypeError, match=r"`log_density` must return real numbers"):
        log_normalizing_constant(lambda x: np.full(x.shape, "a"))
    with pytest.raises(TypeError, match=r"`log_target` must return real numbers"):
        importance_sampling(
            np.exp, lambda x: x.astype(str), normal_sampler, stats.norm.logpdf, 10, rng=0
        )
    with pytest.raises(TypeError, match=r"`log_density` must return real numbers, got dtype"):
        laplace_approximation(lambda x: "a", [0.0])
    with pytest.raises(ValueError, match=r"`log_density` must return a scalar, got shape \(2,\)"):
        laplace_approximation(lambda x: -(x**2), [0.0, 1.0])
    ell = lambda x: -0.5 * float(x @ x)  # noqa: E731
    with pytest.raises(ValueError, match=r"`grad` must return 2 values, got shape \(3,\)"):
        laplace_approximation(ell, [1.0, 1.0], grad=lambda x: np.zeros(3))
    with pytest.raises(ValueError, match=r"`hess` must return a \(2, 2\) matrix, got shape \(2,\)"):
        laplace_approximation(ell, [1.0, 1.0], grad=lambda x: -x, hess=lambda x: np.ones(2))
    with pytest.raises(TypeError, match=r"positional"):
        ImportanceSamplingResult(1.0, 0.1, 10, 5.0)  # keyword-only fields
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'ess'"):
        ImportanceSamplingResult(estimate=1.0, std_error=0.1, n=10)  # no placeholder default


# --- gradients of Gaussian expectations ---------------------------------------------------
# Closed forms for q = N(mu, diag(s^2)):
#   E[sum z^2] = sum(mu^2 + s^2)           -> d/dmu = 2 mu, d/ds = 2 s
#   E[sum sin z] = sum(sin mu e^{-s^2/2})  -> d/dmu = cos mu e^{-s^2/2}, d/ds = -s sin mu e^{-s^2/2}

MU = np.array([0.5, -1.0, 2.0])
SD = np.array([1.0, 0.5, 1.5])
QUAD_GRAD = np.stack([2 * MU, 2 * SD])
SIN_GRAD = np.stack([np.cos(MU) * np.exp(-(SD**2) / 2), -SD * np.sin(MU) * np.exp(-(SD**2) / 2)])


def within(res: GradientEstimateResult, exact: np.ndarray, k: float = 4.5) -> bool:
    return bool(np.all(np.abs(res.estimate - exact) <= k * res.std_error))


@pytest.mark.parametrize("baseline", [None, 3.0, "leave-one-out"])
def test_score_function_unbiased_on_closed_forms(baseline):
    res = score_function_gradient(
        lambda z: np.sum(z**2, axis=1), MU, SD, 200_000, baseline=baseline, rng=1
    )
    assert isinstance(res, GradientEstimateResult) and res.n == 200_000
    assert res.estimate.shape == res.std_error.shape == (2, 3)
    assert within(res, QUAD_GRAD)
    res = score_function_gradient(lambda z: np.sum(np.sin(z), axis=1), MU, SD, 200_000, rng=2)
    assert within(res, SIN_GRAD)


def test_reparameterization_unbiased_on_closed_forms():
    res = reparameterization_gradient(lambda z: 2 * z, MU, SD, 50_000, rng=3)
    assert within(res, QUAD_GRAD)
    res = reparameterization_gradient(np.cos, MU, SD, 50_000, rng=4)
    assert within(res, SIN_GRAD)


def test_repeated_estimates_scatter_as_their_standard_errors_say():
    # over 200 independent runs the z-scores of one entry have mean ~0 and sd ~1
    z = [
        (reparameterization_gradient(np.cos, MU, SD, 500, rng=k).estimate[0, 0] - SIN_GRAD[0, 0])
        / reparameterization_gradient(np.cos, MU, SD, 500, rng=k).std_error[0, 0]
        for k in range(200)
    ]
    assert abs(np.mean(z)) < 4 / np.sqrt(200) and 0.8 < np.std(z) < 1.2


def test_variance_ratio_matches_theory_for_linear_and_quadratic_functions():
    # f(z) = z in one dimension at mu = 0, s = 1: the pathwise per-sample gradient in mu is 1
    # (variance 0); the score-function one is z * eps = eps^2: variance E[eps^4] - 1 = 2.
    lin = reparameterization_gradient(lambda z: np.ones_like(z), 0.0, 1.0, 100, rng=6)
    assert lin.std_error[0, 0] == 0.0 and lin.estimate[0, 0] == 1.0
    lin_sf = score_function_gradient(lambda z: z[:, 0], 0.0, 1.0, 400_000, rng=6)
    assert lin_sf.std_error[0, 0] ** 2 * lin_sf.n == pytest.approx(2.0, rel=0.03)
    # For f(z) = z^2 the d/dmu terms are 2z (variance 4 s^2 = 4) against z^2 * eps with
    # variance E[eps^6] = 15: a ratio of 15/4.
    sf = score_function_gradient(lambda z: z[:, 0] ** 2, 0.0, 1.0, 400_000, rng=5)
    rp = reparameterization_gradient(lambda z: 2 * z, 0.0, 1.0, 400_000, rng=5)
    ratio = (sf.std_error[0, 0] / rp.std_error[0, 0]) ** 2
    assert ratio == pytest.approx(15 / 4, rel=0.05)


def test_baseline_reduces_the_variance():
    # f = sum z^2 + 10: a large constant inflates the score-function variance; the optimal
    # constant baseline is near E[f], and leave-one-out estimates it
    f = lambda z: np.sum(z**2, axis=1) + 10.0  # noqa: E731
    plain = score_function_gradient(f, MU, SD, 100_000, rng=7)
    loo = score_function_gradient(f, MU, SD, 100_000, baseline="leave-one-out", rng=7)
    assert np.all(loo.std_error < plain.std_error / 1.5)
    assert within(loo, QUAD_GRAD) and within(plain, QUAD_GRAD)


def test_same_rng_same_samples():
    # the two estimators draw the same zeta from the same seed: for f(x) = x at s = 1 the
    # score-function d/ds term is (mu + zeta)(zeta^2 - 1) and the pathwise one is zeta
    mu, n, seed = 0.7, 50, 8
    zeta = np.random.default_rng(seed).standard_normal((n, 1))[:, 0]
    sf = score_function_gradient(lambda z: z[:, 0], mu, 1.0, n, rng=seed)
    rp = reparameterization_gradient(np.ones_like, mu, 1.0, n, rng=seed)
    assert sf.estimate[1, 0] == pytest.approx(np.mean((mu + zeta) * (zeta**2 - 1)), abs=1e-14)
    assert rp.estimate[1, 0] == pytest.approx(np.mean(zeta), abs=1e-15)
    assert sf.estimate[0, 0] == pytest.approx(np.mean((mu + zeta) * zeta), abs=1e-14)
    a = score_function_gradient(lambda z: z[:, 0], [0.0], [1.0], 10, rng=8)
    b = score_function_gradient(lambda z: z[:, 0], [0.0], [1.0], 10, rng=8)
    np.testing.assert_array_equal(a.estimate, b.estimate)


def test_gaussian_elbo_matches_closed_form():
    # log p~(z) = log Z0 + log N(z; m0, s0^2) per coordinate; ELBO = log Z0 - KL(q || p)
    m0, s0, log_z0 = np.array([1.0, -2.0]), np.array([0.7, 2.0]), 3.5
    mu, sd = np.array([0.2, -1.0]), np.array([1.1, 0.4])
    log_joint = lambda z: log_z0 + stats.norm.logpdf(z, m0, s0).sum(axis=1)  # noqa: E731
    kl = np.sum(np.log(s0 / sd) + (sd**2 + (mu - m0) ** 2) / (2 * s0**2) - 0.5)
    res = gaussian_elbo(log_joint, mu, sd, 200_000, rng=9)
    assert abs(res.estimate - (log_z0 - kl)) < 4 * res.std_error
    assert res.estimate < log_z0
    exact = gaussian_elbo(log_joint, m0, s0, 1000, rng=10)  # q = p: ELBO = log Z0, KL = 0
    assert abs(exact.estimate - log_z0) < 4 * exact.std_error


def test_gradient_estimators_reject_bad_input():
    f = lambda z: z[:, 0]  # noqa: E731
    with pytest.raises(TypeError, match="`f` must be callable"):
        score_function_gradient(None, 0.0, 1.0, 10)
    with pytest.raises(TypeError, match="`grad_f` must be callable"):
        reparameterization_gradient(3, 0.0, 1.0, 10)
    with pytest.raises(ValueError, match="`std` must be positive"):
        score_function_gradient(f, 0.0, 0.0, 10)
    with pytest.raises(ValueError, match="`std` must have the shape of `mean`"):
        reparameterization_gradient(lambda z: z, [0.0, 1.0], [1.0], 10)
    with pytest.raises(ValueError, match="`mean` must be a scalar or a 1-D array"):
        gaussian_elbo(f, np.zeros((2, 2)), np.ones((2, 2)), 10)
    with pytest.raises(ValueError, match="`mean` must have at least one entry"):
        score_function_gradient(f, [], [], 10)
    with pytest.raises(ValueError, match="`mean` must have at least one entry"):
        reparameterization_gradient(lambda z: z, [], [], 10)
    with pytest.raises(ValueError, match="`mean` must be finite"):
        score_function_gradient(f, np.nan, 1.0, 10)
    with pytest.raises(ValueError, match="`n` must be"):
        score_function_gradient(f, 0.0, 1.0, 1)
    with pytest.raises(ValueError, match="`baseline` must be one of"):
        score_function_gradient(f, 0.0, 1.0, 10, baseline="mean")
    with pytest.raises(ValueError, match="`baseline` must be finite"):
        score_function_gradient(f, 0.0, 1.0, 10, baseline=np.inf)
    with pytest.raises(ValueError, match=r"`grad_f` must return an array of shape \(10, 2\)"):
        reparameterization_gradient(lambda z: z[:, 0], [0.0, 0.0], [1.0, 1.0], 10)
    with pytest.raises(ValueError, match="`grad_f` returned a non-finite value"):
        reparameterization_gradient(lambda z: np.full_like(z, np.inf), 0.0, 1.0, 10)
    with pytest.raises(ValueError, match="`f` must return one value per point"):
        score_function_gradient(lambda z: z, [0.0, 0.0], [1.0, 1.0], 10)
    with pytest.raises(TypeError, match="`rng`"):
        reparameterization_gradient(lambda z: z, 0.0, 1.0, 10, rng="seed")
    one_d = reparameterization_gradient(lambda z: 2 * z[:, 0], 1.0, 1.0, 10, rng=0)
    assert one_d.estimate.shape == (2, 1)  # shape (n,) accepted when d = 1

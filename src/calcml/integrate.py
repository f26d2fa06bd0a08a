"""Integration for machine learning: quadrature rules, expectations, Monte Carlo, Laplace.

Every function takes the integrand (a vectorised callable) first. The fixed rules
(:func:`trapezoid_rule`, :func:`simpson_rule`, :func:`gauss_legendre`) need finite
limits; :func:`normalizing_constant`, :func:`log_normalizing_constant` and
:func:`expectation` call :func:`scipy.integrate.quad` and accept infinite ones.

What the module offers:

- Quadrature rules on :math:`[a, b]`: :func:`riemann_sum`, :func:`trapezoid_rule`,
  :func:`simpson_rule`, :func:`gauss_legendre`; and :func:`gauss_hermite_expectation`
  for Gaussian expectations.
- Areas under densities and expectations by ``quad``: :func:`normalizing_constant`,
  :func:`log_normalizing_constant` (no overflow), :func:`expectation`.
- Sampling: :func:`monte_carlo` (:class:`MonteCarloResult`) and
  :func:`importance_sampling` (:class:`ImportanceSamplingResult`).
- The Laplace approximation: :func:`laplace_approximation` (:class:`LaplaceResult`).
- Gradients of Gaussian expectations by Monte Carlo: :func:`score_function_gradient`
  and :func:`reparameterization_gradient` (:class:`GradientEstimateResult`), and the
  evidence lower bound :func:`gaussian_elbo` of variational inference.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate as quadpack
from scipy import optimize, special

from calcml import differentiate
from calcml._validation import (
    Seed,
    as_finite_array,
    check_callable,
    check_choice,
    check_finite_scalar,
    check_int,
    check_limits,
    check_positive,
    check_rng,
    documented_in,
    real_output,
    scalar_output,
    with_book_link,
)

__doc__ = with_book_link(__doc__, "integration_examples")

__all__ = [
    "GradientEstimateResult",
    "ImportanceSamplingResult",
    "LaplaceResult",
    "MonteCarloResult",
    "expectation",
    "gauss_hermite_expectation",
    "gauss_legendre",
    "gaussian_elbo",
    "importance_sampling",
    "laplace_approximation",
    "log_normalizing_constant",
    "monte_carlo",
    "normalizing_constant",
    "reparameterization_gradient",
    "riemann_sum",
    "score_function_gradient",
    "simpson_rule",
    "trapezoid_rule",
]


def _values(f: Callable[..., Any], x: NDArray[Any], name: str = "f") -> NDArray[np.float64]:
    """Evaluate the vectorised ``f`` at the points ``x``; finite, one value per point."""
    y = real_output(f(x), name)
    n = x.shape[0] if x.ndim else 1
    if y.ndim == 0:  # a constant integrand such as ``lambda x: 1.0``
        y = np.full(n, float(y))
    if y.shape != (n,):
        raise ValueError(
            f"`{name}` must return one value per point: expected shape ({n},), "
            f"got {y.shape} (is `{name}` vectorised?)"
        )
    bad = ~np.isfinite(y)
    if np.any(bad):
        where = (x[bad][0] if x.ndim else x).tolist()
        raise ValueError(f"`{name}` returned a non-finite value ({y[bad][0]}) at {where!r}")
    return y


@functools.lru_cache(maxsize=64)
def _nodes(kind: str, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gauss nodes and weights, computed once per ``n`` (an eigenvalue problem each time)."""
    rule = (
        np.polynomial.legendre.leggauss
        if kind == "legendre"
        else np.polynomial.hermite_e.hermegauss
    )
    nodes, weights = rule(n)
    nodes.flags.writeable = weights.flags.writeable = False
    return nodes, weights


@documented_in("integration_examples", "riemann-sums-and-quadrature-rules")
def riemann_sum(
    f: Callable[..., Any], a: float, b: float, n: int, *, point: str = "midpoint"
) -> float:
    r"""Riemann sum of ``f`` on ``[a, b]`` with ``n`` equal rectangles.

    Parameters
    ----------
    f : callable
        Vectorised integrand, ``f(x)`` for a 1-D array ``x``.
    a, b : float
        Finite limits.
    n : int
        Number of rectangles, at least 1.
    point : {"left", "right", "midpoint"}
        Where each rectangle takes its height.

    Returns
    -------
    float
        :math:`h \sum_i f(x_i)` with :math:`h = (b - a)/n`.

    Examples
    --------
    >>> riemann_sum(lambda x: x**2, 0.0, 1.0, 4, point="left")
    0.21875
    """
    check_callable(f, "f")
    a, b = check_limits(a, b, finite_for="riemann_sum")
    n = check_int(n, "n", minimum=1)
    offset = {"left": 0.0, "right": 1.0, "midpoint": 0.5}[
        check_choice(point, "point", ["left", "right", "midpoint"])
    ]
    h = (b - a) / n
    return float(h * np.sum(_values(f, a + (np.arange(n) + offset) * h)))


@documented_in("integration_examples", "riemann-sums-and-quadrature-rules")
def trapezoid_rule(f: Callable[..., Any], a: float, b: float, n: int) -> float:
    r"""Composite trapezoid rule with ``n`` subintervals (error :math:`\bigO(n^{-2})`).

    Exact for polynomials of degree at most 1. The function evaluates ``f`` on
    the grid and calls :func:`scipy.integrate.trapezoid`.

    Parameters
    ----------
    f : callable
        Vectorised integrand.
    a, b : float
        Finite limits (``b < a`` flips the sign).
    n : int
        Number of subintervals, at least 1.

    Returns
    -------
    float
        The approximation of :math:`\int_a^b f(x)\,dx`.

    Examples
    --------
    >>> trapezoid_rule(lambda x: 3 * x + 1, 0.0, 2.0, 1)
    8.0
    """
    check_callable(f, "f")
    a, b = check_limits(a, b, finite_for="trapezoid_rule")
    n = check_int(n, "n", minimum=1)
    y = _values(f, np.linspace(a, b, n + 1))
    return float(quadpack.trapezoid(y, dx=(b - a) / n))


@documented_in("integration_examples", "riemann-sums-and-quadrature-rules")
def simpson_rule(f: Callable[..., Any], a: float, b: float, n: int) -> float:
    r"""Composite Simpson rule, ``n`` even subintervals (error :math:`\bigO(n^{-4})`).

    Exact for polynomials of degree at most 3; calls :func:`scipy.integrate.simpson`.

    Parameters
    ----------
    f : callable
        Vectorised integrand.
    a, b : float
        Finite limits.
    n : int
        Number of subintervals: even and at least 2.

    Returns
    -------
    float
        The approximation of :math:`\int_a^b f(x)\,dx`.

    Examples
    --------
    >>> simpson_rule(lambda x: x**3, 0.0, 2.0, 2)
    4.0
    """
    check_callable(f, "f")
    a, b = check_limits(a, b, finite_for="simpson_rule")
    n = check_int(n, "n", minimum=2)
    if n % 2:
        raise ValueError(f"`n` must be even for Simpson's rule, got {n}")
    y = _values(f, np.linspace(a, b, n + 1))
    return float(quadpack.simpson(y, dx=(b - a) / n))


@documented_in("integration_examples", "riemann-sums-and-quadrature-rules")
def gauss_legendre(f: Callable[..., Any], a: float, b: float, n: int) -> float:
    r"""Gauss–Legendre quadrature with ``n`` nodes, exact for degree :math:`\le 2n - 1`.

    Nodes and weights come from :func:`numpy.polynomial.legendre.leggauss`,
    mapped from :math:`[-1, 1]` to :math:`[a, b]`.

    Parameters
    ----------
    f : callable
        Vectorised integrand.
    a, b : float
        Finite limits.
    n : int
        Number of nodes, at least 1.

    Returns
    -------
    float
        The approximation of :math:`\int_a^b f(x)\,dx`.

    Examples
    --------
    >>> gauss_legendre(lambda x: x**5 + x**2, 0.0, 1.0, 3)  # 1/6 + 1/3
    0.5
    """
    check_callable(f, "f")
    a, b = check_limits(a, b, finite_for="gauss_legendre")
    n = check_int(n, "n", minimum=1)
    nodes, weights = _nodes("legendre", n)
    half, mid = (b - a) / 2, (a + b) / 2
    return float(half * np.dot(weights, _values(f, mid + half * nodes)))


@documented_in("integration_examples", "expectations")
def gauss_hermite_expectation(
    f: Callable[..., Any], mean: float = 0.0, std: float = 1.0, n: int = 20
) -> float:
    r"""Expectation :math:`\E[f(X)]` for :math:`X \sim \normal(\mu, \sigma^2)` by Gauss–Hermite.

    Uses the probabilists' nodes of :func:`numpy.polynomial.hermite_e.hermegauss`:
    :math:`\E[f(X)] \approx \sum_i w_i f(\mu + \sigma z_i) / \sqrt{2\pi}`, exact when
    ``f`` is a polynomial of degree at most :math:`2n - 1`.

    Parameters
    ----------
    f : callable
        Vectorised function of the random variable.
    mean : float
        The mean :math:`\mu`.
    std : float
        The standard deviation :math:`\sigma > 0`.
    n : int
        Number of nodes, at least 1.

    Returns
    -------
    float
        The approximation of :math:`\E[f(X)]`.

    Examples
    --------
    >>> gauss_hermite_expectation(lambda x: x**2, mean=1.0, std=2.0, n=2)  # 1 + 4
    5.0
    """
    check_callable(f, "f")
    mean = check_finite_scalar(mean, "mean")
    std = check_positive(std, "std")
    n = check_int(n, "n", minimum=1)
    nodes, weights = _nodes("hermite", n)
    return float(np.dot(weights, _values(f, mean + std * nodes)) / np.sqrt(2 * np.pi))


def _scalar_values(
    f: Callable[..., Any], name: str, nonnegative: bool = False
) -> Callable[[float], float]:
    """Wrap ``f`` for :func:`scipy.integrate.quad`: finite (and non-negative) values only."""

    def wrapped(x: float) -> float:
        value = float(_values(f, np.asarray(x), name)[0])
        if nonnegative and value < 0:
            raise ValueError(f"`{name}` must be non-negative, got {value} at {x!r}")
        return value

    return wrapped


def _quad(g: Callable[[float], float], a: float, b: float, what: str) -> float:
    """:func:`scipy.integrate.quad` that raises instead of returning an unreliable value."""
    result = quadpack.quad(g, a, b, full_output=1, limit=200)
    if len(result) > 3:  # quad reports a problem only when ier != 0
        message = str(result[3]).split("\n")[0]
        raise ValueError(
            f"{what} could not be computed reliably on [{a}, {b}] "
            f"(the integral may diverge): scipy.integrate.quad says {message!r}"
        )
    return float(result[0])


@documented_in("integration_examples", "areas-under-probability-densities")
def normalizing_constant(
    unnormalized_density: Callable[..., Any], a: float = -np.inf, b: float = np.inf
) -> float:
    r"""The normalizing constant :math:`Z = \int_a^b \tilde p(x)\,dx` by ``quad``.

    Raises ``ValueError`` when the density is negative or non-finite somewhere,
    when :math:`Z` is zero (the mass may sit far from where ``quad`` looks: try
    :func:`log_normalizing_constant`), or when ``quad`` reports a divergent or
    unreliable integral. Never returns NaN.

    Parameters
    ----------
    unnormalized_density : callable
        :math:`\tilde p(x) \ge 0`, called with scalars.
    a, b : float
        Limits, :math:`a < b`; infinite limits are allowed.

    Returns
    -------
    float
        :math:`Z > 0`.

    Examples
    --------
    >>> z = normalizing_constant(lambda x: np.exp(-x**2 / 2))
    >>> bool(abs(z - np.sqrt(2 * np.pi)) < 1e-10)
    True
    """
    check_callable(unnormalized_density, "unnormalized_density")
    a, b = check_limits(a, b)
    g = _scalar_values(unnormalized_density, "unnormalized_density", nonnegative=True)
    z = _quad(g, a, b, "the normalizing constant")
    if not z > 0:
        raise ValueError(
            f"the normalizing constant of `unnormalized_density` on [{a}, {b}] is "
            f"{z}: the density may vanish there, or its mass lies where quad does "
            "not look; try log_normalizing_constant, which locates the mode"
        )
    return z


def _grid(a: float, b: float) -> NDArray[np.float64]:
    """Points inside (a, b) to locate a mode: uniform, geometric or sinh-spaced."""
    if np.isfinite(a) and np.isfinite(b):
        return np.linspace(a, b, 403)[1:-1]
    if np.isfinite(a):
        return a + np.exp(np.linspace(-12.0, 9.0, 401))
    if np.isfinite(b):
        return b - np.exp(np.linspace(9.0, -12.0, 401))
    return np.sinh(np.linspace(-8.0, 8.0, 401))


@documented_in("integration_examples", "areas-under-probability-densities")
def log_normalizing_constant(
    log_density: Callable[..., Any],
    a: float = -np.inf,
    b: float = np.inf,
    *,
    mode: float | None = None,
) -> float:
    r"""The logarithm :math:`\log \int_a^b e^{\ell(x)}\,dx`, computed without overflow.

    The mode :math:`m` of :math:`\ell` is located on a grid and refined with
    :func:`scipy.optimize.minimize_scalar` (or given as ``mode``); then
    :math:`\log Z = \ell(m) + \log \int_a^b e^{\ell(x) - \ell(m)}\,dx`, with the
    integral split at :math:`m` so that ``quad`` sees the peak.

    Parameters
    ----------
    log_density : callable
        Vectorised :math:`\ell(x) = \log \tilde p(x)`; ``-inf`` marks zero density.
    a, b : float
        Limits, :math:`a < b`; infinite limits are allowed.
    mode : float, optional
        A point near the maximum of :math:`\ell`, if known.

    Returns
    -------
    float
        :math:`\log Z`.

    Examples
    --------
    >>> log_z = log_normalizing_constant(lambda x: 1000.0 - x**2 / 2)  # Z overflows
    >>> round(float(log_z - 1000.0 - 0.5 * np.log(2 * np.pi)), 10)
    0.0
    """
    check_callable(log_density, "log_density")
    a, b = check_limits(a, b)

    def ell(x: NDArray[Any]) -> NDArray[np.float64]:
        y = real_output(log_density(x), "log_density")
        y = np.full(x.shape, float(y)) if y.ndim == 0 else y
        if y.shape != x.shape or np.any(np.isnan(y) | (y == np.inf)):
            raise ValueError(
                "`log_density` must return one value per point, each finite "
                f"or -inf; got {y!r} at {x!r}"
            )
        return y

    if mode is None:
        grid = _grid(a, b)
        values = ell(grid)
        i = int(np.argmax(values))
        if values[i] == -np.inf:
            raise ValueError(f"`log_density` is -inf on a grid over [{a}, {b}]: pass `mode`")
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = optimize.minimize_scalar(
            lambda t: -ell(np.asarray([t]))[0],
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10 * (1 + abs(lo))},
        )
        m = float(res.x) if -res.fun >= values[i] else float(grid[i])
    else:
        m = check_finite_scalar(mode, "mode")
        if not a <= m <= b:
            raise ValueError(f"`mode` must lie in [a, b] = [{a}, {b}], got {m}")
    top = float(ell(np.asarray([m]))[0])
    if not np.isfinite(top):
        raise ValueError(f"`log_density` is -inf at the mode {m}")

    def shifted(x: float) -> float:
        return float(np.exp(ell(np.asarray([x]))[0] - top))

    total = sum(
        _quad(shifted, lo_, hi_, "the log normalizing constant")
        for lo_, hi_ in ((a, m), (m, b))
        if lo_ < hi_
    )
    if not total > 0:  # pragma: no cover - the integrand is 1 at the mode
        raise ValueError("the shifted integral is zero; the density is too narrow for quad")
    return top + float(np.log(total))


@documented_in("integration_examples", "expectations")
def expectation(
    f: Callable[..., Any], density: Callable[..., Any], a: float = -np.inf, b: float = np.inf
) -> float:
    r"""Expectation :math:`\E[f(X)] = \int f\,p \big/ \int p` by :func:`scipy.integrate.quad`.

    The density need not be normalized: the result is divided by
    :func:`normalizing_constant`. Non-finite values of ``f`` raise ``ValueError``.

    Parameters
    ----------
    f : callable
        The function of the random variable.
    density : callable
        The (possibly unnormalized) density :math:`p \ge 0`.
    a, b : float
        Limits of the support, :math:`a < b`; infinite limits are allowed.

    Returns
    -------
    float
        :math:`\E[f(X)]`.

    Examples
    --------
    >>> expectation(lambda x: x, lambda x: np.exp(-x), 0.0)  # exponential, mean 1
    1.0
    """
    check_callable(f, "f")
    check_callable(density, "density")
    a, b = check_limits(a, b)
    z = normalizing_constant(density, a, b)
    f_ = _scalar_values(f, "f")
    p = _scalar_values(density, "density", nonnegative=True)
    return _quad(lambda x: f_(x) * p(x), a, b, "the expectation") / z


@dataclass(frozen=True, kw_only=True)
class MonteCarloResult:
    """A Monte Carlo estimate with its standard error.

    Attributes
    ----------
    estimate : float
        The sample mean.
    std_error : float
        The estimated standard error of ``estimate``.
    n : int
        The number of samples.
    """

    estimate: float
    std_error: float
    n: int

    def confidence_interval(self, level: float = 0.95) -> tuple[float, float]:
        """The normal-approximation interval ``estimate ± z std_error`` at ``level``.

        >>> MonteCarloResult(estimate=1.0, std_error=0.5, n=100).confidence_interval(0.95)
        (0.020018, 1.979982)
        """
        level = check_positive(level, "level")
        if level >= 1:
            raise ValueError(f"`level` must be in (0, 1), got {level}")
        z = float(special.ndtri(0.5 + level / 2))
        return self.estimate - z * self.std_error, self.estimate + z * self.std_error


@dataclass(frozen=True, kw_only=True)
class ImportanceSamplingResult(MonteCarloResult):
    """An importance-sampling estimate with its standard error.

    Attributes
    ----------
    estimate, std_error, n : float, float, int
        As for :class:`MonteCarloResult`.
    ess : float
        Kish's effective sample size :math:`(\\sum w)^2 / \\sum w^2`.
    """

    ess: float


def _draw(sampler: Callable[..., Any], n: int, rng: Seed) -> NDArray[Any]:
    check_callable(sampler, "sampler")
    generator = check_rng(rng)
    x = as_finite_array(sampler(generator, n), "sampler(rng, n)")
    if x.ndim == 0 or x.shape[0] != n:
        got = x.shape[0] if x.ndim else "a scalar"
        raise ValueError(f"`sampler` must return n = {n} samples (along axis 0), got {got}")
    return x


@documented_in("integration_examples", "monte-carlo")
def monte_carlo(
    f: Callable[..., Any], sampler: Callable[..., Any], n: int, *, rng: Seed = None
) -> MonteCarloResult:
    r"""Monte Carlo estimate of :math:`\E[f(X)]` from ``n`` draws of ``sampler``.

    The standard error is :math:`s/\sqrt{n}` with the sample standard deviation
    :math:`s`, so the error shrinks like :math:`n^{-1/2}` in any dimension.

    Parameters
    ----------
    f : callable
        Vectorised: maps an array of ``n`` samples (shape ``(n,)`` or ``(n, d)``)
        to ``n`` values.
    sampler : callable
        ``sampler(rng, n)`` returns ``n`` samples of :math:`X` along axis 0.
    n : int
        Number of samples, at least 2.
    rng : None, int or numpy.random.Generator, optional
        Source of the samples, as :func:`numpy.random.default_rng` accepts it
        (``None``: fresh entropy).

    Returns
    -------
    MonteCarloResult
        ``estimate``, ``std_error`` and ``n``.

    Examples
    --------
    >>> res = monte_carlo(lambda x: x**2, lambda rng, n: rng.standard_normal(n), 10_000, rng=0)
    >>> lo, hi = res.confidence_interval()
    >>> bool(lo < 1.0 < hi), bool(res.std_error < 0.02)
    (True, True)
    """
    check_callable(f, "f")
    n = check_int(n, "n", minimum=2)
    y = _values(f, _draw(sampler, n, rng))
    return MonteCarloResult(
        estimate=float(y.mean()), std_error=float(y.std(ddof=1) / np.sqrt(n)), n=n
    )


@documented_in("integration_examples", "importance-sampling")
def importance_sampling(
    f: Callable[..., Any],
    log_target: Callable[..., Any],
    sampler: Callable[..., Any],
    log_proposal: Callable[..., Any],
    n: int,
    *,
    rng: Seed = None,
    self_normalize: bool = False,
) -> ImportanceSamplingResult:
    r"""Importance sampling: :math:`\E_p[f(X)] = \E_q[f(X)\,p(X)/q(X)]` with draws from :math:`q`.

    Weights :math:`w = p/q` are formed in log space. With ``self_normalize=True``
    the target may be unnormalized and the estimate is :math:`\sum w f / \sum w`
    (delta-method standard error). The effective sample size is
    :math:`(\sum w)^2 / \sum w^2`.

    Parameters
    ----------
    f : callable
        Vectorised function of the samples.
    log_target : callable
        Vectorised :math:`\log p` (normalized unless ``self_normalize``).
    sampler : callable
        ``sampler(rng, n)`` draws ``n`` samples from the proposal :math:`q`.
    log_proposal : callable
        Vectorised :math:`\log q`, normalized.
    n : int
        Number of samples, at least 2.
    rng : None, int or numpy.random.Generator, optional
        Source of the samples, as :func:`numpy.random.default_rng` accepts it
        (``None``: fresh entropy).
    self_normalize : bool
        Divide by the sum of the weights instead of ``n``.

    Returns
    -------
    ImportanceSamplingResult
        ``estimate``, ``std_error``, ``n`` and ``ess``.

    Examples
    --------
    >>> from scipy.stats import norm
    >>> res = importance_sampling(lambda x: x > 4, norm.logpdf,
    ...                           lambda rng, n: rng.normal(4.0, 1.0, n),
    ...                           lambda x: norm.logpdf(x, 4.0), 10_000, rng=1)
    >>> bool(abs(res.estimate / norm.sf(4) - 1) < 0.05)
    True
    """
    check_callable(f, "f")
    check_callable(log_target, "log_target")
    check_callable(log_proposal, "log_proposal")
    n = check_int(n, "n", minimum=2)
    x = _draw(sampler, n, rng)
    y = _values(f, x)
    log_q = _values(log_proposal, x, "log_proposal")
    log_p = real_output(log_target(x), "log_target")
    if log_p.shape != (n,) or np.any(np.isnan(log_p) | (log_p == np.inf)):
        raise ValueError("`log_target` must return one finite (or -inf) value per sample")
    log_w = log_p - log_q
    shift = float(np.max(log_w))
    if not np.isfinite(shift):
        raise ValueError("every importance weight is zero: the proposal misses the target")
    w = np.exp(log_w - shift)  # in (0, 1], the largest is 1
    ess = float(w.sum() ** 2 / np.sum(w**2))
    if self_normalize:
        est = float(np.dot(w, y) / w.sum())
        se = float(np.sqrt(np.sum(w**2 * (y - est) ** 2)) / w.sum())
    else:
        with np.errstate(over="ignore"):  # overflow is caught just below
            wy = np.exp(log_w) * y
        if not np.all(np.isfinite(wy)):
            raise ValueError("importance weights overflow; use self_normalize=True")
        est, se = float(wy.mean()), float(wy.std(ddof=1) / np.sqrt(n))
    return ImportanceSamplingResult(estimate=est, std_error=se, n=n, ess=ess)


@dataclass(frozen=True, kw_only=True)
class LaplaceResult:
    r"""The Laplace approximation :math:`\normal(\text{mode}, \text{cov})` of a density.

    Attributes
    ----------
    mode : ndarray
        The maximizer of the log density, shape ``(d,)``.
    cov : ndarray
        The inverse of the negative Hessian at the mode, shape ``(d, d)``.
    log_normalizer : float
        :math:`\log Z \approx \ell(m) + \tfrac{d}{2}\log 2\pi - \tfrac12 \log\det H`.
    success : bool
        Whether :func:`scipy.optimize.minimize` reported success.
    message : str
        Its message.
    """

    mode: NDArray[np.float64]
    cov: NDArray[np.float64]
    log_normalizer: float
    success: bool
    message: str


@documented_in("integration_examples", "capstone-the-laplace-approximation")
def laplace_approximation(
    log_density: Callable[..., Any],
    x0: ArrayLike,
    *,
    grad: Callable[..., Any] | None = None,
    hess: Callable[..., Any] | None = None,
) -> LaplaceResult:
    r"""Laplace approximation: a Gaussian at the mode with the curvature of the log density.

    The mode :math:`m` maximizes :math:`\ell` (:func:`scipy.optimize.minimize` on
    :math:`-\ell`: BFGS, or Newton-CG when ``grad`` and ``hess`` are both given);
    :math:`H = -\hess \ell(m)` comes from
    ``hess`` or :func:`calcml.differentiate.hessian`. Then
    :math:`\log \int e^{\ell} \approx \ell(m) + \tfrac{d}{2}\log 2\pi - \tfrac12\log\det H`
    (via :func:`numpy.linalg.slogdet`), exact when :math:`\ell` is quadratic.

    Parameters
    ----------
    log_density : callable
        :math:`\ell(x)` for a 1-D array ``x`` of shape ``(d,)``, returns a scalar.
    x0 : array_like
        Starting point (a scalar means ``d = 1``).
    grad, hess : callable, optional
        :math:`\grad \ell` (shape ``(d,)``) and :math:`\hess \ell` (shape ``(d, d)``).

    Returns
    -------
    LaplaceResult
        ``mode``, ``cov``, ``log_normalizer``, ``success`` and ``message``.

    Examples
    --------
    >>> res = laplace_approximation(lambda x: -0.5 * x[0] ** 2 / 4.0, 1.0)  # N(0, 4) kernel
    >>> bool(abs(res.log_normalizer - 0.5 * np.log(2 * np.pi * 4.0)) < 1e-6)
    True
    """
    check_callable(log_density, "log_density")
    x_start = np.atleast_1d(as_finite_array(x0, "x0"))
    if x_start.ndim != 1:
        raise ValueError(f"`x0` must be a scalar or a 1-D array, got shape {x_start.shape}")
    d = x_start.size

    def ell(x: NDArray[Any]) -> float:
        return scalar_output(log_density(x), "log_density")

    def neg(x: NDArray[Any]) -> float:
        value = ell(x)
        return -value if not np.isnan(value) else np.inf

    jac: Any = "3-point"  # central differences, more accurate than SciPy's default
    if grad is not None:
        check_callable(grad, "grad")

        def jac(x: NDArray[Any]) -> NDArray[np.float64]:
            g = real_output(grad(x), "grad")
            if g.size != d:
                raise ValueError(f"`grad` must return {d} values, got shape {g.shape}")
            return -g.reshape(d)

    if hess is not None:
        check_callable(hess, "hess")

    def hess_matrix(x: NDArray[Any]) -> NDArray[np.float64]:
        assert hess is not None
        h = real_output(hess(x), "hess")
        if h.size != d * d:
            raise ValueError(f"`hess` must return a ({d}, {d}) matrix, got shape {h.shape}")
        return h.reshape(d, d)

    # Exact gradients allow a tighter tolerance than central differences (noise ~1e-10).
    options: dict[str, Any] = {
        "method": "BFGS",
        "options": {"gtol": 1e-6 if grad is None else 1e-9},
    }
    if grad is not None and hess is not None:  # Newton steps with a line search
        options = {
            "method": "Newton-CG",
            "options": {"xtol": 1e-12},
            "hess": lambda x: -hess_matrix(x),
        }
    with np.errstate(invalid="ignore", over="ignore"):  # -inf steps are rejected by the search
        res = optimize.minimize(neg, x_start, jac=jac, **options)
    mode = np.asarray(res.x, dtype=np.float64)
    top = ell(mode)
    if not np.isfinite(top):
        raise ValueError(f"`log_density` is not finite at the mode found, {mode}")
    if hess is not None:
        h = hess_matrix(mode)
    else:
        h = np.asarray(differentiate.hessian(ell, mode))
    neg_h = -(h + h.T) / 2
    sign, logdet = np.linalg.slogdet(neg_h)
    if not np.all(np.isfinite(neg_h)) or sign <= 0 or np.any(np.linalg.eigvalsh(neg_h) <= 0):
        raise ValueError(
            "the Hessian of `log_density` at the mode is not negative definite: "
            "the mode is not a strict maximum, so no Laplace approximation exists"
        )
    log_z = top + 0.5 * d * np.log(2 * np.pi) - 0.5 * logdet
    return LaplaceResult(
        mode=mode,
        cov=np.asarray(np.linalg.inv(neg_h), dtype=np.float64),
        log_normalizer=float(log_z),
        success=bool(res.success),
        message=str(res.message),
    )


@dataclass(frozen=True, kw_only=True)
class GradientEstimateResult:
    r"""A Monte Carlo estimate of the gradient of :math:`\E_q[f(X)]` with its standard errors.

    Here :math:`q = \normal(\mu, \diag(s^2))`, and the gradient is taken with respect
    to the mean :math:`\mu` and the standard deviations :math:`s`.

    Attributes
    ----------
    estimate : ndarray
        Shape ``(2, d)``: row 0 estimates :math:`\partial/\partial\mu`, row 1
        :math:`\partial/\partial s`.
    std_error : ndarray
        Shape ``(2, d)``: the estimated standard error of each entry of ``estimate``.
    n : int
        The number of samples.
    """

    estimate: NDArray[np.float64]
    std_error: NDArray[np.float64]
    n: int


def _gaussian(mean: ArrayLike, std: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``mean`` and ``std`` as 1-D arrays of one length ``d`` (a scalar means ``d = 1``)."""
    mu = np.atleast_1d(as_finite_array(mean, "mean"))
    s = np.atleast_1d(as_finite_array(std, "std"))
    if mu.ndim != 1:
        raise ValueError(f"`mean` must be a scalar or a 1-D array, got shape {mu.shape}")
    if mu.size == 0:
        raise ValueError("`mean` must have at least one entry")
    if s.shape != mu.shape:
        raise ValueError(f"`std` must have the shape of `mean`, {mu.shape}, got {s.shape}")
    if np.any(s <= 0):
        raise ValueError(f"`std` must be positive, got {std!r}")
    return mu, s


def _standard_normal(mu: NDArray[np.float64], n: int, rng: Seed) -> NDArray[np.float64]:
    return check_rng(rng).standard_normal((n, mu.size))


def _gradient_result(g: NDArray[np.float64], n: int) -> GradientEstimateResult:
    """Mean and standard error over the first axis of per-sample gradients ``(n, 2, d)``."""
    return GradientEstimateResult(
        estimate=g.mean(axis=0), std_error=g.std(axis=0, ddof=1) / np.sqrt(n), n=n
    )


@documented_in("integration_examples", "gradients-of-expectations")
def score_function_gradient(
    f: Callable[..., Any],
    mean: ArrayLike,
    std: ArrayLike,
    n: int,
    *,
    baseline: float | str | None = None,
    rng: Seed = None,
) -> GradientEstimateResult:
    r"""Score-function (REINFORCE) estimate of the gradient of :math:`\E_q[f(X)]`.

    For :math:`q_\theta = \normal(\mu, \diag(s^2))` and :math:`X_i = \mu + s\,\zeta_i`,
    the estimate is :math:`\frac1n \sum_i (f(X_i) - b)\,\grad_\theta \log q_\theta(X_i)`
    with :math:`\partial_\mu \log q = \zeta/s` and
    :math:`\partial_s \log q = (\zeta^2 - 1)/s`. It needs only values of ``f``.
    A constant baseline :math:`b` leaves it unbiased (the score has mean zero) and can
    reduce its variance; ``baseline="leave-one-out"`` uses, for sample :math:`i`, the
    mean of the other :math:`n - 1` values of ``f``, which is independent of
    :math:`X_i` and so also keeps the estimate unbiased. (With that baseline the terms
    are not independent, and ``std_error`` is the usual sample formula, an approximation.)

    Parameters
    ----------
    f : callable
        Vectorised: maps samples of shape ``(n, d)`` to ``n`` values.
    mean, std : array_like
        :math:`\mu` and :math:`s > 0`, scalars or 1-D arrays of one length ``d``.
    n : int
        Number of samples, at least 2.
    baseline : None, float or "leave-one-out", optional
        The control variate :math:`b` (``None``: no baseline).
    rng : None, int or numpy.random.Generator, optional
        Source of the samples, as :func:`numpy.random.default_rng` accepts it.

    Returns
    -------
    GradientEstimateResult
        ``estimate`` and ``std_error`` of shape ``(2, d)`` (rows: mean, std) and ``n``.

    See Also
    --------
    reparameterization_gradient : the pathwise estimator, which uses the gradient of ``f``.

    Examples
    --------
    :math:`\E[X^2] = \mu^2 + s^2` has gradient :math:`(2\mu, 2s) = (2, 4)` at
    :math:`\mu = 1, s = 2`:

    >>> res = score_function_gradient(lambda z: z[:, 0] ** 2, 1.0, 2.0, 100_000, rng=0)
    >>> bool(np.all(np.abs(res.estimate - [[2.0], [4.0]]) < 4 * res.std_error))
    True
    """
    check_callable(f, "f")
    mu, s = _gaussian(mean, std)
    n = check_int(n, "n", minimum=2)
    if baseline is not None and not isinstance(baseline, str):
        b_const = check_finite_scalar(baseline, "baseline")
    elif isinstance(baseline, str):
        check_choice(baseline, "baseline", ["leave-one-out"])
    eps = _standard_normal(mu, n, rng)
    y = _values(f, mu + s * eps)
    if baseline is None:
        centred = y
    elif isinstance(baseline, str):
        centred = y - (y.sum() - y) / (n - 1)
    else:
        centred = y - b_const
    score = np.stack([eps / s, (eps**2 - 1) / s], axis=1)  # (n, 2, d)
    return _gradient_result(centred[:, None, None] * score, n)


@documented_in("integration_examples", "gradients-of-expectations")
def reparameterization_gradient(
    grad_f: Callable[..., Any],
    mean: ArrayLike,
    std: ArrayLike,
    n: int,
    *,
    rng: Seed = None,
) -> GradientEstimateResult:
    r"""Reparameterisation (pathwise) estimate of the gradient of :math:`\E_q[f(X)]`.

    Writing :math:`X = \mu + s\,\zeta` with :math:`\zeta \sim \normal(0, I)`
    moves the parameters into the integrand, so
    :math:`\partial_\mu \E[f(X)] = \E[\grad f(X)]` and
    :math:`\partial_s \E[f(X)] = \E[\grad f(X) \odot \zeta]` (when ``f`` is
    :math:`C^1` with a gradient dominated by an integrable function). The estimate is
    the sample mean of these, with the same samples as :func:`score_function_gradient`
    for the same ``rng``.

    Parameters
    ----------
    grad_f : callable
        Vectorised gradient of ``f``: maps samples of shape ``(n, d)`` to an array of
        shape ``(n, d)``.
    mean, std : array_like
        :math:`\mu` and :math:`s > 0`, scalars or 1-D arrays of one length ``d``.
    n : int
        Number of samples, at least 2.
    rng : None, int or numpy.random.Generator, optional
        Source of the samples, as :func:`numpy.random.default_rng` accepts it.

    Returns
    -------
    GradientEstimateResult
        ``estimate`` and ``std_error`` of shape ``(2, d)`` (rows: mean, std) and ``n``.

    Examples
    --------
    >>> res = reparameterization_gradient(lambda z: 2 * z, 1.0, 2.0, 100_000, rng=0)
    >>> bool(np.all(np.abs(res.estimate - [[2.0], [4.0]]) < 4 * res.std_error))
    True
    """
    check_callable(grad_f, "grad_f")
    mu, s = _gaussian(mean, std)
    n = check_int(n, "n", minimum=2)
    eps = _standard_normal(mu, n, rng)
    g = real_output(grad_f(mu + s * eps), "grad_f")
    if g.shape == (n,) and mu.size == 1:
        g = g.reshape(n, 1)
    if g.shape != (n, mu.size):
        raise ValueError(f"`grad_f` must return an array of shape ({n}, {mu.size}), got {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("`grad_f` returned a non-finite value")
    return _gradient_result(np.stack([g, g * eps], axis=1), n)


@documented_in("integration_examples", "variational-inference")
def gaussian_elbo(
    log_joint: Callable[..., Any],
    mean: ArrayLike,
    std: ArrayLike,
    n: int,
    *,
    rng: Seed = None,
) -> MonteCarloResult:
    r"""Monte Carlo estimate of the evidence lower bound for :math:`q = \normal(\mu, \diag(s^2))`.

    :math:`\mathrm{ELBO}(q) = \E_q[\log \tilde p(X)] + H[q] \le \log \int \tilde p`, with
    the Gaussian entropy :math:`H[q] = \sum_j \log s_j + \tfrac d2 (1 + \log 2\pi)` in
    closed form and the first term by :func:`monte_carlo`; the gap is
    :math:`\KL(q \,\|\, \tilde p / Z)`.

    Parameters
    ----------
    log_joint : callable
        Vectorised :math:`\log \tilde p`: maps samples of shape ``(n, d)`` to ``n`` values.
    mean, std : array_like
        :math:`\mu` and :math:`s > 0`, scalars or 1-D arrays of one length ``d``.
    n : int
        Number of samples, at least 2.
    rng : None, int or numpy.random.Generator, optional
        Source of the samples, as :func:`numpy.random.default_rng` accepts it.

    Returns
    -------
    MonteCarloResult
        ``estimate`` (the ELBO), ``std_error`` and ``n``.

    Examples
    --------
    When :math:`\tilde p` is the density of :math:`q` itself the ELBO is :math:`\log 1 = 0`:

    >>> from scipy.stats import norm
    >>> res = gaussian_elbo(lambda z: norm.logpdf(z[:, 0], 1.0, 2.0), 1.0, 2.0, 1000, rng=0)
    >>> bool(abs(res.estimate) < 4 * res.std_error)
    True
    """
    check_callable(log_joint, "log_joint")
    mu, s = _gaussian(mean, std)
    n = check_int(n, "n", minimum=2)
    eps = _standard_normal(mu, n, rng)
    y = _values(log_joint, mu + s * eps, "log_joint")
    entropy = float(np.sum(np.log(s)) + 0.5 * mu.size * (1 + np.log(2 * np.pi)))
    return MonteCarloResult(
        estimate=float(y.mean()) + entropy, std_error=float(y.std(ddof=1) / np.sqrt(n)), n=n
    )

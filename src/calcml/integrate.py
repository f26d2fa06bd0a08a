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

The quadrature rules are defined here; the rest live in the private modules
``calcml._normalizing``, ``calcml._montecarlo`` and ``calcml._laplace`` and are
re-exported here, so import everything from :mod:`calcml.integrate`.

Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import integrate

from calcml._integrand import _values
from calcml._laplace import LaplaceResult, laplace_approximation
from calcml._montecarlo import (
    ImportanceSamplingResult,
    MonteCarloResult,
    importance_sampling,
    monte_carlo,
)
from calcml._normalizing import expectation, log_normalizing_constant, normalizing_constant
from calcml._validation import (
    check_callable,
    check_choice,
    check_finite_scalar,
    check_int,
    check_positive,
)

__all__ = [
    "ImportanceSamplingResult",
    "LaplaceResult",
    "MonteCarloResult",
    "expectation",
    "gauss_hermite_expectation",
    "gauss_legendre",
    "importance_sampling",
    "laplace_approximation",
    "log_normalizing_constant",
    "monte_carlo",
    "normalizing_constant",
    "riemann_sum",
    "simpson_rule",
    "trapezoid_rule",
]

_INFINITE_OK = (
    "normalizing_constant, log_normalizing_constant and expectation accept infinite limits"
)


def _finite_limits(a: Any, b: Any, rule: str) -> tuple[float, float]:
    """Check finite real limits; say which functions accept infinite ones."""
    for value, name in ((a, "a"), (b, "b")):
        if isinstance(value, numbers.Real) and not np.isfinite(float(value)):
            raise ValueError(f"`{name}` must be finite for {rule}, got {value}; {_INFINITE_OK}")
    return check_finite_scalar(a, "a"), check_finite_scalar(b, "b")


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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#riemann-sums-and-quadrature-rules
    """
    check_callable(f, "f")
    a, b = _finite_limits(a, b, "riemann_sum")
    n = check_int(n, "n", minimum=1)
    offset = {"left": 0.0, "right": 1.0, "midpoint": 0.5}[
        check_choice(point, "point", ["left", "right", "midpoint"])
    ]
    h = (b - a) / n
    return float(h * np.sum(_values(f, a + (np.arange(n) + offset) * h)))


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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#riemann-sums-and-quadrature-rules
    """
    check_callable(f, "f")
    a, b = _finite_limits(a, b, "trapezoid_rule")
    n = check_int(n, "n", minimum=1)
    y = _values(f, np.linspace(a, b, n + 1))
    return float(integrate.trapezoid(y, dx=(b - a) / n))


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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#riemann-sums-and-quadrature-rules
    """
    check_callable(f, "f")
    a, b = _finite_limits(a, b, "simpson_rule")
    n = check_int(n, "n", minimum=2)
    if n % 2:
        raise ValueError(f"`n` must be even for Simpson's rule, got {n}")
    y = _values(f, np.linspace(a, b, n + 1))
    return float(integrate.simpson(y, dx=(b - a) / n))


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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#riemann-sums-and-quadrature-rules
    """
    check_callable(f, "f")
    a, b = _finite_limits(a, b, "gauss_legendre")
    n = check_int(n, "n", minimum=1)
    nodes, weights = _nodes("legendre", n)
    half, mid = (b - a) / 2, (a + b) / 2
    return float(half * np.dot(weights, _values(f, mid + half * nodes)))


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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#expectations
    """
    check_callable(f, "f")
    mean = check_finite_scalar(mean, "mean")
    std = check_positive(std, "std")
    n = check_int(n, "n", minimum=1)
    nodes, weights = _nodes("hermite", n)
    return float(np.dot(weights, _values(f, mean + std * nodes)) / np.sqrt(2 * np.pi))

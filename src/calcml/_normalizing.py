"""Normalizing constants and expectations by :func:`scipy.integrate.quad`.

Holds :func:`normalizing_constant`, :func:`log_normalizing_constant` and
:func:`expectation`, with their helpers for limits (infinite allowed), scalar
integrands and a ``quad`` that raises instead of returning an unreliable value.
The public names are re-exported by :mod:`calcml.integrate`; import them from there.

Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, optimize

from calcml._integrand import _values
from calcml._validation import check_callable, check_finite_scalar


def _limits(a: Any, b: Any) -> tuple[float, float]:
    """Real limits (infinite allowed, NaN not) with a < b."""
    out = []
    for value, name in ((a, "a"), (b, "b")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}")
        if np.isnan(float(value)):
            raise ValueError(f"`{name}` must not be NaN")
        out.append(float(value))
    if not out[0] < out[1]:
        raise ValueError(f"`a` must be less than `b`, got a={out[0]}, b={out[1]}")
    return out[0], out[1]


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
    result = integrate.quad(g, a, b, full_output=1, limit=200)
    if len(result) > 3:  # quad reports a problem only when ier != 0
        message = str(result[3]).split("\n")[0]
        raise ValueError(
            f"{what} could not be computed reliably on [{a}, {b}] "
            f"(the integral may diverge): scipy.integrate.quad says {message!r}"
        )
    return float(result[0])


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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#areas-under-probability-densities
    """
    check_callable(unnormalized_density, "unnormalized_density")
    a, b = _limits(a, b)
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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#areas-under-probability-densities
    """
    check_callable(log_density, "log_density")
    a, b = _limits(a, b)

    def ell(x: NDArray[Any]) -> NDArray[np.float64]:
        y = np.asarray(log_density(x), dtype=np.float64)
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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#expectations
    """
    check_callable(f, "f")
    check_callable(density, "density")
    a, b = _limits(a, b)
    z = normalizing_constant(density, a, b)
    f_ = _scalar_values(f, "f")
    p = _scalar_values(density, "density", nonnegative=True)
    return _quad(lambda x: f_(x) * p(x), a, b, "the expectation") / z

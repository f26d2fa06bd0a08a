"""Monte Carlo and importance sampling, with their result classes.

Holds :class:`MonteCarloResult`, :class:`ImportanceSamplingResult`,
:func:`monte_carlo` and :func:`importance_sampling`, and the helper that draws and
checks the samples. The public names are re-exported by :mod:`calcml.integrate`;
import them from there.

Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from calcml._integrand import _values
from calcml._validation import as_finite_array, check_callable, check_int, check_positive


@dataclass(frozen=True)
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

        >>> MonteCarloResult(1.0, 0.5, 100).confidence_interval(0.95)
        (0.020018, 1.979982)
        """
        level = check_positive(level, "level")
        if level >= 1:
            raise ValueError(f"`level` must be in (0, 1), got {level}")
        z = float(special.ndtri(0.5 + level / 2))
        return self.estimate - z * self.std_error, self.estimate + z * self.std_error


@dataclass(frozen=True)
class ImportanceSamplingResult(MonteCarloResult):
    """An importance-sampling estimate; ``ess`` is Kish's effective sample size."""

    ess: float = field(default=0.0)


def _draw(sampler: Callable[..., Any], n: int, rng: Any) -> NDArray[Any]:
    check_callable(sampler, "sampler")
    generator = np.random.default_rng(rng)
    x = as_finite_array(sampler(generator, n), "sampler(rng, n)")
    if x.ndim == 0 or x.shape[0] != n:
        got = x.shape[0] if x.ndim else "a scalar"
        raise ValueError(f"`sampler` must return n = {n} samples (along axis 0), got {got}")
    return x


def monte_carlo(
    f: Callable[..., Any], sampler: Callable[..., Any], n: int, *, rng: Any = None
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
    rng : None, int or numpy.random.Generator
        Seed or generator, passed to :func:`numpy.random.default_rng`.

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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#monte-carlo
    """
    check_callable(f, "f")
    n = check_int(n, "n", minimum=2)
    y = _values(f, _draw(sampler, n, rng))
    return MonteCarloResult(float(y.mean()), float(y.std(ddof=1) / np.sqrt(n)), n)


def importance_sampling(
    f: Callable[..., Any],
    log_target: Callable[..., Any],
    sampler: Callable[..., Any],
    log_proposal: Callable[..., Any],
    n: int,
    *,
    rng: Any = None,
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
    rng : None, int or numpy.random.Generator
        Seed or generator.
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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#importance-sampling
    """
    check_callable(f, "f")
    check_callable(log_target, "log_target")
    check_callable(log_proposal, "log_proposal")
    n = check_int(n, "n", minimum=2)
    x = _draw(sampler, n, rng)
    y = _values(f, x)
    log_q = _values(log_proposal, x, "log_proposal")
    log_p = np.asarray(log_target(x), dtype=np.float64)
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
    return ImportanceSamplingResult(est, se, n, ess)

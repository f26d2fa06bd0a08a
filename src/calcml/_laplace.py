"""The Laplace approximation: a Gaussian at the mode of a log density.

Holds :class:`LaplaceResult` and :func:`laplace_approximation`, which finds the mode
with :func:`scipy.optimize.minimize` and the curvature there with ``hess`` or
:func:`calcml.differentiate.hessian`. The public names are re-exported by
:mod:`calcml.integrate`; import them from there.

Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from calcml._validation import as_finite_array, check_callable


@dataclass(frozen=True)
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

    Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html#capstone-the-laplace-approximation
    """
    check_callable(log_density, "log_density")
    x_start = np.atleast_1d(as_finite_array(x0, "x0"))
    if x_start.ndim != 1:
        raise ValueError(f"`x0` must be a scalar or a 1-D array, got shape {x_start.shape}")
    d = x_start.size

    def ell(x: NDArray[Any]) -> float:
        value = np.asarray(log_density(x), dtype=np.float64)
        if value.size != 1:
            raise ValueError(f"`log_density` must return a scalar, got shape {value.shape}")
        return float(value.reshape(()))

    def neg(x: NDArray[Any]) -> float:
        value = ell(x)
        return -value if not np.isnan(value) else np.inf

    jac: Any = "3-point"  # central differences, more accurate than SciPy's default
    if grad is not None:
        check_callable(grad, "grad")

        def jac(x: NDArray[Any]) -> NDArray[np.float64]:
            return -np.asarray(grad(x), dtype=np.float64).reshape(d)

    if hess is not None:
        check_callable(hess, "hess")
    # Exact gradients allow a tighter tolerance than central differences (noise ~1e-10).
    options: dict[str, Any] = {
        "method": "BFGS",
        "options": {"gtol": 1e-6 if grad is None else 1e-9},
    }
    if grad is not None and hess is not None:  # Newton steps with a line search
        options = {
            "method": "Newton-CG",
            "options": {"xtol": 1e-12},
            "hess": lambda x: -np.asarray(hess(x), dtype=float),
        }
    with np.errstate(invalid="ignore", over="ignore"):  # -inf steps are rejected by the search
        res = optimize.minimize(neg, x_start, jac=jac, **options)
    mode = np.asarray(res.x, dtype=np.float64)
    top = ell(mode)
    if not np.isfinite(top):
        raise ValueError(f"`log_density` is not finite at the mode found, {mode}")
    if hess is not None:
        h = np.asarray(hess(mode), dtype=np.float64).reshape(d, d)
    else:
        from calcml.differentiate import hessian

        h = np.asarray(hessian(ell, mode), dtype=np.float64).reshape(d, d)
    neg_h = -(h + h.T) / 2
    sign, logdet = np.linalg.slogdet(neg_h)
    if not np.all(np.isfinite(neg_h)) or sign <= 0 or np.any(np.linalg.eigvalsh(neg_h) <= 0):
        raise ValueError(
            "the Hessian of `log_density` at the mode is not negative definite: "
            "the mode is not a strict maximum, so no Laplace approximation exists"
        )
    log_z = top + 0.5 * d * np.log(2 * np.pi) - 0.5 * logdet
    return LaplaceResult(
        mode,
        np.asarray(np.linalg.inv(neg_h), dtype=np.float64),
        float(log_z),
        bool(res.success),
        str(res.message),
    )

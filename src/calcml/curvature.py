"""Hessians and curvature: critical points, Newton's method and sharpness.

The functions take callables (a gradient, a Hessian, a Hessian-vector product)
rather than computing derivatives themselves, so they work with closed forms,
finite differences (:mod:`calcml.differentiate`) and automatic differentiation
(:mod:`calcml.autodiff`) alike.

Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from calcml._hessian_analysis import (
    _EPS,
    EigenResult,
    Vector,
    _as_hessian,
    _call_vector,
    _check_tol,
    classify_critical_point,
    condition_number,
    find_critical_points,
    top_eigenvalue,
)

# Re-exported so that `calcml.curvature.SYMMETRY_RTOL` still names the tolerance.
from calcml._hessian_analysis import SYMMETRY_RTOL as SYMMETRY_RTOL
from calcml._validation import as_finite_array, check_callable, check_finite_scalar, check_int

__all__ = [
    "EigenResult",
    "MinimizeResult",
    "classify_critical_point",
    "condition_number",
    "find_critical_points",
    "gradient_descent",
    "newton",
    "top_eigenvalue",
]


@dataclass(frozen=True)
class MinimizeResult:
    """The outcome of :func:`newton` or :func:`gradient_descent`.

    Attributes
    ----------
    x, fun, grad_norm : ndarray, float, float
        The last iterate, ``f(x)`` and ``norm(grad(x))`` (``nan`` if not finite).
    nit : int
        The number of steps taken (at most ``maxiter``).
    converged, message : bool, str
        Whether ``grad_norm <= tol``; why the iteration stopped.
    history, values : ndarray
        The iterates, shape ``(nit + 1, n)`` (``history[0]`` is ``x0``), and ``f`` at each.

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#newton-vs-gradient-descent
    """

    x: Vector
    fun: float
    grad_norm: float
    nit: int
    converged: bool
    message: str
    history: Vector
    values: Vector


def _call_scalar(f: Callable[..., Any], x: Vector) -> float:
    out = np.asarray(f(x))
    if out.size != 1 or out.dtype.kind not in "biuf":
        raise ValueError(
            f"`f` must return a real scalar, got shape {out.shape} and dtype {out.dtype}"
        )
    return float(out.reshape(()))


def _as_point(x0: ArrayLike) -> Vector:
    x = as_finite_array(x0, "x0")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"`x0` must be a non-empty 1-D array, got shape {x.shape}")
    return x


def _minimize(
    f: Callable[..., Any],
    x0: ArrayLike,
    grad: Callable[..., Any],
    step: Callable[[Vector, Vector, float, int], tuple[Vector | None, str]],
    tol: float,
    maxiter: int,
) -> MinimizeResult:
    """The loop shared by Newton's method and gradient descent."""
    check_callable(f, "f")
    check_callable(grad, "grad")
    x = _as_point(x0)
    n = x.size
    tol = _check_tol(tol)
    maxiter = check_int(maxiter, "maxiter", minimum=1)
    history, values = [x], [_call_scalar(f, x)]
    message, converged, gnorm = f"maximum number of iterations ({maxiter}) reached", False, np.nan
    k = 0
    while True:
        g = _call_vector(grad, x, "grad", n)
        gnorm = float(np.linalg.norm(g)) if np.all(np.isfinite(g)) else np.nan
        if not np.isfinite(values[-1]) or not np.isfinite(gnorm):
            message = f"non-finite f or gradient at iteration {k}: the iteration diverged"
            break
        if gnorm <= tol:
            message, converged = f"converged: gradient norm {gnorm:.3g} <= tol = {tol:g}", True
            break
        if k == maxiter:
            break
        p, why = step(x, g, values[-1], k)
        if p is None:
            message = why
            break
        x, k = x + p, k + 1
        history.append(x)
        values.append(_call_scalar(f, x))
    return MinimizeResult(
        x=x,
        fun=values[-1],
        grad_norm=gnorm,
        nit=len(history) - 1,
        converged=converged,
        message=message,
        history=np.array(history),
        values=np.array(values),
    )


def newton(
    f: Callable[[Vector], Any],
    x0: ArrayLike,
    *,
    grad: Callable[[Vector], ArrayLike],
    hess: Callable[[Vector], ArrayLike],
    tol: float = 1e-10,
    maxiter: int = 50,
    damping: float | None = None,
) -> MinimizeResult:
    """Minimise ``f`` by Newton's method, optionally with a modified Hessian and line search.

    Without damping each step solves ``H p = -g``: the minimiser of the local
    quadratic model if ``H`` is positive definite, but a step towards a saddle or
    maximum otherwise. With ``damping = delta > 0`` the Hessian is shifted to
    ``H + tau I`` with ``tau = max(0, delta - lambda_min(H))`` (all eigenvalues at
    least ``delta``, so ``p`` is a descent direction) and the step is halved until
    it decreases ``f`` enough (Armijo). Near a minimum whose curvature exceeds
    ``delta`` this is plain Newton, with its quadratic convergence.

    Parameters
    ----------
    f, x0 : callable, array_like of shape (n,)
        ``f(x) -> float`` and the start.
    grad, hess : callable
        ``grad(x) -> (n,)`` and ``hess(x) -> (n, n)``.
    tol, maxiter : float, int, optional
        Stop when ``norm(grad(x)) <= tol`` or after ``maxiter >= 1`` steps.
    damping : float, optional
        The smallest eigenvalue allowed in the modified Hessian; ``None`` for pure Newton.

    Returns
    -------
    MinimizeResult
        A pure Newton step meeting a singular Hessian stops with ``converged=False``
        and a message saying so.

    Examples
    --------
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]]); b = np.array([1.0, -1.0])
    >>> res = newton(lambda x: 0.5 * x @ A @ x - b @ x, [5.0, 5.0],
    ...              grad=lambda x: A @ x - b, hess=lambda x: A)
    >>> res.nit, res.converged, np.allclose(res.x, np.linalg.solve(A, b))
    (1, True, True)

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#newton-vs-gradient-descent
    """
    check_callable(hess, "hess")
    delta = None
    if damping is not None:
        delta = check_finite_scalar(damping, "damping")
        if delta <= 0:
            raise ValueError(f"`damping` must be positive or None, got {delta}")

    def step(x: Vector, g: Vector, fx: float, k: int) -> tuple[Vector | None, str]:
        raw = np.asarray(hess(x))
        if raw.shape != (x.size, x.size):
            raise ValueError(
                f"`hess` must return an array of shape {(x.size, x.size)}, got shape {raw.shape}"
            )
        if raw.dtype.kind in "biuf" and not np.all(np.isfinite(raw)):
            return None, f"non-finite Hessian at iteration {k}"
        eig, Q = np.linalg.eigh(_as_hessian(raw, "hess(x)"))
        if delta is None:
            smallest = float(np.min(np.abs(eig)))
            if smallest <= float(np.max(np.abs(eig))) * x.size * _EPS:
                return None, (
                    f"singular Hessian at iteration {k} (smallest |eigenvalue| "
                    f"{smallest:.3g}): the Newton step is undefined; pass `damping`"
                )
            return -Q @ ((Q.T @ g) / eig), ""
        shift = max(0.0, delta - float(eig[0]))
        p = -Q @ ((Q.T @ g) / (eig + shift))
        slope = float(g @ p)
        if abs(slope) <= 10 * _EPS * abs(fx):  # f cannot resolve the decrease: trust Newton
            return p, ""
        t = 1.0
        with np.errstate(all="ignore"):
            for _ in range(60):
                trial = _call_scalar(f, x + t * p)
                if trial <= fx + 1e-4 * t * slope and trial < fx:  # Armijo, and real progress
                    return t * p, ""
                t /= 2
        return None, f"line search failed at iteration {k}: no decrease along the step"

    return _minimize(f, x0, grad, step, tol, maxiter)


def gradient_descent(
    f: Callable[[Vector], Any],
    x0: ArrayLike,
    *,
    grad: Callable[[Vector], ArrayLike],
    step: float,
    tol: float = 1e-8,
    maxiter: int = 1000,
) -> MinimizeResult:
    """Minimise ``f`` by gradient descent with a fixed step: ``x <- x - step * grad(x)``.

    On a quadratic with Hessian eigenvalues in ``[mu, L]`` the step ``2 / (L + mu)``
    shrinks the error by at least ``(kappa - 1) / (kappa + 1)`` per step, with
    ``kappa = L / mu``; a step above ``2 / L`` diverges.

    Parameters
    ----------
    f, x0 : callable, array_like of shape (n,)
        ``f(x) -> float`` (recorded in ``values``) and the start.
    grad : callable
        ``grad(x) -> (n,)``.
    step : float
        The step size (learning rate), positive.
    tol, maxiter : float, int, optional
        Stop when ``norm(grad(x)) <= tol`` or after ``maxiter >= 1`` steps.

    Returns
    -------
    MinimizeResult
        A diverging iteration stops with ``converged=False`` at the first non-finite value.

    Examples
    --------
    >>> res = gradient_descent(lambda x: x @ x, [1.0, -2.0], grad=lambda x: 2 * x, step=0.25)
    >>> res.converged, res.nit, res.x  # the error halves at every step
    (True, 29, array([ 1.86264515e-09, -3.72529030e-09]))

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#newton-vs-gradient-descent
    """
    eta = check_finite_scalar(step, "step")
    if eta <= 0:
        raise ValueError(f"`step` must be positive, got {eta}")

    def descend(x: Vector, g: Vector, fx: float, k: int) -> tuple[Vector | None, str]:
        return -eta * g, ""

    with np.errstate(over="ignore", invalid="ignore"):
        return _minimize(f, x0, grad, descend, tol, maxiter)

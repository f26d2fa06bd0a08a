"""Hessians and curvature: critical points, Newton's method and sharpness.

The second-derivative test (:func:`classify_critical_point`), the condition
number, a multi-start search for critical points, power iteration for the
sharpness (:func:`top_eigenvalue`), and two optimisers that the curvature
explains: Newton's method and gradient descent. The functions take callables
(a gradient, a Hessian, a Hessian-vector product) rather than computing
derivatives themselves, so they work with closed forms, finite differences
(:mod:`calcml.differentiate`) and automatic differentiation
(:mod:`calcml.autodiff`) alike.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from calcml._validation import (
    EPS,
    Seed,
    as_finite_array,
    check_callable,
    check_choice,
    check_finite_scalar,
    check_int,
    check_nonnegative,
    check_rng,
    documented_in,
    real_output,
    scalar_output,
    with_book_link,
)

__doc__ = with_book_link(__doc__, "hessian_and_curvature")

__all__ = [
    "EigenResult",
    "LagrangeResult",
    "MinimizeResult",
    "TraceResult",
    "classify_critical_point",
    "condition_number",
    "find_critical_points",
    "gauss_newton",
    "gradient_descent",
    "hutchinson_trace",
    "lagrange_newton",
    "newton",
    "top_eigenvalue",
]

#: A Hessian may be asymmetric by this much relative to its largest entry
#: (finite-difference Hessians are symmetric only up to their error).
SYMMETRY_RTOL = 1e-6

Vector = NDArray[np.float64]


@documented_in("hessian_and_curvature", "hessian-vector-products")
@dataclass(frozen=True, kw_only=True)
class EigenResult:
    """The outcome of :func:`top_eigenvalue`.

    Attributes
    ----------
    value, vector : float, ndarray
        The eigenvalue of largest magnitude (a Rayleigh quotient) and a unit eigenvector.
    nit : int
        The number of Hessian-vector products used.
    residual : float
        ``norm(H v - value * v)``, an error bound for ``value``.
    success, message : bool, str
        Whether ``residual <= tol * abs(value)``; why the iteration stopped.
    """

    value: float
    vector: Vector
    nit: int
    residual: float
    success: bool
    message: str


def _as_hessian(hessian: ArrayLike, name: str = "hessian") -> Vector:
    """Check that ``hessian`` is a finite, square, symmetric matrix; return its symmetric part."""
    try:
        H = np.asarray(hessian)
    except Exception as exc:  # ragged nested sequences
        raise TypeError(f"`{name}` must be an array of numbers: {exc}") from None
    if H.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must contain real numbers, got dtype {H.dtype}")
    H = H.astype(np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(
            f"`{name}` must be a square (n, n) matrix with n >= 1, got shape {H.shape}"
        )
    if not np.all(np.isfinite(H)):
        raise ValueError(f"`{name}` must be finite; the {H.shape} matrix has NaN or inf entries")
    asym = float(np.max(np.abs(H - H.T)))
    scale = float(np.max(np.abs(H)))
    if asym > SYMMETRY_RTOL * scale:
        raise ValueError(
            f"`{name}` must be symmetric: max |H - H.T| = {asym:.3g} exceeds "
            f"{SYMMETRY_RTOL:g} * max |H| = {SYMMETRY_RTOL * scale:.3g}"
        )
    return (H + H.T) / 2


@documented_in("hessian_and_curvature", "critical-points")
def classify_critical_point(hessian: ArrayLike, *, tol: float | None = None) -> str:
    """Classify a critical point by the signs of the Hessian's eigenvalues.

    Parameters
    ----------
    hessian : array_like, shape (n, n)
        The Hessian at a point where the gradient vanishes; symmetric up to
        ``SYMMETRY_RTOL`` times its largest entry.
    tol : float, optional
        Eigenvalues with absolute value ``<= tol`` count as zero. The default,
        ``max|eigenvalue| * n * eps``, is the one :func:`numpy.linalg.matrix_rank`
        uses; pass a larger one for Hessians with a truncation error (finite
        differences).

    Returns
    -------
    str
        ``"saddle"`` if there are eigenvalues of both signs (zero ones or not),
        else ``"degenerate"`` if one is zero, else ``"minimum"`` (all positive) or
        ``"maximum"`` (all negative).

    Examples
    --------
    >>> classify_critical_point([[2.0, 0.0], [0.0, 2.0]])
    'minimum'
    >>> classify_critical_point([[2.0, 0.0], [0.0, -2.0]])
    'saddle'
    >>> classify_critical_point([[0.0, 0.0], [0.0, 0.0]])  # the monkey saddle at 0
    'degenerate'
    """
    H = _as_hessian(hessian)
    eig = np.linalg.eigvalsh(H)
    if tol is None:
        threshold = float(np.max(np.abs(eig))) * H.shape[0] * EPS
    else:
        threshold = check_nonnegative(tol, "tol")
    positive, negative = eig > threshold, eig < -threshold
    if positive.any() and negative.any():
        return "saddle"
    if not np.all(positive | negative):
        return "degenerate"
    return "minimum" if positive.all() else "maximum"


@documented_in("hessian_and_curvature", "newton-vs-gradient-descent")
def condition_number(hessian: ArrayLike) -> float:
    """Return the 2-norm condition number ``max|eigenvalue| / min|eigenvalue|``.

    For a positive definite Hessian this is ``kappa = L / mu``, the ratio of the
    largest to the smallest curvature; ``inf`` for a singular matrix.

    Examples
    --------
    >>> condition_number([[100.0, 0.0], [0.0, 1.0]])
    100.0
    >>> condition_number([[1.0, 0.0], [0.0, 0.0]])
    inf
    """
    magnitudes = np.abs(np.linalg.eigvalsh(_as_hessian(hessian)))
    smallest = float(magnitudes.min())
    return float("inf") if smallest == 0.0 else float(magnitudes.max()) / smallest


@documented_in("hessian_and_curvature", "critical-points")
def find_critical_points(
    grad: Callable[[Vector], ArrayLike],
    bounds: ArrayLike,
    *,
    starts: int | ArrayLike = 32,
    rng: Seed = None,
    hess: Callable[[Vector], ArrayLike] | None = None,
    gtol: float = 1e-8,
) -> Vector:
    """Find the critical points of ``f`` in a box: roots of its gradient from many starts.

    Each start is polished by :func:`scipy.optimize.root`; roots with
    ``norm(grad(x)) <= gtol`` inside ``bounds`` are kept, and points closer than
    ``1e-6 * max(1, widest side)`` are merged.

    Parameters
    ----------
    grad : callable
        ``grad(x) -> ndarray of shape (n,)``.
    bounds : array_like, shape (n, 2)
        ``[lower, upper]`` for each coordinate, ``lower < upper``.
    starts : int or array_like of shape (m, n), optional
        How many uniformly random starts in the box, or the starts themselves.
    rng : None, int or numpy.random.Generator, optional
        Source of the random starts, as :func:`numpy.random.default_rng` accepts it:
        ``None`` draws fresh entropy, an int seeds a new generator. Pass a seed
        for reproducible results.
    hess : callable, optional
        The Hessian (the Jacobian of ``grad``), passed to the root finder.
    gtol : float, optional
        The largest gradient norm accepted at a root.

    Returns
    -------
    ndarray, shape (k, n)
        The distinct critical points found, in lexicographic order (``k`` may be 0).

    Examples
    --------
    >>> grad = lambda x: np.array([3 * x[0] ** 2 - 1, 2 * x[1]])  # f = x^3 - x + y^2
    >>> find_critical_points(grad, [[-2, 2], [-2, 2]], starts=8, rng=0).round(6) + 0.0
    array([[-0.57735,  0.     ],
           [ 0.57735,  0.     ]])
    """
    check_callable(grad, "grad")
    if hess is not None:
        check_callable(hess, "hess")
    box = as_finite_array(bounds, "bounds")
    if box.ndim != 2 or box.shape[1] != 2 or box.shape[0] == 0:
        raise ValueError(f"`bounds` must have shape (n, 2), got shape {box.shape}")
    lower, upper = box[:, 0], box[:, 1]
    if np.any(lower >= upper):
        raise ValueError(f"`bounds` needs lower < upper in every row, got {box.tolist()}")
    n = box.shape[0]
    gtol = check_nonnegative(gtol, "gtol")
    if isinstance(starts, numbers.Integral) and not isinstance(starts, bool):
        m = check_int(starts, "starts", minimum=1)
        generator = check_rng(rng)
        points = lower + (upper - lower) * generator.random((m, n))
    else:
        points = as_finite_array(starts, "starts")
        if points.ndim != 2 or points.shape[1] != n or points.shape[0] == 0:
            raise ValueError(
                f"`starts` must be an int or an (m, {n}) array, got shape {points.shape}"
            )
    real_output(grad(points[0]), "grad", shape=(n,))  # fail early on a wrong output shape

    def fun(x: Vector) -> Vector:  # the root finder may wander off to inf: stop it there
        return real_output(grad(x), "grad", shape=(n,)) if np.all(np.isfinite(x)) else x * np.nan

    jac = None if hess is None else (lambda x: np.asarray(hess(x), dtype=np.float64))
    merge = 1e-6 * max(1.0, float(np.max(upper - lower)))
    found: list[Vector] = []
    for x0 in points:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            x = optimize.root(fun, x0, jac=jac).x
            g = fun(x)
        inside = bool(np.all(np.isfinite(x)) and np.all((x >= lower) & (x <= upper)))
        if not inside or not np.linalg.norm(g) <= gtol:
            continue
        if all(np.linalg.norm(x - y) > merge for y in found):
            found.append(x)
    result = np.array(found, dtype=np.float64).reshape(-1, n)
    return result[np.lexsort(result.T[::-1])]


@documented_in("hessian_and_curvature", "hessian-vector-products")
def top_eigenvalue(
    hvp: Callable[[Vector], ArrayLike],
    n: int,
    *,
    iters: int = 1000,
    tol: float = 1e-8,
    rng: Seed = None,
) -> EigenResult:
    """The eigenvalue of largest magnitude of a symmetric ``H``, from products ``H v`` alone.

    Power iteration: ``v <- H v / norm(H v)`` from a random unit vector, with the
    Rayleigh quotient ``v . H v`` as the estimate. Near a minimum ``H`` is positive
    semidefinite and this is ``lambda_max``, the *sharpness* of the loss. With
    ``lambda_1`` and ``lambda_2`` the two eigenvalues of largest magnitude, the
    direction and the residual converge like ``abs(lambda_2 / lambda_1) ** k``; for a
    symmetric ``H`` the Rayleigh quotient converges twice as fast, like
    ``abs(lambda_2 / lambda_1) ** (2 * k)`` (Golub and Van Loan, Theorem 8.2.1).

    Parameters
    ----------
    hvp, n : callable, int
        ``hvp(v) -> H v`` for ``v`` of shape ``(n,)``, and ``n >= 1``.
    iters, tol : int, float, optional
        Stop after ``iters >= 1`` products or when ``norm(H v - value * v) <= tol * abs(value)``.
    rng : None, int or numpy.random.Generator, optional
        Source of the random start, as :func:`numpy.random.default_rng` accepts it
        (``None``: fresh entropy).

    Returns
    -------
    EigenResult

    Examples
    --------
    >>> H = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> res = top_eigenvalue(lambda v: H @ v, 2, rng=0)
    >>> round(res.value, 10), res.success
    (3.0, True)
    """
    check_callable(hvp, "hvp")
    n = check_int(n, "n", minimum=1)
    iters = check_int(iters, "iters", minimum=1)
    tol = check_nonnegative(tol, "tol")
    v = check_rng(rng).standard_normal(n)
    v /= np.linalg.norm(v)
    value, residual = 0.0, np.inf
    for k in range(1, iters + 1):
        w = real_output(hvp(v), "hvp", shape=(n,))
        if not np.all(np.isfinite(w)):
            raise ValueError(f"`hvp` returned non-finite values at product {k}")
        value = float(v @ w)
        residual = float(np.linalg.norm(w - value * v))
        size = float(np.linalg.norm(w))
        if residual <= tol * abs(value) or size == 0.0:
            message = f"converged: residual {residual:.3g} <= tol * |value| after {k} products"
            return EigenResult(
                value=value, vector=v, nit=k, residual=residual, success=True, message=message
            )
        v = w / size
    message = f"maximum number of products ({iters}) reached"
    return EigenResult(
        value=value, vector=v, nit=iters, residual=residual, success=False, message=message
    )


@documented_in("hessian_and_curvature", "newton-vs-gradient-descent")
@dataclass(frozen=True, kw_only=True)
class MinimizeResult:
    """The outcome of :func:`newton` or :func:`gradient_descent`.

    Attributes
    ----------
    x, fun, grad_norm : ndarray, float, float
        The last iterate, ``f(x)`` and ``norm(grad(x))`` (``nan`` if not finite).
    nit : int
        The number of steps taken (at most ``maxiter``).
    success, message : bool, str
        Whether ``grad_norm <= tol``; why the iteration stopped.
    history, values : ndarray
        The iterates, shape ``(nit + 1, n)`` (``history[0]`` is ``x0``), and ``f`` at each.
    """

    x: Vector
    fun: float
    grad_norm: float
    nit: int
    success: bool
    message: str
    history: Vector
    values: Vector


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
    tol = check_nonnegative(tol, "tol")
    maxiter = check_int(maxiter, "maxiter", minimum=1)
    history, values = [x], [scalar_output(f(x), "f")]
    message, success, gnorm = f"maximum number of iterations ({maxiter}) reached", False, np.nan
    k = 0
    while True:
        g = real_output(grad(x), "grad", shape=(n,))
        gnorm = float(np.linalg.norm(g)) if np.all(np.isfinite(g)) else np.nan
        if not np.isfinite(values[-1]) or not np.isfinite(gnorm):
            message = f"non-finite f or gradient at iteration {k}: the iteration diverged"
            break
        if gnorm <= tol:
            message, success = f"converged: gradient norm {gnorm:.3g} <= tol = {tol:g}", True
            break
        if k == maxiter:
            break
        p, why = step(x, g, values[-1], k)
        if p is None:
            message = why
            break
        x, k = x + p, k + 1
        history.append(x)
        values.append(scalar_output(f(x), "f"))
    return MinimizeResult(
        x=x,
        fun=values[-1],
        grad_norm=gnorm,
        nit=len(history) - 1,
        success=success,
        message=message,
        history=np.array(history),
        values=np.array(values),
    )


@documented_in("hessian_and_curvature", "newton-vs-gradient-descent")
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
        A pure Newton step meeting a singular Hessian stops with ``success=False``
        and a message saying so.

    Examples
    --------
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]]); b = np.array([1.0, -1.0])
    >>> res = newton(lambda x: 0.5 * x @ A @ x - b @ x, [5.0, 5.0],
    ...              grad=lambda x: A @ x - b, hess=lambda x: A)
    >>> res.nit, res.success, np.allclose(res.x, np.linalg.solve(A, b))
    (1, True, True)
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
            if smallest <= float(np.max(np.abs(eig))) * x.size * EPS:
                return None, (
                    f"singular Hessian at iteration {k} (smallest |eigenvalue| "
                    f"{smallest:.3g}): the Newton step is undefined; pass `damping`"
                )
            return -Q @ ((Q.T @ g) / eig), ""
        shift = max(0.0, delta - float(eig[0]))
        p = -Q @ ((Q.T @ g) / (eig + shift))
        slope = float(g @ p)
        if abs(slope) <= 10 * EPS * abs(fx):  # f cannot resolve the decrease: trust Newton
            return p, ""
        t = 1.0
        with np.errstate(all="ignore"):
            for _ in range(60):
                trial = scalar_output(f(x + t * p), "f")
                if trial <= fx + 1e-4 * t * slope and trial < fx:  # Armijo, and real progress
                    return t * p, ""
                t /= 2
        return None, f"line search failed at iteration {k}: no decrease along the step"

    return _minimize(f, x0, grad, step, tol, maxiter)


@documented_in("hessian_and_curvature", "newton-vs-gradient-descent")
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
        A diverging iteration stops with ``success=False`` at the first non-finite value.

    Examples
    --------
    >>> res = gradient_descent(lambda x: x @ x, [1.0, -2.0], grad=lambda x: 2 * x, step=0.25)
    >>> res.success, res.nit, res.x  # the error halves at every step
    (True, 29, array([ 1.86264515e-09, -3.72529030e-09]))
    """
    eta = check_finite_scalar(step, "step")
    if eta <= 0:
        raise ValueError(f"`step` must be positive, got {eta}")

    def descend(x: Vector, g: Vector, fx: float, k: int) -> tuple[Vector | None, str]:
        return -eta * g, ""

    with np.errstate(over="ignore", invalid="ignore"):
        return _minimize(f, x0, grad, descend, tol, maxiter)


#: The output losses :func:`gauss_newton` knows, as functions of one output ``z``.
GAUSS_NEWTON_LOSSES = ("squared", "logistic", "poisson")


def _loss_curvature(loss: str | Callable[[Vector], ArrayLike], z: Vector) -> Vector:
    """The Hessian of the output loss at the outputs ``z``: an ``(m,)`` diagonal or ``(m, m)``."""
    m = z.size
    if loss == "squared":  # 1/2 (z - y)^2
        return np.ones(m)
    if loss == "logistic":  # log(1 + e^z) - y z
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the sigmoid, without overflow
        return p * (1.0 - p)
    if loss == "poisson":  # e^z - y z
        with np.errstate(over="ignore"):
            rate = np.exp(z)
        if not np.all(np.isfinite(rate)):
            raise ValueError(
                '`loss="poisson"`: the log-rates from `outputs` are too large, exp overflows'
            )
        return rate
    assert callable(loss)
    h = real_output(loss(z), "loss")
    if h.shape not in ((m,), (m, m)) or not np.all(np.isfinite(h)):
        raise ValueError(
            f"`loss` must return a finite ({m},) diagonal or ({m}, {m}) Hessian; "
            f"got shape {h.shape}"
        )
    if h.ndim == 2 and not np.allclose(h, h.T, rtol=SYMMETRY_RTOL, atol=0.0):
        raise ValueError("`loss` returned an asymmetric Hessian")
    return h


@documented_in("hessian_and_curvature", "gauss-newton-fisher")
def gauss_newton(
    outputs: Callable[[Any], Any],
    w: ArrayLike,
    *,
    loss: str | Callable[[Vector], ArrayLike] = "squared",
    jac: Callable[[Vector], ArrayLike] | None = None,
    reduction: str = "sum",
) -> Vector:
    """The Gauss-Newton matrix ``J.T @ H_l @ J`` of a loss ``sum_i l(z_i)``, ``z = outputs(w)``.

    For ``L(w) = sum_i l(z_i(w))`` the Hessian is ``J.T H_l J + sum_i l'(z_i) hess z_i(w)``
    with ``J`` the Jacobian of the outputs; the Gauss-Newton matrix keeps the first term. It is
    positive semidefinite when ``l`` is convex, equals the Hessian when the outputs are linear
    in ``w``, and for the losses of exponential-family likelihoods (``"squared"``: Gaussian,
    ``"logistic"``: Bernoulli, ``"poisson"``) it is also the Fisher information.

    Parameters
    ----------
    outputs : callable
        ``outputs(w) -> z`` of shape ``(m,)``: the residuals for ``"squared"``, the logits for
        ``"logistic"``, the log-rates for ``"poisson"``. Differentiated by
        :func:`calcml.autodiff.jacobian` unless ``jac`` is given.
    w : array_like, shape (n,)
        The parameters.
    loss : {"squared", "logistic", "poisson"} or callable, optional
        The output loss, through its second derivative (which does not depend on the
        targets): ``1``, ``sigma(z)(1 - sigma(z))``, ``exp(z)``. A callable ``loss(z)`` returns
        the Hessian of the output loss itself, an ``(m,)`` diagonal or an ``(m, m)`` matrix.
    jac : callable, optional
        ``jac(w) -> J`` of shape ``(m, n)``.
    reduction : {"sum", "mean"}, optional
        Whether the loss sums or averages over the ``m`` outputs.

    Returns
    -------
    ndarray, shape (n, n)
        The symmetric positive semidefinite (for a convex loss) Gauss-Newton matrix.

    Examples
    --------
    Logistic regression, whose logits ``X w`` are linear in ``w``: the Gauss-Newton matrix is
    the Hessian ``X.T S X`` with ``S = diag(p (1 - p))``.

    >>> X = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]])
    >>> G = gauss_newton(lambda w: X @ w, np.zeros(2), loss="logistic")
    >>> np.allclose(G, X.T @ X / 4)
    True
    """
    check_callable(outputs, "outputs")
    w = as_finite_array(w, "w").astype(float)
    if w.ndim != 1:
        raise ValueError(f"`w` must be one-dimensional; got shape {w.shape}")
    if not callable(loss):
        check_choice(loss, "loss", GAUSS_NEWTON_LOSSES)
    check_choice(reduction, "reduction", ("sum", "mean"))
    z = real_output(outputs(w), "outputs")
    if z.ndim != 1 or not np.all(np.isfinite(z)):
        raise ValueError(
            f"`outputs` must return a finite one-dimensional array; got shape {z.shape}"
        )
    if jac is None:
        from calcml import autodiff  # a lazy import: autodiff is only needed here

        J = np.asarray(autodiff.jacobian(outputs)(w), dtype=float).reshape(z.size, w.size)
    else:
        check_callable(jac, "jac")
        J = real_output(jac(w), "jac")
        if J.shape != (z.size, w.size) or not np.all(np.isfinite(J)):
            raise ValueError(
                f"`jac` must return a finite ({z.size}, {w.size}) array; got {J.shape}"
            )
    h = _loss_curvature(loss, z)
    with np.errstate(over="ignore", invalid="ignore"):
        G = J.T @ (h[:, None] * J) if h.ndim == 1 else J.T @ h @ J
    if not np.all(np.isfinite(G)):
        raise ValueError(
            "the Gauss-Newton matrix overflows: `jac` or the curvature of `loss` too large"
        )
    if reduction == "mean":
        G = G / z.size
    return 0.5 * (G + G.T)


@documented_in("hessian_and_curvature", "trace-estimation")
@dataclass(frozen=True, kw_only=True)
class TraceResult:
    """The outcome of :func:`hutchinson_trace`.

    Attributes
    ----------
    estimate : float
        The mean of the samples ``v . H v``: an unbiased estimate of ``trace(H)``.
    standard_error : float
        The sample standard deviation of the ``v . H v`` over ``sqrt(nsamples)``.
    nsamples : int
        The number of Hessian-vector products used.
    values : ndarray
        The individual samples ``v . H v``.
    """

    estimate: float
    standard_error: float
    nsamples: int
    values: Vector


@documented_in("hessian_and_curvature", "trace-estimation")
def hutchinson_trace(
    hvp: Callable[[Vector], ArrayLike],
    n: int,
    *,
    samples: int = 100,
    rng: Seed = None,
) -> TraceResult:
    """Hutchinson's estimate of ``trace(H)`` from products ``H v`` with random sign vectors.

    Each sample is ``v . H v`` with ``v`` a Rademacher vector (independent entries +1 or -1
    with equal probability), so ``E[v . H v] = trace(H)``. For a symmetric ``H`` one sample
    has variance ``2 * sum_{i != j} H_ij ** 2``: the estimate is exact for a diagonal ``H``.

    Parameters
    ----------
    hvp, n : callable, int
        ``hvp(v) -> H v`` for ``v`` of shape ``(n,)``, and ``n >= 1``.
    samples : int, optional
        The number of products, at least 2 (for the standard error).
    rng : None, int or numpy.random.Generator, optional
        Source of the random signs, as :func:`numpy.random.default_rng` accepts it
        (``None``: fresh entropy).

    Returns
    -------
    TraceResult

    Examples
    --------
    >>> H = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> res = hutchinson_trace(lambda v: H @ v, 2, samples=400, rng=0)
    >>> abs(res.estimate - 5.0) < 4 * res.standard_error
    True
    >>> hutchinson_trace(lambda v: np.diag([1.0, 2.0]) @ v, 2, samples=3, rng=0).estimate
    3.0
    """
    check_callable(hvp, "hvp")
    n = check_int(n, "n", minimum=1)
    samples = check_int(samples, "samples", minimum=2)
    signs = check_rng(rng).integers(0, 2, size=(samples, n)) * 2.0 - 1.0
    values = np.empty(samples)
    for k, v in enumerate(signs):
        w = real_output(hvp(v), "hvp", shape=(n,))
        if not np.all(np.isfinite(w)):
            raise ValueError(f"`hvp` returned non-finite values at product {k + 1}")
        values[k] = v @ w
    return TraceResult(
        estimate=float(values.mean()),
        standard_error=float(values.std(ddof=1) / np.sqrt(samples)),
        nsamples=samples,
        values=values,
    )


@documented_in("hessian_and_curvature", "constraints")
@dataclass(frozen=True, kw_only=True)
class LagrangeResult:
    """The outcome of :func:`lagrange_newton`.

    Attributes
    ----------
    x, multipliers : ndarray, ndarray
        The last iterate and its Lagrange multipliers ``lam`` (shape ``(p,)``; the book
        writes them as nu), for the Lagrangian ``f(x) + lam . g(x)``.
    fun : float
        ``f(x)``.
    residual : float
        The norm of ``(grad f(x) + J_g(x).T lam, g(x))``: zero at a stationary point.
    nit : int
        The number of Newton steps taken.
    success, message : bool, str
        Whether ``residual <= tol``; why the iteration stopped.
    """

    x: Vector
    multipliers: Vector
    fun: float
    residual: float
    nit: int
    success: bool
    message: str


@documented_in("hessian_and_curvature", "constraints")
def lagrange_newton(
    f: Callable[[Any], Any],
    g: Callable[[Any], Any],
    x0: ArrayLike,
    lam0: ArrayLike,
    *,
    tol: float = 1e-10,
    maxiter: int = 50,
) -> LagrangeResult:
    """Newton's method on the stationarity system of ``f(x) + lam . g(x)`` subject to ``g(x) = 0``.

    Solves ``grad f(x) + J_g(x).T lam = 0`` and ``g(x) = 0`` for ``(x, lam)``: each step
    solves the linear system with the KKT matrix ``[[W, J_g.T], [J_g, 0]]``, where
    ``W = hess f(x) + sum_k lam_k hess g_k(x)`` is the Hessian of the Lagrangian. All
    derivatives are exact, from :mod:`calcml.autodiff`, so ``f`` and ``g`` must be written
    with its functions (``ad.exp``, ``ad.tanh``, ...) and NumPy operators. Like Newton's method
    the iteration converges quadratically from a start close enough to a stationary point
    whose constraint gradients are linearly independent and whose KKT matrix is nonsingular
    there (it is when the Hessian of the Lagrangian is positive definite on the tangent
    space, the second-order sufficient condition; Nocedal & Wright, *Numerical
    Optimization*, 2nd ed., Section 18.1 and Theorem 18.1). Without that, convergence can be
    linear and slow. It finds maxima and saddles of the constrained problem as readily as
    minima. ``success`` bounds the residual only, not the error in ``x``: where the KKT
    matrix is singular at the solution, a small residual allows a much larger error in ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape ``(n,)``.
    g : callable
        ``g(x) -> shape (p,)``, the equality constraints ``g(x) = 0``, ``1 <= p <= n``.
    x0, lam0 : array_like, shapes (n,) and (p,)
        The starting point and multipliers.
    tol : float, optional
        Stop when the residual of the stationarity system is at most ``tol``.
    maxiter : int, optional
        The most Newton steps, at least 1.

    Returns
    -------
    LagrangeResult

    Examples
    --------
    The smallest ``x + y`` on the unit circle is at ``x = y = -1/sqrt(2)``, with multiplier
    ``1/sqrt(2)``:

    >>> res = lagrange_newton(lambda x: x[0] + x[1], lambda x: [x @ x - 1.0], [-1.0, -0.5], [1.0])
    >>> bool(np.allclose(res.x, -np.sqrt(0.5))), round(float(res.multipliers[0]), 12), res.success
    (True, 0.707106781187, True)
    """
    from calcml import autodiff  # a lazy import: autodiff is only needed here

    check_callable(f, "f")
    check_callable(g, "g")
    x = _as_point(x0)
    lam = as_finite_array(lam0, "lam0").astype(float)
    n, p = x.size, lam.size
    if lam.ndim != 1 or not 1 <= p <= n:
        raise ValueError(f"`lam0` must have shape (p,) with 1 <= p <= {n}; got shape {lam.shape}")
    tol = check_nonnegative(tol, "tol")
    maxiter = check_int(maxiter, "maxiter", minimum=1)

    def constraints(v: Vector) -> Vector:
        c = real_output(g(v), "g")
        if c.shape != (p,):
            raise ValueError(f"`g` must return shape ({p},) to match `lam0`; got {c.shape}")
        return c

    # one scalar function per constraint: g may return a list of expressions or a vector
    parts = [lambda v, k=k: g(v)[k] for k in range(p)]
    grad_f, hess_f = autodiff.grad(f), autodiff.hessian(f)
    grad_g = [autodiff.grad(gk) for gk in parts]
    hess_g = [autodiff.hessian(gk) for gk in parts]

    def residual_parts(v: Vector, mult: Vector) -> tuple[Vector, Vector]:
        c = constraints(v)
        J = np.array([np.asarray(gk(v), dtype=float) for gk in grad_g]).reshape(p, n)
        return np.concatenate([np.asarray(grad_f(v), dtype=float) + J.T @ mult, c]), J

    r, J = residual_parts(x, lam)
    nit, message = 0, ""
    while True:
        res_norm = float(np.linalg.norm(r))
        if not np.isfinite(res_norm):
            message = f"non-finite residual after {nit} steps"
            break
        if res_norm <= tol:
            message = f"converged: residual {res_norm:.3g} <= tol after {nit} steps"
            break
        if nit >= maxiter:
            message = f"maximum number of steps ({maxiter}) reached"
            break
        W = np.asarray(hess_f(x), dtype=float).reshape(n, n)
        for lam_k, hk in zip(lam, hess_g, strict=True):
            W = W + lam_k * np.asarray(hk(x), dtype=float).reshape(n, n)
        K = np.block([[W, J.T], [J, np.zeros((p, p))]])
        try:
            step = np.linalg.solve(K, -r)
        except np.linalg.LinAlgError:
            message = f"singular KKT matrix after {nit} steps"
            break
        x, lam = x + step[:n], lam + step[n:]
        nit += 1
        r, J = residual_parts(x, lam)
    res_norm = float(np.linalg.norm(r))
    return LagrangeResult(
        x=x,
        multipliers=lam,
        fun=scalar_output(f(x), "f"),
        residual=res_norm,
        nit=nit,
        success=bool(res_norm <= tol),
        message=message,
    )

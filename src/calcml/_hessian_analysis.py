"""Hessian analysis: critical points, conditioning and the top eigenvalue.

The checks on Hessians and on the outputs of user callables, the
second-derivative test (:func:`classify_critical_point`), the condition number,
a multi-start search for critical points, and power iteration for the
sharpness (:func:`top_eigenvalue`). The public names are re-exported by
:mod:`calcml.curvature`; import them from there. The optimisers there
(Newton's method, gradient descent) use the checks defined here.

Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html
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

from calcml._validation import as_finite_array, check_callable, check_finite_scalar, check_int

#: A Hessian may be asymmetric by this much relative to its largest entry
#: (finite-difference Hessians are symmetric only up to their error).
SYMMETRY_RTOL = 1e-6
_EPS = float(np.finfo(float).eps)

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class EigenResult:
    """The outcome of :func:`top_eigenvalue`.

    Attributes
    ----------
    value, vector : float, ndarray
        The eigenvalue of largest magnitude (a Rayleigh quotient) and a unit eigenvector.
    nit : int
        The number of Hessian-vector products used.
    residual, converged : float, bool
        ``norm(H v - value * v)``, an error bound for ``value``; whether it is
        ``<= tol * abs(value)``.

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#hessian-vector-products
    """

    value: float
    vector: Vector
    nit: int
    residual: float
    converged: bool


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


def _call_vector(fun: Callable[..., Any], x: Vector, name: str, n: int) -> Vector:
    out = np.asarray(fun(x))
    if out.shape != (n,) or out.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}` must return a real array of shape ({n},), "
            f"got shape {out.shape} and dtype {out.dtype}"
        )
    return out.astype(np.float64)


def _check_tol(tol: Any, name: str = "tol") -> float:
    value = check_finite_scalar(tol, name)
    if value < 0:
        raise ValueError(f"`{name}` must be >= 0, got {value}")
    return value


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

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#critical-points
    """
    H = _as_hessian(hessian)
    eig = np.linalg.eigvalsh(H)
    if tol is None:
        threshold = float(np.max(np.abs(eig))) * H.shape[0] * _EPS
    else:
        threshold = _check_tol(tol)
    positive, negative = eig > threshold, eig < -threshold
    if positive.any() and negative.any():
        return "saddle"
    if not np.all(positive | negative):
        return "degenerate"
    return "minimum" if positive.all() else "maximum"


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

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#newton-vs-gradient-descent
    """
    magnitudes = np.abs(np.linalg.eigvalsh(_as_hessian(hessian)))
    smallest = float(magnitudes.min())
    return float("inf") if smallest == 0.0 else float(magnitudes.max()) / smallest


def find_critical_points(
    grad: Callable[[Vector], ArrayLike],
    bounds: ArrayLike,
    *,
    starts: int | ArrayLike = 32,
    rng: Any = None,
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
        Seed or generator for random starts; ``None`` means seed 0, so that
        repeated calls return the same points.
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
    >>> find_critical_points(grad, [[-2, 2], [-2, 2]], starts=8).round(6) + 0.0
    array([[-0.57735,  0.     ],
           [ 0.57735,  0.     ]])

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#critical-points
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
    gtol = _check_tol(gtol, "gtol")
    if isinstance(starts, numbers.Integral) and not isinstance(starts, bool):
        m = check_int(starts, "starts", minimum=1)
        generator = np.random.default_rng(0 if rng is None else rng)
        points = lower + (upper - lower) * generator.random((m, n))
    else:
        points = as_finite_array(starts, "starts")
        if points.ndim != 2 or points.shape[1] != n or points.shape[0] == 0:
            raise ValueError(
                f"`starts` must be an int or an (m, {n}) array, got shape {points.shape}"
            )
    _call_vector(grad, points[0], "grad", n)  # fail early on a wrong output shape

    def fun(x: Vector) -> Vector:  # the root finder may wander off to inf: stop it there
        return _call_vector(grad, x, "grad", n) if np.all(np.isfinite(x)) else x * np.nan

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


def top_eigenvalue(
    hvp: Callable[[Vector], ArrayLike],
    n: int,
    *,
    iters: int = 1000,
    tol: float = 1e-8,
    rng: Any = None,
) -> EigenResult:
    """The eigenvalue of largest magnitude of a symmetric ``H``, from products ``H v`` alone.

    Power iteration: ``v <- H v / norm(H v)`` from a random unit vector, with the
    Rayleigh quotient ``v . H v`` as the estimate. Near a minimum ``H`` is positive
    semidefinite and this is ``lambda_max``, the *sharpness* of the loss. The error
    shrinks like ``(lambda_2 / lambda_1) ** k``.

    Parameters
    ----------
    hvp, n : callable, int
        ``hvp(v) -> H v`` for ``v`` of shape ``(n,)``, and ``n >= 1``.
    iters, tol : int, float, optional
        Stop after ``iters >= 1`` products or when ``norm(H v - value * v) <= tol * abs(value)``.
    rng : None, int or numpy.random.Generator, optional
        Seed or generator for the start; ``None`` means seed 0.

    Returns
    -------
    EigenResult

    Examples
    --------
    >>> H = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> res = top_eigenvalue(lambda v: H @ v, 2)
    >>> round(res.value, 10), res.converged
    (3.0, True)

    Book: https://calcml.github.io/calculus-for-ml/book/hessian_and_curvature.html#hessian-vector-products
    """
    check_callable(hvp, "hvp")
    n = check_int(n, "n", minimum=1)
    iters = check_int(iters, "iters", minimum=1)
    tol = _check_tol(tol)
    v = np.random.default_rng(0 if rng is None else rng).standard_normal(n)
    v /= np.linalg.norm(v)
    value, residual = 0.0, np.inf
    for k in range(1, iters + 1):
        w = _call_vector(hvp, v, "hvp", n)
        if not np.all(np.isfinite(w)):
            raise ValueError(f"`hvp` returned non-finite values at product {k}")
        value = float(v @ w)
        residual = float(np.linalg.norm(w - value * v))
        size = float(np.linalg.norm(w))
        if residual <= tol * abs(value) or size == 0.0:
            return EigenResult(value, v, k, residual, True)
        v = w / size
    return EigenResult(value, v, iters, residual, False)

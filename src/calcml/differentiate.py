"""Numerical derivatives: finite differences and the complex step.

Derivatives, gradients, Jacobians, Hessians and directional derivatives of
plain NumPy functions, with steps chosen to balance truncation error against
round-off and made exact as ``(x + h) - x``, and the error of a difference
method over a range of steps (the "U curve"). Jacobians and Hessians follow
JAX's shape convention: ``f(x).shape + x.shape`` and ``x.shape + x.shape``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calcml._validation import (
    EPS,
    as_finite_array,
    check_callable,
    check_choice,
    check_positive,
    documented_in,
    real_output,
    with_book_link,
)

__doc__ = with_book_link(__doc__, "gradients_and_derivatives")

__all__ = [
    "METHODS",
    "ErrorVsStep",
    "default_step",
    "derivative",
    "directional_derivative",
    "error_vs_step",
    "gradient",
    "hessian",
    "jacobian",
]

#: The difference methods, as ``method=`` accepts them.
METHODS: tuple[str, ...] = ("forward", "backward", "central", "five_point", "complex")

# Offsets (in units of h) and weights of each real stencil: f'(x) ~ sum(w * f(x + o h)) / h.
_STENCILS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "forward": ((0.0, 1.0), (-1.0, 1.0)),
    "backward": ((-1.0, 0.0), (-1.0, 1.0)),
    "central": ((-1.0, 1.0), (-0.5, 0.5)),
    "five_point": ((-2.0, -1.0, 1.0, 2.0), (1 / 12, -8 / 12, 8 / 12, -1 / 12)),
}

# The exponent p in h = eps**p * max(1, |x|): 1/(k+1) for a method of order k,
# which balances truncation h**k against round-off eps/h. The complex step has
# no cancellation, so any tiny step works.
_STEP_POWER = {"forward": 1 / 2, "backward": 1 / 2, "central": 1 / 3, "five_point": 1 / 5}
_STEP_FACTOR = {"forward": 1.0, "backward": 1.0, "central": 1.0, "five_point": 0.5}
_COMPLEX_STEP = 1e-20
_HESSIAN_POWER = 1 / 4

_DROPS_IMAG = (
    "`f` drops the imaginary part of a complex input (abs, float(), np.real and the like), "
    "so method='complex' cannot be used with it; use method='central' or 'five_point'"
)


@documented_in("gradients_and_derivatives", "derivatives-on-a-computer")
def default_step(method: str, x: ArrayLike) -> float | NDArray[np.float64]:
    """Return the default difference step for ``method`` at ``x``.

    The step is ``eps**(1/(k+1)) * max(1, |x|)`` for a method of order ``k``
    (forward and backward: ``k = 1``, central: 2, five-point: 4), the size that
    balances truncation error against round-off, made exact as ``(x + h) - x``.
    The complex step is ``1e-20 * max(1, |x|)``: it suffers no cancellation.

    Parameters
    ----------
    method : {"forward", "backward", "central", "five_point", "complex"}
        The difference method.
    x : array_like
        The point(s); the step is computed elementwise.

    Returns
    -------
    float or ndarray
        A float for scalar ``x``, else an array of ``x``'s shape.

    Examples
    --------
    >>> default_step("central", 1.0)
    6.055454452313924e-06
    >>> default_step("forward", [0.0, 100.0])
    array([1.49011612e-08, 1.49011612e-06])
    """
    method = check_choice(method, "method", METHODS)
    xs = as_finite_array(x, "x")
    scale = np.maximum(1.0, np.abs(xs))
    if method == "complex":
        h = _COMPLEX_STEP * scale
    else:
        h = _STEP_FACTOR[method] * EPS ** _STEP_POWER[method] * scale
        h = (xs + h) - xs
    return float(h) if h.ndim == 0 else h


def _steps(
    method: str, x: NDArray[np.float64], step: float | None, power: float | None = None
) -> NDArray[np.float64]:
    """The steps to use at ``x``: the default, or ``step`` made exact and checked."""
    if step is None:
        if power is None:
            return np.asarray(default_step(method, x), dtype=np.float64)
        h = EPS**power * np.maximum(1.0, np.abs(x))
        return (x + h) - x
    value = check_positive(step, "step")
    if method == "complex":
        return np.full(x.shape, value)
    h = (x + value) - x
    if np.any(h == 0):
        raise ValueError(f"`step` = {value!r} is too small for `x`: (x + step) - x == 0 in float64")
    return h


def _checked(
    f: Callable[..., Any], shape: tuple[int, ...] | None, method: str
) -> Callable[[Any], NDArray[Any]]:
    """``f`` with each result checked by :func:`~calcml._validation.real_output` (complex
    allowed only for the complex step, ``shape`` if given) and for finiteness."""

    def call(arg: NDArray[Any]) -> NDArray[Any]:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            raw = f(arg[()] if arg.ndim == 0 else arg)
        out = real_output(raw, "f", shape=shape, allow_complex=method == "complex")
        if not np.all(np.isfinite(out)):
            raise ValueError(f"`f` returned a non-finite value {out!r} near x = {arg!r}")
        return out

    return call


def _diff(
    g: Callable[[Any], NDArray[Any]], h: NDArray[np.float64], method: str, real_h: Any = None
) -> NDArray[Any]:
    """Differentiate ``t -> g(t)`` at ``t = 0`` with steps ``h``, ``g`` taking offsets.

    For the complex step, ``real_h`` is the central-difference step used to
    check a result with zero imaginary part (was the imaginary part dropped?).
    """
    if method == "complex":
        value = g(1j * h)
        if value.dtype.kind != "c":
            raise ValueError(_DROPS_IMAG)
        slope = value.imag / h
        flat = value.imag == 0
        if np.any(flat):
            central = _diff(lambda t: g(t).real, real_h, "central")
            scale = np.maximum(1.0, np.abs(value.real))
            if np.any(flat & (np.abs(central) > 1e-6 * scale)):
                raise ValueError(
                    _DROPS_IMAG + " (f(x + ih) has zero imaginary part where "
                    "a central difference says the derivative is nonzero)"
                )
        return np.asarray(slope, dtype=np.float64)
    offsets, weights = _STENCILS[method]
    total = sum(w * g(o * h) for o, w in zip(offsets, weights, strict=True))
    return np.asarray(total / h, dtype=np.float64)


@documented_in("gradients_and_derivatives", "derivatives-on-a-computer")
def derivative(
    f: Callable[[Any], Any], x: ArrayLike, *, method: str = "central", step: float | None = None
) -> float | NDArray[np.float64]:
    """Derivative of a scalar function ``f: R -> R`` at ``x``, vectorised over ``x``.

    Parameters
    ----------
    f : callable
        Elementwise function: ``f(x)`` returns an array of ``x``'s shape. For
        ``method="complex"`` it must accept complex input (no ``abs``,
        ``float()`` or ``np.real``).
    x : array_like
        Point(s) at which to differentiate; finite.
    method : {"central", "forward", "backward", "five_point", "complex"}
        Forward and backward differences are first order, central second
        order, five-point fourth order; the complex step ``Im f(x + ih) / h``
        is exact to rounding.
    step : float, optional
        Absolute step ``h > 0``; default :func:`default_step`.

    Returns
    -------
    float or ndarray
        A float for scalar ``x``, else an array of ``x``'s shape.

    Raises
    ------
    TypeError
        If ``f`` is not callable.
    ValueError
        On a non-finite ``x``, a bad ``step`` or ``method``, ``f`` returning the
        wrong shape or non-finite values, or ``method="complex"`` on an ``f``
        that drops the imaginary part.

    Examples
    --------
    >>> import numpy as np
    >>> round(derivative(np.sin, 0.0), 9)
    1.0
    >>> derivative(np.exp, [0.0, 1.0], method="complex")
    array([1.        , 2.71828183])
    """
    check_callable(f, "f")
    method = check_choice(method, "method", METHODS)
    xs = as_finite_array(x, "x")
    h = _steps(method, xs, step)

    value = _checked(f, xs.shape, method)
    d = _diff(lambda t: value(xs + t), h, method, _steps("central", xs, None))
    return float(d) if d.ndim == 0 else d


@dataclass(frozen=True, kw_only=True)
class ErrorVsStep:
    """Errors of one difference method over a range of steps (the "U curve").

    Attributes
    ----------
    steps : ndarray
        The steps actually used (made exact as ``(x + h) - x``).
    errors : ndarray
        ``|estimate - exact|`` at each step.
    best_step, best_error : float
        The step with the smallest error, and that error.
    """

    steps: NDArray[np.float64]
    errors: NDArray[np.float64]
    best_step: float
    best_error: float


@documented_in("gradients_and_derivatives", "derivatives-on-a-computer")
def error_vs_step(
    f: Callable[[Any], Any], x: float, exact: float, steps: ArrayLike, *, method: str = "central"
) -> ErrorVsStep:
    """Absolute error of :func:`derivative` at ``x`` for each step in ``steps``.

    Parameters
    ----------
    f : callable
        Scalar function of one variable.
    x : float
        The point.
    exact : float
        The exact derivative ``f'(x)``.
    steps : array_like
        Positive steps, 1-D; each must survive ``(x + h) - x != 0``.
    method : str
        As for :func:`derivative`.

    Returns
    -------
    ErrorVsStep

    Examples
    --------
    >>> import numpy as np
    >>> res = error_vs_step(np.exp, 0.0, 1.0, [1e-1, 1e-2], method="forward")
    >>> res.errors.round(4)
    array([0.0517, 0.005 ])
    >>> float(res.best_step)
    0.01
    """
    check_callable(f, "f")
    method = check_choice(method, "method", METHODS)
    x0 = float(as_finite_array(x, "x")) if np.ndim(x) == 0 else None
    if x0 is None:
        raise ValueError(f"`x` must be a scalar, got shape {np.shape(x)}")
    ref = float(as_finite_array(exact, "exact")) if np.ndim(exact) == 0 else None
    if ref is None:
        raise ValueError(f"`exact` must be a scalar, got shape {np.shape(exact)}")
    hs = as_finite_array(steps, "steps")
    if hs.ndim != 1 or hs.size == 0:
        raise ValueError(f"`steps` must be a non-empty 1-D array, got shape {hs.shape}")
    used = np.array([_steps(method, np.asarray(x0), float(h)) for h in hs], dtype=np.float64)
    errors = np.array(
        [abs(float(derivative(f, x0, method=method, step=float(h))) - ref) for h in hs]
    )
    k = int(np.argmin(errors))
    return ErrorVsStep(
        steps=used, errors=errors, best_step=float(used[k]), best_error=float(errors[k])
    )


def _along(
    value: Callable[[Any], NDArray[Any]], xs: NDArray[Any], j: int
) -> Callable[[Any], NDArray[Any]]:
    """``t -> value(x + t e_j)`` for the ``j``-th coordinate (of the flattened ``x``)."""
    e = np.zeros(xs.size)
    e[j] = 1.0
    e_j = e.reshape(xs.shape)
    return lambda t: value(xs + t * e_j)


@documented_in("gradients_and_derivatives", "partial-derivatives-and-the-gradient")
def directional_derivative(
    f: Callable[[Any], Any],
    x: ArrayLike,
    v: ArrayLike,
    *,
    method: str = "central",
    step: float | None = None,
) -> float:
    """Directional derivative ``D_v f(x) = d/dt f(x + t v)`` at ``t = 0``.

    It equals ``grad f(x) @ v``; ``v`` is not normalised (pass a unit vector
    for the slope per unit length).

    Parameters
    ----------
    f : callable
        Scalar function of an array of ``x``'s shape.
    x, v : array_like
        The point and the direction, of the same shape; ``v`` nonzero.
    method : str
        As for :func:`derivative`.
    step : float, optional
        Step in ``t``; by default the step for ``max|x|`` divided by ``max|v|``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: x[0] ** 2 + 3 * x[1]
    >>> round(directional_derivative(f, [1.0, 2.0], [0.6, 0.8]), 8)
    3.6
    """
    check_callable(f, "f")
    method = check_choice(method, "method", METHODS)
    xs = as_finite_array(x, "x")
    vs = as_finite_array(v, "v")
    if vs.shape != xs.shape:
        raise ValueError(f"`v` must have the shape of `x` {xs.shape}, got {vs.shape}")
    vmax = float(np.max(np.abs(vs))) if vs.size else 0.0
    if vmax == 0:
        raise ValueError("`v` must be a nonzero direction")
    xmax = float(np.max(np.abs(xs))) if xs.size else 0.0
    real_h = float(default_step("central", xmax)) / vmax
    if step is None:
        h = np.asarray(float(default_step(method, xmax)) / vmax)
    else:
        h = np.asarray(check_positive(step, "step"))
    value = _checked(f, (), method)
    return float(_diff(lambda t: value(xs + t * vs), h, method, real_h))


@documented_in("gradients_and_derivatives", "partial-derivatives-and-the-gradient")
def gradient(
    f: Callable[[Any], Any], x: ArrayLike, *, method: str = "central", step: float | None = None
) -> NDArray[np.float64]:
    """Gradient of a scalar function ``f: R^n -> R``, one partial derivative at a time.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a finite scalar for an array of ``x``'s shape.
    x : array_like
        The point; any shape (a weight matrix is fine).
    method : str
        As for :func:`derivative`.
    step : float, optional
        Absolute step for every coordinate; default :func:`default_step` per coordinate.

    Returns
    -------
    ndarray
        The gradient, of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> gradient(lambda x: x[0] ** 2 * x[1], [3.0, 2.0]).round(7)
    array([12.,  9.])
    """
    check_callable(f, "f")
    method = check_choice(method, "method", METHODS)
    xs = as_finite_array(x, "x")
    h = _steps(method, xs, step).ravel()
    real_h = _steps("central", xs, None).ravel()
    value = _checked(f, (), method)
    grad = np.empty(xs.size)
    for j in range(xs.size):
        grad[j] = _diff(_along(value, xs, j), h[j], method, real_h[j])
    return grad.reshape(xs.shape)


@documented_in("gradients_and_derivatives", "in-machine-learning")
def jacobian(
    f: Callable[..., Any], x: ArrayLike, *, method: str = "central", step: float | None = None
) -> float | NDArray[np.float64]:
    """Jacobian ``J[i..., j...] = d f(x)[i...] / d x[j...]``, of shape ``f(x).shape + x.shape``.

    For ``f: R^n -> R^m`` this is the ``(m, n)`` matrix of partial derivatives;
    for a matrix-shaped ``x`` or ``f(x)`` the axes are kept, as in JAX and
    :func:`calcml.autodiff.jacobian`.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array of a fixed shape (a scalar gives the gradient).
    x : array_like
        The point, any shape.
    method, step
        As for :func:`gradient`.

    Returns
    -------
    float or ndarray
        Shape ``f(x).shape + x.shape`` (a float when that is ``()``).

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.array([x[0] * x[1], np.sin(x[0])])
    >>> jacobian(f, [0.0, 2.0]).round(8)
    array([[2., 0.],
           [1., 0.]])
    >>> jacobian(lambda X: X @ X, np.eye(2)).shape
    (2, 2, 2, 2)
    """
    check_callable(f, "f")
    method = check_choice(method, "method", METHODS)
    xs = as_finite_array(x, "x")
    h = _steps(method, xs, step).ravel()
    real_h = _steps("central", xs, None).ravel()
    shape = _checked(f, None, method)(xs).shape
    checked = _checked(f, shape, method)

    def value(arg: NDArray[Any]) -> NDArray[Any]:
        return checked(arg).ravel()

    columns = [_diff(_along(value, xs, j), h[j], method, real_h[j]) for j in range(xs.size)]
    if not columns:
        return np.zeros(shape + xs.shape)
    J = np.stack(columns, axis=-1).reshape(shape + xs.shape)
    return float(J) if J.ndim == 0 else J


@documented_in("gradients_and_derivatives", "partial-derivatives-and-the-gradient")
def hessian(
    f: Callable[[Any], Any], x: ArrayLike, *, step: float | None = None
) -> float | NDArray[np.float64]:
    """Hessian of a scalar ``f`` from function values alone, symmetric by construction.

    Second central differences: ``(f(x + h e_i) - 2 f(x) + f(x - h e_i)) / h**2``
    on the diagonal and ``(f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j)`` off it,
    with ``h = eps**(1/4) * max(1, |x|)``. Uses ``2 n**2 + 1`` evaluations.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a finite scalar.
    x : array_like
        The point, any shape (``n`` entries in all).
    step : float, optional
        Absolute step for every coordinate.

    Returns
    -------
    float or ndarray
        Shape ``x.shape + x.shape`` (``(n, n)`` for a vector ``x``, a float for
        a scalar ``x``); exactly symmetric as an ``(n, n)`` matrix.

    Examples
    --------
    >>> hessian(lambda x: x[0] ** 2 * x[1], [1.0, 2.0]).round(6)
    array([[4., 2.],
           [2., 0.]])
    >>> hessian(lambda X: np.sum(X**2), np.ones((2, 3))).shape
    (2, 3, 2, 3)
    """
    check_callable(f, "f")
    xs = as_finite_array(x, "x")
    n = xs.size
    h = _steps("central", xs, step, power=None if step is not None else _HESSIAN_POWER).ravel()
    value = _checked(f, (), "central")

    def at(*moves: tuple[int, float]) -> float:
        y = xs.astype(np.float64).ravel()  # a copy
        for i, sign in moves:
            y[i] += sign * h[i]
        return float(value(y.reshape(xs.shape)))

    f0 = at()
    H = np.empty((n, n))
    for i in range(n):
        H[i, i] = (at((i, 1.0)) - 2 * f0 + at((i, -1.0))) / h[i] ** 2
        for j in range(i):
            H[i, j] = H[j, i] = (
                at((i, 1.0), (j, 1.0))
                - at((i, 1.0), (j, -1.0))
                - at((i, -1.0), (j, 1.0))
                + at((i, -1.0), (j, -1.0))
            ) / (4 * h[i] * h[j])
    return float(H[0, 0]) if xs.ndim == 0 else H.reshape(xs.shape + xs.shape)

"""Numerical derivatives: finite differences and the complex step.

Derivatives, gradients, Jacobians, Hessians and directional derivatives of
plain NumPy functions, with steps chosen to balance truncation error against
round-off and made exact as ``(x + h) - x``. Every function validates its input
and says which parameter was wrong.

Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calcml._derivative import (
    _HESSIAN_POWER,
    METHODS,
    ErrorVsStep,
    _checked,
    _diff,
    _steps,
    default_step,
    derivative,
    error_vs_step,
)
from calcml._validation import as_finite_array, check_callable, check_choice, check_positive

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

_BOOK = "https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html"


def _along(
    value: Callable[[Any], NDArray[Any]], xs: NDArray[Any], j: int
) -> Callable[[Any], NDArray[Any]]:
    """``t -> value(x + t e_j)`` for the ``j``-th coordinate (of the flattened ``x``)."""
    e = np.zeros(xs.size)
    e[j] = 1.0
    e_j = e.reshape(xs.shape)
    return lambda t: value(xs + t * e_j)


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

    Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html#partial-derivatives-and-the-gradient
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

    Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html#partial-derivatives-and-the-gradient
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


def jacobian(
    f: Callable[[Any], Any], x: ArrayLike, *, method: str = "central", step: float | None = None
) -> NDArray[np.float64]:
    """Jacobian ``J[i, j] = d f_i / d x_j`` of ``f: R^n -> R^m``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array (any shape, flattened to ``m`` entries).
    x : array_like
        The point (any shape, flattened to ``n`` entries).
    method, step
        As for :func:`gradient`.

    Returns
    -------
    ndarray
        Shape ``(m, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.array([x[0] * x[1], np.sin(x[0])])
    >>> jacobian(f, [0.0, 2.0]).round(8)
    array([[2., 0.],
           [1., 0.]])

    Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html#in-machine-learning
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
    return np.stack(columns, axis=-1).reshape(-1, xs.size)


def hessian(
    f: Callable[[Any], Any], x: ArrayLike, *, step: float | None = None
) -> NDArray[np.float64]:
    """Hessian of ``f: R^n -> R`` from function values alone, symmetric by construction.

    Second central differences: ``(f(x + h e_i) - 2 f(x) + f(x - h e_i)) / h**2``
    on the diagonal and ``(f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j)`` off it,
    with ``h = eps**(1/4) * max(1, |x|)``. Uses ``2 n**2 + 1`` evaluations.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a finite scalar.
    x : array_like
        The point (flattened to ``n`` entries).
    step : float, optional
        Absolute step for every coordinate.

    Returns
    -------
    ndarray
        Shape ``(n, n)``, exactly symmetric.

    Examples
    --------
    >>> hessian(lambda x: x[0] ** 2 * x[1], [1.0, 2.0]).round(6)
    array([[4., 2.],
           [2., 0.]])

    Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html#partial-derivatives-and-the-gradient
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
    return H

"""The scalar finite-difference core: stencils, steps, ``derivative`` and the step study.

The difference stencils and default steps, the checked evaluation and
differencing helpers that :mod:`calcml.differentiate` builds gradients,
Jacobians and Hessians on, the scalar :func:`derivative`, and the error of a
difference method over a range of steps (the "U curve"). The public names are
re-exported by :mod:`calcml.differentiate`; import them from there.

Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calcml._validation import as_finite_array, check_callable, check_choice, check_positive

#: The difference methods, as ``method=`` accepts them.
METHODS: tuple[str, ...] = ("forward", "backward", "central", "five_point", "complex")

_EPS = float(np.finfo(np.float64).eps)

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

    Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html#derivatives-on-a-computer
    """
    method = check_choice(method, "method", METHODS)
    xs = as_finite_array(x, "x")
    scale = np.maximum(1.0, np.abs(xs))
    if method == "complex":
        h = _COMPLEX_STEP * scale
    else:
        h = _STEP_FACTOR[method] * _EPS ** _STEP_POWER[method] * scale
        h = (xs + h) - xs
    return float(h) if h.ndim == 0 else h


def _steps(
    method: str, x: NDArray[np.float64], step: float | None, power: float | None = None
) -> NDArray[np.float64]:
    """The steps to use at ``x``: the default, or ``step`` made exact and checked."""
    if step is None:
        if power is None:
            return np.asarray(default_step(method, x), dtype=np.float64)
        h = _EPS**power * np.maximum(1.0, np.abs(x))
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
    """``f`` with each result checked: numeric (complex only for the complex step),
    finite and of ``shape`` (if given; a size-1 result counts as a scalar)."""
    kinds = "biufc" if method == "complex" else "biuf"

    def call(arg: NDArray[Any]) -> NDArray[Any]:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            out = np.asarray(f(arg[()] if arg.ndim == 0 else arg))
        if out.dtype.kind not in kinds:
            raise ValueError(f"`f` must return real numbers, got dtype {out.dtype}")
        if shape is not None and out.shape != shape:
            if shape != () or out.size != 1:
                raise ValueError(f"`f` must return shape {shape}, got shape {out.shape}")
            out = out.reshape(())
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

    Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html#derivatives-on-a-computer
    """
    check_callable(f, "f")
    method = check_choice(method, "method", METHODS)
    xs = as_finite_array(x, "x")
    h = _steps(method, xs, step)

    value = _checked(f, xs.shape, method)
    d = _diff(lambda t: value(xs + t), h, method, _steps("central", xs, None))
    return float(d) if d.ndim == 0 else d


@dataclass(frozen=True)
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

    Book: https://calcml.github.io/calculus-for-ml/book/gradients_and_derivatives.html#derivatives-on-a-computer
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
    return ErrorVsStep(used, errors, float(used[k]), float(errors[k]))

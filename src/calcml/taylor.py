"""Taylor coefficients, Taylor polynomials, the Lagrange remainder and quadratic models.

Chapter 3 of the book. For a SymPy expression the coefficients are exact (SymPy's
``series``) and converted to float64 at the end; for a numeric callable they come
from the Cauchy integral formula, evaluated with the FFT of the function's values
on circles in the complex plane (Lyness and Moler 1967; Fornberg 1981).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
from numpy.polynomial import Polynomial
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from calcml import differentiate
from calcml._validation import (
    EPS,
    as_finite_array,
    check_callable,
    check_finite_scalar,
    check_int,
    check_nonnegative,
    documented_in,
    real_output,
    scalar_output,
    with_book_link,
)

__doc__ = with_book_link(__doc__, "taylor_series_approximation")

__all__ = [
    "QuadraticModel",
    "delta_method",
    "quadratic_model",
    "remainder_bound",
    "taylor_coefficients",
    "taylor_polynomial",
]

#: Circle radii tried by the numeric method, 8 down to 2**-10.
_RADII = 2.0 ** np.arange(3, -11, -1)


def _free_symbol(expr: sp.Expr) -> sp.Symbol | None:
    """The one free symbol of ``expr`` (None for a constant), else a ValueError naming them."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(symbols) > 1:
        names = ", ".join(s.name for s in symbols)
        raise ValueError(
            f"`f` must be an expression in one symbol, got {len(symbols)} free symbols: {names}"
        )
    return symbols[0] if symbols else None


def _symbolic_coefficients(expr: sp.Expr, x0: float, degree: int) -> NDArray[np.float64]:
    """Exact coefficients from SymPy's ``series`` about the exact binary value of ``x0``."""
    x = _free_symbol(expr)
    out = np.zeros(degree + 1)
    if x is None:
        out[0] = _to_float(expr, x0)
        return out
    t = sp.Dummy("t")
    shifted = expr.subs(x, _simple_rational(x0) + t)
    poly = sp.series(shifted, t, 0, degree + 1).removeO()
    if not poly.is_polynomial(t):
        raise ValueError(f"`f` has no Taylor expansion at `x0` = {x0}: its series is {poly}")
    poly = sp.expand(poly)
    for k in range(degree + 1):
        out[k] = _to_float(poly.coeff(t, k), x0)
    return out


def _simple_rational(x0: float) -> sp.Rational:
    """The simplest fraction (denominator up to 10**6) that rounds to ``x0``, else its exact value.

    SymPy's ``series`` is much faster about 1/5 than about the 54-bit fraction 0.2 really is.
    """
    simple = Fraction(x0).limit_denominator(10**6)
    if float(simple) == x0:
        return sp.Rational(simple.numerator, simple.denominator)
    return sp.Rational(x0)


def _to_float(value: sp.Expr, x0: float) -> float:
    number = complex(sp.N(value, 20))
    if number.imag != 0 or not math.isfinite(number.real):
        raise ValueError(f"`f` is not real and finite near `x0` = {x0}: got {value}")
    return number.real


def _evaluate(f: Callable[..., Any], z: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """``f`` on complex points: vectorised if it can, else point by point."""
    try:
        values = np.asarray(f(z))
        if values.shape == ():
            values = np.broadcast_to(values, z.shape)
        if values.shape != z.shape:
            raise TypeError("not vectorised")
    except TypeError:
        try:
            values = np.array([complex(f(complex(zj))) for zj in z.ravel()]).reshape(z.shape)
        except TypeError as exc:
            raise ValueError(
                "`f` is not complex-safe: it raised TypeError on complex input "
                f"({exc}); the numeric method evaluates f at complex points, so avoid "
                "math.*, float() and np.real, or pass a SymPy expression"
            ) from None
    return values.astype(np.complex128)


def _numeric_coefficients(f: Callable[..., Any], x0: float, degree: int) -> NDArray[np.float64]:
    """Cauchy integral by the FFT on several circles; the best radius per coefficient."""
    n = max(64, 1 << (4 * (degree + 1) - 1).bit_length())
    theta = 2.0 * np.pi * np.arange(n) / n
    z = x0 + _RADII[:, None] * np.exp(1j * theta)[None, :]
    with np.errstate(all="ignore"):
        values = _evaluate(f, z)
    finite = np.all(np.isfinite(values), axis=1)
    size = np.where(finite[:, None], np.abs(values), 0.0).max(axis=1)
    if np.any(finite):
        v = values[finite]
        spread = np.abs(v - v.mean(axis=1, keepdims=True)).max(axis=1)
        imag = np.abs(v.imag).max(axis=1)
        real_only = (spread > 1e3 * EPS * size[finite]) & (imag <= 1e-10 * spread)
        if np.any(real_only):
            raise ValueError(
                "`f` is not complex-safe: its values on a circle around `x0` in the complex "
                "plane are all real although f varies there (abs, float() or np.real "
                "drop the imaginary part); write f with complex-safe NumPy functions "
                "or pass a SymPy expression"
            )
    with np.errstate(all="ignore"):
        b = np.fft.fft(np.where(finite[:, None], values, 0.0), axis=1) / n
    # Roundoff plus an aliasing estimate from the last quarter of the spectrum,
    # which holds only the wrapped-around tail of the power series.
    noise = EPS * size + np.abs(b[:, 3 * n // 4 :]).max(axis=1)
    # A circle that encloses a singularity shows an O(1) tail: discard it.
    noise = np.where(finite & (noise <= 1e-8 * size), noise, np.inf)
    if not np.any(np.isfinite(noise)):
        raise ValueError(
            f"`f` does not look analytic near `x0` = {x0}: its values on circles of radius "
            f"{_RADII[-1]:g} to {_RADII[0]:g} are not finite or not smooth"
        )
    k = np.arange(degree + 1)
    scale = _RADII[:, None] ** k[None, :]
    error = noise[:, None] / scale
    best = np.argmin(error, axis=0)
    return np.real(b[best, k]) / scale[best, k]


@documented_in("taylor_series_approximation", "taylor-coefficients-from-sympy")
def taylor_coefficients(f: Any, x0: float, degree: int) -> NDArray[np.float64]:
    r"""Taylor coefficients :math:`c_k = f^{(k)}(x_0)/k!` for :math:`k = 0, \dots, n`.

    Parameters
    ----------
    f : sympy.Expr or callable
        A SymPy expression in (at most) one symbol, or a function of one variable
        that accepts complex NumPy arrays (or complex scalars).
    x0 : float
        The expansion point; finite.
    degree : int
        The highest order :math:`n \ge 0`.

    Returns
    -------
    ndarray of float64, shape (degree + 1,)
        The coefficients :math:`c_0, \dots, c_n`.

    Notes
    -----
    For an expression the coefficients are exact (SymPy's ``series`` about the
    simplest fraction that rounds to ``x0``, so ``0.2`` means 1/5), then rounded to
    float64. SymPy's ``series`` about a point other than 0 can take seconds for
    degrees around 10 (softplus, tanh).

    For a callable they come from Cauchy's integral formula
    :math:`c_k = \frac{1}{2\pi i}\oint f(z)(z-x_0)^{-k-1}\,\mathrm{d}z`, evaluated on a circle of
    radius :math:`r` by the trapezoidal rule, that is by the FFT of :math:`N \ge 64`
    values :math:`f(x_0 + r e^{2\pi i j/N})` (Lyness and Moler 1967). The rule
    converges geometrically for a function analytic in a disc of radius :math:`R > r`;
    its roundoff error is about :math:`\epsilon \max_{|z-x_0|=r}|f(z)| / r^k`. Circles of radius
    :math:`2^3` down to :math:`2^{-10}` are tried, and each coefficient is taken from the
    radius with the smallest error estimate (roundoff plus the aliasing seen in the
    top quarter of the spectrum), in the spirit of Fornberg (1981).

    Accuracy: for the entire functions exp, sin and cos at :math:`|x_0| \le 5` the first
    eight coefficients have relative error below :math:`10^{-10}` (tested; at most
    :math:`5 \times 10^{-14}` measured on a grid of :math:`x_0` in :math:`[-5, 5]`).
    With a singularity at distance :math:`R` the absolute error of :math:`c_k` grows
    like :math:`\epsilon R^{-k}`, as :math:`c_k` itself does: for ``log1p``, ``tanh``
    and :math:`1/(1+x^2)` the relative error measured for :math:`k \le 12` stays below
    :math:`10^{-10}` (tested for :math:`k \le 10`). The callable must be complex-safe:
    one that raises ``TypeError`` on complex input or returns only real values on the
    circle (``abs``, ``float()``, ``np.real``) is rejected with a ``ValueError``.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> taylor_coefficients(sp.exp(x), 0.0, 4)
    array([1.        , 1.        , 0.5       , 0.16666667, 0.04166667])
    >>> bool(np.allclose(taylor_coefficients(np.sin, 0.0, 5), [0, 1, 0, -1 / 6, 0, 1 / 120]))
    True
    """
    x0 = check_finite_scalar(x0, "x0")
    degree = check_int(degree, "degree", minimum=0)
    if isinstance(f, sp.Basic):
        return _symbolic_coefficients(sp.sympify(f), x0, degree)
    check_callable(f, "f")
    return _numeric_coefficients(f, x0, degree)


@documented_in("taylor_series_approximation", "taylors-theorem")
def taylor_polynomial(f: Any, x0: float, degree: int) -> Polynomial:
    r"""The degree-``degree`` Taylor polynomial of ``f`` about ``x0`` as a NumPy ``Polynomial``.

    The polynomial is :math:`p(x) = \sum_{k=0}^{n} c_k (x - x_0)^k`: its ``coef`` are the
    Taylor coefficients and its domain/window map is :math:`x \mapsto x - x_0` exactly
    (``mapparms()`` is ``(-x0, 1.0)`` for every ``x0`` with :math:`|x_0| < 2^{512}`;
    NumPy forms the product of ``x0`` and the domain width, which overflows beyond
    that, so larger ``x0`` raise a ``ValueError``), so it is evaluated in
    the original variable without expanding the powers of :math:`x - x_0` (which
    would cancel badly far from 0). ``p.convert()`` gives the
    coefficients in powers of :math:`x`.

    Parameters
    ----------
    f, x0, degree
        As for :func:`taylor_coefficients`.

    Returns
    -------
    numpy.polynomial.Polynomial

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> p = taylor_polynomial(sp.log(x), 1.0, 3)
    >>> p.coef
    array([ 0.        ,  1.        , -0.5       ,  0.33333333])
    >>> round(float(p(1.1)), 8), round(float(np.log(1.1)), 8)
    (0.09533333, 0.09531018)
    """
    x0 = check_finite_scalar(x0, "x0")
    if abs(x0) >= _MAX_SHIFT:
        raise ValueError(f"`x0` must satisfy |x0| < 2**512 for an exact shift x - x0, got {x0!r}")
    coef = taylor_coefficients(f, x0, degree)
    return Polynomial(coef, domain=_exact_domain(x0), window=_window(x0), symbol="x")


_MAX_SHIFT = 2.0**512  # NumPy's mapparms forms x0 * h with h > |x0|/2: finite below this


def _exact_domain(x0: float) -> list[float]:
    """A domain with x0 at one end whose other end, x0 -+ h, is exact.

    With h the power of two in [|x0|/2, |x0|], Sterbenz's lemma makes
    |x0| - h exact, so the domain/window map is off = -x0, scl = 1 without
    rounding (x0 + h could round when x0 lies just below a power of two).
    Tiny |x0| (below 2**-60) takes h = 1, where the map is exact as well.
    Requires |x0| < 2**512: NumPy computes the offset as (x0 * -h) / h, and
    x0 * h overflows from there on (taylor_polynomial checks this).
    """
    h = _width(x0)
    return [x0 - h, x0] if x0 > 0 else [x0, x0 + h]


def _window(x0: float) -> list[float]:
    h = _width(x0)
    return [-h, 0.0] if x0 > 0 else [0.0, h]


def _width(x0: float) -> float:
    if abs(x0) < 2.0**-60:  # x0 -+ 1 rounds to -+1, and the map is still exact
        return 1.0
    return math.ldexp(1.0, math.frexp(abs(x0))[1] - 1)


@documented_in("taylor_series_approximation", "the-remainder-bound-against-the-actual-error")
def remainder_bound(
    max_abs_derivative: float, x: ArrayLike, x0: float, degree: int
) -> float | NDArray[np.float64]:
    r"""Lagrange bound :math:`M |x - x_0|^{n+1} / (n+1)!` on the Taylor remainder.

    If :math:`|f^{(n+1)}| \le M` between :math:`x_0` and :math:`x`, the degree-:math:`n`
    Taylor polynomial differs from :math:`f(x)` by at most this much.

    Parameters
    ----------
    max_abs_derivative : float
        :math:`M \ge 0`, a bound on :math:`|f^{(n+1)}|` on the interval.
    x : array_like
        Where to bound the error; finite. The result has the same shape.
    x0 : float
        The expansion point; finite.
    degree : int
        The degree :math:`n \ge 0` of the Taylor polynomial.

    Returns
    -------
    float or ndarray
        The bound at each ``x``: a float for a scalar ``x``, else an array of its
        shape (computed in logarithms, so large degrees do not overflow).

    Examples
    --------
    >>> remainder_bound(1.0, [0.1, 0.5, 1.0], 0.0, 3)  # sin: |sin''''| <= 1
    array([4.16666667e-06, 2.60416667e-03, 4.16666667e-02])
    """
    m = check_nonnegative(max_abs_derivative, "max_abs_derivative")
    xs = as_finite_array(x, "x")
    x0 = check_finite_scalar(x0, "x0")
    degree = check_int(degree, "degree", minimum=0)
    dist = np.abs(xs - x0)
    with np.errstate(divide="ignore", over="ignore"):
        log_bound = math.log(m) if m > 0 else -np.inf
        log_bound = log_bound + (degree + 1) * np.log(dist) - gammaln(degree + 2)
        result: NDArray[np.float64] = np.exp(log_bound)
    return float(result) if result.ndim == 0 else result


@dataclass(frozen=True, kw_only=True)
class QuadraticModel:
    r"""The second-order Taylor model :math:`q(x) = f_0 + g^T d + \tfrac12 d^T H d`, d = x - x0.

    Calling the model follows the convention of the functions it models and of
    :func:`calcml.symbolic.lambdify`: the variables run along the *first* axis.
    On an array of shape ``(n,)`` it returns a float; on ``(n, ...)`` (for
    example ``np.stack([X, Y])`` for a grid) an array of shape ``(...)``.

    Attributes
    ----------
    x0 : ndarray, shape (n,)
        The expansion point.
    value : float
        :math:`f(x_0)`.
    gradient : ndarray, shape (n,)
        :math:`\nabla f(x_0)`.
    hessian : ndarray, shape (n, n)
        :math:`\nabla^2 f(x_0)`, symmetrised.

    Examples
    --------
    >>> q = QuadraticModel(x0=np.zeros(2), value=1.0, gradient=np.array([1.0, 0.0]),
    ...                    hessian=np.eye(2))
    >>> q([1.0, 2.0])
    4.5
    >>> q(np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]]))
    array([1. , 2.5, 5. ])
    """

    x0: NDArray[np.float64]
    value: float
    gradient: NDArray[np.float64]
    hessian: NDArray[np.float64]

    def __call__(self, x: ArrayLike) -> Any:
        """Evaluate the model at ``x`` of shape ``(n,)`` or ``(n, ...)``."""
        xs = as_finite_array(x, "x")
        n = self.x0.shape[0]
        if xs.ndim == 0 or xs.shape[0] != n:
            raise ValueError(f"`x` must have first axis of length {n}, got shape {xs.shape}")
        d = np.moveaxis(xs, 0, -1) - self.x0
        out = (
            self.value
            + d @ self.gradient
            + 0.5 * np.einsum("...i,ij,...j->...", d, self.hessian, d)
        )
        return float(out) if out.ndim == 0 else out


@documented_in("taylor_series_approximation", "the-second-order-model-in-several-variables")
def quadratic_model(
    f: Callable[[NDArray[np.float64]], float],
    x0: ArrayLike,
    *,
    grad: Callable[[NDArray[np.float64]], ArrayLike] | None = None,
    hess: Callable[[NDArray[np.float64]], ArrayLike] | None = None,
) -> QuadraticModel:
    r"""Quadratic (second-order Taylor) model of :math:`f: \mathbb{R}^n \to \mathbb{R}` at ``x0``.

    Parameters
    ----------
    f : callable
        ``f(x)`` for ``x`` of shape ``(n,)``, returning a real number.
    x0 : array_like, shape (n,)
        The expansion point; finite.
    grad, hess : callable, optional
        Exact gradient and Hessian, ``grad(x)`` of shape ``(n,)`` and ``hess(x)`` of
        shape ``(n, n)``. When omitted they are computed from values of ``f`` by
        :func:`calcml.differentiate.gradient` and :func:`calcml.differentiate.hessian`
        (finite differences: relative errors about 1e-10 and 1e-7).

    Returns
    -------
    QuadraticModel
        A callable :math:`q(x) = f(x_0) + \nabla f(x_0)^T d + \tfrac12 d^T \nabla^2 f(x_0) d`.

    Examples
    --------
    >>> f = lambda x: x[0] ** 2 + 3 * x[0] * x[1]
    >>> q = quadratic_model(f, [1.0, 2.0], grad=lambda x: [2 * x[0] + 3 * x[1], 3 * x[0]],
    ...                     hess=lambda x: [[2.0, 3.0], [3.0, 0.0]])
    >>> q.gradient, q([2.0, 2.0]), f([2.0, 2.0])  # exact: f is quadratic
    (array([8., 3.]), 16.0, 16.0)
    """
    check_callable(f, "f")
    x = as_finite_array(x0, "x0")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"`x0` must be a non-empty 1-D array, got shape {x.shape}")
    n = x.size
    value = scalar_output(f(x.copy()), "f")
    if grad is None:
        g = differentiate.gradient(f, x.copy())
    else:
        g = real_output(check_callable(grad, "grad")(x.copy()), "grad", shape=(n,))
    if hess is None:
        h = np.asarray(differentiate.hessian(f, x.copy()))
    else:
        h = real_output(check_callable(hess, "hess")(x.copy()), "hess", shape=(n, n))
    if not (math.isfinite(value) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        raise ValueError(f"`f`, its gradient or Hessian is not finite at `x0` = {x}")
    return QuadraticModel(x0=x, value=value, gradient=g, hessian=0.5 * (h + h.T))


@documented_in("taylor_series_approximation", "linearisation-and-the-delta-method")
def delta_method(
    f: Callable[[NDArray[np.float64]], float],
    mean: ArrayLike,
    cov: ArrayLike,
    *,
    grad: Callable[[NDArray[np.float64]], ArrayLike] | None = None,
) -> float:
    r"""Variance of :math:`f(X)` by linearisation: :math:`\nabla f(\mu)^T \Sigma \nabla f(\mu)`.

    For a random vector :math:`X` with mean :math:`\mu` and covariance :math:`\Sigma`,
    the first-order Taylor model :math:`f(X) \approx f(\mu) + \nabla f(\mu)^T (X - \mu)`
    has exactly this variance (the delta method). It approximates
    :math:`\operatorname{Var} f(X)` well when :math:`\Sigma` is small compared with the
    scale on which :math:`\nabla f` changes, and is exact for an affine ``f``.

    Parameters
    ----------
    f : callable
        ``f(x)`` for ``x`` of shape ``(n,)``, returning a real number. Used only to
        compute the gradient when ``grad`` is omitted.
    mean : array_like, shape (n,)
        :math:`\mu`, the point of linearisation; finite.
    cov : array_like, shape (n, n)
        :math:`\Sigma`, symmetric positive semidefinite; finite.
    grad : callable, optional
        The exact gradient, ``grad(x)`` of shape ``(n,)``. When omitted it is
        computed by :func:`calcml.differentiate.gradient` (central differences).

    Returns
    -------
    float
        :math:`\nabla f(\mu)^T \Sigma \nabla f(\mu) \ge 0`.

    Examples
    --------
    >>> # f(x) = x1 x2 at mu = (1, 2), independent coordinates with variances 0.01, 0.04
    >>> v = delta_method(lambda x: x[0] * x[1], [1.0, 2.0], np.diag([0.01, 0.04]),
    ...                  grad=lambda x: [x[1], x[0]])
    >>> round(v, 12)  # 2**2 * 0.01 + 1**2 * 0.04
    0.08
    """
    check_callable(f, "f")
    mu = as_finite_array(mean, "mean")
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(f"`mean` must be a non-empty 1-D array, got shape {mu.shape}")
    n = mu.size
    sigma = as_finite_array(cov, "cov")
    if sigma.shape != (n, n):
        raise ValueError(f"`cov` must have shape ({n}, {n}), got {sigma.shape}")
    # tolerances relative to the largest entry, so that the checks are scale invariant
    # (a zero covariance passes both)
    tol = 1e3 * EPS * float(np.max(np.abs(sigma)))
    if np.any(np.abs(sigma - sigma.T) > tol):
        raise ValueError("`cov` must be symmetric")
    sigma = 0.5 * (sigma + sigma.T)
    if float(np.linalg.eigvalsh(sigma)[0]) < -tol:
        raise ValueError("`cov` must be positive semidefinite")
    if grad is None:
        g = differentiate.gradient(f, mu.copy())
    else:
        g = real_output(check_callable(grad, "grad")(mu.copy()), "grad", shape=(n,))
    if not np.all(np.isfinite(g)):
        raise ValueError(f"the gradient of `f` is not finite at `mean` = {mu}")
    return max(0.0, float(g @ sigma @ g))

"""Checking gradients: compare a claimed gradient with finite differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from calcml._validation import (
    Seed,
    as_finite_array,
    check_callable,
    check_rng,
    documented_in,
    real_output,
    scalar_output,
    with_book_link,
)
from calcml.differentiate import directional_derivative

__doc__ = with_book_link(__doc__, "gradients_and_derivatives")

__all__ = ["check_grad"]

#: Relative to ``max(1, |f(x)|)``: directional derivatives below this are
#: "zero" as far as a finite difference can tell.
_FLOOR = 1e-5


@documented_in("gradients_and_derivatives", "in-machine-learning")
def check_grad(
    f: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    x: ArrayLike,
    *,
    rng: Seed = None,
) -> float:
    """Relative error of ``grad`` against a finite difference along a random direction.

    Draws a random unit vector ``u``, computes the claimed slope ``a = grad(x) @ u``
    and the numerical slope ``b = D_u f(x)`` (a five-point difference, error
    ~1e-12), and returns ``|a - b| / max(|a|, |b|, floor)`` with
    ``floor = 1e-5 * max(1, |f(x)|)``. The floor keeps a stationary point, where
    both slopes are round-off, from reporting a 100% error; a gradient that is
    wrong by 0.1% still gives an error near 1e-3. A correct gradient gives
    about 1e-10, so ``check_grad(...) < 1e-6`` is a good test.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a finite scalar.
    grad : callable
        The claimed gradient: ``grad(x)`` returns an array of ``x``'s shape.
    x : array_like
        Where to check.
    rng : None, int or numpy.random.Generator, optional
        Source of the random direction, as :func:`numpy.random.default_rng`
        accepts it (``None``: fresh entropy; pass a seed for a reproducible check).

    Returns
    -------
    float
        The relative error, in ``[0, 2]``.

    Raises
    ------
    TypeError
        If ``f`` or ``grad`` is not callable, ``rng`` is of the wrong type, or
        ``grad(x)`` is not made of real numbers.
    ValueError
        If ``x`` is not finite or empty, or ``grad(x)`` has the wrong shape or
        non-finite entries (errors of ``f`` are those of
        :func:`calcml.differentiate.directional_derivative`).

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda w: np.sum(w**3)
    >>> check_grad(f, lambda w: 3 * w**2, [1.0, -2.0, 0.5]) < 1e-6
    True
    >>> check_grad(f, lambda w: 3.003 * w**2, [1.0, -2.0, 0.5]) > 1e-4
    True
    """
    check_callable(f, "f")
    check_callable(grad, "grad")
    xs = as_finite_array(x, "x")
    if xs.size == 0:
        raise ValueError("`x` must not be empty")
    gen = check_rng(rng)
    g = real_output(grad(xs), "grad", shape=xs.shape)
    if not np.all(np.isfinite(g)):
        raise ValueError(f"`grad` returned non-finite values: {g!r}")
    u = gen.standard_normal(xs.shape)
    u /= np.linalg.norm(u)
    claimed = float(np.sum(g * u))
    numeric = directional_derivative(f, xs, u, method="five_point")
    floor = _FLOOR * max(1.0, abs(scalar_output(f(xs), "f")))
    return abs(claimed - numeric) / max(abs(claimed), abs(numeric), floor)

"""The shared integrand check of :mod:`calcml.integrate` and its private modules.

:func:`_values` evaluates a vectorised integrand at an array of points and insists on
one finite real value per point. The quadrature rules (:mod:`calcml.integrate`), the
``quad``-based functions (:mod:`calcml._normalizing`) and Monte Carlo
(:mod:`calcml._montecarlo`) all call it, so it lives here, below all of them. This
module has no public names.

Book: https://calcml.github.io/calculus-for-ml/book/integration_examples.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray


def _values(f: Callable[..., Any], x: NDArray[Any], name: str = "f") -> NDArray[np.float64]:
    """Evaluate the vectorised ``f`` at the points ``x``; finite, one value per point."""
    try:
        y = np.asarray(f(x), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must return real numbers: {exc}") from None
    n = x.shape[0] if x.ndim else 1
    if y.ndim == 0:  # a constant integrand such as ``lambda x: 1.0``
        y = np.full(n, float(y))
    if y.shape != (n,):
        raise ValueError(
            f"`{name}` must return one value per point: expected shape ({n},), "
            f"got {y.shape} (is `{name}` vectorised?)"
        )
    bad = ~np.isfinite(y)
    if np.any(bad):
        where = (x[bad][0] if x.ndim else x).tolist()
        raise ValueError(f"`{name}` returned a non-finite value ({y[bad][0]}) at {where!r}")
    return y

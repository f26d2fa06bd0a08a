"""Input validation shared by every public function of :mod:`calcml`.

One place for the checks keeps the error messages uniform: each names the
parameter in backticks and says what was wrong, as SciPy does.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def check_callable(f: Any, name: str = "f") -> Callable[..., Any]:
    """Return ``f`` if it is callable, else raise ``TypeError`` naming ``name``.

    >>> check_callable(abs) is abs
    True
    """
    if not callable(f):
        raise TypeError(f"`{name}` must be callable, got {type(f).__name__}")
    return f


def as_finite_array(x: ArrayLike, name: str = "x", *, allow_complex: bool = False) -> NDArray[Any]:
    """Convert ``x`` to a float64 (or complex128) array and check that it is finite.

    >>> as_finite_array([1, 2])
    array([1., 2.])
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged nested sequences and the like
        raise TypeError(f"`{name}` must be array-like of numbers: {exc}") from None
    if arr.dtype.kind == "c" and allow_complex:
        arr = arr.astype(np.complex128)
    elif arr.dtype.kind in "biuf":
        arr = arr.astype(np.float64)
    else:
        raise TypeError(f"`{name}` must contain real numbers, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite, got {x!r}")
    return arr


def check_finite_scalar(x: Any, name: str = "x") -> float:
    """Return ``x`` as a finite float, else raise ``TypeError``/``ValueError``.

    >>> check_finite_scalar(2)
    2.0
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {type(x).__name__}")
    value = float(x)
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value}")
    return value


def check_int(n: Any, name: str, *, minimum: int | None = None) -> int:
    """Return ``n`` as an ``int`` if it is an integer at least ``minimum``.

    Booleans and floats (even ``3.0``) are rejected with ``TypeError``.

    >>> check_int(3, "n", minimum=1)
    3
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {type(n).__name__}")
    value = int(n)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return value


def check_positive(x: Any, name: str) -> float:
    """Return ``x`` as a float if it is finite and strictly positive.

    >>> check_positive(0.5, "step")
    0.5
    """
    value = check_finite_scalar(x, name)
    if value <= 0:
        raise ValueError(f"`{name}` must be positive, got {value}")
    return value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else a ``ValueError`` listing them.

    >>> check_choice("central", "method", ["forward", "central"])
    'central'
    """
    if not isinstance(value, str) or value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {valid}; got {value!r}")
    return value

"""The private helpers every module of :mod:`calcml` shares.

Input validation in one place keeps the error taxonomy uniform: a wrong type is
a ``TypeError``, a wrong value a ``ValueError``, and each message names the
parameter in backticks and says what was wrong, as SciPy's do. The same goes
for what a user's callable returns (:func:`real_output`, :func:`scalar_output`).
Also here: machine epsilon, the random generator rule (:func:`check_rng`) and
the links from docstrings to the book (:func:`documented_in`).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

_T = TypeVar("_T")


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


#: Machine epsilon of float64, the unit of every default step and tolerance.
EPS = float(np.finfo(np.float64).eps)

#: Where the book is published; every docstring's "Book:" link starts here. Derived from
#: _config.yml's repository.url and written by ``make set-repository`` (tests check it).
BOOK_URL = "https://calcml.github.io/calculus-for-ml/"


def book_link(page: str, section: str = "") -> str:
    """The address of a page (and section) of the book, from :data:`BOOK_URL`.

    >>> book_link("integration_examples", "monte-carlo").removeprefix(BOOK_URL)
    'book/integration_examples.html#monte-carlo'
    """
    return f"{BOOK_URL}book/{page}.html" + (f"#{section}" if section else "")


def with_book_link(doc: str | None, page: str, section: str = "") -> str:
    """``doc`` (a docstring) followed by a ``Book:`` line pointing to ``page#section``.

    >>> print(with_book_link("Summary.", "notation").replace(BOOK_URL, "<BOOK_URL>"))
    Summary.
    <BLANKLINE>
    Book: <BOOK_URL>book/notation.html
    """
    return f"{inspect.cleandoc(doc or '')}\n\nBook: {book_link(page, section)}\n"


def documented_in(page: str, section: str = "") -> Callable[[_T], _T]:
    """Decorator: end the docstring of a function or class with its ``Book:`` link.

    The link is built from :data:`BOOK_URL`, so ``help()`` and the API reference
    show the same address.

    >>> @documented_in("notation")
    ... def f() -> None:
    ...     '''Do nothing.'''
    >>> f.__doc__.splitlines()[-1] == f"Book: {BOOK_URL}book/notation.html"
    True
    """

    def decorate(obj: _T) -> _T:
        obj.__doc__ = with_book_link(obj.__doc__, page, section)
        return obj

    return decorate


def check_nonnegative(x: Any, name: str) -> float:
    """Return ``x`` as a float if it is finite and ``>= 0`` (a tolerance, a noise level).

    >>> check_nonnegative(0, "tol")
    0.0
    """
    value = check_finite_scalar(x, name)
    if value < 0:
        raise ValueError(f"`{name}` must be >= 0, got {value}")
    return value


def check_rng(rng: Any) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from ``rng``, as :func:`numpy.random.default_rng` makes it.

    ``None`` draws fresh entropy from the operating system, an integer seeds a new
    generator, and a ``Generator`` is used as it is (SciPy's SPEC 7).

    >>> check_rng(0).random() == check_rng(0).random()
    True
    """
    if isinstance(rng, bool):
        raise TypeError("`rng` must be None, an integer seed or a numpy.random.Generator, got bool")
    try:
        return np.random.default_rng(rng)
    except TypeError:
        raise TypeError(
            "`rng` must be None, an integer seed or a numpy.random.Generator, "
            f"got {type(rng).__name__}"
        ) from None
    except ValueError as exc:
        raise ValueError(f"`rng` is not a valid seed: {exc}") from None


def check_limits(a: Any, b: Any, *, finite_for: str | None = None) -> tuple[float, float]:
    """Integration limits ``a, b`` as floats; NaN is never allowed.

    With ``finite_for`` (the name of a rule that needs them) both must be finite
    and may come in either order; without it infinite limits are allowed and
    ``a < b`` is required.

    >>> check_limits(0, float("inf"))
    (0.0, inf)
    """
    out = []
    for value, name in ((a, "a"), (b, "b")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}")
        number = float(value)
        if np.isnan(number):
            raise ValueError(f"`{name}` must not be NaN")
        if finite_for is not None and not np.isfinite(number):
            raise ValueError(
                f"`{name}` must be finite for {finite_for}, got {number}; normalizing_constant, "
                "log_normalizing_constant and expectation accept infinite limits"
            )
        out.append(number)
    if finite_for is None and not out[0] < out[1]:
        raise ValueError(f"`a` must be less than `b`, got a={out[0]}, b={out[1]}")
    return out[0], out[1]


def real_output(
    value: Any, name: str, *, shape: tuple[int, ...] | None = None, allow_complex: bool = False
) -> NDArray[Any]:
    """Check what the user's callable ``name`` returned, as an array.

    Numbers of the wrong kind (a dtype other than real, or complex when
    ``allow_complex``) are a ``TypeError``; a result not of ``shape`` is a
    ``ValueError``. For ``shape=()`` any size-1 result counts as a scalar.

    >>> real_output([1, 2], "grad", shape=(2,))
    array([1., 2.])
    """
    try:
        out = np.asarray(value)
    except Exception as exc:  # ragged nested sequences and the like
        raise TypeError(f"`{name}` must return real numbers: {exc}") from None
    kinds = "biufc" if allow_complex else "biuf"
    if out.dtype.kind not in kinds:
        raise TypeError(f"`{name}` must return real numbers, got dtype {out.dtype}")
    out = out.astype(np.complex128 if out.dtype.kind == "c" else np.float64)
    if shape is not None and out.shape != shape:
        if shape != () or out.size != 1:
            what = "a scalar" if shape == () else f"shape {shape}"
            raise ValueError(f"`{name}` must return {what}, got shape {out.shape}")
        out = out.reshape(())
    return out


def scalar_output(value: Any, name: str = "f") -> float:
    """What a scalar-valued callable ``name`` returned, as a float (see :func:`real_output`).

    >>> scalar_output([2.5])
    2.5
    """
    return float(real_output(value, name, shape=()))


#: What a parameter ``rng`` accepts: anything :func:`numpy.random.default_rng` does.
Seed = int | np.random.Generator | np.random.SeedSequence | np.random.BitGenerator | None

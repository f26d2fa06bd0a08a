"""A thin bridge to SymPy: exact gradients and Hessians as oracles.

SymPy differentiates exactly; :func:`lambdify` turns its answers into NumPy
functions of a vector ``x``, in the calling convention of
:mod:`calcml.differentiate` (``x[i]`` is the ``i``-th variable, so the
variables run along the first axis and any further axes are a batch), so pages
and tests can compare numbers with an exact reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

from calcml._validation import documented_in, with_book_link

__doc__ = with_book_link(__doc__, "gradients_and_derivatives")

__all__ = ["gradient", "hessian", "lambdify"]


def _symbols(symbols: Any) -> list[sp.Symbol]:
    """Check ``symbols``: a Symbol or a non-empty sequence of distinct Symbols."""
    items = [symbols] if isinstance(symbols, sp.Symbol) else symbols
    if isinstance(items, str) or not isinstance(items, Sequence | sp.Tuple | sp.MatrixBase):
        raise TypeError(
            f"`symbols` must be a SymPy Symbol or a sequence of them, got {type(symbols).__name__}"
        )
    items = list(items)
    if not items:
        raise ValueError("`symbols` must not be empty")
    for s in items:
        if not isinstance(s, sp.Symbol):
            raise TypeError(f"`symbols` must contain SymPy Symbols, got {s!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"`symbols` must be distinct, got {items}")
    return items


def _expr(expr: Any, *, allow_matrix: bool = False) -> Any:
    """Check ``expr``: a SymPy expression (or a Matrix/Array when allowed)."""
    kinds: tuple[type, ...] = (sp.Expr,)
    if allow_matrix:
        kinds += (sp.MatrixBase, sp.NDimArray)
    if not isinstance(expr, kinds):
        raise TypeError(f"`expr` must be a SymPy expression, got {type(expr).__name__}")
    return expr


@documented_in("gradients_and_derivatives", "partial-derivatives-and-the-gradient")
def gradient(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> sp.Matrix:
    """Exact gradient of a scalar expression as a column vector.

    Parameters
    ----------
    expr : sympy.Expr
        A scalar expression. Symbols not in ``symbols`` are constants.
    symbols : sequence of sympy.Symbol
        The variables, in order.

    Returns
    -------
    sympy.Matrix
        Shape ``(n, 1)``: the partial derivatives.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> gradient(x**2 * y + sp.sin(y), [x, y])
    Matrix([
    [         2*x*y],
    [x**2 + cos(y)]])
    """
    e = _expr(expr)
    syms = _symbols(symbols)
    return sp.Matrix([sp.diff(e, s) for s in syms])


@documented_in("gradients_and_derivatives", "partial-derivatives-and-the-gradient")
def hessian(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> sp.Matrix:
    """Exact Hessian of a scalar expression (SymPy's :func:`sympy.hessian`).

    Parameters
    ----------
    expr : sympy.Expr
        A scalar expression.
    symbols : sequence of sympy.Symbol
        The variables, in order.

    Returns
    -------
    sympy.Matrix
        Shape ``(n, n)``, symmetric.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> hessian(x**2 * y, [x, y])
    Matrix([
    [2*y, 2*x],
    [2*x,   0]])
    """
    e = _expr(expr)
    syms = _symbols(symbols)
    return sp.hessian(e, syms)


@documented_in("gradients_and_derivatives", "partial-derivatives-and-the-gradient")
def lambdify(expr: Any, symbols: Any) -> Callable[[ArrayLike], Any]:
    """Turn an expression into a NumPy function of a vector ``x``.

    Parameters
    ----------
    expr : sympy.Expr or sympy.Matrix
        What to evaluate; every free symbol must be in ``symbols``.
    symbols : sympy.Symbol or sequence of sympy.Symbol
        One symbol: the function is elementwise in ``x``. A sequence of ``n``:
        the function takes ``x`` with first axis of length ``n`` (``x[i]``
        stands for ``symbols[i]``).

    Returns
    -------
    callable
        ``g(x)``. A scalar expression gives a float for a single point, else
        an array over the remaining axes; a Matrix gives an array of its shape
        followed by those axes, with column vectors flattened to 1-D: a gradient
        has ``x``'s shape and a Hessian at points ``x`` of shape ``(n, ...)``
        has shape ``(n, n, ...)``, the variable axes first as everywhere in
        :mod:`calcml`.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> f = lambdify(x**2 * y, [x, y])
    >>> f([3.0, 2.0])
    18.0
    >>> lambdify(gradient(x**2 * y, [x, y]), [x, y])([3.0, 2.0])
    array([12.,  9.])
    >>> lambdify(sp.sin(x), x)([0.0, 1.0])
    array([0.        , 0.84147098])
    """
    e = _expr(expr, allow_matrix=True)
    single = isinstance(symbols, sp.Symbol)
    syms = _symbols(symbols)
    missing = sorted(str(s) for s in e.free_symbols - set(syms))
    if missing:
        raise ValueError(f"`expr` has free symbols not in `symbols`: {', '.join(missing)}")
    is_matrix = isinstance(e, sp.MatrixBase | sp.NDimArray)
    shape = tuple(e.shape) if is_matrix else ()
    if len(shape) == 2 and shape[1] == 1:
        shape = (shape[0],)
    entries = list(sp.flatten(e.tolist())) if is_matrix else [e]
    # One NumPy function per entry, so constant entries broadcast like the others.
    funcs = [sp.lambdify(syms, entry, modules="numpy") for entry in entries]
    n = len(syms)

    def g(x: ArrayLike) -> Any:
        xs = np.asarray(x)
        if xs.dtype.kind not in "biufc":
            raise TypeError(f"`x` must contain numbers, got dtype {xs.dtype}")
        xs = xs.astype(np.result_type(xs, np.float64))
        if single:
            args: list[Any] = [xs]
        else:
            if xs.ndim == 0 or xs.shape[0] != n:
                raise ValueError(
                    f"`x` must have first axis of length {n} (one per symbol), got shape {xs.shape}"
                )
            args = list(xs)
        rest = args[0].shape
        values = []
        for fn in funcs:
            v = np.asarray(fn(*args))
            values.append(np.broadcast_to(v.astype(np.result_type(v, xs)), rest))
        if is_matrix:
            out: NDArray[Any] = np.stack(values).reshape(shape + rest)
            return out
        res = values[0]
        return res.item() if res.ndim == 0 else np.array(res)

    return g

"""One figure style for the whole book.

Every page calls :func:`use_book_style` once, in its import cell; importing
this module changes nothing in matplotlib's global state. The style gives
white, opaque figures that stay readable in the theme's dark mode, the
colour-blind-safe Okabe–Ito palette, labelled axes, and SVG output with a fixed
hash salt so two builds write byte-identical figures. A PDF copy of every
figure is kept for the LaTeX (PDF) build.

Book: :doc:`/book/intro` (section "How the figures are made").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from calcml._validation import check_callable, check_int

__all__ = [
    "COLORS",
    "contour_with_gradients",
    "new_figure",
    "plot_loglog_with_slopes",
    "use_book_style",
]

#: Okabe and Ito's colour-blind-safe palette, in the order the book uses it;
#: yellow comes last because it is the least visible on white.
COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)

_RC: dict[str, Any] = {
    "figure.facecolor": "white",
    "figure.edgecolor": "white",
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "savefig.transparent": False,
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#111111",
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "figure.autolayout": True,
    "image.cmap": "viridis",
    "svg.hashsalt": "calcml",
    "svg.fonttype": "path",
    "font.size": 10,
    "pdf.fonttype": 42,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style and inline formats (SVG + PDF).

    Safe to call more than once. Outside IPython only the rc settings apply.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> use_book_style()
    >>> mpl.rcParams["figure.facecolor"], mpl.rcParams["svg.hashsalt"]
    ('white', 'calcml')
    """
    mpl.rcParams.update(cast(Any, _RC))
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(COLORS))
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython ships with the book extras
        shell = None
    if shell is not None:  # pragma: no cover - exercised by the book build
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg", "pdf")


def new_figure(
    ncols: int = 1, *, nrows: int = 1, width: float = 6.4, height: float = 4.0, **kwargs: Any
) -> tuple[Figure, Any]:
    """Create a figure with ``nrows`` by ``ncols`` axes in the current matplotlib style.

    The book calls :func:`use_book_style` once per page before its figures.

    Parameters
    ----------
    ncols, nrows : int
        The grid of axes; both at least 1.
    width, height : float
        Size of the whole figure in inches.
    **kwargs
        Passed on to :func:`matplotlib.pyplot.subplots` (``subplot_kw`` for 3-D axes).

    Returns
    -------
    fig, axes
        As :func:`matplotlib.pyplot.subplots` returns them.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> fig.get_facecolor()
    (1.0, 1.0, 1.0, 1.0)
    """
    import matplotlib.pyplot as plt

    check_int(ncols, "ncols", minimum=1)
    check_int(nrows, "nrows", minimum=1)
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def plot_loglog_with_slopes(
    ax: Axes, x: ArrayLike, errors: dict[str, ArrayLike], *, slopes: dict[str, float] | None = None
) -> dict[str, float]:
    """Plot error curves on log-log axes and return each curve's fitted slope.

    Parameters
    ----------
    ax : matplotlib Axes
        Where to draw.
    x : array_like
        The abscissa shared by every curve (a step size, or a number of nodes).
    errors : dict of str to array_like
        A label for each curve and its errors (non-positive values are skipped).
    slopes : dict of str to float, optional
        Reference slopes to draw as dashed lines through each curve's first point.

    Returns
    -------
    dict of str to float
        The least-squares slope of ``log(error)`` against ``log(x)`` per curve.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> h = np.logspace(-3, -1, 5)
    >>> fitted = plot_loglog_with_slopes(ax, h, {"h^2": h**2})
    >>> round(fitted["h^2"], 6)
    2.0
    """
    xs = np.asarray(x, dtype=float)
    fitted: dict[str, float] = {}
    for i, (label, err) in enumerate(errors.items()):
        e = np.asarray(err, dtype=float)
        if e.shape != xs.shape:
            raise ValueError(f"`errors[{label!r}]` has shape {e.shape}, `x` has {xs.shape}")
        keep = e > 0
        color = COLORS[i % len(COLORS)]
        ax.loglog(xs[keep], e[keep], "o-", color=color, label=label, markersize=4)
        fitted[label] = float(np.polyfit(np.log(xs[keep]), np.log(e[keep]), 1)[0])
        if slopes and label in slopes:
            x0, e0 = xs[keep][0], e[keep][0]
            ax.loglog(
                xs,
                e0 * (xs / x0) ** slopes[label],
                "--",
                color=color,
                linewidth=1,
                label=f"slope {slopes[label]:g}",
            )
    ax.legend()
    return fitted


def contour_with_gradients(
    ax: Axes,
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    grad: Callable[[np.ndarray, np.ndarray], Sequence[np.ndarray]],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    levels: int | Sequence[float] = 20,
    n_grid: int = 200,
    n_arrows: int = 15,
    log_levels: bool = False,
) -> None:
    """Draw filled contours of ``f(X, Y)`` with the gradient field as arrows.

    Parameters
    ----------
    ax : matplotlib Axes
        Where to draw.
    f : callable
        ``f(X, Y)`` evaluated elementwise on meshgrid arrays.
    grad : callable
        ``grad(X, Y)`` returning the two partial derivatives elementwise.
    xlim, ylim : tuple of float
        The plotted rectangle.
    levels : int or sequence of float
        Contour levels, as :meth:`matplotlib.axes.Axes.contour` takes them.
    n_grid, n_arrows : int
        Grid points per side for the contours and for the arrows.
    log_levels : bool
        Space the levels logarithmically (for functions such as Rosenbrock's).

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> contour_with_gradients(ax, lambda x, y: x**2 + y**2,
    ...                        lambda x, y: (2 * x, 2 * y), (-1, 1), (-1, 1))
    >>> ax.get_xlabel()
    '$x_1$'
    """
    check_callable(f, "f")
    check_callable(grad, "grad")
    check_int(n_grid, "n_grid", minimum=2)
    check_int(n_arrows, "n_arrows", minimum=2)
    X, Y = np.meshgrid(np.linspace(*xlim, n_grid), np.linspace(*ylim, n_grid))
    Z = np.asarray(f(X, Y), dtype=float)
    if log_levels:
        lo, hi = max(float(Z.min()), 1e-3), float(Z.max())
        count = levels if isinstance(levels, int) else 20
        levels = list(np.geomspace(lo, hi, count))
        norm = mpl.colors.LogNorm(vmin=lo, vmax=hi)
        Z = np.clip(Z, lo, None)  # exact zeros (minima on the grid) would be masked, with a warning
    else:
        norm = None
    ax.contourf(X, Y, Z, levels=levels, norm=norm, alpha=0.85)
    ax.contour(X, Y, Z, levels=levels, norm=norm, colors="white", linewidths=0.5)
    U, V = np.meshgrid(np.linspace(*xlim, n_arrows), np.linspace(*ylim, n_arrows))
    gu, gv = (np.asarray(g, dtype=float) for g in grad(U, V))
    length = np.hypot(gu, gv)
    length[length == 0] = 1.0
    ax.quiver(
        U,
        V,
        gu / length,
        gv / length,
        color="black",
        angles="xy",
        pivot="mid",
        scale=n_arrows * 1.6,
        width=0.004,
    )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.grid(False)

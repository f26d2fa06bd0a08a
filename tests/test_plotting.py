"""The book's figure style and plotting helpers."""

from __future__ import annotations

import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from calcml import plotting


def relative_luminance(color: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_style_is_opaque_white_and_deterministic() -> None:
    plotting.use_book_style()
    assert to_rgb(mpl.rcParams["figure.facecolor"]) == (1.0, 1.0, 1.0)
    assert to_rgb(mpl.rcParams["savefig.facecolor"]) == (1.0, 1.0, 1.0)
    assert mpl.rcParams["savefig.transparent"] is False
    cycle = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle == list(plotting.COLORS)
    # Two renderings of the same figure are byte-identical SVG (fixed hash salt).
    svgs = []
    for _ in range(2):
        fig, ax = plotting.new_figure()
        ax.plot([0, 1], [0, 1])
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        svgs.append(buf.getvalue())
        plt.close(fig)
    assert svgs[0] == svgs[1]


def test_first_colours_are_readable_on_white() -> None:
    # WCAG contrast ratio against white of the colours used for the first curves.
    for color in plotting.COLORS[:4]:
        ratio = 1.05 / (relative_luminance(color) + 0.05)
        assert ratio >= 3.0, (color, ratio)


def test_new_figure_validates_its_grid() -> None:
    fig, axes = plotting.new_figure(2, nrows=2)
    assert axes.shape == (2, 2)
    plt.close(fig)
    with pytest.raises(ValueError, match=r"`ncols` must be >= 1"):
        plotting.new_figure(0)
    with pytest.raises(TypeError, match=r"`nrows` must be an integer"):
        plotting.new_figure(1, nrows=1.5)


def test_loglog_slopes_match_known_powers() -> None:
    fig, ax = plotting.new_figure()
    h = np.logspace(-4, -1, 7)
    errors = {"first": 3 * h, "second": 0.5 * h**2, "fourth": h**4}
    fitted = plotting.plot_loglog_with_slopes(ax, h, errors, slopes={"second": 2.0})
    assert fitted == pytest.approx({"first": 1.0, "second": 2.0, "fourth": 4.0}, abs=1e-9)
    # the reference slope is drawn as an extra dashed line
    assert len(ax.get_lines()) == 4
    plt.close(fig)


def test_loglog_skips_zero_errors_and_checks_shapes() -> None:
    fig, ax = plotting.new_figure()
    h = np.array([1e-3, 1e-2, 1e-1])
    fitted = plotting.plot_loglog_with_slopes(ax, h, {"e": np.array([0.0, 1e-4, 1e-2])})
    assert fitted["e"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"`errors\['bad'\]` has shape \(2,\), `x` has \(3,\)"):
        plotting.plot_loglog_with_slopes(ax, h, {"bad": [1.0, 2.0]})
    plt.close(fig)


@pytest.mark.parametrize("log_levels", [False, True])
def test_contour_with_gradients_draws_unit_arrows(log_levels: bool) -> None:
    fig, ax = plotting.new_figure()
    plotting.contour_with_gradients(
        ax,
        lambda x, y: x**2 + 3 * y**2 + 0.1,
        lambda x, y: (2 * x, 6 * y),
        (-1, 1),
        (-1, 1),
        n_arrows=5,
        log_levels=log_levels,
    )
    quiver = ax.collections[-1]
    u, v = quiver.U, quiver.V
    lengths = np.hypot(u, v)
    # normalised arrows, except at the stationary point where the gradient is zero
    assert np.allclose(lengths[lengths > 0], 1.0)
    assert (lengths == 0).sum() == 1
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    plt.close(fig)


def test_log_levels_accept_exact_zeros_without_warnings() -> None:
    import warnings

    fig, ax = plotting.new_figure()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the grid hits the minimum (0, 0) exactly, where the function is 0
        plotting.contour_with_gradients(
            ax,
            lambda x, y: x**2 + y**2,
            lambda x, y: (2 * x, 2 * y),
            (-1, 1),
            (-1, 1),
            n_grid=101,
            log_levels=True,
        )
    plt.close(fig)


def test_contour_with_gradients_validates() -> None:
    fig, ax = plotting.new_figure()
    with pytest.raises(TypeError, match=r"`f` must be callable"):
        plotting.contour_with_gradients(ax, 1, lambda x, y: (x, y), (0, 1), (0, 1))
    with pytest.raises(TypeError, match=r"`grad` must be callable"):
        plotting.contour_with_gradients(ax, lambda x, y: x, None, (0, 1), (0, 1))
    with pytest.raises(ValueError, match=r"`n_grid` must be >= 2"):
        plotting.contour_with_gradients(
            ax, lambda x, y: x, lambda x, y: (x, y), (0, 1), (0, 1), n_grid=1
        )
    plt.close(fig)

"""The style rules of mdptheory.plots.style: 16+ distinguishable solid learner curves,
dotted reserved for overlays, grids of at most three columns, paper sizes.

Expected values are written out here (the rules themselves), not read from the module.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest

from mdptheory.plots import style
from mdptheory.plots.style import SIZES, color, curve_style, figure, grid_shape, marker, overlay_style, save

#: The eight Okabe & Ito (2008) colours, written out (hex, lower case).
OKABE_ITO = {"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000"}


@pytest.mark.parametrize("n", [16, 64])
def test_colour_marker_pairs_distinct(n):
    pairs = [(color(i).lower(), marker(i)) for i in range(n)]
    assert len(set(pairs)) == n
    assert {c for c, _ in pairs} <= OKABE_ITO
    # the first eight curves use eight different colours
    assert len({c for c, _ in pairs[:8]}) == 8


def test_curves_sharing_a_colour_have_different_markers():
    for i in range(8):
        same = [marker(i + 8 * j) for j in range(8)]
        assert len(set(same)) == 8


def test_learner_curves_solid_with_sparse_markers_overlays_dotted():
    for i in range(16):
        kw = curve_style(i)
        assert kw["ls"] == "-"
        assert kw["color"] == color(i) and kw["marker"] == marker(i)
        start, step = kw["markevery"]
        assert 0 <= start < step <= 0.25          # at most every 25% of the axes diagonal, not every point
    assert len({curve_style(i)["markevery"] for i in range(8)}) > 1   # staggered between curves
    assert overlay_style()["ls"] == ":" and overlay_style("#123456")["color"] == "#123456"
    assert style.LEARNER_LINESTYLE == "-" and style.OVERLAY_LINESTYLE == ":"


def test_curve_styles_render_distinct_lines(tmp_path):
    """Drawn with matplotlib, 16 curves give 16 distinct (colour, marker) solid lines."""
    from matplotlib.colors import to_hex

    fig, axes = figure("one-column")
    ax = axes[0, 0]
    lines = [ax.plot(range(50), [i] * 50, **curve_style(i))[0] for i in range(16)]
    seen = {(to_hex(l.get_color()), l.get_marker()) for l in lines}
    assert len(seen) == 16
    assert {l.get_linestyle() for l in lines} == {"-"}
    save(fig, tmp_path / "s", formats=("png",))


@pytest.mark.parametrize("n", range(1, 31))
def test_grid_at_most_three_columns(n):
    nr, nc = grid_shape(n)
    assert 1 <= nc <= 3
    assert nr * nc >= n            # room for every panel
    assert nr * nc - n < nc        # no empty row
    assert nr == math.ceil(n / nc)
    if n <= 3:
        assert (nr, nc) == (1, n)


def test_grid_shape_four_panels_square_and_argument_checks():
    assert grid_shape(4) == (2, 2)
    assert grid_shape(11) == (4, 3)
    assert grid_shape(5, max_cols=2) == (3, 2)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="n_panels"):
            grid_shape(bad)
    with pytest.raises(ValueError, match="ncols = 4"):
        figure("two-column", 1, 4)


def test_sizes_one_and_two_column(tmp_path):
    fig, axes = figure("one-column")
    assert tuple(fig.get_size_inches()) == pytest.approx(SIZES["one-column"])
    save(fig, tmp_path / "x")
    fig, axes = figure("two-column", 1, 2)
    assert fig.get_size_inches()[0] == pytest.approx(SIZES["two-column"][0]) and axes.shape == (1, 2)
    save(fig, tmp_path / "y", formats=("pdf",))
    assert (tmp_path / "x.png").exists() and (tmp_path / "y.pdf").exists()
    # a 4 x 3 grid keeps the text width and stays within a page (9 in of text height)
    fig, axes = figure("two-column", 4, 3)
    w, h = fig.get_size_inches()
    assert w == pytest.approx(7.16) and h <= 9.0 and axes.shape == (4, 3)
    assert SIZES["one-column"][0] == pytest.approx(3.5) and SIZES["two-column"][0] == pytest.approx(7.16)
    with pytest.raises(ValueError, match="size = 'poster'"):
        figure("poster")

"""Every figure type renders to PDF and PNG with the expected axes, data, legend and tables.

Expected curves are recomputed here from the regret engine directly (mdptheory.regret.run)
and expected bounds from the learners' ``bound`` (or written out for the test learner below),
not from the plotting code.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.text import Text

from mdptheory.learners import UniformRandom
from mdptheory.learners.base import RegretBound
from mdptheory.plots.regret import TABLE_GID, draw_figures, loglog_figure, ratio_figure, regret_figure, scaling_figure
from mdptheory.plots.style import PALETTE
from mdptheory.sweeps import load_config, load_results, register, run_sweep

STUDY = """
[study]
name = "plots"
episodes = 400
seeds = 3

[[learners]]
name = "UCBVI"
label = "UCBVI-BF"
params = { bonus = "bernstein", bonus_scale = 0.1 }

[[learners]]
name = "UniformRandom"
label = "random"

[[mdps]]
family = "riverswim"
params = { horizon = 5 }
grid = { n = [3, 5] }

[outputs]
figures = ["regret", "loglog", "ratio", "scaling"]
scaling = ["S"]
band = "bootstrap"
bootstrap = 200
"""


class SqrtBoundRandom(UniformRandom):
    """Uniform play with a made-up bound ``10 H sqrt(K)`` (trivial cap ``H K``): vacuous
    exactly for ``K <= 100``, so one run of 400 episodes has both regimes."""

    def bound(self, S, A, H, K, delta=None):
        K = np.asarray(K, dtype=float)
        v = 10.0 * H * np.sqrt(K)
        return RegretBound(value=v, leading=v, lower_order=0.0 * v, normalization="N1", setting="any",
                           theorem="test: 10 H sqrt(K)", explicit_constants=True, holds_with_probability=1.0,
                           trivial_cap=H * K)


register("learner", "SqrtBoundRandom", SqrtBoundRandom)


def _run(tmp_path_factory, name, text):
    d = tmp_path_factory.mktemp(name)
    (d / "s.toml").write_text(textwrap.dedent(text))
    run_sweep(load_config(d / "s.toml"), d / "out", workers=1, progress=False, log=None)
    return load_results(d / "out")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return _run(tmp_path_factory, "plots", STUDY)


def engine_cumulative(n, learner=None, K=400, seeds=3, H=5):
    from mdptheory.envs import riverswim
    from mdptheory.learners import UCBVI
    from mdptheory.regret import run

    learner = learner if learner is not None else UCBVI(bonus="bernstein", bonus_scale=0.1)
    return run(learner, riverswim(n, horizon=H), K, seeds, workers=1, progress=False).cumulative()


def visible(fig):
    return [a for a in fig.axes if a.get_visible()]


def shared_legend(fig):
    """The figure's one legend; no panel has its own."""
    (leg,) = fig.legends
    assert all(a.get_legend() is None for a in fig.axes)
    return leg


def legend_entries(fig):
    return [t.get_text() for t in shared_legend(fig).get_texts()]


def panel_table(ax):
    """(title, [(row text, glyph colour, glyph marker)]) of the table in a panel's corner."""
    (box,) = [a for a in ax.artists if a.get_gid() == TABLE_GID]
    texts = [t.get_text() for t in box.findobj(Text)]
    glyphs = [(to_hex(l.get_color()), l.get_marker()) for l in box.findobj(Line2D)
              if l.get_marker() not in (None, "None", "none", "")]
    assert len(glyphs) == len(texts) - 1
    return box, texts[0], list(zip(texts[1:], glyphs))


def learner_line(ax, label):
    (line,) = [l for l in ax.get_lines() if l.get_label() == label]
    return line


def test_regret_figure(results):
    fig = regret_figure(results)
    axes = visible(fig)
    assert [a.get_title() for a in axes] == ["riverswim (n=3)", "riverswim (n=5)"]
    assert axes[0].get_xlabel() == "episodes $k$" and axes[0].get_ylabel() == r"$\mathrm{Regret}(k)$"
    for ax in axes:
        assert ax.get_legend_handles_labels()[1] == ["UCBVI-BF", "random"]
    assert legend_entries(fig) == ["UCBVI-BF", "random"]    # several panels: one shared legend
    title = shared_legend(fig).get_title().get_text()
    assert "bootstrap" in title and "3 seeds" in title
    line = learner_line(axes[1], "UCBVI-BF")
    ks = line.get_xdata().astype(int)
    np.testing.assert_allclose(line.get_ydata(), engine_cumulative(5)[:, ks - 1].mean(axis=0), rtol=1e-12)
    assert line.get_color().lower() == PALETTE[0].lower()
    # learner curves: solid, with sparse markers, the same style in both panels
    for ax in axes:
        for l in ax.get_lines():
            assert l.get_linestyle() == "-" and l.get_marker() not in (None, "None", "")
            assert l.get_markevery() is not None
    assert [(l.get_color(), l.get_marker()) for l in axes[0].get_lines()] == \
        [(l.get_color(), l.get_marker()) for l in axes[1].get_lines()]


def test_quantile_band_figure(results):
    fig = regret_figure(results, band="quantile", level=0.5)
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    ks = line.get_xdata().astype(int)
    np.testing.assert_allclose(line.get_ydata(), np.median(engine_cumulative(3)[:, ks - 1], axis=0), rtol=1e-12)
    assert "quantile" in fig.legends[0].get_title().get_text()


def _ols_slope(x, y):
    return np.polyfit(np.log(x), np.log(y), 1)[0]


def _theory_slope_K(S, A, H, delta=0.1):
    """Slope in K of UCBVI-BF's bound's leading term at K = 1e15 (computed from the learner)."""
    from mdptheory.learners import UCBVI

    b = [UCBVI(bonus="bernstein", bonus_scale=0.1).bound(S, A, H, k, delta).leading for k in (1e15, 1e16)]
    return np.log10(b[1] / b[0])


def test_loglog_figure(results):
    fig = loglog_figure(results)
    axes = visible(fig)
    ax = axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_title() == "riverswim (n=3)" and ax.get_ylabel() == r"$\mathrm{Regret}(k)$"
    # the theorem's exponent of each learner: in the shared legend when both panels agree
    # to the printed digits, otherwise next to each fitted exponent in the panel tables
    th3, th5 = _theory_slope_K(3, 2, 5), _theory_slope_K(5, 2, 5)
    common = f"{th3:.2f}" == f"{th5:.2f}"
    entries = legend_entries(fig)
    assert entries[0] == ("UCBVI-BF" + (f" (theory {th3:.2f})" if common else ""))
    assert entries[1] == "random (theory 1.00)"     # its bound is the trivial H K: rate 1
    assert entries[2].startswith("theorem's rate (dotted)")
    # fitted exponents: a table in a corner of each panel, one row per learner, identified by
    # a glyph with the learner's colour and marker
    box, head, rows = panel_table(ax)
    assert head.startswith(r"$\hat\alpha$ [95% CI]")
    curves = {(to_hex(l.get_color()), l.get_marker()): l.get_label() for l in ax.get_lines() if l.get_linestyle() == "-"}
    assert [curves[g] for _, g in rows] == ["UCBVI-BF", "random"]
    # fitted exponent = OLS slope of log mean Regret(k) on log k over 50 log-spaced k in [K/10, K]
    ks = np.unique(np.round(np.geomspace(40, 400, 50)).astype(int))
    slope = _ols_slope(ks, engine_cumulative(3)[:, ks - 1].mean(axis=0))
    text = rows[0][0]
    est, ci = text.split(" | ")[0].split(" [")
    assert float(est) == pytest.approx(slope, abs=0.005)
    lo, hi = (float(v) for v in ci.rstrip("]").split(", "))
    assert lo <= float(est) <= hi
    if not common:
        assert float(text.split(" | ")[1]) == pytest.approx(th3, abs=0.005)
    assert rows[1][0].startswith("1.00")          # uniform play: linear regret
    # the table covers no point of the learners' curves
    fig.canvas.draw()
    bb = box.get_window_extent()
    for l in ax.get_lines():
        if l.get_linestyle() == "-":
            xy = l.get_transform().transform(np.column_stack(l.get_data()))
            assert not np.any((xy[:, 0] > bb.x0) & (xy[:, 0] < bb.x1) & (xy[:, 1] > bb.y0) & (xy[:, 1] < bb.y1))
    # the theorem's rate: a dotted line of that slope ending at the mean Regret(K), in the
    # learner's colour; learner curves are solid
    dotted = [l for l in ax.get_lines() if l.get_linestyle() == ":"]
    assert len(dotted) == 2  # one per learner with a bound (UniformRandom's is the trivial HK)
    assert {l.get_linestyle() for l in ax.get_lines()} == {"-", ":"}
    x, y = (np.asarray(v, dtype=float) for v in dotted[0].get_data())
    assert _ols_slope(x, y) == pytest.approx(th3, rel=1e-9)
    assert x[-1] == 400 and y[-1] == pytest.approx(engine_cumulative(3)[:, -1].mean(), rel=1e-12)
    assert dotted[0].get_color() == learner_line(ax, "UCBVI-BF").get_color()


def test_single_panel_figures_put_the_legend_below(results, tmp_path):
    """One MDP: the legend is a figure legend below the axes (it cannot hide a curve) and
    carries the band description."""
    from mdptheory.sweeps import Results

    keep = {k: r for k, r in results.items() if r.config.mdp.label == "riverswim (n=5)"}
    one = Results(results.root, results.study, keep)
    for fn in (regret_figure, loglog_figure, ratio_figure):
        fig = fn(one)
        (ax,) = visible(fig)
        labels = legend_entries(fig)
        assert [l.split(":")[0].split(" (")[0] for l in labels[:2]] == ["UCBVI-BF", "random"]
        assert "bootstrap CI, 3 seeds" in shared_legend(fig).get_title().get_text()
        fig.canvas.draw()
        lb = shared_legend(fig).get_window_extent()
        assert lb.y1 <= ax.get_window_extent().y0  # entirely below the axes


def test_ratio_figure(results):
    from mdptheory.learners import UCBVI

    fig = ratio_figure(results)
    ax = fig.axes[1]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == "" and fig.axes[0].get_ylabel() == r"$\mathrm{Regret}(k)\,/\,\mathrm{bound}(k)$"
    assert ax.get_title() == "riverswim (n=5)"
    entries = legend_entries(fig)
    assert entries[:2] == ["UCBVI-BF", "random"]
    line = learner_line(ax, "UCBVI-BF")
    ks = line.get_xdata()
    b = UCBVI(bonus="bernstein", bonus_scale=0.1).bound(5, 2, 5, ks, 0.1)
    ratio_raw = (engine_cumulative(5)[:, ks.astype(int) - 1] / b.value).mean(axis=0)
    np.testing.assert_allclose(line.get_ydata(), ratio_raw, rtol=1e-12)
    # the raw bound, not the capped one: here the bound exceeds H k, so the two differ
    assert np.all(b.value > 5 * ks)
    capped = (engine_cumulative(5)[:, ks.astype(int) - 1] / np.minimum(b.value, 5 * ks)).mean(axis=0)
    assert np.all(np.abs(line.get_ydata() / capped - 1) > 0.5)
    # vacuous everywhere: hollow markers only, and the legend says what hollow means
    assert line.get_markevery() == []
    (hollow,) = [l for l in ax.get_lines() if l.get_label() == "_UCBVI-BF"]
    assert hollow.get_markerfacecolor() == "white" and hollow.get_marker() == line.get_marker()
    assert any("vacuous" in e for e in entries)
    # uniform random against its own (trivial, H k) bound: the ratio is the mean per-episode regret / H
    y_rand = learner_line(ax, "random").get_ydata()
    assert np.all((y_rand > 0) & (y_rand <= 1))
    # the y range covers the curves with at most a decade of margin on each side
    ys = np.concatenate([l.get_ydata() for l in ax.get_lines() if l.get_linestyle() == "-"])
    lo, hi = ax.get_ylim()
    assert lo <= ys.min() and hi >= ys.max() and ys.min() / lo <= 10.0 and hi / ys.max() <= 10.0


VACUOUS_STUDY = """
[study]
name = "vacuous"
episodes = 400
seeds = 2

[[learners]]
name = "SqrtBoundRandom"
label = "sqrt-bound"

[[learners]]
name = "UCBVI"
label = "UCBVI-BF"
params = { bonus = "bernstein", bonus_scale = 0.1 }

[[mdps]]
family = "riverswim"
params = { n = 3, horizon = 5 }

[outputs]
figures = ["ratio"]
bootstrap = 100
"""


def test_ratio_figure_marks_vacuous_bounds(tmp_path_factory):
    """Filled markers where bound(k) < H k, hollow ones where bound(k) >= H k; the curve is
    Regret(k) / (10 H sqrt(k)) (the test learner's bound, written out here)."""
    res = _run(tmp_path_factory, "vacuous", VACUOUS_STUDY)
    fig = ratio_figure(res)
    (ax,) = visible(fig)
    line = learner_line(ax, "sqrt-bound")
    (hollow,) = [l for l in ax.get_lines() if l.get_label() == "_sqrt-bound"]
    ks = line.get_xdata().astype(float)
    cum = engine_cumulative(3, SqrtBoundRandom(), seeds=2)
    np.testing.assert_allclose(line.get_ydata(), (cum[:, ks.astype(int) - 1] / (10 * 5 * np.sqrt(ks))).mean(axis=0),
                               rtol=1e-12)
    filled_k, hollow_k = ks[line.get_markevery()], ks[hollow.get_markevery()]
    assert filled_k.size >= 1 and hollow_k.size >= 1
    assert np.all(10 * np.sqrt(filled_k) < filled_k)     # bound < H k: not vacuous
    assert np.all(10 * np.sqrt(hollow_k) >= hollow_k)    # bound >= H k: vacuous
    assert line.get_markerfacecolor() != "white" and hollow.get_markerfacecolor() == "white"
    assert hollow.get_linestyle() == "None" and line.get_linestyle() == "-"
    # markers are sparse: at most 8 per curve
    assert filled_k.size + hollow_k.size <= 8
    entries = legend_entries(fig)
    assert entries[:2] == ["sqrt-bound", "UCBVI-BF"]
    assert any(e.startswith("filled") for e in entries) and any(e.startswith("hollow") and "vacuous" in e for e in entries)


def test_scaling_figure(results):
    fig = scaling_figure(results)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$S$" and ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == r"$\mathrm{Regret}(K)$"
    assert ax.get_title() == "Regret($K$) vs $S$\nriverswim, $A$=2, $H$=5"
    entries = legend_entries(fig)
    assert entries[:2] == ["UCBVI-BF", "random"] and entries[2] == "fitted power law"
    assert entries[3].startswith("theorem's exponent (dotted)")
    _, head, rows = panel_table(ax)
    assert head.startswith("fitted exponent [95% CI] | theory")
    points = {(to_hex(c.lines[0].get_color()), c.lines[0].get_marker()): c.get_label() for c in ax.containers}
    assert [points[g] for _, g in rows] == ["UCBVI-BF", "random"]
    # fitted exponent in the table = slope through the two points (two points: exact)
    f3, f5 = engine_cumulative(3)[:, -1].mean(), engine_cumulative(5)[:, -1].mean()
    slope = np.log(f5 / f3) / np.log(5 / 3)
    assert rows[0][0].startswith(f"{slope:.2f}")
    # theorem's exponent in S: slope of UCBVI-BF's leading term over S = 3, 5 at K = 1e15
    from mdptheory.learners import UCBVI

    lead = [UCBVI(bonus="bernstein", bonus_scale=0.1).bound(S, 2, 5, 1e15, 0.1).leading for S in (3, 5)]
    th = np.log(lead[1] / lead[0]) / np.log(5 / 3)
    assert rows[0][0].endswith(f"| {th:.2f}")
    # the points are the engine's mean Regret(K); the dotted theory line ends at the last point
    pts = [c for c in ax.containers][0].lines[0]
    np.testing.assert_allclose(pts.get_ydata(), [f3, f5], rtol=1e-12)
    dotted = [l for l in ax.get_lines() if l.get_linestyle() == ":"]
    x, y = (np.asarray(v, dtype=float) for v in dotted[0].get_data())
    assert np.log(y[1] / y[0]) / np.log(x[1] / x[0]) == pytest.approx(th, rel=1e-9) and y[-1] == pytest.approx(f5)
    # the fitted power law is solid, never dotted
    fitted = [l for l in ax.get_lines() if l.get_linestyle() == "-"]
    assert len(fitted) == 2


def test_draw_figures_writes_pdf_and_png(results, tmp_path):
    paths = draw_figures(results, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(f"{n}.{e}" for n in ("regret", "loglog", "ratio", "scaling") for e in ("pdf", "png"))
    for p in paths:
        head = p.read_bytes()[:8]
        assert head.startswith(b"%PDF") if p.suffix == ".pdf" else head == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="figure 'pie' unknown"):
        draw_figures(results, tmp_path, figures=["pie"])


# ---------------------------------------------------------------- many learners, many panels

SCALES = [0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0]

MANY_LEARNERS = f"""
[study]
name = "many_learners"
episodes = 40
seeds = 2

[[learners]]
name = "UCBVI"
label = "UCBVI"
grid = {{ bonus_scale = {SCALES} }}

[[mdps]]
family = "riverswim"
params = {{ horizon = 3 }}
grid = {{ n = [2, 3, 4] }}

[outputs]
bootstrap = 100
"""

MANY_PANELS = """
[study]
name = "many_panels"
episodes = 60
seeds = 2

[[learners]]
name = "UCBVI"
label = "UCBVI-BF"
params = { bonus = "bernstein", bonus_scale = 0.1 }

[[learners]]
name = "UniformRandom"
label = "random"

[[mdps]]
family = "riverswim"
params = { horizon = 3 }
grid = { n = [2, 3, 4, 5, 6, 7, 8] }

[outputs]
bootstrap = 100
"""


@pytest.fixture(scope="module")
def many_learners(tmp_path_factory):
    return _run(tmp_path_factory, "many_learners", MANY_LEARNERS)


@pytest.fixture(scope="module")
def many_panels(tmp_path_factory):
    return _run(tmp_path_factory, "many_panels", MANY_PANELS)


def _gap_pt(a, b, dpi):
    """Distance in points between two display boxes (negative when they overlap)."""
    dx = max(b.x0 - a.x1, a.x0 - b.x1)
    dy = max(b.y0 - a.y1, a.y0 - b.y1)
    return max(dx, dy) * 72.0 / dpi


def check_layout(fig, n_panels):
    """At most three columns, one legend below every panel, and at least 3 pt of air between
    any two panels' labels, titles and tick labels (the old one-column layout of the scaling
    study left 1.1 pt: a title touching the x label above it)."""
    axes = visible(fig)
    assert len(axes) == n_panels
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    cols = {round(a.get_position().x0, 3) for a in axes}
    assert len(cols) <= 3
    boxes = [a.get_tightbbox(r) for a in axes]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert _gap_pt(boxes[i], boxes[j], fig.dpi) >= 3.0, (axes[i].get_title(), axes[j].get_title())
    lb = shared_legend(fig).get_window_extent(r)
    assert all(lb.y1 <= b.y0 + 0.5 for b in boxes)
    # within a panel, no two tick labels touch (minor log labels crowd narrow panels)
    for ax in axes:
        for labels in (ax.get_xticklabels(which="both"), ax.get_yticklabels(which="both")):
            ext = [t.get_window_extent(r) for t in labels if t.get_visible() and t.get_text()
                   and ax.get_window_extent(r).expanded(1.2, 1.2).overlaps(t.get_window_extent(r))]
            for i in range(len(ext)):
                for j in range(i + 1, len(ext)):
                    assert _gap_pt(ext[i], ext[j], fig.dpi) > 0.5, ax.get_title()


@pytest.mark.parametrize("fn", [regret_figure, loglog_figure, ratio_figure])
def test_sixteen_learners_distinct_solid_one_legend(many_learners, fn):
    fig = fn(many_learners)
    check_layout(fig, 3)   # riverswim(4): no regret in the first episode, the log axes start later
    labels = [f"UCBVI (bonus_scale={s})" for s in SCALES]
    entries = legend_entries(fig)
    assert [e.split(":")[0].split(" (theory")[0].split(" (rate")[0] for e in entries[:16]] == labels
    for ax in visible(fig):
        curves = [l for l in ax.get_lines() if l.get_label() in labels]
        assert len(curves) == 16
        assert len({(to_hex(l.get_color()), l.get_marker()) for l in curves}) == 16
        assert {l.get_linestyle() for l in curves} == {"-"}
        others = [l for l in ax.get_lines() if l not in curves and not l.get_label().startswith("_")]
        assert all(l.get_linestyle() == ":" for l in others)   # the only other lines: theory overlays


def test_sixteen_learners_loglog_lists_exponents_per_panel(many_learners):
    """16 learners: a corner table would cover most of a panel, so the legend lists each
    learner's fitted exponent panel by panel (panels lettered) and no panel has a table."""
    from mdptheory.learners import UCBVI

    fig = loglog_figure(many_learners)
    axes = visible(fig)
    assert [a.get_title() for a in axes] == ["(a) riverswim (n=2)", "(b) riverswim (n=3)", "(c) riverswim (n=4)"]
    assert not any(a.get_gid() == TABLE_GID for ax in axes for a in ax.artists)
    entries = legend_entries(fig)
    assert "per panel (a) | (b) | (c)" in shared_legend(fig).get_title().get_text()
    # UCBVI (bonus_scale=1.0) on riverswim(3): the exponent fitted here from the engine's run
    cum = engine_cumulative(3, UCBVI(bonus_scale=1.0), K=40, seeds=2, H=3)
    ks = np.unique(np.round(np.geomspace(4, 40, 50)).astype(int))
    slope = _ols_slope(ks, cum[:, ks - 1].mean(axis=0))
    entry = entries[15]
    assert entry.startswith("UCBVI (bonus_scale=1.0)")
    cells = entry.split(": ", 1)[1].split(" | ")
    assert len(cells) == 3
    assert float(cells[1].split(" ")[0]) == pytest.approx(slope, abs=0.005)


@pytest.mark.parametrize("fn", [regret_figure, loglog_figure, ratio_figure])
def test_seven_panels_three_columns(many_panels, fn):
    fig = fn(many_panels)
    check_layout(fig, 7)
    axes = visible(fig)
    assert [a.get_title().split(") ", 1)[-1] if a.get_title().startswith("(") else a.get_title() for a in axes] == \
        [f"riverswim (n={n})" for n in range(2, 9)]
    # axis labels on the outer panels: x on the lowest panel of each column, y on the first column
    assert [bool(a.get_xlabel()) for a in axes] == [False, False, False, False, True, True, True]
    assert [bool(a.get_ylabel()) for a in axes] == [True, False, False, True, False, False, True]
    w, h = fig.get_size_inches()
    assert w == pytest.approx(7.16) and h <= 9.0
    if fn is loglog_figure:   # two learners: every panel has its exponent table
        for ax in axes:
            _, _, rows = panel_table(ax)
            assert len(rows) == 2

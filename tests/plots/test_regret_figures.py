"""Every figure type renders to PDF and PNG with the expected axes, data and legend entries.

Expected curves are recomputed here from the regret engine directly (mdptheory.regret.run),
not from the plotting code.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from mdptheory.plots.regret import draw_figures, loglog_figure, ratio_figure, regret_figure, scaling_figure
from mdptheory.plots.style import PALETTE, SIZES, figure, save
from mdptheory.sweeps import load_config, load_results, run_sweep

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


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("plots")
    (d / "s.toml").write_text(textwrap.dedent(STUDY))
    run_sweep(load_config(d / "s.toml"), d / "out", workers=1, progress=False, log=None)
    return load_results(d / "out")


def engine_cumulative(n):
    from mdptheory.envs import riverswim
    from mdptheory.learners import UCBVI
    from mdptheory.regret import run

    return run(UCBVI(bonus="bernstein", bonus_scale=0.1), riverswim(n, horizon=5), 400, 3, workers=1,
               progress=False).cumulative()


def legend_texts(ax):
    leg = ax.get_legend()
    assert leg is not None
    return [t.get_text() for t in leg.get_texts()]


def test_regret_figure(results):
    fig = regret_figure(results)
    axes = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in axes] == ["riverswim (n=3)", "riverswim (n=5)"]
    for ax in axes:
        assert ax.get_xlabel() == "episodes $k$"
        assert ax.get_legend_handles_labels()[1] == ["UCBVI-BF", "random"]
    (leg,) = fig.legends  # several panels: one shared legend
    assert [t.get_text() for t in leg.get_texts()] == ["UCBVI-BF", "random"]
    assert "bootstrap" in leg.get_title().get_text() and "3 seeds" in leg.get_title().get_text()
    line = axes[1].get_lines()[0]
    ks = line.get_xdata().astype(int)
    np.testing.assert_allclose(line.get_ydata(), engine_cumulative(5)[:, ks - 1].mean(axis=0), rtol=1e-12)
    assert line.get_color().lower() == PALETTE[0].lower()


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
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_title() == "riverswim (n=3)" and ax.get_ylabel() == r"$\mathrm{Regret}(k)$"
    texts = legend_texts(ax)
    assert len(texts) == 2
    assert texts[0].startswith("UCBVI-BF: $\\hat\\alpha$=") and "(theory 0.5" in texts[0]
    assert texts[1].startswith("random: $\\hat\\alpha$=1.00")  # uniform play: linear regret
    # fitted exponent = OLS slope of log mean Regret(k) on log k over 50 log-spaced k in [K/10, K]
    ks = np.unique(np.round(np.geomspace(40, 400, 50)).astype(int))
    slope = _ols_slope(ks, engine_cumulative(3)[:, ks - 1].mean(axis=0))
    est, ci = texts[0].split("=", 1)[1].split(" (theory")[0].split(" [")
    assert float(est) == pytest.approx(slope, abs=0.005)
    lo, hi = (float(v) for v in ci.rstrip("]").split(", "))
    assert lo <= float(est) <= hi
    th = float(texts[0].split("(theory ")[1].rstrip(")"))
    assert th == pytest.approx(_theory_slope_K(3, 2, 5), abs=0.005)
    # the theorem's rate: a dotted line of that slope ending at the mean Regret(K)
    dotted = [l for l in ax.get_lines() if l.get_linestyle() == ":"]
    assert len(dotted) == 2  # one per learner with a bound (UniformRandom's is the trivial HK)
    x, y = (np.asarray(v, dtype=float) for v in dotted[0].get_data())
    assert _ols_slope(x, y) == pytest.approx(_theory_slope_K(3, 2, 5), rel=1e-9)
    assert x[-1] == 400 and y[-1] == pytest.approx(engine_cumulative(3)[:, -1].mean(), rel=1e-12)


def test_single_panel_figures_put_the_legend_below(results, tmp_path):
    """One MDP: the legend is a figure legend below the axes (it cannot hide a curve) and
    carries the band description."""
    from mdptheory.sweeps import Results

    keep = {k: r for k, r in results.items() if r.config.mdp.label == "riverswim (n=5)"}
    one = Results(results.root, results.study, keep)
    for fn in (regret_figure, loglog_figure, ratio_figure):
        fig = fn(one)
        (ax,) = [a for a in fig.axes if a.get_visible()]
        assert ax.get_legend() is None
        (leg,) = fig.legends
        labels = [t.get_text() for t in leg.get_texts()]
        assert [l.split(":")[0].split(" (")[0] for l in labels] == ["UCBVI-BF", "random"]
        assert "bootstrap CI, 3 seeds" in leg.get_title().get_text()
        fig.canvas.draw()
        lb = leg.get_window_extent()
        assert lb.y1 <= ax.get_window_extent().y0  # entirely below the axes


def test_ratio_figure(results):
    from mdptheory.learners import UCBVI

    fig = ratio_figure(results)
    ax = fig.axes[1]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == r"$\mathrm{Regret}(k)\,/\,\mathrm{bound}(k)$" and ax.get_title() == "riverswim (n=5)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["UCBVI-BF", "random"]
    line = ax.get_lines()[0]
    ks = line.get_xdata()
    B = UCBVI(bonus="bernstein", bonus_scale=0.1).bound(5, 2, 5, ks, 0.1).value
    np.testing.assert_allclose(line.get_ydata(), (engine_cumulative(5)[:, ks.astype(int) - 1] / B).mean(axis=0), rtol=1e-12)
    # uniform random against its own (trivial, H k) bound: the ratio is the mean per-episode regret / H
    y_rand = ax.get_lines()[1].get_ydata()
    assert np.all((y_rand > 0) & (y_rand <= 1))


def test_scaling_figure(results):
    fig = scaling_figure(results)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$S$" and ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == r"$\mathrm{Regret}(K)$"
    texts = legend_texts(ax)
    assert [t.split(":")[0] for t in texts] == ["UCBVI-BF", "random"]
    # fitted exponent in the legend = slope through the two points (two points: exact)
    f3, f5 = engine_cumulative(3)[:, -1].mean(), engine_cumulative(5)[:, -1].mean()
    slope = np.log(f5 / f3) / np.log(5 / 3)
    assert texts[0].split(": ")[1].startswith(f"{slope:.2f}")
    # theorem's exponent in S: slope of UCBVI-BF's leading term over S = 3, 5 at K = 1e15
    from mdptheory.learners import UCBVI

    lead = [UCBVI(bonus="bernstein", bonus_scale=0.1).bound(S, 2, 5, 1e15, 0.1).leading for S in (3, 5)]
    th = np.log(lead[1] / lead[0]) / np.log(5 / 3)
    assert texts[0].endswith(f"(theory {th:.2f})")
    # the points are the engine's mean Regret(K); the dotted theory line ends at the last point
    pts = [c for c in ax.containers][0].lines[0]
    np.testing.assert_allclose(pts.get_ydata(), [f3, f5], rtol=1e-12)
    dotted = [l for l in ax.get_lines() if l.get_linestyle() == ":"]
    x, y = (np.asarray(v, dtype=float) for v in dotted[0].get_data())
    assert np.log(y[1] / y[0]) / np.log(x[1] / x[0]) == pytest.approx(th, rel=1e-9) and y[-1] == pytest.approx(f5)


def test_draw_figures_writes_pdf_and_png(results, tmp_path):
    paths = draw_figures(results, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(f"{n}.{e}" for n in ("regret", "loglog", "ratio", "scaling") for e in ("pdf", "png"))
    for p in paths:
        head = p.read_bytes()[:8]
        assert head.startswith(b"%PDF") if p.suffix == ".pdf" else head == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="figure 'pie' unknown"):
        draw_figures(results, tmp_path, figures=["pie"])


def test_style_sizes(tmp_path):
    fig, axes = figure("one-column")
    assert tuple(fig.get_size_inches()) == pytest.approx(SIZES["one-column"])
    save(fig, tmp_path / "x")
    fig, axes = figure("two-column", 1, 2)
    assert fig.get_size_inches()[0] == pytest.approx(SIZES["two-column"][0]) and axes.shape == (1, 2)
    save(fig, tmp_path / "y", formats=("pdf",))
    assert (tmp_path / "x.png").exists() and (tmp_path / "y.pdf").exists()
    with pytest.raises(ValueError, match="size = 'poster'"):
        figure("poster")


def test_color_linestyle_pairs_distinct():
    from mdptheory.plots.style import color, linestyle

    pairs = {(color(i), str(linestyle(i))) for i in range(64)}
    assert len(pairs) == 64

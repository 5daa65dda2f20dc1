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


def test_loglog_figure(results):
    fig = loglog_figure(results)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    texts = legend_texts(ax)
    assert len(texts) == 2
    assert texts[0].startswith("UCBVI-BF: $\\hat\\alpha$=") and "(theory 0.5" in texts[0]
    assert texts[1].startswith("random: $\\hat\\alpha$=1.00")  # uniform play: linear regret


def test_ratio_figure(results):
    from mdptheory.learners import UCBVI

    fig = ratio_figure(results)
    ax = fig.axes[1]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["UCBVI-BF", "random"]
    line = ax.get_lines()[0]
    ks = line.get_xdata()
    B = UCBVI(bonus="bernstein", bonus_scale=0.1).bound(5, 2, 5, ks, 0.1).value
    np.testing.assert_allclose(line.get_ydata(), (engine_cumulative(5)[:, ks.astype(int) - 1] / B).mean(axis=0), rtol=1e-12)


def test_scaling_figure(results):
    fig = scaling_figure(results)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$S$" and ax.get_xscale() == "log"
    texts = legend_texts(ax)
    assert [t.split(":")[0] for t in texts] == ["UCBVI-BF", "random"]
    # fitted exponent in the legend = slope through the two points (two points: exact)
    f3, f5 = engine_cumulative(3)[:, -1].mean(), engine_cumulative(5)[:, -1].mean()
    slope = np.log(f5 / f3) / np.log(5 / 3)
    assert texts[0].split(": ")[1].startswith(f"{slope:.2f}")


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

r"""Paper figures of regret studies (inputs: :func:`mdptheory.sweeps.load_results`).

* :func:`regret_figure` -- cumulative pseudo-regret :math:`\mathrm{Regret}(k)` against
  episodes, one panel per MDP, one line per learner, with a band across seeds: the mean
  and its percentile-bootstrap CI (``band="bootstrap"``) or the median and central
  quantile band of single runs (``band="quantile"``).
* :func:`loglog_figure` -- the same on log-log axes; the legend gives the exponent fitted
  over :math:`k \in [K/10, K]` with its bootstrap CI, and a dotted line of slope equal to
  the theorem's rate (slope of the learner's bound at large K) anchored at the data.
* :func:`ratio_figure` -- :math:`\mathrm{Regret}(k) / B(k)` with :math:`B` the learner's
  bound at :math:`(S, A, H, k, \delta)`.
* :func:`scaling_figure` -- Regret(K) against S, A or H with fitted exponents next to the
  theorem's.
* :func:`draw_figures` -- all figures a study asks for, as PDF and PNG under ``DIR/figures``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mdptheory.plots.style import MARKERS, color, figure, linestyle, marker, paper_style, save
from mdptheory.regret import fit_power_law
from mdptheory.sweeps.results import (
    ConfigResult,
    Results,
    configuration_bound,
    scaling_fits,
    theory_exponent_K,
)
from mdptheory.sweeps.stats import bootstrap_mean_ci, fit_window, log_grid, quantile_band

__all__ = [
    "regret_figure",
    "loglog_figure",
    "ratio_figure",
    "scaling_figure",
    "draw_figures",
    "FIGURE_FUNCS",
]

_N_POINTS = 300


def _band(X: np.ndarray, band: str, level: float, n_boot: int):
    if band == "bootstrap":
        return bootstrap_mean_ci(X, level=level, n_boot=n_boot, seed=0)
    if band == "quantile":
        return quantile_band(X, level=level)
    raise ValueError(f"band = {band!r}; expected 'bootstrap' or 'quantile'")


def _panels(results: Results) -> list[tuple[str, list[ConfigResult]]]:
    """Group configurations by MDP label (study order); drop empty ones."""
    groups: dict[str, list[ConfigResult]] = {}
    for r in results.values():
        if r.n_seeds:
            groups.setdefault(r.config.mdp.label, []).append(r)
    return list(groups.items())


def _learner_styles(results: Results) -> dict[str, int]:
    idx: dict[str, int] = {}
    for r in results.values():
        idx.setdefault(r.config.learner.label, len(idx))
    return idx


def _grid(nrows_cols: int) -> tuple[int, int]:
    if nrows_cols <= 1:
        return 1, 1
    ncols = min(3, nrows_cols)
    return math.ceil(nrows_cols / ncols), ncols


def _setup(results: Results, size: str | None, column: bool = False):
    panels = _panels(results)
    if not panels:
        raise ValueError(f"{results.root}: no records to plot")
    if column and len(panels) > 1:
        # one panel per row, each with its own legend on the right (per-panel legend text)
        import matplotlib.pyplot as plt

        from mdptheory.plots.style import SIZES

        w, h = SIZES["two-column"]
        # each row is tall enough for its legend (about 11 pt per entry at 6.5 pt text plus
        # the title line; the axes take ~70% of a row), so neighbouring legends cannot overlap
        n_entries = max(len(rs) for _, rs in panels)
        row = max(0.85 * h, (n_entries + 2) * 11.0 / 72.0 + 0.6)
        fig, axes = plt.subplots(len(panels), 1, figsize=(w, row * len(panels)), squeeze=False)
        fig.subplots_adjust(right=0.52, hspace=0.45)
        return panels, fig, axes.ravel(), _learner_styles(results)
    nr, nc = _grid(len(panels))
    size = size or results.study.outputs.size
    if nc > 1 and size == "one-column":
        size = "two-column"
    fig, axes = figure(size, nr, nc)
    flat = axes.ravel()
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    return panels, fig, flat, _learner_styles(results)


def _ncol(fig, labels, max_cols: int = 4) -> int:
    """Legend columns that fit the figure's width (label widths estimated from their length)."""
    if not labels:
        return 1
    width_in = fig.get_size_inches()[0]
    # 6.5 pt legend text: about 0.5 em (3.3 pt) per character, plus handle and padding
    entry_in = max(len(l) for l in labels) * 3.3 / 72.0 + 0.45
    return int(max(1, min(max_cols, len(labels), width_in // entry_in)))


def _shared_legend(fig, axes, title: str | None = None, loc: str = "upper left") -> None:
    """One legend for the whole figure, centred below the panels (so it never hides a
    curve), with the entries of every visible panel in first-seen order. ``loc`` is kept
    for backward compatibility and ignored."""
    vis = [a for a in axes if a.get_visible()]
    handles, labels = {}, []
    for a in vis:
        for h, lab in zip(*a.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    fig.tight_layout()
    fig.legend([handles[l] for l in labels], labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=_ncol(fig, labels), title=title, title_fontsize=6)


def _line_kw(i: int) -> dict:
    """Colour, dash pattern and (after the palette wraps) marker of the ``i``-th learner."""
    m = marker(i)
    kw = {"color": color(i), "ls": linestyle(i)}
    if m is not None:
        kw.update(marker=m, markevery=0.12, markersize=2.5)
    return kw


def _legend_below(ax) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=1, fontsize=5.5)


def _log_ticks(ax, axis: str, values) -> None:
    """Plain-number ticks at the data's values on a log axis (no crowded minor labels)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(FixedLocator(sorted(set(float(v) for v in values))))
    a.set_major_formatter(ScalarFormatter())
    a.set_minor_locator(NullLocator())
    a.set_minor_formatter(NullFormatter())


def _band_label(band: str, level: float, n: int) -> str:
    if band == "bootstrap":
        return f"mean, {100 * level:g}% bootstrap CI, {n} seeds"
    return f"median, {100 * level:g}% quantile band, {n} seeds"


def regret_figure(results: Results, *, band: str | None = None, level: float | None = None, size: str | None = None):
    """Cumulative regret against episodes with bands across seeds; returns the Figure."""
    o = results.study.outputs
    band, level = band or o.band, o.level if level is None else level
    with paper_style():
        panels, fig, axes, sty = _setup(results, size)
        for ax, (mdp_label, rs) in zip(axes, panels):
            for r in rs:
                K = r.config.episodes
                ks = np.unique(np.linspace(1, K, min(K, _N_POINTS)).round().astype(np.int64))
                X = r.cumulative()[:, ks - 1]
                mid, lo, hi = _band(X, band, level, o.bootstrap)
                i = sty[r.config.learner.label]
                ax.plot(ks, mid, label=r.config.learner.label, **_line_kw(i))
                ax.fill_between(ks, lo, hi, color=color(i), alpha=0.2, lw=0)
            ax.set_title(mdp_label)
            ax.set_xlabel("episodes $k$")
            ax.set_ylabel(r"$\mathrm{Regret}(k)$")
            ax.set_xlim(left=0)
            ax.set_ylim(bottom=0)
        fig.tight_layout()
        _shared_legend(fig, axes, _band_label(band, level, max(r.n_seeds for pr in panels for r in pr[1])))
    return fig


def _fmt_exp(a: float, lo: float, hi: float) -> str:
    if math.isnan(a):
        return "n/a"
    return f"{a:.2f} [{lo:.2f}, {hi:.2f}]"


def loglog_figure(results: Results, *, band: str | None = None, level: float | None = None, size: str | None = None):
    """Log-log cumulative regret; legend: fitted exponent (CI) and the theorem's rate."""
    o = results.study.outputs
    band, level = band or o.band, o.level if level is None else level
    with paper_style():
        panels, fig, axes, sty = _setup(results, size, column=True)
        for ax, (mdp_label, rs) in zip(axes, panels):
            for r in rs:
                K = r.config.episodes
                ks = log_grid(K, _N_POINTS)
                cum = r.cumulative()
                mid, lo, hi = _band(cum[:, ks - 1], band, level, o.bootstrap)
                i = sty[r.config.learner.label]
                if K >= 10:
                    w = fit_window(K)
                    fit = fit_power_law(w, cum[:, w - 1], level=level, n_boot=o.bootstrap, seed=0)
                    a, alo, ahi = fit.exponent, fit.ci_low, fit.ci_high
                else:
                    a = alo = ahi = float("nan")
                th = theory_exponent_K(r.config, results.study.delta)
                lab = f"{r.config.learner.label}: $\\hat\\alpha$={_fmt_exp(a, alo, ahi)}"
                if not math.isnan(th):
                    lab += f" (theory {th:.2f})"
                pos = mid > 0
                ax.plot(ks[pos], mid[pos], label=lab, **_line_kw(i))
                okb = (lo > 0) & (hi > 0)
                ax.fill_between(ks[okb], lo[okb], hi[okb], color=color(i), alpha=0.2, lw=0)
                if not math.isnan(th) and K >= 10 and np.mean(cum[:, -1]) > 0:
                    yK = float(np.mean(cum[:, -1]))
                    kr = np.array([max(1.0, K / 100.0), float(K)])
                    ax.plot(kr, yK * (kr / K) ** th, color=color(i), ls=":", lw=0.9)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(mdp_label)
            ax.set_xlabel("episodes $k$ (dotted: theorem's rate)")
            ax.set_ylabel(r"$\mathrm{Regret}(k)$")
            if len(panels) > 1:
                ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5),
                          title=_band_label(band, level, max(r.n_seeds for r in rs)), title_fontsize=6)
        if len(panels) == 1:
            fig.tight_layout()
            handles, labs = axes[0].get_legend_handles_labels()
            fig.legend(handles, labs, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=_ncol(fig, labs, max_cols=2),
                       title=_band_label(band, level, max(r.n_seeds for r in panels[0][1])), title_fontsize=6)
    return fig


def ratio_figure(results: Results, *, band: str | None = None, level: float | None = None, size: str | None = None):
    """Regret(k) / bound(k) (log x); learners without a bound are left out of the panel."""
    o = results.study.outputs
    band, level = band or o.band, o.level if level is None else level
    with paper_style():
        panels, fig, axes, sty = _setup(results, size)
        for ax, (mdp_label, rs) in zip(axes, panels):
            drawn = 0
            for r in rs:
                K = r.config.episodes
                ks = log_grid(K, _N_POINTS)
                B, bobj = configuration_bound(r.config, ks.astype(np.float64), results.study.delta)
                if bobj is None or not np.all(np.isfinite(B)) or np.any(B <= 0):
                    continue
                X = r.cumulative()[:, ks - 1] / B
                mid, lo, hi = _band(X, band, level, o.bootstrap)
                i = sty[r.config.learner.label]
                tag = "" if getattr(bobj, "explicit_constants", True) else " (rate, constants 1)"
                ax.plot(ks, mid, label=r.config.learner.label + tag, **_line_kw(i))
                ax.fill_between(ks, lo, hi, color=color(i), alpha=0.2, lw=0)
                drawn += 1
            ax.set_xscale("log")
            ax.set_yscale("log")  # ratios to theory-constant bounds span decades
            ax.set_title(mdp_label)
            ax.set_xlabel("episodes $k$")
            ax.set_ylabel(r"$\mathrm{Regret}(k)\,/\,\mathrm{bound}(k)$")
            if not drawn:
                ax.text(0.5, 0.5, "no learner with a bound", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        _shared_legend(fig, axes, _band_label(band, level, max(r.n_seeds for pr in panels for r in pr[1])))
    return fig


def scaling_figure(results: Results, *, axes_names=None, level: float | None = None, size: str | None = None):
    """Regret(K) against S, A and/or H (log-log), one panel per axis with at least one fit.

    Points: mean with bootstrap CI over seeds; solid/dashed line: fitted power law; dotted
    line: the theorem's exponent (slope of the bound's leading term over the same grid at
    large K), anchored at the largest x; legend: fitted exponent (CI) and the theorem's.
    """
    o = results.study.outputs
    level = o.level if level is None else level
    names = tuple(axes_names or o.scaling or ("S",))
    fits_by_axis = [(a, scaling_fits(results, a, level=level)) for a in names]
    fits_by_axis = [(a, f) for a, f in fits_by_axis if f]
    if not fits_by_axis:
        raise ValueError(f"{results.root}: no group of configurations varies only in {names}; nothing to scale")
    sty = _learner_styles(results)
    with paper_style():
        size = size or o.size
        if len(fits_by_axis) > 1:
            size = "two-column"
        fig, axes = figure(size, 1, len(fits_by_axis))
        for ax, (a, fits) in zip(axes.ravel(), fits_by_axis):
            for j, f in enumerate(fits):
                i = sty.get(f.learner, j)
                m, lo, hi = bootstrap_mean_ci(f.final, level=level, n_boot=o.bootstrap, seed=0)
                lab = f"{f.learner}" + (f" [{f.family}]" if len({g.family for g in fits}) > 1 else "")
                lab += f": {_fmt_exp(f.exponent, f.exponent_lo, f.exponent_hi)}"
                if not math.isnan(f.theory_exponent):
                    lab += f" (theory {f.theory_exponent:.2f})"
                yerr = np.vstack([m - lo, hi - m]) if np.all(np.isfinite(lo)) else None  # no CI from one seed
                ax.errorbar(f.x, m, yerr=yerr, color=color(i), marker=MARKERS[i % len(MARKERS)], ls="none", capsize=1.5, label=lab)
                if not math.isnan(f.exponent) and np.all(m > 0):
                    c = math.exp(np.mean(np.log(m)) - f.exponent * np.mean(np.log(f.x)))
                    xx = np.geomspace(f.x.min(), f.x.max(), 20)
                    ax.plot(xx, c * xx**f.exponent, color=color(i), ls=linestyle(i), lw=0.9)
                if not math.isnan(f.theory_exponent) and m[-1] > 0:
                    xr = np.array([f.x.min(), f.x.max()])
                    ax.plot(xr, m[-1] * (xr / f.x.max()) ** f.theory_exponent, color=color(i), ls=":", lw=0.9)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(f"${a}$")
            ax.set_ylabel(r"$\mathrm{Regret}(K)$")
            _log_ticks(ax, "x", np.concatenate([f.x for f in fits]))
            ax.set_title(f"Regret($K$) vs ${a}$")
            _legend_below(ax)
            ax.get_legend().set_title("fitted exponent [CI] (theory: dotted)", prop={"size": 6})
        fig.tight_layout()
    return fig


FIGURE_FUNCS = {
    "regret": regret_figure,
    "loglog": loglog_figure,
    "ratio": ratio_figure,
    "scaling": scaling_figure,
}


def draw_figures(results: Results, out=None, figures=None, size: str | None = None) -> list[Path]:
    """Draw the study's figures into ``out/figures/NAME.{pdf,png}`` (default ``out`` = results dir).

    Returns the paths written.
    """
    out = Path(out) if out is not None else results.root
    names = tuple(figures) if figures is not None else results.study.outputs.figures
    paths = []
    for n in names:
        if n not in FIGURE_FUNCS:
            raise ValueError(f"figure {n!r} unknown; expected one of {sorted(FIGURE_FUNCS)}")
        fig = FIGURE_FUNCS[n](results, size=size)
        paths += save(fig, out / "figures" / n)
    return paths

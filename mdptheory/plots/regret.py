r"""Paper figures of regret studies (inputs: :func:`mdptheory.sweeps.load_results`).

Every figure has one panel per MDP configuration (:func:`scaling_figure`: one per size axis)
in a grid of at most three columns, ONE legend for the whole figure below the panels, and
the style rules of :mod:`mdptheory.plots.style`: each learner is a solid curve with its own
``(colour, marker)`` pair (the same in every panel and every figure of a study); dotted lines
are theory overlays only.

* :func:`regret_figure` -- cumulative pseudo-regret :math:`\mathrm{Regret}(k)` against
  episodes ``k`` (linear axes), one line per learner, with a band across seeds: the mean and
  its percentile-bootstrap CI (``band="bootstrap"``) or the median and central quantile band
  of single runs (``band="quantile"``); the legend title says which and how many seeds.
* :func:`loglog_figure` -- the same on log-log axes. A dotted line in the learner's colour
  has the theorem's rate as slope (slope in ``k`` of the leading term of the learner's
  bound, at large ``K``) and ends at the mean :math:`\mathrm{Regret}(K)`. The exponent
  fitted over :math:`k \in [K/10, K]` with its seed-bootstrap CI is printed per learner
  in a small table in the emptiest corner of each panel (a marker glyph identifies the
  learner); the theorem's exponent goes into the shared legend, or into the table rows
  when it differs between panels.
* :func:`ratio_figure` -- :math:`\mathrm{Regret}(k) / B(k)` with :math:`B` the learner's
  *raw* bound at :math:`(S, A, H, k, \delta)` (``RegretBound.value``, never capped), on
  log-log axes. Markers are hollow where the bound is vacuous (:math:`B(k) \ge` the
  trivial cap :math:`Hk`, :math:`k` under N2) and filled where it says something; learners
  without a bound are left out, bounds with constants set to 1 (``O(.)`` rates) are tagged
  in the legend.
* :func:`scaling_figure` -- :math:`\mathrm{Regret}(K)` against S, A or H (log-log), one
  panel per axis: mean over seeds with bootstrap CI (markers), the fitted power law (thin
  solid line) and the theorem's exponent (dotted, through the largest size); the fitted
  exponent [CI] and the theorem's are in a table in a panel corner.
* :func:`draw_figures` -- all figures a study asks for, as PDF and PNG under ``DIR/figures``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mdptheory.plots.style import color, curve_style, figure, grid_shape, marker, overlay_style, paper_style, save
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
    "TABLE_GID",
    "VACUOUS_GID",
]

_N_POINTS = 300
#: ``gid`` of the per-panel tables (fitted exponents) drawn by :func:`loglog_figure` and
#: :func:`scaling_figure`.
TABLE_GID = "panel-table"
#: ``gid`` of the hollow markers of :func:`ratio_figure` (vacuous bound).
VACUOUS_GID = "vacuous"
_TABLE_FONTSIZE = 5.5


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
    """Style index of every learner label, in study order (the same in every figure)."""
    idx: dict[str, int] = {}
    for r in results.values():
        idx.setdefault(r.config.learner.label, len(idx))
    return idx


def _grid_figure(n_panels: int, size: str):
    """Figure with a grid of at most three columns for ``n_panels``; a one-column size with
    several panels is widened to two columns (a third of 3.5 in is too narrow for a panel)."""
    nr, nc = grid_shape(n_panels)
    if nc > 1 and size == "one-column":
        size = "two-column"
    fig, axes = figure(size, nr, nc)
    for ax in axes.ravel()[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def _setup(results: Results, size: str | None):
    panels = _panels(results)
    if not panels:
        raise ValueError(f"{results.root}: no records to plot")
    fig, grid = _grid_figure(len(panels), size or results.study.outputs.size)
    return panels, fig, grid, _learner_styles(results)


def _label_outer(grid, n_panels: int, xlabel: str, ylabel: str) -> None:
    """Axis labels on the outer panels only: x label on the lowest visible panel of each
    column, y label on the first column (tick labels stay on every panel)."""
    nc = grid.shape[1]
    for j in range(n_panels):
        r, c = divmod(j, nc)
        ax = grid[r, c]
        below = (r + 1) * nc + c
        ax.set_xlabel(xlabel if below >= n_panels else "")
        ax.set_ylabel(ylabel if c == 0 else "")


def _ncol(fig, labels, max_cols: int = 4) -> int:
    """Legend columns that fit the figure's width (label widths estimated from their length)."""
    if not labels:
        return 1
    width_in = fig.get_size_inches()[0]
    # 6.5 pt legend text: about 0.5 em (3.3 pt) per character, plus handle and padding
    entry_in = max(len(l) for l in labels) * 3.3 / 72.0 + 0.45
    most = int(max(1, min(max_cols, len(labels), width_in // entry_in)))
    rows = math.ceil(len(labels) / most)
    return math.ceil(len(labels) / rows)  # as few rows as possible, columns balanced


def _shared_legend(fig, entries: dict[int, tuple[str, object]], title: str | None, extra=()) -> None:
    """The figure's one legend, centred below the panels (so it never hides a curve): the
    learners in style order, then the ``extra`` ``(label, handle)`` entries (overlays, marker
    meanings). Lays the panels out first."""
    fig.tight_layout()
    items = [entries[i] for i in sorted(entries)] + list(extra)
    if not items:
        return
    labels = [lab for lab, _ in items]
    fig.legend([h for _, h in items], labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=_ncol(fig, labels), title=title, title_fontsize=6)


def _proxy(**kw):
    from matplotlib.lines import Line2D

    return Line2D([], [], **kw)


def _band_label(band: str, level: float, n: int) -> str:
    if band == "bootstrap":
        return f"mean, {100 * level:g}% bootstrap CI, {n} seeds"
    return f"median, {100 * level:g}% quantile band, {n} seeds"


def _log_ticks(ax, axis: str, values) -> None:
    """Plain-number ticks at the data's values on a log axis (no crowded minor labels)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(FixedLocator(sorted(set(float(v) for v in values))))
    a.set_major_formatter(ScalarFormatter())
    a.set_minor_locator(NullLocator())
    a.set_minor_formatter(NullFormatter())


def _episodes_log_axis(ax) -> None:
    """Log x axis of episodes starting at k = 1 (so every panel spans at least the decades of
    its data from the first episode) with labels at powers of ten only (minor labels crowd
    narrow panels)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, 0.8), hi)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _fmt_exp(a: float, lo: float, hi: float) -> str:
    if math.isnan(a):
        return "n/a"
    if math.isnan(lo) or math.isnan(hi):
        return f"{a:.2f}"
    return f"{a:.2f} [{lo:.2f}, {hi:.2f}]"


# ------------------------------------------------------------------ per-panel tables


def _display_points(ax) -> np.ndarray:
    """Display coordinates of every drawn line of ``ax``, segments densified (so a straight
    overlay with two vertices still counts along its length)."""
    pts = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = np.column_stack([np.asarray(v, dtype=float) for v in line.get_data()])
        if xy.size == 0:
            continue
        ok = np.all(np.isfinite(xy), axis=1)
        if ax.get_xscale() == "log":
            ok &= xy[:, 0] > 0
        if ax.get_yscale() == "log":
            ok &= xy[:, 1] > 0
        d = line.get_transform().transform(xy[ok])
        if len(d) == 1 or line.get_linestyle() in ("None", "none", ""):
            pts.append(d)
            continue
        t = np.linspace(0.0, 1.0, 12)[:-1, None]
        seg = (d[:-1, None, :] * (1 - t) + d[1:, None, :] * t).reshape(-1, 2)
        pts.append(np.vstack([seg, d[-1:]]))
    return np.vstack(pts) if pts else np.zeros((0, 2))


def _table_height(fig, n_rows: int) -> float:
    """Display height of a panel table of ``n_rows`` rows plus its title."""
    return (n_rows + 1) * (_TABLE_FONTSIZE + 1.6) * fig.dpi / 72.0 + 6.0


def _tables_fit(fig, axes, n_rows: int) -> bool:
    """Whether a table of ``n_rows`` rows takes at most 45% of the height of every panel."""
    renderer = fig.canvas.get_renderer()
    return all(_table_height(fig, n_rows) <= 0.45 * ax.get_window_extent(renderer).height for ax in axes)


def _panel_table(ax, rows: list[tuple[int, str]], title: str):
    """A compact table in the least covered corner of ``ax`` (fewest line points, markers
    included with a margin, under it): a title row, then one row per curve, a glyph with the
    curve's colour and marker followed by ``text``."""
    from matplotlib.lines import Line2D
    from matplotlib.offsetbox import AnchoredOffsetbox, DrawingArea, HPacker, TextArea, VPacker

    fs = _TABLE_FONTSIZE

    def row(i, txt):
        da = DrawingArea(10, fs, 0, 0)
        da.add_artist(Line2D([0.5, 9.5], [0.4 * fs] * 2, color=color(i), lw=0.9, solid_capstyle="butt"))
        da.add_artist(Line2D([5.0], [0.4 * fs], color=color(i), marker=marker(i), ms=2.8, mew=0.5, ls="none"))
        return HPacker(children=[da, TextArea(txt, textprops={"size": fs, "color": "0.1"})], pad=0, sep=2,
                       align="center")

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    child = VPacker(children=[TextArea(title, textprops={"size": fs, "color": "0.25"})]
                    + [row(i, t) for i, t in rows], pad=0, sep=1.2, align="left")
    box = AnchoredOffsetbox(loc="lower right", child=child, pad=0.25, borderpad=0.3, frameon=True)
    box.patch.set_facecolor("white")
    box.patch.set_edgecolor("0.8")
    box.patch.set_linewidth(0.3)
    box.patch.set_alpha(0.85)
    box.set_gid(TABLE_GID)
    box.set_zorder(5)
    ax.add_artist(box)
    ax.get_xlim(), ax.get_ylim()  # apply pending autoscaling before reading the data transform
    pts = _display_points(ax)
    margin = 4.0 * fig.dpi / 72.0  # a marker's radius and a little air
    best, best_n = "lower right", None
    for loc in ("lower right", "upper left", "upper right", "lower left"):
        box.loc = AnchoredOffsetbox.codes[loc]
        bb = box.get_window_extent(renderer).padded(margin)
        n = int(np.count_nonzero((pts[:, 0] >= bb.x0) & (pts[:, 0] <= bb.x1)
                                 & (pts[:, 1] >= bb.y0) & (pts[:, 1] <= bb.y1))) if len(pts) else 0
        if best_n is None or n < best_n:
            best, best_n = loc, n
    box.loc = AnchoredOffsetbox.codes[best]
    return box


def _letter(j: int) -> str:
    return f"({chr(ord('a') + j)})" if j < 26 else f"({j + 1})"


def _exponents(fig, axes, per_panel, entries, head: str, legend_head: str) -> str:
    """Show per-panel exponents compactly, either way keeping every number visible.

    ``per_panel``: for each panel a list of ``(style index, (est, lo, hi), theory or None)``.
    When a one-row-per-curve table fits in a corner of every panel (at most 45% of its
    height), each panel gets one (:func:`_panel_table`; ``head`` is its title). Otherwise
    (many curves) the panels are lettered (a), (b), ... and each shared-legend entry lists
    the curve's values panel by panel (``entries`` is rewritten; CIs are dropped when the
    entries would be too long to read). Returns the text to append to the legend title.
    """
    n_rows = max((len(rows) for rows in per_panel), default=0)
    if _tables_fit(fig, axes, n_rows):
        for ax, rows in zip(axes, per_panel):
            rows = sorted(rows, key=lambda t: t[0])
            any_th = any(th is not None for _, _, th in rows)
            _panel_table(ax, [(i, _fmt_exp(*f) + ("" if th is None else f" | {th}")) for i, f, th in rows],
                         head + (" | theory" if any_th else ""))
        return ""
    if len(axes) > 1:
        for j, ax in enumerate(axes):
            ax.set_title(f"{_letter(j)} {ax.get_title()}")

    def cells(i, ci):
        out = []
        for rows in per_panel:
            hit = [(f, th) for k, f, th in rows if k == i]
            if not hit:
                out.append("-")
                continue
            f, th = hit[0]
            out.append((_fmt_exp(*f) if ci else _fmt_exp(f[0], math.nan, math.nan)) + ("" if th is None else f" ({th})"))
        return " | ".join(out)

    longest = max(len(entries[i][0]) + len(cells(i, True)) for i in entries) if entries else 0
    ci = longest <= 100
    for i in list(entries):
        lab, h = entries[i]
        entries[i] = (f"{lab}: {cells(i, ci)}", h)
    letters = [_letter(j) for j in range(len(axes))]
    span = " | ".join(letters) if len(letters) <= 4 else f"{letters[0]} | ... | {letters[-1]}"
    any_th = any(th is not None for rows in per_panel for _, _, th in rows)
    what = f"{legend_head}{' [CI]' if ci else ''}{' (theory)' if any_th else ''}"
    return f"\nper panel {span}: {what}" if len(axes) > 1 else f"\n{what}"


# ------------------------------------------------------------------ figures


def regret_figure(results: Results, *, band: str | None = None, level: float | None = None, size: str | None = None):
    """Cumulative regret Regret(k) against episodes k, one panel per MDP, one solid line per
    learner with its band across seeds; one legend below the panels. Returns the Figure."""
    o = results.study.outputs
    band, level = band or o.band, o.level if level is None else level
    with paper_style():
        panels, fig, grid, sty = _setup(results, size)
        entries: dict[int, tuple[str, object]] = {}
        for ax, (mdp_label, rs) in zip(grid.ravel(), panels):
            for r in rs:
                K = r.config.episodes
                ks = np.unique(np.linspace(1, K, min(K, _N_POINTS)).round().astype(np.int64))
                X = r.cumulative()[:, ks - 1]
                mid, lo, hi = _band(X, band, level, o.bootstrap)
                i = sty[r.config.learner.label]
                (ln,) = ax.plot(ks, mid, label=r.config.learner.label, **curve_style(i))
                ax.fill_between(ks, lo, hi, color=color(i), alpha=0.2, lw=0)
                entries.setdefault(i, (r.config.learner.label, ln))
            ax.set_title(mdp_label)
            ax.set_xlim(left=0)
            ax.set_ylim(bottom=0)
        _label_outer(grid, len(panels), "episodes $k$", r"$\mathrm{Regret}(k)$")
        _shared_legend(fig, entries, _band_label(band, level, max(r.n_seeds for pr in panels for r in pr[1])))
    return fig


def loglog_figure(results: Results, *, band: str | None = None, level: float | None = None, size: str | None = None):
    """Log-log cumulative regret Regret(k), one solid line (band across seeds) per learner,
    with the theorem's rate as a dotted line in the learner's colour ending at Regret(K).
    The exponent fitted over [K/10, K] with its seed-bootstrap CI: in a table in the emptiest
    corner of each panel, or, when such a table would cover more than 45% of a panel (many
    learners), in the shared legend panel by panel (panels lettered (a), (b), ...). The
    theorem's exponent is in the legend entry, or next to each fitted one when it differs
    between panels. Returns the Figure."""
    o = results.study.outputs
    band, level = band or o.band, o.level if level is None else level
    with paper_style():
        panels, fig, grid, sty = _setup(results, size)
        drawn = []   # per panel: [(style index, label, line, fit (a, lo, hi), theory)]
        for ax, (mdp_label, rs) in zip(grid.ravel(), panels):
            rows = []
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
                pos = mid > 0
                (ln,) = ax.plot(ks[pos], mid[pos], label=r.config.learner.label, **curve_style(i))
                okb = (lo > 0) & (hi > 0)
                ax.fill_between(ks[okb], lo[okb], hi[okb], color=color(i), alpha=0.2, lw=0)
                if not math.isnan(th) and K >= 10 and np.mean(cum[:, -1]) > 0:
                    yK = float(np.mean(cum[:, -1]))
                    kr = np.array([max(1.0, K / 100.0), float(K)])
                    ax.plot(kr, yK * (kr / K) ** th, **overlay_style(color(i)))
                rows.append((i, r.config.learner.label, ln, (a, alo, ahi), th))
            drawn.append(rows)
            ax.set_yscale("log")
            _episodes_log_axis(ax)
            ax.set_title(mdp_label)
        _label_outer(grid, len(panels), "episodes $k$", r"$\mathrm{Regret}(k)$")
        # the theorem's exponent: in the legend when every panel agrees (to the printed digits)
        th_by = {}
        for rows in drawn:
            for i, _, _, _, th in rows:
                th_by.setdefault(i, set()).add("n/a" if math.isnan(th) else f"{th:.2f}")
        th_common = {i: next(iter(v)) for i, v in th_by.items() if len(v) == 1}
        entries = {}
        for rows in drawn:
            for i, lab, ln, _, _ in rows:
                tc = th_common.get(i)
                entries.setdefault(i, (lab + (f" (theory {tc})" if tc not in (None, "n/a") else ""), ln))
        fig.tight_layout()
        pct = f"{100 * level:g}%"
        per_panel = [[(i, f, None if i in th_common else ("n/a" if math.isnan(th) else f"{th:.2f}"))
                      for i, _, _, f, th in rows] for rows in drawn]
        note = _exponents(fig, list(grid.ravel()[:len(panels)]), per_panel, entries, rf"$\hat\alpha$ [{pct} CI]",
                          r"$\hat\alpha$")
        extra = [("theorem's rate (dotted), ending at Regret($K$)", _proxy(**overlay_style()))]
        _shared_legend(fig, entries, _band_label(band, level, max(r.n_seeds for pr in panels for r in pr[1]))
                       + r"; $\hat\alpha$: exponent fitted on $[K/10, K]$" + note, extra)
    return fig


def _sparse_indices(ks: np.ndarray, i: int, n: int = 7) -> np.ndarray:
    """About ``n`` indices of ``ks`` evenly spread in log k, shifted per curve ``i``."""
    lk = np.log(ks.astype(float))
    span = lk[-1] - lk[0]
    if span <= 0:
        return np.array([len(ks) - 1])
    start = (((3 * i) % 8) / 8.0) / n
    targets = lk[0] + span * ((start + np.arange(n) / n + 0.5 / n) % 1.0)
    idx = np.unique(np.abs(lk[None, :] - targets[:, None]).argmin(axis=1))
    return idx


def ratio_figure(results: Results, *, band: str | None = None, level: float | None = None, size: str | None = None):
    """Regret(k) / bound(k) on log-log axes, with the learner's RAW bound (never capped).
    Hollow markers: the bound is vacuous there (bound >= trivial cap H k, k under N2);
    filled markers: it is not. Learners without a bound are left out of the panel. The y
    range covers the drawn curves (a decade of margin at most)."""
    o = results.study.outputs
    band, level = band or o.band, o.level if level is None else level
    with paper_style():
        panels, fig, grid, sty = _setup(results, size)
        entries: dict[int, tuple[str, object]] = {}
        any_vac = any_ok = False
        norms: set[str] = set()
        for ax, (mdp_label, rs) in zip(grid.ravel(), panels):
            ys, with_bound = [], 0
            for r in rs:
                K = r.config.episodes
                ks = log_grid(K, _N_POINTS)
                B, bobj = configuration_bound(r.config, ks.astype(np.float64), results.study.delta)
                if bobj is None or not np.all(np.isfinite(B)) or np.any(B <= 0):
                    continue
                with_bound += 1
                cap = np.broadcast_to(np.asarray(np.nan if bobj.trivial_cap is None else bobj.trivial_cap,
                                                 dtype=np.float64), ks.shape)
                vac = B >= cap
                X = r.cumulative()[:, ks - 1] / B
                mid, lo, hi = _band(X, band, level, o.bootstrap)
                pos = np.isfinite(mid) & (mid > 0)  # no regret yet: no point on a log axis
                if not np.any(pos):
                    continue
                i = sty[r.config.learner.label]
                kp, mp, vp = ks[pos], mid[pos], vac[pos]
                idx = _sparse_indices(kp, i)
                kw = curve_style(i)
                kw.pop("markevery")
                tag = "" if getattr(bobj, "explicit_constants", True) else " (rate, constants 1)"
                (ln,) = ax.plot(kp, mp, label=r.config.learner.label + tag,
                                markevery=[int(j) for j in idx if not vp[j]], **kw)
                hol = [int(j) for j in idx if vp[j]]
                if hol:
                    hollow = dict(kw, ls="none", markerfacecolor="white")
                    ax.plot(kp, mp, markevery=hol, label="_" + r.config.learner.label, gid=VACUOUS_GID, **hollow)
                norms.add("N2" if bobj.normalization == "N2" else "HK")
                any_vac |= bool(hol)
                any_ok |= len(hol) < len(idx)
                okb = (lo > 0) & (hi > 0)
                ax.fill_between(ks[okb], lo[okb], hi[okb], color=color(i), alpha=0.2, lw=0)
                entries.setdefault(i, (r.config.learner.label + tag, ln))
                ys.append(mp)
            ax.set_yscale("log")  # ratios to bounds with theory constants span decades
            _episodes_log_axis(ax)
            ax.set_title(mdp_label)
            y = np.concatenate(ys) if ys else np.zeros(0)
            if y.size:
                lo_d, hi_d = math.floor(math.log10(y.min()) - 0.05), math.ceil(math.log10(y.max()) + 0.05)
                ax.set_ylim(10.0 ** lo_d, 10.0 ** hi_d)
            else:
                ax.text(0.5, 0.5, "no regret yet" if with_bound else "no learner with a bound", ha="center",
                        va="center", transform=ax.transAxes)
        _label_outer(grid, len(panels), "episodes $k$", r"$\mathrm{Regret}(k)\,/\,\mathrm{bound}(k)$")
        extra = []
        if any_ok:
            extra.append(("filled: bound < trivial cap", _proxy(color="0.35", marker="o", ls="none", ms=3.0)))
        if any_vac:
            cap_txt = {"HK": "$Hk$", "N2": "$k$ (N2)"}
            extra.append((f"hollow: bound $\\geq$ trivial cap {' or '.join(cap_txt[n] for n in sorted(norms))} (vacuous)",
                          _proxy(color="0.35", marker="o", ls="none", ms=3.0, markerfacecolor="white")))
        _shared_legend(fig, entries, _band_label(band, level, max(r.n_seeds for pr in panels for r in pr[1]))
                       + "; raw bound (not capped)", extra)
    return fig


def scaling_figure(results: Results, *, axes_names=None, level: float | None = None, size: str | None = None):
    """Regret(K) against S, A and/or H (log-log), one panel per axis with at least one fit.

    Markers: mean Regret(K) over seeds with its bootstrap CI, one (colour, marker) per
    learner (and per family / fixed sizes when one learner has several groups); thin solid
    line: the fitted power law; dotted line: the theorem's exponent (slope of the bound's
    leading term over the same grid at large K), through the largest size. A table in a
    panel corner gives every group's fitted exponent [CI] and the theorem's; one legend
    below the panels.
    """
    o = results.study.outputs
    level = o.level if level is None else level
    names = tuple(axes_names or o.scaling or ("S",))
    fits_by_axis = [(a, scaling_fits(results, a, level=level)) for a in names]
    fits_by_axis = [(a, f) for a, f in fits_by_axis if f]
    if not fits_by_axis:
        raise ValueError(f"{results.root}: no group of configurations varies only in {names}; nothing to scale")
    learner_idx = _learner_styles(results)

    def series(f, fits):
        """Legend label of a fit: the learner, plus family and fixed sizes when the learner
        has several groups in this panel."""
        if sum(g.learner == f.learner for g in fits) == 1:
            return f.learner
        fixed = ", ".join(f"{k}={v}" for k, v in f.fixed.items())
        return f"{f.learner} [{f.family}, {fixed}]"

    sty = dict(learner_idx)
    for _, fits in fits_by_axis:
        for f in fits:
            sty.setdefault(series(f, fits), len(sty))
    pct = f"{100 * level:g}%"
    with paper_style():
        fig, grid = _grid_figure(len(fits_by_axis), size or o.size)
        entries: dict[int, tuple[str, object]] = {}
        per_panel = []
        for ax, (a, fits) in zip(grid.ravel(), fits_by_axis):
            rows = []
            for f in fits:
                s = series(f, fits)
                i = sty[s]
                m, lo, hi = bootstrap_mean_ci(f.final, level=level, n_boot=o.bootstrap, seed=0)
                yerr = np.vstack([m - lo, hi - m]) if np.all(np.isfinite(lo)) else None  # no CI from one seed
                cont = ax.errorbar(f.x, m, yerr=yerr, color=color(i), marker=marker(i), ls="none", capsize=1.5,
                                   markersize=3.5, label=s)
                entries.setdefault(i, (s, cont))
                if not math.isnan(f.exponent) and np.all(m > 0):
                    c = math.exp(np.mean(np.log(m)) - f.exponent * np.mean(np.log(f.x)))
                    xx = np.geomspace(f.x.min(), f.x.max(), 20)
                    ax.plot(xx, c * xx**f.exponent, color=color(i), ls="-", lw=0.8)
                if not math.isnan(f.theory_exponent) and m[-1] > 0:
                    xr = np.array([f.x.min(), f.x.max()])
                    ax.plot(xr, m[-1] * (xr / f.x.max()) ** f.theory_exponent, **overlay_style(color(i)))
                th = "n/a" if math.isnan(f.theory_exponent) else f"{f.theory_exponent:.2f}"
                rows.append((i, (f.exponent, f.exponent_lo, f.exponent_hi), th))
            per_panel.append(rows)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(f"${a}$")
            ax.set_ylabel(r"$\mathrm{Regret}(K)$")
            _log_ticks(ax, "x", np.concatenate([f.x for f in fits]))
            groups = {(f.family, tuple(f.fixed.items())) for f in fits}
            sub = ""
            if len(groups) == 1:
                fam, fixed = next(iter(groups))
                sub = "\n" + ", ".join([fam] + [f"${k}$={v}" for k, v in fixed])
            ax.set_title(f"Regret($K$) vs ${a}$" + sub)
        fig.tight_layout()
        axes = list(grid.ravel()[:len(fits_by_axis)])
        note = _exponents(fig, axes, per_panel, entries, f"fitted exponent [{pct} CI]", "fitted exponent")
        extra = [("fitted power law", _proxy(color="0.35", ls="-", lw=0.8)),
                 ("theorem's exponent (dotted), through the largest size", _proxy(**overlay_style()))]
        _shared_legend(fig, entries, f"mean Regret($K$), {pct} bootstrap CI" + note, extra)
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

"""Study: exact dynamic regret on the bidirectional combination lock (issue 13).

Mao, Zhang, Zhu, Simchi-Levi & Başar's benchmark (H = 5, S = 10, A = 2; Appendix J of the
journal version): the endpoint rewards 1 and 0.25 swap every 1000 episodes ("abrupt"), or the
start state's chain probability moves from 0.98 to 0.02 over the run ("gradual"). Every
number below is the exact dynamic pseudo-regret sum_k V^{k,*} - V^{k,pi_k} on episode k's own
model (mdptheory.regret.nonstationary.run_nonstationary), not "H minus the return".

Figures (written to --out, default ``results/nonstationary``, PDF + PNG):

1. ``per_episode_regret`` -- mean per-episode dynamic regret (moving average over 25 episodes)
   on both locks, K = 5000, with the swaps marked: restart learners vs the same learners
   without forgetting (RestartQ-UCB with one epoch = stage-based Q-UCB; UCBVI with empirical
   rewards and no restart), the theorem's restart schedule and the paper's (every 1000);
2. ``cumulative_regret`` -- the cumulative dynamic regret of the same runs (10-90% band);
3. ``regret_vs_K`` -- Regret(K) at a fixed variation budget (abrupt: 4 swaps at K/5, 2K/5,
   ...; gradual: the fixed drift) for K = 2500..80000 (log-log), the fitted exponent with a
   95% seed-bootstrap interval next to the theorem's 2/3.

``summary.json`` holds the plotted numbers; ``summary.md`` the tables.

Usage::

    MPLBACKEND=Agg python experiments/nonstationary.py --out results/nonstationary
    python experiments/nonstationary.py --quick      # smoke run (small K, 2 seeds)
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from mdptheory.envs.nonstationary import bidirectional_combination_lock  # noqa: E402
from mdptheory.learners import OptimisticQLearning  # noqa: E402
from mdptheory.learners.restart_q_ucb import RestartQUCB  # noqa: E402
from mdptheory.learners.restart_ucbvi import RestartUCBVI  # noqa: E402
from mdptheory.learners.sliding_window_ucbvi import SlidingWindowUCBVI  # noqa: E402
from mdptheory.plots.style import curve_style, figure, overlay_style, paper_style, save  # noqa: E402
from mdptheory.regret.analysis import fit_power_law  # noqa: E402
from mdptheory.regret.nonstationary import run_nonstationary  # noqa: E402

H = 5
Q_SCALE = 0.05      # the replication package's Hoeffding constant 0.05 sqrt(H^2 / n) (times sqrt(iota) here)
V_SCALE = 0.003     # UCBVI-CH bonus 7 H L / sqrt(n) scaled to a comparable size on this instance


def learners(K, period):
    """(label, factory, restarts?) for the K = 5000 comparison; 'period' restarts at the swaps."""
    D = max(1, K // period)
    return [
        ("RestartQ-UCB (theory D)", lambda: RestartQUCB(bonus_scale=Q_SCALE), True),
        (f"RestartQ-UCB (every {period})", lambda: RestartQUCB(epochs=D, bonus_scale=Q_SCALE), True),
        ("Q-UCB, no restart", lambda: RestartQUCB(epochs=1, bonus_scale=Q_SCALE), False),
        ("RestartQ-UCB (theory D, theory bonus)", lambda: RestartQUCB(), True),
        ("RestartUCBVI (theory W)", lambda: RestartUCBVI(bonus_scale=V_SCALE), True),
        (f"RestartUCBVI (every {period})", lambda: RestartUCBVI(window=period, bonus_scale=V_SCALE), True),
        ("UCBVI, no restart", lambda: RestartUCBVI(window=math.inf, bonus_scale=V_SCALE), False),
        (f"SlidingWindowUCBVI (W = {period})", lambda: SlidingWindowUCBVI(window=period, bonus_scale=V_SCALE), True),
        ("OptQL-Hoeffding (stationary)", lambda: OptimisticQLearning(bonus_scale=Q_SCALE), False),
    ]


PLOTTED = (0, 1, 2, 5, 6)          # indices of learners() drawn in figures 1-2


def _public(path):
    """Figures readable by everyone (the atomic writer creates them 0600)."""
    path.chmod(0o644)
    return path


def smooth(x, w=25):
    w = min(w, len(x))
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.empty_like(x)
    out[w - 1:] = (c[w:] - c[:-w]) / w
    out[:w - 1] = c[1:w] / np.arange(1, w)
    return out


def comparison(K, period, seeds, levels):
    locks = {"abrupt": bidirectional_combination_lock(H, "abrupt", K, period=period),
             "gradual": bidirectional_combination_lock(H, "gradual", K, levels=levels)}
    out = {}
    for name, ns in locks.items():
        v = ns.variation()
        res = {}
        for label, make, _ in learners(K, period):
            L = make()
            tr = run_nonstationary(L, ns, K, seeds, progress=False)
            cum = tr.cumulative()
            res[label] = {"trace": tr, "cum": cum,
                          "schedule": getattr(L, "epoch_length", None) or getattr(L, "window_length", None)}
        out[name] = {"ns": ns, "variation": v, "runs": res}
    return out


def regret_vs_K(Ks, seeds, levels):
    """Regret(K) at a fixed budget: abrupt with 4 swaps at multiples of K/5; gradual drift."""
    sweep = {
        "RestartQ-UCB (theory D)": lambda: RestartQUCB(bonus_scale=Q_SCALE),
        "Q-UCB, no restart": lambda: RestartQUCB(epochs=1, bonus_scale=Q_SCALE),
        "RestartUCBVI (theory W)": lambda: RestartUCBVI(bonus_scale=V_SCALE),
        "UCBVI, no restart": lambda: RestartUCBVI(window=math.inf, bonus_scale=V_SCALE),
    }
    out = {}
    for lock in ("abrupt", "gradual"):
        rows = {}
        for label, make in sweep.items():
            Y = np.empty((seeds, len(Ks)))
            sched = []
            for j, K in enumerate(Ks):
                ns = (bidirectional_combination_lock(H, "abrupt", K, period=K // 5) if lock == "abrupt"
                      else bidirectional_combination_lock(H, "gradual", K, levels=levels))
                L = make()
                tr = run_nonstationary(L, ns, K, seeds, progress=False, measures=False)
                Y[:, j] = tr.cumulative()[:, -1]
                sched.append(getattr(L, "epoch_length", None) or getattr(L, "window_length", None))
            fit = fit_power_law(np.asarray(Ks, dtype=float), Y, n_boot=1000, seed=0)
            rows[label] = {"Y": Y, "fit": fit, "schedule": sched}
        out[lock] = rows
    return out


def fig_per_episode(comp, out, period):
    with paper_style():
        fig, axes = figure("two-column", 1, 2)
        for ax, (lock, c) in zip(axes[0], comp.items()):
            labels = list(c["runs"])
            for i in PLOTTED:
                lab = labels[i]
                mean = c["runs"][lab]["trace"].pseudo_regret.mean(axis=0)
                kw = curve_style(i)
                if i == 0:                             # short epochs: drawn thin, behind the others
                    kw.update(lw=0.5, alpha=0.6, zorder=0)
                ax.plot(np.arange(1, len(mean) + 1), smooth(mean), label=lab, **kw)
            K = len(mean)
            if lock == "abrupt":
                for b in range(period, K, period):
                    ax.axvline(b, **overlay_style())
            ax.set_title(f"{lock} lock (H = {H}, S = {2 * H}), Delta = {c['variation'].delta:.3g}")
            ax.set_xlabel("episode k")
            ax.set_ylabel("dynamic regret of episode k")
        handles, labs = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labs, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3)
        return [_public(p) for p in save(fig, out / "per_episode_regret")]


def fig_cumulative(comp, out):
    with paper_style():
        fig, axes = figure("two-column", 1, 2)
        for ax, (lock, c) in zip(axes[0], comp.items()):
            labels = list(c["runs"])
            for i in PLOTTED:
                lab = labels[i]
                cum = c["runs"][lab]["cum"]
                k = np.arange(1, cum.shape[1] + 1)
                step = max(1, cum.shape[1] // 500)     # 500 points per curve keep the PDF small
                cum, k = cum[:, step - 1::step], k[step - 1::step]
                ax.plot(k, cum.mean(axis=0), label=lab, **curve_style(i))
                lo, hi = np.quantile(cum, [0.1, 0.9], axis=0)
                ax.fill_between(k, lo, hi, color=curve_style(i)["color"], alpha=0.15, lw=0)
            ax.set_title(f"{lock} lock")
            ax.set_xlabel("episode k")
            ax.set_ylabel("cumulative dynamic regret")
        handles, labs = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labs, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3)
        return [_public(p) for p in save(fig, out / "cumulative_regret")]


def fig_vs_K(sweep, Ks, out):
    with paper_style():
        fig, axes = figure("two-column", 1, 2)
        for ax, (lock, rows) in zip(axes[0], sweep.items()):
            for i, (lab, r) in enumerate(rows.items()):
                f = r["fit"]
                ax.loglog(Ks, r["Y"].mean(axis=0), label=f"{lab}: {f.exponent:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}]",
                          **{**curve_style(i), "markevery": 1})
            y0 = next(iter(rows.values()))["Y"].mean(axis=0)[0]
            ax.loglog(Ks, y0 * (np.asarray(Ks) / Ks[0]) ** (2 / 3), label="slope 2/3 (theorem)", **overlay_style())
            ax.set_xticks(Ks)
            ax.set_xticklabels([f"{k / 1000:g}k" for k in Ks])
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_title(f"{lock} lock, fixed variation budget")
            ax.set_xlabel("episodes K")
            ax.set_ylabel("Regret(K)")
            ax.legend(loc="upper left", fontsize=5.5)
        return [_public(p) for p in save(fig, out / "regret_vs_K")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="results/nonstationary")
    ap.add_argument("--quick", action="store_true", help="small K and 2 seeds (smoke run)")
    ap.add_argument("--seeds", type=int, default=None)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.quick:
        K, period, seeds, levels, Ks = 1200, 300, args.seeds or 2, 25, [600, 1200, 2400]
    else:
        K, period, seeds, levels, Ks = 5000, 1000, args.seeds or 10, 101, [2500, 5000, 10000, 20000, 40000, 80000]
    comp = comparison(K, period, seeds, levels)
    sweep = regret_vs_K(Ks, seeds, levels)
    fig_per_episode(comp, out, period)
    fig_cumulative(comp, out)
    fig_vs_K(sweep, Ks, out)

    summary = {"K": K, "period": period, "seeds": seeds, "H": H, "S": 2 * H, "A": 2, "levels": levels,
               "bonus_scales": {"Q": Q_SCALE, "UCBVI": V_SCALE}, "theory_exponent": 2 / 3, "Ks": Ks,
               "final_regret": {}, "after_first_switch": {}, "exponent_vs_K": {}, "variation": {}}
    lines = [f"# Dynamic regret on the bidirectional combination lock (H = {H}, S = {2 * H}, A = 2)", "",
             f"K = {K}, swaps every {period} episodes (abrupt) / drift 0.98 -> 0.02 in {levels} levels (gradual), "
             f"{seeds} seeds; exact dynamic pseudo-regret; mean [min, max] over seeds.", ""]
    for lock, c in comp.items():
        v = c["variation"]
        summary["variation"][lock] = {"delta_r": v.delta_r, "delta_p": v.delta_p, "delta": v.delta}
        lines += [f"## {lock} lock: Delta_r = {v.delta_r:.4g}, Delta_p = {v.delta_p:.4g}", "",
                  f"| learner | restart / window | Regret(K) | after episode {period} | per episode, last 10% |",
                  "|---|---|---|---|---|"]
        rows, after = {}, {}
        for lab, r in c["runs"].items():
            cum, tr = r["cum"], r["trace"]
            fin = cum[:, -1]
            a = fin - cum[:, period - 1]
            last = tr.pseudo_regret[:, -K // 10:].mean()
            rows[lab] = {"regret_mean": float(fin.mean()), "regret_min": float(fin.min()), "regret_max": float(fin.max()),
                         "after_first_switch": float(a.mean()), "last_decile_per_episode": float(last),
                         "schedule": r["schedule"] if r["schedule"] is None or math.isfinite(r["schedule"]) else "inf",
                         "wall_time": tr.wall_time}
            sched = r["schedule"]
            lines.append(f"| {lab} | {sched} | {fin.mean():.1f} [{fin.min():.1f}, {fin.max():.1f}] | {a.mean():.1f} | "
                         f"{last:.3f} |")
        summary["final_regret"][lock] = rows
        lines.append("")
    lines += ["## Regret(K) at a fixed budget: fitted exponent [95% bootstrap CI] (theorem: 2/3)", "",
              "| lock | learner | " + " | ".join(f"K={k}" for k in Ks) + " | exponent |",
              "|---|---|" + "---|" * len(Ks) + "---|"]
    for lock, rows in sweep.items():
        for lab, r in rows.items():
            f = r["fit"]
            summary["exponent_vs_K"].setdefault(lab, {"exponent": f.exponent, "ci": [f.ci_low, f.ci_high]})
            summary["exponent_vs_K"][f"{lab} [{lock}]"] = {"exponent": f.exponent, "ci": [f.ci_low, f.ci_high],
                                                           "regret_mean": r["Y"].mean(axis=0).tolist(),
                                                           "schedule": [s if s is None or math.isfinite(s) else "inf"
                                                                        for s in r["schedule"]]}
            lines.append(f"| {lock} | {lab} | " + " | ".join(f"{y:.0f}" for y in r["Y"].mean(axis=0))
                         + f" | {f.exponent:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}] |")
    wall = time.perf_counter() - t0
    summary["wall_time"] = wall
    lines += ["", f"Run time: {wall:.0f} s."]
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return summary


if __name__ == "__main__":
    main()

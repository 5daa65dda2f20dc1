"""Study: exact dynamic regret of LSVI-UCB-Restart on a drifting linear MDP (issue 13, linear part).

The family ``drifting_linear_mdp`` (mdptheory.envs.nonstationary) after Zhou, Chen, Varshney &
Jagmohan's synthetic experiment: S = 15, A = 7, H = 5, d = 10, one-hot simplex features, 10
piecewise-constant blocks in which the rewarding chain latent moves (every model an exact linear
MDP). Every number is the exact dynamic pseudo-regret sum_k V^{k,*} - V^{k,pi_k} on episode k's
own model (mdptheory.regret.nonstationary.run_nonstationary), with the linear budgets
B_theta, B_mu and the tabular ones Delta_r, Delta_p of the sequence. Bonus: beta = c d H sqrt(iota)
with c = 0.001 (the authors' experiment constant; c = 1 is the theorem's unspecified constant,
kept in one row of the table).

Figures (written to --out, default ``results/nonstationary_linear``, PDF + PNG):

1. ``per_episode`` -- mean per-episode dynamic regret at the authors' size (K = 500, blocks of 50)
   and K = 5000 (blocks of 500), block switches marked: LSVI-UCB (no restart) vs LSVI-UCB-Restart
   with the derived restart period, the public code's period, and restarts at the switches;
2. ``cumulative`` -- the cumulative dynamic regret of the same runs (10-90% band over seeds);
3. ``regret_vs_K`` -- Regret(K) at a fixed budget (10 blocks whatever K) for K = 500..16000,
   log-log, fitted exponent [95% seed-bootstrap CI] next to the rate's 2/3;
4. ``window`` -- Regret(K = 2000) as a function of the restart period W, the rules marked.

``summary.json`` holds the plotted numbers; ``summary.md`` the tables and what is (not) shown.

Usage::

    MPLBACKEND=Agg python experiments/nonstationary_linear.py --out results/nonstationary_linear
    python experiments/nonstationary_linear.py --quick      # smoke run (small K, 2 seeds)
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

from mdptheory.envs.nonstationary import drifting_linear_mdp  # noqa: E402
from mdptheory.learners.lsvi_ucb import LSVIUCB  # noqa: E402
from mdptheory.learners.lsvi_ucb_restart import LSVIUCBRestart, restart_period  # noqa: E402
from mdptheory.plots.style import curve_style, figure, overlay_style, paper_style, save  # noqa: E402
from mdptheory.regret.analysis import fit_power_law  # noqa: E402
from mdptheory.regret.nonstationary import run_nonstationary  # noqa: E402

S, A, H, D = 15, 7, 5, 10
SPEED = 10          # blocks per run (Zhou et al.'s "speed 10")
BONUS = 0.001       # c of beta = c d H sqrt(iota) in the authors' experiment


def family(K):
    return drifting_linear_mdp(S, A, H, D, K, speed=SPEED, seed=0)


def learners(K):
    """(label, factory) of the comparison; the first is LSVI-UCB's own class (teaching path)."""
    block = K // SPEED
    return [
        ("LSVI-UCB (no restart)", lambda: LSVIUCB(bonus_scale=BONUS, rewards="observed")),
        ("Restart, derived W", lambda: LSVIUCBRestart(bonus_scale=BONUS)),
        ("Restart, public-code W", lambda: LSVIUCBRestart(bonus_scale=BONUS, window_rule="public_code")),
        ("Restart at the switches (W = K/10)", lambda: LSVIUCBRestart(window=block, bonus_scale=BONUS)),
        ("Restart, derived W, theory bonus (c = 1)", lambda: LSVIUCBRestart()),
    ]


PLOTTED = (0, 1, 2, 3)


def _public(path):
    path.chmod(0o644)
    return path


def smooth(x, w):
    w = max(1, min(w, len(x)))
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.empty_like(x)
    out[w - 1:] = (c[w:] - c[:-w]) / w
    out[:w - 1] = c[1:w] / np.arange(1, w)
    return out


def _window(L):
    W = L.window_length if hasattr(L, "window_length") else math.inf
    return "inf" if not math.isfinite(W) else int(W)


def comparison(K, seeds):
    ns = family(K)
    v = ns.variation()
    runs = {}
    for label, make in learners(K):
        L = make()
        tr = run_nonstationary(L, ns, K, seeds, progress=False)
        runs[label] = {"trace": tr, "cum": tr.cumulative(), "window": _window(L)}
    # LSVI-UCB's own class (teaching path, it has no non-stationary loop) equals the restart
    # learner with W = inf on the same path bit for bit
    same = run_nonstationary(LSVIUCBRestart(window=math.inf, bonus_scale=BONUS), ns, K, seeds, progress=False,
                             backend="python")
    first = runs[learners(K)[0][0]]["trace"]
    identical = bool(np.array_equal(same.returns, first.returns) and np.array_equal(same.pseudo_regret,
                                                                                      first.pseudo_regret))
    return {"ns": ns, "variation": v, "runs": runs, "no_restart_identical": identical}


def regret_vs_K(Ks, seeds):
    sweep = {
        "Restart, derived W": lambda K: LSVIUCBRestart(bonus_scale=BONUS),
        "Restart, public-code W": lambda K: LSVIUCBRestart(bonus_scale=BONUS, window_rule="public_code"),
        "Restart at the switches (W = K/10)": lambda K: LSVIUCBRestart(window=K // SPEED, bonus_scale=BONUS),
        "LSVI-UCB (no restart)": lambda K: LSVIUCBRestart(window=math.inf, bonus_scale=BONUS),
    }
    rows, budgets = {}, []
    for label, make in sweep.items():
        Y = np.empty((seeds, len(Ks)))
        wins = []
        for j, K in enumerate(Ks):
            ns = family(K)
            if label == next(iter(sweep)):
                budgets.append(ns.variation().b)
            L = make(K)
            tr = run_nonstationary(L, ns, K, seeds, progress=False, measures=False)
            Y[:, j] = tr.cumulative()[:, -1]
            wins.append(_window(L))
        fit = fit_power_law(np.asarray(Ks, dtype=float), Y, n_boot=1000, seed=0)
        rows[label] = {"Y": Y, "fit": fit, "window": wins}
    return rows, budgets


def window_sweep(K, Ws, seeds):
    ns = family(K)
    Y = np.empty((seeds, len(Ws)))
    for j, W in enumerate(Ws):
        tr = run_nonstationary(LSVIUCBRestart(window=W, bonus_scale=BONUS), ns, K, seeds, progress=False,
                               measures=False)
        Y[:, j] = tr.cumulative()[:, -1]
    b = ns.variation().b
    marks = {rule: restart_period(D, H, K, b, rule) for rule in ("derived", "public_code", "public_code_alt")}
    marks["block"] = K // SPEED
    return {"K": K, "W": Ws, "Y": Y, "marks": marks, "b": b}


def fig_per_episode(comps, out):
    with paper_style():
        fig, axes = figure("two-column", 1, len(comps))
        for ax, (K, c) in zip(axes[0], comps.items()):
            labels = list(c["runs"])
            for i in PLOTTED:
                mean = c["runs"][labels[i]]["trace"].pseudo_regret.mean(axis=0)
                ax.plot(np.arange(1, K + 1), smooth(mean, max(1, K // 100)), label=labels[i],
                        **{**curve_style(i), "markevery": max(1, K // 10)})
            for b in range(1, SPEED):
                ax.axvline(b * K // SPEED, **overlay_style())
            ax.set_title(f"K = {K}, {SPEED} blocks, B = {c['variation'].b:.3g}")
            ax.set_xlabel("episode k")
            ax.set_ylabel("dynamic regret of episode k")
        handles, labs = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, [f"{x} " for x in labs], loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
        return [_public(p) for p in save(fig, out / "per_episode")]


def fig_cumulative(comps, out):
    with paper_style():
        fig, axes = figure("two-column", 1, len(comps))
        for ax, (K, c) in zip(axes[0], comps.items()):
            labels = list(c["runs"])
            for i in PLOTTED:
                cum = c["runs"][labels[i]]["cum"]
                k = np.arange(1, K + 1)
                ax.plot(k, cum.mean(axis=0), label=labels[i], **{**curve_style(i), "markevery": max(1, K // 10)})
                lo, hi = np.quantile(cum, [0.1, 0.9], axis=0)
                ax.fill_between(k, lo, hi, color=curve_style(i)["color"], alpha=0.15, lw=0)
            ax.set_title(f"K = {K}")
            ax.set_xlabel("episode k")
            ax.set_ylabel("cumulative dynamic regret")
        handles, labs = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labs, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
        return [_public(p) for p in save(fig, out / "cumulative")]


def fig_vs_K(rows, Ks, out):
    with paper_style():
        fig, axes = figure("one-column", 1, 1)
        ax = axes[0][0]
        for i, (lab, r) in enumerate(rows.items()):
            f = r["fit"]
            ax.loglog(Ks, r["Y"].mean(axis=0), label=f"{lab}: {f.exponent:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}]",
                      **{**curve_style(i), "markevery": 1})
        y0 = next(iter(rows.values()))["Y"].mean(axis=0)[0]
        ax.loglog(Ks, y0 * (np.asarray(Ks) / Ks[0]) ** (2 / 3), label="slope 2/3 (rate)", **overlay_style())
        ax.set_xticks(Ks)
        ax.set_xticklabels([f"{k / 1000:g}k" for k in Ks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(f"fixed budget ({SPEED} blocks), S={S}, A={A}, H={H}, d={D}")
        ax.set_xlabel("episodes K")
        ax.set_ylabel("Regret(K)")
        ax.legend(loc="upper left", fontsize=5.5)
        return [_public(p) for p in save(fig, out / "regret_vs_K")]


def fig_window(ws, out):
    with paper_style():
        fig, axes = figure("one-column", 1, 1)
        ax = axes[0][0]
        W = np.asarray(ws["W"], dtype=float)
        Y = ws["Y"]
        ax.semilogx(W, Y.mean(axis=0), **{**curve_style(0), "markevery": 1}, label="LSVI-UCB-Restart")
        lo, hi = np.quantile(Y, [0.1, 0.9], axis=0)
        ax.fill_between(W, lo, hi, color=curve_style(0)["color"], alpha=0.15, lw=0)
        names = {"derived": "derived", "public_code": "public code", "public_code_alt": "public code (alt.)",
                 "block": "block length"}
        for j, (rule, w) in enumerate(ws["marks"].items()):
            ax.axvline(w, **{**overlay_style(), "ls": ("--", ":", "-.", "-")[j % 4]}, label=f"W {names[rule]} = {w}")
        ax.set_title(f"K = {ws['K']}, B = {ws['b']:.3g}")
        ax.set_xlabel("restart period W (episodes)")
        ax.set_ylabel("Regret(K)")
        ax.legend(loc="best", fontsize=5.5)
        return [_public(p) for p in save(fig, out / "window")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="results/nonstationary_linear")
    ap.add_argument("--quick", action="store_true", help="small K and 2 seeds (smoke run)")
    ap.add_argument("--seeds", type=int, default=None)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.quick:
        seeds, comp_K, Ks, KW, Ws = args.seeds or 2, (100, 200), [100, 200, 400], 200, [5, 20, 50, 200]
    else:
        seeds, comp_K = args.seeds or 16, (500, 5000)
        Ks, KW = [500, 1000, 2000, 4000, 8000, 16000], 2000
        Ws = [2, 5, 10, 20, 50, 100, 200, 400, 1000, 2000]
    comps = {K: comparison(K, seeds) for K in comp_K}
    rows, budgets = regret_vs_K(Ks, seeds)
    ws = window_sweep(KW, Ws, seeds)
    fig_per_episode(comps, out)
    fig_cumulative(comps, out)
    fig_vs_K(rows, Ks, out)
    fig_window(ws, out)

    summary = {"S": S, "A": A, "H": H, "d": D, "blocks": SPEED, "bonus_scale": BONUS, "seeds": seeds,
               "theory_exponent": 2 / 3, "Ks": Ks, "comparison": {}, "exponent_vs_K": {},
               "budget_vs_K": budgets, "window_sweep": {"K": KW, "W": Ws, "regret_mean": ws["Y"].mean(axis=0).tolist(),
                                                        "marks": ws["marks"], "b": ws["b"]}}
    lines = [f"# Dynamic regret on the drifting linear MDP (S = {S}, A = {A}, H = {H}, d = {D}, {SPEED} blocks)", "",
             f"{seeds} seeds; exact dynamic pseudo-regret; beta = c d H sqrt(iota) with c = {BONUS} unless stated; "
             "mean [min, max] over seeds.", ""]
    for K, c in comps.items():
        v = c["variation"]
        rows_c = {}
        lines += [f"## K = {K} (blocks of {K // SPEED}): B_theta = {v.b_theta:.4g}, B_mu = {v.b_mu:.4g}, "
                  f"Delta_r = {v.delta_r:.4g}, Delta_p = {v.delta_p:.4g}", "",
                  f"LSVI-UCB's own class and LSVI-UCB-Restart with W = inf (both teaching path): bit-identical = "
                  f"{c['no_restart_identical']}.", "",
                  "| learner | W | Regret(K) | per episode, first block | per episode, last half |",
                  "|---|---|---|---|---|"]
        for lab, r in c["runs"].items():
            fin = r["cum"][:, -1]
            pr = r["trace"].pseudo_regret
            b0 = float(pr[:, :K // SPEED].mean())
            late = float(pr[:, K // 2:].mean())
            rows_c[lab] = {"regret_mean": float(fin.mean()), "regret_min": float(fin.min()),
                           "regret_max": float(fin.max()), "first_block_per_episode": b0,
                           "last_half_per_episode": late, "window": r["window"], "wall_time": r["trace"].wall_time}
            lines.append(f"| {lab} | {r['window']} | {fin.mean():.1f} [{fin.min():.1f}, {fin.max():.1f}] | {b0:.3f} | "
                         f"{late:.3f} |")
        summary["comparison"][str(K)] = {"b_theta": v.b_theta, "b_mu": v.b_mu, "delta_r": v.delta_r,
                                         "delta_p": v.delta_p, "no_restart_identical": c["no_restart_identical"],
                                         "rows": rows_c}
        lines.append("")
    lines += [f"## Regret(K) at a fixed budget (B = {budgets[0]:.4g} for every K): fitted exponent [95% CI]", "",
              "| learner | W per K | " + " | ".join(f"K={k}" for k in Ks) + " | exponent |",
              "|---|---|" + "---|" * len(Ks) + "---|"]
    for lab, r in rows.items():
        f = r["fit"]
        summary["exponent_vs_K"][lab] = {"exponent": f.exponent, "ci": [f.ci_low, f.ci_high],
                                        "regret_mean": r["Y"].mean(axis=0).tolist(), "window": r["window"]}
        lines.append(f"| {lab} | {', '.join(str(w) for w in r['window'])} | "
                     + " | ".join(f"{y:.0f}" for y in r["Y"].mean(axis=0))
                     + f" | {f.exponent:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}] |")
    lines += ["", f"## Regret(K = {KW}) against the restart period W (B = {ws['b']:.4g})", "",
              "| W | " + " | ".join(str(w) for w in Ws) + " |", "|---|" + "---|" * len(Ws),
              "| Regret | " + " | ".join(f"{y:.0f}" for y in ws["Y"].mean(axis=0)) + " |", "",
              "Rules at this K: " + ", ".join(f"{k} = {w}" for k, w in ws["marks"].items()) + ".", "",
              "What this shows: the exact dynamic regret of each learner on this family; that forgetting at the "
              "switches removes the linear growth of LSVI-UCB after the first switch; how the restart period "
              "trades the per-epoch learning cost against stale data. What it does not show: the theorem's "
              "rate (an upper bound over all sequences with budget B, constants and logarithms unknown, "
              "vacuous at these sizes); the fitted exponents are those of this instance and these restart "
              "rules, not a test of 2/3 (with B fixed the derived W grows like K^(2/3), and K/W epochs each "
              "costing ~ sqrt(W), LSVI-UCB's static rate, already give K^(2/3): the schedule predicts that "
              "slope on this one sequence); the restart rules' W are reconstructions "
              "(proofs_notes/lsvi_ucb_restart.md)."]
    wall = time.perf_counter() - t0
    summary["wall_time"] = wall
    lines += ["", f"Run time: {wall:.0f} s."]
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return summary


if __name__ == "__main__":
    main()

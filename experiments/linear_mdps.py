"""Study: linear MDPs -- LSVI-UCB and LSVI-UCB++ with exact pseudo-regret.

Figures (written to --out, default ``results/linear_mdps``, as .pdf and .png):

1. ``linear_vs_tabular`` -- Regret(K) at fixed K vs the number of states S (d = 5, A = 5,
   H = 5, random linear MDPs, one instance per seed): LSVI-UCB (features, d fixed) against
   UCBVI-BF on the same tabular model, with the regret of the uniform policy (exact) for
   scale, and the same numbers as a fraction of the uniform policy's regret. Log-log slopes in
   S are fitted (seed bootstrap CI), over all S and over S <= 100 (before UCBVI-BF's regret
   reaches the uniform policy's at this K).
2. ``regret_vs_K`` -- cumulative regret vs K (log-log) of LSVI-UCB and LSVI-UCB++ in theory
   mode and with tuned constants on one stage-dependent random linear MDP, with the last-decade
   exponent [CI] next to the exponent of the theorems' rates (Jin et al. Theorem 3.1,
   He et al.), and the rates (constants 1) drawn for reference.
3. ``regret_vs_zeta`` -- LSVI-UCB on the misspecified family at distance exactly zeta from the
   nearest linear kernel: cumulative regret curves and the late per-episode regret (the slope
   of the linear-in-T term of Theorem 3.2) vs zeta with a least-squares line.

``summary.json`` and ``results.md`` hold the plotted numbers.

Usage::

    MPLBACKEND=Agg python experiments/linear_mdps.py --out results/linear_mdps
    python experiments/linear_mdps.py --quick        # a fast smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import mdptheory as mt  # noqa: E402
from mdptheory.envs.linear_mdp import misspecified_linear_mdp, random_linear_mdp  # noqa: E402
from mdptheory.learners.lsvi_ucb import LSVIUCB  # noqa: E402
from mdptheory.learners.lsvi_ucb_pp import LSVIUCBPlusPlus  # noqa: E402
from mdptheory.learners.ucbvi import UCBVI  # noqa: E402
from mdptheory.regret.analysis import fit_exponent, fit_power_law  # noqa: E402

CONFIG = {
    "full": dict(S_list=(10, 30, 100, 300, 1000), K_s=10_000, seeds_s=3, eval_s=10,
                 K_k=50_000, seeds_k=4, zetas=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5), K_z=20_000, seeds_z=4),
    "quick": dict(S_list=(10, 30), K_s=300, seeds_s=2, eval_s=5,
                  K_k=400, seeds_k=2, zetas=(0.0, 0.25, 0.5), K_z=300, seeds_z=2),
}
D, A, H = 5, 5, 5
TUNED_LSVI = 0.05
TUNED_UCBVI = 0.1


def _save(fig, out: Path, name: str):
    for ext in ("pdf", "png"):
        fig.savefig(out / f"{name}.{ext}", dpi=150, bbox_inches="tight")
    plt.close(fig)


def _fit_dict(fit):
    return {"exponent": fit.exponent, "ci_low": fit.ci_low, "ci_high": fit.ci_high}


def uniform_regret_per_episode(mdp) -> float:
    """V*_1 - V^unif_1 under the initial law, exactly."""
    tab = mdp.to_mdp()
    init = np.asarray(tab.initial)
    V = mt.evaluate(tab, np.full((tab.H, tab.S, tab.A), 1.0 / tab.A))
    return float(init @ (mt.solve(tab).V[0] - V[0]))


def study_states(cfg, out: Path):
    S_list, K, n, ev = cfg["S_list"], cfg["K_s"], cfg["seeds_s"], cfg["eval_s"]
    lsvi, ucbvi, unif = np.empty((n, len(S_list))), np.empty((n, len(S_list))), np.empty((n, len(S_list)))
    for j, S in enumerate(S_list):
        for i in range(n):
            lin = random_linear_mdp(S, A, D, horizon=H, seed=i)
            lsvi[i, j] = mt.run(LSVIUCB(bonus_scale=TUNED_LSVI), lin, K, [i], eval_every=ev,
                                measures=False).cumulative()[0, -1]
            ucbvi[i, j] = mt.run(UCBVI("bernstein", bonus_scale=TUNED_UCBVI), lin, K, [i], eval_every=ev,
                                 measures=False).cumulative()[0, -1]
            unif[i, j] = K * uniform_regret_per_episode(lin)
        print(f"  S={S}: LSVI-UCB {lsvi[:, j].mean():.0f}, UCBVI-BF {ucbvi[:, j].mean():.0f}, "
              f"uniform {unif[:, j].mean():.0f}", flush=True)
    x = np.array(S_list, dtype=float)
    fits = {name: fit_power_law(x, Y) for name, Y in (("LSVI-UCB", lsvi), ("UCBVI-BF", ucbvi), ("uniform", unif))}
    frac = {"LSVI-UCB": lsvi / unif, "UCBVI-BF": ucbvi / unif}
    ffits = {name: fit_power_law(x, Y) for name, Y in frac.items()}
    small = x <= 100            # before UCBVI-BF reaches the uniform policy's regret at this K
    sfits = {name: fit_power_law(x[small], Y[:, small]) for name, Y in frac.items()} if small.sum() >= 2 else {}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for name, Y, st in (("LSVI-UCB", lsvi, "o-"), ("UCBVI-BF", ucbvi, "s-"), ("uniform", unif, "k:")):
        f = fits[name]
        a1.errorbar(x, Y.mean(0), yerr=Y.std(0), fmt=st, capsize=2,
                    label=f"{name}: slope {f.exponent:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}]")
    for name, st in (("LSVI-UCB", "o-"), ("UCBVI-BF", "s-")):
        f = ffits[name]
        lab = f"{name}: slope {f.exponent:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}]"
        if name in sfits:
            g = sfits[name]
            lab += f"; S<=100: {g.exponent:.2f} [{g.ci_low:.2f}, {g.ci_high:.2f}]"
        a2.errorbar(x, frac[name].mean(0), yerr=frac[name].std(0), fmt=st, capsize=2, label=lab)
    a1.set(xscale="log", yscale="log", xlabel="S", ylabel=f"Regret(K={K})",
           title=f"d={D}, A={A}, H={H}, {n} instances")
    a2.set(xscale="log", yscale="log", xlabel="S", ylabel="Regret / uniform policy's regret")
    a1.legend(fontsize=7)
    a2.legend(fontsize=7)
    _save(fig, out, "linear_vs_tabular")
    return {"S": list(S_list), "K": K, "seeds": n, "eval_every": ev, "lsvi": lsvi.tolist(), "ucbvi": ucbvi.tolist(),
            "uniform": unif.tolist(), "fit": {k: _fit_dict(v) for k, v in fits.items()},
            "fit_fraction": {k: _fit_dict(v) for k, v in ffits.items()},
            "fit_fraction_S_le_100": {k: _fit_dict(v) for k, v in sfits.items()}}


def study_episodes(cfg, out: Path):
    K, n = cfg["K_k"], cfg["seeds_k"]
    lin = random_linear_mdp(20, 4, 4, horizon=4, seed=1, stage_dependent=True)
    learners = (("LSVI-UCB (theory)", LSVIUCB()), (f"LSVI-UCB (bonus {TUNED_LSVI})", LSVIUCB(bonus_scale=TUNED_LSVI)),
                ("LSVI-UCB++ (theory)", LSVIUCBPlusPlus()),
                ("LSVI-UCB++ (c=0.001, gamma=4)", LSVIUCBPlusPlus(c=0.001, gamma=4.0)))
    ks = np.arange(1, K + 1, dtype=float)
    res = {}
    fig, ax = plt.subplots(figsize=(6.2, 4.0))
    for j, (name, L) in enumerate(learners):
        tr = mt.run(L, lin, K, n, measures=False)
        C = tr.cumulative()
        fit = fit_exponent(C)
        b = L.bound(lin.S, lin.A, lin.H, np.array([K, 10.0 * K]))
        theory = float(np.log10(b.value[1] / b.value[0]))
        col = f"C{j}"
        ax.plot(ks, C.mean(0), color=col,
                label=f"{name}: {fit.exponent:.2f} [{fit.ci_low:.2f}, {fit.ci_high:.2f}] (rate {theory:.2f})")
        ax.fill_between(ks, np.quantile(C, 0.1, axis=0), np.quantile(C, 0.9, axis=0), color=col, alpha=0.2)
        res[name] = {"final": C[:, -1].tolist(), "exponent": _fit_dict(fit), "rate_exponent": theory,
                     "wall_time": tr.wall_time}
        print(f"  {name}: Regret(K) {C[:, -1].mean():.1f}, exponent {fit.exponent:.2f}", flush=True)
    for name, L, ls in (("Thm 3.1 rate", LSVIUCB(), "--"), ("He et al. rate", LSVIUCBPlusPlus(), ":")):
        L.prepare(lin, K)
        ax.plot(ks, L.bound(lin.S, lin.A, lin.H, ks).value, "k" + ls, lw=0.8, label=f"{name} (constants 1)")
    ax.plot(ks, ks * lin.H, color="0.6", lw=0.8, label="trivial H K")
    ax.set(xscale="log", yscale="log", xlabel="episodes K", ylabel="cumulative pseudo-regret",
           title=f"S={lin.S}, A={lin.A}, d={lin.d}, H={lin.H}, {n} seeds (10-90% band)")
    ax.set_ylim(1e-1, 10 * lin.H * K)
    ax.legend(fontsize=6.5, loc="upper left")
    _save(fig, out, "regret_vs_K")
    return {"K": K, "seeds": n, "learners": res}


def study_zeta(cfg, out: Path):
    K, n, zetas = cfg["K_z"], cfg["seeds_z"], cfg["zetas"]
    final, slope = np.empty((n, len(zetas))), np.empty((n, len(zetas)))
    ks = np.arange(1, K + 1)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for j, z in enumerate(zetas):
        f = misspecified_linear_mdp(20, 4, 4, 4, z, seed=0)
        tr = mt.run(LSVIUCB(bonus_scale=TUNED_LSVI), f, K, n, measures=False)
        C = tr.cumulative()
        final[:, j] = C[:, -1]
        slope[:, j] = tr.pseudo_regret[:, int(0.8 * K):].mean(axis=1)
        a1.plot(ks, C.mean(0), color=plt.cm.viridis(j / max(1, len(zetas) - 1)), label=f"zeta={z:g}")
        print(f"  zeta={z:g}: Regret(K) {final[:, j].mean():.1f}, late regret/episode {slope[:, j].mean():.4f}",
              flush=True)
    zs = np.array(zetas)
    m_, c_ = np.polyfit(zs, slope.mean(0), 1)
    pred = m_ * zs + c_
    r2 = 1.0 - np.sum((slope.mean(0) - pred) ** 2) / max(np.sum((slope.mean(0) - slope.mean(0).mean()) ** 2), 1e-300)
    a1.set(xlabel="episodes", ylabel="cumulative pseudo-regret", title=f"LSVI-UCB (bonus {TUNED_LSVI}), {n} seeds")
    a1.legend(fontsize=7)
    a2.errorbar(zs, slope.mean(0), yerr=slope.std(0), fmt="o", capsize=2, label="mean over the last 20% of episodes")
    a2.plot(zs, pred, "k--", lw=0.8, label=f"least squares: {m_:.3f} zeta + {c_:.4f} (R^2 = {r2:.2f})")
    a2.set(xlabel="zeta (distance to the nearest linear kernel)", ylabel="late pseudo-regret per episode",
           title="S=20, A=4, d=4, H=4 (misspecified family)")
    a2.legend(fontsize=7)
    _save(fig, out, "regret_vs_zeta")
    return {"K": K, "seeds": n, "zeta": list(zetas), "final": final.tolist(), "late_per_episode": slope.tolist(),
            "line": {"slope": m_, "intercept": c_, "r2": r2}}


def write_md(summary, out: Path):
    s, k, z = summary["states"], summary["episodes"], summary["zeta"]
    lines = [f"# Linear MDPs study ({summary['mode']}, {summary['seconds']:.0f} s)", "",
             f"## Regret(K = {s['K']}) vs S (d = {D}, A = {A}, H = {H}, mean over {s['seeds']} instances, "
             f"evaluated every {s['eval_every']} episodes)", "",
             "| S | LSVI-UCB | UCBVI-BF | uniform | LSVI / uniform | UCBVI / uniform |", "|---|---|---|---|---|---|"]
    L, U, N = np.array(s["lsvi"]), np.array(s["ucbvi"]), np.array(s["uniform"])
    for j, S in enumerate(s["S"]):
        lines.append(f"| {S} | {L[:, j].mean():.0f} | {U[:, j].mean():.0f} | {N[:, j].mean():.0f} | "
                     f"{(L / N)[:, j].mean():.3f} | {(U / N)[:, j].mean():.3f} |")
    lines += ["", "Fitted slopes in S: " + ", ".join(
        f"{n_} {v['exponent']:.2f} [{v['ci_low']:.2f}, {v['ci_high']:.2f}]" for n_, v in s["fit"].items())
        + "; as a fraction of uniform: " + ", ".join(
        f"{n_} {v['exponent']:.2f} [{v['ci_low']:.2f}, {v['ci_high']:.2f}]" for n_, v in s["fit_fraction"].items())
        + "; the same for S <= 100: " + ", ".join(
        f"{n_} {v['exponent']:.2f} [{v['ci_low']:.2f}, {v['ci_high']:.2f}]"
        for n_, v in s["fit_fraction_S_le_100"].items()),
        "", f"## Regret vs K (K = {k['K']}, {k['seeds']} seeds)", "",
        "| learner | Regret(K) | exponent [CI] | rate exponent | wall time (s) |", "|---|---|---|---|---|"]
    for name, v in k["learners"].items():
        e = v["exponent"]
        lines.append(f"| {name} | {np.mean(v['final']):.1f} | {e['exponent']:.2f} [{e['ci_low']:.2f}, "
                     f"{e['ci_high']:.2f}] | {v['rate_exponent']:.2f} | {v['wall_time']:.1f} |")
    lines += ["", f"## Regret vs zeta (K = {z['K']}, {z['seeds']} seeds)", "",
              "| zeta | Regret(K) | late regret per episode |", "|---|---|---|"]
    F, Sl = np.array(z["final"]), np.array(z["late_per_episode"])
    for j, zz in enumerate(z["zeta"]):
        lines.append(f"| {zz:g} | {F[:, j].mean():.1f} | {Sl[:, j].mean():.4f} |")
    ln = z["line"]
    lines += ["", f"Least-squares line: late regret per episode = {ln['slope']:.4f} zeta + {ln['intercept']:.4f} "
              f"(R^2 = {ln['r2']:.3f})", ""]
    (out / "results.md").write_text("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/linear_mdps")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = CONFIG["quick" if args.quick else "full"]
    t0 = time.perf_counter()
    print("1. linear vs tabular", flush=True)
    states = study_states(cfg, out)
    print("2. regret vs K", flush=True)
    episodes = study_episodes(cfg, out)
    print("3. regret vs zeta", flush=True)
    zeta = study_zeta(cfg, out)
    summary = {"mode": "quick" if args.quick else "full", "seconds": time.perf_counter() - t0,
               "states": states, "episodes": episodes, "zeta": zeta}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    write_md(summary, out)
    print(f"done in {summary['seconds']:.0f} s -> {out}")
    return summary


if __name__ == "__main__":
    main()

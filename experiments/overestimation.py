"""Over-estimation bias of Q-learning ensembles, measured exactly.

(a) Sutton & Barto's Figure 6.5 (Example 6.7): fraction of episodes whose first action in A is
    "left", against episodes, for Q-learning and Double Q-learning (alpha = 0.1, eps = 0.1,
    gamma = 1, zero initial tables, ties at random, B with 10 actions); Maxmin (N = 2) and
    REDQ (N = 10, M = 2) added. Monte Carlo over runs, as in the book.
(b) Exact bias against steps for all four methods (mean and standard error over seeds):
    estimation bias against Q^{pi_t} (greedy pi_t) and target bias against V* (weights of the
    behaviour policy), on a noisy Garnet (S = 10, A = 4, branching 3, gamma = 0.9, reward noise
    N(0, 1), alpha = 0.1, eps = 0.1, tables started at mean(R) / (1 - gamma)) and on van
    Hasselt's 3x3 grid (alpha = 1/n^0.8, eps = 1/sqrt(n(s)), zero initial tables).
(c) Target bias against the ensemble size. Left: the theorems' setting reproduced with the
    learners' own exact bootstrap hooks (tables = Q* + i.i.d. U(-tau, tau) errors on a one-state
    MDP with 4 equal actions, gamma = 0.9, tau = 1), next to gamma tau (1 - 2 t) (Lan et al.
    Theorem 1; REDQ's Theorem 1 as recalled, predicting no dependence on N). Right: the
    steady-state target bias of learning on the Garnet of (b) (mean of the second half of the
    checkpoints) for Maxmin against N, REDQ against M at N = 10 (equal and spread initial
    tables) and REDQ against N at M = 2, with uniform exploration (eps = 1: which pairs are
    updated does not depend on the estimates) and with eps = 0.1; where Q-learning's value is
    positive the theorem's curve is drawn scaled to it (one fitted number, tau).

Outputs (in --out): left_fraction.png/pdf, bias_vs_steps.png/pdf, bias_vs_ensemble.png/pdf,
results.json (the numbers quoted in docs), and the run time.

    MPLBACKEND=Agg python experiments/overestimation.py --out results/overestimation
    MPLBACKEND=Agg python experiments/overestimation.py --out /tmp/ov --quick
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

from mdptheory.envs.bias_examples import (  # noqa: E402
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)
from mdptheory.learners.double_q import DoubleQLearning  # noqa: E402
from mdptheory.learners.maxmin_q import MaxminQLearning  # noqa: E402
from mdptheory.learners.q_learning import QLearning  # noqa: E402
from mdptheory.learners.redq import REDQ  # noqa: E402
from mdptheory.learners.step_based import run_steps  # noqa: E402
from mdptheory.regret.bias import bias_trace, min_max_bias_uniform, optimal_values  # noqa: E402

COLORS = {"Q-learning": "C3", "Double Q-learning": "C0", "Maxmin Q-learning": "C2", "REDQ": "C1"}


def sizes(quick: bool) -> dict:
    if quick:
        return dict(sb_runs=150, sb_episodes=100, g_steps=6000, g_every=600, g_seeds=3, grid_steps=2000,
                    grid_every=200, grid_seeds=20, c_draws=100, c_steps=3000, c_every=1000, c_seeds=3)
    return dict(sb_runs=10_000, sb_episodes=300, g_steps=200_000, g_every=4_000, g_seeds=20, grid_steps=10_000,
                grid_every=200, grid_seeds=200, c_draws=4_000, c_steps=200_000, c_every=10_000, c_seeds=10)


def save(fig, out: Path, name: str) -> None:
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out / f"{name}.{ext}", dpi=130)
    plt.close(fig)


# ------------------------------------------------------------------------------------ (a)
def sutton_barto(out: Path, z: dict) -> dict:
    model = maximization_bias()
    learners = [QLearning(), DoubleQLearning(), MaxminQLearning(2), REDQ(10, subset=2)]
    K = z["sb_episodes"]
    res = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    for L in learners:
        left = np.zeros((z["sb_runs"], K))
        for run in range(z["sb_runs"]):
            r = run_steps(L, model, 2 * K, run)
            left[run] = r.actions[np.flatnonzero(r.starts)[:K]] == 1
        frac = left.mean(axis=0)
        res[L.name] = frac
        ax.plot(np.arange(1, K + 1), 100 * frac, color=COLORS[L.name], lw=1.4 if L.n_tables <= 2 else 1.0,
                ls="-" if L.name in ("Q-learning", "Double Q-learning") else "--",
                label=L.name + ("" if L.n_tables <= 1 or L.name == "Double Q-learning" else f" (N={L.n_tables})"))
    ax.axhline(5, color="k", lw=0.8, ls=":", label="optimal (eps/2 = 5%)")
    ax.set_xlabel("episodes")
    ax.set_ylabel("% left actions from A")
    ax.set_title(f"Sutton & Barto Example 6.7 ({z['sb_runs']} runs)")
    ax.legend(fontsize=8)
    save(fig, out, "left_fraction")
    tail = slice(max(0, K - 100), K)
    return {"runs": z["sb_runs"], "episodes": K,
            **{f"{k}_left_max": float(v.max()) for k, v in (("q_learning", res["Q-learning"]),
                                                            ("double_q", res["Double Q-learning"]))},
            "left_last100": {k: float(v[tail].mean()) for k, v in res.items()},
            "left_peak": {k: float(v.max()) for k, v in res.items()},
            "left_peak_episode": {k: int(v.argmax()) + 1 for k, v in res.items()}}


# ------------------------------------------------------------------------------------ (b)
def garnet_model():
    m = noisy_garnet(10, 4, 3, 0, gamma=0.9, reward_std=1.0)
    return m, float(np.mean(m.R)) / (1 - 0.9)


def four(init: float, **kw):
    return [QLearning(init=init, **kw), DoubleQLearning(init=init, **kw), MaxminQLearning(4, init=init, **kw),
            REDQ(10, subset=2, init=init, **kw)]


def bias_vs_steps(out: Path, z: dict) -> dict:
    gm, ginit = garnet_model()
    grid_kw = dict(alpha=1.0, alpha_decay=0.8, epsilon=1.0, epsilon_decay=0.5)
    setups = [("noisy Garnet (S=10, A=4, gamma=0.9)", gm, four(ginit), z["g_steps"], z["g_every"], z["g_seeds"]),
              ("van Hasselt 3x3 grid (gamma=0.95)", van_hasselt_grid(), four(0.0, **grid_kw), z["grid_steps"],
               z["grid_every"], z["grid_seeds"])]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex="col")
    res = {}
    for col, (title, model, learners, steps, every, seeds) in enumerate(setups):
        for L in learners:
            tr = bias_trace(L, model, steps, seeds, every=every)
            for row, (curves, field, lab) in enumerate(((tr.greedy, "estimation", "estimation bias vs Q^{pi_t} (greedy)"),
                                                       (tr.behaviour, "target", "target bias vs V* (behaviour weights)"))):
                mu, se = curves.mean(field), curves.sem(field)
                ax = axes[row, col]
                ax.plot(tr.steps, mu, color=COLORS[L.name], label=L.name)
                ax.fill_between(tr.steps, mu - se, mu + se, color=COLORS[L.name], alpha=0.2, lw=0)
                ax.set_ylabel(lab, fontsize=8)
            half = tr.steps >= steps // 2
            res.setdefault(L.name, {})[title] = {
                "estimation_greedy_final": float(tr.greedy.mean("estimation")[-1]),
                "estimation_greedy_second_half": float(tr.greedy.estimation[:, half].mean()),
                "target_behaviour_second_half": float(tr.behaviour.target[:, half].mean()),
                "target_behaviour_second_half_sem": float(tr.behaviour.target[:, half].mean(axis=1).std(ddof=1)
                                                          / np.sqrt(len(tr.seeds))) if len(tr.seeds) > 1 else 0.0,
                "value_gap_final": float(tr.greedy.mean("value_gap")[-1]),
                "seeds": len(tr.seeds), "steps": steps}
        axes[0, col].set_title(title, fontsize=9)
        axes[1, col].set_xlabel("environment steps")
        axes[1, col].ticklabel_format(axis="x", style="sci", scilimits=(0, 4))
        for r in range(2):
            axes[r, col].axhline(0, color="k", lw=0.6)
    axes[0, 0].legend(fontsize=8)
    save(fig, out, "bias_vs_steps")
    return res


# ------------------------------------------------------------------------------------ (c)
def theorem_setting(learner, draws: int, rng, tau: float = 1.0, gamma: float = 0.9) -> tuple[float, float]:
    """Mean and standard error over ``draws`` of gamma (bootstrap - V*) with tables Q* + U(-tau, tau)
    on a one-state MDP with 4 equal actions (Q* = 0), from the learner's exact bootstrap hook."""
    avail = np.ones((1, 4), dtype=bool)
    vals = np.empty(draws)
    for k in range(draws):
        tables = rng.uniform(-tau, tau, size=(learner.n_tables, 1, 1, 4))
        vals[k] = gamma * learner.bootstrap_values(tables, avail)[0, 0]
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(draws))


def steady_target(learner, model, z) -> tuple[float, float]:
    tr = bias_trace(learner, model, z["c_steps"], z["c_seeds"], every=z["c_every"], policy="behaviour")
    half = tr.steps >= z["c_steps"] // 2
    per_seed = tr.behaviour.target[:, half].mean(axis=1)
    return float(per_seed.mean()), float(per_seed.std(ddof=1) / np.sqrt(per_seed.size)) if per_seed.size > 1 else 0.0


def bias_vs_ensemble(out: Path, z: dict) -> dict:
    rng = np.random.default_rng(2021)
    A, gamma, tau = 4, 0.9, 1.0
    Ns = [1, 2, 3, 4, 6, 8]
    Ms = [1, 2, 3, 5, 10]
    REDQ_Ns = [2, 5, 10, 20]
    res = {"theorem_setting": {}, "learning": {}, "Ns": Ns, "Ms": Ms, "REDQ_Ns": REDQ_Ns}
    th = res["theorem_setting"]
    th["maxmin_vs_N"] = [theorem_setting(MaxminQLearning(n), z["c_draws"], rng, tau, gamma) for n in Ns]
    th["redq_vs_M_at_N10"] = [theorem_setting(REDQ(10, subset=m), z["c_draws"], rng, tau, gamma) for m in Ms]
    th["redq_vs_N_at_M2"] = [theorem_setting(REDQ(n, subset=2), z["c_draws"], rng, tau, gamma) for n in REDQ_Ns]
    th["formula_vs_n"] = {n: min_max_bias_uniform(A, n, gamma=gamma, tau=tau) for n in sorted(set(Ns + Ms))}
    gm, ginit = garnet_model()
    for eps in (1.0, 0.1):                 # uniform exploration (estimate-independent) and eps-greedy
        kw = dict(init=ginit, epsilon=eps)
        lr = res["learning"][f"eps={eps:g}"] = {}
        lr["maxmin_vs_N"] = [steady_target(MaxminQLearning(n, **kw), gm, z) for n in Ns]
        lr["redq_vs_M_at_N10"] = [steady_target(REDQ(10, subset=m, **kw), gm, z) for m in Ms]
        lr["redq_vs_M_at_N10_spread1"] = [steady_target(REDQ(10, subset=m, init_spread=1.0, **kw), gm, z)
                                          for m in Ms]
        lr["redq_vs_N_at_M2"] = [steady_target(REDQ(n, subset=2, **kw), gm, z) for n in REDQ_Ns]
        q0 = lr["maxmin_vs_N"][0][0]                  # N = 1 is Q-learning
        lr["tau_fitted_to_q_learning"] = q0 / min_max_bias_uniform(A, 1, gamma=gamma, tau=1.0)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    nn = np.arange(1, 11)
    ax.plot(nn, [min_max_bias_uniform(A, n, gamma=gamma, tau=tau) for n in nn], "k-", lw=0.8,
            label="gamma tau (1 - 2 t_{A,n}) (Theorem 1)")
    ax.errorbar(Ns, [m for m, _ in th["maxmin_vs_N"]], [2 * s for _, s in th["maxmin_vs_N"]], fmt="o",
                color=COLORS["Maxmin Q-learning"], label="Maxmin, n = N")
    ax.errorbar(Ms, [m for m, _ in th["redq_vs_M_at_N10"]], [2 * s for _, s in th["redq_vs_M_at_N10"]], fmt="s",
                mfc="none", color=COLORS["REDQ"], label="REDQ N=10, n = M")
    ax.errorbar([2] * len(REDQ_Ns), [m for m, _ in th["redq_vs_N_at_M2"]], [2 * s for _, s in th["redq_vs_N_at_M2"]],
                fmt="x", color="C4", label=f"REDQ M=2, N = {REDQ_Ns}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("n (tables in the minimum)")
    ax.set_ylabel("target bias")
    ax.set_title("theorem setting: Q* + U(-1, 1) errors, 4 equal actions", fontsize=9)
    ax.legend(fontsize=7)
    for ax, eps in zip(axes[1:], (1.0, 0.1)):
        lr = res["learning"][f"eps={eps:g}"]
        tau_fit = lr["tau_fitted_to_q_learning"]
        if tau_fit > 0:
            ax.plot(nn, [min_max_bias_uniform(A, n, gamma=gamma, tau=tau_fit) for n in nn], "k-", lw=0.8,
                    label=f"theorem, tau = {tau_fit:.2f} fitted at N = 1")
        for key, xs, fmt, col, lab in (("maxmin_vs_N", Ns, "o", COLORS["Maxmin Q-learning"], "Maxmin vs N"),
                                       ("redq_vs_M_at_N10", Ms, "s", COLORS["REDQ"], "REDQ N=10 vs M"),
                                       ("redq_vs_M_at_N10_spread1", Ms, "D", "C5", "REDQ N=10 vs M, init spread 1"),
                                       ("redq_vs_N_at_M2", REDQ_Ns, "x", "C4", "REDQ M=2 vs N")):
            ax.errorbar(xs, [m for m, _ in lr[key]], [2 * s for _, s in lr[key]], fmt=fmt, color=col, mfc="none",
                        label=lab, capsize=2)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (Maxmin), M or N (REDQ)")
        ax.set_ylabel("steady-state target bias")
        ax.set_title(f"learning on the noisy Garnet, eps = {eps:g} (second half of the run)", fontsize=9)
        ax.legend(fontsize=7)
    save(fig, out, "bias_vs_ensemble")
    return res


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/overestimation")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    z = sizes(args.quick)
    t0 = time.perf_counter()
    res = {"sizes": z}
    t = time.perf_counter()
    res["sutton_barto"] = sutton_barto(out, z)
    res["time_a"] = time.perf_counter() - t
    t = time.perf_counter()
    res["bias_vs_steps"] = bias_vs_steps(out, z)
    res["time_b"] = time.perf_counter() - t
    t = time.perf_counter()
    res["bias_vs_ensemble"] = bias_vs_ensemble(out, z)
    res["time_c"] = time.perf_counter() - t
    gm, _ = garnet_model()
    Qs, Vs = optimal_values(gm)
    res["garnet_V_star_range"] = [float(Vs.min()), float(Vs.max())]
    res["run_time_s"] = time.perf_counter() - t0
    (out / "results.json").write_text(json.dumps(res, indent=1, default=float))
    print(json.dumps({k: res[k] for k in ("sutton_barto", "run_time_s")}, indent=1, default=float))
    return res


if __name__ == "__main__":
    main()

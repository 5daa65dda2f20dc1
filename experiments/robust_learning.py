"""Study: online distributionally robust learning on Liu & Xu's linear MDP (issue 14, part 2).

Instance: ``robust_linear_instance`` (5 states, d = 4, 16 actions, H = 3); the TV radius sits on
the fourth factor at the first step. Learners (prototype constants beta = 1, lambda = 0.1):
LSVI-UCB (clip at H), DR-LSVI-UCB with the fail state x4 known (the paper's setting) at
rho = 0.3 (the prototype's radius) and rho = 0.6, DR-LSVI-UCB at rho = 0.6 *without* the fail
state (every value estimated, general dual), and DR-RPO at rho = 0.6 (fail state known).

Figures (written to --out, default ``results/robust_learning``):

1. ``robust_learning_perturbation.{pdf,png}`` -- Liu & Xu's figure, exactly evaluated: the
   expected return from x1 under the test perturbation q in [0, 1] of the policy each learner
   plays after K_train episodes on the nominal model (mean and standard error over seeds), with
   the exact nominal-optimal and robust-optimal (rho = 0.6) policies as references.
2. ``robust_learning_suboptimality.{pdf,png}`` -- the exact robust suboptimality (rho = 0.6
   set) of the played policies vs the episode, per episode (smoothed) and cumulative
   (``RobustRegretTrace``), and the nominal regret of the same runs.

``summary.json`` / ``results.md`` hold the plotted numbers.

Usage::

    MPLBACKEND=Agg python experiments/robust_learning.py --out results/robust_learning
    python experiments/robust_learning.py --quick      # smoke run
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

from mdptheory.envs.robust_examples import robust_linear_instance  # noqa: E402
from mdptheory.learners.dr_lsvi_ucb import DRLSVIUCB, RobustSpec  # noqa: E402
from mdptheory.learners.dr_rpo import DRRPO  # noqa: E402
from mdptheory.learners.lsvi_ucb import LSVIUCB  # noqa: E402
from mdptheory.measures.robust import perturbed_value  # noqa: E402
from mdptheory.regret import run  # noqa: E402
from mdptheory.solvers import solve  # noqa: E402
from mdptheory.solvers.robust import TV, solve_robust  # noqa: E402

FAIL = 3                      # x4: absorbing, reward 0
BETA, LAM = 1.0, 0.1          # the prototype's constants


class JudgedLSVIUCB(LSVIUCB):
    """LSVI-UCB judged by a robust set (it does not use it): ``run`` then records its robust
    suboptimality through the teaching path."""

    def __init__(self, rho, **kw):
        super().__init__(**kw)
        self._judge_rho = np.asarray(rho)

    def robust_uncertainty(self):
        return RobustSpec(TV(self._judge_rho), "d")


def learners(rho03, rho06, K, eta):
    lsvi_scale = BETA / (4 * 3 * np.sqrt(np.log(2 * 4 * K * 3 / 0.01)))   # LSVI-UCB's beta = c d H sqrt(iota) = 1
    return {
        "LSVI-UCB": lambda rho: JudgedLSVIUCB(rho, bonus_scale=lsvi_scale, lam=LAM),
        "DR-LSVI-UCB rho=0.3 (fail state)": lambda rho: DRLSVIUCB(rho=rho03, beta=BETA, lam=LAM, fail_state=FAIL),
        "DR-LSVI-UCB rho=0.6 (fail state)": lambda rho: DRLSVIUCB(rho=rho06, beta=BETA, lam=LAM, fail_state=FAIL),
        "DR-LSVI-UCB rho=0.6 (no fail state)": lambda rho: DRLSVIUCB(rho=rho06, beta=BETA, lam=LAM),
        "DR-RPO rho=0.6 (fail state)": lambda rho: DRRPO(rho=rho06, beta=BETA, lam=LAM, fail_state=FAIL, eta=eta,
                                                         tau=0.01),
    }


def final_policy(make, nominal, K, seed):
    """The policy planned after K training episodes (teaching path, the learner's own state)."""
    L = make()
    tr = run(L, nominal, K, [seed], backend="python", measures=False, progress=False)
    L.begin_episode(K)
    return np.array(L.policy()), tr


def perturbation_study(qs, K, seeds, eta):
    i03, i06 = robust_linear_instance(rho=0.3), robust_linear_instance(rho=0.6)
    nominal = i06.nominal
    tests = [i06.perturbed(float(q)) for q in qs]
    makes = learners(i03.rho, i06.rho, K, eta)
    out = {"q": list(map(float, qs)), "K_train": K, "seeds": seeds, "learners": {}}
    for name, mk in makes.items():
        R = np.empty((seeds, len(qs)))
        first = []
        for i in range(seeds):
            pi, _ = final_policy(lambda mk=mk: mk(i06.rho), nominal, K, i)
            R[i] = [perturbed_value(nominal, pi, t).value for t in tests]
            row = pi[0, 0] if pi.ndim == 2 else int(np.argmax(pi[0, 0]))
            first.append(float(i06.actions[row].sum()))
        out["learners"][name] = {"mean": R.mean(0).tolist(), "se": (R.std(0, ddof=1) / np.sqrt(seeds)).tolist()
                                 if seeds > 1 else [0.0] * len(qs), "first_action_sum": first}
    nom = solve(nominal.to_mdp())
    rob = solve_robust(nominal, i06.uncertainty, "d", tol=1e-12)
    out["nominal_optimal"] = [perturbed_value(nominal, nom.policy, t).value for t in tests]
    out["robust_optimal_rho0.6"] = [perturbed_value(nominal, rob.policy, t).value for t in tests]
    return out


def suboptimality_study(K, seeds, eta):
    i03, i06 = robust_linear_instance(rho=0.3), robust_linear_instance(rho=0.6)
    makes = learners(i03.rho, i06.rho, K, eta)
    out = {"K": K, "seeds": seeds, "learners": {}}
    for name, mk in makes.items():
        if "rho=0.3" in name:
            continue                                   # judged by its own (smaller) set; see the notes
        t0 = time.perf_counter()
        L = mk(i06.rho)
        tr = run(L, i06.nominal, K, seeds, measures=False, progress=False)
        rob = np.asarray(tr.robust_suboptimality)
        out["learners"][name] = {
            "per_episode_mean": rob.mean(0).tolist(),
            "cumulative_mean": tr.cumulative_robust().mean(0).tolist(),
            "cumulative_final": tr.cumulative_robust()[:, -1].tolist(),
            "nominal_cumulative_final": tr.cumulative()[:, -1].tolist(),
            "last_100_mean": float(rob[:, -100:].mean()),
            "robust_error_bound": float(tr.robust_error_bound),
            "distinct_policies": int(tr.n_robust_evaluations),
            "backend": tr.backend,
            "seconds": time.perf_counter() - t0,
            "bound_K": float(L.bound(5, 16, 3, K, d=4).value) if isinstance(L, (DRLSVIUCB, DRRPO)) else None,
        }
        out["robust_optimum"] = float(tr.robust_optimum)
    return out


STYLE = {"LSVI-UCB": ("k", "-"), "DR-LSVI-UCB rho=0.3 (fail state)": ("C0", "--"),
         "DR-LSVI-UCB rho=0.6 (fail state)": ("C1", "-"), "DR-LSVI-UCB rho=0.6 (no fail state)": ("C2", ":"),
         "DR-RPO rho=0.6 (fail state)": ("C3", "-.")}


def _save(fig, out: Path, name: str):
    for ext in ("pdf", "png"):
        fig.savefig(out / f"{name}.{ext}", dpi=150, bbox_inches="tight")
    plt.close(fig)


def fig_perturbation(out: Path, d):
    fig, ax = plt.subplots(figsize=(6.2, 4.0))
    q = np.asarray(d["q"])
    ax.plot(q, d["nominal_optimal"], color="0.6", lw=4, alpha=0.5, label="nominal-optimal policy (exact)")
    ax.plot(q, d["robust_optimal_rho0.6"], color="C1", lw=4, alpha=0.3, label="robust-optimal policy, rho = 0.6")
    for name, v in d["learners"].items():
        c, ls = STYLE[name]
        m, se = np.asarray(v["mean"]), np.asarray(v["se"])
        ax.plot(q, m, color=c, ls=ls, label=name)
        ax.fill_between(q, m - se, m + se, color=c, alpha=0.15)
    ax.set_xlabel("test perturbation q (first-step mass of factor 4 sent to the fail state)")
    ax.set_ylabel("exact expected return from x1")
    ax.set_title(f"after K = {d['K_train']} training episodes on the nominal model ({d['seeds']} seeds)")
    ax.legend(fontsize=7)
    _save(fig, out, "robust_learning_perturbation")


def fig_suboptimality(out: Path, d):
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.8))
    k = np.arange(1, d["K"] + 1)
    w = max(1, d["K"] // 100)
    for name, v in d["learners"].items():
        c, ls = STYLE[name]
        per = np.convolve(v["per_episode_mean"], np.ones(w) / w, mode="valid")
        axes[0].plot(k[w - 1:], per, color=c, ls=ls, label=name)
        axes[1].plot(k, v["cumulative_mean"], color=c, ls=ls, label=name)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("episode k")
    axes[0].set_ylabel(f"robust suboptimality (mean over seeds, window {w})")
    axes[1].set_xlabel("episode k")
    axes[1].set_ylabel("cumulative robust suboptimality")
    axes[0].set_title("rho = 0.6 set on factor 4 at the first step")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, out, "robust_learning_suboptimality")


def results_md(pert, sub, seconds) -> str:
    lines = ["# Robust learning study", "",
             f"Liu & Xu's linear MDP, beta = {BETA}, lambda = {LAM}; {seconds:.0f} s.", "",
             f"## Return under perturbation q after K = {pert['K_train']} episodes ({pert['seeds']} seeds)", "",
             "| policy | " + " | ".join(f"q={q:g}" for q in pert["q"][:: max(1, len(pert['q']) // 5)]) + " |",
             "|---|" + "---|" * len(pert["q"][:: max(1, len(pert['q']) // 5)])]
    idx = list(range(0, len(pert["q"]), max(1, len(pert["q"]) // 5)))
    rows = [("nominal-optimal (exact)", pert["nominal_optimal"]), ("robust-optimal rho=0.6 (exact)",
                                                                   pert["robust_optimal_rho0.6"])]
    rows += [(n, v["mean"]) for n, v in pert["learners"].items()]
    for n, vals in rows:
        lines.append(f"| {n} | " + " | ".join(f"{vals[i]:.4f}" for i in idx) + " |")
    lines += ["", f"## Robust suboptimality (rho = 0.6), K = {sub['K']}, {sub['seeds']} seeds", "",
              "| learner | cumulative robust subopt. (mean) | last 100 episodes (mean) | nominal regret (mean) | "
              "distinct policies | bound(K) |", "|---|---|---|---|---|---|"]
    for n, v in sub["learners"].items():
        b = "n/a" if v["bound_K"] is None else f"{v['bound_K']:.3g}"
        lines.append(f"| {n} | {np.mean(v['cumulative_final']):.3f} | {v['last_100_mean']:.4f} | "
                     f"{np.mean(v['nominal_cumulative_final']):.3f} | {v['distinct_policies']} | {b} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/robust_learning")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    qs = np.linspace(0.0, 1.0, 5 if args.quick else 21)
    K_train, seeds_p = (30, 2) if args.quick else (100, 20)
    K_sub, seeds_s = (60, 2) if args.quick else (3000, 8)
    eta = 1.0
    pert = perturbation_study(qs, K_train, seeds_p, eta)
    fig_perturbation(out, pert)
    sub = suboptimality_study(K_sub, seeds_s, eta)
    fig_suboptimality(out, sub)
    seconds = time.perf_counter() - t0
    summary = {"perturbation": pert, "suboptimality": sub, "seconds": seconds, "quick": bool(args.quick)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "results.md").write_text(results_md(pert, sub, seconds))
    print(f"robust learning study: {seconds:.1f} s -> {out}")
    print(results_md(pert, sub, seconds))
    return summary


if __name__ == "__main__":
    main()

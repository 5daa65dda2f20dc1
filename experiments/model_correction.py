"""Study: MaxEnt model correction on the modified cliff walk (issue 15), after Figure 1 of
Rakhsha, Kemertas, Ghavamzadeh & Farahmand, "Maximum Entropy Model Correction in
Reinforcement Learning" (ICLR 2024), with exact value errors.

Instances: the 6 x 6 cliff walk (``mdptheory.envs.cliff_walk.modified_cliff_walk``,
gamma = 0.9) and approximate models ``(1 - lambda) P + lambda P_tilde`` at lambda = 0.1 / 0.5 / 1
(``mdptheory.envs.model_error.approximate_model``, seeds 0..runs-1); both constructions are
reconstructions (proofs_notes/moco.md).

Figures (written to --out, default ``results/model_correction``):

1. ``planning_error.pdf`` -- ||V_k - V*||_inf vs iteration k for VI, planning in P_hat,
   OS-VI and MoCoVI (d = 1, 2, 3): mean over the runs with standard-error bands, one panel
   per model error. The measured contraction rates (log-linear fit) are printed next to
   gamma in ``summary.md``.
2. ``sample_error.pdf`` -- ||V_t - V*||_inf vs samples t for Q-learning, Dyna (model P_hat),
   OS-Dyna, MoCoDyna (d = 1, 2) and planning in P_hat, same layout.

``summary.json`` and ``summary.md`` hold the plotted numbers.

Usage::

    MPLBACKEND=Agg python experiments/model_correction.py --out results/model_correction
    python experiments/model_correction.py --quick       # smoke run (2 runs, short horizons)
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from mdptheory.correction import (  # noqa: E402
    MoCoDyna, dyna, model_based_samples, model_based_trace, moco_vi, os_dyna, os_vi, q_learning,
    sample_transitions, value_iteration_trace,
)
from mdptheory.envs.cliff_walk import modified_cliff_walk  # noqa: E402
from mdptheory.envs.model_error import approximate_model  # noqa: E402

ERRORS = (0.1, 0.5, 1.0)
PLAN_METHODS = ("VI", "model-based", "OS-VI", "MoCoVI d=1", "MoCoVI d=2", "MoCoVI d=3")
SAMPLE_METHODS = ("Q-learning", "Dyna", "OS-Dyna", "MoCoDyna d=1", "MoCoDyna d=2", "model-based")
STYLE = {"VI": ("k", "-"), "model-based": ("0.5", "--"), "OS-VI": ("tab:purple", "-."),
         "OS-Dyna": ("tab:purple", "-."), "Q-learning": ("k", "-"), "Dyna": ("tab:brown", ":"),
         "MoCoVI d=1": ("tab:blue", "-"), "MoCoVI d=2": ("tab:orange", "-"), "MoCoVI d=3": ("tab:green", "-"),
         "MoCoDyna d=1": ("tab:blue", "-"), "MoCoDyna d=2": ("tab:orange", "-")}


def planning_study(mdp, runs: int, iterations: int):
    """Exact planning errors: {lambda: {method: (runs, K+1)}} plus rates and checks."""
    vi = value_iteration_trace(mdp, iterations)
    out, rates, checks = {}, {}, {}
    for lam in ERRORS:
        E = {m: [] for m in PLAN_METHODS}
        R = {m: [] for m in PLAN_METHODS}
        worst_ratio, worst_bound, queries = 0.0, -np.inf, None
        for seed in tqdm(range(runs), desc=f"planning, lambda={lam}", leave=False):
            Ph = approximate_model(mdp, lam, seed)
            traces = {"VI": vi, "model-based": model_based_trace(mdp, Ph, iterations),
                      "OS-VI": os_vi(mdp, Ph, iterations)}
            for d in (1, 2, 3):
                tr = moco_vi(mdp, Ph, d, iterations)
                traces[f"MoCoVI d={d}"] = tr
                worst_ratio = max(worst_ratio, float((tr.errors[1:] / traces["model-based"].errors[1]).max()))
                span = np.ptp(tr.values[:-1] - tr.target, axis=1) / 2
                worst_bound = max(worst_bound, float((tr.errors[1:] - tr.bound_factors() * span).max()))
                queries = tr.queries.tolist()
            for m, tr in traces.items():
                E[m].append(tr.errors)
                R[m].append(tr.rate())
        out[lam] = {m: np.array(v) for m, v in E.items()}
        rates[lam] = {m: float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan") for m, v in R.items()}
        checks[lam] = {"max_ratio_moco_to_model_based": worst_ratio,
                       "max_violation_of_one_step_bound": worst_bound, "moco_queries": queries}
    return out, rates, checks


def sample_study(mdp, runs: int, samples: int, record_every: int):
    out = {}
    q_err = []
    for seed in tqdm(range(runs), desc="Q-learning", leave=False):
        stream = sample_transitions(mdp, samples, 1000 + seed)
        q_err.append(q_learning(mdp, stream, record_every=record_every).errors)
    for lam in ERRORS:
        E = {m: [] for m in SAMPLE_METHODS}
        E["Q-learning"] = q_err
        pts = None
        for seed in tqdm(range(runs), desc=f"samples, lambda={lam}", leave=False):
            Ph = approximate_model(mdp, lam, seed)
            stream = sample_transitions(mdp, samples, 1000 + seed)
            kw = dict(record_every=record_every)
            tr = dyna(mdp, Ph, stream, **kw)
            pts = tr.samples
            E["Dyna"].append(tr.errors)
            E["OS-Dyna"].append(os_dyna(mdp, Ph, stream, **kw).errors)
            E["MoCoDyna d=1"].append(MoCoDyna(1).run(mdp, Ph, stream, **kw).errors)
            E["MoCoDyna d=2"].append(MoCoDyna(2).run(mdp, Ph, stream, **kw).errors)
            E["model-based"].append(model_based_samples(mdp, Ph, stream, **kw).errors)
        out[lam] = {"samples": pts, **{m: np.array(v) for m, v in E.items()}}
    return out


def _band(ax, x, E, name):
    color, ls = STYLE[name]
    mean = E.mean(axis=0)
    se = E.std(axis=0, ddof=1) / np.sqrt(E.shape[0]) if E.shape[0] > 1 else np.zeros_like(mean)
    floor = 1e-12
    ax.plot(x, np.maximum(mean, floor), color=color, ls=ls, lw=1.4, label=name)
    ax.fill_between(x, np.maximum(mean - se, floor), np.maximum(mean + se, floor), color=color, alpha=0.2, lw=0)


def plot(out: Path, plan, samp, runs: int, gamma: float):
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for ax, lam in zip(axes, ERRORS):
        for m in PLAN_METHODS:
            E = plan[lam][m]
            _band(ax, np.arange(E.shape[1]), E, m)
        ax.set_yscale("log")
        ax.set_title(f"model error lambda = {lam}  ({runs} runs)")
        ax.set_xlabel("iteration k")
    axes[0].set_ylabel(r"$\|V_k - V^*\|_\infty$")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"MoCoVI vs VI, planning in P_hat and OS-VI, modified cliff walk 6x6, gamma={gamma}", fontsize=9)
    fig.tight_layout()
    for ext in ("pdf", "png"):
        fig.savefig(out / f"planning_error.{ext}", dpi=120)
    plt.close(fig)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for ax, lam in zip(axes, ERRORS):
        x = samp[lam]["samples"]
        for m in SAMPLE_METHODS:
            _band(ax, x, samp[lam][m], m)
        ax.set_yscale("log")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
        ax.set_title(f"model error lambda = {lam}  ({runs} runs)")
        ax.set_xlabel("samples")
    axes[0].set_ylabel(r"$\|V_t - V^*\|_\infty$")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("MoCoDyna vs Q-learning, Dyna, OS-Dyna (i.i.d. uniform pairs)", fontsize=9)
    fig.tight_layout()
    for ext in ("pdf", "png"):
        fig.savefig(out / f"sample_error.{ext}", dpi=120)
    plt.close(fig)


def summarise(plan, rates, checks, samp, gamma, iterations, samples, seconds):
    ks = [k for k in (1, 2, 3, 5, 10, 20, 30) if k <= iterations]
    lines = [f"# Model correction study (gamma = {gamma}); run time {seconds:.0f} s", "",
             "## Exact planning: mean ||V_k - V*||_inf and measured contraction rate (median over runs)", "",
             "| lambda | method | " + " | ".join(f"k={k}" for k in ks) + " | rate |",
             "|---|---|" + "---|" * (len(ks) + 1)]
    for lam in ERRORS:
        for m in PLAN_METHODS:
            E = plan[lam][m].mean(axis=0)
            lines.append(f"| {lam} | {m} | " + " | ".join(f"{E[k]:.2e}" for k in ks) + f" | {rates[lam][m]:.3f} |")
    lines += ["", f"gamma = {gamma}: the rate VI's error bound guarantees.", "",
              "## Samples: mean ||V_t - V*||_inf", "",
              "| lambda | method | " + " | ".join(f"t={t}" for t in samp[ERRORS[0]]["samples"][[len(samp[ERRORS[0]]["samples"]) // 4, len(samp[ERRORS[0]]["samples"]) // 2, -1]]) + " |",
              "|---|---|---|---|---|"]
    for lam in ERRORS:
        n = len(samp[lam]["samples"])
        for m in SAMPLE_METHODS:
            E = samp[lam][m].mean(axis=0)
            lines.append(f"| {lam} | {m} | " + " | ".join(f"{E[i]:.3g}" for i in (n // 4, n // 2, -1)) + " |")
    lines += ["", "## Checks", ""]
    for lam in ERRORS:
        c = checks[lam]
        lines.append(f"- lambda = {lam}: max_k>=1 ||V_k - V*|| / ||V*_Phat - V*|| over MoCoVI runs = "
                     f"{c['max_ratio_moco_to_model_based']:.6f}; largest excess over the one-step bound = "
                     f"{c['max_violation_of_one_step_bound']:.2e}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/model_correction")
    ap.add_argument("--quick", action="store_true", help="2 runs, short horizons (smoke run)")
    ap.add_argument("--runs", type=int, default=None, help="runs per model error (default 20)")
    ap.add_argument("--iterations", type=int, default=None, help="planning iterations (default 30)")
    ap.add_argument("--samples", type=int, default=None, help="samples per run (default 200000)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = args.runs or (2 if args.quick else 20)
    iterations = args.iterations or (8 if args.quick else 30)
    samples = args.samples or (12_000 if args.quick else 200_000)
    record_every = max(1000, samples // 40)
    t0 = time.perf_counter()
    mdp = modified_cliff_walk()
    with warnings.catch_warnings():
        # certified solves at 1e-10 on values of size ~15 sit at float64's floor now and then
        warnings.filterwarnings("ignore", message=".*below what float64 can certify.*")
        plan, rates, checks = planning_study(mdp, runs, iterations)
        t_plan = time.perf_counter() - t0
        samp = sample_study(mdp, runs, samples, record_every)
    seconds = time.perf_counter() - t0
    plot(out, plan, samp, runs, mdp.gamma)
    summary = {
        "gamma": mdp.gamma, "runs": runs, "iterations": iterations, "samples": samples,
        "seconds": seconds, "seconds_planning": t_plan,
        "planning": {str(l): {m: E.mean(axis=0).tolist() for m, E in plan[l].items()} for l in ERRORS},
        "planning_se": {str(l): {m: (E.std(axis=0, ddof=1) / np.sqrt(runs)).tolist() if runs > 1 else None
                                 for m, E in plan[l].items()} for l in ERRORS},
        "rates": {str(l): rates[l] for l in ERRORS},
        "checks": {str(l): checks[l] for l in ERRORS},
        "sampled": {str(l): {m: (v.mean(axis=0).tolist() if m != "samples" else v.tolist())
                             for m, v in samp[l].items()} for l in ERRORS},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    md = summarise(plan, rates, checks, samp, mdp.gamma, iterations, samples, seconds)
    (out / "summary.md").write_text(md)
    print(md)
    print(f"done in {seconds:.1f} s (planning {t_plan:.1f} s) -> {out}")
    return summary


if __name__ == "__main__":
    main()

"""Study: exact robust planning (issue 14, part 1).

Figures (written to --out, default ``results/robust_planning``):

1. ``robust_value_vs_rho.pdf`` -- the certified robust optimal value (initial law) against
   the radius rho for RiverSwim (n = 6) and a slippery 4x4 grid world (slip 0.2), gamma =
   0.95, (s,a)-rectangular TV, KL and chi-square balls; dashed: the robust value of the
   *nominal*-optimal policy (its worst case); a marker at rho = 1 for the TV closed form
   ``max_a R(s,a) + gamma/(1-gamma) min_s' max_a R(s',a)`` (grid world: radius 0 at
   terminal cells, closed form 0 off the goal).
2. ``linear_perturbation.pdf`` -- Liu & Xu's simulated linear MDP (d = 4, 16 actions,
   H = 3): the exact return under the test perturbation q in [0, 1] of the nominal-optimal
   policy and of the d-rectangular robust-optimal policies for several radii of the
   perturbed factor (the planning counterpart of their robustness figure), and the robust
   optimal value vs rho with the switching radius.

``summary.json`` holds the plotted numbers and the checks (rho = 0 vs the nominal solver,
rho = 1 vs the closed form, monotonicity in rho, the switching radius vs its derived value).

Usage::

    MPLBACKEND=Agg python experiments/robust_planning.py --out results/robust_planning
    python experiments/robust_planning.py --quick      # a fast smoke run (coarser grids)
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

from mdptheory.envs.robust_examples import (LIU_XU_LEAK, robust_gridworld, robust_linear_instance,  # noqa: E402
                                            robust_riverswim)
from mdptheory.measures.robust import perturbed_value, robust_policy_value  # noqa: E402
from mdptheory.solvers import solve  # noqa: E402
from mdptheory.solvers.robust import solve_robust  # noqa: E402

DIVERGENCES = ("tv", "kl", "chi2")
LABELS = {"tv": "TV", "kl": "KL", "chi2": "chi-square"}


def tabular_curves(rhos, tol):
    out = {}
    for name, make in (("riverswim", lambda r, dv: robust_riverswim(6, rho=r, gamma=0.95, divergence=dv)),
                       ("gridworld", lambda r, dv: robust_gridworld("4x4", rho=r, slip=0.2, gamma=0.95,
                                                                    divergence=dv))):
        nominal = make(0.0, "tv").mdp
        nom = solve(nominal, tol=tol)
        nu = np.asarray(nominal.initial)
        res = {"rho": list(map(float, rhos)), "nominal_value": float(nu @ nom.V)}
        checks = {}
        for dv in DIVERGENCES:
            robust, nominal_policy, bounds = [], [], []
            for r in rhos:
                inst = make(float(r), dv)
                sol = solve_robust(inst.mdp, inst.uncertainty, tol=tol)
                pv = robust_policy_value(inst.mdp, nom.policy, inst.uncertainty, tol=tol)
                robust.append(float(nu @ sol.V))
                nominal_policy.append(pv.value)
                bounds.append(max(sol.error_bound, pv.error_bound))
                if r == 0.0:
                    checks[f"{dv}_rho0_minus_nominal"] = float(np.abs(sol.V - nom.V).max())
                if dv == "tv" and r == 1.0:
                    R = np.asarray(inst.mdp.R)
                    g = inst.mdp.gamma
                    if name == "riverswim":
                        closed = R.max(axis=1) + g / (1 - g) * R.max(axis=1).min()
                    else:                              # goal: 1/(1-g); every other cell: 0
                        closed = np.where(R.max(axis=1) > 0, 1.0 / (1 - g), 0.0)
                    checks["tv_rho1_minus_closed_form"] = float(np.abs(sol.V - closed).max())
                    res["tv_rho1_closed_form_value"] = float(nu @ closed)
            res[dv] = {"robust_optimal": robust, "nominal_policy_robust": nominal_policy,
                       "max_error_bound": max(bounds)}
            checks[f"{dv}_monotone"] = bool(np.all(np.diff(robust) <= 2 * max(bounds)))
        res["checks"] = checks
        out[name] = res
    return out


def fig_tabular(out: Path, data):
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    for ax, (name, title) in zip(axes, (("riverswim", "RiverSwim (n = 6)"), ("gridworld", "grid world 4x4, slip 0.2"))):
        d = data[name]
        for dv, c in zip(DIVERGENCES, ("C0", "C1", "C2")):
            ax.plot(d["rho"], d[dv]["robust_optimal"], color=c, label=f"{LABELS[dv]}: robust optimum")
            ax.plot(d["rho"], d[dv]["nominal_policy_robust"], color=c, ls="--", label=f"{LABELS[dv]}: nominal policy")
        if "tv_rho1_closed_form_value" in d:
            ax.plot([1.0], [d["tv_rho1_closed_form_value"]], "kx", ms=8, label="TV closed form at rho = 1")
        ax.set_xlabel("radius rho")
        ax.set_ylabel("robust value (initial law)")
        ax.set_title(title + ", gamma = 0.95")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "robust_value_vs_rho.pdf")
    plt.close(fig)


def linear_study(qs, radii, rho_grid, tol):
    base = robust_linear_instance(rho=0.0)
    nom = solve(base.nominal.to_mdp())
    res = {"q": list(map(float, qs)), "radii": list(map(float, radii))}
    res["nominal_policy"] = [perturbed_value(base.nominal, nom.policy, base.perturbed(q)).value for q in qs]
    res["nominal_first_action"] = base.actions[nom.policy[0, 0]].tolist()
    res["robust_policy"] = {}
    for r in radii:
        inst = robust_linear_instance(rho=float(r))
        sol = solve_robust(inst.nominal, inst.uncertainty, rectangularity="d", tol=tol)
        res["robust_policy"][f"{r:g}"] = {
            "returns": [perturbed_value(inst.nominal, sol.policy, inst.perturbed(q)).value for q in qs],
            "robust_value": float(sol.V[0, 0]),
            "first_action": inst.actions[sol.policy[0, 0]].tolist(),
        }
    values, actions = [], []
    for r in rho_grid:
        inst = robust_linear_instance(rho=float(r))
        sol = solve_robust(inst.nominal, inst.uncertainty, rectangularity="d", tol=tol)
        values.append(float(sol.V[0, 0]))
        actions.append(int(sol.policy[0, 0]))
    res["rho_grid"] = list(map(float, rho_grid))
    res["robust_value_vs_rho"] = values
    # the switching radius: bisection on the solver's first action
    lo, hi = 0.0, 1.0
    first = robust_linear_instance(rho=0.0)
    a_nom = int(solve_robust(first.nominal, first.uncertainty, rectangularity="d").policy[0, 0])
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        inst = robust_linear_instance(rho=mid)
        a = int(solve_robust(inst.nominal, inst.uncertainty, rectangularity="d").policy[0, 0])
        lo, hi = (mid, hi) if a == a_nom else (lo, mid)
    res["switch_rho_solver"] = 0.5 * (lo + hi)
    # derived: at x1 the robust Q of feature weight x on factor 4 is
    # (1 - x) nu_1 + x * 2 (1 - rho), nu_1 = (1 - leak) V_1(x2), V_1(x2) = 2x* + (1 - x*)(1 - leak) x*
    delta, xi = 0.3, 0.1
    xs = delta + xi
    v1x2 = 2 * xs + (1 - xs) * (1 - LIU_XU_LEAK) * xs
    res["switch_rho_derived"] = 1 - (1 - LIU_XU_LEAK) * v1x2 / 2
    return res


def fig_linear(out: Path, d):
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    ax = axes[0]
    ax.plot(d["q"], d["nominal_policy"], "k-", lw=2, label="nominal-optimal policy")
    for (r, v), c in zip(d["robust_policy"].items(), ("C0", "C1", "C2", "C3")):
        ax.plot(d["q"], v["returns"], color=c, ls="--", marker=".", label=f"robust-optimal, rho = {r}")
    ax.set_xlabel("test perturbation q")
    ax.set_ylabel("exact return from x1")
    ax.set_title("Liu & Xu linear MDP (d = 4, A = 16, H = 3)")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.plot(d["rho_grid"], d["robust_value_vs_rho"], "C0-")
    ax.axvline(d["switch_rho_solver"], color="k", ls=":", label=f"policy switch rho = {d['switch_rho_solver']:.4f}")
    ax.set_xlabel("radius rho of the perturbed factor")
    ax.set_ylabel("robust optimal value at x1")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "linear_perturbation.pdf")
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/robust_planning")
    ap.add_argument("--quick", action="store_true", help="coarse grids (smoke run)")
    ap.add_argument("--tol", type=float, default=1e-10)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rhos = np.linspace(0.0, 1.0, 6 if args.quick else 41)
    qs = np.linspace(0.0, 1.0, 5 if args.quick else 21)
    radii = (0.3, 0.6) if args.quick else (0.3, 0.5, 0.7, 0.9)
    rho_grid = np.linspace(0.0, 1.0, 6 if args.quick else 51)
    tab = tabular_curves(rhos, args.tol)
    fig_tabular(out, tab)
    lin = linear_study(qs, radii, rho_grid, args.tol)
    fig_linear(out, lin)
    summary = {"tabular": tab, "linear": lin, "seconds": time.perf_counter() - t0, "quick": bool(args.quick)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"robust planning study: {summary['seconds']:.1f} s -> {out}")
    for name in ("riverswim", "gridworld"):
        print(f"  {name}: {tab[name]['checks']}")
    print(f"  linear: switch rho solver {lin['switch_rho_solver']:.6f}, derived {lin['switch_rho_derived']:.6f}")
    return summary


if __name__ == "__main__":
    main()

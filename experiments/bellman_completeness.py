"""Study: realizability vs Bellman completeness on linear classes.

Figures (written to --out, default ``results/bellman_completeness``):

1. ``estimators_vs_iteration.pdf`` -- exact FQE and expected TD(0) error
   ``||Phi w_k - Q^pi||_mu`` vs iteration, with the LSTD error as a reference line, on
   (a) a complete class (random linear MDP, off-policy mu), (b) Baird's star (complete,
   TD unstable), (c) a realizable-but-incomplete random class where FQE still contracts,
   and (d) Tsitsiklis-Van Roy (realizable, incomplete, gamma = 0.95 > 5/6: FQE and TD diverge,
   LSTD exact).
2. ``lstd_sqrt_n.pdf`` -- ``sqrt(n) * RMS_seeds ||Phi(w_n - w*)||_mu`` vs ``n`` for
   several instances, and its plateau vs the fixed-point amplification ``kappa``. For the
   Tsitsiklis-Van Roy family (epsilon = 0, reward noise sigma = 1) the limit is exactly
   ``sigma * kappa`` (derived in ``proofs_notes/tsitsiklis_van_roy.md``), drawn as a line.
3. ``tvr_phase_diagram.pdf`` -- FQE spectral radius of Tsitsiklis-Van Roy over
   ``(epsilon, gamma)`` with the closed-form divergence threshold
   ``gamma = 5 / (6 - 4 epsilon)``.
4. ``zigzag_width.pdf`` -- width lower bound needed for completeness vs ``n`` (zig-zag
   relay) against the constant width of ``Q*`` and of the RCSL policy.

A ``summary.json`` with the plotted numbers is written next to the figures.

Usage::

    MPLBACKEND=Agg python experiments/bellman_completeness.py --out results/bellman_completeness
    python experiments/bellman_completeness.py --quick      # a fast smoke run (fewer seeds)
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

from mdptheory import DiscountedMDP  # noqa: E402
from mdptheory.envs import baird_star, linear_mdp_instance, tsitsiklis_van_roy, zigzag_relay  # noqa: E402
from mdptheory.probes import bellman_report, breakpoint_lower_bound, fqe, lstd, td0  # noqa: E402
from mdptheory.probes.width import interpolating_relu  # noqa: E402


def planted_instance(S, A, d, gamma, seed, noise=1.0):
    """Random MDP, random features, rewards planted so that Q^pi = Phi w* (realizable);
    generically incomplete. Off-policy mu drawn from a Dirichlet."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    phi = rng.standard_normal((S, A, d))
    pi = rng.dirichlet(np.ones(A), size=S)
    mu = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    w_star = rng.standard_normal(d)
    phipi = np.einsum("sa,sad->sd", pi, phi)
    R = phi @ w_star - gamma * P @ (phipi @ w_star)
    mdp = DiscountedMDP(P, R, gamma, reward_noise="gaussian", reward_std=noise)
    return mdp, phi, pi, mu, w_star


def fig_estimators(out: Path, iters: int):
    cases = []
    lin = linear_mdp_instance(S=8, A=2, d=3, gamma=0.9, seed=0)
    cases.append(("complete: linear MDP", lin.mdp, lin.features, lin.policy, lin.mu, np.zeros(3), 0.5))
    b = baird_star()
    cases.append(("complete: Baird star", b.mdp, b.features, b.policy, b.mu, b.w0, b.step_size))
    # a realizable-but-incomplete random class where FQE contracts
    for seed in range(100):
        mdp, phi, pi, mu, ws = planted_instance(8, 2, 3, 0.9, seed)
        rep = bellman_report(mdp, phi, pi, mu)
        if rep.fqe_converges and rep.td_stable and rep.eps_inc > 0.1:
            break
    else:
        raise RuntimeError("no realizable-but-incomplete instance with convergent FQE/TD in 100 seeds")
    cases.append((f"incomplete: random (eps_inc={rep.eps_inc:.2f})", mdp, phi, pi, mu, np.zeros(3), 0.2))
    t = tsitsiklis_van_roy(0.0, 0.95, w_star=1.0)
    cases.append(("incomplete: TvR, gamma=0.95", t.mdp, t.features, t.policy, t.mu, np.array([0.0]), 0.1))
    fig, axes = plt.subplots(1, len(cases), figsize=(4.0 * len(cases), 3.2))
    summary = []
    for ax, (name, mdp, phi, pi, mu, w0, alpha) in zip(axes, cases):
        rep = bellman_report(mdp, phi, pi, mu)
        f = fqe(mdp, phi, pi, mu, iterations=iters, w0=w0)
        td = td0(mdp, phi, pi, mu, steps=iters, step_size=alpha, w0=w0)
        ls = lstd(mdp, phi, pi, mu)
        ax.semilogy(f.steps, np.maximum(f.errors, 1e-16), label="FQE (exact regression)")
        ax.semilogy(td.steps, np.maximum(td.errors, 1e-16), label=f"TD(0) expected, alpha={alpha}")
        ax.axhline(max(ls.errors[0], 1e-16), color="k", ls="--", lw=1, label="LSTD")
        ax.set_title(f"{name}\nrho(FQE)={rep.fqe_spectral_radius:.3f}, minRe(A)={rep.td_min_real:.3g}", fontsize=8)
        ax.set_xlabel("iteration")
        summary.append(dict(case=name, eps_inc=rep.eps_inc, kappa=rep.kappa, kappa_c=rep.kappa_c,
                            fqe_spectral_radius=rep.fqe_spectral_radius, td_min_real=rep.td_min_real,
                            fqe_final_error=float(f.errors[-1]), td_final_error=float(td.errors[-1]),
                            lstd_error=float(ls.errors[0])))
    axes[0].set_ylabel(r"$\|\Phi w_k - Q^\pi\|_\mu$")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "estimators_vs_iteration.pdf")
    fig.savefig(out / "estimators_vs_iteration.png", dpi=120)
    plt.close(fig)
    return summary


def fig_lstd(out: Path, seeds: int, ns):
    insts = []
    for g in (0.5, 0.7, 0.8, 0.9, 0.95):
        t = tsitsiklis_van_roy(0.0, g, w_star=1.0)
        mdp = t.mdp.replace(reward_noise="gaussian", reward_std=1.0)
        insts.append((f"TvR gamma={g}", mdp, t.features, t.policy, t.mu, t.w_star))
    for seed in (1, 2, 3):
        mdp, phi, pi, mu, ws = planted_instance(6, 2, 3, 0.8, seed)
        insts.append((f"random #{seed}", mdp, phi, pi, mu, ws))
    res = []
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for name, mdp, phi, pi, mu, ws in insts:
        rep = bellman_report(mdp, phi, pi, mu)
        E = np.zeros((seeds, len(ns)))
        for k in range(seeds):
            tr = lstd(mdp, phi, pi, mu, sample_sizes=ns, seed=np.random.default_rng([k, 17]))
            Phi = np.asarray(phi).reshape(-1, np.asarray(phi).shape[-1])
            for j, w in enumerate(tr.weights):
                f = Phi @ (w - ws)
                E[k, j] = np.sqrt(np.sum(np.asarray(mu).reshape(-1) * f * f))
        rms = np.sqrt(np.mean(E ** 2, axis=0)) * np.sqrt(ns)
        a1.loglog(ns, rms, marker="o", ms=3, label=name)
        res.append(dict(instance=name, kappa=rep.kappa, kappa_c=rep.kappa_c, eps_inc=rep.eps_inc,
                        sqrt_n_rms=rms.tolist(), n=list(map(int, ns))))
    a1.set_xlabel("n")
    a1.set_ylabel(r"$\sqrt{n}\ \mathrm{RMS}\,\|\Phi(\hat w_n - w^\star)\|_\mu$")
    a1.legend(fontsize=6)
    kap = np.array([r["kappa"] for r in res])
    plateau = np.array([r["sqrt_n_rms"][-1] for r in res])
    a2.loglog(kap, plateau, "o")
    for r, x, y in zip(res, kap, plateau):
        a2.annotate(r["instance"], (x, y), fontsize=6)
    # least-squares slope of log plateau vs log kappa across the TvR family (same noise)
    tv = np.array(["TvR" in r["instance"] for r in res])
    slope = float(np.polyfit(np.log(kap[tv]), np.log(plateau[tv]), 1)[0])
    kk = np.array([kap[tv].min(), kap[tv].max()])
    a2.loglog(kk, kk, "k--", lw=1, label=r"TvR limit $\sigma\kappa$ (closed form, $\sigma=1$)")
    a2.legend(fontsize=6, loc="upper left")
    for r in res:
        if "TvR" in r["instance"]:
            r["plateau_over_kappa"] = r["sqrt_n_rms"][-1] / r["kappa"]
    a2.set_xlabel(r"fixed-point amplification $\kappa$")
    a2.set_ylabel(r"plateau of $\sqrt{n}\,e_n$")
    a2.set_title(f"TvR family: log-log slope {slope:.2f}", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "lstd_sqrt_n.pdf")
    fig.savefig(out / "lstd_sqrt_n.png", dpi=120)
    plt.close(fig)
    return dict(instances=res, tvr_loglog_slope=slope)


def fig_phase(out: Path, m: int):
    eps = np.linspace(0.0, 1.0, m)
    gam = np.linspace(0.5, 0.999, m)
    rho = np.zeros((m, m))
    for i, g in enumerate(gam):
        for j, e in enumerate(eps):
            t = tsitsiklis_van_roy(e, g)
            rho[i, j] = bellman_report(t.mdp, t.features, t.policy, t.mu).fqe_spectral_radius
    closed = gam[:, None] * (6 - 4 * eps[None, :]) / 5
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    pc = ax.pcolormesh(eps, gam, rho, shading="auto", cmap="viridis")
    fig.colorbar(pc, ax=ax, label="FQE spectral radius")
    ax.contour(eps, gam, rho, levels=[1.0], colors="w", linewidths=2)
    e_line = eps[eps < 0.25 + 1e-12]
    ax.plot(e_line, 5 / (6 - 4 * e_line), "r--", lw=1.2, label=r"$\gamma=5/(6-4\epsilon)$")
    ax.set_xlabel(r"termination $\epsilon$")
    ax.set_ylabel(r"$\gamma$")
    ax.set_ylim(gam[0], gam[-1])
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Tsitsiklis-Van Roy: FQE/TD diverge above the line", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "tvr_phase_diagram.pdf")
    fig.savefig(out / "tvr_phase_diagram.png", dpi=120)
    plt.close(fig)
    return dict(max_abs_diff_closed_form=float(np.max(np.abs(rho - closed))), grid=m)


def fig_zigzag(out: Path):
    ns = [4, 8, 16, 32, 64, 128, 256]
    lb, ub, q, rc = [], [], [], []
    for n in ns:
        z = zigzag_relay(n)
        lb.append(breakpoint_lower_bound(z.embedding, z.bellman_image[:, 1]))
        ub.append(interpolating_relu(z.embedding, z.bellman_image[:, 1]).width)
        q.append(breakpoint_lower_bound(z.embedding, z.q_star[0, :, 1]))
        rc.append(breakpoint_lower_bound(z.embedding, z.rcsl_policy(0, np.full(n, 1.5)).astype(float)))
    fig, ax = plt.subplots(figsize=(4.4, 3.2))
    ax.loglog(ns, lb, "o-", label="completeness: lower bound on width")
    ax.loglog(ns, ub, "s--", label="completeness: explicit width (spline)")
    ax.plot(ns, np.maximum(q, 0.5), "^-", label=r"$Q^\star$ (width $\leq 1$; 0 breakpoints)")
    ax.plot(ns, np.maximum(rc, 0.5), "v-", label="RCSL policy (0 breakpoints in s)")
    ax.set_xlabel("number of states n")
    ax.set_ylabel("breakpoints / width")
    ax.legend(fontsize=6)
    ax.set_title("zig-zag relay", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "zigzag_width.pdf")
    fig.savefig(out / "zigzag_width.png", dpi=120)
    plt.close(fig)
    return dict(n=ns, lower=lb, upper=ub, qstar=q, rcsl=rc)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/bellman_completeness")
    ap.add_argument("--quick", action="store_true", help="fewer seeds and a coarser grid")
    ap.add_argument("--seeds", type=int, default=None, help="LSTD seeds per instance (default 200)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = args.seeds or (20 if args.quick else 200)
    ns = [100, 300, 1000, 3000, 10000] if not args.quick else [100, 1000, 10000]
    t0 = time.perf_counter()
    summary = {
        "estimators": fig_estimators(out, 300 if args.quick else 1000),
        "lstd": fig_lstd(out, seeds, ns),
        "phase": fig_phase(out, 25 if args.quick else 80),
        "zigzag": fig_zigzag(out),
    }
    summary["seconds"] = time.perf_counter() - t0
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    print(json.dumps({k: v for k, v in summary.items() if k != "lstd"}, indent=1, default=float)[:3000])
    print("lstd tvr slope", summary["lstd"]["tvr_loglog_slope"])
    for r in summary["lstd"]["instances"]:
        print(f"{r['instance']:>16s} kappa={r['kappa']:.3g} sqrt(n)e_n={['%.3g' % v for v in r['sqrt_n_rms']]}")
    print(f"done in {summary['seconds']:.1f} s -> {out}")


if __name__ == "__main__":
    main()

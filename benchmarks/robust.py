"""Robust planning benchmark (issue 14): compiled exact inner solvers vs cvxpy, side by side.

Instance: dense S = 500, A = 5, rows ~ Dirichlet(1), R ~ U[0, 1], gamma = 0.95, TV ball
(s,a)-rectangular, rho = 0.1; certified robust value iteration to ``error_bound <= 1e-8``.

Printed, all measured in this one run:

* ours: wall time of ``solve_robust(..., method="vi")`` (sweeps, certified bound), and of the
  other methods (MPI, PI) for the choice of the default;
* the same iteration with every inner problem solved by cvxpy: one cvxpy problem with
  parameters (``q``, ``v``) compiled once and re-solved per pair (the fastest installed of
  Clarabel and HiGHS), timed on ``--pairs`` pairs of the first sweep and scaled to
  ``S * A`` pairs x the number of sweeps our VI made (our own time for those sweeps includes
  the global sort, the GEMV for the means and the certificate, cvxpy's only the solves);
* the largest difference between the cvxpy values and ours on the timed pairs;
* KL and chi-square: our VI time and one inner problem through cvxpy (Clarabel) for scale;
* every method (VI, MPI, PI) on the dense instance, an 8x8 slippery grid world and RiverSwim
  (n = 20) at gamma = 0.99, for TV, KL and chi-square: the default ``method`` of
  :func:`~mdptheory.solvers.robust.solve_robust` has the smallest geometric-mean time ratio to
  the fastest method per instance.

Usage: ``python benchmarks/robust.py [--quick] [--pairs 100]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np

import mdptheory as mt
from mdptheory.solvers.robust import KL, TV, ChiSquare, RobustOperator, solve_robust

GAMMA, TOL, RHO = 0.95, 1e-8, 0.1


def instance(S, A, seed=0):
    rng = np.random.default_rng(seed)
    return mt.DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.uniform(size=(S, A)), GAMMA)


def best_time(fn, reps=3):
    ts, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return min(ts), out


def cvxpy_problem(S, divergence, solver):
    import cvxpy as cp

    q = cp.Parameter(S, nonneg=True)
    v = cp.Parameter(S)
    p = cp.Variable(S, nonneg=True)
    if divergence == "tv":
        cons = [cp.sum(p) == 1, 0.5 * cp.norm1(p - q) <= RHO]
    elif divergence == "kl":
        cons = [cp.sum(p) == 1, cp.sum(cp.rel_entr(p, q)) <= RHO]
    else:
        w = cp.Parameter(S, nonneg=True)      # 1/sqrt(q)
        cons = [cp.sum(p) == 1, cp.norm(cp.multiply(p - q, w), 2) <= np.sqrt(RHO)]
        prob = cp.Problem(cp.Minimize(v @ p), cons)
        return prob, q, v, w
    return cp.Problem(cp.Minimize(v @ p), cons), q, v, None


def time_cvxpy(mdp, V, pairs, divergence, solver):
    S, A = mdp.S, mdp.A
    prob, q, v, w = cvxpy_problem(S, divergence, solver)
    P = mdp.dense_P().reshape(S * A, S)
    rng = np.random.default_rng(1)
    rows = rng.choice(S * A, size=pairs, replace=False)
    v.value = V
    q.value = P[rows[0]]
    if w is not None:
        w.value = 1 / np.sqrt(P[rows[0]])
    prob.solve(solver=solver)                  # compile once (not timed)
    vals = np.empty(pairs)
    t = time.perf_counter()
    for i, r in enumerate(rows):
        q.value = P[r]
        if w is not None:
            w.value = 1 / np.sqrt(P[r])
        prob.solve(solver=solver)
        vals[i] = prob.value
    return (time.perf_counter() - t) / pairs, rows, vals


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="S = 200 and fewer cvxpy pairs")
    ap.add_argument("--pairs", type=int, default=100)
    args = ap.parse_args(argv)
    S, A = (200, 5) if args.quick else (500, 5)
    pairs = min(args.pairs, 30) if args.quick else args.pairs
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}; load {os.getloadavg()[0]:.2f}")
    mdp = instance(S, A)
    solve_robust(instance(20, 2), TV(RHO), method="vi")        # compile
    solve_robust(instance(20, 2), KL(RHO), method="vi")
    solve_robust(instance(20, 2), ChiSquare(RHO), method="vi")
    print(f"\nTV (rho = {RHO}), S = {S}, A = {A}, gamma = {GAMMA}, tol = {TOL:g}")
    t_vi, sol = best_time(lambda: solve_robust(mdp, TV(RHO), method="vi", tol=TOL))
    print(f"  ours, certified robust VI: {t_vi:.4f} s, {sol.iterations} sweeps, error_bound {sol.error_bound:.2e}")
    for m in ("mpi", "pi"):
        t_m, s_m = best_time(lambda: solve_robust(mdp, TV(RHO), method=m, tol=TOL))
        print(f"  ours, robust {m.upper()}: {t_m:.4f} s, {s_m.iterations} iterations, "
              f"error_bound {s_m.error_bound:.2e}, max|V - V_vi| {np.abs(s_m.V - sol.V).max():.1e}")
    ops = RobustOperator(0, mdp.dense_P().reshape(S * A, S), np.full(S * A, RHO), mdp.R, GAMMA)
    t_sweep, _ = best_time(lambda: ops.q(sol.V, np.empty((S, A))), reps=20)
    print(f"  ours, one robust Bellman sweep (S*A = {S * A} inner problems): {t_sweep * 1e3:.3f} ms")
    ours_vals = ops.sigma(sol.V)
    best = None
    for solver in ("CLARABEL", "HIGHS"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                per, rows, vals = time_cvxpy(mdp, sol.V, pairs, "tv", solver)
        except Exception as exc:  # pragma: no cover - solver missing
            print(f"  cvxpy/{solver}: failed ({type(exc).__name__}: {exc})")
            continue
        diff = np.abs(vals - ours_vals[rows]).max()
        print(f"  cvxpy/{solver}: {per * 1e3:.2f} ms per inner problem ({pairs} pairs), max|diff| to ours {diff:.1e}")
        if best is None or per < best[0]:
            best = (per, solver)
    per, solver = best
    t_cvx = per * S * A * sol.iterations
    print(f"  cvxpy ({solver}) for the same {sol.iterations} sweeps, scaled: {t_cvx:.1f} s "
          f"-> ratio {t_cvx / t_vi:.0f}x (target >= 50x)")
    for U, name in ((KL, "kl"), (ChiSquare, "chi2")):
        t_u, s_u = best_time(lambda: solve_robust(mdp, U(RHO), method="vi", tol=TOL), reps=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            per_u, rows_u, vals_u = time_cvxpy(mdp, s_u.V, max(5, pairs // 10), name, "CLARABEL")
        op_u = RobustOperator(U(RHO).kind, mdp.dense_P().reshape(S * A, S), np.full(S * A, RHO), mdp.R, GAMMA)
        ours_u = op_u.sigma(s_u.V)
        print(f"{name}: ours VI {t_u:.3f} s ({s_u.iterations} sweeps, bound {s_u.error_bound:.1e}); "
              f"cvxpy/CLARABEL {per_u * 1e3:.1f} ms per inner problem, scaled {per_u * S * A * s_u.iterations:.0f} s "
              f"-> {per_u * S * A * s_u.iterations / t_u:.0f}x; max|diff| {np.abs(vals_u - ours_u[rows_u]).max():.1e}")
    defaults_section(args.quick)


def defaults_section(quick):
    """Every method on every instance; the default is the smallest geometric-mean ratio to
    the fastest method per instance."""
    from mdptheory.envs.robust_examples import robust_gridworld, robust_riverswim

    insts = [("dense (500, 5), gamma 0.95" if not quick else "dense (200, 5), gamma 0.95",
              instance(200 if quick else 500, 5), 0.95)]
    g = robust_gridworld("8x8", rho=0.1, slip=0.2, gamma=0.99)
    insts.append(("grid world 8x8, slip 0.2, gamma 0.99", g.mdp, None))
    insts.append(("RiverSwim n = 20, gamma 0.99", robust_riverswim(20, gamma=0.99).mdp, None))
    methods = ("vi", "mpi", "pi")
    ratios = {m: [] for m in methods}
    print("\ndefault method: certified time to tol = 1e-8 (rho = 0.1)")
    for name, mdp, _ in insts:
        for U in (TV, KL, ChiSquare):
            ball = U(RHO)
            if name.startswith("grid"):
                ball = U(np.where(np.asarray(mdp.R).max(axis=1, keepdims=True) > 0, 0.0, RHO) * np.ones((1, 4)))
            ts = {}
            for m in methods:
                ts[m], sol = best_time(lambda: solve_robust(mdp, ball, method=m, tol=TOL), reps=1 if U is KL else 2)
            best = min(ts.values())
            for m in methods:
                ratios[m].append(ts[m] / best)
            print(f"  {name}, {U.__name__}: " + ", ".join(f"{m} {ts[m]:.3f} s" for m in methods))
    for m in methods:
        r = np.array(ratios[m])
        print(f"  {m}: geometric-mean ratio to the fastest {np.exp(np.log(r).mean()):.2f}, worst {r.max():.2f}")


if __name__ == "__main__":
    main()

"""Benchmark of the MaxEnt projection (issue 15): all pairs of a dense S = 1000, A = 4, d = 3
model, ours against ``scipy.optimize.minimize`` on each pair's dual, measured side by side.

Instance: rows of P_hat and of a true kernel P ~ Dirichlet(1) (every row dense), basis
phi ~ N(0, 1)^(S x 3), targets psi = P phi (feasible, interior). Ours: ``maxent_projection``
from a cold start (dual 0), tolerance 1e-12 on the gradient, validation and the reported
constraint check included; serial and ``parallel=True``. Scipy: the same dual (log-sum-exp
with the analytic gradient, and the analytic Hessian where the method takes one), cold
start, on a subset of pairs spread over the model, the time scaled to all pairs. Each scipy
method runs at its default tolerance and at the tightest one it reaches (constraint error
about 1e-8: it cannot reach 1e-12, its gradient is evaluated in log-sum-exp round-off);
accuracy is reported as the worst constraint error |E_q phi - psi| of the returned duals.

Run: ``python benchmarks/moco.py [--pairs 200]`` (about 2-3 minutes).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import logsumexp  # noqa: E402

from mdptheory.correction import maxent_projection  # noqa: E402


def best_of(fn, k=5):
    ts, out = [], None
    for _ in range(k):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), float(np.median(ts)), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=200, help="pairs timed with scipy (default 200)")
    args = ap.parse_args(argv)
    S, A, d = 1000, 4, 3
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    Ph = rng.dirichlet(np.ones(S), size=(S, A))
    Phi = rng.standard_normal((S, d))
    Psi = P @ Phi
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, scipy {scipy.__version__}")
    print(f"load average: {os.getloadavg()}")
    print(f"instance: dense S={S}, A={A}, d={d} ({S * A} pairs, {S * A * S} model entries)\n")
    maxent_projection(Ph, Phi, Psi)                                    # compile / load cache
    maxent_projection(Ph, Phi, Psi, parallel=True)
    t_ser, t_ser_med, res = best_of(lambda: maxent_projection(Ph, Phi, Psi))
    t_par, t_par_med, res_p = best_of(lambda: maxent_projection(Ph, Phi, Psi, parallel=True))
    assert np.array_equal(res.kernel, res_p.kernel)
    print(f"ours (serial):   {t_ser:.4f} s best of 5 (median {t_ser_med:.4f} s) = {t_ser / (S * A) * 1e6:.1f} us/pair; "
          f"converged {res.n_converged}/{S * A}, worst constraint error {res.constraint_error.max():.1e}, "
          f"Newton steps/pair {res.iterations.mean():.2f}")
    print(f"ours (parallel): {t_par:.4f} s best of 5 (median {t_par_med:.4f} s), {numba.get_num_threads()} threads\n")

    lP = np.log(Ph)

    def fun(lam, lp, psi):
        z = lp + Phi @ lam
        L = logsumexp(z)
        q = np.exp(z - L)
        return L - lam @ psi, q @ Phi - psi

    def hess(lam, lp, psi):
        z = lp + Phi @ lam
        q = np.exp(z - logsumexp(z))
        C = Phi - q @ Phi
        return (C * q[:, None]).T @ C

    idx = np.linspace(0, S * A - 1, args.pairs).astype(int)
    configs = [("BFGS", {}, False), ("BFGS", {"gtol": 1e-11}, False), ("L-BFGS-B", {}, False),
               ("Newton-CG", {}, True), ("trust-ncg", {}, True), ("trust-ncg", {"gtol": 1e-11}, True),
               ("trust-exact", {"gtol": 1e-11}, True)]
    rows = []
    print(f"scipy.optimize.minimize on {len(idx)} pairs (time scaled to {S * A}):")
    print(f"{'method':<12} {'options':<16} {'s/pair':>10} {'all pairs [s]':>14} {'worst constraint err':>21} "
          f"{'max |lam - ours|':>17} {'ours faster (serial)':>21} {'(parallel)':>11}")
    for method, opts, use_h in configs:
        worst, dl = 0.0, 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            sols = []
            for i in idx:
                s, a = divmod(int(i), A)
                kw = {"hess": hess} if use_h else {}
                r = minimize(fun, np.zeros(d), args=(lP[s, a], Psi[s, a]), jac=True, method=method,
                             options=opts, **kw)
                sols.append((s, a, r.x))
            per = (time.perf_counter() - t0) / len(idx)
        for s, a, x in sols:
            worst = max(worst, float(np.abs(fun(x, lP[s, a], Psi[s, a])[1]).max()))
            dl = max(dl, float(np.abs(x - res.dual[s, a]).max()))
        total = per * S * A
        rows.append((method, opts, per, total, worst, dl))
        print(f"{method:<12} {str(opts):<16} {per * 1e3:>8.3f}ms {total:>14.2f} {worst:>21.1e} {dl:>17.1e} "
              f"{total / t_ser:>20.0f}x {total / t_par:>10.0f}x")
    fastest = min(rows, key=lambda r: r[3])
    accurate = min((r for r in rows if r[4] <= 1e-7), key=lambda r: r[3])
    print(f"\nfastest scipy configuration: {fastest[0]} {fastest[1]} ({fastest[3]:.2f} s, constraint error "
          f"{fastest[4]:.0e}): ours serial {fastest[3] / t_ser:.0f}x faster")
    print(f"fastest scipy configuration with constraint error <= 1e-7: {accurate[0]} {accurate[1]} "
          f"({accurate[3]:.2f} s, {accurate[4]:.0e}): ours serial {accurate[3] / t_ser:.0f}x faster "
          f"(ours at {res.constraint_error.max():.0e})")


if __name__ == "__main__":
    main()

"""Benchmark of the Bellman probes: probe cost and the TD(0) kernel, measured side by side.

1. ``bellman_report`` (thin SVD in orthonormal coordinates, O(SA d^2)) against the textbook
   route: form the SA x SA projection Pi = Phi G^{-1} Phi' D and solve generalised symmetric
   eigenproblems with scipy.linalg.eigh (O((SA)^2 d) + O((SA)^3)-free but dense in SA).
   Both give the same eps_inc / kappa_c / kappa; the ratio is printed.
2. The sampled semi-gradient TD(0) numba kernel against its plain-numpy twin (same
   transitions, bit-identical output): steps per second and ratio.

Run: ``python benchmarks/bellman_probes.py``.
"""

from __future__ import annotations

import os

# One BLAS thread for both sides: on a shared, loaded 2-core machine multithreaded BLAS spins
# and turns millisecond factorizations into 100 ms ones at random (measured), drowning the ratio.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg as sla  # noqa: E402

from mdptheory import DiscountedMDP  # noqa: E402
from mdptheory.probes import bellman_report, sample_transitions, td0  # noqa: E402
from mdptheory.probes.estimators import td0_sampled, td0_sampled_ref  # noqa: E402
from mdptheory.probes.linear_class import LinearClass  # noqa: E402


def best_of(fn, k=3):
    ts = []
    for _ in range(k):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def textbook(mdp, phi, pi, mu):
    S, A = mdp.S, mdp.A
    P = mdp.dense_P().reshape(S * A, S)
    Phi = phi.reshape(S * A, -1)
    Y = mdp.gamma * P @ np.einsum("sa,sad->sd", pi, phi)
    D = np.diag(mu.reshape(-1))
    G = Phi.T @ D @ Phi
    Pi = Phi @ np.linalg.solve(G, Phi.T @ D)
    K = Y - Pi @ Y
    eps = np.sqrt(max(sla.eigh(K.T @ D @ K, G, eigvals_only=True)[-1], 0))
    Bc, B = Phi - Y, Phi - Pi @ Y
    kc = np.sqrt(sla.eigh(G, Bc.T @ D @ Bc, eigvals_only=True)[-1])
    k = np.sqrt(sla.eigh(G, B.T @ D @ B, eigvals_only=True)[-1])
    return eps, kc, k


def main():
    rng = np.random.default_rng(0)
    print("1) bellman_report vs textbook dense-projection route")
    print(f"{'S':>6} {'A':>3} {'d':>4} {'ours [s]':>10} {'textbook [s]':>13} {'ratio':>7} {'max rel diff':>13}")
    for S, A, d in ((200, 4, 10), (500, 4, 20), (1000, 4, 30)):
        P = rng.dirichlet(np.ones(S) * 0.1, size=(S, A))
        mdp = DiscountedMDP(P, rng.standard_normal((S, A)), 0.9)
        phi = rng.standard_normal((S, A, d))
        pi = rng.dirichlet(np.ones(A), size=S)
        mu = rng.dirichlet(np.ones(S * A)).reshape(S, A)
        t_ours, r = best_of(lambda: bellman_report(mdp, phi, pi, mu))
        t_tb, (e, kc, k) = best_of(lambda: textbook(mdp, phi, pi, mu), k=1)
        diff = max(abs(r.eps_inc - e) / e, abs(r.kappa_c - kc) / kc, abs(r.kappa - k) / k)
        print(f"{S:>6} {A:>3} {d:>4} {t_ours:>10.4f} {t_tb:>13.4f} {t_tb / t_ours:>7.1f} {diff:>13.2e}")

    print("\n2) sampled TD(0): numba kernel vs numpy twin")
    S, A, d = 50, 4, 16
    P = rng.dirichlet(np.ones(S), size=(S, A))
    mdp = DiscountedMDP(P, rng.standard_normal((S, A)), 0.9)
    phi = rng.standard_normal((S, A, d)) / np.sqrt(d)
    pi = rng.dirichlet(np.ones(A), size=S)
    lc = LinearClass(phi, np.full((S, A), 1.0 / (S * A)))
    n = 200_000
    data = sample_transitions(mdp, lc.mu, n, seed=1)
    phi_pi = np.einsum("sa,sad->sd", pi, phi)
    args = (np.ascontiguousarray(lc.phi), phi_pi, data.sa, data.reward, data.next_state, 0.9, 0.01)
    td0(mdp, phi, pi, "uniform", steps=10, expected=False, data=sample_transitions(mdp, lc.mu, 10, 0))  # compile

    def run(fn, m):
        W = np.empty((m // 1000 + 2, d))
        K = np.zeros(m // 1000 + 2, dtype=np.int64)
        w = np.zeros(d)
        sl = slice(0, m)
        fn(args[0], args[1], args[2][sl], args[3][sl], args[4][sl], args[5], args[6], w, 1000, W, K)
        return w
    t_nb, w_nb = best_of(lambda: run(td0_sampled, n))
    m = 20_000
    t_np, w_np = best_of(lambda: run(td0_sampled_ref, m), k=1)
    assert np.array_equal(run(td0_sampled, m), w_np)
    r_nb, r_np = n / t_nb, m / t_np
    print(f"numba {r_nb:,.0f} steps/s; numpy twin {r_np:,.0f} steps/s; ratio {r_nb / r_np:.0f}x "
          f"(d = {d}; outputs bit-identical on the first {m} steps)")


if __name__ == "__main__":
    main()

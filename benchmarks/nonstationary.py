"""RestartQ-UCB speed on the bidirectional combination lock, with exact dynamic regret.

    python benchmarks/nonstationary.py            # full (about a minute)
    python benchmarks/nonstationary.py --quick    # smaller K for a smoke run

Measures, one seed on one core (``workers=1``), the abrupt lock of Mao et al. (H = 5, S = 10,
A = 2, swaps every 1000 episodes), theorem's restart schedule, bonus x0.05:

1. episodes/s of the compiled loop (``run_nonstationary``, exact dynamic pseudo-regret of
   every episode; best of 3 warm runs), and of the same loop without evaluation
   (``eval_every=0``);
2. episodes/s of a straightforward Python implementation of the same algorithm (numpy
   arrays, Python loops per step, the episode's model looked up by the global clock, exact
   evaluation by a numpy backward induction every episode) -- checked to produce the same
   returns as the compiled loop -- and of the package's teaching path
   (``backend="python"``), measured side by side in the same run;
3. the ratios, and the time per episode next to the 0.102 ms/episode the paper reports for
   its RestartQ-UCB (different machine, language and accounting: for orientation only).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from mdptheory.envs.nonstationary import bidirectional_combination_lock  # noqa: E402
from mdptheory.learners.restart_q_ucb import RestartQUCB  # noqa: E402
from mdptheory.learners.ucb_advantage import stage_ends  # noqa: E402
from mdptheory.regret import seed_rng  # noqa: E402
from mdptheory.regret.nonstationary import optimal_values, run_nonstationary  # noqa: E402

SCALE = 0.05


def straightforward(ns, K, seed, learner_like):
    """RestartQ-UCB written plainly (same draws as the package: inverse CDF with one
    rng.random() for the initial state and one per transition; deterministic rewards)."""
    H, S, A = ns.H, ns.S, ns.A
    iota = math.log(2 / learner_like.delta)
    Ke = learner_like.epoch_length
    ends = set(stage_ends(H, 10 * K))
    models = [(np.asarray(m.P_by_stage()), np.asarray(m.R_by_stage()), np.asarray(m.initial)) for m in ns.models]
    vstar = optimal_values(ns)
    index = ns.model_index()
    rng = seed_rng(seed)
    regret = np.empty(K)
    rets = np.empty(K)
    for k in range(K):
        if k % Ke == 0:
            Q = np.empty((H, S, A))
            V = np.zeros((H + 1, S))
            for h in range(H):
                Q[h] = H - h
                V[h] = H - h
            N = np.zeros((H, S, A), dtype=int)
            Nc = np.zeros((H, S, A), dtype=int)
            rc = np.zeros((H, S, A))
            vc = np.zeros((H, S, A))
        j = index[k]
        P, R, rho = models[j]
        pi = Q.argmax(axis=2)
        W = np.zeros(S)                                  # exact V^pi on episode k's model
        for h in range(H - 1, -1, -1):
            W = R[h][np.arange(S), pi[h]] + P[h][np.arange(S), pi[h]] @ W
        regret[k] = vstar[j] - rho @ W
        s = int(np.searchsorted(np.cumsum(rho), rng.random(), side="right"))
        G = 0.0
        for h in range(H):
            a = int(pi[h, s])
            r = float(R[h, s, a])
            s2 = int(np.searchsorted(np.cumsum(P[h, s, a]), rng.random(), side="right"))
            G += r
            rc[h, s, a] += r
            vc[h, s, a] += V[h + 1, s2]
            N[h, s, a] += 1
            Nc[h, s, a] += 1
            if N[h, s, a] in ends:
                n = Nc[h, s, a]
                b = math.sqrt(H * H * iota / n)
                Q[h, s, a] = min(rc[h, s, a] / n + vc[h, s, a] / n + SCALE * b, Q[h, s, a])
                V[h, s] = Q[h, s].max()
                Nc[h, s, a] = 0
                rc[h, s, a] = 0.0
                vc[h, s, a] = 0.0
            s = s2
        rets[k] = G
    return regret, rets


def best_of(f, n=3):
    best = math.inf
    for _ in range(n):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    K_fast = 100_000 if args.quick else 1_000_000
    K_slow = 2_000 if args.quick else 10_000
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}; load average {os.getloadavg()[0]:.2f}")
    ns_fast = bidirectional_combination_lock(5, "abrupt", K_fast, period=1000)
    ns_slow = bidirectional_combination_lock(5, "abrupt", K_slow, period=1000)
    L = RestartQUCB(bonus_scale=SCALE)
    run_nonstationary(L, ns_slow, 200, 1, workers=1, measures=False)              # compile / warm
    run_nonstationary(L, ns_slow, 200, 1, workers=1, eval_every=0, measures=False)
    t_c = best_of(lambda: run_nonstationary(L, ns_fast, K_fast, 1, workers=1, measures=False, progress=False))
    epoch_fast = L.epoch_length
    t_c0 = best_of(lambda: run_nonstationary(L, ns_fast, K_fast, 1, workers=1, eval_every=0, measures=False,
                                             progress=False))
    # the same algorithm, straightforward Python, side by side (and the same returns)
    ref = run_nonstationary(L, ns_slow, K_slow, [0], workers=1, measures=False)
    t = time.perf_counter()
    reg, rets = straightforward(ns_slow, K_slow, 0, L)
    t_py = time.perf_counter() - t
    same = np.array_equal(rets, ref.returns[0]) and np.allclose(reg, ref.pseudo_regret[0], atol=1e-10)
    t_teach = best_of(lambda: run_nonstationary(L, ns_slow, K_slow, 1, workers=1, backend="python",
                                                measures=False, progress=False), n=1)
    eps_c, eps_c0 = K_fast / t_c, K_fast / t_c0
    eps_py, eps_teach = K_slow / t_py, K_slow / t_teach
    print(f"\nRestartQ-UCB, abrupt lock (H=5, S=10, A=2), epoch length {epoch_fast} (theorem's D for K = {K_fast}), one seed, one core")
    print("| implementation | episodes | episodes/s | ms/episode | ratio to compiled |")
    print("|---|---|---|---|---|")
    print(f"| compiled, exact dynamic regret every episode | {K_fast} | {eps_c:,.0f} | {1e3 / eps_c:.5f} | 1 |")
    print(f"| compiled, no evaluation (eval_every=0) | {K_fast} | {eps_c0:,.0f} | {1e3 / eps_c0:.5f} | {eps_c0 / eps_c:.2f} |")
    print(f"| straightforward Python (same returns: {same}) | {K_slow} | {eps_py:,.0f} | {1e3 / eps_py:.4f} | "
          f"1/{eps_c / eps_py:.0f} |")
    print(f"| package teaching path (backend='python') | {K_slow} | {eps_teach:,.0f} | {1e3 / eps_teach:.4f} | "
          f"1/{eps_c / eps_teach:.0f} |")
    print(f"\ntarget >= 1e5 episodes/s with exact regret: {eps_c:,.0f} -> {'met' if eps_c >= 1e5 else 'NOT met'}")
    print(f"target >= 100x the straightforward Python implementation: {eps_c / eps_py:.0f}x -> "
          f"{'met' if eps_c / eps_py >= 100 else 'NOT met'}")
    print(f"paper: 0.102 ms/episode; here {1e3 / eps_c:.5f} ms/episode ({0.102 / (1e3 / eps_c):.0f}x less; "
          "different machine and language)")
    return {"eps_compiled": eps_c, "eps_python": eps_py, "same": same}


if __name__ == "__main__":
    main()

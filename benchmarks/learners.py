"""Learner speed, side by side with rlberry (rlberry-scool 0.7.x), in one run.

    python benchmarks/learners.py            # full (a few minutes)
    python benchmarks/learners.py --quick    # smaller K for a smoke run
    python benchmarks/learners.py --only 2,3 # just the loop-speed sections

Measures
1. Episodes/s of our UCBVI-BF (compiled loop, exact pseudo-regret of every episode ON, one
   seed, one core) vs rlberry-scool's ``UCBVIAgent`` (its default simplified-Bernstein bonus,
   no regret computation at all) on rlberry's Chain(10) (H = 10), its 5x5 GridWorld
   (S = 23, A = 4, H = 20) and a 50-state RiverSwim (H = 20). The *same* transition and
   reward arrays are used on both sides (ours are built from rlberry's env.P / env.R).
2. Seeds in parallel: UCBVI-BF on RiverSwim(6), H=20, 4 seeds with workers=2 vs workers=1,
   wall and process CPU time, three repetitions with the load average.
3. Q-learning type: environment steps/s of the model-free loops (OptimisticQLearning
   Hoeffding/Bernstein, EpsilonGreedyQLearning, UCBAdvantage, QEarlySettledAdvantage) on
   RiverSwim(6) H=20 and Chain(10) H=10 with evaluation off (``eval_every=0``) and on, the
   evaluation cost per episode, and rlberry-scool's ``QLAgent`` (plain epsilon-greedy
   Q-learning; rlberry 0.7 has no optimistic Q-learning agent any more). 3b: microseconds
   per call of the exact evaluation kernel ``value_det``.
4. Time per episode vs S, A, H for UCBVI-BF, OptQL and PSRL, with log-log exponents.

rlberry 0.7.3 pins gymnasium < 0.30; with gymnasium 1.x its import needs
``gymnasium.logger.set_level`` which we shim (a no-op) before importing it. Install with
``pip install rlberry rlberry-scool`` then restore your gymnasium version if pip
downgraded it (the rest of mdptheory expects gymnasium >= 1.0).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import mdptheory as m  # noqa: E402
from mdptheory.envs.riverswim import riverswim  # noqa: E402
from mdptheory.learners import PSRL, UCBVI, OptimisticQLearning  # noqa: E402


def rlberry():
    try:
        import gymnasium.logger as gl

        if not hasattr(gl, "set_level"):
            gl.set_level = lambda *a, **k: None
        from rlberry.envs.finite_mdp import FiniteMDP
        from rlberry_scool.agents import QLAgent, UCBVIAgent
        from rlberry_scool.envs import Chain, GridWorld
        return dict(FiniteMDP=FiniteMDP, QLAgent=QLAgent, UCBVIAgent=UCBVIAgent, Chain=Chain, GridWorld=GridWorld)
    except Exception as exc:  # pragma: no cover - optional peer
        print(f"rlberry unavailable ({exc!r}); peer columns skipped")
        return None


def ours_eps(learner, mdp, K, seeds=1, workers=1, eval_every=1):
    m.run(learner, mdp, min(K, 50), 1, workers=1, eval_every=eval_every)  # compile / warm
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        m.run(learner, mdp, K, seeds, workers=workers, eval_every=eval_every, progress=False)
        best = min(best, time.perf_counter() - t)
    return K * (seeds if isinstance(seeds, int) else len(seeds)) / best


def peer_ucbvi_eps(rb, env, H, K):
    import logging
    logging.disable(logging.CRITICAL)
    ag = rb["UCBVIAgent"](env, horizon=H)
    t = time.perf_counter()
    ag.fit(budget=K)
    return K / (time.perf_counter() - t)


def section1(rb, quick):
    K = 2000 if quick else 10_000
    Kp = 200 if quick else 1000
    print(f"\n## 1. UCBVI-BF episodes/s, one seed, one core (ours K={K} with exact pseudo-regret; rlberry K={Kp}, no regret)")
    print("(theory = paper constants; tuned = bonus_scale 0.1, cap H-h: explores every action, so its")
    print(" planning touches more visited pairs; unvisited pairs cost O(1) in our planner)")
    print(f"{'instance':28s} {'S':>3s} {'A':>2s} {'H':>3s} {'theory eps/s':>13s} {'tuned eps/s':>12s} {'rlberry eps/s':>14s} {'ratio th.':>10s} {'ratio tuned':>12s}")
    cases = []
    if rb is not None:
        ch = rb["Chain"](10, 0.1)
        cases.append(("Chain(10) (rlberry)", ch, 10))
        gw = rb["GridWorld"](5, 5)
        cases.append(("GridWorld 5x5 (rlberry)", gw, 20))
        rs = riverswim(50, 20)
        env = rb["FiniteMDP"](np.asarray(rs.R), np.asarray(rs.P), initial_state_distribution=0)
        cases.append(("RiverSwim(50)", env, 20))
    else:
        cases.append(("RiverSwim(50)", None, 20))
    for name, env, H in cases:
        if env is not None:
            init = np.zeros(env.P.shape[0])
            init[0] = 1.0
            if hasattr(env, "initial_state_distribution") and np.ndim(env.initial_state_distribution) == 1:
                init = np.asarray(env.initial_state_distribution, dtype=float)
            mdp = m.EpisodicMDP(np.asarray(env.P), np.asarray(env.R), H, init)
        else:
            mdp = riverswim(50, 20)
        ours = ours_eps(UCBVI("bernstein"), mdp, K)
        tuned = ours_eps(UCBVI("bernstein", bonus_scale=0.1, cap="remaining"), mdp, K)
        peer = peer_ucbvi_eps(rb, env, H, Kp) if env is not None else float("nan")
        print(f"{name:28s} {mdp.S:3d} {mdp.A:2d} {H:3d} {ours:13.0f} {tuned:12.0f} {peer:14.0f} "
              f"{ours / peer:10.0f} {tuned / peer:12.0f}")


def section2(quick):
    """Seeds in parallel: UCBVI-BF on RiverSwim(6), H = 20, 4 seeds, workers=2 vs workers=1.

    Wall time alone is meaningless on a shared machine, so the process CPU time (all
    threads) is printed too: CPU/wall close to 2 means both cores were ours, and the
    CPU-normalised ratio (CPU time of workers=1 / CPU time of workers=2) shows whether
    running two threads costs extra work (GIL contention, false sharing would push it
    below 1). Three repetitions, each with the 1-minute load average before it."""
    K = 20_000 if quick else 100_000
    mdp = riverswim(6, 20)
    L = UCBVI("bernstein")
    m.run(L, mdp, 50, 2, workers=2, progress=False)  # compile / warm

    def timed(w):
        c0 = os.times()
        t0 = time.perf_counter()
        m.run(L, mdp, K, 4, workers=w, progress=False)
        wall = time.perf_counter() - t0
        c1 = os.times()
        return wall, (c1.user - c0.user) + (c1.system - c0.system)

    print(f"\n## 2. Seeds in parallel (UCBVI-BF, RiverSwim(6), H=20, 4 seeds x K={K}, exact regret on)")
    print(f"{'load avg':>8s} {'w=1 wall':>9s} {'w=1 CPU':>8s} {'w=2 wall':>9s} {'w=2 CPU':>8s} {'CPU/wall w=2':>13s} "
          f"{'speed-up':>9s} {'CPU ratio':>9s}")
    for _ in range(3):
        la = os.getloadavg()[0]
        w1, c1 = timed(1)
        w2, c2 = timed(2)
        print(f"{la:8.2f} {w1:9.3f} {c1:8.3f} {w2:9.3f} {c2:8.3f} {c2 / w2:13.2f} {w1 / w2:8.2f}x {c1 / c2:9.2f}")


def _steps_per_s(learner, mdp, K, eval_every):
    """Best of 3: (wall steps/s, CPU steps/s) of ``run(..., workers=1)``; the engine's fixed
    costs (V* by backward induction, array setup) are included and are < 1% at this K."""
    m.run(learner, mdp, 50, 1, workers=1, eval_every=eval_every, progress=False)  # compile / warm
    best_w = best_c = np.inf
    for _ in range(3):
        c0 = time.process_time()
        t0 = time.perf_counter()
        m.run(learner, mdp, K, 1, workers=1, eval_every=eval_every, progress=False)
        best_w = min(best_w, time.perf_counter() - t0)
        best_c = min(best_c, time.process_time() - c0)
    return K * mdp.H / best_w, K * mdp.H / best_c


def _value_det_us(mdp, reps):
    """Microseconds per call of the exact evaluation kernel ``value_det`` (the O(HS^2) part
    of an evaluated episode), timed from a compiled loop over 16 random policies."""
    from numba import njit

    from mdptheory.kernels.sampling import value_det
    from mdptheory.regret.engine import env_arrays

    @njit
    def rep(P, R, init, pis, V, n):
        tot = 0.0
        for i in range(n):
            tot += value_det(P, R, init, pis[i % pis.shape[0]], V)
        return tot

    P, R, init, _, _ = env_arrays(mdp)
    pis = np.random.default_rng(0).integers(0, mdp.A, size=(16, mdp.H, mdp.S))
    V = np.empty((mdp.H + 1, mdp.S))
    rep(P, R, init, pis, V, 10)
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        rep(P, R, init, pis, V, reps)
        best = min(best, time.perf_counter() - t)
    return best / reps * 1e6


def section3(rb, quick):
    from mdptheory.envs.chains import chain
    from mdptheory.learners import EpsilonGreedyQLearning, QEarlySettledAdvantage, UCBAdvantage

    K = 50_000 if quick else 500_000
    print(f"\n## 3. Q-learning type: environment steps/s, one seed, one core (K={K} episodes, best of 3;"
          f" load average {os.getloadavg()[0]:.2f})")
    print("'loop' = eval_every=0 (learner loop + environment sampling only); 'eval on' = exact")
    print("pseudo-regret of every episode; 'eval us/ep' = the difference, per episode")
    print(f"{'instance':18s} {'learner':14s} {'loop wall':>10s} {'loop CPU':>10s} {'eval on':>10s} {'eval us/ep':>10s} {'eval share':>10s}")
    learners = {
        "OptQL-Hoeffding": lambda: OptimisticQLearning("hoeffding", bonus_scale=0.05),
        "OptQL-Bernstein": lambda: OptimisticQLearning("bernstein", bonus_scale=0.05),
        "eps-greedy QL": lambda: EpsilonGreedyQLearning(epsilon=0.1),
        "UCB-Advantage": lambda: UCBAdvantage(bonus_scale=0.02),
        "Q-EarlySettled": lambda: QEarlySettledAdvantage(bonus_scale=0.02),
    }
    cases = (("RiverSwim(6) H=20", riverswim(6, 20)), ("Chain(10) H=10", chain(10, 10, fail_prob=0.1)),
             ("RiverSwim(50) H=20", riverswim(50, 20)))
    for name, mdp in cases:
        for ln, make in learners.items():
            if name.startswith("RiverSwim(50)") and not ln.startswith("OptQL-H"):
                continue
            off_w, off_c = _steps_per_s(make(), mdp, K, 0)
            on_w, _ = _steps_per_s(make(), mdp, max(K // 5, 1000), 1)
            eval_us = (1.0 / on_w - 1.0 / off_w) * mdp.H * 1e6
            share = 1 - on_w / off_w
            print(f"{name:18s} {ln:14s} {off_w:10.3g} {off_c:10.3g} {on_w:10.3g} {eval_us:10.2f} {share:10.0%}")
    if rb is not None:
        mdp = riverswim(6, 20)
        env = rb["FiniteMDP"](np.asarray(mdp.R), np.asarray(mdp.P), initial_state_distribution=0)
        ql = rb["QLAgent"](env, gamma=0.99, alpha=0.1, exploration_type="epsilon", exploration_rate=0.1)
        n = 20_000 if quick else 100_000
        t = time.perf_counter()
        ql.fit(budget=n)
        print(f"peer: rlberry QLAgent (eps-greedy Q-learning) on RiverSwim(6): {n / (time.perf_counter() - t):.3g} steps/s")

    print(f"\n## 3b. Exact evaluation kernel value_det (deterministic policy, O(HS^2)), microseconds per call")
    rng = np.random.default_rng(1)
    dense = m.EpisodicMDP(rng.dirichlet(np.ones(200), size=(200, 4)), rng.uniform(size=(200, 4)), 20, 0)
    print(f"{'instance':22s} {'us/call':>9s} {'ns per (h,s,t)':>15s}")
    for name, mdp in (("RiverSwim(6) H=20", riverswim(6, 20)), ("Chain(10) H=10", chain(10, 10, fail_prob=0.1)),
                      ("RiverSwim(50) H=20", riverswim(50, 20)), ("dense S=200 A=4 H=20", dense)):
        reps = max(200, int((2e6 if quick else 2e7) / (mdp.H * mdp.S * mdp.S)))
        us = _value_det_us(mdp, reps)
        print(f"{name:22s} {us:9.3f} {us * 1e3 / (mdp.H * mdp.S * mdp.S):15.2f}")


def _time_per_episode(learner, mdp, K):
    return 1.0 / ours_eps(learner, mdp, K)


def _random_mdp(S, A, H, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.uniform(size=(S, A))
    return m.EpisodicMDP(P, R, H, 0)


def section4(quick):
    K = 300 if quick else 1000
    learners = {
        "UCBVI-BF": (lambda: UCBVI("bernstein", bonus_scale=0.1), "S^2 A H (plan) + S^2 H (eval)"),
        "OptQL": (lambda: OptimisticQLearning("hoeffding", bonus_scale=0.1), "A H (learner) + S^2 H (eval)"),
        "PSRL": (lambda: PSRL(), "S^2 A (sample) + S^2 A H (plan) + S^2 H (eval)"),
    }
    grids = {
        "S": ([16, 32, 64, 128], lambda v: _random_mdp(v, 4, 16)),
        "A": ([2, 4, 8, 16], lambda v: _random_mdp(32, v, 16)),
        "H": ([8, 16, 32, 64], lambda v: _random_mdp(32, 4, v)),
    }
    print(f"\n## 4. Time per episode (exact evaluation on) vs S, A, H; log-log slope (K={K}, random dense MDPs)")
    print(f"{'learner':10s} {'d log t / d log S':>18s} {'/ d log A':>10s} {'/ d log H':>10s}   expected cost")
    for name, (make, expect) in learners.items():
        slopes = []
        for axis, (vals, build) in grids.items():
            ts = [_time_per_episode(make(), build(v), K) for v in vals]
            slopes.append(np.polyfit(np.log(vals), np.log(ts), 1)[0])
        print(f"{name:10s} {slopes[0]:18.2f} {slopes[1]:10.2f} {slopes[2]:10.2f}   {expect}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="1,2,3,4", help="comma-separated sections to run, e.g. 2,3")
    args = ap.parse_args()
    only = {x.strip() for x in args.only.split(",")}
    print(f"mdptheory learners benchmark; cores: {os.cpu_count()}; load average {os.getloadavg()}")
    rb = rlberry() if only & {"1", "3"} else None
    if "1" in only:
        section1(rb, args.quick)
    if "2" in only:
        section2(args.quick)
    if "3" in only:
        section3(rb, args.quick)
    if "4" in only:
        section4(args.quick)


if __name__ == "__main__":
    main()

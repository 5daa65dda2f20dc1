"""Learner speed, side by side with rlberry (rlberry-scool 0.7.x), in one run.

    python benchmarks/learners.py            # full (a few minutes)
    python benchmarks/learners.py --quick    # smaller K for a smoke run

Measures
1. Episodes/s of our UCBVI-BF (compiled loop, exact pseudo-regret of every episode ON, one
   seed, one core) vs rlberry-scool's ``UCBVIAgent`` (its default simplified-Bernstein bonus,
   no regret computation at all) on rlberry's Chain(10) (H = 10), its 5x5 GridWorld
   (S = 23, A = 4, H = 20) and a 50-state RiverSwim (H = 20). The *same* transition and
   reward arrays are used on both sides (ours are built from rlberry's env.P / env.R).
2. Seeds in parallel: 4 seeds with workers=2 vs workers=1.
3. Q-learning type: environment steps/s of our OptimisticQLearning loop with evaluation off
   (``eval_every=0``) and on, vs rlberry-scool's ``QLAgent`` (plain epsilon-greedy
   Q-learning; rlberry 0.7 has no optimistic Q-learning agent any more).
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
    K = 2000 if quick else 10_000
    mdp = riverswim(50, 20)
    L = UCBVI("bernstein")
    one = ours_eps(L, mdp, K, seeds=4, workers=1)
    two = ours_eps(L, mdp, K, seeds=4, workers=2)
    print(f"\n## 2. Seeds in parallel (UCBVI-BF, RiverSwim(50), H=20, 4 seeds x K={K})")
    print(f"workers=1: {one:.0f} eps/s   workers=2: {two:.0f} eps/s   speed-up {two / one:.2f}x")
    c0 = os.times()
    t0 = time.perf_counter()
    m.run(L, mdp, K, 4, workers=2, progress=False)
    wall = time.perf_counter() - t0
    c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    print(f"workers=2: process CPU time / wall = {cpu / wall:.2f} (2.0 = both cores ours; "
          f"load average now {os.getloadavg()[0]:.1f})")


def section3(rb, quick):
    K = 20_000 if quick else 100_000
    print(f"\n## 3. Q-learning type: environment steps/s (K={K} episodes, one seed, one core)")
    print(f"{'instance':16s} {'OptQL loop only':>16s} {'OptQL + exact eval':>19s} {'eval share':>10s} {'rlberry QLAgent':>16s}")
    for name, mdp in (("RiverSwim(6)", riverswim(6, 20)), ("RiverSwim(50)", riverswim(50, 20))):
        H = mdp.H
        off = ours_eps(OptimisticQLearning("hoeffding", bonus_scale=0.05), mdp, K, eval_every=0) * H
        on = ours_eps(OptimisticQLearning("hoeffding", bonus_scale=0.05), mdp, K, eval_every=1) * H
        peer = float("nan")
        if rb is not None:
            env = rb["FiniteMDP"](np.asarray(mdp.R), np.asarray(mdp.P), initial_state_distribution=0)
            ql = rb["QLAgent"](env, gamma=0.99, alpha=0.1, exploration_type="epsilon", exploration_rate=0.1)
            n = 20_000 if quick else 100_000
            t = time.perf_counter()
            ql.fit(budget=n)
            peer = n / (time.perf_counter() - t)
        share = 1 - on / off
        print(f"{name:16s} {off:16.3g} {on:19.3g} {share:10.0%} {peer:16.3g}")


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
    args = ap.parse_args()
    print(f"mdptheory learners benchmark; cores: {os.cpu_count()}")
    rb = rlberry()
    section1(rb, args.quick)
    section2(args.quick)
    section3(rb, args.quick)
    section4(args.quick)


if __name__ == "__main__":
    main()

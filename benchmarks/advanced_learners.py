"""Speed of the model-based and advantage learners (MVP, VarianceMVP, ReferenceCappedDoubling, UCBAdvantage,
QEarlySettledAdvantage, EULER): compiled loop vs the plain-Python teaching path, side by side
in one run, on RiverSwim(6), H = 20 (rewards / H for the N2 learners).

Prints episodes/s for: compiled with exact per-episode pseudo-regret, compiled without
evaluation (learner loop only, eval_every=0), and the teaching path (with evaluation).
Usage: python benchmarks/advanced_learners.py [K]
"""

import sys
import time

import numpy as np

from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import (EULER, MVP, QEarlySettledAdvantage, ReferenceCappedDoubling,
                                UCBAdvantage, VarianceMVP)
from mdptheory.regret.engine import run


def _time(fn, reps=3):
    best = np.inf
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(K=10_000):
    H = 20
    base = riverswim(6, horizon=H)
    n2 = base.replace(R=np.asarray(base.R) / H)
    cases = [(MVP(bonus_scale=0.02), n2), (VarianceMVP(bonus_scale=0.02), n2),
             (MVP("2024", bonus_scale=0.02), base), (UCBAdvantage(bonus_scale=0.02), base),
             (ReferenceCappedDoubling(bonus_scale=0.02), base),
             (QEarlySettledAdvantage(bonus_scale=0.02), base), (EULER(), base)]
    Kpy = max(K // 20, 200)
    print(f"RiverSwim(6), H={H}, one seed, one thread; compiled K={K}, python K={Kpy}")
    print(f"{'learner':28s} {'comp+regret ep/s':>17s} {'comp loop ep/s':>15s} {'steps/s':>10s} "
          f"{'python ep/s':>12s} {'ratio':>7s}")
    for L, mdp in cases:
        run(L, mdp, 10, seeds=[0], workers=1, progress=False)  # compile
        t_reg = _time(lambda: run(L, mdp, K, seeds=[0], workers=1, progress=False))
        t_loop = _time(lambda: run(L, mdp, K, seeds=[0], workers=1, eval_every=0, progress=False))
        t_py = _time(lambda: run(L, mdp, Kpy, seeds=[0], backend="python", progress=False), reps=1)
        label = type(L).__name__ + (f"({L.variant})" if isinstance(L, MVP) and type(L) is MVP else "")
        eps_reg, eps_loop, eps_py = K / t_reg, K / t_loop, Kpy / t_py
        print(f"{label:28s} {eps_reg:17.3g} {eps_loop:15.3g} {eps_loop * H:10.3g} {eps_py:12.3g} "
              f"{eps_reg / eps_py:7.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

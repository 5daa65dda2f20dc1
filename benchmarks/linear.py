"""Linear-MDP learners: speed with exact pseudo-regret, side by side, in one run.

    python benchmarks/linear.py            # full (about 2 minutes)
    python benchmarks/linear.py --quick    # smaller K for a smoke run

Measures
1. Episodes/s of LSVI-UCB (compiled loop, exact pseudo-regret of every episode, one seed, one
   core) vs a straightforward numpy LSVI-UCB written from Algorithm 1 of Jin et al. (2020) with
   per-sample sums (stored samples; every episode it rebuilds each stage's Gram matrix and
   recomputes every target max_a Q_{h+1}(x', a) over all stored samples with einsum, the way
   public implementations do), run through the teaching path with the same exact regret.
   Instance: stage-dependent random linear MDP, S = 15, A = 7, H = 5, d = 10, K = 2000 (the
   size of a public non-stationary LSVI-UCB experiment). Both learners play the same actions:
   the script checks that their pseudo-regret traces agree.
2. Cost flat in k: marginal episodes/s at k = 200 and k = 20,000 (time of episodes
   k .. k + dk, from runs of k and k + dk episodes, best of 9) for LSVI-UCB and LSVI-UCB++,
   next to the average episodes/s of whole runs of 200 and 20,000 episodes (which include the
   solve of V* and the set-up), and for the per-sample baseline at k = 200 vs k = 2000.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import mdptheory as m  # noqa: E402
from mdptheory.envs.linear_mdp import random_linear_mdp  # noqa: E402
from mdptheory.learners.base import Learner  # noqa: E402
from mdptheory.learners.lsvi_ucb import LSVIUCB  # noqa: E402
from mdptheory.learners.lsvi_ucb_pp import LSVIUCBPlusPlus  # noqa: E402


class PerSampleLSVIUCB(Learner):
    """Algorithm 1 with per-sample sums (numpy, vectorised over the stored samples)."""

    name = "LSVI-UCB (per-sample numpy)"
    uses_features = True

    def __init__(self, bonus_scale=1.0, c=1.0, lam=1.0, delta=0.01):
        self.bonus_scale, self.c, self.lam, self.delta = bonus_scale, c, lam, delta

    def prepare(self, mdp, episodes):
        super().prepare(mdp.to_mdp(), episodes)
        self._phi = np.asarray(mdp.stage_phi())
        self._R = np.broadcast_to(mdp.to_mdp().R_by_stage(), self._phi.shape[:3])
        d = self._phi.shape[3]
        H = mdp.horizon
        self._beta = self.bonus_scale * self.c * d * H * math.sqrt(math.log(2 * d * episodes * H / self.delta))

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._X = [[] for _ in range(H)]
        self._A_ = [[] for _ in range(H)]
        self._Y = [[] for _ in range(H)]

    def begin_episode(self, k):
        phi, H, lam, beta = self._phi, self._H, self.lam, self._beta
        d = phi.shape[3]
        w = [None] * (H + 1)
        Linv = [None] * (H + 1)
        Q = np.empty((H, self._S, self._A))
        for h in range(H - 1, -1, -1):
            X = np.asarray(self._X[h], dtype=np.int64)
            Aa = np.asarray(self._A_[h], dtype=np.int64)
            Phi = phi[h, X, Aa]                                       # (n, d)
            Lam = lam * np.eye(d) + Phi.T @ Phi
            Linv[h] = np.linalg.inv(Lam)
            target = self._R[h, X, Aa]
            if h < H - 1 and len(X):
                Y = np.asarray(self._Y[h], dtype=np.int64)
                Pn = phi[h + 1, Y]                                    # (n, A, d)
                bonus = np.sqrt(np.maximum(np.einsum("nad,de,nae->na", Pn, Linv[h + 1], Pn), 0.0))
                target = target + np.minimum(Pn @ w[h + 1] + beta * bonus, H).max(axis=1)
            w[h] = Linv[h] @ (Phi.T @ target)
            bon = np.sqrt(np.maximum(np.einsum("sad,de,sae->sa", phi[h], Linv[h], phi[h]), 0.0))
            Q[h] = np.minimum(phi[h] @ w[h] + beta * bon, H)
        self._pi = Q.argmax(axis=2).astype(np.int64)

    def observe(self, h, s, a, r, s_next):
        self._X[h].append(s)
        self._A_[h].append(a)
        self._Y[h].append(s_next)


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def timed(learner, mdp, K, backend="compiled", reps=3):
    best, tr = np.inf, None
    for _ in range(reps):
        t = time.perf_counter()
        tr = m.run(learner, mdp, K, [0], workers=1, backend=backend, progress=False, measures=False)
        best = min(best, time.perf_counter() - t)
    return best, tr


def section1(quick):
    K = 400 if quick else 2000
    lin = random_linear_mdp(15, 7, 10, horizon=5, seed=0, stage_dependent=True)
    print(f"\n## 1. Episodes/s with exact pseudo-regret, S=15 A=7 H=5 d=10 K={K}, one seed, one core")
    print(f"{'learner':34s} {'bonus':>6s} {'time (s)':>9s} {'episodes/s':>11s} {'ratio':>8s}")
    for scale in (1.0, 0.05):
        m.run(LSVIUCB(bonus_scale=scale), lin, 20, [0], workers=1)                       # compile
        t_ours, ours = timed(LSVIUCB(bonus_scale=scale), lin, K, reps=5)
        t_naive, naive = timed(PerSampleLSVIUCB(bonus_scale=scale), lin, K, backend="python", reps=1)
        same = np.allclose(ours.pseudo_regret, naive.pseudo_regret, rtol=0, atol=1e-9)
        print(f"{'LSVI-UCB (ours, compiled)':34s} {scale:6g} {t_ours:9.3f} {K / t_ours:11.0f} {t_naive / t_ours:8.0f}x")
        print(f"{'per-sample numpy (teaching path)':34s} {scale:6g} {t_naive:9.3f} {K / t_naive:11.0f} {'1':>8s}x")
        print(f"   same pseudo-regret trace: {same}; Regret(K) = {ours.cumulative()[0, -1]:.2f}")


def marginal(learner, mdp, k, dk, backend="compiled", reps=9):
    """Seconds for episodes k .. k+dk-1: the best time of a (k+dk)-episode run minus the best
    time of a k-episode run (runs interleaved; a busy machine only slows runs down, so the
    minima are the least disturbed)."""
    t1 = t2 = np.inf
    for _ in range(reps):
        t1 = min(t1, timed(learner, mdp, k, backend=backend, reps=1)[0])
        t2 = min(t2, timed(learner, mdp, k + dk, backend=backend, reps=1)[0])
    return max(t2 - t1, 1e-9)


def section2(quick):
    lin = random_linear_mdp(15, 7, 10, horizon=5, seed=0, stage_dependent=True)
    kbig = 5000 if quick else 20_000
    print("\n## 2. Cost flat in k: marginal episodes/s over the dk episodes from k (best of 9), same instance")
    print(f"{'learner':34s} {'dk':>6s} {'k=200':>10s} {'k=' + str(kbig):>10s} {'ratio':>7s} {'avg eps/s K=200':>16s} {'K=' + str(kbig):>9s}")
    for name, L, dk in (("LSVI-UCB (bonus 1)", LSVIUCB(), 5000),
                        ("LSVI-UCB (bonus 0.05)", LSVIUCB(bonus_scale=0.05), 5000),
                        ("LSVI-UCB++ (theory)", LSVIUCBPlusPlus(), 40000),
                        ("LSVI-UCB++ (c=0.001, gamma=4)", LSVIUCBPlusPlus(c=0.001, gamma=4.0), 40000)):
        dk = dk // 5 if quick else dk
        m.run(L, lin, 20, [0], workers=1)
        a = dk / marginal(L, lin, 200, dk)
        b = dk / marginal(L, lin, kbig, dk)
        avg_small = 200 / timed(L, lin, 200, reps=7)[0]
        avg_big = kbig / timed(L, lin, kbig, reps=3)[0]
        print(f"{name:34s} {dk:6d} {a:10.0f} {b:10.0f} {a / b:7.2f} {avg_small:16.0f} {avg_big:9.0f}")
    dn = 100 if quick else 200
    L = PerSampleLSVIUCB(bonus_scale=0.05)
    a = dn / marginal(L, lin, 200, dn, backend="python", reps=1)
    b = dn / marginal(L, lin, 2000, dn, backend="python", reps=1)
    print(f"{'per-sample numpy, k=200 vs k=2000':34s} {dn:6d} {a:10.0f} {b:10.0f} {a / b:7.2f}")


def main():
    """Print both sections and the load average before and after."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"# benchmarks/linear.py  {datetime.date.today()}  {machine()}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    t = time.perf_counter()
    section1(args.quick)
    section2(args.quick)
    print(f"\ntotal {time.perf_counter() - t:.0f} s; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

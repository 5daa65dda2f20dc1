"""SlidingWindowUCBVI: window = inf, known rewards and the running minimum give UCBVI bit for
bit; compiled loop == teaching path with short windows (successors leave the window); the
window's counts equal the counts of the last W episodes recomputed here from the recorded
trajectories; the running minimum is dropped by default."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.core import EpisodicMDP
from mdptheory.envs.nonstationary import bidirectional_combination_lock, switching
from mdptheory.learners import UCBVI
from mdptheory.learners.sliding_window_ucbvi import SlidingWindowUCBVI
from mdptheory.regret import seed_rng
from mdptheory.regret.nonstationary import run_nonstationary


def small(seed=0, noise="bernoulli"):
    rng = np.random.default_rng(seed)
    S, A, H = 4, 2, 4
    # sparse rows so that successors really leave a short window
    P = rng.dirichlet(np.ones(S), size=(S, A)) * (rng.random((S, A, S)) < 0.6)
    P[..., 0] += 1e-3
    P /= P.sum(axis=2, keepdims=True)
    return EpisodicMDP(P, rng.random((H, S, A)), H, rng.dirichlet(np.ones(S)), reward_noise=noise)


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
def test_infinite_window_monotone_known_rewards_is_ucbvi(bonus):
    m = small()
    for backend in ("compiled", "python"):
        u = mt.run(UCBVI(bonus, bonus_scale=0.05), m, 200, [0, 1], backend=backend)
        s = mt.run(SlidingWindowUCBVI(bonus, window=math.inf, rewards="known", monotone=True, bonus_scale=0.05),
                   m, 200, [0, 1], backend=backend)
        assert np.array_equal(u.pseudo_regret, s.pseudo_regret) and np.array_equal(u.returns, s.returns)


@pytest.mark.parametrize("kw", [dict(bonus="hoeffding", window=3), dict(bonus="bernstein", window=7),
                                dict(bonus="hoeffding", window=10, monotone=True, rewards="known"),
                                dict(bonus="hoeffding", window=None)])
def test_compiled_equals_teaching_path(kw):
    ns = switching([small(0), small(1, noise="bernoulli")], 30, 150)
    kw = dict(kw)
    L = SlidingWindowUCBVI(kw.pop("bonus"), bonus_scale=0.05, **kw)
    a = run_nonstationary(L, ns, seeds=[5, 6], backend="compiled")
    b = run_nonstationary(L, ns, seeds=[5, 6], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)


def test_window_counts_are_those_of_the_last_w_episodes():
    m = small(2, noise="deterministic")
    W, K = 4, 15
    L = SlidingWindowUCBVI(window=W, bonus_scale=0.05)
    L.prepare(m, K)
    L.reset(m.S, m.A, m.H, seed_rng(0))
    rng = np.random.default_rng(9)
    history = []
    for k in range(K):
        L.begin_episode(k)
        kept = history[max(0, k - W):]
        N = np.zeros((m.S, m.A, m.S))
        mcount = np.zeros((m.H + 1, m.S))
        rs = np.zeros((m.H, m.S, m.A))
        for ep in kept:
            for h, (s, a, r, s2) in enumerate(ep):
                N[s, a, s2] += 1
                mcount[h, s] += 1
                rs[h, s, a] += r
            mcount[m.H, ep[-1][3]] += 1
        np.testing.assert_array_equal(L._N, N)
        np.testing.assert_array_equal(L._n, N.sum(axis=2))
        np.testing.assert_array_equal(L._m, mcount)
        np.testing.assert_allclose(L._rsum, rs, rtol=0, atol=1e-12)
        ep, s = [], int(rng.integers(m.S))
        for h in range(m.H):
            a = int(L.act(h, s))
            s2 = int(rng.integers(m.S))
            r = float(np.asarray(m.R)[h, s, a])
            L.observe(h, s, a, r, s2)
            ep.append((s, a, r, s2))
            s = s2
        L.end_episode()
        history.append(ep)


def test_no_running_minimum_by_default():
    # the plan before episode k depends only on the window's data: two learners that saw
    # different old episodes but the same last W plan the same Q
    m = small(4, noise="deterministic")
    W = 2
    plans = []
    for first in (0, 1):
        L = SlidingWindowUCBVI(window=W, bonus_scale=0.05)
        L.prepare(m, 10)
        L.reset(m.S, m.A, m.H, seed_rng(0))
        eps = [[(0, 0, 0.2, 1), (1, 1, 0.0, 2), (2, 0, 0.9, 3), (3, 1, 0.1, 0)],
               [(1, 0, 0.5, 1), (1, 0, 0.5, 1), (1, 0, 0.5, 1), (1, 0, 0.5, 1)],
               [(2, 1, 0.3, 3), (3, 0, 0.3, 2), (2, 1, 0.3, 3), (3, 0, 0.3, 2)]]
        for k, ep in enumerate(eps[first:] + eps[1:]):
            L.begin_episode(k)
            for h, (s, a, r, s2) in enumerate(ep):
                L._traj.append((h, s, a, r, s2))
            L.end_episode()
        L.begin_episode(99)
        plans.append(L._Q.copy())
    np.testing.assert_array_equal(plans[0], plans[1])


def test_adapts_on_the_abrupt_lock_and_validation():
    ns = bidirectional_combination_lock(5, "abrupt", 2000, period=1000)
    sw = run_nonstationary(SlidingWindowUCBVI(window=700, bonus_scale=0.003), ns, seeds=2)
    keep = run_nonstationary(SlidingWindowUCBVI(window=math.inf, monotone=True, bonus_scale=0.003), ns, seeds=2)
    late = slice(1700, 2000)
    assert sw.pseudo_regret[:, late].mean() < 0.1 < 0.3 < keep.pseudo_regret[:, late].mean()
    with pytest.raises(TypeError, match="monotone must be True or False"):
        SlidingWindowUCBVI(monotone="yes")
    L = SlidingWindowUCBVI()
    assert (L.bonus, L.window, L.rewards, L.monotone, L.delta, L.bonus_scale, L.cap) == (
        "hoeffding", None, "empirical", False, 0.01, 1.0, "H")

"""RestartUCBVI: window = inf with known rewards is UCBVI bit for bit; compiled loop ==
teaching path on non-stationary models; restarts forget everything; the optimistic reward
kernel against its vectorised twin and a hand computation; the window rule and the derived
bound by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.core import EpisodicMDP
from mdptheory.envs.nonstationary import bidirectional_combination_lock, switching
from mdptheory.learners import UCBVI
from mdptheory.learners.restart_ucbvi import (RestartUCBVI, optimistic_rewards, optimistic_rewards_ref,
                                              restart_window)
from mdptheory.regret import seed_rng
from mdptheory.regret.nonstationary import run_nonstationary


def small(seed=0, noise="bernoulli", stage_R=True):
    rng = np.random.default_rng(seed)
    S, A, H = 4, 2, 4
    return EpisodicMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((H, S, A) if stage_R else (S, A)), H,
                       rng.dirichlet(np.ones(S)), reward_noise=noise)


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
@pytest.mark.parametrize("cap", ["H", "remaining"])
def test_infinite_window_with_known_rewards_is_ucbvi(bonus, cap):
    m = small()
    for backend in ("compiled", "python"):
        u = mt.run(UCBVI(bonus, bonus_scale=0.05, cap=cap), m, 200, [0, 1], backend=backend)
        r = mt.run(RestartUCBVI(bonus, window=math.inf, rewards="known", bonus_scale=0.05, cap=cap), m, 200, [0, 1],
                   backend=backend)
        assert np.array_equal(u.pseudo_regret, r.pseudo_regret) and np.array_equal(u.returns, r.returns)


@pytest.mark.parametrize("kw", [dict(bonus="hoeffding", window=30, rewards="empirical"),
                                dict(bonus="bernstein", window=45, rewards="empirical", cap="remaining"),
                                dict(bonus="hoeffding", window=25, rewards="known"),
                                dict(bonus="hoeffding", window=None, rewards="empirical")])
def test_compiled_equals_teaching_path_on_switching_models(kw):
    ns = switching([small(0), small(1)], 40, 160)
    kw = dict(kw)
    L = RestartUCBVI(kw.pop("bonus"), bonus_scale=0.05, **kw)
    a = run_nonstationary(L, ns, seeds=[2, 3], backend="compiled")
    b = run_nonstationary(L, ns, seeds=[2, 3], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    assert a.pseudo_regret.std() > 0


def test_restart_forgets_and_replans_from_scratch():
    m = small(3, noise="deterministic")
    L = RestartUCBVI(window=5, bonus_scale=0.01)
    L.prepare(m, 20)
    L.reset(m.S, m.A, m.H, seed_rng(0))
    rng = np.random.default_rng(1)
    for k in range(6):
        L.begin_episode(k)
        if k in (0, 5):                                   # epoch starts: no data, Q at the cap
            assert np.all(L._Q == m.H) and L._n.sum() == 0 and L._rcnt.sum() == 0
            assert np.all(L._pi == 0)
        else:
            assert L._n.sum() == k * m.H
        s = 0
        for h in range(m.H):
            a = int(L.act(h, s))
            s2 = int(rng.integers(m.S))
            L.observe(h, s, a, 0.5, s2)
            s = s2
        L.end_episode()


def test_optimistic_rewards_kernel_twin_and_by_hand():
    rng = np.random.default_rng(0)
    rcnt = rng.integers(0, 5, size=(3, 4, 2)).astype(float)
    rsum = rcnt * rng.random((3, 4, 2))
    ref = optimistic_rewards_ref(rsum, rcnt, 2.5, 0.3)
    out = np.empty_like(ref)
    optimistic_rewards(rsum, rcnt, 2.5, 0.3, out)
    np.testing.assert_array_equal(out, ref)
    h, s, a = np.argwhere(rcnt > 0)[0]
    n = rcnt[h, s, a]
    assert ref[h, s, a] == pytest.approx(min(1.0, rsum[h, s, a] / n + 0.3 * math.sqrt(2.5 / (2 * n))))
    assert np.all(ref[rcnt == 0] == 1.0)


def test_window_rule_and_bound_by_hand():
    # W* = ceil((K c_H sqrt(SA) / (2 H Delta))^(2/3)), c_H = H^1.5 (CH)
    S, A, H, K, D = 10, 2, 5, 5000, 15.0
    W = math.ceil((K * H ** 1.5 * math.sqrt(S * A) / (2 * H * D)) ** (2 / 3))
    assert restart_window(S, A, H, K, D) == W == 141
    assert restart_window(S, A, H, K, D, "bernstein") == math.ceil((K * math.sqrt(S * A) / (2 * D)) ** (2 / 3))
    assert restart_window(S, A, H, K, 0.0) == math.inf
    b = RestartUCBVI(window=1000).bound(S, A, H, K, variation=D)
    expect_lead = K / 1000 * H ** 1.5 * math.sqrt(S * A * 1000) + 1000 * H * D
    assert b.leading == pytest.approx(expect_lead) and b.lower_order == pytest.approx(K / 1000 * H * H * S * S * A)
    assert not b.explicit_constants and "not a published theorem" in b.theorem
    bw = RestartUCBVI().bound(S, A, H, np.array([K, 2 * K]), variation=D)
    W2 = restart_window(S, A, H, 2 * K, D)
    assert bw.leading[1] == pytest.approx(2 * K / W2 * H ** 1.5 * math.sqrt(S * A * W2) + W2 * H * D)
    with pytest.raises(ValueError, match="needs the variation budget"):
        RestartUCBVI().bound(S, A, H, K)


def test_restart_adapts_on_the_abrupt_lock():
    ns = bidirectional_combination_lock(5, "abrupt", 2000, period=1000)
    keep = run_nonstationary(RestartUCBVI(window=math.inf, bonus_scale=0.003), ns, seeds=2)
    rest = run_nonstationary(RestartUCBVI(window=1000, bonus_scale=0.003), ns, seeds=2)
    late = slice(1700, 2000)
    assert rest.pseudo_regret[:, late].mean() < 0.1 < keep.pseudo_regret[:, late].mean()


def test_validation_and_hom_check():
    with pytest.raises(ValueError, match="give window or variation_budget, not both"):
        RestartUCBVI(window=3, variation_budget=1.0)
    with pytest.raises(ValueError, match="window = 0 must be >= 1"):
        RestartUCBVI(window=0)
    with pytest.raises(TypeError, match="window must be an integer"):
        RestartUCBVI(window=2.5)
    with pytest.raises(ValueError, match="rewards must be one of"):
        RestartUCBVI(rewards="oracle")
    with pytest.raises(TypeError):
        RestartUCBVI("hoeffding", 10)
    L = RestartUCBVI()
    assert (L.bonus, L.window, L.rewards, L.delta, L.bonus_scale, L.cap) == ("hoeffding", None, "empirical", 0.01, 1.0, "H")
    rng = np.random.default_rng(0)
    stage_P = EpisodicMDP(rng.dirichlet(np.ones(3), size=(4, 3, 2)), rng.random((3, 2)), 4, 0)
    hom = EpisodicMDP(rng.dirichlet(np.ones(3), size=(3, 2)), rng.random((3, 2)), 4, 0)
    with pytest.raises(ValueError, match="time-homogeneous"):
        run_nonstationary(RestartUCBVI(window=5), switching([hom, stage_P], 3, 10), seeds=1)

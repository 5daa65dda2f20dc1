"""UCBVI: compiled loop == plain-Python twin, the paper's bonus by hand, optimism and
monotonicity in theory mode, the explicit Theorem 1 bound on every seed."""

import math

import numpy as np
import pytest

import mdptheory as m
from mdptheory.learners import UCBVI
from mdptheory.regret import run, seed_rng


def mdp_small(seed=0, S=3, A=2, H=4, noise="bernoulli"):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S) * 0.7, size=(S, A))
    R = rng.uniform(size=(S, A))
    return m.EpisodicMDP(P, R, H, np.ones(S) / S, reward_noise=noise)


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
@pytest.mark.parametrize("cap", ["H", "remaining"])
@pytest.mark.parametrize("scale", [1.0, 0.005])
def test_compiled_equals_python(bonus, cap, scale):
    mdp = mdp_small(seed=1)
    L = UCBVI(bonus, bonus_scale=scale, cap=cap)
    a = run(L, mdp, 150, [0, 5], backend="compiled")
    b = run(L, mdp, 150, [0, 5], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    if scale < 1:
        assert a.pseudo_regret[:, 1:].std() > 0  # the policy actually changes


def drive(L, mdp, K, seed=0):
    """Run the teaching protocol by hand and yield the learner after each plan."""
    L.prepare(mdp, K)
    rng = seed_rng(seed)
    L.reset(mdp.S, mdp.A, mdp.H, rng)
    P, R = mdp.stage_P(), mdp.stage_R()
    for k in range(K):
        L.begin_episode(k)
        yield L
        s = int(rng.choice(mdp.S, p=mdp.initial))
        for h in range(mdp.H):
            a = L.act(h, s)
            s2 = int(rng.choice(mdp.S, p=P[h, s, a]))
            L.observe(h, s, a, float(R[h, s, a]), s2)
            s = s2
        L.end_episode()


def test_last_stage_hoeffding_bonus_by_hand():
    mdp = mdp_small(seed=2, noise="deterministic")
    K, H, S, A = 60, 4, 3, 2
    L = UCBVI("hoeffding", delta=0.1)
    for k, lrn in enumerate(drive(L, mdp, K)):
        if k == K - 1:
            n = lrn._n
            Lg = math.log(5 * S * A * K * H / 0.1)
            # V_H = 0, so Q_{H-1} = min(Qprev, H, r + 7 H L / sqrt(n)) and Qprev >= this
            expect = np.where(n > 0, np.minimum(H, mdp.R + 7 * H * Lg / np.sqrt(np.maximum(n, 1))), H)
            np.testing.assert_allclose(lrn._Q[H - 1], expect, atol=1e-12)


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
def test_optimism_and_monotonicity_theory_mode(bonus):
    mdp = mdp_small(seed=3)
    Vstar = m.solve(mdp).V
    prev = None
    for lrn in drive(UCBVI(bonus), mdp, 300, seed=4):
        assert np.all(lrn._V >= Vstar - 1e-12)
        if prev is not None:
            assert np.all(lrn._Q <= prev + 1e-12)
        prev = lrn._Q.copy()


def test_ucbvi_ch_below_theorem1_bound_on_every_seed():
    mdp = mdp_small(seed=4, S=3, A=2, H=3)
    L = UCBVI("hoeffding", delta=0.05)
    K = 3000
    tr = run(L, mdp, K, 8)
    b = L.bound(3, 2, 3, np.arange(1, K + 1), 0.05).value
    assert np.all(tr.cumulative() <= b[None, :])
    assert np.all(tr.pseudo_regret >= -1e-12)


def test_ucbvi_learns_with_tuned_bonus():
    mdp = mdp_small(seed=5, S=3, A=2, H=3)
    tr = run(UCBVI("bernstein", bonus_scale=0.05), mdp, 3000, 2)
    assert tr.pseudo_regret[:, -500:].mean() < 0.05 * tr.pseudo_regret[:, :20].mean() + 1e-9


def test_ucbvi_rejects_bad_input():
    with pytest.raises(ValueError, match="bonus"):
        UCBVI("foo")
    with pytest.raises(ValueError, match="bonus_scale"):
        UCBVI(bonus_scale=0)
    with pytest.raises(ValueError, match="cap"):
        UCBVI(cap="x")
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(4, 3, 2))
    stage = m.EpisodicMDP(P, rng.uniform(size=(3, 2)), 4, 0)
    with pytest.raises(ValueError, match="HOM"):
        run(UCBVI(), stage, 5, 1)

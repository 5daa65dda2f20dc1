"""UCB-Advantage (Zhang, Zhou & Ji 2020): stage schedule against the paper's recurrence,
compiled == reference step for step, monotone Q, optimism in theory mode, RiverSwim regret."""

from fractions import Fraction

import numpy as np
import pytest

from mdptheory.core import EpisodicMDP
from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import UCBAdvantage, UniformRandom
from mdptheory.learners.ucb_advantage import stage_ends
from mdptheory.regret.engine import run
from mdptheory.solvers import solve


def _last_decade_exponent(cum):
    k = np.arange(1, cum.size + 1)
    sel = k >= cum.size // 10
    return np.polyfit(np.log(k[sel]), np.log(cum[sel]), 1)[0]


def _small(seed=0, H=4, stage=False, noise="deterministic"):
    rng = np.random.default_rng(seed)
    shape = (H, 3, 2) if stage else (3, 2)
    P = rng.dirichlet(np.ones(3), size=shape)
    return EpisodicMDP(P, rng.random(shape), H, np.full(3, 1 / 3), reward_noise=noise)


@pytest.mark.parametrize("H", [1, 2, 3, 7, 20])
def test_stage_ends_match_recurrence(H):
    # e_1 = H, e_{i+1} = floor((1 + 1/H) e_i), in exact rational arithmetic
    e, end, want = Fraction(H), H, []
    while end <= 5000:
        want.append(end)
        e = Fraction(int((1 + Fraction(1, H)) * e))
        end += int(e)
    assert stage_ends(H, 5000) == want


@pytest.mark.parametrize("stage,noise,bs", [(False, "deterministic", 0.05), (True, "bernoulli", 0.05),
                                            (False, "deterministic", 1.0)])
def test_compiled_equals_reference_step_for_step(stage, noise, bs):
    mdp = _small(stage=stage, noise=noise)
    L = UCBAdvantage(bonus_scale=bs, c4=1e-6)  # tiny N0 so the reference is learned in the run
    a = run(L, mdp, 400, seeds=[3], backend="python", progress=False)
    b = run(L, mdp, 400, seeds=[3], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    if bs < 1:
        assert np.ptp(a.pseudo_regret) > 0


def test_q_monotone_and_optimistic_in_theory_mode():
    """Q never increases (three-way min), and with the theory bonus Q >= Q* (optimism)."""
    mdp = _small(seed=4, H=3)
    L = UCBAdvantage()
    L.prepare(mdp, 2000)
    rng = np.random.default_rng(0)
    L.reset(mdp.S, mdp.A, mdp.H, rng)
    P = np.asarray(mdp.P)
    R = np.asarray(mdp.R)
    prev = L._Q.copy()
    for k in range(2000):
        L.begin_episode(k)
        s = int(rng.integers(3))
        for h in range(mdp.H):
            a = L.act(h, s)
            s2 = int(rng.choice(3, p=P[s, a]))
            L.observe(h, s, a, R[s, a], s2)
            s = s2
        L.end_episode()
        assert np.all(L._Q <= prev + 1e-12)
        prev = L._Q.copy()
    Qstar = solve(mdp).Q
    assert np.all(L._Q >= Qstar - 1e-9)
    assert np.any(L._Q < np.arange(mdp.H, 0, -1)[:, None, None])  # something was learned


def test_riverswim_regret_sublinear_and_below_uniform():
    mdp = riverswim(6, horizon=20)
    K = 20_000
    uni = run(UniformRandom(), mdp, K, seeds=[0], progress=False).pseudo_regret.sum()
    tr = run(UCBAdvantage(bonus_scale=0.02), mdp, K, seeds=[0, 1], progress=False)
    for c in np.cumsum(tr.pseudo_regret, axis=1):
        assert c[-1] < uni
        assert _last_decade_exponent(c) < 0.8


def test_validation_and_bound():
    with pytest.raises(ValueError, match="delta"):
        UCBAdvantage(delta=0)
    with pytest.raises(ValueError, match="beta"):
        UCBAdvantage(beta=0.0)
    with pytest.raises(ValueError, match="N1"):
        run(UCBAdvantage(), riverswim(6, horizon=5, large_reward=2.0), 2, seeds=1)
    b = UCBAdvantage().bound(6, 2, 20, np.array([1e2, 1e8]), 0.01)
    assert b.normalization == "N1" and b.setting == "INHOM"
    assert b.value[0] == pytest.approx(20 * 1e2)  # capped at HK for small K

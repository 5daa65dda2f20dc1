"""UCB-Advantage (Zhang, Zhou & Ji 2020): stage schedule against the paper's recurrence,
compiled == teaching path step for step, monotone Q, optimism in theory mode (RiverSwim
regret: tests/regret/test_riverswim_regret.py)."""

from fractions import Fraction

import numpy as np
import pytest

from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import UCBAdvantage
from mdptheory.learners.ucb_advantage import stage_ends
from mdptheory.regret.engine import run
from mdptheory.solvers import solve


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
def test_compiled_equals_reference_step_for_step(stage, noise, bs, random_episodic):
    mdp = random_episodic(stage=stage, noise=noise)
    L = UCBAdvantage(bonus_scale=bs, c4=1e-6)  # tiny N0 so the reference is learned in the run
    a = run(L, mdp, 400, seeds=[3], backend="python", progress=False)
    b = run(L, mdp, 400, seeds=[3], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    if bs < 1:
        assert np.ptp(a.pseudo_regret) > 0


def test_q_monotone_and_optimistic_in_theory_mode(random_episodic):
    """Q never increases (three-way min), and with the theory bonus Q >= Q* (optimism)."""
    mdp = random_episodic(H=3, seed=4)
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


def test_teaching_path_updates_q_only_at_stage_ends(random_episodic):
    """The teaching path takes its schedule from stage_ends (grown on demand, here without
    prepare()); Q_h(s, a) may change only when the count of (h, s, a) is a stage end."""
    mdp = random_episodic(H=3, seed=5)
    L = UCBAdvantage(bonus_scale=0.05, c4=1e-6)
    rng = np.random.default_rng(2)
    L.reset(mdp.S, mdp.A, mdp.H, rng)
    P, R = np.asarray(mdp.P), np.asarray(mdp.R)
    ends = set(stage_ends(mdp.H, 10 ** 5))
    changed_at = set()
    for k in range(1500):
        L.begin_episode(k)
        s = int(rng.integers(3))
        for h in range(mdp.H):
            a = L.act(h, s)
            s2 = int(rng.choice(3, p=P[s, a]))
            before = L._Q[h, s, a]
            L.observe(h, s, a, R[s, a], s2)
            if L._Q[h, s, a] != before:
                changed_at.add(int(L._n[h, s, a]))
            s = s2
        L.end_episode()
    assert changed_at and changed_at <= ends
    assert L._n.max() > 2 * mdp.H            # the schedule was grown past its first stages


def test_validation_and_bound():
    with pytest.raises(ValueError, match="delta"):
        UCBAdvantage(delta=0)
    with pytest.raises(ValueError, match="beta"):
        UCBAdvantage(beta=0.0)
    with pytest.raises(TypeError, match="delta"):
        UCBAdvantage(delta=True)
    with pytest.raises(TypeError, match="c1"):
        UCBAdvantage(c1="1")
    with pytest.raises(ValueError, match="c4"):
        UCBAdvantage(c4=-1.0)
    with pytest.raises(TypeError):
        UCBAdvantage(0.01)                          # keyword-only
    UCBAdvantage(bonus_scale=0, c1=0, c2=0, c3=0)   # zero switches a term off
    with pytest.raises(ValueError, match="K"):
        UCBAdvantage().bound(6, 2, 20, 0.5)
    with pytest.raises(TypeError, match="S"):
        UCBAdvantage().bound(6.0, 2, 20, 10)
    with pytest.raises(ValueError, match="N1"):
        run(UCBAdvantage(), riverswim(6, horizon=5, large_reward=2.0), 2, seeds=1)
    b = UCBAdvantage().bound(6, 2, 20, np.array([1e2, 1e20]), 0.01)
    assert b.normalization == "N1" and b.setting == "INHOM"
    # raw bound, with the trivial cap H K beside it: vacuous for small K, not for huge K
    np.testing.assert_array_equal(b.trivial_cap, 20 * np.array([1e2, 1e20]))
    assert b.vacuous.tolist() == [True, False]
    assert b.capped[0] == 20 * 1e2

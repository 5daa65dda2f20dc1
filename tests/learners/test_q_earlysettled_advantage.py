"""Q-EarlySettled-Advantage (Li, Shi, Chen, Gu & Chi 2021): compiled == reference; the three
bugs of a public implementation are absent (LCB subtracts its bonus, Q^LCB not in the final
min, settle flag per (h, s)); optimism / pessimism in theory mode (RiverSwim regret: tests/regret/test_riverswim_regret.py)."""

import numpy as np
import pytest

from mdptheory.learners import QEarlySettledAdvantage
from mdptheory.regret.engine import run
from mdptheory.solvers import solve


@pytest.mark.parametrize("stage,noise,bs", [(False, "bernoulli", 0.02), (True, "deterministic", 0.02),
                                            (False, "deterministic", 1.0)])
def test_compiled_equals_reference_step_for_step(stage, noise, bs, random_episodic):
    mdp = random_episodic(stage=stage, noise=noise)
    L = QEarlySettledAdvantage(bonus_scale=bs)
    a = run(L, mdp, 400, seeds=[9], backend="python", progress=False)
    b = run(L, mdp, 400, seeds=[9], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    if bs < 1:
        assert np.ptp(a.pseudo_regret) > 0


def _drive(L, mdp, K, seed=0):
    L.prepare(mdp, K)
    rng = np.random.default_rng(seed)
    L.reset(mdp.S, mdp.A, mdp.H, rng)
    P, R = np.asarray(mdp.P), np.asarray(mdp.R)
    for k in range(K):
        L.begin_episode(k)
        s = int(rng.integers(mdp.S))
        for h in range(mdp.H):
            a = L.act(h, s)
            s2 = int(rng.choice(mdp.S, p=P[s, a]))
            L.observe(h, s, a, R[s, a], s2)
            s = s2
        L.end_episode()


def test_upper_and_lower_bounds_sandwich_optimum_theory_mode(random_episodic):
    """Bug 1 (LCB adding its bonus) breaks V^LCB <= V*; bug 2 (Q^LCB in the min) breaks
    Q >= Q*. In theory mode both inequalities hold (w.h.p.) against backward induction."""
    mdp = random_episodic(H=3, seed=4)
    L = QEarlySettledAdvantage()
    _drive(L, mdp, 3000)
    sol = solve(mdp)
    assert np.all(L._Q >= sol.Q - 1e-9)
    assert np.all(L._Vlcb[:-1] <= sol.V[:-1] + 1e-9)
    assert np.all(L._Qlcb <= sol.Q + 1e-9)
    assert np.all(L._Vlcb[:-1] <= L._V[:-1] + 1e-9)


def test_settle_flag_is_per_stage_and_state(random_episodic):
    """Bug 3: a settle at (h=0, s) must not block the final reference update of (h=1, s).

    State prepared by hand: (0, s) already settled, (1, s) not, V^LCB_1(s) so high that the
    next update at (1, s) closes the gap below the threshold. The reference of (1, s) must
    then be set to V_1(s) and settled; with one flag per state it would stay stale. (The
    compiled loop is checked against an independent reference and against each injected bug
    in tests/learners/test_paper_references_b.py.)"""
    mdp = random_episodic(H=3, seed=2)
    L = QEarlySettledAdvantage(bonus_scale=0.01, settle_threshold=1.0)
    L.prepare(mdp, 100)
    L.reset(mdp.S, mdp.A, mdp.H, np.random.default_rng(0))
    assert L._uref.shape == (mdp.H, mdp.S) and L._uref.all()
    assert np.shares_memory(L._Qlcb, L._Q3) and np.all(L._Qlcb == 0) and np.all(L._QR == mdp.H)
    s = 1
    L._uref[0, s] = False                   # settled at stage 0 only
    L._Q[1, s, :] = 0.7                     # V_1(s) will be <= 0.7 after the update
    L._Vlcb[1, s] = 0.6                     # gap <= 0.1 < 1 after the update
    L._VR[1, s] = 3.0                       # a stale reference that must be overwritten
    L.observe(1, s, 0, 0.2, 2)
    assert L._V[1, s] <= 0.7 and L._V[1, s] - L._Vlcb[1, s] <= 1.0
    assert L._VR[1, s] == L._V[1, s]        # final update happened at (1, s)
    assert not L._uref[1, s]                # and (1, s) is now settled
    assert L._uref[2, s] and L._uref[1, (s + 1) % mdp.S]   # nobody else was touched
    # V is non-increasing and V^LCB non-decreasing, so the gap never reopens: a further
    # update with the gap below the threshold leaves the settled reference alone
    v_settled = L._VR[1, s]
    L._Q[1, s, :] = 0.65
    L.observe(1, s, 1, 0.0, 0)
    assert L._V[1, s] < v_settled and L._VR[1, s] == v_settled


def test_needs_K_and_validates():
    L = QEarlySettledAdvantage()
    with pytest.raises(ValueError, match="prepare"):
        L.reset(3, 2, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="c_b"):
        QEarlySettledAdvantage(c_b=-1)
    with pytest.raises(TypeError, match="settle_threshold"):
        QEarlySettledAdvantage(settle_threshold=False)
    with pytest.raises(TypeError):
        QEarlySettledAdvantage(0.01)                # keyword-only
    QEarlySettledAdvantage(bonus_scale=0.0, c_b=0.0, settle_threshold=0.0)
    b = L.bound(6, 2, 20, np.array([1e3, 1e9]), 0.01)
    assert b.normalization == "N1" and np.all(np.diff(b.value) > 0)

"""ReferenceCappedDoubling (reconstruction of Zhou, Zhang & Du 2023's model-free algorithm):
compiled == teaching path, the capped-doubling schedule fires exactly at counts 1, 2, 4, ... <= N_cap
(RiverSwim regret: tests/regret/test_riverswim_regret.py)."""

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.learners import ReferenceCappedDoubling, UCBAdvantage
from mdptheory.regret.engine import run


def test_compiled_equals_reference_step_for_step(random_episodic):
    mdp = random_episodic(seed=1, noise="bernoulli")
    L = ReferenceCappedDoubling(bonus_scale=0.05, c4=1e-4)
    a = run(L, mdp, 400, seeds=[5], backend="python", progress=False)
    b = run(L, mdp, 400, seeds=[5], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    assert np.ptp(a.pseudo_regret) > 0


def test_reference_updates_exactly_at_capped_powers_of_two(random_episodic):
    """Drive the teaching path by hand and watch V^ref after every observation: it may change
    only when the visit count c of (h, s) is a power of two <= N_cap, it equals V_h(s) right
    after every such count, and it never changes once c > N_cap (the run exceeds the cap)."""
    mdp = random_episodic(H=3, seed=2, noise="bernoulli")
    L = ReferenceCappedDoubling(bonus_scale=0.05, c4=1e-2)
    L.prepare(mdp, 600)
    rng = np.random.default_rng(1)
    L.reset(mdp.S, mdp.A, mdp.H, rng)
    cap = L._N0
    assert cap == int(np.ceil(1e-2 * 3 * 2 * 3 ** 5 * np.log(2 / 0.01)))     # = 78
    P = np.asarray(mdp.P)
    powers = {2 ** i for i in range(30)}
    changed_late = 0
    for k in range(600):
        L.begin_episode(k)
        s = 0
        for h in range(mdp.H):
            a = L.act(h, s)
            s2 = int(rng.choice(3, p=P[s, a]))
            before = L._Vref.copy()
            L.observe(h, s, a, 0.5, s2)
            c = int(L._Ns[h, s])
            diff = np.argwhere(L._Vref != before)
            assert all((int(i), int(j)) == (h, s) for i, j in diff)          # only the visited (h, s)
            if c in powers and c <= cap:
                assert L._Vref[h, s] == L._V[h, s]
                changed_late += bool(diff.size) and c > 1
            else:
                assert diff.size == 0, (h, s, c)                               # frozen between / after
            s = s2
        L.end_episode()
    assert L._Ns.max() > 2 * cap             # the freeze after the cap was exercised
    assert changed_late > 0                  # and the doubling really moved the reference


def test_differs_from_ucb_advantage_only_through_reference(random_episodic):
    mdp = random_episodic(seed=3, noise="bernoulli")
    A = ReferenceCappedDoubling(bonus_scale=0.05, c4=1e6)
    B = UCBAdvantage(bonus_scale=0.05, c4=1e6, beta=1.0)  # same N0, reference learned once
    for L in (A, B):
        run(L, mdp, 3000, seeds=[0], backend="python", progress=False)
    assert np.all(B._Vref[:-1] == mdp.H)  # never reached N0: the reference stayed at H
    assert np.all(A._Vref[:-1] < mdp.H)  # doubling refreshed it
    assert not np.allclose(A._V, B._V)  # and the learned values differ


def test_reference_capped_doubling_serial_equals_parallel(random_episodic):
    mdp = random_episodic(seed=4, noise="bernoulli")
    L = ReferenceCappedDoubling(bonus_scale=0.05, c4=1e-3)
    one = run(L, mdp, 200, seeds=[0, 1, 2], workers=1, progress=False)
    two = run(L, mdp, 200, seeds=[0, 1, 2], workers=2, progress=False)
    assert np.array_equal(one.returns, two.returns)
    assert np.array_equal(one.pseudo_regret, two.pseudo_regret)
    assert not np.array_equal(one.returns[0], one.returns[1])


def test_reference_capped_doubling_checks_n1_and_inputs():
    import pytest
    R = np.full((3, 2), 0.5)
    R[0, 1] = 1.25
    mdp = EpisodicMDP(np.ones((3, 2, 3)) / 3, R, 3, 0)
    with pytest.raises(ValueError, match=r"N1.*s=0, a=1.*1\.25"):
        run(ReferenceCappedDoubling(), mdp, 2, 1)
    with pytest.raises(ValueError, match="delta.*2"):
        ReferenceCappedDoubling(delta=2)
    with pytest.raises(ValueError, match="beta"):
        ReferenceCappedDoubling(beta=0.0)
    with pytest.raises(TypeError, match="beta"):
        ReferenceCappedDoubling(beta=True)
    with pytest.raises(TypeError):
        ReferenceCappedDoubling(0.01)               # keyword-only
    with pytest.raises(ValueError, match="var_star"):
        ReferenceCappedDoubling().bound(3, 2, 3, 10, 0.1, var_star=-1.0)
    b = ReferenceCappedDoubling(delta=0.2).bound(3, 2, 3, np.array([10.0, 1e6]))
    assert b.holds_with_probability == pytest.approx(0.8)
    np.testing.assert_array_equal(b.trivial_cap, 3 * np.array([10.0, 1e6]))   # H K, reported apart
    np.testing.assert_allclose(b.value, b.leading + b.lower_order)           # the raw bound
    np.testing.assert_array_equal(b.capped, np.minimum(b.value, b.trivial_cap))

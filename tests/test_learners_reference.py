"""ReferenceCappedDoubling (reconstruction of Zhou, Zhang & Du 2023's model-free algorithm):
compiled == reference, the capped-doubling schedule fires exactly at counts 1, 2, 4, ... <= N_cap,
RiverSwim regret."""

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import ReferenceCappedDoubling, UCBAdvantage, UniformRandom
from mdptheory.regret.engine import run


def _last_decade_exponent(cum):
    k = np.arange(1, cum.size + 1)
    sel = k >= cum.size // 10
    return np.polyfit(np.log(k[sel]), np.log(cum[sel]), 1)[0]


def _small(seed=1, H=4):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(3), size=(3, 2))
    return EpisodicMDP(P, rng.random((3, 2)), H, np.full(3, 1 / 3), reward_noise="bernoulli")


def test_compiled_equals_reference_step_for_step():
    mdp = _small()
    L = ReferenceCappedDoubling(bonus_scale=0.05, c4=1e-4)
    a = run(L, mdp, 400, seeds=[5], backend="python", progress=False)
    b = run(L, mdp, 400, seeds=[5], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    assert np.ptp(a.pseudo_regret) > 0


def test_reference_updates_exactly_at_capped_powers_of_two():
    mdp = _small(seed=2, H=3)
    L = ReferenceCappedDoubling(bonus_scale=0.05, c4=1e-4)
    L.prepare(mdp, 500)
    rng = np.random.default_rng(1)
    L.reset(mdp.S, mdp.A, mdp.H, rng)
    cap = L._N0
    assert cap == int(np.ceil(1e-4 * 3 * 2 * 3 ** 5 * np.log(2 / 0.01)))
    P = np.asarray(mdp.P)
    fired = {}
    for k in range(500):
        L.begin_episode(k)
        s = 0
        for h in range(mdp.H):
            a = L.act(h, s)
            s2 = int(rng.choice(3, p=P[s, a]))
            L.observe(h, s, a, 0.5, s2)
            c = int(L._Ns[h, s])
            # after the observation the reference equals V exactly when c is a power of 2 <= cap
            if c & (c - 1) == 0 and c <= cap:
                assert L._Vref[h, s] == L._V[h, s]
                fired.setdefault((h, s), []).append(c)
            s = s2
        L.end_episode()
    counts = L._Ns
    for (h, s), cs in fired.items():
        want = [2 ** i for i in range(20) if 2 ** i <= min(cap, counts[h, s])]
        assert cs == want


def test_differs_from_ucb_advantage_only_through_reference():
    mdp = _small(seed=3)
    A = ReferenceCappedDoubling(bonus_scale=0.05, c4=1e6)
    B = UCBAdvantage(bonus_scale=0.05, c4=1e6, beta=1.0)  # same N0, reference learned once
    for L in (A, B):
        run(L, mdp, 3000, seeds=[0], backend="python", progress=False)
    assert np.all(B._Vref[:-1] == mdp.H)  # never reached N0: the reference stayed at H
    assert np.all(A._Vref[:-1] < mdp.H)  # doubling refreshed it
    assert not np.allclose(A._V, B._V)  # and the learned values differ


def test_riverswim_regret_sublinear_and_below_uniform():
    mdp = riverswim(6, horizon=20)
    K = 20_000
    uni = run(UniformRandom(), mdp, K, seeds=[0], progress=False).pseudo_regret.sum()
    tr = run(ReferenceCappedDoubling(bonus_scale=0.02), mdp, K, seeds=[0, 1], progress=False)
    for c in np.cumsum(tr.pseudo_regret, axis=1):
        assert c[-1] < uni
        assert _last_decade_exponent(c) < 0.8

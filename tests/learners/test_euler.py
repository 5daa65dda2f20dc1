"""EULER (Zanette & Brunskill 2019; constants reconstructed): compiled == reference; upper value
>= V* and lower value <= V^pi of the played policy (checked by exact evaluation); RiverSwim."""

import numpy as np
import pytest

from mdptheory.core import EpisodicMDP
from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import EULER, UniformRandom
from mdptheory.regret.engine import run
from mdptheory.solvers import evaluate, solve


def _last_decade_exponent(cum):
    k = np.arange(1, cum.size + 1)
    sel = k >= cum.size // 10
    return np.polyfit(np.log(k[sel]), np.log(cum[sel]), 1)[0]


def _small(seed=0, H=4, noise="deterministic"):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(4), size=(4, 2))
    return EpisodicMDP(P, rng.random((4, 2)), H, np.full(4, 0.25), reward_noise=noise)


@pytest.mark.parametrize("noise,bs", [("bernoulli", 0.1), ("deterministic", 1.0)])
def test_compiled_equals_reference_step_for_step(noise, bs):
    mdp = _small(noise=noise)
    L = EULER(bonus_scale=bs)
    a = run(L, mdp, 300, seeds=[4], backend="python", progress=False)
    b = run(L, mdp, 300, seeds=[4], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    if bs < 1:
        assert np.ptp(a.pseudo_regret) > 0


def test_upper_lower_sandwich_theory_mode():
    mdp = _small(seed=3, noise="bernoulli")
    L = EULER()
    run(L, mdp, 2000, seeds=[0], backend="python", progress=False)
    L.begin_episode(2000)  # plan once more on all the data
    Vstar = solve(mdp).V
    pi = L.policy().copy()
    Vpi = evaluate(mdp, pi)
    assert np.all(L._Vup >= Vstar - 1e-9)
    assert np.all(L._Vlo <= Vpi + 1e-9)
    assert np.all(L._Vlo <= L._Vup + 1e-12)
    cap = np.arange(mdp.H, -1, -1)[:, None]
    assert np.all(L._Vup <= cap + 1e-12)


def test_riverswim_regret_sublinear_and_below_uniform_theory_mode():
    mdp = riverswim(6, horizon=20)
    K = 20_000
    uni = run(UniformRandom(), mdp, K, seeds=[0], progress=False).pseudo_regret.sum()
    tr = run(EULER(), mdp, K, seeds=[0, 1], progress=False)
    for c in np.cumsum(tr.pseudo_regret, axis=1):
        assert c[-1] < uni
        assert _last_decade_exponent(c) < 0.8


def test_bound_deterministic_only_lower_order():
    L = EULER()
    b0 = L.bound(6, 2, 20, np.array([1e3, 1e6]), 0.01, q_star=0.0)
    assert np.all(b0.leading == 0) and np.all(b0.lower_order > 0)
    with pytest.raises(ValueError, match="delta"):
        EULER(delta=2)

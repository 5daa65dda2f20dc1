"""EULER (Zanette & Brunskill 2019; constants recalled): compiled == reference; upper value
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
    with pytest.raises(TypeError, match="bonus_scale.*True"):
        EULER(bonus_scale=True)
    with pytest.raises(ValueError, match="q_star = -1.0"):
        L.bound(6, 2, 20, 10.0, q_star=-1.0)
    with pytest.raises(ValueError, match="total_reward = 0.0"):
        L.bound(6, 2, 20, 10.0, total_reward=0.0)
    with pytest.raises(TypeError):
        EULER(0.01)                             # keyword-only


def test_euler_rejects_stage_dependent_rewards():
    rng = np.random.default_rng(1)
    mdp = EpisodicMDP(rng.dirichlet(np.ones(3), size=(3, 2)), rng.random((4, 3, 2)), 4, np.full(3, 1 / 3))
    with pytest.raises(ValueError, match="EULER.*HOM.*stage-dependent R"):
        run(EULER(), mdp, 2, seeds=[0], progress=False)


@pytest.mark.parametrize("bs", [1.0, 0.05, 0.0])
def test_compiled_plan_equals_plain_twin(bs):
    """``euler_plan`` (loops, inline bonus helper) against ``euler_plan_ref`` (vectorised)
    on random counts with unvisited pairs and random rewards."""
    from mdptheory.learners.euler import euler_plan, euler_plan_ref
    rng = np.random.default_rng(11)
    S, A, H = 5, 3, 4
    Nsas = rng.integers(0, 4, size=(S, A, S)) * (rng.random((S, A, S)) < 0.6)
    Nsas[2, 1] = 0
    N = Nsas.sum(axis=2)
    Rsum = rng.random((S, A)) * N
    R2sum = Rsum * rng.random((S, A))
    L = 4.0
    Vup, Vlo, pi = np.empty((H + 1, S)), np.empty((H + 1, S)), np.empty((H, S), dtype=np.int64)
    euler_plan(N, Nsas, Rsum, R2sum, H, L, bs, Vup, Vlo, pi)
    Vu, Vl, pr = euler_plan_ref(N, Nsas, Rsum, R2sum, H, L, bs)
    np.testing.assert_allclose(Vup, Vu, rtol=0, atol=1e-12)
    np.testing.assert_allclose(Vlo, Vl, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(pi, pr)
    assert np.all(Vlo <= Vup)
    if bs < 1:
        assert np.ptp(Vlo) > 0                  # the lower recursion is exercised

"""PSRL: compiled loop == plain-Python twin, posterior draws against the Dirichlet/Beta
closed-form means, learning on a small MDP."""

import numpy as np
import pytest

import mdptheory as m
from mdptheory.learners import PSRL
from mdptheory.regret import run, seed_rng


def mdp_small(seed=0, S=3, A=2, H=4, noise="bernoulli"):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.uniform(size=(S, A))
    return m.EpisodicMDP(P, R, H, 0, reward_noise=noise)


@pytest.mark.parametrize("alpha0", [1.0, 0.2])
def test_compiled_equals_python(alpha0):
    mdp = mdp_small(seed=1)
    a = run(PSRL(alpha0), mdp, 200, [0, 3], backend="compiled")
    b = run(PSRL(alpha0), mdp, 200, [0, 3], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)


def test_posterior_means():
    L = PSRL(alpha0=0.5)
    mdp = mdp_small()
    L.prepare(mdp, 10)
    L.reset(3, 2, 4, seed_rng(0))
    L._N[1, 0] = [3.0, 0.0, 7.0]
    L._succ[1, 0], L._fail[1, 0] = 4.0, 1.0
    draws_P, draws_R = [], []
    for k in range(4000):
        L.begin_episode(k)
        draws_P.append(L._Pt[1, 0].copy())
        draws_R.append(L._Rt[1, 0])
    dP, dR = np.array(draws_P), np.array(draws_R)
    alpha = np.array([3.5, 0.5, 7.5])
    mean = alpha / alpha.sum()
    var = mean * (1 - mean) / (alpha.sum() + 1)  # Dirichlet marginal variance
    assert np.all(np.abs(dP.mean(0) - mean) < 5 * np.sqrt(var / len(dP)))
    beta_mean, beta_var = 5 / 7, (5 * 2) / (7**2 * 8)  # Beta(5, 2)
    assert abs(dR.mean() - beta_mean) < 5 * np.sqrt(beta_var / len(dR))
    np.testing.assert_allclose(dP.sum(axis=1), 1.0, atol=1e-12)


def test_psrl_learns():
    mdp = mdp_small(seed=2, S=3, A=2, H=3)
    tr = run(PSRL(), mdp, 2000, 2)
    assert tr.pseudo_regret[:, -500:].mean() < 0.1 * tr.pseudo_regret[:, :20].mean() + 1e-9


def test_psrl_errors_and_bound():
    with pytest.raises(ValueError, match="alpha0"):
        PSRL(alpha0=0)
    rng = np.random.default_rng(0)
    stage = m.EpisodicMDP(rng.dirichlet(np.ones(3), size=(4, 3, 2)), rng.uniform(size=(3, 2)), 4, 0)
    with pytest.raises(ValueError, match="stationary"):
        run(PSRL(), stage, 3, 1)
    b = PSRL().bound(3, 2, 4, 100)
    assert b.holds_with_probability is None and float(b) == pytest.approx(
        4 * 3 * np.sqrt(2 * 400 * np.log(3 * 2 * 400)))

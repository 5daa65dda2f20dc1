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
    a = run(PSRL(alpha0=alpha0), mdp, 200, [0, 3], backend="compiled")
    b = run(PSRL(alpha0=alpha0), mdp, 200, [0, 3], backend="python")
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
    with pytest.raises(ValueError, match="alpha0 = 0.0 must be > 0"):
        PSRL(alpha0=0)
    with pytest.raises(TypeError, match="alpha0.*True"):
        PSRL(alpha0=True)
    with pytest.raises(TypeError, match="delta.*'0.1'"):
        PSRL(delta="0.1")
    with pytest.raises(TypeError):
        PSRL(1.0)                               # keyword-only
    assert (PSRL().alpha0, PSRL().delta) == (1.0, 0.01)
    rng = np.random.default_rng(0)
    stage = m.EpisodicMDP(rng.dirichlet(np.ones(3), size=(4, 3, 2)), rng.uniform(size=(3, 2)), 4, 0)
    with pytest.raises(ValueError, match="HOM"):
        run(PSRL(), stage, 3, 1)
    stage_r = m.EpisodicMDP(rng.dirichlet(np.ones(3), size=(3, 2)), rng.uniform(size=(4, 3, 2)), 4, 0)
    with pytest.raises(ValueError, match="HOM.*stage-dependent R"):
        run(PSRL(), stage_r, 3, 1)
    b = PSRL().bound(3, 2, 4, 100)
    assert b.holds_with_probability is None and float(b) == pytest.approx(
        4 * 3 * np.sqrt(2 * 400 * np.log(3 * 2 * 400)))


@pytest.mark.parametrize("S", [3, 11])
def test_compiled_sampler_equals_plain_twin(S):
    """``psrl_sample_model`` (scalar gamma draws) and ``psrl_sample_model_ref`` (one
    vectorised draw) consume the same stream and give the same model."""
    from mdptheory.learners.psrl import psrl_sample_model, psrl_sample_model_ref
    A = 2
    rng = np.random.default_rng(5)
    N = rng.integers(0, 6, size=(S, A, S)).astype(float)
    succ = rng.integers(0, 4, size=(S, A)).astype(float)
    fail = rng.integers(0, 4, size=(S, A)).astype(float)
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    Pt, Rt = psrl_sample_model_ref(r1, N, succ, fail, 0.4)
    Pc, Rc = np.empty((S, A, S)), np.empty((S, A))
    psrl_sample_model(r2, N, succ, fail, 0.4, Pc, Rc)
    np.testing.assert_allclose(Pc, Pt, rtol=1e-14, atol=0)   # sums in another order for S >= 8
    np.testing.assert_array_equal(Rc, Rt)
    assert r1.random() == r2.random()                          # same number of draws

"""Tests of the LinearMDP core objects, the linear-MDP generators and the estimators.

Independent sources: the definition P = phi mu, r = phi theta; least-squares value iteration
written out by hand (Jin et al. 2020, exact model); the tabular solver; the law of large
numbers for the samplers; a plain-numpy twin for the numba TD kernel.
"""

import numpy as np
import pytest

from mdptheory import DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP, evaluate, solve
from mdptheory.envs import linear_mdp_instance, random_linear_mdp, tabular_linear_mdp
from mdptheory.probes import fqe, lstd, sample_transitions, td0


def _parts(S=5, A=2, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(d), size=(S, A)), rng.dirichlet(np.ones(S), size=d), rng.random(d)


def test_linear_mdp_to_mdp_matches_definition():
    phi, mu, theta = _parts()
    m = LinearMDP(phi, mu, theta, 4, 0)
    e = m.to_mdp()
    assert isinstance(e, EpisodicMDP) and e.horizon == 4
    for s in range(5):
        for a in range(2):
            np.testing.assert_allclose(e.P[s, a], sum(phi[s, a, k] * mu[k] for k in range(3)), atol=1e-15)
            assert e.R[s, a] == pytest.approx(float(phi[s, a] @ theta))
    dm = DiscountedLinearMDP(phi, mu, theta, 0.9)
    assert isinstance(dm.to_mdp(), DiscountedMDP) and dm.to_mdp().gamma == 0.9
    with pytest.raises(ValueError):
        m.phi[0, 0, 0] = 1.0  # read-only


def test_linear_mdp_stage_dependent():
    rng = np.random.default_rng(1)
    H, S, A, d = 3, 4, 2, 2
    phi = rng.dirichlet(np.ones(d), size=(H, S, A))
    mu = rng.dirichlet(np.ones(S), size=(H, d))
    theta = rng.random((H, d))
    m = LinearMDP(phi, mu, theta, H, np.full(S, 0.25))
    e = m.to_mdp()
    np.testing.assert_allclose(e.P, np.einsum("hsak,hkt->hsat", phi, mu), atol=1e-15)
    np.testing.assert_allclose(e.R, np.einsum("hsak,hk->hsa", phi, theta))


def test_linear_mdp_validation_messages():
    phi, mu, theta = _parts()
    bad = mu.copy()
    bad[0, 0] -= 2.0  # rows of phi.mu still sum to one, but P(., ., s'=0) turns negative
    bad[0, 4] += 2.0
    with pytest.raises(ValueError, match=r"P\(s=\d, a=\d, s'=0\)"):
        LinearMDP(phi, bad, theta, 2, 0)
    with pytest.raises(ValueError, match="sums to"):
        LinearMDP(phi, mu * 1.01, theta, 2, 0)
    with pytest.raises(ValueError, match="mu must have shape"):
        LinearMDP(phi, mu.T, theta, 2, 0)
    with pytest.raises(ValueError, match="theta must have shape"):
        DiscountedLinearMDP(phi, mu, np.ones(4), 0.9)
    with pytest.raises(ValueError, match="not finite"):
        LinearMDP(phi, mu, np.array([0.0, np.nan, 0.0]), 2, 0)
    with pytest.raises(ValueError, match="gamma"):
        DiscountedLinearMDP(phi, mu, theta, 1.2)
    with pytest.raises(TypeError, match="horizon"):
        LinearMDP(phi, mu, theta, 2.5, 0)


def test_linear_value_iteration_matches_solver():
    """Exact LSVI on a linear MDP: Q_h = phi (theta + mu V_{h+1}) with V = max_a Q; the
    parameters live in R^d and must reproduce the tabular backward induction."""
    lin = random_linear_mdp(6, 3, 4, horizon=5, seed=3)
    sol = solve(lin.to_mdp())
    phi, mu, theta = np.asarray(lin.phi), np.asarray(lin.mu), np.asarray(lin.theta)
    V = np.zeros(6)
    for h in reversed(range(5)):
        w = theta + mu @ V
        Q = phi @ w
        np.testing.assert_allclose(Q, sol.Q[h], atol=1e-12)
        V = Q.max(axis=1)


def test_tabular_linear_roundtrip():
    rng = np.random.default_rng(0)
    mdp = DiscountedMDP(rng.dirichlet(np.ones(4), size=(4, 2)), rng.random((4, 2)), 0.8)
    lin = tabular_linear_mdp(mdp)
    back = lin.to_mdp()
    np.testing.assert_allclose(back.P, mdp.P)
    np.testing.assert_allclose(back.R, mdp.R)
    ep = EpisodicMDP(mdp.P, mdp.R, 3, 0)
    np.testing.assert_allclose(tabular_linear_mdp(ep).to_mdp().P, ep.P)


def test_linear_instance_w_star_is_q_pi():
    inst = linear_mdp_instance(S=6, A=2, d=3, gamma=0.9, seed=4)
    V = evaluate(inst.mdp, inst.policy)
    Q = np.asarray(inst.mdp.R) + 0.9 * inst.mdp.dense_P() @ V
    np.testing.assert_allclose(inst.features @ inst.w_star, Q, atol=1e-10)


# -- samplers and estimators --------------------------------------------------------------

def test_sample_transitions_frequencies_and_seeding():
    rng = np.random.default_rng(0)
    S, A = 4, 2
    P = rng.dirichlet(np.ones(S), size=(S, A))
    P[1, 0] = [0.0, 0.5, 0.0, 0.5]
    mdp = DiscountedMDP(P, rng.random((S, A)), 0.9)
    mu = rng.dirichlet(np.ones(S * A))
    mu[3] = 0.0
    mu /= mu.sum()
    n = 200_000
    for m in (mdp, mdp.to_sparse()):
        tr = sample_transitions(m, mu, n, seed=7)
        counts = np.bincount(tr.sa, minlength=S * A) / n
        assert counts[3] == 0
        np.testing.assert_allclose(counts, mu, atol=4 * np.sqrt(0.25 / n))
        for i in (0, 2, 5):
            sel = tr.next_state[tr.sa == i]
            emp = np.bincount(sel, minlength=S) / sel.size
            np.testing.assert_allclose(emp, P.reshape(S * A, S)[i], atol=5 / np.sqrt(sel.size))
        assert np.all(tr.next_state[tr.sa == 2] % 2 == 1)  # P[1, 0] only reaches states 1 and 3
    a = sample_transitions(mdp, mu, 1000, seed=3)
    b = sample_transitions(mdp, mu, 1000, seed=3)
    np.testing.assert_array_equal(a.next_state, b.next_state)
    np.testing.assert_array_equal(a.reward, b.reward)


def test_td_kernel_matches_numpy_twin():
    inst = linear_mdp_instance(S=5, A=2, d=3, gamma=0.9, seed=2)
    mdp = inst.mdp.replace(reward_noise="gaussian", reward_std=0.5)
    kw = dict(steps=5000, step_size=0.05, expected=False, seed=11, record_every=50)
    a = td0(mdp, inst.features, inst.policy, inst.mu, engine="numba", **kw)
    b = td0(mdp, inst.features, inst.policy, inst.mu, engine="numpy", **kw)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.steps, b.steps)
    c = td0(mdp, inst.features, inst.policy, inst.mu, engine="numba", **kw)
    np.testing.assert_array_equal(a.weights, c.weights)


def test_td_sampled_converges_on_policy_linear_mdp():
    inst = linear_mdp_instance(S=5, A=2, d=3, gamma=0.7, seed=5)
    tr = td0(inst.mdp, inst.features, inst.policy, "on-policy", steps=60_000, step_size=0.02,
             expected=False, seed=0, record_every=1000)
    assert not tr.diverged
    assert tr.errors[-1] < 0.1 * tr.errors[0]


def test_lstd_consistent_and_fqe_exact():
    inst = linear_mdp_instance(S=6, A=2, d=3, gamma=0.8, seed=6)
    mdp = inst.mdp.replace(reward_noise="gaussian", reward_std=1.0)
    tr = lstd(mdp, inst.features, inst.policy, inst.mu, sample_sizes=[100, 1000, 10_000, 100_000], seed=1)
    assert tr.errors[-1] < 0.05
    assert tr.errors[-1] < tr.errors[0]
    # exact LSTD equals w*
    np.testing.assert_allclose(lstd(mdp, inst.features, inst.policy, inst.mu).final, inst.w_star, atol=1e-10)
    # exact FQE on a complete class is exact DP on the class: converges to w* geometrically
    f = fqe(mdp, inst.features, inst.policy, inst.mu, iterations=200)
    np.testing.assert_allclose(f.final, inst.w_star, atol=1e-8)
    # sampled FQE with a large data set lands near w*
    fs = fqe(mdp, inst.features, inst.policy, inst.mu, iterations=100, n_samples=50_000, seed=2)
    assert fs.errors[-1] < 0.1

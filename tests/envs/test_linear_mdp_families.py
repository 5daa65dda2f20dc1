"""Linear-MDP families: the simplex / latent construction (stationary and stage-dependent)
against its definition written here, Assumption A's norms, Proposition 2.3 of Jin et al.
(2020) -- Q^pi_h = phi w^pi_h with w^pi_h = theta_h + mu_h V^pi_{h+1} -- for random policies
(values from the exact solver), and the misspecified family's distance to the nearest linear
kernel computed by an independent linear program."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

import mdptheory as m
from mdptheory.envs import tabular_linear_mdp
from mdptheory.envs.linear_mdp import linear_assumption, misspecified_linear_mdp, random_linear_mdp


def test_default_call_is_the_documented_construction():
    S, A, d, H = 6, 3, 4, 5
    lin = random_linear_mdp(S, A, d, horizon=H, seed=7)
    rng = np.random.default_rng(7)
    phi = rng.dirichlet(np.ones(d), size=(S, A))
    mu = rng.dirichlet(np.ones(S), size=d)
    theta = rng.random(d)
    np.testing.assert_array_equal(lin.phi, phi)
    np.testing.assert_array_equal(lin.mu, mu)
    np.testing.assert_array_equal(lin.theta, theta)
    np.testing.assert_allclose(lin.to_mdp().P, np.einsum("sak,kt->sat", phi, mu), atol=1e-15)
    assert lin.H == H and lin.to_mdp().stationary


def test_stage_dependent_family_and_assumption_a():
    S, A, d, H = 5, 2, 3, 4
    lin = random_linear_mdp(S, A, d, horizon=H, seed=3, stage_dependent=True)
    assert lin.mu.shape == (H, d, S) and lin.theta.shape == (H, d)
    P = lin.to_mdp().dense_P()
    assert P.shape == (H, S, A, S) and not np.allclose(P[0], P[1])
    np.testing.assert_allclose(P[2], np.asarray(lin.phi) @ np.asarray(lin.mu)[2], atol=1e-14)
    rep = linear_assumption(lin.phi, lin.mu, lin.theta)
    assert rep.holds
    assert rep.max_phi_norm == pytest.approx(np.linalg.norm(lin.phi, axis=-1).max())
    assert rep.max_mu_norm == pytest.approx(np.sqrt(d))                 # mu_h(S) = (1, ..., 1)
    assert rep.max_theta_norm <= np.sqrt(d)
    assert not linear_assumption(2 * np.asarray(lin.phi), lin.mu, lin.theta).holds
    with pytest.raises(ValueError, match="stage_dependent"):
        random_linear_mdp(S, A, d, gamma=0.9, stage_dependent=True)
    with pytest.raises(TypeError, match="seed"):
        random_linear_mdp(S, A, d, horizon=2, seed=None)


def _random_policy(rng, H, S, A):
    return rng.dirichlet(np.ones(A), size=(H, S))


@pytest.mark.parametrize("stage", [False, True])
def test_proposition_2_3_q_pi_is_linear_in_phi(stage):
    """Q^pi_h(s, a) = <phi(s, a), theta_h + sum_s' V^pi_{h+1}(s') mu_h(s')> for every policy."""
    S, A, d, H = 7, 3, 3, 4
    lin = random_linear_mdp(S, A, d, horizon=H, seed=11, stage_dependent=stage)
    phi = np.asarray(lin.phi)
    mu = np.broadcast_to(lin.mu, (H, d, S))
    theta = np.broadcast_to(lin.theta, (H, d))
    rng = np.random.default_rng(0)
    for _ in range(3):
        pi = _random_policy(rng, H, S, A)
        Q = m.evaluate_q(lin.to_mdp(), pi)                  # exact, tabular
        V = m.evaluate(lin.to_mdp(), pi)
        for h in range(H):
            w = theta[h] + mu[h] @ V[h + 1]
            np.testing.assert_allclose(phi @ w, Q[h], atol=1e-12)
            fit, res, *_ = np.linalg.lstsq(phi.reshape(-1, d), Q[h].ravel(), rcond=None)
            np.testing.assert_allclose(fit, w, atol=1e-10)


def test_tabular_embedding_satisfies_assumption_a(random_episodic):
    mdp = random_episodic(S=3, A=2, H=3, seed=2, stage=True)
    lin = tabular_linear_mdp(mdp)
    rep = linear_assumption(lin.phi, lin.mu, lin.theta)
    assert rep.holds and rep.d == 6 and rep.max_phi_norm == 1.0
    assert rep.max_mu_norm == pytest.approx(np.sqrt(6))


def nearest_linear_distance(P, phi):
    """min over signed mu of max_{s, a} 1/2 ||P(.|s, a) - phi(s, a)^T mu||_1, one stage, as an LP
    in (mu (d*S), e (S*A*S) >= |residual|, t)."""
    S, A, _ = P.shape
    d = phi.shape[-1]
    n_mu, n_e = d * S, S * A * S
    nvar = n_mu + n_e + 1
    rows, rhs = [], []
    for s in range(S):
        for a in range(A):
            for t in range(S):
                e_idx = n_mu + (s * A + a) * S + t
                for sign in (1.0, -1.0):             # sign (P - phi mu) <= e
                    row = np.zeros(nvar)
                    row[[k * S + t for k in range(d)]] = -sign * phi[s, a]
                    row[e_idx] = -1.0
                    rows.append(row)
                    rhs.append(-sign * P[s, a, t])
            row = np.zeros(nvar)                     # 1/2 sum_t e <= t
            row[n_mu + (s * A + a) * S: n_mu + (s * A + a + 1) * S] = 0.5
            row[-1] = -1.0
            rows.append(row)
            rhs.append(0.0)
    c = np.zeros(nvar)
    c[-1] = 1.0
    bounds = [(None, None)] * n_mu + [(0, None)] * (n_e + 1)
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    assert res.status == 0
    return res.fun


@pytest.mark.parametrize("zeta", [0.0, 0.05, 0.3, 0.5])
def test_misspecified_family_distance_is_exactly_zeta(zeta):
    S, A, d, H = 4, 4, 2, 2
    f = misspecified_linear_mdp(S, A, d, H, zeta, seed=5)
    P = f.mdp.dense_P()
    phi = np.asarray(f.phi)
    assert f.zeta == zeta and f.mdp.stage_dependent_P
    np.testing.assert_array_equal(phi[:, 0::2], phi[:, 1::2])           # twins share features
    assert np.all(P >= 0) and np.allclose(P.sum(-1), 1.0)
    for h in range(H):
        assert nearest_linear_distance(P[h], phi) == pytest.approx(zeta, abs=1e-7)
    # rewards are exactly linear in phi, in [0, 1]
    R = np.asarray(f.mdp.R)
    for h in range(H):
        sol, *_ = np.linalg.lstsq(phi.reshape(-1, d), R[h].ravel(), rcond=None)
        np.testing.assert_allclose(phi @ sol, R[h], atol=1e-12)


def test_misspecified_q_pi_not_linear_but_zeta_zero_is():
    rng = np.random.default_rng(1)
    S, A, d, H = 6, 2, 2, 3
    for zeta, linear in ((0.0, True), (0.3, False)):
        f = misspecified_linear_mdp(S, A, d, H, zeta, seed=2)
        phi = np.asarray(f.phi).reshape(-1, d)
        pi = _random_policy(rng, H, S, A)
        Q = m.evaluate_q(f.mdp, pi)
        res = max(np.abs(phi @ np.linalg.lstsq(phi, Q[h].ravel(), rcond=None)[0] - Q[h].ravel()).max()
                  for h in range(H - 1))                      # the last stage is r_h: always linear
        assert (res < 1e-10) == linear, res


def test_misspecified_validation():
    with pytest.raises(ValueError, match="even"):
        misspecified_linear_mdp(4, 3, 2, 2, 0.1)
    with pytest.raises(ValueError, match="zeta"):
        misspecified_linear_mdp(4, 2, 2, 2, 0.6)
    with pytest.raises(TypeError, match="seed"):
        misspecified_linear_mdp(4, 2, 2, 2, 0.1, seed=1.5)


def test_tabular_embedding_checks_reward_norm(random_episodic):
    mdp = random_episodic(S=3, A=2, H=2, seed=4)
    big = mdp.replace(R=10.0 * np.asarray(mdp.R))          # ||theta|| = 10 ||R|| > sqrt(6)
    assert np.linalg.norm(np.asarray(big.R)) > np.sqrt(6)
    with pytest.raises(ValueError, match="Assumption A"):
        tabular_linear_mdp(big)
    assert tabular_linear_mdp(big, check_assumption=False).d == 6

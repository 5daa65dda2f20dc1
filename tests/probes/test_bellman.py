"""Tests of the policy-evaluation and optimality-operator probes (mdptheory.probes).

Expected values come from closed forms (derived in proofs_notes/tsitsiklis_van_roy.md and
proofs_notes/bellman_completeness.md), from a second, independent computation (generalised
symmetric eigenproblems with scipy.linalg.eigh, brute-force sampling, cvxpy for the LP), or
from theorems.
"""

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mdptheory import DiscountedMDP, evaluate, solve
from mdptheory.envs import baird_star, linear_mdp_instance, tsitsiklis_van_roy
from mdptheory.probes import (
    LinearClass,
    bellman_report,
    inherent_bellman_error_ball,
    local_ibe_optimality,
    sup_norm_projection,
    zanette_ibe,
)
from mdptheory.envs import random_linear_mdp


# -- helpers: an independent, brute-force implementation in the original parameters ---------

def _dense(mdp, phi, pi, mu):
    """Full-rank reference matrices on supp(mu): G = Phi'DPhi etc. (no SVD tricks)."""
    S, A = mdp.S, mdp.A
    P = mdp.dense_P().reshape(S * A, S)
    Phi = phi.reshape(S * A, -1)
    phipi = np.einsum("sa,sad->sd", pi, phi)
    Y = mdp.gamma * P @ phipi
    D = np.diag(mu.reshape(-1))
    return Phi, Y, D


def _gen_max(Num, Den):
    """max_v v'Num v / v'Den v for Den > 0 (scipy generalised eigensolver)."""
    return float(sla.eigh(Num, Den, eigvals_only=True)[-1])


def _random_instance(rng, S, A, d, gamma, full_mu=True):
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.standard_normal((S, A))
    mdp = DiscountedMDP(P, R, gamma)
    phi = rng.standard_normal((S, A, d))
    pi = rng.dirichlet(np.ones(A), size=S)
    mu = rng.dirichlet(np.ones(S * A)).reshape(S, A) if full_mu else None
    return mdp, phi, pi, mu


# -- reference values ----------------------------------------------------------------------

@pytest.mark.parametrize("gamma", [0.8, 0.9, 0.99])
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_tsitsiklis_van_roy_closed_forms(gamma, eps):
    inst = tsitsiklis_van_roy(eps, gamma)
    r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
    rho = gamma * (6 - 4 * eps) / 5
    assert r.fqe_spectral_radius == pytest.approx(rho, rel=1e-12)
    assert r.eps_inc == pytest.approx(2 * gamma * (1 + eps) / 5, rel=1e-12)
    assert r.td_eigenvalues.real[0] == pytest.approx((5 - gamma * (6 - 4 * eps)) / 2, rel=1e-12)
    assert r.kappa == pytest.approx(1 / abs(1 - rho), rel=1e-10)
    # kappa_c by hand: ||Phi||_mu / ||(I - gamma P)Phi||_mu with Phi = (1, 2)
    kc = np.sqrt(0.5 * (1 + 4)) / np.sqrt(0.5 * ((1 - 2 * gamma) ** 2 + (2 - 2 * gamma * (1 - eps)) ** 2))
    assert r.kappa_c == pytest.approx(kc, rel=1e-12)
    assert r.realizability_error == 0.0 and not r.complete
    assert r.fqe_converges == (gamma < 5 / (6 - 4 * eps))


def test_tsitsiklis_van_roy_table_values():
    """The notes' table (epsilon = 0), to the printed digits."""
    table = {0.8: (0.960, 0.320, 3.101, 25.0, 401.6, 0.10),
             0.9: (1.080, 0.360, 2.712, 12.5, 113.9, -0.20),
             0.99: (1.188, 0.396, 2.281, 5.32, 23.6, -0.47)}
    for g, (rho, eps, kc, k, bound, a) in table.items():
        inst = tsitsiklis_van_roy(0.0, g)
        r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
        assert round(r.fqe_spectral_radius, 3) == rho
        assert round(r.eps_inc, 3) == eps
        assert round(r.kappa_c, 3) == kc
        assert r.kappa == pytest.approx(k, abs=0.006)
        assert r.amplification_bound == pytest.approx(bound, abs=0.06)
        assert round(r.td_eigenvalues.real[0], 2) == a


def test_baird_report():
    inst = baird_star()
    r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
    ev = np.sort(r.td_eigenvalues.real)
    np.testing.assert_allclose(ev[:2], [-0.2393, -0.0222], atol=5e-5)
    assert abs(ev[2]) < 1e-12
    np.testing.assert_allclose(ev[3:], 4 / 7, rtol=1e-12)
    assert np.abs(r.td_eigenvalues.imag).max() < 1e-12
    assert r.eps_inc < 1e-12 and r.complete and r.realizability_error == 0.0
    assert r.fqe_converges and r.fqe_spectral_radius == pytest.approx(0.99, rel=1e-12)
    assert not r.td_stable
    assert r.kappa == pytest.approx(r.kappa_c, rel=1e-10)
    assert r.rank == 7 and r.d == 8 and r.identifiable
    # IBE on any centred ball is 0 (complete and realizable)
    b = inherent_bellman_error_ball(inst.mdp, inst.features, inst.policy, inst.mu, 3.0)
    assert b.upper < 1e-12


# -- complete classes ----------------------------------------------------------------------

def test_tabular_features_complete():
    rng = np.random.default_rng(3)
    mdp, _, pi, mu = _random_instance(rng, 5, 3, 1, 0.9)
    phi = np.eye(15).reshape(5, 3, 15)
    r = bellman_report(mdp, phi, pi, mu)
    assert r.eps_inc < 1e-12 and r.complete
    assert r.kappa == pytest.approx(r.kappa_c, rel=1e-10)
    assert r.realizability_error < 1e-10 and r.fixed_point_error < 1e-10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_mdp_complete(seed):
    inst = linear_mdp_instance(S=7, A=3, d=4, gamma=0.85, seed=seed)
    r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
    assert r.eps_inc < 1e-10 and r.complete
    assert r.kappa == pytest.approx(r.kappa_c, rel=1e-9)
    # realizable with the closed-form parameter w* = theta + gamma mu V^pi
    np.testing.assert_allclose(inst.features.reshape(-1, 4) @ inst.w_star,
                               inst.features.reshape(-1, 4) @ r.w_fixed_point, atol=1e-10)
    assert r.realizability_error < 1e-10


@pytest.mark.parametrize("seed", range(4))
def test_on_policy_contraction(seed):
    """On-policy mu: ||Pi gamma P^pi||_mu <= gamma, hence rho(FQE) <= gamma and
    kappa <= 1/(1-gamma) (Tsitsiklis & Van Roy 1997, Lemma 1)."""
    rng = np.random.default_rng(seed)
    mdp, phi, pi, _ = _random_instance(rng, 6, 2, 3, 0.9)
    r = bellman_report(mdp, phi, pi, "on-policy")
    assert r.fqe_converges and r.fqe_spectral_radius <= 0.9 + 1e-12
    assert r.kappa <= 1 / (1 - 0.9) + 1e-9
    assert r.td_stable


def test_on_policy_mu_is_stationary():
    rng = np.random.default_rng(5)
    mdp, phi, pi, _ = _random_instance(rng, 6, 2, 3, 0.9)
    from mdptheory.probes import resolve_mu
    mu = resolve_mu(mdp, pi, "on-policy").reshape(6, 2)
    P = mdp.dense_P()
    nxt = np.einsum("sa,sat,tb->tb", mu, P, pi)
    np.testing.assert_allclose(nxt, mu, atol=1e-13)


# -- independent cross-checks and the amplification lemma -----------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), S=st.integers(2, 6), A=st.integers(1, 3), d=st.integers(1, 4),
       gamma=st.floats(0.1, 0.99))
def test_probes_match_generalised_eigenproblems(seed, S, A, d, gamma):
    rng = np.random.default_rng(seed)
    mdp, phi, pi, mu = _random_instance(rng, S, A, min(d, S * A), gamma)
    Phi, Y, D = _dense(mdp, phi, pi, mu)
    G = Phi.T @ D @ Phi
    assume(np.linalg.cond(G) <= 1e8)  # the dense reference needs an invertible G
    r = bellman_report(mdp, phi, pi, mu)
    Pi = Phi @ np.linalg.solve(G, Phi.T @ D)
    I = np.eye(Phi.shape[0])
    K = (I - Pi) @ Y
    eps2 = _gen_max(K.T @ D @ K, G) if K.any() else 0.0
    assert r.eps_inc == pytest.approx(np.sqrt(max(eps2, 0.0)), rel=1e-6, abs=1e-9)
    Bc = Phi - Y
    B = Phi - Pi @ Y
    for val, M in ((r.kappa_c, Bc), (r.kappa, B)):
        den = M.T @ D @ M
        if np.linalg.cond(den) > 1e10:
            continue
        assert val == pytest.approx(np.sqrt(_gen_max(G, den)), rel=1e-6)
    Mfqe = np.linalg.solve(G, Phi.T @ D @ Y)
    assert r.fqe_spectral_radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(Mfqe))), rel=1e-8, abs=1e-12)
    np.testing.assert_allclose(np.sort(r.td_eigenvalues.real),
                               np.sort(np.linalg.eigvals(Phi.T @ D @ (Phi - Y)).real), atol=1e-9)
    # amplification lemma: kappa <= kappa_c / (1 - kappa_c eps_inc) whenever kappa_c eps_inc < 1
    if r.kappa_c * r.eps_inc < 1:
        assert r.kappa <= r.amplification_bound * (1 + 1e-9)
    # concentrability = largest generalised eigenvalue of (Phi' D_dpi Phi, G)
    Ppi = np.einsum("sa,sat->st", pi, mdp.dense_P())
    dS = (1 - gamma) * np.linalg.solve(np.eye(S) - gamma * Ppi.T, mdp.initial)
    Dd = np.diag((dS[:, None] * pi).reshape(-1))
    assert r.concentrability == pytest.approx(_gen_max(Phi.T @ Dd @ Phi, G), rel=1e-6, abs=1e-12)


def test_fixed_point_matches_lstd_and_kappa_bounds_its_error():
    """w_fixed_point equals an independent LSTD solve, and the exact identity
    (I - Pi gamma P)(Phi w_fp - Pi Q) = Pi gamma P (Pi Q - Q) gives
    ||Phi w_fp - Pi Q||_mu <= kappa ||Pi gamma P (Pi Q - Q)||_mu (the meaning of kappa)."""
    rng = np.random.default_rng(11)
    for _ in range(5):
        mdp, phi, pi, mu = _random_instance(rng, 6, 2, 3, 0.9)
        r = bellman_report(mdp, phi, pi, mu)
        Phi, Y, D = _dense(mdp, phi, pi, mu)
        w = np.linalg.solve(Phi.T @ D @ (Phi - Y), Phi.T @ D @ np.asarray(mdp.R).reshape(-1))
        np.testing.assert_allclose(r.w_fixed_point, w, rtol=1e-8, atol=1e-10)
        G = Phi.T @ D @ Phi
        Pi = Phi @ np.linalg.solve(G, Phi.T @ D)
        V = evaluate(mdp, pi)
        Q = np.asarray(mdp.R).reshape(-1) + mdp.gamma * mdp.dense_P().reshape(12, 6) @ V
        nrm = lambda f: float(np.sqrt(f @ D @ f))  # noqa: E731
        lhs = nrm(Phi @ w - Pi @ Q)
        Pphi_pi = mdp.dense_P().reshape(12, 6)
        g = Pi @ (mdp.gamma * Pphi_pi @ np.einsum("sa,sa->s", pi, (Pi @ Q - Q).reshape(6, 2)))
        assert lhs <= r.kappa * nrm(g) * (1 + 1e-9) + 1e-12
        assert r.fixed_point_error == pytest.approx(nrm(Phi @ w - Q), rel=1e-8)


# -- inherent Bellman error on balls ----------------------------------------------------------

def test_ibe_centred_ball_linear_in_radius():
    rng = np.random.default_rng(2)
    mdp, phi, pi, mu = _random_instance(rng, 6, 2, 3, 0.9)
    # plant realizability: rewards r = (I - gamma P^pi) Phi w*
    Phi, Y, _ = _dense(mdp, phi, pi, mu)
    wstar = rng.standard_normal(3)
    mdp = mdp.replace(R=((Phi - Y) @ wstar).reshape(6, 2))
    r = bellman_report(mdp, phi, pi, mu)
    assert r.realizability_error < 1e-10
    vals = [inherent_bellman_error_ball(mdp, phi, pi, mu, rad) for rad in (0.1, 1.0, 7.0)]
    for b, rad in zip(vals, (0.1, 1.0, 7.0)):
        assert b.lower == pytest.approx(r.eps_inc * rad, rel=1e-9)
        assert b.upper == pytest.approx(r.eps_inc * rad, rel=1e-9)
    assert r.ibe_slope == pytest.approx(r.eps_inc)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ibe_ball_at_zero_brute_force(seed):
    """Ball centred at 0 (the classic definition): the exact trust-region value must dominate
    every sampled point of the ball and be approached by the best of many samples."""
    rng = np.random.default_rng(seed)
    mdp, phi, pi, mu = _random_instance(rng, 5, 2, 2, 0.8)
    rad = 1.5
    b = inherent_bellman_error_ball(mdp, phi, pi, mu, rad, centre=np.zeros(2))
    assert b.lower <= b.upper + 1e-12 and b.upper - b.lower < 1e-8 * max(1, b.upper)
    lo, hi = b.simple_bracket
    assert lo - 1e-9 <= b.value <= hi + 1e-9
    Phi, Y, D = _dense(mdp, phi, pi, mu)
    G = Phi.T @ D @ Phi
    Pi = Phi @ np.linalg.solve(G, Phi.T @ D)
    rvec = np.asarray(mdp.R).reshape(-1)
    L = np.linalg.cholesky(G)
    best = 0.0
    ang = np.linspace(0, 2 * np.pi, 20001)
    for t in ang:  # d = 2: the boundary circle ||Phi w||_mu = rad, densely
        u = rad * np.array([np.cos(t), np.sin(t)])
        w = np.linalg.solve(L.T, u)
        res = (np.eye(10) - Pi) @ (rvec + Y @ w)
        best = max(best, float(np.sqrt(res @ D @ res)))
    assert best <= b.upper + 1e-9
    assert best == pytest.approx(b.value, rel=1e-6)


# -- optimality operator -----------------------------------------------------------------------

def test_optimality_small_radius_equals_pe_at_pistar():
    rng = np.random.default_rng(4)
    S, A = 5, 2
    mdp = DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((S, A)), 0.8)
    sol = solve(mdp, method="pi")
    gaps = np.sort(sol.action_gaps(), axis=1)[:, 1]
    assert gaps.min() > 1e-3  # positive action gap on this instance
    phi = np.concatenate([sol.Q[:, :, None], rng.standard_normal((S, A, 2))], axis=2)
    o = local_ibe_optimality(mdp, phi, "uniform", radii=[1e-4], n_directions=32, seed=0)
    pe = bellman_report(mdp, phi, sol.policy, "uniform").eps_inc
    assert o.realizability_error < 1e-10
    assert o.lower_bound <= pe * (1 + 1e-8)
    assert o.lower_bound == pytest.approx(pe, rel=1e-6)


def test_optimality_lower_bound_is_attained():
    """The reported ratio is achieved at w_argmax (certified lower bound)."""
    rng = np.random.default_rng(9)
    S, A = 4, 3
    mdp = DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((S, A)), 0.9)
    phi = rng.standard_normal((S, A, 3))
    o = local_ibe_optimality(mdp, phi, "uniform", n_directions=16, n_starts=2, ascent_steps=30, seed=1)
    sol = solve(mdp, method="pi")
    lc = LinearClass(phi, np.full((S, A), 1 / (S * A)))
    P = mdp.dense_P().reshape(S * A, S)

    def T(w):
        Q = (lc.phi @ w).reshape(S, A)
        return np.asarray(mdp.R).reshape(-1) + 0.9 * P @ Q.max(axis=1)
    diff = T(o.w_argmax) - T(o.w_star)
    num = lc.residual(diff)
    den = lc.norm(lc.phi @ (o.w_argmax - o.w_star))
    assert num / den == pytest.approx(o.lower_bound, rel=1e-9)
    np.testing.assert_array_equal(o.greedy_policy, sol.policy)


def test_sup_norm_projection_against_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(0)
    Phi = rng.standard_normal((12, 3))
    y = 3 * rng.standard_normal(12)
    fit = sup_norm_projection(Phi, y, 2.0)
    val, th = fit.value, fit.theta
    t = cp.Variable(3)
    prob = cp.Problem(cp.Minimize(cp.norm(Phi @ t - y, "inf")), [cp.norm(Phi @ t, "inf") <= 2.0])
    prob.solve()
    assert val == pytest.approx(prob.value, rel=1e-6, abs=1e-7)
    assert np.max(np.abs(Phi @ th)) <= 2.0 + 1e-7


def test_zanette_ibe_zero_for_linear_mdps():
    lin = random_linear_mdp(5, 2, 3, gamma=0.8, seed=1)
    z = zanette_ibe(lin.to_mdp(), np.array(lin.phi), n_starts=8, n_local=8)
    assert z.lower_bound < 1e-7
    lin = random_linear_mdp(5, 2, 3, horizon=3, seed=2)
    z = zanette_ibe(lin.to_mdp(), np.array(lin.phi), n_starts=8, n_local=8)
    assert z.lower_bound < 1e-7 and z.per_stage.shape == (3,)


def test_zanette_ibe_brute_force_d1():
    """d = 1: the outer sup is over an interval; a fine grid is an independent answer."""
    rng = np.random.default_rng(6)
    S, A = 4, 2
    mdp = DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((S, A)), 0.7)
    phi = rng.random((S, A, 1)) + 0.1
    B = 2.0
    z = zanette_ibe(mdp, phi, B, n_starts=16, n_local=24, seed=0)
    Phi = phi.reshape(-1, 1)
    P = mdp.dense_P().reshape(S * A, S)
    tmax = B / np.abs(Phi).max()
    grid = np.linspace(-tmax, tmax, 801)
    vals = []
    for t in grid:
        y = np.asarray(mdp.R).reshape(-1) + 0.7 * P @ (Phi[:, 0] * t).reshape(S, A).max(axis=1)
        vals.append(sup_norm_projection(Phi, y, B).value)
    brute = max(vals)
    assert z.lower_bound <= brute + 1e-6
    assert z.lower_bound >= 0.98 * brute


# -- input validation ------------------------------------------------------------------------

def test_bad_inputs():
    inst = tsitsiklis_van_roy()
    with pytest.raises(ValueError, match="mu"):
        bellman_report(inst.mdp, inst.features, inst.policy, np.array([[0.5], [0.6], [0.0]]))
    with pytest.raises(ValueError, match="mu"):
        bellman_report(inst.mdp, inst.features, inst.policy, "sideways")
    with pytest.raises(ValueError, match="features"):
        bellman_report(inst.mdp, np.ones((3, 1, 1, 1)), inst.policy, inst.mu)
    with pytest.raises(ValueError, match="radius"):
        inherent_bellman_error_ball(inst.mdp, inst.features, inst.policy, inst.mu, -1.0)
    with pytest.raises(ValueError, match="not finite"):
        LinearClass(np.array([[[np.nan]]]), np.ones((1, 1)))
    with pytest.raises(TypeError):
        bellman_report(random_linear_mdp(3, 2, 2, horizon=2).to_mdp(), np.ones((3, 2, 1)), np.zeros(3, int), "uniform")


def test_leaking_null_direction_gives_infinite_eps():
    """A feature invisible on supp(mu) but reached by P^pi: the Bellman image of the class
    is not determined by the data, eps_inc = inf (documented convention)."""
    P = np.zeros((3, 1, 3))
    P[0, 0, 2] = 1.0  # state 0 leads to the unseen state 2
    P[1, 0, 1] = 1.0
    P[2, 0, 2] = 1.0
    mdp = DiscountedMDP(P, np.zeros((3, 1)), 0.9)
    phi = np.array([[[1.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.0]]])
    mu = np.array([[0.5], [0.5], [0.0]])
    r = bellman_report(mdp, phi, np.zeros(3, dtype=int), mu)
    assert not r.identifiable and r.eps_inc == np.inf and not r.complete
    # benign leak: the leaked image (gamma, 0) on supp = {0} lies in the class
    P2 = np.zeros((2, 1, 2))
    P2[:, 0, 1] = 1.0
    mdp2 = DiscountedMDP(P2, np.zeros((2, 1)), 0.9)
    phi2 = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    r2 = bellman_report(mdp2, phi2, np.zeros(2, dtype=int), np.array([[1.0], [0.0]]))
    assert not r2.identifiable and r2.eps_inc == 0.0


def test_sparse_and_dense_models_agree():
    rng = np.random.default_rng(21)
    mdp, phi, pi, mu = _random_instance(rng, 6, 2, 3, 0.85)
    a = bellman_report(mdp, phi, pi, mu)
    b = bellman_report(mdp.to_sparse(), phi, pi, mu)
    for name in ("realizability_error", "eps_inc", "kappa_c", "kappa", "fqe_spectral_radius",
                 "concentrability", "fixed_point_error"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-10, abs=1e-13)
    np.testing.assert_allclose(np.sort(a.td_eigenvalues.real), np.sort(b.td_eigenvalues.real), atol=1e-12)
    oa = local_ibe_optimality(mdp, phi, "uniform", n_directions=8, n_starts=1, ascent_steps=5, seed=3)
    ob = local_ibe_optimality(mdp.to_sparse(), phi, "uniform", n_directions=8, n_starts=1, ascent_steps=5, seed=3)
    assert oa.lower_bound == pytest.approx(ob.lower_bound, rel=1e-10)

"""Reference values for the Bellman-completeness probes derived by hand.

Every expected value here is a closed form worked out on paper (the derivations are in
proofs_notes/tsitsiklis_van_roy.md and proofs_notes/bellman_completeness.md), or a second,
independent computation written directly in the test (state-value matrices straight from
Sutton & Barto §11.2, dense generalised eigenproblems with scipy.linalg.eigh). Nothing is
copied from the output of the code under test.
"""

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mdptheory import DiscountedMDP
from mdptheory.envs import baird_star, linear_mdp_instance, random_linear_mdp, tsitsiklis_van_roy
from mdptheory.probes import (
    bellman_report,
    inherent_bellman_error_ball,
    local_ibe_optimality,
    lstd,
    sample_transitions,
    sup_norm_projection,
    td0,
    zanette_ibe,
)

# -- Baird's star: closed-form spectrum ------------------------------------------------------


def _baird_closed_form_eigs(gamma):
    r"""Eigenvalues of A = X'D(I - gamma P_pi)X for Baird's star, by hand.

    On w = e_i - e_j (i, j upper states) Xw = 2(e_i - e_j) and the lower value is 0, so
    A w = (1/7) X'X w = (4/7) w: eigenvalue 4/7 with multiplicity 5. The null vector
    n = (-1,...,-1, -4, 2) of X gives 0. On span{u = sum_{i<=6} e_i, e_7, e_8},
    7A = [[4, -2g, 2-4g], [0, 1-g, 2-2g], [12, 2-8g, 10-16g]], with trace 15-17g, a zero
    eigenvalue and principal 2x2 minors summing to 26(1-g); the other two eigenvalues solve
    7^2 l^2 - 7(15-17g) l + 26(1-g) = 0.
    """
    b = 15 - 17 * gamma
    disc = complex(b * b - 104 * (1 - gamma))
    roots = [(b + np.sqrt(disc)) / 14, (b - np.sqrt(disc)) / 14]
    return np.array(roots + [0.0] + [4 / 7] * 5, dtype=complex)


def _sort_c(z):
    z = np.asarray(z, dtype=complex)
    return z[np.lexsort((np.round(z.imag, 9), np.round(z.real, 9)))]


@pytest.mark.parametrize("gamma", [0.5, 0.8, 0.9, 0.99])
def test_baird_spectrum_closed_form_and_state_value_form(gamma):
    inst = baird_star(gamma)
    r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
    np.testing.assert_allclose(_sort_c(r.td_eigenvalues), _sort_c(_baird_closed_form_eigs(gamma)), atol=1e-12)
    # second method: the state-value TD matrix written straight from Sutton & Barto 11.2
    X = np.zeros((7, 8))
    for i in range(6):
        X[i, i], X[i, 7] = 2.0, 1.0
    X[6, 6], X[6, 7] = 1.0, 2.0
    P_target = np.zeros((7, 7))
    P_target[:, 6] = 1.0  # "always solid"
    Av = X.T @ np.diag(np.full(7, 1 / 7)) @ (np.eye(7) - gamma * P_target) @ X
    np.testing.assert_allclose(_sort_c(r.td_eigenvalues), _sort_c(np.linalg.eigvals(Av)), atol=1e-12)
    # complete and realizable whatever gamma; FQE is exact DP on the 7 support pairs
    assert r.eps_inc < 1e-12 and r.complete and r.realizability_error == 0.0
    assert r.fqe_spectral_radius == pytest.approx(gamma, rel=1e-12)
    # expected TD stable iff both non-trivial roots have positive real part iff 15 - 17 gamma > 0
    assert r.td_stable == (gamma < 15 / 17)


def test_baird_reference_numbers_of_the_notes():
    """The notes' [N] numbers at gamma = 0.99 follow from the closed form."""
    ev = _baird_closed_form_eigs(0.99).real
    np.testing.assert_allclose(np.sort(ev)[:2], [-0.2393, -0.0222], atol=5e-5)
    inst = baird_star()
    r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
    rad = np.max(np.abs(1 - 0.01 * r.td_eigenvalues))
    assert rad == pytest.approx(1 - 0.01 * np.min(ev), rel=1e-12)  # = 1.0023925...
    assert round(rad, 5) == 1.00239


def test_baird_stability_threshold_15_over_17():
    for g in (15 / 17 - 1e-3, 15 / 17 + 1e-3):
        inst = baird_star(g)
        r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
        assert r.td_stable == (g < 15 / 17)
    # the dynamics away from the threshold: expected TD from Baird's w0 (Q^pi = 0)
    stable = baird_star(0.8)
    tr = td0(stable.mdp, stable.features, stable.policy, stable.mu, steps=2000, step_size=0.5, w0=stable.w0)
    assert not tr.diverged and tr.errors[-1] < 1e-8 * tr.errors[0]
    unstable = baird_star(0.95)
    tr = td0(unstable.mdp, unstable.features, unstable.policy, unstable.mu, steps=2000, step_size=0.5,
             w0=unstable.w0)
    assert tr.errors[-1] > 1e3 * tr.errors[0]


# -- Tsitsiklis-Van Roy: closed forms beyond the notes' table --------------------------------

def _tvr_hand(gamma, eps):
    """Closed forms derived in proofs_notes/tsitsiklis_van_roy.md."""
    rho = gamma * (6 - 4 * eps) / 5
    eps_inc = 2 * gamma * (1 + eps) / 5
    kappa_c = np.sqrt(2.5) / np.sqrt(0.5 * ((1 - 2 * gamma) ** 2 + (2 - 2 * gamma * (1 - eps)) ** 2))
    kappa = 1 / abs(1 - rho)
    a_td = (5 - gamma * (6 - 4 * eps)) / 2
    # discounted occupancy from initial (1/2, 1/2, 0): d(0) = (1-g)/2, d(1) = (1-g)(1+g)/(2(1-g(1-eps)))
    d0 = (1 - gamma) / 2
    d1 = (1 - gamma) * (1 + gamma) / (2 * (1 - gamma * (1 - eps)))
    conc = (d0 * 1 + d1 * 4) / 2.5
    return rho, eps_inc, kappa_c, kappa, a_td, conc


@pytest.mark.parametrize("gamma", [0.8, 0.9, 0.99])
@pytest.mark.parametrize("eps", [0.0, 0.2, 0.7])
def test_tvr_all_quantities_by_hand(gamma, eps):
    inst = tsitsiklis_van_roy(eps, gamma)
    r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
    rho, eps_inc, kc, k, a_td, conc = _tvr_hand(gamma, eps)
    assert r.fqe_spectral_radius == pytest.approx(rho, rel=1e-12)
    assert r.eps_inc == pytest.approx(eps_inc, rel=1e-12)
    assert r.kappa_c == pytest.approx(kc, rel=1e-12)
    assert r.kappa == pytest.approx(k, rel=1e-10)
    assert r.td_eigenvalues.real[0] == pytest.approx(a_td, rel=1e-12, abs=1e-14)
    assert r.concentrability == pytest.approx(conc, rel=1e-12)
    bound = kc / (1 - kc * eps_inc) if kc * eps_inc < 1 else np.inf
    assert r.amplification_bound == pytest.approx(bound, rel=1e-10)
    # sandwich: kappa_c / (1 + kappa_c eps_inc) <= kappa <= bound
    assert kc / (1 + kc * eps_inc) <= k * (1 + 1e-12)
    # classic IBE on the ball centred at the realizing parameter w* = 0: eps_inc * radius
    for rad in (0.5, 3.0):
        b = inherent_bellman_error_ball(inst.mdp, inst.features, inst.policy, inst.mu, rad)
        assert b.lower == pytest.approx(eps_inc * rad, rel=1e-12)
        assert b.upper == pytest.approx(eps_inc * rad, rel=1e-12)


def test_tvr_divergence_threshold_on_a_grid():
    """FQE and expected TD diverge iff gamma > 5/(6 - 4 eps), across the (eps, gamma) grid."""
    for eps in np.linspace(0.0, 0.24, 7):
        thr = 5 / (6 - 4 * eps)
        for gamma in (thr - 2e-3, thr + 2e-3):
            if gamma >= 1:
                continue
            r = bellman_report(*_args(tsitsiklis_van_roy(eps, gamma)))
            assert r.fqe_converges == (gamma < thr) == r.td_stable
    # for eps >= 1/4 the threshold exceeds 1: always convergent
    for eps in (0.25 + 1e-9, 0.5, 1.0):
        r = bellman_report(*_args(tsitsiklis_van_roy(eps, 0.999)))
        assert r.fqe_converges and r.td_stable


def _args(inst):
    return inst.mdp, inst.features, inst.policy, inst.mu


def test_tvr_lstd_sqrt_n_error_tends_to_sigma_kappa():
    r"""Statistical meaning of kappa, by hand. TvR, eps = 0, planted w* and Gaussian reward noise
    sigma: the LSTD error is w_n - w* = sum phi_i sigma xi_i / sum phi_i (phi_i - gamma phi'_i),
    so n ||Phi(w_n - w*)||_mu^2 -> ||Phi||_mu^2 sigma^2 E[phi^2] / A^2 = sigma^2 kappa^2
    (E[phi^2] = ||Phi||_mu^2 = 5/2, A = (5/2)(1 - rho)). Monte Carlo over 400 seeds."""
    sigma, n, seeds = 1.0, 4000, 400
    for gamma in (0.5, 0.9):
        inst = tsitsiklis_van_roy(0.0, gamma, w_star=1.0)
        mdp = inst.mdp.replace(reward_noise="gaussian", reward_std=sigma)
        kappa = 1 / abs(1 - gamma * 6 / 5)
        sq = np.empty(seeds)
        for k in range(seeds):
            w = lstd(mdp, inst.features, inst.policy, inst.mu, sample_sizes=[n],
                     seed=np.random.default_rng([k, 3])).final[0]
            sq[k] = n * 2.5 * (w - 1.0) ** 2
        rms = np.sqrt(sq.mean())
        # relative standard error of an RMS over 400 near-Gaussian errors ~ 1/sqrt(800) = 3.5%
        assert rms == pytest.approx(sigma * kappa, rel=0.12)


# -- the amplification lemma on random near-complete instances (independent computation) -----

def _dense_quantities(mdp, phi, pi, mu):
    S, A = mdp.S, mdp.A
    P = mdp.dense_P().reshape(S * A, S)
    Phi = phi.reshape(S * A, -1)
    Y = mdp.gamma * P @ np.einsum("sa,sad->sd", pi, phi)
    D = np.diag(mu.reshape(-1))
    G = Phi.T @ D @ Phi
    Pi = Phi @ np.linalg.solve(G, Phi.T @ D)
    K = (np.eye(S * A) - Pi) @ Y
    eps = np.sqrt(max(sla.eigh(K.T @ D @ K, G, eigvals_only=True)[-1], 0.0))
    Bc, B = Phi - Y, Phi - Pi @ Y
    kc = np.sqrt(sla.eigh(G, Bc.T @ D @ Bc, eigvals_only=True)[-1])
    k = np.sqrt(sla.eigh(G, B.T @ D @ B, eigvals_only=True)[-1])
    return eps, kc, k


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), S=st.integers(3, 7), A=st.integers(1, 3), d=st.integers(1, 3),
       gamma=st.floats(0.3, 0.97), delta=st.floats(0.0, 0.3))
def test_amplification_lemma_near_complete(seed, S, A, d, gamma, delta):
    """Linear-MDP features perturbed by delta * noise: incomplete but with kappa_c eps_inc
    often < 1. Checks kappa_c/(1 + kappa_c eps_inc) <= kappa <= kappa_c/(1 - kappa_c eps_inc)
    with all three quantities from an independent dense computation, and that the probe
    agrees with it."""
    rng = np.random.default_rng(seed)
    lin = random_linear_mdp(S, A, d, gamma=gamma, seed=rng)
    mdp = lin.to_mdp()
    phi = np.asarray(lin.phi) + delta * rng.standard_normal((S, A, d))
    pi = rng.dirichlet(np.ones(A), size=S)
    mu = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    Phi = phi.reshape(S * A, d)
    G = Phi.T @ np.diag(mu.reshape(-1)) @ Phi
    assume(np.linalg.cond(G) < 1e7)
    eps, kc, k = _dense_quantities(mdp, phi, pi, mu)
    assume(np.isfinite(k) and np.isfinite(kc))
    assert kc / (1 + kc * eps) <= k * (1 + 1e-7)
    if kc * eps < 1:
        assert k <= kc / (1 - kc * eps) * (1 + 1e-7)
    r = bellman_report(mdp, phi, pi, mu)
    assert r.eps_inc == pytest.approx(eps, rel=1e-5, abs=1e-9)
    assert r.kappa_c == pytest.approx(kc, rel=1e-5)
    assert r.kappa == pytest.approx(k, rel=1e-5)
    if delta == 0.0:
        assert r.eps_inc < 1e-9 and r.kappa == pytest.approx(r.kappa_c, rel=1e-8)


def test_amplification_condition_is_met_often():
    """Guard against a vacuous hypothesis test: on the near-complete generator with small
    delta the lemma's hypothesis kappa_c eps_inc < 1 holds with eps_inc > 0 in most draws."""
    hits = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        lin = random_linear_mdp(5, 2, 3, gamma=0.8, seed=rng)
        phi = np.asarray(lin.phi) + 0.05 * rng.standard_normal((5, 2, 3))
        pi = rng.dirichlet(np.ones(2), size=5)
        mu = rng.dirichlet(np.ones(10)).reshape(5, 2)
        eps, kc, k = _dense_quantities(lin.to_mdp(), phi, pi, mu)
        hits += bool(1e-6 < eps and kc * eps < 1)
    assert hits >= 30


# -- on-policy data: contraction, for random instances ---------------------------------------

@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 100_000), S=st.integers(2, 7), A=st.integers(1, 3), d=st.integers(1, 4),
       gamma=st.floats(0.0, 0.99))
def test_on_policy_fqe_converges_and_kappa_bounded(seed, S, A, d, gamma):
    """Stationary mu under pi: ||Pi gamma P^pi||_mu <= gamma (Tsitsiklis & Van Roy 1997,
    Lemma 1), hence rho(FQE) <= gamma < 1, kappa <= 1/(1-gamma), TD stable."""
    rng = np.random.default_rng(seed)
    mdp = DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.standard_normal((S, A)), gamma)
    phi = rng.standard_normal((S, A, d))
    pi = rng.dirichlet(np.ones(A), size=S)
    r = bellman_report(mdp, phi, pi, "on-policy")
    assert r.fqe_spectral_radius <= gamma + 1e-10 and r.fqe_converges
    assert r.kappa <= 1 / (1 - gamma) * (1 + 1e-9)
    assert r.td_stable


# -- complete classes with restricted support ------------------------------------------------

def test_complete_classes_on_partial_support():
    """Tabular features with mu vanishing on some pairs, and linear MDPs under every mu
    option: eps_inc = 0, kappa = kappa_c, and kappa_c equals the independent dense value."""
    rng = np.random.default_rng(8)
    S, A = 5, 2
    mdp = DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((S, A)), 0.9)
    pi = rng.dirichlet(np.ones(A), size=S)
    mu = rng.dirichlet(np.ones(S * A))
    mu[[1, 6]] = 0.0
    mu = (mu / mu.sum()).reshape(S, A)
    r = bellman_report(mdp, np.eye(S * A).reshape(S, A, S * A), pi, mu)
    assert r.eps_inc < 1e-12 and r.complete and r.kappa == pytest.approx(r.kappa_c, rel=1e-10)
    assert r.rank == S * A - 2
    for m in ("uniform", "on-policy", "random"):
        inst = linear_mdp_instance(S=6, A=2, d=3, gamma=0.8, seed=3, mu="random" if m == "random" else "uniform")
        mu_arg = inst.mu if m != "on-policy" else "on-policy"
        r = bellman_report(inst.mdp, inst.features, inst.policy, mu_arg)
        assert r.eps_inc < 1e-10 and r.complete
        assert r.kappa == pytest.approx(r.kappa_c, rel=1e-9)
        if m != "on-policy":
            eps, kc, k = _dense_quantities(inst.mdp, np.asarray(inst.features), inst.policy, np.asarray(inst.mu))
            assert r.kappa_c == pytest.approx(kc, rel=1e-7)


# -- T* probe: small-radius limit on several instances -------------------------------------

@pytest.mark.parametrize("seed", [4, 12])
def test_optimality_small_radius_limit_two_instances(seed):
    from mdptheory import solve

    rng = np.random.default_rng(seed)
    S, A = 5, 2
    mdp = DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((S, A)), 0.8)
    sol = solve(mdp, method="pi")
    assert np.sort(sol.action_gaps(), axis=1)[:, 1].min() > 1e-3
    phi = np.concatenate([sol.Q[:, :, None], rng.standard_normal((S, A, 2))], axis=2)
    mu = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    o = local_ibe_optimality(mdp, phi, mu, radii=[1e-5], n_directions=32, seed=1)
    pe = bellman_report(mdp, phi, sol.policy, mu).eps_inc
    # independent value of the PE quantity at pi*
    eps, _, _ = _dense_quantities(mdp, phi, np.eye(A)[sol.policy], mu)
    assert pe == pytest.approx(eps, rel=1e-7)
    assert o.lower_bound <= pe * (1 + 1e-8) and o.lower_bound == pytest.approx(pe, rel=1e-6)


# -- numba kernel twin on the divergent path; input validation ------------------------------

def test_td_kernel_twin_identical_when_diverging():
    inst = baird_star()
    data = sample_transitions(inst.mdp, inst.mu, 20_000, seed=4)
    kw = dict(steps=20_000, step_size=0.05, w0=inst.w0, expected=False, record_every=37, data=data)
    a = td0(inst.mdp, inst.features, inst.policy, inst.mu, engine="numba", **kw)
    b = td0(inst.mdp, inst.features, inst.policy, inst.mu, engine="numpy", **kw)
    assert a.diverged and b.diverged
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.steps[-1] % 37 != 0 or a.steps[-1] < 20_000  # stopped early, last row recorded


def test_validation_messages_name_index_and_value():
    inst = tsitsiklis_van_roy()
    bad = np.array([0.5, 0.6, -0.1])
    with pytest.raises(ValueError, match=r"mu\[2\] = -0.1"):
        sample_transitions(inst.mdp, bad, 10)
    with pytest.raises(ValueError, match="sums to"):
        sample_transitions(inst.mdp, np.array([0.5, 0.6, 0.0]), 10)
    with pytest.raises(ValueError, match=r"radii\[1\] = -1.0"):
        local_ibe_optimality(inst.mdp, inst.features, inst.mu, radii=[0.1, -1.0])
    with pytest.raises(ValueError, match="n_directions"):
        local_ibe_optimality(inst.mdp, inst.features, inst.mu, n_directions=0)
    with pytest.raises(ValueError, match=r"y\[1\] = nan"):
        sup_norm_projection(np.ones((2, 1)), np.array([0.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="bound"):
        sup_norm_projection(np.ones((2, 1)), np.zeros(2), -1.0)
    with pytest.raises(ValueError, match=r"bound\[t=0\] = -1.0"):
        zanette_ibe(inst.mdp, inst.features, -1.0)
    with pytest.raises(ValueError, match="iterations"):
        from mdptheory.probes import fqe
        fqe(*_args(inst), iterations=-1)
    with pytest.raises(ValueError, match="ridge"):
        lstd(*_args(inst), ridge=-1.0)
    with pytest.raises(ValueError, match="tol"):
        bellman_report(*_args(inst), tol=0.0)

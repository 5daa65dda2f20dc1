"""Robust planning (``mdptheory.kernels.robust``, ``mdptheory.solvers.robust``).

Expected values come from cvxpy (an independent convex solver on the primal problem), closed
forms derived in the tests (two-point rows, a two-state chain, the full TV ball), the plain
twins (a second algorithm for each inner problem), the nominal solver, and value iteration
written here with the plain twins (proofs_notes/robust_mdps.md lists which test checks what).
"""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import xlogy

from mdptheory.core import DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP
from mdptheory.kernels import robust as kr
from mdptheory.solvers import evaluate, solve
from mdptheory.solvers.robust import (KL, TV, ChiSquare, evaluate_robust, robust_q, solve_robust,
                                      worst_case_kernel)

BALLS = {kr.TV_KIND: TV, kr.KL_KIND: KL, kr.CHI2_KIND: ChiSquare}
KINDS = (kr.TV_KIND, kr.KL_KIND, kr.CHI2_KIND)


# ---- independent references --------------------------------------------------------------------

def cvx_inner(kind, q, v, rho):
    """The primal inner problem through cvxpy (Clarabel, tight tolerances)."""
    q = np.asarray(q, float) / np.sum(q)
    if kind == kr.TV_KIND:
        p = cp.Variable(q.size, nonneg=True)
        cons = [cp.sum(p) == 1, 0.5 * cp.norm1(p - q) <= rho]
    else:
        sup = q > 0
        q, v = q[sup], np.asarray(v, float)[sup]
        p = cp.Variable(q.size, nonneg=True)
        if kind == kr.KL_KIND:
            cons = [cp.sum(p) == 1, cp.sum(cp.rel_entr(p, q)) <= rho]
        else:
            cons = [cp.sum(p) == 1, cp.norm(cp.multiply(p - q, 1 / np.sqrt(q)), 2) <= np.sqrt(rho)]
    prob = cp.Problem(cp.Minimize(p @ v), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-13, tol_gap_rel=1e-13, tol_feas=1e-13, max_iter=500)
    return prob.value


def fast(kind, q, v, rho):
    q = np.ascontiguousarray(q, float)
    v = np.ascontiguousarray(v, float)
    inv = 1.0 / q.sum()
    order = np.argsort(v, kind="stable")
    if kind == kr.TV_KIND:
        return kr.tv_value(q, inv, float(q @ v) * inv, v, order, rho)
    if kind == kr.KL_KIND:
        return kr.kl_value(q, inv, v, rho)
    return kr.chi2_value(q, inv, v, order, rho)


def certified(kind, q, v, rho):
    q = np.ascontiguousarray(q, float)[None, :]
    v = np.ascontiguousarray(v, float)
    mid, rad, P = np.empty(1), np.empty(1), np.zeros((1, v.size))
    kr.inner_certified(kind, q, 1.0 / q.sum(axis=1), v, np.argsort(v, kind="stable"), np.array([rho]),
                       np.array([0]), mid, rad, P, True)
    return mid[0], rad[0], P[0]


def random_rows(seed, n=12):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        S = int(rng.integers(2, 10))
        q = rng.dirichlet(np.full(S, 0.7))
        if i % 3 == 0:
            q[rng.integers(S)] = 0.0
        out.append((q, rng.normal(size=S) * 3))
    return out


def hard_rows():
    """Ties, near-ties (one ulp), constant values, one-point support, a large offset."""
    v_tie = np.array([1.0, 1.0, 2.0, 3.0, 1.0])
    a = 3.8241115232381273
    return [
        (np.array([0.1, 0.3, 0.2, 0.25, 0.15]), v_tie),
        (np.array([0.1, 0.1, 0.8]), np.array([a, np.nextafter(a, 0), 6.96])),
        (np.array([0.1, 0.9]), np.array([5.48, a])),
        (np.array([0.2, 0.3, 0.5]), np.full(3, 2.5)),
        (np.array([0.0, 1.0, 0.0]), np.array([0.0, 4.0, -2.0])),
        (np.array([0.25, 0.25, 0.5]), 1e6 + np.array([0.0, 1e-3, 2e-3])),
        (np.array([0.5, 0.0, 0.5, 0.0]), np.array([-0.0, 0.0, 1.0, -1.0])),
    ]


# ---- inner problems ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_inner_values_match_cvxpy(kind):
    worst = 0.0
    for q, v in random_rows(1, 10) + hard_rows()[:3]:
        for rho in (1e-3, 0.05, 0.3, 0.9 if kind == kr.TV_KIND else 2.5):
            ref = cvx_inner(kind, q, v, rho)
            got = fast(kind, q, v, rho)
            worst = max(worst, abs(got - ref) / max(1.0, np.abs(v).max()))
    assert worst <= 1e-8


@pytest.mark.parametrize("kind", KINDS)
def test_kernels_match_plain_twins_and_enclosures_contain_them(kind):
    for q, v in random_rows(2, 20) + hard_rows():
        scale = max(1.0, np.abs(v).max())
        for rho in (0.0, 1e-12, 1e-4, 0.1, 0.5, 1.0 if kind == kr.TV_KIND else 40.0):
            ref = kr._REF[kind](q, v, rho)
            assert abs(fast(kind, q, v, rho) - ref) <= 1e-11 * scale, (q, v, rho)
            mid, rad, _ = certified(kind, q, v, rho)
            assert abs(mid - ref) <= rad + 2e-14 * scale, (q, v, rho, mid, rad, ref)
            assert rad <= 1e-10 * scale


def test_batch_kernel_matches_batch_twin():
    rng = np.random.default_rng(5)
    C = rng.dirichlet(np.ones(7), size=9)
    C[::3, 2] = 0.0
    V = rng.normal(size=7)
    rho = rng.uniform(0, 0.6, size=9)
    rows = np.arange(9)
    for kind in KINDS:
        out = np.empty(9)
        inv = 1.0 / C.sum(axis=1)
        kr.inner_values(kind, C, inv, (C @ V) * inv, V, np.argsort(V, kind="stable"), rho, rows, out)
        np.testing.assert_allclose(out, kr.inner_values_ref(kind, C, V, rho), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_minimiser_is_exactly_feasible_and_attains_the_value(kind):
    ball = BALLS[kind]
    for q, v in random_rows(3, 12) + hard_rows():
        for rho in (0.0, 0.02, 0.3, 1.0 if kind == kr.TV_KIND else 5.0):
            mid, rad, p = certified(kind, q, v, rho)
            assert p.min() >= 0.0 and abs(p.sum() - 1.0) <= 1e-12
            assert ball(rho).divergence(p, q) <= rho * (1 + 1e-12) + 1e-15
            assert abs(p @ v - mid) <= rad + 1e-12 * max(1.0, np.abs(v).max())


def kl_two_point(eps, rho):
    """Mass s on the low state: KL((1-s, s) || (1-eps, eps)) = rho, solved on the primal."""
    if rho >= -np.log(eps):
        return 1.0

    def f(s):
        return xlogy(1 - s, (1 - s) / (1 - eps)) + xlogy(s, s / eps) - rho
    return brentq(f, eps, 1.0, xtol=1e-16)


@pytest.mark.parametrize("eps", [0.05, 0.3, 0.7])
@pytest.mark.parametrize("rho", [0.0, 0.01, 0.2, 0.6, 1.0])
def test_two_point_closed_forms(eps, rho):
    """q = (1-eps, eps) on values (1, 0): the adversary moves mass to the 0 state."""
    q, v = np.array([1 - eps, eps]), np.array([1.0, 0.0])
    assert fast(kr.TV_KIND, q, v, rho) == pytest.approx(max(1 - eps - rho, 0.0), abs=1e-15)
    t = min(np.sqrt(rho * eps * (1 - eps)), 1 - eps)
    assert fast(kr.CHI2_KIND, q, v, rho) == pytest.approx(1 - eps - t, abs=1e-14)
    assert fast(kr.KL_KIND, q, v, rho) == pytest.approx(1 - (kl_two_point(eps, rho) if rho > 0 else eps), abs=1e-12)


def test_support_conventions():
    """TV may move mass to a state outside the nominal support; KL and chi-square may not."""
    q, v = np.array([1.0, 0.0]), np.array([1.0, 0.0])
    assert fast(kr.TV_KIND, q, v, 0.25) == pytest.approx(0.75, abs=1e-15)
    assert fast(kr.KL_KIND, q, v, 5.0) == 1.0
    assert fast(kr.CHI2_KIND, q, v, 5.0) == 1.0
    # largest balls: the minimum over all states (TV), over the support (KL, chi2)
    q, v = np.array([0.2, 0.5, 0.3, 0.0]), np.array([3.0, 1.0, 2.0, -5.0])
    assert fast(kr.TV_KIND, q, v, 1.0) == -5.0
    assert fast(kr.KL_KIND, q, v, np.log(1 / 0.5)) == 1.0
    assert fast(kr.CHI2_KIND, q, v, 1 / 0.5 - 1) == 1.0


# ---- solvers -----------------------------------------------------------------------------------

def random_model(S=6, A=3, gamma=0.9, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    P[0, 0] = 0.0
    P[0, 0, :2] = 0.5
    return DiscountedMDP(P, rng.random((S, A)), gamma, np.full(S, 1.0 / S))


def robust_q_twin(kind, mdp, V, rho):
    S, A = mdp.S, mdp.A
    sig = kr.inner_values_ref(kind, np.asarray(mdp.P).reshape(S * A, S), V, np.broadcast_to(rho, (S, A)).ravel())
    return np.asarray(mdp.R) + mdp.gamma * sig.reshape(S, A)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["vi", "mpi", "pi"])
def test_rho_zero_gives_the_nominal_solution(kind, method):
    mdp = random_model()
    nom = solve(mdp, tol=1e-11)
    sol = solve_robust(mdp, BALLS[kind](0.0), method=method, tol=1e-10)
    assert sol.converged
    assert np.abs(sol.V - nom.V).max() <= sol.error_bound + nom.error_bound + 1e-13
    np.testing.assert_array_equal(sol.policy, nom.policy)


@pytest.mark.parametrize("kind", KINDS)
def test_values_decrease_in_rho(kind):
    mdp = random_model(seed=1)
    rhos = (0.0, 0.05, 0.2, 0.5, 1.0) if kind == kr.TV_KIND else (0.0, 0.05, 0.2, 0.5, 2.0)
    sols = [solve_robust(mdp, BALLS[kind](r), tol=1e-10) for r in rhos]
    for a, b in zip(sols, sols[1:]):
        assert np.all(b.V <= a.V + a.error_bound + b.error_bound)
        assert np.any(b.V < a.V - 1e-6)


def test_tv_full_ball_closed_form_discounted_and_episodic():
    """rho = 1: every inner value is min_s V(s), so V(s) = max_a R(s,a) + gamma m with
    m = min_s max_a R / (1 - gamma); episodic: V_h = max_a R_h + min_s V_{h+1}."""
    mdp = random_model(seed=2, gamma=0.8)
    sol = solve_robust(mdp, TV(1.0), tol=1e-12)
    r = np.asarray(mdp.R).max(axis=1)
    np.testing.assert_allclose(sol.V, r + 0.8 * r.min() / 0.2, rtol=0, atol=1e-11)
    rng = np.random.default_rng(3)
    H, S, A = 4, 5, 2
    ep = EpisodicMDP(rng.dirichlet(np.ones(S), size=(H, S, A)), rng.random((H, S, A)), H, 0)
    sol = solve_robust(ep, TV(1.0))
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        V[h] = np.asarray(ep.R)[h].max(axis=1) + V[h + 1].min()
    np.testing.assert_allclose(sol.V, V, rtol=0, atol=1e-14)
    assert sol.error_bound < 1e-13


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rho", [0.05, 0.4])
def test_two_state_chain_closed_form(kind, rho):
    """State 0 pays 1 and moves to the absorbing, rewardless state 1 w.p. eps; the worst case
    moves mass s(rho) to state 1, independent of V(0) > 0: V(0) = 1 / (1 - gamma (1 - s))."""
    eps, g = 0.1, 0.9
    P = np.array([[[1 - eps, eps]], [[0.0, 1.0]]])
    mdp = DiscountedMDP(P, np.array([[1.0], [0.0]]), g)
    s = {kr.TV_KIND: min(eps + rho, 1.0), kr.KL_KIND: kl_two_point(eps, rho),
         kr.CHI2_KIND: eps + min(np.sqrt(rho * eps * (1 - eps)), 1 - eps)}[kind]
    sol = solve_robust(mdp, BALLS[kind](rho), tol=1e-12)
    assert sol.V[0] == pytest.approx(1 / (1 - g * (1 - s)), abs=1e-10)
    assert sol.V[1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_methods_agree_and_satisfy_the_robust_bellman_equation(kind):
    mdp = random_model(seed=4)
    rho = np.random.default_rng(0).uniform(0.0, 0.4, size=(6, 3))
    sols = {m: solve_robust(mdp, BALLS[kind](rho), method=m, tol=1e-9) for m in ("vi", "mpi", "pi")}
    for sol in sols.values():
        assert sol.converged and sol.error_bound <= 1e-9
        Q = robust_q_twin(kind, mdp, sol.V, rho)            # the plain twins, not the kernels
        assert np.abs(Q.max(axis=1) - sol.V).max() <= (1 + mdp.gamma) * sol.error_bound + 1e-12
        np.testing.assert_allclose(sol.Q, Q, rtol=0, atol=1e-11)
    for a in sols.values():
        for b in sols.values():
            assert np.abs(a.V - b.V).max() <= a.error_bound + b.error_bound


@pytest.mark.parametrize("kind", KINDS)
def test_robust_bellman_residual_with_cvxpy_inner_problems(kind):
    mdp = random_model(S=4, A=2, seed=6)
    sol = solve_robust(mdp, BALLS[kind](0.15), tol=1e-10)
    P = np.asarray(mdp.P)
    Q = np.array([[mdp.R[s, a] + mdp.gamma * cvx_inner(kind, P[s, a], sol.V, 0.15) for a in range(2)]
                  for s in range(4)])
    assert np.abs(Q.max(axis=1) - sol.V).max() <= (1 + mdp.gamma) * sol.error_bound + 1e-7


@pytest.mark.parametrize("kind", KINDS)
def test_error_bound_against_value_iteration_with_the_twins(kind):
    """V*_rob by 150 sweeps of the plain-twin operator at gamma = 0.7 (error < 1e-22)."""
    mdp = random_model(S=5, A=2, gamma=0.7, seed=7)
    V = np.zeros(5)
    for _ in range(150):
        V = robust_q_twin(kind, mdp, V, 0.3).max(axis=1)
    for method in ("vi", "mpi", "pi"):
        sol = solve_robust(mdp, BALLS[kind](0.3), method=method, tol=1e-8)
        assert np.abs(sol.V - V).max() <= sol.error_bound + 1e-13


def test_episodic_backward_induction_against_twins_and_policy_evaluation():
    rng = np.random.default_rng(8)
    H, S, A = 3, 5, 2
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    P[1, 2, 0] = np.eye(S)[4]
    ep = EpisodicMDP(P, rng.random((H, S, A)), H, 0)
    rho = rng.uniform(0, 0.5, size=(H, S, A))
    for kind in KINDS:
        sol = solve_robust(ep, BALLS[kind](rho))
        V = np.zeros((H + 1, S))
        for h in range(H - 1, -1, -1):
            sig = kr.inner_values_ref(kind, P[h].reshape(S * A, S), V[h + 1], rho[h].ravel())
            V[h] = (ep.R[h] + sig.reshape(S, A)).max(axis=1)
        assert np.abs(sol.V - V).max() <= sol.error_bound + 1e-13
        assert sol.error_bound < 1e-12
        ev = evaluate_robust(ep, sol.policy, BALLS[kind](rho))
        assert np.abs(ev.V - sol.V).max() <= ev.error_bound + sol.error_bound


def test_evaluate_robust_against_iterated_twin_operator():
    mdp = random_model(S=5, A=3, gamma=0.7, seed=9)
    pi = np.random.default_rng(1).dirichlet(np.ones(3), size=5)
    for kind in KINDS:
        ev = evaluate_robust(mdp, pi, BALLS[kind](0.2), tol=1e-10)
        V = np.zeros(5)
        for _ in range(150):
            V = (pi * robust_q_twin(kind, mdp, V, 0.2)).sum(axis=1)
        assert ev.converged and np.abs(ev.V - V).max() <= ev.error_bound + 1e-13
        assert np.all(ev.V <= evaluate(mdp, pi) + 1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_worst_case_kernel_is_in_the_set_and_a_saddle_point(kind):
    mdp = random_model(seed=10)
    ball = BALLS[kind](0.25)
    sol = solve_robust(mdp, ball, tol=1e-11)
    K = worst_case_kernel(mdp, sol.V, ball)
    assert np.all(ball.divergence(K, np.asarray(mdp.P)) <= 0.25 * (1 + 1e-12))
    V_K = evaluate(mdp.replace(P=K), sol.policy)
    assert np.abs(V_K - sol.V).max() <= 2 * sol.error_bound + 1e-10
    np.testing.assert_allclose(robust_q(mdp, sol.V, ball), sol.Q, rtol=0, atol=1e-13)


# ---- d-rectangular -----------------------------------------------------------------------------

def test_d_rectangular_with_one_hot_features_is_sa_rectangular():
    mdp = random_model(S=4, A=2, seed=11)
    S, A = 4, 2
    lin = DiscountedLinearMDP(np.eye(S * A).reshape(S, A, S * A), np.asarray(mdp.P).reshape(S * A, S),
                              np.asarray(mdp.R).ravel(), mdp.gamma)
    rho = np.random.default_rng(2).uniform(0, 0.5, size=(S, A))
    for kind in KINDS:
        a = solve_robust(mdp, BALLS[kind](rho), tol=1e-10)
        b = solve_robust(lin, BALLS[kind](rho.ravel()), rectangularity="d", tol=1e-10)
        assert np.abs(a.V - b.V).max() <= a.error_bound + b.error_bound


def test_d_rectangular_random_linear_against_twin_iteration():
    """Q = R + gamma phi nu, nu_i = sigma_i(V) over the factors mu_i (plain twins)."""
    rng = np.random.default_rng(12)
    S, A, d, g = 6, 3, 3, 0.7
    phi = rng.dirichlet(np.ones(d), size=(S, A))
    mu = rng.dirichlet(np.ones(S), size=d)
    lin = DiscountedLinearMDP(phi, mu, rng.random(d), g)
    rho = np.array([0.1, 0.3, 0.0])
    for kind in KINDS:
        V = np.zeros(S)
        for _ in range(150):
            V = (lin.R + g * phi @ kr.inner_values_ref(kind, mu, V, rho)).max(axis=1)
        for method in ("vi", "pi"):
            sol = solve_robust(lin, BALLS[kind](rho), rectangularity="d", method=method, tol=1e-9)
            assert np.abs(sol.V - V).max() <= sol.error_bound + 1e-13
    # episodic, per-step radii
    H = 3
    ep = LinearMDP(phi, mu, rng.random((H, d)), H, 0)
    rho_h = rng.uniform(0, 0.4, size=(H, d))
    sol = solve_robust(ep, TV(rho_h), rectangularity="d")
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        V[h] = (np.asarray(ep.R)[h] + phi @ kr.inner_values_ref(kr.TV_KIND, mu, V[h + 1], rho_h[h])).max(axis=1)
    assert np.abs(sol.V - V).max() <= sol.error_bound + 1e-13


# ---- validation and stopping -------------------------------------------------------------------

def test_validation_names_parameter_index_and_value():
    with pytest.raises(ValueError, match="rho = 1.5 must be in"):
        TV(1.5)
    with pytest.raises(ValueError, match="rho = -0.1"):
        KL(-0.1)
    with pytest.raises(TypeError, match="rho must be a real number"):
        ChiSquare(True)
    with pytest.raises(ValueError, match=r"rho\[0, 1\] = -1.0"):
        TV([[0.1, -1.0]])
    with pytest.raises(ValueError, match=r"rho\[1\] = 2.0 must be <= 1"):
        TV([0.1, 2.0])
    mdp = random_model()
    with pytest.raises(ValueError, match=r"shape \(6, 3\)"):
        solve_robust(mdp, TV(np.zeros(4)))
    with pytest.raises(ValueError, match="rectangularity must be one of"):
        solve_robust(mdp, TV(0.1), rectangularity="s")
    with pytest.raises(TypeError, match="needs a LinearMDP"):
        solve_robust(mdp, TV(0.1), rectangularity="d")
    with pytest.raises(TypeError, match="uncertainty must be"):
        solve_robust(mdp, 0.1)
    with pytest.raises(ValueError, match="method must be one of"):
        solve_robust(mdp, TV(0.1), method="lp")
    with pytest.raises(ValueError, match="tol = 0.0"):
        solve_robust(mdp, TV(0.1), tol=0.0)
    with pytest.raises(TypeError, match="unexpected arguments"):
        solve_robust(mdp, TV(0.1), method="vi", m=3)
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(3, 2, 2))
    phi = np.abs(phi) / np.abs(phi).sum(-1, keepdims=True)
    phi[1, 1] = [1.5, -0.5]
    mu = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])   # equal factors: a valid kernel for any phi
    lin = DiscountedLinearMDP(phi, mu, np.zeros(2), 0.9)
    with pytest.raises(ValueError, match=r"phi\[1, 1, 1\] = -0.5"):
        solve_robust(lin, TV(0.1), rectangularity="d")


def test_max_iter_gives_converged_false_with_a_valid_bound():
    mdp = random_model(gamma=0.99, seed=13)
    with pytest.warns(RuntimeWarning, match="max_iter"):
        sol = solve_robust(mdp, KL(0.1), method="vi", max_iter=2)
    assert not sol.converged
    ref = solve_robust(mdp, KL(0.1), tol=1e-10)
    assert np.abs(sol.V - ref.V).max() <= sol.error_bound + ref.error_bound

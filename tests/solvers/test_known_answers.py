"""Known answers from independent sources: closed forms (Puterman's examples, chains derived by
hand), exact rational tables, MDPtoolbox's published numbers, and QuantEcon as an oracle."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from mdptheory import DiscountedMDP, evaluate, solve
from mdptheory.envs import mdptoolbox_small, puterman_inventory, puterman_two_state
from mdptheory.solvers import lp_cvxpy, occupancy_measure, solve_constrained

METHODS = ["vi", "gs-vi", "pi", "mpi", "lp"]


def puterman_closed_form(beta):
    # Puterman (1994) Example 6.2.1: v*(s2) = -1/(1-beta);
    # v*(s1) = max of the two stationary policies' values
    v2 = -1.0 / (1.0 - beta)
    stay = (5 - 5.5 * beta) / ((1 - 0.5 * beta) * (1 - beta))  # action a11
    jump = 10 + beta * v2  # action a12
    return np.array([max(stay, jump), v2]), (0 if stay > jump else 1)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("beta", [0.5, 0.9, 0.95])
@pytest.mark.parametrize("sparse", [False, True])
def test_puterman_two_state_closed_form(method, beta, sparse):
    mdp = puterman_two_state(beta)
    mdp = mdp.to_sparse() if sparse else mdp
    v_star, a0 = puterman_closed_form(beta)
    sol = solve(mdp, method=method, tol=1e-9)
    assert sol.converged
    assert np.max(np.abs(sol.V - v_star)) <= sol.error_bound + 1e-10
    assert sol.error_bound <= 1e-9
    assert sol.policy[0] == a0


@pytest.mark.parametrize("method", METHODS)
def test_mdptoolbox_small_gamma_09(method):
    # Policy (1, 0) solved by hand: V1 = 6.2/0.172 = 1550/43, V0 = 10 + 0.9 V1 = 1825/43
    exact = np.array([1825 / 43, 1550 / 43])
    np.testing.assert_allclose(exact, [42.4419, 36.0465], atol=1e-4)  # MDPtoolbox's PI value
    sol = solve(mdptoolbox_small(0.9), method=method, tol=1e-8)
    assert np.max(np.abs(sol.V - exact)) <= sol.error_bound + 1e-11
    np.testing.assert_array_equal(sol.policy, [1, 0])


def test_mdptoolbox_small_gamma_099_is_not_the_span_rule_value():
    # pymdptoolbox's ValueIteration returns ~(150.9, 144.7) here; V* is ~(392.3, 386.2).
    sol = solve(mdptoolbox_small(0.99), method="vi", tol=1e-6)
    pi_val = evaluate(mdptoolbox_small(0.99), sol.policy)
    assert abs(sol.V[0] - 392.3) < 0.1 and abs(sol.V[1] - 386.2) < 0.1
    assert np.max(np.abs(sol.V - pi_val)) <= sol.error_bound + 1e-9


def test_rvi_gain_mdptoolbox_small():
    sol = solve(mdptoolbox_small(), method="rvi", tol=1e-10)
    # closed form: policy (1, 0) has stationary law (4/9, 5/9), gain 4/9*10 - 5/9 = 35/9
    assert abs(sol.gain - 35 / 9) <= sol.error_bound + 1e-12
    # MDPtoolbox (Octave) reports 3.88523524641183 with its stopping rule epsilon = 0.01
    assert abs(sol.gain - 3.88523524641183) < 0.01
    np.testing.assert_array_equal(sol.policy, [1, 0])
    # Bellman equation g + h = max_a R + P h holds for the returned bias
    np.testing.assert_allclose(sol.Q.max(axis=1), sol.V, atol=1e-8)


def test_rvi_periodic_chain_needs_and_gets_aperiodicity_transform():
    # deterministic 2-cycle, rewards 1 and 0: gain 1/2; plain RVI oscillates
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 0] = 1
    mdp = DiscountedMDP(P, [[1.0], [0.0]], 0.5)
    with pytest.warns(RuntimeWarning, match="max_iter"):
        bad = solve(mdp, method="rvi", max_iter=50)
    assert not bad.converged
    good = solve(mdp, method="rvi", tau=0.5)
    assert good.converged and abs(good.gain - 0.5) <= good.error_bound + 1e-12
    # bias of the 2-cycle: h(0) - h(1) = 1/2 (Poisson equation g + h = r + P h)
    assert abs((good.V[0] - good.V[1]) - 0.5) < 1e-7


@pytest.mark.parametrize("H", [1, 2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_puterman_inventory_exact_rationals(H, sparse):
    # Puterman (1994) Sec. 4.6.1 table, u*_1 for N = H + 1 decision epochs (also in
    # QuantEcon's test_ddp.py): exact rationals
    table = {
        1: [0, 5, 6, 5],
        2: [Fraction(2), Fraction(25, 4), Fraction(10), Fraction(21, 2)],
        3: [Fraction(67, 16), Fraction(129, 16), Fraction(194, 16), Fraction(227, 16)],
    }
    mdp = puterman_inventory(H)
    mdp = mdp.to_sparse() if sparse else mdp
    sol = solve(mdp)
    np.testing.assert_allclose(sol.V[0], [float(x) for x in table[H]], rtol=0, atol=1e-12)
    assert sol.V.shape == (H + 1, 4) and np.all(sol.V[H] == 0)
    if H == 3:
        np.testing.assert_array_equal(sol.policy[0], [3, 0, 0, 0])  # Puterman: order 3 at s = 0


def test_deterministic_chain_closed_form():
    # n states in a line; action 1 moves right, action 0 stays; reward 1 only for staying in
    # the last state. V*(s) = gamma^(n-1-s) / (1 - gamma).
    n, g = 7, 0.8
    P = np.zeros((n, 2, n))
    for s in range(n):
        P[s, 0, s] = 1
        P[s, 1, min(s + 1, n - 1)] = 1
    R = np.zeros((n, 2))
    R[n - 1, :] = 1
    exact = g ** (n - 1 - np.arange(n)) / (1 - g)
    for method in METHODS:
        sol = solve(DiscountedMDP(P, R, g), method=method, tol=1e-10)
        assert np.max(np.abs(sol.V - exact)) <= sol.error_bound + 1e-12, method


@pytest.mark.parametrize("p", [0.05, 0.3, 1.0])
def test_two_state_chain_with_parameter_p(p):
    # state 0 moves to absorbing rewarding state 1 w.p. p per step:
    # V(1) = 1/(1-g), V(0) = g p V(1) / (1 - g (1 - p))
    g = 0.9
    P = np.array([[[1 - p, p]], [[0.0, 1.0]]])
    R = np.array([[0.0], [1.0]])
    v1 = 1 / (1 - g)
    exact = np.array([g * p * v1 / (1 - g * (1 - p)), v1])
    for method in METHODS:
        sol = solve(DiscountedMDP(P, R, g), method=method, tol=1e-10)
        assert np.max(np.abs(sol.V - exact)) <= sol.error_bound + 1e-12
    np.testing.assert_allclose(evaluate(DiscountedMDP(P, R, g), np.array([0, 0])), exact, rtol=1e-13)


def test_max_iter_gives_converged_false_and_warning():
    with pytest.warns(RuntimeWarning, match="converged=False"):
        sol = solve(mdptoolbox_small(0.99), method="vi", max_iter=5)
    assert not sol.converged and sol.iterations == 5
    # the bound is still a valid bound
    exact = solve(mdptoolbox_small(0.99), method="pi")
    assert np.max(np.abs(sol.V - exact.V)) <= sol.error_bound + 1e-9


def test_vi_returns_corrected_values_not_raw_iterate():
    mdp = mdptoolbox_small(0.99)
    sol = solve(mdp, method="vi", tol=1e-3)
    exact = solve(mdp, method="pi").V
    # the raw VI iterate after the same number of sweeps is far from V*
    V = np.zeros(2)
    Pd = np.asarray(mdp.P)
    for _ in range(sol.iterations):
        V = (mdp.R + 0.99 * Pd @ V).max(axis=1)
    assert np.max(np.abs(V - exact)) > 1.0
    assert np.max(np.abs(sol.V - exact)) <= sol.error_bound <= 1e-3


def test_episodic_no_warning_and_action_gaps():
    mdp = puterman_inventory(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = solve(mdp)
    gaps = sol.action_gaps()
    assert gaps.shape == (3, 4, 4) and gaps.min() >= -1e-12
    np.testing.assert_allclose(gaps[np.arange(3)[:, None], np.arange(4)[None, :], sol.policy], 0.0, atol=1e-12)


def test_discounted_action_gaps_closed_form():
    beta = 0.95
    sol = solve(puterman_two_state(beta), method="pi")
    v_star, _ = puterman_closed_form(beta)
    jump = 10 + beta * v_star[1]
    stay = 5 + beta * (0.5 * v_star[0] + 0.5 * v_star[1])
    np.testing.assert_allclose(sol.action_gaps()[0], [v_star[0] - stay, v_star[0] - jump], atol=1e-9)


def test_unknown_method_and_bad_tol():
    with pytest.raises(ValueError, match="unknown method 'foo'"):
        solve(mdptoolbox_small(), method="foo")
    with pytest.raises(ValueError, match="tol"):
        solve(mdptoolbox_small(), tol=-1)
    with pytest.raises(TypeError, match="DiscountedMDP or EpisodicMDP"):
        solve(np.zeros((2, 2)))


# ------------------------------------------------------------------- LP and its dual
def test_lp_dual_is_the_occupancy_measure():
    rng = np.random.default_rng(3)
    S, A, g = 6, 3, 0.8
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.uniform(size=(S, A))
    rho = rng.dirichlet(np.ones(S))
    mdp = DiscountedMDP(P, R, g, rho)
    sol = solve(mdp, method="lp", tol=1e-9)
    occ = sol.occupancy
    # total mass 1/(1-gamma); equals the occupancy of pi* from rho by a linear solve
    assert abs(occ.sum() - 1 / (1 - g)) < 1e-7
    np.testing.assert_allclose(occ, occupancy_measure(mdp, np.eye(A)[sol.policy]), atol=1e-7)
    # strong duality: <occ, R> = <rho, V*>
    assert abs((occ * R).sum() - rho @ sol.V) < 1e-7


def test_cvxpy_lp_matches_policy_iteration():
    rng = np.random.default_rng(4)
    S, A, g = 5, 2, 0.7
    mdp = DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.uniform(size=(S, A)), g)
    V, occ = lp_cvxpy(mdp)
    ref = solve(mdp, method="pi")
    np.testing.assert_allclose(V, ref.V, atol=1e-5)
    assert abs(occ.sum() - 1 / (1 - g)) < 1e-5


def test_constrained_mdp_against_scipy_linprog():
    from scipy.optimize import linprog

    rng = np.random.default_rng(5)
    S, A, g = 4, 2, 0.8
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.uniform(size=(S, A))
    C = rng.uniform(size=(S, A))
    mdp = DiscountedMDP(P, R, g)
    free = solve_constrained(mdp, np.zeros((S, A)), [1.0])
    # pick a budget strictly between the min achievable cost and the cost of the reward-optimal policy
    opt_cost = (C * free.occupancy).sum()
    min_cost = solve_constrained(DiscountedMDP(P, -C, g), np.zeros((S, A)), [1.0]).value * -1
    budget = 0.5 * (opt_cost + min_cost)
    res = solve_constrained(mdp, C, [budget])
    # independent formulation: scipy linprog on the occupancy polytope
    E = np.repeat(np.eye(S), A, axis=0)
    Aeq = (E - g * P.reshape(S * A, S)).T
    lp = linprog(-R.ravel(), A_ub=C.reshape(1, -1), b_ub=[budget], A_eq=Aeq, b_eq=mdp.initial,
                 bounds=[(0, None)] * (S * A), method="highs")
    assert abs(res.value - (-lp.fun)) < 1e-5
    assert res.costs[0] <= budget + 1e-6
    assert res.value < free.value - 1e-6  # the constraint binds


def test_quantecon_oracle():
    qe = pytest.importorskip("quantecon")
    rng = np.random.default_rng(11)
    S, A, g = 30, 4, 0.95
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.uniform(size=(S, A))
    ddp = qe.markov.DiscreteDP(R, P, g)
    ref = ddp.solve(method="policy_iteration")
    for method in METHODS:
        sol = solve(DiscountedMDP(P, R, g), method=method, tol=1e-9)
        np.testing.assert_allclose(sol.V, ref.v, atol=1e-8)
        np.testing.assert_array_equal(sol.policy, ref.sigma)


def test_sparse_policy_evaluation_matches_dense():
    rng = np.random.default_rng(2)
    S, A = 40, 3
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            idx = rng.choice(S, size=3, replace=False)
            P[s, a, idx] = rng.dirichlet(np.ones(3))
    mdp = DiscountedMDP(P, rng.uniform(size=(S, A)), 0.9)
    pi = rng.integers(0, A, size=S)
    np.testing.assert_allclose(evaluate(mdp.to_sparse(), pi), evaluate(mdp, pi), rtol=1e-12)
    assert sp.issparse(mdp.to_sparse().P)


def test_evaluate_q_matches_bellman_equation_by_hand():
    from mdptheory.solvers import evaluate_q

    mdp = mdptoolbox_small(0.9)
    pi = np.array([0, 1])
    # by hand: V = (I - 0.9 P_pi)^-1 R_pi, Q = R + 0.9 P V
    P = np.asarray(mdp.P)
    P_pi = np.array([P[0, 0], P[1, 1]])
    V = np.linalg.solve(np.eye(2) - 0.9 * P_pi, np.array([5.0, 2.0]))
    np.testing.assert_allclose(evaluate_q(mdp, pi), mdp.R + 0.9 * P @ V, rtol=1e-12)
    np.testing.assert_allclose(evaluate_q(mdp.to_sparse(), pi), mdp.R + 0.9 * P @ V, rtol=1e-12)
    e = puterman_inventory(3)
    sol = solve(e)
    np.testing.assert_allclose(evaluate_q(e, sol.policy), sol.Q, atol=1e-12)
    np.testing.assert_allclose(evaluate_q(e.to_sparse(), sol.policy), sol.Q, atol=1e-12)

"""Robust measures (``mdptheory.measures.robust``): robust value and suboptimality of a policy
and its value under a perturbed kernel, against hand-derived values on Liu & Xu's linear MDP,
the saddle-point property of the worst-case kernel, and independent evaluations."""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.envs.robust_examples import robust_linear_instance
from mdptheory.measures.robust import perturbed_value, robust_policy_value, robust_suboptimality
from mdptheory.solvers import evaluate, solve
from mdptheory.solvers.robust import KL, TV, ChiSquare, solve_robust, worst_case_kernel

V1X2 = 2 * 0.4 + 0.6 * 0.999 * 0.4        # V_1(x2) of the all-ones policy (nominal after step 1)


def random_model(S=6, A=3, gamma=0.9, seed=0):
    rng = np.random.default_rng(seed)
    return DiscountedMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((S, A)), gamma, 0)


@pytest.mark.parametrize("ball", [TV(0.2), KL(0.2), ChiSquare(0.2)])
def test_robust_value_of_the_robust_optimal_policy_is_the_robust_optimum(ball):
    mdp = random_model()
    sol = solve_robust(mdp, ball, tol=1e-11)
    rv = robust_policy_value(mdp, sol.policy, ball)
    assert np.abs(rv.V - sol.V).max() <= rv.error_bound + sol.error_bound
    assert rv.value == pytest.approx(sol.V[0], abs=1e-9)
    sub = robust_suboptimality(mdp, sol.policy, ball)
    assert np.all(np.abs(sub.gap) <= sub.error_bound)
    nominal = solve(mdp)
    sub_nom = robust_suboptimality(mdp, nominal.policy, ball)
    assert np.all(sub_nom.gap >= -sub_nom.error_bound)
    assert sub_nom.value == pytest.approx(sub_nom.optimal_value - sub_nom.policy_value, abs=1e-14)


def test_liu_xu_suboptimality_and_perturbed_returns_by_hand():
    """rho = 0.6 on the perturbed factor: the nominal policy puts x = 0.4 on it, the robust
    one x = 0.2. Robust values at x1: (1 - x) 0.999 V_1(x2) + x 2 (1 - rho); returns under the
    test perturbation q (no leak at the first step): (1 - x) V_1(x2) + x 2 (1 - q)."""
    inst = robust_linear_instance(rho=0.6)
    nom = solve(inst.nominal.to_mdp())
    sub = robust_suboptimality(inst.nominal, nom.policy, inst.uncertainty, "d")
    def rob(x):
        return (1 - x) * 0.999 * V1X2 + x * 2 * 0.4

    assert sub.value == pytest.approx(rob(0.2) - rob(0.4), abs=1e-13)
    assert sub.optimal_value == pytest.approx(rob(0.2), abs=1e-13)
    for q in (0.0, 0.25, 0.7, 1.0):
        def ret(x, q=q):
            return (1 - x) * V1X2 + x * 2 * (1 - q)

        pn = perturbed_value(inst.nominal, nom.policy, inst.perturbed(q))
        pr = perturbed_value(inst.nominal, sub.optimal_policy, inst.perturbed(q))
        assert pn.value == pytest.approx(ret(0.4), abs=1e-13)
        assert pr.value == pytest.approx(ret(0.2), abs=1e-13)
        assert pn.divergence is None and pn.in_set is None


def test_liu_xu_membership_of_the_test_kernels():
    inst = robust_linear_instance(rho=0.5)
    pol = solve(inst.nominal.to_mdp()).policy
    # the leak of the first factor (0.001) is outside a zero radius: never in the set
    pv = perturbed_value(inst.nominal, pol, inst.perturbed(0.2), inst.uncertainty, "d")
    assert not pv.in_set
    np.testing.assert_allclose(pv.divergence[0], [0.001, 0, 0, 0.2], atol=1e-15)
    rho = np.zeros((3, 4))
    rho[0] = [0.001, 0.0, 0.0, 0.5]
    assert perturbed_value(inst.nominal, pol, inst.perturbed(0.5), TV(rho), "d").in_set
    assert not perturbed_value(inst.nominal, pol, inst.perturbed(0.51), TV(rho), "d").in_set
    # through the tabular (s,a) view the same kernel is a row-wise perturbation
    pv_sa = perturbed_value(inst.nominal, pol, inst.perturbed(0.5), TV(1.0))
    assert pv_sa.in_set and pv_sa.divergence.shape == (3, 5, 16)


@pytest.mark.parametrize("ball", [TV(0.3), KL(0.3), ChiSquare(0.3)])
def test_worst_case_kernel_realises_the_robust_value(ball):
    mdp = random_model(seed=1)
    sol = solve_robust(mdp, ball, tol=1e-11)
    K = worst_case_kernel(mdp, sol.V, ball)
    pv = perturbed_value(mdp, sol.policy, K, ball)
    assert pv.in_set
    assert np.abs(pv.V - sol.V).max() <= 2 * sol.error_bound + 1e-10
    # a kernel far outside the ball
    far = np.zeros_like(K)
    far[..., 0] = 1.0
    out = perturbed_value(mdp, sol.policy, far, ball)
    assert not out.in_set
    np.testing.assert_allclose(out.V, evaluate(mdp.replace(P=far), sol.policy), atol=1e-13)


def test_episodic_suboptimality_against_independent_backward_induction():
    rng = np.random.default_rng(2)
    H, S, A = 4, 4, 2
    ep = EpisodicMDP(rng.dirichlet(np.ones(S), size=(S, A)), rng.random((S, A)), H, 1)
    pol = rng.integers(0, A, size=(H, S))
    sub = robust_suboptimality(ep, pol, TV(1.0))
    # full TV ball: every inner value is min_s V_{h+1}(s)
    V, W = np.zeros((H + 1, S)), np.zeros((H + 1, S))
    R = np.asarray(ep.R)
    for h in range(H - 1, -1, -1):
        V[h] = R.max(axis=1) + V[h + 1].min()
        W[h] = R[np.arange(S), pol[h]] + W[h + 1].min()
    np.testing.assert_allclose(sub.gap, V[0] - W[0], atol=1e-13)
    assert sub.value == pytest.approx(V[0, 1] - W[0, 1], abs=1e-13)


def test_perturbed_value_checks_shapes():
    mdp = random_model()
    with pytest.raises(ValueError, match="perturbed kernel has shape"):
        perturbed_value(mdp, np.zeros(6, dtype=np.int64), np.ones((5, 3, 5)) / 5)
    with pytest.raises(TypeError, match="uncertainty must be"):
        perturbed_value(mdp, np.zeros(6, dtype=np.int64), mdp, uncertainty=0.3)

"""Robust families (``mdptheory.envs.robust_examples``) against an independent construction
from the recipe, hand-derived robust optima, closed forms at the largest TV radius, and the
study script's smoke run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mdptheory.envs.robust_examples import robust_gridworld, robust_linear_instance, robust_riverswim
from mdptheory.solvers.robust import KL, TV, solve_robust

X1, X2, X3, X4, X5 = range(5)


def liu_xu_tables(delta, xi_norm, q=None):
    """P (H, S, A, S) and R (H, S, A) written from the recipe: the fourth feature
    x = delta + <xi, a> sends to x5, the rest walks x1 -> x2 -> x3 (leaking 0.001 to the fail
    state x4 on the first two moves) and finally to x4; reward x (= phi_4) at steps 2 and 3."""
    acts = [np.array(a) for a in np.ndindex(2, 2, 2, 2)]
    H, S, A = 3, 5, 16
    P = np.zeros((H, S, A, S))
    R = np.zeros((H, S, A))
    for k, bits in enumerate(acts):
        a = 2 * bits - 1
        x = delta + xi_norm / 4 * a.sum()
        for h in range(H):
            P[h, X1, k, X2], P[h, X1, k, X4], P[h, X1, k, X5] = 0.999 * (1 - x), 0.001 * (1 - x), x
            P[h, X2, k, X3], P[h, X2, k, X4], P[h, X2, k, X5] = 0.999 * (1 - x), 0.001 * (1 - x), x
            P[h, X3, k, X4], P[h, X3, k, X5] = 1 - x, x
            P[h, X4, k, X4] = P[h, X5, k, X5] = 1.0
            if h > 0:
                R[h, X1, k] = R[h, X2, k] = R[h, X3, k] = x
                R[h, X5, k] = 1.0
        if q is not None:
            P[0, X1, k] = 0.0
            P[0, X1, k, X2], P[0, X1, k, X4], P[0, X1, k, X5] = 1 - x, q * x, (1 - q) * x
    return P, R


def test_linear_instance_matches_the_recipe():
    inst = robust_linear_instance(delta=0.3, xi_norm=0.1)
    m = inst.nominal.to_mdp()
    P, R = liu_xu_tables(0.3, 0.1)
    np.testing.assert_allclose(m.P_by_stage(), P, rtol=0, atol=1e-15)
    np.testing.assert_allclose(m.R_by_stage(), R, rtol=0, atol=1e-15)
    assert (inst.nominal.S, inst.nominal.A, inst.nominal.d, inst.nominal.H) == (5, 16, 4, 3)
    assert np.all(np.asarray(inst.nominal.phi) >= 0)
    np.testing.assert_allclose(np.asarray(inst.nominal.phi).sum(-1), 1.0, atol=1e-15)
    assert inst.rho[0, 3] == 0.3 and inst.rho.sum() == 0.3
    # the test kernel is specified at the reachable (step, state) pairs only
    Pq, _ = liu_xu_tables(0.3, 0.1, q=0.35)
    got = inst.perturbed(0.35).to_mdp().P_by_stage()
    for h, states in ((0, [X1]), (1, [X2, X4, X5]), (2, [X3, X4, X5])):
        np.testing.assert_allclose(got[h, states], Pq[h, states], rtol=0, atol=1e-15)
    tv = inst.perturbation_tv(0.35)
    np.testing.assert_allclose(tv[0], [0.001, 0, 0, 0.35], atol=1e-15)
    assert tv[1:].max() == 0.0


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6, 1.0])
def test_linear_instance_robust_optimum_by_hand(rho):
    """V*_1(x2) = 2x* + (1 - x*) 0.999 x* with x* = 0.4 (no radius after the first step);
    at x1 the robust Q of feature weight x is (1 - x) 0.999 V*_1(x2) + x * 2 (1 - rho)."""
    inst = robust_linear_instance(rho=rho)
    sol = solve_robust(inst.nominal, inst.uncertainty, rectangularity="d")
    v1x2 = 2 * 0.4 + 0.6 * 0.999 * 0.4
    xs = np.array([0.2, 0.25, 0.3, 0.35, 0.4])
    q_x1 = (1 - xs) * 0.999 * v1x2 + xs * 2 * (1 - rho)
    assert sol.V[0, X1] == pytest.approx(q_x1.max(), abs=1e-14)
    best_x = 0.3 + inst.actions[sol.policy[0, X1]].sum() * 0.1 / 4
    assert best_x == pytest.approx(xs[np.argmax(q_x1)])
    assert sol.error_bound < 1e-13


def test_linear_instance_validation():
    with pytest.raises(ValueError, match="xi_norm = 0.4 must be <= min"):
        robust_linear_instance(delta=0.3, xi_norm=0.4)
    with pytest.raises(ValueError, match="rho = 1.2"):
        robust_linear_instance(rho=1.2)
    with pytest.raises(ValueError, match=r"shape \(4,\) or \(3, 4\)"):
        robust_linear_instance(rho=np.zeros(3))
    with pytest.raises(ValueError, match="q = 1.5"):
        robust_linear_instance().perturbed(1.5)
    full = robust_linear_instance(rho=np.full(4, 0.1))
    assert full.rho.shape == (3, 4) and np.all(full.rho == 0.1)


def test_riverswim_full_tv_ball_closed_form():
    inst = robust_riverswim(6, rho=1.0, gamma=0.9)
    sol = solve_robust(inst.mdp, inst.uncertainty, tol=1e-12)
    r = np.asarray(inst.mdp.R).max(axis=1)
    np.testing.assert_allclose(sol.V, r + 0.9 / 0.1 * r.min(), rtol=0, atol=1e-10)
    ep = robust_riverswim(4, rho=0.2, horizon=5, divergence="kl")
    assert ep.mdp.horizon == 5 and isinstance(ep.uncertainty, KL)
    with pytest.raises(ValueError, match="rho = 1.5"):
        robust_riverswim(rho=1.5)
    with pytest.raises(ValueError, match="divergence must be one of"):
        robust_riverswim(divergence="wasserstein")


def test_gridworld_radii_rewards_and_full_ball():
    inst = robust_gridworld("4x4", rho=1.0, slip=0.2, gamma=0.9)
    cells = "SFFFFHFHFFFHHFFG"
    terminal = np.array([c in "HG" for c in cells])
    assert isinstance(inst.uncertainty, TV)
    np.testing.assert_array_equal(inst.uncertainty.rho, np.where(terminal[:, None], 0.0, 1.0) * np.ones((1, 4)))
    goal = np.array([c == "G" for c in cells], float)
    np.testing.assert_array_equal(np.asarray(inst.mdp.R), np.repeat(goal[:, None], 4, 1))
    sol = solve_robust(inst.mdp, inst.uncertainty, tol=1e-12)
    # the adversary sends every moving cell to a hole (value 0); the goal keeps 1/(1-gamma)
    np.testing.assert_allclose(sol.V, np.where(np.array([c == "G" for c in cells]), 10.0, 0.0), atol=1e-10)


def test_study_script_smoke(tmp_path):
    path = Path(__file__).resolve().parents[2] / "experiments" / "robust_planning.py"
    spec = importlib.util.spec_from_file_location("robust_planning_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    s = json.loads((tmp_path / "summary.json").read_text())
    for name in ("riverswim", "gridworld"):
        c = s["tabular"][name]["checks"]
        assert c["tv_rho1_minus_closed_form"] <= 1e-9
        for dv in ("tv", "kl", "chi2"):
            assert c[f"{dv}_rho0_minus_nominal"] <= 1e-9 and c[f"{dv}_monotone"]
    lin = s["linear"]
    assert lin["switch_rho_solver"] == pytest.approx(lin["switch_rho_derived"], abs=1e-12)
    assert lin["robust_policy"]["0.3"]["returns"] == pytest.approx(lin["nominal_policy"], abs=1e-12)
    assert lin["robust_policy"]["0.6"]["returns"][-1] > lin["nominal_policy"][-1]
    for name in ("robust_value_vs_rho", "linear_perturbation"):
        assert (tmp_path / f"{name}.pdf").stat().st_size > 0

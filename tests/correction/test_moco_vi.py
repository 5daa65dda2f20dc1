"""MoCoVI and the planning baselines: exact-model and one-correction cases, the derived
one-step bound, the comparison with planning in P_hat on the study's instances, the basis
construction against its twin, and the baselines against independent loops."""

from __future__ import annotations

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.correction import (
    contraction_rate, model_based_trace, moco_vi, orthonormal_basis, os_vi, value_iteration_trace,
)
from mdptheory.correction.moco_vi import orthonormal_basis_ref
from mdptheory.envs.cliff_walk import modified_cliff_walk
from mdptheory.envs.model_error import approximate_model


@pytest.fixture(scope="module")
def cliff():
    mdp = modified_cliff_walk()
    v_lp = np.asarray(mt.solve(mdp, method="lp").V)           # independent of MoCoVI's solver
    return mdp, v_lp


def test_exact_model_gives_the_optimum_at_every_iterate(cliff):
    mdp, v_lp = cliff
    tr = moco_vi(mdp, mdp.dense_P(), 3, 6)
    assert np.abs(tr.values[1:] - v_lp).max() <= 1e-8
    assert (tr.newton_steps == 0).all() and tr.model_errors.max() == 0.0
    vi = value_iteration_trace(mdp, 400)                        # VI's limit is the same point
    assert np.abs(vi.values[-1] - tr.values[-1]).max() <= 1e-8


def test_optimal_value_in_the_basis_is_reached_in_one_correction(cliff):
    """If V* is in span{phi}, then T_{P_bar} V* = T V* = V*: one correction suffices."""
    mdp, v_lp = cliff
    Ph = approximate_model(mdp, 1.0, 4)
    tr = moco_vi(mdp, Ph, 2, 2, initial_basis=v_lp[:, None])
    assert tr.errors[1] <= 1e-8 and tr.errors[2] <= 1e-8
    plain = moco_vi(mdp, Ph, 2, 1)                               # without it: far from V*
    assert plain.errors[1] > 1.0


def test_full_basis_recovers_the_true_kernel(cliff):
    """d = S - 1 indicator functions fix every next-state probability: P_bar = P."""
    mdp, v_lp = cliff
    Ph = approximate_model(mdp, 0.5, 2)
    tr = moco_vi(mdp, Ph, mdp.S, 1, initial_basis=np.eye(mdp.S)[:, :-1])
    assert tr.basis_sizes[0] == mdp.S - 1
    assert tr.model_errors[0] <= 1e-10 and tr.errors[1] <= 1e-8


def test_policy_evaluation_mode(cliff):
    mdp, _ = cliff
    pi = np.random.default_rng(0).dirichlet(np.ones(4), size=mdp.S)
    v_pi = np.linalg.solve(np.eye(mdp.S) - mdp.gamma * np.einsum("sa,sat->st", pi, mdp.dense_P()),
                           (pi * mdp.R).sum(1))
    Ph = approximate_model(mdp, 0.5, 1)
    tr = moco_vi(mdp, Ph, 2, 2, policy=pi, initial_basis=v_pi[:, None])
    assert tr.mode == "evaluation" and tr.errors[1] <= 1e-8
    tr = moco_vi(mdp, Ph, 2, 15, policy=pi)
    assert np.abs(tr.target - v_pi).max() <= 1e-9
    assert tr.errors[-1] < 1e-3 * tr.errors[1]


@pytest.mark.parametrize("error", [0.1, 0.5, 1.0])
def test_never_worse_than_planning_in_the_model_and_the_derived_bound(error):
    """The study's instances (cliff walk, seeds 0..19): every iterate k >= 1 is at least as
    close to V* as V*_{P_hat}, and ||V_{k+1} - V*|| <= gamma/(1-gamma) max||P_bar_k - P||_1
    sp(V_k - V*)/2 (proofs_notes/moco.md)."""
    mdp = modified_cliff_walk()
    for seed in range(20):
        Ph = approximate_model(mdp, error, seed)
        mb = model_based_trace(mdp, Ph, 1).errors[1]
        for d in (1, 2, 3):
            tr = moco_vi(mdp, Ph, d, 10)
            assert tr.errors[1] == pytest.approx(mb, abs=1e-9)      # V_1 = V*_{P_hat}
            assert (tr.errors[1:] <= mb + 1e-9).all(), (seed, d)
            span = np.ptp(tr.values[:-1] - tr.target, axis=1) / 2
            assert (tr.errors[1:] <= tr.bound_factors() * span + 1e-9).all(), (seed, d)
            assert tr.constraint_errors.max() <= 1e-10
            assert tr.n_infeasible.sum() == 0 and tr.n_not_converged.sum() == 0


def test_queries_and_determinism(cliff):
    mdp, _ = cliff
    Ph = approximate_model(mdp, 0.5, 0)
    tr = moco_vi(mdp, Ph, 3, 6)
    # V_0 = 0 is constant (never queried); each later V_k is queried once, when it enters
    assert tr.queries.tolist() == [0, 0, 1, 2, 3, 4, 5]
    again = moco_vi(mdp, Ph, 3, 6)
    assert np.array_equal(tr.values, again.values)
    cold = moco_vi(mdp, Ph, 3, 6, warm_start=False)
    assert np.abs(cold.values - tr.values).max() <= 1e-9


def test_value_iteration_and_model_based_against_plain_loops(cliff):
    mdp, v_lp = cliff
    P, R, g = mdp.dense_P(), mdp.R, mdp.gamma
    V = np.zeros(mdp.S)
    errs = [np.abs(V - v_lp).max()]
    for _ in range(12):
        V = np.max(R + g * np.einsum("sat,t->sa", P, V), axis=1)
        errs.append(np.abs(V - v_lp).max())
    assert np.allclose(value_iteration_trace(mdp, 12).errors, errs, atol=1e-8)
    Ph = approximate_model(mdp, 0.5, 0)
    v_hat = np.asarray(mt.solve(mdp.replace(P=Ph), method="lp").V)
    assert model_based_trace(mdp, Ph, 3).errors[2] == pytest.approx(np.abs(v_hat - v_lp).max(), abs=1e-8)


def test_os_vi_policy_evaluation_closed_form(cliff):
    """OS-VI (PE): V_{k+1} = (I - g P_hat^pi)^{-1} (r^pi + g (P^pi - P_hat^pi) V_k)."""
    mdp, _ = cliff
    pi = np.random.default_rng(1).dirichlet(np.ones(4), size=mdp.S)
    Ph = approximate_model(mdp, 0.5, 3)
    Ppi = np.einsum("sa,sat->st", pi, mdp.dense_P())
    Phpi = np.einsum("sa,sat->st", pi, Ph)
    rpi = (pi * mdp.R).sum(1)
    V = np.zeros(mdp.S)
    tr = os_vi(mdp, Ph, 4, policy=pi)
    for k in range(4):
        V = np.linalg.solve(np.eye(mdp.S) - mdp.gamma * Phpi, rpi + mdp.gamma * (Ppi - Phpi) @ V)
        assert np.abs(tr.values[k + 1] - V).max() <= 1e-9
    ctl = os_vi(mdp, approximate_model(mdp, 0.1, 0), 30)
    assert ctl.errors[-1] <= 1e-8                                 # V* is its fixed point


@pytest.mark.parametrize("seed", range(3))
def test_orthonormal_basis_matches_twin(seed):
    rng = np.random.default_rng(seed)
    S = 15
    F = rng.standard_normal((S, 4))
    F = np.column_stack([F, F[:, 0] + 2 * F[:, 1], np.full(S, 3.0), F[:, 2] * (1 + 1e-12)])
    B, T, mean = orthonormal_basis(F, 1e-8)
    B2, kept = orthonormal_basis_ref(F, 1e-8)
    assert B.shape == B2.shape == (S, 4)
    assert np.abs(B - B2).max() <= 1e-9
    assert np.abs(B.T @ B / S - np.eye(4)).max() <= 1e-12
    assert np.abs((F - mean) @ T - B).max() <= 1e-10
    assert np.abs(B.sum(axis=0)).max() <= 1e-10                  # centred
    assert sorted(kept) == sorted(np.flatnonzero(np.any(T != 0, axis=1)).tolist())


def test_contraction_rate():
    assert contraction_rate(0.5 ** np.arange(30) * 3.0) == pytest.approx(0.5, rel=1e-12)
    e = np.r_[10.0, 0.9 ** np.arange(1, 20)]
    assert contraction_rate(e) == pytest.approx(0.9, rel=1e-12)


def test_validation(cliff):
    mdp, _ = cliff
    with pytest.raises(ValueError, match="d = -1 must be >= 0"):
        moco_vi(mdp, mdp.dense_P(), -1, 3)
    with pytest.raises(TypeError, match="iterations must be an integer"):
        moco_vi(mdp, mdp.dense_P(), 1, 2.5)
    with pytest.raises(ValueError, match=r"V0 must have shape \(36\), got \(3,\)"):
        moco_vi(mdp, mdp.dense_P(), 1, 2, V0=np.zeros(3))
    with pytest.raises(ValueError, match=r"P_hat must have shape \(S, A, S\)"):
        moco_vi(mdp, np.full((36, 36), 1 / 36), 1, 2)

"""MaxEnt projection: against cvxpy (primal KL with linear constraints, and the dual), closed
forms, the KKT certificate, the plain twin, and the validation messages."""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np
import pytest

from mdptheory.correction import STATUS_CONVERGED, STATUS_INFEASIBLE, maxent_projection
from mdptheory.correction.projection import (
    exp_shifted, exp_shifted_ref, project_rows, project_rows_parallel, project_rows_ref,
)


def instance(S, A, d, seed, support=None):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    Ph = rng.dirichlet(np.ones(S), size=(S, A))
    if support is not None:                # sparse true rows inside P_hat's full support
        mask = rng.random((S, A, S)) < support
        mask[..., 0] = True
        P = np.where(mask, P, 0.0)
        P /= P.sum(-1, keepdims=True)
    Phi = rng.standard_normal((S, d)) * rng.uniform(0.5, 5.0, size=d)
    return P, Ph, Phi


def kl(q, p):
    m = q > 0
    return float(np.sum(q[m] * np.log(q[m] / p[m])))


def cvx_primal(p, Phi, psi, reg=0.0):
    q = cp.Variable(p.size)
    obj = cp.sum(cp.rel_entr(q, p))
    cons = [cp.sum(q) == 1, q >= 0]
    if reg == 0.0:
        cons.append(Phi.T @ q == psi)
    else:
        obj = obj + cp.sum_squares(Phi.T @ q - psi) / (2 * reg)
    prob = cp.Problem(cp.Minimize(obj), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return prob.value, q.value


def cvx_dual(p, Phi, psi):
    lam = cp.Variable(Phi.shape[1])
    prob = cp.Problem(cp.Minimize(cp.log_sum_exp(np.log(p) + Phi @ lam) - psi @ lam))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return -prob.value, lam.value


@pytest.mark.parametrize("seed,d,S", [(0, 1, 7), (1, 2, 7), (2, 3, 7), (3, 2, 12)])
def test_against_cvxpy(seed, d, S):
    A = 2
    P, Ph, Phi = instance(S, A, d, seed)
    Psi = P @ Phi
    res = maxent_projection(Ph, Phi, Psi)
    assert (res.status == STATUS_CONVERGED).all()
    assert res.constraint_error.max() <= 1e-10
    assert np.abs(res.kernel @ Phi - Psi).max() <= 1e-10          # recomputed here
    assert np.allclose(res.kernel.sum(-1), 1.0, atol=1e-14) and (res.kernel >= 0).all()
    for s in range(S):
        for a in range(A):
            q = res.kernel[s, a]
            val, q_cvx = cvx_primal(Ph[s, a], Phi, Psi[s, a])
            assert abs(kl(q, Ph[s, a]) - val) <= 1e-8                # optimal KL, cvxpy primal
            assert np.abs(q - q_cvx).max() <= 1e-5                   # interior-point accuracy
            dval, lam_cvx = cvx_dual(Ph[s, a], Phi, Psi[s, a])
            assert abs(kl(q, Ph[s, a]) - dval) <= 1e-9               # strong duality, cvxpy dual
            assert np.abs(res.dual[s, a] - lam_cvx).max() <= 1e-4 * (1 + np.abs(lam_cvx).max())


@pytest.mark.parametrize("seed", range(4))
def test_kkt_certificate(seed):
    """Feasible and log(q/p) in span{1, phi} certify the I-projection (Pythagorean identity);
    and the reported dual is the coefficient vector."""
    S, A, d = 9, 3, 3
    P, Ph, Phi = instance(S, A, d, 10 + seed)
    res = maxent_projection(Ph, Phi, P @ Phi)
    X = np.column_stack([np.ones(S), Phi])
    for s in range(S):
        for a in range(A):
            y = np.log(res.kernel[s, a] / Ph[s, a])
            coef, *_ = np.linalg.lstsq(X, y, rcond=None)
            assert np.abs(X @ coef - y).max() <= 1e-9
            assert np.abs(coef[1:] - res.dual[s, a]).max() <= 1e-8 * (1 + np.abs(coef).max())
            # Pythagorean identity KL(P||P_hat) = KL(P||P_bar) + KL(P_bar||P_hat)
            lhs = kl(P[s, a], Ph[s, a])
            rhs = kl(P[s, a], res.kernel[s, a]) + kl(res.kernel[s, a], Ph[s, a])
            assert abs(lhs - rhs) <= 1e-10


def test_two_point_closed_form():
    """d = 1 on a two-point support: q1 = (psi - phi2)/(phi1 - phi2),
    lambda = log(q1 p2 / (q2 p1)) / (phi1 - phi2)."""
    S = 4
    Ph = np.zeros((S, 1, S))
    Ph[0, 0, [1, 3]] = [0.3, 0.7]
    Ph[1:, 0, :] = 1.0 / S
    phi = np.array([[0.0], [2.0], [5.0], [-1.0]])
    psi = np.zeros((S, 1, 1))
    psi[0, 0, 0] = 1.2
    psi[1:, 0, 0] = phi[:, 0].mean()
    res = maxent_projection(Ph, phi, psi)
    q1 = (1.2 - (-1.0)) / (2.0 - (-1.0))
    assert res.kernel[0, 0, 1] == pytest.approx(q1, abs=1e-13)
    assert res.kernel[0, 0, 3] == pytest.approx(1 - q1, abs=1e-13)
    assert res.dual[0, 0, 0] == pytest.approx(np.log(q1 * 0.7 / ((1 - q1) * 0.3)) / 3.0, abs=1e-11)


def test_exact_model_is_a_fixed_point():
    P, _, Phi = instance(6, 3, 3, 5)
    res = maxent_projection(P, Phi, P @ Phi)
    assert np.array_equal(res.kernel, P)
    assert np.array_equal(res.dual, np.zeros_like(res.dual))
    assert (res.iterations == 0).all()


def test_span_invariance():
    """With reg = 0 the projection depends on the basis only through span{1, phi}."""
    P, Ph, Phi = instance(8, 2, 3, 6)
    M = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, -3.0], [1.0, 0.0, 1.0]])
    B = Phi @ M + 7.0                                      # invertible mix plus a constant
    r1 = maxent_projection(Ph, Phi, P @ Phi)
    r2 = maxent_projection(Ph, B, P @ B)
    assert np.abs(r1.kernel - r2.kernel).max() <= 1e-12


def test_boundary_vertex_target_gives_point_mass():
    """A deterministic true transition to a vertex of the hull: the projection is that point
    mass (the unrestricted dual is at infinity). Newton approaches it to tolerance; with too
    few Newton steps the face reduction returns it exactly."""
    rng = np.random.default_rng(7)
    S = 12
    Ph = rng.dirichlet(np.ones(S), size=(S, 1))
    ang = np.linspace(0, 2 * np.pi, S, endpoint=False)
    Phi = np.column_stack([np.cos(ang), np.sin(ang)])      # every point a vertex
    P = np.zeros((S, 1, S))
    P[np.arange(S), 0, (np.arange(S) + 3) % S] = 1.0
    res = maxent_projection(Ph, Phi, P @ Phi)
    assert (res.status == STATUS_CONVERGED).all()
    assert np.abs(res.kernel - P).max() <= 1e-11
    res = maxent_projection(Ph, Phi, P @ Phi, max_iter=3)
    assert (res.status == STATUS_CONVERGED).all() and res.boundary.all()
    assert np.array_equal(res.kernel, P)
    # a target on an edge (two vertices): the projection lives on those two points, with the
    # masses that the edge point fixes (closed form: 1/2, 1/2 at the midpoint)
    tg = np.tile(0.5 * (Phi[0] + Phi[1]), (S, 1, 1))
    res = maxent_projection(Ph, Phi, tg, max_iter=3)
    assert res.boundary.all() and np.abs(res.kernel[:, 0, 2:]).max() == 0.0
    assert np.abs(res.kernel[:, 0, :2] - 0.5).max() <= 1e-12


def test_minimal_face():
    from mdptheory.correction.projection import _minimal_face
    Phi = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5]])   # square + centre
    p = np.full(5, 0.2)
    assert np.flatnonzero(_minimal_face(p, Phi, np.array([0.0, 0.0]))).tolist() == [0]
    assert np.flatnonzero(_minimal_face(p, Phi, np.array([0.5, 0.0]))).tolist() == [0, 1]
    assert np.flatnonzero(_minimal_face(p, Phi, np.array([0.3, 0.6]))).tolist() == [0, 1, 2, 3, 4]
    assert _minimal_face(p, Phi, np.array([2.0, 0.5])) is None
    p[1] = 0.0                                              # without that vertex, (0.5, 0) is outside
    assert _minimal_face(p, Phi, np.array([0.5, 0.0])) is None


def test_infeasible_reported_and_regularised_dual():
    P, Ph, Phi = instance(6, 2, 2, 8)
    Psi = P @ Phi
    Psi[1, 1] = Phi.max(axis=0) + 1.0                       # outside the hull
    res = maxent_projection(Ph, Phi, Psi)
    assert res.status[1, 1] == STATUS_INFEASIBLE and res.n_infeasible == 1
    assert np.array_equal(res.kernel[1, 1], Ph[1, 1]) and not res.feasible[1, 1]
    assert (res.status[np.arange(6) != 1] == STATUS_CONVERGED).all()
    reg = 0.3
    rr = maxent_projection(Ph, Phi, Psi, reg=reg)
    assert (rr.status == STATUS_CONVERGED).all()
    # stationarity of the regularised dual, and the primal KL + penalty against cvxpy
    q, lam = rr.kernel[1, 1], rr.dual[1, 1]
    assert np.abs(q @ Phi - Psi[1, 1] + reg * lam).max() <= 1e-10
    val, _ = cvx_primal(Ph[1, 1], Phi, Psi[1, 1], reg=reg)
    ours = kl(q, Ph[1, 1]) + np.sum((q @ Phi - Psi[1, 1]) ** 2) / (2 * reg)
    assert abs(ours - val) <= 1e-8


@pytest.mark.parametrize("reg,warm", [(0.0, False), (0.0, True), (0.05, False)])
def test_compiled_kernel_matches_plain_twin(reg, warm):
    S, A, d = 20, 3, 3
    P, Ph, Phi = instance(S, A, d, 21, support=0.4)
    P2, Psi2 = Ph.reshape(-1, S), (P @ Phi).reshape(-1, d)
    tol_vec = 1e-12 * np.maximum(1.0, np.abs(Phi).max(axis=0))
    lam0 = np.random.default_rng(3).normal(scale=0.3, size=(S * A, d)) if warm else np.zeros((S * A, d))
    lam = lam0.copy()
    Q = np.empty_like(P2)
    st, it, gn = np.zeros(S * A, np.int8), np.zeros(S * A, np.int64), np.zeros(S * A)
    project_rows(P2, Phi, Psi2, reg, tol_vec, 200, lam, Q, st, it, gn)
    q_ref, lam_ref, conv_ref, it_ref = project_rows_ref(P2, Phi, Psi2, reg, tol_vec, 200, lam0)
    assert (st == 0).all() and conv_ref.all()
    assert np.abs(Q - q_ref).max() <= 1e-12
    assert np.abs(lam - lam_ref).max() <= 1e-9
    assert np.array_equal(it, it_ref)
    lam_p = lam0.copy()
    Qp = np.empty_like(P2)
    stp, itp, gnp = np.zeros(S * A, np.int8), np.zeros(S * A, np.int64), np.zeros(S * A)
    project_rows_parallel(P2, Phi, Psi2, reg, tol_vec, 200, lam_p, Qp, stp, itp, gnp)
    assert np.array_equal(Qp, Q) and np.array_equal(lam_p, lam)


def test_exp_kernel_matches_numpy():
    z = np.concatenate([np.linspace(-745.0, 0.0, 20001), -np.random.default_rng(0).exponential(20, 5000)])
    scale = np.random.default_rng(1).random(z.size) + 0.5
    out, T = np.empty(z.size), np.empty(z.size)
    exp_shifted(z, 0.0, z.size, T, out, scale)
    ref = exp_shifted_ref(z, 0.0, scale)
    big = ref > 1e-300
    assert np.abs(out[big] / ref[big] - 1).max() <= 4.5e-16       # 2 ulp
    assert np.abs(out[~big]).max() <= 1e-300
    out2 = np.empty(3)
    exp_shifted(np.array([1.0, 3.0, -1000.0]), 3.0, 3, np.empty(3), out2, np.ones(3))
    assert out2[1] == 1.0 and out2[2] == 0.0 and out2[0] == pytest.approx(np.exp(-2.0), rel=1e-15)


def test_validation_messages():
    P, Ph, Phi = instance(4, 2, 2, 0)
    bad = Ph.copy()
    bad[1, 0, 2] += 0.1
    with pytest.raises(ValueError, match=r"P_hat\[1, 0, :\] sums to"):
        maxent_projection(bad, Phi, P @ Phi)
    with pytest.raises(ValueError, match=r"basis must have shape \(S, d\) = \(4, d\)"):
        maxent_projection(Ph, Phi[:3], P @ Phi)
    t = P @ Phi
    t[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"targets\[2, 1, 0\] = nan"):
        maxent_projection(Ph, Phi, t)
    with pytest.raises(ValueError, match="reg = -1.0 must be >= 0"):
        maxent_projection(Ph, Phi, P @ Phi, reg=-1.0)
    with pytest.raises(TypeError, match="reg must be a real number"):
        maxent_projection(Ph, Phi, P @ Phi, reg=True)
    with pytest.raises(ValueError, match=r"targets must have shape \(4, 2, 2\)"):
        maxent_projection(Ph, Phi, (P @ Phi)[:, :, :1])


def test_empty_basis_returns_model():
    _, Ph, _ = instance(5, 2, 1, 0)
    res = maxent_projection(Ph, np.zeros((5, 0)), np.zeros((5, 2, 0)))
    assert np.array_equal(res.kernel, Ph) and res.dual.shape == (5, 2, 0)

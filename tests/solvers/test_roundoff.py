"""Error bounds that hold in floating point.

The reference values are computed independently: exact rational arithmetic
(:class:`fractions.Fraction`) for the accurate backup kernels, and the optimal policy's values
solved in 40-digit arithmetic (mpmath LU) for the solvers. Every discounted method and
backward induction must report an ``error_bound`` at least the true error of the float64
values it returns, and refuse ``converged=True`` when ``tol`` is below what float64 can certify.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.sparse as sp

import mdptheory as mt
from mdptheory.envs import garnet, lower_bound_instance, random_dense, riverswim
from mdptheory.kernels import accurate as ka

mpmath.mp.dps = 40


def _exact_policy_values(mdp, pi):
    """V^pi of the stored (float64) model, in 40-digit arithmetic."""
    S = mdp.S
    P = np.asarray(mdp.dense_P())
    R = np.asarray(mdp.R)
    g = mpmath.mpf(float(mdp.gamma))
    M = mpmath.matrix(S, S)
    b = mpmath.matrix(S, 1)
    for s in range(S):
        for t in range(S):
            M[s, t] = (1 if s == t else 0) - g * mpmath.mpf(float(P[s, pi[s], t]))
        b[s] = mpmath.mpf(float(R[s, pi[s]]))
    return mpmath.lu_solve(M, b)


def _true_error(sol, mdp, pi_star):
    x = _exact_policy_values(mdp, pi_star)
    return float(max(abs(mpmath.mpf(float(v)) - x[i]) for i, v in enumerate(sol.V)))


def _optimal_policy(mdp):
    """The optimal policy, checked optimal in exact arithmetic up to 1e-30 (no ties here)."""
    pi = mt.solve(mdp, method="pi", tol=1.0).policy
    x = _exact_policy_values(mdp, pi)
    P, R, g = np.asarray(mdp.dense_P()), np.asarray(mdp.R), mpmath.mpf(float(mdp.gamma))
    for s in range(mdp.S):
        for a in range(mdp.A):
            q = mpmath.mpf(float(R[s, a])) + g * mpmath.fsum(mpmath.mpf(float(P[s, a, t])) * x[t] for t in range(mdp.S))
            assert q <= x[s] + mpmath.mpf(10) ** -30
    return pi


# ----------------------------------------------------------------- accurate backup kernels
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("gamma", [0.0, 0.9, 0.9999])
def test_accurate_backup_encloses_the_exact_rational_backup(seed, gamma):
    rng = np.random.default_rng(seed)
    S, A = 7, 3
    P = rng.dirichlet(np.ones(S) * 0.3, size=(S, A))
    R = rng.standard_normal((S, A)) * 10.0 ** rng.integers(-8, 9, size=(S, A))
    V = rng.standard_normal(S) * 1e4
    hi, lo, err = np.empty(S), np.empty(S), np.empty(S)
    ka.accurate_backup_dense(P, R, gamma, V, hi, lo, err)
    exact = ka.accurate_backup_ref(P, R, gamma, V)
    for s in range(S):
        got = Fraction(float(hi[s])) + Fraction(float(lo[s]))
        assert abs(got - exact[s]) <= Fraction(float(err[s]))
        assert err[s] <= 1e-28 * (np.abs(R[s]).max() + np.abs(V).max())   # double-double accurate
    # the CSR kernel gives the same pair
    M = sp.csr_matrix(P.reshape(S * A, S))
    hi2, lo2, err2 = np.empty(S), np.empty(S), np.empty(S)
    ka.accurate_backup_csr(M.indptr, M.indices, M.data, R, gamma, V, hi2, lo2, err2)
    for s in range(S):
        got = Fraction(float(hi2[s])) + Fraction(float(lo2[s]))
        assert abs(got - exact[s]) <= Fraction(float(err2[s]))


def test_row_sum_defect_bounds_the_exact_defect():
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(50), size=(20, 4))
    exact = max(abs(sum(Fraction(float(p)) for p in row) - 1) for row in P.reshape(-1, 50))
    got = ka.row_sum_defect_dense(P)
    assert Fraction(got) >= exact
    assert got <= float(exact) + 1e-28


# ----------------------------------------------------------------- discounted solvers
def _big_small_rewards():
    m = garnet(20, 3, 4, seed=2, gamma=0.9)
    rng = np.random.default_rng(0)
    return m.replace(R=np.where(rng.random((20, 3)) < 0.5, 1e8, 1e-8))


CASES = [
    ("gamma=0.9999", lambda: garnet(20, 3, 4, seed=1, gamma=0.9999), 1e-8),
    ("rewards 1e8 and 1e-8", _big_small_rewards, 1e-8),
    ("dense S=60, gamma=0.999", lambda: random_dense(60, 3, seed=3, gamma=0.999), 1e-12),
    ("riverswim, gamma=0.99", lambda: riverswim(6, gamma=0.99), 1e-10),
]


@pytest.mark.parametrize("method", ["vi", "gs-vi", "pi", "mpi", "lp"])
@pytest.mark.parametrize("name,make,tol", CASES, ids=[c[0] for c in CASES])
def test_error_bound_covers_the_true_floating_point_error(name, make, tol, method):
    mdp = make()
    pi_star = _optimal_policy(mdp)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = mt.solve(mdp, method=method, tol=tol)
    true = _true_error(sol, mdp, pi_star)
    assert sol.error_bound >= true, (sol.error_bound, true)
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    if sol.converged:
        assert sol.error_bound <= tol
        assert not said
    else:      # either the round-off floor or max_iter (Gauss-Seidel at gamma = 0.9999), said
        assert any("below what float64 can certify" in m or "max_iter" in m for m in said), said
        assert sol.error_bound > tol


def test_unreachable_tol_is_refused_with_the_floor_named():
    """With values near 1e9 (rewards 1e8, gamma 0.9) the spacing of float64 numbers is
    about 1e-7: no method can certify 1e-8."""
    mdp = _big_small_rewards()
    for method in ("vi", "gs-vi", "pi", "mpi", "lp"):
        with pytest.warns(RuntimeWarning, match=r"tol = 1e-08 is below what float64 can certify.*smallest certified error bound reached is"):
            sol = mt.solve(mdp, method=method, tol=1e-8)
        assert not sol.converged


def test_lp_and_pi_flags_agree():
    mdp = garnet(20, 3, 4, seed=1, gamma=0.9999)
    for tol in (1e-6, 1e-8, 1e-9):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            flags = {m: mt.solve(mdp, method=m, tol=tol).converged for m in ("pi", "lp")}
        assert flags["pi"] == flags["lp"], (tol, flags)


def test_certified_bound_is_not_loose_when_tol_is_reachable():
    """Far above the round-off floor the rigorous bound stays within a few ulps of the float
    MacQueen bound the iteration stops on (round-off is then a negligible addition)."""
    mdp = garnet(30, 4, 5, seed=3, gamma=0.9)
    sol = mt.solve(mdp, method="vi", tol=1e-6)
    assert sol.converged and 1e-9 < sol.error_bound <= 1e-6


# ----------------------------------------------------------------- backward induction
@pytest.mark.parametrize("make", [
    lambda: riverswim(6, horizon=20),
    lambda: garnet(12, 3, 4, seed=7, horizon=10),
    lambda: garnet(12, 3, 4, seed=7, horizon=10, sparse=True),
    lambda: lower_bound_instance(A=2, depth=2, horizon=8, seed=1),
])
def test_backward_induction_bound_covers_round_off(make):
    mdp = make()
    sol = mt.solve(mdp)
    P, R = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage())
    Vn = [Fraction(0)] * mdp.S
    worst = Fraction(0)
    for h in range(mdp.H - 1, -1, -1):
        Vh = [max(Fraction(float(R[h, s, a])) + sum(Fraction(float(P[h, s, a, t])) * Vn[t] for t in range(mdp.S))
                  for a in range(mdp.A)) for s in range(mdp.S)]
        worst = max([worst] + [abs(Fraction(float(sol.V[h, s])) - Vh[s]) for s in range(mdp.S)])
        Vn = Vh
    assert Fraction(sol.error_bound) >= worst
    assert sol.error_bound <= 1e-12 * mdp.H * max(1.0, np.abs(sol.V).max())

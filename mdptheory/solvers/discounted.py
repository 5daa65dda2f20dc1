r"""Certified iterative and exact solvers for discounted MDPs.

The certificate used everywhere (Puterman 1994, Thm 6.6.6; MacQueen 1966): for any
``V`` let :math:`d = TV - V`, :math:`m = \min_s d(s)`, :math:`M = \max_s d(s)`. Then

.. math::
    TV + \tfrac{\gamma}{1-\gamma} m \;\le\; V^* \;\le\; TV + \tfrac{\gamma}{1-\gamma} M

componentwise, so the *midpoint* :math:`\hat V = TV + \frac{\gamma}{1-\gamma}\frac{m+M}{2}`
satisfies :math:`\|\hat V - V^*\|_\infty \le \frac{\gamma}{1-\gamma}\frac{M-m}{2}`. Every
method here ends by returning such a corrected :math:`\hat V` with that bound (see
``proofs_notes/vi_stopping_rule.md``). Because the bound uses the *span* of ``d`` rather than
its sup norm, it is often orders of magnitude tighter than the classical
:math:`\frac{2\gamma}{1-\gamma}\|V_{k+1}-V_k\|` rule.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mdptheory.core import DiscountedMDP
from mdptheory.solvers._ops import DiscountedOps
from mdptheory.solvers.result import Solution

__all__ = ["value_iteration", "gauss_seidel_vi", "policy_iteration", "modified_policy_iteration",
           "certify", "evaluate_discounted"]


def _mcqueen(gamma: float, V: np.ndarray, TV: np.ndarray):
    d = TV - V
    m, M = float(d.min()), float(d.max())
    if gamma == 0.0:
        return TV.copy(), 0.0
    c = gamma / (1.0 - gamma)
    return TV + c * 0.5 * (m + M), c * 0.5 * (M - m)


def _finish(ops: DiscountedOps, V_hat, bound, converged, iterations, method, message, max_iter_hit):
    Q = np.empty((ops.S, ops.A))
    ops.q(V_hat, Q)
    pi = Q.argmax(axis=1).astype(np.int64)
    residual = float(np.abs(Q.max(axis=1) - V_hat).max())
    if max_iter_hit:
        warnings.warn(
            f"{method}: stopped at max_iter={iterations} with certified error bound {bound:.3g} "
            "above tol; the returned Solution has converged=False", RuntimeWarning, stacklevel=4,
        )
    return Solution(V=V_hat, Q=Q, policy=pi, error_bound=float(bound), converged=converged,
                    iterations=int(iterations), residual=residual, method=method, message=message)


def certify(mdp: DiscountedMDP, V: np.ndarray, ops: DiscountedOps | None = None):
    """Midpoint-corrected values and their proven error bound from one Bellman sweep of ``V``.

    Returns ``(V_hat, bound)`` with ``max|V_hat - V*| <= bound``.
    """
    ops = ops or DiscountedOps(mdp)
    TV = np.empty(ops.S)
    pi = np.empty(ops.S, dtype=np.int64)
    ops.tmax(np.ascontiguousarray(V, dtype=np.float64), TV, pi)
    return _mcqueen(ops.gamma, V, TV)


def _init_V(mdp, V0):
    if V0 is None:
        return np.zeros(mdp.S)
    V0 = np.array(V0, dtype=np.float64)
    if V0.shape != (mdp.S,):
        raise ValueError(f"V0 must have shape ({mdp.S},), got {V0.shape}")
    return V0


def value_iteration(mdp: DiscountedMDP, tol: float = 1e-8, max_iter: int = 100_000, V0=None) -> Solution:
    r"""Jacobi value iteration :math:`V_{k+1} = T V_k` with the certified span stopping rule.

    Stops at the first ``k`` with :math:`\frac{\gamma}{1-\gamma}\frac{\mathrm{sp}(TV_k-V_k)}{2}
    \le` ``tol`` and returns the midpoint-corrected values (not the raw iterate).
    """
    ops = DiscountedOps(mdp)
    V = _init_V(mdp, V0)
    TV = np.empty_like(V)
    pi = np.empty(mdp.S, dtype=np.int64)
    bound = np.inf
    k = 0
    while k < max_iter:
        ops.tmax(V, TV, pi)
        k += 1
        V_hat, bound = _mcqueen(ops.gamma, V, TV)
        if bound <= tol:
            return _finish(ops, V_hat, bound, True, k, "vi", "certified error bound <= tol", False)
        V, TV = TV, V
    return _finish(ops, V_hat, bound, False, k, "vi", "max_iter reached before the certified bound met tol", True)


def gauss_seidel_vi(mdp: DiscountedMDP, tol: float = 1e-8, max_iter: int = 100_000, V0=None,
                    check_every: int = 10) -> Solution:
    r"""Gauss-Seidel value iteration (in-place sweeps in state order).

    The Gauss-Seidel operator is a :math:`\gamma`-contraction in sup norm with fixed point
    :math:`V^*`, so :math:`\|V_{k+1}-V^*\| \le \frac{\gamma}{1-\gamma}\|V_{k+1}-V_k\|`
    certifies the iterate after every sweep; every ``check_every`` sweeps a Jacobi sweep
    also tries the (usually much tighter) midpoint certificate of :func:`certify`.
    """
    ops = DiscountedOps(mdp)
    V = _init_V(mdp, V0)
    pi = np.empty(mdp.S, dtype=np.int64)
    g = ops.gamma
    c = g / (1.0 - g) if g < 1 else np.inf
    k = 0
    bound = np.inf
    V_best = V.copy()
    while k < max_iter:
        delta = ops.gs(V, pi)
        k += 1
        sup_bound = c * delta
        if sup_bound <= tol:
            return _finish(ops, V.copy(), sup_bound, True, k, "gs-vi", "certified (sup-norm contraction) bound <= tol", False)
        if k % check_every == 0:
            V_hat, b = certify(mdp, V, ops)
            if b < bound:
                bound, V_best = b, V_hat
            if b <= tol:
                return _finish(ops, V_hat, b, True, k, "gs-vi", "certified (midpoint) bound <= tol", False)
        if sup_bound < bound:
            bound, V_best = sup_bound, V.copy()
    return _finish(ops, V_best, bound, False, k, "gs-vi", "max_iter reached before the certified bound met tol", True)


#: Sparse systems with more states than this are solved by BiCGSTAB instead of SuperLU:
#: LU fill-in on random sparse transition graphs is catastrophic (measured: a 20000-state,
#: 5-successor instance did not finish in 10 minutes with SuperLU; BiCGSTAB takes 0.2 s).
SPARSE_DIRECT_MAX_STATES = 3000


def _solve_linear(ops: DiscountedOps, P_pi, R_pi, x0=None):
    r"""Solve :math:`(I - \gamma P_\pi) V = R_\pi`.

    Dense: LAPACK LU. Sparse: SuperLU up to :data:`SPARSE_DIRECT_MAX_STATES` states, else
    BiCGSTAB to a relative residual of 1e-13 (falling back to SuperLU if it stalls). The
    iterative answer is exact up to its residual ``r``: :math:`\|V - V^\pi\|_\infty \le
    \|r\|_\infty / (1-\gamma)`.
    """
    S = ops.S
    if sp.issparse(P_pi):
        M = sp.identity(S, format="csr") - ops.gamma * sp.csr_matrix(P_pi)
        if S > SPARSE_DIRECT_MAX_STATES:
            x, info = spla.bicgstab(M, R_pi, x0=x0, rtol=1e-13, atol=0.0, maxiter=10 * S)
            if info == 0:
                return x
        return spla.spsolve(M.tocsc(), R_pi)
    M = np.eye(S) - ops.gamma * P_pi
    return np.linalg.solve(M, R_pi)


def evaluate_discounted(mdp: DiscountedMDP, probs: np.ndarray | None = None, pi: np.ndarray | None = None,
                        ops: DiscountedOps | None = None, x0=None) -> np.ndarray:
    r"""Exact :math:`V^\pi = (I - \gamma P_\pi)^{-1} R_\pi` (see :func:`_solve_linear` for the
    linear algebra). Give either a probability table ``probs (S, A)`` or deterministic
    actions ``pi``."""
    ops = ops or DiscountedOps(mdp)
    if pi is not None:
        P_pi, R_pi = ops.deterministic_matrices(pi)
    else:
        P_pi, R_pi = ops.policy_matrices(probs)
    return _solve_linear(ops, P_pi, R_pi, x0)


def policy_iteration(mdp: DiscountedMDP, tol: float = 1e-8, max_iter: int = 10_000, pi0=None) -> Solution:
    r"""Howard's policy iteration with exact evaluation.

    Improvement keeps the current action unless another one is better by more than
    ``1e-12 (1 + |V|)`` (this prevents cycling between tied actions under round-off).
    Terminates when the policy is stable; the final values are certified by :func:`certify`.
    """
    ops = DiscountedOps(mdp)
    S = mdp.S
    Q = np.empty((S, mdp.A))
    if pi0 is None:
        pi = np.asarray(mdp.R).argmax(axis=1).astype(np.int64)
    else:
        pi = np.array(pi0, dtype=np.int64)
    idx = np.arange(S)
    k = 0
    stable = False
    V = None
    while k < max_iter:
        V = evaluate_discounted(mdp, pi=pi, ops=ops, x0=V)
        k += 1
        ops.q(V, Q)
        best = Q.argmax(axis=1)
        improve = Q[idx, best] > Q[idx, pi] + 1e-12 * (1.0 + np.abs(V))
        if not improve.any():
            stable = True
            break
        pi = np.where(improve, best, pi).astype(np.int64)
    V_hat, bound = certify(mdp, V, ops)
    if stable:
        return _finish(ops, V_hat, bound, True, k, "pi", "policy stable", False)
    return _finish(ops, V_hat, bound, False, k, "pi", "max_iter reached before the policy stabilised", True)


def modified_policy_iteration(mdp: DiscountedMDP, tol: float = 1e-8, max_iter: int = 100_000,
                              m: int = 5, V0=None) -> Solution:
    r"""Modified policy iteration (Puterman & Shin 1978): greedy improvement, then ``m``
    partial evaluation sweeps :math:`V \leftarrow T_\pi V`.

    The default ``m = 5`` is the ``m`` in {2, 5, 10, 20} with the smallest geometric-mean
    time ratio to the best ``m`` over the instances of ``benchmarks/exact_solvers.py``
    (dense and CSR, gamma 0.99 and 0.999; measured in docs/benchmarks.md): larger ``m``
    wastes policy sweeps once the improvement steps dominate, smaller ``m`` approaches VI.

    Each improvement step computes :math:`TV`, so the midpoint certificate is free; the
    loop stops when it is ``<= tol``. Starting from :math:`V_0 = \min R/(1-\gamma)` makes the
    iterates monotone (Puterman Thm 6.5.5), which guarantees convergence for any ``m``.
    """
    if m < 0:
        raise ValueError(f"m = {m} must be >= 0")
    ops = DiscountedOps(mdp)
    if V0 is None:
        V = np.full(mdp.S, float(np.min(mdp.R)) / (1.0 - ops.gamma))
    else:
        V = _init_V(mdp, V0)
    TV = np.empty_like(V)
    pi = np.empty(mdp.S, dtype=np.int64)
    k = 0
    bound = np.inf
    V_hat = V
    while k < max_iter:
        ops.tmax(V, TV, pi)
        k += 1
        V_hat, bound = _mcqueen(ops.gamma, V, TV)
        if bound <= tol:
            return _finish(ops, V_hat, bound, True, k, "mpi", "certified error bound <= tol", False)
        V, TV = TV, V
        for _ in range(m):
            ops.tpi(pi, V, TV)
            V, TV = TV, V
    return _finish(ops, V_hat, bound, False, k, "mpi", "max_iter reached before the certified bound met tol", True)

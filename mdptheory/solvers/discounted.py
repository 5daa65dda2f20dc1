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

Round-off. The returned bound holds for the float64 vector actually returned: the residual
:math:`TV - V` is re-evaluated in double-double arithmetic with a rigorous error term
(:mod:`mdptheory.kernels.accurate`), the stored rows' deviation from summing to one enters
the contraction factor, and the final float subtractions are rounded outward. When ``tol``
is below what float64 can certify for the model (about :math:`u\max|V|/(1-\gamma)`,
``u = 2^-53``), the method stops once the certified bound stops improving and returns
``converged=False`` with a ``RuntimeWarning`` that names the smallest bound it reached.
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
           "certify", "certified_bound", "evaluate_discounted"]


def _mcqueen(gamma: float, V: np.ndarray, TV: np.ndarray):
    """Midpoint and MacQueen bound computed in float64 (the iteration's stopping test)."""
    d = TV - V
    m, M = float(d.min()), float(d.max())
    if gamma == 0.0:
        return TV.copy(), 0.0
    c = gamma / (1.0 - gamma)
    return TV + c * 0.5 * (m + M), c * 0.5 * (M - m)


_U = 2.0 ** -53


def _outward(x: float, up: bool) -> float:
    """``x`` moved away from the bound's inside by a few units of round-off."""
    if up:
        return x * (1 + 8 * _U) if x > 0 else x * (1 - 8 * _U)
    return x * (1 - 8 * _U) if x > 0 else x * (1 + 8 * _U)


def certified_bound(ops: DiscountedOps, V_pre: np.ndarray, V_ret: np.ndarray) -> float:
    r"""A bound on :math:`\|V_{ret} - V^*\|_\infty` that holds in exact arithmetic for the
    float64 vectors given, from one Bellman backup of ``V_pre`` evaluated in double-double.

    With :math:`d = TV_{pre} - V_{pre}` enclosed in :math:`[m, M]` and the stored rows summing
    to :math:`1\pm\eta`, :math:`V^* - TV_{pre} \in [L, U]` componentwise where
    :math:`U = \gamma\,\overline{s}(M)/(1-\gamma s_U)`, :math:`L = \gamma\,\underline{s}(m)/(1-\gamma s_L)`
    (``proofs_notes/vi_stopping_rule.md``, Statement 5; with :math:`\eta = 0` these are
    MacQueen's :math:`\frac{\gamma}{1-\gamma}M` and :math:`\frac{\gamma}{1-\gamma}m`), so
    :math:`|V_{ret}(s) - V^*(s)| \le \max(|TV_{pre}(s)+L-V_{ret}(s)|, |TV_{pre}(s)+U-V_{ret}(s)|)`.
    Returns ``inf`` when :math:`\gamma(1+\eta)\ge1`.
    """
    V_pre = np.ascontiguousarray(V_pre, dtype=np.float64)
    V_ret = np.asarray(V_ret, dtype=np.float64)
    g = ops.gamma
    hi, lo, err = ops.accurate_backup(V_pre)
    t1 = hi - V_pre
    d = t1 + lo
    slack = err + 2 * _U * (np.abs(t1) + np.abs(d))
    m = float(np.min(d - slack))
    M = float(np.max(d + slack))
    eta = ops.row_sum_defect
    if g * (1 + eta) >= 1.0:
        return float("inf")
    if g == 0.0:
        L = U = 0.0
    else:
        U = g * ((1 + eta) * M if M >= 0 else (1 - eta) * M) / (1 - g * ((1 + eta) if M >= 0 else (1 - eta)))
        L = g * ((1 - eta) * m if m >= 0 else (1 + eta) * m) / (1 - g * ((1 - eta) if m >= 0 else (1 + eta)))
        U, L = _outward(U, True), _outward(L, False)
    w = hi - V_ret
    e = np.maximum(np.abs((w + lo) + L), np.abs((w + lo) + U))
    e = e + err + 4 * _U * (np.abs(w) + np.abs(lo) + abs(L) + abs(U))
    return float(np.max(e) * (1 + 8 * _U))


class _Certifier:
    """Runs the rigorous certificate once the float stopping test passes, keeps the best
    certified vector, and detects the round-off floor (no halving of the certified bound in
    ``patience`` consecutive checks). ``depth``: the frames between the solver function and
    the certifier's user (1 inside :func:`certified_iteration`), so that warnings point at the
    solver's caller."""

    def __init__(self, ops: DiscountedOps, tol: float, method: str, patience: int = 5, depth: int = 0):
        self.ops, self.tol, self.method, self.patience, self.depth = ops, float(tol), method, patience, depth
        self.best, self.best_V, self.stall, self.active, self.checks = np.inf, None, 0, False, 0

    def near(self, float_bound: float, V: np.ndarray) -> bool:
        """Whether to certify now: the float stopping test passed, or the float bound is
        already down at the round-off floor (about ``16 u max|V| / (1 - gamma)``), where
        further iterations cannot help, or certification has started."""
        if self.active or float_bound <= self.tol:
            return True
        g = self.ops.gamma
        return g < 1.0 and float_bound <= 16 * _U * float(np.max(np.abs(V))) / (1.0 - g)

    def check(self, V_pre, V_ret) -> bool:
        """Certify ``V_ret``; True when done (certified within tol, or stuck at the floor)."""
        self.active = True
        self.checks += 1
        b = certified_bound(self.ops, V_pre, V_ret)
        if b < self.best:
            self.stall = 0 if b < 0.5 * self.best else self.stall + 1
            self.best, self.best_V = b, np.array(V_ret, dtype=np.float64, copy=True)
        else:
            self.stall += 1
        return self.best <= self.tol or self.stall >= self.patience

    def finish(self, iterations: int, ok_message: str, max_iter_hit: bool, stop_message: str | None = None):
        """The Solution: converged when the certified bound is within tol; otherwise a
        RuntimeWarning that says why (the round-off floor, or ``max_iter``)."""
        if self.best <= self.tol:
            return _finish(self.ops, self.best_V, self.best, True, iterations, self.method, ok_message, False,
                           self.depth)
        if self.stall >= self.patience or not max_iter_hit:
            scale = float(np.max(np.abs(self.best_V)))
            msg = (f"tol = {self.tol:.3g} is below what float64 can certify for this model: the smallest "
                   f"certified error bound reached is {self.best:.3g} (values up to {scale:.3g}, "
                   f"gamma = {self.ops.gamma:g}; the round-off floor is about 1e-16 max|V| / (1 - gamma))")
            warnings.warn(f"{self.method}: {msg}; the returned Solution has converged=False",
                          RuntimeWarning, stacklevel=4 + self.depth)
            return _finish(self.ops, self.best_V, self.best, False, iterations, self.method, msg, False, self.depth)
        return _finish(self.ops, self.best_V, self.best, False, iterations, self.method,
                       stop_message or "max_iter reached before the certified bound met tol", True, self.depth)


def _finish(ops: DiscountedOps, V_hat, bound, converged, iterations, method, message, max_iter_hit, depth=0):
    Q = np.empty((ops.S, ops.A))
    ops.q(V_hat, Q)
    pi = Q.argmax(axis=1).astype(np.int64)
    residual = float(np.abs(Q.max(axis=1) - V_hat).max())
    if max_iter_hit:
        warnings.warn(
            f"{method}: stopped at max_iter={iterations} with certified error bound {bound:.3g} "
            "above tol; the returned Solution has converged=False", RuntimeWarning, stacklevel=4 + depth,
        )
    return Solution(V=V_hat, Q=Q, policy=pi, error_bound=float(bound), converged=converged,
                    iterations=int(iterations), residual=residual, method=method, message=message)


def certify(mdp: DiscountedMDP, V: np.ndarray, ops: DiscountedOps | None = None):
    """Midpoint-corrected values and their proven error bound from one Bellman sweep of ``V``.

    Returns ``(V_hat, bound)`` with ``max|V_hat - V*| <= bound`` for the float64 ``V_hat``
    returned, round-off included (see :func:`certified_bound`).
    """
    ops = ops or DiscountedOps(mdp)
    V = np.ascontiguousarray(V, dtype=np.float64)
    TV = np.empty(ops.S)
    pi = np.empty(ops.S, dtype=np.int64)
    ops.tmax(V, TV, pi)
    V_hat, _ = _mcqueen(ops.gamma, V, TV)
    return V_hat, certified_bound(ops, V, V_hat)


def _polish(ops: DiscountedOps, V: np.ndarray, cert: _Certifier, max_steps: int = 50) -> int:
    """Value-iteration steps with the midpoint correction from ``V`` until the certifier is
    done (used after an exact method whose values miss ``tol``); returns the steps taken."""
    TV = np.empty(ops.S)
    pi = np.empty(ops.S, dtype=np.int64)
    V = np.array(V, dtype=np.float64, copy=True)
    for step in range(1, max_steps + 1):
        ops.tmax(V, TV, pi)
        V_hat, _ = _mcqueen(ops.gamma, V, TV)
        if cert.check(V, V_hat):
            return step
        V = V_hat
    return max_steps


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
    return certified_iteration(ops, _init_V(mdp, V0), tol, max_iter, 0, "vi")


def certified_iteration(ops, V: np.ndarray, tol: float, max_iter: int, m: int, method: str) -> Solution:
    """The loop shared by value iteration (``m = 0``) and modified policy iteration: an
    improvement step ``TV`` (greedy actions ``pi``), the float midpoint test, the rigorous
    certificate once that test passes (:class:`_Certifier`), then ``m`` partial evaluation
    sweeps ``V <- T_pi V``. ``ops`` provides ``tmax``, ``tpi``, ``gamma`` and the certificate's
    ``accurate_backup`` / ``row_sum_defect`` (any monotone, shift-commuting operator)."""
    TV = np.empty_like(V)
    pi = np.empty(V.shape[0], dtype=np.int64)
    cert = _Certifier(ops, tol, method, depth=1)
    k = 0
    while k < max_iter:
        ops.tmax(V, TV, pi)
        k += 1
        V_hat, bound = _mcqueen(ops.gamma, V, TV)
        if cert.near(bound, V_hat) or k == max_iter:
            if cert.check(V, V_hat):
                break
        V, TV = TV, V
        for _ in range(m):
            ops.tpi(pi, V, TV)
            V, TV = TV, V
    return cert.finish(k, "certified error bound <= tol", k >= max_iter)


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
    cert = _Certifier(ops, tol, "gs-vi")
    TV = np.empty(mdp.S)
    k = 0
    while k < max_iter:
        delta = ops.gs(V, pi)
        k += 1
        test = cert.near(c * delta, V) or k == max_iter
        if not test and k % check_every == 0:
            ops.tmax(V, TV, pi)
            test = cert.near(_mcqueen(g, V, TV)[1], V)
        if test:
            ops.tmax(V, TV, pi)
            V_hat, _ = _mcqueen(g, V, TV)
            if cert.check(V, V_hat):
                break
    return cert.finish(k, "certified (midpoint) bound <= tol", k >= max_iter)


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
    if pi0 is None:
        pi = np.asarray(mdp.R).argmax(axis=1).astype(np.int64)
    else:
        pi = np.array(pi0, dtype=np.int64)
    return certified_policy_iteration(ops, pi, lambda p, V: evaluate_discounted(mdp, pi=p, ops=ops, x0=V),
                                      tol, max_iter, "pi")


def certified_policy_iteration(ops, pi: np.ndarray, evaluate, tol: float, max_iter: int, method: str, *,
                               polish_unstable: bool = False) -> Solution:
    """The loop shared by policy iteration and robust policy iteration: ``V = evaluate(pi,
    V_prev)`` (``V_prev`` is ``None`` the first time), then greedy improvement that keeps the
    current action unless another is better by more than ``1e-12 (1 + |V|)``, until the
    policy is stable or ``max_iter``; the last values are certified (and polished by
    :func:`_polish` when they miss ``tol`` and the policy is stable, or always with
    ``polish_unstable``). ``ops`` provides ``q``, ``tmax``, ``gamma``, ``S``, ``A`` and the
    certificate's ``accurate_backup`` / ``row_sum_defect``."""
    S = ops.S
    Q = np.empty((S, ops.A))
    idx = np.arange(S)
    k = 0
    stable = False
    V = None
    while k < max_iter:
        V = evaluate(pi, V)
        k += 1
        ops.q(V, Q)
        best = Q.argmax(axis=1)
        improve = Q[idx, best] > Q[idx, pi] + 1e-12 * (1.0 + np.abs(V))
        if not improve.any():
            stable = True
            break
        pi = np.where(improve, best, pi).astype(np.int64)
    cert = _Certifier(ops, tol, method, depth=1)
    TV = np.empty(S)
    ops.tmax(V, TV, np.empty(S, dtype=np.int64))
    if not cert.check(V, _mcqueen(ops.gamma, V, TV)[0]) and (stable or polish_unstable):
        k += _polish(ops, V, cert)
    if stable:
        return cert.finish(k, "policy stable; certified error bound <= tol", False)
    return cert.finish(k, "", True, "max_iter reached before the policy stabilised")


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
    return certified_iteration(ops, V, tol, max_iter, m, "mpi")

r"""Linear-programming formulations of discounted MDPs.

Primal (values), for weights :math:`\alpha > 0`:

.. math::
    \min_V \ \alpha^\top V \quad\text{s.t.}\quad V(s) \ge R(s,a) + \gamma\, P(\cdot|s,a)^\top V
    \quad \forall (s,a).

Dual (occupancy measures):

.. math::
    \max_{x\ge0} \sum_{s,a} x(s,a) R(s,a) \quad\text{s.t.}\quad
    \sum_a x(s',a) - \gamma \sum_{s,a} P(s'|s,a)\, x(s,a) = \alpha(s')\quad\forall s'.

A feasible dual ``x`` is the discounted occupancy measure
:math:`x(s,a)=\sum_t\gamma^t\Pr^\pi_\alpha(s_t=s,a_t=a)` of the stationary policy
:math:`\pi(a|s)\propto x(s,a)` (Puterman 1994, Thm 6.9.1). See ``proofs_notes/lp_duality.md``.

:func:`linear_programming` solves the primal with SciPy's HiGHS and reads the dual from its
marginals; :func:`lp_cvxpy` writes the dual in cvxpy for teaching and for adding
constraints, and :func:`solve_constrained` solves a constrained MDP (Altman 1999).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from mdptheory.core import DiscountedMDP
from mdptheory.solvers._ops import DiscountedOps
from mdptheory.solvers.discounted import _finish, certify, policy_iteration
from mdptheory.solvers.result import Solution

__all__ = ["linear_programming", "lp_cvxpy", "solve_constrained", "ConstrainedSolution", "occupancy_measure"]


def _flat_P(mdp: DiscountedMDP):
    if mdp.is_sparse:
        return sp.csr_matrix(mdp.P)
    return sp.csr_matrix(np.asarray(mdp.P).reshape(mdp.S * mdp.A, mdp.S))


def _selector(S: int, A: int):
    """``E`` with ``E[(s,a), s] = 1``, shape ``(S*A, S)``."""
    rows = np.arange(S * A)
    return sp.csr_matrix((np.ones(S * A), (rows, rows // A)), shape=(S * A, S))


def occupancy_measure(mdp: DiscountedMDP, probs: np.ndarray, initial: np.ndarray | None = None) -> np.ndarray:
    r"""Discounted occupancy :math:`d(s,a)=\pi(a|s)\,[(I-\gamma P_\pi^\top)^{-1}\rho](s)` of a
    stochastic policy table ``probs (S, A)`` from ``initial`` (default: the MDP's)."""
    ops = DiscountedOps(mdp)
    rho = mdp.initial if initial is None else np.asarray(initial, dtype=float)
    P_pi, _ = ops.policy_matrices(np.asarray(probs, dtype=float))
    if sp.issparse(P_pi):
        import scipy.sparse.linalg as spla

        M = sp.identity(mdp.S, format="csc") - mdp.gamma * sp.csc_matrix(P_pi).T
        d = spla.spsolve(sp.csc_matrix(M), rho)
    else:
        d = np.linalg.solve(np.eye(mdp.S) - mdp.gamma * P_pi.T, rho)
    return d[:, None] * probs


def linear_programming(mdp: DiscountedMDP, tol: float = 1e-8) -> Solution:
    """Solve the primal LP with HiGHS (``scipy.optimize.linprog``); certify the values; if
    the LP's accuracy misses ``tol``, polish by policy iteration started from the LP's greedy
    policy (said in ``message``). ``occupancy`` is the dual solution for the MDP's initial
    distribution."""
    S, A, g = mdp.S, mdp.A, mdp.gamma
    rho = np.asarray(mdp.initial)
    full_support = bool((rho > 0).all())
    alpha = rho if full_support else np.full(S, 1.0 / S)
    A_ub = (g * _flat_P(mdp) - _selector(S, A)).tocsr()
    b_ub = -np.asarray(mdp.R).ravel()
    res = linprog(
        alpha, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * S, method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    ops = DiscountedOps(mdp)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the MDP LP: {res.message}")
    V_lp = np.asarray(res.x, dtype=float)
    V_hat, bound = certify(mdp, V_lp, ops)
    message = "HiGHS optimal; values certified by one Bellman sweep"
    iterations = int(getattr(res, "nit", 0))
    converged = bound <= tol
    if not converged:
        # polish by policy iteration from the LP's greedy policy; PI certifies (and warns when
        # tol is below the round-off floor), so LP's flag is PI's flag on the same model
        pol = policy_iteration(mdp, tol=tol, pi0=(np.asarray(mdp.R) + g * (_flat_P(mdp) @ V_lp).reshape(S, A)).argmax(1))
        V_hat, bound, converged = pol.V, pol.error_bound, pol.converged
        message = (f"HiGHS optimal but its accuracy missed tol; polished by {pol.iterations} "
                   f"policy-iteration step(s): {pol.message}")
    sol = _finish(ops, V_hat, bound, converged, iterations, "lp", message, False)
    if full_support:
        occ = np.maximum(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0).reshape(S, A)
    else:
        occ = occupancy_measure(mdp, np.eye(A)[sol.policy])
    return Solution(V=sol.V, Q=sol.Q, policy=sol.policy, error_bound=sol.error_bound, converged=sol.converged,
                    iterations=sol.iterations, residual=sol.residual, method="lp", message=sol.message,
                    occupancy=occ)


def _cvxpy_dual(mdp: DiscountedMDP, alpha: np.ndarray):
    import cvxpy as cp

    S, A, g = mdp.S, mdp.A, mdp.gamma
    Pf = _flat_P(mdp)
    E = _selector(S, A)
    x = cp.Variable(S * A, nonneg=True)
    flow = (E - g * Pf).T @ x == alpha
    return cp, x, flow


def lp_cvxpy(mdp: DiscountedMDP, initial: np.ndarray | None = None, solver: str | None = None):
    r"""The occupancy-measure (dual) LP written in cvxpy, for teaching and extension.

    Returns ``(V, occupancy)`` where ``V`` are the multipliers of the flow constraints
    (equal to :math:`V^*` on states with :math:`\alpha(s) > 0`) and ``occupancy`` is
    ``(S, A)``. ``initial`` defaults to the MDP's initial distribution.
    """
    alpha = np.asarray(mdp.initial if initial is None else initial, dtype=float)
    cp, x, flow = _cvxpy_dual(mdp, alpha)
    prob = cp.Problem(cp.Maximize(np.asarray(mdp.R).ravel() @ x), [flow])
    prob.solve(solver=solver)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"cvxpy could not solve the MDP LP: status {prob.status}")
    return np.asarray(flow.dual_value, dtype=float), np.asarray(x.value, dtype=float).reshape(mdp.S, mdp.A)


@dataclass(frozen=True)
class ConstrainedSolution:
    """Solution of a constrained MDP.

    Attributes
    ----------
    occupancy : ``(S, A)`` optimal discounted occupancy measure
    policy : ``(S, A)`` stochastic policy :math:`x(s,a)/\\sum_b x(s,b)` (uniform where the
        state is never visited)
    value : optimal expected discounted reward from the initial distribution
    costs : ``(k,)`` expected discounted costs of the optimal policy
    status : solver status string
    """

    occupancy: np.ndarray
    policy: np.ndarray
    value: float
    costs: np.ndarray
    status: str


def solve_constrained(mdp: DiscountedMDP, costs, budgets, solver: str | None = None) -> ConstrainedSolution:
    r"""Constrained MDP: maximise expected discounted reward from the initial distribution
    subject to :math:`\sum_{s,a} x(s,a) C_i(s,a) \le b_i` for each cost ``C_i``.

    ``costs`` has shape ``(k, S, A)`` (or ``(S, A)`` for one constraint), ``budgets`` ``(k,)``.
    Optimal policies of constrained MDPs are in general stochastic (Altman 1999, Thm 3.8).
    """
    C = np.asarray(costs, dtype=float)
    if C.ndim == 2:
        C = C[None]
    if C.shape[1:] != (mdp.S, mdp.A):
        raise ValueError(f"costs must have shape (k, S, A) with (S, A) = {(mdp.S, mdp.A)}, got {C.shape}")
    b = np.atleast_1d(np.asarray(budgets, dtype=float))
    if b.shape != (C.shape[0],):
        raise ValueError(f"budgets must have shape ({C.shape[0]},), got {b.shape}")
    alpha = np.asarray(mdp.initial, dtype=float)
    cp, x, flow = _cvxpy_dual(mdp, alpha)
    cons = [flow, C.reshape(C.shape[0], -1) @ x <= b]
    prob = cp.Problem(cp.Maximize(np.asarray(mdp.R).ravel() @ x), cons)
    prob.solve(solver=solver)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"constrained MDP LP status: {prob.status} (infeasible budgets?)")
    occ = np.maximum(np.asarray(x.value, dtype=float), 0.0).reshape(mdp.S, mdp.A)
    mass = occ.sum(axis=1, keepdims=True)
    pol = np.where(mass > 1e-12, occ / np.where(mass > 0, mass, 1.0), 1.0 / mdp.A)
    return ConstrainedSolution(occupancy=occ, policy=pol, value=float(prob.value),
                               costs=(C.reshape(C.shape[0], -1) @ occ.ravel()), status=prob.status)

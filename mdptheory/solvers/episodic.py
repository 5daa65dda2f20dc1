r"""Backward induction for finite-horizon episodic MDPs (stationary or stage-dependent).

.. math::
    V_H = 0,\qquad Q_h(s,a) = R_h(s,a) + \sum_{s'} P_h(s'|s,a) V_{h+1}(s'),\qquad
    V_h(s) = \max_a Q_h(s,a).

Exact in ``H`` sweeps (Puterman 1994, Thm 4.5.1); see ``proofs_notes/backward_induction.md``.
The only error is float64 round-off; ``error_bound`` bounds it for the returned values: with
:math:`e_H = 0` and :math:`e_h = \max_s|V_h(s) - (T_hV_{h+1})(s)| + (1+\eta)e_{h+1}`, where
:math:`T_hV_{h+1}` is re-evaluated in double-double arithmetic with its own error term
(:mod:`mdptheory.kernels.accurate`) and :math:`1\pm\eta` bounds the stored row sums,
:math:`\max_{h,s}|V_h(s) - V^*_h(s)| \le e_0`.
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.kernels import accurate as ka
from mdptheory.kernels import csr as kc
from mdptheory.kernels import dense as kd
from mdptheory.solvers._ops import episodic_arrays
from mdptheory.solvers.result import Solution

__all__ = ["backward_induction", "evaluate_episodic", "roundoff_bound"]


def backward_induction(mdp: EpisodicMDP) -> Solution:
    """Optimal ``V (H+1, S)``, ``Q (H, S, A)`` and a greedy ``policy (H, S)``; exact."""
    H, S, A = mdp.horizon, mdp.S, mdp.A
    V = np.empty((H + 1, S))
    Q = np.empty((H, S, A))
    pi = np.empty((H, S), dtype=np.int64)
    kind, payload, R3 = episodic_arrays(mdp)
    if kind == "csr":
        kc.backward_induction_csr(*payload, R3, V, Q, pi)
    else:
        kd.backward_induction_dense(payload[0], R3, V, Q, pi)
    bound = roundoff_bound(mdp, V)
    return Solution(V=V, Q=Q, policy=pi, error_bound=bound, converged=True, iterations=H,
                    residual=0.0, method="backward-induction",
                    message="exact up to float64 round-off (bounded by error_bound)")


def roundoff_bound(mdp: EpisodicMDP, V: np.ndarray) -> float:
    r"""A bound on :math:`\max_{h,s}|V_h(s) - V^*_h(s)|` for values ``V (H+1, S)`` with
    ``V[H] = 0``, from one double-double backward pass (see the module docstring)."""
    H, S = mdp.horizon, mdp.S
    u = 2.0 ** -53
    kind, payload, R3 = episodic_arrays(mdp)
    hi, lo, err = np.empty(S), np.empty(S), np.empty(S)
    if kind == "csr":
        indptr, indices, data, stride = payload
        eta = ka.row_sum_defect_csr(indptr, data)
    else:
        P4 = payload[0]
        eta = ka.row_sum_defect_dense(P4 if mdp.stage_dependent_P else P4[0])
    e = 0.0
    for h in range(H - 1, -1, -1):
        Rh = np.ascontiguousarray(R3[h if R3.shape[0] > 1 else 0], dtype=np.float64)
        Vn = np.ascontiguousarray(V[h + 1], dtype=np.float64)
        if kind == "csr":
            ka.accurate_backup_csr(indptr, indices, data, Rh, 1.0, Vn, hi, lo, err, h * stride)
        else:
            Ph = np.ascontiguousarray(P4[h if P4.shape[0] > 1 else 0])
            ka.accurate_backup_dense(Ph, Rh, 1.0, Vn, hi, lo, err)
        w = V[h] - hi
        local = np.abs(w - lo) + err + 4 * u * (np.abs(w) + np.abs(lo))
        e = float(np.max(local)) * (1 + 8 * u) + (1 + eta) * e * (1 + 4 * u)
    return e


def evaluate_episodic(mdp: EpisodicMDP, probs: np.ndarray) -> np.ndarray:
    """Exact ``V^pi (H+1, S)`` of a stochastic policy table ``probs (H, S, A)``."""
    H, S = mdp.horizon, mdp.S
    V = np.empty((H + 1, S))
    probs = np.ascontiguousarray(probs, dtype=np.float64)
    kind, payload, R3 = episodic_arrays(mdp)
    if kind == "csr":
        kc.evaluate_episodic_csr(*payload, R3, probs, V)
    else:
        kd.evaluate_episodic_dense(payload[0], R3, probs, V)
    return V

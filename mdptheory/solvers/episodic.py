r"""Backward induction for finite-horizon episodic MDPs (stationary or stage-dependent).

.. math::
    V_H = 0,\qquad Q_h(s,a) = R_h(s,a) + \sum_{s'} P_h(s'|s,a) V_{h+1}(s'),\qquad
    V_h(s) = \max_a Q_h(s,a).

Exact in ``H`` sweeps (Puterman 1994, Thm 4.5.1); see ``proofs_notes/backward_induction.md``.
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.kernels import csr as kc
from mdptheory.kernels import dense as kd
from mdptheory.solvers._ops import episodic_arrays
from mdptheory.solvers.result import Solution

__all__ = ["backward_induction", "evaluate_episodic"]


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
    return Solution(V=V, Q=Q, policy=pi, error_bound=0.0, converged=True, iterations=H,
                    residual=0.0, method="backward-induction", message="exact")


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

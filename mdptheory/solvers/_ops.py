"""Dispatch of the compiled kernels for one discounted MDP (dense or CSR). Internal."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.kernels import csr as kc
from mdptheory.kernels import dense as kd


class DiscountedOps:
    """Bellman operators of a discounted MDP with preallocated-output kernels.

    ``gamma`` can be overridden (``gamma=1`` is used by relative value iteration).
    """

    def __init__(self, mdp: DiscountedMDP, gamma: float | None = None):
        self.S, self.A = mdp.S, mdp.A
        self.gamma = mdp.gamma if gamma is None else float(gamma)
        self.R = mdp.R
        self.sparse = mdp.is_sparse
        self.P = mdp.P
        if self.sparse:
            self.csr = (mdp.P.indptr, mdp.P.indices, mdp.P.data)

    def tmax(self, V, V_out, pi_out):
        if self.sparse:
            kc.bellman_max_csr(*self.csr, self.R, self.gamma, V, V_out, pi_out)
        else:
            kd.bellman_max_dense(self.P, self.R, self.gamma, V, V_out, pi_out)

    def q(self, V, Q_out):
        if self.sparse:
            kc.bellman_q_csr(*self.csr, self.R, self.gamma, V, Q_out)
        else:
            kd.bellman_q_dense(self.P, self.R, self.gamma, V, Q_out)

    def tpi(self, pi, V, V_out):
        if self.sparse:
            kc.policy_backup_csr(*self.csr, self.R, self.gamma, pi, V, V_out)
        else:
            kd.policy_backup_dense(self.P, self.R, self.gamma, pi, V, V_out)

    def gs(self, V, pi_out) -> float:
        if self.sparse:
            return kc.gs_sweep_csr(*self.csr, self.R, self.gamma, V, pi_out)
        return kd.gs_sweep_dense(self.P, self.R, self.gamma, V, pi_out)

    def policy_matrices(self, probs: np.ndarray):
        """``(P_pi, R_pi)`` for a probability table ``probs (S, A)``; ``P_pi`` is dense
        ``(S, S)`` or CSR."""
        R_pi = (probs * self.R).sum(axis=1)
        if self.sparse:
            S, A = self.S, self.A
            rows = np.arange(S * A) // A
            W = sp.csr_matrix((probs.ravel(), (rows, np.arange(S * A))), shape=(S, S * A))
            return sp.csr_matrix(W @ self.P), R_pi
        return np.einsum("sa,sat->st", probs, self.P), R_pi

    def deterministic_matrices(self, pi: np.ndarray):
        idx = np.arange(self.S)
        R_pi = self.R[idx, pi]
        if self.sparse:
            return sp.csr_matrix(self.P[idx * self.A + pi]), R_pi
        return self.P[idx, pi], R_pi


def episodic_arrays(mdp: EpisodicMDP):
    """``(kind, payload, R3)`` for the episodic kernels: dense ``(H, S, A, S)`` view or CSR
    arrays plus the stage stride."""
    R3 = mdp.stage_R()
    if mdp.is_sparse:
        P = mdp.P
        stride = mdp.S * mdp.A if mdp.stage_dependent_P else 0
        return "csr", (P.indptr, P.indices, P.data, stride), R3
    return "dense", (mdp.stage_P(),), R3

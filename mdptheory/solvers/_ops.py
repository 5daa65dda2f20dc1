"""Dispatch of the compiled kernels for one discounted MDP (dense or CSR). Internal."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.kernels import csr as kc
from mdptheory.kernels import dense as kd


#: A kernel call that reads fewer transition entries than this runs the serial build:
#: below it (about 0.5 ms of serial work) a parallel region costs more than it saves, and
#: on a machine whose other cores are busy a 2-thread region can stall for a scheduler
#: time slice (measured: 20x slowdowns of sub-millisecond sweeps under load).
PARALLEL_MIN_ENTRIES = 1_000_000


class DiscountedOps:
    """Bellman operators of a discounted MDP with preallocated-output kernels.

    ``gamma`` can be overridden (``gamma=1`` is used by relative value iteration).
    ``parallel`` (default: by size, see :data:`PARALLEL_MIN_ENTRIES`) picks the threaded
    or the serial compilation of the same kernels.
    """

    def __init__(self, mdp: DiscountedMDP, gamma: float | None = None, parallel: bool | None = None):
        self.S, self.A = mdp.S, mdp.A
        self.gamma = mdp.gamma if gamma is None else float(gamma)
        self.R = mdp.R
        self.sparse = mdp.is_sparse
        self.P = mdp.P
        entries = mdp.P.nnz if self.sparse else mdp.P.size
        # a full backup reads every entry; a policy backup reads about 1/A of them
        par_full = entries >= PARALLEL_MIN_ENTRIES if parallel is None else bool(parallel)
        par_pi = entries / mdp.A >= PARALLEL_MIN_ENTRIES if parallel is None else bool(parallel)
        self.parallel = par_full
        if self.sparse:
            self.csr = (mdp.P.indptr, mdp.P.indices, mdp.P.data)
            k = kc
            self._max = k.bellman_max_csr if par_full else k.bellman_max_csr_serial
            self._q = k.bellman_q_csr if par_full else k.bellman_q_csr_serial
            self._pi = k.policy_backup_csr if par_pi else k.policy_backup_csr_serial
            self._args = self.csr
        else:
            k = kd
            self._max = k.bellman_max_dense if par_full else k.bellman_max_dense_serial
            self._q = k.bellman_q_dense if par_full else k.bellman_q_dense_serial
            self._pi = k.policy_backup_dense if par_pi else k.policy_backup_dense_serial
            self._args = (self.P,)

    def tmax(self, V, V_out, pi_out):
        self._max(*self._args, self.R, self.gamma, V, V_out, pi_out)

    def q(self, V, Q_out):
        self._q(*self._args, self.R, self.gamma, V, Q_out)

    def tpi(self, pi, V, V_out):
        self._pi(*self._args, self.R, self.gamma, pi, V, V_out)

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

"""Dispatch of the compiled kernels for one discounted MDP (dense or CSR). Internal."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.kernels import accurate as ka
from mdptheory.kernels import csr as kc
from mdptheory.kernels import dense as kd


#: A kernel call that reads fewer transition entries than this runs the serial build:
#: below it (about 0.5 ms of serial work) a parallel region costs more than it saves, and
#: on a machine whose other cores are busy a 2-thread region can stall for a scheduler
#: time slice (measured: 20x slowdowns of sub-millisecond sweeps under load).
PARALLEL_MIN_ENTRIES = 1_000_000


class DiscountedOps:
    """Bellman operators of a discounted MDP with preallocated outputs.

    Dense models use BLAS (``P.reshape(S*A, S) @ V`` into a preallocated buffer, then a
    small compiled greedy step): GEMV streams ``P`` at the machine's memory bandwidth, and
    keeping every dense product in BLAS avoids two thread pools (OpenBLAS and numba's
    OpenMP) fighting over the cores (measured: alternating them costs ~70% extra).
    Policy backups gather ``P_pi`` once per policy and reuse it (dense: an ``(S, S)`` array;
    CSR: its rows copied contiguously). Sparse models use the numba CSR kernels, threaded when a call reads at least :data:`PARALLEL_MIN_ENTRIES`
    entries. ``gamma`` can be overridden (``gamma=1`` is used by relative value iteration).
    """

    def __init__(self, mdp: DiscountedMDP, gamma: float | None = None, parallel: bool | None = None):
        self.S, self.A = mdp.S, mdp.A
        self.gamma = mdp.gamma if gamma is None else float(gamma)
        self.R = mdp.R
        self.sparse = mdp.is_sparse
        self.P = mdp.P
        if self.sparse:
            entries = mdp.P.nnz
            # a full backup reads every entry; a policy backup reads about 1/A of them
            par_full = entries >= PARALLEL_MIN_ENTRIES if parallel is None else bool(parallel)
            par_pi = entries / mdp.A >= PARALLEL_MIN_ENTRIES if parallel is None else bool(parallel)
            self.parallel = par_full
            self.csr = (mdp.P.indptr, mdp.P.indices, mdp.P.data)
            self._max = kc.bellman_max_csr if par_full else kc.bellman_max_csr_serial
            self._q = kc.bellman_q_csr if par_full else kc.bellman_q_csr_serial
            self._pi = kc.affine_matvec_csr if par_pi else kc.affine_matvec_csr_serial
            self._pi_cached = None
            self._Ppi_csr = None
            self._R_pi = None
        else:
            self.parallel = False  # BLAS decides its own threading
            self._P2 = np.asarray(mdp.P).reshape(self.S * self.A, self.S)  # a view: no copy
            self._buf = np.empty(self.S * self.A)
            self._pi_cached = None
            self._P_pi = None
            self._R_pi = None

    def tmax(self, V, V_out, pi_out):
        """``V_out = T V`` and the greedy actions."""
        if self.sparse:
            self._max(*self.csr, self.R, self.gamma, V, V_out, pi_out)
        else:
            np.matmul(self._P2, V, out=self._buf)
            kd.greedy_from_products(self._buf, self.R, self.gamma, V_out, pi_out)

    def q(self, V, Q_out):
        """``Q_out = R + gamma P V``."""
        if self.sparse:
            self._q(*self.csr, self.R, self.gamma, V, Q_out)
        else:
            np.matmul(self._P2, V, out=self._buf)
            np.multiply(self._buf.reshape(self.S, self.A), self.gamma, out=Q_out)
            Q_out += self.R

    def tpi(self, pi, V, V_out):
        """``V_out = T_pi V`` for deterministic actions ``pi``."""
        if self.sparse:
            if self._pi_cached is None or not np.array_equal(pi, self._pi_cached):
                # gather the rows of P_pi once per policy (MPI/PI reuse them many times)
                self._pi_cached = np.array(pi, dtype=np.int64, copy=True)
                self._Ppi_csr = kc.gather_policy_rows_csr(*self.csr, self.A, self._pi_cached)
                self._R_pi = np.ascontiguousarray(self.R[np.arange(self.S), self._pi_cached])
            self._pi(*self._Ppi_csr, self._R_pi, self.gamma, V, V_out)
            return
        if self._pi_cached is None or not np.array_equal(pi, self._pi_cached):
            self._pi_cached = np.array(pi, copy=True)
            self._P_pi, self._R_pi = self.deterministic_matrices(self._pi_cached)
            self._P_pi = np.ascontiguousarray(self._P_pi)
        np.matmul(self._P_pi, V, out=V_out)
        V_out *= self.gamma
        V_out += self._R_pi

    def accurate_backup(self, V):
        r"""``(hi, lo, err)``: :math:`TV \approx hi + lo` within ``err`` per state, in
        double-double arithmetic (:mod:`mdptheory.kernels.accurate`)."""
        V = np.ascontiguousarray(V, dtype=np.float64)
        hi, lo, err = np.empty(self.S), np.empty(self.S), np.empty(self.S)
        R = np.ascontiguousarray(self.R, dtype=np.float64)
        if self.sparse:
            ka.accurate_backup_csr(*self.csr, R, self.gamma, V, hi, lo, err)
        else:
            ka.accurate_backup_dense(np.ascontiguousarray(self.P), R, self.gamma, V, hi, lo, err)
        return hi, lo, err

    @property
    def row_sum_defect(self) -> float:
        r"""Bound on :math:`\max_{s,a}|\sum_{s'}P(s'|s,a)-1|` for the stored rows (cached)."""
        if getattr(self, "_eta", None) is None:
            self._eta = (ka.row_sum_defect_csr(self.csr[0], self.csr[2]) if self.sparse
                         else ka.row_sum_defect_dense(self.P))
        return self._eta

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
    R3 = mdp.R_by_stage()
    if mdp.is_sparse:
        P = mdp.P
        stride = mdp.S * mdp.A if mdp.stage_dependent_P else 0
        return "csr", (P.indptr, P.indices, P.data, stride), R3
    return "dense", (mdp.P_by_stage(),), R3

r"""Numba kernels for CSR kernels: row ``s*A + a`` (or ``(h*S + s)*A + a``) of a
``(S*A, S)`` / ``(H*S*A, S)`` matrix is ``P(. | s, a)``.

Arguments are the raw CSR arrays ``indptr, indices, data`` so the kernels stay plain
functions of arrays. Plain-numpy twins: :mod:`mdptheory.kernels.reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from mdptheory.kernels._util import serial_clone

_FM = {"reassoc", "contract"}

__all__ = [
    "bellman_max_csr_serial",
    "bellman_q_csr_serial",
    "policy_backup_csr_serial",
    "gather_policy_rows_csr",
    "affine_matvec_csr",
    "affine_matvec_csr_serial",

    "bellman_max_csr",
    "bellman_q_csr",
    "policy_backup_csr",
    "gs_sweep_csr",
    "backward_induction_csr",
    "evaluate_episodic_csr",
]


def _bellman_max_csr(indptr, indices, data, R, gamma, V, V_out, pi_out):
    S, A = R.shape
    for s in prange(S):
        best = -np.inf
        arg = 0
        for a in range(A):
            row = s * A + a
            acc = 0.0
            for k in range(indptr[row], indptr[row + 1]):
                acc += data[k] * V[indices[k]]
            q = R[s, a] + gamma * acc
            if q > best:
                best = q
                arg = a
        V_out[s] = best
        pi_out[s] = arg


def _bellman_q_csr(indptr, indices, data, R, gamma, V, Q_out):
    S, A = R.shape
    for s in prange(S):
        for a in range(A):
            row = s * A + a
            acc = 0.0
            for k in range(indptr[row], indptr[row + 1]):
                acc += data[k] * V[indices[k]]
            Q_out[s, a] = R[s, a] + gamma * acc


def _policy_backup_csr(indptr, indices, data, R, gamma, pi, V, V_out):
    S, A = R.shape
    for s in prange(S):
        a = pi[s]
        row = s * A + a
        acc = 0.0
        for k in range(indptr[row], indptr[row + 1]):
            acc += data[k] * V[indices[k]]
        V_out[s] = R[s, a] + gamma * acc


@njit(cache=True)
def gather_policy_rows_csr(indptr, indices, data, A, pi):
    r"""CSR arrays of :math:`P_\pi` (row ``s`` = row ``s*A + pi[s]`` of ``P``), contiguous,
    so that repeated policy backups stream it without the row indirection. Twin:
    ``P[np.arange(S) * A + pi]`` in :mod:`scipy.sparse` (see the tests)."""
    S = pi.shape[0]
    out_ptr = np.empty(S + 1, dtype=np.int64)
    out_ptr[0] = 0
    for s in range(S):
        row = s * A + pi[s]
        out_ptr[s + 1] = out_ptr[s] + (indptr[row + 1] - indptr[row])
    out_idx = np.empty(out_ptr[S], dtype=indices.dtype)
    out_dat = np.empty(out_ptr[S], dtype=np.float64)
    for s in range(S):
        row = s * A + pi[s]
        j = out_ptr[s]
        for k in range(indptr[row], indptr[row + 1]):
            out_idx[j] = indices[k]
            out_dat[j] = data[k]
            j += 1
    return out_ptr, out_idx, out_dat


def _affine_matvec_csr(indptr, indices, data, b, gamma, V, V_out):
    """``V_out = b + gamma * M V`` for a CSR matrix ``M`` with one row per state."""
    S = V_out.shape[0]
    for s in prange(S):
        acc = 0.0
        for k in range(indptr[s], indptr[s + 1]):
            acc += data[k] * V[indices[k]]
        V_out[s] = b[s] + gamma * acc


@njit(cache=True, fastmath=_FM)
def gs_sweep_csr(indptr, indices, data, R, gamma, V, pi_out):
    S, A = R.shape
    delta = 0.0
    for s in range(S):
        best = -np.inf
        arg = 0
        for a in range(A):
            row = s * A + a
            acc = 0.0
            for k in range(indptr[row], indptr[row + 1]):
                acc += data[k] * V[indices[k]]
            q = R[s, a] + gamma * acc
            if q > best:
                best = q
                arg = a
        d = abs(best - V[s])
        if d > delta:
            delta = d
        V[s] = best
        pi_out[s] = arg
    return delta


@njit(cache=True, fastmath=_FM)
def backward_induction_csr(indptr, indices, data, stage_stride, R, V_out, Q_out, pi_out):
    """``stage_stride`` = ``S*A`` for a stage-dependent kernel, ``0`` for a stationary one.
    ``R`` is ``(H, S, A)`` (a broadcast view is fine)."""
    H, S, A = R.shape
    for s in range(S):
        V_out[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        base = h * stage_stride
        for s in range(S):
            best = -np.inf
            arg = 0
            for a in range(A):
                row = base + s * A + a
                acc = 0.0
                for k in range(indptr[row], indptr[row + 1]):
                    acc += data[k] * V_out[h + 1, indices[k]]
                q = R[h, s, a] + acc
                Q_out[h, s, a] = q
                if q > best:
                    best = q
                    arg = a
            V_out[h, s] = best
            pi_out[h, s] = arg


@njit(cache=True, fastmath=_FM)
def evaluate_episodic_csr(indptr, indices, data, stage_stride, R, pi, V_out):
    H, S, A = R.shape
    for s in range(S):
        V_out[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        base = h * stage_stride
        for s in range(S):
            v = 0.0
            for a in range(A):
                w = pi[h, s, a]
                if w == 0.0:
                    continue
                row = base + s * A + a
                acc = 0.0
                for k in range(indptr[row], indptr[row + 1]):
                    acc += data[k] * V_out[h + 1, indices[k]]
                v += w * (R[h, s, a] + acc)
            V_out[h, s] = v


bellman_max_csr = njit(cache=True, parallel=True, fastmath=_FM)(_bellman_max_csr)
bellman_max_csr_serial = njit(cache=True, fastmath=_FM)(serial_clone(_bellman_max_csr))


bellman_q_csr = njit(cache=True, parallel=True, fastmath=_FM)(_bellman_q_csr)
bellman_q_csr_serial = njit(cache=True, fastmath=_FM)(serial_clone(_bellman_q_csr))


policy_backup_csr = njit(cache=True, parallel=True, fastmath=_FM)(_policy_backup_csr)
policy_backup_csr_serial = njit(cache=True, fastmath=_FM)(serial_clone(_policy_backup_csr))


affine_matvec_csr = njit(cache=True, parallel=True, fastmath=_FM)(_affine_matvec_csr)
affine_matvec_csr_serial = njit(cache=True, fastmath=_FM)(serial_clone(_affine_matvec_csr))

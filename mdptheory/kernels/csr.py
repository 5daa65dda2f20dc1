r"""Numba kernels for CSR kernels: row ``s*A + a`` (or ``(h*S + s)*A + a``) of a
``(S*A, S)`` / ``(H*S*A, S)`` matrix is ``P(. | s, a)``.

Arguments are the raw CSR arrays ``indptr, indices, data`` so the kernels stay plain
functions of arrays. Each kernel ``foo`` has a plain twin ``foo_ref`` (scipy.sparse products)
in :mod:`mdptheory.kernels.reference`, and the tests compare the two. As in
:mod:`mdptheory.kernels.dense`, the kernels share the inlined helpers :func:`_row_dot` and
:func:`_greedy`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from mdptheory.kernels._util import threaded_and_serial
from mdptheory.kernels.sampling import greedy_action

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


@njit(inline="always")
def _row_dot(indptr, indices, data, row, V):  # pragma: no cover - compiled
    """Row ``row`` of the CSR matrix times ``V``."""
    acc = 0.0
    for k in range(indptr[row], indptr[row + 1]):
        acc += data[k] * V[indices[k]]
    return acc


@njit(inline="always")
def _greedy(indptr, indices, data, R, gamma, V, s):  # pragma: no cover - compiled
    """``(max_a q, argmax_a q)`` of ``q(a) = R[s, a] + gamma * (row s*A + a) @ V`` (lowest
    action on ties)."""
    A = R.shape[1]
    best = -np.inf
    arg = 0
    for a in range(A):
        q = R[s, a] + gamma * _row_dot(indptr, indices, data, s * A + a, V)
        if q > best:
            best = q
            arg = a
    return best, arg


def _bellman_max_csr(indptr, indices, data, R, gamma, V, V_out, pi_out):
    for s in prange(R.shape[0]):
        best, arg = _greedy(indptr, indices, data, R, gamma, V, s)
        V_out[s] = best
        pi_out[s] = arg


def _bellman_q_csr(indptr, indices, data, R, gamma, V, Q_out):
    S, A = R.shape
    for s in prange(S):
        for a in range(A):
            Q_out[s, a] = R[s, a] + gamma * _row_dot(indptr, indices, data, s * A + a, V)


def _policy_backup_csr(indptr, indices, data, R, gamma, pi, V, V_out):
    A = R.shape[1]
    for s in prange(R.shape[0]):
        a = pi[s]
        V_out[s] = R[s, a] + gamma * _row_dot(indptr, indices, data, s * A + a, V)


@njit(cache=True)
def gather_policy_rows_csr(indptr, indices, data, A, pi):
    r"""CSR arrays of :math:`P_\pi` (row ``s`` = row ``s*A + pi[s]`` of ``P``), contiguous,
    so that repeated policy backups stream it without the row indirection. Twin:
    :func:`~mdptheory.kernels.reference.gather_policy_rows_csr_ref` (scipy row selection)."""
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
    for s in prange(V_out.shape[0]):
        V_out[s] = b[s] + gamma * _row_dot(indptr, indices, data, s, V)


@njit(cache=True, fastmath=_FM)
def gs_sweep_csr(indptr, indices, data, R, gamma, V, pi_out):
    delta = 0.0
    for s in range(R.shape[0]):
        best, arg = _greedy(indptr, indices, data, R, gamma, V, s)
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
        Vn = V_out[h + 1]
        for s in range(S):
            for a in range(A):
                q = R[h, s, a] + _row_dot(indptr, indices, data, base + s * A + a, Vn)
                Q_out[h, s, a] = q
            pi_out[h, s], V_out[h, s] = greedy_action(Q_out, h, s)


@njit(cache=True, fastmath=_FM)
def evaluate_episodic_csr(indptr, indices, data, stage_stride, R, pi, V_out):
    H, S, A = R.shape
    for s in range(S):
        V_out[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        base = h * stage_stride
        Vn = V_out[h + 1]
        for s in range(S):
            v = 0.0
            for a in range(A):
                w = pi[h, s, a]
                if w == 0.0:
                    continue
                v += w * (R[h, s, a] + _row_dot(indptr, indices, data, base + s * A + a, Vn))
            V_out[h, s] = v


bellman_max_csr, bellman_max_csr_serial = threaded_and_serial(_bellman_max_csr, _FM)
bellman_q_csr, bellman_q_csr_serial = threaded_and_serial(_bellman_q_csr, _FM)
policy_backup_csr, policy_backup_csr_serial = threaded_and_serial(_policy_backup_csr, _FM)
affine_matvec_csr, affine_matvec_csr_serial = threaded_and_serial(_affine_matvec_csr, _FM)

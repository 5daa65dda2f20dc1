"""Plain twins of the compiled kernels of :mod:`mdptheory.kernels.dense` and
:mod:`mdptheory.kernels.csr` (used by the tests).

Naming: the compiled kernel ``foo`` has the twin ``foo_ref``, which takes the same inputs
minus the output buffers and returns new arrays; a serial build ``foo_serial`` is compared
with the twin of ``foo``. The twins are written differently from the kernels, so that a
comparison checks something: whole-array numpy products (dense) or :mod:`scipy.sparse`
matrix products (CSR) instead of per-entry loops, and ``max`` / ``argmax`` over an axis
instead of a running maximum. Only the Gauss-Seidel sweep keeps a loop over states, because
each state reads the values updated before it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "bellman_q_dense_ref",
    "bellman_max_dense_ref",
    "policy_backup_dense_ref",
    "gs_sweep_dense_ref",
    "backward_induction_dense_ref",
    "evaluate_episodic_dense_ref",
    "greedy_from_products_ref",
    "stream_sum_ref",
    "bellman_q_csr_ref",
    "bellman_max_csr_ref",
    "policy_backup_csr_ref",
    "gs_sweep_csr_ref",
    "backward_induction_csr_ref",
    "evaluate_episodic_csr_ref",
    "gather_policy_rows_csr_ref",
    "affine_matvec_csr_ref",
]


# -- shared by the dense and CSR twins: everything after the products P @ V ----------------

def _greedy(Q):
    """Max and argmax (lowest action on ties) of each row of ``Q (S, A)``."""
    return Q.max(axis=1), Q.argmax(axis=1)


def _gs_sweep(row_products, R, gamma, V):
    """Gauss-Seidel sweep; ``row_products(s, V)`` is the ``(A,)`` vector ``P[s, a] @ V``."""
    V = np.array(V, dtype=float)
    pi = np.zeros(R.shape[0], dtype=np.int64)
    delta = 0.0
    for s in range(R.shape[0]):
        q = R[s] + gamma * row_products(s, V)
        delta = max(delta, abs(q.max() - V[s]))
        V[s] = q.max()
        pi[s] = q.argmax()
    return V, pi, delta


def _backward_induction(stage_products, R):
    """``(V, Q, pi)``; ``stage_products(h, v)`` is the ``(S, A)`` array ``P_h[s, a] @ v``."""
    H, S, A = R.shape
    V = np.zeros((H + 1, S))
    Q = np.zeros((H, S, A))
    for h in range(H - 1, -1, -1):
        Q[h] = R[h] + stage_products(h, V[h + 1])
        V[h] = Q[h].max(axis=1)
    return V, Q, Q.argmax(axis=2)


def _evaluate_episodic(stage_products, R, pi):
    """Values ``(H+1, S)`` of the stochastic policy ``pi (H, S, A)``."""
    H, S, A = R.shape
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        V[h] = (pi[h] * (R[h] + stage_products(h, V[h + 1]))).sum(axis=1)
    return V


# -- dense: P (S, A, S) or (H, S, A, S) -------------------------------------------------------

def bellman_q_dense_ref(P, R, gamma, V):
    return R + gamma * (P @ V)


def bellman_max_dense_ref(P, R, gamma, V):
    return _greedy(bellman_q_dense_ref(P, R, gamma, V))


def policy_backup_dense_ref(P, R, gamma, pi, V):
    idx = np.arange(R.shape[0])
    return R[idx, pi] + gamma * (P[idx, pi] @ V)


def gs_sweep_dense_ref(P, R, gamma, V):
    return _gs_sweep(lambda s, W: P[s] @ W, R, gamma, V)


def backward_induction_dense_ref(P, R):
    return _backward_induction(lambda h, v: P[h] @ v, R)


def evaluate_episodic_dense_ref(P, R, pi):
    return _evaluate_episodic(lambda h, v: P[h] @ v, R, pi)


def greedy_from_products_ref(PV, R, gamma):
    return _greedy(R + gamma * PV.reshape(R.shape))


def stream_sum_ref(X):
    return float(np.sum(X))


# -- CSR: the raw arrays of an (S*A, S) or (H*S*A, S) matrix ---------------------------------

def _csr(indptr, indices, data, n_cols):
    return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, n_cols))


def _stage_products(M, stage_stride, S, A):
    return lambda h, v: (M[h * stage_stride: h * stage_stride + S * A] @ v).reshape(S, A)


def bellman_q_csr_ref(indptr, indices, data, R, gamma, V):
    return R + gamma * (_csr(indptr, indices, data, V.size) @ V).reshape(R.shape)


def bellman_max_csr_ref(indptr, indices, data, R, gamma, V):
    return _greedy(bellman_q_csr_ref(indptr, indices, data, R, gamma, V))


def policy_backup_csr_ref(indptr, indices, data, R, gamma, pi, V):
    S, A = R.shape
    rows = np.arange(S) * A + pi
    return R[np.arange(S), pi] + gamma * (_csr(indptr, indices, data, V.size)[rows] @ V)


def gs_sweep_csr_ref(indptr, indices, data, R, gamma, V):
    A = R.shape[1]
    M = _csr(indptr, indices, data, len(V))
    return _gs_sweep(lambda s, W: M[s * A:(s + 1) * A] @ W, R, gamma, V)


def backward_induction_csr_ref(indptr, indices, data, stage_stride, R):
    H, S, A = R.shape
    return _backward_induction(_stage_products(_csr(indptr, indices, data, S), stage_stride, S, A), R)


def evaluate_episodic_csr_ref(indptr, indices, data, stage_stride, R, pi):
    H, S, A = R.shape
    return _evaluate_episodic(_stage_products(_csr(indptr, indices, data, S), stage_stride, S, A), R, pi)


def gather_policy_rows_csr_ref(indptr, indices, data, A, pi):
    n_cols = int(indices.max()) + 1 if indices.size else 1
    M = _csr(indptr, indices, data, n_cols)[np.arange(pi.shape[0]) * A + pi]
    return M.indptr, M.indices, M.data


def affine_matvec_csr_ref(indptr, indices, data, b, gamma, V):
    return b + gamma * (_csr(indptr, indices, data, V.size) @ V)

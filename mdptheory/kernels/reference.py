"""Plain-numpy reference twins of the compiled kernels (used by the tests).

Each function returns new arrays instead of writing into outputs; ``P`` is dense
(``(S, A, S)`` or ``(H, S, A, S)``); convert CSR with ``.toarray().reshape(...)`` first.
"""

from __future__ import annotations

import numpy as np


def bellman_q(P, R, gamma, V):
    return R + gamma * (P @ V)


def bellman_max(P, R, gamma, V):
    Q = bellman_q(P, R, gamma, V)
    return Q.max(axis=1), Q.argmax(axis=1)


def policy_backup(P, R, gamma, pi, V):
    idx = np.arange(R.shape[0])
    return R[idx, pi] + gamma * (P[idx, pi] @ V)


def gs_sweep(P, R, gamma, V):
    V = np.array(V, dtype=float)
    pi = np.zeros(R.shape[0], dtype=np.int64)
    delta = 0.0
    for s in range(R.shape[0]):
        q = R[s] + gamma * (P[s] @ V)
        delta = max(delta, abs(q.max() - V[s]))
        V[s] = q.max()
        pi[s] = q.argmax()
    return V, pi, delta


def backward_induction(P, R):
    H, S, A = R.shape
    V = np.zeros((H + 1, S))
    Q = np.zeros((H, S, A))
    for h in range(H - 1, -1, -1):
        Q[h] = R[h] + P[h] @ V[h + 1]
        V[h] = Q[h].max(axis=1)
    return V, Q, Q.argmax(axis=2)


def evaluate_episodic(P, R, pi):
    H, S, A = R.shape
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        V[h] = (pi[h] * (R[h] + P[h] @ V[h + 1])).sum(axis=1)
    return V

r"""Numba kernels for dense kernels ``P[s, a, s']`` (and ``P[h, s, a, s']``).

Every kernel writes into caller-provided output arrays and allocates nothing, so the
solvers' loops run without temporaries. Each kernel ``foo`` has a plain-numpy twin
``foo_ref`` in :mod:`mdptheory.kernels.reference`, and the tests compare the two.

Notation: :math:`(TV)(s) = \max_a R(s,a) + \gamma \sum_{s'} P(s'|s,a) V(s')`;
ties in the max go to the lowest action index (as ``numpy.argmax``).

The kernels share two helpers that numba inlines into their bodies (``inline="always"``
works on numba's IR, so the compiled arithmetic is that of a hand-written loop):
:func:`_row_dot` (one product :math:`P(\cdot|s,a)\cdot V`) and :func:`_greedy` (the max and
argmax over actions of one state).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from mdptheory.kernels._util import threaded_and_serial
from mdptheory.kernels.sampling import greedy_action

_FM = {"reassoc", "contract"}  # lets LLVM vectorise the dot products; no NaN/inf assumptions

__all__ = [
    "greedy_from_products",
    "bellman_max_dense_serial",
    "bellman_q_dense_serial",
    "policy_backup_dense_serial",

    "bellman_max_dense",
    "bellman_q_dense",
    "policy_backup_dense",
    "gs_sweep_dense",
    "backward_induction_dense",
    "evaluate_episodic_dense",
    "stream_sum",
]


@njit(inline="always")
def _row_dot(P, s, a, V):  # pragma: no cover - compiled
    """``P[s, a] @ V`` summed over ``t = 0..len(V)-1``."""
    acc = 0.0
    for t in range(V.shape[0]):
        acc += P[s, a, t] * V[t]
    return acc


@njit(inline="always")
def _greedy(P, R, gamma, V, s):  # pragma: no cover - compiled
    """``(max_a q, argmax_a q)`` of ``q(a) = R[s, a] + gamma * P[s, a] @ V`` (lowest action on
    ties)."""
    best = -np.inf
    arg = 0
    for a in range(R.shape[1]):
        q = R[s, a] + gamma * _row_dot(P, s, a, V)
        if q > best:
            best = q
            arg = a
    return best, arg


def _bellman_max_dense(P, R, gamma, V, V_out, pi_out):
    """One Jacobi VI sweep: ``V_out = T V`` and ``pi_out`` = greedy actions."""
    for s in prange(R.shape[0]):
        best, arg = _greedy(P, R, gamma, V, s)
        V_out[s] = best
        pi_out[s] = arg


def _bellman_q_dense(P, R, gamma, V, Q_out):
    """``Q_out[s, a] = R[s, a] + gamma * P[s, a] @ V``."""
    S, A = R.shape
    for s in prange(S):
        for a in range(A):
            Q_out[s, a] = R[s, a] + gamma * _row_dot(P, s, a, V)


def _policy_backup_dense(P, R, gamma, pi, V, V_out):
    """``V_out = T_pi V`` for a deterministic policy ``pi`` (``(S,)`` int)."""
    for s in prange(R.shape[0]):
        a = pi[s]
        V_out[s] = R[s, a] + gamma * _row_dot(P, s, a, V)


@njit(cache=True, fastmath=_FM)
def gs_sweep_dense(P, R, gamma, V, pi_out):
    """One in-place Gauss-Seidel sweep ``V(s) <- max_a R + gamma P V`` over ``s = 0..S-1``.

    Returns ``max_s |V_new(s) - V_old(s)|``.
    """
    delta = 0.0
    for s in range(R.shape[0]):
        best, arg = _greedy(P, R, gamma, V, s)
        d = abs(best - V[s])
        if d > delta:
            delta = d
        V[s] = best
        pi_out[s] = arg
    return delta


@njit(cache=True, fastmath=_FM)
def backward_induction_dense(P, R, V_out, Q_out, pi_out):
    """Backward induction on ``P (H, S, A, S)`` / ``R (H, S, A)`` (broadcast views allowed).

    ``V_out (H+1, S)`` with ``V_out[H] = 0``; ``Q_out (H, S, A)``; ``pi_out (H, S)``.
    """
    H, S, A = R.shape
    for s in range(S):
        V_out[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        Ph = P[h]
        Vn = V_out[h + 1]
        for s in range(S):
            for a in range(A):
                q = R[h, s, a] + _row_dot(Ph, s, a, Vn)
                Q_out[h, s, a] = q
            pi_out[h, s], V_out[h, s] = greedy_action(Q_out, h, s)


@njit(cache=True, fastmath=_FM)
def evaluate_episodic_dense(P, R, pi, V_out):
    """Exact value of a stochastic policy ``pi (H, S, A)``: ``V_out (H+1, S)``."""
    H, S, A = R.shape
    for s in range(S):
        V_out[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        Ph = P[h]
        Vn = V_out[h + 1]
        for s in range(S):
            v = 0.0
            for a in range(A):
                w = pi[h, s, a]
                if w == 0.0:
                    continue
                v += w * (R[h, s, a] + _row_dot(Ph, s, a, Vn))
            V_out[h, s] = v


@njit(cache=True, parallel=True, fastmath=_FM)
def stream_sum(X):
    """Sum of a C-contiguous 2-D array, parallel over rows: the memory-streaming yardstick."""
    n = X.shape[0]
    parts = np.zeros(n)
    for i in prange(n):
        acc = 0.0
        for j in range(X.shape[1]):
            acc += X[i, j]
        parts[i] = acc
    return parts.sum()


bellman_max_dense, bellman_max_dense_serial = threaded_and_serial(_bellman_max_dense, _FM)
bellman_q_dense, bellman_q_dense_serial = threaded_and_serial(_bellman_q_dense, _FM)
policy_backup_dense, policy_backup_dense_serial = threaded_and_serial(_policy_backup_dense, _FM)


@njit(cache=True, fastmath=_FM)
def greedy_from_products(PV, R, gamma, V_out, pi_out):
    """Finish a Bellman backup from the products ``PV[s*A + a] = P[s, a] @ V`` (computed by
    BLAS): ``V_out[s] = max_a R[s, a] + gamma PV[s*A + a]``, ``pi_out`` = argmax (lowest
    index on ties)."""
    S, A = R.shape
    for s in range(S):
        best = -np.inf
        arg = 0
        for a in range(A):
            q = R[s, a] + gamma * PV[s * A + a]
            if q > best:
                best = q
                arg = a
        V_out[s] = best
        pi_out[s] = arg

"""Shared environment side of the independent learner references
(``test_paper_references_b.py``, ``test_paper_references_a.py``).

Written from docs/learner_protocol.md, not from the package's samplers: the references must
reproduce the engine's draw order (initial state, then per step: reward, next state) with
their own inverse-CDF scans, so that any disagreement points at the learner, not the harness.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def draw(rng, p):
    """Inverse CDF: first index with u < running mass over the positive entries."""
    u = rng.random()
    acc, last = 0.0, 0
    for i, pi in enumerate(p):
        pi = float(pi)
        if pi > 0.0:
            acc += pi
            last = i
            if u < acc:
                return i
    return last


def env_step(rng, P, R, noise, h, s, a):
    """One environment step in the engine's order: reward (Bernoulli draw or the mean),
    then the next state. ``P`` is ``(H, S, A, S)``, ``R`` ``(H, S, A)``."""
    mean = float(R[h, s, a])
    r = (1.0 if rng.random() < mean else 0.0) if noise == "bernoulli" else mean
    return r, draw(rng, P[h, s, a])


def argmax_low(q):
    """First maximiser (ties go to the lowest action, as in the package)."""
    best, arg = q[0], 0
    for a in range(1, len(q)):
        if q[a] > best:
            best, arg = q[a], a
    return arg


def greedy(Q, H, S, A):
    """Greedy (H, S) table of a dict ``Q[h, s, a]``."""
    return np.array([[argmax_low([Q[h, s, a] for a in range(A)]) for s in range(S)] for h in range(H)],
                    dtype=np.int64)


def stage_ends(H, limit):
    """UCB-Advantage's stage ends L = {e_1, e_1 + e_2, ...} up to ``limit``: e_1 = H,
    e_{i+1} = floor((1 + 1/H) e_i), in exact rationals (Zhang, Zhou & Ji 2020)."""
    ends = set()
    e, end = Fraction(H), H
    while end <= limit:
        ends.add(end)
        e = Fraction(math.floor((1 + Fraction(1, H)) * e))
        end += int(e)
    return ends


def ucb_advantage_tables(S, A, H):
    """Initial tables of the UCB-Advantage family (0-based stage h is the paper's h + 1):
    ``Q = V = H - h``, ``V^ref = H``, ``V_H = V^ref_H = 0``; empty sample lists."""
    Q = {(h, s, a): float(H - h) for h in range(H) for s in range(S) for a in range(A)}
    V = {(h, s): float(H - h) for h in range(H) for s in range(S)}
    Vref = {(h, s): float(H) for h in range(H) for s in range(S)}
    for s in range(S):
        V[H, s] = 0.0
        Vref[H, s] = 0.0
    return Q, V, Vref, {k: [] for k in Q}, {k: [] for k in Q}, {(h, s): 0 for h in range(H) for s in range(S)}

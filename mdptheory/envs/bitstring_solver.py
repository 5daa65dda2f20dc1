r"""Exact backward induction for deterministic MDPs given by a successor table.

A deterministic MDP with ``S`` states and ``A`` actions is a table ``next_state[a, s]``;
rewards are ``K`` tables ``rewards[k, a, s]`` and stage ``h`` uses
``rewards[reward_stage[h]]``. Backward induction

.. math::
   V_H = 0,\qquad Q_h(s,a) = R_{k(h)}(a,s) + V_{h+1}(\mathrm{next}(a,s)),\qquad
   V_h(s) = \max_a Q_h(s,a)

is exact after ``H`` sweeps (Puterman 1994, Thm 4.5.1) and costs ``O(H A S)`` time with no
``S^2`` memory: the generic dense kernel would need ``8 S^2 A`` bytes. Ties go to the lowest
action, like ``numpy.argmax``.

* :func:`backward_induction_bitstring` -- the compiled kernel (writes into caller arrays,
  checks nothing);
* :func:`backward_induction_bitstring_ref` -- its plain-numpy twin (one vectorised
  ``(A, S)`` gather per stage), used by the tests;
* :func:`exact_backward_induction` -- the validated entry point, returns
  :class:`ExactValues`;
* :class:`BitstringSolution` -- the solution of a
  :class:`~mdptheory.envs.bitstring.BitstringFamily` with accessors for :math:`Q^\star_h`,
  the slice values and the optimal policy's visitation distributions.

Memory of a solve: ``8 (H+1) S`` bytes for ``V`` plus ``H S`` for the int8 policy, on top of
the ``8 A S`` bytes of ``next_state`` and ``8 K A S`` of rewards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from mdptheory.core.validation import check_int

__all__ = [
    "ExactValues",
    "BitstringSolution",
    "exact_backward_induction",
    "backward_induction_bitstring",
    "backward_induction_bitstring_ref",
]


@njit(cache=True)
def backward_induction_bitstring(next_state, rewards, reward_stage, V_out, pi_out):  # pragma: no cover - compiled
    r"""Exact backward induction over a successor table (see the module docstring).

    Parameters
    ----------
    next_state : int64 ``(A, S)``
    rewards : float64 ``(K, A, S)``; stage ``h`` uses ``rewards[reward_stage[h]]``
    reward_stage : int64 ``(H,)``
    V_out : float64 ``(H+1, S)`` (written)
    pi_out : int8 ``(H, S)`` (written)

    Time ``O(H A S)``, no allocation. The kernel does not check its inputs (numba does no
    bounds checks); use :func:`exact_backward_induction` for arrays that were not built by
    :func:`~mdptheory.envs.bitstring.bitstring_family`. Twin:
    :func:`backward_induction_bitstring_ref`.
    """
    A, S = next_state.shape
    H = reward_stage.shape[0]
    for s in range(S):
        V_out[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        k = reward_stage[h]
        for s in range(S):
            best = rewards[k, 0, s] + V_out[h + 1, next_state[0, s]]
            arg = 0
            for a in range(1, A):
                q = rewards[k, a, s] + V_out[h + 1, next_state[a, s]]
                if q > best:
                    best = q
                    arg = a
            V_out[h, s] = best
            pi_out[h, s] = arg


def _stage_q(next_state, rewards_k, V_next) -> np.ndarray:
    r""":math:`Q_h(s,a)` of one stage as an ``(A, S)`` array, from the stage's reward table
    ``(A, S)`` and :math:`V_{h+1}` ``(S,)``."""
    return rewards_k + V_next[next_state]


@dataclass(frozen=True, eq=False)
class ExactValues:
    r"""Optimal values of a deterministic successor-table MDP.

    Attributes
    ----------
    V : float64 ``(H+1, S)``
        :math:`V^\star_h(s)`, ``V[H] = 0``.
    policy : int8 ``(H, S)``
        Greedy optimal actions, ties to the lowest action.
    """

    V: np.ndarray
    policy: np.ndarray


def _check_tables(next_state, rewards, reward_stage):
    """Validate the inputs of the exact solver; returns contiguous int64/float64 copies."""
    ns = np.asarray(next_state)
    if ns.ndim != 2 or not np.issubdtype(ns.dtype, np.integer):
        raise ValueError(f"next_state must be a 2-d integer array (A, S), got dtype {ns.dtype} and shape {ns.shape}")
    A, S = ns.shape
    if A < 1 or S < 1 or A > 127:
        raise ValueError(f"next_state has shape {ns.shape}; need 1 <= A <= 127 actions and S >= 1 states")
    bad = (ns < 0) | (ns >= S)
    if bad.any():
        a, s = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"next_state[{a}, {s}] = {int(ns[a, s])} is not a state in [0, {S})")
    R = np.asarray(rewards, dtype=np.float64)
    if R.ndim != 3 or R.shape[1:] != (A, S) or R.shape[0] < 1:
        raise ValueError(f"rewards must have shape (K, A, S) = (K, {A}, {S}), got {R.shape}")
    if not np.isfinite(R).all():
        k, a, s = (int(v) for v in np.argwhere(~np.isfinite(R))[0])
        raise ValueError(f"rewards[{k}, {a}, {s}] = {float(R[k, a, s])!r}: rewards must be finite")
    st = np.asarray(reward_stage)
    if st.ndim != 1 or not np.issubdtype(st.dtype, np.integer):
        raise ValueError(f"reward_stage must be a 1-d integer array (H,), got dtype {st.dtype} and shape {st.shape}")
    badst = (st < 0) | (st >= R.shape[0])
    if badst.any():
        h = int(np.flatnonzero(badst)[0])
        raise ValueError(f"reward_stage[{h}] = {int(st[h])} is not a reward table index in [0, {R.shape[0]})")
    return (np.ascontiguousarray(ns, dtype=np.int64), np.ascontiguousarray(R),
            np.ascontiguousarray(st, dtype=np.int64))


def _solve_tables(next_state, rewards, reward_stage) -> tuple[np.ndarray, np.ndarray]:
    """``(V, policy)`` from the compiled kernel; the tables must already be valid."""
    S = next_state.shape[1]
    H = reward_stage.shape[0]
    V = np.empty((H + 1, S))
    pi = np.empty((H, S), dtype=np.int8)
    backward_induction_bitstring(next_state, rewards, reward_stage, V, pi)
    return V, pi


def exact_backward_induction(next_state, rewards, reward_stage) -> ExactValues:
    r"""Validated entry point of the compiled exact solver :func:`backward_induction_bitstring`.

    ``next_state`` ``(A, S)`` integer successors, ``rewards`` ``(K, A, S)``, ``reward_stage``
    ``(H,)`` (stage ``h`` uses ``rewards[reward_stage[h]]``). Invalid entries raise
    ``ValueError`` naming the index and the value. Time ``O(H A S)``, memory
    ``8 (H+1) S + H S`` bytes for the result.
    """
    V, pi = _solve_tables(*_check_tables(next_state, rewards, reward_stage))
    return ExactValues(V=V, policy=pi)


def backward_induction_bitstring_ref(next_state, rewards, reward_stage) -> ExactValues:
    """Plain-numpy twin of :func:`backward_induction_bitstring` (same inputs, validated):
    one vectorised ``(A, S)`` gather and column-wise ``max`` / ``argmax`` per stage."""
    next_state, rewards, reward_stage = _check_tables(next_state, rewards, reward_stage)
    S = next_state.shape[1]
    H = len(reward_stage)
    V = np.zeros((H + 1, S))
    pi = np.zeros((H, S), dtype=np.int8)
    for h in range(H - 1, -1, -1):
        Q = _stage_q(next_state, rewards[reward_stage[h]], V[h + 1])
        V[h] = Q.max(axis=0)
        pi[h] = Q.argmax(axis=0)
    return ExactValues(V=V, policy=pi)


@dataclass(frozen=True, eq=False)
class BitstringSolution:
    r"""Exact optimal values of a :class:`~mdptheory.envs.bitstring.BitstringFamily`.

    Attributes
    ----------
    V : float64 ``(H+1, 2**N)``
        :math:`V^\star_h(s)`, with ``V[H] = 0``.
    policy : int8 ``(H, 2**N)``
        Greedy optimal actions (ties to the lowest action).
    family : BitstringFamily
    """

    V: np.ndarray
    policy: np.ndarray
    family: "BitstringFamily" = field(repr=False)  # noqa: F821 - defined in mdptheory.envs.bitstring

    def Q(self, h: int) -> np.ndarray:
        r""":math:`Q^\star_h(s, a)` as an ``(S, A)`` array."""
        f = self.family
        h = check_int("stage h", h, 0, f.H - 1)
        Q = _stage_q(f.next_state, f.rewards[f.reward_stage[h]], self.V[h + 1])
        return np.ascontiguousarray(Q.T)

    def q_values(self, h: int = 0) -> np.ndarray:
        r""":math:`Q^\star_h` as a function on ``N + 1`` bits (action = top bit): entry
        ``s + a 2^N``. This is the input layout of
        :meth:`~mdptheory.envs.bitstring.BitstringFamily.transition_bit`."""
        return self.Q(h).T.ravel()

    def step(self, d: np.ndarray, k: int) -> np.ndarray:
        r"""Push the state distribution ``d`` through stage ``k`` of the greedy optimal
        :attr:`policy`: :math:`d'(s') = \sum_s d(s)\,\mathbf 1[\mathrm{next}(\pi_k(s), s) = s']`
        (no validation; ``O(2^N)``)."""
        f = self.family
        nxt = f.next_state[self.policy[k].astype(np.int64), np.arange(f.S)]
        return np.bincount(nxt, weights=d, minlength=f.S)

    def visitation(self, h: int, initial=None) -> np.ndarray:
        r"""State distribution at stage ``h`` when the greedy optimal :attr:`policy` is
        followed from ``initial`` (default: the family's initial distribution, uniform over
        the slice "accumulator = 0"). Use it as the weighting :math:`\rho` of
        :func:`mdptheory.probes.low_degree_error`."""
        f = self.family
        h = check_int("stage h", h, 0, f.H)
        d = np.array(f.initial if initial is None else initial, dtype=np.float64)
        if d.shape != (f.S,):
            raise ValueError(f"initial must have shape ({f.S},), got {d.shape}")
        bad = ~np.isfinite(d) | (d < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"initial[{i}] = {float(d[i])!r}: a distribution needs finite entries >= 0")
        if abs(d.sum() - 1.0) > 1e-9:
            raise ValueError(f"initial sums to {float(d.sum())!r}, not 1")
        for k in range(h):
            d = self.step(d, k)
        return d

    def slice_values(self, h: int = 0) -> np.ndarray:
        r""":math:`V^\star_h` on the slice "accumulator = 0": entry ``x`` for ``0 <= x < 2^n``."""
        h = check_int("stage h", h, 0, self.family.H)
        return self.V[h, : 1 << self.family.n].copy()

r"""SlidingWindowUCBVI: UCBVI (Azar, Osband & Munos 2017, Algorithms 2-4) on the data of the
last ``W`` episodes -- a tabular model-based baseline for non-stationary MDPs.

HOM transitions, N1, ``T = KH``, :math:`L=\ln(5SAT/\delta)`. Before episode ``k`` the counts
:math:`N(x,a,y)`, :math:`n(x,a)`, the visits :math:`N'_h(y)` of UCBVI-BF and the per-stage
reward sums hold exactly the transitions of episodes :math:`\max(0,k-W),\dots,k-1` (the
oldest episode leaves the window when a new one enters). Every episode, UCBVI's plan
(:func:`mdptheory.learners.ucbvi.ucbvi_plan`) on the window's data:

.. math::
    Q_h(x,a)=\min\bigl(H,\,\tilde r_h(x,a)+\hat P_{x,a}\cdot V_{h+1}+b_h(x,a)\bigr),\quad V_h=\max_aQ_h,

with UCBVI-CH's or -BF's bonus on the window's counts and rewards known or estimated
optimistically (:math:`\tilde r_h=\min\{1,\hat r_h+\sqrt{L/(2n_h)}\}`, 1 while unseen), as in
:mod:`mdptheory.learners.restart_ucbvi`. UCBVI's running minimum :math:`\min(Q^{k-1},\cdot)`
(Algorithm 2) is dropped by default: under forgetting it would keep every Q at the lowest
value it ever had, so a pair that became better could never be tried again
(``monotone=True`` keeps it: with ``window=inf`` and known rewards this is UCBVI, bit for bit).
Window (``window=None``): :func:`~mdptheory.learners.restart_ucbvi.restart_window`, the same
derived rate as the restart version (a reconstruction, the sliding-window analogue of
SW-UCRL's window, Gajane, Ortner & Auer 2018).

Provenance and reconstructions: proofs_notes/dynamic_regret.md

References: M. G. Azar, I. Osband, R. Munos, ICML 2017; P. Gajane, R. Ortner, P. Auer, "A
sliding-window algorithm for Markov decision processes with arbitrarily changing rewards and
transitions", arXiv:1805.10066, 2018.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numba import njit

from mdptheory.core.validation import check_bool
from mdptheory.kernels.sampling import record_regret_det, rollout_det, segment_at
from mdptheory.learners.base import CompiledLoop
from mdptheory.learners.restart_ucbvi import RestartUCBVI, count_episode, epoch_state, plan_epoch
from mdptheory.learners.ucbvi import _BONUS, _CAP, ucbvi_plan_ref

__all__ = ["SlidingWindowUCBVI"]


class SlidingWindowUCBVI(RestartUCBVI):
    r"""UCBVI on the last ``window`` episodes; see the module docstring.

    Parameters
    ----------
    bonus, window, variation_budget, rewards, delta, bonus_scale, cap
        As for :class:`~mdptheory.learners.restart_ucbvi.RestartUCBVI` (``window`` = the
        number of past episodes kept).
    monotone : bool, default False
        Keep UCBVI's running minimum over past episodes' Q (only sound without forgetting).

    Notes
    -----
    HOM transitions; per episode :math:`O(HS^2A)` planning plus :math:`O(H S)` to drop the
    oldest episode; memory :math:`O(S^2A+WH)`.
    """

    name = "SlidingWindowUCBVI"

    def __init__(self, bonus: str = "hoeffding", *, window=None, variation_budget: float | None = None,
                 rewards: str = "empirical", monotone: bool = False, delta: float = 0.01,
                 bonus_scale: float = 1.0, cap: str = "H"):
        super().__init__(bonus, window=window, variation_budget=variation_budget, rewards=rewards, delta=delta,
                         bonus_scale=bonus_scale, cap=cap)
        self.monotone = check_bool("monotone", monotone)

    # -- teaching path --------------------------------------------------------------------
    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._past = deque()                     # the episodes in the window, oldest first
        caps = np.full(H, float(H)) if self.cap == "H" else H - np.arange(H, dtype=float)
        self._caps = np.repeat(caps[:, None, None], S * A, axis=1).reshape(H, S, A)

    def begin_episode(self, k):
        Qprev = self._Qprev if self.monotone else self._caps
        self._Q, self._V, self._pi = ucbvi_plan_ref(self._N, self._n, self._m, self._reward_table(), self._H,
                                                    self.bonus, self.bonus_scale, self._L, self._c3, Qprev,
                                                    self.cap)
        self._Qprev = self._Q
        self._traj = []

    def end_episode(self):
        if len(self._past) == self._W:           # the oldest episode leaves the window first
            old = self._past.popleft()
            for h, s, a, r, s2 in old:
                self._N[s, a, s2] -= 1.0
                self._n[s, a] -= 1.0
                self._m[h, s] -= 1.0
                self._rsum[h, s, a] -= r
                self._rcnt[h, s, a] -= 1.0
            self._m[self._H, old[-1][4]] -= 1.0
        super().end_episode()                    # then the new one enters
        if not math.isinf(self._W):
            self._past.append(self._traj)

    # -- compiled path --------------------------------------------------------------------
    def _params(self, mdp_or_ns):
        S, A, H = mdp_or_ns.S, mdp_or_ns.A, mdp_or_ns.H
        L, c3 = self._constants(S, A, H, self._K)
        W = 0 if math.isinf(self._W) or self._W >= self._K else int(self._W)
        return (int(H), _BONUS[self.bonus], self.bonus_scale, L, c3, _CAP[self.cap], self._Rk,
                int(self.rewards == "empirical"), W, int(self.monotone))

    def compiled(self, mdp, episodes):
        return CompiledLoop.on_one_segment(_sw_ucbvi_ns_loop, self._params(mdp))

    def compiled_nonstationary(self, ns_mdp, episodes):
        return CompiledLoop(_sw_ucbvi_ns_loop, self._params(ns_mdp))


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def _sw_ucbvi_ns_loop(Ps, Rs, inits, seg_starts, seg_models, noise, noise_std, v_stars, K, eval_every,
                      rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed: a ring buffer of the last ``W`` episodes (``W = 0``:
    keep everything); episode ``k`` occupies slot ``k % W``, whose previous occupant
    (episode ``k - W``) is removed from the counts just before. A successor whose count
    drops to 0 leaves the successor list of ``ucbvi_plan`` (swap with the last one)."""
    H, bonus, scale, L, c3, cap, Rknown, empirical, W, monotone = params
    S = Ps.shape[2]
    A = Ps.shape[3]
    N, n, m, succ, nsucc, rsum, rcnt, Remp, Q, V, Vb, pi, xs, acts, rews = epoch_state(S, A, H)
    caps = np.empty((H, S, A))
    for h in range(H):
        caps[h] = float(H) if cap == 0 else float(H - h)
    Qprev = caps.copy()
    nb = W if W > 0 else 1
    bx = np.empty((nb, H + 1), dtype=np.int64)       # ring buffer: states, actions, rewards
    ba = np.empty((nb, H), dtype=np.int64)
    br = np.empty((nb, H))
    seg = 0
    for k in range(K):
        seg = segment_at(k, seg, seg_starts)
        mid = seg_models[seg]
        if monotone == 0:
            Qprev[:] = caps                              # no running minimum across episodes
        plan_epoch(params, N, n, m, succ, nsucc, rsum, rcnt, Remp, Qprev, Q, V, pi)
        P, R, init = Ps[mid], Rs[mid], inits[mid]
        record_regret_det(k, eval_every, P, R, init, v_stars[mid], pi, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, init, pi, xs, acts, rews)
        if W > 0:
            slot = k % W
            if k >= W:                                   # episode k - W leaves the window
                for h in range(H):
                    x, a, y = bx[slot, h], ba[slot, h], bx[slot, h + 1]
                    N[x, a, y] -= 1.0
                    n[x, a] -= 1.0
                    m[h, x] -= 1.0
                    rsum[h, x, a] -= br[slot, h]
                    rcnt[h, x, a] -= 1.0
                    if N[x, a, y] == 0.0:                # y is no longer an observed successor
                        last = nsucc[x, a] - 1
                        for j in range(last + 1):
                            if succ[x, a, j] == y:
                                succ[x, a, j] = succ[x, a, last]
                                break
                        nsucc[x, a] = last
                m[H, bx[slot, H]] -= 1.0
            for h in range(H):
                ba[slot, h] = acts[h]
                br[slot, h] = rews[h]
                bx[slot, h] = xs[h]
            bx[slot, H] = xs[H]
        count_episode(xs, acts, rews, N, n, m, succ, nsucc, rsum, rcnt)

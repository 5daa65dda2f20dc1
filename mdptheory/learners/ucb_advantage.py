r"""UCB-Advantage (Zhang, Zhou & Ji 2020, Algorithm 1): model-free Q-learning with the
reference-advantage decomposition and stage-based (lazy) updates. The visits of each
``(h, s, a)`` are cut into stages of lengths :math:`e_1=H`, :math:`e_{i+1}=\lfloor(1+1/H)e_i\rfloor`;
with ``n`` all visits and :math:`\check n` the stage's visits, ``Q_h(s,a)`` changes only when a
stage ends, to

.. math::

    Q_h(s,a)\leftarrow\min\Bigl\{\tfrac{1}{\check n}\textstyle\sum_{\rm stage}(r+V_{h+1}(s'))+b,\;
      \tfrac1n\sum_{\rm all}(r+V^{\rm ref}_{h+1}(s'))
      +\tfrac{1}{\check n}\sum_{\rm stage}(V_{h+1}-V^{\rm ref}_{h+1})(s')+\bar b,\;Q_h(s,a)\Bigr\},

    b=c_1\sqrt{\tfrac{H^2\iota}{\check n}},\quad
    \bar b=c_2\Bigl[\sqrt{\tfrac{\hat\sigma^{\rm ref}\iota}{n}}+\sqrt{\tfrac{\hat\sigma^{\rm adv}\iota}{\check n}}\Bigr]
      +c_3\Bigl[\tfrac{H\iota}{n}+\tfrac{H\iota}{\check n}+\tfrac{H\iota^{3/4}}{n^{3/4}}
      +\tfrac{H\iota^{3/4}}{\check n^{3/4}}\Bigr],

:math:`V_h(s)=\max_a Q_h(s,a)`, :math:`\iota=\log(2/\delta)`, :math:`\hat\sigma` the empirical
variances of the two sums. The reference is learned once, :math:`V^{\rm ref}_h(s)\leftarrow V_h(s)`
at :math:`N_0=c_4SAH^5\iota/\beta^2` visits of :math:`(h,s)`, :math:`\beta=1/\sqrt H`. Defaults
instantiate Theorem 1, :math:`\tilde O(\sqrt{SAH^3K})` plus burn-in (N1, stage-dependent).

Provenance and reconstructions: proofs_notes/ucb_advantage.md.

References: Zhang, Zhou & Ji, "Almost optimal model-free reinforcement learning via
reference-advantage decomposition", NeurIPS 2020 (arXiv 2004.10019).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_delta, check_real, check_scale
from mdptheory.kernels.sampling import (greedy_action, greedy_policy, init_at_cap,
                                        record_regret_det_incremental, rollout_det)
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, regret_bound

__all__ = ["UCBAdvantage", "stage_ends", "advantage_regret_bound"]


def stage_ends(H: int, n_max: int) -> list[int]:
    """The stage-end counts ``L = {e_1, e_1+e_2, ...} <= n_max`` with ``e_1 = H``,
    ``e_{i+1} = floor((1 + 1/H) e_i)`` (computed in exact integer arithmetic:
    ``floor(e + e/H) = e + e // H``)."""
    out, e, end = [], H, H
    while end <= n_max:
        out.append(end)
        e = e + e // H
        end += e
    return out


def advantage_regret_bound(lead, low, H, K, delta, theorem) -> RegretBound:
    """The raw bound ``lead + low`` (N1, stage-dependent, unit constants) with the trivial
    cap ``H K`` as a separate field (the papers state ``min{., HK}``)."""
    return regret_bound(lead, low, H=H, K=K, normalization="N1", setting="INHOM", theorem=theorem,
                        explicit_constants=False, delta=delta)


# UCBAdvantage._sums[h, s, a] holds five running sums: r + V^ref(s') and its square over all
# samples, then r + V(s'), V(s') - V^ref(s') and its square over the current stage
_STAGE_SUMS = slice(2, 5)


class UCBAdvantage(Learner):
    r"""UCB-Advantage.

    Parameters
    ----------
    delta : float
        Failure probability ``p`` of the paper, in ``(0, 1)``; ``iota = log(2/delta)``.
    bonus_scale : float
        Multiplies both bonuses ``b`` and ``b_bar`` (``>= 0``; 1 = theory).
    c1, c2, c3, c4 : float
        The paper's universal constants (``>= 0``; unspecified there, default 1: a
        reconstruction).
    beta : float or None
        Target reference accuracy (``> 0``), default ``1/sqrt(H)`` (the paper's choice).

    Notes
    -----
    Normalisation N1 (per-step rewards in ``[0, 1]``); stage-dependent tables, memory
    ``O(SAH)``, ``O(1)`` amortised time per step. The played policy is greedy in the Q-table
    at the start of the episode (``Q_h`` changes only at step ``h``). Random rewards enter
    both sums through their targets ``r + V`` and ``r + V^ref`` (a reconstruction).
    """

    name = "UCB-Advantage"
    normalization = "N1"
    _schedule = 0  # 0: learn the reference once at N0 visits; 1: capped doubling

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0, c1: float = 1.0,
                 c2: float = 1.0, c3: float = 1.0, c4: float = 1.0, beta: float | None = None):
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.c1 = check_scale("c1", c1)
        self.c2 = check_scale("c2", c2)
        self.c3 = check_scale("c3", c3)
        self.c4 = check_scale("c4", c4)
        self.beta = None if beta is None else check_real("beta", beta, 0.0, low_open=True)

    def _iota(self) -> float:
        return math.log(2.0 / self.delta)

    def _threshold(self, S, A, H) -> int:
        """``N_0 = ceil(c4 S A H^5 iota / beta^2)`` visits of ``(h, s)`` before the reference
        is fixed."""
        beta = self.beta if self.beta is not None else 1.0 / math.sqrt(H)
        return int(math.ceil(self.c4 * S * A * H ** 5 * self._iota() / beta ** 2))

    def _reference_due(self, count: int) -> bool:
        if self._schedule == 0:
            return count == self._N0
        return count <= self._N0 and count.bit_count() == 1     # a power of two up to the cap

    # -- teaching path -------------------------------------------------------------------
    def reset(self, S, A, H, rng=None) -> None:
        super().reset(S, A, H, rng)
        togo = np.arange(H, -1, -1, dtype=float)               # H - h for h = 0..H
        self._Q = np.broadcast_to(togo[:H, None, None], (H, S, A)).copy()
        self._V = np.broadcast_to(togo[:, None], (H + 1, S)).copy()
        self._Vref = np.zeros((H + 1, S))
        self._Vref[:H] = H
        self._n = np.zeros((H, S, A), dtype=np.int64)           # all visits of (h, s, a)
        self._stage_start = np.zeros((H, S, A), dtype=np.int64)  # n when the stage began
        self._sums = np.zeros((H, S, A, 5))                    # see _STAGE_SUMS
        self._Ns = np.zeros((H, S), dtype=np.int64)             # visits of (h, s)
        self._N0 = self._threshold(S, A, H)
        self._iota_ = self._iota()
        self._ends, self._ends_upto = frozenset(), 0           # the stage schedule, grown on demand
        self._pi = np.zeros((H, S), dtype=np.int64)

    def begin_episode(self, k: int) -> None:
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def _is_stage_end(self, n: int) -> bool:
        if n > self._ends_upto:
            self._ends_upto = 2 * n
            self._ends = frozenset(stage_ends(self._H, self._ends_upto))
        return n in self._ends

    def observe(self, h, s, a, r, s_next) -> None:
        v = self._V[h + 1, s_next]
        vr = self._Vref[h + 1, s_next]
        ref, adv = r + vr, v - vr
        self._sums[h, s, a] += (ref, ref ** 2, r + v, adv, adv ** 2)
        self._n[h, s, a] += 1
        n = int(self._n[h, s, a])
        if self._is_stage_end(n):
            self._end_stage(h, s, a, n)
        self._Ns[h, s] += 1
        if self._reference_due(int(self._Ns[h, s])):   # learn (or refresh) V^ref_h(s)
            self._Vref[h, s] = self._V[h, s]

    def _end_stage(self, h, s, a, n) -> None:
        """Alg. 1 at a stage end: the three-way min, then a fresh stage."""
        H, iota = self._H, self._iota_
        nf = float(n)
        nc = float(n - self._stage_start[h, s, a])               # n_check: visits of this stage
        s_ref, s_ref2, s_std, s_adv, s_adv2 = self._sums[h, s, a].tolist()
        mref, madv = s_ref / nf, s_adv / nc
        var_ref = max(s_ref2 / nf - mref * mref, 0.0)
        var_adv = max(s_adv2 / nc - madv * madv, 0.0)
        b = self.c1 * math.sqrt(H * H * iota / nc)                       # b (standard rule)
        bbar = (self.c2 * (math.sqrt(var_ref * iota / nf) + math.sqrt(var_adv * iota / nc))
                + self.c3 * (H * iota / nf + H * iota / nc
                             + H * iota ** 0.75 / nf ** 0.75 + H * iota ** 0.75 / nc ** 0.75))
        standard = s_std / nc + self.bonus_scale * b                    # the two rules of Alg. 1
        advantage = mref + madv + self.bonus_scale * bbar
        self._Q[h, s, a] = min(standard, advantage, self._Q[h, s, a])   # Q never increases
        self._V[h, s] = self._Q[h, s].max()
        self._sums[h, s, a, _STAGE_SUMS] = 0.0
        self._stage_start[h, s, a] = n

    # -- compiled path -------------------------------------------------------------------
    def compiled(self, mdp, episodes) -> CompiledLoop:
        S, A, H = mdp.S, mdp.A, mdp.H
        params = (int(H), self._iota(), self.bonus_scale, self.c1, self.c2, self.c3,
                  int(self._threshold(S, A, H)), int(self._schedule))
        return CompiledLoop(_ucbadv_loop, params)

    # -- theory --------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None) -> RegretBound:
        r"""Theorem 1 with the burn-in made explicit (Zhang et al. 2024, Table 1):
        ``min{ sqrt(S A H^3 K) iota + S^2 A^{3/2} H^{33/4} K^{1/4} iota, H K }``, N1,
        stage-dependent, unit constants, ``iota = log(2 S A H K / delta)``."""
        K, delta = self._bound_args(S, A, H, K, delta)
        iota = np.log(2.0 * S * A * H * K / delta)
        lead = np.sqrt(S * A * H ** 3 * K) * iota
        low = S ** 2 * A ** 1.5 * H ** 8.25 * K ** 0.25 * iota
        return advantage_regret_bound(lead, low, H, K, delta,
                                   "Zhang, Zhou & Ji (NeurIPS 2020), Theorem 1: O~(sqrt(H^2 S A T)) + burn-in "
                                   "S^2 A^1.5 H^8.25 K^0.25 (Zhang et al. 2024 Table 1); unit constants")


# ---------------------------------------------------------------------------- compiled twin (numba)


@njit(cache=True, nogil=True)
def _ucbadv_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed (compiled twin of the :class:`UCBAdvantage` teaching
    path: per-``(h, s, a)`` running sums and stage-end counters instead of the shared
    schedule; ``schedule`` 1 = the capped-doubling reference of ``ReferenceCappedDoubling``)."""
    H, iota, bs, c1, c2, c3, N0, schedule = params
    S = P.shape[1]
    A = P.shape[2]
    Q = np.empty((H, S, A))
    V = np.zeros((H + 1, S))
    init_at_cap(Q, V, 1)                           # Q = V = H - h
    Vref = np.zeros((H + 1, S))
    for h in range(H):
        for s in range(S):
            Vref[h, s] = H
    n = np.zeros((H, S, A), dtype=np.int64)
    Ns = np.zeros((H, S), dtype=np.int64)
    next_end = np.full((H, S, A), H, dtype=np.int64)
    e_len = np.full((H, S, A), H, dtype=np.int64)
    ref_sum = np.zeros((H, S, A))
    ref_sq = np.zeros((H, S, A))
    nc_arr = np.zeros((H, S, A), dtype=np.int64)
    v_sum = np.zeros((H, S, A))
    adv_sum = np.zeros((H, S, A))
    adv_sq = np.zeros((H, S, A))
    pi = np.zeros((H, S), dtype=np.int64)
    Vbuf = np.zeros((H + 1, S))
    pi_prev = np.full((H, S), -1, dtype=np.int64)  # last evaluated policy
    i34 = iota ** 0.75
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for k in range(K):
        greedy_policy(Q, pi)
        record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, Vbuf, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        for h in range(H):          # the per-step update, replayed in step order
            s, a, r, s2 = xs[h], acts[h], rs[h], xs[h + 1]
            v = V[h + 1, s2]
            vr = Vref[h + 1, s2]
            n[h, s, a] += 1
            nc_arr[h, s, a] += 1
            ref_sum[h, s, a] += r + vr
            ref_sq[h, s, a] += (r + vr) ** 2
            v_sum[h, s, a] += r + v
            adv_sum[h, s, a] += v - vr
            adv_sq[h, s, a] += (v - vr) ** 2
            cnt = n[h, s, a]
            if cnt == next_end[h, s, a]:                   # n in L: end of a stage (Alg. 1)
                nc = float(nc_arr[h, s, a])
                nf = float(cnt)
                b = c1 * math.sqrt(H * H * iota / nc)      # b = c1 sqrt(H^2 iota / n_check)
                mref = ref_sum[h, s, a] / nf
                var_ref = max(ref_sq[h, s, a] / nf - mref * mref, 0.0)
                madv = adv_sum[h, s, a] / nc
                var_adv = max(adv_sq[h, s, a] / nc - madv * madv, 0.0)
                bbar = (c2 * (math.sqrt(var_ref * iota / nf) + math.sqrt(var_adv * iota / nc))
                        + c3 * (H * iota / nf + H * iota / nc
                                + H * i34 / nf ** 0.75 + H * i34 / nc ** 0.75))
                q1 = v_sum[h, s, a] / nc + bs * b          # "standard" rule
                q2 = mref + madv + bs * bbar               # "advantage" rule
                q = Q[h, s, a]                             # three-way min: Q non-increasing
                if q1 < q:
                    q = q1
                if q2 < q:
                    q = q2
                Q[h, s, a] = q
                V[h, s] = greedy_action(Q, h, s)[1]
                nc_arr[h, s, a] = 0
                v_sum[h, s, a] = 0.0
                adv_sum[h, s, a] = 0.0
                adv_sq[h, s, a] = 0.0
                el = e_len[h, s, a]
                el = el + el // H
                e_len[h, s, a] = el
                next_end[h, s, a] += el
            Ns[h, s] += 1
            c = Ns[h, s]
            if schedule == 0:
                due = c == N0
            else:
                due = c <= N0 and (c & (c - 1)) == 0
            if due:
                Vref[h, s] = V[h, s]

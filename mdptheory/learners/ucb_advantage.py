r"""UCB-Advantage (Zhang, Zhou & Ji, NeurIPS 2020, arXiv 2004.10019): model-free Q-learning
with the reference-advantage decomposition and stage-based (lazy) updates.

For every ``(h, s, a)`` the visits are cut into stages of lengths ``e_1 = H``,
``e_{i+1} = floor((1 + 1/H) e_i)``; ``Q_h(s,a)`` changes only when a stage ends, to

.. math::

    Q_h(s,a) \leftarrow \min\Bigl\{
      \underbrace{\tfrac{1}{\check n}\textstyle\sum_{\text{stage}}(r + V_{h+1}(s')) + b}_{\text{standard}},\;
      \underbrace{\tfrac{1}{n}\textstyle\sum_{\text{all}}(r + V^{\rm ref}_{h+1}(s'))
        + \tfrac{1}{\check n}\sum_{\text{stage}}(V_{h+1}-V^{\rm ref}_{h+1})(s') + \bar b}_{\text{advantage}},\;
      Q_h(s,a)\Bigr\},

with :math:`b = c_1\sqrt{H^2\iota/\check n}` and

.. math::

    \bar b = c_2\Bigl[\sqrt{\tfrac{\hat\sigma^{\rm ref}\iota}{n}} + \sqrt{\tfrac{\hat\sigma^{\rm adv}\iota}{\check n}}\Bigr]
           + c_3\Bigl[\tfrac{H\iota}{n} + \tfrac{H\iota}{\check n} + \tfrac{H\iota^{3/4}}{n^{3/4}} + \tfrac{H\iota^{3/4}}{\check n^{3/4}}\Bigr],

(empirical variances of the reference over all samples and of the advantage over the stage;
``n`` all visits, ``n_check`` the stage's visits), :math:`V_h(s)=\max_a Q_h(s,a)`. The
reference is learned once: when the state ``(h,s)`` has been visited
``N_0 = c_4 S A H^5 \iota/\beta^2`` times, ``Vref_h(s) <- V_h(s)`` (``beta = 1/sqrt(H)``).

Provenance (``proofs_notes/ucb_advantage.md``): the stage schedule, the two update rules, the
three-way ``min``, the initialisation and ``N_0`` are the paper's [V in the notes]; the exact
bonus term structure is [R] (recalled, not re-read), the universal constants ``c_1..c_4`` are
unspecified "large enough" constants in the paper -- we default them to 1 (**reconstruction**).
Stochastic rewards (the paper assumes deterministic ones) are folded into the targets: the
standard rule averages ``r + V_{h+1}(s')`` and the reference part averages
``r + Vref_{h+1}(s')`` (with its empirical variance) -- a **reconstruction** that coincides
with the paper for deterministic rewards.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import categorical, env_step, greedy_policy, record_regret_det_incremental
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, _as_K, _check_dims
from mdptheory.learners.mvp import check_delta, check_scale

__all__ = ["UCBAdvantage", "stage_ends"]


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


class UCBAdvantage(Learner):
    r"""UCB-Advantage (plain-Python teaching path + compiled loop).

    Parameters
    ----------
    delta : float
        Failure probability ``p`` of the paper; ``iota = log(2/delta)``.
    bonus_scale : float
        Multiplies both bonuses ``b`` and ``b_bar`` (1 = theory).
    c1, c2, c3, c4 : float
        The paper's universal constants (unspecified there; default 1, a reconstruction).
    beta : float or None
        Target reference accuracy, default ``1/sqrt(H)`` (the paper's choice).

    Notes
    -----
    Normalisation N1 (per-step rewards in ``[0, 1]``), stage-dependent (INHOM) tables, memory
    ``O(SAH)``, ``O(1)`` amortised time per step. The played policy is greedy in the Q-table
    at the start of the episode (``Q_h`` changes only at step ``h``).
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
        if beta is not None:
            beta = check_scale("beta", beta)
            if beta == 0:
                raise ValueError("beta must be > 0, got 0")
        self.beta = beta

    # -- constants ---------------------------------------------------------------------------
    def _iota(self) -> float:
        return math.log(2.0 / self.delta)

    def _beta(self, H) -> float:
        return self.beta if self.beta is not None else 1.0 / math.sqrt(H)

    def _threshold(self, S, A, H) -> int:
        """``N_0 = ceil(c4 S A H^5 iota / beta^2)`` visits of ``(h, s)`` before the reference
        is fixed."""
        return int(math.ceil(self.c4 * S * A * H ** 5 * self._iota() / self._beta(H) ** 2))

    # -- teaching path ---------------------------------------------------------------------------
    def reset(self, S, A, H, rng=None) -> None:
        super().reset(S, A, H, rng)
        self._Q = np.empty((H, S, A))
        self._V = np.zeros((H + 1, S))
        for h in range(H):
            self._Q[h] = H - h
            self._V[h] = H - h
        self._Vref = np.zeros((H + 1, S))
        self._Vref[:H] = H
        self._n = np.zeros((H, S, A), dtype=np.int64)
        self._Ns = np.zeros((H, S), dtype=np.int64)
        self._next_end = np.full((H, S, A), H, dtype=np.int64)
        self._e = np.full((H, S, A), H, dtype=np.int64)
        self._ref_sum = np.zeros((H, S, A))
        self._ref_sq = np.zeros((H, S, A))
        self._nc = np.zeros((H, S, A), dtype=np.int64)
        self._v_sum = np.zeros((H, S, A))
        self._adv_sum = np.zeros((H, S, A))
        self._adv_sq = np.zeros((H, S, A))
        self._N0 = self._threshold(S, A, H)
        self._pi = np.zeros((H, S), dtype=np.int64)

    def begin_episode(self, k: int) -> None:
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def policy(self) -> np.ndarray:
        return self._pi

    def act(self, h, s) -> int:
        return int(self._pi[h, s])

    def _reference_due(self, count: int) -> bool:
        if self._schedule == 0:
            return count == self._N0
        return count <= self._N0 and (count & (count - 1)) == 0

    def observe(self, h, s, a, r, s_next) -> None:
        H = self._H
        iota = self._iota()
        v = self._V[h + 1, s_next]
        vr = self._Vref[h + 1, s_next]
        self._n[h, s, a] += 1
        self._nc[h, s, a] += 1
        self._ref_sum[h, s, a] += r + vr
        self._ref_sq[h, s, a] += (r + vr) ** 2
        self._v_sum[h, s, a] += r + v
        self._adv_sum[h, s, a] += v - vr
        self._adv_sq[h, s, a] += (v - vr) ** 2
        n = int(self._n[h, s, a])
        if n == self._next_end[h, s, a]:          # n in L: end of a stage (Alg. 1; notes 5(c))
            nc = float(self._nc[h, s, a])
            nf = float(n)
            b = self.c1 * math.sqrt(H * H * iota / nc)             # b = c1 sqrt(H^2 iota / n_check)
            mref = self._ref_sum[h, s, a] / nf
            var_ref = max(self._ref_sq[h, s, a] / nf - mref * mref, 0.0)
            madv = self._adv_sum[h, s, a] / nc
            var_adv = max(self._adv_sq[h, s, a] / nc - madv * madv, 0.0)
            bbar = (self.c2 * (math.sqrt(var_ref * iota / nf) + math.sqrt(var_adv * iota / nc))
                    + self.c3 * (H * iota / nf + H * iota / nc
                                 + H * iota ** 0.75 / nf ** 0.75 + H * iota ** 0.75 / nc ** 0.75))
            q1 = self._v_sum[h, s, a] / nc + self.bonus_scale * b      # "standard" rule
            q2 = mref + madv + self.bonus_scale * bbar                 # "advantage" rule
            self._Q[h, s, a] = min(q1, q2, self._Q[h, s, a])           # three-way min: Q non-increasing
            self._V[h, s] = self._Q[h, s].max()
            self._nc[h, s, a] = 0
            self._v_sum[h, s, a] = 0.0
            self._adv_sum[h, s, a] = 0.0
            self._adv_sq[h, s, a] = 0.0
            e = int(self._e[h, s, a])
            e = e + e // H
            self._e[h, s, a] = e
            self._next_end[h, s, a] += e
        self._Ns[h, s] += 1
        if self._reference_due(int(self._Ns[h, s])):   # sum_a N_h(s, a) == N_0: learn V^ref once
            self._Vref[h, s] = self._V[h, s]

    # -- compiled path ------------------------------------------------------------------------------
    def compiled(self, mdp, episodes) -> CompiledLoop:
        S, A, H = mdp.S, mdp.A, mdp.H
        params = (int(H), self._iota(), self.bonus_scale, self.c1, self.c2, self.c3,
                  int(self._threshold(S, A, H)), int(self._schedule))
        return CompiledLoop(_ucbadv_loop, params)

    # -- theory --------------------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None) -> RegretBound:
        r"""Theorem (Zhang, Zhou & Ji 2020) with the burn-in made explicit (Zhang et al. 2024,
        Table 1): ``min{ sqrt(S A H^3 K) iota + S^2 A^{3/2} H^{33/4} K^{1/4}, H K }``, N1,
        stage-dependent, unit constants, ``iota = log(2 S A H K / delta)``."""
        delta = self.delta if delta is None else delta
        _check_dims(S, A, H, delta)
        K = _as_K(K)
        iota = np.log(2.0 * S * A * H * K / delta)
        lead = np.sqrt(S * A * H ** 3 * K) * iota
        low = S ** 2 * A ** 1.5 * H ** 8.25 * K ** 0.25 * iota
        tot = np.minimum(lead + low, H * K)
        return RegretBound(value=tot, leading=np.minimum(lead, tot), lower_order=tot - np.minimum(lead, tot),
                           normalization="N1", setting="INHOM",
                           theorem="Zhang, Zhou & Ji (NeurIPS 2020), Theorem 1: O~(sqrt(H^2 S A T)) "
                                   "+ burn-in S^2 A^1.5 H^8.25 K^0.25 (Zhang et al. 2024 Table 1); unit constants",
                           explicit_constants=False, holds_with_probability=1.0 - delta)


@njit(cache=True, nogil=True)
def _ucbadv_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    H, iota, bs, c1, c2, c3, N0, schedule = params
    S = P.shape[1]
    A = P.shape[2]
    Q = np.empty((H, S, A))
    V = np.zeros((H + 1, S))
    for h in range(H):
        for s in range(S):
            V[h, s] = H - h
            for a in range(A):
                Q[h, s, a] = H - h
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
    for k in range(K):
        greedy_policy(Q, pi)
        record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, Vbuf, regret_out)
        s = categorical(rng, initial)
        ret = 0.0
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
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
            if cnt == next_end[h, s, a]:
                nc = float(nc_arr[h, s, a])
                nf = float(cnt)
                b = c1 * math.sqrt(H * H * iota / nc)
                mref = ref_sum[h, s, a] / nf
                var_ref = max(ref_sq[h, s, a] / nf - mref * mref, 0.0)
                madv = adv_sum[h, s, a] / nc
                var_adv = max(adv_sq[h, s, a] / nc - madv * madv, 0.0)
                bbar = (c2 * (math.sqrt(var_ref * iota / nf) + math.sqrt(var_adv * iota / nc))
                        + c3 * (H * iota / nf + H * iota / nc
                                + H * i34 / nf ** 0.75 + H * i34 / nc ** 0.75))
                q1 = v_sum[h, s, a] / nc + bs * b
                q2 = mref + madv + bs * bbar
                q = Q[h, s, a]
                if q1 < q:
                    q = q1
                if q2 < q:
                    q = q2
                Q[h, s, a] = q
                best = Q[h, s, 0]
                for b_ in range(1, A):
                    if Q[h, s, b_] > best:
                        best = Q[h, s, b_]
                V[h, s] = best
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
            ret += r
            s = s2
        returns_out[k] = ret

r"""EULER (Zanette & Brunskill, ICML 2019, arXiv 1901.00210): model-based optimism with
empirical-Bernstein bonuses and an upper *and* lower value, giving problem-dependent regret.

Every episode EULER runs one backward induction on the empirical model (counts pooled over
the steps: time-homogeneous, HOM) that computes an upper value, the greedy policy, and the
lower value of that same policy. With ``n = max(n(s,a), 1)``, ``L = ln(4 S A T / delta)``,
``T = K H`` and the paper's constants

.. math::

    B_v = \sqrt{2L},\qquad B_p = H\sqrt{2L},\qquad J = \frac{HL}{3},

the bonuses are (0-based stage ``h``)

.. math::

    b^r(s,a) &= \sqrt{\frac{2\,\widehat{\mathrm{Var}}R(s,a)\,L}{n}} + \frac{7L}{3\max(n-1,1)}
        \quad\text{(empirical Bernstein, Maurer \& Pontil)},\\
    \phi(\hat p, V) &= \sqrt{\frac{2\,\mathrm{Var}_{\hat p}(V)\,L}{n}} + \frac{HL}{3\max(n-1,1)},\\
    b^{pv}(s,a;V) &= \phi(\hat p(s,a), V) + \frac{1}{\sqrt n}\Bigl(\frac{4J + B_p}{\sqrt n}
        + B_v\,\|\bar V_{h+1}-\underline V_{h+1}\|_{2,\hat p(s,a)}\Bigr),

and

.. math::

    \bar Q_h(s,a) &= \min\{H-h,\ \hat r + b^r + \hat p\cdot\bar V_{h+1} + b^{pv}(s,a;\bar V_{h+1})\},\\
    \pi_h(s) &= \arg\max_a \bar Q_h(s,a),\qquad \bar V_h(s) = \bar Q_h(s,\pi_h(s)),\\
    \underline V_h(s) &= \max\{0,\ \hat r + \hat p\cdot\underline V_{h+1} - b^r
        - b^{pv}(s,\pi_h(s);\underline V_{h+1})\}\quad(a=\pi_h(s)).

Unvisited pairs get :math:`\bar Q = H-h` (the cap) and :math:`\underline V = 0`. The
correction term :math:`B_v\|\bar V-\underline V\|_{2,\hat p}/\sqrt n` pays for using the
empirical variance of :math:`\bar V` (resp. :math:`\underline V`) instead of that of
:math:`V^*` (resp. :math:`V^\pi`); :math:`\underline V_{h+1}\le V^\pi_{h+1}\le\bar V_{h+1}`
makes :math:`\sqrt{\mathrm{Var}(V^*)}\le\sqrt{\mathrm{Var}(\bar V)}+\|\bar V-\underline V\|`.

Provenance (``proofs_notes/euler.md``): structure (upper and lower value, the three bonus
parts, clipping) [R] in the notes; the constants ``B_v, B_p, J``, the two-part ``b^pv`` with
``phi``, the ``max(n-1, 1)`` denominators and ``L = ln(4SAT/delta)`` follow the paper's
Algorithm 1 as recalled and as transcribed by a third-party implementation that cites its
line numbers (code index); the PDF itself was not available, so they are **not verified**
[R]. Using ``phi`` of the *lower* value in the lower recursion is our reading of the
pessimistic bound [P].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import categorical, env_step, record_regret_det
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, _as_K, _check_dims
from mdptheory.learners.mvp import check_delta, check_scale

__all__ = ["EULER"]


class EULER(Learner):
    r"""EULER (plain-Python teaching path + compiled loop).

    Parameters
    ----------
    delta : float
        Failure probability; ``L = log(4 S A T / delta)``, ``T = K H``.
    bonus_scale : float
        Multiplies the whole bonus ``b^r + b^pv`` (1 = the constants above).

    Notes
    -----
    Normalisation N1 (per-step rewards in ``[0, 1]``), checked by :meth:`prepare`;
    time-homogeneous model (counts pooled over steps; stage-dependent MDPs are rejected);
    replans every episode at cost ``O(S^2 A H)``; memory ``O(S^2 A + SAH)``. The optional
    total-reward bound ``G`` of the paper (cap ``min(G, H-h)``) is not used by the learner;
    :meth:`bound` accepts it.
    """

    name = "EULER"
    normalization = "N1"

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0):
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)

    def prepare(self, mdp, episodes) -> None:
        """Normalisation check (N1) and the HOM assumption: counts are pooled over stages, so
        ``P`` and ``R`` must not depend on the stage (``ValueError`` otherwise)."""
        super().prepare(mdp, episodes)
        if not mdp.stationary:
            raise ValueError("EULER pools its counts over stages (HOM) and needs a stationary MDP "
                             f"(stage-dependent P: {mdp.stage_dependent_P}, R: {mdp.stage_dependent_R}); "
                             "augment the state with the stage index")

    def _L(self, S, A, H, k) -> float:
        K = getattr(self, "_K", None)
        K = K if K is not None else max(int(k), 1)
        return math.log(4.0 * S * A * H * float(K) / self.delta)

    # -- teaching path ---------------------------------------------------------------------
    def reset(self, S, A, H, rng=None) -> None:
        super().reset(S, A, H, rng)
        self._N = np.zeros((S, A), dtype=np.int64)
        self._Nsas = np.zeros((S, A, S), dtype=np.int64)
        self._Rsum = np.zeros((S, A))
        self._R2sum = np.zeros((S, A))
        self._Vup = np.zeros((H + 1, S))
        self._Vlo = np.zeros((H + 1, S))
        self._pi = np.zeros((H, S), dtype=np.int64)

    def begin_episode(self, k: int) -> None:
        self._plan(k + 1)

    def _plan(self, k) -> None:
        """Upper/lower backward induction of Algorithm 1 (plain numpy over ``(s, a)``)."""
        S, A, H = self._S, self._A, self._H
        L = self._L(S, A, H, k)
        bs = self.bonus_scale
        n = self._N
        seen = n > 0
        nn = np.maximum(n, 1).astype(float)
        nm1 = np.maximum(n - 1, 1).astype(float)
        rhat = self._Rsum / nn
        rvar = np.maximum(self._R2sum / nn - rhat * rhat, 0.0)
        Phat = self._Nsas / nn[:, :, None]
        Bv, Bp, J = math.sqrt(2.0 * L), H * math.sqrt(2.0 * L), H * L / 3.0
        br = np.sqrt(2.0 * rvar * L / nn) + 7.0 * L / (3.0 * nm1)          # b^r
        const = (4.0 * J + Bp) / nn                                          # (4J + B_p)/n

        def phi(V):                                                          # phi(p_hat, V)
            PV = Phat @ V
            var = np.maximum(Phat @ (V * V) - PV * PV, 0.0)
            return PV, np.sqrt(2.0 * var * L / nn) + H * L / (3.0 * nm1)

        idx = np.arange(S)
        self._Vup[H] = 0.0
        self._Vlo[H] = 0.0
        for h in range(H - 1, -1, -1):
            vu, vl = self._Vup[h + 1], self._Vlo[h + 1]
            corr = Bv * np.sqrt(Phat @ ((vu - vl) * (vu - vl))) / np.sqrt(nn)
            PVu, phu = phi(vu)
            PVl, phl = phi(vl)
            cap = float(H - h)
            Qup = np.where(seen, np.minimum(rhat + PVu + bs * (br + phu + const + corr), cap), cap)
            pi = Qup.argmax(axis=1)
            self._pi[h] = pi
            self._Vup[h] = Qup[idx, pi]
            lo = rhat[idx, pi] + PVl[idx, pi] - bs * (br + phl + const + corr)[idx, pi]
            self._Vlo[h] = np.where(seen[idx, pi], np.maximum(lo, 0.0), 0.0)

    def policy(self) -> np.ndarray:
        return self._pi

    def act(self, h, s) -> int:
        return int(self._pi[h, s])

    def observe(self, h, s, a, r, s_next) -> None:
        self._N[s, a] += 1
        self._Nsas[s, a, s_next] += 1
        self._Rsum[s, a] += r
        self._R2sum[s, a] += r * r

    # -- compiled path -------------------------------------------------------------------------
    def compiled(self, mdp, episodes) -> CompiledLoop:
        S, A, H = mdp.S, mdp.A, mdp.H
        L = math.log(4.0 * S * A * H * float(episodes) / self.delta)
        return CompiledLoop(_euler_loop, (int(H), L, self.bonus_scale))

    # -- theory --------------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None, q_star: float | None = None,
              total_reward: float | None = None) -> RegretBound:
        r"""Zanette & Brunskill (2019), main theorem (shape [R], unit constants):

        .. math::

            \min\{\sqrt{\mathbb Q^*\,SAT},\ \sqrt{G^2SAK}\}\,L
            + S^{3/2}AH^2(\sqrt S+\sqrt H)\,L^2,

        ``T = KH``, ``L = log(4SAT/delta)``, ``Q* = max_{s,a,h}[Var R + Var_{P}V*_{h+1}]``
        (default ``H^2``, the N1 worst case) and ``G`` the bound on the total reward
        (default ``H``). For deterministic MDPs ``Q* = 0`` and only the ``K``-independent term
        (times ``L^2``) remains."""
        delta = self.delta if delta is None else delta
        _check_dims(S, A, H, delta)
        K = _as_K(K)
        q = float(H * H) if q_star is None else float(q_star)
        G = float(H) if total_reward is None else float(total_reward)
        if q < 0 or G <= 0:
            raise ValueError(f"q_star must be >= 0 and total_reward > 0, got {q_star!r}, {total_reward!r}")
        L = np.log(4.0 * S * A * H * K / delta)
        lead = np.minimum(np.sqrt(q * S * A * K * H), np.sqrt(G * G * S * A * K)) * L
        low = S ** 1.5 * A * H * H * (math.sqrt(S) + math.sqrt(H)) * L ** 2
        return RegretBound(value=lead + low, leading=lead, lower_order=low, normalization="N1",
                           setting="HOM",
                           theorem="Zanette & Brunskill (ICML 2019), Theorem 1 (shape recalled), unit constants",
                           explicit_constants=False, holds_with_probability=1.0 - delta)


@njit(cache=True, nogil=True, inline="always")
def _mean_and_bonus(n, Nsas, Rsum, R2sum, s, a, Vnext, Vup, Vlo, h, H, L, bs, Bv, Bp, J):
    """``(r_hat + p_hat . V_{h+1}, bonus)`` for ``(s, a)`` with ``n > 0`` visits, where
    ``Vnext`` is ``Vup`` (upper recursion) or ``Vlo`` (lower recursion): the same formulas
    as :meth:`EULER._plan` (reward bonus b^r, variance bonus phi of ``Vnext``, the
    ``(4J + B_p)/n`` term and the ``B_v ||Vup - Vlo||_{2, p_hat} / sqrt(n)`` correction)."""
    nn = float(n)
    nm1 = float(max(n - 1, 1))
    rhat = Rsum[s, a] / nn
    rv = R2sum[s, a] / nn - rhat * rhat
    if rv < 0.0:
        rv = 0.0
    br = math.sqrt(2.0 * rv * L / nn) + 7.0 * L / (3.0 * nm1)
    pv = 0.0
    pv2 = 0.0
    pg = 0.0
    for t in range(Nsas.shape[2]):
        p = Nsas[s, a, t] / nn
        v = Vnext[h + 1, t]
        d = Vup[h + 1, t] - Vlo[h + 1, t]
        pv += p * v
        pv2 += p * (v * v)
        pg += p * (d * d)
    var = pv2 - pv * pv
    if var < 0.0:
        var = 0.0
    ph = math.sqrt(2.0 * var * L / nn) + H * L / (3.0 * nm1)
    b = bs * (br + ph + (4.0 * J + Bp) / nn + Bv * math.sqrt(pg) / math.sqrt(nn))
    return rhat + pv, b


@njit(cache=True, nogil=True)
def _euler_plan(N, Nsas, Rsum, R2sum, H, L, bs, Vup, Vlo, pi):
    """Compiled twin of :meth:`EULER._plan` (same formulas, loops over ``(s, a)``)."""
    S = N.shape[0]
    A = N.shape[1]
    Vup[H, :] = 0.0
    Vlo[H, :] = 0.0
    Bv = math.sqrt(2.0 * L)
    Bp = H * math.sqrt(2.0 * L)
    J = H * L / 3.0
    for h in range(H - 1, -1, -1):
        cap = float(H - h)
        for s in range(S):
            best = -np.inf
            arg = 0
            for a in range(A):
                n = N[s, a]
                if n == 0:
                    q = cap
                else:
                    m, b = _mean_and_bonus(n, Nsas, Rsum, R2sum, s, a, Vup, Vup, Vlo, h, H, L, bs, Bv, Bp, J)
                    q = m + b
                    if q > cap:
                        q = cap
                if q > best:
                    best = q
                    arg = a
            pi[h, s] = arg
            Vup[h, s] = best
            n = N[s, arg]
            if n > 0:
                m, b = _mean_and_bonus(n, Nsas, Rsum, R2sum, s, arg, Vlo, Vup, Vlo, h, H, L, bs, Bv, Bp, J)
                lo = m - b
                Vlo[h, s] = lo if lo > 0.0 else 0.0
            else:
                Vlo[h, s] = 0.0


@njit(cache=True, nogil=True)
def _euler_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    H, L, bs = params
    S = P.shape[1]
    A = P.shape[2]
    N = np.zeros((S, A), dtype=np.int64)
    Nsas = np.zeros((S, A, S), dtype=np.int64)
    Rsum = np.zeros((S, A))
    R2sum = np.zeros((S, A))
    Vup = np.zeros((H + 1, S))
    Vlo = np.zeros((H + 1, S))
    pi = np.zeros((H, S), dtype=np.int64)
    Vbuf = np.zeros((H + 1, S))
    for k in range(K):
        _euler_plan(N, Nsas, Rsum, R2sum, H, L, bs, Vup, Vlo, pi)
        record_regret_det(k, eval_every, P, R, initial, v_star, pi, Vbuf, regret_out)
        s = categorical(rng, initial)
        ret = 0.0
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            N[s, a] += 1
            Nsas[s, a, s2] += 1
            Rsum[s, a] += r
            R2sum[s, a] += r * r
            ret += r
            s = s2
        returns_out[k] = ret

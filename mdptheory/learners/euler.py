r"""EULER (Zanette & Brunskill, ICML 2019, arXiv 1901.00210): model-based optimism with
empirical-Bernstein bonuses and an upper *and* lower value, giving problem-dependent regret.

Every episode EULER runs two backward inductions on the empirical model (counts pooled over
the steps, time-homogeneous). With ``n = n(s,a)``, ``L`` the log term, the bonus is

.. math::

    b_h(s,a) = \underbrace{\sqrt{\tfrac{2\hat{\mathbb V}(R)L}{n}} + \tfrac{14L}{3n}}_{\text{reward}}
      + \underbrace{\sqrt{\tfrac{2\,\mathbb V_{\hat P}(\bar V_{h+1})L}{n}} + \tfrac{14HL}{3n}}_{\text{transition}}
      + \underbrace{\sqrt{\tfrac{2L\,\hat P(\bar V_{h+1}-\underline V_{h+1})^2}{n}}}_{\text{correction}},

:math:`\bar Q_h = \min\{\hat r + \hat P\bar V_{h+1} + b_h,\ H-h\}` (0-based ``h``),
:math:`\pi_h(s)=\arg\max_a\bar Q_h(s,a)`, :math:`\bar V_h(s)=\bar Q_h(s,\pi_h(s))`, and the lower
value of the same policy :math:`\underline V_h(s) = \max\{\hat r + \hat P\underline V_{h+1} - b_h, 0\}`
at :math:`a=\pi_h(s)`. Unvisited pairs get :math:`\bar Q = H-h`, :math:`\underline Q = 0`.

Provenance (``proofs_notes/euler.md``): the structure (upper and lower value, the three bonus
parts, clipping) is [R] in the notes; the constants (empirical-Bernstein constants of Maurer &
Pontil, ``sqrt(2L)`` on the correction) and ``L = log(4 S A T / delta)`` are a
**reconstruction**: the paper's Algorithm 1 was not available.
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
        Multiplies the whole bonus (1 = theory constants of this reconstruction).

    Notes
    -----
    Normalisation N1 (per-step rewards in ``[0, 1]``); time-homogeneous model (counts pooled
    over steps); replans every episode at cost ``O(S^2 A H)``; memory ``O(S^2 A + SAH)``.
    """

    name = "EULER"
    normalization = "N1"

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0):
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)

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
        S, A, H = self._S, self._A, self._H
        L = self._L(S, A, H, k)
        n = self._N
        seen = n > 0
        nn = np.maximum(n, 1).astype(float)
        rhat = self._Rsum / nn
        rvar = np.maximum(self._R2sum / nn - rhat * rhat, 0.0)
        Phat = self._Nsas / nn[:, :, None]
        br = np.sqrt(2.0 * rvar * L / nn) + 14.0 * L / (3.0 * nn)
        idx = np.arange(S)
        self._Vup[H] = 0.0
        self._Vlo[H] = 0.0
        for h in range(H - 1, -1, -1):
            vu = self._Vup[h + 1]
            vl = self._Vlo[h + 1]
            PV = Phat @ vu
            var = np.maximum(Phat @ (vu * vu) - PV * PV, 0.0)
            gap = (vu - vl) * (vu - vl)
            b = self.bonus_scale * (br + (np.sqrt(2.0 * var * L / nn) + 14.0 * H * L / (3.0 * nn))
                                    + np.sqrt(2.0 * L * (Phat @ gap) / nn))
            cap = float(H - h)
            Qup = np.where(seen, np.minimum(rhat + PV + b, cap), cap)
            pi = Qup.argmax(axis=1)
            self._pi[h] = pi
            self._Vup[h] = Qup[idx, pi]
            lo = np.maximum(rhat[idx, pi] + Phat[idx, pi] @ vl - b[idx, pi], 0.0)
            self._Vlo[h] = np.where(seen[idx, pi], lo, 0.0)

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
    def bound(self, S, A, H, K, delta, q_star: float | None = None,
              total_reward: float | None = None) -> RegretBound:
        r"""Zanette & Brunskill (2019), main theorem (shape [R], unit constants):

        .. math::

            \min\{\sqrt{\mathbb Q^*\,SAT},\ \sqrt{G^2SAK}\}\,L
            + S^{3/2}AH^2(\sqrt S+\sqrt H)\,L^2,

        ``T = KH``, ``L = log(4SAT/delta)``, ``Q* = max_{s,a,h}[Var R + Var_{P}V*_{h+1}]``
        (default ``H^2``, the N1 worst case) and ``G`` the bound on the total reward
        (default ``H``). For deterministic MDPs ``Q* = 0`` and only the ``K``-independent term
        (times ``L^2``) remains."""
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


@njit(cache=True, nogil=True)
def _euler_plan(N, Nsas, Rsum, R2sum, H, L, bs, Vup, Vlo, pi):
    S = N.shape[0]
    A = N.shape[1]
    Vup[H, :] = 0.0
    Vlo[H, :] = 0.0
    bvec = np.empty(A)
    qvec = np.empty(A)
    for h in range(H - 1, -1, -1):
        cap = float(H - h)
        for s in range(S):
            best = -np.inf
            arg = 0
            for a in range(A):
                n = N[s, a]
                nn = float(max(n, 1))
                rhat = Rsum[s, a] / nn
                rv = R2sum[s, a] / nn - rhat * rhat
                if rv < 0.0:
                    rv = 0.0
                br = math.sqrt(2.0 * rv * L / nn) + 14.0 * L / (3.0 * nn)
                pv = 0.0
                pv2 = 0.0
                pg = 0.0
                for t in range(S):
                    p = Nsas[s, a, t] / nn
                    vu = Vup[h + 1, t]
                    d = vu - Vlo[h + 1, t]
                    pv += p * vu
                    pv2 += p * (vu * vu)
                    pg += p * (d * d)
                var = pv2 - pv * pv
                if var < 0.0:
                    var = 0.0
                b = bs * (br + (math.sqrt(2.0 * var * L / nn) + 14.0 * H * L / (3.0 * nn))
                          + math.sqrt(2.0 * L * pg / nn))
                bvec[a] = b
                if n > 0:
                    q = rhat + pv + b
                    if q > cap:
                        q = cap
                else:
                    q = cap
                qvec[a] = q
                if q > best:
                    best = q
                    arg = a
            pi[h, s] = arg
            Vup[h, s] = best
            a = arg
            if N[s, a] > 0:
                nn = float(N[s, a])
                acc = 0.0
                for t in range(S):
                    acc += (Nsas[s, a, t] / nn) * Vlo[h + 1, t]
                lo = Rsum[s, a] / nn + acc - bvec[a]
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

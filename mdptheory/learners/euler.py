r"""EULER (Zanette & Brunskill 2019, Algorithm 1): optimism with empirical-Bernstein bonuses
and an upper and a lower value.

HOM (counts pooled over stages, ``n = max(n(s,a), 1)``), N1, ``T = KH``,
:math:`L=\ln(4SAT/\delta)`, :math:`B_v=\sqrt{2L}`, :math:`B_p=H\sqrt{2L}`, :math:`J=HL/3`.
Every episode, for ``h = H-1, ..., 0`` with :math:`\bar V_H=\underline V_H=0`:

.. math::
    b^r &= \sqrt{2\,\widehat{\mathrm{Var}}R\,L/n}+\tfrac{7L}{3\max(n-1,1)},\qquad
    \phi(V) = \sqrt{2\,\mathrm{Var}_{\hat p}(V)\,L/n}+\tfrac{HL}{3\max(n-1,1)},\\
    b^{pv}(V) &= \phi(V)+\tfrac{1}{\sqrt n}\bigl(\tfrac{4J+B_p}{\sqrt n}
        +B_v\|\bar V_{h+1}-\underline V_{h+1}\|_{2,\hat p}\bigr),\\
    \bar Q_h &= \min\{H-h,\ \hat r+\hat p\cdot\bar V_{h+1}+b^r+b^{pv}(\bar V_{h+1})\},\quad
        \pi_h=\arg\max_a\bar Q_h,\quad\bar V_h=\bar Q_h(\cdot,\pi_h),\\
    \underline V_h &= \max\{0,\ \hat r+\hat p\cdot\underline V_{h+1}-b^r
        -b^{pv}(\underline V_{h+1})\}\ \text{at } a=\pi_h(s);

unvisited pairs get :math:`\bar Q_h=H-h`, :math:`\underline V_h=0`. The defaults
(``bonus_scale=1``) instantiate Theorem 1 (w.p. :math:`1-\delta`; :math:`\mathbb Q^*`, ``G``
in :meth:`EULER.bound`): :math:`\tilde O(\min\{\sqrt{\mathbb Q^*SAT},\sqrt{G^2SAK}\}+S^{3/2}AH^2(\sqrt S+\sqrt H))`.

Provenance and reconstructions: proofs_notes/euler.md

References: A. Zanette, E. Brunskill, "Tighter Problem-Dependent Regret Bounds in Reinforcement
Learning without Domain Knowledge using Value Function Bounds", ICML 2019, arXiv:1901.00210.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_delta, check_real, check_scale
from mdptheory.kernels.sampling import record_regret_det, rollout_det
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, regret_bound
from mdptheory.learners.resumable import ResumableLoop

__all__ = ["EULER", "euler_plan", "euler_plan_ref"]


def euler_plan_ref(N, Nsas, Rsum, R2sum, H, L, bs):
    """The upper/lower backward induction of Algorithm 1, vectorised over ``(s, a)`` (plain
    twin of :func:`euler_plan`); returns ``(Vup (H+1, S), Vlo (H+1, S), pi (H, S))``.

    ``N (S, A)`` and ``Nsas (S, A, S)`` counts, ``Rsum``/``R2sum (S, A)`` sums of rewards and
    of their squares, ``bs`` multiplies ``b^r + b^pv``. Reconstruction: ``phi`` of the lower
    value in the lower recursion (proofs_notes/euler.md)."""
    S, A = N.shape
    seen = N > 0
    nn = np.maximum(N, 1).astype(float)
    nm1 = np.maximum(N - 1, 1).astype(float)
    rhat = Rsum / nn
    rvar = np.maximum(R2sum / nn - rhat * rhat, 0.0)
    Phat = Nsas / nn[:, :, None]
    Bv, Bp, J = math.sqrt(2.0 * L), H * math.sqrt(2.0 * L), H * L / 3.0
    br = np.sqrt(2.0 * rvar * L / nn) + 7.0 * L / (3.0 * nm1)          # b^r
    const = (4.0 * J + Bp) / nn                                          # (4J + B_p)/n

    def phi(V):                                                          # (p_hat . V, phi(p_hat, V))
        PV = Phat @ V
        var = np.maximum(Phat @ (V * V) - PV * PV, 0.0)
        return PV, np.sqrt(2.0 * var * L / nn) + H * L / (3.0 * nm1)

    idx = np.arange(S)
    Vup = np.zeros((H + 1, S))
    Vlo = np.zeros((H + 1, S))
    pi = np.zeros((H, S), dtype=np.int64)
    for h in range(H - 1, -1, -1):
        vu, vl = Vup[h + 1], Vlo[h + 1]
        corr = Bv * np.sqrt(Phat @ ((vu - vl) * (vu - vl))) / np.sqrt(nn)   # B_v ||Vup - Vlo|| / sqrt(n)
        PVu, phu = phi(vu)
        PVl, phl = phi(vl)
        cap = float(H - h)
        Qup = np.where(seen, np.minimum(rhat + PVu + bs * (br + phu + const + corr), cap), cap)
        pi[h] = Qup.argmax(axis=1)
        Vup[h] = Qup[idx, pi[h]]
        lo = rhat[idx, pi[h]] + PVl[idx, pi[h]] - bs * (br + phl + const + corr)[idx, pi[h]]
        Vlo[h] = np.where(seen[idx, pi[h]], np.maximum(lo, 0.0), 0.0)
    return Vup, Vlo, pi


class EULER(Learner):
    r"""EULER of Zanette & Brunskill (2019); see the module docstring.

    Parameters
    ----------
    delta : float in (0, 1), default 0.01
        Failure probability; ``L = ln(4 S A T / delta)``, ``T = K H``.
    bonus_scale : float >= 0, default 1.0
        Multiplies the whole bonus ``b^r + b^pv`` (1 = the constants above).

    Notes
    -----
    N1; HOM (counts pooled over stages: ``P`` and ``R`` must not depend on the stage). Values
    are capped at the remaining horizon ``H - h``; the paper's optional cap ``G`` on the
    total reward is used by :meth:`bound` only. Replans every episode at cost
    :math:`O(S^2AH)`; memory :math:`O(S^2A+SAH)`.
    """

    name = "EULER"
    normalization = "N1"
    homogeneous = "P and R"

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0):
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)


    def _L(self, S, A, H, k) -> float:
        """``ln(4SAT/delta)`` with the run's ``K`` (``k`` if driven without :meth:`prepare`)."""
        K = getattr(self, "_K", None)
        K = K if K is not None else max(int(k), 1)
        return math.log(4.0 * S * A * H * float(K) / self.delta)

    def reset(self, S, A, H, rng) -> None:
        super().reset(S, A, H, rng)
        self._N = np.zeros((S, A), dtype=np.int64)
        self._Nsas = np.zeros((S, A, S), dtype=np.int64)
        self._Rsum = np.zeros((S, A))
        self._R2sum = np.zeros((S, A))

    def begin_episode(self, k: int) -> None:
        L = self._L(self._S, self._A, self._H, k + 1)
        self._Vup, self._Vlo, self._pi = euler_plan_ref(self._N, self._Nsas, self._Rsum, self._R2sum,
                                                        self._H, L, self.bonus_scale)

    def observe(self, h, s, a, r, s_next) -> None:
        self._N[s, a] += 1
        self._Nsas[s, a, s_next] += 1
        self._Rsum[s, a] += r
        self._R2sum[s, a] += r * r

    def compiled(self, mdp, episodes) -> CompiledLoop:
        L = math.log(4.0 * mdp.S * mdp.A * mdp.H * float(episodes) / self.delta)
        return CompiledLoop(_euler_loop, (int(mdp.H), L, self.bonus_scale))

    def resumable(self, mdp, episodes) -> ResumableLoop:
        """The compiled loop split into ``init`` and ``chunk`` with the state outside the loop
        (same parameters and draws as :meth:`compiled`)."""
        return ResumableLoop(_euler_init, _euler_chunk, self.compiled(mdp, episodes).params, EULER_STATE)

    def bound(self, S, A, H, K, delta=None, q_star: float | None = None,
              total_reward: float | None = None) -> RegretBound:
        r"""Zanette & Brunskill (2019), Theorem 1 (shape, unit constants):

        .. math::

            \min\{\sqrt{\mathbb Q^*\,SAT},\ \sqrt{G^2SAK}\}\,L
            + S^{3/2}AH^2(\sqrt S+\sqrt H)\,L^2,

        ``T = KH``, ``L = ln(4SAT/delta)``, ``q_star`` =
        :math:`\mathbb Q^*=\max_{s,a,h}[\mathrm{Var}R(s,a)+\mathrm{Var}_{P(s,a)}V^*_{h+1}]`
        (default ``H^2``, the N1 worst case) and ``total_reward`` = ``G``, the almost-sure
        bound on an episode's total reward (default ``H``). For deterministic
        MDPs :math:`\mathbb Q^*=0` and only the ``K``-independent term (times ``L^2``)
        remains."""
        K, delta = self._bound_args(S, A, H, K, delta)
        q = float(H * H) if q_star is None else check_real("q_star", q_star, 0.0)
        G = float(H) if total_reward is None else check_real("total_reward", total_reward, 0.0, low_open=True)
        L = np.log(4.0 * S * A * H * K / delta)
        lead = np.minimum(np.sqrt(q * S * A * K * H), np.sqrt(G * G * S * A * K)) * L
        low = S ** 1.5 * A * H * H * (math.sqrt(S) + math.sqrt(H)) * L ** 2
        return regret_bound(lead, low, H=H, K=K, normalization="N1", setting="HOM",
                            theorem="Zanette & Brunskill (ICML 2019), Theorem 1 (shape recalled), unit constants",
                            explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True, inline="always")
def _mean_and_bonus(n, Nsas, Rsum, R2sum, s, a, Vnext, Vup, Vlo, h, H, L, bs, Bv, Bp, J):
    """``(r_hat + p_hat . V_{h+1}, bonus)`` for ``(s, a)`` with ``n > 0`` visits, where
    ``Vnext`` is ``Vup`` (upper recursion) or ``Vlo`` (lower recursion): reward bonus b^r,
    variance bonus phi of ``Vnext``, the ``(4J + B_p)/n`` term and the
    ``B_v ||Vup - Vlo||_{2, p_hat} / sqrt(n)`` correction, all times ``bs``."""
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
def euler_plan(N, Nsas, Rsum, R2sum, H, L, bs, Vup, Vlo, pi):
    """Compiled twin of :func:`euler_plan_ref` (loops over ``(s, a)``); writes ``Vup, Vlo, pi``."""
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
                    q = m + b                   # upper value: r_hat + p_hat . Vup + b^r + b^pv
                    if q > cap:
                        q = cap
                if q > best:
                    best = q
                    arg = a
            pi[h, s] = arg
            Vup[h, s] = best
            n = N[s, arg]
            if n > 0:                           # lower value of the same action
                m, b = _mean_and_bonus(n, Nsas, Rsum, R2sum, s, arg, Vlo, Vup, Vlo, h, H, L, bs, Bv, Bp, J)
                lo = m - b
                Vlo[h, s] = lo if lo > 0.0 else 0.0
            else:
                Vlo[h, s] = 0.0


#: Names of the arrays of :func:`_euler_init` (the checkpoint of a resumable run).
EULER_STATE = ("N", "Nsas", "Rsum", "R2sum", "Vup", "Vlo", "pi", "Vbuf")


@njit(cache=True, nogil=True)
def _euler_init(S, A, params):
    """The learner's state before episode 0 (names in :data:`EULER_STATE`)."""
    H = params[0]
    return (np.zeros((S, A), dtype=np.int64), np.zeros((S, A, S), dtype=np.int64), np.zeros((S, A)),
            np.zeros((S, A)), np.zeros((H + 1, S)), np.zeros((H + 1, S)), np.zeros((H, S), dtype=np.int64),
            np.zeros((H + 1, S)))


@njit(cache=True, nogil=True)
def _euler_chunk(P, R, initial, noise, noise_std, v_star, k0, k1, eval_every, rng, params, state,
                 regret_out, returns_out):
    """Episodes ``k0 .. k1-1`` of one seed from ``state`` (updated in place); episode ``k`` is
    written to ``regret_out[k - k0]`` / ``returns_out[k - k0]``."""
    H, L, bs = params
    N, Nsas, Rsum, R2sum, Vup, Vlo, pi, Vbuf = state
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for k in range(k0, k1):
        euler_plan(N, Nsas, Rsum, R2sum, H, L, bs, Vup, Vlo, pi)
        if eval_every > 0 and k % eval_every == 0:
            record_regret_det(k - k0, 1, P, R, initial, v_star, pi, Vbuf, regret_out)
        returns_out[k - k0] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        for h in range(H):
            s, a, r = xs[h], acts[h], rs[h]
            N[s, a] += 1
            Nsas[s, a, xs[h + 1]] += 1
            Rsum[s, a] += r
            R2sum[s, a] += r * r


@njit(cache=True, nogil=True)
def _euler_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed: :func:`_euler_init` then one :func:`_euler_chunk`."""
    state = _euler_init(P.shape[1], P.shape[2], params)
    _euler_chunk(P, R, initial, noise, noise_std, v_star, 0, K, eval_every, rng, params, state,
                 regret_out, returns_out)

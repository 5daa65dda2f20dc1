r"""LSVI-UCB++ (He, Zhao, Zhou & Gu 2023): weighted ridge regression, optimistic and pessimistic
values, monotone updates, rare switching. Linear MDP, N1, :math:`\Sigma_{0,h}=\lambda I`; episode ``k``:

.. math::
    \hat w,\check w,\tilde w=\Sigma_{k,h}^{-1}\sum_{i<k}\bar\sigma_{i,h}^{-2}\phi_h^i
    \{V_{k,h+1},\check V_{k,h+1},V_{k,h+1}^2\}(s_{h+1}^i),\qquad \|\phi\|=\|\phi\|_{\Sigma_{k,h}^{-1}};

if some :math:`\det\Sigma_{k,h'}\ge2\det\Sigma_{k_{\rm last},h'}` (then :math:`k_{\rm last}=k`):
:math:`Q_{k,h}=\min\{r_h+\hat w^\top\phi+\beta\|\phi\|,Q_{k-1,h},H\}`,
:math:`\check Q_{k,h}=\max\{r_h+\check w^\top\phi-\bar\beta\|\phi\|,\check Q_{k-1,h},0\}`, else keep
both; :math:`V,\check V=\max_a`. Play greedily; at the visited :math:`\phi=\phi_h(s_h^k,a_h^k)`:

.. math::
    \bar\sigma=\max\Bigl\{\sqrt{[\tilde w^\top\phi]_{[0,H^2]}-[\hat w^\top\phi]_{[0,H]}^2+E+D+H},
    \ \sqrt H,\ 2d^3H^2\|\phi\|^{1/2}\Bigr\},\quad
    \Sigma_{k+1,h}=\Sigma_{k,h}+\bar\sigma^{-2}\phi\phi^\top,

:math:`E=\min\{\tilde\beta\|\phi\|,H^2\}+\min\{2H\bar\beta\|\phi\|,H^2\}`,
:math:`D=\min\{4d^3H^2(\hat w^\top\phi-\check w^\top\phi+2\bar\beta\|\phi\|),d^3H^3\}`. Radii:
:math:`\beta=c(H\sqrt{d\lambda}+\sqrt dL_1^2)`, :math:`\bar\beta=c(H\sqrt{d\lambda}+\sqrt{d^3H^2}L_2^2)`,
:math:`\tilde\beta=c(H^2\sqrt{d\lambda}+\sqrt{d^3H^4}L_2^2)`, :math:`L_1=\ln(1+dKH/(\delta\lambda))`,
:math:`L_2=\ln(dHK/(\delta\lambda))`, :math:`\lambda=1/H^2`. Main theorem: regret
:math:`\tilde O(d\sqrt{H^3K})` w.h.p. (constants, lower-order terms not given). The paper prints the
floor ``H`` (switch ``sigma_floor``). Reconstructions: the radii's constant, :math:`\lambda`, the
variance estimator, :math:`\sigma^2` clamped at 0. Flat in ``k``: weighted sums aggregated per next state.

Provenance and reconstructions: proofs_notes/lsvi_ucb_pp.md

References: J. He, H. Zhao, D. Zhou, Q. Gu, "Nearly Minimax Optimal Reinforcement Learning for
Linear Markov Decision Processes", ICML 2023, arXiv:2212.06132.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mdptheory.core.linear import feature_view
from mdptheory.core.validation import check_choice, check_delta, check_int, check_real, check_scale
from mdptheory.kernels.ridge import (EXACT_ABOVE, REINVERT_EVERY, ridge_statistics, sherman_morrison,
                                     sherman_morrison_ref, spd_inverse, spd_inverse_ref)
from mdptheory.kernels.sampling import (episode_buffers, greedy_action, init_at_cap, record_regret_det_incremental,
                                        rollout_det)
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound
from mdptheory.learners.lsvi_ucb import use_features

__all__ = ["LSVIUCBPlusPlus", "PPRadii", "pp_backward", "pp_backward_ref", "pp_weight", "pp_weight_ref"]

_CAP = {"H": 0, "remaining": 1}
_FLOOR = ("sqrtH", "H")
_REWARDS = ("auto", "known", "observed")
_LOG2 = math.log(2.0)


@dataclass(frozen=True)
class PPRadii:
    """The constants of one run: ``beta``, ``beta_bar``, ``beta_tilde`` (confidence radii),
    ``lam``, ``floor`` (:math:`\\sqrt H` or ``H``) and ``gamma`` (:math:`2d^3H^2` by default)."""

    beta: float
    beta_bar: float
    beta_tilde: float
    lam: float
    floor: float
    gamma: float


def pp_weight_ref(f, Sinv, wh, wc, wt, H, d, rad: PPRadii) -> float:
    r""":math:`\bar\sigma_{k,h}` at the visited feature ``f`` (Algorithm box, variance step),
    vectorised twin of :func:`pp_weight`. ``Sinv`` = :math:`\Sigma_{k,h}^{-1}`; ``wh, wc, wt`` =
    :math:`\hat w,\check w,\tilde w`. :math:`\sigma^2` is clamped at 0 before the root."""
    nrm = math.sqrt(max(float(f @ Sinv @ f), 0.0))
    vh, vc, vt = float(wh @ f), float(wc @ f), float(wt @ f)
    var = min(max(vt, 0.0), H * H) - min(max(vh, 0.0), H) ** 2
    E = min(rad.beta_tilde * nrm, H * H) + min(2.0 * H * rad.beta_bar * nrm, H * H)
    D = min(4.0 * d ** 3 * H * H * (vh - vc + 2.0 * rad.beta_bar * nrm), d ** 3 * H ** 3)
    sig = math.sqrt(max(var + E + D + H, 0.0))
    return max(sig, rad.floor, rad.gamma * math.sqrt(nrm))


def pp_backward_ref(phi, Sinv, Mw, cr, V, Vc, Q, Qc, Rk, observed, switch, bscale, rad: PPRadii, cap="H"):
    r"""One episode's backward pass (vectorised twin of :func:`pp_backward`), in place on the
    persistent ``V, Vc (H+1, S)``, ``Q, Qc (H, S, A)``; returns ``(w_hat, w_check, w_tilde)``
    ``(H, d)``. Regressions every episode; on a switch episode ``Q``/``Qc`` are updated
    monotonically and ``V``/``Vc`` recomputed. ``Mw (H, S, d)`` = :math:`\sum_i\bar\sigma_i^{-2}
    \phi_h^i1\{s^i_{h+1}=s'\}`, ``cr (H, d)`` = :math:`\sum_i\bar\sigma_i^{-2}\phi_h^ir_h^i`."""
    H, S, A, d = phi.shape
    W = np.empty((3, H, d))
    for h in range(H - 1, -1, -1):
        W[0, h] = Sinv[h] @ (Mw[h].T @ V[h + 1])
        W[1, h] = Sinv[h] @ (Mw[h].T @ Vc[h + 1])
        W[2, h] = Sinv[h] @ (Mw[h].T @ (V[h + 1] * V[h + 1]))
        if switch:
            nrm = np.sqrt(np.maximum(np.einsum("sad,de,sae->sa", phi[h], Sinv[h], phi[h]), 0.0))
            r = phi[h] @ (Sinv[h] @ cr[h]) if observed else Rk[h]
            ch = float(H) if cap == "H" else float(H - h)
            Q[h] = np.minimum(np.minimum(r + phi[h] @ W[0, h] + bscale * rad.beta * nrm, Q[h]), ch)
            Qc[h] = np.maximum(np.maximum(r + phi[h] @ W[1, h] - bscale * rad.beta_bar * nrm, Qc[h]), 0.0)
            V[h] = Q[h].max(axis=1)
            Vc[h] = Qc[h].max(axis=1)
    return W[0], W[1], W[2]


class LSVIUCBPlusPlus(Learner):
    r"""LSVI-UCB++ of He, Zhao, Zhou & Gu (2023); see the module docstring.

    Parameters
    ----------
    c : float >= 0, default 1.0
        Absolute constant multiplying the three radii (the paper gives them as ``O(.)``).
    lam : float > 0 or None, default None
        Ridge parameter; ``None`` = :math:`1/H^2`.
    delta : float in (0, 1), default 0.01
    bonus_scale : float >= 0, default 1.0
        Multiplies the bonuses :math:`\beta\|\phi\|` of ``Q`` and :math:`\bar\beta\|\phi\|` of
        ``Q``-check (not the radii inside :math:`\bar\sigma`); 1 = theory mode.
    cap : {"H", "remaining"}, default "H"
    sigma_floor : {"sqrtH", "H"}, default "sqrtH"
        Second term of :math:`\bar\sigma`: :math:`\sqrt H` (the correction the analysis needs)
        or ``H`` (as printed in the paper).
    gamma : float > 0 or None, default None
        Coefficient of :math:`\|\phi\|^{1/2}` in :math:`\bar\sigma`; ``None`` = :math:`2d^3H^2`.
    rewards : {"auto", "known", "observed"}, default "auto"
        ``known``: :math:`r_h(s,a)` of the model (the paper); ``observed``: one more weighted
        regression of the observed rewards; ``auto``: known iff the reward law is deterministic.

    Notes
    -----
    N1, INHOM; features :math:`\|\phi\|\le1`. Per episode :math:`O(H(S_{\rm seen}d+d^2))`
    plus :math:`O(HSAd^2)` on the :math:`O(dH\log K)` switch episodes; flat in ``k``.
    """

    name = "LSVI-UCB++"
    normalization = "N1"
    uses_features = True

    def __init__(self, *, c: float = 1.0, lam: float | None = None, delta: float = 0.01,
                 bonus_scale: float = 1.0, cap: str = "H", sigma_floor: str = "sqrtH",
                 gamma: float | None = None, rewards: str = "auto"):
        self.c = check_scale("c", c)
        self.lam = None if lam is None else check_real("lam", lam, 0.0, low_open=True)
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.cap = check_choice("cap", cap, _CAP)
        self.sigma_floor = check_choice("sigma_floor", sigma_floor, _FLOOR)
        self.gamma = None if gamma is None else check_real("gamma", gamma, 0.0, low_open=True)
        self.rewards = check_choice("rewards", rewards, _REWARDS)

    def radii(self, d: int, H: int, K: int) -> PPRadii:
        """The run's constants (see the module docstring)."""
        lam = 1.0 / H ** 2 if self.lam is None else self.lam
        L1 = math.log(1.0 + d * K * H / (self.delta * lam))
        L2 = math.log(d * H * K / (self.delta * lam))
        base = H * math.sqrt(d * lam)
        return PPRadii(beta=self.c * (base + math.sqrt(d) * L1 ** 2),
                       beta_bar=self.c * (base + math.sqrt(d ** 3 * H ** 2) * L2 ** 2),
                       beta_tilde=self.c * (H * base + math.sqrt(d ** 3 * H ** 4) * L2 ** 2),
                       lam=lam, floor=math.sqrt(H) if self.sigma_floor == "sqrtH" else float(H),
                       gamma=2.0 * d ** 3 * H ** 2 if self.gamma is None else self.gamma)

    def prepare(self, mdp, episodes):
        tab, phi = feature_view(mdp)
        super().prepare(tab, episodes)
        use_features(self, tab, phi)
        self._rad = self.radii(self._d, tab.H, self._K)

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        d, lam = self._d, self._rad.lam
        self._Sig = np.repeat(lam * np.eye(d)[None], H, axis=0)
        self._Sinv = np.repeat(np.eye(d)[None] / lam, H, axis=0)
        self._logdet = np.full(H, d * math.log(lam))
        self._logdet_last = self._logdet.copy()
        self._Mw = np.zeros((H, S, d))
        self._cr = np.zeros((H, d))
        caps = np.full(H, float(H)) if self.cap == "H" else H - np.arange(H, dtype=float)
        self._Q = np.repeat(caps[:, None, None], S * A, axis=1).reshape(H, S, A)
        self._Qc = np.zeros((H, S, A))
        self._Vopt = np.zeros((H + 1, S))
        self._Vopt[:H] = caps[:, None]
        self._Vc = np.zeros((H + 1, S))
        self._nupd = np.zeros(H, dtype=np.int64)
        self._switches = 0

    def begin_episode(self, k):
        switch = bool(np.any(self._logdet >= _LOG2 + self._logdet_last))
        self._W = pp_backward_ref(self._phi, self._Sinv, self._Mw, self._cr, self._Vopt, self._Vc, self._Q,
                                  self._Qc, self._Rk, self._observed, switch, self.bonus_scale, self._rad, self.cap)
        if switch:
            self._logdet_last = self._logdet.copy()
            self._switches += 1
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def observe(self, h, s, a, r, s_next):
        f = self._phi[h, s, a]
        sb = pp_weight_ref(f, self._Sinv[h], self._W[0][h], self._W[1][h], self._W[2][h], float(self._H),
                           self._d, self._rad)
        wgt = 1.0 / (sb * sb)
        self._Sig[h] += wgt * np.outer(f, f)
        self._nupd[h] += 1
        self._Sinv[h], _, den = sherman_morrison_ref(self._Sinv[h], f, wgt)
        if den > EXACT_ABOVE or self._nupd[h] % REINVERT_EVERY == 0:
            self._Sinv[h] = spd_inverse_ref(self._Sig[h])
        self._logdet[h] += math.log(den)
        self._Mw[h, s_next] += wgt * f
        self._cr[h] += wgt * r * f

    def compiled(self, mdp, episodes):
        rad = self._rad
        return CompiledLoop(_pp_loop, (int(mdp.horizon), self._phi, self._Rk, int(self._observed),
                                       self.bonus_scale, rad.beta, rad.beta_bar, rad.beta_tilde, rad.lam,
                                       rad.floor, rad.gamma, _CAP[self.cap]))

    def bound(self, S, A, H, K, delta=None, *, d=None):
        r"""He et al. 2023, main theorem, as a rate: :math:`d\sqrt{H^3K}\,\iota`,
        :math:`\iota=\ln(dHK/\delta)`, constants 1, lower-order terms omitted (the paper's are
        polynomial in ``d, H`` and not given here); N1, INHOM, w.p. :math:`\ge1-\delta`. ``d``
        defaults to that of the last prepared model, else ``S A``."""
        K, delta = self._bound_args(S, A, H, K, delta)
        if d is None:
            d = getattr(self, "_d", S * A)
        d = check_int("d", d, 1)
        lead = d * np.sqrt(float(H) ** 3 * K) * np.log(d * H * K / delta)
        return regret_bound(lead, 0.0, H=H, K=K, normalization="N1", setting="INHOM",
                            theorem="He, Zhao, Zhou & Gu 2023, main theorem (rate, constants 1)",
                            explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def pp_weight(f, Sinv, wh, wc, wt, H, d, beta_bar, beta_tilde, floor, gamma):
    """Compiled twin of :func:`pp_weight_ref` (loops; radii passed as scalars)."""
    n = f.shape[0]
    quad = 0.0
    vh = 0.0
    vc = 0.0
    vt = 0.0
    for i in range(n):
        t = 0.0
        for j in range(n):
            t += Sinv[i, j] * f[j]
        quad += f[i] * t
        vh += wh[i] * f[i]
        vc += wc[i] * f[i]
        vt += wt[i] * f[i]
    nrm = math.sqrt(quad) if quad > 0.0 else 0.0
    H2 = H * H
    d3 = float(d) ** 3
    a = min(max(vt, 0.0), H2)
    b = min(max(vh, 0.0), H)
    var = a - b * b
    E = min(beta_tilde * nrm, H2) + min(2.0 * H * beta_bar * nrm, H2)
    D = min(4.0 * d3 * H2 * (vh - vc + 2.0 * beta_bar * nrm), d3 * H2 * H)
    s2 = var + E + D + H
    sig = math.sqrt(s2) if s2 > 0.0 else 0.0
    return max(sig, floor, gamma * math.sqrt(nrm))


@njit(cache=True, nogil=True)
def pp_backward(phi, Sinv, Mw, cr, V, Vc, Q, Qc, Rk, observed, switch, bscale, beta, beta_bar, cap,
                succ, nsucc, b, W, tmp):
    """Compiled twin of :func:`pp_backward_ref`: the regressions sum over the observed next
    states ``succ[h, :nsucc[h]]`` only; writes ``W (3, H, d)`` (hat, check, tilde); ``b (3, d)``
    and ``tmp (d,)`` are buffers."""
    H, S, A, d = phi.shape
    for h in range(H - 1, -1, -1):
        for i in range(d):
            b[0, i] = 0.0
            b[1, i] = 0.0
            b[2, i] = 0.0
        for j in range(nsucc[h]):
            y = succ[h, j]
            v = V[h + 1, y]
            vc = Vc[h + 1, y]
            for i in range(d):
                m = Mw[h, y, i]
                b[0, i] += v * m
                b[1, i] += vc * m
                b[2, i] += (v * v) * m
        for t in range(3):
            for i in range(d):
                acc = 0.0
                for l in range(d):
                    acc += Sinv[h, i, l] * b[t, l]
                W[t, h, i] = acc
        if switch:
            if observed == 1:
                for i in range(d):
                    acc = 0.0
                    for l in range(d):
                        acc += Sinv[h, i, l] * cr[h, l]
                    tmp[i] = acc
            ch = float(H) if cap == 0 else float(H - h)
            for s in range(S):
                best = -np.inf
                bestc = -np.inf
                for a in range(A):
                    quad = 0.0
                    mh = 0.0
                    mc = 0.0
                    rr = 0.0
                    for i in range(d):
                        fi = phi[h, s, a, i]
                        t = 0.0
                        for l in range(d):
                            t += Sinv[h, i, l] * phi[h, s, a, l]
                        quad += fi * t
                        mh += fi * W[0, h, i]
                        mc += fi * W[1, h, i]
                        rr += fi * tmp[i]
                    nrm = math.sqrt(quad) if quad > 0.0 else 0.0
                    r = rr if observed == 1 else Rk[h, s, a]
                    qv = r + mh + bscale * beta * nrm
                    if Q[h, s, a] < qv:
                        qv = Q[h, s, a]
                    if qv > ch:
                        qv = ch
                    cv = r + mc - bscale * beta_bar * nrm
                    if Qc[h, s, a] > cv:
                        cv = Qc[h, s, a]
                    if cv < 0.0:
                        cv = 0.0
                    Q[h, s, a] = qv
                    Qc[h, s, a] = cv
                    if qv > best:
                        best = qv
                    if cv > bestc:
                        bestc = cv
                V[h, s] = best
                Vc[h, s] = bestc


@njit(cache=True, nogil=True)
def _pp_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    H, phi, Rk, observed, bscale, beta, beta_bar, beta_tilde, lam, floor, gamma, cap = params
    S = P.shape[1]
    A = P.shape[2]
    d = phi.shape[3]
    Hf = float(H)
    Sig, Sinv, cr, Mw, succ, nsucc, seen = ridge_statistics(H, S, d, lam)
    logdet = np.full(H, d * math.log(lam))
    logdet_last = logdet.copy()
    Q = np.empty((H, S, A))
    Qc = np.zeros((H, S, A))
    V = np.zeros((H + 1, S))
    Vc = np.zeros((H + 1, S))
    init_at_cap(Q, V, cap)
    W = np.empty((3, H, d))
    b = np.empty((3, d))
    tmp = np.zeros(d)
    u = np.empty(d)
    Vb, pi, pi_prev, xs, acts, rs = episode_buffers(H, S)
    nupd = 0
    for k in range(K):
        switch = False
        for h in range(H):
            if logdet[h] >= _LOG2 + logdet_last[h]:
                switch = True
        pp_backward(phi, Sinv, Mw, cr, V, Vc, Q, Qc, Rk, observed, switch, bscale, beta, beta_bar, cap,
                    succ, nsucc, b, W, tmp)
        if switch:
            for h in range(H):
                logdet_last[h] = logdet[h]
        for h in range(H):
            for s in range(S):
                pi[h, s] = greedy_action(Q, h, s)[0]
        record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        nupd += 1
        for h in range(H):
            x, a, y = xs[h], acts[h], xs[h + 1]
            f = phi[h, x, a]
            sb = pp_weight(f, Sinv[h], W[0, h], W[1, h], W[2, h], Hf, d, beta_bar, beta_tilde, floor, gamma)
            wgt = 1.0 / (sb * sb)
            for i in range(d):
                for l in range(d):
                    Sig[h, i, l] += wgt * (f[i] * f[l])
            den = sherman_morrison(Sinv[h], f, wgt, u)
            if den > EXACT_ABOVE or nupd % REINVERT_EVERY == 0:
                spd_inverse(Sig[h], Sinv[h])
            logdet[h] += math.log(den)
            rv = rs[h]
            for i in range(d):
                Mw[h, y, i] += wgt * f[i]
                cr[h, i] += (wgt * rv) * f[i]
            if not seen[h, y]:
                seen[h, y] = True
                succ[h, nsucc[h]] = y
                nsucc[h] += 1

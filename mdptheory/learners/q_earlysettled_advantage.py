r"""Q-EarlySettled-Advantage (Li, Shi, Chen, Gu & Chi, NeurIPS 2021, arXiv 2110.04645):
model-free Q-learning with an upper (UCB) and a lower (LCB) Hoeffding estimate, a
reference-advantage estimate, and an *early-settled* reference.

Every step ``(h, s, a) -> (r, s')`` with ``n = N_h(s,a)`` and ``eta = (H+1)/(H+n)`` updates

.. math::

    Q^{\rm UCB}_h &\leftarrow (1-\eta)Q^{\rm UCB}_h + \eta\,(r + V_{h+1}(s') + c_b\sqrt{H^3\iota/n}),\\
    Q^{\rm LCB}_h &\leftarrow (1-\eta)Q^{\rm LCB}_h + \eta\,(r + V^{\rm LCB}_{h+1}(s') - c_b\sqrt{H^3\iota/n}),\\
    Q^{\rm R}_h &\leftarrow (1-\eta)Q^{\rm R}_h + \eta\,(r + V_{h+1}(s') - V^{\rm R}_{h+1}(s') + \mu^{\rm ref} + b^{\rm R}),

where :math:`\mu^{\rm ref}` is the plain ``1/n`` average of :math:`V^{\rm R}_{h+1}(s')`, the
advantage moments are ``eta``-weighted averages of ``V - V^R``,
:math:`B = c_b\sqrt{\iota/n}(\sqrt{\hat\sigma^{\rm ref}} + \sqrt H\sqrt{\hat\sigma^{\rm adv}})`,
:math:`b^{\rm R} = B + (1-\eta)(B - B_{\rm prev})/\eta + c_b H^2\iota/n^{3/4}`; then
:math:`Q_h = \min\{Q^{\rm R}_h, Q^{\rm UCB}_h, Q_h\}`, :math:`V_h(s)=\max_a Q_h(s,a)`,
:math:`V^{\rm LCB}_h(s) = \max\{\max_a Q^{\rm LCB}_h(s,a), V^{\rm LCB}_h(s)\}`, and the
reference follows ``V`` while ``V_h(s) - V^LCB_h(s) > 1``, then is set one last time and
**settled** (flag per ``(h, s)``).

Three bugs of a public implementation that this file does *not* repeat (notes, section 6):
(1) the LCB target *subtracts* the bonus; (2) ``Q^LCB`` is **not** part of the final ``min``;
(3) the settle flag is kept per ``(h, s)``, not per state.

Provenance (``proofs_notes/q_earlysettled_advantage.md``): structure and step size are [R,
confirmed by a third-party implementation]; ``iota = log(S A T / delta)`` and the threshold 1
are [R]; ``c_b`` is an unspecified universal constant in the paper -- default 1
(**reconstruction**).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import categorical, env_step, greedy_policy, record_regret_det_incremental
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, _as_K, _check_dims
from mdptheory.learners.mvp import check_delta, check_scale

__all__ = ["QEarlySettledAdvantage"]


class QEarlySettledAdvantage(Learner):
    r"""Q-EarlySettled-Advantage (plain-Python teaching path + compiled loop).

    Parameters
    ----------
    delta : float
        Failure probability; ``iota = log(S A T / delta)``, ``T = K H``.
    bonus_scale : float
        Multiplies every bonus term (i.e. ``c_b``); 1 = theory with ``c_b = 1``.
    c_b : float
        The paper's universal bonus constant (default 1, reconstruction).
    settle_threshold : float
        Reference accuracy: the reference is settled once ``V - V^LCB <= settle_threshold``
        (paper: 1 for rewards in ``[0, 1]``).

    Notes
    -----
    Normalisation N1; stage-dependent tables; ``O(SAH)`` memory; ``O(A)`` time per step.
    The played policy is greedy in the Q-table at the start of the episode.
    """

    name = "Q-EarlySettled-Advantage"
    normalization = "N1"

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0, c_b: float = 1.0,
                 settle_threshold: float = 1.0):
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.c_b = check_scale("c_b", c_b)
        self.settle_threshold = check_scale("settle_threshold", settle_threshold)

    def _iota(self, S, A, H) -> float:
        K = getattr(self, "_K", None)
        if K is None:
            raise ValueError("QEarlySettledAdvantage needs K for iota = log(SAT/delta): call "
                             "prepare(mdp, episodes) (mdptheory.run does) before reset()")
        return math.log(S * A * H * float(K) / self.delta)

    # -- teaching path ------------------------------------------------------------------
    def reset(self, S, A, H, rng=None) -> None:
        super().reset(S, A, H, rng)
        self._iota_ = self._iota(S, A, H)
        self._N = np.zeros((H, S, A), dtype=np.int64)
        self._Q = np.full((H, S, A), float(H))
        self._Qucb = np.full((H, S, A), float(H))
        self._Qlcb = np.zeros((H, S, A))
        self._QR = np.full((H, S, A), float(H))
        self._V = np.zeros((H + 1, S))
        self._V[:H] = H
        self._VR = np.zeros((H + 1, S))
        self._VR[:H] = H
        self._Vlcb = np.zeros((H + 1, S))
        self._mu_ref = np.zeros((H, S, A))
        self._sig_ref = np.zeros((H, S, A))
        self._mu_adv = np.zeros((H, S, A))
        self._sig_adv = np.zeros((H, S, A))
        self._BR = np.zeros((H, S, A))
        self._uref = np.ones((H, S), dtype=bool)
        self._pi = np.zeros((H, S), dtype=np.int64)

    def begin_episode(self, k: int) -> None:
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def policy(self) -> np.ndarray:
        return self._pi

    def act(self, h, s) -> int:
        return int(self._pi[h, s])

    def observe(self, h, s, a, r, s_next) -> None:
        H = self._H
        iota = self._iota_
        cb = self.bonus_scale * self.c_b
        self._N[h, s, a] += 1
        n = float(self._N[h, s, a])
        eta = (H + 1.0) / (H + n)
        v = self._V[h + 1, s_next]
        vr = self._VR[h + 1, s_next]
        vl = self._Vlcb[h + 1, s_next]
        bonus = cb * math.sqrt(H ** 3 * iota / n)
        # 1. update-ucb-q (Alg. 2): Hoeffding UCB Q-learning of Jin et al.
        self._Qucb[h, s, a] = (1.0 - eta) * self._Qucb[h, s, a] + eta * (r + v + bonus)
        # 2. update-lcb-q: the bonus is SUBTRACTED (bug 1 of the public implementation adds it)
        self._Qlcb[h, s, a] = (1.0 - eta) * self._Qlcb[h, s, a] + eta * (r + vl - bonus)
        # 3. update-moments: plain 1/n average for the reference, eta-weighted for the advantage
        self._mu_ref[h, s, a] = (1.0 - 1.0 / n) * self._mu_ref[h, s, a] + (1.0 / n) * vr
        self._sig_ref[h, s, a] = (1.0 - 1.0 / n) * self._sig_ref[h, s, a] + (1.0 / n) * (vr * vr)
        self._mu_adv[h, s, a] = (1.0 - eta) * self._mu_adv[h, s, a] + eta * (v - vr)
        self._sig_adv[h, s, a] = (1.0 - eta) * self._sig_adv[h, s, a] + eta * ((v - vr) * (v - vr))
        mr = self._mu_ref[h, s, a]
        ma = self._mu_adv[h, s, a]
        var_ref = max(self._sig_ref[h, s, a] - mr * mr, 0.0)
        var_adv = max(self._sig_adv[h, s, a] - ma * ma, 0.0)
        # update-bonus and update-ucb-q-advantage
        B = cb * math.sqrt(iota / n) * (math.sqrt(var_ref) + math.sqrt(H) * math.sqrt(var_adv))
        dR = B - self._BR[h, s, a]
        self._BR[h, s, a] = B
        bR = B + (1.0 - eta) * dR / eta + cb * H * H * iota / n ** 0.75
        self._QR[h, s, a] = (1.0 - eta) * self._QR[h, s, a] + eta * (r + v - vr + mr + bR)
        # 4. combine: Q^LCB is NOT part of the min (bug 2 of the public implementation)
        self._Q[h, s, a] = min(self._QR[h, s, a], self._Qucb[h, s, a], self._Q[h, s, a])
        self._V[h, s] = self._Q[h, s].max()
        self._Vlcb[h, s] = max(self._Qlcb[h, s].max(), self._Vlcb[h, s])
        # 5. early-settled reference, one flag per (h, s) (bug 3 keeps one per state)
        if self._V[h, s] - self._Vlcb[h, s] > self.settle_threshold:
            self._VR[h, s] = self._V[h, s]
        elif self._uref[h, s]:
            self._VR[h, s] = self._V[h, s]
            self._uref[h, s] = False

    # -- compiled path --------------------------------------------------------------------
    def compiled(self, mdp, episodes) -> CompiledLoop:
        S, A, H = mdp.S, mdp.A, mdp.H
        iota = math.log(S * A * H * float(episodes) / self.delta)
        params = (int(H), iota, self.bonus_scale * self.c_b, self.settle_threshold)
        return CompiledLoop(_qes_loop, params)

    # -- theory ---------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None) -> RegretBound:
        r"""``min{ sqrt(S A H^3 K) iota^2 + S A H^6 iota^2, H K }`` (Li et al. 2021 as restated
        in Zhang et al. 2024, Table 1; N1, stage-dependent, unit constants;
        ``iota = log(S A K H / delta)``)."""
        delta = self.delta if delta is None else delta
        _check_dims(S, A, H, delta)
        K = _as_K(K)
        iota = np.log(S * A * H * K / delta)
        lead = np.sqrt(S * A * H ** 3 * K) * iota ** 2
        low = S * A * H ** 6 * iota ** 2
        tot = np.minimum(lead + low, H * K)
        lead_c = np.minimum(lead, tot)
        return RegretBound(value=tot, leading=lead_c, lower_order=tot - lead_c,
                           normalization="N1", setting="INHOM",
                           theorem="Li, Shi, Chen, Gu & Chi (NeurIPS 2021), Theorem 1: "
                                   "O~(sqrt(SAH^3K) + SAH^6); unit constants",
                           explicit_constants=False, holds_with_probability=1.0 - delta)


@njit(cache=True, nogil=True)
def _qes_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    H, iota, cb, thr = params
    S = P.shape[1]
    A = P.shape[2]
    N = np.zeros((H, S, A), dtype=np.int64)
    Q = np.full((H, S, A), float(H))
    Qucb = np.full((H, S, A), float(H))
    Qlcb = np.zeros((H, S, A))
    QR = np.full((H, S, A), float(H))
    V = np.zeros((H + 1, S))
    VR = np.zeros((H + 1, S))
    for h in range(H):
        for s in range(S):
            V[h, s] = H
            VR[h, s] = H
    Vlcb = np.zeros((H + 1, S))
    mu_ref = np.zeros((H, S, A))
    sig_ref = np.zeros((H, S, A))
    mu_adv = np.zeros((H, S, A))
    sig_adv = np.zeros((H, S, A))
    BR = np.zeros((H, S, A))
    uref = np.ones((H, S), dtype=np.bool_)
    pi = np.zeros((H, S), dtype=np.int64)
    Vbuf = np.zeros((H + 1, S))
    pi_prev = np.full((H, S), -1, dtype=np.int64)  # last evaluated policy
    sqH = math.sqrt(H)
    # n ** 0.75 by count (the same pow call, so the same bits): pow was ~17% of the loop.
    # Counts reach K at early stages, so the table covers 0..K (capped at 2**22 entries,
    # 32 MiB; pow beyond that)
    n_tab = K + 1 if K + 1 < 4194304 else 4194304
    pow34 = np.empty(n_tab)
    for i in range(n_tab):
        pow34[i] = float(i) ** 0.75
    for k in range(K):
        greedy_policy(Q, pi)
        record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, Vbuf, regret_out)
        s = categorical(rng, initial)
        ret = 0.0
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            N[h, s, a] += 1
            ni = N[h, s, a]
            n = float(ni)
            n34 = pow34[ni] if ni < n_tab else n ** 0.75
            eta = (H + 1.0) / (H + n)
            v = V[h + 1, s2]
            vr = VR[h + 1, s2]
            vl = Vlcb[h + 1, s2]
            bonus = cb * math.sqrt(H ** 3 * iota / n)
            Qucb[h, s, a] = (1.0 - eta) * Qucb[h, s, a] + eta * (r + v + bonus)
            Qlcb[h, s, a] = (1.0 - eta) * Qlcb[h, s, a] + eta * (r + vl - bonus)
            mu_ref[h, s, a] = (1.0 - 1.0 / n) * mu_ref[h, s, a] + (1.0 / n) * vr
            sig_ref[h, s, a] = (1.0 - 1.0 / n) * sig_ref[h, s, a] + (1.0 / n) * (vr * vr)
            mu_adv[h, s, a] = (1.0 - eta) * mu_adv[h, s, a] + eta * (v - vr)
            sig_adv[h, s, a] = (1.0 - eta) * sig_adv[h, s, a] + eta * ((v - vr) * (v - vr))
            mr = mu_ref[h, s, a]
            ma = mu_adv[h, s, a]
            var_ref = max(sig_ref[h, s, a] - mr * mr, 0.0)
            var_adv = max(sig_adv[h, s, a] - ma * ma, 0.0)
            B = cb * math.sqrt(iota / n) * (math.sqrt(var_ref) + sqH * math.sqrt(var_adv))
            dR = B - BR[h, s, a]
            BR[h, s, a] = B
            bR = B + (1.0 - eta) * dR / eta + cb * H * H * iota / n34
            QR[h, s, a] = (1.0 - eta) * QR[h, s, a] + eta * (r + v - vr + mr + bR)
            q = Q[h, s, a]
            if QR[h, s, a] < q:
                q = QR[h, s, a]
            if Qucb[h, s, a] < q:
                q = Qucb[h, s, a]
            Q[h, s, a] = q
            best = Q[h, s, 0]
            lbest = Qlcb[h, s, 0]
            for b_ in range(1, A):
                if Q[h, s, b_] > best:
                    best = Q[h, s, b_]
                if Qlcb[h, s, b_] > lbest:
                    lbest = Qlcb[h, s, b_]
            V[h, s] = best
            if lbest > Vlcb[h, s]:
                Vlcb[h, s] = lbest
            if V[h, s] - Vlcb[h, s] > thr:
                VR[h, s] = V[h, s]
            elif uref[h, s]:
                VR[h, s] = V[h, s]
                uref[h, s] = False
            ret += r
            s = s2
        returns_out[k] = ret

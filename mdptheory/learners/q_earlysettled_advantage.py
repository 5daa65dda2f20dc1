r"""Q-EarlySettled-Advantage (Li, Shi, Chen, Gu & Chi 2021, Algorithms 1-2): Q-learning with
upper and lower confidence estimates, a reference-advantage estimate and an early-settled
reference. Each step :math:`(h,s,a)\to(r,s')`, with :math:`n=N_h(s,a)` and
:math:`\eta=(H+1)/(H+n)`, updates

.. math::

    Q^{\rm UCB}_h &\leftarrow (1-\eta)Q^{\rm UCB}_h+\eta\,(r+V_{h+1}(s')+c_b\sqrt{H^3\iota/n}),\\
    Q^{\rm LCB}_h &\leftarrow (1-\eta)Q^{\rm LCB}_h+\eta\,(r+V^{\rm LCB}_{h+1}(s')-c_b\sqrt{H^3\iota/n}),\\
    Q^{\rm R}_h &\leftarrow (1-\eta)Q^{\rm R}_h+\eta\,(r+V_{h+1}(s')-V^{\rm R}_{h+1}(s')+\mu^{\rm ref}+b^{\rm R}),

where :math:`\mu^{\rm ref}` is the ``1/n`` average of :math:`V^{\rm R}_{h+1}(s')` and the
advantage moments are :math:`\eta`-weighted averages of :math:`V_{h+1}-V^{\rm R}_{h+1}`,
:math:`B=c_b\sqrt{\iota/n}\,(\sqrt{\hat\sigma^{\rm ref}}+\sqrt H\sqrt{\hat\sigma^{\rm adv}})`
(empirical variances), :math:`b^{\rm R}=B+(1-\eta)(B-B_{\rm prev})/\eta+c_bH^2\iota/n^{3/4}`.
Then :math:`Q_h=\min\{Q^{\rm R}_h,Q^{\rm UCB}_h,Q_h\}`, :math:`V_h=\max_aQ_h`,
:math:`V^{\rm LCB}_h=\max\{\max_aQ^{\rm LCB}_h,V^{\rm LCB}_h\}`; the reference follows
:math:`V_h(s)` while :math:`V_h(s)-V^{\rm LCB}_h(s)>1`, is then set once more and settled
(one flag per :math:`(h,s)`). :math:`\iota=\log(SAT/\delta)`, :math:`T=KH`. Defaults
instantiate Theorem 1, :math:`\tilde O(\sqrt{SAH^3K}+SAH^6)` (N1, stage-dependent).

Provenance and reconstructions: proofs_notes/q_earlysettled_advantage.md.

References: Li, Shi, Chen, Gu & Chi, "Breaking the sample complexity barrier to
regret-optimal model-free reinforcement learning", NeurIPS 2021 (arXiv 2110.04645).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_delta, check_scale
from mdptheory.kernels.sampling import greedy_policy, record_regret_det_incremental, rollout_det
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound
from mdptheory.learners.resumable import ResumableLoop
from mdptheory.learners.ucb_advantage import advantage_regret_bound

__all__ = ["QEarlySettledAdvantage"]


class QEarlySettledAdvantage(Learner):
    r"""Q-EarlySettled-Advantage.

    Parameters
    ----------
    delta : float
        Failure probability, in ``(0, 1)``; ``iota = log(S A T / delta)``, ``T = K H``.
    bonus_scale : float
        Multiplies every bonus term, i.e. ``c_b`` (``>= 0``; 1 = theory with ``c_b = 1``).
    c_b : float
        The paper's universal bonus constant (``>= 0``; unspecified there, default 1: a
        reconstruction).
    settle_threshold : float
        Reference accuracy (``>= 0``): the reference is settled once ``V - V^LCB`` is at most
        this (the paper's 1 for rewards in ``[0, 1]``).

    Notes
    -----
    Normalisation N1; stage-dependent tables; ``O(SAH)`` memory; ``O(A)`` time per step.
    The played policy is greedy in the Q-table at the start of the episode. ``K`` enters
    ``iota``, so :meth:`prepare` must run before :meth:`reset` (:func:`mdptheory.run` does).
    """

    name = "Q-EarlySettled-Advantage"
    normalization = "N1"

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0, c_b: float = 1.0,
                 settle_threshold: float = 1.0):
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.c_b = check_scale("c_b", c_b)
        self.settle_threshold = check_scale("settle_threshold", settle_threshold)

    def _iota(self, S, A, H, K) -> float:
        return math.log(S * A * H * float(K) / self.delta)

    # -- teaching path -------------------------------------------------------------------
    def reset(self, S, A, H, rng=None) -> None:
        super().reset(S, A, H, rng)
        K = getattr(self, "_K", None)
        if K is None:
            raise ValueError("QEarlySettledAdvantage needs K for iota = log(SAT/delta): call "
                             "prepare(mdp, episodes) (mdptheory.run does) before reset()")
        self._iota_ = self._iota(S, A, H, K)
        self._N = np.zeros((H, S, A), dtype=np.int64)
        # the three Q-learning estimates share the step size eta: one (H, S, A, 3) table
        # updated as a vector, with a named view per estimate
        self._Q3 = np.zeros((H, S, A, 3))
        self._Q3[..., [0, 2]] = H
        self._Qucb, self._Qlcb, self._QR = (self._Q3[..., i] for i in range(3))
        # moments: mean and second moment of V^R_{h+1}(s') (weights 1/n), of the advantage
        # V_{h+1}(s') - V^R_{h+1}(s') (weights eta)
        self._moments = np.zeros((H, S, A, 4))
        self._BR = np.zeros((H, S, A))                      # B of the previous visit
        self._Q = np.full((H, S, A), float(H))
        self._V = np.zeros((H + 1, S))
        self._V[:H] = H
        self._VR = self._V.copy()                           # the reference V^R
        self._Vlcb = np.zeros((H + 1, S))
        self._uref = np.ones((H, S), dtype=bool)            # not settled yet, per (h, s)
        self._pi = np.zeros((H, S), dtype=np.int64)

    def begin_episode(self, k: int) -> None:
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def observe(self, h, s, a, r, s_next) -> None:
        H, iota = self._H, self._iota_
        cb = self.bonus_scale * self.c_b
        self._N[h, s, a] += 1
        n = float(self._N[h, s, a])
        eta = (H + 1.0) / (H + n)
        v, vr, vl = self._V[h + 1, s_next], self._VR[h + 1, s_next], self._Vlcb[h + 1, s_next]
        # update-moments (Alg. 2): plain 1/n average for the reference, eta for the advantage
        w = np.array([1.0 / n, 1.0 / n, eta, eta])
        mom = self._moments[h, s, a]
        mom[:] = (1.0 - w) * mom + w * np.array([vr, vr * vr, v - vr, (v - vr) * (v - vr)])
        mr, sr, ma, sa = mom.tolist()
        var_ref = max(sr - mr * mr, 0.0)
        var_adv = max(sa - ma * ma, 0.0)
        # update-bonus
        B = cb * math.sqrt(iota / n) * (math.sqrt(var_ref) + math.sqrt(H) * math.sqrt(var_adv))
        bR = B + (1.0 - eta) * (B - self._BR[h, s, a]) / eta + cb * H * H * iota / n ** 0.75
        self._BR[h, s, a] = B
        # update-ucb-q, update-lcb-q, update-ucb-q-advantage, as one vector: the LCB target
        # SUBTRACTS the Hoeffding bonus (bug 1 of a public implementation adds it)
        bonus = cb * math.sqrt(H ** 3 * iota / n)
        q3 = self._Q3[h, s, a]
        q3[:] = (1.0 - eta) * q3 + eta * np.array([r + v + bonus, r + vl - bonus, r + v - vr + mr + bR])
        # Q^LCB is NOT part of the min (bug 2 of a public implementation)
        self._Q[h, s, a] = min(self._QR[h, s, a], self._Qucb[h, s, a], self._Q[h, s, a])
        self._V[h, s] = self._Q[h, s].max()
        self._Vlcb[h, s] = max(self._Qlcb[h, s].max(), self._Vlcb[h, s])
        # early-settled reference, one flag per (h, s) (bug 3 keeps one per state)
        if self._V[h, s] - self._Vlcb[h, s] > self.settle_threshold:
            self._VR[h, s] = self._V[h, s]
        elif self._uref[h, s]:
            self._VR[h, s] = self._V[h, s]
            self._uref[h, s] = False

    # -- compiled path -------------------------------------------------------------------
    def compiled(self, mdp, episodes) -> CompiledLoop:
        S, A, H = mdp.S, mdp.A, mdp.H
        params = (int(H), self._iota(S, A, H, episodes), self.bonus_scale * self.c_b, self.settle_threshold)
        return CompiledLoop(_qes_loop, params)

    def resumable(self, mdp, episodes) -> ResumableLoop:
        """The compiled loop split into ``init`` and ``chunk`` with the state outside the loop
        (same parameters and draws as :meth:`compiled`)."""
        return ResumableLoop(_qes_init, _qes_chunk, self.compiled(mdp, episodes).params, QES_STATE)

    # -- theory --------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None) -> RegretBound:
        r"""``min{ sqrt(S A H^3 K) iota^2 + S A H^6 iota^2, H K }`` (Theorem 1 as restated in
        Zhang et al. 2024, Table 1; N1, stage-dependent, unit constants;
        ``iota = log(S A K H / delta)``)."""
        K, delta = self._bound_args(S, A, H, K, delta)
        iota = np.log(S * A * H * K / delta)
        lead = np.sqrt(S * A * H ** 3 * K) * iota ** 2
        low = S * A * H ** 6 * iota ** 2
        return advantage_regret_bound(lead, low, H, K, delta, "Li, Shi, Chen, Gu & Chi (NeurIPS 2021), "
                                   "Theorem 1: O~(sqrt(SAH^3K) + SAH^6); unit constants")


# ---------------------------------------------------------------------------- compiled twin (numba)


#: Names of the arrays of :func:`_qes_init` (the checkpoint of a resumable run).
QES_STATE = ("N", "Q", "Qucb", "Qlcb", "QR", "V", "VR", "Vlcb", "mu_ref", "sig_ref", "mu_adv", "sig_adv",
             "BR", "uref", "pi", "Vbuf", "pi_prev")

#: Largest ``n ** 0.75`` table of :func:`_qes_chunk` (2**22 entries, 32 MiB).
_POW_TABLE_MAX = 4194304


@njit(cache=True, nogil=True)
def _qes_init(S, A, params):
    """The learner's state before episode 0 (names in :data:`QES_STATE`), including the
    buffers of the incremental policy evaluation (``Vbuf``, ``pi_prev``)."""
    H = params[0]
    V = np.zeros((H + 1, S))
    VR = np.zeros((H + 1, S))
    for h in range(H):
        for s in range(S):
            V[h, s] = H
            VR[h, s] = H
    return (np.zeros((H, S, A), dtype=np.int64), np.full((H, S, A), float(H)), np.full((H, S, A), float(H)),
            np.zeros((H, S, A)), np.full((H, S, A), float(H)), V, VR, np.zeros((H + 1, S)),
            np.zeros((H, S, A)), np.zeros((H, S, A)), np.zeros((H, S, A)), np.zeros((H, S, A)),
            np.zeros((H, S, A)), np.ones((H, S), dtype=np.bool_), np.zeros((H, S), dtype=np.int64),
            np.zeros((H + 1, S)), np.full((H, S), -1, dtype=np.int64))


@njit(cache=True, nogil=True)
def _qes_chunk(P, R, initial, noise, noise_std, v_star, k0, k1, eval_every, rng, params, state,
               regret_out, returns_out):
    """Episodes ``k0 .. k1-1`` of one seed from ``state`` (updated in place); episode ``k`` is
    written to ``regret_out[k - k0]`` / ``returns_out[k - k0]`` (one scalar update per
    estimate instead of the teaching path's vector update)."""
    H, iota, cb, thr = params
    N, Q, Qucb, Qlcb, QR, V, VR, Vlcb, mu_ref, sig_ref, mu_adv, sig_adv, BR, uref, pi, Vbuf, pi_prev = state
    A = P.shape[2]
    sqH = math.sqrt(H)
    # n ** 0.75 by count (the same pow call, so the same bits whatever the table size): pow
    # was ~17% of the loop. Counts reach k1 at early stages, so the table covers 0..k1
    # (capped at 2**22 entries, 32 MiB; pow beyond that)
    n_tab = k1 + 1 if k1 + 1 < _POW_TABLE_MAX else _POW_TABLE_MAX
    pow34 = np.empty(n_tab)
    for i in range(n_tab):
        pow34[i] = float(i) ** 0.75
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for k in range(k0, k1):
        greedy_policy(Q, pi)
        if eval_every > 0 and k % eval_every == 0:
            record_regret_det_incremental(k - k0, 1, P, R, initial, v_star, pi, pi_prev, Vbuf, regret_out)
        returns_out[k - k0] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        for h in range(H):          # the per-step update, replayed in step order
            s, a, r, s2 = xs[h], acts[h], rs[h], xs[h + 1]
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


@njit(cache=True, nogil=True)
def _qes_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed (compiled twin of the :class:`QEarlySettledAdvantage`
    teaching path): :func:`_qes_init` then one :func:`_qes_chunk`."""
    state = _qes_init(P.shape[1], P.shape[2], params)
    _qes_chunk(P, R, initial, noise, noise_std, v_star, 0, K, eval_every, rng, params, state,
               regret_out, returns_out)

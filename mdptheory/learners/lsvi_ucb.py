r"""LSVI-UCB (Jin, Yang, Wang & Jordan 2020, Algorithm 1): least-squares value iteration + UCB bonus.

Linear MDP (Assumption A): :math:`P_h(\cdot|x,a)=\langle\phi_h(x,a),\mu_h(\cdot)\rangle`,
:math:`r_h=\langle\phi_h,\theta_h\rangle`, :math:`\|\phi\|\le1`, N1, ``T = KH``. Every episode ``k``
(finished episodes :math:`\tau<k`, one Gram matrix per stage), ``h = H-1..0``, :math:`Q_H=0`:

.. math::
    \Lambda_h=\lambda I+\sum_{\tau<k}\phi_h^\tau\phi_h^{\tau\top},\qquad
    w_h=\Lambda_h^{-1}\sum_{\tau<k}\phi_h^\tau\bigl[r_h^\tau+\max_a Q_{h+1}(x_{h+1}^\tau,a)\bigr],

.. math::
    Q_h(x,a)=\min\bigl\{w_h^\top\phi_h(x,a)+\beta_k\|\phi_h(x,a)\|_{\Lambda_h^{-1}},\;H\bigr\},
    \qquad \beta_k=cH\bigl(d\sqrt\iota+\zeta\sqrt{kd}\bigr),\ \ \iota=\ln(2dT/\delta),

with *this* episode's :math:`Q_{h+1}`; greedy play (lowest action on ties). :math:`r_h^\tau` =
:math:`r_h(x_h^\tau,a_h^\tau)` (known, the paper) or the observed reward (random reward laws).
``zeta = 0``: Theorem 3.1, w.p. :math:`\ge1-\delta` :math:`\mathrm{Regret}(K)=O(\sqrt{d^3H^3T\iota^2})`
for some absolute ``c`` (not given); ``zeta > 0``: Theorem 3.2 (Assumption B),
:math:`O(\sqrt{d^3H^3T\iota^2}+\zeta dHT\sqrt\iota)`. Exact aggregation keeps the cost flat in ``k``:
targets :math:`c_h+\sum_{s'}V_{h+1}(s')m_h(s')`, :math:`c_h=\sum_\tau\phi_h^\tau r_h^\tau`,
:math:`m_h(s')=\sum_\tau\phi_h^\tau1\{x_{h+1}^\tau=s'\}`; :math:`\Lambda_h^{-1}` and all
:math:`\|\phi\|^2_{\Lambda_h^{-1}}` by Sherman-Morrison, re-inverted exactly every 64 steps and after
cancelling steps: :math:`O(H(SAd+S_{\rm seen}d+d^2))` per episode.

Provenance and reconstructions: proofs_notes/lsvi_ucb.md

References: C. Jin, Z. Yang, Z. Wang, M. I. Jordan, "Provably Efficient Reinforcement Learning
with Linear Function Approximation", COLT 2020, arXiv:1907.05388.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mdptheory.core.linear import feature_view
from mdptheory.core.validation import check_choice, check_delta, check_int, check_real, check_scale
from mdptheory.kernels.ridge import (EXACT_ABOVE, REINVERT_EVERY, quad_forms_downdate_ref, quad_forms_ref,
                                     ridge_episode_update, ridge_reset, ridge_statistics, sherman_morrison_ref,
                                     spd_inverse_ref)
from mdptheory.kernels.sampling import episode_buffers, record_regret_det_incremental, rollout_det
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound

__all__ = ["LSVIUCB", "LSVIPlan", "lsvi_ucb_plan", "lsvi_ucb_plan_ref", "lsvi_ucb_reset",
           "check_feature_norms", "use_features", "REINVERT_EVERY", "EXACT_ABOVE"]

_CAP = {"H": 0, "remaining": 1}
_REWARDS = ("auto", "known", "observed")

# REINVERT_EVERY (Sherman-Morrison steps between exact re-inversions of a stage's Gram matrix)
# and EXACT_ABOVE (determinant ratio above which a step re-inverts exactly) are those of
# mdptheory.kernels.ridge, re-exported here.


@dataclass(frozen=True)
class LSVIPlan:
    """One episode's optimistic plan: ``Q (H, S, A)``, ``V (H+1, S)``, greedy ``pi (H, S)``
    and the regression weights ``w (H, d)``. Unpacks as ``Q, V, pi``."""

    Q: np.ndarray
    V: np.ndarray
    pi: np.ndarray
    w: np.ndarray

    def __iter__(self):
        return iter((self.Q, self.V, self.pi))


def check_feature_norms(phi, who: str = "learner") -> None:
    r"""``ValueError`` naming ``(h, s, a)`` if some :math:`\|\phi_h(s,a)\|_2>1` (Assumption A)."""
    nrm = np.sqrt(np.einsum("hsad,hsad->hsa", phi, phi))
    bad = nrm > 1.0 + 1e-12
    if bad.any():
        h, s, a = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{who} assumes ||phi(s, a)||_2 <= 1 (Assumption A) but ||phi_h(s, a)|| = "
                         f"{float(nrm[h, s, a])!r} at (h={h}, s={s}, a={a}); rescale the features")


def use_features(learner, tab, phi) -> None:
    """What a linear learner's ``prepare`` stores for both paths (LSVI-UCB, LSVI-UCB++):
    ``phi`` (Assumption A checked), ``d``, the known rewards by stage ``Rk (H, S, A)`` and
    whether to learn from observed rewards (``rewards`` "observed", or "auto" with a random
    reward law)."""
    check_feature_norms(phi, type(learner).__name__)
    learner._phi = phi
    learner._d = int(phi.shape[3])
    learner._Rk = np.ascontiguousarray(np.broadcast_to(tab.R_by_stage(), (tab.H, tab.S, tab.A)), dtype=np.float64)
    learner._observed = learner.rewards == "observed" or (learner.rewards == "auto"
                                                          and tab.reward_noise != "deterministic")


def lsvi_ucb_plan_ref(phi, Linv, q, cvec, M, beta, H, cap="H") -> LSVIPlan:
    r"""One episode's plan (Algorithm 1, lines 4-7) from the sufficient statistics, vectorised:
    the plain twin of :func:`lsvi_ucb_plan`. ``phi (H, S, A, d)``, ``Linv (H, d, d)`` =
    :math:`\Lambda_h^{-1}`, ``q (H, S, A)`` = :math:`\phi^\top\Lambda_h^{-1}\phi`, ``cvec (H, d)`` =
    :math:`\sum_\tau\phi_h^\tau r_h^\tau`, ``M (H, S, d)`` = :math:`m_h(s')`, ``beta`` = :math:`\beta_k`."""
    S = phi.shape[1]
    d = phi.shape[3]
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, phi.shape[2]))
    W = np.empty((H, d))
    for h in range(H - 1, -1, -1):
        W[h] = Linv[h] @ (cvec[h] + M[h].T @ V[h + 1])
        ch = float(H) if cap == "H" else float(H - h)
        Q[h] = np.minimum(phi[h] @ W[h] + beta * np.sqrt(np.maximum(q[h], 0.0)), ch)
        V[h] = Q[h].max(axis=1)
    return LSVIPlan(Q, V, Q.argmax(axis=2).astype(np.int64), W)


class LSVIUCB(Learner):
    r"""LSVI-UCB of Jin, Yang, Wang & Jordan (2020); see the module docstring.

    Parameters
    ----------
    c : float >= 0, default 1.0
        The absolute constant of :math:`\beta=c\,dH\sqrt\iota` (Theorem 3.1 proves that *some*
        ``c`` works and does not give it; 1 is our declared value).
    lam : float > 0, default 1.0
        Ridge parameter :math:`\lambda` (Theorem 3.1: 1).
    delta : float in (0, 1), default 0.01
        Confidence parameter of :math:`\iota=\ln(2dT/\delta)`.
    bonus_scale : float >= 0, default 1.0
        Multiplies :math:`\beta`; 1 is theory mode (0 = greedy least-squares value iteration).
    cap : {"H", "remaining"}, default "H"
        Clip at ``H`` (the paper) or at the remaining horizon ``H - h`` (0-based ``h``).
    zeta : float >= 0, default 0.0
        Misspecification level of Theorem 3.2 (adds :math:`c\zeta H\sqrt{kd}` to :math:`\beta_k`).
    rewards : {"auto", "known", "observed"}, default "auto"
        Regression targets use the known mean :math:`r_h(x,a)` of the model (the paper) or
        the observed reward; ``"auto"`` = known for deterministic reward laws, observed for
        random ones (Bernoulli), where the agent does not know the reward function.

    Notes
    -----
    N1; stage-dependent (INHOM) linear MDPs; features :math:`\|\phi\|\le1` are checked in
    :meth:`prepare`. Runs on a :class:`~mdptheory.core.LinearMDP`, a
    :class:`~mdptheory.core.linear.FeaturizedMDP` (misspecified) or a tabular
    :class:`~mdptheory.core.EpisodicMDP` (one-hot features, ``d = SA``). Replans every episode.
    """

    name = "LSVI-UCB"
    normalization = "N1"
    uses_features = True

    def __init__(self, *, c: float = 1.0, lam: float = 1.0, delta: float = 0.01, bonus_scale: float = 1.0,
                 cap: str = "H", zeta: float = 0.0, rewards: str = "auto"):
        self.c = check_scale("c", c)
        self.lam = check_real("lam", lam, 0.0, low_open=True)
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.cap = check_choice("cap", cap, _CAP)
        self.zeta = check_real("zeta", zeta, 0.0)
        self.rewards = check_choice("rewards", rewards, _REWARDS)

    def prepare(self, mdp, episodes):
        tab, phi = feature_view(mdp)
        super().prepare(tab, episodes)
        use_features(self, tab, phi)
        self._beta0, self._betaz = self._betas(self._d, tab.H, self._K)

    def _betas(self, d, H, K):
        r""":math:`\beta_k = \beta_0 + \beta_\zeta\sqrt k` (1-based ``k``): ``bonus_scale * c H d sqrt(iota)``
        and ``bonus_scale * c H zeta sqrt(d)``, :math:`\iota=\ln(2dT/\delta)`, ``T = KH``."""
        iota = math.log(2.0 * d * K * H / self.delta)
        s = self.bonus_scale * self.c * H
        return s * d * math.sqrt(iota), s * self.zeta * math.sqrt(d)

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        d, lam = self._d, self.lam
        self._Lam = np.repeat(lam * np.eye(d)[None], H, axis=0)
        self._Linv = np.repeat(np.eye(d)[None] / lam, H, axis=0)
        self._q = np.einsum("hsad,hsad->hsa", self._phi, self._phi) / lam
        self._cvec = np.zeros((H, d))
        self._M = np.zeros((H, S, d))
        self._nupd = np.zeros(H, dtype=np.int64)

    def begin_episode(self, k):
        beta = self._beta0 + self._betaz * math.sqrt(k + 1)
        plan = lsvi_ucb_plan_ref(self._phi, self._Linv, self._q, self._cvec, self._M, beta, self._H, self.cap)
        self._Q, self._V, self._pi = plan
        self._w = plan.w

    def observe(self, h, s, a, r, s_next):
        # stage h's statistics only feed next episode's plan (each stage gets one sample per episode)
        x = self._phi[h, s, a]
        self._Lam[h] += np.outer(x, x)
        self._nupd[h] += 1
        self._Linv[h], u, den = sherman_morrison_ref(self._Linv[h], x, 1.0)
        if den > EXACT_ABOVE or self._nupd[h] % REINVERT_EVERY == 0:
            self._Linv[h] = spd_inverse_ref(self._Lam[h])
            self._q[h] = quad_forms_ref(self._Linv[h], self._phi[h].reshape(-1, self._d)).reshape(self._S, self._A)
        else:
            self._q[h] = quad_forms_downdate_ref(self._q[h], self._phi[h], u, 1.0 / den)
        self._cvec[h] += x * (r if self._observed else self._Rk[h, s, a])
        self._M[h, s_next] += x

    def compiled(self, mdp, episodes):
        return CompiledLoop(_lsvi_ucb_loop, (int(mdp.horizon), self._phi, self._Rk, int(self._observed),
                                             self._beta0, self._betaz, self.lam, _CAP[self.cap]))

    def bound(self, S, A, H, K, delta=None, *, d=None):
        r"""Theorem 3.1 (``zeta = 0``) or 3.2 of Jin et al. 2020 with every absolute constant set
        to 1 (the paper gives the rate only): :math:`\sqrt{d^3H^3T}\,\iota
        \;(+\,\zeta dHT\sqrt\iota)`, :math:`\iota=\ln(2dT/\delta)`, ``T = KH``, N1, INHOM, w.p.
        :math:`\ge1-\delta`. ``d`` defaults to that of the last prepared model, else ``S A``."""
        K, delta = self._bound_args(S, A, H, K, delta)
        if d is None:
            d = getattr(self, "_d", S * A)
        d = check_int("d", d, 1)
        T = K * H
        iota = np.log(2.0 * d * T / delta)
        lead = np.sqrt(float(d) ** 3 * H ** 3 * T) * iota + self.zeta * d * H * T * np.sqrt(iota)
        thm = "Jin, Yang, Wang & Jordan 2020, " + ("Theorem 3.1" if self.zeta == 0 else "Theorem 3.2")
        return regret_bound(lead, 0.0, H=H, K=K, normalization="N1", setting="INHOM",
                            theorem=thm + " (rate, constants 1)", explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def lsvi_ucb_plan(phi, Linv, q, cvec, M, succ, nsucc, beta, cap, b, w, Q, V, pi):
    """Compiled twin of :func:`lsvi_ucb_plan_ref`: the targets sum over the observed next
    states ``succ[h, :nsucc[h]]`` only (O(seen states x d)); ``cap`` 0 = ``H``, 1 = ``H - h``.
    Writes ``w (H, d)``, ``Q``, ``V`` (``V[H] = 0``) and ``pi``; ``b`` is a ``(d,)`` buffer."""
    H, S, A, d = phi.shape
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        for i in range(d):
            b[i] = cvec[h, i]
        if h < H - 1:
            for j in range(nsucc[h]):
                y = succ[h, j]
                vy = V[h + 1, y]
                for i in range(d):
                    b[i] += vy * M[h, y, i]
        for i in range(d):
            acc = 0.0
            for l in range(d):
                acc += Linv[h, i, l] * b[l]
            w[h, i] = acc
        ch = float(H) if cap == 0 else float(H - h)
        for s in range(S):
            best = -np.inf
            arg = 0
            for a in range(A):
                m = 0.0
                for i in range(d):
                    m += phi[h, s, a, i] * w[h, i]
                qq = q[h, s, a]
                if qq < 0.0:
                    qq = 0.0
                val = m + beta * math.sqrt(qq)
                if val > ch:
                    val = ch
                Q[h, s, a] = val
                if val > best:
                    best = val
                    arg = a
            V[h, s] = best
            pi[h, s] = arg


@njit(cache=True, nogil=True)
def lsvi_ucb_reset(phi, lam, Lam, Linv, q, cvec, M, nsucc, seen):
    r"""In place: the statistics before the first sample (:math:`\Lambda_h=\lambda I`,
    :math:`\Lambda_h^{-1}=I/\lambda`, :math:`q=\|\phi\|^2/\lambda`, ``cvec = M = 0``, no
    observed successors); also a restart's fresh epoch (``restart_statistics``)."""
    H, S, A, d = phi.shape
    ridge_reset(lam, Lam, Linv)
    for h in range(H):
        for i in range(d):
            cvec[h, i] = 0.0
        for s in range(S):
            for a in range(A):
                acc = 0.0
                for i in range(d):
                    acc += phi[h, s, a, i] * phi[h, s, a, i]
                q[h, s, a] = acc / lam
            for i in range(d):
                M[h, s, i] = 0.0
            seen[h, s] = False
        nsucc[h] = 0


@njit(cache=True, nogil=True)
def _lsvi_ucb_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
                   regret_out, returns_out):
    H, phi, Rk, observed, beta0, betaz, lam, cap = params
    S = P.shape[1]
    A = P.shape[2]
    d = phi.shape[3]
    Lam, Linv, cvec, M, succ, nsucc, seen = ridge_statistics(H, S, d, lam)
    q = np.empty((H, S, A))
    lsvi_ucb_reset(phi, lam, Lam, Linv, q, cvec, M, nsucc, seen)
    nupd = 0
    b = np.empty(d)
    u = np.empty(d)
    w = np.empty((H, d))
    Q = np.empty((H, S, A))
    V = np.empty((H + 1, S))
    Vb, pi, pi_prev, xs, acts, rs = episode_buffers(H, S)
    for k in range(K):
        beta = beta0 + betaz * math.sqrt(k + 1.0)
        lsvi_ucb_plan(phi, Linv, q, cvec, M, succ, nsucc, beta, cap, b, w, Q, V, pi)
        record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        nupd += 1
        ridge_episode_update(phi, xs, acts, rs, Rk, observed, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, q)

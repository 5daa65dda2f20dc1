r"""DR-RPO (Gu, He, Liu & Xu 2025): optimistic robust policy optimisation with reference-policy KL.

d-rectangular linear DRMDP with TV radii :math:`\rho_{h,i}` as in DR-LSVI-UCB, N1, known rewards,
softmax policies. Objective (reconstruction): the KL-regularised robust value, :math:`\tau\ge0`,
:math:`\max_\pi\min_{P\in\mathcal U}E^{\pi,P}[\sum_hr_h-\tau\mathrm{KL}(\pi_h(\cdot|s_h)\|\pi^{ref}_h(\cdot|s_h))]`.
Episode ``k >= 1``: optimistic robust evaluation of :math:`\pi^{k-1}` on the data of episodes ``< k``
(reconstruction: DR-LSVI-UCB's regression, exact breakpoint dual and bonus, with the soft value)

.. math::
    \tilde V_{h+1}(s)=\sum_a\pi^{k-1}_{h+1}(a|s)Q_{h+1}(s,a)-\tau\,\mathrm{KL}(\pi^{k-1}_{h+1}(\cdot|s)
    \|\pi^{ref}_{h+1}(\cdot|s)),\quad Q_h=\min\{r_h+\phi^\top\nu_h(\tilde V_{h+1})+\Gamma_h,\,H-h\},

then a mirror-descent step on :math:`\langle Q_h,\pi\rangle-\tau\mathrm{KL}(\pi\|\pi^{ref})` with
proximity :math:`\eta^{-1}\mathrm{KL}(\pi\|\pi^{k-1})`, in closed form (derived)

.. math::
    \pi^k_h(a|s)\propto\pi^{k-1}_h(a|s)^{\frac1{1+\eta\tau}}\,\pi^{ref}_h(a|s)^{\frac{\eta\tau}{1+\eta\tau}}
    \exp\Bigl(\frac{\eta\,Q_h(s,a)}{1+\eta\tau}\Bigr),\qquad \pi^0=\pi^{ref},

and :math:`\pi^k` is played (one draw per step). Reconstructions: :math:`\eta=\sqrt{2\ln A/(H^2K)}`
(OPPO's step), :math:`\tau=0.01`, :math:`\pi^{ref}` uniform, the bonus and :math:`\beta` of DR-LSVI-UCB.
Guarantee (abstract only): sublinear regret matching value-based approaches; ``bound()`` returns
DR-LSVI-UCB's rate plus the regularisation bias :math:`KH\tau\ln(1/\min\pi^{ref})` (derived).

Provenance and reconstructions: proofs_notes/dr_rpo.md

References: J. Gu, Y. He, Z. Liu, P. Xu, "Policy Regularized Distributionally Robust Markov
Decision Processes with Linear Function Approximation", arXiv:2510.14246, 2025.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.linear import feature_view
from mdptheory.core.validation import (check_choice, check_delta, check_distribution, check_int, check_real,
                                       check_scale)
from mdptheory.kernels.ridge import ridge_episode_update, ridge_statistics
from mdptheory.kernels.robust_dual import tv_dual_ref
from mdptheory.kernels.sampling import categorical_ref, record_regret_stoch, rollout_stoch
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound
from mdptheory.learners.dr_lsvi_ucb import (_BONUS, _CAP, _REWARDS, DRLSVIUCB, RobustSpec, _radius, bonus_ref,
                                            check_fail_state, check_simplex_features, dr_stage_dual, stage_radii)
from mdptheory.solvers.robust import TV

__all__ = ["DRRPO", "drrpo_evaluate", "drrpo_evaluate_ref", "mirror_step", "mirror_step_ref"]


def drrpo_evaluate_ref(phi, Rk, Linv, cvec, M, rho, beta, H, L, logref, tau, cap="remaining", bonus="l1",
                       rewards="known", fail_state=-1):
    r"""Optimistic robust evaluation of the policy with log-probabilities ``L (H, S, A)``
    (vectorised plain twin of :func:`drrpo_evaluate`): returns ``(Q (H, S, A), V (H+1, S), nu (H, d))``
    with the soft values :math:`\tilde V_h=\sum_a\pi Q_h-\tau\mathrm{KL}(\pi\|\pi^{ref})`."""
    S, A, d = phi.shape[1], phi.shape[2], phi.shape[3]
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    NU = np.zeros((H, d))
    pi = np.exp(L)
    for h in range(H - 1, -1, -1):
        v = V[h + 1]
        seen = np.flatnonzero(np.any(M[h] != 0.0, axis=1))
        NU[h] = tv_dual_ref(v[seen], Linv[h] @ M[h, seen].T, rho[h], float(v.min()), float(v.max()))
        base = Rk[h] if rewards == "known" else phi[h] @ (Linv[h] @ cvec[h])
        ch = float(H) if cap == "H" else float(H - h)
        Q[h] = np.minimum(base + phi[h] @ NU[h] + beta * bonus_ref(phi[h], Linv[h], bonus), ch)
        V[h] = np.einsum("sa,sa->s", pi[h], Q[h] - tau * (L[h] - logref[h]))
        if fail_state >= 0:
            Q[h, fail_state] = 0.0
            V[h, fail_state] = 0.0
    return Q, V, NU


def mirror_step_ref(L, logref, Q, eta, tau):
    r"""The closed-form mirror-descent step on log-probabilities, vectorised:
    :math:`L'\propto(L+\eta\tau\log\pi^{ref}+\eta Q)/(1+\eta\tau)`, normalised by log-sum-exp."""
    X = (L + (eta * tau) * logref + eta * Q) / (1.0 + eta * tau)
    top = X.max(axis=-1, keepdims=True)
    return X - (top + np.log(np.exp(X - top).sum(axis=-1, keepdims=True)))


def _reference(ref, H, S, A):
    """``(H, S, A)`` log of the reference policy (uniform for ``None``); ``ValueError`` unless
    every row is a probability vector with positive entries."""
    if ref is None:
        return np.full((H, S, A), -math.log(A))
    r = check_distribution("reference", ref)
    if r.shape not in ((S, A), (H, S, A)):
        raise ValueError(f"reference must have shape ({S}, {A}) or ({H}, {S}, {A}), got {r.shape}")
    if (r <= 0).any():
        idx = tuple(int(i) for i in np.argwhere(r <= 0)[0])
        raise ValueError(f"reference{list(idx)} = {float(r[idx])!r} must be > 0 (the KL regulariser needs a "
                         "reference with full support)")
    return np.ascontiguousarray(np.log(np.broadcast_to(r, (H, S, A))))


class DRRPO(Learner):
    r"""DR-RPO of Gu, He, Liu & Xu (2025), reconstructed; see the module docstring.

    Parameters
    ----------
    rho : float or array, default 0.1
        TV radii, as for :class:`~mdptheory.learners.dr_lsvi_ucb.DRLSVIUCB`.
    tau : float >= 0, default 0.01
        Weight of the KL regulariser to the reference policy (reconstruction).
    eta : float > 0, optional
        Mirror-descent step; default :math:`\sqrt{2\ln A/(H^2K)}` (OPPO's, reconstruction).
    reference : array ``(S, A)`` or ``(H, S, A)``, optional
        Reference policy with positive entries; default uniform.
    beta, c, lam, delta, bonus_scale, bonus, cap, rewards, fail_state
        As for :class:`~mdptheory.learners.dr_lsvi_ucb.DRLSVIUCB`.

    Notes
    -----
    Stochastic policies ``(H, S, A)``; :func:`mdptheory.run` records the exact robust
    suboptimality (unregularised) of every played policy. Replans every episode.
    """

    name = "DR-RPO"
    normalization = "N1"
    uses_features = True
    stochastic_policies = True

    def __init__(self, *, rho=0.1, tau: float = 0.01, eta: float | None = None, reference=None,
                 beta: float | None = None, c: float = 1.0, lam: float = 1.0, delta: float = 0.01,
                 bonus_scale: float = 1.0, bonus: str = "l1", cap: str = "remaining", rewards: str = "known",
                 fail_state: int | None = None):
        self.rho = _radius(rho)
        self.tau = check_real("tau", tau, 0.0)
        self.eta = None if eta is None else check_real("eta", eta, 0.0, low_open=True)
        self.reference = None if reference is None else np.array(check_distribution("reference", reference))
        self.beta = None if beta is None else check_scale("beta", beta)
        self.c = check_scale("c", c)
        self.lam = check_real("lam", lam, 0.0, low_open=True)
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.bonus = check_choice("bonus", bonus, _BONUS)
        self.cap = check_choice("cap", cap, _CAP)
        self.rewards = check_choice("rewards", rewards, _REWARDS)
        self.fail_state = None if fail_state is None else check_int("fail_state", fail_state, 0)

    def robust_uncertainty(self) -> RobustSpec:
        """The set the learner is robust against: ``TV(rho)``, d-rectangular."""
        return RobustSpec(TV(self.rho), "d")

    radius_beta = DRLSVIUCB.radius_beta

    def step_size(self, A: int, H: int, K: int) -> float:
        r"""``eta`` or :math:`\sqrt{2\ln A/(H^2K)}` (at least ``1e-12``)."""
        if self.eta is not None:
            return self.eta
        return max(math.sqrt(2.0 * math.log(A) / (H * H * K)), 1e-12)

    def prepare(self, mdp, episodes):
        tab, phi = feature_view(mdp)
        super().prepare(tab, episodes)
        check_simplex_features(phi, type(self).__name__)
        H, S, A = tab.H, tab.S, tab.A
        self._phi = phi
        self._d = int(phi.shape[3])
        self._rho = stage_radii(self.rho, H, self._d)
        self._Rk = np.ascontiguousarray(np.broadcast_to(tab.R_by_stage(), (H, S, A)), dtype=np.float64)
        self._beta = self.radius_beta(self._d, H, self._K)
        self._fail = check_fail_state(tab, self.fail_state, type(self).__name__)
        self._logref = _reference(self.reference, H, S, A)
        self._eta = self.step_size(A, H, self._K)

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        d, lam = self._d, self.lam
        self._Lam = np.repeat(lam * np.eye(d)[None], H, axis=0)
        self._Linv = np.repeat(np.eye(d)[None] / lam, H, axis=0)
        self._cvec = np.zeros((H, d))
        self._M = np.zeros((H, S, d))
        self._nupd = np.zeros(H, dtype=np.int64)
        self._L = self._logref.copy()
        self._pi = np.exp(self._L)

    def begin_episode(self, k):
        if k > 0:
            Q, V, nu = drrpo_evaluate_ref(self._phi, self._Rk, self._Linv, self._cvec, self._M, self._rho,
                                          self._beta, self._H, self._L, self._logref, self.tau, self.cap,
                                          self.bonus, self.rewards, self._fail)
            self._Q, self._V, self._nu = Q, V, nu
            self._L = mirror_step_ref(self._L, self._logref, Q, self._eta, self.tau)
            self._pi = np.exp(self._L)

    def act(self, h, s):
        return categorical_ref(self._rng, self._pi[h, s])

    # the ridge statistics of DR-LSVI-UCB, updated the same way after every step
    observe = DRLSVIUCB.observe

    def compiled(self, mdp, episodes, policy_log=None):
        """The compiled loop; ``policy_log`` (``(K, H, S, A)`` float64) receives the policy
        played in every episode (used by :func:`mdptheory.regret.robust.run_robust`)."""
        H, S, A = int(mdp.horizon), int(self._phi.shape[1]), int(self._phi.shape[2])
        log = np.zeros((0, H, S, A)) if policy_log is None else policy_log
        return CompiledLoop(_drrpo_loop, (H, self._phi, self._Rk, self._rho, _REWARDS[self.rewards], self._beta,
                                          self.lam, _CAP[self.cap], _BONUS[self.bonus], self._fail, self._logref,
                                          self.tau, self._eta, log))

    def bound(self, S, A, H, K, delta=None, *, d=None):
        r"""Reconstruction: DR-LSVI-UCB's :math:`d^2H^2\sqrt K\,\iota` (the abstract says DR-RPO
        matches value-based approaches; constants 1) plus the bias :math:`KH\tau\ln A` of the
        regulariser with the uniform reference (:math:`\ln(1/\min\pi^{ref})` in general), which
        converts a bound on the regularised objective into one on the cumulative *unregularised*
        robust suboptimality that :func:`mdptheory.run` records."""
        K, delta = self._bound_args(S, A, H, K, delta)
        if d is None:
            d = getattr(self, "_d", S * A)
        d = check_int("d", d, 1)
        iota = np.log(2.0 * d * K * H / delta)
        lref = float(-self._logref.min()) if hasattr(self, "_logref") else math.log(A)
        lead = float(d) ** 2 * H ** 2 * np.sqrt(K) * iota
        return regret_bound(lead, K * H * self.tau * lref, H=H, K=K, normalization="N1", setting="INHOM",
                            theorem="Gu, He, Liu & Xu 2025 (reconstructed): DR-LSVI-UCB's rate "
                                    "+ regularisation bias K H tau ln(1/min pi_ref) (constants 1)",
                            explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def mirror_step(L, logref, Q, eta, tau, pi):
    """Compiled twin of :func:`mirror_step_ref`, in place on ``L``; writes ``pi = exp(L)``."""
    H, S, A = L.shape
    g = 1.0 / (1.0 + eta * tau)
    for h in range(H):
        for s in range(S):
            top = -np.inf
            for a in range(A):
                x = (L[h, s, a] + eta * tau * logref[h, s, a] + eta * Q[h, s, a]) * g
                L[h, s, a] = x
                if x > top:
                    top = x
            acc = 0.0
            for a in range(A):
                acc += math.exp(L[h, s, a] - top)
            lse = top + math.log(acc)
            for a in range(A):
                L[h, s, a] -= lse
                pi[h, s, a] = math.exp(L[h, s, a])


@njit(cache=True, nogil=True)
def drrpo_evaluate(phi, Rk, Linv, cvec, M, succ, nsucc, rho, beta, cap, l1, known, fail, L, logref, tau, pi,
                   yv, G, sd, w, nu, Q, V):
    """Compiled twin of :func:`drrpo_evaluate_ref` (``pi = exp(L)`` given); codes as in
    :func:`mdptheory.learners.dr_lsvi_ucb.dr_lsvi_ucb_plan`. Writes ``nu``, ``Q`` and ``V``."""
    H, S, A, d = phi.shape
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        dr_stage_dual(Linv, cvec, M, succ, nsucc, rho, known, V, h, yv, G, sd, w, nu)
        ch = float(H) if cap == 0 else float(H - h)
        for s in range(S):
            v = 0.0
            for a in range(A):
                m = Rk[h, s, a] if known == 1 else 0.0
                b = 0.0
                for i in range(d):
                    f = phi[h, s, a, i]
                    m += f * (nu[h, i] + w[i])
                    if l1 == 1:
                        b += f * sd[i]
                    elif Linv[h, i, i] > 0.0:
                        b += (f * f) * Linv[h, i, i]
                if l1 == 0:
                    b = math.sqrt(b)
                q = m + beta * b
                q = ch if q > ch else q
                Q[h, s, a] = q
                v += pi[h, s, a] * (q - tau * (L[h, s, a] - logref[h, s, a]))
            V[h, s] = v
            if s == fail:
                V[h, s] = 0.0
                for a in range(A):
                    Q[h, s, a] = 0.0


@njit(cache=True, nogil=True)
def _drrpo_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    H, phi, Rk, rho, known, beta, lam, cap, l1, fail, logref, tau, eta, log = params
    S = P.shape[1]
    A = P.shape[2]
    d = phi.shape[3]
    Lam, Linv, cvec, M, succ, nsucc, seen = ridge_statistics(H, S, d, lam)
    nupd = 0
    u = np.empty(d)
    yv = np.empty(S)
    G = np.empty((d, S))
    sd = np.empty(d)
    w = np.empty(d)
    nu = np.zeros((H, d))
    Q = np.empty((H, S, A))
    V = np.empty((H + 1, S))
    Vb = np.empty((H + 1, S))
    L = logref.copy()
    pi = np.empty((H, S, A))
    for h in range(H):
        for s in range(S):
            for a in range(A):
                pi[h, s, a] = math.exp(L[h, s, a])
    xs = np.empty(H + 1, dtype=np.int64)
    acts = np.empty(H, dtype=np.int64)
    rs = np.empty(H)
    no_forms = np.empty((0, 0, 0))
    logging = log.shape[0] > 0
    for k in range(K):
        if k > 0:
            drrpo_evaluate(phi, Rk, Linv, cvec, M, succ, nsucc, rho, beta, cap, l1, known, fail, L, logref, tau,
                           pi, yv, G, sd, w, nu, Q, V)
            mirror_step(L, logref, Q, eta, tau, pi)
        if logging:
            log[k] = pi
        record_regret_stoch(k, eval_every, P, R, initial, v_star, pi, Vb, regret_out)
        returns_out[k] = rollout_stoch(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        nupd += 1
        ridge_episode_update(phi, xs, acts, rs, Rk, 1, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, no_forms)

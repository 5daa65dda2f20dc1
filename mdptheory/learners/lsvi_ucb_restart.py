r"""LSVI-UCB-Restart (Zhou, Chen, Varshney & Jagmohan, TMLR): LSVI-UCB restarted every ``W`` episodes.

Non-stationary linear MDP: fixed known features :math:`\phi`, drifting :math:`\mu^k_h,\theta^k_h`
with budget :math:`B=B_\theta+B_\mu` (:meth:`~mdptheory.core.nonstationary.NonStationaryMDP.variation`),
N1, ``T = KH``. The episodes are cut into epochs of ``W`` on the environment's (global) clock:
episode ``k`` starts a new epoch when :math:`k\equiv0\pmod W`, and then every stage forgets
everything, :math:`\Lambda_h=\lambda I`, no data. Inside an epoch (its episodes
:math:`k_0\le\tau<k`), LSVI-UCB (Jin, Yang, Wang & Jordan 2020, Algorithm 1;
:mod:`mdptheory.learners.lsvi_ucb`, same kernels), ``h = H-1..0``, :math:`Q_H=0`:

.. math::
    \Lambda_h=\lambda I+\sum_{k_0\le\tau<k}\phi_h^\tau\phi_h^{\tau\top},\quad
    w_h=\Lambda_h^{-1}\sum_{k_0\le\tau<k}\phi_h^\tau\bigl[r_h^\tau+\max_aQ_{h+1}(x^\tau_{h+1},a)\bigr],\quad
    Q_h=\min\{w_h^\top\phi_h+\beta\|\phi_h\|_{\Lambda_h^{-1}},H\},

:math:`\beta=c\,dH\sqrt\iota`, :math:`\iota=\ln(2dT/\delta)`; :math:`r^\tau_h` is the observed
reward (the reward of episode :math:`\tau`'s model). Restart period (``window=None``, [reconstruction]):

.. math::
    W=\Bigl\lceil B^{-2/3}T^{2/3}d^{1/3}H^{-2/3}\Bigr\rceil=\Bigl\lceil(dK^2/B^2)^{1/3}\Bigr\rceil,

the balance of :math:`\frac KW d^{3/2}H^2\sqrt W` (LSVI-UCB per epoch) and :math:`dH^2WB` (drift
as misspecification, Jin et al. Thm 3.2); the authors' code's two formulas are ``window_rule``
options. Rate: :math:`\tilde O(B^{1/3}d^{4/3}H^{4/3}T^{2/3})` (:meth:`LSVIUCBRestart.bound`).

Provenance and reconstructions: proofs_notes/lsvi_ucb_restart.md

References: H. Zhou, J. Chen, L. R. Varshney, A. Jagmohan, "Nonstationary Reinforcement Learning
with Linear Function Approximation", TMLR, arXiv:2010.04244; C. Jin, Z. Yang, Z. Wang,
M. I. Jordan, COLT 2020, arXiv:1907.05388.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_choice, check_forgetting, check_int, check_real
from mdptheory.kernels.ridge import ridge_episode_update, ridge_statistics
from mdptheory.kernels.sampling import episode_buffers, record_regret_det_incremental, rollout_det, segment_at, single_segment
from mdptheory.learners.base import CompiledLoop, regret_bound
from mdptheory.learners.lsvi_ucb import _CAP, LSVIUCB, lsvi_ucb_plan, lsvi_ucb_reset

__all__ = ["LSVIUCBRestart", "restart_period", "WINDOW_RULES", "restart_statistics", "restart_statistics_ref"]

#: Restart-period formulas (episodes; ``T = KH``): the derived balance point (default) and the
#: two lines of the authors' public experiment code (the active one and a commented-out one).
WINDOW_RULES = {
    "derived": "ceil(B^(-2/3) T^(2/3) d^(1/3) H^(-2/3))",
    "public_code": "ceil(B^(-1/2) T^(1/2) d^(1/2) H^(1/2))",
    "public_code_alt": "ceil(B^(-2/3) T^(2/3) d^(1/3) H^(-4/3))",
}
_REWARDS = ("observed", "known")


def restart_period(d: int, H: int, K: int, budget: float, rule: str = "derived"):
    r"""Episodes per epoch ``W`` for a known budget :math:`B` (:data:`WINDOW_RULES`, ``T = KH``),
    clipped to ``[1, K]``; ``math.inf`` (never restart) when :math:`B=0`."""
    for n, v in (("d", d), ("H", H), ("K", K)):
        check_int(n, v, 1)
    budget = check_real("budget", budget, 0.0)
    check_choice("rule", rule, WINDOW_RULES)
    if budget == 0.0:
        return math.inf
    T = float(K * H)
    if rule == "derived":
        W = budget ** (-2.0 / 3.0) * T ** (2.0 / 3.0) * d ** (1.0 / 3.0) * H ** (-2.0 / 3.0)
    elif rule == "public_code":
        W = budget ** -0.5 * T ** 0.5 * d ** 0.5 * H ** 0.5
    else:
        W = budget ** (-2.0 / 3.0) * T ** (2.0 / 3.0) * d ** (1.0 / 3.0) * H ** (-4.0 / 3.0)
    return int(min(max(math.ceil(W), 1), K))


def restart_statistics_ref(phi, lam):
    r"""The statistics of a fresh epoch, vectorised: ``(Lam, Linv, q, cvec, M)`` with
    :math:`\Lambda_h=\lambda I`, :math:`\Lambda_h^{-1}=I/\lambda`,
    :math:`q_h(s,a)=\|\phi_h(s,a)\|^2/\lambda`, no targets. Twin of :func:`restart_statistics`."""
    H, S, A, d = phi.shape
    eye = np.broadcast_to(np.eye(d), (H, d, d))
    return (lam * eye, eye / lam, (phi ** 2).sum(axis=3) / lam, np.zeros((H, d)), np.zeros((H, S, d)))


class LSVIUCBRestart(LSVIUCB):
    r"""LSVI-UCB-Restart of Zhou, Chen, Varshney & Jagmohan; see the module docstring.

    Parameters
    ----------
    window : int >= 1, math.inf or None, default None
        Episodes per epoch ``W``; ``math.inf`` never restarts (LSVI-UCB); ``None`` =
        :func:`restart_period` from ``variation_budget``, or else from the environment's
        budget :math:`B=B_\theta+B_\mu` (the theorem assumes it known; read in
        :meth:`prepare_nonstationary`), :math:`B=0` (no restart) for a stationary MDP.
    variation_budget : float >= 0, optional
        :math:`B` for the default window and :meth:`bound`. Give ``window`` or
        ``variation_budget``, not both.
    window_rule : {"derived", "public_code", "public_code_alt"}, default "derived"
        Formula of the default window (:data:`WINDOW_RULES`).
    c, lam, delta, bonus_scale, cap
        As for :class:`~mdptheory.learners.lsvi_ucb.LSVIUCB` (:math:`\beta=c\,dH\sqrt\iota`,
        :math:`\iota=\ln(2dT/\delta)` with the run's ``T = KH``).
    rewards : {"observed", "known"}, default "observed"
        Regress on the observed rewards (with deterministic rewards, the mean reward of the
        episode's own model) or on the mean rewards of the model passed to ``prepare`` (the
        first episode's: only meaningful when rewards never change).

    Notes
    -----
    N1, stage-dependent, features :math:`\|\phi\|\le1` checked. Runs with :func:`mdptheory.run`
    (stationary) and :func:`mdptheory.regret.nonstationary.run_nonstationary` (compiled on
    both); the engine owns the clock, a restart never resets the environment.
    """

    name = "LSVI-UCB-Restart"
    normalization = "N1"
    uses_features = True

    def __init__(self, *, window=None, variation_budget: float | None = None, window_rule: str = "derived",
                 c: float = 1.0, lam: float = 1.0, delta: float = 0.01, bonus_scale: float = 1.0, cap: str = "H",
                 rewards: str = "observed"):
        check_choice("rewards", rewards, _REWARDS)
        super().__init__(c=c, lam=lam, delta=delta, bonus_scale=bonus_scale, cap=cap, rewards=rewards)
        self.window, self.variation_budget = check_forgetting("window", window, variation_budget)
        self.window_rule = check_choice("window_rule", window_rule, WINDOW_RULES)

    # -- run-level hooks ------------------------------------------------------------------
    def _resolve_window(self, H, K, env_budget):
        if self.window is not None:
            return self.window
        budget = self.variation_budget if self.variation_budget is not None else env_budget
        return restart_period(self._d, H, K, budget, self.window_rule)

    def prepare(self, mdp, episodes):
        super().prepare(mdp, episodes)                       # features, N1, beta, known rewards
        self._env_budget = 0.0                               # a stationary MDP
        self._W = self._resolve_window(int(mdp.horizon), self._K, 0.0)

    def prepare_nonstationary(self, ns_mdp, episodes):
        """Read the environment's linear budget :math:`B=B_\\theta+B_\\mu` of the episodes run
        (the theorem's known budget, used when neither ``window`` nor ``variation_budget`` is
        given)."""
        K = int(episodes)
        v = ns_mdp.variation(0, K - 1)
        if v.b is None and self.window is None and self.variation_budget is None:
            raise ValueError("LSVIUCBRestart needs the linear variation budget B = B_theta + B_mu, but this "
                             "NonStationaryMDP is not built from LinearMDP models: give window= or variation_budget=")
        self._env_budget = v.b
        self._W = self._resolve_window(ns_mdp.H, K, v.b)

    @property
    def window_length(self):
        """``W`` of the last prepared run (``math.inf``: never restarts)."""
        return self._W

    # -- teaching path --------------------------------------------------------------------
    def begin_episode(self, k):
        if k > 0 and math.isfinite(self._W) and k % self._W == 0:
            # restart: LSVI-UCB's fresh statistics (Lambda_h = lam I, no data)
            LSVIUCB.reset(self, self._S, self._A, self._H, self._rng)
        super().begin_episode(k)

    # -- compiled path --------------------------------------------------------------------
    def _params(self, H):
        W = 0 if math.isinf(self._W) else int(self._W)
        return (int(H), self._phi, self._Rk, int(self._observed), self._beta0, self._betaz, self.lam,
                _CAP[self.cap], W)

    def compiled(self, mdp, episodes):
        return CompiledLoop(_lsvi_ucb_restart_loop, self._params(mdp.horizon))

    def compiled_nonstationary(self, ns_mdp, episodes):
        return CompiledLoop(_lsvi_ucb_restart_ns_loop, self._params(ns_mdp.H))

    # -- theory ---------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None, *, d=None, budget=None):
        r"""Zhou et al.'s dynamic-regret rate with a known budget,
        :math:`B^{1/3}d^{4/3}H^{4/3}T^{2/3}`, ``T = KH``, logarithmic factors and absolute
        constants omitted (``explicit_constants=False``), N1, stage-dependent. :math:`B`:
        ``budget``, else ``variation_budget``, else that of the last non-stationary run; it
        must be > 0. ``d`` defaults to that of the last prepared model, else ``S A``."""
        K, delta = self._bound_args(S, A, H, K, delta)
        if d is None:
            d = getattr(self, "_d", S * A)
        d = check_int("d", d, 1)
        if budget is None:
            budget = self.variation_budget if self.variation_budget is not None else getattr(self, "_env_budget", None)
        if budget is None:
            raise ValueError("LSVIUCBRestart.bound needs the variation budget B: pass budget=..., set "
                             "variation_budget, or run the learner on a NonStationaryMDP first")
        budget = check_real("budget", budget, 0.0, low_open=True)
        T = K * H
        lead = budget ** (1.0 / 3.0) * float(d) ** (4.0 / 3.0) * H ** (4.0 / 3.0) * T ** (2.0 / 3.0)
        return regret_bound(lead, 0.0, H=H, K=K, normalization="N1", setting="INHOM",
                            theorem="Zhou, Chen, Varshney & Jagmohan (TMLR), LSVI-UCB-Restart with known budget: "
                                    "O~(B^1/3 d^4/3 H^4/3 T^2/3), unit constants",
                            explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


#: The compiled reset of a fresh epoch: LSVI-UCB's own initialisation (twin of
#: :func:`restart_statistics_ref`).
restart_statistics = lsvi_ucb_reset


@njit(cache=True, nogil=True)
def _lsvi_ucb_restart_ns_loop(Ps, Rs, inits, seg_starts, seg_models, noise, noise_std, v_stars, K, eval_every,
                              rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed on a non-stationary MDP: episode ``k`` plays model
    ``Ps[m]`` of its segment (the engine's clock); the learner restarts at ``k % W == 0``
    (``W = 0``: never) and is otherwise ``_lsvi_ucb_loop`` of :mod:`mdptheory.learners.lsvi_ucb`."""
    H, phi, Rk, observed, beta0, betaz, lam, cap, window = params
    S = Ps.shape[2]
    A = Ps.shape[3]
    d = phi.shape[3]
    Lam, Linv, cvec, M, succ, nsucc, seen = ridge_statistics(H, S, d, lam)
    q = np.empty((H, S, A))
    nupd = 0
    b = np.empty(d)
    u = np.empty(d)
    w = np.empty((H, d))
    Q = np.empty((H, S, A))
    V = np.empty((H + 1, S))
    Vb, pi, pi_prev, xs, acts, rs = episode_buffers(H, S)
    seg = 0
    m = seg_models[0]
    for k in range(K):
        seg = segment_at(k, seg, seg_starts)                      # the engine's clock
        if seg_models[seg] != m:
            m = seg_models[seg]
            pi_prev[0, 0] = -1                                    # new model: evaluate afresh
        if k == 0 or (window > 0 and k % window == 0):            # restart: forget everything
            lsvi_ucb_reset(phi, lam, Lam, Linv, q, cvec, M, nsucc, seen)
            nupd = 0
        beta = beta0 + betaz * math.sqrt(k + 1.0)
        lsvi_ucb_plan(phi, Linv, q, cvec, M, succ, nsucc, beta, cap, b, w, Q, V, pi)
        P = Ps[m]
        R = Rs[m]
        init = inits[m]
        record_regret_det_incremental(k, eval_every, P, R, init, v_stars[m], pi, pi_prev, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, init, pi, xs, acts, rs)
        nupd += 1
        ridge_episode_update(phi, xs, acts, rs, Rk, observed, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, q)


@njit(cache=True, nogil=True)
def _lsvi_ucb_restart_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
                           regret_out, returns_out):
    """The stationary protocol's loop: one model, one segment."""
    Ps, Rs, inits, starts, models, v_stars = single_segment(P, R, initial, v_star)
    _lsvi_ucb_restart_ns_loop(Ps, Rs, inits, starts, models, noise, noise_std, v_stars, K, eval_every, rng, params,
                              regret_out, returns_out)

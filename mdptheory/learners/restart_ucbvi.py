r"""RestartUCBVI: UCBVI (Azar, Osband & Munos 2017, Algorithms 2-4) restarted every ``W``
episodes -- a tabular model-based baseline for non-stationary MDPs.

HOM transitions, N1, ``T = KH``, :math:`L=\ln(5SAT/\delta)`. Episodes are cut into epochs of
``W`` episodes; at the start of each epoch every count, reward sum and the running minimum
:math:`Q^{k-1}` are reset (Q to the cap). Inside an epoch, every episode, UCBVI's plan
(:func:`mdptheory.learners.ucbvi.ucbvi_plan`) on the epoch's data:

.. math::
    Q_h(x,a)=\min\bigl(Q^{k-1}_h(x,a),\,H,\,\tilde r_h(x,a)+\hat P_{x,a}\cdot V_{h+1}+b_h(x,a)\bigr),
    \quad V_h=\max_aQ_h,

with UCBVI-CH's or -BF's bonus ``b`` on the epoch's counts, and the reward either known
(``rewards="known"``, UCBVI's assumption, read in ``prepare``) or estimated optimistically
(``rewards="empirical"``, the default: rewards change too):
:math:`\tilde r_h=\min\{1,\hat r_h+\sqrt{L/(2n_h)}\}`, :math:`\tilde r_h=1` while
:math:`n_h(x,a)=0` (per-stage reward counts). Restart period (``window=None``): the epoch
decomposition's minimiser

.. math::
    W^*=\Bigl\lceil\Bigl(\frac{K\,c_H\sqrt{SA}}{2H\Delta}\Bigr)^{2/3}\Bigr\rceil,\qquad
    c_H=H^{3/2}\ (\text{CH}),\ H\ (\text{BF}),

giving the derived rate :math:`\tilde O((SA)^{1/3}\Delta^{1/3}H^{4/3}K^{2/3})` (CH) of :meth:`bound`
(a reconstruction, not a published theorem). ``window=inf``, known rewards: UCBVI bit for bit.

Provenance and reconstructions: proofs_notes/dynamic_regret.md

References: M. G. Azar, I. Osband, R. Munos, ICML 2017; W. Mao, K. Zhang, R. Zhu,
D. Simchi-Levi, T. Başar, ICML 2021 (restarts, variation budgets).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_choice, check_forgetting, check_int, check_real
from mdptheory.kernels.sampling import record_regret_det, rollout_det, segment_at
from mdptheory.learners.base import CompiledLoop, regret_bound
from mdptheory.learners.ucbvi import _BONUS, _CAP, UCBVI, count_transitions, ucbvi_plan, ucbvi_plan_ref

__all__ = ["RestartUCBVI", "restart_window", "windowed_ucbvi_bound", "optimistic_rewards",
           "optimistic_rewards_ref", "count_episode"]

_REWARDS = ("empirical", "known")


def restart_window(S: int, A: int, H: int, K: int, variation: float, bonus: str = "hoeffding"):
    r""":math:`W^*=\lceil(Kc_H\sqrt{SA}/(2H\Delta))^{2/3}\rceil` (:math:`c_H=H^{3/2}` for
    ``"hoeffding"``, ``H`` for ``"bernstein"``), clipped to ``[1, K]``; ``math.inf`` (never
    forget) when :math:`\Delta=0`."""
    for n, v in (("S", S), ("A", A), ("H", H), ("K", K)):
        check_int(n, v, 1)
    variation = check_real("variation", variation, 0.0)
    check_choice("bonus", bonus, _BONUS)
    if variation == 0.0:
        return math.inf
    cH = H ** 1.5 if bonus == "hoeffding" else float(H)
    W = math.ceil((K * cH * math.sqrt(S * A) / (2.0 * H * variation)) ** (2.0 / 3.0))
    return int(min(max(W, 1), K))


def windowed_ucbvi_bound(S, A, H, K, delta, variation, window, bonus, who):
    r"""The derived dynamic-regret rate of UCBVI forgetting every ``window`` episodes
    (proofs_notes/dynamic_regret.md): epochs of :math:`W=\min(\text{window},K)` episodes,
    each with UCBVI's static regret :math:`c_H\sqrt{SAW}+H^2S^2A` (CH: Theorem 1 at
    ``T = WH``; BF: Theorem 2) plus the drift penalty :math:`WH\Delta_e`:

    .. math:: \frac KW\bigl(c_H\sqrt{SAW}+H^2S^2A\bigr)+WH\Delta

    (unit constants, logarithms omitted: ``explicit_constants=False``). ``window=None``
    evaluates it at :func:`restart_window` for each ``K``."""
    K = np.asarray(K, dtype=float)
    variation = check_real("variation", variation, 0.0)
    cH = H ** 1.5 if bonus == "hoeffding" else float(H)
    if window is None:
        W = np.vectorize(lambda k: float(restart_window(S, A, H, max(int(k), 1), variation, bonus)))(K)
    else:
        W = np.full(K.shape, float(window))
    W = np.minimum(W, K)
    lead = K / W * cH * np.sqrt(S * A * W) + W * H * variation
    low = K / W * float(H * H * S * S * A)
    if lead.ndim == 0:
        lead, low = float(lead), float(low)
    return regret_bound(lead, low, H=H, K=K if K.ndim else float(K), normalization="N1", setting="HOM",
                        theorem=f"{who}: derived rate (epoch decomposition + UCBVI-{'CH' if bonus == 'hoeffding' else 'BF'} "
                                "per epoch + drift penalty W H Delta), unit constants, not a published theorem",
                        explicit_constants=False, delta=delta)


def optimistic_rewards_ref(rsum, rcnt, L, scale):
    r""":math:`\tilde r=\min\{1,\hat r+\text{scale}\sqrt{L/(2n)}\}` where ``n > 0``, else 1
    (vectorised twin of :func:`optimistic_rewards`)."""
    cnt = np.where(rcnt > 0, rcnt, 1.0)
    val = np.minimum(rsum / cnt + scale * np.sqrt(L / (2.0 * cnt)), 1.0)
    return np.where(rcnt > 0, val, 1.0)


class RestartUCBVI(UCBVI):
    r"""UCBVI restarted every ``window`` episodes; see the module docstring.

    Parameters
    ----------
    bonus : {"hoeffding", "bernstein"}, default "hoeffding"
        UCBVI-CH (Mao et al.'s experiments use Hoeffding bonuses) or UCBVI-BF.
    window : int >= 1, math.inf or None, default None
        Episodes per epoch ``W``; ``math.inf`` never restarts; ``None`` = :func:`restart_window`
        from ``variation_budget`` (or the environment's budget, as for
        :class:`~mdptheory.learners.restart_q_ucb.RestartQUCB`).
    variation_budget : float >= 0, optional
        :math:`\Delta` for the default window and :meth:`bound`. Not with ``window``.
    rewards : {"empirical", "known"}, default "empirical"
        Optimistic per-stage empirical rewards of the epoch, or the mean rewards of the model
        passed to ``prepare`` (the first episode's: only meaningful when rewards never change).
    delta, bonus_scale, cap
        As for :class:`~mdptheory.learners.ucbvi.UCBVI` (``bonus_scale`` also multiplies the
        reward bonus).

    Notes
    -----
    HOM transitions (every model of a non-stationary run is checked); per-episode cost
    :math:`O(HS^2A)` as UCBVI's.
    """

    name = "RestartUCBVI"
    normalization = "N1"

    def __init__(self, bonus: str = "hoeffding", *, window=None, variation_budget: float | None = None,
                 rewards: str = "empirical", delta: float = 0.01, bonus_scale: float = 1.0, cap: str = "H"):
        super().__init__(bonus, delta=delta, bonus_scale=bonus_scale, cap=cap)
        self.window, self.variation_budget = check_forgetting("window", window, variation_budget)
        self.rewards = check_choice("rewards", rewards, _REWARDS)

    @property
    def name_variant(self) -> str:
        return f"{self.name}-{'CH' if self.bonus == 'hoeffding' else 'BF'}"

    # -- run-level hooks ------------------------------------------------------------------
    def _resolve_window(self, S, A, H, K, env_variation):
        if self.window is not None:
            return self.window
        var = self.variation_budget if self.variation_budget is not None else env_variation
        return restart_window(S, A, H, K, var, self.bonus)

    def prepare(self, mdp, episodes):
        super().prepare(mdp, episodes)           # N1, HOM, known rewards self._Rk
        self._env_variation = 0.0
        self._W = self._resolve_window(mdp.S, mdp.A, mdp.H, self._K, 0.0)

    def prepare_nonstationary(self, ns_mdp, episodes):
        """Check every model is HOM; read the environment's budget for the default window."""
        for m in ns_mdp.models:
            self._require_stationary(m)
        K = int(episodes)
        self._env_variation = ns_mdp.variation(0, K - 1).delta
        self._W = self._resolve_window(ns_mdp.S, ns_mdp.A, ns_mdp.H, K, self._env_variation)

    @property
    def window_length(self):
        """``W`` of the last prepared run (``math.inf``: never forgets)."""
        return self._W

    # -- teaching path --------------------------------------------------------------------
    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)              # counts, L, c3, Q_prev at the cap
        self._clear()

    def _clear(self):
        """Forget the epoch: counts, reward sums and the running minimum of Q."""
        S, A, H = self._S, self._A, self._H
        self._N = np.zeros((S, A, S))
        self._n = np.zeros((S, A))
        self._m = np.zeros((H + 1, S))
        caps = np.full(H, float(H)) if self.cap == "H" else H - np.arange(H, dtype=float)
        self._Qprev = np.repeat(caps[:, None, None], S * A, axis=1).reshape(H, S, A)
        self._rsum = np.zeros((H, S, A))
        self._rcnt = np.zeros((H, S, A))
        self._traj = []

    def _reward_table(self):
        if self.rewards == "known":
            return self._Rk
        return optimistic_rewards_ref(self._rsum, self._rcnt, self._L, self.bonus_scale)

    def begin_episode(self, k):
        if k > 0 and k % self._W == 0:           # W = inf: never (k % inf == k)
            self._clear()
        self._Q, self._V, self._pi = ucbvi_plan_ref(self._N, self._n, self._m, self._reward_table(), self._H,
                                                    self.bonus, self.bonus_scale, self._L, self._c3,
                                                    self._Qprev, self.cap)
        self._Qprev = self._Q
        self._traj = []

    def observe(self, h, s, a, r, s_next):
        self._traj.append((h, s, a, r, s_next))

    def end_episode(self):
        # counts of finished episodes only (UCBVI); per-stage reward sums for the estimate
        for h, s, a, r, s2 in self._traj:
            self._N[s, a, s2] += 1.0
            self._n[s, a] += 1.0
            self._m[h, s] += 1.0
            self._rsum[h, s, a] += r
            self._rcnt[h, s, a] += 1.0
        self._m[self._H, self._traj[-1][4]] += 1.0

    # -- compiled path --------------------------------------------------------------------
    def _params(self, mdp_or_ns):
        S, A, H = mdp_or_ns.S, mdp_or_ns.A, mdp_or_ns.H
        L, c3 = self._constants(S, A, H, self._K)
        W = 0 if math.isinf(self._W) else int(self._W)
        return (int(H), _BONUS[self.bonus], self.bonus_scale, L, c3, _CAP[self.cap], self._Rk,
                int(self.rewards == "empirical"), W)

    def compiled(self, mdp, episodes):
        return CompiledLoop.on_one_segment(_restart_ucbvi_ns_loop, self._params(mdp))

    def compiled_nonstationary(self, ns_mdp, episodes):
        return CompiledLoop(_restart_ucbvi_ns_loop, self._params(ns_mdp))

    # -- theory ---------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None, *, variation=None):
        r"""The derived rate of :func:`windowed_ucbvi_bound` at this learner's window (or
        :func:`restart_window` when ``window=None``). :math:`\Delta`: ``variation``, else
        ``variation_budget``, else the budget of the last non-stationary run."""
        K, delta = self._bound_args(S, A, H, K, delta)
        if variation is None:
            variation = self.variation_budget if self.variation_budget is not None else getattr(
                self, "_env_variation", None)
        if variation is None:
            raise ValueError(f"{type(self).__name__}.bound needs the variation budget: pass variation=..., "
                             "set variation_budget, or run the learner on a NonStationaryMDP first")
        return windowed_ucbvi_bound(S, A, H, K, delta, variation, self.window, self.bonus, type(self).__name__)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def optimistic_rewards(rsum, rcnt, L, scale, out):
    """Compiled twin of :func:`optimistic_rewards_ref` (loops), written into ``out``."""
    H, S, A = rsum.shape
    for h in range(H):
        for s in range(S):
            for a in range(A):
                c = rcnt[h, s, a]
                if c > 0.0:
                    x = rsum[h, s, a] / c + scale * math.sqrt(L / (2.0 * c))
                    out[h, s, a] = x if x < 1.0 else 1.0
                else:
                    out[h, s, a] = 1.0


@njit(cache=True, nogil=True)
def count_episode(xs, acts, rews, N, n, m, succ, nsucc, rsum, rcnt):
    """In place: a finished episode ``(xs, acts, rews)`` into the epoch's counts (UCBVI's,
    new successors appended to ``succ``) and per-stage reward sums."""
    count_transitions(xs, acts, N, n, m, succ, nsucc)
    for h in range(acts.shape[0]):
        rsum[h, xs[h], acts[h]] += rews[h]
        rcnt[h, xs[h], acts[h]] += 1.0


@njit(cache=True, nogil=True)
def epoch_state(S, A, H):
    """Zeroed statistics and work buffers of the restarted / windowed UCBVI loops:
    ``(N, n, m, succ, nsucc, rsum, rcnt, Remp, Q, V, Vb, pi, xs, acts, rews)``."""
    return (np.zeros((S, A, S)), np.zeros((S, A)), np.zeros((H + 1, S)), np.zeros((S, A, S), dtype=np.int64),
            np.zeros((S, A), dtype=np.int64), np.zeros((H, S, A)), np.zeros((H, S, A)), np.empty((H, S, A)),
            np.empty((H, S, A)), np.empty((H + 1, S)), np.empty((H + 1, S)), np.empty((H, S), dtype=np.int64),
            np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H))


@njit(cache=True, nogil=True)
def plan_epoch(params, N, n, m, succ, nsucc, rsum, rcnt, Remp, Qprev, Q, V, pi):
    """UCBVI's plan on the epoch's (or window's) statistics, with the optimistic empirical
    rewards when ``params`` asks for them (``params[7] == 1``), else the known ones."""
    H, bonus, scale, L, c3, cap, Rknown, empirical = params[:8]
    if empirical == 1:
        optimistic_rewards(rsum, rcnt, L, scale, Remp)
        ucbvi_plan(N, n, m, Remp, H, bonus, scale, L, c3, cap, succ, nsucc, Qprev, Q, V, pi)
    else:
        ucbvi_plan(N, n, m, Rknown, H, bonus, scale, L, c3, cap, succ, nsucc, Qprev, Q, V, pi)


@njit(cache=True, nogil=True)
def _restart_ucbvi_ns_loop(Ps, Rs, inits, seg_starts, seg_models, noise, noise_std, v_stars, K, eval_every,
                           rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed: ``_ucbvi_loop`` of ``ucbvi.py`` with restarts every
    ``W`` episodes (``W = 0``: never), optional empirical rewards and the engine's clock."""
    H, bonus, scale, L, c3, cap, Rknown, empirical, W = params
    S = Ps.shape[2]
    A = Ps.shape[3]
    N, n, m, succ, nsucc, rsum, rcnt, Remp, Q, V, Vb, pi, xs, acts, rews = epoch_state(S, A, H)
    Qprev = np.empty((H, S, A))
    seg = 0
    for k in range(K):
        seg = segment_at(k, seg, seg_starts)
        mid = seg_models[seg]
        if k == 0 or (W > 0 and k % W == 0):          # (re)start: forget the epoch
            N[:] = 0.0
            n[:] = 0.0
            m[:] = 0.0
            nsucc[:] = 0
            rsum[:] = 0.0
            rcnt[:] = 0.0
            for h in range(H):
                Qprev[h] = float(H) if cap == 0 else float(H - h)
        plan_epoch(params, N, n, m, succ, nsucc, rsum, rcnt, Remp, Qprev, Q, V, pi)
        P, R, init = Ps[mid], Rs[mid], inits[mid]
        record_regret_det(k, eval_every, P, R, init, v_stars[mid], pi, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, init, pi, xs, acts, rews)
        count_episode(xs, acts, rews, N, n, m, succ, nsucc, rsum, rcnt)

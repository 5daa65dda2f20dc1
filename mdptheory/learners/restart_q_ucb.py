r"""RestartQ-UCB, Hoeffding version (Mao, Zhang, Zhu, Simchi-Levi & Başar 2021, Algorithm 1):
stage-based optimistic Q-learning restarted in ``D`` epochs, for non-stationary MDPs.

N1, stage-dependent, model-free; ``K`` episodes, ``T = KH``, :math:`\iota=\log(2/\delta)`.
Split the episodes into ``D`` epochs of :math:`\lceil K/D\rceil` episodes, with (Theorems 1-2)

.. math::
    D=\bigl\lceil S^{-1/3}A^{-1/3}\Delta^{2/3}H^{-2/3}T^{1/3}\bigr\rceil\ (\text{clipped to }[1,K]).

At the start of every epoch restart: :math:`Q_h(s,a)=V_h(s)=H-h` (0-based ``h``), :math:`V_H=0`,
all counts and sums 0. Act greedily (lowest index on ties). After ``r, s'`` at
``(h, s, a)``: :math:`\check r\mathrel{+}=r`, :math:`\check v\mathrel{+}=V_{h+1}(s')`,
:math:`N\mathrel{+}=1`, :math:`\check N\mathrel{+}=1`; if :math:`N\in\mathcal L` (the stage ends
:math:`e_1=H`, :math:`e_{i+1}=\lfloor(1+1/H)e_i\rfloor`, cumulated), with only this stage's samples,

.. math::
    Q_h(s,a)\leftarrow\min\Bigl\{\frac{\check r}{\check N}+\frac{\check v}{\check N}+b+2b_\Delta,\;
    Q_h(s,a)\Bigr\},\quad b=c\sqrt{\frac{H^2\iota}{\check N}},\quad
    V_h(s)\leftarrow\max_aQ_h(s,a),\quad \check N,\check r,\check v\leftarrow0,

:math:`b_\Delta=\Delta^{(d)}_r+H\Delta^{(d)}_p` the local budgets of the epoch (Theorem 1;
``local_budgets=True``) or :math:`b_\Delta=0` (update rule (1), Theorem 2; the default).
The defaults instantiate Theorems 1-2: :math:`\tilde O(S^{1/3}A^{1/3}\Delta^{1/3}H^{5/3}T^{2/3})`
for :math:`T=\Omega(SA\Delta H^2)`.

Provenance and reconstructions: proofs_notes/restart_q_ucb.md

References: W. Mao, K. Zhang, R. Zhu, D. Simchi-Levi, T. Başar, "Near-optimal model-free RL in
non-stationary episodic MDPs", ICML 2021; journal version, Management Science 71(2), 2025
("Model-free nonstationary RL: near-optimal regret and applications ..."), arXiv:2010.03161.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_bool, check_delta, check_forgetting, check_int, check_real, check_scale
from mdptheory.kernels.sampling import (greedy_action, record_regret_det_incremental, rollout_det,
                                        segment_at)
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound
from mdptheory.learners.ucb_advantage import stage_ends

__all__ = ["RestartQUCB", "restart_epochs", "epoch_local_budgets"]


def restart_epochs(S: int, A: int, H: int, K: int, variation: float) -> int:
    r"""The theorem's number of epochs
    :math:`D=\lceil S^{-1/3}A^{-1/3}\Delta^{2/3}H^{-2/3}T^{1/3}\rceil`, ``T = KH``, clipped to
    ``[1, K]`` (``D = 1``, no restart, when :math:`\Delta=0`)."""
    for n, v in (("S", S), ("A", A), ("H", H), ("K", K)):
        check_int(n, v, 1)
    variation = check_real("variation", variation, 0.0)
    if variation == 0.0:
        return 1
    D = math.ceil((S * A) ** (-1.0 / 3.0) * variation ** (2.0 / 3.0) * H ** (-2.0 / 3.0) * (K * H) ** (1.0 / 3.0))
    return int(min(max(D, 1), K))


def epoch_local_budgets(ns_mdp, K: int, epoch_len: int) -> np.ndarray:
    r""":math:`b_\Delta^{(d)}=\Delta^{(d)}_r+H\Delta^{(d)}_p` of every epoch ``d`` (episodes
    ``d*epoch_len .. min((d+1)*epoch_len, K) - 1``) of a
    :class:`~mdptheory.core.nonstationary.NonStationaryMDP`."""
    n = -(-K // epoch_len)
    out = np.empty(n)
    for d in range(n):
        v = ns_mdp.variation(d * epoch_len, min((d + 1) * epoch_len, K) - 1)
        out[d] = v.delta_r + ns_mdp.H * v.delta_p
    return out


class RestartQUCB(Learner):
    r"""RestartQ-UCB (Hoeffding) of Mao et al.; see the module docstring.

    Parameters
    ----------
    epochs : int >= 1, optional
        ``D``, the number of epochs (restart every :math:`\lceil K/D\rceil` episodes). Default:
        the theorem's choice :func:`restart_epochs` from ``variation_budget``.
    variation_budget : float >= 0, optional
        :math:`\Delta` for the theorem's ``D`` (and :meth:`bound`). Default: the budget of the
        environment being run (the theorem assumes :math:`\Delta` known), 0 for a stationary
        MDP (one epoch). Give ``epochs`` or ``variation_budget``, not both.
    local_budgets : bool, default False
        Add :math:`2b_\Delta` with the epoch's true local budgets (Theorem 1; known only to
        an oracle: read from the non-stationary MDP). False: update rule (1), Theorem 2.
    delta : float in (0, 1), default 0.01
        :math:`\iota=\log(2/\delta)`.
    c : float >= 0, default 1.0
        Constant of the Hoeffding bonus (recalled as 1; see the provenance page).
    bonus_scale : float >= 0, default 1.0
        Multiplies ``b`` (not :math:`b_\Delta`); 1 = theory.

    Notes
    -----
    N1; stage-dependent tables; the played policy is greedy in ``Q`` at the start of the
    episode (``Q_h`` changes only at step ``h``). Runs on a stationary MDP with
    :func:`mdptheory.run` and on a :class:`~mdptheory.core.nonstationary.NonStationaryMDP`
    with :func:`mdptheory.regret.nonstationary.run_nonstationary` (compiled on both).
    """

    name = "RestartQ-UCB"
    normalization = "N1"

    def __init__(self, *, epochs: int | None = None, variation_budget: float | None = None,
                 local_budgets: bool = False, delta: float = 0.01, c: float = 1.0, bonus_scale: float = 1.0):
        self.epochs, self.variation_budget = check_forgetting("epochs", epochs, variation_budget, infinite=False)
        self.local_budgets = check_bool("local_budgets", local_budgets)
        self.delta = check_delta(delta)
        self.c = check_scale("c", c)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)

    # -- run-level hooks ------------------------------------------------------------------
    def _schedule(self, S, A, H, K, env_variation):
        """``(epoch length, b_Delta per epoch)`` for a run of ``K`` episodes."""
        if self.epochs is not None:
            D = min(self.epochs, K)
        else:
            var = self.variation_budget if self.variation_budget is not None else env_variation
            D = restart_epochs(S, A, H, K, var)
        length = -(-K // D)
        return length, np.zeros(-(-K // length))

    def prepare(self, mdp, episodes):
        super().prepare(mdp, episodes)
        self._env_variation = 0.0                              # a stationary MDP
        self._epoch_len, self._bdelta = self._schedule(mdp.S, mdp.A, mdp.H, self._K, 0.0)

    def prepare_nonstationary(self, ns_mdp, episodes):
        """Read the environment's variation budget (the theorem's :math:`\\Delta`, used when
        neither ``epochs`` nor ``variation_budget`` is given) and, with ``local_budgets``,
        the local budgets of each epoch."""
        K = int(episodes)
        self._env_variation = ns_mdp.variation(0, K - 1).delta
        self._epoch_len, self._bdelta = self._schedule(ns_mdp.S, ns_mdp.A, ns_mdp.H, K, self._env_variation)
        if self.local_budgets:
            self._bdelta = epoch_local_budgets(ns_mdp, K, self._epoch_len)

    @property
    def epoch_length(self) -> int:
        """Episodes per epoch of the last prepared run."""
        return self._epoch_len

    # -- teaching path --------------------------------------------------------------------
    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._iota = math.log(2.0 / self.delta)
        self._epoch = -1
        self._restart()

    def _restart(self):
        """A new epoch: forget everything (Q = V = H - h, counts and stage sums 0)."""
        H, S, A = self._H, self._S, self._A
        togo = np.arange(H, -1, -1, dtype=float)                  # H - h for h = 0..H
        self._Q = np.repeat(togo[:H], S * A).reshape(H, S, A)
        self._V = np.repeat(togo, S).reshape(H + 1, S)
        self._n = np.zeros((H, S, A), dtype=np.int64)              # N: visits in this epoch
        self._stage_start = np.zeros((H, S, A), dtype=np.int64)    # N when the stage began
        self._stage = np.zeros((H, S, A, 2))                       # (r_check, v_check)
        self._ends, self._ends_upto = frozenset(), 0

    def begin_episode(self, k):
        if k % self._epoch_len == 0:
            self._restart()
            self._epoch = k // self._epoch_len
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def observe(self, h, s, a, r, s_next):
        self._stage[h, s, a] += (r, self._V[h + 1, s_next])
        self._n[h, s, a] += 1
        n = int(self._n[h, s, a])
        if n > self._ends_upto:                                    # grow the schedule L on demand
            self._ends_upto = 2 * n
            self._ends = frozenset(stage_ends(self._H, self._ends_upto))
        if n in self._ends:                                        # N in L: the stage of (h,s,a) ends
            nc = float(n - self._stage_start[h, s, a])
            r_chk, v_chk = self._stage[h, s, a].tolist()
            b = self.c * math.sqrt(self._H * self._H * self._iota / nc)
            target = r_chk / nc + v_chk / nc + self.bonus_scale * b + 2.0 * self._bdelta[self._epoch]
            self._Q[h, s, a] = min(target, self._Q[h, s, a])
            self._V[h, s] = self._Q[h, s].max()
            self._stage[h, s, a] = 0.0
            self._stage_start[h, s, a] = n

    # -- compiled path --------------------------------------------------------------------
    def _params(self, H):
        return (int(H), math.log(2.0 / self.delta), self.bonus_scale, self.c, int(self._epoch_len),
                np.ascontiguousarray(self._bdelta, dtype=np.float64))

    def compiled(self, mdp, episodes):
        return CompiledLoop.on_one_segment(_restartq_ns_loop, self._params(mdp.H))

    def compiled_nonstationary(self, ns_mdp, episodes):
        return CompiledLoop(_restartq_ns_loop, self._params(ns_mdp.H))

    # -- theory ---------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None, *, variation=None):
        r"""Theorems 1-2 of Mao et al. (Hoeffding; with or without local budgets):
        :math:`S^{1/3}A^{1/3}\Delta^{1/3}H^{5/3}T^{2/3}`, ``T = KH``, logarithmic factors and
        absolute constants omitted (``explicit_constants=False``), N1, stage-dependent, for
        :math:`T=\Omega(SA\Delta H^2)`. :math:`\Delta`: ``variation``, else
        ``variation_budget``, else the budget of the last non-stationary run; it must be > 0."""
        K, delta = self._bound_args(S, A, H, K, delta)
        if variation is None:
            variation = self.variation_budget if self.variation_budget is not None else getattr(
                self, "_env_variation", None)
        if variation is None:
            raise ValueError("RestartQUCB.bound needs the variation budget: pass variation=..., set "
                             "variation_budget, or run the learner on a NonStationaryMDP first")
        variation = check_real("variation", variation, 0.0, low_open=True)
        T = K * H
        lead = (S * A * variation) ** (1.0 / 3.0) * H ** (5.0 / 3.0) * T ** (2.0 / 3.0)
        return regret_bound(lead, 0.0, H=H, K=K, normalization="N1", setting="INHOM",
                            theorem="Mao, Zhang, Zhu, Simchi-Levi & Basar 2021, Theorems 1-2 (RestartQ-UCB, "
                                    "Hoeffding): O~(S^1/3 A^1/3 Delta^1/3 H^5/3 T^2/3), unit constants",
                            explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def _restartq_ns_loop(Ps, Rs, inits, seg_starts, seg_models, noise, noise_std, v_stars, K, eval_every,
                      rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed on a non-stationary MDP (the engine's clock: episode
    ``k`` plays ``Ps[m]`` of its segment); per-``(h, s, a)`` stage counters instead of the
    teaching path's shared schedule; the greedy policy is kept up to date in place."""
    H, iota, scale, c, epoch_len, bdelta = params
    S = Ps.shape[2]
    A = Ps.shape[3]
    Hf = float(H)
    Q = np.empty((H, S, A))
    V = np.zeros((H + 1, S))
    n = np.zeros((H, S, A), dtype=np.int64)           # N: visits in this epoch
    nc_arr = np.zeros((H, S, A), dtype=np.int64)      # N_check: visits in this stage
    next_end = np.empty((H, S, A), dtype=np.int64)    # the next element of L
    e_len = np.empty((H, S, A), dtype=np.int64)       # the current stage length e_i
    r_chk = np.zeros((H, S, A))
    v_chk = np.zeros((H, S, A))
    pi = np.zeros((H, S), dtype=np.int64)
    Vbuf = np.zeros((H + 1, S))
    pi_prev = np.full((H, S), -1, dtype=np.int64)
    seg = 0
    m = seg_models[0]
    bd = 0.0
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for k in range(K):
        seg = segment_at(k, seg, seg_starts)
        if seg_models[seg] != m:
            m = seg_models[seg]
            pi_prev[0, 0] = -1                        # new model: evaluate all stages afresh
        if k % epoch_len == 0:                        # restart: Q = V = H - h, all counts 0
            bd = bdelta[k // epoch_len]
            for h in range(H):
                for s in range(S):
                    V[h, s] = Hf - h
                    pi[h, s] = 0
                    for a in range(A):
                        Q[h, s, a] = Hf - h
                        n[h, s, a] = 0
                        nc_arr[h, s, a] = 0
                        next_end[h, s, a] = H
                        e_len[h, s, a] = H
                        r_chk[h, s, a] = 0.0
                        v_chk[h, s, a] = 0.0
        P = Ps[m]
        R = Rs[m]
        init = inits[m]
        record_regret_det_incremental(k, eval_every, P, R, init, v_stars[m], pi, pi_prev, Vbuf, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, init, pi, xs, acts, rs)
        for h in range(H):          # the per-step update, replayed in step order
            s, a, r, s2 = xs[h], acts[h], rs[h], xs[h + 1]
            r_chk[h, s, a] += r
            v_chk[h, s, a] += V[h + 1, s2]
            n[h, s, a] += 1
            nc_arr[h, s, a] += 1
            if n[h, s, a] == next_end[h, s, a]:       # N in L: the stage ends
                nc = float(nc_arr[h, s, a])
                b = c * math.sqrt(H * H * iota / nc)
                target = r_chk[h, s, a] / nc + v_chk[h, s, a] / nc + scale * b + 2.0 * bd
                if target < Q[h, s, a]:
                    Q[h, s, a] = target
                pi[h, s], V[h, s] = greedy_action(Q, h, s)
                nc_arr[h, s, a] = 0
                r_chk[h, s, a] = 0.0
                v_chk[h, s, a] = 0.0
                el = e_len[h, s, a]
                el = el + el // H                     # e_{i+1} = floor((1 + 1/H) e_i)
                e_len[h, s, a] = el
                next_end[h, s, a] += el

r"""Maxmin Q-learning (Lan, Pan, Fyshe & White, ICLR 2020, Algorithm 1), tabular, step-based.

``N`` tables :math:`Q^1..Q^N` (stage tables on an episodic model), each with its own
step-size counters, and their minimum :math:`Q^{\min}(s,a)=\min_iQ^i(s,a)`. Act
epsilon-greedy for :math:`Q^{\min}` (ties at random). After ``r, s'``: draw a uniformly random
subset :math:`\mathcal S` of ``n_updated`` tables (default 1, as the authors' code and
mushroom-rl), build **one** target from :math:`Q^{\min}` *before* any update,

.. math::
    y=r+\gamma\max_{a'}Q^{\min}(s',a'),\qquad
    Q^i(s,a)\leftarrow Q^i(s,a)+\alpha^i_n(s,a)\bigl[y-Q^i(s,a)\bigr]\quad(i\in\mathcal S),

bootstrap 0 at a terminal ``s'``. ``N = 1`` is Q-learning (bit for bit: no subset draw
when ``n_updated = N``). Theorem 1 of the paper (errors :math:`Q^i=Q^*+e^i`,
:math:`e^i\sim U(-\tau,\tau)` i.i.d., ``M`` actions of equal value): the bias of the target
:math:`\gamma(\max_aQ^{\min}-\max_aQ^*)` is :math:`\gamma\tau(1-2t_{MN})`,
:math:`t_{MN}=M!/\prod_{k=1}^M(k+1/N)`, decreasing in ``N``, positive at ``N = 1`` and
negative for large ``N`` (:func:`mdptheory.regret.bias.min_max_bias_uniform`). Reported
estimate and acting values :math:`Q^{\min}`; bootstrap :math:`\max_{a}Q^{\min}(s,a)`.

Random draws per step: behaviour and environment (:mod:`mdptheory.learners.step_based`),
then ``n_updated`` Fisher-Yates draws for the subset when ``n_updated < N``.

Provenance and reconstructions: proofs_notes/overestimation.md

References: Q. Lan, Y. Pan, A. Fyshe, M. White, "Maxmin Q-learning: Controlling the
Estimation Bias of Q-learning", ICLR 2020, arXiv:2002.06487.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdptheory.core.validation import check_int
from mdptheory.learners.step_based import (
    StepLearner,
    StepLoop,
    _max_available,
    _running_min,
    begin_step,
    behaviour_action,
    episode_end,
    noisy_step,
    random_subset,
    random_subset_ref,
    record_step,
    step_arrays,
    subset_min_max,
    td_update,
    write_snapshot,
)

__all__ = ["MaxminQLearning"]


class MaxminQLearning(StepLearner):
    r"""Tabular Maxmin Q-learning; see the module docstring.

    Parameters
    ----------
    n_tables : int >= 1, default 2
        ``N``, the number of tables (the bias knob).
    n_updated : int in [1, n_tables], default 1
        Tables updated per step (the subset :math:`\mathcal S` of Algorithm 1).
    alpha, alpha_decay, epsilon, epsilon_decay, init
        As for :class:`~mdptheory.learners.q_learning.QLearning` (step-size counters per
        table).

    Notes
    -----
    Cost :math:`O(NA)` per step (the minimum over tables at ``s`` and ``s'``).
    """

    name = "Maxmin Q-learning"

    def __init__(self, n_tables: int = 2, *, n_updated: int = 1, alpha: float = 0.1, alpha_decay: float = 0.0,
                 epsilon: float = 0.1, epsilon_decay: float = 0.0, init: float = 0.0):
        self.n_tables = check_int("n_tables", n_tables, 1)
        self.n_updated = check_int("n_updated", n_updated, 1, self.n_tables)
        self._schedules(alpha, alpha_decay, epsilon, epsilon_decay, init)

    def reset(self, env, rng):
        super().reset(env, rng)
        self._n = np.zeros((self.n_tables, env.HQ, env.S, env.A))

    def observe(self, h, s, a, r, s_next, done):
        env = self._env
        upd = random_subset_ref(self._rng, self.n_tables, self.n_updated)
        v = 0.0
        if not done:          # one target from Q^min, before any table changes
            qmin = _running_min(self._Q[:, self._next(h), s_next], list(range(self.n_tables)))
            v = max(qmin[b] for b in env.avail[s_next, :env.n_avail[s_next]])
        y = r + env.gamma * v
        for i in upd:
            self._n[i, h, s, a] += 1.0
            q = self._Q[i, h, s, a]
            self._Q[i, h, s, a] = q + self._lr(self._n[i, h, s, a]) * (y - q)

    def acting_values(self, tables):
        tables = np.asarray(tables)
        return _running_min(tables, list(range(tables.shape[0])))

    def estimate(self, tables):
        return self.acting_values(tables)

    def bootstrap_values(self, tables, available):
        return _max_available(self.acting_values(tables), available)

    def compiled(self, env):
        return StepLoop(_maxmin_loop, (self.n_tables, self.n_updated, self.alpha, self.alpha_decay, self.epsilon,
                                       self.epsilon_decay, self.init))


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def _maxmin_loop(P, R, law, scale, terminal, avail, n_avail, initial, gamma, H, steps, ckpt, rng, params,
                 snap_q, snap_n, states_out, actions_out, rewards_out, starts_out):
    N, m, alpha, alpha_decay, epsilon, epsilon_decay, init = params
    Q, visits, vals = step_arrays(P, H, N, init)
    n = np.zeros(Q.shape)
    perm = np.arange(N)
    ident = np.arange(N)
    rec = states_out.shape[0] > 0
    ptr, s, h, start = 0, 0, 0, True
    for t in range(steps + 1):
        while ptr < ckpt.shape[0] and ckpt[ptr] == t:
            write_snapshot(Q, visits, snap_q, snap_n, ptr)
            ptr += 1
        if t == steps:
            break
        s, h, eps = begin_step(rng, initial, visits, s, h, start, epsilon, epsilon_decay)
        for a in range(vals.shape[0]):                       # act on Q^min
            mn = Q[h, s, a, 0]
            for i in range(1, N):
                if Q[h, s, a, i] < mn:
                    mn = Q[h, s, a, i]
            vals[a] = mn
        a = behaviour_action(rng, vals, avail, n_avail, s, eps)
        r, s2 = noisy_step(rng, P, R, law, scale, h, s, a)
        done, hn = episode_end(terminal, H, h, s2)
        random_subset(rng, perm, m)                          # the tables to update
        v = 0.0
        if not done:
            v = subset_min_max(Q, hn, s2, ident, N, avail, n_avail)   # max_a' Q^min(s', a')
        y = r + gamma * v
        for j in range(m):
            td_update(Q, n, h, s, a, perm[j], y, alpha, alpha_decay)
        if rec:
            record_step(states_out, actions_out, rewards_out, starts_out, t, s, a, r, start)
        s, h, start = s2, hn, done

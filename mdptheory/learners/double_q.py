r"""Double Q-learning (van Hasselt, NeurIPS 2010, Algorithm 1), tabular, step-based.

Two tables :math:`Q^A, Q^B` (stage tables on an episodic model) with their own step-size
counters. Act epsilon-greedy for :math:`Q^A+Q^B` (ties at random). After ``r, s'``, with
probability 1/2 update A, else B (one ``rng.random()``, ``u < 1/2`` -> A):

.. math::
    a^*=\arg\max_{a'}Q^A(s',a'),\qquad
    Q^A(s,a)\leftarrow Q^A(s,a)+\alpha^A_n(s,a)\Bigl[r+\gamma Q^B(s',a^*)-Q^A(s,a)\Bigr],

and symmetrically for B (:math:`b^*=\arg\max Q^B(s',\cdot)`, evaluated by :math:`Q^A`);
ties in :math:`a^*` are broken at random (one ``rng.random()``, only on a tie), the bootstrap
is 0 at a terminal ``s'``. The *double estimator* :math:`Q^B(s',\arg\max Q^A)` does not
over-estimate :math:`\max_{a'}\mathbb E\,Q(s',a')` in expectation (van Hasselt 2010, Lemma 1)
and may under-estimate it. Reported estimate: :math:`(Q^A+Q^B)/2`; expected bootstrap:
:math:`\tfrac12[Q^B(s',a^*)+Q^A(s',b^*)]`, averaged over tied maximisers.

Step sizes :math:`\alpha_n=\alpha_0 n^{-\omega}` per table and pair (van Hasselt: :math:`1/n`
and :math:`1/n^{0.8}`; Sutton & Barto's Figure 6.5: constant 0.1).

Provenance and reconstructions: proofs_notes/overestimation.md

References: H. van Hasselt, "Double Q-learning", NeurIPS 2010; R. S. Sutton, A. G. Barto,
"Reinforcement Learning: An Introduction", 2nd ed., 2018, Section 6.7 (Figure 6.5).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdptheory.learners.step_based import (
    StepLearner,
    StepLoop,
    begin_step,
    behaviour_action,
    episode_end,
    greedy_random_tie,
    greedy_random_tie_ref,
    noisy_step,
    record_step,
    step_arrays,
    td_update,
    write_snapshot,
)

__all__ = ["DoubleQLearning", "double_bootstrap_ref"]


def double_bootstrap_ref(QA, QB, available) -> np.ndarray:
    r""":math:`\tfrac12\bigl(\overline{Q^B}(\arg\max Q^A)+\overline{Q^A}(\arg\max Q^B)\bigr)`
    per ``(h, s)``, each bar the average over the tied maximisers among the available
    actions (the expectation of the random tie-break and of the coin)."""
    def evaluate(sel, ev):
        v = np.where(available[None], sel, -np.inf)
        tie = (v == v.max(axis=2, keepdims=True)) & available[None]
        return (np.where(tie, ev, 0.0)).sum(axis=2) / tie.sum(axis=2)
    return 0.5 * (evaluate(QA, QB) + evaluate(QB, QA))


class DoubleQLearning(StepLearner):
    r"""Tabular Double Q-learning; see the module docstring.

    Parameters
    ----------
    alpha, alpha_decay, epsilon, epsilon_decay, init
        As for :class:`~mdptheory.learners.q_learning.QLearning` (step-size counters per
        table).

    Notes
    -----
    Random draws per step: the behaviour and environment draws of
    :mod:`mdptheory.learners.step_based`, then the coin (one ``rng.random()``), then, unless
    the transition ends the episode, a tie-break draw when the updated table's maximisers at
    ``s'`` tie. Cost :math:`O(A)` per step.
    """

    name = "Double Q-learning"

    def __init__(self, *, alpha: float = 0.1, alpha_decay: float = 0.0, epsilon: float = 0.1,
                 epsilon_decay: float = 0.0, init: float = 0.0):
        self._schedules(alpha, alpha_decay, epsilon, epsilon_decay, init)

    n_tables = 2

    def reset(self, env, rng):
        super().reset(env, rng)
        self._n = np.zeros((2, env.HQ, env.S, env.A))

    def observe(self, h, s, a, r, s_next, done):
        env = self._env
        i = 0 if self._rng.random() < 0.5 else 1          # update A (0) or B (1)
        j = 1 - i
        v = 0.0
        if not done:
            hn = self._next(h)
            acts = env.avail[s_next, :env.n_avail[s_next]]
            star = greedy_random_tie_ref(self._rng, self._Q[i, hn, s_next], acts)   # argmax of the updated table
            v = self._Q[j, hn, s_next, star]                                          # evaluated by the other
        y = r + env.gamma * v
        self._n[i, h, s, a] += 1.0
        q = self._Q[i, h, s, a]
        self._Q[i, h, s, a] = q + self._lr(self._n[i, h, s, a]) * (y - q)

    def acting_values(self, tables):
        tables = np.asarray(tables)
        return tables[0] + tables[1]

    def estimate(self, tables):
        tables = np.asarray(tables)
        return (tables[0] + tables[1]) * 0.5

    def bootstrap_values(self, tables, available):
        tables = np.asarray(tables)
        return double_bootstrap_ref(tables[0], tables[1], available)

    def compiled(self, env):
        return StepLoop(_double_q_loop, (self.alpha, self.alpha_decay, self.epsilon, self.epsilon_decay,
                                         self.init))


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def _double_q_loop(P, R, law, scale, terminal, avail, n_avail, initial, gamma, H, steps, ckpt, rng, params,
                   snap_q, snap_n, states_out, actions_out, rewards_out, starts_out):
    alpha, alpha_decay, epsilon, epsilon_decay, init = params
    Q, visits, vals = step_arrays(P, H, 2, init)
    n = np.zeros(Q.shape)
    rec = states_out.shape[0] > 0
    ptr, s, h, start = 0, 0, 0, True
    for t in range(steps + 1):
        while ptr < ckpt.shape[0] and ckpt[ptr] == t:
            write_snapshot(Q, visits, snap_q, snap_n, ptr)
            ptr += 1
        if t == steps:
            break
        s, h, eps = begin_step(rng, initial, visits, s, h, start, epsilon, epsilon_decay)
        for a in range(vals.shape[0]):
            vals[a] = Q[h, s, a, 0] + Q[h, s, a, 1]      # act on Q^A + Q^B
        a = behaviour_action(rng, vals, avail, n_avail, s, eps)
        r, s2 = noisy_step(rng, P, R, law, scale, h, s, a)
        done, hn = episode_end(terminal, H, h, s2)
        i = 0 if rng.random() < 0.5 else 1              # the coin: update A (0) or B (1)
        v = 0.0
        if not done:
            for b in range(vals.shape[0]):
                vals[b] = Q[hn, s2, b, i]
            star = greedy_random_tie(rng, vals, avail, n_avail, s2)   # a* = argmax of the updated table
            v = Q[hn, s2, star, 1 - i]                                # evaluated by the other one
        td_update(Q, n, h, s, a, i, r + gamma * v, alpha, alpha_decay)
        if rec:
            record_step(states_out, actions_out, rewards_out, starts_out, t, s, a, r, start)
        s, h, start = s2, hn, done

r"""Q-learning (Watkins 1989; Watkins & Dayan 1992), tabular, step-based, epsilon-greedy.

One table :math:`Q` (stage tables :math:`Q_h` on an episodic model). After acting ``a`` in
``s`` (epsilon-greedy for :math:`Q(s,\cdot)`, ties at random) and observing ``r, s'``:

.. math::
    Q(s,a)\leftarrow Q(s,a)+\alpha_n(s,a)\Bigl[r+\gamma\max_{a'}Q(s',a')-Q(s,a)\Bigr],
    \qquad \alpha_n=\alpha_0\,n(s,a)^{-\omega},

the update of van Hasselt (2010), eq. (1); the bootstrap is 0 at a terminal ``s'`` (or after
the last stage) and the maximum runs over the available actions of ``s'``. Step sizes:
constant (:math:`\omega=0`; Sutton & Barto's :math:`\alpha=0.1`), :math:`1/n` and
:math:`1/n^{0.8}` (van Hasselt's two schedules). The target
:math:`\max_{a'}Q(s',a')` over-estimates :math:`\max_{a'}\mathbb E\,Q(s',a')` whenever the
estimates are noisy (Jensen: :math:`\mathbb E\max\ge\max\mathbb E`) -- the *maximization bias*
that :class:`DoubleQLearning`, :class:`MaxminQLearning` and :class:`REDQ` reduce; with one
table both of the latter are this learner, bit for bit. Reported estimate, acting values and
bootstrap: :math:`Q` itself.

Random draws per step: the behaviour and environment draws of
:mod:`mdptheory.learners.step_based`; the update draws nothing.

Provenance and reconstructions: proofs_notes/overestimation.md

References: C. J. C. H. Watkins, P. Dayan, "Q-learning", Machine Learning 8 (1992);
H. van Hasselt, "Double Q-learning", NeurIPS 2010; R. S. Sutton, A. G. Barto,
"Reinforcement Learning: An Introduction", 2nd ed., 2018, Section 6.5 and Example 6.7.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdptheory.learners.step_based import (
    StepLearner,
    StepLoop,
    _max_available,
    begin_step,
    behaviour_action,
    episode_end,
    noisy_step,
    record_step,
    step_arrays,
    td_update,
    write_snapshot,
)

__all__ = ["QLearning"]


class QLearning(StepLearner):
    r"""Tabular Q-learning with epsilon-greedy exploration; see the module docstring.

    Parameters
    ----------
    alpha : float in (0, 1], default 0.1
        :math:`\alpha_0` of the step size :math:`\alpha_0 n^{-\omega}`.
    alpha_decay : float in [0, 1], default 0.0
        :math:`\omega` (0 constant, 1 for :math:`1/n`, 0.8 for :math:`1/n^{0.8}`).
    epsilon : float in [0, 1], default 0.1
        :math:`\varepsilon_0` of :math:`\varepsilon=\min(1,\varepsilon_0 n(s)^{-\text{decay}})`.
    epsilon_decay : float >= 0, default 0.0
        0 = constant; 0.5 with ``epsilon=1`` is van Hasselt's :math:`1/\sqrt{n(s)}`.
    init : float, default 0.0
        Initial table value (Sutton & Barto: 0).

    Notes
    -----
    Cost :math:`O(A)` per step. Runs with :func:`mdptheory.learners.step_based.run_steps`;
    no regret ``bound`` (not an episodic regret learner).
    """

    name = "Q-learning"

    def __init__(self, *, alpha: float = 0.1, alpha_decay: float = 0.0, epsilon: float = 0.1,
                 epsilon_decay: float = 0.0, init: float = 0.0):
        self._schedules(alpha, alpha_decay, epsilon, epsilon_decay, init)

    def reset(self, env, rng):
        super().reset(env, rng)
        self._n = np.zeros((env.HQ, env.S, env.A))

    def observe(self, h, s, a, r, s_next, done):
        env = self._env
        v = 0.0
        if not done:          # max over the available actions of s'
            v = max(self._Q[0, self._next(h), s_next, b] for b in env.avail[s_next, :env.n_avail[s_next]])
        y = r + env.gamma * v
        self._n[h, s, a] += 1.0
        q = self._Q[0, h, s, a]
        self._Q[0, h, s, a] = q + self._lr(self._n[h, s, a]) * (y - q)

    def acting_values(self, tables):
        return np.asarray(tables)[0].copy()

    def estimate(self, tables):
        return np.asarray(tables)[0].copy()

    def bootstrap_values(self, tables, available):
        return _max_available(np.asarray(tables)[0], available)

    def compiled(self, env):
        return StepLoop(_qlearning_loop, (self.alpha, self.alpha_decay, self.epsilon, self.epsilon_decay,
                                          self.init))


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def _qlearning_loop(P, R, law, scale, terminal, avail, n_avail, initial, gamma, H, steps, ckpt, rng, params,
                    snap_q, snap_n, states_out, actions_out, rewards_out, starts_out):
    alpha, alpha_decay, epsilon, epsilon_decay, init = params
    Q, visits, vals = step_arrays(P, H, 1, init)
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
            vals[a] = Q[h, s, a, 0]
        a = behaviour_action(rng, vals, avail, n_avail, s, eps)
        r, s2 = noisy_step(rng, P, R, law, scale, h, s, a)
        done, hn = episode_end(terminal, H, h, s2)
        v = 0.0
        if not done:                                   # max_{a'} Q(s', a') over available a'
            v = Q[hn, s2, avail[s2, 0], 0]
            for j in range(1, n_avail[s2]):
                q = Q[hn, s2, avail[s2, j], 0]
                if q > v:
                    v = q
        td_update(Q, n, h, s, a, 0, r + gamma * v, alpha, alpha_decay)
        if rec:
            record_step(states_out, actions_out, rewards_out, starts_out, t, s, a, r, start)
        s, h, start = s2, hn, done

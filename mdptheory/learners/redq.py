r"""Tabular REDQ: randomized ensembled double Q-learning (Chen, Wang, Zhou & Ross, ICLR 2021).

``N`` tables :math:`Q^1..Q^N` (stage tables on an episodic model), one step-size counter per
pair. Act epsilon-greedy for the mean :math:`\bar Q=\frac1N\sum_iQ^i` (ties at random). Each
environment step makes ``G`` (``utd``) updates: update ``g`` takes the new transition
(``g = 0``) or one drawn uniformly from the replay buffer (``g >= 1``), draws a uniformly random
subset :math:`\mathcal M` of ``M`` tables and sets the **same** target for all tables:

.. math::
    y=r+\gamma\max_{a'}\min_{j\in\mathcal M}Q^j(s',a'),\qquad
    Q^i(s,a)\leftarrow Q^i(s,a)+\alpha_n(s,a)\bigl[y-Q^i(s,a)\bigr]\quad(i=1..N),

bootstrap 0 at a terminal ``s'``. ``M = N`` is an all-table Maxmin target; ``N = M = G = 1`` is
Q-learning bit for bit. A shared target shrinks the difference of two tables at a pair by
:math:`1-\alpha_n` per update: equal initial tables stay equal (the ensemble *is* Q-learning)
and ``init_spread`` diversity fades. The paper's Theorem 1 (errors i.i.d. :math:`U(-\tau,\tau)`):
the expected target bias does not depend on ``N`` and decreases in ``M``; by the Maxmin
computation it is :math:`\gamma\tau(1-2t_{AM})` for ``A`` actions of equal value
(:func:`mdptheory.regret.bias.min_max_bias_uniform`). Reported estimate and acting values:
:math:`\bar Q` (the paper's "average Q"); expected bootstrap: the mean over all
:math:`\binom NM` subsets of :math:`\max_{a}\min_{j\in\mathcal M}Q^j(s,a)`.

Draws per update ``g``: for ``g >= 1`` a replay index ``floor(u n)`` (``n`` stored transitions,
the new one included), then ``M`` Fisher-Yates draws when ``M < N``.

Provenance and reconstructions: proofs_notes/overestimation.md (the replay rule for ``G > 1``
is a reconstruction of the deep algorithm's minibatch updates with minibatch size 1).

References: X. Chen, C. Wang, Z. Zhou, K. Ross, "Randomized Ensembled Double Q-Learning:
Learning Fast Without a Model", ICLR 2021, arXiv:2101.05982.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdptheory.core.validation import check_int, check_real
from mdptheory.learners.step_based import (
    StepLearner,
    StepLoop,
    _running_min,
    _running_sum,
    begin_step,
    behaviour_action,
    episode_end,
    noisy_step,
    random_subset,
    random_subset_ref,
    record_step,
    step_arrays,
    subset_bootstrap,
    subset_min_max,
    write_snapshot,
)

__all__ = ["REDQ"]


class REDQ(StepLearner):
    r"""Tabular REDQ; see the module docstring.

    Parameters
    ----------
    n_tables : int >= 1, default 10
        ``N`` (the official code's ``num_Q = 10``).
    subset : int in [1, n_tables], default 2
        ``M``, tables in the in-target minimum (``num_min = 2``).
    utd : int >= 1, default 1
        ``G`` updates per environment step. The deep algorithm uses ``G = 20`` on minibatches
        of 256; the tabular box updates once per transition (``G = 1``, the default).
    buffer_size : int >= 1, default 1_000_000
        Replay capacity for ``G > 1`` (first in, first out; the official ``replay_size``).
    init_spread : float >= 0, default 0.0
        Tables start at ``init + init_spread * (2u - 1)``, ``u`` uniform, i.i.d. per entry: the
        ``N * HQ * S * A`` draws come first, in the C order of the ``(N, HQ, S, A)`` stack
        (none when 0).
    alpha, alpha_decay, epsilon, epsilon_decay, init
        As for :class:`~mdptheory.learners.q_learning.QLearning` (one step-size counter per
        pair, counting every update of it, replays included).

    Notes
    -----
    Cost :math:`O(NA + G(MA + N))` per step.
    """

    name = "REDQ"

    def __init__(self, n_tables: int = 10, *, subset: int = 2, utd: int = 1, buffer_size: int = 1_000_000,
                 init_spread: float = 0.0, alpha: float = 0.1, alpha_decay: float = 0.0, epsilon: float = 0.1,
                 epsilon_decay: float = 0.0, init: float = 0.0):
        self.n_tables = check_int("n_tables", n_tables, 1)
        self.subset = check_int("subset", subset, 1, self.n_tables)
        self.utd = check_int("utd", utd, 1)
        self.buffer_size = check_int("buffer_size", buffer_size, 1)
        self.init_spread = check_real("init_spread", init_spread, 0.0)
        self._schedules(alpha, alpha_decay, epsilon, epsilon_decay, init)

    def reset(self, env, rng):
        super().reset(env, rng)
        if self.init_spread > 0.0:
            self._Q = self.init + self.init_spread * (2.0 * rng.random(self._Q.shape) - 1.0)
        self._n = np.zeros((env.HQ, env.S, env.A))
        self._buffer = []          # (h, s, a, r, s', done), oldest first, at most buffer_size

    def _update(self, h, s, a, r, s_next, done):
        env = self._env
        members = random_subset_ref(self._rng, self.n_tables, self.subset)
        v = 0.0
        if not done:          # max_a' min_{j in M} Q^j(s', a'), the same target for every table
            qmin = _running_min(self._Q[:, self._next(h), s_next], members)
            v = max(qmin[b] for b in env.avail[s_next, :env.n_avail[s_next]])
        y = r + env.gamma * v
        self._n[h, s, a] += 1.0
        lr = self._lr(self._n[h, s, a])
        for i in range(self.n_tables):
            q = self._Q[i, h, s, a]
            self._Q[i, h, s, a] = q + lr * (y - q)

    def observe(self, h, s, a, r, s_next, done):
        if self.utd > 1:
            self._buffer.append((h, s, a, r, s_next, done))
            if len(self._buffer) > self.buffer_size:
                self._buffer.pop(0)
        self._update(h, s, a, r, s_next, done)
        for _ in range(self.utd - 1):
            k = len(self._buffer)
            self._update(*self._buffer[min(int(self._rng.random() * k), k - 1)])

    def acting_values(self, tables):
        tables = np.asarray(tables)
        return _running_sum(tables) / tables.shape[0]

    def estimate(self, tables):
        return self.acting_values(tables)

    def bootstrap_values(self, tables, available):
        return subset_bootstrap(np.asarray(tables), available, self.subset)

    def compiled(self, env):
        return StepLoop(_redq_loop, (self.n_tables, self.subset, self.utd, self.buffer_size, self.init_spread,
                                     self.alpha, self.alpha_decay, self.epsilon, self.epsilon_decay, self.init))


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def _redq_loop(P, R, law, scale, terminal, avail, n_avail, initial, gamma, H, steps, ckpt, rng, params,
               snap_q, snap_n, states_out, actions_out, rewards_out, starts_out):
    N, M, G, buffer_size, init_spread, alpha, alpha_decay, epsilon, epsilon_decay, init = params
    Q, visits, vals = step_arrays(P, H, N, init)
    HQ, S = visits.shape
    A = vals.shape[0]
    if init_spread > 0.0:                                      # C order of the (N, HQ, S, A) stack
        for i in range(N):
            for hh in range(HQ):
                for ss in range(S):
                    for aa in range(A):
                        Q[hh, ss, aa, i] = init + init_spread * (2.0 * rng.random() - 1.0)
    n = np.zeros((HQ, S, A))
    perm = np.arange(N)
    cap = min(buffer_size, steps) if G > 1 else 1
    bh = np.zeros(cap, dtype=np.int64)        # replay buffer (ring, oldest overwritten)
    bs = np.zeros(cap, dtype=np.int64)
    ba = np.zeros(cap, dtype=np.int64)
    br = np.zeros(cap)
    bs2 = np.zeros(cap, dtype=np.int64)
    bd = np.zeros(cap, dtype=np.bool_)
    stored = 0
    rec = states_out.shape[0] > 0
    ptr, s, h, start = 0, 0, 0, True
    for t in range(steps + 1):
        while ptr < ckpt.shape[0] and ckpt[ptr] == t:
            write_snapshot(Q, visits, snap_q, snap_n, ptr)
            ptr += 1
        if t == steps:
            break
        s, h, eps = begin_step(rng, initial, visits, s, h, start, epsilon, epsilon_decay)
        for a in range(A):                                     # act on the ensemble mean
            acc = Q[h, s, a, 0]
            for i in range(1, N):
                acc += Q[h, s, a, i]
            vals[a] = acc / N
        a = behaviour_action(rng, vals, avail, n_avail, s, eps)
        r, s2 = noisy_step(rng, P, R, law, scale, h, s, a)
        done, hn = episode_end(terminal, H, h, s2)
        if G > 1:
            k = stored % cap
            bh[k] = h
            bs[k] = s
            ba[k] = a
            br[k] = r
            bs2[k] = s2
            bd[k] = done
            stored += 1
        for g in range(G):
            uh, us, ua, ur, us2, ud = h, s, a, r, s2, done
            if g > 0:                                          # a uniformly replayed transition
                size = stored if stored < cap else cap
                k = int(rng.random() * size)
                if k > size - 1:
                    k = size - 1
                if stored > cap:                               # ring order: oldest first
                    k = (stored + k) % cap
                uh, us, ua, ur, us2, ud = bh[k], bs[k], ba[k], br[k], bs2[k], bd[k]
            random_subset(rng, perm, M)
            v = 0.0
            if not ud:
                v = subset_min_max(Q, uh + 1 if H > 0 else 0, us2, perm, M, avail, n_avail)
            y = ur + gamma * v
            n[uh, us, ua] += 1.0
            lr = alpha * n[uh, us, ua] ** (-alpha_decay)
            for i in range(N):                                 # the same target for every table
                Q[uh, us, ua, i] = Q[uh, us, ua, i] + lr * (y - Q[uh, us, ua, i])
        if rec:
            record_step(states_out, actions_out, rewards_out, starts_out, t, s, a, r, start)
        s, h, start = s2, hn, done

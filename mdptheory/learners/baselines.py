r"""Baseline learners without regret guarantee: uniform random, epsilon-greedy Q-learning and
greedy certainty equivalence.

* :class:`UniformRandom`: :math:`\pi_h(a|s)=1/A`.
* :class:`EpsilonGreedyQLearning`: :math:`Q_h(x,a)\leftarrow(1-\alpha_t)Q_h(x,a)+\alpha_t
  (r+V_{h+1}(x'))`, :math:`\alpha_t=(H+1)/(H+t)` (Jin et al. 2018, no bonus),
  :math:`V_h=\max_aQ_h`; episode ``k`` (0-based) plays
  :math:`\varepsilon_k=\min(1,\varepsilon(k+1)^{-\mathrm{decay}})`-greedy,

  .. math::
      \pi_h(a|s)=\frac{\varepsilon_k}{A}+(1-\varepsilon_k)\,\mathbb 1[a=\arg\max_{a'}Q_h(s,a')].

* :class:`CertaintyEquivalence`: plan on the empirical model (HOM, pooled counts),

  .. math::
      Q_h(s,a)=\frac{\sum r}{n(s,a)}+\frac{n(s,a,\cdot)\cdot V_{h+1}}{n(s,a)}\quad(n(s,a)>0),
      \qquad Q_h(s,a)=u\ \text{otherwise},\qquad V_h=\max_aQ_h.

Ties go to the lowest action. No exploration bonus: the last two can lock onto a suboptimal
policy (linear regret). :meth:`bound` is the trivial :math:`\mathrm{Regret}(K)\le KH`, which
any policy meets under N1 (per-step rewards in [0, 1]).

Provenance and reconstructions: proofs_notes/baselines.md

References: C. Jin, Z. Allen-Zhu, S. Bubeck, M. I. Jordan, "Is Q-learning Provably
Efficient?", NeurIPS 2018, arXiv:1807.03765 (the step size).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdptheory.core.validation import check_probability, check_real
from mdptheory.kernels.sampling import (categorical, env_step, greedy_action, record_regret_det, record_regret_stoch,
                                        rollout_det)
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound

__all__ = [
    "UniformRandom",
    "EpsilonGreedyQLearning",
    "CertaintyEquivalence",
    "epsilon_greedy_row",
    "epsilon_greedy_row_ref",
    "ce_plan",
    "ce_plan_ref",
]


def epsilon_greedy_row_ref(eps: float, A: int, g) -> np.ndarray:
    """Action probabilities of the ``eps``-greedy rule with greedy action ``g`` (plain twin of
    :func:`epsilon_greedy_row`); an integer array ``g[..., None]`` gives a whole table."""
    return np.where(np.arange(A) == g, eps / A + (1.0 - eps), eps / A)


def ce_plan_ref(N, n, Rsum, unvisited_value, H):
    """Backward induction on the empirical model, vectorised over ``(s, a)`` (plain twin of
    :func:`ce_plan`); returns ``(V, Q, pi)``."""
    S, A = n.shape
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    vis = n > 0
    c = np.where(vis, n, 1.0)
    for h in range(H - 1, -1, -1):
        Q[h] = np.where(vis, Rsum / c + (N @ V[h + 1]) / c, unvisited_value)
        V[h] = Q[h].max(axis=1)
    return V, Q, Q.argmax(axis=2).astype(np.int64)


class _Baseline(Learner):
    """No normalisation assumed; :meth:`bound` is the trivial linear bound."""

    normalization = None

    def bound(self, S, A, H, K, delta=None):
        """``Regret(K) <= K H`` under N1 (any policy; holds surely, so ``delta``, if given, is
        only checked)."""
        K, _ = self._bound_args(S, A, H, K, delta)
        return regret_bound(K * H, 0.0, H=H, K=K, normalization="N1", setting="any",
                            theorem="trivial: per-episode regret <= H under N1",
                            explicit_constants=True, delta=0.0)


class UniformRandom(_Baseline):
    r"""Plays every action with probability :math:`1/A` in every state and stage.

    Its per-episode pseudo-regret is the constant :math:`\rho\cdot(V^*_1 - V^{\mathrm{unif}}_1)`.
    """

    name = "uniform"

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._pi = np.full((H, S, A), 1.0 / A)

    def compiled(self, mdp, episodes):
        return CompiledLoop(_uniform_loop, (int(mdp.H),))


class EpsilonGreedyQLearning(_Baseline):
    r"""Episodic Q-learning with epsilon-greedy exploration; see the module docstring. One
    ``rng.random()`` per action.

    Parameters
    ----------
    epsilon : float in [0, 1], default 0.1
    decay : float >= 0, default 0.0
        0 = constant epsilon (linear regret); 0.5 gives :math:`\varepsilon_k\propto k^{-1/2}`.
    init_value : float or None, default None
        Initial ``Q`` and ``V`` (``None`` = ``H``: optimistic initialisation, as Jin et al.).
    """

    name = "eps-greedy-QL"

    def __init__(self, *, epsilon: float = 0.1, decay: float = 0.0, init_value: float | None = None):
        self.epsilon = check_probability("epsilon", epsilon)
        self.decay = check_real("decay", decay, 0.0)
        self.init_value = None if init_value is None else check_real("init_value", init_value)

    def _init(self, H):
        return float(H) if self.init_value is None else self.init_value

    def _eps(self, k):
        return min(1.0, self.epsilon * (k + 1.0) ** (-self.decay))

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        v0 = self._init(H)
        self._Q = np.full((H, S, A), v0)
        self._V = np.zeros((H + 1, S))
        self._V[:H] = v0
        self._N = np.zeros((H, S, A))
        self._greedy = np.zeros((H, S), dtype=np.int64)

    def begin_episode(self, k):
        # the played (H, S, A) table; the update at step h changes the greedy action of stage h
        # for the next episode only
        eps = self._eps(k)
        self._pi = epsilon_greedy_row_ref(eps, self._A, self._greedy[:, :, None])

    def observe(self, h, s, a, r, s_next):
        H = self._H
        self._N[h, s, a] += 1.0
        alpha = (H + 1.0) / (H + self._N[h, s, a])
        self._Q[h, s, a] = (1.0 - alpha) * self._Q[h, s, a] + alpha * (r + self._V[h + 1, s_next])
        self._greedy[h, s] = int(np.argmax(self._Q[h, s]))
        self._V[h, s] = float(self._Q[h, s].max())

    def compiled(self, mdp, episodes):
        return CompiledLoop(_epsq_loop, (int(mdp.H), self.epsilon, self.decay, self._init(mdp.H)))


class CertaintyEquivalence(_Baseline):
    r"""Greedy certainty equivalence; see the module docstring. Counts are pooled over stages
    (HOM), updated during the episode and used from the next one.

    Parameters
    ----------
    unvisited_value : float, default 0.0
        Value ``u`` of an unvisited pair (0 = pessimistic-greedy; ``H`` = optimistic start).
    """

    name = "CE"
    homogeneous = "P and R"

    def __init__(self, *, unvisited_value: float = 0.0):
        self.unvisited_value = check_real("unvisited_value", unvisited_value)


    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._N = np.zeros((S, A, S))
        self._n = np.zeros((S, A))
        self._Rsum = np.zeros((S, A))

    def begin_episode(self, k):
        _, self._Q, self._pi = ce_plan_ref(self._N, self._n, self._Rsum, self.unvisited_value, self._H)

    def observe(self, h, s, a, r, s_next):
        self._N[s, a, s_next] += 1.0
        self._n[s, a] += 1.0
        self._Rsum[s, a] += r

    def compiled(self, mdp, episodes):
        return CompiledLoop(_ce_loop, (int(mdp.H), self.unvisited_value))


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def epsilon_greedy_row(eps, A, g, row):
    """Compiled twin of :func:`epsilon_greedy_row_ref`, written into ``row (A,)``."""
    for j in range(A):
        row[j] = eps / A
    row[g] = eps / A + (1.0 - eps)


@njit(cache=True, nogil=True)
def ce_plan(N, n, Rsum, unvisited_value, H, V, Q, pi):
    """Compiled twin of :func:`ce_plan_ref` (loops over ``(s, a, s')``); writes ``V, Q, pi``."""
    S, A = n.shape
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        for s in range(S):
            for a in range(A):
                c = n[s, a]
                if c > 0.0:
                    acc = 0.0
                    for t in range(S):
                        acc += N[s, a, t] * V[h + 1, t]
                    q = Rsum[s, a] / c + acc / c
                else:
                    q = unvisited_value
                Q[h, s, a] = q
            pi[h, s], V[h, s] = greedy_action(Q, h, s)


@njit(cache=True, nogil=True)
def _uniform_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
                  regret_out, returns_out):
    H = params[0]
    S = P.shape[1]
    A = P.shape[2]
    probs = np.full((H, S, A), 1.0 / A)
    V = np.empty((H + 1, S))
    row = np.full(A, 1.0 / A)
    for k in range(K):
        record_regret_stoch(k, eval_every, P, R, initial, v_star, probs, V, regret_out)
        s = categorical(rng, initial)
        G = 0.0
        for h in range(H):
            a = categorical(rng, row)
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            G += r
            s = s2
        returns_out[k] = G


@njit(cache=True, nogil=True)
def _epsq_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
               regret_out, returns_out):
    H, epsilon, decay, init_value = params
    S = P.shape[1]
    A = P.shape[2]
    Hf = float(H)
    Q = np.full((H, S, A), init_value)
    V = np.zeros((H + 1, S))
    for h in range(H):
        for s in range(S):
            V[h, s] = init_value
    N = np.zeros((H, S, A))
    pi = np.zeros((H, S), dtype=np.int64)
    probs = np.empty((H, S, A))
    row = np.empty(A)
    Vb = np.empty((H + 1, S))
    for k in range(K):
        eps = epsilon * (k + 1.0) ** (-decay)
        if eps > 1.0:
            eps = 1.0
        if eval_every > 0 and k % eval_every == 0:
            for h in range(H):
                for s in range(S):
                    epsilon_greedy_row(eps, A, pi[h, s], probs[h, s])
            record_regret_stoch(k, eval_every, P, R, initial, v_star, probs, Vb, regret_out)
        s = categorical(rng, initial)
        G = 0.0
        for h in range(H):
            epsilon_greedy_row(eps, A, pi[h, s], row)
            a = categorical(rng, row)
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            G += r
            N[h, s, a] += 1.0
            alpha = (Hf + 1.0) / (Hf + N[h, s, a])          # Jin et al. 2018, no bonus
            Q[h, s, a] = (1.0 - alpha) * Q[h, s, a] + alpha * (r + V[h + 1, s2])
            arg, best = greedy_action(Q, h, s)
            pi[h, s] = arg
            V[h, s] = best
            s = s2
        returns_out[k] = G


@njit(cache=True, nogil=True)
def _ce_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
             regret_out, returns_out):
    H, unvisited_value = params
    S = P.shape[1]
    A = P.shape[2]
    N = np.zeros((S, A, S))
    n = np.zeros((S, A))
    Rsum = np.zeros((S, A))
    V = np.empty((H + 1, S))
    Q = np.empty((H, S, A))
    pi = np.empty((H, S), dtype=np.int64)
    Vb = np.empty((H + 1, S))
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for k in range(K):
        ce_plan(N, n, Rsum, unvisited_value, H, V, Q, pi)
        record_regret_det(k, eval_every, P, R, initial, v_star, pi, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        for h in range(H):
            N[xs[h], acts[h], xs[h + 1]] += 1.0
            n[xs[h], acts[h]] += 1.0
            Rsum[xs[h], acts[h]] += rs[h]

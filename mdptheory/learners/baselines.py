r"""Baseline learners: :class:`UniformRandom`, :class:`EpsilonGreedyQLearning`,
:class:`CertaintyEquivalence`.

They carry no regret guarantee; their :meth:`bound` is the trivial linear bound
:math:`\mathrm{Regret}(K)\le KH` under N1 (per-step rewards in [0, 1]), which any policy meets.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import (
    categorical,
    categorical_ref,
    env_step,
    record_regret_det,
    record_regret_stoch,
)
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, _as_K, _check_dims

__all__ = ["UniformRandom", "EpsilonGreedyQLearning", "CertaintyEquivalence", "trivial_bound"]


def trivial_bound(S, A, H, K, delta) -> RegretBound:
    """``Regret(K) <= K H`` for per-step rewards in [0, 1] (no algorithm assumed)."""
    _check_dims(S, A, H, delta)
    K = _as_K(K)
    return RegretBound(value=K * H, leading=K * H, lower_order=0.0 * K, normalization="N1",
                       setting="any", theorem="trivial: per-episode regret <= H under N1",
                       explicit_constants=True, holds_with_probability=1.0)


# ---------------------------------------------------------------------------------------
# UniformRandom
# ---------------------------------------------------------------------------------------


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


class UniformRandom(Learner):
    r"""Plays every action with probability :math:`1/A` in every state and stage.

    Its per-episode pseudo-regret is the constant :math:`\rho\cdot(V^*_1 - V^{\mathrm{unif}}_1)`
    (tested against :func:`mdptheory.evaluate` of the uniform policy).
    """

    name = "uniform"
    normalization = None

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._probs = np.full((H, S, A), 1.0 / A)
        self._row = np.full(A, 1.0 / A)

    def policy(self):
        return self._probs

    def act(self, h, s):
        return categorical_ref(self._rng, self._row)

    def bound(self, S, A, H, K, delta=0.05):
        return trivial_bound(S, A, H, K, delta)

    def compiled(self, mdp, episodes):
        return CompiledLoop(_uniform_loop, (int(mdp.H),))


# ---------------------------------------------------------------------------------------
# EpsilonGreedyQLearning
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _eps_row(eps, A, g, row):
    for j in range(A):
        row[j] = eps / A
    row[g] = eps / A + (1.0 - eps)


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
                    _eps_row(eps, A, pi[h, s], probs[h, s])
            record_regret_stoch(k, eval_every, P, R, initial, v_star, probs, Vb, regret_out)
        s = categorical(rng, initial)
        G = 0.0
        for h in range(H):
            _eps_row(eps, A, pi[h, s], row)
            a = categorical(rng, row)
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            G += r
            N[h, s, a] += 1.0
            alpha = (Hf + 1.0) / (Hf + N[h, s, a])
            Q[h, s, a] = (1.0 - alpha) * Q[h, s, a] + alpha * (r + V[h + 1, s2])
            best = Q[h, s, 0]
            arg = 0
            for j in range(1, A):
                if Q[h, s, j] > best:
                    best = Q[h, s, j]
                    arg = j
            pi[h, s] = arg
            V[h, s] = best
            s = s2
        returns_out[k] = G


class EpsilonGreedyQLearning(Learner):
    r"""Episodic Q-learning with epsilon-greedy exploration (baseline, no guarantee).

    Update :math:`Q_h(x,a)\leftarrow(1-\alpha_t)Q_h(x,a)+\alpha_t(r+V_{h+1}(x'))` with the
    step size :math:`\alpha_t=(H+1)/(H+t)` of Jin et al. 2018 and no bonus,
    :math:`V_h(x)=\max_a Q_h(x,a)`; episode ``k`` (0-based) plays
    :math:`\varepsilon_k=\min(1,\varepsilon\,(k+1)^{-\mathrm{decay}})`-greedy: probability
    :math:`\varepsilon_k/A+(1-\varepsilon_k)` on the greedy action (ties to the lowest index)
    and :math:`\varepsilon_k/A` on each other one. One ``rng.random()`` per action.

    Parameters
    ----------
    epsilon : float in [0, 1]
    decay : float >= 0
        0 = constant epsilon (linear regret); 0.5 gives :math:`\varepsilon_k\propto k^{-1/2}`.
    init_value : float, optional
        Initial ``Q`` and ``V`` (default ``H``: optimistic initialisation, as Jin et al.).
    """

    name = "eps-greedy-QL"
    normalization = None

    def __init__(self, epsilon: float = 0.1, decay: float = 0.0, init_value: float | None = None):
        if not (0.0 <= float(epsilon) <= 1.0):
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        if not (math.isfinite(float(decay)) and float(decay) >= 0.0):
            raise ValueError(f"decay must be a finite number >= 0, got {decay!r}")
        if init_value is not None and not math.isfinite(float(init_value)):
            raise ValueError(f"init_value must be finite, got {init_value!r}")
        self.epsilon = float(epsilon)
        self.decay = float(decay)
        self.init_value = None if init_value is None else float(init_value)

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
        self._pi = np.zeros((H, S), dtype=np.int64)

    def _row(self, g):
        A = self._A
        row = np.full(A, self._epsk / A)
        row[g] = self._epsk / A + (1.0 - self._epsk)
        return row

    def begin_episode(self, k):
        self._epsk = self._eps(k)
        H, S, A = self._H, self._S, self._A
        probs = np.full((H, S, A), self._epsk / A)
        np.put_along_axis(probs, self._pi[:, :, None], self._epsk / A + (1.0 - self._epsk), axis=2)
        self._probs = probs

    def policy(self):
        return self._probs

    def act(self, h, s):
        return categorical_ref(self._rng, self._row(self._pi[h, s]))

    def observe(self, h, s, a, r, s_next):
        H = self._H
        self._N[h, s, a] += 1.0
        alpha = (H + 1.0) / (H + self._N[h, s, a])
        self._Q[h, s, a] = (1.0 - alpha) * self._Q[h, s, a] + alpha * (r + self._V[h + 1, s_next])
        self._pi[h, s] = int(np.argmax(self._Q[h, s]))
        self._V[h, s] = float(self._Q[h, s].max())

    def bound(self, S, A, H, K, delta=0.05):
        return trivial_bound(S, A, H, K, delta)

    def compiled(self, mdp, episodes):
        return CompiledLoop(_epsq_loop, (int(mdp.H), self.epsilon, self.decay, self._init(mdp.H)))


# ---------------------------------------------------------------------------------------
# CertaintyEquivalence
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _ce_plan(N, n, Rsum, unvisited_value, H, V, Q, pi):
    S, A = n.shape
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        for s in range(S):
            best = -np.inf
            arg = 0
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
                if q > best:
                    best = q
                    arg = a
            V[h, s] = best
            pi[h, s] = arg


def _ce_plan_ref(N, n, Rsum, unvisited_value, H):
    S, A = n.shape
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    vis = n > 0
    c = np.where(vis, n, 1.0)
    for h in range(H - 1, -1, -1):
        Q[h] = np.where(vis, Rsum / c + (N @ V[h + 1]) / c, unvisited_value)
        V[h] = Q[h].max(axis=1)
    return V, Q, Q.argmax(axis=2).astype(np.int64)


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
    for k in range(K):
        _ce_plan(N, n, Rsum, unvisited_value, H, V, Q, pi)
        record_regret_det(k, eval_every, P, R, initial, v_star, pi, Vb, regret_out)
        s = categorical(rng, initial)
        G = 0.0
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            G += r
            N[s, a, s2] += 1.0
            n[s, a] += 1.0
            Rsum[s, a] += r
            s = s2
        returns_out[k] = G


class CertaintyEquivalence(Learner):
    r"""Greedy certainty equivalence (baseline): each episode, plan on the empirical model
    :math:`\hat P=n(s,a,\cdot)/n(s,a)`, :math:`\hat r=\sum r/n(s,a)` (counts pooled over stages,
    HOM, updated during the episode but used from the next one) and play the greedy policy;
    unvisited pairs get :math:`Q_h(s,a)=` ``unvisited_value``. No exploration bonus, so it
    can lock onto a suboptimal policy (linear regret).

    Parameters
    ----------
    unvisited_value : float, default 0.0
        Value of an unvisited pair (0 = pessimistic-greedy; ``H`` = optimistic start).
    """

    name = "CE"
    normalization = None

    def __init__(self, unvisited_value: float = 0.0):
        if not math.isfinite(float(unvisited_value)):
            raise ValueError(f"unvisited_value must be finite, got {unvisited_value!r}")
        self.unvisited_value = float(unvisited_value)

    def prepare(self, mdp, episodes):
        super().prepare(mdp, episodes)
        if not mdp.stationary:
            raise ValueError("CertaintyEquivalence pools data over stages (HOM) and needs a "
                             "stationary MDP; augment the state with the stage index")

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._N = np.zeros((S, A, S))
        self._n = np.zeros((S, A))
        self._Rsum = np.zeros((S, A))

    def begin_episode(self, k):
        _, self._Q, self._pi = _ce_plan_ref(self._N, self._n, self._Rsum, self.unvisited_value, self._H)

    def policy(self):
        return self._pi

    def act(self, h, s):
        return int(self._pi[h, s])

    def observe(self, h, s, a, r, s_next):
        self._N[s, a, s_next] += 1.0
        self._n[s, a] += 1.0
        self._Rsum[s, a] += r

    def bound(self, S, A, H, K, delta=0.05):
        return trivial_bound(S, A, H, K, delta)

    def compiled(self, mdp, episodes):
        return CompiledLoop(_ce_loop, (int(mdp.H), self.unvisited_value))

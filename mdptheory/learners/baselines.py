r"""Baseline learners: :class:`UniformRandom`, :class:`EpsilonGreedyQLearning`,
:class:`CertaintyEquivalence`.

They carry no regret guarantee; their :meth:`bound` is the trivial linear bound
:math:`\mathrm{Regret}(K)\le KH` under N1 (per-step rewards in [0, 1]), which any policy meets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import (
    categorical,
    categorical_ref,
    env_step,
    greedy_policy,
    record_regret_det,
    record_regret_stoch,
    stage,
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

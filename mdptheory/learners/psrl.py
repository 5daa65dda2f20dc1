r"""PSRL: posterior sampling for reinforcement learning (Osband, Russo & Van Roy, NeurIPS 2013,
"(More) Efficient Reinforcement Learning via Posterior Sampling", arXiv 1306.0940).

At the start of every episode sample an MDP from the posterior and play its optimal policy:

* transitions, per ``(s, a)``: :math:`\tilde P(\cdot|s,a)\sim\mathrm{Dirichlet}(\alpha_0\mathbf 1
  + n(s,a,\cdot))` (counts pooled over stages: HOM), drawn as normalised independent
  :math:`\mathrm{Gamma}(\alpha_0+n(s,a,s'))` variables;
* rewards, per ``(s, a)``: :math:`\tilde r(s,a)\sim\mathrm{Beta}(1+n^+,1+n^-)` drawn as
  :math:`X/(X+Y)`, :math:`X\sim\Gamma(1+n^+)`, :math:`Y\sim\Gamma(1+n^-)`, where each observed
  reward :math:`r\in[0,1]` is "Bernoullized": :math:`\tilde r\sim\mathrm{Bernoulli}(r)` with one
  ``rng.random()`` per step, and counted as a success or a failure;
* plan by backward induction on :math:`(\tilde P,\tilde r)` over ``H`` stages.

The algorithm is the paper's; the priors are the usual conjugate choices listed in
``regret_algorithms.md`` section 9 (Dirichlet with :math:`\alpha_0=1` as in the authors'
TabulaRL ``PSRL`` agent; Beta(1,1) with Bernoullization as in rlberry). Draw order per
episode: for ``s`` in ``0..S-1``, for ``a`` in ``0..A-1``: ``S`` transition gammas, then the
two reward gammas.

Bound: Bayesian expected regret :math:`O(HS\sqrt{AT\log(SAT)})` (Osband et al. 2013,
Theorem 1, constant not explicit; :math:`T=KH`), an expectation over the prior, not a
high-probability frequentist bound.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import categorical, env_step, plan_stationary, plan_stationary_ref, record_regret_det
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, _as_K, _check_dims

__all__ = ["PSRL"]


@njit(cache=True, nogil=True)
def _sample_model(rng, N, succ, fail, alpha0, Pt, Rt):
    S, A, _ = N.shape
    for s in range(S):
        for a in range(A):
            tot = 0.0
            for y in range(S):
                g = rng.standard_gamma(alpha0 + N[s, a, y])
                Pt[s, a, y] = g
                tot += g
            if tot > 0.0:
                for y in range(S):
                    Pt[s, a, y] = Pt[s, a, y] / tot
            else:
                for y in range(S):
                    Pt[s, a, y] = 1.0 / S
            x = rng.standard_gamma(1.0 + succ[s, a])
            z = rng.standard_gamma(1.0 + fail[s, a])
            Rt[s, a] = x / (x + z) if x + z > 0.0 else 0.5


@njit(cache=True, nogil=True)
def _psrl_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
               regret_out, returns_out):
    H, alpha0 = params
    S = P.shape[1]
    A = P.shape[2]
    N = np.zeros((S, A, S))
    succ = np.zeros((S, A))
    fail = np.zeros((S, A))
    Pt = np.empty((S, A, S))
    Rt = np.empty((S, A))
    V = np.empty((H + 1, S))
    Q = np.empty((H, S, A))
    pi = np.empty((H, S), dtype=np.int64)
    Vb = np.empty((H + 1, S))
    for k in range(K):
        _sample_model(rng, N, succ, fail, alpha0, Pt, Rt)
        plan_stationary(Pt, Rt, H, V, Q, pi)
        record_regret_det(k, eval_every, P, R, initial, v_star, pi, Vb, regret_out)
        s = categorical(rng, initial)
        G = 0.0
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            G += r
            N[s, a, s2] += 1.0
            if rng.random() < r:
                succ[s, a] += 1.0
            else:
                fail[s, a] += 1.0
            s = s2
        returns_out[k] = G


class PSRL(Learner):
    r"""Posterior sampling RL (Osband, Russo & Van Roy 2013); see the module docstring.

    Parameters
    ----------
    alpha0 : float > 0
        Dirichlet prior concentration per next state (default 1.0).
    delta : float
        Only used by :meth:`bound` for symmetry with the other learners (the bound is an
        expectation).

    Notes
    -----
    N1 rewards (Bernoullization needs rewards in [0, 1]); HOM: the MDP must be stationary.
    Posterior updates take effect at the next episode. Cost per episode :math:`O(S^2A)`
    gamma draws plus :math:`O(HS^2A)` planning.
    """

    name = "PSRL"
    normalization = "N1"

    def __init__(self, alpha0: float = 1.0, delta: float = 0.05):
        if not (math.isfinite(float(alpha0)) and float(alpha0) > 0):
            raise ValueError(f"alpha0 must be a finite number > 0, got {alpha0!r}")
        if not (0.0 < float(delta) < 1.0):
            raise ValueError(f"delta must be in (0, 1), got {delta!r}")
        self.alpha0 = float(alpha0)
        self.delta = float(delta)

    def prepare(self, mdp, episodes):
        super().prepare(mdp, episodes)
        if not mdp.stationary:
            raise ValueError("PSRL (HOM) needs a stationary MDP (P and R not stage-dependent); "
                             "augment the state with the stage index")

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._N = np.zeros((S, A, S))
        self._succ = np.zeros((S, A))
        self._fail = np.zeros((S, A))

    def begin_episode(self, k):
        S, A = self._S, self._A
        shapes = np.empty((S, A, S + 2))
        shapes[:, :, :S] = self.alpha0 + self._N
        shapes[:, :, S] = 1.0 + self._succ
        shapes[:, :, S + 1] = 1.0 + self._fail
        g = self._rng.standard_gamma(shapes)  # C order = the compiled loop's draw order
        tot = g[:, :, :S].sum(axis=2, keepdims=True)
        Pt = np.where(tot > 0, g[:, :, :S] / np.where(tot > 0, tot, 1.0), 1.0 / S)
        xz = g[:, :, S] + g[:, :, S + 1]
        Rt = np.where(xz > 0, g[:, :, S] / np.where(xz > 0, xz, 1.0), 0.5)
        self._Pt, self._Rt = Pt, Rt
        _, self._Qt, self._pi = plan_stationary_ref(Pt, Rt, self._H)

    def policy(self):
        return self._pi

    def act(self, h, s):
        return int(self._pi[h, s])

    def observe(self, h, s, a, r, s_next):
        self._N[s, a, s_next] += 1.0
        if self._rng.random() < r:
            self._succ[s, a] += 1.0
        else:
            self._fail[s, a] += 1.0

    def compiled(self, mdp, episodes):
        return CompiledLoop(_psrl_loop, (int(mdp.H), self.alpha0))

    def bound(self, S, A, H, K, delta=None):
        r"""Osband et al. 2013, Theorem 1: :math:`E[\mathrm{Regret}]=O(HS\sqrt{AT\log(SAT)})`,
        :math:`T=KH`; Bayesian (expectation over the prior), constant set to 1."""
        delta = self.delta if delta is None else delta
        _check_dims(S, A, H, delta)
        K = _as_K(K)
        T = K * H
        lead = H * S * np.sqrt(A * T * np.log(S * A * T))
        return RegretBound(value=lead, leading=lead, lower_order=0.0 * lead, normalization="N1",
                           setting="HOM", theorem="Osband, Russo & Van Roy 2013, Theorem 1 (Bayesian), O(.)",
                           explicit_constants=False, holds_with_probability=None)

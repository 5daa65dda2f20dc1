r"""PSRL: posterior sampling for reinforcement learning (Osband, Russo & Van Roy 2013, Algorithm 1).

HOM (counts pooled over stages), rewards in [0, 1] (N1). At the start of every episode
sample an MDP from the posterior and play its optimal policy (backward induction over ``H``
stages, lowest index on ties):

.. math::
    \tilde P(\cdot|s,a)\sim\mathrm{Dirichlet}\bigl(\alpha_0\mathbf 1+n(s,a,\cdot)\bigr),\qquad
    \tilde r(s,a)\sim\mathrm{Beta}\bigl(1+n^+(s,a),\,1+n^-(s,a)\bigr),

drawn as normalised independent :math:`\mathrm{Gamma}(\alpha_0+n(s,a,s'))` variables and as
:math:`X/(X+Y)`, :math:`X\sim\Gamma(1+n^+)`, :math:`Y\sim\Gamma(1+n^-)`. An observed reward
:math:`r\in[0,1]` is Bernoullized, :math:`\tilde r\sim\mathrm{Bernoulli}(r)` (one
``rng.random()`` after the step), and counted as a success (:math:`n^+`) or a failure
(:math:`n^-`). Draw order per episode: for ``s``, for ``a``: ``S`` transition gammas, then
the two reward gammas.

The defaults instantiate Theorem 1: Bayesian expected regret :math:`O(HS\sqrt{AT\log(SAT)})`,
``T = KH`` (an expectation over the prior; constant not explicit).

Provenance and reconstructions: proofs_notes/psrl.md

References: I. Osband, D. Russo, B. Van Roy, "(More) Efficient Reinforcement Learning via
Posterior Sampling", NeurIPS 2013, arXiv:1306.0940.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdptheory.core.validation import check_delta, check_real
from mdptheory.kernels.sampling import categorical, env_step, plan_stationary, plan_stationary_ref, record_regret_det
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound

__all__ = ["PSRL", "psrl_sample_model", "psrl_sample_model_ref"]


def psrl_sample_model_ref(rng, N, succ, fail, alpha0):
    """One posterior draw ``(P~ (S, A, S), r~ (S, A))``: all ``S + 2`` gammas of every
    ``(s, a)`` in one vectorised ``standard_gamma`` call (C order = the documented draw
    order); plain twin of :func:`psrl_sample_model`."""
    S = N.shape[0]
    shapes = np.concatenate([alpha0 + N, 1.0 + succ[:, :, None], 1.0 + fail[:, :, None]], axis=2)
    g = rng.standard_gamma(shapes)
    tot = g[:, :, :S].sum(axis=2, keepdims=True)
    Pt = np.where(tot > 0, g[:, :, :S] / np.where(tot > 0, tot, 1.0), 1.0 / S)
    xz = g[:, :, S] + g[:, :, S + 1]
    Rt = np.where(xz > 0, g[:, :, S] / np.where(xz > 0, xz, 1.0), 0.5)
    return Pt, Rt


class PSRL(Learner):
    r"""Posterior sampling RL (Osband, Russo & Van Roy 2013); see the module docstring.

    Parameters
    ----------
    alpha0 : float > 0, default 1.0
        Dirichlet prior concentration per next state (the priors are a reconstruction:
        proofs_notes/psrl.md).
    delta : float in (0, 1), default 0.01
        Only for the common :meth:`bound` signature (the bound is an expectation).

    Notes
    -----
    N1 (Bernoullization needs rewards in [0, 1]); HOM: ``P`` and ``R`` must not depend on
    the stage. Posterior updates take effect at the next episode. Cost per episode
    :math:`O(S^2A)` gamma draws plus :math:`O(HS^2A)` planning.
    """

    name = "PSRL"
    normalization = "N1"
    homogeneous = "P and R"

    def __init__(self, *, alpha0: float = 1.0, delta: float = 0.01):
        self.alpha0 = check_real("alpha0", alpha0, 0.0, low_open=True)
        self.delta = check_delta(delta)


    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._N = np.zeros((S, A, S))
        self._succ = np.zeros((S, A))
        self._fail = np.zeros((S, A))

    def begin_episode(self, k):
        self._Pt, self._Rt = psrl_sample_model_ref(self._rng, self._N, self._succ, self._fail, self.alpha0)
        _, self._Qt, self._pi = plan_stationary_ref(self._Pt, self._Rt, self._H)

    def observe(self, h, s, a, r, s_next):
        self._N[s, a, s_next] += 1.0
        if self._rng.random() < r:              # Bernoullization
            self._succ[s, a] += 1.0
        else:
            self._fail[s, a] += 1.0

    def compiled(self, mdp, episodes):
        return CompiledLoop(_psrl_loop, (int(mdp.H), self.alpha0))

    def bound(self, S, A, H, K, delta=None):
        r"""Osband et al. 2013, Theorem 1: :math:`E[\mathrm{Regret}]=O(HS\sqrt{AT\log(SAT)})`,
        :math:`T=KH`; Bayesian (expectation over the prior), constant set to 1."""
        K, _ = self._bound_args(S, A, H, K, delta)
        T = K * H
        lead = H * S * np.sqrt(A * T * np.log(S * A * T))
        return regret_bound(lead, 0.0, H=H, K=K, normalization="N1", setting="HOM",
                            theorem="Osband, Russo & Van Roy 2013, Theorem 1 (Bayesian), O(.)",
                            explicit_constants=False, delta=None)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def psrl_sample_model(rng, N, succ, fail, alpha0, Pt, Rt):
    """Compiled twin of :func:`psrl_sample_model_ref`: scalar gamma draws in the documented
    order, written into ``Pt (S, A, S)`` and ``Rt (S, A)``."""
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
        psrl_sample_model(rng, N, succ, fail, alpha0, Pt, Rt)
        plan_stationary(Pt, Rt, H, V, Q, pi)
        record_regret_det(k, eval_every, P, R, initial, v_star, pi, Vb, regret_out)
        s = categorical(rng, initial)
        G = 0.0
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            G += r
            N[s, a, s2] += 1.0
            if rng.random() < r:                # Bernoullization
                succ[s, a] += 1.0
            else:
                fail[s, a] += 1.0
            s = s2
        returns_out[k] = G

r"""Variance measures of an MDP: the two environment norms of the variance-dependent regret
bounds, the maximum per-step variance, the variance of the optimal return, and the
environmental value norm.

Sources. Zhou, Zhang & Du, "Sharp Variance-Dependent Bounds in Reinforcement Learning: Best
of Both Worlds in Stochastic and Deterministic Environments", ICML 2023 (arXiv 2301.13446),
introduce two norms; Zhang, Chen, Lee & Du (arXiv 2307.13586, section 6.3) describe them as
(1) the maximal expected sum of per-step conditional variances of :math:`V^*` along a
policy's trajectory and (2) the maximal variance of the accumulated reward of a policy.
The formulas below are a **reconstruction** from those verbal definitions (the 2023 paper's
exact displays could not be read; ``proofs_notes/hardness_measures.md``). Maillard, Mann & Mannor, "How hard is my
MDP? The distribution-norm to the rescue", NeurIPS 2014, define the distribution-norm of a
function w.r.t. a measure as its standard deviation under that measure (verified from the
paper's abstract); the environment-level maximum over ``(s, a)`` of the distribution-norm
of :math:`V^\pi` follows Colosseum's ``get_value_norm`` and is a reconstruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mdptheory.core import DiscountedMDP, EpisodicMDP, as_mdp, to_stochastic, validate_policy
from mdptheory.core.validation import check_int
from mdptheory.measures._common import reward_variance as _reward_variance
from mdptheory.solvers import evaluate, solve

__all__ = ["variance_norms", "VarianceNorms", "return_variance", "value_norm",
           "next_value_variance"]


def next_value_variance(P: np.ndarray, V: np.ndarray) -> np.ndarray:
    r""":math:`\mathrm{Var}_{P(\cdot|s,a)}(V) = \sum_{s'} P(s'|s,a)(V(s') - P(\cdot|s,a)V)^2`
    for ``P (..., S)`` and ``V (S,)``, computed in centred form (no cancellation), >= 0."""
    m = P @ V
    return np.maximum(np.einsum("...t,...t->...", P, (V - m[..., None]) ** 2), 0.0)


def _stages(mdp):
    """Episodic arrays ``P (H,S,A,S)``, ``R (H,S,A)``, reward variance ``(H,S,A)``."""
    H = mdp.horizon
    P = np.asarray(mdp.P_by_stage(), dtype=np.float64)
    R = np.asarray(mdp.R_by_stage(), dtype=np.float64)
    vr = _reward_variance(mdp)
    if vr.ndim == 2:
        vr = np.broadcast_to(vr, (H,) + vr.shape)
    return P, R, vr


def return_variance(mdp, policy) -> np.ndarray:
    r"""Exact variance of the return of ``policy`` from each start state.

    Computed with the law of total variance, every term in centred form (so it is exactly
    0 whenever the return is deterministic). Episodic, with
    :math:`Q^\pi_h(s,a) = \bar r_h(s,a) + P_h(\cdot|s,a) V^\pi_{h+1}` and
    :math:`X_H = 0`:

    .. math::
        X_h(s) = \sum_a \pi_h(a|s)\big[\mathrm{Var}\,r_h(s,a)
        + \mathrm{Var}_{P_h(s,a)}(V^\pi_{h+1}) + P_h(\cdot|s,a) X_{h+1}\big]
        + \mathrm{Var}_{a\sim\pi_h(s)} Q^\pi_h(s,a),

    and :math:`X_0(s) = \mathrm{Var}(\sum_h r_h \mid s_0 = s)`; shape ``(S,)``.
    Discounted: :math:`\mathrm{Var}(\sum_t\gamma^t r_t \mid s_0=s)` solves the linear
    system with :math:`\gamma^2` in front of the next-state terms (Sobel 1982). Rewards
    are drawn independently of the next state with the model's reward law.
    """
    mdp = as_mdp(mdp)
    spec = validate_policy(mdp, policy)
    probs = to_stochastic(spec, mdp.A)
    V = evaluate(mdp, policy)
    if isinstance(mdp, EpisodicMDP):
        P, R, vr = _stages(mdp)
        X = np.zeros(mdp.S)
        for h in range(mdp.horizon - 1, -1, -1):
            Q = R[h] + P[h] @ V[h + 1]
            inner = vr[h] + next_value_variance(P[h], V[h + 1]) + P[h] @ X
            X = (probs[h] * inner).sum(axis=1) + (probs[h] * (Q - V[h][:, None]) ** 2).sum(axis=1)
        return X
    P = np.asarray(mdp.dense_P(), dtype=np.float64)
    R = np.asarray(mdp.R)
    vr = _reward_variance(mdp)
    g = mdp.gamma
    Q = R + g * (P @ V)
    Ppi = np.einsum("sa,sat->st", probs, P)
    rhs = (probs * (vr + g * g * next_value_variance(P, V))).sum(axis=1) \
        + (probs * (Q - V[:, None]) ** 2).sum(axis=1)
    return np.maximum(np.linalg.solve(np.eye(mdp.S) - g * g * Ppi, rhs), 0.0)


@dataclass(frozen=True)
class VarianceNorms:
    r"""Variance measures of an MDP (:func:`variance_norms`). All are conditional on the
    start state and maximised over the support of the initial distribution.

    Attributes
    ----------
    var_star : float
        Per-step conditional variance norm
        :math:`\max_\pi \mathbb E_\pi[\sum_h \mathrm{Var}_{P_h(s_h,a_h)}(V^*_{h+1}) +
        \mathrm{Var}\,r_h(s_h,a_h)]` (Zhou, Zhang & Du 2023; "var_1" of Zhang et al. 2024).
    var_sigma : float
        Policy-return variance norm :math:`\max_\pi \mathrm{Var}_\pi(\sum_h r_h)` over
        deterministic Markov policies ("var_2"), exact when ``var_sigma_exact`` is True,
        otherwise the upper bound described in :func:`variance_norms`.
    var_sigma_exact : bool
    max_step_variance : float
        :math:`\max_{h,s,a}[\mathrm{Var}_{P_h(s,a)}(V^*_{h+1}) + \mathrm{Var}\,r_h(s,a)]`
        (the :math:`\mathbb Q^*` of EULER, Zanette & Brunskill 2019).
    optimal_return_variance : float
        :math:`\mathrm{Var}_{\pi^*}(\sum_h r_h)` of the greedy optimal policy returned by
        :func:`mdptheory.solve` (= :math:`\mathbb E_{\pi^*}[\sum_h \ldots]` by the law of
        total variance, so it is at most ``var_star``).
    n_policies : int
        Deterministic Markov policies enumerated for ``var_sigma`` (0 if bounded instead).
    """

    var_star: float
    var_sigma: float
    var_sigma_exact: bool
    max_step_variance: float
    optimal_return_variance: float
    n_policies: int


def _decision_points_episodic(P, start):
    """Reachable (h, s) pairs from the start support: list of arrays per stage."""
    H = P.shape[0]
    reach = [np.asarray(start)]
    for h in range(H - 1):
        nxt = (P[h][reach[-1]] > 0).any(axis=(0, 1))
        reach.append(np.flatnonzero(nxt))
    return reach


def _enumerate_episodic(P, R, vr, start, max_policies, batch=4096):
    H, S, A, _ = P.shape
    reach = _decision_points_episodic(P, start)
    points = [(h, int(s)) for h in range(H) for s in reach[h]]
    n_pol = A ** len(points)
    if n_pol > max_policies:
        return None, n_pol
    best = 0.0
    ar = np.arange(S)
    for lo in range(0, n_pol, batch):
        idx = np.arange(lo, min(lo + batch, n_pol))
        act = np.zeros((idx.size, H, S), dtype=np.int64)
        rem = idx.copy()
        for (h, s) in points:
            act[:, h, s] = rem % A
            rem //= A
        V = np.zeros((idx.size, S))
        X = np.zeros((idx.size, S))  # variance of the return to go (law of total variance)
        for h in range(H - 1, -1, -1):
            a = act[:, h, :]
            Pa = P[h][ar[None, :], a]                      # (n, S, S)
            r = R[h][ar[None, :], a]
            v2 = vr[h][ar[None, :], a]
            PV = np.einsum("nst,nt->ns", Pa, V)
            X = v2 + np.einsum("nst,nst->ns", Pa, (V[:, None, :] - PV[:, :, None]) ** 2) \
                + np.einsum("nst,nt->ns", Pa, X)
            V = r + PV
        best = max(best, float(X[:, start].max()))
    return max(best, 0.0), n_pol


def _enumerate_discounted(P, R, vr, g, start, max_policies, batch=2048):
    S, A, _ = P.shape
    reach = np.zeros(S, dtype=bool)
    reach[start] = True
    while True:
        nxt = reach | (P[reach] > 0).any(axis=(0, 1))
        if np.array_equal(nxt, reach):
            break
        reach = nxt
    points = np.flatnonzero(reach)
    n_pol = A ** points.size
    if n_pol > max_policies:
        return None, n_pol
    best = 0.0
    ar = np.arange(S)
    I = np.eye(S)
    for lo in range(0, n_pol, batch):
        idx = np.arange(lo, min(lo + batch, n_pol))
        act = np.zeros((idx.size, S), dtype=np.int64)
        rem = idx.copy()
        for s in points:
            act[:, s] = rem % A
            rem //= A
        Pa = P[ar[None, :], act]
        r = R[ar[None, :], act]
        v2 = vr[ar[None, :], act]
        V = np.linalg.solve(I - g * Pa, r[..., None])[..., 0]
        PV = np.einsum("nst,nt->ns", Pa, V)
        rhs = v2 + g * g * np.einsum("nst,nst->ns", Pa, (V[:, None, :] - PV[:, :, None]) ** 2)
        X = np.linalg.solve(I - g * g * Pa, rhs[..., None])[..., 0]
        best = max(best, float(X[:, start].max()))
    return max(best, 0.0), n_pol


def variance_norms(mdp, *, max_policies: int = 1 << 16,
                   reward_variance: bool = True) -> VarianceNorms:
    r"""The two environment variance norms (reconstruction) plus related variances.

    **Episodic** (stationary or stage-dependent), with
    :math:`g_h(s,a) = \mathrm{Var}_{P_h(\cdot|s,a)}(V^*_{h+1}) + \mathrm{Var}\,r_h(s,a)`:

    * ``var_star`` :math:`= \max_{s_0}\max_\pi \mathbb E_\pi[\sum_{h<H} g_h(s_h,a_h)]`,
      computed exactly by backward induction on the auxiliary MDP with rewards ``g``;
    * ``var_sigma`` :math:`= \max_{s_0}\max_\pi \mathrm{Var}_\pi(\sum_h r_h \mid s_0)` over
      deterministic Markov policies. Variance is not additive, so this is not a dynamic
      program: it is computed exactly by enumerating the policies on the reachable
      ``(h, s)`` pairs when there are at most ``max_policies`` of them; otherwise it is
      replaced by the upper bound
      :math:`\max_\pi \mathbb E_\pi[\sum_h c_h(s_h,a_h)]` with
      :math:`c_h = \mathrm{Var}\,r_h + \mathbb 1\{|\mathrm{supp}\,P_h(s,a)|\ge2\}
      (\max_{\mathrm{supp}} V^{\max}_{h+1} - \min_{\mathrm{supp}} V^{\min}_{h+1})^2/4`
      (law of total variance + Popoviciu's inequality; :math:`V^{\max} = V^*`,
      :math:`V^{\min}` the minimal value), flagged by ``var_sigma_exact=False``.
      Randomised policies are excluded on purpose: mixing two deterministic returns
      creates variance even in a deterministic MDP.

    **Discounted**: the same with discount :math:`\gamma^2` on the variance terms (Sobel
    1982): :math:`g(s,a) = \mathrm{Var}\,r + \gamma^2\mathrm{Var}_{P}(V^*)`,
    ``var_star`` :math:`= \max_\pi\mathbb E_\pi\sum_t\gamma^{2t} g(s_t,a_t)`, ``var_sigma``
    over deterministic stationary policies, ``max_step_variance`` the max of
    :math:`\mathrm{Var}_P(V^*) + \mathrm{Var}\,r`.

    Properties checked by the tests: both norms are 0 on every deterministic MDP with
    deterministic rewards, positive on its stochastic twin when some reachable state has
    successors with different optimal values, ``optimal_return_variance <= var_star``
    (law of total variance), and ``var_sigma`` equals brute force over all policies.

    Parameters
    ----------
    mdp : EpisodicMDP or DiscountedMDP (dense or sparse)
    max_policies : int >= 0
        Enumeration budget for the exact ``var_sigma``.
    reward_variance : bool, default True
        Include :math:`\mathrm{Var}\,r` in ``g`` (``var_star``, ``max_step_variance``).
        The notes tag this term [R]; ``False`` gives the verbal definition quoted by Zhang
        et al. (2024) ("one-step variances of :math:`V^*`" only). ``var_sigma`` and
        ``optimal_return_variance`` are variances of the realised return and always include
        reward noise (so ``optimal_return_variance <= var_star`` needs the default).
        Irrelevant for deterministic rewards.
    """
    mdp = as_mdp(mdp)
    max_policies = check_int("max_policies", max_policies, 0)
    if not isinstance(reward_variance, (bool, np.bool_)):
        raise TypeError(f"reward_variance must be a bool, got {reward_variance!r}")
    start = np.flatnonzero(np.asarray(mdp.initial) > 0)
    sol = solve(mdp) if isinstance(mdp, EpisodicMDP) else solve(mdp, method="pi", tol=1e-12)
    opt_var = float(return_variance(mdp, sol.policy)[start].max())
    if isinstance(mdp, EpisodicMDP):
        P, R, vr = _stages(mdp)
        H = mdp.horizon
        # auxiliary models reuse the stored kernel (never the H-fold broadcast view of a
        # stationary P, which the constructor would materialise)
        # (a sparse kernel is copied each time: core's CSR check writes into the buffers it
        # is given and then marks them read-only)

        def kernel():
            return mdp.P.copy() if sp.issparse(mdp.P) else mdp.P
        step = np.stack([next_value_variance(P[h], sol.V[h + 1]) for h in range(H)])
        if reward_variance:
            step = step + vr
        W = solve(EpisodicMDP(kernel(), step, H, mdp.initial)).V[0]
        var_star = float(W[start].max())
        vs, n_pol = _enumerate_episodic(P, R, vr, start, max_policies)
        exact = vs is not None
        if not exact:
            Vmin = -solve(EpisodicMDP(kernel(), -R, H, mdp.initial)).V
            c = np.empty_like(step)
            for h in range(H):
                hi = np.where(P[h] > 0, sol.V[h + 1], -np.inf).max(axis=-1)
                lo = np.where(P[h] > 0, Vmin[h + 1], np.inf).min(axis=-1)
                multi = (P[h] > 0).sum(axis=-1) >= 2
                c[h] = vr[h] + np.where(multi, (hi - lo) ** 2 / 4.0, 0.0)
            vs = float(solve(EpisodicMDP(kernel(), c, H, mdp.initial)).V[0][start].max())
            n_pol = 0
        return VarianceNorms(var_star, float(vs), exact, float(step.max()), opt_var, int(n_pol))
    P = np.asarray(mdp.dense_P(), dtype=np.float64)
    R = np.asarray(mdp.R, dtype=np.float64)
    vr = _reward_variance(mdp)
    g = mdp.gamma
    nv = next_value_variance(P, sol.V)
    vg = vr if reward_variance else np.zeros_like(vr)
    aux = DiscountedMDP(P, vg + g * g * nv, g * g, mdp.initial)
    var_star = float(solve(aux, method="pi", tol=1e-12).V[start].max())
    vs, n_pol = _enumerate_discounted(P, R, vr, g, start, max_policies)
    exact = vs is not None
    if not exact:
        Vmin = -solve(DiscountedMDP(P, -R, g, mdp.initial), method="pi", tol=1e-12).V
        hi = np.where(P > 0, sol.V, -np.inf).max(axis=-1)
        lo = np.where(P > 0, Vmin, np.inf).min(axis=-1)
        multi = (P > 0).sum(axis=-1) >= 2
        c = vr + g * g * np.where(multi, (hi - lo) ** 2 / 4.0, 0.0)
        vs = float(solve(DiscountedMDP(P, c, g * g, mdp.initial), method="pi", tol=1e-12).V[start].max())
        n_pol = 0
    return VarianceNorms(var_star, float(vs), exact, float((nv + vg).max()), opt_var, int(n_pol))


def value_norm(mdp, policy=None) -> float:
    r"""Environmental value norm (Maillard, Mann & Mannor 2014):
    :math:`C^\pi = \max_{s,a} \lVert V^\pi \rVert_{P(\cdot|s,a)}` with the distribution-norm
    :math:`\lVert f\rVert_p = \sqrt{\mathrm{Var}_p(f)}` (standard deviation of ``f`` under
    ``p``; this is the paper's definition, per its abstract). The maximum over pairs is a
    reconstruction matching Colosseum's ``get_value_norm``; note that Colosseum's code
    centres ``V(s')`` on :math:`\mathbb E_{P(\cdot|s',a)}V` (the *next* state's mean)
    instead of :math:`\mathbb E_{P(\cdot|s,a)}V`, so its numbers are not this variance.

    ``policy`` defaults to the optimal policy (:math:`V^\pi = V^*`). Episodic models use
    :math:`\max_{h,s,a}\sqrt{\mathrm{Var}_{P_h(s,a)}(V^\pi_{h+1})}`. It is 0 exactly when
    every transition lands on states of equal value (e.g. deterministic MDPs) and at most
    half the span of :math:`V^\pi`.
    """
    mdp = as_mdp(mdp)
    if policy is None:
        V = solve(mdp).V if isinstance(mdp, EpisodicMDP) else solve(mdp, method="pi", tol=1e-12).V
    else:
        V = evaluate(mdp, policy)
    if isinstance(mdp, EpisodicMDP):
        P = np.asarray(mdp.P_by_stage(), dtype=np.float64)
        return float(np.sqrt(max(next_value_variance(P[h], V[h + 1]).max() for h in range(mdp.horizon))))
    P = np.asarray(mdp.dense_P(), dtype=np.float64)
    return float(np.sqrt(next_value_variance(P, V).max()))

r"""Linear-MDP generators (exact features; Bellman complete by construction).

* :func:`random_linear_mdp` -- simplex features and distribution-valued measures, so that
  :math:`P(\cdot|s,a)=\sum_k\phi_k(s,a)\mu_k(\cdot)` is a mixture of ``d`` next-state laws
  (the "latent-variable" construction of linear MDPs; Jin et al. 2020, Example 2.2).
* :func:`tabular_linear_mdp` -- any tabular MDP is linear with one-hot features.
* :func:`linear_mdp_instance` -- an :class:`~mdptheory.envs.counterexamples.OffPolicyInstance`
  on a random discounted linear MDP (complete class, any data distribution).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP
from mdptheory.envs.counterexamples import OffPolicyInstance

__all__ = ["random_linear_mdp", "tabular_linear_mdp", "linear_mdp_instance"]


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def random_linear_mdp(S: int, A: int, d: int, *, gamma: float | None = None, horizon: int | None = None,
                      seed=0, concentration: float = 1.0, initial=None):
    r"""A random linear MDP with ``d`` latent next-state laws.

    :math:`\phi(s,a)\sim\mathrm{Dirichlet}(\alpha\mathbf 1_d)`, each row of ``mu`` (a law over
    ``S`` next states) :math:`\sim\mathrm{Dirichlet}(\alpha\mathbf 1_S)`, and
    :math:`\theta\sim U[0,1]^d` so that rewards lie in ``[0, 1]``.

    Exactly one of ``gamma`` (returns :class:`~mdptheory.core.DiscountedLinearMDP`) and
    ``horizon`` (returns :class:`~mdptheory.core.LinearMDP`, stationary) must be given.
    ``initial`` defaults to uniform (discounted) or state 0 (episodic).
    """
    for name, v in (("S", S), ("A", A), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} = {v!r} must be a positive integer")
    if (gamma is None) == (horizon is None):
        raise ValueError("give exactly one of gamma (discounted) and horizon (episodic)")
    if not (concentration > 0):
        raise ValueError(f"concentration = {concentration!r} must be > 0")
    rng = _rng(seed)
    phi = rng.dirichlet(np.full(d, concentration), size=(S, A))
    mu = rng.dirichlet(np.full(S, concentration), size=d)
    theta = rng.random(d)
    if gamma is not None:
        return DiscountedLinearMDP(phi, mu, theta, gamma, initial)
    return LinearMDP(phi, mu, theta, horizon, 0 if initial is None else initial)


def tabular_linear_mdp(mdp: DiscountedMDP | EpisodicMDP):
    r"""The tabular MDP ``mdp`` written as a linear MDP with one-hot features
    :math:`\phi(s,a)=e_{sA+a}\in\mathbb R^{SA}`, ``mu = P`` reshaped ``(S*A, S)``,
    ``theta = R`` flattened (per stage for a stage-dependent episodic model)."""
    S, A = mdp.S, mdp.A
    phi = np.eye(S * A).reshape(S, A, S * A)
    if isinstance(mdp, EpisodicMDP):
        P = mdp.dense_P()
        mu = P.reshape(mdp.H, S * A, S) if P.ndim == 4 else P.reshape(S * A, S)
        R = np.asarray(mdp.R)
        theta = R.reshape(mdp.H, S * A) if R.ndim == 3 else R.reshape(S * A)
        return LinearMDP(phi, mu, theta, mdp.H, mdp.initial)
    P = mdp.dense_P().reshape(S * A, S)
    return DiscountedLinearMDP(phi, P, np.asarray(mdp.R).reshape(-1), mdp.gamma, mdp.initial)


def linear_mdp_instance(S: int = 6, A: int = 2, d: int = 3, gamma: float = 0.9, *, seed=0,
                        mu: str = "random") -> OffPolicyInstance:
    r"""Off-policy evaluation on a random discounted linear MDP (:func:`random_linear_mdp`).

    The target policy is a random stochastic policy (each row :math:`\pi(\cdot|s)` drawn from
    :math:`\mathrm{Dirichlet}(\mathbf 1_A)`); ``mu`` is ``"random"`` (a
    :math:`\mathrm{Dirichlet}(\mathbf 1_{SA})` draw over all pairs, full support almost surely)
    or ``"uniform"``. ``seed`` seeds one ``numpy.random.Generator`` for all draws. Because the
    MDP is linear in ``features``, the class is Bellman complete for every policy and every
    ``mu``: :math:`\varepsilon_{\rm inc}=0` and :math:`\kappa=\kappa_c`.
    ``w_star`` solves :math:`\Phi w=Q^\pi` exactly (:math:`w^\star=\theta+\gamma\mu V^\pi`).
    """
    if mu not in ("random", "uniform"):
        raise ValueError(f"mu = {mu!r}: use 'random' or 'uniform'")
    rng = _rng(seed)
    lin = random_linear_mdp(S, A, d, gamma=gamma, seed=rng)
    mdp = lin.to_mdp()
    policy = rng.dirichlet(np.ones(A), size=S)
    if mu == "random":
        m = rng.dirichlet(np.ones(S * A)).reshape(S, A)
    elif mu == "uniform":
        m = np.full((S, A), 1.0 / (S * A))
    else:
        raise ValueError(f"mu = {mu!r}: use 'random' or 'uniform'")
    Ppi = np.einsum("sa,sat->st", policy, lin.P)
    rpi = np.einsum("sa,sa->s", policy, lin.R)
    V = np.linalg.solve(np.eye(S) - gamma * Ppi, rpi)
    w_star = lin.theta + gamma * lin.mu @ V
    return OffPolicyInstance(
        mdp=mdp, features=np.array(lin.phi), policy=policy, mu=m, w0=np.zeros(d), step_size=0.1,
        w_star=w_star, name="linear_mdp", params={"S": S, "A": A, "d": d, "gamma": gamma, "mu": mu},
    )

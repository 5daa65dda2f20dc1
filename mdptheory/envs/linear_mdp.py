r"""Linear-MDP generators (exact features; Bellman complete by construction).

* :func:`random_linear_mdp` -- simplex features and distribution-valued measures, so that
  :math:`P(\cdot|s,a)=\sum_k\phi_k(s,a)\mu_k(\cdot)` is a mixture of ``d`` next-state laws
  (the "latent-variable" construction of linear MDPs; Jin et al. 2020, Example 2.2), optionally
  with one ``mu_h``, ``theta_h`` per stage.
* :func:`tabular_linear_mdp` -- any tabular MDP is linear with one-hot features.
* :func:`misspecified_linear_mdp` -- a kernel at distance exactly ``zeta`` (sup over ``(h, s, a)``
  of the total variation) from the nearest kernel linear in its features (Assumption B).
* :func:`linear_assumption` -- the norms of Assumption A (``||phi|| <= 1``,
  ``||mu_h(S)|| <= sqrt(d)``, ``||theta_h|| <= sqrt(d)``), checked by the generators.
* :func:`linear_mdp_instance` -- an :class:`~mdptheory.envs.counterexamples.OffPolicyInstance`
  on a random discounted linear MDP (complete class, any data distribution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core import DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP
from mdptheory.core.linear import FeaturizedMDP
from mdptheory.core.validation import check_bool, check_generator, check_int, check_real
from mdptheory.envs.counterexamples import OffPolicyInstance

__all__ = ["random_linear_mdp", "tabular_linear_mdp", "linear_mdp_instance", "misspecified_linear_mdp",
           "linear_assumption", "LinearAssumption"]

_NORM_TOL = 1e-12


@dataclass(frozen=True)
class LinearAssumption:
    r"""The norms of Assumption A (Jin, Yang, Wang & Jordan 2020) of a linear model.

    ``max_phi_norm`` = :math:`\max_{h,s,a}\|\phi_h(s,a)\|_2` (bound 1), ``max_mu_norm`` =
    :math:`\max_h\|\mu_h(\mathcal S)\|_2` with :math:`\mu_h(\mathcal S)=\sum_{s'}\mu_h(s')`
    (bound :math:`\sqrt d`), ``max_theta_norm`` = :math:`\max_h\|\theta_h\|_2` (bound
    :math:`\sqrt d`); ``holds`` is True when all three bounds hold (within ``1e-12``)."""

    d: int
    max_phi_norm: float
    max_mu_norm: float
    max_theta_norm: float
    holds: bool


def linear_assumption(phi, mu, theta) -> LinearAssumption:
    """The Assumption-A norms of ``phi (.., S, A, d)``, ``mu (.., d, S)``, ``theta (.., d)``."""
    phi, mu, theta = (np.asarray(x, dtype=float) for x in (phi, mu, theta))
    d = int(phi.shape[-1])
    fp = float(np.sqrt((phi ** 2).sum(axis=-1)).max())
    fm = float(np.sqrt((mu.sum(axis=-1) ** 2).sum(axis=-1)).max())
    ft = float(np.sqrt((theta ** 2).sum(axis=-1)).max())
    r = np.sqrt(d)
    ok = fp <= 1 + _NORM_TOL and fm <= r * (1 + _NORM_TOL) and ft <= r * (1 + _NORM_TOL)
    return LinearAssumption(d, fp, fm, ft, bool(ok))


def _require_assumption(phi, mu, theta, who):
    rep = linear_assumption(phi, mu, theta)
    if not rep.holds:           # unreachable for the random constructions; tabular: large rewards
        raise ValueError(f"{who}: Assumption A fails: ||phi|| = {rep.max_phi_norm!r} (must be <= 1), "
                         f"||mu(S)|| = {rep.max_mu_norm!r}, ||theta|| = {rep.max_theta_norm!r} "
                         f"(must be <= sqrt(d) = {float(np.sqrt(rep.d))!r})")


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def random_linear_mdp(S: int, A: int, d: int, *, gamma: float | None = None, horizon: int | None = None,
                      seed=0, concentration: float = 1.0, initial=None, stage_dependent: bool = False):
    r"""A random linear MDP with ``d`` latent next-state laws (simplex / latent-state construction).

    :math:`\phi(s,a)\sim\mathrm{Dirichlet}(\alpha\mathbf 1_d)`, each row of ``mu`` (a law over
    ``S`` next states) :math:`\sim\mathrm{Dirichlet}(\alpha\mathbf 1_S)`, and
    :math:`\theta\sim U[0,1]^d` so that rewards lie in ``[0, 1]``. Assumption A holds exactly:
    :math:`\|\phi\|_2\le\|\phi\|_1=1`, :math:`\mu(\mathcal S)=\mathbf 1_d` has norm
    :math:`\sqrt d`, :math:`\|\theta\|_2\le\sqrt d` (checked, see :func:`linear_assumption`).

    Exactly one of ``gamma`` (returns :class:`~mdptheory.core.DiscountedLinearMDP`) and
    ``horizon`` (returns :class:`~mdptheory.core.LinearMDP`) must be given. With
    ``stage_dependent=True`` (episodic only) every stage has its own ``mu_h`` and ``theta_h``
    (drawn after ``phi``, stage by stage; ``phi`` is shared, as in Jin et al. 2020), else the
    model is stationary. ``initial`` defaults to uniform (discounted) or state 0 (episodic).
    ``seed``: a non-negative integer or a ``numpy.random.Generator``.
    """
    S, A, d = check_int("S", S, 1), check_int("A", A, 1), check_int("d", d, 1)
    if (gamma is None) == (horizon is None):
        raise ValueError("give exactly one of gamma (discounted) and horizon (episodic)")
    concentration = check_real("concentration", concentration, 0.0, low_open=True)
    stage_dependent = check_bool("stage_dependent", stage_dependent)
    if stage_dependent and horizon is None:
        raise ValueError("stage_dependent=True needs an episodic model (give horizon, not gamma)")
    rng = check_generator(seed)
    phi = rng.dirichlet(np.full(d, concentration), size=(S, A))
    if stage_dependent:
        H = check_int("horizon", horizon, 1)
        mu = rng.dirichlet(np.full(S, concentration), size=(H, d))
        theta = rng.random((H, d))
    else:
        mu = rng.dirichlet(np.full(S, concentration), size=d)
        theta = rng.random(d)
    _require_assumption(phi, mu, theta, "random_linear_mdp")
    if gamma is not None:
        return DiscountedLinearMDP(phi, mu, theta, gamma, initial)
    return LinearMDP(phi, mu, theta, horizon, 0 if initial is None else initial)


def tabular_linear_mdp(mdp: DiscountedMDP | EpisodicMDP, *, check_assumption: bool = True):
    r"""The tabular MDP ``mdp`` written as a linear MDP with one-hot features
    :math:`\phi(s,a)=e_{sA+a}\in\mathbb R^{SA}`, ``mu = P`` reshaped ``(S*A, S)``,
    ``theta = R`` flattened (per stage for a stage-dependent episodic model).

    Assumption A holds when the rewards do not exceed :math:`\|\theta_h\|\le\sqrt{SA}` (e.g.
    rewards in ``[0, 1]``): :math:`\|\phi\|=1` and :math:`\mu_h(\mathcal S)=\mathbf 1_{SA}`. With
    ``check_assumption`` (default) a violation raises ``ValueError``; pass ``False`` to embed
    any tabular model (e.g. for the probes)."""
    check_assumption = check_bool("check_assumption", check_assumption)
    S, A = mdp.S, mdp.A
    phi = np.eye(S * A).reshape(S, A, S * A)
    if isinstance(mdp, EpisodicMDP):
        P = mdp.dense_P()
        mu = P.reshape(mdp.H, S * A, S) if P.ndim == 4 else P.reshape(S * A, S)
        R = np.asarray(mdp.R)
        theta = R.reshape(mdp.H, S * A) if R.ndim == 3 else R.reshape(S * A)
        if check_assumption:
            _require_assumption(phi, mu, theta, "tabular_linear_mdp")
        return LinearMDP(phi, mu, theta, mdp.H, mdp.initial)
    P = mdp.dense_P().reshape(S * A, S)
    theta = np.asarray(mdp.R).reshape(-1)
    if check_assumption:
        _require_assumption(phi, P, theta, "tabular_linear_mdp")
    return DiscountedLinearMDP(phi, P, theta, mdp.gamma, mdp.initial)


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


def misspecified_linear_mdp(S: int, A: int, d: int, horizon: int, zeta: float, seed=0, *,
                            concentration: float = 1.0, initial=0) -> FeaturizedMDP:
    r"""A stage-dependent episodic MDP whose kernel is at distance exactly ``zeta`` from the nearest
    kernel linear in its features (Jin, Yang, Wang & Jordan 2020, Assumption B, transitions).

    Construction (``A`` even; actions ``2j`` and ``2j+1`` of a state are *twins*): one simplex
    feature :math:`\phi(s,2j)=\phi(s,2j+1)\sim\mathrm{Dirichlet}(\alpha\mathbf 1_d)` per twin
    pair; per stage, latent laws :math:`\nu_{h,i}\sim\mathrm{Dirichlet}(\alpha\mathbf 1_S)`,
    :math:`\theta_h\sim U[0,1]^d`, a random split of the states into two non-empty halves with
    laws :math:`u_h`, :math:`v_h` (Dirichlet on each half: disjoint supports), and a sign
    :math:`\sigma_h(s,j)=\pm1` per pair. With
    :math:`\mu^*_{h,i}=(1-2\zeta)\nu_{h,i}+\zeta(u_h+v_h)` and
    :math:`L_h(s,a)=\phi(s,a)^\top\mu^*_h` (a linear MDP satisfying Assumption A),

    .. math::
        P_h(\cdot|s,2j)=L_h(s,2j)+\sigma\zeta(u_h-v_h),\qquad
        P_h(\cdot|s,2j+1)=L_h(s,2j+1)-\sigma\zeta(u_h-v_h),

    i.e. :math:`(1-2\zeta)\phi^\top\nu_h+2\zeta u_h` or :math:`\dots+2\zeta v_h` (valid laws for
    :math:`0\le\zeta\le\frac12`), and :math:`r_h=\phi^\top\theta_h` exactly. Distance:
    :math:`\tfrac12\|P_h-L_h\|_1=\zeta\cdot\tfrac12\|u_h-v_h\|_1=\zeta` for every ``(h, s, a)``;
    and no kernel linear in ``phi`` (signed :math:`\mu` allowed) does better, because twins share
    their feature, hence their linear row :math:`\ell`, while
    :math:`\tfrac12\|P_h(s,2j)-P_h(s,2j+1)\|_1=2\zeta`, so
    :math:`\max(\mathrm{TV}(P_h(s,2j),\ell),\mathrm{TV}(P_h(s,2j+1),\ell))\ge\zeta` by the
    triangle inequality. The agent cannot tell twins apart from features: the regret of
    picking the worse twin is the linear-in-``T`` term of Theorem 3.2.

    Returns a :class:`~mdptheory.core.linear.FeaturizedMDP` (``zeta`` recorded) that
    :func:`mdptheory.run` accepts. ``seed``: non-negative integer or ``numpy.random.Generator``.
    """
    S, A, d = check_int("S", S, 2), check_int("A", A, 2), check_int("d", d, 1)
    H = check_int("horizon", horizon, 1)
    if A % 2:
        raise ValueError(f"A = {A} must be even (actions come in twin pairs sharing a feature)")
    zeta = check_real("zeta", zeta, 0.0, 0.5)
    concentration = check_real("concentration", concentration, 0.0, low_open=True)
    rng = check_generator(seed)
    half = rng.dirichlet(np.full(d, concentration), size=(S, A // 2))
    phi = np.repeat(half, 2, axis=1)                                    # phi(s, 2j) = phi(s, 2j+1)
    nu = rng.dirichlet(np.full(S, concentration), size=(H, d))
    theta = rng.random((H, d))
    P = np.empty((H, S, A, S))
    mu_star = np.empty((H, d, S))
    for h in range(H):
        perm = rng.permutation(S)
        cut = S // 2
        u = np.zeros(S)
        v = np.zeros(S)
        u[perm[:cut]] = rng.dirichlet(np.full(cut, concentration))
        v[perm[cut:]] = rng.dirichlet(np.full(S - cut, concentration))
        sign = np.where(rng.random((S, A // 2)) < 0.5, 1.0, -1.0)
        mu_star[h] = (1.0 - 2.0 * zeta) * nu[h] + zeta * (u + v)[None, :]
        base = (1.0 - 2.0 * zeta) * (phi @ nu[h])                        # (S, A, S)
        eff = np.repeat(sign, 2, axis=1) * np.tile([1.0, -1.0], A // 2)     # sign of (s, a), (S, A)
        P[h] = base + 2.0 * zeta * np.where(eff[:, :, None] > 0, u, v)
    _require_assumption(phi, mu_star, theta, "misspecified_linear_mdp")
    R = np.einsum("sak,hk->hsa", phi, theta)
    mdp = EpisodicMDP(P, R, H, initial)
    return FeaturizedMDP(mdp, phi, zeta=zeta)

r"""Robust-MDP families: a nominal model together with its uncertainty set.

* :func:`robust_linear_instance` -- the simulated d-rectangular linear MDP of Liu & Xu
  (AISTATS 2024, arXiv 2402.15399; five states, ``d = 4``, 16 actions, ``H = 3``) and its
  test-time perturbation ``q``.
* :func:`robust_riverswim`, :func:`robust_gridworld` -- tabular models of
  :mod:`~mdptheory.envs.riverswim` and :mod:`~mdptheory.envs.gridworld` with
  (s,a)-rectangular divergence balls (TV by default).

Each returns a small frozen dataclass holding the model and its uncertainty set:
``solve_robust(inst.nominal, inst.uncertainty, rectangularity="d")`` for the linear instance,
``solve_robust(inst.mdp, inst.uncertainty)`` for the tabular ones
(:func:`mdptheory.solvers.robust.solve_robust`). Provenance of the linear instance and of the
grid world's rewards: ``proofs_notes/robust_mdps.md``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from mdptheory.core import DiscountedMDP, EpisodicMDP, LinearMDP
from mdptheory.core.validation import check_choice, check_probability, check_real
from mdptheory.envs.gridworld import gridworld, parse_map
from mdptheory.envs.riverswim import riverswim
from mdptheory.solvers.robust import KL, TV, ChiSquare

__all__ = ["RobustLinearInstance", "robust_linear_instance", "RobustTabularInstance",
           "robust_riverswim", "robust_gridworld", "LIU_XU_LEAK"]

#: Nominal leak of the first factor to the fail state in Liu & Xu's simulated MDP.
LIU_XU_LEAK = 0.001

_DIVERGENCES = {"tv": TV, "kl": KL, "chi2": ChiSquare}


def _readonly(a):
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class RobustLinearInstance:
    r"""Liu & Xu's simulated linear MDP with its d-rectangular TV set.

    Attributes
    ----------
    nominal : LinearMDP
        ``S = 5`` (``x1..x5`` = states 0..4), ``A = 16``, ``d = 4``, ``H = 3``, start ``x1``.
    rho : ndarray ``(H, d)``
        TV radius of each factor at each step.
    uncertainty : TV
        ``TV(rho)``: pass it with ``rectangularity="d"``.
    actions : ndarray ``(16, 4)``
        Action ``k`` is the sign vector ``actions[k]`` (``itertools.product([-1, 1], repeat=4)``
        order).
    delta, xi_norm : float
    """

    nominal: LinearMDP
    rho: np.ndarray
    uncertainty: TV
    actions: np.ndarray = field(repr=False)
    delta: float = 0.3
    xi_norm: float = 0.1

    def perturbed(self, q: float) -> LinearMDP:
        r"""The test environment for perturbation ``q``: at the first step the fourth factor
        sends its mass to the fail state ``x4`` w.p. ``q`` and to ``x5`` w.p. ``1 - q``, and
        the first factor goes to ``x2`` w.p. 1 (no leak); later steps are nominal. Its
        factor-wise TV distance to the nominal model is :meth:`perturbation_tv`."""
        q = check_probability("q", q)
        H, d, S = self.nominal.H, self.nominal.d, self.nominal.S
        mu = np.array(np.broadcast_to(self.nominal.mu, (H, d, S)))
        mu[0, 0] = 0.0
        mu[0, 0, 1] = 1.0
        mu[0, 3] = 0.0
        mu[0, 3, 3] = q
        mu[0, 3, 4] = 1.0 - q
        return LinearMDP(self.nominal.phi, mu, self.nominal.theta, H, self.nominal.initial)

    def perturbation_tv(self, q: float) -> np.ndarray:
        r"""``(H, d)`` TV distances :math:`\tfrac12\|\mu^q_{h,i}-\mu_{h,i}\|_1` of the test model:
        ``q`` for the fourth factor at the first step, the leak (0.001) for the first factor
        there, 0 elsewhere. The test model is in the set iff all are ``<= rho``."""
        H, d, S = self.nominal.H, self.nominal.d, self.nominal.S
        nom = np.broadcast_to(self.nominal.mu, (H, d, S))
        return 0.5 * np.abs(np.asarray(self.perturbed(q).mu) - nom).sum(axis=-1)


def robust_linear_instance(delta: float = 0.3, xi_norm: float = 0.1, rho=0.3) -> RobustLinearInstance:
    r"""The simulated linear MDP of Liu & Xu (2024, Sec. 6) with a d-rectangular TV set.

    States ``x1..x5`` (0..4), actions :math:`a\in\{-1,1\}^4` (16), ``d = 4``, ``H = 3``,
    start ``x1``; :math:`\xi=\xi_{norm}\mathbf 1/4`. Features
    :math:`\phi(x_i,a)=(1-\delta-\langle\xi,a\rangle)e_i+(\delta+\langle\xi,a\rangle)e_4` for
    :math:`i\le3`, :math:`\phi(x_4,\cdot)=e_3` (the fail state, absorbing, reward 0),
    :math:`\phi(x_5,\cdot)=e_4` (absorbing, reward 1 at steps 2 and 3). Factors:
    :math:`\mu_1=0.999\,\delta_{x_2}+0.001\,\delta_{x_4}`,
    :math:`\mu_2=0.999\,\delta_{x_3}+0.001\,\delta_{x_4}`, :math:`\mu_3=\delta_{x_4}`,
    :math:`\mu_4=\delta_{x_5}` at every step; :math:`\theta_1=0`,
    :math:`\theta_2=\theta_3=e_4`. So from ``x1`` the agent reaches the rewarding ``x5`` w.p.
    :math:`\delta+\langle\xi,a\rangle`, else walks ``x2 -> x3`` collecting
    :math:`\delta+\langle\xi,a\rangle` per step.

    The transitions at every reachable (step, state) are those of the public reference
    implementation; the factors at unreachable ones (``mu_2`` at the first step, ``mu_1`` later)
    are our completion so that every row is a distribution (``proofs_notes/robust_mdps.md``).

    Parameters
    ----------
    delta : float in [0, 1]
    xi_norm : float, ``0 <= xi_norm <= min(delta, 1 - delta)`` (keeps the features in the
        simplex)
    rho : float in [0, 1] or array ``(H, d)`` / ``(d,)``
        A scalar is the radius of the fourth factor at the first step (the perturbed one),
        all others 0; an array gives every radius.
    """
    delta = check_probability("delta", delta)
    xi_norm = check_real("xi_norm", xi_norm, 0.0)
    if xi_norm > min(delta, 1.0 - delta):
        raise ValueError(f"xi_norm = {xi_norm!r} must be <= min(delta, 1 - delta) = {min(delta, 1 - delta)!r} "
                         "so that the features stay in the simplex")
    H, d, S = 3, 4, 5
    actions = np.array(list(itertools.product([-1, 1], repeat=4)), dtype=np.float64)
    xi = np.full(4, xi_norm / 4.0)
    shift = actions @ xi
    phi = np.zeros((S, actions.shape[0], d))
    for i in range(3):
        phi[i, :, i] = 1.0 - delta - shift
        phi[i, :, 3] = delta + shift
    phi[3, :, 2] = 1.0
    phi[4, :, 3] = 1.0
    mu = np.zeros((d, S))
    mu[0, 1], mu[0, 3] = 1.0 - LIU_XU_LEAK, LIU_XU_LEAK
    mu[1, 2], mu[1, 3] = 1.0 - LIU_XU_LEAK, LIU_XU_LEAK
    mu[2, 3] = 1.0
    mu[3, 4] = 1.0
    theta = np.zeros((H, d))
    theta[1, 3] = theta[2, 3] = 1.0
    nominal = LinearMDP(phi, mu, theta, H, 0)
    if np.ndim(rho) == 0:
        r = TV(rho).rho
        rho_arr = np.zeros((H, d))
        rho_arr[0, 3] = r
    else:
        rho_arr = np.array(TV(rho).rho, dtype=np.float64)
        if rho_arr.shape == (d,):
            rho_arr = np.broadcast_to(rho_arr, (H, d))
        elif rho_arr.shape != (H, d):
            raise ValueError(f"rho must be a scalar or have shape ({d},) or ({H}, {d}), got shape {rho_arr.shape}")
    rho_arr = _readonly(rho_arr)
    return RobustLinearInstance(nominal=nominal, rho=rho_arr, uncertainty=TV(rho_arr),
                                actions=_readonly(actions), delta=delta, xi_norm=xi_norm)


@dataclass(frozen=True, eq=False)
class RobustTabularInstance:
    """A tabular nominal model with an (s,a)-rectangular uncertainty set.

    Attributes
    ----------
    mdp : DiscountedMDP or EpisodicMDP
    uncertainty : TV, KL or ChiSquare
    name : str
    params : dict
    """

    mdp: DiscountedMDP | EpisodicMDP
    uncertainty: TV | KL | ChiSquare
    name: str
    params: dict = field(default_factory=dict)


def _ball(divergence: str, rho):
    return _DIVERGENCES[check_choice("divergence", divergence, tuple(_DIVERGENCES))](rho)


def robust_riverswim(n: int = 6, rho: float = 0.1, gamma: float | None = 0.95, horizon: int | None = None, *,
                     divergence: str = "tv") -> RobustTabularInstance:
    r"""RiverSwim (:func:`mdptheory.envs.riverswim`, default rewards) with the same ball of
    radius ``rho`` around every row. Under TV the adversary moves :math:`\rho` of mass to the
    lowest-value state (the left bank); at :math:`\rho=1` the robust value is the closed form
    :math:`V(s)=\max_aR(s,a)+\frac{\gamma}{1-\gamma}\min_{s'}\max_aR(s',a)`.

    ``gamma`` (discounted, default 0.95) or ``horizon`` (episodic; pass ``gamma=None``).
    """
    if horizon is not None:
        gamma = None
    mdp = riverswim(n, horizon=horizon, gamma=gamma)
    return RobustTabularInstance(mdp=mdp, uncertainty=_ball(divergence, rho), name="robust_riverswim",
                                 params={"n": n, "rho": rho, "gamma": gamma, "horizon": horizon,
                                         "divergence": divergence})


def robust_gridworld(map="4x4", rho: float = 0.1, slip: float = 0.2, gamma: float | None = 0.95,
                     horizon: int | None = None, *, divergence: str = "tv") -> RobustTabularInstance:
    r"""A slippery grid world (:func:`mdptheory.envs.gridworld` dynamics) with balls of radius
    ``rho`` around the rows of the non-terminal cells.

    Rewards are attached to states so that they do not depend on the (uncertain) next state:
    :math:`R(s,a)=1` at a goal cell, 0 elsewhere; goals, holes and walls are absorbing and
    *exact* (radius 0), so the return counts the discounted time spent at the goal. Under TV
    the adversary moves mass from a moving cell to the lowest-value cell anywhere on the map
    (a hole when there is one).
    """
    grid = parse_map(map)
    if horizon is not None:
        gamma = None
    base = gridworld(map, horizon=horizon, gamma=gamma, slip=slip)
    goal = (grid.ravel() == "G")
    R = np.repeat(goal.astype(np.float64)[:, None], 4, axis=1)
    mdp = base.replace(R=R)
    terminal = np.isin(grid.ravel(), ("G", "H", "W"))
    rho = check_real("rho", rho, 0.0, 1.0 if divergence == "tv" else None)
    radii = np.where(terminal[:, None], 0.0, rho) * np.ones((1, 4))
    return RobustTabularInstance(mdp=mdp, uncertainty=_ball(divergence, radii), name="robust_gridworld",
                                 params={"map": map, "rho": rho, "slip": slip, "gamma": gamma,
                                         "horizon": horizon, "divergence": divergence})

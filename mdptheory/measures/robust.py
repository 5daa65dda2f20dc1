r"""Robust measures of a policy: its exact robust value, its robust suboptimality, and its
value under one given perturbed kernel.

* :func:`robust_policy_value` -- :math:`V^\pi_{rob}=\min_{P\in\mathcal U}V^{\pi,P}` (robust
  policy evaluation, certified; :func:`mdptheory.solvers.robust.evaluate_robust`).
* :func:`robust_suboptimality` -- :math:`V^*_{rob}-V^\pi_{rob}\ge0`, the gap a robust learner is
  judged by (not the nominal regret, and not the loss on one test kernel).
* :func:`perturbed_value` -- :math:`V^{\pi,P'}` for one kernel :math:`P'` (a test-time
  perturbation) and whether :math:`P'` lies in the uncertainty set: a kernel outside the set
  can make a robust policy look worse than its robust value promises.

References: Iyengar (2005); Liu & Xu (AISTATS 2024). Notes: ``proofs_notes/robust_mdps.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core import DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP
from mdptheory.core.validation import check_choice
from mdptheory.solvers import evaluate
from mdptheory.solvers.robust import _check_uncertainty, evaluate_robust, solve_robust

__all__ = ["RobustPolicyValue", "robust_policy_value", "RobustSuboptimality", "robust_suboptimality",
           "PerturbedValue", "perturbed_value"]


def _first_stage(V, episodic: bool) -> np.ndarray:
    return np.asarray(V[0] if episodic else V)


def _initial(mdp) -> np.ndarray:
    return np.asarray(mdp.initial)


@dataclass(frozen=True, eq=False)
class RobustPolicyValue:
    r"""Robust value of a policy.

    Attributes
    ----------
    V : ndarray
        :math:`V^\pi_{rob}`, ``(S,)`` or ``(H+1, S)``.
    value : float
        :math:`\sum_s\nu(s)V^\pi_{rob}(s)` (first stage) for the model's initial law :math:`\nu`.
    error_bound : float
        Proven bound on :math:`\max|V-V^\pi_{rob}|` (so also on the error of ``value``).
    """

    V: np.ndarray
    value: float
    error_bound: float


def robust_policy_value(mdp, policy, uncertainty, rectangularity: str = "sa", tol: float = 1e-10) -> RobustPolicyValue:
    r"""Exact robust value of ``policy`` (deterministic int or stochastic float array)."""
    ev = evaluate_robust(mdp, policy, uncertainty, rectangularity, tol=tol)
    episodic = ev.V.ndim == 2
    v0 = _first_stage(ev.V, episodic)
    return RobustPolicyValue(V=ev.V, value=float(_initial(mdp) @ v0), error_bound=ev.error_bound)


@dataclass(frozen=True, eq=False)
class RobustSuboptimality:
    r"""Robust suboptimality :math:`V^*_{rob}-V^\pi_{rob}` of a policy (first stage).

    Attributes
    ----------
    gap : ndarray ``(S,)``
        Per start state; :math:`\ge -` ``error_bound``.
    value : float
        The gap averaged over the initial law.
    optimal_value, policy_value : float
        :math:`\nu^\top V^*_{rob}` and :math:`\nu^\top V^\pi_{rob}`.
    error_bound : float
        Bound on the error of every gap (sum of the two certified bounds).
    optimal_policy : ndarray
        A robust-optimal policy.
    """

    gap: np.ndarray
    value: float
    optimal_value: float
    policy_value: float
    error_bound: float
    optimal_policy: np.ndarray


def robust_suboptimality(mdp, policy, uncertainty, rectangularity: str = "sa",
                         tol: float = 1e-10) -> RobustSuboptimality:
    r""":math:`V^*_{rob}(s)-V^\pi_{rob}(s)`: the robust optimum (:func:`solve_robust`) against
    the robust value of ``policy`` (:func:`robust_policy_value`), both certified."""
    opt = solve_robust(mdp, uncertainty, rectangularity, tol=tol)
    pv = robust_policy_value(mdp, policy, uncertainty, rectangularity, tol=tol)
    episodic = opt.V.ndim == 2
    vo, vp = _first_stage(opt.V, episodic), _first_stage(pv.V, episodic)
    nu = _initial(mdp)
    gap = vo - vp
    return RobustSuboptimality(gap=gap, value=float(nu @ gap), optimal_value=float(nu @ vo),
                               policy_value=float(nu @ vp), error_bound=opt.error_bound + pv.error_bound,
                               optimal_policy=opt.policy)


@dataclass(frozen=True, eq=False)
class PerturbedValue:
    r"""Value of a policy under one perturbed kernel.

    Attributes
    ----------
    V : ndarray
        :math:`V^{\pi,P'}`, ``(S,)`` or ``(H+1, S)``.
    value : float
        First-stage value averaged over the initial law.
    divergence : ndarray or None
        Divergence of each perturbed row (``"sa"``: per ``(s, a)`` or ``(h, s, a)``) or factor
        (``"d"``: per ``i`` or ``(h, i)``) from the nominal one, when an uncertainty set is given.
    in_set : bool or None
        Whether every divergence is within its radius (relative slack ``1e-9``).
    """

    V: np.ndarray
    value: float
    divergence: np.ndarray | None = None
    in_set: bool | None = None


def _tabular(model):
    return model.to_mdp() if isinstance(model, (LinearMDP, DiscountedLinearMDP)) else model


def perturbed_value(mdp, policy, perturbed, uncertainty=None, rectangularity: str = "sa") -> PerturbedValue:
    r"""Exact value of ``policy`` when the dynamics are ``perturbed`` instead of ``mdp``'s.

    ``perturbed`` is a model of the same kind and size as ``mdp`` (same rewards are used:
    ``mdp``'s) or a transition array of the shape of ``mdp``'s dense kernel. With
    ``uncertainty``, the divergence of each perturbed row (``"sa"``) or factor (``"d"``, both
    models linear with the same features) from the nominal one is reported with ``in_set``.
    """
    rect = check_choice("rectangularity", rectangularity, ("sa", "d"))
    nominal = _tabular(mdp)
    if not isinstance(nominal, (DiscountedMDP, EpisodicMDP)):
        raise TypeError(f"expected a tabular or linear model, got {type(mdp).__name__}")
    if isinstance(perturbed, (DiscountedMDP, EpisodicMDP, LinearMDP, DiscountedLinearMDP)):
        P_new = _tabular(perturbed).dense_P()
    else:
        P_new = np.asarray(perturbed, dtype=np.float64)
    P_nom = nominal.dense_P()
    if isinstance(nominal, EpisodicMDP) and P_new.ndim == 4 and P_nom.ndim == 3:
        P_nom = np.broadcast_to(P_nom, P_new.shape)
    if P_new.ndim == 4 and P_nom.ndim == 4 and P_new.shape != P_nom.shape:
        raise ValueError(f"perturbed kernel has shape {P_new.shape}, expected {P_nom.shape}")
    if P_new.ndim == 3 and P_new.shape != P_nom.shape[-3:]:
        raise ValueError(f"perturbed kernel has shape {P_new.shape}, expected {P_nom.shape}")
    model = nominal.replace(P=P_new)
    V = evaluate(model, policy)
    episodic = isinstance(model, EpisodicMDP)
    value = float(_initial(nominal) @ _first_stage(V, episodic))
    if uncertainty is None:
        return PerturbedValue(V=V, value=value)
    unc = _check_uncertainty(uncertainty)
    if rect == "sa":
        shape = np.broadcast_shapes(P_nom.shape, P_new.shape)
        div = unc.divergence(np.broadcast_to(P_new, shape), np.broadcast_to(P_nom, shape))
    else:
        if not (isinstance(mdp, (LinearMDP, DiscountedLinearMDP))
                and isinstance(perturbed, (LinearMDP, DiscountedLinearMDP))):
            raise TypeError("rectangularity='d' needs the nominal and the perturbed model as linear MDPs")
        phi_n, phi_p = np.asarray(mdp.phi), np.asarray(perturbed.phi)
        if phi_n.shape != phi_p.shape or not np.array_equal(phi_n, phi_p):
            raise ValueError("rectangularity='d': the perturbed model must have the nominal features")
        mu_n, mu_p = np.asarray(mdp.mu), np.asarray(perturbed.mu)
        if mu_n.ndim < mu_p.ndim:
            mu_n = np.broadcast_to(mu_n, mu_p.shape)
        elif mu_p.ndim < mu_n.ndim:
            mu_p = np.broadcast_to(mu_p, mu_n.shape)
        div = unc.divergence(mu_p, mu_n)
    rho = unc.rho if unc.scalar else np.asarray(unc.rho)
    try:
        radius = np.broadcast_to(rho, div.shape)
    except ValueError:
        raise ValueError(f"rho of shape {np.shape(rho)} does not match the divergences of shape {div.shape}") from None
    in_set = bool(np.all(div <= radius * (1 + 1e-9) + 1e-15))
    return PerturbedValue(V=V, value=value, divergence=div, in_set=in_set)

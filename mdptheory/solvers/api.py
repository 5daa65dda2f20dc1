"""Public entry points :func:`solve` and :func:`evaluate`."""

from __future__ import annotations

import numpy as np

from mdptheory.core import DiscountedMDP, EpisodicMDP, as_mdp, to_stochastic, validate_policy
from mdptheory.solvers.average import relative_value_iteration
from mdptheory.solvers.discounted import (
    evaluate_discounted,
    gauss_seidel_vi,
    modified_policy_iteration,
    policy_iteration,
    value_iteration,
)
from mdptheory.solvers.episodic import backward_induction, evaluate_episodic
from mdptheory.solvers.lp import linear_programming
from mdptheory.solvers.result import Solution

__all__ = ["solve", "evaluate", "evaluate_q", "DISCOUNTED_METHODS", "DEFAULT_METHOD"]

DISCOUNTED_METHODS = {
    "vi": value_iteration,
    "gs-vi": gauss_seidel_vi,
    "pi": policy_iteration,
    "mpi": modified_policy_iteration,
    "lp": linear_programming,
}

#: Default discounted method, chosen by ``benchmarks/exact_solvers.py`` (docs/benchmarks.md).
DEFAULT_METHOD = "mpi"


def solve(mdp: DiscountedMDP | EpisodicMDP, method: str | None = None, tol: float = 1e-8, **kwargs) -> Solution:
    """Solve an MDP exactly or to a certified sup-norm accuracy ``tol``.

    Parameters
    ----------
    mdp : DiscountedMDP or EpisodicMDP
    method : str, optional
        Discounted: ``"vi"``, ``"gs-vi"``, ``"pi"``, ``"mpi"``, ``"lp"`` (optimal values) or
        ``"rvi"`` (average reward: gain and bias). Default :data:`DEFAULT_METHOD`.
        Episodic: ``"backward-induction"`` (the default and only method; exact).
    tol : float
        Required bound on ``max|V - V*|`` (``|gain - g*|`` for ``"rvi"``).
    **kwargs
        Passed to the method (``max_iter``, ``V0``, ``m`` for MPI, ``tau`` for RVI, ...).

    Returns
    -------
    Solution
        ``error_bound`` is a proven bound on the distance to the optimum; ``converged`` is
        False (with a ``RuntimeWarning``) when ``max_iter`` stops a method early.
    """
    mdp = as_mdp(mdp)
    if not (isinstance(tol, (int, float, np.floating)) and tol > 0 and np.isfinite(tol)):
        raise ValueError(f"tol = {tol!r} must be a positive finite number")
    if isinstance(mdp, EpisodicMDP):
        if method not in (None, "backward-induction", "bi"):
            raise ValueError(f"unknown method {method!r} for an EpisodicMDP; use 'backward-induction'")
        return backward_induction(mdp, **kwargs)
    method = DEFAULT_METHOD if method is None else method
    if method == "rvi":
        return relative_value_iteration(mdp, tol=tol, **kwargs)
    try:
        fn = DISCOUNTED_METHODS[method]
    except KeyError:
        raise ValueError(
            f"unknown method {method!r}; choose one of {sorted(DISCOUNTED_METHODS) + ['rvi']}"
        ) from None
    return fn(mdp, tol=tol, **kwargs)


def evaluate(mdp: DiscountedMDP | EpisodicMDP, policy) -> np.ndarray:
    r"""Exact value of a policy.

    ``policy`` is deterministic (integer dtype, ``(S,)`` or ``(H, S)``) or stochastic (float,
    ``(S, A)`` or ``(H, S, A)``); see :func:`mdptheory.validate_policy`.

    Returns :math:`V^\pi` of shape ``(S,)`` (discounted, by a direct linear solve) or
    ``(H+1, S)`` (episodic, by backward recursion; ``V[H] = 0``).
    """
    mdp = as_mdp(mdp)
    spec = validate_policy(mdp, policy)
    if isinstance(mdp, EpisodicMDP):
        return evaluate_episodic(mdp, to_stochastic(spec, mdp.A))
    if spec.deterministic:
        return evaluate_discounted(mdp, pi=spec.table)
    return evaluate_discounted(mdp, probs=spec.table)


def evaluate_q(mdp: DiscountedMDP | EpisodicMDP, policy) -> np.ndarray:
    r"""Exact action values of a policy: :math:`Q^\pi = R + \gamma P V^\pi`.

    Returns ``(S, A)`` (discounted) or ``(H, S, A)`` (episodic, :math:`Q^\pi_h = R_h + P_h
    V^\pi_{h+1}`).
    """
    from mdptheory.solvers._ops import DiscountedOps

    V = evaluate(mdp, policy)
    if isinstance(mdp, EpisodicMDP):
        H = mdp.horizon
        Q = np.empty((H, mdp.S, mdp.A))
        for h in range(H):
            Ph = mdp.P_at(h)
            nxt = (Ph @ V[h + 1]).reshape(mdp.S, mdp.A) if mdp.is_sparse else Ph @ V[h + 1]
            Q[h] = mdp.R_at(h) + nxt
        return Q
    Q = np.empty((mdp.S, mdp.A))
    DiscountedOps(mdp).q(np.ascontiguousarray(V), Q)
    return Q

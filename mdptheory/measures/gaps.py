r"""Action gaps and the gap-dependent constants of instance-dependent regret bounds.

For an episodic MDP the gap of ``(h, s, a)`` is
:math:`\Delta_h(s,a) = V^*_h(s) - Q^*_h(s,a) \ge 0`; for a discounted MDP
:math:`\Delta(s,a) = V^*(s) - Q^*(s,a)`. Optimal actions have gap 0 and are **excluded**
from the gap sum (no regulariser): a pair counts as optimal when its computed gap is at
most ``zero_tol``, a round-off threshold (default
``max(1e-9 * max(1, max|V*|), 10 * (1 + gamma) * error_bound)``; the optimal values come
from exact backward induction or policy iteration, so true gaps are either 0 or far above
it for well-scaled instances). Colosseum instead adds 0.1 to every gap, which makes every
optimal action contribute 10 (Colosseum's ``hardness/measures/
sum_reciprocals_suboptimality_gaps.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import scipy.sparse as sp

from mdptheory.core import EpisodicMDP, as_mdp
from mdptheory.solvers import solve

__all__ = ["action_gaps", "min_gap", "gap_sum", "gap_summary", "GapSummary", "reachable_pairs"]


def _solve_exact(mdp):
    if isinstance(mdp, EpisodicMDP):
        return solve(mdp)
    return solve(mdp, method="pi", tol=1e-12)


def action_gaps(mdp) -> np.ndarray:
    r"""Exact action gaps :math:`V^* - Q^*`: ``(S, A)`` (discounted) or ``(H, S, A)``
    (episodic), clipped below at 0 (round-off).

    Discounted values come from policy iteration (exact up to round-off), episodic ones
    from backward induction.
    """
    mdp = as_mdp(mdp)
    return np.maximum(_solve_exact(mdp).action_gaps(), 0.0)


@dataclass(frozen=True)
class GapSummary:
    """Gap statistics of an MDP (see :func:`gap_summary`).

    Attributes
    ----------
    min_gap : float
        Smallest positive gap (``inf`` when every action is optimal everywhere).
    gap_sum : float
        :math:`\\sum_{\\Delta > 0} 1/\\Delta` over suboptimal pairs (0 when there are none).
    n_suboptimal, n_optimal : int
        Number of ``(h, s, a)`` / ``(s, a)`` pairs with a positive / zero gap.
    zero_tol : float
        Threshold under which a gap counts as zero.
    """

    min_gap: float
    gap_sum: float
    n_suboptimal: int
    n_optimal: int
    zero_tol: float


def reachable_pairs(mdp) -> np.ndarray:
    r"""Boolean mask of the states some policy can occupy, started from the support of
    ``mdp.initial``: ``(H, S)`` for an episodic model (``mask[h, s]``: state ``s`` has
    positive probability at stage ``h`` under some policy), ``(S,)`` for a discounted one
    (reachable at some time). Pure graph search on the support of ``P``."""
    mdp = as_mdp(mdp)
    start = np.asarray(mdp.initial) > 0

    def successors(P, states):
        if sp.issparse(P):
            rows = (states[:, None] * mdp.A + np.arange(mdp.A)[None, :]).ravel()
            out = np.zeros(mdp.S, dtype=bool)
            out[P[rows].indices] = True
            return out
        return (np.asarray(P)[states] > 0).any(axis=(0, 1))

    if isinstance(mdp, EpisodicMDP):
        mask = np.zeros((mdp.H, mdp.S), dtype=bool)
        mask[0] = start
        for h in range(mdp.H - 1):
            mask[h + 1] = successors(mdp.P_at(h), np.flatnonzero(mask[h]))
        return mask
    mask = start.copy()
    while True:
        nxt = mask | successors(mdp.P, np.flatnonzero(mask))
        if np.array_equal(nxt, mask):
            return mask
        mask = nxt


def gap_summary(mdp, zero_tol: float | None = None, *, reachable_only: bool = False) -> GapSummary:
    r"""Minimum positive gap and :math:`\sum_{(h,s,a):\,\Delta_h(s,a) > 0} 1/\Delta_h(s,a)`.

    The sum is the constant of gap-dependent (logarithmic) regret bounds, e.g.
    :math:`O(\sum_{\Delta>0} H \log K / \Delta)` (Simchowitz & Jamieson 2019) -- multiply by
    ``H`` or the variance factor your bound uses. By default all pairs are counted,
    reachable or not; ``reachable_only=True`` keeps the ``(h, s)`` (or ``s``) that some
    policy can reach from the initial support (:func:`reachable_pairs`; Colosseum's
    episodic gap sum makes the same restriction, but adds a 0.1 regulariser to every gap).

    Zero gaps: a pair counts as optimal, and is left out of both ``min_gap`` and the sum,
    when its computed gap is at most ``zero_tol``. The default is
    ``max(1e-9 * max(1, max|V*|), 10 * (1 + gamma) * error_bound)``, where ``error_bound``
    is the solver's certified accuracy of :math:`V^*` (each computed gap is within
    ``(1 + gamma) * error_bound`` of the true one; episodic ``gamma = 1``).
    """
    mdp = as_mdp(mdp)
    sol = _solve_exact(mdp)
    gaps = np.maximum(sol.action_gaps(), 0.0)
    if zero_tol is None:
        err = float(sol.error_bound) if np.isfinite(sol.error_bound) else 0.0
        zero_tol = max(1e-9 * max(1.0, float(np.abs(sol.V).max())), 10.0 * (1.0 + mdp.gamma) * err)
    elif not (np.isfinite(zero_tol) and zero_tol >= 0):
        raise ValueError(f"zero_tol = {zero_tol!r} must be finite and >= 0")
    if not isinstance(reachable_only, (bool, np.bool_)):
        raise TypeError(f"reachable_only must be a bool, got {reachable_only!r}")
    if reachable_only:
        gaps = gaps[reachable_pairs(mdp)]
    pos = gaps > zero_tol
    return GapSummary(
        min_gap=float(gaps[pos].min()) if pos.any() else float("inf"),
        gap_sum=float((1.0 / gaps[pos]).sum()),
        n_suboptimal=int(pos.sum()),
        n_optimal=int((~pos).sum()),
        zero_tol=float(zero_tol),
    )


def min_gap(mdp, zero_tol: float | None = None, *, reachable_only: bool = False) -> float:
    """Smallest positive action gap (``inf`` if all actions are optimal); see
    :func:`gap_summary`."""
    return gap_summary(mdp, zero_tol, reachable_only=reachable_only).min_gap


def gap_sum(mdp, zero_tol: float | None = None, *, reachable_only: bool = False) -> float:
    r""":math:`\sum` of ``1/gap`` over suboptimal pairs (zero gaps excluded, no regulariser);
    see :func:`gap_summary`."""
    return gap_summary(mdp, zero_tol, reachable_only=reachable_only).gap_sum

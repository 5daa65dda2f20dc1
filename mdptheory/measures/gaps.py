r"""Action gaps and the gap-dependent constants of instance-dependent regret bounds.

For an episodic MDP the gap of ``(h, s, a)`` is
:math:`\Delta_h(s,a) = V^*_h(s) - Q^*_h(s,a) \ge 0`; for a discounted MDP
:math:`\Delta(s,a) = V^*(s) - Q^*(s,a)`. Optimal actions have gap 0 and are **excluded**
from the gap sum (no regulariser): a pair counts as optimal when its computed gap is at
most ``zero_tol``, a round-off threshold (default ``1e-9 * max(1, max|V*|)``; the optimal
values come from exact backward induction or policy iteration, so true gaps are either 0 or
far above it for well-scaled instances). Colosseum instead adds 0.1 to every gap, which
makes every optimal action contribute 10 (peer notes [C8]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core import EpisodicMDP, as_mdp
from mdptheory.solvers import solve

__all__ = ["action_gaps", "min_gap", "gap_sum", "gap_summary", "GapSummary"]


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


def gap_summary(mdp, zero_tol: float | None = None) -> GapSummary:
    r"""Minimum positive gap and :math:`\sum_{(h,s,a):\,\Delta_h(s,a) > 0} 1/\Delta_h(s,a)`.

    The sum is the constant of gap-dependent (logarithmic) regret bounds, e.g.
    :math:`O(\sum_{\Delta>0} H \log K / \Delta)` (Simchowitz & Jamieson 2019) -- multiply by
    ``H`` or the variance factor your bound uses. All pairs are counted, reachable or not.
    """
    mdp = as_mdp(mdp)
    sol = _solve_exact(mdp)
    gaps = np.maximum(sol.action_gaps(), 0.0)
    if zero_tol is None:
        zero_tol = 1e-9 * max(1.0, float(np.abs(sol.V).max()))
    elif not (np.isfinite(zero_tol) and zero_tol >= 0):
        raise ValueError(f"zero_tol = {zero_tol!r} must be finite and >= 0")
    pos = gaps > zero_tol
    return GapSummary(
        min_gap=float(gaps[pos].min()) if pos.any() else float("inf"),
        gap_sum=float((1.0 / gaps[pos]).sum()),
        n_suboptimal=int(pos.sum()),
        n_optimal=int((~pos).sum()),
        zero_tol=float(zero_tol),
    )


def min_gap(mdp, zero_tol: float | None = None) -> float:
    """Smallest positive action gap (``inf`` if all actions are optimal); see
    :func:`gap_summary`."""
    return gap_summary(mdp, zero_tol).min_gap


def gap_sum(mdp, zero_tol: float | None = None) -> float:
    r""":math:`\sum` of ``1/gap`` over suboptimal pairs (zero gaps excluded, no regulariser);
    see :func:`gap_summary`."""
    return gap_summary(mdp, zero_tol).gap_sum

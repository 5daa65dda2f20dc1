"""Result object returned by :func:`mdptheory.solve`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Solution"]


@dataclass(frozen=True, eq=False)
class Solution:
    r"""Solution of a planning problem (modelled on SciPy's ``OptimizeResult``).

    Attributes
    ----------
    V : ndarray
        Optimal values: ``(S,)`` (discounted; the *corrected* estimate for iterative
        methods), ``(H+1, S)`` (episodic, ``V[H] = 0``), or the bias ``h`` for ``"rvi"``.
    Q : ndarray
        ``(S, A)`` or ``(H, S, A)``: ``Q = R + gamma P V`` computed from the returned ``V``.
    policy : ndarray of int64
        A greedy policy, ``(S,)`` or ``(H, S)`` (ties broken towards the lowest action).
    error_bound : float
        A proven bound on ``max_s |V(s) - V*(s)|`` (for ``"rvi"``: on ``|gain - g*|``).
        It accounts for the algorithm's truncation, not for floating-point round-off
        (which is of order ``1e-16 * max|V| / (1 - gamma)``).
    converged : bool
        True when the method met its stopping rule (``error_bound <= tol`` for iterative
        methods, a stable policy for policy iteration, success for LP).
    iterations : int
        Sweeps (VI, RVI), improvement steps (PI, MPI), or stages (backward induction).
    residual : float
        ``max_s |(T V)(s) - V(s)|`` of the returned ``V`` (Bellman residual, sup norm).
    method : str
    message : str
    gain : float or None
        Optimal average reward (``"rvi"`` only).
    occupancy : ndarray or None
        ``(S, A)`` discounted occupancy measure
        :math:`d(s,a)=\sum_t \gamma^t \Pr(s_t=s,a_t=a)` from the initial distribution of
        the MDP (``"lp"`` only; the dual solution of the primal LP).
    """

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    error_bound: float
    converged: bool
    iterations: int
    residual: float
    method: str
    message: str = ""
    gain: float | None = None
    occupancy: np.ndarray | None = field(default=None, repr=False)

    def action_gaps(self) -> np.ndarray:
        r"""Action gaps :math:`V^*(s) - Q^*(s, a) \ge 0`, shape like ``Q``.

        Episodic: ``gap[h, s, a] = V[h, s] - Q[h, s, a]``. Average reward (``"rvi"``):
        ``h(s) - Q(s, a)`` with ``Q = R - g + P h``. Each gap is accurate to
        ``(1 + gamma) * error_bound``.
        """
        if self.Q.ndim == 3:
            return self.V[:-1, :, None] - self.Q
        return self.V[:, None] - self.Q

    def __repr__(self) -> str:
        return (
            f"Solution(method={self.method!r}, converged={self.converged}, iterations={self.iterations}, "
            f"error_bound={self.error_bound:.3g}, residual={self.residual:.3g}, message={self.message!r})"
        )

r"""Relative value iteration for average-reward (unichain / weakly communicating) MDPs.

With :math:`(Th)(s) = \max_a R(s,a) + \sum_{s'}P(s'|s,a)h(s')` and :math:`d = Th - h`,
the optimal gain satisfies :math:`\min_s d(s) \le g^* \le \max_s d(s)` for every ``h``
(Puterman 1994, Thm 8.5.5 / 9.4.1 for weakly communicating models). RVI iterates
:math:`h \leftarrow Th - (Th)(s_\mathrm{ref})` and stops when the bracket is narrower than
``2 tol``; the returned gain is its midpoint, so ``|gain - g*| <= error_bound <= tol``.

An aperiodicity transform :math:`P_\tau = \tau I + (1-\tau)P` (``tau > 0``) leaves the gain
unchanged and guarantees convergence for periodic chains; the bias is scaled back by
:math:`h = (1-\tau) h_\tau`.
"""

from __future__ import annotations

import warnings

import numpy as np

from mdptheory.core import DiscountedMDP
from mdptheory.solvers._ops import DiscountedOps
from mdptheory.solvers.result import Solution

__all__ = ["relative_value_iteration"]


def relative_value_iteration(mdp: DiscountedMDP, tol: float = 1e-8, max_iter: int = 100_000,
                             tau: float = 0.0, ref_state: int = 0) -> Solution:
    """Average-reward RVI; ``mdp.gamma`` is ignored (the model's ``P`` and ``R`` are used).

    Returns a :class:`Solution` with ``gain``, the bias in ``V`` (``V[ref_state] = 0``),
    ``Q = R - gain + P h`` and ``error_bound`` bounding ``|gain - g*|``.
    """
    if not 0.0 <= tau < 1.0:
        raise ValueError(f"tau = {tau} must lie in [0, 1)")
    if not 0 <= ref_state < mdp.S:
        raise ValueError(f"ref_state = {ref_state} out of range [0, {mdp.S})")
    # (T_tau h)(s) = tau h(s) + max_a [R(s,a) + (1 - tau) P(.|s,a) h]: same rewards, same gain
    ops = DiscountedOps(mdp, gamma=1.0 - tau)
    h = np.zeros(mdp.S)
    Th = np.empty_like(h)
    pi = np.empty(mdp.S, dtype=np.int64)
    lo, hi = -np.inf, np.inf
    k = 0
    converged = False
    while k < max_iter:
        ops.tmax(h, Th, pi)
        if tau > 0:
            Th += tau * h
        k += 1
        d = Th - h
        lo, hi = float(d.min()), float(d.max())
        h = Th - Th[ref_state]
        if hi - lo <= 2 * tol:
            converged = True
            break
    gain = 0.5 * (lo + hi)
    bias = h * (1 - tau) if tau > 0 else h
    Q = np.empty((mdp.S, mdp.A))
    DiscountedOps(mdp, gamma=1.0).q(bias, Q)
    Q -= gain
    residual = float(np.abs(Q.max(axis=1) - bias).max())
    if not converged:
        warnings.warn(f"rvi: max_iter={max_iter} reached with gain bracket width {hi - lo:.3g}; "
                      "converged=False (periodic chain? try tau=0.5)", RuntimeWarning, stacklevel=3)
    return Solution(V=bias, Q=Q, policy=Q.argmax(axis=1).astype(np.int64), error_bound=0.5 * (hi - lo),
                    converged=converged, iterations=k, residual=residual, method="rvi",
                    message="gain bracket <= 2 tol" if converged else "max_iter reached", gain=gain)

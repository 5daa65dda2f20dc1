r"""Textbook MDPs with known answers.

* :func:`puterman_two_state` -- Puterman (1994), Section 3.1 / Example 6.2.1.
* :func:`puterman_inventory` -- Puterman (1994), Sections 3.2 and 4.6.1 (finite horizon).
* :func:`mdptoolbox_small` -- the ``small()`` example of the MATLAB/Python MDPtoolbox.
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.core.validation import check_int

__all__ = ["puterman_two_state", "puterman_inventory", "mdptoolbox_small"]


def puterman_two_state(gamma: float = 0.95) -> DiscountedMDP:
    r"""Puterman's two-state example (Section 3.1).

    State 0 has action 0 (reward 5; stay w.p. 1/2, move to state 1 w.p. 1/2) and action 1
    (reward 10; move to state 1). State 1 is absorbing with reward -1. Puterman's state 1
    has a single action; here both of its actions are that same action (identical rows).

    Known answer (Example 6.2.1): with :math:`\beta = \gamma`,
    :math:`v^*(1) = -1/(1-\beta)` and
    :math:`v^*(0) = \max\{(5 - 5.5\beta)/((1 - 0.5\beta)(1 - \beta)),\ 10 - \beta/(1-\beta)\}`
    (the values of "always action 0" and "action 1 at state 0"). The first term is the larger,
    so action 0 is optimal in state 0, exactly when :math:`\beta > 10/11` (the two tie at
    :math:`\beta = 10/11`): subtracting, the sign of the difference is that of
    :math:`(1.1\beta - 1)(1 - \beta)` after clearing the positive denominators.

    Parameters
    ----------
    gamma : float in [0, 1)
        Puterman's :math:`\lambda`; default 0.95 (the value QuantEcon's tests use).
    """
    P = np.zeros((2, 2, 2))
    P[0, 0] = [0.5, 0.5]
    P[0, 1] = [0.0, 1.0]
    P[1, 0] = [0.0, 1.0]
    P[1, 1] = [0.0, 1.0]
    R = np.array([[5.0, 10.0], [-1.0, -1.0]])
    return DiscountedMDP(P, R, gamma)


def puterman_inventory(horizon: int = 3) -> EpisodicMDP:
    r"""Puterman's stochastic inventory problem (Sections 3.2.2 and 4.6.1).

    Warehouse capacity ``M = 3``; stock ``s in {0..3}``; order ``a in {0..3}`` with
    ``s + a <= 3`` (an order that would exceed capacity is truncated to ``3 - s``, which is
    never better than ordering exactly ``3 - s`` and so leaves the optimal values unchanged);
    demand ``D in {0, 1, 2}`` w.p. ``(1/4, 1/2, 1/4)``; next stock ``max(s + a - D, 0)``.
    Expected one-period reward ``r(s, a) = F(s + a) - O(a) - h(s + a)`` with revenue
    ``f(j) = 8 j`` on sold units, ordering cost ``O(a) = 4 + 2a`` for ``a > 0``, holding cost
    ``h(u) = u``; terminal reward 0. Known answer for ``N = 4`` decision epochs (``H = 3``
    stages plus the terminal one): :math:`u_1^*(s) = (67/16, 129/16, 194/16, 227/16)` (the
    table of Section 4.6.1).

    Parameters
    ----------
    horizon : int >= 1
        Number of decision epochs before the terminal one (Puterman's ``N - 1``).
    """
    H = check_int("horizon", horizon, 1)
    M = 3
    demand = np.array([0.25, 0.5, 0.25])
    S = A = M + 1
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            u = min(s + a, M)
            order = u - s
            cost = (4.0 + 2.0 * order if order > 0 else 0.0) + u
            revenue = 0.0
            for d, p in enumerate(demand):
                revenue += p * 8.0 * min(d, u)
                P[s, a, max(u - d, 0)] += p
            R[s, a] = revenue - cost
    return EpisodicMDP(P, R, H, 0)


def mdptoolbox_small(gamma: float = 0.9) -> DiscountedMDP:
    r"""MDPtoolbox's ``small()`` example: two states, two actions.

    ``P[a=0] = [[.5, .5], [.8, .2]]``, ``P[a=1] = [[0, 1], [.1, .9]]``,
    ``R = [[5, 10], [-1, 2]]`` (rows = states). At ``gamma = 0.9``,
    :math:`V^* = (1825/43, 1550/43) = (42.4419, 36.0465)` (policy (1, 0)); the optimal
    average-reward gain is ``35/9`` (stationary law ``(4/9, 5/9)`` of policy (1, 0)) and
    the optimal bias span is ``10 - 35/9 = 55/9``.

    Parameters
    ----------
    gamma : float in [0, 1)
    """
    P = np.array([[[0.5, 0.5], [0.0, 1.0]], [[0.8, 0.2], [0.1, 0.9]]])
    R = np.array([[5.0, 10.0], [-1.0, 2.0]])
    return DiscountedMDP(P, R, gamma)

r"""The modified cliff walk: a small grid world with a cliff, used by the MoCoVI / MoCoDyna
experiments (Rakhsha, Kemertas, Ghavamzadeh & Farahmand, ICLR 2024, Figure 1: "modified
Cliffwalk", a 6 x 6 grid). The paper's exact dynamics and rewards were not available to us;
the construction below is our reconstruction (proofs_notes/moco.md).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import DiscountedMDP
from mdptheory.core.validation import check_int, check_probability, check_real
from mdptheory.envs.gridworld import ACTION_DELTAS

__all__ = ["modified_cliff_walk", "cliff_walk_layout"]


def cliff_walk_layout(size: int = 6) -> dict:
    """Cells of the ``size x size`` cliff walk, as state indices ``row * size + col``:
    ``start`` (bottom-left), ``goal`` (bottom-right) and ``cliff`` (the bottom row between
    them)."""
    n = check_int("size", size, 3)
    return {"start": (n - 1) * n, "goal": n * n - 1, "cliff": [(n - 1) * n + c for c in range(1, n - 1)]}


def modified_cliff_walk(gamma: float = 0.9, *, size: int = 6, slip: float = 0.1,
                        step_reward: float = -1.0, cliff_reward: float = -10.0,
                        goal_reward: float = 10.0) -> DiscountedMDP:
    r"""Discounted cliff walk on a ``size x size`` grid (reconstruction of the paper's
    "modified Cliffwalk"; all choices below are ours).

    States ``row * size + col`` (row 0 at the top), ``A = 4`` actions in FrozenLake's order
    (0 left, 1 down, 2 right, 3 up). Start: the bottom-left cell; goal: the bottom-right
    cell; cliff: the bottom-row cells between them. From an ordinary cell the intended move
    is made w.p. ``1 - slip`` and a uniformly random one of the four moves w.p. ``slip``
    (so the intended direction has probability ``1 - 3 slip / 4``); a move off the grid
    stays in place; the reward is ``step_reward``. From a cliff cell every action returns
    to the start with reward ``cliff_reward``; from the goal every action returns to the
    start with reward ``goal_reward`` (a continuing task: the reward of a terminal cell is
    paid on the step that leaves it). Initial state: the start.

    Defaults give :math:`S=36` and a recurrent chain under every policy that reaches the goal.
    """
    n = check_int("size", size, 3)
    g = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    slip = check_probability("slip", slip)
    rs = check_real("step_reward", step_reward)
    rc = check_real("cliff_reward", cliff_reward)
    rg = check_real("goal_reward", goal_reward)
    lay = cliff_walk_layout(n)
    S = n * n
    P = np.zeros((S, 4, S))
    R = np.full((S, 4), rs)
    for r in range(n):
        for c in range(n):
            s = r * n + c
            if s == lay["goal"] or s in lay["cliff"]:
                P[s, :, lay["start"]] = 1.0
                R[s, :] = rg if s == lay["goal"] else rc
                continue
            for a in range(4):
                for b in range(4):
                    prob = (1.0 - slip if b == a else 0.0) + slip / 4.0
                    dr, dc = ACTION_DELTAS[b]
                    r2, c2 = r + dr, c + dc
                    s2 = r2 * n + c2 if (0 <= r2 < n and 0 <= c2 < n) else s
                    P[s, a, s2] += prob
    return DiscountedMDP(P, R, g, lay["start"])

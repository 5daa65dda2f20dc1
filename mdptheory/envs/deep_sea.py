r"""DeepSea (Osband et al., bsuite), as a tabular episodic MDP.

Source: ``google-deepmind/bsuite``, ``bsuite/environments/deep_sea.py`` (Osband, Doron,
Hessel, Aslanides, Sezener, Saraiva, McKinney, Lattimore, Szepesvari, Singh, Van Roy,
Sutton, Silver & van Hasselt, "Behaviour Suite for Reinforcement Learning", ICLR 2020).
"""

from __future__ import annotations

import numpy as np

from mdptheory.envs._build import make_mdp
from mdptheory.core.validation import check_generator, check_int, check_real

__all__ = ["deep_sea", "deep_sea_state"]


def deep_sea_state(size: int, row: int, col: int) -> int:
    """Index of grid cell ``(row, col)`` in :func:`deep_sea` (``row * size + col``)."""
    size = check_int("size", size, 1)
    row = check_int("row", row, 0, size - 1)
    col = check_int("col", col, 0, size - 1)
    return row * size + col


def deep_sea(size: int, horizon: int | None = None, gamma: float | None = None, *,
             deterministic: bool = True, move_cost: float = 0.01, randomize_actions: bool = True,
             seed=0, shift_rewards: bool = False):
    r"""DeepSea of side ``size = N``: ``S = N**2 + 1`` states, ``A = 2`` actions.

    States ``row * N + col`` for the grid cells (start ``(0, 0)``) plus an absorbing,
    zero-reward terminal state ``N**2`` entered after the last row. Every step moves one
    row down. In each cell one action means "right" and the other "left"; which is which
    is drawn per cell (``randomize_actions=True``, a fixed map from ``seed``; bsuite draws
    ``binomial(1, 0.5)`` per cell with its own seed) or is action 1 everywhere.

    * "left": column ``max(col - 1, 0)``, reward 0;
    * "right": column ``min(col + 1, N - 1)`` (deterministic version), or in the stochastic
      version the column increases only w.p. ``1 - 1/N`` and stays otherwise; reward
      ``-move_cost / N``, plus ``+1`` when taken in the rightmost column (reachable only in
      the last row).

    Known answers: optimal return ``1 - move_cost`` (deterministic). In the stochastic
    version bsuite reports ``(1 - 1/N)**(N - 1) - move_cost``, which is the return of the
    policy "always right"; the optimal policy stops paying the move cost once a failed move
    has put the treasure out of reach, and is worth
    ``q**(N - 1) - move_cost * (1 - q**N)`` with ``q = 1 - 1/N`` (on track before step
    ``k`` w.p. ``q**k``). A uniformly random policy reaches the treasure w.p. ``2**-N``
    (deterministic version).

    **Normalisation.** bsuite's rewards are used as they are (they can be negative:
    ``-move_cost/N``). ``shift_rewards=True`` adds ``move_cost/N`` to every reward of the
    grid cells; every episode of horizon ``N`` then gains exactly ``move_cost``, so values
    shift by a constant and regret is unchanged, while per-step rewards lie in ``[0, 1]``
    (N1). bsuite's N(0, 1) noise on the two ends of the last row has mean 0 and is not
    represented (the model stores mean rewards); values and regret are unaffected.

    Parameters
    ----------
    size : int >= 1
    horizon : int, optional
        Episodic horizon (default ``size``; larger horizons spend the extra steps in the
        terminal state).
    gamma : float in [0, 1), optional
        Discounted version instead (terminal state absorbing with zero reward).
    deterministic : bool
    move_cost : float >= 0
        bsuite's ``unscaled_move_cost`` (default 0.01).
    randomize_actions : bool
    seed : int or numpy.random.Generator
        Seed of the action map.
    shift_rewards : bool
    """
    N = check_int("size", size, 1)
    c = check_real("move_cost", move_cost, 0.0)
    for flag, val in (("deterministic", deterministic), ("randomize_actions", randomize_actions),
                      ("shift_rewards", shift_rewards)):
        if not isinstance(val, (bool, np.bool_)):
            raise TypeError(f"{flag} must be a bool, got {val!r}")
    if randomize_actions:
        right_action = check_generator(seed).integers(0, 2, size=(N, N))
    else:
        right_action = np.ones((N, N), dtype=np.int64)
    S = N * N + 1
    term = N * N
    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    p_ok = 1.0 if deterministic else 1.0 - 1.0 / N
    shift = c / N if shift_rewards else 0.0
    for row in range(N):
        for col in range(N):
            s = row * N + col
            ra = int(right_action[row, col])
            la = 1 - ra

            def cell(r, cc):
                return term if r >= N else r * N + cc

            P[s, la, cell(row + 1, max(col - 1, 0))] = 1.0
            P[s, ra, cell(row + 1, min(col + 1, N - 1))] += p_ok
            P[s, ra, cell(row + 1, col)] += 1.0 - p_ok
            R[s, ra] = -c / N + (1.0 if col == N - 1 else 0.0) + shift
            R[s, la] = shift
    P[term, :, term] = 1.0
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=0, default_horizon=N,
                    family="deep_sea")

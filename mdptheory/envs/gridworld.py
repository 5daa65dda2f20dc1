r"""Grid worlds from a map string (FrozenLake-style), with walls and slip probability.

Map characters (Gymnasium ``FrozenLake`` conventions plus walls):

``S`` start (uniform over all ``S`` cells), ``F`` or ``.`` free, ``H`` hole (absorbing),
``G`` goal (absorbing), ``W`` or ``#`` wall (cannot be entered).

Actions follow FrozenLake: 0 = left, 1 = down, 2 = right, 3 = up.
"""

from __future__ import annotations

import numpy as np

from mdptheory.envs._build import make_mdp
from mdptheory.core.validation import check_probability, check_real

__all__ = ["gridworld", "parse_map", "FROZEN_LAKE_MAPS", "ACTION_DELTAS"]

#: The two fixed maps of Gymnasium's FrozenLake (``map_name="4x4"`` / ``"8x8"``).
FROZEN_LAKE_MAPS = {
    "4x4": ("SFFF", "FHFH", "FFFH", "HFFG"),
    "8x8": ("SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF",
            "FHFFHFHF", "FFFHFFFG"),
}
_DEFAULT_H = {"4x4": 100, "8x8": 200}  # Gymnasium's max_episode_steps for FrozenLake(8x8)-v1
#: (d_row, d_col) of actions 0..3 = left, down, right, up.
ACTION_DELTAS = ((0, -1), (1, 0), (0, 1), (-1, 0))
_CHARS = {"S": "S", "F": "F", ".": "F", "H": "H", "G": "G", "W": "W", "#": "W"}


def parse_map(desc) -> np.ndarray:
    """Map (a name in :data:`FROZEN_LAKE_MAPS`, a multi-line string, or a sequence of row
    strings) as a 2-d array of canonical characters ``S F H G W``.

    Raises ``ValueError`` naming the row, column and character of an unknown symbol, and for
    ragged or empty maps.
    """
    if isinstance(desc, str):
        if desc in FROZEN_LAKE_MAPS:
            rows = list(FROZEN_LAKE_MAPS[desc])
        else:
            rows = [r.strip() for r in desc.strip().splitlines() if r.strip()]
    else:
        try:
            rows = [r.decode() if isinstance(r, bytes) else "".join(
                c.decode() if isinstance(c, bytes) else str(c) for c in r) for r in desc]
        except TypeError:
            raise TypeError(f"map must be a string or a sequence of row strings, got {desc!r}") from None
    if not rows or not rows[0]:
        raise ValueError("map is empty")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"map row {i} has length {len(r)}, expected {width} (ragged map)")
    grid = np.empty((len(rows), width), dtype="<U1")
    for i, r in enumerate(rows):
        for j, ch in enumerate(r):
            if ch not in _CHARS:
                raise ValueError(
                    f"unknown map character {ch!r} at row {i}, column {j}; allowed: "
                    "S (start), F or . (free), H (hole), G (goal), W or # (wall)"
                )
            grid[i, j] = _CHARS[ch]
    if not (grid == "S").any():
        raise ValueError("map has no start cell 'S'")
    return grid


def gridworld(map="4x4", horizon: int | None = None, gamma: float | None = None, *,
              slip: float = 0.0, goal_reward: float = 1.0, hole_reward: float = 0.0,
              step_reward: float = 0.0):
    r"""Grid world built from a FrozenLake-style map.

    State ``row * ncol + col`` for every cell (walls included, as unreachable absorbing
    states), ``A = 4`` (left, down, right, up). From a non-terminal cell, the intended
    direction is taken w.p. ``1 - slip`` and each of the two perpendicular directions w.p.
    ``slip / 2`` (FrozenLake's ``is_slippery=True`` is ``slip = 2/3``: intended, and the
    two neighbours in the cyclic action order, w.p. 1/3 each). A move off the grid or into a
    wall leaves the agent in place. Holes ``H`` and goals ``G`` are absorbing with zero
    reward (Gymnasium ends the episode there). The reward is paid on *entering* a cell:
    ``goal_reward`` for ``G``, ``hole_reward`` for ``H``, ``step_reward`` otherwise; the
    model stores its mean :math:`R(s,a)=\sum_{s'}P(s'|s,a)\,r(s')`. With the defaults,
    per-step rewards are in ``[0, 1]`` (N1) and the map and law coincide with Gymnasium's
    ``FrozenLake-v1`` (checked by ``tests/envs/test_gym.py``).

    Source: the map format, action order, slip rule and reward of Gymnasium's toy-text
    ``FrozenLake`` (``gymnasium/envs/toy_text/frozen_lake.py``: its ``success_rate`` is
    ``1 - slip`` and its ``reward_schedule`` is ``(goal_reward, hole_reward,
    step_reward)``); walls (``W`` / ``#``) are our addition. Structure: wall cells are
    unreachable absorbing states and holes / goals absorbing, so a map with walls, holes or
    a goal is not communicating (:func:`mdptheory.measures.diameter` is ``inf``, with the
    reason).

    Parameters
    ----------
    map : str or sequence of str
        ``"4x4"``, ``"8x8"`` (FrozenLake's maps), a multi-line string or a list of rows.
    horizon : int, optional
        Episodic horizon; default 100 for ``"4x4"``, 200 for ``"8x8"`` (Gymnasium's
        ``max_episode_steps``), else ``4 * nrow * ncol``.
    gamma : float in [0, 1), optional
        Discounted version instead.
    slip : float in [0, 1]
    goal_reward, hole_reward, step_reward : float
    """
    grid = parse_map(map)
    p_slip = check_probability("slip", slip)
    rg = check_real("goal_reward", goal_reward)
    rh = check_real("hole_reward", hole_reward)
    rs = check_real("step_reward", step_reward)
    nrow, ncol = grid.shape
    S = nrow * ncol
    P = np.zeros((S, 4, S))
    entry_reward = np.where(grid == "G", rg, np.where(grid == "H", rh, rs)).ravel()

    def move(r, c, a):
        dr, dc = ACTION_DELTAS[a]
        r2, c2 = r + dr, c + dc
        if not (0 <= r2 < nrow and 0 <= c2 < ncol) or grid[r2, c2] == "W":
            return r * ncol + c
        return r2 * ncol + c2

    for r in range(nrow):
        for c in range(ncol):
            s = r * ncol + c
            if grid[r, c] in ("H", "G", "W"):
                P[s, :, s] = 1.0
                continue
            for a in range(4):
                P[s, a, move(r, c, a)] += 1.0 - p_slip
                P[s, a, move(r, c, (a - 1) % 4)] += p_slip / 2
                P[s, a, move(r, c, (a + 1) % 4)] += p_slip / 2
    R = P @ entry_reward
    terminal = np.isin(grid.ravel(), ("H", "G", "W"))
    R[terminal] = 0.0
    start = (grid == "S").ravel().astype(float)
    start /= start.sum()
    default_h = _DEFAULT_H.get(map) if isinstance(map, str) else None
    if default_h is None:
        default_h = 4 * nrow * ncol
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=start, default_horizon=default_h,
                    family="gridworld")

"""The cliff walk against an independent construction, and the approximate-model family."""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.envs.cliff_walk import cliff_walk_layout, modified_cliff_walk
from mdptheory.envs.model_error import approximate_model


def cliff_by_hand(n, slip, rs, rc, rg):
    """Written from the docstring with (row, col) tuples and explicit move tables."""
    moves = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}
    cells = [(r, c) for r in range(n) for c in range(n)]
    index = {cell: i for i, cell in enumerate(cells)}
    start, goal = (n - 1, 0), (n - 1, n - 1)
    cliff = {(n - 1, c) for c in range(1, n - 1)}
    P = np.zeros((n * n, 4, n * n))
    R = np.zeros((n * n, 4))
    for cell in cells:
        i = index[cell]
        for a in range(4):
            if cell == goal or cell in cliff:
                P[i, a, index[start]] = 1.0
                R[i, a] = rg if cell == goal else rc
                continue
            R[i, a] = rs
            for b, (dr, dc) in moves.items():
                tgt = (cell[0] + dr, cell[1] + dc)
                if tgt not in index:
                    tgt = cell
                P[i, a, index[tgt]] += slip / 4 + (1 - slip) * (a == b)
    return P, R


@pytest.mark.parametrize("n,slip", [(6, 0.1), (4, 0.0), (5, 0.3)])
def test_cliff_walk_matches_independent_construction(n, slip):
    mdp = modified_cliff_walk(0.9, size=n, slip=slip, step_reward=-1.0, cliff_reward=-7.0, goal_reward=3.0)
    P, R = cliff_by_hand(n, slip, -1.0, -7.0, 3.0)
    assert np.abs(mdp.dense_P() - P).max() <= 1e-15 and np.array_equal(mdp.R, R)
    lay = cliff_walk_layout(n)
    assert mdp.initial[lay["start"]] == 1.0 and mdp.S == n * n and mdp.gamma == 0.9


def test_cliff_walk_validation():
    with pytest.raises(ValueError, match="slip = 1.5 must be in"):
        modified_cliff_walk(slip=1.5)
    with pytest.raises(ValueError, match="size = 2 must be >= 3"):
        modified_cliff_walk(size=2)
    with pytest.raises(ValueError, match="gamma = 1.0 must be in"):
        modified_cliff_walk(1.0)


def test_approximate_model_construction():
    mdp = modified_cliff_walk()
    P = mdp.dense_P()
    rng = np.random.default_rng(5)
    noise = rng.dirichlet(np.ones(36), size=(36, 4))              # the documented draw order
    for lam in (0.0, 0.1, 0.5, 1.0):
        Ph = approximate_model(mdp, lam, 5)
        assert np.abs(Ph - ((1 - lam) * P + lam * noise)).max() <= 1e-15
        assert np.abs(Ph.sum(-1) - 1).max() <= 1e-14
        l1 = np.abs(Ph - P).sum(-1)
        assert np.abs(l1 - lam * np.abs(noise - P).sum(-1)).max() <= 1e-12
        if lam < 1:
            assert ((Ph > 0) | (P == 0)).all()                     # supp P inside supp P_hat
    assert np.array_equal(approximate_model(mdp, 0.5, 9), approximate_model(mdp, 0.5, 9))
    assert not np.array_equal(approximate_model(mdp, 0.5, 9), approximate_model(mdp, 0.5, 10))
    with pytest.raises(ValueError, match="error = 1.2 must be in"):
        approximate_model(mdp, 1.2)
    with pytest.raises(TypeError, match="seed must be a non-negative integer"):
        approximate_model(mdp, 0.5, None)

"""DeepSea, grid worlds, Garnet / dense random MDPs and the lower-bound family.

Expected values come from closed forms derived by hand (stated next to each assertion) or
from an independent computation written in the test (breadth-first search distances).
"""

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdptheory as mt
from mdptheory.envs import (deep_sea, deep_sea_state, garnet, gridworld, lower_bound_instance,
                            lower_bound_layout, random_dense)


# ---------------------------------------------------------------- DeepSea
@pytest.mark.parametrize("N", [1, 2, 5, 8])
def test_deep_sea_deterministic_optimal_return(N):
    # bsuite: optimal return 1 - move_cost = 0.99 for every size and action map
    for seed in (0, 1):
        mdp = deep_sea(N, seed=seed)
        assert mdp.S == N * N + 1 and mdp.horizon == N
        assert mt.solve(mdp).V[0, 0] == pytest.approx(0.99, abs=1e-13)


@pytest.mark.parametrize("N", [2, 4, 6])
def test_deep_sea_stochastic_optimal_return(N):
    q = 1 - 1 / N
    # on track before step k w.p. q**k; pay 0.01/N at each of those steps; treasure w.p. q**(N-1)
    expect = q ** (N - 1) - 0.01 * (1 - q ** N)
    assert mt.solve(deep_sea(N, deterministic=False)).V[0, 0] == pytest.approx(expect, abs=1e-13)
    # "always right" (bsuite's reported optimum) is worth q**(N-1) - 0.01
    mdp = deep_sea(N, deterministic=False, randomize_actions=False)
    always_right = np.ones((N, mdp.S), dtype=np.int64)
    assert mt.evaluate(mdp, always_right)[0, 0] == pytest.approx(q ** (N - 1) - 0.01, abs=1e-13)


@pytest.mark.parametrize("N", [3, 5])
def test_deep_sea_uniform_policy_and_shift(N):
    mdp = deep_sea(N, seed=4)
    unif = np.full((mdp.S, 2), 0.5)
    # treasure w.p. 2**-N; each step is "right" w.p. 1/2 and costs 0.01/N
    v = mt.evaluate(mdp, unif)[0, 0]
    assert v == pytest.approx(2.0 ** -N - 0.005, abs=1e-13)
    sh = deep_sea(N, seed=4, shift_rewards=True)
    assert sh.R.min() >= 0 and sh.R.max() <= 1
    assert mt.solve(sh).V[0, 0] == pytest.approx(1.0, abs=1e-13)
    # regret of the uniform policy is unchanged by the shift
    assert mt.solve(sh).V[0, 0] - mt.evaluate(sh, unif)[0, 0] == pytest.approx(0.99 - v, abs=1e-13)


def test_deep_sea_layout_and_errors():
    mdp = deep_sea(3, randomize_actions=False)
    s = deep_sea_state(3, 1, 1)
    assert mdp.P[s, 1, deep_sea_state(3, 2, 2)] == 1.0 and mdp.P[s, 0, deep_sea_state(3, 2, 0)] == 1.0
    with pytest.raises(ValueError, match="size = 0"):
        deep_sea(0)
    with pytest.raises(ValueError, match="move_cost"):
        deep_sea(3, move_cost=-1.0)


# ---------------------------------------------------------------- grid worlds
def _bfs_dist(rows, goal_char="G"):
    """Moves needed to enter a goal cell, avoiding walls and holes (independent BFS)."""
    nr, nc = len(rows), len(rows[0])
    dist = {}
    q = deque()
    for r in range(nr):
        for c in range(nc):
            if rows[r][c] == goal_char:
                dist[(r, c)] = 0
                q.append((r, c))
    while q:
        r, c = q.popleft()
        for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            r2, c2 = r + dr, c + dc
            if 0 <= r2 < nr and 0 <= c2 < nc and (r2, c2) not in dist and rows[r2][c2] in "SF.":
                dist[(r2, c2)] = dist[(r, c)] + 1
                q.append((r2, c2))
    return dist


def test_gridworld_deterministic_values_match_bfs():
    rows = ["S.#..", ".H#.G", "...#.", "#...."]
    gamma = 0.9
    mdp = gridworld(rows, gamma=gamma)
    V = mt.solve(mdp, tol=1e-12).V
    dist = _bfs_dist(rows)
    for (r, c), d in dist.items():
        s = r * 5 + c
        expect = 0.0 if rows[r][c] == "G" else gamma ** (d - 1)  # reward 1 on entering G
        assert V[s] == pytest.approx(expect, abs=1e-10)


def test_gridworld_slip_law_and_walls():
    mdp = gridworld(["S.", "#G"], slip=0.5, gamma=0.5)
    # from (0,0) action right: right w.p. .5 -> (0,1); down w.p. .25 -> wall: stay; up .25 -> stay
    np.testing.assert_allclose(mdp.P[0, 2], [0.5, 0.5, 0, 0])
    # from (0,1) action down: goal w.p. .5; left .25 -> (0,0); right .25 -> off-grid: stay
    np.testing.assert_allclose(mdp.P[1, 1], [0.25, 0.25, 0, 0.5])
    assert mdp.R[1, 1] == pytest.approx(0.5)
    np.testing.assert_array_equal(mdp.P[3, :, 3], 1.0)  # goal absorbing
    assert np.all(mdp.R[3] == 0)


def test_gridworld_defaults_and_errors():
    assert gridworld().horizon == 100 and gridworld("8x8").horizon == 200
    assert gridworld(["S.G"]).horizon == 12
    with pytest.raises(ValueError, match="slip"):
        gridworld("4x4", slip=1.5)
    with pytest.raises(ValueError, match=r"'X' at row 1, column 0"):
        gridworld(["S.", "X."])
    with pytest.raises(ValueError, match="no start"):
        gridworld(["..", ".G"])
    with pytest.raises(ValueError, match="ragged"):
        gridworld(["S..", ".G"])
    with pytest.raises(ValueError, match="empty"):
        gridworld([])


# ---------------------------------------------------------------- random MDPs
@settings(max_examples=25, deadline=None)
@given(S=st.integers(1, 8), A=st.integers(1, 3), data=st.data(), seed=st.integers(0, 1000))
def test_garnet_branching_and_reproducibility(S, A, data, seed):
    b = data.draw(st.integers(1, S))
    mdp = garnet(S, A, b, seed, gamma=0.9)
    P = np.asarray(mdp.P)
    assert np.all((P > 0).sum(-1) == b)
    np.testing.assert_allclose(P.sum(-1), 1.0, atol=1e-12)
    sp_mdp = garnet(S, A, b, seed, gamma=0.9, sparse=True)
    np.testing.assert_array_equal(sp_mdp.P.toarray().reshape(S, A, S), P)
    np.testing.assert_array_equal(sp_mdp.R, mdp.R)


def test_random_dense_and_errors():
    m1, m2 = random_dense(5, 3, 7, gamma=0.9), random_dense(5, 3, 7, gamma=0.9)
    np.testing.assert_array_equal(m1.P, m2.P)
    assert not np.array_equal(m1.P, random_dense(5, 3, 8, gamma=0.9).P)
    assert np.all(np.asarray(m1.P) > 0)
    assert random_dense(4, 2).horizon == 4
    with pytest.raises(ValueError, match="branching = 6"):
        garnet(5, 2, 6)
    with pytest.raises(ValueError, match="S = 0"):
        garnet(0, 2, 1)
    with pytest.raises(ValueError, match="concentration"):
        random_dense(3, 2, concentration=0.0)
    with pytest.raises(TypeError, match="seed"):
        random_dense(3, 2, seed="x")


# ---------------------------------------------------------------- lower-bound family
@pytest.mark.parametrize("A,depth,H,eps", [(2, 1, 8, 0.1), (3, 2, 12, 0.25), (2, 0, 6, 0.05)])
def test_lower_bound_values(A, depth, H, eps):
    mdp = lower_bound_instance(A, depth, H, epsilon=eps, seed=2)
    lay = lower_bound_layout(A, depth)
    Hbar = (H - depth - 3) // 2
    m = H - Hbar - depth - 2
    assert mdp.S == 3 + (A ** (depth + 1) - 1) // (A - 1)
    assert mt.solve(mdp).V[0, 0] == pytest.approx((0.5 + eps) * m, abs=1e-12)
    # exactly one biased (stage, leaf, action) coin
    Pg = mdp.P[:, lay["leaves"], :, lay["good"]]
    assert np.sum(np.isclose(Pg, 0.5 + eps)) == 1 and np.sum(np.isclose(Pg, 0.5)) == Pg.size - 1
    # leaving at once and playing action 0 everywhere hits the coin only by luck: value m/2
    # unless that is the target
    lt, at, ht = np.argwhere(np.isclose(Pg.transpose(1, 2, 0), 0.5 + eps))[0]
    pi = np.ones((H, mdp.S), dtype=np.int64) * ((at + 1) % A)
    assert mt.evaluate(mdp, pi)[0, 0] == pytest.approx(0.5 * m, abs=1e-12)


def test_lower_bound_explicit_target_and_errors():
    mdp = lower_bound_instance(2, 1, 9, wait=2, epsilon=0.2, target=(1, 0, 3))
    lay = lower_bound_layout(2, 1)
    assert mdp.P[3, lay["leaves"][1], 0, lay["good"]] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="horizon"):
        lower_bound_instance(2, 2, 4)
    with pytest.raises(ValueError, match="target stage 9"):
        lower_bound_instance(2, 1, 9, wait=2, target=(0, 0, 9))
    with pytest.raises(ValueError, match="epsilon"):
        lower_bound_instance(2, 1, 9, epsilon=0.7)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: deep_sea(0), ValueError, r"size = 0 must be >= 1"),
    (lambda: deep_sea(3, deterministic="yes"), TypeError, "deterministic must be a bool"),
    (lambda: deep_sea(3, randomize_actions=None), TypeError, "randomize_actions must be a bool"),
    (lambda: gridworld("4x4", slip=1.5), ValueError, r"slip = 1.5 must be in \[0, 1\]"),
    (lambda: gridworld("4x4", slip=-0.1), ValueError, r"slip = -0.1 must be in \[0, 1\]"),
    (lambda: gridworld(["SZ"]), ValueError, r"unknown map character 'Z' at row 0, column 1"),
    (lambda: garnet(3, 0, 1), ValueError, r"A = 0 must be >= 1"),
    (lambda: garnet(3, 2, 1, seed=-1), ValueError, r"seed = -1 must be >= 0"),
    (lambda: random_dense(0, 2), ValueError, r"S = 0 must be >= 1"),
    (lambda: lower_bound_instance(A=1), ValueError, r"A = 1 must be >= 2"),
    (lambda: lower_bound_instance(2, 1, 8, target=(5, 0, 2)), ValueError, r"target leaf index 5"),
    (lambda: deep_sea(3, horizon=0), ValueError, r"horizon = 0 must be >= 1"),
    (lambda: garnet(3, 2, 1, gamma=1.5), ValueError, r"gamma = 1.5"),
])
def test_bad_parameters_name_the_parameter_and_value(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()

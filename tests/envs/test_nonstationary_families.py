"""Non-stationary families: the bidirectional combination lock against an independent
construction and closed-form values, its abrupt and gradual schedules and budgets, and the
generic switching / drifting builders."""

from __future__ import annotations

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.core import EpisodicMDP
from mdptheory.envs.nonstationary import (bidirectional_combination_lock, bidirectional_lock_model, drifting,
                                          switching)


def lock_by_description(H, p, ends, q, correct):
    """The lock written from the docstring's description, with its own state naming."""
    names = ["start"] + [("c", c, i) for c in (0, 1) for i in range(1, H)] + ["sink"]
    ix = {n: j for j, n in enumerate(names)}
    S = len(names)
    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    P[ix["start"], 0, ix[("c", 0, 1)]] = p
    P[ix["start"], 0, ix[("c", 1, 1)]] = 1 - p
    P[ix["start"], 1, ix[("c", 1, 1)]] = p
    P[ix["start"], 1, ix[("c", 0, 1)]] = 1 - p
    for c in (0, 1):
        for i in range(1, H):
            x, g = ix[("c", c, i)], correct[c][i - 1]
            P[x, 1 - g, ix["sink"]] = 1
            if i < H - 1:
                P[x, g, ix[("c", c, i + 1)]] = q
                P[x, g, ix["sink"]] = 1 - q
            else:
                P[x, g, ix["sink"]] = 1
                R[x, g] = ends[c]
    P[ix["sink"], :, ix["sink"]] = 1
    R[ix["sink"]] = 1 / (8 * H)
    return P, R


def chain_value(H, q, end, sink_r):
    """Closed form of the optimal value of entering a chain at stage 1: at position i (stage i)
    either continue (success q; else the sink for the H - i - 1 remaining steps) or give up."""
    W = end                                            # position H - 1, stage H - 1
    for i in range(H - 2, 0, -1):
        go = q * W + (1 - q) * sink_r * (H - i - 1)
        W = max(go, sink_r * (H - i - 1))
    return W


@pytest.mark.parametrize("H", [2, 3, 5, 7])
def test_lock_model_matches_description_and_closed_form(H):
    correct = np.random.default_rng(H).integers(0, 2, size=(2, H - 1))
    m = bidirectional_lock_model(H, chain_prob=0.9, end_rewards=(1.0, 0.25), success=0.98, correct_actions=correct)
    P, R = lock_by_description(H, 0.9, (1.0, 0.25), 0.98, correct)
    assert m.S == 2 * H and m.A == 2 and m.H == H and m.stationary
    np.testing.assert_array_equal(m.P, P)
    np.testing.assert_array_equal(m.R, R)
    assert m.initial[0] == 1.0
    sink_r = 1 / (8 * H)
    w1, w2 = chain_value(H, 0.98, 1.0, sink_r), chain_value(H, 0.98, 0.25, sink_r)
    expect = max(0.9 * w1 + 0.1 * w2, 0.9 * w2 + 0.1 * w1)
    assert mt.solve(m).V[0][0] == pytest.approx(expect, rel=1e-12)
    if H == 5:
        # the paper's instance: chain 1 is worth 0.98^3 + sink rewards after failures
        assert w1 == pytest.approx(0.98 ** 3 + 0.02 * 0.025 * (3 + 0.98 * 2 + 0.98 ** 2 * 1), rel=1e-12)


def test_lock_correct_actions_from_seed_and_validation():
    m1, m2 = bidirectional_lock_model(5, seed=3), bidirectional_lock_model(5, seed=3)
    np.testing.assert_array_equal(m1.P, m2.P)
    with pytest.raises(ValueError, match=r"correct_actions\[1, 2\] = 2 is not an action"):
        bidirectional_lock_model(4, correct_actions=np.array([[0, 1, 0], [1, 1, 2]]))
    with pytest.raises(ValueError, match="chain_prob = 1.5"):
        bidirectional_lock_model(4, chain_prob=1.5)
    with pytest.raises(ValueError, match="H = 1 must be >= 2"):
        bidirectional_lock_model(1)
    with pytest.raises(ValueError, match="end_rewards"):
        bidirectional_lock_model(4, end_rewards=(1.0,))


def test_abrupt_lock_swaps_end_rewards_every_period():
    H, K, period = 5, 3500, 1000
    ns = bidirectional_combination_lock(H, "abrupt", K, period=period)
    end1, end2 = H - 1, 2 * H - 2                      # last positions of the two chains
    for k in [0, 999, 1000, 1999, 2000, 3499]:
        m = ns.model(k)
        r1, r2 = np.asarray(m.R)[end1].max(), np.asarray(m.R)[end2].max()
        assert (r1, r2) == ((1.0, 0.25) if (k // period) % 2 == 0 else (0.25, 1.0))
    v = ns.variation()
    assert v.n_changes == 3 and v.delta_p == 0.0
    assert v.delta_r == pytest.approx(3 * H * 0.75, rel=1e-12)         # 0.75 at every stage per swap
    # the optimal first action follows the better chain
    pol = [mt.solve(ns.model(k)).policy[0][0] for k in (0, 1000)]
    assert pol == [0, 1]


def test_gradual_lock_moves_the_start_probability():
    H, K, L = 5, 2001, 11
    ns = bidirectional_combination_lock(H, "gradual", K, levels=L)
    for k in [0, 150, 1000, 1999, 2000]:
        j = int(np.floor(k * (L - 1) / (K - 1) + 0.5))
        p = 0.98 + (0.02 - 0.98) * j / (L - 1)
        P0 = np.asarray(ns.model(k).P)[0]
        assert P0[0, 1] == pytest.approx(p, abs=1e-15) and P0[1, H] == pytest.approx(p, abs=1e-15)
    v = ns.variation()
    assert v.delta_r == 0.0 and v.delta_p == pytest.approx(2 * 0.96 * H, rel=1e-12)
    first = [mt.solve(ns.model(k)).policy[0][0] for k in (0, K - 1)]
    assert first == [0, 1]
    # the same correct actions throughout
    for k in (0, K - 1):
        np.testing.assert_array_equal(np.asarray(ns.model(k).P)[1:], np.asarray(ns.model(0).P)[1:])
    with pytest.raises(ValueError, match="variation must be one of"):
        bidirectional_combination_lock(H, "sudden", 10)


def test_switching_and_drifting():
    rng = np.random.default_rng(0)
    ms = [EpisodicMDP(rng.dirichlet(np.ones(3), size=(3, 2)), rng.random((3, 2)), 4, 0) for _ in range(3)]
    ns = switching(ms, 4, 26)
    assert [ns.model(k) is ms[(k // 4) % 3] for k in range(26)] == [True] * 26
    assert ns.variation().n_changes == 6
    d = drifting(ms[0], ms[1], 10, levels=3)
    assert d.model_index().tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    with pytest.raises(ValueError, match="period = 0 must be >= 1"):
        switching(ms, 0, 5)
    with pytest.raises(ValueError, match="models is empty"):
        switching([], 3, 5)

"""Over-estimation test beds: exact optimal values against closed forms and an independent
construction of van Hasselt's grid, the reward laws, and the validation of NoisyRewardMDP."""

from __future__ import annotations

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.envs import garnet
from mdptheory.envs.bias_examples import (
    NoisyRewardMDP,
    as_noisy,
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)


def test_maximization_bias_exact_values():
    m = maximization_bias()
    assert isinstance(m.mdp, EpisodicMDP) and m.mdp.H == 2 and m.episodic and m.gamma == 1.0
    sol = mt.solve(m.mdp)
    assert sol.Q[0, 0, 0] == 0.0 and sol.Q[0, 0, 1] == pytest.approx(-0.1, abs=1e-15)   # right, left
    assert np.allclose(sol.Q[1, 1, :], -0.1) and sol.V[0, 0] == 0.0
    assert list(np.flatnonzero(m.available[0])) == [0, 1] and m.available[1].sum() == 10
    var = m.reward_variance()
    assert np.all(var[0] == 0) and np.all(var[1] == 1.0) and np.all(var[2] == 0)
    d = maximization_bias(3, mean=-0.5, std=2.0, gamma=0.8)
    assert isinstance(d.mdp, DiscountedMDP) and d.A == 3
    Qd = mt.solve(d.mdp, method="pi").Q
    assert Qd[0, 1] == pytest.approx(0.8 * -0.5, abs=1e-12) and Qd[0, 0] == pytest.approx(0.0, abs=1e-12)
    one = maximization_bias(1)
    assert one.A == 2 and list(np.flatnonzero(one.available[1])) == [0]
    with pytest.raises(ValueError):
        maximization_bias(0)
    with pytest.raises(ValueError):
        maximization_bias(std=-1.0)


def independent_grid(height, width, gamma):
    """Van Hasselt's grid written as explicit coordinates: (P, R) of the mean-reward model."""
    S = height * width + 1
    P = np.zeros((S, 4, S))
    R = np.full((S, 4), -1.0)
    for r in range(height):
        for c in range(width):
            s = r * width + c
            if (r, c) == (0, width - 1):
                P[s, :, S - 1] = 1.0
                R[s, :] = 5.0
                continue
            for a, (rr, cc) in enumerate([(max(r - 1, 0), c), (min(r + 1, height - 1), c),
                                          (r, max(c - 1, 0)), (r, min(c + 1, width - 1))]):
                P[s, a, rr * width + cc] = 1.0
    P[S - 1, :, S - 1] = 1.0
    R[S - 1] = 0.0
    return P, R


def test_van_hasselt_grid_matches_independent_construction_and_closed_form():
    m = van_hasselt_grid()
    P, R = independent_grid(3, 3, 0.95)
    assert np.array_equal(m.mdp.dense_P(), P) and np.array_equal(m.mdp.R, R)
    V = mt.solve(m.mdp, method="pi").V
    g = 0.95
    assert V[6] == pytest.approx(5 * g ** 4 - sum(g ** k for k in range(4)), abs=1e-12)   # ~0.36
    assert V[6] == pytest.approx(0.3627, abs=1e-4)
    assert m.reward_law == "rademacher" and m.reward_scale[6, 0] == 11.0 and m.reward_scale[2, 0] == 0.0
    assert m.terminal[9] and m.terminal.sum() == 1
    big = van_hasselt_grid(4, 5, gamma=0.9)
    Pb, Rb = independent_grid(4, 5, 0.9)
    assert np.array_equal(big.mdp.dense_P(), Pb)
    assert mt.solve(big.mdp, method="pi").V[15] == pytest.approx(5 * 0.9 ** 7 - sum(0.9 ** k for k in range(7)), abs=1e-12)
    with pytest.raises(ValueError):
        van_hasselt_grid(1, 1)
    with pytest.raises(ValueError):
        van_hasselt_grid(step_low=1.0, step_high=0.0)


def test_noisy_garnet_is_the_garnet_with_gaussian_rewards():
    g = garnet(10, 3, 2, 4, gamma=0.9)
    n = noisy_garnet(10, 3, 2, 4, gamma=0.9, reward_std=0.5)
    assert np.array_equal(g.dense_P(), n.dense_P()) and np.array_equal(g.R, n.R)
    assert n.reward_noise == "gaussian" and n.reward_std == 0.5
    w = as_noisy(n)
    assert w.reward_law == "gaussian" and np.all(w.reward_scale == 0.5) and not w.terminal.any()
    assert noisy_garnet(5, 2, 2, 0, gamma=None, horizon=4).H == 4
    with pytest.raises(ValueError):
        noisy_garnet(5, 2, 2, 0, gamma=None)


def test_validation_names_the_problem():
    base = maximization_bias()
    kw = dict(mdp=base.mdp, reward_law="gaussian", reward_scale=base.reward_scale, terminal=base.terminal,
              available=base.available)
    bad_avail = np.array(base.available)
    bad_avail[1, 0] = False
    bad_avail[1, 1:] = False
    with pytest.raises(ValueError, match="no available action"):
        NoisyRewardMDP(**{**kw, "available": bad_avail})
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    R = np.array([[0.0, 1.0], [0.0, 0.0]])
    mdp = DiscountedMDP(P, R, 0.9, 0)
    with pytest.raises(ValueError, match="duplicates no available action"):
        NoisyRewardMDP(mdp, "deterministic", np.zeros((2, 2)), np.array([False, True]),
                       np.array([[True, False], [True, True]]))
    with pytest.raises(ValueError, match="absorbing"):
        NoisyRewardMDP(mdp, "deterministic", np.zeros((2, 2)), np.array([True, False]), np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="initial law"):
        NoisyRewardMDP(mdp.replace(initial=1), "deterministic", np.zeros((2, 2)), np.array([False, True]),
                       np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="no scale"):
        NoisyRewardMDP(mdp, "deterministic", np.ones((2, 2)), np.zeros(2, bool), np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="disagrees"):
        NoisyRewardMDP(mdp.replace(reward_noise="gaussian", reward_std=1.0), "rademacher", np.ones((2, 2)),
                       np.zeros(2, bool), np.ones((2, 2), bool))
    with pytest.raises(TypeError):
        NoisyRewardMDP(mdp, "deterministic", np.zeros((2, 2)), np.zeros(2), np.ones((2, 2), bool))
    m = NoisyRewardMDP(mdp, "gaussian", np.ones((2, 2)), np.zeros(2, bool), np.ones((2, 2), bool))
    with pytest.raises(ValueError):
        m.reward_scale[0, 0] = 2.0                    # read-only

"""Baselines: closed forms (epsilon = 1 is uniform), compiled == Python, trivial bound."""

import numpy as np
import pytest

import mdptheory as m
from mdptheory.learners import CertaintyEquivalence, EpsilonGreedyQLearning, UniformRandom
from mdptheory.regret import run


def mdp_small(seed=0, S=4, A=3, H=4):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.uniform(size=(S, A))
    return m.EpisodicMDP(P, R, H, 0, reward_noise="bernoulli")


def test_epsilon_one_is_uniform():
    mdp = mdp_small()
    v_unif = float(m.evaluate(mdp, np.full((4, 4, 3), 1 / 3))[0, 0])
    v_star = float(m.solve(mdp).V[0, 0])
    tr = run(EpsilonGreedyQLearning(epsilon=1.0), mdp, 50, 2)
    np.testing.assert_allclose(tr.pseudo_regret, v_star - v_unif, atol=1e-12)


def test_epsilon_greedy_policy_table():
    L = EpsilonGreedyQLearning(epsilon=0.3, decay=0.5)
    mdp = mdp_small()
    L.prepare(mdp, 10)
    L.reset(4, 3, 4, np.random.default_rng(0))
    L._pi[:] = 2
    L.begin_episode(3)
    eps = 0.3 * 4 ** -0.5
    np.testing.assert_allclose(L.policy()[0, 0], [eps / 3, eps / 3, eps / 3 + 1 - eps])


@pytest.mark.parametrize("L", [EpsilonGreedyQLearning(0.2, 0.3), EpsilonGreedyQLearning(0.1, 0.0, 0.0),
                               CertaintyEquivalence(), CertaintyEquivalence(4.0), UniformRandom()])
def test_compiled_equals_python(L):
    mdp = mdp_small(seed=2)
    a = run(L, mdp, 200, [0, 1], backend="compiled")
    b = run(L, mdp, 200, [0, 1], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)


def test_certainty_equivalence_exact_on_deterministic_model():
    # deterministic dynamics and rewards, optimistic start: once every pair on the optimal
    # path has been tried, the empirical model is exact there and CE plays optimally
    S, A, H = 3, 2, 3
    P = np.zeros((S, A, S))
    for s in range(S):
        P[s, 0, max(s - 1, 0)] = 1
        P[s, 1, min(s + 1, S - 1)] = 1
    R = np.zeros((S, A))
    R[S - 1, 1] = 1.0
    R[0, 0] = 0.1
    mdp = m.EpisodicMDP(P, R, H, 0)
    tr = run(CertaintyEquivalence(unvisited_value=float(H)), mdp, 40, 1)
    assert np.all(tr.pseudo_regret[0, -10:] == 0.0)
    assert tr.cumulative()[0, -1] > 0


def test_trivial_bound_and_errors():
    b = UniformRandom().bound(3, 2, 5, 100)
    assert float(b) == 500.0
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedyQLearning(epsilon=2)
    with pytest.raises(ValueError, match="unvisited_value"):
        CertaintyEquivalence(np.nan)

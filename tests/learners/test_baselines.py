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
    L._greedy[:] = 2
    L.begin_episode(3)
    eps = 0.3 * 4 ** -0.5
    np.testing.assert_allclose(L.policy()[0, 0], [eps / 3, eps / 3, eps / 3 + 1 - eps])


@pytest.mark.parametrize("L", [EpsilonGreedyQLearning(epsilon=0.2, decay=0.3),
                               EpsilonGreedyQLearning(epsilon=0.1, decay=0.0, init_value=0.0),
                               CertaintyEquivalence(), CertaintyEquivalence(unvisited_value=4.0), UniformRandom()])
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
    assert float(b) == 500.0 and b.holds_with_probability == 1.0
    assert np.array_equal(CertaintyEquivalence().bound(3, 2, 5, np.array([1.0, 10.0]), 0.1).value, [5.0, 50.0])
    with pytest.raises(ValueError, match="delta"):
        UniformRandom().bound(3, 2, 5, 100, 1.5)
    with pytest.raises(ValueError, match="K"):
        EpsilonGreedyQLearning().bound(3, 2, 5, 0)
    with pytest.raises(ValueError, match="epsilon = 2.0"):
        EpsilonGreedyQLearning(epsilon=2)
    with pytest.raises(TypeError, match="epsilon.*True"):
        EpsilonGreedyQLearning(epsilon=True)
    with pytest.raises(ValueError, match="decay = -1.0"):
        EpsilonGreedyQLearning(decay=-1)
    with pytest.raises(ValueError, match="init_value = inf"):
        EpsilonGreedyQLearning(init_value=np.inf)
    with pytest.raises(ValueError, match="unvisited_value = nan"):
        CertaintyEquivalence(unvisited_value=np.nan)
    with pytest.raises(TypeError, match="unvisited_value.*'1'"):
        CertaintyEquivalence(unvisited_value="1")
    with pytest.raises(TypeError):
        EpsilonGreedyQLearning(0.1)             # keyword-only
    with pytest.raises(TypeError):
        CertaintyEquivalence(1.0)


def test_certainty_equivalence_rejects_stage_dependent_mdp():
    rng = np.random.default_rng(0)
    stage = m.EpisodicMDP(rng.dirichlet(np.ones(3), size=(4, 3, 2)), rng.uniform(size=(3, 2)), 4, 0)
    with pytest.raises(ValueError, match="CertaintyEquivalence.*HOM"):
        run(CertaintyEquivalence(), stage, 3, 1)


def test_compiled_kernels_equal_plain_twins():
    """``ce_plan`` / ``ce_plan_ref`` on random counts (with unvisited pairs), and the
    epsilon-greedy row ``epsilon_greedy_row`` / ``epsilon_greedy_row_ref``."""
    from mdptheory.learners.baselines import ce_plan, ce_plan_ref, epsilon_greedy_row, epsilon_greedy_row_ref
    rng = np.random.default_rng(3)
    S, A, H = 5, 3, 4
    N = (rng.integers(0, 5, size=(S, A, S)) * (rng.random((S, A, S)) < 0.5)).astype(float)
    N[1, :] = 0.0
    n = N.sum(axis=2)
    Rsum = rng.random((S, A)) * n
    for u in (0.0, 2.5):
        V, Q, pi = np.empty((H + 1, S)), np.empty((H, S, A)), np.empty((H, S), dtype=np.int64)
        ce_plan(N, n, Rsum, u, H, V, Q, pi)
        Vr, Qr, pir = ce_plan_ref(N, n, Rsum, u, H)
        np.testing.assert_allclose(Q, Qr, rtol=0, atol=1e-12)
        np.testing.assert_allclose(V, Vr, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(pi, pir)
        assert np.all(Q[:, 1, :] == u)
    row = np.empty(4)
    for eps, g in ((0.3, 2), (1.0, 0), (0.0, 3)):
        epsilon_greedy_row(eps, 4, g, row)
        np.testing.assert_array_equal(row, epsilon_greedy_row_ref(eps, 4, g))
        assert row.sum() == pytest.approx(1.0) and row[g] == row.max()

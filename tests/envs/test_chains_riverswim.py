"""RiverSwim, chain, combination lock, deterministic MDPs and stochastic twins.

Expected values are hand derivations (closed forms written in each test), never outputs of
the code under test.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdptheory as mt
from mdptheory.envs import chain, combination_lock, deterministic, riverswim, stochastic_twin


# ---------------------------------------------------------------- RiverSwim
def _tabularl_riverswim(n):
    """TabulaRL make_riverSwim written out independently (dict of (s, a) -> {s': p})."""
    P = {}
    for s in range(n):
        P[(s, 0)] = {max(0, s - 1): 1.0}
    P[(0, 1)] = {0: 0.4, 1: 0.6}
    for s in range(1, n - 1):
        P[(s, 1)] = {s + 1: 0.35, s: 0.6, s - 1: 0.05}
    P[(n - 1, 1)] = {n - 1: 0.6, n - 2: 0.4}
    return P


@pytest.mark.parametrize("n", [2, 3, 6, 10])
def test_riverswim_matches_tabularl_table(n):
    mdp = riverswim(n)
    table = _tabularl_riverswim(n)
    for (s, a), row in table.items():
        expect = np.zeros(n)
        for s2, p in row.items():
            expect[s2] += p
        np.testing.assert_allclose(mdp.P[s, a], expect, atol=1e-15)
    R = np.zeros((n, 2))
    R[0, 0], R[n - 1, 1] = 0.005, 1.0
    np.testing.assert_array_equal(mdp.R, R)
    assert mdp.horizon == 20 and mdp.initial[0] == 1.0


@pytest.mark.parametrize("gamma", [0.9, 0.95, 0.99])
def test_riverswim_discounted_n2_closed_form(gamma):
    # policy "always right": V1 = (1 - 0.4 g)/(1 - g), V0 = 0.6 g/(1 - g) (solved by hand);
    # "left" at 0 is worse since 0.005 + g V0 < V0 <=> 0.005 < 0.6 g.
    mdp = riverswim(2, gamma=gamma)
    sol = mt.solve(mdp, tol=1e-12)
    np.testing.assert_allclose(sol.V, [0.6 * gamma / (1 - gamma), (1 - 0.4 * gamma) / (1 - gamma)],
                               rtol=1e-9)
    np.testing.assert_array_equal(sol.policy, [1, 1])


def test_riverswim_episodic_n2_hand_values():
    # H=2: V_1 = (max(.005, 0), max(0, 1)) = (.005, 1);
    # V_0(0) = max(.005 + .005, .4*.005 + .6*1) = .602; V_0(1) = 1 + .6 + .4*.005 = 1.602
    sol = mt.solve(riverswim(2, horizon=2))
    np.testing.assert_allclose(sol.V[:2], [[0.602, 1.602], [0.005, 1.0]], atol=1e-14)


@pytest.mark.parametrize("gamma", [0.9, 0.95, 0.99])
def test_riverswim_default_optimal_policy_swims_right(gamma):
    assert np.all(mt.solve(riverswim(6, gamma=gamma), tol=1e-10).policy == 1)


def _plain_backward_induction(n, H, small=0.005):
    """Q*[h][s][a] by backward induction over the TabulaRL dict, plain Python (independent
    of the package's arrays and solvers)."""
    table = _tabularl_riverswim(n)
    reward = {(0, 0): small, (n - 1, 1): 1.0}
    V = [0.0] * n
    Q = [None] * H
    for h in range(H - 1, -1, -1):
        Q[h] = [[reward.get((s, a), 0.0) + sum(p * V[t] for t, p in table[(s, a)].items())
                 for a in (0, 1)] for s in range(n)]
        V = [max(q) for q in Q[h]]
    return Q


def test_riverswim_episodic_swims_right_early():
    # Default episodic instance (n = 6, H = 20), checked against an independent plain-Python
    # backward induction: right is (weakly) optimal in every state for h <= 13; from h = 14
    # on the far end is out of reach from state 0, which strictly prefers the small reward.
    n, H = 6, 20
    Q = np.array(_plain_backward_induction(n, H))
    sol = mt.solve(riverswim(n))
    np.testing.assert_allclose(sol.Q, Q, atol=1e-13)
    assert np.all(Q[:14, :, 1] >= Q[:14, :, 0])
    assert np.all(Q[:14, 0, 1] > Q[:14, 0, 0])       # strictly at the start state
    assert np.all(Q[14:, 0, 0] > Q[14:, 0, 1])
    assert np.all(sol.policy[0] == 1)
    # at the last stage only the two rewarding pairs differ from 0
    assert Q[-1, 0, 0] == 0.005 and Q[-1, -1, 1] == 1.0


@pytest.mark.parametrize("small", [0.005, 0.0005])
def test_riverswim_n2_default_horizon_hand_recursion(small):
    # n = 2, H = 20 by the hand recursion (both actions written out, no arrays):
    # V(0) = max(small + V'(0), .4 V'(0) + .6 V'(1)); V(1) = max(V'(0), 1 + .4 V'(0) + .6 V'(1))
    v0 = v1 = 0.0
    for _ in range(20):
        v0, v1 = max(small + v0, 0.4 * v0 + 0.6 * v1), max(v0, 1 + 0.4 * v0 + 0.6 * v1)
    V = mt.solve(riverswim(2, small_reward=small)).V[0]
    np.testing.assert_allclose(V, [v0, v1], rtol=0, atol=1e-12)


def test_riverswim_small_reward_variant_and_errors():
    m = riverswim(6, gamma=0.9, small_reward=0.0005)
    assert m.R[0, 0] == 0.0005
    with pytest.raises(ValueError, match="n = 1"):
        riverswim(1)
    with pytest.raises(ValueError, match="small_reward"):
        riverswim(6, small_reward=2.0)
    with pytest.raises(ValueError, match="not both"):
        riverswim(6, horizon=5, gamma=0.9)
    with pytest.raises(TypeError, match="n must be an integer"):
        riverswim(2.5)
    with pytest.raises(ValueError, match="gamma"):
        riverswim(6, gamma=1.0)


# ---------------------------------------------------------------- chain
@pytest.mark.parametrize("n", [2, 4, 7])
def test_chain_deterministic_optimal_return(n):
    mdp = chain(n)
    assert mdp.horizon == n
    # walk right n-1 times then collect the large reward
    assert mt.solve(mdp).V[0, 0] == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("n", [3, 5])
def test_chain_stochastic_optimal_return(n):
    f = 1.0 / n
    # need n-1 consecutive successes from state 0 (a failure at s>=1 loses a step that
    # cannot be recovered within H=n); the last step collects regardless of the move
    assert mt.solve(chain(n, fail_prob=f)).V[0, 0] == pytest.approx((1 - f) ** (n - 1), abs=1e-14)


def test_chain_transitions_and_errors():
    m = chain(4, fail_prob=0.25)
    np.testing.assert_allclose(m.P[2, 1], [0, 0.25, 0, 0.75])
    np.testing.assert_allclose(m.P[3, 1], [0, 0, 0.25, 0.75])
    np.testing.assert_allclose(m.P[0, 1], [0.25, 0.75, 0, 0])
    with pytest.raises(ValueError, match="fail_prob"):
        chain(4, fail_prob=1.5)
    with pytest.raises(ValueError, match="n = 0"):
        chain(0)


# ---------------------------------------------------------------- combination lock
@pytest.mark.parametrize("n,A", [(1, 2), (3, 2), (4, 3)])
def test_combination_lock_random_policy_value(n, A):
    mdp = combination_lock(n, A=A, seed=3)
    uniform = np.full((mdp.S, mdp.A), 1.0 / A)
    # the uniform policy must guess all n correct actions in a row: probability A^-n
    assert mt.evaluate(mdp, uniform)[0, 0] == pytest.approx(A ** -n, rel=1e-12)
    assert mt.solve(mdp).V[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("mode", ["reset", "dead"])
def test_combination_lock_one_correct_action(mode):
    n, A = 5, 3
    mdp = combination_lock(n, A=A, seed=11, on_mistake=mode)
    sink = 0 if mode == "reset" else n
    for s in range(n):
        forward = [a for a in range(A) if mdp.P[s, a, sink] < 1.0 or (s == n - 1 and mdp.R[s, a] > 0)]
        assert len(forward) == 1
    assert mdp.S == n + (mode == "dead")


def test_combination_lock_fail_prob_and_explicit_actions():
    f = 0.2
    mdp = combination_lock(4, correct_actions=[1, 0, 1, 1], fail_prob=f)
    assert mt.solve(mdp).V[0, 0] == pytest.approx((1 - f) ** 3)
    assert mdp.R[3, 1] == 1.0 and mdp.P[0, 1, 1] == pytest.approx(0.8)
    with pytest.raises(ValueError, match=r"correct_actions\[2\] = 5"):
        combination_lock(4, correct_actions=[1, 0, 5, 1])
    with pytest.raises(ValueError, match="on_mistake"):
        combination_lock(4, on_mistake="explode")


# ---------------------------------------------------------------- deterministic / twins
def _graph(P):
    """State graph: adj[s, s'] = some action moves s to s' with positive probability."""
    return (P > 0).any(axis=-2)


def _reachable_all(adj):
    S = adj.shape[0]
    for start in range(S):
        seen, stack = {start}, [start]
        while stack:
            u = stack.pop()
            for v in np.flatnonzero(adj[u]):
                if v not in seen:
                    seen.add(int(v))
                    stack.append(int(v))
        if len(seen) != S:
            return False
    return True


@settings(max_examples=25, deadline=None)
@given(S=st.integers(1, 7), A=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_deterministic_rows_are_point_masses(S, A, seed):
    mdp = deterministic(S, A, seed=seed)
    P = np.asarray(mdp.P)
    assert np.all((P == 0) | (P == 1)) and np.all(P.sum(-1) == 1)
    assert np.all((mdp.R >= 0) & (mdp.R <= 1))
    again = deterministic(S, A, seed=seed)
    np.testing.assert_array_equal(again.P, mdp.P)
    np.testing.assert_array_equal(again.R, mdp.R)
    comm = deterministic(S, A, gamma=0.9, seed=seed, communicating=True)
    assert _reachable_all(_graph(np.asarray(comm.P)))


@settings(max_examples=25, deadline=None)
@given(S=st.integers(2, 6), A=st.integers(2, 3), seed=st.integers(0, 10_000),
       mix=st.floats(0.05, 1.0))
def test_stochastic_twin_same_graph(S, A, seed, mix):
    det = deterministic(S, A, seed=seed)
    twin = stochastic_twin(det, seed=seed + 1, mix=mix)
    Pd, Pt = np.asarray(det.P), np.asarray(twin.P)
    np.testing.assert_array_equal(_graph(Pd), _graph(Pt))
    np.testing.assert_allclose(Pt.sum(-1), 1.0, atol=1e-12)
    # the intended successor keeps at least 1 - mix of the mass
    assert np.all(Pt[Pd == 1] >= 1 - mix - 1e-12)
    np.testing.assert_array_equal(twin.R, det.R)
    np.testing.assert_array_equal(twin.initial, det.initial)
    assert twin.horizon == det.horizon
    # a state with >= 2 distinct successors has genuinely stochastic rows
    for s in range(S):
        if np.unique(Pd[s].argmax(-1)).size >= 2:
            assert np.all(Pt[s].max(-1) < 1.0)


def test_stochastic_twin_stage_dependent_and_errors():
    det = deterministic(4, 2, horizon=3, seed=5).to_stage_dependent()
    twin = stochastic_twin(det, seed=0)
    assert twin.P.shape == (3, 4, 2, 4)
    with pytest.raises(ValueError, match="deterministic MDP"):
        stochastic_twin(riverswim(4))
    with pytest.raises(ValueError, match="mix"):
        stochastic_twin(det, mix=0.0)
    with pytest.raises(TypeError):
        stochastic_twin("not an mdp")

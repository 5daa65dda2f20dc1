"""Measures: gaps, diameter, communication class, variance norms, value norm, Markov chains.

Independent sources: hand closed forms (written next to the assertions), brute force over
all deterministic policies with exact path enumeration, breadth-first search, and value
iteration / second-moment recursions written here.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdptheory as mt
from mdptheory import measures as ms
from mdptheory.envs import (chain, combination_lock, deep_sea, deterministic, garnet, gridworld,
                            lower_bound_instance, mdptoolbox_small, random_dense, riverswim,
                            stochastic_twin)


# ---------------------------------------------------------------- gaps
@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_riverswim_n2_gaps_closed_form(gamma):
    # V0 = .6g/(1-g), V1 = (1-.4g)/(1-g):  gap(0,left) = .6g - .005,  gap(1,left) = 1 + .6g
    gaps = ms.action_gaps(riverswim(2, gamma=gamma))
    np.testing.assert_allclose(gaps, [[0.6 * gamma - 0.005, 0], [1 + 0.6 * gamma, 0]], atol=1e-9)
    summ = ms.gap_summary(riverswim(2, gamma=gamma))
    assert summ.gap_sum == pytest.approx(1 / (0.6 * gamma - 0.005) + 1 / (1 + 0.6 * gamma), rel=1e-8)
    assert summ.min_gap == pytest.approx(0.6 * gamma - 0.005, rel=1e-8)
    assert (summ.n_suboptimal, summ.n_optimal) == (2, 2)


@pytest.mark.parametrize("n,A", [(3, 2), (4, 3)])
def test_combination_lock_gap_sum(n, A):
    # at stage h the lock can still open from states s >= h (value 1 for the correct action,
    # 0 after a mistake); elsewhere every action is worth 0 (gap 0, excluded)
    mdp = combination_lock(n, A=A, seed=1)
    s = ms.gap_summary(mdp)
    k = (A - 1) * n * (n + 1) // 2
    assert s.n_suboptimal == k and s.gap_sum == pytest.approx(k) and s.min_gap == pytest.approx(1.0)
    assert ms.min_gap(mdp) == 1.0 and ms.gap_sum(mdp) == pytest.approx(k)


@pytest.mark.parametrize("n,A", [(3, 2), (4, 3)])
def test_combination_lock_gap_sum_reachable_only(n, A):
    # from state 0 a mistake resets, so at stage h exactly the states 0..h are reachable;
    # positive gaps need s >= h, so only (h, h) counts: (A - 1) unit gaps per stage
    mdp = combination_lock(n, A=A, seed=1)
    mask = ms.reachable_pairs(mdp)
    np.testing.assert_array_equal(mask, np.tril(np.ones((n, n), dtype=bool)))
    s = ms.gap_summary(mdp, reachable_only=True)
    assert s.n_suboptimal == (A - 1) * n and s.gap_sum == pytest.approx((A - 1) * n)
    assert s.n_suboptimal + s.n_optimal == A * n * (n + 1) // 2
    assert ms.gap_sum(mdp, reachable_only=True) == pytest.approx((A - 1) * n)


def test_reachable_pairs_deep_sea_and_discounted():
    N = 4
    mask = ms.reachable_pairs(deep_sea(N, seed=3))
    # stage h: row h, columns 0..h (a move right at most once per step)
    expect = np.zeros((N, N * N + 1), dtype=bool)
    for h in range(N):
        expect[h, h * N: h * N + h + 1] = True
    np.testing.assert_array_equal(mask, expect)
    np.testing.assert_array_equal(ms.reachable_pairs(deep_sea(N, seed=3).to_sparse()), expect)
    # discounted RiverSwim from state 0: everything; the all-left chain from state 2 of a
    # "left only" model: states 0..2
    assert ms.reachable_pairs(riverswim(4, gamma=0.9)).all()
    P = np.zeros((4, 1, 4))
    for s_ in range(4):
        P[s_, 0, max(0, s_ - 1)] = 1.0
    m = mt.DiscountedMDP(P, np.zeros((4, 1)), 0.9, 2)
    np.testing.assert_array_equal(ms.reachable_pairs(m), [True, True, True, False])


def test_lower_bound_gap_and_no_suboptimal_case():
    eps, H = 0.2, 9
    mdp = lower_bound_instance(2, 1, H, wait=2, epsilon=eps, target=(0, 1, 3))
    m = H - 2 - 1 - 2
    assert ms.action_gaps(mdp)[3, 2, 0] == pytest.approx(eps * m)  # leaf 0 is state 2
    single = mt.DiscountedMDP(np.ones((1, 2, 1)), np.ones((1, 2)), 0.9)
    s = ms.gap_summary(single)
    assert s.min_gap == np.inf and s.gap_sum == 0.0 and s.n_optimal == 2


# ---------------------------------------------------------------- diameter
@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_deterministic_chain_diameter(n):
    if n == 1:
        mdp = mt.DiscountedMDP(np.ones((1, 2, 1)), np.zeros((1, 2)), 0.9)
        assert ms.diameter(mdp) == 0.0
        return
    assert ms.diameter(chain(n)) == pytest.approx(n - 1)


def test_riverswim_n2_diameter_hand():
    # 0 -> 1: "right" moves w.p. .6 (geometric, mean 5/3); 1 -> 0: "left" in one step
    info = ms.diameter_info(riverswim(2))
    assert info.value == pytest.approx(5 / 3) and info.pair == (0, 1)


def _bfs_all(adj):
    S = adj.shape[0]
    D = np.full((S, S), np.inf)
    for s in range(S):
        D[s, s] = 0
        frontier = [s]
        while frontier:
            nxt = []
            for u in frontier:
                for v in np.flatnonzero(adj[u]):
                    if D[s, v] == np.inf:
                        D[s, v] = D[s, u] + 1
                        nxt.append(v)
            frontier = nxt
    return D


@settings(max_examples=25, deadline=None)
@given(S=st.integers(2, 7), A=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_deterministic_mdp_diameter_is_graph_diameter(S, A, seed):
    mdp = deterministic(S, A, gamma=0.9, seed=seed, communicating=True)
    D = _bfs_all((np.asarray(mdp.P) > 0).any(axis=1))
    assert ms.diameter(mdp) == pytest.approx(D.max())


@settings(max_examples=20, deadline=None)
@given(S=st.integers(2, 5), A=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_hitting_times_match_value_iteration(S, A, seed):
    mdp = garnet(S, A, min(S, 2), seed, gamma=0.9)
    info = ms.diameter_info(mdp)
    P = np.asarray(mdp.P)
    if info.value == np.inf:
        assert "cannot reach" in info.reason
        return
    for t in range(S):
        T = np.zeros(S)  # value iteration T <- 1 + min_a P T (T[t] = 0), increasing to T*
        for _ in range(200_000):
            Tn = 1 + (P @ T).min(axis=1)
            Tn[t] = 0
            if np.abs(Tn - T).max() < 1e-11:
                break
            T = Tn
        np.testing.assert_allclose(info.hitting_times[:, t], Tn, rtol=1e-7, atol=1e-7)


def test_infinite_diameter_with_reason():
    info = ms.diameter_info(deep_sea(3))
    assert info.value == np.inf and "cannot reach" in info.reason
    # the reported pair is really unreachable (independent BFS), and the table marks every
    # unreachable pair inf, the diagonal 0, and the rest nan (not computed)
    P = np.asarray(deep_sea(3).P)
    D = _bfs_all((P > 0).any(axis=1))
    s, t = info.pair
    assert D[s, t] == np.inf and f"state {s} cannot reach state {t}" in info.reason
    T = info.hitting_times
    np.testing.assert_array_equal(np.isinf(T), np.isinf(D))
    np.testing.assert_array_equal(np.diag(T), 0.0)
    assert np.all(np.isnan(T[np.isfinite(D) & ~np.eye(len(D), dtype=bool)]))
    assert ms.diameter(deep_sea(3)) == np.inf
    with pytest.raises(ValueError, match="stage-dependent"):
        ms.diameter(lower_bound_instance(2, 1, 8))


# ---------------------------------------------------------------- communication class
def _irreducible(M):
    D = _bfs_all(M > 0)
    return bool(np.all(np.isfinite(D)))


@settings(max_examples=25, deadline=None)
@given(S=st.integers(1, 5), A=st.integers(1, 3), b=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_communication_class_against_brute_force(S, A, b, seed):
    mdp = garnet(S, A, min(b, S), seed, gamma=0.9)
    P = np.asarray(mdp.P)
    cls = ms.communication_class(mdp)
    ergodic = all(_irreducible(P[np.arange(S), list(pi)]) for pi in itertools.product(range(A), repeat=S))
    communicating = bool(np.all(np.isfinite(_bfs_all((P > 0).any(axis=1)))))
    assert (cls.kind == "ergodic") == ergodic
    assert (cls.kind in ("ergodic", "communicating")) == communicating
    if cls.kind != "ergodic":
        assert cls.reason


def _recurrent_under_some_policy(P):
    """Union over all deterministic stationary policies of the recurrent states of the
    policy's chain (s is recurrent iff every state reachable from s reaches s back)."""
    S, A, _ = P.shape
    rec = np.zeros(S, dtype=bool)
    for pi in itertools.product(range(A), repeat=S):
        reach = np.isfinite(_bfs_all(P[np.arange(S), list(pi)] > 0))
        rec |= np.all(~reach | reach.T, axis=1)
    return rec


@settings(max_examples=40, deadline=None)
@given(S=st.integers(1, 5), A=st.integers(1, 3), b=st.integers(1, 2), seed=st.integers(0, 10_000))
def test_weakly_communicating_against_brute_force(S, A, b, seed):
    # Puterman (1994, Sec. 8.3): weakly communicating iff some set C is closed (under every
    # action) with its states mutually accessible, and every state outside C is transient
    # under every policy. Such a C is an end component containing every state that some
    # deterministic stationary policy makes recurrent, so C = that union: check it directly.
    mdp = garnet(S, A, min(b, S), seed, gamma=0.9)
    P = np.asarray(mdp.P)
    C = _recurrent_under_some_policy(P)
    closed = not np.any(P[C][:, :, ~C] > 0)
    sub = (P[np.ix_(C, np.arange(A), C)] > 0).any(axis=1)
    connected = bool(np.all(np.isfinite(_bfs_all(sub))))
    cls = ms.communication_class(mdp)
    assert (cls.kind != "not weakly communicating") == (closed and connected)
    # the end components cover exactly the states recurrent under some policy
    ecs = ms.end_components(mdp)
    covered = np.zeros(S, dtype=bool)
    for ec in ecs:
        covered[list(ec.states)] = True
        for s_, acts in zip(ec.states, ec.actions):
            assert acts and not np.any(P[s_, list(acts)][:, ~np.isin(np.arange(S), ec.states)] > 0)
    np.testing.assert_array_equal(covered, C)


def test_communication_class_examples():
    assert ms.communication_class(random_dense(4, 2, 0, gamma=0.9)).kind == "ergodic"
    assert ms.communication_class(chain(4)).kind == "communicating"
    # DeepSea's absorbing terminal state is the only closed class; grid cells are transient
    assert ms.communication_class(deep_sea(3)).kind == "weakly communicating"
    fl = ms.communication_class(gridworld("4x4", slip=2 / 3))
    assert fl.kind == "not weakly communicating" and len(fl.end_components) == 6  # 5 holes + goal


# ---------------------------------------------------------------- variance norms
def _paths(mdp, pi):
    """All (probability, return) pairs of a deterministic Markov policy pi (H, S) from
    the start state 0 of an episodic MDP with deterministic rewards (exact enumeration)."""
    P, R = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage())
    out = [(1.0, 0.0, 0)]
    for h in range(mdp.horizon):
        nxt = []
        for p, g, s in out:
            a = pi[h][s]
            for s2 in np.flatnonzero(P[h, s, a]):
                nxt.append((p * P[h, s, a, s2], g + R[h, s, a], s2))
        out = nxt
    return out


def _var_of(paths):
    p = np.array([x[0] for x in paths])
    g = np.array([x[1] for x in paths])
    m = p @ g
    return float(p @ (g - m) ** 2)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), mix=st.floats(0.2, 1.0))
def test_variance_norms_brute_force(seed, mix):
    S, A, H = 2, 2, 3
    det = deterministic(S, A, horizon=H, seed=seed)
    twin = stochastic_twin(det, seed=seed, mix=mix)
    for mdp in (det, twin):
        vn = ms.variance_norms(mdp)
        pols = [np.array(c).reshape(H, S) for c in itertools.product(range(A), repeat=H * S)]
        brute = max(_var_of(_paths(mdp, pi)) for pi in pols)
        assert vn.var_sigma_exact
        assert vn.var_sigma == pytest.approx(brute, abs=1e-12)
        # var_star: max over policies of E sum Var_P(V*_{h+1}) (brute force, exact paths)
        V = mt.solve(mdp).V
        P = np.asarray(mdp.P_by_stage())

        def sum_var(pi):
            tot, dist = 0.0, np.eye(S)[0]
            for h in range(H):
                for s in range(S):
                    row = P[h, s, pi[h][s]]
                    tot += dist[s] * (row @ (V[h + 1] - row @ V[h + 1]) ** 2)
                dist = dist @ P[h][np.arange(S), pi[h]]
            return tot

        assert vn.var_star == pytest.approx(max(sum_var(pi) for pi in pols), abs=1e-12)
        opt = _var_of(_paths(mdp, mt.solve(mdp).policy))
        assert vn.optimal_return_variance == pytest.approx(opt, abs=1e-12)
        assert vn.optimal_return_variance <= vn.var_star + 1e-12


@settings(max_examples=25, deadline=None)
@given(S=st.integers(2, 6), A=st.integers(2, 3), seed=st.integers(0, 10_000),
       episodic=st.booleans())
def test_variance_norms_zero_on_deterministic_positive_on_twin(S, A, seed, episodic):
    kw = {"horizon": 4} if episodic else {"gamma": 0.8}
    det = deterministic(S, A, seed=seed, **kw)
    vn = ms.variance_norms(det, max_policies=2048)  # exact or bounded: both must give 0
    assert vn.var_star == 0.0 and vn.var_sigma == 0.0 and vn.max_step_variance == 0.0
    assert ms.value_norm(det) == 0.0
    twin = stochastic_twin(det, seed=seed)
    vt = ms.variance_norms(twin, max_policies=2048)
    # independent criterion: some state reachable from 0 (within H-1 steps when episodic)
    # has a row whose support carries different optimal values of the next stage
    V = mt.solve(twin).V
    P = np.asarray(twin.P)
    reach, frontier = {0}, {0}
    for _ in range((4 - 1) if episodic else S):
        frontier = {int(t) for s in frontier for t in np.flatnonzero(P[s].sum(0))} - reach
        reach |= frontier
    hs = range(4) if episodic else [None]
    positive = False
    for h in hs:
        Vn = V[h + 1] if episodic else V
        for s in reach:
            for a in range(A):
                sup = np.flatnonzero(P[s, a])
                if np.ptp(Vn[sup]) > 1e-9:
                    positive = True
    if positive:
        assert vt.var_star > 0 and vt.var_sigma > 0
    assert vt.var_star >= vt.optimal_return_variance - 1e-12


@pytest.mark.parametrize("n", [3, 5])
def test_variance_norms_chain_and_its_twin(n):
    # the deterministic chain: every row a point mass, so both norms vanish exactly
    det = chain(n)
    vn = ms.variance_norms(det)
    assert (vn.var_star, vn.var_sigma, vn.max_step_variance, vn.optimal_return_variance) == (0, 0, 0, 0)
    # its twin: from state 0 at stage 0 "right" reaches {0, 1} (graph of the chain), whose
    # optimal values at stage 1 differ (state 1 is one step closer to the reward), so the
    # row's variance is positive and both norms are too
    twin = stochastic_twin(det, seed=0)
    V1 = mt.solve(twin).V[1]
    row = np.asarray(twin.P)[0, 1]
    step_var = row @ (V1 - row @ V1) ** 2  # Var_{P(0, right)} V*_1, written out
    assert set(np.flatnonzero(row)) == {0, 1} and step_var > 0
    vt = ms.variance_norms(twin)
    assert vt.var_star >= step_var - 1e-12 and vt.var_sigma > 0 and vt.max_step_variance >= step_var - 1e-12


def test_variance_upper_bound_and_bernoulli_rewards():
    mdp = riverswim(3, horizon=4)
    exact = ms.variance_norms(mdp)
    bound = ms.variance_norms(mdp, max_policies=4)
    assert exact.var_sigma_exact and not bound.var_sigma_exact
    assert bound.var_sigma >= exact.var_sigma - 1e-12
    # Bernoulli rewards add R(1-R) per step: a one-state, one-step MDP with mean .3
    one = mt.EpisodicMDP(np.ones((1, 1, 1)), [[0.3]], 1, 0, reward_noise="bernoulli")
    vn = ms.variance_norms(one)
    assert vn.var_star == pytest.approx(0.21) and vn.var_sigma == pytest.approx(0.21)
    # without the reward term var_star only sees Var_P(V*) = 0; the return still varies
    vn = ms.variance_norms(one, reward_variance=False)
    assert vn.var_star == 0.0 and vn.max_step_variance == 0.0 and vn.var_sigma == pytest.approx(0.21)
    two = mt.DiscountedMDP(np.ones((1, 1, 1)), [[0.3]], 0.5, reward_noise="bernoulli")
    # discounted: sum_t 0.25^t * 0.21 = 0.28 with the reward term, 0 without
    assert ms.variance_norms(two).var_star == pytest.approx(0.28)
    assert ms.variance_norms(two, reward_variance=False).var_star == 0.0
    with pytest.raises(ValueError, match="max_policies = -1"):
        ms.variance_norms(one, max_policies=-1)


def test_return_variance_discounted_second_moment():
    # independent second-moment recursion M = r^2 + 2 g r P V + g^2 P M, Var = M - V^2
    mdp = riverswim(4, gamma=0.8)
    pi = np.array([1, 1, 0, 1])
    P = np.asarray(mdp.P)[np.arange(4), pi]
    r = mdp.R[np.arange(4), pi]
    V = np.linalg.solve(np.eye(4) - 0.8 * P, r)
    M = np.linalg.solve(np.eye(4) - 0.64 * P, r ** 2 + 2 * 0.8 * r * (P @ V))
    np.testing.assert_allclose(ms.return_variance(mdp, pi), M - V ** 2, atol=1e-10)


def test_value_norm_riverswim_n2():
    # both "right" rows are (.4, .6) over {V0, V1} with V1 - V0 = 1, so sqrt(.24)
    for g in (0.5, 0.9):
        assert ms.value_norm(riverswim(2, gamma=g)) == pytest.approx(np.sqrt(0.24), rel=1e-8)


# ---------------------------------------------------------------- Markov chains
def test_stationary_distribution_birth_death():
    n = 6
    mdp = riverswim(n, gamma=0.9)
    right = np.ones(n, dtype=np.int64)
    # detailed balance of the birth-death chain: pi(s+1)/pi(s) = up(s)/down(s+1)
    up = [0.6] + [0.35] * (n - 2)
    down = [0.05] * (n - 2) + [0.4]
    w = np.cumprod([1.0] + [u / d for u, d in zip(up, down)])
    np.testing.assert_allclose(ms.stationary_distribution(mdp, right), w / w.sum(), atol=1e-12)
    # all-left policy: absorbed in state 0
    np.testing.assert_allclose(ms.stationary_distribution(mdp, np.zeros(n, dtype=np.int64)),
                               np.eye(n)[0], atol=1e-12)


def test_stationary_distribution_two_closed_classes():
    P = np.zeros((3, 1, 3))
    P[0, 0] = [0.2, 0.3, 0.5]
    P[1, 0, 1] = 1.0
    P[2, 0, 2] = 1.0
    mdp = mt.DiscountedMDP(P, np.zeros((3, 1)), 0.9, [1.0, 0, 0])
    # absorbed in 1 w.p. .3/.8 and in 2 w.p. .5/.8
    np.testing.assert_allclose(ms.stationary_distribution(mdp, np.zeros(3, dtype=np.int64)),
                               [0, 0.375, 0.625], atol=1e-12)


def test_hitting_times():
    h = ms.hitting_times(riverswim(2, gamma=0.9), np.ones(2, dtype=np.int64), 1)
    np.testing.assert_allclose(h, [5 / 3, 0.0])
    mdp = riverswim(5, gamma=0.9)
    right = np.ones(5, dtype=np.int64)
    h = ms.hitting_times(mdp, right, 4)
    M = np.asarray(mdp.P)[np.arange(5), right]
    T = np.zeros(5)
    for _ in range(100_000):  # first-step analysis by fixed-point iteration
        T = 1 + M @ T
        T[4] = 0
    np.testing.assert_allclose(h, T, rtol=1e-9)
    left = np.zeros(5, dtype=np.int64)
    h = ms.hitting_times(mdp, left, [4])
    assert h[4] == 0 and np.all(np.isinf(h[:4]))
    with pytest.raises(ValueError, match=r"target\[0\] = 7"):
        ms.hitting_times(mdp, left, 7)


def test_stationary_distribution_input_errors():
    mdp = riverswim(3, gamma=0.9)
    pi = np.ones(3, dtype=np.int64)
    with pytest.raises(ValueError, match=r"initial\[1\] = -0.5"):
        ms.stationary_distribution(mdp, pi, initial=[1.5, -0.5, 0.0])
    with pytest.raises(ValueError, match="sums to 0.5"):
        ms.stationary_distribution(mdp, pi, initial=[0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        ms.stationary_distribution(mdp, pi, initial=[1.0, 0.0])


def test_stationary_distribution_of_a_chain_matrix():
    """The chain may be given directly (dense or sparse); same answer as from (mdp, policy)."""
    import scipy.sparse as sps

    mdp = riverswim(5, gamma=0.9)
    right = np.ones(5, dtype=np.int64)
    M = ms.policy_chain(mdp, right)
    np.testing.assert_array_equal(ms.stationary_distribution(M, initial=mdp.initial),
                                  ms.stationary_distribution(mdp, right))
    # two closed classes, each a period-2 cycle: the Cesaro average puts 1/2 on each state
    # of the class the chain starts in; from the default uniform start, 1/4 everywhere
    P = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=float)
    np.testing.assert_allclose(ms.stationary_distribution(P, initial=[1, 0, 0, 0]), [0.5, 0.5, 0, 0], atol=1e-15)
    np.testing.assert_allclose(ms.stationary_distribution(sps.csr_matrix(P)), [0.25] * 4, atol=1e-15)
    with pytest.raises(ValueError, match="policy must be omitted"):
        ms.stationary_distribution(P, right)
    with pytest.raises(ValueError, match="policy is required"):
        ms.stationary_distribution(mdp)
    with pytest.raises(ValueError, match="sums to 0.5"):
        ms.stationary_distribution([[0.5, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="shape"):
        ms.stationary_distribution(np.ones((2, 3)) / 3)


def test_bias_span_mdptoolbox_small():
    # optimal average-reward policy (1, 0): gain 35/9; h(0) - h(1) = 10 - 35/9 = 55/9
    assert ms.bias_span(mdptoolbox_small()) == pytest.approx(55 / 9, abs=1e-6)
    with pytest.raises(ValueError, match="not defined"):
        ms.bias_span(gridworld("4x4", slip=2 / 3, gamma=0.9))


def test_variance_norms_sparse_equals_dense():
    # a sparse stationary kernel (e.g. Taxi from Gymnasium) gives the same numbers, both in
    # the exact enumeration and in the bounded regime
    mdp = garnet(6, 2, 2, 4, horizon=3, initial=0)
    for budget in (1 << 16, 4):
        d = ms.variance_norms(mdp, max_policies=budget)
        s = ms.variance_norms(mdp.to_sparse(), max_policies=budget)
        assert d.var_sigma_exact == s.var_sigma_exact == (budget > 4)
        for f in ("var_star", "var_sigma", "max_step_variance", "optimal_return_variance"):
            assert getattr(s, f) == pytest.approx(getattr(d, f), abs=1e-12)


@pytest.mark.parametrize("A,depth,H,eps", [(2, 1, 10, 0.1), (3, 0, 7, 0.2)])
def test_variance_measures_lower_bound_closed_forms(A, depth, H, eps):
    # the only randomness is the leaf coin: return = m * 1{good}, V*_{h+1}(good) = m and
    # V*(bad) = 0 at the coin, so Var = m^2 p (1 - p) with p in {1/2, 1/2 + eps}
    mdp = lower_bound_instance(A, depth, H, epsilon=eps, seed=0)
    m = H - (H - depth - 3) // 2 - depth - 2
    vn = ms.variance_norms(mdp)
    assert vn.var_star == pytest.approx(m * m / 4, abs=1e-12)
    assert vn.var_sigma == pytest.approx(m * m / 4, abs=1e-12)  # exact or bound: both m^2/4
    assert vn.max_step_variance == pytest.approx(m * m / 4, abs=1e-12)
    assert vn.optimal_return_variance == pytest.approx(m * m * (0.25 - eps * eps), abs=1e-12)
    assert ms.value_norm(mdp) == pytest.approx(m / 2, abs=1e-12)

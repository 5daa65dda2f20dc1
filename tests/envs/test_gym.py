"""Gymnasium import/export.

Independent sources: value iteration written here directly over Gymnasium's raw ``P`` dict,
Gymnasium's own ``step()`` samples, ``gymnasium.utils.env_checker.check_env`` and
chi-square tests (scipy.stats).
"""

import numpy as np
import pytest
from scipy import stats

gym = pytest.importorskip("gymnasium")
from gymnasium.utils.env_checker import check_env  # noqa: E402

import mdptheory as mt  # noqa: E402
from mdptheory.envs import (GymnasiumConversionError, from_gymnasium, garnet,  # noqa: E402
                            gridworld, lower_bound_instance, riverswim, to_gymnasium)

TOY_TEXT = [
    ("FrozenLake-v1", {}), ("FrozenLake8x8-v1", {}), ("CliffWalking-v1", {}),
    ("CliffWalkingSlippery-v1", {}), ("Taxi-v4", {}), ("Taxi-v4", {"is_rainy": True}),
]


def _raw_value_iteration(P, nS, nA, gamma, tol=1e-11):
    """VI over the raw dict: V(s) = max_a sum p (r + gamma (1 - done) V(s'))."""
    V = np.zeros(nS)
    while True:
        Vn = np.array([max(sum(p * (r + gamma * (0.0 if d else V[s2])) for p, s2, r, d in P[s][a])
                           for a in range(nA)) for s in range(nS)])
        if np.abs(Vn - V).max() < tol * (1 - gamma):
            return Vn
        V = Vn


def _reachable(P, nA, start):
    seen, stack = set(start), list(start)
    while stack:
        s = stack.pop()
        for a in range(nA):
            for p, s2, r, d in P[s][a]:
                if not d and p > 0 and s2 not in seen:
                    seen.add(s2)
                    stack.append(s2)
    return sorted(seen)


@pytest.mark.parametrize("env_id,kw", TOY_TEXT)
def test_optimal_values_match_raw_dict_value_iteration(env_id, kw):
    env = gym.make(env_id, **kw)
    u = env.unwrapped
    gamma = 0.9
    mdp = from_gymnasium(env, gamma=gamma)
    V = mt.solve(mdp, tol=1e-11).V
    Vraw = _raw_value_iteration(u.P, mdp.S, mdp.A, gamma)
    reach = _reachable(u.P, mdp.A, np.flatnonzero(u.initial_state_distrib).tolist())
    np.testing.assert_allclose(V[reach], Vraw[reach], atol=1e-8)
    np.testing.assert_array_equal(mdp.initial, u.initial_state_distrib)


def test_frozenlake_duplicates_summed_terminals_absorbing_and_gridworld_twin():
    mdp = from_gymnasium("FrozenLake-v1")
    assert mdp.horizon == 100  # gymnasium's max_episode_steps
    # P[0][0] lists state 0 twice (left and up both bump into the border) and state 4 once
    np.testing.assert_allclose(mdp.P[0, 0, [0, 4]], [2 / 3, 1 / 3])
    for hole in (5, 7, 11, 12, 15):
        np.testing.assert_array_equal(mdp.P[hole, :, hole], 1.0)
        np.testing.assert_array_equal(mdp.R[hole], 0.0)
    grid = gridworld("4x4", slip=2 / 3)
    np.testing.assert_allclose(grid.P, mdp.P, atol=1e-15)
    np.testing.assert_allclose(grid.R, mdp.R, atol=1e-15)
    g8 = from_gymnasium("FrozenLake8x8-v1")
    np.testing.assert_allclose(gridworld("8x8", slip=2 / 3).P, g8.P, atol=1e-15)


def test_finite_horizon_frozenlake_matches_raw_backward_induction():
    env = gym.make("FrozenLake-v1")
    P = env.unwrapped.P
    H = 10
    V = np.zeros(16)
    for _ in range(H):
        V = np.array([max(sum(p * (r + (0.0 if d else V[s2])) for p, s2, r, d in P[s][a])
                          for a in range(4)) for s in range(16)])
    sol = mt.solve(from_gymnasium(env, horizon=H))
    assert sol.V[0, 0] == pytest.approx(V[0], abs=1e-14)


def test_refusals_with_reasons():
    with pytest.raises(GymnasiumConversionError, match="fickle_passenger"):
        from_gymnasium("Taxi-v4", env_kwargs={"fickle_passenger": True})
    # Taxi-v3 no longer exists in gymnasium 1.x: refused with the current id named, before
    # gymnasium.make is called (so no "Taxi-v3 is out of date" warning and nothing built)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GymnasiumConversionError, match=r"Taxi-v3.*does not exist.*'Taxi-v4'"):
            from_gymnasium("Taxi-v3")
        with pytest.raises(GymnasiumConversionError, match=r"'FrozenLake-v1'"):
            from_gymnasium("FrozenLake-v0")
        with pytest.raises(GymnasiumConversionError, match="no version of it is registered"):
            from_gymnasium("NoSuchEnv-v1")
    with pytest.raises(ValueError, match="no transition table"):
        from_gymnasium("Blackjack-v1")
    with pytest.raises(ValueError, match="no time limit"):
        from_gymnasium("CliffWalking-v1")
    with pytest.raises(ValueError, match="not both"):
        from_gymnasium("FrozenLake-v1", gamma=0.9, horizon=5)


def test_fickle_taxi_with_zero_probability_is_described_by_P():
    # fickle_probability = 0: step() never changes the destination, so P is the law
    a = from_gymnasium("Taxi-v4", env_kwargs={"fickle_passenger": True, "fickle_probability": 0.0})
    b = from_gymnasium("Taxi-v4")
    assert (a.P != b.P).nnz == 0
    np.testing.assert_array_equal(a.R, b.R)


class _BadP(gym.Env):
    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(1)
    initial_state_distrib = np.array([1.0, 0.0])

    def __init__(self, P):
        self.P = P


def test_malformed_tables():
    with pytest.raises(ValueError, match=r"P\[0\]\[0\] entry .* next state 5"):
        from_gymnasium(_BadP({0: {0: [(1.0, 5, 0.0, False)]}, 1: {0: [(1.0, 1, 0.0, False)]}}), gamma=0.5)
    # state 1 is entered as terminal from 0 and as non-terminal from 0 too
    bad = {0: {0: [(0.5, 1, 0.0, True), (0.5, 1, 0.0, False)]}, 1: {0: [(1.0, 1, 0.0, False)]}}
    with pytest.raises(ValueError, match="terminated=True"):
        from_gymnasium(_BadP(bad), gamma=0.5)


@pytest.mark.parametrize("make", [
    lambda: riverswim(5),
    lambda: riverswim(5, gamma=0.9, reward_noise="bernoulli"),
    lambda: garnet(30, 3, 4, 1, sparse=True),
    lambda: lower_bound_instance(2, 1, 8),
])
def test_to_gymnasium_passes_check_env(make):
    env = to_gymnasium(make())
    check_env(env, skip_render_check=True)
    # same seed -> identical trajectory
    def traj(seed):
        s, _ = env.reset(seed=seed)
        out = [s]
        for t in range(30):
            s, r, term, trunc, _ = env.step(t % env.action_space.n)
            out += [s, r]
            if trunc:
                s, _ = env.reset()
        return out
    assert traj(3) == traj(3)


def test_episodic_env_truncates_at_horizon_and_bernoulli_rewards():
    env = to_gymnasium(riverswim(4, horizon=3, reward_noise="bernoulli"))
    env.reset(seed=0)
    flags = [env.step(1)[3] for _ in range(3)]
    assert flags == [False, False, True]
    env = to_gymnasium(riverswim(2, gamma=0.9, reward_noise="bernoulli", small_reward=0.3))
    env.reset(seed=1)
    rewards = []
    for _ in range(4000):
        s = env.unwrapped._s
        _, r, *_ = env.step(0)
        if s == 0:
            rewards.append(r)
    assert set(rewards) <= {0.0, 1.0}
    # Bernoulli(0.3): the mean over n samples is within 4 standard errors
    assert abs(np.mean(rewards) - 0.3) < 4 * np.sqrt(0.21 / len(rewards))


def _counts(env, n_steps, seed, S, A, stop=()):
    rng = np.random.default_rng(seed)
    C = np.zeros((S, A, S))
    s, _ = env.reset(seed=seed)
    for _ in range(n_steps):
        a = int(rng.integers(A))
        s2, r, term, trunc, _ = env.step(a)
        C[s, a, s2] += 1
        s = s2
        if term or trunc or s in stop:
            s, _ = env.reset()
    return C


def test_round_trip_reproduces_transition_frequencies():
    # a slippery FrozenLake map with a single hole, so that a random policy visits most
    # states often (the standard map ends most episodes within a few steps)
    gym_env = gym.make("FrozenLake-v1", desc=["SFFF", "FHFF", "FFFF", "FFFG"])
    mdp = from_gymnasium(gym_env)
    ours = to_gymnasium(mdp)
    n = 30_000
    # our env keeps running in absorbing states; restart there as Gymnasium does
    C_ours = _counts(ours, n, 0, 16, 4, stop=(5, 15))
    C_gym = _counts(gym_env, n, 1, 16, 4)
    pvals = []
    for s in range(16):
        for a in range(4):
            support = np.flatnonzero(mdp.P[s, a])
            if support.size < 2 or C_ours[s, a].sum() < 100 or C_gym[s, a].sum() < 100:
                continue
            # goodness of fit of our sampler to the converted law
            obs = C_ours[s, a, support]
            pvals.append(stats.chisquare(obs, obs.sum() * mdp.P[s, a, support]).pvalue)
            # homogeneity with Gymnasium's own step() (its frequencies, not its P)
            table = np.vstack([C_ours[s, a, support], C_gym[s, a, support]])
            pvals.append(stats.chi2_contingency(table).pvalue)
    assert len(pvals) >= 30
    # Bonferroni at 1% overall
    assert min(pvals) > 0.01 / len(pvals)
    # a wrong law is detected: a uniform law over the support is rejected
    s, a = 0, 0  # law (2/3, 1/3): stays put when slipping into the border
    support = np.flatnonzero(mdp.P[s, a])
    obs = C_ours[s, a, support]
    wrong = np.full(support.size, obs.sum() / support.size)
    assert mdp.P[s, a, support].std() > 0.1
    assert stats.chisquare(obs, wrong).pvalue < 1e-6


def test_round_trip_arrays_identical():
    for mdp in (from_gymnasium("FrozenLake-v1", gamma=0.95), riverswim(5), garnet(6, 2, 3, 0)):
        back = from_gymnasium(to_gymnasium(mdp), gamma=getattr(mdp, "gamma", None)
                              if mdp.horizon is None else None)
        np.testing.assert_allclose(back.dense_P(), mdp.dense_P(), atol=1e-15)
        np.testing.assert_allclose(back.R, mdp.R, atol=1e-15)
        assert back.horizon == mdp.horizon


def _terminal_set(P):
    """States entered with terminated=True anywhere in the raw dict (independent of ours)."""
    return {s2 for s in P for a in P[s] for p, s2, r, d in P[s][a] if d and p > 0}


def _random_walk_counts(env, n_steps, seed, S, A, stop=()):
    """Transition counts under uniformly random actions, restarting after termination,
    truncation or on entering a state of ``stop``."""
    rng = np.random.default_rng(seed)
    C = np.zeros((S, A, S))
    s, _ = env.reset(seed=seed)
    for _ in range(n_steps):
        a = int(rng.integers(A))
        s2, r, term, trunc, _ = env.step(a)
        C[s, a, s2] += 1
        s = s2
        if term or trunc or s in stop:
            s, _ = env.reset()
    return C


def _pooled_pvalues(C, P):
    """Chi-square goodness of fit pooled over rows with >= 2 outcomes, one test per (action,
    support size): outcome ``k`` of a row is its ``k``-th smallest next state, a partition
    fixed by the support alone (not by the law under test). Sums of independent multinomials
    have smaller variance than one multinomial with the averaged law, so the test is
    conservative under the null."""
    S, A, _ = P.shape
    sup = P > 0
    size = sup.sum(-1)
    out = []
    for a in range(A):
        for m in np.unique(size[:, a]):
            if m < 2:
                continue
            obs, exp = np.zeros(m), np.zeros(m)
            for s in np.flatnonzero(size[:, a] == m):
                idx = np.flatnonzero(sup[s, a])
                obs += C[s, a, idx]
                exp += C[s, a].sum() * P[s, a, idx]
            if exp.min() >= 5:
                out.append(stats.chisquare(obs, exp).pvalue)
    return out


@pytest.mark.parametrize("env_id,kw", TOY_TEXT)
def test_round_trip_every_toy_text_env(env_id, kw):
    """from_gymnasium -> to_gymnasium for every listed toy-text env: check_env passes, the
    arrays survive a second conversion exactly, and both Gymnasium's own step() and our
    sampler produce transitions distributed as the converted law (exact support check on
    every visited pair; chi-square goodness of fit where a row has two or more outcomes)."""
    gym_env = gym.make(env_id, **kw)
    mdp = from_gymnasium(gym_env, horizon=None if gym_env.spec.max_episode_steps else 100)
    ours = to_gymnasium(mdp)
    check_env(ours, skip_render_check=True)
    back = from_gymnasium(ours)
    np.testing.assert_array_equal(back.dense_P(), mdp.dense_P())
    # R is refolded as sum_s' P(s'|s,a) R(s,a): equal up to round-off
    np.testing.assert_allclose(back.R, mdp.R, rtol=0, atol=1e-12)
    assert back.horizon == mdp.horizon
    np.testing.assert_array_equal(back.initial, mdp.initial)

    S, A = mdp.S, mdp.A
    stop = _terminal_set(gym_env.unwrapped.P)
    n = 20_000
    C_gym = _random_walk_counts(gym_env, n, 11, S, A)
    C_ours = _random_walk_counts(ours, n, 12, S, A, stop=stop)
    P = mdp.dense_P()
    support = P > 0
    for C in (C_gym, C_ours):
        # nothing ever lands outside the converted support (exact, every visited pair)
        assert C[~support].sum() == 0
    multi = support.sum(-1) >= 2
    pvals = []
    for C in (C_gym, C_ours):
        # per-row goodness of fit where every expected count is >= 5
        for s, a in np.argwhere(multi):
            sup = np.flatnonzero(support[s, a])
            obs = C[s, a, sup]
            exp = obs.sum() * P[s, a, sup]
            if exp.min() >= 5:
                pvals.append(stats.chisquare(obs, exp).pvalue)
        # pooled (rainy Taxi has 3000 rows, few visited often enough on their own)
        pvals += _pooled_pvalues(C, P)
    if multi.any():  # FrozenLake, CliffWalkingSlippery, rainy Taxi
        assert len(pvals) >= 10
        assert min(pvals) > 1e-3 / len(pvals)  # Bonferroni, 0.1% family-wise
        # the same tests reject a wrong law with the same support (uniform on it)
        U = np.where(support, 1.0, 0.0)
        U /= U.sum(-1, keepdims=True)
        assert min(_pooled_pvalues(C_gym, U)) < 1e-6
    else:  # deterministic rows: the support check above is an exact comparison
        assert not pvals and C_gym.sum() == n


def test_stage_dependent_env_samples_each_stage_kernel():
    # stage 0: 0 -> 1, stage 1: 1 -> 0, stage 2: 0 -> 1 (point masses); rewards by stage
    P = np.zeros((3, 2, 1, 2))
    P[0, :, 0, 1] = P[1, :, 0, 0] = P[2, :, 0, 1] = 1.0
    R = np.zeros((3, 2, 1))
    R[:, 0, 0], R[:, 1, 0] = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]
    env = to_gymnasium(mt.EpisodicMDP(P, R, 3, 0))
    check_env(env, skip_render_check=True)
    env.reset(seed=0)
    out = [env.step(0) for _ in range(3)]
    assert [(s, r, trunc) for s, r, _, trunc, _ in out] == [(1, 1.0, False), (0, 20.0, False), (1, 3.0, True)]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    # stationary kernel with stage-dependent rewards: no P table, rewards follow the stage
    env = to_gymnasium(mt.EpisodicMDP(np.ones((1, 1, 1)), np.array([[[1.0]], [[2.0]]]), 2, 0))
    env.reset(seed=0)
    assert [env.step(0)[1] for _ in range(2)] == [1.0, 2.0]
    assert not hasattr(env.unwrapped, "P")
    with pytest.raises(GymnasiumConversionError, match="no transition table"):
        from_gymnasium(env)

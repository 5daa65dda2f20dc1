"""Engine: exact pseudo-regret accounting, reproducibility, input checks, kernel twins."""

import numpy as np
import pytest

import mdptheory as m
from mdptheory.kernels import sampling as ks
from mdptheory.learners import UCBVI, EpsilonGreedyQLearning, Learner, UniformRandom
from mdptheory.regret import env_arrays, run, seed_rng


def small_mdp(S=4, A=2, H=5, seed=0, noise="bernoulli", stage=False, initial=None):
    rng = np.random.default_rng(seed)
    shp = (H, S, A) if stage else (S, A)
    P = rng.dirichlet(np.ones(S), size=shp)
    R = rng.uniform(0, 1, size=shp)
    init = np.ones(S) / S if initial is None else initial
    return m.EpisodicMDP(P, R, H, init, reward_noise=noise)


class Oracle(Learner):
    """Plays a given deterministic policy table (written here, independent of the package)."""

    normalization = None

    def __init__(self, table):
        self.table = np.asarray(table, dtype=np.int64)

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)

    def policy(self):
        return self.table

    def act(self, h, s):
        return int(self.table[h, s])

    def bound(self, S, A, H, K, delta=0.05):
        raise NotImplementedError


class Liar(Oracle):
    def act(self, h, s):
        return 1 - int(self.table[h, s])


def _plain_values(mdp, probs=None):
    """rho . V*_1 and (if ``probs`` (H,S,A) is given) rho . V^probs_1 by a backward induction
    written here (no package solver or kernel)."""
    P, R = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage())
    H, S = mdp.H, mdp.S
    Vs, Vp = np.zeros(S), np.zeros(S)
    for h in range(H - 1, -1, -1):
        Vs = np.array([max(R[h, s, a] + P[h, s, a] @ Vs for a in range(mdp.A)) for s in range(S)])
        if probs is not None:
            Vp = np.array([sum(probs[h, s, a] * (R[h, s, a] + P[h, s, a] @ Vp) for a in range(mdp.A))
                           for s in range(S)])
    rho = np.asarray(mdp.initial)
    return float(rho @ Vs), float(rho @ Vp)


def _plain_optimal_policy(mdp):
    P, R = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage())
    V = np.zeros(mdp.S)
    pi = np.zeros((mdp.H, mdp.S), dtype=np.int64)
    for h in range(mdp.H - 1, -1, -1):
        Q = R[h] + P[h] @ V
        pi[h] = Q.argmax(axis=1)
        V = Q.max(axis=1)
    return pi


def test_oracle_has_zero_pseudo_regret():
    mdp = small_mdp(stage=True)
    pi_star = _plain_optimal_policy(mdp)            # independent of the package solver
    tr = run(Oracle(pi_star), mdp, 50, 3)
    assert tr.backend == "python"
    np.testing.assert_allclose(tr.pseudo_regret, 0.0, atol=1e-12)
    assert tr.v_star == pytest.approx(_plain_values(mdp)[0], abs=1e-12)
    # a suboptimal oracle has the constant regret V* - V^pi, computed independently
    bad = pi_star.copy()
    bad[0] = 1 - bad[0]
    probs = np.eye(2)[bad]
    vs, vb = _plain_values(mdp, probs)
    tr2 = run(Oracle(bad), mdp, 5, 1)
    assert vs - vb > 1e-3
    np.testing.assert_allclose(tr2.pseudo_regret, vs - vb, rtol=0, atol=1e-12)


@pytest.mark.parametrize("stage", [False, True])
@pytest.mark.parametrize("backend", ["compiled", "python"])
def test_uniform_closed_form(stage, backend):
    mdp = small_mdp(S=5, A=3, H=4, stage=stage, seed=3)
    H, S, A = 4, 5, 3
    v_unif = float(mdp.initial @ m.evaluate(mdp, np.full((H, S, A), 1.0 / A))[0])
    v_star = float(mdp.initial @ m.solve(mdp).V[0])
    tr = run(UniformRandom(), mdp, 30, 2, backend=backend)
    np.testing.assert_allclose(tr.pseudo_regret, v_star - v_unif, rtol=0, atol=1e-12)
    # and against a backward induction written in this file
    vs, vu = _plain_values(mdp, np.full((H, S, A), 1.0 / A))
    np.testing.assert_allclose(tr.pseudo_regret, vs - vu, rtol=0, atol=1e-12)
    assert vs - vu > 0.05


@pytest.mark.parametrize("learner", [UniformRandom(), UCBVI("bernstein", bonus_scale=0.05)])
def test_pseudo_regret_matches_monte_carlo(learner):
    # E[V*_1 - G_k | past] = Delta_k, so the mean of (v* - G_k - Delta_k) is a martingale
    # average: within 4 standard errors of 0.
    mdp = small_mdp(S=4, A=2, H=5, seed=1, noise="bernoulli")
    tr = run(learner, mdp, 4000, 2)
    d = (tr.v_star - tr.returns) - tr.pseudo_regret
    se = d.std() / np.sqrt(d.size)
    assert abs(d.mean()) < 4 * se + 1e-12
    # and the realised regret is not trivially equal to the pseudo-regret
    assert d.std() > 0.1


class Softmax(Learner):
    """A teaching-path learner with a *changing stochastic* policy: per stage and state,
    probabilities proportional to exp(mean observed reward * (k+1)^0.5) (written here)."""

    normalization = None

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self.tot = np.zeros((H, S, A))
        self.cnt = np.zeros((H, S, A))

    def begin_episode(self, k):
        mean = self.tot / np.maximum(self.cnt, 1)
        w = np.exp(mean * np.sqrt(k + 1.0))
        self.probs = w / w.sum(axis=2, keepdims=True)

    def policy(self):
        return self.probs

    def observe(self, h, s, a, r, s2):
        self.tot[h, s, a] += r
        self.cnt[h, s, a] += 1


@pytest.mark.parametrize("make,backend,stage", [
    (Softmax, "python", True),
    (lambda: EpsilonGreedyQLearning(epsilon=0.5, decay=0.3), "python", True),
    (lambda: EpsilonGreedyQLearning(epsilon=0.5, decay=0.3), "compiled", True),
    (lambda: UCBVI("hoeffding", bonus_scale=0.05), "compiled", False)])
def test_monte_carlo_stage_dependent_random_start_stochastic_policies(make, backend, stage):
    # stage-dependent P and R, random initial state, Bernoulli rewards; stochastic policies
    # that change every episode: mean of v* - G_k - Delta_k over evaluated episodes ~ 0.
    # The stride must not change the trajectory, only which episodes are evaluated.
    mdp = small_mdp(S=3, A=2, H=4, seed=7, noise="bernoulli", stage=stage, initial=np.array([0.5, 0.2, 0.3]))
    K = 6000
    tr = run(make(), mdp, K, 2, backend=backend, eval_every=3)
    full = run(make(), mdp, K, 2, backend=backend)
    assert np.array_equal(tr.returns, full.returns)
    ev = tr.evaluated
    assert ev.sum() == 2000 and np.isnan(tr.pseudo_regret[:, ~ev]).all()
    assert np.array_equal(tr.pseudo_regret[:, ev], full.pseudo_regret[:, ev])
    d = (tr.v_star - tr.returns[:, ev]) - tr.pseudo_regret[:, ev]
    se = d.std() / np.sqrt(d.size)
    assert abs(d.mean()) < 4 * se
    assert d.std() > 0.1 and np.ptp(tr.pseudo_regret[:, ev]) > 1e-3   # the policy did change
    # step-function cumulative: each unevaluated episode is charged the last evaluated one
    x = np.repeat(tr.pseudo_regret[:, ::3], 3, axis=1)[:, :K]
    np.testing.assert_allclose(tr.cumulative(), np.cumsum(x, axis=1))
    assert not tr.exact


def test_policy_table_is_validated():
    mdp = small_mdp(S=4, A=2, H=5)

    class Bad(Oracle):
        def __init__(self, table):
            self.table = np.asarray(table)

        def act(self, h, s):
            return 0

    with pytest.raises(ValueError, match=r"shape \(H, S\) = \(5, 4\)"):
        run(Bad(np.zeros((4, 5), dtype=np.int64)), mdp, 2, 1)
    with pytest.raises(ValueError, match=r"pi\[h=1, s=2\] = 7"):
        t = np.zeros((5, 4), dtype=np.int64)
        t[1, 2] = 7
        run(Bad(t), mdp, 2, 1)
    with pytest.raises(ValueError, match=r"row pi\[h=0, s=3\] sums to 0.9"):
        p = np.full((5, 4, 2), 0.5)
        p[0, 3] = [0.5, 0.4]
        run(Bad(p), mdp, 2, 1)
    with pytest.raises(ValueError, match=r"pi\[h=2, s=0, a=1\] = -0.5"):
        p = np.full((5, 4, 2), 0.5)
        p[2, 0] = [1.5, -0.5]
        run(Bad(p), mdp, 2, 1)


def test_policy_is_copied_before_the_episode():
    # a learner that overwrites its table in place during the episode: the engine checks the
    # actions against (and evaluates) the table as it was at the start of the episode
    mdp = small_mdp(S=3, A=2, H=3, stage=True)

    class Mutating(Oracle):
        def observe(self, h, s, a, r, s2):
            self.table[:] = 1 - self.table

    pi = _plain_optimal_policy(mdp)
    with pytest.raises(RuntimeError, match="act"):
        run(Mutating(pi.copy()), mdp, 3, 1)


def test_trace_records_mdp_measures():
    # deterministic chain, two actions, reward 1 at the right end: closed-form measures
    S, H = 3, 4
    P = np.zeros((S, 2, S))
    for s in range(S):
        P[s, 0, max(s - 1, 0)] = 1.0
        P[s, 1, min(s + 1, S - 1)] = 1.0
    R = np.zeros((S, 2))
    R[S - 1, 1] = 1.0
    mdp = m.EpisodicMDP(P, R, H, 0)
    tr = run(UniformRandom(), mdp, 3, 1)
    ms = tr.measures
    assert ms["v_star"] == tr.v_star == 2.0            # right, right, then 1 + 1
    assert ms["deterministic"] and ms["stationary"]
    assert ms["max_step_variance"] == 0.0 and ms["optimal_return_variance"] == 0.0
    assert ms["max_total_reward"] == 2.0
    assert ms["min_gap"] == pytest.approx(1.0)        # e.g. (h=H-1, s=S-1): 1 - 0
    assert run(UniformRandom(), mdp, 3, 1, measures=False).measures == {}
    noisy = small_mdp(S=3, A=2, H=3, noise="bernoulli")
    mn = run(UniformRandom(), noisy, 2, 1).measures
    assert not mn["deterministic"] and mn["max_step_variance"] > 0


def test_progress_bar_runs(capsys):
    mdp = small_mdp()
    a = run(UCBVI("hoeffding", bonus_scale=0.05), mdp, 20, 2, progress=True)
    b = run(UCBVI("hoeffding", bonus_scale=0.05), mdp, 20, 2, progress=False)
    assert np.array_equal(a.returns, b.returns)
    c = run(UniformRandom(), mdp, 20, 1, backend="python", progress=True)
    assert c.backend == "python"


def test_serial_equals_parallel_and_same_seed():
    mdp = small_mdp(seed=2, noise="bernoulli")
    L = UCBVI("hoeffding", bonus_scale=0.05)
    a = run(L, mdp, 300, [0, 1, 2, 7], workers=1)
    b = run(L, mdp, 300, [0, 1, 2, 7], workers=2)
    c = run(L, mdp, 300, [7], workers=1)
    assert np.array_equal(a.pseudo_regret, b.pseudo_regret)
    assert np.array_equal(a.returns, b.returns)
    assert np.array_equal(a.returns[3], c.returns[0])
    assert not np.array_equal(a.returns[0], a.returns[1])
    assert a.seeds == (0, 1, 2, 7) and a.pseudo_regret.shape == (4, 300)
    assert run(L, mdp, 10, 3).seeds == (0, 1, 2)


def test_eval_every_stride():
    mdp = small_mdp(seed=4)
    L = UCBVI("bernstein", bonus_scale=0.1)
    full = run(L, mdp, 100, 1)
    sub = run(L, mdp, 100, 1, eval_every=7)
    ev = np.arange(100) % 7 == 0
    assert np.array_equal(full.returns, sub.returns)
    assert np.array_equal(full.pseudo_regret[:, ev], sub.pseudo_regret[:, ev])
    assert np.isnan(sub.pseudo_regret[:, ~ev]).all()
    assert not sub.exact and sub.cumulative().shape == (1, 100)
    off = run(L, mdp, 20, 1, eval_every=0)
    assert np.isnan(off.pseudo_regret).all()


def test_cumulative_and_quantiles():
    mdp = small_mdp(seed=5)
    tr = run(UCBVI("hoeffding", bonus_scale=0.1), mdp, 50, 3)
    np.testing.assert_allclose(tr.cumulative()[:, -1], tr.pseudo_regret.sum(axis=1))
    q = tr.quantiles([0.0, 1.0])
    np.testing.assert_allclose(q[1], tr.cumulative().max(axis=0))


def test_act_must_follow_policy():
    mdp = small_mdp(A=2)
    pi = m.solve(mdp).policy
    with pytest.raises(RuntimeError, match="act"):
        run(Liar(pi), mdp, 3, 1)


def test_input_errors():
    mdp = small_mdp()
    disc = m.DiscountedMDP(np.asarray(mdp.P), np.asarray(mdp.R), 0.9)
    with pytest.raises(TypeError, match="EpisodicMDP"):
        run(UniformRandom(), disc, 10, 1)
    with pytest.raises(ValueError, match="episodes"):
        run(UniformRandom(), mdp, 0, 1)
    with pytest.raises(ValueError, match="seeds"):
        run(UniformRandom(), mdp, 5, [])
    with pytest.raises(ValueError, match="eval_every"):
        run(UniformRandom(), mdp, 5, 1, eval_every=-1)
    with pytest.raises(ValueError, match="backend"):
        run(UniformRandom(), mdp, 5, 1, backend="gpu")
    with pytest.raises(ValueError, match="no compiled loop"):
        run(Oracle(np.zeros((5, 4), dtype=np.int64)), mdp, 5, 1, backend="compiled")


def test_normalisation_checks():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(3, 2))
    big = m.EpisodicMDP(P, np.full((3, 2), 1.5), 4, 0)
    with pytest.raises(ValueError, match=r"N1.*h=0, s=0, a=0.*1.5"):
        run(UCBVI(), big, 5, 1)
    gauss = m.EpisodicMDP(P, np.full((3, 2), 0.5), 4, 0, reward_noise="gaussian", reward_std=0.1)
    with pytest.raises(ValueError, match="Gaussian"):
        run(UCBVI(), gauss, 5, 1)
    # the baselines make no assumption
    run(UniformRandom(), gauss, 5, 1)
    # N2: total over an episode; 4 steps of 0.3 can reach 1.2 > 1
    from mdptheory.learners.base import check_normalization, max_total_reward
    small = m.EpisodicMDP(P, np.full((3, 2), 0.3), 4, 0)
    assert max_total_reward(small) == pytest.approx(1.2)
    with pytest.raises(ValueError, match="N2.*1.2"):
        check_normalization(small, "N2")
    check_normalization(small, "N3")
    check_normalization(m.EpisodicMDP(P, np.full((3, 2), 0.25), 4, 0), "N2")


def test_categorical_twin_and_law():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    r1, r2 = seed_rng(11), seed_rng(11)
    a = [ks.categorical(r1, p) for _ in range(20000)]
    b = [ks.categorical_ref(r2, p) for _ in range(20000)]
    assert a == b
    freq = np.bincount(a, minlength=4) / len(a)
    # binomial 5-sigma bands around the probabilities (independent of the sampler)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / len(a)) + 1e-12)
    assert freq[1] == 0.0


def test_env_step_twin_and_evaluators():
    rng0 = np.random.default_rng(9)
    P = rng0.dirichlet(np.ones(4), size=(3, 4, 2))
    R = rng0.uniform(size=(3, 4, 2))
    mdp = m.EpisodicMDP(P, R, 3, 0, reward_noise="gaussian", reward_std=0.5)
    Pa, Ra, init, noise, std = env_arrays(mdp)
    r1, r2 = seed_rng(3), seed_rng(3)
    for i in range(200):
        h, s, a = i % 3, i % 4, i % 2
        assert ks.env_step(r1, Pa, Ra, noise, std, h, s, a) == ks.env_step_ref(r2, Pa, Ra, noise, std, h, s, a)
    pi = rng0.integers(0, 2, size=(3, 4)).astype(np.int64)
    ref = float(mdp.initial @ m.evaluate(mdp, pi)[0])
    assert ks.value_det(Pa, Ra, init, pi, np.empty((4, 4))) == pytest.approx(ref, abs=1e-12)
    assert ks.value_det_ref(Pa, Ra, init, pi) == pytest.approx(ref, abs=1e-12)
    probs = rng0.dirichlet(np.ones(2), size=(3, 4))
    ref2 = float(mdp.initial @ m.evaluate(mdp, probs)[0])
    assert ks.value_stoch(Pa, Ra, init, probs, np.empty((4, 4))) == pytest.approx(ref2, abs=1e-12)
    assert ks.value_stoch_ref(Pa, Ra, init, probs) == pytest.approx(ref2, abs=1e-12)


def test_plan_stationary_twin_matches_solver():
    rng0 = np.random.default_rng(2)
    P = rng0.dirichlet(np.ones(5), size=(5, 3))
    R = rng0.uniform(size=(5, 3))
    sol = m.solve(m.EpisodicMDP(P, R, 6, 0))
    V, Q, pi = np.empty((7, 5)), np.empty((6, 5, 3)), np.empty((6, 5), dtype=np.int64)
    ks.plan_stationary(P, R, 6, V, Q, pi)
    np.testing.assert_allclose(V, sol.V, atol=1e-12)
    V2, Q2, pi2 = ks.plan_stationary_ref(P, R, 6)
    np.testing.assert_allclose(Q2, sol.Q, atol=1e-12)
    assert np.array_equal(pi, sol.policy) and np.array_equal(pi2, sol.policy)


def test_greedy_and_recorder_kernels_against_twins():
    rng = np.random.default_rng(4)
    for _ in range(20):
        H, S, A = (int(x) for x in rng.integers(1, 6, size=3))
        Q = rng.integers(0, 3, size=(H, S, A)).astype(float)     # many exact ties
        pi = np.empty((H, S), dtype=np.int64)
        ks.greedy_policy(Q, pi)
        assert np.array_equal(pi, ks.greedy_policy_ref(Q))
        # ties go to the lowest action index, as in numpy.argmax
        first = np.array([[min(a for a in range(A) if Q[h, s, a] == Q[h, s].max()) for s in range(S)]
                          for h in range(H)])
        assert np.array_equal(pi, first)
        P = rng.dirichlet(np.ones(S), size=(H, S, A))
        R = rng.uniform(size=(H, S, A))
        init = rng.dirichlet(np.ones(S))
        probs = rng.dirichlet(np.ones(A), size=(H, S))
        out = np.full(3, np.nan)
        ks.record_regret_stoch(1, 1, P, R, init, 2.0, probs, np.empty((H + 1, S)), out)
        assert out[1] == pytest.approx(2.0 - ks.value_stoch_ref(P, R, init, probs), abs=1e-12)
        ks.record_regret_stoch(2, 3, P, R, init, 2.0, probs, np.empty((H + 1, S)), out)
        assert np.isnan(out[2]) and np.isnan(out[0])
    g1, g2 = seed_rng(5), seed_rng(5)
    for noise in (0, 1, 2):
        for mean in (0.0, 0.3, 1.0):
            assert ks.draw_reward(g1, mean, noise, 0.7) == ks.draw_reward_ref(g2, mean, noise, 0.7)

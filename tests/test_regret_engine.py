"""Engine: exact pseudo-regret accounting, reproducibility, input checks, kernel twins."""

import numpy as np
import pytest

import mdptheory as m
from mdptheory.kernels import sampling as ks
from mdptheory.learners import UCBVI, Learner, UniformRandom
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


def test_oracle_has_zero_pseudo_regret():
    mdp = small_mdp(stage=True)
    sol = m.solve(mdp)
    tr = run(Oracle(sol.policy), mdp, 50, 3)
    assert tr.backend == "python"
    np.testing.assert_allclose(tr.pseudo_regret, 0.0, atol=1e-12)
    assert tr.v_star == pytest.approx(float(mdp.initial @ sol.V[0]), abs=1e-12)


@pytest.mark.parametrize("stage", [False, True])
@pytest.mark.parametrize("backend", ["compiled", "python"])
def test_uniform_closed_form(stage, backend):
    mdp = small_mdp(S=5, A=3, H=4, stage=stage, seed=3)
    H, S, A = 4, 5, 3
    v_unif = float(mdp.initial @ m.evaluate(mdp, np.full((H, S, A), 1.0 / A))[0])
    v_star = float(mdp.initial @ m.solve(mdp).V[0])
    tr = run(UniformRandom(), mdp, 30, 2, backend=backend)
    np.testing.assert_allclose(tr.pseudo_regret, v_star - v_unif, rtol=0, atol=1e-12)


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

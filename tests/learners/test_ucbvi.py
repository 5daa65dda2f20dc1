"""UCBVI: compiled loop == plain-Python twin, the paper's bonus by hand, optimism and
monotonicity in theory mode, the explicit Theorem 1 bound on every seed."""

import math

import numpy as np
import pytest

import mdptheory as m
from mdptheory.learners import UCBVI
from mdptheory.regret import run, seed_rng


def mdp_small(seed=0, S=3, A=2, H=4, noise="bernoulli"):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S) * 0.7, size=(S, A))
    R = rng.uniform(size=(S, A))
    return m.EpisodicMDP(P, R, H, np.ones(S) / S, reward_noise=noise)


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
@pytest.mark.parametrize("cap", ["H", "remaining"])
@pytest.mark.parametrize("scale", [1.0, 0.005])
def test_compiled_equals_python(bonus, cap, scale):
    mdp = mdp_small(seed=1)
    L = UCBVI(bonus, bonus_scale=scale, cap=cap)
    a = run(L, mdp, 150, [0, 5], backend="compiled")
    b = run(L, mdp, 150, [0, 5], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    if scale < 1:
        assert a.pseudo_regret[:, 1:].std() > 0  # the policy actually changes


def drive(L, mdp, K, seed=0):
    """Run the teaching protocol by hand and yield the learner after each plan."""
    L.prepare(mdp, K)
    rng = seed_rng(seed)
    L.reset(mdp.S, mdp.A, mdp.H, rng)
    P, R = mdp.P_by_stage(), mdp.R_by_stage()
    for k in range(K):
        L.begin_episode(k)
        yield L
        s = int(rng.choice(mdp.S, p=mdp.initial))
        for h in range(mdp.H):
            a = L.act(h, s)
            s2 = int(rng.choice(mdp.S, p=P[h, s, a]))
            L.observe(h, s, a, float(R[h, s, a]), s2)
            s = s2
        L.end_episode()


def test_last_stage_hoeffding_bonus_by_hand():
    mdp = mdp_small(seed=2, noise="deterministic")
    K, H, S, A = 60, 4, 3, 2
    L = UCBVI("hoeffding", delta=0.1)
    for k, lrn in enumerate(drive(L, mdp, K)):
        if k == K - 1:
            n = lrn._n
            Lg = math.log(5 * S * A * K * H / 0.1)
            # V_H = 0, so Q_{H-1} = min(Qprev, H, r + 7 H L / sqrt(n)) and Qprev >= this
            expect = np.where(n > 0, np.minimum(H, mdp.R + 7 * H * Lg / np.sqrt(np.maximum(n, 1))), H)
            np.testing.assert_allclose(lrn._Q[H - 1], expect, atol=1e-12)


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
def test_optimism_and_monotonicity_theory_mode(bonus):
    mdp = mdp_small(seed=3)
    Vstar = m.solve(mdp).V
    prev = None
    for lrn in drive(UCBVI(bonus), mdp, 300, seed=4):
        assert np.all(lrn._V >= Vstar - 1e-12)
        if prev is not None:
            assert np.all(lrn._Q <= prev + 1e-12)
        prev = lrn._Q.copy()


def test_ucbvi_ch_below_theorem1_bound_on_every_seed():
    """Theorem 1 (explicit constants, w.p. >= 1 - delta): Regret(K) <= 20 H L' sqrt(SAT)
    + 250 H^2 S^2 A L'^2 for the run's K, on every one of 8 seeds, in theory mode.

    The bound is vacuous (> H K, the largest possible regret) on every instance with real
    dynamics at any feasible K: 250 H^2 S^2 A L'^2 alone is about 4e6 for S = A = H = 2.
    It bites on a two-context bandit (S = 2 contexts drawn uniformly, A = 2, H = 1) at
    K = 1e7, where it is *below* the regret of uniform random, computed here in closed form:
    a learner that does not learn fails this test."""
    P = np.full((2, 2, 2), 0.5)
    R = np.array([[1.0, 0.0], [0.1, 0.95]])
    mdp = m.EpisodicMDP(P, R, 1, np.array([0.5, 0.5]))
    K, delta = 10_000_000, 0.05
    L = UCBVI("hoeffding", delta=delta)
    bound = float(L.bound(2, 2, 1, K, delta))
    T = K * 1
    Lp = math.log(5 * 1 * 2 * 2 * T / delta)
    assert bound == pytest.approx(20 * Lp * math.sqrt(4 * T) + 250 * 4 * 2 * Lp ** 2, rel=1e-12)
    uniform_regret = K * 0.5 * ((1.0 - 0.5) + (0.95 - 0.525))   # K * E_s[max_a r - mean_a r]
    assert bound < uniform_regret < K                              # the check has teeth
    tr = run(L, mdp, K, 8, progress=False)
    final = tr.cumulative()[:, -1]
    assert np.all(final <= bound), (final, bound)
    assert np.all(tr.pseudo_regret >= -1e-12)
    assert np.ptp(final) > 0                                       # the seeds really differ


def test_ucbvi_bounds_are_vacuous_on_small_mdps_at_feasible_k():
    # documents why the check above runs on a contextual bandit: on S = 3, A = 2, H = 3 even
    # K = 1e7 gives a bound above H K (the regret of any algorithm is at most H K)
    for bonus in ("hoeffding", "bernstein"):
        b = UCBVI(bonus).bound(3, 2, 3, 1e7, 0.05)
        assert float(b) > 3 * 1e7


def test_ucbvi_learns_with_tuned_bonus():
    mdp = mdp_small(seed=5, S=3, A=2, H=3)
    tr = run(UCBVI("bernstein", bonus_scale=0.05), mdp, 3000, 2)
    assert tr.pseudo_regret[:, -500:].mean() < 0.05 * tr.pseudo_regret[:, :20].mean() + 1e-9


def test_ucbvi_rejects_bad_input():
    with pytest.raises(ValueError, match="bonus.*'foo'"):
        UCBVI("foo")
    with pytest.raises(ValueError, match="bonus_scale.*-0.5"):
        UCBVI(bonus_scale=-0.5)
    with pytest.raises(TypeError, match="bonus_scale.*True"):
        UCBVI(bonus_scale=True)
    with pytest.raises(ValueError, match="delta.*1.5"):
        UCBVI(delta=1.5)
    with pytest.raises(TypeError, match="delta.*True"):
        UCBVI(delta=True)
    with pytest.raises(ValueError, match="cap.*'x'"):
        UCBVI(cap="x")
    with pytest.raises(TypeError):
        UCBVI("hoeffding", 0.1)                 # everything but the variant is keyword-only
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(4, 3, 2))
    stage = m.EpisodicMDP(P, rng.uniform(size=(3, 2)), 4, 0)
    with pytest.raises(ValueError, match="HOM"):
        run(UCBVI(), stage, 5, 1)


def test_ucbvi_defaults_and_zero_bonus():
    L = UCBVI()
    assert (L.bonus, L.delta, L.bonus_scale, L.cap) == ("bernstein", 0.01, 1.0, "H")
    assert UCBVI(bonus_scale=0).bonus_scale == 0.0          # no bonus: plan on the empirical model
    mdp = mdp_small(seed=1)
    a = run(UCBVI("hoeffding", bonus_scale=0.0), mdp, 50, [0], backend="compiled")
    b = run(UCBVI("hoeffding", bonus_scale=0.0), mdp, 50, [0], backend="python")
    assert np.array_equal(a.returns, b.returns)


def test_ucbvi_checks_n1_against_the_mdp():
    # N1: a per-step reward of 1.5 at (h=0, s=1, a=0) is named in the error
    R = np.zeros((2, 2))
    R[1, 0] = 1.5
    mdp = m.EpisodicMDP(np.ones((2, 2, 2)) / 2, R, 3, 0)
    with pytest.raises(ValueError, match=r"N1.*s=1, a=0.*1\.5"):
        run(UCBVI(), mdp, 2, 1)
    with pytest.raises(ValueError, match="N1.*-0.25"):
        run(UCBVI(), mdp.replace(R=-np.full((2, 2), 0.25)), 2, 1)
    # Gaussian rewards are unbounded: rejected
    g = m.EpisodicMDP(np.ones((2, 2, 2)) / 2, np.full((2, 2), 0.5), 3, 0, reward_noise="gaussian", reward_std=0.1)
    with pytest.raises(ValueError, match="Gaussian"):
        run(UCBVI(), g, 2, 1)


def test_plan_ref_returns_a_plan_that_unpacks():
    from mdptheory.learners.ucbvi import UCBVIPlan, ucbvi_plan_ref
    S, A, H = 2, 2, 3
    plan = ucbvi_plan_ref(np.zeros((S, A, S)), np.zeros((S, A)), np.zeros((H + 1, S)), np.zeros((1, S, A)),
                          H, "hoeffding", 1.0, 5.0, 1.0, np.full((H, S, A), float(H)))
    assert isinstance(plan, UCBVIPlan)
    Q, V, pi = plan
    assert np.all(Q == H) and np.all(plan.pi == 0) and V.shape == (H + 1, S)


def test_last_stage_bernstein_bonus_has_the_final_state_term():
    """At the last stage V_{H+1} = 0, so the BF bonus is 14 H L / (3 n) plus the third term
    sqrt(8 sum_y P^(y) min(1e4 H^3 S^2 A L^2 / N'_{H+1}(y), H^2) / n), with N'_{H+1}(y) the
    earlier visits of y as an episode's final state (Azar et al. 2017, Alg. 4); Q is the
    running min of these backups over episodes (Alg. 2), capped at H."""
    mdp = mdp_small(seed=2, noise="deterministic")
    K, H, S, A = 60, 4, 3, 2
    Lg = math.log(5 * S * A * K * H / 0.1)
    L = UCBVI("bernstein", delta=0.1, bonus_scale=0.05)   # theory mode stays at the cap for K = 60
    running = np.full((S, A), float(H))
    below = False
    for k, lrn in enumerate(drive(L, mdp, K)):
        n, N, mfinal = lrn._n, lrn._N, lrn._m[H]
        assert mfinal.sum() == k                               # one final state per finished episode
        for x in range(S):
            for a in range(A):
                if n[x, a] == 0:
                    continue
                third = sum(N[x, a, y] / n[x, a] * (H * H if mfinal[y] == 0 else
                                                    min(1e4 * H ** 3 * S ** 2 * A * Lg ** 2 / mfinal[y], H * H))
                            for y in range(S))
                fresh = mdp.R[x, a] + 0.05 * (14 * H * Lg / (3 * n[x, a]) + math.sqrt(8 * third / n[x, a]))
                running[x, a] = min(running[x, a], H, fresh)
                below |= fresh < H
        np.testing.assert_allclose(lrn._Q[H - 1], running, rtol=0, atol=1e-12)
    assert below                                               # the formula is exercised below the cap


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
@pytest.mark.parametrize("cap", ["H", "remaining"])
def test_compiled_plan_equals_plain_twin(bonus, cap):
    """``ucbvi_plan`` (loops over observed successors, in place) against ``ucbvi_plan_ref``
    (vectorised numpy) on random counts, stage-dependent known rewards and a previous Q."""
    from mdptheory.learners.ucbvi import ucbvi_plan, ucbvi_plan_ref
    rng = np.random.default_rng(7)
    S, A, H = 5, 3, 4
    N = rng.integers(0, 4, size=(S, A, S)) * (rng.random((S, A, S)) < 0.6)
    N[0, 0] = 0                                              # an unvisited pair
    N = N.astype(float)
    n = N.sum(axis=2)
    m = rng.integers(0, 5, size=(H + 1, S)).astype(float)
    Rk = rng.random((H, S, A))
    L = 3.0
    c3 = 1e4 * H ** 3 * S ** 2 * A * L ** 2 * 1e-7           # small enough that min(c3/m, H^2) switches
    Qprev = np.full((H, S, A), float(H)) if cap == "H" else np.repeat(
        (H - np.arange(H, dtype=float))[:, None, None], S * A, axis=1).reshape(H, S, A)
    Qprev = Qprev - 0.3 * rng.random((H, S, A))             # the running min binds somewhere
    succ = np.zeros((S, A, S), dtype=np.int64)
    nsucc = np.zeros((S, A), dtype=np.int64)
    for x in range(S):
        for a in range(A):
            ys = np.flatnonzero(N[x, a])[::-1]               # any order of the observed successors
            succ[x, a, :ys.size] = ys
            nsucc[x, a] = ys.size
    ref = ucbvi_plan_ref(N, n, m, Rk, H, bonus, 0.01, L, c3, Qprev, cap)
    Qp = Qprev.copy()
    Q, V, pi = np.empty((H, S, A)), np.empty((H + 1, S)), np.empty((H, S), dtype=np.int64)
    ucbvi_plan(N, n, m, Rk, H, {"hoeffding": 0, "bernstein": 1}[bonus], 0.01, L, c3,
               {"H": 0, "remaining": 1}[cap], succ, nsucc, Qp, Q, V, pi)
    np.testing.assert_allclose(Q, ref.Q, rtol=0, atol=1e-12)
    np.testing.assert_allclose(V, ref.V, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(Qp, Q)                     # Qprev <- Q
    np.testing.assert_array_equal(pi, ref.pi)
    vis = n > 0
    caps = np.full(H, float(H)) if cap == "H" else H - np.arange(H, dtype=float)
    assert np.all(Q[:, ~vis] == caps[:, None])               # unvisited: the cap
    assert np.any(Q[:, vis] == Qprev[:, vis]) and np.any(Q[:, vis] < Qprev[:, vis] - 1e-9)

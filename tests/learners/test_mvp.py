"""MVP (Zhang, Ji & Du 2021; Zhang, Chen, Lee & Du 2024): compiled loop == plain-Python
reference step for step; bonus / batch / trigger rules against values computed here from the
paper's formulas; the compiled plan against its vectorised twin (RiverSwim regret:
tests/regret/test_riverswim_regret.py)."""

import math

import numpy as np
import pytest

from mdptheory.core import EpisodicMDP
from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import MVP, VarianceMVP
from mdptheory.learners.mvp import mvp_plan, mvp_plan_ref
from mdptheory.regret.engine import run


@pytest.mark.parametrize("variant,stage,bs", [("2021", False, 0.05), ("2021", False, 1.0),
                                              ("2024", True, 0.002), ("2024", False, 0.002)])
def test_compiled_equals_reference_step_for_step(variant, stage, bs, random_episodic):
    H = 5
    if variant == "2021":
        mdp = random_episodic(4, 3, H, stage=stage, reward_scale=1.0 / H)
    else:
        mdp = random_episodic(4, 3, H, stage=stage, noise="bernoulli")
    L = MVP(variant, bonus_scale=bs)
    a = run(L, mdp, 300, seeds=[7], backend="python", progress=False)
    b = run(L, mdp, 300, seeds=[7], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    if bs < 1:
        assert np.ptp(a.pseudo_regret) > 0  # the policy actually changed during the run


@pytest.mark.parametrize("Hm,reward_var", [(1, 1), (1, 0), (5, 1), (5, 0)])
def test_compiled_plan_equals_vectorised_twin(Hm, reward_var):
    """mvp_plan (one (h, s, a) at a time) == mvp_plan_ref (numpy over (s, a)) on random
    models, including never-visited pairs (n = 0, uniform P^) and the cap G."""
    rng = np.random.default_rng(Hm + 10 * reward_var)
    H, S, A, G = 5, 4, 3, 5.0
    n = rng.integers(0, 9, size=(Hm, S, A))
    rhat = rng.uniform(size=(Hm, S, A))
    sighat = rhat ** 2 + rng.uniform(0, 0.2, size=(Hm, S, A))
    Phat = rng.dirichlet(np.ones(S), size=(Hm, S, A))
    Phat[n == 0] = 1.0 / S
    out = []
    for plan in (mvp_plan, mvp_plan_ref):
        Q, V = np.full((H, S, A), np.nan), np.full((H + 1, S), np.nan)
        plan(Q, V, n, rhat, sighat, Phat, G, 0.01, 460 / 9, 2 * math.sqrt(2), 544 / 9, 3.0, reward_var)
        out.append((Q, V))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-13, atol=1e-13)
    assert np.all(out[0][0] <= G) and np.any(out[0][0] < G) and np.any(out[0][0] == G)


def test_bonus_and_plan_match_paper_formula():
    """One (s, a) observed 4 times in a 2-state, 1-action, H=1 problem: Q equals
    min(r_hat + b, G) with the 2024 bonus written out here (latest batch = samples 3, 4)."""
    L = MVP("2024", delta=0.1)
    L._K = 10
    L.reset(2, 1, 1)
    samples = [(0.2, 0), (0.4, 1), (0.9, 1), (0.1, 0)]
    for k, (r, s2) in enumerate(samples):
        L.begin_episode(k)
        L.observe(0, 0, 0, r, s2)
        L.end_episode()
    # batch {3, 4}: rewards 0.9, 0.1
    n = 2
    rhat = 0.5
    rvar = (0.81 + 0.01) / 2 - 0.25
    iota = math.log(200 * 2 * 1 * 1 * 10 ** 2 / 0.1)
    G = 1.0  # N3 with H = 1
    b = 460 / 9 * 0 + 2 * math.sqrt(2) * math.sqrt(rvar * iota / n) + 544 / 9 * G * iota / n
    assert L._Q[0, 0, 0] == pytest.approx(min(rhat + b, G))
    np.testing.assert_allclose(L._Phat[0, 0, 0], [0.5, 0.5])
    # the 2021 estimator uses all 4 samples
    L2 = MVP("2021", delta=0.1)
    L2._K = 10
    L2.reset(2, 1, 1)
    for k, (r, s2) in enumerate(samples):
        L2.begin_episode(k)
        L2.observe(0, 0, 0, r, s2)
        L2.end_episode()
    assert L2._rhat[0, 0, 0] == pytest.approx(0.4)
    np.testing.assert_allclose(L2._Phat[0, 0, 0], [0.5, 0.5])


def test_replans_at_most_doubling_count(random_episodic):
    """Lemma (both papers): each counter triggers at most floor(log2 N)+1 times, so the number
    of replans is at most SA(log2(KH)+1) (homogeneous) and SAH(log2 K+1) (stage-dependent)."""
    H, K = 5, 400
    mdp = random_episodic(4, 3, H, reward_scale=1.0 / H)
    for variant in ("2021", "2024"):
        L = MVP(variant, bonus_scale=0.05)
        run(L, mdp, K, seeds=[1], backend="python", progress=False)
        S, A = mdp.S, mdp.A
        cap = S * A * (math.log2(K * H) + 1) if variant == "2021" else S * A * H * (math.log2(K) + 1)
        assert 0 < L._replans <= cap


def test_normalisation_checked():
    mdp = riverswim(6, horizon=20)  # per-step rewards up to 1: total up to 20 > 1
    with pytest.raises(ValueError, match="N2"):
        run(MVP(), mdp, 2, seeds=1)
    run(MVP("2024"), mdp, 2, seeds=1, progress=False)  # N3 holds
    with pytest.raises(ValueError, match="variant"):
        MVP("2022")
    with pytest.raises(ValueError, match="delta"):
        MVP(delta=1.5)
    with pytest.raises(ValueError, match="bonus_scale"):
        MVP(bonus_scale=-1)


def test_bound_shapes():
    b21 = MVP().bound(6, 2, 20, np.array([10.0, 1000.0]), 0.01)
    assert b21.normalization == "N2" and b21.setting == "HOM" and not b21.explicit_constants
    assert np.all(np.diff(b21.value) > 0)
    b24 = MVP("2024").bound(6, 2, 20, 10.0, 0.01)
    # the raw bound (sqrt(SAH^3K) iota) is reported with the trivial cap HK beside it
    assert b24.trivial_cap == 20 * 10 and b24.vacuous and b24.capped == 20 * 10
    assert float(b24) == pytest.approx(np.sqrt(6 * 2 * 20 ** 3 * 10) * np.log(200 * 6 * 2 * 20 ** 2 * 100 / 0.01))


@pytest.mark.parametrize("variant", ["2021", "2024"])
def test_serial_equals_parallel_and_rerun(variant, random_episodic):
    H = 4
    if variant == "2021":
        mdp = random_episodic(4, 3, H, reward_scale=1.0 / H)
    else:
        mdp = random_episodic(4, 3, H, stage=True, noise="bernoulli")
    L = MVP(variant, bonus_scale=0.01)
    one = run(L, mdp, 150, seeds=[0, 3, 4], workers=1, progress=False)
    two = run(L, mdp, 150, seeds=[0, 3, 4], workers=2, progress=False)
    again = run(L, mdp, 150, seeds=[4], workers=1, progress=False)
    assert np.array_equal(one.returns, two.returns)
    assert np.array_equal(one.pseudo_regret, two.pseudo_regret)
    assert np.array_equal(one.pseudo_regret[2], again.pseudo_regret[0])
    assert not np.array_equal(one.returns[0], one.returns[1])


def test_normalisation_error_names_the_total(random_episodic):
    # N2 with total reward 4 * 0.5 = 2 > 1: the message gives the maximal episode total
    mdp = random_episodic(4, 3, 4).replace(R=np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match=r"N2.*total reward of 2\.0 > 1.*H = 4"):
        run(MVP(), mdp, 2, seeds=1)
    # the exact almost-sure total, not H * max r: a reward of 1 reachable once per episode is N2
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = 1.0
    P[1, 0, 1] = 1.0
    R = np.array([[1.0], [0.0]])
    run(MVP(), EpisodicMDP(P, R, 5, 0), 3, seeds=1, progress=False)
    # N3 (2024): totals above H are rejected
    with pytest.raises(ValueError, match=r"N3.*> 4"):
        run(MVP("2024"), random_episodic(4, 3, 4).replace(R=np.full((4, 3), 1.5)), 2, seeds=1)
    with pytest.raises(ValueError, match="normalization.*'N1'"):
        MVP(normalization="N1")
    with pytest.raises(ValueError, match="reward_bonus.*'x'"):
        MVP(reward_bonus="x")
    with pytest.raises(ValueError, match="model_batch.*'x'"):
        MVP(model_batch="x")
    with pytest.raises(TypeError, match="stationary.*1"):
        MVP(stationary=1)
    with pytest.raises(TypeError, match="delta"):
        MVP(delta=True)
    with pytest.raises(TypeError, match="bonus_scale"):
        MVP(bonus_scale="1")
    MVP(bonus_scale=0)                         # zero switches the bonus off
    with pytest.raises(TypeError):
        MVP("2021", 0.01)                      # everything but the variant is keyword-only


def test_bound_uses_the_learner_delta_by_default():
    L = MVP(delta=0.2)
    a = L.bound(6, 2, 20, 1000.0)
    b = L.bound(6, 2, 20, 1000.0, 0.2)
    assert float(a) == float(b) and a.holds_with_probability == pytest.approx(0.8)
    iota = math.log(200 * 6 * 2 * 400 * 1e6 / 0.2)
    assert float(a) == pytest.approx(math.sqrt(12 * 1000) * iota + 36 * 2 * iota ** 2, rel=1e-12)


@pytest.mark.parametrize("make", [lambda: MVP(), lambda: MVP("2021", stationary=True), lambda: VarianceMVP()])
def test_stationary_mvp_rejects_stage_dependent_mdp(make):
    """HOM pooling over stages would mix different laws: refused with a clear error, while the
    INHOM variant accepts the same model."""
    rng = np.random.default_rng(0)
    H, S, A = 3, 2, 2
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    R = rng.uniform(size=(H, S, A)) / H
    mdp = EpisodicMDP(P, R, H, 0)
    with pytest.raises(ValueError, match=r"assumes a time-homogeneous P and R \(HOM\)"):
        run(make(), mdp, 5, 1, progress=False)
    tr = run(MVP("2021", stationary=False), mdp, 5, 1, progress=False)
    assert tr.pseudo_regret.shape == (1, 5)

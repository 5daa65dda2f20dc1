"""Optimistic Q-learning (Jin et al. 2018): Lemma 4.1 step-size identities, the update rule
by hand, compiled loop == plain-Python twin."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mdptheory as m
from mdptheory.learners import OptimisticQLearning
from mdptheory.learners.optimistic_q import learning_rate, learning_rate_weights
from mdptheory.regret import run, seed_rng


@settings(max_examples=25, deadline=None)
@given(H=st.integers(1, 30), t=st.integers(1, 400))
def test_lemma_4_1_identities(H, t):
    w = learning_rate_weights(H, t)
    ai = w[1:]
    i = np.arange(1, t + 1)
    assert ai.sum() == pytest.approx(1.0, abs=1e-12)                     # (a) sum_i alpha_t^i = 1
    assert w[0] == pytest.approx(0.0, abs=1e-300)                         # alpha_t^0 = 0 for t >= 1
    assert ai.max() <= 2 * H / t + 1e-12                                  # (c) max <= 2H/t
    assert (ai ** 2).sum() <= 2 * H / t + 1e-12                           # (c) sum of squares <= 2H/t
    s = (ai / np.sqrt(i)).sum()
    assert 1 / math.sqrt(t) - 1e-12 <= s <= 2 / math.sqrt(t) + 1e-12     # (b)


@pytest.mark.parametrize("H", [1, 2, 5])
@pytest.mark.parametrize("i", [1, 3, 10])
def test_lemma_4_1_column_sum(H, i):
    # sum_{t >= i} alpha_t^i = 1 + 1/H; alpha_t^i = alpha_i prod_{j=i+1}^t (1 - alpha_j), whose
    # tail decays like t^{-(H+1)}: summing to t = 2e5 leaves < 1e-6
    t = np.arange(i + 1, 200_000, dtype=float)
    a_i = (H + 1.0) / (H + i)
    col = a_i * np.concatenate([[1.0], np.cumprod(1.0 - (H + 1.0) / (H + t))])
    # tail beyond 2e5 ~ (i/2e5)^H * (H+1)/H: 1e-4 suffices for H = 1, 2e-6 for H >= 2
    assert col.sum() == pytest.approx(1 + 1 / H, abs=1e-4 if H == 1 else 2e-6)
    # agrees with the weights helper at a finite t
    assert learning_rate_weights(H, 50)[i] == pytest.approx(col[50 - i], rel=1e-12)


def test_weights_reproduce_the_recursion():
    # run Q <- (1-a_t) Q + a_t x_t directly and compare with alpha_t^0 Q0 + sum alpha_t^i x_i
    H, t = 4, 37
    x = np.random.default_rng(0).uniform(size=t)
    Q = 7.0
    for j in range(1, t + 1):
        a = learning_rate(H, j)
        Q = (1 - a) * Q + a * x[j - 1]
    w = learning_rate_weights(H, t)
    assert Q == pytest.approx(w[0] * 7.0 + (w[1:] * x).sum(), abs=1e-12)
    assert learning_rate(H, 1) == 1.0


def test_first_visit_overwrites_and_hoeffding_bonus():
    L = OptimisticQLearning("hoeffding", delta=0.1, c=1.0)
    mdp = m.EpisodicMDP(np.ones((2, 2, 2)) / 2, np.full((2, 2), 0.3), 3, 0)
    L.prepare(mdp, 10)
    L.reset(2, 2, 3, seed_rng(0))
    L.begin_episode(0)
    L.observe(0, 0, 1, 0.3, 1)
    iota = math.log(2 * 2 * 10 * 3 / 0.1)
    # alpha_1 = 1: Q = r + V_1(x') + c sqrt(H^3 iota / 1) with V_1 = H = 3 initially
    assert L._Q[0, 0, 1] == pytest.approx(0.3 + 3.0 + math.sqrt(27 * iota), abs=1e-12)
    assert L._V[0, 0] == 3.0  # capped at H


def mdp_small(seed=0, S=3, A=2, H=4):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    R = rng.uniform(size=(H, S, A))
    return m.EpisodicMDP(P, R, H, np.ones(S) / S, reward_noise="bernoulli")


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
@pytest.mark.parametrize("cap", ["H", "remaining"])
def test_compiled_equals_python(bonus, cap):
    mdp = mdp_small(seed=1)
    L = OptimisticQLearning(bonus, bonus_scale=0.05, cap=cap)
    a = run(L, mdp, 300, [1, 2], backend="compiled")
    b = run(L, mdp, 300, [1, 2], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    assert a.pseudo_regret.std() > 0


def test_optq_bound_and_errors():
    b = OptimisticQLearning("hoeffding").bound(4, 2, 5, 100, 0.1)
    T = 500
    assert float(b) == pytest.approx(math.sqrt(5**4 * 8 * T * math.log(8 * T / 0.1)) + 25 * 8)
    assert not b.explicit_constants and b.setting == "INHOM"
    with pytest.raises(ValueError, match="bonus"):
        OptimisticQLearning("x")
    with pytest.raises(ValueError, match="c1"):
        OptimisticQLearning(c1=-1)


def test_optq_rejects_bad_input_naming_the_value():
    with pytest.raises(ValueError, match="delta.*0"):
        OptimisticQLearning(delta=0)
    with pytest.raises(TypeError, match="delta.*True"):
        OptimisticQLearning(delta=True)
    with pytest.raises(ValueError, match="c2.*nan"):
        OptimisticQLearning(c2=float("nan"))
    with pytest.raises(TypeError, match="bonus_scale.*'1'"):
        OptimisticQLearning(bonus_scale="1")
    with pytest.raises(TypeError, match="c.*True"):
        OptimisticQLearning(c=True)
    with pytest.raises(ValueError, match="cap.*'x'"):
        OptimisticQLearning(cap="x")
    with pytest.raises(TypeError):
        OptimisticQLearning("hoeffding", 0.1)   # everything but the variant is keyword-only


def test_optq_defaults():
    L = OptimisticQLearning()
    assert (L.bonus, L.delta, L.c, L.c1, L.c2, L.bonus_scale, L.cap) == ("hoeffding", 0.01, 1.0, 1.0, 1.0, 1.0, "H")
    assert OptimisticQLearning(bonus_scale=0).bonus_scale == 0.0


def test_optq_checks_n1_against_the_mdp():
    R = np.full((3, 2, 2), 0.5)
    R[2, 1, 1] = 2.0                       # stage-dependent reward above 1 at (h=2, s=1, a=1)
    mdp = m.EpisodicMDP(np.ones((2, 2, 2)) / 2, R, 3, 0)
    with pytest.raises(ValueError, match=r"N1.*h=2, s=1, a=1.*2\.0"):
        run(OptimisticQLearning(), mdp, 2, 1)
    # Bernoulli rewards with means in [0, 1] emit 0/1 only: accepted
    run(OptimisticQLearning(), mdp.replace(R=np.full((3, 2, 2), 0.9), reward_noise="bernoulli"), 2, 1,
        progress=False)


def test_first_bernstein_update_by_hand():
    # t = 1: alpha_1 = 1, W_1 = 0, beta_1 = min(c1 (sqrt(H * H * iota) + sqrt(H^7 S A) iota),
    # c2 sqrt(H^3 iota)), b_1 = beta_1 / 2, Q = r + V_{h+1}(x') + b_1
    L = OptimisticQLearning("bernstein", delta=0.1, c1=0.01, c2=1.0)
    mdp = m.EpisodicMDP(np.ones((2, 2, 2)) / 2, np.full((2, 2), 0.3), 3, 0)
    L.prepare(mdp, 10)
    L.reset(2, 2, 3, seed_rng(0))
    L.begin_episode(0)
    L.observe(2, 1, 0, 0.3, 0)             # last stage: V_{H} = 0
    iota = math.log(2 * 2 * 10 * 3 / 0.1)
    beta = min(0.01 * (math.sqrt(3 * 3 * iota) + math.sqrt(3 ** 7 * 4) * iota), math.sqrt(27 * iota))
    assert L._Q[2, 1, 0] == pytest.approx(0.3 + beta / 2, rel=1e-12)
    # second visit: alpha_2 = 4/5, b_2 = (beta_2 - beta_1 / 5) / (8/5)
    L.observe(2, 1, 0, 0.3, 1)
    beta2 = min(0.01 * (math.sqrt(3 / 2 * 3 * iota) + math.sqrt(3 ** 7 * 4) * iota / 2), math.sqrt(27 * iota / 2))
    b2 = (beta2 - beta / 5) / (2 * 0.8)
    assert L._Q[2, 1, 0] == pytest.approx(0.2 * (0.3 + beta / 2) + 0.8 * (0.3 + b2), rel=1e-12)


def test_weights_helpers_validate_input():
    with pytest.raises(ValueError, match="t = -1 must be >= 0"):
        learning_rate_weights(3, -1)
    with pytest.raises(TypeError, match="t must be an integer, got 2.5"):
        learning_rate_weights(3, 2.5)
    with pytest.raises(ValueError, match="H = 0 must be >= 1"):
        learning_rate_weights(0, 3)
    with pytest.raises(TypeError, match="H must be an integer, got True"):
        learning_rate(True, 2)
    with pytest.raises(ValueError, match="visit counts t must be >= 1"):
        learning_rate(3, 0)
    assert learning_rate_weights(4, 0).tolist() == [1.0]     # alpha_0^0 = empty product

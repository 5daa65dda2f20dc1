"""Bit-identity invariants of the performance work (numba inlining of the sampling
helpers, the in-place inverse-CDF scan of ``env_step``, the 4-row ``value_det`` kernel, the
manually inlined optimistic Q-learning update and Q-EarlySettled's ``n ** 0.75`` table).

Every expectation comes from an independent twin: a plain-Python loop written here from the
definition (sequential sums, same order), the ``_ref`` samplers, or the teaching path of
the learner. Comparisons are exact (``==`` / ``array_equal``), not approximate.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mdptheory as m
from mdptheory.kernels import sampling as ks
from mdptheory.learners import (EpsilonGreedyQLearning, OptimisticQLearning, QEarlySettledAdvantage,
                                UCBAdvantage, UCBVI)
from mdptheory.envs.riverswim import riverswim
from mdptheory.regret import run


def _value_det_plain(P, R, initial, pi):
    """The definition, one state at a time, dot products summed in the order t = 0..S-1."""
    H, S = pi.shape
    V = [[0.0] * S for _ in range(H + 1)]
    for h in range(H - 1, -1, -1):
        Ph = P[h if P.shape[0] > 1 else 0]
        Rh = R[h if R.shape[0] > 1 else 0]
        for s in range(S):
            a = int(pi[h, s])
            acc = 0.0
            for t in range(S):
                acc += float(Ph[s, a, t]) * V[h + 1][t]
            V[h][s] = float(Rh[s, a]) + acc
    tot = 0.0
    for s in range(S):
        tot += float(initial[s]) * V[0][s]
    return tot, np.array(V)


def _sparse_kernel(rng, HP, S, A, zero_frac):
    P = rng.dirichlet(np.ones(S), size=(HP, S, A))
    P[rng.uniform(size=P.shape) < zero_frac] = 0.0
    P[..., 0] += 1e-3  # keep every row non-empty
    return P / P.sum(-1, keepdims=True)


@settings(max_examples=30, deadline=None)
@given(S=st.integers(1, 13), A=st.integers(1, 3), H=st.integers(1, 6), stationary=st.booleans(),
       stat_R=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_value_det_is_bitwise_the_plain_backward_induction(S, A, H, stationary, stat_R, seed):
    # the 4-state blocked kernel must reproduce the sequential definition bit for bit,
    # including the S % 4 remainder rows and negative rewards
    rng = np.random.default_rng(seed)
    P = _sparse_kernel(rng, 1 if stationary else H, S, A, 0.4)
    R = rng.normal(size=(1 if stat_R else H, S, A))
    init = rng.dirichlet(np.ones(S))
    pi = rng.integers(0, A, size=(H, S))
    V = np.empty((H + 1, S))
    got = ks.value_det(P, R, init, pi, V)
    want, Vwant = _value_det_plain(P, R, init, pi)
    assert got == want
    assert np.array_equal(V, Vwant)


@settings(max_examples=25, deadline=None)
@given(S=st.integers(1, 12), A=st.integers(1, 3), H=st.integers(1, 4), stationary=st.booleans(),
       noise=st.sampled_from([0, 1, 2]), seed=st.integers(0, 2**31 - 1))
def test_env_step_draws_equal_the_reference_scan(S, A, H, stationary, noise, seed):
    # the compiled env_step scans P's row in place; the _ref twin slices the row and uses
    # categorical_ref: same (reward, next state) sequence and same generator state
    rng = np.random.default_rng(seed)
    P = _sparse_kernel(rng, 1 if stationary else H, S, A, 0.5)
    R = rng.uniform(size=(1 if stationary else H, S, A))
    g1 = np.random.default_rng(seed + 1)
    g2 = np.random.default_rng(seed + 1)
    for _ in range(200):
        h, s, a = int(rng.integers(H)), int(rng.integers(S)), int(rng.integers(A))
        r1, s1 = ks.env_step(g1, P, R, noise, 0.5, h, s, a)
        r2, s2 = ks.env_step_ref(g2, P, R, noise, 0.5, h, s, a)
        assert (r1, s1) == (r2, s2)
    assert g1.random() == g2.random()


def test_env_step_round_off_tail_returns_last_positive_index():
    # a row whose mass sums to 0.6 < u: the scan must fall through to the last positive
    # entry (index 2), exactly as categorical_ref does
    P = np.array([[[[0.3, 0.0, 0.3, 0.0]]]])
    R = np.zeros((1, 1, 1))
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    seen = set()
    for _ in range(100):
        _, s1 = ks.env_step(g1, P, R, 0, 0.0, 0, 0, 0)
        seen.add(s1)
        assert s1 == ks.categorical_ref(g2, P[0, 0, 0])
    assert seen == {0, 2}


def _mdp(noise="bernoulli"):
    return riverswim(5, 7, reward_noise=noise)


@pytest.mark.parametrize("make", [
    lambda: OptimisticQLearning("hoeffding", bonus_scale=0.1),
    lambda: OptimisticQLearning("bernstein", bonus_scale=0.1, cap="remaining"),
    lambda: EpsilonGreedyQLearning(epsilon=0.3, decay=0.5),
    lambda: UCBAdvantage(bonus_scale=0.05),
    lambda: QEarlySettledAdvantage(bonus_scale=0.05),
], ids=["optq-hoeffding", "optq-bernstein", "eps-greedy", "ucb-advantage", "q-earlysettled"])
def test_compiled_loop_is_bitwise_the_teaching_path(make):
    mdp = _mdp()
    a = run(make(), mdp, 60, seeds=[0, 5], backend="python", progress=False)
    b = run(make(), mdp, 60, seeds=[0, 5], backend="compiled", workers=1, progress=False)
    assert np.array_equal(a.returns, b.returns)
    assert np.array_equal(a.pseudo_regret, b.pseudo_regret)


def test_q_earlysettled_pow_table_fallback_beyond_table():
    # counts above the 65536-entry n**0.75 table must use the direct pow. One state, two
    # near-tied actions (deterministic rewards 0.5 and 0.5 - 1e-9, so the return of an
    # episode reveals the action played), H = 1: the greedy choice keeps switching on the
    # last bits of the two Q-values, and both counts pass 65536 within K = 140000 episodes
    mdp = m.EpisodicMDP(np.ones((1, 2, 1)), np.array([[0.5, 0.5 - 1e-9]]), 1, 0)
    K = 140_000
    a = run(QEarlySettledAdvantage(bonus_scale=0.05), mdp, K, seeds=[1], backend="python",
            eval_every=0, progress=False)
    b = run(QEarlySettledAdvantage(bonus_scale=0.05), mdp, K, seeds=[1], backend="compiled",
            eval_every=0, progress=False)
    n_good = np.count_nonzero(a.returns == 0.5)
    assert min(n_good, K - n_good) > 65_536          # the table really is exceeded for both
    assert np.array_equal(a.returns, b.returns)


def test_two_workers_equal_one_worker_bitwise():
    mdp = _mdp("deterministic")
    for L in (UCBVI("bernstein", bonus_scale=0.1), OptimisticQLearning("hoeffding", bonus_scale=0.1)):
        one = run(L, mdp, 80, seeds=4, workers=1, progress=False)
        two = run(L, mdp, 80, seeds=4, workers=2, progress=False)
        assert np.array_equal(one.pseudo_regret, two.pseudo_regret)
        assert np.array_equal(one.returns, two.returns)


@settings(max_examples=25, deadline=None)
@given(S=st.integers(1, 9), A=st.integers(1, 3), H=st.integers(1, 6), stationary=st.booleans(),
       every=st.integers(1, 3), seed=st.integers(0, 2**31 - 1))
def test_incremental_regret_recorder_equals_full_evaluation(S, A, H, stationary, every, seed):
    # a sequence of policies, each differing from the previous one in a few random (h, s)
    # (sometimes none): the incremental recorder must store exactly v* - value_det(pi_k)
    rng = np.random.default_rng(seed)
    P = _sparse_kernel(rng, 1 if stationary else H, S, A, 0.4)
    R = rng.uniform(size=(1 if stationary else H, S, A))
    init = rng.dirichlet(np.ones(S))
    K = 40
    pi = rng.integers(0, A, size=(H, S))
    pi_prev = np.full((H, S), -1, dtype=np.int64)
    V = np.empty((H + 1, S))
    out = np.full(K, np.nan)
    want = np.full(K, np.nan)
    for k in range(K):
        for _ in range(int(rng.integers(0, 3))):
            pi[rng.integers(H), rng.integers(S)] = rng.integers(A)
        ks.record_regret_det_incremental(k, every, P, R, init, 1.5, pi, pi_prev, V, out)
        if k % every == 0:
            want[k] = 1.5 - _value_det_plain(P, R, init, pi)[0]
    assert np.array_equal(out, want, equal_nan=True)


@pytest.mark.parametrize("make", [
    lambda: UCBAdvantage(bonus_scale=0.05), lambda: QEarlySettledAdvantage(bonus_scale=0.05),
    lambda: m.learners.EULER(bonus_scale=0.1), lambda: m.learners.PSRL(),
    lambda: EpsilonGreedyQLearning(epsilon=0.3, decay=0.5), lambda: m.learners.CertaintyEquivalence(unvisited_value=7.0),
    lambda: m.learners.UniformRandom()],
    ids=["ucb-advantage", "q-earlysettled", "euler", "psrl", "eps-greedy", "ce", "uniform"])
def test_part_b_learners_serial_equals_parallel_and_rerun(make):
    mdp = _mdp()
    one = run(make(), mdp, 80, seeds=[0, 3, 4], workers=1, progress=False)
    two = run(make(), mdp, 80, seeds=[0, 3, 4], workers=2, progress=False)
    again = run(make(), mdp, 80, seeds=[4], workers=1, progress=False)
    assert np.array_equal(one.pseudo_regret, two.pseudo_regret)
    assert np.array_equal(one.returns, two.returns)
    assert np.array_equal(one.returns[2], again.returns[0])
    assert np.array_equal(one.pseudo_regret[2], again.pseudo_regret[0])
    assert not np.array_equal(one.returns[0], one.returns[1])

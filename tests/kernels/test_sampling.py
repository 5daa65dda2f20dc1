"""The shared per-episode helpers of the compiled loops (``mdptheory.kernels.sampling``):
``rollout_det`` == its plain twin draw for draw and == ``env_step`` called step by step;
``greedy_action`` == numpy's argmax (lowest action on ties); ``init_at_cap`` == the closed
form; ``segment_at`` == a binary search of the segment starts; ``single_segment`` is a
one-model, one-segment view of the stationary arrays."""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.kernels import sampling as ks
from mdptheory.regret import seed_rng


def _model(rng, HP, HR, S, A):
    P = rng.dirichlet(np.ones(S), size=(HP, S, A))
    P[rng.uniform(size=P.shape) < 0.3] = 0.0
    P[..., 0] += 1e-3
    return P / P.sum(-1, keepdims=True), rng.uniform(size=(HR, S, A))


@pytest.mark.parametrize("noise", [ks.NOISE_DETERMINISTIC, ks.NOISE_BERNOULLI, ks.NOISE_GAUSSIAN])
@pytest.mark.parametrize("stages", [(1, 1), (4, 1), (4, 4)])
def test_rollout_det_is_the_step_by_step_episode(noise, stages):
    rng0 = np.random.default_rng(7)
    H, S, A = 4, 5, 3
    P, R = _model(rng0, stages[0], stages[1], S, A)
    init = rng0.dirichlet(np.ones(S))
    pi = rng0.integers(0, A, size=(H, S)).astype(np.int64)
    r1, r2, r3 = seed_rng(3), seed_rng(3), seed_rng(3)
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for _ in range(50):
        G = ks.rollout_det(r1, P, R, noise, 0.4, init, pi, xs, acts, rs)
        G2, xs2, acts2, rs2 = ks.rollout_det_ref(r2, P, R, noise, 0.4, init, pi)
        assert G == G2 and np.array_equal(xs, xs2) and np.array_equal(acts, acts2) and np.array_equal(rs, rs2)
        # the same episode written out with the sampling primitives, summing in step order
        s = ks.categorical_ref(r3, init)
        tot = 0.0
        for h in range(H):
            assert (xs[h], acts[h]) == (s, pi[h, s])
            r, s = ks.env_step_ref(r3, P, R, noise, 0.4, h, s, int(pi[h, s]))
            assert rs[h] == r
            tot += r
        assert xs[H] == s and G == tot


def test_greedy_action_and_init_at_cap():
    rng = np.random.default_rng(1)
    Q = rng.integers(0, 3, size=(3, 4, 5)).astype(float)             # many exact ties
    for h in range(3):
        for s in range(4):
            a, v = ks.greedy_action(Q, h, s)
            assert a == int(np.argmax(Q[h, s])) and v == Q[h, s].max()
    for cap, caps in ((0, [3.0, 3.0, 3.0]), (1, [3.0, 2.0, 1.0])):
        Q = np.empty((3, 4, 2))
        V = np.full((4, 4), -1.0)
        ks.init_at_cap(Q, V, cap)
        assert np.array_equal(Q, np.broadcast_to(np.array(caps)[:, None, None], Q.shape))
        assert np.array_equal(V[:3], np.broadcast_to(np.array(caps)[:, None], (3, 4)))
        assert np.all(V[3] == -1.0)                                  # V[H] is left alone


def test_segment_clock_and_single_segment():
    starts = np.array([0, 3, 4, 9], dtype=np.int64)
    seg = 0
    for k in range(12):
        seg = ks.segment_at(k, seg, starts)
        assert seg == int(np.searchsorted(starts, k, side="right")) - 1
    rng = np.random.default_rng(2)
    P, R = _model(rng, 2, 1, 3, 2)
    init = rng.dirichlet(np.ones(3))
    Ps, Rs, inits, st, models, v_stars = ks.single_segment(P, R, init, 0.25)
    assert Ps.shape == (1,) + P.shape and np.array_equal(Ps[0], P)
    assert Rs.shape == (1,) + R.shape and np.array_equal(Rs[0], R)
    assert np.array_equal(inits[0], init)
    assert st.tolist() == [0] and models.tolist() == [0] and v_stars.tolist() == [0.25]


@pytest.mark.parametrize("noise", [ks.NOISE_DETERMINISTIC, ks.NOISE_BERNOULLI, ks.NOISE_GAUSSIAN])
@pytest.mark.parametrize("stages", [(1, 1), (4, 1), (4, 4)])
def test_rollout_stoch_is_the_step_by_step_episode(noise, stages):
    """``rollout_stoch`` == its plain twin draw for draw and == the episode written out with the
    sampling primitives: the initial state, then per step the action draw and ``env_step``."""
    rng0 = np.random.default_rng(11)
    H, S, A = 4, 5, 3
    P, R = _model(rng0, stages[0], stages[1], S, A)
    init = rng0.dirichlet(np.ones(S))
    probs = rng0.dirichlet(np.ones(A), size=(H, S))
    probs[rng0.uniform(size=probs.shape) < 0.2] = 0.0                # some actions never drawn
    probs[..., 0] += 1e-3
    probs /= probs.sum(-1, keepdims=True)
    r1, r2, r3 = seed_rng(5), seed_rng(5), seed_rng(5)
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    seen = set()
    for _ in range(50):
        G = ks.rollout_stoch(r1, P, R, noise, 0.4, init, probs, xs, acts, rs)
        G2, xs2, acts2, rs2 = ks.rollout_stoch_ref(r2, P, R, noise, 0.4, init, probs)
        assert G == G2 and np.array_equal(xs, xs2) and np.array_equal(acts, acts2) and np.array_equal(rs, rs2)
        s = ks.categorical_ref(r3, init)
        tot = 0.0
        for h in range(H):
            a = ks.categorical_ref(r3, probs[h, s])
            assert (xs[h], acts[h]) == (s, a) and probs[h, s, a] > 0.0
            r, s = ks.env_step_ref(r3, P, R, noise, 0.4, h, s, a)
            assert rs[h] == r
            tot += r
            seen.add(a)
        assert xs[H] == s and G == tot
    assert seen == set(range(A))                                     # the draws are not a fixed policy
    assert r1.random() == r2.random() == r3.random()                  # same number of draws


def test_episode_buffers_shapes_and_the_no_policy_marker():
    Vb, pi, pi_prev, xs, acts, rs = ks.episode_buffers(4, 3)
    assert (Vb.shape, Vb.dtype) == ((5, 3), np.float64)
    assert (pi.shape, pi.dtype) == ((4, 3), np.int64)
    assert pi_prev.shape == (4, 3) and np.all(pi_prev == -1)
    assert (xs.shape, xs.dtype, acts.shape, acts.dtype, rs.shape) == ((5,), np.int64, (4,), np.int64, (4,))

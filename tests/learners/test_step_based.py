"""Step-based learners' shared machinery: each compiled step kernel equals its plain-Python
``_ref`` twin draw for draw, the loop helpers equal the code they replace (same draws, same
floats, no extra reference counting in a compiled loop), the environment sampler has the
documented laws, the runner is reproducible, and the step-based learners stay out of the
episodic regret registry."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import make_random_episodic
from numba import njit

from mdptheory.envs.bias_examples import (
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)
from mdptheory.kernels.sampling import categorical
from mdptheory.learners.double_q import DoubleQLearning
from mdptheory.learners.maxmin_q import MaxminQLearning
from mdptheory.learners.q_learning import QLearning
from mdptheory.learners.redq import REDQ
from mdptheory.learners.step_based import (
    StepLearner,
    begin_step,
    begin_step_ref,
    behaviour_action,
    behaviour_action_ref,
    episode_end,
    episode_end_ref,
    greedy_random_tie,
    greedy_random_tie_ref,
    noisy_step,
    noisy_step_ref,
    random_subset,
    random_subset_ref,
    record_step,
    run_steps,
    step_arrays,
    step_env,
    subset_bootstrap,
    subset_min_max,
    subset_min_max_ref,
    td_update,
    td_update_ref,
    visit_epsilon,
)
from mdptheory.sweeps.registry import _accepts

ALL = (QLearning, DoubleQLearning, MaxminQLearning, REDQ)


def twin_rngs(seed=3):
    return np.random.default_rng(seed), np.random.default_rng(seed)


@pytest.mark.parametrize("model", [maximization_bias(), van_hasselt_grid(), noisy_garnet(6, 3, 2, 1)])
def test_noisy_step_matches_twin(model):
    env = step_env(model)
    r1, r2 = twin_rngs()
    for k in range(300):
        h = 0 if env.H == 0 else k % env.H
        s, a = k % env.S, (k // env.S) % env.A
        assert noisy_step(r1, env.P, env.R, env.law, env.scale, h, s, a) == noisy_step_ref(
            r2, env.P, env.R, env.law, env.scale, h, s, a)
    assert r1.random() == r2.random()            # same number of draws


def test_reward_laws_exact_values():
    env = step_env(van_hasselt_grid())
    rng = np.random.default_rng(0)
    rs = [noisy_step(rng, env.P, env.R, env.law, env.scale, 0, 6, 0)[0] for _ in range(4000)]
    assert set(rs) == {-12.0, 10.0}
    assert abs(np.mean(np.array(rs) == 10.0) - 0.5) < 0.03          # 4000 fair coins: sd 0.008
    assert noisy_step(rng, env.P, env.R, env.law, env.scale, 0, 2, 1) == (5.0, 9)   # goal action -> terminal
    mb = step_env(maximization_bias())
    state = rng.bit_generator.state
    assert noisy_step(rng, mb.P, mb.R, mb.law, mb.scale, 0, 0, 1) == (0.0, 1)       # A-left: no reward draw
    rng2 = np.random.default_rng(0)
    rng2.bit_generator.state = state
    rng2.random()                                                                  # only the next-state draw
    assert rng.random() == rng2.random()


def test_greedy_and_behaviour_twins():
    r1, r2 = twin_rngs(7)
    avail = np.array([[0, 2, 3, 0], [1, 0, 0, 0]], dtype=np.int64)
    n_avail = np.array([3, 1], dtype=np.int64)
    for k in range(500):
        vals = np.round(r1.random(4) * 2) / 2          # many ties
        r2.random(4)
        s = k % 2
        acts = avail[s, :n_avail[s]]
        assert greedy_random_tie(r1, vals, avail, n_avail, s) == greedy_random_tie_ref(r2, vals, acts)
        eps = (k % 5) / 4
        assert behaviour_action(r1, vals, avail, n_avail, s, eps) == behaviour_action_ref(r2, vals, acts, eps)
    assert r1.random() == r2.random()


def test_random_subset_twin_and_uniformity():
    r1, r2 = twin_rngs(11)
    perm = np.arange(6)
    counts = np.zeros(6)
    for _ in range(3000):
        random_subset(r1, perm, 2)
        assert list(perm[:2]) == random_subset_ref(r2, 6, 2)
        assert len(set(perm[:2])) == 2
        counts[perm[:2]] += 1
    assert np.all(np.abs(counts / 3000 - 2 / 6) < 0.04)            # each table in 1/3 of the subsets
    random_subset(r1, perm, 6)                                      # m = N: identity, no draw
    assert list(perm) == list(range(6)) and r1.random() == r2.random()


def test_subset_min_max_twin_and_bootstrap_enumeration():
    rng = np.random.default_rng(5)
    Q = rng.normal(size=(1, 3, 4, 5))                              # (HQ, S, A, N)
    avail = np.array([[0, 1, 2, 3], [1, 3, 0, 0], [2, 0, 0, 0]], dtype=np.int64)
    n_avail = np.array([4, 2, 1], dtype=np.int64)
    perm = np.array([3, 1, 4, 0, 2])
    for s in range(3):
        rows = [Q[0, s, :, j] for j in range(5)]
        assert subset_min_max(Q, 0, s, perm, 3, avail, n_avail) == subset_min_max_ref(rows, [3, 1, 4],
                                                                                    list(avail[s, :n_avail[s]]))
    # exact expectation over subsets == brute-force average written here
    tables = np.moveaxis(Q, 3, 0)                                   # (N, HQ, S, A)
    mask = np.zeros((3, 4), dtype=bool)
    for s in range(3):
        mask[s, avail[s, :n_avail[s]]] = True
    import itertools
    brute = np.zeros((1, 3))
    for J in itertools.combinations(range(5), 2):
        brute += np.array([[max(min(tables[j, 0, s, a] for j in J) for a in np.flatnonzero(mask[s]))
                            for s in range(3)]])
    assert np.allclose(subset_bootstrap(tables, mask, 2), brute / 10, rtol=0, atol=1e-14)


@pytest.mark.parametrize("model", [maximization_bias(), van_hasselt_grid(), noisy_garnet(6, 3, 2, 1),
                                   make_random_episodic(5, 3, 4, 2, stage=True)])
def test_begin_step_and_episode_end_match_twins(model):
    env = step_env(model)
    r1, r2 = twin_rngs(13)
    v1, v2 = np.zeros((env.HQ, env.S)), np.zeros((env.HQ, env.S))
    pick = np.random.default_rng(0)
    s, h = 0, 0
    for k in range(600):
        start = k == 0 or pick.random() < 0.3
        out = begin_step(r1, env.initial, v1, s, h, start, 0.8, 0.5 if k % 2 else 0.0)
        assert out == begin_step_ref(r2, env.initial, v2, s, h, start, 0.8, 0.5 if k % 2 else 0.0)
        s, h, _ = out
        s2 = int(pick.integers(env.S))
        done, hn = episode_end(env.terminal, env.H, h, s2)
        assert (done, hn) == episode_end_ref(env.terminal, env.H, h, s2)
        assert done == (bool(env.terminal[s2]) or (env.H > 0 and h + 1 == env.H))
        s, h = s2, (0 if done else hn)
    assert np.array_equal(v1, v2) and v1.sum() == 600
    assert r1.random() == r2.random()            # same number of draws


def test_td_update_matches_twin_and_written_out_update():
    rng = np.random.default_rng(4)
    Q1 = rng.normal(size=(2, 3, 4, 3))
    Q2, Q3 = Q1.copy(), Q1.copy()
    n1, n2, n3 = (np.zeros(Q1.shape) for _ in range(3))
    for k in range(400):
        h, s, a, i = rng.integers(2), rng.integers(3), rng.integers(4), rng.integers(3)
        y, alpha, decay = rng.normal(), (0.1, 1.0)[k % 2], (0.0, 0.8, 1.0)[k % 3]
        td_update(Q1, n1, h, s, a, i, y, alpha, decay)
        td_update_ref(Q2, n2, h, s, a, i, y, alpha, decay)
        n3[h, s, a, i] += 1.0                                   # the loops' former inline code
        lr = alpha * n3[h, s, a, i] ** (-decay)
        Q3[h, s, a, i] = Q3[h, s, a, i] + lr * (y - Q3[h, s, a, i])
    assert np.array_equal(Q1, Q2) and np.array_equal(Q1, Q3)
    assert np.array_equal(n1, n2) and np.array_equal(n1, n3) and n1.sum() == 400


@pytest.mark.parametrize("H", [0, 3])
def test_step_arrays_and_record_step(H):
    P = np.zeros((max(H, 1), 5, 2, 5))
    Q, visits, vals = step_arrays(P, H, 3, 0.25)
    HQ = H if H > 0 else 1
    assert Q.shape == (HQ, 5, 2, 3) and np.all(Q == 0.25) and Q.flags.c_contiguous
    assert visits.shape == (HQ, 5) and not visits.any() and vals.shape == (2,) and not vals.any()
    outs = (np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64), np.zeros(4), np.zeros(4, dtype=np.bool_))
    record_step(*outs, 2, 3, 1, -0.5, True)
    assert [o[2] for o in outs] == [3, 1, -0.5, True] and not any(o[[0, 1, 3]].any() for o in outs)


# The per-step helpers replace code that was written out in every loop: a written-out skeleton
# and the same skeleton with the helpers give the same draws and floats, and numba inlines the
# helpers without any extra reference counting (an array argument used after a branch of an
# inlined helper costs an atomic incref/decref per call, which the refcount pruner leaves in the
# loop). ``step_arrays`` runs once per loop and is checked above.


@njit(nogil=True)
def _skeleton_written(P, initial, terminal, H, steps, alpha, alpha_decay, rng, st, ac, rw, sts):
    S = P.shape[1]
    A = P.shape[2]
    HQ = H if H > 0 else 1
    Q = np.full((HQ, S, A, 1), 0.5)
    n = np.zeros((HQ, S, A, 1))
    visits = np.zeros((HQ, S))
    vals = np.zeros(A)
    rec = st.shape[0] > 0
    s, h, start = 0, 0, True
    for t in range(steps):
        if start:
            s = categorical(rng, initial)
            h = 0
        eps = visit_epsilon(visits, h, s, 0.3, 0.5)
        a = int(rng.random() * vals.shape[0]) if rng.random() < eps else 0
        s2 = int(rng.random() * S)
        r = rng.random()
        done = terminal[s2] or (H > 0 and h + 1 == H)
        hn = h + 1 if H > 0 else 0
        y = r + 0.9 * (0.0 if done else Q[hn, s2, 0, 0])
        n[h, s, a, 0] += 1.0
        lr = alpha * n[h, s, a, 0] ** (-alpha_decay)
        Q[h, s, a, 0] = Q[h, s, a, 0] + lr * (y - Q[h, s, a, 0])
        if rec:
            st[t] = s
            ac[t] = a
            rw[t] = r
            sts[t] = start
        s = s2
        h = hn
        start = done
    return Q, n, visits


@njit(nogil=True)
def _skeleton_helpers(P, initial, terminal, H, steps, alpha, alpha_decay, rng, st, ac, rw, sts):
    S = P.shape[1]                                # the set-up as written out: only the per-step
    A = P.shape[2]                                # helpers differ between the two skeletons
    HQ = H if H > 0 else 1
    Q = np.full((HQ, S, A, 1), 0.5)
    n = np.zeros((HQ, S, A, 1))
    visits = np.zeros((HQ, S))
    vals = np.zeros(A)
    rec = st.shape[0] > 0
    s, h, start = 0, 0, True
    for t in range(steps):
        s, h, eps = begin_step(rng, initial, visits, s, h, start, 0.3, 0.5)
        a = int(rng.random() * vals.shape[0]) if rng.random() < eps else 0
        s2 = int(rng.random() * S)
        r = rng.random()
        done, hn = episode_end(terminal, H, h, s2)
        td_update(Q, n, h, s, a, 0, r + 0.9 * (0.0 if done else Q[hn, s2, 0, 0]), alpha, alpha_decay)
        if rec:
            record_step(st, ac, rw, sts, t, s, a, r, start)
        s, h, start = s2, hn, done
    return Q, n, visits


def _refops(fn):
    """``(increfs, decrefs)`` in the LLVM IR of ``fn``'s own function (not its wrappers)."""
    ll = fn.inspect_llvm(fn.signatures[0])
    body = [f for f in re.split(r"\n(?=define )", ll)
            if f.startswith("define") and fn.__name__ in f.split("\n")[0] and "cpython" not in f.split("\n")[0]]
    main = max(body, key=len)
    return main.count("@NRT_incref"), main.count("@NRT_decref")


@pytest.mark.parametrize("model", [maximization_bias(), make_random_episodic(5, 3, 4, 2, stage=True)])
@pytest.mark.parametrize("record", [True, False])
def test_loop_helpers_equal_written_out_code_without_extra_refcounts(model, record):
    env = step_env(model)
    steps = 500
    res = []
    for fn in (_skeleton_written, _skeleton_helpers):
        L = steps if record else 0
        outs = (np.zeros(L, dtype=np.int64), np.zeros(L, dtype=np.int64), np.zeros(L), np.zeros(L, dtype=np.bool_))
        rng = np.random.default_rng(8)
        arrays = fn(env.P, env.initial, env.terminal, env.H, steps, 1.0, 0.8, rng, *outs)
        res.append((arrays, outs, rng.random()))
    (a1, o1, u1), (a2, o2, u2) = res
    assert all(np.array_equal(x, y) for x, y in zip(a1 + o1, a2 + o2)) and u1 == u2
    assert _refops(_skeleton_helpers) == _refops(_skeleton_written)


@pytest.mark.parametrize("cls", ALL)
def test_not_episodic_regret_learners(cls):
    # the study registry takes classes with `bound` as episodic regret learners
    assert not hasattr(cls, "bound") and not _accepts("learner", cls)
    assert issubclass(cls, StepLearner)


def test_run_steps_checks_and_checkpoints():
    m = noisy_garnet(5, 2, 2, 0)
    run = run_steps(QLearning(), m, 100, 0, every=30)
    assert list(run.checkpoints) == [0, 30, 60, 90]
    assert np.all(run.tables[0] == 0.0) and run.visits[0].sum() == 0 and run.visits[-1].sum() == 90
    full = run_steps(QLearning(), m, 100, 0, record=False)
    assert list(full.checkpoints) == [100] and full.actions.size == 0
    with pytest.raises(ValueError):
        run_steps(QLearning(), m, 0)
    with pytest.raises(TypeError):
        run_steps(QLearning(), m, 10, True)
    with pytest.raises(ValueError):
        run_steps(QLearning(), m, 10, checkpoints=[5, 3])
    with pytest.raises(ValueError):
        run_steps(QLearning(), m, 10, backend="gpu")


def test_episodic_episodes_have_length_h_and_stage_tables(random_episodic):
    m = random_episodic(4, 3, 5, 2, stage=True, noise="bernoulli")
    run = run_steps(QLearning(epsilon=0.5), m, 500, 1)
    starts = np.flatnonzero(run.starts)
    assert list(starts) == list(range(0, 500, 5))                     # no terminal states: H steps each
    assert set(np.unique(run.rewards)) <= {0.0, 1.0}
    # the last stage bootstraps nothing: with alpha = 1 its table holds the last reward seen
    run1 = run_steps(QLearning(alpha=1.0, epsilon=1.0), m, 500, 2)
    last = {}
    for t in range(500):
        if t % 5 == 4:
            last[(run1.states[t], run1.actions[t])] = run1.rewards[t]
    for (s, a), r in last.items():
        assert run1.tables[-1, 0, 4, s, a] == r
    # terminal states end episodes early (maximization bias: right from A ends after 1 step)
    mb = run_steps(QLearning(), maximization_bias(), 400, 0)
    st = np.flatnonzero(mb.starts)
    lengths = np.diff(np.append(st, 400))
    assert set(lengths) <= {1, 2}
    assert np.all(mb.states[st] == 0)
    assert np.all((lengths == 2) == (mb.actions[st] == 1))          # left -> B -> end; right -> end

"""Exact bias measurement: occupancy weights equal a direct linear solve of the state-action
flow equations; the bias of an estimate equal to Q^pi is 0 (for the learners: tables equal to
Q* under the greedy policy, tables equal to the epsilon-greedy fixed point under the behaviour
policy); known shifts are recovered; the uniform-noise formula matches a simulation; traces are
identical serial / parallel / teaching path; the study's quick mode runs."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_random_episodic

import mdptheory as mt
from mdptheory.envs.bias_examples import (
    as_noisy,
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)
from mdptheory.learners.double_q import DoubleQLearning
from mdptheory.learners.maxmin_q import MaxminQLearning
from mdptheory.learners.q_learning import QLearning
from mdptheory.learners.redq import REDQ
from mdptheory.regret.bias import (
    bias_trace,
    min_max_bias_uniform,
    next_state_weights,
    occupancy_weights,
    optimal_values,
    policy_bias,
)


def random_policy(rng, avail, H=None):
    shape = avail.shape if H is None else (H,) + avail.shape
    p = rng.random(shape) * (avail if H is None else avail[None])
    return p / p.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("model", [noisy_garnet(7, 3, 3, 1, gamma=0.8), van_hasselt_grid(),
                                   maximization_bias(4, gamma=0.7)])
def test_discounted_occupancy_equals_state_action_linear_solve(model):
    m = as_noisy(model)
    pi = random_policy(np.random.default_rng(0), m.available)
    w = occupancy_weights(m, pi)
    S, A = m.S, m.A
    P = m.mdp.dense_P().copy()
    P[:, :, m.terminal] = 0.0                      # flows into terminal states leave
    live = ~m.terminal
    # d(s,a) = rho(s) pi(a|s) + gamma sum_{s',a'} d(s',a') P(s|s',a') pi(a|s), over live states
    M = np.einsum("uvs,sa->uvsa", P, pi).reshape(S * A, S * A)
    rhs = (np.where(live, m.mdp.initial, 0.0)[:, None] * pi).ravel()
    d = np.linalg.solve(np.eye(S * A) - m.gamma * M.T, rhs).reshape(S, A)
    d[~live] = 0.0
    assert np.allclose(w, d / d.sum(), rtol=0, atol=1e-13)
    assert w.sum() == pytest.approx(1.0) and np.all(w[~live] == 0) and np.all(w[~m.available] == 0)


def test_episodic_occupancy_equals_stacked_linear_solve():
    mdp = make_random_episodic(4, 3, 5, 3, stage=True)
    pi = random_policy(np.random.default_rng(1), np.ones((4, 3), bool), H=5)
    w = occupancy_weights(mdp, pi)
    H, S, A = 5, 4, 3
    n = H * S * A
    M = np.zeros((n, n))                               # d_{h+1}(s',a') += d_h(s,a) P_h(s'|s,a) pi_{h+1}(a'|s')
    idx = lambda h, s, a: (h * S + s) * A + a          # noqa: E731
    P = mdp.dense_P()
    for h, s, a, s2, a2 in itertools.product(range(H - 1), range(S), range(A), range(S), range(A)):
        M[idx(h + 1, s2, a2), idx(h, s, a)] += P[h, s, a, s2] * pi[h + 1, s2, a2]
    rhs = np.zeros(n)
    for s, a in itertools.product(range(S), range(A)):
        rhs[idx(0, s, a)] = mdp.initial[s] * pi[0, s, a]
    d = np.linalg.solve(np.eye(n) - M, rhs).reshape(H, S, A)
    assert np.allclose(w, d / H, rtol=0, atol=1e-14)
    nu = next_state_weights(mdp, w)
    assert nu[0].sum() == 0 and nu.sum() == pytest.approx(1.0)
    assert np.allclose(nu[1:], np.einsum("hsa,hsat->ht", d[:-1], P[:-1]) / (H - 1), rtol=0, atol=1e-14)


@pytest.mark.parametrize("model", [noisy_garnet(6, 3, 2, 5, gamma=0.9), van_hasselt_grid(),
                                   maximization_bias(), as_noisy(make_random_episodic(3, 2, 4, 0))])
def test_estimate_equal_to_q_pi_has_zero_bias_and_shifts_are_recovered(model):
    m = as_noisy(model)
    H = m.horizon if m.episodic else None
    pi = random_policy(np.random.default_rng(2), m.available, H)
    Qpi = mt.evaluate_q(m.mdp, pi)
    pt = policy_bias(m, Qpi, pi)
    assert abs(pt.estimation) < 1e-12 and pt.estimation_sd < 1e-12
    shifted = policy_bias(m, Qpi + 0.25, pi)
    assert shifted.estimation == pytest.approx(0.25, abs=1e-12) and shifted.estimation_sd < 1e-12
    Qs, Vs = optimal_values(m)
    assert pt.optimal == pytest.approx(float((occupancy_weights(m, pi) * (Qpi - (Qs if m.episodic else Qs[0]))).sum()))
    assert pt.value_gap >= -1e-12


@pytest.mark.parametrize("learner", [QLearning(), DoubleQLearning(), MaxminQLearning(3), REDQ(5, subset=2)])
@pytest.mark.parametrize("model", [noisy_garnet(6, 3, 2, 5, gamma=0.9), maximization_bias(),
                                   van_hasselt_grid()])
def test_tables_equal_to_q_star_have_zero_greedy_bias(learner, model):
    m = as_noisy(model)
    Qs, Vs = optimal_values(m)
    tables = np.repeat(Qs[None], learner.n_tables, axis=0)
    avail = m.available
    pi = learner.greedy_policy(tables, avail)
    est = learner.estimate(tables)
    boot = learner.bootstrap_values(tables, avail)
    sq = (lambda x: x) if m.episodic else (lambda x: x[0])
    pt = policy_bias(m, sq(est), sq(pi), bootstrap=sq(boot))
    for f in ("estimation", "estimation_sd", "optimal", "value_gap"):
        assert abs(getattr(pt, f)) < 1e-10, (f, getattr(pt, f))
    if m.name.startswith("maximization_bias"):
        assert np.isnan(pt.target)          # the optimal policy never bootstraps from B (A-right ends)
        pt = policy_bias(m, sq(est), sq(learner.behaviour_policy(tables, np.zeros((m.mdp.H, 3)), avail)),
                         bootstrap=sq(boot))
    assert abs(pt.target) < 1e-10


@pytest.mark.parametrize("learner", [QLearning(epsilon=0.3), DoubleQLearning(epsilon=0.3),
                                     MaxminQLearning(2, epsilon=0.3), REDQ(3, subset=2, epsilon=0.3)])
def test_tables_at_the_eps_greedy_fixed_point_have_zero_behaviour_bias(learner):
    m = as_noisy(noisy_garnet(6, 3, 3, 8, gamma=0.9))
    pi = np.full((6, 3), 1 / 3)
    for _ in range(100):                               # eps-soft policy iteration, written here
        Q = mt.evaluate_q(m.mdp, pi)
        new = 0.3 / 3 + 0.7 * (Q == Q.max(axis=1, keepdims=True))
        if np.array_equal(new, pi):
            break
        pi = new
    Q = mt.evaluate_q(m.mdp, pi)
    tables = np.repeat(Q[None, None], learner.n_tables, axis=0)
    beh = learner.behaviour_policy(tables, np.full((1, 6), 1e9), m.available)
    assert np.allclose(beh[0], pi, atol=1e-15)
    pt = policy_bias(m, learner.estimate(tables)[0], beh[0])
    assert abs(pt.estimation) < 1e-10


def test_min_max_bias_uniform_matches_simulation():
    rng = np.random.default_rng(0)
    for A, n in [(1, 1), (4, 1), (4, 2), (6, 5)]:
        e = rng.uniform(-1, 1, size=(200_000, A, n))
        sim = e.min(axis=2).max(axis=1).mean()
        assert min_max_bias_uniform(A, n) == pytest.approx(sim, abs=0.01)
    assert min_max_bias_uniform(4, 1, gamma=0.5, tau=2.0) == pytest.approx(0.5 * 2 * 3 / 5)
    # REDQ: min over a random M-subset of N i.i.d. tables has the law of min over M tables
    e = rng.uniform(-1, 1, size=(100_000, 4, 10))
    J = np.argsort(rng.random((100_000, 10)), axis=1)[:, :2]
    sub = np.take_along_axis(e, J[:, None, :].repeat(4, axis=1), axis=2)
    assert sub.min(axis=2).max(axis=1).mean() == pytest.approx(min_max_bias_uniform(4, 2), abs=0.01)
    vals = [min_max_bias_uniform(4, k) for k in range(1, 12)]
    assert all(a > b for a, b in zip(vals, vals[1:])) and vals[0] > 0 > vals[-1]


def test_trace_serial_parallel_python_identical():
    m = noisy_garnet(5, 2, 2, 3)
    L = REDQ(4, subset=2)
    a = bias_trace(L, m, 600, 3, every=200, workers=1)
    b = bias_trace(L, m, 600, 3, every=200, workers=2)
    c = bias_trace(L, m, 600, 3, every=200, backend="python")
    for tr in (b, c):
        for k in ("greedy", "behaviour"):
            for f in ("estimation", "estimation_sd", "normalized", "optimal", "target", "value_gap"):
                assert np.array_equal(getattr(getattr(a, k), f), getattr(getattr(tr, k), f))
    assert list(a.steps) == [0, 200, 400, 600] and a.greedy.estimation.shape == (3, 4)
    assert a.greedy.mean("target").shape == (4,) and np.all(a.greedy.spread("target") >= 0)
    only = bias_trace(L, m, 600, [5], every=300, policy="greedy")
    assert only.behaviour is None and only.seeds == (5,)
    with pytest.raises(ValueError):
        bias_trace(L, m, 600, 2, policy="sometimes")


def test_q_learning_over_estimates_on_example_6_7_double_does_not():
    # Q(A, left) target: max_b Q(B, b) vs V*(B) = -0.1 (Sutton & Barto, Example 6.7)
    # (weights of the behaviour policy: the greedy one never reaches B once right is preferred)
    q = bias_trace(QLearning(), maximization_bias(), 100, 200, every=50, policy="behaviour").behaviour
    d = bias_trace(DoubleQLearning(), maximization_bias(), 100, 200, every=50, policy="behaviour").behaviour
    assert q.mean("target")[0] == pytest.approx(0.1)            # Q = 0 vs V*(B) = -0.1 at the start
    assert q.mean("target")[1] > 0.15 and d.mean("target")[1] < q.mean("target")[1] / 2


def test_study_quick_mode(tmp_path):
    path = Path(__file__).resolve().parents[2] / "experiments" / "overestimation.py"
    spec = importlib.util.spec_from_file_location("overestimation_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results.json").read_text())
    for name in ("left_fraction.png", "bias_vs_steps.png", "bias_vs_ensemble.png"):
        assert (tmp_path / name).stat().st_size > 0
    sb = res["sutton_barto"]
    assert sb["q_learning_left_max"] > sb["double_q_left_max"]
    assert set(res["bias_vs_steps"]) >= {"Q-learning", "Double Q-learning", "Maxmin Q-learning", "REDQ"}

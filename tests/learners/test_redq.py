"""Tabular REDQ (Chen et al. 2021): one table is Q-learning bit for bit; compiled loop ==
teaching path == an independent reference (same target for every table, random in-target
subset, replayed updates for utd > 1), action for action; a per-table-target defect is
detected."""

from __future__ import annotations

import numpy as np
import pytest
from _ensemble_reference import as_array, reference_run

from mdptheory.envs.bias_examples import (
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)
from mdptheory.learners.q_learning import QLearning
from mdptheory.learners.redq import REDQ
from mdptheory.learners.step_based import run_steps

MODELS = {"maxbias": maximization_bias(), "grid": van_hasselt_grid(), "garnet": noisy_garnet(8, 3, 3, 2)}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("N,M,G,kw", [(10, 2, 1, {}), (5, 3, 3, dict(alpha=1.0, alpha_decay=0.8)),
                                      (4, 4, 2, dict(epsilon=1.0, epsilon_decay=0.5))])
def test_compiled_equals_teaching_path_and_reference(name, N, M, G, kw):
    model = MODELS[name]
    L = REDQ(N, subset=M, utd=G, **kw)
    a = run_steps(L, model, 1200, 7, every=400)
    b = run_steps(L, model, 1200, 7, every=400, backend="python")
    for f in ("actions", "states", "rewards", "starts", "tables", "visits"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    acts, Q = reference_run("redq", model, 1200, 7, N=N, m=M, G=G, **kw)
    assert acts == list(a.actions)
    assert np.array_equal(as_array(Q, N, a.tables.shape[2], model.S, model.A, 0.0), a.tables[-1])


@pytest.mark.parametrize("name", MODELS)
def test_random_initialisation_equals_reference_and_its_spread_fades(name):
    model = MODELS[name]
    L = REDQ(5, subset=2, utd=2, init_spread=1.0, init=0.5)
    a = run_steps(L, model, 1000, 8, every=500)
    b = run_steps(L, model, 1000, 8, every=500, backend="python")
    assert np.array_equal(a.actions, b.actions) and np.array_equal(a.tables, b.tables)
    acts, Q = reference_run("redq", model, 1000, 8, N=5, m=2, G=2, init_spread=1.0, init=0.5)
    assert acts == list(a.actions)
    ref = a.tables[-1].copy()
    for key, v in Q.items():
        ref[key] = v
    assert np.array_equal(ref, a.tables[-1])
    T0 = a.tables[0]
    assert np.all(np.abs(T0 - 0.5) <= 1.0) and np.ptp(T0, axis=0).min() > 0
    # a shared target contracts the spread of the tables at every updated pair by 1 - alpha
    spread = np.ptp(a.tables, axis=1)                                  # (C, HQ, S, A)
    assert np.all(spread[-1] <= spread[0] + 1e-12)


def test_ring_buffer_matches_teaching_path():
    L = REDQ(3, subset=2, utd=4, buffer_size=17)
    a = run_steps(L, MODELS["garnet"], 600, 1)
    b = run_steps(L, MODELS["garnet"], 600, 1, backend="python")
    assert np.array_equal(a.actions, b.actions) and np.array_equal(a.tables, b.tables)


@pytest.mark.parametrize("name", MODELS)
def test_one_table_is_q_learning_bit_for_bit(name):
    kw = dict(alpha=1.0, alpha_decay=0.8, epsilon=1.0, epsilon_decay=0.5)
    q = run_steps(QLearning(**kw), MODELS[name], 3000, 2, every=300)
    r = run_steps(REDQ(1, subset=1, **kw), MODELS[name], 3000, 2, every=300)
    assert np.array_equal(q.actions, r.actions) and np.array_equal(q.tables, r.tables)


def test_per_table_target_defect_is_detected():
    model = MODELS["grid"]
    run = run_steps(REDQ(10, subset=2), model, 2000, 4)
    good, _ = reference_run("redq", model, 2000, 4, N=10, m=2)
    bad, _ = reference_run("redq", model, 2000, 4, N=10, m=2, defect="redq_target_per_table")
    assert good == list(run.actions) and bad != list(run.actions)


def test_tables_stay_equal_when_initialised_equal():
    # one target for the whole ensemble: tables that start equal stay equal
    run = run_steps(REDQ(6, subset=2, init=0.5), MODELS["garnet"], 2000, 0)
    T = run.tables[-1]
    assert np.all(T == T[0])


def test_validation_and_hooks():
    with pytest.raises(ValueError):
        REDQ(3, subset=4)
    with pytest.raises(ValueError):
        REDQ(utd=0)
    with pytest.raises(TypeError):
        REDQ(10, 2)
    with pytest.raises(ValueError):
        REDQ(init_spread=-1.0)
    T = np.random.default_rng(2).normal(size=(4, 1, 2, 3))
    L = REDQ(4, subset=4)
    assert np.allclose(L.estimate(T), T.mean(axis=0), rtol=0, atol=1e-15)
    assert np.array_equal(L.bootstrap_values(T, np.ones((2, 3), bool)), T.min(axis=0).max(axis=2))

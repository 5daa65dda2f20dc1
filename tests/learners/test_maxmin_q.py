"""Maxmin Q-learning (Lan et al. 2020, Algorithm 1): one table is Q-learning bit for bit;
compiled loop == teaching path == an independent reference from the paper's box, action for
action; the target bug (target from the updated table instead of Q^min) is detected."""

from __future__ import annotations

import numpy as np
import pytest
from _ensemble_reference import as_array, reference_run

from mdptheory.envs.bias_examples import (
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)
from mdptheory.learners.maxmin_q import MaxminQLearning
from mdptheory.learners.q_learning import QLearning
from mdptheory.learners.step_based import run_steps

MODELS = {"maxbias": maximization_bias(), "grid": van_hasselt_grid(), "garnet": noisy_garnet(8, 3, 3, 2)}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("N,m,kw", [(3, 1, {}), (4, 2, dict(alpha=1.0, alpha_decay=1.0, epsilon=1.0,
                                                             epsilon_decay=0.5))])
def test_compiled_equals_teaching_path_and_reference(name, N, m, kw):
    model = MODELS[name]
    L = MaxminQLearning(N, n_updated=m, **kw)
    a = run_steps(L, model, 1500, 6, every=500)
    b = run_steps(L, model, 1500, 6, every=500, backend="python")
    for f in ("actions", "states", "rewards", "starts", "tables", "visits"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    acts, Q = reference_run("maxmin", model, 1500, 6, N=N, m=m, **kw)
    assert acts == list(a.actions)
    assert np.array_equal(as_array(Q, N, a.tables.shape[2], model.S, model.A, 0.0), a.tables[-1])


@pytest.mark.parametrize("name", MODELS)
def test_one_table_is_q_learning_bit_for_bit(name):
    kw = dict(alpha=1.0, alpha_decay=0.8, epsilon=1.0, epsilon_decay=0.5)
    q = run_steps(QLearning(**kw), MODELS[name], 3000, 2, every=300)
    mm = run_steps(MaxminQLearning(1, **kw), MODELS[name], 3000, 2, every=300)
    assert np.array_equal(q.actions, mm.actions) and np.array_equal(q.tables, mm.tables)


def test_target_bug_is_detected():
    model = MODELS["grid"]
    run = run_steps(MaxminQLearning(4), model, 2000, 3)
    good, _ = reference_run("maxmin", model, 2000, 3, N=4)
    bad, _ = reference_run("maxmin", model, 2000, 3, N=4, defect="maxmin_updated_table_target")
    assert good == list(run.actions) and bad != list(run.actions)


def test_validation_and_hooks():
    with pytest.raises(ValueError):
        MaxminQLearning(0)
    with pytest.raises(ValueError):
        MaxminQLearning(2, n_updated=3)
    with pytest.raises(TypeError):
        MaxminQLearning(2, 1)                      # only n_tables is positional
    T = np.random.default_rng(1).normal(size=(3, 1, 2, 2))
    L = MaxminQLearning(3)
    assert np.array_equal(L.estimate(T), T.min(axis=0))
    assert np.array_equal(L.bootstrap_values(T, np.ones((2, 2), bool)), T.min(axis=0).max(axis=2))
    assert L.config()["n_tables"] == 3

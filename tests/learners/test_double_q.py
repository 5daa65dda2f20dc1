"""Double Q-learning (van Hasselt 2010, Algorithm 1): compiled loop == teaching path == an
independent reference from the paper's box, action for action; the single-estimator defect
(the maximiser's own table evaluates it) is detected; the exact hooks (estimate, expected
bootstrap) agree with direct computations."""

from __future__ import annotations

import numpy as np
import pytest
from _ensemble_reference import as_array, reference_run

from mdptheory.envs.bias_examples import (
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)
from mdptheory.learners.double_q import DoubleQLearning
from mdptheory.learners.step_based import run_steps

MODELS = {"maxbias": maximization_bias(), "grid": van_hasselt_grid(), "garnet": noisy_garnet(8, 3, 3, 2)}
SCHEDULES = [dict(), dict(alpha=1.0, alpha_decay=0.8, epsilon=1.0, epsilon_decay=0.5)]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("kw", SCHEDULES)
def test_compiled_equals_teaching_path_and_reference(name, kw):
    model = MODELS[name]
    L = DoubleQLearning(**kw)
    a = run_steps(L, model, 1500, 5, every=500)
    b = run_steps(L, model, 1500, 5, every=500, backend="python")
    for f in ("actions", "states", "rewards", "starts", "tables", "visits"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    acts, Q = reference_run("double", model, 1500, 5, **kw)
    assert acts == list(a.actions)
    assert np.array_equal(as_array(Q, 2, a.tables.shape[2], model.S, model.A, 0.0), a.tables[-1])


def test_single_estimator_defect_is_detected():
    model = MODELS["grid"]
    run = run_steps(DoubleQLearning(), model, 2000, 1)
    good, _ = reference_run("double", model, 2000, 1)
    bad, _ = reference_run("double", model, 2000, 1, defect="double_same_table")
    assert good == list(run.actions) and bad != list(run.actions)


def test_hooks():
    L = DoubleQLearning()
    rng = np.random.default_rng(0)
    T = np.round(rng.normal(size=(2, 1, 3, 4)))          # integer values: ties happen
    avail = np.array([[1, 1, 1, 1], [1, 1, 0, 1], [0, 1, 0, 0]], dtype=bool)
    assert np.array_equal(L.estimate(T), (T[0] + T[1]) / 2)
    boot = L.bootstrap_values(T, avail)
    for s in range(3):
        acts = np.flatnonzero(avail[s])
        def ev(sel, other):
            top = max(T[sel, 0, s, a] for a in acts)
            tied = [a for a in acts if T[sel, 0, s, a] == top]
            return sum(T[other, 0, s, a] for a in tied) / len(tied)
        assert boot[0, s] == pytest.approx(0.5 * (ev(0, 1) + ev(1, 0)), abs=1e-15)


def test_left_fraction_near_optimal_on_example_6_7():
    # Sutton & Barto, Figure 6.5: Double Q-learning stays near the 5% of the eps-greedy optimum
    runs = [run_steps(DoubleQLearning(), maximization_bias(), 600, sd) for sd in range(300)]
    left = np.mean([r.actions[np.flatnonzero(r.starts)][200:300] == 1 for r in runs])
    assert 0.03 < left < 0.12

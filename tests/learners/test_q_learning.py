"""Q-learning (step-based): compiled loop == teaching path == an independent reference written
from the update of van Hasselt (2010), eq. (1), action for action; an injected step-size
defect is detected; hyper-parameters are validated."""

from __future__ import annotations

import numpy as np
import pytest
from _ensemble_reference import as_array, reference_run
from conftest import make_random_episodic

from mdptheory.envs.bias_examples import (
    as_noisy,
    maximization_bias,
    noisy_garnet,
    van_hasselt_grid,
)
from mdptheory.learners.q_learning import QLearning
from mdptheory.learners.step_based import run_steps

MODELS = {
    "maxbias": maximization_bias(),
    "maxbias-disc": maximization_bias(4, gamma=0.9),
    "grid": van_hasselt_grid(),
    "garnet": noisy_garnet(8, 3, 3, 2),
    "episodic-bern": as_noisy(make_random_episodic(4, 3, 5, 1, stage=True, noise="bernoulli")),
}
SCHEDULES = [dict(), dict(alpha=1.0, alpha_decay=0.8, epsilon=1.0, epsilon_decay=0.5),
             dict(alpha=1.0, alpha_decay=1.0, epsilon=0.3, init=1.0)]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("kw", SCHEDULES)
def test_compiled_equals_teaching_path_and_reference(name, kw):
    model = MODELS[name]
    L = QLearning(**kw)
    a = run_steps(L, model, 1500, 4, every=300)
    b = run_steps(L, model, 1500, 4, every=300, backend="python")
    for f in ("actions", "states", "rewards", "starts", "tables", "visits"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    acts, Q = reference_run("q", model, 1500, 4, **kw)
    assert acts == list(a.actions)
    assert np.array_equal(as_array(Q, 1, a.tables.shape[2], model.S, model.A, kw.get("init", 0.0)), a.tables[-1])


def test_injected_step_size_defect_is_detected():
    model = MODELS["grid"]
    kw = dict(alpha=1.0, alpha_decay=1.0, epsilon=1.0, epsilon_decay=0.5)
    run = run_steps(QLearning(**kw), model, 3000, 0)
    good, _ = reference_run("q", model, 3000, 0, **kw)
    bad, _ = reference_run("q", model, 3000, 0, defect="pair_counts_per_state", **kw)
    assert good == list(run.actions) and bad != list(run.actions)


def test_sutton_barto_left_fraction_over_estimates():
    # Example 6.7: Q-learning goes left from A well above the 5% of an agent knowing Q*
    runs = [run_steps(QLearning(), maximization_bias(), 60, sd) for sd in range(300)]
    first = [r.actions[np.flatnonzero(r.starts)][:20] for r in runs]
    left = np.mean([f[5:20] == 1 for f in first])
    assert left > 0.2


def test_validation():
    with pytest.raises(ValueError):
        QLearning(alpha=0.0)
    with pytest.raises(ValueError):
        QLearning(alpha_decay=1.5)
    with pytest.raises(ValueError):
        QLearning(epsilon=1.1)
    with pytest.raises(TypeError):
        QLearning(epsilon=True)
    with pytest.raises(TypeError):
        QLearning(0.1)                         # keyword-only
    assert QLearning(alpha=0.5).config()["alpha"] == 0.5

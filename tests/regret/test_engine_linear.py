"""The engine on linear models: a LinearMDP / FeaturizedMDP is sampled and evaluated on its
tabular model, so a tabular learner gives the trace of the tabular run bit for bit; feature
learners receive the original object."""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.core.linear import FeaturizedMDP, feature_view
from mdptheory.envs import riverswim
from mdptheory.envs.linear_mdp import misspecified_linear_mdp, random_linear_mdp
from mdptheory.learners import UCBVI, UniformRandom
from mdptheory.regret import run


def test_tabular_learner_on_linear_models_equals_tabular_run():
    lin = random_linear_mdp(5, 2, 3, horizon=3, seed=2)
    for backend in ("compiled", "python"):
        a = run(UCBVI("bernstein", bonus_scale=0.1), lin, 100, [0, 1], backend=backend)
        b = run(UCBVI("bernstein", bonus_scale=0.1), lin.to_mdp(), 100, [0, 1], backend=backend)
        np.testing.assert_array_equal(a.pseudo_regret, b.pseudo_regret)
        np.testing.assert_array_equal(a.returns, b.returns)
    f = misspecified_linear_mdp(4, 2, 2, 3, 0.2, seed=1)
    a = run(UniformRandom(), f, 50, 2)
    b = run(UniformRandom(), f.mdp, 50, 2)
    np.testing.assert_array_equal(a.pseudo_regret, b.pseudo_regret)


def test_feature_view_and_wrapper_validation():
    mdp = riverswim(3, horizon=2)
    tab, phi = feature_view(mdp)
    assert tab is mdp and phi.shape == (2, 3, 2, 6)
    np.testing.assert_array_equal(phi[1].reshape(6, 6), np.eye(6))
    with pytest.raises(ValueError, match="phi must have shape"):
        FeaturizedMDP(mdp, np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="zeta"):
        FeaturizedMDP(mdp, np.ones((3, 2, 1)), zeta=-1.0)
    with pytest.raises(TypeError, match="EpisodicMDP"):
        FeaturizedMDP(random_linear_mdp(3, 2, 2, horizon=2), np.ones((3, 2, 1)))
    with pytest.raises(TypeError, match="LinearMDP"):
        run(UniformRandom(), random_linear_mdp(3, 2, 2, gamma=0.9), 5, 1)
    w = FeaturizedMDP(mdp, np.ones((3, 2, 1)))
    with pytest.raises(AttributeError):
        w.zeta = 0.1

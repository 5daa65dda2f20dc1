"""Sample-based methods: compiled kernels against their twins, the sampler, determinism,
and convergence on small instances."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_random_discounted
from mdptheory.correction import (
    MoCoDyna, dyna, exact_target, model_based_samples, os_dyna, q_learning, sample_transitions,
)
from mdptheory.correction.moco_dyna import (
    q_learning_block, q_learning_block_ref, sa_average, sa_average_ref,
)
from mdptheory.envs.cliff_walk import modified_cliff_walk
from mdptheory.envs.model_error import approximate_model


@pytest.mark.parametrize("omega", [1.0, 0.7])
def test_sa_average_matches_twin(omega):
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 7, 500)
    y = rng.standard_normal(500)
    counts0 = rng.integers(0, 3, 7)
    est0 = rng.standard_normal(7)
    c1, e1 = counts0.copy(), est0.copy()
    sa_average(pairs, y, c1, e1, omega)
    c2, e2 = sa_average_ref(pairs, y, counts0, est0, omega)
    assert np.array_equal(c1, c2) and np.abs(e1 - e2).max() <= 1e-13
    if omega == 1.0:   # a running mean from empty counts is the sample mean
        c, e = np.zeros(7, np.int64), np.zeros(7)
        sa_average(pairs, y, c, e, 1.0)
        means = np.array([y[pairs == i].mean() for i in range(7)])
        assert np.abs(e - means).max() <= 1e-13


def test_q_learning_block_matches_twin():
    mdp = make_random_discounted(5, 3, 0.8, 2)
    tr = sample_transitions(mdp, 3000, 1)
    Q0 = np.random.default_rng(2).standard_normal((5, 3))
    n0 = np.random.default_rng(3).integers(0, 4, 15)
    Q1, n1 = Q0.copy(), n0.copy()
    q_learning_block(tr.pairs, tr.next_states, tr.rewards, Q1, n1, 0.8, 0.8)
    Q2, n2 = q_learning_block_ref(tr.pairs, tr.next_states, tr.rewards, Q0, n0, 0.8, 0.8)
    assert np.array_equal(n1, n2) and np.abs(Q1 - Q2).max() <= 1e-12


def test_sampler_law_and_determinism():
    mdp = make_random_discounted(4, 2, 0.9, 5)
    a = sample_transitions(mdp, 200_000, 11)
    b = sample_transitions(mdp, 200_000, 11)
    assert all(np.array_equal(x, y) for x, y in ((a.pairs, b.pairs), (a.next_states, b.next_states)))
    counts = np.zeros((8, 4))
    np.add.at(counts, (a.pairs, a.next_states), 1)
    freq = counts / counts.sum(1, keepdims=True)
    n = counts.sum(1, keepdims=True)
    P = mdp.dense_P().reshape(8, 4)
    assert (np.abs(freq - P) <= 5 * np.sqrt(P * (1 - P) / n) + 1e-12).all()   # 5 sigma, seed fixed
    assert np.abs(n / n.sum() - 1 / 8).max() < 0.01
    assert np.array_equal(a.rewards, mdp.R.ravel()[a.pairs])


def test_q_learning_converges_on_a_small_mdp():
    mdp = make_random_discounted(4, 2, 0.7, 0)
    tr = q_learning(mdp, 200_000, 0, record_every=50_000)
    assert tr.errors[-1] < 0.05 * tr.errors[0]


def test_dyna_and_os_dyna_with_the_exact_model():
    """With P_hat = P, Dyna's planning sweeps and OS-Dyna's planning both target V*."""
    mdp = make_random_discounted(5, 2, 0.8, 1)
    P = mdp.dense_P()
    d = dyna(mdp, P, 20_000, 0, planning_sweeps=50, plan_every=500, record_every=5000)
    assert d.errors[-1] <= 1e-3
    o = os_dyna(mdp, P, 20_000, 0, plan_every=500, record_every=5000)
    assert o.errors[0] <= 1e-8                                   # V_0 = V*_{P_hat} = V*
    assert o.errors[-1] <= 0.05                                  # only the reward noise-free SA error


def test_mocodyna_improves_on_the_model_and_is_reproducible():
    mdp = modified_cliff_walk()
    Ph = approximate_model(mdp, 0.5, 7)
    algo = MoCoDyna(1, c=1)
    t1 = algo.run(mdp, Ph, 60_000, 3, record_every=20_000)
    t2 = algo.run(mdp, Ph, 60_000, 3, record_every=20_000)
    assert np.array_equal(t1.values, t2.values)
    mb = model_based_samples(mdp, Ph, 60_000, record_every=20_000)
    assert t1.errors[0] == pytest.approx(mb.errors[0])          # starts at V*_{P_hat}
    assert t1.errors[-1] < 0.2 * mb.errors[-1]
    assert np.abs(t1.target - exact_target(mdp)).max() == 0.0


def test_mocodyna_basis_schedule_and_validation():
    algo = MoCoDyna(2, c=1, plan_every=1000, basis_every=2000, basis_growth=1.5)
    assert algo.basis_times(20_000).tolist() == [2000, 5000, 10000, 17000]
    with pytest.raises(ValueError, match="basis_growth = 0.5 must be >= 1"):
        MoCoDyna(basis_growth=0.5)
    with pytest.raises(ValueError, match="d = 0 must be >= 1"):
        MoCoDyna(0)
    with pytest.raises(TypeError, match="c must be an integer"):
        MoCoDyna(c=1.0)

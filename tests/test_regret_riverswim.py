"""RiverSwim (n=6, H=20), K = 2e4: every learning algorithm beats uniform random and its
cumulative regret grows with a last-decade exponent below 0.8 (uniform's is 1).

Scaled (tuned) bonuses are used: with the theory constants the bonuses exceed H for all
K <= 2e4 on this instance (7HL/sqrt(n) < H needs n > (7L)^2 ~ 2e4 visits per pair), so the
theory-mode learners are still exploring uniformly-like and their regret is linear here.
"""

import numpy as np
import pytest

from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import PSRL, UCBVI, EpsilonGreedyQLearning, OptimisticQLearning, UniformRandom
from mdptheory.regret import fit_exponent, run

K = 20_000
LEARNERS = {
    "UCBVI-CH": UCBVI("hoeffding", bonus_scale=0.01),
    "UCBVI-BF": UCBVI("bernstein", bonus_scale=0.1),
    "OptQL-H": OptimisticQLearning("hoeffding", bonus_scale=0.03),
    "OptQL-B": OptimisticQLearning("bernstein", bonus_scale=0.03),
    "PSRL": PSRL(),
    "eps-greedy (eps_k = k^-1/2)": EpsilonGreedyQLearning(epsilon=1.0, decay=0.5),
}


@pytest.fixture(scope="module")
def uniform_regret():
    mdp = riverswim(6, 20)
    tr = run(UniformRandom(), mdp, K, 1)
    assert fit_exponent(tr, n_boot=0).exponent == pytest.approx(1.0, abs=1e-9)
    return tr.cumulative()[0, -1]


@pytest.mark.parametrize("name", list(LEARNERS))
def test_riverswim_sublinear(name, uniform_regret):
    mdp = riverswim(6, 20)
    tr = run(LEARNERS[name], mdp, K, 2)
    assert np.all(tr.cumulative()[:, -1] < uniform_regret)
    fit = fit_exponent(tr, n_boot=200)
    assert fit.exponent < 0.8, (name, fit)

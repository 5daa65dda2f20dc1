"""RiverSwim (n=6, H=20), K = 2e4: every learning algorithm of the package beats uniform
random and its cumulative regret grows with a last-decade exponent below 0.8 (uniform's is 1).

Every episodic learner exported by :mod:`mdptheory.learners` is covered (``UniformRandom``
is the reference). The N2 learners (``MVP``, ``VarianceMVP``: total reward <= 1) run on the same
instance with rewards divided by H, and are compared with uniform random on that instance.
Exponents come from :func:`mdptheory.regret.fit_exponent` (log-spaced least squares on the
seed-mean over ``[K/10, K]``); the test requires the *upper* end of the bootstrap interval
across seeds to be below 0.8.

Scaled (tuned) bonuses are used where the theory constants are still in their exploration
phase at this K (7HL/sqrt(n) < H needs n > (7L)^2 ~ 2e4 visits per pair for UCBVI-CH);
EULER and PSRL run with their defaults. ``CertaintyEquivalence`` has no exploration at all:
it is tested for the opposite (it locks onto the small reward on some seed, linear regret),
which is why it cannot satisfy the sublinear requirement.
"""

import numpy as np
import pytest

from mdptheory.envs.riverswim import riverswim
from mdptheory.learners import (EULER, LSVIUCB, MVP, LSVIUCBRestart, PSRL, UCBVI, CertaintyEquivalence, EpsilonGreedyQLearning,
                                OptimisticQLearning, QEarlySettledAdvantage, ReferenceCappedDoubling,
                                RestartQUCB, RestartUCBVI, SlidingWindowUCBVI, UCBAdvantage, UniformRandom,
                                VarianceMVP)
from mdptheory.regret import fit_exponent, run

K = 20_000
H = 20
# name -> (factory, instance: "N1" per-step rewards in [0,1], "N2" rewards / H)
LEARNERS = {
    "UCBVI-CH": (lambda: UCBVI("hoeffding", bonus_scale=0.01), "N1"),
    "UCBVI-BF": (lambda: UCBVI("bernstein", bonus_scale=0.1), "N1"),
    "OptQL-H": (lambda: OptimisticQLearning("hoeffding", bonus_scale=0.03), "N1"),
    "OptQL-B": (lambda: OptimisticQLearning("bernstein", bonus_scale=0.03), "N1"),
    "MVP": (lambda: MVP(bonus_scale=0.02), "N2"),
    "VarianceMVP": (lambda: VarianceMVP(bonus_scale=0.02), "N2"),
    "ReferenceCappedDoubling": (lambda: ReferenceCappedDoubling(bonus_scale=0.02), "N1"),
    "UCBAdvantage": (lambda: UCBAdvantage(bonus_scale=0.02), "N1"),
    "QEarlySettledAdvantage": (lambda: QEarlySettledAdvantage(bonus_scale=0.02), "N1"),
    "EULER (theory constants)": (lambda: EULER(), "N1"),
    "PSRL": (lambda: PSRL(), "N1"),
    "eps-greedy (eps_k = k^-1/2)": (lambda: EpsilonGreedyQLearning(epsilon=1.0, decay=0.5), "N1"),
    # the non-stationary learners on a stationary model (Delta = 0: one epoch, no restart,
    # an infinite window)
    "RestartQUCB (Delta = 0: one epoch)": (lambda: RestartQUCB(bonus_scale=0.02), "N1"),
    "RestartUCBVI (Delta = 0: no restart)": (lambda: RestartUCBVI(bonus_scale=0.01), "N1"),
    "SlidingWindowUCBVI (Delta = 0: infinite window)": (lambda: SlidingWindowUCBVI(bonus_scale=0.01), "N1"),
    # linear learners on the tabular model: one-hot features (d = S A)
    "LSVIUCB (one-hot features)": (lambda: LSVIUCB(bonus_scale=0.02), "N1"),
    "LSVIUCBRestart (B = 0: no restart)": (lambda: LSVIUCBRestart(bonus_scale=0.02), "N1"),
}

# Exported episodic learners not held to the sublinear requirement here, with the reason.
NOT_SUBLINEAR_AT_THIS_K = {
    # weights 2 d^3 H^2 ||phi|| make every bonus exceed H at this size: Q stays at H, uniform-like
    # play (measured exponent 1.00 even with c = 0.001; see the linear-MDP study)
    "LSVIUCBPlusPlus",
    # robust learners target the robust optimum of a TV ball, not the nominal one: their nominal
    # regret is linear by design; tests/learners/test_dr_*.py check their robust suboptimality
    "DRLSVIUCB",
    "DRRPO",
}


def _instance(kind):
    base = riverswim(6, H)
    return base if kind == "N1" else base.replace(R=np.asarray(base.R) / H)


@pytest.fixture(scope="module")
def uniform_regret():
    out = {}
    for kind in ("N1", "N2"):
        tr = run(UniformRandom(), _instance(kind), K, 1)
        assert fit_exponent(tr, n_boot=0).exponent == pytest.approx(1.0, abs=1e-9)
        out[kind] = tr.cumulative()[0, -1]
    return out


def test_every_learner_is_covered():
    import mdptheory.learners as Ls
    names = {n for n in Ls.__all__ if isinstance(getattr(Ls, n), type) and issubclass(getattr(Ls, n), Ls.Learner)
             and n != "Learner"}
    covered = ({type(f()).__name__ for f, _ in LEARNERS.values()} | {"UniformRandom", "CertaintyEquivalence"}
               | NOT_SUBLINEAR_AT_THIS_K)
    assert names == covered, names ^ covered


@pytest.mark.parametrize("name", list(LEARNERS))
def test_riverswim_sublinear(name, uniform_regret):
    make, kind = LEARNERS[name]
    tr = run(make(), _instance(kind), K, 2)
    assert np.all(tr.cumulative()[:, -1] < uniform_regret[kind]), (name, tr.cumulative()[:, -1])
    fit = fit_exponent(tr, n_boot=200)
    assert fit.ci_high < 0.8, (name, fit)


def test_certainty_equivalence_locks_on_riverswim(uniform_regret):
    # greedy on the empirical model with a pessimistic start: after the first episodes it
    # swims left for the small reward forever (linear regret) on every seed
    tr = run(CertaintyEquivalence(), _instance("N1"), K, 2)
    fit = fit_exponent(tr, n_boot=0)
    assert fit.exponent > 0.95
    assert np.all(tr.pseudo_regret[:, -100:] == tr.pseudo_regret[:, -1:])   # policy frozen
    assert np.all(tr.cumulative()[:, -1] > 0.9 * uniform_regret["N1"])

"""The fixed cases of the behaviour-preservation (golden) test.

Regret traces of every learner on three fixed (instance, seed) pairs and the solutions of a
solver corpus. ``generate_golden.py`` stores them in ``golden_*.npz``; ``test_golden.py``
recomputes them and requires bit-identical arrays. This is a *regression* guard for
refactors (the values' correctness is checked by the other tests against independent
sources), so the stored arrays are produced by the package itself on purpose.

Every hyper-parameter whose default might change is passed explicitly.
"""

from __future__ import annotations

import numpy as np

import mdptheory as mt
from mdptheory import envs
from mdptheory.learners import (
    DRRPO, EULER, MVP, PSRL, UCBVI, CertaintyEquivalence, DRLSVIUCB, EpsilonGreedyQLearning, LSVIUCB,
    LSVIUCBPlusPlus, LSVIUCBRestart, OptimisticQLearning, QEarlySettledAdvantage, ReferenceCappedDoubling,
    RestartQUCB, RestartUCBVI, SlidingWindowUCBVI, UCBAdvantage, UniformRandom, VarianceMVP,
)

EPISODES = 300


def instances():
    """Three (name, mdp, seed) pairs: a deterministic-reward chain, a Garnet with
    Bernoulli rewards and a small lower-bound-style RiverSwim with a longer horizon."""
    g = envs.garnet(5, 3, 3, seed=11, horizon=4)
    g = g.replace(R=np.clip(g.R, 0.0, 1.0), reward_noise="bernoulli")
    return [
        ("riverswim4_h5", envs.riverswim(4, horizon=5), 0),
        ("garnet5x3_bern_h4", g, 1),
        ("chain5_h6", envs.chain(5, horizon=6, fail_prob=0.1, small_reward=0.05), 2),
    ]


def scaled(mdp):
    """The same MDP with rewards divided by H (total reward <= 1: normalisation N2)."""
    if mdp.reward_noise == "bernoulli":
        return None
    return mdp.replace(R=np.asarray(mdp.R) / mdp.H)


def learners():
    """(key, factory, needs N2 scaling) for every learner, every hyper-parameter explicit."""
    return [
        ("UCBVI-CH", lambda: UCBVI("hoeffding", delta=0.05, bonus_scale=0.02, cap="H"), False),
        ("UCBVI-BF", lambda: UCBVI("bernstein", delta=0.05, bonus_scale=0.1, cap="H"), False),
        ("UCBVI-BF-rem", lambda: UCBVI("bernstein", delta=0.05, bonus_scale=0.05, cap="remaining"), False),
        ("OptQL-H", lambda: OptimisticQLearning("hoeffding", delta=0.05, c=1.0, bonus_scale=0.03, cap="H"), False),
        ("OptQL-B", lambda: OptimisticQLearning("bernstein", delta=0.05, c1=1.0, c2=1.0, bonus_scale=0.3, cap="H"), False),
        ("PSRL", lambda: PSRL(alpha0=1.0, delta=0.05), False),
        ("MVP-2021", lambda: MVP("2021", delta=0.01, bonus_scale=0.2), True),
        ("MVP-2024", lambda: MVP("2024", delta=0.01, bonus_scale=0.02), False),
        ("VarianceMVP", lambda: VarianceMVP(delta=0.01, bonus_scale=0.2), True),
        ("RefCapped", lambda: ReferenceCappedDoubling(delta=0.01, bonus_scale=0.2), True),
        ("UCB-Adv", lambda: UCBAdvantage(delta=0.01, bonus_scale=0.05), False),
        ("QES-Adv", lambda: QEarlySettledAdvantage(delta=0.01, bonus_scale=0.05), False),
        ("EULER", lambda: EULER(delta=0.01, bonus_scale=0.2), False),
        ("eps-greedy", lambda: EpsilonGreedyQLearning(epsilon=0.1, decay=0.0), False),
        ("CE", lambda: CertaintyEquivalence(unvisited_value=1.0), False),
        ("uniform", lambda: UniformRandom(), False),
        # non-stationary learners (on a stationary model: restarts / window still active)
        ("RestartQ-UCB", lambda: RestartQUCB(epochs=3, delta=0.01, c=1.0, bonus_scale=0.05), False),
        ("RestartUCBVI", lambda: RestartUCBVI("bernstein", window=70, rewards="empirical", delta=0.01,
                                              bonus_scale=0.05, cap="H"), False),
        ("SW-UCBVI", lambda: SlidingWindowUCBVI("hoeffding", window=50, rewards="empirical", monotone=False,
                                                delta=0.01, bonus_scale=0.05, cap="H"), False),
        # linear learners on the one-hot features of the tabular model
        ("LSVI-UCB", lambda: LSVIUCB(c=1.0, lam=1.0, delta=0.01, bonus_scale=0.05, cap="H", zeta=0.0,
                                     rewards="auto"), False),
        ("LSVI-UCB++", lambda: LSVIUCBPlusPlus(c=1.0, lam=None, delta=0.01, bonus_scale=0.05, cap="H",
                                               sigma_floor="sqrtH", gamma=None, rewards="auto"), False),
        ("LSVI-UCB-Restart", lambda: LSVIUCBRestart(window=60, c=1.0, lam=1.0, delta=0.01, bonus_scale=0.05,
                                                    cap="H", rewards="observed"), False),
        ("DR-LSVI-UCB", lambda: DRLSVIUCB(rho=0.1, c=1.0, lam=1.0, delta=0.01, bonus_scale=0.05, bonus="l1",
                                          cap="remaining", rewards="known"), False),
        ("DR-RPO", lambda: DRRPO(rho=0.1, tau=0.01, c=1.0, lam=1.0, delta=0.01, bonus_scale=0.05, bonus="l1",
                                 cap="remaining", rewards="known"), False),
    ]


def regret_cases():
    """Yield (case key, learner factory, mdp, seed, backend)."""
    for iname, mdp, seed in instances():
        for key, make, n2 in learners():
            m = scaled(mdp) if n2 else mdp
            if m is None:
                continue
            for backend in ("compiled", "python"):
                yield f"{iname}/{key}/{backend}", make, m, seed, backend


def run_case(make, mdp, seed, backend):
    learner = make()
    try:
        tr = mt.run(learner, mdp, episodes=EPISODES, seeds=[seed], workers=1, progress=False,
                    backend=backend, measures=False)
    except ValueError as exc:          # the learner refuses this instance (normalisation, HOM)
        return str(exc)
    return np.stack([tr.pseudo_regret[0], tr.returns[0]])


def solver_corpus():
    """(name, mdp, method, kwargs) for the discounted and episodic solver corpus."""
    out = []
    disc = [
        ("mdptoolbox_small", envs.mdptoolbox_small(gamma=0.96)),
        ("puterman_two_state", envs.puterman_two_state(gamma=0.95)),
        ("random_dense_g09", envs.random_dense(25, 2, seed=9, gamma=0.9)),
        ("garnet30", envs.garnet(30, 4, 5, seed=3, gamma=0.99)),
        ("garnet30_sparse", envs.garnet(30, 4, 5, seed=3, gamma=0.99, sparse=True)),
        ("dense40", envs.random_dense(40, 3, seed=5, gamma=0.9)),
        ("riverswim6", envs.riverswim(6, gamma=0.95)),
    ]
    for name, mdp in disc:
        for method in ("vi", "gs-vi", "pi", "mpi", "lp"):
            out.append((name, mdp, method, {"tol": 1e-8}))
    epi = [
        ("riverswim6_h20", envs.riverswim(6, horizon=20)),
        ("lower_bound", envs.lower_bound_instance(A=2, depth=2, horizon=8, seed=1)),
        ("garnet_h10", envs.garnet(12, 3, 4, seed=7, horizon=10)),
        ("puterman_inventory", envs.puterman_inventory(horizon=3)),
    ]
    for name, mdp in epi:
        out.append((name, mdp, "backward-induction", {}))
    return out


def solve_case(mdp, method, kw):
    sol = mt.solve(mdp, method=method, **kw)
    return {"V": np.asarray(sol.V), "Q": np.asarray(sol.Q), "policy": np.asarray(sol.policy)}

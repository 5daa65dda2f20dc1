"""The dynamic-regret engine: hand-computed dynamic regret of fixed policies on switching
models, a one-model schedule equal to mdptheory.run bit for bit (teaching and compiled
paths), the engine-owned clock (played policies re-evaluated independently on each
episode's model), seeds in threads, stride, errors, and the study script's --quick run."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.core import EpisodicMDP
from mdptheory.core.nonstationary import NonStationaryMDP
from mdptheory.envs.nonstationary import bidirectional_combination_lock, switching
from mdptheory.learners import PSRL, UCBVI, OptimisticQLearning, UniformRandom
from mdptheory.learners.base import Learner, regret_bound
from mdptheory.learners.restart_q_ucb import RestartQUCB
from mdptheory.learners.restart_ucbvi import RestartUCBVI
from mdptheory.learners.sliding_window_ucbvi import SlidingWindowUCBVI
from mdptheory.regret.nonstationary import run_nonstationary


class Fixed(Learner):
    """Plays one fixed policy table forever (deterministic (H, S) or stochastic (H, S, A))."""

    name = "fixed"
    normalization = None

    def __init__(self, table):
        self.table = np.asarray(table)

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._pi = self.table

    def bound(self, S, A, H, K, delta=None):
        K, _ = self._bound_args(S, A, H, K, delta)
        return regret_bound(K * H, 0.0, H=H, K=K, normalization="N1", setting="any", theorem="trivial",
                            explicit_constants=True, delta=0.0)


def two_models():
    """S = 2, A = 2, H = 2, start in state 0; action 0 stays, action 1 moves to the other state.
    Model A: reward 1 for action 0 in state 1 only.  Model B: reward 0.5 for action 0 in state 0.
    By hand, from state 0 with 2 steps:
      A: V* = 1 (move, then take the reward); 'always 0' gets 0; 'always 1' gets 0;
      B: V* = 1 (stay twice); 'always 0' gets 1; 'always 1' gets 0."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[1, 0, 1] = 1.0
    P[0, 1, 1] = P[1, 1, 0] = 1.0
    RA = np.array([[0.0, 0.0], [1.0, 0.0]])
    RB = np.array([[0.5, 0.0], [0.0, 0.0]])
    return EpisodicMDP(P, RA, 2, 0), EpisodicMDP(P, RB, 2, 0)


def test_fixed_policy_dynamic_regret_is_the_hand_sum_per_segment():
    A_, B_ = two_models()
    ns = switching([A_, B_], 3, 10)                    # A: 0-2, B: 3-5, A: 6-8, B: 9
    always0 = np.zeros((2, 2), dtype=np.int64)
    tr = run_nonstationary(Fixed(always0), ns, seeds=2)
    per = np.array([1.0] * 3 + [0.0] * 3 + [1.0] * 3 + [0.0])
    np.testing.assert_allclose(tr.pseudo_regret, np.vstack([per, per]), rtol=0, atol=1e-15)
    assert tr.cumulative()[0, -1] == pytest.approx(6.0)
    np.testing.assert_allclose(tr.returns[0], [0.0] * 3 + [1.0] * 3 + [0.0] * 3 + [1.0])
    assert tr.v_star == pytest.approx(1.0) and tr.backend == "python"
    # a stochastic policy: 'always 1' w.p. 1/2 at every (h, s) -> by hand, from state 0:
    # A: stage 0 stay(0.5)/move(0.5); stage 1 reward 1 only if in state 1 and action 0: 0.5 * 0.5
    # B: reward 0.5 each time action 0 is taken in state 0: 0.5*0.5 + (0.5 stay)*0.5*0.5
    half = np.full((2, 2, 2), 0.5)
    tr2 = run_nonstationary(Fixed(half), ns, seeds=1)
    vA, vB = 0.25, 0.25 + 0.125
    expect = np.array([1 - vA] * 3 + [1 - vB] * 3 + [1 - vA] * 3 + [1 - vB])
    np.testing.assert_allclose(tr2.pseudo_regret[0], expect, rtol=0, atol=1e-15)


def lock_like(seed=0, H=4):
    rng = np.random.default_rng(seed)
    S, A = 4, 2
    P = rng.dirichlet(np.ones(S), size=(S, A))
    return EpisodicMDP(P, rng.random((S, A)), H, rng.dirichlet(np.ones(S)), reward_noise="bernoulli")


@pytest.mark.parametrize("make,backend", [
    (lambda: OptimisticQLearning(bonus_scale=0.05), "python"),
    (lambda: UCBVI("hoeffding", bonus_scale=0.02), "python"),
    (lambda: PSRL(), "python"),
    (lambda: UniformRandom(), "python"),
    (lambda: RestartQUCB(epochs=3, bonus_scale=0.05), "compiled"),
    (lambda: RestartQUCB(epochs=3, bonus_scale=0.05), "python"),
    (lambda: RestartUCBVI(window=40, bonus_scale=0.02), "compiled"),
    (lambda: SlidingWindowUCBVI(window=30, bonus_scale=0.02), "compiled"),
])
def test_one_model_schedule_equals_run_bit_for_bit(make, backend):
    m = lock_like()
    ns = NonStationaryMDP([(0, m)], 150)
    a = run_nonstationary(make(), ns, 150, [4, 5], backend=backend)
    b = mt.run(make(), m, 150, [4, 5], backend=backend)
    assert a.backend == b.backend == backend
    assert np.array_equal(a.pseudo_regret, b.pseudo_regret)
    assert np.array_equal(a.returns, b.returns)
    assert a.v_star == b.v_star


class Recorder(Learner):
    """Wraps a learner and records the policy table it reports in every episode."""

    def __init__(self, inner):
        self.inner = inner
        self.normalization = inner.normalization
        self.tables = []

    def prepare(self, mdp, K):
        self.inner.prepare(mdp, K)

    def prepare_nonstationary(self, ns, K):
        self.inner.prepare_nonstationary(ns, K)

    def reset(self, S, A, H, rng):
        self.inner.reset(S, A, H, rng)

    def begin_episode(self, k):
        self.inner.begin_episode(k)
        self.tables.append(np.array(self.inner.policy(), copy=True))

    def policy(self):
        return self.inner.policy()

    def act(self, h, s):
        return self.inner.act(h, s)

    def observe(self, h, s, a, r, s2):
        self.inner.observe(h, s, a, r, s2)

    def end_episode(self):
        self.inner.end_episode()


def exact_values(m, pi):
    """Independent backward induction: (rho . V*, rho . V^pi) on the stage arrays."""
    P, R = np.asarray(m.P_by_stage()), np.asarray(m.R_by_stage())
    H, S, A = R.shape
    V = np.zeros(S)
    W = np.zeros(S)
    for h in range(H - 1, -1, -1):
        V = (R[h] + P[h] @ V).max(axis=1)
        W = R[h][np.arange(S), pi[h]] + P[h][np.arange(S), pi[h]] @ W
    rho = np.asarray(m.initial)
    return rho @ V, rho @ W


def test_clock_is_global_and_regret_uses_each_episodes_model():
    """A restarting learner on an abrupt lock: every episode's regret equals V* - V^pi on that
    episode's own model (recomputed here), and the models switch at the engine's clock even
    though the learner restarts at other times."""
    ns = bidirectional_combination_lock(4, "abrupt", 90, period=25)
    rec = Recorder(RestartQUCB(epochs=4, bonus_scale=0.05))         # restarts every 23 episodes
    tr = run_nonstationary(rec, ns, seeds=1, backend="python")
    got = []
    for k, pi in enumerate(rec.tables):
        vs, vp = exact_values(ns.model(k), pi)
        got.append(vs - vp)
    np.testing.assert_allclose(tr.pseudo_regret[0], got, rtol=0, atol=1e-12)
    assert [ns.model_id(k) for k in (24, 25, 49, 50)] == [0, 1, 1, 0]
    # the compiled loop plays the same actions
    c = run_nonstationary(RestartQUCB(epochs=4, bonus_scale=0.05), ns, seeds=1, backend="compiled")
    assert np.array_equal(c.returns, tr.returns)
    np.testing.assert_allclose(c.pseudo_regret, tr.pseudo_regret, rtol=0, atol=1e-12)


def test_workers_stride_and_measures():
    ns = bidirectional_combination_lock(5, "gradual", 400, levels=9)
    L = RestartQUCB(bonus_scale=0.05)
    a = run_nonstationary(L, ns, seeds=4, workers=1)
    b = run_nonstationary(L, ns, seeds=4, workers=2)
    assert np.array_equal(a.pseudo_regret, b.pseudo_regret) and np.array_equal(a.returns, b.returns)
    c = run_nonstationary(L, ns, seeds=4, eval_every=7)
    assert np.array_equal(c.returns, a.returns)
    np.testing.assert_array_equal(c.pseudo_regret[:, ::7], a.pseudo_regret[:, ::7])
    assert np.isnan(c.pseudo_regret[:, 1]).all() and not c.exact
    v = ns.variation()
    assert a.measures["variation"] == v.delta and a.measures["n_models"] == 9 and a.measures["nonstationary"]
    # a prefix of the sequence: budgets of the episodes run only
    d = run_nonstationary(L, ns, 100, seeds=1)
    assert d.episodes == 100 and d.measures["variation_p"] == pytest.approx(ns.variation(0, 99).delta_p)


def test_errors():
    ns = bidirectional_combination_lock(3, "abrupt", 20, period=5)
    with pytest.raises(ValueError, match="episodes = 21 exceeds the 20 episodes"):
        run_nonstationary(UniformRandom(), ns, 21)
    with pytest.raises(TypeError, match="needs a NonStationaryMDP, got EpisodicMDP"):
        run_nonstationary(UniformRandom(), ns.model(0), 5)
    with pytest.raises(ValueError, match="no compiled loop for non-stationary MDPs"):
        run_nonstationary(OptimisticQLearning(), ns, 5, backend="compiled")
    with pytest.raises(ValueError, match="eval_every"):
        run_nonstationary(UniformRandom(), ns, 5, eval_every=-1)
    # a model violating N1 is named with its first episode
    a = ns.model(0)
    big = a.replace(R=np.asarray(a.R) * 3.0)
    bad = NonStationaryMDP([(0, a), (7, big)], 10)
    with pytest.raises(ValueError, match=r"model 1 \(first played in episode 7\).*N1"):
        run_nonstationary(OptimisticQLearning(), bad, 10)


def test_stationary_counterparts_have_linear_regret_after_the_first_switch():
    """On the abrupt lock (tuned bonuses), the learners that never forget keep paying after the
    first swap, while restarting at the swaps recovers."""
    ns = bidirectional_combination_lock(5, "abrupt", 3000, period=1000)
    late = slice(1700, 2000)                           # the end of the second block
    stat = run_nonstationary(RestartQUCB(epochs=1, bonus_scale=0.05), ns, seeds=3)
    rest = run_nonstationary(RestartQUCB(epochs=3, bonus_scale=0.05), ns, seeds=3)
    assert stat.pseudo_regret[:, late].mean() > 0.5
    assert rest.pseudo_regret[:, late].mean() < 0.1
    ucb = run_nonstationary(RestartUCBVI(window=math.inf, bonus_scale=0.003), ns, seeds=3)
    ucb_r = run_nonstationary(RestartUCBVI(window=1000, bonus_scale=0.003), ns, seeds=3)
    assert ucb.pseudo_regret[:, late].mean() > 0.3 > 0.1 > ucb_r.pseudo_regret[:, late].mean()


def test_study_quick_run(tmp_path):
    path = Path(__file__).resolve().parents[2] / "experiments" / "nonstationary.py"
    spec = importlib.util.spec_from_file_location("nonstationary_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "summary.json").read_text())
    for lock in ("abrupt", "gradual"):
        rows = res["final_regret"][lock]
        assert all(r["regret_mean"] > 0 for r in rows.values())
    fit = res["exponent_vs_K"]["RestartQ-UCB (theory D)"]
    assert np.isfinite(fit["exponent"]) and res["theory_exponent"] == pytest.approx(2 / 3)
    for stem in ("per_episode_regret", "cumulative_regret", "regret_vs_K"):
        assert (tmp_path / f"{stem}.pdf").stat().st_size > 0 and (tmp_path / f"{stem}.png").stat().st_size > 0

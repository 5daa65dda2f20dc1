"""RestartQ-UCB (Mao et al. 2021, Hoeffding): the epoch count and stage schedule by hand,
compiled loop == teaching path, an independent plain-Python reference written from the
algorithm box (own data structures, stage ends from the exact rational recurrence, own
inverse-CDF draws, own exact evaluation on each episode's model) that matches the compiled
loop action for action, and the replication package's two defects injected into the
reference and detected."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.core import EpisodicMDP
from mdptheory.core.nonstationary import NonStationaryMDP
from mdptheory.envs.nonstationary import bidirectional_combination_lock, switching
from mdptheory.learners.restart_q_ucb import RestartQUCB, epoch_local_budgets, restart_epochs
from mdptheory.regret import seed_rng
from mdptheory.regret.nonstationary import run_nonstationary


def test_restart_epochs_by_hand():
    # S = 10, A = 2, H = 5, K = 5000 (T = 25000), Delta = 15:
    # D = 20^(-1/3) 15^(2/3) 5^(-2/3) 25000^(1/3) = (15/5)^(2/3) (25000/20)^(1/3) = 3^(2/3) * 1250^(1/3)
    D = 3 ** (2 / 3) * 1250 ** (1 / 3)
    assert restart_epochs(10, 2, 5, 5000, 15.0) == math.ceil(D) == 23
    assert restart_epochs(10, 2, 5, 5000, 0.0) == 1
    assert restart_epochs(2, 2, 2, 3, 1e9) == 3                     # clipped to K
    L = RestartQUCB(variation_budget=15.0)
    L.prepare(bidirectional_combination_lock(5, "abrupt", 5000).model(0), 5000)
    assert L.epoch_length == math.ceil(5000 / 23)
    with pytest.raises(ValueError, match="variation = -1.0 must be >= 0"):
        restart_epochs(2, 2, 2, 3, -1.0)


def exact_stage_ends(H, n_max):
    """L = partial sums of e_1 = H, e_{i+1} = floor((1 + 1/H) e_i), in exact rationals."""
    out, e, tot = set(), H, 0
    while tot + e <= n_max:
        tot += e
        out.add(tot)
        e = int(Fraction(e) * (1 + Fraction(1, H)))
    return out


def draw(rng, p):
    """Inverse CDF: the first i with u < p_0 + ... + p_i (zero entries never chosen)."""
    u = rng.random()
    c = np.cumsum(p)
    i = int(np.searchsorted(c, u, side="right"))
    if i >= len(p):
        i = int(np.flatnonzero(np.asarray(p) > 0)[-1])
    return i


def evaluate(P, R, rho, pi):
    H, S, _ = R.shape
    V = np.zeros(S)
    W = np.zeros(S)
    for h in range(H - 1, -1, -1):
        V = (R[h] + P[h] @ V).max(axis=1)
        W = R[h][np.arange(S), pi[h]] + P[h][np.arange(S), pi[h]] @ W
    return float(rho @ V), float(rho @ W)


def reference(ns, K, seed, epochs, *, delta=0.01, c=1.0, scale=1.0, local=False, clock="global",
              regret="exact"):
    """RestartQ-UCB from the box. ``clock="agent"`` injects the replication package's first
    defect (the environment is indexed by the within-epoch episode); ``regret="H-return"`` its
    second (regret = H minus the realised return)."""
    H, S, A = ns.H, ns.S, ns.A
    models = [(np.asarray(ns.model(k).P_by_stage()), np.asarray(ns.model(k).R_by_stage()),
               np.asarray(ns.model(k).initial)) for k in range(K)]
    noise = ns.reward_noise
    iota = math.log(2 / delta)
    D = min(epochs, K)
    Ke = -(-K // D)
    ends = exact_stage_ends(H, 10 * K)

    def budget(first, last):                       # local budgets, from the definition
        dr = dp = 0.0
        for k in range(first, last):
            P1, R1, _ = models[k]
            P2, R2, _ = models[k + 1]
            dr += np.abs(R1 - R2).max(axis=(1, 2)).sum()
            dp += np.abs(P1 - P2).sum(axis=3).max(axis=(1, 2)).sum()
        return dr + H * dp

    rng = seed_rng(seed)
    out_regret, out_returns, actions = [], [], []
    for k in range(K):
        if k % Ke == 0:
            Q = {(h, s, a): float(H - h) for h in range(H) for s in range(S) for a in range(A)}
            V = {(h, s): float(H - h) for h in range(H) for s in range(S)}
            N = {key: 0 for key in Q}
            stage = {key: [] for key in Q}
            bD = budget(k, min(k + Ke, K) - 1) if local else 0.0
        env_k = k if clock == "global" else k % Ke
        P, R, rho = models[env_k]
        pi = np.array([[max(range(A), key=lambda a: (Q[(h, s, a)], -a)) for s in range(S)] for h in range(H)])
        s = draw(rng, rho)
        G = 0.0
        for h in range(H):
            a = int(pi[h, s])
            actions.append(a)
            mean = R[h, s, a]
            if noise == "bernoulli":
                r = 1.0 if rng.random() < mean else 0.0
            else:
                r = float(mean)
            s2 = draw(rng, P[h, s, a])
            G += r
            v_next = V[(h + 1, s2)] if h + 1 < H else 0.0
            stage[(h, s, a)].append((r, v_next))
            N[(h, s, a)] += 1
            if N[(h, s, a)] in ends:
                n = len(stage[(h, s, a)])
                rc = sum(x for x, _ in stage[(h, s, a)])
                vc = sum(y for _, y in stage[(h, s, a)])
                b = c * math.sqrt(H * H * iota / n)
                Q[(h, s, a)] = min(rc / n + vc / n + scale * b + 2 * bD, Q[(h, s, a)])
                V[(h, s)] = max(Q[(h, s, b_)] for b_ in range(A))
                stage[(h, s, a)] = []
            s = s2
        Pk, Rk, rhok = models[k]                    # the regret is always taken on episode k's model
        vs, vp = evaluate(Pk, Rk, rhok, pi)
        out_regret.append(vs - vp if regret == "exact" else H - G)
        out_returns.append(G)
    return np.array(out_regret), np.array(out_returns), actions


def random_switching(noise="deterministic", stage=True, K=400, period=37, seed=0):
    rng = np.random.default_rng(seed)
    S, A, H = 3, 2, 3
    ms = []
    for _ in range(2):
        shp = (H, S, A) if stage else (S, A)
        ms.append(EpisodicMDP(rng.dirichlet(np.ones(S), size=shp), rng.random(shp), H,
                              rng.dirichlet(np.ones(S)), reward_noise=noise))
    return switching(ms, period, K)


@pytest.mark.parametrize("case", [
    dict(ns="lock", epochs=7, scale=0.05, local=False),
    dict(ns="lock", epochs=7, scale=0.05, local=True),
    dict(ns="random_bern", epochs=5, scale=0.1, local=True),
    dict(ns="random_det", epochs=1, scale=0.2, local=False),
    dict(ns="gradual", epochs=4, scale=1.0, local=True),
])
def test_compiled_loop_matches_reference_action_for_action(case):
    K = 400
    ns = {"lock": lambda: bidirectional_combination_lock(4, "abrupt", K, period=90),
          "random_bern": lambda: random_switching("bernoulli", True, K),
          "random_det": lambda: random_switching("deterministic", False, K),
          "gradual": lambda: bidirectional_combination_lock(4, "gradual", K, levels=7)}[case["ns"]]()
    L = RestartQUCB(epochs=case["epochs"], bonus_scale=case["scale"], local_budgets=case["local"])
    comp = run_nonstationary(L, ns, seeds=[3], backend="compiled")
    py = run_nonstationary(L, ns, seeds=[3], backend="python")
    reg, ret, _ = reference(ns, K, 3, case["epochs"], scale=case["scale"], local=case["local"])
    assert np.array_equal(comp.returns[0], ret) and np.array_equal(py.returns[0], ret)
    np.testing.assert_allclose(comp.pseudo_regret[0], reg, rtol=0, atol=1e-10)
    np.testing.assert_allclose(py.pseudo_regret[0], reg, rtol=0, atol=1e-10)
    assert reg.std() > 0                              # the runs learn something


def test_reference_detects_the_replication_packages_defects():
    K = 400
    ns = bidirectional_combination_lock(4, "abrupt", K, period=90)
    comp = run_nonstationary(RestartQUCB(epochs=7, bonus_scale=0.05), ns, seeds=[3], backend="compiled")
    # (1) the environment's clock reset with the agent: epochs of 58 episodes never reach
    # the first swap at episode 90, so the agent-clock run plays a different sequence
    reg_a, ret_a, _ = reference(ns, K, 3, 7, scale=0.05, clock="agent")
    assert not np.array_equal(ret_a, comp.returns[0])
    assert np.abs(np.cumsum(reg_a) - comp.cumulative()[0]).max() > 5.0
    # (2) "regret" as H minus the realised return: not the dynamic pseudo-regret
    reg_h, ret_h, _ = reference(ns, K, 3, 7, scale=0.05, regret="H-return")
    assert np.array_equal(ret_h, comp.returns[0])       # same trajectory ...
    assert np.abs(reg_h - comp.pseudo_regret[0]).max() > 1.0   # ... different accounting
    assert reg_h.sum() > comp.cumulative()[0, -1] + 100


def test_teaching_path_updates_only_at_stage_ends_and_restarts():
    m = bidirectional_combination_lock(4, "abrupt", 200, period=50).model(0)
    L = RestartQUCB(epochs=2, bonus_scale=0.05)
    L.prepare(m, 200)
    L.reset(m.S, m.A, m.H, seed_rng(0))
    L.begin_episode(0)
    H = m.H
    for j in range(1, H):                              # H - 1 visits of (0, 0, 0): no update
        L.observe(0, 0, 0, 0.0, 1)
        assert L._Q[0, 0, 0] == H
    L.observe(0, 0, 0, 0.0, 1)                         # the H-th visit ends stage 1 (e_1 = H)
    iota = math.log(2 / 0.01)
    expect = 0.0 + (H - 1) + 0.05 * math.sqrt(H * H * iota / H)
    assert L._Q[0, 0, 0] == pytest.approx(min(expect, H), rel=1e-14)
    assert L._V[0, 0] == L._Q[0, 0].max()
    L.begin_episode(100)                               # epoch 2 starts: everything forgotten
    assert np.all(L._Q[0] == H) and L._n.sum() == 0


def test_stationary_run_and_bound():
    m = bidirectional_combination_lock(5, "abrupt", 10).model(0)
    a = mt.run(RestartQUCB(epochs=3, bonus_scale=0.05), m, 300, [0, 1], backend="compiled")
    b = mt.run(RestartQUCB(epochs=3, bonus_scale=0.05), m, 300, [0, 1], backend="python")
    assert np.array_equal(a.returns, b.returns) and np.array_equal(a.pseudo_regret, b.pseudo_regret)
    bd = RestartQUCB().bound(10, 2, 5, 5000, variation=15.0)
    assert float(bd) == pytest.approx((10 * 2 * 15.0) ** (1 / 3) * 5 ** (5 / 3) * 25000 ** (2 / 3), rel=1e-12)
    assert not bd.explicit_constants and bd.normalization == "N1"
    assert float(RestartQUCB(variation_budget=15.0).bound(10, 2, 5, 5000)) == pytest.approx(float(bd))
    L = RestartQUCB()
    run_nonstationary(L, bidirectional_combination_lock(5, "abrupt", 3000), seeds=1)
    assert float(L.bound(10, 2, 5, 3000)) == pytest.approx(
        float(RestartQUCB().bound(10, 2, 5, 3000, variation=2 * 5 * 0.75)))
    with pytest.raises(ValueError, match="needs the variation budget"):
        RestartQUCB().bound(10, 2, 5, 100)
    with pytest.raises(ValueError, match="variation = 0.0 must be > 0"):
        RestartQUCB().bound(10, 2, 5, 100, variation=0.0)


def test_local_budgets_match_the_definition():
    ns = bidirectional_combination_lock(4, "abrupt", 300, period=70)
    b = epoch_local_budgets(ns, 300, 100)
    # epoch 0 (0-99) holds the swap 69|70, epoch 1 (100-199) the swap 139|140, epoch 2 two swaps
    assert b.tolist() == pytest.approx([4 * 0.75, 4 * 0.75, 2 * 4 * 0.75])


def test_validation():
    with pytest.raises(ValueError, match="give epochs or variation_budget, not both"):
        RestartQUCB(epochs=2, variation_budget=1.0)
    with pytest.raises(ValueError, match="epochs = 0 must be >= 1"):
        RestartQUCB(epochs=0)
    with pytest.raises(TypeError, match="local_budgets must be True or False"):
        RestartQUCB(local_budgets=1)
    with pytest.raises(ValueError, match="delta = 1.0"):
        RestartQUCB(delta=1.0)
    with pytest.raises(ValueError, match="bonus_scale = -1.0"):
        RestartQUCB(bonus_scale=-1.0)
    with pytest.raises(TypeError):
        RestartQUCB(3)                                  # keyword-only
    L = RestartQUCB()
    assert (L.epochs, L.variation_budget, L.local_budgets, L.delta, L.c, L.bonus_scale) == (None, None, False, 0.01, 1.0, 1.0)
    bad = NonStationaryMDP([(0, bidirectional_combination_lock(3, "abrupt", 5).model(0))], 5)
    big = bad.model(0).replace(R=np.asarray(bad.model(0).R) * 2.0)
    with pytest.raises(ValueError, match="N1"):
        mt.run(RestartQUCB(), big, 5)

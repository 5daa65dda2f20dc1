"""LSVI-UCB-Restart: window = inf is LSVI-UCB bit for bit (stationary models, both backends,
and LSVI-UCB's own teaching path on a linear sequence, which also checks that the
non-stationary engine hands feature learners the linear model); compiled loop == teaching
path on drifting linear sequences; seeds in threads; the restart kernel == its twin; restarts
forget everything; an independent plain-Python reference written from the box (per-epoch
sample lists on the global clock) agrees action for action, and the public script's
replayed-environment defect (the environment clock restarting with the learner) injected
into it is detected; the window rules and the rate by hand; validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.core.linear import FeaturizedMDP
from mdptheory.envs.linear_mdp import random_linear_mdp
from mdptheory.envs.nonstationary import bidirectional_combination_lock, drifting_linear_mdp
from mdptheory.learners.lsvi_ucb import LSVIUCB
from mdptheory.learners.lsvi_ucb_restart import (WINDOW_RULES, LSVIUCBRestart, restart_period, restart_statistics,
                                                 restart_statistics_ref)
from mdptheory.regret import seed_rng
from mdptheory.regret.nonstationary import run_nonstationary

from _reference_harness import argmax_low, draw, env_step


def small_family(K=90, speed=3, seed=1):
    return drifting_linear_mdp(S=7, A=4, H=3, d=5, episodes=K, speed=speed, n_chain=3, seed=seed)


# ---------------------------------------------------------------------------------------
# LSVI-UCB as the special case W = inf
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("noise", ["deterministic", "bernoulli"])
def test_infinite_window_on_a_stationary_model_is_lsvi_ucb(noise):
    lin = random_linear_mdp(5, 3, 3, horizon=3, seed=1, stage_dependent=True)
    model = lin if noise == "deterministic" else FeaturizedMDP(lin.to_mdp().replace(reward_noise=noise), lin.phi)
    for backend in ("compiled", "python"):
        a = mt.run(LSVIUCB(bonus_scale=0.05), model, 200, [0, 1], backend=backend)
        for L in (LSVIUCBRestart(window=math.inf, bonus_scale=0.05), LSVIUCBRestart(bonus_scale=0.05)):
            b = mt.run(L, model, 200, [0, 1], backend=backend)
            assert L.window_length == math.inf                  # stationary: B = 0, never restart
            assert np.array_equal(a.pseudo_regret, b.pseudo_regret) and np.array_equal(a.returns, b.returns)
        assert a.pseudo_regret[:, 1:].std() > 0


def test_infinite_window_on_a_linear_sequence_is_lsvi_ucbs_own_teaching_path():
    ns = small_family(K=80, speed=4)
    base = LSVIUCB(bonus_scale=0.01, rewards="observed")
    a = run_nonstationary(base, ns, seeds=[2], backend="python")
    assert base._d == 5                                         # the features, not the one-hot embedding (d = SA)
    for backend in ("compiled", "python"):
        b = run_nonstationary(LSVIUCBRestart(window=math.inf, bonus_scale=0.01), ns, seeds=[2], backend=backend)
        assert np.array_equal(a.returns, b.returns)
        np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    assert b.measures["variation_b_mu"] == ns.variation().b_mu > 0


# ---------------------------------------------------------------------------------------
# both backends, threads, the restart kernel
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [dict(window=7), dict(window=30, cap="remaining"), dict(window=None),
                                dict(window=11, rewards="known"),
                                dict(variation_budget=2.0, window_rule="public_code")])
def test_compiled_equals_teaching_path_on_a_drifting_linear_sequence(kw):
    ns = small_family()
    L = LSVIUCBRestart(bonus_scale=0.01, **kw)
    a = run_nonstationary(L, ns, seeds=[0, 5], backend="compiled")
    b = run_nonstationary(L, ns, seeds=[0, 5], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    assert len(np.unique(np.round(a.pseudo_regret, 9))) > 3


def test_seeds_in_threads_bit_identical_and_stationary_compiled_restarts():
    ns = small_family(K=120, speed=4)
    L = LSVIUCBRestart(window=17, bonus_scale=0.01)
    a = run_nonstationary(L, ns, seeds=4, workers=1)
    b = run_nonstationary(L, ns, seeds=4, workers=2)
    assert np.array_equal(a.pseudo_regret, b.pseudo_regret) and np.array_equal(a.returns, b.returns)
    lin = random_linear_mdp(6, 3, 4, horizon=3, seed=2, stage_dependent=True)
    c = mt.run(L, lin, 150, [1, 2], backend="compiled")
    d = mt.run(L, lin, 150, [1, 2], backend="python")
    assert np.array_equal(c.returns, d.returns)
    np.testing.assert_allclose(c.pseudo_regret, d.pseudo_regret, rtol=0, atol=1e-10)


def test_restart_kernel_equals_twin():
    rng = np.random.default_rng(0)
    H, S, A, d, lam = 3, 4, 2, 5, 0.7
    phi = rng.dirichlet(np.ones(d), size=(H, S, A))
    Lam, Linv, q = rng.random((H, d, d)), rng.random((H, d, d)), rng.random((H, S, A))
    cvec, M = rng.random((H, d)), rng.random((H, S, d))
    nsucc, seen = np.array([2, 1, 3]), rng.random((H, S)) < 0.5
    restart_statistics(phi, lam, Lam, Linv, q, cvec, M, nsucc, seen)
    ref = restart_statistics_ref(phi, lam)
    for got, want in zip((Lam, Linv, q, cvec, M), ref):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    np.testing.assert_allclose(Linv @ Lam, np.broadcast_to(np.eye(d), (H, d, d)), rtol=0, atol=1e-15)
    assert not seen.any() and not nsucc.any()


def test_restarts_forget_everything_on_the_global_clock():
    """Teaching path by hand: inside an epoch Lambda_h = lam I + the epoch's own features
    (recomputed here from the recorded samples); at k = W, 2W the statistics are fresh and
    the plan is the empty-data plan min(beta ||phi|| / sqrt(lam), H)."""
    ns = small_family()
    lin0 = ns.linear_model(0)
    W, K, lam = 8, 20, 1.0
    L = LSVIUCBRestart(window=W, bonus_scale=0.01, lam=lam)
    L.prepare(lin0, K)
    tab = ns.model(0)
    L.reset(tab.S, tab.A, tab.H, seed_rng(0))
    rng = np.random.default_rng(1)
    phi = np.asarray(lin0.stage_phi())
    epoch = []
    for k in range(K):
        L.begin_episode(k)
        if k % W == 0:
            epoch = []
            assert np.all(L._cvec == 0) and np.all(L._M == 0) and np.all(L._nupd == 0)
            fresh = np.minimum(L._beta0 * np.sqrt((phi ** 2).sum(axis=3) / lam), tab.H)
            np.testing.assert_allclose(L._Q, fresh, rtol=1e-14)
        for h in range(tab.H):
            G = lam * np.eye(5) + sum((np.outer(phi[h, s, a], phi[h, s, a]) for hh, s, a in epoch if hh == h),
                                      np.zeros((5, 5)))
            np.testing.assert_allclose(L._Lam[h], G, rtol=0, atol=1e-12)
        s = int(rng.integers(tab.S))
        for h in range(tab.H):
            a = int(L.act(h, s))
            epoch.append((h, s, a))
            s2 = int(rng.integers(tab.S))
            L.observe(h, s, a, 0.5, s2)
            s = s2
        L.end_episode()


# ---------------------------------------------------------------------------------------
# the independent reference (from the box: per-epoch sample lists, global clock)
# ---------------------------------------------------------------------------------------


def episode_models(ns):
    """Per episode ``(P (H, S, A, S), R (H, S, A), initial)`` from the linear parameters."""
    out = []
    for k in range(ns.episodes):
        lin = ns.linear_model(k)
        H, S, A, d = lin.H, lin.S, lin.A, lin.d
        phi = np.broadcast_to(np.asarray(lin.phi), (H, S, A, d))
        mu = np.broadcast_to(np.asarray(lin.mu), (H, d, S))
        theta = np.broadcast_to(np.asarray(lin.theta), (H, d))
        out.append((np.einsum("hsak,hkt->hsat", phi, mu), np.einsum("hsak,hk->hsa", phi, theta),
                    np.asarray(lin.initial, dtype=float)))
    return out


def values(P, R, init, pi=None):
    H, S, A = R.shape
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        if pi is None:
            V = np.array([max(R[h, s, a] + P[h, s, a] @ V for a in range(A)) for s in range(S)])
        else:
            V = np.array([R[h, s, pi[h, s]] + P[h, s, pi[h, s]] @ V for s in range(S)])
    return float(init @ V)


def reference_restart(phi, models, K, seed, beta, W, lam=1.0, defect=None):
    """LSVI-UCB-Restart from the box: an epoch starts when k % W == 0 and keeps its own list of
    samples per stage; every episode the Gram matrices and targets are rebuilt from that list.
    Episode k is played on the model of episode k (global clock), or, with
    ``defect="replay"``, on that of episode k - k0 (the environment clock restarting with the
    learner, as in the authors' adaptive script). Returns (actions, regret, returns)."""
    H, S, A, d = phi.shape
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    acts, regret, rets = [], [], []
    data, k0 = None, 0
    for k in range(K):
        if k % W == 0:
            data, k0 = [[] for _ in range(H)], k
        P, R, init = models[k - k0 if defect == "replay" else k]
        Q = np.zeros((H + 1, S, A))
        for h in range(H - 1, -1, -1):
            Lam = lam * np.eye(d)
            y = np.zeros(d)
            for x, a, r, x2 in data[h]:
                Lam = Lam + np.outer(phi[h, x, a], phi[h, x, a])
                y = y + phi[h, x, a] * (r + max(Q[h + 1, x2]))
            w = np.linalg.solve(Lam, y)
            Linv = np.linalg.inv(Lam)
            for s in range(S):
                for a in range(A):
                    f = phi[h, s, a]
                    Q[h, s, a] = min(float(w @ f) + beta * math.sqrt(float(f @ Linv @ f)), H)
        pi = np.array([[argmax_low(list(Q[h, s])) for s in range(S)] for h in range(H)])
        regret.append(values(P, R, init) - values(P, R, init, pi))
        s = draw(rng, init)
        ep, G = [], 0.0
        for h in range(H):
            a = int(pi[h, s])
            r, s2 = env_step(rng, P, R, "deterministic", h, s, a)
            data[h].append((s, a, r, s2))                   # the observed reward
            ep.append(a)
            G += r
            s = s2
        acts.append(ep)
        rets.append(G)
    return np.array(acts), np.array(regret), np.array(rets)


def _reference_setup():
    ns = small_family(K=90, speed=3)                         # blocks of 30 episodes
    K, W, scale, seed = 90, 20, 0.01, 3                      # restarts at 20, 40, 60, 80: not at the switches
    phi = np.asarray(ns.linear_model(0).stage_phi())
    d, H = 5, 3
    beta = scale * d * H * math.sqrt(math.log(2.0 * d * K * H / 0.01))
    return ns, K, W, scale, seed, phi, beta


def test_independent_reference_matches_both_backends_action_for_action():
    ns, K, W, scale, seed, phi, beta = _reference_setup()
    acts, regret, rets = reference_restart(phi, episode_models(ns), K, seed, beta, W)
    comp = run_nonstationary(LSVIUCBRestart(window=W, bonus_scale=scale), ns, seeds=[seed], backend="compiled")
    np.testing.assert_allclose(comp.pseudo_regret[0], regret, rtol=0, atol=1e-10)
    np.testing.assert_allclose(comp.returns[0], rets, rtol=0, atol=1e-12)
    rec = []

    class Recording(LSVIUCBRestart):
        def observe(self, h, s, a, r, s_next):
            rec.append(a)
            super().observe(h, s, a, r, s_next)

    teach = run_nonstationary(Recording(window=W, bonus_scale=scale), ns, seeds=[seed], backend="python")
    assert np.array_equal(np.array(rec).reshape(K, 3), acts)
    assert np.array_equal(teach.returns, comp.returns)
    assert len(np.unique(np.round(regret, 9))) > 3 and regret[60:].mean() < regret[:3].mean()


def test_replayed_environment_defect_is_detected():
    ns, K, W, scale, seed, phi, beta = _reference_setup()
    _, good, _ = reference_restart(phi, episode_models(ns), K, seed, beta, W)
    acts_bad, bad, _ = reference_restart(phi, episode_models(ns), K, seed, beta, W, defect="replay")
    comp = run_nonstationary(LSVIUCBRestart(window=W, bonus_scale=scale), ns, seeds=[seed])
    np.testing.assert_allclose(comp.pseudo_regret[0], good, rtol=0, atol=1e-10)
    assert np.abs(comp.pseudo_regret[0] - bad).max() > 1e-6
    assert np.array_equal(good[:30], bad[:30])              # identical until the replay plays a stale block


# ---------------------------------------------------------------------------------------
# window rules, bound, behaviour, validation
# ---------------------------------------------------------------------------------------


def test_restart_period_rules_by_hand():
    d, H, K, B = 10, 5, 500, 137.0
    # T = K H = 2500: derived (d K^2 / B^2)^(1/3); public code H sqrt(d K / B);
    # its commented line (d K^2 / (B^2 H^2))^(1/3)
    assert restart_period(d, H, K, B) == math.ceil((10 * 500 ** 2 / 137.0 ** 2) ** (1 / 3)) == 6
    assert restart_period(d, H, K, B, "public_code") == math.ceil(5 * math.sqrt(10 * 500 / 137.0)) == 31
    alt = math.ceil((10 * 500 ** 2 / (137.0 ** 2 * 25)) ** (1 / 3))
    assert restart_period(d, H, K, B, "public_code_alt") == alt == 2
    assert restart_period(d, H, K, 0.0) == math.inf
    assert restart_period(d, H, K, 1e-9) == K and restart_period(d, H, K, 1e9) == 1      # clipped to [1, K]
    assert set(WINDOW_RULES) == {"derived", "public_code", "public_code_alt"}


def test_default_window_reads_the_linear_budget():
    ns = small_family(K=90, speed=3)
    L = LSVIUCBRestart(bonus_scale=0.01)
    run_nonstationary(L, ns, seeds=1)
    # B by the definition (per episode pair, per stage), written here
    bt = bm = 0.0
    for k in range(89):
        l1, l2 = ns.linear_model(k), ns.linear_model(k + 1)
        bt += sum(np.linalg.norm(np.broadcast_to(l1.theta, (3, 5))[h] - np.broadcast_to(l2.theta, (3, 5))[h])
                  for h in range(3))
        bm += sum(np.linalg.norm(np.asarray(l1.mu)[h] - np.asarray(l2.mu)[h]) for h in range(3))
    assert bt > 0 and bm > 0
    assert L.window_length == math.ceil((5 * 90 ** 2 / (bt + bm) ** 2) ** (1 / 3))
    rate = (bt + bm) ** (1 / 3) * 5 ** (4 / 3) * 3 ** (4 / 3) * 270 ** (2 / 3)
    assert L.bound(7, 4, 3, 90).value == pytest.approx(rate)
    # a tabular sequence has no linear budget: the default window needs one
    lock = bidirectional_combination_lock(3, "abrupt", 20, period=5)
    with pytest.raises(ValueError, match="give window= or variation_budget="):
        run_nonstationary(LSVIUCBRestart(), lock, seeds=1)
    r = run_nonstationary(LSVIUCBRestart(window=5, bonus_scale=0.01), lock, seeds=1)    # one-hot features
    assert r.pseudo_regret.shape == (1, 20)


def test_bound_is_the_rate():
    L = LSVIUCBRestart(variation_budget=3.0, delta=0.05)
    K = np.array([100.0, 1e4])
    b = L.bound(4, 3, 5, K, d=7)
    np.testing.assert_allclose(b.value, 3.0 ** (1 / 3) * 7 ** (4 / 3) * 5 ** (4 / 3) * (5 * K) ** (2 / 3), rtol=1e-12)
    assert not b.explicit_constants and b.setting == "INHOM" and "Zhou" in b.theorem
    np.testing.assert_allclose(b.trivial_cap, 5 * K)
    assert L.bound(4, 3, 5, 100, budget=24.0, d=7).value == pytest.approx(2 * L.bound(4, 3, 5, 100, d=7).value)
    with pytest.raises(ValueError, match="needs the variation budget"):
        LSVIUCBRestart().bound(4, 3, 5, 100)
    with pytest.raises(ValueError, match="budget"):
        LSVIUCBRestart().bound(4, 3, 5, 100, budget=0.0)


def test_restarts_at_the_switches_recover_where_lsvi_ucb_does_not():
    """Zhou et al.'s size (K = 500, 10 blocks) with their bonus constant (c = 0.001): after the
    first switches, restarting at the block boundaries keeps the per-episode regret low while
    LSVI-UCB without restart stays with the stale chain."""
    ns = drifting_linear_mdp()
    late = slice(250, 500)
    stat = run_nonstationary(LSVIUCBRestart(window=math.inf, bonus_scale=0.001), ns, seeds=3)
    rest = run_nonstationary(LSVIUCBRestart(window=50, bonus_scale=0.001), ns, seeds=3)
    assert stat.pseudo_regret[:, late].mean() > 0.5 > 0.3 > rest.pseudo_regret[:, late].mean()


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="window = 0 must be >= 1"):
        LSVIUCBRestart(window=0)
    with pytest.raises(TypeError, match="window"):
        LSVIUCBRestart(window=2.5)
    with pytest.raises(ValueError, match="not both"):
        LSVIUCBRestart(window=5, variation_budget=1.0)
    with pytest.raises(ValueError, match="rewards"):
        LSVIUCBRestart(rewards="auto")
    with pytest.raises(ValueError, match="window_rule"):
        LSVIUCBRestart(window_rule="sqrt")
    with pytest.raises(ValueError, match="variation_budget"):
        LSVIUCBRestart(variation_budget=-1.0)
    with pytest.raises(ValueError, match="lam"):
        LSVIUCBRestart(lam=0.0)


def test_study_quick_run(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / "nonstationary_linear.py"
    spec = importlib.util.spec_from_file_location("nonstationary_linear_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "summary.json").read_text())
    for K, comp in res["comparison"].items():
        assert comp["no_restart_identical"] and comp["b_mu"] > 0
        assert all(r["regret_mean"] > 0 for r in comp["rows"].values())
    fit = res["exponent_vs_K"]["Restart, derived W"]
    assert np.isfinite(fit["exponent"]) and res["theory_exponent"] == pytest.approx(2 / 3)
    for stem in ("per_episode", "cumulative", "regret_vs_K", "window"):
        assert (tmp_path / f"{stem}.pdf").stat().st_size > 0 and (tmp_path / f"{stem}.png").stat().st_size > 0

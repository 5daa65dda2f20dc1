"""LSVI-UCB: compiled loop == teaching path action for action; the plan kernel == its twin;
the one-hot (tabular embedding) closed form; Sherman-Morrison state == exact inverse; an
independent plain-Python reference written from Algorithm 1 of Jin et al. (2020) with
per-sample sums, agreeing with both backends, and three known implementation errors
injected into it (double square root in the bonus, previous-episode targets, one Gram
matrix for all stages) that must each be detected."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdptheory as m
from mdptheory.core.linear import FeaturizedMDP
from mdptheory.envs.linear_mdp import misspecified_linear_mdp, random_linear_mdp
from mdptheory.learners.lsvi_ucb import LSVIUCB, lsvi_ucb_plan, lsvi_ucb_plan_ref
from mdptheory.regret import run, seed_rng

from _reference_harness import argmax_low, draw, env_step


def lin_small(seed=0, S=4, A=3, d=3, H=3, stage=True):
    return random_linear_mdp(S, A, d, horizon=H, seed=seed, stage_dependent=stage)


def theory_beta(d, H, K, delta=0.01, c=1.0):
    """beta = c d H sqrt(iota), iota = log(2 d T / delta), T = K H (Theorem 3.1)."""
    return c * d * H * math.sqrt(math.log(2.0 * d * K * H / delta))


# ---------------------------------------------------------------------------------------
# both backends
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", ["H", "remaining"])
@pytest.mark.parametrize("scale", [1.0, 0.03])
def test_compiled_equals_python(cap, scale):
    lin = lin_small(seed=1)
    L = LSVIUCB(bonus_scale=scale, cap=cap)
    a = run(L, lin, 200, [0, 3], backend="compiled")
    b = run(L, lin, 200, [0, 3], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    if scale < 1:
        assert a.pseudo_regret[:, 1:].std() > 0          # the policy really changes


def test_compiled_equals_python_misspecified_observed_rewards_and_zeta():
    f = misspecified_linear_mdp(5, 4, 3, 3, 0.1, seed=2)
    bern = FeaturizedMDP(f.mdp.replace(reward_noise="bernoulli"), f.phi, zeta=f.zeta)
    for model, L in ((f, LSVIUCB(bonus_scale=0.05, zeta=0.1)),
                     (bern, LSVIUCB(bonus_scale=0.05)),                    # auto -> observed rewards
                     (bern, LSVIUCB(bonus_scale=0.05, rewards="known"))):
        a = run(L, model, 150, [1, 2], backend="compiled")
        b = run(L, model, 150, [1, 2], backend="python")
        assert np.array_equal(a.returns, b.returns)
        np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    # observed and known rewards give different learners on Bernoulli rewards
    o = run(LSVIUCB(bonus_scale=0.05), bern, 150, [1])
    k = run(LSVIUCB(bonus_scale=0.05, rewards="known"), bern, 150, [1])
    assert not np.array_equal(o.pseudo_regret, k.pseudo_regret)


def test_seeds_in_parallel_bit_identical():
    lin = lin_small(seed=4)
    L = LSVIUCB(bonus_scale=0.05)
    a = run(L, lin, 300, 4, workers=1)
    b = run(L, lin, 300, 4, workers=2)
    assert np.array_equal(a.pseudo_regret, b.pseudo_regret) and np.array_equal(a.returns, b.returns)


def test_plan_kernel_equals_twin():
    rng = np.random.default_rng(0)
    H, S, A, d = 3, 5, 4, 3
    phi = rng.dirichlet(np.ones(d), size=(H, S, A))
    G = rng.normal(size=(H, d, d))
    Linv = np.einsum("hij,hkj->hik", G, G) + np.eye(d)
    q = np.einsum("hsad,hde,hsae->hsa", phi, Linv, phi)
    cvec = rng.random((H, d))
    M = np.zeros((H, S, d))
    succ = np.zeros((H, S), dtype=np.int64)
    nsucc = np.array([2, 3, 0])
    for h in range(H):
        for j, y in enumerate(rng.permutation(S)[:nsucc[h]]):
            succ[h, j] = y
            M[h, y] = rng.random(d)
    for cap, code in (("H", 0), ("remaining", 1)):
        ref = lsvi_ucb_plan_ref(phi, Linv, q, cvec, M, 0.7, H, cap)
        w, Q, V, pi = np.empty((H, d)), np.empty((H, S, A)), np.empty((H + 1, S)), np.empty((H, S), np.int64)
        lsvi_ucb_plan(phi, Linv, q, cvec, M, succ, nsucc, 0.7, code, np.empty(d), w, Q, V, pi)
        np.testing.assert_allclose(Q, ref.Q, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(w, ref.w, rtol=1e-13, atol=1e-13)
        assert np.array_equal(pi, ref.pi)
        assert (Q < (H if cap == "H" else H - np.arange(H)[:, None, None]) - 1e-9).any()  # not all capped


# ---------------------------------------------------------------------------------------
# closed forms and internal state against independent computations
# ---------------------------------------------------------------------------------------


def drive(L, model, K, seed=0, record=None):
    """Teaching protocol by hand (numpy's own sampler); yields the learner after each plan."""
    tab = model.to_mdp() if hasattr(model, "to_mdp") else model
    L.prepare(model, K)
    rng = seed_rng(seed)
    L.reset(tab.S, tab.A, tab.H, rng)
    P, R = tab.P_by_stage(), tab.R_by_stage()
    for k in range(K):
        L.begin_episode(k)
        yield L
        s = int(rng.choice(tab.S, p=tab.initial))
        for h in range(tab.H):
            a = L.act(h, s)
            s2 = int(rng.choice(tab.S, p=P[h, s, a]))
            if record is not None:
                record.append((h, s, a, s2))
            L.observe(h, s, a, float(R[h, s, a]), s2)
            s = s2
        L.end_episode()


@pytest.mark.parametrize("lam", [1.0, 1e-9])
def test_one_hot_features_reduce_to_count_based_optimistic_vi(random_episodic, lam):
    """Tabular embedding phi(s, a) = e_{sA+a}: Lambda_h is diagonal with n_h(s, a) + lam, so
    Q_h(s, a) = min{(n r + sum_s' N_h(s, a, s') V_{h+1}(s')) / (n + lam) + beta / sqrt(n + lam), H}
    -- for lam -> 0, r + P^_h V_{h+1} + beta / sqrt(n) on visited pairs and H elsewhere."""
    mdp = random_episodic(S=3, A=2, H=3, seed=5, stage=True)
    S, A, H, K = 3, 2, 3, 90
    L = LSVIUCB(lam=lam, bonus_scale=0.02)
    beta = 0.02 * theory_beta(S * A, H, K)
    rec = []
    R = mdp.R_by_stage()
    for k, lrn in enumerate(drive(L, mdp, K, seed=1, record=rec)):
        if k not in (40, 89):
            continue
        N = np.zeros((H, S, A, S))
        for h, s, a, s2 in rec:
            N[h, s, a, s2] += 1
        n = N.sum(axis=3)
        V = np.zeros(S)
        for h in range(H - 1, -1, -1):
            exact = np.minimum((n[h] * R[h] + N[h] @ V) / (n[h] + lam) + beta / np.sqrt(n[h] + lam), H)
            np.testing.assert_allclose(lrn._Q[h], exact, rtol=1e-10, atol=1e-10)
            if lam < 1e-6:
                nz = np.maximum(n[h], 1)
                limit = np.where(n[h] > 0, np.minimum(R[h] + N[h] @ V / nz + beta / np.sqrt(nz), H), H)
                np.testing.assert_allclose(lrn._Q[h], limit, rtol=0, atol=1e-6)
            V = exact.max(axis=1)
        assert (n > 0).any() and (n == 0).any()


def test_sherman_morrison_state_matches_exact_inverse():
    """After 150 episodes (two re-inversions and 22 Sherman-Morrison steps since the last),
    Lambda^-1 and every phi^T Lambda^-1 phi equal the inverse of the Gram matrix built here
    from the recorded features."""
    lin = lin_small(seed=6, S=5, A=3, d=4, H=3)
    L = LSVIUCB(bonus_scale=0.05)
    rec = []
    for _ in drive(L, lin, 151, seed=2, record=rec):
        pass
    phi = np.asarray(lin.stage_phi())
    for h in range(3):
        G = np.eye(4) + sum(np.outer(phi[h, s, a], phi[h, s, a]) for hh, s, a, _ in rec if hh == h)
        inv = np.linalg.inv(G)
        np.testing.assert_allclose(L._Linv[h], inv, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(L._q[h], np.einsum("sad,de,sae->sa", phi[h], inv, phi[h]), rtol=1e-11)


# ---------------------------------------------------------------------------------------
# the independent reference (Algorithm 1, per-sample sums)
# ---------------------------------------------------------------------------------------


def value_of(P, R, init, pi):
    H, S = pi.shape
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        V = np.array([R[h, s, pi[h, s]] + P[h, s, pi[h, s]] @ V for s in range(S)])
    return float(init @ V)


def optimal(P, R, init):
    H, S, A = R.shape
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        V = np.array([max(R[h, s, a] + P[h, s, a] @ V for a in range(A)) for s in range(S)])
    return float(init @ V)


def reference_lsvi_ucb(phi, P, R, init, K, seed, beta, lam=1.0, noise="deterministic", defect=None):
    """Algorithm 1 of Jin et al. (2020) with a list of samples per stage and sums over the
    samples recomputed every episode. ``defect``: None, "double_sqrt" (bonus
    beta (phi^T Lambda^-1 phi)^(1/4)), "prev_targets" (targets from the previous episode's
    Q_{h+1}) or "pooled_gram" (one Gram matrix from the samples of every stage).
    Returns (actions per episode, pseudo-regret per episode)."""
    H, S, A, d = phi.shape
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    data = [[] for _ in range(H)]                 # (x, a, r, x') per stage
    vstar = optimal(P, R, init)
    Qprev = np.zeros((H + 1, S, A))
    acts, regret = [], []
    for k in range(K):
        Q = np.zeros((H + 1, S, A))
        for h in range(H - 1, -1, -1):
            gram = [(hh, x, a) for hh in range(H) for (x, a, _, _) in data[hh]] if defect == "pooled_gram" \
                else [(h, x, a) for (x, a, _, _) in data[h]]
            Lam = lam * np.eye(d)
            for hh, x, a in gram:
                Lam = Lam + np.outer(phi[hh, x, a], phi[hh, x, a])
            src = Qprev if defect == "prev_targets" else Q
            y = np.zeros(d)
            for x, a, r, x2 in data[h]:
                y = y + phi[h, x, a] * (r + max(src[h + 1, x2]))
            w = np.linalg.solve(Lam, y)
            Linv = np.linalg.inv(Lam)
            for s in range(S):
                for a in range(A):
                    f = phi[h, s, a]
                    quad = float(f @ Linv @ f)
                    bonus = quad ** 0.25 if defect == "double_sqrt" else math.sqrt(quad)
                    Q[h, s, a] = min(float(w @ f) + beta * bonus, H)
        Qprev = Q
        pi = np.array([[argmax_low(list(Q[h, s])) for s in range(S)] for h in range(H)])
        regret.append(vstar - value_of(P, R, init, pi))
        s = draw(rng, init)
        ep = []
        for h in range(H):
            a = int(pi[h, s])
            r, s2 = env_step(rng, P, R, noise, h, s, a)
            # Algorithm 1 regresses on r_h(x, a); with random rewards the learner uses the observation
            data[h].append((s, a, r if noise != "deterministic" else float(R[h, s, a]), s2))
            ep.append(a)
            s = s2
        acts.append(ep)
    return np.array(acts), np.array(regret)


@pytest.mark.parametrize("noise", ["deterministic", "bernoulli"])
def test_independent_reference_matches_both_backends(noise):
    lin = lin_small(seed=7, S=4, A=3, d=3, H=3)
    tab = lin.to_mdp().replace(reward_noise=noise)
    model = FeaturizedMDP(tab, lin.phi)
    K, scale = 120, 0.02
    phi = np.asarray(lin.stage_phi())
    P, R, init = tab.P_by_stage(), tab.R_by_stage(), np.asarray(tab.initial)
    beta = scale * theory_beta(3, 3, K)
    acts, regret = reference_lsvi_ucb(phi, P, R, init, K, 3, beta, noise=noise)
    for backend in ("compiled", "python"):
        tr = run(LSVIUCB(bonus_scale=scale), model, K, [3], backend=backend)
        np.testing.assert_allclose(tr.pseudo_regret[0], regret, rtol=0, atol=1e-10)
    # actions, step by step, through a recording learner on the teaching path
    rec = []

    class Recording(LSVIUCB):
        def observe(self, h, s, a, r, s_next):
            rec.append(a)
            super().observe(h, s, a, r, s_next)

    run(Recording(bonus_scale=scale), model, K, [3], backend="python")
    assert np.array_equal(np.array(rec).reshape(K, 3), acts)
    assert len(np.unique(regret)) > 3                      # the played policy changes


@pytest.mark.parametrize("defect", ["double_sqrt", "prev_targets", "pooled_gram"])
def test_injected_defects_are_detected(defect):
    lin = lin_small(seed=7, S=4, A=3, d=3, H=3)
    K, scale = 120, 0.02
    phi = np.asarray(lin.stage_phi())
    tab = lin.to_mdp()
    P, R, init = tab.P_by_stage(), tab.R_by_stage(), np.asarray(tab.initial)
    beta = scale * theory_beta(3, 3, K)
    _, good = reference_lsvi_ucb(phi, P, R, init, K, 3, beta)
    _, bad = reference_lsvi_ucb(phi, P, R, init, K, 3, beta, defect=defect)
    tr = run(LSVIUCB(bonus_scale=scale), lin, K, [3])
    np.testing.assert_allclose(tr.pseudo_regret[0], good, rtol=0, atol=1e-10)
    assert np.abs(tr.pseudo_regret[0] - bad).max() > 1e-6


# ---------------------------------------------------------------------------------------
# bound, learning, validation
# ---------------------------------------------------------------------------------------


def test_bound_is_theorem_rate():
    L = LSVIUCB(delta=0.05)
    S, A, H, K, d = 4, 3, 5, np.array([100.0, 1e4]), 7
    b = L.bound(S, A, H, K, d=d)
    T = K * H
    iota = np.log(2 * d * T / 0.05)
    np.testing.assert_allclose(b.value, np.sqrt(d ** 3 * H ** 3 * T) * iota, rtol=1e-12)
    assert not b.explicit_constants and b.setting == "INHOM" and "3.1" in b.theorem
    np.testing.assert_allclose(b.trivial_cap, H * K)
    bz = LSVIUCB(delta=0.05, zeta=0.1).bound(S, A, H, K, d=d)
    np.testing.assert_allclose(bz.value - b.value, 0.1 * d * H * T * np.sqrt(iota), rtol=1e-12)
    assert "3.2" in bz.theorem
    assert LSVIUCB().bound(3, 2, 2, 10).value == LSVIUCB().bound(3, 2, 2, 10, d=6).value  # d = SA default


def test_learns_with_tuned_bonus_and_theory_mode_is_optimistic():
    lin = random_linear_mdp(8, 3, 3, horizon=3, seed=11, stage_dependent=True)
    tr = run(LSVIUCB(bonus_scale=0.05), lin, 2000, 2)
    assert tr.pseudo_regret[:, -200:].mean() < 0.1 * tr.pseudo_regret[:, :20].mean()
    # theory mode: Q_h >= Q*_h on every (h, s, a) while the confidence event holds (w.h.p.)
    Qstar = m.solve(lin.to_mdp()).Q
    for k, lrn in enumerate(drive(LSVIUCB(), lin, 60, seed=3)):
        assert np.all(lrn._Q >= Qstar - 1e-12)


def test_features_run_through_engine_for_linear_and_tabular_models(random_episodic):
    # a plain EpisodicMDP is learned with one-hot features (d = S A)
    mdp = random_episodic(S=3, A=2, H=2, seed=8)
    L = LSVIUCB(bonus_scale=0.05)
    a = run(L, mdp, 50, [0])
    assert L._d == 6
    from mdptheory.envs import tabular_linear_mdp
    b = run(LSVIUCB(bonus_scale=0.05), tabular_linear_mdp(mdp), 50, [0])
    np.testing.assert_array_equal(a.pseudo_regret, b.pseudo_regret)


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="lam"):
        LSVIUCB(lam=0.0)
    with pytest.raises(ValueError, match="rewards"):
        LSVIUCB(rewards="mean")
    with pytest.raises(TypeError, match="c"):
        LSVIUCB(c=True)
    with pytest.raises(ValueError, match="zeta"):
        LSVIUCB(zeta=-0.1)
    lin = lin_small(seed=0)
    big = FeaturizedMDP(lin.to_mdp(), 2.0 * np.asarray(lin.phi))
    with pytest.raises(ValueError, match=r"\|\|phi.*\(h=0, s=0, a=0\)"):
        run(LSVIUCB(), big, 5, 1)
    with pytest.raises(ValueError, match="N1"):
        run(LSVIUCB(), lin.to_mdp().replace(R=2.0 * np.asarray(lin.to_mdp().R)), 5, 1)

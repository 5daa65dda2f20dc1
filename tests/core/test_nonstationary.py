"""NonStationaryMDP: schedules, the quantised drift, exact variation budgets (against a
direct per-episode numpy computation written here) and the Q* perturbation lemma of
proofs_notes/dynamic_regret.md on random sequences."""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.core import EpisodicMDP
from mdptheory.core.nonstationary import NonStationaryMDP, VariationBudget, model_distance


def rand_model(seed, S=3, A=2, H=4, stage_P=False, stage_R=False, noise="deterministic"):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(H, S, A) if stage_P else (S, A))
    R = rng.random((H, S, A) if stage_R else (S, A))
    return EpisodicMDP(P, R, H, rng.dirichlet(np.ones(S)), reward_noise=noise)


def budgets_direct(models_per_episode, first=0, last=None):
    """Delta_r, Delta_p by the definition: every consecutive pair, every stage, every (s, a)."""
    K = len(models_per_episode)
    last = K - 1 if last is None else last
    dr = dp = 0.0
    for k in range(first, last):
        m1, m2 = models_per_episode[k], models_per_episode[k + 1]
        H, S, A = m1.H, m1.S, m1.A
        for h in range(H):
            P1 = np.asarray(m1.P_by_stage())[h]
            P2 = np.asarray(m2.P_by_stage())[h]
            R1 = np.asarray(m1.R_by_stage())[h]
            R2 = np.asarray(m2.R_by_stage())[h]
            best_r = best_p = 0.0
            for s in range(S):
                for a in range(A):
                    best_r = max(best_r, abs(R1[s, a] - R2[s, a]))
                    best_p = max(best_p, sum(abs(P1[s, a, t] - P2[s, a, t]) for t in range(S)))
            dr += best_r
            dp += best_p
    return dr, dp


def test_variation_matches_the_definition_on_a_random_sequence():
    rng = np.random.default_rng(7)
    pool = [rand_model(i, stage_P=(i % 2 == 0), stage_R=(i == 1)) for i in range(4)]
    idx = rng.integers(0, 4, size=40)
    idx[10:15] = 2                                      # runs of one model contribute nothing
    ns = NonStationaryMDP.from_index(pool, idx)
    per_episode = [pool[j] for j in idx]
    dr, dp = budgets_direct(per_episode)
    v = ns.variation()
    assert isinstance(v, VariationBudget)
    assert v.delta_r == pytest.approx(dr, rel=1e-12) and v.delta_p == pytest.approx(dp, rel=1e-12)
    assert v.delta == pytest.approx(dr + dp, rel=1e-12)
    assert v.n_changes == int(np.count_nonzero(np.diff(idx)))
    assert sum(v.delta_r_by_stage) == pytest.approx(v.delta_r) and len(v.delta_p_by_stage) == 4
    for first, last in [(0, 5), (3, 22), (10, 14), (17, 39), (25, 25)]:   # local budgets
        w = ns.variation(first, last)
        dr, dp = budgets_direct(per_episode, first, last)
        assert (w.delta_r, w.delta_p) == (pytest.approx(dr, rel=1e-12, abs=1e-15), pytest.approx(dp, rel=1e-12, abs=1e-15))
        assert (w.first, w.last) == (first, last)


def test_stationary_sequence_has_zero_budget():
    m = rand_model(0)
    ns = NonStationaryMDP([(0, m), (5, m), (9, m)], 20)           # the same model three times
    v = ns.variation()
    assert (v.delta_r, v.delta_p, v.delta, v.n_changes) == (0.0, 0.0, 0.0, 0)
    assert ns.n_models == 1 and len(ns.segments[0]) == 1 and ns.stationary
    assert not NonStationaryMDP([(0, m), (3, rand_model(1))], 6).stationary
    # same dynamics but a different initial law: budgets 0, yet not stationary
    moved = m.replace(initial=np.array([1.0, 0.0, 0.0]))
    ns2 = NonStationaryMDP([(0, m), (2, moved)], 4)
    assert ns2.variation().delta == 0.0 and not ns2.stationary


def test_schedule_segments_index_and_models():
    a, b, c = rand_model(0), rand_model(1), rand_model(2)
    ns = NonStationaryMDP([(0, a), (3, b), (4, a), (8, c)], 10)
    assert ns.models == (a, b, c) and ns.episodes == 10
    starts, ids = ns.segments
    assert starts.tolist() == [0, 3, 4, 8] and ids.tolist() == [0, 1, 0, 2]
    assert ns.model_index().tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 2, 2]
    assert [ns.model_id(k) for k in range(10)] == ns.model_index().tolist()
    assert ns.model(3) is b and ns.model(9) is c
    with pytest.raises(ValueError, match="k = 10"):
        ns.model(10)
    # from_index merges runs and round-trips
    ns2 = NonStationaryMDP.from_index([a, b, c], ns.model_index())
    assert ns2.segments[0].tolist() == starts.tolist() and ns2.model_index().tolist() == ns.model_index().tolist()
    with pytest.raises(AttributeError, match="immutable"):
        ns._K = 3
    with pytest.raises(ValueError):
        starts[0] = 1                                             # read-only


def test_drift_quantisation_budget_and_mixtures():
    a, b = rand_model(0, stage_P=True), rand_model(1)
    K, L = 50, 8
    ns = NonStationaryMDP.drift(a, b, K, levels=L)
    idx = ns.model_index()
    expect = [int(np.floor(k * (L - 1) / (K - 1) + 0.5)) for k in range(K)]
    assert idx.tolist() == expect and ns.n_models == L
    assert ns.model(0) is a and ns.model(K - 1) is b
    j = 3
    w = j / (L - 1)
    mid = ns.models[j]
    Pa, Pb = np.asarray(a.P_by_stage()), np.asarray(b.P_by_stage())
    np.testing.assert_allclose(mid.P_by_stage(), (1 - w) * Pa + w * Pb, rtol=0, atol=1e-15)
    np.testing.assert_allclose(mid.R_by_stage(), (1 - w) * np.asarray(a.R_by_stage()) + w * np.asarray(b.R_by_stage()),
                               rtol=0, atol=1e-15)
    np.testing.assert_allclose(mid.initial, (1 - w) * a.initial + w * b.initial, rtol=0, atol=1e-15)
    # a monotone drift's budget telescopes: that of the direct jump a -> b
    v = ns.variation()
    dr_jump = np.abs(np.asarray(a.R_by_stage()) - np.asarray(b.R_by_stage())).max(axis=(1, 2)).sum()
    dp_jump = np.abs(Pa - Pb).sum(axis=3).max(axis=(1, 2)).sum()
    assert v.delta_r == pytest.approx(dr_jump, rel=1e-12) and v.delta_p == pytest.approx(dp_jump, rel=1e-12)
    assert v.n_changes == L - 1
    # shared parts stay exact (no rounding drift): equal rewards give Delta_r = 0 exactly
    c = a.replace(P=np.asarray(b.dense_P()))
    assert NonStationaryMDP.drift(a, c, 30, levels=5).variation().delta_r == 0.0
    # one episode, or more levels than episodes
    assert NonStationaryMDP.drift(a, b, 1).n_models == 1
    assert NonStationaryMDP.drift(a, b, 4, levels=50).n_models == 4


def test_model_distance_by_hand():
    S, A, H = 2, 1, 2
    P1 = np.array([[[1.0, 0.0]], [[0.5, 0.5]]])
    P2 = np.array([[[0.25, 0.75]], [[0.5, 0.5]]])
    m1 = EpisodicMDP(P1, np.array([[0.1], [0.2]]), H, 0)
    m2 = EpisodicMDP(P2, np.array([[0.4], [0.0]]), H, 0)
    dr, dp = model_distance(m1, m2)
    assert dr.tolist() == pytest.approx([0.3, 0.3]) and dp.tolist() == pytest.approx([1.5, 1.5])


def test_validation_names_the_offending_entry():
    a = rand_model(0)
    with pytest.raises(ValueError, match=r"schedule\[0\] starts at episode 2"):
        NonStationaryMDP([(2, a)], 5)
    with pytest.raises(ValueError, match=r"schedule\[2\] starts at episode 3, not after schedule\[1\] \(episode 4\)"):
        NonStationaryMDP([(0, a), (4, a), (3, a)], 9)
    with pytest.raises(ValueError, match=r"schedule\[1\] first episode = 9 must be in \[0, 4\]"):
        NonStationaryMDP([(0, a), (9, a)], 5)
    with pytest.raises(ValueError, match=r"schedule model\[1\] has S = 4, but schedule model\[0\] has S = 3"):
        NonStationaryMDP([(0, a), (1, rand_model(1, S=4))], 5)
    with pytest.raises(ValueError, match=r"schedule model\[1\] has H = 5"):
        NonStationaryMDP([(0, a), (1, rand_model(1, H=5))], 5)
    with pytest.raises(ValueError, match=r"reward law"):
        NonStationaryMDP([(0, a), (1, rand_model(1, noise="bernoulli"))], 5)
    with pytest.raises(TypeError, match=r"schedule model\[0\] must be an EpisodicMDP, got str"):
        NonStationaryMDP([(0, "x")], 5)
    with pytest.raises(TypeError, match=r"schedule\[0\] must be a pair"):
        NonStationaryMDP([a], 5)
    with pytest.raises(ValueError, match="schedule is empty"):
        NonStationaryMDP([], 5)
    with pytest.raises(ValueError, match="episodes = 0 must be >= 1"):
        NonStationaryMDP([(0, a)], 0)
    with pytest.raises(TypeError, match="episodes must be an integer, got True"):
        NonStationaryMDP([(0, a)], True)
    with pytest.raises(ValueError, match=r"index\[2\] = 5 is not a model index in \[0, 1\)"):
        NonStationaryMDP.from_index([a], [0, 0, 5])
    with pytest.raises(TypeError, match="index must hold integers"):
        NonStationaryMDP.from_index([a], [0.0, 1.0])
    with pytest.raises(ValueError, match="levels = 1 must be >= 2"):
        NonStationaryMDP.drift(a, a, 5, levels=1)
    ns = NonStationaryMDP([(0, a)], 5)
    with pytest.raises(ValueError, match="last = 1 must be in \\[3, 4\\]"):
        ns.variation(3, 1)


# -- the perturbation lemma ------------------------------------------------------------


def q_star(m):
    """Independent backward induction on the stage arrays: Q (H, S, A)."""
    P, R = np.asarray(m.P_by_stage()), np.asarray(m.R_by_stage())
    H, S, A = R.shape
    Q = np.zeros((H, S, A))
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        Q[h] = R[h] + P[h] @ V
        V = Q[h].max(axis=1)
    return Q


@pytest.mark.parametrize("seed", range(6))
def test_q_star_perturbation_lemma_on_random_sequences(seed):
    """|Q^{k1,*}_h - Q^{k2,*}_h| <= sum_{h' >= h} [dr_{h'} + (H - h' - 1)/2 dp_{h'}] over the local
    budgets of the episodes between k1 and k2 (proofs_notes/dynamic_regret.md, Lemma), hence
    <= Delta_r + H Delta_p (Mao et al., Lemma 1)."""
    rng = np.random.default_rng(100 + seed)
    H = 5
    base = rand_model(seed, S=4, A=3, H=H, stage_P=True, stage_R=True)
    pool = [base]
    for i in range(4):                                 # small and large perturbations of the base
        eps = [0.02, 0.1, 0.5, 1.0][i]
        P = np.asarray(base.P_by_stage()) + eps * rng.random((H, 4, 3, 4))
        R = np.clip(np.asarray(base.R_by_stage()) + eps * (rng.random((H, 4, 3)) - 0.5), 0.0, 1.0)
        pool.append(EpisodicMDP(P / P.sum(axis=3, keepdims=True), R, H, base.initial))
    idx = rng.integers(0, len(pool), size=30)
    ns = NonStationaryMDP.from_index(pool, idx)
    Qs = [q_star(m) for m in pool]
    for k1 in range(0, 30, 3):
        for k2 in range(k1 + 1, 30, 4):
            v = ns.variation(k1, k2)
            diff = np.abs(Qs[idx[k1]] - Qs[idx[k2]])
            dr, dp = np.array(v.delta_r_by_stage), np.array(v.delta_p_by_stage)
            tight = np.array([sum(dr[g] + 0.5 * (H - g - 1) * dp[g] for g in range(h, H)) for h in range(H)])
            assert np.all(diff <= tight[:, None, None] + 1e-12)
            assert np.all(diff <= v.delta_r + H * v.delta_p + 1e-12)


def test_perturbation_lemma_is_attained_by_a_reward_shift():
    # one stage's reward raised by eps everywhere: Q_0 moves by exactly eps = Delta_r
    m = rand_model(3, stage_R=True)
    R = np.asarray(m.R_by_stage()).copy()
    R[2] = np.minimum(R[2] + 0.25, 2.0)
    m2 = m.replace(R=R)
    ns = NonStationaryMDP([(0, m), (1, m2)], 2)
    v = ns.variation()
    assert v.delta_r == pytest.approx(0.25) and v.delta_p == 0.0
    np.testing.assert_allclose(np.abs(q_star(m2) - q_star(m))[0], v.delta_r, rtol=0, atol=1e-12)

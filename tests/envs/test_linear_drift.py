"""The drifting linear family and the linear variation budgets: every model is an exact linear
MDP satisfying Assumption A (norms recomputed here, rows of phi . mu summing to 1); the
construction matches its documented rules block by block; B_theta and B_mu equal a direct
per-episode numpy computation, vanish on stationary sequences, telescope on a linear drift,
and a reference computation with the public script's wrap-around term is detected."""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.core import EpisodicMDP, LinearMDP
from mdptheory.core.nonstationary import NonStationaryMDP
from mdptheory.envs.linear_mdp import random_linear_mdp
from mdptheory.envs.nonstationary import drifting_linear_mdp


def stage_params(lin):
    """(phi (H, S, A, d), mu (H, d, S), theta (H, d)) with explicit stage axes."""
    H, S, A, d = lin.H, lin.S, lin.A, lin.d
    phi = np.broadcast_to(np.asarray(lin.phi), (H, S, A, d))
    mu = np.broadcast_to(np.asarray(lin.mu), (H, d, S))
    theta = np.broadcast_to(np.asarray(lin.theta), (H, d))
    return phi, mu, theta


def linear_budgets_direct(ns, first=0, last=None, wrap=False):
    """B_theta, B_mu by the definition: every consecutive pair of episodes, every stage;
    ``wrap=True`` adds the public script's extra term between the last and the first episode."""
    last = ns.episodes - 1 if last is None else last
    pairs = [(k, k + 1) for k in range(first, last)]
    if wrap:
        pairs.append((last, first))
    bt = bm = 0.0
    for k1, k2 in pairs:
        _, mu1, th1 = stage_params(ns.linear_model(k1))
        _, mu2, th2 = stage_params(ns.linear_model(k2))
        for h in range(ns.H):
            bt += float(np.sqrt(np.sum((th1[h] - th2[h]) ** 2)))
            bm += float(np.sqrt(np.sum((mu1[h] - mu2[h]) ** 2)))
    return bt, bm


@pytest.mark.parametrize("kw", [dict(), dict(S=8, A=4, H=3, d=6, episodes=60, speed=6, n_chain=3, seed=3)])
def test_every_model_is_an_exact_linear_mdp_with_assumption_a(kw):
    ns = drifting_linear_mdp(**kw)
    assert ns.is_linear and len(ns.linear_models) == ns.n_models
    for lin, tab in zip(ns.linear_models, ns.models):
        phi, mu, theta = stage_params(lin)
        d = lin.d
        P = np.einsum("hsak,hkt->hsat", phi, mu)
        assert P.min() >= 0.0
        np.testing.assert_allclose(P.sum(axis=3), 1.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(mu.sum(axis=2), 1.0, rtol=0, atol=1e-12)          # mu rows renormalised
        np.testing.assert_allclose(np.asarray(tab.stage_P()), P, rtol=0, atol=1e-15)
        R = np.einsum("hsak,hk->hsa", phi, theta)
        np.testing.assert_allclose(np.asarray(tab.stage_R()), R, rtol=0, atol=1e-15)
        assert R.min() >= 0.0 and R.max() <= 1.0                                      # N1
        # Assumption A: ||phi|| <= 1, ||mu_h(S)|| <= sqrt(d), ||theta_h|| <= sqrt(d)
        assert np.sqrt((phi ** 2).sum(axis=3)).max() <= 1.0 + 1e-15
        assert np.sqrt((mu.sum(axis=2) ** 2).sum(axis=1)).max() <= np.sqrt(d) * (1 + 1e-12)
        assert np.sqrt((theta ** 2).sum(axis=1)).max() <= np.sqrt(d)
        assert tab.reward_noise == "deterministic"


def test_construction_follows_the_documented_rules():
    S, A, H, d, K, speed, nc, stay = 9, 5, 4, 7, 84, 7, 4, 0.97
    ns = drifting_linear_mdp(S, A, H, d, K, speed=speed, n_chain=nc, stay=stay, seed=5)
    phi = np.asarray(ns.linear_model(0).phi)
    assert phi.shape == (S, A, d) and set(np.unique(phi)) == {0.0, 1.0} and np.all(phi.sum(axis=2) == 1.0)
    z = phi.argmax(axis=2)
    for i in range(nc):                               # chain state i, special action A-1-i -> latent i
        assert z[i, A - 1 - i] == i
        assert all(z[i, a] != i for a in range(A) if a != A - 1 - i)
    np.testing.assert_allclose(np.asarray(ns.models[0].initial), np.full(S, 1.0 / S))
    first_bg = None
    for b in range(speed):                            # blocks of K / speed = 12 episodes
        ks = range(b * K // speed, (b + 1) * K // speed)
        assert len({ns.model_id(k) for k in ks}) == 1
        _, mu, theta = stage_params(ns.linear_model(b * K // speed))
        g = (b + 1) % nc
        for i in range(nc):
            row = np.zeros(S)
            row[i], row[i + 1] = (stay, 1 - stay) if i == g else (1 - stay, stay)
            np.testing.assert_allclose(mu[:, i, :], np.broadcast_to(row, (H, S)), rtol=0, atol=1e-15)
        bg = mu[:, nc:, :]
        if b % 2 == 0:                                # 0.8 / 0.2 on two states, the same in every even block
            assert np.all(np.sort(bg, axis=2)[:, :, -2:] == [0.2, 0.8]) and np.all((bg > 0).sum(axis=2) == 2)
            first_bg = bg if first_bg is None else first_bg
            np.testing.assert_array_equal(bg, first_bg)
        else:                                         # uniform on the other S - 2 states
            np.testing.assert_allclose(bg[first_bg == 0], 1.0 / (S - 2), rtol=0, atol=1e-15)
            assert np.all(bg[first_bg > 0] == 0.0)
        last = np.zeros(d)
        last[:nc] = 0.001
        last[g] = 1.0
        np.testing.assert_array_equal(theta[H - 1], last)
        assert np.all(theta[:H - 1, g] == 0.0)
        early = np.delete(theta[:H - 1], g, axis=1)
        assert np.all((early >= 0.005) & (early <= 0.008))
    # blocks with the same (g, parity) share one model object: speed 9, n_chain 2 -> (g, b % 2)
    ns2 = drifting_linear_mdp(6, 3, 2, 3, 90, speed=9, n_chain=2, seed=1)
    assert ns2.n_models == 2 and ns2.variation().n_changes == 8
    # the optimal first-block value depends on the block: the best chain latent moves
    assert len({round(float(v), 12) for v in _vstars(ns)}) > 1


def _vstars(ns):
    out = []
    for m in ns.models:
        P, R = np.asarray(m.stage_P()), np.asarray(m.stage_R())
        V = np.zeros(m.S)
        for h in range(m.H - 1, -1, -1):
            V = (R[h] + P[h] @ V).max(axis=1)
        out.append(np.asarray(m.initial) @ V)
    return out


def test_seed_reproducibility_and_validation():
    a, b = drifting_linear_mdp(seed=4), drifting_linear_mdp(seed=4)
    for la, lb in zip(a.linear_models, b.linear_models):
        assert np.array_equal(la.mu, lb.mu) and np.array_equal(la.theta, lb.theta) and np.array_equal(la.phi, lb.phi)
    c = drifting_linear_mdp(seed=np.random.default_rng(4))
    assert np.array_equal(c.linear_models[3].mu, a.linear_models[3].mu)
    assert not np.array_equal(drifting_linear_mdp(seed=5).linear_models[0].phi, a.linear_models[0].phi)
    with pytest.raises(ValueError, match="n_chain = 6 must be in"):
        drifting_linear_mdp(A=5, n_chain=6)
    with pytest.raises(ValueError, match="speed = 11 must be in"):
        drifting_linear_mdp(episodes=10, speed=11)
    with pytest.raises(ValueError, match="S = 2"):
        drifting_linear_mdp(S=2, n_chain=1)
    with pytest.raises(ValueError, match="stay"):
        drifting_linear_mdp(stay=1.5)
    with pytest.raises(TypeError, match="speed"):
        drifting_linear_mdp(speed=2.0)


# ---------------------------------------------------------------------------------------
# the linear budgets B_theta, B_mu
# ---------------------------------------------------------------------------------------


def test_linear_budgets_equal_the_direct_computation_and_catch_the_wrap_around():
    ns = drifting_linear_mdp(S=8, A=4, H=3, d=6, episodes=60, speed=6, n_chain=3, seed=2)
    v = ns.variation()
    bt, bm = linear_budgets_direct(ns)
    assert v.b_theta == pytest.approx(bt, rel=1e-12) and v.b_mu == pytest.approx(bm, rel=1e-12)
    assert v.b == pytest.approx(bt + bm, rel=1e-12) and bt > 0 and bm > 0
    assert sum(v.b_theta_by_stage) == pytest.approx(v.b_theta) and len(v.b_mu_by_stage) == 3
    for first, last in [(0, 9), (5, 31), (12, 12), (40, 59)]:             # local budgets
        w = ns.variation(first, last)
        bt, bm = linear_budgets_direct(ns, first, last)
        assert w.b_theta == pytest.approx(bt, rel=1e-12, abs=1e-15)
        assert w.b_mu == pytest.approx(bm, rel=1e-12, abs=1e-15)
    # the public script's B_mu loop also adds ||mu[0] - mu[-1]||: a reference with it disagrees
    bt_w, bm_w = linear_budgets_direct(ns, wrap=True)
    assert bm_w - v.b_mu > 0.1 and bt_w - v.b_theta > 0.1
    # the tabular budgets are still reported, and the engine's measures carry both
    assert v.delta_r > 0 and v.delta_p > 0


def test_linear_budgets_vanish_on_stationary_sequences():
    one = drifting_linear_mdp(S=6, A=3, H=2, d=4, episodes=30, speed=1, n_chain=2)
    v = one.variation()
    assert one.n_models == 1 and v.b_theta == 0.0 and v.b_mu == 0.0 and v.b == 0.0 and one.stationary
    lin = random_linear_mdp(5, 2, 3, horizon=3, seed=0, stage_dependent=True)
    ns = NonStationaryMDP([(0, lin), (4, lin), (9, lin)], 12)             # one object: one segment
    assert ns.variation().b == 0.0 and ns.variation().n_changes == 0 and ns.linear_model(11) is lin
    # two equal but distinct objects: a change point with zero budget
    twin = LinearMDP(lin.phi, lin.mu, lin.theta, 3, lin.initial)
    ns2 = NonStationaryMDP.from_index([lin, twin], np.array([0, 0, 1, 1, 0]))
    v2 = ns2.variation()
    assert v2.n_changes == 2 and v2.b_theta == 0.0 and v2.b_mu == 0.0


def test_linear_drift_budget_telescopes():
    """Collinear mixtures (1 - w) x_a + w x_b: B = sum_h ||x_b - x_a|| exactly (up to rounding)."""
    a = random_linear_mdp(5, 3, 4, horizon=3, seed=1, stage_dependent=True)
    rng = np.random.default_rng(9)
    b = LinearMDP(a.phi, rng.dirichlet(np.ones(5), size=(3, 4)), rng.random(4), 3, rng.dirichlet(np.ones(5)))
    ns = NonStationaryMDP.drift(a, b, 50, levels=11)
    assert ns.is_linear and ns.n_models == 11 and ns.linear_models[0] is a and ns.linear_models[-1] is b
    v = ns.variation()
    mu_a, mu_b = np.asarray(a.mu), np.asarray(b.mu)
    th_a, th_b = np.asarray(a.theta), np.broadcast_to(np.asarray(b.theta), (3, 4))
    assert v.b_mu == pytest.approx(sum(np.linalg.norm(mu_b[h] - mu_a[h]) for h in range(3)), rel=1e-9)
    assert v.b_theta == pytest.approx(sum(np.linalg.norm(th_b[h] - th_a[h]) for h in range(3)), rel=1e-9)
    mid = ns.linear_models[5]
    np.testing.assert_allclose(np.asarray(mid.mu), 0.5 * (mu_a + mu_b), rtol=0, atol=1e-15)
    half = 0.5 * (np.asarray(a.initial) + np.asarray(b.initial))
    np.testing.assert_allclose(np.asarray(mid.initial), half, rtol=0, atol=1e-15)


def test_tabular_sequences_have_no_linear_budget_and_mixing_is_rejected():
    lin = random_linear_mdp(4, 2, 3, horizon=2, seed=0)
    other = random_linear_mdp(4, 2, 3, horizon=2, seed=1)              # another feature map
    tab = lin.to_mdp()
    ns = NonStationaryMDP([(0, tab)], 5)
    assert not ns.is_linear and ns.linear_models is None and ns.variation().b is None
    with pytest.raises(ValueError, match="not built from LinearMDP"):
        ns.linear_model(0)
    with pytest.raises(TypeError, match=r"schedule model\[1\] \(EpisodicMDP\) and schedule model\[0\] "
                                        r"\(LinearMDP\) are of different kinds"):
        NonStationaryMDP([(0, lin), (2, tab)], 5)
    with pytest.raises(ValueError, match=r"models\[1\] has a different feature map"):
        NonStationaryMDP.from_index([lin, other], np.array([0, 1]))
    assert isinstance(NonStationaryMDP([(0, lin), (2, lin)], 5).model(3), EpisodicMDP)

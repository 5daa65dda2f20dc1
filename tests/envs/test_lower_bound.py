"""The lower-bound family: the stationary member, the arm count, the bias per K and the derived
lower bound, checked against enumerations and closed forms written here."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.envs import lower_bound_instance, lower_bound_layout
from mdptheory.envs.lower_bound import EPSILON_MAX, lower_bound_arms, lower_bound_epsilon, lower_bound_regret


def stage_kernels(mdp):
    P = np.asarray(mdp.P)
    return np.broadcast_to(P, (mdp.H,) + P.shape) if P.ndim == 3 else P


def coin_arms(mdp, lay):
    """Every (stage, leaf, action) whose coin an episode can play: forward reachability over the
    support of the kernels from the initial state (written here, no package code)."""
    P = stage_kernels(mdp)
    reach = {int(np.argmax(mdp.initial))}
    arms = set()
    for h in range(mdp.H):
        nxt = set()
        for s in reach:
            for a in range(mdp.A):
                if s in lay["leaves"]:
                    arms.add((h, s, a))
                nxt |= set(np.flatnonzero(P[h, s, a] > 0).tolist())
        reach = nxt
    return arms


def plain_values(mdp):
    """rho . V*_0 by a plain backward induction (no package solver)."""
    P, H = stage_kernels(mdp), mdp.H
    R = np.asarray(mdp.R)
    R = np.broadcast_to(R, (H,) + R.shape) if R.ndim == 2 else R
    V = np.zeros(mdp.S)
    for h in range(H - 1, -1, -1):
        V = np.max(R[h] + P[h] @ V, axis=1)
    return float(np.asarray(mdp.initial) @ V)


@pytest.mark.parametrize("A,depth,H", [(2, 1, 6), (3, 1, 8), (2, 2, 9), (2, 0, 5)])
@pytest.mark.parametrize("stationary", [False, True])
def test_arms_and_rewarded_stages_by_enumeration(A, depth, H, stationary):
    eps = 0.1
    mdp = lower_bound_instance(A, depth, H, epsilon=eps, stationary=stationary, seed=4)
    lay = lower_bound_layout(A, depth)
    N, m = lower_bound_arms(A, depth, H, stationary=stationary)
    arms = coin_arms(mdp, lay)
    # the distinct coins: in the stationary member the stage does not change the coin
    coins = {(l, a) for (_, l, a) in arms} if stationary else arms
    assert N == len(coins)
    assert m == round(2 * plain_values(lower_bound_instance(A, depth, H, epsilon=0.0,
                                                            stationary=stationary, seed=4)))
    assert plain_values(mdp) == pytest.approx((0.5 + eps) * m, abs=1e-12)
    assert mdp.stationary is stationary
    if not stationary:
        wait = (H - depth - 3) // 2
        assert N == A ** depth * A * (wait + 1)


def test_stationary_member_every_wrong_arm_is_worth_half():
    A, depth, H, eps = 2, 1, 7, 0.2
    mdp = lower_bound_instance(A, depth, H, epsilon=eps, stationary=True, target=(1, 0))
    lay = lower_bound_layout(A, depth)
    m = H - depth - 2
    # a fixed route: root action `leaf` then `action` at the leaf, evaluated exactly
    for leaf in range(A ** depth):
        for action in range(A):
            pi = np.zeros((H, mdp.S), dtype=np.int64)
            pi[:, lay["root"]] = leaf
            pi[:, lay["leaves"]] = action
            v = mt.evaluate(mdp, pi)[0, lay["wait"]]
            want = (0.5 + eps) * m if (leaf, action) == (1, 0) else 0.5 * m
            assert v == pytest.approx(want, abs=1e-12)
    P = np.asarray(mdp.P)
    assert P.shape == (mdp.S, A, mdp.S) and np.asarray(mdp.R).shape == (mdp.S, A)
    assert P[lay["leaves"][1], 0, lay["good"]] == pytest.approx(0.5 + eps)


def test_seeded_target_draws_are_unchanged():
    # stage-dependent member: leaf, action, stage drawn in this order from default_rng(seed)
    A, depth, H = 2, 1, 9
    lay = lower_bound_layout(A, depth)
    wait = (H - depth - 3) // 2
    for seed in range(5):
        rng = np.random.default_rng(seed)
        lt, at = int(rng.integers(len(lay["leaves"]))), int(rng.integers(A))
        ht = int(rng.choice(list(range(depth + 1, wait + depth + 2))))
        mdp = lower_bound_instance(A, depth, H, epsilon=0.2, seed=seed)
        assert mdp.P[ht, lay["leaves"][lt], at, lay["good"]] == pytest.approx(0.7)


def test_epsilon_per_K():
    for st in (False, True):
        N, _ = lower_bound_arms(2, 1, 10, stationary=st)
        c = (1 - 1 / N) / (4 * math.sqrt(math.log(4 / 3)))
        for K in (1, 10, 1000, 10**7):
            assert lower_bound_epsilon(K, 2, 1, 10, stationary=st) == pytest.approx(min(c * math.sqrt(N / K), 0.25))
        assert lower_bound_epsilon(100.0, 2, 1, 10, stationary=st, scale=2.0) == pytest.approx(
            min(2 * math.sqrt(N / 100), 0.25))
    ks = np.array([1e2, 1e4, 1e6])
    assert np.allclose(lower_bound_epsilon(ks), [lower_bound_epsilon(float(k)) for k in ks])
    assert lower_bound_epsilon(1) == EPSILON_MAX


def test_lower_bound_closed_form_and_sanity():
    A, depth, H = 2, 1, 10
    for st in (False, True):
        N, m = lower_bound_arms(A, depth, H, stationary=st)
        for K in (100, 10**4, 10**6):
            eps = lower_bound_epsilon(K, A, depth, H, stationary=st)
            lb = lower_bound_regret(K, eps, A, depth, H, stationary=st)
            # at the optimal bias the bound is (1 - 1/N)^2 / (8 sqrt(ln 4/3)) m sqrt(N K)
            if eps < 0.25:
                assert lb == pytest.approx((1 - 1 / N) ** 2 / (8 * math.sqrt(math.log(4 / 3))) * m * math.sqrt(N * K),
                                           rel=1e-12)
            # every learner that ignores the data pays eps m K (1 - 1/N) on average over targets
            assert lb <= eps * m * K * (1 - 1 / N)
        # the bias of lower_bound_epsilon maximises the bound over eps
        K = 10**5
        grid = np.linspace(1e-5, 0.25, 20001)
        vals = lower_bound_regret(K, grid, A, depth, H, stationary=st)
        e_best = grid[np.argmax(vals)]
        assert e_best == pytest.approx(lower_bound_epsilon(K, A, depth, H, stationary=st), rel=2e-3)


def test_average_regret_of_fixed_arm_players_is_above_the_bound():
    # a learner that always plays one arm: exact regret eps m K off its arm, 0 on it; the
    # average over all N targets is eps m K (1 - 1/N), above the bound. Checked with the engine.
    from mdptheory.learners.base import Learner

    class Fixed(Learner):
        normalization = None

        def reset(self, S, A, H, rng):
            super().reset(S, A, H, rng)
            self._pi = np.zeros((H, S), dtype=np.int64)

    A, depth, H, K = 2, 1, 6, 400
    N, m = lower_bound_arms(A, depth, H, stationary=True)
    eps = lower_bound_epsilon(K, A, depth, H, stationary=True)
    regs = [mt.run(Fixed(), lower_bound_instance(A, depth, H, epsilon=eps, stationary=True, target=(l, a)),
                   K, progress=False, backend="python").cumulative()[0, -1]
            for l in range(A ** depth) for a in range(A)]
    assert len(regs) == N
    assert np.mean(regs) == pytest.approx(eps * m * K * (1 - 1 / N), rel=1e-9)
    assert np.mean(regs) >= lower_bound_regret(K, eps, A, depth, H, stationary=True)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: lower_bound_instance(2, 1, 9, stationary=True, wait=2), ValueError, "no waiting"),
    (lambda: lower_bound_instance(2, 1, 9, stationary=True, target=(0, 0, 3)), TypeError, r"\(leaf_index, action\) pair"),
    (lambda: lower_bound_instance(2, 1, 9, target=(0, 0)), TypeError, "triple"),
    (lambda: lower_bound_instance(2, 1, 9, stationary="yes"), TypeError, "stationary"),
    (lambda: lower_bound_epsilon(0), ValueError, "episodes"),
    (lambda: lower_bound_epsilon(10, scale=0.0), ValueError, "scale"),
    (lambda: lower_bound_regret(10, 0.3), ValueError, "epsilon"),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()

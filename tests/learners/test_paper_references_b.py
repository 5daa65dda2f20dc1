"""Independent plain-Python references, written here from the papers' pseudo-code (notes
sections 5, 6, 7, 9 and docs/learner_protocol.md for the random-number order), against the
package's compiled loops and teaching paths, step for step on the same random stream.

Nothing here calls package learner or sampler code: the references keep their own
per-(h, s, a) sample lists / dictionaries, compute stage ends with exact rationals, draw
from the generator with their own inverse-CDF scan and evaluate the played policies with
their own backward induction. The package must agree on every action of every episode
(identical returns), on the pseudo-regret of every episode and, for the teaching path, on
the final value tables.

For Q-EarlySettled-Advantage the three bugs of the public implementation listed in the
notes (section 6) are injected into the reference one at a time: each buggy variant must
*disagree* with the package on the same stream, so these tests fail if the package
repeated any of them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdptheory.core import EpisodicMDP
from mdptheory.learners import (EULER, PSRL, CertaintyEquivalence, EpsilonGreedyQLearning,
                                QEarlySettledAdvantage, UCBAdvantage)
from mdptheory.regret import run

from _reference_harness import argmax_low, draw, env_step, stage_ends, ucb_advantage_tables


# ---------------------------------------------------------------------------------------
# environment side, written from docs/learner_protocol.md
# ---------------------------------------------------------------------------------------

def value(mdp, pi):
    """rho . V^pi_1 by backward induction (deterministic (H,S) or stochastic (H,S,A))."""
    P, R, H, S = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage()), mdp.H, mdp.S
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        Q = R[h] + P[h] @ V
        V = Q[np.arange(S), pi[h]] if pi.ndim == 2 else (pi[h] * Q).sum(axis=1)
    return float(np.asarray(mdp.initial) @ V)


def v_star(mdp):
    P, R, S = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage()), mdp.S
    V = np.zeros(S)
    for h in range(mdp.H - 1, -1, -1):
        V = (R[h] + P[h] @ V).max(axis=1)
    return float(np.asarray(mdp.initial) @ V)


def drive(ref, mdp, K, seed, action_draw=False, extra_draw=None):
    """Run ``ref`` (methods policy(k) -> table, update(h, s, a, r, s2)) with the engine's
    draw order; returns (pseudo-regret, returns)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    P, R = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage())
    init = np.asarray(mdp.initial)
    vs = v_star(mdp)
    reg, rets = np.empty(K), np.empty(K)
    for k in range(K):
        pi = ref.policy(k, rng)
        reg[k] = vs - value(mdp, pi)
        s = draw(rng, init)
        G = 0.0
        for h in range(mdp.H):
            a = draw(rng, pi[h, s]) if action_draw else int(pi[h, s])
            r, s2 = env_step(rng, P, R, mdp.reward_noise, h, s, a)
            if extra_draw is not None:
                extra_draw(ref, rng, h, s, a, r, s2)
            else:
                ref.update(h, s, a, r, s2)
            G += r
            s = s2
        rets[k] = G
    return reg, rets


def small(seed=0, S=3, A=2, H=4, stage=False, noise="deterministic"):
    rng = np.random.default_rng(seed)
    shape = (H, S, A) if stage else (S, A)
    P = rng.dirichlet(np.ones(S), size=shape)
    return EpisodicMDP(P, rng.random(shape), H, np.full(S, 1.0 / S), reward_noise=noise)


def check_against_package(learner, ref_factory, mdp, K, seed, table, **kw):
    ref = ref_factory()
    reg, rets = drive(ref, mdp, K, seed, **kw)
    comp = run(learner, mdp, K, [seed], backend="compiled", progress=False)
    teach = run(learner, mdp, K, [seed], backend="python", progress=False)
    assert np.array_equal(comp.returns[0], rets)          # every action of every episode
    assert np.array_equal(teach.returns[0], rets)
    np.testing.assert_allclose(comp.pseudo_regret[0], reg, rtol=0, atol=1e-10)
    np.testing.assert_allclose(teach.pseudo_regret[0], reg, rtol=0, atol=1e-10)
    if table is not None:
        mine, theirs = table(ref, learner)
        np.testing.assert_allclose(theirs, mine, rtol=0, atol=1e-9)
    return ref, reg


# ---------------------------------------------------------------------------------------
# UCB-Advantage (Zhang, Zhou & Ji 2020, Algorithm 1; notes section 5)
# ---------------------------------------------------------------------------------------

class UCBAdvantageRef:
    """Algorithm 1 (rewards folded into the targets per sample): stage ends L = {e_1, e_1 + e_2, ...},
    e_1 = H, e_{i+1} = floor((1 + 1/H) e_i) in exact rationals; per (h, s, a) the list of
    all next-state reference values and the list of the current stage's
    (V_{h+1}(s'), V^ref_{h+1}(s')) pairs, values as they were at each visit."""

    def __init__(self, S, A, H, delta, c1=1.0, c2=1.0, c3=1.0, c4=1.0, bonus_scale=1.0):
        self.S, self.A, self.H = S, A, H
        self.iota = math.log(2.0 / delta)
        beta = 1.0 / math.sqrt(H)
        self.N0 = math.ceil(c4 * S * A * H ** 5 * self.iota / beta ** 2)
        self.c1, self.c2, self.c3, self.bs = c1, c2, c3, bonus_scale
        # 0-based stage h <-> the paper's h + 1: initial values H - (h+1) + 1 = H - h
        self.Q, self.V, self.Vref, self.all_ref, self.stage, self.visits = ucb_advantage_tables(S, A, H)
        self.ends = stage_ends(H, 10 ** 7)

    def policy(self, k, rng):
        return np.array([[argmax_low([self.Q[h, s, a] for a in range(self.A)]) for s in range(self.S)]
                         for h in range(self.H)], dtype=np.int64)

    def update(self, h, s, a, r, s2):
        key = (h, s, a)
        v, vr = self.V[h + 1, s2], self.Vref[h + 1, s2]
        self.all_ref[key].append((r, vr))         # rewards kept per sample: exact for
        self.stage[key].append((r, v, vr))        # stochastic rewards too
        n = len(self.all_ref[key])
        if n in self.ends:
            H, io = self.H, self.iota
            st = self.stage[key]
            nc = len(st)
            mu = 0.0
            nu = 0.0
            sig = 0.0
            for r_, v_, vr_ in st:
                mu += r_ + v_                      # standard rule: r + V_{h+1}(s')
                nu += v_ - vr_                    # advantage V - V^ref
                sig += (v_ - vr_) ** 2
            muref = 0.0
            sigref = 0.0
            for r_, x in self.all_ref[key]:
                muref += r_ + x                   # reference rule: r + V^ref_{h+1}(s')
                sigref += (r_ + x) ** 2
            b = self.c1 * math.sqrt(H * H * io / nc)
            var_ref = max(sigref / n - (muref / n) ** 2, 0.0)
            var_adv = max(sig / nc - (nu / nc) ** 2, 0.0)
            bbar = (self.c2 * (math.sqrt(var_ref * io / n) + math.sqrt(var_adv * io / nc))
                    + self.c3 * (H * io / n + H * io / nc + H * io ** 0.75 / n ** 0.75
                                 + H * io ** 0.75 / nc ** 0.75))
            self.Q[key] = min(mu / nc + self.bs * b, muref / n + nu / nc + self.bs * bbar, self.Q[key])
            self.V[h, s] = max(self.Q[h, s, b_] for b_ in range(self.A))
            self.stage[key] = []
        self.visits[h, s] += 1
        if self.visits[h, s] == self.N0:           # learn the reference once
            self.Vref[h, s] = self.V[h, s]


def _q_table(ref, learner):
    H, S, A = ref.H, ref.S, ref.A
    mine = np.array([[[ref.Q[h, s, a] for a in range(A)] for s in range(S)] for h in range(H)])
    return mine, learner._Q


@pytest.mark.parametrize("stage,bs,c4", [(False, 0.05, 1e-6), (True, 0.05, 1e-6), (True, 0.3, 1e-6),
                                         (False, 0.05, 1.0)])
def test_ucb_advantage_matches_paper_reference(stage, bs, c4):
    mdp = small(seed=1, stage=stage)
    L = UCBAdvantage(bonus_scale=bs, c4=c4, delta=0.05)
    ref, reg = check_against_package(
        L, lambda: UCBAdvantageRef(3, 2, 4, 0.05, c4=c4, bonus_scale=bs), mdp, 600, 7, _q_table)
    if c4 < 1:
        # the reference was really learned (N0 reached) and changed something
        assert any(ref.Vref[h, s] != 4 for h in range(4) for s in range(3))
    assert np.ptp(reg) > 0                         # the played policy changed


def test_ucb_advantage_matches_paper_reference_bernoulli_rewards():
    """Stochastic rewards: the targets r + V and r + V^ref use each sample's own reward."""
    mdp = small(seed=4, noise="bernoulli")
    L = UCBAdvantage(bonus_scale=0.05, c4=1e-6, delta=0.05)
    check_against_package(L, lambda: UCBAdvantageRef(3, 2, 4, 0.05, c4=1e-6, bonus_scale=0.05),
                          mdp, 600, 3, _q_table)


# ---------------------------------------------------------------------------------------
# Q-EarlySettled-Advantage (Li, Shi, Chen, Gu & Chi 2021, Algorithms 1-2; notes section 6)
# ---------------------------------------------------------------------------------------

class QESRef:
    """Algorithm 1 with the auxiliary functions of Algorithm 2 (update-ucb-q, update-lcb-q,
    update-moments, update-bonus, update-ucb-q-advantage), one dictionary per table.
    ``bug`` injects one of the three bugs of the public implementation."""

    def __init__(self, S, A, H, K, delta, cb=1.0, thr=1.0, bug=None):
        self.S, self.A, self.H = S, A, H
        self.iota = math.log(S * A * H * K / delta)
        self.cb, self.thr, self.bug = cb, thr, bug
        keys = [(h, s, a) for h in range(H) for s in range(S) for a in range(A)]
        self.N = dict.fromkeys(keys, 0)
        self.Q = dict.fromkeys(keys, float(H))
        self.Qucb = dict.fromkeys(keys, float(H))
        self.QR = dict.fromkeys(keys, float(H))
        self.Qlcb = dict.fromkeys(keys, 0.0)
        self.mu_ref = dict.fromkeys(keys, 0.0)
        self.sig_ref = dict.fromkeys(keys, 0.0)
        self.mu_adv = dict.fromkeys(keys, 0.0)
        self.sig_adv = dict.fromkeys(keys, 0.0)
        self.BR = dict.fromkeys(keys, 0.0)
        self.V, self.VR, self.Vlcb = {}, {}, {}
        for h in range(H + 1):
            for s in range(S):
                self.V[h, s] = float(H) if h < H else 0.0
                self.VR[h, s] = float(H) if h < H else 0.0
                self.Vlcb[h, s] = 0.0
        # settle flag u^ref: per (h, s) (bug 3 keeps one flag per state)
        self.uref = {s: True for s in range(S)} if bug == 3 else \
            {(h, s): True for h in range(H) for s in range(S)}

    def policy(self, k, rng):
        return np.array([[argmax_low([self.Q[h, s, a] for a in range(self.A)]) for s in range(self.S)]
                         for h in range(self.H)], dtype=np.int64)

    def update(self, h, s, a, r, s2):
        key, H, io, cb = (h, s, a), self.H, self.iota, self.cb
        self.N[key] += 1
        n = float(self.N[key])
        eta = (H + 1.0) / (H + n)
        v, vr, vl = self.V[h + 1, s2], self.VR[h + 1, s2], self.Vlcb[h + 1, s2]
        bonus = cb * math.sqrt(H ** 3 * io / n)
        # update-ucb-q
        self.Qucb[key] = (1 - eta) * self.Qucb[key] + eta * (r + v + bonus)
        # update-lcb-q: the bonus is SUBTRACTED (bug 1 adds it)
        lcb_bonus = bonus if self.bug == 1 else -bonus
        self.Qlcb[key] = (1 - eta) * self.Qlcb[key] + eta * (r + vl + lcb_bonus)
        # update-moments
        self.mu_ref[key] = (1 - 1 / n) * self.mu_ref[key] + (1 / n) * vr
        self.sig_ref[key] = (1 - 1 / n) * self.sig_ref[key] + (1 / n) * (vr * vr)
        self.mu_adv[key] = (1 - eta) * self.mu_adv[key] + eta * (v - vr)
        self.sig_adv[key] = (1 - eta) * self.sig_adv[key] + eta * ((v - vr) * (v - vr))
        # update-bonus
        m1, m2 = self.mu_ref[key], self.mu_adv[key]
        Bnext = cb * math.sqrt(io / n) * (math.sqrt(max(self.sig_ref[key] - m1 * m1, 0.0))
                                          + math.sqrt(H) * math.sqrt(max(self.sig_adv[key] - m2 * m2, 0.0)))
        dR = Bnext - self.BR[key]
        self.BR[key] = Bnext
        # update-ucb-q-advantage
        bR = self.BR[key] + (1 - eta) * dR / eta + cb * H * H * io / n ** 0.75
        self.QR[key] = (1 - eta) * self.QR[key] + eta * (r + v - vr + m1 + bR)
        # combine: Q^LCB is NOT in the min (bug 2 puts it there)
        cands = [self.QR[key], self.Qucb[key], self.Q[key]] + ([self.Qlcb[key]] if self.bug == 2 else [])
        self.Q[key] = min(cands)
        self.V[h, s] = max(self.Q[h, s, b] for b in range(self.A))
        self.Vlcb[h, s] = max(max(self.Qlcb[h, s, b] for b in range(self.A)), self.Vlcb[h, s])
        flag = s if self.bug == 3 else (h, s)
        if self.V[h, s] - self.Vlcb[h, s] > self.thr:
            self.VR[h, s] = self.V[h, s]
        elif self.uref[flag]:
            self.VR[h, s] = self.V[h, s]
            self.uref[flag] = False


def _qes_tables(ref, learner):
    H, S, A = ref.H, ref.S, ref.A
    mine = np.array([[[ref.Q[h, s, a] for a in range(A)] for s in range(S)] for h in range(H)])
    vr = np.array([[ref.VR[h, s] for s in range(S)] for h in range(H + 1)])
    vl = np.array([[ref.Vlcb[h, s] for s in range(S)] for h in range(H + 1)])
    return np.concatenate([mine.ravel(), vr.ravel(), vl.ravel()]), \
        np.concatenate([learner._Q.ravel(), learner._VR.ravel(), learner._Vlcb.ravel()])


@pytest.mark.parametrize("stage,noise,bs", [(False, "deterministic", 0.02), (True, "bernoulli", 0.02),
                                            (True, "deterministic", 1.0)])
def test_q_earlysettled_matches_paper_reference(stage, noise, bs):
    mdp = small(seed=2, stage=stage, noise=noise)
    K = 500
    L = QEarlySettledAdvantage(bonus_scale=bs, delta=0.05)
    check_against_package(L, lambda: QESRef(3, 2, 4, K, 0.05, cb=bs), mdp, K, 11, _qes_tables)


# an instance on which each bug changes the trajectory: deterministic chain-like dynamics,
# H = 3, a small settle threshold so references settle inside the run
def _bug_instance():
    return small(seed=5, S=3, A=2, H=3, stage=False)


@pytest.mark.parametrize("bug", [1, 2, 3])
def test_q_earlysettled_differs_from_each_public_bug(bug):
    mdp = _bug_instance()
    K, bs, thr = 1500, 0.02, 0.3
    L = QEarlySettledAdvantage(bonus_scale=bs, settle_threshold=thr, delta=0.05)
    # the correct reference agrees with the package on this very stream ...
    good = QESRef(3, 2, 3, K, 0.05, cb=bs, thr=thr)
    _, rets_good = drive(good, mdp, K, 3)
    pkg = run(L, mdp, K, [3], backend="compiled", progress=False)
    assert np.array_equal(pkg.returns[0], rets_good)
    teach = run(L, mdp, K, [3], backend="python", progress=False)
    # ... and the buggy one does not (values or trajectory differ)
    bad = QESRef(3, 2, 3, K, 0.05, cb=bs, thr=thr, bug=bug)
    _, rets_bad = drive(bad, mdp, K, 3)
    mine, theirs = _qes_tables(bad, L)
    assert not (np.array_equal(rets_bad, rets_good) and np.allclose(mine, theirs, atol=1e-9)), bug
    if bug == 3:
        # with one flag per state, a settle at one stage blocks the final reference update of
        # the same state at another stage: some (h, s) has a reference that is not the value
        # it had when its own gap first fell below the threshold
        good_vr = np.array([[good.VR[h, s] for s in range(3)] for h in range(3)])
        bad_vr = np.array([[bad.VR[h, s] for s in range(3)] for h in range(3)])
        assert not np.allclose(good_vr, bad_vr)
        assert teach.backend == "python"   # L holds the teaching-path state of seed 3
        np.testing.assert_allclose(L._VR[:-1], good_vr, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------------------
# EULER (Zanette & Brunskill 2019, Algorithm 1; notes section 7)
# ---------------------------------------------------------------------------------------

class EULERRef:
    """Algorithm 1: per episode, for t = H..1 (0-based h = H-1..0), for every s: upper Q of
    every a, greedy action, upper value, lower value of the greedy action. Counts pooled
    over stages; each (s, a) keeps the list of its observed rewards and next states."""

    def __init__(self, S, A, H, K, delta, bs=1.0):
        self.S, self.A, self.H, self.bs = S, A, H, bs
        self.L = math.log(4 * S * A * (K * H) / delta)
        self.rewards = {(s, a): [] for s in range(S) for a in range(A)}
        self.nexts = {(s, a): [] for s in range(S) for a in range(A)}
        self.Vup = self.Vlo = None

    def _model(self, s, a):
        n = len(self.nexts[s, a])
        p = np.zeros(self.S)
        for y in self.nexts[s, a]:
            p[y] += 1.0
        p = p / n
        rs = self.rewards[s, a]
        rhat = sum(rs) / n
        rvar = max(sum(x * x for x in rs) / n - rhat * rhat, 0.0)
        return n, p, rhat, rvar

    def _bonus(self, n, p, rvar, V, Vup, Vlo):
        L, H = self.L, self.H
        Bv, Bp, J = math.sqrt(2 * L), H * math.sqrt(2 * L), H * L / 3
        br = math.sqrt(2 * rvar * L / n) + 7 * L / (3 * max(n - 1, 1))
        mean = float(p @ V)
        var = max(float(p @ (V * V)) - mean * mean, 0.0)
        phi = math.sqrt(2 * var * L / n) + H * L / (3 * max(n - 1, 1))
        norm = math.sqrt(float(p @ ((Vup - Vlo) ** 2)))
        return self.bs * (br + phi + (1 / math.sqrt(n)) * ((4 * J + Bp) / math.sqrt(n) + Bv * norm)), mean

    def policy(self, k, rng):
        S, A, H = self.S, self.A, self.H
        Vup = np.zeros((H + 1, S))
        Vlo = np.zeros((H + 1, S))
        pi = np.zeros((H, S), dtype=np.int64)
        for h in range(H - 1, -1, -1):
            for s in range(S):
                q = []
                for a in range(A):
                    if not self.nexts[s, a]:
                        q.append(float(H - h))
                        continue
                    n, p, rhat, rvar = self._model(s, a)
                    b, pv = self._bonus(n, p, rvar, Vup[h + 1], Vup[h + 1], Vlo[h + 1])
                    q.append(min(float(H - h), rhat + pv + b))
                a = argmax_low(q)
                pi[h, s] = a
                Vup[h, s] = q[a]
                if self.nexts[s, a]:
                    n, p, rhat, rvar = self._model(s, a)
                    b, pl = self._bonus(n, p, rvar, Vlo[h + 1], Vup[h + 1], Vlo[h + 1])
                    Vlo[h, s] = max(0.0, rhat + pl - b)
        self.Vup, self.Vlo = Vup, Vlo
        return pi

    def update(self, h, s, a, r, s2):
        self.rewards[s, a].append(r)
        self.nexts[s, a].append(s2)


@pytest.mark.parametrize("noise,bs", [("bernoulli", 0.1), ("deterministic", 1.0), ("bernoulli", 1.0)])
def test_euler_matches_paper_reference(noise, bs):
    mdp = small(seed=3, S=4, A=2, H=4, noise=noise)
    K = 300
    L = EULER(bonus_scale=bs, delta=0.05)

    def tables(ref, learner):
        ref.policy(K, None)            # plan once more on all the data, as the learner below
        learner.begin_episode(K)
        return np.concatenate([ref.Vup.ravel(), ref.Vlo.ravel()]), \
            np.concatenate([learner._Vup.ravel(), learner._Vlo.ravel()])

    _, reg = check_against_package(L, lambda: EULERRef(4, 2, 4, K, 0.05, bs), mdp, K, 5, tables)
    assert np.ptp(reg) > 0


def test_euler_rejects_stage_dependent_mdp():
    with pytest.raises(ValueError, match="HOM"):
        run(EULER(), small(stage=True), 2, 1)


# ---------------------------------------------------------------------------------------
# PSRL (Osband, Russo & Van Roy 2013; notes section 9) and the baselines
# ---------------------------------------------------------------------------------------

class PSRLRef:
    """Sample M_k from the posterior (Dirichlet(alpha0 + counts) per (s, a) as normalised
    gammas, Beta(1 + successes, 1 + failures) per (s, a) with Bernoullized rewards), play
    its optimal policy. Draw order: for s, for a: S transition gammas, then two reward
    gammas; after every step one uniform for the Bernoullization."""

    def __init__(self, S, A, H, alpha0):
        self.S, self.A, self.H, self.alpha0 = S, A, H, alpha0
        self.counts = np.zeros((S, A, S))
        self.succ = np.zeros((S, A))
        self.fail = np.zeros((S, A))

    def policy(self, k, rng):
        S, A, H = self.S, self.A, self.H
        Pt, Rt = np.zeros((S, A, S)), np.zeros((S, A))
        for s in range(S):
            for a in range(A):
                g = [rng.standard_gamma(self.alpha0 + self.counts[s, a, y]) for y in range(S)]
                tot = sum(g)
                Pt[s, a] = [x / tot for x in g]
                x = rng.standard_gamma(1.0 + self.succ[s, a])
                z = rng.standard_gamma(1.0 + self.fail[s, a])
                Rt[s, a] = x / (x + z)
        V = np.zeros(S)
        pi = np.zeros((H, S), dtype=np.int64)
        for h in range(H - 1, -1, -1):
            Q = Rt + Pt @ V
            pi[h] = [argmax_low(Q[s]) for s in range(S)]
            V = Q.max(axis=1)
        return pi


def _psrl_step(ref, rng, h, s, a, r, s2):
    ref.counts[s, a, s2] += 1
    if rng.random() < r:
        ref.succ[s, a] += 1
    else:
        ref.fail[s, a] += 1


@pytest.mark.parametrize("alpha0", [1.0, 0.3])
def test_psrl_matches_reference(alpha0):
    mdp = small(seed=4, S=3, A=2, H=4, noise="bernoulli")
    check_against_package(PSRL(alpha0=alpha0), lambda: PSRLRef(3, 2, 4, alpha0), mdp, 200, 2, None,
                          extra_draw=_psrl_step)


class EpsGreedyRef:
    """Q-learning with alpha_t = (H+1)/(H+t), no bonus, initial value H; episode k plays
    eps_k = min(1, eps (k+1)^-decay) greedy (ties to the lowest action)."""

    def __init__(self, S, A, H, eps, decay):
        self.S, self.A, self.H, self.eps, self.decay = S, A, H, eps, decay
        self.Q = np.full((H, S, A), float(H))
        self.V = np.zeros((H + 1, S))
        self.V[:H] = H
        self.N = np.zeros((H, S, A))
        self.greedy = np.zeros((H, S), dtype=np.int64)

    def policy(self, k, rng):
        e = min(1.0, self.eps * (k + 1.0) ** (-self.decay))
        probs = np.full((self.H, self.S, self.A), e / self.A)
        for h in range(self.H):
            for s in range(self.S):
                probs[h, s, self.greedy[h, s]] = e / self.A + (1.0 - e)
        return probs

    def update(self, h, s, a, r, s2):
        self.N[h, s, a] += 1
        al = (self.H + 1.0) / (self.H + self.N[h, s, a])
        self.Q[h, s, a] = (1 - al) * self.Q[h, s, a] + al * (r + self.V[h + 1, s2])
        self.greedy[h, s] = argmax_low(self.Q[h, s])
        self.V[h, s] = self.Q[h, s].max()


def test_epsilon_greedy_matches_reference():
    mdp = small(seed=6, S=3, A=3, H=3, noise="bernoulli")
    check_against_package(EpsilonGreedyQLearning(epsilon=0.5, decay=0.4),
                          lambda: EpsGreedyRef(3, 3, 3, 0.5, 0.4), mdp, 300, 4,
                          lambda ref, L: (ref.Q, L._Q), action_draw=True)


class CERef:
    """Plan on the empirical model (pooled counts), unvisited pairs valued ``u``."""

    def __init__(self, S, A, H, u):
        self.S, self.A, self.H, self.u = S, A, H, u
        self.data = {(s, a): [] for s in range(S) for a in range(A)}

    def policy(self, k, rng):
        S, A, H = self.S, self.A, self.H
        V = np.zeros(S)
        pi = np.zeros((H, S), dtype=np.int64)
        for h in range(H - 1, -1, -1):
            Q = np.full((S, A), self.u)
            for (s, a), obs in self.data.items():
                if obs:
                    Q[s, a] = sum(r + V[y] for r, y in obs) / len(obs)
            pi[h] = [argmax_low(Q[s]) for s in range(S)]
            V = Q.max(axis=1)
        return pi

    def update(self, h, s, a, r, s2):
        self.data[s, a].append((r, s2))


@pytest.mark.parametrize("u", [0.0, 4.0])
def test_certainty_equivalence_matches_reference(u):
    mdp = small(seed=8, S=3, A=2, H=4, noise="bernoulli")
    check_against_package(CertaintyEquivalence(unvisited_value=u), lambda: CERef(3, 2, 4, u), mdp, 200, 1, None)

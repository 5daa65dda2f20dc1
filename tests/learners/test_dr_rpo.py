"""DR-RPO (reconstructed box): compiled loop == teaching path; kernels == their twins; the
mirror step against its product form and its fixed point softmax(log pi_ref + Q / tau); an
independent plain-Python reference (probabilities, not logs; per-sample sums; explicit inverse)
agreeing action for action, with two injected defects (no KL term in the soft value, no pull to
the reference) that must be detected; the robust suboptimality of the played *stochastic*
policies recorded by ``run`` against solve_robust and an evaluation written here; the bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdptheory.envs import robust_linear_instance
from mdptheory.envs.linear_mdp import random_linear_mdp
from mdptheory.learners.dr_rpo import DRRPO, drrpo_evaluate, drrpo_evaluate_ref, mirror_step, mirror_step_ref
from mdptheory.regret import run
from mdptheory.solvers.robust import TV, solve_robust

from _reference_harness import draw, env_step


def _instance():
    lin = random_linear_mdp(4, 3, 3, horizon=3, seed=9, stage_dependent=True)
    rho = np.array([[0.3, 0.1, 0.5], [0.2, 0.4, 0.0], [0.6, 0.3, 0.2]])
    return lin, rho


@pytest.mark.parametrize("kw", [dict(rho=0.3, beta=0.3, eta=0.5, tau=0.05),
                                dict(rho=0.5, bonus_scale=0.01, bonus="l2", tau=0.0, rewards="regressed")])
def test_compiled_equals_python(kw):
    lin = random_linear_mdp(5, 3, 3, horizon=3, seed=1, stage_dependent=True)
    a = run(DRRPO(**kw), lin, 120, [0, 3], backend="compiled")
    b = run(DRRPO(**kw), lin, 120, [0, 3], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.robust_suboptimality, b.robust_suboptimality, rtol=0, atol=1e-10)
    c = run(DRRPO(**kw), lin, 120, [0, 3], backend="compiled", workers=2)
    assert np.array_equal(a.robust_suboptimality, c.robust_suboptimality) and np.array_equal(a.returns, c.returns)


def test_mirror_step_twin_product_form_and_fixed_point():
    rng = np.random.default_rng(1)
    H, S, A = 2, 3, 4
    ref = rng.dirichlet(np.ones(A), size=(H, S))
    pi0 = rng.dirichlet(np.ones(A), size=(H, S))
    Q = rng.random((H, S, A)) * 3
    eta, tau = 0.7, 0.4
    L, logref = np.log(pi0), np.log(ref)
    prod = pi0 ** (1 / (1 + eta * tau)) * ref ** (eta * tau / (1 + eta * tau)) * np.exp(eta * Q / (1 + eta * tau))
    prod /= prod.sum(axis=2, keepdims=True)
    one = mirror_step_ref(L, logref, Q, eta, tau)
    np.testing.assert_allclose(np.exp(one), prod, rtol=1e-13, atol=1e-15)
    Lc, pc = L.copy(), np.empty_like(L)
    mirror_step(Lc, logref, Q, eta, tau, pc)
    np.testing.assert_allclose(Lc, one, rtol=0, atol=1e-13)
    np.testing.assert_allclose(pc, np.exp(one), rtol=0, atol=1e-15)
    for _ in range(300):                                     # contraction factor 1 / (1 + eta tau)
        mirror_step(Lc, logref, Q, eta, tau, pc)
    star = ref * np.exp(Q / tau)
    np.testing.assert_allclose(pc, star / star.sum(axis=2, keepdims=True), rtol=1e-12, atol=1e-14)


def test_evaluate_kernel_equals_twin():
    rng = np.random.default_rng(0)
    H, S, A, d = 3, 5, 4, 3
    phi = rng.dirichlet(np.ones(d), size=(H, S, A))
    Gm = rng.normal(size=(H, d, d))
    Linv = np.einsum("hij,hkj->hik", Gm, Gm) + np.eye(d)
    cvec, Rk, rho = rng.random((H, d)), rng.random((H, S, A)), rng.random((H, d)) * 0.5
    L = np.log(rng.dirichlet(np.ones(A), size=(H, S)))
    logref = np.log(rng.dirichlet(np.ones(A), size=(H, S)))
    M = np.zeros((H, S, d))
    succ = np.zeros((H, S), dtype=np.int64)
    nsucc = np.array([2, 3, 0])
    for h in range(H):
        for j, y in enumerate(rng.permutation(S)[:nsucc[h]]):
            succ[h, j] = y
            M[h, y] = rng.random(d)
    for cap, bonus, rewards, fail in (("remaining", "l1", "known", -1), ("H", "l2", "regressed", 1)):
        Qr, Vr, nur = drrpo_evaluate_ref(phi, Rk, Linv, cvec, M, rho, 0.7, H, L, logref, 0.3, cap, bonus, rewards,
                                         fail)
        nu, Q, V = np.empty((H, d)), np.empty((H, S, A)), np.empty((H + 1, S))
        drrpo_evaluate(phi, Rk, Linv, cvec, M, succ, nsucc, rho, 0.7, int(cap == "remaining"), int(bonus == "l1"),
                       int(rewards == "known"), fail, L, logref, 0.3, np.exp(L), np.empty(S), np.empty((d, S)),
                       np.empty(d), np.empty(d), nu, Q, V)
        np.testing.assert_allclose(Q, Qr, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(V, Vr, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(nu, nur, rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------------------------------
# the independent reference
# ---------------------------------------------------------------------------------------


def reference_dr_rpo(phi, P, R, init, K, seed, beta, rho, eta, tau, lam=1.0, defect=None):
    """The reconstructed box with probabilities (product-form update), per-sample lists and
    an explicit inverse. ``defect``: None, "no_kl" (soft value without the KL term),
    "no_reference" (update pi ∝ pi_prev exp(eta Q), no pull to pi_ref). Returns (actions,
    policies played)."""
    H, S, A, d = phi.shape
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    ref = np.full((H, S, A), 1.0 / A)
    pi = ref.copy()
    data = [[] for _ in range(H)]
    acts, pols = [], []
    for k in range(K):
        if k > 0:
            Q = np.zeros((H, S, A))
            Vn = np.zeros(S)
            for h in range(H - 1, -1, -1):
                Lam = lam * np.eye(d)
                for x, a, _ in data[h]:
                    Lam = Lam + np.outer(phi[h, x, a], phi[h, x, a])
                Linv = np.linalg.inv(Lam)
                m = float(min(Vn))
                nu = np.full(d, -np.inf)
                for alpha in [m, float(max(Vn))] + [float(Vn[x2]) for _, _, x2 in data[h]]:
                    z = np.zeros(d)
                    for x, a, x2 in data[h]:
                        z = z + phi[h, x, a] * min(Vn[x2], alpha)
                    nu = np.maximum(nu, Linv @ z - rho[h] * (alpha - m))
                for s in range(S):
                    for a in range(A):
                        f = phi[h, s, a]
                        b = sum(f[i] * math.sqrt(Linv[i, i]) for i in range(d))
                        Q[h, s, a] = min(R[h, s, a] + float(f @ nu) + beta * b, H - h)
                kl = (pi[h] * np.log(pi[h] / ref[h])).sum(axis=1)
                Vn = (pi[h] * Q[h]).sum(axis=1) - (0.0 if defect == "no_kl" else tau * kl)
            if defect == "no_reference":
                new = pi * np.exp(eta * Q)
            else:
                g = 1.0 / (1.0 + eta * tau)
                new = pi ** g * ref ** (eta * tau * g) * np.exp(eta * g * Q)
            pi = new / new.sum(axis=2, keepdims=True)
        pols.append(pi.copy())
        s = draw(rng, init)
        ep = []
        for h in range(H):
            a = draw(rng, pi[h, s])
            _, s2 = env_step(rng, P, R, "deterministic", h, s, a)
            data[h].append((s, a, s2))
            ep.append(a)
            s = s2
        acts.append(ep)
    return np.array(acts), np.array(pols)


def tv_greedy(q, v, r):
    val, left, low = float(q @ v), r, float(v.min())
    for j in np.argsort(-v, kind="stable"):
        if left <= 0 or v[j] <= low:
            break
        take = min(q[j], left)
        val -= take * (v[j] - low)
        left -= take
    return val


def robust_value_stochastic(lin, probs, rho):
    phi, H = np.asarray(lin.stage_phi()), lin.H
    mu = np.broadcast_to(np.asarray(lin.mu), (H, lin.d, lin.S))
    R = np.broadcast_to(np.asarray(lin.R), (H, lin.S, lin.A))
    V = np.zeros(lin.S)
    for h in range(H - 1, -1, -1):
        sig = np.array([tv_greedy(mu[h, i], V, rho[h, i]) for i in range(lin.d)])
        V = (probs[h] * (R[h] + phi[h] @ sig)).sum(axis=1)
    return float(np.asarray(lin.initial) @ V)


KW = dict(beta=1.0, eta=2.0, tau=0.1)


def _reference_run(defect=None, K=50):
    lin, rho = _instance()
    tab = lin.to_mdp()
    phi, P, R, init = np.asarray(lin.stage_phi()), tab.P_by_stage(), tab.R_by_stage(), np.asarray(tab.initial)
    return lin, rho, reference_dr_rpo(phi, P, R, init, K, 3, KW["beta"], rho, KW["eta"], KW["tau"], defect=defect)


class Rec(DRRPO):
    def begin_episode(self, k):
        super().begin_episode(k)
        self.pols.append(self._pi.copy())

    def observe(self, h, s, a, r, s_next):
        self.acts.append(a)
        super().observe(h, s, a, r, s_next)


def test_independent_reference_matches_and_robust_accounting_of_stochastic_policies():
    K = 50
    lin, rho, (acts, pols) = _reference_run(K=K)
    L = Rec(rho=rho, **KW)
    L.pols, L.acts = [], []
    tp = run(L, lin, K, [3], backend="python")
    assert np.array_equal(np.array(L.acts).reshape(K, 3), acts)
    np.testing.assert_allclose(np.array(L.pols), pols, rtol=0, atol=1e-12)
    tc = run(DRRPO(rho=rho, **KW), lin, K, [3], backend="compiled")
    init = np.asarray(lin.initial)
    v_opt = float(init @ solve_robust(lin, TV(rho), "d", tol=1e-12).V[0])
    exp = np.array([v_opt - robust_value_stochastic(lin, p, rho) for p in pols])
    for tr in (tp, tc):
        np.testing.assert_allclose(tr.robust_suboptimality[0], exp, rtol=0, atol=1e-10)
        assert tr.n_robust_evaluations == K
    assert exp[-1] < 0.6 * exp[0]                                  # it learns


@pytest.mark.parametrize("defect", ["no_kl", "no_reference"])
def test_injected_defects_are_detected(defect):
    _, _, (_, good) = _reference_run(K=25)
    lin, rho, (_, bad) = _reference_run(defect, K=25)
    L = Rec(rho=rho, **KW)
    L.pols, L.acts = [], []
    run(L, lin, 25, [3], backend="python")
    np.testing.assert_allclose(np.array(L.pols), good, rtol=0, atol=1e-12)
    assert np.abs(np.array(L.pols) - bad).max() > 1e-4


def test_regularisation_bias_of_the_bound_on_liu_xu_instance():
    """Derived: the robust suboptimality of the regularised robust optimum is at most
    H tau ln A (uniform reference); the bound adds K H tau ln A to the value-based rate."""
    inst = robust_linear_instance(rho=0.6)
    nom = inst.nominal
    H, S, A, tau = nom.H, nom.S, nom.A, 0.2
    phi, R = np.asarray(nom.stage_phi()), np.broadcast_to(np.asarray(nom.R), (H, S, A))
    mu = np.broadcast_to(np.asarray(nom.mu), (H, nom.d, S))
    V, probs = np.zeros(S), np.empty((H, S, A))
    for h in range(H - 1, -1, -1):                # regularised robust backward induction
        sig = np.array([tv_greedy(mu[h, i], V, inst.rho[h, i]) for i in range(nom.d)])
        Q = R[h] + phi[h] @ sig
        w = np.exp((Q - Q.max(axis=1, keepdims=True)) / tau)
        probs[h] = w / w.sum(axis=1, keepdims=True)
        V = Q.max(axis=1) + tau * np.log(w.mean(axis=1))
    v_opt = float(solve_robust(nom, inst.uncertainty, "d", tol=1e-12).V[0, 0])
    gap = v_opt - robust_value_stochastic(nom, probs, inst.rho)
    assert 0.0 < gap <= H * tau * math.log(A)
    b = DRRPO(tau=tau, delta=0.05).bound(S, A, H, 100.0, d=4)
    np.testing.assert_allclose(b.lower_order, 100 * H * tau * math.log(A), rtol=1e-12)
    np.testing.assert_allclose(b.leading, 16 * H ** 2 * 10 * np.log(2 * 4 * 100 * H / 0.05), rtol=1e-12)
    assert not b.explicit_constants and "reconstructed" in b.theorem


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="tau"):
        DRRPO(tau=-1.0)
    with pytest.raises(ValueError, match="eta"):
        DRRPO(eta=0.0)
    lin, _ = _instance()
    ref = np.full((4, 3), 0.5)
    ref[:, 2] = 0.0
    with pytest.raises(ValueError, match="reference.*> 0"):
        run(DRRPO(reference=ref), lin, 3, 1)
    with pytest.raises(ValueError, match="reference"):
        DRRPO(reference=np.full((4, 3), 0.4))

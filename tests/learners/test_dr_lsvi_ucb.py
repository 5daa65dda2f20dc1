"""DR-LSVI-UCB: the breakpoint-scan TV dual against a fine grid, the two-point closed form, the
package's and cvxpy's TV inner value on an empirical distribution, and Nelder-Mead (which misses
the maximum of a non-concave ridge estimate); rho = 0 against LSVI-UCB (one-hot features: same Q
to round-off and the same trajectories; general features: the documented inequality); compiled
loop == teaching path; plan kernel == its twin; an independent plain-Python reference written from
the box with three injected defects (the prototype's dual without the min V term, the l2 bonus,
the cap at H) that must be detected; the robust suboptimality recorded by ``run`` against
``solve_robust`` and a robust policy evaluation written here; the fail-state option."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

import mdptheory as mt
from mdptheory.envs import robust_linear_instance
from mdptheory.envs.linear_mdp import random_linear_mdp, tabular_linear_mdp
from mdptheory.kernels.robust import tv_value, tv_value_ref
from mdptheory.kernels.robust_dual import tv_dual, tv_dual_ref
from mdptheory.learners.dr_lsvi_ucb import DRLSVIUCB, dr_lsvi_ucb_plan, dr_lsvi_ucb_plan_ref
from mdptheory.learners.lsvi_ucb import LSVIUCB
from mdptheory.regret import run
from mdptheory.regret.robust import RobustRegretTrace
from mdptheory.solvers.robust import TV, solve_robust

from _reference_harness import argmax_low, draw, env_step


def scan(y, G, rho, vmin, vmax):
    out = np.empty(G.shape[0])
    tv_dual(np.asarray(y, float), np.ascontiguousarray(G, float), np.asarray(rho, float), vmin, vmax, out)
    return out


# ---------------------------------------------------------------------------------------
# the dual
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_breakpoint_scan_equals_fine_grid_maximum(seed):
    """Signed coefficients (non-diagonal Lambda): the scan equals the maximum over a fine grid
    refined by the kinks, and the plain grid is below it by at most Lipschitz x spacing."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 9)), 3
    y = rng.random(n) * 3.0
    if seed % 2:
        y[: n // 2] = y[-1]                                   # ties among the observed values
    vmin, vmax = min(0.0, y.min()) - 0.1 * seed, y.max() + 0.2
    G = rng.normal(size=(d, n))
    rho = rng.random(d)
    grid = np.linspace(vmin, vmax, 200_001)
    F = np.stack([G[i] @ np.minimum(y[:, None], grid[None, :]) - rho[i] * (grid - vmin) for i in range(d)])
    exact = np.stack([G[i] @ np.minimum(y[:, None], np.r_[y, vmin, vmax][None, :])
                      - rho[i] * (np.r_[y, vmin, vmax] - vmin) for i in range(d)]).max(axis=1)
    got, ref = scan(y, G, rho, vmin, vmax), tv_dual_ref(y, G, rho, vmin, vmax)
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ref, got, rtol=0, atol=1e-12)
    lip = np.abs(G).sum(axis=1) + rho
    gap = got - F.max(axis=1)
    assert np.all(gap >= -1e-12) and np.all(gap <= lip * (grid[1] - grid[0]) + 1e-12)


def test_two_point_closed_form():
    """Empirical law q on two values a < b: move min(rho, q_b) of mass from b to a."""
    for q, a, b, rho in ((0.3, 0.2, 1.7, 0.1), (0.3, 0.2, 1.7, 0.9), (0.5, -1.0, 2.0, 0.5), (1.0, 0.0, 1.0, 0.4)):
        closed = q * a + (1 - q) * b - min(rho, 1 - q) * (b - a)
        G = np.array([[q, 1 - q]])
        assert scan([a, b], G, [rho], a, b)[0] == pytest.approx(closed, abs=1e-14)
        assert tv_dual_ref([a, b], G, [rho], a, b)[0] == pytest.approx(closed, abs=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_dual_on_an_empirical_law_is_the_tv_inner_value(seed):
    """With G = the empirical law of the observed next states (a row of nonnegative weights
    summing to one) and min/max over *all* states, nu is the TV inner value of that law: the
    package's greedy kernels and cvxpy's primal (mass may move to unobserved states)."""
    cvxpy = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(10 + seed)
    S = 7
    V = np.round(rng.random(S) * 3, 1 if seed % 2 else 12)     # ties for odd seeds
    counts = rng.integers(0, 5, size=S).astype(float)
    counts[rng.integers(S)] += 1
    counts[int(np.argmin(V))] = 0.0                          # the minimiser is unobserved
    qhat = counts / counts.sum()
    seen = np.flatnonzero(counts)
    for rho in (0.0, 0.05, 0.3, 1.0):
        got = scan(V[seen], qhat[seen][None, :], [rho], V.min(), V.max())[0]
        p = cvxpy.Variable(S)
        prob = cvxpy.Problem(cvxpy.Minimize(p @ V), [p >= 0, cvxpy.sum(p) == 1,
                                                     0.5 * cvxpy.norm1(p - qhat) <= rho])
        prob.solve(solver="CLARABEL")
        order = np.argsort(V, kind="stable")
        assert got == pytest.approx(tv_value_ref(qhat, V, rho), abs=1e-13)
        assert got == pytest.approx(tv_value(qhat, 1.0, float(qhat @ V), V, order, rho), abs=1e-13)
        assert got == pytest.approx(prob.value, abs=1e-7)


def test_nelder_mead_misses_the_global_maximum_the_scan_finds():
    """z(alpha) - rho alpha with slopes +1, -1, +0.5, -0.5: kinks at 1 (global, value 1) and 3
    (local, 0.5). The prototype's search (Nelder-Mead from H/2 on [0, H]) stops at the local one."""
    y, G, rho, H = np.array([1.0, 2.0, 3.0]), np.array([[2.0, -1.5, 1.0]]), np.array([0.5]), 4.0
    obj = lambda a: float(G[0] @ np.minimum(y, a) - rho[0] * a)          # noqa: E731
    nm = minimize(lambda a: -obj(a[0]), H / 2, method="Nelder-Mead", bounds=[(0.0, H)])
    assert scan(y, G, rho, 0.0, H)[0] == pytest.approx(1.0, abs=1e-15)
    assert -nm.fun < 0.6


# ---------------------------------------------------------------------------------------
# rho = 0 against LSVI-UCB
# ---------------------------------------------------------------------------------------


def _lsvi_beta(scale, d, H, K, delta=0.01):
    return scale * d * H * math.sqrt(math.log(2.0 * d * K * H / delta))


class _Capture:
    """Mixin: keep a copy of ``_Q`` after every plan."""

    def begin_episode(self, k):
        super().begin_episode(k)
        self.Qs.append(np.array(self._Q))


def test_rho_zero_with_one_hot_features_is_lsvi_ucb(random_episodic):
    """One-hot features: Lambda is diagonal, each z_i(alpha) is nondecreasing, so the rho = 0
    dual is the regression of V; with regressed rewards, the same beta (all bonus forms equal
    1/sqrt(n + lam)) and the remaining-horizon cap, Q equals LSVI-UCB's to round-off in every
    episode and the two learners play the same actions."""
    mdp = random_episodic(S=4, A=2, H=3, seed=3, stage=True)
    K, S, A, H = 150, 4, 2, 3
    beta = _lsvi_beta(0.03, S * A, H, K)

    class LQ(_Capture, LSVIUCB):
        pass

    class DQ(_Capture, DRLSVIUCB):
        pass

    lq, dq = LQ(bonus_scale=0.03, cap="remaining"), DQ(rho=0.0, beta=beta, rewards="regressed")
    lq.Qs, dq.Qs = [], []
    a = run(lq, mdp, K, [5], backend="python")
    b = run(dq, mdp, K, [5], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(np.array(dq.Qs), np.array(lq.Qs), rtol=0, atol=1e-12)
    assert len(np.unique(a.pseudo_regret)) > 2
    for L, D in ((LSVIUCB(bonus_scale=0.03, cap="remaining"), DRLSVIUCB(rho=0.0, beta=beta, rewards="regressed")),):
        c, e = run(L, mdp, K, [5, 6]), run(D, mdp, K, [5, 6])
        assert np.array_equal(c.returns, e.returns)
        np.testing.assert_allclose(c.pseudo_regret, e.pseudo_regret, rtol=0, atol=1e-12)


def test_rho_zero_with_simplex_features_is_at_least_the_regression():
    """General features: some coefficients of Lambda^-1 sum_tau phi_tau are negative, so
    max_alpha z_i(alpha) >= z_i(max V) = [Lambda^-1 sum_tau phi_tau V(s'_tau)]_i, with strict
    inequality on this instance (documented in proofs_notes/dr_lsvi_ucb.md)."""
    rng = np.random.default_rng(4)
    H, S, A, d = 2, 6, 3, 3
    phi = rng.dirichlet(np.ones(d), size=(H, S, A))
    Lam = np.eye(d) + sum(np.outer(f, f) for f in phi.reshape(-1, d)[:9])
    Linv = np.repeat(np.linalg.inv(Lam)[None], H, 0)
    M = np.zeros((H, S, d))
    M[0] = rng.dirichlet(np.ones(d), size=S) * rng.integers(1, 4, size=(S, 1))
    plan = dr_lsvi_ucb_plan_ref(phi, rng.random((H, S, A)), Linv, np.zeros((H, d)), M, np.zeros((H, d)), 0.0, H)
    regression = Linv[0] @ M[0].T @ plan.V[1]
    assert np.all(plan.nu[0] >= regression - 1e-12)
    assert (plan.nu[0] - regression).max() > 1e-3
    assert (Linv[0] @ M[0].T).min() < 0                       # the signed coefficients


# ---------------------------------------------------------------------------------------
# both backends, kernels
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [dict(rho=0.3, bonus_scale=0.02), dict(rho=0.5, bonus_scale=0.02, bonus="l2", cap="H"),
                                dict(rho=0.2, bonus_scale=0.02, rewards="regressed")])
def test_compiled_equals_python(kw):
    lin = random_linear_mdp(5, 3, 3, horizon=3, seed=1, stage_dependent=True)
    a = run(DRLSVIUCB(**kw), lin, 150, [0, 3], backend="compiled")
    b = run(DRLSVIUCB(**kw), lin, 150, [0, 3], backend="python")
    assert np.array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.robust_suboptimality, b.robust_suboptimality, rtol=0, atol=1e-10)
    assert len(np.unique(np.round(a.robust_suboptimality, 12))) > 2


def test_liu_xu_instance_both_backends_and_workers():
    inst = robust_linear_instance(rho=0.6)
    L = DRLSVIUCB(rho=inst.rho, beta=1.0, lam=0.1, fail_state=3)
    a = run(L, inst.nominal, 200, 3, backend="compiled", workers=1)
    b = run(L, inst.nominal, 200, 3, backend="compiled", workers=2)
    c = run(L, inst.nominal, 200, 3, backend="python")
    for x in (b, c):
        assert np.array_equal(a.returns, x.returns)
        np.testing.assert_allclose(a.robust_suboptimality, x.robust_suboptimality, rtol=0, atol=1e-10)
    assert np.array_equal(a.pseudo_regret, b.pseudo_regret)
    assert np.array_equal(a.robust_suboptimality, b.robust_suboptimality)


def test_evaluation_stride_records_the_same_entries():
    """eval_every = 4: unevaluated entries are NaN, evaluated ones equal the eval_every = 1 run
    (evaluation draws nothing), on both backends."""
    lin = random_linear_mdp(5, 3, 3, horizon=3, seed=2, stage_dependent=True)
    L = DRLSVIUCB(rho=0.3, bonus_scale=0.02)
    full = run(L, lin, 41, [1, 2])
    for backend in ("compiled", "python"):
        tr = run(L, lin, 41, [1, 2], eval_every=4, backend=backend)
        ev = tr.evaluated
        assert np.isnan(tr.robust_suboptimality[:, ~ev]).all() and np.array_equal(tr.returns, full.returns)
        np.testing.assert_allclose(tr.robust_suboptimality[:, ev], full.robust_suboptimality[:, ev], rtol=0,
                                   atol=1e-12)


def test_plan_kernel_equals_twin():
    rng = np.random.default_rng(0)
    H, S, A, d = 3, 5, 4, 3
    phi = rng.dirichlet(np.ones(d), size=(H, S, A))
    Gm = rng.normal(size=(H, d, d))
    Linv = np.einsum("hij,hkj->hik", Gm, Gm) + np.eye(d)
    cvec, Rk, rho = rng.random((H, d)), rng.random((H, S, A)), rng.random((H, d)) * 0.5
    M = np.zeros((H, S, d))
    succ = np.zeros((H, S), dtype=np.int64)
    nsucc = np.array([2, 3, 0])
    for h in range(H):
        for j, y in enumerate(rng.permutation(S)[:nsucc[h]]):
            succ[h, j] = y
            M[h, y] = rng.random(d)
    for cap, bonus, rewards, fail in (("remaining", "l1", "known", -1), ("H", "l2", "regressed", 2)):
        ref = dr_lsvi_ucb_plan_ref(phi, Rk, Linv, cvec, M, rho, 0.7, H, cap, bonus, rewards, fail)
        nu, Q, V, pi = np.empty((H, d)), np.empty((H, S, A)), np.empty((H + 1, S)), np.empty((H, S), np.int64)
        dr_lsvi_ucb_plan(phi, Rk, Linv, cvec, M, succ, nsucc, rho, 0.7, int(cap == "remaining"), int(bonus == "l1"),
                         int(rewards == "known"), fail, np.empty(S), np.empty((d, S)), np.empty(d), np.empty(d),
                         nu, Q, V, pi)
        np.testing.assert_allclose(Q, ref.Q, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(nu, ref.nu, rtol=1e-13, atol=1e-13)
        assert np.array_equal(pi, ref.pi)


# ---------------------------------------------------------------------------------------
# the independent reference (per-sample sums, explicit inverse, candidate loop)
# ---------------------------------------------------------------------------------------


def nominal_value(P, R, init, pi):
    H, S = pi.shape
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        V = np.array([R[h, s, pi[h, s]] + P[h, s, pi[h, s]] @ V for s in range(S)])
    return float(init @ V)


def reference_dr_lsvi_ucb(phi, P, R, init, K, seed, beta, rho, lam=1.0, defect=None):
    """The box of Liu & Xu with per-sample lists. ``defect``: None, "shortcut" (the public
    prototype's dual: alpha in [0, H], penalty rho alpha, no min V term), "l2_bonus"
    (beta sqrt(sum phi_i^2 [Lambda^-1]_ii)), "cap_H". Returns (actions, Q tables, policies)."""
    H, S, A, d = phi.shape
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    data = [[] for _ in range(H)]
    acts, Qs, pols = [], [], []
    for k in range(K):
        Q = np.zeros((H, S, A))
        Vn = np.zeros(S)
        for h in range(H - 1, -1, -1):
            Lam = lam * np.eye(d)
            for x, a, _ in data[h]:
                Lam = Lam + np.outer(phi[h, x, a], phi[h, x, a])
            Linv = np.linalg.inv(Lam)
            m, top = float(min(Vn)), float(max(Vn))
            if defect == "shortcut":
                cands, low = [0.0, float(H)], 0.0
            else:
                cands, low = [m, top], m
            cands += [float(Vn[x2]) for _, _, x2 in data[h]]
            nu = np.full(d, -np.inf)
            for alpha in cands:
                z = np.zeros(d)
                for x, a, x2 in data[h]:
                    z = z + phi[h, x, a] * min(Vn[x2], alpha)
                nu = np.maximum(nu, Linv @ z - rho[h] * (alpha - low))
            for s in range(S):
                for a in range(A):
                    f = phi[h, s, a]
                    if defect == "l2_bonus":
                        b = math.sqrt(sum(f[i] ** 2 * Linv[i, i] for i in range(d)))
                    else:
                        b = sum(f[i] * math.sqrt(Linv[i, i]) for i in range(d))
                    cap = H if defect == "cap_H" else H - h
                    Q[h, s, a] = min(R[h, s, a] + float(f @ nu) + beta * b, cap)
            Vn = Q[h].max(axis=1)
        pi = np.array([[argmax_low(list(Q[h, s])) for s in range(S)] for h in range(H)])
        Qs.append(Q)
        pols.append(pi)
        s = draw(rng, init)
        ep = []
        for h in range(H):
            a = int(pi[h, s])
            _, s2 = env_step(rng, P, R, "deterministic", h, s, a)
            data[h].append((s, a, s2))
            ep.append(a)
            s = s2
        acts.append(ep)
    return np.array(acts), np.array(Qs), pols


def tv_greedy(q, v, r):
    """Worst expectation over the TV ball (half L1, mass may go anywhere): move r of mass from
    the highest values to the lowest state."""
    val, left, low = float(q @ v), r, float(v.min())
    for j in np.argsort(-v, kind="stable"):
        if left <= 0 or v[j] <= low:
            break
        take = min(q[j], left)
        val -= take * (v[j] - low)
        left -= take
    return val


def robust_value_d(lin, pi, rho):
    """Robust value of a deterministic (H, S) or stochastic (H, S, A) policy, d-rectangular TV."""
    phi, H = np.asarray(lin.stage_phi()), lin.H
    mu = np.broadcast_to(np.asarray(lin.mu), (H, lin.d, lin.S))
    R = np.broadcast_to(np.asarray(lin.R), (H, lin.S, lin.A))
    rho = np.broadcast_to(rho, (H, lin.d))
    probs = np.eye(lin.A)[pi] if pi.ndim == 2 else pi
    V = np.zeros(lin.S)
    for h in range(H - 1, -1, -1):
        sig = np.array([tv_greedy(mu[h, i], V, rho[h, i]) for i in range(lin.d)])
        V = (probs[h] * (R[h] + phi[h] @ sig)).sum(axis=1)
    return float(np.asarray(lin.initial) @ V)


def _instance():
    lin = random_linear_mdp(4, 3, 3, horizon=3, seed=9, stage_dependent=True)
    rho = np.array([[0.3, 0.1, 0.5], [0.2, 0.4, 0.0], [0.6, 0.3, 0.2]])
    return lin, rho


def test_independent_reference_matches_both_backends_and_robust_accounting():
    lin, rho = _instance()
    K, beta = 60, 1.0
    tab = lin.to_mdp()
    phi, P, R, init = np.asarray(lin.stage_phi()), tab.P_by_stage(), tab.R_by_stage(), np.asarray(tab.initial)
    acts, Qs, pols = reference_dr_lsvi_ucb(phi, P, R, init, K, 3, beta, rho)

    class Rec(DRLSVIUCB):
        def begin_episode(self, k):
            super().begin_episode(k)
            self.Qs.append(np.array(self._Q))

        def observe(self, h, s, a, r, s_next):
            self.acts.append(a)
            super().observe(h, s, a, r, s_next)

    L = Rec(rho=rho, beta=beta)
    L.Qs, L.acts = [], []
    tp = run(L, lin, K, [3], backend="python")
    assert np.array_equal(np.array(L.acts).reshape(K, 3), acts)
    np.testing.assert_allclose(np.array(L.Qs), Qs, rtol=0, atol=1e-10)
    tc = run(DRLSVIUCB(rho=rho, beta=beta), lin, K, [3], backend="compiled")
    v_opt = float(init @ solve_robust(lin, TV(rho), "d", tol=1e-12).V[0])
    vstar = float(init @ mt.solve(tab).V[0])
    exp_rob = np.array([v_opt - robust_value_d(lin, p, rho) for p in pols])
    exp_nom = np.array([vstar - nominal_value(P, R, init, p) for p in pols])
    for tr in (tp, tc):
        assert isinstance(tr, RobustRegretTrace)
        np.testing.assert_allclose(tr.robust_suboptimality[0], exp_rob, rtol=0, atol=1e-10)
        np.testing.assert_allclose(tr.pseudo_regret[0], exp_nom, rtol=0, atol=1e-10)
        assert tr.robust_optimum == pytest.approx(v_opt, abs=1e-12) and tr.robust_error_bound < 1e-10
    assert len(np.unique(np.round(exp_rob, 10))) > 2 and exp_rob.min() >= -1e-12


@pytest.mark.parametrize("defect", ["shortcut", "l2_bonus", "cap_H"])
def test_injected_defects_are_detected(defect):
    """The learner's V is positive at every state (known positive rewards plus a bonus), so
    min V > 0 and the prototype's dual without the min V term is a different estimator."""
    lin, rho = _instance()
    K, beta = 40, 1.0
    tab = lin.to_mdp()
    phi, P, R, init = np.asarray(lin.stage_phi()), tab.P_by_stage(), tab.R_by_stage(), np.asarray(tab.initial)
    _, good, _ = reference_dr_lsvi_ucb(phi, P, R, init, K, 3, beta, rho)
    _, bad, _ = reference_dr_lsvi_ucb(phi, P, R, init, K, 3, beta, rho, defect=defect)

    class Rec(DRLSVIUCB):
        def begin_episode(self, k):
            super().begin_episode(k)
            self.Qs.append(np.array(self._Q))
            self.minV.append(float(self._V[1:-1].min()))

    L = Rec(rho=rho, beta=beta)
    L.Qs, L.minV = [], []
    run(L, lin, K, [3], backend="python")
    np.testing.assert_allclose(np.array(L.Qs), good, rtol=0, atol=1e-10)
    assert np.abs(np.array(L.Qs) - bad).max() > 1e-4
    assert min(L.minV) > 0.0


# ---------------------------------------------------------------------------------------
# robust accounting on a tabular model, the fail state, the bound, validation
# ---------------------------------------------------------------------------------------


def test_tabular_model_is_judged_by_its_sa_rectangular_set(random_episodic):
    """On a tabular EpisodicMDP (one-hot features) the d-rectangular set is (s,a)-rectangular:
    the recorded robust suboptimality uses solve_robust on the tabular model directly."""
    mdp = random_episodic(S=3, A=2, H=3, seed=2, stage=True)
    rho = 0.25
    tr = run(DRLSVIUCB(rho=rho, bonus_scale=0.05), mdp, 40, [1], backend="python")
    opt = solve_robust(mdp, TV(rho), "sa", tol=1e-12)
    lin = tabular_linear_mdp(mdp)
    policies = []

    class Rec(DRLSVIUCB):
        def begin_episode(self, k):
            super().begin_episode(k)
            policies.append(self._pi.copy())

    run(Rec(rho=rho, bonus_scale=0.05), mdp, 40, [1], backend="python")
    init = np.asarray(mdp.initial)
    exp = [float(init @ opt.V[0]) - robust_value_d(lin, p, rho) for p in policies]
    np.testing.assert_allclose(tr.robust_suboptimality[0], exp, rtol=0, atol=1e-10)


def test_fail_state_learns_the_robust_policy_of_liu_and_xu_instance():
    """rho = 0.6 on the perturbed factor (above the switching radius 0.4806): with the fail
    state known the learner ends on a robust-optimal policy (robust suboptimality 0); estimating
    the fail state's value optimistically it ends on the nominal one, whose robust
    suboptimality is computed here from solve_robust and the evaluation written above."""
    inst = robust_linear_instance(rho=0.6)
    opt = solve_robust(inst.nominal, inst.uncertainty, "d", tol=1e-12)
    nom = mt.solve(inst.nominal.to_mdp())
    gap_nominal = float(opt.V[0, 0]) - robust_value_d(inst.nominal, nom.policy, inst.rho)
    assert gap_nominal > 0.04
    with_fail = run(DRLSVIUCB(rho=inst.rho, beta=1.0, lam=0.1, fail_state=3), inst.nominal, 300, 2)
    without = run(DRLSVIUCB(rho=inst.rho, beta=1.0, lam=0.1), inst.nominal, 300, 2)
    late_w, late_wo = with_fail.robust_suboptimality[:, -50:], without.robust_suboptimality[:, -50:]
    assert np.all(late_w[:, -1] <= 1e-10) and np.mean(late_w <= 1e-10) >= 0.9      # rare exploratory episodes
    assert np.all(np.abs(late_wo[:, -1] - gap_nominal) <= 1e-10)
    assert np.mean(np.abs(late_wo - gap_nominal) <= 1e-10) >= 0.9


def test_bound_is_k_times_the_average_suboptimality_rate():
    L = DRLSVIUCB(delta=0.05)
    H, K, d = 3, np.array([100.0, 1e4]), 4
    b = L.bound(5, 16, H, K, d=d)
    np.testing.assert_allclose(b.value, d ** 2 * H ** 2 * np.sqrt(K) * np.log(2 * d * K * H / 0.05), rtol=1e-12)
    assert not b.explicit_constants and b.normalization == "N1" and "Liu & Xu" in b.theorem
    np.testing.assert_allclose(b.trivial_cap, H * K)
    assert DRLSVIUCB().bound(3, 2, 2, 10).value == DRLSVIUCB().bound(3, 2, 2, 10, d=6).value


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="rho"):
        DRLSVIUCB(rho=1.5)
    with pytest.raises(ValueError, match="rho"):
        DRLSVIUCB(rho=[0.1, -0.1])
    with pytest.raises(ValueError, match="bonus"):
        DRLSVIUCB(bonus="l3")
    with pytest.raises(ValueError, match="lam"):
        DRLSVIUCB(lam=0.0)
    lin, _ = _instance()
    with pytest.raises(ValueError, match="shape"):
        run(DRLSVIUCB(rho=np.zeros(5)), lin, 3, 1)
    with pytest.raises(ValueError, match="fail_state = 0 is not absorbing"):
        run(DRLSVIUCB(fail_state=0), lin, 3, 1)
    from mdptheory.core.linear import FeaturizedMDP
    neg = FeaturizedMDP(lin.to_mdp(), np.asarray(lin.phi) * np.array([1.5, -0.5, 0.0]))
    with pytest.raises(ValueError, match="simplex features"):
        DRLSVIUCB().prepare(neg, 3)
    with pytest.raises(TypeError, match="FeaturizedMDP"):
        run(DRLSVIUCB(), neg, 3, 1)

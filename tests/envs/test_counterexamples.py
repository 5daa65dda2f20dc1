"""Tests of the counterexample constructions (Baird, Tsitsiklis-Van Roy, zig-zag relay) and of
what the estimators do on them. Reference numbers: Sutton & Barto (2018) §11.2,
proofs_notes/tsitsiklis_van_roy.md and proofs_notes/zigzag_relay.md, and hand-derived closed forms."""

import numpy as np
import pytest

from mdptheory import evaluate, solve
from mdptheory.envs import baird_star, tsitsiklis_van_roy, zigzag_relay
from mdptheory.probes import bellman_report, breakpoint_lower_bound, fqe, interpolating_relu, lstd, td0, width_bounds


# -- Baird's star -----------------------------------------------------------------------------

def test_baird_structure():
    inst = baird_star()
    P = inst.mdp.dense_P()
    np.testing.assert_allclose(P[:, 0, :6], 1 / 6)  # dashed: uniform over the upper states
    np.testing.assert_allclose(P[:, 1, 6], 1.0)  # solid: to the lower state
    np.testing.assert_allclose(np.einsum("sa,sat->st", inst.behaviour, P), 1 / 7)  # uniform next state
    X = inst.features[:, 0, :]
    assert np.linalg.matrix_rank(X) == 7
    # v(i) = 2 w_i + w_8 for the upper states, v(7) = w_7 + 2 w_8
    w = np.arange(1.0, 9.0)
    np.testing.assert_allclose(X @ w, [2 * w[i] + w[7] for i in range(6)] + [w[6] + 2 * w[7]])
    np.testing.assert_array_equal(inst.w0, [1, 1, 1, 1, 1, 1, 10, 1])
    assert inst.mdp.gamma == 0.99 and inst.step_size == 0.01
    assert np.all(inst.mdp.R == 0)
    np.testing.assert_allclose(inst.mu.sum(), 1.0)
    np.testing.assert_allclose(inst.mu_behaviour.sum(axis=1), 1 / 7)


def test_baird_expected_td_diverges_with_reference_norm():
    """||w|| after 1000 expected ("DP-style") updates from w0 with alpha = 0.01 is 436.9, and
    the spectral radius of I - 0.01 A is 1.00239 (proofs_notes/tsitsiklis_van_roy.md)."""
    inst = baird_star()
    tr = td0(inst.mdp, inst.features, inst.policy, inst.mu, steps=1000, step_size=0.01, w0=inst.w0)
    assert np.linalg.norm(tr.final) == pytest.approx(436.9, abs=0.05)
    # independent: the DP-style update written directly from Sutton & Barto §11.2
    X = inst.features[:, 0, :]
    w = inst.w0.copy()
    for _ in range(1000):
        v = X @ w
        target = 0.99 * v[6]  # E_pi[R + gamma v(S')] = gamma v(lower state)
        w = w + 0.01 / 7 * X.T @ (target - v)
    np.testing.assert_allclose(tr.final, w, rtol=1e-10)
    r = bellman_report(inst.mdp, inst.features, inst.policy, inst.mu)
    lam = r.td_eigenvalues
    assert np.max(np.abs(1 - 0.01 * lam)) == pytest.approx(1.00239, abs=5e-6)


def test_baird_fqe_converges_sampled_td_diverges():
    inst = baird_star()
    f = fqe(inst.mdp, inst.features, inst.policy, inst.mu, iterations=3000, w0=inst.w0)
    assert not f.diverged and f.errors[-1] < 1e-8  # Q^pi = 0, contraction factor 0.99
    s = td0(inst.mdp, inst.features, inst.policy, inst.mu, steps=30_000, step_size=0.01, w0=inst.w0,
            expected=False, seed=0, record_every=100)
    assert s.diverged or s.errors[-1] > 1e6


# -- Tsitsiklis & Van Roy -------------------------------------------------------------------

@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("gamma", [0.8, 0.9, 0.99])
def test_tvr_fqe_factor(eps, gamma):
    """Least-squares value iteration with uniform weights: w <- argmin sum_s (x(s) w - gamma
    E[x(S') w_k])^2 = gamma (6 - 4 eps)/5 w_k (Sutton & Barto, Example 11.1)."""
    inst = tsitsiklis_van_roy(eps, gamma)
    f = fqe(inst.mdp, inst.features, inst.policy, inst.mu, iterations=5, w0=[1.0])
    np.testing.assert_allclose(f.weights[:, 0], (gamma * (6 - 4 * eps) / 5) ** np.arange(6), rtol=1e-12)


def test_tvr_threshold_and_lstd_recovers_planted_value():
    for eps in (0.0, 0.2):
        g_thr = 5 / (6 - 4 * eps)
        if g_thr < 1:
            below = bellman_report(*_args(tsitsiklis_van_roy(eps, g_thr - 1e-3)))
            above = bellman_report(*_args(tsitsiklis_van_roy(eps, min(g_thr + 1e-3, 0.999))))
            assert below.fqe_converges and not above.fqe_converges
            assert below.td_stable and not above.td_stable
    inst = tsitsiklis_van_roy(0.0, 0.95, w_star=2.5)  # FQE and TD diverge here
    V = evaluate(inst.mdp, inst.policy)
    np.testing.assert_allclose(V, [2.5, 5.0, 0.0], atol=1e-12)  # planted Q^pi = Phi w*
    w = lstd(inst.mdp, inst.features, inst.policy, inst.mu).final
    np.testing.assert_allclose(w, [2.5], rtol=1e-12)
    f = fqe(inst.mdp, inst.features, inst.policy, inst.mu, iterations=400, w0=[2.5 + 1e-3])
    assert f.errors[-1] > f.errors[0] * 10
    with pytest.raises(ValueError, match="epsilon"):
        tsitsiklis_van_roy(1.5, 0.9)
    with pytest.raises(ValueError, match="gamma"):
        tsitsiklis_van_roy(0.0, 1.0)


def _args(inst):
    return inst.mdp, inst.features, inst.policy, inst.mu


# -- zig-zag relay ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 4, 10, 32])
def test_zigzag_values_and_widths(n):
    z = zigzag_relay(n)
    sol = solve(z.mdp)
    np.testing.assert_allclose(sol.Q, z.q_star, atol=1e-14)
    # interleaving: 1, n/2+1, 2, n/2+2, ... (1-indexed)
    expect = np.empty(n, dtype=int)
    expect[0::2] = np.arange(1, n // 2 + 1)
    expect[1::2] = np.arange(n // 2 + 1, n + 1)
    np.testing.assert_array_equal(z.permutation + 1, expect)
    x = z.embedding
    np.testing.assert_allclose(z.bellman_image[:, 1], 0.5 + expect / n)
    wb = width_bounds(x, z.bellman_image[:, 1])
    assert wb.lower == (n - 1) // 2
    assert wb.upper <= n and wb.max_interpolation_error < 1e-12
    for q in (z.q_star[0, :, 1], z.q_star[1, :, 1]):  # Q* is constant in s: width 0 in x
        assert breakpoint_lower_bound(x, q) == 0


def test_zigzag_rcsl_reaches_optimal_return():
    z = zigzag_relay(8)
    P = z.mdp.P_by_stage()
    R = z.mdp.R_by_stage()
    opt = solve(z.mdp).V[0] @ z.mdp.initial
    g = 1.5  # condition on the best return
    total = 0.0
    for s in range(z.n):
        a = int(z.rcsl_policy(0, g))
        s2 = int(np.argmax(P[0, s, a]))
        g2 = g - R[0, s, a]
        a2 = int(z.rcsl_policy(1, g2))
        total += (R[0, s, a] + R[1, s2, a2]) / z.n
    assert total == pytest.approx(opt)


def test_breakpoint_bound_is_a_true_lower_bound():
    """Brute force on small sequences: no interpolating spline with fewer breakpoints exists
    than the bound, checked against the explicit spline's breakpoint count from below."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(3, 12))
        x = np.sort(rng.random(n)) + np.arange(n)
        y = rng.integers(0, 3, n).astype(float)
        lb = breakpoint_lower_bound(x, y)
        net = interpolating_relu(x, y)
        np.testing.assert_allclose(net(x), y, atol=1e-9)
        # the spline's breakpoints inside (x_0, x_{n-1}) number at least lb
        changes = np.count_nonzero(np.abs(np.diff(np.diff(y) / np.diff(x))) > 1e-12)
        assert lb <= changes
        assert lb >= (changes + 1) // 2  # each window covers at most two slope changes
    with pytest.raises(ValueError, match="even"):
        zigzag_relay(7)


def test_study_script_smoke(tmp_path):
    """The study script runs end to end (quick mode) and its numbers agree with the closed forms."""
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / "bellman_completeness.py"
    spec = importlib.util.spec_from_file_location("bellman_completeness_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--seeds", "3", "--out", str(tmp_path)])
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["phase"]["max_abs_diff_closed_form"] < 1e-12
    assert s["zigzag"]["lower"] == [(n - 1) // 2 for n in s["zigzag"]["n"]]
    for name in ("estimators_vs_iteration", "lstd_sqrt_n", "tvr_phase_diagram", "zigzag_width"):
        assert (tmp_path / f"{name}.pdf").stat().st_size > 0

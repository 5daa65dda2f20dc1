"""VarianceMVP (Zhou, Zhang & Du, ICML 2023; reconstruction on MVP-2021): compiled == reference,
coincidence with MVP(2021, variance bonus), and the best-of-both-worlds behaviour in theory
mode: regret stops growing on a deterministic MDP while UCBVI-CH keeps growing; on the
stochastic twin (same graph) both keep growing (RiverSwim regret:
tests/regret/test_riverswim_regret.py)."""

import numpy as np
import pytest

from mdptheory.envs.deterministic import deterministic, stochastic_twin
from mdptheory.learners import MVP, UCBVI, VarianceMVP
from mdptheory.regret.engine import run


def _last_decade_exponent(cum):
    k = np.arange(1, cum.size + 1)
    sel = k >= cum.size // 10
    return np.polyfit(np.log(k[sel]), np.log(cum[sel]), 1)[0]


@pytest.fixture
def small_n2(random_episodic):
    """A 4-state, 3-action model, H = 5, start in state 0, rewards / H (total <= 1: N2)."""
    def make(seed):
        mdp = random_episodic(4, 3, 5, seed, initial=0)
        return mdp.replace(R=np.asarray(mdp.R) / mdp.H)
    return make


def test_compiled_equals_reference_step_for_step(small_n2):
    mdp = small_n2(3)
    L = VarianceMVP(bonus_scale=0.03)
    a = run(L, mdp, 300, seeds=[11], backend="python", progress=False)
    b = run(L, mdp, 300, seeds=[11], backend="compiled", progress=False)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_allclose(a.pseudo_regret, b.pseudo_regret, rtol=0, atol=1e-12)
    assert np.ptp(a.pseudo_regret) > 0


def test_same_trajectory_as_mvp_2021_variance_bonus(small_n2):
    mdp = small_n2(5)
    a = run(VarianceMVP(bonus_scale=0.05), mdp, 400, seeds=[2], progress=False)
    b = run(MVP("2021", bonus_scale=0.05, reward_bonus="variance"), mdp, 400, seeds=[2], progress=False)
    np.testing.assert_array_equal(a.pseudo_regret, b.pseudo_regret)


def test_bound_deterministic_is_k_independent_up_to_log():
    L = VarianceMVP()
    K = np.array([1e3, 1e6])
    det = L.bound(5, 3, 5, K, 0.01, var_star=0.0, var_sigma=0.0)
    worst = L.bound(5, 3, 5, K, 0.01)
    assert np.all(det.leading == 0)
    assert worst.leading[1] / worst.leading[0] > 30  # sqrt(1000) growth times log
    with pytest.raises(ValueError, match="var_star"):
        L.bound(5, 3, 5, 10, 0.01, var_star=-1.0)
    with pytest.raises(ValueError, match="var_sigma"):
        L.bound(5, 3, 5, 10, 0.01, var_sigma=-0.5)
    with pytest.raises(TypeError, match="var_star"):
        L.bound(5, 3, 5, 10, 0.01, var_star=True)
    with pytest.raises(TypeError):
        VarianceMVP(0.01)                           # keyword-only


def test_best_of_both_worlds_theory_mode():
    """Theory constants (bonus_scale = 1) for both learners, K = 1e6 episodes on
    deterministic(5, 3, horizon=5, seed=3): VarianceMVP (rewards / H, N2) has last-decade
    exponent <= 0.2, UCBVI-CH >= 0.5; on stochastic_twin(., mix=1) both are >= 0.4.
    (Deterministic MDP + deterministic start: the pseudo-regret does not depend on the seed.)"""
    H, K = 5, 1_000_000
    det = deterministic(5, 3, horizon=H, seed=3)
    twin = stochastic_twin(det, seed=1, mix=1.0)
    exps = {}
    for name, mdp in (("det", det), ("twin", twin)):
        scaled = mdp.replace(R=np.asarray(mdp.R) / H)
        v = run(VarianceMVP(), scaled, K, seeds=[0], progress=False)
        exps[name, "vmvp"] = _last_decade_exponent(np.cumsum(v.pseudo_regret[0]))
        u = run(UCBVI("hoeffding"), mdp, K, seeds=[0], progress=False)
        exps[name, "ucbvi"] = _last_decade_exponent(np.cumsum(u.pseudo_regret[0]))
    assert exps["det", "vmvp"] <= 0.2, exps
    assert exps["det", "ucbvi"] >= 0.5, exps
    assert exps["twin", "vmvp"] >= 0.4, exps
    assert exps["twin", "ucbvi"] >= 0.4, exps


def test_serial_equals_parallel_and_normalisation(small_n2):
    mdp = small_n2(6)
    L = VarianceMVP(bonus_scale=0.03)
    one = run(L, mdp, 150, seeds=[0, 1, 2], workers=1, progress=False)
    two = run(L, mdp, 150, seeds=[0, 1, 2], workers=2, progress=False)
    assert np.array_equal(one.returns, two.returns)
    assert np.array_equal(one.pseudo_regret, two.pseudo_regret)
    # N2 is checked against the MDP: per-step rewards up to 1 over H = 5 steps
    with pytest.raises(ValueError, match="VarianceMVP assumes N2"):
        run(VarianceMVP(), mdp.replace(R=np.asarray(mdp.R) * 5), 2, seeds=1)
    # the N3 option accepts it
    run(VarianceMVP(normalization="N3"), mdp.replace(R=np.asarray(mdp.R) * 5), 2, seeds=1, progress=False)
    b = VarianceMVP(delta=0.1).bound(4, 3, 5, 100.0)
    assert b.holds_with_probability == pytest.approx(0.9)

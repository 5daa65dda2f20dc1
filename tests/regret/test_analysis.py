"""fit_power_law / fit_exponent, ratio_to_bound, quantiles, bound curves: checked on
closed-form curves, against numpy.polyfit on explicitly resampled seeds (loop twins) and by
Monte Carlo."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mdptheory.learners import UCBVI
from mdptheory.regret import (fit_exponent, fit_power_law, fraction_above, minimax_lower_bound, quantiles,
                              ratio_to_bound)
from mdptheory.regret.analysis import _resample_weights


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(0.05, 1.2), c=st.floats(0.1, 100.0), K=st.integers(50, 3000))
def test_power_law_exponent_recovered(alpha, c, K):
    k = np.arange(1, K + 1, dtype=float)
    X = np.vstack([c * k ** alpha, 2 * c * k ** alpha])
    f = fit_exponent(X, n_boot=50)
    assert f.exponent == pytest.approx(alpha, abs=1e-9)
    assert f.ci_low == pytest.approx(alpha, abs=1e-9) and f.ci_high == pytest.approx(alpha, abs=1e-9)
    assert f.x_max == K and f.x_min == int(np.ceil(K / 10))
    assert (f.n_seeds, f.level, f.n_resamples) == (2, 0.95, 50)
    assert f.intercept == pytest.approx(np.log(1.5 * c), abs=1e-8)


def test_bootstrap_interval_brackets_seed_spread():
    rng = np.random.default_rng(0)
    k = np.arange(1, 2001, dtype=float)
    alphas = rng.uniform(0.3, 0.7, size=40)
    X = k[None, :] ** alphas[:, None]
    f = fit_exponent(X, k_range=(200, 2000), n_boot=300)
    assert f.ci_low < f.exponent < f.ci_high
    assert 0.3 < f.ci_low and f.ci_high < 0.8


def test_flat_and_zero_regret():
    K = 500
    assert fit_exponent(np.zeros((2, K)), n_boot=10).exponent == 0.0
    flat = np.minimum(np.arange(1, K + 1), 30.0)[None]
    assert abs(fit_exponent(flat, n_boot=0).exponent) < 1e-12


def test_fit_errors():
    with pytest.raises(ValueError, match="k_range"):
        fit_exponent(np.ones((1, 10)), k_range=(5, 20))
    with pytest.raises(ValueError, match="NaN"):
        fit_exponent(np.full((1, 10), np.nan))
    with pytest.raises(ValueError, match="ci"):
        fit_exponent(np.ones((1, 10)), ci=1.5)


def test_ratio_quantiles_fraction():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    b = np.array([2.0, 4.0, 4.0])
    np.testing.assert_allclose(ratio_to_bound(X, b), X / b)
    np.testing.assert_allclose(quantiles(X, [0.5]), [[1.5, 3.0, 4.5]])
    assert fraction_above(X, b) == 0.5
    with pytest.raises(ValueError, match="shape"):
        ratio_to_bound(X, b[:2])


def test_ucbvi_bound_formula_and_curve():
    # Azar et al. 2017 Theorems 1-2 written out by hand
    S, A, H, K, d = 6, 2, 20, 1000.0, 0.1
    T = K * H
    Lp = np.log(5 * H * S * A * T / d)
    ch = UCBVI("hoeffding").bound(S, A, H, K, d)
    assert float(ch) == pytest.approx(20 * H * Lp * np.sqrt(S * A * T) + 250 * H**2 * S**2 * A * Lp**2)
    bf = UCBVI("bernstein").bound(S, A, H, K, d)
    assert float(bf) == pytest.approx(30 * H * Lp * np.sqrt(S * A * K) + 2500 * H**2 * S**2 * A * Lp**2
                                      + 4 * H**1.5 * np.sqrt(K * Lp))
    assert ch.explicit_constants and ch.normalization == "N1" and ch.setting == "HOM"
    curve = UCBVI("hoeffding").bound(S, A, H, np.arange(1, 11), d).value
    assert curve.shape == (10,) and np.all(np.diff(curve) > 0)
    with pytest.raises(ValueError, match="delta"):
        UCBVI().bound(S, A, H, K, 1.5)


def test_minimax_lower_bound_rates():
    assert minimax_lower_bound(4, 2, 5, 100) == pytest.approx(min(np.sqrt(125 * 8 * 100), 500))
    assert minimax_lower_bound(4, 2, 5, 1, setting="HOM", normalization="N2") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="setting"):
        minimax_lower_bound(4, 2, 5, 10, setting="X")


def test_ratio_to_bound_from_learner_and_input_checks():
    import mdptheory as m
    from mdptheory.envs.riverswim import riverswim
    from mdptheory.learners import EULER, UCBAdvantage
    from mdptheory.regret import run
    mdp = riverswim(4, 5)
    for L in (UCBVI("hoeffding", bonus_scale=0.1), EULER(delta=0.1), UCBAdvantage(delta=0.1)):
        tr = run(L, mdp, 30, 2)
        r = ratio_to_bound(tr, learner=L)           # delta defaults to the learner's own
        b = L.bound(4, 2, 5, np.arange(1, 31, dtype=float), L.delta).value
        np.testing.assert_allclose(r, tr.cumulative() / b)
    with pytest.raises(ValueError, match="learner"):
        ratio_to_bound(tr)
    with pytest.raises(ValueError, match="RegretTrace"):
        ratio_to_bound(tr.cumulative(), learner=L)
    with pytest.raises(TypeError, match="n_boot"):
        fit_exponent(np.ones((1, 10)), n_boot=1.5)
    with pytest.raises(ValueError, match="points"):
        fit_exponent(np.ones((1, 10)), points=1)
    with pytest.raises(ValueError, match="quantile"):
        quantiles(np.ones((2, 3)), [1.5])
    assert m.regret.minimax_lower_bound(4, 2, 5, 100, normalization="N3") == pytest.approx(
        min(np.sqrt(4 * 2 * 125 * 100), 500))


# -- the one log-log fitter: fit_power_law -------------------------------------------------


def test_resample_weights_match_explicit_resampling():
    """Twin: W @ X equals the means of explicitly resampled rows (same index draws)."""
    X = np.random.default_rng(1).random((7, 5))
    W = _resample_weights(7, 50, np.random.default_rng(3))
    idx = np.random.default_rng(3).integers(0, 7, size=(50, 7))
    explicit = np.stack([X[i].mean(axis=0) for i in idx])
    np.testing.assert_allclose(W @ X, explicit, rtol=0, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(-2.0, 2.0), c=st.floats(0.01, 100.0), n=st.integers(2, 40))
def test_fit_power_law_exact_power_law(alpha, c, n):
    x = np.geomspace(1.0, 1e4, n)
    f = fit_power_law(x, c * x**alpha)          # a 1-d array is one curve
    assert f.exponent == pytest.approx(alpha, abs=1e-9)
    assert np.exp(f.intercept) == pytest.approx(c, rel=1e-9)
    assert f.n_seeds == 1 and np.isnan(f.ci_low) and np.isnan(f.ci_high) and f.n_resamples == 0


def test_fit_power_law_two_points_closed_form():
    f = fit_power_law([1.0, 10.0], [2.0, 20.0])
    assert (f.exponent, np.exp(f.intercept)) == pytest.approx((1.0, 2.0))
    assert (f.x_min, f.x_max) == (1.0, 10.0) and float(f) == f.exponent


def test_exponent_ci_contains_truth():
    from mdptheory.sweeps.stats import fit_window
    rng = np.random.default_rng(2)
    K = 10_000
    w = fit_window(K)
    Y = np.stack([rng.uniform(5, 10) * w**0.5 * np.exp(rng.normal(0, 0.05, w.size)) for _ in range(20)])
    fit = fit_power_law(w, Y, level=0.95, n_boot=500)
    assert fit.ci_low <= 0.5 <= fit.ci_high and abs(fit.exponent - 0.5) < 0.05
    assert fit.x_min >= K / 10 and fit.x_max == K


def test_nonpositive_policies():
    # "nan": a mean with a zero has no power law; "drop": fit the positive points, and a
    # curve with fewer than two of them does not grow
    zero = np.zeros((2, 3))
    f = fit_power_law([1, 2, 3], zero)
    assert np.isnan(f.exponent) and np.isnan(f.intercept) and np.isnan(f.ci_low) and f.n_resamples == 0
    g = fit_power_law([1, 2, 3], zero, nonpositive="drop")
    assert g.exponent == 0.0 and g.intercept == -np.inf and g.ci_low == 0.0 == g.ci_high
    h = fit_power_law([1.0, 2.0, 4.0], [0.0, 3.0, 6.0], nonpositive="drop")
    assert h.exponent == pytest.approx(1.0) and np.exp(h.intercept) == pytest.approx(1.5)
    assert np.isnan(fit_power_law([1.0, 2.0], [0.0, 1.0]).exponent)
    with pytest.raises(ValueError, match="nonpositive"):
        fit_power_law([1.0, 2.0], [1.0, 2.0], nonpositive="zero")


def test_single_seed_or_no_resample_has_no_interval():
    """One seed: the bootstrap distribution is a point mass, so no interval (NaN), as for
    bootstrap_mean_ci; n_boot = 0 asks for none."""
    x = np.array([[1.0, 2.0, 4.0]])
    f = fit_power_law([1.0, 2.0, 4.0], x)
    assert f.exponent == pytest.approx(1.0) and np.isnan(f.ci_low) and np.isnan(f.ci_high) and f.n_resamples == 0
    g = fit_power_law([1.0, 2.0, 4.0], np.vstack([x, 2 * x]), n_boot=0)
    assert g.exponent == pytest.approx(1.0) and np.isnan(g.ci_low) and g.n_resamples == 0
    k = np.arange(1, 101, dtype=float)
    e = fit_exponent(k[None] ** 0.5, n_boot=100)
    assert e.exponent == pytest.approx(0.5) and np.isnan(e.ci_high)


def test_fit_power_law_input_validation():
    Y = np.ones((3, 2))
    with pytest.raises(ValueError, match="n_boot = -1"):
        fit_power_law([1.0, 2.0], Y, n_boot=-1)
    with pytest.raises(ValueError, match="positive"):
        fit_power_law([0.0, 2.0], Y)
    with pytest.raises(ValueError, match="columns"):
        fit_power_law([1.0, 2.0, 3.0], Y)
    with pytest.raises(ValueError, match="level"):
        fit_power_law([1.0, 2.0], Y, level=0.0)
    with pytest.raises(ValueError, match="two distinct"):
        fit_power_law([2.0, 2.0], Y)
    with pytest.raises(ValueError, match="non-finite"):
        fit_power_law([1.0, 2.0], [[1.0, np.nan]])
    with pytest.raises(TypeError, match="seed"):
        fit_power_law([1.0, 2.0], Y, seed=None)


def test_exponent_ci_matches_explicit_resampling_loop():
    """Twin: the vectorised bootstrap of the slope equals a plain loop over resamples that
    draws the same indices and refits with numpy.polyfit."""
    rng = np.random.default_rng(8)
    x = np.geomspace(10, 1000, 12)
    Y = np.stack([rng.uniform(1, 3) * x ** rng.uniform(0.4, 0.6) for _ in range(7)])
    fit = fit_power_law(x, Y, level=0.8, n_boot=400, seed=5)
    idx = np.random.default_rng(5).integers(0, 7, size=(400, 7))
    slopes = np.array([np.polyfit(np.log(x), np.log(Y[i].mean(axis=0)), 1)[0] for i in idx])
    lo, hi = np.quantile(slopes, [0.1, 0.9])
    assert fit.ci_low == pytest.approx(lo, abs=1e-10) and fit.ci_high == pytest.approx(hi, abs=1e-10)
    assert fit.exponent == pytest.approx(np.polyfit(np.log(x), np.log(Y.mean(axis=0)), 1)[0], abs=1e-12)
    assert fit.n_resamples == 400


def test_fit_exponent_drop_policy_matches_explicit_loop():
    """Twin for regret curves that are 0 over a prefix (no mistake yet): every resample's
    slope is numpy.polyfit on its positive points (0 when fewer than two), over the same
    index draws; the window is ``fit_exponent``'s 50 log-spaced episodes in [K/10, K]."""
    rng = np.random.default_rng(4)
    K, n = 600, 6
    inc = rng.random((n, K)) * np.arange(1, K + 1) ** -0.4
    inc[1:4, :200] = 0.0                               # three seeds err only after k = 200
    inc[0] = 0.0                                       # one seed never errs
    X = np.cumsum(inc, axis=1)
    fit = fit_exponent(X, n_boot=300, ci=0.9, seed=11)
    ks = np.unique(np.round(np.geomspace(60, K, 50)).astype(np.int64))
    lk = np.log(ks)

    def slope(m):
        pos = m > 0
        return np.polyfit(lk[pos], np.log(m[pos]), 1)[0] if pos.sum() >= 2 else 0.0

    idx = np.random.default_rng(11).integers(0, n, size=(300, n))
    slopes = np.array([slope(X[i][:, ks - 1].mean(axis=0)) for i in idx])
    # the masked path is exercised: some resampled means are 0 on part of the window
    assert any((X[i][:, ks - 1].mean(axis=0) <= 0).any() for i in idx)
    lo, hi = np.quantile(slopes, [0.05, 0.95])
    assert fit.exponent == pytest.approx(slope(X[:, ks - 1].mean(axis=0)), abs=1e-12)
    assert fit.ci_low == pytest.approx(lo, abs=1e-10) and fit.ci_high == pytest.approx(hi, abs=1e-10)
    assert (fit.x_min, fit.x_max, fit.n_resamples, fit.level) == (60, K, 300, 0.9)

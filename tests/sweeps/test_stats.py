"""Bands checked against closed forms, scipy.stats.bootstrap and Monte Carlo coverage; the
log-spaced grids. (The exponent fits are tested with their code, in
tests/regret/test_analysis.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.sweeps.stats import bootstrap_mean_ci, fit_window, log_grid, quantile_band


def test_bootstrap_uses_the_explicit_resampled_index_sets():
    """Twin: the band edges are the quantiles of the means of explicitly resampled rows
    (same index draws as numpy.random.default_rng(seed).integers)."""
    X = np.random.default_rng(1).random((7, 5))
    b = bootstrap_mean_ci(X, level=0.8, n_boot=50, seed=3)
    idx = np.random.default_rng(3).integers(0, 7, size=(50, 7))
    explicit = np.stack([X[i].mean(axis=0) for i in idx])
    lo, hi = np.quantile(explicit, [0.1, 0.9], axis=0)
    np.testing.assert_allclose(b.lo, lo, rtol=0, atol=1e-14)
    np.testing.assert_allclose(b.hi, hi, rtol=0, atol=1e-14)


def test_bootstrap_matches_clt_for_large_n():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=400)
    m, lo, hi = bootstrap_mean_ci(x[:, None], level=0.95, n_boot=4000, seed=1)
    half = 1.959964 * x.std(ddof=1) / np.sqrt(x.size)
    assert m[0] == pytest.approx(x.mean())
    assert lo[0] == pytest.approx(x.mean() - half, rel=0, abs=0.1 * half)
    assert hi[0] == pytest.approx(x.mean() + half, rel=0, abs=0.1 * half)


def test_bootstrap_agrees_with_scipy_percentile():
    from scipy import stats

    x = np.random.default_rng(5).exponential(size=40)
    ref = stats.bootstrap((x,), np.mean, confidence_level=0.9, n_resamples=20000, method="percentile",
                          random_state=np.random.default_rng(0)).confidence_interval
    _, lo, hi = bootstrap_mean_ci(x[:, None], level=0.9, n_boot=20000, seed=7)
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert abs(lo[0] - ref.low) < 0.05 * se * 4 and abs(hi[0] - ref.high) < 0.05 * se * 4


def test_bootstrap_coverage():
    """Percentile bootstrap of a mean: coverage near nominal for n = 30 (Monte Carlo)."""
    rng = np.random.default_rng(11)
    hits = 0
    reps = 300
    for r in range(reps):
        x = rng.gamma(4.0, 1.0, size=30)  # mean 4
        _, lo, hi = bootstrap_mean_ci(x[:, None], level=0.9, n_boot=500, seed=r)
        hits += lo[0] <= 4.0 <= hi[0]
    assert 0.82 <= hits / reps <= 0.96


def test_bootstrap_degenerate_and_monotone():
    X = np.tile(np.arange(5.0), (4, 1))
    m, lo, hi = bootstrap_mean_ci(X)
    np.testing.assert_array_equal(lo, m)
    np.testing.assert_array_equal(hi, m)
    C = np.cumsum(np.random.default_rng(0).random((6, 30)), axis=1)
    _, lo, hi = bootstrap_mean_ci(C, n_boot=300)
    assert np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0)
    a = bootstrap_mean_ci(C, n_boot=300, seed=4)
    b = bootstrap_mean_ci(C, n_boot=300, seed=4)
    for u, v in zip(a, b):
        assert u.tobytes() == v.tobytes()


def test_bootstrap_errors():
    with pytest.raises(ValueError, match="level = 1.2"):
        bootstrap_mean_ci(np.ones((3, 2)), level=1.2)
    with pytest.raises(ValueError, match="non-finite"):
        bootstrap_mean_ci(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="n_boot = 0"):
        bootstrap_mean_ci(np.ones((3, 2)), n_boot=0)


def test_quantile_band_closed_form():
    X = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    med, lo, hi = quantile_band(X, level=0.5)
    # linear interpolation: q=0.25 -> position 1.0 -> 2; q=0.75 -> 4
    assert (med[0], lo[0], hi[0]) == (3.0, 2.0, 4.0)


def test_log_grid():
    g = log_grid(1000, 50)
    assert g[0] == 1 and g[-1] == 1000 and np.all(np.diff(g) > 0)
    assert log_grid(5, 100).tolist() == [1, 2, 3, 4, 5]
    assert fit_window(100)[0] == 10


def test_band_fields_and_tuple_unpacking():
    X = np.random.default_rng(3).random((6, 4))
    b = bootstrap_mean_ci(X, level=0.9, n_boot=300, seed=2)
    m, lo, hi = b  # the three-tuple interface still unpacks
    assert m is b.center and lo is b.lo and hi is b.hi
    assert (b.kind, b.level, b.n_seeds) == ("bootstrap", 0.9, 6)
    np.testing.assert_array_equal(b.center, X.mean(axis=0))
    assert np.all(b.lo <= b.center) and np.all(b.center <= b.hi)
    q = quantile_band(X, level=0.5)
    assert (q.kind, q.n_seeds) == ("quantile", 6)
    np.testing.assert_array_equal(q.center, np.median(X, axis=0))


def test_single_seed_has_no_confidence_interval():
    """One seed: no spread to resample, so the CI is NaN rather than a zero-width interval."""
    x = np.array([[1.0, 2.0, 4.0]])
    b = bootstrap_mean_ci(x)
    np.testing.assert_array_equal(b.center, x[0])
    assert np.all(np.isnan(b.lo)) and np.all(np.isnan(b.hi)) and b.n_seeds == 1

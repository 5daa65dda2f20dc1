"""fit_exponent, ratio_to_bound, quantiles, bound curves: checked on closed-form curves."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mdptheory.learners import UCBVI
from mdptheory.regret import (fit_exponent, fraction_above, minimax_lower_bound, quantiles,
                              ratio_to_bound)


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(0.05, 1.2), c=st.floats(0.1, 100.0), K=st.integers(50, 3000))
def test_power_law_exponent_recovered(alpha, c, K):
    k = np.arange(1, K + 1, dtype=float)
    X = np.vstack([c * k ** alpha, 2 * c * k ** alpha])
    f = fit_exponent(X, n_boot=50)
    assert f.exponent == pytest.approx(alpha, abs=1e-9)
    assert f.ci_low == pytest.approx(alpha, abs=1e-9) and f.ci_high == pytest.approx(alpha, abs=1e-9)
    assert f.k_max == K and f.k_min == int(np.ceil(K / 10))
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
    with pytest.raises(ValueError, match="n_boot"):
        fit_exponent(np.ones((1, 10)), n_boot=1.5)
    with pytest.raises(ValueError, match="points"):
        fit_exponent(np.ones((1, 10)), points=1)
    with pytest.raises(ValueError, match="quantile"):
        quantiles(np.ones((2, 3)), [1.5])
    assert m.regret.minimax_lower_bound(4, 2, 5, 100, normalization="N3") == pytest.approx(
        min(np.sqrt(4 * 2 * 125 * 100), 500))

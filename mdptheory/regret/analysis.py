r"""Analysis of regret traces: power-law exponent fits with a seed-bootstrap confidence
interval, ratios to a bound, quantiles across seeds.

:func:`fit_power_law` is the one log-log fitter of the package: the least-squares line
:math:`\log\bar y = \text{intercept} + \text{exponent}\cdot\log x` through the seed mean
:math:`\bar y`, with the percentile bootstrap interval of the exponent refitted on the means
of seeds resampled with replacement (Efron & Tibshirani 1993, ch. 13; the bootstrap of a
smooth function of a mean). :func:`fit_exponent` applies it to a regret trace over the last
decade of episodes; :mod:`mdptheory.sweeps` applies it to study results (exponents in K and
in S, A, H). ``proofs_notes/confidence_bands.md`` states what the interval guarantees.

High-probability regret bounds are statements about quantiles over runs (``delta`` is a
failure probability), so compare a bound with an upper quantile across seeds, not only the
mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core.validation import check_choice, check_generator, check_int, check_probability
from mdptheory.regret.bounds import bound_curve

__all__ = ["ExponentFit", "fit_power_law", "fit_exponent", "ratio_to_bound", "quantiles", "fraction_above"]

NONPOSITIVE = ("nan", "drop")


@dataclass(frozen=True)
class ExponentFit:
    r"""A power law :math:`\bar y(x)\approx e^{\text{intercept}}\,x^{\text{exponent}}` fitted
    to the seed mean, with a seed-bootstrap interval (:func:`fit_power_law`).

    Attributes
    ----------
    exponent : float
        Least-squares slope of :math:`\log\bar y` on :math:`\log x` (NaN when the mean has
        no power law to fit, see ``nonpositive`` of :func:`fit_power_law`).
    ci_low, ci_high : float
        Percentile bootstrap interval of the exponent at ``level``; NaN when there is no
        interval (one seed, ``n_boot = 0``, or no resample could be fitted).
    intercept : float
        :math:`\log` of the prefactor (``-inf`` for a curve without growth).
    x_min, x_max : float
        Range of the abscissae of the fit (episodes for :func:`fit_exponent`).
    n_seeds : int
        Number of curves averaged.
    level : float
        Nominal level of the interval.
    n_resamples : int
        Bootstrap resamples the interval was computed from (0 when there is no interval).
    """

    exponent: float
    ci_low: float
    ci_high: float
    intercept: float
    x_min: float
    x_max: float
    n_seeds: int
    level: float
    n_resamples: int = 0

    def __float__(self) -> float:
        return float(self.exponent)


def _cumulative(x) -> np.ndarray:
    if hasattr(x, "cumulative") and callable(x.cumulative):
        x = x.cumulative()
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"cumulative regret must have shape (episodes,) or (n_seeds, episodes), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("cumulative regret contains NaN or inf (was the trace run with eval_every=0?)")
    return x


def _resample_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) matrix W with W @ X = means of bootstrap resamples of the rows of X."""
    idx = rng.integers(0, n, size=(n_boot, n))
    W = np.zeros((n_boot, n))
    np.add.at(W, (np.repeat(np.arange(n_boot), n), idx.ravel()), 1.0)
    return W / n


def _line(lx: np.ndarray, ly: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(slope, intercept)`` of ``ly`` on ``lx`` (1-d)."""
    lx0 = lx - lx.mean()
    b = float((lx0 * (ly - ly.mean())).sum() / (lx0 * lx0).sum())
    return b, float(ly.mean() - b * lx.mean())


def _line_on_positive(lx: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """:func:`_line` on the points with ``y > 0``; ``(0, -inf)`` (no growth) when they have
    fewer than two distinct abscissae."""
    pos = y > 0
    if np.unique(lx[pos]).size < 2:
        return 0.0, -np.inf
    return _line(lx[pos], np.log(y[pos]))


def _row_slopes(lx: np.ndarray, LY: np.ndarray) -> np.ndarray:
    """Least-squares slope of every row of ``LY`` on ``lx`` (one matrix product)."""
    lxc = lx - lx.mean()
    return (LY - LY.mean(axis=1, keepdims=True)) @ lxc / np.sum(lxc**2)


def fit_power_law(x, Y, level: float = 0.95, n_boot: int = 1000, seed=0, *,
                  nonpositive: str = "nan") -> ExponentFit:
    r"""Exponent :math:`\alpha` of :math:`\bar y(x)\approx c\,x^{\alpha}` with a seed-bootstrap
    interval.

    Parameters
    ----------
    x : array_like, shape (n_points,)
        Positive, finite abscissae with at least two distinct values (episode counts, or
        S, A, H values).
    Y : array_like, shape (n_seeds, n_points) or (n_points,)
        One curve per seed (a 1-d array is one curve).
    level : float in (0, 1)
        Nominal level of the interval.
    n_boot : int >= 0
        Bootstrap resamples of the seeds (0 = no interval).
    seed : int or numpy.random.Generator
        Seed of the resampling generator (:func:`mdptheory.core.validation.check_generator`);
        the same seed gives the same resampled index sets.
    nonpositive : {"nan", "drop"}
        What a non-positive value of a mean curve means. ``"nan"``: the curve has no power
        law; every field of the result is NaN if the seed mean has one, and bootstrap
        resamples whose mean has one are left out (``n_resamples`` counts the rest).
        ``"drop"``: such points are left out of that curve's fit (cumulative regret is 0
        until the first suboptimal episode); a curve with fewer than two positive points
        has exponent 0 (no growth) and intercept ``-inf``.

    Returns
    -------
    ExponentFit
        ``exponent``/``intercept``: the least-squares line through
        :math:`(\log x, \log\bar y)` with :math:`\bar y` the seed mean; ``ci_low``/``ci_high``
        the :math:`(1\mp\text{level})/2` quantiles of the exponents refitted on the means
        :math:`\bar y^{*b}` of ``n_seeds`` rows drawn with replacement. With one seed the
        bootstrap distribution is a point mass, so there is no interval (NaN), as for
        :func:`mdptheory.sweeps.bootstrap_mean_ci`.
    """
    level = check_probability("level", level, low_open=True, high_open=True)
    n_boot = check_int("n_boot", n_boot, 0)
    check_choice("nonpositive", nonpositive, NONPOSITIVE)
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0 or np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("x must be non-empty, positive and finite for a log-log fit")
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[None, :]
    if Y.ndim != 2 or Y.shape[0] < 1:
        raise ValueError(f"Y must have shape (n_seeds, n_points) or (n_points,), got {Y.shape}")
    if Y.shape[1] != x.size:
        raise ValueError(f"Y has {Y.shape[1]} columns but x has {x.size} points")
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y contains non-finite values")
    lx = np.log(x)
    if np.unique(lx).size < 2:
        raise ValueError("a log-log fit needs at least two distinct x values")
    rng = check_generator(seed)
    n = Y.shape[0]
    nan = float("nan")
    m = Y.mean(axis=0)

    def result(b, a, lo=nan, hi=nan, used=0):
        return ExponentFit(exponent=b, ci_low=lo, ci_high=hi, intercept=a, x_min=float(x.min()),
                           x_max=float(x.max()), n_seeds=n, level=level, n_resamples=used)

    if nonpositive == "nan":
        if np.any(m <= 0):
            return result(nan, nan)
        b, a = _line(lx, np.log(m))
    else:
        b, a = _line_on_positive(lx, m)
    if n == 1 or n_boot == 0:
        return result(b, a)
    boots = _resample_weights(n, n_boot, rng) @ Y
    positive = np.all(boots > 0, axis=1)
    if nonpositive == "nan":
        slopes = _row_slopes(lx, np.log(boots[positive]))
    else:
        slopes = np.empty(n_boot)
        slopes[positive] = _row_slopes(lx, np.log(boots[positive]))
        for i in np.flatnonzero(~positive):
            slopes[i] = _line_on_positive(lx, boots[i])[0]
    if slopes.size == 0:
        return result(b, a)
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(slopes, [q, 1.0 - q])
    return result(b, a, float(lo), float(hi), int(slopes.size))


def fit_exponent(cumulative, k_range=None, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
                 points: int = 50) -> ExponentFit:
    r"""Fit the growth exponent :math:`\alpha` of cumulative regret, :math:`R(k)\propto k^\alpha`.

    Parameters
    ----------
    cumulative : RegretTrace or array ``(n_seeds, K)`` / ``(K,)``
        A trace (its :meth:`~RegretTrace.cumulative` is used) or cumulative regret.
    k_range : (int, int), optional
        1-based episodes ``(k_min, k_max)``; default the last decade ``(ceil(K/10), K)``.
    n_boot : int
        Bootstrap resamples of the seeds (0 = no interval).
    ci : float in (0, 1)
        Interval level (``ExponentFit.level``).
    seed : int
        Seed of the bootstrap generator.
    points : int
        Number of log-spaced episodes used in the regression (distinct integers).

    Returns
    -------
    ExponentFit
        :func:`fit_power_law` of the cumulative regret at the chosen episodes, with
        ``nonpositive="drop"``: points with :math:`\bar R(k)=0` are dropped; if fewer than
        two remain, the exponent is 0 (no growth). ``x_min``/``x_max`` are the episode range.

    Notes
    -----
    Sublinear regret :math:`\tilde O(\sqrt K)` shows an exponent near 1/2 once the
    lower-order terms are negligible; 1 means linear regret; near 0, regret stopped
    growing.
    """
    X = _cumulative(cumulative)
    K = X.shape[1]
    if k_range is None:
        k_min, k_max = max(1, int(np.ceil(K / 10))), K
    else:
        k_min, k_max = (int(v) for v in k_range)
    if not (1 <= k_min < k_max <= K):
        raise ValueError(f"k_range = {(k_min, k_max)} must satisfy 1 <= k_min < k_max <= K = {K}")
    level = check_probability("ci", ci, low_open=True, high_open=True)
    n_boot = check_int("n_boot", n_boot, 0)
    points = check_int("points", points, 2)
    ks = np.unique(np.round(np.geomspace(k_min, k_max, points)).astype(np.int64))
    return fit_power_law(ks.astype(float), X[:, ks - 1], level, n_boot, seed, nonpositive="drop")


def ratio_to_bound(trace, bound=None, *, delta: float | None = None, learner=None) -> np.ndarray:
    r"""Cumulative regret divided by a bound curve, ``(n_seeds, K)``.

    ``bound`` is an array ``(K,)`` of bound values for ``k = 1..K``, or ``None`` to use
    :func:`~mdptheory.regret.bound_curve` of ``learner`` (the learner object must be passed:
    a trace stores only its configuration; ``delta`` defaults to ``learner.delta``). A ratio
    below 1 on every seed means the bound held on every seed on the whole run; compare an
    upper quantile of the ratio across seeds with 1 for a high-probability statement
    (:func:`quantiles`)."""
    X = _cumulative(trace)
    K = X.shape[1]
    if bound is None:
        if learner is None:
            raise ValueError("pass bound=array or learner=<the learner object> to compute the bound")
        if not hasattr(trace, "S"):
            raise ValueError("bound=None needs a RegretTrace (for S, A, H), not a bare array")
        ks = np.arange(1, K + 1, dtype=float)
        bound = bound_curve(learner, trace.S, trace.A, trace.H, ks, delta).value
    bound = np.asarray(bound, dtype=float)
    if bound.shape != (K,):
        raise ValueError(f"bound must have shape ({K},), got {bound.shape}")
    return X / bound[None, :]


def quantiles(trace, q=(0.1, 0.5, 0.9)) -> np.ndarray:
    """Quantiles across seeds of the cumulative regret, ``(len(q), K)`` (numpy's default
    linear interpolation between order statistics). A bound that holds with probability
    ``1 - delta`` should lie above the ``1 - delta`` quantile."""
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if not np.all((qs >= 0) & (qs <= 1)):
        raise ValueError(f"quantile levels must lie in [0, 1], got {q!r}")
    return np.quantile(_cumulative(trace), qs, axis=0)


def fraction_above(trace, bound) -> float:
    """Fraction of seeds whose cumulative regret exceeds ``bound`` (array ``(K,)``) at some
    episode: an empirical failure probability to compare with ``delta``."""
    X = _cumulative(trace)
    b = np.asarray(bound, dtype=float)
    return float((X > b[None, :]).any(axis=1).mean())

r"""Analysis of regret traces: log-log exponent fits with bootstrap confidence intervals
across seeds, ratios to a bound, quantiles across seeds.

High-probability regret bounds are statements about quantiles over runs (``delta`` is a
failure probability), so compare a bound with an upper quantile across seeds, not only the
mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ExponentFit", "fit_exponent", "ratio_to_bound", "quantiles", "fraction_above"]


@dataclass(frozen=True)
class ExponentFit:
    r"""Result of :func:`fit_exponent`: :math:`\log \bar R(k)\approx \text{intercept} +
    \text{exponent}\cdot\log k` on ``k_min <= k <= k_max``.

    Attributes
    ----------
    exponent : float
        Least-squares slope on the seed-mean cumulative regret.
    ci_low, ci_high : float
        Percentile bootstrap interval (resampling seeds with replacement), level ``ci``.
    intercept : float
    k_min, k_max : int
        1-based episode range of the fit.
    n_seeds : int
    ci : float
    """

    exponent: float
    ci_low: float
    ci_high: float
    intercept: float
    k_min: int
    k_max: int
    n_seeds: int
    ci: float

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


def _slope(logk: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    pos = y > 0
    if pos.sum() < 2:
        # no growth to measure: a regret that is identically 0 does not grow
        return 0.0, -np.inf
    lk, ly = logk[pos], np.log(y[pos])
    lk0 = lk - lk.mean()
    b = float((lk0 * (ly - ly.mean())).sum() / (lk0 * lk0).sum())
    return b, float(ly.mean() - b * lk.mean())


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
        Interval level.
    seed : int
        Seed of the bootstrap generator.
    points : int
        Number of log-spaced episodes used in the regression (distinct integers).

    Returns
    -------
    ExponentFit
        Slope of the least-squares line through :math:`(\log k, \log \bar R(k))`, with
        :math:`\bar R` the mean over seeds. Points with :math:`\bar R(k)=0` are dropped; if
        fewer than two remain, the exponent is 0 (no growth).

    Notes
    -----
    Sublinear regret :math:`\tilde O(\sqrt K)` shows an exponent near 1/2 once the
    lower-order terms are negligible; 1 means linear regret; near 0, regret stopped
    growing.
    """
    X = _cumulative(cumulative)
    n, K = X.shape
    if k_range is None:
        k_min, k_max = max(1, int(np.ceil(K / 10))), K
    else:
        k_min, k_max = (int(v) for v in k_range)
    if not (1 <= k_min < k_max <= K):
        raise ValueError(f"k_range = {(k_min, k_max)} must satisfy 1 <= k_min < k_max <= K = {K}")
    if not (0.0 < ci < 1.0):
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be an integer >= 0, got {n_boot!r}")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    ks = np.unique(np.round(np.geomspace(k_min, k_max, max(2, int(points)))).astype(np.int64))
    logk = np.log(ks.astype(float))
    cols = X[:, ks - 1]
    b, a = _slope(logk, cols.mean(axis=0))
    lo = hi = b
    if n_boot > 0:
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        idx = rng.integers(0, n, size=(n_boot, n))
        boots = np.array([_slope(logk, cols[i].mean(axis=0))[0] for i in idx])
        lo, hi = (float(v) for v in np.quantile(boots, [(1 - ci) / 2, (1 + ci) / 2]))
    return ExponentFit(exponent=b, ci_low=lo, ci_high=hi, intercept=a, k_min=k_min, k_max=k_max,
                       n_seeds=n, ci=float(ci))


def ratio_to_bound(trace, bound=None, *, delta: float | None = None, learner=None) -> np.ndarray:
    r"""Cumulative regret divided by a bound curve, ``(n_seeds, K)``.

    ``bound`` is an array ``(K,)`` of bound values for ``k = 1..K``, or ``None`` to use
    ``learner.bound(S, A, H, k, delta)`` (the learner object must be passed: a trace stores
    only its configuration; ``delta`` defaults to ``learner.delta``). A ratio below 1 on
    every seed means the bound held on every seed on the whole run; compare an upper quantile
    of the ratio across seeds with 1 for a high-probability statement (:func:`quantiles`)."""
    X = _cumulative(trace)
    K = X.shape[1]
    if bound is None:
        if learner is None:
            raise ValueError("pass bound=array or learner=<the learner object> to compute the bound")
        if not hasattr(trace, "S"):
            raise ValueError("bound=None needs a RegretTrace (for S, A, H), not a bare array")
        ks = np.arange(1, K + 1, dtype=float)
        if delta is None:
            delta = getattr(learner, "delta", None)
        kw = {} if delta is None else {"delta": delta}
        bound = np.asarray(learner.bound(trace.S, trace.A, trace.H, ks, **kw).value, dtype=float)
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

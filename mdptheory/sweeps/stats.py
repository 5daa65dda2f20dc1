r"""Statistics across seeds: bootstrap confidence intervals, quantile bands, log-log fits.

All resampling uses a seeded :class:`numpy.random.Generator`; the same inputs and seed give
bit-identical outputs. See ``proofs_notes/confidence_bands.md`` for what each band
guarantees.

* :func:`bootstrap_mean_ci` -- percentile bootstrap CI for the mean over seeds (Efron 1979;
  Efron & Tibshirani 1993, ch. 13), pointwise in the episode index.
* :func:`quantile_band` -- pointwise empirical quantiles of the seed distribution (spread of
  single runs, the quantity high-probability regret bounds speak about).
* :func:`loglog_fit` -- least-squares slope of :math:`\log y` on :math:`\log x`, i.e. the
  exponent :math:`\alpha` of :math:`y \approx c x^{\alpha}`.
* :func:`exponent_with_ci` -- that slope fitted on the mean curve, with a bootstrap CI
  obtained by refitting on resampled seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Band",
    "LogLogFit",
    "bootstrap_mean_ci",
    "quantile_band",
    "loglog_fit",
    "exponent_with_ci",
    "fit_window",
    "ExponentFit",
    "log_grid",
]


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float, np.floating)) and 0.0 < float(level) < 1.0):
        raise ValueError(f"level = {level!r} must be in (0, 1)")
    return float(level)


def _as_2d(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n_seeds, n_points), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains non-finite values")
    return X


@dataclass(frozen=True)
class Band:
    """A pointwise band across seeds: ``center`` (mean or median) and ``lo``/``hi`` edges.

    Unpacks like a tuple, ``center, lo, hi = band``, for callers of the earlier
    three-tuple interface.

    Attributes
    ----------
    center, lo, hi : ndarray, shape (n_points,)
    kind : str
        ``"bootstrap"`` (mean, percentile-bootstrap CI of the mean) or ``"quantile"``
        (median, central quantile band of single runs).
    level : float
        Nominal level of the band.
    n_seeds : int
        Number of curves the band was computed from.
    """

    center: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    kind: str
    level: float
    n_seeds: int

    def __iter__(self):
        return iter((self.center, self.lo, self.hi))


@dataclass(frozen=True)
class LogLogFit:
    """Least-squares power law ``y ~ c x^alpha``; unpacks as ``alpha, c = fit``."""

    alpha: float
    c: float

    def __iter__(self):
        return iter((self.alpha, self.c))


def _check_n_boot(n_boot) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot = {n_boot!r} must be a positive integer")
    return int(n_boot)


def _resample_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) matrix W with W @ X = means of bootstrap resamples of the rows of X."""
    idx = rng.integers(0, n, size=(n_boot, n))
    W = np.zeros((n_boot, n))
    np.add.at(W, (np.repeat(np.arange(n_boot), n), idx.ravel()), 1.0)
    return W / n


def bootstrap_mean_ci(X, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Band:
    r"""Mean over seeds with a percentile-bootstrap confidence interval, pointwise.

    Parameters
    ----------
    X : array_like, shape (n_seeds, n_points)
        One row per seed (e.g. cumulative regret at a grid of episodes). A 1-d array is
        read as one point observed on ``n_seeds`` seeds.
    level : float
        Nominal coverage :math:`1-\alpha`.
    n_boot : int
        Number of bootstrap resamples :math:`B`.
    seed : int
        Seed of the resampling generator (:func:`numpy.random.default_rng`).

    Returns
    -------
    Band
        ``center`` = :math:`\bar X`; ``lo``/``hi`` = the :math:`\alpha/2`,
        :math:`1-\alpha/2` quantiles of :math:`\{\bar X^{*b}\}_{b\le B}`, each
        :math:`\bar X^{*b}` the mean of ``n_seeds`` rows drawn with replacement. With a
        single seed there is no spread to resample: ``lo`` and ``hi`` are NaN (not a
        zero-width interval). Unpacks as ``mean, lo, hi``.

    Notes
    -----
    The same resampled seed sets are used at every point, so ``lo``/``hi`` of a
    non-decreasing curve (cumulative regret) are non-decreasing too.
    """
    level = _check_level(level)
    n_boot = _check_n_boot(n_boot)
    X = _as_2d(X)
    n = X.shape[0]
    mean = X.mean(axis=0)
    if n == 1:
        nan = np.full_like(mean, np.nan)
        return Band(mean, nan, nan.copy(), "bootstrap", level, 1)
    rng = np.random.default_rng(seed)
    W = _resample_weights(n, n_boot, rng)
    boots = W @ X
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(boots, [a, 1.0 - a], axis=0)
    return Band(mean, lo, hi, "bootstrap", level, n)


def quantile_band(X, level: float = 0.8) -> Band:
    r"""Median and the central ``level`` band of the seeds, pointwise.

    Returns a :class:`Band` (unpacks as ``median, lo, hi``) with ``lo``/``hi`` the
    :math:`(1-\text{level})/2` and :math:`(1+\text{level})/2` empirical quantiles (linear
    interpolation, numpy's default) of the rows of ``X``. With one seed the band collapses
    to that seed's curve (a quantile band describes the runs, and there is one).
    """
    level = _check_level(level)
    X = _as_2d(X)
    a = (1.0 - level) / 2.0
    lo, med, hi = np.quantile(X, [a, 0.5, 1.0 - a], axis=0)
    return Band(med, lo, hi, "quantile", level, X.shape[0])


def loglog_fit(x, y) -> LogLogFit:
    r"""Least-squares fit of :math:`\log y = \alpha \log x + \log c`.

    Returns a :class:`LogLogFit` (unpacks as ``alpha, c``).

    Raises ValueError if fewer than two distinct positive ``x`` or any ``y <= 0``.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(~np.isfinite(x)):
        raise ValueError("x must be positive and finite for a log-log fit")
    if np.any(y <= 0) or np.any(~np.isfinite(y)):
        raise ValueError("y must be positive and finite for a log-log fit")
    lx, ly = np.log(x), np.log(y)
    if np.unique(lx).size < 2:
        raise ValueError("a log-log fit needs at least two distinct x values")
    lxm = lx.mean()
    alpha = float(np.sum((lx - lxm) * (ly - ly.mean())) / np.sum((lx - lxm) ** 2))
    c = float(np.exp(ly.mean() - alpha * lxm))
    return LogLogFit(alpha, c)


def log_grid(K: int, n: int = 200, start: int = 1) -> np.ndarray:
    """Up to ``n`` distinct integers, log-spaced in ``[start, K]`` (1-based episode counts), always including K."""
    if K < 1:
        raise ValueError(f"K = {K!r} must be >= 1")
    start = max(int(start), 1)
    if n >= K - start + 1:
        return np.arange(start, K + 1, dtype=np.int64)
    g = np.unique(np.round(np.geomspace(start, K, num=n)).astype(np.int64))
    g = g[(g >= start) & (g <= K)]
    if g.size == 0 or g[-1] != K:
        g = np.append(g, K)
    return g


def fit_window(K: int, frac: float = 0.1, n: int = 50) -> np.ndarray:
    """Episode counts used for the exponent fit: ``n`` log-spaced points in ``[frac*K, K]``.

    Fitting only the last decade of episodes keeps the burn-in (linear regret before the
    learner has visited everything) out of the estimated exponent.
    """
    start = max(1, int(np.ceil(frac * K)))
    return log_grid(K, n=n, start=start)


@dataclass(frozen=True)
class ExponentFit:
    """Fitted exponent ``alpha`` of ``y ~ c x^alpha``, its bootstrap CI and the fit window.

    ``n_resamples`` is the number of bootstrap resamples the CI was computed from
    (resamples whose mean curve has a non-positive point cannot be fitted in log-log and
    are dropped; 0 when there is no CI).
    """

    alpha: float
    c: float
    lo: float
    hi: float
    x_min: float
    x_max: float
    n_resamples: int = 0


def exponent_with_ci(x, Y, level: float = 0.95, n_boot: int = 1000, seed: int = 0) -> ExponentFit:
    r"""Exponent of the mean curve with a seed-bootstrap CI.

    Parameters
    ----------
    x : array_like, shape (n_points,)
        Positive abscissae (episode counts, or S/A/H values), at least two distinct.
    Y : array_like, shape (n_seeds, n_points)
        One curve per seed (final regret per seed for scaling fits).
    level, n_boot, seed
        CI level, number of bootstrap resamples and seed of the resampling generator.

    Returns
    -------
    ExponentFit
        ``alpha`` from :func:`loglog_fit` on the seed mean; ``lo``/``hi`` the percentile
        bootstrap interval of ``alpha`` refitted on the means of resampled seeds
        (resamples whose mean has a non-positive entry are dropped and
        ``n_resamples`` counts the rest). All NaN when the mean has non-positive entries
        (e.g. zero regret: no power law to fit); ``lo``/``hi`` NaN with a single seed.
    """
    level = _check_level(level)
    n_boot = _check_n_boot(n_boot)
    x = np.asarray(x, dtype=np.float64).ravel()
    Y = _as_2d(Y, "Y")
    if Y.shape[1] != x.size:
        raise ValueError(f"Y has {Y.shape[1]} columns but x has {x.size} points")
    if x.size == 0 or np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("x must be non-empty, positive and finite for a log-log fit")
    nan = float("nan")
    m = Y.mean(axis=0)
    if np.any(m <= 0):
        return ExponentFit(nan, nan, nan, nan, float(x.min()), float(x.max()), 0)
    alpha, c = loglog_fit(x, m)
    n = Y.shape[0]
    if n == 1:
        return ExponentFit(alpha, c, nan, nan, float(x.min()), float(x.max()), 0)
    rng = np.random.default_rng(seed)
    boots = _resample_weights(n, n_boot, rng) @ Y
    ok = np.all(boots > 0, axis=1)
    lx = np.log(x)
    lxc = lx - lx.mean()
    ly = np.log(boots[ok])
    slopes = (ly - ly.mean(axis=1, keepdims=True)) @ lxc / np.sum(lxc**2)
    a = (1.0 - level) / 2.0
    lo, hi = (np.quantile(slopes, [a, 1 - a]) if slopes.size else (nan, nan))
    return ExponentFit(alpha, c, float(lo), float(hi), float(x.min()), float(x.max()), int(slopes.size))

r"""Statistics across seeds: bootstrap confidence intervals, quantile bands, fit windows.

All resampling uses a seeded :class:`numpy.random.Generator`; the same inputs and seed give
bit-identical outputs. See ``proofs_notes/confidence_bands.md`` for what each band
guarantees.

* :func:`bootstrap_mean_ci` -- percentile bootstrap CI for the mean over seeds (Efron 1979;
  Efron & Tibshirani 1993, ch. 13), pointwise in the episode index.
* :func:`quantile_band` -- pointwise empirical quantiles of the seed distribution (spread of
  single runs, the quantity high-probability regret bounds speak about).
* :func:`log_grid`, :func:`fit_window` -- log-spaced episode counts for figures and for
  exponent fits. The exponent of :math:`y \approx c x^{\alpha}` with its seed-bootstrap CI is
  :func:`mdptheory.regret.fit_power_law` (same resampling as :func:`bootstrap_mean_ci`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core.validation import check_generator, check_int, check_probability
from mdptheory.regret.analysis import _resample_weights

__all__ = [
    "Band",
    "bootstrap_mean_ci",
    "quantile_band",
    "fit_window",
    "log_grid",
]


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

    Unpacks like a tuple: ``center, lo, hi = band``.

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
    seed : int or numpy.random.Generator
        Seed of the resampling generator
        (:func:`mdptheory.core.validation.check_generator`).

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
    level = check_probability("level", level, low_open=True, high_open=True)
    n_boot = check_int("n_boot", n_boot, 1)
    X = _as_2d(X)
    n = X.shape[0]
    mean = X.mean(axis=0)
    if n == 1:
        nan = np.full_like(mean, np.nan)
        return Band(mean, nan, nan.copy(), "bootstrap", level, 1)
    W = _resample_weights(n, n_boot, check_generator(seed))
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
    level = check_probability("level", level, low_open=True, high_open=True)
    X = _as_2d(X)
    a = (1.0 - level) / 2.0
    lo, med, hi = np.quantile(X, [a, 0.5, 1.0 - a], axis=0)
    return Band(med, lo, hi, "quantile", level, X.shape[0])


def log_grid(K: int, n: int = 200, start: int = 1) -> np.ndarray:
    """Up to ``n`` distinct integers, log-spaced in ``[start, K]`` (1-based episode counts), always including K."""
    K = check_int("K", K, 1)
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

r"""Bound certificates: does a theorem's regret bound hold along a run, and where does it say
anything?

For a run with exact cumulative pseudo-regret :math:`\mathrm{Regret}(k)` (one curve per seed)
and a learner's bound :math:`B(k)` (``learner.bound(S, A, H, k)``, a
:class:`~mdptheory.learners.base.RegretBound`), :func:`bound_certificate` computes

.. math::
    \rho = \max_{\text{seeds}}\ \max_{1\le k\le K}\ \frac{\mathrm{Regret}(k)}{B(k)},

which must be :math:`\le 1` on the theorem's event (probability ``holds_with_probability``)
when the bound has explicit constants (``explicit_constants``; with constants set to 1 the
ratio shows a rate, not a certificate). It also records where the bound is *vacuous*:
:math:`B(k)\ge` the trivial cap (``H k`` under N1/N3, ``k`` under N2), which no run can
exceed, so :math:`\rho\le1` there says nothing. The maximum over the informative ``k`` only
(:attr:`BoundCertificate.max_ratio_informative`) is the number that tests the theorem.

Reading :math:`B(k)` at every prefix ``k`` (with the log terms at ``k``, not at the run's
``K``) is the stronger, anytime reading; see ``proofs_notes/minimax_rates.md``.

The computation streams over blocks of episodes (:class:`CertificateAccumulator`), so
runs of ``1e8`` episodes are certified exactly over every ``k`` without holding the curve
(:func:`mdptheory.regret.long_run.long_run` does this chunk by chunk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mdptheory.core.validation import check_int, check_real

__all__ = ["BoundCertificate", "CertificateAccumulator", "bound_certificate", "combine_certificates",
           "first_informative_episode"]

#: Episodes per block when a bound is evaluated over ``1..K`` (bounds memory to a few MB).
_BLOCK = 1 << 18


@dataclass(frozen=True)
class BoundCertificate:
    r"""Regret(k) / bound(k) over every episode ``k = 1..K`` of a run (all seeds).

    Attributes
    ----------
    learner, theorem : str
        Learner name and the theorem the bound instantiates.
    explicit_constants : bool
        The bound's constants are the paper's (only then is ``max_ratio <= 1`` a test).
    holds_with_probability : float or None
        ``1 - delta`` of the theorem (``None``: an expectation bound).
    normalization : str
        Reward normalisation of the bound and of its trivial cap.
    episodes, n_seeds : int
    max_ratio : float
        :math:`\max_{\text{seeds}}\max_k \mathrm{Regret}(k)/B(k)`.
    argmax_seed, argmax_episode : int
        Where it is attained (seed index into the run's seeds; ``k`` is 1-based).
    seed_max_ratio : tuple of float
        The maximum over ``k`` for each seed.
    seed_argmax_episode : tuple of int
        The ``k`` where each seed's maximum is attained.
    final_ratio : float
        :math:`\max_{\text{seeds}}\mathrm{Regret}(K)/B(K)` (the theorem as stated, at the
        run's ``K``).
    max_ratio_informative : float
        The maximum over the ``k`` where :math:`B(k)` is below the trivial cap; NaN when the
        bound is vacuous at every ``k <= K``.
    n_vacuous : int
        Number of ``k`` in ``1..K`` with :math:`B(k)\ge` the trivial cap.
    first_informative : int
        Smallest ``k <= K`` with :math:`B(k) <` the cap (0: none).
    last_vacuous : int
        Largest ``k <= K`` with :math:`B(k)\ge` the cap (0: none).
    """

    learner: str
    theorem: str
    explicit_constants: bool
    holds_with_probability: float | None
    normalization: str
    episodes: int
    n_seeds: int
    max_ratio: float
    argmax_seed: int
    argmax_episode: int
    seed_max_ratio: tuple
    seed_argmax_episode: tuple
    final_ratio: float
    max_ratio_informative: float
    n_vacuous: int
    first_informative: int
    last_vacuous: int

    @property
    def holds(self) -> bool:
        """``max_ratio <= 1`` (the run stayed within the bound at every ``k``)."""
        return bool(self.max_ratio <= 1.0)

    @property
    def vacuous_everywhere(self) -> bool:
        """The bound is at or above the trivial cap for every ``k <= K``."""
        return self.n_vacuous == self.episodes

    @property
    def vacuous_fraction(self) -> float:
        """Fraction of the episodes ``1..K`` at which the bound is vacuous."""
        return self.n_vacuous / self.episodes

    def as_dict(self) -> dict:
        """Plain ``dict`` (JSON-able; NaN stays a float NaN)."""
        d = dict(self.__dict__)
        d["seed_max_ratio"] = list(self.seed_max_ratio)
        d["seed_argmax_episode"] = list(self.seed_argmax_episode)
        d["holds"] = self.holds
        d["vacuous_everywhere"] = self.vacuous_everywhere
        return d


class CertificateAccumulator:
    """Streaming computation of a :class:`BoundCertificate`: feed consecutive blocks of
    episodes with :meth:`update`; :meth:`state`/:meth:`from_state` save and restore the
    running maxima exactly (plain float64/int64 arrays, for checkpoints).

    Parameters
    ----------
    n_seeds : int
        Curves per block.
    start : int, default 0
        Episodes before the first block: certify the window ``start+1 ..`` only (the
        result's ``episodes`` is then the last episode and its counts cover the window).
    """

    _FIELDS = ("seed_max", "seed_argmax", "seed_max_inf", "seed_final", "counters")

    def __init__(self, n_seeds: int, start: int = 0):
        n = check_int("n_seeds", n_seeds, 1)
        self.seed_max = np.full(n, -np.inf)
        self.seed_argmax = np.zeros(n, dtype=np.int64)
        self.seed_max_inf = np.full(n, -np.inf)
        self.seed_final = np.full(n, np.nan)
        # k_done, n_vacuous, first_informative, last_vacuous
        self.counters = np.zeros(4, dtype=np.int64)
        self.counters[0] = check_int("start", start, 0)

    @property
    def k_done(self) -> int:
        return int(self.counters[0])

    def update(self, cumulative, value, cap) -> None:
        """Add episodes ``k_done+1 .. k_done+m``.

        Parameters
        ----------
        cumulative : array ``(n_seeds, m)`` or ``(m,)`` for one seed
            Exact cumulative regret :math:`\\mathrm{Regret}(k)` at those episodes.
        value, cap : array ``(m,)``
            The raw bound :math:`B(k)` and the trivial cap at those episodes.
        """
        c = np.atleast_2d(np.asarray(cumulative, dtype=np.float64))
        value = np.asarray(value, dtype=np.float64).reshape(-1)
        cap = np.broadcast_to(np.asarray(cap, dtype=np.float64), value.shape)
        if c.shape != (self.seed_max.size, value.size):
            raise ValueError(f"cumulative has shape {c.shape}, expected {(self.seed_max.size, value.size)}")
        m = value.size
        if m == 0:
            return
        if not np.all(value > 0):
            i = int(np.flatnonzero(~(value > 0))[0])
            raise ValueError(f"bound value at k = {self.k_done + 1 + i} is {value[i]!r}; a ratio needs a positive bound")
        k0 = self.k_done
        ratio = c / value
        arg = np.argmax(ratio, axis=1)
        best = ratio[np.arange(ratio.shape[0]), arg]
        better = best > self.seed_max
        self.seed_argmax[better] = k0 + 1 + arg[better]
        self.seed_max[better] = best[better]
        vac = value >= cap
        if (~vac).any():
            self.seed_max_inf = np.maximum(self.seed_max_inf, ratio[:, ~vac].max(axis=1))
            if self.counters[2] == 0:
                self.counters[2] = k0 + 1 + int(np.flatnonzero(~vac)[0])
        if vac.any():
            self.counters[1] += int(vac.sum())
            self.counters[3] = k0 + 1 + int(np.flatnonzero(vac)[-1])
        self.seed_final = ratio[:, -1].copy()
        self.counters[0] = k0 + m

    def state(self) -> dict:
        """The running maxima and counters as named arrays (``cert_*``)."""
        return {f"cert_{f}": np.array(getattr(self, f)) for f in self._FIELDS}

    @classmethod
    def from_state(cls, arrays: dict) -> "CertificateAccumulator":
        """Inverse of :meth:`state`."""
        acc = cls(int(np.asarray(arrays["cert_seed_max"]).size))
        for f in cls._FIELDS:
            a = np.array(arrays[f"cert_{f}"], dtype=getattr(acc, f).dtype)
            if a.shape != getattr(acc, f).shape:
                raise ValueError(f"cert_{f} has shape {a.shape}, expected {getattr(acc, f).shape}")
            setattr(acc, f, a)
        return acc

    def result(self, bound_meta, learner: str = "") -> BoundCertificate:
        """The certificate of the episodes fed so far; ``bound_meta`` is any
        :class:`~mdptheory.learners.base.RegretBound` of the learner (its theorem, constants
        flag, probability and normalisation are copied)."""
        K = self.k_done
        if not np.isfinite(self.seed_max).all():
            raise ValueError("no episodes were added")
        i = int(np.argmax(self.seed_max))
        inf = float(self.seed_max_inf.max())
        return BoundCertificate(
            learner=str(learner), theorem=str(bound_meta.theorem),
            explicit_constants=bool(bound_meta.explicit_constants),
            holds_with_probability=bound_meta.holds_with_probability,
            normalization=str(bound_meta.normalization), episodes=K, n_seeds=int(self.seed_max.size),
            max_ratio=float(self.seed_max[i]), argmax_seed=i, argmax_episode=int(self.seed_argmax[i]),
            seed_max_ratio=tuple(float(x) for x in self.seed_max),
            seed_argmax_episode=tuple(int(x) for x in self.seed_argmax), final_ratio=float(self.seed_final.max()),
            max_ratio_informative=inf if math.isfinite(inf) else float("nan"),
            n_vacuous=int(self.counters[1]), first_informative=int(self.counters[2]),
            last_vacuous=int(self.counters[3]),
        )


def _bound_fn(bound):
    if callable(bound):
        return bound
    raise TypeError(f"bound must be a callable k -> RegretBound or a RegretBound, got {type(bound).__name__}")


def bound_certificate(cumulative, bound, *, learner: str | None = None) -> BoundCertificate:
    r"""Certify a run against a regret bound at every episode.

    Parameters
    ----------
    cumulative : RegretTrace or array ``(n_seeds, K)`` / ``(K,)``
        Exact cumulative pseudo-regret (a trace must have been run with ``eval_every=1``).
    bound : callable or RegretBound
        ``k -> RegretBound`` for a float array ``k`` (e.g.
        ``lambda k: learner.bound(S, A, H, k)``), or a RegretBound already evaluated at
        ``k = 1..K``.
    learner : str, optional
        Name stored in the result (default: the trace's learner).

    Returns
    -------
    BoundCertificate
    """
    if hasattr(cumulative, "cumulative") and callable(cumulative.cumulative):
        if not getattr(cumulative, "exact", True):
            raise ValueError("the trace was run with eval_every > 1: its cumulative regret is not exact")
        if learner is None:
            learner = getattr(cumulative, "learner", "")
        cumulative = cumulative.cumulative()
    c = np.atleast_2d(np.asarray(cumulative, dtype=np.float64))
    if c.ndim != 2 or c.shape[1] < 1:
        raise ValueError(f"cumulative must have shape (n_seeds, K) or (K,), got {np.shape(cumulative)}")
    if not np.all(np.isfinite(c)):
        raise ValueError("cumulative regret contains NaN or inf")
    K = c.shape[1]
    acc = CertificateAccumulator(c.shape[0])
    meta = None
    if hasattr(bound, "value") and hasattr(bound, "trivial_cap"):
        value = np.broadcast_to(np.asarray(bound.value, dtype=np.float64), (K,))
        cap = np.broadcast_to(np.asarray(bound.trivial_cap, dtype=np.float64), (K,))
        acc.update(c, value, cap)
        meta = bound
    else:
        fn = _bound_fn(bound)
        for k0 in range(0, K, _BLOCK):
            k1 = min(K, k0 + _BLOCK)
            b = fn(np.arange(k0 + 1, k1 + 1, dtype=np.float64))
            acc.update(c[:, k0:k1], np.broadcast_to(b.value, (k1 - k0,)),
                       np.broadcast_to(b.trivial_cap, (k1 - k0,)))
            meta = b
    return acc.result(meta, learner or "")


def combine_certificates(certs) -> BoundCertificate:
    """One certificate from certificates of the same run length and bound on disjoint seed
    sets (e.g. one per seed of a long run), seeds in the given order."""
    certs = list(certs)
    if not certs:
        raise ValueError("no certificates to combine")
    c0 = certs[0]
    for c in certs[1:]:
        if (c.episodes, c.theorem, c.normalization) != (c0.episodes, c0.theorem, c0.normalization):
            raise ValueError("certificates of different run lengths or bounds cannot be combined")
    ratios = [r for c in certs for r in c.seed_max_ratio]
    argks = [k for c in certs for k in c.seed_argmax_episode]
    best = int(np.argmax(ratios))
    inf = [c.max_ratio_informative for c in certs if not math.isnan(c.max_ratio_informative)]
    return BoundCertificate(
        learner=c0.learner, theorem=c0.theorem, explicit_constants=c0.explicit_constants,
        holds_with_probability=c0.holds_with_probability, normalization=c0.normalization,
        episodes=c0.episodes, n_seeds=len(ratios), max_ratio=float(ratios[best]), argmax_seed=best,
        argmax_episode=int(argks[best]), seed_max_ratio=tuple(ratios), seed_argmax_episode=tuple(argks),
        final_ratio=max(c.final_ratio for c in certs),
        max_ratio_informative=max(inf) if inf else float("nan"), n_vacuous=c0.n_vacuous,
        first_informative=c0.first_informative, last_vacuous=c0.last_vacuous,
    )


def first_informative_episode(bound, k_max: float = 1e18, points_per_decade: int = 50) -> float:
    r"""Smallest integer ``k <= k_max`` with :math:`B(k) <` the trivial cap (the first episode
    at which the bound says something), or ``inf`` if there is none.

    ``bound`` is a callable ``k -> RegretBound`` (float array ``k``). The search scans a log
    grid with ``points_per_decade`` points per decade, then bisects on integers between the
    last vacuous grid point and the first informative one; it therefore finds the first
    crossing that the grid resolves (for the bounds of this package, ``B(k)/k`` decreases in
    ``k`` and there is one crossing)."""
    k_max = check_real("k_max", k_max, 1.0)
    ppd = check_int("points_per_decade", points_per_decade, 1)
    fn = _bound_fn(bound)

    def informative(k):
        b = fn(np.asarray(k, dtype=np.float64))
        return np.asarray(b.value) < np.asarray(b.trivial_cap)

    n = max(2, int(math.ceil(math.log10(k_max) * ppd)) + 1)
    grid = np.unique(np.floor(np.logspace(0.0, math.log10(k_max), n)))
    ok = informative(grid)
    if not ok.any():
        return float("inf")
    j = int(np.argmax(ok))
    if j == 0:
        return float(grid[0])
    lo, hi = float(grid[j - 1]), float(grid[j])            # lo vacuous, hi informative
    while hi - lo > 1:
        mid = math.floor((lo + hi) / 2)
        if bool(informative(np.array([float(mid)]))[0]):
            hi = float(mid)
        else:
            lo = float(mid)
    return hi

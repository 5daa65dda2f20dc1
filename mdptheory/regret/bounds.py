r"""Regret-bound curves and minimax lower-bound rates (for overlays and ratio plots).

Upper bounds come from each learner's ``bound(S, A, H, K, delta)`` (a
:class:`~mdptheory.learners.base.RegretBound`); :func:`bound_curve` evaluates one on an
array of ``K``. :func:`minimax_lower_bound` gives the minimax lower-bound rates of Jin et
al. (2018), Azar et al. (2017), Domingues et al. (2021), Zhang, Ji & Du (2021) and Zhang, Chen,
Lee & Du (2024) with constant 1 (rates only: the papers' constants are not explicit).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core.validation import check_int
from mdptheory.learners.base import RegretBound, episode_counts

__all__ = ["bound_curve", "minimax_lower_bound", "theory_exponent"]


def bound_curve(learner, S: int, A: int, H: int, K, delta: float | None = None) -> RegretBound:
    """``learner.bound`` evaluated on ``K`` (an int, or an array such as ``arange(1, K+1)``);
    ``delta`` defaults to ``learner.delta`` when the learner has one."""
    K = np.asarray(K, dtype=float)
    if delta is None:
        delta = getattr(learner, "delta", None)
    kw = {} if delta is None else {"delta": delta}
    return learner.bound(S, A, H, K, **kw)


def theory_exponent(learner, S: int, A: int, H: int, K: float = 1e15, delta: float | None = None) -> float:
    r"""The theorem's rate in ``K``: the slope of :math:`\log` (leading term of
    ``learner.bound``) in :math:`\log K` between ``K`` and ``10 K``, by default far in the
    asymptotic regime (``K = 1e15``, past every burn-in term; log factors make it
    slightly exceed the pure power, e.g. 0.51-0.52 for :math:`\sqrt{K}\,\mathrm{polylog}K`).
    NaN when the learner has no bound or its leading term is not positive."""
    try:
        b = bound_curve(learner, S, A, H, np.array([float(K), 10.0 * float(K)]), delta)
    except NotImplementedError:
        return float("nan")
    lead = np.broadcast_to(np.asarray(b.leading, dtype=float), (2,))
    if not np.all(np.isfinite(lead)) or lead.min() <= 0:
        return float("nan")
    return float(np.log10(lead[1] / lead[0]))


def minimax_lower_bound(S: int, A: int, H: int, K, *, setting: str = "INHOM",
                        normalization: str = "N1"):
    r"""Minimax lower-bound *rate* (constant 1) on :math:`\mathrm{Regret}(K)`:

    * INHOM, N1: :math:`\min(\sqrt{H^3SAK}, HK)` (Jin et al. 2018; Domingues et al. 2021);
    * HOM, N1: :math:`\min(\sqrt{H^2SAK}, HK)` (Azar et al. 2017; Domingues et al. 2021);
    * HOM, N2: :math:`\min(\sqrt{SAK}, K)` (Zhang, Ji & Du 2021);
    * INHOM, N2: :math:`\min(\sqrt{SAHK}, K)` (the N1 instance scaled by 1/H);
    * INHOM, N3: :math:`\min(\sqrt{SAH^3K}, HK)` for every ``K >= 1`` (Zhang, Chen, Lee & Du
      2024).

    These are rates of minimax lower bounds (over a family of hard instances), not lower
    bounds for a particular MDP."""
    for name, v in (("S", S), ("A", A), ("H", H)):
        check_int(name, v, 1)
    K = episode_counts(K)
    table = {
        ("INHOM", "N1"): (np.sqrt(H ** 3 * S * A * K), H * K),
        ("HOM", "N1"): (np.sqrt(H ** 2 * S * A * K), H * K),
        ("HOM", "N2"): (np.sqrt(S * A * K), K),
        ("INHOM", "N2"): (np.sqrt(S * A * H * K), K),
        ("INHOM", "N3"): (np.sqrt(S * A * H ** 3 * K), H * K),
    }
    key = (setting, normalization)
    if key not in table:
        raise ValueError(f"(setting, normalization) must be one of {list(table)}, got {key}")
    a, b = table[key]
    return np.minimum(a, b)

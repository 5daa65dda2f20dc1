r"""Reference-advantage Q-learning with the capped-doubling reference schedule: the
model-free algorithm of Zhou, Zhang & Du (2023), reconstructed on UCB-Advantage.

Stages, the standard and advantage update rules, the bonuses and the three-way ``min`` are
those of :class:`~mdptheory.learners.UCBAdvantage` (Zhang, Zhou & Ji 2020, Algorithm 1), with
:math:`\iota=\log(2/\delta)`. Only the reference rule changes, from "learn once at
:math:`N_0` visits" to

.. math::

    V^{\rm ref}_h(s)\leftarrow V_h(s)\quad\text{whenever } N_h(s)\in\{1,2,4,8,\dots\}
    \text{ and } N_h(s)\le N_{\rm cap},\qquad N_{\rm cap}=\lceil c_4SAH^5\iota/\beta^2\rceil,
    \ \beta=1,

frozen afterwards; both running sums use the reference current at each visit. The bound
instantiated (shape reconstructed, unit constants) is
:math:`\min\{\sqrt{SAHK\,\mathrm{Var}^*}\,\iota'+SAH^5\iota'^2,\ HK\}`,
:math:`\iota'=\log(2SAHK/\delta)`, with :math:`\mathrm{Var}^*` the maximal expected sum of the
per-step variances of :math:`V^*` (N1 scale).

Provenance and reconstructions: proofs_notes/reference_capped.md.

References: Zhang, Zhou & Ji, "Almost optimal model-free reinforcement learning via
reference-advantage decomposition", NeurIPS 2020 (arXiv 2004.10019). Zhou, Zhang & Du,
"Sharp variance-dependent bounds in reinforcement learning", ICML 2023 (arXiv 2301.13446).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core.validation import check_real
from mdptheory.learners.base import RegretBound
from mdptheory.learners.ucb_advantage import UCBAdvantage, advantage_regret_bound

__all__ = ["ReferenceCappedDoubling"]


class ReferenceCappedDoubling(UCBAdvantage):
    r"""Reference-advantage Q-learning with capped-doubling reference updates
    (reconstruction of Zhou, Zhang & Du 2023's model-free algorithm on top of UCB-Advantage).

    Parameters
    ----------
    delta, bonus_scale, c1, c2, c3, c4 :
        As for :class:`~mdptheory.learners.UCBAdvantage` (``iota = log(2/delta)``).
    beta : float
        Reference accuracy (``> 0``) that sets the cap ``N_cap = ceil(c4 S A H^5 iota /
        beta^2)``; default 1 (a reconstruction).

    Notes
    -----
    Normalisation N1 (per-step rewards in ``[0, 1]``), stage-dependent tables, ``O(SAH)``
    memory. The reference of ``(h, s)`` is refreshed at visit counts ``1, 2, 4, ...`` up to
    the cap and frozen after it. With the default constants the cap exceeds any feasible
    visit count, so the schedule is "doubling forever".
    """

    name = "ReferenceCappedDoubling"
    normalization = "N1"
    _schedule = 1

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0, c1: float = 1.0,
                 c2: float = 1.0, c3: float = 1.0, c4: float = 1.0, beta: float = 1.0):
        super().__init__(delta=delta, bonus_scale=bonus_scale, c1=c1, c2=c2, c3=c3, c4=c4, beta=beta)

    def bound(self, S, A, H, K, delta=None, var_star: float | None = None) -> RegretBound:
        r"""The module's bound (reconstructed shape, unit constants). ``var_star`` is in N1
        units (``<= H^2``); the default ``H^2`` is the worst case and gives the minimax
        ``sqrt(S A H^3 K)``. ``delta=None`` uses the learner's."""
        K, delta = self._bound_args(S, A, H, K, delta)
        vs = float(H * H) if var_star is None else check_real("var_star", var_star, 0.0)
        iota = np.log(2.0 * S * A * H * K / delta)
        lead = np.sqrt(S * A * H * K * vs) * iota
        low = S * A * H ** 5 * iota ** 2
        return advantage_regret_bound(lead, low, H, K, delta,
                                   "Zhou, Zhang & Du (ICML 2023), model-free variance-dependent bound "
                                   "-- shape reconstructed, unit constants")

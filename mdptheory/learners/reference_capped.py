r"""Reference-function Q-learning with the **capped-doubling reference update schedule**
(model-free algorithm of Zhou, Zhang & Du, "Sharp Variance-Dependent Bounds in
Reinforcement Learning: Best of Both Worlds in Stochastic and Deterministic Environments",
ICML 2023, arXiv 2301.13446).

What is the paper's and what is reconstructed (``proofs_notes/reference_capped.md``):

* **Paper [verified, abstract]:** a reference-function-based model-free algorithm whose
  novelty is a *capped-doubling* schedule for updating the reference; its regret is
  variance-dependent ("we further *initiate* the study on model-free algorithms"). Its full
  text (algorithm box, bonuses, cap, theorem) was **not** reachable: searched again in the
  issue-4 review (pages, code, docs and issues corpora, exact strings from the body), only
  the abstract and the start of the introduction exist in the stored copies. No rule below
  is the paper's beyond the words "reference function" and "capped-doubling reference
  update schedule".
* **Reconstruction:** we build it on UCB-Advantage (:class:`~mdptheory.learners.UCBAdvantage`,
  same stage schedule, same two update rules and Bernstein-type bonuses) and replace the
  "learn the reference once at ``N_0`` visits" rule by

  .. math::

      V^{\rm ref}_h(s) \leftarrow V_h(s) \quad\text{whenever } N_h(s)\in\{1,2,4,8,\dots\}
      \text{ and } N_h(s)\le N_{\rm cap},

  frozen afterwards, with ``N_cap = ceil(c4 S A H^5 iota)`` (the UCB-Advantage threshold with
  reference accuracy ``beta = 1``). As in UCB-Advantage's Algorithm 1, both running sums
  use the reference value *current at each visit* (``r + Vref(s')`` over all samples,
  ``V(s') - Vref(s')`` over the stage). Because ``V`` is non-increasing, so is every
  reference value, and doubling means the reference of a state changes at most
  ``log2(N_cap) + 1`` times; an optimism proof for this mixture of reference values is
  **not** given here (the paper's analysis was not available).
* Consequences worth knowing: the default cap ``c4 S A H^5 iota`` exceeds any feasible
  visit count (about ``2e8`` for ``S = 6, A = 2, H = 20``), so in practice the schedule is
  "doubling forever"; on small instances the advantage rule rarely wins the three-way
  ``min``, and the trajectory often coincides with UCB-Advantage's.
"""

from __future__ import annotations

import numpy as np

from mdptheory.learners.base import RegretBound, _as_K, _check_dims
from mdptheory.learners.ucb_advantage import UCBAdvantage

__all__ = ["ReferenceCappedDoubling"]


class ReferenceCappedDoubling(UCBAdvantage):
    r"""Reference-advantage Q-learning with capped-doubling reference updates
    (reconstruction of Zhou, Zhang & Du 2023's model-free algorithm on top of UCB-Advantage).

    Parameters
    ----------
    delta, bonus_scale, c1, c2, c3, c4 :
        As for :class:`~mdptheory.learners.UCBAdvantage` (``iota = log(2/delta)``).
    beta : float
        Reference accuracy that sets the cap ``N_cap = ceil(c4 S A H^5 iota / beta^2)``;
        default 1 (reconstruction).

    Notes
    -----
    Normalisation N1 (per-step rewards in ``[0, 1]``), stage-dependent tables, ``O(SAH)``
    memory. The reference of ``(h, s)`` is refreshed at visit counts ``1, 2, 4, ...`` up to the
    cap and frozen after it.
    """

    name = "ReferenceCappedDoubling"
    normalization = "N1"
    _schedule = 1

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0, c1: float = 1.0,
                 c2: float = 1.0, c3: float = 1.0, c4: float = 1.0, beta: float = 1.0):
        super().__init__(delta=delta, bonus_scale=bonus_scale, c1=c1, c2=c2, c3=c3, c4=c4, beta=beta)

    def bound(self, S, A, H, K, delta=None, var_star: float | None = None) -> RegretBound:
        r"""Expected shape of the variance-dependent bound (**reconstruction**, the paper's
        display was not available): ``sqrt(S A H K Var*) iota + S A H^5 iota^2`` capped at
        ``H K``, where ``Var*`` is the maximal expected sum of per-step conditional variances
        of ``V*`` (N1 scale, ``<= H^2``; default ``H^2``, the worst case, which gives the
        minimax ``sqrt(S A H^3 K)``). Unit constants; ``iota = log(2 S A H K / delta)``;
        ``delta=None`` uses the learner's."""
        delta = self.delta if delta is None else delta
        _check_dims(S, A, H, delta)
        K = _as_K(K)
        vs = float(H * H) if var_star is None else float(var_star)
        if vs < 0:
            raise ValueError(f"var_star must be >= 0, got {var_star!r}")
        iota = np.log(2.0 * S * A * H * K / delta)
        lead = np.sqrt(S * A * H * K * vs) * iota
        low = S * A * H ** 5 * iota ** 2 + 0.0 * lead
        tot = np.minimum(lead + low, H * K)
        return RegretBound(value=tot, leading=np.minimum(lead, tot), lower_order=tot - np.minimum(lead, tot),
                           normalization="N1", setting="INHOM",
                           theorem="Zhou, Zhang & Du (ICML 2023), model-free variance-dependent bound "
                                   "-- shape reconstructed, unit constants",
                           explicit_constants=False, holds_with_probability=1.0 - float(delta))

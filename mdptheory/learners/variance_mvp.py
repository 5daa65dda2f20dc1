r"""VarianceMVP: the model-based, variance-dependent MVP variant of Zhou, Zhang & Du (2023).

Reconstruction on MVP-2021 (:class:`~mdptheory.learners.MVP`): counts pooled over the steps
``h``, a doubling trigger, the model rebuilt from all samples, and after a triggering episode

.. math::

    Q_h(s,a)=\min\Bigl\{\hat r+\hat P_{s,a}V_{h+1}
      +c_1\sqrt{\tfrac{\mathbb V_{\hat P_{s,a}}(V_{h+1})\,\iota}{n}}
      +c_2\sqrt{\tfrac{(\hat\sigma-\hat r^2)\,\iota}{n}}+c_3\tfrac{G\,\iota}{n},\ G\Bigr\},

with the MVP constants, :math:`\iota=\log(200SAH^2K^2/\delta)` and ``G = 1`` (N2). The reward
term uses the *empirical reward variance*, so on a deterministic MDP the bonus is
:math:`c_3G\iota/n`. The bound instantiated (shape reconstructed, unit constants) is
:math:`G[\min\{\sqrt{SAK\,\mathrm{Var}^*},\sqrt{SAK\,\mathrm{Var}^\Sigma}\}\,\iota+S^2A\,\iota^2]`,
with :math:`\mathrm{Var}^*` the maximal expected sum of the per-step variances of :math:`V^*`
and :math:`\mathrm{Var}^\Sigma` the maximal variance of the return.

Provenance and reconstructions: proofs_notes/variance_mvp.md.

References: Zhou, Zhang & Du, "Sharp variance-dependent bounds in reinforcement learning:
best of both worlds in stochastic and deterministic environments", ICML 2023
(arXiv 2301.13446). Zhang, Ji & Du, COLT 2021 (arXiv 2009.13503).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core.validation import check_real
from mdptheory.learners.base import RegretBound, regret_bound
from mdptheory.learners.mvp import MVP, mvp_iota

__all__ = ["VarianceMVP"]


class VarianceMVP(MVP):
    r"""MVP variant with variance-dependent regret (Zhou, Zhang & Du 2023; reconstruction).

    Parameters
    ----------
    delta : float
        Failure probability, in ``(0, 1)``.
    bonus_scale : float
        Multiplies the bonus (``>= 0``; 1 = the theory constants).
    normalization : {"N2", "N3"}
        ``"N2"`` (default, the paper's: total reward of an episode <= 1) or ``"N3"`` (the same
        algorithm run on rewards up to ``H`` per episode, i.e. ``G = H``).
    model_batch : {"all", "latest"}
        Model estimator at a trigger (default ``"all"``, as MVP-2021).

    Notes
    -----
    The same trajectories as ``MVP("2021", reward_bonus="variance")``; what this class adds
    is the variance-dependent :meth:`bound`. Time-homogeneous: :meth:`prepare` refuses a
    stage-dependent MDP.
    """

    name = "VarianceMVP"
    normalization = "N2"

    def __init__(self, *, delta: float = 0.01, bonus_scale: float = 1.0, normalization: str = "N2",
                 model_batch: str = "all"):
        super().__init__("2021", delta=delta, bonus_scale=bonus_scale, normalization=normalization,
                         reward_bonus="variance", model_batch=model_batch, stationary=True)

    def bound(self, S, A, H, K, delta=None, var_star: float | None = None,
              var_sigma: float | None = None) -> RegretBound:
        r"""The module's bound (reconstructed shape, unit constants). ``var_star`` and
        ``var_sigma`` are in N2 units (``Var* <= 1``, ``Var^Sigma <= 1/4``; the defaults are
        these worst cases, which recover MVP's ``sqrt(SAK)``); under N3 (``G = H``) pass them
        divided by ``H^2``. A deterministic MDP has both norms 0: only the ``K``-independent
        ``S^2 A`` term remains (up to the ``log K`` in ``iota``). ``delta=None`` uses the
        learner's."""
        K, delta = self._bound_args(S, A, H, K, delta)
        vs = 1.0 if var_star is None else check_real("var_star", var_star, 0.0)
        vg = 0.25 if var_sigma is None else check_real("var_sigma", var_sigma, 0.0)
        G = self._G(H)
        iota = mvp_iota(S, A, H, K, delta)
        lead = G * np.sqrt(S * A * K * min(vs, vg)) * iota
        low = G * S * S * A * iota ** 2
        return regret_bound(lead, low, H=H, K=K, normalization=self.normalization, setting="HOM",
                            theorem="Zhou, Zhang & Du (ICML 2023), model-based variance-dependent bound "
                                    "-- shape reconstructed, unit constants",
                            explicit_constants=False, delta=delta)

r"""Approximate models at a controlled error, for model-correction studies.

The MoCoVI / MoCoDyna experiments (Rakhsha, Kemertas, Ghavamzadeh & Farahmand, ICLR 2024,
Figure 1) use models "with controllable error" :math:`\lambda\in\{0.1, 0.5, 1\}`; the paper's
exact construction is recalled, not read, as the mixture below (proofs_notes/moco.md).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import DiscountedMDP
from mdptheory.core.validation import check_generator, check_probability, check_real

__all__ = ["approximate_model"]


def approximate_model(mdp: DiscountedMDP, error: float, seed=0, *, concentration: float = 1.0) -> np.ndarray:
    r"""The kernel :math:`\hat P=(1-\lambda)P+\lambda\tilde P` with :math:`\lambda` = ``error``
    and every row :math:`\tilde P(\cdot|s,a)\sim\mathrm{Dirichlet}(\text{concentration}\cdot
    \mathbf 1_S)`, drawn row by row in ``(s, a)`` order from ``check_generator(seed)``.

    Properties: :math:`\|\hat P(\cdot|s,a)-P(\cdot|s,a)\|_1=\lambda\|\tilde P-P\|_1\le 2\lambda`;
    for :math:`\lambda<1` the support of :math:`\hat P` contains that of :math:`P`, and
    :math:`\tilde P` has full support almost surely, so every true expectation is feasible
    for the MaxEnt correction; ``error = 1`` is a model unrelated to :math:`P`.

    Returns the ``(S, A, S)`` array; ``mdp.replace(P=...)`` gives the model as an MDP.
    """
    if not isinstance(mdp, DiscountedMDP):
        raise TypeError(f"mdp must be a DiscountedMDP, got {type(mdp).__name__}")
    lam = check_probability("error", error)
    conc = check_real("concentration", concentration, 0.0, low_open=True)
    rng = check_generator(seed)
    P = np.asarray(mdp.dense_P())
    S, A = mdp.S, mdp.A
    noise = rng.dirichlet(np.full(S, conc), size=(S, A))
    P_hat = (1.0 - lam) * P + lam * noise
    return P_hat / P_hat.sum(axis=-1, keepdims=True)

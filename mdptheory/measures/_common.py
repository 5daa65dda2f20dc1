"""Shared helpers of the measures (not public)."""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP, as_mdp

__all__ = ["stationary_arrays", "reward_variance", "support_graph", "kind_of"]


def kind_of(mdp) -> str:
    mdp = as_mdp(mdp)
    return "episodic" if isinstance(mdp, EpisodicMDP) else "discounted"


def stationary_arrays(mdp, what: str):
    """Dense ``(S, A, S)`` kernel and ``(S, A)`` rewards of a model whose dynamics do not
    depend on the stage; ``ValueError`` for stage-dependent episodic models."""
    mdp = as_mdp(mdp)
    if isinstance(mdp, EpisodicMDP) and mdp.stage_dependent_P:
        raise ValueError(
            f"{what} is defined for time-homogeneous dynamics; this EpisodicMDP has "
            "stage-dependent P (shape (H, S, A, S))"
        )
    P = np.asarray(mdp.dense_P(), dtype=np.float64)
    R = np.asarray(mdp.R if not (isinstance(mdp, EpisodicMDP) and mdp.stage_dependent_R)
                   else mdp.R[0], dtype=np.float64)
    return P, R


def reward_variance(mdp) -> np.ndarray:
    """Per-pair variance of a sampled reward, shaped like ``mdp.R``: 0 (deterministic),
    ``R (1 - R)`` (Bernoulli) or ``reward_std**2`` (Gaussian)."""
    R = np.asarray(mdp.R, dtype=np.float64)
    if mdp.reward_noise == "bernoulli":
        return R * (1.0 - R)
    if mdp.reward_noise == "gaussian":
        return np.full_like(R, mdp.reward_std ** 2)
    return np.zeros_like(R)


def support_graph(P: np.ndarray) -> np.ndarray:
    """``adj[s, s'] = True`` iff some action moves ``s`` to ``s'`` with positive probability."""
    return (P > 0).any(axis=1)

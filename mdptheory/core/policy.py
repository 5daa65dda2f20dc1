r"""Policies: validation and conversion helpers.

A policy is a plain array:

* deterministic, **integer dtype**: ``pi[s]`` (discounted) or ``pi[h, s]`` (episodic);
* stochastic, **floating dtype**: ``pi[s, a]`` or ``pi[h, s, a]``, rows summing to one.

For an episodic MDP a stationary policy (``(S,)`` or ``(S, A)``) is applied at every stage.
The dtype decides between the two kinds, so ``(H, S)`` and ``(S, A)`` never get confused.
A one-dimensional float array whose entries are whole numbers is accepted as deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core.mdp import ROW_SUM_TOL, DiscountedMDP, EpisodicMDP

__all__ = ["validate_policy", "PolicySpec", "to_stochastic", "uniform_policy"]


@dataclass(frozen=True)
class PolicySpec:
    """A validated policy.

    Attributes
    ----------
    table : ndarray
        ``int64`` actions (``(S,)`` or ``(H, S)``) when ``deterministic``, else float64
        probabilities (``(S, A)`` or ``(H, S, A)``). Episodic policies are always stored with
        a leading stage axis.
    deterministic : bool
    """

    table: np.ndarray
    deterministic: bool


def validate_policy(mdp: DiscountedMDP | EpisodicMDP, policy) -> PolicySpec:
    """Check ``policy`` against ``mdp`` and return it in canonical form.

    Raises ``ValueError`` naming the offending state (and stage) and value for an action out
    of range, a negative / non-finite probability or a row that does not sum to one, and
    for a wrong shape.
    """
    if isinstance(policy, PolicySpec):
        policy = policy.table
    pi = np.asarray(policy)
    S, A = mdp.S, mdp.A
    episodic = isinstance(mdp, EpisodicMDP)
    H = mdp.horizon if episodic else None
    if pi.dtype == bool or not np.issubdtype(pi.dtype, np.number):
        raise TypeError(f"policy must be numeric, got dtype {pi.dtype}")
    if np.issubdtype(pi.dtype, np.floating) and pi.ndim == 1:
        if np.all(np.isfinite(pi)) and np.all(pi == np.round(pi)):
            pi = pi.astype(np.int64)
    deterministic = np.issubdtype(pi.dtype, np.integer)
    if deterministic:
        shapes = [(S,)] + ([(H, S)] if episodic else [])
        if pi.shape not in shapes:
            raise ValueError(f"a deterministic policy must have shape {' or '.join(map(str, shapes))}, got {pi.shape}")
        bad = (pi < 0) | (pi >= A)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f"(h={idx[0]}, s={idx[1]})" if pi.ndim == 2 else f"(s={idx[0]})"
            raise ValueError(f"policy{where} = {int(pi[idx])} is not an action in [0, {A})")
        table = pi.astype(np.int64)
        if episodic and table.ndim == 1:
            table = np.broadcast_to(table, (H, S))
        return PolicySpec(np.ascontiguousarray(table), True)
    pi = pi.astype(np.float64)
    shapes = [(S, A)] + ([(H, S, A)] if episodic else [])
    if pi.shape not in shapes:
        raise ValueError(
            f"a stochastic policy must have shape {' or '.join(map(str, shapes))}, got {pi.shape} "
            "(deterministic policies must have an integer dtype)"
        )
    bad = ~np.isfinite(pi) | (pi < 0)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"policy{list(idx)} = {float(pi[idx])!r}: probabilities must be finite and >= 0")
    sums = pi.sum(axis=-1)
    off = np.abs(sums - 1) > ROW_SUM_TOL
    if off.any():
        idx = tuple(int(i) for i in np.argwhere(off)[0])
        where = f"(h={idx[0]}, s={idx[1]})" if len(idx) == 2 else f"(s={idx[0]})"
        raise ValueError(f"policy row {where} sums to {float(sums[idx])!r}, not 1")
    if episodic and pi.ndim == 2:
        pi = np.broadcast_to(pi, (H, S, A))
    return PolicySpec(np.ascontiguousarray(pi), False)


def to_stochastic(spec: PolicySpec, A: int) -> np.ndarray:
    """Probability table (one-hot rows for a deterministic policy)."""
    if not spec.deterministic:
        return spec.table
    return np.eye(A)[spec.table]


def uniform_policy(mdp: DiscountedMDP | EpisodicMDP) -> np.ndarray:
    """The uniformly random policy as a probability table."""
    if isinstance(mdp, EpisodicMDP):
        return np.full((mdp.horizon, mdp.S, mdp.A), 1.0 / mdp.A)
    return np.full((mdp.S, mdp.A), 1.0 / mdp.A)

r"""Random deterministic MDPs and their stochastic twins (same transition graph).

Deterministic MDPs are the "easy" end of the variance-dependent regret bounds of Zhou,
Zhang & Du (ICML 2023) and Zhang et al. (2024): both environment variance norms vanish, and
the bounds reduce to a ``K``-independent term. A *stochastic twin* keeps the state graph of
a deterministic MDP but randomises the transitions over it, so the two can be compared at
equal size and reachability (``proofs_notes/variance_mvp.md``).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import DiscountedMDP, EpisodicMDP, as_mdp
from mdptheory.envs._build import make_mdp
from mdptheory.core.validation import check_generator, check_int, check_real

__all__ = ["deterministic", "stochastic_twin", "is_deterministic"]


def deterministic(S: int, A: int, horizon: int | None = None, gamma: float | None = None,
                  seed=0, *, communicating: bool = False):
    r"""A random deterministic MDP: every ``(s, a)`` leads to one next state.

    Construction (``rng = numpy.random.default_rng(seed)``): the successor
    :math:`f(s, a)` is uniform on ``0..S-1``, independently for every pair; mean rewards
    :math:`r(s, a) \sim U[0, 1]` (deterministic rewards, normalisation N1). With
    ``communicating=True`` action 0 is instead a random cyclic permutation (a Hamiltonian
    cycle through all states), so the support graph is strongly connected and the diameter
    is finite (at most ``S - 1``). Start state 0. Stationary dynamics.

    Parameters
    ----------
    S, A : int >= 1
    horizon : int, optional
        Episodic horizon (default ``S`` when ``gamma`` is not given).
    gamma : float in [0, 1), optional
        Discounted version instead.
    seed : int or numpy.random.Generator
    communicating : bool

    Returns
    -------
    EpisodicMDP or DiscountedMDP
        Dense ``P`` of shape ``(S, A, S)`` with 0/1 entries.
    """
    S = check_int("S", S, 1)
    A = check_int("A", A, 1)
    if not isinstance(communicating, (bool, np.bool_)):
        raise TypeError(f"communicating must be a bool, got {communicating!r}")
    rng = check_generator(seed)
    succ = rng.integers(0, S, size=(S, A))
    if communicating:
        order = rng.permutation(S)
        nxt = np.empty(S, dtype=np.int64)
        nxt[order] = np.roll(order, -1)
        succ[:, 0] = nxt
    R = rng.random((S, A))
    P = np.zeros((S, A, S))
    P[np.arange(S)[:, None], np.arange(A)[None, :], succ] = 1.0
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=0, default_horizon=S,
                    family="deterministic")


def is_deterministic(mdp) -> bool:
    """True when every transition row of ``mdp`` is a point mass (rewards are not checked)."""
    mdp = as_mdp(mdp)
    P = np.asarray(mdp.dense_P())
    return bool(np.all((P == 0.0) | (P == 1.0)))


def stochastic_twin(mdp, seed=0, *, mix: float = 0.5):
    r"""A stochastic MDP with the same transition graph as the deterministic ``mdp``.

    Write :math:`f(s, a)` for the successor of ``(s, a)`` (at stage ``h`` for a
    stage-dependent model) and :math:`N(s) = \{f(s, a') : a' \in \mathcal A\}` for the
    out-neighbours of ``s`` in the state graph. The twin's kernel is

    .. math::
        P'(\cdot \mid s, a) = (1 - m)\, \delta_{f(s,a)} + m\, q_{s,a},\qquad
        q_{s,a} \sim \mathrm{Dirichlet}(1, \dots, 1) \text{ on } N(s),

    with ``m = mix``. So the twin has exactly the same directed state graph (an edge
    :math:`s \to s'` exists in one iff in the other), the intended successor keeps
    probability at least ``1 - mix``, and mean rewards, horizon / discount and the initial
    distribution are unchanged. A state whose actions all lead to the same successor keeps
    its deterministic rows, so the twin is strictly stochastic exactly at the states with
    at least two out-neighbours. The variance norms of
    :func:`mdptheory.measures.variance_norms` are 0 on ``mdp`` and positive on the twin
    whenever some reachable such state has successors with different optimal values.

    Parameters
    ----------
    mdp : DiscountedMDP or EpisodicMDP
        Must be deterministic (every row a point mass); ``ValueError`` otherwise.
    seed : int or numpy.random.Generator
    mix : float in (0, 1]

    Returns
    -------
    Same class as ``mdp``, dense kernel.
    """
    mdp = as_mdp(mdp)
    m = check_real("mix", mix, 0.0, 1.0, low_open=True)
    P = np.asarray(mdp.dense_P(), dtype=np.float64)
    point = (P == 0.0) | (P == 1.0)
    if not point.all():
        idx = tuple(int(i) for i in np.argwhere(~point)[0])
        raise ValueError(
            f"stochastic_twin needs a deterministic MDP, but P{list(idx)} = {P[idx]!r} is "
            "neither 0 nor 1"
        )
    rng = check_generator(seed)
    stages = P if P.ndim == 4 else P[None]
    out = np.empty_like(stages)
    for h, Ph in enumerate(stages):
        S, A, _ = Ph.shape
        succ = Ph.argmax(axis=2)  # (S, A)
        for s in range(S):
            nbrs = np.unique(succ[s])
            for a in range(A):
                row = np.zeros(S)
                row[succ[s, a]] = 1.0 - m
                row[nbrs] += m * rng.dirichlet(np.ones(nbrs.size))
                out[h, s, a] = row / row.sum()
    Pt = out if P.ndim == 4 else out[0]
    if isinstance(mdp, EpisodicMDP):
        return EpisodicMDP(Pt, mdp.R, mdp.horizon, mdp.initial, reward_noise=mdp.reward_noise,
                           reward_std=mdp.reward_std)
    return DiscountedMDP(Pt, mdp.R, mdp.gamma, mdp.initial, reward_noise=mdp.reward_noise,
                         reward_std=mdp.reward_std)

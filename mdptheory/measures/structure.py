r"""Communication structure and diameter of a (time-homogeneous) MDP.

Definitions (Puterman 1994, Section 8.3; Jaksch, Ortner & Auer 2010 for the diameter):

* **ergodic** (Puterman's *recurrent*): the Markov chain of every deterministic stationary
  policy is irreducible (a single recurrent class containing every state);
* **communicating**: for every pair ``s, s'`` some deterministic stationary policy reaches
  ``s'`` from ``s`` -- equivalently the support graph (edge ``s -> s'`` when
  ``P(s'|s,a) > 0`` for some ``a``) is strongly connected;
* **weakly communicating**: a closed set of mutually accessible states plus states that are
  transient under every policy;
* **diameter**: :math:`D = \max_{s \ne s'} \min_\pi \mathbb E^\pi[\tau_{s'} \mid s_0 = s]`
  with :math:`\tau_{s'}` the first time ``s'`` is visited; finite iff communicating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

from mdptheory.measures._common import stationary_arrays, support_graph

__all__ = ["communication_class", "CommunicationClass", "end_components", "EndComponent",
           "diameter", "diameter_info", "Diameter"]


@dataclass(frozen=True)
class CommunicationClass:
    """Result of :func:`communication_class`.

    Attributes
    ----------
    kind : str
        ``"ergodic"``, ``"communicating"``, ``"weakly communicating"`` or
        ``"not weakly communicating"``; the classes are nested (ergodic implies
        communicating implies weakly communicating) and the strongest that applies is
        reported.
    reason : str
        Why the MDP is not in the stronger class (empty for ergodic).
    end_components : tuple of tuple of int
        State sets of the maximal end components.
    """

    kind: str
    reason: str
    end_components: tuple


def _scc(adj: np.ndarray):
    n, labels = connected_components(csr_matrix(adj.astype(np.int8)), directed=True, connection="strong")
    return n, labels


@dataclass(frozen=True)
class EndComponent:
    """One maximal end component (:func:`end_components`).

    Attributes
    ----------
    states : tuple of int
        The states of the component, increasing.
    actions : tuple of tuple of int
        ``actions[i]``: the actions of ``states[i]`` whose support stays inside the
        component (non-empty).
    """

    states: tuple
    actions: tuple


def end_components(P) -> list[EndComponent]:
    r"""Maximal end components of a kernel ``P (S, A, S)`` (or of a model object's
    time-homogeneous kernel).

    An end component is a set of states ``C`` with, for each ``s in C``, a non-empty set of
    actions whose support stays in ``C``, such that the graph they induce is strongly
    connected (de Alfaro 1997). Under any policy, the states visited infinitely often form
    an end component with probability 1, so states outside every end component are
    transient under every policy. Computed by the standard iterated pruning: repeatedly
    drop every action whose support leaves the strongly connected component of its state
    (in the graph of the remaining actions) until nothing changes.

    Returns
    -------
    list of :class:`EndComponent`, sorted by smallest state.
    """
    if not isinstance(P, np.ndarray):
        P, _ = stationary_arrays(P, "end_components")
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 3 or P.shape[0] != P.shape[2]:
        raise ValueError(f"P must have shape (S, A, S), got {P.shape}")
    S, A, _ = P.shape
    allowed = np.ones((S, A), dtype=bool)
    support = P > 0
    while True:
        active = allowed.any(axis=1)
        adj = np.zeros((S, S), dtype=bool)
        for s in np.flatnonzero(active):
            adj[s] = support[s, allowed[s]].any(axis=0)
        adj[:, ~active] = False
        _, lab = _scc(adj)
        changed = False
        for s in np.flatnonzero(active):
            same = (lab == lab[s]) & active
            for a in np.flatnonzero(allowed[s]):
                if np.any(support[s, a] & ~same):
                    allowed[s, a] = False
                    changed = True
        if not changed:
            break
    active = allowed.any(axis=1)
    comps = {}
    for s in np.flatnonzero(active):
        comps.setdefault(int(lab[s]), []).append(int(s))
    out = [EndComponent(tuple(states), tuple(tuple(int(a) for a in np.flatnonzero(allowed[s]))
                                            for s in states))
           for states in comps.values()]
    out.sort(key=lambda c: c.states[0])
    return out


def _closable_subset(P: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Largest subset ``C`` of ``states`` such that every ``s in C`` has an action whose
    support lies in ``C`` (iterative pruning)."""
    inside = np.zeros(P.shape[0], dtype=bool)
    inside[states] = True
    support = P > 0
    while True:
        ok = np.array([inside[s] and bool(np.any(~np.any(support[s] & ~inside, axis=1)))
                       for s in range(P.shape[0])])
        if np.array_equal(ok, inside):
            return np.flatnonzero(inside)
        inside = ok


def communication_class(mdp) -> CommunicationClass:
    """Classify a time-homogeneous MDP (dense or sparse; episodic models use their
    stationary ``P``). See the module docstring for the definitions.

    Ergodicity is decided exactly and in polynomial time: some deterministic stationary
    policy has a closed class other than the whole state space iff, for some state ``t``,
    ``S \\ {t}`` contains a non-empty *closable* subset (each of its states has an action
    that stays inside), found by iterative pruning. Weak communication is decided through
    maximal end components: the MDP is weakly communicating iff it has exactly one.
    """
    P, _ = stationary_arrays(mdp, "communication_class")
    S = P.shape[0]
    mecs = end_components(P)
    ecs = tuple(c.states for c in mecs)
    n, lab = _scc(support_graph(P))
    if n == 1:
        for t in range(S):
            rest = np.setdiff1d(np.arange(S), [t])
            closed = _closable_subset(P, rest)
            if closed.size:
                return CommunicationClass(
                    "communicating",
                    f"not ergodic: some deterministic stationary policy keeps the chain inside "
                    f"states {closed.tolist()} and never visits state {t}",
                    ecs,
                )
        return CommunicationClass("ergodic", "", ecs)
    reason = f"the support graph has {n} strongly connected components, so some state cannot reach another"
    if len(mecs) == 1:
        return CommunicationClass("weakly communicating", f"not communicating: {reason}", ecs)
    return CommunicationClass(
        "not weakly communicating",
        f"not communicating ({reason}) and there are {len(mecs)} disjoint closed communicating "
        f"sets (maximal end components {[list(c) for c in ecs]})",
        ecs,
    )


@dataclass(frozen=True)
class Diameter:
    """Result of :func:`diameter_info`.

    Attributes
    ----------
    value : float
        The diameter (``inf`` when some state cannot reach another).
    pair : tuple of int or None
        ``(s, s')`` attaining it (``None`` for a single state).
    reason : str
        Why the diameter is infinite (empty otherwise).
    hitting_times : ndarray ``(S, S)``
        ``T[s, t] = min_pi E[first visit time of t | s_0 = s]`` (``T[t, t] = 0``). When the
        MDP is not communicating the minimisation is skipped (it is not needed for
        :math:`D = \\infty` and costs one policy iteration per target): then
        ``T[s, t] = inf`` where ``s`` cannot reach ``t`` in the support graph, ``0`` on the
        diagonal, and ``nan`` (not computed) elsewhere.
    """

    value: float
    pair: tuple | None
    reason: str
    hitting_times: np.ndarray


def _min_hitting_times(P: np.ndarray, t: int, max_iter: int = 10_000) -> np.ndarray:
    """Exact ``min_pi E[tau_t]`` from every state (all states assumed to reach ``t``), by
    policy iteration for the stochastic shortest path problem with unit costs, started
    from a proper policy (Bertsekas & Tsitsiklis 1991: improper policies have infinite
    cost, so every iterate stays proper and the last one is optimal)."""
    S, A, _ = P.shape
    adj = support_graph(P)
    dist = shortest_path(csr_matrix(adj.T.astype(np.int8)), unweighted=True, indices=t)
    others = np.array([s for s in range(S) if s != t], dtype=np.int64)
    if others.size == 0:
        return np.zeros(S)
    pi = np.zeros(S, dtype=np.int64)
    for s in others:
        nxt_ok = [a for a in range(A) if np.any((P[s, a] > 0) & (dist < dist[s]))]
        pi[s] = nxt_ok[0]
    T = np.zeros(S)
    for _ in range(max_iter):
        Q = P[others, pi[others]][:, others]
        T = np.zeros(S)
        T[others] = np.linalg.solve(np.eye(others.size) - Q, np.ones(others.size))
        cost = 1.0 + P[others][:, :, others] @ T[others]  # (|others|, A)
        best = cost.min(axis=1)
        cur = cost[np.arange(others.size), pi[others]]
        improve = best < cur - 1e-12 * np.maximum(1.0, np.abs(cur))
        if not improve.any():
            return T
        pi[others[improve]] = cost[improve].argmin(axis=1)
    raise RuntimeError("policy iteration for hitting times did not terminate")  # pragma: no cover


def diameter_info(mdp) -> Diameter:
    r"""Diameter :math:`D` with the attaining pair, the reason when it is infinite, and the
    full table of minimal expected hitting times.

    Exact: for each target, minimal expected hitting times solve a stochastic shortest path
    problem with unit costs, solved by policy iteration (one linear solve per improvement
    step) from a proper policy built from breadth-first distances. Cost
    :math:`O(S \cdot \#\text{iterations} \cdot S^3)`; fine for a few hundred states. A
    deterministic MDP's diameter is the largest shortest-path distance of its graph.
    """
    P, _ = stationary_arrays(mdp, "diameter")
    S = P.shape[0]
    adj = support_graph(P)
    # reach[s, t]: some path s -> t in the support graph (breadth-first search per source)
    dist = shortest_path(csr_matrix(adj.astype(np.int8)), unweighted=True)
    reach = np.isfinite(dist)
    if not reach.all():
        T = np.where(reach, np.nan, np.inf)
        np.fill_diagonal(T, 0.0)
        # report the unreachable pair with the smallest target, then smallest source
        t = int(np.flatnonzero(~reach.all(axis=0))[0])
        bad = int(np.flatnonzero(~reach[:, t])[0])
        return Diameter(float("inf"), (bad, t),
                        f"state {bad} cannot reach state {t} under any policy (the MDP is "
                        "not communicating)", T)
    T = np.zeros((S, S))
    for t in range(S):
        T[:, t] = _min_hitting_times(P, t)
    if S == 1:
        return Diameter(0.0, None, "", T)
    off = T + np.diag(np.full(S, -np.inf))
    s, t = np.unravel_index(np.argmax(off), off.shape)
    return Diameter(float(T[s, t]), (int(s), int(t)), "", T)


def diameter(mdp) -> float:
    """Diameter of a time-homogeneous MDP (a float; ``inf`` when it is not communicating --
    :func:`diameter_info` gives the reason). See :func:`diameter_info`."""
    return diameter_info(mdp).value

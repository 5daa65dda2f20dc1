r"""The minimax lower-bound family for episodic regret (Domingues, Menard, Kaufmann & Valko,
"Episodic reinforcement learning in finite MDPs: minimax lower bounds revisited", ALT 2021).

**Reconstruction**: the paper's exact constants could not
be pinned; what is built here is the construction as recalled, written out so that every number is explicit and
tested: a waiting state lets the agent choose *when* to enter a deterministic ``A``-ary tree,
the tree leads to one of ``A**depth`` leaves, and at a leaf every action is a coin flip
between an absorbing rewarding state and an absorbing null state, with one hidden
``(leaf, action, stage)`` triple whose coin is biased by ``epsilon``.
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.core.validation import check_generator, check_int, check_real

__all__ = ["lower_bound_instance", "lower_bound_layout"]


def lower_bound_layout(A: int, depth: int) -> dict:
    """State indices of :func:`lower_bound_instance`: ``wait``, ``root``, ``leaves`` (a list),
    ``good``, ``bad`` and ``S``."""
    A = check_int("A", A, 2)
    depth = check_int("depth", depth, 0)
    n_tree = (A ** (depth + 1) - 1) // (A - 1)
    first_leaf = 1 + (A ** depth - 1) // (A - 1)
    return {"wait": 0, "root": 1, "leaves": list(range(first_leaf, 1 + n_tree)),
            "good": 1 + n_tree, "bad": 2 + n_tree, "S": 3 + n_tree}


def lower_bound_instance(A: int = 2, depth: int = 1, horizon: int = 10, *, wait: int | None = None,
                         epsilon: float = 0.1, target=None, seed=0) -> EpisodicMDP:
    r"""A hard instance of the Domingues et al. (2021) family (stage-dependent, episodic).

    Layout (:func:`lower_bound_layout`): waiting state ``w = 0``; a complete ``A``-ary tree of
    depth ``depth`` with root 1 (node ``i`` has children ``A*(i-1)+2 .. A*(i-1)+A+1``, i.e.
    breadth-first numbering), whose ``L = A**depth`` deepest nodes are the leaves; an
    absorbing good state ``g`` and an absorbing bad state ``b``. ``S = 3 + (A**(depth+1)-1)/(A-1)``.
    Stages are numbered ``h = 0..H-1``; start in ``w``.

    * ``w``: at stages ``h < wait`` action 0 stays in ``w`` and every other action moves to the
      root; from stage ``wait`` on every action moves to the root (the agent must leave).
    * internal tree node: action ``a`` moves to child ``a`` (deterministic).
    * leaf ``l``, action ``a``, stage ``h``: move to ``g`` w.p.
      :math:`1/2 + \varepsilon\,\mathbf 1\{(l, a, h) = (l^*, a^*, h^*)\}`, else to ``b``.
    * reward 1 for every action in ``g`` at stages :math:`h \ge \bar H + d + 2` (with
      :math:`\bar H` = ``wait``, ``d`` = ``depth``), 0 everywhere else. Every policy reaches
      its leaf by stage :math:`\bar H + d + 1`, so the reward counts the same
      :math:`m = H - \bar H - d - 2` stages whatever the timing; rewards are in ``{0, 1}`` (N1).

    The hidden target ``(l*, a*, h*)`` (leaf index into ``layout["leaves"]``, action, stage
    with :math:`d+1 \le h^* \le \bar H+d+1`) is ``target`` or is drawn uniformly with
    ``seed``. Known answer: :math:`V^*_0(w) = (1/2 + \varepsilon)\, m`, every other
    (leaf, action, stage) choice is worth :math:`m/2`, so the gap of each wrong choice at the
    leaves is :math:`\varepsilon m`; a learner must find one of
    :math:`L \cdot A \cdot (\bar H + 1)` biased coins, which is what drives the
    :math:`\Omega(\sqrt{H^3 S A K})` regret lower bound (``K`` episodes, stage-dependent
    transitions) in Domingues et al. (2021).

    Parameters
    ----------
    A : int >= 2
    depth : int >= 0
    horizon : int >= wait + depth + 3
    wait : int >= 0, optional
        :math:`\bar H`; default ``(horizon - depth - 3) // 2``.
    epsilon : float in [0, 1/2]
    target : tuple (leaf_index, action, stage), optional
    seed : int or numpy.random.Generator
    """
    lay = lower_bound_layout(A, depth)
    H = check_int("horizon", horizon, depth + 3)
    if wait is None:
        wait = (H - depth - 3) // 2
    Hbar = check_int("wait", wait, 0, H - depth - 3)
    eps = check_real("epsilon", epsilon, 0.0, 0.5)
    L = len(lay["leaves"])
    stages = list(range(depth + 1, Hbar + depth + 2))
    if target is None:
        rng = check_generator(seed)
        target = (int(rng.integers(L)), int(rng.integers(A)), int(rng.choice(stages)))
    try:
        lt, at, ht = (int(x) for x in target)
    except (TypeError, ValueError):
        raise TypeError(f"target must be a (leaf_index, action, stage) triple, got {target!r}") from None
    if not 0 <= lt < L:
        raise ValueError(f"target leaf index {lt} out of range [0, {L})")
    if not 0 <= at < A:
        raise ValueError(f"target action {at} out of range [0, {A})")
    if ht not in stages:
        raise ValueError(f"target stage {ht} is not a stage at which a leaf can be played "
                         f"({stages[0]}..{stages[-1]})")
    S = lay["S"]
    w, root, g, b = lay["wait"], lay["root"], lay["good"], lay["bad"]
    P = np.zeros((H, S, A, S))
    R = np.zeros((H, S, A))
    first_leaf = lay["leaves"][0]
    for h in range(H):
        if h < Hbar:
            P[h, w, 0, w] = 1.0
            P[h, w, 1:, root] = 1.0
        else:
            P[h, w, :, root] = 1.0
        for node in range(root, first_leaf):
            for a in range(A):
                P[h, node, a, A * (node - 1) + a + 2] = 1.0
        for i, leaf in enumerate(lay["leaves"]):
            for a in range(A):
                p = 0.5 + (eps if (i, a, h) == (lt, at, ht) else 0.0)
                P[h, leaf, a, g] = p
                P[h, leaf, a, b] = 1.0 - p
        P[h, g, :, g] = 1.0
        P[h, b, :, b] = 1.0
        if h >= Hbar + depth + 2:
            R[h, g, :] = 1.0
    return EpisodicMDP(P, R, H, w)

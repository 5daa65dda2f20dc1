r"""The minimax lower-bound family for episodic regret (Domingues, Menard, Kaufmann & Valko,
"Episodic reinforcement learning in finite MDPs: minimax lower bounds revisited", ALT 2021).

**Reconstruction**: the paper's exact constants could not
be pinned; what is built here is the construction as recalled, written out so that every number is explicit and
tested: a waiting state lets the agent choose *when* to enter a deterministic ``A``-ary tree,
the tree leads to one of ``A**depth`` leaves, and at a leaf every action is a coin flip
between an absorbing rewarding state and an absorbing null state, with one hidden
``(leaf, action, stage)`` triple whose coin is biased by ``epsilon``.

Each episode reaches exactly one leaf at one stage and plays one action there, then observes one
coin, so the family is an :math:`N`-armed Bernoulli bandit whose arms are the
``(leaf, action, stage)`` triples (:func:`lower_bound_arms`), each pull paying
:math:`m\in\{0, 1\}` times the number ``m`` of rewarded stages. :func:`lower_bound_epsilon`
gives the bias that makes ``K`` episodes hardest, :math:`\varepsilon_K = c\sqrt{N/K}`, and
:func:`lower_bound_regret` the resulting lower bound on the regret of every learner averaged over
the hidden target, both derived in ``proofs_notes/minimax_rates.md``. ``stationary=True`` builds
the time-homogeneous member (no waiting, the coin biased at every stage): the instance for
learners that assume stationary dynamics, with :math:`N = LA` arms.
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP
import math

from mdptheory.core.validation import check_bool, check_generator, check_int, check_real

__all__ = ["lower_bound_instance", "lower_bound_layout", "lower_bound_arms", "lower_bound_epsilon",
           "lower_bound_regret", "EPSILON_MAX"]

#: Largest bias used by :func:`lower_bound_epsilon` (the KL estimate of the lower bound needs
#: :math:`\varepsilon\le 1/4`).
EPSILON_MAX = 0.25

#: :math:`2\sqrt{\ln(4/3)}`: :math:`\mathrm{KL}`-to-regret factor of the lower bound (notes, eq. (3)).
_B = 2.0 * math.sqrt(math.log(4.0 / 3.0))


def lower_bound_layout(A: int, depth: int) -> dict:
    """State indices of :func:`lower_bound_instance`: ``wait``, ``root``, ``leaves`` (a list),
    ``good``, ``bad`` and ``S``."""
    A = check_int("A", A, 2)
    depth = check_int("depth", depth, 0)
    n_tree = (A ** (depth + 1) - 1) // (A - 1)
    first_leaf = 1 + (A ** depth - 1) // (A - 1)
    return {"wait": 0, "root": 1, "leaves": list(range(first_leaf, 1 + n_tree)),
            "good": 1 + n_tree, "bad": 2 + n_tree, "S": 3 + n_tree}


def _shape(A, depth, horizon, wait, stationary):
    """Validated ``(layout, H, wait, stationary)`` of the family (shared by the helpers)."""
    lay = lower_bound_layout(A, depth)
    H = check_int("horizon", horizon, depth + 3)
    stationary = check_bool("stationary", stationary)
    if stationary:
        if wait not in (None, 0):
            raise ValueError(f"wait = {wait!r}: the stationary instance has no waiting (wait must be 0 or None)")
        wait = 0
    elif wait is None:
        wait = (H - depth - 3) // 2
    Hbar = check_int("wait", wait, 0, H - depth - 3)
    return lay, H, Hbar, stationary


def lower_bound_arms(A: int = 2, depth: int = 1, horizon: int = 10, *, wait: int | None = None,
                     stationary: bool = False) -> tuple[int, int]:
    r"""``(N, m)`` of the instance: the number ``N`` of arms (distinct ``(leaf, action, stage)``
    choices, :math:`L A (\bar H + 1)`; :math:`LA` when ``stationary``) and the number ``m`` of
    rewarded stages (:math:`H - \bar H - d - 2`), so that each episode's pseudo-regret is
    :math:`\varepsilon m` off the target and 0 on it."""
    lay, H, Hbar, stationary = _shape(A, depth, horizon, wait, stationary)
    L = len(lay["leaves"])
    N = L * A * (1 if stationary else Hbar + 1)
    return N, H - Hbar - depth - 2


def lower_bound_epsilon(episodes, A: int = 2, depth: int = 1, horizon: int = 10, *, wait: int | None = None,
                        stationary: bool = False, scale: float | None = None):
    r"""The bias that makes ``episodes`` (``K``) episodes hardest:
    :math:`\varepsilon_K=\min(c\sqrt{N/K},\ 1/4)` with ``N`` arms (:func:`lower_bound_arms`).

    The default ``scale`` :math:`c^*=(1-1/N)/(4\sqrt{\ln(4/3)})` maximises the lower bound of
    :func:`lower_bound_regret` (``proofs_notes/minimax_rates.md``, eq. (4)); other scales give
    easier (larger ``c``) or harder-to-see (smaller ``c``) members of the same family.
    ``episodes`` may be an array."""
    N, _ = lower_bound_arms(A, depth, horizon, wait=wait, stationary=stationary)
    c = (1.0 - 1.0 / N) / (2.0 * _B) if scale is None else check_real("scale", scale, 0.0, low_open=True)
    K = np.asarray(episodes, dtype=np.float64)
    if np.any(~(K >= 1)):
        raise ValueError(f"episodes must be >= 1, got {episodes!r}")
    eps = np.minimum(c * np.sqrt(N / K), EPSILON_MAX)
    return eps if eps.ndim else float(eps)


def lower_bound_regret(episodes, epsilon, A: int = 2, depth: int = 1, horizon: int = 10, *,
                       wait: int | None = None, stationary: bool = False):
    r"""Lower bound on the expected pseudo-regret after ``K`` episodes of *every* learner on
    the instance with bias ``epsilon``, averaged over the hidden target drawn uniformly
    (so it also bounds the worst target):

    .. math::
        \mathrm{Regret}(K)\ \ge\ m\,\varepsilon K\Bigl(1-\frac1N
        -2\varepsilon\sqrt{\ln(4/3)\,K/N}\Bigr)_+ ,\qquad \varepsilon\le 1/4,

    (``proofs_notes/minimax_rates.md``, eq. (3): the bandit argument of Auer, Cesa-Bianchi,
    Freund & Schapire 2002 applied to the ``N`` arms of the family). With
    :func:`lower_bound_epsilon`'s default bias it is
    :math:`\frac{(1-1/N)^2}{8\sqrt{\ln(4/3)}}\,m\sqrt{NK}\approx 0.233\,m\sqrt{NK}`.
    ``episodes`` and ``epsilon`` may be arrays (broadcast)."""
    N, m = lower_bound_arms(A, depth, horizon, wait=wait, stationary=stationary)
    K = np.asarray(episodes, dtype=np.float64)
    eps = np.asarray(epsilon, dtype=np.float64)
    if np.any(~(K >= 1)):
        raise ValueError(f"episodes must be >= 1, got {episodes!r}")
    if np.any(~((eps >= 0) & (eps <= EPSILON_MAX))):
        raise ValueError(f"epsilon = {epsilon!r} must be in [0, {EPSILON_MAX}] for this bound")
    out = m * eps * K * np.maximum(1.0 - 1.0 / N - _B * eps * np.sqrt(K / N), 0.0)
    return out if out.ndim else float(out)


def lower_bound_instance(A: int = 2, depth: int = 1, horizon: int = 10, *, wait: int | None = None,
                         epsilon: float = 0.1, target=None, seed=0, stationary: bool = False) -> EpisodicMDP:
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

    ``stationary=True`` (reconstruction, ``proofs_notes/minimax_rates.md``): the
    time-homogeneous member, ``P (S, A, S)`` and ``R (S, A)``: no waiting (``wait = 0``: ``w``
    moves to the root), the coin of ``(l*, a*)`` biased at every stage, reward 1 in ``g`` at
    every stage (``g`` is first reached at stage ``d + 2``, so again ``m = H - d - 2``
    rewarded stages). ``target`` is then a ``(leaf_index, action)`` pair; ``N = L A`` arms.

    Parameters
    ----------
    A : int >= 2
    depth : int >= 0
    horizon : int >= wait + depth + 3
    wait : int >= 0, optional
        :math:`\bar H`; default ``(horizon - depth - 3) // 2`` (0 when ``stationary``).
    epsilon : float in [0, 1/2]
    target : tuple (leaf_index, action, stage), or (leaf_index, action) when stationary; optional
    seed : int or numpy.random.Generator
    stationary : bool, default False
    """
    lay, H, Hbar, stationary = _shape(A, depth, horizon, wait, stationary)
    eps = check_real("epsilon", epsilon, 0.0, 0.5)
    L = len(lay["leaves"])
    stages = list(range(depth + 1, Hbar + depth + 2))
    if target is None:
        rng = check_generator(seed)
        target = ((int(rng.integers(L)), int(rng.integers(A))) if stationary
                  else (int(rng.integers(L)), int(rng.integers(A)), int(rng.choice(stages))))
    try:
        parts = tuple(int(x) for x in target)
    except (TypeError, ValueError):
        parts = ()
    if len(parts) != (2 if stationary else 3):
        want = "a (leaf_index, action) pair" if stationary else "a (leaf_index, action, stage) triple"
        raise TypeError(f"target must be {want}, got {target!r}")
    lt, at = parts[0], parts[1]
    if not 0 <= lt < L:
        raise ValueError(f"target leaf index {lt} out of range [0, {L})")
    if not 0 <= at < A:
        raise ValueError(f"target action {at} out of range [0, {A})")
    if not stationary and parts[2] not in stages:
        raise ValueError(f"target stage {parts[2]} is not a stage at which a leaf can be played "
                         f"({stages[0]}..{stages[-1]})")
    S = lay["S"]
    w, root, g, b = lay["wait"], lay["root"], lay["good"], lay["bad"]
    first_leaf = lay["leaves"][0]
    if stationary:
        P = np.zeros((S, A, S))
        P[w, :, root] = 1.0
        for node in range(root, first_leaf):
            for a in range(A):
                P[node, a, A * (node - 1) + a + 2] = 1.0
        for i, leaf in enumerate(lay["leaves"]):
            for a in range(A):
                p = 0.5 + (eps if (i, a) == (lt, at) else 0.0)
                P[leaf, a, g] = p
                P[leaf, a, b] = 1.0 - p
        P[g, :, g] = 1.0
        P[b, :, b] = 1.0
        R = np.zeros((S, A))
        R[g, :] = 1.0
        return EpisodicMDP(P, R, H, w)
    ht = parts[2]
    P = np.zeros((H, S, A, S))
    R = np.zeros((H, S, A))
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

r"""Over-estimation test beds: Sutton & Barto's maximization-bias MDP, van Hasselt's noisy
3x3 grid and Garnets with noisy rewards.

The first two need reward laws the core models cannot express: a reward noise that differs
between state-action pairs (Example 6.7 has deterministic rewards in ``A`` and
:math:`\mathcal N(-0.1, 1)` rewards in ``B``), a two-point law (van Hasselt's grid pays
:math:`-12` or :math:`+10`), terminal states that end an episode, and states with fewer actions
than others. They are returned as a :class:`NoisyRewardMDP`: a validated core model that
holds the *mean* rewards (every exact computation -- :func:`mdptheory.solve`,
:func:`mdptheory.evaluate_q` -- runs on it unchanged) plus the per-pair reward law, the
terminal states and the available actions that the step-based learners of
:mod:`mdptheory.learners.step_based` sample from. Garnets with Gaussian rewards of one common
standard deviation *are* a core reward law, so :func:`noisy_garnet` returns a core model.

Sampled reward of pair ``(s, a)``: :math:`r = \bar r(s,a) + \sigma(s,a)\,\xi` with
:math:`\xi\sim\mathcal N(0,1)` (``"gaussian"``) or :math:`\xi=\pm1` with probability 1/2 each
(``"rademacher"``); ``"bernoulli"`` and ``"deterministic"`` are the core laws.

Provenance and reconstructions: proofs_notes/overestimation.md
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core import DiscountedMDP, EpisodicMDP, as_mdp
from mdptheory.core.validation import (
    check_bool,
    check_choice,
    check_finite_array,
    check_int,
    check_real,
)
from mdptheory.envs.random_mdps import garnet

__all__ = [
    "REWARD_LAWS",
    "NoisyRewardMDP",
    "as_noisy",
    "maximization_bias",
    "noisy_garnet",
    "van_hasselt_grid",
]

#: Reward laws of a :class:`NoisyRewardMDP` and their integer codes (0-2 are the codes of
#: :mod:`mdptheory.kernels.sampling`).
REWARD_LAWS = {"deterministic": 0, "bernoulli": 1, "gaussian": 2, "rademacher": 3}


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class NoisyRewardMDP:
    r"""A core model of the mean rewards plus the reward law, terminal states and available
    actions that a learner samples from (see the module docstring).

    Attributes
    ----------
    mdp : DiscountedMDP or EpisodicMDP
        Mean rewards and transitions; used for every exact value. Its own ``reward_noise`` is
        ``"deterministic"`` or the same law as ``reward_law`` with ``reward_std`` equal to
        every ``reward_scale``.
    reward_law : {"deterministic", "bernoulli", "gaussian", "rademacher"}
    reward_scale : ndarray (S, A)
        :math:`\sigma(s,a)\ge0` (zero for the deterministic and Bernoulli laws).
    terminal : ndarray (S,) of bool
        Entering a terminal state ends the episode (the learner bootstraps 0 and restarts
        from the initial law). Terminal states are absorbing with zero reward in ``mdp``, so
        exact values of ``mdp`` are those of the episodic task.
    available : ndarray (S, A) of bool
        Actions a learner may take. Every unavailable pair duplicates an available action of
        the same state (same transition rows and mean rewards at every stage), so the optimal
        values of ``mdp`` are those of the restricted problem.
    name : str
    """

    mdp: DiscountedMDP | EpisodicMDP
    reward_law: str
    reward_scale: np.ndarray
    terminal: np.ndarray
    available: np.ndarray
    name: str = "noisy"

    def __post_init__(self):
        mdp = as_mdp(self.mdp)
        S, A = mdp.S, mdp.A
        check_choice("reward_law", self.reward_law, REWARD_LAWS)
        scale = check_finite_array("reward_scale", self.reward_scale, shape=(S, A), low=0.0)
        if self.reward_law in ("deterministic", "bernoulli") and (scale != 0).any():
            i = tuple(int(k) for k in np.argwhere(scale != 0)[0])
            raise ValueError(f"reward_scale[{i[0]}, {i[1]}] = {scale[i]!r}: the {self.reward_law} law has no scale")
        term = np.asarray(self.terminal)
        if term.dtype != bool or term.shape != (S,):
            raise TypeError(f"terminal must be a boolean array of shape ({S},), got {term.dtype} {term.shape}")
        avail = np.asarray(self.available)
        if avail.dtype != bool or avail.shape != (S, A):
            raise TypeError(f"available must be a boolean array of shape ({S}, {A}), got {avail.dtype} {avail.shape}")
        Pst, Rst = _stages(mdp)
        if self.reward_law == "bernoulli" and ((Rst < 0) | (Rst > 1)).any():
            raise ValueError("Bernoulli rewards need mean rewards in [0, 1]")
        if mdp.reward_noise != "deterministic":
            same = mdp.reward_noise == self.reward_law and np.all(scale == mdp.reward_std)
            if not same:
                raise ValueError(f"mdp.reward_noise = {mdp.reward_noise!r} (std {mdp.reward_std}) disagrees with "
                                 f"reward_law = {self.reward_law!r}; build mdp with deterministic rewards")
        for s in np.flatnonzero(term):
            if not np.all(Pst[:, s, :, s] == 1.0) or np.any(Rst[:, s, :] != 0.0) or np.any(scale[s] != 0.0):
                raise ValueError(f"terminal state {s} must be absorbing with zero reward and zero noise")
        init = np.asarray(mdp.initial)
        if np.any(init[term] > 0):
            raise ValueError(f"the initial law puts mass {float(init[term].sum())!r} on terminal states")
        for s in range(S):
            if not avail[s].any():
                raise ValueError(f"state {s} has no available action")
            for a in np.flatnonzero(~avail[s]):
                dup = [b for b in np.flatnonzero(avail[s])
                       if np.array_equal(Pst[:, s, a], Pst[:, s, b]) and np.array_equal(Rst[:, s, a], Rst[:, s, b])
                       and scale[s, a] == scale[s, b]]
                if not dup:
                    raise ValueError(f"unavailable action {a} of state {s} duplicates no available action "
                                     f"(its optimal value could exceed the restricted problem's)")
        object.__setattr__(self, "mdp", mdp)
        object.__setattr__(self, "reward_scale", _frozen(scale))
        object.__setattr__(self, "terminal", _frozen(term))
        object.__setattr__(self, "available", _frozen(avail))

    @property
    def S(self) -> int:
        return self.mdp.S

    @property
    def A(self) -> int:
        return self.mdp.A

    @property
    def gamma(self) -> float:
        """Discount factor (1.0 for an episodic model)."""
        return float(self.mdp.gamma)

    @property
    def horizon(self) -> int | None:
        """``H`` of an episodic model, ``None`` for a discounted one."""
        return self.mdp.horizon

    @property
    def episodic(self) -> bool:
        return isinstance(self.mdp, EpisodicMDP)

    def reward_variance(self) -> np.ndarray:
        """Variance of the sampled reward of each pair, ``(S, A)`` (``(H, S, A)`` for a
        stage-dependent episodic mean)."""
        _, R = _stages(self.mdp)
        if self.reward_law == "bernoulli":
            out = R * (1.0 - R)
        else:
            out = np.broadcast_to(self.reward_scale ** 2, R.shape).copy()
        return out[0] if out.shape[0] == 1 else out


def _stages(mdp):
    """``(P (HP, S, A, S), R (HR, S, A))`` dense, ``HP``/``HR`` in ``{1, H}``."""
    P = np.asarray(mdp.dense_P(), dtype=float)
    R = np.asarray(mdp.R, dtype=float)
    return (P[None] if P.ndim == 3 else P), (R[None] if R.ndim == 2 else R)


def as_noisy(model) -> NoisyRewardMDP:
    """``model`` itself if it is a :class:`NoisyRewardMDP`; a core model wrapped with its own
    reward law (Gaussian: scale ``reward_std`` everywhere), no terminal states and every action
    available."""
    if isinstance(model, NoisyRewardMDP):
        return model
    mdp = as_mdp(model)
    law = mdp.reward_noise
    scale = np.full((mdp.S, mdp.A), mdp.reward_std if law == "gaussian" else 0.0)
    return NoisyRewardMDP(mdp, law, scale, np.zeros(mdp.S, dtype=bool), np.ones((mdp.S, mdp.A), dtype=bool),
                          name=type(mdp).__name__)


def maximization_bias(n_actions: int = 10, *, mean: float = -0.1, std: float = 1.0,
                      gamma: float | None = None) -> NoisyRewardMDP:
    r"""Sutton & Barto's maximization-bias MDP (Example 6.7, Figure 6.5 of the 2nd edition).

    States ``A = 0`` (start), ``B = 1`` and the terminal state ``T = 2``. In ``A``: action 0
    ("right") ends the episode, action 1 ("left") moves to ``B``; both pay 0. In ``B`` each of
    ``n_actions`` actions ends the episode with reward :math:`\mathcal N(\text{mean},
    \text{std}^2)`. So :math:`Q^*(A,\text{right})=0>Q^*(A,\text{left})=\gamma\,\text{mean}`
    and an :math:`\varepsilon`-greedy learner that knew :math:`Q^*` would go left with
    probability :math:`\varepsilon/2`. Actions ``2..`` of ``A`` (and ``n_actions..`` of ``B``
    when ``n_actions < 2``) are unavailable duplicates of action 0.

    Parameters
    ----------
    n_actions : int >= 1, default 10
        Actions in ``B`` (the book says "many"; 10 is the value of the widely used
        reproduction of the figure).
    mean, std : float
        Reward law in ``B`` (the book: mean -0.1, variance 1).
    gamma : float in [0, 1), optional
        ``None`` (the book: undiscounted) gives an :class:`EpisodicMDP` with ``H = 2``;
        a number gives a :class:`DiscountedMDP` in which ``T`` is absorbing.
    """
    n = check_int("n_actions", n_actions, 1)
    mean = check_real("mean", mean)
    std = check_real("std", std, 0.0)
    A = max(2, n)
    P = np.zeros((3, A, 3))
    R = np.zeros((3, A))
    avail = np.zeros((3, A), dtype=bool)
    P[0, :, 2] = 1.0                   # A: right (and the unavailable duplicates) -> T
    P[0, 1, 2] = 0.0
    P[0, 1, 1] = 1.0                   # A: left -> B
    avail[0, :2] = True
    P[1, :, 2] = 1.0                   # B: every action -> T
    R[1, :] = mean
    avail[1, :n] = True
    P[2, :, 2] = 1.0                   # T absorbing
    avail[2, :] = True
    scale = np.zeros((3, A))
    scale[1, :] = std
    if gamma is None:
        mdp = EpisodicMDP(P, R, 2, 0)
    else:
        mdp = DiscountedMDP(P, R, check_real("gamma", gamma, 0.0, 1.0, high_open=True), 0)
    term = np.array([False, False, True])
    return NoisyRewardMDP(mdp, "gaussian", scale, term, avail, name=f"maximization_bias(n={n})")


def van_hasselt_grid(height: int = 3, width: int = 3, *, gamma: float = 0.95, step_low: float = -12.0,
                     step_high: float = 10.0, goal_reward: float = 5.0) -> NoisyRewardMDP:
    r"""Van Hasselt's grid world with noisy rewards (Double Q-learning, NeurIPS 2010, Section 4).

    Cells ``(row, col)`` are states ``row * width + col`` (row 0 at the top); the start is the
    bottom-left cell, the goal the top-right one, and state ``height * width`` is terminal.
    Actions 0..3 move up, down, left, right (a move into a wall stays put). Every step taken
    outside the goal pays ``step_low`` or ``step_high`` with probability 1/2 each (a
    Rademacher law around their mean, -1 by default); any action in the goal pays
    ``goal_reward`` and ends the episode. With the defaults the optimal value of the start
    is :math:`5\gamma^4-\sum_{k=0}^{3}\gamma^k\approx0.36` (four moves, then the goal action).

    Parameters
    ----------
    height, width : int >= 1, default 3 (at least two cells)
    gamma : float in [0, 1), default 0.95
    step_low, step_high, goal_reward : float
    """
    Hh = check_int("height", height, 1)
    Ww = check_int("width", width, 1)
    if Hh * Ww < 2:
        raise ValueError("the grid needs at least two cells (start and goal differ)")
    g = check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    lo = check_real("step_low", step_low)
    hi = check_real("step_high", step_high)
    if hi < lo:
        raise ValueError(f"step_high = {hi!r} must be >= step_low = {lo!r}")
    goal_r = check_real("goal_reward", goal_reward)
    S = Hh * Ww + 1
    T = S - 1
    goal = Ww - 1                       # (0, width - 1)
    start = (Hh - 1) * Ww               # (height - 1, 0)
    P = np.zeros((S, 4, S))
    R = np.zeros((S, 4))
    scale = np.zeros((S, 4))
    moves = ((-1, 0), (1, 0), (0, -1), (0, 1))
    for r in range(Hh):
        for c in range(Ww):
            s = r * Ww + c
            for a, (dr, dc) in enumerate(moves):
                if s == goal:
                    P[s, a, T] = 1.0
                    R[s, a] = goal_r
                    continue
                rr, cc = r + dr, c + dc
                nxt = rr * Ww + cc if (0 <= rr < Hh and 0 <= cc < Ww) else s
                P[s, a, nxt] = 1.0
                R[s, a] = 0.5 * (lo + hi)
                scale[s, a] = 0.5 * (hi - lo)
    P[T, :, T] = 1.0
    term = np.zeros(S, dtype=bool)
    term[T] = True
    mdp = DiscountedMDP(P, R, g, start)
    return NoisyRewardMDP(mdp, "rademacher", scale, term, np.ones((S, 4), dtype=bool),
                          name=f"van_hasselt_grid({Hh}x{Ww})")


def noisy_garnet(S: int, A: int, branching: int, seed=0, *, gamma: float | None = 0.9,
                 horizon: int | None = None, reward_std: float = 1.0, sparse: bool = False):
    r"""A Garnet (:func:`mdptheory.envs.garnet`, same draws for the same seed) whose sampled
    rewards are :math:`\bar r(s,a)+\sigma\,\xi`, :math:`\xi\sim\mathcal N(0,1)`: the core
    ``reward_noise="gaussian"`` law with ``reward_std = sigma``. Discounted with ``gamma``
    (default 0.9); pass ``gamma=None, horizon=H`` for the episodic model.
    """
    std = check_real("reward_std", reward_std, 0.0)
    check_bool("sparse", sparse)
    if gamma is None and horizon is None:
        raise ValueError("noisy_garnet: pass gamma= (discounted) or horizon= (episodic)")
    base = garnet(S, A, branching, seed, horizon=horizon, gamma=gamma, sparse=sparse)
    return base.replace(reward_noise="gaussian", reward_std=std)

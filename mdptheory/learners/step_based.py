r"""Step-based tabular Q-learning family (discounted or episodic): the shared protocol, the
environment sampler and the runner of :class:`QLearning`, :class:`DoubleQLearning`,
:class:`MaxminQLearning` and :class:`REDQ`.

Not episodic regret learners (tables change *during* an episode; no regret theorem): no
``bound``; run with :func:`run_steps`, measured with :func:`mdptheory.regret.bias.bias_trace`.

**Setting.** A model is a :class:`~mdptheory.envs.bias_examples.NoisyRewardMDP` or a core
model (wrapped by :func:`~mdptheory.envs.bias_examples.as_noisy`).

* Discounted model: stationary tables :math:`Q^i(s,a)`, one continuing trajectory; entering
  a terminal state ends the episode and the next step restarts from the initial law.
* Episodic model: stage tables :math:`Q^i_h(s,a)` (``Q_H = 0``), episodes of ``H`` steps (or
  until a terminal state), :math:`\gamma=1`.

A target bootstraps :math:`v(s')` from the next stage's tables (``0`` at a terminal ``s'`` or
after the last stage), maximising over the *available* actions of :math:`s'` only.

**Schedules.** :math:`\varepsilon_t(s)=\min(1,\varepsilon\,n_t(h,s)^{-\text{epsilon\_decay}})`
with :math:`n_t(h,s)` the visits of ``(h, s)`` including the current one (van Hasselt's
:math:`1/\sqrt{n(s)}` is ``epsilon=1, epsilon_decay=0.5``); step size
:math:`\alpha=\alpha_0\,n^{-\text{alpha\_decay}}` with ``n`` the updates of the entry including
this one (constant: decay 0; :math:`1/n`: ``alpha=1, alpha_decay=1``; :math:`1/n^{0.8}`:
``alpha=1, alpha_decay=0.8``).

The random-draw order of every step (what the compiled loops and the teaching path share) is
in ``docs/learner_protocol.md``, section "Step-based learners".

Provenance and reconstructions: proofs_notes/overestimation.md
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from math import comb
from typing import ClassVar

import numpy as np
from numba import njit

from mdptheory.core.validation import (
    check_bool,
    check_choice,
    check_int,
    check_probability,
    check_real,
)
from mdptheory.envs.bias_examples import REWARD_LAWS, NoisyRewardMDP, as_noisy
from mdptheory.kernels.sampling import categorical, categorical_ref, next_state, stage

__all__ = [
    "MAX_SUBSETS",
    "StepEnv",
    "StepLearner",
    "StepLoop",
    "StepRun",
    "begin_step",
    "begin_step_ref",
    "behaviour_action",
    "behaviour_action_ref",
    "episode_end",
    "episode_end_ref",
    "greedy_random_tie",
    "greedy_random_tie_ref",
    "noisy_step",
    "noisy_step_ref",
    "random_subset",
    "random_subset_ref",
    "record_step",
    "run_steps",
    "step_arrays",
    "step_env",
    "step_seed_rng",
    "subset_bootstrap",
    "subset_min_max",
    "subset_min_max_ref",
    "td_update",
    "td_update_ref",
    "visit_epsilon",
    "write_snapshot",
]

#: Largest number of subsets :meth:`REDQ.bootstrap_values` enumerates for its exact
#: expectation over the random in-target subset.
MAX_SUBSETS = 200_000


# ---------------------------------------------------------------------------------------
# environment arrays and run results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StepEnv:
    """The arrays the step-based loops read (built once per run by :func:`step_env`).

    ``P (HP, S, A, S)``, ``R (HR, S, A)`` (``HP``/``HR`` = 1 or ``H``), ``law`` (code of
    :data:`~mdptheory.envs.bias_examples.REWARD_LAWS`), ``scale (S, A)``, ``terminal (S,)``,
    ``avail (S, A)`` int64 (the first ``n_avail[s]`` entries of row ``s`` are the available
    actions, increasing), ``n_avail (S,)``, ``initial (S,)``, ``gamma`` (1 for episodic),
    ``H`` (0 = discounted), ``HQ`` (stages of the tables: ``H`` or 1), ``model``."""

    P: np.ndarray
    R: np.ndarray
    law: int
    scale: np.ndarray
    terminal: np.ndarray
    avail: np.ndarray
    n_avail: np.ndarray
    initial: np.ndarray
    gamma: float
    H: int
    HQ: int
    model: NoisyRewardMDP

    @property
    def S(self) -> int:
        return int(self.P.shape[1])

    @property
    def A(self) -> int:
        return int(self.P.shape[2])


def step_env(model) -> StepEnv:
    """:class:`StepEnv` of a :class:`NoisyRewardMDP` or a core model."""
    m = as_noisy(model)
    mdp = m.mdp
    S, A = mdp.S, mdp.A
    P = np.ascontiguousarray(mdp.dense_P(), dtype=np.float64)
    P = P.reshape((1,) + P.shape) if P.ndim == 3 else P
    R = np.ascontiguousarray(mdp.R, dtype=np.float64)
    R = R.reshape((1,) + R.shape) if R.ndim == 2 else R
    avail = np.zeros((S, A), dtype=np.int64)
    n_avail = np.zeros(S, dtype=np.int64)
    for s in range(S):
        idx = np.flatnonzero(m.available[s])
        avail[s, :idx.size] = idx
        n_avail[s] = idx.size
    H = int(mdp.horizon) if m.episodic else 0
    return StepEnv(P=P, R=R, law=REWARD_LAWS[m.reward_law], scale=np.ascontiguousarray(m.reward_scale, dtype=np.float64),
                   terminal=np.ascontiguousarray(m.terminal, dtype=np.bool_), avail=avail, n_avail=n_avail,
                   initial=np.ascontiguousarray(mdp.initial, dtype=np.float64), gamma=float(m.gamma), H=H,
                   HQ=max(H, 1), model=m)


@dataclass(frozen=True)
class StepLoop:
    """A learner's compiled loop and its read-only parameter tuple. Signature::

        loop(P, R, law, scale, terminal, avail, n_avail, initial, gamma, H, steps, ckpt, rng,
             params, snap_q, snap_n, states_out, actions_out, rewards_out, starts_out) -> None

    ``ckpt (C,)`` int64: sorted step indices ``t`` at which the tables are copied (before step
    ``t``; ``t = steps`` after the last step) into ``snap_q (C, N, HQ, S, A)`` and the state
    visit counts into ``snap_n (C, HQ, S)``. The four trajectory outputs have length ``steps``
    or 0 (not recorded)."""

    loop: Callable
    params: tuple = field(default_factory=tuple)


@dataclass(frozen=True, eq=False)
class StepRun:
    """One seed of a step-based learner.

    Attributes
    ----------
    learner : str
    seed : int
    steps : int
    checkpoints : ndarray (C,) int64
        Step counts at which ``tables`` / ``visits`` were taken (before step ``t``).
    tables : ndarray (C, N, HQ, S, A)
    visits : ndarray (C, HQ, S)
        Visit counts :math:`n_t(h,s)` (they set the behaviour's :math:`\\varepsilon`).
    states, actions : ndarray (steps,) int64, or empty when not recorded
    rewards : ndarray (steps,) float64, or empty
    starts : ndarray (steps,) bool, or empty: step ``t`` begins an episode
    backend : str
    """

    learner: str
    seed: int
    steps: int
    checkpoints: np.ndarray
    tables: np.ndarray
    visits: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    starts: np.ndarray
    backend: str


def step_seed_rng(seed: int) -> np.random.Generator:
    """The generator of one seed, ``default_rng(SeedSequence(seed))`` (the regret engine's)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed)))


def _checkpoints(steps: int, every) -> np.ndarray:
    if every is None or every == 0:
        return np.array([steps], dtype=np.int64)
    every = check_int("every", every, 1)
    return np.arange(0, steps + 1, every, dtype=np.int64)


def run_steps(learner: StepLearner, model, steps: int, seed: int = 0, *, every: int | None = None,
              checkpoints=None, backend: str = "compiled", record: bool = True) -> StepRun:
    """Run ``learner`` for ``steps`` environment steps on ``model`` with seed ``seed``.

    Parameters
    ----------
    learner : StepLearner
    model : NoisyRewardMDP or core model
    steps : int >= 1
    seed : int >= 0
        Every draw (environment and learner) comes from :func:`step_seed_rng`.
    every : int >= 1, optional
        Snapshot the tables at ``t = 0, every, 2 every, ... <= steps``; default: only at
        ``t = steps``. ``checkpoints`` (sorted step counts in ``[0, steps]``) overrides it.
    backend : {"compiled", "python"}
        The numba loop or the teaching path (same draws, same floats).
    record : bool
        Keep the trajectory (states, actions, rewards, episode starts).
    """
    steps = check_int("steps", steps, 1)
    seed = check_int("seed", seed, 0)
    check_choice("backend", backend, ("compiled", "python"))
    record = check_bool("record", record)
    if not isinstance(learner, StepLearner):
        raise TypeError(f"learner must be a StepLearner, got {type(learner).__name__}")
    env = step_env(model)
    if checkpoints is None:
        ck = _checkpoints(steps, every)
    else:
        ck = np.asarray(checkpoints, dtype=np.int64)
        if ck.ndim != 1 or ck.size == 0 or np.any(np.diff(ck) < 0) or ck[0] < 0 or ck[-1] > steps:
            raise ValueError(f"checkpoints must be a sorted non-empty list of step counts in [0, {steps}]")
    C, N, HQ, S, A = ck.size, learner.n_tables, env.HQ, env.S, env.A
    learner._check_env(env)
    snap_q = np.empty((C, N, HQ, S, A))
    snap_n = np.empty((C, HQ, S))
    L = steps if record else 0
    states = np.zeros(L, dtype=np.int64)
    actions = np.zeros(L, dtype=np.int64)
    rewards = np.zeros(L)
    starts = np.zeros(L, dtype=np.bool_)
    rng = step_seed_rng(seed)
    if backend == "compiled":
        cl = learner.compiled(env)
        cl.loop(env.P, env.R, env.law, env.scale, env.terminal, env.avail, env.n_avail, env.initial, env.gamma,
                env.H, steps, ck, rng, cl.params, snap_q, snap_n, states, actions, rewards, starts)
    else:
        _python_run(learner, env, steps, ck, rng, snap_q, snap_n, states, actions, rewards, starts)
    return StepRun(learner=learner.name, seed=seed, steps=steps, checkpoints=ck, tables=snap_q, visits=snap_n,
                   states=states, actions=actions, rewards=rewards, starts=starts, backend=backend)


def _python_run(learner, env, steps, ck, rng, snap_q, snap_n, states, actions, rewards, starts):
    """Teaching path of :func:`run_steps`: the call sequence of the module docstring."""
    learner.reset(env, rng)
    rec = states.shape[0] > 0
    ptr, s, h, start = 0, 0, 0, True
    for t in range(steps + 1):
        while ptr < ck.size and ck[ptr] == t:
            snap_q[ptr] = learner.tables()
            snap_n[ptr] = learner._visits
            ptr += 1
        if t == steps:
            break
        if start:
            s, h = categorical_ref(rng, env.initial), 0
        a = learner.act(h, s)
        r, s2 = noisy_step_ref(rng, env.P, env.R, env.law, env.scale, h, s, a)
        done = bool(env.terminal[s2]) or (env.H > 0 and h + 1 == env.H)
        learner.observe(h, s, a, r, s2, done)
        if rec:
            states[t], actions[t], rewards[t], starts[t] = s, a, r, start
        s, h, start = s2, (h + 1 if env.H > 0 else 0), done


# ---------------------------------------------------------------------------------------
# the learner base class (teaching path + exact hooks)
# ---------------------------------------------------------------------------------------


class StepLearner:
    r"""Base of the step-based tabular learners; see the module docstring.

    Subclasses set ``name`` and :attr:`n_tables`, implement :meth:`observe`,
    :meth:`acting_values`, :meth:`estimate`, :meth:`bootstrap_values` and :meth:`compiled`.
    Hyper-parameters are public attributes, per-run state lives in ``_underscore``
    attributes; ``self._Q`` is the ``(N, HQ, S, A)`` table stack.

    The exact hooks (:meth:`acting_values`, :meth:`estimate`, :meth:`bootstrap_values`,
    :meth:`greedy_policy`, :meth:`behaviour_policy`) take a table stack (a snapshot of
    :func:`run_steps`) and compute with the same floating-point operations as the loops, so
    the greedy policy they return is the one the learner plays.
    """

    name: ClassVar[str] = "step-learner"
    #: Number of tables ``N`` (an instance attribute for the ensembles).
    n_tables: int = 1

    def _schedules(self, alpha, alpha_decay, epsilon, epsilon_decay, init):
        self.alpha = check_real("alpha", alpha, 0.0, 1.0, low_open=True)
        self.alpha_decay = check_real("alpha_decay", alpha_decay, 0.0, 1.0)
        self.epsilon = check_probability("epsilon", epsilon)
        self.epsilon_decay = check_real("epsilon_decay", epsilon_decay, 0.0)
        self.init = check_real("init", init)

    def _check_env(self, env: StepEnv) -> None:
        """Hook for learner-specific checks of a model (default: none)."""

    # -- teaching path -------------------------------------------------------------------
    def reset(self, env: StepEnv, rng: np.random.Generator) -> None:
        """Fresh tables ``init`` and zero counts; subclasses add their counters."""
        self._env, self._rng = env, rng
        self._Q = np.full((self.n_tables, env.HQ, env.S, env.A), self.init)
        self._visits = np.zeros((env.HQ, env.S))

    def tables(self) -> np.ndarray:
        """A copy of the ``(N, HQ, S, A)`` table stack."""
        return self._Q.copy()

    def _lr(self, n: float) -> float:
        return self.alpha * n ** (-self.alpha_decay)

    def _acting_row(self, h: int, s: int) -> list:
        """Acting values of the ``A`` actions at ``(h, s)``, in the loops' float order."""
        return list(self.acting_values(self._Q[:, h:h + 1, s:s + 1, :])[0, 0])

    def act(self, h: int, s: int) -> int:
        """The epsilon-greedy behaviour (draw 2 of the module docstring)."""
        self._visits[h, s] += 1.0
        eps = min(1.0, self.epsilon * self._visits[h, s] ** (-self.epsilon_decay))
        env = self._env
        return behaviour_action_ref(self._rng, self._acting_row(h, s), env.avail[s, :env.n_avail[s]], eps)

    def observe(self, h: int, s: int, a: int, r: float, s_next: int, done: bool) -> None:
        """Update after ``(h, s, a) -> (r, s_next)``; ``done``: no bootstrap."""
        raise NotImplementedError

    def _next(self, h: int):
        """Stage of the next tables."""
        return h + 1 if self._env.H > 0 else 0

    # -- exact hooks on a table stack ---------------------------------------------------
    def acting_values(self, tables: np.ndarray) -> np.ndarray:
        """``(HQ, S, A)`` values the behaviour is greedy for."""
        raise NotImplementedError

    def estimate(self, tables: np.ndarray) -> np.ndarray:
        """``(HQ, S, A)``: the action-value estimate the method reports."""
        raise NotImplementedError

    def bootstrap_values(self, tables: np.ndarray, available: np.ndarray) -> np.ndarray:
        r"""``(HQ, S)``: the expected bootstrap value :math:`\hat v_h(s)` a target takes from
        state ``s`` at stage ``h`` (expectation over the learner's own random choices)."""
        raise NotImplementedError

    def greedy_policy(self, tables: np.ndarray, available: np.ndarray) -> np.ndarray:
        """``(HQ, S, A)``: uniform over the maximisers of :meth:`acting_values` among the
        available actions (the greedy branch of the behaviour, ties broken at random)."""
        return _greedy_probs(self.acting_values(tables), available)

    def behaviour_policy(self, tables: np.ndarray, visits: np.ndarray, available: np.ndarray) -> np.ndarray:
        r"""``(HQ, S, A)``: the epsilon-greedy policy of the *next* visit of each ``(h, s)``,
        :math:`\varepsilon=\min(1,\varepsilon_0(n(h,s)+1)^{-\text{decay}})`, exploring
        uniformly over the available actions."""
        g = self.greedy_policy(tables, available)
        eps = np.minimum(1.0, self.epsilon * (np.asarray(visits, dtype=float) + 1.0) ** (-self.epsilon_decay))
        unif = available / available.sum(axis=1, keepdims=True)
        return eps[..., None] * unif[None] + (1.0 - eps[..., None]) * g

    def compiled(self, env: StepEnv) -> StepLoop:
        raise NotImplementedError

    def config(self) -> dict:
        out = {"learner": type(self).__name__}
        out.update({k: v for k, v in vars(self).items() if not k.startswith("_")})
        return out

    def __repr__(self) -> str:
        cfg = self.config()
        cfg.pop("learner")
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in cfg.items()) + ")"


def _greedy_probs(values: np.ndarray, available: np.ndarray) -> np.ndarray:
    v = np.where(available[None], values, -np.inf)
    top = v.max(axis=2, keepdims=True)
    tie = (v == top) & available[None]
    return tie / tie.sum(axis=2, keepdims=True)


def _max_available(values: np.ndarray, available: np.ndarray) -> np.ndarray:
    """``(HQ, S)``: max over the available actions."""
    return np.where(available[None], values, -np.inf).max(axis=2)


def _running_min(tables, members) -> np.ndarray:
    """Elementwise minimum over ``tables[members]`` in the given order (first wins on ties)."""
    m = tables[members[0]].copy()
    for i in members[1:]:
        m = np.where(tables[i] < m, tables[i], m)
    return m


def _running_sum(tables) -> np.ndarray:
    acc = tables[0].copy()
    for i in range(1, tables.shape[0]):
        acc = acc + tables[i]
    return acc


def subset_bootstrap(tables: np.ndarray, available: np.ndarray, m: int) -> np.ndarray:
    r""":math:`\mathbb E_J[\max_{a}\min_{j\in J}Q^j_h(s,a)]` over a uniformly random subset
    ``J`` of ``m`` of the ``N`` tables (exact: all :math:`\binom Nm` subsets enumerated;
    ``ValueError`` above :data:`MAX_SUBSETS`)."""
    N = tables.shape[0]
    if m >= N:
        return _max_available(_running_min(tables, list(range(N))), available)
    if comb(N, m) > MAX_SUBSETS:
        raise ValueError(f"C({N}, {m}) = {comb(N, m)} subsets exceed MAX_SUBSETS = {MAX_SUBSETS}")
    acc = np.zeros(tables.shape[1:3])
    cnt = 0
    for J in combinations(range(N), m):
        acc += _max_available(_running_min(tables, list(J)), available)
        cnt += 1
    return acc / cnt


# ---------------------------------------------------------------------------------------
# plain-Python twins of the step kernels
# ---------------------------------------------------------------------------------------


def noisy_step_ref(rng, P, R, law, scale, h, s, a):
    """Twin of :func:`noisy_step`: ``(reward, next state)``, reward drawn first."""
    mean = float(R[h if R.shape[0] > 1 else 0, s, a])
    sc = float(scale[s, a])
    if law == 1:
        r = 1.0 if rng.random() < mean else 0.0
    elif law == 2 and sc > 0.0:
        r = mean + sc * rng.standard_normal()
    elif law == 3 and sc > 0.0:
        r = mean + sc if rng.random() < 0.5 else mean - sc
    else:
        r = mean
    return r, categorical_ref(rng, P[h if P.shape[0] > 1 else 0, s, a])


def greedy_random_tie_ref(rng, values, actions) -> int:
    """Twin of :func:`greedy_random_tie`: a maximiser of ``values`` over ``actions`` (a list
    of action indices), ties broken uniformly with one draw when there is a tie."""
    best = max(values[a] for a in actions)
    tied = [a for a in actions if values[a] == best]
    if len(tied) == 1:
        return int(tied[0])
    return int(tied[min(int(rng.random() * len(tied)), len(tied) - 1)])


def behaviour_action_ref(rng, values, actions, eps) -> int:
    """Twin of :func:`behaviour_action`: epsilon-greedy over the available ``actions``."""
    if rng.random() < eps:
        m = len(actions)
        return int(actions[min(int(rng.random() * m), m - 1)])
    return greedy_random_tie_ref(rng, values, actions)


def random_subset_ref(rng, N: int, m: int) -> list:
    """Twin of :func:`random_subset`: the first ``m`` entries of a partial Fisher-Yates
    shuffle of ``0..N-1`` (no draw when ``m == N``)."""
    perm = list(range(N))
    if m < N:
        for j in range(m):
            k = j + min(int(rng.random() * (N - j)), N - j - 1)
            perm[j], perm[k] = perm[k], perm[j]
    return perm[:m]


def subset_min_max_ref(Qs, members, actions) -> float:
    r"""Twin of :func:`subset_min_max`: :math:`\max_{a\in\text{actions}}\min_{j\in\text{members}}`
    of ``Qs[j][a]`` (``Qs``: a list of per-table action-value rows)."""
    return max(min(Qs[j][a] for j in members) for a in actions)


def begin_step_ref(rng, initial, visits, s, h, start, epsilon, epsilon_decay):
    """Twin of :func:`begin_step`."""
    if start:
        s, h = categorical_ref(rng, initial), 0
    visits[h, s] += 1.0
    return s, h, min(1.0, epsilon * visits[h, s] ** (-epsilon_decay))


def episode_end_ref(terminal, H, h, s2):
    """Twin of :func:`episode_end`."""
    if H > 0:
        return bool(terminal[s2]) or h + 1 == H, h + 1
    return bool(terminal[s2]), 0


def td_update_ref(Q, n, h, s, a, i, y, alpha, alpha_decay) -> None:
    """Twin of :func:`td_update` on the same ``(HQ, S, A, N)`` arrays."""
    n[h, s, a, i] += 1.0
    q = Q[h, s, a, i]
    Q[h, s, a, i] = q + alpha * n[h, s, a, i] ** (-alpha_decay) * (y - q)


# ------------------------------------------------------------------------------ compiled twin (numba)
# The per-step helpers are inlined into the loops (``inline="always"``). An inlined helper that
# uses an array argument only after a branch of its own costs an atomic incref/decref per step
# that numba's refcount pruner leaves in the loop: branches stay in the loops, or are written
# as conditional expressions (tests/learners/test_step_based.py counts the refcount operations).


@njit(cache=True, nogil=True, inline="always")
def noisy_step(rng, P, R, law, scale, h, s, a):
    r"""One transition: reward :math:`\bar r+\sigma\xi` by ``law`` (module docstring), then the
    next state by :func:`~mdptheory.kernels.sampling.next_state` (inverse CDF on ``P[h, s, a, :]``
    in place)."""
    mean = R[stage(h, R.shape[0]), s, a]
    sc = scale[s, a]
    r = mean
    if law == 1:
        r = 1.0 if rng.random() < mean else 0.0
    elif law == 2:
        if sc > 0.0:
            r = mean + sc * rng.standard_normal()
    elif law == 3:
        if sc > 0.0:
            r = mean + sc if rng.random() < 0.5 else mean - sc
    return r, next_state(rng, P, h, s, a)


@njit(cache=True, nogil=True, inline="always")
def greedy_random_tie(rng, vals, avail, n_avail, s):
    """A maximiser of ``vals`` over the available actions of ``s``; ties broken by one
    ``rng.random()`` (only when ``k > 1`` actions tie), the ``floor(u k)``-th in index order."""
    m = n_avail[s]
    best = vals[avail[s, 0]]
    k = 1
    arg = avail[s, 0]
    for j in range(1, m):
        v = vals[avail[s, j]]
        if v > best:
            best = v
            k = 1
            arg = avail[s, j]
        elif v == best:
            k += 1
    if k > 1:
        pick = int(rng.random() * k)
        if pick > k - 1:
            pick = k - 1
        c = 0
        for j in range(m):
            if vals[avail[s, j]] == best:
                if c == pick:
                    arg = avail[s, j]
                c += 1
    return arg


@njit(cache=True, nogil=True, inline="always")
def behaviour_action(rng, vals, avail, n_avail, s, eps):
    """Epsilon-greedy over the available actions of ``s`` (draw 2 of the module docstring)."""
    if rng.random() < eps:
        m = n_avail[s]
        j = int(rng.random() * m)
        if j > m - 1:
            j = m - 1
        return avail[s, j]
    return greedy_random_tie(rng, vals, avail, n_avail, s)


@njit(cache=True, nogil=True, inline="always")
def random_subset(rng, perm, m):
    """Partial Fisher-Yates: ``perm[:m]`` becomes a uniform ``m``-subset of ``0..N-1``
    (``perm`` is reset to the identity first; no draw when ``m == N``)."""
    N = perm.shape[0]
    for j in range(N):
        perm[j] = j
    if m < N:
        for j in range(m):
            k = j + int(rng.random() * (N - j))
            if k > N - 1:
                k = N - 1
            t = perm[j]
            perm[j] = perm[k]
            perm[k] = t


@njit(cache=True, nogil=True, inline="always")
def subset_min_max(Q, h, s, perm, m, avail, n_avail):
    r""":math:`\max_{a}\min_{j<m}Q[h,s,a,\text{perm}[j]]` over the available actions of ``s``
    (``Q`` is ``(HQ, S, A, N)``; minimum in the order of ``perm``, maximum in action order)."""
    best = -np.inf
    for jj in range(n_avail[s]):
        a = avail[s, jj]
        mn = Q[h, s, a, perm[0]]
        for j in range(1, m):
            q = Q[h, s, a, perm[j]]
            if q < mn:
                mn = q
        if mn > best:
            best = mn
    return best


@njit(cache=True, nogil=True, inline="always")
def visit_epsilon(visits, h, s, epsilon, epsilon_decay):
    r"""Counts the visit of ``(h, s)`` and returns the behaviour's
    :math:`\varepsilon_t(s)=\min(1,\varepsilon\,n_t(h,s)^{-\text{epsilon\_decay}})`."""
    visits[h, s] += 1.0
    eps = epsilon * visits[h, s] ** (-epsilon_decay)
    if eps > 1.0:
        eps = 1.0
    return eps


@njit(cache=True, nogil=True)
def step_arrays(P, H, N, init):
    """Set-up of a loop: the table stack ``Q (HQ, S, A, N)`` at ``init``, the visit counts
    ``visits (HQ, S)`` at 0 and a scratch row ``vals (A,)`` for the acting values."""
    HQ = H if H > 0 else 1
    S = P.shape[1]
    A = P.shape[2]
    return np.full((HQ, S, A, N), init), np.zeros((HQ, S)), np.zeros(A)


@njit(cache=True, nogil=True, inline="always")
def begin_step(rng, initial, visits, s, h, start, epsilon, epsilon_decay):
    """Start of a step: draw 1 (at an episode start, ``start``, a state from ``initial`` at
    stage 0), then :func:`visit_epsilon`; returns ``(s, h, eps)``. Written with conditional
    expressions: an ``if`` statement here costs an incref/decref per step (not pruned)."""
    s0 = categorical(rng, initial) if start else s
    h0 = 0 if start else h
    return s0, h0, visit_epsilon(visits, h0, s0, epsilon, epsilon_decay)


@njit(cache=True, nogil=True, inline="always")
def episode_end(terminal, H, h, s2):
    """``(done, h')`` after a step from stage ``h`` to ``s2``: ``done`` when ``s2`` is terminal
    or ``h`` was the last stage; ``h'`` the stage of the next tables (0 when discounted)."""
    return terminal[s2] or (H > 0 and h + 1 == H), (h + 1 if H > 0 else 0)


@njit(cache=True, nogil=True, inline="always")
def td_update(Q, n, h, s, a, i, y, alpha, alpha_decay):
    r"""Counts the update of ``Q[h, s, a, i]`` in ``n`` (same shape as ``Q``: a step-size
    counter per table) and moves it to the target ``y``:
    :math:`Q\leftarrow Q+\alpha_0n^{-\omega}(y-Q)`."""
    n[h, s, a, i] += 1.0
    lr = alpha * n[h, s, a, i] ** (-alpha_decay)
    Q[h, s, a, i] = Q[h, s, a, i] + lr * (y - Q[h, s, a, i])


@njit(cache=True, nogil=True, inline="always")
def record_step(states_out, actions_out, rewards_out, starts_out, t, s, a, r, start):
    """Writes step ``t`` of the trajectory. Straight-line on purpose: the caller tests
    ``states_out.shape[0] > 0`` (an array used only under a branch of an inlined helper costs an
    incref/decref per call that numba does not prune)."""
    states_out[t] = s
    actions_out[t] = a
    rewards_out[t] = r
    starts_out[t] = start


@njit(cache=True, nogil=True)
def write_snapshot(Q, visits, snap_q, snap_n, k):
    """Copy ``Q (HQ, S, A, N)`` into ``snap_q[k] (N, HQ, S, A)`` and ``visits`` into ``snap_n[k]``."""
    HQ, S, A, N = Q.shape
    for i in range(N):
        for h in range(HQ):
            for s in range(S):
                for a in range(A):
                    snap_q[k, i, h, s, a] = Q[h, s, a, i]
    for h in range(HQ):
        for s in range(S):
            snap_n[k, h, s] = visits[h, s]


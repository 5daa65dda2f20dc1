r"""Gymnasium interop: :func:`from_gymnasium` (toy-text ``P`` tables to validated arrays) and
:func:`to_gymnasium` (any core MDP as a ``gymnasium.Env``).

Needs the optional dependency ``gymnasium>=1.0`` (``pip install mdptheory[gym]``); tested with
gymnasium 1.4. Facts about gymnasium 1.4 this module relies on (peer-toolkit notes [G1],
checked by running it): the toy-text ids with a ``P`` table are ``FrozenLake-v1``,
``FrozenLake8x8-v1``, ``CliffWalking-v1``, ``CliffWalkingSlippery-v1`` and ``Taxi-v4``
(``Taxi-v3`` raises ``DeprecatedEnv``); ``P[s][a]`` is a list of
``(probability, next_state, reward, terminated)`` tuples in which the same next state may
appear several times (FrozenLake); Taxi's ``fickle_passenger`` logic lives in ``step()``,
depends on episode history, and is not described by ``P``.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from mdptheory.core import EpisodicMDP, as_mdp
from mdptheory.envs._build import make_mdp

__all__ = ["from_gymnasium", "to_gymnasium", "GymnasiumConversionError"]


class GymnasiumConversionError(ValueError):
    """The environment cannot be represented faithfully by a finite MDP of arrays."""


def _gymnasium():
    try:
        import gymnasium
    except ImportError:  # pragma: no cover - gymnasium is installed in the test environment
        raise ImportError("Gymnasium interop needs gymnasium>=1.0: pip install mdptheory[gym]") from None
    return gymnasium


def from_gymnasium(env_or_id, gamma: float | None = None, horizon: int | None = None, *,
                   env_kwargs: dict | None = None, initial=None, sparse: bool | None = None):
    r"""Convert a Gymnasium environment that exposes a transition table ``P`` into a core MDP.

    Rules:

    * ``P[s][a]`` entries ``(p, s', r, terminated)`` with the same ``s'`` are **summed**
      (FrozenLake lists a next state twice when two slip directions hit the same wall).
    * A state entered by an entry with ``terminated=True`` from a *reachable* state
      (reachable from the initial support through non-terminal entries) is a **terminal
      state**: its rows are replaced by an absorbing self-loop with **zero reward**
      (Gymnasium ends the episode there, so what ``P`` says about leaving it is never used;
      CliffWalking's ``P`` even lists ordinary moves out of its goal, and Taxi's lists moves
      out of its delivered states). A reachable state entered both with ``terminated=True``
      and ``False`` cannot be represented and raises an error. Rows of unreachable states
      are kept as ``P`` gives them (they never influence values from the initial states).
    * Rewards ``r(s, a, s')`` are folded into their expectation
      :math:`R(s, a) = \sum_{s'} p\,r(s, a, s')` (exact for values and regret; sampled
      rewards of :func:`to_gymnasium` then use the mean). Rewards are kept as the
      environment defines them (CliffWalking's are negative).
    * The initial distribution is ``env.unwrapped.initial_state_distrib`` (or ``initial``).
    * Environments whose ``step()`` is not described by ``P`` are refused with a
      :class:`GymnasiumConversionError` saying why: Taxi with ``fickle_passenger=True``
      and ``fickle_probability > 0`` (the destination changes inside ``step()`` with a
      probability drawn at ``reset()``, i.e. the law depends on episode history; with
      ``fickle_probability = 0`` the law is that of ``P`` and the env is accepted).
      Environments without ``P`` (Blackjack, continuous-control envs) are refused too.
    * Ids that the installed gymnasium does not register (``Taxi-v3`` in gymnasium 1.x,
      replaced by ``Taxi-v4``) or registers only as an outdated version are refused with the
      current id in the message, *before* ``gymnasium.make`` is called, so nothing outdated
      is constructed and gymnasium logs no deprecation warning.

    Parameters
    ----------
    env_or_id : gymnasium.Env or str
        An environment (wrappers allowed; ``env.unwrapped`` is read) or a registered id,
        created with ``gymnasium.make(env_or_id, **env_kwargs)``.
    gamma : float in [0, 1), optional
        Return a :class:`~mdptheory.DiscountedMDP`.
    horizon : int, optional
        Return an :class:`~mdptheory.EpisodicMDP` with this horizon. When neither is given,
        the horizon is the environment's ``spec.max_episode_steps`` (FrozenLake 100,
        FrozenLake8x8 200, Taxi-v4 200), or its ``horizon`` attribute (environments made by
        :func:`to_gymnasium`); CliffWalking has no time limit, so pass one.
    env_kwargs : dict, optional
        Keyword arguments for ``gymnasium.make`` when an id is given.
    initial : None, int or array (S,), optional
        Overrides the environment's initial distribution.
    sparse : bool, optional
        Store ``P`` as CSR; default: sparse when ``S > 256`` (Taxi).

    Returns
    -------
    EpisodicMDP or DiscountedMDP

    Raises
    ------
    GymnasiumConversionError (a ValueError)
        For an environment without ``P``, a history-dependent variant, non-discrete spaces,
        malformed entries (naming ``s``, ``a`` and the entry), or an unknown / deprecated id.
    """
    gym = _gymnasium()
    if isinstance(env_or_id, str):
        _check_current_id(gym, env_or_id)
        try:
            env = gym.make(env_or_id, **(env_kwargs or {}))
        except gym.error.Error as exc:
            raise GymnasiumConversionError(f"cannot make Gymnasium env {env_or_id!r}: {exc}") from None
    else:
        if env_kwargs:
            raise ValueError("env_kwargs is only used when env_or_id is an id string")
        env = env_or_id
    u = getattr(env, "unwrapped", env)
    name = getattr(getattr(u, "spec", None), "id", None) or type(u).__name__
    if not hasattr(u, "P"):
        raise GymnasiumConversionError(
            f"{name} has no transition table `P` (env.unwrapped.P); only environments that "
            "describe their dynamics as P[s][a] = [(prob, next_state, reward, terminated), ...] "
            "can be converted"
        )
    if getattr(u, "fickle_passenger", False) and float(getattr(u, "fickle_probability", 1.0)) > 0:
        raise GymnasiumConversionError(
            f"{name} was made with fickle_passenger=True (fickle_probability = "
            f"{float(getattr(u, 'fickle_probability', float('nan')))!r}): with that probability, "
            "drawn once at reset(), its step() changes the destination the first time the taxi "
            "moves with the passenger on board, so the law depends on the episode's history and "
            "is not described by P (which holds only the rainy/deterministic moves); make it "
            "with fickle_passenger=False"
        )
    obs_space, act_space = env.observation_space, env.action_space
    if not (isinstance(obs_space, gym.spaces.Discrete) and isinstance(act_space, gym.spaces.Discrete)):
        raise GymnasiumConversionError(
            f"{name} needs Discrete observation and action spaces, got {obs_space} and {act_space}"
        )
    S, A = int(obs_space.n), int(act_space.n)
    if int(obs_space.start) != 0 or int(act_space.start) != 0:
        raise GymnasiumConversionError(f"{name}: Discrete spaces must start at 0")
    table = u.P
    rows, cols, vals = [], [], []
    Rsum = np.zeros((S, A))
    flags = []  # (state, next state, terminated) of every entry
    for s in range(S):
        try:
            per_action = table[s]
        except (KeyError, IndexError, TypeError):
            raise GymnasiumConversionError(f"{name}: P has no entry for state {s}") from None
        for a in range(A):
            try:
                entries = per_action[a]
            except (KeyError, IndexError, TypeError):
                raise GymnasiumConversionError(f"{name}: P[{s}] has no entry for action {a}") from None
            if len(entries) == 0:
                raise GymnasiumConversionError(f"{name}: P[{s}][{a}] is empty")
            for e in entries:
                try:
                    p, s2, r, done = e[0], e[1], e[2], e[3]
                    p, r, s2 = float(p), float(r), int(s2)
                except (TypeError, ValueError, IndexError):
                    raise GymnasiumConversionError(
                        f"{name}: P[{s}][{a}] entry {e!r} is not (prob, next_state, reward, terminated)"
                    ) from None
                if not 0 <= s2 < S:
                    raise GymnasiumConversionError(f"{name}: P[{s}][{a}] entry {e!r}: next state {s2} out of range [0, {S})")
                if not (np.isfinite(p) and p >= 0):
                    raise GymnasiumConversionError(f"{name}: P[{s}][{a}] entry {e!r}: probability {p!r} must be finite and >= 0")
                if not np.isfinite(r):
                    raise GymnasiumConversionError(f"{name}: P[{s}][{a}] entry {e!r}: reward {r!r} must be finite")
                rows.append(s * A + a)
                cols.append(s2)
                vals.append(p)
                Rsum[s, a] += p * r
                flags.append((s, s2, bool(done)))
    if initial is None:
        if not hasattr(u, "initial_state_distrib"):
            raise GymnasiumConversionError(f"{name} has no initial_state_distrib; pass initial=")
        initial = np.asarray(u.initial_state_distrib, dtype=np.float64)
    # Terminal states are those entered with terminated=True from a state the agent can
    # actually occupy: reachable from the initial support through non-terminal entries.
    # Entries out of terminal or unreachable states are never executed, so only reachable
    # states must agree on termination.
    out = {}
    for s, s2, d in flags:
        out.setdefault(s, []).append((s2, d))
    if isinstance(initial, (numbers.Integral, np.integer)):
        start = [int(initial)]
    else:
        start = [int(x) for x in np.flatnonzero(np.asarray(initial, dtype=np.float64) > 0)]
    reach, stack, term_set = set(start), list(start), set()
    while stack:
        s = stack.pop()
        for s2, d in out.get(s, ()):
            if d:
                term_set.add(s2)
            elif s2 not in reach:
                reach.add(s2)
                stack.append(s2)
    both = sorted(term_set & reach)
    if both:
        src = next(s for s, s2, d in flags if s2 == both[0] and not d and s in reach)
        raise GymnasiumConversionError(
            f"{name}: state {both[0]} is entered with terminated=True from a reachable state but "
            f"with terminated=False from state {src}, so termination is not a property of the "
            "state and cannot be made absorbing"
        )
    terminal = np.array(sorted(term_set), dtype=np.int64)
    Pcsr = sp.csr_matrix((np.asarray(vals, float), (np.asarray(rows), np.asarray(cols))), shape=(S * A, S))
    Pcsr.sum_duplicates()
    if terminal.size:
        keep = np.ones(S * A, dtype=bool)
        keep[(terminal[:, None] * A + np.arange(A)[None, :]).ravel()] = False
        Pcsr = sp.csr_matrix(sp.diags(keep.astype(float)) @ Pcsr)
        loops = sp.csr_matrix(
            (np.ones(terminal.size * A), ((terminal[:, None] * A + np.arange(A)).ravel(),
                                          np.repeat(terminal, A))), shape=(S * A, S))
        Pcsr = sp.csr_matrix(Pcsr + loops)
        Pcsr.eliminate_zeros()
        Rsum[terminal] = 0.0
    use_sparse = S > 256 if sparse is None else bool(sparse)
    P = Pcsr if use_sparse else Pcsr.toarray().reshape(S, A, S)
    default_h = getattr(getattr(env, "spec", None), "max_episode_steps", None) or \
        getattr(getattr(u, "spec", None), "max_episode_steps", None) or getattr(u, "horizon", None)
    if gamma is None and horizon is None and default_h is None:
        raise ValueError(f"{name} has no time limit (spec.max_episode_steps); pass horizon= or gamma=")
    return make_mdp(P, Rsum, horizon=horizon, gamma=gamma, initial=initial,
                    default_horizon=default_h, family="from_gymnasium")


def _check_current_id(gym, env_id: str) -> None:
    """Refuse ids that are not registered in the installed gymnasium *before* calling
    ``gymnasium.make`` (which would first log a deprecation warning for an outdated version,
    and construct it when that version is still registered).

    ``Taxi-v3`` no longer exists in gymnasium 1.x (``Taxi-v4`` replaced it); an outdated but
    still registered version is refused as well, so the dynamics being converted are always
    those of the current id. Unversioned ids are left to gymnasium (it resolves them to the
    latest version, with a warning). Ids of the form ``"module:Name-vN"`` import ``module``
    first, as ``gymnasium.make`` does.
    """
    from gymnasium.envs.registration import find_highest_version, get_env_id, parse_env_id, registry

    module, _, name_part = env_id.rpartition(":")
    if module:
        import importlib

        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            raise GymnasiumConversionError(f"cannot make Gymnasium env {env_id!r}: {exc}") from None
    try:
        ns, name, version = parse_env_id(name_part)
    except gym.error.Error as exc:
        raise GymnasiumConversionError(f"cannot make Gymnasium env {env_id!r}: {exc}") from None
    if version is None:
        return
    latest = find_highest_version(ns, name)
    current = get_env_id(ns, name, latest) if latest is not None else None
    if name_part not in registry:
        hint = (f"the current version is {current!r}" if current is not None
                else "no version of it is registered")
        raise GymnasiumConversionError(
            f"Gymnasium env {env_id!r} does not exist in the installed gymnasium "
            f"{gym.__version__} ({hint}); it was deprecated or never registered, so it is "
            "refused rather than constructed"
        )
    if latest is not None and version < latest:
        raise GymnasiumConversionError(
            f"Gymnasium env {env_id!r} is out of date in gymnasium {gym.__version__} (the "
            f"current version is {current!r}); from_gymnasium converts only current ids -- make "
            "the old version yourself and pass the environment object if you really want it"
        )


def _make_env_class():
    gym = _gymnasium()

    class MDPEnv(gym.Env):
        r"""A core MDP as a Gymnasium environment (made by :func:`to_gymnasium`).

        Observations and actions are ``Discrete(S)`` / ``Discrete(A)`` integers. ``reset``
        draws :math:`s_0 \sim` ``mdp.initial``; ``step(a)`` draws
        :math:`s' \sim P_h(\cdot|s,a)` (inverse-CDF sampling with ``self.np_random``) and a
        reward with mean ``R_h(s, a)`` from the model's reward law (deterministic, Bernoulli
        or Gaussian). Episodic models stop with ``truncated=True`` after ``H`` steps (the
        horizon is a time limit: the state carries no clock); discounted models never end.
        Stage-dependent models raise ``RuntimeError`` on a step after truncation (there is no
        kernel for stage ``H``); call ``reset()``. ``info["stage"]`` is the number of steps
        taken. For stationary models the
        environment also exposes a Gymnasium-style ``P`` table (mean rewards, never
        ``terminated``), ``initial_state_distrib`` and ``horizon``, so
        :func:`from_gymnasium` round-trips it.
        """

        metadata = {"render_modes": []}

        def __init__(self, mdp):
            super().__init__()
            self.mdp = mdp
            self.render_mode = None
            self.observation_space = gym.spaces.Discrete(mdp.S)
            self.action_space = gym.spaces.Discrete(mdp.A)
            self.horizon = mdp.horizon
            self.initial_state_distrib = np.array(mdp.initial)
            self._init_cdf = np.cumsum(mdp.initial)
            episodic = isinstance(mdp, EpisodicMDP)
            # one (S, A, S) kernel when it does not depend on the stage (never the H-fold
            # broadcast: its cumulative sum would materialise H copies), one per stage
            # otherwise; likewise for the mean rewards
            self._stage_P = episodic and mdp.stage_dependent_P
            self._stage_R = episodic and mdp.stage_dependent_R
            self._stationary = not (self._stage_P or self._stage_R)
            Pd = np.asarray(mdp.dense_P())
            self._cdf = np.cumsum(Pd if self._stage_P else Pd[None], axis=-1)
            self._R = np.asarray(mdp.R) if self._stage_R else np.asarray(mdp.R)[None]
            if self._stationary:
                P0, R0 = Pd, self._R[0]
                self.P = {s: {a: [(float(P0[s, a, t]), int(t), float(R0[s, a]), False)
                                  for t in np.flatnonzero(P0[s, a])] for a in range(mdp.A)}
                          for s in range(mdp.S)}
            self._s = None
            self._h = 0

        @staticmethod
        def _draw(cdf, u):
            return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), cdf.size - 1))

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self._s = self._draw(self._init_cdf, self.np_random.random())
            self._h = 0
            return self._s, {"stage": 0}

        def step(self, action):
            if self._s is None:
                raise RuntimeError("call reset() before step()")
            if not self.action_space.contains(action):
                raise ValueError(f"action {action!r} is not in {self.action_space}")
            a = int(action)
            if self._stage_P or self._stage_R:
                if self._h >= self.horizon:
                    raise RuntimeError(f"the episode ended after H = {self.horizon} steps "
                                       "(truncated=True); call reset() before step()")
            s = self._s
            mean = float(self._R[self._h if self._stage_R else 0, s, a])
            s2 = self._draw(self._cdf[self._h if self._stage_P else 0, s, a], self.np_random.random())
            noise = self.mdp.reward_noise
            if noise == "bernoulli":
                r = float(self.np_random.random() < mean)
            elif noise == "gaussian":
                r = mean + self.mdp.reward_std * float(self.np_random.standard_normal())
            else:
                r = mean
            self._s = s2
            self._h += 1
            truncated = self.horizon is not None and self._h >= self.horizon
            return s2, r, False, bool(truncated), {"stage": self._h}

    return MDPEnv


_ENV_CLASS = None


def to_gymnasium(mdp):
    """Wrap a core MDP as a ``gymnasium.Env`` whose ``step`` samples exactly the MDP's law.

    The returned environment passes ``gymnasium.utils.env_checker.check_env`` (tested);
    see the class docstring of the returned object for the exact sampling rules.

    Parameters
    ----------
    mdp : DiscountedMDP or EpisodicMDP (dense or sparse, stationary or stage-dependent)
    """
    global _ENV_CLASS
    mdp = as_mdp(mdp)
    if _ENV_CLASS is None:
        _ENV_CLASS = _make_env_class()
    return _ENV_CLASS(mdp)

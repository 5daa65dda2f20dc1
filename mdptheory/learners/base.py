r"""The learner protocol shared by every exploration algorithm (see ``docs/learner_protocol.md``).

A learner is driven by :func:`mdptheory.run` in one of two ways.

**Teaching path (plain Python).** Per run the engine calls ``prepare(mdp, episodes)`` once,
then for every seed ``reset(S, A, H, rng)`` and, for ``k = 0..K-1``::

    begin_episode(k)
    pi_k = policy()          # (H, S) int or (H, S, A) float: the policy played in episode k
                             # -> exact pseudo-regret  E_{s1~rho}[V*_1(s1) - V^{pi_k}_1(s1)]
    s = draw initial state
    for h in 0..H-1:
        a = act(h, s)        # must follow pi_k (the engine checks it)
        r, s' = environment step
        observe(h, s, a, r, s')
        s = s'
    end_episode()

Stages are 0-based (``h = 0..H-1``; the papers' ``h = 1..H``). Q-learning-type methods update
``Q_h`` only at step ``h``, after acting at step ``h``, so the policy in force in episode ``k`` is
the greedy policy of the Q-table at the *start* of the episode.

**Compiled path.** ``compiled(mdp, episodes)`` returns a :class:`CompiledLoop`: a numba
function that runs all ``K`` episodes of one seed (plan, act, sample, update, evaluate the
played policy exactly) with the signature documented there. It must make the same random
draws in the same order as the plain-Python methods, so both paths give the same trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.core.validation import check_delta, check_int
from mdptheory.kernels.sampling import categorical_ref, single_segment

__all__ = [
    "Learner",
    "CompiledLoop",
    "RegretBound",
    "regret_bound",
    "trivial_cap",
    "episode_counts",
    "NORMALIZATIONS",
    "reward_bounds",
    "max_total_reward",
    "check_normalization",
]

#: Reward normalisations used by the regret theorems (proofs_notes/regret_decomposition.md).
NORMALIZATIONS = {
    "N1": "per-step rewards in [0, 1]",
    "N2": "rewards >= 0 and total reward of an episode <= 1 almost surely",
    "N3": "rewards >= 0 and total reward of an episode <= H almost surely",
}


@dataclass(frozen=True)
class RegretBound:
    r"""A theorem's regret bound evaluated at ``(S, A, H, K, delta)``.

    Attributes
    ----------
    value : float or ndarray
        The raw bound ``leading + lower_order`` (broadcast over an array ``K``), never capped.
    leading, lower_order : float or ndarray
        The two parts of the bound.
    normalization : str
        ``"N1"``, ``"N2"`` or ``"N3"`` (the scale the bound is stated in).
    setting : str
        ``"HOM"`` (one kernel shared by all stages) or ``"INHOM"`` (one per stage).
    theorem : str
        Which statement is instantiated (paper and theorem number).
    explicit_constants : bool
        True when every constant is the paper's; False when the paper gives an
        ``O(.)``-bound and the constants here are set to 1 (then the curve shows the rate,
        not a certified bound).
    holds_with_probability : float or None
        ``1 - delta`` for high-probability bounds, ``None`` for expectation bounds.
    trivial_cap : float or ndarray or None
        The regret no learner can exceed, in the same reward scale: ``H K`` under N1 and
        N3, ``K`` under N2. A bound at or above it says nothing (:attr:`vacuous`).
    """

    value: Any
    leading: Any
    lower_order: Any
    normalization: str
    setting: str
    theorem: str
    explicit_constants: bool
    holds_with_probability: float | None = None
    trivial_cap: Any = None

    @property
    def vacuous(self):
        """``value >= trivial_cap`` (elementwise for an array ``K``)."""
        if self.trivial_cap is None:
            return np.zeros(np.shape(self.value), dtype=bool) if np.ndim(self.value) else False
        out = np.asarray(self.value) >= np.asarray(self.trivial_cap)
        return out if out.ndim else bool(out)

    @property
    def capped(self):
        """``min(value, trivial_cap)``: the best statement the theorem and the cap make together."""
        if self.trivial_cap is None:
            return self.value
        return np.minimum(self.value, self.trivial_cap)

    def __float__(self) -> float:
        return float(self.value)


def episode_counts(K):
    """``K`` (a number or an array of episode counts, each ``>= 1``) as float / float array."""
    K = np.asarray(K, dtype=float)
    if np.any(~(K >= 1)):
        raise ValueError(f"K must be >= 1, got {K!r}")
    return K if K.ndim else float(K)


def trivial_cap(H: int, K, normalization: str | None):
    """Largest possible regret after ``K`` episodes: ``H K`` (N1, N3, or no normalisation) or
    ``K`` (N2: an episode's total reward is in ``[0, 1]``)."""
    return K if normalization == "N2" else H * K


def regret_bound(leading, lower_order, *, H: int, K, normalization: str, setting: str, theorem: str,
                 explicit_constants: bool, delta: float | None) -> RegretBound:
    """A :class:`RegretBound` with ``value = leading + lower_order`` (raw) and the trivial cap
    of ``normalization``; ``delta=None`` marks a bound in expectation, ``delta=0`` one that holds surely."""
    lower_order = lower_order + 0.0 * leading          # broadcast to the shape of K
    return RegretBound(value=leading + lower_order, leading=leading, lower_order=lower_order,
                       normalization=normalization, setting=setting, theorem=theorem,
                       explicit_constants=explicit_constants,
                       holds_with_probability=None if delta is None else 1.0 - float(delta),
                       trivial_cap=trivial_cap(H, K, normalization))


@dataclass(frozen=True)
class CompiledLoop:
    r"""How a learner exposes its compiled episode loop.

    ``loop`` is an ``@njit(cache=True, nogil=True)`` function with the signature::

        loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
             regret_out, returns_out) -> None

    * ``P (HP, S, A, S)``, ``R (HR, S, A)``: true model, ``HP, HR`` in ``{1, H}`` (1 =
      stationary; index with :func:`mdptheory.kernels.sampling.stage`). Read-only.
    * ``initial (S,)``, ``noise`` (int code), ``noise_std``: initial law and reward law.
    * ``v_star``: :math:`\sum_s \rho(s) V^*_1(s)` computed by the engine.
    * ``K``: episodes; ``eval_every``: evaluate the played policy in episodes
      ``k % eval_every == 0`` (0 = never); ``rng``: the seed's ``numpy.random.Generator``.
    * ``params``: :attr:`params` (hyper-parameters and precomputed constants). The loop must
      not write into them: several seeds may run concurrently in threads with the same
      ``params``; all learner state is allocated inside the loop.
    * ``regret_out (K,)``: the engine pre-fills NaN; the loop writes the exact
      pseudo-regret of evaluated episodes (use ``record_regret_det`` / ``_stoch``).
    * ``returns_out (K,)``: realised return of every episode.

    The environment step must be :func:`mdptheory.kernels.sampling.env_step` and the
    initial state ``categorical(rng, initial)`` drawn after planning and evaluation, so that
    the draws match the teaching path.
    """

    loop: Callable
    params: tuple = field(default_factory=tuple)

    @classmethod
    def on_one_segment(cls, ns_loop: Callable, params: tuple) -> CompiledLoop:
        """The stationary protocol's loop of a loop written for the non-stationary protocol
        (``mdptheory.regret.nonstationary``): the model as one model and one segment
        (:func:`mdptheory.kernels.sampling.single_segment`), then ``ns_loop``."""

        def loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
            Ps, Rs, inits, starts, models, v_stars = single_segment(P, R, initial, v_star)
            ns_loop(Ps, Rs, inits, starts, models, noise, noise_std, v_stars, K, eval_every, rng, params,
                    regret_out, returns_out)

        return cls(loop, params)


def reward_bounds(mdp: EpisodicMDP) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest reward a single step can *emit*, ``(H, S, A)`` arrays each,
    under the MDP's reward law (Bernoulli: 0/1 according to the mean; Gaussian with
    positive std: unbounded)."""
    R = np.asarray(mdp.R_by_stage(), dtype=float)
    if mdp.reward_noise == "bernoulli":
        return np.where(R < 1.0, 0.0, 1.0), np.where(R > 0.0, 1.0, 0.0)
    if mdp.reward_noise == "gaussian" and mdp.reward_std > 0:
        return np.full(R.shape, -np.inf), np.full(R.shape, np.inf)
    return R.copy(), R.copy()


def max_total_reward(mdp: EpisodicMDP) -> float:
    r"""Largest total reward of any episode that has positive probability:
    :math:`W_H=0`, :math:`W_h(s)=\max_a[\bar r_h(s,a)+\max_{s':P_h(s'|s,a)>0}W_{h+1}(s')]`,
    maximised over the support of the initial law (exact almost-sure bound)."""
    _, hi = reward_bounds(mdp)
    Pst = mdp.P_by_stage()
    H, S = mdp.H, mdp.S
    W = np.zeros(S)
    for h in range(H - 1, -1, -1):
        supp = np.asarray(Pst[h]) > 0
        nxt = np.where(supp, W[None, None, :], -np.inf).max(axis=2)
        W = (hi[h] + nxt).max(axis=1)
    return float(W[np.asarray(mdp.initial) > 0].max())


def check_normalization(mdp: EpisodicMDP, normalization: str | None, who: str = "learner") -> None:
    """Raise ``ValueError`` if the rewards ``mdp`` can emit violate ``normalization``
    (``"N1"``, ``"N2"``, ``"N3"`` or ``None`` = no assumption)."""
    if normalization is None:
        return
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {tuple(NORMALIZATIONS)} or None, got {normalization!r}")
    lo, hi = reward_bounds(mdp)
    if np.isneginf(lo).any() or np.isposinf(hi).any():
        raise ValueError(
            f"{who} assumes {normalization} ({NORMALIZATIONS[normalization]}) but the MDP has "
            f"Gaussian rewards (reward_std = {mdp.reward_std}), which are unbounded"
        )
    neg = lo < 0
    if neg.any():
        h, s, a = (int(i) for i in np.argwhere(neg)[0])
        raise ValueError(
            f"{who} assumes {normalization} ({NORMALIZATIONS[normalization]}) but a reward at "
            f"(h={h}, s={s}, a={a}) can be {lo[h, s, a]!r} < 0"
        )
    if normalization == "N1":
        big = hi > 1.0
        if big.any():
            h, s, a = (int(i) for i in np.argwhere(big)[0])
            raise ValueError(
                f"{who} assumes N1 (per-step rewards in [0, 1]) but a reward at (h={h}, s={s}, "
                f"a={a}) can be {hi[h, s, a]!r} > 1; rescale the rewards"
            )
        return
    cap = 1.0 if normalization == "N2" else float(mdp.H)
    tot = max_total_reward(mdp)
    if tot > cap * (1 + 1e-12):
        raise ValueError(
            f"{who} assumes {normalization} ({NORMALIZATIONS[normalization]}) but an episode "
            f"can collect a total reward of {tot!r} > {cap:g}; rescale the rewards (e.g. divide "
            f"by H = {mdp.H})"
        )


class Learner:
    r"""Base class of every learner (teaching protocol + optional compiled loop).

    Conventions: hyper-parameters are public attributes set in ``__init__`` (they are what
    :meth:`config` reports); per-run state lives in attributes starting with ``_``.
    Subclasses implement :meth:`reset`, :meth:`policy`, :meth:`observe` and :meth:`bound`,
    and usually :meth:`act` (the default reads the table returned by :meth:`policy`, which is
    correct but slow) and :meth:`begin_episode` (planning). Class attributes:

    * ``name``: short display name;
    * ``normalization``: ``"N1"``, ``"N2"``, ``"N3"`` or ``None`` (checked by
      :meth:`prepare` against the MDP);
    * ``uses_features``: ``True`` for learners that read a feature map (linear MDPs):
      :func:`mdptheory.run` then passes a ``LinearMDP`` / ``FeaturizedMDP`` itself to
      :meth:`prepare` and :meth:`compiled` (every other learner gets its tabular model);
    * ``homogeneous``: ``"P"`` or ``"P and R"`` when the learner's theorem assumes that these
      are the same at every stage (HOM; checked by :meth:`prepare`), ``None`` otherwise.
    """

    name: ClassVar[str] = "learner"
    normalization: ClassVar[str | None] = "N1"
    uses_features: ClassVar[bool] = False
    homogeneous: ClassVar[str | None] = None

    # -- run-level hooks ---------------------------------------------------------------
    def prepare(self, mdp: EpisodicMDP, episodes: int) -> None:
        """Called once per run before any :meth:`reset`: checks the reward normalisation
        (``ValueError`` if violated) and records ``episodes`` (``K``, for log terms such as
        ``ln(SAT/delta)`` with ``T = KH``). Learners whose theorem assumes known mean rewards
        may read ``mdp.R`` here; nothing else about the model may be used."""
        check_normalization(mdp, self.normalization, type(self).__name__)
        if self.homogeneous is not None:
            self._require_stationary(mdp, rewards=self.homogeneous == "P and R")
        self._K = int(episodes)

    def reset(self, S: int, A: int, H: int, rng: np.random.Generator) -> None:
        """Start a fresh run (one seed) with ``S`` states, ``A`` actions and horizon ``H``;
        ``rng`` is the seed's generator, shared with the environment. The base version stores
        ``_S, _A, _H, _rng``; subclasses call ``super().reset(S, A, H, rng)`` first."""
        self._S, self._A, self._H, self._rng = int(S), int(A), int(H), rng

    # -- episode hooks ---------------------------------------------------------------
    def begin_episode(self, k: int) -> None:
        """Called at the start of episode ``k`` (0-based); plan here."""

    def policy(self) -> np.ndarray:
        """The policy played in the current episode: ``(H, S)`` int64 (deterministic) or
        ``(H, S, A)`` float64 (stochastic). Must not consume random numbers. Default: the
        table ``self._pi`` that :meth:`begin_episode` planned (greedy learners need nothing
        more)."""
        pi = getattr(self, "_pi", None)
        if pi is None:
            raise RuntimeError(f"{type(self).__name__}.policy() called before begin_episode()")
        return pi

    def act(self, h: int, s: int) -> int:
        """Action at stage ``h`` in state ``s``: the entry of the :meth:`policy` table
        (stochastic tables are sampled with ``categorical_ref(self._rng, row)``)."""
        pi = self.policy()
        if pi.ndim == 2:
            return int(pi[h, s])
        return categorical_ref(self._rng, pi[h, s])

    def observe(self, h: int, s: int, a: int, r: float, s_next: int) -> None:
        """Transition ``(s, a) -> s_next`` with reward ``r`` at stage ``h``."""

    def end_episode(self) -> None:
        """Called after the ``H``-th observation of the episode."""

    # -- theory and configuration ------------------------------------------------------
    def bound(self, S: int, A: int, H: int, K, delta: float | None = None) -> RegretBound:
        """The regret bound of the theorem the defaults instantiate (``delta`` defaults to
        the learner's own)."""
        raise NotImplementedError

    def _bound_args(self, S, A, H, K, delta):
        """Validated ``(K, delta)`` for :meth:`bound`: ``S, A, H`` positive integers, ``K >= 1``
        (a number or an array, returned as float / float array) and ``delta`` in ``(0, 1)``,
        defaulting to ``self.delta``."""
        for n, v in (("S", S), ("A", A), ("H", H)):
            check_int(n, v, 1)
        if delta is None:
            delta = getattr(self, "delta", None)
        return episode_counts(K), (None if delta is None else check_delta(delta))

    def _require_stationary(self, mdp: EpisodicMDP, *, rewards: bool = False) -> None:
        """``ValueError`` unless the transitions (and, with ``rewards``, the mean rewards) are
        the same at every stage -- the HOM setting of the learner's theorem."""
        if mdp.stage_dependent_P or (rewards and mdp.stage_dependent_R):
            what = "P and R" if rewards else "P"
            raise ValueError(
                f"{type(self).__name__} assumes a time-homogeneous {what} (HOM) but the MDP has a "
                f"stage-dependent {'P' if mdp.stage_dependent_P else 'R'}; augment the state "
                f"with the stage index (S -> S*H)"
            )

    def config(self) -> dict:
        """Hyper-parameters (public attributes) plus the class name."""
        out = {"learner": type(self).__name__}
        for k, v in vars(self).items():
            if not k.startswith("_"):
                out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    # -- compiled path ------------------------------------------------------------------
    def compiled(self, mdp: EpisodicMDP, episodes: int) -> CompiledLoop | None:
        """The compiled loop of this learner (``None`` = teaching path only). Called after
        :meth:`prepare`."""
        return None

    def __repr__(self) -> str:
        cfg = self.config()
        cfg.pop("learner", None)
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in cfg.items()) + ")"



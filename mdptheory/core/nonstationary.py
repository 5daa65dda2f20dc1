r"""Non-stationary episodic MDPs: a sequence of episodic models over ``K`` episodes.

Episode ``k = 0..K-1`` is played on its own model :math:`M_k=(P^k_h, r^k_h)_{h<H}`; all models
share ``S``, ``A``, ``H`` and the reward law (``reward_noise``, ``reward_std``), and each has
its own initial distribution (an oblivious adversary may move the initial state). The
sequence is stored as a few *distinct* models plus a run-length encoded episode -> model
index (segment starts and model ids), so a long run never stores one kernel per episode:

* a piecewise-constant schedule ``[(0, M_a), (1000, M_b), (2000, M_a), ...]``
  (:class:`NonStationaryMDP` itself; the same model object may appear several times);
* distinct models and a per-episode index (:meth:`NonStationaryMDP.from_index`);
* a linear drift from ``M_a`` to ``M_b`` (:meth:`NonStationaryMDP.drift`), quantised into
  ``levels`` distinct mixtures :math:`(1-w_j)M_a+w_jM_b`, :math:`w_j=j/(\text{levels}-1)`;
  episode ``k`` plays level :math:`j=\mathrm{round}(k(\text{levels}-1)/(K-1))`. For a
  monotone drift the variation budget of the quantised sequence equals that of the
  unquantised one (the differences telescope), so the quantisation changes the dynamics by
  at most half a level, and the budget not at all.

Variation budgets (Mao, Zhang, Zhu, Simchi-Levi & Başar 2021, Section 2), over the
consecutive pairs of episodes ``k, k+1`` with ``first <= k < last``:

.. math::
    \Delta_r=\sum_k\sum_h\sup_{s,a}|r^k_h(s,a)-r^{k+1}_h(s,a)|,\qquad
    \Delta_p=\sum_k\sum_h\sup_{s,a}\|P^k_h(\cdot|s,a)-P^{k+1}_h(\cdot|s,a)\|_1,\qquad
    \Delta=\Delta_r+\Delta_p

(mean rewards; stationary parts of a model count at every stage). Only segment boundaries
with two different models contribute. Provenance: ``proofs_notes/dynamic_regret.md``.

**Linear sequences.** The models may instead all be :class:`~mdptheory.core.LinearMDP` with
one shared feature map :math:`\phi` (known to the learner; :math:`\mu^k_h` and
:math:`\theta^k_h` drift, as in Zhou, Chen, Varshney & Jagmohan, TMLR). They are kept
(:attr:`NonStationaryMDP.linear_models`) next to their tabular models (:attr:`models`, what
the engine samples and evaluates), and :meth:`NonStationaryMDP.variation` also reports the
linear budgets over the same consecutive pairs (no wrap-around term from the last episode
back to the first):

.. math::
    B_\theta=\sum_k\sum_h\|\theta^k_h-\theta^{k+1}_h\|_2,\qquad
    B_\mu=\sum_k\sum_h\|\mu^k_h-\mu^{k+1}_h\|_F,\qquad B=B_\theta+B_\mu,

with :math:`\mu_h` the ``d x S`` matrix (Frobenius norm of the difference, the norm of the
authors' public experiment code; their paper's norm on the measures is recalled, see
``proofs_notes/lsvi_ucb_restart.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mdptheory.core.linear import LinearMDP
from mdptheory.core.mdp import EpisodicMDP, _Frozen
from mdptheory.core.validation import check_int

__all__ = ["NonStationaryMDP", "VariationBudget", "model_distance", "linear_model_distance"]


@dataclass(frozen=True)
class VariationBudget:
    r"""Exact variation budgets of a model sequence over episodes ``first..last``.

    Attributes
    ----------
    delta_r, delta_p : float
        :math:`\Delta_r` (sup-norm of mean-reward changes) and :math:`\Delta_p` (L1 norm of
        transition changes, sup over ``(s, a)``), summed over stages and consecutive episodes.
    delta : float
        :math:`\Delta=\Delta_r+\Delta_p`.
    delta_r_by_stage, delta_p_by_stage : tuple of float
        The same sums kept per stage ``h = 0..H-1`` (they add up to ``delta_r``, ``delta_p``).
    n_changes : int
        Consecutive episode pairs whose models differ (segment boundaries in the range).
    first, last : int
        The episode range: pairs ``(k, k+1)`` with ``first <= k < last``.
    b_theta, b_mu : float or None
        Linear sequences only (else ``None``): :math:`B_\theta` (L2 norm of the changes of
        :math:`\theta_h`) and :math:`B_\mu` (Frobenius norm of the changes of the ``d x S``
        matrix :math:`\mu_h`), summed over stages and the same consecutive pairs.
    b_theta_by_stage, b_mu_by_stage : tuple of float or None
        The same sums per stage.
    """

    delta_r: float
    delta_p: float
    delta: float
    delta_r_by_stage: tuple
    delta_p_by_stage: tuple
    n_changes: int
    first: int
    last: int
    b_theta: float | None = None
    b_mu: float | None = None
    b_theta_by_stage: tuple | None = None
    b_mu_by_stage: tuple | None = None

    @property
    def b(self) -> float | None:
        """:math:`B=B_\\theta+B_\\mu` (``None`` for a sequence that is not linear)."""
        return None if self.b_theta is None else self.b_theta + self.b_mu


def model_distance(m1: EpisodicMDP, m2: EpisodicMDP) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-stage distances between two episodic models with the same ``S, A, H``:
    ``(dr, dp)``, each ``(H,)``, with :math:`dr_h=\max_{s,a}|r_h-r'_h|` and
    :math:`dp_h=\max_{s,a}\|P_h(\cdot|s,a)-P'_h(\cdot|s,a)\|_1` (dense arithmetic)."""
    if m1 is m2:
        z = np.zeros(m1.H)
        return z, z.copy()
    dr = np.abs(np.asarray(m1.R_by_stage()) - np.asarray(m2.R_by_stage())).max(axis=(1, 2))
    dp = np.abs(np.asarray(m1.P_by_stage()) - np.asarray(m2.P_by_stage())).sum(axis=3).max(axis=(1, 2))
    return dr, dp


def linear_model_distance(l1: LinearMDP, l2: LinearMDP) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-stage distances between two linear models with the same ``S, A, d, H``:
    ``(dtheta, dmu)``, each ``(H,)``, with :math:`d\theta_h=\|\theta^1_h-\theta^2_h\|_2` and
    :math:`d\mu_h=\|\mu^1_h-\mu^2_h\|_F` (``d x S`` matrices; stationary parameters count
    at every stage)."""
    H, d, S = l1.H, l1.d, l1.S
    if l1 is l2:
        z = np.zeros(H)
        return z, z.copy()
    th = np.broadcast_to(np.asarray(l1.theta), (H, d)) - np.broadcast_to(np.asarray(l2.theta), (H, d))
    mu = np.broadcast_to(np.asarray(l1.mu), (H, d, S)) - np.broadcast_to(np.asarray(l2.mu), (H, d, S))
    return np.sqrt((th * th).sum(axis=1)), np.sqrt((mu * mu).sum(axis=(1, 2)))


def _mix(x: np.ndarray, y: np.ndarray, w: float) -> np.ndarray:
    """:math:`(1-w)x+wy`, exactly ``x`` where ``x == y`` (so the parts the two endpoints share
    do not drift by rounding)."""
    return np.where(x == y, x, (1.0 - w) * x + w * y)


def _split_linear(models, what: str) -> tuple:
    """``(tabular models, linear models or None)``: a sequence is all ``LinearMDP`` (one
    shared feature map; converted with ``to_mdp()``) or all ``EpisodicMDP``."""
    models = tuple(models)
    if not models:
        raise ValueError(f"{what} is empty: a non-stationary MDP needs at least one model")
    lin = [isinstance(m, LinearMDP) for m in models]
    if not any(lin):
        return _check_models(models, what), None
    if not all(lin):
        i = lin.index(not lin[0])
        raise TypeError(f"{what}[{i}] ({type(models[i]).__name__}) and {what}[0] ({type(models[0]).__name__}) "
                        "are of different kinds: the models must all be LinearMDP (one feature map) or all "
                        "EpisodicMDP")
    tab = _check_models(tuple(m.to_mdp() for m in models), what)
    phi0 = np.asarray(models[0].stage_phi())
    for i, m in enumerate(models[1:], start=1):
        if m.d != models[0].d or not np.array_equal(np.asarray(m.stage_phi()), phi0):
            raise ValueError(f"{what}[{i}] has a different feature map from {what}[0]: the features of a "
                             "non-stationary linear MDP are known and fixed (only mu_h and theta_h change)")
    return tab, models


def _check_models(models, what: str) -> tuple:
    models = tuple(models)
    if not models:
        raise ValueError(f"{what} is empty: a non-stationary MDP needs at least one model")
    for i, m in enumerate(models):
        if not isinstance(m, EpisodicMDP):
            raise TypeError(f"{what}[{i}] must be an EpisodicMDP, got {type(m).__name__} (or every model a "
                            "LinearMDP)")
    ref = models[0]
    for i, m in enumerate(models[1:], start=1):
        for name in ("S", "A", "H"):
            if getattr(m, name) != getattr(ref, name):
                raise ValueError(f"{what}[{i}] has {name} = {getattr(m, name)}, but {what}[0] has "
                                 f"{name} = {getattr(ref, name)}: every model must share S, A and H")
        if m.reward_noise != ref.reward_noise or m.reward_std != ref.reward_std:
            raise ValueError(f"{what}[{i}] has reward law ({m.reward_noise!r}, std {m.reward_std!r}), but "
                             f"{what}[0] has ({ref.reward_noise!r}, std {ref.reward_std!r}): the reward law "
                             "must be the same in every episode")
    return models


def _drift_index(K: int, L: int) -> np.ndarray:
    """Level of episode ``k`` in a drift over ``K > 1`` episodes quantised into ``L`` levels."""
    k = np.arange(K, dtype=np.int64)
    return (2 * k * (L - 1) + (K - 1)) // (2 * (K - 1))   # round(k (L-1) / (K-1)), halves up


class NonStationaryMDP(_Frozen):
    r"""A sequence of episodic models over ``episodes`` episodes (see the module docstring).

    Parameters
    ----------
    schedule : sequence of ``(first_episode, EpisodicMDP)`` or ``(first_episode, LinearMDP)``
        Piecewise-constant schedule: the model of ``schedule[i]`` is played from its first
        episode until the next entry's first episode (exclusive). First episodes are
        integers, the first one 0, strictly increasing and ``< episodes``. The same model
        object may appear several times (it is stored and solved once). Linear models (all
        of them, sharing one feature map) are kept next to their tabular models.
    episodes : int >= 1
        ``K``, the length of the sequence.

    Raises
    ------
    TypeError
        A schedule entry that is not a pair ``(int, EpisodicMDP)``.
    ValueError
        Naming the offending entry: models with different ``S``, ``A``, ``H`` or reward law,
        linear models with different feature maps, first episodes not starting at 0, not
        strictly increasing or ``>= episodes``.

    Notes
    -----
    Immutable. Other constructors: :meth:`from_index` (distinct models + per-episode index)
    and :meth:`drift` (quantised linear drift between two models).
    """

    __slots__ = ("_models", "_linear", "_starts", "_ids", "_K", "_pairs", "_frozen")

    def __init__(self, schedule, episodes: int):
        K = check_int("episodes", episodes, 1)
        try:
            entries = list(schedule)
        except TypeError:
            raise TypeError(f"schedule must be a sequence of (first_episode, EpisodicMDP) pairs, "
                            f"got {type(schedule).__name__}") from None
        if not entries:
            raise ValueError("schedule is empty: a non-stationary MDP needs at least one model")
        firsts, mods = [], []
        for i, e in enumerate(entries):
            if not (isinstance(e, (tuple, list)) and len(e) == 2):
                raise TypeError(f"schedule[{i}] must be a pair (first_episode, EpisodicMDP), got {e!r}")
            firsts.append(check_int(f"schedule[{i}] first episode", e[0], 0, K - 1))
            mods.append(e[1])
        if not any(isinstance(m, LinearMDP) for m in mods):
            _check_models(mods, "schedule model")
        if firsts[0] != 0:
            raise ValueError(f"schedule[0] starts at episode {firsts[0]}: the first entry must start at episode 0")
        for i in range(1, len(firsts)):
            if firsts[i] <= firsts[i - 1]:
                raise ValueError(f"schedule[{i}] starts at episode {firsts[i]}, not after schedule[{i - 1}] "
                                 f"(episode {firsts[i - 1]}): first episodes must be strictly increasing")
        distinct, ids = [], []
        for m in mods:
            for j, d in enumerate(distinct):
                if d is m:
                    ids.append(j)
                    break
            else:
                distinct.append(m)
                ids.append(len(distinct) - 1)
        tab, lin = _split_linear(distinct, "schedule model")
        self._init(tab, np.asarray(firsts, dtype=np.int64), np.asarray(ids, dtype=np.int64), K, lin)

    def _init(self, models, starts, ids, K, linear=None):
        keep = np.ones(len(starts), dtype=bool)          # merge neighbouring segments of one model
        keep[1:] = ids[1:] != ids[:-1]
        starts, ids = np.ascontiguousarray(starts[keep]), np.ascontiguousarray(ids[keep])
        starts.flags.writeable = False
        ids.flags.writeable = False
        object.__setattr__(self, "_models", models)
        object.__setattr__(self, "_linear", linear)
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_K", int(K))
        object.__setattr__(self, "_pairs", {})
        object.__setattr__(self, "_frozen", True)

    @classmethod
    def from_index(cls, models: Sequence[EpisodicMDP], index) -> "NonStationaryMDP":
        """Distinct ``models`` (all ``EpisodicMDP``, or all ``LinearMDP`` with one feature map)
        and ``index`` (``(K,)`` integers in ``[0, len(models))``): episode ``k`` plays
        ``models[index[k]]``. ``ValueError`` names the first bad entry."""
        models, linear = _split_linear(models, "models")
        idx = np.asarray(index)
        if idx.ndim != 1 or idx.size == 0:
            raise ValueError(f"index must be a non-empty 1-d array of model indices, got shape {idx.shape}")
        if idx.dtype == bool or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"index must hold integers, got dtype {idx.dtype}")
        bad = (idx < 0) | (idx >= len(models))
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"index[{k}] = {int(idx[k])} is not a model index in [0, {len(models)})")
        idx = idx.astype(np.int64)
        change = np.flatnonzero(np.diff(idx)) + 1
        starts = np.concatenate([[0], change]).astype(np.int64)
        obj = cls.__new__(cls)
        obj._init(models, starts, idx[starts], idx.size, linear)
        return obj

    @classmethod
    def drift(cls, model_a: EpisodicMDP, model_b: EpisodicMDP, episodes: int, *,
              levels: int = 101) -> "NonStationaryMDP":
        r"""Linear drift from ``model_a`` (episode 0) to ``model_b`` (episode ``K-1``), quantised
        into ``min(levels, K)`` distinct models :math:`(1-w_j)M_a+w_jM_b` (kernels, mean
        rewards and initial laws mixed; the endpoints are the two models themselves);
        episode ``k`` plays level :math:`j=\lfloor k(L-1)/(K-1)+1/2\rfloor` (``L`` levels).
        Mixtures of sparse models are dense. The models must share ``S, A, H`` and the
        reward law. Two ``LinearMDP`` endpoints with one feature map drift in
        :math:`(\mu_h,\theta_h)` (and the initial law); the mixtures are again linear MDPs."""
        (model_a, model_b), linear = _split_linear((model_a, model_b), "drift endpoint")
        K = check_int("episodes", episodes, 1)
        L = min(check_int("levels", levels, 2), K) if K > 1 else 1
        if L == 1:
            return cls([(0, model_a if linear is None else linear[0])], K)
        if linear is not None:
            return cls._linear_drift(*linear, K, L)
        stage = model_a.stage_dependent_P or model_b.stage_dependent_P
        Pa = np.asarray(model_a.P_by_stage() if stage else model_a.dense_P())
        Pb = np.asarray(model_b.P_by_stage() if stage else model_b.dense_P())
        rstage = model_a.stage_dependent_R or model_b.stage_dependent_R
        Ra = np.asarray(model_a.R_by_stage() if rstage else model_a.R)
        Rb = np.asarray(model_b.R_by_stage() if rstage else model_b.R)
        models = []
        for j in range(L):
            if j == 0:
                models.append(model_a)
            elif j == L - 1:
                models.append(model_b)
            else:
                w = j / (L - 1)
                models.append(EpisodicMDP(
                    _mix(Pa, Pb, w), _mix(Ra, Rb, w), model_a.H,
                    _mix(np.asarray(model_a.initial), np.asarray(model_b.initial), w),
                    reward_noise=model_a.reward_noise, reward_std=model_a.reward_std))
        return cls.from_index(models, _drift_index(K, L))

    @classmethod
    def _linear_drift(cls, lin_a: LinearMDP, lin_b: LinearMDP, K: int, L: int) -> "NonStationaryMDP":
        """:meth:`drift` between two linear models with one feature map: ``L`` linear mixtures."""
        H, d, S = lin_a.H, lin_a.d, lin_a.S
        stage_mu = np.ndim(lin_a.mu) == 3 or np.ndim(lin_b.mu) == 3
        stage_th = np.ndim(lin_a.theta) == 2 or np.ndim(lin_b.theta) == 2
        mu_a, mu_b = (np.broadcast_to(np.asarray(x.mu), (H, d, S)) if stage_mu else np.asarray(x.mu)
                      for x in (lin_a, lin_b))
        th_a, th_b = (np.broadcast_to(np.asarray(x.theta), (H, d)) if stage_th else np.asarray(x.theta)
                      for x in (lin_a, lin_b))
        init_a, init_b = np.asarray(lin_a.initial), np.asarray(lin_b.initial)
        tab = lin_a.to_mdp()
        models = [lin_a]
        for j in range(1, L - 1):
            w = j / (L - 1)
            models.append(LinearMDP(lin_a.phi, _mix(mu_a, mu_b, w), _mix(th_a, th_b, w), H, _mix(init_a, init_b, w),
                                    reward_noise=tab.reward_noise, reward_std=tab.reward_std))
        models.append(lin_b)
        return cls.from_index(models, _drift_index(K, L))

    # -- accessors ---------------------------------------------------------------------
    @property
    def models(self) -> tuple:
        """The distinct models, in order of first use."""
        return self._models

    @property
    def n_models(self) -> int:
        return len(self._models)

    @property
    def linear_models(self) -> tuple | None:
        """The distinct models as :class:`~mdptheory.core.LinearMDP` (same order as
        :attr:`models`), or ``None`` when the sequence was not built from linear models."""
        return self._linear

    @property
    def is_linear(self) -> bool:
        """True when every model is a linear MDP with the one shared feature map."""
        return self._linear is not None

    def linear_model(self, k: int) -> LinearMDP:
        """The :class:`~mdptheory.core.LinearMDP` of episode ``k`` (``ValueError`` if the
        sequence is not linear)."""
        if self._linear is None:
            raise ValueError("this NonStationaryMDP was not built from LinearMDP models: it has no linear models")
        return self._linear[self.model_id(k)]

    @property
    def episodes(self) -> int:
        """``K``."""
        return self._K

    @property
    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, ids)``: episode ``k`` plays ``models[ids[i]]`` for
        ``starts[i] <= k < starts[i+1]`` (read-only int64 arrays; neighbours differ)."""
        return self._starts, self._ids

    @property
    def S(self) -> int:
        return self._models[0].S

    @property
    def A(self) -> int:
        return self._models[0].A

    @property
    def H(self) -> int:
        return self._models[0].H

    @property
    def reward_noise(self) -> str:
        return self._models[0].reward_noise

    @property
    def reward_std(self) -> float:
        return self._models[0].reward_std

    @property
    def stationary(self) -> bool:
        """True when every episode has the same dynamics, rewards and initial law."""
        v = self.variation()
        if v.delta > 0:
            return False
        first = np.asarray(self._models[self._ids[0]].initial)
        return all(np.array_equal(np.asarray(self._models[j].initial), first) for j in self._ids)

    def model_index(self) -> np.ndarray:
        """The ``(K,)`` int64 array ``index[k]`` of the model of episode ``k``."""
        lengths = np.diff(np.append(self._starts, self._K))
        return np.repeat(self._ids, lengths)

    def model_id(self, k: int) -> int:
        """Index into :attr:`models` of the model of episode ``k``."""
        k = check_int("k", k, 0, self._K - 1)
        return int(self._ids[np.searchsorted(self._starts, k, side="right") - 1])

    def model(self, k: int) -> EpisodicMDP:
        """The model of episode ``k`` (0-based)."""
        return self._models[self.model_id(k)]

    def _pair(self, i: int, j: int):
        key = (min(i, j), max(i, j))
        out = self._pairs.get(key)
        if out is None:
            out = model_distance(self._models[key[0]], self._models[key[1]])
            self._pairs[key] = out
        return out

    def _linear_pair(self, i: int, j: int):
        key = ("linear", min(i, j), max(i, j))
        out = self._pairs.get(key)
        if out is None:
            out = linear_model_distance(self._linear[key[1]], self._linear[key[2]])
            self._pairs[key] = out
        return out

    def variation(self, first: int = 0, last: int | None = None) -> VariationBudget:
        r"""Exact variation budgets over the pairs of consecutive episodes ``(k, k+1)``,
        ``first <= k < last`` (default: the whole sequence, ``last = K - 1``); the local
        budgets of an epoch ``[first, last]`` in Mao et al.'s sense. Linear sequences also
        get :math:`B_\theta` and :math:`B_\mu` over the same pairs (module docstring)."""
        first = check_int("first", first, 0, self._K - 1)
        last = self._K - 1 if last is None else check_int("last", last, first, self._K - 1)
        H = self.H
        dr = np.zeros(H)
        dp = np.zeros(H)
        lin = self._linear is not None
        bt = np.zeros(H)
        bm = np.zeros(H)
        n = 0
        for i in range(1, len(self._starts)):
            b = int(self._starts[i])                  # pair (b-1, b) changes model
            if first < b <= last:
                r_, p_ = self._pair(int(self._ids[i - 1]), int(self._ids[i]))
                dr += r_
                dp += p_
                if lin:
                    t_, m_ = self._linear_pair(int(self._ids[i - 1]), int(self._ids[i]))
                    bt += t_
                    bm += m_
                n += 1
        d_r, d_p = float(dr.sum()), float(dp.sum())
        extra = {}
        if lin:
            extra = dict(b_theta=float(bt.sum()), b_mu=float(bm.sum()),
                         b_theta_by_stage=tuple(float(x) for x in bt), b_mu_by_stage=tuple(float(x) for x in bm))
        return VariationBudget(delta_r=d_r, delta_p=d_p, delta=d_r + d_p,
                               delta_r_by_stage=tuple(float(x) for x in dr),
                               delta_p_by_stage=tuple(float(x) for x in dp),
                               n_changes=n, first=first, last=last, **extra)

    def __repr__(self) -> str:
        lin = f", d={self._linear[0].d}" if self._linear is not None else ""
        return (f"NonStationaryMDP(S={self.S}, A={self.A}, H={self.H}{lin}, episodes={self._K}, "
                f"models={self.n_models}, segments={len(self._starts)})")

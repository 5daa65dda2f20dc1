r"""Finite MDP model objects: :class:`DiscountedMDP` and :class:`EpisodicMDP`.

Both are immutable containers of plain numpy / scipy arrays, validated once in the
constructor. Conventions (used everywhere in the package):

* ``S`` states ``0..S-1``, ``A`` actions ``0..A-1`` (every action available in every state).
* Dense transitions ``P[s, a, s'] = Pr(s' | s, a)`` with shape ``(S, A, S)``; stage-dependent
  episodic models use ``P[h, s, a, s']`` with shape ``(H, S, A, S)``.
* Sparse transitions are ``scipy.sparse`` CSR matrices whose row ``s * A + a`` is
  ``P(. | s, a)``: shape ``(S*A, S)``, or ``(H*S*A, S)`` for a stage-dependent model (row
  ``(h*S + s)*A + a``). A list of ``H`` CSR blocks of shape ``(S*A, S)`` is accepted too.
* ``R[s, a]`` (or ``R[h, s, a]``) is the *mean* reward. An optional reward-noise law is used
  only by samplers (learners): ``"deterministic"`` (reward = mean), ``"bernoulli"`` (reward in
  {0, 1} with the given mean; needs ``0 <= R <= 1``) or ``"gaussian"`` (mean ``R``, standard
  deviation ``reward_std``).

Arrays are stored read-only and float64. By default (``copy=True``) the model owns them: an
array of the caller's is copied, so editing it afterwards cannot change a validated model (and
with it a "certified" solution). Arrays that are already frozen -- read-only all the way down,
such as another model's ``P`` passed to ``replace`` -- are shared without a copy. ``copy=False``
is the zero-copy opt-in for large kernels: the model then holds a read-only *view* of the
caller's buffer, and the caller promises not to modify it while the model is in use.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["DiscountedMDP", "EpisodicMDP", "ROW_SUM_TOL"]

#: Maximum allowed deviation of a transition row sum from 1.
ROW_SUM_TOL = 1e-10

_REWARD_NOISES = ("deterministic", "bernoulli", "gaussian")


def _readonly(x: np.ndarray) -> np.ndarray:
    v = x.view()
    v.flags.writeable = False
    return v


def _is_frozen(x) -> bool:
    """True when no writable array can reach the memory of ``x`` through its base chain."""
    while isinstance(x, np.ndarray):
        if x.flags.writeable:
            return False
        x = x.base
    return x is None


def _freeze(arr: np.ndarray, given, copy: bool) -> np.ndarray:
    """``arr`` (validated, possibly the caller's ``given`` buffer itself) made read-only: copied
    first when it shares memory with a caller's array that could still change and ``copy``."""
    shared = isinstance(given, np.ndarray) and np.may_share_memory(arr, given)
    if shared and _is_frozen(given):
        return arr if not arr.flags.writeable else _readonly(arr)
    if shared and copy:
        arr = arr.copy()
    elif shared:
        return _readonly(arr)           # zero-copy opt-in: a read-only view of the caller's buffer
    arr.flags.writeable = False
    return arr


def _as_float_array(x, name: str) -> np.ndarray:
    if sp.issparse(x):
        raise TypeError(f"{name} must be a dense array, got a scipy.sparse matrix")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy raises many types
        raise TypeError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _fmt_index(idx: tuple, names: str) -> str:
    return "(" + ", ".join(f"{n}={int(i)}" for n, i in zip(names, idx)) + ")"


def _check_dense_P(P: np.ndarray, names: str, normalize: bool) -> np.ndarray:
    """Validate a dense kernel whose last axis is the next state; ``names`` labels the
    leading axes (e.g. ``"sa"`` or ``"hsa"``)."""
    bad = ~np.isfinite(P)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(
            f"P{list(int(i) for i in idx)} = {float(P[idx])!r}: transition probabilities must be finite"
        )
    neg = P < 0
    if neg.any():
        idx = tuple(np.argwhere(neg)[0])
        raise ValueError(
            f"P{list(int(i) for i in idx)} = {float(P[idx])!r}: transition probabilities must be >= 0"
        )
    sums = P.sum(axis=-1)
    if normalize:
        if (sums <= 0).any():
            idx = tuple(np.argwhere(sums <= 0)[0])
            raise ValueError(f"row {_fmt_index(idx, names)} of P sums to 0 and cannot be normalised")
        return np.ascontiguousarray(P / sums[..., None])
    off = np.abs(sums - 1.0) > ROW_SUM_TOL
    if off.any():
        idx = tuple(np.argwhere(off)[0])
        raise ValueError(
            f"row {_fmt_index(idx, names)} of P sums to {float(sums[idx])!r}, not 1 (tolerance "
            f"{ROW_SUM_TOL:g}); pass normalize=True to rescale rows explicitly"
        )
    return P


def _check_sparse_P(P, n_rows_expected: int, S: int, A: int, stage: bool, normalize: bool):
    if not sp.issparse(P):
        raise TypeError("expected a scipy.sparse matrix")
    # always our own copy: canonicalisation below works in place, and the caller's matrix
    # (possibly another model's read-only P) must be neither modified nor required writable
    P = sp.csr_matrix(P, dtype=np.float64, copy=True)
    if P.shape != (n_rows_expected, S):
        raise ValueError(f"sparse P must have shape {(n_rows_expected, S)}, got {P.shape}")
    P.sum_duplicates()
    P.sort_indices()
    P.eliminate_zeros()
    data = P.data
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))

    def label(row: int) -> str:
        if stage:
            h, rem = divmod(row, S * A)
            s, a = divmod(rem, A)
            return f"(h={h}, s={s}, a={a})"
        s, a = divmod(row, A)
        return f"(s={s}, a={a})"

    bad = ~np.isfinite(data)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(
            f"P{label(rows[k])[:-1]}, s'={P.indices[k]}) = {float(data[k])!r}: transition probabilities must be finite"
        )
    neg = data < 0
    if neg.any():
        k = int(np.argmax(neg))
        raise ValueError(
            f"P{label(rows[k])[:-1]}, s'={P.indices[k]}) = {float(data[k])!r}: transition probabilities must be >= 0"
        )
    sums = np.asarray(P.sum(axis=1)).ravel()
    if normalize:
        if (sums <= 0).any():
            raise ValueError(f"row {label(int(np.argmax(sums <= 0)))} of P sums to 0 and cannot be normalised")
        P = sp.csr_matrix(sp.diags(1.0 / sums) @ P)
        P.sort_indices()
        return P
    off = np.abs(sums - 1.0) > ROW_SUM_TOL
    if off.any():
        row = int(np.argmax(off))
        raise ValueError(
            f"row {label(row)} of P sums to {float(sums[row])!r}, not 1 (tolerance {ROW_SUM_TOL:g}); "
            "pass normalize=True to rescale rows explicitly"
        )
    # read-only buffers
    for arr in (P.data, P.indices, P.indptr):
        arr.flags.writeable = False
    return P


def _check_rewards(R: np.ndarray, names: str) -> None:
    bad = ~np.isfinite(R)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(f"R{list(int(i) for i in idx)} = {float(R[idx])!r}: rewards must be finite")


def _check_reward_noise(R: np.ndarray, reward_noise: str, reward_std: float) -> float:
    if reward_noise not in _REWARD_NOISES:
        raise ValueError(f"reward_noise must be one of {_REWARD_NOISES}, got {reward_noise!r}")
    reward_std = float(reward_std)
    if not np.isfinite(reward_std) or reward_std < 0:
        raise ValueError(f"reward_std must be a finite number >= 0, got {reward_std!r}")
    if reward_noise == "bernoulli":
        out = (R < 0) | (R > 1)
        if out.any():
            idx = tuple(np.argwhere(out)[0])
            raise ValueError(
                f"R{list(int(i) for i in idx)} = {float(R[idx])!r}: Bernoulli rewards need means in [0, 1]"
            )
    if reward_noise != "gaussian" and reward_std != 0.0:
        raise ValueError("reward_std is only meaningful with reward_noise='gaussian'")
    return reward_std


def _check_initial(initial, S: int, normalize: bool, copy: bool = True) -> np.ndarray:
    if initial is None:
        return _readonly(np.full(S, 1.0 / S))
    if isinstance(initial, (int, np.integer)) and not isinstance(initial, bool):
        s = int(initial)
        if not 0 <= s < S:
            raise ValueError(f"initial state {s} is out of range [0, {S})")
        d = np.zeros(S)
        d[s] = 1.0
        return _readonly(d)
    d = _as_float_array(initial, "initial")
    if d.shape != (S,):
        raise ValueError(
            f"initial must be a state index or a distribution of shape ({S},), got shape {d.shape}"
        )
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"initial[{i}] = {float(d[i])!r}: an initial distribution must be finite and >= 0")
    tot = d.sum()
    if normalize and tot > 0:
        d = d / tot
    elif abs(tot - 1.0) > ROW_SUM_TOL:
        raise ValueError(f"initial distribution sums to {float(tot)!r}, not 1 (tolerance {ROW_SUM_TOL:g})")
    return _freeze(d, initial, copy)


class _Frozen:
    """Immutable once ``__init__`` has set ``self._frozen = True`` (the model classes; each
    declares the ``_frozen`` slot)."""

    __slots__ = ()

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(f"{type(self).__name__} is immutable; build a new one instead")
        object.__setattr__(self, name, value)


class _ModelArrays(_Frozen):
    """The arrays every model class exposes (tabular and linear; not public)."""

    __slots__ = ("_P", "_R", "_initial", "_S", "_A", "_frozen")

    @property
    def P(self):
        """Transition kernel (read-only dense array or CSR matrix; see module docstring; a
        linear model's implied ``phi . mu``)."""
        return self._P

    @property
    def R(self) -> np.ndarray:
        """Mean rewards, ``(S, A)`` or ``(H, S, A)`` (read-only; a linear model's ``phi . theta``)."""
        return self._R

    @property
    def initial(self) -> np.ndarray:
        """Initial-state distribution, shape ``(S,)`` (read-only)."""
        return self._initial

    @property
    def S(self) -> int:
        return self._S

    @property
    def A(self) -> int:
        return self._A


class _Episodic:
    """``horizon`` and ``H`` of the episodic model classes (each declares the ``_H`` slot)."""

    __slots__ = ()

    @property
    def horizon(self) -> int:
        return self._H

    @property
    def H(self) -> int:
        return self._H


class _Discounted:
    """``gamma`` and ``horizon = None`` of the discounted model classes (``_gamma`` slot)."""

    __slots__ = ()

    @property
    def gamma(self) -> float:
        return self._gamma

    @property
    def horizon(self) -> None:
        return None


class _FiniteMDP(_ModelArrays):
    """Shared behaviour of the two model classes (not public)."""

    __slots__ = ("_reward_noise", "_reward_std")

    # -- basic properties ---------------------------------------------------------------
    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self._P)

    @property
    def reward_noise(self) -> str:
        return self._reward_noise

    @property
    def reward_std(self) -> float:
        return self._reward_std

    @property
    def reward_range(self) -> tuple[float, float]:
        """Range of a single sampled reward (for normalisation checks)."""
        lo, hi = float(self._R.min()), float(self._R.max())
        if self._reward_noise == "bernoulli":
            return (0.0 if lo < 1 else 1.0, 1.0 if hi > 0 else 0.0)
        if self._reward_noise == "gaussian" and self._reward_std > 0:
            return (-np.inf, np.inf)
        return (lo, hi)

    def _dense_P(self) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = self._repr_extra()
        kind = "sparse" if self.is_sparse else "dense"
        return f"{type(self).__name__}(S={self.S}, A={self.A}, {extra}, {kind})"

    def _repr_extra(self) -> str:  # pragma: no cover - overridden
        return ""


class DiscountedMDP(_FiniteMDP, _Discounted):
    r"""Infinite-horizon discounted MDP :math:`(\mathcal S, \mathcal A, P, R, \gamma, \rho)`.

    The objective of a policy :math:`\pi` is
    :math:`V^\pi(s) = \mathbb E^\pi[\sum_{t\ge0}\gamma^t R(s_t,a_t)\mid s_0=s]`.

    Parameters
    ----------
    P : array ``(S, A, S)`` or scipy.sparse ``(S*A, S)``
        Transition probabilities; each row must sum to 1 within ``1e-10``.
    R : array ``(S, A)``
        Mean rewards (finite).
    gamma : float in ``[0, 1)``
        Discount factor.
    initial : None, int or array ``(S,)``
        Initial distribution (``None`` = uniform; an int = that state).
    normalize : bool, default False
        Rescale rows of ``P`` (and ``initial``) to sum to one instead of rejecting them.
        Nothing is ever renormalised silently.
    reward_noise, reward_std
        Reward law used by samplers (see module docstring).
    copy : bool, default True
        Copy the caller's arrays so that the model can never change after validation.
        ``copy=False`` keeps a read-only view of the caller's dense ``P``/``R`` buffers
        (zero-copy for large kernels); the caller then must not modify them.

    Raises
    ------
    ValueError
        Naming the offending index and value for bad shapes, negative / non-finite
        probabilities, rows not summing to one, non-finite rewards, gamma outside
        ``[0, 1)`` and bad initial distributions.
    TypeError
        For non-numeric input.
    """

    __slots__ = ("_gamma",)

    def __init__(
        self,
        P,
        R,
        gamma: float,
        initial=None,
        *,
        normalize: bool = False,
        reward_noise: str = "deterministic",
        reward_std: float = 0.0,
        copy: bool = True,
    ):
        P_in, R_in = P, R
        R = _as_float_array(R, "R")
        if R.ndim != 2:
            raise ValueError(f"R must have shape (S, A), got shape {R.shape}")
        S, A = R.shape
        if S < 1 or A < 1:
            raise ValueError(f"need at least one state and one action, got R of shape {R.shape}")
        if sp.issparse(P):
            P = _check_sparse_P(P, S * A, S, A, stage=False, normalize=normalize)
        else:
            P = _as_float_array(P, "P")
            if P.shape != (S, A, S):
                raise ValueError(
                    f"P must have shape (S, A, S) = {(S, A, S)} to match R of shape {R.shape}, got {P.shape}"
                )
            P = _freeze(_check_dense_P(P, "sa", normalize), P_in, copy)
        _check_rewards(R, "sa")
        try:
            g = float(gamma)
        except (TypeError, ValueError):
            raise TypeError(f"gamma must be a number, got {gamma!r}") from None
        if not (0.0 <= g < 1.0):
            raise ValueError(f"gamma = {gamma!r} is outside [0, 1)")
        std = _check_reward_noise(R, reward_noise, reward_std)
        self._P = P
        self._R = _freeze(R, R_in, copy)
        self._S, self._A = S, A
        self._gamma = g
        self._initial = _check_initial(initial, S, normalize, copy)
        self._reward_noise = reward_noise
        self._reward_std = std
        self._frozen = True

    def _repr_extra(self) -> str:
        return f"gamma={self.gamma:g}"

    def to_dense(self) -> "DiscountedMDP":
        """The same MDP with a dense ``(S, A, S)`` kernel (self if already dense)."""
        if not self.is_sparse:
            return self
        P = self._P.toarray().reshape(self.S, self.A, self.S)
        return self._replace(P=P)

    def to_sparse(self) -> "DiscountedMDP":
        """The same MDP with a CSR ``(S*A, S)`` kernel (self if already sparse)."""
        if self.is_sparse:
            return self
        return self._replace(P=sp.csr_matrix(np.asarray(self._P).reshape(self.S * self.A, self.S)))

    def _replace(self, **kw) -> "DiscountedMDP":
        args = dict(
            P=self._P, R=self._R, gamma=self._gamma, initial=self._initial,
            reward_noise=self._reward_noise, reward_std=self._reward_std,
        )
        args.update(kw)
        return DiscountedMDP(**args)

    def replace(self, **kw) -> "DiscountedMDP":
        """A validated copy with some of ``P, R, gamma, initial, reward_noise, reward_std``
        replaced."""
        return self._replace(**kw)

    def dense_P(self) -> np.ndarray:
        """Dense ``(S, A, S)`` kernel (a view when already dense)."""
        if self.is_sparse:
            return self._P.toarray().reshape(self.S, self.A, self.S)
        return self._P


class EpisodicMDP(_FiniteMDP, _Episodic):
    r"""Finite-horizon episodic MDP with horizon ``H`` and stages ``h = 0..H-1``.

    The value of a (non-stationary) policy is
    :math:`V^\pi_h(s) = \mathbb E^\pi[\sum_{t=h}^{H-1} R_t(s_t,a_t)\mid s_h=s]` and
    :math:`V_H \equiv 0`. The dynamics are *stationary* (``P`` of shape ``(S, A, S)``, ``R``
    of shape ``(S, A)``) or *stage-dependent* (``(H, S, A, S)`` and ``(H, S, A)``); each of
    ``P`` and ``R`` may be stage-dependent independently.

    Parameters
    ----------
    P : array ``(S, A, S)`` / ``(H, S, A, S)``, CSR ``(S*A, S)`` / ``(H*S*A, S)``, or a list of
        ``H`` CSR blocks ``(S*A, S)``.
    R : array ``(S, A)`` or ``(H, S, A)``
    horizon : int >= 1
    initial : int or array ``(S,)``
        Initial state or initial distribution (required).
    normalize, reward_noise, reward_std, copy : as for :class:`DiscountedMDP`.
    """

    __slots__ = ("_H", "_stage_P", "_stage_R")

    def __init__(
        self,
        P,
        R,
        horizon: int,
        initial,
        *,
        normalize: bool = False,
        reward_noise: str = "deterministic",
        reward_std: float = 0.0,
        copy: bool = True,
    ):
        P_in, R_in = P, R
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
            raise TypeError(f"horizon must be an integer, got {horizon!r}")
        H = int(horizon)
        if H < 1:
            raise ValueError(f"horizon = {H} must be >= 1")
        R = _as_float_array(R, "R")
        if R.ndim == 2:
            S, A = R.shape
            stage_R = False
        elif R.ndim == 3:
            if R.shape[0] != H:
                raise ValueError(f"stage-dependent R must have shape (H, S, A) with H = {H}, got {R.shape}")
            _, S, A = R.shape
            stage_R = True
        else:
            raise ValueError(f"R must have shape (S, A) or (H, S, A), got shape {R.shape}")
        if S < 1 or A < 1:
            raise ValueError(f"need at least one state and one action, got R of shape {R.shape}")
        if isinstance(P, (list, tuple)) and P and all(sp.issparse(b) for b in P):
            if len(P) != H:
                raise ValueError(f"a list of sparse stage kernels must have H = {H} blocks, got {len(P)}")
            P = sp.vstack([sp.csr_matrix(b) for b in P], format="csr")
        if sp.issparse(P):
            rows = P.shape[0]
            if rows == S * A:
                stage_P = False
            elif rows == H * S * A:
                stage_P = True
            else:
                raise ValueError(
                    f"sparse P must have shape (S*A, S) = {(S * A, S)} or (H*S*A, S) = {(H * S * A, S)}, got {P.shape}"
                )
            P = _check_sparse_P(P, rows, S, A, stage=stage_P, normalize=normalize)
        else:
            P = _as_float_array(P, "P")
            if P.shape == (S, A, S):
                stage_P = False
                P = _check_dense_P(P, "sa", normalize)
            elif P.shape == (H, S, A, S):
                stage_P = True
                P = _check_dense_P(P, "hsa", normalize)
            else:
                raise ValueError(
                    f"P must have shape (S, A, S) = {(S, A, S)} or (H, S, A, S) = {(H, S, A, S)} "
                    f"to match R of shape {R.shape}, got {P.shape}"
                )
            P = _freeze(P, P_in, copy)
        _check_rewards(R, "hsa" if stage_R else "sa")
        if initial is None:
            raise ValueError("an episodic MDP needs an initial state or distribution")
        std = _check_reward_noise(R, reward_noise, reward_std)
        self._P = P
        self._R = _freeze(R, R_in, copy)
        self._S, self._A, self._H = S, A, H
        self._stage_P, self._stage_R = stage_P, stage_R
        self._initial = _check_initial(initial, S, normalize, copy)
        self._reward_noise = reward_noise
        self._reward_std = std
        self._frozen = True

    @property
    def gamma(self) -> float:
        """Episodic problems are undiscounted: always 1.0."""
        return 1.0

    @property
    def stationary(self) -> bool:
        """True when neither ``P`` nor ``R`` depends on the stage."""
        return not (self._stage_P or self._stage_R)

    @property
    def stage_dependent_P(self) -> bool:
        return self._stage_P

    @property
    def stage_dependent_R(self) -> bool:
        return self._stage_R

    def _repr_extra(self) -> str:
        return f"H={self.H}, {'stationary' if self.stationary else 'stage-dependent'}"

    def P_at(self, h: int):
        """Kernel of stage ``h``: dense ``(S, A, S)`` view or CSR ``(S*A, S)``."""
        if not 0 <= h < self._H:
            raise IndexError(f"stage {h} out of range [0, {self._H})")
        if not self._stage_P:
            return self._P
        if self.is_sparse:
            n = self.S * self.A
            return self._P[h * n:(h + 1) * n]
        return self._P[h]

    def R_at(self, h: int) -> np.ndarray:
        """Mean rewards of stage ``h``, ``(S, A)``."""
        if not 0 <= h < self._H:
            raise IndexError(f"stage {h} out of range [0, {self._H})")
        return self._R[h] if self._stage_R else self._R

    def P_by_stage(self) -> np.ndarray:
        """Dense ``(H, S, A, S)`` kernel, one ``(S, A, S)`` block per stage (a zero-copy
        broadcast view for stationary dense P)."""
        if self.is_sparse:
            D = self._P.toarray()
            if self._stage_P:
                return D.reshape(self._H, self.S, self.A, self.S)
            return np.broadcast_to(D.reshape(self.S, self.A, self.S), (self._H, self.S, self.A, self.S))
        if self._stage_P:
            return self._P
        return np.broadcast_to(self._P, (self._H,) + self._P.shape)

    def R_by_stage(self) -> np.ndarray:
        """``(H, S, A)`` rewards, one ``(S, A)`` block per stage (a zero-copy broadcast view
        for stationary R)."""
        if self._stage_R:
            return self._R
        return np.broadcast_to(self._R, (self._H,) + self._R.shape)

    def dense_P(self) -> np.ndarray:
        """Dense kernel with the stored stage layout: ``(S, A, S)`` or ``(H, S, A, S)``."""
        if not self.is_sparse:
            return self._P
        D = self._P.toarray()
        if self._stage_P:
            return D.reshape(self._H, self.S, self.A, self.S)
        return D.reshape(self.S, self.A, self.S)

    # transitional names (removed once every caller uses the names above)
    P_stage = P_at
    R_stage = R_at
    stage_P = P_by_stage
    stage_R = R_by_stage

    def to_dense(self) -> "EpisodicMDP":
        if not self.is_sparse:
            return self
        return self._replace(P=self.dense_P())

    def to_sparse(self) -> "EpisodicMDP":
        if self.is_sparse:
            return self
        P = np.asarray(self._P)
        return self._replace(P=sp.csr_matrix(P.reshape(-1, self.S)))

    def _replace(self, **kw) -> "EpisodicMDP":
        args = dict(
            P=self._P, R=self._R, horizon=self._H, initial=self._initial,
            reward_noise=self._reward_noise, reward_std=self._reward_std,
        )
        args.update(kw)
        return EpisodicMDP(**args)

    def replace(self, **kw) -> "EpisodicMDP":
        """A validated copy with some of ``P, R, horizon, initial, reward_noise,
        reward_std`` replaced."""
        return self._replace(**kw)

    def to_stage_dependent(self) -> "EpisodicMDP":
        """The same problem with explicit ``(H, S, A, S)`` / ``(H, S, A)`` arrays (dense)."""
        return EpisodicMDP(
            np.ascontiguousarray(self.P_by_stage()), np.ascontiguousarray(self.R_by_stage()),
            self._H, self._initial, reward_noise=self._reward_noise, reward_std=self._reward_std,
        )


def as_mdp(obj) -> DiscountedMDP | EpisodicMDP:
    """Return ``obj`` if it is a model object, else raise a ``TypeError``."""
    if isinstance(obj, (DiscountedMDP, EpisodicMDP)):
        return obj
    raise TypeError(f"expected a DiscountedMDP or EpisodicMDP, got {type(obj).__name__}")


Stacked = Sequence[np.ndarray]

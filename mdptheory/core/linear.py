r"""Linear MDPs: :class:`LinearMDP` (episodic) and :class:`DiscountedLinearMDP`.

A linear MDP (Yang & Wang 2019; Jin, Yang, Wang & Jordan, COLT 2020, Assumption A) has a
known feature map :math:`\phi:\mathcal S\times\mathcal A\to\mathbb R^d`, unknown signed
measures :math:`\mu_h(\cdot)\in\mathbb R^{d}` over next states and reward parameters
:math:`\theta_h\in\mathbb R^d` with

.. math::
    P_h(s'\mid s,a) = \langle\phi_h(s,a), \mu_h(s')\rangle,\qquad
    r_h(s,a) = \langle\phi_h(s,a), \theta_h\rangle .

Any function class :math:`\{\phi^\top w\}` is then closed under every Bellman operator
(:math:`T_h Q = \phi_h^\top(\theta_h + \sum_{s'}\mu_h(s')V(s'))`), i.e. Bellman complete:
see ``proofs_notes/bellman_completeness.md``.

Arrays (``d`` features, ``S`` states, ``A`` actions, ``H`` stages):

* ``phi`` ``(S, A, d)`` or per stage ``(H, S, A, d)``;
* ``mu`` ``(d, S)`` or per stage ``(H, d, S)``, row ``mu[:, s']`` is :math:`\mu(s')`;
* ``theta`` ``(d,)`` or per stage ``(H, d)``.

The constructor checks *exactness*: every implied row :math:`\phi(s,a)^\top\mu` must be a
probability vector (entries :math:`\ge -10^{-12}`, the tiny negatives being set to zero, and
sums equal to one within :data:`mdptheory.core.mdp.ROW_SUM_TOL`). ``to_mdp()`` returns the
equivalent tabular :class:`~mdptheory.core.EpisodicMDP` (or
:class:`~mdptheory.core.DiscountedMDP`).

:class:`FeaturizedMDP` pairs any episodic tabular model with a feature array that need *not*
make it linear (misspecified linear MDPs, Jin et al. 2020, Assumption B); :func:`feature_view`
gives the ``(tabular model, features)`` pair of either kind, one-hot features for a plain
:class:`~mdptheory.core.EpisodicMDP` (the tabular embedding ``d = S A``).
"""

from __future__ import annotations

import numpy as np

from mdptheory.core.mdp import (ROW_SUM_TOL, DiscountedMDP, EpisodicMDP, _as_float_array, _Discounted, _Episodic,
                                _ModelArrays, _readonly)

__all__ = ["LinearMDP", "DiscountedLinearMDP", "FeaturizedMDP", "feature_view", "NEGATIVE_TOL"]

#: Implied transition probabilities in ``[-NEGATIVE_TOL, 0)`` are treated as round-off and set to 0.
NEGATIVE_TOL = 1e-12


def _implied_kernel(phi: np.ndarray, mu: np.ndarray, stage: bool) -> np.ndarray:
    """``P[..., s, a, s'] = phi[..., s, a, :] @ mu[..., :, s']`` with exactness checks."""
    P = np.einsum("...sak,...kt->...sat", phi, mu)
    names = ("h", "s", "a", "s'") if stage else ("s", "a", "s'")
    neg = P < -NEGATIVE_TOL
    if neg.any():
        idx = tuple(int(i) for i in np.argwhere(neg)[0])
        lab = ", ".join(f"{n}={i}" for n, i in zip(names, idx))
        raise ValueError(
            f"phi.mu is not a transition kernel: P({lab}) = phi(s,a).mu(s') = {float(P[idx])!r} < 0"
        )
    P = np.where(P < 0, 0.0, P)
    sums = P.sum(axis=-1)
    off = np.abs(sums - 1.0) > ROW_SUM_TOL
    if off.any():
        idx = tuple(int(i) for i in np.argwhere(off)[0])
        lab = ", ".join(f"{n}={i}" for n, i in zip(names[:-1], idx))
        raise ValueError(
            f"phi.mu is not a transition kernel: row ({lab}) sums to {float(sums[idx])!r}, not 1 "
            f"(tolerance {ROW_SUM_TOL:g})"
        )
    return np.ascontiguousarray(P)


def _check_shapes(phi, mu, theta, H: int | None):
    phi = _as_float_array(phi, "phi")
    mu = _as_float_array(mu, "mu")
    theta = _as_float_array(theta, "theta")
    for name, arr in (("phi", phi), ("mu", mu), ("theta", theta)):
        if not np.all(np.isfinite(arr)):
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"{name}{list(idx)} = {float(arr[idx])!r} is not finite")
    if phi.ndim == 3:
        S, A, d = phi.shape
    elif phi.ndim == 4 and H is not None:
        if phi.shape[0] != H:
            raise ValueError(f"stage-dependent phi must have shape (H, S, A, d) with H = {H}, got {phi.shape}")
        _, S, A, d = phi.shape
    else:
        want = "(S, A, d)" + (" or (H, S, A, d)" if H is not None else "")
        raise ValueError(f"phi must have shape {want}, got {phi.shape}")
    if d < 1 or S < 1 or A < 1:
        raise ValueError(f"phi must have positive dimensions, got {phi.shape}")
    if mu.shape == (d, S):
        pass
    elif H is not None and mu.shape == (H, d, S):
        pass
    else:
        want = f"(d, S) = {(d, S)}" + (f" or (H, d, S) = {(H, d, S)}" if H is not None else "")
        raise ValueError(f"mu must have shape {want}, got {mu.shape}")
    if theta.shape == (d,):
        pass
    elif H is not None and theta.shape == (H, d):
        pass
    else:
        want = f"(d,) = {(d,)}" + (f" or (H, d) = {(H, d)}" if H is not None else "")
        raise ValueError(f"theta must have shape {want}, got {theta.shape}")
    return phi, mu, theta, S, A, d


class _LinearBase(_ModelArrays):
    __slots__ = ("_phi", "_mu", "_theta", "_d")

    def _finish(self, phi, mu, theta, P, R, S, A, d):
        self._phi, self._mu, self._theta = _readonly(phi), _readonly(mu), _readonly(theta)
        self._P, self._R = _readonly(P), _readonly(np.ascontiguousarray(R))
        self._S, self._A, self._d = S, A, d

    @property
    def phi(self) -> np.ndarray:
        """Features ``(S, A, d)`` or ``(H, S, A, d)`` (read-only)."""
        return self._phi

    @property
    def mu(self) -> np.ndarray:
        """Next-state measures ``(d, S)`` or ``(H, d, S)`` (read-only)."""
        return self._mu

    @property
    def theta(self) -> np.ndarray:
        """Reward parameters ``(d,)`` or ``(H, d)`` (read-only)."""
        return self._theta

    @property
    def d(self) -> int:
        return self._d


class LinearMDP(_LinearBase, _Episodic):
    r"""Episodic linear MDP :math:`P_h = \phi_h\mu_h`, :math:`r_h = \phi_h\theta_h`.

    Parameters
    ----------
    phi : array ``(S, A, d)`` or ``(H, S, A, d)``
    mu : array ``(d, S)`` or ``(H, d, S)``
    theta : array ``(d,)`` or ``(H, d)``
    horizon : int >= 1
    initial : int or array ``(S,)``
    reward_noise, reward_std : passed to :class:`~mdptheory.core.EpisodicMDP`.

    Raises
    ------
    ValueError
        For wrong shapes, non-finite entries, or when ``phi . mu`` is not a transition kernel
        (the message names ``(h, s, a, s')`` and the value).

    Examples
    --------
    Any tabular MDP is linear with one-hot features ``phi(s,a) = e_{(s,a)}``,
    ``mu = P`` reshaped to ``(S*A, S)`` and ``theta = R`` flattened.
    """

    __slots__ = ("_H", "_reward_noise", "_reward_std")

    def __init__(self, phi, mu, theta, horizon: int, initial, *, reward_noise: str = "deterministic",
                 reward_std: float = 0.0):
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
            raise TypeError(f"horizon must be an integer, got {horizon!r}")
        H = int(horizon)
        if H < 1:
            raise ValueError(f"horizon = {H} must be >= 1")
        phi, mu, theta, S, A, d = _check_shapes(phi, mu, theta, H)
        stage = phi.ndim == 4 or mu.ndim == 3
        phi4 = phi if phi.ndim == 4 else np.broadcast_to(phi, (H, S, A, d))
        mu3 = mu if mu.ndim == 3 else np.broadcast_to(mu, (H, d, S))
        P = _implied_kernel(phi4, mu3, True) if stage else _implied_kernel(phi, mu, False)
        if phi.ndim == 4 or theta.ndim == 2:
            th2 = theta if theta.ndim == 2 else np.broadcast_to(theta, (H, d))
            R = np.einsum("hsak,hk->hsa", phi4, th2)
        else:
            R = phi @ theta
        self._finish(phi, mu, theta, P, R, S, A, d)
        self._H = H
        # validate the initial distribution / reward law once through the tabular constructor
        m = EpisodicMDP(self._P, self._R, H, initial, reward_noise=reward_noise, reward_std=reward_std)
        self._initial = m.initial
        self._reward_noise, self._reward_std = reward_noise, m.reward_std
        self._frozen = True

    def stage_phi(self) -> np.ndarray:
        """Features with an explicit stage axis, ``(H, S, A, d)`` (broadcast view if stationary)."""
        if self._phi.ndim == 4:
            return self._phi
        return np.broadcast_to(self._phi, (self._H,) + self._phi.shape)

    def to_mdp(self) -> EpisodicMDP:
        """The equivalent tabular :class:`~mdptheory.core.EpisodicMDP` (dense)."""
        return EpisodicMDP(self._P, self._R, self._H, self._initial,
                           reward_noise=self._reward_noise, reward_std=self._reward_std)

    def __repr__(self) -> str:
        return f"LinearMDP(S={self.S}, A={self.A}, d={self.d}, H={self.H})"


class DiscountedLinearMDP(_LinearBase, _Discounted):
    r"""Discounted linear MDP :math:`P = \phi\mu`, :math:`r = \phi\theta`, discount ``gamma``.

    Parameters
    ----------
    phi : array ``(S, A, d)``
    mu : array ``(d, S)``
    theta : array ``(d,)``
    gamma : float in ``[0, 1)``
    initial : None, int or array ``(S,)``

    Raises
    ------
    ValueError
        As for :class:`LinearMDP`.
    """

    __slots__ = ("_gamma", "_reward_noise", "_reward_std")

    def __init__(self, phi, mu, theta, gamma: float, initial=None, *, reward_noise: str = "deterministic",
                 reward_std: float = 0.0):
        phi, mu, theta, S, A, d = _check_shapes(phi, mu, theta, None)
        P = _implied_kernel(phi, mu, False)
        R = phi @ theta
        self._finish(phi, mu, theta, P, R, S, A, d)
        m = DiscountedMDP(self._P, self._R, gamma, initial, reward_noise=reward_noise, reward_std=reward_std)
        self._gamma = m.gamma
        self._initial = m.initial
        self._reward_noise, self._reward_std = reward_noise, m.reward_std
        self._frozen = True

    def to_mdp(self) -> DiscountedMDP:
        """The equivalent tabular :class:`~mdptheory.core.DiscountedMDP` (dense)."""
        return DiscountedMDP(self._P, self._R, self._gamma, self._initial,
                             reward_noise=self._reward_noise, reward_std=self._reward_std)

    def __repr__(self) -> str:
        return f"DiscountedLinearMDP(S={self.S}, A={self.A}, d={self.d}, gamma={self.gamma:g})"


class FeaturizedMDP:
    r"""An episodic tabular model together with a feature map that need not make it linear.

    ``P_h(s'|s,a)`` and ``r_h(s,a)`` are those of ``mdp``; ``phi`` (``(S, A, d)`` or
    ``(H, S, A, d)``) is what a linear learner sees. When the generator knows it, ``zeta`` is
    the distance of the kernel to the nearest kernel linear in ``phi``,
    :math:`\zeta=\min_\mu\max_{h,s,a}\tfrac12\|P_h(\cdot|s,a)-\phi_h(s,a)^\top\mu_h\|_1`
    (``None`` = not known). Accepted by :func:`mdptheory.run` like a :class:`LinearMDP`: the
    engine samples and evaluates on :meth:`to_mdp`, feature learners read :attr:`phi`.

    Raises
    ------
    TypeError
        If ``mdp`` is not an :class:`~mdptheory.core.EpisodicMDP`.
    ValueError
        For a wrong feature shape, a non-finite feature or a negative ``zeta``.
    """

    __slots__ = ("_mdp", "_phi", "_zeta", "_frozen")

    def __init__(self, mdp: EpisodicMDP, phi, *, zeta: float | None = None):
        if not isinstance(mdp, EpisodicMDP):
            raise TypeError(f"mdp must be an EpisodicMDP, got {type(mdp).__name__}")
        phi = _as_float_array(phi, "phi")
        S, A, H = mdp.S, mdp.A, mdp.H
        if phi.ndim not in (3, 4) or phi.shape[-3:-1] != (S, A) or (phi.ndim == 4 and phi.shape[0] != H) \
                or phi.shape[-1] < 1:
            raise ValueError(f"phi must have shape (S, A, d) = ({S}, {A}, d) or (H, S, A, d) with H = {H}, "
                             f"got {phi.shape}")
        bad = ~np.isfinite(phi)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"phi{list(idx)} = {float(phi[idx])!r} is not finite")
        if zeta is not None:
            z = float(zeta)
            if not (z >= 0.0) or not np.isfinite(z):
                raise ValueError(f"zeta = {zeta!r} must be a finite number >= 0")
            zeta = z
        object.__setattr__(self, "_mdp", mdp)
        object.__setattr__(self, "_phi", _readonly(phi))
        object.__setattr__(self, "_zeta", zeta)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name, value):
        raise AttributeError("FeaturizedMDP is immutable; build a new one instead")

    @property
    def mdp(self) -> EpisodicMDP:
        """The true tabular model."""
        return self._mdp

    @property
    def phi(self) -> np.ndarray:
        """Features ``(S, A, d)`` or ``(H, S, A, d)`` (read-only)."""
        return self._phi

    @property
    def zeta(self) -> float | None:
        """Known distance to the nearest linear kernel (``None`` if not known)."""
        return self._zeta

    @property
    def S(self) -> int:
        return self._mdp.S

    @property
    def A(self) -> int:
        return self._mdp.A

    @property
    def H(self) -> int:
        return self._mdp.H

    @property
    def horizon(self) -> int:
        return self._mdp.H

    @property
    def d(self) -> int:
        return int(self._phi.shape[-1])

    @property
    def initial(self) -> np.ndarray:
        return self._mdp.initial

    def stage_phi(self) -> np.ndarray:
        """Features with an explicit stage axis, ``(H, S, A, d)`` (broadcast view if shared)."""
        if self._phi.ndim == 4:
            return self._phi
        return np.broadcast_to(self._phi, (self.H,) + self._phi.shape)

    def to_mdp(self) -> EpisodicMDP:
        """The true tabular model (the one :func:`mdptheory.run` samples from)."""
        return self._mdp

    def __repr__(self) -> str:
        z = "" if self._zeta is None else f", zeta={self._zeta:g}"
        return f"FeaturizedMDP(S={self.S}, A={self.A}, d={self.d}, H={self.H}{z})"


def feature_view(mdp) -> tuple[EpisodicMDP, np.ndarray]:
    """``(tabular model, features (H, S, A, d))`` of an episodic model a linear learner may be
    given: a :class:`LinearMDP` (its ``phi``), a :class:`FeaturizedMDP` (its ``phi``) or an
    :class:`~mdptheory.core.EpisodicMDP` (one-hot features :math:`e_{sA+a}`, ``d = S A``, the
    tabular embedding). The features are a C-contiguous float64 copy. ``TypeError`` otherwise."""
    if isinstance(mdp, (LinearMDP, FeaturizedMDP)):
        return mdp.to_mdp(), np.ascontiguousarray(mdp.stage_phi(), dtype=np.float64)
    if isinstance(mdp, EpisodicMDP):
        S, A, H = mdp.S, mdp.A, mdp.H
        eye = np.eye(S * A).reshape(S, A, S * A)
        return mdp, np.ascontiguousarray(np.broadcast_to(eye, (H, S, A, S * A)))
    raise TypeError(f"expected a LinearMDP, FeaturizedMDP or EpisodicMDP, got {type(mdp).__name__}")

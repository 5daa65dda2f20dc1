r"""Linear function classes :math:`\mathcal Q=\{\Phi w\}` with a data distribution :math:`\mu`.

Conventions (``proofs_notes/bellman_completeness.md``, "Setting and notation"): state-action
pairs are flattened as ``i = s * A + a``; :math:`\Phi\in\mathbb R^{SA\times d}`;
:math:`\mu\in\Delta(\mathcal S\times\mathcal A)`, :math:`D_\mu=\mathrm{diag}(\mu)`,
:math:`\|f\|_\mu^2=\sum_i\mu_i f_i^2`. Everything that involves :math:`\mu` (norms, the
projection :math:`\Pi_\mu`) is restricted to :math:`\mathrm{supp}\,\mu`.

Rank handling. Instead of a Cholesky factor of :math:`G=\Phi^\top D_\mu\Phi` (which fails when
``G`` is singular, e.g. Baird's 8 features on 7 states) the class keeps a thin SVD

.. math:: D_\mu^{1/2}\Phi_{\rm supp} = U\Sigma V^\top,

truncated at ``rank_tol * sigma_max``. With :math:`R=V_r\Sigma_r^{-1}` one has
:math:`\|\Phi R v\|_\mu=\|v\|_2` (orthonormal coordinates; :math:`R=L^{-\top}` for the
Cholesky factor :math:`G=LL^\top` when :math:`G` is invertible) and :math:`\Pi_\mu` acts on
weighted vectors as :math:`UU^\top`. The columns of ``null`` span the parameters invisible
on the support (:math:`\Phi N=0` on :math:`\mathrm{supp}\,\mu`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mdptheory.core import DiscountedMDP, EpisodicMDP, to_stochastic, validate_policy
from mdptheory.core.validation import check_int, check_probability
from mdptheory.measures import stationary_distribution

__all__ = ["LinearClass", "resolve_mu", "policy_table", "flat_P"]


def _ro(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    x.flags.writeable = False
    return x


def _as_real(x, name: str) -> np.ndarray:
    if sp.issparse(x):
        raise TypeError(f"{name} must be a dense array, got a scipy.sparse matrix")
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name}{list(idx)} = {float(arr[idx])!r} is not finite")
    return arr


class LinearClass:
    r"""The class :math:`\{\Phi w: w\in\mathbb R^d\}` weighted by a distribution :math:`\mu`.

    Parameters
    ----------
    features : array ``(S, A, d)`` or ``(S*A, d)``
        :math:`\phi(s,a)`. A 2-D array needs ``n_actions``.
    mu : array ``(S, A)`` or ``(S*A,)``
        Data distribution over state-action pairs (non-negative, sums to one within
        ``1e-10``). Zero entries are outside the support.
    n_actions : int, optional
        ``A`` when ``features`` is 2-D.
    rank_tol : float
        Singular values of :math:`D_\mu^{1/2}\Phi_{\rm supp}` below
        ``rank_tol * sigma_max`` are treated as zero.

    Attributes
    ----------
    phi : ``(S*A, d)`` features; S, A, d; mu ``(S*A,)``; support (int indices);
    sqrt_mu : ``(n_supp,)``; basis ``U`` ``(n_supp, r)``; singular_values ``(r,)``;
    coords ``R`` ``(d, r)``; null ``N`` ``(d, d - r)``; rank ``r``.
    """

    __slots__ = ("phi", "mu", "S", "A", "d", "support", "sqrt_mu", "basis", "singular_values",
                 "coords", "null", "rank", "rank_tol", "_frozen")

    def __init__(self, features, mu, *, n_actions: int | None = None, rank_tol: float = 1e-10):
        phi = _as_real(features, "features")
        if phi.ndim == 3:
            S, A, d = phi.shape
            phi = phi.reshape(S * A, d)
        elif phi.ndim == 2:
            if n_actions is None:
                raise ValueError("features of shape (S*A, d) need n_actions")
            A = check_int("n_actions", n_actions, 1)
            if phi.shape[0] % A:
                raise ValueError(f"n_actions = {n_actions!r} does not divide features.shape[0] = {phi.shape[0]}")
            S, d = phi.shape[0] // A, phi.shape[1]
        else:
            raise ValueError(f"features must have shape (S, A, d) or (S*A, d), got {phi.shape}")
        if d < 1 or S < 1:
            raise ValueError(f"features must have positive dimensions, got {phi.shape}")
        m = _as_real(mu, "mu")
        if m.shape == (S, A):
            m = m.reshape(S * A)
        if m.shape != (S * A,):
            raise ValueError(f"mu must have shape (S, A) = {(S, A)} or (S*A,), got {np.shape(mu)}")
        if (m < 0).any():
            i = int(np.argmax(m < 0))
            raise ValueError(f"mu[s={i // A}, a={i % A}] = {float(m[i])!r} is negative")
        tot = float(m.sum())
        if abs(tot - 1.0) > 1e-10:
            raise ValueError(f"mu sums to {tot!r}, not 1 (tolerance 1e-10)")
        rank_tol = check_probability("rank_tol", rank_tol, low_open=True, high_open=True)
        supp = np.flatnonzero(m > 0)
        sq = np.sqrt(m[supp])
        W = sq[:, None] * phi[supp]
        if W.shape[0] > 2 * d:
            # tall: QR first (O(n d^2)), then the SVD of the small triangular factor
            Qf, Rf = np.linalg.qr(W)
            Us, s, Vt = np.linalg.svd(Rf)
            U = Qf @ Us
        else:  # the full V (for the null space) when there are fewer rows than d
            U, s, Vt = np.linalg.svd(W, full_matrices=W.shape[0] < d)
            U = U[:, : s.size]
        smax = s[0] if s.size else 0.0
        r = int(np.sum(s > rank_tol * smax)) if smax > 0 else 0
        if r == 0:
            raise ValueError("features vanish on the support of mu: the class is {0}")
        self.phi = _ro(phi)
        self.mu = _ro(m)
        self.S, self.A, self.d = S, A, d
        self.support = supp
        self.support.flags.writeable = False
        self.sqrt_mu = _ro(sq)
        self.basis = _ro(U[:, :r])
        self.singular_values = _ro(s[:r])
        self.coords = _ro(Vt[:r].T / s[:r])
        self.null = _ro(Vt[r:].T)
        self.rank = r
        self.rank_tol = rank_tol
        self._frozen = True

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError("LinearClass is immutable")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"LinearClass(S={self.S}, A={self.A}, d={self.d}, rank={self.rank}, "
                f"support={self.support.size}/{self.S * self.A})")

    # -- weighted-space helpers ------------------------------------------------------------
    def _vec(self, f, name: str = "f") -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        if f.shape == (self.S, self.A):
            f = f.reshape(-1)
        if f.shape != (self.S * self.A,):
            raise ValueError(f"{name} must have shape (S, A) or (S*A,), got {f.shape}")
        return f

    def weigh(self, f) -> np.ndarray:
        r""":math:`D_\mu^{1/2}f` restricted to the support, for a vector ``(S*A,)`` or a matrix
        ``(S*A, k)`` (rows are pairs)."""
        f = np.asarray(f, dtype=np.float64)
        if f.shape[:1] != (self.S * self.A,) or f.ndim > 2:
            raise ValueError(f"expected shape (S*A,) or (S*A, k) with S*A = {self.S * self.A}, got {f.shape}")
        w = self.sqrt_mu if f.ndim == 1 else self.sqrt_mu[:, None]
        return w * f[self.support]

    def norm(self, f) -> float:
        r""":math:`\|f\|_\mu`."""
        return float(np.linalg.norm(self.weigh(self._vec(f))))

    def fit(self, f) -> np.ndarray:
        r"""Minimum-norm :math:`\arg\min_w\|\Phi w-f\|_\mu`."""
        return self.coords @ (self.basis.T @ self.weigh(self._vec(f)))

    def project(self, f) -> np.ndarray:
        r""":math:`\Phi\hat w` with :math:`\hat w` = :meth:`fit` (values on all pairs)."""
        return self.phi @ self.fit(f)

    def residual(self, f) -> float:
        r"""Realizability error :math:`\min_w\|\Phi w-f\|_\mu = \|(I-\Pi_\mu)f\|_\mu`."""
        g = self.weigh(self._vec(f))
        return float(np.linalg.norm(g - self.basis @ (self.basis.T @ g)))

    def values(self, w) -> np.ndarray:
        """``Phi w`` reshaped to ``(S, A)``."""
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (self.d,):
            raise ValueError(f"w must have shape (d,) = {(self.d,)}, got {w.shape}")
        return (self.phi @ w).reshape(self.S, self.A)


# -- MDP-side helpers ----------------------------------------------------------------------

def flat_P(mdp: DiscountedMDP):
    """Transition matrix with rows ``s*A + a``: dense ``(S*A, S)`` array or CSR."""
    if mdp.is_sparse:
        return mdp.P
    return np.asarray(mdp.P).reshape(mdp.S * mdp.A, mdp.S)


def policy_table(mdp, policy) -> np.ndarray:
    """Stochastic ``(S, A)`` table of a stationary policy (validated)."""
    if isinstance(mdp, EpisodicMDP):
        raise TypeError("policy_table expects a DiscountedMDP (stationary policy)")
    spec = validate_policy(mdp, policy)
    return np.asarray(to_stochastic(spec, mdp.A), dtype=np.float64)


def state_chain(mdp: DiscountedMDP, probs: np.ndarray):
    r""":math:`P^\pi_S(s,s')=\sum_a\pi(a|s)P(s'|s,a)` (dense or CSR ``(S, S)``)."""
    S, A = mdp.S, mdp.A
    Pf = flat_P(mdp)
    rows = np.repeat(np.arange(S), A)
    Pi = sp.csr_matrix((probs.reshape(-1), (rows, np.arange(S * A))), shape=(S, S * A))
    out = Pi @ Pf
    return out if sp.issparse(out) else np.asarray(out)


def resolve_mu(mdp: DiscountedMDP, policy, mu) -> np.ndarray:
    r"""Data distribution over pairs, flattened to ``(S*A,)``.

    ``mu`` is an array ``(S, A)`` / ``(S*A,)``, or one of

    * ``"uniform"``: :math:`1/(SA)` on every pair;
    * ``"on-policy"`` (alias ``"stationary"``): :math:`d^\pi(s)\pi(a|s)` with :math:`d^\pi`
      the limiting-average distribution of :math:`P^\pi_S` from ``mdp.initial``
      (:func:`mdptheory.measures.stationary_distribution`), which makes :math:`\mu`
      stationary for the pair chain :math:`P^\pi`;
    * ``"occupancy"``: the normalised discounted occupancy
      :math:`(1-\gamma)\rho_0^\top(I-\gamma P^\pi)^{-1}` over pairs.
    """
    S, A = mdp.S, mdp.A
    if isinstance(mu, str):
        key = mu.lower()
        if key == "uniform":
            return np.full(S * A, 1.0 / (S * A))
        probs = policy_table(mdp, policy)
        if key in ("on-policy", "stationary", "onpolicy"):
            d = stationary_distribution(state_chain(mdp, probs), initial=mdp.initial)
            return (d[:, None] * probs).reshape(-1)
        if key == "occupancy":
            return discounted_occupancy(mdp, probs).reshape(-1)
        raise ValueError(f"mu = {mu!r}: use an array, 'uniform', 'on-policy' or 'occupancy'")
    m = _as_real(mu, "mu")
    if m.shape == (S, A):
        m = m.reshape(-1)
    if m.shape != (S * A,):
        raise ValueError(f"mu must have shape (S, A) = {(S, A)} or (S*A,), got {m.shape}")
    return m


def discounted_occupancy(mdp: DiscountedMDP, probs: np.ndarray, initial=None) -> np.ndarray:
    r"""Normalised discounted occupancy :math:`d^\pi(s,a)=(1-\gamma)\sum_t\gamma^t\Pr(s_t=s,a_t=a)`
    from ``initial`` (default ``mdp.initial``), shape ``(S, A)``."""
    g = mdp.gamma
    rho = mdp.initial if initial is None else np.asarray(initial, dtype=np.float64)
    Pss = state_chain(mdp, probs)
    if sp.issparse(Pss):
        M = (sp.identity(mdp.S, format="csc") - g * Pss.T).tocsc()
        dS = spla.spsolve(M, rho)
    else:
        dS = np.linalg.solve(np.eye(mdp.S) - g * Pss.T, rho)
    dS = (1.0 - g) * np.asarray(dS)
    return dS[:, None] * probs

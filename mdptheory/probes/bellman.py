r"""Exact realizability / Bellman-completeness probes for linear policy evaluation.

Setting (``proofs_notes/bellman_completeness.md``): a discounted MDP, a stationary target policy
:math:`\pi`, a linear class :math:`\{\Phi w\}` and a data distribution :math:`\mu` over pairs.
With :math:`Y=\gamma P^\pi\Phi` (``(S*A, d)``; :math:`(P^\pi\Phi)(s,a)=\sum_{s'}P(s'|s,a)
\sum_{a'}\pi(a'|s')\phi(s',a')`) and orthonormal coordinates :math:`\Phi R` of the class
(:class:`~mdptheory.probes.linear_class.LinearClass`):

===========================  =============================================================
quantity                     definition (all norms :math:`\|\cdot\|_\mu` on supp μ)
===========================  =============================================================
realizability error          :math:`\min_w\|\Phi w-Q^\pi\|_\mu`
incompleteness ratio         :math:`\varepsilon_{\rm inc}=\sup_v\|(I-\Pi_\mu)\gamma P^\pi\Phi v\|/\|\Phi v\|`
complete-case conditioning   :math:`\kappa_c=\sup_v\|\Phi v\|/\|(I-\gamma P^\pi)\Phi v\|`
fixed-point amplification    :math:`\kappa=\sup_v\|\Phi v\|/\|(I-\Pi_\mu\gamma P^\pi)\Phi v\|`
amplification bound          :math:`\kappa_c/(1-\kappa_c\varepsilon_{\rm inc})` if :math:`\kappa_c\varepsilon_{\rm inc}<1`
FQE spectral radius          :math:`\rho\big((\Phi^\top D\Phi)^{+}\Phi^\top D\gamma P^\pi\Phi\big)`
TD(0) matrix                 :math:`A=\Phi^\top D_\mu(I-\gamma P^\pi)\Phi` (eigenvalues)
concentrability              :math:`\sup_v\|\Phi v\|^2_{d^\pi}/\|\Phi v\|^2_\mu`
===========================  =============================================================

Provenance. The realizability error, the projected Bellman error, the classic inherent
Bellman error operator (Antos, Szepesvári & Munos 2008; Munos & Szepesvári 2008), the FQE
iteration matrix and the TD(0) matrix (Tsitsiklis & Van Roy 1997) are standard. The
incompleteness ratio, :math:`\kappa_c`, :math:`\kappa` and the amplification lemma
:math:`\kappa_c/(1+\kappa_c\varepsilon_{\rm inc})\le\kappa\le\kappa_c/(1-\kappa_c\varepsilon_{\rm inc})`
are the notes' **[D]** *reconstruction* of Zanette (ICML 2023)'s "mis-alignment" factor, whose
exact normalisation could not be verified: they are named here as this toolkit's quantities.
Also toolkit choices: the μ-ball on which the classic IBE of a (unbounded) linear class is
taken, and the class-restricted concentrability. See ``proofs_notes/bellman_completeness.md``
(section "Which definitions follow the papers and which are reconstructions").

Rank-deficient classes. Suprema are over all :math:`w\in\mathbb R^d`. A parameter direction
:math:`n` with :math:`\Phi n=0` on the support but :math:`\gamma P^\pi\Phi n\ne0` there
("leak": the Bellman image depends on values the data never sees) makes
:math:`\varepsilon_{\rm inc}=\infty` when the leak is not in the class; :math:`\kappa_c` and
:math:`\kappa` then take the infimum over the invisible part, computed exactly by projecting
it out. ``identifiable`` reports whether there is no leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.probes.linear_class import (
    LinearClass,
    discounted_occupancy,
    flat_P,
    policy_table,
    resolve_mu,
)
from mdptheory.solvers import evaluate

__all__ = [
    "BellmanReport",
    "PEOperators",
    "pe_operators",
    "bellman_report",
    "as_linear_class",
    "incompleteness_ratio",
    "inherent_bellman_error_ball",
    "BallIBE",
]

_ABS_TOL = 1e-10


def as_linear_class(mdp, features, mu, policy=None, *, rank_tol: float = 1e-10) -> LinearClass:
    """A :class:`LinearClass` from an existing one, or from ``features`` and ``mu``
    (array or ``"uniform"`` / ``"on-policy"`` / ``"occupancy"``, see
    :func:`~mdptheory.probes.linear_class.resolve_mu`)."""
    if isinstance(features, LinearClass):
        if mu is not None and not (isinstance(mu, str) and mu == "class"):
            m = resolve_mu(mdp, policy, mu)
            if not np.array_equal(m, features.mu):
                return LinearClass(features.phi, m, n_actions=features.A, rank_tol=features.rank_tol)
        lc = features
    else:
        if mu is None:
            raise ValueError("mu is required when features is an array")
        m = resolve_mu(mdp, policy, mu)
        f = np.asarray(features)
        if f.ndim == 2:
            lc = LinearClass(f, m, n_actions=mdp.A, rank_tol=rank_tol)
        else:
            lc = LinearClass(f, m, rank_tol=rank_tol)
    if (lc.S, lc.A) != (mdp.S, mdp.A):
        raise ValueError(f"features are for (S, A) = {(lc.S, lc.A)}, the MDP has {(mdp.S, mdp.A)}")
    return lc


@dataclass(frozen=True, eq=False)
class PEOperators:
    r"""Exact policy-evaluation operators on a linear class (weighted, support-restricted).

    Attributes
    ----------
    lc : LinearClass
    gamma : float
    probs : ``(S, A)`` target policy
    r : ``(S*A,)`` mean rewards
    Y : ``(S*A, d)`` :math:`\gamma P^\pi\Phi`
    phi_pi : ``(S, d)`` :math:`\Phi^\pi(s)=\sum_a\pi(a|s)\phi(s,a)`
    Q : ``(S*A,)`` exact :math:`Q^\pi`
    WY : weighted :math:`D^{1/2}Y` on the support; Wr : weighted rewards
    M : ``(r, r)`` FQE iteration matrix in orthonormal coordinates :math:`U^\top D^{1/2}YR`
    leak : float, :math:`\|D^{1/2}YN\|_2` (0 when identifiable)
    """

    lc: LinearClass
    gamma: float
    probs: np.ndarray
    r: np.ndarray
    Y: np.ndarray
    phi_pi: np.ndarray
    Q: np.ndarray
    WY: np.ndarray
    Wr: np.ndarray
    M: np.ndarray
    leak: float


def pe_operators(mdp: DiscountedMDP, lc: LinearClass, policy) -> PEOperators:
    """Build :class:`PEOperators` (one sparse/dense product with ``P`` and one exact
    policy evaluation)."""
    if isinstance(mdp, EpisodicMDP) or not isinstance(mdp, DiscountedMDP):
        raise TypeError(f"policy-evaluation probes need a DiscountedMDP, got {type(mdp).__name__}")
    probs = policy_table(mdp, policy)
    S, A = mdp.S, mdp.A
    phi3 = lc.phi.reshape(S, A, lc.d)
    phi_pi = np.einsum("sa,sad->sd", probs, phi3)
    Pf = flat_P(mdp)
    Y = mdp.gamma * np.asarray(Pf @ phi_pi)
    r = np.asarray(mdp.R, dtype=np.float64).reshape(-1)
    V = evaluate(mdp, probs)
    Q = r + mdp.gamma * np.asarray(Pf @ V).reshape(-1)
    WY = lc.weigh(Y)
    Wr = lc.weigh(r)
    M = lc.basis.T @ WY @ lc.coords
    leak = _norm2(WY @ lc.null) if lc.null.shape[1] else 0.0
    return PEOperators(lc, mdp.gamma, probs, r, Y, phi_pi, Q, WY, Wr, M, leak)


def _orth(C: np.ndarray, tol: float) -> np.ndarray:
    """Orthonormal basis of the column space of C (rank by relative+absolute tolerance)."""
    if C.size == 0:
        return np.zeros((C.shape[0], 0))
    U, s, _ = np.linalg.svd(C, full_matrices=False)
    k = int(np.sum(s > tol))
    return U[:, :k]


def _svals(B: np.ndarray) -> np.ndarray:
    """Singular values (descending); a QR of a tall matrix first keeps the cost O(n k^2)."""
    if B.size == 0:
        return np.zeros(0)
    if B.shape[0] > 2 * B.shape[1]:
        B = np.linalg.qr(B, mode="r")
    return np.linalg.svd(B, compute_uv=False)


def _norm2(B: np.ndarray) -> float:
    s = _svals(B)
    return float(s[0]) if s.size else 0.0


def _smin(B: np.ndarray) -> float:
    if B.shape[1] == 0:
        return np.inf
    if B.shape[0] < B.shape[1]:
        return 0.0
    return float(_svals(B)[-1])


def _leak_tol(ops: PEOperators) -> float:
    return _ABS_TOL * max(1.0, _norm2(ops.WY))


def incompleteness_ratio(ops: PEOperators) -> float:
    r""":math:`\varepsilon_{\rm inc}=\sigma_{\max}\big(D^{1/2}(I-\Pi_\mu)YR\big)` (``inf`` when an
    invisible parameter direction leaks outside the class)."""
    lc = ops.lc
    U = lc.basis
    K = ops.WY @ lc.coords
    K = K - U @ (U.T @ K)
    if lc.null.shape[1]:
        KN = ops.WY @ lc.null
        KN = KN - U @ (U.T @ KN)
        if _norm2(KN) > _leak_tol(ops):
            return np.inf
    return float(_norm2(K))


def _kappa_pair(ops: PEOperators) -> tuple[float, float]:
    lc = ops.lc
    U = lc.basis
    WYR = ops.WY @ lc.coords
    Bc = U - WYR
    B = U - U @ ops.M
    if lc.null.shape[1] and ops.leak > _leak_tol(ops):
        tol = _leak_tol(ops)
        C = _orth(ops.WY @ lc.null, tol)
        Bc = Bc - C @ (C.T @ Bc)
        C2 = _orth(U @ (U.T @ (ops.WY @ lc.null)), tol)
        B = B - C2 @ (C2.T @ B)
    sc, s = _smin(Bc), _smin(B)
    kc = np.inf if sc <= 0 else 1.0 / sc
    k = np.inf if s <= 0 else 1.0 / s
    return kc, k


@dataclass(frozen=True, eq=False)
class BellmanReport:
    r"""Exact policy-evaluation probes of a linear class (see module docstring).

    Attributes
    ----------
    realizability_error : float
        :math:`\min_w\|\Phi w-Q^\pi\|_\mu`.
    realizability_relative : float
        The same divided by :math:`\|Q^\pi\|_\mu` (0 when both vanish).
    w_fit : ndarray ``(d,)``
        Minimum-norm least-squares fit of :math:`Q^\pi`.
    projected_bellman_error : float
        :math:`\|\Phi w-\Pi_\mu T^\pi\Phi w\|_\mu` at ``w_fit``.
    bellman_error : float
        :math:`\|\Phi w-T^\pi\Phi w\|_\mu` at ``w_fit``.
    reward_residual : float
        :math:`\|(I-\Pi_\mu)r\|_\mu`.
    complete : bool
        :math:`T^\pi\mathcal Q\subseteq\mathcal Q` on the support:
        ``reward_residual`` and ``eps_inc`` both below tolerance.
    eps_inc, kappa_c, kappa : float
        Incompleteness ratio, complete-case conditioning, fixed-point amplification.
    amplification_bound : float
        :math:`\kappa_c/(1-\kappa_c\varepsilon_{\rm inc})`, ``inf`` when
        :math:`\kappa_c\varepsilon_{\rm inc}\ge1`.
    ibe_slope : float
        Classic inherent Bellman error per unit radius of a μ-ball centred at the realizing
        parameter (equals ``eps_inc`` when realizable; ``nan`` when not).
    fqe_spectral_radius : float
    fqe_converges : bool
        ``fqe_spectral_radius < 1``.
    td_eigenvalues : ndarray ``(d,)`` complex
        Eigenvalues of :math:`A=\Phi^\top D_\mu(I-\gamma P^\pi)\Phi` (parameter space, sorted
        by real part).
    td_min_real : float
        :math:`\min\mathrm{Re}` of the eigenvalues of :math:`A` restricted to the range of
        :math:`\Phi^\top D_\mu` (invisible directions excluded; they are exact zeros).
    td_stable : bool
        ``td_min_real > 0``: expected TD(0) converges for small enough constant steps.
    concentrability : float
        :math:`C_{\pi,\mu}` with :math:`d^\pi` from ``mdp.initial``.
    w_fixed_point : ndarray ``(d,)``
        The LSTD / projected fixed point :math:`\Phi w=\Pi_\mu T^\pi\Phi w` (minimum norm).
    fixed_point_error : float
        :math:`\|\Phi w_{\rm fp}-Q^\pi\|_\mu` (``inf`` if no unique fixed point).
    rank, d : int
    identifiable : bool
        No invisible direction leaks into :math:`\gamma P^\pi\Phi` (see module docstring).
    gamma : float
    """

    realizability_error: float
    realizability_relative: float
    w_fit: np.ndarray
    projected_bellman_error: float
    bellman_error: float
    reward_residual: float
    complete: bool
    eps_inc: float
    kappa_c: float
    kappa: float
    amplification_bound: float
    ibe_slope: float
    fqe_spectral_radius: float
    fqe_converges: bool
    td_eigenvalues: np.ndarray
    td_min_real: float
    td_stable: bool
    concentrability: float
    w_fixed_point: np.ndarray
    fixed_point_error: float
    rank: int
    d: int
    identifiable: bool
    gamma: float
    fqe_matrix: np.ndarray = field(repr=False, default=None)

    def summary(self) -> str:
        """A short multi-line text summary."""
        ev = ", ".join(f"{z.real:.4g}" + (f"{z.imag:+.3g}j" if abs(z.imag) > 1e-12 else "")
                       for z in self.td_eigenvalues)
        return (
            f"realizability error {self.realizability_error:.4g} (relative {self.realizability_relative:.3g})\n"
            f"complete: {self.complete}; eps_inc {self.eps_inc:.4g}; kappa_c {self.kappa_c:.4g}; "
            f"kappa {self.kappa:.4g}; bound {self.amplification_bound:.4g}\n"
            f"FQE spectral radius {self.fqe_spectral_radius:.4g} (converges: {self.fqe_converges}); "
            f"TD eig [{ev}] (stable: {self.td_stable})\n"
            f"concentrability {self.concentrability:.4g}; fixed-point error {self.fixed_point_error:.4g}; "
            f"rank {self.rank}/{self.d}"
        )


def _fixed_point(ops: PEOperators, identifiable: bool) -> np.ndarray | None:
    lc = ops.lc
    r = lc.rank
    IM = np.eye(r) - ops.M
    if identifiable:
        if np.linalg.svd(IM, compute_uv=False)[-1] <= 1e-13:
            return None
        v = np.linalg.solve(IM, lc.basis.T @ ops.Wr)
        return lc.coords @ v
    Wphi = lc.weigh(lc.phi)
    A = Wphi.T @ (Wphi - ops.WY)
    b = Wphi.T @ ops.Wr
    w, *_ = np.linalg.lstsq(A, b, rcond=None)
    if np.linalg.norm(A @ w - b) > 1e-9 * max(1.0, np.linalg.norm(b)):
        return None
    return w


def bellman_report(mdp: DiscountedMDP, features, policy, mu="on-policy", *,
                   rank_tol: float = 1e-10, tol: float = 1e-9) -> BellmanReport:
    r"""All exact policy-evaluation probes of the linear class ``features`` for ``policy``.

    Parameters
    ----------
    mdp : DiscountedMDP
    features : array ``(S, A, d)`` / ``(S*A, d)`` or :class:`LinearClass`
    policy : deterministic ``(S,)`` int or stochastic ``(S, A)`` float
        The target policy :math:`\pi`.
    mu : array ``(S, A)`` or ``"on-policy"`` / ``"uniform"`` / ``"occupancy"``
        Data distribution over pairs (restricts everything to its support).
    rank_tol : float
        Relative singular-value cut-off of the weighted features.
    tol : float
        Tolerance of the ``complete`` flag (absolute, scaled by ``max(1, ||.||)``).

    Returns
    -------
    BellmanReport

    Notes
    -----
    Cost: one thin SVD of the ``n_supp x d`` weighted features, one product ``P Phi^pi``,
    one exact policy evaluation, and SVDs / eigendecompositions of ``d x d`` or
    ``n_supp x r`` matrices: :math:`O(SA\,d^2+\mathrm{nnz}(P)d)` plus the evaluation.
    References: Tsitsiklis & Van Roy (1997); Zanette (2023)
    (reconstruction, see the module docstring).
    """
    tol = float(tol)
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol = {tol!r} must be a positive finite number")
    lc = as_linear_class(mdp, features, mu, policy, rank_tol=rank_tol)
    ops = pe_operators(mdp, lc, policy)
    U = lc.basis
    identifiable = ops.leak <= _leak_tol(ops)

    # realizability
    WQ = lc.weigh(ops.Q)
    real_err = float(np.linalg.norm(WQ - U @ (U.T @ WQ)))
    qn = float(np.linalg.norm(WQ))
    real_rel = real_err / qn if qn > 0 else (0.0 if real_err == 0 else np.inf)
    w_fit = lc.coords @ (U.T @ WQ)
    Wphi_w = U @ (U.T @ WQ)
    TW = ops.Wr + ops.WY @ w_fit
    pbe = float(np.linalg.norm(Wphi_w - U @ (U.T @ TW)))
    be = float(np.linalg.norm(Wphi_w - TW))

    # completeness
    rres = float(np.linalg.norm(ops.Wr - U @ (U.T @ ops.Wr)))
    eps = incompleteness_ratio(ops)
    kc, k = _kappa_pair(ops)
    complete = bool(rres <= tol * max(1.0, float(np.linalg.norm(ops.Wr)))
                    and eps <= tol * max(1.0, _norm2(ops.WY)))
    prod = kc * eps if np.isfinite(kc) else np.inf  # inf * 0 would be nan
    bound = kc / (1.0 - prod) if prod < 1 else np.inf
    ibe_slope = eps if real_rel <= 1e-8 else np.nan

    # FQE and TD
    ev_M = np.linalg.eigvals(ops.M) if lc.rank else np.zeros(0)
    rho = float(np.max(np.abs(ev_M))) if ev_M.size else 0.0
    Wphi = lc.weigh(lc.phi)
    A = Wphi.T @ (Wphi - ops.WY)
    eig = np.linalg.eigvals(A)
    eig = eig[np.lexsort((eig.imag, eig.real))]
    Vr = lc.coords * lc.singular_values  # = V_r
    A11 = Vr.T @ A @ Vr
    td_min = float(np.min(np.linalg.eigvals(A11).real))

    # concentrability
    dpi = discounted_occupancy(mdp, ops.probs).reshape(-1)
    Wd = np.sqrt(dpi)[:, None] * lc.phi
    if lc.null.shape[1] and _norm2(Wd @ lc.null) > _ABS_TOL * max(1.0, _norm2(Wd)):
        conc = np.inf
    else:
        conc = float(_norm2(Wd @ lc.coords) ** 2)

    wfp = _fixed_point(ops, identifiable)
    if wfp is None:
        wfp_arr = np.full(lc.d, np.nan)
        fp_err = np.inf
    else:
        wfp_arr = wfp
        fp_err = lc.norm(lc.phi @ wfp - ops.Q)

    return BellmanReport(
        realizability_error=real_err, realizability_relative=real_rel, w_fit=w_fit,
        projected_bellman_error=pbe, bellman_error=be, reward_residual=rres, complete=complete,
        eps_inc=eps, kappa_c=kc, kappa=k, amplification_bound=bound, ibe_slope=ibe_slope,
        fqe_spectral_radius=rho, fqe_converges=bool(rho < 1.0), td_eigenvalues=eig,
        td_min_real=td_min, td_stable=bool(td_min > 0), concentrability=conc,
        w_fixed_point=wfp_arr, fixed_point_error=fp_err, rank=lc.rank, d=lc.d,
        identifiable=bool(identifiable), gamma=mdp.gamma, fqe_matrix=ops.M,
    )


# -- classic inherent Bellman error on a mu-ball ------------------------------------------

@dataclass(frozen=True, eq=False)
class BallIBE:
    r"""Classic inherent Bellman error of :math:`T^\pi` over a μ-ball of the class.

    :math:`\mathrm{IBE}(\rho)=\sup_{\|\Phi(w-c)\|_\mu\le\rho}\ \inf_{w'}\|\Phi w'-T^\pi\Phi w\|_\mu`.

    Attributes
    ----------
    value : float
        Best certified estimate (the midpoint of ``[lower, upper]``; exact when they meet).
    lower, upper : float
        Certified bracket: ``lower`` is attained at ``w_argmax``; ``upper`` is a Lagrangian
        dual bound.
    w_argmax : ndarray ``(d,)``
    radius : float
    centre : ndarray ``(d,)``
    simple_bracket : (float, float)
        The notes' bracket :math:`[\max(\sigma_{\max}\rho-\|b\|,\|b\|),\ \sigma_{\max}\rho+\|b\|]`
        (:math:`b` the residual at the centre).
    """

    value: float
    lower: float
    upper: float
    w_argmax: np.ndarray
    radius: float
    centre: np.ndarray
    simple_bracket: tuple


def _max_norm_ball(K: np.ndarray, b: np.ndarray, rho: float):
    r"""Exact :math:`\max_{\|u\|\le\rho}\|b+Ku\|` by the secular equation.

    Stationarity on the boundary: :math:`(\lambda I-K^\top K)u=K^\top b`,
    :math:`\lambda\ge\sigma_{\max}^2`, :math:`\|u\|=\rho`. Weak duality gives, for any
    :math:`\lambda>\sigma_{\max}^2`, the bound
    :math:`\|b\|^2+\lambda\rho^2+c^\top(\lambda I-\Lambda)^{-1}c` with :math:`c=Q^\top K^\top b`.
    """
    r = K.shape[1]
    if rho == 0 or r == 0:
        v = float(np.linalg.norm(b))
        return v, v, np.zeros(r)
    lam_all, Qm = np.linalg.eigh(K.T @ K)
    lam_all = np.clip(lam_all, 0.0, None)
    smax = float(lam_all[-1])
    c = Qm.T @ (K.T @ b)
    bb = float(b @ b)
    scale = max(smax, 1e-300)
    top = lam_all >= smax - 1e-12 * scale

    def unorm(lmb):
        return float(np.linalg.norm(c / (lmb - lam_all)))

    def dual(lmb):
        return bb + lmb * rho * rho + float(np.sum(c * c / (lmb - lam_all)))

    if smax <= 0:  # K == 0: the residual does not depend on u
        v = float(np.sqrt(bb))
        return v, v, np.zeros(r)
    ctop = float(np.linalg.norm(c[top]))
    nt = ~top
    if ctop <= 1e-13 * max(1.0, float(np.linalg.norm(c))):
        u_nt = np.zeros(r)
        u_nt[nt] = c[nt] / (smax - lam_all[nt])
        if float(np.linalg.norm(u_nt)) <= rho:
            # hard case: lambda = smax, fill the top eigenspace up to the boundary
            u_nt[int(np.flatnonzero(top)[0])] = np.sqrt(max(rho * rho - float(u_nt @ u_nt), 0.0))
            u = Qm @ u_nt
            val = float(np.linalg.norm(b + K @ u))
            dual_lim = bb + smax * rho * rho + float(np.sum(c[nt] ** 2 / (smax - lam_all[nt])))
            return val, max(val, float(np.sqrt(max(dual_lim, 0.0)))), u
    # secular equation ||u(lambda)|| = rho, decreasing in lambda on (smax, inf)
    eps = 1e-15 * scale
    lo = smax + eps
    hi = smax + float(np.linalg.norm(c)) / rho + eps
    while unorm(hi) > rho:
        hi = smax + 2.0 * (hi - smax)
    for _ in range(300):
        mid = 0.5 * (lo + hi)
        if unorm(mid) > rho:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    lmb = hi  # ||u(hi)|| <= rho: feasible, so val is a certified lower bound
    u = Qm @ (c / (lmb - lam_all))
    val = float(np.linalg.norm(b + K @ u))
    upper = float(np.sqrt(max(dual(lmb), 0.0)))
    return val, max(upper, val), u


def inherent_bellman_error_ball(mdp: DiscountedMDP, features, policy, mu, radius: float,
                                centre=None, *, rank_tol: float = 1e-10) -> BallIBE:
    r"""Classic inherent Bellman error (Antos, Szepesvári & Munos 2008, PE form) on the
    μ-ball :math:`\{w:\|\Phi(w-c)\|_\mu\le\rho\}` of the class.

    Writing :math:`w=c+Ru+n` (``n`` invisible on the support), the inner infimum is
    :math:`\|(I-\Pi_\mu)T^\pi\Phi w\|_\mu=\|b+Ku\|` with
    :math:`K=(I-\Pi_\mu)D^{1/2}YR` and :math:`b=(I-\Pi_\mu)D^{1/2}(r+Yc)`, so the outer
    supremum is a trust-region *maximisation*, solved here exactly by the secular equation
    with a certified dual upper bound.

    * ``centre=None`` uses the realizing parameter (least-squares fit of :math:`Q^\pi`); when
      :math:`Q^\pi` is realizable, :math:`b=0` and the value is exactly
      :math:`\varepsilon_{\rm inc}\rho` (linear in the radius).
    * Any other centre (e.g. ``np.zeros(d)``, the ball of the classic definition) gives the
      exact value with its bracket, plus the notes' cruder bracket.

    Raises ``ValueError`` for a negative or non-finite radius or a centre of the wrong shape.
    When an invisible parameter direction leaks outside the class (``eps_inc = inf``, see the
    module docstring) the ball is unbounded in the Bellman image and every field of the
    result is ``inf``.

    Reference: ``proofs_notes/bellman_completeness.md``; proof of the centred case and of the
    trust-region solution in ``proofs_notes/bellman_completeness.md``.
    """
    radius = float(radius)
    if not np.isfinite(radius) or radius < 0:
        raise ValueError(f"radius = {radius!r} must be finite and >= 0")
    lc = as_linear_class(mdp, features, mu, policy, rank_tol=rank_tol)
    ops = pe_operators(mdp, lc, policy)
    U = lc.basis
    if centre is None:
        c = lc.fit(ops.Q)
    else:
        c = np.asarray(centre, dtype=np.float64)
        if c.shape != (lc.d,):
            raise ValueError(f"centre must have shape (d,) = {(lc.d,)}, got {c.shape}")
    K = ops.WY @ lc.coords
    K = K - U @ (U.T @ K)
    b = ops.Wr + ops.WY @ c
    b = b - U @ (U.T @ b)
    eps = float(_norm2(K)) if K.size else 0.0
    nb = float(np.linalg.norm(b))
    simple = (max(eps * radius - nb, nb), eps * radius + nb)
    if incompleteness_ratio(ops) == np.inf:
        return BallIBE(np.inf, np.inf, np.inf, c.copy(), radius, c, (np.inf, np.inf))
    val, upper, u = _max_norm_ball(K, b, radius)
    lower = val
    return BallIBE(0.5 * (lower + upper), lower, upper, c + lc.coords @ u, radius, c, simple)

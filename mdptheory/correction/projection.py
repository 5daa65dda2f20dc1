r"""MaxEnt model correction (MoCo): the KL projection of an approximate kernel onto the
kernels that match given next-state expectations.

For every pair :math:`(s,a)`, with :math:`\hat p=\hat P(\cdot|s,a)`, basis functions
:math:`\phi_1,\dots,\phi_d` of the next state and targets :math:`\psi(s,a)\in\mathbb R^d`
(the true expectations :math:`(P\phi_i)(s,a)`, exact or estimated),

.. math::
    \bar P(\cdot|s,a)=\arg\min_{q\in\Delta}\ \mathrm{KL}(q\,\|\,\hat p)
    \quad\text{s.t.}\quad \mathbb E_q[\phi_i]=\psi_i(s,a),\ i=1..d,

whose solution is the exponential tilt :math:`\bar P(y|s,a)=\hat p(y)\,e^{\lambda^{*\top}\phi(y)}/Z`
with :math:`\lambda^*` the minimiser of the convex ``d``-dimensional dual

.. math::
    g(\lambda)=\log\sum_y \hat p(y)e^{\lambda^\top\phi(y)}-\lambda^\top\psi+\tfrac{\rho}{2}\|\lambda\|^2,
    \qquad \nabla g=\mathbb E_{q_\lambda}[\phi]-\psi+\rho\lambda,\qquad
    \nabla^2 g=\mathrm{Cov}_{q_\lambda}(\phi)+\rho I .

``reg`` :math:`=\rho>0` is the regularised dual, whose primal is
:math:`\min_q \mathrm{KL}(q\|\hat p)+\frac1{2\rho}\|\mathbb E_q\phi-\psi\|^2` (always solvable).
Rakhsha, Kemertas, Ghavamzadeh & Farahmand, "Maximum Entropy Model Correction in
Reinforcement Learning", ICLR 2024 (MaxEnt MoCo); the closed form and dual are the classical
MaxEnt / I-projection results (Csiszar 1975; Della Pietra, Della Pietra & Lafferty 1997).

Solver: damped Newton on :math:`g` (first trial step capped at Newton decrement
:data:`MAX_DECREMENT`) with an Armijo backtracking line search, log-sum-exp with
a max shift, a two-pass (centred) covariance and a jittered Cholesky; compiled with numba and
looped over all pairs, warm-started from ``dual0``. Pairs that do not converge are checked by
a linear program: a target outside the convex hull of :math:`\{\phi(y):\hat p(y)>0\}` is
reported as infeasible (the row is then left at :math:`\hat p` with a zero dual).

Provenance and reconstructions: proofs_notes/moco.md
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numba
from numba import njit
from scipy.optimize import linprog
from scipy.special import logsumexp

from mdptheory.core import DiscountedMDP
from mdptheory.core.validation import check_bool, check_distribution, check_finite_array, check_int, check_real

__all__ = [
    "MaxEntProjection",
    "maxent_projection",
    "project_rows",
    "project_rows_ref",
    "project_rows_parallel",
    "exp_shifted",
    "exp_shifted_ref",
    "MAX_DECREMENT",
    "STATUS_CONVERGED",
    "STATUS_MAX_ITER",
    "STATUS_INFEASIBLE",
]

#: Per-pair status codes of :class:`MaxEntProjection`.
STATUS_CONVERGED = 0
STATUS_MAX_ITER = 1
STATUS_INFEASIBLE = 2


@dataclass(frozen=True, eq=False)
class MaxEntProjection:
    r"""Result of :func:`maxent_projection`.

    Attributes
    ----------
    kernel : ndarray ``(S, A, S)``
        The corrected kernel :math:`\bar P` (rows of infeasible pairs are :math:`\hat P`).
    dual : ndarray ``(S, A, d)``
        :math:`\lambda^*(s,a)` (zero for infeasible pairs).
    status : ndarray of int8 ``(S, A)``
        :data:`STATUS_CONVERGED` (0), :data:`STATUS_MAX_ITER` (1: feasible, not converged in
        ``max_iter`` Newton steps) or :data:`STATUS_INFEASIBLE` (2: no ``q << P_hat`` meets the
        targets; certified by a linear program; only with ``reg = 0``).
    constraint_error : ndarray ``(S, A)``
        :math:`\max_i|\mathbb E_{\bar P}\phi_i-\psi_i|` (with ``reg = 0``: from the
        solver's final gradient evaluation; the tests recompute it from ``kernel``).
    gradient_norm : ndarray ``(S, A)``
        :math:`\|\nabla g(\lambda^*)\|_\infty` (equals ``constraint_error`` when ``reg = 0``).
    iterations : ndarray of int64 ``(S, A)``
        Newton steps taken per pair.
    boundary : ndarray of bool ``(S, A)``
        The targets lie on a proper face of the convex hull of the support (e.g. a true
        deterministic transition to a vertex): the projection is supported on that face, the
        unrestricted dual is at infinity, and ``dual`` holds the dual of the problem
        restricted to the face.
    reg, tol : float
    """

    kernel: np.ndarray
    dual: np.ndarray
    status: np.ndarray
    constraint_error: np.ndarray
    gradient_norm: np.ndarray
    iterations: np.ndarray
    boundary: np.ndarray
    reg: float
    tol: float

    @property
    def converged(self) -> np.ndarray:
        """Boolean ``(S, A)``: the pair's dual was solved to ``tol``."""
        return self.status == STATUS_CONVERGED

    @property
    def feasible(self) -> np.ndarray:
        """Boolean ``(S, A)``: the targets lie in the convex hull of the support."""
        return self.status != STATUS_INFEASIBLE

    @property
    def n_converged(self) -> int:
        return int(np.count_nonzero(self.status == STATUS_CONVERGED))

    @property
    def n_infeasible(self) -> int:
        return int(np.count_nonzero(self.status == STATUS_INFEASIBLE))

    def __repr__(self) -> str:
        S, A = self.status.shape
        return (f"MaxEntProjection(S={S}, A={A}, d={self.dual.shape[-1]}, converged={self.n_converged}/"
                f"{S * A}, boundary={int(self.boundary.sum())}, infeasible={self.n_infeasible}, max constraint error="
                f"{float(self.constraint_error.max(initial=0.0)):.3g}, reg={self.reg:g})")


def _as_kernel(P_hat) -> np.ndarray:
    if isinstance(P_hat, DiscountedMDP):
        return np.ascontiguousarray(P_hat.dense_P(), dtype=np.float64)
    P = check_distribution("P_hat", P_hat, atol=1e-10)
    if P.ndim != 3 or P.shape[0] < 1 or P.shape[2] < 1:
        raise ValueError(f"P_hat must have shape (S, A, S), got {P.shape}")
    if P.shape[0] != P.shape[2]:
        raise ValueError(f"P_hat must have shape (S, A, S), got {P.shape} (first and last axes differ)")
    return np.ascontiguousarray(P)


def maxent_projection(P_hat, basis, targets, reg: float = 0.0, *, dual0=None, tol: float = 1e-12,
                      max_iter: int = 200, parallel: bool = False) -> MaxEntProjection:
    r"""MaxEnt model correction of every row of ``P_hat`` (see the module docstring).

    Parameters
    ----------
    P_hat : array ``(S, A, S)`` or DiscountedMDP
        Approximate kernel :math:`\hat P`.
    basis : array ``(S, d)``
        :math:`\phi_i(y)` = ``basis[y, i]`` (``d = 0`` allowed: nothing to match).
    targets : array ``(S, A, d)``
        :math:`\psi_i(s,a)`.
    reg : float >= 0
        :math:`\rho`, the ridge term of the dual (0: exact matching).
    dual0 : array ``(S, A, d)``, optional
        Warm start for :math:`\lambda` (default 0).
    tol : float > 0
        A pair has converged when :math:`|\partial_i g|\le` ``tol * max(1, max_y|phi_i(y)|)``
        for every ``i``.
    max_iter : int >= 1
        Newton steps per pair.
    parallel : bool
        Split the pairs over numba's threads (bit-identical to the serial result).

    Returns
    -------
    MaxEntProjection

    Notes
    -----
    ``P_hat = P`` with targets ``P @ basis`` returns ``P_hat`` with a zero dual (the gradient
    vanishes at :math:`\lambda=0`). The projection depends on the basis only through its span
    (and the constants, which every distribution matches) when ``reg = 0``.
    """
    P = _as_kernel(P_hat)
    S, A, _ = P.shape
    Phi = check_finite_array("basis", basis, ndim=2)
    if Phi.shape[0] != S:
        raise ValueError(f"basis must have shape (S, d) = ({S}, d), got {Phi.shape}")
    d = Phi.shape[1]
    Psi = check_finite_array("targets", targets, shape=(S, A, d))
    rho = check_real("reg", reg, 0.0)
    tol = check_real("tol", tol, 0.0, low_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    parallel = check_bool("parallel", parallel)
    if dual0 is None:
        lam = np.zeros((S * A, d))
    else:
        lam = np.array(check_finite_array("dual0", dual0, shape=(S, A, d)).reshape(S * A, d), copy=True)
    scale = np.maximum(1.0, np.abs(Phi).max(axis=0)) if d else np.ones(0)
    tol_vec = tol * scale
    P2 = P.reshape(S * A, S)
    Q = np.empty_like(P2)
    status = np.zeros(S * A, dtype=np.int8)
    iters = np.zeros(S * A, dtype=np.int64)
    gnorm = np.zeros(S * A)
    Phi_c = np.ascontiguousarray(Phi)
    Psi2 = np.ascontiguousarray(Psi.reshape(S * A, d))
    kernel = project_rows_parallel if parallel else project_rows
    kernel(P2, Phi_c, Psi2, rho, tol_vec, max_iter, lam, Q, status, iters, gnorm)
    boundary = np.zeros(S * A, dtype=bool)
    retry = np.flatnonzero((status != STATUS_CONVERGED) & np.any(lam != 0.0, axis=1)) if dual0 is not None else []
    if len(retry):                       # a warm start far out (e.g. a former boundary pair): restart at 0
        _resolve(kernel, P2, Phi_c, Psi2, rho, tol_vec, max_iter, retry, lam, Q, status, iters, gnorm, cold=True)
    for i in np.flatnonzero(status != STATUS_CONVERGED):
        face = _minimal_face(P2[i], Phi_c, Psi2[i]) if rho == 0.0 else None
        if face is None and rho == 0.0:
            status[i] = STATUS_INFEASIBLE
            Q[i] = P2[i]
            lam[i] = 0.0
        elif face is not None and face.sum() < np.count_nonzero(P2[i] > 0):
            # the targets lie on a proper face of the hull: the projection lives on that face
            row = np.where(face, P2[i], 0.0)
            row = row / row.sum()
            lam_i, Q_i = np.zeros((1, d)), np.empty((1, S))
            st_i, it_i, gn_i = np.zeros(1, np.int8), np.zeros(1, np.int64), np.zeros(1)
            project_rows(row[None, :], Phi_c, Psi2[i:i + 1], rho, tol_vec, max(max_iter, 200), lam_i, Q_i,
                         st_i, it_i, gn_i)
            Q[i], lam[i], status[i], gnorm[i] = Q_i[0], lam_i[0], st_i[0], gn_i[0]
            iters[i] += it_i[0]
            boundary[i] = True
    if rho == 0.0:          # the final gradient is E_q phi - psi: no second pass over the kernel
        cerr = gnorm.copy()
        redo = np.flatnonzero(boundary | (status == STATUS_INFEASIBLE))
        if d and redo.size:
            cerr[redo] = np.abs(Q[redo] @ Phi_c - Psi2[redo]).max(axis=1)
    else:
        cerr = np.abs(Q @ Phi_c - Psi2).max(axis=1) if d else np.zeros(S * A)
    return MaxEntProjection(
        kernel=Q.reshape(S, A, S), dual=lam.reshape(S, A, d), status=status.reshape(S, A),
        constraint_error=cerr.reshape(S, A), gradient_norm=gnorm.reshape(S, A),
        iterations=iters.reshape(S, A), boundary=boundary.reshape(S, A), reg=rho, tol=tol,
    )


def _resolve(kernel, P2, Phi, Psi2, rho, tol_vec, max_iter, rows, lam, Q, status, iters, gnorm, cold):
    """Run the Newton kernel again on ``rows`` (from zero when ``cold``)."""
    sub_lam = np.zeros((len(rows), Phi.shape[1])) if cold else lam[rows].copy()
    sub_Q = np.empty((len(rows), P2.shape[1]))
    st, it, gn = np.zeros(len(rows), np.int8), np.zeros(len(rows), np.int64), np.zeros(len(rows))
    kernel(np.ascontiguousarray(P2[rows]), Phi, np.ascontiguousarray(Psi2[rows]), rho, tol_vec, max_iter,
           sub_lam, sub_Q, st, it, gn)
    lam[rows], Q[rows], status[rows], gnorm[rows] = sub_lam, sub_Q, st, gn
    iters[rows] += it


def _minimal_face(p, Phi, psi):
    r"""The support points of the minimal face of :math:`\mathrm{conv}\{\phi(y):p(y)>0\}`
    containing ``psi`` (boolean mask over all states), or ``None`` when ``psi`` is outside
    the hull. One HiGHS LP over the cone :math:`\{q\ge0:\Phi^	op q=\psi\,\mathbf 1^	op q\}`:
    maximise :math:`\sum_y s_y` with :math:`0\le s_y\le\min(q_y,1)`; a point can carry mass
    in some feasible distribution iff it lies on that face, and the cone lets every such
    point reach :math:`s_y=1` at the optimum."""
    sup = np.flatnonzero(p > 0)
    m, d = sup.size, Phi.shape[1]
    F = Phi[sup]
    # variables [q (m), s (m)]; equalities (F - psi)^T q = 0 and sum q >= 1 (normalises the cone)
    A_eq = np.hstack([(F - psi).T, np.zeros((d, m))])
    A_ub = np.vstack([np.hstack([-np.eye(m), np.eye(m)]),            # s - q <= 0
                      np.hstack([-np.ones((1, m)), np.zeros((1, m))])])  # -sum q <= -1
    b_ub = np.concatenate([np.zeros(m), [-1.0]])
    c = np.concatenate([np.zeros(m), -np.ones(m)])
    bounds = [(0, None)] * m + [(0, 1)] * m
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=np.zeros(d), bounds=bounds, method="highs")
    if res.status != 0:
        return None
    mask = np.zeros(p.shape[0], dtype=bool)
    mask[sup[res.x[m:] > 0.5]] = True
    return mask if mask.any() else None


# ---------------------------------------------------------------------------------------
# plain twin: all rows at once, in log space, batched linear solves
# ---------------------------------------------------------------------------------------


def project_rows_ref(P2, Phi, Psi, reg, tol_vec, max_iter, lam0=None):
    r"""Plain-numpy twin of :func:`project_rows`, written differently: every row advances
    together, weights in log space (``scipy.special.logsumexp``), the Newton systems solved
    as one batched ``numpy.linalg.solve`` (same tiny diagonal jitter), and the step halving
    applied per row through a mask. Returns ``(Q, lam, converged, iterations)``."""
    n, S = P2.shape
    d = Phi.shape[1]
    lam = np.zeros((n, d)) if lam0 is None else np.array(lam0, dtype=np.float64, copy=True)
    with np.errstate(divide="ignore"):
        logp = np.log(P2)
    eye = np.eye(d)[None]

    def evaluate(rows, L):
        z = logp[rows] + L @ Phi.T                  # -inf off the support
        lse = logsumexp(z, axis=1)
        q = np.exp(z - lse[:, None])
        mean = q @ Phi
        g = lse - np.einsum("nd,nd->n", L, Psi[rows]) + 0.5 * reg * np.einsum("nd,nd->n", L, L)
        C = Phi[None, :, :] - mean[:, None, :]
        H = np.einsum("ns,nsi,nsj->nij", q, C, C) + reg * eye
        return g, mean - Psi[rows] + reg * L, H

    every = np.arange(n)
    g, grad, H = evaluate(every, lam)
    active = ~np.all(np.abs(grad) <= tol_vec, axis=1)
    iters = np.zeros(n, dtype=np.int64)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        Hr, gr = H[rows], grad[rows]
        jitter = 1e-13 * np.maximum(np.einsum("nii->ni", Hr).max(axis=1), 1e-300)
        delta = -np.linalg.solve(Hr + jitter[:, None, None] * eye, gr[:, :, None])[:, :, 0]
        slope = np.einsum("nd,nd->n", gr, delta)
        gn = np.abs(gr).max(axis=1)
        dec = np.sqrt(np.maximum(-slope, 0.0))
        t = np.minimum(1.0, MAX_DECREMENT / np.maximum(dec, 1e-300))
        pending = np.ones(rows.size, dtype=bool)
        for _ls in range(60):
            sub = rows[pending]
            trial = lam[sub] + t[pending, None] * delta[pending]
            gt, gradt, Ht = evaluate(sub, trial)
            ok = (gt <= g[sub] + 1e-4 * t[pending] * slope[pending]) | (
                (np.abs(gt - g[sub]) <= 1e-13 * (1 + np.abs(g[sub])))
                & (np.abs(gradt).max(axis=1) < gn[pending]))
            take = sub[ok]
            lam[take], g[take], grad[take], H[take] = trial[ok], gt[ok], gradt[ok], Ht[ok]
            pos = np.flatnonzero(pending)
            pending[pos[ok]] = False
            t[pending] *= 0.5
            if not pending.any():
                break
        iters[rows] += 1
        active[rows[pending]] = False             # no descent step found: give up on the row
        active[rows] &= ~np.all(np.abs(grad[rows]) <= tol_vec, axis=1)
    z = logp + lam @ Phi.T
    q = np.exp(z - logsumexp(z, axis=1)[:, None])
    conv = np.all(np.abs(grad) <= tol_vec, axis=1)
    return q, lam, conv, iters


def exp_shifted_ref(z, shift, scale):
    """Plain twin of :func:`exp_shifted`: ``scale * numpy.exp(z - shift)`` (libm's exponential,
    no range reduction of our own)."""
    return np.asarray(scale) * np.exp(np.asarray(z) - shift)


# ---- compiled twin (numba)
#
# Speed: the work per Newton step is one pass over the row's support for the exponent, one
# exponential per support point and d(d+3)/2 + 1 weighted sums. The exponential is our own
# (Cody-Waite reduction, degree-13 Taylor polynomial, exponent bits by integer arithmetic:
# within 1 ulp of numpy's, see tests) because numba's np.exp does not vectorise without
# Intel SVML; the sums are fastmath reductions (reassociated, hence vectorised). Each loop is
# elementwise or a single reduction so that LLVM vectorises it.

#: Largest Newton decrement of a first trial step (the q-standard deviation of the change of
#: the exponent lambda^T phi).
MAX_DECREMENT = 2.0

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693147180369123816490
_LN2_LO = 1.90821492927058770002e-10
_MAGIC = 6755399441055744.0                     # 1.5 * 2**52: adding it rounds to an integer
_MAGIC_BITS = int(np.array([_MAGIC]).view(np.int64)[0])
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = (
    1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
    1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800)


@njit(cache=True, nogil=True)
def exp_shifted(z, shift, m, T, out, scale):
    r"""``out[j] = scale[j] * exp(z[j] - shift)`` for ``j < m`` (arguments ``<= 0``
    expected; below ``-740`` the exponential is 0): :math:`x = k\ln 2 + r`,
    :math:`|r|\le\ln 2/2`, :math:`e^r` by its degree-13 Taylor polynomial (truncation below
    :math:`10^{-17}`), :math:`2^k` assembled from its exponent bits (an exact scaling).
    ``T`` is a work array of length ``>= m``. Twin: :func:`exp_shifted_ref` (compared in the
    tests to 2 ulp)."""
    for j in range(m):
        x = z[j] - shift
        if x < -740.0:
            x = -740.0
        t = x * _LOG2E + _MAGIC
        T[j] = t
        kf = t - _MAGIC
        r = (x - kf * _LN2_HI) - kf * _LN2_LO
        p = _C13
        p = p * r + _C12
        p = p * r + _C11
        p = p * r + _C10
        p = p * r + _C9
        p = p * r + _C8
        p = p * r + _C7
        p = p * r + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        p = p * r + 1.0
        p = p * r + 1.0
        out[j] = p * scale[j]
    Ti = T.view(np.int64)
    for j in range(m):
        e = Ti[j] - _MAGIC_BITS + 1023
        if e < 0:
            e = 0
        Ti[j] = e << 52
    for j in range(m):
        out[j] *= T[j]


@njit(cache=True, nogil=True, fastmath=True)
def _sum(x, m):
    s = 0.0
    for j in range(m):
        s += x[j]
    return s


@njit(cache=True, nogil=True, fastmath=True)
def _dot(x, y, m):
    s = 0.0
    for j in range(m):
        s += x[j] * y[j]
    return s


@njit(cache=True, nogil=True, fastmath=True)
def _cdot(q, x, mx, y, my, m):
    s = 0.0
    for j in range(m):
        s += q[j] * (x[j] - mx) * (y[j] - my)
    return s


@njit(cache=True, nogil=True, fastmath=True)
def _max(x, m):
    s = x[0]
    for j in range(1, m):
        s = max(s, x[j])
    return s


@njit(cache=True, nogil=True)
def _dual_eval(p, Ft, m, lam, psi, reg, z, q, T, grad):
    """Dual value at ``lam`` for one row restricted to its support (``p[:m]``, features
    ``Ft[:, :m]`` feature-major); fills ``q`` and ``grad`` and returns ``g``. At ``lam = 0``
    the tilt is skipped (``q = p``, exactly what the exponential would give)."""
    d = Ft.shape[0]
    zero = True
    for k in range(d):
        if lam[k] != 0.0:
            zero = False
    if zero:
        zmax = 0.0
        for j in range(m):
            q[j] = p[j]
    else:
        for j in range(m):
            z[j] = lam[0] * Ft[0, j]
        for k in range(1, d):
            lk = lam[k]
            for j in range(m):
                z[j] += lk * Ft[k, j]
        zmax = _max(z, m)
        exp_shifted(z, zmax, m, T, q, p)
    Z = _sum(q, m)
    inv = 1.0 / Z
    for j in range(m):
        q[j] *= inv
    g = zmax + np.log(Z)
    for k in range(d):
        grad[k] = _dot(q, Ft[k], m) - psi[k] + reg * lam[k]
        g += -lam[k] * psi[k] + 0.5 * reg * lam[k] * lam[k]
    return g


@njit(cache=True, nogil=True)
def _dual_hessian(q, Ft, m, lam, psi, reg, grad, H):
    """Hessian :math:`\\mathrm{Cov}_q(\\phi)+\\rho I` (centred, two-pass: the mean is
    recovered from ``grad``)."""
    d = Ft.shape[0]
    for a in range(d):
        ma = grad[a] + psi[a] - reg * lam[a]
        for b in range(a + 1):
            mb = grad[b] + psi[b] - reg * lam[b]
            v = _cdot(q, Ft[a], ma, Ft[b], mb, m)
            H[a, b] = v
            H[b, a] = v
        H[a, a] += reg


@njit(cache=True, nogil=True)
def _newton_direction(H, grad, L, delta):
    """Solve ``(H + mu I) delta = -grad`` by Cholesky, ``mu`` = 1e-13 max diag(H) raised by
    factors of 100 until the factorisation succeeds."""
    d = grad.shape[0]
    dmax = 0.0
    for a in range(d):
        if H[a, a] > dmax:
            dmax = H[a, a]
    mu = 1e-13 * max(dmax, 1e-300)
    for _attempt in range(40):
        ok = True
        for a in range(d):
            for b in range(a + 1):
                s = H[a, b] + (mu if a == b else 0.0)
                for k in range(b):
                    s -= L[a, k] * L[b, k]
                if a == b:
                    if s <= 0.0:
                        ok = False
                        break
                    L[a, a] = np.sqrt(s)
                else:
                    L[a, b] = s / L[b, b]
            if not ok:
                break
        if ok:
            break
        mu *= 100.0
    for a in range(d):
        s = -grad[a]
        for k in range(a):
            s -= L[a, k] * delta[k]
        delta[a] = s / L[a, a]
    for a in range(d - 1, -1, -1):
        s = delta[a]
        for k in range(a + 1, d):
            s -= L[k, a] * delta[k]
        delta[a] = s / L[a, a]


@njit(cache=True, nogil=True)
def _solve_range(P2, Phi, Psi, reg, tol_vec, max_iter, lam, Q, status, iters, gnorm, lo, hi):
    """Rows ``lo..hi-1`` of :func:`project_rows` (own work buffers)."""
    S = P2.shape[1]
    d = Phi.shape[1]
    idx = np.empty(S, dtype=np.int64)
    p = np.empty(S)
    Ft = np.empty((d, S))
    z = np.empty(S)
    q = np.empty(S)
    qt = np.empty(S)
    T = np.empty(S)
    grad = np.empty(d)
    gradt = np.empty(d)
    H = np.empty((d, d))
    L = np.zeros((d, d))
    delta = np.empty(d)
    lt = np.empty(d)
    PhiT = np.ascontiguousarray(Phi.T)
    for i in range(lo, hi):
        m = 0
        for y in range(S):
            if P2[i, y] > 0.0:
                m += 1
        full = m == S
        if full:                                   # dense row: work on the row and Phi^T in place
            pr = P2[i]
            Fr = PhiT
        else:
            m = 0
            for y in range(S):
                if P2[i, y] > 0.0:
                    idx[m] = y
                    p[m] = P2[i, y]
                    m += 1
            for k in range(d):
                for j in range(m):
                    Ft[k, j] = Phi[idx[j], k]
            pr = p
            Fr = Ft
        li = lam[i]
        psi = Psi[i]
        g = _dual_eval(pr, Fr, m, li, psi, reg, z, q, T, grad)
        it = 0
        conv = True
        for k in range(d):
            if abs(grad[k]) > tol_vec[k]:
                conv = False
        while not conv and it < max_iter:
            _dual_hessian(q, Fr, m, li, psi, reg, grad, H)
            _newton_direction(H, grad, L, delta)
            slope = 0.0
            gn = 0.0
            for k in range(d):
                slope += grad[k] * delta[k]
                gn = max(gn, abs(grad[k]))
            # damping by the Newton decrement sqrt(delta' H delta) (the q-standard deviation of
            # the exponent's change): a step from a flat start cannot jump to where q is a
            # point mass and H vanishes, and the cap binds only far from the solution
            dec = np.sqrt(max(-slope, 0.0))
            t = 1.0 if dec <= MAX_DECREMENT else MAX_DECREMENT / dec
            accepted = False
            gt = g
            for _ls in range(60):
                for k in range(d):
                    lt[k] = li[k] + t * delta[k]
                gt = _dual_eval(pr, Fr, m, lt, psi, reg, z, qt, T, gradt)
                gnt = 0.0
                for k in range(d):
                    gnt = max(gnt, abs(gradt[k]))
                if gt <= g + 1e-4 * t * slope or (abs(gt - g) <= 1e-13 * (1.0 + abs(g)) and gnt < gn):
                    accepted = True
                    break
                t *= 0.5
            it += 1
            if not accepted:
                break
            g = gt
            for k in range(d):
                li[k] = lt[k]
                grad[k] = gradt[k]
            q, qt = qt, q                          # the trial's weights become current
            conv = True
            for k in range(d):
                if abs(grad[k]) > tol_vec[k]:
                    conv = False
        untilted = True
        for k in range(d):
            if li[k] != 0.0:
                untilted = False
        if untilted:                               # no tilt: the model's row, unchanged
            for y in range(S):
                Q[i, y] = P2[i, y]
        elif full:
            for y in range(S):
                Q[i, y] = q[y]
        else:
            for y in range(S):
                Q[i, y] = 0.0
            for j in range(m):
                Q[i, idx[j]] = q[j]
        gmax = 0.0
        for k in range(d):
            gmax = max(gmax, abs(grad[k]))
        gnorm[i] = gmax
        iters[i] = it
        status[i] = 0 if conv else 1


@njit(cache=True, nogil=True)
def project_rows(P2, Phi, Psi, reg, tol_vec, max_iter, lam, Q, status, iters, gnorm):
    r"""Damped Newton on the MoCo dual of every row of ``P2 (n, S)``; ``lam (n, d)`` holds
    the warm start and receives :math:`\lambda^*`, ``Q (n, S)`` the corrected rows,
    ``status`` 0 (converged) / 1 (not converged), ``iters`` the Newton steps, ``gnorm``
    :math:`\|\nabla g\|_\infty`. Armijo backtracking (``c = 1e-4``, halving, at most 60
    halvings); a step that leaves ``g`` unchanged to round-off is accepted when it reduces
    the gradient (the quadratic phase ends below the resolution of ``g``)."""
    _solve_range(P2, Phi, Psi, reg, tol_vec, max_iter, lam, Q, status, iters, gnorm, 0, P2.shape[0])


@njit(cache=True, nogil=True, parallel=True)
def project_rows_parallel(P2, Phi, Psi, reg, tol_vec, max_iter, lam, Q, status, iters, gnorm):
    """:func:`project_rows` with the rows split into 64 contiguous blocks shared among numba's
    threads (rows are independent, so the result is bit-identical to the serial kernel)."""
    n = P2.shape[0]
    nb = 64
    for b in numba.prange(nb):
        _solve_range(P2, Phi, Psi, reg, tol_vec, max_iter, lam, Q, status, iters, gnorm,
                     (n * b) // nb, (n * (b + 1)) // nb)

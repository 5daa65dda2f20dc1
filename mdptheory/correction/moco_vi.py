r"""MoCoVI (model-correcting value iteration) with exact queries, and the planning baselines it
is compared against, each with the exact error of every iterate.

MoCoVI (Rakhsha, Kemertas, Ghavamzadeh & Farahmand, ICLR 2024, Algorithm MoCoVI). Start
from :math:`V_0` (default 0). At iteration :math:`k = 0, 1, \dots`:

1. basis :math:`\phi^{(k)}` = the last ``d`` functions of the sequence
   (initial basis, :math:`V_0, V_1, \dots, V_k`), centred and orthonormalised (below);
2. query the true expectations :math:`\psi = P\phi^{(k)}` (exact here; each function is
   counted as queried once, when it enters the basis: the expectations of the orthonormal
   basis are linear combinations of the queried ones);
3. :math:`\bar P_k` = MaxEnt MoCo of :math:`\hat P` with :math:`(\phi^{(k)},\psi)`
   (:func:`~mdptheory.correction.maxent_projection`, warm-started from the previous duals);
4. :math:`V_{k+1}` = the optimal value of :math:`(\bar P_k, r, \gamma)` (control) or
   :math:`V^\pi` in :math:`\bar P_k` (policy evaluation), solved exactly.

Basis creation (our choice; the paper leaves it open). Constants are matched by every
distribution, so each function is centred; the centred functions are orthonormalised by
modified Gram-Schmidt (twice) in the order newest-first with respect to
:math:`\langle f,g\rangle = \frac1S\sum_y f(y)g(y)`, and a function whose residual is below
``basis_rtol`` times its centred norm is dropped (it adds no constraint). With ``reg = 0`` the
corrected model depends only on the span, so this changes conditioning, not the result.
The targets of the orthonormal basis are the same linear combinations of the queried
:math:`P\phi`.

Baselines (same trace type): :func:`value_iteration_trace` (:math:`V_{k+1} = T V_k`, one query
of :math:`PV_k` per iteration), :func:`model_based_trace` (plan once in :math:`\hat P`, no
query) and :func:`os_vi` (operator-splitting VI, Rakhsha, Wang, Ghavamzadeh & Farahmand,
NeurIPS 2022: :math:`V_{k+1}` = the solution of :math:`(\hat P, r+\gamma(P-\hat P)V_k,\gamma)`,
one query per iteration; the update is recalled, see the notes).

Provenance and reconstructions: proofs_notes/moco.md
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mdptheory.core import DiscountedMDP, validate_policy
from mdptheory.core.validation import check_bool, check_finite_array, check_int, check_real
from mdptheory.correction.projection import STATUS_CONVERGED, _as_kernel, maxent_projection
from mdptheory.solvers import evaluate, solve

__all__ = [
    "PlanningTrace",
    "MoCoVITrace",
    "moco_vi",
    "value_iteration_trace",
    "model_based_trace",
    "os_vi",
    "orthonormal_basis",
    "orthonormal_basis_ref",
    "contraction_rate",
    "exact_target",
]

#: Certified accuracy asked of every inner planning solve.
PLAN_TOL = 1e-10


@dataclass(frozen=True, eq=False, repr=False)
class PlanningTrace:
    r"""Iterates of a planning method and their exact errors.

    Attributes
    ----------
    method : str
    values : ndarray ``(K+1, S)``
        :math:`V_0, \dots, V_K`.
    errors : ndarray ``(K+1,)``
        :math:`\|V_k - V^\star\|_\infty` with :math:`V^\star` = ``target``.
    queries : ndarray of int64 ``(K+1,)``
        Cumulative number of functions whose true expectations :math:`Pf` (at every pair)
        were used up to iterate ``k``.
    target : ndarray ``(S,)``
        :math:`V^*` (control) or :math:`V^\pi` (evaluation), solved to 1e-10.
    gamma : float
    mode : str
        ``"control"`` or ``"evaluation"``.
    seconds : float
    """

    method: str
    values: np.ndarray
    errors: np.ndarray
    queries: np.ndarray
    target: np.ndarray
    gamma: float
    mode: str
    seconds: float

    def __repr__(self) -> str:
        K = self.errors.size - 1
        return (f"{type(self).__name__}(method={self.method!r}, mode={self.mode!r}, iterations={K}, "
                f"final error={float(self.errors[-1]):.3g}, rate={self.rate():.3g}, queries={int(self.queries[-1])}, "
                f"seconds={self.seconds:.3g})")

    def rate(self, floor: float = 1e-9) -> float:
        """Measured geometric contraction rate of the errors (see :func:`contraction_rate`)."""
        return contraction_rate(self.errors, floor=floor * max(1.0, float(np.abs(self.target).max())))


@dataclass(frozen=True, eq=False, repr=False)
class MoCoVITrace(PlanningTrace):
    r"""A :class:`PlanningTrace` of MoCoVI with the correction diagnostics per iteration.

    Extra attributes (length ``K``, entry ``k`` describes :math:`\bar P_k`)
    -------------------------------------------------------------------------
    d : int
    reg : float
    basis_sizes : ndarray of int64
        Functions kept after de-duplication (``<= d``).
    model_errors : ndarray
        :math:`\max_{s,a}\|\bar P_k(\cdot|s,a) - P(\cdot|s,a)\|_1`.
    constraint_errors : ndarray
        :math:`\max_{s,a,i}|\bar P_k\phi_i - P\phi_i|`.
    n_infeasible, n_not_converged : ndarray of int64
        Pairs per status of the projection.
    newton_steps : ndarray of int64
        Total Newton steps of the projection.
    model_error_hat : float
        :math:`\max_{s,a}\|\hat P - P\|_1`.
    kl_hat : float
        :math:`\max_{s,a}\mathrm{KL}(P\|\hat P)` (``inf`` if the support is not covered).
    """

    d: int = 0
    reg: float = 0.0
    basis_sizes: np.ndarray = None
    model_errors: np.ndarray = None
    constraint_errors: np.ndarray = None
    n_infeasible: np.ndarray = None
    n_not_converged: np.ndarray = None
    newton_steps: np.ndarray = None
    model_error_hat: float = 0.0
    kl_hat: float = 0.0

    def bound_factors(self) -> np.ndarray:
        r"""The one-step factors :math:`\beta_k=\frac{\gamma}{1-\gamma}\max_{s,a}\|\bar P_k-P\|_1`
        of the derived bound :math:`\|V_{k+1}-V^\star\|_\infty\le\beta_k\,\tfrac12\mathrm{sp}
        (V_k - V^\star)` (valid when :math:`V_k` is in the basis and the constraints hold;
        proofs_notes/moco.md)."""
        return self.gamma / (1.0 - self.gamma) * self.model_errors


def contraction_rate(errors, floor: float = 1e-9) -> float:
    r"""Geometric rate :math:`\exp(\text{slope})` of the least-squares line through
    :math:`(k, \log e_k)` over the iterates with :math:`e_k >` ``floor`` (from ``k = 1``:
    iterate 0 is the arbitrary start). ``nan`` with fewer than 3 such points; 0 when the
    error drops below ``floor`` after a single step."""
    e = np.asarray(errors, dtype=np.float64)
    k = np.arange(e.size)
    keep = (k >= 1) & (e > floor)
    if keep.sum() < 3:
        if e.size > 1 and e[1] > floor and (e[2:] <= floor).any():
            first = int(np.argmax((e <= floor) & (k >= 2)))
            return float((floor / e[1]) ** (1.0 / (first - 1)))
        return float("nan") if e.size < 3 or (e[1:] > floor).sum() else 0.0
    # use the iterates up to the first one at the floor (a contiguous run)
    last = int(np.argmax(~keep[1:])) if (~keep[1:]).any() else e.size - 1
    idx = np.arange(1, last + 1) if last >= 3 else np.flatnonzero(keep)
    slope = np.polyfit(idx, np.log(e[idx]), 1)[0]
    return float(np.exp(slope))


def _as_mdp(mdp) -> DiscountedMDP:
    if not isinstance(mdp, DiscountedMDP):
        raise TypeError(f"mdp must be a DiscountedMDP, got {type(mdp).__name__}")
    return mdp


def _plan(P, R, gamma, policy):
    """Exact optimal value (policy iteration, certified to PLAN_TOL) or policy value."""
    m = DiscountedMDP(P, R, gamma)
    if policy is None:
        return np.array(solve(m, method="pi", tol=PLAN_TOL).V)
    return np.asarray(evaluate(m, policy), dtype=np.float64)


def exact_target(mdp: DiscountedMDP, policy=None) -> np.ndarray:
    r""":math:`V^*` (``policy=None``) or :math:`V^\pi` of ``mdp``, exact to 1e-10."""
    return _plan(mdp.dense_P(), mdp.R, mdp.gamma, policy)


def _check_policy(mdp, policy):
    if policy is None:
        return None
    validate_policy(mdp, policy)
    return policy


def orthonormal_basis(F: np.ndarray, rtol: float = 1e-8):
    r"""Centre the columns of ``F (S, m)`` and orthonormalise them newest-first (the last
    column has priority) by twice-repeated modified Gram-Schmidt under
    :math:`\langle f,g\rangle=\frac1S\sum_y f(y)g(y)`; a column whose residual is below
    ``rtol`` times its centred norm (or whose centred norm is below ``1e-13 (1 + max|F|)``)
    is dropped.

    Returns ``(B, T, mean)`` with ``B = (F - mean) @ T``, ``B`` of shape ``(S, r)`` and
    :math:`B^\top B/S = I_r`: targets transform as ``psi_B = (psi_F - mean) @ T``."""
    F = np.asarray(F, dtype=np.float64)
    S, m = F.shape
    mean = F.mean(axis=0) if m else np.zeros(0)
    C = F - mean
    cols, coefs = [], []
    floor = 1e-13 * (1.0 + (np.abs(F).max() if F.size else 0.0))
    for j in range(m - 1, -1, -1):
        v = C[:, j].copy()
        t = np.zeros(m)
        t[j] = 1.0
        n0 = np.sqrt(v @ v / S)
        if n0 <= floor:
            continue
        for _ in range(2):
            for b, tb in zip(cols, coefs):
                r = b @ v / S
                v -= r * b
                t -= r * tb
        n1 = np.sqrt(v @ v / S)
        if n1 <= rtol * n0:
            continue
        cols.append(v / n1)
        coefs.append(t / n1)
    if not cols:
        return np.zeros((S, 0)), np.zeros((m, 0)), mean
    return np.column_stack(cols), np.column_stack(coefs), mean


def orthonormal_basis_ref(F: np.ndarray, rtol: float = 1e-8):
    r"""Twin of :func:`orthonormal_basis` written differently: the kept columns are found by
    comparing ranks (a column is kept when it raises the numerical rank of the newest-first
    centred block, judged by the same relative threshold on its distance to the span of the
    kept ones, computed by least squares), and the orthonormal basis is a QR factorisation of
    the kept block (signs fixed so that the diagonal of R is positive, as Gram-Schmidt gives).
    Returns ``(B, kept)`` with ``kept`` the column indices, newest first."""
    F = np.asarray(F, dtype=np.float64)
    S, m = F.shape
    C = F - F.mean(axis=0)
    floor = 1e-13 * (1.0 + (np.abs(F).max() if F.size else 0.0))
    kept = []
    for j in range(m - 1, -1, -1):
        c = C[:, j]
        n0 = np.linalg.norm(c) / np.sqrt(S)
        if n0 <= floor:
            continue
        if kept:
            K = C[:, kept]
            coef = np.linalg.lstsq(K, c, rcond=None)[0]
            res = np.linalg.norm(c - K @ coef) / np.sqrt(S)
        else:
            res = n0
        if res > rtol * n0:
            kept.append(j)
    if not kept:
        return np.zeros((S, 0)), kept
    Qm, Rm = np.linalg.qr(C[:, kept])
    Qm = Qm * np.sign(np.diag(Rm))
    return Qm * np.sqrt(S), kept


def _max_l1(Pbar, P):
    l1 = float(np.abs(Pbar - P).sum(axis=-1).max())
    return l1


def _kl_max(P, P_hat) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(P > 0, P * np.log(P / P_hat), 0.0)
    return float(ratio.sum(axis=-1).max())


def moco_vi(mdp: DiscountedMDP, P_hat, d: int, iterations: int, *, policy=None, V0=None,
            initial_basis=None, reg: float = 0.0, basis_rtol: float = 1e-8, tol: float = 1e-12,
            warm_start: bool = True, progress: bool = False) -> MoCoVITrace:
    r"""MoCoVI with exact queries (module docstring), recording :math:`\|V_k - V^\star\|_\infty`.

    Parameters
    ----------
    mdp : DiscountedMDP
        The true MDP (its kernel answers the queries; its rewards and discount are used for
        planning).
    P_hat : array ``(S, A, S)`` or DiscountedMDP
        The approximate model :math:`\hat P`.
    d : int >= 0
        Number of basis functions (``d = 0``: plan in :math:`\hat P` every time).
    iterations : int >= 0
        ``K``: iterates :math:`V_1..V_K` are computed.
    policy : optional
        Evaluate this policy (deterministic ``(S,)`` or stochastic ``(S, A)``) instead of
        solving the control problem.
    V0 : array ``(S,)``, optional
        :math:`V_0` (default 0).
    initial_basis : array ``(S, m)``, optional
        Functions placed before :math:`V_0` in the basis sequence (their queries are
        counted).
    reg : float >= 0
        Ridge term of the projection's dual.
    basis_rtol : float in (0, 1)
        De-duplication threshold of :func:`orthonormal_basis`.
    tol : float
        Projection tolerance (see :func:`maxent_projection`).
    warm_start : bool
        Start each projection from the previous duals mapped into the new basis.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    MoCoVITrace
    """
    t0 = time.perf_counter()
    mdp = _as_mdp(mdp)
    S, g = mdp.S, mdp.gamma
    P = np.ascontiguousarray(mdp.dense_P())
    Ph = _as_kernel(P_hat)
    if Ph.shape != P.shape:
        raise ValueError(f"P_hat must have shape {P.shape} like the MDP's kernel, got {Ph.shape}")
    d = check_int("d", d, 0)
    K = check_int("iterations", iterations, 0)
    reg = check_real("reg", reg, 0.0)
    basis_rtol = check_real("basis_rtol", basis_rtol, 0.0, 1.0, low_open=True, high_open=True)
    warm_start = check_bool("warm_start", warm_start)
    progress = check_bool("progress", progress)
    policy = _check_policy(mdp, policy)
    V = np.zeros(S) if V0 is None else check_finite_array("V0", V0, shape=(S,)).copy()
    seq = [] if initial_basis is None else list(check_finite_array("initial_basis", initial_basis,
                                                                   ndim=2, shape=(S, None)).T)
    R = np.asarray(mdp.R)
    target = exact_target(mdp, policy)
    seq.append(V.copy())
    queried = [False] * len(seq)
    n_queries = 0
    values = [V.copy()]
    queries = [0]
    basis_sizes, model_errors, cons_err, n_inf, n_nc, steps = [], [], [], [], [], []
    prev_B = None
    prev_dual = None
    prev_status = None
    it = range(K)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc=f"MoCoVI d={d}", leave=False)
    for _k in it:
        lo = max(0, len(seq) - d)
        window = list(range(lo, len(seq))) if d > 0 else []
        F = np.column_stack([seq[i] for i in window]) if window else np.zeros((S, 0))
        B, T, mean = orthonormal_basis(F, basis_rtol)
        used = [window[i] for i in range(len(window)) if np.any(T[i] != 0.0)] if T.size else []
        for i in used:
            if not queried[i]:
                queried[i] = True                # the query of a new function (exact here)
                n_queries += 1
        # the expectations of the orthonormal basis are linear combinations of the queried
        # ones; they are evaluated on B itself so that they are consistent with the hull of
        # B's rows to round-off (a deterministic transition gives exactly a row of B)
        targets = P @ B
        dual0 = None
        if warm_start and prev_B is not None and B.shape[1] and prev_B.shape[1]:
            # the previous exponent function f = B_prev lambda, projected on the new basis
            M = prev_B.T @ B / S
            dual0 = prev_dual @ M
            dual0[prev_status != STATUS_CONVERGED] = 0.0
        proj = maxent_projection(Ph, B, targets, reg, dual0=dual0, tol=tol)
        prev_B, prev_dual, prev_status = B, proj.dual, proj.status
        V = _plan(proj.kernel, R, g, policy)
        seq.append(V.copy())
        queried.append(False)
        values.append(V)
        queries.append(n_queries)
        basis_sizes.append(B.shape[1])
        model_errors.append(_max_l1(proj.kernel, P))
        cons_err.append(float(np.abs(proj.kernel @ B - P @ B).max()) if B.shape[1] else 0.0)
        n_inf.append(proj.n_infeasible)
        n_nc.append(int(np.count_nonzero(proj.status == 1)))
        steps.append(int(proj.iterations.sum()))
    values = np.array(values)
    errors = np.abs(values - target).max(axis=1)
    return MoCoVITrace(
        method=f"MoCoVI (d={d})", values=values, errors=errors, queries=np.array(queries, dtype=np.int64),
        target=target, gamma=g, mode="control" if policy is None else "evaluation",
        seconds=time.perf_counter() - t0, d=d, reg=reg,
        basis_sizes=np.array(basis_sizes, dtype=np.int64), model_errors=np.array(model_errors),
        constraint_errors=np.array(cons_err), n_infeasible=np.array(n_inf, dtype=np.int64),
        n_not_converged=np.array(n_nc, dtype=np.int64), newton_steps=np.array(steps, dtype=np.int64),
        model_error_hat=float(np.abs(Ph - P).sum(axis=-1).max()), kl_hat=_kl_max(P, Ph),
    )


def value_iteration_trace(mdp: DiscountedMDP, iterations: int, *, policy=None, V0=None) -> PlanningTrace:
    r"""Exact value iteration :math:`V_{k+1}=TV_k` (or :math:`T^\pi V_k`) from ``V0`` (default
    0), one query (:math:`PV_k`) per iteration."""
    t0 = time.perf_counter()
    mdp, K, policy, V = _trace_start(mdp, iterations, policy, V0)
    P, R, g = np.asarray(mdp.dense_P()), np.asarray(mdp.R), mdp.gamma
    pi = None if policy is None else _policy_table(policy, mdp.S, mdp.A)
    vals = [V.copy()]
    for _ in range(K):
        Q = R + g * (P @ V)
        V = Q.max(axis=1) if pi is None else (pi * Q).sum(axis=1)
        vals.append(V)
    return _trace("VI", vals, np.arange(K + 1, dtype=np.int64), mdp, policy, t0)


def _policy_table(policy, S, A):
    pol = np.asarray(policy)
    if pol.ndim == 1:
        tab = np.zeros((S, A))
        tab[np.arange(S), pol.astype(np.int64)] = 1.0
        return tab
    return pol.astype(np.float64)


def _trace_start(mdp, iterations, policy, V0):
    """The checked arguments of a planning trace: ``(mdp, K, policy, V)``, ``V`` a copy of
    ``V0`` (default 0)."""
    mdp = _as_mdp(mdp)
    K = check_int("iterations", iterations, 0)
    policy = _check_policy(mdp, policy)
    V = np.zeros(mdp.S) if V0 is None else check_finite_array("V0", V0, shape=(mdp.S,)).copy()
    return mdp, K, policy, V


def _trace(method, vals, queries, mdp, policy, t0) -> PlanningTrace:
    """The :class:`PlanningTrace` of the iterates ``vals`` against the exact target."""
    vals = np.array(vals)
    target = exact_target(mdp, policy)
    return PlanningTrace(method, vals, np.abs(vals - target).max(axis=1), queries, target, mdp.gamma,
                         "control" if policy is None else "evaluation", time.perf_counter() - t0)


def model_based_trace(mdp: DiscountedMDP, P_hat, iterations: int, *, policy=None, V0=None) -> PlanningTrace:
    r"""Pure model-based planning: :math:`V_k = V^\star_{\hat P}` for every ``k >= 1`` (no
    query of the true model)."""
    t0 = time.perf_counter()
    mdp, K, policy, V0 = _trace_start(mdp, iterations, policy, V0)
    Vh = _plan(_as_kernel(P_hat), mdp.R, mdp.gamma, policy)
    return _trace("model-based (plan in P_hat)", [V0] + [Vh] * K, np.zeros(K + 1, dtype=np.int64), mdp, policy, t0)


def os_vi(mdp: DiscountedMDP, P_hat, iterations: int, *, policy=None, V0=None) -> PlanningTrace:
    r"""Operator-splitting VI (Rakhsha, Wang, Ghavamzadeh & Farahmand, NeurIPS 2022):
    :math:`V_{k+1}` = optimal value (or value of :math:`\pi`) of the MDP
    :math:`(\hat P,\ r+\gamma(P-\hat P)V_k,\ \gamma)`; one query (:math:`PV_k`) per iteration.
    :math:`V^\star` is its fixed point, and
    :math:`\|V_{k+1}-V^\star\|_\infty\le\frac{\gamma}{1-\gamma}\max_{s,a}\|P-\hat P\|_1\,
    \tfrac12\mathrm{sp}(V_k-V^\star)` (derived; the update itself is recalled:
    proofs_notes/moco.md).
    """
    t0 = time.perf_counter()
    mdp, K, policy, V = _trace_start(mdp, iterations, policy, V0)
    Ph = _as_kernel(P_hat)
    P, R, g = np.asarray(mdp.dense_P()), np.asarray(mdp.R), mdp.gamma
    vals = [V.copy()]
    for _ in range(K):
        r_aux = R + g * ((P - Ph) @ V)
        V = _plan(Ph, r_aux, g, policy)
        vals.append(V)
    return _trace("OS-VI", vals, np.arange(K + 1, dtype=np.int64), mdp, policy, t0)

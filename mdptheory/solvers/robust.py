r"""Exact robust planning: robust value iteration, robust modified policy iteration, robust
policy iteration and robust backward induction, with certified error bounds.

A robust MDP replaces the transition law by an uncertainty set and the agent maximises its
worst-case return (Iyengar 2005; Nilim & El Ghaoui 2005). For **(s,a)-rectangular** sets
:math:`\mathcal U(s,a)=\{p\in\Delta_S: D(p\|\bar P(\cdot|s,a))\le\rho(s,a)\}` the robust
Bellman operator is

.. math::
    (TV)(s) = \max_a\ R(s,a) + \gamma\,\sigma_{\mathcal U(s,a)}(V),\qquad
    \sigma_{\mathcal U}(V)=\min_{p\in\mathcal U}p^\top V .

For a linear MDP with simplex features, :math:`\bar P(\cdot|s,a)=\sum_i\phi_i(s,a)\mu_i`, the
**d-rectangular** set (Liu & Xu 2024) perturbs each factor in its own ball,
:math:`\mathcal U(s,a)=\{\sum_i\phi_i(s,a)\mu_i': D(\mu_i'\|\mu_i)\le\rho_i\}`, and
:math:`(TV)(s)=\max_a R(s,a)+\gamma\sum_i\phi_i(s,a)\,\sigma_{\rho_i}(\mu_i, V)`: the robust
``Q`` is linear in :math:`\phi`, :math:`Q=\phi^\top(\theta+\gamma\nu)` with
:math:`\nu_i=\sigma_{\rho_i}(\mu_i,V)`.

Uncertainty sets: :class:`TV` (:math:`\tfrac12\|p-\bar q\|_1\le\rho`, mass may move to *any*
state), :class:`KL` and :class:`ChiSquare` (``p`` on the support of :math:`\bar q`); the inner
problems are solved exactly by :mod:`mdptheory.kernels.robust`. Centres are the stored rows
divided by their exact sums.

Certificate. ``T`` is monotone and commutes with constant shifts,
:math:`T(V+c\mathbf 1)=TV+\gamma c\mathbf 1` (every ``p`` in a set sums to one; for
d-rectangular sets the factor is :math:`\gamma\sum_i\phi_i(s,a)\in\gamma[1-\eta,1+\eta]`), and
it is a :math:`\gamma`-contraction. MacQueen's bounds therefore hold verbatim: with
:math:`d=TV-V\in[m,M]`, :math:`TV+\tfrac{\gamma}{1-\gamma}m\le V^*_{rob}\le TV+\tfrac{\gamma}{1-\gamma}M`.
Every discounted method ends with :func:`mdptheory.solvers.discounted.certified_bound`
applied to this operator, whose backup is enclosed (dual lower and primal feasible upper
bound of each inner problem, first-order round-off included), so ``error_bound`` bounds
:math:`\max_s|V(s)-V^*_{rob}(s)|` for the float64 vector returned. Derivations and the
tests that check them: ``proofs_notes/robust_mdps.md``.

References: G. N. Iyengar, Robust dynamic programming, Math. Oper. Res. 30(2), 2005;
A. Nilim & L. El Ghaoui, Robust control of Markov decision processes with uncertain
transition matrices, Oper. Res. 53(5), 2005; D. L. Kaufman & A. J. Schaefer, Robust modified
policy iteration, INFORMS J. Comput. 25(3), 2013; Z. Liu & P. Xu, Distributionally robust
off-dynamics reinforcement learning: provable efficiency with linear function approximation,
AISTATS 2024 (arXiv 2402.15399); M. L. Puterman, Markov Decision Processes, 1994, Thm 6.6.6.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mdptheory.core import (DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP,
                            to_stochastic, validate_policy)
from mdptheory.core.validation import check_choice, check_distribution, check_finite_array, check_int, check_real
from mdptheory.kernels import accurate as ka
from mdptheory.kernels import robust as kr
from mdptheory.solvers.discounted import _Certifier, _mcqueen, _polish, certified_iteration, certified_policy_iteration
from mdptheory.solvers.result import Solution

__all__ = ["TV", "KL", "ChiSquare", "solve_robust", "evaluate_robust", "RobustEvaluation",
           "robust_q", "worst_case_kernel", "RobustOperator", "ROBUST_METHODS", "DEFAULT_ROBUST_METHOD"]

_U = 2.0 ** -53

#: Discounted robust methods.
ROBUST_METHODS = ("vi", "mpi", "pi")
#: Default discounted method: the smallest geometric-mean time ratio to the fastest method over
#: the instances of ``benchmarks/robust.py`` (docs/benchmarks.md).
DEFAULT_ROBUST_METHOD = "pi"


# ---- uncertainty sets ------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Ball:
    rho: float | np.ndarray

    kind: ClassVar[int] = -1
    max_rho: ClassVar[float | None] = None

    def __post_init__(self):
        r = self.rho
        if isinstance(r, (list, tuple)) or (isinstance(r, np.ndarray) and r.ndim > 0):
            arr = check_finite_array("rho", r, low=0.0, high=self.max_rho)
            arr = np.array(arr, dtype=np.float64, copy=True)
            arr.flags.writeable = False
            object.__setattr__(self, "rho", arr)
        else:
            if isinstance(r, np.ndarray):
                r = r.item()
            object.__setattr__(self, "rho", check_real("rho", r, 0.0, self.max_rho))

    @property
    def scalar(self) -> bool:
        return not isinstance(self.rho, np.ndarray)

    def divergence(self, p, q) -> np.ndarray:
        """``D(p || qbar)`` along the last axis (``qbar = q / q.sum(-1)``); ``inf`` where
        ``p`` leaves the support of ``q`` and the divergence requires it not to."""
        raise NotImplementedError

    def __repr__(self) -> str:
        r = f"{self.rho:g}" if self.scalar else f"array{self.rho.shape}"
        return f"{type(self).__name__}(rho={r})"


def _normalised(p, q):
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    return p, q / q.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False, repr=False)
class TV(_Ball):
    r"""Total-variation ball :math:`\{p\in\Delta_S: \tfrac12\|p-\bar q\|_1\le\rho\}`.

    Convention: TV is **half** the L1 distance, so :math:`\rho\in[0,1]` and :math:`\rho=1`
    is the whole simplex. ``p`` may put mass on states outside the support of the nominal
    row (the worst case moves :math:`\rho` of mass from the highest-value states to
    :math:`\arg\min_s V(s)` over *all* states), as in Liu & Xu (2024).

    Parameters
    ----------
    rho : float or array
        Scalar, or per row: ``(S, A)`` (also ``(H, S, A)`` episodic) for (s,a)-rectangular
        sets, ``(d,)`` (also ``(H, d)``) for d-rectangular ones.
    """

    kind: ClassVar[int] = kr.TV_KIND
    max_rho: ClassVar[float | None] = 1.0

    def divergence(self, p, q):
        p, q = _normalised(p, q)
        return 0.5 * np.abs(p - q).sum(axis=-1)


@dataclass(frozen=True, eq=False, repr=False)
class KL(_Ball):
    r"""Kullback-Leibler ball :math:`\{p\in\Delta_S: \sum_s p_s\log(p_s/\bar q_s)\le\rho\}`
    (``p`` is absolutely continuous w.r.t. the nominal row, :math:`\rho\ge0`).
    ``rho`` as for :class:`TV`."""

    kind: ClassVar[int] = kr.KL_KIND

    def divergence(self, p, q):
        p, q = _normalised(p, q)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(q > 0, q, 1.0)), 0.0)
        out = t.sum(axis=-1)
        return np.where(((p > 0) & (q <= 0)).any(axis=-1), np.inf, out)


@dataclass(frozen=True, eq=False, repr=False)
class ChiSquare(_Ball):
    r"""Chi-square ball :math:`\{p\in\Delta_S: \sum_s (p_s-\bar q_s)^2/\bar q_s\le\rho\}`
    (Pearson's divergence with the nominal row in the denominator, so ``p`` lives on its
    support; :math:`\rho\ge0`). ``rho`` as for :class:`TV`."""

    kind: ClassVar[int] = kr.CHI2_KIND

    def divergence(self, p, q):
        p, q = _normalised(p, q)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(q > 0, (p - q) ** 2 / np.where(q > 0, q, 1.0), 0.0)
        out = t.sum(axis=-1)
        return np.where(((p > 0) & (q <= 0)).any(axis=-1), np.inf, out)


def _check_uncertainty(uncertainty):
    if not isinstance(uncertainty, _Ball):
        raise TypeError(f"uncertainty must be TV(rho), KL(rho) or ChiSquare(rho), got {uncertainty!r}")
    return uncertainty


def _radii(unc: _Ball, shapes: dict[str, tuple]) -> np.ndarray:
    """``rho`` broadcast to ``shapes["full"]``; the other entries name the accepted shapes."""
    full = shapes["full"]
    if unc.scalar:
        return np.full(full, unc.rho)
    r = unc.rho
    for shape in shapes.values():
        if r.shape == shape:
            return np.ascontiguousarray(np.broadcast_to(r, full), dtype=np.float64)
    ok = " or ".join(str(s) for s in dict.fromkeys(shapes.values()))
    raise ValueError(f"rho must be a scalar or have shape {ok} for this model, got shape {r.shape}")


# ---- the operator ----------------------------------------------------------------------------

class RobustOperator:
    r"""Robust Bellman operators of one discounted model or one stage of an episodic one.

    Rows ``C (n, S)`` are the nominal rows (``n = S*A`` for (s,a)-rectangular sets, the ``d``
    factors :math:`\mu_i` for d-rectangular ones, then ``mix = phi (S*A, d)``); ``rho (n,)``.
    ``Q = R + gamma * (sigma`` reshaped, or ``mix @ sigma)``. Exposes the interface the
    certificate of :mod:`mdptheory.solvers.discounted` uses (``tmax``, ``q``, ``tpi``,
    ``accurate_backup``, ``row_sum_defect``, ``gamma``, ``S``, ``A``).
    """

    def __init__(self, kind: int, C, rho, R, gamma: float, mix=None):
        self.kind = int(kind)
        self.C = np.ascontiguousarray(C, dtype=np.float64)
        self.inv = 1.0 / self.C.sum(axis=1)
        self.rho = np.ascontiguousarray(rho, dtype=np.float64).reshape(-1)
        self.R = np.ascontiguousarray(R, dtype=np.float64)
        self.S, self.A = self.R.shape
        self.gamma = float(gamma)
        self.mix = None if mix is None else np.ascontiguousarray(mix, dtype=np.float64).reshape(self.S * self.A, -1)
        self.n = self.C.shape[0]
        self._all = np.arange(self.n, dtype=np.int64)
        self._eta = 0.0 if self.mix is None else float(ka.row_sum_defect_dense(self.mix))

    # -- inner values ---------------------------------------------------------------------
    def sigma(self, V, rows=None) -> np.ndarray:
        """Inner values of ``rows`` (default all) at ``V``."""
        V = np.ascontiguousarray(V, dtype=np.float64)
        rows = self._all if rows is None else rows
        order = np.argsort(V, kind="stable")
        if self.kind == kr.TV_KIND:
            means = (self.C @ V if rows is self._all else self.C[rows] @ V) * self.inv[rows]
        else:
            means = np.empty(rows.size)
        out = np.empty(rows.size)
        kr.inner_values(self.kind, self.C, self.inv, means, V, order, self.rho, rows, out)
        return out

    def sigma_certified(self, V, rows=None, want_p: bool = False):
        """``(mid, rad[, P])``: ``|sigma - mid| <= rad`` per row; ``P`` the feasible minimisers."""
        V = np.ascontiguousarray(V, dtype=np.float64)
        rows = self._all if rows is None else rows
        order = np.argsort(V, kind="stable")
        mid, rad = np.empty(rows.size), np.empty(rows.size)
        P = np.zeros((rows.size, V.size)) if want_p else np.empty((1, V.size))
        kr.inner_certified(self.kind, self.C, self.inv, V, order, self.rho, rows, mid, rad, P, want_p)
        return (mid, rad, P) if want_p else (mid, rad)

    def _combine(self, vals):
        if self.mix is None:
            return vals.reshape(self.S, self.A)
        return (self.mix @ vals).reshape(self.S, self.A)

    # -- operators (the interface of DiscountedOps) ------------------------------------------
    def q(self, V, Q_out):
        """``Q_out = R + gamma * sigma(V)`` (robust action values)."""
        np.multiply(self._combine(self.sigma(V)), self.gamma, out=Q_out)
        Q_out += self.R

    def tmax(self, V, V_out, pi_out):
        Q = np.empty((self.S, self.A))
        self.q(V, Q)
        V_out[:] = Q.max(axis=1)
        pi_out[:] = Q.argmax(axis=1)

    def tpi(self, pi, V, V_out):
        """``V_out = T_pi V`` for deterministic actions ``pi``."""
        idx = np.arange(self.S)
        if self.mix is None:
            vals = self.sigma(V, (idx * self.A + pi).astype(np.int64))
        else:
            vals = self.mix.reshape(self.S, self.A, -1)[idx, pi] @ self.sigma(V)
        V_out[:] = self.R[idx, pi] + self.gamma * vals

    def certified_q(self, V):
        r"""``(Qm, E)``: robust ``Q`` at ``V`` enclosed, :math:`|Q-Q_m|\le E` elementwise."""
        mid, rad = self.sigma_certified(V)
        g = self.gamma
        if self.mix is None:
            shape = (self.S, self.A)
            agg, aggr, mag = mid.reshape(shape), rad.reshape(shape), np.abs(mid).reshape(shape)
        else:
            d = self.mix.shape[1]
            agg, aggr = self._combine(mid), self._combine(rad) * (1 + 2 * kr._gam(d + 2))
            mag = self._combine(np.abs(mid))
            aggr = aggr + 2 * kr._gam(d + 2) * mag
        Qm = self.R + g * agg
        E = (g * aggr + 3 * _U * (np.abs(self.R) + g * np.abs(agg))) * (1 + 4 * _U)
        return Qm, E

    def accurate_backup(self, V):
        """``(hi, lo, err)`` with ``|(TV)(s) - hi[s] - lo[s]| <= err[s]`` (``lo = 0``)."""
        Qm, E = self.certified_q(V)
        return Qm.max(axis=1), np.zeros(self.S), E.max(axis=1)

    @property
    def row_sum_defect(self) -> float:
        r"""The shift factor of ``T`` lies in :math:`\gamma[1-\eta, 1+\eta]`: 0 for
        (s,a)-rectangular sets, the features' row-sum defect for d-rectangular ones."""
        return self._eta

    # -- worst-case kernels ---------------------------------------------------------------
    def worst_rows(self, V, rows=None) -> np.ndarray:
        """Exactly feasible minimisers of ``rows`` at ``V`` (``(len(rows), S)``)."""
        return self.sigma_certified(V, rows, want_p=True)[2]

    def worst_kernel(self, V) -> np.ndarray:
        """The ``(S, A, S)`` kernel of minimisers at ``V`` (for d-rectangular sets the
        features mixed with the worst factors)."""
        W = self.worst_rows(V)
        if self.mix is None:
            return W.reshape(self.S, self.A, -1)
        return (self.mix @ W).reshape(self.S, self.A, -1)


class _PolicyView:
    r"""``T_pi`` of a stochastic policy ``probs (S, A)`` with the certificate interface.

    :math:`(T_\pi V)(s)=\sum_a\pi(a|s)\,[R(s,a)+\gamma\sigma_{sa}(V)]`: monotone, shift
    factor as for ``T``, so the same MacQueen certificate applies."""

    def __init__(self, ops: RobustOperator, probs):
        self.ops, self.probs = ops, np.ascontiguousarray(probs, dtype=np.float64)
        self.gamma, self.S, self.A = ops.gamma, ops.S, ops.A
        self.row_sum_defect = ops.row_sum_defect
        self._rows = None
        if ops.mix is None:
            s, a = np.nonzero(self.probs > 0)
            self._rows = (s * ops.A + a).astype(np.int64)

    def q(self, V, Q_out):
        self.ops.q(V, Q_out)

    def tmax(self, V, V_out, pi_out):
        Q = np.empty((self.S, self.A))
        if self._rows is None:
            self.ops.q(V, Q)
        else:
            Q[:] = 0.0
            Q.reshape(-1)[self._rows] = self.ops.sigma(V, self._rows)
            Q *= self.gamma
            Q += self.ops.R
        V_out[:] = (self.probs * Q).sum(axis=1)
        pi_out[:] = 0

    def accurate_backup(self, V):
        Qm, E = self.ops.certified_q(V)
        Qm = np.where(self.probs > 0, Qm, 0.0)
        hi = (self.probs * Qm).sum(axis=1)
        err = (self.probs * E).sum(axis=1) + 2 * kr._gam(self.A + 2) * (self.probs * np.abs(Qm)).sum(axis=1)
        return hi, np.zeros(self.S), err * (1 + 4 * _U)

    def worst_policy_matrices(self, V):
        """``(P_pi, R_pi)`` under the worst-case kernel at ``V``."""
        ops = self.ops
        if ops.mix is None:
            W = np.zeros((ops.S * ops.A, ops.C.shape[1]))
            W[self._rows] = ops.worst_rows(V, self._rows)
            K = W.reshape(ops.S, ops.A, -1)
        else:
            K = ops.worst_kernel(V)
        return np.einsum("sa,sat->st", self.probs, K), (self.probs * ops.R).sum(axis=1)


# ---- model preparation -----------------------------------------------------------------------

def _check_simplex_linear(lin):
    phi = np.asarray(lin.phi)
    check_finite_array("phi", phi, low=0.0)
    check_distribution("phi", phi, atol=1e-10)
    check_distribution("mu", np.asarray(lin.mu), atol=1e-10)


def _stages(model, unc: _Ball, rectangularity: str):
    """``(kind, gamma, H or None, [RobustOperator per stage (one for discounted)], initial)``."""
    rect = check_choice("rectangularity", rectangularity, ("sa", "d"))
    unc = _check_uncertainty(unc)
    if rect == "d":
        if not isinstance(model, (LinearMDP, DiscountedLinearMDP)):
            raise TypeError("rectangularity='d' needs a LinearMDP or DiscountedLinearMDP with simplex "
                            f"features, got {type(model).__name__}")
        _check_simplex_linear(model)
        S, A, d = model.S, model.A, model.d
        if isinstance(model, DiscountedLinearMDP):
            rho = _radii(unc, {"full": (d,)})
            op = RobustOperator(unc.kind, model.mu, rho, model.R, model.gamma, mix=model.phi)
            return model.gamma, None, [op], model.initial
        H = model.H
        rho = _radii(unc, {"full": (H, d), "factor": (d,)})
        phi = model.stage_phi()
        mu = np.asarray(model.mu)
        mu3 = mu if mu.ndim == 3 else np.broadcast_to(mu, (H, d, S))
        R = np.asarray(model.R)
        R3 = R if R.ndim == 3 else np.broadcast_to(R, (H, S, A))
        ops = [RobustOperator(unc.kind, mu3[h], rho[h], R3[h], 1.0, mix=phi[h]) for h in range(H)]
        return 1.0, H, ops, model.initial
    if isinstance(model, (LinearMDP, DiscountedLinearMDP)):
        model = model.to_mdp()
    if isinstance(model, DiscountedMDP):
        S, A = model.S, model.A
        rho = _radii(unc, {"full": (S, A)})
        op = RobustOperator(unc.kind, model.dense_P().reshape(S * A, S), rho, model.R, model.gamma)
        return model.gamma, None, [op], model.initial
    if isinstance(model, EpisodicMDP):
        S, A, H = model.S, model.A, model.H
        rho = _radii(unc, {"full": (H, S, A), "pair": (S, A)})
        P = model.P_by_stage()
        R = model.R_by_stage()
        ops = []
        for h in range(H):
            Ph = np.asarray(P[h]).reshape(S * A, S)
            ops.append(RobustOperator(unc.kind, Ph, rho[h], R[h], 1.0))
        return 1.0, H, ops, model.initial
    raise TypeError("expected a DiscountedMDP, EpisodicMDP, LinearMDP or DiscountedLinearMDP, "
                    f"got {type(model).__name__}")


# ---- discounted methods ----------------------------------------------------------------------

def _init_V(S, V0, default):
    if V0 is None:
        return default
    V0 = check_finite_array("V0", V0, shape=(S,))
    return np.array(V0, dtype=np.float64)


def _robust_vi(ops: RobustOperator, tol, max_iter, V0):
    """Robust value iteration: the certified loop of the nominal solvers on the robust
    operator (:func:`~mdptheory.solvers.discounted.certified_iteration` with ``m = 0``)."""
    return certified_iteration(ops, _init_V(ops.S, V0, np.zeros(ops.S)), tol, max_iter, 0, "robust-vi")


def _robust_mpi(ops: RobustOperator, tol, max_iter, V0, m):
    """Robust modified policy iteration (Kaufman & Schaefer 2013): greedy step, then ``m``
    robust evaluation sweeps ``V <- T_pi V``; from ``V0 = min R / (1 - gamma)`` (so that
    ``T V0 >= V0``) the iterates increase monotonically to the robust optimum."""
    m = check_int("m", m, 0)
    V = _init_V(ops.S, V0, np.full(ops.S, float(np.min(ops.R)) / (1.0 - ops.gamma)))
    return certified_iteration(ops, V, tol, max_iter, m, "robust-mpi")


def _adversarial_evaluation(view: _PolicyView, V, max_steps: int = 100):
    r"""Robust value of a fixed policy by policy iteration for the adversary: the worst-case
    kernel at ``V``, then its exact value :math:`(I-\gamma P_\pi)^{-1}R_\pi`; repeat until the
    value stops decreasing. Each value is that of a feasible kernel, so the iterates decrease
    towards :math:`V^\pi_{rob}` at least as fast as robust evaluation sweeps."""
    S = view.S
    steps = 0
    prev = np.inf
    for steps in range(1, max_steps + 1):
        P_pi, R_pi = view.worst_policy_matrices(V)
        V_new = np.linalg.solve(np.eye(S) - view.gamma * P_pi, R_pi)
        change = float(np.max(np.abs(V_new - V)))
        V = V_new
        # converged, or down at the round-off floor (the change no longer halves)
        if change <= 64 * _U * (1 + float(np.max(np.abs(V)))) or (steps > 1 and change > 0.5 * prev):
            break
        prev = change
    return V, steps


def _nominal_value(view: _PolicyView) -> np.ndarray:
    ops = view.ops
    if ops.mix is None:
        K = (ops.C * ops.inv[:, None]).reshape(ops.S, ops.A, -1)
    else:
        K = (ops.mix @ (ops.C * ops.inv[:, None])).reshape(ops.S, ops.A, -1)
    P_pi = np.einsum("sa,sat->st", view.probs, K)
    return np.linalg.solve(np.eye(ops.S) - ops.gamma * P_pi, (view.probs * ops.R).sum(axis=1))


def _robust_pi(ops: RobustOperator, tol, max_iter, pi0):
    """Robust policy iteration (Iyengar 2005): exact robust evaluation of the current policy
    (adversarial policy iteration), greedy improvement that keeps the current action unless
    another is better by more than ``1e-12 (1 + |V|)``; the final values are certified."""
    S, A = ops.S, ops.A
    if pi0 is None:
        pi = ops.R.argmax(axis=1).astype(np.int64)
    else:
        pi = np.array(pi0, dtype=np.int64)
        if pi.shape != (S,) or (pi < 0).any() or (pi >= A).any():
            raise ValueError(f"pi0 must be {S} actions in [0, {A}), got {pi0!r}")

    def evaluate(p, V):
        view = _PolicyView(ops, np.eye(A)[p])
        return _adversarial_evaluation(view, _nominal_value(view) if V is None else V)[0]

    return certified_policy_iteration(ops, pi, evaluate, tol, max_iter, "robust-pi", polish_unstable=True)


# ---- episodic --------------------------------------------------------------------------------

def _robust_backward(ops_list, probs=None, method="robust-backward-induction"):
    r"""Robust backward induction (optimal, or for the policy ``probs (H, S, A)``).

    The stage errors add up: with :math:`e_H=0` and
    :math:`e_h=\max_s|V_h(s)-(T_hV_{h+1})(s)|+(1+\eta_h)e_{h+1}` (each ``T_h`` is monotone and
    :math:`(1+\eta_h)`-Lipschitz in sup norm), :math:`\max_{h,s}|V_h-V^*_h|\le e_0`."""
    H = len(ops_list)
    S, A = ops_list[0].S, ops_list[0].A
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    pi = np.empty((H, S), dtype=np.int64)
    e = 0.0
    for h in range(H - 1, -1, -1):
        op = ops_list[h]
        Qm, E = op.certified_q(V[h + 1])
        Q[h] = Qm
        pi[h] = Qm.argmax(axis=1)
        if probs is None:
            V[h] = Qm.max(axis=1)
            local = E.max(axis=1)
        else:
            ph = probs[h]
            Qz = np.where(ph > 0, Qm, 0.0)
            V[h] = (ph * Qz).sum(axis=1)
            local = (ph * E).sum(axis=1) + 2 * kr._gam(A + 2) * (ph * np.abs(Qz)).sum(axis=1)
        e = float(np.max(local)) * (1 + 8 * _U) + (1 + op.row_sum_defect) * e * (1 + 4 * _U)
    return Solution(V=V, Q=Q, policy=pi, error_bound=e, converged=True, iterations=H, residual=0.0,
                    method=method, message="exact up to float64 round-off (bounded by error_bound)")


# ---- public API ------------------------------------------------------------------------------

def solve_robust(mdp, uncertainty, rectangularity: str = "sa", tol: float = 1e-8, method: str | None = None,
                 **kwargs) -> Solution:
    r"""Optimal robust values and a robust-optimal policy, certified.

    Parameters
    ----------
    mdp : DiscountedMDP, EpisodicMDP, LinearMDP or DiscountedLinearMDP
        The nominal model (sparse kernels are densified). Linear models with
        ``rectangularity="sa"`` are solved through their tabular form.
    uncertainty : TV, KL or ChiSquare
        The divergence ball around each nominal row (or factor) and its radius ``rho``.
    rectangularity : {"sa", "d"}
        ``"sa"``: one ball per state-action pair; ``"d"``: one ball per feature factor
        :math:`\mu_i` of a linear MDP with simplex features (Liu & Xu 2024).
    tol : float
        Required bound on :math:`\max_s|V(s)-V^*_{rob}(s)|` (discounted).
    method : {"vi", "mpi", "pi"}, optional
        Discounted only: robust value iteration, robust modified policy iteration (``m``
        partial sweeps, default 5) or robust policy iteration (exact evaluation by policy
        iteration for the adversary; the default, :data:`DEFAULT_ROBUST_METHOD`). Episodic
        models use robust backward induction.
    **kwargs
        ``max_iter``, ``V0`` (VI, MPI), ``m`` (MPI), ``pi0`` (PI).

    Returns
    -------
    Solution
        ``V``, robust ``Q = R + gamma * sigma(V)``, a greedy ``policy``; ``error_bound`` is a
        proven bound on the distance to the robust optimum for the float64 values returned
        (episodic: the round-off of the backward pass). ``rho = 0`` gives the nominal
        problem.
    """
    tol = check_real("tol", tol, 0.0, low_open=True)
    gamma, H, ops_list, _ = _stages(mdp, uncertainty, rectangularity)
    if H is not None:
        if method not in (None, "backward-induction", "bi"):
            raise ValueError(f"unknown method {method!r} for an episodic model; use 'backward-induction'")
        if kwargs:
            raise TypeError(f"unexpected arguments for robust backward induction: {sorted(kwargs)}")
        return _robust_backward(ops_list)
    method = DEFAULT_ROBUST_METHOD if method is None else check_choice("method", method, ROBUST_METHODS)
    ops = ops_list[0]
    max_iter = check_int("max_iter", kwargs.pop("max_iter", 1_000 if method == "pi" else 100_000), 1)
    if method == "vi":
        V0 = kwargs.pop("V0", None)
        _no_more(kwargs)
        return _robust_vi(ops, tol, max_iter, V0)
    if method == "mpi":
        V0, m = kwargs.pop("V0", None), kwargs.pop("m", 5)
        _no_more(kwargs)
        return _robust_mpi(ops, tol, max_iter, V0, m)
    pi0 = kwargs.pop("pi0", None)
    _no_more(kwargs)
    return _robust_pi(ops, tol, max_iter, pi0)


def _no_more(kwargs):
    if kwargs:
        raise TypeError(f"unexpected arguments: {sorted(kwargs)}")


@dataclass(frozen=True, eq=False)
class RobustEvaluation:
    r"""Robust value of a fixed policy.

    Attributes
    ----------
    V : ndarray
        :math:`V^\pi_{rob}`: ``(S,)`` (discounted) or ``(H+1, S)`` (episodic, ``V[H] = 0``).
    Q : ndarray
        Robust action values at ``V``: ``(S, A)`` or ``(H, S, A)``.
    error_bound : float
        Proven bound on :math:`\max|V - V^\pi_{rob}|` for the values returned.
    converged : bool
    iterations : int
        Adversary policy-iteration steps plus certification sweeps (discounted), ``H``
        (episodic).
    """

    V: np.ndarray
    Q: np.ndarray
    error_bound: float
    converged: bool
    iterations: int
    message: str = ""


def evaluate_robust(mdp, policy, uncertainty, rectangularity: str = "sa", tol: float = 1e-8,
                    max_iter: int = 1000) -> RobustEvaluation:
    r"""Exact robust value :math:`V^\pi_{rob}=\min_{P\in\mathcal U}V^{\pi,P}` of a policy.

    Discounted: the fixed point of :math:`T_\pi` (a monotone :math:`\gamma`-contraction that
    commutes with shifts), computed by policy iteration for the adversary (worst kernel at
    the current values, exact linear solve) and certified by MacQueen's bounds for
    :math:`T_\pi`. Episodic: robust backward induction along the policy.
    ``policy`` is deterministic (integer) or stochastic (float), as for
    :func:`mdptheory.evaluate`.
    """
    tol = check_real("tol", tol, 0.0, low_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    gamma, H, ops_list, _ = _stages(mdp, uncertainty, rectangularity)
    op0 = ops_list[0]
    tab = mdp if isinstance(mdp, (DiscountedMDP, EpisodicMDP)) else mdp.to_mdp()
    probs = to_stochastic(validate_policy(tab, policy), op0.A)
    if H is not None:
        sol = _robust_backward(ops_list, probs=probs, method="robust-evaluation")
        return RobustEvaluation(V=sol.V, Q=sol.Q, error_bound=sol.error_bound, converged=True,
                                iterations=H, message=sol.message)
    view = _PolicyView(op0, probs)
    V, steps = _adversarial_evaluation(view, _nominal_value(view), max_steps=max_iter)
    cert = _Certifier(view, tol, "robust-evaluation")
    TV = np.empty(op0.S)
    view.tmax(V, TV, np.empty(op0.S, dtype=np.int64))
    extra = 0
    if not cert.check(V, _mcqueen(gamma, V, TV)[0]):
        extra = _polish(view, V, cert, max_steps=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = cert.finish(steps + extra, "certified error bound <= tol", False)
    if not sol.converged:
        warnings.warn(f"evaluate_robust: {sol.message}", RuntimeWarning, stacklevel=2)
    return RobustEvaluation(V=sol.V, Q=sol.Q, error_bound=sol.error_bound, converged=sol.converged,
                            iterations=sol.iterations, message=sol.message)


def robust_q(mdp, V, uncertainty, rectangularity: str = "sa") -> np.ndarray:
    r"""Robust action values of a value vector: ``R + gamma * sigma(V)``, ``(S, A)``
    (discounted, ``V (S,)``) or ``(H, S, A)`` (episodic, ``V (H+1, S)``: stage ``h`` uses
    ``V[h+1]``)."""
    _, H, ops_list, _ = _stages(mdp, uncertainty, rectangularity)
    S, A = ops_list[0].S, ops_list[0].A
    if H is None:
        V = check_finite_array("V", V, shape=(S,))
        Q = np.empty((S, A))
        ops_list[0].q(V, Q)
        return Q
    V = check_finite_array("V", V, shape=(H + 1, S))
    Q = np.empty((H, S, A))
    for h in range(H):
        ops_list[h].q(V[h + 1], Q[h])
    return Q


def worst_case_kernel(mdp, V, uncertainty, rectangularity: str = "sa") -> np.ndarray:
    r"""The kernel of minimisers of the inner problems at ``V``: ``(S, A, S)`` (discounted) or
    ``(H, S, A, S)`` (episodic, stage ``h`` at ``V[h+1]``). Every row lies exactly in its
    uncertainty set (for d-rectangular sets: the features mixed with the worst factors)."""
    _, H, ops_list, _ = _stages(mdp, uncertainty, rectangularity)
    S = ops_list[0].S
    if H is None:
        V = check_finite_array("V", V, shape=(S,))
        return ops_list[0].worst_kernel(V)
    V = check_finite_array("V", V, shape=(H + 1, S))
    return np.stack([ops_list[h].worst_kernel(V[h + 1]) for h in range(H)])

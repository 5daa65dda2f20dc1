r"""DR-LSVI-UCB (Liu & Xu 2024): optimistic robust least-squares value iteration on the nominal model.

d-rectangular linear DRMDP, simplex features :math:`\phi\in\Delta_d`, TV radii :math:`\rho_{h,i}`
(TV = half L1), N1, known rewards. Episode ``k``, ``h = H-1..0``, :math:`V_H=0`, data :math:`\tau<k`:

.. math::
    \Lambda_h=\lambda I+\sum_\tau\phi_h^\tau\phi_h^{\tau\top},\quad
    z_h(\alpha)=\Lambda_h^{-1}\sum_\tau\phi_h^\tau\min\{V_{h+1}(s_{h+1}^\tau),\alpha\},

.. math::
    \nu_{h,i}=\max_{\alpha\in[m,M]}\bigl\{z_{h,i}(\alpha)-\rho_{h,i}(\alpha-m)\bigr\},\quad
    m,M=\min_s,\max_sV_{h+1}(s),

.. math::
    Q_h(s,a)=\min\bigl\{r_h(s,a)+\phi(s,a)^\top\nu_h+\beta\textstyle\sum_i\phi_i(s,a)
    \sqrt{[\Lambda_h^{-1}]_{ii}},\ H-h\bigr\},\quad V_h=\max_aQ_h,

greedy play (lowest action on ties). The dual keeps the :math:`\rho(\alpha-m)` term (the paper's
form, :math:`\alpha\in[0,H]`, is the case :math:`m=0` of a known fail state, ``fail_state=``) and is
maximised *exactly* over its breakpoints (:mod:`mdptheory.kernels.robust_dual`). Bonus ``"l1"``
(above; the paper's form, recalled) or ``"l2"`` :math:`\beta\sqrt{\sum_i\phi_i^2[\Lambda_h^{-1}]_{ii}}`
(the public prototype); :math:`\beta=c\,dH\sqrt\iota`, :math:`\iota=\ln(2dKH/\delta)` (reconstruction:
LSVI-UCB's radius). Guarantee: w.p. :math:`\ge1-\delta` the average robust suboptimality of the
played policies is :math:`\tilde O(d^2H^2/\sqrt K)`; ``bound()`` returns ``K`` times it. Cost flat
in ``k``: aggregation over distinct next states, Sherman-Morrison.

Provenance and reconstructions: proofs_notes/dr_lsvi_ucb.md

References: Z. Liu, P. Xu, "Distributionally Robust Off-Dynamics Reinforcement Learning: Provable
Efficiency with Linear Function Approximation", AISTATS 2024, arXiv:2402.15399.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mdptheory.core.linear import feature_view
from mdptheory.core.validation import (check_choice, check_delta, check_distribution, check_int, check_real,
                                       check_scale)
from mdptheory.kernels.ridge import (EXACT_ABOVE, REINVERT_EVERY, ridge_episode_update, ridge_statistics,
                                     sherman_morrison_ref, spd_inverse_ref)
from mdptheory.kernels.robust_dual import tv_dual, tv_dual_ref
from mdptheory.kernels.sampling import episode_buffers, record_regret_det_incremental, rollout_det
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound
from mdptheory.solvers.robust import TV

__all__ = ["DRLSVIUCB", "DRPlan", "RobustSpec", "dr_lsvi_ucb_plan", "dr_lsvi_ucb_plan_ref",
           "check_simplex_features", "check_fail_state", "stage_radii"]

_CAP = {"H": 0, "remaining": 1}
_BONUS = {"l2": 0, "l1": 1}
_REWARDS = {"regressed": 0, "known": 1}


@dataclass(frozen=True)
class RobustSpec:
    """What a robust learner is judged by: the uncertainty set (``TV(rho)``) and its
    rectangularity (``"d"``: one ball per feature factor)."""

    uncertainty: TV
    rectangularity: str = "d"


@dataclass(frozen=True)
class DRPlan:
    """One episode's optimistic robust plan: ``Q (H, S, A)``, ``V (H+1, S)``, greedy
    ``pi (H, S)`` and the dual estimates ``nu (H, d)``. Unpacks as ``Q, V, pi``."""

    Q: np.ndarray
    V: np.ndarray
    pi: np.ndarray
    nu: np.ndarray

    def __iter__(self):
        return iter((self.Q, self.V, self.pi))


def check_simplex_features(phi, who: str = "learner") -> None:
    r"""``ValueError`` naming the entry unless every :math:`\phi_h(s,a)` is a probability vector
    (the d-rectangular setting: :math:`\phi\ge0`, :math:`\sum_i\phi_i=1`)."""
    try:
        check_distribution("phi", phi, atol=1e-10)
    except ValueError as exc:
        raise ValueError(f"{who} needs simplex features (d-rectangular linear MDP): {exc}") from None


def stage_radii(rho, H: int, d: int) -> np.ndarray:
    """``rho`` (scalar, ``(d,)`` or ``(H, d)``) broadcast to a C-contiguous ``(H, d)`` float64 array."""
    r = np.asarray(rho, dtype=np.float64)
    if r.ndim == 0 or r.shape in ((d,), (H, d)):
        return np.ascontiguousarray(np.broadcast_to(r, (H, d)))
    raise ValueError(f"rho must be a scalar or have shape ({d},) or ({H}, {d}) for this model, got shape {r.shape}")


def check_fail_state(tab, fail_state, who: str = "learner") -> int:
    """``-1`` for ``None``; else ``fail_state`` after checking that it is a state of ``tab`` that
    is absorbing with zero reward at every stage (the fail-state assumption), ``ValueError`` naming
    the violation otherwise."""
    if fail_state is None:
        return -1
    f = check_int("fail_state", fail_state, 0, tab.S - 1)
    P, R = np.asarray(tab.P_by_stage()), np.broadcast_to(tab.R_by_stage(), (tab.H, tab.S, tab.A))
    bad = np.argwhere((P[:, f, :, f] != 1.0) | (R[:, f, :] != 0.0))
    if bad.size:
        h, a = (int(i) for i in bad[0])
        raise ValueError(f"{who}: fail_state = {f} is not absorbing with zero reward: at (h={h}, a={a}) "
                         f"P(f|f, a) = {float(P[h, f, a, f])!r}, r = {float(R[h, f, a])!r}")
    return f


def _radius(rho):
    """Validated radius (via ``TV``: finite, in [0, 1]) as a float or a read-only array."""
    return TV(rho).rho


def bonus_ref(phi_h, Linv_h, kind: str) -> np.ndarray:
    r""":math:`\sum_i\phi_i\sqrt{D_i}` (``"l1"``) or :math:`\sqrt{\sum_i\phi_i^2D_i}` (``"l2"``),
    :math:`D=\mathrm{diag}\,\Lambda_h^{-1}` clipped at 0, for every ``(s, a)`` (without :math:`\beta`)."""
    D = np.maximum(np.diagonal(Linv_h), 0.0)
    if kind == "l1":
        return phi_h @ np.sqrt(D)
    return np.sqrt((phi_h * phi_h) @ D)


def dr_lsvi_ucb_plan_ref(phi, Rk, Linv, cvec, M, rho, beta, H, cap="remaining", bonus="l1",
                         rewards="known", fail_state=-1) -> DRPlan:
    r"""One episode's plan from the sufficient statistics, vectorised (plain twin of
    :func:`dr_lsvi_ucb_plan`). ``phi (H, S, A, d)``, ``Rk (H, S, A)`` known mean rewards,
    ``Linv (H, d, d)`` = :math:`\Lambda_h^{-1}`, ``cvec (H, d)`` = :math:`\sum_\tau\phi_h^\tau r_h^\tau`
    (``rewards="regressed"``), ``M (H, S, d)`` = :math:`\sum_\tau\phi_h^\tau1\{s_{h+1}^\tau=s'\}`,
    ``rho (H, d)``, ``beta`` the bonus radius; ``fail_state >= 0``: its values are 0 (known)."""
    S, A, d = phi.shape[1], phi.shape[2], phi.shape[3]
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    NU = np.zeros((H, d))
    for h in range(H - 1, -1, -1):
        v = V[h + 1]
        seen = np.flatnonzero(np.any(M[h] != 0.0, axis=1))      # distinct observed next states
        G = Linv[h] @ M[h, seen].T
        NU[h] = tv_dual_ref(v[seen], G, rho[h], float(v.min()), float(v.max()))
        base = Rk[h] if rewards == "known" else phi[h] @ (Linv[h] @ cvec[h])
        ch = float(H) if cap == "H" else float(H - h)
        Q[h] = np.minimum(base + phi[h] @ NU[h] + beta * bonus_ref(phi[h], Linv[h], bonus), ch)
        if fail_state >= 0:
            Q[h, fail_state] = 0.0
        V[h] = Q[h].max(axis=1)
    return DRPlan(Q, V, Q.argmax(axis=2).astype(np.int64), NU)


class DRLSVIUCB(Learner):
    r"""DR-LSVI-UCB of Liu & Xu (2024); see the module docstring.

    Parameters
    ----------
    rho : float or array, default 0.1
        TV radii (half L1, in ``[0, 1]``): a scalar, one per factor ``(d,)`` or per stage and
        factor ``(H, d)`` (0-based stages). ``rho = 0`` is the nominal problem.
    beta : float >= 0, optional
        The bonus radius :math:`\beta`; default :math:`c\,dH\sqrt\iota`, :math:`\iota=\ln(2dKH/\delta)`.
    c : float >= 0, default 1.0
        Constant of the default :math:`\beta` (the paper proves that some constant works).
    lam : float > 0, default 1.0
        Ridge parameter :math:`\lambda`.
    delta : float in (0, 1), default 0.01
    bonus_scale : float >= 0, default 1.0
        Multiplies :math:`\beta` (1 = theory mode; 0 = no exploration bonus).
    bonus : {"l1", "l2"}, default "l1"
        :math:`\sum_i\phi_i\sqrt{[\Lambda^{-1}]_{ii}}` (the paper's form, recalled) or
        :math:`\sqrt{\sum_i\phi_i^2[\Lambda^{-1}]_{ii}}` (the public prototype). They coincide for
        one-hot features; for simplex features l1 >= l2.
    cap : {"remaining", "H"}, default "remaining"
        Clip :math:`Q_h` at the remaining horizon ``H - h`` (the paper's :math:`H-h+1`, 1-based)
        or at ``H``.
    rewards : {"known", "regressed"}, default "known"
        :math:`r_h(s,a)` read from the model (the paper: known :math:`\theta_h`), or the ridge
        estimate :math:`\phi^\top\Lambda_h^{-1}\sum_\tau\phi_h^\tau r_h^\tau` of the observed rewards
        (with ``rho = 0`` and one-hot features this is LSVI-UCB's ``Q`` up to round-off).
    fail_state : int, optional
        A state known to be absorbing with zero reward (the paper's fail-state assumption,
        checked against the model): its values are set to 0 instead of estimated, so
        :math:`\min_sV_{h+1}=0` as in the paper's form of the dual. Default: none (all values
        estimated; the optimistic value of a rarely visited worst state then weakens the
        robust penalty -- ``proofs_notes/dr_lsvi_ucb.md``).

    Notes
    -----
    N1; stage-dependent models; features must lie in the simplex (checked in :meth:`prepare`).
    Runs on a :class:`~mdptheory.core.LinearMDP` or a tabular
    :class:`~mdptheory.core.EpisodicMDP` (one-hot features, ``d = S A``, where the
    d-rectangular set is the (s,a)-rectangular one). :func:`mdptheory.run` records the exact
    robust suboptimality of every played policy (:func:`mdptheory.regret.robust.run_robust`)
    through :meth:`robust_uncertainty`.
    """

    name = "DR-LSVI-UCB"
    normalization = "N1"
    uses_features = True
    stochastic_policies = False

    def __init__(self, *, rho=0.1, beta: float | None = None, c: float = 1.0, lam: float = 1.0,
                 delta: float = 0.01, bonus_scale: float = 1.0, bonus: str = "l1", cap: str = "remaining",
                 rewards: str = "known", fail_state: int | None = None):
        self.rho = _radius(rho)
        self.beta = None if beta is None else check_scale("beta", beta)
        self.c = check_scale("c", c)
        self.lam = check_real("lam", lam, 0.0, low_open=True)
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.bonus = check_choice("bonus", bonus, _BONUS)
        self.cap = check_choice("cap", cap, _CAP)
        self.rewards = check_choice("rewards", rewards, _REWARDS)
        self.fail_state = None if fail_state is None else check_int("fail_state", fail_state, 0)

    # -- robust accounting ---------------------------------------------------------------
    def robust_uncertainty(self) -> RobustSpec:
        """The set the learner is robust against: ``TV(rho)``, d-rectangular."""
        return RobustSpec(TV(self.rho), "d")

    def radius_beta(self, d: int, H: int, K: int) -> float:
        r"""The bonus radius used: ``bonus_scale * beta`` or ``bonus_scale * c d H sqrt(ln(2dKH/delta))``."""
        if self.beta is not None:
            return self.bonus_scale * self.beta
        return self.bonus_scale * self.c * d * H * math.sqrt(math.log(2.0 * d * K * H / self.delta))

    # -- protocol ------------------------------------------------------------------------
    def prepare(self, mdp, episodes):
        tab, phi = feature_view(mdp)
        super().prepare(tab, episodes)
        check_simplex_features(phi, type(self).__name__)
        self._phi = phi
        self._d = int(phi.shape[3])
        self._rho = stage_radii(self.rho, tab.H, self._d)
        self._Rk = np.ascontiguousarray(np.broadcast_to(tab.R_by_stage(), (tab.H, tab.S, tab.A)), dtype=np.float64)
        self._beta = self.radius_beta(self._d, tab.H, self._K)
        self._fail = check_fail_state(tab, self.fail_state, type(self).__name__)

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        d, lam = self._d, self.lam
        self._Lam = np.repeat(lam * np.eye(d)[None], H, axis=0)
        self._Linv = np.repeat(np.eye(d)[None] / lam, H, axis=0)
        self._cvec = np.zeros((H, d))
        self._M = np.zeros((H, S, d))
        self._nupd = np.zeros(H, dtype=np.int64)

    def begin_episode(self, k):
        plan = dr_lsvi_ucb_plan_ref(self._phi, self._Rk, self._Linv, self._cvec, self._M, self._rho,
                                    self._beta, self._H, self.cap, self.bonus, self.rewards, self._fail)
        self._Q, self._V, self._pi = plan
        self._nu = plan.nu

    def observe(self, h, s, a, r, s_next):
        x = self._phi[h, s, a]
        self._Lam[h] += np.outer(x, x)
        self._nupd[h] += 1
        self._Linv[h], _, den = sherman_morrison_ref(self._Linv[h], x, 1.0)
        if den > EXACT_ABOVE or self._nupd[h] % REINVERT_EVERY == 0:
            self._Linv[h] = spd_inverse_ref(self._Lam[h])
        self._cvec[h] += x * r
        self._M[h, s_next] += x

    def compiled(self, mdp, episodes, policy_log=None):
        """The compiled loop; ``policy_log`` (``(K, H, S)`` int64) receives the policy played in
        every episode (used by :func:`mdptheory.regret.robust.run_robust`)."""
        H, S = int(mdp.horizon), int(self._phi.shape[1])
        log = np.zeros((0, H, S), dtype=np.int64) if policy_log is None else policy_log
        return CompiledLoop(_dr_lsvi_ucb_loop, (H, self._phi, self._Rk, self._rho, _REWARDS[self.rewards],
                                                self._beta, self.lam, _CAP[self.cap], _BONUS[self.bonus],
                                                self._fail, log))

    def bound(self, S, A, H, K, delta=None, *, d=None):
        r"""``K`` times the average robust suboptimality bound of Liu & Xu (2024),
        :math:`\tilde O(d^2H^2/\sqrt K)`, with constants 1 and one factor :math:`\iota=\ln(2dKH/\delta)`:
        :math:`d^2H^2\sqrt K\,\iota`. It bounds :math:`\sum_k[V^*_{rob,1}(s_1)-V^{\pi_k}_{rob,1}(s_1)]`
        (``RobustRegretTrace.cumulative_robust()``), not the nominal regret. N1, INHOM, w.p.
        :math:`\ge1-\delta`. ``d`` defaults to that of the last prepared model, else ``S A``."""
        K, delta = self._bound_args(S, A, H, K, delta)
        if d is None:
            d = getattr(self, "_d", S * A)
        d = check_int("d", d, 1)
        iota = np.log(2.0 * d * K * H / delta)
        lead = float(d) ** 2 * H ** 2 * np.sqrt(K) * iota
        return regret_bound(lead, 0.0, H=H, K=K, normalization="N1", setting="INHOM",
                            theorem="Liu & Xu 2024, DR-LSVI-UCB: K x average robust suboptimality "
                                    "O~(d^2 H^2 / sqrt K) (rate, constants 1)",
                            explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def dr_stage_dual(Linv, cvec, M, succ, nsucc, rho, known, V, h, yv, G, sd, w, nu):
    r"""Stage ``h``'s estimates from the statistics, shared by :func:`dr_lsvi_ucb_plan` and
    DR-RPO's evaluation: ``nu[h]`` by the exact TV dual (:func:`~mdptheory.kernels.robust_dual.tv_dual`)
    of :math:`\Lambda_h^{-1}\sum_\tau\phi_h^\tau\min\{V_{h+1}(s_{h+1}^\tau),\alpha\}` over the
    observed next states ``succ[h, :nsucc[h]]``, :math:`\alpha\in[\min V_{h+1},\max V_{h+1}]`; the
    bonus scales ``sd[i]`` = :math:`\sqrt{[\Lambda_h^{-1}]_{ii}}` (0 if not positive); the reward
    weights ``w`` = :math:`\Lambda_h^{-1}c_h` (``known == 0``) or 0. Buffers ``yv (S,)``, ``G (d, S)``."""
    d = Linv.shape[1]
    vmin = V[h + 1, 0]
    vmax = V[h + 1, 0]
    for s in range(1, V.shape[1]):
        x = V[h + 1, s]
        if x < vmin:
            vmin = x
        if x > vmax:
            vmax = x
    n = nsucc[h]
    for j in range(n):
        y = succ[h, j]
        yv[j] = V[h + 1, y]
        for i in range(d):
            acc = 0.0
            for l in range(d):
                acc += Linv[h, i, l] * M[h, y, l]
            G[i, j] = acc
    tv_dual(yv[:n], G[:, :n], rho[h], vmin, vmax, nu[h])
    for i in range(d):
        t = Linv[h, i, i]
        sd[i] = math.sqrt(t) if t > 0.0 else 0.0
        acc = 0.0
        if known == 0:
            for l in range(d):
                acc += Linv[h, i, l] * cvec[h, l]
        w[i] = acc


@njit(cache=True, nogil=True)
def dr_lsvi_ucb_plan(phi, Rk, Linv, cvec, M, succ, nsucc, rho, beta, cap, l1, known, fail, yv, G, sd, w, nu,
                     Q, V, pi):
    """Compiled twin of :func:`dr_lsvi_ucb_plan_ref`: the dual uses the observed next states
    ``succ[h, :nsucc[h]]`` only; ``cap`` 0 = ``H``, 1 = ``H - h``; ``l1`` 1 = the l1 bonus,
    0 = l2; ``known`` 1 = known rewards, 0 = regressed; ``fail >= 0`` a known fail state.
    Buffers: ``yv (S,)``, ``G (d, S)``, ``sd (d,)``, ``w (d,)``. Writes ``nu (H, d)``, ``Q``, ``V`` (``V[H] = 0``) and ``pi``."""
    H, S, A, d = phi.shape
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        dr_stage_dual(Linv, cvec, M, succ, nsucc, rho, known, V, h, yv, G, sd, w, nu)
        ch = float(H) if cap == 0 else float(H - h)
        for s in range(S):
            best = -np.inf
            arg = 0
            for a in range(A):
                m = Rk[h, s, a] if known == 1 else 0.0
                b = 0.0
                for i in range(d):
                    f = phi[h, s, a, i]
                    m += f * nu[h, i]
                    if known == 0:
                        m += f * w[i]
                    if l1 == 1:
                        b += f * sd[i]
                    else:
                        t = Linv[h, i, i]
                        if t > 0.0:
                            b += (f * f) * t
                if l1 == 0:
                    b = math.sqrt(b)
                val = m + beta * b
                if val > ch:
                    val = ch
                if s == fail:
                    val = 0.0
                Q[h, s, a] = val
                if val > best:
                    best = val
                    arg = a
            V[h, s] = best
            pi[h, s] = arg


@njit(cache=True, nogil=True)
def _dr_lsvi_ucb_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
                      regret_out, returns_out):
    H, phi, Rk, rho, known, beta, lam, cap, l1, fail, log = params
    S = P.shape[1]
    A = P.shape[2]
    d = phi.shape[3]
    Lam, Linv, cvec, M, succ, nsucc, seen = ridge_statistics(H, S, d, lam)
    nupd = 0
    u = np.empty(d)
    yv = np.empty(S)
    G = np.empty((d, S))
    sd = np.empty(d)
    w = np.empty(d)
    nu = np.zeros((H, d))
    Q = np.empty((H, S, A))
    V = np.empty((H + 1, S))
    Vb, pi, pi_prev, xs, acts, rs = episode_buffers(H, S)
    no_forms = np.empty((0, 0, 0))
    logging = log.shape[0] > 0
    for k in range(K):
        dr_lsvi_ucb_plan(phi, Rk, Linv, cvec, M, succ, nsucc, rho, beta, cap, l1, known, fail, yv, G, sd, w, nu,
                         Q, V, pi)
        if logging:
            for h in range(H):
                for s in range(S):
                    log[k, h, s] = pi[h, s]
        record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        nupd += 1
        ridge_episode_update(phi, xs, acts, rs, Rk, 1, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, no_forms)

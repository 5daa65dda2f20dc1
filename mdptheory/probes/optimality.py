r"""Probes of the optimality operator :math:`T^\star` on a linear class (nonlinear max).

:math:`(T^\star Q)(s,a)=r(s,a)+\gamma\sum_{s'}P(s'|s,a)\max_{a'}Q(s',a')` is piecewise linear
in the parameter, so suprema over the class are non-concave: everything here is a
**certified lower bound** (the value at points actually evaluated), never an estimate that
could overshoot.

* :func:`local_ibe_optimality` -- the local inherent Bellman error around
  :math:`Q^\star=\Phi w^\star` and the ratio
  :math:`\varepsilon^\star(w)=\|(I-\Pi_\mu)(T^\star\Phi w-T^\star\Phi w^\star)\|_\mu/\|\Phi(w-w^\star)\|_\mu`
  ([reconstruction], ``proofs_notes/optimality_ibe.md``; under realizability the numerator
  is the local IBE :math:`\mathcal I(w)=\|(I-\Pi_\mu)T^\star\Phi w\|_\mu`). Supremum
  searched by random directions on the μ-unit sphere at several radii plus multi-start
  projected gradient ascent with the a.e. Jacobian :math:`\gamma P\,\Pi_{\mathrm{greedy}(w)}\Phi`.
  When :math:`Q^\star` has a positive action gap the small-radius value equals the
  policy-evaluation :math:`\varepsilon_{\rm inc}` of :math:`\pi^\star`.
* :func:`zanette_ibe` -- the sup-norm, bounded-parameter inherent Bellman error of Zanette,
  Lazaric, Kochenderfer & Brunskill (ICML 2020):
  :math:`\mathcal I=\max_t\sup_{\theta'\in\mathcal B_{t+1}}\inf_{\theta\in\mathcal B_t}
  \|\phi_t^\top\theta-T_t(\phi_{t+1}^\top\theta')\|_\infty`, with
  :math:`\mathcal B_t=\{\theta:|\phi_t(s,a)^\top\theta|\le B_t\ \forall(s,a)\}`
  ([reconstruction] of :math:`\mathcal B_t`, ``proofs_notes/optimality_ibe.md``). The inner
  infimum is an exact LP (scipy HiGHS); the outer supremum is a multi-start lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.probes.bellman import as_linear_class
from mdptheory.probes.linear_class import flat_P
from mdptheory.solvers import solve

__all__ = [
    "OptimalityIBE",
    "local_ibe_optimality",
    "OptimalityBackup",
    "optimality_backup",
    "ZanetteIBE",
    "zanette_ibe",
    "SupNormFit",
    "sup_norm_projection",
]


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} = {value!r} must be an integer >= {minimum}")
    return int(value)


@dataclass(frozen=True, eq=False)
class OptimalityBackup:
    r"""Result of :func:`optimality_backup`.

    Attributes
    ----------
    values : ndarray ``(S*A,)``
        :math:`(T^\star Q)(s,a)=r(s,a)+\gamma\sum_{s'}P(s'|s,a)\max_{a'}Q(s',a')`, flattened
        ``s*A + a``.
    greedy : ndarray ``(S,)`` int
        :math:`\arg\max_{a'}Q(s',a')` per state (ties to the lowest action): the policy whose
        evaluation operator agrees with :math:`T^\star` at ``Q``.
    """

    values: np.ndarray
    greedy: np.ndarray


def optimality_backup(mdp: DiscountedMDP, Q) -> OptimalityBackup:
    r"""One application of the optimality operator,
    :math:`T^\star Q=r+\gamma P\max_{a'}Q(\cdot,a')`, with the greedy actions of ``Q``.

    ``Q`` has shape ``(S, A)`` or ``(S*A,)``; ``mdp`` is a dense or sparse
    :class:`~mdptheory.core.DiscountedMDP`.
    """
    if not isinstance(mdp, DiscountedMDP):
        raise TypeError(f"optimality_backup needs a DiscountedMDP, got {type(mdp).__name__}")
    Q = np.asarray(Q, dtype=np.float64)
    if Q.shape not in ((mdp.S, mdp.A), (mdp.S * mdp.A,)):
        raise ValueError(f"Q must have shape (S, A) = {(mdp.S, mdp.A)} or (S*A,), got {Q.shape}")
    Q = Q.reshape(mdp.S, mdp.A)
    greedy = Q.argmax(axis=1)
    V = Q[np.arange(mdp.S), greedy]
    TQ = np.asarray(mdp.R, dtype=np.float64).reshape(-1) + mdp.gamma * np.asarray(flat_P(mdp) @ V).reshape(-1)
    return OptimalityBackup(TQ, greedy)


@dataclass(frozen=True, eq=False)
class OptimalityIBE:
    r"""Result of :func:`local_ibe_optimality`.

    Attributes
    ----------
    lower_bound : float
        Largest ratio :math:`\varepsilon^\star(w)` found (certified: attained at ``w_argmax``).
    w_argmax : ndarray ``(d,)``
    radii : ndarray ``(m,)``
        μ-radii :math:`\|\Phi(w-w^\star)\|_\mu` searched.
    ratio_by_radius : ndarray ``(m,)``
        Best ratio found at each radius.
    local_ibe_by_radius : ndarray ``(m,)``
        Best :math:`\|(I-\Pi_\mu)(T^\star\Phi w-T^\star\Phi w^\star)\|_\mu` at each radius.
    w_star : ndarray ``(d,)``
        Centre: least-squares fit of :math:`Q^\star`.
    realizability_error : float
        :math:`\min_w\|\Phi w-Q^\star\|_\mu`.
    greedy_policy : ndarray ``(S,)``
        :math:`\pi^\star` from the exact solve.
    """

    lower_bound: float
    w_argmax: np.ndarray
    radii: np.ndarray
    ratio_by_radius: np.ndarray
    local_ibe_by_radius: np.ndarray
    w_star: np.ndarray
    realizability_error: float
    greedy_policy: np.ndarray


def local_ibe_optimality(mdp: DiscountedMDP, features, mu, *, radii=None, n_directions: int = 64,
                         n_starts: int = 4, ascent_steps: int = 100, seed=0,
                         rank_tol: float = 1e-10) -> OptimalityIBE:
    r"""Certified lower bound on :math:`\sup_w\varepsilon^\star(w)` (see the module docstring).

    Parameters
    ----------
    mdp : DiscountedMDP
    features : array ``(S, A, d)`` or :class:`LinearClass`
    mu : array ``(S, A)`` or ``"uniform"`` (``"on-policy"`` uses :math:`\pi^\star`)
    radii : sequence of float, optional
        μ-radii; default :math:`\{10^{-3},10^{-2},10^{-1},1,10\}\cdot\|Q^\star\|_\mu`
        (or those numbers themselves when :math:`Q^\star=0`).
    n_directions : int
        Random directions per radius (uniform on the μ-unit sphere of the class).
    n_starts, ascent_steps : int
        The best ``n_starts`` directions per radius are refined by projected gradient ascent
        (``ascent_steps = 0`` keeps the random search only).
    seed : int or numpy.random.Generator
        Seed of the ``numpy.random.Generator`` that draws the directions (no global RNG).

    Returns
    -------
    OptimalityIBE

    Notes
    -----
    [reconstruction] The local IBE and the ratio reconstruct the "local inherent Bellman
    errors" of Zanette (ICML 2023), whose exact definition could not be read; the choice
    and the proof of the small-radius limit are in ``proofs_notes/optimality_ibe.md``.
    """
    if not isinstance(mdp, DiscountedMDP):
        raise TypeError(f"local_ibe_optimality needs a DiscountedMDP, got {type(mdp).__name__}")
    n_directions = _count(n_directions, "n_directions", 1)
    n_starts = _count(n_starts, "n_starts", 1)
    ascent_steps = _count(ascent_steps, "ascent_steps", 0)
    sol = solve(mdp, method="pi")
    Qstar = sol.Q.reshape(-1)
    lc = as_linear_class(mdp, features, mu, sol.policy, rank_tol=rank_tol)
    rng = _rng(seed)
    U, R = lc.basis, lc.coords
    w_star = lc.fit(Qstar)
    real_err = lc.residual(Qstar)
    qn = lc.norm(Qstar)
    if radii is None:
        base = qn if qn > 0 else 1.0
        radii = base * np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0])
    radii = np.asarray(radii, dtype=np.float64).reshape(-1)
    if radii.size == 0:
        raise ValueError("radii must contain at least one radius")
    bad = np.flatnonzero(~(np.isfinite(radii) & (radii > 0)))
    if bad.size:
        raise ValueError(f"radii[{int(bad[0])}] = {float(radii[bad[0]])!r} must be a positive finite number")
    T0 = optimality_backup(mdp, lc.phi @ w_star).values
    WT0 = lc.weigh(T0)
    Pf = flat_P(mdp)
    phi3 = lc.phi.reshape(mdp.S, mdp.A, lc.d)
    r = lc.rank

    def ratio_and_grad(u, rho, need_grad):
        w = w_star + rho * (R @ u)
        bk = optimality_backup(mdp, lc.phi @ w)
        greedy = bk.greedy
        g = lc.weigh(bk.values) - WT0
        g = g - U @ (U.T @ g)
        val = float(np.linalg.norm(g)) / rho
        if not need_grad:
            return val, None
        # d g / d u = (I - Pi) D^{1/2} gamma P Phi_greedy R rho ; ratio = ||g|| / rho
        Yg = mdp.gamma * np.asarray(Pf @ phi3[np.arange(mdp.S), greedy])
        J = lc.weigh(Yg) @ R
        J = J - U @ (U.T @ J)
        ng = np.linalg.norm(g)
        grad = (J.T @ g) / ng if ng > 0 else np.zeros(r)
        return val, grad

    best_val, best_w = -np.inf, w_star.copy()
    by_r = np.zeros(radii.size)
    ibe_r = np.zeros(radii.size)
    for j, rho in enumerate(radii):
        Z = rng.standard_normal((int(n_directions), r))
        Z /= np.linalg.norm(Z, axis=1, keepdims=True)
        vals = np.array([ratio_and_grad(z, rho, False)[0] for z in Z])
        order = np.argsort(-vals)[: max(1, int(n_starts))]
        rb, ub = float(vals[order[0]]), Z[order[0]].copy()
        for k in order:
            u = Z[k].copy()
            val, grad = ratio_and_grad(u, rho, True)
            step = 0.5
            for _ in range(int(ascent_steps)):
                gt = grad - (grad @ u) * u  # tangent component
                if np.linalg.norm(gt) < 1e-12:
                    break
                cand = u + step * gt / np.linalg.norm(gt)
                cand /= np.linalg.norm(cand)
                cval, cgrad = ratio_and_grad(cand, rho, True)
                if cval > val:
                    u, val, grad = cand, cval, cgrad
                    step = min(step * 1.5, 1.0)
                else:
                    step *= 0.5
                    if step < 1e-8:
                        break
            if val > rb:
                rb, ub = val, u
        by_r[j] = rb
        ibe_r[j] = rb * rho
        if rb > best_val:
            best_val, best_w = rb, w_star + rho * (R @ ub)
    return OptimalityIBE(float(best_val), best_w, radii, by_r, ibe_r, w_star, float(real_err), sol.policy)


# -- Zanette et al. 2020: sup-norm, bounded parameters --------------------------------------

@dataclass(frozen=True, eq=False)
class SupNormFit:
    r"""Result of :func:`sup_norm_projection`.

    Attributes
    ----------
    value : float
        :math:`\min_{\theta\in\mathcal B}\|\Phi\theta-y\|_\infty` (LP optimum).
    theta : ndarray ``(d,)``
        A minimiser.
    """

    value: float
    theta: np.ndarray


def sup_norm_projection(Phi: np.ndarray, y: np.ndarray, bound: float) -> SupNormFit:
    r"""Exact :math:`\min_\theta\|\Phi\theta-y\|_\infty` subject to
    :math:`\|\Phi\theta\|_\infty\le B` (the inner infimum of the Zanette et al. 2020
    inherent Bellman error; an LP solved by scipy's HiGHS).

    Variables :math:`(\theta,t)`; minimise :math:`t` subject to
    :math:`\pm(\Phi\theta-y)\le t` and :math:`\pm\Phi\theta\le B`. ``Phi`` is ``(n, d)``,
    ``y`` ``(n,)``, ``bound`` :math:`B\ge0` (``theta = 0`` is always feasible, so the LP is
    never infeasible).
    """
    Phi = np.asarray(Phi, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if Phi.ndim != 2:
        raise ValueError(f"Phi must have shape (n, d), got {Phi.shape}")
    if y.shape != (Phi.shape[0],):
        raise ValueError(f"y must have shape (n,) = {(Phi.shape[0],)}, got {y.shape}")
    for name, arr in (("Phi", Phi), ("y", y)):
        if not np.all(np.isfinite(arr)):
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"{name}{list(idx)} = {float(arr[idx])!r} is not finite")
    bound = float(bound)
    if not (np.isfinite(bound) and bound >= 0):
        raise ValueError(f"bound = {bound!r} must be finite and >= 0")
    n, d = Phi.shape
    c = np.zeros(d + 1)
    c[-1] = 1.0
    one = np.ones((n, 1))
    zero = np.zeros((n, 1))
    A_ub = np.vstack([np.hstack([Phi, -one]), np.hstack([-Phi, -one]),
                      np.hstack([Phi, zero]), np.hstack([-Phi, zero])])
    b_ub = np.concatenate([y, -y, np.full(n, bound), np.full(n, bound)])
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * d + [(0, None)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"sup_norm_projection: LP failed ({res.message})")
    return SupNormFit(float(res.x[-1]), res.x[:d])


@dataclass(frozen=True, eq=False)
class ZanetteIBE:
    r"""Result of :func:`zanette_ibe`.

    Attributes
    ----------
    lower_bound : float
        :math:`\max_t` of the per-stage values (certified lower bound on :math:`\mathcal I`).
    per_stage : ndarray ``(H,)``
        Best value found per stage (one entry for a discounted MDP).
    theta_next : list of ndarray
        The maximising next-stage parameter per stage.
    bounds : ndarray ``(H + 1,)``
        The parameter-set bounds :math:`B_t` (last entry 0: no value after the horizon).
    evaluations : int
        Number of LPs solved.
    """

    lower_bound: float
    per_stage: np.ndarray
    theta_next: list
    bounds: np.ndarray
    evaluations: int


def zanette_ibe(mdp, features, bound=None, *, n_starts: int = 32, n_local: int = 32, seed=0) -> ZanetteIBE:
    r"""Sup-norm inherent Bellman error with bounded parameter sets (Zanette et al. 2020).

    Parameters
    ----------
    mdp : DiscountedMDP or EpisodicMDP
    features : array ``(S, A, d)`` (stationary) or ``(H, S, A, d)`` (per stage, episodic)
    bound : float or array, optional
        :math:`B` (discounted) or :math:`(B_0,\dots,B_{H-1})` (episodic). Defaults:
        :math:`\max|r|/(1-\gamma)` and :math:`B_t=(H-t)\max|r|`, which make a linear MDP's
        error exactly 0 (:math:`T` maps :math:`\mathcal B_{t+1}` into :math:`\mathcal B_t`).
    n_starts, n_local : int
        Random starting parameters (boundary and interior of :math:`\mathcal B_{t+1}`), then
        ``n_local`` random-perturbation hill-climbing steps from the best start.
    seed : int or numpy.random.Generator

    Returns
    -------
    ZanetteIBE
        A certified lower bound (every value is an exact LP optimum at a feasible
        :math:`\theta'`); the outer supremum is non-concave, so no upper bound is claimed.

    Notes
    -----
    Discounted form: :math:`\sup_{\theta'\in\mathcal B}\inf_{\theta\in\mathcal B}
    \|\Phi\theta-r-\gamma P\max_{a'}\Phi\theta'\|_\infty`. The episodic last stage compares
    with :math:`T_{H-1}0=r_{H-1}` (reward realizability).
    """
    n_starts = _count(n_starts, "n_starts", 0)
    n_local = _count(n_local, "n_local", 0)
    rng = _rng(seed)
    phi = np.asarray(features, dtype=np.float64)
    if not np.all(np.isfinite(phi)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(phi))[0])
        raise ValueError(f"features{list(idx)} = {float(phi[idx])!r} is not finite")
    S, A = mdp.S, mdp.A
    episodic = isinstance(mdp, EpisodicMDP)
    if episodic:
        H = mdp.horizon
        if phi.ndim == 3:
            phi = np.broadcast_to(phi, (H,) + phi.shape)
        if phi.shape[:3] != (H, S, A):
            raise ValueError(f"features must have shape (S, A, d) or (H, S, A, d) = {(H, S, A)} + (d,), got {phi.shape}")
        Rs = np.asarray(mdp.R_by_stage(), dtype=np.float64)
        rmax = float(np.abs(Rs).max())
        if bound is None:
            Bt = np.array([(H - t) * rmax for t in range(H)] + [0.0])
        else:
            Bt = np.concatenate([np.broadcast_to(np.asarray(bound, dtype=np.float64), (H,)), [0.0]])
        Ps = [np.asarray(mdp.P_by_stage()[t]).reshape(S * A, S) for t in range(H)]
        gam = 1.0
    else:
        if not isinstance(mdp, DiscountedMDP):
            raise TypeError(f"expected a DiscountedMDP or EpisodicMDP, got {type(mdp).__name__}")
        if phi.shape[:2] != (S, A) or phi.ndim != 3:
            raise ValueError(f"features must have shape (S, A, d) with (S, A) = {(S, A)}, got {phi.shape}")
        H = 1
        phi = phi[None]
        Rs = np.asarray(mdp.R, dtype=np.float64)[None]
        rmax = float(np.abs(Rs).max())
        B = rmax / (1 - mdp.gamma) if bound is None else float(bound)
        Bt = np.array([B, B])
        Ps = [np.asarray(flat_P(mdp).toarray() if mdp.is_sparse else flat_P(mdp))]
        gam = mdp.gamma
    badB = np.flatnonzero(~(np.isfinite(Bt) & (Bt >= 0)))
    if badB.size:
        raise ValueError(f"bound[t={int(badB[0])}] = {float(Bt[badB[0]])!r} must be finite and >= 0")
    d = phi.shape[-1]
    evals = 0
    per_stage = np.zeros(H)
    thetas = []
    for t in range(H):
        Phi_t = phi[t].reshape(S * A, d)
        r_t = Rs[t].reshape(-1)
        if episodic and t == H - 1:
            val = sup_norm_projection(Phi_t, r_t, Bt[t]).value
            evals += 1
            per_stage[t] = val
            thetas.append(np.zeros(d))
            continue
        nxt = phi[t + 1] if episodic else phi[0]
        Phi_n = nxt.reshape(S * A, d)
        Bn = Bt[t + 1] if episodic else Bt[0]

        def value(theta):
            V = (Phi_n @ theta).reshape(S, A).max(axis=1)
            y = r_t + gam * (Ps[t] @ V)
            return sup_norm_projection(Phi_t, y, Bt[t]).value

        def scale_in(theta):
            m = float(np.max(np.abs(Phi_n @ theta)))
            return theta if m <= Bn or m == 0 else theta * (Bn / m)

        best, best_th = -np.inf, np.zeros(d)
        for k in range(int(n_starts)):
            z = rng.standard_normal(d)
            m = float(np.max(np.abs(Phi_n @ z)))
            if m == 0:
                continue
            frac = 1.0 if k % 2 == 0 else rng.random()
            th = z * (Bn * frac / m)
            v = value(th)
            evals += 1
            if v > best:
                best, best_th = v, th
        step = 0.5
        for _ in range(int(n_local)):
            z = rng.standard_normal(d)
            m = float(np.max(np.abs(Phi_n @ z)))
            if m == 0:
                continue
            cand = scale_in(best_th + z * (step * Bn / m))
            v = value(cand)
            evals += 1
            if v > best:
                best, best_th = v, cand
            else:
                step *= 0.8
        if best == -np.inf:  # Phi_n == 0: the next stage contributes nothing
            best = value(np.zeros(d))
            evals += 1
        per_stage[t] = best
        thetas.append(best_th)
    return ZanetteIBE(float(per_stage.max()), per_stage, thetas, Bt, evals)

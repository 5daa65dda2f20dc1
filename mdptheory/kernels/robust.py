r"""Inner problems of robust Bellman operators: worst-case expectations over divergence balls.

For a centre :math:`\bar q` (a stored row ``q`` divided by its exact sum), a value vector
``v`` over ``S`` states and a radius :math:`\rho\ge0`, the inner problem is

.. math::
    \sigma(\bar q, v) = \min\{\, p^\top v : p\in\Delta_S,\ D(p\,\|\,\bar q)\le\rho \,\}.

* **TV** (:math:`D = \tfrac12\|p-\bar q\|_1`, :math:`\rho\in[0,1]`, ``p`` may put mass on
  *any* state): move :math:`\min(\rho, 1-\bar q(t))` of mass from the highest-value states to
  :math:`t=\arg\min_s v(s)`. After one global sort of ``v`` (shared by all rows) a row costs
  the few states it touches. Dual: :math:`\sigma=\max_\alpha E_{\bar q}[\min(v,\alpha)]-\rho(\alpha-\min_s v)`.
* **chi-square** (:math:`D=\sum_s (p_s-\bar q_s)^2/\bar q_s`, so ``p`` lives on the support of
  :math:`\bar q`): the minimiser is :math:`p\propto\bar q\,(\alpha-v)_+`; with ``L`` the
  active (lowest-value) states, :math:`Q_L` their mass, :math:`m_L, s_L^2` their mean and
  variance under :math:`\bar q`, :math:`\sigma = m_L - s_L\sqrt{(1+\rho)Q_L-1}`. ``L`` is found
  by one ascending scan; closed form, no iteration.
* **KL** (:math:`D=\sum_s p_s\log(p_s/\bar q_s)`, ``p`` on the support of :math:`\bar q`): dual
  :math:`\sigma=\sup_{\beta>0}-\beta\log E_{\bar q}e^{-v/\beta}-\beta\rho`; the optimal
  :math:`u=1/\beta` solves :math:`\mathrm{KL}(p_u\|\bar q)=\rho` for the Gibbs law
  :math:`p_u\propto\bar q e^{-uv}` (increasing in ``u``), found by Newton's method in
  :math:`\log u` inside a bracket. When :math:`\rho\ge\log(1/\bar q(\arg\min))` the answer is
  :math:`\min_{\mathrm{supp}\,\bar q} v` (a point mass; chi-square likewise when
  :math:`\rho\ge 1/\bar q(\arg\min)-1`).

*Certified* variants return an enclosure ``(mid, rad)`` with :math:`|\sigma-\mathrm{mid}|\le`
``rad``: a dual lower bound (weak duality holds at any dual point) and the objective of an
exactly feasible primal point (the minimiser, mixed with :math:`\bar q` just enough to satisfy
the constraint after rounding), each widened by a first-order a-priori round-off bound
(:math:`\gamma_n = nu/(1-nu)` per sum of ``n`` terms; ``exp``, ``expm1``, ``log1p`` and
``sqrt`` assumed accurate to one ulp). Derivations: ``proofs_notes/robust_mdps.md``.

The plain twins (``*_ref``) at the top are written differently (vectorised numpy with sorted
cumulative sums; SciPy's Brent root finder for KL); the compiled kernels follow under
``# ---- compiled twin (numba)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.optimize import brentq

__all__ = [
    "TV_KIND", "KL_KIND", "CHI2_KIND", "KINDS",
    "tv_value_ref", "kl_value_ref", "chi2_value_ref", "inner_values_ref",
    "inner_values", "inner_certified", "tv_value", "kl_value", "chi2_value", "kl_solve",
]

TV_KIND, KL_KIND, CHI2_KIND = 0, 1, 2
#: Divergence name -> kernel code.
KINDS = {"tv": TV_KIND, "kl": KL_KIND, "chi2": CHI2_KIND}


# ---- plain twins (numpy) -------------------------------------------------------------------

def tv_value_ref(q, v, rho: float) -> float:
    r"""TV inner value by sorted cumulative sums: the mass removed from the state ranked ``k``
    in decreasing ``v`` is :math:`\mathrm{clip}(\rho - \sum_{j<k}\bar q_j, 0, \bar q_k)`."""
    q = np.asarray(q, dtype=float) / np.sum(q)
    v = np.asarray(v, dtype=float)
    vmin = v.min()
    idx = np.argsort(-v, kind="stable")
    qs, vs = q[idx], v[idx]
    qs = np.where(vs > vmin, qs, 0.0)            # mass already at the minimum stays
    before = np.concatenate(([0.0], np.cumsum(qs)[:-1]))
    removed = np.clip(rho - before, 0.0, qs)
    return float(q @ v - removed @ (vs - vmin))


def _on_support(q, v):
    """``(q / sum q, v)`` restricted to the support of ``q`` (the plain twins' input)."""
    q = np.asarray(q, dtype=float)
    v = np.asarray(v, dtype=float)
    sup = q > 0
    return q[sup] / q[sup].sum(), v[sup]


def chi2_value_ref(q, v, rho: float) -> float:
    r"""Chi-square inner value: every candidate active set (the ``k`` lowest distinct values
    of the support) at once from cumulative moments; the first ``k`` whose stationarity
    condition :math:`E[(v_{k+1}-v)_+^2]\le(1+\rho)E[(v_{k+1}-v)_+]^2` holds is the active one."""
    q, v = _on_support(q, v)
    if rho == 0.0:
        return float(q @ v)
    vals, inv = np.unique(v, return_inverse=True)
    w = np.bincount(inv, weights=q, minlength=vals.size)
    z = vals - vals[0]                            # shift: moments of small numbers
    Q = np.cumsum(w)
    M1 = np.cumsum(w * z)
    M2 = np.cumsum(w * z * z)
    nxt = np.append(z[1:], np.inf)
    with np.errstate(invalid="ignore", over="ignore"):
        e1 = Q * nxt - M1                         # E[(nxt - z)_+] over the first k groups
        e2 = Q * nxt ** 2 - 2 * M1 * nxt + M2
        ok = e2 <= (1 + rho) * e1 ** 2
    ok[-1] = True
    k = int(np.argmax(ok))
    m = M1[k] / Q[k]
    var = max(M2[k] / Q[k] - m * m, 0.0)
    kk = rho if k == vals.size - 1 else (1 + rho) * Q[k] - 1.0
    return float(vals[0] + m - np.sqrt(var) * np.sqrt(max(kk, 0.0)))


def kl_value_ref(q, v, rho: float) -> float:
    r"""KL inner value: Brent's method on :math:`\log\beta` for
    :math:`\mathrm{KL}(p_\beta\|\bar q)=\rho`, then the dual
    :math:`v_{min}-\beta\log E_{\bar q}e^{-(v-v_{min})/\beta}-\beta\rho`, with
    :math:`\log E_{\bar q}e^{-x/\beta}` as ``log1p`` of a sum of ``expm1`` terms (the dual
    multiplies it by :math:`\beta`, which is large for small :math:`\rho`)."""
    q, v = _on_support(q, v)
    if rho == 0.0:
        return float(q @ v)
    vmin = v.min()
    x = v - vmin
    q1 = q[x == 0].sum()
    if rho >= -np.log(q1):
        return float(vmin)

    def logz(beta):
        return np.log1p(q @ np.expm1(-x / beta))

    def kl(t):                                     # KL(p_beta || q) at beta = exp(t)
        beta = np.exp(t)
        lz = logz(beta)
        w = q * np.exp(-x / beta - lz)             # p_beta
        return float(-(w @ x) / beta - lz) - rho

    lo, hi = -40.0, 40.0
    while kl(lo) < 0:
        lo -= 20.0
    while kl(hi) > 0:
        hi += 20.0
    beta = np.exp(brentq(kl, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500))
    return float(vmin - beta * logz(beta) - beta * rho)


_REF = {TV_KIND: tv_value_ref, KL_KIND: kl_value_ref, CHI2_KIND: chi2_value_ref}


def inner_values_ref(kind: int, C, V, rho) -> np.ndarray:
    """Twin of :func:`inner_values` over all rows of ``C (n, S)``."""
    C = np.asarray(C, dtype=float)
    rho = np.broadcast_to(np.asarray(rho, dtype=float), (C.shape[0],))
    return np.array([_REF[kind](C[r], V, float(rho[r])) for r in range(C.shape[0])])


# ---- compiled twin (numba) -----------------------------------------------------------------

_U = 2.0 ** -53


@njit(cache=True, inline="always")
def _gam(n):
    return n * _U / (1.0 - n * _U)


@njit(cache=True)
def tv_value(q, inv, mean, v, order, rho):
    """TV inner value of one row ``q`` (``inv = 1/sum(q)``, ``mean = E_qbar v``) for the
    global ascending order ``order`` of ``v``."""
    vmin = v[order[0]]
    rem = rho
    val = mean
    for i in range(v.size - 1, -1, -1):
        if rem <= 0.0:
            break
        j = order[i]
        x = v[j]
        if x <= vmin:
            break
        w = q[j] * inv
        if w > 0.0:
            t = w if w < rem else rem
            val -= t * (x - vmin)
            rem -= t
    return val


@njit(cache=True)
def _tv_certified(q, inv, v, order, rho, p_out, want_p):
    n = v.size
    t = order[0]
    vmin = v[t]
    # greedy removal, remembering where it stopped (the dual threshold alpha)
    rem = rho
    alpha = vmin
    k = 0
    if want_p:
        for j in range(n):
            p_out[j] = q[j] * inv
    for i in range(n - 1, -1, -1):
        j = order[i]
        x = v[j]
        if rem <= 0.0 or x <= vmin:
            break
        w = q[j] * inv
        alpha = x
        if w > 0.0:
            k += 1
            rem -= w if w < rem else rem
    if rho == 0.0:
        alpha = v[order[n - 1]]         # w = v: the dual is E v
    elif rem > 0.0:
        alpha = vmin                    # all mass above the minimum moved: sigma = min v
    scale = 1.0 - 2.0 * _gam(n + k + 6)
    # one pass: E v, E min(v, alpha), magnitudes, and the scaled removals of the primal point
    ev = 0.0
    ew = 0.0
    mag = 0.0
    magw = 0.0
    rem = rho
    rsum = 0.0
    dsum = 0.0
    dmag = 0.0
    for i in range(n - 1, -1, -1):
        j = order[i]
        w = q[j] * inv
        x = v[j]
        ev += w * x
        mag += w * abs(x)
        y = x if x < alpha else alpha
        ew += w * y
        magw += w * abs(y)
        if w > 0.0 and rem > 0.0 and x > vmin:
            take = w if w < rem else rem
            rem -= take
            r = take * scale
            dsum += r * (x - vmin)
            dmag += r * (abs(x) + abs(vmin))
            rsum += r
            if want_p:
                p_out[j] -= r
    if want_p:
        p_out[t] += rsum
    lower = ew - rho * (alpha - vmin)
    err_l = 2.0 * _gam(n + 6) * (magw + rho * (abs(alpha) + abs(vmin))) + 4.0 * _U * abs(lower)
    upper = ev - dsum
    err_u = 2.0 * _gam(n + 6) * mag + 2.0 * _gam(k + 6) * dmag + 4.0 * _U * abs(upper)
    return _enclose(lower - err_l, upper + err_u)


@njit(cache=True, inline="always")
def _enclose(lo, hi):
    if hi < lo:                       # cannot happen for valid bounds; keep an enclosure
        lo, hi = hi, lo
    return 0.5 * (lo + hi), 0.5 * (hi - lo) * (1.0 + 4.0 * _U)


@njit(cache=True)
def _chi2_scan(q, inv, v, order, rho):
    """``(value, alpha, var, point)``: the active set by an ascending Welford scan.
    ``point`` is True when the minimum value's point mass is feasible (``var == 0``)."""
    n = v.size
    T = 0.0
    for j in range(n):
        T += q[j] * inv
    Q = 0.0
    m = 0.0
    s2 = 0.0
    i = 0
    while i < n and q[order[i]] == 0.0:
        i += 1
    x0 = v[order[i]]
    final = False
    while True:
        j = order[i]
        w = q[j] * inv
        x = v[j]
        if Q == 0.0:                    # exact start: a lone group has variance exactly 0
            m = x
            Q = w
        else:
            Qn = Q + w
            d = x - m
            m += d * w / Qn
            s2 += w * d * (x - m)
            Q = Qn
        i += 1
        while i < n and q[order[i]] == 0.0:
            i += 1
        if i == n:
            final = True
            break
        xn = v[order[i]]
        if xn == x:
            continue
        # stationarity at the next breakpoint, F(xn) <= 1 + rho with F = (1 + var/y^2)/Q,
        # written as k >= 0 and var <= k y^2 (k = (1+rho)Q - 1), which stays exact when y = 0
        y = xn - m
        var = s2 / Q if s2 > 0.0 else 0.0
        kk = rho * Q - (T - Q)
        if kk >= 0.0 and var <= kk * y * y:
            break
    var = s2 / Q if s2 > 0.0 else 0.0
    if var == 0.0:
        return x0, x0, 0.0, True        # only the minimum's group is active (ties included)
    if final:
        kk = rho
    else:
        kk = rho * Q - (T - Q)
        if kk < 0.0:
            kk = 0.0
    sd = np.sqrt(var)
    sk = np.sqrt(kk)
    alpha = m + sd / sk if sk > 0.0 else np.inf
    return m - sd * sk, alpha, var, False


@njit(cache=True)
def chi2_value(q, inv, v, order, rho):
    """Chi-square inner value of one row (support of ``q`` only)."""
    if rho == 0.0:
        s = 0.0
        for j in range(v.size):
            s += q[j] * inv * v[j]
        return s
    return _chi2_scan(q, inv, v, order, rho)[0]


@njit(cache=True)
def _chi2_certified(q, inv, v, order, rho, p_out, want_p):
    n = v.size
    g0 = _gam(n + 8)
    ev = 0.0
    mag = 0.0
    M = 0.0
    for j in range(n):
        if q[j] > 0.0:
            w = q[j] * inv
            ev += w * v[j]
            mag += w * abs(v[j])
            if abs(v[j]) > M:
                M = abs(v[j])
    if rho == 0.0:
        if want_p:
            for j in range(n):
                p_out[j] = q[j] * inv
        e = 2.0 * g0 * mag
        return _enclose(ev - e, ev + e)
    value, alpha, _, point = _chi2_scan(q, inv, v, order, rho)
    vmin = value if point else 0.0
    # lower bound: E[w] - sqrt(rho Var(w)), w = min(v, alpha) (weak duality at any alpha)
    if point:
        lower = vmin
        err_l = 0.0
    else:
        ew = 0.0
        magw = 0.0
        for j in range(n):
            if q[j] > 0.0:
                w = q[j] * inv
                y = v[j] if v[j] < alpha else alpha
                ew += w * y
                magw += w * abs(y)
        vw = 0.0
        for j in range(n):
            if q[j] > 0.0:
                y = v[j] if v[j] < alpha else alpha
                vw += q[j] * inv * (y - ew) * (y - ew)
        root = np.sqrt(rho * vw * (1.0 + 4.0 * g0))
        lower = ew - root
        err_l = 2.0 * g0 * magw + 4.0 * _U * (root + abs(lower))
    # upper bound: p = qbar g / E g with g = (alpha - v)_+ (or the argmin indicator), mixed
    # with qbar by lambda so that lambda^2 chi2(p) <= rho holds exactly
    eg = 0.0
    egv = 0.0
    for j in range(n):
        if q[j] > 0.0:
            gj = (1.0 if v[j] == vmin else 0.0) if point else max(alpha - v[j], 0.0)
            w = q[j] * inv
            eg += w * gj
            egv += w * gj * v[j]
    vg = 0.0
    for j in range(n):
        if q[j] > 0.0:
            gj = (1.0 if v[j] == vmin else 0.0) if point else max(alpha - v[j], 0.0)
            vg += q[j] * inv * (gj - eg) * (gj - eg)
    chi_up = vg * (1.0 + 4.0 * g0) / (eg * eg * (1.0 - 4.0 * g0))
    lam = 1.0
    if chi_up > rho:
        lam = np.sqrt(rho / chi_up) * (1.0 - 8.0 * _U)
    epv = egv / eg
    upper = ev + lam * (epv - ev)
    err_u = 2.0 * g0 * mag + 4.0 * g0 * M + 8.0 * _U * (abs(ev) + abs(epv) + abs(upper))
    if want_p:
        for j in range(n):
            if q[j] > 0.0:
                gj = (1.0 if v[j] == vmin else 0.0) if point else max(alpha - v[j], 0.0)
                w = q[j] * inv
                p_out[j] = (1.0 - lam) * w + lam * w * gj / eg
            else:
                p_out[j] = 0.0
    return _enclose(lower - err_l, upper + err_u)


@njit(cache=True)
def _kl_terms(q, inv, v, vmin, u):
    """``(zm1, epx, epx2)``: :math:`E_{\\bar q}e^{-ux}-1` (via expm1), :math:`E_p x`,
    :math:`E_p x^2` for :math:`x=v-v_{min}` on the support and the Gibbs law ``p``."""
    zm1 = 0.0
    ex = 0.0
    ex2 = 0.0
    for j in range(v.size):
        if q[j] > 0.0:
            w = q[j] * inv
            x = v[j] - vmin
            a = -u * x
            ea = np.exp(a)
            # e^a - 1 is exact to a few ulps of itself once e^a <= 0.7; expm1 near 0 only
            zm1 += w * (ea - 1.0 if a < -0.35 else np.expm1(a))
            e = w * ea
            ex += e * x
            ex2 += e * x * x
    z = 1.0 + zm1
    return zm1, ex / z, ex2 / z


@njit(cache=True)
def _kl_stats(q, inv, v):
    """``(vmin, q1, ev, var)`` over the support."""
    vmin = np.inf
    for j in range(v.size):
        if q[j] > 0.0 and v[j] < vmin:
            vmin = v[j]
    q1 = 0.0
    ev = 0.0
    for j in range(v.size):
        if q[j] > 0.0:
            w = q[j] * inv
            ev += w * v[j]
            if v[j] == vmin:
                q1 += w
    var = 0.0
    for j in range(v.size):
        if q[j] > 0.0:
            var += q[j] * inv * (v[j] - ev) * (v[j] - ev)
    return vmin, q1, ev, var


@njit(cache=True)
def kl_solve(q, inv, v, rho):
    """``(value, u)``: the KL inner value (dual objective at the root ``u = 1/beta``;
    ``u = inf`` for the point-mass case, ``0`` for ``rho = 0``)."""
    vmin, q1, ev, var = _kl_stats(q, inv, v)
    if rho == 0.0:
        return ev, 0.0
    if q1 >= 1.0 or var <= 0.0 or rho >= -np.log(q1):
        return vmin, np.inf
    u = np.sqrt(2.0 * rho / var)
    lo = 0.0
    hi = np.inf
    for _ in range(200):
        zm1, epx, epx2 = _kl_terms(q, inv, v, vmin, u)
        f = -u * epx - np.log1p(zm1)
        if f < rho:
            lo = u
        elif f > rho:
            hi = u
        else:
            break
        vp = epx2 - epx * epx
        un = -1.0
        if vp > 0.0:
            t = (rho - f) / (u * u * vp)
            if t > 3.0:
                t = 3.0
            un = u * np.exp(t)
        if not (lo < un < hi):
            if hi == np.inf:
                un = 4.0 * u
            elif lo == 0.0:
                un = 0.25 * hi
            else:
                un = np.sqrt(lo * hi)
        if abs(un - u) <= 2e-16 * u or (hi < np.inf and hi - lo <= 4e-16 * hi):
            u = un
            break
        u = un
    zm1, epx, epx2 = _kl_terms(q, inv, v, vmin, u)
    return vmin - (np.log1p(zm1) + rho) / u, u


@njit(cache=True)
def kl_value(q, inv, v, rho):
    """KL inner value of one row (support of ``q`` only)."""
    return kl_solve(q, inv, v, rho)[0]


@njit(cache=True)
def _kl_certified(q, inv, v, rho, p_out, want_p):
    n = v.size
    g0 = _gam(n + 8)
    vmin, q1, ev, var = _kl_stats(q, inv, v)
    mag = 0.0
    for j in range(n):
        if q[j] > 0.0:
            mag += q[j] * inv * abs(v[j])
    err_ev = 2.0 * g0 * mag
    if rho == 0.0:
        if want_p:
            for j in range(n):
                p_out[j] = q[j] * inv
        return _enclose(ev - err_ev, ev + err_ev)
    u = kl_solve(q, inv, v, rho)[1]
    if u == np.inf:
        # point mass on the argmin group: exact lower bound vmin; feasible when
        # log(1/q1) <= rho, else mixed with qbar (KL is convex: KL(mix) <= lam KL(p))
        kl_up = -np.log(q1 * (1.0 - 4.0 * g0)) * (1.0 + 4.0 * _U)
        lam = 1.0 if kl_up <= rho else rho / kl_up * (1.0 - 8.0 * _U)
        upper = ev + lam * (vmin - ev)
        err_u = err_ev + 8.0 * _U * (abs(ev) + abs(vmin) + abs(upper))
        if want_p:
            for j in range(n):
                w = q[j] * inv if q[j] > 0.0 else 0.0
                p_out[j] = (1.0 - lam) * w + (lam * w / q1 if (q[j] > 0.0 and v[j] == vmin) else 0.0)
        return _enclose(vmin, upper + err_u)
    zm1, epx, _ = _kl_terms(q, inv, v, vmin, u)
    z = 1.0 + zm1
    logz = np.log1p(zm1)
    err_logz = g0 * 2.0 * abs(zm1) / z + 2.0 * _U * abs(logz)
    # dual lower bound at beta = 1/u
    lower = vmin - (logz + rho) / u
    err_l = (err_logz + 2.0 * _U * (abs(logz) + rho)) / u + 4.0 * _U * (abs(vmin) + abs(lower))
    # primal: the Gibbs law p_u, mixed with qbar so that KL <= rho holds exactly
    kl_p = -u * epx - logz
    kl_up = kl_p + 2.0 * g0 * u * epx + err_logz + 4.0 * _U * abs(kl_p)
    lam = 1.0 if kl_up <= rho else rho / kl_up * (1.0 - 8.0 * _U)
    upper = ev + lam * (vmin + epx - ev)
    err_u = err_ev + 2.0 * g0 * (abs(vmin) + epx) + 8.0 * _U * (abs(ev) + abs(vmin) + epx + abs(upper))
    if want_p:
        for j in range(n):
            if q[j] > 0.0:
                w = q[j] * inv
                p_out[j] = (1.0 - lam) * w + lam * w * np.exp(-u * (v[j] - vmin)) / z
            else:
                p_out[j] = 0.0
    return _enclose(lower - err_l, upper + err_u)


@njit(cache=True)
def inner_values(kind, C, inv, means, V, order, rho, rows, out):
    """``out[i]`` = inner value of row ``rows[i]`` of ``C (n, S)`` (``inv[r] = 1/sum C[r]``,
    ``rho[r]``; ``means[i] = E_qbar V`` of that row, used by TV) at ``V`` with ascending order
    ``order``."""
    for i in range(rows.size):
        r = rows[i]
        if kind == 0:
            out[i] = tv_value(C[r], inv[r], means[i], V, order, rho[r])
        elif kind == 1:
            out[i] = kl_value(C[r], inv[r], V, rho[r])
        else:
            out[i] = chi2_value(C[r], inv[r], V, order, rho[r])


@njit(cache=True)
def inner_certified(kind, C, inv, V, order, rho, rows, mid_out, rad_out, P_out, want_p):
    """Enclosures ``|sigma - mid_out[i]| <= rad_out[i]`` of the inner values of rows ``rows``;
    with ``want_p`` also the exactly feasible minimiser of each row in ``P_out[i]``."""
    scratch = np.empty(V.size)
    for i in range(rows.size):
        r = rows[i]
        p = P_out[i] if want_p else scratch
        if kind == 0:
            mid, rad = _tv_certified(C[r], inv[r], V, order, rho[r], p, want_p)
        elif kind == 1:
            mid, rad = _kl_certified(C[r], inv[r], V, rho[r], p, want_p)
        else:
            mid, rad = _chi2_certified(C[r], inv[r], V, order, rho[r], p, want_p)
        mid_out[i] = mid
        rad_out[i] = rad

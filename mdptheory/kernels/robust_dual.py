r"""The estimated total-variation dual of the online d-rectangular robust learners.

For one factor :math:`i` of a d-rectangular TV ball (Liu & Xu, AISTATS 2024) the robust
backup needs :math:`\inf_{\frac12\|\mu-\mu_{h,i}\|_1\le\rho_i}E_\mu V`, whose dual over all states is

.. math::
    \sigma_i = \max_{\alpha\in[m,\,M]}\ E_{\mu_{h,i}}[\min(V,\alpha)] - \rho_i(\alpha - m),
    \qquad m=\min_sV(s),\ M=\max_sV(s).

The learners replace the unknown expectation by the ridge estimate
:math:`z(\alpha)=\Lambda^{-1}\sum_\tau\phi_\tau\min(V(s'_\tau),\alpha)=\sum_jG_{:,j}\min(y_j,\alpha)`,
aggregated over the observed next states (``y_j = V(s'_j)``, ``G = Lambda^-1 M^T``, one column
per distinct observed next state), and set

.. math::
    \nu_i=\max_{\alpha\in[m,M]} f_i(\alpha),\qquad f_i(\alpha)=z_i(\alpha)-\rho_i(\alpha-m).

**Exactness of the breakpoint scan.** :math:`f_i` is continuous and piecewise linear in
:math:`\alpha`, with kinks only at the ``y_j`` (each term :math:`\min(y_j,\alpha)` bends once),
all of which lie in :math:`[m,M]`. A piecewise-linear function on a compact interval attains
its maximum at a kink or at an end point, so the maximum over the finite set
:math:`\{m, M\}\cup\{y_j\}` *is* :math:`\nu_i` -- whatever the signs of the coefficients. (With a
non-diagonal :math:`\Lambda` some :math:`G_{ij}<0`, so :math:`f_i` need not be concave: a local
search such as Nelder-Mead may stop at a non-global kink.) Derivation and tests:
``proofs_notes/dr_lsvi_ucb.md``.

The plain twin (:func:`tv_dual_ref`) evaluates :math:`f` at every candidate with one matrix
product; the compiled kernel (:func:`tv_dual`) walks the candidates in ascending order with
prefix sums, :math:`z(y_{(k)})=\sum_{j<k}G_{(j)}y_{(j)}+y_{(k)}\sum_{j\ge k}G_{(j)}`, in
:math:`O(n\log n+nd)`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["tv_dual_ref", "tv_dual"]


def tv_dual_ref(y, G, rho, vmin: float, vmax: float) -> np.ndarray:
    r""":math:`\nu` of the module docstring, ``(d,)``: ``y (n,)`` values at the observed next
    states, ``G (d, n)`` their ridge coefficients, ``rho (d,)`` radii, ``vmin <= y <= vmax`` the
    extreme values over *all* states. Vectorised: the objective at every candidate at once."""
    y = np.asarray(y, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    cand = np.concatenate(([vmin], y, [vmax]))
    Z = G @ np.minimum(y[:, None], cand[None, :])
    F = Z - np.outer(np.asarray(rho, dtype=np.float64), cand - vmin)
    return F.max(axis=1)


# ---- compiled twin (numba) -----------------------------------------------------------------


@njit(cache=True, nogil=True)
def tv_dual(y, G, rho, vmin, vmax, out):
    """Compiled twin of :func:`tv_dual_ref`, written into ``out (d,)``: one ascending sort of
    ``y``, then for each coordinate a scan with prefix sums of ``G y`` and suffix sums of
    ``G`` (both accumulated from their own end, no subtraction)."""
    n = y.shape[0]
    d = G.shape[0]
    order = np.argsort(y, kind="mergesort")
    suf = np.empty(n + 1)
    for i in range(d):
        suf[n] = 0.0
        for k in range(n - 1, -1, -1):
            suf[k] = suf[k + 1] + G[i, order[k]]
        r = rho[i]
        best = vmin * suf[0]                      # alpha = m: every min(y_j, m) = m
        pre = 0.0
        for k in range(n):
            j = order[k]
            a = y[j]
            f = pre + a * suf[k] - r * (a - vmin)
            if f > best:
                best = f
            pre += G[i, j] * a
        f = pre - r * (vmax - vmin)              # alpha = M: z = sum_j G_j y_j
        if f > best:
            best = f
        out[i] = best

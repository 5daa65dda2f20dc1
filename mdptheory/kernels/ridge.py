r"""Ridge-regression kernels for the linear learners: Sherman-Morrison updates of an inverse
Gram matrix, the quadratic forms :math:`\phi_i^\top\Lambda^{-1}\phi_i` of a feature table kept
current under those updates, and an exact SPD inverse (Cholesky) for periodic re-inversion.

Rank-one update (Sherman & Morrison 1950): for :math:`\Lambda' = \Lambda + w\,xx^\top`,

.. math::
    \Lambda'^{-1} = \Lambda^{-1} - \frac{w\,uu^\top}{1 + w\,x^\top u},\qquad u = \Lambda^{-1}x,
    \qquad \phi^\top\Lambda'^{-1}\phi = \phi^\top\Lambda^{-1}\phi - \frac{w(\phi^\top u)^2}{1+w\,x^\top u},

and :math:`\det\Lambda' = \det\Lambda\,(1 + w\,x^\top u)` (matrix determinant lemma). Each
compiled kernel has a plain-numpy ``_ref`` twin written differently (vectorised, LAPACK).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "sherman_morrison",
    "sherman_morrison_ref",
    "quad_forms",
    "quad_forms_ref",
    "quad_forms_downdate",
    "quad_forms_downdate_ref",
    "spd_inverse",
    "spd_inverse_ref",
]


@njit(cache=True, nogil=True)
def sherman_morrison(Minv, x, weight, u):
    r"""In place :math:`M^{-1}\leftarrow(M + w\,xx^\top)^{-1}`; writes :math:`u = M^{-1}x` (the
    old inverse) into ``u`` and returns :math:`1 + w\,x^\top u` (the determinant ratio). The
    update ``Minv[i, j] -= w (u_i u_j) / den`` keeps an exactly symmetric matrix symmetric."""
    n = x.shape[0]
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += Minv[i, j] * x[j]
        u[i] = acc
    xu = 0.0
    for i in range(n):
        xu += x[i] * u[i]
    den = 1.0 + weight * xu
    c = weight / den
    for i in range(n):
        for j in range(n):
            Minv[i, j] -= c * (u[i] * u[j])
    return den


@njit(cache=True, nogil=True)
def quad_forms(Minv, Phi, out):
    r"""``out[i] = Phi[i] . Minv . Phi[i]`` for the rows of ``Phi (n, d)``."""
    n, d = Phi.shape
    for i in range(n):
        acc = 0.0
        for j in range(d):
            pj = Phi[i, j]
            if pj != 0.0:
                t = 0.0
                for l in range(d):
                    t += Minv[j, l] * Phi[i, l]
                acc += pj * t
        out[i] = acc


@njit(cache=True, nogil=True)
def quad_forms_downdate(q, Phi, u, c):
    r"""``q[i] -= c (Phi[i] . u)^2`` for the rows of ``Phi (n, d)``: the quadratic forms after a
    Sherman-Morrison step with ``c = w / (1 + w x^T u)``; cost :math:`O(nd)`."""
    n, d = Phi.shape
    for i in range(n):
        t = 0.0
        for j in range(d):
            t += Phi[i, j] * u[j]
        q[i] -= c * (t * t)


@njit(cache=True, nogil=True)
def spd_inverse(M, out):
    r"""Inverse of a symmetric positive definite ``M`` by Cholesky, :math:`M = LL^\top`,
    :math:`M^{-1} = L^{-\top}L^{-1}`, written symmetric into ``out``. Raises ``ValueError`` if a
    pivot is not positive."""
    n = M.shape[0]
    L = np.zeros((n, n))
    for j in range(n):
        s = M[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            raise ValueError("spd_inverse: matrix is not positive definite")
        L[j, j] = math.sqrt(s)
        for i in range(j + 1, n):
            t = M[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / L[j, j]
    Li = np.zeros((n, n))
    for i in range(n):
        Li[i, i] = 1.0 / L[i, i]
        for j in range(i):
            t = 0.0
            for k in range(j, i):
                t -= L[i, k] * Li[k, j]
            Li[i, j] = t / L[i, i]
    for i in range(n):
        for j in range(i, n):
            t = 0.0
            for k in range(j, n):
                t += Li[k, i] * Li[k, j]
            out[i, j] = t
            out[j, i] = t


# ---------------------------------------------------------------------------------------
# plain-numpy twins
# ---------------------------------------------------------------------------------------


def sherman_morrison_ref(Minv, x, weight):
    """Twin of :func:`sherman_morrison`, returning ``(new inverse, u, den)`` (vectorised)."""
    u = Minv @ x
    den = 1.0 + weight * float(x @ u)
    return Minv - (weight / den) * np.outer(u, u), u, den


def quad_forms_ref(Minv, Phi):
    """Twin of :func:`quad_forms` (``einsum``)."""
    return np.einsum("id,de,ie->i", Phi, Minv, Phi)


def quad_forms_downdate_ref(q, Phi, u, c):
    """Twin of :func:`quad_forms_downdate`, returning the new forms."""
    return q - c * (Phi @ u) ** 2


def spd_inverse_ref(M):
    """Twin of :func:`spd_inverse` (LAPACK ``inv``, symmetrised)."""
    Minv = np.linalg.inv(M)
    return 0.5 * (Minv + Minv.T)

r"""Ridge-regression kernels for the linear learners: Sherman-Morrison updates of an inverse
Gram matrix, the quadratic forms :math:`\phi_i^\top\Lambda^{-1}\phi_i` of a feature table kept
current under those updates, and an exact SPD inverse (Cholesky) for periodic re-inversion.

Rank-one update (Sherman & Morrison 1950): for :math:`\Lambda' = \Lambda + w\,xx^\top`,

.. math::
    \Lambda'^{-1} = \Lambda^{-1} - \frac{w\,uu^\top}{1 + w\,x^\top u},\qquad u = \Lambda^{-1}x,
    \qquad \phi^\top\Lambda'^{-1}\phi = \phi^\top\Lambda^{-1}\phi - \frac{w(\phi^\top u)^2}{1+w\,x^\top u},

and :math:`\det\Lambda' = \det\Lambda\,(1 + w\,x^\top u)` (matrix determinant lemma). Each
compiled kernel has a plain-numpy ``_ref`` twin written differently (vectorised, LAPACK).

The linear learners' statistics start from :func:`ridge_statistics`; the unweighted regressions
with targets aggregated by next state take one episode's samples with :func:`ridge_episode_update`
(Gram matrices, inverses by Sherman-Morrison re-inverted exactly every :data:`REINVERT_EVERY`
samples and after a cancelling step, :data:`EXACT_ABOVE`, quadratic forms, targets, observed next
states). It is one inlined kernel per episode, written out inside: a helper per stage taking arrays
costs an atomic incref/decref pair per array and call even when inlined (numba's refcount pruning
does not reach across its loops), which is measurable in loops of a few microseconds per episode.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "REINVERT_EVERY",
    "EXACT_ABOVE",
    "sherman_morrison",
    "sherman_morrison_ref",
    "quad_forms",
    "quad_forms_ref",
    "quad_forms_downdate",
    "quad_forms_downdate_ref",
    "spd_inverse",
    "spd_inverse_ref",
    "ridge_reset",
    "ridge_reset_ref",
    "ridge_statistics",
    "ridge_statistics_ref",
    "ridge_episode_update",
    "ridge_episode_update_ref",
]

#: Sherman-Morrison steps between exact re-inversions of a stage's Gram matrix.
REINVERT_EVERY = 64
#: A step with determinant ratio ``1 + x^T Lambda^-1 x`` above this re-inverts exactly instead
#: (the subtraction would cancel ``log10(ratio)`` digits; by the elliptical potential lemma at
#: most ``d ln(1 + K / (d lam)) / ln(EXACT_ABOVE)`` steps per stage qualify).
EXACT_ABOVE = 100.0


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


@njit(cache=True, nogil=True)
def ridge_reset(lam, Lam, Linv):
    r"""In place, every stage ``h`` before its first sample: :math:`\Lambda_h=\lambda I`,
    :math:`\Lambda_h^{-1}=I/\lambda` (``Lam``, ``Linv`` of shape ``(H, d, d)``)."""
    H, d = Lam.shape[0], Lam.shape[1]
    for h in range(H):
        for i in range(d):
            for l in range(d):
                Lam[h, i, l] = 0.0
                Linv[h, i, l] = 0.0
            Lam[h, i, i] = lam
            Linv[h, i, i] = 1.0 / lam


@njit(cache=True, nogil=True)
def ridge_statistics(H, S, d, lam):
    r"""Fresh statistics of ``H`` ridge regressions with targets aggregated by next state:
    ``(Lam, Linv, cvec, M, succ, nsucc, seen)`` with ``Lam[h] = lam I``, ``Linv[h] = I / lam``
    (:func:`ridge_reset`), ``cvec (H, d)``, ``M (H, S, d)`` zero, no observed next states
    (``succ (H, S)``, ``nsucc (H,)`` int64, ``seen (H, S)`` bool, as in :func:`ridge_episode_update`)."""
    Lam = np.empty((H, d, d))
    Linv = np.empty((H, d, d))
    ridge_reset(lam, Lam, Linv)
    cvec = np.zeros((H, d))
    M = np.zeros((H, S, d))
    succ = np.zeros((H, S), dtype=np.int64)
    nsucc = np.zeros(H, dtype=np.int64)
    seen = np.zeros((H, S), dtype=np.bool_)
    return Lam, Linv, cvec, M, succ, nsucc, seen


@njit(cache=True, nogil=True, inline="always")
def ridge_episode_update(phi, xs, acts, rs, Rk, observed, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, q):
    r"""One episode's samples into the unweighted ridge statistics of every stage, in place. For
    ``h = 0..H-1``, ``x, a, y = xs[h], acts[h], xs[h+1]``, :math:`f=\phi_h(x,a)` (``phi (H, S, A, d)``):
    ``Lam[h] += f f^T``; ``Linv[h]`` by :func:`sherman_morrison` (``u``, a ``(d,)`` buffer, receives
    the old ``Linv[h] f``), or re-inverted exactly from ``Lam[h]`` (:func:`spd_inverse`) if the
    determinant ratio exceeds :data:`EXACT_ABOVE` or ``nupd`` (samples per stage, this episode's
    included) is a multiple of :data:`REINVERT_EVERY`; the quadratic forms ``q (H, S, A)`` of the
    feature table recomputed (:func:`quad_forms`) after an exact re-inversion, else downdated
    (:func:`quad_forms_downdate`), unless ``q`` has no rows (shape ``(0, 0, 0)``: no forms kept);
    ``cvec[h] += f r`` with ``r = rs[h]`` (``observed == 1``) or the known mean ``Rk[h, x, a]``;
    ``M[h, y] += f``; ``y`` appended to ``succ[h, :nsucc[h]]`` at its first visit (``seen[h, y]``),
    so the list keeps first-visit order. Inlined (see the module docstring)."""
    H = acts.shape[0]
    S, A, d = phi.shape[1], phi.shape[2], phi.shape[3]
    forms = q.shape[0] > 0
    for h in range(H):
        x, a, y = xs[h], acts[h], xs[h + 1]
        f = phi[h, x, a]
        for i in range(d):
            for l in range(d):
                Lam[h, i, l] += f[i] * f[l]
        den = sherman_morrison(Linv[h], f, 1.0, u)
        exact = den > EXACT_ABOVE or nupd % REINVERT_EVERY == 0
        if exact:
            # exact re-inversion: no accumulated or cancelled Sherman-Morrison round-off
            spd_inverse(Lam[h], Linv[h])
        if forms:
            if exact:
                quad_forms(Linv[h], phi[h].reshape(S * A, d), q[h].reshape(S * A))
            else:
                quad_forms_downdate(q[h].reshape(S * A), phi[h].reshape(S * A, d), u, 1.0 / den)
        rv = rs[h] if observed == 1 else Rk[h, x, a]
        for i in range(d):
            cvec[h, i] += f[i] * rv
            M[h, y, i] += f[i]
        if not seen[h, y]:
            seen[h, y] = True
            succ[h, nsucc[h]] = y
            nsucc[h] += 1


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


def ridge_reset_ref(lam, H, d):
    """Twin of :func:`ridge_reset`, returning ``(Lam, Linv)`` (broadcast identities)."""
    eye = np.broadcast_to(np.eye(d), (H, d, d))
    return lam * eye, eye / lam


def ridge_statistics_ref(H, S, d, lam):
    """Twin of :func:`ridge_statistics` (:func:`ridge_reset_ref`, zero targets)."""
    Lam, Linv = ridge_reset_ref(lam, H, d)
    return (Lam, Linv, np.zeros((H, d)), np.zeros((H, S, d)), np.zeros((H, S), dtype=np.int64),
            np.zeros(H, dtype=np.int64), np.zeros((H, S), dtype=bool))


def ridge_episode_update_ref(phi, xs, acts, rs, Rk, observed, nupd, Lam, Linv, cvec, M, succ, nsucc, q=None):
    """Twin of :func:`ridge_episode_update` (the Gram matrices and targets of all stages at once,
    the inverses stage by stage with :func:`sherman_morrison_ref` / :func:`spd_inverse_ref`),
    returning new ``(Lam, Linv, cvec, M, succ, nsucc, q)`` (``q`` None: no forms kept);
    ``seen[h, y]`` is ``y in succ[h, :nsucc[h]]``."""
    H, S, A, d = phi.shape
    hs = np.arange(H)
    x, y = np.asarray(xs[:H]), np.asarray(xs[1:H + 1])
    F = phi[hs, x, acts]                                            # (H, d): the episode's features
    rv = np.asarray(rs) if observed == 1 else Rk[hs, x, acts]
    Lam = Lam + np.einsum("hi,hl->hil", F, F)                      # one sample per stage
    Linv = np.array(Linv, dtype=float)
    q = None if q is None else np.array(q, dtype=float)
    for h in range(H):
        Linv[h], u, den = sherman_morrison_ref(Linv[h], F[h], 1.0)
        exact = den > EXACT_ABOVE or nupd % REINVERT_EVERY == 0
        if exact:
            Linv[h] = spd_inverse_ref(Lam[h])
        if q is not None:
            Phi = phi[h].reshape(S * A, d)
            q[h] = (quad_forms_ref(Linv[h], Phi) if exact
                    else quad_forms_downdate_ref(q[h].reshape(-1), Phi, u, 1.0 / den)).reshape(S, A)
    cvec = cvec + F * rv[:, None]
    M = np.array(M, dtype=float)
    M[hs, y] += F                                                   # one sample per stage: no repeats
    succ, nsucc = np.array(succ), np.array(nsucc)
    for h in np.flatnonzero([y[h] not in succ[h, :nsucc[h]] for h in hs]):
        succ[h, nsucc[h]] = y[h]
        nsucc[h] += 1
    return Lam, Linv, cvec, M, succ, nsucc, q

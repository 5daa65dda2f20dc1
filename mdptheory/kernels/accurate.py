r"""Bellman backups with rigorous round-off control, for certificates.

A certificate such as MacQueen's bounds needs :math:`TV - V` for the *exact* operator; in
float64 the residual of a nearly converged ``V`` is of the same size as the round-off of the
backup itself. These kernels evaluate

.. math::
    q(s,a) = R(s,a) + \gamma \sum_{s'} P(s'|s,a)\,V(s')

in double-double arithmetic (error-free transformations ``two_sum`` / ``two_prod``; the dot
product is Ogita, Rump & Oishi's ``Dot2``, SIAM J. Sci. Comput. 26(6), 2005, Alg. 5.3) and
return, per state, :math:`(TV)(s) = \max_a q(s,a)` as an unevaluated sum ``hi + lo`` together
with a bound ``err`` on ``|hi + lo - (TV)(s)|`` that is of order :math:`n^2 u^2` times the
magnitudes involved (``u = 2^{-53}``, ``n`` the number of successors).

Bound used (Ogita et al., Prop. 5.5 for the unrounded pair ``(p, s)`` of ``Dot2``):
:math:`|p + s - x^\top y| \le \gamma_n^2 \sum_i |x_i y_i|`, :math:`\gamma_n = nu/(1-nu)`; the
multiplication by ``gamma`` and the addition of ``R`` add at most ``4u^2`` times the same
magnitude (two error-free steps and two roundings of the low part). We report
``err = (2\gamma_{n+2}^2 + 8u^2)(|R| + \gamma\sum|PV|)``, twice the sum of these terms.
Overflow and underflow are not considered (values far inside the float64 range).

The plain twin :func:`accurate_backup_ref` computes :math:`TV` exactly in rational
arithmetic (:class:`fractions.Fraction`), an independent check for small models.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numba import njit

__all__ = [
    "UNIT_ROUNDOFF",
    "accurate_backup_dense",
    "accurate_backup_csr",
    "row_sum_defect_dense",
    "row_sum_defect_csr",
    "accurate_backup_ref",
]

#: float64 unit round-off u = 2^-53.
UNIT_ROUNDOFF = 2.0 ** -53
_SPLITTER = 134217729.0  # 2^27 + 1 (Veltkamp splitting of a float64)


@njit(cache=True, inline="always")
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@njit(cache=True, inline="always")
def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@njit(cache=True, inline="always")
def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, al * bl - (((p - ah * bh) - al * bh) - ah * bl)


@njit(cache=True, inline="always")
def _finish_q(r, gamma, p, s, mag, n):
    """``r + gamma (p + s)`` as a normalised pair, and the error bound of the whole q-value."""
    a, b = _two_prod(gamma, p)
    c = gamma * s
    h, t = _two_sum(r, a)
    lo = (t + b) + c
    hi, lo = _two_sum(h, lo)
    u = 2.0 ** -53
    gn = (n + 2) * u / (1.0 - (n + 2) * u)
    err = (2.0 * gn * gn + 8.0 * u * u) * (abs(r) + gamma * mag)
    return hi, lo, err


@njit(cache=True, inline="always")
def _better(hi, lo, bhi, blo):
    return hi > bhi or (hi == bhi and lo > blo)


@njit(cache=True, inline="always")
def _dot2_step(p, q, mag, x, y):
    h, r = _two_prod(x, y)
    p, t = _two_sum(p, h)
    return p, q + (t + r), mag + abs(h)


@njit(cache=True)
def _accurate_backup(P, indptr, indices, data, dense, R, gamma, V, hi_out, lo_out, err_out, row0):
    """One kernel for both storage formats (``dense`` selects ``P (S, A, S)`` or the CSR
    arrays; the other is a dummy)."""
    S, A = R.shape
    for s in range(S):
        bhi = -np.inf
        blo = 0.0
        berr = 0.0
        for a in range(A):
            p = 0.0
            q = 0.0
            mag = 0.0
            if dense:
                n = P.shape[2]
                for j in range(n):
                    p, q, mag = _dot2_step(p, q, mag, P[s, a, j], V[j])
            else:
                row = row0 + s * A + a
                n = indptr[row + 1] - indptr[row]
                for k in range(indptr[row], indptr[row + 1]):
                    p, q, mag = _dot2_step(p, q, mag, data[k], V[indices[k]])
            hi, lo, err = _finish_q(R[s, a], gamma, p, q, mag, n)
            if a == 0 or _better(hi, lo, bhi, blo):
                bhi, blo = hi, lo
            if err > berr:
                berr = err
        hi_out[s] = bhi
        lo_out[s] = blo
        err_out[s] = berr


_NO_INT = np.zeros(1, dtype=np.int64)
_NO_FLOAT = np.zeros(1)
_NO_P = np.zeros((1, 1, 1))


def accurate_backup_dense(P, R, gamma, V, hi_out, lo_out, err_out):
    """``(TV)(s) ~ hi_out[s] + lo_out[s]`` within ``err_out[s]`` for a dense ``P (S, A, S)``."""
    _accurate_backup(P, _NO_INT, _NO_INT, _NO_FLOAT, True, R, float(gamma), V, hi_out, lo_out, err_out, 0)


def accurate_backup_csr(indptr, indices, data, R, gamma, V, hi_out, lo_out, err_out, row0=0):
    """As :func:`accurate_backup_dense` for ``P`` in CSR form with rows ``row0 + s * A + a``
    (``row0`` selects a stage of a stage-dependent model)."""
    _accurate_backup(_NO_P, np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                     np.asarray(data, dtype=np.float64), False, R, float(gamma), V, hi_out, lo_out,
                     err_out, int(row0))


@njit(cache=True)
def _row_sum_defect(vals, starts, ends):
    worst = 0.0
    u = 2.0 ** -53
    for i in range(starts.size):
        p = 0.0
        q = 0.0
        n = ends[i] - starts[i]
        for k in range(starts[i], ends[i]):
            p, t = _two_sum(p, vals[k])
            q += t
        h, t = _two_sum(p, -1.0)
        d = abs(h + (t + q))
        gn = (n + 2) * u / (1.0 - (n + 2) * u)
        d = d * (1.0 + 4.0 * u) + 2.0 * gn * gn * (1.0 + d)
        if d > worst:
            worst = d
    return worst


def row_sum_defect_dense(P: np.ndarray) -> float:
    r"""An upper bound on :math:`\max_{s,a}|\sum_{s'}P(s'|s,a) - 1|` (the rows as stored)."""
    flat = np.ascontiguousarray(P, dtype=np.float64).reshape(-1)
    n = P.shape[-1]
    starts = np.arange(0, flat.size, n, dtype=np.int64)
    return float(_row_sum_defect(flat, starts, starts + n))


def row_sum_defect_csr(indptr, data) -> float:
    """As :func:`row_sum_defect_dense` for CSR rows."""
    indptr = np.asarray(indptr, dtype=np.int64)
    return float(_row_sum_defect(np.asarray(data, dtype=np.float64), indptr[:-1], indptr[1:]))


def accurate_backup_ref(P, R, gamma, V) -> list[Fraction]:
    r"""Plain twin: :math:`(TV)(s)` *exactly*, in rational arithmetic, for a dense
    ``P (S, A, S)`` (every float64 is a rational; nothing is rounded). Slow: small models."""
    P = np.asarray(P, dtype=np.float64)
    R = np.asarray(R, dtype=np.float64)
    g = Fraction(float(gamma))
    Vf = [Fraction(float(v)) for v in np.asarray(V, dtype=np.float64)]
    out = []
    for s in range(P.shape[0]):
        best = None
        for a in range(P.shape[1]):
            q = Fraction(float(R[s, a])) + g * sum(Fraction(float(p)) * v for p, v in zip(P[s, a], Vf))
            best = q if best is None or q > best else best
        out.append(best)
    return out

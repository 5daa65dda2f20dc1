r"""Fourier-analytic probes of functions on the Boolean cube :math:`\{0,1\}^N`.

Every probe takes ``values``: a real (or 0/1) array of length ``2**N`` with
``values[x] = f(x)`` and ``x = sum_i x_i 2^i`` (bit ``i`` of the index is coordinate ``i``).
This is how the bit-string families of :mod:`mdptheory.envs.bitstring` store states, and
transition bits / rewards / :math:`Q^\star` on ``N + 1`` bits (action = top bit).

Definitions (O'Donnell, *Analysis of Boolean Functions*, 2014, ch. 1-2):

* Walsh characters :math:`\chi_S(x) = (-1)^{\sum_{i\in S} x_i}`, coefficients
  :math:`\hat f(S) = 2^{-N}\sum_x f(x)\chi_S(x)`; ``S`` is encoded as an integer like ``x``.
* Degree profile :math:`W^{=k} = \sum_{|S|=k}\hat f(S)^2`; variance
  :math:`\mathrm{Var} f = \sum_{S\neq\emptyset}\hat f(S)^2`;
  :math:`\mathrm{tail}(k) = W^{>k}/\mathrm{Var} f`; degree
  :math:`\max\{|S| : |\hat f(S)| > \mathrm{tol}\}`.
* Influence :math:`\mathrm{Inf}_i = \mathbb E[(f(x)-f(x^{\oplus i}))^2]/4`, total influence
  :math:`I(f) = \sum_i \mathrm{Inf}_i = \sum_S |S|\hat f(S)^2`; sensitivity
  :math:`s(f)=\max_x \#\{i : f(x)\ne f(x^{\oplus i})\}`.
* Decision-tree depth :math:`D(f)`: the depth of the shallowest decision tree computing
  ``f`` (exact dynamic programming over the :math:`3^N` subcubes).
* Best degree-``k`` approximation in :math:`L^2(\rho)`.

Every compiled kernel has a plain-numpy / plain-Python twin (``*_ref``) that the
tests compare against.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from functools import lru_cache

import numpy as np
import scipy.linalg
from numba import njit

__all__ = [
    "walsh_spectrum",
    "inverse_walsh",
    "fwht",
    "fwht_ref",
    "DegreeProfile",
    "degree_profile",
    "fourier_degree",
    "spectral_tail",
    "total_influence",
    "influences",
    "influences_ref",
    "sensitivity",
    "sensitivity_ref",
    "decision_tree_depth",
    "decision_tree_depth_ref",
    "LowDegreeFit",
    "low_degree_error",
    "popcounts",
    "MAX_DT_BITS",
]

#: Largest number of input bits accepted by :func:`decision_tree_depth` (``3^14`` subcubes).
MAX_DT_BITS = 14
_MAX_BITS = 26


def _as_cube(values, name: str = "values") -> tuple[np.ndarray, int]:
    try:
        v = np.asarray(values)
    except Exception as exc:  # pragma: no cover
        raise TypeError(f"{name} could not be converted to an array: {exc}") from None
    if v.dtype == object or not (np.issubdtype(v.dtype, np.number) or v.dtype == bool):
        raise TypeError(f"{name} must be a real numeric array, got dtype {v.dtype}")
    if np.iscomplexobj(v):
        raise TypeError(f"{name} must be real, got dtype {v.dtype}")
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-d of length 2**N, got shape {v.shape}")
    L = v.shape[0]
    if L < 1 or L & (L - 1):
        raise ValueError(f"{name} must have length 2**N, got length {L}")
    N = L.bit_length() - 1
    if N > _MAX_BITS:
        raise ValueError(f"{name} has N = {N} bits; at most {_MAX_BITS} are supported")
    v = np.ascontiguousarray(v, dtype=np.float64)
    bad = ~np.isfinite(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{i}] = {float(v[i])!r}: values must be finite")
    return v, N


def _check_tol(tol, name: str = "tol") -> float:
    t = float(tol)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"{name} = {tol!r} must be a finite number >= 0")
    return t


def popcounts(N: int) -> np.ndarray:
    """``popcount(x)`` for ``x = 0..2**N-1`` (int64)."""
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or not 0 <= N <= _MAX_BITS:
        raise ValueError(f"N = {N!r} must be an integer in [0, {_MAX_BITS}]")
    pc = np.zeros(1, dtype=np.int64)
    for _ in range(N):
        pc = np.concatenate([pc, pc + 1])
    return pc


# --------------------------------------------------------------------------------------
# Fast Walsh-Hadamard transform
# --------------------------------------------------------------------------------------


@njit(cache=True)
def fwht(a):  # pragma: no cover - compiled
    r"""In-place unnormalised fast Walsh-Hadamard transform (numba):
    :math:`a[S] \leftarrow \sum_x a[x](-1)^{|x\wedge S|}`. ``O(N 2^N)`` time, no allocation.
    Twin: :func:`fwht_ref`."""
    n = a.shape[0]
    h = 1
    while h < n:
        for i in range(0, n, 2 * h):
            for j in range(i, i + h):
                x = a[j]
                y = a[j + h]
                a[j] = x + y
                a[j + h] = x - y
        h *= 2


def fwht_ref(values) -> np.ndarray:
    """Plain-numpy twin of :func:`fwht` (returns a new array)."""
    a = np.array(values, dtype=np.float64)
    n = a.size
    h = 1
    while h < n:
        b = a.reshape(-1, 2, h)
        a = np.stack([b[:, 0] + b[:, 1], b[:, 0] - b[:, 1]], axis=1).reshape(-1)
        h *= 2
    return a


def walsh_spectrum(values) -> np.ndarray:
    r"""Walsh-Fourier coefficients :math:`\hat f(S) = 2^{-N}\sum_x f(x)(-1)^{|x\wedge S|}`.

    Parameters
    ----------
    values : array of length ``2**N``
        ``values[x] = f(x)``.

    Returns
    -------
    ndarray, shape ``(2**N,)``
        ``coef[S]``, indexed like the input (bit ``i`` of ``S`` means ``i in S``), so
        ``f(x) = sum_S coef[S] (-1)^{popcount(x & S)}`` (Parseval:
        ``mean(f**2) = sum(coef**2)``). Cost ``O(N 2^N)`` (numba FWHT).
    """
    v, N = _as_cube(values)
    a = v.copy()
    fwht(a)
    a /= float(1 << N)
    return a


def inverse_walsh(coef) -> np.ndarray:
    r"""``f(x) = sum_S coef[S] chi_S(x)`` (the inverse of :func:`walsh_spectrum`)."""
    c, _ = _as_cube(coef, "coef")
    a = c.copy()
    fwht(a)
    return a


# --------------------------------------------------------------------------------------
# Degree profile, tails, degree
# --------------------------------------------------------------------------------------


class DegreeProfile(np.ndarray):
    r"""Fourier weight by degree: a read-only float array ``(N+1,)`` with extra attributes.

    ``profile[k]`` is :math:`W^{=k} = \sum_{|S|=k}\hat f(S)^2` (``profile[0]`` is the squared
    mean). It is a numpy array (arithmetic, ``sum``, indexing all work) carrying:

    Attributes
    ----------
    weights : ndarray ``(N+1,)``
        The same numbers as a plain array.
    mean_value : float
        :math:`\hat f(\emptyset) = \mathbb E f`.
    variance : float
        :math:`\sum_{k\ge1} W^{=k}`.
    degree : int
        Largest ``k`` with a coefficient above ``tol`` in absolute value (``0`` for constants).
    tol : float
    """

    def __new__(cls, weights, mean_value: float, variance: float, degree: int, tol: float = 1e-12):
        obj = np.array(weights, dtype=np.float64).view(cls)
        obj.mean_value = float(mean_value)
        obj.variance = float(variance)
        obj.degree = int(degree)
        obj.tol = float(tol)
        obj.flags.writeable = False
        return obj

    def __array_finalize__(self, obj):
        if obj is None:
            return
        self.mean_value = getattr(obj, "mean_value", float("nan"))
        self.variance = getattr(obj, "variance", float("nan"))
        self.degree = getattr(obj, "degree", -1)
        self.tol = getattr(obj, "tol", 1e-12)

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        # results of arithmetic are plain arrays (the attributes describe f, not the result)
        out = np.asarray(obj).view(np.ndarray)
        return out[()] if return_scalar else out

    @property
    def weights(self) -> np.ndarray:
        return self.view(np.ndarray)

    @property
    def N(self) -> int:
        return self.shape[0] - 1

    def tail(self, k: int) -> float:
        r""":math:`W^{>k}/\mathrm{Var} f` (NaN for a constant function)."""
        k = int(k)
        if k < 0:
            raise ValueError(f"k = {k} must be >= 0")
        if not self.variance > 0:
            return float("nan")
        return float(self.weights[k + 1:].sum() / self.variance)

    def tails(self) -> np.ndarray:
        """``[tail(0), tail(1), ..., tail(N)]``."""
        return np.array([self.tail(k) for k in range(self.N + 1)])

    @property
    def normalized(self) -> np.ndarray:
        r""":math:`W^{=k}/\mathrm{Var} f` for ``k >= 1`` (entry 0 is 0; NaN if constant)."""
        if not self.variance > 0:
            return np.full(self.N + 1, np.nan)
        w = self.weights / self.variance
        w[0] = 0.0
        return w

    def __reduce__(self):
        return (DegreeProfile, (self.weights.copy(), self.mean_value, self.variance, self.degree, self.tol))


def _profile_from_coef(coef: np.ndarray, N: int, tol: float) -> DegreeProfile:
    pc = popcounts(N)
    w = np.bincount(pc, weights=coef * coef, minlength=N + 1)
    nz = np.abs(coef) > tol
    deg = int(pc[nz].max()) if nz.any() else 0
    return DegreeProfile(w, mean_value=float(coef[0]), variance=float(w[1:].sum()), degree=deg, tol=tol)


def degree_profile(values, tol: float = 1e-12) -> DegreeProfile:
    r"""Degree profile :math:`W^{=k}` of ``f`` (``values`` of length ``2**N``).

    Returns a :class:`DegreeProfile` (a numpy array): ``profile[k]`` is :math:`W^{=k}`; ``profile.tail(k)``
    is :math:`W^{>k}/\mathrm{Var} f` (the squared error of the best degree-``k``
    approximation under the uniform measure, relative to the variance);
    ``profile.degree`` is the Fourier degree. Cost ``O(N 2^N)``.
    """
    v, N = _as_cube(values)
    return _profile_from_coef(walsh_spectrum(v), N, _check_tol(tol))


def fourier_degree(values, tol: float = 1e-12) -> int:
    """Fourier degree: the largest ``|S|`` with ``|coef[S]| > tol``."""
    return degree_profile(values, tol).degree


def spectral_tail(values, k: int) -> float:
    r""":math:`\mathrm{tail}(k) = W^{>k}[f]/\mathrm{Var} f` (NaN for a constant ``f``): the
    relative squared error of the best degree-``k`` approximation under the uniform measure
    (O'Donnell 2014, Prop. 3.1 / Parseval)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k = {k!r} must be an integer >= 0")
    return degree_profile(values).tail(k)


# --------------------------------------------------------------------------------------
# Influence and sensitivity
# --------------------------------------------------------------------------------------


def total_influence(values) -> float:
    r"""Total influence :math:`I(f)=\sum_S |S|\hat f(S)^2 = \sum_i \mathbb E[(f(x)-f(x^{\oplus i}))^2]/4`.

    For a Boolean :math:`\pm1` function this is the average sensitivity; for a 0/1 function
    it is a quarter of that. Scale-free summary: ``total_influence(v) / degree_profile(v).variance``
    (which equals the average sensitivity of a balanced Boolean function).
    """
    v, N = _as_cube(values)
    coef = walsh_spectrum(v)
    return float(np.dot(popcounts(N), coef * coef))


@njit(cache=True)
def _influence_sensitivity_kernel(f, N, tol, infl_out, sens_out):  # pragma: no cover - compiled
    L = f.shape[0]
    for i in range(N):
        infl_out[i] = 0.0
    for x in range(L):
        sens_out[x] = 0
    for i in range(N):
        m = 1 << i
        acc = 0.0
        for x in range(L):
            y = x ^ m
            d = f[x] - f[y]
            acc += d * d
            if abs(d) > tol:
                sens_out[x] += 1
        infl_out[i] = acc / (4.0 * L)


def influences(values) -> np.ndarray:
    r"""Per-coordinate influences :math:`\mathrm{Inf}_i = \mathbb E[(f(x)-f(x^{\oplus i}))^2]/4`
    computed directly in ``O(N 2^N)`` (numba). Twin: :func:`influences_ref`."""
    v, N = _as_cube(values)
    infl = np.empty(N)
    sens = np.empty(v.size, dtype=np.int64)
    _influence_sensitivity_kernel(v, N, 0.0, infl, sens)
    return infl


def influences_ref(values) -> np.ndarray:
    """Plain-numpy twin of :func:`influences`."""
    v, N = _as_cube(values)
    idx = np.arange(v.size)
    return np.array([np.mean((v - v[idx ^ (1 << i)]) ** 2) / 4.0 for i in range(N)])


def sensitivity(values, tol: float = 0.0) -> int:
    r"""Sensitivity :math:`s(f) = \max_x \#\{i : |f(x)-f(x^{\oplus i})| > \mathrm{tol}\}`
    (O'Donnell 2014, Def. 2.11), ``O(N 2^N)`` (numba). Twin: :func:`sensitivity_ref`."""
    v, N = _as_cube(values)
    infl = np.empty(N)
    sens = np.empty(v.size, dtype=np.int64)
    _influence_sensitivity_kernel(v, N, _check_tol(tol), infl, sens)
    return int(sens.max()) if N else 0


def sensitivity_ref(values, tol: float = 0.0) -> int:
    """Plain-numpy twin of :func:`sensitivity`."""
    v, N = _as_cube(values)
    idx = np.arange(v.size)
    cnt = np.zeros(v.size, dtype=np.int64)
    for i in range(N):
        cnt += np.abs(v - v[idx ^ (1 << i)]) > tol
    return int(cnt.max()) if N else 0


# --------------------------------------------------------------------------------------
# Exact decision-tree depth
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _dt_depth_kernel(f, N, tol, D, lo, hi):  # pragma: no cover - compiled
    """DP over restrictions rho in {0,1,*}^N encoded in base 3 (digit 2 = free)."""
    total = D.shape[0]
    pow3 = np.empty(N, dtype=np.int64)
    p = 1
    for i in range(N):
        pow3[i] = p
        p *= 3
    digits = np.zeros(N, dtype=np.int64)
    for idx in range(total):
        if idx > 0:  # odometer increment of the base-3 digits
            i = 0
            while digits[i] == 2:
                digits[i] = 0
                i += 1
            digits[i] += 1
        first = -1
        x = 0
        for i in range(N):
            d = digits[i]
            if d == 2:
                if first < 0:
                    first = i
            elif d == 1:
                x |= 1 << i
        if first < 0:
            lo[idx] = f[x]
            hi[idx] = f[x]
            D[idx] = 0
            continue
        c0 = idx - 2 * pow3[first]
        c1 = idx - pow3[first]
        lo[idx] = min(lo[c0], lo[c1])
        hi[idx] = max(hi[c0], hi[c1])
        if hi[idx] - lo[idx] <= tol:
            D[idx] = 0
            continue
        best = 127
        for i in range(N):
            if digits[i] == 2:
                a = D[idx - 2 * pow3[i]]
                b = D[idx - pow3[i]]
                m = a if a > b else b
                if m < best:
                    best = m
        D[idx] = best + 1
    return D[total - 1]


def decision_tree_depth(values, tol: float = 0.0) -> int:
    r"""Exact deterministic decision-tree depth :math:`D(f)`.

    Dynamic programming over all :math:`3^N` subcubes (restrictions
    :math:`\rho\in\{0,1,*\}^N`): :math:`D(f|_\rho) = 0` if :math:`f|_\rho` is constant
    (max - min <= ``tol``), otherwise
    :math:`1 + \min_{i\ \text{free}} \max_b D(f|_{\rho, x_i=b})`.
    Cost ``O(N 3^N)`` time and ``O(3^N)`` memory (17 bytes per subcube); ``N <=``
    :data:`MAX_DT_BITS`. Every non-constant symmetric function has ``D = N`` (evasiveness).
    Twin: :func:`decision_tree_depth_ref`.
    """
    v, N = _as_cube(values)
    tol = _check_tol(tol)
    if N > MAX_DT_BITS:
        raise ValueError(f"decision_tree_depth needs N <= {MAX_DT_BITS} input bits (3^N subcubes), got N = {N}")
    total = 3 ** N
    D = np.empty(total, dtype=np.int8)
    lo = np.empty(total)
    hi = np.empty(total)
    return int(_dt_depth_kernel(v, N, tol, D, lo, hi))


def decision_tree_depth_ref(values, tol: float = 0.0) -> int:
    """Plain-Python twin of :func:`decision_tree_depth` (memoised recursion; ``N <= 10``)."""
    v, N = _as_cube(values)
    if N > 10:
        raise ValueError(f"the reference needs N <= 10, got N = {N}")

    @lru_cache(maxsize=None)
    def D(fixed_mask: int, fixed_vals: int) -> int:
        free = [i for i in range(N) if not (fixed_mask >> i) & 1]
        pts = [fixed_vals]
        for i in free:
            pts = pts + [p | (1 << i) for p in pts]
        vals = v[pts]
        if vals.max() - vals.min() <= tol:
            return 0
        return 1 + min(max(D(fixed_mask | (1 << i), fixed_vals), D(fixed_mask | (1 << i), fixed_vals | (1 << i)))
                       for i in free)

    return D(0, 0)


# --------------------------------------------------------------------------------------
# Best degree-k approximation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LowDegreeFit:
    r"""Best :math:`L^2(\rho)` approximation of ``f`` by polynomials of degree ``<= k``.

    Attributes
    ----------
    k : int
    mse : float
        :math:`\|f - f_k\|_\rho^2 = \sum_x \rho(x)(f(x)-f_k(x))^2`.
    variance : float
        :math:`\mathrm{Var}_\rho f`.
    relative_mse : float
        ``mse / variance`` (NaN when the variance is 0).
    n_features : int
        :math:`\sum_{j\le k}\binom Nj`.
    coef : ndarray ``(2**N,)``
        Coefficients of :math:`f_k` in the Walsh basis (zero above degree ``k``); for
        uniform weights these are the truncated Fourier coefficients.
    weighted : bool
    """

    k: int
    mse: float
    variance: float
    relative_mse: float
    n_features: int
    coef: np.ndarray
    weighted: bool


def low_degree_error(values, k: int, weights=None, max_features: int = 4096) -> LowDegreeFit:
    r"""Error of the best degree-``k`` approximation, uniform or weighted.

    * ``weights=None`` (uniform): the optimum is the Fourier truncation and the squared
      error is exactly :math:`W^{>k}` (Parseval); no fitting.
    * ``weights`` = a distribution :math:`\rho` on the cube (e.g. the visitation distribution
      of :math:`\pi^\star`): weighted least squares on :math:`\{\chi_S : |S|\le k\}` through
      the normal equations, whose Gram matrix is computed spectrally,
      :math:`G_{ST} = \sum_x\rho(x)\chi_S(x)\chi_T(x) = 2^N\hat\rho(S\oplus T)` and
      :math:`b_S = 2^N\widehat{\rho f}(S)`, solved by SVD-based least squares (so a
      rank-deficient support is fine). Cost ``O(N 2^N + K^3)`` with
      :math:`K=\sum_{j\le k}\binom Nj \le` ``max_features``.
    """
    v, N = _as_cube(values)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= N:
        raise ValueError(f"k = {k!r} must be an integer in [0, N = {N}]")
    k = int(k)
    pc = popcounts(N)
    K = sum(comb(N, j) for j in range(k + 1))
    if weights is None:
        coef = walsh_spectrum(v)
        var = float(np.sum(coef[1:] ** 2))
        mse = float(np.sum(coef[pc > k] ** 2))
        trunc = np.where(pc <= k, coef, 0.0)
        rel = mse / var if var > 0 else float("nan")
        return LowDegreeFit(k=k, mse=mse, variance=var, relative_mse=rel, n_features=K, coef=trunc, weighted=False)
    rho, _ = _as_cube(weights, "weights")
    if rho.size != v.size:
        raise ValueError(f"weights has length {rho.size}, values has length {v.size}")
    if (rho < 0).any():
        i = int(np.flatnonzero(rho < 0)[0])
        raise ValueError(f"weights[{i}] = {float(rho[i])!r}: weights must be >= 0")
    tot = rho.sum()
    if tot <= 0:
        raise ValueError("weights sum to 0")
    rho = rho / tot
    if K > max_features:
        raise ValueError(f"the degree-{k} basis on N = {N} bits has K = {K} functions > max_features = {max_features}")
    cols = np.flatnonzero(pc <= k)
    L = float(v.size)
    rho_hat = walsh_spectrum(rho) * L
    b = walsh_spectrum(rho * v)[cols] * L
    G = rho_hat[np.bitwise_xor.outer(cols, cols)]
    c, *_ = scipy.linalg.lstsq(G, b, lapack_driver="gelsd")
    coef = np.zeros(v.size)
    coef[cols] = c
    approx = inverse_walsh(coef)
    mse = float(np.dot(rho, (v - approx) ** 2))
    mean = float(np.dot(rho, v))
    var = float(max(np.dot(rho, (v - mean) ** 2), 0.0))
    rel = mse / var if var > 0 else float("nan")
    return LowDegreeFit(k=k, mse=mse, variance=var, relative_mse=rel, n_features=K, coef=coef, weighted=True)

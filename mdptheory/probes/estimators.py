r"""Estimators on a linear class, to watch the theory happen: LSTD, FQE, semi-gradient TD(0).

All share the notation of :mod:`mdptheory.probes.bellman`: data pairs :math:`(s,a)\sim\mu`,
:math:`s'\sim P(\cdot|s,a)`, a reward :math:`r` drawn from the MDP's reward law, and the
target-policy next feature :math:`\phi^\pi(s')=\sum_{a'}\pi(a'|s')\phi(s',a')` (the
"expected-SARSA" target, which has the same expectation as sampling :math:`a'\sim\pi`).

* **LSTD** (Bradtke & Barto 1996): :math:`\hat A w=\hat b` with
  :math:`\hat A=\frac1n\sum\phi(\phi-\gamma\phi^\pi(s'))^\top`, :math:`\hat b=\frac1n\sum\phi r`;
  population version :math:`A=\Phi^\top D_\mu(I-\gamma P^\pi)\Phi`, :math:`b=\Phi^\top D_\mu r`.
* **FQE** (exact regression): :math:`w_{k+1}=\arg\min_w\|\Phi w-(r+\gamma P^\pi\Phi w_k)\|_\mu`;
  sampled: least squares on a fixed data set with targets :math:`r_i+\gamma\phi^\pi(s'_i)^\top w_k`.
* **TD(0)** (semi-gradient): expected :math:`w\leftarrow w+\alpha(b-Aw)` (for Baird's example
  with uniform :math:`\mu` this is the "DP-style" expected update of Sutton & Barto §11.2);
  sampled :math:`w\leftarrow w+\alpha(r+\gamma\phi^\pi(s')^\top w-\phi^\top w)\phi`, run by a
  numba kernel (:func:`td0_sampled`) with the plain-numpy twin :func:`td0_sampled_ref`.

Every estimator returns an :class:`EstimatorTrace` with the parameter trajectory and the
errors :math:`\|\Phi w_k-Q^\pi\|_\mu` against the exact :math:`Q^\pi`.
Randomness: a seeded ``numpy.random.Generator`` only; same seed, bit-identical output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

from mdptheory.core import DiscountedMDP
from mdptheory.probes.bellman import as_linear_class, pe_operators
from mdptheory.probes.linear_class import LinearClass, flat_P

__all__ = [
    "EstimatorTrace",
    "Transitions",
    "sample_transitions",
    "lstd",
    "fqe",
    "td0",
    "td0_sampled",
    "td0_sampled_ref",
]

#: Parameter norm beyond which an iteration is declared divergent and stopped.
DIVERGENCE_NORM = 1e12


@dataclass(frozen=True, eq=False)
class EstimatorTrace:
    r"""Trajectory of an estimator.

    Attributes
    ----------
    method : str
    steps : ndarray ``(K,)``
        Iteration index (FQE, TD) or sample size (LSTD) of each recorded point.
    weights : ndarray ``(K, d)``
    errors : ndarray ``(K,)``
        :math:`\|\Phi w_k-Q^\pi\|_\mu`.
    diverged : bool
        The parameter norm exceeded :data:`DIVERGENCE_NORM` (the trace stops there).
    """

    method: str
    steps: np.ndarray
    weights: np.ndarray
    errors: np.ndarray
    diverged: bool

    @property
    def final(self) -> np.ndarray:
        return self.weights[-1]


@dataclass(frozen=True, eq=False)
class Transitions:
    """Sampled transitions: pair index ``sa = s*A + a``, reward, next state."""

    sa: np.ndarray
    reward: np.ndarray
    next_state: np.ndarray


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_mu(mu, SA: int) -> np.ndarray:
    m = np.asarray(mu, dtype=np.float64).reshape(-1)
    if m.shape != (SA,):
        raise ValueError(f"mu must have S*A = {SA} entries, got {m.size}")
    bad = np.flatnonzero(~np.isfinite(m) | (m < 0))
    if bad.size:
        raise ValueError(f"mu[{int(bad[0])}] = {float(m[bad[0]])!r} must be finite and >= 0")
    tot = float(m.sum())
    if abs(tot - 1.0) > 1e-10:
        raise ValueError(f"mu sums to {tot!r}, not 1 (tolerance 1e-10)")
    return m


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} = {value!r} must be an integer >= {minimum}")
    return int(value)


def sample_transitions(mdp: DiscountedMDP, mu, n: int, seed=0) -> Transitions:
    r"""``n`` i.i.d. transitions: :math:`(s,a)\sim\mu` (array ``(S, A)`` or ``(S*A,)``, a
    probability vector), :math:`s'\sim P(\cdot|s,a)` (inverse CDF on the CSR rows), reward from
    the MDP's law (deterministic mean, Bernoulli, or Gaussian with ``reward_std``).

    ``seed`` is an int, a ``SeedSequence`` or a ``numpy.random.Generator`` (never the global
    RNG); the same seed gives bit-identical transitions.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n = {n!r} must be a positive integer")
    SA = mdp.S * mdp.A
    m = _check_mu(mu, SA)
    rng = _rng(seed)
    cdf = np.cumsum(m)
    cdf /= cdf[-1]
    sa = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), SA - 1)
    P = flat_P(mdp)
    Pc = P if sp.issparse(P) else sp.csr_matrix(P)
    indptr, indices, data = Pc.indptr, Pc.indices, Pc.data
    row_of = np.repeat(np.arange(SA), np.diff(indptr))
    cs = np.cumsum(data)
    start = np.concatenate([[0.0], cs])[indptr[:-1]]
    within = cs - start[row_of]  # per-row cumulative sums in (0, 1]
    key = within + row_of  # globally increasing
    u = rng.random(n)
    pos = np.searchsorted(key, sa + u * within[indptr[sa + 1] - 1], side="right")
    # clamp into row sa: guards against round-off in rows whose sum differs from 1 by ~1e-12
    pos = np.clip(pos, indptr[sa], indptr[sa + 1] - 1)
    nxt = indices[pos].astype(np.int64)
    R = np.asarray(mdp.R, dtype=np.float64).reshape(-1)[sa]
    if mdp.reward_noise == "bernoulli":
        R = (rng.random(n) < R).astype(np.float64)
    elif mdp.reward_noise == "gaussian" and mdp.reward_std > 0:
        R = R + mdp.reward_std * rng.standard_normal(n)
    return Transitions(sa.astype(np.int64), R, nxt)


def _setup(mdp, features, policy, mu):
    lc = as_linear_class(mdp, features, mu, policy)
    ops = pe_operators(mdp, lc, policy)
    return lc, ops


def _errors(lc: LinearClass, Q: np.ndarray, W: np.ndarray) -> np.ndarray:
    WQ = lc.weigh(Q)
    Wphi = lc.weigh(lc.phi)
    return np.linalg.norm(Wphi @ W.T - WQ[:, None], axis=0)


def _check_w0(w0, d):
    w = np.zeros(d) if w0 is None else np.array(w0, dtype=np.float64)
    if w.shape != (d,):
        raise ValueError(f"w0 must have shape (d,) = {(d,)}, got {w.shape}")
    return w


# -- LSTD ------------------------------------------------------------------------------------

def lstd(mdp: DiscountedMDP, features, policy, mu, *, sample_sizes=None, seed=0,
         data: Transitions | None = None, ridge: float = 0.0) -> EstimatorTrace:
    r"""LSTD / projected fixed point.

    ``sample_sizes=None``: the exact population solution (one point, ``steps = [0]``; the
    minimum-norm solution of :math:`Aw=b`). Otherwise a sorted list of sample sizes: one data
    set of ``max(sample_sizes)`` transitions is drawn (or ``data`` is used) and LSTD is
    solved on each prefix (``lstsq``; ``ridge`` adds :math:`\lambda I` to :math:`\hat A`).
    """
    ridge = float(ridge)
    if not (np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge = {ridge!r} must be finite and >= 0")
    lc, ops = _setup(mdp, features, policy, mu)
    if sample_sizes is None:
        Wphi = lc.weigh(lc.phi)
        A = Wphi.T @ (Wphi - ops.WY)
        b = Wphi.T @ ops.Wr
        w = np.linalg.lstsq(A, b, rcond=None)[0]
        W = w[None, :]
        return EstimatorTrace("lstd-exact", np.array([0]), W, _errors(lc, ops.Q, W), False)
    ns = np.asarray(sorted(int(k) for k in sample_sizes), dtype=np.int64)
    if ns.size == 0:
        raise ValueError("sample_sizes must contain at least one sample size")
    if ns[0] < 1:
        raise ValueError(f"sample_sizes contains {int(ns[0])}: sample sizes must be positive integers")
    if data is None:
        data = sample_transitions(mdp, lc.mu, int(ns[-1]), seed)
    elif data.sa.size < ns[-1]:
        raise ValueError(f"data has {data.sa.size} transitions, fewer than max(sample_sizes) = {ns[-1]}")
    F = lc.phi[data.sa]
    G = F - mdp.gamma * ops.phi_pi[data.next_state]
    d = lc.d
    W = np.empty((ns.size, d))
    A = np.zeros((d, d))
    b = np.zeros(d)
    prev = 0
    for j, k in enumerate(ns):
        A += F[prev:k].T @ G[prev:k]
        b += F[prev:k].T @ data.reward[prev:k]
        prev = k
        W[j] = np.linalg.lstsq(A / k + ridge * np.eye(d), b / k, rcond=None)[0]
    return EstimatorTrace("lstd", ns, W, _errors(lc, ops.Q, W), False)


# -- FQE -------------------------------------------------------------------------------------

def fqe(mdp: DiscountedMDP, features, policy, mu, *, iterations: int = 100, w0=None,
        n_samples: int | None = None, seed=0, data: Transitions | None = None) -> EstimatorTrace:
    r"""Fitted Q-evaluation with linear least squares (minimum-norm solutions).

    Exact regression when ``n_samples`` and ``data`` are None:
    :math:`w_{k+1}=(\Phi^\top D\Phi)^{+}\Phi^\top D(r+Yw_k)`; otherwise regression on one fixed
    data set. Returns ``iterations + 1`` points (``w_0`` included) unless it diverges.
    """
    iterations = _count(iterations, "iterations", 0)
    lc, ops = _setup(mdp, features, policy, mu)
    w = _check_w0(w0, lc.d)
    if n_samples is None and data is None:
        Wphi_pinv = lc.coords @ lc.basis.T  # (Phi^T D Phi)^+ Phi^T D^{1/2}

        def step(w):
            return Wphi_pinv @ (ops.Wr + ops.WY @ w)
        name = "fqe-exact"
    else:
        if data is None:
            data = sample_transitions(mdp, lc.mu, int(n_samples), seed)
        F = lc.phi[data.sa]
        Fp = np.linalg.pinv(F, rcond=1e-12)
        Gn = mdp.gamma * ops.phi_pi[data.next_state]

        def step(w):
            return Fp @ (data.reward + Gn @ w)
        name = "fqe"
    Ws = [w]
    diverged = False
    for _ in range(iterations):
        w = step(w)
        Ws.append(w)
        if not np.all(np.isfinite(w)) or np.linalg.norm(w) > DIVERGENCE_NORM:
            diverged = True
            break
    W = np.array(Ws)
    return EstimatorTrace(name, np.arange(W.shape[0]), W, _errors(lc, ops.Q, W), diverged)


# -- TD(0) -----------------------------------------------------------------------------------

@numba.njit(cache=True)
def td0_sampled(phi, phi_pi, sa, reward, next_state, gamma, alpha, w, every, W_out, K_out):  # pragma: no cover - compiled
    """Semi-gradient TD(0) over the given transitions; ``w`` is updated in place and recorded
    into ``W_out[k]`` after every ``every`` steps (row 0 = initial). Returns the number of
    rows written (stops early when ``|w|^2 > 1e24``, i.e. ``|w| >`` :data:`DIVERGENCE_NORM`,
    or is NaN). Twin: :func:`td0_sampled_ref`."""
    d = w.shape[0]
    n = sa.shape[0]
    W_out[0, :] = w
    K_out[0] = 0
    rows = 1
    for t in range(n):
        i = sa[t]
        j = next_state[t]
        v = 0.0
        vn = 0.0
        for k in range(d):
            v += phi[i, k] * w[k]
            vn += phi_pi[j, k] * w[k]
        delta = reward[t] + gamma * vn - v
        nrm = 0.0
        for k in range(d):
            w[k] += alpha * delta * phi[i, k]
            nrm += w[k] * w[k]
        if (t + 1) % every == 0 or not (nrm <= 1e24):
            W_out[rows, :] = w
            K_out[rows] = t + 1
            rows += 1
        if not (nrm <= 1e24):
            return rows
    return rows


def _sequential_dot(x, y) -> float:
    """``0.0 + x[0] y[0] + x[1] y[1] + ...`` added left to right, the rounding of a plain
    loop (``numpy.add.accumulate`` is sequential; ``numpy.dot`` may pair the terms
    differently). The leading ``0.0 +`` gives an all-zero sum the loop's sign ``+0.0``."""
    return 0.0 + float(np.add.accumulate(x * y)[-1]) if x.size else 0.0


def _td0_iterates(phi, phi_pi, sa, reward, next_state, gamma, alpha, w):
    """Yield ``(t + 1, w, |w|^2)`` after each semi-gradient step on transition ``t``, with
    whole-vector updates; ``w`` is updated in place."""
    for t, (i, j, r) in enumerate(zip(sa, next_state, reward)):
        delta = r + gamma * _sequential_dot(phi_pi[j], w) - _sequential_dot(phi[i], w)
        w += alpha * delta * phi[i]
        yield t + 1, w, _sequential_dot(w, w)


def td0_sampled_ref(phi, phi_pi, sa, reward, next_state, gamma, alpha, w, every, W_out, K_out):
    """Plain-numpy twin of :func:`td0_sampled` (same arguments, same output, bit for bit):
    the steps come from a generator of vectorised updates, the recording and the divergence
    stop are applied to its iterates."""
    W_out[0, :] = w
    K_out[0] = 0
    rows = 1
    for step, w_t, nrm in _td0_iterates(phi, phi_pi, sa, reward, next_state, gamma, alpha, w):
        diverged = not (nrm <= 1e24)
        if step % every == 0 or diverged:
            W_out[rows, :] = w_t
            K_out[rows] = step
            rows += 1
        if diverged:
            break
    return rows


def td0(mdp: DiscountedMDP, features, policy, mu, *, steps: int = 1000, step_size: float = 0.01, w0=None,
        expected: bool = True, seed=0, record_every: int = 1, data: Transitions | None = None,
        engine: str = "numba") -> EstimatorTrace:
    r"""Semi-gradient TD(0) with a constant step size.

    ``expected=True``: :math:`w_{k+1}=w_k+\alpha(b-Aw_k)` with the population ``A``, ``b``.
    ``expected=False``: one pass over ``steps`` sampled transitions (or ``data``), through the
    numba kernel (``engine="numba"``) or its numpy twin (``engine="numpy"``).
    Points are recorded every ``record_every`` steps.
    """
    if not (np.isfinite(step_size) and step_size > 0):
        raise ValueError(f"step_size = {step_size!r} must be a positive number")
    every = _count(record_every, "record_every", 1)
    steps = _count(steps, "steps", 0 if expected else 1)
    lc, ops = _setup(mdp, features, policy, mu)
    w = _check_w0(w0, lc.d)
    if expected:
        Wphi = lc.weigh(lc.phi)
        A = Wphi.T @ (Wphi - ops.WY)
        b = Wphi.T @ ops.Wr
        Ws, ks = [w.copy()], [0]
        diverged = False
        for t in range(steps):
            w = w + step_size * (b - A @ w)
            if (t + 1) % every == 0:
                Ws.append(w.copy())
                ks.append(t + 1)
            if not np.all(np.isfinite(w)) or np.linalg.norm(w) > DIVERGENCE_NORM:
                if (t + 1) % every:
                    Ws.append(w.copy())
                    ks.append(t + 1)
                diverged = True
                break
        W = np.array(Ws)
        return EstimatorTrace("td0-expected", np.array(ks), W, _errors(lc, ops.Q, W), diverged)
    if engine not in ("numba", "numpy"):
        raise ValueError(f"engine = {engine!r}: use 'numba' or 'numpy'")
    if data is None:
        data = sample_transitions(mdp, lc.mu, steps, seed)
    n = data.sa.size
    fn = td0_sampled if engine == "numba" else td0_sampled_ref
    W_out = np.empty((n // every + 2, lc.d))
    K_out = np.zeros(n // every + 2, dtype=np.int64)
    w_run = w.copy()
    rows = fn(np.ascontiguousarray(lc.phi), np.ascontiguousarray(ops.phi_pi), data.sa, data.reward,
              data.next_state, float(mdp.gamma), float(step_size), w_run, every, W_out, K_out)
    W = W_out[:rows].copy()
    ks = K_out[:rows].copy()
    diverged = bool(not np.all(np.isfinite(W[-1])) or np.linalg.norm(W[-1]) > DIVERGENCE_NORM)
    return EstimatorTrace("td0", ks, W, _errors(lc, ops.Q, W), diverged)

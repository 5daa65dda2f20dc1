r"""MoCoDyna: MaxEnt model correction from sampled transitions, and the sample-based baselines
(Q-learning, Dyna with the approximate model, OS-Dyna, planning in the approximate model),
each traced by the exact error :math:`\|V_t-V^*\|_\infty` of its current values.

Data: i.i.d. transitions :math:`(s_t,a_t)\sim\mathrm{Unif}(\mathcal S\times\mathcal A)`,
:math:`s'_t\sim P(\cdot|s_t,a_t)`, :math:`r_t` from the MDP's reward law
(:func:`sample_transitions`); every method reads the same stream for a given seed. Step sizes
are per pair, :math:`\alpha_n=n^{-\omega}` at the pair's ``n``-th sample (:math:`\omega=1`:
running mean).

* **MoCoDyna** (Rakhsha, Kemertas, Ghavamzadeh & Farahmand, ICLR 2024). A queue of the last
  ``d + c`` value functions; for each, :math:`\hat\psi_j(s,a)\approx(P\phi_j)(s,a)` by
  stochastic approximation :math:`\hat\psi_j\leftarrow\hat\psi_j+\alpha_n(\phi_j(s'_t)-\hat\psi_j)`
  from its entry on. Every ``plan_every`` samples: correct :math:`\hat P` with the ``d``
  newest functions that are not among the ``c`` newest (those are still being estimated),
  by :func:`~mdptheory.correction.maxent_projection` with the ridge ``reg`` (pairs without a
  sample of every basis function are left at :math:`\hat P`), and plan exactly in the
  corrected model. At the sample counts of :meth:`MoCoDyna.basis_times` (gaps
  ``basis_every * basis_growth**k``) the planned value enters the queue and the oldest
  function leaves it. :math:`V_0=V^*_{\hat P}`.
* **Q-learning**: :math:`Q(s_t,a_t)\leftarrow Q+\alpha_n(r_t+\gamma\max_{a'}Q(s'_t,a')-Q)`.
* **Dyna** with the given model: the Q-learning update on each real sample, and every
  ``plan_every`` samples ``planning_sweeps`` synchronous backups
  :math:`Q\leftarrow r+\gamma\hat P\max_{a'}Q` (the model is :math:`\hat P`, not learned).
* **OS-Dyna** (Rakhsha, Wang, Ghavamzadeh & Farahmand, NeurIPS 2022):
  :math:`\hat g(s_t,a_t)\leftarrow\hat g+\alpha_n(r_t+\gamma V_k(s'_t)-\gamma(\hat PV_k)(s_t,a_t)-\hat g)`
  and every ``plan_every`` samples :math:`V_{k+1}` = optimal value of :math:`(\hat P,\hat g,\gamma)`.
* **Model-based**: :math:`V^*_{\hat P}` throughout.

The generative (uniform i.i.d.) sampling, the step sizes, the queue rule for ``c`` and the
Dyna variant are our reconstruction. Provenance and reconstructions: proofs_notes/moco.md
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from mdptheory.core import DiscountedMDP
from mdptheory.core.validation import (
    check_bool, check_generator, check_int, check_real,
)
from mdptheory.correction.moco_vi import _plan, exact_target, orthonormal_basis
from mdptheory.correction.projection import STATUS_INFEASIBLE, _as_kernel, maxent_projection

__all__ = [
    "Transitions",
    "SampleTrace",
    "sample_transitions",
    "MoCoDyna",
    "q_learning",
    "dyna",
    "os_dyna",
    "model_based_samples",
    "sa_average",
    "sa_average_ref",
    "q_learning_block",
    "q_learning_block_ref",
]


@dataclass(frozen=True, eq=False, repr=False)
class Transitions:
    """A stream of sampled transitions: ``pairs = s * A + a``, ``next_states``, ``rewards``."""

    pairs: np.ndarray
    next_states: np.ndarray
    rewards: np.ndarray
    S: int
    A: int

    def __len__(self) -> int:
        return int(self.pairs.shape[0])

    def __repr__(self) -> str:
        return f"Transitions(n={len(self)}, S={self.S}, A={self.A})"


@dataclass(frozen=True, eq=False, repr=False)
class SampleTrace:
    r"""Exact error of a sample-based method's values against the number of samples.

    Attributes
    ----------
    method : str
    samples : ndarray of int64 ``(m,)``
    errors : ndarray ``(m,)``
        :math:`\|V_t - V^*\|_\infty` after ``samples[i]`` transitions.
    values : ndarray ``(m, S)``
    target : ndarray ``(S,)``
    seconds : float
    n_infeasible : ndarray of int64
        MoCoDyna only: pairs left uncorrected as infeasible at each planning step (empty
        otherwise).
    """

    method: str
    samples: np.ndarray
    errors: np.ndarray
    values: np.ndarray
    target: np.ndarray
    seconds: float
    n_infeasible: np.ndarray

    def __repr__(self) -> str:
        return (f"SampleTrace(method={self.method!r}, samples={int(self.samples[-1])}, "
                f"final error={float(self.errors[-1]):.3g}, seconds={self.seconds:.3g})")


def sample_transitions(mdp: DiscountedMDP, n: int, seed=0) -> Transitions:
    r"""``n`` i.i.d. transitions: a uniform pair (one ``integers`` draw for all), then the
    next state by inverse CDF of one uniform per sample, then the rewards (Bernoulli: one
    uniform each; Gaussian: one normal each; deterministic: the means). Same seed,
    bit-identical stream."""
    if not isinstance(mdp, DiscountedMDP):
        raise TypeError(f"mdp must be a DiscountedMDP, got {type(mdp).__name__}")
    n = check_int("n", n, 0)
    rng = check_generator(seed)
    S, A = mdp.S, mdp.A
    P2 = np.asarray(mdp.dense_P()).reshape(S * A, S)
    pairs = rng.integers(0, S * A, size=n)
    u = rng.random(n)
    cdf = np.cumsum(P2, axis=1)
    nxt = np.empty(n, dtype=np.int64)
    for lo in range(0, n, 65536):
        hi = min(n, lo + 65536)
        c = cdf[pairs[lo:hi]]
        k = (u[lo:hi, None] >= c).sum(axis=1)
        # round-off above the last cumulative sum: the last state with positive mass
        last = S - 1 - np.argmax(P2[pairs[lo:hi], ::-1] > 0, axis=1)
        nxt[lo:hi] = np.minimum(k, last)
    R = np.asarray(mdp.R).ravel()[pairs]
    if mdp.reward_noise == "bernoulli":
        R = (rng.random(n) < R).astype(np.float64)
    elif mdp.reward_noise == "gaussian":
        R = R + mdp.reward_std * rng.standard_normal(n)
    return Transitions(pairs.astype(np.int64), nxt, np.asarray(R, dtype=np.float64), S, A)


def _stream(mdp, samples, seed) -> Transitions:
    if isinstance(samples, Transitions):
        if (samples.S, samples.A) != (mdp.S, mdp.A):
            raise ValueError(f"samples were drawn for S={samples.S}, A={samples.A}, not S={mdp.S}, A={mdp.A}")
        return samples
    return sample_transitions(mdp, check_int("samples", samples, 0), seed)


def _checkpoints(n: int, record_every) -> np.ndarray:
    every = max(1, n // 100) if record_every is None else check_int("record_every", record_every, 1)
    pts = np.arange(0, n + 1, every)
    return pts if pts[-1] == n else np.append(pts, n)


def _progress(it, show, desc):
    if not show:
        return it
    from tqdm.auto import tqdm
    return tqdm(it, desc=desc, leave=False)


# ---------------------------------------------------------------------------------------
# plain twins
# ---------------------------------------------------------------------------------------


def sa_average_ref(pairs, targets, counts, est, omega):
    r"""Twin of :func:`sa_average`, written pair-major: for each pair, the recursion
    :math:`x\leftarrow x+n^{-\omega}(y-x)` over that pair's targets in stream order (updates
    of different pairs do not interact). Returns new ``(counts, est)``."""
    counts = np.array(counts, dtype=np.int64, copy=True)
    est = np.array(est, dtype=np.float64, copy=True)
    order = np.argsort(pairs, kind="stable")
    sp, st = np.asarray(pairs)[order], np.asarray(targets)[order]
    starts = np.flatnonzero(np.r_[True, sp[1:] != sp[:-1]])
    ends = np.r_[starts[1:], sp.size]
    for b, e in zip(starts, ends):
        i = int(sp[b])
        n0 = counts[i]
        x = est[i]
        for k, y in enumerate(st[b:e]):
            x = x + (n0 + k + 1.0) ** (-omega) * (y - x)
        counts[i] = n0 + (e - b)
        est[i] = x
    return counts, est


def q_learning_block_ref(pairs, next_states, rewards, Q, counts, gamma, omega):
    r"""Twin of :func:`q_learning_block`: the visit numbers and step sizes of the whole block
    are computed first, vectorised (rank of each sample among its pair's samples), then the
    updates run in stream order on a flat copy of ``Q``. Returns new ``(Q, counts)``."""
    S, A = Q.shape
    Q = np.array(Q, dtype=np.float64, copy=True)
    counts = np.array(counts, dtype=np.int64, copy=True)
    pairs = np.asarray(pairs)
    order = np.argsort(pairs, kind="stable")
    rank = np.empty(pairs.size, dtype=np.int64)
    sp = pairs[order]
    first = np.r_[True, sp[1:] != sp[:-1]]
    grp_start = np.maximum.accumulate(np.where(first, np.arange(sp.size), 0))
    rank[order] = np.arange(sp.size) - grp_start
    n_visit = counts[pairs] + rank + 1
    alpha = n_visit.astype(np.float64) ** (-omega)
    flat = Q.ravel()
    for t in range(pairs.size):
        i, s2 = int(pairs[t]), int(next_states[t])
        target = rewards[t] + gamma * flat[s2 * A:(s2 + 1) * A].max()
        flat[i] = flat[i] + alpha[t] * (target - flat[i])
    np.add.at(counts, pairs, 1)
    return flat.reshape(S, A), counts


# ---- compiled twin (numba)


@njit(cache=True, nogil=True)
def sa_average(pairs, targets, counts, est, omega):
    r"""In place, in stream order: ``counts[i] += 1``, :math:`\hat x_i\leftarrow\hat x_i+
    n_i^{-\omega}(y_t-\hat x_i)` for ``i = pairs[t]``, ``y_t = targets[t]``."""
    for t in range(pairs.shape[0]):
        i = pairs[t]
        counts[i] += 1
        est[i] += counts[i] ** (-omega) * (targets[t] - est[i])


@njit(cache=True, nogil=True)
def q_learning_block(pairs, next_states, rewards, Q, counts, gamma, omega):
    r"""Q-learning on a block of transitions, in place: ``Q (S, A)``, ``counts (S*A,)``."""
    A = Q.shape[1]
    for t in range(pairs.shape[0]):
        i = pairs[t]
        s = i // A
        a = i - s * A
        s2 = next_states[t]
        best = Q[s2, 0]
        for b in range(1, A):
            if Q[s2, b] > best:
                best = Q[s2, b]
        counts[i] += 1
        alpha = counts[i] ** (-omega)
        Q[s, a] += alpha * (rewards[t] + gamma * best - Q[s, a])


# ---------------------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------------------


def _record(method, vals, pts, target, t0, n_inf=()):
    vals = np.array(vals)
    return SampleTrace(method, np.asarray(pts, dtype=np.int64), np.abs(vals - target).max(axis=1), vals,
                       target, time.perf_counter() - t0, np.asarray(n_inf, dtype=np.int64))


def q_learning(mdp: DiscountedMDP, samples, seed=0, *, omega: float = 0.8, record_every=None,
               progress: bool = False) -> SampleTrace:
    r"""Q-learning from :math:`Q_0=0` on the stream (module docstring), :math:`V_t=\max_aQ_t`."""
    t0 = time.perf_counter()
    tr = _stream(mdp, samples, seed)
    omega = check_real("omega", omega, 0.5, 1.0)
    pts = _checkpoints(len(tr), record_every)
    S, A, g = mdp.S, mdp.A, mdp.gamma
    Q = np.zeros((S, A))
    counts = np.zeros(S * A, dtype=np.int64)
    vals = [Q.max(axis=1)]
    for lo, hi in _progress(list(zip(pts[:-1], pts[1:])), progress, "Q-learning"):
        q_learning_block(tr.pairs[lo:hi], tr.next_states[lo:hi], tr.rewards[lo:hi], Q, counts, g, omega)
        vals.append(Q.max(axis=1))
    return _record("Q-learning", vals, pts, exact_target(mdp), t0)


def _planning_start(mdp, P_hat, samples, seed, omega, plan_every, record_every):
    """The checked start of Dyna and OS-Dyna: ``(stream, P_hat kernel, omega, plan_every,
    record points, events)``, the events being the record points and the planning steps."""
    tr = _stream(mdp, samples, seed)
    Ph = _as_kernel(P_hat)
    omega = check_real("omega", omega, 0.5, 1.0)
    plan_every = check_int("plan_every", plan_every, 1)
    pts = _checkpoints(len(tr), record_every)
    return tr, Ph, omega, plan_every, pts, np.union1d(pts, np.arange(0, len(tr) + 1, plan_every))


def dyna(mdp: DiscountedMDP, P_hat, samples, seed=0, *, omega: float = 0.8, plan_every: int = 1000,
         planning_sweeps: int = 1, record_every=None, progress: bool = False) -> SampleTrace:
    r"""Dyna with the given approximate model (module docstring)."""
    t0 = time.perf_counter()
    tr, Ph, omega, plan_every, pts, events = _planning_start(mdp, P_hat, samples, seed, omega, plan_every,
                                                             record_every)
    sweeps = check_int("planning_sweeps", planning_sweeps, 0)
    S, A, g = mdp.S, mdp.A, mdp.gamma
    R = np.asarray(mdp.R)
    Q = np.zeros((S, A))
    counts = np.zeros(S * A, dtype=np.int64)
    vals = [Q.max(axis=1)]
    for lo, hi in _progress(list(zip(events[:-1], events[1:])), progress, "Dyna"):
        q_learning_block(tr.pairs[lo:hi], tr.next_states[lo:hi], tr.rewards[lo:hi], Q, counts, g, omega)
        if hi % plan_every == 0:
            for _ in range(sweeps):
                Q = R + g * (Ph @ Q.max(axis=1))
        if hi in pts:
            vals.append(Q.max(axis=1))
    return _record("Dyna (model P_hat)", vals, pts, exact_target(mdp), t0)


def os_dyna(mdp: DiscountedMDP, P_hat, samples, seed=0, *, omega: float = 0.8, plan_every: int = 1000,
            record_every=None, progress: bool = False) -> SampleTrace:
    r"""OS-Dyna (module docstring): :math:`V_0=V^*_{\hat P}`, :math:`\hat g_0=r`."""
    t0 = time.perf_counter()
    tr, Ph, omega, plan_every, pts, events = _planning_start(mdp, P_hat, samples, seed, omega, plan_every,
                                                             record_every)
    S, A, g = mdp.S, mdp.A, mdp.gamma
    R = np.asarray(mdp.R)
    V = _plan(Ph, R, g, None)
    ghat = R.ravel().copy()
    counts = np.zeros(S * A, dtype=np.int64)
    vals = [V]
    for lo, hi in _progress(list(zip(events[:-1], events[1:])), progress, "OS-Dyna"):
        pr, nx = tr.pairs[lo:hi], tr.next_states[lo:hi]
        PhV = (Ph @ V).ravel()
        y = tr.rewards[lo:hi] + g * V[nx] - g * PhV[pr]
        sa_average(pr, y, counts, ghat, omega)
        if hi % plan_every == 0:
            V = _plan(Ph, ghat.reshape(S, A), g, None)
        if hi in pts:
            vals.append(V)
    return _record("OS-Dyna", vals, pts, exact_target(mdp), t0)


def model_based_samples(mdp: DiscountedMDP, P_hat, samples, seed=0, *, record_every=None) -> SampleTrace:
    r""":math:`V^*_{\hat P}` at every checkpoint (uses no sample)."""
    t0 = time.perf_counter()
    n = len(samples) if isinstance(samples, Transitions) else check_int("samples", samples, 0)
    pts = _checkpoints(n, record_every)
    V = _plan(_as_kernel(P_hat), mdp.R, mdp.gamma, None)
    return _record("model-based (plan in P_hat)", [V] * len(pts), pts, exact_target(mdp), t0)


class MoCoDyna:
    r"""MoCoDyna: sample-based MaxEnt model correction (module docstring).

    Parameters
    ----------
    d : int >= 1
        Basis functions used in each correction.
    c : int >= 0
        Newest value functions kept out of the correction while their expectations are
        estimated (the queue holds ``d + c`` functions).
    reg : float >= 0
        Ridge term of the projection's dual (estimated targets need not be jointly feasible;
        with ``reg = 0`` infeasible pairs are left at :math:`\hat P`).
    plan_every : int >= 1
        Samples between planning steps (each re-corrects with the current estimates).
    basis_every : int >= 1
        Samples between two new basis functions (the latest planned value enters the queue).
    basis_growth : float >= 1
        Factor by which that gap grows after each new function: with ``> 1`` every function is
        estimated from ever more samples before and while it is used, so the estimation
        error of the corrections vanishes.
    omega : float in [0.5, 1]
        Step-size exponent of the expectation estimates (1: running mean).
    basis_rtol : float
        De-duplication threshold of the basis (see
        :func:`~mdptheory.correction.moco_vi.orthonormal_basis`). Larger than MoCoVI's: the
        targets of a direction along which two queued functions differ by a fraction ``e`` of
        their size are estimated from different samples, so their noise is amplified by
        about ``1/e``; directions with ``e < basis_rtol`` are dropped.

    Defaults (ours, chosen on the cliff walk at 2e5 samples, 4 seeds, errors 0.1 / 0.5 / 1):
    ``basis_growth = 1.3`` halves the final error of the constant schedule at low model error;
    ``basis_rtol = 0.1`` keeps ``d = 2, 3`` from the noise amplification above.
    """

    def __init__(self, d: int = 2, *, c: int = 1, reg: float = 1e-3, plan_every: int = 1000,
                 basis_every: int = 2000, basis_growth: float = 1.3, omega: float = 1.0,
                 basis_rtol: float = 0.1):
        self.d = check_int("d", d, 1)
        self.c = check_int("c", c, 0)
        self.reg = check_real("reg", reg, 0.0)
        self.plan_every = check_int("plan_every", plan_every, 1)
        self.basis_every = check_int("basis_every", basis_every, 1)
        self.basis_growth = check_real("basis_growth", basis_growth, 1.0)
        self.omega = check_real("omega", omega, 0.5, 1.0)
        self.basis_rtol = check_real("basis_rtol", basis_rtol, 0.0, 1.0, low_open=True, high_open=True)

    def basis_times(self, n: int) -> np.ndarray:
        """Sample counts at which a new value function enters the queue: gaps
        ``basis_every * basis_growth**k`` (rounded up to a multiple of ``plan_every``)."""
        out, t, gap = [], 0, float(self.basis_every)
        while True:
            step = int(np.ceil(gap / self.plan_every)) * self.plan_every
            t += step
            if t > n:
                return np.array(out, dtype=np.int64)
            out.append(t)
            gap *= self.basis_growth

    def __repr__(self) -> str:
        return (f"MoCoDyna(d={self.d}, c={self.c}, reg={self.reg:g}, plan_every={self.plan_every}, "
                f"basis_every={self.basis_every}, basis_growth={self.basis_growth:g}, omega={self.omega:g})")

    @property
    def name(self) -> str:
        return f"MoCoDyna (d={self.d}, c={self.c})"

    def run(self, mdp: DiscountedMDP, P_hat, samples, seed=0, *, record_every=None,
            progress: bool = False) -> SampleTrace:
        """Run on ``samples`` (a count, drawn with ``seed``, or a :class:`Transitions`
        stream); returns the :class:`SampleTrace` of the planned values."""
        t0 = time.perf_counter()
        if not isinstance(mdp, DiscountedMDP):
            raise TypeError(f"mdp must be a DiscountedMDP, got {type(mdp).__name__}")
        tr = _stream(mdp, samples, seed)
        Ph = _as_kernel(P_hat)
        if Ph.shape != (mdp.S, mdp.A, mdp.S):
            raise ValueError(f"P_hat must have shape {(mdp.S, mdp.A, mdp.S)}, got {Ph.shape}")
        progress = check_bool("progress", progress)
        S, A, g = mdp.S, mdp.A, mdp.gamma
        R = np.asarray(mdp.R)
        pts = _checkpoints(len(tr), record_every)
        events = np.union1d(pts, np.arange(0, len(tr) + 1, self.plan_every))
        new_basis = set(self.basis_times(len(tr)).tolist())
        V = _plan(Ph, R, g, None)
        # queue of [function, counts, estimates], oldest first
        queue = [[V.copy(), np.zeros(S * A, dtype=np.int64), np.zeros(S * A)]]
        vals, n_inf = [V], []
        for lo, hi in _progress(list(zip(events[:-1], events[1:])), progress, self.name):
            pr, nx = tr.pairs[lo:hi], tr.next_states[lo:hi]
            for f, cnt, est in queue:
                sa_average(pr, f[nx], cnt, est, self.omega)
            if hi % self.plan_every == 0:
                V, ninf = self._plan_step(queue, Ph, R, g, S, A)
                n_inf.append(ninf)
                if hi in new_basis:
                    queue.append([V.copy(), np.zeros(S * A, dtype=np.int64), np.zeros(S * A)])
                    if len(queue) > self.d + self.c:
                        queue.pop(0)
            if hi in pts:
                vals.append(V)
        return _record(self.name, vals, pts, exact_target(mdp), t0, n_inf)

    def _plan_step(self, queue, Ph, R, g, S, A):
        mature = queue[:max(0, len(queue) - self.c)]
        window = mature[-self.d:]
        if not window:
            return _plan(Ph, R, g, None), 0
        F = np.column_stack([w[0] for w in window])
        B, T, mean = orthonormal_basis(F, self.basis_rtol)
        if B.shape[1] == 0:
            return _plan(Ph, R, g, None), 0
        est = np.column_stack([w[2] for w in window])            # (S*A, m)
        seen = np.all(np.column_stack([w[1] for w in window]) > 0, axis=1)
        targets = (est - mean) @ T                                # (S*A, r)
        # pairs without data for every function: targets of P_hat itself (no correction)
        targets[~seen] = (Ph.reshape(S * A, S) @ B)[~seen]
        proj = maxent_projection(Ph, B, targets.reshape(S, A, -1), self.reg)
        n_inf = int(np.count_nonzero(proj.status == STATUS_INFEASIBLE))
        return _plan(proj.kernel, R, g, None), n_inf

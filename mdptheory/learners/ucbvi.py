r"""UCBVI-CH / UCBVI-BF (Azar, Osband & Munos 2017, Algorithms 2-4): optimistic value iteration.

HOM transitions, known mean rewards :math:`r\in[0,1]` (N1), ``T = KH``, :math:`L=\ln(5SAT/\delta)`.
Every episode (counts ``n``, :math:`\hat P` pooled over stages, finished episodes only), for
``h = H-1, ..., 0`` with :math:`V_H=0`:

.. math::
    Q_h(x,a)=\min\bigl(Q^{k-1}_h(x,a),\,H,\,r(x,a)+\hat P_{x,a}\cdot V_{h+1}+b_h(x,a)\bigr)
    \quad(\text{Alg. 2; } Q_h(x,a)=H \text{ if } n(x,a)=0),\qquad V_h=\max_a Q_h,

.. math::
    b^{\rm CH}=\frac{7HL}{\sqrt n}\ (\text{Alg. 3}),\qquad
    b^{\rm BF}_h=\sqrt{\frac{8L\,\mathrm{Var}_{\hat P}(V_{h+1})}{n}}+\frac{14HL}{3n}
    +\sqrt{\frac8n\sum_y\hat P(y)\min\Bigl(\frac{10^4H^3S^2AL^2}{N'_{h+1}(y)},H^2\Bigr)}\ (\text{Alg. 4}),

:math:`N'_{h+1}(y)` = earlier visits of ``y`` at time ``h+1`` (time ``H``: final states; the term
is :math:`H^2` while :math:`N'_{h+1}(y)=0`). The defaults (``bonus_scale=1``, ``cap="H"``)
instantiate, w.p. :math:`\ge1-\delta`, Theorem 1 (CH) :math:`20HL'\sqrt{SAT}+250H^2S^2AL'^2`
and Theorem 2 (BF) :math:`30HL'\sqrt{SAK}+2500H^2S^2AL'^2+4H^{3/2}\sqrt{KL'}`, :math:`L'=\ln(5HSAT/\delta)`.

Provenance and reconstructions: proofs_notes/ucbvi.md

References: M. G. Azar, I. Osband, R. Munos, "Minimax Regret Bounds for Reinforcement Learning",
ICML 2017, arXiv:1703.05449.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mdptheory.core.validation import check_choice, check_delta, check_scale
from mdptheory.kernels.sampling import greedy_action, record_regret_det, rollout_det
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound
from mdptheory.learners.resumable import ResumableLoop

__all__ = ["UCBVI", "UCBVIPlan", "ucbvi_plan", "ucbvi_plan_ref"]

_BONUS = {"hoeffding": 0, "bernstein": 1}
_CAP = {"H": 0, "remaining": 1}


@dataclass(frozen=True)
class UCBVIPlan:
    """One episode's optimistic plan: ``Q (H, S, A)``, ``V (H+1, S)`` and the greedy policy
    ``pi (H, S)`` (lowest index on ties). Unpacks as ``Q, V, pi``."""

    Q: np.ndarray
    V: np.ndarray
    pi: np.ndarray

    def __iter__(self):
        return iter((self.Q, self.V, self.pi))


def ucbvi_plan_ref(N, n, m, Rk, H, bonus, scale, L, c3, Qprev, cap="H") -> UCBVIPlan:
    """One episode's plan (Alg. 2 with the bonus of Alg. 3 or 4), vectorised over ``(x, a)``:
    the plain twin of :func:`ucbvi_plan`. ``Qprev`` is not modified (the caller replaces it
    by the returned ``Q``).

    ``N (S, A, S)`` transition counts, ``n (S, A)`` their row sums, ``m (H+1, S)`` visits of
    each state at each time, ``Rk (HR, S, A)`` known mean rewards, ``bonus`` in
    ``{"hoeffding", "bernstein"}``, ``L = ln(5SAT/delta)``, ``c3 = 1e4 H^3 S^2 A L^2``."""
    S, A = n.shape
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    visited = n > 0
    cnt = np.where(visited, n, 1.0)
    Phat = N / cnt[:, :, None]
    for h in range(H - 1, -1, -1):
        Vn = V[h + 1]
        mean = Phat @ Vn
        if bonus == "hoeffding":
            b = 7.0 * H * L / np.sqrt(cnt)                                   # Alg. 3
        else:                                                                # Alg. 4
            var = np.maximum(Phat @ (Vn * Vn) - mean * mean, 0.0)
            mm = m[h + 1]                      # N'_{k,h+1}; m[H] = visits of final states
            t = np.full(S, float(H * H))
            pos = mm > 0
            t[pos] = np.minimum(c3 / mm[pos], H * H)
            third = np.sqrt(8.0 * (Phat @ t) / cnt)
            b = np.sqrt(8.0 * L * var / cnt) + 14.0 * H * L / (3.0 * cnt) + third
        Rh = Rk[h if Rk.shape[0] > 1 else 0]
        ch = float(H) if cap == "H" else float(H - h)
        q = np.minimum(np.minimum(Rh + mean + scale * b, ch), Qprev[h])     # Alg. 2
        Q[h] = np.where(visited, q, ch)
        V[h] = Q[h].max(axis=1)
    return UCBVIPlan(Q, V, Q.argmax(axis=2).astype(np.int64))


class UCBVI(Learner):
    r"""UCBVI-CH / UCBVI-BF of Azar, Osband & Munos (2017); see the module docstring.

    Parameters
    ----------
    bonus : {"hoeffding", "bernstein"}, default "bernstein"
        ``"hoeffding"`` = UCBVI-CH (Theorem 1), ``"bernstein"`` = UCBVI-BF (Theorem 2).
    delta : float in (0, 1), default 0.01
        Confidence parameter of :math:`L=\ln(5SAT/\delta)`.
    bonus_scale : float >= 0, default 1.0
        Multiplies the bonus; 1 is theory mode, the only mode comparable with :meth:`bound`
        (0 = plan on the empirical model without bonus).
    cap : {"H", "remaining"}, default "H"
        Optimistic values are capped at ``H`` (the paper) or at the remaining horizon
        ``H - h`` (0-based stage ``h``; still optimistic since :math:`Q^*_h\le H-h` under N1).
        With the cap ``H`` and lowest-index ties, all capped actions tie and the learner
        plays action 0 until the bonuses fall below ``H``.

    Notes
    -----
    N1; HOM transitions (a stage-dependent ``P`` is rejected: augment the state with the
    stage); the mean rewards are known (read from the MDP in :meth:`prepare`) and may depend
    on the stage. Replans every episode: :math:`O(HS^2A)` per episode, memory
    :math:`O(S^2A+HSA)`.
    """

    name = "UCBVI"
    normalization = "N1"
    homogeneous = "P"

    def __init__(self, bonus: str = "bernstein", *, delta: float = 0.01, bonus_scale: float = 1.0,
                 cap: str = "H"):
        self.bonus = check_choice("bonus", bonus, _BONUS)
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.cap = check_choice("cap", cap, _CAP)

    @property
    def name_variant(self) -> str:
        return "UCBVI-CH" if self.bonus == "hoeffding" else "UCBVI-BF"

    def prepare(self, mdp, episodes):
        super().prepare(mdp, episodes)
        self._Rk = np.ascontiguousarray(mdp.R if mdp.R.ndim == 3 else mdp.R[None], dtype=np.float64)

    def _constants(self, S, A, H, K):
        """``L = ln(5SAT/delta)`` (Algs. 3-4) and the BF constant ``100^2 H^3 S^2 A L^2``."""
        L = math.log(5.0 * S * A * (K * H) / self.delta)
        return L, 1e4 * H ** 3 * S ** 2 * A * L ** 2

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._L, self._c3 = self._constants(S, A, H, self._K)
        self._N = np.zeros((S, A, S))
        self._n = np.zeros((S, A))
        self._m = np.zeros((H + 1, S))
        caps = np.full(H, float(H)) if self.cap == "H" else H - np.arange(H, dtype=float)
        self._Qprev = np.repeat(caps[:, None, None], S * A, axis=1).reshape(H, S, A)
        self._traj = []

    def begin_episode(self, k):
        # replan every episode (the paper has no lazy update)
        self._Q, self._V, self._pi = ucbvi_plan_ref(self._N, self._n, self._m, self._Rk, self._H, self.bonus,
                                                    self.bonus_scale, self._L, self._c3, self._Qprev, self.cap)
        self._Qprev = self._Q
        self._traj = []

    def observe(self, h, s, a, r, s_next):
        self._traj.append((h, s, a, s_next))

    def end_episode(self):
        # counts of finished episodes only; m[h, x] = N'_{k,h}(x), m[H] = final states
        for h, s, a, s2 in self._traj:
            self._N[s, a, s2] += 1.0
            self._n[s, a] += 1.0
            self._m[h, s] += 1.0
        self._m[self._H, self._traj[-1][3]] += 1.0

    def compiled(self, mdp, episodes):
        L, c3 = self._constants(mdp.S, mdp.A, mdp.H, int(episodes))
        return CompiledLoop(_ucbvi_loop, (int(mdp.H), _BONUS[self.bonus], self.bonus_scale, L, c3,
                                          _CAP[self.cap], self._Rk))

    def resumable(self, mdp, episodes) -> ResumableLoop:
        """The compiled loop split into ``init`` and ``chunk`` with the state outside the loop
        (same parameters and draws as :meth:`compiled`; called after :meth:`prepare`)."""
        return ResumableLoop(_ucbvi_init, _ucbvi_chunk, self.compiled(mdp, episodes).params, UCBVI_STATE)

    def bound(self, S, A, H, K, delta=None):
        r"""Theorem 1 (CH) / Theorem 2 (BF) of Azar et al. 2017, explicit constants, N1, HOM,
        w.p. :math:`\ge 1-\delta`; :math:`L'=\ln(5HSAT/\delta)`, :math:`T=KH`."""
        K, delta = self._bound_args(S, A, H, K, delta)
        T = K * H
        Lp = np.log(5.0 * H * S * A * T / delta)
        if self.bonus == "hoeffding":
            lead = 20.0 * H * Lp * np.sqrt(S * A * T)
            low = 250.0 * H ** 2 * S ** 2 * A * Lp ** 2
            thm = "Azar, Osband & Munos 2017, Theorem 1 (UCBVI-CH)"
        else:
            lead = 30.0 * H * Lp * np.sqrt(S * A * K)
            low = 2500.0 * H ** 2 * S ** 2 * A * Lp ** 2 + 4.0 * H ** 1.5 * np.sqrt(K * Lp)
            thm = "Azar, Osband & Munos 2017, Theorem 2 (UCBVI-BF)"
        return regret_bound(lead, low, H=H, K=K, normalization="N1", setting="HOM", theorem=thm,
                            explicit_constants=True, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def ucbvi_plan(N, n, m, Rk, H, bonus, scale, L, c3, cap, succ, nsucc, Qprev, Q, V, pi):
    """Compiled twin of :func:`ucbvi_plan_ref`, loops over ``(x, a)`` and the observed
    successors only: ``succ[x, a, :nsucc[x, a]]`` lists the ``y`` with ``N[x, a, y] > 0``, so
    a backup costs O(observed successors), not O(S). Integer codes ``bonus`` (0 = CH,
    1 = BF) and ``cap`` (0 = ``H``, 1 = ``H - h``). Writes ``Q, V, pi`` and ``Qprev <- Q``."""
    S, A = n.shape
    Hf = float(H)
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        hr = h if Rk.shape[0] > 1 else 0
        ch = Hf if cap == 0 else float(H - h)
        for x in range(S):
            for a in range(A):
                cnt = n[x, a]
                if cnt == 0.0:
                    q = ch                      # Alg. 2: Q_h(x, a) = H for unvisited pairs
                else:
                    mean = 0.0
                    sq = 0.0
                    ns = nsucc[x, a]
                    for j in range(ns):
                        y = succ[x, a, j]
                        w = N[x, a, y]
                        vy = V[h + 1, y]
                        mean += w * vy
                        sq += w * vy * vy
                    mean /= cnt
                    if bonus == 0:
                        # UCBVI-CH (Alg. 3): b = 7 H L / sqrt(n)
                        b = 7.0 * Hf * L / math.sqrt(cnt)
                    else:
                        # UCBVI-BF (Alg. 4): sqrt(8 L Var_P^(V_{h+1}) / n) + 14 H L / (3 n)
                        #   + sqrt(8 sum_y P^(y) min(1e4 H^3 S^2 A L^2 / m_{h+1}(y), H^2) / n)
                        var = sq / cnt - mean * mean
                        if var < 0.0:
                            var = 0.0
                        # m[h+1, y]: earlier visits of y at (0-based) time h+1, h+1 = H being
                        # the final state of an episode (N'_{k,h+1}(y) of the paper)
                        acc = 0.0
                        for j in range(ns):
                            y = succ[x, a, j]
                            w = N[x, a, y]
                            my = m[h + 1, y]
                            t = Hf * Hf
                            if my > 0.0:
                                t2 = c3 / my
                                if t2 < t:
                                    t = t2
                            acc += (w / cnt) * t
                        third = math.sqrt(8.0 * acc / cnt)
                        b = math.sqrt(8.0 * L * var / cnt) + 14.0 * Hf * L / (3.0 * cnt) + third
                    # Alg. 2: Q = min(Q_prev, H, r + P^ V_{h+1} + b)  (monotone in k)
                    q = Rk[hr, x, a] + mean + scale * b
                    if q > ch:
                        q = ch
                    if Qprev[h, x, a] < q:
                        q = Qprev[h, x, a]
                Q[h, x, a] = q
                Qprev[h, x, a] = q
            pi[h, x], V[h, x] = greedy_action(Q, h, x)


@njit(cache=True, nogil=True)
def count_transitions(xs, acts, N, n, m, succ, nsucc):
    """In place: a finished episode's transitions ``(xs[h], acts[h], xs[h+1])`` into the
    counts ``N (S, A, S)``, ``n (S, A)``, the state-visit counts ``m (H+1, S)`` and the
    observed-successor lists ``succ`` / ``nsucc`` (a new successor is appended)."""
    H = acts.shape[0]
    for h in range(H):
        x, a, y = xs[h], acts[h], xs[h + 1]
        if N[x, a, y] == 0.0:
            succ[x, a, nsucc[x, a]] = y
            nsucc[x, a] += 1
        N[x, a, y] += 1.0
        n[x, a] += 1.0
        m[h, x] += 1.0
    m[H, xs[H]] += 1.0


#: Names of the arrays of :func:`_ucbvi_init` (the checkpoint of a resumable run).
UCBVI_STATE = ("N", "n", "m", "succ", "nsucc", "Qprev", "Q", "V", "Vb", "pi", "xs", "acts")


@njit(cache=True, nogil=True)
def _ucbvi_init(S, A, params):
    """The learner's state before episode 0, as a tuple of arrays (names in :data:`UCBVI_STATE`):
    counts, successor lists, the monotone ``Qprev`` and the work buffers."""
    H = params[0]
    cap = params[5]
    Qprev = np.full((H, S, A), float(H))
    if cap == 1:
        for h in range(H):
            Qprev[h] = float(H - h)
    return (np.zeros((S, A, S)), np.zeros((S, A)), np.zeros((H + 1, S)),
            np.zeros((S, A, S), dtype=np.int64), np.zeros((S, A), dtype=np.int64), Qprev,
            np.zeros((H, S, A)), np.zeros((H + 1, S)), np.zeros((H + 1, S)),
            np.zeros((H, S), dtype=np.int64), np.zeros(H + 1, dtype=np.int64), np.zeros(H, dtype=np.int64))


@njit(cache=True, nogil=True)
def _ucbvi_chunk(P, R, initial, noise, noise_std, v_star, k0, k1, eval_every, rng, params, state,
                 regret_out, returns_out):
    """Episodes ``k0 .. k1-1`` of one seed from ``state`` (updated in place); episode ``k`` is
    written to ``regret_out[k - k0]`` / ``returns_out[k - k0]``."""
    H, bonus, scale, L, c3, cap, Rk = params
    N, n, m, succ, nsucc, Qprev, Q, V, Vb, pi, xs, acts = state
    rs = np.empty(H)
    for k in range(k0, k1):
        ucbvi_plan(N, n, m, Rk, H, bonus, scale, L, c3, cap, succ, nsucc, Qprev, Q, V, pi)
        if eval_every > 0 and k % eval_every == 0:
            record_regret_det(k - k0, 1, P, R, initial, v_star, pi, Vb, regret_out)
        returns_out[k - k0] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        count_transitions(xs, acts, N, n, m, succ, nsucc)


@njit(cache=True, nogil=True)
def _ucbvi_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed: :func:`_ucbvi_init` then one :func:`_ucbvi_chunk`."""
    state = _ucbvi_init(P.shape[1], P.shape[2], params)
    _ucbvi_chunk(P, R, initial, noise, noise_std, v_star, 0, K, eval_every, rng, params, state,
                 regret_out, returns_out)

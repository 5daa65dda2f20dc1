r"""UCBVI (Azar, Osband & Munos, ICML 2017, "Minimax Regret Bounds for Reinforcement
Learning", arXiv 1703.05449): upper-confidence value iteration with the Chernoff-Hoeffding
(UCBVI-CH, Algorithm 3) or Bernstein-Freedman (UCBVI-BF, Algorithm 4) bonus.

Setting (the paper's): time-homogeneous transitions (HOM), known deterministic mean rewards
:math:`r(x,a)\in[0,1]` (N1), ``K`` episodes, ``T = KH`` steps. Per episode ``k`` (replan
every episode, counts pooled over all stages of finished episodes):

.. math::
    Q_h(x,a) = \min\Bigl(Q^{k-1}_h(x,a),\ H,\ r(x,a) + \hat P(\cdot|x,a)\cdot V_{h+1}
               + b_h(x,a)\Bigr),\qquad V_h(x)=\max_a Q_h(x,a),

with :math:`Q_h(x,a)=H` for unvisited pairs, :math:`L=\ln(5SAT/\delta)` and

* CH: :math:`b(x,a) = 7HL/\sqrt{n(x,a)}`;
* BF: :math:`b_h(x,a)=\sqrt{8L\,\mathrm{Var}_{\hat P}(V_{h+1})/n}+\frac{14HL}{3n}
  +\sqrt{8\sum_y\hat P(y)\min(10^4H^3S^2AL^2/m_{h+1}(y),\,H^2)/n}`, where
  :math:`m_{h+1}(y)` counts finished-episode visits of ``y`` at time ``h+1`` (the paper's
  :math:`N'_{k,h+1}(y)`; at the last stage the time ``H+1`` state, i.e. the final state of
  an episode; the term is :math:`H^2` when :math:`m_{h+1}(y)=0`).

Provenance (``proofs_notes/ucbvi.md``). **Paper** (tagged [V] in ``regret_algorithms.md``
section 1, and re-checked in the issue-4 review against the formal restatement of
Algorithms 1-4 and Theorems 1-2 in ``prove2me/formalpedia``, which cites arXiv 1703.05449v2
pp. 2-5 and p. 14): the update with the ``min`` over the previous episode's ``Q`` and
``H``, ``Q = H`` for unvisited pairs, the log term :math:`L`, the CH constant 7, the three
BF terms with constants :math:`8,\ 14/3,\ 8,\ 10^4=100^2`, the use of the current episode's
:math:`V_{h+1}` in the variance, the time-indexed visit counts :math:`N'_{k,h}` for
``h = 1..H+1`` (so the third BF term is present at the last stage too, with the counts of
the final states), and both theorems with their constants. **Ours** (choices):
``bonus_scale`` multiplies the whole bonus (1 = theory mode); ``cap="remaining"`` is an
option (default: the paper's ``H``); ties go to the lowest action. Rewards: the paper's are known and deterministic; on an
MDP with random rewards the learner uses the known *means* (read in :meth:`UCBVI.prepare`),
and regret is defined through the means, so the theorem still applies.

Bounds (``bound``): Theorem 1 (CH) :math:`20HL'\sqrt{SAT}+250H^2S^2AL'^2`, Theorem 2 (BF)
:math:`30HL'\sqrt{SAK}+2500H^2S^2AL'^2+4H^{3/2}\sqrt{KL'}`, :math:`L'=\ln(5HSAT/\delta)`,
with probability at least :math:`1-\delta`, N1 scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import categorical, env_step, record_regret_det
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, _as_K, _check_dims

__all__ = ["UCBVI", "UCBVIPlan", "ucbvi_plan_ref"]

_BONUS = {"hoeffding": 0, "bernstein": 1}


def _is_real(x) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float, np.integer, np.floating))


@njit(cache=True, nogil=True)
def _plan(N, n, m, Rk, H, bonus, scale, L, c3, cap, succ, nsucc, Qprev, Q, V, pi):
    """Optimistic backward induction (one episode's plan); writes Q, V, pi; Qprev <- Q.

    ``succ[x, a, :nsucc[x, a]]`` lists the observed successors of ``(x, a)`` (the only
    ``y`` with ``N[x, a, y] > 0``), so each backup costs O(observed successors), not O(S)."""
    S, A = n.shape
    Hf = float(H)
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        hr = h if Rk.shape[0] > 1 else 0
        ch = Hf if cap == 0 else float(H - h)
        for x in range(S):
            best = -np.inf
            arg = 0
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
                if q > best:
                    best = q
                    arg = a
            V[h, x] = best
            pi[h, x] = arg


@njit(cache=True, nogil=True)
def _ucbvi_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
                regret_out, returns_out):
    H, bonus, scale, L, c3, cap, Rk = params
    S = P.shape[1]
    A = P.shape[2]
    N = np.zeros((S, A, S))
    n = np.zeros((S, A))
    m = np.zeros((H + 1, S))
    succ = np.zeros((S, A, S), dtype=np.int64)
    nsucc = np.zeros((S, A), dtype=np.int64)
    Qprev = np.full((H, S, A), float(H))
    if cap == 1:
        for h in range(H):
            Qprev[h] = float(H - h)
    Q = np.empty((H, S, A))
    V = np.empty((H + 1, S))
    Vb = np.empty((H + 1, S))
    pi = np.empty((H, S), dtype=np.int64)
    xs = np.empty(H + 1, dtype=np.int64)
    acts = np.empty(H, dtype=np.int64)
    for k in range(K):
        _plan(N, n, m, Rk, H, bonus, scale, L, c3, cap, succ, nsucc, Qprev, Q, V, pi)
        record_regret_det(k, eval_every, P, R, initial, v_star, pi, Vb, regret_out)
        s = categorical(rng, initial)
        G = 0.0
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            G += r
            xs[h] = s
            acts[h] = a
            s = s2
        xs[H] = s
        returns_out[k] = G
        for h in range(H):
            x, a, y = xs[h], acts[h], xs[h + 1]
            if N[x, a, y] == 0.0:
                succ[x, a, nsucc[x, a]] = y
                nsucc[x, a] += 1
            N[xs[h], acts[h], xs[h + 1]] += 1.0
            n[xs[h], acts[h]] += 1.0
            m[h, xs[h]] += 1.0
        m[H, xs[H]] += 1.0


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
    """Plain-numpy twin of the compiled planning step (Azar et al. 2017, Alg. 2 with the
    bonus of Alg. 3 or 4); returns a :class:`UCBVIPlan` (``Qprev`` is not modified; the
    caller replaces it by ``Q``).

    ``N (S, A, S)`` transition counts, ``n (S, A)`` their row sums, ``m (H+1, S)`` visits of
    each state at each stage, ``Rk (HR, S, A)`` known mean rewards, ``bonus`` in
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
            b = 7.0 * H * L / np.sqrt(cnt)
        else:
            var = np.maximum(Phat @ (Vn * Vn) - mean * mean, 0.0)
            mm = m[h + 1]                      # N'_{k,h+1}; m[H] = visits of final states
            t = np.full(S, float(H * H))
            pos = mm > 0
            t[pos] = np.minimum(c3 / mm[pos], H * H)
            third = np.sqrt(8.0 * (Phat @ t) / cnt)
            b = np.sqrt(8.0 * L * var / cnt) + 14.0 * H * L / (3.0 * cnt) + third
        Rh = Rk[h if Rk.shape[0] > 1 else 0]
        ch = float(H) if cap == "H" else float(H - h)
        q = np.minimum(np.minimum(Rh + mean + scale * b, ch), Qprev[h])
        Q[h] = np.where(visited, q, ch)
        V[h] = Q[h].max(axis=1)
    return UCBVIPlan(Q, V, Q.argmax(axis=2).astype(np.int64))


class UCBVI(Learner):
    r"""UCBVI-CH / UCBVI-BF of Azar, Osband & Munos (2017); see the module docstring.

    Parameters
    ----------
    bonus : {"hoeffding", "bernstein"}
        ``"hoeffding"`` = UCBVI-CH (Theorem 1), ``"bernstein"`` = UCBVI-BF (Theorem 2).
    delta : float in (0, 1)
        Confidence parameter of :math:`L=\ln(5SAT/\delta)`.
    bonus_scale : float > 0
        Multiplies the bonus; 1.0 (default) is theory mode, the only mode comparable with
        :meth:`bound`.
    cap : {"H", "remaining"}
        Optimistic values are capped at ``H`` (the paper) or at the remaining horizon
        ``H - h`` (0-based stage ``h``; tighter, still optimistic since
        :math:`Q^*_h\le H-h` under N1 -- a documented variant, not the paper's rule). With
        the paper's cap and lowest-index tie-breaking, all capped actions tie and the
        learner plays action 0 until the bonuses fall below ``H``.

    Notes
    -----
    Normalisation N1 (per-step rewards in [0, 1]); HOM transitions (a stage-dependent ``P``
    is rejected: augment the state with the stage instead). The mean rewards are *known*
    (read from the MDP in :meth:`prepare`), as in the paper. Cost per episode
    :math:`O(HS^2A)`, memory :math:`O(S^2A+HSA)`.
    """

    name = "UCBVI"
    normalization = "N1"

    def __init__(self, bonus: str = "bernstein", delta: float = 0.05, bonus_scale: float = 1.0,
                 cap: str = "H"):
        if bonus not in _BONUS:
            raise ValueError(f"bonus must be 'hoeffding' or 'bernstein', got {bonus!r}")
        if not _is_real(delta) or not (0.0 < float(delta) < 1.0):
            raise ValueError(f"delta must be in (0, 1), got {delta!r}")
        if not _is_real(bonus_scale) or not (float(bonus_scale) > 0.0 and math.isfinite(float(bonus_scale))):
            raise ValueError(f"bonus_scale must be a finite number > 0, got {bonus_scale!r}")
        if cap not in ("H", "remaining"):
            raise ValueError(f"cap must be 'H' or 'remaining', got {cap!r}")
        self.bonus = bonus
        self.cap = cap
        self.delta = float(delta)
        self.bonus_scale = float(bonus_scale)

    @property
    def name_variant(self) -> str:
        return "UCBVI-CH" if self.bonus == "hoeffding" else "UCBVI-BF"

    def prepare(self, mdp, episodes):
        super().prepare(mdp, episodes)
        if mdp.stage_dependent_P:
            raise ValueError(
                "UCBVI assumes time-homogeneous transitions (HOM) but the MDP has a "
                "stage-dependent P; augment the state with the stage index (S -> S*H)"
            )
        self._Rk = np.ascontiguousarray(mdp.R if mdp.R.ndim == 3 else mdp.R[None], dtype=np.float64)

    def _constants(self, S, A, H, K):
        """``L = ln(5SAT/delta)`` (Alg. 3/4) and the BF constant ``100^2 H^3 S^2 A L^2``."""
        T = K * H
        L = math.log(5.0 * S * A * T / self.delta)
        c3 = 1e4 * H ** 3 * S ** 2 * A * L ** 2
        return L, c3

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._L, self._c3 = self._constants(S, A, H, self._K)
        self._N = np.zeros((S, A, S))
        self._n = np.zeros((S, A))
        self._m = np.zeros((H + 1, S))
        self._Qprev = np.full((H, S, A), float(H))
        if self.cap == "remaining":
            self._Qprev = np.repeat((H - np.arange(H, dtype=float))[:, None, None], S * A, axis=1).reshape(H, S, A)
        self._traj = []

    def begin_episode(self, k):
        # replan every episode (the paper has no lazy update)
        Q, V, pi = ucbvi_plan_ref(self._N, self._n, self._m, self._Rk, self._H, self.bonus,
                                  self.bonus_scale, self._L, self._c3, self._Qprev, self.cap)
        self._Qprev = Q
        self._Q, self._V, self._pi = Q, V, pi
        self._traj = []

    def policy(self):
        return self._pi

    def act(self, h, s):
        return int(self._pi[h, s])

    def observe(self, h, s, a, r, s_next):
        self._traj.append((h, s, a, s_next))

    def end_episode(self):
        for h, s, a, s2 in self._traj:
            self._N[s, a, s2] += 1.0
            self._n[s, a] += 1.0
            self._m[h, s] += 1.0
        self._m[self._H, self._traj[-1][3]] += 1.0

    def compiled(self, mdp, episodes):
        L, c3 = self._constants(mdp.S, mdp.A, mdp.H, int(episodes))
        return CompiledLoop(_ucbvi_loop, (int(mdp.H), _BONUS[self.bonus], self.bonus_scale, L, c3,
                                          0 if self.cap == "H" else 1, self._Rk))

    def bound(self, S, A, H, K, delta=None):
        r"""Theorem 1 (CH) / Theorem 2 (BF) of Azar et al. 2017, explicit constants, N1, HOM,
        w.p. :math:`\ge 1-\delta`; :math:`L'=\ln(5HSAT/\delta)`, :math:`T=KH`."""
        delta = self.delta if delta is None else delta
        _check_dims(S, A, H, delta)
        K = _as_K(K)
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
        return RegretBound(value=lead + low, leading=lead, lower_order=low, normalization="N1",
                           setting="HOM", theorem=thm, explicit_constants=True,
                           holds_with_probability=1.0 - float(delta))

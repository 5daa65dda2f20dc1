r"""Optimistic Q-learning with UCB-Hoeffding / UCB-Bernstein bonuses (Jin et al. 2018, Algs. 1-2).

INHOM (per-stage counts), rewards in [0, 1] (N1), model-free, memory :math:`O(SAH)`. Start
with :math:`Q_h=V_h=H`, :math:`V_H=0`, :math:`\iota=\ln(SAT/\delta)`. At step ``h`` in state
``x``, with ``a`` greedy for :math:`Q_h(x,\cdot)` (lowest index on ties), after ``r, x'``:

.. math::
    t=N_h(x,a)\leftarrow N_h(x,a)+1,\quad\alpha_t=\frac{H+1}{H+t},\quad
    Q_h(x,a)\leftarrow(1-\alpha_t)Q_h(x,a)+\alpha_t\bigl(r+V_{h+1}(x')+b_t\bigr),\quad
    V_h(x)\leftarrow\min\bigl(H,\max_{a'}Q_h(x,a')\bigr);

* Hoeffding (Algorithm 1): :math:`b_t=c\sqrt{H^3\iota/t}`;
* Bernstein (Algorithm 2): :math:`W_t` = empirical variance of the next values
  :math:`V_{h+1}(x')` as stored at the ``t`` visits,
  :math:`\beta_t=\min\{c_1(\sqrt{\tfrac Ht(W_t+H)\iota}+\sqrt{H^7SA}\,\iota/t),\,c_2\sqrt{H^3\iota/t}\}`,
  :math:`b_t=(\beta_t-(1-\alpha_t)\beta_{t-1})/(2\alpha_t)`.

The defaults (``c = c1 = c2 = 1``, ``bonus_scale=1``, ``cap="H"``) instantiate, w.p.
:math:`1-\delta` and up to absolute constants, Theorem 1, :math:`O(H^2SA+\sqrt{H^4SAT\iota})`,
and Theorem 2, :math:`O(\sqrt{H^3SAT\iota^2}+\sqrt{H^9S^3A^3}\,\iota^2)`; the step-size
weights obey Lemma 4.1 (:func:`learning_rate_weights`).

Provenance and reconstructions: proofs_notes/optimistic_q.md

References: C. Jin, Z. Allen-Zhu, S. Bubeck, M. I. Jordan, "Is Q-learning Provably
Efficient?", NeurIPS 2018, arXiv:1807.03765.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_choice, check_delta, check_int, check_scale
from mdptheory.kernels.sampling import greedy_action, init_at_cap, record_regret_det_incremental, rollout_det
from mdptheory.learners.base import CompiledLoop, Learner, regret_bound

__all__ = ["OptimisticQLearning", "learning_rate", "learning_rate_weights"]

_BONUS = {"hoeffding": 0, "bernstein": 1}
_CAP = {"H": 0, "remaining": 1}


def learning_rate(H: int, t) -> np.ndarray:
    r""":math:`\alpha_t=(H+1)/(H+t)` for visit counts ``t >= 1`` (Jin et al. 2018, Section 3;
    :math:`\alpha_1=1`)."""
    H = check_int("H", H, 1)
    t = np.asarray(t, dtype=float)
    if np.any(~(t >= 1)):
        raise ValueError(f"visit counts t must be >= 1, got {t!r}")
    return (H + 1.0) / (H + t)


def learning_rate_weights(H: int, t: int) -> np.ndarray:
    r"""Weights :math:`\alpha_t^0=\prod_{j=1}^t(1-\alpha_j)` and
    :math:`\alpha_t^i=\alpha_i\prod_{j=i+1}^t(1-\alpha_j)`, ``i = 0..t`` (index ``i``).

    After ``t`` visits :math:`Q=\alpha_t^0 H+\sum_{i=1}^t\alpha_t^i(r_i+V(x'_i)+b_i)`.
    Jin et al. 2018, Lemma 4.1: :math:`\sum_{i=1}^t\alpha_t^i=1`,
    :math:`\max_i\alpha_t^i\le 2H/t`, :math:`\sum_i(\alpha_t^i)^2\le2H/t`,
    :math:`\sum_{t\ge i}\alpha_t^i=1+1/H` and
    :math:`1/\sqrt t\le\sum_i\alpha_t^i/\sqrt i\le2/\sqrt t`."""
    H = check_int("H", H, 1)
    t = check_int("t", t, 0)
    alpha = (H + 1.0) / (H + np.arange(1, t + 1, dtype=float))
    # suffix products of (1 - alpha_j), j = i+1..t
    suffix = np.ones(t + 1)
    suffix[:t] = np.cumprod((1.0 - alpha)[::-1])[::-1]
    w = np.empty(t + 1)
    w[0] = suffix[0]
    w[1:] = alpha * suffix[1:]
    return w


class OptimisticQLearning(Learner):
    r"""Q-learning with UCB-Hoeffding or UCB-Bernstein exploration (Jin et al. 2018); see the
    module docstring.

    Parameters
    ----------
    bonus : {"hoeffding", "bernstein"}, default "hoeffding"
        Algorithm 1 (Theorem 1) or Algorithm 2 (Theorem 2).
    delta : float in (0, 1), default 0.01
        Failure probability ``p`` in :math:`\iota=\ln(SAT/p)`.
    c, c1, c2 : float >= 0, default 1.0
        The paper's absolute constants (not specified there: 1 is a reconstruction).
    bonus_scale : float >= 0, default 1.0
        Multiplies the bonus ``b_t`` (1 = the constants above; 0 = no exploration bonus).
    cap : {"H", "remaining"}, default "H"
        Initial values and the cap of :math:`V_h` are ``H`` (the paper) or the remaining
        horizon ``H - h`` (0-based; a tighter optimistic variant).

    Notes
    -----
    N1; INHOM (per-stage counts; a stationary MDP is simply not pooled across stages).
    :math:`Q_h` changes only at step ``h``, after acting there, so the policy played in an
    episode is the greedy policy of the Q-table at its start (:meth:`policy`). Cost
    :math:`O(A)` per step plus the engine's :math:`O(HS^2)` exact evaluation per evaluated
    episode.
    """

    name = "OptQL"
    normalization = "N1"

    def __init__(self, bonus: str = "hoeffding", *, delta: float = 0.01, c: float = 1.0,
                 c1: float = 1.0, c2: float = 1.0, bonus_scale: float = 1.0, cap: str = "H"):
        self.bonus = check_choice("bonus", bonus, _BONUS)
        self.delta = check_delta(delta)
        self.c = check_scale("c", c)
        self.c1 = check_scale("c1", c1)
        self.c2 = check_scale("c2", c2)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        self.cap = check_choice("cap", cap, _CAP)

    def _iota(self, S, A, H, K):
        return math.log(S * A * K * H / self.delta)

    def _top(self, H, h):
        return float(H) if self.cap == "H" else float(H - h)

    def reset(self, S, A, H, rng):
        super().reset(S, A, H, rng)
        self._iota_v = self._iota(S, A, H, self._K)
        caps = np.array([self._top(H, h) for h in range(H)])
        self._Q = np.repeat(caps[:, None, None], S * A, axis=1).reshape(H, S, A).copy()
        self._V = np.zeros((H + 1, S))
        self._V[:H] = caps[:, None]
        self._N = np.zeros((H, S, A))
        self._Ms = np.zeros((H, S, A))       # Bernstein: running sums of the stored V_{h+1}(x')
        self._M2s = np.zeros((H, S, A))      # ... and of their squares
        self._bprev = np.zeros((H, S, A))    # beta_{t-1}
        self._greedy = np.zeros((H, S), dtype=np.int64)

    def begin_episode(self, k):
        # the played policy: greedy at the start of the episode (a copy: the update at step h
        # changes the greedy action of stage h for the *next* episode only)
        self._pi = self._greedy.copy()

    def observe(self, h, s, a, r, s_next):
        H = self._H
        self._N[h, s, a] += 1.0
        t = self._N[h, s, a]
        alpha = (H + 1.0) / (H + t)                                  # alpha_t = (H+1)/(H+t)
        vnext = self._V[h + 1, s_next]
        if self.bonus == "hoeffding":
            b = self.c * math.sqrt(float(H) ** 3 * self._iota_v / t)   # Alg. 1
        else:                                                        # Alg. 2
            self._Ms[h, s, a] += vnext
            self._M2s[h, s, a] += vnext * vnext
            mu = self._Ms[h, s, a] / t
            W = max(self._M2s[h, s, a] / t - mu * mu, 0.0)
            b1 = self.c1 * (math.sqrt(H / t * (W + H) * self._iota_v)
                            + math.sqrt(float(H) ** 7 * self._S * self._A) * self._iota_v / t)
            b2 = self.c2 * math.sqrt(float(H) ** 3 * self._iota_v / t)
            beta = min(b1, b2)
            b = (beta - (1.0 - alpha) * self._bprev[h, s, a]) / (2.0 * alpha)
            self._bprev[h, s, a] = beta
        # old value weighted 1 - alpha_t, target alpha_t (Algs. 1 and 2)
        self._Q[h, s, a] = (1.0 - alpha) * self._Q[h, s, a] + alpha * (r + vnext + self.bonus_scale * b)
        self._greedy[h, s] = int(np.argmax(self._Q[h, s]))
        self._V[h, s] = min(self._top(H, h), float(self._Q[h, s].max()))

    def compiled(self, mdp, episodes):
        iota = self._iota(mdp.S, mdp.A, mdp.H, int(episodes))
        return CompiledLoop(_optq_loop, (int(mdp.H), _BONUS[self.bonus], self.bonus_scale, iota,
                                         self.c, self.c1, self.c2, _CAP[self.cap]))

    def bound(self, S, A, H, K, delta=None):
        r"""Jin et al. 2018: Theorem 1 (Hoeffding) :math:`H^2SA+\sqrt{H^4SAT\iota}`, Theorem 2
        (Bernstein) :math:`\sqrt{H^3SAT\iota^2}+\sqrt{H^9S^3A^3}\,\iota^2`, :math:`T=KH`,
        :math:`\iota=\ln(SAT/\delta)`. The paper proves these up to an unspecified absolute
        constant (set to 1 here: ``explicit_constants=False``). N1, INHOM."""
        K, delta = self._bound_args(S, A, H, K, delta)
        T = K * H
        iota = np.log(S * A * T / delta)
        if self.bonus == "hoeffding":
            lead = np.sqrt(H ** 4 * S * A * T * iota)
            low = float(H ** 2 * S * A) + 0.0 * lead
            thm = "Jin, Allen-Zhu, Bubeck & Jordan 2018, Theorem 1 (UCB-Hoeffding), O(.)"
        else:
            lead = np.sqrt(H ** 3 * S * A * T * iota ** 2)
            low = np.sqrt(float(H) ** 9 * S ** 3 * A ** 3) * iota ** 2
            thm = "Jin, Allen-Zhu, Bubeck & Jordan 2018, Theorem 2 (UCB-Bernstein), O(.)"
        return regret_bound(lead, low, H=H, K=K, normalization="N1", setting="INHOM", theorem=thm,
                            explicit_constants=False, delta=delta)


# ------------------------------------------------------------------------------ compiled twin (numba)


@njit(cache=True, nogil=True)
def _optq_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params,
               regret_out, returns_out):
    H, bonus, scale, iota, c, c1, c2, cap = params
    S = P.shape[1]
    A = P.shape[2]
    Q = np.empty((H, S, A))
    V = np.zeros((H + 1, S))
    init_at_cap(Q, V, cap)
    N = np.zeros((H, S, A))
    Ms = np.zeros((H, S, A))
    M2s = np.zeros((H, S, A))
    bprev = np.zeros((H, S, A))
    pi = np.zeros((H, S), dtype=np.int64)
    Vb = np.empty((H + 1, S))
    pi_prev = np.full((H, S), -1, dtype=np.int64)  # last evaluated policy
    SA = float(S * A)
    Hf = float(H)
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for k in range(K):
        record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, Vb, regret_out)
        returns_out[k] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        for h in range(H):          # the per-step update, replayed in step order
            s, a, r, s2 = xs[h], acts[h], rs[h], xs[h + 1]
            # the update of ``OptimisticQLearning.observe``, written out here rather than in
            # a helper taking the arrays: a call (or numba-level inlining) of such a helper
            # costs one atomic incref/decref per array argument and step, which was 85% of
            # the loop's time
            N[h, s, a] += 1.0
            t = N[h, s, a]
            alpha = (Hf + 1.0) / (Hf + t)                    # alpha_t = (H+1)/(H+t)
            vnext = V[h + 1, s2]
            if bonus == 0:
                b = c * math.sqrt(Hf * Hf * Hf * iota / t)   # Alg. 1: b_t = c sqrt(H^3 iota / t)
            else:
                # Alg. 2: W_t from the stored next values, beta_t = min{c1(...), c2 sqrt(H^3 iota/t)},
                # b_t = (beta_t - (1 - alpha_t) beta_{t-1}) / (2 alpha_t)
                Ms[h, s, a] += vnext
                M2s[h, s, a] += vnext * vnext
                mu = Ms[h, s, a] / t
                W = M2s[h, s, a] / t - mu * mu
                if W < 0.0:
                    W = 0.0
                b1 = c1 * (math.sqrt(Hf / t * (W + Hf) * iota) + math.sqrt(Hf ** 7 * SA) * iota / t)
                b2 = c2 * math.sqrt(Hf * Hf * Hf * iota / t)
                beta = b1 if b1 < b2 else b2
                b = (beta - (1.0 - alpha) * bprev[h, s, a]) / (2.0 * alpha)
                bprev[h, s, a] = beta
            # old value weighted 1 - alpha_t, target alpha_t (Algs. 1 and 2)
            Q[h, s, a] = (1.0 - alpha) * Q[h, s, a] + alpha * (r + vnext + scale * b)
            arg, best = greedy_action(Q, h, s)
            pi[h, s] = arg
            ch = Hf if cap == 0 else float(H - h)
            V[h, s] = best if best < ch else ch

r"""MVP -- Monotonic Value Propagation (Zhang, Ji & Du, COLT 2021, arXiv 2009.13503) and its
refined version (Zhang, Chen, Lee & Du, "Settling the sample complexity of online RL", arXiv
2307.13586, COLT 2024).

Both are model-based optimistic learners that **replan only after an episode in which some
visit count reached a power of two** (the doubling trigger), with the monotone Bernstein bonus

.. math::

    b_h(s,a) = c_1\sqrt{\frac{\mathbb V_{\hat P_{s,a}}(V_{h+1})\,\iota}{\max(n,1)}}
             + c_2\sqrt{\frac{(\hat\sigma_{s,a}-\hat r_{s,a}^2)\,\iota}{\max(n,1)}}
             + c_3\,\frac{G\,\iota}{\max(n,1)},
    \qquad c_1=\tfrac{460}{9},\ c_2=2\sqrt2,\ c_3=\tfrac{544}{9},

:math:`Q_h(s,a)=\min\{\hat r+\hat P_{s,a}V_{h+1}+b_h(s,a),\,G\}`, :math:`V_h=\max_a Q_h`, where
``G`` is the almost-sure bound on an episode's total reward: ``G = 1`` under N2 (the 2021
paper) and ``G = H`` under N3 (the 2024 paper). The two are the same algorithm up to the
reward scale: running the ``G = 1`` algorithm on ``r / H`` and multiplying its values by ``H``
gives exactly the ``G = H`` formulas.

Variants (``variant=``):

``"2021"`` (default)
    Time-homogeneous model: counts pooled over the steps ``h``; when ``N(s,a)`` reaches ``2^i``
    the frozen model is rebuilt from **all** ``2^i`` samples. Normalisation N2.
``"2024"``
    Stage-dependent model: counts per ``(h,s,a)``; when ``N_h(s,a)`` reaches ``2^i`` the frozen
    model is rebuilt from the **latest batch only** (samples ``2^{i-1}+1..2^i``).
    Normalisation N3.

Provenance (details in ``proofs_notes/mvp.md``).

* **Paper, 2024** (Algorithm 1 of arXiv 2307.13586; the items up to Remark 1 were re-read
  in a text conversion of the paper in the search tool's code index during the issue-4
  review, the bonus line and the ``Q`` update are [V] in the notes): input constants ``c1 = 460/9,
  c2 = 2 sqrt 2, c3 = 544/9``; ``delta' = delta / (200 S A H^2 K^2)``, ``iota = log(1/delta')``;
  initialisation ``Q = V = H``; line 6 (counts, reward sums ``theta`` and squared sums
  ``kappa``); line 7 (trigger when the all-time count of ``(s, a, h)`` is in
  ``{1, 2, ..., 2^{log2 K}}``: the batch size is the number of samples of this epoch);
  line 8 (``TRIGGERED``, then reset of the batch accumulators: *latest batch only*);
  lines 10-11 (replan after the episode, ``V_{H+1} = 0``); ``Q = min{r + P V + b, H}``; the
  monotone Bernstein bonus with the empirical reward variance ("in order to enable
  variance-aware regret, we also need to keep track of the empirical variance of the
  (stochastic) immediate rewards"). Remark 1: the original MVP uses *all* ``2^i`` samples.
* **Paper, 2021** (through the 2024 restatement): the same monotone bonus "originally
  proposed in" Zhang, Ji & Du (2021) with the same constants, the doubling trigger, the
  all-sample model (Remark 1 of 2024), time-homogeneous counts, N2 scale (cap 1).
* **Reconstructions**: the 2021 ``iota`` (we reuse the 2024 ``log(1/delta')``); that the 2021
  reward term uses the empirical reward *variance* (switch ``reward_bonus="mean"`` kept);
  the never-visited model (``P_hat`` uniform, ``r_hat = 0``, ``n -> max(n, 1)``: the bonus
  then exceeds ``G`` and ``Q = G``, as the paper's analysis with ``P^(0) = 1/S``); the
  trigger set is not truncated at ``K`` (per-``(h, s, a)`` counts cannot exceed ``K`` in 2024;
  in 2021 the pooled counts can reach ``KH``); without a known ``K`` (learner driven by hand,
  without :meth:`prepare`) the anytime substitute ``K -> k``; ``bonus_scale``; ties to the
  lowest action. The 2024 analysis assumes ``K`` a power of 2 "to streamline presentation";
  any ``K`` is accepted.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.kernels.sampling import categorical, env_step, greedy_policy, record_regret_det
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, _as_K, _check_dims

__all__ = ["MVP", "MVP_C1", "MVP_C2", "MVP_C3", "mvp_iota"]

MVP_C1 = 460.0 / 9.0
MVP_C2 = 2.0 * math.sqrt(2.0)
MVP_C3 = 544.0 / 9.0


def mvp_iota(S, A, H, K, delta):
    r"""``log(1/delta')`` with ``delta' = delta / (200 S A H^2 K^2)`` (Zhang et al. 2024)."""
    return np.log(200.0 * S * A * H * H * np.asarray(K, dtype=float) ** 2 / delta)


def check_delta(delta) -> float:
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating)) or not (0.0 < float(delta) < 1.0):
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
    return float(delta)


def check_scale(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


class MVP(Learner):
    r"""Monotonic Value Propagation.

    Parameters
    ----------
    variant : {"2021", "2024"}
        ``"2021"``: Zhang, Ji & Du (2021): time-homogeneous, all-samples model, N2.
        ``"2024"``: Zhang, Chen, Lee & Du (2024): stage-dependent, latest-batch model, N3.
    delta : float
        Failure probability of the high-probability bound.
    bonus_scale : float
        Multiplies the whole bonus; ``1`` = the theorem's constants.
    normalization : {"N2", "N3"} or None
        Reward scale the learner assumes (``G = 1`` or ``G = H``); default: the variant's.
        Checked against the MDP by :meth:`prepare` (``ValueError`` if violated).
    reward_bonus : {"variance", "mean"}
        Reward term ``c2 sqrt((sigma - r^2) iota / n)`` (default; the 2024 restatement) or
        ``c2 sqrt(G r iota / n)`` (kept as a switch: the notes could not confirm which one the
        2021 paper prints).
    model_batch : {"all", "latest"} or None
        Override the variant's model estimator (``None`` = the variant's).
    stationary : bool or None
        Override the variant's pooling (``True`` = counts pooled over ``h``).

    Notes
    -----
    Played policy: greedy in ``Q`` (ties to the lowest action), fixed within an episode.
    Cost: ``O(1)`` per step and at most ``SA(log2(KH)+1)`` (2021) or ``SAH(log2 K+1)`` (2024)
    replans of cost ``O(S^2 A H)``.

    References
    ----------
    Zhang, Ji & Du, "Is reinforcement learning more difficult than bandits? A near-optimal
    algorithm escaping the curse of horizon", COLT 2021. Zhang, Chen, Lee & Du, "Settling the
    sample complexity of online reinforcement learning", COLT 2024, Algorithm 1, Theorem 1.
    """

    name = "MVP"
    normalization = "N2"

    def __init__(self, variant: str = "2021", *, delta: float = 0.01, bonus_scale: float = 1.0,
                 normalization: str | None = None, reward_bonus: str = "variance",
                 model_batch: str | None = None, stationary: bool | None = None):
        self.variant = check_choice("variant", variant, ("2021", "2024"))
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        default_norm = "N2" if variant == "2021" else "N3"
        self.normalization = check_choice("normalization", normalization or default_norm, ("N2", "N3"))
        self.reward_bonus = check_choice("reward_bonus", reward_bonus, ("variance", "mean"))
        self.model_batch = check_choice("model_batch", model_batch or ("all" if variant == "2021" else "latest"),
                                        ("all", "latest"))
        if stationary is not None and not isinstance(stationary, (bool, np.bool_)):
            raise ValueError(f"stationary must be True, False or None, got {stationary!r}")
        self.stationary = (variant == "2021") if stationary is None else bool(stationary)
        self.c1, self.c2, self.c3 = MVP_C1, MVP_C2, MVP_C3

    def prepare(self, mdp, episodes) -> None:
        """Normalisation check, and with ``stationary=True`` (HOM: counts, rewards and model
        pooled over stages) a ``ValueError`` for a stage-dependent MDP, whose pooled
        estimates would silently mix different laws."""
        super().prepare(mdp, episodes)
        if self.stationary and not mdp.stationary:
            raise ValueError(
                f"{type(self).__name__}(stationary=True) pools counts over stages (HOM) and needs a "
                f"stationary MDP (stage-dependent P: {mdp.stage_dependent_P}, R: {mdp.stage_dependent_R}); "
                "use stationary=False or augment the state with the stage index")

    # -- helpers -----------------------------------------------------------------------
    def _G(self, H) -> float:
        return 1.0 if self.normalization == "N2" else float(H)

    def _iota(self, S, A, H, k_done) -> float:
        K = getattr(self, "_K", None)
        return float(mvp_iota(S, A, H, K if K is not None else max(int(k_done), 1), self.delta))

    # -- teaching path -------------------------------------------------------------------
    def reset(self, S, A, H, rng=None) -> None:
        super().reset(S, A, H, rng)
        Hm = 1 if self.stationary else H
        self._G_ = self._G(H)
        self._Nall = np.zeros((Hm, S, A), dtype=np.int64)
        self._Nb = np.zeros((Hm, S, A, S), dtype=np.int64)
        self._Rsum = np.zeros((Hm, S, A))
        self._R2sum = np.zeros((Hm, S, A))
        self._n = np.zeros((Hm, S, A), dtype=np.int64)
        self._rhat = np.zeros((Hm, S, A))
        self._sighat = np.zeros((Hm, S, A))
        self._Phat = np.full((Hm, S, A, S), 1.0 / S)
        self._Q = np.full((H, S, A), self._G_)
        self._V = np.zeros((H + 1, S))
        self._pi = np.zeros((H, S), dtype=np.int64)
        self._triggered = False
        self._k = 0
        self._replans = 0

    def begin_episode(self, k: int) -> None:
        self._k = int(k)
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def policy(self) -> np.ndarray:
        return self._pi

    def act(self, h: int, s: int) -> int:
        return int(self._pi[h, s])

    def observe(self, h, s, a, r, s_next) -> None:
        m = 0 if self.stationary else h
        self._Nall[m, s, a] += 1
        self._Nb[m, s, a, s_next] += 1
        self._Rsum[m, s, a] += r
        self._R2sum[m, s, a] += r * r
        N = int(self._Nall[m, s, a])
        if N & (N - 1) == 0:  # N is a power of two: end of a doubling batch
            nb = int(self._Nb[m, s, a].sum())
            self._n[m, s, a] = nb
            self._rhat[m, s, a] = self._Rsum[m, s, a] / nb
            self._sighat[m, s, a] = self._R2sum[m, s, a] / nb
            self._Phat[m, s, a] = self._Nb[m, s, a] / nb
            if self.model_batch == "latest":
                self._Nb[m, s, a] = 0
                self._Rsum[m, s, a] = 0.0
                self._R2sum[m, s, a] = 0.0
            self._triggered = True

    def end_episode(self) -> None:
        if self._triggered:
            self._triggered = False
            self._plan(self._k + 1)

    def _plan(self, k_done: int) -> None:
        S, A, H, G = self._S, self._A, self._H, self._G_
        iota = self._iota(S, A, H, k_done)
        nn = np.maximum(self._n, 1).astype(float)
        if self.reward_bonus == "variance":
            rvar = np.maximum(self._sighat - self._rhat ** 2, 0.0)
        else:
            rvar = G * self._rhat
        rterm = self.c2 * np.sqrt(rvar * iota / nn) + self.c3 * G * iota / nn
        self._V[H] = 0.0
        for h in range(H - 1, -1, -1):
            m = 0 if self.stationary else h
            v = self._V[h + 1]
            PV = self._Phat[m] @ v
            var = np.maximum(self._Phat[m] @ (v * v) - PV * PV, 0.0)
            b = self.bonus_scale * (self.c1 * np.sqrt(var * iota / nn[m]) + rterm[m])
            self._Q[h] = np.minimum(self._rhat[m] + PV + b, G)
            self._V[h] = self._Q[h].max(axis=1)
        self._replans += 1

    # -- compiled path ---------------------------------------------------------------------
    def compiled(self, mdp, episodes) -> CompiledLoop:
        S, A, H = mdp.S, mdp.A, mdp.H
        iota = float(mvp_iota(S, A, H, int(episodes), self.delta))
        params = (int(H), int(self.stationary), int(self.model_batch == "latest"),
                  int(self.reward_bonus == "variance"), self._G(H), self.bonus_scale,
                  self.c1, self.c2, self.c3, iota)
        return CompiledLoop(_mvp_loop, params)

    # -- theory ------------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None) -> RegretBound:
        r"""The theorem's regret rate with unit constants (the papers' ``O~`` hides them;
        ``delta=None`` uses the learner's).

        ``"2021"`` (Zhang, Ji & Du 2021, N2, homogeneous):
        ``G [ sqrt(S A K) iota + S^2 A iota^2 ]``.
        ``"2024"`` (Zhang, Chen, Lee & Du 2024, Theorem 1, N3, stage-dependent):
        ``min{ (G/H) sqrt(S A H^3 K) iota, G K }`` -- no burn-in term.
        ``iota = log(200 S A H^2 K^2 / delta)``; ``G = 1`` (N2) or ``H`` (N3).
        """
        delta = self.delta if delta is None else delta
        _check_dims(S, A, H, delta)
        K = _as_K(K)
        G = self._G(H)
        iota = mvp_iota(S, A, H, K, delta)
        if self.variant == "2021":
            lead = G * np.sqrt(S * A * K) * iota
            low = G * S * S * A * iota ** 2
            thm = "Zhang, Ji & Du (COLT 2021), main theorem: O~(sqrt(SAK) + S^2 A), unit constants"
            setting = "HOM" if self.stationary else "INHOM"
        else:
            raw = (G / H) * np.sqrt(S * A * H ** 3 * K) * iota
            lead = np.minimum(raw, G * K)
            low = 0.0 * lead
            thm = "Zhang, Chen, Lee & Du (COLT 2024), Theorem 1: O~(min{sqrt(SAH^3K), HK}), unit constants"
            setting = "INHOM" if not self.stationary else "HOM"
        return RegretBound(value=lead + low, leading=lead, lower_order=low,
                           normalization=self.normalization, setting=setting, theorem=thm,
                           explicit_constants=False, holds_with_probability=1.0 - float(delta))


@njit(cache=True, nogil=True)
def _mvp_plan(Q, V, n, rhat, sighat, Phat, G, bs, c1, c2, c3, iota, reward_var):
    H, S, A = Q.shape
    Hm = n.shape[0]
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        m = h if Hm > 1 else 0
        for s in range(S):
            best = -np.inf
            for a in range(A):
                pv = 0.0
                pv2 = 0.0
                for t in range(S):
                    p = Phat[m, s, a, t]
                    pv += p * V[h + 1, t]
                    pv2 += p * (V[h + 1, t] * V[h + 1, t])
                var = pv2 - pv * pv
                if var < 0.0:
                    var = 0.0
                nn = float(max(n[m, s, a], 1))
                if reward_var == 1:
                    rv = sighat[m, s, a] - rhat[m, s, a] ** 2
                    if rv < 0.0:
                        rv = 0.0
                else:
                    rv = G * rhat[m, s, a]
                # monotone Bernstein bonus (2024 Algorithm 1; G = H there, G = 1 under N2):
                # c1 sqrt(V(P^, V_{h+1}) iota / max(n,1)) + c2 sqrt((sigma^ - r^^2) iota / max(n,1))
                #   + c3 G iota / max(n,1);  Q = min(r^ + P^ V_{h+1} + b, G)
                b = bs * (c1 * math.sqrt(var * iota / nn)
                          + (c2 * math.sqrt(rv * iota / nn) + c3 * G * iota / nn))
                q = rhat[m, s, a] + pv + b
                if q > G:
                    q = G
                Q[h, s, a] = q
                if q > best:
                    best = q
            V[h, s] = best


@njit(cache=True, nogil=True)
def _mvp_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    H, stationary, latest, reward_var, G, bs, c1, c2, c3, iota = params
    S = P.shape[1]
    A = P.shape[2]
    Hm = 1 if stationary == 1 else H
    Nall = np.zeros((Hm, S, A), dtype=np.int64)
    Nb = np.zeros((Hm, S, A, S), dtype=np.int64)
    Rsum = np.zeros((Hm, S, A))
    R2sum = np.zeros((Hm, S, A))
    n = np.zeros((Hm, S, A), dtype=np.int64)
    rhat = np.zeros((Hm, S, A))
    sighat = np.zeros((Hm, S, A))
    Phat = np.full((Hm, S, A, S), 1.0 / S)
    Q = np.full((H, S, A), G)
    V = np.zeros((H + 1, S))
    Vbuf = np.zeros((H + 1, S))
    pi = np.zeros((H, S), dtype=np.int64)
    for k in range(K):
        greedy_policy(Q, pi)
        record_regret_det(k, eval_every, P, R, initial, v_star, pi, Vbuf, regret_out)
        s = categorical(rng, initial)
        ret = 0.0
        triggered = False
        for h in range(H):
            a = pi[h, s]
            r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
            m = h if Hm > 1 else 0
            Nall[m, s, a] += 1
            Nb[m, s, a, s2] += 1
            Rsum[m, s, a] += r
            R2sum[m, s, a] += r * r
            N = Nall[m, s, a]
            if N & (N - 1) == 0:        # 2024 Alg. 1 line 7: all-time count in {1, 2, 4, ...}
                nb = 0
                for t in range(S):
                    nb += Nb[m, s, a, t]
                n[m, s, a] = nb
                rhat[m, s, a] = Rsum[m, s, a] / nb
                sighat[m, s, a] = R2sum[m, s, a] / nb
                for t in range(S):
                    Phat[m, s, a, t] = Nb[m, s, a, t] / nb
                if latest == 1:         # line 8: next batch starts empty (2021: keep all)
                    for t in range(S):
                        Nb[m, s, a, t] = 0
                    Rsum[m, s, a] = 0.0
                    R2sum[m, s, a] = 0.0
                triggered = True
            ret += r
            s = s2
        returns_out[k] = ret
        if triggered:
            _mvp_plan(Q, V, n, rhat, sighat, Phat, G, bs, c1, c2, c3, iota, reward_var)

r"""MVP, Monotonic Value Propagation (Zhang, Ji & Du 2021; Zhang, Chen, Lee & Du 2024, Alg. 1).

Counts are pooled over the steps ``h`` (``"2021"``) or kept per ``h`` (``"2024"``). When the
all-time count of a key reaches :math:`2^i` (Alg. 1 line 7), its frozen model
:math:`(\hat r,\hat\sigma,\hat P,n)` is rebuilt from all :math:`2^i` samples (2021) or from
the latest batch only (2024, line 8); after that episode the learner replans from
:math:`V_{H+1}=0` (lines 10-11) with the monotone Bernstein bonus:

.. math::

    Q_h(s,a)=\min\Bigl\{\hat r+\hat P_{s,a}V_{h+1}
      +c_1\sqrt{\tfrac{\mathbb V_{\hat P_{s,a}}(V_{h+1})\,\iota}{n}}
      +c_2\sqrt{\tfrac{(\hat\sigma-\hat r^2)\,\iota}{n}}+c_3\tfrac{G\,\iota}{n},\ G\Bigr\},
    \qquad V_h(s)=\max_a Q_h(s,a),

:math:`c_1=460/9,\ c_2=2\sqrt2,\ c_3=544/9`, :math:`\iota=\log(200SAH^2K^2/\delta)`, ``n`` read
as ``max(n, 1)``, ``G = 1`` (N2, 2021) or ``G = H`` (N3, 2024). Defaults: the 2021 theorem,
:math:`\tilde O(\sqrt{SAK}+S^2A)` (N2, HOM); ``"2024"``: Theorem 1 of the 2024 paper,
:math:`\tilde O(\min\{\sqrt{SAH^3K},HK\})` (N3, stage-dependent).

Provenance and reconstructions: proofs_notes/mvp.md.

References: Zhang, Ji & Du, "Is reinforcement learning more difficult than bandits? A near-optimal
algorithm escaping the curse of horizon", COLT 2021 (arXiv 2009.13503). Zhang, Chen, Lee & Du,
"Settling the sample complexity of online reinforcement learning", COLT 2024 (arXiv 2307.13586).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mdptheory.core.validation import check_bool, check_choice, check_delta, check_scale
from mdptheory.kernels.sampling import greedy_policy, record_regret_det, rollout_det
from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, regret_bound
from mdptheory.learners.resumable import ResumableLoop

__all__ = ["MVP", "MVP_C1", "MVP_C2", "MVP_C3", "mvp_iota", "mvp_plan", "mvp_plan_ref"]

MVP_C1 = 460.0 / 9.0
MVP_C2 = 2.0 * math.sqrt(2.0)
MVP_C3 = 544.0 / 9.0


def mvp_iota(S, A, H, K, delta):
    r"""``log(1/delta')`` with ``delta' = delta / (200 S A H^2 K^2)`` (Zhang et al. 2024)."""
    return np.log(200.0 * S * A * H * H * np.asarray(K, dtype=float) ** 2 / delta)


def mvp_plan_ref(Q, V, n, rhat, sighat, Phat, G, bs, c1, c2, c3, iota, reward_var):
    r"""Optimistic backward induction with the frozen model, vectorised over ``(s, a)``.

    Writes ``Q (H, S, A)`` and ``V (H+1, S)``; the model arrays ``n, rhat, sighat (Hm, S, A)``
    and ``Phat (Hm, S, A, S)`` have ``Hm = 1`` (pooled over stages) or ``Hm = H``.
    ``reward_var`` selects the reward term: 1 = empirical variance ``sighat - rhat^2``,
    0 = ``G rhat``. Plain twin of :func:`mvp_plan`."""
    H = Q.shape[0]
    Hm = n.shape[0]
    nn = np.maximum(n, 1).astype(float)
    if reward_var:
        rvar = np.maximum(sighat - rhat ** 2, 0.0)
    else:
        rvar = G * rhat
    # the reward and lower-order parts of the bonus do not depend on V_{h+1}
    rterm = c2 * np.sqrt(rvar * iota / nn) + c3 * G * iota / nn
    V[H] = 0.0
    for h in range(H - 1, -1, -1):                          # Alg. 1 lines 10-11
        m = h if Hm > 1 else 0
        v = V[h + 1]
        PV = Phat[m] @ v
        var = np.maximum(Phat[m] @ (v * v) - PV * PV, 0.0)
        b = bs * (c1 * np.sqrt(var * iota / nn[m]) + rterm[m])
        Q[h] = np.minimum(rhat[m] + PV + b, G)
        V[h] = Q[h].max(axis=1)


class MVP(Learner):
    r"""Monotonic Value Propagation.

    Parameters
    ----------
    variant : {"2021", "2024"}
        ``"2021"``: Zhang, Ji & Du (2021): counts pooled over ``h``, model from all samples,
        N2. ``"2024"``: Zhang, Chen, Lee & Du (2024): counts per ``h``, model from the latest
        batch, N3.
    delta : float
        Failure probability of the high-probability bound, in ``(0, 1)``.
    bonus_scale : float
        Multiplies the whole bonus (``>= 0``; 1 = the theorem's constants).
    normalization : {"N2", "N3"} or None
        Reward scale the learner assumes (``G = 1`` or ``G = H``); ``None`` = the variant's.
        Checked against the MDP by :meth:`prepare`.
    reward_bonus : {"variance", "mean"}
        Reward term ``c2 sqrt((sigma - r^2) iota / n)`` (default) or ``c2 sqrt(G r iota / n)``;
        which one the 2021 paper prints is a reconstruction (see the notes).
    model_batch : {"all", "latest"} or None
        Model estimator at a trigger; ``None`` = the variant's.
    stationary : bool or None
        ``True`` = counts, rewards and model pooled over stages (HOM: :meth:`prepare`
        refuses a stage-dependent MDP); ``None`` = the variant's.

    Notes
    -----
    Played policy: greedy in ``Q`` (ties to the lowest action), fixed within an episode.
    Cost: ``O(1)`` per step and at most ``SA(log2(KH)+1)`` (pooled) or ``SAH(log2 K+1)``
    (per stage) replans of cost ``O(S^2 A H)``.
    """

    name = "MVP"
    normalization = "N2"

    def __init__(self, variant: str = "2021", *, delta: float = 0.01, bonus_scale: float = 1.0,
                 normalization: str | None = None, reward_bonus: str = "variance",
                 model_batch: str | None = None, stationary: bool | None = None):
        self.variant = check_choice("variant", variant, ("2021", "2024"))
        self.delta = check_delta(delta)
        self.bonus_scale = check_scale("bonus_scale", bonus_scale)
        if normalization is None:
            normalization = "N2" if variant == "2021" else "N3"
        self.normalization = check_choice("normalization", normalization, ("N2", "N3"))
        self.reward_bonus = check_choice("reward_bonus", reward_bonus, ("variance", "mean"))
        if model_batch is None:
            model_batch = "all" if variant == "2021" else "latest"
        self.model_batch = check_choice("model_batch", model_batch, ("all", "latest"))
        self.stationary = (variant == "2021") if stationary is None else check_bool("stationary", stationary)
        self.c1, self.c2, self.c3 = MVP_C1, MVP_C2, MVP_C3

    def prepare(self, mdp, episodes) -> None:
        """Normalisation check, and with ``stationary=True`` a ``ValueError`` for a
        stage-dependent MDP, whose pooled estimates would mix different laws."""
        super().prepare(mdp, episodes)
        if self.stationary:
            self._require_stationary(mdp, rewards=True)

    def _G(self, H) -> float:
        return 1.0 if self.normalization == "N2" else float(H)

    def _iota(self, S, A, H, k_done) -> float:
        # without prepare() (learner driven by hand) K is unknown: anytime substitute K -> k
        K = getattr(self, "_K", None)
        return float(mvp_iota(S, A, H, K if K is not None else max(int(k_done), 1), self.delta))

    # -- teaching path -------------------------------------------------------------------
    def reset(self, S, A, H, rng=None) -> None:
        super().reset(S, A, H, rng)
        Hm = 1 if self.stationary else H
        self._G_ = self._G(H)
        self._Nall = np.zeros((Hm, S, A), dtype=np.int64)     # all-time counts (the trigger)
        self._Nb = np.zeros((Hm, S, A, S), dtype=np.int64)    # transition counts of the batch
        self._Rsum = np.zeros((Hm, S, A))
        self._R2sum = np.zeros((Hm, S, A))
        self._n = np.zeros((Hm, S, A), dtype=np.int64)        # the frozen model ...
        self._rhat = np.zeros((Hm, S, A))
        self._sighat = np.zeros((Hm, S, A))
        self._Phat = np.full((Hm, S, A, S), 1.0 / S)          # ... uniform before any sample
        self._Q = np.full((H, S, A), self._G_)
        self._V = np.zeros((H + 1, S))
        self._pi = np.zeros((H, S), dtype=np.int64)
        self._triggered = False
        self._k = 0
        self._replans = 0

    def begin_episode(self, k: int) -> None:
        self._k = int(k)
        self._pi = self._Q.argmax(axis=2).astype(np.int64)

    def observe(self, h, s, a, r, s_next) -> None:
        m = 0 if self.stationary else h
        self._Nall[m, s, a] += 1
        self._Nb[m, s, a, s_next] += 1
        self._Rsum[m, s, a] += r
        self._R2sum[m, s, a] += r * r
        N = int(self._Nall[m, s, a])
        if N & (N - 1) == 0:          # Alg. 1 line 7: N is a power of two, end of a batch
            nb = int(self._Nb[m, s, a].sum())
            self._n[m, s, a] = nb
            self._rhat[m, s, a] = self._Rsum[m, s, a] / nb
            self._sighat[m, s, a] = self._R2sum[m, s, a] / nb
            self._Phat[m, s, a] = self._Nb[m, s, a] / nb
            if self.model_batch == "latest":              # line 8: the next batch starts empty
                self._Nb[m, s, a] = 0
                self._Rsum[m, s, a] = 0.0
                self._R2sum[m, s, a] = 0.0
            self._triggered = True

    def end_episode(self) -> None:
        if self._triggered:
            self._triggered = False
            self._plan(self._k + 1)

    def _plan(self, k_done: int) -> None:
        iota = self._iota(self._S, self._A, self._H, k_done)
        mvp_plan_ref(self._Q, self._V, self._n, self._rhat, self._sighat, self._Phat, self._G_,
                     self.bonus_scale, self.c1, self.c2, self.c3, iota, self.reward_bonus == "variance")
        self._replans += 1

    # -- compiled path -------------------------------------------------------------------
    def compiled(self, mdp, episodes) -> CompiledLoop:
        S, A, H = mdp.S, mdp.A, mdp.H
        iota = float(mvp_iota(S, A, H, int(episodes), self.delta))
        params = (int(H), int(self.stationary), int(self.model_batch == "latest"),
                  int(self.reward_bonus == "variance"), self._G(H), self.bonus_scale,
                  self.c1, self.c2, self.c3, iota)
        return CompiledLoop(_mvp_loop, params)

    def resumable(self, mdp, episodes) -> ResumableLoop:
        """The compiled loop split into ``init`` and ``chunk`` with the state outside the loop
        (same parameters and draws as :meth:`compiled`)."""
        return ResumableLoop(_mvp_init, _mvp_chunk, self.compiled(mdp, episodes).params, MVP_STATE)

    # -- theory --------------------------------------------------------------------------
    def bound(self, S, A, H, K, delta=None) -> RegretBound:
        r"""The theorem's regret rate with unit constants (the papers' ``O~`` hides them;
        ``delta=None`` uses the learner's).

        ``"2021"`` (N2, homogeneous): ``G [ sqrt(S A K) iota + S^2 A iota^2 ]``.
        ``"2024"`` (Theorem 1, N3, stage-dependent): ``min{ (G/H) sqrt(S A H^3 K) iota, G K }``,
        no burn-in term. ``iota = log(200 S A H^2 K^2 / delta)``; ``G = 1`` (N2) or ``H`` (N3).
        """
        K, delta = self._bound_args(S, A, H, K, delta)
        G = self._G(H)
        iota = mvp_iota(S, A, H, K, delta)
        if self.variant == "2021":
            lead = G * np.sqrt(S * A * K) * iota
            low = G * S * S * A * iota ** 2
            thm = "Zhang, Ji & Du (COLT 2021), main theorem: O~(sqrt(SAK) + S^2 A), unit constants"
        else:
            lead = (G / H) * np.sqrt(S * A * H ** 3 * K) * iota     # the theorem's min with G K is trivial_cap
            low = 0.0 * lead
            thm = "Zhang, Chen, Lee & Du (COLT 2024), Theorem 1: O~(min{sqrt(SAH^3K), HK}), unit constants"
        return regret_bound(lead, low, H=H, K=K, normalization=self.normalization,
                            setting="HOM" if self.stationary else "INHOM", theorem=thm,
                            explicit_constants=False, delta=delta)


# ---------------------------------------------------------------------------- compiled twin (numba)


@njit(cache=True, nogil=True)
def mvp_plan(Q, V, n, rhat, sighat, Phat, G, bs, c1, c2, c3, iota, reward_var):
    """Compiled :func:`mvp_plan_ref`: the same backup, one ``(h, s, a)`` at a time."""
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
                # monotone Bernstein bonus (Alg. 1; G = H there, G = 1 under N2):
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


#: Names of the arrays of :func:`_mvp_init` (the checkpoint of a resumable run).
MVP_STATE = ("Nall", "Nb", "Rsum", "R2sum", "n", "rhat", "sighat", "Phat", "Q", "V", "Vbuf", "pi")


@njit(cache=True, nogil=True)
def _mvp_init(S, A, params):
    """The learner's state before episode 0 (names in :data:`MVP_STATE`): all-time and batch
    counts, the frozen model (uniform ``Phat``), ``Q = G`` and the work buffers."""
    H = params[0]
    stationary = params[1]
    G = params[4]
    Hm = 1 if stationary == 1 else H
    return (np.zeros((Hm, S, A), dtype=np.int64), np.zeros((Hm, S, A, S), dtype=np.int64),
            np.zeros((Hm, S, A)), np.zeros((Hm, S, A)), np.zeros((Hm, S, A), dtype=np.int64),
            np.zeros((Hm, S, A)), np.zeros((Hm, S, A)), np.full((Hm, S, A, S), 1.0 / S),
            np.full((H, S, A), G), np.zeros((H + 1, S)), np.zeros((H + 1, S)),
            np.zeros((H, S), dtype=np.int64))


@njit(cache=True, nogil=True)
def _mvp_chunk(P, R, initial, noise, noise_std, v_star, k0, k1, eval_every, rng, params, state,
               regret_out, returns_out):
    """Episodes ``k0 .. k1-1`` of one seed from ``state`` (updated in place); episode ``k`` is
    written to ``regret_out[k - k0]`` / ``returns_out[k - k0]``."""
    H, stationary, latest, reward_var, G, bs, c1, c2, c3, iota = params
    Nall, Nb, Rsum, R2sum, n, rhat, sighat, Phat, Q, V, Vbuf, pi = state
    S = P.shape[1]
    Hm = 1 if stationary == 1 else H
    xs, acts, rs = np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H)
    for k in range(k0, k1):
        greedy_policy(Q, pi)
        if eval_every > 0 and k % eval_every == 0:
            record_regret_det(k - k0, 1, P, R, initial, v_star, pi, Vbuf, regret_out)
        returns_out[k - k0] = rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs)
        triggered = False
        for h in range(H):
            s, a, r, s2 = xs[h], acts[h], rs[h], xs[h + 1]
            m = h if Hm > 1 else 0
            Nall[m, s, a] += 1
            Nb[m, s, a, s2] += 1
            Rsum[m, s, a] += r
            R2sum[m, s, a] += r * r
            N = Nall[m, s, a]
            if N & (N - 1) == 0:        # Alg. 1 line 7: all-time count in {1, 2, 4, ...}
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
        if triggered:
            mvp_plan(Q, V, n, rhat, sighat, Phat, G, bs, c1, c2, c3, iota, reward_var)


@njit(cache=True, nogil=True)
def _mvp_loop(P, R, initial, noise, noise_std, v_star, K, eval_every, rng, params, regret_out, returns_out):
    """All ``K`` episodes of one seed (compiled twin of the :class:`MVP` teaching path):
    :func:`_mvp_init` then one :func:`_mvp_chunk`."""
    state = _mvp_init(P.shape[1], P.shape[2], params)
    _mvp_chunk(P, R, initial, noise, noise_std, v_star, 0, K, eval_every, rng, params, state,
               regret_out, returns_out)

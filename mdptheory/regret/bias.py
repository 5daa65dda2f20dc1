r"""Exact over-estimation bias of step-based Q-learning ensembles.

For a learner snapshot at step ``t`` (tables :math:`Q^1..Q^N`), its reported estimate
:math:`\hat Q_t` (Q-learning: :math:`Q`; Double: :math:`(Q^A+Q^B)/2`; Maxmin: :math:`Q^{\min}`;
REDQ: the ensemble mean) and a policy :math:`\pi_t`, with the exact
:math:`Q^{\pi_t}` (linear solve / backward induction on the mean-reward model) and
:math:`Q^*`:

* **estimation bias** :math:`B_t=\sum_{h,s,a}w_t(h,s,a)\,[\hat Q_t-Q^{\pi_t}](h,s,a)`, where
  :math:`w_t` is the normalised occupancy of :math:`\pi_t` from the initial law -- discounted:
  :math:`w(s,a)\propto\pi(a|s)\,[(I-\gamma P_\pi^\top)^{-1}\rho](s)`; episodic:
  :math:`w_h(s,a)\propto\Pr^{\pi}(s_h=s)\,\pi_h(a|s)` -- over the non-terminal states (the
  exact counterpart of REDQ's Monte-Carlo "average Q bias" from reset states);
  also its weighted standard deviation over pairs and :math:`B_t/|\sum w\,Q^{\pi_t}|`;
* **optimal-value bias** :math:`\sum w_t(\hat Q_t-Q^*)`;
* **target bias** :math:`\sum_{h,s'}\nu_t(h,s')[\hat v_t(h,s')-V^*_h(s')]`: the learner's
  expected bootstrap value (:meth:`~mdptheory.learners.step_based.StepLearner.bootstrap_values`,
  e.g. :math:`\max_{a}Q(s',a)` for Q-learning) against :math:`V^*`, under the next-state law
  :math:`\nu_t` of :math:`w_t` (non-terminal next states, next stage). This is the quantity
  the Double / Maxmin / REDQ theorems describe;
* **value gap** :math:`\rho\cdot(V^*-V^{\pi_t})` (how good the policy is).

Two policies, both exact functions of the snapshot: ``"greedy"``, uniform over the
maximisers of the learner's acting values among the available actions (the behaviour's greedy
branch, ties at random as the learner breaks them), and ``"behaviour"``, the epsilon-greedy
policy the learner would use at its next visit of each state (:math:`\varepsilon` from the visit
counts).

Expectations over the learner's randomness are estimated by the mean over seeds (with the
spread); every per-seed number is exact.

Provenance and reconstructions: proofs_notes/overestimation.md
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from mdptheory.core.validation import check_choice, check_int, check_real
from mdptheory.envs.bias_examples import NoisyRewardMDP, as_noisy
from mdptheory.learners.step_based import StepLearner, run_steps
from mdptheory.solvers import evaluate_q, solve

__all__ = [
    "BiasCurves",
    "BiasPoint",
    "BiasTrace",
    "bias_trace",
    "min_max_bias_uniform",
    "next_state_weights",
    "occupancy_weights",
    "optimal_values",
    "policy_bias",
]

_FIELDS = ("estimation", "estimation_sd", "normalized", "optimal", "target", "value_gap")


@dataclass(frozen=True)
class BiasPoint:
    """The biases of one estimate against one policy (see the module docstring)."""

    estimation: float
    estimation_sd: float
    normalized: float
    optimal: float
    target: float
    value_gap: float


@dataclass(frozen=True, eq=False)
class BiasCurves:
    """Bias curves of one policy notion: each field ``(n_seeds, C)`` (one row per seed, one
    column per checkpoint), with the fields of :class:`BiasPoint`."""

    policy: str
    estimation: np.ndarray
    estimation_sd: np.ndarray
    normalized: np.ndarray
    optimal: np.ndarray
    target: np.ndarray
    value_gap: np.ndarray

    def mean(self, name: str = "estimation") -> np.ndarray:
        """Mean over seeds, ``(C,)``."""
        return np.asarray(getattr(self, check_choice("name", name, _FIELDS))).mean(axis=0)

    def spread(self, name: str = "estimation") -> np.ndarray:
        """Standard deviation over seeds (``ddof = 1``; 0 with one seed), ``(C,)``."""
        x = np.asarray(getattr(self, check_choice("name", name, _FIELDS)))
        return x.std(axis=0, ddof=1) if x.shape[0] > 1 else np.zeros(x.shape[1])

    def sem(self, name: str = "estimation") -> np.ndarray:
        """Standard error of the mean over seeds, ``(C,)``."""
        return self.spread(name) / np.sqrt(np.asarray(getattr(self, name)).shape[0])


@dataclass(frozen=True, eq=False)
class BiasTrace:
    """Result of :func:`bias_trace`.

    Attributes
    ----------
    learner : str
    config : dict
    model : str
    steps : ndarray (C,) int64
        Checkpoints: environment steps taken before each snapshot.
    seeds : tuple of int
    greedy, behaviour : BiasCurves or None
        The curves for each policy notion requested.
    gamma : float
    horizon : int or None
    wall_time : float
    backend : str
    """

    learner: str
    config: dict
    model: str
    steps: np.ndarray
    seeds: tuple
    greedy: BiasCurves | None
    behaviour: BiasCurves | None
    gamma: float
    horizon: int | None
    wall_time: float
    backend: str = "compiled"


def _stage_arrays(m: NoisyRewardMDP):
    """``P (HQ, S, A, S)``, ``R (HQ, S, A)`` dense, one block per table stage."""
    mdp = m.mdp
    if m.episodic:
        return np.asarray(mdp.P_by_stage(), dtype=float), np.asarray(mdp.R_by_stage(), dtype=float)
    return np.asarray(mdp.dense_P(), dtype=float)[None], np.asarray(mdp.R, dtype=float)[None]


def _as_stages(m, x, trailing):
    x = np.asarray(x, dtype=float)
    return x[None] if (not m.episodic and x.ndim == trailing) else x


def occupancy_weights(model, policy) -> np.ndarray:
    r"""Normalised occupancy :math:`w` of ``policy`` from the initial law over the non-terminal
    states: discounted :math:`w(s,a)\propto\pi(a|s)x(s)` with
    :math:`x=(I-\gamma P_\pi^\top)^{-1}\rho` on the non-terminal states (transitions into
    terminal states leave); episodic :math:`w_h(s,a)\propto\Pr^\pi(s_h=s,\text{not
    terminated})\,\pi_h(a|s)`. ``policy`` is ``(S, A)`` / ``(H, S, A)`` probabilities; the
    result has the same shape and sums to 1."""
    m = as_noisy(model)
    P, _ = _stage_arrays(m)
    pi = _as_stages(m, policy, 2)
    HQ, S, A = P.shape[:3]
    if pi.shape != (HQ, S, A):
        raise ValueError(f"policy must have shape {(S, A) if not m.episodic else (HQ, S, A)}, got {np.shape(policy)}")
    live = ~m.terminal
    rho = np.where(live, np.asarray(m.mdp.initial, dtype=float), 0.0)
    if not m.episodic:
        Ppi = np.einsum("sa,sat->st", pi[0], P[0])[np.ix_(live, live)]
        x = np.zeros(S)
        x[live] = np.linalg.solve(np.eye(int(live.sum())) - m.gamma * Ppi.T, rho[live])
        w = (x[:, None] * pi[0])[None]
    else:
        w = np.empty((HQ, S, A))
        d = rho
        for h in range(HQ):
            w[h] = d[:, None] * pi[h]
            d = np.where(live, np.einsum("sa,sat->t", w[h], P[h]), 0.0)
    w = w / w.sum()
    return w[0] if not m.episodic else w


def next_state_weights(model, weights) -> np.ndarray:
    r"""Next-state law :math:`\nu(h,s')\propto\sum_{s,a}w_{h-1}(s,a)P_{h-1}(s'|s,a)` of the
    pair weights ``weights`` over the non-terminal next states (discounted: the same stage;
    episodic: stages ``1..H-1``), shape ``(S,)`` or ``(H, S)``, summing to 1 (all NaN when
    no non-terminal next state has mass)."""
    m = as_noisy(model)
    P, _ = _stage_arrays(m)
    w = _as_stages(m, weights, 2)
    live = ~m.terminal
    if not m.episodic:
        nu = np.where(live, np.einsum("sa,sat->t", w[0], P[0]), 0.0)[None]
    else:
        nu = np.zeros(w.shape[:2])
        for h in range(w.shape[0] - 1):
            nu[h + 1] = np.where(live, np.einsum("sa,sat->t", w[h], P[h]), 0.0)
    tot = nu.sum()
    nu = nu / tot if tot > 0 else np.full(nu.shape, np.nan)
    return nu[0] if not m.episodic else nu


def optimal_values(model):
    r"""``(Q* (HQ, S, A), V* (HQ, S))`` of the mean-reward model (policy iteration for a
    discounted model: exact up to the linear solves; backward induction for an episodic one).
    Terminal states have value 0 (they are absorbing with zero reward)."""
    m = as_noisy(model)
    if m.episodic:
        sol = solve(m.mdp)
        return np.asarray(sol.Q, dtype=float), np.asarray(sol.V[:-1], dtype=float)
    sol = solve(m.mdp, method="pi")
    return np.asarray(sol.Q, dtype=float)[None], np.asarray(sol.V, dtype=float)[None]


def policy_bias(model, estimate, policy, *, bootstrap=None, optimal=None) -> BiasPoint:
    r"""The biases of ``estimate`` (``(S, A)`` / ``(H, S, A)``) against ``policy`` (same
    shape, probabilities): estimation, its weighted sd, normalised, optimal-value, target (from
    ``bootstrap``, ``(S,)`` / ``(H, S)`` expected bootstrap values; NaN if ``None``) and the
    value gap (module docstring). ``optimal``: precomputed :func:`optimal_values`."""
    m = as_noisy(model)
    Qs, Vs = optimal_values(m) if optimal is None else optimal
    est = _as_stages(m, estimate, 2)
    pi = _as_stages(m, policy, 2)
    if est.shape != Qs.shape:
        raise ValueError(f"estimate must have shape {Qs.shape if m.episodic else Qs.shape[1:]}, got {np.shape(estimate)}")
    Qpi = _as_stages(m, evaluate_q(m.mdp, pi if m.episodic else pi[0]), 2)
    w = _as_stages(m, occupancy_weights(m, pi if m.episodic else pi[0]), 2)
    err = est - Qpi
    B = float((w * err).sum())
    sd = float(np.sqrt(max((w * (err - B) ** 2).sum(), 0.0)))
    scale = abs(float((w * Qpi).sum()))
    norm = B / scale if scale > 0 else np.nan
    opt = float((w * (est - Qs)).sum())
    tgt = np.nan
    if bootstrap is not None:
        nu = _as_stages(m, next_state_weights(m, w if m.episodic else w[0]), 1)
        vb = _as_stages(m, bootstrap, 1)
        if vb.shape != Vs.shape:
            raise ValueError(f"bootstrap must have shape {Vs.shape if m.episodic else Vs.shape[1:]}, got {np.shape(bootstrap)}")
        if np.all(np.isfinite(nu)):
            tgt = float((nu * (vb - Vs)).sum())
    rho = np.asarray(m.mdp.initial, dtype=float)
    Vpi0 = (pi[0] * Qpi[0]).sum(axis=1)
    gap = float(rho @ (Vs[0] - Vpi0))
    return BiasPoint(B, sd, norm, opt, tgt, gap)


def _seed_curves(learner, m, run, kinds, optimal):
    avail = np.asarray(m.available)
    out = {k: np.empty((len(_FIELDS), run.checkpoints.size)) for k in kinds}
    for c in range(run.checkpoints.size):
        tb = run.tables[c]
        est = learner.estimate(tb)
        boot = learner.bootstrap_values(tb, avail)
        for k in kinds:
            pol = (learner.greedy_policy(tb, avail) if k == "greedy"
                   else learner.behaviour_policy(tb, run.visits[c], avail))
            if not m.episodic:
                pt = policy_bias(m, est[0], pol[0], bootstrap=boot[0], optimal=optimal)
            else:
                pt = policy_bias(m, est, pol, bootstrap=boot, optimal=optimal)
            out[k][:, c] = [getattr(pt, f) for f in _FIELDS]
    return out


def bias_trace(learner: StepLearner, model, steps: int, seeds=1, *, every: int | None = None,
               policy: str = "both", workers: int | None = None, backend: str = "compiled") -> BiasTrace:
    r"""Exact bias of ``learner``'s estimate along its learning curve (module docstring).

    Parameters
    ----------
    learner : StepLearner
        :class:`~mdptheory.learners.QLearning`, ``DoubleQLearning``, ``MaxminQLearning``,
        ``REDQ``.
    model : NoisyRewardMDP or core model
    steps : int >= 1
        Environment steps per seed.
    seeds : int or sequence of int
        ``n`` means ``0..n-1``; seed ``i`` draws everything from
        ``default_rng(SeedSequence(i))``.
    every : int >= 1, optional
        Checkpoint stride (default ``max(1, steps // 50)``); checkpoints ``t = 0, every, ...``.
    policy : {"both", "greedy", "behaviour"}
        Which :math:`\pi_t` to measure against (both cost one exact evaluation each).
    workers : int, optional
        Threads running the compiled seeds (default: all cores); results do not depend on it.
    backend : {"compiled", "python"}

    Returns
    -------
    BiasTrace
    """
    steps = check_int("steps", steps, 1)
    check_choice("policy", policy, ("both", "greedy", "behaviour"))
    every = max(1, steps // 50) if every is None else check_int("every", every, 1)
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seed_list = tuple(range(check_int("seeds", seeds, 1)))
    else:
        seed_list = tuple(check_int(f"seeds[{i}]", s, 0) for i, s in enumerate(seeds))
        if not seed_list:
            raise ValueError("seeds is empty")
    if not isinstance(learner, StepLearner):
        raise TypeError(f"learner must be a StepLearner, got {type(learner).__name__}")
    m = as_noisy(model)
    kinds = ("greedy", "behaviour") if policy == "both" else (policy,)
    t0 = time.perf_counter()
    optimal = optimal_values(m)
    workers = (os.cpu_count() or 1) if workers is None else check_int("workers", workers, 1)
    workers = 1 if backend == "python" else min(workers, len(seed_list))

    def one(sd):
        return run_steps(learner, m, steps, sd, every=every, backend=backend, record=False)

    if workers == 1:
        runs = [one(sd) for sd in seed_list]
    else:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            runs = list(ex.map(one, seed_list))
    per_seed = [_seed_curves(learner, m, r, kinds, optimal) for r in runs]
    curves = {}
    for k in kinds:
        arr = np.stack([ps[k] for ps in per_seed])          # (n_seeds, fields, C)
        curves[k] = BiasCurves(k, *(np.ascontiguousarray(arr[:, i]) for i in range(len(_FIELDS))))
    return BiasTrace(learner=learner.name, config=learner.config(), model=m.name, steps=runs[0].checkpoints,
                     seeds=seed_list, greedy=curves.get("greedy"), behaviour=curves.get("behaviour"),
                     gamma=m.gamma, horizon=m.horizon, wall_time=time.perf_counter() - t0, backend=backend)


def min_max_bias_uniform(n_actions: int, n_min: int, *, gamma: float = 1.0, tau: float = 1.0) -> float:
    r"""Expected target bias :math:`\mathbb E[\gamma(\max_a\min_{i\le n}Q^i(a)-\max_aQ^*(a))]`
    when all ``n_actions`` true values are equal and the errors :math:`Q^i(a)-Q^*(a)` are
    i.i.d. :math:`U(-\tau,\tau)`: :math:`\gamma\tau(1-2t)`,
    :math:`t=\prod_{k=1}^{M}k/(k+1/n)` with ``M = n_actions``, ``n = n_min`` (Lan et al. 2020,
    Theorem 1 for Maxmin with ``n = N`` tables; REDQ's Theorem 1 with ``n = M`` of ``N`` tables,
    independent of ``N``). ``n_min = 1`` gives :math:`\gamma\tau(M-1)/(M+1)`; the bias is
    decreasing in ``n_min`` and tends to :math:`-\gamma\tau`."""
    M = check_int("n_actions", n_actions, 1)
    n = check_int("n_min", n_min, 1)
    g = check_real("gamma", gamma, 0.0, 1.0)
    tau = check_real("tau", tau, 0.0)
    t = 1.0
    for k in range(1, M + 1):
        t *= k / (k + 1.0 / n)
    return g * tau * (1.0 - 2.0 * t)

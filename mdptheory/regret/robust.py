r"""Robust accounting: :func:`run_robust` runs a robust learner like :func:`mdptheory.run` and
also records the exact **robust suboptimality** of the policy played in every evaluated episode,

.. math::
    \Delta^{rob}_k=\sum_s\rho(s)\bigl(V^*_{rob,1}(s)-V^{\pi_k}_{rob,1}(s)\bigr),

for the uncertainty set the learner declares (``learner.robust_uncertainty()``, a
:class:`~mdptheory.learners.dr_lsvi_ucb.RobustSpec`), next to the nominal pseudo-regret.
:math:`V^*_{rob}` comes from :func:`mdptheory.solvers.robust.solve_robust` (once per run),
:math:`V^{\pi_k}_{rob}` from :func:`mdptheory.measures.robust.robust_policy_value` (once per
*distinct* played policy); both are certified, and ``robust_error_bound`` is the largest sum of
the two bounds. :func:`mdptheory.run` dispatches here when the learner has a callable
``robust_uncertainty``.

How the played policies are obtained: the teaching path wraps the learner in a recorder of the
tables returned by ``policy()`` (the engine evaluates exactly those); the compiled path asks the
learner for its loop with a per-seed policy log, ``learner.compiled(mdp, K, policy_log=buf)``
with ``buf`` of shape ``(K, H, S)`` int64 (or ``(K, H, S, A)`` float64 when the class sets
``stochastic_policies = True``), and runs each seed through :func:`mdptheory.run` on its own
copy of the learner (so seeds may run in threads; results do not depend on ``workers``).
Everything else -- draws, checks, the nominal pseudo-regret -- is :func:`mdptheory.run`'s.
"""

from __future__ import annotations

import copy
import inspect
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from mdptheory.core import EpisodicMDP, LinearMDP
from mdptheory.core.linear import FeaturizedMDP
from mdptheory.envs.linear_mdp import tabular_linear_mdp
from mdptheory.measures.robust import robust_policy_value
from mdptheory.regret.engine import _seeds, run
from mdptheory.regret.trace import RegretTrace, cumulative_regret
from mdptheory.solvers.robust import solve_robust

__all__ = ["run_robust", "RobustRegretTrace", "robust_model"]


@dataclass(frozen=True, eq=False)
class RobustRegretTrace(RegretTrace):
    r"""A :class:`~mdptheory.regret.trace.RegretTrace` with the robust accounting.

    Extra attributes
    ----------------
    robust_suboptimality : ndarray ``(n_seeds, episodes)``
        :math:`\nu\cdot(V^*_{rob,1}-V^{\pi_k}_{rob,1})` of the policy played in episode ``k``
        (NaN in unevaluated episodes, as ``pseudo_regret``).
    robust_optimum : float
        :math:`\nu\cdot V^*_{rob,1}`.
    robust_error_bound : float
        Proven bound on the error of every entry of ``robust_suboptimality``.
    uncertainty, rectangularity
        The set the learner declared.
    n_robust_evaluations : int
        Distinct played policies evaluated.
    """

    robust_suboptimality: np.ndarray = field(default=None, repr=False)
    robust_optimum: float = float("nan")
    robust_error_bound: float = float("nan")
    uncertainty: object = None
    rectangularity: str = "d"
    n_robust_evaluations: int = 0

    def cumulative_robust(self) -> np.ndarray:
        r"""Cumulative robust suboptimality :math:`\sum_{j\le k}\Delta^{rob}_j`, ``(n_seeds,
        episodes)`` (step-function approximation with a stride, as :meth:`cumulative`)."""
        return cumulative_regret(self.robust_suboptimality, self.eval_every)


def robust_model(mdp, rectangularity: str):
    """The nominal model the uncertainty set is built around: a :class:`LinearMDP` as is (``"d"``),
    a tabular :class:`EpisodicMDP` as its one-hot linear embedding for ``"d"`` (whose
    d-rectangular sets are the (s,a)-rectangular ones) or as is for ``"sa"``. A
    :class:`FeaturizedMDP` has no nominal factors: ``TypeError``."""
    if isinstance(mdp, FeaturizedMDP):
        raise TypeError("robust suboptimality needs the nominal factors of a LinearMDP; a FeaturizedMDP "
                        "(misspecified features) defines no d-rectangular set")
    if rectangularity == "d" and isinstance(mdp, EpisodicMDP):
        return tabular_linear_mdp(mdp, check_assumption=False)
    if isinstance(mdp, (LinearMDP, EpisodicMDP)):
        return mdp
    raise TypeError(f"expected a LinearMDP or EpisodicMDP, got {type(mdp).__name__}")


class _Recorder:
    """Delegates to a learner and keeps a copy of every table ``policy()`` returns (per
    seed: ``reset`` opens a new list); hides ``robust_uncertainty`` from the engine's dispatch."""

    robust_uncertainty = None

    def __init__(self, learner, policy_log=None):
        object.__setattr__(self, "_inner", learner)
        object.__setattr__(self, "_log", policy_log)
        object.__setattr__(self, "tables", [])

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __setattr__(self, name, value):
        setattr(self._inner, name, value)

    def reset(self, S, A, H, rng):
        self.tables.append({})
        self._inner.reset(S, A, H, rng)

    def begin_episode(self, k):
        object.__setattr__(self, "_k", int(k))
        self._inner.begin_episode(k)

    def policy(self):
        pi = self._inner.policy()
        self.tables[-1][self._k] = np.array(pi, copy=True)
        return pi

    def compiled(self, mdp, episodes):
        return self._inner.compiled(mdp, episodes, policy_log=self._log)


def _named(learner, policy_log=None) -> _Recorder:
    """A recorder whose class carries the learner's class name (engine messages name it)."""
    cls = type(type(learner).__name__, (_Recorder,), {})
    return cls(learner, policy_log)


def run_robust(learner, mdp, episodes: int, seeds=1, *, workers: int | None = None, eval_every: int = 1,
               progress: bool | None = None, backend: str = "auto", measures: bool = True,
               tol: float = 1e-10) -> RobustRegretTrace:
    r"""Run a robust ``learner`` on the nominal ``mdp`` (as :func:`mdptheory.run`) and record the
    exact robust suboptimality of every evaluated played policy (see the module docstring).

    Parameters
    ----------
    learner
        A learner with ``robust_uncertainty()``; for the compiled path its ``compiled`` must
        accept ``policy_log=`` (see the module docstring).
    mdp : LinearMDP or EpisodicMDP
        The nominal (training) model; the uncertainty set is built around it.
    episodes, seeds, workers, eval_every, progress, backend, measures
        As in :func:`mdptheory.run` (same trajectories and nominal pseudo-regret).
    tol : float
        Certification tolerance of the robust solves.

    Returns
    -------
    RobustRegretTrace
    """
    spec = learner.robust_uncertainty()
    model = robust_model(mdp, spec.rectangularity)
    seed_list = _seeds(seeds)
    n = len(seed_list)
    t0 = time.perf_counter()
    name = type(learner).__name__
    get = getattr(learner, "compiled", None)
    logs_policies = callable(get) and "policy_log" in inspect.signature(get).parameters
    if backend == "compiled" and not logs_policies:
        raise ValueError(f"{name} has no compiled loop with a policy log; use backend='python'")
    use_python = backend == "python" or not logs_policies
    if use_python:
        rec = _named(learner)
        tr = run(rec, mdp, episodes, list(seed_list), workers=1, eval_every=eval_every, progress=progress,
                 backend="python", measures=measures)
        tables = rec.tables
        traces = [tr]
        used_workers = 1
    else:
        K = int(episodes) if isinstance(episodes, (int, np.integer)) and not isinstance(episodes, bool) else 0
        if K < 1:
            raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
        if workers is None:
            workers = os.cpu_count() or 1
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        used_workers = max(1, min(int(workers), n))
        logs, recs = [], []
        for i in range(n):
            logs.append(None)
            recs.append(copy.deepcopy(learner) if i < n - 1 else learner)

        def one(i):
            H, S, A = mdp.H, mdp.S, mdp.A
            shape = (K, H, S, A) if getattr(learner, "stochastic_policies", False) else (K, H, S)
            buf = np.zeros(shape, dtype=np.float64 if len(shape) == 4 else np.int64)
            logs[i] = buf
            return run(_named(recs[i], buf), mdp, K, [seed_list[i]], workers=1, eval_every=eval_every,
                       progress=progress, backend="compiled", measures=measures and i == 0)

        if used_workers == 1:
            traces = [one(i) for i in range(n)]
        else:
            with ThreadPoolExecutor(max_workers=used_workers) as ex:
                traces = list(ex.map(one, range(n)))
        every = traces[0].evaluated
        tables = [{k: logs[i][k] for k in np.flatnonzero(every)} for i in range(n)]
    opt = solve_robust(model, spec.uncertainty, spec.rectangularity, tol=tol)
    nu = np.asarray(model.initial, dtype=np.float64)
    v_opt = float(nu @ opt.V[0])
    K = traces[0].episodes
    sub = np.full((n, K), np.nan)
    cache: dict = {}
    err = 0.0
    for i in range(n):
        for k, pi in tables[i].items():
            key = (pi.dtype.str, pi.tobytes())
            if key not in cache:
                pv = robust_policy_value(model, pi, spec.uncertainty, spec.rectangularity, tol=tol)
                cache[key] = (pv.value, pv.error_bound)
            val, e = cache[key]
            sub[i, k] = v_opt - val
            err = max(err, e + opt.error_bound)
    sub.flags.writeable = False
    regret = np.vstack([t.pseudo_regret for t in traces])
    rets = np.vstack([t.returns for t in traces])
    regret.flags.writeable = False
    rets.flags.writeable = False
    cfg = learner.config() if callable(getattr(learner, "config", None)) else {}
    return RobustRegretTrace(**{**{f: getattr(traces[0], f) for f in traces[0].__dataclass_fields__},
                                "pseudo_regret": regret, "returns": rets, "seeds": seed_list,
                                "wall_time": time.perf_counter() - t0, "learner": name, "config": cfg,
                                "workers": used_workers},
                             robust_suboptimality=sub, robust_optimum=v_opt, robust_error_bound=err,
                             uncertainty=spec.uncertainty, rectangularity=spec.rectangularity,
                             n_robust_evaluations=len(cache))

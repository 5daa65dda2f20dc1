r"""The regret engine: :func:`run` drives a learner on an episodic MDP over several seeds and
returns a :class:`~mdptheory.regret.trace.RegretTrace` with the exact pseudo-regret of every
played policy.

Pseudo-regret of episode ``k`` (``proofs_notes/regret_decomposition.md``):

.. math::
    \Delta_k = \sum_s \rho(s)\,\bigl(V^*_1(s) - V^{\pi_k}_1(s)\bigr),

where :math:`\pi_k` is the policy the learner plays in episode ``k`` and :math:`\rho` the
initial law. :math:`V^*` comes from backward induction, :math:`V^{\pi_k}` from exact policy
evaluation on the true model (cost :math:`O(HS^2)` per evaluated episode). Theorems bound
:math:`\sum_k V^*_1(s^k_1) - V^{\pi_k}_1(s^k_1)`, whose conditional expectation given the
past is :math:`\Delta_k`; with a deterministic initial state the two coincide.

Linear models (:class:`~mdptheory.core.LinearMDP`, :class:`~mdptheory.core.linear.FeaturizedMDP`)
are run on their tabular model (``to_mdp()``), which is sampled and evaluated exactly; a learner
whose class sets ``uses_features = True`` receives the original object in ``prepare`` and
``compiled`` (to read the features), every other learner the tabular model.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.core.linear import FeaturizedMDP, LinearMDP
from mdptheory.kernels import sampling as ks
from mdptheory.solvers import solve

__all__ = ["run", "seed_rng", "env_arrays", "mdp_measures"]


def seed_rng(seed: int) -> np.random.Generator:
    """The generator of one seed: ``numpy.random.default_rng(SeedSequence(seed))`` (PCG64)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed)))


def env_arrays(mdp: EpisodicMDP):
    """``(P (HP,S,A,S), R (HR,S,A), initial (S,), noise code, noise_std)`` as contiguous
    float64 arrays for the compiled loops (``HP``/``HR`` = 1 for stationary parts)."""
    S, A = mdp.S, mdp.A
    P = np.ascontiguousarray(mdp.dense_P(), dtype=np.float64)
    if P.ndim == 3:
        P = P.reshape(1, S, A, S)
    R = np.ascontiguousarray(mdp.R, dtype=np.float64)
    if R.ndim == 2:
        R = R.reshape(1, S, A)
    init = np.ascontiguousarray(mdp.initial, dtype=np.float64)
    return P, R, init, ks.noise_code(mdp.reward_noise), float(mdp.reward_std)


def _seeds(seeds) -> tuple:
    if isinstance(seeds, (bool, np.bool_)):
        raise TypeError(f"seeds must be an int or a sequence of ints, got {seeds!r}")
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds = {seeds}: need at least one seed")
        return tuple(range(int(seeds)))
    try:
        out = tuple(int(s) for s in seeds)
    except TypeError:
        raise TypeError(f"seeds must be an int or a sequence of ints, got {seeds!r}") from None
    if not out:
        raise ValueError("seeds is empty")
    for i, (s, raw) in enumerate(zip(out, seeds)):
        if s != raw or s < 0:
            raise ValueError(f"seeds[{i}] = {raw!r} is not a non-negative integer")
    return out


def _check_policy(pi, H, S, A, k, who):
    """Validate the table returned by ``policy()`` in episode ``k``: shape ``(H, S)``
    integer (actions in ``[0, A)``) or ``(H, S, A)`` float (finite, >= 0, rows summing to 1
    within 1e-9). Returns ``(table copy, deterministic)``; raises ``ValueError`` naming the
    offending entry (a wrong table would silently give a wrong pseudo-regret)."""
    pi = np.asarray(pi)
    if pi.dtype != bool and np.issubdtype(pi.dtype, np.integer):
        if pi.shape != (H, S):
            raise ValueError(f"{who}.policy() in episode {k}: a deterministic policy must have shape "
                             f"(H, S) = {(H, S)}, got {pi.shape}")
        bad = (pi < 0) | (pi >= A)
        if bad.any():
            h, s = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{who}.policy() in episode {k}: pi[h={h}, s={s}] = {int(pi[h, s])} "
                             f"is not an action in [0, {A})")
        return np.array(pi, dtype=np.int64, order="C"), True
    if pi.dtype == bool or not np.issubdtype(pi.dtype, np.floating):
        raise ValueError(f"{who}.policy() in episode {k}: expected an int (H, S) or a float (H, S, A) "
                         f"table, got dtype {pi.dtype}")
    if pi.shape != (H, S, A):
        raise ValueError(f"{who}.policy() in episode {k}: a stochastic policy must have shape "
                         f"(H, S, A) = {(H, S, A)}, got {pi.shape}")
    bad = ~np.isfinite(pi) | (pi < 0)
    if bad.any():
        h, s, a = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{who}.policy() in episode {k}: probability pi[h={h}, s={s}, a={a}] = "
                         f"{float(pi[h, s, a])!r} is negative or not finite")
    sums = pi.sum(axis=2)
    off = np.abs(sums - 1.0) > 1e-9
    if off.any():
        h, s = (int(i) for i in np.argwhere(off)[0])
        raise ValueError(f"{who}.policy() in episode {k}: row pi[h={h}, s={s}] sums to "
                         f"{float(sums[h, s])!r}, not 1")
    return np.array(pi, dtype=np.float64, order="C"), False


def _python_episode(learner, k, P, R, init, noise, std, v_star, evaluated, rng, Vbuf, who):
    """Episode ``k`` of the teaching path on the model ``(P, R, init)``: returns its exact
    pseudo-regret (``nan`` when not ``evaluated``) and its return. In an evaluated episode the
    table returned by ``policy()`` is validated, copied (so later in-place updates by the
    learner cannot change what is checked), evaluated exactly, and every action ``act()``
    returns is checked against it (deterministic: equal; stochastic: positive probability)."""
    H, S, A = Vbuf.shape[0] - 1, P.shape[1], P.shape[2]
    learner.begin_episode(k)
    regret = float("nan")
    if evaluated:
        pi, det = _check_policy(learner.policy(), H, S, A, k, who)
        if det:
            regret = v_star - ks.value_det(P, R, init, pi, Vbuf)
        else:
            regret = v_star - ks.value_stoch(P, R, init, pi, Vbuf)
    s = ks.categorical_ref(rng, init)
    G = 0.0
    for h in range(H):
        a = int(learner.act(h, s))
        if evaluated:
            ok = (0 <= a < A) and ((pi[h, s] == a) if det else (pi[h, s, a] > 0))
            if not ok:
                raise RuntimeError(
                    f"{who}.act(h={h}, s={s}) returned {a}, which the policy "
                    f"reported by policy() for episode {k} does not play; act() must follow policy()"
                )
        elif not 0 <= a < A:
            raise RuntimeError(f"{who}.act(h={h}, s={s}) returned {a}, not an action in [0, {A})")
        r, s2 = ks.env_step_ref(rng, P, R, noise, std, h, s, a)
        learner.observe(h, s, a, r, s2)
        G += r
        s = s2
    learner.end_episode()
    return regret, G


def _python_seed(learner, H, P, R, init, noise, std, v_star, K, eval_every, rng, bar=None):
    """Teaching path for one seed: the call sequence of ``docs/learner_protocol.md`` with the
    same draws as the compiled loops, one :func:`_python_episode` per episode."""
    who = type(learner).__name__
    regret = np.full(K, np.nan)
    rets = np.empty(K)
    Vbuf = np.empty((H + 1, P.shape[1]))
    for k in range(K):
        evaluated = eval_every > 0 and k % eval_every == 0
        regret[k], rets[k] = _python_episode(learner, k, P, R, init, noise, std, v_star, evaluated, rng,
                                             Vbuf, who)
        if bar is not None:
            bar.update(1)
    return regret, rets


def mdp_measures(mdp: EpisodicMDP, sol=None) -> dict:
    r"""Key measures of ``mdp`` recorded in every :class:`RegretTrace` (cheap: a few exact
    backward inductions / evaluations, :math:`O(HS^2A)`).

    * ``v_star``: :math:`\rho\cdot V^*_1`; ``max_total_reward``: largest episode total with
      positive probability (the N2/N3 normalisation check);
    * ``min_gap``, ``gap_sum``, ``n_suboptimal``: :func:`mdptheory.measures.gap_summary`;
    * ``max_step_variance``: :math:`\mathbb Q^*=\max_{h,s,a}[\mathrm{Var}\,r_h(s,a)+
      \mathrm{Var}_{P_h(s,a)}V^*_{h+1}]` (EULER's constant);
    * ``optimal_return_variance``: :math:`\max_{s_1\in\mathrm{supp}\,\rho}
      \mathrm{Var}_{\pi^*}(\sum_h r_h\mid s_1)` of the solver's greedy optimal policy;
    * ``deterministic`` (transitions and rewards), ``stationary``, ``reward_noise``,
      ``reward_std``.

    The variance norms of Zhou, Zhang & Du (:func:`mdptheory.measures.variance_norms`)
    enumerate policies and are not computed here."""
    from mdptheory.learners.base import max_total_reward
    from mdptheory.measures import gap_summary, next_value_variance, return_variance
    from mdptheory.measures._common import reward_variance

    if sol is None:
        sol = solve(mdp)
    H = mdp.H
    Pst = np.asarray(mdp.P_by_stage(), dtype=np.float64)
    vr = np.broadcast_to(reward_variance(mdp), (H, mdp.S, mdp.A))
    step = max(float((vr[h] + next_value_variance(Pst[h], sol.V[h + 1])).max()) for h in range(H))
    init = np.asarray(mdp.initial, dtype=np.float64)
    gs = gap_summary(mdp)
    det_P = bool(np.all((Pst == 0.0) | (Pst == 1.0)))
    return {
        "v_star": float(init @ sol.V[0]),
        "max_total_reward": max_total_reward(mdp),
        "min_gap": gs.min_gap,
        "gap_sum": gs.gap_sum,
        "n_suboptimal": gs.n_suboptimal,
        "max_step_variance": step,
        "optimal_return_variance": float(return_variance(mdp, sol.policy)[init > 0].max()),
        "deterministic": det_P and (mdp.reward_noise == "deterministic"
                                    or (mdp.reward_noise == "gaussian" and mdp.reward_std == 0)
                                    or (mdp.reward_noise == "bernoulli"
                                        and bool(np.all((np.asarray(mdp.R) == 0) | (np.asarray(mdp.R) == 1))))),
        "stationary": bool(mdp.stationary),
        "reward_noise": mdp.reward_noise,
        "reward_std": float(mdp.reward_std),
    }


def run(learner, mdp: EpisodicMDP, episodes: int, seeds=1, *, workers: int | None = None,
        eval_every: int = 1, progress: bool | None = None, backend: str = "auto",
        measures: bool = True):
    r"""Run ``learner`` on ``mdp`` for ``episodes`` episodes per seed and account regret exactly.

    Parameters
    ----------
    learner : :class:`mdptheory.learners.base.Learner`
        Any object following the learner protocol (``docs/learner_protocol.md``).
    mdp : EpisodicMDP, LinearMDP, FeaturizedMDP or NonStationaryMDP
        The true environment (sparse models are densified for sampling). A
        :class:`~mdptheory.core.NonStationaryMDP` is run by
        :func:`mdptheory.regret.nonstationary.run_nonstationary` (exact dynamic regret). A linear model is
        sampled and evaluated through its tabular model ``mdp.to_mdp()``; learners with
        ``uses_features = True`` see the original object (its features) in ``prepare``.
    episodes : int
        ``K``, episodes per seed.
    seeds : int or sequence of int
        ``n`` means seeds ``0..n-1``. Seed ``i`` draws every random number (environment and
        learner) from ``default_rng(SeedSequence(i))``.
    workers : int, optional
        Threads running seeds concurrently on the compiled path (default: all cores, capped
        at the number of seeds). Results do not depend on it (bit-identical). The teaching
        path always runs seeds serially.
    eval_every : int, default 1
        Evaluate the played policy in episodes ``k % eval_every == 0`` (0-based ``k``, so
        episode 0 is always evaluated); ``0`` turns evaluation off (only for timing the
        learner loop). Unevaluated entries of ``pseudo_regret`` are NaN, and
        :meth:`RegretTrace.cumulative` then charges every episode the regret of the last
        evaluated one (a step-function approximation, ``trace.exact`` is False). The
        learner's trajectory and ``returns`` do not depend on the stride (evaluation draws
        no random numbers).
    progress : bool, optional
        tqdm progress bar; default on for long runs (``>= 1e6`` compiled or ``>= 2e4``
        teaching-path episodes in total). The compiled path advances it once per finished
        seed (the loop of one seed runs inside numba), the teaching path once per episode.
    backend : {"auto", "compiled", "python"}
        ``"auto"`` uses the learner's compiled loop when it has one.
    measures : bool, default True
        Record :func:`mdp_measures` of the MDP in ``trace.measures`` (gaps, variances,
        maximal total reward; a few exact backward inductions).

    Returns
    -------
    RegretTrace

    Raises
    ------
    TypeError
        If ``mdp`` is not an :class:`~mdptheory.core.EpisodicMDP`, ``LinearMDP`` or
        ``FeaturizedMDP``.
    ValueError
        For bad ``episodes``/``seeds``/``eval_every``/``backend``/``workers``, rewards outside
        the normalisation the learner assumes (from ``learner.prepare``), or (teaching path)
        a ``policy()`` table of the wrong shape, with an action out of range or with a
        probability row that is negative or does not sum to 1.
    RuntimeError
        (teaching path) ``act()`` returned an action the reported policy does not play.
    """
    from mdptheory.regret.trace import RegretTrace
    from mdptheory.core.nonstationary import NonStationaryMDP

    if isinstance(mdp, NonStationaryMDP):
        from mdptheory.regret.nonstationary import run_nonstationary
        return run_nonstationary(learner, mdp, episodes, seeds, workers=workers, eval_every=eval_every,
                                 progress=progress, backend=backend, measures=measures)
    if callable(getattr(learner, "robust_uncertainty", None)):      # robust learners: mdptheory.regret.robust
        from mdptheory.regret.robust import run_robust
        return run_robust(learner, mdp, episodes, seeds, workers=workers, eval_every=eval_every,
                          progress=progress, backend=backend, measures=measures)
    model = mdp
    if isinstance(mdp, (LinearMDP, FeaturizedMDP)):
        mdp = mdp.to_mdp()
    if not isinstance(mdp, EpisodicMDP):
        raise TypeError(
            "run needs an EpisodicMDP, LinearMDP or FeaturizedMDP (regret is defined per episode), "
            f"got {type(mdp).__name__}"
        )
    seen_by_learner = model if getattr(learner, "uses_features", False) else mdp
    K, eval_every, seed_list = _check_run_args(learner, episodes, eval_every, backend, seeds)

    t0 = time.perf_counter()
    prepare = getattr(learner, "prepare", None)
    if prepare is not None:
        prepare(seen_by_learner, K)
    sol = solve(mdp)
    P, R, init, noise, std = env_arrays(mdp)
    v_star = float(init @ sol.V[0])
    S, A, H = mdp.S, mdp.A, mdp.H

    cl = _compiled_loop(learner, backend, "compiled", seen_by_learner, K)
    if cl is not None:
        def run_compiled(rng, regret_row, returns_row):
            cl.loop(P, R, init, noise, std, v_star, K, eval_every, rng, cl.params, regret_row, returns_row)
    else:
        run_compiled = None

    regret, rets, used_backend, workers = _run_seeds(
        learner, (S, A, H), seed_list, K, workers, progress, run_compiled,
        lambda rng, bar: _python_seed(learner, H, P, R, init, noise, std, v_star, K, eval_every, rng, bar))
    wall = time.perf_counter() - t0
    cfg = learner.config() if callable(getattr(learner, "config", None)) else {}
    meas = mdp_measures(mdp, sol) if measures else {}
    return RegretTrace(
        pseudo_regret=regret, returns=rets, seeds=seed_list, wall_time=wall,
        learner=type(learner).__name__, config=cfg, S=S, A=A, H=H, v_star=v_star,
        eval_every=eval_every, backend=used_backend, workers=workers, measures=meas,
    )


def _check_run_args(learner, episodes, eval_every, backend, seeds):
    """The arguments every run function shares, checked: ``(K, eval_every, seed list)``."""
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if isinstance(eval_every, bool) or not isinstance(eval_every, (int, np.integer)) or eval_every < 0:
        raise ValueError(f"eval_every must be an integer >= 0, got {eval_every!r}")
    if backend not in ("auto", "compiled", "python"):
        raise ValueError(f"backend must be 'auto', 'compiled' or 'python', got {backend!r}")
    for m in ("reset", "policy", "act", "observe"):
        if not callable(getattr(learner, m, None)):
            raise TypeError(f"learner {learner!r} has no method {m}(); see docs/learner_protocol.md")
    return int(episodes), int(eval_every), _seeds(seeds)


def _compiled_loop(learner, backend, method, model, K):
    """``learner.<method>(model, K)`` (its :class:`CompiledLoop`) unless ``backend`` is
    ``"python"``; ``ValueError`` when ``backend="compiled"`` and there is none."""
    if backend == "python":
        return None
    get = getattr(learner, method, None)
    cl = get(model, K) if get is not None else None
    if cl is None and backend == "compiled":
        what = " for non-stationary MDPs" if method == "compiled_nonstationary" else ""
        raise ValueError(f"{type(learner).__name__} has no compiled loop{what}; use backend='python'")
    return cl


def _run_seeds(learner, SAH, seed_list, K, workers, progress, run_compiled, run_python):
    """Every seed's ``(regret, returns)`` rows: ``run_compiled(rng, regret_row, returns_row)``
    (a compiled loop; seeds on ``workers`` threads) or, when it is ``None``,
    ``learner.reset(S, A, H, rng)`` then ``run_python(rng, bar)`` (the teaching path; one
    thread). Returns ``(regret (n, K), returns (n, K), backend, workers used)``, the arrays
    read-only; each seed's ``rng`` is :func:`seed_rng` of it."""
    regret, rets, backend, workers = _run_seeds_rows(learner, SAH, seed_list, K, workers, progress,
                                                     run_compiled, run_python)
    regret.flags.writeable = False
    rets.flags.writeable = False
    return regret, rets, backend, workers


def _run_seeds_rows(learner, SAH, seed_list, K, workers, progress, run_compiled, run_python):
    who = type(learner).__name__
    n = len(seed_list)
    regret = np.full((n, K), np.nan)
    rets = np.zeros((n, K))
    if run_compiled is None:
        show = progress if progress is not None else n * K >= 20_000
        bar = _bar(show, n * K, f"{who} episodes")
        try:
            for i in range(n):
                rng = seed_rng(seed_list[i])
                learner.reset(*SAH, rng)
                regret[i], rets[i] = run_python(rng, bar)
        finally:
            if bar is not None:
                bar.close()
        return regret, rets, "python", 1
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    workers = max(1, min(int(workers), n))
    show = progress if progress is not None else n * K >= 1_000_000
    bar = _bar(show, n, f"{who} seeds")

    def one(i):
        run_compiled(seed_rng(seed_list[i]), regret[i], rets[i])
        if bar is not None:
            bar.update(1)

    try:
        if workers == 1:
            for i in range(n):
                one(i)
        else:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                list(ex.map(one, range(n)))
    finally:
        if bar is not None:
            bar.close()
    return regret, rets, "compiled", workers


def _bar(show: bool, total: int, desc: str):
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc=desc, leave=False)

r"""The dynamic-regret engine: :func:`run_nonstationary` drives a learner on a
:class:`~mdptheory.core.nonstationary.NonStationaryMDP` and records, for every episode ``k``,
the exact **dynamic pseudo-regret** on episode ``k``'s own model :math:`M_k`:

.. math::
    \Delta_k=\sum_s\rho_k(s)\bigl(V^{k,*}_1(s)-V^{k,\pi_k}_1(s)\bigr),

where :math:`\pi_k` is the policy played in episode ``k`` (Mao et al. 2021, Section 2:
the comparator is the optimal policy *of each episode*). :math:`V^{k,*}` is computed once
per distinct model (backward induction), :math:`V^{k,\pi_k}` by exact policy evaluation on
:math:`M_k`. The environment's clock is global and owned by the engine: episode ``k`` always
plays :math:`M_k`, whatever the learner does (a learner's restart never resets it).

**Teaching path** (any learner, stationary ones included): the call sequence and random
draws of :func:`mdptheory.run` (``docs/learner_protocol.md``), with the arrays of episode
``k``'s model; with a one-model schedule the result equals :func:`mdptheory.run` bit for bit.
Before the first seed the engine checks the learner's reward normalisation against every
distinct model, calls ``learner.prepare(model of episode 0, K)`` (a learner that reads
known mean rewards there is told nothing about later changes; a learner with
``uses_features = True`` gets the episode's :class:`~mdptheory.core.LinearMDP` when the
sequence is linear, as :func:`mdptheory.run` does), then, if the learner has it,
``learner.prepare_nonstationary(ns_mdp, K)`` (learners whose theorem assumes the variation
budget known read it there).

**Compiled path**: a learner opts in with ``compiled_nonstationary(ns_mdp, K)`` returning a
:class:`~mdptheory.learners.base.CompiledLoop` whose loop has the signature::

    loop(Ps, Rs, inits, seg_starts, seg_models, noise, noise_std, v_stars, K, eval_every,
         rng, params, regret_out, returns_out) -> None

``Ps (M, HP, S, A, S)``, ``Rs (M, HR, S, A)``, ``inits (M, S)``, ``v_stars (M,)``: the
distinct models stacked (``HP``/``HR`` = 1 when every model is stationary in that part);
episode ``k`` plays model ``seg_models[i]`` for ``seg_starts[i] <= k < seg_starts[i+1]``
(int64). Inside, ``Ps[m]`` is the ``(HP, S, A, S)`` layout of the stationary protocol, so
``env_step``/``record_regret_*`` are used unchanged, in the order of the teaching path.
"""

from __future__ import annotations

import time

import numpy as np

from mdptheory.core.nonstationary import NonStationaryMDP
from mdptheory.learners.base import check_normalization
from mdptheory.regret.engine import _check_run_args, _compiled_loop, _python_episode, _run_seeds, env_arrays
from mdptheory.regret.trace import RegretTrace
from mdptheory.solvers import solve

__all__ = ["run_nonstationary", "nonstationary_arrays", "optimal_values", "NonStationaryArrays"]


class NonStationaryArrays:
    """The arrays of a non-stationary run: per-model ``env_arrays`` (teaching path) and
    their stacks (compiled path). Attributes: ``per_model`` (list of ``(P, R, initial)``),
    ``Ps``, ``Rs``, ``inits``, ``seg_starts``, ``seg_models``, ``noise``, ``noise_std``."""

    __slots__ = ("per_model", "Ps", "Rs", "inits", "seg_starts", "seg_models", "noise", "noise_std")

    def __init__(self, ns: NonStationaryMDP):
        per = []
        for m in ns.models:
            P, R, init, noise, std = env_arrays(m)
            per.append((P, R, init))
        self.per_model = per
        self.noise, self.noise_std = noise, std
        H = ns.H
        HP = 1 if all(p.shape[0] == 1 for p, _, _ in per) else H
        HR = 1 if all(r.shape[0] == 1 for _, r, _ in per) else H
        self.Ps = np.ascontiguousarray(np.stack([np.broadcast_to(p, (HP,) + p.shape[1:]) for p, _, _ in per]))
        self.Rs = np.ascontiguousarray(np.stack([np.broadcast_to(r, (HR,) + r.shape[1:]) for _, r, _ in per]))
        self.inits = np.ascontiguousarray(np.stack([i for _, _, i in per]))
        starts, ids = ns.segments
        self.seg_starts = np.ascontiguousarray(starts, dtype=np.int64)
        self.seg_models = np.ascontiguousarray(ids, dtype=np.int64)


def nonstationary_arrays(ns: NonStationaryMDP) -> NonStationaryArrays:
    """The per-model and stacked arrays of ``ns`` (see :class:`NonStationaryArrays`)."""
    return NonStationaryArrays(ns)


def optimal_values(ns: NonStationaryMDP) -> np.ndarray:
    r"""``(M,)``: :math:`\rho_m\cdot V^{*}_1` of every distinct model, by the same solver
    call and expression as :func:`mdptheory.run` (so a one-model run matches it bitwise)."""
    out = np.empty(ns.n_models)
    for j, m in enumerate(ns.models):
        sol = solve(m)
        init = np.ascontiguousarray(m.initial, dtype=np.float64)
        out[j] = float(init @ sol.V[0])
    return out


def _python_seed_ns(learner, H, arrs, v_stars, K, eval_every, rng, bar=None):
    """Teaching path for one seed: ``mdptheory.regret.engine._python_episode`` on episode
    ``k``'s model (same checks, same draws, same evaluation)."""
    who = type(learner).__name__
    regret = np.full(K, np.nan)
    rets = np.empty(K)
    Vbuf = np.empty((H + 1, arrs.Ps.shape[2]))
    starts, ids = arrs.seg_starts, arrs.seg_models
    seg = 0
    for k in range(K):
        while seg + 1 < len(starts) and k >= starts[seg + 1]:   # the engine's clock
            seg += 1
        mid = int(ids[seg])
        P, R, init = arrs.per_model[mid]
        evaluated = eval_every > 0 and k % eval_every == 0
        regret[k], rets[k] = _python_episode(learner, k, P, R, init, arrs.noise, arrs.noise_std,
                                             v_stars[mid], evaluated, rng, Vbuf, who)
        if bar is not None:
            bar.update(1)
    return regret, rets


def run_nonstationary(learner, ns_mdp: NonStationaryMDP, episodes: int | None = None, seeds=1, *,
                      workers: int | None = None, eval_every: int = 1, progress: bool | None = None,
                      backend: str = "auto", measures: bool = True) -> RegretTrace:
    r"""Run ``learner`` on the first ``episodes`` episodes of ``ns_mdp`` and account the
    dynamic pseudo-regret exactly (see the module docstring).

    Parameters
    ----------
    learner : Learner
        Any object following the learner protocol; its compiled loop is used when it
        defines ``compiled_nonstationary`` (``backend="auto"``).
    ns_mdp : NonStationaryMDP
    episodes : int, optional
        ``K <= ns_mdp.episodes`` (default: all of them).
    seeds, workers, eval_every, progress, backend
        As in :func:`mdptheory.run` (seed ``i`` draws everything from
        ``default_rng(SeedSequence(i))``; serial and parallel runs are bit-identical).
    measures : bool, default True
        Record in ``trace.measures``: ``nonstationary`` (True), ``n_models``,
        ``v_star_by_model``, ``variation_r``, ``variation_p``, ``variation``, ``n_changes``
        (budgets of the episodes run) and, for a linear sequence, ``variation_b_theta``,
        ``variation_b_mu``.

    Returns
    -------
    RegretTrace
        ``pseudo_regret[i, k]`` is the dynamic pseudo-regret of episode ``k``;
        ``v_star`` is the mean of :math:`\rho_k\cdot V^{k,*}_1` over the episodes run (so
        ``realized_regret()[:, -1]`` is :math:`\sum_k V^{k,*}-G_k` up to rounding).

    Raises
    ------
    TypeError
        If ``ns_mdp`` is not a :class:`NonStationaryMDP` or the learner lacks a protocol method.
    ValueError
        Bad ``episodes`` (including more than ``ns_mdp.episodes``), ``seeds``, ``eval_every``,
        ``backend`` or ``workers``; a reward normalisation violated by one of the models
        (the message names the model and its first episode); the teaching path's policy checks.
    RuntimeError
        (teaching path) ``act()`` returned an action the reported policy does not play.
    """
    if not isinstance(ns_mdp, NonStationaryMDP):
        raise TypeError(f"run_nonstationary needs a NonStationaryMDP, got {type(ns_mdp).__name__}")
    if episodes is None:
        episodes = ns_mdp.episodes
    K, eval_every, seed_list = _check_run_args(learner, episodes, eval_every, backend, seeds)
    if K > ns_mdp.episodes:
        raise ValueError(f"episodes = {K} exceeds the {ns_mdp.episodes} episodes of the non-stationary MDP")

    t0 = time.perf_counter()
    starts, ids = ns_mdp.segments
    used = sorted({int(j) for j, s0 in zip(ids, starts) if s0 < K})
    norm = getattr(learner, "normalization", None)
    for j in used:
        first = int(starts[np.flatnonzero(ids == j)[0]])
        try:
            check_normalization(ns_mdp.models[j], norm, type(learner).__name__)
        except ValueError as exc:
            raise ValueError(f"model {j} (first played in episode {first}): {exc}") from None
    prepare = getattr(learner, "prepare", None)
    if prepare is not None:
        feats = getattr(learner, "uses_features", False) and ns_mdp.is_linear
        prepare(ns_mdp.linear_model(0) if feats else ns_mdp.model(0), K)
    prep_ns = getattr(learner, "prepare_nonstationary", None)
    if prep_ns is not None:
        prep_ns(ns_mdp, K)
    v_stars = optimal_values(ns_mdp)
    arrs = nonstationary_arrays(ns_mdp)
    S, A, H = ns_mdp.S, ns_mdp.A, ns_mdp.H

    cl = _compiled_loop(learner, backend, "compiled_nonstationary", ns_mdp, K)
    if cl is not None:
        def run_compiled(rng, regret_row, returns_row):
            cl.loop(arrs.Ps, arrs.Rs, arrs.inits, arrs.seg_starts, arrs.seg_models, arrs.noise,
                    arrs.noise_std, v_stars, K, eval_every, rng, cl.params, regret_row, returns_row)
    else:
        run_compiled = None

    regret, rets, used_backend, workers = _run_seeds(
        learner, (S, A, H), seed_list, K, workers, progress, run_compiled,
        lambda rng, bar: _python_seed_ns(learner, H, arrs, v_stars, K, eval_every, rng, bar))
    wall = time.perf_counter() - t0
    cfg = learner.config() if callable(getattr(learner, "config", None)) else {}
    counts = np.bincount(ns_mdp.model_index()[:K], minlength=ns_mdp.n_models)
    v_mean = float(v_stars[counts > 0][0]) if (counts > 0).sum() == 1 else float(counts @ v_stars / K)
    meas = {}
    if measures:
        var = ns_mdp.variation(0, K - 1)
        meas = {"nonstationary": True, "n_models": ns_mdp.n_models,
                "v_star_by_model": [float(v) for v in v_stars], "variation_r": var.delta_r,
                "variation_p": var.delta_p, "variation": var.delta, "n_changes": var.n_changes,
                "reward_noise": ns_mdp.reward_noise, "reward_std": float(ns_mdp.reward_std)}
        if var.b_theta is not None:                   # linear sequences: Zhou et al.'s budgets too
            meas.update(variation_b_theta=var.b_theta, variation_b_mu=var.b_mu)
    return RegretTrace(
        pseudo_regret=regret, returns=rets, seeds=seed_list, wall_time=wall,
        learner=type(learner).__name__, config=cfg, S=S, A=A, H=H, v_star=v_mean,
        eval_every=eval_every, backend=used_backend, workers=workers, measures=meas,
    )

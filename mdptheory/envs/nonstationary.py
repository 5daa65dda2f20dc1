r"""Non-stationary families: sequences of episodic models over ``K`` episodes
(:class:`~mdptheory.core.nonstationary.NonStationaryMDP`).

* :func:`bidirectional_combination_lock` -- the benchmark of Mao, Zhang, Zhu, Simchi-Levi &
  Başar (Appendix J of the journal version), abrupt or gradual;
* :func:`switching` -- any models played in turn, ``period`` episodes each;
* :func:`drifting` -- a linear drift between any two models (quantised, see
  :meth:`NonStationaryMDP.drift`);
* :func:`drifting_linear_mdp` -- a piecewise-constant sequence of exact linear MDPs with
  simplex features, after the synthetic experiment of Zhou, Chen, Varshney & Jagmohan (TMLR).

Provenance and reconstructions: ``proofs_notes/dynamic_regret.md`` and (the linear family)
``proofs_notes/lsvi_ucb_restart.md``.
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP, LinearMDP
from mdptheory.core.nonstationary import NonStationaryMDP
from mdptheory.core.validation import check_choice, check_generator, check_int, check_probability, check_real

__all__ = ["bidirectional_combination_lock", "bidirectional_lock_model", "switching", "drifting",
           "drifting_linear_mdp"]

#: The small rewards of the early stages of :func:`drifting_linear_mdp` are drawn from this range.
LINEAR_DRIFT_SMALL_REWARD = (0.005, 0.008)


def bidirectional_lock_model(H: int = 5, *, chain_prob: float = 0.98, end_rewards=(1.0, 0.25),
                             success: float = 0.98, sink_reward: float | None = None, seed=0,
                             correct_actions=None) -> EpisodicMDP:
    r"""One model of the bidirectional combination lock (``S = 2H``, ``A = 2``, stationary).

    States: ``0`` the start; ``1..H-1`` chain 1 (position ``i`` is state ``i``); ``H..2H-2``
    chain 2 (position ``i`` is state ``H-1+i``); ``2H-1`` the sink. Episodes start in 0.

    * start: action 0 enters chain 1 w.p. ``chain_prob`` (else chain 2), action 1 enters
      chain 2 w.p. ``chain_prob`` (else chain 1); reward 0;
    * chain ``c``, position ``i < H-1``: the correct action :math:`a^*_{c,i}` moves to
      position ``i+1`` w.p. ``success`` and to the sink otherwise, the other action to the
      sink; reward 0;
    * chain ``c``, position ``H-1`` (reached at the last stage): the correct action earns
      ``end_rewards[c]`` (deterministic), the other action 0; both lead to the sink;
    * sink: absorbing, reward ``sink_reward`` (default :math:`1/(8H)`) for every action.

    Correct actions: ``correct_actions[c][i-1]`` if given (a ``(2, H-1)`` array of 0/1),
    else drawn uniformly with ``seed``. Rewards are deterministic, in ``[0, 1]`` (N1).
    """
    H = check_int("H", H, 2)
    p = check_probability("chain_prob", chain_prob)
    q = check_probability("success", success)
    sink_r = 1.0 / (8 * H) if sink_reward is None else check_real("sink_reward", sink_reward, 0.0, 1.0)
    ends = np.asarray(end_rewards, dtype=float)
    if ends.shape != (2,):
        raise ValueError(f"end_rewards must be two numbers (chain 1, chain 2), got {end_rewards!r}")
    for c in range(2):
        check_real(f"end_rewards[{c}]", float(ends[c]), 0.0, 1.0)
    if correct_actions is None:
        correct = check_generator(seed).integers(0, 2, size=(2, H - 1))
    else:
        correct = np.asarray(correct_actions)
        if correct.shape != (2, H - 1) or not np.issubdtype(correct.dtype, np.integer):
            raise ValueError(f"correct_actions must be a (2, H-1) = (2, {H - 1}) integer array, got {correct_actions!r}")
        bad = (correct < 0) | (correct > 1)
        if bad.any():
            c, i = (int(x) for x in np.argwhere(bad)[0])
            raise ValueError(f"correct_actions[{c}, {i}] = {int(correct[c, i])} is not an action in [0, 2)")
    S, sink = 2 * H, 2 * H - 1

    def state(c, i):                      # chain c in {0, 1}, position i in 1..H-1
        return i if c == 0 else H - 1 + i

    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    P[0, 0, state(0, 1)] += p
    P[0, 0, state(1, 1)] += 1.0 - p
    P[0, 1, state(1, 1)] += p
    P[0, 1, state(0, 1)] += 1.0 - p
    for c in range(2):
        for i in range(1, H):
            x = state(c, i)
            good = int(correct[c, i - 1])
            P[x, 1 - good, sink] = 1.0
            if i < H - 1:
                P[x, good, state(c, i + 1)] += q
                P[x, good, sink] += 1.0 - q
            else:
                P[x, good, sink] = 1.0
                R[x, good] = ends[c]
    P[sink, :, sink] = 1.0
    R[sink, :] = sink_r
    return EpisodicMDP(P, R, H, 0)


def bidirectional_combination_lock(H: int = 5, variation: str = "abrupt", episodes: int = 5000, *,
                                   period: int = 1000, success: float = 0.98, levels: int = 101,
                                   seed=0) -> NonStationaryMDP:
    r"""Bidirectional (diabolical) combination lock of Mao et al. (Appendix J of the journal
    version): :func:`bidirectional_lock_model` (``S = 2H``, ``A = 2``; ``H = 5`` in the paper)
    over ``episodes`` episodes, with

    * ``variation="abrupt"``: the two endpoint rewards (1 and 0.25) swap every ``period``
      episodes (1000 in the paper): episodes ``[0, period)`` have chain 1 worth 1,
      ``[period, 2 period)`` chain 2, and so on;
    * ``variation="gradual"``: the start state's probability of entering the chain its action
      points to moves linearly from 0.98 to 0.02 over the run (so the better first action
      changes half-way), quantised into ``levels`` models (:meth:`NonStationaryMDP.drift`).

    The correct actions (drawn with ``seed``) are the same in every episode. Exact optimal
    values: chain-1 path :math:`0.98\cdot\text{success}^{H-2}\cdot1` plus the sink rewards
    after failures; see ``tests/envs/test_nonstationary_families.py``.
    """
    H = check_int("H", H, 2)
    K = check_int("episodes", episodes, 1)
    check_choice("variation", variation, ("abrupt", "gradual"))
    correct = check_generator(seed).integers(0, 2, size=(2, H - 1))
    if variation == "abrupt":
        period = check_int("period", period, 1)
        a = bidirectional_lock_model(H, success=success, correct_actions=correct)
        b = bidirectional_lock_model(H, success=success, end_rewards=(0.25, 1.0), correct_actions=correct)
        return switching([a, b], period, K)
    a = bidirectional_lock_model(H, chain_prob=0.98, success=success, correct_actions=correct)
    b = bidirectional_lock_model(H, chain_prob=0.02, success=success, correct_actions=correct)
    return NonStationaryMDP.drift(a, b, K, levels=levels)


def switching(models, period: int, episodes: int) -> NonStationaryMDP:
    """``models`` played in turn, ``period`` episodes each, cyclically: episode ``k`` plays
    ``models[(k // period) % len(models)]`` (abrupt changes at multiples of ``period``)."""
    models = list(models)
    period = check_int("period", period, 1)
    K = check_int("episodes", episodes, 1)
    if not models:
        raise ValueError("models is empty: switching needs at least one model")
    return NonStationaryMDP([(f, models[(f // period) % len(models)]) for f in range(0, K, period)], K)


def drifting(model_a: EpisodicMDP, model_b: EpisodicMDP, episodes: int, *, levels: int = 101) -> NonStationaryMDP:
    r"""Linear drift from ``model_a`` (episode 0) to ``model_b`` (last episode): kernels, mean
    rewards and initial laws :math:`(1-w)M_a+wM_b`, quantised into ``levels`` models
    (:meth:`NonStationaryMDP.drift`; the variation budget equals the unquantised drift's,
    :math:`\sum_h\sup_{s,a}|r^a_h-r^b_h|` and :math:`\sum_h\sup_{s,a}\|P^a_h-P^b_h\|_1`)."""
    return NonStationaryMDP.drift(model_a, model_b, episodes, levels=levels)


def drifting_linear_mdp(S: int = 15, A: int = 7, H: int = 5, d: int = 10, episodes: int = 500, *,
                        speed: int = 10, n_chain: int = 5, stay: float = 0.99, initial="uniform",
                        seed=0) -> NonStationaryMDP:
    r"""A non-stationary linear MDP whose next-state measures and rewards jump between blocks,
    after the synthetic experiment of Zhou, Chen, Varshney & Jagmohan (TMLR; ``S = 15``,
    ``A = 7``, ``H = 5``, ``d = 10``, 500 episodes, 10 blocks), every model an exact linear MDP.

    Latents ``z = 0..d-1``; the first ``n_chain`` are *chain* latents, the rest *background*.

    * Features (fixed, shared by the stages): one-hot :math:`\phi(s,a)=e_{z(s,a)}` (a vertex
      of the simplex). Chain state ``i < n_chain`` with its special action ``A-1-i`` has
      latent ``i``; its other actions get a latent drawn uniformly from the ``d-1`` others;
      every action of a state ``>= n_chain`` gets a latent drawn uniformly from all ``d``.
    * Blocks: episode ``k`` is in block :math:`b=\lfloor k\,\text{speed}/K\rfloor`
      (``speed`` blocks of ``K / speed`` episodes when ``speed`` divides ``K``); block ``b``
      rewards the chain latent :math:`g_b=(b+1)\bmod n_{\rm chain}`.
    * :math:`\mu^{(b)}_h` (row ``z`` = the law of the next state): chain latent :math:`g_b`
      stays (``stay`` on state :math:`g_b`, ``1 - stay`` on :math:`g_b+1`), every other chain
      latent ``i`` advances (``1 - stay`` on ``i``, ``stay`` on ``i + 1``); background latent
      ``j`` puts 0.8 / 0.2 on two distinct states :math:`u_{h,j}, v_{h,j}` (drawn per stage) in
      even blocks and is uniform on the other ``S - 2`` states in odd blocks. Every row is
      divided by its sum (a probability vector to rounding; the models are checked exactly
      linear by :class:`~mdptheory.core.LinearMDP`).
    * :math:`\theta^{(b)}_h`: last stage ``H-1``: 1 on :math:`g_b`, 0.001 on the other chain
      latents, 0 on the background; stages ``h < H-1``: :math:`\varepsilon_{h,z}\sim
      U[0.005, 0.008]` (drawn once) except :math:`\theta^{(b)}_h(g_b)=0`.

    Rewards are deterministic in ``[0, 1]`` (N1); ``initial`` is ``"uniform"`` (the authors'
    script) or anything :class:`~mdptheory.core.LinearMDP` accepts. Assumption A holds
    exactly: :math:`\|\phi\|_2=1`, :math:`\mu_h(\mathcal S)=\mathbf 1_d` (norm
    :math:`\sqrt d`), :math:`\|\theta_h\|_2\le\sqrt d`. Blocks with the same
    :math:`(g_b, b\bmod2)` share one model object. ``speed = 1`` gives a stationary sequence.
    The exact budgets :math:`B_\theta, B_\mu` are in ``variation()``. Differences from the
    authors' public script (which perturbs :math:`\mu` additively, clips at 0 without
    renormalising and redraws the small rewards at every block) are listed in
    ``proofs_notes/lsvi_ucb_restart.md``. ``seed``: a non-negative integer or a Generator;
    draws, in order: the random latents (state-major), the background states (stage-major),
    the small rewards.
    """
    S, A, H, d = check_int("S", S, 3), check_int("A", A, 1), check_int("H", H, 1), check_int("d", d, 1)
    K = check_int("episodes", episodes, 1)
    speed = check_int("speed", speed, 1, K)
    n_chain = check_int("n_chain", n_chain, 1, min(d, A, S - 1))
    stay = check_probability("stay", stay)
    rng = check_generator(seed)
    z = np.empty((S, A), dtype=np.int64)
    for s in range(S):
        for a in range(A):
            if s < n_chain and a == A - 1 - s:
                z[s, a] = s
            elif s < n_chain:
                j = int(rng.integers(d - 1)) if d > 1 else 0
                z[s, a] = j + 1 if (d > 1 and j >= s) else j
            else:
                z[s, a] = int(rng.integers(d))
    phi = np.zeros((S, A, d))
    phi[np.arange(S)[:, None], np.arange(A)[None, :], z] = 1.0
    pairs = np.empty((H, d, 2), dtype=np.int64)
    for h in range(H):
        for j in range(n_chain, d):
            pairs[h, j] = rng.choice(S, size=2, replace=False)
    lo, hi = LINEAR_DRIFT_SMALL_REWARD
    eps = lo + (hi - lo) * rng.random((H, d))

    def block_model(g, odd):
        mu = np.zeros((H, d, S))
        for i in range(n_chain):
            here, nxt = (stay, 1.0 - stay) if i == g else (1.0 - stay, stay)
            mu[:, i, i] += here
            mu[:, i, i + 1] += nxt
        for h in range(H):
            for j in range(n_chain, d):
                u, v = pairs[h, j]
                if odd:
                    mu[h, j] = 1.0 / (S - 2)
                    mu[h, j, u] = mu[h, j, v] = 0.0
                else:
                    mu[h, j, u], mu[h, j, v] = 0.8, 0.2
        mu /= mu.sum(axis=2, keepdims=True)
        theta = eps.copy()
        theta[:H - 1, g] = 0.0
        theta[H - 1] = 0.0
        theta[H - 1, :n_chain] = 0.001
        theta[H - 1, g] = 1.0
        init = np.full(S, 1.0 / S) if isinstance(initial, str) and initial == "uniform" else initial
        return LinearMDP(phi, mu, theta, H, init)

    cache, models, index = {}, [], np.empty(K, dtype=np.int64)
    blocks = (np.arange(K, dtype=np.int64) * speed) // K
    for b in range(speed):
        key = ((b + 1) % n_chain, b % 2)
        if key not in cache:
            cache[key] = len(models)
            models.append(block_model(*key))
        index[blocks == b] = cache[key]
    return NonStationaryMDP.from_index(models, index)

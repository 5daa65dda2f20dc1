r"""Non-stationary families: sequences of episodic models over ``K`` episodes
(:class:`~mdptheory.core.nonstationary.NonStationaryMDP`).

* :func:`bidirectional_combination_lock` -- the benchmark of Mao, Zhang, Zhu, Simchi-Levi &
  Başar (Appendix J of the journal version), abrupt or gradual;
* :func:`switching` -- any models played in turn, ``period`` episodes each;
* :func:`drifting` -- a linear drift between any two models (quantised, see
  :meth:`NonStationaryMDP.drift`).

Provenance and reconstructions: ``proofs_notes/dynamic_regret.md``.
"""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.core.nonstationary import NonStationaryMDP
from mdptheory.core.validation import check_choice, check_generator, check_int, check_probability, check_real

__all__ = ["bidirectional_combination_lock", "bidirectional_lock_model", "switching", "drifting"]


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

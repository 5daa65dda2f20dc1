r"""Chain families: the two-action chain of TabulaRL / rlberry and the combination lock.

Sources: ``iosband/TabulaRL`` ``make_deterministicChain`` / ``make_stochasticChain`` (chain)
and the combination-lock construction used throughout the exploration literature (one
correct action per state; our canonical form is written out below).
"""

from __future__ import annotations

import numpy as np

from mdptheory.envs._build import make_mdp
from mdptheory.core.validation import check_generator, check_int, check_probability, check_real

__all__ = ["chain", "combination_lock"]


def chain(n: int, horizon: int | None = None, gamma: float | None = None, *,
          fail_prob: float = 0.0, small_reward: float = 0.0, large_reward: float = 1.0,
          reward_noise: str = "deterministic", reward_std: float = 0.0):
    r"""Two-action chain of ``n`` states (0 = left, 1 = right), start state 0.

    Dynamics (TabulaRL ``make_deterministicChain`` for ``fail_prob = 0`` and
    ``make_stochasticChain`` for ``fail_prob = 1/n``):

    * left: :math:`s \to \max(0, s-1)` with probability 1;
    * right: :math:`s \to \min(n-1, s+1)` w.p. ``1 - fail_prob``, else :math:`\max(0, s-1)`.

    Mean rewards: :math:`r(0, \text{left}) = ` ``small_reward`` (TabulaRL: 0),
    :math:`r(n-1, \text{right}) = ` ``large_reward`` (TabulaRL: 1), all others 0.
    TabulaRL adds N(0, 1) noise to both rewards; pass ``reward_noise="gaussian",
    reward_std=1.0`` for that, or ``"bernoulli"`` for bounded rewards with the same means.
    Default normalisation: per-step rewards in ``[0, 1]`` (N1).

    With ``fail_prob = 0`` the chain is deterministic; its diameter is ``n - 1``
    (``mdptheory.measures.diameter``). With ``small_reward = 0`` (TabulaRL) and the default
    episodic horizon ``n``, the optimal return from state 0 is
    ``large_reward * (1 - fail_prob)**(n - 1)``: the agent must succeed ``n - 1`` times in a
    row (a failure costs a step that cannot be recovered) and then collects the large
    reward at ``(n-1, right)`` whatever the move.

    Parameters
    ----------
    n : int >= 2
    horizon : int, optional
        Episodic horizon (default ``n``, TabulaRL's stochastic chain uses ``H = n``).
    gamma : float in [0, 1), optional
        Discounted version instead.
    fail_prob : float in [0, 1]
        Probability that "right" moves left instead.
    small_reward, large_reward : float
    reward_noise, reward_std
        Reward law for samplers (see :class:`mdptheory.EpisodicMDP`).
    """
    n = check_int("n", n, 2)
    f = check_probability("fail_prob", fail_prob)
    small = check_real("small_reward", small_reward)
    large = check_real("large_reward", large_reward)
    P = np.zeros((n, 2, n))
    for s in range(n):
        P[s, 0, max(0, s - 1)] = 1.0
        P[s, 1, min(n - 1, s + 1)] += 1.0 - f
        P[s, 1, max(0, s - 1)] += f
    R = np.zeros((n, 2))
    R[0, 0] = small
    R[n - 1, 1] = large
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=0, default_horizon=n,
                    family="chain", reward_noise=reward_noise, reward_std=reward_std)


def combination_lock(n: int, horizon: int | None = None, gamma: float | None = None, *,
                     A: int = 2, seed=0, correct_actions=None, fail_prob: float = 0.0,
                     on_mistake: str = "reset"):
    r"""Combination lock with ``n`` lock states and one hidden correct action per state.

    States ``0..n-1`` are the lock positions (start 0). In state ``s`` the correct action
    :math:`a^*_s` (drawn uniformly from ``0..A-1`` with ``seed``, or given by
    ``correct_actions``) advances the lock:

    * for ``s < n-1``: :math:`s \to s+1` w.p. ``1 - fail_prob``;
    * for ``s = n-1``: the lock opens, reward 1 (mean reward of the pair :math:`(n-1,
      a^*_{n-1})`), and the lock resets to state 0 w.p. 1.

    Every other action is a mistake, and so is a failed correct action (w.p. ``fail_prob``):
    with ``on_mistake="reset"`` (default) a mistake sends the agent back to state 0 ("any
    mistake resets"); with ``on_mistake="dead"`` it sends it to an absorbing zero-reward
    dead state ``n`` (``S = n + 1``; the variant of the regret notes, section 11.3). All
    other rewards are 0, so per-step rewards are in ``[0, 1]`` and, with the default
    horizon ``n``, the return is in ``{0, 1}`` (N1 and N2).

    Known answers: with horizon ``n`` the optimal value of state 0 is
    ``(1 - fail_prob)**(n - 1)``; uniformly random exploration opens the lock with
    probability ``A**-n`` per episode.

    Parameters
    ----------
    n : int >= 1
        Number of lock states.
    horizon : int, optional
        Episodic horizon (default ``n``).
    gamma : float in [0, 1), optional
        Discounted version instead.
    A : int >= 2
    seed : int or numpy.random.Generator
        Draws the correct actions when ``correct_actions`` is None.
    correct_actions : sequence of n ints in ``0..A-1``, optional
    fail_prob : float in [0, 1]
    on_mistake : {"reset", "dead"}
    """
    n = check_int("n", n, 1)
    A = check_int("A", A, 2)
    f = check_probability("fail_prob", fail_prob)
    if on_mistake not in ("reset", "dead"):
        raise ValueError(f"on_mistake must be 'reset' or 'dead', got {on_mistake!r}")
    if correct_actions is None:
        correct = check_generator(seed).integers(0, A, size=n)
    else:
        correct = np.asarray(correct_actions)
        if correct.shape != (n,) or not np.issubdtype(correct.dtype, np.integer):
            raise ValueError(f"correct_actions must be {n} integers, got {correct_actions!r}")
        bad = (correct < 0) | (correct >= A)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"correct_actions[{i}] = {int(correct[i])} is not an action in [0, {A})")
    S = n + (1 if on_mistake == "dead" else 0)
    sink = n if on_mistake == "dead" else 0
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for s in range(n):
        for a in range(A):
            if a == correct[s]:
                nxt = s + 1 if s < n - 1 else 0
                P[s, a, nxt] += 1.0 - f
                P[s, a, sink] += f
            else:
                P[s, a, sink] = 1.0
    R[n - 1, correct[n - 1]] = 1.0
    if on_mistake == "dead":
        P[n, :, n] = 1.0
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=0, default_horizon=n,
                    family="combination_lock")

r"""RiverSwim (Strehl & Littman 2008), in the exact parametrisation of Osband's TabulaRL.

Source of the dynamics and rewards: ``iosband/TabulaRL``, ``src/environment.py``,
``make_riverSwim`` (used by Osband, Russo & Van Roy 2013 and most regret papers since).
"""

from __future__ import annotations

import numpy as np

from mdptheory.envs._build import make_mdp
from mdptheory.core.validation import check_int, check_real

__all__ = ["riverswim", "RIVERSWIM_SMALL_REWARD", "STREHL_LITTMAN_SMALL_REWARD"]

#: Default small reward: TabulaRL's ``5/1000`` (large reward normalised to 1).
RIVERSWIM_SMALL_REWARD = 0.005
#: The small reward of the original RiverSwim (Strehl & Littman 2008: 5 vs 10000) after
#: normalising the large reward to 1.
STREHL_LITTMAN_SMALL_REWARD = 0.0005


def riverswim(n: int = 6, horizon: int | None = None, gamma: float | None = None, *,
              small_reward: float = RIVERSWIM_SMALL_REWARD, large_reward: float = 1.0,
              reward_noise: str = "deterministic"):
    r"""RiverSwim chain of ``n`` states, two actions (0 = swim left, 1 = swim right).

    Dynamics (TabulaRL ``make_riverSwim``; identical probabilities to Strehl & Littman 2008):

    * action 0 ("left", with the current): deterministic move to :math:`\max(0, s-1)`;
    * action 1 ("right", against the current):

      - at ``s = 0``: stay w.p. 0.4, move to 1 w.p. 0.6;
      - at ``1 <= s <= n-2``: move to ``s+1`` w.p. 0.35, stay w.p. 0.6, move to ``s-1`` w.p. 0.05;
      - at ``s = n-1``: stay w.p. 0.6, move to ``n-2`` w.p. 0.4.

    Mean rewards: :math:`r(0, \text{left}) = ` ``small_reward``,
    :math:`r(n-1, \text{right}) = ` ``large_reward``, all others 0. Start state 0.

    **Small-reward default.** Two normalisations circulate: TabulaRL uses ``5/1000 = 0.005``
    with the large reward 1 (:data:`RIVERSWIM_SMALL_REWARD`, our default), while the
    original paper pays 5 and 10000, i.e. ``0.0005`` after normalising
    (:data:`STREHL_LITTMAN_SMALL_REWARD`). We default to 0.005 because it is the value the
    regret literature's experiments (TabulaRL, PSRL/UCBVI comparisons) actually ran, and it
    keeps the per-step rewards in ``[0, 1]`` (normalisation N1). Always report which value
    was used.

    **Optimal policy (default parameters).** Discounted (``gamma`` in {0.9, 0.95, 0.99}): swim
    right in every state. Episodic (``n = 6``, ``H = 20``): swim right in every state at the
    first stages (``h <= 13``); near the end of the episode the far end is out of reach and
    state 0 strictly prefers collecting ``small_reward`` (and elsewhere both actions may be
    worth 0). For ``n = 2`` the values are closed forms: discounted
    :math:`V^* = (0.6\gamma, 1 - 0.4\gamma)/(1-\gamma)`; episodic ``H = 2``:
    :math:`V^*_0 = (0.602, 1.602)`. (Checked in ``tests/envs/test_chains_riverswim.py`` against
    hand calculations and an independent backward induction over the TabulaRL table.)

    Parameters
    ----------
    n : int >= 2
        Number of states (TabulaRL uses 6; ``n = 30, 40`` with ``horizon = 4 n`` also appear).
    horizon : int, optional
        Episodic version with this horizon (default 20, as in TabulaRL, when ``gamma`` is
        not given). Stationary (time-homogeneous) dynamics.
    gamma : float in [0, 1), optional
        Discounted version instead (same ``P``, ``R``, start state 0).
    small_reward, large_reward : float
        ``0 <= small_reward < large_reward``.
    reward_noise : {"deterministic", "bernoulli", "gaussian"}
        Reward law used by samplers (``"bernoulli"`` needs ``large_reward <= 1``).

    Returns
    -------
    EpisodicMDP or DiscountedMDP
        ``S = n``, ``A = 2``.

    Examples
    --------
    >>> from mdptheory.envs import riverswim
    >>> mdp = riverswim(6)            # episodic, H = 20, start state 0
    >>> mdp.S, mdp.A, mdp.horizon
    (6, 2, 20)
    """
    n = check_int("n", n, 2)
    small = check_real("small_reward", small_reward, 0.0)
    large = check_real("large_reward", large_reward, 0.0)
    if not small < large:
        raise ValueError(f"small_reward = {small!r} must be < large_reward = {large!r}")
    P = np.zeros((n, 2, n))
    for s in range(n):
        P[s, 0, max(0, s - 1)] = 1.0
    P[0, 1, 0] = 0.4
    P[0, 1, 1] = 0.6
    for s in range(1, n - 1):
        P[s, 1, s + 1] = 0.35
        P[s, 1, s] = 0.6
        P[s, 1, s - 1] = 0.05
    P[n - 1, 1, n - 1] += 0.6
    P[n - 1, 1, n - 2] += 0.4
    R = np.zeros((n, 2))
    R[0, 0] = small
    R[n - 1, 1] = large
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=0, default_horizon=20,
                    family="riverswim", reward_noise=reward_noise)

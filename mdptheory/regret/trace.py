r"""The result of :func:`mdptheory.run`: :class:`RegretTrace`, and the rule that sums its
per-episode pseudo-regret into :math:`\mathrm{Regret}(k)` (:func:`cumulative_regret`, also
used for stored study records)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["RegretTrace", "cumulative_regret"]


def cumulative_regret(pseudo_regret, eval_every: int = 1) -> np.ndarray:
    r"""Cumulative pseudo-regret :math:`\mathrm{Regret}(k)=\sum_{j\le k}\Delta_j`, rows = seeds.

    Exact for ``eval_every == 1``. With a stride ``m > 1`` (only episodes ``k % m == 0``
    evaluated, NaN elsewhere) each unevaluated episode is assigned the regret of the last
    evaluated one (a step-function approximation). ``eval_every == 0`` (no evaluation) has
    no regret to sum: ``ValueError``.
    """
    x = np.atleast_2d(np.asarray(pseudo_regret, dtype=np.float64))
    if eval_every != 1:
        if eval_every == 0:
            raise ValueError("this trace was run with eval_every=0 (no evaluation): no regret to sum")
        x = np.repeat(x[:, ::eval_every], eval_every, axis=1)[:, : x.shape[1]]
    return np.cumsum(x, axis=1)


@dataclass(frozen=True, eq=False)
class RegretTrace:
    r"""Per-episode regret accounting of one learner on one MDP over several seeds.

    Attributes
    ----------
    pseudo_regret : ndarray ``(n_seeds, episodes)``
        Exact pseudo-regret :math:`\mathbb E_{s_1\sim\rho}[V^*_1(s_1) - V^{\pi_k}_1(s_1)]` of
        the policy :math:`\pi_k` actually played in episode ``k``, computed by exact policy
        evaluation on the true model. With ``eval_every = m > 1`` only episodes
        ``k % m == 0`` are evaluated and the others hold NaN.
    returns : ndarray ``(n_seeds, episodes)``
        Realised return (sum of sampled rewards) of every episode.
    seeds : tuple of int
        The seed of each row; row ``i`` used ``numpy.random.SeedSequence(seeds[i])``.
    wall_time : float
        Seconds for the whole call (all seeds, including compilation if any).
    learner : str
        Learner class name.
    config : dict
        The learner's :meth:`config`.
    S, A, H : int
    v_star : float
        :math:`\sum_s \rho(s) V^*_1(s)` (optimal expected return).
    eval_every : int
    backend : str
        ``"compiled"`` or ``"python"``.
    workers : int
        Threads used for the seeds.
    measures : dict
        Key measures of the MDP (:func:`mdptheory.regret.engine.mdp_measures`: ``v_star``,
        ``min_gap``, ``gap_sum``, ``max_step_variance``, ``optimal_return_variance``,
        ``max_total_reward``, ``deterministic``, ...); empty if ``run(..., measures=False)``.
    """

    pseudo_regret: np.ndarray = field(repr=False)
    returns: np.ndarray = field(repr=False)
    seeds: tuple
    wall_time: float
    learner: str
    config: dict = field(repr=False)
    S: int
    A: int
    H: int
    v_star: float
    eval_every: int = 1
    backend: str = "compiled"
    workers: int = 1
    measures: dict = field(default_factory=dict, repr=False)

    @property
    def n_seeds(self) -> int:
        return self.pseudo_regret.shape[0]

    @property
    def episodes(self) -> int:
        return self.pseudo_regret.shape[1]

    @property
    def evaluated(self) -> np.ndarray:
        """Boolean mask ``(episodes,)`` of the evaluated episodes (``k % eval_every == 0``)."""
        k = np.arange(self.episodes)
        if self.eval_every == 0:
            return np.zeros(self.episodes, dtype=bool)
        return k % self.eval_every == 0

    @property
    def exact(self) -> bool:
        """True when every episode was evaluated (``eval_every == 1``)."""
        return self.eval_every == 1

    def cumulative(self) -> np.ndarray:
        r"""Cumulative pseudo-regret :math:`\mathrm{Regret}(k)=\sum_{j\le k}\Delta_j`,
        ``(n_seeds, episodes)``.

        Exact when ``eval_every == 1``; otherwise the step-function approximation of
        :func:`cumulative_regret`, flagged by :attr:`exact` = False."""
        return cumulative_regret(self.pseudo_regret, self.eval_every)

    def cumulative_returns(self) -> np.ndarray:
        """Cumulative realised returns, ``(n_seeds, episodes)``."""
        return np.cumsum(self.returns, axis=1)

    def realized_regret(self) -> np.ndarray:
        """Cumulative ``v_star - return`` (noisy; the pseudo-regret is what theorems bound)."""
        return np.cumsum(self.v_star - self.returns, axis=1)

    def quantiles(self, q=(0.1, 0.5, 0.9)) -> np.ndarray:
        """Quantiles across seeds of the cumulative regret, ``(len(q), episodes)``."""
        return np.quantile(self.cumulative(), np.asarray(q, dtype=float), axis=0)

    def summary(self) -> str:
        c = self.cumulative()[:, -1]
        return (
            f"{self.learner}: S={self.S} A={self.A} H={self.H} K={self.episodes} seeds={self.n_seeds} "
            f"V*={self.v_star:.4g} regret(K) mean={c.mean():.4g} min={c.min():.4g} max={c.max():.4g} "
            f"({self.wall_time:.2f}s, {self.backend})"
        )

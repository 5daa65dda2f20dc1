"""Shared test fixtures: the small models that tests across layers are built on.

Every builder draws from its own ``numpy.random.default_rng(seed)`` in a fixed order
(transition rows first, then mean rewards), so a test that names the seed gets the same
model every time. Use them through the fixtures (``random_episodic``, ``random_discounted``)
rather than writing a local builder.
"""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.core import DiscountedMDP, EpisodicMDP


def make_random_episodic(S: int = 3, A: int = 2, H: int = 4, seed: int = 0, *, stage: bool = False,
                         noise: str = "deterministic", reward_scale: float = 1.0,
                         initial="uniform") -> EpisodicMDP:
    """Dirichlet(1) transition rows and U[0, 1) mean rewards times ``reward_scale``;
    stage-dependent (``(H, S, A, S)``) when ``stage``; ``initial`` is ``"uniform"``, a state
    index or a distribution."""
    rng = np.random.default_rng(seed)
    shape = (H, S, A) if stage else (S, A)
    P = rng.dirichlet(np.ones(S), size=shape)
    R = rng.random(shape) * reward_scale
    init = np.full(S, 1.0 / S) if isinstance(initial, str) and initial == "uniform" else initial
    return EpisodicMDP(P, R, H, init, reward_noise=noise)


def make_random_discounted(S: int = 5, A: int = 3, gamma: float = 0.9, seed: int = 0) -> DiscountedMDP:
    """Dirichlet(1) transition rows, U[0, 1) rewards, uniform initial law."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    return DiscountedMDP(P, rng.random((S, A)), gamma, np.full(S, 1.0 / S))


@pytest.fixture
def random_episodic():
    """Factory fixture: ``random_episodic(S, A, H, seed, stage=..., noise=..., reward_scale=...)``."""
    return make_random_episodic


@pytest.fixture
def random_discounted():
    """Factory fixture: ``random_discounted(S, A, gamma, seed)``."""
    return make_random_discounted

"""Private helpers shared by the family constructors (parameter checks, model assembly)."""

from __future__ import annotations

import numbers

import numpy as np

from mdptheory.core import DiscountedMDP, EpisodicMDP

__all__ = ["check_int", "check_prob", "check_real", "make_mdp", "as_generator"]


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int; ``TypeError`` for non-integers, ``ValueError`` out of range."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} = {v} must be >= {minimum}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} = {v} must be <= {maximum}")
    return v


def check_real(name: str, value, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float inside the given (closed unless ``*_open``) interval."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} = {v!r} must be finite")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} = {v!r} must be {'>' if lo_open else '>='} {lo}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValueError(f"{name} = {v!r} must be {'<' if hi_open else '<='} {hi}")
    return v


def check_prob(name: str, value) -> float:
    """A probability in ``[0, 1]``."""
    return check_real(name, value, 0.0, 1.0)


def as_generator(seed) -> np.random.Generator:
    """A seeded ``numpy.random.Generator`` (never the global RNG)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"seed must be an integer or a numpy.random.Generator, got {seed!r}")
    if int(seed) < 0:
        raise ValueError(f"seed = {int(seed)} must be >= 0")
    return np.random.default_rng(int(seed))


def make_mdp(P, R, *, horizon, gamma, initial, default_horizon: int | None, family: str,
             reward_noise: str = "deterministic", reward_std: float = 0.0):
    """Episodic model when ``gamma is None`` (horizon ``horizon`` or the family's default),
    discounted model when ``gamma`` is given; both at once is an error."""
    if horizon is not None and gamma is not None:
        raise ValueError(
            f"{family}: pass either horizon= (episodic) or gamma= (discounted), not both "
            f"(got horizon={horizon!r}, gamma={gamma!r})"
        )
    if gamma is not None:
        return DiscountedMDP(P, R, gamma, initial, reward_noise=reward_noise, reward_std=reward_std)
    if horizon is None:
        if default_horizon is None:
            raise ValueError(f"{family}: pass horizon= (episodic) or gamma= (discounted)")
        horizon = default_horizon
    H = check_int("horizon", horizon, 1)
    return EpisodicMDP(P, R, H, initial, reward_noise=reward_noise, reward_std=reward_std)

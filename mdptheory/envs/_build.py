"""Private helper shared by the family constructors: model assembly (episodic or discounted)."""

from __future__ import annotations


from mdptheory.core import DiscountedMDP, EpisodicMDP
from mdptheory.core.validation import check_int

__all__ = ["make_mdp"]


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

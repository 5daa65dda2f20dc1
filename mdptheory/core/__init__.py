"""Core model objects and policy helpers."""

from mdptheory.core.mdp import ROW_SUM_TOL, DiscountedMDP, EpisodicMDP, as_mdp
from mdptheory.core.linear import DiscountedLinearMDP, FeaturizedMDP, LinearMDP, feature_view
from mdptheory.core.nonstationary import NonStationaryMDP, VariationBudget
from mdptheory.core.policy import PolicySpec, to_stochastic, uniform_policy, validate_policy

__all__ = [
    "DiscountedMDP",
    "EpisodicMDP",
    "LinearMDP",
    "DiscountedLinearMDP",
    "FeaturizedMDP",
    "feature_view",
    "NonStationaryMDP",
    "VariationBudget",
    "as_mdp",
    "ROW_SUM_TOL",
    "PolicySpec",
    "validate_policy",
    "to_stochastic",
    "uniform_policy",
]

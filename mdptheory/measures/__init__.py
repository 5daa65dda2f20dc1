"""Exact properties of an MDP: action gaps, diameter, communication class, value and
variance norms, hitting times.

Each function documents its definition; ``proofs_notes/hardness_measures.md`` explains
how each quantity enters known regret bounds.
"""

from mdptheory.measures.gaps import (GapSummary, action_gaps, gap_sum, gap_summary, min_gap,
                                     reachable_pairs)
from mdptheory.measures.markov import bias_span, hitting_times, policy_chain, stationary_distribution
from mdptheory.measures.structure import (CommunicationClass, Diameter, EndComponent,
                                          communication_class, diameter, diameter_info,
                                          end_components)
from mdptheory.measures.variance import (VarianceNorms, next_value_variance, return_variance,
                                         value_norm, variance_norms)

__all__ = [
    "action_gaps", "min_gap", "gap_sum", "gap_summary", "GapSummary", "reachable_pairs",
    "communication_class", "CommunicationClass", "end_components", "EndComponent",
    "diameter", "diameter_info", "Diameter", "variance_norms", "VarianceNorms", "return_variance", "value_norm",
    "next_value_variance", "bias_span", "policy_chain", "stationary_distribution", "hitting_times",
]
# robust measures need a policy and an uncertainty set: importable here, not study-file measures
from mdptheory.measures.robust import (PerturbedValue, RobustPolicyValue, RobustSuboptimality, perturbed_value,
                                       robust_policy_value, robust_suboptimality)

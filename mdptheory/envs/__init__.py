"""MDP families: one function per family, each returning a validated core object.

Every docstring states the family's origin and exact dynamics.
"""

from mdptheory.envs.textbook import mdptoolbox_small, puterman_inventory, puterman_two_state
from mdptheory.envs.riverswim import riverswim
from mdptheory.envs.chains import chain, combination_lock
from mdptheory.envs.deterministic import deterministic, is_deterministic, stochastic_twin
from mdptheory.envs.deep_sea import deep_sea, deep_sea_state
from mdptheory.envs.gridworld import FROZEN_LAKE_MAPS, gridworld, parse_map
from mdptheory.envs.random_mdps import garnet, random_dense
from mdptheory.envs.lower_bound import lower_bound_instance, lower_bound_layout
from mdptheory.envs.gym import GymnasiumConversionError, from_gymnasium, to_gymnasium

__all__ = ["puterman_two_state", "puterman_inventory", "mdptoolbox_small"]
__all__ += ["riverswim", "chain", "combination_lock", "deterministic", "is_deterministic",
            "stochastic_twin", "deep_sea", "deep_sea_state", "gridworld", "parse_map",
            "FROZEN_LAKE_MAPS", "garnet", "random_dense", "lower_bound_instance",
            "lower_bound_layout", "from_gymnasium", "to_gymnasium", "GymnasiumConversionError"]
# family_circuit, FAMILY_KINDS and the exact kernel with its twin are importable from here but
# stay out of __all__, which lists what study files may name as a family.
from mdptheory.envs.circuit_language import Circuit, CircuitBuilder, CircuitOutputStats
from mdptheory.envs.bitstring_solver import (
    BitstringSolution, ExactValues, backward_induction_bitstring, backward_induction_bitstring_ref,
    exact_backward_induction,
)
from mdptheory.envs.bitstring import (
    FAMILY_KINDS, BitstringFamily, BitstringMDP, bitstring_family, collect_bet, family_circuit,
    local_threshold_bet, majority_bet, parity_bet,
)
__all__ += ["parity_bet", "majority_bet", "collect_bet", "local_threshold_bet", "bitstring_family",
            "BitstringFamily", "BitstringMDP", "BitstringSolution", "Circuit", "CircuitBuilder",
            "CircuitOutputStats", "ExactValues", "exact_backward_induction"]
from mdptheory.envs.counterexamples import OffPolicyInstance, baird_star, tsitsiklis_van_roy
from mdptheory.envs.linear_mdp import (linear_assumption, linear_mdp_instance, misspecified_linear_mdp,
                                       random_linear_mdp, tabular_linear_mdp)
from mdptheory.envs.zigzag import ZigZagRelay, zigzag_relay
__all__ += ["OffPolicyInstance", "baird_star", "tsitsiklis_van_roy", "random_linear_mdp",
            "tabular_linear_mdp", "linear_mdp_instance", "ZigZagRelay", "zigzag_relay"]
from mdptheory.envs.nonstationary import (bidirectional_combination_lock, bidirectional_lock_model, drifting,
                                          drifting_linear_mdp, switching)
# bidirectional_combination_lock, switching, drifting and drifting_linear_mdp return a NonStationaryMDP (run it with
# mdptheory.run); they are importable here but not study-file families (the registry lists __all__).
__all__ += ["bidirectional_lock_model"]
from mdptheory.envs.bias_examples import NoisyRewardMDP, as_noisy, maximization_bias, noisy_garnet, van_hasselt_grid
# maximization_bias and van_hasselt_grid return a NoisyRewardMDP (per-pair reward laws), not a
# core model: importable here, not study-file families.
__all__ += ["noisy_garnet"]
from mdptheory.envs.robust_examples import (RobustLinearInstance, RobustTabularInstance, robust_gridworld,
                                            robust_linear_instance, robust_riverswim)
__all__ += ["robust_linear_instance", "robust_riverswim", "robust_gridworld", "RobustLinearInstance",
            "RobustTabularInstance"]
from mdptheory.envs.cliff_walk import cliff_walk_layout, modified_cliff_walk
from mdptheory.envs.model_error import approximate_model
__all__ += ["modified_cliff_walk"]
__all__ += ["misspecified_linear_mdp"]

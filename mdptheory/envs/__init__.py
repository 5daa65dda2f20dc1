"""MDP families: one function per family, each returning a validated core object.

Every docstring states the family's origin and exact dynamics.
"""

from mdptheory.envs.textbook import mdptoolbox_small, puterman_inventory, puterman_two_state
from mdptheory.envs.riverswim import riverswim
from mdptheory.envs.chains import chain, combination_lock
from mdptheory.envs.deterministic import deterministic, is_deterministic, stochastic_twin

__all__ = ["puterman_two_state", "puterman_inventory", "mdptoolbox_small"]
__all__ += ["riverswim", "chain", "combination_lock", "deterministic", "is_deterministic",
            "stochastic_twin"]
from mdptheory.envs.bitstring import (
    BitstringFamily, BitstringMDP, BitstringSolution, Circuit, CircuitBuilder, bitstring_family,
    collect_bet, local_threshold_bet, majority_bet, parity_bet,
)
__all__ += ["parity_bet", "majority_bet", "collect_bet", "local_threshold_bet", "bitstring_family",
            "BitstringFamily", "BitstringMDP", "BitstringSolution", "Circuit", "CircuitBuilder"]

"""mdptheory: a theory-first toolkit for tabular and linear Markov decision processes.

Layers (each imports only from the ones before it):
``core`` -> ``kernels`` -> ``solvers`` -> ``envs`` -> ``measures`` -> ``learners`` ->
``regret`` -> ``probes`` / ``correction`` -> ``sweeps`` -> ``plots`` -> ``cli``.
"""

__version__ = "0.1.0"

from mdptheory.core import DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP, validate_policy
from mdptheory.solvers import Solution, evaluate, solve
from mdptheory.regret import RegretTrace, run

__all__ = [
    "__version__",
    "DiscountedMDP",
    "EpisodicMDP",
    "LinearMDP",
    "DiscountedLinearMDP",
    "validate_policy",
    "Solution",
    "solve",
    "evaluate",
    "run",
    "RegretTrace",
]

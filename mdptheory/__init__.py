"""mdptheory: a theory-first toolkit for tabular and linear Markov decision processes.

Layers (each imports only from the ones before it):
``core`` -> ``kernels`` -> ``solvers`` -> ``envs`` -> ``measures`` -> ``learners`` ->
``regret`` -> ``probes`` -> ``correction`` -> ``sweeps`` -> ``plots`` -> ``cli``.
"""

__version__ = "0.1.0"

import importlib as _importlib

from mdptheory.core import (DiscountedLinearMDP, DiscountedMDP, EpisodicMDP, LinearMDP, NonStationaryMDP,
                            validate_policy)
from mdptheory.solvers import Solution, evaluate, evaluate_q, solve
from mdptheory.solvers.robust import KL, TV, ChiSquare, solve_robust
from mdptheory.regret import RegretTrace, run

#: The layers, bottom first: a module imports only from its own layer and the ones before it
#: (``tests/test_layering.py`` checks every import statement).
LAYERS = ("core", "kernels", "solvers", "envs", "measures", "learners", "regret", "probes",
          "correction", "sweeps", "plots", "cli")

_SUBPACKAGES = ("core", "kernels", "solvers", "envs", "measures", "learners", "regret", "probes",
                "correction", "sweeps", "plots")


def __getattr__(name):
    """Import subpackages on first use, so ``mdptheory.envs.riverswim(...)`` works after a
    plain ``import mdptheory`` without paying for every subpackage at import time."""
    if name in _SUBPACKAGES:
        return _importlib.import_module(f"mdptheory.{name}")
    raise AttributeError(f"module 'mdptheory' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))

__all__ = [
    "__version__",
    "DiscountedMDP",
    "EpisodicMDP",
    "LinearMDP",
    "DiscountedLinearMDP",
    "NonStationaryMDP",
    "validate_policy",
    "Solution",
    "solve",
    "solve_robust",
    "TV",
    "KL",
    "ChiSquare",
    "evaluate",
    "evaluate_q",
    "run",
    "RegretTrace",
]

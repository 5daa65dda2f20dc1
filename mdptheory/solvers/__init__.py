"""Exact planning: value iteration (Jacobi and Gauss-Seidel), policy iteration, modified
policy iteration, linear programming (HiGHS; cvxpy formulation), relative value iteration,
backward induction, and exact policy evaluation."""

from mdptheory.solvers.api import DEFAULT_METHOD, DISCOUNTED_METHODS, evaluate, evaluate_q, solve
from mdptheory.solvers.average import relative_value_iteration
from mdptheory.solvers.discounted import (
    certify,
    gauss_seidel_vi,
    modified_policy_iteration,
    policy_iteration,
    value_iteration,
)
from mdptheory.solvers.episodic import backward_induction, evaluate_episodic
from mdptheory.solvers.lp import (
    ConstrainedSolution,
    linear_programming,
    lp_cvxpy,
    occupancy_measure,
    solve_constrained,
)
from mdptheory.solvers.result import Solution

__all__ = [
    "solve", "evaluate", "evaluate_q", "Solution", "DEFAULT_METHOD", "DISCOUNTED_METHODS",
    "value_iteration", "gauss_seidel_vi", "policy_iteration", "modified_policy_iteration",
    "linear_programming", "lp_cvxpy", "solve_constrained", "ConstrainedSolution",
    "occupancy_measure", "relative_value_iteration", "backward_induction", "evaluate_episodic",
    "certify",
]
from mdptheory.solvers.robust import (DEFAULT_ROBUST_METHOD, KL, ROBUST_METHODS, TV, ChiSquare,
                                      RobustEvaluation, evaluate_robust, robust_q, solve_robust,
                                      worst_case_kernel)
__all__ += ["solve_robust", "evaluate_robust", "robust_q", "worst_case_kernel", "RobustEvaluation",
            "TV", "KL", "ChiSquare", "ROBUST_METHODS", "DEFAULT_ROBUST_METHOD"]

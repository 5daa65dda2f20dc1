"""Max-entropy model correction (MoCo): the KL projection of an approximate model onto the
kernels matching queried next-state expectations, MoCoVI (exact queries) and MoCoDyna
(sampled), with the baselines they are compared against (VI, planning in the approximate
model, OS-VI, Q-learning, Dyna, OS-Dyna).

Provenance and reconstructions: proofs_notes/moco.md
"""

from mdptheory.correction.projection import (
    STATUS_CONVERGED, STATUS_INFEASIBLE, STATUS_MAX_ITER, MaxEntProjection, maxent_projection,
)
from mdptheory.correction.moco_vi import (
    MoCoVITrace, PlanningTrace, contraction_rate, exact_target, model_based_trace, moco_vi,
    orthonormal_basis, os_vi, value_iteration_trace,
)
from mdptheory.correction.moco_dyna import (
    MoCoDyna, SampleTrace, Transitions, dyna, model_based_samples, os_dyna, q_learning,
    sample_transitions,
)

__all__ = [
    "maxent_projection", "MaxEntProjection", "STATUS_CONVERGED", "STATUS_MAX_ITER", "STATUS_INFEASIBLE",
    "moco_vi", "MoCoVITrace", "PlanningTrace", "value_iteration_trace", "model_based_trace", "os_vi",
    "orthonormal_basis", "contraction_rate", "exact_target",
    "MoCoDyna", "SampleTrace", "Transitions", "sample_transitions", "q_learning", "dyna", "os_dyna",
    "model_based_samples",
]

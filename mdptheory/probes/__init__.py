"""Theory probes: Bellman completeness / realizability, circuit and Fourier representation
probes."""
from mdptheory.probes.fourier import (
    DegreeProfile, LowDegreeFit, decision_tree_depth, degree_profile, fourier_degree, influences,
    inverse_walsh, low_degree_error, sensitivity, spectral_tail, total_influence, walsh_spectrum,
)
from mdptheory.probes.linear_class import LinearClass, resolve_mu
from mdptheory.probes.bellman import (
    BallIBE, BellmanReport, PEOperators, bellman_report, incompleteness_ratio,
    inherent_bellman_error_ball, pe_operators,
)
from mdptheory.probes.optimality import (
    OptimalityBackup, OptimalityIBE, SupNormFit, ZanetteIBE, local_ibe_optimality, optimality_backup,
    sup_norm_projection, zanette_ibe,
)
from mdptheory.probes.estimators import (
    EstimatorTrace, Transitions, fqe, lstd, sample_transitions, td0,
)
from mdptheory.probes.width import (
    ReluNet1D, WidthBounds, breakpoint_lower_bound, interpolating_relu, width_bounds,
)
from mdptheory.probes.circuits import (
    CircuitGrowthRow, canonical_dnf, circuit_growth, is_monotone, minimal_true_points, monotone_dnf,
)
from mdptheory.probes.representation import (
    MLPFit, RandomFeatureCurve, RepresentationRow, RepresentationTable, compare_representations,
    mlp_fit_error, random_feature_error,
)

"""Theory probes: Bellman completeness / realizability, circuit and Fourier representation
probes."""
from mdptheory.probes.fourier import (
    DegreeProfile, LowDegreeFit, decision_tree_depth, degree_profile, fourier_degree, influences,
    inverse_walsh, low_degree_error, sensitivity, spectral_tail, total_influence, walsh_spectrum,
)

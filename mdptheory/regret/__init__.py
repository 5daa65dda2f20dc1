"""Running learners with exact pseudo-regret accounting, bounds and analysis helpers."""

from mdptheory.regret.analysis import (ExponentFit, fit_exponent, fit_power_law, fraction_above, quantiles,
                                       ratio_to_bound)
from mdptheory.regret.nonstationary import run_nonstationary
from mdptheory.regret.robust import RobustRegretTrace, run_robust
from mdptheory.regret.certificate import (BoundCertificate, CertificateAccumulator, bound_certificate,
                                          combine_certificates, first_informative_episode)
from mdptheory.regret.long_run import LongRun, checkpoint_grid, load_long_run, long_run
from mdptheory.regret.bias import (BiasCurves, BiasPoint, BiasTrace, bias_trace, min_max_bias_uniform,
                                   next_state_weights, occupancy_weights, policy_bias)
from mdptheory.regret.bounds import bound_curve, minimax_lower_bound, theory_exponent
from mdptheory.regret.engine import env_arrays, mdp_measures, run, seed_rng
from mdptheory.regret.trace import RegretTrace, cumulative_regret

__all__ = [
    "run",
    "run_nonstationary",
    "RegretTrace",
    "cumulative_regret",
    "seed_rng",
    "env_arrays",
    "mdp_measures",
    "fit_exponent",
    "fit_power_law",
    "ExponentFit",
    "ratio_to_bound",
    "quantiles",
    "fraction_above",
    "bound_curve",
    "theory_exponent",
    "minimax_lower_bound",
]
__all__ += ["bias_trace", "BiasTrace", "BiasCurves", "BiasPoint", "policy_bias", "occupancy_weights",
            "next_state_weights", "min_max_bias_uniform"]
__all__ += ["run_robust", "RobustRegretTrace"]
__all__ += ["long_run", "LongRun", "checkpoint_grid", "load_long_run", "bound_certificate", "BoundCertificate",
            "CertificateAccumulator", "combine_certificates", "first_informative_episode"]

"""Studies: TOML configs, a name registry, executors (serial, local processes, Dask) and a
resumable, atomic result store.

Typical use::

    from mdptheory.sweeps import load_config, run_sweep, load_results, summarize
    study = load_config("experiments/quickstart.toml")
    run_sweep(study, "results/quickstart")          # resumable; skips finished records
    res = load_results("results/quickstart")       # numpy arrays (n_seeds, K) per configuration
    rows = summarize(res)                           # final regret, CI, exponent, ratio to bound

Exponents are fitted with :func:`mdptheory.regret.fit_power_law` (the package's one log-log
fitter) and bounds evaluated with :func:`mdptheory.regret.bound_curve`.

The command line ``mdptheory run STUDY.toml --out DIR`` does all of this and draws the
figures (:mod:`mdptheory.plots.regret`).
"""

from mdptheory.sweeps.config import (
    ConfigError,
    Configuration,
    LearnerSpec,
    MDPSpec,
    OutputSpec,
    Study,
    load_config,
    parse_config,
)
from mdptheory.sweeps.registry import available, register, resolve
from mdptheory.sweeps.results import (
    ConfigResult,
    Results,
    ScalingFit,
    SummaryRow,
    load_results,
    markdown_table,
    scaling_fits,
    summarize,
    write_scaling_table,
    write_tables,
)
from mdptheory.sweeps.runner import SweepReport, run_sweep
from mdptheory.sweeps.stats import Band, bootstrap_mean_ci, quantile_band
from mdptheory.sweeps.store import Record, RecordStatus, ResultStore

__all__ = [
    "ConfigError", "Configuration", "LearnerSpec", "MDPSpec", "OutputSpec", "Study",
    "load_config", "parse_config", "available", "register", "resolve",
    "ConfigResult", "Results", "ScalingFit", "SummaryRow", "load_results", "markdown_table",
    "scaling_fits", "summarize", "write_scaling_table", "write_tables",
    "SweepReport", "run_sweep",
    "Band", "bootstrap_mean_ci", "quantile_band",
    "Record", "RecordStatus", "ResultStore",
]

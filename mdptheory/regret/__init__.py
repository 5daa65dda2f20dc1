"""Running learners with exact pseudo-regret accounting, bounds and analysis helpers."""

from mdptheory.regret.engine import env_arrays, run, seed_rng
from mdptheory.regret.trace import RegretTrace

__all__ = ["run", "RegretTrace", "seed_rng", "env_arrays"]

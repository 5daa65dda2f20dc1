"""Running learners with exact pseudo-regret accounting, bounds and analysis helpers."""

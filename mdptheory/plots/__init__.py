"""Matplotlib figures (one paper style)."""

# Teaching figures (issue 3): grid-world value heat map with policy arrows, MDP graph.
from mdptheory.plots.teaching import plot_gridworld_values, plot_mdp_graph  # noqa: E402

"""Matplotlib figures (one paper style)."""

# Regret-study figures (issue 5): inputs come from mdptheory.sweeps.load_results.
from mdptheory.plots.regret import (  # noqa: E402
    draw_figures,
    loglog_figure,
    ratio_figure,
    regret_figure,
    scaling_figure,
)
from mdptheory.plots.style import PALETTE, SIZES, paper_style  # noqa: E402

# Teaching figures (issue 3): grid-world value heat map with policy arrows, MDP graph.
from mdptheory.plots.teaching import plot_gridworld_values, plot_mdp_graph  # noqa: E402

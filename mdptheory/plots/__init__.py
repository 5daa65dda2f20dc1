"""Matplotlib figures (one paper style: :mod:`mdptheory.plots.style`; learner curves solid
with a distinct colour and marker each, dotted lines for theory overlays only, one legend per
figure, grids of at most three columns)."""

# Regret-study figures (issue 5): inputs come from mdptheory.sweeps.load_results.
from mdptheory.plots.regret import (  # noqa: E402
    draw_figures,
    loglog_figure,
    ratio_figure,
    regret_figure,
    scaling_figure,
)
from mdptheory.plots.style import (  # noqa: E402
    MARKERS,
    PALETTE,
    SIZES,
    curve_style,
    grid_shape,
    overlay_style,
    paper_style,
)

# Teaching figures (issue 3): grid-world value heat map with policy arrows, MDP graph.
from mdptheory.plots.teaching import plot_gridworld_values, plot_mdp_graph  # noqa: E402

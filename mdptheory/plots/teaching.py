r"""Teaching figures: a grid-world value heat map with policy arrows, and a small MDP drawn
as a graph of states and transition probabilities (matplotlib only)."""

from __future__ import annotations

import numpy as np

from mdptheory.core import EpisodicMDP, as_mdp
from mdptheory.envs.gridworld import ACTION_DELTAS, parse_map
from mdptheory.plots.style import PALETTE

__all__ = ["plot_gridworld_values", "plot_mdp_graph"]


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_gridworld_values(V, map="4x4", policy=None, *, ax=None, cmap="viridis", annotate=True,
                          title=None, colorbar=True):
    r"""Heat map of state values on a grid world, with optional greedy-policy arrows.

    Parameters
    ----------
    V : array ``(nrow * ncol,)``
        Values of the states of :func:`mdptheory.envs.gridworld` built from ``map`` (for an
        episodic solution pass ``sol.V[0]``).
    map : str or sequence of str
        The map used to build the grid world (walls drawn hatched grey, holes and goals
        labelled ``H`` / ``G``).
    policy : array ``(nrow * ncol,)`` of ints in ``0..3``, optional
        Arrows in FrozenLake's action order (left, down, right, up); not drawn on walls,
        holes and goals.
    ax : matplotlib Axes, optional
    cmap : str
    annotate : bool
        Print the value in each cell.
    title : str, optional
    colorbar : bool

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.patches import Rectangle

    grid = parse_map(map)
    nrow, ncol = grid.shape
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (nrow * ncol,):
        raise ValueError(f"V must have shape ({nrow * ncol},) for a {nrow}x{ncol} map, got {V.shape}")
    ax = _axes(ax, (0.6 * ncol + 1.2, 0.6 * nrow + 0.4))
    walls = (grid == "W")
    img = np.ma.masked_array(V.reshape(nrow, ncol), mask=walls)
    im = ax.imshow(img, cmap=cmap, origin="upper")
    for r, c in zip(*np.nonzero(walls)):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="0.6", hatch="///",
                               edgecolor="0.3", lw=0))
    vmax, vmin = float(img.max()), float(img.min())
    for r in range(nrow):
        for c in range(ncol):
            ch = grid[r, c]
            if ch == "W":
                continue
            s = r * ncol + c
            light = (V[s] - vmin) < 0.5 * (vmax - vmin) if vmax > vmin else True
            col = "white" if light else "black"
            if ch in ("H", "G", "S"):
                ax.text(c - 0.42, r - 0.42, ch, ha="left", va="top", fontsize=7, color=col,
                        fontweight="bold")
            if annotate:
                ax.text(c, r + 0.3, f"{V[s]:.2f}", ha="center", va="center", fontsize=6, color=col)
    if policy is not None:
        pi = np.asarray(policy)
        if pi.shape != (nrow * ncol,) or not np.issubdtype(pi.dtype, np.integer):
            raise ValueError(f"policy must be {nrow * ncol} integers (actions 0..3), got shape {pi.shape}")
        if np.any((pi < 0) | (pi > 3)):
            raise ValueError("policy actions must be in 0..3 (left, down, right, up)")
        for r in range(nrow):
            for c in range(ncol):
                if grid[r, c] in ("W", "H", "G"):
                    continue
                dr, dc = ACTION_DELTAS[int(pi[r * ncol + c])]
                ax.annotate("", xy=(c + 0.3 * dc, r + 0.3 * dr - 0.08), xytext=(c - 0.3 * dc, r - 0.3 * dr - 0.08),
                            arrowprops=dict(arrowstyle="->", color="white", lw=1.2))
    ax.set_xticks(range(ncol))
    ax.set_yticks(range(nrow))
    ax.grid(False)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="value")
    if title:
        ax.set_title(title)
    return ax


def plot_mdp_graph(mdp, *, stage: int = 0, policy=None, ax=None, threshold: float = 1e-9,
                   positions=None, state_labels=None, show_rewards=True, title=None):
    r"""Draw a small MDP as a directed graph: states on a circle (or at ``positions``), one
    colour per action, an arrow :math:`s \to s'` labelled with :math:`P(s'|s,a)` for every
    probability above ``threshold`` (self-loops as labelled loops), and mean rewards
    :math:`R(s,a)` listed next to each state.

    Parameters
    ----------
    mdp : DiscountedMDP or EpisodicMDP
        Meant for a handful of states (readability degrades beyond ~10).
    stage : int
        Stage drawn for stage-dependent episodic models.
    policy : array (S,) of ints, optional
        Draw only the chosen action of each state.
    ax : matplotlib Axes, optional
    threshold : float
    positions : array (S, 2), optional
    state_labels : sequence of str, optional
    show_rewards : bool
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.patches import Circle, FancyArrowPatch

    mdp = as_mdp(mdp)
    S, A = mdp.S, mdp.A
    if isinstance(mdp, EpisodicMDP):
        P = np.asarray(mdp.P_by_stage()[stage])
        R = np.asarray(mdp.R_by_stage()[stage])
    else:
        P, R = np.asarray(mdp.dense_P()), np.asarray(mdp.R)
    if positions is None:
        ang = np.pi / 2 - 2 * np.pi * np.arange(S) / S
        pos = np.c_[np.cos(ang), np.sin(ang)] * (1.0 if S > 1 else 0.0)
    else:
        pos = np.asarray(positions, dtype=np.float64)
        if pos.shape != (S, 2):
            raise ValueError(f"positions must have shape ({S}, 2), got {pos.shape}")
    acts = [list(range(A)) for _ in range(S)]
    if policy is not None:
        pi = np.asarray(policy)
        if pi.shape != (S,) or not np.issubdtype(pi.dtype, np.integer) or np.any((pi < 0) | (pi >= A)):
            raise ValueError(f"policy must be {S} integer actions in [0, {A})")
        acts = [[int(pi[s])] for s in range(S)]
    labels = list(state_labels) if state_labels is not None else [str(s) for s in range(S)]
    if len(labels) != S:
        raise ValueError(f"state_labels must have {S} entries")
    ax = _axes(ax, (4.5, 4.5))
    rad_node = 0.12
    for s in range(S):
        ax.add_patch(Circle(pos[s], rad_node, facecolor="white", edgecolor="black", lw=1.0, zorder=3))
        ax.text(*pos[s], labels[s], ha="center", va="center", zorder=4, fontsize=9)
        if show_rewards:
            txt = ", ".join(f"r{a}={R[s, a]:.3g}" for a in acts[s])
            out = pos[s] / (np.linalg.norm(pos[s]) or 1.0)
            ax.text(*(pos[s] + out * 0.48), txt, ha="center", va="center", fontsize=6,
                    color="0.25")
    for s in range(S):
        for a in acts[s]:
            colr = PALETTE[a % len(PALETTE)]
            for t in np.flatnonzero(P[s, a] > threshold):
                p = P[s, a, t]
                if t == s:
                    out = pos[s] / (np.linalg.norm(pos[s]) or 1.0)
                    if not np.any(out):
                        out = np.array([0.0, 1.0])
                    perp = np.array([-out[1], out[0]])
                    c0 = pos[s] + out * rad_node + perp * 0.05 * (a - (A - 1) / 2)
                    ax.add_patch(FancyArrowPatch(c0 + perp * 0.04, c0 - perp * 0.04,
                                                 connectionstyle="arc3,rad=-2.5", arrowstyle="->",
                                                 mutation_scale=8, color=colr, lw=0.9, zorder=2))
                    ax.text(*(c0 + out * 0.2 + perp * 0.12 * (a - (A - 1) / 2)), f"{p:.2g}", fontsize=6, color=colr,
                            ha="center", va="center")
                    continue
                rad = 0.15 + 0.12 * a
                arr = FancyArrowPatch(pos[s], pos[t], connectionstyle=f"arc3,rad={rad}", arrowstyle="->",
                                      mutation_scale=9, color=colr, lw=0.9, shrinkA=12, shrinkB=12, zorder=2)
                ax.add_patch(arr)
                mid = (pos[s] + pos[t]) / 2
                d = pos[t] - pos[s]
                normal = np.array([d[1], -d[0]])
                ax.text(*(mid + normal * rad * 0.5), f"{p:.2g}", fontsize=6, color=colr, ha="center",
                        va="center", bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    from matplotlib.lines import Line2D

    used = sorted({a for s in range(S) for a in acts[s]})
    ax.legend([Line2D([0], [0], color=PALETTE[a % len(PALETTE)]) for a in used],
              [f"action {a}" for a in used], loc="lower right", fontsize=6)
    span = np.abs(pos).max() if S > 1 else 1.0
    ax.set_xlim(-span - 0.8, span + 0.8)
    ax.set_ylim(-span - 0.8, span + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax

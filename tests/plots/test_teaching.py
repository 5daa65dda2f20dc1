"""Teaching plots render and save to PNG; bad inputs raise clear errors."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mdptheory as mt  # noqa: E402
from mdptheory.envs import gridworld, lower_bound_instance, riverswim  # noqa: E402
from mdptheory.plots.teaching import plot_gridworld_values, plot_mdp_graph  # noqa: E402

MAP = ["S..#", ".H..", "...G"]


def _png_ok(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    # read the pixels back: a drawn figure is not a blank canvas
    img = plt.imread(path)
    assert img.ndim == 3 and len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 20


def test_gridworld_heat_map_with_arrows(tmp_path):
    mdp = gridworld(MAP, slip=0.2, gamma=0.95)
    sol = mt.solve(mdp)
    ax = plot_gridworld_values(sol.V, MAP, sol.policy, title="V*")
    # one arrow per non-terminal, non-wall cell (12 cells - wall - hole - goal = 9)
    from matplotlib.text import Annotation

    arrows = [c for c in ax.texts if isinstance(c, Annotation) and c.arrow_patch is not None]
    assert len(arrows) == 9
    # each arrow points in the direction of the policy's action (left, down, right, up)
    rows, cols = len(MAP), len(MAP[0])
    deltas = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}
    drawn = {}
    for arr in arrows:
        (x1, y1), (x0, y0) = arr.xy, arr.xyann
        drawn[(round((y0 + y1) / 2 + 0.08), round((x0 + x1) / 2))] = (np.sign(y1 - y0), np.sign(x1 - x0))
    assert len(drawn) == 9
    for (r, c), d in drawn.items():
        assert d == deltas[int(sol.policy[r * cols + c])]
    # the heat map holds V (walls masked)
    img = ax.images[0].get_array()
    np.testing.assert_allclose(img.data[~img.mask], sol.V.reshape(rows, cols)[~img.mask])
    assert img.mask.sum() == 1 and img.mask[0, 3]
    # values printed in the cells
    texts = {t.get_text() for t in ax.texts}
    assert f"{sol.V[0]:.2f}" in texts
    out = tmp_path / "grid.png"
    ax.figure.savefig(out, dpi=80)
    _png_ok(out)
    plt.close(ax.figure)


def test_episodic_frozenlake_heat_map(tmp_path):
    sol = mt.solve(gridworld("8x8", slip=2 / 3))
    ax = plot_gridworld_values(sol.V[0], "8x8", sol.policy[0], annotate=False, colorbar=False)
    ax.figure.savefig(tmp_path / "fl8.png", dpi=60)
    _png_ok(tmp_path / "fl8.png")
    plt.close(ax.figure)


def test_mdp_graph(tmp_path):
    mdp = riverswim(4, gamma=0.9)
    ax = plot_mdp_graph(mdp, title="RiverSwim")
    # one arrow patch per positive transition probability (both actions)
    assert len(ax.patches) == int((np.asarray(mdp.P) > 0).sum()) + mdp.S  # + state circles
    ax.figure.savefig(tmp_path / "graph.png", dpi=80)
    _png_ok(tmp_path / "graph.png")
    plt.close(ax.figure)
    right = np.ones(4, dtype=np.int64)
    ax = plot_mdp_graph(mdp, policy=right, state_labels=list("abcd"))
    assert len(ax.patches) == int((np.asarray(mdp.P)[:, 1] > 0).sum()) + mdp.S
    ax.figure.savefig(tmp_path / "graph_pi.png", dpi=80)
    _png_ok(tmp_path / "graph_pi.png")
    plt.close(ax.figure)
    ax = plot_mdp_graph(lower_bound_instance(2, 1, 6), stage=1)
    ax.figure.savefig(tmp_path / "lb.png", dpi=60)
    _png_ok(tmp_path / "lb.png")
    plt.close(ax.figure)
    # transition labels: RiverSwim's interior "right" probabilities appear as edge labels
    ax = plot_mdp_graph(riverswim(4, gamma=0.9))
    labels = {t.get_text() for t in ax.texts}
    assert {"0.35", "0.05", "0.6", "0.4", "1"} <= labels
    plt.close(ax.figure)


def test_plot_errors():
    with pytest.raises(ValueError, match="shape"):
        plot_gridworld_values(np.zeros(5), MAP)
    with pytest.raises(ValueError, match="policy"):
        plot_gridworld_values(np.zeros(12), MAP, policy=np.full(12, 7))
    with pytest.raises(ValueError, match="unknown map character"):
        plot_gridworld_values(np.zeros(4), ["SX", ".."])
    with pytest.raises(ValueError, match="policy"):
        plot_mdp_graph(riverswim(3, gamma=0.5), policy=np.array([0, 1]))
    plt.close("all")

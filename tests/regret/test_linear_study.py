"""The linear-MDP study script runs end to end (--quick); its recorded uniform-policy regret
equals K (V*_1 - V^unif_1) computed here by backward induction, and every recorded regret is
within [0, H K]."""

import importlib.util
import json
from pathlib import Path

import numpy as np

from mdptheory.envs.linear_mdp import random_linear_mdp


def _uniform_gap(lin):
    P, R = lin.to_mdp().P_by_stage(), lin.to_mdp().R_by_stage()
    H, S, A = R.shape
    Vs, Vu = np.zeros(S), np.zeros(S)
    for h in range(H - 1, -1, -1):
        Vs = (R[h] + P[h] @ Vs).max(axis=1)
        Vu = (R[h] + P[h] @ Vu).mean(axis=1)
    return float(np.asarray(lin.initial) @ (Vs - Vu))


def test_linear_study_quick_run(tmp_path):
    path = Path(__file__).resolve().parents[2] / "experiments" / "linear_mdps.py"
    spec = importlib.util.spec_from_file_location("linear_mdps_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "summary.json").read_text())
    st = res["states"]
    K = st["K"]
    for j, S in enumerate(st["S"]):
        for i in range(st["seeds"]):
            lin = random_linear_mdp(S, 5, 5, horizon=5, seed=i)
            assert abs(st["uniform"][i][j] - K * _uniform_gap(lin)) < 1e-9 * K
            for key in ("lsvi", "ucbvi"):
                assert 0 <= st[key][i][j] <= 5 * K
    for v in res["episodes"]["learners"].values():
        assert all(0 <= r <= 4 * res["episodes"]["K"] for r in v["final"])
    assert res["zeta"]["zeta"] == [0.0, 0.25, 0.5]
    for name in ("linear_vs_tabular", "regret_vs_K", "regret_vs_zeta"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert (tmp_path / "results.md").read_text().startswith("# Linear MDPs study")

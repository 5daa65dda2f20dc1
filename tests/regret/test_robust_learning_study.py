"""The robust-learning study script runs end to end (--quick); its exact reference curves equal
the closed forms derived in proofs_notes/robust_mdps.md (return (1 - x) V_1(x2) + 2 x (1 - q)
with x = 0.4 for the nominal and x = 0.2 for the rho = 0.6 robust policy,
V_1(x2) = 2 x* + (1 - x*) 0.999 x*, x* = 0.4), and every recorded number is in range."""

import importlib.util
import json
from pathlib import Path

import numpy as np


def test_robust_learning_study_quick_run(tmp_path):
    path = Path(__file__).resolve().parents[2] / "experiments" / "robust_learning.py"
    spec = importlib.util.spec_from_file_location("robust_learning_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "summary.json").read_text())
    pert, sub = res["perturbation"], res["suboptimality"]
    q = np.asarray(pert["q"])
    v1 = 2 * 0.4 + 0.6 * 0.999 * 0.4
    np.testing.assert_allclose(pert["nominal_optimal"], 0.6 * v1 + 0.8 * (1 - q), atol=1e-12)
    np.testing.assert_allclose(pert["robust_optimal_rho0.6"], 0.8 * v1 + 0.4 * (1 - q), atol=1e-12)
    for v in pert["learners"].values():
        assert all(0.0 <= x <= 3.0 for x in v["mean"])
    for v in sub["learners"].values():
        per = np.asarray(v["per_episode_mean"])
        assert per.shape == (sub["K"],) and np.all(per >= -1e-10) and np.all(per <= 3.0)
        assert v["robust_error_bound"] < 1e-9
    assert set(sub["learners"]) >= {"LSVI-UCB", "DR-LSVI-UCB rho=0.6 (fail state)"}
    for name in ("robust_learning_perturbation", "robust_learning_suboptimality"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert (tmp_path / "results.md").read_text().startswith("# Robust learning study")

"""The model-correction study runs end to end (--quick) and writes its figures and numbers;
the recorded VI errors agree with gamma-contraction from the exact V* (computed here)."""

import importlib.util
import json
from pathlib import Path

import numpy as np

import mdptheory as mt
from mdptheory.envs.cliff_walk import modified_cliff_walk


def test_study_quick_run(tmp_path):
    path = Path(__file__).resolve().parents[2] / "experiments" / "model_correction.py"
    spec = importlib.util.spec_from_file_location("model_correction_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    for name in ("planning_error.pdf", "planning_error.png", "sample_error.pdf", "sample_error.png",
                 "summary.json", "summary.md"):
        assert (tmp_path / name).stat().st_size > 0
    res = json.loads((tmp_path / "summary.json").read_text())
    mdp = modified_cliff_walk()
    v_star = np.asarray(mt.solve(mdp, method="lp").V)
    vi = np.asarray(res["planning"]["0.5"]["VI"])
    assert abs(vi[0] - np.abs(v_star).max()) <= 1e-9          # V_0 = 0
    assert (vi[1:] <= mdp.gamma * vi[:-1] + 1e-9).all()       # sup-norm contraction
    for lam in ("0.1", "0.5", "1.0"):
        c = res["checks"][lam]
        assert c["max_ratio_moco_to_model_based"] <= 1 + 1e-9
        assert c["max_violation_of_one_step_bound"] <= 1e-9
        moco = np.asarray(res["planning"][lam]["MoCoVI d=1"])
        mb = np.asarray(res["planning"][lam]["model-based"])
        assert moco[1] == mb[1] and moco[-1] < mb[-1]

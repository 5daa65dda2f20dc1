"""The minimax-rate study script runs end to end (--quick) through run_sweep, resumes without
recomputing, and its records and tables agree with the family's closed forms (computed here):
every episode's pseudo-regret is 0 or eps * m (the bandit reduction), the lower-bound column is
(1 - 1/N)^2 / (8 sqrt(ln 4/3)) m sqrt(N K) / (eps m K), and the exponents are the least-squares
slopes of the stored Regret(K)."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mdptheory.envs.lower_bound import lower_bound_arms
from mdptheory.sweeps import ResultStore

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("minimax_rates_study", ROOT / "experiments" / "minimax_rates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_study_end_to_end(tmp_path, capsys):
    mod = _module()
    out = tmp_path / "mm"
    mod.main(["--quick", "--out", str(out), "--no-progress", "--gap-scales", "1"])
    for name in ("minimax_regret", "minimax_fraction", "minimax_scaling", "bound_certificate"):
        assert (out / f"{name}.pdf").stat().st_size > 0 and (out / f"{name}.png").stat().st_size > 0
    for name in ("exponents", "scaling", "certificates"):
        assert (out / f"{name}.md").read_text().startswith("| ")
    summary = json.loads((out / "summary.json").read_text())
    Ks = summary["K_grid"]
    assert Ks == [300, 1000, 3000]

    # records: every episode is one coin, so its pseudo-regret is 0 or eps * m exactly (up to
    # the round-off of the exact evaluation)
    per_key = {}
    for kind, st in (("hom", True), ("inhom", False)):
        for K in Ks:
            store = ResultStore(out / f"{kind}_c1" / f"K_{K}")
            study = store.read_study()
            assert len(study["configurations"]) == (10 if st else 4) * 2
            for cfg in study["configurations"]:
                p = cfg["mdp"]["params"]
                N, m = lower_bound_arms(p["A"], p["depth"], p["horizon"], stationary=st)
                x = store.read(cfg["key"], 0).arrays["pseudo_regret"]
                gap = p["epsilon"] * m
                on = np.abs(x) <= 1e-12
                assert np.all(on | (np.abs(x - gap) <= 1e-12 * m)), cfg["learner"]["label"]
                j = int(cfg["mdp"]["label"].split()[-1])
                per_key.setdefault((kind, cfg["learner"]["label"]), {})[(j, K)] = (float(np.cumsum(x)[-1]), p["epsilon"], N, m)

    rows = {(r["instance"], r["learner"], r["mode"]): r for r in summary["exponents"]}
    for (kind, label), vals in per_key.items():
        name, mode = label[:-1].split(" (")
        r = rows[(kind, name, mode)]
        R = np.array([[vals[(j, K)][0] for K in Ks] for j in range(2)])
        eps = np.array([vals[(0, K)][1] for K in Ks])
        N, m = vals[(0, Ks[0])][2], vals[(0, Ks[0])][3]
        # the lower-bound fraction at the largest K, from the closed form
        lbf = (1 - 1 / N) ** 2 / (8 * math.sqrt(math.log(4 / 3))) * m * math.sqrt(N * Ks[-1]) / (eps[-1] * m * Ks[-1])
        assert r["lb_fraction_Kmax"] == pytest.approx(lbf, rel=1e-9)
        assert r["f_Kmax_mean"] == pytest.approx(np.mean(R[:, -1] / (eps[-1] * m * Ks[-1])), rel=1e-12)
        assert 0.0 <= r["f_Kmax_min"] and r["f_Kmax_max"] <= 1.0 + 1e-12          # eq. (1)
        mean = R.mean(axis=0)
        if np.all(mean > 0):
            slope = np.polyfit(np.log(Ks), np.log(mean), 1)[0]
            assert r["exponent"] == pytest.approx(slope, abs=1e-9)

    # certificates: the theory-mode UCBVI bounds are vacuous at these K (independent: H k
    # against the burn-in term of Azar et al.'s Theorem 2 alone, 2500 H^2 S^2 A L'^2 > H k)
    cert = list(csv.DictReader(open(out / "certificates.csv")))
    assert {c["learner"] for c in cert} >= {"UCBVI-BF", "UCBVI-CH"}
    S, A, H = 6, 2, 10
    Lp = math.log(5 * H * S * A * 3000 * H / 0.01)
    assert 2500 * H * H * S * S * A * Lp * Lp > H * 3000
    for c in cert:
        if c["run"].startswith("hard family"):
            assert c["vacuous fraction of k"] == "1.000" and c["holds"] == "yes"

    # rerunning reuses every record (resumable sweeps): nothing is computed again
    capsys.readouterr()
    mod.main(["--quick", "--out", str(out), "--no-progress", "--gap-scales", "1", "--parts", "sweep"])
    log = capsys.readouterr().out
    assert "0 to compute" in log and "to compute in 0 units" in log
    assert " 1 to compute" not in log

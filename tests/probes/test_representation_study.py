"""The representation-complexity study script runs end to end (--quick) and its recorded
numbers agree with the closed forms of proofs_notes/circuit_complexity.md §3 (computed here,
not by the probes)."""

import importlib.util
import json
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest


def thr_ivar(n, theta):
    p = Fraction(sum(comb(n, w) for w in range(theta, n + 1)), 2 ** n)
    return Fraction(n * comb(n - 1, theta - 1), 2 ** (n + 1)) / (p * (1 - p))


def test_study_quick_run_matches_closed_forms(tmp_path):
    path = Path(__file__).resolve().parents[2] / "experiments" / "representation_complexity.py"
    spec = importlib.util.spec_from_file_location("representation_complexity_study", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--seeds", "2", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results.json").read_text())
    for r in res["measures"]["parity"]:
        n = r["n"]
        assert (r["trans_degree"], r["bet_degree"], r["reward_degree"]) == (2, 2, 3)
        assert r["trans_ivar"] == pytest.approx(2.0) and r["reward_ivar"] == pytest.approx(2.5)
        assert r["q_degree"] == n + 1 and r["q_ivar"] == pytest.approx(n + 1)
        assert r["slice_degree"] == n and r["slice_ivar"] == pytest.approx(n) and r["slice_dt"] == n
        assert r["slice_min_dnf_terms"] == 2 ** (n - 1)
    for key in ("maj-thermo", "maj-binary"):
        for r in res["measures"][key]:
            n = r["n"]
            assert r["slice_ivar"] == pytest.approx(float(thr_ivar(n, (n + 1) // 2)), rel=1e-10)
            assert r["slice_min_dnf_terms"] == comb(n, (n + 1) // 2)
            if key == "maj-thermo":
                assert r["trans_degree"] == 3 and r["trans_ivar"] == pytest.approx(4 / 3)
                assert r["reward_degree"] == 4 and r["reward_ivar"] == pytest.approx(56 / 31)
    for rows in res["circuits"].values():  # every circuit with N <= 16 state bits checked on all inputs
        assert all(row["verified"] is (True if row["N"] <= 16 else None) for row in rows)
    text = (tmp_path / "results.md").read_text()
    assert "## Model vs Q*" in text and "Cost of building and solving" in text
    for name in ("measures_vs_n", "error_vs_capacity", "circuit_size"):
        assert (tmp_path / f"{name}.pdf").stat().st_size > 0

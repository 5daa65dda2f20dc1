"""`mdptheory run` / `mdptheory plot`: records, table.csv, figures; config errors exit 2."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap

import numpy as np

from mdptheory.cli import main

STUDY = """
[study]
name = "cli"
episodes = 200
seeds = 2

[[learners]]
name = "UCBVI"
label = "UCBVI-BF"
params = { bonus = "bernstein", bonus_scale = 0.1 }

[[mdps]]
family = "riverswim"
label = "RS"
params = { n = 3, horizon = 4 }

[outputs]
figures = ["regret", "loglog"]
"""


def test_run_and_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    f = tmp_path / "s.toml"
    f.write_text(textwrap.dedent(STUDY))
    out = tmp_path / "res"
    assert main(["run", str(f), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| UCBVI-BF | RS |" in printed
    assert len(list((out / "records").glob("*/seed_*.npz"))) == 2
    rows = list(csv.DictReader((out / "table.csv").open()))
    assert len(rows) == 1 and rows[0]["learner"] == "UCBVI-BF" and rows[0]["n_seeds"] == "2"
    # table value = mean over seeds of the engine's Regret(K)
    from mdptheory.envs import riverswim
    from mdptheory.learners import UCBVI
    from mdptheory.regret import run

    tr = run(UCBVI(bonus="bernstein", bonus_scale=0.1), riverswim(3, horizon=4), 200, 2, workers=1, progress=False)
    assert float(rows[0]["regret_mean"]) == np.mean(tr.cumulative()[:, -1])
    ratio = float(rows[0]["regret_mean"]) / UCBVI(bonus="bernstein").bound(3, 2, 4, 200, 0.1).value
    assert float(rows[0]["ratio"]) == ratio
    for n in ("regret", "loglog"):
        for e in ("pdf", "png"):
            p = out / "figures" / f"{n}.{e}"
            assert p.stat().st_size > 0
            p.unlink()
    (out / "table.csv").unlink()
    assert main(["plot", str(out)]) == 0
    assert (out / "figures" / "loglog.pdf").exists() and (out / "table.csv").exists()


def _sqrt_bound_learner():
    """A learner class with the made-up bound ``10 H sqrt(K)`` (cap ``H K``), registered as
    ``SqrtBoundRandomCLI``: non-vacuous for ``K > 100``, unlike every theorem's bound at the
    small K of a test."""
    from mdptheory.learners import UniformRandom
    from mdptheory.learners.base import RegretBound
    from mdptheory.sweeps import register

    class SqrtBoundRandom(UniformRandom):
        def bound(self, S, A, H, K, delta=None):
            K = np.asarray(K, dtype=float)
            v = 10.0 * H * np.sqrt(K)
            return RegretBound(value=v, leading=v, lower_order=0.0 * v, normalization="N1", setting="any",
                               theorem="test: 10 H sqrt(K)", explicit_constants=True, holds_with_probability=1.0,
                               trivial_cap=H * K)

    register("learner", "SqrtBoundRandomCLI", SqrtBoundRandom)
    return SqrtBoundRandom


def test_table_bound_columns(tmp_path, capsys, monkeypatch):
    """table.csv and the printed table carry the raw bound, the trivial cap H K, whether the
    bound is vacuous (>= cap) and Regret(K) / raw bound, equal to the learners' own bound()."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    from mdptheory.learners import UCBVI

    Sqrt = _sqrt_bound_learner()
    f = tmp_path / "s.toml"
    f.write_text(textwrap.dedent(STUDY).replace('figures = ["regret", "loglog"]', "figures = []")
                 + '\n[[learners]]\nname = "SqrtBoundRandomCLI"\nlabel = "sqrt-bound"\n')
    out = tmp_path / "res"
    assert main(["run", str(f), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    rows = {r["learner"]: r for r in csv.DictReader((out / "table.csv").open())}
    assert set(rows) == {"UCBVI-BF", "sqrt-bound"}
    for col in ("bound", "trivial_cap", "vacuous", "ratio"):
        assert col in rows["UCBVI-BF"]
    H, K = 4, 200
    for lab, learner in (("UCBVI-BF", UCBVI(bonus="bernstein", bonus_scale=0.1)), ("sqrt-bound", Sqrt())):
        b = learner.bound(3, 2, H, K, 0.1)
        r = rows[lab]
        assert float(r["bound"]) == float(b.value)                     # raw, never capped
        assert float(r["trivial_cap"]) == float(b.trivial_cap) == H * K
        assert r["vacuous"] == str(bool(float(b.value) >= H * K))
        assert float(r["ratio"]) == float(r["regret_mean"]) / float(b.value)
    # UCBVI-BF's bound at K = 200 is far above H K = 800; 10 H sqrt(200) = 565.7 is below it
    assert rows["UCBVI-BF"]["vacuous"] == "True" and float(rows["UCBVI-BF"]["bound"]) > 800
    assert rows["sqrt-bound"]["vacuous"] == "False"
    assert float(rows["sqrt-bound"]["bound"]) == 10.0 * H * np.sqrt(K)
    # the printed (and table.md) table: bound(K), trivial cap, vacuous, ratio
    md = (out / "table.md").read_text()
    head = "| bound(K) | trivial cap | vacuous | ratio |"
    assert head in printed and head in md
    ub = UCBVI(bonus="bernstein", bonus_scale=0.1).bound(3, 2, H, K, 0.1).value
    assert f"| {ub:.3g} | 800 | yes |" in printed
    assert f"| {10.0 * H * np.sqrt(K):.3g} | 800 | no |" in printed


def test_config_error_exit_code(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text(textwrap.dedent(STUDY).replace('name = "UCBVI"', 'name = "UCBVII"'))
    assert main(["run", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{f}: learners[0].name: unknown learner 'UCBVII'" in err and "UCBVI" in err
    assert main(["plot", str(tmp_path / "nowhere")]) == 2


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "mdptheory.cli", "run", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for opt in ("--out", "--workers", "--scheduler"):
        assert opt in r.stdout


def test_measures_columns(tmp_path, monkeypatch):
    """outputs.measures adds table columns equal to calling the measure on the MDP directly."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import mdptheory.measures as M
    from mdptheory.envs import riverswim

    f = tmp_path / "m.toml"
    f.write_text(textwrap.dedent(STUDY).replace('figures = ["regret", "loglog"]',
                                                'figures = []\nmeasures = ["diameter", "variance_norms"]'))
    out = tmp_path / "res"
    assert main(["run", str(f), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    row = next(csv.DictReader((out / "table.csv").open()))
    mdp = riverswim(3, horizon=4)
    assert float(row["diameter"]) == M.diameter(mdp)
    assert float(row["variance_norms.var_star"]) == M.variance_norms(mdp).var_star


def test_undrawable_figure_is_reported_not_fatal(tmp_path, capsys, monkeypatch):
    """A scaling figure over a study where nothing varies: records and table are written,
    the other figures too, and the command says why the scaling figure is missing (exit 1)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    f = tmp_path / "s.toml"
    f.write_text(textwrap.dedent(STUDY).replace('figures = ["regret", "loglog"]',
                                                'figures = ["scaling", "regret"]\nscaling = ["S"]'))
    out = tmp_path / "res"
    assert main(["run", str(f), "--out", str(out), "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "figure 'scaling' not drawn" in err and "nothing to scale" in err
    assert (out / "table.csv").exists() and (out / "figures" / "regret.png").exists()
    assert not (out / "figures" / "scaling.png").exists()

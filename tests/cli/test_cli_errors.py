"""Every user error of the command line is one line on stderr and exit status 2 (no
traceback unless --debug); Ctrl-C is one line and exit 130; --version; list."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from mdptheory.cli import main

STUDY = """
[study]
name = "{name}"
episodes = {episodes}
seeds = {seeds}

[[learners]]
name = "UCBVI"
params = {{ bonus = "bernstein", bonus_scale = 0.1 }}

[[mdps]]
family = "riverswim"
params = {{ n = 3, horizon = 4 }}

[outputs]
figures = []
"""


def _study(tmp_path, name="errs", episodes=50, seeds=1):
    f = tmp_path / f"{name}.toml"
    f.write_text(textwrap.dedent(STUDY.format(name=name, episodes=episodes, seeds=seeds)))
    return f


def _one_line_error(capsys, argv, match):
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, err
    assert len(err) == 1, err
    assert "Traceback" not in err[0] and match in err[0], err
    return err[0]


def _npz(tmp_path, name, **arrays):
    p = tmp_path / name
    np.savez(p, **arrays)
    return str(p)


P2 = np.array([[[0.5, 0.5]], [[0.0, 1.0]]])
R2 = np.array([[1.0], [0.0]])


def test_solve_user_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    _one_line_error(capsys, ["solve", str(bad)], "not a readable .npz")
    _one_line_error(capsys, ["solve", str(tmp_path / "missing.npz")], "no such file")
    _one_line_error(capsys, ["solve", _npz(tmp_path, "noR.npz", P=P2, gamma=0.9)], "missing array(s) R")
    _one_line_error(capsys, ["solve", _npz(tmp_path, "h.npz", P=P2, R=R2, horizon=2.7)],
                    "horizon must be a positive integer, got 2.7")
    _one_line_error(capsys, ["solve", _npz(tmp_path, "h2.npz", P=P2, R=R2, horizon=3), "--gamma", "0.9"],
                    "--gamma does not apply")
    _one_line_error(capsys, ["solve", _npz(tmp_path, "g.npz", P=P2, R=R2, gamma=0.9), "--horizon", "3"],
                    "--horizon does not apply")
    _one_line_error(capsys, ["solve", _npz(tmp_path, "rows.npz", P=P2 * 0.5, R=R2, gamma=0.9)], "sums to")
    _one_line_error(capsys, ["solve", "puterman-inventory", "--gamma", "0.9"], "--gamma does not apply")
    _one_line_error(capsys, ["solve", "mdptoolbox-small", "--horizon", "3"], "--horizon does not apply")
    _one_line_error(capsys, ["solve", "mdptoolbox-small", "--method", "simplex"], "simplex")
    _one_line_error(capsys, ["solve", "mdptoolbox-small", "--tol", "-1"], "--tol")
    _one_line_error(capsys, ["solve", "no-such-model"], "unknown MDP")


def test_argument_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve", "--tol", "abc"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid float value: 'abc'" in err[0]


def test_solve_good_npz_still_works(tmp_path, capsys):
    assert main(["solve", _npz(tmp_path, "ok.npz", P=P2, R=R2, gamma=0.5)]) == 0
    assert "V*: [1.333333 0.      ]" in capsys.readouterr().out   # V0 = 1 + 0.5 (V0/2 + V1/2), V1 = 0: 4/3
    assert main(["solve", _npz(tmp_path, "ep.npz", P=P2, R=R2, horizon=2)]) == 0


def test_run_and_plot_user_errors(tmp_path, capsys):
    f = _study(tmp_path)
    afile = tmp_path / "afile.txt"
    afile.write_text("mine")
    _one_line_error(capsys, ["run", str(f), "--out", str(afile), "--workers", "1", "--no-progress"], "is a file")
    foreign = tmp_path / "mine"
    (foreign / "figures").mkdir(parents=True)
    (foreign / "table.csv").write_text("my own table")
    _one_line_error(capsys, ["run", str(f), "--out", str(foreign), "--workers", "1", "--no-progress"],
                    "not a study folder")
    assert (foreign / "table.csv").read_text() == "my own table"      # untouched
    _one_line_error(capsys, ["run", str(tmp_path / "nope.toml")], "nope.toml")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "study.json").write_text("{ this is not json")
    _one_line_error(capsys, ["plot", str(corrupt)], "study.json")
    (corrupt / "study.json").write_text(json.dumps({"name": "x"}))
    _one_line_error(capsys, ["plot", str(corrupt)], "study.json")
    _one_line_error(capsys, ["plot", str(tmp_path / "none")], "not a results directory")


def test_unreachable_dask_scheduler_is_one_line_within_the_timeout(tmp_path, capsys):
    pytest.importorskip("distributed")
    with socket.socket() as s:                 # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = _study(tmp_path, "dask_unreachable")
    t0 = time.perf_counter()
    line = _one_line_error(capsys, ["run", str(f), "--out", str(tmp_path / "o"), "--no-progress",
                                    "--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "1"],
                           "no Dask scheduler answered")
    assert f"127.0.0.1:{port}" in line
    assert time.perf_counter() - t0 < 20


def test_study_name_must_be_plain(tmp_path, capsys):
    for bad in ("../../x", "/abs/path", "a/b", ".."):
        f = tmp_path / "n.toml"
        f.write_text(textwrap.dedent(STUDY.format(name=bad, episodes=10, seeds=1)))
        _one_line_error(capsys, ["run", str(f), "--no-progress", "--workers", "1"], "plain name")
    assert not (tmp_path.parent / "x").exists()


def test_version_and_list(capsys):
    import mdptheory

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"mdptheory {mdptheory.__version__}"
    assert main(["list", "learners"]) == 0
    out = capsys.readouterr().out
    assert "UCBVI(bonus='bernstein', delta=0.01, bonus_scale=1.0, cap='H')" in out
    assert "Monotonic Value Propagation" in out
    assert main(["list", "families"]) == 0
    out = capsys.readouterr().out
    assert "riverswim(n=6, horizon=None" in out and "RiverSwim" in out


def test_list_studies(tmp_path, capsys):
    _study(tmp_path, "listed")
    assert main(["list", "studies", "--experiments", str(tmp_path)]) == 0
    assert "listed.toml" in capsys.readouterr().out


def test_workers_beyond_the_cores_are_noted(tmp_path, capsys):
    f = _study(tmp_path, "many_workers", episodes=20)
    rc = main(["run", str(f), "--out", str(tmp_path / "o"), "--workers", "64", "--no-progress", "--no-figures"])
    assert rc == 0
    assert "more than the" in capsys.readouterr().err


def _python(code: str, **kw):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, **kw)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_is_one_line_exit_130_and_keeps_records(tmp_path):
    f = _study(tmp_path, "interrupted", episodes=30000, seeds=6)
    out = tmp_path / "o"
    proc = _python(f"import sys; from mdptheory.cli import main; "
                   f"sys.exit(main(['run', {str(f)!r}, '--out', {str(out)!r}, '--workers', '1', '--no-progress']))")
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "records").glob("*/seed_*.npz")):
        time.sleep(0.1)
    assert list((out / "records").glob("*/seed_*.npz")), "no record was finished in time"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0] and "kept" in lines[0], err
    assert len(list((out / "records").glob("*/seed_*.npz"))) >= 1

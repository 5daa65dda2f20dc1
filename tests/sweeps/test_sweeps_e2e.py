"""End to end: the stored arrays do not depend on the executor, on interruption, or on
corruption; they equal a direct call of the regret engine (independent of the sweep code)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from mdptheory.sweeps import load_config, load_results, run_sweep

STUDY = """
[study]
name = "tiny"
episodes = {K}
seeds = {n}
seed_chunk = {chunk}

[[learners]]
name = "UCBVI"
label = "UCBVI-BF"
params = {{ bonus = "bernstein", bonus_scale = 0.1 }}

[[learners]]
name = "OptimisticQLearning"
label = "OptQL-H"
params = {{ bonus = "hoeffding", bonus_scale = 0.1 }}

[[mdps]]
family = "riverswim"
params = {{ horizon = 5 }}
grid = {{ n = [3, 4] }}

[outputs]
figures = []
"""


def study_file(tmp_path, K=300, n=4, chunk=0, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(STUDY.format(K=K, n=n, chunk=chunk)))
    return p


def stored(out):
    """{(key, seed): {array name: bytes}} of every record in a results directory."""
    res = load_results(out)
    d = {}
    for key, r in res.items():
        for i, s in enumerate(r.seeds):
            d[(key, s)] = {"pseudo_regret": r.pseudo_regret[i].tobytes(),
                           "returns": r.returns[i].tobytes()}
    return d


def test_serial_equals_engine(tmp_path):
    from mdptheory.envs import riverswim
    from mdptheory.learners import UCBVI
    from mdptheory.regret import run

    st = load_config(study_file(tmp_path))
    rep = run_sweep(st, tmp_path / "out", workers=1, progress=False, log=None)
    assert rep.n_computed == 16 and rep.n_skipped == 0 and rep.executor == "serial"
    res = load_results(tmp_path / "out")
    r = res.by_label("UCBVI-BF | riverswim (n=4)")
    tr = run(UCBVI(bonus="bernstein", bonus_scale=0.1), riverswim(4, horizon=5), 300, 4, workers=1, progress=False)
    np.testing.assert_array_equal(r.pseudo_regret, tr.pseudo_regret)
    np.testing.assert_array_equal(r.returns, tr.returns)
    np.testing.assert_array_equal(r.cumulative(), tr.cumulative())
    assert r.seeds == (0, 1, 2, 3)
    meta = r.meta[0]
    assert meta["package_version"] and meta["config_key"] == r.config.key and meta["wall_time"] > 0
    assert "host" in meta["machine"]
    # the MDP's key measures travel with the record (same values as the engine's trace)
    assert meta["measures"]["v_star"] == tr.measures["v_star"] == meta["v_star"]
    assert meta["measures"]["gap_sum"] == tr.measures["gap_sum"]
    # rerun: everything skipped
    rep2 = run_sweep(st, tmp_path / "out", workers=1, progress=False, log=None)
    assert rep2.n_computed == 0 and rep2.n_skipped == 16


def test_serial_local_dask_identical(tmp_path):
    # acceptance check: fail (not skip) without Dask; it is part of the test extra
    from distributed import LocalCluster

    st = load_config(study_file(tmp_path))
    st1 = load_config(study_file(tmp_path, chunk=1, name="c1.toml"))  # other chunking, same records
    run_sweep(st, tmp_path / "serial", workers=1, progress=False, log=None)
    rep = run_sweep(st1, tmp_path / "local", workers=2, progress=False, log=None)
    assert rep.executor == "local" and rep.n_units == 16
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        # the --scheduler ADDRESS path: run_sweep opens (and closes) its own Client
        rep = run_sweep(st, tmp_path / "dask", scheduler=cl.scheduler_address, progress=False, log=None)
    assert rep.executor == "dask" and rep.n_computed == 16
    assert rep.n_units == 16  # Dask, seed_chunk = 0: one seed per unit (elastic clusters)
    a, b, d = stored(tmp_path / "serial"), stored(tmp_path / "local"), stored(tmp_path / "dask")
    assert len(a) == 16
    assert a == b == d


def test_corrupt_records_recomputed(tmp_path):
    st = load_config(study_file(tmp_path, n=3))
    out = tmp_path / "out"
    run_sweep(st, out, workers=1, progress=False, log=None)
    before = stored(out)
    keys = [c.key for c in st.configurations]
    rec = out / "records"
    npz = rec / keys[0] / "seed_000001.npz"
    b = bytearray(npz.read_bytes())
    b[len(b) // 3] ^= 0x5A
    npz.write_bytes(bytes(b))                                   # flipped byte
    (rec / keys[1] / "seed_000000.json").unlink()               # lost commit marker
    p = rec / keys[2] / "seed_000002.npz"
    p.write_bytes(p.read_bytes()[:100])                         # truncated write
    (rec / keys[3] / ".seed_000000.npz.x.tmp").write_bytes(b"")  # stray temp file
    with pytest.warns(RuntimeWarning, match="corrupt"):
        rep = run_sweep(st, out, workers=1, progress=False, log=None)
    assert rep.n_computed == 3 and rep.n_skipped == 9 and len(rep.corrupt) == 3
    assert any("SHA-256" in c for c in rep.corrupt)
    assert stored(out) == before
    assert not list(rec.glob("*/.*.tmp"))


def test_load_warns_on_corrupt_and_lists_missing(tmp_path):
    st = load_config(study_file(tmp_path, n=2))
    out = tmp_path / "out"
    run_sweep(st, out, workers=1, progress=False, log=None)
    key = st.configurations[0].key
    (out / "records" / key / "seed_000001.npz").write_bytes(b"junk")
    with pytest.warns(RuntimeWarning, match="corrupt"):
        res = load_results(out)
    assert res[key].seeds == (0,) and res[key].missing == (1,)
    assert res[key].pseudo_regret.shape == (1, 300)
    assert not res.complete


def test_more_seeds_reuses_records(tmp_path):
    out = tmp_path / "out"
    run_sweep(load_config(study_file(tmp_path, n=2)), out, workers=1, progress=False, log=None)
    rep = run_sweep(load_config(study_file(tmp_path, n=3, name="b.toml")), out, workers=1, progress=False, log=None)
    assert rep.n_skipped == 8 and rep.n_computed == 4


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_minus_9_and_resume(tmp_path, workers):
    """Start a study in a subprocess, SIGKILL it mid-way, rerun, compare with an uninterrupted run.

    With 2 workers only the driver is killed (as ``kill -9 PID`` would): its spawned worker
    processes are orphaned and must not write anything; the driver is the only writer."""
    K, n = 20000, 6
    f = study_file(tmp_path, K=K, n=n, chunk=1)
    st = load_config(f)
    out = tmp_path / "killed"
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mdptheory.cli", "run", str(f), "--out", str(out), "--workers", str(workers),
         "--no-progress", "--no-figures"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            done = list((out / "records").glob("*/seed_*.json"))
            if len(done) >= 3 or proc.poll() is not None:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # the driver only
        proc.wait()
        time.sleep(0.5)  # let orphaned workers (if any) run on for a moment
        n_before = len(list((out / "records").glob("*/seed_*.json")))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert 3 <= n_before < st.n_records
    assert len(list((out / "records").glob("*/seed_*.json"))) == n_before  # nobody wrote after the kill
    rep = run_sweep(st, out, workers=1, progress=False, log=None)
    assert rep.n_skipped + rep.n_computed == st.n_records == 24
    assert rep.n_skipped >= n_before - len(rep.corrupt)
    ref = tmp_path / "ref"
    run_sweep(st, ref, workers=1, progress=False, log=None)
    assert stored(out) == stored(ref)
    for key in (c.key for c in st.configurations):
        assert sorted(p.name for p in (out / "records" / key).iterdir()) == sorted(
            p.name for p in (ref / "records" / key).iterdir())


def test_eval_every_stride_matches_engine(tmp_path):
    """eval_every = 3: NaN regret between evaluations; stored arrays and cumulative regret
    equal the engine's RegretTrace (its own step-function rule)."""
    from mdptheory.envs import riverswim
    from mdptheory.learners import UCBVI
    from mdptheory.regret import run

    text = STUDY.format(K=100, n=2, chunk=0).replace("seed_chunk = 0", "seed_chunk = 0\neval_every = 3")
    p = tmp_path / "e.toml"
    p.write_text(textwrap.dedent(text))
    st = load_config(p)
    assert st.eval_every == 3
    run_sweep(st, tmp_path / "o", workers=1, progress=False, log=None)
    r = load_results(tmp_path / "o").by_label("UCBVI-BF | riverswim (n=3)")
    tr = run(UCBVI(bonus="bernstein", bonus_scale=0.1), riverswim(3, horizon=5), 100, 2, workers=1,
             eval_every=3, progress=False)
    assert np.isnan(r.pseudo_regret[:, 1]).all() and not np.isnan(r.pseudo_regret[:, 3]).any()
    np.testing.assert_array_equal(r.pseudo_regret, tr.pseudo_regret)
    np.testing.assert_array_equal(r.cumulative(), tr.cumulative())


SIZE_STUDY = """
[study]
name = "size"
episodes = 100000
seeds = 1

[[learners]]
name = "OptimisticQLearning"
label = "{label}"
params = {{ bonus = "{bonus}", bonus_scale = 0.1 }}

[[mdps]]
family = "{family}"
params = {params}

[outputs]
figures = []
returns_stride = {stride}
"""


@pytest.mark.parametrize("label, bonus, family, params, stride", [
    # quickstart's largest record (the policy changes almost every episode)
    ("OptQL-B", "bernstein", "riverswim", "{ n = 6, horizon = 20 }", 1),
    # worst case met so far: Garnet, continuous returns and pseudo-regret that change every
    # episode (1.44 MB with full-resolution returns); returns_stride = 10 brings it under 1 MB
    ("OptQL-H", "hoeffding", "garnet", "{ S = 16, A = 4, branching = 2, horizon = 10, seed = 0 }", 10),
])
def test_record_for_1e5_episodes_under_1mb(tmp_path, label, bonus, family, params, stride):
    """Issue target with real learners: a K = 1e5 record is under 1 MB, the pseudo-regret
    kept at full resolution and bit-equal to the engine's."""
    from mdptheory.learners import OptimisticQLearning
    from mdptheory.regret import run
    from mdptheory.sweeps import registry

    p = tmp_path / "size.toml"
    p.write_text(textwrap.dedent(SIZE_STUDY.format(label=label, bonus=bonus, family=family, params=params, stride=stride)))
    st = load_config(p)
    run_sweep(st, tmp_path / "o", workers=1, progress=False, log=None)
    (npz,) = (tmp_path / "o" / "records").glob("*/seed_*.npz")
    assert npz.stat().st_size < 1_000_000, npz.stat().st_size
    r = next(iter(load_results(tmp_path / "o").values()))
    mdp = registry.resolve("family", family)[1](**dict(st.configurations[0].mdp.params))
    tr = run(OptimisticQLearning(bonus=bonus, bonus_scale=0.1), mdp, 100_000, 1, workers=1, progress=False)
    assert r.pseudo_regret.shape == (1, 100_000)
    assert r.pseudo_regret.tobytes() == tr.pseudo_regret.tobytes()
    assert r.returns.tobytes() == np.ascontiguousarray(tr.returns[:, ::stride]).tobytes()


def test_records_of_another_version_are_flagged(tmp_path):
    import json

    st = load_config(study_file(tmp_path, K=50, n=1))
    out = tmp_path / "o"
    run_sweep(st, out, workers=1, progress=False, log=None)
    js = next((out / "records").glob("*/seed_000000.json"))
    meta = json.loads(js.read_text())
    meta["package_version"] = "0.0.1"
    js.write_text(json.dumps(meta))  # the hash covers the arrays, so the record stays valid
    msgs = []
    with pytest.warns(RuntimeWarning, match="another mdptheory version"):
        rep = run_sweep(st, out, workers=1, progress=False, log=msgs.append)
    assert rep.n_skipped == 4 and rep.n_computed == 0
    assert any("0.0.1: 1" in m for m in msgs)


def test_records_from_edited_sources_are_flagged(tmp_path):
    """The key says what was run, not which code ran it: a record whose learner source
    fingerprint differs from the installed file is reported on resume (and kept)."""
    import hashlib
    import inspect
    import json
    import warnings

    from mdptheory.learners import UCBVI

    st = load_config(study_file(tmp_path, K=50, n=1))
    out = tmp_path / "o"
    run_sweep(st, out, workers=1, progress=False, log=None)
    key = st.configurations[0].key
    js = out / "records" / key / "seed_000000.json"
    meta = json.loads(js.read_text())
    src = inspect.getsourcefile(UCBVI)
    assert meta["source"]["learner"] == hashlib.sha256(open(src, "rb").read()).hexdigest()[:16]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run_sweep(st, out, workers=1, progress=False, log=None)  # nothing changed: silent
    meta["source"]["learner"] = "0" * 16
    js.write_text(json.dumps(meta))
    msgs = []
    with pytest.warns(RuntimeWarning, match="source files that have changed"):
        rep = run_sweep(st, out, workers=1, progress=False, log=msgs.append)
    assert rep.n_computed == 0
    assert any("UCBVI-BF | riverswim (n=3) (learner): 1" in m for m in msgs)


def test_to_frame_tidy(tmp_path):
    pd = pytest.importorskip("pandas")
    st = load_config(study_file(tmp_path, K=50, n=2))
    run_sweep(st, tmp_path / "o", workers=1, progress=False, log=None)
    res = load_results(tmp_path / "o")
    df = res.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 4 * 2 * 50
    r = next(iter(res.values()))
    sub = df[(df.key == r.config.key) & (df.seed == 1)].sort_values("episode")
    np.testing.assert_array_equal(sub.cumulative_regret.to_numpy(), np.cumsum(r.pseudo_regret[1]))
    assert len(res.to_frame(stride=7)) == 4 * 2 * 8  # episodes 7,14,...,49 and 50


def test_progress_bar_counts_records_and_shows_eta(tmp_path, capsys):
    """The bar counts records (done / total, starting from those already on disk) with an ETA."""
    out = tmp_path / "o"
    run_sweep(load_config(study_file(tmp_path, K=50, n=1)), out, workers=1, progress=False, log=None)
    run_sweep(load_config(study_file(tmp_path, K=50, n=2, chunk=1, name="b.toml")), out, workers=1,
              progress=True, log=None)
    err = capsys.readouterr().err
    frames = [f.strip() for f in err.replace("\n", "\r").split("\r") if "rec" in f]
    assert frames, err
    assert "4/8" in frames[0] and "8/8" in frames[-1]
    assert "<" in frames[-1]  # tqdm's "[elapsed<remaining" ETA field


def test_write_error_stops_the_sweep_and_keeps_finished_records(tmp_path, monkeypatch):
    """Records are written on a background thread: a failing write is re-raised in the
    driver, the records written before it stay valid, and a rerun completes the study with
    the same arrays as an uninterrupted run."""
    from mdptheory.sweeps.store import ResultStore

    st = load_config(study_file(tmp_path))
    real = ResultStore.write_record
    calls = {"n": 0}

    def flaky(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (injected)")
        return real(self, *a, **k)

    monkeypatch.setattr(ResultStore, "write_record", flaky)
    with pytest.raises(OSError, match="disk full"):
        run_sweep(st, tmp_path / "out", workers=1, progress=False, log=None)
    monkeypatch.setattr(ResultStore, "write_record", real)
    rep = run_sweep(st, tmp_path / "out", workers=1, progress=False, log=None)
    assert rep.n_skipped == 2 and rep.n_computed == 14
    run_sweep(st, tmp_path / "ref", workers=1, progress=False, log=None)
    assert stored(tmp_path / "out") == stored(tmp_path / "ref")

"""Resumable compiled loops and long runs: chunked == mdptheory.run bit for bit, checkpoints,
kill -9 and resume, the recording grid."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.envs import lower_bound_instance, riverswim
from mdptheory.learners import EULER, MVP, UCBVI, QEarlySettledAdvantage, UniformRandom
from mdptheory.regret import env_arrays, seed_rng
from mdptheory.regret.long_run import checkpoint_grid, load_long_run, long_run

ROOT = Path(__file__).resolve().parents[2]

LEARNERS = {
    "ucbvi-bf": lambda: UCBVI("bernstein", bonus_scale=0.1),
    "ucbvi-ch-rem": lambda: UCBVI("hoeffding", bonus_scale=0.05, cap="remaining"),
    "mvp-2021": lambda: MVP("2021", bonus_scale=0.2, normalization="N3"),
    "mvp-2024": lambda: MVP("2024", bonus_scale=0.05),
    "euler": lambda: EULER(bonus_scale=0.2),
    "q-es-adv": lambda: QEarlySettledAdvantage(bonus_scale=0.05),
}


def _mdp(name):
    if name == "bernoulli":
        return riverswim(5, horizon=7, reward_noise="bernoulli")
    return riverswim(4, horizon=6)


def _chunked(learner, mdp, K, seed, cuts):
    """Drive init/chunk directly, cutting the run at ``cuts`` (episode indices)."""
    learner.prepare(mdp, K)
    rl = learner.resumable(mdp, K)
    P, R, init, noise, std = env_arrays(mdp)
    v_star = float(init @ mt.solve(mdp).V[0])
    state = rl.new_state(mdp.S, mdp.A)
    rng = seed_rng(seed)
    reg, ret = np.full(K, np.nan), np.zeros(K)
    bounds = [0, *sorted(cuts), K]
    for k0, k1 in zip(bounds[:-1], bounds[1:]):
        r1, g1 = np.full(k1 - k0, np.nan), np.zeros(k1 - k0)
        rl.chunk(P, R, init, noise, std, v_star, k0, k1, 1, rng, rl.params, state, r1, g1)
        reg[k0:k1], ret[k0:k1] = r1, g1
    return reg, ret, state, rl


@pytest.mark.parametrize("name", list(LEARNERS))
@pytest.mark.parametrize("env", ["deterministic", "bernoulli"])
def test_chunked_run_is_bitwise_the_engine_run(name, env):
    mdp = _mdp(env)
    K = 400
    tr = mt.run(LEARNERS[name](), mdp, K, seeds=[3], progress=False)
    rng = np.random.default_rng(7)
    cuts = sorted(set(rng.integers(1, K, size=6).tolist()) | {1, 2})
    reg, ret, state, rl = _chunked(LEARNERS[name](), mdp, K, 3, cuts)
    assert np.array_equal(reg, tr.pseudo_regret[0])
    assert np.array_equal(ret, tr.returns[0])
    # the state after the cut run equals the state after one uninterrupted chunk
    _, _, state1, _ = _chunked(LEARNERS[name](), mdp, K, 3, [])
    assert len(state) == len(rl.state_names)
    for n, a, b in zip(rl.state_names, state, state1):
        assert a.dtype == b.dtype and np.array_equal(a, b), n


def test_chunk_respects_eval_stride_and_offsets():
    mdp = _mdp("deterministic")
    K = 90
    tr = mt.run(UCBVI("bernstein", bonus_scale=0.1), mdp, K, seeds=[1], eval_every=4, progress=False)
    L = UCBVI("bernstein", bonus_scale=0.1)
    L.prepare(mdp, K)
    rl = L.resumable(mdp, K)
    P, R, init, noise, std = env_arrays(mdp)
    v_star = float(init @ mt.solve(mdp).V[0])
    state, rng = rl.new_state(mdp.S, mdp.A), seed_rng(1)
    out = []
    for k0, k1 in ((0, 33), (33, 34), (34, 90)):
        r1, g1 = np.full(k1 - k0, np.nan), np.zeros(k1 - k0)
        rl.chunk(P, R, init, noise, std, v_star, k0, k1, 4, rng, rl.params, state, r1, g1)
        out.append(r1)
    got = np.concatenate(out)
    assert np.array_equal(np.isnan(got), np.arange(K) % 4 != 0)
    assert np.array_equal(got[::4], tr.pseudo_regret[0, ::4])


def test_checkpoint_grid_independent_construction():
    for K in (1, 7, 10, 11, 1000, 123457):
        g = checkpoint_grid(K, per_decade=5, linear=20)
        expect = set(range(1, min(K, 10) + 1)) | {K}
        if K > 1:
            n = math.ceil(math.log10(K) * 5) + 1
            expect |= {int(round(10 ** (i * math.log10(K) / (n - 1)))) for i in range(n)}
        expect |= {int(round(i * K / 20)) for i in range(1, 21)}
        expect = sorted(x for x in expect if 1 <= x <= K)
        assert g.dtype == np.int64 and g.tolist() == expect
    assert checkpoint_grid(10**8).size < 3000     # a few hundred KB per seed for K = 1e8


@pytest.mark.parametrize("name", ["ucbvi-bf", "mvp-2024", "euler", "q-es-adv"])
def test_long_run_values_are_the_engine_values(name):
    mdp = lower_bound_instance(2, 1, 7, epsilon=0.1, stationary=name in ("ucbvi-bf", "euler"), seed=1)
    K = 2500
    tr = mt.run(LEARNERS[name](), mdp, K, seeds=[0, 4], progress=False)
    lr = long_run(LEARNERS[name](), mdp, K, seeds=[0, 4], chunk=311, linear=50, progress=False)
    c = np.cumsum(tr.pseudo_regret, axis=1)
    assert np.array_equal(lr.regret, c[:, lr.grid - 1])
    assert np.array_equal(lr.returns, np.cumsum(tr.returns, axis=1)[:, lr.grid - 1])
    assert np.array_equal(lr.episode_regret, tr.pseudo_regret[:, lr.grid - 1])
    assert lr.v_star == pytest.approx(tr.v_star, abs=0) and lr.resumed_from == (0, 0)
    two = long_run(LEARNERS[name](), mdp, K, seeds=[0, 4], chunk=1000, linear=50, workers=2, progress=False)
    assert np.array_equal(two.regret, lr.regret)


def test_checkpoint_files_resume_and_identity(tmp_path):
    mdp = _mdp("deterministic")
    K = 3000
    full = long_run(UCBVI("bernstein"), mdp, K, seeds=[2], chunk=250, progress=False)

    class Stop(Exception):
        pass

    seen = []

    def stop_at_half(seed, k, saved):
        seen.append((k, saved))
        if k >= K // 2:
            raise Stop

    with pytest.raises(Stop):
        long_run(UCBVI("bernstein"), mdp, K, seeds=[2], out=tmp_path, chunk=250, checkpoint_every=500,
                 progress=False, on_chunk=stop_at_half)
    folder = tmp_path / "seed_000002"
    meta = json.loads((folder / "checkpoint.json").read_text())
    assert meta["k_done"] == 1500 and [p.name for p in folder.glob("*.npz")] == [meta["npz"]]
    assert [k for k, s in seen if s] == [500, 1000, 1500]
    # the npz holds numeric arrays only and loads without pickle
    with np.load(folder / meta["npz"], allow_pickle=False) as z:
        assert all(z[f].dtype.kind in "biuf" for f in z.files)
    res = long_run(UCBVI("bernstein"), mdp, K, seeds=[2], out=tmp_path, chunk=250, checkpoint_every=500,
                   progress=False)
    assert res.resumed_from == (1500,) and res.sessions == (2,)
    assert np.array_equal(res.regret, full.regret) and np.array_equal(res.returns, full.returns)
    assert res.certificate.max_ratio == full.certificate.max_ratio
    assert res.certificate.argmax_episode == full.certificate.argmax_episode
    assert load_long_run(tmp_path, 2)["meta"]["k_done"] == K
    # a finished run is read back, not recomputed
    again = long_run(UCBVI("bernstein"), mdp, K, seeds=[2], out=tmp_path, chunk=250, progress=False)
    assert again.resumed_from == (K,) and np.array_equal(again.regret, full.regret)
    # another learner, K or MDP: refused; resume=False starts afresh
    for call in (lambda: long_run(UCBVI("hoeffding"), mdp, K, seeds=[2], out=tmp_path, progress=False),
                 lambda: long_run(UCBVI("bernstein"), mdp, K + 1, seeds=[2], out=tmp_path, progress=False),
                 lambda: long_run(UCBVI("bernstein"), riverswim(4, horizon=7), K, seeds=[2], out=tmp_path,
                                  progress=False)):
        with pytest.raises(ValueError, match="belongs to another run"):
            call()
    fresh = long_run(UCBVI("bernstein"), mdp, K, seeds=[2], out=tmp_path, resume=False, progress=False)
    assert fresh.resumed_from == (0,) and np.array_equal(fresh.regret, full.regret)
    # a corrupted state file is detected
    meta = json.loads((folder / "checkpoint.json").read_text())
    p = folder / meta["npz"]
    p.write_bytes(p.read_bytes()[:-7] + b"garbage")
    with pytest.raises(ValueError, match="SHA-256"):
        long_run(UCBVI("bernstein"), mdp, K, seeds=[2], out=tmp_path, progress=False)


_CHILD = textwrap.dedent("""
    import sys
    from mdptheory.envs import riverswim
    from mdptheory.learners import {cls}
    from mdptheory.regret.long_run import long_run

    def hook(seed, k, saved):
        print(k, int(saved), flush=True)
        if {handshake}:
            if sys.stdin.readline().strip() != "go":
                raise SystemExit(3)

    long_run({make}, riverswim(4, horizon=6), {K}, seeds=[5], out=sys.argv[1], chunk={chunk},
             checkpoint_every={every}, progress=False, on_chunk=hook)
    print("done", flush=True)
""")


def _child(tmp_path, make, cls, K, chunk, every, handshake):
    code = _CHILD.format(make=make, cls=cls, K=K, chunk=chunk, every=every, handshake=handshake)
    script = tmp_path / "child.py"
    script.write_text(code)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "ckpt")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.mark.parametrize("make,cls,factory", [
    ("UCBVI('bernstein')", "UCBVI", lambda: UCBVI("bernstein")),
    ("QEarlySettledAdvantage(bonus_scale=0.05)", "QEarlySettledAdvantage",
     lambda: QEarlySettledAdvantage(bonus_scale=0.05)),
], ids=["ucbvi-bf", "q-es-adv"])
def test_sigkill_at_half_loses_at_most_one_checkpoint_interval(tmp_path, make, cls, factory):
    K, chunk, every = 6000, 200, 600
    full = long_run(factory(), riverswim(4, horizon=6), K, seeds=[5], chunk=chunk, progress=False)
    proc = _child(tmp_path, make, cls, K, chunk, every, handshake=True)
    progress = 0
    try:
        for line in proc.stdout:
            progress = int(line.split()[0])
            if progress >= K // 2:
                proc.send_signal(signal.SIGKILL)        # the child is blocked right after this chunk
                break
            proc.stdin.write("go\n")
            proc.stdin.flush()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert K // 2 <= progress < K
    res = long_run(factory(), riverswim(4, horizon=6), K, seeds=[5], out=tmp_path / "ckpt", chunk=chunk,
                   checkpoint_every=every, progress=False)
    lost = progress - res.resumed_from[0]
    assert 0 <= lost < every                             # at most one checkpoint interval of work
    assert res.resumed_from[0] % every == 0 and res.resumed_from[0] > 0
    assert np.array_equal(res.regret, full.regret)
    assert np.array_equal(res.returns, full.returns)
    assert np.array_equal(res.episode_regret, full.episode_regret)


def test_sigkill_at_any_moment_then_resume_is_bit_identical(tmp_path):
    K, chunk = 20000, 97
    full = long_run(UCBVI("bernstein", bonus_scale=0.1), riverswim(4, horizon=6), K, seeds=[5], chunk=chunk,
                    progress=False)
    proc = _child(tmp_path, "UCBVI('bernstein', bonus_scale=0.1)", "UCBVI", K, chunk, chunk, handshake=False)
    try:
        for line in proc.stdout:
            if line.startswith("done") or int(line.split()[0]) >= K // 2:
                proc.send_signal(signal.SIGKILL)        # free-running: lands anywhere, mid-write included
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    res = long_run(UCBVI("bernstein", bonus_scale=0.1), riverswim(4, horizon=6), K, seeds=[5],
                   out=tmp_path / "ckpt", chunk=chunk, progress=False)
    assert res.resumed_from[0] > 0
    assert np.array_equal(res.regret, full.regret) and np.array_equal(res.returns, full.returns)
    assert not list((tmp_path / "ckpt" / "seed_000005").glob(".*.tmp"))


def test_long_run_input_errors(tmp_path):
    mdp = _mdp("deterministic")
    with pytest.raises(TypeError, match="no resumable loop"):
        long_run(UniformRandom(), mdp, 10, progress=False)
    with pytest.raises(TypeError, match="EpisodicMDP"):
        long_run(UCBVI(), mdp.P, 10, progress=False)
    with pytest.raises(ValueError, match="episodes = 0"):
        long_run(UCBVI(), mdp, 0, progress=False)
    with pytest.raises(ValueError, match="chunk = 0"):
        long_run(UCBVI(), mdp, 10, chunk=0, progress=False)
    with pytest.raises(ValueError, match="distinct"):
        long_run(UCBVI(), mdp, 10, seeds=[1, 1], progress=False)
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        long_run(UCBVI(), mdp, 10, out=f, progress=False)


def test_progress_bars_per_seed(capsys):
    mdp = _mdp("deterministic")
    lr = long_run(UCBVI(bonus_scale=0.1), mdp, 300, seeds=2, chunk=100, progress=True, workers=2)
    err = capsys.readouterr().err
    assert "UCBVI seed 0" in err and "UCBVI seed 1" in err
    assert lr.regret.shape == (2, lr.grid.size)

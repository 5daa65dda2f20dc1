"""Output-folder safety and process hygiene of `run_sweep`: foreign folders refused, a lock
against concurrent runs, worker processes that die with their parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from mdptheory.sweeps import parse_config, run_sweep
from mdptheory.sweeps.store import StudyFolderError, StudyLock, check_study_folder


def _study(name="safe", episodes=30, seeds=2):
    return parse_config({
        "study": {"name": name, "episodes": episodes, "seeds": seeds},
        "learners": [{"name": "UCBVI", "params": {"bonus": "bernstein", "bonus_scale": 0.1}}],
        "mdps": [{"family": "riverswim", "params": {"n": 3, "horizon": 4}}],
        "outputs": {"figures": []},
    })


def test_foreign_folders_are_refused_unless_forced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "table.csv").write_text("user data")
    with pytest.raises(StudyFolderError, match="not a study folder"):
        run_sweep(_study(), mine, workers=1, progress=False, log=None)
    assert (mine / "table.csv").read_text() == "user data"
    rep = run_sweep(_study(), mine, workers=1, progress=False, log=None, force=True)
    assert rep.n_computed == 2
    # the folder of another study is refused too; the same study resumes
    with pytest.raises(StudyFolderError, match="holds the results of study 'safe'"):
        run_sweep(_study(name="other"), mine, workers=1, progress=False, log=None)
    assert run_sweep(_study(), mine, workers=1, progress=False, log=None).n_skipped == 2
    with pytest.raises(StudyFolderError, match="is a file"):
        check_study_folder(mine / "table.csv", "safe")
    empty = tmp_path / "empty"
    empty.mkdir()
    check_study_folder(empty, "safe")               # empty folders are fine


def test_second_concurrent_run_is_refused(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    held = StudyLock(out).acquire()
    try:
        with pytest.raises(StudyFolderError, match=f"in use by another mdptheory run \\(pid {os.getpid()}\\)"):
            run_sweep(_study(), out, workers=1, progress=False, log=None)
    finally:
        held.release()
    assert run_sweep(_study(), out, workers=1, progress=False, log=None).n_computed == 2


def test_lock_held_by_another_process_is_refused_and_freed_by_its_death(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from mdptheory.sweeps.store import StudyLock
        StudyLock({str(out)!r}).acquire()
        print("held", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StudyFolderError, match=f"pid {holder.pid}"):
            StudyLock(out).acquire()
    finally:
        holder.kill()
        holder.wait()
    StudyLock(out).acquire().release()             # the OS released the dead holder's lock


def _children(pid: int) -> list[int]:
    psutil = pytest.importorskip("psutil")
    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_workers_die_with_a_killed_parent(tmp_path):
    psutil = pytest.importorskip("psutil")
    study = {"study": {"name": "orphans", "episodes": 200000, "seeds": 4, "seed_chunk": 1},
             "learners": [{"name": "UCBVI", "params": {"bonus": "bernstein", "bonus_scale": 0.1}}],
             "mdps": [{"family": "riverswim", "params": {"n": 6, "horizon": 20}}],
             "outputs": {"figures": []}}
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        from mdptheory.sweeps import parse_config, run_sweep
        if __name__ == "__main__":
            run_sweep(parse_config({json.dumps(study)}), {str(tmp_path / 'o')!r}, workers=2,
                      progress=False, log=None)
    """))
    parent = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.time() + 60
        kids: list[int] = []
        while time.time() < deadline and len(kids) < 2:
            time.sleep(0.2)
            kids = [k for k in _children(parent.pid)
                    if "python" in psutil.Process(k).name().lower()]
        assert len(kids) >= 2, f"workers did not start: {kids}"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.time() + 15
    alive = kids
    while time.time() < deadline and alive:
        time.sleep(0.2)
        alive = [k for k in kids if psutil.pid_exists(k) and psutil.Process(k).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"orphan workers still alive after the parent was killed: {alive}"

"""Result store: atomic records, corruption detection, pickle-free loading.

The records here hold small arrays written by the test itself: these tests exercise the
store, not the regret engine.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from mdptheory.sweeps import ResultStore
from mdptheory.sweeps.store import atomic_write_bytes

KEY = "0123456789abcdef"


def arrays(seed=0, K=100):
    rng = np.random.default_rng(seed)
    return {"pseudo_regret": rng.random(K), "returns": rng.integers(0, 5, K).astype(np.float64)}


def test_write_read_roundtrip(tmp_path):
    st = ResultStore(tmp_path)
    a = arrays()
    st.write_record(KEY, 3, a, {"note": "x"})
    assert st.check(KEY, 3).state == "ok"
    rec = st.read(KEY, 3)
    for k in a:
        np.testing.assert_array_equal(rec.arrays[k], a[k])
        assert not rec.arrays[k].flags.writeable
    assert rec.meta["note"] == "x" and rec.meta["seed"] == 3 and rec.meta["key"] == KEY
    assert st.seeds_on_disk(KEY) == [3]
    assert st.check(KEY, 4).state == "missing"


@settings(max_examples=20, deadline=None)
@given(hst.integers(1, 300), hst.integers(0, 10_000))
def test_roundtrip_property(K, seed):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        st = ResultStore(d)
        a = arrays(seed, K)
        st.write_record(KEY, seed, a, {})
        rec = st.read(KEY, seed)
        assert set(rec.arrays) == set(a)
        for k in a:
            assert rec.arrays[k].tobytes() == a[k].tobytes()


def test_no_pickle_and_object_arrays_refused(tmp_path):
    st = ResultStore(tmp_path)
    with pytest.raises(TypeError, match=r"arrays\['bad'\]"):
        st.write_record(KEY, 0, {"bad": np.array([{"a": 1}], dtype=object)}, {})
    assert st.check(KEY, 0).state == "missing"
    st.write_record(KEY, 0, arrays(), {})
    npz, _ = st.paths(KEY, 0)
    with np.load(npz, allow_pickle=False) as z:  # loads without pickle
        assert set(z.files) == {"pseudo_regret", "returns"}


def test_non_json_meta_refused_before_writing(tmp_path):
    st = ResultStore(tmp_path)
    with pytest.raises(TypeError):
        st.write_record(KEY, 0, arrays(), {"x": object()})
    assert st.seeds_on_disk(KEY) == []


@pytest.mark.parametrize("damage, reason", [
    ("flip_byte", "SHA-256"),
    ("truncate_npz", "SHA-256"),
    ("delete_npz", "metadata without arrays"),
    ("delete_json", "arrays without metadata"),
    ("garble_json", "metadata unreadable"),
    ("other_seed_json", "another record"),
])
def test_corruption_detected(tmp_path, damage, reason):
    st = ResultStore(tmp_path)
    st.write_record(KEY, 1, arrays(1), {})
    st.write_record(KEY, 2, arrays(2), {})
    npz, js = st.paths(KEY, 1)
    if damage == "flip_byte":
        b = bytearray(npz.read_bytes())
        b[len(b) // 2] ^= 0xFF
        npz.write_bytes(bytes(b))
    elif damage == "truncate_npz":
        npz.write_bytes(npz.read_bytes()[:-20])
    elif damage == "delete_npz":
        npz.unlink()
    elif damage == "delete_json":
        js.unlink()
    elif damage == "garble_json":
        js.write_text(js.read_text()[:10])
    elif damage == "other_seed_json":
        js.write_text(st.paths(KEY, 2)[1].read_text())
    s = st.check(KEY, 1)
    assert s.state == "corrupt" and reason in s.reason
    assert st.check(KEY, 2).state == "ok"
    with pytest.raises(ValueError, match="corrupt"):
        st.read(KEY, 1)


def test_header_mismatch_detected(tmp_path):
    """Hash recomputed to match but declared shapes disagree: still caught."""
    st = ResultStore(tmp_path)
    st.write_record(KEY, 1, arrays(1), {})
    _, js = st.paths(KEY, 1)
    meta = json.loads(js.read_text())
    meta["arrays"]["pseudo_regret"]["shape"] = [99]
    js.write_text(json.dumps(meta))
    s = st.check(KEY, 1)
    assert s.state == "corrupt" and "pseudo_regret" in s.reason


def test_overwrite_and_delete(tmp_path):
    st = ResultStore(tmp_path)
    st.write_record(KEY, 1, arrays(1), {})
    st.write_record(KEY, 1, arrays(7), {})
    np.testing.assert_array_equal(st.read(KEY, 1).arrays["pseudo_regret"], arrays(7)["pseudo_regret"])
    st.delete(KEY, 1)
    assert st.check(KEY, 1).state == "missing"


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"old"
    assert [q.name for q in tmp_path.iterdir()] == ["f.bin"]  # temp file removed


def test_clean_temporaries(tmp_path):
    st = ResultStore(tmp_path)
    st.write_record(KEY, 0, arrays(), {})
    (st.records_dir / KEY / ".seed_000001.npz.abc.tmp").write_bytes(b"partial")
    (tmp_path / ".study.json.x.tmp").write_bytes(b"partial")
    assert st.clean_temporaries() == 2
    assert st.check(KEY, 0).state == "ok"


def test_bad_key_and_seed(tmp_path):
    st = ResultStore(tmp_path)
    with pytest.raises(ValueError, match="key = '../x'"):
        st.paths("../x", 0)
    with pytest.raises(ValueError, match="seed = -1"):
        st.paths(KEY, -1)


def test_regret_only_record_for_1e5_episodes_is_under_1mb_even_incompressible(tmp_path):
    """Issue target, worst case of the part that must stay at full resolution: K = 1e5
    per-episode pseudo-regret values with no structure at all (i.i.d. uniform float64, which
    deflate cannot shrink) still fit in 1 MB, because 1e5 float64 are 0.8 MB raw. Records
    with real learners (returns included) are measured in tests/sweeps/test_sweeps_e2e.py."""
    K = 100_000
    pr = np.random.default_rng(0).random(K)
    st = ResultStore(tmp_path)
    st.write_record(KEY, 0, {"pseudo_regret": pr}, {})
    npz, _ = st.paths(KEY, 0)
    assert npz.stat().st_size < 1_000_000
    assert st.read(KEY, 0).arrays["pseudo_regret"].tobytes() == pr.tobytes()  # lossless


def test_status_meta_and_partial_read(tmp_path):
    st = ResultStore(tmp_path)
    st.write_record(KEY, 2, arrays(2), {"package_version": "9.9"})
    s = st.check(KEY, 2)
    assert s.state == "ok" and s.meta["package_version"] == "9.9" and s.meta["seed"] == 2
    assert st.check(KEY, 3).meta is None
    rec = st.read(KEY, 2, arrays=["pseudo_regret"])
    assert set(rec.arrays) == {"pseudo_regret"}
    np.testing.assert_array_equal(rec.arrays["pseudo_regret"], arrays(2)["pseudo_regret"])


def test_extra_member_in_npz_detected(tmp_path):
    """An .npz with an array the metadata does not declare (hash recomputed to match) is corrupt."""
    import hashlib

    from mdptheory.sweeps.store import _npz_bytes

    st = ResultStore(tmp_path)
    st.write_record(KEY, 1, arrays(1), {})
    npz, js = st.paths(KEY, 1)
    data = _npz_bytes(dict(arrays(1), extra=np.zeros(3)))
    npz.write_bytes(data)
    meta = json.loads(js.read_text())
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    js.write_text(json.dumps(meta))
    s = st.check(KEY, 1)
    assert s.state == "corrupt" and "array names" in s.reason


def test_durable_mode_roundtrip(tmp_path):
    st = ResultStore(tmp_path, durable=True)
    a = arrays(5)
    st.write_record(KEY, 5, a, {})
    assert st.check(KEY, 5).state == "ok"
    np.testing.assert_array_equal(st.read(KEY, 5).arrays["returns"], a["returns"])

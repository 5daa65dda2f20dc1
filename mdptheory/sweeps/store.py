r"""Resumable on-disk result store: one directory per study, one record per (configuration, seed).

Layout::

    DIR/study.json                          the validated study (configurations, seeds, outputs)
    DIR/records/<config-key>/config.json    the configuration (written once)
    DIR/records/<config-key>/seed_<seed>.npz   arrays, compressed, loaded with allow_pickle=False
    DIR/records/<config-key>/seed_<seed>.json  metadata; written *after* the .npz (commit marker)

Atomicity: every file is written to a temporary file in the same directory, then moved
into place with :func:`os.replace` (atomic on POSIX and Windows for a same-directory
rename); ``ResultStore(root, durable=True)`` also ``fsync``-s (OS-crash durability). The JSON metadata holds the SHA-256 of the ``.npz`` bytes and
the name, dtype and shape of every array, and it is written last. Hence, whatever the
moment a process is killed (including ``kill -9``), a record is either

* absent (no JSON) -- recomputed on the next run, or
* complete -- JSON parses, hash and array headers match; reused, never recomputed;

and anything else (hash mismatch, truncated or edited file, a JSON without its ``.npz``,
an ``.npz`` without its JSON) is *corrupt or partial*: :meth:`ResultStore.scan` reports it
and the runner deletes and recomputes it. Leftover temporary files are removed by
:meth:`ResultStore.clean_temporaries`. There is exactly one writer (the process that runs
:func:`mdptheory.sweeps.run_sweep`); workers return arrays to it, so a cluster does not need
a shared file system.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from mdptheory.core.files import atomic_write_bytes

__all__ = ["ResultStore", "Record", "RecordStatus", "RECORD_FORMAT", "StudyFolderError", "StudyLock",
           "check_study_folder"]

#: Version of the record layout; stored in every record's metadata.
RECORD_FORMAT = 1

_SEED_RE = re.compile(r"^seed_(\d+)\.(npz|json)$")
_KEY_RE = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class Record:
    """A stored record: ``arrays`` (name -> read-only ndarray) and its ``meta`` dict."""

    key: str
    seed: int
    arrays: Mapping[str, np.ndarray]
    meta: Mapping[str, Any]


@dataclass(frozen=True)
class RecordStatus:
    """Result of checking one record: ``state`` is ``"ok"``, ``"missing"`` or ``"corrupt"``.

    ``reason`` says why a record is corrupt; ``meta`` is the parsed metadata of an ``ok``
    record (``None`` otherwise), so a caller can inspect e.g. ``meta["package_version"]``
    without reading the file again.
    """

    key: str
    seed: int
    state: str
    reason: str = ""
    meta: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)


def _json_bytes(obj: Any, indent: int | None = 1) -> bytes:
    return (json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


#: zlib level of the record .npz files. Level 1 is 2-3x faster than numpy's default (6)
#: and only 3-6% larger on regret/returns arrays (benchmarks/sweeps.py, docs/benchmarks.md).
NPZ_COMPRESSLEVEL = 1


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A standard compressed ``.npz`` (what :func:`numpy.savez_compressed` writes, at
    :data:`NPZ_COMPRESSLEVEL`), built in memory without pickle."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=NPZ_COMPRESSLEVEL) as z:
        for name, a in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _npy_header(z: zipfile.ZipFile, member: str) -> tuple[tuple, np.dtype]:
    """``(shape, dtype)`` of one ``.npy`` member of an open ``.npz``, from its header only."""
    fmt = np.lib.format
    with z.open(member) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _fortran, dtype = fmt.read_array_header_2_0(f)
        else:  # format 3.0 (utf-8 field names): decode the array, rare and still correct
            f.seek(0)
            a = fmt.read_array(f, allow_pickle=False)
            shape, dtype = a.shape, a.dtype
    return tuple(shape), np.dtype(dtype)


class StudyFolderError(RuntimeError):
    """The output folder cannot be used for this study (not a study folder, another study,
    a file, or in use by another run); the message says which and how to proceed."""


class StudyLock:
    """An exclusive lock on a study folder (``.lock``), held while a run writes records.

    Uses ``fcntl.flock`` where available (released by the OS if the process dies, so a
    killed run never leaves a stale lock); elsewhere an ``O_EXCL`` lock file with the owner's
    pid. A second run on the same folder raises :class:`StudyFolderError`.
    """

    def __init__(self, root: Path):
        self.path = Path(root) / ".lock"
        self._fd: int | None = None

    def acquire(self) -> "StudyLock":
        import os

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            try:
                self._fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                raise StudyFolderError(
                    f"{self.path.parent} is in use by another mdptheory run (lock file {self.path}; "
                    "delete it if no run is active)") from None
            os.write(self._fd, str(os.getpid()).encode())
            return self
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StudyFolderError(
                f"{self.path.parent} is in use by another mdptheory run (pid {other}); wait for it to "
                "finish or use another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        import os

        if self._fd is None:
            return
        try:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
        except ImportError:  # pragma: no cover - non-POSIX
            os.close(self._fd)
            self.path.unlink(missing_ok=True)
        self._fd = None

    def __enter__(self) -> "StudyLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def check_study_folder(root: str | Path, study_name: str, *, force: bool = False) -> None:
    """Refuse to write ``study_name`` into ``root`` when that would touch files that are not
    this study's: ``root`` is a file; a non-empty folder without ``study.json`` (not written by
    ``mdptheory run``); or the folder of a study with another name. ``force=True`` accepts the
    last two (records of other configurations are never deleted)."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise StudyFolderError(f"--out {root} is a file, not a folder")
    if not root.exists() or force:
        return
    entries = [p.name for p in root.iterdir() if p.name != ".lock"]
    if not entries:
        return
    sj = root / "study.json"
    if not sj.exists():
        raise StudyFolderError(
            f"{root} is not empty and is not a study folder (no study.json; it holds "
            f"{', '.join(sorted(entries)[:3])}{', ...' if len(entries) > 3 else ''}): results would "
            "overwrite its table.csv and figures/; choose another --out, or pass --force")
    try:
        other = json.loads(sj.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError):
        raise StudyFolderError(f"{sj} is unreadable (not JSON); choose another --out, or pass --force") from None
    if other != study_name:
        raise StudyFolderError(
            f"{root} holds the results of study {other!r}, not {study_name!r}; choose another --out, "
            "or pass --force to add this study's records next to them (its table and figures are replaced)")


class ResultStore:
    """The record store of one study directory.

    Parameters
    ----------
    root : str or Path
        Study output directory (created on first write).
    durable : bool
        ``fsync`` every file and directory (survives OS crashes, not only killed
        processes; costs a few ms per record). See :func:`atomic_write_bytes`.
    """

    def __init__(self, root: str | Path, durable: bool = False):
        self.root = Path(root)
        self.records_dir = self.root / "records"
        self.durable = bool(durable)

    # ------------------------------------------------------------------ paths
    def _check_key(self, key: str) -> None:
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise ValueError(f"key = {key!r} must be a 16-hex-digit configuration key")

    def _check_seed(self, seed: int) -> int:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed = {seed!r} must be a non-negative integer")
        return int(seed)

    def paths(self, key: str, seed: int) -> tuple[Path, Path]:
        """``(npz_path, json_path)`` of the record (key, seed)."""
        self._check_key(key)
        seed = self._check_seed(seed)
        d = self.records_dir / key
        return d / f"seed_{seed:06d}.npz", d / f"seed_{seed:06d}.json"

    # ------------------------------------------------------------------ study
    def write_study(self, study_dict: Mapping[str, Any]) -> None:
        """Store the study description (``study.json``) and each configuration's ``config.json``."""
        atomic_write_bytes(self.root / "study.json", _json_bytes(dict(study_dict)))
        for c in study_dict.get("configurations", []):
            p = self.records_dir / c["key"] / "config.json"
            atomic_write_bytes(p, _json_bytes(c))

    def read_study(self) -> dict:
        """The stored ``study.json`` as a dict; ``FileNotFoundError`` if the directory has none."""
        p = self.root / "study.json"
        if not p.exists():
            raise FileNotFoundError(f"{self.root}: no study.json; is this a results directory written by `mdptheory run`?")
        return json.loads(p.read_text(encoding="utf-8"))

    # ------------------------------------------------------------------ records
    def write_record(self, key: str, seed: int, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Write one record atomically: the ``.npz`` first, then the JSON commit marker.

        Parameters
        ----------
        key, seed
            Configuration key and seed.
        arrays : mapping of str to ndarray
            Numeric arrays only (object dtype is refused: records are pickle-free).
        meta : mapping
            JSON-serialisable metadata; ``key``, ``seed``, ``format``, ``sha256`` and
            ``arrays`` are added.
        """
        npz_path, json_path = self.paths(key, seed)
        clean = {}
        for name, a in arrays.items():
            a = np.asarray(a)
            if a.dtype.hasobject or a.dtype.kind not in "biuf":
                raise TypeError(f"arrays[{name!r}] has dtype {a.dtype}; records hold numeric arrays only")
            clean[name] = a
        data = _npz_bytes(clean)
        m = dict(meta)
        m.update(
            key=key,
            seed=int(seed),
            format=RECORD_FORMAT,
            sha256=hashlib.sha256(data).hexdigest(),
            nbytes=len(data),
            arrays={k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in clean.items()},
        )
        payload = _json_bytes(m, indent=None)  # fail on non-JSON metadata *before* touching the disk
        # If an old record is being replaced, drop its commit marker first so that a crash
        # between the two renames cannot pair the old JSON with the new npz.
        if json_path.exists():
            json_path.unlink()
        atomic_write_bytes(npz_path, data, self.durable)
        atomic_write_bytes(json_path, payload, self.durable)

    def _verify(self, key: str, seed: int) -> tuple[RecordStatus, bytes | None]:
        """Check one record; return its status and, when ``ok``, the verified ``.npz`` bytes."""
        seed = self._check_seed(seed)
        npz_path, json_path = self.paths(key, seed)
        if not json_path.exists():
            if npz_path.exists():
                return RecordStatus(key, seed, "corrupt", "arrays without metadata (interrupted write)"), None
            return RecordStatus(key, seed, "missing"), None
        try:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return RecordStatus(key, seed, "corrupt", f"metadata unreadable ({exc})"), None
        if not isinstance(meta, dict):
            return RecordStatus(key, seed, "corrupt", "metadata is not a JSON object"), None
        for f in ("sha256", "arrays", "key", "seed"):
            if f not in meta:
                return RecordStatus(key, seed, "corrupt", f"metadata lacks {f!r}"), None
        if meta["key"] != key or meta["seed"] != seed:
            return RecordStatus(key, seed, "corrupt", "metadata names another record"), None
        try:
            data = npz_path.read_bytes()
        except FileNotFoundError:
            return RecordStatus(key, seed, "corrupt", "metadata without arrays"), None
        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
            return RecordStatus(key, seed, "corrupt", "SHA-256 of the arrays does not match the metadata"), None
        # Hash matches: check the declared names, dtypes and shapes against the .npy headers
        # (no decompression of the data itself).
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                members = {n[:-4]: n for n in z.namelist() if n.endswith(".npy")}
                if set(members) != set(meta["arrays"]) or len(members) != len(z.namelist()):
                    return RecordStatus(key, seed, "corrupt",
                                        f"array names {sorted(members)} != {sorted(meta['arrays'])}"), None
                for name, spec in meta["arrays"].items():
                    shape, dtype = _npy_header(z, members[name])
                    if dtype.hasobject or dtype.str != spec["dtype"] or list(shape) != list(spec["shape"]):
                        return RecordStatus(key, seed, "corrupt",
                                            f"array {name!r} has dtype/shape {dtype.str}{shape}, metadata says "
                                            f"{spec['dtype']}{tuple(spec['shape'])}"), None
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as exc:
            return RecordStatus(key, seed, "corrupt", f"arrays unreadable ({exc})"), None
        return RecordStatus(key, seed, "ok", meta=meta), data

    def check(self, key: str, seed: int) -> RecordStatus:
        """Verify one record: JSON parses, SHA-256 of the ``.npz`` matches, and the array
        names, dtypes and shapes in the ``.npy`` headers match the metadata."""
        return self._verify(key, seed)[0]

    def read(self, key: str, seed: int, verify: bool = True, arrays: Iterable[str] | None = None) -> Record:
        """Load one record.

        Parameters
        ----------
        key, seed
            The record.
        verify : bool
            Check it first (:meth:`check`; the verified bytes are the ones decoded).
            ``ValueError`` if it is not ``ok``.
        arrays : iterable of str, optional
            Decode only these arrays (default: all); names not in the record are ignored.
        """
        npz_path, json_path = self.paths(key, seed)
        if verify:
            st, data = self._verify(key, seed)
            if st.state != "ok":
                raise ValueError(f"record (key={key}, seed={seed}) is {st.state}: {st.reason or 'not written'}")
            meta = dict(st.meta)
            src: Any = io.BytesIO(data)
        else:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
            src = npz_path
        want = None if arrays is None else set(arrays)
        out = {}
        with np.load(src, allow_pickle=False) as z:
            for n in z.files:
                if want is not None and n not in want:
                    continue
                a = z[n]
                a.flags.writeable = False
                out[n] = a
        return Record(key, int(seed), out, meta)

    def delete(self, key: str, seed: int) -> None:
        """Remove a record (metadata first, so a crash leaves it 'corrupt', never 'ok')."""
        npz_path, json_path = self.paths(key, seed)
        for p in (json_path, npz_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def seeds_on_disk(self, key: str) -> list[int]:
        """Seeds with any record file (complete or not) for configuration ``key``."""
        self._check_key(key)
        d = self.records_dir / key
        if not d.is_dir():
            return []
        out = set()
        for p in d.iterdir():
            m = _SEED_RE.match(p.name)
            if m:
                out.add(int(m.group(1)))
        return sorted(out)

    def scan(self, pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], RecordStatus]:
        """Check every (key, seed) in ``pairs``."""
        return {(k, int(s)): self.check(k, s) for k, s in pairs}

    def clean_temporaries(self) -> int:
        """Delete leftover ``.*.tmp`` files from interrupted writes; return how many."""
        n = 0
        if not self.root.exists():
            return 0
        for p in list(self.root.glob(".*.tmp")) + list(self.records_dir.glob("*/.*.tmp")):
            try:
                p.unlink()
                n += 1
            except FileNotFoundError:  # pragma: no cover
                pass
        return n

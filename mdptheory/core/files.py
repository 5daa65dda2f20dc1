"""Files written atomically (the sweep store's records, a long run's checkpoints)."""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes"]

_counter = itertools.count()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = False) -> None:
    """Write ``data`` to ``path`` atomically: temporary file in the same directory, then
    :func:`os.replace`.

    The rename makes the write atomic with respect to the *process* being killed (any
    signal, including SIGKILL): readers see the old file or the complete new one.
    ``durable=True`` also ``fsync``-s the file and the directory, which additionally
    survives an operating-system crash or power loss. Without it such a crash can leave a
    renamed but empty/partial file; the store's SHA-256 check then reports the record as
    corrupt and the runner recomputes it, so results stay correct either way.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{next(_counter)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # pragma: no cover - stale file from a recycled pid
        fd, name = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        _fsync_dir(path.parent)

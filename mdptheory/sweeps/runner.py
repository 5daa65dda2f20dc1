r"""Run a study: split it into work units, execute them serially, on local processes or on a
Dask cluster, and store one record per (configuration, seed).

Work unit = (configuration, chunk of seeds). A unit is a small JSON-able dict (names and
parameters); the worker rebuilds the learner and the MDP through the registry, calls
:func:`mdptheory.regret.run` on its seeds with one thread, and *returns* the arrays (one
:class:`SeedResult` per seed). Only this plain data crosses process boundaries (the
executors' own transport serialises it); no learner, MDP or function object is shipped,
and nothing pickled is ever written to disk. The driver (the process running :func:`run_sweep`) is the only writer of the
:class:`~mdptheory.sweeps.store.ResultStore`, so

* a cluster needs no shared file system,
* records are written atomically as units complete, and a killed run (even ``kill -9``)
  loses at most the units in flight; the next run skips every finished record, re-checks
  and recomputes corrupt ones, and ends with exactly the arrays of an uninterrupted run,
  because each seed's numbers depend only on (configuration, seed)
  (:func:`mdptheory.regret.run` draws seed ``s`` from ``SeedSequence(s)``).

Executors: ``"serial"`` (in-process), ``"local"`` (a :class:`concurrent.futures.ProcessPoolExecutor`
with the ``spawn`` start method) and ``"dask"`` (a :class:`distributed.Client`; pass
``scheduler="tcp://host:port"`` or an existing ``client``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import inspect
import math
import os
import platform
import queue
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Callable, Iterator

import numpy as np

import mdptheory
from mdptheory.sweeps import registry
from mdptheory.sweeps.config import Configuration, Study
from mdptheory.sweeps.store import ResultStore, StudyLock, check_study_folder

__all__ = ["run_sweep", "SweepReport", "SeedResult", "plan_units", "compute_unit", "default_workers",
           "source_fingerprint"]


@dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    out : str
        Results directory.
    executor : str
        ``"serial"``, ``"local"`` or ``"dask"``.
    workers : int
        Worker processes (Dask: workers known to the scheduler at submission time).
    n_records, n_skipped, n_computed : int
        Records in the study, found complete on disk, computed by this call.
    corrupt : tuple of str
        ``"key/seed: reason"`` for every corrupt or partial record found and recomputed.
    n_units : int
        Work units submitted.
    wall_time : float
        Seconds for the whole call.
    compute_time : float
        Sum over units of the time spent inside :func:`mdptheory.regret.run` (including the
        workers' MDP construction and numba loading); ``1 - compute_time / (workers *
        wall_time)`` bounds the machinery's overhead from above.
    """

    out: str
    executor: str
    workers: int
    n_records: int
    n_skipped: int
    n_computed: int
    corrupt: tuple
    n_units: int
    wall_time: float
    compute_time: float


def default_workers() -> int:
    """Cores this process may run on (``os.sched_getaffinity`` where available, so a CPU
    limit set by a batch system or container is respected), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


@functools.lru_cache(maxsize=None)
def _file_sha(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError:  # pragma: no cover - frozen or zipped installs
        return "unknown"


def source_fingerprint(config: Configuration) -> dict:
    """SHA-256 prefixes of the source files that compute a configuration's numbers: the
    learner's module, the family's module and the regret engine.

    Stored in every record's metadata; :func:`run_sweep` warns when a reused record was
    computed from different sources (e.g. a learner edited in an editable install since),
    because the configuration key names *what* was run, not *which code* ran it. A
    heuristic: helpers imported by these modules are not covered.
    """
    from mdptheory.regret import engine

    out = {}
    for kind, obj in (("learner", registry.resolve("learner", config.learner.name)[1]),
                      ("family", registry.resolve("family", config.mdp.family)[1]),
                      ("engine", engine)):
        try:
            path = inspect.getsourcefile(obj)
        except TypeError:  # pragma: no cover - builtins
            path = None
        out[kind] = _file_sha(path) if path else "unknown"
    return out


def _machine() -> dict:
    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "cpu_count": os.cpu_count(),
    }


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(float(x)) else str(float(x))
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (str, int, bool)) or x is None:
        return x
    return repr(x)


@dataclass(frozen=True)
class SeedResult:
    """What a worker returns for one seed of a unit: the record's ``arrays`` and ``meta``."""

    seed: int
    arrays: dict
    meta: dict


def compute_unit(unit: dict) -> list[SeedResult]:
    """Compute one work unit (runs in a worker). Returns one :class:`SeedResult` per seed.

    ``unit`` keys: ``config`` (a :meth:`Configuration.to_dict`), ``seeds`` (list of int),
    ``store_returns`` (bool), ``returns_stride`` (int).
    """
    from mdptheory.regret import run

    cfg = Configuration.from_dict(unit["config"])
    t0 = time.perf_counter()
    learner = cfg.learner.build()
    mdp = cfg.mdp.build()
    trace = run(learner, mdp, cfg.episodes, list(unit["seeds"]), workers=1,
                eval_every=cfg.eval_every, progress=False)
    wall = time.perf_counter() - t0
    seeds = [int(s) for s in trace.seeds]
    if seeds != [int(s) for s in unit["seeds"]]:  # pragma: no cover - engine contract
        raise RuntimeError(f"engine returned seeds {seeds}, asked for {unit['seeds']}")
    machine = _machine()
    source = source_fingerprint(cfg)
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    out = []
    for i, s in enumerate(seeds):
        arrays = {"pseudo_regret": np.asarray(trace.pseudo_regret[i], dtype=np.float64)}
        if unit.get("store_returns", True):
            arrays["returns"] = np.asarray(trace.returns[i, :: int(unit.get("returns_stride", 1))], dtype=np.float64)
        meta = {
            "config_key": cfg.key,
            "learner": cfg.learner.name,
            "learner_config": _jsonable(trace.config),
            "family": cfg.mdp.family,
            "family_params": _jsonable(dict(cfg.mdp.params)),
            "episodes": cfg.episodes,
            "eval_every": cfg.eval_every,
            "returns_stride": int(unit.get("returns_stride", 1)),
            "S": int(trace.S),
            "A": int(trace.A),
            "H": int(trace.H),
            "v_star": float(trace.v_star),
            "measures": _jsonable(dict(trace.measures)),
            "backend": trace.backend,
            "package_version": mdptheory.__version__,
            "source": source,
            "wall_time": wall / len(seeds),
            "unit_size": len(seeds),
            "machine": machine,
            "created": now,
        }
        out.append(SeedResult(s, arrays, meta))
    return out


def plan_units(study: Study, pending: dict[str, list[int]], workers: int | None) -> list[dict]:
    """Split pending seeds into (configuration, seed chunk) units.

    Parameters
    ----------
    study : Study
    pending : dict
        Config key -> seeds still to compute.
    workers : int or None
        Number of parallel slots. ``study.seed_chunk`` fixes the chunk size; 0 (auto) picks
        the largest chunk that still gives every worker about four units, so cores stay
        busy to the end while per-unit overhead (process hand-off, model construction)
        stays amortised. ``None`` means "unknown or elastic" (a Dask cluster whose
        workers may still be arriving): one seed per unit.
    """
    by_key = {c.key: c for c in study.configurations}
    total = sum(len(v) for v in pending.values())
    if total == 0:
        return []
    if study.seed_chunk:
        chunk = study.seed_chunk
    elif workers is None:
        chunk = 1
    else:
        chunk = max(1, math.ceil(total / (4 * max(1, workers))))
    units = []
    for key, seeds in pending.items():
        cfg = by_key[key]
        for i in range(0, len(seeds), chunk):
            units.append({
                "config": cfg.to_dict(),
                "seeds": list(seeds[i : i + chunk]),
                "store_returns": study.outputs.store_returns,
                "returns_stride": study.outputs.returns_stride,
            })
    # Longest work first (episodes x S x A x H x seeds) to shorten the tail.
    units.sort(key=lambda u: -u["config"]["episodes"] * u["config"]["S"] * u["config"]["A"] * u["config"]["H"] * len(u["seeds"]))
    return units


class _Progress:
    def __init__(self, total: int, initial: int, enabled: bool, desc: str):
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, initial=initial, desc=desc, unit="rec", dynamic_ncols=True)
            except ImportError:  # pragma: no cover
                self.bar = None

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _RecordWriter:
    """Writes finished records on one background thread, in completion order.

    Compression and file I/O release the GIL, and so do the compiled learner loops, so with
    the serial executor the writes of one unit overlap the computation of the next (with
    process or Dask workers the driver is idle anyway). Still a single writer: records are
    written one at a time, each atomically; a record is *done* (counted in the report and
    the progress bar) once its commit marker is on disk. If the process is killed, results
    still queued are simply recomputed by the next run, like units in flight. The queue is
    bounded, so a fast executor cannot pile up results in memory; the first write error
    is re-raised in the driver."""

    def __init__(self, store: ResultStore, bar: "_Progress", maxsize: int = 64):
        self.store, self.bar = store, bar
        self.n_done = 0
        self.compute_time = 0.0
        self.error: BaseException | None = None
        self._q: queue.Queue = queue.Queue(maxsize=maxsize)
        self._t = threading.Thread(target=self._loop, name="mdptheory-record-writer", daemon=True)
        self._t.start()

    def _loop(self) -> None:
        while True:
            res = self._q.get()
            if res is None:
                return
            if self.error is not None:
                continue  # drain without writing after a failure
            try:
                self.store.write_record(res.meta["config_key"], res.seed, res.arrays, res.meta)
                self.compute_time += float(res.meta["wall_time"])
                self.n_done += 1
                self.bar.update(1)
            except BaseException as exc:  # re-raised in the driver by put()/close()
                self.error = exc

    def put(self, res: "SeedResult") -> None:
        if self.error is not None:
            raise self.error
        self._q.put(res)

    def close(self) -> None:
        """Write everything queued, stop the thread, re-raise a write error."""
        self._q.put(None)
        self._t.join()
        if self.error is not None:
            raise self.error


def _watch_parent(parent_pid: int, interval: float) -> None:  # pragma: no cover - runs in workers
    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            os._exit(1)


def _worker_init(parent_pid: int, interval: float = 0.5) -> None:  # pragma: no cover - runs in workers
    """Worker start-up: ignore Ctrl-C (the parent handles it and stops the pool) and exit
    when the parent process is gone (after ``kill -9`` of ``mdptheory run``, workers would
    otherwise stay alive and idle forever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid, interval), daemon=True,
                     name="mdptheory-parent-watch").start()


def _iter_serial(units: list[dict]) -> Iterator[tuple[dict, list]]:
    for u in units:
        yield u, compute_unit(u)


def _iter_local(units: list[dict], workers: int) -> Iterator[tuple[dict, list]]:
    ctx = get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                             initargs=(os.getpid(),))
    futs: dict = {}
    clean = False
    try:
        futs = {ex.submit(compute_unit, u): u for u in units}
        pending = set(futs)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield futs[f], f.result()
        clean = True
    finally:
        for f in futs:
            f.cancel()
        # on an error or Ctrl-C do not wait for units in flight (their results are not needed):
        # stop the workers now rather than letting them finish their current unit
        if not clean:
            for proc in list(getattr(ex, "_processes", {}).values()):
                proc.terminate()
        ex.shutdown(wait=clean, cancel_futures=True)


def _iter_dask(units: list[dict], client) -> Iterator[tuple[dict, list]]:
    from distributed import as_completed

    futs = [client.submit(compute_unit, u, pure=False) for u in units]
    index = {f.key: u for f, u in zip(futs, units)}
    try:
        for f in as_completed(futs):
            res = f.result()
            yield index[f.key], res
            f.release()
    finally:
        for f in futs:
            if f.status == "pending":
                f.cancel()


def run_sweep(
    study: Study,
    out,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    durable: bool = False,
    force: bool = False,
    connect_timeout: float = 10.0,
) -> SweepReport:
    """Run every missing record of ``study`` and store it under ``out/records/``.

    Parameters
    ----------
    study : Study
        From :func:`mdptheory.sweeps.load_config`.
    out : str or Path
        Results directory (created if needed). Finished records there are reused.
    workers : int, optional
        Local worker processes; default: every core this process may use
        (:func:`default_workers`). ``1`` runs serially in this process. Ignored with
        ``scheduler``/``client``.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``"tcp://host:port"``); needs
        ``pip install mdptheory[dask]``.
    client : distributed.Client, optional
        An existing Dask client (e.g. on a ``LocalCluster`` or a dask-jobqueue
        ``SLURMCluster``); takes precedence over ``scheduler``. With Dask and
        ``seed_chunk = 0`` every seed is its own unit, so workers that join later (an
        elastic or still-starting cluster) find work too.
    progress : bool
        Show a records-done / total bar with an ETA.
    log : callable or None
        Receives one-line status messages (default ``print``).
    durable : bool
        ``fsync`` every record (survives OS crashes too; see
        :class:`~mdptheory.sweeps.store.ResultStore`).
    force : bool
        Write into ``out`` even when it is a non-empty folder that is not this study's
        (:func:`~mdptheory.sweeps.store.check_study_folder` refuses otherwise).
    connect_timeout : float
        Seconds to wait for the Dask scheduler before giving up with a clear error.

    Raises
    ------
    StudyFolderError
        ``out`` is a file, a foreign folder (without ``force``), or in use by another run
        (a lock file makes a second concurrent run on the same folder refuse).
    ConnectionError
        The Dask scheduler did not answer within ``connect_timeout``.

    Returns
    -------
    SweepReport
    """
    t_start = time.perf_counter()
    say = log or (lambda _m: None)
    if not isinstance(study, Study):
        raise TypeError(f"study must be a Study (from load_config), got {type(study).__name__}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers = {workers!r} must be a positive integer")
    check_study_folder(out, study.name, force=force)
    store = ResultStore(out, durable=durable)
    store.root.mkdir(parents=True, exist_ok=True)
    lock = StudyLock(store.root).acquire()
    try:
        return _run_locked(study, store, t_start, say, workers, scheduler, client, progress, connect_timeout)
    finally:
        lock.release()


def _note(say, msg: str) -> None:
    """A note on reused records: a ``RuntimeWarning`` (attributed like one raised by
    :func:`_run_locked`) and the same line in the progress output."""
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
    say("note: " + msg)


def _run_locked(study, store, t_start, say, workers, scheduler, client, progress, connect_timeout):
    n_tmp = store.clean_temporaries()
    if n_tmp:
        say(f"removed {n_tmp} temporary file(s) left by an interrupted run")
    try:
        previous = store.read_study().get("name")
    except (FileNotFoundError, ValueError):
        previous = None
    if previous is not None and previous != study.name:
        say(f"note: {store.root} held study {previous!r}; its records are kept, study.json now describes {study.name!r}")
    store.write_study(study.to_dict())

    pairs = [(c.key, s) for c in study.configurations for s in study.seeds]
    status = store.scan(pairs)
    corrupt = []
    pending: dict[str, list[int]] = {}
    n_ok = 0
    other_versions: dict[str, int] = {}
    by_key = {c.key: c for c in study.configurations}
    current_source: dict[str, dict] = {}
    other_source: dict[str, int] = {}
    for (key, seed), st in status.items():
        if st.state == "ok":
            n_ok += 1
            meta = st.meta or {}
            v = str(meta.get("package_version", "unknown"))
            if v != mdptheory.__version__:
                other_versions[v] = other_versions.get(v, 0) + 1
            if "source" in meta:
                cur = current_source.setdefault(key, source_fingerprint(by_key[key]))
                changed = sorted(k for k in cur if meta["source"].get(k) != cur[k])
                if changed:
                    lab = f"{by_key[key].label} ({', '.join(changed)})"
                    other_source[lab] = other_source.get(lab, 0) + 1
            continue
        if st.state == "corrupt":
            corrupt.append(f"{key}/seed_{seed}: {st.reason}")
            store.delete(key, seed)
        pending.setdefault(key, []).append(seed)
    for c in corrupt:
        warnings.warn(f"corrupt record recomputed: {c}", RuntimeWarning, stacklevel=2)
        say(f"corrupt record, will recompute: {c}")
    if other_versions:
        _note(say, f"{sum(other_versions.values())} reused record(s) were written by another mdptheory version "
                   f"({', '.join(f'{v}: {n}' for v, n in sorted(other_versions.items()))}; this is "
                   f"{mdptheory.__version__}); delete {store.records_dir} (or use a new --out) to recompute them")
    if other_source:
        _note(say, f"{sum(other_source.values())} reused record(s) were computed from source files that have "
                   f"changed since: {'; '.join(f'{lab}: {n}' for lab, n in other_source.items())}; delete those "
                   f"configurations' directories under {store.records_dir} (or use a new --out) to recompute them")

    own_client = None
    if client is not None or scheduler is not None:
        executor = "dask"
        if client is None:
            try:
                from distributed import Client
            except ImportError as exc:  # pragma: no cover - optional dependency
                raise ImportError("--scheduler needs Dask: pip install 'mdptheory[dask]'") from exc
            try:
                client = own_client = Client(scheduler, timeout=f"{float(connect_timeout)}s")
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(
                    f"no Dask scheduler answered at {scheduler!r} within {connect_timeout:g} s "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no reply'}); "
                    "check the address (tcp://host:port) and that `dask scheduler` is running there"
                ) from None
        n_workers = int(sum(client.nthreads().values()))  # parallel slots now; may grow
        units = plan_units(study, pending, None)
    else:
        n_workers = workers if workers is not None else default_workers()
        executor = "serial" if n_workers == 1 else "local"
        units = plan_units(study, pending, n_workers)
    n_todo = sum(len(u["seeds"]) for u in units)
    say(f"{study.name}: {len(study.configurations)} configurations x {len(study.seeds)} seeds = "
        f"{len(pairs)} records; {n_ok} done, {n_todo} to compute in {len(units)} units "
        f"({executor}, {n_workers} worker{'s' if n_workers != 1 else ''})")

    bar = _Progress(len(pairs), n_ok, progress and n_todo > 0, study.name)
    writer = _RecordWriter(store, bar)
    try:
        if not units:
            it: Iterator = iter(())
        elif executor == "serial":
            it = _iter_serial(units)
        elif executor == "local":
            it = _iter_local(units, min(n_workers, len(units)))
        else:
            it = _iter_dask(units, client)
        for unit, results in it:
            for res in results:
                writer.put(res)
    finally:
        try:
            writer.close()  # finished results are written even when the loop is interrupted
        finally:
            bar.close()
            if own_client is not None:
                own_client.close()
    compute_time, n_done = writer.compute_time, writer.n_done
    return SweepReport(
        out=str(store.root), executor=executor, workers=n_workers, n_records=len(pairs),
        n_skipped=n_ok, n_computed=n_done, corrupt=tuple(corrupt), n_units=len(units),
        wall_time=time.perf_counter() - t_start, compute_time=compute_time,
    )

r"""Long runs (``1e8`` episodes and more): exact regret on a log grid, checkpoints, resume.

:func:`long_run` drives a learner's resumable compiled loop
(:class:`~mdptheory.learners.resumable.ResumableLoop`: ``init`` + ``chunk``, the same
pieces as its :class:`~mdptheory.learners.base.CompiledLoop`) in chunks of episodes and keeps,
per seed, only

* the exact cumulative pseudo-regret :math:`\mathrm{Regret}(k)`, the cumulative realised
  return and the per-episode pseudo-regret :math:`\Delta_k` at the episodes of
  :func:`checkpoint_grid` (log-spaced, ``per_decade`` points per decade, plus ``linear``
  equally spaced ones: the decimated curves; a few hundred KB for ``K = 1e8``);
* optionally the learner's bound certificate over *every* ``k``
  (:class:`~mdptheory.regret.certificate.CertificateAccumulator`).

Every value equals, bit for bit, what :func:`mdptheory.run` with the same seed gives
(``trace.cumulative()[:, k - 1]``): the chunk functions make the same draws and operations,
and the cumulative sum is carried across chunks in the same order as ``numpy.cumsum``.

**Checkpoints** (``out`` given). After every ``checkpoint_every`` episodes, per seed,
``out/seed_<seed>/state_<k>.npz`` (the learner's state arrays, the recorder's arrays; plain
numeric ``.npy`` members, never pickled) is written to a temporary file and moved into place
(``os.replace``), then ``out/seed_<seed>/checkpoint.json`` (episodes done, the
``numpy.random.Generator`` state ``rng.bit_generator.state``, the SHA-256 of the ``.npz``,
and the run's identity: learner class, configuration and source file hash, MDP arrays hash,
``K``, seed, grid), likewise; only then are older ``.npz`` files removed. A process killed at
any moment (``SIGKILL`` included) leaves the last committed checkpoint intact; rerunning the
same call resumes from it and ends with exactly the arrays of an uninterrupted run, having
lost at most the episodes since that checkpoint. A checkpoint of another run (different
learner, parameters, MDP, ``K``, seed, grid or learner source) is refused with
``ValueError``; ``resume=False`` starts afresh.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import math
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mdptheory.core import EpisodicMDP
from mdptheory.core.files import atomic_write_bytes
from mdptheory.core.validation import check_bool, check_int
from mdptheory.regret.certificate import BoundCertificate, CertificateAccumulator, combine_certificates
from mdptheory.regret.engine import env_arrays, seed_rng
from mdptheory.solvers import solve

__all__ = ["LongRun", "long_run", "checkpoint_grid", "load_long_run", "CHECKPOINT_FORMAT"]

#: Version of the checkpoint layout (stored in every ``checkpoint.json``).
CHECKPOINT_FORMAT = 1



def _seed_list(seeds) -> tuple:
    """``n`` -> ``(0, ..., n-1)``; a sequence -> its distinct non-negative ints."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, (bool, np.bool_)):
        return tuple(range(check_int("seeds", seeds, 1)))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be an int or a sequence of ints, got {seeds!r}")
    out = tuple(check_int(f"seeds[{i}]", s, 0) for i, s in enumerate(seeds))
    if not out or len(set(out)) != len(out):
        raise ValueError(f"seeds = {seeds!r} must be a non-empty sequence of distinct integers")
    return out


def checkpoint_grid(episodes: int, per_decade: int = 20, linear: int = 2000) -> np.ndarray:
    """Episode counts ``k`` (1-based, sorted, distinct, ``int64``) at which a long run records
    ``Regret(k)``: every integer in ``1..min(K, 10)``, ``per_decade`` log-spaced points per
    decade up to ``K``, ``linear`` equally spaced points ``K/linear, 2K/linear, ..., K``
    (rounded), and ``K`` itself."""
    K = check_int("episodes", episodes, 1)
    per_decade = check_int("per_decade", per_decade, 1)
    linear = check_int("linear", linear, 0)
    parts = [np.arange(1, min(K, 10) + 1, dtype=np.float64), np.array([float(K)])]
    if K > 1:
        n = int(math.ceil(math.log10(K) * per_decade)) + 1
        parts.append(np.round(np.logspace(0.0, math.log10(K), n)))
    if linear:
        parts.append(np.round(np.arange(1, linear + 1, dtype=np.float64) * (K / linear)))
    g = np.unique(np.concatenate(parts)).astype(np.int64)
    return g[(g >= 1) & (g <= K)]


@dataclass(frozen=True, eq=False)
class LongRun:
    r"""Result of :func:`long_run`.

    Attributes
    ----------
    learner, config, S, A, H, v_star, seeds
        As in :class:`mdptheory.regret.RegretTrace`.
    episodes : int
        ``K`` per seed.
    grid : ndarray ``(n_grid,)`` int64
        Episode counts ``k`` of :func:`checkpoint_grid`.
    regret : ndarray ``(n_seeds, n_grid)``
        Exact :math:`\mathrm{Regret}(k)` at the grid (bit-identical to
        ``mdptheory.run(...).cumulative()[:, grid - 1]``).
    returns : ndarray ``(n_seeds, n_grid)``
        Cumulative realised return at the grid.
    episode_regret : ndarray ``(n_seeds, n_grid)``
        Pseudo-regret :math:`\Delta_k` of episode ``k`` (1-based) itself.
    compute_time : tuple of float
        Seconds spent in the loop per seed, summed over every session of the run.
    resumed_from : tuple of int
        Episodes already done (from a checkpoint) when this call started, per seed.
    sessions : tuple of int
        Number of calls that worked on each seed (1 = never interrupted).
    certificate : BoundCertificate or None
        The learner's bound certified at every ``k <= K`` over all seeds (``None`` without
        ``certify`` or for a learner without a bound).
    """

    learner: str
    config: dict = field(repr=False)
    S: int
    A: int
    H: int
    v_star: float
    episodes: int
    seeds: tuple
    grid: np.ndarray = field(repr=False)
    regret: np.ndarray = field(repr=False)
    returns: np.ndarray = field(repr=False)
    episode_regret: np.ndarray = field(repr=False)
    compute_time: tuple = ()
    resumed_from: tuple = ()
    sessions: tuple = ()
    certificate: BoundCertificate | None = field(default=None, repr=False)

    @property
    def final_regret(self) -> np.ndarray:
        r""":math:`\mathrm{Regret}(K)` per seed."""
        return self.regret[:, -1]


# ----------------------------------------------------------------------------- checkpoint files


def _npz_bytes(arrays: dict) -> bytes:
    """A standard ``.npz`` (readable with ``numpy.load(allow_pickle=False)``) built without
    pickle; numeric arrays only."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, a in arrays.items():
            a = np.ascontiguousarray(a)
            if a.dtype.hasobject or a.dtype.kind not in "biuf":
                raise TypeError(f"checkpoint array {name!r} has dtype {a.dtype}; numeric arrays only")
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, a, allow_pickle=False)
    return buf.getvalue()


def _file_sha(path) -> str:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except (OSError, TypeError):  # pragma: no cover - frozen installs
        return "unknown"


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(float(x)) else repr(float(x))
    if isinstance(x, (str, int, bool)) or x is None:
        return x
    return repr(x)


def _mdp_hash(P, R, init, noise, std, H) -> str:
    h = hashlib.sha256()
    for a in (P, R, init):
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    h.update(f"{noise}|{std!r}|{H}".encode())
    return h.hexdigest()[:16]


def _read_checkpoint(folder: Path):
    """``(meta, arrays)`` of the committed checkpoint in ``folder`` or ``None``."""
    jp = folder / "checkpoint.json"
    if not jp.exists():
        return None
    try:
        meta = json.loads(jp.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{jp}: unreadable checkpoint ({exc}); delete the folder or pass resume=False") from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{jp}: checkpoint format {meta.get('format')!r}, this version reads {CHECKPOINT_FORMAT}")
    npz = folder / str(meta["npz"])
    try:
        data = npz.read_bytes()
    except OSError:
        raise ValueError(f"{jp} names {npz.name}, which is missing; delete the folder or pass resume=False") from None
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        raise ValueError(f"{npz}: SHA-256 does not match {jp}; delete the folder or pass resume=False")
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays


def _clean(folder: Path, keep: str | None) -> None:
    for p in folder.glob("state_*.npz"):
        if p.name != keep:
            try:
                p.unlink()
            except FileNotFoundError:  # pragma: no cover
                pass
    for p in folder.glob(".*.tmp"):
        try:
            p.unlink()
        except FileNotFoundError:  # pragma: no cover
            pass


# ----------------------------------------------------------------------------- one seed


class _Recorder:
    """Exact cumulative regret/returns carried across chunks, sampled at the grid."""

    def __init__(self, grid: np.ndarray):
        self.grid = grid
        n = grid.size
        self.regret = np.full(n, np.nan)
        self.returns = np.full(n, np.nan)
        self.episode_regret = np.full(n, np.nan)
        self.carry = np.zeros(2)                 # Regret(k_done), cumulative return

    def update(self, k0: int, reg: np.ndarray, ret: np.ndarray) -> np.ndarray:
        """Add episodes ``k0+1 .. k0+m``; returns their cumulative regret."""
        m = reg.size
        # prepend the carry so the additions happen in numpy.cumsum's order over the whole run
        cr = np.cumsum(np.concatenate((self.carry[:1], reg)))[1:]
        cg = np.cumsum(np.concatenate((self.carry[1:], ret)))[1:]
        lo, hi = np.searchsorted(self.grid, [k0 + 1, k0 + m + 1])
        idx = self.grid[lo:hi] - k0 - 1
        self.regret[lo:hi] = cr[idx]
        self.returns[lo:hi] = cg[idx]
        self.episode_regret[lo:hi] = reg[idx]
        self.carry[0] = cr[-1]
        self.carry[1] = cg[-1]
        return cr

    def state(self) -> dict:
        return {"rec_regret": self.regret, "rec_returns": self.returns,
                "rec_episode_regret": self.episode_regret, "rec_carry": self.carry}

    def restore(self, arrays: dict) -> None:
        for name, attr in (("rec_regret", "regret"), ("rec_returns", "returns"),
                           ("rec_episode_regret", "episode_regret"), ("rec_carry", "carry")):
            a = np.array(arrays[name], dtype=np.float64)
            if a.shape != getattr(self, attr).shape:
                raise ValueError(f"checkpoint array {name} has shape {a.shape}, expected {getattr(self, attr).shape}")
            setattr(self, attr, a)


@dataclass
class _SeedOutcome:
    rec: _Recorder
    cert: CertificateAccumulator | None
    compute_time: float
    resumed_from: int
    sessions: int


def _run_seed(ctx: dict, seed: int, bar, on_chunk) -> _SeedOutcome:
    rl, K, grid = ctx["loop"], ctx["K"], ctx["grid"]
    P, R, init, noise, std, v_star = ctx["env"]
    rec = _Recorder(grid)
    cert = CertificateAccumulator(1) if ctx["bound"] is not None else None
    state = rl.new_state(ctx["S"], ctx["A"])
    rng = seed_rng(seed)
    k, compute, sessions = 0, 0.0, 1
    folder = None if ctx["out"] is None else ctx["out"] / f"seed_{seed:06d}"
    identity = dict(ctx["identity"], seed=int(seed))
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        got = _read_checkpoint(folder) if ctx["resume"] else None
        if got is not None:
            meta, arrays = got
            if meta["identity"] != identity:
                diff = sorted(f for f in set(meta["identity"]) | set(identity)
                              if meta["identity"].get(f) != identity.get(f))
                raise ValueError(f"{folder}: the checkpoint belongs to another run (differs in {', '.join(diff)}); "
                                 "use another out folder, or resume=False to start afresh")
            fresh = state
            state = tuple(np.array(arrays[f"state_{n}"]) for n in rl.state_names)
            for n, a, b in zip(rl.state_names, state, fresh):
                if a.shape != b.shape or a.dtype != b.dtype:
                    raise ValueError(f"{folder}: state array {n} is {a.dtype}{a.shape}, expected {b.dtype}{b.shape}")
            rec.restore(arrays)
            if cert is not None:
                cert = CertificateAccumulator.from_state(arrays)
            rng.bit_generator.state = meta["rng"]
            k = int(meta["k_done"])
            compute = float(meta["compute_time"])
            sessions = int(meta["sessions"]) + (1 if k < K else 0)
    resumed_from = k
    if bar is not None:
        bar.update(k)
    chunk, every = ctx["chunk"], ctx["checkpoint_every"]
    reg_buf = np.empty(min(chunk, K))
    ret_buf = np.empty(min(chunk, K))
    last_ckpt = k
    while k < K:
        k1 = min(K, k + chunk)
        if folder is not None:
            k1 = min(k1, last_ckpt + every)
        m = k1 - k
        reg, ret = reg_buf[:m], ret_buf[:m]
        reg.fill(np.nan)
        t0 = time.perf_counter()
        rl.chunk(P, R, init, noise, std, v_star, k, k1, 1, rng, rl.params, state, reg, ret)
        compute += time.perf_counter() - t0
        cr = rec.update(k, reg, ret)
        if cert is not None:
            b = ctx["bound"](np.arange(k + 1, k1 + 1, dtype=np.float64))
            cert.update(cr, np.broadcast_to(b.value, (m,)), np.broadcast_to(b.trivial_cap, (m,)))
        k = k1
        saved = False
        if folder is not None and (k - last_ckpt >= every or k == K):
            _save(folder, k, rng, state, rl.state_names, rec, cert, identity, compute, sessions)
            last_ckpt, saved = k, True
        if bar is not None:
            bar.update(m)
        if on_chunk is not None:
            on_chunk(int(seed), k, saved)
    return _SeedOutcome(rec, cert, compute, resumed_from, sessions)


def _save(folder, k, rng, state, names, rec, cert, identity, compute, sessions) -> None:
    arrays = {f"state_{n}": a for n, a in zip(names, state)}
    arrays.update(rec.state())
    if cert is not None:
        arrays.update(cert.state())
    data = _npz_bytes(arrays)
    name = f"state_{k:013d}.npz"
    atomic_write_bytes(folder / name, data)
    meta = {
        "format": CHECKPOINT_FORMAT, "identity": identity, "k_done": int(k),
        "rng": _jsonable(rng.bit_generator.state), "npz": name,
        "sha256": hashlib.sha256(data).hexdigest(), "compute_time": float(compute), "sessions": int(sessions),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write_bytes(folder / "checkpoint.json", (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
    _clean(folder, keep=name)


# ----------------------------------------------------------------------------- driver


def long_run(learner, mdp: EpisodicMDP, episodes: int, seeds=1, *, out=None, chunk: int = 1 << 18,
             checkpoint_every: int | None = None, per_decade: int = 20, linear: int = 2000,
             certify: bool = True, resume: bool = True, workers: int = 1, progress: bool | None = None,
             on_chunk: Callable[[int, int, bool], None] | None = None) -> LongRun:
    r"""Run ``learner`` for ``episodes`` episodes per seed with constant memory, optional
    checkpoints and resume (see the module docstring).

    Parameters
    ----------
    learner : Learner
        A learner with ``resumable(mdp, episodes)`` (UCBVI, MVP, EULER,
        QEarlySettledAdvantage).
    mdp : EpisodicMDP
    episodes : int
        ``K`` per seed.
    seeds : int or sequence of int
        As for :func:`mdptheory.run` (seed ``s`` draws from ``SeedSequence(s)``).
    out : str or Path, optional
        Checkpoint folder (one sub-folder per seed). ``None``: no checkpoints.
    chunk : int
        Episodes per call of the compiled chunk (memory: two float64 buffers of this length).
    checkpoint_every : int, optional
        Episodes between checkpoints (default ``chunk``). A killed run loses at most this
        many episodes of work per seed.
    per_decade, linear : int
        The recording grid (:func:`checkpoint_grid`).
    certify : bool
        Certify ``learner.bound`` at every ``k`` (skipped for learners without a bound).
    resume : bool
        Continue from a checkpoint in ``out`` (``False``: start afresh, overwriting it).
    workers : int
        Seeds run concurrently in threads (the chunks release the GIL); results do not
        depend on it.
    progress : bool, optional
        One tqdm bar per seed, advanced per chunk (default: on for ``>= 1e6`` episodes in
        total).
    on_chunk : callable, optional
        ``on_chunk(seed, episodes_done, checkpointed)`` after every chunk (monitoring).

    Returns
    -------
    LongRun

    Raises
    ------
    TypeError
        ``mdp`` is not an EpisodicMDP or the learner has no resumable loop.
    ValueError
        Bad arguments, rewards outside the learner's normalisation, or a checkpoint in
        ``out`` that belongs to another run.
    """
    if not isinstance(mdp, EpisodicMDP):
        raise TypeError(f"long_run needs an EpisodicMDP, got {type(mdp).__name__}")
    get = getattr(learner, "resumable", None)
    if get is None:
        raise TypeError(f"{type(learner).__name__} has no resumable loop (resumable(mdp, episodes)); "
                        "UCBVI, MVP, EULER and QEarlySettledAdvantage have one")
    K = check_int("episodes", episodes, 1)
    chunk = check_int("chunk", chunk, 1)
    every = chunk if checkpoint_every is None else check_int("checkpoint_every", checkpoint_every, 1)
    certify = check_bool("certify", certify)
    resume = check_bool("resume", resume)
    workers = check_int("workers", workers, 1)
    seed_list = _seed_list(seeds)
    grid = checkpoint_grid(K, per_decade, linear)

    learner.prepare(mdp, K)
    rl = get(mdp, K)
    sol = solve(mdp)
    P, R, init, noise, std = env_arrays(mdp)
    v_star = float(init @ sol.V[0])
    S, A, H = mdp.S, mdp.A, mdp.H
    bound_fn = None
    if certify:
        try:
            learner.bound(S, A, H, 1.0)
            bound_fn = lambda k: learner.bound(S, A, H, k)  # noqa: E731
        except NotImplementedError:
            bound_fn = None
    cfg = learner.config() if callable(getattr(learner, "config", None)) else {}
    identity = {
        "learner": type(learner).__name__, "config": _jsonable(cfg),
        "learner_source": _file_sha(inspect.getsourcefile(type(learner))),
        "loop": f"{getattr(rl.chunk, '__module__', '?')}.{getattr(rl.chunk, '__name__', '?')}",
        "mdp": _mdp_hash(P, R, init, noise, std, H), "episodes": K,
        "per_decade": int(per_decade), "linear": int(linear), "certify": bound_fn is not None,
    }
    out_path = None
    if out is not None:
        out_path = Path(out)
        if out_path.exists() and not out_path.is_dir():
            raise ValueError(f"out = {out_path} is a file, not a folder")
        out_path.mkdir(parents=True, exist_ok=True)
    ctx = {"loop": rl, "K": K, "grid": grid, "env": (P, R, init, noise, std, v_star), "S": S, "A": A,
           "bound": bound_fn, "out": out_path, "resume": resume, "identity": identity, "chunk": chunk,
           "checkpoint_every": every}

    show = progress if progress is not None else len(seed_list) * K >= 1_000_000
    bars = _bars(show, seed_list, K, type(learner).__name__)
    lock = threading.Lock()

    def one(i):
        bar = bars[i] if bars else None
        if bar is not None and workers > 1:
            raw = bar

            class _Locked:
                def update(self, n):
                    with lock:
                        raw.update(n)
            bar = _Locked()
        return _run_seed(ctx, seed_list[i], bar, on_chunk)

    try:
        if workers == 1 or len(seed_list) == 1:
            outcomes = [one(i) for i in range(len(seed_list))]
        else:
            with ThreadPoolExecutor(max_workers=min(workers, len(seed_list))) as ex:
                outcomes = list(ex.map(one, range(len(seed_list))))
    finally:
        for b in bars:
            b.close()
    certificate = None
    if bound_fn is not None:
        meta = bound_fn(np.array([float(K)]))
        certificate = combine_certificates([o.cert.result(meta, type(learner).__name__) for o in outcomes])
    return LongRun(
        learner=type(learner).__name__, config=cfg, S=S, A=A, H=H, v_star=v_star, episodes=K,
        seeds=seed_list, grid=grid, regret=np.stack([o.rec.regret for o in outcomes]),
        returns=np.stack([o.rec.returns for o in outcomes]),
        episode_regret=np.stack([o.rec.episode_regret for o in outcomes]),
        compute_time=tuple(o.compute_time for o in outcomes),
        resumed_from=tuple(o.resumed_from for o in outcomes), sessions=tuple(o.sessions for o in outcomes),
        certificate=certificate,
    )


def load_long_run(out, seed: int) -> dict:
    """The committed checkpoint of one seed of a long run in ``out``: ``{"meta": dict,
    "arrays": dict}`` (``meta["k_done"]`` episodes done, ``arrays["rec_regret"]`` the exact
    regret at the grid, NaN beyond ``k_done``). ``FileNotFoundError`` if there is none."""
    folder = Path(out) / f"seed_{check_int('seed', seed, 0):06d}"
    got = _read_checkpoint(folder)
    if got is None:
        raise FileNotFoundError(f"{folder}: no checkpoint.json")
    return {"meta": got[0], "arrays": got[1]}


def _bars(show: bool, seeds, K: int, name: str) -> list:
    if not show:
        return []
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return []
    return [tqdm(total=K, desc=f"{name} seed {s}", position=i, leave=False, unit="ep", unit_scale=True,
                 dynamic_ncols=True) for i, s in enumerate(seeds)]

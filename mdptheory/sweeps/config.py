r"""Study files: parse and validate a TOML study into a frozen :class:`Study`.

A study is learners x MDP configurations x seeds. Example (see ``experiments/*.toml`` and
``docs/sweeps.md`` for the full reference)::

    [study]
    name = "quickstart"
    episodes = 2000          # K, episodes per run
    seeds = 4                # 4 -> seeds 0,1,2,3; or an explicit list [0, 7, 9]
    eval_every = 1           # evaluation stride passed to mdptheory.regret.run
    delta = 0.1              # confidence level used for the bound curves

    [[learners]]
    name = "UCBVI"           # a class exported by mdptheory.learners
    label = "UCBVI-BF"       # legend text (optional)
    params = { bonus = "bernstein" }
    grid = { bonus_scale = [0.1, 1.0] }   # optional: one configuration per value

    [[mdps]]
    family = "riverswim"     # a function exported by mdptheory.envs
    params = { horizon = 20 }
    grid = { n = [4, 8, 16] }

    [outputs]
    figures = ["regret", "loglog", "ratio", "scaling"]
    tables = ["csv", "markdown"]
    band = "bootstrap"       # or "quantile"
    level = 0.95
    scaling = ["S"]          # x axes of the scaling figure: any of "S", "A", "H"
    size = "one-column"      # or "two-column"
    measures = []            # functions exported by mdptheory.measures, one table column each

``grid`` entries expand as a Cartesian product (merged into ``params``). Every error is a
:class:`ConfigError` naming the file, the key (``learners[1].params.bonus``) and what was
expected. Names resolve through :mod:`mdptheory.sweeps.registry`; constructing every
learner and MDP once at load time catches bad parameter values before any work starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from mdptheory.core.validation import check_int, check_probability
from mdptheory.sweeps import registry

__all__ = [
    "ConfigError",
    "LearnerSpec",
    "MDPSpec",
    "Configuration",
    "OutputSpec",
    "Study",
    "load_config",
    "parse_config",
    "FIGURE_KINDS",
    "TABLE_KINDS",
]

FIGURE_KINDS = ("regret", "loglog", "ratio", "scaling")
TABLE_KINDS = ("csv", "markdown")
BAND_KINDS = ("bootstrap", "quantile")
SIZES = ("one-column", "two-column")
SCALING_AXES = ("S", "A", "H")

_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_STUDY_KEYS = {"name", "description", "episodes", "seeds", "eval_every", "seed_chunk", "delta"}
_LEARNER_KEYS = {"name", "label", "params", "grid"}
_MDP_KEYS = {"family", "label", "params", "grid"}
_OUTPUT_KEYS = {
    "figures", "tables", "band", "level", "scaling", "size", "measures",
    "store_returns", "returns_stride", "bootstrap",
}
_TOP_KEYS = {"study", "learners", "mdps", "outputs"}


class ConfigError(ValueError):
    """A study-file error. ``str(err)`` reads ``FILE: KEY: problem; expected ...``.

    Attributes
    ----------
    file, key, expected : str
    """

    def __init__(self, file: str, key: str, problem: str, expected: str = ""):
        self.file, self.key, self.problem, self.expected = str(file), key, problem, expected
        msg = f"{file}: {key}: {problem}"
        if expected:
            msg += f"; expected {expected}"
        super().__init__(msg)


# ---------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class LearnerSpec:
    """A learner: registry ``name``, legend ``label`` and constructor ``params``."""

    name: str
    label: str
    params: Mapping[str, Any]

    def build(self):
        """Construct the learner (a fresh instance)."""
        return registry.resolve("learner", self.name)[1](**dict(self.params))


@dataclass(frozen=True)
class MDPSpec:
    """An MDP configuration: ``family`` function name, ``label`` and its ``params``."""

    family: str
    label: str
    params: Mapping[str, Any]

    def build(self):
        """Construct the MDP by calling the family function.

        A parameter given as a table ``{family = "...", params = {...}}`` is itself built
        as an MDP first (e.g. ``stochastic_twin`` takes the deterministic MDP it perturbs).
        """
        return registry.resolve("family", self.family)[1](**{k: _build_value(v) for k, v in self.params.items()})


def _is_nested_family(v: Any) -> bool:
    return isinstance(v, dict) and "family" in v


def _build_value(v: Any) -> Any:
    if _is_nested_family(v):
        return MDPSpec(v["family"], v["family"], dict(v.get("params", {}))).build()
    return v


@dataclass(frozen=True)
class Configuration:
    """One (learner, MDP) pair of a study; the unit of the result store.

    ``key`` is a 16-hex-digit SHA-256 prefix of the canonical JSON of everything that
    changes the numbers (learner name and parameters, family and parameters, episodes,
    evaluation stride). Labels, seeds and outputs do not enter the key, so relabelling or
    adding seeds reuses finished records.
    """

    learner: LearnerSpec
    mdp: MDPSpec
    episodes: int
    eval_every: int
    S: int
    A: int
    H: int
    key: str

    @property
    def label(self) -> str:
        """Legend/table text: ``"learner label | MDP label"``."""
        return f"{self.learner.label} | {self.mdp.label}"

    def identity(self) -> dict:
        """The JSON-able dict hashed into :attr:`key`."""
        return _identity(self.learner, self.mdp, self.episodes, self.eval_every)

    def to_dict(self) -> dict:
        """JSON-able form (stored in ``study.json`` and ``config.json``, sent to workers)."""
        return {
            "key": self.key,
            "learner": {"name": self.learner.name, "label": self.learner.label, "params": dict(self.learner.params)},
            "mdp": {"family": self.mdp.family, "label": self.mdp.label, "params": dict(self.mdp.params)},
            "episodes": self.episodes,
            "eval_every": self.eval_every,
            "S": self.S,
            "A": self.A,
            "H": self.H,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Configuration":
        """Inverse of :meth:`to_dict` (no validation: the dict comes from a validated study)."""
        return cls(
            learner=LearnerSpec(d["learner"]["name"], d["learner"]["label"], dict(d["learner"]["params"])),
            mdp=MDPSpec(d["mdp"]["family"], d["mdp"]["label"], dict(d["mdp"]["params"])),
            episodes=int(d["episodes"]),
            eval_every=int(d["eval_every"]),
            S=int(d["S"]),
            A=int(d["A"]),
            H=int(d["H"]),
            key=str(d["key"]),
        )


@dataclass(frozen=True)
class OutputSpec:
    """What to draw and tabulate after a run (see module docstring for the keys)."""

    figures: tuple[str, ...] = ("regret", "loglog", "ratio")
    tables: tuple[str, ...] = ("csv", "markdown")
    band: str = "bootstrap"
    level: float = 0.95
    scaling: tuple[str, ...] = ()
    size: str = "one-column"
    measures: tuple[str, ...] = ()
    store_returns: bool = True
    returns_stride: int = 1
    bootstrap: int = 2000

    def to_dict(self) -> dict:
        """JSON-able form (tuples as lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Study:
    """A validated study: the expanded configurations, seeds and output options."""

    name: str
    description: str
    path: str
    episodes: int
    seeds: tuple[int, ...]
    eval_every: int
    seed_chunk: int
    delta: float
    configurations: tuple[Configuration, ...]
    outputs: OutputSpec = field(default_factory=OutputSpec)

    @property
    def n_records(self) -> int:
        """Number of (configuration, seed) records of the study."""
        return len(self.configurations) * len(self.seeds)

    def to_dict(self) -> dict:
        """JSON-able form, stored as ``DIR/study.json`` (read back by :meth:`from_dict`)."""
        return {
            "name": self.name,
            "description": self.description,
            "path": self.path,
            "episodes": self.episodes,
            "seeds": list(self.seeds),
            "eval_every": self.eval_every,
            "seed_chunk": self.seed_chunk,
            "delta": self.delta,
            "configurations": [c.to_dict() for c in self.configurations],
            "outputs": self.outputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Study":
        """Inverse of :meth:`to_dict` (used by :func:`mdptheory.sweeps.load_results`)."""
        o = dict(d["outputs"])
        outs = OutputSpec(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in o.items()})
        return cls(
            name=d["name"], description=d.get("description", ""), path=d.get("path", ""),
            episodes=int(d["episodes"]), seeds=tuple(int(s) for s in d["seeds"]),
            eval_every=int(d["eval_every"]), seed_chunk=int(d["seed_chunk"]), delta=float(d["delta"]),
            configurations=tuple(Configuration.from_dict(c) for c in d["configurations"]), outputs=outs,
        )


# ---------------------------------------------------------------------------- helpers


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _identity(learner: LearnerSpec, mdp: MDPSpec, episodes: int, eval_every: int) -> dict:
    return {
        "learner": learner.name,
        "learner_params": dict(learner.params),
        "family": mdp.family,
        "family_params": dict(mdp.params),
        "episodes": int(episodes),
        "eval_every": int(eval_every),
    }


def config_key(learner: LearnerSpec, mdp: MDPSpec, episodes: int, eval_every: int) -> str:
    """16-hex-digit SHA-256 prefix of the configuration's canonical JSON identity."""
    return hashlib.sha256(_canonical(_identity(learner, mdp, episodes, eval_every)).encode()).hexdigest()[:16]


class _Ctx:
    def __init__(self, file: str):
        self.file = file

    def err(self, key: str, problem: str, expected: str = "") -> ConfigError:
        return ConfigError(self.file, key, problem, expected)

    def table(self, d: Any, key: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(d, dict):
            raise self.err(key, f"got {type(d).__name__} {d!r}", "a table")
        for k in d:
            if k not in allowed:
                raise self.err(f"{key}.{k}" if key else k, "unknown key", "one of " + ", ".join(sorted(allowed)))
        for k in sorted(required):
            if k not in d:
                raise self.err(f"{key}.{k}" if key else k, "missing", "a value")
        return d

    def pos_int(self, v: Any, key: str, minimum: int = 1) -> int:
        try:
            return check_int(key, v, minimum)
        except (TypeError, ValueError):
            raise self.err(key, f"got {v!r}", f"an integer >= {minimum}") from None

    def open_unit(self, v: Any, key: str, expected: str = "a number in (0, 1)") -> float:
        try:
            return check_probability(key, v, low_open=True, high_open=True)
        except (TypeError, ValueError):
            raise self.err(key, f"got {v!r}", expected) from None

    def resolve(self, kind: str, name: str, key: str):
        """``(canonical name, object)`` from the registry; an unknown name is a ConfigError at ``key``."""
        try:
            return registry.resolve(kind, name)
        except LookupError as exc:
            raise self.err(key, str(exc).split(";")[0], str(exc).split("expected ", 1)[-1]) from None

    def string(self, v: Any, key: str) -> str:
        if not isinstance(v, str) or not v:
            raise self.err(key, f"got {v!r}", "a non-empty string")
        return v

    def str_list(self, v: Any, key: str, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if isinstance(v, str) or not isinstance(v, list):
            raise self.err(key, f"got {v!r}", "a list of strings")
        out = []
        for i, x in enumerate(v):
            if not isinstance(x, str):
                raise self.err(f"{key}[{i}]", f"got {x!r}", "a string")
            if choices is not None and x not in choices:
                raise self.err(f"{key}[{i}]", f"got {x!r}", "one of " + ", ".join(repr(c) for c in choices))
            out.append(x)
        return tuple(out)


def _json_scalar_ok(v: Any) -> bool:
    if isinstance(v, bool) or isinstance(v, (int, str)):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(_json_scalar_ok(x) for x in v)
    return False


def _check_nested(ctx: _Ctx, v: dict, key: str) -> None:
    """Validate a nested MDP table ``{family = NAME, params = {...}}`` (recursively)."""
    ctx.table(v, key, {"family", "params"}, {"family"})
    canon, fn = ctx.resolve("family", ctx.string(v["family"], f"{key}.family"), f"{key}.family")
    v["family"] = canon
    params = v.setdefault("params", {})
    if not isinstance(params, dict):
        raise ctx.err(f"{key}.params", f"got {params!r}", "a table of parameter = value")
    for k, x in params.items():
        if _is_nested_family(x):
            _check_nested(ctx, x, f"{key}.params.{k}")
        elif not _json_scalar_ok(x):
            raise ctx.err(f"{key}.params.{k}", f"got {x!r}", "a number, string, boolean or list of them")
    _check_params(ctx, fn, params, f"{key}.params", canon)


def _expand(ctx: _Ctx, entry: dict, key: str, nested_ok: bool = False) -> list[dict]:
    params = entry.get("params", {})
    grid = entry.get("grid", {})
    if not isinstance(params, dict):
        raise ctx.err(f"{key}.params", f"got {params!r}", "a table of parameter = value")
    if not isinstance(grid, dict):
        raise ctx.err(f"{key}.grid", f"got {grid!r}", "a table of parameter = [values]")
    for k, v in params.items():
        if _is_nested_family(v) and nested_ok:
            _check_nested(ctx, v, f"{key}.params.{k}")
        elif not _json_scalar_ok(v):
            raise ctx.err(f"{key}.params.{k}", f"got {v!r}", "a number, string, boolean or list of them (no dates, no tables)")
    for k, v in grid.items():
        if k in params:
            raise ctx.err(f"{key}.grid.{k}", "also set in params", "each parameter in params or grid, not both")
        if not isinstance(v, list) or not v:
            raise ctx.err(f"{key}.grid.{k}", f"got {v!r}", "a non-empty list of values")
        for i, x in enumerate(v):
            if not _json_scalar_ok(x):
                raise ctx.err(f"{key}.grid.{k}[{i}]", f"got {x!r}", "a number, string or boolean")
    names = list(grid)
    out = []
    for combo in itertools.product(*(grid[n] for n in names)):
        p = dict(params)
        p.update(zip(names, combo))
        out.append((p, dict(zip(names, combo))))
    return out


def _check_params(ctx: _Ctx, obj, params: dict, key: str, what: str) -> None:
    accepted, var_kw = registry.signature_params(obj)
    for k in params:
        if k not in accepted and not var_kw:
            exp = "one of " + ", ".join(sorted(accepted)) if accepted else "no parameters"
            raise ctx.err(f"{key}.{k}", f"{what} does not take this parameter", exp)


def _grid_label(base: str, varied: dict) -> str:
    if not varied:
        return base
    return base + " (" + ", ".join(f"{k}={v}" for k, v in varied.items()) + ")"


#: ``[[learners]]`` and ``[[mdps]]`` entries: registry kind, key naming the registered
#: object, allowed keys, spec class, whether parameters may be nested MDP tables, and what a
#: failing construction was expected to receive.
_ENTRY_KINDS = {
    "learners": ("learner", "name", _LEARNER_KEYS, LearnerSpec, False, "valid constructor arguments"),
    "mdps": ("family", "family", _MDP_KEYS, MDPSpec, True, "valid family arguments"),
}


def _parse_entries(ctx: _Ctx, raw: list, table: str) -> list[tuple[Any, str, Any]]:
    """Validate and expand the entries of ``[[learners]]`` or ``[[mdps]]`` (``table``).

    Returns ``(spec, key, built object)`` per grid point, in file order; ``key`` is the
    entry's key (``mdps[2]``) for error messages. Every spec is built once here, so bad
    parameter values fail at load time with the file, key and value in the message.
    """
    kind, name_key, allowed, spec_cls, nested_ok, valid = _ENTRY_KINDS[table]
    out = []
    for i, e in enumerate(raw):
        key = f"{table}[{i}]"
        e = ctx.table(e, key, allowed, {name_key})
        canon, obj = ctx.resolve(kind, ctx.string(e[name_key], f"{key}.{name_key}"), f"{key}.{name_key}")
        label = ctx.string(e.get("label", canon), f"{key}.label")
        expanded = _expand(ctx, e, key, nested_ok=nested_ok)
        _check_params(ctx, obj, e.get("params", {}), f"{key}.params", canon)
        _check_params(ctx, obj, e.get("grid", {}), f"{key}.grid", canon)
        for params, varied in expanded:
            spec = spec_cls(canon, _grid_label(label, varied), params)
            try:
                built = spec.build()
            except Exception as exc:  # any failure of the user's parameters, reported with file and key
                raise ctx.err(f"{key}.params", f"{canon}({_fmt_kw(params)}) failed: {_exc_text(exc)}", valid) from exc
            out.append((spec, key, built))
    return out


# ---------------------------------------------------------------------------- entry points


def load_config(path: str | Path) -> Study:
    """Read and validate a TOML study file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Study

    Raises
    ------
    ConfigError
        Naming the file, the key and what was expected (also for TOML syntax errors and
        for a missing file).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), "(file)", f"cannot be read ({exc.strerror or exc})", "a readable TOML file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), "(syntax)", f"invalid TOML: {exc}", "TOML 1.0") from None
    return parse_config(data, source=str(p))


def parse_config(data: Mapping[str, Any], source: str = "<dict>") -> Study:
    """Validate an already-parsed study mapping (the TOML document as a dict).

    See :func:`load_config`; ``source`` is the file name used in error messages.
    """
    ctx = _Ctx(source)
    data = ctx.table(dict(data), "", _TOP_KEYS, {"study", "learners", "mdps"})
    st = ctx.table(data["study"], "study", _STUDY_KEYS, {"name", "episodes", "seeds"})
    name = ctx.string(st["name"], "study.name")
    if not _PLAIN_NAME.fullmatch(name) or name in (".", ".."):
        raise ctx.err("study.name", f"got {name!r}",
                      "a plain name (letters, digits, '.', '_', '-'; no path separators): it names the "
                      "default results folder results/<name>")
    description = st.get("description", "")
    if not isinstance(description, str):
        raise ctx.err("study.description", f"got {description!r}", "a string")
    episodes = ctx.pos_int(st["episodes"], "study.episodes")
    seeds_v = st["seeds"]
    if isinstance(seeds_v, int) and not isinstance(seeds_v, bool):
        seeds = tuple(range(ctx.pos_int(seeds_v, "study.seeds")))
    elif isinstance(seeds_v, list) and seeds_v:
        seeds = tuple(ctx.pos_int(s, f"study.seeds[{i}]", 0) for i, s in enumerate(seeds_v))
        if len(set(seeds)) != len(seeds):
            raise ctx.err("study.seeds", f"duplicate seeds in {seeds_v!r}", "distinct non-negative integers")
    else:
        raise ctx.err("study.seeds", f"got {seeds_v!r}", "a count n >= 1 (seeds 0..n-1) or a non-empty list of distinct integers >= 0")
    eval_every = ctx.pos_int(st.get("eval_every", 1), "study.eval_every")
    if eval_every > episodes:
        raise ctx.err("study.eval_every", f"got {eval_every} > study.episodes = {episodes}", "a stride <= episodes")
    seed_chunk = ctx.pos_int(st.get("seed_chunk", 0), "study.seed_chunk", 0)
    delta = ctx.open_unit(st.get("delta", 0.1), "study.delta")

    outputs = _parse_outputs(ctx, data.get("outputs", {}))

    for table in ("learners", "mdps"):
        raw = data[table]
        if not isinstance(raw, list) or not raw:
            raise ctx.err(table, f"got {raw!r}", f"a non-empty array of tables [[{table}]]")
    learners = _parse_entries(ctx, data["learners"], "learners")
    mdps: list[tuple[MDPSpec, str, int, int, int]] = []
    for spec, key, mdp in _parse_entries(ctx, data["mdps"], "mdps"):
        H = getattr(mdp, "horizon", None)
        if not isinstance(H, int):
            raise ctx.err(f"{key}.family", f"{spec.family}({_fmt_kw(spec.params)}) returned {type(mdp).__name__} without a finite horizon",
                          "a family returning an EpisodicMDP (regret studies are episodic)")
        mdps.append((spec, key, int(mdp.S), int(mdp.A), H))

    configs = []
    seen: dict[str, str] = {}
    for lspec, lkey, _ in learners:
        for mspec, mkey, S, A, H in mdps:
            _check_pair(ctx, lspec, mspec, episodes, lkey, mkey)
            key = config_key(lspec, mspec, episodes, eval_every)
            lab = f"{lspec.label} | {mspec.label}"
            if key in seen:
                raise ctx.err("learners/mdps", f"configurations {seen[key]!r} and {lab!r} are identical",
                              "each (learner, parameters, family, parameters) at most once")
            seen[key] = lab
            configs.append(Configuration(lspec, mspec, episodes, eval_every, S, A, H, key))
    labels = [c.label for c in configs]
    if len(set(labels)) != len(labels):
        dup = next(lab for lab in labels if labels.count(lab) > 1)
        raise ctx.err("learners.label / mdps.label", f"label {dup!r} used by two configurations", "distinct labels")

    for i, m in enumerate(outputs.measures):
        ctx.resolve("measure", m, f"outputs.measures[{i}]")

    if "scaling" in outputs.figures and not outputs.scaling:
        raise ctx.err("outputs.scaling", "the 'scaling' figure needs at least one axis", "a list drawn from 'S', 'A', 'H'")

    return Study(
        name=name, description=description, path=source, episodes=episodes, seeds=seeds,
        eval_every=eval_every, seed_chunk=seed_chunk, delta=delta,
        configurations=tuple(configs), outputs=outputs,
    )


def _check_pair(ctx: _Ctx, lspec: LearnerSpec, mspec: MDPSpec, episodes: int, lkey: str, mkey: str) -> None:
    """Let the learner check the MDP (reward normalisation, ...) through ``prepare``."""
    learner = lspec.build()
    prepare = getattr(learner, "prepare", None)
    if prepare is None:
        return
    try:
        prepare(mspec.build(), episodes)
    except Exception as exc:
        raise ctx.err(f"{lkey} on {mkey}", f"{lspec.label} cannot run on {mspec.label}: {_exc_text(exc)}",
                      "an MDP within the learner's assumptions (e.g. its reward normalisation)") from exc


def _exc_text(exc: BaseException) -> str:
    """``str(exc)``, prefixed with the exception type unless it is a plain ValueError/TypeError."""
    return str(exc) if type(exc) in (ValueError, TypeError) else f"{type(exc).__name__}: {exc}"


def _fmt_kw(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _parse_outputs(ctx: _Ctx, o: Any) -> OutputSpec:
    o = ctx.table(o, "outputs", _OUTPUT_KEYS)
    d = OutputSpec()
    figures = ctx.str_list(o["figures"], "outputs.figures", FIGURE_KINDS) if "figures" in o else d.figures
    tables = ctx.str_list(o["tables"], "outputs.tables", TABLE_KINDS) if "tables" in o else d.tables
    band = o.get("band", d.band)
    if band not in BAND_KINDS:
        raise ctx.err("outputs.band", f"got {band!r}", "one of " + ", ".join(repr(b) for b in BAND_KINDS))
    level = ctx.open_unit(o.get("level", d.level), "outputs.level", "a number in (0, 1), e.g. 0.95")
    scaling = ctx.str_list(o["scaling"], "outputs.scaling", SCALING_AXES) if "scaling" in o else d.scaling
    size = o.get("size", d.size)
    if size not in SIZES:
        raise ctx.err("outputs.size", f"got {size!r}", "one of " + ", ".join(repr(s) for s in SIZES))
    measures = ctx.str_list(o["measures"], "outputs.measures") if "measures" in o else d.measures
    store_returns = o.get("store_returns", d.store_returns)
    if not isinstance(store_returns, bool):
        raise ctx.err("outputs.store_returns", f"got {store_returns!r}", "true or false")
    returns_stride = ctx.pos_int(o.get("returns_stride", d.returns_stride), "outputs.returns_stride")
    boot = ctx.pos_int(o.get("bootstrap", d.bootstrap), "outputs.bootstrap", 100)
    return OutputSpec(
        figures=figures, tables=tables, band=band, level=level, scaling=scaling, size=size,
        measures=measures, store_returns=store_returns, returns_stride=returns_stride, bootstrap=boot,
    )

r"""Load a results directory and summarise it.

* :func:`load_results` -- the stored arrays, stacked per configuration (numpy), with
  :meth:`Results.to_frame` for a tidy pandas DataFrame (pandas is optional).
* :func:`summarize` -- one :class:`SummaryRow` per (learner, MDP configuration): final mean
  regret with its bootstrap CI, fitted exponent in K with its CI, the theorem's raw bound at
  K next to the trivial cap H K (K under N2) with a vacuous flag, and the ratio to the raw
  bound; :func:`write_tables` writes ``table.csv`` / ``table.md``.
* :func:`scaling_fits` -- final regret against S, A or H with fitted exponents next to the
  slope of the theorem's bound over the same grid.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from mdptheory.core.validation import check_choice, check_int
from mdptheory.regret import bound_curve, fit_power_law
from mdptheory.regret.trace import cumulative_regret
from mdptheory.sweeps import registry
from mdptheory.sweeps.config import Configuration, Study
from mdptheory.sweeps.stats import bootstrap_mean_ci, fit_window
from mdptheory.sweeps.store import ResultStore

__all__ = [
    "write_scaling_table",
    "markdown_table",
    "theory_exponent_K",
    "ConfigResult",
    "Results",
    "load_results",
    "SummaryRow",
    "summarize",
    "write_tables",
    "ScalingFit",
    "scaling_fits",
    "configuration_bound",
    "cumulative_regret",
    "ASYMPTOTIC_K",
]

#: K at which the theorem's "asymptotic" exponents are read off the bound (the leading
#: term dominates every lower-order term of the implemented bounds there).
ASYMPTOTIC_K = 1e15


@dataclass(frozen=True)
class ConfigResult:
    """The stored records of one configuration, stacked over seeds.

    Attributes
    ----------
    config : Configuration
    seeds : tuple of int
        Seeds with a complete record, in study order (rows of the arrays).
    pseudo_regret : ndarray (n_seeds, K)
        Exact per-episode pseudo-regret (NaN where not evaluated, ``eval_every > 1``).
    returns : ndarray (n_seeds, ceil(K / returns_stride)) or None
        Realised returns (None if the study did not store them).
    meta : tuple of dict
        Each record's metadata.
    missing : tuple of int
        Study seeds without a complete record.
    """

    config: Configuration
    seeds: tuple
    pseudo_regret: np.ndarray = field(repr=False)
    returns: np.ndarray | None = field(repr=False)
    meta: tuple = field(repr=False)
    missing: tuple = ()

    @property
    def label(self) -> str:
        """The configuration's label, ``"learner label | MDP label"``."""
        return self.config.label

    @property
    def n_seeds(self) -> int:
        """Number of seeds with a complete record (rows of the arrays)."""
        return len(self.seeds)

    def cumulative(self) -> np.ndarray:
        """Cumulative pseudo-regret ``(n_seeds, K)`` (:func:`mdptheory.regret.trace.cumulative_regret`)."""
        return cumulative_regret(self.pseudo_regret, self.config.eval_every)

    def final_regret(self) -> np.ndarray:
        """Regret(K) per seed, ``(n_seeds,)``."""
        return self.cumulative()[:, -1]


class Results(Mapping):
    """Read-only mapping ``config key -> ConfigResult`` of a results directory.

    Iterates in study order. ``results.by_label("UCBVI-BF | RiverSwim")`` looks a
    configuration up by its label; ``results.study`` is the stored :class:`Study`.
    """

    def __init__(self, root: Path, study: Study, items: dict[str, ConfigResult]):
        self.root = Path(root)
        self.study = study
        self._items = items

    def __getitem__(self, key: str) -> ConfigResult:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        n = sum(r.n_seeds for r in self._items.values())
        return f"Results({str(self.root)!r}, study={self.study.name!r}, configurations={len(self)}, records={n})"

    def by_label(self, label: str) -> ConfigResult:
        """The :class:`ConfigResult` labelled ``label`` (``KeyError`` listing the labels otherwise)."""
        for r in self._items.values():
            if r.label == label:
                return r
        raise KeyError(f"no configuration labelled {label!r}; labels: {[r.label for r in self._items.values()]}")

    @property
    def complete(self) -> bool:
        """True when every (configuration, seed) of the study has a complete record."""
        return all(not r.missing for r in self._items.values())

    def to_frame(self, stride: int = 1):
        """Tidy ``pandas.DataFrame``: one row per (configuration, seed, episode).

        Columns: ``key, learner, mdp, family, S, A, H, seed, episode`` (1-based),
        ``pseudo_regret, cumulative_regret`` and ``return`` (where stored). ``stride``
        keeps every ``stride``-th episode (always including the last), for large studies.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover
            raise ImportError("to_frame needs pandas: pip install 'mdptheory[pandas]'") from exc
        stride = check_int("stride", stride, 1)
        frames = []
        for r in self._items.values():
            if r.n_seeds == 0:
                continue
            K = r.config.episodes
            ep = np.arange(stride - 1, K, stride)
            if ep.size == 0 or ep[-1] != K - 1:
                ep = np.append(ep, K - 1)
            n, m = r.n_seeds, ep.size
            d = {
                "key": np.repeat(r.config.key, n * m),
                "learner": np.repeat(r.config.learner.label, n * m),
                "mdp": np.repeat(r.config.mdp.label, n * m),
                "family": np.repeat(r.config.mdp.family, n * m),
                "S": r.config.S, "A": r.config.A, "H": r.config.H,
                "seed": np.repeat(np.asarray(r.seeds), m),
                "episode": np.tile(ep + 1, n),
                "pseudo_regret": r.pseudo_regret[:, ep].ravel(),
                "cumulative_regret": r.cumulative()[:, ep].ravel(),
            }
            if r.returns is not None:
                rs = int(r.meta[0].get("returns_stride", 1)) if r.meta else 1
                if rs == 1:
                    d["return"] = r.returns[:, ep].ravel()
            frames.append(pd.DataFrame(d))
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)


def load_results(out, *, verify: bool = True, returns: bool = True) -> Results:
    """Load the stored arrays of a results directory written by :func:`run_sweep`.

    Parameters
    ----------
    out : str or Path
        The ``--out`` directory of ``mdptheory run``.
    verify : bool
        Check every record's hash and headers first; corrupt records are skipped with a
        ``RuntimeWarning`` (and listed in :attr:`ConfigResult.missing`).
    returns : bool
        Also load the realised returns (``False`` halves memory and time for large
        studies; :attr:`ConfigResult.returns` is then ``None``).

    Returns
    -------
    Results
        Mapping config key -> :class:`ConfigResult` with ``pseudo_regret`` arrays of shape
        ``(n_seeds, K)``.

    Raises
    ------
    FileNotFoundError
        If ``out`` has no ``study.json`` (not a results directory).
    """
    store = ResultStore(out)
    study = Study.from_dict(store.read_study())
    names = ("pseudo_regret", "returns") if returns else ("pseudo_regret",)
    items: dict[str, ConfigResult] = {}
    for c in study.configurations:
        seeds, pr, rets, metas, missing = [], [], [], [], []
        for s in study.seeds:
            if verify:
                try:
                    rec = store.read(c.key, s, verify=True, arrays=names)
                except ValueError:
                    st = store.check(c.key, s)
                    if st.state == "corrupt":
                        warnings.warn(f"{out}: skipping corrupt record {c.key}/seed_{s}: {st.reason}",
                                      RuntimeWarning, stacklevel=2)
                    missing.append(s)
                    continue
            else:
                try:
                    rec = store.read(c.key, s, verify=False, arrays=names)
                except FileNotFoundError:
                    missing.append(s)
                    continue
            a = rec.arrays.get("pseudo_regret")
            if a is None or a.shape != (c.episodes,):
                warnings.warn(f"{out}: record {c.key}/seed_{s} has no pseudo_regret of shape ({c.episodes},); skipped",
                              RuntimeWarning, stacklevel=2)
                missing.append(s)
                continue
            seeds.append(s)
            pr.append(a)
            rets.append(rec.arrays.get("returns"))
            metas.append(dict(rec.meta))
        K = c.episodes
        P = np.stack(pr) if pr else np.zeros((0, K))
        R = np.stack(rets) if returns and rets and all(r is not None for r in rets) else None
        P.flags.writeable = False
        if R is not None:
            R.flags.writeable = False
        items[c.key] = ConfigResult(c, tuple(seeds), P, R, tuple(metas), tuple(missing))
    return Results(store.root, study, items)


# ------------------------------------------------------------------------------ bounds


def _bound_obj(config: Configuration):
    try:
        return config.learner.build()
    except Exception:  # pragma: no cover - validated at load time
        return None


def configuration_bound(config: Configuration, K, delta: float, *, part: str = "value"):
    """``(values, RegretBound or None)``: :func:`mdptheory.regret.bound_curve` of the
    configuration's learner at its ``(S, A, H)`` and the episode counts ``K``.

    ``part`` selects ``"value"`` (the bound), ``"leading"`` or ``"lower_order"``. NaN values
    (and ``None``) when the learner has no bound (baselines).
    """
    K = np.asarray(K, dtype=np.float64)
    learner = _bound_obj(config)
    if learner is None:
        return np.full(K.shape, np.nan), None
    try:
        b = bound_curve(learner, config.S, config.A, config.H, K, delta)
    except NotImplementedError:
        return np.full(K.shape, np.nan), None
    v = np.broadcast_to(np.asarray(getattr(b, part, getattr(b, "value", b)), dtype=np.float64), K.shape).copy()
    return v, b


def _bound_scalar(config: Configuration, K: float, delta: float, part: str = "value") -> float:
    return float(configuration_bound(config, float(K), delta, part=part)[0])


def theory_exponent_K(config: Configuration, delta: float) -> float:
    r"""The theorem's rate in K: slope of log(leading term of the bound) in log K between
    :data:`ASYMPTOTIC_K` and ten times it (log factors make it slightly exceed the pure
    power, e.g. 0.51-0.52 for :math:`\sqrt{K}\,\mathrm{polylog}(K)`). The leading term is
    used because some implemented bounds carry burn-in terms that dominate until
    astronomically large K."""
    v = [_bound_scalar(config, k, delta, "leading") for k in (ASYMPTOTIC_K, 10 * ASYMPTOTIC_K)]
    if not np.all(np.isfinite(v)) or min(v) <= 0:
        return float("nan")
    return float(np.log(v[1] / v[0]) / np.log(10.0))


# ------------------------------------------------------------------------------ summary


@dataclass(frozen=True)
class SummaryRow:
    """One line of ``table.csv``.

    ``regret_*`` are Regret(K) over seeds (mean, percentile-bootstrap CI at ``level``);
    ``exponent*`` the log-log slope of the mean cumulative regret over the last decade of
    episodes (``[K/10, K]``) with a seed-bootstrap CI; ``theory_exponent`` the slope in K of
    the bound's leading term at :data:`ASYMPTOTIC_K` (:func:`theory_exponent_K`); ``bound`` the
    theorem's RAW bound at K (``RegretBound.value``, never capped); ``trivial_cap`` the regret
    no learner can exceed in the bound's reward scale (``RegretBound.trivial_cap``: ``H K``,
    ``K`` under N2); ``vacuous`` is ``bound >= trivial_cap`` (the bound says nothing at K);
    ``ratio`` = ``regret_mean / bound`` (raw bound). The four are NaN / ``None`` for learners
    without a bound.
    """

    key: str
    learner: str
    mdp: str
    family: str
    S: int
    A: int
    H: int
    K: int
    n_seeds: int
    regret_mean: float
    regret_lo: float
    regret_hi: float
    exponent: float
    exponent_lo: float
    exponent_hi: float
    theory_exponent: float
    bound: float
    trivial_cap: float
    vacuous: bool | None
    ratio: float
    bound_theorem: str
    bound_explicit_constants: str
    measures: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Flat dict of the row (measure columns merged in): one ``table.csv`` line."""
        d = {k: v for k, v in self.__dict__.items() if k != "measures"}
        d.update(self.measures)
        return d


def _measures(config: Configuration, names: tuple[str, ...]) -> dict:
    out = {}
    if not names:
        return out
    mdp = config.mdp.build()
    for n in names:
        canon, fn = registry.resolve("measure", n)
        try:
            v = fn(mdp)
        except Exception as exc:  # measures may not apply to every MDP
            warnings.warn(f"measure {canon} failed on {config.mdp.label}: {exc}", RuntimeWarning, stacklevel=2)
            out[canon] = float("nan")
            continue
        fields = getattr(v, "__dataclass_fields__", None)
        if fields is not None:  # e.g. VarianceNorms: one column per numeric scalar field
            for f in fields:
                x = getattr(v, f)
                if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
                    out[f"{canon}.{f}"] = float(x)
        else:
            try:
                out[canon] = float(v)
            except (TypeError, ValueError):
                warnings.warn(f"measure {canon} is not a number on {config.mdp.label}; left out", RuntimeWarning, stacklevel=2)
    return out


def summarize(results: Results, level: float | None = None, n_boot: int | None = None) -> list[SummaryRow]:
    """One :class:`SummaryRow` per configuration with at least one record (study order)."""
    st = results.study
    level = st.outputs.level if level is None else level
    n_boot = st.outputs.bootstrap if n_boot is None else n_boot
    rows = []
    for r in results.values():
        c = r.config
        if r.n_seeds == 0:
            continue
        cum = r.cumulative()
        final = cum[:, -1:]
        m, lo, hi = bootstrap_mean_ci(final, level=level, n_boot=n_boot, seed=0)
        K = c.episodes
        nan = float("nan")
        if K >= 10:
            w = fit_window(K)
            fit = fit_power_law(w, cum[:, w - 1], level=level, n_boot=n_boot, seed=0)
            ex, elo, ehi = fit.exponent, fit.ci_low, fit.ci_high
        else:
            ex = elo = ehi = nan
        bval, bobj = configuration_bound(c, np.array([float(K)]), st.delta)
        bound = float(bval[0])
        cap = nan if bobj is None or bobj.trivial_cap is None else float(np.ravel(bobj.trivial_cap)[0])
        vacuous = None if math.isnan(bound) or math.isnan(cap) else bool(bound >= cap)
        rows.append(SummaryRow(
            key=c.key, learner=c.learner.label, mdp=c.mdp.label, family=c.mdp.family,
            S=c.S, A=c.A, H=c.H, K=K, n_seeds=r.n_seeds,
            regret_mean=float(m[0]), regret_lo=float(lo[0]), regret_hi=float(hi[0]),
            exponent=ex, exponent_lo=elo, exponent_hi=ehi,
            theory_exponent=theory_exponent_K(c, st.delta),
            bound=bound, trivial_cap=cap, vacuous=vacuous, ratio=float(m[0]) / bound if math.isfinite(bound) and bound > 0 else nan,
            bound_theorem=getattr(bobj, "theorem", "") if bobj is not None else "",
            bound_explicit_constants=("" if bobj is None else ("yes" if getattr(bobj, "explicit_constants", False) else "no (rate only)")),
            measures=_measures(c, st.outputs.measures),
        ))
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.6g}"
    return str(v)


def write_tables(rows: list[SummaryRow], out, kinds=("csv", "markdown"), level: float = 0.95) -> list[Path]:
    """Write ``table.csv`` and/or ``table.md`` under ``out``; return the paths written.

    The CSV carries every field at full precision; the Markdown table is the short form
    printed by ``mdptheory run``.
    """
    from mdptheory.core.files import atomic_write_bytes

    out = Path(out)
    paths = []
    if "csv" in kinds:
        import io

        buf = io.StringIO()
        fields = list(rows[0].as_dict()) if rows else [f for f in SummaryRow.__dataclass_fields__ if f != "measures"]
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.as_dict().items()})
        atomic_write_bytes(out / "table.csv", buf.getvalue().encode())
        paths.append(out / "table.csv")
    if "markdown" in kinds:
        atomic_write_bytes(out / "table.md", (markdown_table(rows, level) + "\n").encode())
        paths.append(out / "table.md")
    return paths


def markdown_table(rows: list[SummaryRow], level: float = 0.95) -> str:
    """The summary as a Markdown table (what ``mdptheory run`` prints).

    ``bound(K)`` is the raw bound (never capped), ``trivial cap`` the regret no learner can
    exceed (``H K``; ``K`` under N2), ``vacuous`` says whether ``bound(K) >= trivial cap``, and
    ``ratio`` = Regret(K) / bound(K)."""
    pct = f"{100 * level:g}%"
    head = ["learner", "MDP", "S", "A", "H", "K", "seeds", f"Regret(K) [{pct} CI]", f"exponent [{pct} CI]", "theory",
            "bound(K)", "trivial cap", "vacuous", "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ci = f"{r.regret_mean:.4g} [{r.regret_lo:.4g}, {r.regret_hi:.4g}]"
        ex = "n/a" if math.isnan(r.exponent) else f"{r.exponent:.2f} [{r.exponent_lo:.2f}, {r.exponent_hi:.2f}]"
        th = "n/a" if math.isnan(r.theory_exponent) else f"{r.theory_exponent:.2f}"
        bd = "n/a" if math.isnan(r.bound) else f"{r.bound:.3g}"
        cp = "n/a" if math.isnan(r.trivial_cap) else f"{r.trivial_cap:.3g}"
        va = "n/a" if r.vacuous is None else ("yes" if r.vacuous else "no")
        ra = "n/a" if math.isnan(r.ratio) else f"{r.ratio:.2e}"
        lines.append("| " + " | ".join([r.learner, r.mdp, str(r.S), str(r.A), str(r.H), str(r.K), str(r.n_seeds), ci, ex,
                                         th, bd, cp, va, ra]) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ scaling


@dataclass(frozen=True)
class ScalingFit:
    """Final regret against one size parameter for one learner (other sizes held fixed).

    ``x`` the S, A or H values; ``final`` Regret(K) per seed (``(n_seeds, len(x))``, only
    seeds present in every configuration); ``exponent`` the fitted slope with its
    bootstrap CI; ``bound_slope`` the slope of log(bound at the run's K) over the same x;
    ``theory_exponent`` the slope of the bound's *leading term* at :data:`ASYMPTOTIC_K` (the
    theorem's rate).
    """

    axis: str
    learner: str
    family: str
    fixed: dict
    x: np.ndarray
    final: np.ndarray
    keys: tuple
    exponent: float
    exponent_lo: float
    exponent_hi: float
    bound_slope: float
    theory_exponent: float


def _bound_slope(x, y) -> float:
    """Log-log slope of bound values ``y`` over ``x``; NaN where a bound is missing."""
    y = np.asarray(y, dtype=np.float64)
    if np.any(~np.isfinite(y)):
        return float("nan")
    return fit_power_law(x, y, n_boot=0).exponent


def scaling_fits(results: Results, axis: str, level: float | None = None, n_boot: int | None = None) -> list[ScalingFit]:
    """Group configurations that differ only in ``axis`` (``"S"``, ``"A"`` or ``"H"``) and fit.

    Groups are (learner label, family, the two other sizes, episodes); a group needs at least
    two distinct values of ``axis``.
    """
    check_choice("axis", axis, ("S", "A", "H"))
    st = results.study
    level = st.outputs.level if level is None else level
    n_boot = st.outputs.bootstrap if n_boot is None else n_boot
    others = [a for a in ("S", "A", "H") if a != axis]
    groups: dict[tuple, list[ConfigResult]] = {}
    for r in results.values():
        if r.n_seeds == 0:
            continue
        c = r.config
        g = (c.learner.label, c.mdp.family, tuple(getattr(c, a) for a in others), c.episodes)
        groups.setdefault(g, []).append(r)
    fits = []
    for (lab, fam, fixed_vals, K), rs in groups.items():
        rs = sorted(rs, key=lambda r: getattr(r.config, axis))
        xs = np.array([getattr(r.config, axis) for r in rs], dtype=np.float64)
        if np.unique(xs).size != xs.size:
            warnings.warn(
                f"scaling in {axis}: {lab} on {fam} with {dict(zip(others, fixed_vals))} has several "
                f"configurations with the same {axis} ({[r.config.mdp.label for r in rs]}); they differ in "
                "another parameter, so no exponent is fitted for this group", RuntimeWarning, stacklevel=2)
            continue
        if np.unique(xs).size < 2:
            continue
        common = sorted(set.intersection(*(set(r.seeds) for r in rs)))
        if not common:
            continue
        F = np.stack([r.final_regret()[[r.seeds.index(s) for s in common]] for r in rs], axis=1)
        fit = fit_power_law(xs, F, level=level, n_boot=n_boot, seed=0)

        def bvals(Kb, part="value"):
            return [_bound_scalar(r.config, Kb, st.delta, part) for r in rs]

        fits.append(ScalingFit(
            axis=axis, learner=lab, family=fam, fixed=dict(zip(others, fixed_vals)), x=xs, final=F,
            keys=tuple(r.config.key for r in rs), exponent=fit.exponent, exponent_lo=fit.ci_low, exponent_hi=fit.ci_high,
            bound_slope=_bound_slope(xs, bvals(float(K))),
            theory_exponent=_bound_slope(xs, bvals(ASYMPTOTIC_K, "leading")),
        ))
    return fits


def write_scaling_table(fits: list[ScalingFit], out) -> Path:
    """``scaling.csv``: one row per (axis, learner, family, fixed sizes)."""
    from mdptheory.core.files import atomic_write_bytes
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["axis", "learner", "family", "fixed", "x", "final_regret_mean", "exponent", "exponent_lo",
                "exponent_hi", "bound_slope_at_K", "theory_exponent"])
    for f in fits:
        w.writerow([f.axis, f.learner, f.family, " ".join(f"{k}={v}" for k, v in f.fixed.items()),
                    " ".join(f"{v:g}" for v in f.x), " ".join(f"{v:.6g}" for v in f.final.mean(axis=0)),
                    repr(f.exponent), repr(f.exponent_lo), repr(f.exponent_hi), repr(f.bound_slope), repr(f.theory_exponent)])
    p = Path(out) / "scaling.csv"
    atomic_write_bytes(p, buf.getvalue().encode())
    return p

"""Study: minimax regret rates on the lower-bound family, bound certificates, long runs.

Parts (``--parts``, default all):

* ``sweep`` -- for every K on a half-decade grid (default 1e3 .. 1e7) one ``Study`` per
  instance kind, built with ``mdptheory.sweeps.parse_config`` and run with ``run_sweep(...,
  out=<out>/<kind>_c<c>/K_<K>)`` (resumable; local processes or a Dask cluster): UCBVI-BF,
  UCBVI-CH, EULER, MVP (2024), Q-EarlySettled-Advantage at theory constants and with bonuses
  x0.1, on the lower-bound family (``mdptheory.envs.lower_bound_instance``) with the bias chosen
  for that K, ``epsilon_K = c * c_star * sqrt(N / K)`` (``lower_bound_epsilon``;
  ``proofs_notes/minimax_rates.md``). Kinds: ``hom`` (the stationary member, N = L A arms; all
  five learners) and ``inhom`` (with waiting, N = L A (wait + 1) arms; the stage-dependent
  learners MVP-2024 and Q-EarlySettled-Advantage). Replicate j = hidden target j (a stratified
  choice of arms; all four arms of the base ``hom`` instance), run seed 0.
* ``scaling`` -- at fixed K, Regret(K) against S (tree depth), A and H, fitted exponents next to
  each theorem's leading-term slope, the slope of the minimax rate and that of the family's own
  lower bound ``(1 - 1/N)^2 m sqrt(N K)`` along the same path.
* ``long`` -- ``mdptheory.regret.long_run``: UCBVI-BF on RiverSwim(6), H = 20, one seed, K = 1e8,
  checkpointed (rerun the same command to resume), time and memory recorded.
* ``cert`` -- UCBVI-BF / UCBVI-CH (theory) for K = 1e8, 2 seeds, on the two-state coin instance
  (the family's biased coin alone), where the explicit-constant bounds stop being vacuous within
  the run; with the theory-mode UCBVI runs of ``sweep`` these make the bound certificates.
* ``analysis`` -- tables, figures and ``summary.json`` from whatever is on disk.

Outputs in ``--out`` (default ``results/minimax_rates``): ``minimax_regret.pdf``,
``minimax_fraction.pdf``, ``minimax_scaling.pdf``, ``bound_certificate.pdf`` (+ PNG),
``exponents.md/.csv``, ``scaling.md/.csv``, ``certificates.md/.csv``, ``summary.json``.

Usage::

    MPLBACKEND=Agg python experiments/minimax_rates.py --out results/minimax_rates
    python experiments/minimax_rates.py --quick --out /tmp/mm      # smoke run, about a minute
    python experiments/minimax_rates.py --scheduler tcp://host:8786 # sweep parts on Dask
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

import mdptheory as mt  # noqa: E402
from mdptheory.envs import lower_bound_layout  # noqa: E402
from mdptheory.envs.lower_bound import lower_bound_arms, lower_bound_epsilon, lower_bound_regret  # noqa: E402
from mdptheory.regret import fit_power_law, minimax_lower_bound, theory_exponent  # noqa: E402
from mdptheory.regret.certificate import (bound_certificate, combine_certificates,  # noqa: E402
                                          first_informative_episode)
from mdptheory.regret.long_run import checkpoint_grid, long_run  # noqa: E402
from mdptheory.sweeps import ResultStore, parse_config, run_sweep  # noqa: E402
from mdptheory.sweeps.registry import resolve  # noqa: E402

BASE = {"A": 2, "depth": 1, "horizon": 10}
KINDS = {"hom": True, "inhom": False}          # kind -> stationary
MODES = {"theory": 1.0, "scaled": 0.1}          # bonus_scale
LEARNERS = [  # (label, registry name, params, kinds)
    ("UCBVI-BF", "UCBVI", {"bonus": "bernstein"}, ("hom",)),
    ("UCBVI-CH", "UCBVI", {"bonus": "hoeffding"}, ("hom",)),
    ("EULER", "EULER", {}, ("hom",)),
    ("MVP-2024", "MVP", {"variant": "2024"}, ("hom", "inhom")),
    ("Q-ES-Adv", "QEarlySettledAdvantage", {}, ("hom", "inhom")),
]
#: leading-order minimax-optimal in the setting of its theorem (UCBVI-CH carries an extra sqrt(H))
MINIMAX_OPTIMAL = {"UCBVI-BF", "EULER", "MVP-2024", "Q-ES-Adv"}
STYLE = {"theory": "-", "scaled": "--"}
MARKERS = ("o", "s", "^", "D", "v")


# ---------------------------------------------------------------------------------- instances


def replicate_target(j: int, n_reps: int, A: int, depth: int, horizon: int, stationary: bool) -> list:
    """Hidden target of replicate ``j``: leaf ``j mod L``, action ``(j div L) mod A`` and (stage-
    dependent kind) a stage spread over the playable ones, so that the targets are distinct
    arms; for the base stationary instance (N = 4) the four replicates are all four arms."""
    L = A ** depth
    leaf, action = j % L, (j // L) % A
    if stationary:
        return [leaf, action]
    wait = (horizon - depth - 3) // 2
    stages = list(range(depth + 1, wait + depth + 2))
    return [leaf, action, stages[(j * len(stages)) // n_reps]]


def family_params(kind: str, K: int, c: float, j: int, n_reps: int, A: int, depth: int, horizon: int) -> dict:
    st = KINDS[kind]
    eps = lower_bound_epsilon(K, A, depth, horizon, stationary=st, scale=c * c_star(A, depth, horizon, st))
    return {"A": A, "depth": depth, "horizon": horizon, "epsilon": float(eps), "stationary": st,
            "target": replicate_target(j, n_reps, A, depth, horizon, st)}


def c_star(A, depth, horizon, stationary) -> float:
    """The bias scale that maximises the family's lower bound (lower_bound_epsilon's default)."""
    N, _ = lower_bound_arms(A, depth, horizon, stationary=stationary)
    return (1.0 - 1.0 / N) / (4.0 * math.sqrt(math.log(4.0 / 3.0)))


def learner_entries(kind: str, modes) -> list:
    out = []
    for label, name, params, kinds in LEARNERS:
        if kind not in kinds:
            continue
        for mode in modes:
            out.append({"name": name, "label": f"{label} ({mode})",
                        "params": dict(params, bonus_scale=MODES[mode])})
    return out


def build_learner(label: str, mode: str):
    for lab, name, params, _ in LEARNERS:
        if lab == label:
            return resolve("learner", name)[1](**dict(params, bonus_scale=MODES[mode]))
    raise KeyError(label)


# ---------------------------------------------------------------------------------- running


def run_study(data: dict, out: Path, args) -> float:
    study = parse_config(data, source=f"minimax_rates:{data['study']['name']}")
    t0 = time.perf_counter()
    kw = {"progress": not args.no_progress, "log": None if args.quiet else print}
    if args.scheduler:
        run_sweep(study, out, scheduler=args.scheduler, **kw)
    else:
        run_sweep(study, out, workers=args.workers, **kw)
    return time.perf_counter() - t0


def sweep_dir(root: Path, kind: str, c: float, K: int) -> Path:
    return root / f"{kind}_c{c:g}" / f"K_{K}"


def run_sweep_part(args, root: Path, Ks, scales, n_reps) -> dict:
    times = {}
    for c in scales:
        for kind in KINDS:
            for K in Ks:
                data = {
                    "study": {"name": f"minimax-{kind}-c{c:g}-K{K}", "episodes": int(K), "seeds": [0],
                              "delta": 0.01, "description": "minimax-rate sweep (experiments/minimax_rates.py)"},
                    "learners": learner_entries(kind, args.modes),
                    "mdps": [{"family": "lower_bound_instance", "label": f"target {j}",
                              "params": family_params(kind, K, c, j, n_reps, **BASE)} for j in range(n_reps)],
                    "outputs": {"figures": [], "tables": [], "store_returns": False},
                }
                times[f"{kind}_c{c:g}_K{K}"] = run_study(data, sweep_dir(root, kind, c, K), args)
    return times


def scaling_points(quick: bool) -> dict:
    if quick:
        return {"S": [(2, 1, 8), (2, 2, 8)], "A": [(2, 1, 8), (3, 1, 8)], "H": [(2, 1, 8), (2, 1, 12)]}
    return {"S": [(2, 1, 10), (2, 2, 10), (2, 3, 10)], "A": [(2, 1, 10), (3, 1, 10), (4, 1, 10), (6, 1, 10)],
            "H": [(2, 1, 6), (2, 1, 10), (2, 1, 16), (2, 1, 24)]}


def run_scaling_part(args, root: Path, K: int, n_reps: int) -> dict:
    pts = sorted({p for v in scaling_points(args.quick).values() for p in v})
    times = {}
    for kind in KINDS:
        mdps = []
        for (A, d, H) in pts:
            for j in range(n_reps):
                mdps.append({"family": "lower_bound_instance", "label": f"A={A} depth={d} H={H} target {j}",
                             "params": family_params(kind, K, 1.0, j, n_reps, A, d, H)})
        data = {"study": {"name": f"minimax-scaling-{kind}-K{K}", "episodes": int(K), "seeds": [0], "delta": 0.01},
                "learners": learner_entries(kind, args.modes), "mdps": mdps,
                "outputs": {"figures": [], "tables": [], "store_returns": False}}
        times[f"scaling_{kind}_K{K}"] = run_study(data, root / f"scaling_{kind}" / f"K_{K}", args)
    return times


def two_state_hard(K: int, target: int = 1) -> mt.EpisodicMDP:
    """The smallest member of the hard family: a two-armed bandit in MDP form (S = 2, A = 2,
    H = 2, stationary). From state 0, action a moves to state 1 w.p. 1/2 + eps 1{a = target},
    else stays; reward 1 in state 1; eps = lower-bound bias for K episodes and N = 2 arms."""
    N = 2
    eps = min((1.0 - 1.0 / N) / (4.0 * math.sqrt(math.log(4.0 / 3.0))) * math.sqrt(N / K), 0.25)
    P = np.zeros((2, 2, 2))
    for a in range(2):
        p = 0.5 + (eps if a == target else 0.0)
        P[0, a] = [1.0 - p, p]
    P[1, :, 1] = 1.0
    R = np.zeros((2, 2))
    R[1, :] = 1.0
    return mt.EpisodicMDP(P, R, 2, 0)


def run_long_part(args, root: Path) -> dict:
    """The K = 1e8 UCBVI-BF run on RiverSwim(6), H = 20, seed 0: wall time, resident memory
    before and after (psutil / getrusage). Rerunning resumes from the checkpoints."""
    import psutil

    from mdptheory.learners import UCBVI

    proc = psutil.Process()
    K = int(args.long_K)
    mdp = mt.envs.riverswim(6, horizon=20)
    learner = UCBVI("bernstein")
    long_run(UCBVI("bernstein"), mdp, 10, 1, progress=False)   # load the kernels: part of the baseline
    rss0 = proc.memory_info().rss
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    lr = long_run(learner, mdp, K, seeds=[0], out=root / "long_run" / "ucbvi_bf_riverswim6_h20",
                  chunk=1 << 18, progress=not args.no_progress)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = {"riverswim": {
        "learner": "UCBVI-BF (theory)", "mdp": "RiverSwim(6), H=20", "S": 6, "A": 2, "H": 20, "episodes": K,
        "seeds": [0], "wall_time_this_call": wall, "compute_time_total": list(lr.compute_time),
        "resumed_from": lr.resumed_from[0], "sessions": lr.sessions[0], "rss_baseline_MB": rss0 / 2**20,
        "peak_rss_before_run_MB": peak0 / 2**20, "peak_rss_MB": peak / 2**20,
        "regret_K": float(lr.final_regret[0]), "grid": lr.grid.tolist(), "regret": lr.regret.tolist(),
        "checkpoint_bytes": sum(f.stat().st_size for f in (root / "long_run" / "ucbvi_bf_riverswim6_h20").rglob("*")
                                if f.is_file()),
        "certificate": lr.certificate.as_dict() if lr.certificate else None,
        "first_informative": first_informative_episode(lambda k: learner.bound(6, 2, 20, k)),
    }}
    _merge_json(root / "long_run" / "long_runs.json", out)
    return out


def run_cert_part(args, root: Path) -> dict:
    """UCBVI-BF and UCBVI-CH (theory) for K = 1e8 episodes, 2 seeds, on the two-state coin
    instance, where both explicit-constant bounds stop being vacuous within the run."""
    from mdptheory.learners import UCBVI

    out = {}
    Kc = int(args.cert_K)
    for label, bonus in (("UCBVI-BF", "bernstein"), ("UCBVI-CH", "hoeffding")):
        L = UCBVI(bonus)
        t0 = time.perf_counter()
        lr = long_run(L, two_state_hard(Kc), Kc, seeds=[0, 1], out=root / "long_run" / f"{label.lower()}_two_state",
                      chunk=1 << 20, progress=not args.no_progress, workers=2)
        out[f"two_state_{label}"] = {
            "learner": f"{label} (theory)", "mdp": "two-state coin instance (S=2, A=2, H=2)", "S": 2, "A": 2, "H": 2,
            "episodes": Kc, "seeds": [0, 1], "wall_time_this_call": time.perf_counter() - t0,
            "compute_time_total": list(lr.compute_time), "grid": lr.grid.tolist(), "regret": lr.regret.tolist(),
            "certificate": lr.certificate.as_dict(),
            "first_informative": first_informative_episode(lambda k, L=L: L.bound(2, 2, 2, k)),
        }
    _merge_json(root / "long_run" / "long_runs.json", out)
    return out


def _merge_json(path: Path, new: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(path.read_text()) if path.exists() else {}
    old.update(_clean_json(new))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(old, indent=1))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------- analysis


def _clean_json(x):
    if isinstance(x, dict):
        return {str(k): _clean_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean_json(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(float(x)) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return _clean_json(x.tolist())
    return x


def read_sweep(folder: Path, want_cert: bool):
    """Per configuration of one sweep folder: label, family params, Regret(K), the cumulative
    curve at a log grid, and (theory-mode UCBVI) the bound certificate over every k."""
    store = ResultStore(folder)
    study = store.read_study()
    rows = []
    for cfg in study["configurations"]:
        rec = store.read(cfg["key"], 0, arrays=["pseudo_regret"])
        x = np.asarray(rec.arrays["pseudo_regret"], dtype=np.float64)
        cum = np.cumsum(x)
        K = cum.size
        grid = checkpoint_grid(K, per_decade=10, linear=0)
        row = {"label": cfg["learner"]["label"], "mdp": cfg["mdp"]["label"], "params": cfg["mdp"]["params"],
               "learner_params": cfg["learner"]["params"], "S": cfg["S"], "A": cfg["A"], "H": cfg["H"],
               "K": K, "regret": float(cum[-1]), "grid": grid, "curve": cum[grid - 1],
               "wall_time": rec.meta.get("wall_time")}
        if want_cert and cfg["learner"]["name"] == "UCBVI" and cfg["learner"]["params"].get("bonus_scale") == 1.0:
            L = resolve("learner", "UCBVI")[1](**cfg["learner"]["params"])
            S, A, H = cfg["S"], cfg["A"], cfg["H"]
            row["certificate"] = bound_certificate(cum, lambda k: L.bound(S, A, H, k), learner=row["label"])
            b = L.bound(S, A, H, grid.astype(float))
            row["ratio_curve"] = cum[grid - 1] / b.value
        rows.append(row)
    return rows


def split_label(label: str):
    name, mode = label.rsplit(" (", 1)
    return name, mode.rstrip(")")


def analyse_sweeps(root: Path, Ks, scales, n_reps):
    """{(kind, c, learner, mode): {"K": [...], "R": (reps, nK), "f": ..., "LB": ...}} and certificates."""
    data, certs = {}, {}
    for c in scales:
        for kind, st in KINDS.items():
            for K in Ks:
                folder = sweep_dir(root, kind, c, K)
                if not (folder / "study.json").exists():
                    continue
                for row in read_sweep(folder, want_cert=(c == 1.0)):
                    name, mode = split_label(row["label"])
                    p = row["params"]
                    j = int(row["mdp"].split()[-1])
                    N, m = lower_bound_arms(p["A"], p["depth"], p["horizon"], stationary=st)
                    key = (kind, c, name, mode)
                    d = data.setdefault(key, {"K": sorted(Ks), "R": np.full((n_reps, len(Ks)), np.nan),
                                              "eps": np.full(len(Ks), np.nan), "N": N, "m": m,
                                              "S": row["S"], "A": row["A"], "H": row["H"]})
                    i = sorted(Ks).index(K)
                    d["R"][j, i] = row["regret"]
                    d["eps"][i] = p["epsilon"]
                    if "certificate" in row:
                        certs.setdefault((kind, name, K), []).append(row)
    return data, certs


def exponent_rows(data, Ks) -> list:
    rows = []
    for (kind, c, name, mode), d in sorted(data.items()):
        Karr = np.asarray(d["K"], dtype=float)
        R = d["R"]
        ok = np.all(np.isfinite(R), axis=0) & (d["eps"] < 0.25)
        f = R / (d["eps"] * d["m"] * Karr)
        lb = lower_bound_regret(Karr, d["eps"], BASE["A"], BASE["depth"], BASE["horizon"], stationary=KINDS[kind])
        fit = fit_power_law(Karr[ok], R[:, ok], n_boot=2000, seed=0) if ok.sum() >= 2 else None
        last = ok & (Karr >= Karr.max() / 10.0)
        fit_last = fit_power_law(Karr[last], R[:, last], n_boot=2000, seed=0) if last.sum() >= 2 else None
        L = build_learner(name, mode)
        S, A, H = d["S"], d["A"], d["H"]
        rows.append({
            "instance": kind, "gap_scale": c, "learner": name, "mode": mode, "S": S, "A": A, "H": H,
            "N": d["N"], "m": d["m"], "K_min": float(Karr[ok].min()) if ok.any() else None,
            "K_max": float(Karr[ok].max()) if ok.any() else None, "n_K": int(ok.sum()), "reps": int(R.shape[0]),
            "exponent": fit.exponent if fit else None, "ci_low": fit.ci_low if fit else None,
            "ci_high": fit.ci_high if fit else None,
            "exponent_last_decade": fit_last.exponent if fit_last else None,
            "theorem_exponent": theory_exponent(L, S, A, H),
            "regret_Kmax_mean": float(np.nanmean(R[:, -1])),
            "f_Kmax_mean": float(np.nanmean(f[:, -1])), "f_Kmax_min": float(np.nanmin(f[:, -1])),
            "f_Kmax_max": float(np.nanmax(f[:, -1])),
            "f_mean_by_K": np.nanmean(f, axis=0).tolist(),
            "lb_fraction_Kmax": float(lb[-1] / (d["eps"][-1] * d["m"] * Karr[-1])),
            "ratio_to_lb_Kmax": float(np.nanmean(R[:, -1]) / lb[-1]) if lb[-1] > 0 else None,
            "minimax_optimal": name in MINIMAX_OPTIMAL,
            "within_0.1": (abs(fit.exponent - 0.5) <= 0.1) if fit else None,
        })
    return rows


def path_slope(x, y) -> float:
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    lx0 = lx - lx.mean()
    return float((lx0 * (ly - ly.mean())).sum() / (lx0 ** 2).sum())


def analyse_scaling(root: Path, K: int, n_reps: int, quick: bool, modes) -> list:
    rows = []
    axes = scaling_points(quick)
    for kind, st in KINDS.items():
        folder = root / f"scaling_{kind}" / f"K_{K}"
        if not (folder / "study.json").exists():
            continue
        by = {}
        for row in read_sweep(folder, want_cert=False):
            name, mode = split_label(row["label"])
            p = row["params"]
            j = int(row["mdp"].split()[-1])
            by[(name, mode, p["A"], p["depth"], p["horizon"], j)] = row
        for label, _, _, kinds in LEARNERS:
            if kind not in kinds:
                continue
            for mode in modes:
                L = build_learner(label, mode)
                for axis, pts in axes.items():
                    Y = np.array([[by[(label, mode, A, d, H, j)]["regret"] for (A, d, H) in pts] for j in range(n_reps)])
                    SAH = [(by[(label, mode, A, d, H, 0)]["S"], A, H) for (A, d, H) in pts]
                    x = [s[{"S": 0, "A": 1, "H": 2}[axis]] for s in SAH]
                    fit = fit_power_law(x, Y, n_boot=2000, seed=0)
                    lead = [float(np.asarray(L.bound(S, A, H, float(K)).leading)) for (S, A, H) in SAH]
                    lbr = [float(minimax_lower_bound(S, A, H, K, setting="HOM" if st else "INHOM")) for (S, A, H) in SAH]
                    fam = []     # the family's lower bound (4) at c*: (1 - 1/N)^2 m sqrt(N K) / (8 sqrt(ln 4/3))
                    for (A, d, H) in pts:
                        N, m = lower_bound_arms(A, d, H, stationary=st)
                        fam.append((1.0 - 1.0 / N) ** 2 * m * math.sqrt(N))
                    rows.append({"instance": kind, "learner": label, "mode": mode, "axis": axis, "K": K,
                                 "x": x, "S_A_H": SAH, "regret_mean": Y.mean(axis=0).tolist(),
                                 "exponent": fit.exponent, "ci_low": fit.ci_low, "ci_high": fit.ci_high,
                                 "theorem_leading_slope": path_slope(x, lead), "lower_bound_rate_slope": path_slope(x, lbr),
                                 "family_bound_slope": path_slope(x, fam)})
    return rows


def fmt(v, p=2):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.{p}f}"


def write_table(path_md: Path, path_csv: Path, header, rows):
    with open(path_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    path_md.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------- figures


def fig_regret(root: Path, data, Ks, scales):
    from mdptheory.plots.style import color, figure, paper_style, save

    panels = [(kind, c) for c in scales for kind in KINDS if any(k[0] == kind and k[1] == c for k in data)]
    if not panels:
        return
    names = [lab for lab, *_ in LEARNERS]
    with paper_style():
        for what in ("regret", "fraction"):
            fig, axes = figure("two-column", nrows=(len(panels) + 1) // 2, ncols=2, height_scale=1.2)
            for ax, (kind, c) in zip(axes.ravel(), panels):
                st = KINDS[kind]
                Karr = np.asarray(sorted(Ks), float)
                for (k2, c2, name, mode), d in sorted(data.items()):
                    if (k2, c2) != (kind, c):
                        continue
                    R = d["R"]
                    y = R if what == "regret" else R / (d["eps"] * d["m"] * Karr)
                    # mean over the hidden targets (the quantity the lower bound is about); the
                    # spread over targets is in exponents.md (a learner stuck on one arm has
                    # f = 0 for that target and 1 for the others, so no band is drawn)
                    i = names.index(name)
                    ax.plot(Karr, np.nanmean(y, axis=0), STYLE[mode], color=color(i), marker=MARKERS[i],
                            ms=3.0 if mode == "theory" else 2.2, mfc="none" if mode == "scaled" else color(i),
                            label=f"{name} ({mode})")
                d0 = next(d for k, d in data.items() if k[:2] == (kind, c))
                lb = lower_bound_regret(Karr, d0["eps"], BASE["A"], BASE["depth"], BASE["horizon"], stationary=st)
                triv = d0["eps"] * d0["m"] * Karr
                if what == "regret":
                    ax.plot(Karr, lb, color="k", lw=1.4, label="lower bound (this family, eq. 3)")
                    ax.plot(Karr, triv * (1 - 1 / d0["N"]), ":", color="0.4", label="uniform play")
                    rate = minimax_lower_bound(d0["S"], d0["A"], d0["H"], Karr, setting="HOM" if st else "INHOM")
                    ax.plot(Karr, rate, "-.", color="0.55",
                            label=("sqrt(H^2 SAK)" if st else "sqrt(H^3 SAK)") + " (rate, const. 1)")
                    ax.set_xscale("log")
                    ax.set_yscale("log")
                    ax.set_ylabel("Regret(K)")
                else:
                    ax.plot(Karr, lb / triv, color="k", lw=1.4, label="lower bound (this family, eq. 3)")
                    ax.axhline(1 - 1 / d0["N"], ls=":", color="0.4", label="uniform play")
                    ax.set_xscale("log")
                    ax.set_ylim(-0.02, 1.05)
                    ax.set_ylabel(r"Regret(K) / ($\varepsilon_K m K$)")
                ax.set_xlabel("K (episodes; the bias shrinks with K)")
                ax.set_title(f"{'stationary' if st else 'stage-dependent'} member, N={d0['N']} arms, "
                             f"m={d0['m']}, bias {c:g} c* sqrt(N/K)" + ("" if c == 1 else " (bound (3) vacuous)"),
                             fontsize=7)
            for ax in axes.ravel()[len(panels):]:
                ax.set_visible(False)
            handles, labels = [], []
            for ax in axes.ravel()[:len(panels)]:
                for h, lab in zip(*ax.get_legend_handles_labels()):
                    if lab not in labels:
                        handles.append(h)
                        labels.append(lab)
            fig.tight_layout()
            fig.legend(handles, labels, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 0.0))
            save(fig, root / ("minimax_regret" if what == "regret" else "minimax_fraction"))


def fig_scaling(root: Path, rows):
    from mdptheory.plots.style import color, figure, paper_style, save

    if not rows:
        return
    names = [lab for lab, *_ in LEARNERS]
    with paper_style():
        fig, axes = figure("two-column", nrows=2, ncols=3, height_scale=1.2)
        for r_i, kind in enumerate(KINDS):
            for a_i, axis in enumerate(("S", "A", "H")):
                ax = axes[r_i, a_i]
                for r in rows:
                    if r["instance"] != kind or r["axis"] != axis:
                        continue
                    ax.plot(r["x"], r["regret_mean"], STYLE[r["mode"]], marker="o", ms=2.5,
                            color=color(names.index(r["learner"])),
                            label=f"{r['learner']} ({r['mode']}): {r['exponent']:.2f} "
                                  f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}] vs thm {r['theorem_leading_slope']:.2f}")
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlabel(axis)
                ax.set_ylabel("Regret(K)")
                ax.set_title(f"{kind}: exponent in {axis}", fontsize=7)
                ax.legend(fontsize=4.5, loc="upper left")
        fig.tight_layout()
        save(fig, root / "minimax_scaling")


def fig_certificate(root: Path, cert_rows, long_runs):
    from mdptheory.plots.style import color, figure, paper_style, save
    from mdptheory.learners import UCBVI

    curves = []   # (title, label, k, ratio, vacuous mask)
    for (kind, name, K), rows in sorted(cert_rows.items()):
        if K != max(k for (_, _, k) in cert_rows):
            continue
        grid = rows[0]["grid"]
        ratio = np.max([r["ratio_curve"] for r in rows], axis=0)
        L = UCBVI("bernstein" if name == "UCBVI-BF" else "hoeffding")
        b = L.bound(rows[0]["S"], rows[0]["A"], rows[0]["H"], grid.astype(float))
        curves.append((f"hard family ({kind}), K={K:.0e}", name, grid, ratio, np.asarray(b.vacuous)))
    for key, lr in (long_runs or {}).items():
        grid = np.asarray(lr["grid"], float)
        reg = np.atleast_2d(np.asarray(lr["regret"], float))
        L = UCBVI("bernstein" if "BF" in lr["learner"] else "hoeffding")
        S, A, H = lr["S"], lr["A"], lr["H"]
        b = L.bound(S, A, H, grid)
        curves.append((lr["mdp"], lr["learner"].split()[0], grid, reg.max(axis=0) / b.value, np.asarray(b.vacuous)))
    if not curves:
        return
    titles = list(dict.fromkeys(c[0] for c in curves))
    with paper_style():
        fig, axes = figure("two-column", nrows=1, ncols=len(titles), height_scale=1.1)
        for ax, t in zip(axes.ravel(), titles):
            for i, (t2, name, k, ratio, vac) in enumerate(curves):
                if t2 != t:
                    continue
                col = color(0 if name == "UCBVI-BF" else 1)
                ax.plot(k, ratio, color=col, label=f"{name}: max ratio {np.nanmax(ratio):.1e}")
                if vac.any():
                    kv = k[vac]
                    ax.axvspan(kv.min(), kv.max(), color=col, alpha=0.08, lw=0)
            ax.axhline(1.0, color="k", lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("k")
            ax.set_ylabel("max over seeds of Regret(k) / bound(k)")
            ax.set_title(t + "\n(shaded: bound >= trivial cap Hk)", fontsize=6.5)
            ax.legend(fontsize=5, loc="lower right")
        fig.tight_layout()
        save(fig, root / "bound_certificate")


# ---------------------------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="results/minimax_rates")
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny K grid, 2 replicates, serial")
    ap.add_argument("--parts", default="sweep,scaling,long,cert,analysis")
    ap.add_argument("--max-K", type=float, default=1e7)
    ap.add_argument("--gap-scales", default="1,4", help="multiples of c* (the lower bound's optimal bias scale)")
    ap.add_argument("--modes", default="theory,scaled")
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--scaling-K", type=float, default=1e5)
    ap.add_argument("--long-K", type=float, default=1e8)
    ap.add_argument("--cert-K", type=float, default=1e8)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address for the sweep parts")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    args.modes = [m for m in args.modes.split(",") if m]
    parts = set(args.parts.split(","))
    scales = [float(x) for x in args.gap_scales.split(",")]
    if args.quick:
        Ks = [300, 1000, 3000]
        args.reps, args.scaling_K, args.long_K, args.cert_K = min(args.reps, 2), 300, 20000, 20000
        if args.workers is None:
            args.workers = 1
    else:
        Ks = [int(round(10 ** e)) for e in np.arange(3.0, math.log10(args.max_K) + 1e-9, 0.5)]
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    times = {}
    t_all = time.perf_counter()
    if "sweep" in parts:
        t0 = time.perf_counter()
        times.update(run_sweep_part(args, root, Ks, scales, args.reps))
        times["sweep_total"] = time.perf_counter() - t0
    if "scaling" in parts:
        t0 = time.perf_counter()
        times.update(run_scaling_part(args, root, int(args.scaling_K), args.reps))
        times["scaling_total"] = time.perf_counter() - t0
    if "long" in parts:
        t0 = time.perf_counter()
        run_long_part(args, root)
        times["long_total"] = time.perf_counter() - t0
    if "cert" in parts:
        t0 = time.perf_counter()
        run_cert_part(args, root)
        times["cert_total"] = time.perf_counter() - t0
    lr_file = root / "long_run" / "long_runs.json"
    long_runs = json.loads(lr_file.read_text()) if lr_file.exists() else None
    if "analysis" in parts:
        t0 = time.perf_counter()
        summary = analyse(root, Ks, scales, args, long_runs)
        times["analysis"] = time.perf_counter() - t0
        summary["times"] = times
        summary["total_time"] = time.perf_counter() - t_all
        (root / "summary.json").write_text(json.dumps(_clean_json(summary), indent=1))
    prev = root / "times.json"
    old = json.loads(prev.read_text()) if prev.exists() else {}
    old.update({k: v for k, v in times.items()})
    prev.write_text(json.dumps(old, indent=1))
    if not args.quiet:
        print(json.dumps({k: round(v, 1) for k, v in times.items()}, indent=1))
    return 0


def analyse(root: Path, Ks, scales, args, long_runs) -> dict:
    data, cert_rows = analyse_sweeps(root, Ks, scales, args.reps)
    exp_rows = exponent_rows(data, Ks)
    hdr = ["instance", "c/c*", "learner", "mode", "K range", "exponent in K [95% CI]", "last decade",
           "theorem", "|exp-0.5|<=0.1", "f(K_max) mean [min, max]", "lower bound f", "R/LB at K_max"]
    table = [[r["instance"], fmt(r["gap_scale"], 0), r["learner"] + ("" if r["minimax_optimal"] else " (not minimax)"),
              r["mode"], f"{r['K_min']:.0e}-{r['K_max']:.0e}" if r["K_min"] else "n/a",
              f"{fmt(r['exponent'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]", fmt(r["exponent_last_decade"]),
              fmt(r["theorem_exponent"]), {True: "yes", False: "no", None: "n/a"}[r["within_0.1"]],
              f"{fmt(r['f_Kmax_mean'])} [{fmt(r['f_Kmax_min'])}, {fmt(r['f_Kmax_max'])}]",
              fmt(r["lb_fraction_Kmax"]), fmt(r["ratio_to_lb_Kmax"])] for r in exp_rows]
    write_table(root / "exponents.md", root / "exponents.csv", hdr, table)
    sc_rows = analyse_scaling(root, int(args.scaling_K), args.reps, args.quick, args.modes)
    hdr2 = ["instance", "learner", "mode", "axis", "values", "fitted exponent [95% CI]", "theorem leading term",
            "rate sqrt(H^2SAK) / sqrt(H^3SAK)", "this family's bound (4)"]
    table2 = [[r["instance"], r["learner"], r["mode"], r["axis"], ",".join(str(v) for v in r["x"]),
               f"{fmt(r['exponent'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]", fmt(r["theorem_leading_slope"]),
               fmt(r["lower_bound_rate_slope"]), fmt(r["family_bound_slope"])] for r in sc_rows]
    write_table(root / "scaling.md", root / "scaling.csv", hdr2, table2)
    # certificates: hard family (every K, theory mode) and the long runs
    cert_table, cert_json = [], []
    kmax = {}
    for (kind, name, K) in cert_rows:
        kmax[(kind, name)] = max(K, kmax.get((kind, name), 0))
    for (kind, name, K), rows in sorted(cert_rows.items()):
        c = combine_certificates([r["certificate"] for r in rows])
        if K != kmax[(kind, name)]:     # every K is in summary.json; the table shows the largest
            cert_json.append(dict(c.as_dict(), source=f"hard family ({kind})"))
            continue
        L = build_learner(name, "theory")
        fi = first_informative_episode(lambda k, L=L, r=rows[0]: L.bound(r["S"], r["A"], r["H"], k))
        cert_json.append(dict(c.as_dict(), source=f"hard family ({kind})", first_informative_any_K=fi))
        cert_table.append([f"hard family ({kind}), S={rows[0]['S']} A={rows[0]['A']} H={rows[0]['H']}", name,
                           f"{K:.0e}", c.n_seeds, f"{c.max_ratio:.2e}", f"{c.final_ratio:.2e}",
                           "n/a" if math.isnan(c.max_ratio_informative) else f"{c.max_ratio_informative:.2e}",
                           f"{c.vacuous_fraction:.3f}", f"{fi:.2e}", "yes" if c.holds else "NO"])
    for key, lr in (long_runs or {}).items():
        cd = lr.get("certificate")
        if not cd:
            continue
        cert_json.append(dict(cd, source=lr["mdp"], first_informative_any_K=lr["first_informative"]))
        inf = cd["max_ratio_informative"]
        cert_table.append([lr["mdp"], lr["learner"].split()[0], f"{lr['episodes']:.0e}", cd["n_seeds"],
                           f"{cd['max_ratio']:.2e}", f"{cd['final_ratio']:.2e}",
                           "n/a" if inf is None or (isinstance(inf, float) and math.isnan(inf)) else f"{inf:.2e}",
                           f"{cd['n_vacuous'] / cd['episodes']:.3f}", f"{lr['first_informative']:.2e}",
                           "yes" if cd["max_ratio"] <= 1 else "NO"])
    hdr3 = ["run", "learner", "K", "seeds", "max_k Regret/bound", "at K", "max over informative k",
            "vacuous fraction of k", "bound informative from k", "holds"]
    write_table(root / "certificates.md", root / "certificates.csv", hdr3, cert_table)
    fig_regret(root, data, Ks, scales)
    fig_scaling(root, sc_rows)
    fig_certificate(root, cert_rows, long_runs)
    return {"exponents": exp_rows, "scaling": sc_rows, "certificates": cert_json,
            "long_runs": {k: {kk: vv for kk, vv in v.items() if kk not in ("grid", "regret")}
                          for k, v in (long_runs or {}).items()},
            "K_grid": Ks, "gap_scales": scales, "reps": args.reps, "modes": args.modes,
            "c_star": {kind: c_star(BASE["A"], BASE["depth"], BASE["horizon"], st) for kind, st in KINDS.items()},
            "layout": lower_bound_layout(BASE["A"], BASE["depth"])}


if __name__ == "__main__":
    sys.exit(main())

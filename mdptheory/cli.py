"""The ``mdptheory`` command.

Subcommands
-----------
``solve``   solve a shipped example MDP (or an ``.npz`` file with ``P``, ``R`` and ``gamma`` or
            ``horizon``) and print V*, the policy and the certified error bound.
``info``    version and the numerical libraries in use.
``list``    the shipped example MDPs and the solver methods.
``run``     run a study (TOML): records under ``DIR/records/``, ``DIR/table.csv`` and figures
            under ``DIR/figures/``; resumable (finished records are skipped).
``plot``    redraw the table and figures of a results directory.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

__all__ = ["main", "build_parser"]


def _examples():
    from mdptheory.envs import textbook

    return {
        "mdptoolbox-small": (textbook.mdptoolbox_small, "MDPtoolbox small(): 2 states, 2 actions (gamma 0.9)"),
        "puterman-two-state": (textbook.puterman_two_state, "Puterman Sec. 3.1 two-state example (gamma 0.95)"),
        "puterman-inventory": (textbook.puterman_inventory, "Puterman Sec. 3.2 inventory problem, H = 3"),
    }


def _load_mdp(name: str, gamma: float | None, horizon: int | None):
    from mdptheory.core import DiscountedMDP, EpisodicMDP

    ex = _examples()
    if name in ex:
        fn = ex[name][0]
        if name == "puterman-inventory":
            return fn(horizon) if horizon is not None else fn()
        return fn(gamma) if gamma is not None else fn()
    if name.endswith(".npz"):
        with np.load(name, allow_pickle=False) as z:
            P, R = z["P"], z["R"]
            init = z["initial"] if "initial" in z else None
            g = gamma if gamma is not None else (float(z["gamma"]) if "gamma" in z else None)
            H = horizon if horizon is not None else (int(z["horizon"]) if "horizon" in z else None)
        if H is not None:
            return EpisodicMDP(P, R, H, init if init is not None else 0)
        if g is None:
            raise SystemExit(f"{name}: give gamma (in the file or --gamma) or horizon")
        return DiscountedMDP(P, R, g, init)
    raise SystemExit(f"unknown MDP {name!r}; choose one of {sorted(ex)} or a .npz file")


def _cmd_solve(args) -> int:
    from mdptheory.solvers import solve

    mdp = _load_mdp(args.mdp, args.gamma, args.horizon)
    sol = solve(mdp, method=args.method, tol=args.tol)
    np.set_printoptions(precision=6, suppress=True, linewidth=100)
    print(f"MDP: {args.mdp}  {mdp!r}")
    print(f"method: {sol.method}  converged: {sol.converged}  iterations: {sol.iterations}")
    print(f"message: {sol.message}")
    if sol.gain is not None:
        print(f"optimal gain g*: {sol.gain:.12g}  (|gain - g*| <= {sol.error_bound:.3g})")
        print(f"bias h: {sol.V}")
    else:
        V = sol.V[0] if sol.V.ndim == 2 else sol.V
        print(f"V*: {V}" + ("  (stage 0)" if sol.V.ndim == 2 else ""))
        print(f"certified error bound max|V - V*| <= {sol.error_bound:.3g}")
    print(f"policy: {sol.policy[0] if sol.policy.ndim == 2 else sol.policy}")
    return 0 if sol.converged else 1


def _cmd_info(args) -> int:
    import numba
    import scipy

    import mdptheory

    print(f"mdptheory {mdptheory.__version__}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}")
    print(f"numba threads: {numba.get_num_threads()}")
    return 0


def _cmd_list(args) -> int:
    from mdptheory.solvers import DEFAULT_METHOD, DISCOUNTED_METHODS

    print("example MDPs (mdptheory solve NAME):")
    for k, (_, doc) in _examples().items():
        print(f"  {k:22s} {doc}")
    print("discounted methods: " + ", ".join(sorted(DISCOUNTED_METHODS) + ["rvi"]) + f" (default {DEFAULT_METHOD})")
    print("episodic method: backward-induction")
    return 0


def _finish_study(out, figures: bool = True) -> int:
    """Tables (printed and written) and figures of a results directory.

    Returns 0 when the table (and every requested figure) was written, 1 when there is
    nothing to tabulate or a requested figure could not be drawn (the reason is printed).
    """
    import warnings
    from pathlib import Path

    from mdptheory.sweeps import load_results, markdown_table, scaling_fits, summarize, write_scaling_table, write_tables

    res = load_results(out, returns=False)  # tables and figures use the regret only
    st = res.study
    rows = summarize(res)
    if not rows:
        print(f"{out}: no records yet; nothing to tabulate", file=sys.stderr)
        return 1
    kinds = tuple(st.outputs.tables) or ("csv",)
    if "csv" not in kinds:
        kinds = ("csv",) + kinds  # table.csv is always written (acceptance name)
    paths = write_tables(rows, out, kinds, level=st.outputs.level)
    print(markdown_table(rows, st.outputs.level))
    if "scaling" in st.outputs.figures:
        fits = [f for a in st.outputs.scaling for f in scaling_fits(res, a)]
        if fits:
            paths.append(write_scaling_table(fits, out))
    if not res.complete:
        n = sum(len(r.missing) for r in res.values())
        print(f"note: {n} record(s) missing; the table and figures use the seeds present", file=sys.stderr)
    rc = 0
    if figures and st.outputs.figures:
        from mdptheory.plots.regret import draw_figures

        for name in st.outputs.figures:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # tight_layout chatter
                try:
                    paths += draw_figures(res, figures=[name])
                except ValueError as exc:  # e.g. a scaling figure with nothing that varies
                    print(f"figure {name!r} not drawn: {exc}", file=sys.stderr)
                    rc = 1
    print("wrote: " + ", ".join(str(Path(p).relative_to(Path(out))) if Path(p).is_relative_to(Path(out)) else str(p) for p in paths))
    return rc


def _cmd_run(args) -> int:
    from pathlib import Path

    from mdptheory.sweeps import ConfigError, load_config, run_sweep

    try:
        study = load_config(args.study)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("results") / study.name
    if args.workers is not None and args.workers < 1:
        print(f"--workers = {args.workers} must be >= 1", file=sys.stderr)
        return 2
    if args.workers is not None and args.scheduler is not None:
        print("note: --workers is ignored with --scheduler (the Dask cluster's workers run the study)", file=sys.stderr)
    rep = run_sweep(study, out, workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress,
                    durable=args.durable)
    print(f"{rep.n_computed} record(s) computed, {rep.n_skipped} reused, {len(rep.corrupt)} corrupt recomputed "
          f"in {rep.wall_time:.1f}s ({rep.executor}, {rep.workers} worker(s)); results in {out}")
    return _finish_study(out, figures=not args.no_figures)


def _cmd_plot(args) -> int:
    from pathlib import Path

    if not (Path(args.results) / "study.json").exists():
        print(f"{args.results}: not a results directory (no study.json)", file=sys.stderr)
        return 2
    return _finish_study(args.results)


def build_parser() -> argparse.ArgumentParser:
    """The ``mdptheory`` argument parser (subcommands ``solve``, ``info``, ``list``, ``run``, ``plot``)."""
    p = argparse.ArgumentParser(prog="mdptheory", description="Theory-first toolkit for tabular and linear MDPs.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve an example MDP or an .npz file and print V*, policy and error bound")
    s.add_argument("mdp", nargs="?", default="mdptoolbox-small", help="example name or .npz file")
    s.add_argument("--method", default=None, help="vi, gs-vi, pi, mpi, lp, rvi (default: the benchmark's choice)")
    s.add_argument("--tol", type=float, default=1e-8, help="certified accuracy (default 1e-8)")
    s.add_argument("--gamma", type=float, default=None)
    s.add_argument("--horizon", type=int, default=None)
    s.set_defaults(func=_cmd_solve)
    i = sub.add_parser("info", help="versions and threads")
    i.set_defaults(func=_cmd_info)
    ls = sub.add_parser("list", help="example MDPs and methods")
    ls.set_defaults(func=_cmd_list)
    r = sub.add_parser("run", help="run a study (TOML): records, table.csv and figures under --out")
    r.add_argument("study", help="study file, e.g. experiments/quickstart.toml")
    r.add_argument("--out", default=None, help="results directory (default results/<study name>)")
    r.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores; 1 = serial)")
    r.add_argument("--scheduler", default=None, help="Dask scheduler address tcp://host:port (pip install mdptheory[dask])")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--no-figures", action="store_true", help="skip the figures (tables only)")
    r.add_argument("--durable", action="store_true", help="fsync every record (survive OS crashes, not only kills)")
    r.set_defaults(func=_cmd_run)
    pl = sub.add_parser("plot", help="redraw table.csv and figures of a results directory")
    pl.add_argument("results", help="the --out directory of `mdptheory run`")
    pl.set_defaults(func=_cmd_plot)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mdptheory`` console script; returns the exit code
    (0 success, 1 failure of the command, 2 usage or study-file error)."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

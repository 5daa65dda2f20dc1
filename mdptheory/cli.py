"""The ``mdptheory`` command.

Subcommands
-----------
``solve``   solve a shipped example MDP (or an ``.npz`` file with ``P``, ``R`` and ``gamma`` or
            ``horizon``) and print V*, the policy and the certified error bound.
``info``    version and the numerical libraries in use.
``list``    what can be named: example MDPs and solver methods, learners, MDP families,
            measures (with parameters and one-line descriptions), studies in ``experiments/``.
``run``     run a study (TOML): records under ``DIR/records/``, ``DIR/table.csv`` and figures
            under ``DIR/figures/``; resumable (finished records are skipped).
``plot``    redraw the table and figures of a results directory.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser", "UserError"]


class UserError(Exception):
    """A mistake in the command line or its inputs: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line (``mdptheory solve: error: ...``), exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _examples():
    from mdptheory.envs import textbook

    return {
        "mdptoolbox-small": (textbook.mdptoolbox_small, "MDPtoolbox small(): 2 states, 2 actions (gamma 0.9)"),
        "puterman-two-state": (textbook.puterman_two_state, "Puterman Sec. 3.1 two-state example (gamma 0.95)"),
        "puterman-inventory": (textbook.puterman_inventory, "Puterman Sec. 3.2 inventory problem, H = 3"),
    }


def _load_npz(name: str):
    """``(P, R, initial, gamma, horizon)`` read from an ``.npz`` file, with one-line errors."""
    import zipfile

    path = Path(name)
    if not path.is_file():
        raise UserError(f"{name}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("P", "R") if k not in z]
            if missing:
                raise UserError(f"{name}: missing array(s) {', '.join(missing)} (an .npz for `mdptheory solve` "
                                "holds P, R and gamma or horizon; optionally initial)")
            P, R = z["P"], z["R"]
            init = z["initial"] if "initial" in z else None
            gamma = z["gamma"] if "gamma" in z else None
            horizon = z["horizon"] if "horizon" in z else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise UserError(f"{name}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    if gamma is not None and horizon is not None:
        raise UserError(f"{name}: holds both gamma and horizon; keep one (discounted or episodic)")
    if gamma is not None:
        if gamma.ndim or not np.issubdtype(gamma.dtype, np.number) or gamma.dtype == bool:
            raise UserError(f"{name}: gamma must be a real scalar, got {gamma!r}")
        gamma = float(gamma)
    if horizon is not None:
        if (horizon.ndim or not np.issubdtype(horizon.dtype, np.number) or horizon.dtype == bool
                or float(horizon) != int(horizon) or int(horizon) < 1):
            raise UserError(f"{name}: horizon must be a positive integer, got {horizon.tolist()!r}")
        horizon = int(horizon)
    return P, R, init, gamma, horizon


def _load_mdp(name: str, gamma: float | None, horizon: int | None):
    """The MDP named on the command line; flags that do not apply are refused."""
    from mdptheory.core import DiscountedMDP, EpisodicMDP

    ex = _examples()
    if name in ex:
        fn = ex[name][0]
        episodic = name == "puterman-inventory"
        if episodic and gamma is not None:
            raise UserError(f"--gamma does not apply to {name} (an episodic model); use --horizon")
        if not episodic and horizon is not None:
            raise UserError(f"--horizon does not apply to {name} (a discounted model); use --gamma")
        try:
            if episodic:
                return fn(horizon) if horizon is not None else fn()
            return fn(gamma) if gamma is not None else fn()
        except (TypeError, ValueError) as exc:
            raise UserError(str(exc)) from None
    if not name.endswith(".npz"):
        raise UserError(f"unknown MDP {name!r}; choose one of {sorted(ex)} or an .npz file")
    P, R, init, g_file, h_file = _load_npz(name)
    if h_file is not None and gamma is not None:
        raise UserError(f"--gamma does not apply to {name}: it is episodic (horizon = {h_file})")
    if g_file is not None and horizon is not None:
        raise UserError(f"--horizon does not apply to {name}: it is discounted (gamma = {g_file})")
    g = gamma if gamma is not None else g_file
    H = horizon if horizon is not None else h_file
    if g is not None and H is not None:
        raise UserError("give --gamma (discounted) or --horizon (episodic), not both")
    try:
        if H is not None:
            return EpisodicMDP(P, R, H, init if init is not None else 0)
        if g is None:
            raise UserError(f"{name}: give gamma (in the file or --gamma) or horizon (in the file or --horizon)")
        return DiscountedMDP(P, R, g, init)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{name}: {exc}") from None


def _cmd_solve(args) -> int:
    from mdptheory.solvers import solve

    if not (np.isfinite(args.tol) and args.tol > 0):
        raise UserError(f"--tol = {args.tol} must be a finite number > 0")
    mdp = _load_mdp(args.mdp, args.gamma, args.horizon)
    try:
        sol = solve(mdp, method=args.method, tol=args.tol)
    except ValueError as exc:             # e.g. an unknown --method
        raise UserError(str(exc)) from None
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


def _first_sentence(text: str) -> str:
    import re

    para = " ".join((text or "").strip().split("\n\n")[0].split())
    para = re.sub(r"[;,]?\s*see the module docstring\.?", ".", para).strip()
    m = re.search(r"\.\s+(?=[A-Z])", para)
    return (para[:m.start()] if m else para).rstrip(".").strip()


def _describe(obj) -> str:
    """One line: the first sentence of the docstring; for a learner class, the title of its
    module (the algorithm box) when the class docstring defers to it."""
    line = _first_sentence(inspect.getdoc(obj) or "")
    if inspect.isclass(obj) and not line:
        line = _first_sentence(inspect.getdoc(sys.modules.get(obj.__module__)) or "") or line
    return line


def _signature(obj) -> str:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return "(...)"
    parts = []
    for p in sig.parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return "(" + ", ".join(parts) + ")"


def _cmd_list(args) -> int:
    from mdptheory.solvers import DEFAULT_METHOD, DISCOUNTED_METHODS
    from mdptheory.sweeps import registry

    what = args.what
    if what in ("all", "mdps"):
        print("example MDPs (mdptheory solve NAME):")
        for k, (_, doc) in _examples().items():
            print(f"  {k:22s} {doc}")
    if what in ("all", "methods"):
        print("discounted methods: " + ", ".join(sorted(DISCOUNTED_METHODS) + ["rvi"]) + f" (default {DEFAULT_METHOD})")
        print("episodic method: backward-induction")
    kinds = {"learners": "learner", "families": "family", "measures": "measure"}
    for plural, kind in kinds.items():
        if what not in ("all", plural):
            continue
        print(f"{plural} (names for study files):")
        for name in registry.available(kind):
            obj = registry.resolve(kind, name)[1]
            print(f"  {name}{_signature(obj)}")
            line = _describe(obj)
            if line:
                print(f"      {line}")
    if what in ("all", "studies"):
        import tomllib

        folder = Path(args.experiments)
        files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        print(f"studies in {folder}/ (mdptheory run FILE):" if files else
              f"studies: no *.toml in {folder}/ (run from the repository root, or pass --experiments DIR)")
        for f in files:
            try:
                st = tomllib.loads(f.read_text(encoding="utf-8")).get("study", {})
            except (OSError, ValueError) as exc:
                print(f"  {f.name:28s} (unreadable: {exc})")
                continue
            desc = str(st.get("description", "")).strip().split("\n")[0]
            print(f"  {f.name:28s} {st.get('name', '?')}: {desc}")
    return 0


def _finish_study(out, figures: bool = True) -> int:
    """Tables (printed and written) and figures of a results directory.

    Returns 0 when the table (and every requested figure) was written, 1 when there is
    nothing to tabulate or a requested figure could not be drawn (the reason is printed).
    """
    import warnings

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
    from mdptheory.sweeps import ConfigError, load_config, run_sweep
    from mdptheory.sweeps.runner import default_workers
    from mdptheory.sweeps.store import StudyFolderError

    try:
        study = load_config(args.study)
    except ConfigError as exc:
        raise UserError(f"config error: {exc}") from None
    except OSError as exc:
        raise UserError(f"{args.study}: {exc.strerror or exc}") from None
    out = Path(args.out) if args.out else Path("results") / study.name
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers = {args.workers} must be >= 1")
    if args.workers is not None and args.scheduler is not None:
        print("note: --workers is ignored with --scheduler (the Dask cluster's workers run the study)", file=sys.stderr)
    elif args.workers is not None and args.workers > default_workers():
        print(f"note: --workers {args.workers} is more than the {default_workers()} core(s) available; the workers "
              "will share them (no faster, more memory)", file=sys.stderr)
    args._out = out
    try:
        rep = run_sweep(study, out, workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress,
                        durable=args.durable, force=args.force, connect_timeout=args.connect_timeout)
    except (StudyFolderError, ConnectionError) as exc:
        raise UserError(str(exc)) from None
    print(f"{rep.n_computed} record(s) computed, {rep.n_skipped} reused, {len(rep.corrupt)} corrupt recomputed "
          f"in {rep.wall_time:.1f}s ({rep.executor}, {rep.workers} worker(s)); results in {out}")
    return _finish_study(out, figures=not args.no_figures)


def _cmd_plot(args) -> int:
    if not (Path(args.results) / "study.json").exists():
        raise UserError(f"{args.results}: not a results directory (no study.json)")
    try:
        return _finish_study(args.results)
    except (ValueError, KeyError, TypeError) as exc:     # a corrupt or hand-edited study.json
        raise UserError(f"{args.results}/study.json cannot be read as a study ({type(exc).__name__}: {exc})") from None


def build_parser() -> argparse.ArgumentParser:
    """The ``mdptheory`` argument parser (subcommands ``solve``, ``info``, ``list``, ``run``, ``plot``)."""
    import mdptheory

    p = _Parser(prog="mdptheory", description="Theory-first toolkit for tabular and linear MDPs.")
    p.add_argument("--version", action="version", version=f"mdptheory {mdptheory.__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("solve", help="solve an example MDP or an .npz file and print V*, policy and error bound")
    s.add_argument("mdp", nargs="?", default="mdptoolbox-small", help="example name or .npz file")
    s.add_argument("--method", default=None, help="vi, gs-vi, pi, mpi, lp, rvi (default: the benchmark's choice)")
    s.add_argument("--tol", type=float, default=1e-8, help="certified accuracy (default 1e-8)")
    s.add_argument("--gamma", type=float, default=None)
    s.add_argument("--horizon", type=int, default=None)
    s.set_defaults(func=_cmd_solve)
    i = sub.add_parser("info", help="versions and threads")
    i.set_defaults(func=_cmd_info)
    ls = sub.add_parser("list", help="example MDPs, methods, learners, families, measures, studies")
    ls.add_argument("what", nargs="?", default="all",
                    choices=("all", "mdps", "methods", "learners", "families", "measures", "studies"))
    ls.add_argument("--experiments", default="experiments", help="folder of study files (default ./experiments)")
    ls.set_defaults(func=_cmd_list)
    r = sub.add_parser("run", help="run a study (TOML): records, table.csv and figures under --out")
    r.add_argument("study", help="study file, e.g. experiments/quickstart.toml")
    r.add_argument("--out", default=None, help="results directory (default results/<study name>)")
    r.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores; 1 = serial)")
    r.add_argument("--scheduler", default=None, help="Dask scheduler address tcp://host:port (pip install mdptheory[dask])")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--no-figures", action="store_true", help="skip the figures (tables only)")
    r.add_argument("--durable", action="store_true", help="fsync every record (survive OS crashes, not only kills)")
    r.add_argument("--force", action="store_true",
                   help="write into a non-empty --out that is not this study's folder")
    r.add_argument("--connect-timeout", type=float, default=10.0,
                   help="seconds to wait for the Dask scheduler (default 10)")
    r.set_defaults(func=_cmd_run)
    pl = sub.add_parser("plot", help="redraw table.csv and figures of a results directory")
    pl.add_argument("results", help="the --out directory of `mdptheory run`")
    pl.set_defaults(func=_cmd_plot)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mdptheory`` console script; returns the exit code
    (0 success, 1 failure of the command, 2 user error: one line, no traceback unless
    ``--debug``; 130 interrupted by Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"mdptheory {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:              # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        if args.debug:
            raise
        out = getattr(args, "_out", None)
        kept = f"; finished records are kept in {out} (rerun the same command to resume)" if out else ""
        print(f"mdptheory {args.command}: interrupted{kept}", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence of a command-line tool
        if args.debug:
            raise
        msg = str(exc).splitlines()[0] if str(exc) else ""
        print(f"mdptheory {args.command}: internal error: {type(exc).__name__}: {msg} "
              "(rerun with --debug for the traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

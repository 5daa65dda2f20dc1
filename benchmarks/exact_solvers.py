"""Exact-solver benchmark: ours vs QuantEcon vs pymdptoolbox vs the memory limit.

Instances (gamma = 0.99, rows ~ Dirichlet(1) / uniform weights, R ~ U[0, 1]):
  dense (S, A) = (500, 10) and (2000, 5); sparse S = 20000, A = 4, 5 successors per pair.

Printed side by side, all measured in this one run:
  * the time to stream P once from memory on all cores (numba parallel sum; numpy sum),
  * seconds per VI sweep (ours, QuantEcon's ``bellman_operator``) and ratio to streaming,
  * time to a 1e-8 solution per method (ours: certified ``error_bound <= 1e-8``;
    QuantEcon / pymdptoolbox with ``epsilon=1e-8``, whose guarantees differ: see the notes
    printed below the table), and the ratio of each of our methods to each peer's best.

A last section times our methods alone on slow-mixing instances (gamma = 0.999, grid world,
RiverSwim, Garnet) and prints, over every instance of the run, each method's time relative to
the fastest method on that instance (geometric mean and worst case): the default ``method``
of :func:`mdptheory.solve` is the one with the smallest geometric-mean ratio.

Usage: ``python benchmarks/exact_solvers.py [--quick] [--skip-lp] [--out FILE.md]``.
Install peers with ``pip install -e .[bench]`` (``pymdptoolbox`` needs ``--pre``).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import scipy.sparse as sp

import mdptheory as mt
from mdptheory.kernels import dense as kd
from mdptheory.solvers._ops import DiscountedOps

GAMMA = 0.99
TOL = 1e-8
ACCURATE = 1e-6  # a peer's values must be this close to V* to count as a solution
FAILURES: list[str] = []
PEER_TIMEOUT = 120  # seconds per peer method


def _exact_rows(P):
    """Nudge the last entry of each row so that numpy's row sums are 1 to the last ulp
    (pymdptoolbox rejects rows off by more than 10 machine epsilons)."""
    for _ in range(3):
        P[..., -1] += 1.0 - P.sum(axis=-1)
    return P


def dense_instance(S, A, seed=0):
    rng = np.random.default_rng(seed)
    return _exact_rows(rng.dirichlet(np.ones(S), size=(S, A))), rng.uniform(size=(S, A))


def sparse_instance(S, A, k, seed=0):
    rng = np.random.default_rng(seed)
    cols = np.stack([rng.choice(S, size=k, replace=False) for _ in range(S * A)])
    data = _exact_rows(rng.dirichlet(np.ones(k), size=S * A))
    P = sp.csr_matrix((data.ravel(), cols.ravel(), np.arange(0, S * A * k + 1, k)), shape=(S * A, S))
    P.sort_indices()
    return P, rng.uniform(size=(S, A))


def best_time(fn, reps=5):
    ts = []
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return min(ts), out


def stream_time(P2d):
    """Fastest of three ways to read P once on all cores: a numba parallel sum, numpy's
    sum, and a BLAS matrix-vector product (each reads every entry exactly once)."""
    kd.stream_sum(P2d[:2])  # compile
    t_numba, _ = best_time(lambda: kd.stream_sum(P2d), reps=9)
    t_numpy, _ = best_time(lambda: P2d.sum(), reps=9)
    x = np.ones(P2d.shape[1])
    buf = np.empty(P2d.shape[0])
    t_gemv, _ = best_time(lambda: np.matmul(P2d, x, out=buf), reps=9)
    return min(t_numba, t_numpy, t_gemv), t_numba, t_numpy, t_gemv


def run_ours(mdp, methods):
    res = {}
    for m in methods:
        mt.solve(mdp, method=m, tol=TOL) if m != "lp" else None  # warm-up (compilation)
        reps = 1 if m in ("lp", "gs-vi") else 3
        t, sol = best_time(lambda: mt.solve(mdp, method=m, tol=TOL), reps=reps)
        res[m] = (t, sol)
    return res


class _QE:
    """QuantEcon's result reduced to what the table needs (picklable)."""

    def __init__(self, v, num_iter):
        self.v, self.num_iter = v, num_iter


def _qe_ddp(P, R, sparse):
    import quantecon as qe

    S, A = R.shape
    if sparse:
        return qe.markov.DiscreteDP(R.ravel(), P, GAMMA, np.repeat(np.arange(S), A), np.tile(np.arange(A), S))
    return qe.markov.DiscreteDP(R, P, GAMMA)


def _qe_method(P, R, sparse, method):
    ddp = _qe_ddp(P, R, sparse)
    kw = dict(max_iter=100_000) if method == "vi" else {}
    name = {"vi": "value_iteration", "pi": "policy_iteration", "mpi": "modified_policy_iteration"}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, r = best_time(lambda: ddp.solve(method=name, epsilon=TOL, **kw), reps=1 if method == "vi" else 2)
    return t, _QE(np.asarray(r.v), int(r.num_iter))


def run_quantecon(P, R, sparse):
    try:
        import quantecon  # noqa: F401
    except ImportError:
        return None, {}
    import concurrent.futures as cf
    import multiprocessing as mp

    ddp = _qe_ddp(P, R, sparse)
    v = np.zeros(R.shape[0])
    ddp.bellman_operator(v)
    t_sweep, _ = best_time(lambda: ddp.bellman_operator(v), reps=7)
    out = {}
    for m in ("vi", "pi", "mpi"):
        # each method runs in a child process with a time limit: QuantEcon's sparse policy
        # iteration factorises I - gamma P_pi with SuperLU, whose fill-in on random graphs
        # does not finish in reasonable time
        pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
        fut = pool.submit(_qe_method, P, R, sparse, m)
        try:
            out[m] = fut.result(timeout=PEER_TIMEOUT)
        except cf.TimeoutError:
            FAILURES.append(f"QuantEcon {m} ({'sparse' if sparse else 'dense'}): did not finish in {PEER_TIMEOUT} s")
            for proc in list(pool._processes.values()):
                proc.kill()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    return t_sweep, out


def run_mdptoolbox(P, R, sparse):
    try:
        import mdptoolbox.mdp as mtb
    except ImportError:
        return {}
    S, A = R.shape
    if sparse:
        Pl = [sp.csr_matrix(P[a::A]) for a in range(A)]
    else:
        Pl = np.ascontiguousarray(P.transpose(1, 0, 2))
    out = {}
    for name, cls, kw in [("vi", "ValueIteration", dict(epsilon=TOL, max_iter=100_000)),
                          ("pi", "PolicyIteration", {}),
                          ("mpi", "PolicyIterationModified", dict(epsilon=TOL))]:
        if sparse and name == "pi":
            continue  # its sparse evaluation uses SuperLU: fill-in makes it impractical here
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                solver = getattr(mtb, cls)(Pl, R, GAMMA, **kw)
                t, _ = best_time(lambda: solver.run(), reps=1)
        except Exception as exc:  # report the peer's failure instead of stopping the benchmark
            FAILURES.append(f"pymdptoolbox {cls} ({'sparse' if sparse else 'dense'}): {type(exc).__name__}: {exc}")
            continue
        out[name] = (t, np.asarray(solver.V))
    return out


#: methods that compete for the default (LP and Gauss-Seidel are never competitive here)
DEFAULT_CANDIDATES = ("vi", "mpi", "pi")


def slow_mixing_instances(quick):
    from mdptheory.envs import FROZEN_LAKE_MAPS, garnet, gridworld, riverswim

    g = 0.999
    out = [("grid world 8x8, slip 0.2, gamma 0.999", gridworld(FROZEN_LAKE_MAPS["8x8"], gamma=g, slip=0.2)),
           ("RiverSwim(200), gamma 0.999", riverswim(200, gamma=g))]
    if quick:
        out.append(("Garnet (300, 4, b=3) dense, gamma 0.999", garnet(300, 4, 3, seed=0, gamma=g)))
    else:
        out += [("Garnet (2000, 4, b=3) dense, gamma 0.999", garnet(2000, 4, 3, seed=0, gamma=g)),
                ("Garnet (20000, 4, b=5) CSR, gamma 0.999", garnet(20000, 4, 5, seed=0, gamma=g, sparse=True))]
    return out


def slow_mixing_section(timings, instances, quick):
    """Our candidate methods alone on slow-mixing instances, then the default-choice table
    over every instance of the run (``timings`` already holds the gamma = 0.99 ones), and
    MPI's number ``m`` of partial evaluation sweeps against the default."""
    lines = ["", "### slow-mixing instances (ours only), certified 1e-8", "",
             "| instance | " + " | ".join(DEFAULT_CANDIDATES) + " |", "|---|" + "---|" * len(DEFAULT_CANDIDATES)]
    for label, mdp in slow_mixing_instances(quick):
        res = run_ours(mdp, DEFAULT_CANDIDATES)
        timings[label] = {m: t for m, (t, _) in res.items()}
        instances[label] = mdp
        lines.append(f"| {label} | " + " | ".join(f"{res[m][0]:.4f} s ({res[m][1].iterations} it)"
                                                 for m in DEFAULT_CANDIDATES) + " |")
    lines += ["", "### default choice: time / fastest method on the same instance", "",
              "| method | geometric mean | worst | instances where fastest |", "|---|---|---|---|"]
    score = {}
    for m in DEFAULT_CANDIDATES:
        ratios = np.array([t[m] / min(t.values()) for t in timings.values()])
        score[m] = float(np.exp(np.log(ratios).mean()))
        wins = sum(t[m] == min(t.values()) for t in timings.values())
        lines.append(f"| {m} | {score[m]:.2f} | {ratios.max():.2f} | {wins} of {len(timings)} |")
    best = min(score, key=score.get)
    lines.append("")
    lines.append(f"- smallest geometric-mean ratio: **{best}**; `mdptheory.solvers.DEFAULT_METHOD` = "
                 f"`{mt.solvers.DEFAULT_METHOD}`" + ("" if best == mt.solvers.DEFAULT_METHOD else " (differs: update it)"))
    lines += ["", "### MPI: partial evaluation sweeps m, time / best m on the same instance", "",
              "| instance | " + " | ".join(f"m={m}" for m in MPI_M) + " |", "|---|" + "---|" * len(MPI_M)]
    rat = {m: [] for m in MPI_M}
    for label, mdp in instances.items():
        t = {m: best_time(lambda: mt.solve(mdp, method="mpi", tol=TOL, m=m), reps=3)[0] for m in MPI_M}
        for m in MPI_M:
            rat[m].append(t[m] / min(t.values()))
        lines.append(f"| {label} | " + " | ".join(f"{t[m]:.4f} s ({t[m] / min(t.values()):.2f})" for m in MPI_M) + " |")
    gm = {m: float(np.exp(np.mean(np.log(rat[m])))) for m in MPI_M}
    lines.append("| **geometric mean / worst** | " + " | ".join(f"{gm[m]:.2f} / {max(rat[m]):.2f}" for m in MPI_M) + " |")
    import inspect
    m_default = inspect.signature(mt.solvers.discounted.modified_policy_iteration).parameters["m"].default
    best_m = min(gm, key=gm.get)
    lines.append("")
    lines.append(f"- smallest geometric mean: **m = {best_m}**; default `m` = {m_default}"
                 + ("" if best_m == m_default else " (differs: update it)"))
    print("\n".join(lines), flush=True)
    return lines


#: MPI sweep counts compared for the default ``m``
MPI_M = (2, 5, 10, 20)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small instances (smoke test)")
    ap.add_argument("--skip-lp", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.quick:
        cases = [("dense (100, 5)", "dense", (100, 5)), ("sparse (2000, 4, k=5)", "sparse", (2000, 4, 5))]
    else:
        cases = [("dense (500, 10)", "dense", (500, 10)), ("dense (2000, 5)", "dense", (2000, 5)),
                 ("sparse (20000, 4, k=5)", "sparse", (20000, 4, 5))]
    import numba

    load0 = os.getloadavg()[0]
    timings: dict[str, dict[str, float]] = {}  # instance -> method -> seconds (ours)
    instances: dict[str, mt.DiscountedMDP] = {}
    lines = [f"machine: {platform.processor() or platform.machine()}, {numba.config.NUMBA_NUM_THREADS} threads; "
             f"numpy {np.__version__}, numba {numba.__version__}"]
    try:
        import quantecon

        lines.append(f"quantecon {quantecon.__version__}")
    except ImportError:
        pass
    for label, kind, dims in cases:
        if kind == "dense":
            P, R = dense_instance(*dims)
            mdp = mt.DiscountedMDP(P, R, GAMMA)
            assert np.shares_memory(mdp.P, P), "dense float64 C-contiguous P must not be copied"
            P2 = P.reshape(-1, P.shape[-1])
        else:
            P, R = sparse_instance(*dims)
            mdp = mt.DiscountedMDP(P, R, GAMMA)
            P2 = None
        methods = ["vi", "mpi", "pi", "gs-vi"]
        big_dense_lp = kind == "dense" and dims[0] * dims[1] * dims[0] > 5e6
        if not args.skip_lp and not big_dense_lp and kind == "dense":
            methods.append("lp")
        ops = DiscountedOps(mdp)
        V = np.zeros(mdp.S)
        out, pi = np.empty(mdp.S), np.empty(mdp.S, dtype=np.int64)
        ops.tmax(V, out, pi)
        t_sweep, _ = best_time(lambda: ops.tmax(V, out, pi), reps=9)
        ours = run_ours(mdp, methods)
        timings[label] = {m: t for m, (t, _) in ours.items() if m in DEFAULT_CANDIDATES}
        instances[label] = mdp
        ref_V = ours["pi"][1].V
        qe_sweep, qe = run_quantecon(P, R, kind == "sparse")
        tb = run_mdptoolbox(P, R, kind == "sparse")
        lines.append("")
        lines.append(f"### {label}, gamma = {GAMMA}")
        if P2 is not None:
            t_stream, t_nb, t_np, t_gv = stream_time(P2)
            gb = P2.nbytes / 1e9
            lines.append(f"- stream P once ({gb:.2f} GB): {t_stream * 1e3:.2f} ms = {gb / t_stream:.1f} GB/s "
                         f"(fastest of: numba parallel sum {t_nb * 1e3:.2f} ms, numpy sum {t_np * 1e3:.2f} ms, "
                         f"BLAS GEMV {t_gv * 1e3:.2f} ms)")
            lines.append(f"- VI sweep, ours: {t_sweep * 1e3:.2f} ms = **{t_sweep / t_stream:.2f}x streaming**"
                         + (f"; QuantEcon bellman_operator: {qe_sweep * 1e3:.2f} ms = {qe_sweep / t_stream:.2f}x" if qe_sweep else ""))
        else:
            lines.append(f"- VI sweep, ours: {t_sweep * 1e3:.2f} ms"
                         + (f"; QuantEcon bellman_operator: {qe_sweep * 1e3:.2f} ms (ratio {t_sweep / qe_sweep:.2f})" if qe_sweep else ""))
        lines.append("")
        lines.append("| solver | method | seconds | iterations | error vs PI | certified bound |")
        lines.append("|---|---|---|---|---|---|")
        for m, (t, sol) in ours.items():
            lines.append(f"| mdptheory | {m} | {t:.3f} | {sol.iterations} | {np.abs(sol.V - ref_V).max():.1e} | {sol.error_bound:.1e} |")
        for m, (t, r) in qe.items():
            lines.append(f"| QuantEcon | {m} | {t:.3f} | {r.num_iter} | {np.abs(r.v - ref_V).max():.1e} | none |")
        for m, (t, v) in tb.items():
            lines.append(f"| pymdptoolbox | {m} | {t:.3f} | - | {np.abs(v - ref_V).max():.1e} | none |")
        default = mt.solvers.DEFAULT_METHOD
        fastest_ours = min(ours, key=lambda k: ours[k][0])
        lines.append("")
        lines.append(f"- our fastest method here: **{fastest_ours}** ({ours[fastest_ours][0]:.3f} s); default `{default}`: {ours[default][0]:.3f} s")
        # a peer method only counts as a "best" if its values are within ACCURATE of V*
        qe_ok = {k: v for k, v in qe.items() if np.abs(v[1].v - ref_V).max() <= ACCURATE}
        tb_ok = {k: v for k, v in tb.items() if np.abs(v[1] - ref_V).max() <= ACCURATE}
        for name, d_all, d_ok in [("QuantEcon", qe, qe_ok), ("pymdptoolbox", tb, tb_ok)]:
            if not d_all:
                continue
            bad = sorted(set(d_all) - set(d_ok))
            if d_ok:
                best = min(d_ok, key=lambda k: d_ok[k][0])
                lines.append(f"- default / {name}'s best accurate method ({best}, {d_ok[best][0]:.3f} s): "
                             f"**{ours[default][0] / d_ok[best][0]:.2f}**"
                             + (f" ({', '.join(bad)} excluded: error > {ACCURATE:g})" if bad else ""))
            else:
                lines.append(f"- {name}: no method returned values within {ACCURATE:g} of V*")
        print("\n".join(lines[-(len(ours) + len(qe) + len(tb) + 10):]), flush=True)
    lines += slow_mixing_section(timings, instances, args.quick)
    lines.append("")
    lines.append(f"load average at the end: {os.getloadavg()[0]:.2f} (at the start: {load0:.2f})")
    for f in FAILURES:
        lines.append(f"- peer failure: {f}")
    text = "\n".join(lines)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return text


if __name__ == "__main__":
    main()

"""Representation complexity of the model vs Q*/V* on bit-string MDPs.

For n = 4..16 this script builds the parity-bet, majority-bet (thermometer and binary
counter) families, solves them exactly, and applies the probes of
``mdptheory.probes.compare_representations`` to every transition bit, the reward and
Q*/V*. It then fits random ReLU features and a small trained MLP at a fixed n to show the
approximation error against capacity, and compares the size of the explicit model circuit
with the minimum depth-2 (DNF) size of V*.

Ranges: parity and the binary-counter majority bet run n = 4..16 (N = n + 1 and
N = n + bit_length(n) <= 21 state bits); the thermometer majority bet has N = 2n state bits
and stops at n = 10 (N = 20; n = 16 would need 2^32 states). Its model measures are exactly
constant in n (closed forms in proofs_notes/circuit_complexity.md §3) and its slice V* is the
same threshold function as the binary counter's, so nothing is lost above n = 10.

Every solved slice V* is checked against its closed form (PARITY, 1[|x| >= theta]) before its
measures are recorded, and the time and peak traced memory (``tracemalloc``; numpy
allocations) of building the arrays and of the exact numba solve are recorded per n.

The families are the toolkit's constructions ([reconstruction], see
proofs_notes/circuit_complexity.md), not the paper's MDPs, whose exact layout could not be read.

Outputs (in --out): ``measures_vs_n.pdf/png``, ``error_vs_capacity.pdf/png``,
``circuit_size.pdf/png``, ``results.json`` and ``results.md`` (the numbers quoted in
docs and notes).

    MPLBACKEND=Agg python experiments/representation_complexity.py --out results/repr
    MPLBACKEND=Agg python experiments/representation_complexity.py --out /tmp/r --quick
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from math import comb, pi, sqrt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mdptheory.envs import bitstring_family  # noqa: E402
from mdptheory.probes import (  # noqa: E402
    compare_representations,
    degree_profile,
    minimal_true_points,
    mlp_fit_error,
    random_feature_error,
    total_influence,
)
from mdptheory.probes.circuits import circuit_growth  # noqa: E402

FAMILIES = {
    "parity": dict(kind="parity", kw={}, label="parity bet"),
    "maj-thermo": dict(kind="majority", kw={}, label="majority bet (thermometer)"),
    "maj-binary": dict(kind="majority", kw={"counter": "binary"}, label="majority bet (binary counter)"),
}


def _blas_single_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return None
    return threadpool_limits(limits=1, user_api="blas")


def _traced(fn):
    """(result, seconds, peak traced MiB) of ``fn()``."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    sec = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, sec, peak


def _closed_form_slice(kind: str, n: int, theta) -> np.ndarray:
    w = np.array([bin(x).count("1") for x in range(1 << n)])
    return (w % 2).astype(float) if kind == "parity" else (w >= theta).astype(float)


def measures_vs_n(ns: dict) -> dict:
    out = {}
    for key, spec in FAMILIES.items():
        rows = []
        for n in ns[key]:
            t0 = time.perf_counter()
            fam, build_s, build_mib = _traced(lambda: bitstring_family(spec["kind"], n, **spec["kw"]))
            sol, solve_s, solve_mib = _traced(fam.solve)
            slice_vals = sol.slice_values()
            if not np.array_equal(slice_vals, _closed_form_slice(spec["kind"], n, fam.theta)):
                raise AssertionError(f"{key} n={n}: solved slice V* differs from its closed form")
            tab = compare_representations(fam, solution=sol, rf_max_bits=0, dt_max_bits=13)
            s = tab.summary()
            trans = [r for r in tab.select("transition") if r.variance > 0]
            r_sa = tab.row("r[H-1]")
            r_s1 = tab.row("r[H-1](s,1)")
            sl = tab.row("V*[0]|t=0")
            vfull = tab.row("V*[0]")
            q = tab.row("Q*[0]")
            if spec["kind"] == "parity":
                dnf_terms = int(slice_vals.sum())  # every prime implicant of parity is a minterm
            else:
                dnf_terms = int(len(minimal_true_points(slice_vals)))  # monotone: minimal true points
            rows.append(dict(
                n=n, N=fam.N, H=fam.H,
                trans_degree=max(r.degree for r in trans), trans_ivar=max(r.influence_ratio for r in trans),
                trans_tail3=max(r.tail3 for r in trans), trans_dt=max((r.dt_depth for r in trans
                                                                       if r.dt_depth is not None), default=None),
                reward_degree=r_sa.degree, reward_ivar=r_sa.influence_ratio,
                bet_degree=r_s1.degree, bet_ivar=r_s1.influence_ratio,
                model_degree=s["model"]["degree"], model_ivar=s["model"]["influence_ratio"],
                model_tail1=s["model"]["tail1"], model_tail3=s["model"]["tail3"],
                model_sensitivity=s["model"]["sensitivity"], model_dt=s["model"]["dt_depth"],
                model_weighted=s["model"]["weighted_relative_mse"],
                q_degree=q.degree, q_ivar=q.influence_ratio, q_tail1=q.tail1, q_tail3=q.tail3,
                q_sensitivity=q.sensitivity, q_dt=q.dt_depth, q_weighted=q.weighted_relative_mse,
                v_degree=vfull.degree, v_ivar=vfull.influence_ratio, v_tail3=vfull.tail3,
                slice_degree=sl.degree, slice_ivar=sl.influence_ratio, slice_tail1=sl.tail1,
                slice_tail3=sl.tail3, slice_sensitivity=sl.sensitivity, slice_dt=sl.dt_depth,
                slice_weighted=sl.weighted_relative_mse,
                slice_min_dnf_terms=dnf_terms, sqrt_2n_over_pi=sqrt(2 * n / pi),
                build_seconds=build_s, build_peak_mib=build_mib, solve_seconds=solve_s, solve_peak_mib=solve_mib,
                seconds=time.perf_counter() - t0,
            ))
            r = rows[-1]
            print(f"  {key:10s} n={n:2d} N={fam.N:2d}  model: deg={r['model_degree']} I/Var={r['model_ivar']:.3f}"
                  f"  |  Q*: deg={q.degree} I/Var={q.influence_ratio:.3f}  |  V*slice: deg={sl.degree} "
                  f"tail1={sl.tail1:.3f} I/Var={sl.influence_ratio:.3f}  solve {solve_s:.3f}s {solve_mib:.0f} MiB "
                  f"({r['seconds']:.1f}s)", flush=True)
        out[key] = rows
    return out


def error_vs_capacity(n_fixed: dict, widths, mlp_widths, seeds: int) -> dict:
    out = {}
    for key, spec in FAMILIES.items():
        n = n_fixed[key]
        fam = bitstring_family(spec["kind"], n, **spec["kw"])
        sol = fam.solve()
        model_curves = []
        # accumulator bits and the reward; the register bits are plain shifts (dictators)
        for row in list(fam.transition_bits()[fam.n:]) + [fam.reward_table()]:
            if np.var(row) > 0:
                model_curves.append(random_feature_error(row.astype(float), widths, n_seeds=seeds).relative_mse)
        model = np.max(np.array(model_curves), axis=0)
        q = random_feature_error(sol.q_values(0), widths, n_seeds=seeds).relative_mse
        sl = random_feature_error(sol.slice_values(), widths, n_seeds=seeds).relative_mse
        mlp_slice = [mlp_fit_error(sol.slice_values(), w, restarts=3).relative_mse for w in mlp_widths]
        # hardest model bit for the trained MLP: highest Fourier degree, then highest I/Var
        def hardness(r):
            p = degree_profile(r.astype(float))
            return (p.degree, total_influence(r.astype(float)) / p.variance)

        hard = max((r for r in fam.transition_bits() if np.var(r) > 0), key=hardness)
        mlp_model = [mlp_fit_error(hard.astype(float), w, restarts=2).relative_mse for w in mlp_widths] \
            if fam.N + 1 <= 13 else None
        out[key] = dict(n=n, N=fam.N, widths=list(map(int, widths)), rf_model_max=model.tolist(),
                        rf_q=q.tolist(), rf_slice=sl.tolist(), mlp_widths=list(mlp_widths),
                        mlp_slice=mlp_slice, mlp_model_bit=mlp_model)
        print(f"  {key:10s} n={n}: RF rel. MSE at w={widths[-1]}: model(max)={model[-1]:.3f} "
              f"Q*={q[-1]:.3f} V*slice={sl[-1]:.3f}", flush=True)
    return out


def circuit_sizes(ns) -> dict:
    out = {}
    for key, spec in FAMILIES.items():
        rows = circuit_growth(spec["kind"], ns, verify_max_bits=16, **spec["kw"])
        out[key] = [dict(n=r.n, N=r.N, transition_depth=r.transition_depth, transition_size=r.transition_size,
                         reward_depth=r.reward_depth, reward_size=r.reward_size, total_size=r.total_size,
                         max_support=r.max_support, verified=r.verified,
                         value_min_dnf_terms=(2 ** (r.n - 1) if spec["kind"] == "parity"
                                              else comb(r.n, (r.n + 1) // 2)))
                    for r in rows]
    return out


def plot_measures(res: dict, out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.0))
    colors = {"parity": "C0", "maj-thermo": "C1", "maj-binary": "C2"}
    for key, rows in res.items():
        n = [r["n"] for r in rows]
        c = colors[key]
        axes[0].plot(n, [r["model_ivar"] for r in rows], "o--", color=c, label=f"{key}: model (max)")
        axes[0].plot(n, [r["q_ivar"] for r in rows], "^:", color=c, label=f"{key}: $Q^*_0$")
        axes[0].plot(n, [r["slice_ivar"] for r in rows], "s-", color=c, label=f"{key}: $V^*$ slice")
        axes[1].plot(n, [r["model_tail3"] for r in rows], "o--", color=c)
        axes[1].plot(n, [r["slice_tail3"] for r in rows], "s-", color=c)
        axes[2].plot(n, [r["model_degree"] for r in rows], "o--", color=c)
        axes[2].plot(n, [r["q_degree"] for r in rows], "^:", color=c)
        axes[2].plot(n, [r["slice_degree"] for r in rows], "s-", color=c)
    nn = np.arange(4, 17)
    axes[0].plot(nn, np.sqrt(2 * nn / pi), "k:", label=r"$\sqrt{2n/\pi}$")
    axes[0].set_yscale("log")
    axes[0].set_ylabel(r"$I(f)/\mathrm{Var}(f)$")
    axes[1].set_ylabel(r"tail(3) $= W^{>3}/\mathrm{Var}$")
    axes[2].set_ylabel("Fourier degree")
    for ax in axes:
        ax.set_xlabel("n")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=7, frameon=False)
    fig.suptitle("Model (transition bits, reward; dashed) vs $Q^*_0$ (dotted) and slice $V^*_0$ (solid), exact on the cube",
                 fontsize=9)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    for ext in ("pdf", "png"):
        fig.savefig(out / f"measures_vs_n.{ext}", dpi=150)
    plt.close(fig)


def plot_capacity(res: dict, out: Path) -> None:
    fig, axes = plt.subplots(1, len(res), figsize=(11, 3.2), sharey=True)
    for ax, (key, r) in zip(axes, res.items()):
        w = r["widths"]
        ax.plot(w, r["rf_model_max"], "o--", label="model (max over counter bits, reward)")
        ax.plot(w, r["rf_q"], "s-", label=r"$Q^*_0$ (full cube + action)")
        ax.plot(w, r["rf_slice"], "^-", label=r"$V^*_0$ slice")
        ax.plot(r["mlp_widths"], r["mlp_slice"], "k.:", label=r"trained MLP, $V^*_0$ slice")
        ax.set_xscale("log", base=2)
        ax.set_title(f"{key}, n={r['n']} (N={r['N']})", fontsize=9)
        ax.set_xlabel("width")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("relative MSE (random ReLU features)")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    for ext in ("pdf", "png"):
        fig.savefig(out / f"error_vs_capacity.{ext}", dpi=150)
    plt.close(fig)


def plot_circuits(res: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for i, (key, rows) in enumerate(res.items()):
        n = [r["n"] for r in rows]
        ax.plot(n, [r["total_size"] for r in rows], "o--", color=f"C{i}", label=f"{key}: model circuit size")
        ax.plot(n, [r["value_min_dnf_terms"] for r in rows], "s-", color=f"C{i}", label=f"{key}: min DNF of $V^*$")
    ax.set_yscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("gates / terms")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    fig.tight_layout()
    for ext in ("pdf", "png"):
        fig.savefig(out / f"circuit_size.{ext}", dpi=150)
    plt.close(fig)


def _f(v, fmt="{:.3f}"):
    if v is None:
        return "-"
    if isinstance(v, float) and np.isnan(v):
        return "nan"
    return fmt.format(v) if isinstance(v, float) else str(v)


def write_markdown(res: dict, out: Path) -> None:
    lines = ["# Representation complexity: model vs optimal value (exact, on the whole cube)", "",
             "Model = transition bits (max over the non-constant bits, N + 1 input bits with the action) and",
             "the last-stage reward: r(s,a) with the action bit, and r(s,1) = the bet's payoff as a function",
             "of the state (closed forms in proofs_notes/circuit_complexity.md §3). Q* = Q*_0 on N + 1 bits; V* slice =",
             "V*_0 on the n register bits with accumulator 0. tail(k) = W^{>k}/Var; DT = exact",
             "decision-tree depth (inputs <= 13 bits). rho-err = relative error of the best degree-3",
             "approximation under the optimal policy's visitation (inputs with <= 1024 basis functions).",
             "'-' = probe skipped for at least one row of the group (too many inputs).", "",
             "## Model vs Q*", "",
             "| family | n | N | trans. deg | trans. I/Var | r(s,1) deg | r(s,1) I/Var | r(s,a) deg | r(s,a) I/Var "
             "| Q* deg | Q* tail(1) | Q* tail(3) | Q* I/Var | Q* sens. | model DT | Q* DT | model rho-err | Q* rho-err |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, rows in res["measures"].items():
        for r in rows:
            lines.append(
                f"| {key} | {r['n']} | {r['N']} | {r['trans_degree']} | {_f(r['trans_ivar'])} | {r['bet_degree']} | "
                f"{_f(r['bet_ivar'])} | {r['reward_degree']} | {_f(r['reward_ivar'])} | {r['q_degree']} | "
                f"{_f(r['q_tail1'])} | {_f(r['q_tail3'])} | {_f(r['q_ivar'])} | {r['q_sensitivity']} | "
                f"{_f(r['model_dt'])} | {_f(r['q_dt'])} | {_f(r['model_weighted'], '{:.1e}')} | "
                f"{_f(r['q_weighted'])} |")
    lines += ["", "## Optimal value on the slice (and the full cube)", "",
              "| family | n | V* slice deg | tail(1) | tail(3) | I/Var | sqrt(2n/pi) | ratio | sens. | DT "
              "| min DNF terms | full V* deg | full V* I/Var |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, rows in res["measures"].items():
        for r in rows:
            lines.append(
                f"| {key} | {r['n']} | {r['slice_degree']} | {_f(r['slice_tail1'])} | {_f(r['slice_tail3'])} | "
                f"{_f(r['slice_ivar'])} | {r['sqrt_2n_over_pi']:.3f} | {r['slice_ivar'] / r['sqrt_2n_over_pi']:.3f} | "
                f"{r['slice_sensitivity']} | {_f(r['slice_dt'])} | {r['slice_min_dnf_terms']} | {r['v_degree']} | "
                f"{_f(r['v_ivar'])} |")
    lines += ["", "## Cost of building and solving exactly (time and peak traced numpy memory)", "",
              "| family | n | N | H | build s | build peak MiB | solve s | solve peak MiB |", "|---|---|---|---|---|---|---|---|"]
    for key, rows in res["measures"].items():
        for r in rows:
            lines.append(f"| {key} | {r['n']} | {r['N']} | {r['H']} | {r['build_seconds']:.3f} | "
                         f"{r['build_peak_mib']:.0f} | {r['solve_seconds']:.3f} | {r['solve_peak_mib']:.0f} |")
    lines += ["", "## Relative MSE vs width (random ReLU features, mean of seeds)", ""]
    for key, r in res["capacity"].items():
        lines.append(f"**{key}, n = {r['n']}** widths {r['widths']}")
        lines.append(f"- model (max over accumulator bits and reward): {[round(v, 3) for v in r['rf_model_max']]}")
        lines.append(f"- Q*_0: {[round(v, 3) for v in r['rf_q']]}")
        lines.append(f"- V*_0 slice: {[round(v, 3) for v in r['rf_slice']]}")
        lines.append(f"- trained MLP on V*_0 slice, widths {r['mlp_widths']}: {[float(f'{v:.2e}') for v in r['mlp_slice']]}")
        if r["mlp_model_bit"] is not None:
            lines.append(f"- trained MLP on the hardest transition bit: {[float(f'{v:.2e}') for v in r['mlp_model_bit']]}")
        lines.append("")
    lines += ["## Explicit model circuits (depth / size) vs minimum DNF of V*", "",
              "| family | n | transition depth | reward depth | model size | max support | verified | min DNF terms of V* |",
              "|---|---|---|---|---|---|---|---|"]
    for key, rows in res["circuits"].items():
        for r in rows:
            lines.append(f"| {key} | {r['n']} | {r['transition_depth']} | {r['reward_depth']} | {r['total_size']} | "
                         f"{r['max_support']} | {_f(r['verified'])} | {r['value_min_dnf_terms']} |")
    lines += ["", f"Total time {res['seconds']:.0f} s."]
    (out / "results.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="output directory for figures and tables")
    ap.add_argument("--quick", action="store_true", help="small n range (about 20 s)")
    ap.add_argument("--seeds", type=int, default=5, help="random-feature seeds (default 5)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    limiter = _blas_single_thread()
    t0 = time.perf_counter()
    if args.quick:
        ns = {"parity": range(4, 11, 2), "maj-thermo": range(4, 9, 2), "maj-binary": range(4, 11, 2)}
        n_fixed = {"parity": 8, "maj-thermo": 5, "maj-binary": 8}
        widths = (2, 8, 32, 128)
        mlp_widths = (2, 4, 8)
    else:
        ns = {"parity": range(4, 17), "maj-thermo": range(4, 11), "maj-binary": range(4, 17)}
        n_fixed = {"parity": 10, "maj-thermo": 6, "maj-binary": 9}
        widths = (2, 4, 8, 16, 32, 64, 128, 256, 512)
        mlp_widths = (2, 4, 8, 16)
    bitstring_family("majority", 2).solve()  # load / compile the numba kernel outside the timings
    print("measures vs n ...", flush=True)
    res = {"measures": measures_vs_n(ns)}
    print("error vs capacity ...", flush=True)
    res["capacity"] = error_vs_capacity(n_fixed, widths, mlp_widths, args.seeds)
    print("circuit sizes ...", flush=True)
    res["circuits"] = circuit_sizes(range(4, 17, 2) if not args.quick else range(4, 11, 2))
    res["seconds"] = time.perf_counter() - t0
    (args.out / "results.json").write_text(json.dumps(res, indent=1, default=float))
    write_markdown(res, args.out)
    plot_measures(res["measures"], args.out)
    plot_capacity(res["capacity"], args.out)
    plot_circuits(res["circuits"], args.out)
    del limiter
    print(f"done in {res['seconds']:.1f} s; wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()

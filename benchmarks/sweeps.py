"""Sweep machinery benchmark (issue 5 targets), measured side by side in one run.

1. Overhead: a study of 1,000 short records run by ``run_sweep`` (serial: scheduling,
   spawning nothing, hashing and atomic writes of every record) against the same
   (configuration, seed) computations done by a plain loop of ``mdptheory.regret.run``
   calls with nothing stored. Target: overhead < 5% of total time.
2. Scaling: records/s with 2 local worker processes (spawn) against 1 (serial).
   Target: >= 1.8x. (On a shared machine the second core may be busy; the script prints
   the load average next to the ratio.)
3. Record size for K = 1e5 episodes (compressed .npz). Target: < 1 MB.

Run:  MPLBACKEND=Agg python benchmarks/sweeps.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import textwrap
import time
from pathlib import Path

from mdptheory.sweeps import load_config, run_sweep

STUDY = """
[study]
name = "bench"
episodes = {K}
seeds = {n}

[[learners]]
name = "UCBVI"
params = {{ bonus = "bernstein", bonus_scale = 0.1 }}

[[learners]]
name = "OptimisticQLearning"
params = {{ bonus = "hoeffding", bonus_scale = 0.1 }}

[[mdps]]
family = "riverswim"
params = {{ horizon = 20 }}
grid = {{ n = [5, 6] }}

[outputs]
figures = []
"""


def study(tmp: Path, K: int, n: int, name: str):
    p = tmp / f"{name}.toml"
    p.write_text(textwrap.dedent(STUDY.format(K=K, n=n)))
    return load_config(p)


def plain_loop(st) -> float:
    from mdptheory.regret import run

    t = time.perf_counter()
    for c in st.configurations:
        for s in st.seeds:
            run(c.learner.build(), c.mdp.build(), c.episodes, [s], workers=1, progress=False)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller studies (smoke run)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mdpt_bench_"))
    try:
        # warm the numba cache so neither side pays compilation
        run_sweep(study(tmp, 50, 1, "warm"), tmp / "warm", workers=1, progress=False, log=None)

        n = 25 if a.quick else 250  # 4 configurations x n seeds = 1000 records
        reps = 1 if a.quick else 3
        for K in (1000, 5000):
            st = study(tmp, K, n, f"overhead{K}")
            plains, sweeps, inner = [], [], []
            for r in range(reps):  # alternate the two sides; keep the best of each (shared machine)
                plains.append(plain_loop(st))
                shutil.rmtree(tmp / f"ov{K}", ignore_errors=True)
                t0 = time.perf_counter()
                rep = run_sweep(st, tmp / f"ov{K}", workers=1, progress=False, log=None)
                sweeps.append(time.perf_counter() - t0)
                inner.append(1.0 - rep.compute_time / sweeps[-1])
            t_plain, t_sweep = min(plains), min(sweeps)
            print(f"[overhead] {rep.n_records} records of K={K} ({t_plain / rep.n_records * 1e3:.1f} ms compute each), "
                  f"best of {reps}: plain loop {t_plain:.2f}s, run_sweep serial {t_sweep:.2f}s -> overhead "
                  f"{(t_sweep - t_plain) / t_sweep:.1%} of total ({(t_sweep - t_plain) / rep.n_records * 1e3:.2f} ms/record); "
                  f"time outside the engine inside run_sweep: {min(inner):.1%}")

        n2 = 4 if a.quick else 16
        K2 = 20000
        st2 = study(tmp, K2, n2, "scaling")
        t0 = time.perf_counter()
        r1 = run_sweep(st2, tmp / "w1", workers=1, progress=False, log=None)
        t1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        r2 = run_sweep(st2, tmp / "w2", workers=2, progress=False, log=None)
        t2 = time.perf_counter() - t0
        print(f"[scaling] {r1.n_records} records of K={K2}: 1 worker {r1.n_records / t1:.2f} rec/s, "
              f"2 workers {r2.n_records / t2:.2f} rec/s -> {t1 / t2:.2f}x "
              f"(load average before: {os.getloadavg()[0]:.2f})")

        st3 = study(tmp, 100_000, 1, "size")
        run_sweep(st3, tmp / "size", workers=1, progress=False, log=None)
        sizes = {p.parent.name: p.stat().st_size for p in (tmp / "size" / "records").glob("*/seed_*.npz")}
        labels = {c.key: c.label for c in st3.configurations}
        for k, v in sizes.items():
            print(f"[size] K=1e5 record {labels[k]}: {v / 1e6:.3f} MB (pseudo_regret + returns, float64, compressed)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

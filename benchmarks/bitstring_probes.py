"""Side-by-side timings for the bit-string families and the Fourier probes.

* exact backward induction: dedicated numba kernel vs its numpy twin vs the generic CSR
  path of ``mdptheory.solve`` on the same EpisodicMDP;
* Walsh-Hadamard transform: numba FWHT vs the numpy twin vs a dense Hadamard product;
* exact decision-tree depth at N = 13 (3^13 subcubes) and memory of the largest solve.

    python benchmarks/bitstring_probes.py           # ~1-2 minutes on 2 shared cores
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg

import mdptheory
from mdptheory.envs import bitstring_family
from mdptheory.envs import backward_induction_bitstring_ref
from mdptheory.probes import decision_tree_depth, walsh_spectrum
from mdptheory.probes.fourier import fwht_ref


def best_of(fn, repeat=3):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main():
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover
        limiter = None
    print("== exact backward induction (majority bet) ==")
    print(f"{'family':28s} {'N':>3s} {'H':>3s} {'kernel s':>9s} {'numpy s':>9s} {'solve(CSR) s':>13s} "
          f"{'numpy/kernel':>13s} {'CSR/kernel':>11s}")
    cases = [("majority", 6, {}), ("majority", 8, {}), ("majority", 9, {}),
             ("majority", 10, {}), ("majority", 16, {"counter": "binary"})]
    for kind, n, kw in cases:
        f = bitstring_family(kind, n, **kw)
        f.solve()  # compile
        tk = best_of(f.solve)
        tn = best_of(lambda: backward_induction_bitstring_ref(f.next_state, f.rewards, f.reward_stage),
                     repeat=1 if f.N > 18 else 3)
        if f.N <= 18:
            mdp = f.to_mdp()
            mdptheory.solve(mdp)
            tc = best_of(lambda: mdptheory.solve(mdp))
            ctxt = f"{tc:13.4f}"
            rtxt = f"{tc / tk:11.1f}"
        else:
            ctxt, rtxt = f"{'(skipped)':>13s}", f"{'-':>11s}"
        label = f"{kind}/{f.counter} n={n}"
        print(f"{label:28s} {f.N:3d} {f.H:3d} {tk:9.4f} {tn:9.4f} {ctxt} {tn / tk:13.1f} {rtxt}")
    f = bitstring_family("majority", 16, counter="binary")
    mem = (8 * (f.H + 1) * f.S + f.H * f.S + f.next_state.nbytes + f.rewards.nbytes) / 2**20
    print(f"memory of the N = 21 solve (V + policy + tables): {mem:.0f} MiB")

    print("\n== Walsh-Hadamard transform ==")
    print(f"{'N':>3s} {'numba s':>9s} {'numpy s':>9s} {'dense s':>9s} {'numpy/numba':>12s} {'dense/numba':>12s}")
    rng = np.random.default_rng(0)
    for N in (10, 12, 16, 20):
        v = rng.normal(size=1 << N)
        walsh_spectrum(v)
        tf = best_of(lambda: walsh_spectrum(v))
        tr = best_of(lambda: fwht_ref(v))
        if N <= 12:
            Hm = scipy.linalg.hadamard(1 << N).astype(float)
            td = best_of(lambda: Hm @ v)
            dtxt, drat = f"{td:9.4f}", f"{td / tf:12.1f}"
        else:
            dtxt, drat = f"{'-':>9s}", f"{'-':>12s}"
        print(f"{N:3d} {tf:9.5f} {tr:9.5f} {dtxt} {tr / tf:12.1f} {drat}")

    print("\n== exact decision-tree depth ==")
    for N in (10, 13):
        pc = np.array([bin(x).count("1") for x in range(1 << N)])
        maj = (pc >= N // 2).astype(float)
        decision_tree_depth(maj[: 1 << 4])
        t = best_of(lambda: decision_tree_depth(maj), repeat=1)
        print(f"N = {N}: {3 ** N} subcubes, depth {decision_tree_depth(maj)}, {t:.2f} s")
    del limiter


if __name__ == "__main__":
    main()

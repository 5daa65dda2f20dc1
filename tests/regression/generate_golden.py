"""Store the golden arrays of :mod:`golden_cases` (run from the repository root):

    python tests/regression/generate_golden.py

Only rerun this when a change is *meant* to alter behaviour, and say why in the commit.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import golden_cases as gc  # noqa: E402


def main() -> None:
    regret = {}
    skipped = []
    for key, make, mdp, seed, backend in gc.regret_cases():
        arr = gc.run_case(make, mdp, seed, backend)
        if isinstance(arr, str):
            skipped.append(f"{key}: {arr}")
            continue
        regret[key] = arr
    np.savez_compressed(HERE / "golden_regret.npz", **regret)
    solutions = {}
    for name, mdp, method, kw in gc.solver_corpus():
        for field, arr in gc.solve_case(mdp, method, kw).items():
            solutions[f"{name}/{method}/{field}"] = arr
    np.savez_compressed(HERE / "golden_solutions.npz", **solutions)
    print(f"{len(regret)} regret traces, {len(solutions)} solution arrays")
    print("refused by the learner:", *skipped, sep="\n  ")


if __name__ == "__main__":
    main()

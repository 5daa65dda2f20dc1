"""Behaviour preservation: every learner's regret trace on three fixed (instance, seed)
pairs and the solutions of a solver corpus are bit-identical to the stored arrays
(``golden_*.npz``, written by ``generate_golden.py`` before a refactor).

A failure here means a change altered what the package computes; if that was the intent,
regenerate the arrays and say why in the commit message."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import golden_cases as gc  # noqa: E402

_REGRET = np.load(HERE / "golden_regret.npz")
_SOLUTIONS = np.load(HERE / "golden_solutions.npz")
_CASES = list(gc.regret_cases())


def test_golden_files_cover_every_case():
    stored = set(_REGRET.files)
    expected = {key for key, *_ in _CASES}
    assert stored == expected
    assert len({f.rsplit("/", 1)[0] for f in _SOLUTIONS.files}) == len(gc.solver_corpus())


@pytest.mark.parametrize("key,make,mdp,seed,backend", _CASES, ids=[c[0] for c in _CASES])
def test_regret_trace_bit_identical(key, make, mdp, seed, backend):
    got = gc.run_case(make, mdp, seed, backend)
    assert not isinstance(got, str), got
    np.testing.assert_array_equal(got, _REGRET[key])


@pytest.mark.parametrize("name,mdp,method,kw", gc.solver_corpus(),
                         ids=[f"{c[0]}-{c[2]}" for c in gc.solver_corpus()])
def test_solution_bit_identical(name, mdp, method, kw):
    got = gc.solve_case(mdp, method, kw)
    for field, arr in got.items():
        np.testing.assert_array_equal(arr, _SOLUTIONS[f"{name}/{method}/{field}"], err_msg=field)

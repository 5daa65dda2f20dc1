"""Explicit Boolean circuits: every family circuit equals its MDP's arrays on all inputs,
depth is constant in n, and the depth-2 (DNF) facts used for the value functions are
checked against brute force on small n."""

from itertools import combinations, product
from math import comb

import numpy as np
import pytest

from mdptheory.envs import CircuitBuilder, bitstring_family
from mdptheory.envs import family_circuit
from mdptheory.probes import canonical_dnf, circuit_growth, is_monotone, minimal_true_points, monotone_dnf

FAMILIES = [
    ("parity", {}),
    ("majority", {}),
    ("majority", {"counter": "binary"}),
    ("majority", {"counter": "binary", "theta": 3}),
    ("collect", {"kappa": 0.3}),
    ("collect", {"counter": "binary"}),
    ("local-threshold", {"feature": [0, 1, 1, 0]}),
    ("local-threshold", {"feature": [0, 0, 0, 1, 0, 1, 1, 1], "counter": "binary"}),
]


@pytest.mark.parametrize("kind,kw", FAMILIES)
@pytest.mark.parametrize("n", [3, 4, 6])
def test_circuit_equals_arrays_on_all_inputs(kind, kw, n):
    f = bitstring_family(kind, n, **kw)
    C = f.circuit
    assert C.n_inputs == f.N + 1
    # packed full-cube evaluation vs the arrays
    tt = C.evaluate([f"s'[{j}]" for j in range(f.N)])
    np.testing.assert_array_equal(tt, f.transition_bits())
    for k in range(f.rewards.shape[0]):
        np.testing.assert_array_equal(f.circuit_reward(k), f.rewards[k].ravel())
    assert f.verify_circuits()
    # point-wise (unpacked) evaluation agrees with the packed one
    pts = np.random.default_rng(n).integers(0, 1 << C.n_inputs, size=50)
    np.testing.assert_array_equal(C.evaluate(inputs=pts), C.evaluate()[:, pts])


@pytest.mark.parametrize("kind,n,kw", [("parity", 15, {}), ("majority", 8, {}), ("majority", 12, {"counter": "binary"}),
                                       ("collect", 12, {"counter": "binary", "kappa": 0.1}),
                                       ("local-threshold", 8, {"feature": [0, 1, 1, 1, 0, 0, 0, 1]})])
def test_circuit_equals_arrays_at_sixteen_state_bits(kind, n, kw):
    """Every output on all 2^17 inputs, at the largest N the study's circuit table verifies."""
    f = bitstring_family(kind, n, **kw)
    assert f.N == 16
    np.testing.assert_array_equal(f.circuit.evaluate([f"s'[{j}]" for j in range(f.N)]), f.transition_bits())
    for k in range(f.rewards.shape[0]):
        np.testing.assert_array_equal(f.circuit_reward(k), f.rewards[k].ravel())


def test_circuit_structure_is_validated():
    from mdptheory.envs import Circuit

    ok = Circuit(2, (("in", (0,)), ("in", (1,)), ("and", (0, 1))), (("f", 2),))
    assert ok.truth_table("f").tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match=r"gates\[2\].*earlier node"):
        Circuit(2, (("in", (0,)), ("in", (1,)), ("and", (0, 2))), (("f", 2),))
    with pytest.raises(ValueError, match=r"gates\[0\].*0 <= i < 2"):
        Circuit(2, (("in", (2,)),), (("f", 0),))
    with pytest.raises(ValueError, match=r"gates\[0\].*op in"):
        Circuit(2, (("xor", (0, 1)),), (("f", 0),))
    with pytest.raises(ValueError, match=r"gates\[1\].*exactly one child"):
        Circuit(2, (("in", (0,)), ("not", (0, 0))), (("f", 1),))
    with pytest.raises(ValueError, match=r"outputs\[1\].*used twice"):
        Circuit(2, (("in", (0,)),), (("f", 0), ("f", 0)))
    with pytest.raises(ValueError, match=r"outputs\[0\].*node must be in \[0, 1\)"):
        Circuit(2, (("in", (0,)),), (("f", 5),))
    with pytest.raises(ValueError, match=r"inputs\[1\] = 4"):
        ok.evaluate(inputs=np.array([0, 4]))
    b = CircuitBuilder(2)
    with pytest.raises(ValueError, match=r"table\[3\] = 2"):
        b.dnf([0, 1, 1, 2], [b.input(0), b.input(1)])
    stats = family_circuit("majority", 4).summary()
    assert stats[0].name == "s'[0]" and stats[0].depth == 0 and stats[0].support_size == 1
    top = [st for st in stats if st.name == "s'[7]"][0]  # t'_4 = t_4 v (t_3 ^ x_1)
    assert (top.depth, top.size, top.support_size) == (2, 2, 3)


def test_verify_detects_a_wrong_circuit():
    f = bitstring_family("majority", 4)
    b = CircuitBuilder(f.N + 1)
    for j in range(f.N):
        b.output(f"s'[{j}]", b.input(j))  # identity map: wrong
    b.output("r:win", b.const(0))
    b.output("r:lose", b.const(0))
    import dataclasses
    bad = dataclasses.replace(f, circuit=b.build())
    assert not bad.verify_circuits()


@pytest.mark.parametrize("kind,kw,depth", [("parity", {}, 2), ("majority", {}, 2),
                                           ("majority", {"counter": "binary"}, 4), ("collect", {}, 3)])
def test_depth_constant_size_polynomial(kind, kw, depth):
    rows = circuit_growth(kind, [4, 8, 16, 32, 128], verify_max_bits=12, **kw)
    assert all(r.transition_depth == depth for r in rows)
    assert all(r.verified in (True, None) for r in rows) and any(r.verified for r in rows)
    for r in rows:
        assert r.total_size <= 4 * r.N + 20  # linear in the number of bits
        if kw.get("counter") == "binary":
            assert r.max_support == r.N - r.n + 1  # the top counter bit reads all m bits and x1
        else:
            assert r.max_support <= 4  # NC0: constant fan-in


def test_family_circuit_same_as_family():
    f = bitstring_family("majority", 5, counter="binary")
    C = family_circuit("majority", 5, counter="binary")
    assert C.gates == f.circuit.gates and C.outputs == f.circuit.outputs


def test_builder_basics_and_validation():
    b = CircuitBuilder(3)
    x = [b.input(i) for i in range(3)]
    xo = b.XOR(x[0], x[1])
    b.output("xor", xo)
    b.output("and3", b.AND(x[0], x[1], x[2]))
    assert b.AND(x[0], x[1]) == b.AND(x[1], x[0])  # structural hashing
    assert b.NOT(b.NOT(x[2])) == x[2]
    assert b.OR(x[1]) == x[1]
    C = b.build()
    z = np.arange(8)
    np.testing.assert_array_equal(C.truth_table("xor"), (z & 1) ^ ((z >> 1) & 1))
    np.testing.assert_array_equal(C.truth_table("and3"), (z == 7).astype(int))
    assert C.depth("xor") == 2 and C.size("xor") == 3 and C.n_not("xor") == 2
    assert C.support("xor") == (0, 1)
    with pytest.raises(ValueError, match="input index i = 3"):
        b.input(3)
    with pytest.raises(ValueError, match="already used"):
        b.output("xor", x[0])
    with pytest.raises(ValueError, match="node = 99"):
        b.AND(x[0], 99)
    with pytest.raises(KeyError, match="'nope'"):
        C.depth("nope")
    with pytest.raises(ValueError, match="inputs must lie"):
        C.evaluate(inputs=np.array([8]))
    with pytest.raises(ValueError, match="node = 99"):
        b.dnf([0, 1], [99])


# ---------------------------------------------------------------------------------------
# Depth-2 facts about the value functions
# ---------------------------------------------------------------------------------------

def popcounts(n):
    return np.array([bin(x).count("1") for x in range(1 << n)])


def test_dnf_sizes_of_parity_and_threshold():
    for n in (3, 5, 7):
        par = (popcounts(n) % 2).astype(float)
        C = canonical_dnf(par)
        np.testing.assert_array_equal(C.truth_table("f"), par)
        assert C.size() == 2 ** (n - 1) + 1 and C.depth() == 2
        assert not is_monotone(par)
        with pytest.raises(ValueError, match="not a monotone"):
            monotone_dnf(par)
        theta = (n + 1) // 2
        thr = (popcounts(n) >= theta).astype(float)
        M = monotone_dnf(thr)
        np.testing.assert_array_equal(M.truth_table("f"), thr)
        assert M.size() == comb(n, theta) + 1
        assert len(minimal_true_points(thr)) == comb(n, theta)


def all_terms(n):
    """Every conjunction of literals on n variables as (pos_mask, neg_mask)."""
    return [(sum(1 << i for i in range(n) if c[i] == 1), sum(1 << i for i in range(n) if c[i] == 2))
            for c in product(range(3), repeat=n)]


def term_table(n, pos, neg):
    x = np.arange(1 << n)
    return ((x & pos) == pos) & ((x & neg) == 0)


@pytest.mark.parametrize("which", ["parity", "majority"])
def test_minimum_dnf_by_brute_force(which):
    """No DNF with fewer terms exists (n = 3): independent check of the two depth-2 facts."""
    n = 3
    pc = popcounts(n)
    f = (pc % 2 == 1) if which == "parity" else (pc >= 2)
    need = 4 if which == "parity" else 3  # 2^(n-1) and C(3, 2)
    tables = [term_table(n, p, q) for p, q in all_terms(n)]
    implicants = [t for t in tables if not (t & ~f).any() and t.any()]
    for r in range(1, need):
        for combo in combinations(implicants, r):
            assert not np.array_equal(np.logical_or.reduce(combo), f)
    # and the constructions achieve `need`
    C = canonical_dnf(f.astype(float)) if which == "parity" else monotone_dnf(f.astype(float))
    assert C.size() - 1 == need

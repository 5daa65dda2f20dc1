"""Fourier / influence / decision-tree probes: compiled kernels vs numpy twins, FWHT vs a
dense Hadamard product (scipy.linalg.hadamard), closed forms from O'Donnell (2014), and the
reference numbers of proofs_notes/circuit_complexity.md §3 on the bit-string families."""

from math import comb, pi, sqrt

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import mdptheory.probes as probes
from mdptheory.envs import bitstring_family
from mdptheory.probes import (
    decision_tree_depth,
    degree_profile,
    total_influence,
    walsh_spectrum,
)
from mdptheory.probes.fourier import (
    decision_tree_depth_ref,
    fwht,
    fwht_ref,
    influences,
    influences_ref,
    inverse_walsh,
    low_degree_error,
    sensitivity,
    sensitivity_ref,
)


def popcount(x):
    return bin(int(x)).count("1")


def cube(N):
    return np.arange(1 << N)


def weights_of(N):
    return np.array([popcount(x) for x in cube(N)])


# ---------------------------------------------------------------------------------------
# FWHT
# ---------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(N=st.integers(0, 10), seed=st.integers(0, 2**32 - 1))
def test_fwht_matches_dense_hadamard_and_twin(N, seed):
    v = np.random.default_rng(seed).normal(size=1 << N)
    Hm = scipy.linalg.hadamard(1 << N)  # Sylvester: H[S, x] = (-1)^{popcount(S & x)}
    dense = Hm @ v / (1 << N)
    np.testing.assert_allclose(walsh_spectrum(v), dense, atol=1e-12)
    a = v.copy()
    fwht(a)
    np.testing.assert_allclose(a, fwht_ref(v), atol=1e-12)
    np.testing.assert_allclose(inverse_walsh(walsh_spectrum(v)), v, atol=1e-12)
    # Parseval
    assert np.sum(walsh_spectrum(v) ** 2) == pytest.approx(np.mean(v ** 2), rel=1e-12)


@pytest.mark.parametrize("N", range(0, 11))
def test_fwht_equals_scipy_hadamard_every_N_up_to_10(N):
    """Deterministic sweep of every N <= 10 (the hypothesis test above samples N)."""
    rng = np.random.default_rng(100 + N)
    v = rng.normal(size=1 << N)
    Hm = scipy.linalg.hadamard(1 << N).astype(float)  # independent oracle (Sylvester order)
    np.testing.assert_allclose(walsh_spectrum(v), Hm @ v / (1 << N), rtol=0, atol=1e-13)
    a = v.copy()
    fwht(a)
    np.testing.assert_allclose(a, Hm @ v, rtol=0, atol=1e-11)
    np.testing.assert_allclose(fwht_ref(v), Hm @ v, rtol=0, atol=1e-11)
    # a 0/1 input: integer sums, so the compiled transform is exact
    b = rng.integers(0, 2, 1 << N).astype(float)
    c = b.copy()
    fwht(c)
    np.testing.assert_array_equal(c, Hm @ b)


def test_probe_argument_validation():
    v = np.zeros(8)
    with pytest.raises(ValueError, match="tol = -1"):
        decision_tree_depth(v, tol=-1)
    with pytest.raises(ValueError, match="tol = nan"):
        sensitivity(v, tol=float("nan"))
    with pytest.raises(ValueError, match="k = -1"):
        probes.spectral_tail(v, -1)
    with pytest.raises(ValueError, match="k = 4"):
        low_degree_error(v, 4)
    with pytest.raises(ValueError, match=r"weights\[2\] = -1.0"):
        low_degree_error(v, 1, weights=np.array([1.0, 1, -1, 1, 1, 1, 1, 1]))
    with pytest.raises(ValueError, match="weights has length 4"):
        low_degree_error(v, 1, weights=np.ones(4))


def test_known_spectra():
    N = 5
    x = cube(N)
    # parity (+-1) is the single character chi_{[N]}
    par = np.array([(-1) ** popcount(v) for v in x], dtype=float)
    c = walsh_spectrum(par)
    assert c[(1 << N) - 1] == pytest.approx(1.0) and np.abs(np.delete(c, -1)).max() < 1e-15
    # dictator x_3 (0/1): 1/2 - chi_{3}/2
    dic = ((x >> 3) & 1).astype(float)
    c = walsh_spectrum(dic)
    assert c[0] == 0.5 and c[1 << 3] == -0.5 and np.count_nonzero(np.abs(c) > 1e-15) == 2
    # AND (0/1): coef[S] = (-1)^{|S|} 2^{-N}
    andf = (x == (1 << N) - 1).astype(float)
    np.testing.assert_allclose(walsh_spectrum(andf), (-1.0) ** weights_of(N) / 2 ** N)


def krawtchouk_profile(n, theta):
    """Degree profile of f(x) = 1[|x| >= theta] in closed form: for |S| = k,
    coef(S) = 2^-n sum_w f(w) K_k(w) with the Krawtchouk sum
    K_k(w) = sum_{|x| = w} chi_S(x) = sum_j (-1)^j C(k, j) C(n - k, w - j)."""
    W = np.zeros(n + 1)
    for k in range(n + 1):
        coef = 0.0
        for w in range(theta, n + 1):
            coef += sum((-1) ** j * comb(k, j) * comb(n - k, w - j) for j in range(0, min(k, w) + 1))
        coef /= 2 ** n
        W[k] = comb(n, k) * coef ** 2
    return W


@pytest.mark.parametrize("n,theta", [(5, 3), (6, 3), (7, 2)])
def test_threshold_profile_matches_krawtchouk(n, theta):
    v = np.array([1.0 if popcount(x) >= theta else 0.0 for x in cube(n)])
    prof = degree_profile(v)
    np.testing.assert_allclose(np.asarray(prof), krawtchouk_profile(n, theta), atol=1e-12)
    assert len(prof) == n + 1 and prof[0] == pytest.approx(v.mean() ** 2)
    assert prof.variance == pytest.approx(v.var())
    assert prof.tail(0) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------
# Influence and sensitivity
# ---------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 9), seed=st.integers(0, 2**32 - 1), boolean=st.booleans())
def test_influence_spectral_equals_direct(N, seed, boolean):
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 2, 1 << N).astype(float) if boolean else rng.normal(size=1 << N)
    infl = influences(v)
    np.testing.assert_allclose(infl, influences_ref(v), atol=1e-12)
    assert total_influence(v) == pytest.approx(infl.sum(), rel=1e-10, abs=1e-12)
    assert sensitivity(v) == sensitivity_ref(v)


def test_influence_closed_forms():
    n = 7
    x = cube(n)
    par = np.array([(-1) ** popcount(v) for v in x], dtype=float)
    assert total_influence(par) == pytest.approx(n)
    assert sensitivity(par) == n
    # MAJ_n (+-1, odd n): I = n * C(n-1, (n-1)/2) / 2^(n-1); sensitivity (n+1)/2
    maj = np.array([1.0 if popcount(v) > n // 2 else -1.0 for v in x])
    assert total_influence(maj) == pytest.approx(n * comb(n - 1, (n - 1) // 2) / 2 ** (n - 1))
    assert sensitivity(maj) == (n + 1) // 2
    orf = (x > 0).astype(float)
    assert sensitivity(orf) == n


# ---------------------------------------------------------------------------------------
# Decision-tree depth
# ---------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(N=st.integers(0, 6), seed=st.integers(0, 2**32 - 1), density=st.floats(0.0, 1.0))
def test_decision_tree_kernel_matches_reference(N, seed, density):
    rng = np.random.default_rng(seed)
    v = (rng.random(1 << N) < density).astype(float)
    assert decision_tree_depth(v) == decision_tree_depth_ref(v)
    w = rng.integers(0, 3, 1 << N).astype(float)  # real-valued, three levels
    assert decision_tree_depth(w) == decision_tree_depth_ref(w)


def test_decision_tree_known_depths():
    for N in (1, 4, 7):
        x = cube(N)
        assert decision_tree_depth((np.array([popcount(v) for v in x]) % 2).astype(float)) == N
        assert decision_tree_depth((x == (1 << N) - 1).astype(float)) == N
        assert decision_tree_depth(np.zeros(1 << N)) == 0
        assert decision_tree_depth((x & 1).astype(float)) == 1
    # address function (multiplexer) with 2 address bits and 4 data bits: depth 3 < 6
    x = cube(6)
    mux = ((x >> (2 + (x & 3))) & 1).astype(float)
    assert decision_tree_depth(mux) == 3
    with pytest.raises(ValueError, match="N <= 14"):
        decision_tree_depth(np.zeros(1 << 15))


# ---------------------------------------------------------------------------------------
# Best degree-k approximation
# ---------------------------------------------------------------------------------------

def direct_weighted_fit(v, rho, k):
    N = v.size.bit_length() - 1
    x = cube(N)
    cols = [S for S in x if popcount(S) <= k]
    Phi = np.array([[(-1) ** popcount(xx & S) for S in cols] for xx in x], dtype=float)
    sw = np.sqrt(rho)
    c, *_ = np.linalg.lstsq(Phi * sw[:, None], v * sw, rcond=None)
    r = v - Phi @ c
    mean = rho @ v
    return rho @ r ** 2, rho @ (v - mean) ** 2


@settings(max_examples=20, deadline=None)
@given(N=st.integers(2, 6), k=st.integers(0, 3), seed=st.integers(0, 2**32 - 1), sparse=st.booleans())
def test_weighted_low_degree_matches_direct_lstsq(N, k, seed, sparse):
    k = min(k, N)
    rng = np.random.default_rng(seed)
    v = rng.normal(size=1 << N)
    rho = rng.random(1 << N)
    if sparse:
        rho[rng.random(1 << N) < 0.6] = 0.0
        rho[0] += 0.1
    rho /= rho.sum()
    fit = low_degree_error(v, k, weights=rho)
    mse, var = direct_weighted_fit(v, rho, k)
    assert fit.mse == pytest.approx(mse, rel=1e-8, abs=1e-12)
    assert fit.variance == pytest.approx(var, rel=1e-10)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_uniform_low_degree_is_fourier_truncation(k):
    v = np.random.default_rng(3).normal(size=1 << 6)
    uni = low_degree_error(v, k)
    wls = low_degree_error(v, k, weights=np.ones(1 << 6))
    prof = degree_profile(v)
    assert uni.mse == pytest.approx(prof.weights[k + 1:].sum(), rel=1e-12)
    assert uni.relative_mse == pytest.approx(prof.tail(k), rel=1e-12)
    assert wls.mse == pytest.approx(uni.mse, rel=1e-9)
    np.testing.assert_allclose(wls.coef, uni.coef, atol=1e-10)


# ---------------------------------------------------------------------------------------
# Reference values (proofs_notes/circuit_complexity.md §3) on the families
# ---------------------------------------------------------------------------------------

def model_stats(f):
    degs, ratios = [], []
    for row in f.transition_bits():
        p = degree_profile(row)
        if p.variance > 0:
            degs.append(p.degree)
            ratios.append(total_influence(row) / p.variance)
    r1 = f.reward_table()[f.S:]  # last-stage reward with a = 1, a function of the state
    pr = degree_profile(r1)
    return max(degs), max(ratios), pr.degree, total_influence(r1) / pr.variance


@pytest.mark.parametrize("kind,n", [("parity", 4), ("parity", 6), ("parity", 8),
                                    ("majority", 3), ("majority", 5), ("majority", 7)])
def test_model_low_degree_low_influence_uniformly_in_n(kind, n):
    f = bitstring_family(kind, n)
    deg, ratio, rdeg, rratio = model_stats(f)
    assert deg <= 3 and rdeg <= 3
    assert ratio <= 2 + 1e-12 and rratio <= 2 + 1e-12
    # exact values of the reference table: parity 2 / 2.00; thermometer 3 / 4/3
    if kind == "parity":
        assert (deg, rdeg) == (2, 2) and ratio == pytest.approx(2.0) and rratio == pytest.approx(2.0)
    else:
        assert (deg, rdeg) == (3, 3) and ratio == pytest.approx(4 / 3) and rratio == pytest.approx(4 / 3)


@pytest.mark.parametrize("n,deg,ratio", [(8, 5, 2.07), (12, 5, 2.07)])
def test_binary_counter_model_reference(n, deg, ratio):
    f = bitstring_family("majority", n, counter="binary")
    d, r, _, _ = model_stats(f)
    assert d == deg and r == pytest.approx(ratio, abs=0.005)


@pytest.mark.parametrize("n,tail1,tail3,ivar,full_ivar",
                         [(6, 0.351, 0.199, 2.08, 3.00), (8, 0.354, 0.215, 2.36, 3.61),
                          (10, 0.355, 0.224, 2.62, 4.22)])
def test_majority_slice_reference_numbers(n, tail1, tail3, ivar, full_ivar):
    f = bitstring_family("majority", n)  # thermometer, theta = n/2
    sol = f.solve()
    sl = sol.slice_values()
    prof = degree_profile(sl)
    assert prof.degree == n
    assert prof.tail(1) == pytest.approx(tail1, abs=6e-4)
    assert prof.tail(3) == pytest.approx(tail3, abs=6e-4)
    iv = total_influence(sl) / prof.variance
    assert iv == pytest.approx(ivar, abs=6e-3)
    assert 1.0 < iv / sqrt(2 * n / pi) < 1.1
    full = sol.V[0]
    assert total_influence(full) / degree_profile(full).variance == pytest.approx(full_ivar, abs=6e-3)


def test_majority_influence_grows_like_sqrt_n():
    vals = []
    for n in (6, 8, 10, 12):
        sl = bitstring_family("majority", n, counter="binary").solve().slice_values()
        vals.append(total_influence(sl) / degree_profile(sl).variance)
    assert np.all(np.diff(vals) > 0)
    ratios = [v / sqrt(2 * n / pi) for v, n in zip(vals, (6, 8, 10, 12))]
    assert max(ratios) - min(ratios) < 0.05  # I/Var ~ c sqrt(2n/pi)


@pytest.mark.parametrize("n", [3, 5, 8])
def test_parity_value_all_weight_at_top_degree(n):
    f = bitstring_family("parity", n)
    sol = f.solve()
    sl = sol.slice_values()
    prof = degree_profile(sl)
    assert prof.degree == n
    np.testing.assert_allclose(prof.normalized[n], 1.0)
    np.testing.assert_allclose(prof.tails()[:n], 1.0)
    assert total_influence(sl) / prof.variance == pytest.approx(n)
    assert decision_tree_depth(sl) == n
    full = degree_profile(sol.V[0])
    assert full.degree == n + 1 and full.normalized[n + 1] == pytest.approx(1.0)


@pytest.mark.parametrize("kind,n,kw", [("majority", 6, {}), ("majority", 7, {"counter": "binary"}),
                                       ("parity", 7, {})])
def test_decision_tree_depths_on_families(kind, n, kw):
    f = bitstring_family(kind, n, **kw)
    assert decision_tree_depth(f.solve().slice_values()) == n  # evasive
    bound = 3 if f.counter != "binary" else f.m + 1
    for row in f.transition_bits():
        if f.N + 1 <= 13:
            assert decision_tree_depth(row) <= bound


def test_public_names_exported():
    for name in ("walsh_spectrum", "degree_profile", "total_influence", "decision_tree_depth"):
        assert callable(getattr(probes, name))


@pytest.mark.parametrize("bad,match", [(np.zeros(3), "length 2\\*\\*N"), (np.zeros((2, 2)), "1-d"),
                                       (np.array([0.0, np.nan]), r"values\[1\] = nan"),
                                       (np.array(["a", "b"]), "numeric")])
def test_probe_validation(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        walsh_spectrum(bad)


def test_degree_profile_is_an_array():
    n = 5
    par = np.array([popcount(x) % 2 for x in cube(n)], dtype=float)
    prof = degree_profile(par)
    assert isinstance(prof, np.ndarray) and prof.shape == (n + 1,)
    share = prof / prof[1:].sum()  # plain arithmetic works; parity: all variance at degree n
    assert type(share) is np.ndarray and share[n] == pytest.approx(1.0)
    assert prof.sum() == pytest.approx(np.mean(par ** 2))  # Parseval
    with pytest.raises(ValueError):
        prof[0] = 1.0  # read-only

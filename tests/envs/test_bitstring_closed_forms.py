"""Reference numbers (proofs_notes/circuit_complexity.md §3) recomputed from closed forms, independently of
the probes (exact rational arithmetic), and the probes checked against those closed forms.

Closed forms used (derivations in proofs_notes/circuit_complexity.md §3):

* threshold f = 1[|x| >= theta] on n bits, p = P[f = 1]:
  - Var f = p (1 - p);
  - Fourier weight at degree k from Krawtchouk sums,
    f^(S) = 2^-n sum_{w >= theta} sum_j (-1)^j C(k, j) C(n - k, w - j)   (|S| = k);
  - W^{=1} = n C(n-1, theta-1)^2 / 4^n (a second, direct formula);
  - I(f) = n C(n-1, theta-1) / 2^(n+1) (Inf_i = P[i pivotal] / 4);
* thermometer counter bit t_j v (t_{j-1} ^ x_1): degree 3, I/Var = 4/3; parity bit t xor x_1:
  degree 2, I/Var = 2; the last-stage reward with the action bit, a (2g - 1): degree deg(g) + 1,
  I/Var = (2 I(+-g) + 1) / (4 Var) = 56/31 (thermometer) and 5/2 (parity).
"""

from fractions import Fraction
from math import comb, pi, sqrt

import numpy as np
import pytest

from mdptheory.envs import bitstring_family
from mdptheory.probes import degree_profile, total_influence


# ---------------------------------------------------------------------------------------
# closed forms (exact)
# ---------------------------------------------------------------------------------------

def thr_p(n, theta):
    return Fraction(sum(comb(n, w) for w in range(theta, n + 1)), 2 ** n)


def thr_weights(n, theta):
    """Exact W^{=k}, k = 0..n, of 1[|x| >= theta] via Krawtchouk sums."""
    W = []
    for k in range(n + 1):
        c = sum((-1) ** j * comb(k, j) * comb(n - k, w - j)
                for w in range(theta, n + 1) for j in range(0, min(k, w) + 1))
        W.append(comb(n, k) * Fraction(c, 2 ** n) ** 2)
    return W


def thr_tail(n, theta, k):
    W = thr_weights(n, theta)
    p = thr_p(n, theta)
    return sum(W[k + 1:]) / (p * (1 - p))


def thr_influence(n, theta):
    return Fraction(n * comb(n - 1, theta - 1), 2 ** (n + 1))


def thr_ivar(n, theta):
    p = thr_p(n, theta)
    return thr_influence(n, theta) / (p * (1 - p))


@pytest.mark.parametrize("n", [3, 6, 7, 10])
def test_closed_forms_agree_with_each_other(n):
    theta = (n + 1) // 2
    W = thr_weights(n, theta)
    p = thr_p(n, theta)
    assert W[0] == p ** 2 and sum(W[1:]) == p * (1 - p)  # Parseval
    assert W[1] == n * Fraction(comb(n - 1, theta - 1) ** 2, 4 ** n)
    assert sum(k * w for k, w in enumerate(W)) == thr_influence(n, theta)


# reference table (proofs_notes/circuit_complexity.md §3): slice V*_1 of the thermometer majority bet
NOTES = {6: (0.351, 0.199, 2.08), 8: (0.354, 0.215, 2.36), 10: (0.355, 0.224, 2.62)}


@pytest.mark.parametrize("n", sorted(NOTES))
def test_notes_majority_numbers_follow_from_closed_forms(n):
    """0.351 / 0.354 / 0.355 etc. are the closed forms rounded; not produced by the probe."""
    theta = n // 2  # theta = n/2 = ceil(n/2) for even n
    t1, t3, iv = NOTES[n]
    assert round(float(thr_tail(n, theta, 1)), 3) == t1
    assert round(float(thr_tail(n, theta, 3)), 3) == t3
    assert round(float(thr_ivar(n, theta)), 2) == iv


@pytest.mark.parametrize("n,counter", [(6, "thermometer"), (8, "thermometer"), (10, "thermometer"),
                                       (9, "binary"), (12, "binary"), (14, "binary")])
def test_probes_on_solved_slice_equal_closed_forms(n, counter):
    f = bitstring_family("majority", n, counter=counter)
    theta = f.theta
    sl = f.solve().slice_values()
    prof = degree_profile(sl)
    W = thr_weights(n, theta)
    np.testing.assert_allclose(np.asarray(prof), [float(w) for w in W], rtol=1e-10, atol=1e-15)
    for k in (1, 3):
        assert prof.tail(k) == pytest.approx(float(thr_tail(n, theta, k)), rel=1e-10)
    assert total_influence(sl) / prof.variance == pytest.approx(float(thr_ivar(n, theta)), rel=1e-10)
    assert prof.degree == n


def test_influence_over_variance_grows_like_sqrt_2n_over_pi():
    """Closed form: (I/Var) / sqrt(2n/pi) decreases to 1 (about 1 + 0.39/n)."""
    ns = [6, 8, 10, 12, 16, 32, 100, 1000, 4000]
    ratios = [float(thr_ivar(n, (n + 1) // 2)) / sqrt(2 * n / pi) for n in ns]
    assert all(b < a for a, b in zip(ratios, ratios[1:]))
    assert abs(ratios[-1] - 1) < 2e-4 and abs(ratios[-2] - 1) < 1e-3
    for n, r in zip(ns, ratios):
        assert 0.3 < (r - 1) * n < 0.6  # 1 + O(1/n)


# ---------------------------------------------------------------------------------------
# model side: closed forms, every n
# ---------------------------------------------------------------------------------------

def model_rows(f):
    """(degree, I/Var) of every non-constant transition bit, the reward with the action
    bit, and the reward of action 1 as a function of the state."""
    out = []
    for row in f.transition_bits():
        p = degree_profile(row)
        if p.variance > 0:
            out.append(("bit", p.degree, total_influence(row) / p.variance))
    for name, vals in (("r(s,a)", f.reward_table()), ("r(s,1)", f.reward_table()[f.S:])):
        p = degree_profile(vals)
        out.append((name, p.degree, total_influence(vals) / p.variance))
    return out


@pytest.mark.parametrize("n", [2, 4, 7, 9])
def test_thermometer_model_closed_forms(n):
    f = bitstring_family("majority", n)
    rows = model_rows(f)
    bits = [r for r in rows if r[0] == "bit"]
    # register bits are dictators (deg 1, I/Var 1); t'_1 = t_1 v x_1 (deg 2); t'_j (deg 3)
    assert {(d, round(v, 12)) for _, d, v in bits} == {(1, 1.0), (2, round(4 / 3, 12)), (3, round(4 / 3, 12))}
    r_sa = [r for r in rows if r[0] == "r(s,a)"][0]
    r_s1 = [r for r in rows if r[0] == "r(s,1)"][0]
    g_deg = 2 if f.theta == 1 else 3
    assert r_s1[1] == g_deg and r_s1[2] == pytest.approx(4 / 3, rel=1e-12)
    assert r_sa[1] == g_deg + 1
    if g_deg == 3:
        assert r_sa[2] == pytest.approx(56 / 31, rel=1e-12)
    # the model criterion (reward of the bet a = 1): degree <= 3 and I/Var <= 2
    assert max(d for name, d, _ in rows if name != "r(s,a)") <= 3
    assert max(v for name, _, v in rows if name != "r(s,a)") <= 2


@pytest.mark.parametrize("n", [1, 3, 8, 16])
def test_parity_model_closed_forms(n):
    f = bitstring_family("parity", n)
    rows = dict(((name, d), v) for name, d, v in model_rows(f) if name != "bit")
    bits = [(d, v) for name, d, v in model_rows(f) if name == "bit"]
    assert max(d for d, _ in bits) == 2 and max(v for _, v in bits) == pytest.approx(2.0)
    assert rows[("r(s,1)", 2)] == pytest.approx(2.0)
    assert rows[("r(s,a)", 3)] == pytest.approx(2.5)


# ---------------------------------------------------------------------------------------
# the largest exact solve: N = 21 (binary counter, n = 16)
# ---------------------------------------------------------------------------------------

def test_exact_solve_at_N21_matches_closed_form():
    f = bitstring_family("majority", 16, counter="binary")
    assert (f.N, f.H, f.theta) == (21, 16, 8)
    sol = f.solve()
    n, m = f.n, f.m
    x = np.arange(1 << n)
    w = np.array([bin(v).count("1") for v in x])
    np.testing.assert_array_equal(sol.slice_values(), (w >= 8).astype(float))
    # every counter value c (saturating at 2^m - 1): V*_0(x, c) = 1[min(c + |x|, 2^m - 1) >= theta]
    for c in range(1 << m):
        cnt = np.minimum(c + w, (1 << m) - 1) if c < (1 << m) - 1 else np.full_like(w, c)
        np.testing.assert_array_equal(sol.V[0, x | (c << n)], (cnt >= 8).astype(float))
    iv = total_influence(sol.slice_values()) / degree_profile(sol.slice_values()).variance
    assert iv == pytest.approx(float(thr_ivar(16, 8)), rel=1e-10)
    assert iv == pytest.approx(3.27, abs=5e-3)  # reference table
    # the counter bits: degree 6 and I/Var about 2.06 at n = 16 (reference table)
    degs, ratios = [], []
    for j in range(n, f.N):
        row = f.transition_bit(j)
        p = degree_profile(row)
        degs.append(p.degree)
        ratios.append(total_influence(row) / p.variance)
    assert max(degs) == 6 and max(ratios) == pytest.approx(2.06, abs=5e-3)

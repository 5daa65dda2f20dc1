"""Bit-string MDP families: arrays vs an independent bit-by-bit re-implementation of the
rules (proofs_notes/circuit_complexity.md §1), exact values vs closed forms, the dedicated
numba backward induction vs its numpy twin and vs mdptheory.solve, and validation."""


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdptheory
from mdptheory.core import EpisodicMDP
from mdptheory.envs import (
    BitstringMDP,
    ExactValues,
    backward_induction_bitstring,
    backward_induction_bitstring_ref,
    bitstring_family,
    collect_bet,
    exact_backward_induction,
    local_threshold_bet,
    majority_bet,
    parity_bet,
)


# ---------------------------------------------------------------------------------------
# An independent, deliberately naive re-implementation of the rules (lists of bits)
# ---------------------------------------------------------------------------------------

def bits(s, N):
    return [(s >> j) & 1 for j in range(N)]


def from_bits(b):
    return sum(v << j for j, v in enumerate(b))


def naive_step(kind, n, m, counter, theta, kappa, g, k, s, a, last):
    b = bits(s, n + m)
    x, t = b[:n], b[n:]
    if kind == "local-threshold":
        window = x[:k]
        inc = g[from_bits(window)]
    elif kind == "collect":
        inc = x[0] & a
    else:
        inc = x[0]
    x_new = x[1:] + [0]
    if kind == "parity":
        t_new = [t[0] ^ inc]
        ge = t_new[0]
    elif counter == "thermometer":
        # t_j' = t_j or (t_{j-1} and inc), t_0 = 1   (t[0] is t_1)
        t_new = [t[j] | ((1 if j == 0 else t[j - 1]) & inc) for j in range(m)]
        ge = t_new[theta - 1]
    else:
        c = from_bits(t)
        c_new = c if c == 2 ** m - 1 else c + inc
        t_new = bits(c_new, m)
        ge = int(c_new >= theta)
    s_new = from_bits(x_new + t_new)
    if kind == "collect":
        r = (ge if last else 0) - kappa * a
    else:
        r = a * (2 * ge - 1) if last else 0
    return s_new, r


CASES = [
    ("parity", 3, {}),
    ("parity", 4, {}),
    ("majority", 3, {}),
    ("majority", 4, {"theta": 3}),
    ("majority", 5, {"counter": "binary"}),
    ("majority", 6, {"counter": "binary", "theta": 4}),
    ("collect", 4, {"kappa": 0.25}),
    ("collect", 5, {"counter": "binary", "theta": 2}),
    ("local-threshold", 4, {"feature": [0, 0, 0, 1]}),
    ("local-threshold", 5, {"feature": [0, 1, 1, 0, 1, 0, 0, 1], "counter": "binary", "theta": 2}),
]


@pytest.mark.parametrize("kind,n,kw", CASES)
def test_arrays_match_naive_rules(kind, n, kw):
    f = bitstring_family(kind, n, **kw)
    m = f.m
    g = kw.get("feature")
    k = (len(g).bit_length() - 1) if g is not None else 1
    for s in range(f.S):
        for a in range(2):
            for h in range(f.H):
                s_new, r = naive_step(kind, n, m, f.counter, f.theta, kw.get("kappa", 0.0), g, k, s, a, h == f.H - 1)
                assert f.next_state[a, s] == s_new
                assert f.rewards[f.reward_stage[h], a, s] == pytest.approx(r, abs=0)


@pytest.mark.parametrize("kind,n,kw", CASES)
def test_exact_solver_matches_core_solve_and_twin(kind, n, kw):
    f = bitstring_family(kind, n, **kw)
    sol = f.solve()
    ref = backward_induction_bitstring_ref(f.next_state, f.rewards, f.reward_stage)
    assert isinstance(ref, ExactValues)
    np.testing.assert_array_equal(sol.V, ref.V)
    np.testing.assert_array_equal(sol.policy, ref.policy)
    mdp = f.to_mdp()
    core = mdptheory.solve(mdp)
    np.testing.assert_allclose(core.V, sol.V, atol=1e-12)
    for h in range(f.H):
        np.testing.assert_allclose(core.Q[h], sol.Q(h), atol=1e-12)
    # the dense generic kernel too (small N only)
    dense = mdptheory.solve(mdp.to_dense())
    np.testing.assert_allclose(dense.V, sol.V, atol=1e-12)
    # the optimal policy achieves V*
    V_pi = mdptheory.evaluate(mdp, sol.policy.astype(np.int64))
    np.testing.assert_allclose(V_pi, sol.V, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    N=st.integers(1, 6), A=st.integers(1, 3), H=st.integers(1, 5), K=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernel_twin_random_deterministic_mdps(N, A, H, K, seed):
    rng = np.random.default_rng(seed)
    S = 1 << N
    nxt = rng.integers(0, S, size=(A, S))
    R = rng.integers(-3, 4, size=(K, A, S)).astype(float)  # integers: exact ties are exercised
    stage = rng.integers(0, K, size=H)
    V = np.empty((H + 1, S))
    pi = np.empty((H, S), dtype=np.int8)
    backward_induction_bitstring(nxt, R, stage, V, pi)
    ref = backward_induction_bitstring_ref(nxt, R, stage)
    np.testing.assert_array_equal(V, ref.V)
    np.testing.assert_array_equal(pi, ref.policy)
    wrapped = exact_backward_induction(nxt, R, stage)
    np.testing.assert_array_equal(wrapped.V, V)
    np.testing.assert_array_equal(wrapped.policy, pi)
    # against the core solver on the equivalent EpisodicMDP (dense P)
    P = np.zeros((S, A, S))
    P[np.arange(S)[None, :], np.arange(A)[:, None], nxt] = 1.0
    Rh = R[stage].transpose(0, 2, 1)
    core = mdptheory.solve(EpisodicMDP(P, Rh, H, 0))
    np.testing.assert_allclose(core.V, V, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Closed forms of the optimal values
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 3, 6])
def test_parity_value_is_parity_of_all_bits(n):
    mdp = parity_bet(n)
    V0 = mdp.solve_exact().V[0]
    s = np.arange(1 << (n + 1))
    par = np.array([bin(v).count("1") % 2 for v in s])
    np.testing.assert_array_equal(V0, par)


@pytest.mark.parametrize("n,theta", [(4, 2), (5, 3), (5, 1), (6, 6)])
def test_majority_thermometer_value_on_valid_codes(n, theta):
    f = bitstring_family("majority", n, theta=theta)
    V0 = f.solve().V[0]
    for c in range(n + 1):
        code = (1 << c) - 1  # thermometer code of count c
        for x in range(1 << n):
            want = 1.0 if c + bin(x).count("1") >= theta else 0.0
            assert V0[x | (code << n)] == want


@pytest.mark.parametrize("n", [3, 5, 7])
def test_majority_binary_value_all_states(n):
    f = bitstring_family("majority", n, counter="binary")
    m = f.m
    V0 = f.solve().V[0]
    for c in range(1 << m):
        for x in range(1 << n):
            cnt = min(c + bin(x).count("1"), (1 << m) - 1) if c < (1 << m) - 1 else c
            assert V0[x | (c << n)] == (1.0 if cnt >= f.theta else 0.0)


def test_collect_q_star_formula_kappa_zero():
    n, theta = 5, 3
    f = bitstring_family("collect", n, theta=theta)
    sol = f.solve()
    for h in range(f.H):
        Q = sol.Q(h)
        for c in range(n + 1):
            code = (1 << c) - 1
            for x in range(1 << n):
                xb = bits(x, n)
                rest = sum(xb[1:f.H - h])
                for a in range(2):
                    want = 1.0 if c + a * xb[0] + rest >= theta else 0.0
                    assert Q[x | (code << n), a] == want, (h, c, x, a)


def test_collect_with_cost_collects_only_needed_bits():
    # with kappa > 0 the optimal value on the slice is 1 - kappa*theta when reachable
    n, theta, kappa = 5, 2, 0.1
    f = bitstring_family("collect", n, theta=theta, kappa=kappa)
    V = f.solve().slice_values()
    for x in range(1 << n):
        want = 1 - kappa * theta if bin(x).count("1") >= theta else 0.0
        assert V[x] == pytest.approx(want, abs=1e-12)


def test_local_threshold_value_is_threshold_of_window_counts():
    n, g = 6, np.array([0, 0, 0, 1])  # g = x_i and x_{i+1}
    f = bitstring_family("local-threshold", n, feature=g, theta=2)
    V = f.solve().slice_values()
    for x in range(1 << n):
        xb = bits(x, n) + [0]
        cnt = sum(xb[i] & xb[i + 1] for i in range(n))
        assert V[x] == (1.0 if cnt >= 2 else 0.0)
    # feature = x_1 recovers the majority family exactly
    a = bitstring_family("local-threshold", 5, feature=[0, 1])
    b = bitstring_family("majority", 5)
    np.testing.assert_array_equal(a.next_state, b.next_state)
    np.testing.assert_array_equal(a.rewards, b.rewards)


# ---------------------------------------------------------------------------------------
# Core object, layout, validation
# ---------------------------------------------------------------------------------------

def test_families_return_core_objects_with_arrays():
    for mdp in (parity_bet(3), majority_bet(3), majority_bet(3, counter="binary"),
                collect_bet(3, kappa=0.5), local_threshold_bet(3, [0, 1, 1, 1])):
        assert isinstance(mdp, EpisodicMDP) and isinstance(mdp, BitstringMDP)
        assert mdp.is_sparse and mdp.S == 1 << mdp.N and mdp.A == 2 and mdp.H == mdp.n
        assert mdp.transition_bit(0).shape == (2 * mdp.S,)
        assert mdp.reward_table().shape == (2 * mdp.S,)
        np.testing.assert_allclose(mdp.initial[: 1 << mdp.n], 1.0 / (1 << mdp.n))
        assert mdp.initial[1 << mdp.n:].sum() == 0
        assert "kind=" in repr(mdp)
        # explicit accessors only: everything else is on .family
        np.testing.assert_array_equal(mdp.solve().V, mdp.family.solve().V)
        assert not hasattr(mdp, "circuit") and hasattr(mdp.family, "circuit")
    assert parity_bet(5).N == 6
    assert majority_bet(5).N == 10
    assert bitstring_family("majority", 16, counter="binary").N == 21


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: parity_bet(0), "n = 0"),
        (lambda: parity_bet(2.0), "n must be an integer"),
        (lambda: majority_bet(4, counter="unary"), "counter must be one of .*'unary'"),
        (lambda: majority_bet(4, theta=5), "theta = 5"),
        (lambda: majority_bet(4, theta=0), "theta = 0"),
        (lambda: collect_bet(4, kappa=-1), "kappa = -1"),
        (lambda: collect_bet(4, kappa="big"), "kappa must be a real number, got 'big'"),
        (lambda: local_threshold_bet(4, [0, 2]), r"feature\[1\] = 2"),
        (lambda: local_threshold_bet(4, [0, 1, 1]), "length 2\\*\\*k"),
        (lambda: local_threshold_bet(2, [0] * 7 + [1]), "k = 3"),
        (lambda: bitstring_family("xor", 3), "kind must be one of .*'xor'"),
        (lambda: bitstring_family("parity", 3, theta=2), "theta"),
    ],
)
def test_validation_messages(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_deterministic_and_readonly():
    a = bitstring_family("majority", 4)
    b = bitstring_family("majority", 4)
    np.testing.assert_array_equal(a.next_state, b.next_state)
    with pytest.raises(ValueError):
        a.next_state[0, 0] = 1


def test_visitation_matches_rollouts_and_weighted_fit_runs():
    from mdptheory.probes import low_degree_error

    f = bitstring_family("collect", 4, kappa=0.2, theta=2)
    sol = f.solve()
    for h in range(f.H + 1):
        d = sol.visitation(h)
        want = np.zeros(f.S)
        for x in range(1 << f.n):  # independent: roll out the policy state by state
            s = x
            for k in range(h):
                s = int(f.next_state[int(sol.policy[k, s]), s])
            want[s] += 1.0 / (1 << f.n)
        np.testing.assert_allclose(d, want, atol=1e-15)
    fit = low_degree_error(sol.V[2], 1, weights=sol.visitation(2))
    assert fit.weighted and fit.mse >= 0


@pytest.mark.parametrize(
    "nxt,R,stage,match",
    [
        (np.array([[0, 4, 1, 2]]), np.zeros((1, 1, 4)), np.array([0]), r"next_state\[0, 1\] = 4"),
        (np.array([[0, -1, 1, 2]]), np.zeros((1, 1, 4)), np.array([0]), r"next_state\[0, 1\] = -1"),
        (np.array([[0, 1, 1, 2]]), np.zeros((1, 2, 4)), np.array([0]), r"shape \(K, A, S\)"),
        (np.array([[0, 1, 1, 2]]), np.array([[[0.0, 0.0, np.nan, 0.0]]]), np.array([0]),
         r"rewards\[0, 0, 2\] = nan"),
        (np.array([[0, 1, 1, 2]]), np.zeros((1, 1, 4)), np.array([0, 1]), r"reward_stage\[1\] = 1"),
        (np.array([[0.0, 1, 1, 2]]), np.zeros((1, 1, 4)), np.array([0]), "integer array"),
    ],
)
def test_exact_solver_validation_names_index_and_value(nxt, R, stage, match):
    with pytest.raises(ValueError, match=match):
        exact_backward_induction(nxt, R, stage)
    with pytest.raises(ValueError, match=match):
        backward_induction_bitstring_ref(nxt, R, stage)


def test_solution_accessors_validate():
    sol = bitstring_family("majority", 3).solve()
    with pytest.raises(ValueError, match="stage h = 3"):
        sol.Q(3)
    with pytest.raises(TypeError, match="stage h must be an integer"):
        sol.Q(1.0)
    with pytest.raises(ValueError, match="stage h = 4"):
        sol.visitation(4)
    bad = sol.family.initial.copy()
    bad[5] = -0.5
    bad[0] += 0.5
    with pytest.raises(ValueError, match=r"initial\[5\] = -0.5"):
        sol.visitation(1, initial=bad)
    with pytest.raises(ValueError, match="sums to"):
        sol.visitation(1, initial=2 * sol.family.initial)
    with pytest.raises(ValueError, match="bit j = 6"):
        sol.family.transition_bit(6)
    with pytest.raises(ValueError, match="stage h = -1"):
        sol.family.reward_table(-1)

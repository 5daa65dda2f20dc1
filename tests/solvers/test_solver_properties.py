"""Property tests on random MDPs: methods agree within their certified bounds, the bound
really bounds the distance to the policy-iteration solution, dense == CSR, stage-dependent
episodic == the time-augmented stationary problem, evaluate(pi*) == V*, and every compiled
kernel equals its numpy twin."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mdptheory import DiscountedMDP, EpisodicMDP, evaluate, solve
from mdptheory.kernels import csr as kc
from mdptheory.kernels import dense as kd
from mdptheory.kernels import reference as ref

SET = settings(max_examples=25, deadline=None)


def random_mdp(seed, S, A, gamma, sparse_k=None):
    rng = np.random.default_rng(seed)
    if sparse_k is None:
        P = rng.dirichlet(np.ones(S) * 0.5, size=(S, A))
    else:
        P = np.zeros((S, A, S))
        for s in range(S):
            for a in range(A):
                idx = rng.choice(S, size=min(sparse_k, S), replace=False)
                P[s, a, idx] = rng.dirichlet(np.ones(len(idx)))
    R = rng.normal(size=(S, A))
    return DiscountedMDP(P, R, gamma)


mdps = st.builds(
    random_mdp,
    seed=st.integers(0, 10_000),
    S=st.integers(1, 12),
    A=st.integers(1, 4),
    gamma=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
    sparse_k=st.sampled_from([None, 1, 2, 3]),
)


@SET
@given(mdps, st.sampled_from([1e-4, 1e-8]))
def test_all_methods_agree_within_their_bounds(mdp, tol):
    exact = solve(mdp, method="pi", tol=1e-10)   # certifiable: above the round-off floor
    assert exact.converged
    for method in ["vi", "gs-vi", "mpi", "lp"]:
        sol = solve(mdp, method=method, tol=tol)
        assert sol.converged, (method, sol)
        assert sol.error_bound <= tol
        # the certified bound really bounds the distance to the PI solution
        err = np.max(np.abs(sol.V - exact.V))
        assert err <= sol.error_bound + 1e-9 * (1 + np.abs(exact.V).max()), (method, err, sol.error_bound)
        # greedy policies are near-optimal: V^pi >= V* - 2 gamma bound / (1 - gamma) - slack
        V_pi = evaluate(mdp, sol.policy)
        slack = 2 * (sol.error_bound + 1e-9) / max(1 - mdp.gamma, 1e-12)
        assert np.all(V_pi >= exact.V - slack)


@SET
@given(mdps)
def test_dense_equals_csr(mdp):
    sparse = mdp.to_sparse()
    for method in ["vi", "gs-vi", "pi", "mpi", "lp"]:
        a = solve(mdp, method=method, tol=1e-9)
        b = solve(sparse, method=method, tol=1e-9)
        np.testing.assert_allclose(a.V, b.V, atol=1e-8)
    pi = solve(mdp, method="pi").policy
    np.testing.assert_allclose(evaluate(mdp, pi), evaluate(sparse, pi), atol=1e-9)


@SET
@given(mdps)
def test_evaluate_optimal_policy_gives_V_star(mdp):
    sol = solve(mdp, method="mpi", tol=1e-10)
    V_pi = evaluate(mdp, sol.policy)
    # pi is greedy w.r.t. V with ||V - V*|| <= eps, so ||V^pi - V*|| <= 2 gamma eps / (1 - gamma)
    np.testing.assert_allclose(V_pi, sol.V, atol=2e-10 / (1 - mdp.gamma) + 1e-9)
    # stochastic policies: the uniform mixture of two deterministic ones is exact too
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(mdp.A), size=mdp.S)
    P = mdp.dense_P()
    P_pi = np.einsum("sa,sat->st", probs, P)
    R_pi = (probs * mdp.R).sum(1)
    direct = np.linalg.solve(np.eye(mdp.S) - mdp.gamma * P_pi, R_pi)
    np.testing.assert_allclose(evaluate(mdp, probs), direct, atol=1e-9)


def random_episodic(seed, S, A, H, stage):
    rng = np.random.default_rng(seed)
    shapeP = (H, S, A) if stage else (S, A)
    P = rng.dirichlet(np.ones(S), size=shapeP)
    R = rng.uniform(size=(H, S, A) if stage else (S, A))
    return EpisodicMDP(P, R, H, rng.dirichlet(np.ones(S)))


episodic = st.builds(random_episodic, seed=st.integers(0, 10_000), S=st.integers(1, 6),
                     A=st.integers(1, 3), H=st.integers(1, 5), stage=st.booleans())


def time_augmented(mdp: EpisodicMDP) -> EpisodicMDP:
    """Stationary MDP on states (h, s) plus an absorbing terminal state."""
    H, S, A = mdp.horizon, mdp.S, mdp.A
    n = H * S + 1
    P = np.zeros((n, A, n))
    R = np.zeros((n, A))
    P[n - 1, :, n - 1] = 1
    for h in range(H):
        Ph, Rh = mdp.P_by_stage()[h], mdp.R_by_stage()[h]
        for s in range(S):
            i = h * S + s
            R[i] = Rh[s]
            if h + 1 < H:
                P[i, :, (h + 1) * S:(h + 2) * S] = Ph[s]
            else:
                P[i, :, n - 1] = 1
    init = np.zeros(n)
    init[:S] = mdp.initial
    return EpisodicMDP(P, R, H, init)


@SET
@given(episodic)
def test_stage_dependent_equals_time_augmented_stationary(mdp):
    sol = solve(mdp)
    aug = solve(time_augmented(mdp))
    np.testing.assert_allclose(aug.V[0, : mdp.S], sol.V[0], atol=1e-12)
    for h in range(mdp.horizon):
        np.testing.assert_allclose(aug.V[h, h * mdp.S:(h + 1) * mdp.S], sol.V[h], atol=1e-12)
    # sparse twin and exact evaluation of pi*
    np.testing.assert_allclose(solve(mdp.to_sparse()).V, sol.V, atol=1e-12)
    np.testing.assert_allclose(evaluate(mdp, sol.policy), sol.V, atol=1e-12)
    np.testing.assert_allclose(evaluate(mdp.to_sparse(), sol.policy), sol.V, atol=1e-12)


@SET
@given(episodic)
def test_episodic_kernels_equal_reference(mdp):
    """``backward_induction_*`` and ``evaluate_episodic_*`` (dense and CSR) equal their twins."""
    P, R = np.asarray(mdp.P_by_stage()), np.asarray(mdp.R_by_stage())
    csr = mdp.to_sparse().P
    c = (csr.indptr, csr.indices, csr.data, mdp.S * mdp.A if mdp.stage_dependent_P else 0)
    probs = np.random.default_rng(1).dirichlet(np.ones(mdp.A), size=(mdp.horizon, mdp.S))
    for fn, args, twin in [(kd.backward_induction_dense, (mdp.P_by_stage(), mdp.R_by_stage()),
                            ref.backward_induction_dense_ref(P, R)),
                           (kc.backward_induction_csr, c + (mdp.R_by_stage(),),
                            ref.backward_induction_csr_ref(*c, R))]:
        V = np.empty((mdp.horizon + 1, mdp.S))
        Q = np.empty((mdp.horizon, mdp.S, mdp.A))
        pi = np.empty((mdp.horizon, mdp.S), dtype=np.int64)
        fn(*args, V, Q, pi)
        Vr, Qr, pir = twin
        np.testing.assert_allclose(V, Vr, atol=1e-12)
        np.testing.assert_allclose(Q, Qr, atol=1e-12)
        np.testing.assert_array_equal(pi, pir)
    for fn, args, twin in [(kd.evaluate_episodic_dense, (mdp.P_by_stage(), mdp.R_by_stage()),
                            ref.evaluate_episodic_dense_ref(P, R, probs)),
                           (kc.evaluate_episodic_csr, c + (mdp.R_by_stage(),),
                            ref.evaluate_episodic_csr_ref(*c, R, probs))]:
        Ve = np.empty((mdp.horizon + 1, mdp.S))
        fn(*args, probs, Ve)
        np.testing.assert_allclose(Ve, twin, atol=1e-12)


@SET
@given(mdps, st.integers(0, 1000))
def test_discounted_kernels_equal_reference(mdp, seed):
    """Every discounted kernel ``foo`` (and its serial build) equals its twin ``foo_ref``."""
    rng = np.random.default_rng(seed)
    V = rng.normal(size=mdp.S)
    P = mdp.dense_P()
    R, g = mdp.R, mdp.gamma
    csr = sp.csr_matrix(P.reshape(mdp.S * mdp.A, mdp.S))
    c = (csr.indptr, csr.indices, csr.data)
    for fns, twin in [((kd.bellman_max_dense, kd.bellman_max_dense_serial), ref.bellman_max_dense_ref(P, R, g, V)),
                      ((kc.bellman_max_csr, kc.bellman_max_csr_serial), ref.bellman_max_csr_ref(*c, R, g, V))]:
        args = (P, R, g) if fns[0] is kd.bellman_max_dense else c + (R, g)
        for fn in fns:
            out, pi = np.empty(mdp.S), np.empty(mdp.S, dtype=np.int64)
            fn(*args, V, out, pi)
            np.testing.assert_allclose(out, twin[0], atol=1e-12)
            np.testing.assert_array_equal(pi, twin[1])
    for fns, twin in [((kd.bellman_q_dense, kd.bellman_q_dense_serial), ref.bellman_q_dense_ref(P, R, g, V)),
                      ((kc.bellman_q_csr, kc.bellman_q_csr_serial), ref.bellman_q_csr_ref(*c, R, g, V))]:
        args = (P, R, g) if fns[0] is kd.bellman_q_dense else c + (R, g)
        for fn in fns:
            Q = np.empty((mdp.S, mdp.A))
            fn(*args, V, Q)
            np.testing.assert_allclose(Q, twin, atol=1e-12)
    act = rng.integers(0, mdp.A, size=mdp.S)
    for fns, twin in [((kd.policy_backup_dense, kd.policy_backup_dense_serial),
                       ref.policy_backup_dense_ref(P, R, g, act, V)),
                      ((kc.policy_backup_csr, kc.policy_backup_csr_serial), ref.policy_backup_csr_ref(*c, R, g, act, V))]:
        args = (P, R, g) if fns[0] is kd.policy_backup_dense else c + (R, g)
        for fn in fns:
            out = np.empty(mdp.S)
            fn(*args, act, V, out)
            np.testing.assert_allclose(out, twin, atol=1e-12)
    for fn, args, twin in [(kd.gs_sweep_dense, (P, R, g), ref.gs_sweep_dense_ref(P, R, g, V)),
                           (kc.gs_sweep_csr, c + (R, g), ref.gs_sweep_csr_ref(*c, R, g, V))]:
        W, pi = V.copy(), np.empty(mdp.S, dtype=np.int64)
        d = fn(*args, W, pi)
        np.testing.assert_allclose(W, twin[0], atol=1e-12)
        np.testing.assert_array_equal(pi, twin[1])
        assert abs(d - twin[2]) < 1e-12
    PV = (csr @ V)
    out, pi = np.empty(mdp.S), np.empty(mdp.S, dtype=np.int64)
    kd.greedy_from_products(PV, R, g, out, pi)
    Vr, pir = ref.greedy_from_products_ref(PV, R, g)
    np.testing.assert_allclose(out, Vr, atol=1e-12)
    np.testing.assert_array_equal(pi, pir)


def test_stream_sum_matches_numpy():
    X = np.random.default_rng(0).normal(size=(300, 70))
    assert abs(kd.stream_sum(X) - ref.stream_sum_ref(X)) < 1e-9


@SET
@given(mdps, st.integers(0, 1000))
def test_discounted_ops_all_paths_equal_reference(mdp, seed):
    """BLAS dense path, serial and threaded CSR paths, and the cached P_pi of policy backups
    (invalidated when the same action array is changed in place)."""
    from mdptheory.solvers._ops import DiscountedOps

    rng = np.random.default_rng(seed)
    V = rng.normal(size=mdp.S)
    P, R, g = mdp.dense_P(), np.asarray(mdp.R), mdp.gamma
    Vr, pir = ref.bellman_max_dense_ref(P, R, g, V)
    for m, par in [(mdp, None), (mdp.to_sparse(), False), (mdp.to_sparse(), True)]:
        ops = DiscountedOps(m, parallel=par)
        out, pi = np.empty(mdp.S), np.empty(mdp.S, dtype=np.int64)
        ops.tmax(V, out, pi)
        np.testing.assert_allclose(out, Vr, atol=1e-12)
        np.testing.assert_array_equal(pi, pir)
        Q = np.empty((mdp.S, mdp.A))
        ops.q(V, Q)
        np.testing.assert_allclose(Q, ref.bellman_q_dense_ref(P, R, g, V), atol=1e-12)
        act = rng.integers(0, mdp.A, size=mdp.S)
        for _ in range(2):
            ops.tpi(act, V, out)
            np.testing.assert_allclose(out, ref.policy_backup_dense_ref(P, R, g, act, V), atol=1e-12)
            act[:] = (act + 1) % mdp.A  # same array object, new policy


@SET
@given(mdps, st.integers(0, 1000))
def test_policy_row_gather_and_affine_matvec_equal_scipy(mdp, seed):
    """``gather_policy_rows_csr`` equals its twin, scipy's row selection ``P[s*A + pi(s)]``,
    and ``affine_matvec_csr`` (threaded and serial) equals its twin ``b + gamma * M @ V``."""
    rng = np.random.default_rng(seed)
    P = mdp.to_sparse().P
    pi = rng.integers(0, mdp.A, size=mdp.S)
    ptr, idx, dat = kc.gather_policy_rows_csr(P.indptr, P.indices, P.data, mdp.A, pi)
    for got, want in zip((ptr, idx, dat), ref.gather_policy_rows_csr_ref(P.indptr, P.indices, P.data, mdp.A, pi)):
        np.testing.assert_array_equal(got, want)
    V, b = rng.normal(size=mdp.S), rng.normal(size=mdp.S)
    for fn in (kc.affine_matvec_csr, kc.affine_matvec_csr_serial):
        out = np.empty(mdp.S)
        fn(ptr, idx, dat, b, mdp.gamma, V, out)
        np.testing.assert_allclose(out, ref.affine_matvec_csr_ref(ptr, idx, dat, b, mdp.gamma, V), atol=1e-12)


def test_greedy_from_products_ties_go_to_lowest_action():
    R = np.zeros((2, 3))
    PV = np.ones(6)
    V, pi = np.empty(2), np.empty(2, dtype=np.int64)
    kd.greedy_from_products(PV, R, 0.5, V, pi)
    np.testing.assert_array_equal(pi, [0, 0])
    np.testing.assert_allclose(V, [0.5, 0.5])

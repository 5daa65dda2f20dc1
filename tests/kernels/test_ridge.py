"""Ridge kernels: Sherman-Morrison step, quadratic forms and their downdate, the Cholesky SPD
inverse -- each against its numpy twin and against a direct LAPACK inverse; the linear learners'
statistics (fresh statistics, one weighted sample with its re-inversion guard, one episode's
samples with the quadratic forms, the targets and the observed next states) against their twins:
exactly where the float operations are the same (Gram matrices, targets, successor lists), to
round-off for the inverses and forms."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from mdptheory.kernels.ridge import (EXACT_ABOVE, REINVERT_EVERY, quad_forms, quad_forms_downdate,
                                     quad_forms_downdate_ref, quad_forms_ref, ridge_episode_update,
                                     ridge_episode_update_ref, ridge_reset, ridge_reset_ref, ridge_statistics,
                                     ridge_statistics_ref, sherman_morrison, sherman_morrison_ref, spd_inverse,
                                     spd_inverse_ref)


def _spd(rng, d):
    G = rng.normal(size=(d, d))
    return G @ G.T + 0.5 * np.eye(d)


@pytest.mark.parametrize("d", [1, 3, 7])
def test_sherman_morrison_and_forms(d):
    rng = np.random.default_rng(d)
    M = _spd(rng, d)
    Minv = np.linalg.inv(M)
    Minv = 0.5 * (Minv + Minv.T)
    x, w = rng.normal(size=d), 0.37
    Phi = rng.normal(size=(9, d))
    q0 = np.einsum("id,de,ie->i", Phi, Minv, Phi)
    want = np.linalg.inv(M + w * np.outer(x, x))
    ref, u_ref, den_ref = sherman_morrison_ref(Minv, x, w)
    got, u = Minv.copy(), np.empty(d)
    den = sherman_morrison(got, x, w, u)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(ref, want, rtol=1e-11, atol=1e-12)
    np.testing.assert_array_equal(got, got.T)                       # exactly symmetric
    assert den == pytest.approx(den_ref, rel=1e-13)
    assert den == pytest.approx(np.linalg.det(M + w * np.outer(x, x)) / np.linalg.det(M), rel=1e-10)
    q = q0.copy()
    quad_forms_downdate(q, Phi, u, w / den)
    np.testing.assert_allclose(q, quad_forms_downdate_ref(q0, Phi, u_ref, w / den_ref), rtol=1e-11)
    np.testing.assert_allclose(q, np.einsum("id,de,ie->i", Phi, want, Phi), rtol=1e-10, atol=1e-12)
    out = np.empty(9)
    quad_forms(want, Phi, out)
    np.testing.assert_allclose(out, quad_forms_ref(want, Phi), rtol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 6])
def test_spd_inverse(d):
    rng = np.random.default_rng(10 + d)
    M = _spd(rng, d)
    out = np.empty((d, d))
    spd_inverse(M, out)
    np.testing.assert_allclose(out, np.linalg.inv(M), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(out, spd_inverse_ref(M), rtol=1e-11, atol=1e-12)
    np.testing.assert_array_equal(out, out.T)
    with pytest.raises(ValueError, match="positive definite"):
        spd_inverse(-M, out)


def test_fresh_statistics():
    H, S, d, lam = 3, 4, 5, 0.7
    Lam, Linv = np.full((H, d, d), np.nan), np.full((H, d, d), np.nan)
    ridge_reset(lam, Lam, Linv)
    want = ridge_reset_ref(lam, H, d)
    np.testing.assert_array_equal(Lam, want[0])
    np.testing.assert_array_equal(Linv, want[1])
    for got, ref in zip(ridge_statistics(H, S, d, lam), ridge_statistics_ref(H, S, d, lam)):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)


@njit(cache=False)
def _ridge_episode_update_jit(phi, xs, acts, rs, Rk, observed, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, q):
    # the kernel is inlined into the loops: call it from a compiled caller, as they do
    ridge_episode_update(phi, xs, acts, rs, Rk, observed, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, q)


@pytest.mark.parametrize("observed", [0, 1])
@pytest.mark.parametrize("forms", [True, False])
def test_ridge_episode_update_equals_twin(observed, forms):
    rng = np.random.default_rng(3 + observed + 2 * forms)
    H, S, A, d, lam = 3, 5, 2, 4, 0.5
    phi = rng.dirichlet(np.ones(d), size=(H, S, A))
    phi[0, S - 1, A - 1] *= 40.0                                      # played once: a step with den > EXACT_ABOVE
    Rk = rng.uniform(size=(H, S, A))
    Lam, Linv, cvec, M, succ, nsucc, seen = ridge_statistics(H, S, d, lam)
    q = np.einsum("hsad,hsad->hsa", phi, phi) / lam if forms else np.empty((0, 0, 0))
    u, inv = np.empty(d), np.empty((d, d))
    exact_steps = 0
    for nupd in range(1, REINVERT_EVERY + 6):                        # through one periodic re-inversion
        xs = rng.integers(0, 2 if nupd < 5 else S - 1, size=H + 1)    # revisits and first visits
        acts = rng.integers(0, A, size=H)
        if nupd == 7:
            xs[0], acts[0] = S - 1, A - 1
            assert sherman_morrison_ref(Linv[0], phi[0, S - 1, A - 1], 1.0)[2] > EXACT_ABOVE
        rs = rng.uniform(size=H)
        before = [a.copy() for a in (Lam, Linv, cvec, M, succ, nsucc, q)]
        want = ridge_episode_update_ref(phi, xs, acts, rs, Rk, observed, nupd, *before[:6],
                                        q=before[6] if forms else None)
        _ridge_episode_update_jit(phi, xs, acts, rs, Rk, observed, nupd, Lam, Linv, cvec, M, succ, nsucc, seen, u, q)
        for got, ref in zip((Lam, cvec, M, succ, nsucc), (want[0], want[2], want[3], want[4], want[5])):
            np.testing.assert_array_equal(got, ref)                   # same operations: bit for bit
        np.testing.assert_allclose(Linv, want[1], rtol=1e-10, atol=1e-12)
        if forms:
            np.testing.assert_allclose(q, want[6], rtol=1e-10, atol=1e-12)
        else:
            assert q.shape == (0, 0, 0)
        for h in range(H):
            assert set(np.flatnonzero(seen[h])) == set(succ[h, :nsucc[h]])
            assert len(set(succ[h, :nsucc[h]])) == nsucc[h]
            # the re-inversion guard: exactly the Cholesky inverse of the Gram matrix at the
            # periodic step and at the cancelling one (stage 0, episode 7), else Sherman-Morrison
            spd_inverse(Lam[h], inv)
            exact = nupd % REINVERT_EVERY == 0 or (nupd == 7 and h == 0)
            assert np.array_equal(Linv[h], inv) == exact
            exact_steps += exact
            if forms and exact:
                qq = np.empty(S * A)
                quad_forms(inv, phi[h].reshape(S * A, d), qq)
                np.testing.assert_array_equal(q[h].reshape(-1), qq)
    assert exact_steps == H + 1
    # the statistics are those of the samples: Gram matrices and inverses, targets, forms
    np.testing.assert_allclose(Linv, np.linalg.inv(Lam), rtol=1e-9, atol=1e-11)
    if forms:
        np.testing.assert_allclose(q, np.einsum("hsad,hde,hsae->hsa", phi, Linv, phi), rtol=1e-9, atol=1e-11)

"""Ridge kernels: Sherman-Morrison step, quadratic forms and their downdate, the Cholesky SPD
inverse -- each against its numpy twin and against a direct LAPACK inverse."""

from __future__ import annotations

import numpy as np
import pytest

from mdptheory.kernels.ridge import (quad_forms, quad_forms_downdate, quad_forms_downdate_ref, quad_forms_ref,
                                     sherman_morrison, sherman_morrison_ref, spd_inverse, spd_inverse_ref)


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

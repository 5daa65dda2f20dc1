"""Every invalid input of the model constructors raises the right error with a message that
names the offending index and value; valid objects are immutable and zero-copy."""

import re

import numpy as np
import pytest
import scipy.sparse as sp

from mdptheory import DiscountedMDP, EpisodicMDP, evaluate, validate_policy


def small_arrays():
    P = np.array([[[0.5, 0.5], [0.0, 1.0]], [[0.8, 0.2], [0.1, 0.9]]])
    R = np.array([[5.0, 10.0], [-1.0, 2.0]])
    return P, R


# ---------------------------------------------------------------- shapes and types
def test_wrong_P_shape_names_expected_shape():
    P, R = small_arrays()
    with pytest.raises(ValueError, match=r"P must have shape \(S, A, S\) = \(2, 2, 2\).*\(2, 2, 3\)"):
        DiscountedMDP(np.zeros((2, 2, 3)), R, 0.9)


def test_wrong_R_ndim():
    P, _ = small_arrays()
    with pytest.raises(ValueError, match=r"R must have shape \(S, A\), got shape \(4,\)"):
        DiscountedMDP(P, np.zeros(4), 0.9)


def test_episodic_wrong_stage_R_shape():
    P, R = small_arrays()
    with pytest.raises(ValueError, match=r"H = 3, got \(2, 2, 2\)"):
        EpisodicMDP(P, np.zeros((2, 2, 2)), 3, 0)


def test_non_numeric_P_is_type_error():
    _, R = small_arrays()
    with pytest.raises(TypeError, match="P must be a numeric array"):
        DiscountedMDP(np.array([["a"] * 2] * 4, dtype=object).reshape(2, 2, 2), R, 0.9)


def test_sparse_wrong_shape():
    _, R = small_arrays()
    with pytest.raises(ValueError, match=r"sparse P must have shape \(4, 2\), got \(3, 2\)"):
        DiscountedMDP(sp.csr_matrix(np.ones((3, 2)) / 2), R, 0.9)


# ---------------------------------------------------------------- probabilities
def test_negative_probability_names_index_and_value():
    P, R = small_arrays()
    P[1, 0] = [1.1, -0.1]
    with pytest.raises(ValueError, match=re.escape("P[1, 0, 1] = -0.1") + ".*>= 0"):
        DiscountedMDP(P, R, 0.9)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_probability(bad):
    P, R = small_arrays()
    P[0, 1, 0] = bad
    with pytest.raises(ValueError, match=re.escape("P[0, 1, 0] = ") + ".*must be finite"):
        DiscountedMDP(P, R, 0.9)


def test_row_sum_off_names_pair_and_sum():
    P, R = small_arrays()
    P[1, 1] = [0.1, 0.87]
    with pytest.raises(ValueError, match=r"row \(s=1, a=1\) of P sums to 0\.97"):
        DiscountedMDP(P, R, 0.9)


def test_row_sum_within_1e10_is_accepted_but_1e9_is_not():
    P, R = small_arrays()
    P[0, 0] = [0.5, 0.5 + 5e-11]
    DiscountedMDP(P, R, 0.9)
    P[0, 0] = [0.5, 0.5 + 1e-9]
    with pytest.raises(ValueError, match=r"row \(s=0, a=0\)"):
        DiscountedMDP(P, R, 0.9)


def test_stage_dependent_row_sum_names_stage():
    P, R = small_arrays()
    P4 = np.stack([P, P, P])
    P4[2, 0, 1] = [0.3, 0.3]
    with pytest.raises(ValueError, match=r"row \(h=2, s=0, a=1\) of P sums to 0\.6"):
        EpisodicMDP(P4, R, 3, 0)


def test_sparse_row_sum_and_negative_name_pair():
    P, R = small_arrays()
    bad = P.copy()
    bad[1, 0] = [0.8, 0.1]
    with pytest.raises(ValueError, match=r"row \(s=1, a=0\) of P sums to 0\.9"):
        DiscountedMDP(sp.csr_matrix(bad.reshape(4, 2)), R, 0.9)
    bad = P.copy()
    bad[0, 1] = [-0.5, 1.5]
    with pytest.raises(ValueError, match=r"P\(s=0, a=1, s'=0\) = -0\.5"):
        DiscountedMDP(sp.csr_matrix(bad.reshape(4, 2)), R, 0.9)


def test_sparse_stage_dependent_row_names_stage():
    P, R = small_arrays()
    blocks = [sp.csr_matrix(P.reshape(4, 2)) for _ in range(2)]
    bad = P.copy()
    bad[1, 1] = [0.5, 0.4]
    blocks.append(sp.csr_matrix(bad.reshape(4, 2)))
    with pytest.raises(ValueError, match=r"row \(h=2, s=1, a=1\) of P sums to 0\.9"):
        EpisodicMDP(blocks, R, 3, 0)


def test_normalize_is_explicit():
    P, R = small_arrays()
    m = DiscountedMDP(P * 3.0, R, 0.9, normalize=True)
    np.testing.assert_allclose(m.P, P)


# ---------------------------------------------------------------- rewards, gamma, horizon
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_reward(bad):
    P, R = small_arrays()
    R[1, 0] = bad
    with pytest.raises(ValueError, match=re.escape("R[1, 0] = ") + ".*rewards must be finite"):
        DiscountedMDP(P, R, 0.9)


@pytest.mark.parametrize("g", [-0.1, 1.0, 1.5, np.nan])
def test_gamma_outside_unit_interval(g):
    P, R = small_arrays()
    with pytest.raises(ValueError, match=r"gamma = .* is outside \[0, 1\)"):
        DiscountedMDP(P, R, g)


def test_gamma_not_a_number():
    P, R = small_arrays()
    with pytest.raises(TypeError, match="gamma must be a number"):
        DiscountedMDP(P, R, "high")


@pytest.mark.parametrize("H", [0, -3])
def test_horizon_below_one(H):
    P, R = small_arrays()
    with pytest.raises(ValueError, match=f"horizon = {H} must be >= 1"):
        EpisodicMDP(P, R, H, 0)


def test_horizon_not_integer():
    P, R = small_arrays()
    with pytest.raises(TypeError, match="horizon must be an integer"):
        EpisodicMDP(P, R, 2.5, 0)


# ---------------------------------------------------------------- initial distribution
def test_initial_not_summing_to_one():
    P, R = small_arrays()
    with pytest.raises(ValueError, match=r"initial distribution sums to 0\.9"):
        DiscountedMDP(P, R, 0.9, initial=[0.4, 0.5])


def test_initial_negative_entry():
    P, R = small_arrays()
    with pytest.raises(ValueError, match=r"initial\[1\] = -0\.5"):
        DiscountedMDP(P, R, 0.9, initial=[1.5, -0.5])


def test_initial_state_out_of_range_and_wrong_shape():
    P, R = small_arrays()
    with pytest.raises(ValueError, match=r"initial state 5 is out of range \[0, 2\)"):
        EpisodicMDP(P, R, 2, 5)
    with pytest.raises(ValueError, match=r"shape \(2,\), got shape \(3,\)"):
        EpisodicMDP(P, R, 2, [0.2, 0.3, 0.5])


def test_episodic_needs_initial():
    P, R = small_arrays()
    with pytest.raises(ValueError, match="needs an initial state"):
        EpisodicMDP(P, R, 2, None)


# ---------------------------------------------------------------- policies
def test_policy_action_out_of_range():
    P, R = small_arrays()
    m = DiscountedMDP(P, R, 0.9)
    with pytest.raises(ValueError, match=r"policy\(s=1\) = 2 is not an action in \[0, 2\)"):
        evaluate(m, np.array([0, 2]))
    e = EpisodicMDP(P, R, 3, 0)
    with pytest.raises(ValueError, match=r"policy\(h=2, s=0\) = -1"):
        validate_policy(e, np.array([[0, 0], [1, 1], [-1, 0]]))


def test_stochastic_policy_bad_row():
    P, R = small_arrays()
    m = DiscountedMDP(P, R, 0.9)
    with pytest.raises(ValueError, match=r"policy row \(s=1\) sums to 0\.8"):
        evaluate(m, np.array([[0.5, 0.5], [0.4, 0.4]]))
    with pytest.raises(ValueError, match="stochastic policy must have shape"):
        evaluate(m, np.ones((3, 2)) / 2)


# ---------------------------------------------------------------- immutability, no copies
def test_objects_and_arrays_are_immutable():
    P, R = small_arrays()
    m = DiscountedMDP(P, R, 0.9)
    with pytest.raises(ValueError):
        m.P[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        m.R[0, 0] = 1.0
    with pytest.raises(AttributeError):
        m.gamma = 0.5
    e = EpisodicMDP(P, R, 2, 0).to_sparse()
    with pytest.raises(ValueError):
        e.P.data[0] = 0.3


def test_model_cannot_change_after_validation():
    """Editing the caller's arrays after building a model leaves the model (and any
    certificate computed from it) untouched: the default copies them."""
    P, R = small_arrays()
    init = np.array([0.5, 0.5])
    m = DiscountedMDP(P, R, 0.9, init)
    e = EpisodicMDP(P.copy(), R.copy(), 3, init)
    before = (m.P.copy(), m.R.copy(), m.initial.copy())
    P[0, 0, :] = [2.0, -1.0]
    R[:] = 7.0
    init[:] = [1.0, 0.0]
    np.testing.assert_array_equal(m.P, before[0])
    np.testing.assert_array_equal(m.R, before[1])
    np.testing.assert_array_equal(m.initial, before[2])
    assert not np.shares_memory(m.P, P) and not np.shares_memory(m.R, R)
    assert P.flags.writeable                       # the caller's own array is left alone
    for arr in (m.P, m.R, m.initial, e.P, e.R, e.initial):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[(0,) * arr.ndim] = 0.0
    # a model built from another model's (frozen) arrays shares them: no copy needed
    m2 = m.replace(gamma=0.5)
    assert np.shares_memory(m2.P, m.P) and np.shares_memory(m2.R, m.R)


def test_zero_copy_opt_in_keeps_a_read_only_view():
    P, R = small_arrays()
    m = DiscountedMDP(P, R, 0.9, copy=False)
    assert np.shares_memory(m.P, P) and not m.P.flags.writeable
    assert P.flags.writeable                       # the caller's array keeps its flags
    e = EpisodicMDP(P, R, 2, 0, copy=False)
    assert np.shares_memory(e.P, P)


def test_dense_sparse_round_trip():
    P, R = small_arrays()
    m = DiscountedMDP(P, R, 0.9)
    s = m.to_sparse()
    assert s.is_sparse and s.P.shape == (4, 2)
    np.testing.assert_array_equal(s.to_dense().P, P)
    e = EpisodicMDP(np.stack([P, P[::-1]]), np.stack([R, R]), 2, 0)
    np.testing.assert_array_equal(e.to_sparse().to_dense().P, e.P)


def test_model_built_from_another_models_sparse_P():
    """A validated model's CSR buffers are read-only: building a new model from them (directly
    or through ``replace``) must work and must leave the original untouched."""
    P = np.zeros((3, 2, 3))
    P[:, 0, 0] = 1.0
    P[:, 1, :] = [0.2, 0.3, 0.5]
    m = DiscountedMDP(P, np.ones((3, 2)), 0.9).to_sparse()
    before = m.P.toarray().copy()
    m2 = m.replace(R=np.zeros((3, 2)))
    m3 = DiscountedMDP(m.P, np.zeros((3, 2)), 0.5)
    e = EpisodicMDP(m.P, np.zeros((3, 2)), 4, 0)
    for other in (m2, m3, e):
        np.testing.assert_array_equal(other.P.toarray(), before)
        assert not other.P.data.flags.writeable
    np.testing.assert_array_equal(m.P.toarray(), before)

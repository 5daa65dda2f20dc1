"""Why MLP width does not separate MAJORITY (proofs_notes/circuit_complexity.md §7), on the
solved families: a symmetric optimal value g(|x|) is a scalar function of s = |x|, so the
breakpoint bounds of mdptheory.probes.width bound the width of a two-layer ReLU net in s.
MAJORITY needs width 2 for every n (the explicit construction ReLU(s - theta + 1) -
ReLU(s - theta)); PARITY needs width growing with n. Expected values are hand-derived: the
parity zig-zag has n - 1 interior slope changes, so the greedy disjoint-window bound is
ceil((n - 1) / 2) and the spline uses n units; the threshold has exactly two slope changes
(adjacent), so 1 <= width <= 2."""

from math import ceil

import numpy as np
import pytest

from mdptheory.envs import bitstring_family
from mdptheory.probes import breakpoint_lower_bound, interpolating_relu, width_bounds


def value_as_function_of_weight(f):
    """(s, g(s)) from the solved slice V*_0, checking that it depends on |x| only."""
    sl = f.solve().slice_values()
    w = np.array([bin(x).count("1") for x in range(sl.size)])
    g = np.array([sl[w == s][0] for s in range(f.n + 1)])
    np.testing.assert_array_equal(sl, g[w])  # symmetric
    return np.arange(f.n + 1, dtype=float), g


@pytest.mark.parametrize("n", [4, 7, 10, 13])
def test_majority_value_has_width_two_parity_width_grows(n):
    s, maj = value_as_function_of_weight(bitstring_family("majority", n, counter="binary"))
    wb = width_bounds(s, maj)
    assert (wb.lower, wb.upper) == (1, 2) and wb.max_interpolation_error < 1e-12
    s, par = value_as_function_of_weight(bitstring_family("parity", n))
    wb = width_bounds(s, par)
    assert wb.lower == ceil((n - 1) / 2) and wb.upper == n
    net = interpolating_relu(s, par)
    np.testing.assert_allclose(net(s), par, atol=1e-12)


def test_width_validation_names_index():
    with pytest.raises(ValueError, match=r"y\[1\] = nan"):
        breakpoint_lower_bound([0.0, 1.0, 2.0], [0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="repeated value 1.0"):
        breakpoint_lower_bound([0.0, 1.0, 1.0], [0.0, 1.0, 2.0])

r"""Width probes for two-layer ReLU networks on a scalar input.

A width-``w`` two-layer ReLU net :math:`g(x)=\sum_{j\le w}c_j\mathrm{ReLU}(\alpha_jx+b_j)+e`
is continuous and piecewise linear in :math:`x` with at most ``w`` breakpoints. Hence, for
data :math:`(x_i,y_i)` sorted by :math:`x`:

* **lower bound** (:func:`breakpoint_lower_bound`, exact, :math:`O(n\log n)`): every window
  :math:`(x_i,x_{i+2})` whose two secant slopes differ must contain a breakpoint; greedily
  counting pairwise-disjoint such windows gives a lower bound on the width of any
  interpolating net;
* **upper bound** (:func:`interpolating_relu`): the linear spline through the data is such a
  net with one unit per slope change plus one unit for the initial slope.

Both bounds are the toolkit's construction ([derived], proof in
``proofs_notes/zigzag_relay.md``). They also make checkable on the bit-string families why
MLP width does not separate MAJORITY (``proofs_notes/circuit_complexity.md`` §7): a
symmetric target :math:`g(|x|)` is interpolated by a width-``w`` net in :math:`s=|x|`, so
MAJORITY (two slope changes) needs width 2 for every ``n`` while PARITY (a zig-zag with
``n - 1`` slope changes) needs width growing with ``n`` (``tests/probes/test_width.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["breakpoint_lower_bound", "interpolating_relu", "ReluNet1D", "WidthBounds", "width_bounds"]


def _sorted_xy(x, y):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    for name, arr in (("x", x), ("y", y)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{i}] = {float(arr[i])!r}: x and y must be finite")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if x.size > 1 and np.any(np.diff(x) <= 0):
        i = int(np.argmax(np.diff(x) <= 0))
        raise ValueError(f"x has a repeated value {float(x[i])!r} (sorted positions {i} and {i + 1}): a function "
                         "cannot interpolate two values there")
    return x, y


def breakpoint_lower_bound(x, y, *, tol: float = 1e-12) -> int:
    r"""Lower bound on the width of any two-layer ReLU net (scalar input) through
    :math:`(x_i, y_i)`: the greedy number of disjoint windows :math:`(x_i,x_{i+2})` with
    :math:`|m_{i+1}-m_i|>\mathrm{tol}\cdot\max(1,|m_i|,|m_{i+1}|)`, :math:`m_i` the secant slopes.
    Greedy left-to-right selection of the earliest-ending window maximises the number of
    disjoint windows (interval scheduling)."""
    x, y = _sorted_xy(x, y)
    if x.size < 3:
        return 0
    m = np.diff(y) / np.diff(x)
    change = np.abs(np.diff(m)) > tol * np.maximum(1.0, np.maximum(np.abs(m[:-1]), np.abs(m[1:])))
    count, free_from = 0, -np.inf
    for i in np.flatnonzero(change):  # window (x_i, x_{i+2}); windows are open intervals
        if x[i] >= free_from:
            count += 1
            free_from = x[i + 2]
    return count


@dataclass(frozen=True, eq=False)
class ReluNet1D:
    r""":math:`g(x)=\sum_j c_j\mathrm{ReLU}(\alpha_jx+b_j)+e` (scalar input)."""

    c: np.ndarray
    alpha: np.ndarray
    b: np.ndarray
    e: float

    @property
    def width(self) -> int:
        return int(self.c.size)

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.maximum(np.multiply.outer(x, self.alpha) + self.b, 0.0) @ self.c + self.e


def interpolating_relu(x, y, *, tol: float = 1e-12) -> ReluNet1D:
    r"""The linear-spline interpolant as an explicit ReLU net:
    :math:`g(x)=y_0+m_0\mathrm{ReLU}(x-x_0)+\sum_i(m_i-m_{i-1})\mathrm{ReLU}(x-x_i)`
    (valid on :math:`x\ge x_0`, i.e. on the data range)."""
    x, y = _sorted_xy(x, y)
    if x.size == 1:
        return ReluNet1D(np.zeros(0), np.zeros(0), np.zeros(0), float(y[0]))
    m = np.diff(y) / np.diff(x)
    c, k = [], []
    if abs(m[0]) > 0:
        c.append(m[0])
        k.append(x[0])
    dm = np.diff(m)
    for i in np.flatnonzero(np.abs(dm) > tol * np.maximum(1.0, np.maximum(np.abs(m[:-1]), np.abs(m[1:])))):
        c.append(dm[i])
        k.append(x[i + 1])
    c = np.asarray(c, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return ReluNet1D(c, np.ones_like(c), -k, float(y[0]))


@dataclass(frozen=True)
class WidthBounds:
    """Lower and upper bounds on the width of an interpolating two-layer ReLU net."""

    lower: int
    upper: int
    max_interpolation_error: float


def width_bounds(x, y) -> WidthBounds:
    """:func:`breakpoint_lower_bound` and the width of :func:`interpolating_relu` (with its
    maximum interpolation error, a check of the construction)."""
    net = interpolating_relu(x, y)
    xs, ys = _sorted_xy(x, y)
    err = float(np.max(np.abs(net(xs) - ys))) if xs.size else 0.0
    return WidthBounds(breakpoint_lower_bound(x, y), net.width, err)

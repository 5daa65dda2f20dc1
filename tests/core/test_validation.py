"""``check_forgetting`` (the window / restart period / epochs of the non-stationary learners
versus their variation budget) and the range messages of ``check_int`` / ``check_real``,
written out here from the conventions of ``core/validation.py``."""

from __future__ import annotations

import math

import pytest

from mdptheory.core.validation import check_forgetting, check_int, check_real


def test_check_forgetting():
    assert check_forgetting("window", None, None) == (None, None)
    assert check_forgetting("window", 7, None) == (7, None)
    assert check_forgetting("window", math.inf, None) == (math.inf, None)
    assert check_forgetting("window", None, 2) == (None, 2.0)
    assert check_forgetting("epochs", 3, None, infinite=False) == (3, None)
    with pytest.raises(ValueError, match=r"give window or variation_budget, not both \(got window=3, "
                                         r"variation_budget=0.5\)"):
        check_forgetting("window", 3, 0.5)
    with pytest.raises(ValueError, match="give epochs or variation_budget, not both"):
        check_forgetting("epochs", 3, 0.5, infinite=False)
    with pytest.raises(TypeError, match="epochs must be an integer"):
        check_forgetting("epochs", math.inf, None, infinite=False)
    with pytest.raises(TypeError, match="window must be an integer"):
        check_forgetting("window", -math.inf, None)
    with pytest.raises(ValueError, match="window = 0 must be >= 1"):
        check_forgetting("window", 0, None)
    with pytest.raises(ValueError, match="variation_budget = -1.0 must be >= 0"):
        check_forgetting("window", None, -1)
    with pytest.raises(TypeError, match="window must be an integer"):
        check_forgetting("window", True, None)


@pytest.mark.parametrize("call,message", [
    (lambda: check_int("k", 0, 1), "k = 0 must be >= 1"),
    (lambda: check_int("k", 9, None, 4), "k = 9 must be <= 4"),
    (lambda: check_int("k", 9, 1, 4), r"k = 9 must be in \[1, 4\]"),
    (lambda: check_int("k", 0, 1000000), "k = 0 must be >= 1000000"),
    (lambda: check_real("x", 0.0, 0.0, low_open=True), "x = 0.0 must be > 0"),
    (lambda: check_real("x", 2.0, None, 1.0, high_open=True), "x = 2.0 must be < 1"),
    (lambda: check_real("x", 2.0, 0.5, 1.0, low_open=True), r"x = 2.0 must be in \(0.5, 1\]"),
    (lambda: check_real("x", -1.0, 0.0, 1e6), r"x = -1.0 must be in \[0, 1e\+06\]"),
])
def test_range_messages(call, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        call()

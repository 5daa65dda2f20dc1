"""The one validation toolbox: every layer checks its inputs with these functions.

Conventions (as in scikit-learn's ``check_scalar``):

* a value of the wrong *type* raises ``TypeError``; a value of the right type outside its
  range raises ``ValueError``;
* booleans are refused wherever a number is expected (``True`` is an ``int`` in Python, but
  ``delta=True`` is always a mistake);
* every message names the parameter and repeats the value, and array checks name the
  offending index: ``"initial[3] = -0.1 must be >= 0"``.

Each checker returns the value converted to its canonical type (``int``, ``float``,
``numpy.ndarray``), so a constructor can write ``self.delta = check_delta(delta)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

__all__ = [
    "check_int",
    "check_real",
    "check_probability",
    "check_delta",
    "check_scale",
    "check_bool",
    "check_choice",
    "check_forgetting",
    "check_generator",
    "check_finite_array",
    "check_distribution",
]


def _is_integer(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (numbers.Integral, np.integer))


def _is_real(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (numbers.Real, np.integer, np.floating))


def _out_of_range(name: str, shown: str, low, high, low_open: bool, high_open: bool, fmt) -> None:
    """The ``ValueError`` of a number ``shown`` outside its range (ends written by ``fmt``)."""
    if high is None:
        raise ValueError(f"{name} = {shown} must be {'>' if low_open else '>='} {fmt(low)}")
    if low is None:
        raise ValueError(f"{name} = {shown} must be {'<' if high_open else '<='} {fmt(high)}")
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    raise ValueError(f"{name} = {shown} must be in {lo}{fmt(low)}, {fmt(high)}{hi}")


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python ``int`` in ``[low, high]`` (either end may be ``None``)."""
    if not _is_integer(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        _out_of_range(name, str(v), low, high, False, False, str)
    return v


def check_real(name: str, value: Any, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, high_open: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a finite ``float`` in the interval from ``low`` to ``high`` (closed ends
    unless ``low_open`` / ``high_open``; ``None`` = unbounded). ``allow_inf`` admits
    ``+-inf`` (still inside the bounds); NaN is always refused."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} = {v!r} must be finite")
    below = low is not None and (v < low or (low_open and v == low))
    above = high is not None and (v > high or (high_open and v == high))
    if below or above:
        _out_of_range(name, repr(v), low, high, low_open, high_open, lambda x: f"{x:g}")
    return v


def check_probability(name: str, value: Any, *, low_open: bool = False, high_open: bool = False) -> float:
    """A probability in ``[0, 1]`` (ends open on request)."""
    return check_real(name, value, 0.0, 1.0, low_open=low_open, high_open=high_open)


def check_delta(value: Any, name: str = "delta") -> float:
    """A confidence parameter in the open interval ``(0, 1)``."""
    return check_probability(name, value, low_open=True, high_open=True)


def check_scale(name: str, value: Any) -> float:
    """A finite multiplier ``>= 0`` (``bonus_scale``, constants ``c``); 0 is allowed and
    switches the scaled term off."""
    return check_real(name, value, 0.0)


def check_bool(name: str, value: Any) -> bool:
    """A genuine boolean (``0``/``1`` and strings are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_forgetting(name: str, value: Any, variation_budget: Any, *, infinite: bool = True) -> tuple:
    """How a non-stationary learner forgets: ``value`` (its window, restart period or number
    of epochs, called ``name``: ``None``, an integer ``>= 1`` or, when ``infinite``,
    ``math.inf`` = never forget) or a ``variation_budget`` to derive it from (``None`` or a
    real ``>= 0``), not both. Returns ``(value, variation_budget)``."""
    if value is not None and variation_budget is not None:
        raise ValueError(f"give {name} or variation_budget, not both (got {name}={value!r}, "
                         f"variation_budget={variation_budget!r})")
    if infinite and isinstance(value, float) and math.isinf(value) and value > 0:
        value = math.inf
    elif value is not None:
        value = check_int(name, value, 1)
    budget = None if variation_budget is None else check_real("variation_budget", variation_budget, 0.0)
    return value, budget


def check_choice(name: str, value: Any, choices: Iterable) -> Any:
    """``value`` if it is one of ``choices`` (compared with ``==``), else ``ValueError``
    listing them."""
    choices = tuple(choices)
    if isinstance(value, (bool, np.bool_)) and not any(isinstance(c, bool) for c in choices):
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    try:
        ok = value in choices
    except TypeError:                      # unhashable or incomparable values
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_generator(seed: Any, name: str = "seed") -> np.random.Generator:
    """A seeded ``numpy.random.Generator``: an existing generator is returned as is, a
    non-negative integer seeds a new PCG64 one. ``None`` is refused: results must be
    reproducible, never drawn from fresh OS entropy or the global RNG."""
    if isinstance(seed, np.random.Generator):
        return seed
    if not _is_integer(seed):
        raise TypeError(f"{name} must be a non-negative integer or a numpy.random.Generator, got {seed!r}")
    if int(seed) < 0:
        raise ValueError(f"{name} = {int(seed)} must be >= 0")
    return np.random.default_rng(int(seed))


def _index(idx) -> str:
    return ", ".join(str(int(i)) for i in idx)


def check_finite_array(name: str, value: Any, *, shape: tuple | None = None, ndim: int | None = None,
                       low: float | None = None, high: float | None = None) -> np.ndarray:
    """``value`` as a float64 array with every entry finite (and within ``[low, high]`` when
    given); ``shape`` entries of ``None`` match any length. Errors name the first offending
    index and its value."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None and (arr.ndim != len(shape)
                              or any(e is not None and e != n for e, n in zip(shape, arr.shape))):
        want = "(" + ", ".join("*" if e is None else str(e) for e in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise ValueError(f"{name}[{_index(i)}] = {float(arr[i])!r} must be finite")
    if low is not None and (arr < low).any():
        i = tuple(np.argwhere(arr < low)[0])
        raise ValueError(f"{name}[{_index(i)}] = {float(arr[i])!r} must be >= {low:g}")
    if high is not None and (arr > high).any():
        i = tuple(np.argwhere(arr > high)[0])
        raise ValueError(f"{name}[{_index(i)}] = {float(arr[i])!r} must be <= {high:g}")
    return arr


def check_distribution(name: str, value: Any, *, atol: float = 1e-9) -> np.ndarray:
    """An array whose last axis holds probability vectors: finite, ``>= 0``, each row summing
    to 1 within ``atol``. The message names the first bad row and its sum."""
    arr = check_finite_array(name, value, low=0.0)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be at least 1-dimensional, got a scalar")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > atol
    if bad.any():
        i = tuple(np.argwhere(bad)[0]) if sums.ndim else ()
        where = f"{name}[{_index(i)}, :]" if i else name
        raise ValueError(f"{where} sums to {float(sums[i])!r}, not 1 (tolerance {atol:g})")
    return arr

"""Helpers for building kernels."""

import types

from numba import njit


def serial_clone(fn):
    """A copy of ``fn`` under the name ``<name>_serial``.

    Compiling the copy without ``parallel=True`` gives the serial build of a ``prange``
    kernel; the distinct qualified name keeps numba's on-disk cache entries of the two builds
    apart.
    """
    g = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial", fn.__defaults__, fn.__closure__)
    g.__qualname__ = fn.__qualname__ + "_serial"
    g.__module__ = fn.__module__
    g.__doc__ = fn.__doc__
    return g


def threaded_and_serial(fn, fastmath):
    """``(threaded, serial)`` builds of the ``prange`` kernel ``fn``: ``njit`` with
    ``parallel=True``, and the :func:`serial_clone` without it (both cached, same
    ``fastmath`` flags)."""
    return (njit(cache=True, parallel=True, fastmath=fastmath)(fn),
            njit(cache=True, fastmath=fastmath)(serial_clone(fn)))

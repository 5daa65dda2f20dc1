"""Helpers for building kernels."""

import types


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

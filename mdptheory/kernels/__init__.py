"""Compiled (numba) kernels and their plain twins. Internal API.

The compiled kernel ``foo`` (:mod:`~mdptheory.kernels.dense`, :mod:`~mdptheory.kernels.csr`)
has the plain twin ``foo_ref`` in :mod:`~mdptheory.kernels.reference`; the tests compare
each pair.
"""

from mdptheory.kernels import csr, dense, reference

__all__ = ["dense", "csr", "reference"]

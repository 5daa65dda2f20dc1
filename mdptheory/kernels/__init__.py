"""Compiled (numba) kernels and their plain-numpy reference twins. Internal API."""

from mdptheory.kernels import csr, dense, reference

__all__ = ["dense", "csr", "reference"]

r"""Circuit-size probes: explicit circuit depth/size of a family's model as ``n`` grows, and
depth-2 (DNF) circuits of a value function for comparison.

The model side uses the explicit circuits of the bit-string families
(:func:`~mdptheory.envs.bitstring.family_circuit`), written in the circuit language of
:mod:`mdptheory.envs.circuit_language` (:class:`~mdptheory.envs.circuit_language.Circuit`:
unbounded fan-in AND/OR, free NOTs, depth = AND/OR layers, size = distinct AND/OR gates).
The value side uses two depth-2 facts that are exact and checkable on the cube (proofs in
``proofs_notes/circuit_complexity.md``):

* every prime implicant of PARITY is a full minterm, so its smallest DNF is the canonical
  one with :math:`2^{n-1}` terms (:func:`canonical_dnf`);
* a monotone function has a unique smallest DNF, the OR of its minimal true points, so
  :math:`\mathbf 1[|x|\ge\theta]` needs exactly :math:`\binom n\theta` terms
  (:func:`monotone_dnf`).

These are depth-2 statements; the constant-depth lower bounds (Håstad; Razborov-Smolensky)
are theorems quoted, not computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.envs.bitstring import bitstring_family, family_circuit
from mdptheory.envs.circuit_language import Circuit, CircuitBuilder
from mdptheory.probes.fourier import _as_cube

__all__ = [
    "Circuit",
    "CircuitBuilder",
    "CircuitGrowthRow",
    "circuit_growth",
    "canonical_dnf",
    "monotone_dnf",
    "is_monotone",
    "minimal_true_points",
]


@dataclass(frozen=True)
class CircuitGrowthRow:
    """Depth and size of a family's explicit model circuit at one ``n``.

    ``transition_depth`` / ``reward_depth``: max AND/OR depth over the next-state bits / the
    reward read-outs; ``transition_size``: distinct AND/OR gates of the whole transition map;
    ``max_fan_in_support``: the largest number of input bits one transition bit reads
    (constant for NC⁰ families, ``~ log n`` for the binary counter)."""

    n: int
    N: int
    transition_depth: int
    transition_size: int
    reward_depth: int
    reward_size: int
    total_size: int
    max_support: int
    verified: bool | None


def circuit_growth(kind: str, ns, verify_max_bits: int = 16, **params) -> tuple:
    """Explicit circuit depth and size of family ``kind`` for each ``n`` in ``ns``.

    ``params`` are passed to :func:`mdptheory.envs.bitstring.family_circuit` (``counter``,
    ``theta``, ...); any ``n`` works because only the circuit is built. When the family has
    ``N <= verify_max_bits`` state bits, its circuit is also checked against the MDP's arrays
    on all ``2^(N+1)`` inputs (``verified``; ``None`` when not checked).
    """
    rows = []
    for n in ns:
        C = family_circuit(kind, int(n), **params)
        N = C.n_inputs - 1
        tnames = [f"s'[{j}]" for j in range(N)]
        rnames = [nm for nm in C.output_names if nm.startswith("r:")]
        verified = None
        if N <= verify_max_bits:
            verified = bool(bitstring_family(kind, int(n), **params).verify_circuits())
        rows.append(CircuitGrowthRow(
            n=int(n), N=N,
            transition_depth=C.depth(tnames), transition_size=C.size(tnames),
            reward_depth=C.depth(rnames), reward_size=C.size(rnames),
            total_size=C.size(), max_support=max(len(C.support(nm)) for nm in tnames),
            verified=verified,
        ))
    return tuple(rows)


def _boolean(values) -> tuple[np.ndarray, int]:
    v, N = _as_cube(values)
    if not np.isin(v, (0.0, 1.0)).all():
        i = int(np.flatnonzero(~np.isin(v, (0.0, 1.0)))[0])
        raise ValueError(f"values[{i}] = {float(v[i])!r}: a Boolean (0/1) function is required")
    return v.astype(bool), N


def canonical_dnf(values) -> Circuit:
    """Depth-2 circuit: OR of one AND-term per true point (the canonical DNF).

    Size = number of true points + 1 (or a constant). For PARITY this is the smallest DNF.
    Output name: ``"f"``.
    """
    v, N = _boolean(values)
    b = CircuitBuilder(N)
    b.output("f", b.dnf(v.astype(np.int64), [b.input(i) for i in range(N)]))
    return b.build()


def is_monotone(values) -> bool:
    """True iff ``f(x) <= f(y)`` whenever ``x <= y`` bitwise (checked on all cube edges)."""
    v, N = _as_cube(values)
    idx = np.arange(v.size)
    for i in range(N):
        low = idx[((idx >> i) & 1) == 0]
        if (v[low] > v[low | (1 << i)]).any():
            return False
    return True


def minimal_true_points(values) -> np.ndarray:
    """True points of a Boolean function none of whose proper sub-points (bitwise) is true."""
    v, N = _boolean(values)
    idx = np.arange(v.size)
    minimal = v.copy()
    for i in range(N):
        has = ((idx >> i) & 1) == 1
        minimal[has] &= ~v[idx[has] ^ (1 << i)]
    return np.flatnonzero(minimal)


def monotone_dnf(values) -> Circuit:
    r"""The smallest DNF of a monotone Boolean function: OR over minimal true points ``u``
    of :math:`\bigwedge_{i\in u} x_i`.

    Any DNF of a monotone ``f`` has at least as many terms (each minimal true point needs a
    term whose positive literals are exactly its support; proof in
    ``proofs_notes/circuit_complexity.md``), so ``size - 1`` is the exact minimum number of
    terms. For :math:`\mathbf 1[|x|\ge\theta]` it is :math:`\binom N\theta`.
    Raises ``ValueError`` if ``values`` is not monotone.
    """
    v, N = _boolean(values)
    if not is_monotone(v.astype(float)):
        raise ValueError("values is not a monotone Boolean function; use canonical_dnf")
    b = CircuitBuilder(N)
    pts = minimal_true_points(v.astype(float))
    if pts.size == 0:
        node = b.const(0)
    else:
        terms = []
        for u in pts:
            lits = [b.input(i) for i in range(N) if (u >> i) & 1]
            terms.append(b.AND(*lits) if lits else b.const(1))
        node = b.OR(*terms)
    b.output("f", node)
    return b.build()

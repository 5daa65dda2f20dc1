r"""Bit-string ("shift-register") MDP families and explicit Boolean circuits.

These families make the representation-complexity question of Zhu, Huang & Russell
(*On Representation Complexity of Model-based and Model-free RL*, ICLR 2024) measurable:
every function involved (transition bits, reward, :math:`Q^\star`, :math:`V^\star`) is known
exactly on the whole cube :math:`\{0,1\}^N`.

.. note::
   The paper's own Parity-MDP / Majority-MDP layout could not be retrieved (only its
   abstract and reviews are available; see ``proofs_notes/circuit_complexity.md``). The
   families below are **toolkit constructions** (design notes ``theory_probes.md`` §1.3,
   tagged [D]) with provably the same property: the transition and the reward are computed
   by constant-depth, polynomial-size circuits (NC⁰ / AC⁰), while :math:`V^\star_1`
   restricted to the slice "accumulator = 0" is PARITY or a threshold (MAJORITY) function,
   neither of which is in AC⁰. They are *not* a reproduction of the paper's MDPs.

State layout (all families)
---------------------------
A state is an integer ``0 <= s < 2**N``; bit ``j`` is ``(s >> j) & 1``.

* data register :math:`x = (x_1, \dots, x_n)` in bits ``0..n-1``; the head :math:`x_1` is bit 0;
* accumulator :math:`t` in bits ``n..N-1`` (``m = N - n`` bits).

One step shifts the register toward the head with zero fill,
:math:`x' = (x_2, \dots, x_n, 0)`, and folds an increment bit ``inc`` into the accumulator
(``inc = x_1``, or ``x_1 and a`` for the collect variant, or a ``k``-local feature
:math:`g(x_1..x_k)`). Horizon ``H = n``, actions ``{0, 1}``, deterministic dynamics, and
every bit string is a legal state (so Fourier analysis over the full cube is meaningful).
Rewards are zero before the last stage ``h = H-1`` (except the per-step action cost of the
collect variant).

Every family is available as

* a lightweight :class:`BitstringFamily` (:func:`bitstring_family`): transition table
  ``next_state[a, s]``, reward tables, explicit :class:`Circuit`, and an exact numba
  backward induction (:meth:`BitstringFamily.solve`) that runs in ``O(H A 2^N)`` time;
* a core :class:`~mdptheory.core.EpisodicMDP` (:class:`BitstringMDP`, a subclass with CSR
  ``P`` and dense ``(H, S, A)`` rewards) returned by :func:`parity_bet`,
  :func:`majority_bet`, :func:`collect_bet` and :func:`local_threshold_bet`, usable with
  :func:`mdptheory.solve` / :func:`mdptheory.evaluate`.

Costs of the exact solver (:func:`backward_induction_bitstring`): time ``O(H A 2^N)``;
memory ``8 (H+1) 2^N`` bytes for ``V`` plus ``H 2^N`` (int8 policy) plus ``8 A 2^N``
(``next_state``) plus ``8 K A 2^N`` (``K`` distinct reward tables, ``K <= 2``). For the
binary-counter majority family at ``n = 16`` (``N = 21``, ``H = 16``) that is
``8*17*2^21 + 16*2^21 + 8*2*2^21 + 8*2*2*2^21`` bytes = 400 MiB (0.42 GB), and the
compiled sweep takes about 0.2 s (``docs/benchmarks.md``; the study script
``experiments/representation_complexity.py`` re-measures time and peak memory of every
solve it does). Building the :class:`BitstringMDP` (core object) additionally stores
``8 H A 2^N`` bytes of rewards and a CSR kernel (``~20 A 2^N`` bytes), so prefer
:func:`bitstring_family` beyond ``N ~ 18``. Families are built for ``N <= 24``.

Provenance
----------
The layout, the update rules and the reward of every family are the design notes'
constructions (``theory_probes.md`` §1.3, tagged [D]); their optimal values are proved in
``proofs_notes/circuit_complexity.md`` §1 and checked against closed forms in the tests.
Nothing here reproduces the paper's own definitions, which could not be retrieved (only the
abstract, the ICLR page and the OpenReview reviews were available; the notes' recollection
of the paper's Majority-MDP parameterisation is tagged [R], low confidence, and is not used).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

import numpy as np
import scipy.sparse as sp
from numba import njit

from mdptheory.core import EpisodicMDP

__all__ = [
    "Circuit",
    "CircuitBuilder",
    "CircuitOutputStats",
    "BitstringFamily",
    "BitstringSolution",
    "BitstringMDP",
    "bitstring_family",
    "family_circuit",
    "parity_bet",
    "majority_bet",
    "collect_bet",
    "local_threshold_bet",
    "backward_induction_bitstring",
    "backward_induction_bitstring_reference",
    "exact_backward_induction",
    "ExactValues",
    "FAMILY_KINDS",
]

#: Family kinds understood by :func:`bitstring_family`.
FAMILY_KINDS = ("parity", "majority", "collect", "local-threshold")

_COUNTERS = ("thermometer", "binary")


# ======================================================================================
# Boolean circuits
# ======================================================================================

_OPS = ("in", "const", "not", "and", "or")


@dataclass(frozen=True, eq=False)
class Circuit:
    r"""A Boolean circuit with unbounded fan-in AND / OR gates, NOT gates and inputs.

    The circuit is a DAG stored in topological order: node ``k`` is ``gates[k] = (op, args)``
    with ``op`` one of ``"in"`` (``args = (i,)``: input bit ``i``), ``"const"``
    (``args = (0,)`` or ``(1,)``), ``"not"`` (one child), ``"and"`` / ``"or"`` (one or more
    children, all with smaller node ids). Named outputs point at nodes.

    Conventions (standard for AC⁰, e.g. Håstad 1987; Arora & Barak 2009, §14.1):

    * **depth** of an output = the largest number of AND/OR gates on a path from an input
      to it. NOT gates are free: by De Morgan they can be pushed to the inputs without
      changing the number of AND/OR layers (at most doubling the size).
    * **size** of an output = the number of distinct AND/OR gates in its cone (the set of
      nodes it depends on); :meth:`n_not` counts the NOT gates separately.

    Input ``i`` of the circuit is bit ``i`` of the integer encoding of the input string, so
    :meth:`truth_table` is indexed exactly like the arrays of the probes
    (``values[x]`` with ``x = sum_i x_i 2^i``).
    """

    n_inputs: int
    gates: tuple
    outputs: tuple  # ((name, node), ...)
    input_names: tuple = ()

    def __post_init__(self):
        # validated once, so evaluation and the depth/size counts can trust the DAG
        n = self.n_inputs
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n_inputs = {n!r} must be an integer >= 0")
        for k, gate in enumerate(self.gates):
            if not (isinstance(gate, tuple) and len(gate) == 2 and gate[0] in _OPS and isinstance(gate[1], tuple)):
                raise ValueError(f"gates[{k}] = {gate!r} must be (op, args) with op in {_OPS} and args a tuple")
            op, args = gate
            if op == "in":
                if len(args) != 1 or not 0 <= args[0] < n:
                    raise ValueError(f"gates[{k}] = {gate!r}: an input gate needs args = (i,) with 0 <= i < {n}")
            elif op == "const":
                if args not in ((0,), (1,)):
                    raise ValueError(f"gates[{k}] = {gate!r}: a constant needs args = (0,) or (1,)")
            else:
                if not args or (op == "not" and len(args) != 1):
                    raise ValueError(f"gates[{k}] = {gate!r}: {op.upper()} needs "
                                     f"{'exactly one child' if op == 'not' else 'at least one child'}")
                for c in args:
                    if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < k:
                        raise ValueError(f"gates[{k}] = {gate!r}: child {c!r} must be an earlier node "
                                         f"(0..{k - 1}); gates are stored in topological order")
        seen = set()
        for j, out in enumerate(self.outputs):
            if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], str)):
                raise ValueError(f"outputs[{j}] = {out!r} must be (name, node)")
            name, node = out
            if name in seen:
                raise ValueError(f"outputs[{j}]: output name {name!r} is used twice")
            seen.add(name)
            if isinstance(node, bool) or not isinstance(node, (int, np.integer)) or not 0 <= node < len(self.gates):
                raise ValueError(f"outputs[{j}] = {out!r}: node must be in [0, {len(self.gates)})")
        if self.input_names and len(self.input_names) != n:
            raise ValueError(f"input_names has {len(self.input_names)} entries, expected n_inputs = {n}")

    # -- structure -----------------------------------------------------------------------
    @property
    def output_names(self) -> tuple:
        return tuple(name for name, _ in self.outputs)

    def _node(self, name: str) -> int:
        for nm, node in self.outputs:
            if nm == name:
                return node
        raise KeyError(f"name = {name!r} is not an output of this circuit; outputs: {self.output_names}")

    def _cone(self, nodes) -> np.ndarray:
        seen = np.zeros(len(self.gates), dtype=bool)
        stack = list(nodes)
        while stack:
            k = stack.pop()
            if seen[k]:
                continue
            seen[k] = True
            op, args = self.gates[k]
            if op in ("not", "and", "or"):
                stack.extend(args)
        return seen

    def _depths(self) -> np.ndarray:
        d = np.zeros(len(self.gates), dtype=np.int64)
        for k, (op, args) in enumerate(self.gates):
            if op == "not":
                d[k] = d[args[0]]
            elif op in ("and", "or"):
                d[k] = 1 + max(d[c] for c in args)
        return d

    def _selected(self, name):
        if name is None:
            return [node for _, node in self.outputs]
        if isinstance(name, str):
            return [self._node(name)]
        return [self._node(nm) for nm in name]

    def depth(self, name: str | None = None) -> int:
        """AND/OR depth of one output (``name``), of several (a list), or of all (``None``)."""
        nodes = self._selected(name)
        d = self._depths()
        return int(max((d[k] for k in nodes), default=0))

    def size(self, name: str | None = None) -> int:
        """Number of distinct AND/OR gates in the cone of the selected outputs."""
        cone = self._cone(self._selected(name))
        return int(sum(1 for k in np.flatnonzero(cone) if self.gates[k][0] in ("and", "or")))

    def n_not(self, name: str | None = None) -> int:
        """Number of NOT gates in the cone of the selected outputs."""
        cone = self._cone(self._selected(name))
        return int(sum(1 for k in np.flatnonzero(cone) if self.gates[k][0] == "not"))

    def support(self, name: str | None = None) -> tuple:
        """Input bits that the selected outputs read (syntactically)."""
        cone = self._cone(self._selected(name))
        return tuple(sorted(self.gates[k][1][0] for k in np.flatnonzero(cone) if self.gates[k][0] == "in"))

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, names=None, inputs=None) -> np.ndarray:
        """Evaluate outputs.

        Parameters
        ----------
        names : str, list of str or None
            Outputs to evaluate (``None`` = all, in :attr:`output_names` order).
        inputs : None or integer array
            ``None`` evaluates on the full cube ``0..2**n_inputs-1`` with bit-parallel
            (packed) arithmetic, ``O(size * 2^n / 8)`` bytes of work; otherwise evaluates at
            the given integer-encoded input strings.

        Returns
        -------
        ndarray of uint8, shape ``(n_selected, n_points)``.
        """
        sel_names = self.output_names if names is None else ((names,) if isinstance(names, str) else tuple(names))
        nodes = [self._node(nm) for nm in sel_names]
        cone = self._cone(nodes)
        if inputs is None:
            npts = 1 << self.n_inputs
            packed = True
            xs = None
        else:
            xs = np.asarray(inputs)
            if xs.ndim != 1 or not np.issubdtype(xs.dtype, np.integer):
                raise TypeError(f"inputs must be a 1-d integer array, got dtype {xs.dtype} and shape {xs.shape}")
            bad = (xs < 0) | (xs >= (1 << self.n_inputs))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"inputs[{i}] = {int(xs[i])}: inputs must lie in [0, 2**{self.n_inputs})")
            xs = xs.astype(np.int64)
            npts = xs.size
            packed = False
        # last use of each node inside the cone, so intermediate arrays can be freed
        last = {}
        for k in np.flatnonzero(cone):
            op, args = self.gates[k]
            if op in ("not", "and", "or"):
                for c in args:
                    last[c] = k
        keep = set(nodes)
        vals: dict = {}
        for k in np.flatnonzero(cone):
            op, args = self.gates[k]
            if op == "in":
                i = args[0]
                if packed:
                    bits = ((np.arange(npts, dtype=np.int64) >> i) & 1).astype(bool)
                    vals[k] = np.packbits(bits, bitorder="little")
                else:
                    vals[k] = ((xs >> i) & 1).astype(bool)
            elif op == "const":
                nb = (npts + 7) // 8 if packed else npts
                if packed:
                    vals[k] = np.full(nb, 0xFF if args[0] else 0, dtype=np.uint8)
                else:
                    vals[k] = np.full(npts, bool(args[0]))
            elif op == "not":
                vals[k] = ~vals[args[0]]
            else:
                acc = vals[args[0]].copy()
                f = np.bitwise_and if op == "and" else np.bitwise_or
                for c in args[1:]:
                    f(acc, vals[c], out=acc)
                vals[k] = acc
            if op in ("not", "and", "or"):
                for c in args:
                    if last.get(c) == k and c not in keep:
                        vals.pop(c, None)
        out = np.empty((len(nodes), npts), dtype=np.uint8)
        for r, k in enumerate(nodes):
            v = vals[k]
            if packed:
                out[r] = np.unpackbits(v, bitorder="little", count=npts)
            else:
                out[r] = v
        return out

    def truth_table(self, name: str) -> np.ndarray:
        """Values of output ``name`` on all ``2**n_inputs`` inputs (uint8 0/1)."""
        return self.evaluate(name)[0]

    def summary(self) -> tuple:
        """One :class:`CircuitOutputStats` (depth, size, NOT count, support size) per output."""
        return tuple(CircuitOutputStats(name=nm, depth=self.depth(nm), size=self.size(nm), n_not=self.n_not(nm),
                                        support_size=len(self.support(nm))) for nm in self.output_names)


@dataclass(frozen=True)
class CircuitOutputStats:
    """Structure of one circuit output (see :class:`Circuit` for the depth/size conventions)."""

    name: str
    depth: int
    size: int
    n_not: int
    support_size: int


class CircuitBuilder:
    """Incremental constructor of a :class:`Circuit` with structural hashing.

    Identical gates are created once (so :meth:`Circuit.size` counts distinct gates);
    ``AND``/``OR`` of a single argument return that argument; ``NOT(NOT(x))`` returns ``x``.

    Examples
    --------
    >>> b = CircuitBuilder(2)
    >>> b.output("xor", b.XOR(b.input(0), b.input(1)))
    >>> c = b.build()
    >>> c.truth_table("xor").tolist()
    [0, 1, 1, 0]
    """

    def __init__(self, n_inputs: int, input_names=None):
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, (int, np.integer)) or n_inputs < 0:
            raise ValueError(f"n_inputs = {n_inputs!r} must be an integer >= 0")
        self.n_inputs = int(n_inputs)
        if input_names is not None and len(input_names) != self.n_inputs:
            raise ValueError(f"input_names has {len(input_names)} entries, expected n_inputs = {self.n_inputs}")
        self._names = tuple(input_names) if input_names is not None else tuple(f"z{i}" for i in range(self.n_inputs))
        self._gates: list = []
        self._index: dict = {}
        self._outputs: list = []

    def _add(self, op: str, args: tuple) -> int:
        key = (op, args)
        k = self._index.get(key)
        if k is None:
            k = len(self._gates)
            self._gates.append(key)
            self._index[key] = k
        return k

    def _check(self, k) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < len(self._gates):
            raise ValueError(f"node = {k!r} is not a node of this builder (0..{len(self._gates) - 1})")
        return int(k)

    def input(self, i: int) -> int:
        if not 0 <= int(i) < self.n_inputs:
            raise ValueError(f"input index i = {i!r} is outside [0, {self.n_inputs})")
        return self._add("in", (int(i),))

    def const(self, v) -> int:
        return self._add("const", (1 if v else 0,))

    def NOT(self, a: int) -> int:
        a = self._check(a)
        op, args = self._gates[a]
        if op == "not":
            return args[0]
        if op == "const":
            return self.const(1 - args[0])
        return self._add("not", (a,))

    def _nary(self, op: str, args) -> int:
        args = [self._check(a) for a in args]
        if not args:
            raise ValueError(f"{op.upper()} needs at least one argument")
        uniq = tuple(sorted(set(args)))
        if len(uniq) == 1:
            return uniq[0]
        return self._add(op, uniq)

    def AND(self, *args: int) -> int:
        return self._nary("and", args)

    def OR(self, *args: int) -> int:
        return self._nary("or", args)

    def XOR(self, a: int, b: int) -> int:
        """Depth-2 XOR: ``(a and not b) or (not a and b)``."""
        return self.OR(self.AND(a, self.NOT(b)), self.AND(self.NOT(a), b))

    def dnf(self, table, inputs) -> int:
        """Canonical DNF (OR of minterms) of a truth table over the given input nodes.

        ``table[j]`` is the value at the assignment whose bit ``i`` gives ``inputs[i]``.
        An all-zero table gives the constant 0.
        """
        table = np.asarray(table)
        k = len(inputs)
        if table.shape != (1 << k,):
            raise ValueError(f"table must have length 2**{k} = {1 << k}, got shape {table.shape}")
        if not np.isin(table, (0, 1)).all():
            j = int(np.flatnonzero(~np.isin(table, (0, 1)))[0])
            raise ValueError(f"table[{j}] = {table[j].item()!r}: a truth table must be 0/1")
        inputs = [self._check(i) for i in inputs]
        terms = []
        for j in np.flatnonzero(table):
            lits = [inputs[i] if (j >> i) & 1 else self.NOT(inputs[i]) for i in range(k)]
            terms.append(self.AND(*lits) if lits else self.const(1))
        if not terms:
            return self.const(0)
        return self.OR(*terms)

    def output(self, name: str, node: int) -> None:
        node = self._check(node)
        if any(nm == name for nm, _ in self._outputs):
            raise ValueError(f"output name {name!r} is already used")
        self._outputs.append((str(name), node))

    def build(self) -> Circuit:
        return Circuit(self.n_inputs, tuple(self._gates), tuple(self._outputs), self._names)


# ======================================================================================
# Exact backward induction over 2^N states
# ======================================================================================


@njit(cache=True)
def backward_induction_bitstring(next_state, rewards, reward_stage, V_out, pi_out):  # pragma: no cover - compiled
    r"""Exact backward induction for a deterministic MDP given by a successor table.

    :math:`V_H = 0`, :math:`Q_h(s,a) = R_{k(h)}(a, s) + V_{h+1}(\mathrm{next}(a, s))`,
    :math:`V_h(s) = \max_a Q_h(s,a)` (ties to the lowest action, like ``numpy.argmax``).

    Parameters
    ----------
    next_state : int64 ``(A, S)``
    rewards : float64 ``(K, A, S)``; stage ``h`` uses ``rewards[reward_stage[h]]``
    reward_stage : int64 ``(H,)``
    V_out : float64 ``(H+1, S)`` (written)
    pi_out : int8 ``(H, S)`` (written)

    Time ``O(H A S)``, no allocation (the generic dense kernel would need ``S^2 A`` memory).
    The kernel does not check its inputs (numba does no bounds checks); use
    :func:`exact_backward_induction` for arrays that were not built by
    :func:`bitstring_family`. Numpy twin: :func:`backward_induction_bitstring_reference`.
    """
    A, S = next_state.shape
    H = reward_stage.shape[0]
    for s in range(S):
        V_out[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        k = reward_stage[h]
        for s in range(S):
            best = rewards[k, 0, s] + V_out[h + 1, next_state[0, s]]
            arg = 0
            for a in range(1, A):
                q = rewards[k, a, s] + V_out[h + 1, next_state[a, s]]
                if q > best:
                    best = q
                    arg = a
            V_out[h, s] = best
            pi_out[h, s] = arg


@dataclass(frozen=True, eq=False)
class ExactValues:
    r"""Optimal values of a deterministic successor-table MDP.

    Attributes
    ----------
    V : float64 ``(H+1, S)``
        :math:`V^\star_h(s)`, ``V[H] = 0``.
    policy : int8 ``(H, S)``
        Greedy optimal actions, ties to the lowest action.
    """

    V: np.ndarray
    policy: np.ndarray


def _check_tables(next_state, rewards, reward_stage):
    """Validate the inputs of the exact solver; returns contiguous int64/float64 copies."""
    ns = np.asarray(next_state)
    if ns.ndim != 2 or not np.issubdtype(ns.dtype, np.integer):
        raise ValueError(f"next_state must be a 2-d integer array (A, S), got dtype {ns.dtype} and shape {ns.shape}")
    A, S = ns.shape
    if A < 1 or S < 1 or A > 127:
        raise ValueError(f"next_state has shape {ns.shape}; need 1 <= A <= 127 actions and S >= 1 states")
    bad = (ns < 0) | (ns >= S)
    if bad.any():
        a, s = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"next_state[{a}, {s}] = {int(ns[a, s])} is not a state in [0, {S})")
    R = np.asarray(rewards, dtype=np.float64)
    if R.ndim != 3 or R.shape[1:] != (A, S) or R.shape[0] < 1:
        raise ValueError(f"rewards must have shape (K, A, S) = (K, {A}, {S}), got {R.shape}")
    if not np.isfinite(R).all():
        k, a, s = (int(v) for v in np.argwhere(~np.isfinite(R))[0])
        raise ValueError(f"rewards[{k}, {a}, {s}] = {float(R[k, a, s])!r}: rewards must be finite")
    st = np.asarray(reward_stage)
    if st.ndim != 1 or not np.issubdtype(st.dtype, np.integer):
        raise ValueError(f"reward_stage must be a 1-d integer array (H,), got dtype {st.dtype} and shape {st.shape}")
    badst = (st < 0) | (st >= R.shape[0])
    if badst.any():
        h = int(np.flatnonzero(badst)[0])
        raise ValueError(f"reward_stage[{h}] = {int(st[h])} is not a reward table index in [0, {R.shape[0]})")
    return (np.ascontiguousarray(ns, dtype=np.int64), np.ascontiguousarray(R),
            np.ascontiguousarray(st, dtype=np.int64))


def exact_backward_induction(next_state, rewards, reward_stage) -> ExactValues:
    r"""Validated entry point of the compiled exact solver :func:`backward_induction_bitstring`.

    :math:`V_H = 0`, :math:`Q_h(s,a) = R_{k(h)}(a,s) + V_{h+1}(\mathrm{next}(a,s))`,
    :math:`V_h = \max_a Q_h` (Puterman 1994, Thm 4.5.1: exact after ``H`` sweeps).
    ``next_state`` ``(A, S)`` integer successors, ``rewards`` ``(K, A, S)``, ``reward_stage``
    ``(H,)`` (stage ``h`` uses ``rewards[reward_stage[h]]``). Invalid entries raise
    ``ValueError`` naming the index and the value. Time ``O(H A S)``, memory
    ``8 (H+1) S + H S`` bytes for the result.
    """
    ns, R, st = _check_tables(next_state, rewards, reward_stage)
    A, S = ns.shape
    H = st.shape[0]
    V = np.empty((H + 1, S))
    pi = np.empty((H, S), dtype=np.int8)
    backward_induction_bitstring(ns, R, st, V, pi)
    return ExactValues(V=V, policy=pi)


def backward_induction_bitstring_reference(next_state, rewards, reward_stage) -> ExactValues:
    """Plain-numpy twin of :func:`backward_induction_bitstring` (same inputs, validated):
    one vectorised ``(A, S)`` gather per stage; returns :class:`ExactValues`."""
    next_state, rewards, reward_stage = _check_tables(next_state, rewards, reward_stage)
    A, S = next_state.shape
    H = len(reward_stage)
    V = np.zeros((H + 1, S))
    pi = np.zeros((H, S), dtype=np.int8)
    for h in range(H - 1, -1, -1):
        Q = rewards[reward_stage[h]] + V[h + 1][next_state]  # (A, S)
        V[h] = Q.max(axis=0)
        pi[h] = Q.argmax(axis=0)
    return ExactValues(V=V, policy=pi)


# ======================================================================================
# Families
# ======================================================================================


@dataclass(frozen=True, eq=False)
class BitstringSolution:
    r"""Exact optimal values of a :class:`BitstringFamily`.

    Attributes
    ----------
    V : float64 ``(H+1, 2**N)``
        :math:`V^\star_h(s)`, with ``V[H] = 0``.
    policy : int8 ``(H, 2**N)``
        Greedy optimal actions (ties to the lowest action).
    family : BitstringFamily
    """

    V: np.ndarray
    policy: np.ndarray
    family: "BitstringFamily" = field(repr=False)

    def Q(self, h: int) -> np.ndarray:
        r""":math:`Q^\star_h(s, a)` as an ``(S, A)`` array."""
        f = self.family
        h = _check_int("stage h", h, 0, f.H - 1)
        Q = f.rewards[f.reward_stage[h]] + self.V[h + 1][f.next_state]
        return np.ascontiguousarray(Q.T)

    def q_values(self, h: int = 0) -> np.ndarray:
        r""":math:`Q^\star_h` as a function on ``N + 1`` bits (action = top bit): entry
        ``s + a 2^N``. This is the input layout of :meth:`BitstringFamily.transition_bit`."""
        return self.Q(h).T.ravel()

    def visitation(self, h: int, initial=None) -> np.ndarray:
        r"""State distribution at stage ``h`` when the greedy optimal :attr:`policy` is
        followed from ``initial`` (default: the family's initial distribution, uniform over
        the slice "accumulator = 0"). Use it as the weighting :math:`\rho` of
        :func:`mdptheory.probes.low_degree_error`."""
        f = self.family
        h = _check_int("stage h", h, 0, f.H)
        d = np.array(f.initial if initial is None else initial, dtype=np.float64)
        if d.shape != (f.S,):
            raise ValueError(f"initial must have shape ({f.S},), got {d.shape}")
        bad = ~np.isfinite(d) | (d < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"initial[{i}] = {float(d[i])!r}: a distribution needs finite entries >= 0")
        if abs(d.sum() - 1.0) > 1e-9:
            raise ValueError(f"initial sums to {float(d.sum())!r}, not 1")
        idx = np.arange(f.S)
        for k in range(h):
            nxt = f.next_state[self.policy[k].astype(np.int64), idx]
            d = np.bincount(nxt, weights=d, minlength=f.S)
        return d

    def slice_values(self, h: int = 0) -> np.ndarray:
        r""":math:`V^\star_h` on the slice "accumulator = 0": entry ``x`` for ``0 <= x < 2^n``."""
        h = _check_int("stage h", h, 0, self.family.H)
        return self.V[h, : 1 << self.family.n].copy()


@dataclass(frozen=True, eq=False)
class BitstringFamily:
    r"""Arrays and circuits of one bit-string MDP (see the module docstring for the layout).

    Attributes
    ----------
    kind : str
        ``"parity"``, ``"majority"``, ``"collect"`` or ``"local-threshold"``.
    n, N, H, A : int
        Register length, total state bits, horizon (``= n``), actions (``= 2``).
    counter : str or None
        ``"thermometer"`` or ``"binary"`` (``None`` for parity: a single XOR bit).
    theta : int or None
        Threshold of the bet (``None`` for parity).
    params : dict
        All construction parameters (``kappa``, ``feature``, ...).
    next_state : int64 ``(A, 2**N)``
        Successor table ``next_state[a, s]``.
    rewards : float64 ``(K, A, 2**N)``
        Distinct reward tables; stage ``h`` uses ``rewards[reward_stage[h]]``.
    reward_stage : int64 ``(H,)``
    circuit : Circuit
        Inputs: ``N`` state bits then the action bit (input ``N``). Outputs ``"s'[j]"`` for
        every next-state bit and the reward read-outs listed in :attr:`reward_readout`.
    reward_readout : tuple
        One entry per reward table: ``(offset, ((output name, weight), ...))`` with
        :math:`R_k(s,a) = \mathrm{offset} + \sum w \cdot \mathrm{out}(s,a)`.
    initial : float64 ``(2**N,)``
        Uniform over the slice "accumulator = 0" (all data registers equally likely).
    """

    kind: str
    n: int
    N: int
    H: int
    A: int
    counter: str | None
    theta: int | None
    params: dict
    next_state: np.ndarray = field(repr=False)
    rewards: np.ndarray = field(repr=False)
    reward_stage: np.ndarray = field(repr=False)
    circuit: Circuit = field(repr=False)
    reward_readout: tuple = field(repr=False)

    @property
    def S(self) -> int:
        return 1 << self.N

    @property
    def m(self) -> int:
        """Accumulator width ``N - n``."""
        return self.N - self.n

    @property
    def initial(self) -> np.ndarray:
        d = np.zeros(self.S)
        d[: 1 << self.n] = 1.0 / (1 << self.n)
        return d

    # -- functions on the cube -------------------------------------------------------------
    def transition_bit(self, j: int) -> np.ndarray:
        """Bit ``j`` of the next state as a 0/1 function on ``N + 1`` bits (entry ``s + a 2^N``)."""
        j = _check_int("bit j", j, 0, self.N - 1)
        return ((self.next_state.ravel() >> j) & 1).astype(np.uint8)

    def transition_bits(self) -> np.ndarray:
        """All next-state bits, ``(N, 2**(N+1))`` uint8."""
        ns = self.next_state.ravel()
        return np.stack([((ns >> j) & 1).astype(np.uint8) for j in range(self.N)])

    def reward_table(self, h: int | None = None) -> np.ndarray:
        """Reward of stage ``h`` (default: the last stage) on ``N + 1`` bits (entry ``s + a 2^N``)."""
        h = self.H - 1 if h is None else _check_int("stage h", h, 0, self.H - 1)
        return self.rewards[self.reward_stage[h]].ravel().copy()

    def circuit_reward(self, k: int) -> np.ndarray:
        """Reward table ``k`` recomputed from the circuit outputs (entry ``s + a 2^N``)."""
        k = _check_int("reward table k", k, 0, self.rewards.shape[0] - 1)
        offset, terms = self.reward_readout[k]
        r = np.full(1 << (self.N + 1), float(offset))
        if terms:
            names = [nm for nm, _ in terms]
            tt = self.circuit.evaluate(names)
            for (nm, w), row in zip(terms, tt):
                r += w * row
        return r

    def verify_circuits(self) -> bool:
        """True iff every circuit output equals the arrays on all ``2**(N+1)`` inputs."""
        names = [f"s'[{j}]" for j in range(self.N)]
        if not np.array_equal(self.circuit.evaluate(names), self.transition_bits()):
            return False
        for k in range(self.rewards.shape[0]):
            if not np.array_equal(self.circuit_reward(k), self.rewards[k].ravel()):
                return False
        return True

    # -- solving --------------------------------------------------------------------------
    def solve(self) -> BitstringSolution:
        """Exact :math:`V^\\star` by :func:`backward_induction_bitstring` (numba)."""
        V = np.empty((self.H + 1, self.S))
        pi = np.empty((self.H, self.S), dtype=np.int8)
        backward_induction_bitstring(self.next_state, self.rewards, self.reward_stage, V, pi)
        return BitstringSolution(V=V, policy=pi, family=self)

    def to_mdp(self) -> "BitstringMDP":
        """The core :class:`~mdptheory.core.EpisodicMDP` (CSR ``P``) of this family."""
        return BitstringMDP(self)


class BitstringMDP(EpisodicMDP):
    """A bit-string family as a core :class:`~mdptheory.core.EpisodicMDP`.

    ``P`` is a stationary CSR matrix ``(2^N * 2, 2^N)`` with one unit entry per row;
    ``R`` is the stage-dependent ``(H, 2^N, 2)`` array; ``initial`` is uniform over the slice
    "accumulator = 0". The arrays and circuits are in :attr:`family`
    (a :class:`BitstringFamily`); the most used ones are forwarded as attributes.
    """

    __slots__ = ("_family",)

    def __init__(self, family: BitstringFamily):
        if not isinstance(family, BitstringFamily):
            raise TypeError(f"family must be a BitstringFamily, got {type(family).__name__}")
        self._family = family
        S, A = family.S, family.A
        P = sp.csr_matrix(
            (np.ones(S * A), family.next_state.T.ravel(), np.arange(S * A + 1)), shape=(S * A, S)
        )
        R = np.ascontiguousarray(family.rewards[family.reward_stage].transpose(0, 2, 1))
        super().__init__(P, R, family.H, family.initial)

    @property
    def family(self) -> BitstringFamily:
        return self._family

    def __getattr__(self, name):
        # forward the family's arrays/circuits (n, N, theta, next_state, circuit,
        # transition_bit, reward_table, verify_circuits, ...) for convenience
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "_family"), name)

    def solve_exact(self) -> BitstringSolution:
        """Exact solution by the dedicated kernel (same values as :func:`mdptheory.solve`)."""
        return self._family.solve()

    def _replace(self, **kw) -> EpisodicMDP:  # replace() returns a plain EpisodicMDP
        args = dict(P=self._P, R=self._R, horizon=self._H, initial=self._initial)
        args.update(kw)
        return EpisodicMDP(**args)

    def _repr_extra(self) -> str:
        f = self._family
        extra = f", counter={f.counter}" if f.counter else ""
        th = f", theta={f.theta}" if f.theta is not None else ""
        return f"kind={f.kind}, n={f.n}, N={f.N}{extra}{th}, H={self.H}"


# -- construction helpers ----------------------------------------------------------------


def _check_int(name: str, v, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {v!r}")
    v = int(v)
    if v < lo or (hi is not None and v > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} = {v} must be {rng}")
    return v


def _counter_width(counter: str, n: int) -> int:
    return n if counter == "thermometer" else int(n).bit_length()


def _counter_update(counter: str, t: np.ndarray, inc: np.ndarray, m: int) -> np.ndarray:
    """Vectorised accumulator update (integer arrays)."""
    mask = (1 << m) - 1
    if counter == "thermometer":
        # t'_j = t_j or (t_{j-1} and inc), t_0 == 1   (bit j-1 of the integer is t_j)
        return t | ((((t << 1) | 1) & mask) & (-inc))
    # saturating binary increment
    full = t == mask
    return np.where(full, t, t + inc)


def _counter_ge(counter: str, t: np.ndarray, n: int, theta: int) -> np.ndarray:
    if counter == "thermometer":
        return (t >> (theta - 1)) & 1
    return (t >= theta).astype(np.int64)


def _counter_circuit(b: CircuitBuilder, counter: str, tin: list, inc: int) -> list:
    """Nodes of the updated accumulator bits."""
    m = len(tin)
    if counter == "thermometer":
        out = []
        for j in range(m):
            prev = inc if j == 0 else b.AND(tin[j - 1], inc)
            out.append(b.OR(tin[j], prev))
        return out
    full = b.AND(*tin)
    out = []
    for j in range(m):
        carry = b.AND(inc, *tin[:j]) if j else inc
        out.append(b.OR(full, b.XOR(tin[j], carry)))
    return out


def _ge_circuit(b: CircuitBuilder, counter: str, tnew: list, theta: int) -> int:
    """Node computing "accumulator >= theta" from the updated accumulator bits."""
    if counter == "thermometer":
        return tnew[theta - 1]
    m = len(tnew)
    ones = [i for i in range(m) if (theta >> i) & 1]
    terms = [b.AND(*[tnew[i] for i in ones])] if ones else [b.const(1)]
    for j in range(m):
        if not (theta >> j) & 1:
            higher = [tnew[i] for i in ones if i > j]
            terms.append(b.AND(tnew[j], *higher))
    return b.OR(*terms)


def _feature_table(feature, k) -> np.ndarray:
    g = np.asarray(feature)
    if g.ndim != 1 or g.size < 2 or g.size & (g.size - 1):
        raise ValueError(f"feature must be a 0/1 truth table of length 2**k, got shape {g.shape}")
    if not np.isin(g, (0, 1)).all():
        bad = int(np.flatnonzero(~np.isin(g, (0, 1)))[0])
        raise ValueError(f"feature[{bad}] = {g[bad].item()!r}: a feature truth table must be 0/1")
    return g.astype(np.int64)


def _resolve(kind, n, counter, theta, kappa, feature, max_n):
    """Validate the family parameters; returns ``(n, m, counter, theta, kappa, g, k)``."""
    g = None
    if kind not in FAMILY_KINDS:
        raise ValueError(f"kind = {kind!r} must be one of {FAMILY_KINDS}")
    n = _check_int("n", n, 1, max_n)
    if counter not in _COUNTERS:
        raise ValueError(f"counter = {counter!r} must be one of {_COUNTERS}")
    k_local = 1
    if kind == "local-threshold":
        if feature is None:
            raise ValueError("feature (a 0/1 truth table of length 2**k) is required for kind='local-threshold'")
        g = _feature_table(feature, 1)
        k_local = int(g.size).bit_length() - 1
        if k_local > n:
            raise ValueError(f"feature has k = {k_local} inputs, more than the register length n = {n}")
    elif feature is not None:
        raise ValueError(f"feature is only used by kind='local-threshold', got kind = {kind!r}")
    try:
        kappa = float(kappa)
    except (TypeError, ValueError):
        raise ValueError(f"kappa = {kappa!r} must be a finite number >= 0") from None
    if kind != "collect" and kappa != 0.0:
        raise ValueError(f"kappa is only used by kind='collect', got kappa = {kappa!r}")
    if not np.isfinite(kappa) or kappa < 0:
        raise ValueError(f"kappa = {kappa!r} must be a finite number >= 0")

    if kind == "parity":
        if theta is not None:
            raise ValueError(f"theta is not used by kind='parity', got theta = {theta!r}")
        m = 1
        ctr = None
    else:
        m = _counter_width(counter, n)
        ctr = counter
        if theta is None:
            if kind == "local-threshold":
                theta = max(1, ceil(n * float(g.mean())))
            else:
                theta = max(1, ceil(n / 2))
        theta = _check_int("theta", theta, 1, n)
    return n, m, ctr, theta, kappa, g, k_local


def _build_circuit(kind, n, m, counter, theta, kappa, g, k_local):
    """Explicit circuit of a family (inputs: ``N`` state bits, then the action)."""
    N = n + m
    H = n
    # ---- circuit -------------------------------------------------------------------------
    if kind == "parity":
        tnames = ["t"]
    elif counter == "thermometer":
        tnames = [f"t{j + 1}" for j in range(m)]
    else:
        tnames = [f"c{j}" for j in range(m)]  # binary counter bit j (weight 2**j)
    names = [f"x{i + 1}" for i in range(n)] + tnames + ["a"]
    b = CircuitBuilder(N + 1, names)
    xin = [b.input(i) for i in range(n)]
    tin = [b.input(n + j) for j in range(m)]
    act = b.input(N)
    for i in range(n - 1):
        b.output(f"s'[{i}]", xin[i + 1])
    b.output(f"s'[{n - 1}]", b.const(0))
    if kind == "parity":
        tnew = [b.XOR(tin[0], xin[0])]
        ge_node = tnew[0]
    else:
        if kind == "local-threshold":
            inc_node = b.dnf(g, xin[:k_local])
        elif kind == "collect":
            inc_node = b.AND(xin[0], act)
        else:
            inc_node = xin[0]
        tnew = _counter_circuit(b, counter, tin, inc_node)
        ge_node = _ge_circuit(b, counter, tnew, theta)
    for j in range(m):
        b.output(f"s'[{n + j}]", tnew[j])
    if kind == "collect":
        b.output("r:reach", ge_node)
        b.output("r:a", act)
        last = (0.0, (("r:reach", 1.0), ("r:a", -kappa)))
        step = (0.0, (("r:a", -kappa),))
    else:
        b.output("r:win", b.AND(act, ge_node))
        b.output("r:lose", b.AND(act, b.NOT(ge_node)))
        last = (0.0, (("r:win", 1.0), ("r:lose", -1.0)))
        step = (0.0, ())
    readout = (last,) if H == 1 else (step, last)
    return b.build(), readout


def family_circuit(kind: str, n: int, *, counter: str = "thermometer", theta: int | None = None,
                   kappa: float = 0.0, feature=None) -> Circuit:
    r"""The explicit model circuit of a family without building its ``2^N`` arrays (any
    ``n <= 4096``); same parameters and circuit as :func:`bitstring_family`.

    Inputs: the ``N`` state bits, then the action (input ``N``). Outputs ``"s'[j]"`` (next
    state bit ``j``) and the reward read-outs (``"r:win"``, ``"r:lose"``, or ``"r:reach"``,
    ``"r:a"`` for the collect variant). Gate-level rules (``proofs_notes/circuit_complexity.md``
    §2): thermometer :math:`t'_j = t_j\lor(t_{j-1}\land\iota)` (depth 2); binary counter
    :math:`t'_j = \mathrm{full}\lor(t_j\oplus(\iota\land t_0\land\dots\land t_{j-1}))` (carry
    look-ahead, depth 4); parity :math:`t\oplus x_1` as a 2-term DNF. These circuits are a
    toolkit construction (design notes §1.3 [D]), not circuits from the paper.
    """
    n, m, ctr, theta, kappa, g, k_local = _resolve(kind, n, counter, theta, kappa, feature, 4096)
    return _build_circuit(kind, n, m, counter, theta, kappa, g, k_local)[0]


def bitstring_family(
    kind: str,
    n: int,
    *,
    counter: str = "thermometer",
    theta: int | None = None,
    kappa: float = 0.0,
    feature=None,
) -> BitstringFamily:
    r"""Build the arrays and circuits of one bit-string family (see module docstring).

    Parameters
    ----------
    kind : {"parity", "majority", "collect", "local-threshold"}
        * ``"parity"`` -- parity bet :math:`\mathcal M^\oplus_n` (notes §1.3 (A)):
          one accumulator bit, :math:`t' = t \oplus x_1`; last-stage reward
          :math:`a(2t'-1)`. :math:`V^\star_1(x,t) = t\oplus x_1\oplus\dots\oplus x_n`.
        * ``"majority"`` -- majority bet (§1.3 (B), (C)): counter incremented by
          :math:`x_1`; last-stage reward :math:`a(2\,\mathbf 1[t'\ge\theta]-1)`; on the slice
          ``t = 0`` :math:`V^\star_1(x) = \mathbf 1[|x|\ge\theta]`.
        * ``"collect"`` -- §1.3 (D): the counter is incremented by :math:`x_1 \land a`; reward
          :math:`-\kappa a` at every stage plus :math:`\mathbf 1[t'\ge\theta]` at the last.
          With :math:`\kappa = 0`,
          :math:`Q^\star_h(s,a)=\mathbf 1[c + a x_1 + \sum_{i=2}^{H-h} x_i \ge \theta]`
          (stages ``h = 0..H-1``, valid codes with count ``c``).
        * ``"local-threshold"`` -- §1.3 (E): the counter is incremented by a ``k``-local
          feature :math:`g(x_1, \dots, x_k)` of the head window; bet as for majority. On the
          slice ``t = 0``, :math:`V^\star_1 = \mathbf 1[\sum_{i=1}^n g(x_i..x_{i+k-1}) \ge \theta]`
          (zeros beyond ``x_n``).
    n : int >= 1
        Register length = horizon.
    counter : {"thermometer", "binary"}
        Accumulator code (not used by parity). Thermometer: ``m = n`` bits,
        :math:`t'_j = t_j \lor (t_{j-1}\land inc)` (NC⁰). Binary: ``m = bit_length(n)``
        bits, saturating increment (AC⁰ -- carry look-ahead -- but not NC⁰).
    theta : int, optional
        Threshold, ``1 <= theta <= n``. Default ``ceil(n/2)`` (majority, collect) and
        ``max(1, ceil(n * mean(g)))`` (local-threshold).
    kappa : float >= 0
        Per-step action cost of the collect variant.
    feature : 0/1 array of length ``2**k``
        Truth table of :math:`g` (bit ``i`` of the index is :math:`x_{i+1}`), local-threshold
        only; ``k <= n``. ``feature = [0, 1]`` recovers the majority family.

    Notes
    -----
    These are the design-note constructions ([D]), not the paper's exact MDPs (which could
    not be retrieved); they share the property the paper proves: constant-depth poly-size
    model, non-AC⁰ optimal values.
    """
    n, m, ctr, theta, kappa, g, k_local = _resolve(kind, n, counter, theta, kappa, feature, 24)
    N = n + m
    if N > 24:
        raise ValueError(f"N = n + m = {N} state bits is too large (at most 24 supported)")
    A = 2
    S = 1 << N
    H = n

    # ---- arrays --------------------------------------------------------------------------
    s = np.arange(S, dtype=np.int64)
    x = s & ((1 << n) - 1)
    t = s >> n
    xs = x >> 1
    next_state = np.empty((A, S), dtype=np.int64)
    rewards_last = np.zeros((A, S))
    rewards_step = np.zeros((A, S))
    for a in range(A):
        if kind == "parity":
            tn = t ^ (x & 1)
            ge = tn
        else:
            if kind == "local-threshold":
                inc = g[x & ((1 << k_local) - 1)]
            elif kind == "collect":
                inc = (x & 1) * a
            else:
                inc = x & 1
            tn = _counter_update(counter, t, inc, m)
            ge = _counter_ge(counter, tn, n, theta)
        next_state[a] = xs | (tn << n)
        if kind == "collect":
            rewards_last[a] = ge - kappa * a
            rewards_step[a] = -kappa * a
        else:
            rewards_last[a] = a * (2.0 * ge - 1.0)
    if H == 1:
        rewards = rewards_last[None].copy()
        reward_stage = np.zeros(1, dtype=np.int64)
    else:
        rewards = np.stack([rewards_step, rewards_last])
        reward_stage = np.zeros(H, dtype=np.int64)
        reward_stage[H - 1] = 1

    circuit, readout = _build_circuit(kind, n, m, counter, theta, kappa, g, k_local)
    params = {"kind": kind, "n": n, "counter": ctr, "theta": theta if kind != "parity" else None}
    if kind == "collect":
        params["kappa"] = kappa
    if kind == "local-threshold":
        params["feature"] = tuple(int(v) for v in g)
    for arr in (next_state, rewards, reward_stage):
        arr.flags.writeable = False
    return BitstringFamily(
        kind=kind, n=n, N=N, H=H, A=A, counter=ctr, theta=theta if kind != "parity" else None,
        params=params, next_state=next_state, rewards=rewards, reward_stage=reward_stage,
        circuit=circuit, reward_readout=readout,
    )


def parity_bet(n: int) -> BitstringMDP:
    r"""Parity-bet MDP :math:`\mathcal M^\oplus_n` (design notes §1.3 (A); toolkit construction).

    ``N = n + 1`` state bits (register ``x`` in bits ``0..n-1``, accumulator ``t`` in bit
    ``n``), ``H = n``, actions ``{0, 1}``. Transition (action-independent): shift the register,
    :math:`t' = t\oplus x_1`; every transition bit reads at most 2 input bits. Reward zero
    except at the last stage: :math:`r(s,a) = a(2t'-1)` (a bet that the final accumulator is 1).

    Exact values: :math:`V^\star_0(x, t) = t\oplus x_1\oplus\dots\oplus x_n` (PARITY of all
    ``n + 1`` bits), so :math:`V^\star` has all its Fourier weight at degree ``n + 1`` on the
    full cube and at degree ``n`` on the slice ``t = 0``.

    Returns a :class:`BitstringMDP` (an :class:`~mdptheory.core.EpisodicMDP`); the arrays and
    circuits are in ``.family``.

    .. note::
       Toolkit construction, not the paper's MDP: Zhu, Huang & Russell (ICLR 2024) define
       a Parity MDP whose exact state layout, transition rule and horizon could not be
       retrieved (only the abstract and reviews were available). This family has the property
       the paper proves (model in NC⁰, :math:`V^\star` = PARITY on a slice, not in AC⁰); see
       ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("parity", n).to_mdp()


def majority_bet(n: int, counter: str = "thermometer", theta: int | None = None) -> BitstringMDP:
    r"""Majority-bet MDP (design notes §1.3 (B) thermometer, (C) binary; toolkit construction).

    The register's head bit is added to a counter each step; at the last stage the agent
    bets that the counter reached ``theta`` (default ``ceil(n/2)``):
    :math:`r = a(2\,\mathbf 1[t'\ge\theta]-1)`. On the slice "counter = 0",
    :math:`V^\star_0(x) = \mathbf 1[|x| \ge \theta]` (MAJORITY for ``theta = ceil(n/2)``).

    * ``counter="thermometer"``: ``N = 2n``; :math:`t'_j = t_j \lor (t_{j-1}\land x_1)`; every
      transition bit and the reward read <= 3 bits (NC⁰).
    * ``counter="binary"``: ``N = n + bit_length(n)`` (``N = 21`` at ``n = 16``); saturating
      binary increment, AC⁰ (carry look-ahead) but each counter bit reads the whole counter.

    Returns a :class:`BitstringMDP` (an :class:`~mdptheory.core.EpisodicMDP`).

    .. note::
       Toolkit construction, not the paper's MDP: Zhu, Huang & Russell (ICLR 2024) define
       a Majority MDP whose exact state layout, transition rule and horizon could not be
       retrieved (only the abstract and reviews were available). This family has the property
       the paper proves (model in NC⁰ (thermometer) / AC⁰ (binary), :math:`V^\star` =
       MAJORITY on a slice, not in AC⁰); see ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("majority", n, counter=counter, theta=theta).to_mdp()


def collect_bet(n: int, theta: int | None = None, kappa: float = 0.0, counter: str = "thermometer") -> BitstringMDP:
    r"""Collect variant (design notes §1.3 (D)): actions change the dynamics.

    The counter is incremented by :math:`x_1 \land a`; each action ``a = 1`` costs ``kappa``;
    the last stage pays :math:`\mathbf 1[t' \ge \theta]`. With ``kappa = 0``
    :math:`Q^\star_h(s,a) = \mathbf 1[c + a x_1 + \sum_{i=2}^{H-h} x_i \ge \theta]` for valid
    codes with count ``c``. (No parity analogue: if bits may be skipped, the agent controls
    the parity and :math:`V^\star` collapses to an OR-like function.)

    .. note::
       Toolkit construction, not the paper's MDP: Zhu, Huang & Russell (ICLR 2024) define
       a Majority MDP whose exact state layout, transition rule and horizon could not be
       retrieved (only the abstract and reviews were available). This family has the property
       the paper proves (model in NC⁰ / AC⁰, :math:`V^\star` = a threshold function on a
       slice, not in AC⁰); see ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("collect", n, counter=counter, theta=theta, kappa=kappa).to_mdp()


def local_threshold_bet(n: int, feature, theta: int | None = None, counter: str = "thermometer") -> BitstringMDP:
    r"""Threshold of ``k``-local features (design notes §1.3 (E)).

    The counter is incremented by :math:`g(x_1,\dots,x_k)` (``feature`` = truth table of
    ``g``, length ``2**k``); the model stays NC⁰ (for the thermometer code) while
    :math:`V^\star = \mathbf 1[\sum_i g(\mathrm{window}_i) \ge \theta]` on the slice.
    ``feature = [0, 1]`` (``g = x_1``) recovers :func:`majority_bet`.

    .. note::
       Toolkit construction, not the paper's MDP: Zhu, Huang & Russell (ICLR 2024) define
       a "broad class" of Majority MDPs whose exact state layout, transition rule and
       horizon could not be retrieved (only the abstract and reviews were available). This
       family has the property the paper proves (model in NC⁰ for the thermometer code,
       :math:`V^\star` = a threshold of local counts on a slice, not in AC⁰); see
       ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("local-threshold", n, counter=counter, theta=theta, feature=feature).to_mdp()

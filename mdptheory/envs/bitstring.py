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
binary-counter majority family at ``n = 16`` (``N = 21``, ``H = 16``) that is about
0.45 GB and well under a second of compute; see ``docs/benchmarks.md``. Building the
:class:`BitstringMDP` (core object) additionally stores ``8 H A 2^N`` bytes of rewards
and a CSR kernel (``~20 A 2^N`` bytes), so prefer :func:`bitstring_family` beyond
``N ~ 18``.
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
            if xs.size and (xs.min() < 0 or xs.max() >= (1 << self.n_inputs)):
                raise ValueError(f"inputs must lie in [0, 2**{self.n_inputs}), got range [{xs.min()}, {xs.max()}]")
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

    def summary(self) -> list:
        """``[(name, depth, size, n_not, support size), ...]`` for every output."""
        return [(nm, self.depth(nm), self.size(nm), self.n_not(nm), len(self.support(nm))) for nm in self.output_names]


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
    Numpy twin: :func:`backward_induction_bitstring_reference`.
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


def backward_induction_bitstring_reference(next_state, rewards, reward_stage):
    """Plain-numpy twin of :func:`backward_induction_bitstring`; returns ``(V, pi)``."""
    next_state = np.asarray(next_state)
    A, S = next_state.shape
    H = len(reward_stage)
    V = np.zeros((H + 1, S))
    pi = np.zeros((H, S), dtype=np.int8)
    for h in range(H - 1, -1, -1):
        Q = rewards[reward_stage[h]] + V[h + 1][next_state]  # (A, S)
        V[h] = Q.max(axis=0)
        pi[h] = Q.argmax(axis=0)
    return V, pi


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
        if not 0 <= h < f.H:
            raise ValueError(f"stage h = {h} is outside [0, {f.H})")
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
        if not 0 <= h <= f.H:
            raise ValueError(f"stage h = {h} is outside [0, {f.H}]")
        d = np.array(f.initial if initial is None else initial, dtype=np.float64)
        if d.shape != (f.S,):
            raise ValueError(f"initial must have shape ({f.S},), got {d.shape}")
        idx = np.arange(f.S)
        for k in range(h):
            nxt = f.next_state[self.policy[k].astype(np.int64), idx]
            d = np.bincount(nxt, weights=d, minlength=f.S)
        return d

    def slice_values(self, h: int = 0) -> np.ndarray:
        r""":math:`V^\star_h` on the slice "accumulator = 0": entry ``x`` for ``0 <= x < 2^n``."""
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
        if not 0 <= j < self.N:
            raise ValueError(f"bit j = {j!r} is outside [0, {self.N})")
        return ((self.next_state.ravel() >> j) & 1).astype(np.uint8)

    def transition_bits(self) -> np.ndarray:
        """All next-state bits, ``(N, 2**(N+1))`` uint8."""
        ns = self.next_state.ravel()
        return np.stack([((ns >> j) & 1).astype(np.uint8) for j in range(self.N)])

    def reward_table(self, h: int | None = None) -> np.ndarray:
        """Reward of stage ``h`` (default: the last stage) on ``N + 1`` bits (entry ``s + a 2^N``)."""
        h = self.H - 1 if h is None else int(h)
        if not 0 <= h < self.H:
            raise ValueError(f"stage h = {h} is outside [0, {self.H})")
        return self.rewards[self.reward_stage[h]].ravel().copy()

    def circuit_reward(self, k: int) -> np.ndarray:
        """Reward table ``k`` recomputed from the circuit outputs (entry ``s + a 2^N``)."""
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
    kappa = float(kappa)
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
    """The explicit model circuit of a family without building its ``2^N`` arrays (any
    ``n <= 4096``); same parameters and circuit as :func:`bitstring_family`."""
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
    """
    return bitstring_family("majority", n, counter=counter, theta=theta).to_mdp()


def collect_bet(n: int, theta: int | None = None, kappa: float = 0.0, counter: str = "thermometer") -> BitstringMDP:
    r"""Collect variant (design notes §1.3 (D)): actions change the dynamics.

    The counter is incremented by :math:`x_1 \land a`; each action ``a = 1`` costs ``kappa``;
    the last stage pays :math:`\mathbf 1[t' \ge \theta]`. With ``kappa = 0``
    :math:`Q^\star_h(s,a) = \mathbf 1[c + a x_1 + \sum_{i=2}^{H-h} x_i \ge \theta]` for valid
    codes with count ``c``. (No parity analogue: if bits may be skipped, the agent controls
    the parity and :math:`V^\star` collapses to an OR-like function.)
    """
    return bitstring_family("collect", n, counter=counter, theta=theta, kappa=kappa).to_mdp()


def local_threshold_bet(n: int, feature, theta: int | None = None, counter: str = "thermometer") -> BitstringMDP:
    r"""Threshold of ``k``-local features (design notes §1.3 (E)).

    The counter is incremented by :math:`g(x_1,\dots,x_k)` (``feature`` = truth table of
    ``g``, length ``2**k``); the model stays NC⁰ (for the thermometer code) while
    :math:`V^\star = \mathbf 1[\sum_i g(\mathrm{window}_i) \ge \theta]` on the slice.
    ``feature = [0, 1]`` (``g = x_1``) recovers :func:`majority_bet`.
    """
    return bitstring_family("local-threshold", n, counter=counter, theta=theta, feature=feature).to_mdp()

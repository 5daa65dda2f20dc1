r"""A small Boolean circuit language: unbounded fan-in AND / OR gates, NOT gates, inputs.

:class:`Circuit` is an immutable DAG with named outputs, evaluated on the full cube with
bit-parallel (packed) arithmetic or at given points; :meth:`Circuit.depth`,
:meth:`Circuit.size` and :meth:`Circuit.support` count what the AC⁰ / NC⁰ statements count
(conventions of Håstad 1987 and Arora & Barak 2009, §14.1: NOT gates are free, depth is
the number of AND/OR layers, size the number of distinct AND/OR gates).
:class:`CircuitBuilder` constructs circuits with structural hashing.

The bit-string families (:mod:`mdptheory.envs.bitstring`) build their model circuits with
it, and :mod:`mdptheory.probes.circuits` builds depth-2 circuits of value functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core.validation import check_int

__all__ = ["Circuit", "CircuitBuilder", "CircuitOutputStats"]

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
        n = check_int("n_inputs", self.n_inputs, 0)
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
        self.n_inputs = check_int("n_inputs", n_inputs, 0)
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

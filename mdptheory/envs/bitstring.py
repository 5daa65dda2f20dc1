r"""Bit-string ("shift-register") MDP families.

These families make the representation-complexity question of Zhu, Huang & Russell
(*On Representation Complexity of Model-based and Model-free RL*, ICLR 2024) measurable:
every function involved (transition bits, reward, :math:`Q^\star`, :math:`V^\star`) is known
exactly on the whole cube :math:`\{0,1\}^N`.

The families are **toolkit constructions**, not the paper's MDPs ([reconstruction]: layout,
update rules, rewards and horizon, see ``proofs_notes/circuit_complexity.md``). They have
the property the paper proves: the transition and the reward are computed by
constant-depth, polynomial-size circuits (NC⁰ / AC⁰), while :math:`V^\star_1` restricted to
the slice "accumulator = 0" is PARITY or a threshold (MAJORITY) function, neither of which
is in AC⁰. Their optimal values are proved in ``proofs_notes/circuit_complexity.md`` §1 and
checked against closed forms in the tests.

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
  ``next_state[a, s]``, reward tables, explicit
  :class:`~mdptheory.envs.circuit_language.Circuit`, and an exact numba backward induction
  (:meth:`BitstringFamily.solve`, :mod:`mdptheory.envs.bitstring_solver`) that runs in
  ``O(H A 2^N)`` time;
* a core :class:`~mdptheory.core.EpisodicMDP` (:class:`BitstringMDP`, a subclass with CSR
  ``P`` and dense ``(H, S, A)`` rewards) returned by :func:`parity_bet`,
  :func:`majority_bet`, :func:`collect_bet` and :func:`local_threshold_bet`, usable with
  :func:`mdptheory.solve` / :func:`mdptheory.evaluate`.

Costs of the exact solve: time ``O(H A 2^N)``; memory ``8 (H+1) 2^N`` bytes for ``V`` plus
``H 2^N`` (int8 policy) plus ``8 A 2^N`` (``next_state``) plus ``8 K A 2^N`` (``K`` distinct
reward tables, ``K <= 2``). For the binary-counter majority family at ``n = 16``
(``N = 21``, ``H = 16``) that is ``8*17*2^21 + 16*2^21 + 8*2*2^21 + 8*2*2*2^21`` bytes
= 400 MiB (0.42 GB), and the compiled sweep takes about 0.2 s (``docs/benchmarks.md``; the
study script ``experiments/representation_complexity.py`` re-measures time and peak memory
of every solve it does). Building the :class:`BitstringMDP` (core object) additionally stores
``8 H A 2^N`` bytes of rewards and a CSR kernel (``~20 A 2^N`` bytes), so prefer
:func:`bitstring_family` beyond ``N ~ 18``. Families are built for ``N <= 24``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

import numpy as np
import scipy.sparse as sp

from mdptheory.core import EpisodicMDP
from mdptheory.core.validation import check_choice, check_int, check_real
from mdptheory.envs.bitstring_solver import BitstringSolution, _solve_tables
from mdptheory.envs.circuit_language import Circuit, CircuitBuilder

__all__ = [
    "BitstringFamily",
    "BitstringMDP",
    "bitstring_family",
    "family_circuit",
    "parity_bet",
    "majority_bet",
    "collect_bet",
    "local_threshold_bet",
    "FAMILY_KINDS",
]

#: Family kinds understood by :func:`bitstring_family`.
FAMILY_KINDS = ("parity", "majority", "collect", "local-threshold")

_COUNTERS = ("thermometer", "binary")


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
        j = check_int("bit j", j, 0, self.N - 1)
        return ((self.next_state.ravel() >> j) & 1).astype(np.uint8)

    def transition_bits(self) -> np.ndarray:
        """All next-state bits, ``(N, 2**(N+1))`` uint8."""
        ns = self.next_state.ravel()
        return np.stack([((ns >> j) & 1).astype(np.uint8) for j in range(self.N)])

    def reward_table(self, h: int | None = None) -> np.ndarray:
        """Reward of stage ``h`` (default: the last stage) on ``N + 1`` bits (entry ``s + a 2^N``)."""
        h = self.H - 1 if h is None else check_int("stage h", h, 0, self.H - 1)
        return self.rewards[self.reward_stage[h]].ravel().copy()

    def circuit_reward(self, k: int) -> np.ndarray:
        """Reward table ``k`` recomputed from the circuit outputs (entry ``s + a 2^N``)."""
        k = check_int("reward table k", k, 0, self.rewards.shape[0] - 1)
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
        """Exact :math:`V^\\star` by the compiled kernel
        :func:`~mdptheory.envs.bitstring_solver.backward_induction_bitstring`."""
        V, pi = _solve_tables(self.next_state, self.rewards, self.reward_stage)
        return BitstringSolution(V=V, policy=pi, family=self)

    def to_mdp(self) -> "BitstringMDP":
        """The core :class:`~mdptheory.core.EpisodicMDP` (CSR ``P``) of this family."""
        return BitstringMDP(self)


class BitstringMDP(EpisodicMDP):
    """A bit-string family as a core :class:`~mdptheory.core.EpisodicMDP`.

    ``P`` is a stationary CSR matrix ``(2^N * 2, 2^N)`` with one unit entry per row;
    ``R`` is the stage-dependent ``(H, 2^N, 2)`` array; ``initial`` is uniform over the slice
    "accumulator = 0". The arrays and circuits are in :attr:`family`
    (a :class:`BitstringFamily`); :attr:`n`, :attr:`N`, :meth:`transition_bit`,
    :meth:`reward_table` and the exact solve are also available here.
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

    @property
    def n(self) -> int:
        """Register length (``= H``)."""
        return self._family.n

    @property
    def N(self) -> int:
        """Number of state bits (``S = 2**N``)."""
        return self._family.N

    def transition_bit(self, j: int) -> np.ndarray:
        """:meth:`BitstringFamily.transition_bit` of :attr:`family`."""
        return self._family.transition_bit(j)

    def reward_table(self, h: int | None = None) -> np.ndarray:
        """:meth:`BitstringFamily.reward_table` of :attr:`family`."""
        return self._family.reward_table(h)

    def solve_exact(self) -> BitstringSolution:
        """Exact solution by the dedicated kernel (same values as :func:`mdptheory.solve`)."""
        return self._family.solve()

    solve = solve_exact

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


def _feature_table(feature) -> np.ndarray:
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
    check_choice("kind", kind, FAMILY_KINDS)
    n = check_int("n", n, 1, max_n)
    check_choice("counter", counter, _COUNTERS)
    k_local = 1
    if kind == "local-threshold":
        if feature is None:
            raise ValueError("feature (a 0/1 truth table of length 2**k) is required for kind='local-threshold'")
        g = _feature_table(feature)
        k_local = int(g.size).bit_length() - 1
        if k_local > n:
            raise ValueError(f"feature has k = {k_local} inputs, more than the register length n = {n}")
    elif feature is not None:
        raise ValueError(f"feature is only used by kind='local-threshold', got kind = {kind!r}")
    kappa = check_real("kappa", kappa, 0.0)
    if kind != "collect" and kappa != 0.0:
        raise ValueError(f"kappa is only used by kind='collect', got kappa = {kappa!r}")

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
        theta = check_int("theta", theta, 1, n)
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
    toolkit construction ([reconstruction], ``proofs_notes/circuit_complexity.md``), not
    circuits from the paper.
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
        * ``"parity"`` -- parity bet :math:`\mathcal M^\oplus_n`:
          one accumulator bit, :math:`t' = t \oplus x_1`; last-stage reward
          :math:`a(2t'-1)`. :math:`V^\star_1(x,t) = t\oplus x_1\oplus\dots\oplus x_n`.
        * ``"majority"`` -- majority bet: counter incremented by
          :math:`x_1`; last-stage reward :math:`a(2\,\mathbf 1[t'\ge\theta]-1)`; on the slice
          ``t = 0`` :math:`V^\star_1(x) = \mathbf 1[|x|\ge\theta]`.
        * ``"collect"`` -- the counter is incremented by :math:`x_1 \land a`; reward
          :math:`-\kappa a` at every stage plus :math:`\mathbf 1[t'\ge\theta]` at the last.
          With :math:`\kappa = 0`,
          :math:`Q^\star_h(s,a)=\mathbf 1[c + a x_1 + \sum_{i=2}^{H-h} x_i \ge \theta]`
          (stages ``h = 0..H-1``, valid codes with count ``c``).
        * ``"local-threshold"`` -- the counter is incremented by a ``k``-local
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
    Toolkit constructions ([reconstruction], ``proofs_notes/circuit_complexity.md``), not
    the paper's exact MDPs; they share the property the paper proves: constant-depth
    poly-size model, non-AC⁰ optimal values.
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
    r"""Parity-bet MDP :math:`\mathcal M^\oplus_n` (toolkit construction).

    ``N = n + 1`` state bits (register ``x`` in bits ``0..n-1``, accumulator ``t`` in bit
    ``n``), ``H = n``, actions ``{0, 1}``. Transition (action-independent): shift the register,
    :math:`t' = t\oplus x_1`; every transition bit reads at most 2 input bits. Reward zero
    except at the last stage: :math:`r(s,a) = a(2t'-1)` (a bet that the final accumulator is 1).

    Exact values: :math:`V^\star_0(x, t) = t\oplus x_1\oplus\dots\oplus x_n` (PARITY of all
    ``n + 1`` bits), so :math:`V^\star` has all its Fourier weight at degree ``n + 1`` on the
    full cube and at degree ``n`` on the slice ``t = 0``.

    Returns a :class:`BitstringMDP` (an :class:`~mdptheory.core.EpisodicMDP`); the arrays and
    circuits are in ``.family``.

    [reconstruction] Zhu, Huang & Russell (ICLR 2024) define a Parity MDP whose layout could
    not be read; this family has the property they prove (model in NC⁰, :math:`V^\star` =
    PARITY on a slice, not in AC⁰). See ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("parity", n).to_mdp()


def majority_bet(n: int, counter: str = "thermometer", theta: int | None = None) -> BitstringMDP:
    r"""Majority-bet MDP (toolkit construction; thermometer or binary counter).

    The register's head bit is added to a counter each step; at the last stage the agent
    bets that the counter reached ``theta`` (default ``ceil(n/2)``):
    :math:`r = a(2\,\mathbf 1[t'\ge\theta]-1)`. On the slice "counter = 0",
    :math:`V^\star_0(x) = \mathbf 1[|x| \ge \theta]` (MAJORITY for ``theta = ceil(n/2)``).

    * ``counter="thermometer"``: ``N = 2n``; :math:`t'_j = t_j \lor (t_{j-1}\land x_1)`; every
      transition bit and the reward read <= 3 bits (NC⁰).
    * ``counter="binary"``: ``N = n + bit_length(n)`` (``N = 21`` at ``n = 16``); saturating
      binary increment, AC⁰ (carry look-ahead) but each counter bit reads the whole counter.

    Returns a :class:`BitstringMDP` (an :class:`~mdptheory.core.EpisodicMDP`).

    [reconstruction] Zhu, Huang & Russell (ICLR 2024) define a Majority MDP whose layout
    could not be read; this family has the property they prove (model in NC⁰ (thermometer) /
    AC⁰ (binary), :math:`V^\star` = MAJORITY on a slice, not in AC⁰). See
    ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("majority", n, counter=counter, theta=theta).to_mdp()


def collect_bet(n: int, theta: int | None = None, kappa: float = 0.0, counter: str = "thermometer") -> BitstringMDP:
    r"""Collect variant (toolkit construction): actions change the dynamics.

    The counter is incremented by :math:`x_1 \land a`; each action ``a = 1`` costs ``kappa``;
    the last stage pays :math:`\mathbf 1[t' \ge \theta]`. With ``kappa = 0``
    :math:`Q^\star_h(s,a) = \mathbf 1[c + a x_1 + \sum_{i=2}^{H-h} x_i \ge \theta]` for valid
    codes with count ``c``. (No parity analogue: if bits may be skipped, the agent controls
    the parity and :math:`V^\star` collapses to an OR-like function.)

    [reconstruction] Model in NC⁰ / AC⁰, :math:`V^\star` = a threshold function on a slice,
    not in AC⁰; see ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("collect", n, counter=counter, theta=theta, kappa=kappa).to_mdp()


def local_threshold_bet(n: int, feature, theta: int | None = None, counter: str = "thermometer") -> BitstringMDP:
    r"""Threshold of ``k``-local features (toolkit construction).

    The counter is incremented by :math:`g(x_1,\dots,x_k)` (``feature`` = truth table of
    ``g``, length ``2**k``); the model stays NC⁰ (for the thermometer code) while
    :math:`V^\star = \mathbf 1[\sum_i g(\mathrm{window}_i) \ge \theta]` on the slice.
    ``feature = [0, 1]`` (``g = x_1``) recovers :func:`majority_bet`.

    [reconstruction] A "broad class" of Majority MDPs is claimed by Zhu, Huang & Russell
    (ICLR 2024) without a layout that could be read; this family has the property they prove.
    See ``proofs_notes/circuit_complexity.md``.
    """
    return bitstring_family("local-threshold", n, counter=counter, theta=theta, feature=feature).to_mdp()

r""":func:`compare_representations`: every representation probe applied to the transition
bits, the reward and :math:`Q^\star / V^\star` of a bit-string MDP, in one table.

This is the exact, synthetic analogue of the protocol of Zhu, Huang & Russell (ICLR 2024),
who compare MLP approximation errors of transition, reward and :math:`Q^\star` on MuJoCo
where :math:`Q^\star` is unknown; here every target is known on the whole cube. The probes
are the Fourier measures of :mod:`mdptheory.probes.fourier` and the network-capacity probes
of :mod:`mdptheory.probes.mlp`. The error metric is the *relative* MSE
:math:`\mathbb E(f-\hat f)^2/\mathrm{Var} f` (the "fraction of unexplained variance");
absolute MSEs are reported too because relative error alone is misleading on near-constant
targets.

[reconstruction] The variance normaliser, the probe settings and the visitation weighting
are the toolkit's choices; what is known of the paper's protocol, and what is not, is in
``proofs_notes/circuit_complexity.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from math import comb

import numpy as np

from mdptheory.envs.bitstring import BitstringFamily, BitstringMDP
from mdptheory.envs.bitstring_solver import BitstringSolution
from mdptheory.probes.fourier import (
    _as_cube,
    decision_tree_depth,
    degree_profile,
    low_degree_error,
    sensitivity,
    total_influence,
)
from mdptheory.probes.mlp import (
    MLPFit,
    RandomFeatureCurve,
    _check_widths,
    mlp_fit_error,
    random_feature_error,
    signed_inputs,
)

__all__ = [
    "RandomFeatureCurve",
    "random_feature_error",
    "MLPFit",
    "mlp_fit_error",
    "RepresentationRow",
    "RepresentationTable",
    "compare_representations",
    "signed_inputs",
]


# --------------------------------------------------------------------------------------
# compare_representations
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepresentationRow:
    r"""Probe values for one target function.

    ``kind`` is ``"transition"``, ``"reward"``, ``"Q*"``, ``"V*"`` or ``"V*|slice"``;
    spectral columns are NaN for constant targets; ``dt_depth`` / ``rf_relative_mse`` /
    ``weighted_relative_mse`` / ``mlp_relative_mse`` are ``None`` when the target has too many
    input bits (or basis functions) for that probe or the probe was not requested; circuit
    columns are ``None`` for value functions (no explicit circuit).

    ``weighted_relative_mse`` is the relative error of the best degree-``weighted_degree``
    approximation in :math:`L^2(\rho)` for the optimal policy's visitation :math:`\rho`
    (see :func:`compare_representations`); ``tail1`` / ``tail3`` are the same quantity
    under the uniform measure for degrees 1 / 3.
    """

    target: str
    kind: str
    n_inputs: int
    variance: float
    degree: int
    tail1: float
    tail3: float
    influence: float
    influence_ratio: float
    sensitivity: int
    dt_depth: int | None
    rf_relative_mse: tuple | None
    circuit_depth: int | None
    circuit_size: int | None
    weighted_relative_mse: float | None = None
    mlp_relative_mse: tuple | None = None


@dataclass(frozen=True, eq=False)
class RepresentationTable:
    """Rows of :func:`compare_representations` with helpers for reading them."""

    rows: tuple
    rf_widths: tuple
    description: str = ""
    weighted_degree: int | None = None
    mlp_widths: tuple = ()

    @property
    def columns(self) -> tuple:
        return tuple(f.name for f in fields(RepresentationRow))

    def row(self, target: str) -> RepresentationRow:
        for r in self.rows:
            if r.target == target:
                return r
        raise KeyError(f"target = {target!r} not in the table; targets: {[r.target for r in self.rows]}")

    def select(self, kind: str) -> tuple:
        """Rows of one kind (``"transition"``, ``"reward"``, ``"Q*"``, ``"V*"``, ``"V*|slice"``)."""
        return tuple(r for r in self.rows if r.kind == kind)

    def summary(self) -> dict:
        """Model (max over non-constant transition bits and rewards) vs value rows, keyed by
        measure: ``{"model": {...}, "Q*": {...}, "V*": {...}, "V*|slice": {...}}``. A probe
        that was skipped for some row of a group (too many inputs) gives ``None`` for the
        group, so a maximum is never taken over a subset of the rows."""
        model = [r for r in self.rows if r.kind in ("transition", "reward") and r.variance > 0]

        def agg(rs):
            out = {"degree": max(r.degree for r in rs), "tail1": max(r.tail1 for r in rs),
                   "tail3": max(r.tail3 for r in rs),
                   "influence_ratio": max(r.influence_ratio for r in rs),
                   "sensitivity": max(r.sensitivity for r in rs)}
            def complete(name):
                vals = [getattr(r, name) for r in rs]
                return None if any(v is None for v in vals) else vals

            dts = complete("dt_depth")
            out["dt_depth"] = max(dts) if dts else None
            rfs = complete("rf_relative_mse")
            out["rf_relative_mse"] = tuple(float(v) for v in np.max(np.array(rfs), axis=0)) if rfs else None
            ws = complete("weighted_relative_mse")
            ws = [w for w in ws if not np.isnan(w)] if ws else None
            out["weighted_relative_mse"] = max(ws) if ws else None
            mls = complete("mlp_relative_mse")
            out["mlp_relative_mse"] = tuple(float(v) for v in np.max(np.array(mls), axis=0)) if mls else None
            return out

        res = {"model": agg(model)}
        for kind in ("Q*", "V*", "V*|slice"):
            rs = [r for r in self.select(kind) if r.variance > 0]
            if rs:
                res[kind] = agg(rs)
        return res

    def as_dicts(self) -> list:
        return [{c: getattr(r, c) for c in self.columns} for r in self.rows]

    def to_dataframe(self):
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.as_dicts())

    def to_text(self) -> str:
        def fmt(x):
            if x is None:
                return "-"
            if isinstance(x, tuple):
                return "/".join(f"{v:.2f}" for v in x)
            if isinstance(x, float):
                return "nan" if np.isnan(x) else f"{x:.3f}"
            return str(x)

        cols = ["target", "kind", "n_inputs", "degree", "tail1", "tail3", "influence_ratio", "sensitivity",
                "dt_depth", "rf_relative_mse", "circuit_depth", "circuit_size"]
        if self.weighted_degree is not None:
            cols.insert(cols.index("rf_relative_mse"), "weighted_relative_mse")
        if self.mlp_widths:
            cols.insert(cols.index("circuit_depth"), "mlp_relative_mse")
        head = cols[:]
        head[cols.index("rf_relative_mse")] = "rf@" + "/".join(str(w) for w in self.rf_widths)
        head[cols.index("influence_ratio")] = "I/Var"
        if self.weighted_degree is not None:
            head[cols.index("weighted_relative_mse")] = f"rho-err(deg<={self.weighted_degree})"
        if self.mlp_widths:
            head[cols.index("mlp_relative_mse")] = "mlp@" + "/".join(str(w) for w in self.mlp_widths)
        table = [head] + [[fmt(getattr(r, c)) for c in cols] for r in self.rows]
        w = [max(len(row[i]) for row in table) for i in range(len(cols))]
        lines = ["  ".join(s.ljust(w[i]) for i, s in enumerate(row)) for row in table]
        if self.description:
            lines.insert(0, self.description)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _row(target, kind, values, *, dt_max_bits, rf_max_bits, rf_widths, rf_seeds, seed, cdepth, csize,
         rho=None, weighted_degree=None, weighted_max_features=1024, mlp_widths=(), mlp_max_bits=12,
         mlp_restarts=2):
    v, N = _as_cube(values)
    prof = degree_profile(v)
    infl = total_influence(v)
    var = prof.variance
    const = var <= 1e-24
    nan = float("nan")
    dt = decision_tree_depth(v) if N <= dt_max_bits else None
    rf = None
    if N <= rf_max_bits and not const:
        rf = tuple(float(e) for e in random_feature_error(v, rf_widths, n_seeds=rf_seeds, seed=seed).relative_mse)
    wrel = None
    if weighted_degree is not None and rho is not None:
        k = min(int(weighted_degree), N)
        if sum(comb(N, j) for j in range(k + 1)) <= weighted_max_features:
            wrel = float(low_degree_error(v, k, weights=rho, max_features=weighted_max_features).relative_mse)
    mlp = None
    if mlp_widths and N <= mlp_max_bits and not const:
        mlp = tuple(float(mlp_fit_error(v, int(w), restarts=mlp_restarts, seed=seed).relative_mse) for w in mlp_widths)
    return RepresentationRow(
        target=target, kind=kind, n_inputs=N, variance=float(var), degree=prof.degree,
        tail1=nan if const else prof.tail(1), tail3=nan if const else prof.tail(3), influence=float(infl),
        influence_ratio=nan if const else float(infl / var), sensitivity=sensitivity(v, tol=1e-12),
        dt_depth=dt, rf_relative_mse=rf, circuit_depth=cdepth, circuit_size=csize,
        weighted_relative_mse=wrel, mlp_relative_mse=mlp,
    )


def _visitations(sol: BitstringSolution, h: int):
    r"""State distributions of the optimal policy from the family's initial distribution:
    ``d_h`` (stage ``h``), ``d_{H-1}``, the stage average :math:`\bar d=\frac1H\sum_{k<H}d_k`
    and the average over the stages ``k < H-1`` (``None`` if ``H = 1``). One pass, ``O(H 2^N)``."""
    f = sol.family
    d = f.initial.copy()
    total = np.zeros(f.S)
    early = np.zeros(f.S)
    d_h = d_last = None
    for k in range(f.H):
        if k == h:
            d_h = d.copy()
        if k == f.H - 1:
            d_last = d.copy()
        total += d
        if k < f.H - 1:
            early += d
        d = sol.step(d, k)
    early = early / (f.H - 1) if f.H > 1 else None
    return d_h, d_last, total / f.H, early


def _with_actions(d: np.ndarray) -> np.ndarray:
    """State distribution -> (state, action) weights on ``N + 1`` bits, both actions equally."""
    return np.concatenate([d, d]) / 2.0


def compare_representations(mdp, *, h: int = 0, solution: BitstringSolution | None = None,
                            rf_widths=(8, 32, 128), rf_seeds: int = 3, rf_max_bits: int = 12,
                            dt_max_bits: int = 13, weighted_degree: int | None = 3,
                            weighted_max_features: int = 1024, mlp_widths=(), mlp_max_bits: int = 12,
                            mlp_restarts: int = 2, seed: int = 0) -> RepresentationTable:
    r"""Apply the representation probes to the model and to the optimal values of a
    bit-string MDP (the exact analogue of the paper's transition / reward / :math:`Q^\star`
    comparison; see the module docstring for what is and is not the paper's protocol).

    Targets (each a function on the cube, see :mod:`mdptheory.probes.fourier`):

    * ``s'[j]`` (kind ``"transition"``): bit ``j`` of the next state, on ``N + 1`` bits
      (state bits, then the action);
    * ``r[H-1]`` (and ``r[<H-1]`` when the per-step reward is not identically 0),
      kind ``"reward"``, on ``N + 1`` bits; and ``r[H-1](s,1)``, the last-stage reward of
      action 1 as a function of the ``N`` state bits (the bet's payoff, whose closed forms
      are in ``proofs_notes/circuit_complexity.md`` §3);
    * ``Q*[h]`` (kind ``"Q*"``) on ``N + 1`` bits; ``V*[h]`` (kind ``"V*"``) on the ``N``
      state bits; ``V*[h]|t=0`` (kind ``"V*|slice"``) on the ``n`` register bits.

    Columns: Fourier degree, tail(1), tail(3) (:math:`W^{>k}/\mathrm{Var}`, the uniform-measure
    best degree-``k`` error), total influence and :math:`I/\mathrm{Var}`, sensitivity, exact
    decision-tree depth (targets with at most ``dt_max_bits`` inputs), the weighted best
    degree-``weighted_degree`` relative error under the optimal policy's visitation
    (``None`` when the basis has more than ``weighted_max_features`` functions or
    ``weighted_degree=None``), relative MSE of random-ReLU-feature fits at ``rf_widths``
    (targets with at most ``rf_max_bits`` inputs; mean of ``rf_seeds`` seeds), relative MSE of
    a trained one-hidden-layer MLP at each of ``mlp_widths`` (opt-in: empty by default because
    training costs seconds per target; targets with at most ``mlp_max_bits`` inputs, best of
    ``mlp_restarts``), and the depth / size of the explicit circuit for model targets.

    Visitation weights ([reconstruction], ``proofs_notes/circuit_complexity.md`` §8): with
    :math:`d_k` the state distribution at stage ``k`` of the greedy optimal policy from the
    family's initial distribution (uniform on the slice "accumulator = 0"), ``V*[h]`` uses
    :math:`d_h`, the slice uses :math:`d_h` restricted to the slice, ``Q*[h]`` uses
    :math:`d_h(s)/2` for both actions, the last-stage reward :math:`d_{H-1}(s)/2`, the
    per-step reward the average of :math:`d_k/2` over ``k < H-1``, and the transition bits
    the average over all stages.

    Parameters
    ----------
    mdp : BitstringMDP or BitstringFamily
    h : int
        Stage of the value targets (default 0, the first stage).
    solution : BitstringSolution, optional
        Reuse an existing exact solution of this family (or of a family with identical
        parameters).
    seed : int
        Seed of the random features and MLP initialisations (``numpy.random.SeedSequence``).
    """
    if isinstance(mdp, BitstringMDP):
        fam = mdp.family
    elif isinstance(mdp, BitstringFamily):
        fam = mdp
    else:
        raise TypeError(
            f"mdp must be a BitstringMDP or BitstringFamily (see mdptheory.envs), got {type(mdp).__name__}"
        )
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 0 <= h < fam.H:
        raise ValueError(f"h = {h!r} must be a stage in [0, {fam.H})")
    if solution is None:
        sol = fam.solve()
    else:
        if not isinstance(solution, BitstringSolution):
            raise TypeError(f"solution must be a BitstringSolution, got {type(solution).__name__}")
        if solution.family is not fam and solution.family.params != fam.params:
            raise ValueError(f"solution belongs to the family {solution.family.params}, not to {fam.params}")
        sol = solution
    rf_widths = tuple(int(w) for w in _check_widths(rf_widths, "rf_widths"))
    mlp_widths = () if mlp_widths is None or len(mlp_widths) == 0 else tuple(
        int(w) for w in _check_widths(mlp_widths, "mlp_widths"))
    if weighted_degree is not None and (isinstance(weighted_degree, bool)
                                        or not isinstance(weighted_degree, (int, np.integer)) or weighted_degree < 0):
        raise ValueError(f"weighted_degree = {weighted_degree!r} must be None or an integer >= 0")
    common = dict(dt_max_bits=dt_max_bits, rf_max_bits=rf_max_bits, rf_widths=rf_widths, rf_seeds=rf_seeds, seed=seed,
                  weighted_degree=weighted_degree, weighted_max_features=weighted_max_features,
                  mlp_widths=mlp_widths, mlp_max_bits=mlp_max_bits, mlp_restarts=mlp_restarts)
    if weighted_degree is not None:
        d_h, d_last, d_avg, d_early = _visitations(sol, int(h))
    else:
        d_h = d_last = d_avg = d_early = None

    def sa(d):
        return None if d is None else _with_actions(d)

    rows = []
    C = fam.circuit
    rho_model = sa(d_avg)
    for j, tb in enumerate(fam.transition_bits()):
        nm = f"s'[{j}]"
        rows.append(_row(nm, "transition", tb, cdepth=C.depth(nm), csize=C.size(nm), rho=rho_model, **common))
    last_k = int(fam.reward_stage[fam.H - 1])
    for k in range(fam.rewards.shape[0]):
        offset, terms = fam.reward_readout[k]
        names = [t for t, w in terms if w != 0]
        stage = "H-1" if k == last_k else "<H-1"
        vals = fam.rewards[k].ravel()
        if stage == "<H-1" and not np.any(vals):
            continue
        cd = C.depth(names) if names else 0
        cs = C.size(names) if names else 0
        rho = sa(d_last) if stage == "H-1" else sa(d_early)
        rows.append(_row(f"r[{stage}]", "reward", vals, cdepth=cd, csize=cs, rho=rho, **common))
    r1 = fam.rewards[last_k, 1]
    names = [t for t, w in fam.reward_readout[last_k][1] if w != 0]
    rows.append(_row("r[H-1](s,1)", "reward", r1, cdepth=C.depth(names) if names else 0,
                     csize=C.size(names) if names else 0, rho=d_last, **common))
    rows.append(_row(f"Q*[{h}]", "Q*", sol.q_values(h), cdepth=None, csize=None, rho=sa(d_h), **common))
    rows.append(_row(f"V*[{h}]", "V*", sol.V[h], cdepth=None, csize=None, rho=d_h, **common))
    rho_slice = None
    if d_h is not None:
        rho_slice = d_h[: 1 << fam.n]
        rho_slice = rho_slice if rho_slice.sum() > 0 else None
    rows.append(_row(f"V*[{h}]|t=0", "V*|slice", sol.slice_values(h), cdepth=None, csize=None, rho=rho_slice,
                     **common))
    desc = (f"{fam.kind} n={fam.n} N={fam.N}" + (f" counter={fam.counter}" if fam.counter else "")
            + (f" theta={fam.theta}" if fam.theta is not None else ""))
    return RepresentationTable(rows=tuple(rows), rf_widths=rf_widths, description=desc,
                               weighted_degree=None if weighted_degree is None else int(weighted_degree),
                               mlp_widths=mlp_widths)

r"""Markov-chain quantities of a stationary policy: stationary (limiting-average)
distribution (of a policy's chain or of a chain matrix given directly), expected hitting
times, and the span of the optimal bias. Definitions and their role in regret bounds:
``proofs_notes/hardness_measures.md``."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, issparse
from scipy.sparse.csgraph import breadth_first_order, connected_components

from mdptheory.core import DiscountedMDP, to_stochastic, validate_policy
from mdptheory.core.validation import check_distribution, check_finite_array
from mdptheory.measures._common import stationary_arrays
from mdptheory.solvers import solve

__all__ = ["policy_chain", "stationary_distribution", "hitting_times", "bias_span"]


def policy_chain(mdp, policy) -> np.ndarray:
    r"""Transition matrix :math:`P_\pi(s, s') = \sum_a \pi(a|s) P(s'|s,a)` of a stationary
    policy (``(S,)`` ints or ``(S, A)`` probabilities) on time-homogeneous dynamics."""
    P, _ = stationary_arrays(mdp, "policy_chain")
    spec = validate_policy(mdp, policy)
    table = spec.table
    if table.ndim == (2 if spec.deterministic else 3):
        if not np.all(table == table[0]):
            raise ValueError("policy must be stationary (the same at every stage)")
        table = table[0]
    probs = to_stochastic(type(spec)(table, spec.deterministic), mdp.A)
    return np.einsum("sa,sat->st", probs, P)


def _chain_matrix(P) -> np.ndarray:
    """A state-to-state chain given directly, as a dense, validated ``(S, S)`` array."""
    M = P.toarray() if issparse(P) else P
    M = check_finite_array("P", M, ndim=2)
    if M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"a chain matrix P must have shape (S, S) with S >= 1, got {M.shape}")
    return check_distribution("P", M)


def stationary_distribution(mdp, policy=None, initial=None) -> np.ndarray:
    r"""Limiting-average distribution :math:`\bar\mu = \lim_{T} \frac1T\sum_{t<T} \mu P^t`
    of a Markov chain :math:`P` started from :math:`\mu` = ``initial``.

    Parameters
    ----------
    mdp : DiscountedMDP or EpisodicMDP, or array_like / scipy.sparse matrix ``(S, S)``
        A model with stage-independent dynamics, whose chain under ``policy`` is
        :math:`P_\pi` (:func:`policy_chain`); or the row-stochastic state-to-state matrix
        :math:`P` itself.
    policy : array, optional
        Stationary policy, ``(S,)`` actions or ``(S, A)`` probabilities: required with a
        model, omitted with a matrix.
    initial : array ``(S,)``, optional
        Initial distribution; default ``mdp.initial`` for a model, uniform for a matrix.

    Notes
    -----
    Exact: each closed recurrent class ``C`` of :math:`P` has a unique stationary law
    :math:`\pi_C` (a linear solve), the chain is absorbed in ``C`` with probability
    :math:`\beta_C` (a linear solve over the transient states), and
    :math:`\bar\mu = \sum_C \beta_C \pi_C`. For a chain with a single closed class (an
    irreducible or unichain one) this is its unique stationary distribution, whatever
    ``initial``.
    """
    if issparse(mdp) or isinstance(mdp, (np.ndarray, list, tuple)):
        if policy is not None:
            raise ValueError("policy must be omitted when the chain is given as an (S, S) matrix")
        M = _chain_matrix(mdp)
        if initial is None:
            initial = np.full(M.shape[0], 1.0 / M.shape[0])
    else:
        if policy is None:
            raise ValueError("policy is required with an MDP (or pass the (S, S) chain matrix)")
        M = policy_chain(mdp, policy)
        if initial is None:
            initial = mdp.initial
    S = M.shape[0]
    mu = np.asarray(initial, dtype=np.float64)
    if mu.shape != (S,):
        raise ValueError(f"initial must be a distribution of shape ({S},), got shape {mu.shape}")
    bad = ~np.isfinite(mu) | (mu < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"initial[{i}] = {float(mu[i])!r}: an initial distribution must be finite and >= 0")
    if abs(mu.sum() - 1) > 1e-10:
        raise ValueError(f"initial sums to {float(mu.sum())!r}, not 1 (tolerance 1e-10)")
    adj = M > 0
    n, lab = connected_components(csr_matrix(adj.astype(np.int8)), directed=True, connection="strong")
    closed = [c for c in range(n) if not np.any(adj[lab == c][:, lab != c])]
    rec = np.isin(lab, closed)
    trans = np.flatnonzero(~rec)
    out = np.zeros(S)
    if trans.size:
        N = np.linalg.inv(np.eye(trans.size) - M[np.ix_(trans, trans)])
    for c in closed:
        idx = np.flatnonzero(lab == c)
        k = idx.size
        Mc = M[np.ix_(idx, idx)]
        Aeq = np.vstack([(Mc.T - np.eye(k)), np.ones((1, k))])
        b = np.zeros(k + 1)
        b[-1] = 1.0
        pic = np.linalg.lstsq(Aeq, b, rcond=None)[0]
        beta = mu[idx].sum()
        if trans.size:
            beta += mu[trans] @ N @ M[np.ix_(trans, idx)].sum(axis=1)
        out[idx] = beta * np.maximum(pic, 0.0)
    return out / out.sum()


def hitting_times(mdp, policy, target) -> np.ndarray:
    r"""Expected number of steps :math:`\mathbb E[\tau_T \mid s_0 = s]` for the chain of
    ``policy`` to enter the target set ``T`` (a state or a list of states).

    ``0`` on the target, ``inf`` from states that avoid the target with positive
    probability (decided combinatorially: such states can reach, without passing through
    ``T``, a state that cannot reach ``T``). The finite values solve
    :math:`(I - Q) h = \mathbf 1` on the remaining states.
    """
    M = policy_chain(mdp, policy)
    S = M.shape[0]
    tgt = np.atleast_1d(np.asarray(target))
    if tgt.size == 0 or tgt.ndim != 1 or not np.issubdtype(tgt.dtype, np.integer):
        raise ValueError(f"target must be one or more integer states in [0, {S}), got {target!r}")
    out = (tgt < 0) | (tgt >= S)
    if out.any():
        i = int(np.argmax(out))
        raise ValueError(f"target[{i}] = {int(tgt[i])} is not a state in [0, {S})")
    is_t = np.zeros(S, dtype=bool)
    is_t[tgt] = True
    adj = M > 0
    # states that can reach the target
    rev = csr_matrix(adj.T.astype(np.int8))
    can = np.zeros(S, dtype=bool)
    for t in np.flatnonzero(is_t):
        can[breadth_first_order(rev, int(t), directed=True, return_predecessors=False)] = True
    # states that can reach a "cannot" state while avoiding the target
    avoid = adj.copy()
    avoid[is_t] = False
    bad = ~can
    rev_avoid = csr_matrix(avoid.T.astype(np.int8))
    for z in np.flatnonzero(~can):
        bad[breadth_first_order(rev_avoid, int(z), directed=True, return_predecessors=False)] = True
    bad &= ~is_t
    h = np.full(S, np.inf)
    h[is_t] = 0.0
    F = np.flatnonzero(~bad & ~is_t)
    if F.size:
        h[F] = np.linalg.solve(np.eye(F.size) - M[np.ix_(F, F)], np.ones(F.size))
    return h


def bias_span(mdp, tol: float = 1e-9) -> float:
    r"""Span :math:`\max_s h^*(s) - \min_s h^*(s)` of the optimal bias of the
    average-reward problem on ``(P, R)`` (discount / horizon ignored).

    Computed with relative value iteration (``mdptheory.solve(..., method="rvi")``, with the
    aperiodicity transform ``tau = 0.5``); the optimal bias is unique up to a constant for
    weakly communicating MDPs, which is required (``ValueError`` otherwise, with the
    reason from :func:`mdptheory.measures.communication_class`). Accuracy: RVI certifies
    the gain to ``tol``; the bias is accurate to ``O(tol)`` times the mixing time.
    """
    from mdptheory.measures.structure import communication_class

    P, R = stationary_arrays(mdp, "bias_span")
    cls = communication_class(mdp)
    if cls.kind == "not weakly communicating":
        raise ValueError(f"the optimal bias span is not defined here: {cls.reason}")
    sol = solve(DiscountedMDP(P, R, 0.5), method="rvi", tol=tol, tau=0.5)
    return float(sol.V.max() - sol.V.min())

r"""Random MDPs: Garnet (sparse, fixed branching) and dense Dirichlet MDPs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mdptheory.envs._build import make_mdp
from mdptheory.core.validation import check_generator, check_int, check_real

__all__ = ["garnet", "random_dense"]


def garnet(S: int, A: int, branching: int, seed=0, horizon: int | None = None,
           gamma: float | None = None, *, sparse: bool = False, initial=None):
    r"""Garnet random MDP (Archibald, McKinnon & Thomas 1995; Bhatnagar et al. 2009).

    For every ``(s, a)`` independently: ``branching`` distinct next states are drawn
    uniformly without replacement, and their probabilities are the gaps between
    ``branching - 1`` uniform cut points of ``[0, 1]`` (sorted), i.e. a uniform point of the
    simplex. Mean rewards :math:`r(s,a) \sim U[0,1]` (deterministic rewards, N1; the
    reward law is our choice, Garnet papers vary). Initial distribution uniform unless
    ``initial`` is given. All draws come from ``numpy.random.default_rng(seed)`` in a fixed
    order, so equal seeds give bit-identical models.

    Parameters
    ----------
    S, A : int >= 1
    branching : int in ``1..S``
    seed : int or numpy.random.Generator
    horizon : int, optional
        Episodic horizon (default ``S`` when ``gamma`` is not given).
    gamma : float in [0, 1), optional
    sparse : bool
        Store ``P`` as CSR ``(S*A, S)`` (``S * A * branching`` non-zeros).
    initial : None, int or array (S,)
    """
    S = check_int("S", S, 1)
    A = check_int("A", A, 1)
    b = check_int("branching", branching, 1, S)
    rng = check_generator(seed)
    rows = np.repeat(np.arange(S * A), b)
    cols = np.empty(S * A * b, dtype=np.int64)
    vals = np.empty(S * A * b)
    for k in range(S * A):
        nxt = rng.choice(S, size=b, replace=False)
        cuts = np.sort(rng.random(b - 1))
        p = np.diff(np.concatenate(([0.0], cuts, [1.0])))
        order = np.argsort(nxt)
        cols[k * b:(k + 1) * b] = nxt[order]
        vals[k * b:(k + 1) * b] = p[order]
    R = rng.random((S, A))
    Psp = sp.csr_matrix((vals, (rows, cols)), shape=(S * A, S))
    Psp.sum_duplicates()
    # exact row sums (the cut-point gaps sum to 1 only up to round-off)
    Psp = sp.csr_matrix(sp.diags(1.0 / np.asarray(Psp.sum(axis=1)).ravel()) @ Psp)
    P = Psp if sparse else Psp.toarray().reshape(S, A, S)
    init = np.full(S, 1.0 / S) if initial is None else initial
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=init, default_horizon=S,
                    family="garnet")


def random_dense(S: int, A: int, seed=0, horizon: int | None = None, gamma: float | None = None,
                 *, concentration: float = 1.0, initial=None):
    r"""Dense random MDP: :math:`P(\cdot|s,a) \sim \mathrm{Dirichlet}(\alpha \mathbf 1_S)`
    independently, :math:`r(s,a) \sim U[0,1]` (N1), uniform initial distribution unless
    ``initial`` is given.

    ``concentration = alpha = 1`` is the uniform distribution on the simplex (the
    ``random_discrete_dp`` convention of QuantEcon draws rows the same way); small
    ``alpha`` gives nearly deterministic rows, large ``alpha`` nearly uniform ones.

    Parameters
    ----------
    S, A : int >= 1
    seed : int or numpy.random.Generator
    horizon : int, optional
        Episodic horizon (default ``S`` when ``gamma`` is not given).
    gamma : float in [0, 1), optional
    concentration : float > 0
    initial : None, int or array (S,)
    """
    S = check_int("S", S, 1)
    A = check_int("A", A, 1)
    alpha = check_real("concentration", concentration, 0.0, low_open=True)
    rng = check_generator(seed)
    P = rng.dirichlet(np.full(S, alpha), size=(S, A))
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.random((S, A))
    init = np.full(S, 1.0 / S) if initial is None else initial
    return make_mdp(P, R, horizon=horizon, gamma=gamma, initial=init, default_horizon=S,
                    family="random_dense")

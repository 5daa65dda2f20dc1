r"""ReLU-network capacity probes on the Boolean cube: how well does a network of a given
width fit a function known on all ``2^N`` inputs?

* :func:`random_feature_error` (proxy A) -- random ReLU features of increasing width plus
  least squares: a one-hidden-layer net whose first layer is drawn, not trained;
* :func:`mlp_fit_error` (proxy B) -- a small ReLU MLP (1 or 2 hidden layers) trained full
  batch by L-BFGS (numpy forward/backward, :func:`scipy.optimize.minimize`).

Both report the *relative* MSE :math:`\mathbb E(f-\hat f)^2/\mathrm{Var} f` (the fraction of
unexplained variance) on the whole cube, next to the absolute MSE. Inputs are encoded as
:math:`\bar x = 1 - 2x \in \{\pm1\}^N` (:func:`signed_inputs`). Seeds come from
``numpy.random.SeedSequence(seed).spawn(k)``: the same seed gives identical numbers.

[reconstruction] The normaliser, the random-feature distribution and the training settings
are the toolkit's choices, not the protocol of Zhu, Huang & Russell (ICLR 2024); see
``proofs_notes/circuit_complexity.md``. :mod:`mdptheory.probes.representation` applies
both probes to the model and the optimal values of a bit-string MDP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from mdptheory.probes.fourier import _as_cube

__all__ = [
    "RandomFeatureCurve",
    "random_feature_error",
    "MLPFit",
    "mlp_fit_error",
    "signed_inputs",
]


def signed_inputs(N: int) -> np.ndarray:
    r"""The cube as a ``(2^N, N)`` float matrix of :math:`\bar x = 1 - 2x \in \{\pm1\}`."""
    x = np.arange(1 << N)[:, None]
    return 1.0 - 2.0 * ((x >> np.arange(N)[None, :]) & 1)


def _check_widths(widths, name: str = "widths") -> np.ndarray:
    w = np.asarray(widths)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d list of positive integers, got {widths!r}")
    for i, v in enumerate(w.tolist()):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}[{i}] = {v!r} must be a positive integer")
    return w.astype(np.int64)


def _seed_streams(seed, n: int):
    ss = np.random.SeedSequence(seed)
    return [np.random.default_rng(c) for c in ss.spawn(n)]


# --------------------------------------------------------------------------------------
# Proxy A: random ReLU features
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RandomFeatureCurve:
    r"""Least-squares fit with random ReLU features, by width.

    Attributes
    ----------
    widths : int array ``(W,)``
    relative_mse : ``(W,)``
        Mean over seeds of :math:`\mathbb E(f-\hat f)^2/\mathrm{Var} f` (NaN if constant).
    mse : ``(W,)``
        Mean over seeds of :math:`\mathbb E(f-\hat f)^2` (uniform measure on the cube).
    relative_mse_per_seed : ``(n_seeds, W)``
    variance : float
    seed, n_seeds : int
    """

    widths: np.ndarray
    relative_mse: np.ndarray
    mse: np.ndarray
    relative_mse_per_seed: np.ndarray
    variance: float
    seed: int
    n_seeds: int


def random_feature_error(values, widths=(2, 4, 8, 16, 32, 64, 128, 256, 512), n_seeds: int = 5,
                         seed: int = 0) -> RandomFeatureCurve:
    r"""MLP-width proxy A: random ReLU features + least squares.

    For each seed draw :math:`W\sim\mathcal N(0, 1/N)^{N\times w_{\max}}` and
    :math:`b\sim\mathcal N(0, 0.25)^{w_{\max}}`; features
    :math:`\max(0, \bar xW + b)` with :math:`\bar x = 1-2x`, plus a bias column; width ``w``
    uses the first ``w`` features (so the curve of each seed is non-increasing in ``w``).
    The fit is ordinary least squares on all ``2^N`` inputs. Cost ``O(2^N w^2)`` per width.
    Seeds come from ``numpy.random.SeedSequence(seed).spawn(n_seeds)`` (same seed =>
    identical numbers).
    """
    v, N = _as_cube(values)
    widths = _check_widths(widths)
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, (int, np.integer)) or n_seeds < 1:
        raise ValueError(f"n_seeds = {n_seeds!r} must be a positive integer")
    if N > 16:
        raise ValueError(f"random_feature_error fits on all 2^N inputs; N = {N} > 16 is too large")
    X = signed_inputs(N)
    var = float(v.var())
    wmax = int(widths.max())
    rel = np.empty((n_seeds, widths.size))
    mse = np.empty((n_seeds, widths.size))
    for r, rng in enumerate(_seed_streams(seed, n_seeds)):
        W = rng.normal(0.0, 1.0 / np.sqrt(max(N, 1)), size=(N, wmax))
        b = rng.normal(0.0, 0.5, size=wmax)
        D = np.hstack([np.ones((v.size, 1)), np.maximum(X @ W + b, 0.0)])
        # One Householder QR serves every nested width: when R[:k, :k] is non-singular,
        # span(Q[:, :k]) = span(D[:, :k]) and the least-squares residual is y - Q_k Q_k^T y.
        ncol = min(D.shape)
        Q, R = np.linalg.qr(D[:, :ncol])
        diag = np.abs(np.diag(R))
        ok = np.cumprod(diag > 1e-9 * max(diag.max(), 1e-300)).astype(bool)
        qty = Q.T @ v
        for c, w in enumerate(widths):
            k = int(w) + 1
            if k <= ncol and ok[k - 1]:
                res = v - Q[:, :k] @ qty[:k]
            else:  # rank-deficient prefix (e.g. more features than points): SVD least squares
                coef, *_ = np.linalg.lstsq(D[:, :k], v, rcond=None)
                res = v - D[:, :k] @ coef
            e = float(np.mean(res ** 2))
            mse[r, c] = e
            rel[r, c] = e / var if var > 0 else float("nan")
    return RandomFeatureCurve(widths=widths, relative_mse=rel.mean(axis=0), mse=mse.mean(axis=0),
                              relative_mse_per_seed=rel, variance=var, seed=int(seed), n_seeds=int(n_seeds))


# --------------------------------------------------------------------------------------
# Proxy B: a small trained MLP (numpy forward/backward, scipy L-BFGS)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MLPFit:
    r"""Result of :func:`mlp_fit_error` (best of ``restarts`` trainings).

    ``relative_mse`` is :math:`\mathbb E(f-\hat f)^2/\mathrm{Var}f` (``1 - R^2``) on the
    full cube; ``mse`` the absolute mean squared error.
    """

    width: int
    hidden_layers: int
    relative_mse: float
    mse: float
    variance: float
    n_params: int
    restarts: int
    iterations: int
    params: np.ndarray = field(repr=False)


def _shapes(N, width, layers):
    dims = [N] + [width] * layers + [1]
    return [(dims[i], dims[i + 1]) for i in range(len(dims) - 1)]


def _unpack(theta, shapes):
    out, k = [], 0
    for a, b in shapes:
        W = theta[k:k + a * b].reshape(a, b)
        k += a * b
        c = theta[k:k + b]
        k += b
        out.append((W, c))
    return out


def _loss_grad(theta, X, y, var, shapes):
    layers = _unpack(theta, shapes)
    acts = [X]
    pre = []
    h = X
    for W, c in layers[:-1]:
        z = h @ W + c
        pre.append(z)
        h = np.maximum(z, 0.0)
        acts.append(h)
    W, c = layers[-1]
    out = (h @ W + c)[:, 0]
    r = out - y
    L = y.size
    loss = float(r @ r) / (L * var)
    g_out = (2.0 / (L * var)) * r[:, None]
    grads = []
    delta = g_out
    for i in range(len(layers) - 1, -1, -1):
        W, c = layers[i]
        grads.append((acts[i].T @ delta, delta.sum(axis=0)))
        if i > 0:
            delta = (delta @ W.T) * (pre[i - 1] > 0)
    grads.reverse()
    g = np.concatenate([np.concatenate([gW.ravel(), gc]) for gW, gc in grads])
    return loss, g


def mlp_fit_error(values, width: int, hidden_layers: int = 1, restarts: int = 3, seed: int = 0,
                  maxiter: int = 3000) -> MLPFit:
    r"""Relative MSE of a trained ReLU MLP on all ``2^N`` inputs (MLP-width proxy B).

    Architecture: ``hidden_layers`` (1 or 2) fully connected ReLU layers of ``width`` units
    on :math:`\bar x = 1-2x`, linear output. Loss: :math:`\mathbb E(f-\hat f)^2/\mathrm{Var}f`,
    minimised full-batch by L-BFGS (``scipy.optimize.minimize``) from He-initialised weights;
    the best of ``restarts`` seeded runs is reported. Training is a local search: the result
    is an *upper bound* on the best achievable error at this width.
    """
    v, N = _as_cube(values)
    for name, val, lo in (("width", width, 1), ("restarts", restarts, 1), ("maxiter", maxiter, 1)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < lo:
            raise ValueError(f"{name} = {val!r} must be an integer >= {lo}")
    if hidden_layers not in (1, 2):
        raise ValueError(f"hidden_layers = {hidden_layers!r} must be 1 or 2")
    if N > 16:
        raise ValueError(f"mlp_fit_error trains on all 2^N inputs; N = {N} > 16 is too large")
    X = signed_inputs(N)
    var = float(v.var())
    shapes = _shapes(N, int(width), hidden_layers)
    n_params = sum(a * b + b for a, b in shapes)
    if var <= 0:
        return MLPFit(width=int(width), hidden_layers=hidden_layers, relative_mse=0.0, mse=0.0, variance=0.0,
                      n_params=n_params, restarts=0, iterations=0, params=np.zeros(n_params))
    best = None
    for rng in _seed_streams(seed, restarts):
        parts = []
        for i, (a, b) in enumerate(shapes):
            parts.append(rng.normal(0.0, np.sqrt(2.0 / max(a, 1)), size=a * b))
            parts.append(np.full(b, float(v.mean())) if i == len(shapes) - 1 else rng.normal(0.0, 0.1, size=b))
        theta0 = np.concatenate(parts)
        res = scipy.optimize.minimize(_loss_grad, theta0, args=(X, v, var, shapes), jac=True, method="L-BFGS-B",
                                      options={"maxiter": int(maxiter), "ftol": 1e-15, "gtol": 1e-10})
        if best is None or res.fun < best.fun:
            best = res
    rel = float(best.fun)
    return MLPFit(width=int(width), hidden_layers=hidden_layers, relative_mse=rel, mse=rel * var, variance=var,
                  n_params=n_params, restarts=int(restarts), iterations=int(best.nit), params=best.x)

r"""The "zig-zag relay": Bellman completeness needs width growing with ``S``, RCSL does not.

Zhou, Zhu, Zhou, Cui, Gupta & Du (ICLR 2024, "Free from Bellman Completeness", arXiv
2310.19308) prove that *some* natural environment needs two-layer-MLP width linear in the
number of states for Bellman completeness while return-conditioned supervised learning
(RCSL) needs constant width. Their environment could not be read; this module builds a
[reconstruction] with the same property, proved in ``proofs_notes/zigzag_relay.md``.

Construction (``n`` even; states ``s = 1..n`` stored as ``0..n-1``; embedding
:math:`x_s=s/n`; actions ``{0, 1}``; horizon 2; deterministic; uniform initial state):

* step 1: action 0 keeps the state, action 1 applies the interleaving permutation
  :math:`\pi(s)=(s+1)/2` (``s`` odd), :math:`n/2+s/2` (``s`` even), i.e.
  :math:`1, n/2+1, 2, n/2+2, \dots`;
* rewards :math:`r_1(s,a)=a/2`, :math:`r_2(s',a')=a'` (step 2's transition is the identity).

Then :math:`Q^\star_2(s',a')=a'`, :math:`Q^\star_1(s,a)=1+a/2` (width 1), and for
:math:`f(s',a')=\mathrm{ReLU}(x_{s'})` the Bellman image :math:`(T_1f)(s,1)=\tfrac12+\pi(s)/n`
zig-zags in ``s``, so any interpolating width-``w`` two-layer ReLU net on the scalar input
needs :math:`w\ge\lfloor(n-1)/2\rfloor`. Completeness is trivial with one-hot inputs: the
separation needs the low-dimensional embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdptheory.core import EpisodicMDP

__all__ = ["ZigZagRelay", "zigzag_relay", "interleave"]


def interleave(n: int) -> np.ndarray:
    """The interleaving permutation on ``0..n-1`` (0-indexed form of ``1, n/2+1, 2, ...``)."""
    s = np.arange(1, n + 1)
    img = np.where(s % 2 == 1, (s + 1) // 2, n // 2 + s // 2)
    return (img - 1).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ZigZagRelay:
    r"""The zig-zag relay instance.

    Attributes
    ----------
    mdp : EpisodicMDP
        ``S = n``, ``A = 2``, ``H = 2``.
    n : int
    embedding : ndarray ``(n,)``
        :math:`x_s=s/n`.
    permutation : ndarray ``(n,)``
        Step-1 successor under action 1 (0-indexed).
    f_next : ndarray ``(n, 2)``
        The width-1 function :math:`f(s',a')=\mathrm{ReLU}(x_{s'})` at step 2.
    bellman_image : ndarray ``(n, 2)``
        :math:`(T_1f)(s,a)=r_1(s,a)+\max_{a'}f(\sigma_a(s),a')`.
    q_star : ndarray ``(2, n, 2)``
        Closed-form :math:`Q^\star` (``Q[0]`` = step 1, ``Q[1]`` = step 2).
    rcsl_returns : ndarray ``(4,)``
        Possible returns-to-go from step 1: ``0, 1/2, 1, 3/2``.
    """

    mdp: EpisodicMDP
    n: int
    embedding: np.ndarray
    permutation: np.ndarray
    f_next: np.ndarray
    bellman_image: np.ndarray
    q_star: np.ndarray
    rcsl_returns: np.ndarray

    @staticmethod
    def rcsl_policy(step: int, g) -> np.ndarray:
        r"""The optimal return-conditioned policy (independent of the state):
        :math:`\pi_1(s,g)=\mathbf 1[g\ge5/4]`, :math:`\pi_2(s',g)=\mathbf 1[g\ge1/2]`."""
        g = np.asarray(g, dtype=np.float64)
        if step == 0:
            return (g >= 1.25).astype(np.int64)
        if step == 1:
            return (g >= 0.5).astype(np.int64)
        raise ValueError(f"step = {step!r} must be 0 or 1")


def zigzag_relay(n: int = 16) -> ZigZagRelay:
    """Build the zig-zag relay with ``n`` states (``n`` even, ``n >= 2``); see the module
    docstring."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 or n % 2:
        raise ValueError(f"n = {n!r} must be an even integer >= 2")
    n = int(n)
    perm = interleave(n)
    P = np.zeros((2, n, 2, n))
    idx = np.arange(n)
    P[0, idx, 0, idx] = 1.0
    P[0, idx, 1, perm] = 1.0
    P[1, idx, 0, idx] = 1.0
    P[1, idx, 1, idx] = 1.0
    R = np.zeros((2, n, 2))
    R[0, :, 1] = 0.5
    R[1, :, 1] = 1.0
    mdp = EpisodicMDP(P, R, 2, np.full(n, 1.0 / n))
    x = np.arange(1, n + 1) / n
    f = np.repeat(np.maximum(x, 0.0)[:, None], 2, axis=1)
    succ = np.stack([idx, perm], axis=1)  # sigma_a(s)
    image = R[0] + f[succ].max(axis=2)
    q = np.zeros((2, n, 2))
    q[1] = np.array([0.0, 1.0])
    q[0] = np.array([1.0, 1.5])
    for a in (x, perm, f, image, q):
        a.flags.writeable = False
    return ZigZagRelay(mdp=mdp, n=n, embedding=x, permutation=perm, f_next=f, bellman_image=image,
                       q_star=q, rcsl_returns=np.array([0.0, 0.5, 1.0, 1.5]))

r"""Classic off-policy counterexamples with exact features, policies and data distributions.

* :func:`baird_star` -- Baird (ICML 1995); Sutton & Barto (2018), §11.2, Fig. 11.1.
* :func:`tsitsiklis_van_roy` -- Tsitsiklis & Van Roy (IEEE TAC 1997); Sutton & Barto (2018),
  Example 11.1 (the "w -> 2w" two-state example).

Both return an :class:`OffPolicyInstance` whose ``mdp``, ``features``, ``policy`` and ``mu``
feed :func:`mdptheory.probes.bellman_report` directly. Pairs are flattened ``s * A + a``.

Q-function form of a state-value example. The classic examples are stated for state values
:math:`\hat v(s)=x(s)^\top w` under a *target* policy :math:`\pi`, with states weighted by the
*behaviour* distribution :math:`d_b` (off-policy TD(0) with importance ratios
:math:`\pi(a|s)/b(a|s)` has exactly this expected update). Here the features are state-only,
:math:`\phi(s,a)=x(s)`, and the data distribution over pairs is
:math:`\mu(s,a)=d_b(s)\pi(a|s)` (behaviour states, target actions). Then
:math:`\Phi^\top D_\mu(I-\gamma P^\pi)\Phi=X^\top D_b(I-\gamma P^\pi_S)X`, the classic TD
matrix, so every probe reproduces the state-value numbers. ``mu_behaviour``
(:math:`d_b(s)b(a|s)`) is provided as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mdptheory.core import DiscountedMDP

__all__ = ["OffPolicyInstance", "baird_star", "tsitsiklis_van_roy", "BAIRD_DASHED", "BAIRD_SOLID"]

#: Baird's actions.
BAIRD_DASHED, BAIRD_SOLID = 0, 1


@dataclass(frozen=True, eq=False)
class OffPolicyInstance:
    r"""An off-policy evaluation problem with a linear class.

    Attributes
    ----------
    mdp : DiscountedMDP
    features : ndarray ``(S, A, d)``
    policy : ndarray
        Target policy (int ``(S,)`` deterministic or float ``(S, A)``).
    mu : ndarray ``(S, A)``
        Data distribution over pairs that the probes and estimators use.
    behaviour : ndarray ``(S, A)`` or None
        Behaviour policy, when the example has one.
    mu_behaviour : ndarray ``(S, A)`` or None
        :math:`d_b(s)b(a|s)`.
    w0 : ndarray ``(d,)``
        The example's initial weights.
    step_size : float
        The example's step size.
    w_star : ndarray ``(d,)`` or None
        A parameter with :math:`\Phi w^\star=Q^\pi` when one is known in closed form.
    name : str
    params : dict
    """

    mdp: DiscountedMDP
    features: np.ndarray
    policy: np.ndarray
    mu: np.ndarray
    behaviour: np.ndarray | None = None
    mu_behaviour: np.ndarray | None = None
    w0: np.ndarray | None = None
    step_size: float = 0.01
    w_star: np.ndarray | None = None
    name: str = ""
    params: dict = field(default_factory=dict)


def _ro(x):
    x = np.ascontiguousarray(x, dtype=np.float64) if np.asarray(x).dtype.kind == "f" else np.ascontiguousarray(x)
    x.flags.writeable = False
    return x


def baird_star(gamma: float = 0.99) -> OffPolicyInstance:
    r"""Baird's star counterexample (Baird 1995; Sutton & Barto 2018, Fig. 11.1).

    Seven states ``0..5`` (the upper states) and ``6`` (the lower state); two actions:
    ``0 = dashed`` moves to one of the six upper states uniformly, ``1 = solid`` moves to
    state 6. All rewards are 0 and :math:`\gamma=0.99`.

    * Behaviour policy: dashed w.p. 6/7, solid w.p. 1/7 (the next state is uniform over the
      seven states, so :math:`d_b` is uniform). Target policy: always solid.
    * Features (``d = 8``): upper state ``i`` has :math:`x(i)=2e_i+e_8` (value
      :math:`2w_i+w_8`), the lower state :math:`x(7)=e_7+2e_8`; the ``7 x 8`` matrix has
      rank 7. Features do not depend on the action.
    * ``mu`` = uniform states x target action (see the module docstring), ``w0 =
      (1,1,1,1,1,1,10,1)``, ``step_size = 0.01``, ``w_star = 0`` (:math:`Q^\pi=0`).

    Known answers (``proofs_notes/tsitsiklis_van_roy.md``): eigenvalues of the TD matrix
    :math:`\{-0.2393,-0.0222,0,4/7\,(\times5)\}`; the class spans all functions on the
    support, so it is realizable and complete (:math:`\varepsilon_{\rm inc}=0`) and
    exact-regression FQE converges, while expected and sampled semi-gradient TD(0) diverge.
    For general ``gamma`` the spectrum is :math:`\{4/7\,(\times5),0,\lambda_\pm\}` with
    :math:`49\lambda^2-7(15-17\gamma)\lambda+26(1-\gamma)=0`, so expected TD(0) is stable iff
    :math:`\gamma<15/17` (derived in ``proofs_notes/tsitsiklis_van_roy.md``).
    """
    S, A, d = 7, 2, 8
    P = np.zeros((S, A, S))
    P[:, BAIRD_DASHED, :6] = 1.0 / 6.0
    P[:, BAIRD_SOLID, 6] = 1.0
    R = np.zeros((S, A))
    mdp = DiscountedMDP(P, R, gamma)
    X = np.zeros((S, d))
    for i in range(6):
        X[i, i] = 2.0
        X[i, 7] = 1.0
    X[6, 6] = 1.0
    X[6, 7] = 2.0
    features = np.repeat(X[:, None, :], A, axis=1)
    target = np.full(S, BAIRD_SOLID, dtype=np.int64)
    behaviour = np.tile([6.0 / 7.0, 1.0 / 7.0], (S, 1))
    d_b = np.full(S, 1.0 / S)
    mu = np.zeros((S, A))
    mu[:, BAIRD_SOLID] = d_b
    w0 = np.array([1, 1, 1, 1, 1, 1, 10, 1], dtype=np.float64)
    return OffPolicyInstance(
        mdp=mdp, features=_ro(features), policy=_ro(target), mu=_ro(mu), behaviour=_ro(behaviour),
        mu_behaviour=_ro(d_b[:, None] * behaviour), w0=_ro(w0), step_size=0.01,
        w_star=_ro(np.zeros(d)), name="baird_star", params={"gamma": float(gamma)},
    )


def tsitsiklis_van_roy(epsilon: float = 0.0, gamma: float = 0.9, w_star: float = 0.0) -> OffPolicyInstance:
    r"""Tsitsiklis & Van Roy's two-state example (1997; Sutton & Barto 2018, Example 11.1).

    States ``0`` and ``1`` carry the scalar features 1 and 2 (one weight :math:`w`, values
    :math:`w` and :math:`2w`); state ``2`` is an absorbing terminal state with feature 0.
    One action. State 0 moves to state 1; state 1 stays w.p. :math:`1-\epsilon` and
    terminates w.p. :math:`\epsilon`. ``mu`` is uniform over states 0 and 1.

    Rewards are 0 (the classic example) unless ``w_star != 0``, in which case they are
    planted as :math:`r=(I-\gamma P)\Phi w^\star` so that :math:`Q^\pi=\Phi w^\star` (the
    device that makes statistical probes non-trivial).

    Known answers (derived in ``proofs_notes/tsitsiklis_van_roy.md``):
    least-squares value iteration multiplies :math:`w` by
    :math:`\rho=\gamma(6-4\epsilon)/5` (divergence iff :math:`\gamma>5/(6-4\epsilon)`),
    :math:`\varepsilon_{\rm inc}=2\gamma(1+\epsilon)/5`, :math:`A_{TD}=(5-\gamma(6-4\epsilon))/2`,
    :math:`\kappa=1/|1-\rho|`.

    Raises
    ------
    ValueError
        If ``epsilon`` is outside ``[0, 1]`` or ``gamma`` outside ``[0, 1)``.
    """
    eps = float(epsilon)
    if not (0.0 <= eps <= 1.0):
        raise ValueError(f"epsilon = {epsilon!r} must lie in [0, 1]")
    g = float(gamma)
    if not (0.0 <= g < 1.0):
        raise ValueError(f"gamma = {gamma!r} is outside [0, 1)")
    ws = float(w_star)
    if not np.isfinite(ws):
        raise ValueError(f"w_star = {w_star!r} must be finite")
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = 1.0
    P[1, 0, 1] = 1.0 - eps
    P[1, 0, 2] = eps
    P[2, 0, 2] = 1.0
    x = np.array([1.0, 2.0, 0.0])
    v = x * ws
    R = (v - g * P[:, 0, :] @ v)[:, None]
    mdp = DiscountedMDP(P, R, g, initial=np.array([0.5, 0.5, 0.0]))
    features = x[:, None, None].copy()
    mu = np.array([[0.5], [0.5], [0.0]])
    return OffPolicyInstance(
        mdp=mdp, features=_ro(features), policy=_ro(np.zeros(3, dtype=np.int64)), mu=_ro(mu),
        behaviour=None, mu_behaviour=None, w0=_ro(np.array([1.0])), step_size=0.1,
        w_star=_ro(np.array([ws])), name="tsitsiklis_van_roy",
        params={"epsilon": eps, "gamma": g, "w_star": ws},
    )

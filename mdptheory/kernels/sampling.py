r"""Numba samplers and exact episodic evaluation for the compiled learner loops.

All randomness comes from a caller-provided ``numpy.random.Generator`` (numba accepts
one as an argument and draws from the *same* bit-generator state as NumPy, so a compiled
loop and a plain-Python loop that make the same calls in the same order see the same
numbers). Every compiled function here has a plain-Python twin with the suffix ``_ref``
that makes the identical sequence of draws and the identical float operations; the tests
compare them draw for draw.

Environment arrays (the layout every compiled loop receives, see
``docs/learner_protocol.md``):

* ``P`` of shape ``(HP, S, A, S)`` with ``HP`` = 1 (stationary kernel, shared by all
  stages) or ``HP = H`` (stage-dependent); stage ``h`` uses ``P[h if HP > 1 else 0]``.
* ``R`` of shape ``(HR, S, A)``, same convention, *mean* rewards.
* ``noise``: integer code of the reward law, :data:`NOISE_DETERMINISTIC` (reward = mean),
  :data:`NOISE_BERNOULLI` (reward 1 w.p. the mean, else 0) or :data:`NOISE_GAUSSIAN`
  (mean + ``noise_std`` * standard normal).

Random-number order of one environment step (fixed, documented, relied on by the tests):
first the reward (one ``rng.random()`` for Bernoulli, one ``rng.standard_normal()`` for
Gaussian, nothing for deterministic), then the next state (one ``rng.random()``, inverse
CDF by a left-to-right cumulative scan of the row).

Performance notes (measured in ``docs/benchmarks.md``). The per-step helpers
(:func:`stage`, :func:`categorical`, :func:`draw_reward`, :func:`next_state`,
:func:`env_step`, :func:`greedy_action`) are ``inline="always"``: an ordinary call of a numba
function passes every array as a dozen scalars and costs an atomic incref/decref per array
argument unless numba's refcount pruning removes it, which it often fails to do across loops
with several exits. For the same reason :func:`next_state` scans ``P[h, s, a, :]`` in place
(no row view) with a single loop exit. Loops that call these helpers should not pass arrays
to other small helpers in their per-step path either (write the update inline). The
per-episode helpers (:func:`record_regret_det`, :func:`value_det`, ...) are ordinary calls,
except the episode of a deterministic policy, :func:`rollout_det`, and the non-stationary
clock, :func:`segment_at`, which are inlined.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "NOISE_DETERMINISTIC",
    "NOISE_BERNOULLI",
    "NOISE_GAUSSIAN",
    "noise_code",
    "categorical",
    "categorical_ref",
    "draw_reward",
    "draw_reward_ref",
    "env_step",
    "env_step_ref",
    "next_state",
    "rollout_det",
    "rollout_det_ref",
    "rollout_stoch",
    "rollout_stoch_ref",
    "segment_at",
    "episode_buffers",
    "single_segment",
    "value_det",
    "value_det_ref",
    "value_stoch",
    "value_stoch_ref",
    "greedy_action",
    "init_at_cap",
    "greedy_policy",
    "greedy_policy_ref",
    "record_regret_det",
    "record_regret_det_incremental",
    "record_regret_stoch",
    "backup_det",
    "stage",
    "plan_stationary",
    "plan_stationary_ref",
]

NOISE_DETERMINISTIC = 0
NOISE_BERNOULLI = 1
NOISE_GAUSSIAN = 2

_CODES = {"deterministic": NOISE_DETERMINISTIC, "bernoulli": NOISE_BERNOULLI, "gaussian": NOISE_GAUSSIAN}


def noise_code(reward_noise: str) -> int:
    """Integer code of an MDP's ``reward_noise`` law."""
    try:
        return _CODES[reward_noise]
    except KeyError:
        raise ValueError(f"reward_noise must be one of {tuple(_CODES)}, got {reward_noise!r}") from None


# ---------------------------------------------------------------------------------------
# compiled samplers
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def stage(h, n):
    """Index into a stage axis of length ``n`` (1 = stationary)."""
    return h if n > 1 else 0


@njit(cache=True, nogil=True, inline="always")
def categorical(rng, p):
    r"""Draw ``i`` with probability ``p[i]`` by inverse CDF: the first ``i`` with
    :math:`u < \sum_{j\le i} p_j`, ``u = rng.random()``. If round-off leaves ``u`` above the
    total mass, the last index with positive mass is returned."""
    u = rng.random()
    acc = 0.0
    n = p.shape[0]
    last = 0
    for i in range(n):
        pi = p[i]
        if pi > 0.0:
            acc += pi
            last = i
            if u < acc:
                return i
    return last


@njit(cache=True, nogil=True, inline="always")
def draw_reward(rng, mean, noise, noise_std):
    """One reward with the given mean under the MDP's reward law (see module docstring)."""
    if noise == 0:
        return mean
    if noise == 1:
        return 1.0 if rng.random() < mean else 0.0
    return mean + noise_std * rng.standard_normal()


@njit(cache=True, nogil=True, inline="always")
def next_state(rng, P, h, s, a):
    """The next state from ``(h, s, a)``: one ``rng.random()`` and the inverse-CDF scan of
    :func:`categorical` on ``P[h, s, a, :]`` in place (slicing out the row would create an
    array view per step: an atomic incref/decref pair in the hot loop)."""
    hp = stage(h, P.shape[0])
    u = rng.random()
    acc = 0.0
    n = P.shape[3]
    s2 = 0
    i = 0
    while i < n:
        pi = P[hp, s, a, i]
        if pi > 0.0:
            acc += pi
            s2 = i
            if u < acc:
                i = n  # found: leave the loop (one exit keeps numba's refcount pruning happy)
        i += 1
    return s2


@njit(cache=True, nogil=True, inline="always")
def env_step(rng, P, R, noise, noise_std, h, s, a):
    """One transition from ``(h, s, a)``: returns ``(reward, next_state)``; reward first,
    then next state."""
    r = draw_reward(rng, R[stage(h, R.shape[0]), s, a], noise, noise_std)
    return r, next_state(rng, P, h, s, a)


@njit(cache=True, nogil=True, inline="always")
def rollout_det(rng, P, R, noise, noise_std, initial, pi, xs, acts, rs):
    """One episode of the deterministic policy ``pi (H, S)``: the initial state, then ``H``
    calls of :func:`env_step`; fills the visited states ``xs (H+1,)``, actions ``acts (H,)``
    and rewards ``rs (H,)`` and returns the return ``G`` (rewards summed in step order).
    For the loops whose learner updates only after the episode."""
    s = categorical(rng, initial)
    G = 0.0
    for h in range(pi.shape[0]):
        a = pi[h, s]
        r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
        G += r
        xs[h] = s
        acts[h] = a
        rs[h] = r
        s = s2
    xs[pi.shape[0]] = s
    return G


@njit(cache=True, nogil=True, inline="always")
def rollout_stoch(rng, P, R, noise, noise_std, initial, probs, xs, acts, rs):
    """One episode of the stochastic policy ``probs (H, S, A)``: as :func:`rollout_det`, with
    the action of step ``h`` drawn by :func:`categorical` from ``probs[h, s]`` before the
    step's :func:`env_step` (draws: initial state, then per step action, reward, next state)."""
    s = categorical(rng, initial)
    G = 0.0
    for h in range(probs.shape[0]):
        a = categorical(rng, probs[h, s])
        r, s2 = env_step(rng, P, R, noise, noise_std, h, s, a)
        G += r
        xs[h] = s
        acts[h] = a
        rs[h] = r
        s = s2
    xs[probs.shape[0]] = s
    return G


@njit(cache=True, nogil=True)
def backup_det(P, R, pi, V, top):
    r"""Backward induction for a deterministic policy over the stages ``top-1, ..., 0``:
    :math:`V_h(s) = R_h(s,\pi_h(s)) + P_h(\cdot|s,\pi_h(s))\cdot V_{h+1}`, reading
    ``V[top]`` and writing ``V[:top]`` (``V`` is ``(H+1, S)``).

    Cost :math:`O(\text{top}\cdot S^2)`, no allocation. Each dot product is summed in the
    order ``t = 0..S-1`` (so the result is bit-for-bit that of the plain loop), but four
    states are processed side by side: four independent accumulators hide the latency of
    the floating-point adds, which otherwise bounds a sequential dot product."""
    S = pi.shape[1]
    HP = P.shape[0]
    HR = R.shape[0]
    for h in range(top - 1, -1, -1):
        hp = h if HP > 1 else 0
        hr = h if HR > 1 else 0
        s = 0
        while s + 4 <= S:
            a0 = pi[h, s]
            a1 = pi[h, s + 1]
            a2 = pi[h, s + 2]
            a3 = pi[h, s + 3]
            c0 = 0.0
            c1 = 0.0
            c2 = 0.0
            c3 = 0.0
            for t in range(S):
                v = V[h + 1, t]
                c0 += P[hp, s, a0, t] * v
                c1 += P[hp, s + 1, a1, t] * v
                c2 += P[hp, s + 2, a2, t] * v
                c3 += P[hp, s + 3, a3, t] * v
            V[h, s] = R[hr, s, a0] + c0
            V[h, s + 1] = R[hr, s + 1, a1] + c1
            V[h, s + 2] = R[hr, s + 2, a2] + c2
            V[h, s + 3] = R[hr, s + 3, a3] + c3
            s += 4
        while s < S:
            a = pi[h, s]
            acc = 0.0
            for t in range(S):
                acc += P[hp, s, a, t] * V[h + 1, t]
            V[h, s] = R[hr, s, a] + acc
            s += 1


@njit(cache=True, nogil=True)
def value_det(P, R, initial, pi, V):
    r"""Exact :math:`\sum_s \rho(s) V^\pi_0(s)` of a deterministic policy ``pi (H, S)`` by
    backward induction, :math:`V_h(s) = R_h(s,\pi_h(s)) + P_h(\cdot|s,\pi_h(s))\cdot V_{h+1}`;
    ``V`` is an ``(H+1, S)`` work buffer (filled with the values). Cost :math:`O(HS^2)`, no
    allocation (see :func:`backup_det`)."""
    H, S = pi.shape
    for s in range(S):
        V[H, s] = 0.0
    backup_det(P, R, pi, V, H)
    tot = 0.0
    for s in range(S):
        tot += initial[s] * V[0, s]
    return tot


@njit(cache=True, nogil=True)
def value_stoch(P, R, initial, probs, V):
    r"""Exact :math:`\sum_s \rho(s) V^\pi_0(s)` of a stochastic policy ``probs (H, S, A)``;
    ``V`` is an ``(H+1, S)`` work buffer."""
    H, S, A = probs.shape
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        Ph = P[stage(h, P.shape[0])]
        Rh = R[stage(h, R.shape[0])]
        for s in range(S):
            v = 0.0
            for a in range(A):
                w = probs[h, s, a]
                if w == 0.0:
                    continue
                acc = 0.0
                for t in range(S):
                    acc += Ph[s, a, t] * V[h + 1, t]
                v += w * (Rh[s, a] + acc)
            V[h, s] = v
    tot = 0.0
    for s in range(S):
        tot += initial[s] * V[0, s]
    return tot


@njit(cache=True, nogil=True, inline="always")
def greedy_action(Q, h, s):
    """``(argmax_a Q[h, s, a], max_a Q[h, s, a])``, ties to the lowest action (as
    :func:`greedy_policy`); inlined, for the per-step updates of model-free loops."""
    best = Q[h, s, 0]
    arg = 0
    for a in range(1, Q.shape[2]):
        if Q[h, s, a] > best:
            best = Q[h, s, a]
            arg = a
    return arg, best


@njit(cache=True, nogil=True)
def init_at_cap(Q, V, cap):
    """Optimistic start of a model-free loop: ``Q[h] = V[h] =`` the cap of stage ``h`` (``cap``
    0: ``H``; 1: ``H - h``, the remaining steps) for ``h < H``; ``V[H]`` is left as it is."""
    H, S, A = Q.shape
    for h in range(H):
        ch = float(H) if cap == 0 else float(H - h)
        for s in range(S):
            V[h, s] = ch
            for a in range(A):
                Q[h, s, a] = ch


@njit(cache=True, nogil=True)
def greedy_policy(Q, pi_out):
    """``pi_out[h, s] = argmax_a Q[h, s, a]`` (ties to the lowest action, as numpy)."""
    H, S, A = Q.shape
    for h in range(H):
        for s in range(S):
            best = Q[h, s, 0]
            arg = 0
            for a in range(1, A):
                if Q[h, s, a] > best:
                    best = Q[h, s, a]
                    arg = a
            pi_out[h, s] = arg


@njit(cache=True, nogil=True)
def record_regret_det(k, eval_every, P, R, initial, v_star, pi, V, regret_out):
    """If episode ``k`` is evaluated (``eval_every > 0`` and ``k % eval_every == 0``) store
    the exact pseudo-regret ``v_star - value_det(pi)`` in ``regret_out[k]``."""
    if eval_every > 0 and k % eval_every == 0:
        regret_out[k] = v_star - value_det(P, R, initial, pi, V)


@njit(cache=True, nogil=True)
def record_regret_det_incremental(k, eval_every, P, R, initial, v_star, pi, pi_prev, V, regret_out):
    r"""Same result as :func:`record_regret_det`, bit for bit, but only the stages that can
    have changed are recomputed: :math:`V^\pi_h` depends on :math:`\pi_h,\dots,\pi_{H-1}`
    only, so if the highest stage where ``pi`` differs from the last evaluated policy is
    ``h0``, the stored ``V[h0+1:]`` are still exact and only stages ``h0..0`` are backed up
    (with the same code, hence the same bits). Model-free learners change a few entries of
    their greedy policy per episode, so late in a run most evaluations cost :math:`O(HS)`.

    ``pi_prev`` (``(H, S)`` int64, filled with ``-1`` before the first call) and ``V``
    (``(H+1, S)``) are dedicated buffers: nothing else may write them between calls."""
    if eval_every > 0 and k % eval_every == 0:
        H, S = pi.shape
        top = 0
        if pi_prev[0, 0] < 0:
            top = H
            for s in range(S):
                V[H, s] = 0.0
        else:
            h = H - 1
            while h >= 0 and top == 0:
                for s in range(S):
                    if pi[h, s] != pi_prev[h, s]:
                        top = h + 1
                h -= 1
        for h in range(top):
            for s in range(S):
                pi_prev[h, s] = pi[h, s]
        backup_det(P, R, pi, V, top)
        tot = 0.0
        for s in range(S):
            tot += initial[s] * V[0, s]
        regret_out[k] = v_star - tot


@njit(cache=True, nogil=True)
def record_regret_stoch(k, eval_every, P, R, initial, v_star, probs, V, regret_out):
    """Stochastic-policy twin of :func:`record_regret_det`."""
    if eval_every > 0 and k % eval_every == 0:
        regret_out[k] = v_star - value_stoch(P, R, initial, probs, V)


@njit(cache=True, nogil=True)
def plan_stationary(P, R, H, V, Q, pi):
    r"""Backward induction with a stationary model ``P (S, A, S)``, ``R (S, A)`` over ``H``
    stages: :math:`Q_h = R + P V_{h+1}`, :math:`V_h=\max_a Q_h`; writes ``V (H+1, S)``,
    ``Q (H, S, A)``, ``pi (H, S)`` (ties to the lowest action)."""
    S, A = R.shape
    for s in range(S):
        V[H, s] = 0.0
    for h in range(H - 1, -1, -1):
        for s in range(S):
            for a in range(A):
                acc = 0.0
                for t in range(S):
                    acc += P[s, a, t] * V[h + 1, t]
                q = R[s, a] + acc
                Q[h, s, a] = q
            pi[h, s], V[h, s] = greedy_action(Q, h, s)


@njit(cache=True, nogil=True)
def episode_buffers(H, S):
    """The buffers of a loop that plays a deterministic policy: ``(Vb, pi, pi_prev, xs, acts,
    rs)``: evaluation values ``Vb (H+1, S)``, the policy ``pi (H, S)``, the last evaluated
    policy ``pi_prev (H, S)`` (all ``-1``: none yet, for :func:`record_regret_det_incremental`)
    and one episode's states ``xs (H+1,)``, actions ``acts (H,)`` and rewards ``rs (H,)``."""
    return (np.empty((H + 1, S)), np.empty((H, S), dtype=np.int64), np.full((H, S), -1, dtype=np.int64),
            np.empty(H + 1, dtype=np.int64), np.empty(H, dtype=np.int64), np.empty(H))


@njit(cache=True, nogil=True, inline="always")
def segment_at(k, seg, seg_starts):
    """The segment of episode ``k`` on a non-stationary MDP's clock (segment ``i`` starts at
    episode ``seg_starts[i]``), searched forward from the segment ``seg`` of episode ``k - 1``."""
    while seg + 1 < seg_starts.shape[0] and k >= seg_starts[seg + 1]:
        seg += 1
    return seg


@njit(cache=True, nogil=True)
def single_segment(P, R, initial, v_star):
    """A stationary model as a one-model, one-segment non-stationary one: ``(Ps, Rs, inits,
    seg_starts, seg_models, v_stars)`` with a leading model axis of length 1 (views of the
    inputs), for the loops written for the non-stationary protocol."""
    Ps = P.reshape((1, P.shape[0], P.shape[1], P.shape[2], P.shape[3]))
    Rs = R.reshape((1, R.shape[0], R.shape[1], R.shape[2]))
    inits = initial.reshape((1, initial.shape[0]))
    return Ps, Rs, inits, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), np.full(1, v_star)


# ---------------------------------------------------------------------------------------
# plain-Python twins (identical draws, identical float operations)
# ---------------------------------------------------------------------------------------


def categorical_ref(rng: np.random.Generator, p) -> int:
    """Twin of :func:`categorical`."""
    u = rng.random()
    acc = 0.0
    last = 0
    for i, pi in enumerate(p):
        pi = float(pi)
        if pi > 0.0:
            acc += pi
            last = i
            if u < acc:
                return i
    return last


def draw_reward_ref(rng: np.random.Generator, mean: float, noise: int, noise_std: float) -> float:
    """Twin of :func:`draw_reward`."""
    if noise == NOISE_DETERMINISTIC:
        return float(mean)
    if noise == NOISE_BERNOULLI:
        return 1.0 if rng.random() < mean else 0.0
    return float(mean) + noise_std * rng.standard_normal()


def env_step_ref(rng, P, R, noise, noise_std, h, s, a):
    """Twin of :func:`env_step`."""
    r = draw_reward_ref(rng, R[h if R.shape[0] > 1 else 0, s, a], noise, noise_std)
    s2 = categorical_ref(rng, P[h if P.shape[0] > 1 else 0, s, a])
    return r, s2


def rollout_det_ref(rng, P, R, noise, noise_std, initial, pi):
    """Twin of :func:`rollout_det`; returns ``(G, xs, acts, rs)``."""
    H = pi.shape[0]
    xs = np.empty(H + 1, dtype=np.int64)
    acts = np.empty(H, dtype=np.int64)
    rs = np.empty(H)
    xs[0] = categorical_ref(rng, initial)
    for h in range(H):
        acts[h] = pi[h, xs[h]]
        rs[h], xs[h + 1] = env_step_ref(rng, P, R, noise, noise_std, h, xs[h], acts[h])
    G = 0.0
    for r in rs:
        G += float(r)
    return G, xs, acts, rs


def rollout_stoch_ref(rng, P, R, noise, noise_std, initial, probs):
    """Twin of :func:`rollout_stoch`; returns ``(G, xs, acts, rs)``."""
    H = probs.shape[0]
    xs = np.empty(H + 1, dtype=np.int64)
    acts = np.empty(H, dtype=np.int64)
    rs = np.empty(H)
    xs[0] = categorical_ref(rng, initial)
    for h in range(H):
        acts[h] = categorical_ref(rng, probs[h, xs[h]])
        rs[h], xs[h + 1] = env_step_ref(rng, P, R, noise, noise_std, h, xs[h], acts[h])
    G = 0.0
    for r in rs:
        G += float(r)
    return G, xs, acts, rs


def value_det_ref(P, R, initial, pi) -> float:
    """Twin of :func:`value_det` (vectorised numpy)."""
    H, S = pi.shape
    V = np.zeros(S)
    idx = np.arange(S)
    for h in range(H - 1, -1, -1):
        Ph = P[h if P.shape[0] > 1 else 0]
        Rh = R[h if R.shape[0] > 1 else 0]
        V = Rh[idx, pi[h]] + Ph[idx, pi[h]] @ V
    return float(initial @ V)


def value_stoch_ref(P, R, initial, probs) -> float:
    """Twin of :func:`value_stoch` (vectorised numpy)."""
    H, S, A = probs.shape
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        Ph = P[h if P.shape[0] > 1 else 0]
        Rh = R[h if R.shape[0] > 1 else 0]
        V = (probs[h] * (Rh + Ph @ V)).sum(axis=1)
    return float(initial @ V)


def greedy_policy_ref(Q) -> np.ndarray:
    """Twin of :func:`greedy_policy`."""
    return np.asarray(Q).argmax(axis=2).astype(np.int64)


def plan_stationary_ref(P, R, H):
    """Twin of :func:`plan_stationary`; returns ``(V, Q, pi)``."""
    S, A = R.shape
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    for h in range(H - 1, -1, -1):
        Q[h] = R + P @ V[h + 1]
        V[h] = Q[h].max(axis=1)
    return V, Q, Q.argmax(axis=2).astype(np.int64)

"""Independent plain-Python references of the four step-based learners (Q-learning, Double
Q-learning, Maxmin Q-learning, tabular REDQ), written from the papers' algorithm boxes and the
draw order documented in ``mdptheory/learners/step_based.py`` -- no package code.

Tables are dicts keyed ``(i, h, s, a)``; the environment is sampled with this file's own
inverse-CDF scan. ``defect`` injects a known implementation error so the tests can check
that the comparison detects it:

* ``"pair_counts_per_state"`` (Q-learning): the 1/n step size counts visits of the state,
  not of the pair;
* ``"double_same_table"`` (Double Q): the maximiser's own table evaluates it (plain
  Q-learning on each table, no double estimator);
* ``"maxmin_updated_table_target"`` (Maxmin): the target is built from the updated table
  instead of Q^min (the bug the issue names);
* ``"redq_target_per_table"`` (REDQ): a fresh subset and target for each table instead of one
  target shared by the ensemble.
"""

from __future__ import annotations

import numpy as np


def _draw(rng, p):
    u = rng.random()
    acc, last = 0.0, 0
    for i, pi in enumerate(p):
        pi = float(pi)
        if pi > 0.0:
            acc += pi
            last = i
            if u < acc:
                return i
    return last


def _pick(rng, k):
    return min(int(rng.random() * k), k - 1)


def _greedy(rng, vals, acts):
    best = vals[acts[0]]
    for a in acts[1:]:
        if vals[a] > best:
            best = vals[a]
    tied = [a for a in acts if vals[a] == best]
    return tied[0] if len(tied) == 1 else tied[_pick(rng, len(tied))]


def _subset(rng, N, m):
    perm = list(range(N))
    if m < N:
        for j in range(m):
            k = j + _pick(rng, N - j)
            perm[j], perm[k] = perm[k], perm[j]
    return perm[:m]


def model_arrays(model):
    """Everything the reference reads from a NoisyRewardMDP or a core model (public
    attributes only; a core model has one reward law, no terminal state, all actions)."""
    if hasattr(model, "mdp"):
        mdp, law, scale = model.mdp, model.reward_law, np.asarray(model.reward_scale)
        term, avail = np.asarray(model.terminal), np.asarray(model.available)
    else:
        mdp, law = model, model.reward_noise
        scale = np.full((model.S, model.A), model.reward_std)
        term, avail = np.zeros(model.S, dtype=bool), np.ones((model.S, model.A), dtype=bool)
    P = np.asarray(mdp.dense_P(), dtype=float)
    R = np.asarray(mdp.R, dtype=float)
    H = int(mdp.horizon) if mdp.horizon is not None else 0
    return dict(P=P, R=R, law=law, scale=scale, term=term, acts=[list(np.flatnonzero(row)) for row in avail],
                init=np.asarray(mdp.initial), gamma=float(mdp.gamma), H=H)


def reference_run(kind, model, steps, seed, *, N=1, m=1, G=1, alpha=0.1, alpha_decay=0.0, epsilon=0.1,
                  epsilon_decay=0.0, init=0.0, init_spread=0.0, defect=None):
    """Run ``kind`` in {"q", "double", "maxmin", "redq"}; returns ``(actions, Q)`` with ``Q`` a
    dict ``(i, h, s, a) -> value`` (missing entries still equal ``init``). ``init_spread``
    (REDQ): tables start at ``init + spread (2u - 1)``, drawn first, table by table, then stage,
    state, action."""
    env = model_arrays(model)
    P, R, H, gamma, acts = env["P"], env["R"], env["H"], env["gamma"], env["acts"]
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    if kind == "double":
        N = 2
    Q, cnt, visits, buffer = {}, {}, {}, []
    if init_spread > 0:
        S, A = env["P"].shape[-3], env["P"].shape[-2]
        for i in range(N):
            for h0 in range(max(H, 1)):
                for s0 in range(S):
                    for a0 in range(A):
                        Q[(i, h0, s0, a0)] = init + init_spread * (2.0 * rng.random() - 1.0)

    def q(i, h, s, a):
        return Q.get((i, h, s, a), init)

    def Pr(h, s, a):
        return P[h, s, a] if P.ndim == 4 else P[s, a]

    def mean(h, s, a):
        return float(R[h, s, a] if R.ndim == 3 else R[s, a])

    def reward(h, s, a):
        mu, sc = mean(h, s, a), float(env["scale"][s, a])
        if env["law"] == "bernoulli":
            return 1.0 if rng.random() < mu else 0.0
        if env["law"] == "gaussian" and sc > 0:
            return mu + sc * rng.standard_normal()
        if env["law"] == "rademacher" and sc > 0:
            return mu + sc if rng.random() < 0.5 else mu - sc
        return mu

    def acting(h, s):
        if kind == "q":
            return {a: q(0, h, s, a) for a in acts[s]}
        if kind == "double":                       # act on Q^A + Q^B
            return {a: q(0, h, s, a) + q(1, h, s, a) for a in acts[s]}
        if kind == "maxmin":                       # act on Q^min
            out = {}
            for a in acts[s]:
                v = q(0, h, s, a)
                for i in range(1, N):
                    if q(i, h, s, a) < v:
                        v = q(i, h, s, a)
                out[a] = v
            return out
        out = {}                                   # REDQ: act on the ensemble mean
        for a in acts[s]:
            tot = q(0, h, s, a)
            for i in range(1, N):
                tot += q(i, h, s, a)
            out[a] = tot / N
        return out

    def step_size(key):
        cnt[key] = cnt.get(key, 0.0) + 1.0
        return alpha * cnt[key] ** (-alpha_decay)

    def min_over(members, hn, s2, a):
        v = q(members[0], hn, s2, a)
        for j in members[1:]:
            if q(j, hn, s2, a) < v:
                v = q(j, hn, s2, a)
        return v

    def redq_update(h, s, a, r, s2, done):
        hn = h + 1 if H > 0 else 0
        if defect == "redq_target_per_table":
            ys = []
            for _i in range(N):                    # every target from the pre-update tables
                members = _subset(rng, N, m)
                ys.append(r + gamma * (0.0 if done else max(min_over(members, hn, s2, b) for b in acts[s2])))
            lr = step_size((h, s, a))
            for i in range(N):
                Q[(i, h, s, a)] = q(i, h, s, a) + lr * (ys[i] - q(i, h, s, a))
            return
        members = _subset(rng, N, m)
        v = 0.0 if done else max(min_over(members, hn, s2, b) for b in acts[s2])
        y = r + gamma * v
        lr = step_size((h, s, a))
        for i in range(N):
            Q[(i, h, s, a)] = q(i, h, s, a) + lr * (y - q(i, h, s, a))

    actions = []
    s = h = 0
    start = True
    for _ in range(steps):
        if start:
            s, h = _draw(rng, env["init"]), 0
        visits[(h, s)] = visits.get((h, s), 0.0) + 1.0
        eps = min(1.0, epsilon * visits[(h, s)] ** (-epsilon_decay))
        if rng.random() < eps:
            a = acts[s][_pick(rng, len(acts[s]))]
        else:
            a = _greedy(rng, acting(h, s), acts[s])
        r = reward(h, s, a)
        s2 = _draw(rng, Pr(h, s, a))
        done = bool(env["term"][s2]) or (H > 0 and h + 1 == H)
        hn = h + 1 if H > 0 else 0
        if kind == "q":
            v = 0.0 if done else max(q(0, hn, s2, b) for b in acts[s2])
            key = (h, s) if defect == "pair_counts_per_state" else (h, s, a)
            Q[(0, h, s, a)] = q(0, h, s, a) + step_size(key) * (r + gamma * v - q(0, h, s, a))
        elif kind == "double":
            i = 0 if rng.random() < 0.5 else 1
            j = i if defect == "double_same_table" else 1 - i
            v = 0.0
            if not done:
                star = _greedy(rng, {b: q(i, hn, s2, b) for b in acts[s2]}, acts[s2])
                v = q(j, hn, s2, star)
            Q[(i, h, s, a)] = q(i, h, s, a) + step_size((i, h, s, a)) * (r + gamma * v - q(i, h, s, a))
        elif kind == "maxmin":
            chosen = _subset(rng, N, m)
            if done:
                v = 0.0
            elif defect == "maxmin_updated_table_target":
                v = max(q(chosen[0], hn, s2, b) for b in acts[s2])
            else:
                v = max(min_over(list(range(N)), hn, s2, b) for b in acts[s2])
            y = r + gamma * v
            for i in chosen:
                Q[(i, h, s, a)] = q(i, h, s, a) + step_size((i, h, s, a)) * (y - q(i, h, s, a))
        else:
            if G > 1:
                buffer.append((h, s, a, r, s2, done))
            redq_update(h, s, a, r, s2, done)
            for _g in range(G - 1):
                redq_update(*buffer[_pick(rng, len(buffer))])
        actions.append(a)
        s, h, start = s2, hn, done
    return actions, Q


def as_array(Q, N, HQ, S, A, init):
    """The dict tables as an ``(N, HQ, S, A)`` array."""
    out = np.full((N, HQ, S, A), float(init))
    for (i, h, s, a), v in Q.items():
        out[i, h, s, a] = v
    return out

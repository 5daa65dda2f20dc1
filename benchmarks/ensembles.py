"""Speed of the step-based Q-learning ensembles, side by side with mushroom-rl, in one run.

    python benchmarks/ensembles.py                     # full (about a minute plus the peer)
    python benchmarks/ensembles.py --quick             # smoke run
    python benchmarks/ensembles.py --peer-python /tmp/venv_mushroom/bin/python

Setting: a Garnet (S = 100, A = 4, branching 5, seed 0, gamma = 0.99, deterministic rewards,
uniform initial law; continuing), epsilon-greedy with eps = 0.1, constant step size 0.1, tables
started at 0. One thread (one core) for everything.

Measures (environment steps/s and table updates/s; a "table update" is one write
Q^i(s, a) <- Q^i(s, a) + alpha (y - Q^i(s, a)): N per step for REDQ, 1 for Maxmin with one
updated table, 1 for Q-learning and Double Q):

1. ours (compiled loop, ``run_steps(..., record=False)``, best of 3): REDQ (N = 10, M = 2,
   G = 1), MaxminQLearning (N = 10), DoubleQLearning, QLearning;
2. the peer: mushroom-rl's tabular ``MaxminQLearning`` (N = 10), ``DoubleQLearning`` and
   ``QLearning`` on its ``FiniteMDP`` built from the same P and R, driven by its ``Core``
   (``learn(n_steps, n_steps_per_fit=1)``), run in the interpreter given by
   ``--peer-python`` (a separate virtual environment: mushroom-rl pulls torch) as a subprocess
   in the same run;
3. a straightforward numpy implementation of the same Maxmin update (a Python loop over steps,
   numpy per step), labelled as such: the floor any plain-Python implementation pays.

Ratios are ours / peer on the same MDP, same algorithm (Maxmin vs Maxmin), and REDQ's table
updates/s against the peer Maxmin's.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from mdptheory.envs import garnet  # noqa: E402
from mdptheory.learners.double_q import DoubleQLearning  # noqa: E402
from mdptheory.learners.maxmin_q import MaxminQLearning  # noqa: E402
from mdptheory.learners.q_learning import QLearning  # noqa: E402
from mdptheory.learners.redq import REDQ  # noqa: E402
from mdptheory.learners.step_based import run_steps  # noqa: E402

PEER = r'''
import json, sys, time
import numpy as np
from mushroom_rl.core import Core
from mushroom_rl.environments import FiniteMDP
from mushroom_rl.policy import EpsGreedy
from mushroom_rl.utils.parameters import Parameter
from mushroom_rl.algorithms.value import MaxminQLearning, DoubleQLearning, QLearning
import mushroom_rl, torch
torch.set_num_threads(1)
d = np.load(sys.argv[1])
P, R, mu, gamma, steps = d["P"], d["R"], d["mu"], float(d["gamma"]), int(d["steps"])
S = P.shape[0]
out = {"version": mushroom_rl.__version__}
np.random.seed(0)
for name, make in (("MaxminQLearning", lambda info, pi: MaxminQLearning(info, pi, Parameter(value=0.1), n_tables=10)),
                   ("DoubleQLearning", lambda info, pi: DoubleQLearning(info, pi, Parameter(value=0.1))),
                   ("QLearning", lambda info, pi: QLearning(info, pi, Parameter(value=0.1)))):
    mdp = FiniteMDP(P, np.repeat(R[:, :, None], S, axis=2), mu=mu, gamma=gamma)
    agent = make(mdp.info, EpsGreedy(epsilon=Parameter(value=0.1)))
    core = Core(agent, mdp)
    core.learn(n_steps=200, n_steps_per_fit=1, quiet=True)          # warm-up
    t = time.perf_counter()
    core.learn(n_steps=steps, n_steps_per_fit=1, quiet=True)
    out[name] = steps / (time.perf_counter() - t)
print(json.dumps(out))
'''


def numpy_maxmin_steps_per_s(P, R, mu, gamma, steps, N=10, alpha=0.1, eps=0.1, seed=0):
    """The Maxmin update written plainly with numpy (labelled baseline, not a peer library)."""
    rng = np.random.default_rng(seed)
    S, A, _ = P.shape
    cdf = np.cumsum(P, axis=2)
    Q = np.zeros((N, S, A))
    s = int(rng.choice(S, p=mu))
    t0 = time.perf_counter()
    for _ in range(steps):
        qmin = Q[:, s].min(axis=0)
        a = int(rng.integers(A)) if rng.random() < eps else int(rng.choice(np.flatnonzero(qmin == qmin.max())))
        s2 = min(int(np.searchsorted(cdf[s, a], rng.random(), side="right")), S - 1)
        i = int(rng.integers(N))
        y = R[s, a] + gamma * Q[:, s2].min(axis=0).max()
        Q[i, s, a] += alpha * (y - Q[i, s, a])
        s = s2
    return steps / (time.perf_counter() - t0)


def ours_steps_per_s(learner, mdp, steps, reps=3):
    run_steps(learner, mdp, 1000, 0, record=False)                   # compile / load the cache
    best = np.inf
    for r in range(reps):
        t = time.perf_counter()
        run_steps(learner, mdp, steps, r, record=False)
        best = min(best, time.perf_counter() - t)
    return steps / best


def peer(python, mdp, steps):
    if not python or not os.path.exists(python):
        return None, f"peer interpreter {python!r} not found"
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "mdp.npz")
        np.savez(f, P=np.asarray(mdp.dense_P()), R=np.asarray(mdp.R), mu=np.asarray(mdp.initial), gamma=mdp.gamma,
                 steps=steps)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        p = subprocess.run([python, "-c", PEER, f], capture_output=True, text=True, env=env, timeout=3600)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1] if p.stderr else f"exit {p.returncode}"
    return json.loads(p.stdout.strip().splitlines()[-1]), ""


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description="ensemble learner speed vs mushroom-rl")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peer-python", default=os.environ.get("MUSHROOM_PYTHON", "/tmp/venv_mushroom/bin/python"))
    args = ap.parse_args(argv)
    steps = 200_000 if args.quick else 2_000_000
    peer_steps = 2_000 if args.quick else 20_000
    mdp = garnet(100, 4, 5, 0, gamma=0.99)
    print(f"# ensembles benchmark, {datetime.date.today()}, {machine()}")
    print(f"# Garnet S=100 A=4 branching 5 gamma 0.99, eps 0.1, alpha 0.1; ours {steps} steps (best of 3), "
          f"peer {peer_steps} steps\n")
    ours = {}
    for L, upd in ((REDQ(10, subset=2), 10), (MaxminQLearning(10), 1), (DoubleQLearning(), 1), (QLearning(), 1)):
        sps = ours_steps_per_s(L, mdp, steps)
        ours[L.name] = (sps, sps * upd)
    P, R = np.asarray(mdp.dense_P()), np.asarray(mdp.R)
    npy = numpy_maxmin_steps_per_s(P, R, np.asarray(mdp.initial), mdp.gamma, peer_steps)
    res, why = peer(args.peer_python, mdp, peer_steps)
    print("| implementation | algorithm | steps/s | table updates/s |")
    print("|---|---|---|---|")
    for name, (sps, ups) in ours.items():
        print(f"| mdptheory (compiled) | {name} | {sps:.3g} | {ups:.3g} |")
    if res is not None:
        for name in ("MaxminQLearning", "DoubleQLearning", "QLearning"):
            print(f"| mushroom-rl {res['version']} | {name} | {res[name]:.3g} | {res[name]:.3g} |")
    print(f"| plain numpy (same Maxmin update, labelled baseline) | Maxmin N=10 | {npy:.3g} | {npy:.3g} |")
    print()
    redq_ups = ours["REDQ"][1]
    print(f"REDQ N=10 M=2: {redq_ups:.3g} table updates/s (target >= 1e7 per core)")
    if res is None:
        print(f"mushroom-rl peer unavailable: {why}")
    else:
        mm = res["MaxminQLearning"]
        print(f"Maxmin N=10, ours / mushroom-rl (steps/s, same algorithm): {ours['Maxmin Q-learning'][0] / mm:.0f}x")
        print(f"REDQ table updates/s / mushroom-rl Maxmin table updates/s: {redq_ups / mm:.0f}x (target >= 100x)")
        print(f"Double Q, ours / mushroom-rl: {ours['Double Q-learning'][0] / res['DoubleQLearning']:.0f}x; "
              f"Q-learning: {ours['Q-learning'][0] / res['QLearning']:.0f}x")
    print(f"Maxmin N=10, ours / plain numpy: {ours['Maxmin Q-learning'][0] / npy:.0f}x")
    return ours, res, npy


if __name__ == "__main__":
    main()

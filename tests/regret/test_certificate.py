"""Bound certificates against numbers computed here: the UCBVI bounds written out from the paper
(Azar, Osband & Munos 2017, Theorems 1-2), plain loops for the maxima and the vacuous set."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdptheory as mt
from mdptheory.envs import riverswim
from mdptheory.learners import UCBVI, UniformRandom
from mdptheory.regret.certificate import (CertificateAccumulator, bound_certificate, combine_certificates,
                                          first_informative_episode)


def paper_bound(k, S, A, H, delta, bonus):
    """Theorem 2 (BF) / Theorem 1 (CH) of Azar et al. (2017), L' = ln(5 H S A T / delta), T = kH,
    and the trivial cap H k, for one integer k (plain floats)."""
    T = k * H
    Lp = math.log(5 * H * S * A * T / delta)
    if bonus == "bernstein":
        v = 30 * H * Lp * math.sqrt(S * A * k) + 2500 * H * H * S * S * A * Lp * Lp + 4 * H ** 1.5 * math.sqrt(k * Lp)
    else:
        v = 20 * H * Lp * math.sqrt(S * A * T) + 250 * H * H * S * S * A * Lp * Lp
    return v, H * k


def reference_certificate(cum, S, A, H, delta, bonus):
    """Plain-loop certificate (max ratio, argmax seed/k, informative max, counts)."""
    n, K = len(cum), len(cum[0])
    best, arg, inf = -1.0, (0, 0), -1.0
    n_vac, first_inf, last_vac = 0, 0, 0
    for k in range(1, K + 1):
        v, cap = paper_bound(k, S, A, H, delta, bonus)
        vac = v >= cap
        if vac:
            n_vac += 1
            last_vac = k
        elif first_inf == 0:
            first_inf = k
        for i in range(n):
            r = cum[i][k - 1] / v
            if r > best:
                best, arg = r, (i, k)
            if not vac and r > inf:
                inf = r
    final = max(cum[i][K - 1] / paper_bound(K, S, A, H, delta, bonus)[0] for i in range(n))
    return best, arg, inf, n_vac, first_inf, last_vac, final


@pytest.mark.parametrize("bonus,S,A,H", [("hoeffding", 2, 2, 1), ("bernstein", 2, 2, 1), ("hoeffding", 3, 2, 2)])
def test_certificate_matches_plain_loops(bonus, S, A, H):
    # synthetic cumulative regret that crosses well above the bound, so the maximum is interior;
    # K spans the vacuous/informative boundary of the small-S Hoeffding bound
    rng = np.random.default_rng(0)
    K = 4000
    steps = rng.exponential(1.0, size=(3, K)) * H * np.linspace(3.0, 0.01, K)
    cum = np.cumsum(steps, axis=1)
    delta = 0.05
    L = UCBVI(bonus, delta=delta)
    if bonus == "hoeffding" and (S, A, H) == (2, 2, 1):
        # shift the comparison to late episodes where the CH bound is informative
        offset = 3_000_000
        cert_k = np.arange(offset + 1, offset + K + 1, dtype=float)
        b = L.bound(S, A, H, cert_k)
        acc = CertificateAccumulator(3, start=offset)
        acc.update(cum + 2e6, b.value, b.trivial_cap)
        c = acc.result(b, "UCBVI")
        vals = [paper_bound(int(k), S, A, H, delta, bonus) for k in cert_k]
        ratios = (cum + 2e6) / np.array([v for v, _ in vals])
        assert c.max_ratio == pytest.approx(ratios.max(), rel=1e-12)
        assert c.argmax_episode == offset + 1 + int(np.unravel_index(ratios.argmax(), ratios.shape)[1])
        assert c.n_vacuous == sum(v >= cap for v, cap in vals) == 0
        assert c.first_informative == offset + 1
        return
    c = bound_certificate(cum, lambda k: L.bound(S, A, H, k), learner="UCBVI")
    best, (i, k), inf, n_vac, first_inf, last_vac, final = reference_certificate(cum.tolist(), S, A, H, delta, bonus)
    assert c.max_ratio == pytest.approx(best, rel=1e-12)
    assert (c.argmax_seed, c.argmax_episode) == (i, k)
    assert c.final_ratio == pytest.approx(final, rel=1e-12)
    assert c.n_vacuous == n_vac and c.first_informative == first_inf and c.last_vacuous == last_vac
    if inf < 0:
        assert math.isnan(c.max_ratio_informative) and c.vacuous_everywhere
    else:
        assert c.max_ratio_informative == pytest.approx(inf, rel=1e-12)
    assert c.explicit_constants and c.holds_with_probability == pytest.approx(0.95)
    assert c.holds == (best <= 1)


def test_vacuous_and_informative_split_with_a_constructed_bound():
    # a bound written here: value 10 sqrt(k) + 50 against the cap 2k (N1, H = 2):
    # vacuous while 10 sqrt(k) + 50 >= 2k, i.e. k <= 53 (2*53 = 106 <= 10*7.28+50 = 122.8;
    # k = 54..: check by hand below), so the informative episodes start right after
    class B:
        def __init__(self, k):
            self.value = 10 * np.sqrt(k) + 50
            self.trivial_cap = 2 * np.asarray(k, float)
            self.theorem, self.explicit_constants, self.holds_with_probability = "made up", True, 0.9
            self.normalization = "N1"

    K = 200
    last_vac = max(k for k in range(1, K + 1) if 10 * math.sqrt(k) + 50 >= 2 * k)
    cum = np.minimum(np.arange(1, K + 1) * 2.0, 10 * np.sqrt(np.arange(1, K + 1)) + 40)[None, :]
    c = bound_certificate(cum, B)
    assert c.last_vacuous == last_vac and c.first_informative == last_vac + 1
    assert c.n_vacuous == last_vac
    ratios = [cum[0, k - 1] / (10 * math.sqrt(k) + 50) for k in range(1, K + 1)]
    assert c.max_ratio_informative == pytest.approx(max(ratios[last_vac:]), rel=1e-13)
    assert c.max_ratio == pytest.approx(max(ratios), rel=1e-13) and c.holds
    # the same certificate from a RegretBound-like object evaluated at k = 1..K
    c2 = bound_certificate(cum, B(np.arange(1, K + 1, dtype=float)))
    assert c2.max_ratio == c.max_ratio and c2.n_vacuous == c.n_vacuous


def test_streaming_blocks_equal_one_pass_and_state_roundtrip():
    rng = np.random.default_rng(3)
    K = 1000
    cum = np.cumsum(rng.random((2, K)), axis=1)
    val = 3 * np.sqrt(np.arange(1, K + 1)) + 20
    cap = 1.0 * np.arange(1, K + 1)
    one = CertificateAccumulator(2)
    one.update(cum, val, cap)
    blk = CertificateAccumulator(2)
    for a, b in ((0, 1), (1, 17), (17, 500), (500, 1000)):
        blk = CertificateAccumulator.from_state(blk.state())      # checkpoint between blocks
        blk.update(cum[:, a:b], val[a:b], cap[a:b])
    for f in ("seed_max", "seed_argmax", "seed_max_inf", "seed_final", "counters"):
        assert np.array_equal(getattr(one, f), getattr(blk, f)), f


def test_combine_equals_joint_certificate_and_real_trace():
    mdp = riverswim(4, horizon=5)
    L = UCBVI("bernstein")
    tr = mt.run(L, mdp, 800, seeds=3, progress=False)
    fn = lambda k: L.bound(4, 2, 5, k)  # noqa: E731
    joint = bound_certificate(tr, fn)
    parts = [bound_certificate(tr.cumulative()[i], fn, learner="UCBVI") for i in range(3)]
    comb = combine_certificates(parts)
    assert joint.learner == "UCBVI"
    for f in ("max_ratio", "argmax_seed", "argmax_episode", "seed_max_ratio", "seed_argmax_episode",
              "final_ratio", "n_vacuous", "first_informative", "last_vacuous"):
        assert getattr(comb, f) == getattr(joint, f), f
    # the UCBVI-BF bound on RiverSwim(4), H=5 is vacuous for all 800 episodes (its burn-in term
    # 2500 H^2 S^2 A L'^2 is ~1e9): the ratio is below Regret/(Hk) <= 1 trivially
    assert joint.vacuous_everywhere and math.isnan(joint.max_ratio_informative) and joint.holds


def test_first_informative_episode_against_brute_force():
    S, A, H, delta = 2, 2, 1, 0.01
    L = UCBVI("hoeffding", delta=delta)
    k_star = first_informative_episode(lambda k: L.bound(S, A, H, k))
    # independent check with the paper's formula at k* and k* - 1
    v, cap = paper_bound(int(k_star), S, A, H, delta, "hoeffding")
    v1, cap1 = paper_bound(int(k_star) - 1, S, A, H, delta, "hoeffding")
    assert v < cap and v1 >= cap1
    assert 1e5 < k_star < 1e8
    # a bound that is never informative
    assert first_informative_episode(lambda k: UniformRandom().bound(S, A, H, k), k_max=1e6) == math.inf


def test_certificate_errors():
    with pytest.raises(ValueError, match="eval_every"):
        bound_certificate(mt.run(UCBVI(), riverswim(4, horizon=5), 20, eval_every=2, progress=False),
                          lambda k: UCBVI().bound(4, 2, 5, k))
    acc = CertificateAccumulator(1)
    with pytest.raises(ValueError, match="positive bound"):
        acc.update(np.ones((1, 3)), np.array([1.0, 0.0, 1.0]), np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        acc.update(np.ones((2, 3)), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="no episodes"):
        acc.result(UCBVI().bound(2, 2, 2, 10.0))

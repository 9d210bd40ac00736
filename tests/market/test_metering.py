"""The plausibility rule (market/metering.py), fed copy by copy as the hub does
(:meth:`Meter.add_copy`, every counted copy of a fragment): a seller inflating its CPU-time
claims is flagged and then paid the job's median; an honest seller on a machine 1.5x slower
than the others is never flagged, in any order of arrival."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.market.metering import Meter


def feed(m: Meter, factors: dict[str, float], rng: random.Random, n: int, job: str = "j"):
    """``n`` fragments, each run by two or three distinct keys in a random order; key k
    claims the fragment's base CPU time x factors[k] x noise (+-10 %)."""
    keys = sorted(factors)
    flagged: list[str] = []
    for fid in range(n):
        base = rng.randint(40_000, 400_000)
        for k in rng.sample(keys, rng.choice((2, 3)) if len(keys) > 2 else 2):
            claim = int(base * factors[k] * rng.uniform(0.9, 1.1))
            flagged += m.add_copy(fid, k, claim)
            m.payable(job, k, claim)
    return flagged


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), slow=st.floats(1.0, 1.5), inflate=st.floats(4.0, 20.0))
def test_inflating_seller_flagged_and_capped_slow_honest_seller_not(seed, slow, inflate):
    m = Meter()
    rng = random.Random(seed)
    flagged = feed(m, {"fast": 1.0, "fast2": 1.0, "slow": slow, "inflator": inflate}, rng, 40)
    assert m.flagged("inflator") and "inflator" in flagged, m.summary("inflator")
    assert not m.flagged("slow") and not m.flagged("fast"), (m.summary("slow"), flagged)
    paid = m.payable("j", "inflator", 400_000 * 5)
    assert paid.capped and paid.cpu_us < 450_000          # the job's median, not the claim
    assert not m.payable("j", "slow", 600_000).capped


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_two_honest_sellers_alone_one_of_them_slower_are_not_flagged(seed):
    m = Meter()
    assert feed(m, {"fast": 1.0, "slow": 1.5}, random.Random(seed), 60) == []
    assert m.summary("slow")["comparisons"] == 60 and not m.flagged("slow")


def test_a_key_is_compared_once_per_fragment_and_memory_is_bounded():
    m = Meter()
    m.add_copy(1, "a", 100)
    m.add_copy(1, "a", 900)                 # the same key again (a re-run): not a comparison
    m.add_copy(1, "b", 100)
    m.add_copy(1, "c", 400)
    assert [m.summary(k)["comparisons"] for k in "abc"] == [1, 1, 1]
    for fid in range(m.policy.fragments_kept + 50):
        m.add_copy(fid + 10, "a", 1)
    assert len(m._copies) == m.policy.fragments_kept


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 10**9))
def test_a_first_copy_flags_no_one_and_moves_no_ratio(seed, claim):
    """The first copy of a fragment (the common case, redundancy 1) is only remembered:
    nothing to compare it with (add_copy's fast path)."""
    m = Meter()
    feed(m, {"a": 1.0, "b": 4.0, "c": 1.0}, random.Random(seed), 30)
    keys = ("a", "b", "c", "new")
    before = {k: m.summary(k) for k in keys}
    for i, k in enumerate(keys):
        assert m.add_copy(10_000 + i, k, claim) == []
    assert {k: m.summary(k) for k in keys} == before

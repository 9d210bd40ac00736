"""The market's pure cores: exact money, signed receipts, plausible metering, budgets."""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq.errors import ConfigError, ProtocolError
from cpushare_mq.market.budget import Budget
from cpushare_mq.market.metering import Meter
from cpushare_mq.market.money import Price, amount_text, cost, decimal_text, parse_price
from cpushare_mq.market.receiptbatch import row_leaves, wire_row
from cpushare_mq.market.receipts import (
    DOMAIN,
    FIELDS,
    Receipt,
    canonical_bytes,
    claim_bytes,
    leaf,
    sign_receipt,
    verify_receipt,
)

prices = st.decimals(min_value=0, max_value=1000000, places=9, allow_nan=False,
                     allow_infinity=False).map(lambda d: Price(d, "EUR"))
cpu_us = st.integers(min_value=0, max_value=10**12)


few = st.sampled_from
alike_receipts = st.lists(st.builds(
    Receipt.issue, few(["ab" * 32, "cd" * 32]), few(["j-1", "j-2"]), st.integers(0, 2**63 - 1),
    few([0, 1]), few(["KA", "KB"]), few([0, 10_000, 20_000]), few([Price(Decimal("0.05")),
                                                                   Price(Decimal("1"), "EUR"),
                                                                   Price(Decimal("0"))]),
    few([1_700_000_000, 1_700_000_001])), max_size=40)


@given(alike_receipts)
def test_leaves_of_receipts_alike_but_for_their_fragments_are_each_ones_leaf(receipts):
    """Hub and worker hash the bytes around a fragment id once for a batch's rows alike in
    all else (receiptbatch.row_leaves): each row's leaf is its receipt's."""
    for hub, worker in {(r.hub_key, r.worker_key) for r in receipts}:
        mine = [r for r in receipts if (r.hub_key, r.worker_key) == (hub, worker)]
        assert row_leaves(hub, worker, [wire_row(r) for r in mine]) == [leaf(r) for r in mine]


def test_prices_parse_with_and_without_currency_and_refuse_nonsense():
    assert parse_price("0.05") == Price(Decimal("0.05"), "credits")
    assert parse_price("0.05 EUR") == Price(Decimal("0.05"), "EUR")
    for bad in ("-1", "1e3", "0.0000000001", "abc", "1 2 3", "1 €", "", "nan", "2000000"):
        with pytest.raises(ConfigError):
            parse_price(bad)


def test_an_hour_at_a_price_costs_the_price():
    assert cost(Price(Decimal("0.05")), 3_600_000_000) == Decimal("0.050000000")
    assert cost(Price(Decimal("1")), 1) == Decimal("0.000000000")   # rounds half-even


@given(prices, cpu_us, cpu_us)
def test_cost_is_exact_and_additive_within_rounding(price, a, b):
    whole = cost(price, a + b)
    parts = cost(price, a) + cost(price, b)
    assert abs(whole - parts) <= Decimal("0.000000001")
    assert whole >= 0 and whole == whole.quantize(Decimal("0.000000001"))


@given(prices, cpu_us)
def test_the_remembered_amount_is_the_formulas(price, us):
    text = decimal_text(price.per_cpu_hour)
    for _ in "twice":                                   # computed, then remembered
        assert amount_text(text, us) == decimal_text(cost(price, us))
    with pytest.raises(ConfigError):
        Receipt.issue("ab" * 32, "j", 1, 0, "w", True, price, 1)   # not an integer


receipts = st.builds(
    Receipt.issue, st.text("0123456789abcdef", min_size=64, max_size=64),
    st.text(min_size=1, max_size=40).filter(lambda s: len(s) <= 128), st.integers(0, 2**40),
    st.integers(0, 1000), st.text(min_size=1, max_size=40), cpu_us, prices,
    st.integers(0, 2**40))


@given(receipts)
def test_receipts_round_trip_and_their_signature_covers_every_field(r):
    key = Ed25519PrivateKey.generate()
    sig = sign_receipt(r, key)
    again = Receipt.from_dict(r.to_dict())
    assert again == r and verify_receipt(again, sig, key.public_key())
    for name in ("fragment_id", "attempt", "cpu_us", "issued_s"):
        changed = Receipt(**{**r.to_dict(), name: getattr(r, name) + 1})
        assert not verify_receipt(changed, sig, key.public_key())
        assert claim_bytes(changed) != claim_bytes(r)


@given(receipts)
def test_the_fast_claim_bytes_are_the_canonical_bytes(r):
    canonical = canonical_bytes(DOMAIN, r, FIELDS)
    assert claim_bytes(r) == canonical
    assert leaf(r) == hashlib.sha256(b"\x00" + canonical).digest()


def test_an_amount_written_otherwise_is_kept_as_written_when_it_is_the_same_number():
    r = Receipt.issue("ab" * 32, "j", 1, 0, "w", 7_200_000_000, Price(Decimal("0.50")), 1)
    assert (r.price, r.amount) == ("0.50", "1.000000000")
    again = Receipt.from_dict({**r.to_dict(), "amount": "1.00"})
    assert (again.price, again.amount) == ("0.50", "1.00")     # the signed text, as it came
    with pytest.raises(ProtocolError, match="amount"):
        Receipt.from_dict({**r.to_dict(), "amount": "1.000000001"})


def test_a_forged_or_inconsistent_receipt_is_refused():
    key = Ed25519PrivateKey.generate()
    r = Receipt.issue("ab" * 32, "j", 1, 0, "w", 7_200_000_000, Price(Decimal("0.5")), 1)
    assert r.amount == "1.000000000"
    other = Ed25519PrivateKey.generate()
    assert not verify_receipt(r, sign_receipt(r, other), key.public_key())
    assert not verify_receipt(r, "zz", key.public_key())
    for bad in ({**r.to_dict(), "amount": "2.000000000"}, {**r.to_dict(), "cpu_us": -1},
                {**r.to_dict(), "extra": 1}, {**r.to_dict(), "price": "1e3"}, "nope"):
        with pytest.raises(ProtocolError):
            Receipt.from_dict(bad)


def run_meter(inflate: float, slow: float, seed: int, n: int = 60) -> Meter:
    """Four honest keys (one of them on a machine ``slow`` times slower) and one key that
    multiplies its claims by ``inflate``; every fourth fragment is re-run on a second key."""
    rng = random.Random(seed)
    m = Meter()
    keys = ["h0", "h1", "h2", "slow", "inflator"]
    for i in range(n):
        base = rng.randint(50_000, 200_000)

        def claim(k, base=base):
            noise = rng.uniform(0.9, 1.1)
            factor = inflate if k == "inflator" else slow if k == "slow" else 1.0
            return int(base * factor * noise)
        a = keys[i % len(keys)]
        m.payable(f"job{seed}", a, claim(a))
        if i % 4 == 0:
            b = keys[(i + 1 + rng.randrange(len(keys) - 1)) % len(keys)]
            m.compare([(a, claim(a)), (b, claim(b))])
            m.compare([(a, claim(a)), (b, claim(b)), (keys[(i + 2) % 5], claim(keys[(i + 2) % 5]))])
    return m


def test_an_inflating_seller_is_flagged_and_paid_the_median_but_a_slow_honest_one_is_not():
    for seed in range(10):
        m = run_meter(inflate=10.0, slow=1.5, seed=seed)
        assert m.flagged("inflator"), m.summary("inflator")
        assert not m.flagged("slow") and not m.flagged("h0"), m.summary("slow")
        paid = m.payable(f"job{seed}", "inflator", 1_500_000)
        assert paid.capped and paid.cpu_us < 400_000
        assert not m.payable(f"job{seed}", "slow", 300_000).capped


def test_budgets_stop_leasing_before_the_budget_can_be_exceeded():
    b = Budget(Price(Decimal("3.6")), Decimal("0.010"), cpu_limit_us=1_000_000)  # 0.001 a lease
    assert b.lease_cost() == Decimal("0.001000000")
    assert b.room_for(Decimal("0"), 0) == 10
    assert b.room_for(Decimal("0.004"), 3) == 3
    assert b.room_for(Decimal("0.010"), 0) == 0
    assert Budget(Price(Decimal("1")), None, 10).room_for(Decimal("5"), 100) > 10**6

"""The hub ledger shell: a worker cannot inflate a receipt past the job's CPU limit, a
fragment is paid once, and the signing key survives reopening."""

from __future__ import annotations

from decimal import Decimal

from cpushare_mq.market.ledger import DEFAULT_PRICE, HubLedger, read_receipts, verify_receipts


def test_inflated_claim_is_paid_at_the_jobs_cpu_limit(tmp_path):
    led = HubLedger(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    sr = led.on_result("j-1", "KEY", 7, 0, cpu_s=1e9, limit_cpu_s=60.0)
    assert sr.receipt.cpu_us == 60_000_000 and sr.receipt.amount_decimal == Decimal(
        "0.016666667")
    for bad in (-5.0, 0.0):
        assert led.on_result("j-1", "KEY", 8 + int(bad), 0, cpu_s=bad,
                             limit_cpu_s=60.0).receipt.cpu_us == 0


def test_one_receipt_per_fragment_and_the_key_survives(tmp_path):
    db = str(tmp_path / "hub.db")
    led = HubLedger(db, DEFAULT_PRICE)
    first = led.on_result("j-1", "KEY", 1, 0, cpu_s=1.5)
    assert first is not None and led.on_result("j-1", "KEY", 1, 1, cpu_s=9.0) is None
    key = led.public_hex
    led.close()
    again = HubLedger(db, DEFAULT_PRICE)
    assert again.public_hex == key and again.on_result("j-1", "OTHER", 1, 2, 3.0) is None
    hub_key, items = read_receipts(db)
    assert hub_key == key and [sr.receipt.cpu_us for sr in items] == [1_500_000]
    assert verify_receipts([sr.to_dict() for sr in items], key) == items


def test_a_ledger_that_cannot_write_never_stops_the_hub(tmp_path, caplog):
    led = HubLedger(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    led.db.close()          # as a full disk or a broken file would: every write fails
    assert led.on_result("j-1", "KEY", 3, 0, cpu_s=1.0) is None
    assert "ledger: no receipt for 1 fragment(s): 3 of j-1" in caplog.text

"""The hub's receipt delivery (market/payout.py) and the worker's receipt store
(worker/earnings.py): a receipt is queued for the worker that earned it, resent at each
HELLO until acknowledged, and kept once; a forged, altered or someone else's receipt is
refused and never acknowledged."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.hub.scheduler.effects import Effects
from cpushare_mq.hub.store import Store
from cpushare_mq.market.ledger import DEFAULT_PRICE, HubLedger, JobTerms
from cpushare_mq.market.money import Price, cost
from cpushare_mq.market.payout import Payout
from cpushare_mq.market.receipts import Receipt, SignedReceipt, sign_batch, verify_receipt
from cpushare_mq.protocol import MAX_RECEIPTS_PER_MESSAGE, Feature, MsgType, decode, encode
from cpushare_mq.worker.earnings import Earnings, ReceiptInbox, read_earnings

from .leasecount import leases, payout

IDLE = leases(0)         # no lease out: the payout signs at once


def fids(out: list) -> list[list[int]]:
    """The fragment ids of each RECEIPTS message (receipts one by one)."""
    return [[r["fragment_id"] for r in body["receipts"]] for _, body in out]

HELLO = [Feature.RECEIPTS.value]


def accept(pay: Payout, job: str, key: str, fid: int, attempt: int, cpu_s: float,
           limit_cpu_s: float) -> None:
    """One copy counted and its fragment accepted with it, as the hub's loop does."""
    pay.on_copy(job, key, fid, attempt, cpu_s, limit_cpu_s)
    pay.settle(Effects(accepted=[(fid, job, attempt)]), 0)


def test_receipts_go_to_their_worker_and_are_resent_until_acknowledged(tmp_path):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", HELLO)
    pay.on_hello("w-2", "KB", [])                    # announced no receipts: gets none
    for fid in range(3):
        accept(pay, "j-1", "KA", fid, 0, 2.0, 60.0)
    accept(pay, "j-1", "KB", 9, 0, 2.0, 60.0)
    out = pay.outgoing(1.0, IDLE)
    assert [w for w, _ in out] == ["w-1"] and pay.outgoing(2.0, IDLE) == []
    body = out[0][1]
    assert decode(encode(MsgType.RECEIPTS, body)).body == {**body, "batches": (), "columns": ()}  # valid
    assert [r["fragment_id"] for r in body["receipts"]] == [0, 1, 2]
    pay.on_ack("w-1", [0, 9])        # 9 is KB's: an ack from KA's session does not count
    pay.forget("w-1")
    pay.on_hello("w-3", "KA", HELLO)     # KA reconnects: 1 and 2 are owed, with their batch
    assert fids(pay.outgoing(3.0, IDLE)) == [[0, 1, 2]]         # (the worker keeps 0 once)
    pay.on_hello("w-4", "KB", HELLO)
    assert fids(pay.outgoing(4.0, IDLE)) == [[9]]
    pay.on_ack("w-3", [1, 2, 0])
    pay.close()
    again = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)   # a hub restart
    again.on_hello("w-5", "KA", HELLO)
    again.on_hello("w-6", "KB", HELLO)
    assert fids(again.outgoing(5.0, IDLE)) == [[9]]              # KA acknowledged all


def test_many_owed_receipts_are_split_into_messages(tmp_path):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    n = MAX_RECEIPTS_PER_MESSAGE + 5
    for fid in range(n):
        accept(pay, "j-1", "KA", fid, 0, 0.5, 60.0)
    pay.on_hello("w-1", "KA", HELLO)
    sizes = [len(b["receipts"]) for _, b in pay.outgoing(6.0, IDLE)]
    assert sizes == [MAX_RECEIPTS_PER_MESSAGE, 5]


def signed(tmp_path, key: str, fids) -> list[dict]:
    led = HubLedger(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    return [led.on_result("j-1", key, fid, 0, 3.0, 60.0).to_dict() for fid in fids]


def test_the_worker_keeps_valid_receipts_once_and_refuses_bad_ones(tmp_path, caplog):
    items = signed(tmp_path, "KA", range(4))
    store = Earnings(tmp_path, "KA")
    altered = {**items[1], "cpu_us": items[1]["cpu_us"] * 10}
    altered["amount"] = str(cost(DEFAULT_PRICE, altered["cpu_us"]))
    forged = {**items[2], "signature": "0" * 128}
    assert store.take("HUBCURVE", [items[0], altered, forged, items[3]]) == [0, 3]
    assert "bad signature" in caplog.text
    assert store.take("HUBCURVE", [items[0], items[1]]) == [0, 1]    # resent: kept once
    rows = read_earnings(tmp_path)
    assert [sr.receipt.fragment_id for _, sr in rows] == [0, 1, 3]
    assert {c for c, _ in rows} == {"HUBCURVE"}
    assert read_earnings(tmp_path, hub=items[0]["hub_key"]) == rows
    assert read_earnings(tmp_path, hub="HUBCURVE") == rows and read_earnings(tmp_path, "x") == []


def test_a_receipt_for_another_worker_is_refused(tmp_path, caplog):
    items = signed(tmp_path, "KB", [5])
    trust = SimpleNamespace(claim=SimpleNamespace(directory=tmp_path), hello_key="KA",
                            hub_public=b"CURVEKEY")
    inbox = ReceiptInbox(trust)
    assert inbox.on_receipts(items) is None and "names another worker key" in caplog.text
    inbox.close()
    trust.hello_key = "KB"
    inbox = ReceiptInbox(trust)
    assert inbox.on_receipts(items) == {"fragment_ids": [5]}
    inbox.close()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), pick=st.integers(0, 10**6))
def test_one_signature_per_batch_each_receipt_verifies_alone(n, pick):
    key = Ed25519PrivateKey.generate()
    price = Price(Decimal("0.5"), "EUR")
    batch = sign_batch([Receipt.issue("HK", "j", fid, 0, "KA", 1000 * fid, price, 5)
                        for fid in range(n)], key)
    assert len({sr.signature for sr in batch}) == 1
    assert all(len(sr.proof) <= max(1, n).bit_length() for sr in batch)
    public = key.public_key()
    assert all(verify_receipt(sr.receipt, sr.signature, public, sr.proof) for sr in batch)
    sr = batch[pick % n]
    other = batch[(pick + 1) % n]
    assert SignedReceipt.from_dict(sr.to_dict()) == sr          # the proof travels with it
    inflated = Receipt.issue("HK", "j", sr.receipt.fragment_id, 0, "KA",
                             sr.receipt.cpu_us + 1, price, 5)
    assert not verify_receipt(inflated, sr.signature, public, sr.proof)
    if n > 1:
        assert not verify_receipt(sr.receipt, sr.signature, public, other.proof)
    assert not verify_receipt(sr.receipt, sr.signature, Ed25519PrivateKey.generate()
                              .public_key(), sr.proof)


def test_earnings_cli_reads_the_workers_config_dir_and_totals_per_hub(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    ident = tmp_path / "ident"
    ident.mkdir()
    items = signed(tmp_path, "KA", range(3))
    assert Earnings(ident, "KA").take("HUBCURVE", items) == [0, 1, 2]
    (tmp_path / "c.toml").write_text(f'[cpushare-worker]\nconfig-dir = "{ident}"\n')
    exe = str(Path(sys.executable).parent / "cpushare-worker")
    env = {**os.environ, "CPUSHARE_CONFIG": str(tmp_path / "c.toml")}
    r = subprocess.run([exe, "earnings"], capture_output=True, text=True, env=env, timeout=60)
    total = sum(Decimal(d["amount"]) for d in items)
    assert r.returncode == 0 and f"3 receipts, 9.000000 CPU s, {total} credits" in r.stdout, \
        r.stdout + r.stderr
    r = subprocess.run([exe, "earnings", "--json", "--hub", "nobody"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout) == []
    r = subprocess.run([exe, "earnings", "--hub", "nobody"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0 and r.stdout == "no receipts match --hub nobody\n", r.stdout
    (tmp_path / "new").mkdir()
    Earnings(tmp_path / "new", "KB").close()        # an earnings file of no receipts
    r = subprocess.run([exe, "earnings", "--config-dir", str(tmp_path / "new")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "no receipts yet\n", r.stdout + r.stderr
    r = subprocess.run([exe, "earnings", "--config-dir", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no earnings file" in r.stderr and len(r.stderr.splitlines()) == 1


def test_a_job_nobody_pays_for_makes_no_claims_and_is_not_metered(tmp_path):
    """No price of its own and none at the hub: its copies open no claims, feed no metering
    and leave the ledger untouched (the hub's loop pays nothing per result for them); a job
    with a price on the same hub is claimed, metered and paid as before."""
    ledger = HubLedger(str(tmp_path / "hub.db"), None)
    pay = Payout(ledger, Store(str(tmp_path / "hub.db")))
    pay.on_copy("free", "KA", 1, 0, 2.0, 60.0)
    pay.on_copy("free", "KB", 1, 1, 9.0, 60.0)      # a second copy: would be compared
    assert len(pay._claims) == 0 and ledger.meter.summary("KA")["comparisons"] == 0
    pay.settle(Effects(accepted=[(1, "free", 0)]), 0)
    assert ledger.db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    assert ledger.unsigned == 0 and ledger.sign().batches == []
    pay.on_job("paid", JobTerms(Price(Decimal("0.05"), "USD"), None, 60_000_000), SimpleNamespace(
        running_job=lambda j: True, in_flight=lambda j: 0, set_allowance=lambda *a: None))
    pay.on_copy("paid", "KA", 2, 0, 2.0, 60.0)
    pay.on_copy("paid", "KB", 2, 1, 2.0, 60.0)
    assert ledger.meter.summary("KA")["comparisons"] == 1
    pay.settle(Effects(accepted=[(2, "paid", 0)]), 0)
    assert ledger.unsigned == 1
    pay.close()

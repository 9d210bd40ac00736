"""Receipt batches as columns (market/columnbatch.py, feature ``receipt_columns``): a worker's
receipts for one job travel as four columns of integers under one hash, signed in the same
tree as row batches. Attacked as a hostile hub (or a man in the middle) would: any altered
column, header field, proof or signature refuses the batch whole; a receipt taken out of a
batch and checked alone must be in the columns its proof carries; a proof step that would
inflate is never inflated. And the hub sends columns only to workers that take them."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import sqlite3
from decimal import Decimal

import pytest
import zstandard
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import ConfigError, ProtocolError
from cpushare_mq.market.columnbatch import ColumnBatch
from cpushare_mq.market.columnroot import columns_root, columns_step, columns_text
from cpushare_mq.market.ledger import DEFAULT_PRICE, read_receipts, verify_receipts
from cpushare_mq.market.money import Price, amount_text
from cpushare_mq.market.receiptbatch import sign_groups, wire_row
from cpushare_mq.market.receipts import Receipt, SignedReceipt, verify_receipt
from cpushare_mq.protocol import Feature, MsgType, decode, encode, encode_trusted
from cpushare_mq.worker.earnings import Earnings, read_earnings

from .leasecount import accept, leases, payout

COLUMNS = [f.value for f in (Feature.RECEIPTS, Feature.RECEIPT_BATCHES,
                             Feature.RECEIPT_COLUMNS)]
ROWS_ONLY = COLUMNS[:2]
PRICE = Price(Decimal("0.37"), "EUR")


def signed(owners: list[str], columns_for=("KA", "KB", "KC"), cpu=lambda fid: 1000 + 7 * fid,
           key: Ed25519PrivateKey | None = None) -> tuple[Ed25519PrivateKey, list]:
    """The batches of one signing: receipt ``fid`` for worker ``owners[fid]``, as columns for
    the keys in ``columns_for`` and as rows for the others."""
    key = key or Ed25519PrivateKey.generate()
    hub_key = key.public_key().public_bytes_raw().hex()
    groups: dict[str, list[tuple]] = {}
    for fid, owner in enumerate(owners):
        r = Receipt.issue(hub_key, "j", fid, fid % 3, owner, cpu(fid), PRICE, 5 + fid // 4)
        groups.setdefault(owner, []).append(wire_row(r))
    return key, sign_groups(hub_key, list(groups.items()), key, lambda k: k in columns_for)


@settings(max_examples=40, deadline=None)
@given(owners=st.lists(st.sampled_from(["KA", "KB", "KC"]), min_size=1, max_size=600),
       columns_for=st.sets(st.sampled_from(["KA", "KB", "KC"])))
def test_column_and_row_batches_of_one_signing_open_to_receipts_checked_alone(owners,
                                                                              columns_for):
    key, batches = signed(owners, columns_for)
    public = key.public_key()
    assert len({b.signature for b in batches}) == 1
    for batch in batches:
        assert (type(batch) is ColumnBatch) == (batch.worker_key in columns_for)
        wire = json.loads(json.dumps(batch.to_wire()))
        again = type(batch).from_wire(wire)
        assert again == batch and again.verify(public)
        mine = batch.signed()
        assert again.open(public) == mine
        for sr in mine:        # each alone, and as 'cpushare ledger --json' writes it
            assert verify_receipt(sr.receipt, sr.signature, public, sr.proof)
            assert SignedReceipt.from_dict(json.loads(json.dumps(sr.to_dict()))) == sr
    got = sorted(sr.receipt for b in batches for sr in b.signed())
    assert [r.fragment_id for r in got] == list(range(len(owners)))
    assert all(r.amount == amount_text(r.price, r.cpu_us) for r in got)


def test_a_column_batch_is_a_third_of_the_bytes_of_its_rows():
    _, (cols,) = signed(["KA"] * 256)
    _, (rows,) = signed(["KA"] * 256, columns_for=())
    assert len(json.dumps(cols.to_wire())) * 2.5 < len(json.dumps(rows.to_wire()))


def _tamper(wire: dict, how: str) -> dict:
    w = copy.deepcopy(wire)
    cols = w["columns"]
    if how == "inflated":           # more CPU time for one receipt: its amount follows
        cols[2][0] *= 10
    elif how == "reordered":
        for c in cols:
            c.reverse()
    elif how == "cut":
        for c in cols:
            c.pop()
    elif how == "padded":
        cols[0].append(10**6)
        cols[1].append(0)
        cols[2].append(1)
        cols[3].append(5)
    elif how == "attempt":
        cols[1][0] += 1
    elif how == "issued":
        cols[3][0] -= 1
    elif how in ("job_id", "currency", "worker_key"):
        w[how] = "X"
    elif how == "price":
        w["price"] = "3.7"
    elif how == "proof":
        w["proof"][0] = w["proof"][0][0] + "0" * 64
    elif how == "signature":
        w["signature"] = "0" * 128
    return w


@pytest.mark.parametrize("how", ["inflated", "reordered", "cut", "padded", "attempt", "issued",
                                 "job_id", "currency", "price", "worker_key", "proof",
                                 "signature"])
def test_a_tampered_column_batch_is_refused_whole_and_the_good_one_kept(tmp_path, caplog,
                                                                        how):
    key, (mine, _theirs) = signed(["KA", "KB"] * 3)
    _, (good,) = signed(["KA"], key=key)                  # another signing
    store = Earnings(tmp_path, "KA")
    bad = _tamper(mine.to_wire(), how)
    assert store.take("HUBCURVE", [], [bad, good.to_wire()]) == [0]
    assert "refused a receipt batch" in caplog.text
    assert "names another worker key" in caplog.text if how == "worker_key" else (
        "bad signature" in caplog.text)
    assert [sr.receipt.fragment_id for _, sr in read_earnings(tmp_path)] == [0]
    store.close()


@pytest.mark.parametrize("field, value, says", [
    ("columns", [[1], [0], [5]], "columns must be a list of 4 lists"),
    ("columns", [[], [], [], []], "columns must hold 1-256 receipts"),
    ("columns", [[1, 2], [0], [5, 5], [5, 5]], "column attempt must be a list of 2"),
    ("columns", [[1], [0], [-5], [5]], "column cpu_us must hold non-negative integers"),
    ("columns", [[1], [True], [5], [5]], "column attempt must hold non-negative integers"),
    ("columns", [[1], [0], [5.0], [5]], "column cpu_us must hold non-negative integers"),
    ("columns", [[1], [0], [5], [2**63]], "column issued_s must hold non-negative"),
    ("columns", [[1, 1], [0, 0], [5, 5], [5, 5]], "names a fragment twice"),
    ("columns", [list(range(257))] * 4, "columns must hold 1-256 receipts"),
    ("price", "00.37", "receipt price must be written '0.37'"),
    ("price", "cheap", "receipt price"),
    ("signature", "zz", "signature must be 128 hex digits"),
    ("proof", ["x" * 65], "proof must be a list of at most 32"),
    ("job_id", "", "job_id must be a string of 1-128"),
    ("job_id", "j\ud800", "job_id is not UTF-8 text"),
    ("hub_key", 7, "hub_key must be a string"),
])
def test_a_malformed_column_batch_gets_a_one_line_error(field, value, says):
    _, (batch,) = signed(["KA", "KA"])
    with pytest.raises(ProtocolError, match=says) as err:
        ColumnBatch.from_wire({**batch.to_wire(), field: value})
    assert "\n" not in str(err.value)


def test_a_column_batch_with_a_field_missing_or_added_is_refused():
    _, (batch,) = signed(["KA"])
    wire = batch.to_wire()
    for bad in ({k: v for k, v in wire.items() if k != "currency"}, {**wire, "rows": []}):
        with pytest.raises(ProtocolError, match="exactly the fields"):
            ColumnBatch.from_wire(bad)


def _step(text: bytes) -> str:
    return "c" + base64.b64encode(zstandard.ZstdCompressor().compress(text)).decode()


def test_a_receipt_checked_alone_must_be_in_the_columns_its_proof_carries():
    key, (batch,) = signed(["KA"] * 5)
    public = key.public_key()
    sr = batch.signed()[2]
    r = sr.receipt
    inflated = r._replace(cpu_us=r.cpu_us * 10, amount=amount_text(r.price, r.cpu_us * 10))
    assert verify_receipt(r, sr.signature, public, sr.proof)
    assert not verify_receipt(inflated, sr.signature, public, sr.proof)
    assert not verify_receipt(r._replace(fragment_id=99), sr.signature, public, sr.proof)
    assert not verify_receipt(r._replace(job_id="k"), sr.signature, public, sr.proof)
    other = [c[:2] for c in batch.columns]                     # another batch's columns
    for step in (_step(json.dumps(other).encode()), _step(b"[1,2]"), _step(b"not json"),
                 "c" + "A" * 8, "c!!"):
        assert not verify_receipt(r, sr.signature, public, (step, *sr.proof[1:]))


def test_a_proof_step_that_would_inflate_is_never_inflated(monkeypatch):
    """A receipt file from a stranger may carry a step declaring a huge text (64 MiB in 2 kB
    here): refused by its declared size, before anything is decompressed."""
    from cpushare_mq.market import columnroot

    inflated = []
    real = zstandard.ZstdDecompressor

    class Spy:          # (not a subclass: zstandard's C types are not made to be bases)
        def __init__(self):
            self._real = real()

        def decompress(self, data, *args, **kwargs):
            inflated.append(zstandard.frame_content_size(data))
            return self._real.decompress(data, *args, **kwargs)

    monkeypatch.setattr(columnroot.zstandard, "ZstdDecompressor", Spy)
    cpu_us = secrets.randbelow(10**12)          # columns no other test opened before
    key, (batch,) = signed(["KA"], cpu=lambda fid: cpu_us)
    sr = batch.signed()[0]
    bomb = zstandard.ZstdCompressor(level=1).compress(b"[" * (64 << 20))
    assert zstandard.frame_content_size(bomb) == 64 << 20 and len(bomb) < 20_000
    step = "c" + base64.b64encode(bomb).decode()
    assert not verify_receipt(sr.receipt, sr.signature, key.public_key(), (step,))
    assert inflated == []
    assert verify_receipt(sr.receipt, sr.signature, key.public_key(), sr.proof)
    assert inflated and max(inflated) < 64 << 10        # the honest step: a few kB
    with pytest.raises(ProtocolError, match="proof must be a list"):     # too long a step
        SignedReceipt.from_dict({**sr.to_dict(), "proof": ["c" + "A" * 70_000]})


def test_the_root_of_a_column_batch_is_its_documented_hash():
    """docs/market.md: sha256(0x02 || domain || u32-length-prefixed header || u32 count ||
    each column's values as i64 little-endian)."""
    import hashlib
    import struct
    _, (batch,) = signed(["KA", "KA"])
    head = b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in (
        batch.hub_key, "KA", "j", "0.37", "EUR"))
    values = struct.pack("<I8q", 2, 0, 1, 0, 1, 1000, 1007, 5, 5)
    assert batch.root() == hashlib.sha256(
        b"\x02cpushare-mq/receipt-columns/v1\0" + head + values).digest()
    assert columns_root((batch.hub_key, "KA", "j", "0.37", "EUR"),
                        [[0, 1], [0, 1], [1000, 1007], [5, 5]]) == batch.root()
    assert columns_text(batch.columns) == "[[0,1],[0,1],[1000,1007],[5,5]]"
    step = columns_step(columns_text(batch.columns))
    assert zstandard.ZstdDecompressor().decompress(base64.b64decode(step[1:])) == (
        b"[[0,1],[0,1],[1000,1007],[5,5]]")



def test_the_hub_sends_columns_to_workers_that_take_them_rows_to_the_others(tmp_path):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", COLUMNS)
    pay.on_hello("w-2", "KB", ROWS_ONLY)
    accept(pay, "KA", 0, 2, 4)
    accept(pay, "KB", 1, 3)
    out = dict(pay.outgoing(1.0, leases(0)))
    cols = decode(encode(MsgType.RECEIPTS, out["w-1"])).body       # valid on the wire
    rows = decode(encode(MsgType.RECEIPTS, out["w-2"])).body
    assert cols["batches"] == () and cols["columns"][0]["columns"][0] == [0, 2, 4]
    assert rows["columns"] == () and [r[1] for r in rows["batches"][0]["rows"]] == [1, 3]
    assert cols["columns"][0]["signature"] == rows["batches"][0]["signature"]   # one signing
    for k, body in (("ka", cols), ("kb", rows)):
        (tmp_path / k).mkdir()
        store = Earnings(tmp_path / k, k.upper())
        assert store.take("HUBCURVE", [], [*body["batches"], *body["columns"]]) != []
        store.close()
        kept = [sr for _, sr in read_earnings(tmp_path / k)]
        assert kept == read_receipts(str(tmp_path / "hub.db"), worker=k.upper())[1]
    pay.close()


def test_columns_owed_wait_for_a_worker_that_takes_them_and_go_whole(tmp_path, caplog):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", COLUMNS)
    accept(pay, "KA", 7, 8)
    assert len(pay.outgoing(4.0, leases(0))) == 1
    pay.forget("w-1")                              # no acknowledgement: owed
    pay.on_hello("w-2", "KA", ROWS_ONLY)           # the seller went back to an older worker
    assert pay.outgoing(5.0, leases(0)) == [] and "wait for a worker that takes" in caplog.text
    pay.forget("w-2")
    pay.on_hello("w-3", "KA", COLUMNS)
    (wid, body), = pay.outgoing(6.0, leases(0))
    frames = encode_trusted(MsgType.RECEIPTS, body)
    msg = decode(frames)
    assert wid == "w-3" and msg["receipts"] == () and len(msg["columns"]) == 1
    store = Earnings(tmp_path, "KA")
    acked = store.take("HUBCURVE", [], [*msg["batches"], *msg["columns"]], bytes(frames[1]))
    assert acked == [7, 8] and pay.admit_ack("w-3")
    pay.on_ack("w-3", acked)
    pay.forget("w-3")
    pay.on_hello("w-4", "KA", COLUMNS)
    assert pay.outgoing(7.0, leases(0)) == []      # delivered, once
    assert [sr.receipt.fragment_id for _, sr in read_earnings(tmp_path)] == [7, 8]
    store.close()
    pay.close()


def test_an_altered_column_batch_in_the_earnings_file_is_caught_when_read(tmp_path):
    _, (batch,) = signed(["KA"] * 3)
    frames = encode_trusted(MsgType.RECEIPTS, {"columns": [batch.to_wire()]})
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], list(decode(frames)["columns"]),
                      bytes(frames[1])) == [0, 1, 2]
    store.close()
    assert [sr for _, sr in read_earnings(tmp_path)] == batch.signed()
    db = sqlite3.connect(tmp_path / "earnings.db")
    (text,), = db.execute("SELECT wire FROM receipt_batches")
    d = json.loads(text)
    d["columns"][0]["columns"][2][1] += 1000          # more CPU time for one receipt
    db.execute("UPDATE receipt_batches SET wire=?", (json.dumps(d),))
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="receipt batch 1 is missing, damaged or fails"):
        read_earnings(tmp_path)


def test_a_ledgers_column_receipts_export_and_verify_offline(tmp_path):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", COLUMNS)
    accept(pay, "KA", *range(1, 40))
    pay.outgoing(1.0, leases(0))
    pay.close()
    hub_key, kept = read_receipts(str(tmp_path / "hub.db"))
    assert [sr.receipt.fragment_id for sr in kept] == list(range(1, 40))
    exported = json.loads(json.dumps([sr.to_dict() for sr in kept]))
    assert verify_receipts(exported, hub_key) == kept
    exported[5]["cpu_us"] += 10**6
    exported[5]["amount"] = amount_text(exported[5]["price"], exported[5]["cpu_us"])
    with pytest.raises(ProtocolError, match="receipt 5 .fragment 6.: bad signature"):
        verify_receipts(exported, hub_key)
    exported[5]["currency"] = "EUR\udc80"          # JSON may spell what UTF-8 cannot
    with pytest.raises(ProtocolError, match="receipt 5: receipt currency is not UTF-8 text"):
        verify_receipts(exported, hub_key)

"""Receipt batches (market/receiptbatch.py): a worker's receipts of one hub turn travel as
compact rows under the turn's one signature; the worker checks the batch whole, keeps it,
and derives for each receipt the proof the hub's ledger holds. Attacked as a hostile hub
(or a man in the middle of a plain link) would: altered, reordered, cut, padded, re-keyed
and malformed batches are refused whole and never acknowledged; the file a worker keeps is
checked again when it is read."""

from __future__ import annotations

import copy
import json
import sqlite3
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import ConfigError, ProtocolError
from cpushare_mq.hub.server import Hub
from cpushare_mq.market.ledger import DEFAULT_PRICE, read_receipts
from cpushare_mq.market.money import Price, cost, decimal_text
from cpushare_mq.market.payout import SIGN_INTERVAL_S, Payout
from cpushare_mq.market.receiptbatch import MAX_BATCH, ReceiptBatch, sign_batches
from cpushare_mq.market.receipts import Receipt, verify_receipt
from cpushare_mq.protocol import Feature, MsgType, decode, encode, encode_trusted
from cpushare_mq.worker.earnings import Earnings, read_earnings

from .leasecount import accept, leases, payout
from .paidworld import lease, vote, voting_world

BATCHED = [Feature.RECEIPTS.value, Feature.RECEIPT_BATCHES.value]
PRICE = Price(Decimal("0.37"), "EUR")


def receipts(hub_key: str, owners: list[str]) -> list[Receipt]:
    return [Receipt.issue(hub_key, "j", fid, 0, key, 1000 + 7 * fid, PRICE, 5)
            for fid, key in enumerate(owners)]


@settings(max_examples=40, deadline=None)
@given(owners=st.lists(st.sampled_from(["KA", "KB", "KC"]), min_size=1, max_size=60))
def test_each_batch_opens_to_the_ledgers_receipts_under_one_signature(owners):
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    batches = sign_batches(receipts("HK", owners), key)
    assert len({b.signature for b in batches}) == 1
    assert sorted(b.receipts[0].worker_key for b in batches) == sorted(set(owners))
    for batch in batches:
        mine = batch.signed()                      # the proofs the hub's ledger gives
        assert {r.worker_key for r in batch.receipts} == {batch.receipts[0].worker_key}
        again = ReceiptBatch.from_wire(json.loads(json.dumps(batch.to_wire())))
        assert again == batch and again.verify(public)
        assert again.open(public) == mine          # the worker's proofs are the hub's
        assert all(verify_receipt(sr.receipt, sr.signature, public, sr.proof) for sr in mine)
    assert sorted(r.fragment_id for b in batches for r in b.receipts) == list(range(len(owners)))


def test_a_worker_with_more_than_a_batch_gets_several():
    key = Ed25519PrivateKey.generate()
    batches = sign_batches(receipts("HK", ["KA"] * (MAX_BATCH + 3)), key)
    assert [len(b.receipts) for b in batches] == [MAX_BATCH, 3]
    assert all(b.verify(key.public_key()) for b in batches)


def _tamper(wire: dict, how: str, other: dict) -> dict:
    w = copy.deepcopy(wire)
    rows = w["rows"]
    if how == "inflated":          # more CPU time, the amount made to match: the hub never signed it
        rows[0][3] *= 10
        rows[0][6] = decimal_text(cost(PRICE, rows[0][3]))
    elif how == "reordered":
        rows.reverse()
    elif how == "cut":
        rows.pop()
    elif how == "padded":          # a row of another worker's batch of the same turn
        rows.append(other["rows"][0])
    elif how == "proof":
        w["proof"][0] = w["proof"][0][0] + "0" * 64
    elif how == "foreign key":     # signed by a key that is not the hub's it names
        forged = sign_batches([ReceiptBatch.from_wire(wire).receipts[0]],
                              Ed25519PrivateKey.generate())[0].to_wire()
        w = {**forged, "hub_key": wire["hub_key"]}
    return w


@pytest.mark.parametrize("how", ["inflated", "reordered", "cut", "padded", "proof",
                                 "foreign key"])
def test_a_tampered_batch_is_refused_whole_and_the_good_one_kept(tmp_path, caplog, how):
    key = Ed25519PrivateKey.generate()
    hub_key = key.public_key().public_bytes_raw().hex()
    mine, theirs = sign_batches(receipts(hub_key, ["KA", "KB"] * 3), key)
    good = sign_batches(receipts(hub_key, ["KA"] * 2)[1:], key)[0]   # another turn
    store = Earnings(tmp_path, "KA")
    bad = _tamper(mine.to_wire(), how, theirs.to_wire())
    assert store.take("HUBCURVE", [], [bad, good.to_wire()]) == [1]
    assert "refused a receipt batch" in caplog.text and "bad signature" in caplog.text
    assert [sr.receipt.fragment_id for _, sr in read_earnings(tmp_path)] == [1]
    store.close()


@pytest.mark.parametrize("field, value, says", [
    ("rows", [], "rows must be a list of 1-256 rows"),
    ("rows", [["j", 1, 0, 5, "0.37", "EUR", "0.000000001"]], "list of 8 values"),
    ("rows", [["j", -1, 0, 5, "0.37", "EUR", "0", 5]], "fragment_id must be a non-negative"),
    ("rows", [["j", 1, 0, 5, "0.37", "EUR", "1e3", 5]], "receipt amount must be"),
    ("rows", [["j", 1, 0, 5, "0.37", "EUR", "0.1", 5]], "amount is not price x cpu_us"),
    ("signature", "zz", "signature must be 128 hex digits"),
    ("proof", ["x" * 65], "proof must be a list of at most 32"),
    ("worker_key", "", "worker_key must be a string of 1-128"),
])
def test_a_malformed_batch_gets_a_one_line_error(field, value, says):
    key = Ed25519PrivateKey.generate()
    wire = sign_batches(receipts("HK", ["KA", "KA"]), key)[0].to_wire()
    with pytest.raises(ProtocolError, match=says) as err:
        ReceiptBatch.from_wire({**wire, field: value})
    assert "\n" not in str(err.value)


def test_a_batch_for_another_worker_is_refused(tmp_path, caplog):
    key = Ed25519PrivateKey.generate()
    batch = sign_batches(receipts(key.public_key().public_bytes_raw().hex(), ["KB"]), key)[0]
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], [batch.to_wire()]) == []
    assert "names another worker key" in caplog.text
    store.close()



def test_the_hub_sends_batches_to_workers_that_take_them_and_both_sides_agree(tmp_path):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", BATCHED)
    pay.on_hello("w-2", "KB", [Feature.RECEIPTS.value])       # an older worker: one by one
    accept(pay, "KA", 0, 2, 4)
    accept(pay, "KB", 1, 3)
    out = pay.outgoing(1.0, leases(0))
    assert [w for w, _ in out] == ["w-2", "w-1"]
    assert [r["fragment_id"] for r in out[0][1]["receipts"]] == [1, 3]
    body = decode(encode(MsgType.RECEIPTS, out[1][1])).body      # valid on the wire
    assert body["receipts"] == () and [len(b["rows"]) for b in body["batches"]] == [3]
    accept(pay, "KA", 12, 14)                                      # the next turn
    (w, later), = pay.outgoing(2.0, leases(0))
    (tmp_path / "ka").mkdir()
    store = Earnings(tmp_path / "ka", "KA")
    acked = [fid for b in (*body["batches"], *later["batches"])
             for fid in store.take("HUBCURVE", [], [b])]
    assert w == "w-1" and acked == [0, 2, 4, 12, 14]
    pay.on_ack("w-1", acked)
    pay.forget("w-1")
    pay.on_hello("w-3", "KA", BATCHED)          # nothing owed: the acks were recorded
    assert pay.outgoing(3.0, leases(0)) == []
    kept = [sr for _, sr in read_earnings(tmp_path / "ka")]
    hub_key, ledger = read_receipts(str(tmp_path / "hub.db"), worker="KA")
    assert kept == ledger and all(sr.receipt.hub_key == hub_key for sr in kept)
    store.close()
    pay.close()


def test_a_worker_may_answer_each_receipts_message_once(tmp_path):
    """RECEIPT_ACK is admitted (before it is decoded) once for each RECEIPTS message sent to
    the session; an acknowledgement of receipts never sent keeps nothing."""
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", BATCHED)
    assert not pay.admit_ack("w-1") and not pay.admit_ack(None)     # nothing sent
    accept(pay, "KA", 1, 2)
    (_, body), = pay.outgoing(1.0, leases(0))
    assert pay.admit_ack("w-1") and not pay.admit_ack("w-1")
    pay.on_ack("w-1", list(range(10**6, 10**6 + 256)))     # made up
    assert not pay.ledger.dirty
    pay.on_ack("w-1", [1, 2])
    assert pay.ledger.dirty                      # the batch delivered: marked when signing
    accept(pay, "KA", 3)
    assert len(pay.outgoing(2.0, leases(0))) == 1
    pay.forget("w-1")                            # a new session owes no answer
    pay.on_hello("w-2", "KA", BATCHED)
    assert not pay.admit_ack("w-1") and not pay.admit_ack("w-2")
    pay.close()


def test_receipts_are_signed_together_while_leases_are_out_and_at_once_when_none_are(tmp_path):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", BATCHED)
    accept(pay, "KA", 1)
    assert len(pay.outgoing(10.0, leases(5))) == 1    # nothing signed for a while: at once
    accept(pay, "KA", 2)
    accept(pay, "KA", 3)
    assert pay.outgoing(10.1, leases(5)) == []        # 5 leases out: they wait together
    accept(pay, "KA", 4)
    (_, body), = pay.outgoing(10.0 + SIGN_INTERVAL_S, leases(5))
    assert [row[1] for row in body["batches"][0]["rows"]] == [2, 3, 4]   # one signature
    accept(pay, "KA", 5)
    assert pay.outgoing(10.3, leases(0)) != []        # no lease out: the ledger is complete
    assert [sr.receipt.fragment_id for sr in read_receipts(str(tmp_path / "hub.db"))[1]] == [
        1, 2, 3, 4, 5]
    pay.close()


def stored_unsigned(db: str) -> Payout:
    """A hub that paid fragment 1 (signed and sent) and then 2 and 3 (stored with their
    results, not signed yet: leases are out)."""
    pay = payout(db, DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", BATCHED)
    accept(pay, "KA", 1)
    pay.outgoing(10.0, leases(5))
    accept(pay, "KA", 2, 3)
    return pay


def test_results_a_killed_hub_committed_but_did_not_sign_are_paid_when_it_restarts(tmp_path):
    """The receipts of the results committed since the last signing live in memory only:
    a restarted hub issues them from its store (what it accepted after the ledger's
    watermark), once each, and its worker gets them with the ones it did not acknowledge."""
    w, pay = voting_world(tmp_path, redundancy=1, n=4)
    pay.on_hello("w-1", "K-a", BATCHED)
    fids = []
    for _ in range(3):
        fid, attempt = lease(w.core, "a")
        vote(w.core, pay, w.job, "a", fid, attempt, "ab" * 32, cpu_s=1.5)
        w.turn(pay)
        fids.append(fid)
        if len(fids) == 1:
            pay.outgoing(10.0, leases(5))     # the first is signed and sent; then leases
    assert pay.ledger.unsigned == 2           # are out: the others wait... and kill -9
    assert [sr.receipt.fragment_id for sr in read_receipts(w.db)[1]] == fids[:1]
    again = payout(w.db, DEFAULT_PRICE)
    again.before_assign(w.core)               # the first turn: what the store accepted since
    assert again.ledger.spent(w.job) == pay.ledger.spent(w.job) > 0     # paid all the same
    again.on_hello("w-2", "K-a", BATCHED)
    (_, owed), (_, rest) = again.outgoing(20.0, leases(5))  # first: not acknowledged; 2 more
    store = Earnings(tmp_path, "K-a")
    assert [fid for b in (owed, rest) for fid in store.take(
        "HUBCURVE", b.get("receipts", []), b.get("batches", []))] == fids
    assert [sr for _, sr in read_earnings(tmp_path)] == read_receipts(w.db)[1]
    assert [sr.receipt.cpu_us for sr in read_receipts(w.db)[1]] == [1_500_000] * 3
    store.close()
    again.close()
    third = payout(w.db, DEFAULT_PRICE)       # restarted again: nothing is issued twice
    third.before_assign(w.core)
    assert third.ledger.unsigned == 0 and len(read_receipts(w.db)[1]) == 3
    third.close()


def test_a_hub_stopping_signs_the_receipts_it_stored(tmp_path):
    pay = stored_unsigned(str(tmp_path / "hub.db"))
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="")
    hub.payout = pay                          # as 'cpushare-hub serve --price' attaches it
    hub.close()                               # its warm shutdown
    assert hub.payout is None
    assert [sr.receipt.fragment_id for sr in read_receipts(str(tmp_path / "hub.db"))[1]] == [
        1, 2, 3]


def test_a_receipt_resent_one_by_one_after_its_batch_is_kept_once(tmp_path):
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", BATCHED)
    accept(pay, "KA", 7)
    (_, body), = pay.outgoing(4.0, leases(0))
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], body["batches"]) == [7]
    pay.forget("w-1")                        # the ACK was lost with the connection
    pay.on_hello("w-2", "KA", BATCHED)
    (_, again), = pay.outgoing(5.0, leases(0))
    assert again["receipts"] and store.take("HUBCURVE", again["receipts"]) == [7]
    assert [sr.receipt.fragment_id for _, sr in read_earnings(tmp_path)] == [7]
    store.close()
    pay.close()


def test_an_altered_earnings_file_is_caught_when_read(tmp_path):
    key = Ed25519PrivateKey.generate()
    batch = sign_batches(receipts(key.public_key().public_bytes_raw().hex(), ["KA"] * 3),
                         key)[0]
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], [batch.to_wire()]) == [0, 1, 2]
    store.close()
    db = sqlite3.connect(tmp_path / "earnings.db")
    (wire,), = db.execute("SELECT wire FROM receipt_batches")
    w = json.loads(wire)
    w["rows"][1][3] += 1000
    w["rows"][1][6] = decimal_text(cost(PRICE, w["rows"][1][3]))
    db.execute("UPDATE receipt_batches SET wire=?", (json.dumps(w),))
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="receipt batch 1 is missing, damaged or fails its hub.s "
                                          "signature"):
        read_earnings(tmp_path)


def _kept_body(tmp_path) -> tuple[bytes, list]:
    """A worker's earnings file holding one batch as the RECEIPTS body that brought it."""
    key = Ed25519PrivateKey.generate()
    batch = sign_batches(receipts(key.public_key().public_bytes_raw().hex(), ["KA"] * 3),
                         key)[0]
    frames = encode_trusted(MsgType.RECEIPTS, {"batches": [batch.to_wire()]})
    msg = decode(frames)
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", msg["receipts"], msg["batches"], bytes(frames[1])) == [0, 1, 2]
    store.close()
    return bytes(frames[1]), batch.signed()


def test_a_batch_kept_as_the_message_that_brought_it_reads_back_whole(tmp_path):
    body, signed = _kept_body(tmp_path)
    db = sqlite3.connect(tmp_path / "earnings.db")
    assert db.execute("SELECT wire FROM receipt_batches").fetchall() == [(body.decode(),)]
    db.close()
    assert [sr for _, sr in read_earnings(tmp_path)] == signed


@pytest.mark.parametrize("alter", ["cpu", "two batches", "no batch"])
def test_an_altered_message_kept_in_the_earnings_file_is_caught(tmp_path, alter):
    body, _ = _kept_body(tmp_path)
    d = json.loads(body)
    w = d["batches"][0]
    if alter == "cpu":                  # more CPU time, its amount made to match
        w["rows"][1][3] += 1000
        w["rows"][1][6] = decimal_text(cost(PRICE, w["rows"][1][3]))
    else:
        d["batches"] = [w, w] if alter == "two batches" else []
    db = sqlite3.connect(tmp_path / "earnings.db")
    db.execute("UPDATE receipt_batches SET wire=?", (json.dumps(d),))
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="receipt batch 1 is missing, damaged or fails"):
        read_earnings(tmp_path)


def _one_signing(key) -> list[ReceiptBatch]:
    """Two batches of worker KA (jobs j-1 and j-2) under one signature."""
    hub = key.public_key().public_bytes_raw().hex()
    rs = [Receipt.issue(hub, job, fid, 0, "KA", 2_000_000, PRICE, 5)
          for job, fid in (("j-1", 1), ("j-2", 2), ("j-1", 3), ("j-2", 4))]
    batches = sign_batches(rs, key)
    assert len(batches) == 2 and batches[0].signature == batches[1].signature
    return batches


def test_the_next_batch_of_a_signing_is_taken_on_the_root_checked_before(tmp_path):
    first, second = _one_signing(Ed25519PrivateKey.generate())
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], [first.to_wire()]) == [1, 3]
    assert store.take("HUBCURVE", [], [second.to_wire()]) == [2, 4]
    store.close()
    assert sorted(sr.receipt.fragment_id for _, sr in read_earnings(tmp_path)) == [1, 2, 3, 4]


@pytest.mark.parametrize("alter", ["cpu", "signature"])
def test_a_batch_altered_after_its_signings_root_was_checked_is_refused(tmp_path, alter):
    """The worker remembers the signed roots it checked; an altered batch of the same
    signing leads to another root (or names another signature), so it is checked, and
    refused."""
    first, second = _one_signing(Ed25519PrivateKey.generate())
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], [first.to_wire()]) == [1, 3]
    w = second.to_wire()
    if alter == "cpu":
        w["rows"][0][3] += 1000
        w["rows"][0][6] = decimal_text(cost(PRICE, w["rows"][0][3]))
    else:
        w["signature"] = Ed25519PrivateKey.generate().sign(b"x").hex()
    assert store.take("HUBCURVE", [], [w]) == []
    assert store.take("HUBCURVE", [], [second.to_wire()]) == [2, 4]   # the real one still is
    store.close()


def test_a_damaged_receipt_kept_alone_is_reported_in_one_line(tmp_path):
    key = Ed25519PrivateKey.generate()
    (single,) = sign_batches(receipts(key.public_key().public_bytes_raw().hex(), ["KA"]),
                             key)[0].signed()
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [single.to_dict()]) == [0]
    store.close()
    db = sqlite3.connect(tmp_path / "earnings.db")
    db.execute("UPDATE receipts SET body = '{not json'")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="the receipt for fragment 0 is damaged"):
        read_earnings(tmp_path)


def test_an_earnings_file_from_before_batches_is_migrated_and_kept(tmp_path):
    key = Ed25519PrivateKey.generate()
    hub_key = key.public_key().public_bytes_raw().hex()
    batch, = sign_batches(receipts(hub_key, ["KA"] * 2), key)
    signed = batch.signed()
    db = sqlite3.connect(tmp_path / "earnings.db")      # the schema of the first files
    db.execute("CREATE TABLE receipts (hub_key TEXT NOT NULL, fragment_id INTEGER NOT NULL, "
               "hub_curve TEXT NOT NULL, issued_s INTEGER NOT NULL, body TEXT NOT NULL, "
               "signature TEXT NOT NULL, PRIMARY KEY (hub_key, fragment_id))")
    old = signed[0]
    db.execute("INSERT INTO receipts VALUES (?, ?, 'OLDHUB', 5, ?, ?)",
               (hub_key, 0, json.dumps(old.receipt.to_dict()), old.signature))
    db.commit()
    db.close()
    store = Earnings(tmp_path, "KA")
    assert store.take("HUBCURVE", [], [batch.to_wire()]) == [0, 1]    # 0: kept before
    store.close()
    kept = read_earnings(tmp_path)
    assert [(c, sr.receipt.fragment_id) for c, sr in kept] == [("OLDHUB", 0), ("HUBCURVE", 1)]
    assert kept[1][1] == signed[1]


def test_an_earnings_file_of_the_first_batches_is_read_and_kept_adding_to(tmp_path):
    """The first batch files kept a row per receipt besides the batch; such a file opens,
    takes new batches (kept whole now) and lists every receipt once, per hub too."""
    key = Ed25519PrivateKey.generate()
    hub_key = key.public_key().public_bytes_raw().hex()
    first, second = sign_batches(receipts(hub_key, ["KA"] * (MAX_BATCH + 2)), key)
    db = sqlite3.connect(tmp_path / "earnings.db")
    db.executescript("""
        CREATE TABLE receipts (hub_key TEXT NOT NULL, fragment_id INTEGER NOT NULL,
            hub_curve TEXT NOT NULL, issued_s INTEGER NOT NULL, body TEXT NOT NULL,
            signature TEXT NOT NULL, proof TEXT, batch_id INTEGER,
            PRIMARY KEY (hub_key, fragment_id));
        CREATE TABLE receipt_batches (id INTEGER PRIMARY KEY, wire TEXT NOT NULL);""")
    db.execute("INSERT INTO receipt_batches VALUES (1, ?)", (json.dumps(first.to_wire()),))
    db.executemany("INSERT INTO receipts VALUES (?, ?, 'OLDHUB', 5, '', '', NULL, 1)",
                   [(hub_key, r.fragment_id) for r in first.receipts])
    db.commit()
    db.close()
    store = Earnings(tmp_path, "KA")
    assert store.take("NEWHUB", [], [second.to_wire(), first.to_wire()]) == [
        r.fragment_id for r in (*second.receipts, *first.receipts)]     # one sent again
    store.close()
    kept = read_earnings(tmp_path)
    assert [sr for _, sr in kept] == first.signed() + second.signed()
    assert {c for c, _ in kept[:MAX_BATCH]} == {"OLDHUB"} and kept[-1][0] == "NEWHUB"
    assert len(read_earnings(tmp_path, hub="NEWHUB")) == 2
    assert len(read_earnings(tmp_path, hub=hub_key)) == MAX_BATCH + 2


def test_a_receipts_message_too_big_for_one_acknowledgement_is_refused():
    """A hub may send receipts one by one or a batch in one message; together they must fit
    one RECEIPT_ACK, or the worker could not answer (it refuses the message instead)."""
    key = Ed25519PrivateKey.generate()
    batch = sign_batches(receipts("HK", ["KA"] * 100), key)[0].to_wire()
    singles = [sr.to_dict() for b in sign_batches(receipts("HK", ["KA"] * 200), key)
               for sr in b.signed()]
    with pytest.raises(ProtocolError, match="carries 300 receipts, more than 256"):
        decode(encode(MsgType.RECEIPTS, {"receipts": singles, "batches": [batch]},
                      validate=False))
    assert decode(encode(MsgType.RECEIPTS, {"receipts": singles[:156], "batches": [batch]}))


def test_a_batch_is_sent_as_the_very_text_its_ledger_keeps(tmp_path):
    """The hub encodes a batch once: the RECEIPTS message carries the text the ledger
    stored, and the worker reads from it what a freshly encoded message would say."""
    pay = payout(str(tmp_path / "hub.db"), DEFAULT_PRICE)
    pay.on_hello("w-1", "KA", BATCHED)
    accept(pay, "KA", 1, 2, 3)
    (_, body), = pay.outgoing(4.0, leases(0))
    frames = encode_trusted(MsgType.RECEIPTS, body)
    (kept,), = pay.ledger.db.execute("SELECT wire FROM batches")
    assert frames[1].decode() == f'{{"batches":[{kept}]}}'
    assert decode(frames).body == decode(encode(MsgType.RECEIPTS, dict(body))).body
    pay.close()

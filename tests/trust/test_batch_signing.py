"""One Ed25519 signature per RESULT_BATCH: the batch claim codec, the wire field, the hub's
check (a bad batch rejects all its items), the ledger (one row per batch, schema 1 -> 2
migration) and evidence of a batched result (valid; a tampered ledger row is not)."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import ProtocolError
from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.protocol import MsgType, decode, encode
from cpushare_mq.trust.errors import BadSignature
from cpushare_mq.trust.hubside import HubTrust
from cpushare_mq.trust.keys import WorkerIdentity, parse_worker_key
from cpushare_mq.trust.ledger import SCHEMA_VERSION, TrustLedger
from cpushare_mq.trust.signing import (
    BATCH_DOMAIN,
    ResultSigner,
    canonical_batch_bytes,
    canonical_result_bytes,
    parse_batch_claim,
    verify_batch,
    verify_batch_claim,
    verify_result,
)
from cpushare_mq.trust.workerside import WorkerTrust

IDENT = WorkerIdentity.generate()
SIGNER = ResultSigner(IDENT.signing_key)
PUB = parse_worker_key(IDENT.worker_key).sign_public


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


claim_st = st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1),
                     st.binary(max_size=16).map(sha), st.sampled_from([o.value for o in Outcome]))
claims_st = st.lists(claim_st, min_size=1, max_size=12)


# -- the codec --------------------------------------------------------------------------

@given(items=claims_st)
def test_batch_signature_round_trip_and_claim_parses_back(items):
    sig = SIGNER.sign_batch(items)
    claim = verify_batch(PUB, sig, items)
    assert claim == canonical_batch_bytes(items)
    assert claim.startswith(BATCH_DOMAIN)
    assert claim[len(BATCH_DOMAIN):len(BATCH_DOMAIN) + 4] == len(items).to_bytes(4, "big")
    assert claim[len(BATCH_DOMAIN) + 4:] == b"".join(canonical_result_bytes(*i) for i in items)
    assert parse_batch_claim(claim) == [tuple(i) for i in items]
    assert verify_batch_claim(PUB, sig, claim) == [tuple(i) for i in items]


def _changed(item, field):
    fid, attempt, digest, outcome = item
    if field == 0:
        return ((fid + 1) % 2**64, attempt, digest, outcome)
    if field == 1:
        return (fid, (attempt + 1) % 2**32, digest, outcome)
    if field == 2:
        return (fid, attempt, sha(digest.encode()), outcome)
    return (fid, attempt, digest, "ok" if outcome != "ok" else "crash")


@given(items=claims_st, data=st.data())
@settings(max_examples=60)
def test_any_change_of_any_item_or_of_the_order_breaks_the_signature(items, data):
    sig = SIGNER.sign_batch(items)
    i = data.draw(st.integers(0, len(items) - 1), label="item")
    field = data.draw(st.integers(0, 3), label="field")
    tampered = list(items)
    tampered[i] = _changed(items[i], field)
    variants = [tampered,
                items[:i] + items[i + 1:],                  # one dropped
                items + [data.draw(claim_st, label="added")]]  # one added
    j = data.draw(st.integers(0, len(items) - 1), label="swap with")
    if items[i] != items[j]:
        swapped = list(items)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        variants.append(swapped)
    for v in variants:
        if not v:
            continue
        with pytest.raises(BadSignature):
            verify_batch(PUB, sig, v)


def test_batch_and_single_signatures_never_stand_in_for_each_other():
    item = (7, 1, sha(b"x"), "ok")
    batch_sig = SIGNER.sign_batch([item])
    single_sig = SIGNER.sign(*item)
    verify_batch(PUB, batch_sig, [item])
    verify_result(PUB, single_sig, *item)
    with pytest.raises(BadSignature):
        verify_result(PUB, batch_sig, *item)
    with pytest.raises(BadSignature):
        verify_batch(PUB, single_sig, [item])


def test_foreign_key_flipped_bit_and_malformed_signatures_are_refused():
    items = [(1, 0, sha(b"a"), "ok"), (2, 0, sha(b"b"), "ok")]
    sig = SIGNER.sign_batch(items)
    other = WorkerIdentity.generate().sign_public
    with pytest.raises(BadSignature, match="does not verify"):
        verify_batch(other, sig, items)
    with pytest.raises(BadSignature, match="does not verify"):
        verify_batch(PUB, f"{int(sig[0], 16) ^ 1:x}" + sig[1:], items)
    with pytest.raises(BadSignature, match="not signed"):
        verify_batch(PUB, "", items)
    with pytest.raises(BadSignature, match="128"):
        verify_batch(PUB, sig.upper(), items)
    with pytest.raises(BadSignature, match="1..65536"):
        canonical_batch_bytes([])


def test_parse_batch_claim_is_strict():
    items = [(1, 0, sha(b"a"), "ok"), (2, 3, sha(b"b"), "exit_code")]
    claim = canonical_batch_bytes(items)
    for bad, why in [
        (b"x" + claim[1:], "domain"),
        (claim[:len(BATCH_DOMAIN) + 2], "count"),
        (claim + b"\x00", "after its last item"),
        (claim[:-1], "truncated"),
        (claim[:len(BATCH_DOMAIN)] + (3).to_bytes(4, "big") + claim[len(BATCH_DOMAIN) + 4:],
         "truncated"),
        (claim[:len(BATCH_DOMAIN)] + (0).to_bytes(4, "big"), "counts 0"),
        (claim.replace(b"exit_code", b"exit_cope"), "unknown outcome"),
    ]:
        with pytest.raises(BadSignature, match=why):
            parse_batch_claim(bad)


@given(st.binary(max_size=300))
def test_hostile_claims_only_raise_bad_signature(raw):
    for claim in (raw, BATCH_DOMAIN + raw):
        try:
            items = parse_batch_claim(claim)
        except BadSignature:
            continue
        assert canonical_batch_bytes(items) == claim      # only exact claims parse


@given(sig=st.text(max_size=200), pub=st.binary(max_size=40), items=claims_st)
def test_hostile_signature_inputs_only_raise_bad_signature(sig, pub, items):
    assume(pub != PUB)
    with pytest.raises(BadSignature):
        verify_batch(pub, sig, items)


# -- the wire field ---------------------------------------------------------------------

def end_body(fid, data=b"r", signature=""):
    return {"fragment_id": fid, "attempt": 0, "chunks": 1, "sha256": sha(data), "size": len(data),
            "outcome": OutcomeRecord(Outcome.OK, output_bytes=len(data)), "signature": signature}


def test_result_batch_carries_one_signature_and_items_carry_none():
    sig = "ab" * 64
    msg = decode(encode(MsgType.RESULT_BATCH,
                        {"results": [end_body(1), end_body(2)], "signature": sig}, [b"a", b"b"]))
    assert msg["signature"] == sig and [r["signature"] for r in msg["results"]] == ["", ""]
    plain = decode(encode(MsgType.RESULT_BATCH, {"results": [end_body(1)]}, [b"a"]))
    assert plain["signature"] == ""          # an old worker's batch: unchanged meaning
    with pytest.raises(ProtocolError, match="must not carry their own signatures"):
        encode(MsgType.RESULT_BATCH, {"results": [end_body(1, signature=sig)], "signature": sig},
               [b"a"])
    with pytest.raises(ProtocolError, match="signature"):
        encode(MsgType.RESULT_BATCH, {"results": [end_body(1)], "signature": 5}, [b"a"])


# -- the hub's trust layer --------------------------------------------------------------

def batch_items(fids, data=b"r"):
    return [(fid, 0, sha(data + str(fid).encode()), "ok") for fid in fids]


def test_check_batch_verifies_once_and_keeps_one_row_per_batch(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    trust = HubTrust(tmp_path / "h.db")
    items = batch_items(range(10, 20))
    bodies = [{"fragment_id": f, "attempt": a, "sha256": s, "outcome": {"outcome": o}}
              for f, a, s, o in items]
    sig = w.sign_batch(bodies)
    batch, why = trust.check_batch(w.hello_key, items, sig)
    assert why == "" and batch is not None and batch.count == 10
    assert trust.verified == 10 and trust.verified_batches == 1
    for f, a, s, o in items[:9]:        # the last item was, say, a stale duplicate: not kept
        assert trust.check_result(w.hello_key, f, a, s, o, "", batch=batch) == ""
    trust.flush()
    (n_batches,) = trust.ledger.db.execute("SELECT count(*) FROM batches").fetchone()
    assert n_batches == 1
    for f, a, s, _ in items[:9]:
        ev = trust.evidence(f, a)
        assert ev["valid"] is True, ev
        assert ev["batch_id"] == batch.ledger_id and ev["signature"] == sig and ev["sha256"] == s
    assert trust.evidence(19, 0) is None
    # a second batch gets its own row and id; ids survive a restart of the ledger
    items2 = batch_items([30, 31])
    batch2, _ = trust.check_batch(w.hello_key, items2, SIGNER_OF(w).sign_batch(items2))
    for f, a, s, o in items2:
        assert trust.check_result(w.hello_key, f, a, s, o, "", batch=batch2) == ""
    trust.shutdown()
    again = HubTrust(tmp_path / "h.db")
    assert again.evidence(31, 0)["valid"] is True and again.evidence(31, 0)["batch_id"] == 2
    items3 = batch_items([40, 41])
    batch3, _ = again.check_batch(w.hello_key, items3, SIGNER_OF(w).sign_batch(items3))
    again.check_result(w.hello_key, 40, 0, items3[0][2], "ok", "", batch=batch3)
    again.flush()
    assert batch3.ledger_id == 3 and again.evidence(40, 0)["valid"] is True
    assert again.evidence(12, 0)["valid"] is True
    again.shutdown()


def SIGNER_OF(w: WorkerTrust) -> ResultSigner:  # noqa: N802 - reads like a constructor
    return ResultSigner(w.identity.signing_key)


@pytest.mark.parametrize("how", ["altered", "reordered", "foreign", "unsigned", "garbage"])
def test_a_forged_or_altered_batch_is_refused_as_a_whole(tmp_path, how):
    w = WorkerTrust.load(tmp_path / "w", None)
    other = WorkerTrust.load(tmp_path / "o", None)
    trust = HubTrust(tmp_path / "h.db")
    items = batch_items(range(5))
    sig = {"altered": SIGNER_OF(w).sign_batch(items[:4] + [(4, 0, sha(b"other"), "ok")]),
           "reordered": SIGNER_OF(w).sign_batch(items[::-1]),
           "foreign": SIGNER_OF(other).sign_batch(items),
           "unsigned": "",
           "garbage": "zz" * 64}[how]
    batch, why = trust.check_batch(w.hello_key, items, sig)
    assert batch is None and why.startswith("bad batch signature")
    assert trust.rejected == 5 and trust.verified == 0
    trust.flush()
    assert trust.ledger.db.execute("SELECT count(*) FROM batches").fetchone() == (0,)
    trust.shutdown()


def test_insecure_hub_and_keyless_workers(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    items = batch_items([1, 2])
    insecure = HubTrust(tmp_path / "i.db", insecure=True)
    assert insecure.check_batch("", items, "") == (None, "")
    assert insecure.check_batch("opaque-name", items, "ab" * 64) == (None, "")
    batch, why = insecure.check_batch(w.hello_key, items, SIGNER_OF(w).sign_batch(items))
    assert why == "" and batch is not None        # a real key's signature is still checked
    assert "bad batch signature" in insecure.check_batch(w.hello_key, items, "ab" * 64)[1]
    secure = HubTrust(tmp_path / "s.db")
    assert secure.check_batch("", items, "ab" * 64) == (None, "results from a worker without a key")
    for t in (insecure, secure):
        t.shutdown()


# -- evidence against a tampered ledger -------------------------------------------------

def _stored_batch(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    trust = HubTrust(tmp_path / "h.db")
    items = batch_items(range(100, 104))
    batch, _ = trust.check_batch(w.hello_key, items, SIGNER_OF(w).sign_batch(items))
    for f, a, s, o in items:
        trust.check_result(w.hello_key, f, a, s, o, "", batch=batch)
    trust.flush()
    return trust, w, items, batch


@pytest.mark.parametrize("tamper, why", [
    ("UPDATE signatures SET sha256=? WHERE fragment_id=101", "does not claim this result"),
    ("UPDATE signatures SET outcome='crash' WHERE fragment_id=101", "does not claim this result"),
    ("UPDATE signatures SET attempt=1 WHERE fragment_id=101", "does not claim this result"),
    ("UPDATE signatures SET fragment_id=999 WHERE fragment_id=101", "does not claim this result"),
    ("UPDATE signatures SET batch_id=77 WHERE fragment_id=101", "missing"),
    ("UPDATE signatures SET worker_key=? WHERE fragment_id=101", "another key"),
    ("UPDATE batches SET worker_key=?", "another key"),
    ("UPDATE batches SET claim=?", "does not verify"),
    ("UPDATE batches SET signature=?", "does not verify"),
    ("DELETE FROM batches", "missing"),
])
def test_evidence_of_a_tampered_ledger_row_is_invalid(tmp_path, tamper, why):
    trust, w, items, _ = _stored_batch(tmp_path)
    other = WorkerTrust.load(tmp_path / "other", None)
    fid = 999 if "fragment_id=999" in tamper else 101
    attempt = 1 if "attempt=1" in tamper else 0
    assert trust.evidence(101, 0)["valid"] is True
    params: tuple = ()
    if "?" in tamper:
        if "sha256" in tamper:
            params = (sha(b"forged"),)
        elif "worker_key" in tamper:
            params = (other.hello_key,)
        elif "claim" in tamper:
            forged = list(items)
            forged[1] = (101, 0, sha(b"forged"), "ok")
            params = (canonical_batch_bytes(forged),)
        else:
            sig = SIGNER_OF(w).sign_batch(items[:3])   # a real signature, of other claims
            params = (sig,)
    trust.ledger.db.execute(tamper, params)
    ev = trust.evidence(fid, attempt)
    assert ev["valid"] is False and why in ev["why"], ev
    trust.shutdown()


# -- the ledger's schema ----------------------------------------------------------------

_SCHEMA_1 = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE workers (key TEXT PRIMARY KEY, record TEXT NOT NULL, updated_s REAL NOT NULL);
CREATE TABLE signatures (
    fragment_id INTEGER NOT NULL, attempt INTEGER NOT NULL, worker_key TEXT NOT NULL,
    sha256 TEXT NOT NULL, outcome TEXT NOT NULL, signature TEXT NOT NULL, received_s REAL NOT NULL,
    PRIMARY KEY (fragment_id, attempt));
CREATE INDEX signatures_by_key ON signatures (worker_key);
CREATE TABLE strikes (
    worker_key TEXT NOT NULL, fragment_id INTEGER NOT NULL, sha256 TEXT NOT NULL,
    majority_sha256 TEXT NOT NULL, at_s REAL NOT NULL);
INSERT INTO meta VALUES ('schema', '1');
"""


def test_a_schema_1_ledger_is_migrated_and_its_old_rows_stay_valid(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    body = {"fragment_id": 5, "attempt": 2, "sha256": sha(b"old"), "outcome": {"outcome": "ok"}}
    w.sign_result_end(body)
    db = sqlite3.connect(tmp_path / "h.db.trust")
    db.executescript(_SCHEMA_1)
    db.execute("INSERT INTO signatures VALUES (5, 2, ?, ?, 'ok', ?, 0.0)",
               (w.hello_key, body["sha256"], body["signature"]))
    db.commit()
    db.close()
    trust = HubTrust(tmp_path / "h.db")
    assert trust.ledger.db.execute("SELECT value FROM meta WHERE name='schema'").fetchone() == (
        SCHEMA_VERSION,) == ("2",)
    old = trust.evidence(5, 2)
    assert old["valid"] is True and old["batch_id"] is None
    items = batch_items([6, 7])
    batch, _ = trust.check_batch(w.hello_key, items, SIGNER_OF(w).sign_batch(items))
    trust.check_result(w.hello_key, 6, 0, items[0][2], "ok", "", batch=batch)
    assert trust.evidence(6, 0)["valid"] is True
    trust.shutdown()
    TrustLedger(tmp_path / "h.db.trust").close()     # opening a migrated ledger again is a no-op


def test_a_ledger_of_an_unknown_schema_is_refused(tmp_path):
    TrustLedger(tmp_path / "x.trust").close()
    db = sqlite3.connect(tmp_path / "x.trust")
    db.execute("UPDATE meta SET value='9' WHERE name='schema'")
    db.commit()
    db.close()
    with pytest.raises(Exception, match="schema 9, expected 2"):
        TrustLedger(tmp_path / "x.trust")

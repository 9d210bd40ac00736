"""protocol.py: every message type round-trips; random and mutated frames are refused with
ProtocolError (never another exception); decompression is capped."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import DecompressionError, ProtocolError, VersionMismatch
from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.protocol import (
    LEASE_SCHEMA,
    MAGIC,
    PROTOCOL_VERSION,
    SCHEMAS,
    AckStatus,
    Limits,
    MsgType,
    compress_chunk,
    decode,
    decompress_chunk,
    encode,
)

sha = st.text("0123456789abcdef", min_size=64, max_size=64)
small = st.integers(0, 2**40)
ref = st.tuples(st.integers(0, 2**40), st.integers(0, 1000))
text = st.text(max_size=40)
outcome = st.builds(
    OutcomeRecord, outcome=st.sampled_from(list(Outcome)),
    exit_code=st.none() | st.integers(-(2**31), 2**31 - 1), signal=st.none() | st.integers(0, 64),
    cpu_s=st.floats(0, 1e6), wall_s=st.floats(0, 1e6), peak_memory_bytes=small,
    output_bytes=small, message=st.text(max_size=100))
blob = st.binary(max_size=64)
lease = st.fixed_dictionaries({
    "job_id": st.text(max_size=20), "fragment_id": small, "index": small,
    "attempt": st.integers(0, 1000), "lease_s": st.floats(0, 1e6), "program_sha256": sha,
    "shared_sha256": sha, "cpu_s": st.floats(0, 1e6), "wall_s": st.floats(0, 1e6),
    "max_output_bytes": st.integers(0, Limits.MAX_RESULT_BYTES)})
result_end = st.fixed_dictionaries({
    "fragment_id": small, "attempt": st.integers(0, 1000), "chunks": st.integers(0, 2**31),
    "sha256": sha, "size": st.integers(0, Limits.MAX_RESULT_BYTES), "outcome": outcome,
    "signature": text})

BODIES = {
    MsgType.HELLO: st.fixed_dictionaries({
        "worker_version": text, "abi_version": st.integers(0, 1000), "slots": st.integers(1, 4096),
        "memory_bytes": small, "cpu_model": text, "name": text, "worker_key": text,
        "held": st.lists(ref, max_size=5)},
        optional={"features": st.lists(st.text(max_size=64), max_size=3)}).map(lambda b: (b, [])),
    MsgType.READY: st.fixed_dictionaries({"credit": st.integers(1, 100_000)}).map(lambda b: (b, [])),
    MsgType.FETCH: st.fixed_dictionaries({"sha256": sha}).map(lambda b: (b, [])),
    MsgType.RESULT_CHUNK: st.tuples(st.fixed_dictionaries({
        "fragment_id": small, "attempt": st.integers(0, 1000), "seq": st.integers(0, 2**31)}),
        st.lists(blob, min_size=1, max_size=1)),
    MsgType.RESULT_END: st.tuples(result_end, st.lists(blob, max_size=1)),
    MsgType.RESULT_BATCH: st.lists(st.tuples(result_end, blob), min_size=1, max_size=4).map(
        lambda items: ({"results": [i[0] for i in items]}, [i[1] for i in items])),
    MsgType.FAILURE: st.fixed_dictionaries({
        "fragment_id": small, "attempt": st.integers(0, 1000), "outcome": outcome}).map(lambda b: (b, [])),
    MsgType.RELEASE: st.fixed_dictionaries({"leases": st.lists(ref, max_size=5), "reason": text,
                                            "infra": st.booleans()}).map(lambda b: (b, [])),
    MsgType.STATUS: st.fixed_dictionaries({"paused": st.booleans(), "busy": st.integers(0, 4096)}).map(lambda b: (b, [])),
    MsgType.WELCOME: st.fixed_dictionaries({
        "worker_id": text, "hub_version": text, "heartbeat_interval_s": st.floats(0.001, 3600),
        "liveness": st.integers(1, 1000), "held_ok": st.lists(ref, max_size=5)},
        optional={"features": st.lists(st.text(max_size=64), max_size=3)}).map(lambda b: (b, [])),
    MsgType.LEASE: st.lists(st.tuples(lease, blob), min_size=1, max_size=4).map(
        lambda items: ({"leases": [i[0] for i in items]}, [i[1] for i in items])),
    MsgType.BLOB: st.tuples(st.fixed_dictionaries({"sha256": sha}), st.lists(blob, min_size=1, max_size=1)),
    MsgType.ACK: st.fixed_dictionaries({"results": st.lists(st.tuples(
        st.integers(0, 2**40), st.integers(0, 1000), st.sampled_from(sorted(AckStatus.ALL))),
        max_size=5)}).map(lambda b: (b, [])),
    MsgType.CANCEL: st.fixed_dictionaries({"leases": st.lists(ref, max_size=5), "reason": text}).map(lambda b: (b, [])),
    MsgType.HOLD: st.fixed_dictionaries({"hold_s": st.floats(0.0, 86400.0), "reason": text}).map(lambda b: (b, [])),
    MsgType.RECEIPT_ACK: st.fixed_dictionaries({"fragment_ids": st.lists(small, max_size=5)}).map(
        lambda b: (b, [])),
    MsgType.RECEIPTS: st.fixed_dictionaries({"receipts": st.lists(st.fixed_dictionaries({
        **{k: st.text(max_size=20) for k in ("hub_key", "job_id", "worker_key", "price",
                                             "currency", "amount", "signature")},
        **{k: small for k in ("fragment_id", "attempt", "cpu_us", "issued_s")},
        "proof": st.lists(st.text("lr0123456789abcdef", max_size=65), max_size=2)}),
        max_size=3)}).map(lambda b: (b, [])),
    MsgType.HEARTBEAT: st.just(({}, [])),
    MsgType.BYE: st.fixed_dictionaries({"reason": text}).map(lambda b: (b, [])),
    MsgType.ERROR: st.fixed_dictionaries({"code": st.text(max_size=32), "message": st.text(max_size=200)}).map(lambda b: (b, [])),
}
any_message = st.one_of([st.tuples(st.just(t), s) for t, s in BODIES.items()])


def test_every_type_has_a_strategy():
    assert set(BODIES) == set(SCHEMAS) == set(MsgType)


def _norm(v):
    if isinstance(v, OutcomeRecord):
        return v.to_dict()
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


@settings(max_examples=300, deadline=None)
@given(any_message)
def test_round_trip(msg):
    mtype, (body, blobs) = msg
    frames = encode(mtype, body, blobs)
    out = decode(frames)
    assert out.type is mtype
    assert out.blobs == blobs
    for k, v in body.items():
        assert _norm(out.body[k]) == _norm(v), k


def _mutations(frames, data):
    kind = data.draw(st.sampled_from(["flip", "truncate", "drop", "extra", "json", "swap_type"]))
    frames = [bytearray(f) for f in frames]
    if kind == "flip":
        i = data.draw(st.integers(0, len(frames) - 1))
        if frames[i]:
            j = data.draw(st.integers(0, len(frames[i]) - 1))
            frames[i][j] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        i = data.draw(st.integers(0, len(frames) - 1))
        frames[i] = frames[i][:data.draw(st.integers(0, max(0, len(frames[i]) - 1)))]
    elif kind == "drop":
        del frames[data.draw(st.integers(0, len(frames) - 1))]
    elif kind == "extra":
        frames.append(bytearray(data.draw(st.binary(max_size=50))))
    elif kind == "json":
        frames[1] = bytearray(json.dumps(data.draw(st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=3),
            max_leaves=10))).encode())
    elif kind == "swap_type":
        frames[0][5] = data.draw(st.integers(0, 255))
    return [bytes(f) for f in frames]


@settings(max_examples=500, deadline=None)
@given(any_message, st.data())
def test_mutated_frames_are_refused_or_valid(msg, data):
    mtype, (body, blobs) = msg
    frames = _mutations(encode(mtype, body, blobs), data)
    try:
        out = decode(frames)
    except ProtocolError as exc:
        assert str(exc)
        return
    # a mutation that still decodes must give a fully valid message: re-encoding validates
    encode(out.type, out.body, out.blobs)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6))
def test_random_frames_never_crash_the_decoder(frames):
    try:
        decode(frames)
    except ProtocolError:
        pass


def test_other_version_gets_a_version_mismatch():
    frames = encode(MsgType.HEARTBEAT)
    frames[0] = MAGIC + bytes([PROTOCOL_VERSION + 1, int(MsgType.HEARTBEAT)])
    with pytest.raises(VersionMismatch, match="version 2"):
        decode(frames)


def test_unknown_fields_and_missing_fields_are_named():
    with pytest.raises(ProtocolError, match="unknown field"):
        decode([encode(MsgType.READY, {"credit": 1})[0], b'{"credit":1,"evil":2}'])
    with pytest.raises(ProtocolError, match="missing field 'credit'"):
        decode([encode(MsgType.READY, {"credit": 1})[0], b"{}"])
    with pytest.raises(ProtocolError, match="not valid JSON"):
        decode([encode(MsgType.READY, {"credit": 1})[0], b'{"credit": NaN}'])


def test_lease_blob_count_must_match():
    body = {"leases": [{k: 0 for k in LEASE_SCHEMA}]}
    body["leases"][0].update(job_id="j", program_sha256="0" * 64, shared_sha256="0" * 64)
    header, raw = encode(MsgType.LEASE, body, [b"x"])[:2]
    with pytest.raises(ProtocolError, match="binary frames"):
        decode([header, raw])


def test_decompression_bomb_is_capped():
    bomb = compress_chunk(b"\0" * (8 << 20))
    assert len(bomb) < 4096
    with pytest.raises(DecompressionError, match="cap"):
        decompress_chunk(bomb, 1 << 20)
    assert decompress_chunk(compress_chunk(b"abc"), 3) == b"abc"
    with pytest.raises(DecompressionError):
        decompress_chunk(b"not zstd at all", 100)


def _end_body(fid: int, **kw) -> dict:
    body = {"fragment_id": fid, "attempt": 0, "chunks": 1, "sha256": "ab" * 32, "size": 3,
            "outcome": OutcomeRecord(Outcome.OK).to_dict(), "signature": ""}
    body.update(kw)
    return body


def test_result_batch_round_trips_each_item_as_a_result_end_body():
    bodies = [_end_body(i, size=i) for i in range(3)]
    blobs = [compress_chunk(b"x" * i) for i in range(3)]
    out = decode(encode(MsgType.RESULT_BATCH, {"results": bodies}, blobs))
    assert out.type is MsgType.RESULT_BATCH
    assert out.blobs == blobs
    assert [r["fragment_id"] for r in out["results"]] == [0, 1, 2]
    assert [r["size"] for r in out["results"]] == [0, 1, 2]
    assert all(isinstance(r["outcome"], OutcomeRecord) for r in out["results"])
    # what the worker sends on its hot path (no validation on its side) decodes the same
    from cpushare_mq.protocol import encode_trusted
    trusted = decode(encode_trusted(MsgType.RESULT_BATCH, {"results": bodies}, blobs))
    assert trusted.body == out.body and trusted.blobs == out.blobs


def test_result_batch_needs_one_blob_per_item_and_at_least_one_item():
    header, raw = encode(MsgType.RESULT_BATCH, {"results": [_end_body(1), _end_body(2)]},
                         [b"a", b"b"])[:2]
    with pytest.raises(ProtocolError, match="RESULT_BATCH: expected 2..2 binary frames, got 1"):
        decode([header, raw, b"a"])
    with pytest.raises(ProtocolError, match="expected 2..2 binary frames, got 3"):
        decode([header, raw, b"a", b"b", b"c"])
    with pytest.raises(ProtocolError, match="RESULT_BATCH: carries no results"):
        decode([header, b'{"results":[]}'])


def test_result_batch_names_the_bad_item_and_field():
    items = [_end_body(1), _end_body(2, sha256="not a digest")]
    header = encode(MsgType.HEARTBEAT)[0][:5] + bytes([int(MsgType.RESULT_BATCH)])
    with pytest.raises(ProtocolError, match=r"RESULT_BATCH\.results\[1\]\.sha256"):
        decode([header, json.dumps({"results": items}).encode(), b"a", b"b"])
    bad_outcome = [_end_body(1, outcome={"outcome": "no such outcome"})]
    with pytest.raises(ProtocolError, match=r"results\[0\]\.outcome"):
        decode([header, json.dumps({"results": bad_outcome}).encode(), b"a"])
    unknown = [dict(_end_body(1), evil=1)]
    with pytest.raises(ProtocolError, match="unknown field"):
        decode([header, json.dumps({"results": unknown}).encode(), b"a"])


def test_result_batch_caps_items_and_chunk_size():
    n = Limits.MAX_RESULTS_PER_BATCH + 1
    header = encode(MsgType.HEARTBEAT)[0][:5] + bytes([int(MsgType.RESULT_BATCH)])
    body = json.dumps({"results": [_end_body(i) for i in range(n)]}).encode()
    with pytest.raises(ProtocolError, match="longer than"):
        decode([header, body, *([b"a"] * n)])
    big = b"x" * (Limits.MAX_CHUNK_BYTES + 1)
    with pytest.raises(ProtocolError, match="binary frame 1 of"):
        decode(encode(MsgType.RESULT_BATCH, {"results": [_end_body(1), _end_body(2)]},
                      [b"a", big], validate=False))


def test_features_are_optional_in_hello_and_welcome():
    hello = {"worker_version": "1", "abi_version": 1, "slots": 2}
    assert decode(encode(MsgType.HELLO, hello))["features"] == []
    assert decode(encode(MsgType.HELLO, dict(hello, features=["result_batch"])))["features"] == [
        "result_batch"]
    with pytest.raises(ProtocolError, match="HELLO.features"):
        decode(encode(MsgType.HELLO, dict(hello, features="result_batch"), validate=False))


_EDGE_INTS = st.sampled_from([0, 1, 1_000_000, 1_000_001, 2**63 - 1, 2**63, -1])
_ITEM = st.one_of(_EDGE_INTS, st.integers(), st.booleans(), st.floats(allow_nan=False),
                  st.sampled_from(["accepted", "duplicate", "stale", "bogus", ""]), st.none())


@settings(max_examples=400, deadline=None)
@given(v=st.one_of(st.lists(_ITEM, min_size=0, max_size=4), _ITEM))
def test_the_fast_checks_of_acks_and_lease_refs_agree_with_the_field_rules(v):
    """v_ack_item and v_lease_ref check the common case at once; they must accept exactly
    what the per-field validators accept, and return the same values."""
    from cpushare_mq.protocol import AckStatus, v_ack_item, v_attempt, v_fid, v_lease_ref

    def reference(n):
        if type(v) is not list or len(v) != n:
            raise ProtocolError("shape")
        out = (v_fid("f", v[0]), v_attempt("a", v[1]))
        if n == 3:
            if not isinstance(v[2], str) or v[2] not in AckStatus.ALL:
                raise ProtocolError("status")
            out += (v[2],)
        return out

    for n, check in ((3, v_ack_item), (2, v_lease_ref)):
        try:
            want = reference(n)
        except ProtocolError:
            with pytest.raises(ProtocolError):
                check("x", v)
        else:
            assert check("x", v) == want


_ROW_ITEM = st.one_of(_ITEM, st.text(max_size=3), st.lists(st.integers(), max_size=1))


@st.composite
def _rows(draw):
    """Rows of 8 strings and integers (a valid one), one item perhaps replaced by another
    value; a row of another length; or another value."""
    row = draw(st.lists(st.one_of(st.integers(), st.text(max_size=3)), min_size=8, max_size=8))
    at = draw(st.integers(0, 8))
    if at < 8:
        row[at] = draw(st.one_of(st.sampled_from(["x" * 128, "x" * 129, True, 1.0, None, []]),
                                 _ROW_ITEM))
    return draw(st.sampled_from([row, row, row, row[:7], [*row, 0], row[0]]))


@settings(max_examples=300, deadline=None)
@given(v=_rows())
def test_a_receipt_row_the_protocol_lets_through_is_checked_by_the_worker(v):
    """RECEIPTS checks only the rows' shape; the worker's batch check (receiptbatch.py) then
    refuses every row that is not 8 strings of at most 128 characters and integers, so a
    hostile hub gets nothing past the protocol's former field check (and the first row,
    valid, says the refusal is the drawn row's)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cpushare_mq.market.money import parse_price
    from cpushare_mq.market.receiptbatch import CheckedBatch, sign_batches
    from cpushare_mq.market.receipts import Receipt

    def well_typed(row: list) -> bool:
        return len(row) == 8 and all(
            type(x) is int or (type(x) is str and len(x) <= 128) for x in row)

    key = Ed25519PrivateKey.generate()
    hub = key.public_key().public_bytes_raw().hex()
    r = Receipt.issue(hub, "j", 7, 1, "KW", 10000, parse_price("0.37 EUR"), 5)
    wire = sign_batches([r, r._replace(fragment_id=8)], key)[0].to_wire()
    wire["rows"][1] = v
    frames = encode(MsgType.RECEIPTS, {"batches": []})     # the hub's text, as it wrote it
    frames[1] = json.dumps({"batches": [wire]}, allow_nan=True).encode()
    try:
        body = decode(frames)
    except ProtocolError:
        assert type(v) is not list or not well_typed(v)    # the shape, or not JSON
        return
    if not well_typed(v):
        with pytest.raises(ProtocolError):
            CheckedBatch.from_wire(body["batches"][0])

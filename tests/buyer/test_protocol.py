"""The buyer protocol codec: round trips, and every malformed payload is a ProtocolError."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq import buyer_protocol as bp
from cpushare_mq.buyer_protocol import Rep, Req
from cpushare_mq.errors import ProtocolError, VersionMismatch

_INT_STRATS = {
    "u8": st.integers(0, 0xFF), "u16": st.integers(0, 0xFFFF), "u32": st.integers(0, 0xFFFFFFFF),
    "u64": st.integers(0, 2**64 - 1), "i32": st.integers(-(2**31), 2**31 - 1),
    "f64": st.floats(allow_nan=False, allow_infinity=False),
    "str": st.text(max_size=40), "bytes": st.binary(max_size=64), "4s": st.binary(min_size=4, max_size=4),
}


def strat(kind):
    if isinstance(kind, tuple):
        return st.lists(strat(kind[1]), max_size=5)
    if isinstance(kind, list):
        return st.fixed_dictionaries({name: strat(k) for name, k in kind})
    return _INT_STRATS[kind]


@st.composite
def messages(draw):
    t = draw(st.sampled_from(sorted(bp.SCHEMAS) + sorted(bp.RAW_TYPES)))
    if t in bp.RAW_TYPES:
        return t, {"data": draw(st.binary(max_size=200))}
    return t, draw(strat(bp.SCHEMAS[t]))


@settings(max_examples=300, deadline=None)
@given(messages())
def test_round_trip(m):
    t, fields = m
    data = bp.encode(t, fields)
    frames = list(bp.FrameBuffer().feed(data))
    assert len(frames) == 1
    got_t, payload = frames[0]
    assert got_t == t
    assert bp.decode(got_t, payload).fields == fields


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), st.data())
def test_truncated_or_extended_payload_is_a_protocol_error(m, data):
    t, fields = m
    if t in bp.RAW_TYPES:
        return
    payload = bp.encode_payload(t, fields)
    if data.draw(st.booleans()) and payload:
        cut = data.draw(st.integers(0, len(payload) - 1))
        bad = payload[:cut]
    else:
        bad = payload + data.draw(st.binary(min_size=1, max_size=8))
    with pytest.raises(ProtocolError):
        bp.decode(t, bad)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 255), st.binary(max_size=300))
def test_random_payload_decodes_or_raises_protocol_error(t, payload):
    try:
        msg = bp.decode(t, payload)
    except ProtocolError:
        return
    # whatever decoded re-encodes to the same bytes: nothing was guessed or dropped
    assert bp.encode_payload(t, msg.fields) == payload


@given(seq=st.integers(0, 2**64 - 1), index=st.integers(0, 2**32 - 1), ok=st.booleans(),
       size=st.integers(0, 2**64 - 1), reason=st.text(max_size=300), name=st.text(max_size=300))
def test_fast_result_encoder_matches_the_schema_encoder(seq, index, ok, size, reason, name):
    fast = bp.encode_result(seq, index, ok, size, reason, name)
    assert fast == bp.encode(Rep.RESULT, seq=seq, index=index, ok=int(ok), size=size, reason=reason, name=name)
    reader = bp.FrameBuffer()
    [(t, payload)] = list(reader.feed(fast))
    msg = bp.decode(t, payload)
    assert (msg["seq"], msg["index"], msg["ok"], msg["size"]) == (seq, index, int(ok), size)


def _outcome(fn, *args):
    try:
        return fn(*args).fields
    except ProtocolError as exc:
        return ("error", str(exc))


@given(payload=st.one_of(
    st.binary(max_size=64),
    st.builds(lambda head, reason, name, extra: head + struct.pack("<I", len(reason)) + reason
              + struct.pack("<I", len(name)) + name + extra,
              st.binary(min_size=21, max_size=21), st.binary(max_size=40), st.binary(max_size=40),
              st.sampled_from([b"", b"x"]))))
def test_fast_result_decoder_agrees_with_the_schema_decoder(payload):
    fast = _outcome(bp.decode, Rep.RESULT, payload)
    ref = _outcome(bp.decode_by_schema, Rep.RESULT, payload)
    if isinstance(ref, tuple):
        assert isinstance(fast, tuple), (fast, ref)   # refused by both (the wording may differ)
    else:
        assert fast == ref


def test_unknown_type_and_bad_utf8_and_nonfinite_are_named():
    with pytest.raises(ProtocolError, match="unknown message type 0x42"):
        bp.decode(0x42, b"")
    with pytest.raises(ProtocolError, match="UTF-8"):
        bp.decode(Req.PROGRESS, struct.pack("<I", 2) + b"\xff\xfe")
    nan = struct.pack("<IIIddIiQI", 1, 1, 0, float("nan"), 1.0, 1, 0, 0, 0)
    with pytest.raises(ProtocolError, match="cpu_s"):
        bp.decode(Req.SUBMIT, nan)


def test_huge_list_count_is_refused_without_allocating():
    with pytest.raises(ProtocolError, match="count"):
        bp.decode(Req.FRAGMENTS, struct.pack("<I", 0xFFFFFFFF))


def test_frame_reader_refuses_huge_length_from_the_header_alone():
    r = bp.FrameBuffer()
    with pytest.raises(bp.FrameTooLarge, match="over the"):
        list(r.feed(struct.pack("<IB", bp.Limits.MAX_FRAME_BYTES + 1, Req.PROGRAM)))


def test_frame_reader_splits_arbitrarily_fed_bytes():
    frames = [bp.encode(Req.ACK, seq=i) for i in range(50)] + [bp.frame(Rep.CHUNK, b"x" * 1000)]
    blob = b"".join(frames)
    r = bp.FrameBuffer()
    out = []
    for i in range(0, len(blob), 7):
        out.extend(r.feed(blob[i:i + 7]))
    assert [t for t, _ in out] == [Req.ACK] * 50 + [Rep.CHUNK]
    assert [bp.decode(t, p).fields.get("seq") for t, p in out[:50]] == list(range(50))
    assert r.pending == 0


def test_hello_checks_magic_and_version():
    good = bp.decode(Req.HELLO, bp.encode_payload(Req.HELLO, {"magic": bp.MAGIC, "version": bp.VERSION, "client": "t", "token": ""}))
    bp.check_hello(good)
    other = bp.decode(Req.HELLO, bp.encode_payload(Req.HELLO, {"magic": bp.MAGIC, "version": 7, "client": "t", "token": ""}))
    with pytest.raises(VersionMismatch, match="version 7"):
        bp.check_hello(other)
    junk = bp.decode(Req.HELLO, bp.encode_payload(Req.HELLO, {"magic": b"HTTP", "version": 1, "client": "", "token": ""}))
    with pytest.raises(ProtocolError, match="magic"):
        bp.check_hello(junk)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=60), st.integers(1, 10000))
def test_fragment_batches_keep_every_fragment_in_order(frags, target):
    out = []
    for fr in bp.iter_fragment_batches(frags, target_bytes=target):
        (t, payload), = bp.FrameBuffer().feed(fr)
        assert t == Req.FRAGMENTS
        batch = bp.decode(t, payload)["fragments"]
        assert batch, "a batch is never empty"
        assert len(batch) == 1 or sum(len(f) + 4 for f in batch) <= target
        out.extend(batch)
    assert out == frags


def test_byte_level_example_in_the_docs():
    # docs/buyer-protocol.md shows exactly these bytes
    assert bp.encode(Req.HELLO, magic=bp.MAGIC, version=5, client="c", token="").hex(" ") == \
        "11 00 00 00 01 43 50 53 42 05 00 00 00 01 00 00 00 63 00 00 00 00"
    assert bp.encode(Req.NEXT, timeout_ms=1000, max_results=1).hex(" ") == \
        "08 00 00 00 08 e8 03 00 00 01 00 00 00"
    assert bp.encode(Req.ACK, seq=7).hex(" ") == "08 00 00 00 09 07 00 00 00 00 00 00 00"

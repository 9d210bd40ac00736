"""ABI v1 framing and the pure outcome classification."""

from __future__ import annotations

import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq.outcome import Outcome
from cpushare_mq.sandbox.classify import classify_exit
from cpushare_mq.sandbox.frames import (
    Data,
    End,
    Error,
    FrameError,
    OutputDecoder,
    encode_frame,
    frame_header,
)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points + [len(data)]:
        out.append(data[last:p])
        last = p
    return out


def decode(chunks: list[bytes], cap: int) -> list:
    dec = OutputDecoder(cap)
    events = []
    for c in chunks:
        events += dec.feed(c)
    return events


@given(st.lists(st.binary(max_size=300), max_size=8), st.lists(st.integers(0, 10_000), max_size=12),
       st.booleans())
def test_any_split_of_a_valid_stream_decodes_to_the_same_result(payloads, cuts, with_error):
    stream = b"".join(encode_frame("D", p) for p in payloads)
    stream += encode_frame("X", "nope ✗".encode()) if with_error else encode_frame("E")
    events = decode(split_at(stream, cuts), cap=10_000)
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"".join(payloads)
    assert events[-1] == (Error("nope ✗") if with_error else End())
    assert sum(not isinstance(e, Data) for e in events) == 1


@given(st.lists(st.binary(min_size=1, max_size=100), min_size=1, max_size=10), st.integers(0, 500))
def test_output_cap_is_enforced_from_the_declared_length(payloads, cap):
    stream = b"".join(encode_frame("D", p) for p in payloads) + encode_frame("E")
    total = sum(map(len, payloads))
    if total <= cap:
        assert decode([stream], cap)[-1] == End()
    else:
        with pytest.raises(FrameError) as err:
            decode([stream], cap)
        assert err.value.outcome == "output_limit"


@given(st.lists(st.binary(max_size=100), max_size=5), st.binary(max_size=50),
       st.lists(st.integers(0, 1_000), max_size=8))
def test_feed_split_stops_at_the_end_frame_and_hands_back_the_rest(payloads, after, cuts):
    stream = b"".join(encode_frame("D", p) for p in payloads) + encode_frame("E")
    dec = OutputDecoder(10_000)
    events, rest = [], b""
    for c in split_at(stream + after, cuts):
        if dec.done:
            rest += c
            continue
        got, left = dec.feed_split(c)
        events += got
        rest += left
    assert dec.done and not dec.in_frame
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"".join(payloads)
    assert events[-1] == End()
    assert rest == after


def test_decoder_refusals():
    def fails(stream: bytes, words: str, outcome: str = "protocol_error") -> None:
        with pytest.raises(FrameError, match=words) as err:
            decode([stream], 1 << 20)
        assert err.value.outcome == outcome

    fails(encode_frame("S", b"x"), "unknown output frame kind 'S'")
    fails(b"\x00\x00\x00\x00\x07", r"unknown output frame kind '\\\\x07'")
    fails(encode_frame("E", b"x"), "'E' frame must be empty")
    fails(encode_frame("E") + b"\x00", "after the fragment's end")
    fails(frame_header("X", 70_000), "message limit")
    fails(frame_header("D", 0xFFFFFFFF), "claims 4294967295 bytes", "output_limit")


def test_a_flood_of_empty_frames_is_cut_off():
    dec = OutputDecoder(1 << 20, free_frames=1000)
    dec.feed(encode_frame("D") * 1000)
    with pytest.raises(FrameError, match="1001 frames for 0 payload bytes") as err:
        dec.feed(encode_frame("D"))
    assert err.value.outcome == "protocol_error"


def test_frames_are_bounded_per_payload_byte():
    """Decoding cost is bounded per byte: beyond the free frames, each frame needs
    PAYLOAD_BYTES_PER_FRAME payload bytes (1-byte frames are refused, rows of a tile pass)."""
    from cpushare_mq.sandbox.frames import FREE_FRAMES, PAYLOAD_BYTES_PER_FRAME

    rows = OutputDecoder(1 << 30)
    rows.feed(encode_frame("D", b"r" * PAYLOAD_BYTES_PER_FRAME) * (FREE_FRAMES * 4))
    assert rows.frames == FREE_FRAMES * 4
    tiny = OutputDecoder(1 << 30)
    with pytest.raises(FrameError, match="frames for") as err:
        tiny.feed(encode_frame("D", b"x") * 1_000_000)
    assert err.value.outcome == "protocol_error"
    assert tiny.frames < FREE_FRAMES * 2     # cut off after a few thousand, not a million


def test_decoder_knows_a_cut_frame():
    dec = OutputDecoder(100)
    assert dec.feed(frame_header("D", 10) + b"abc") == [Data(b"abc")]
    assert dec.in_frame and not dec.done
    assert dec.feed(b"defghij") == [Data(b"defghij")]
    assert not dec.in_frame


def test_invalid_utf8_in_an_error_message_is_replaced():
    assert decode([encode_frame("X", b"bad \xff byte")], 100) == [Error("bad \ufffd byte")]


def test_frame_header_checks_its_arguments():
    assert frame_header("F", 5) == b"\x05\x00\x00\x00F"
    with pytest.raises(ValueError, match="kind"):
        frame_header("Q", 1)
    with pytest.raises(ValueError, match="u32"):
        frame_header("F", 1 << 32)


@pytest.mark.parametrize("kwargs, outcome", [
    ({"killed_for": "cpu"}, Outcome.CPU_LIMIT),
    ({"killed_for": "wall", "signal": signal.SIGKILL}, Outcome.TIMEOUT),
    ({"killed_for": "output"}, Outcome.OUTPUT_LIMIT),
    ({"killed_for": "protocol"}, Outcome.PROTOCOL_ERROR),
    ({"signal": signal.SIGKILL}, Outcome.FORBIDDEN_SYSCALL),
    ({"signal": signal.SIGKILL, "cpu_total_s": 6.0, "cpu_backstop_s": 6}, Outcome.CPU_LIMIT),
    ({"signal": signal.SIGXCPU}, Outcome.CPU_LIMIT),
    ({"signal": signal.SIGSEGV}, Outcome.MEMORY_FAULT),
    ({"signal": signal.SIGBUS}, Outcome.MEMORY_FAULT),
    ({"signal": signal.SIGILL}, Outcome.CRASH),
    ({"signal": signal.SIGPIPE}, Outcome.CRASH),
    ({"exit_code": 7}, Outcome.EXIT_CODE),
    ({"exit_code": 0}, Outcome.EXIT_CODE),
    ({"exit_code": 0, "raw": True}, Outcome.OK),
    ({"exit_code": 3, "raw": True}, Outcome.EXIT_CODE),
])
def test_classification(kwargs, outcome):
    args = {"exit_code": None, "signal": None, "killed_for": None, **kwargs}
    got, message = classify_exit(**args)
    assert got is outcome
    assert outcome is Outcome.OK or message or args["killed_for"]

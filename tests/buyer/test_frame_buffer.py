"""The buyer protocol's one receive buffer (buyer_protocol.FrameBuffer, no I/O): however the
byte stream is cut, the same frames come out; an oversized header is refused at once."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq import buyer_protocol as bp
from cpushare_mq.buyer_protocol import Rep, Req

frames = st.lists(st.tuples(st.sampled_from([int(Req.ACK), int(Rep.CHUNK), int(Req.PROGRAM), 0x42]),
                            st.binary(max_size=300)), max_size=12)


def cut(blob: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(blob) + 1) for c in cuts})
    edges = [0, *points, len(blob)]
    return [blob[a:b] for a, b in zip(edges, edges[1:], strict=False)]


@given(frames=frames, cuts=st.lists(st.integers(0, 10_000), max_size=40))
def test_any_split_of_the_stream_gives_the_same_frames(frames, cuts):
    blob = b"".join(bp.frame(t, p) for t, p in frames)
    buf = bp.FrameBuffer()
    out = []
    for piece in cut(blob, cuts):
        assert buf.missing >= 1
        buf.add(piece)
        while (fr := buf.next_frame()) is not None:
            out.append(fr)
    assert out == frames
    assert buf.pending == 0


@given(frames=frames, cuts=st.lists(st.integers(0, 10_000), max_size=20))
def test_missing_is_exactly_what_completes_the_frame_in_progress(frames, cuts):
    blob = b"".join(bp.frame(t, p) for t, p in frames)
    buf = bp.FrameBuffer()
    got = 0
    pos = 0
    while pos < len(blob):
        n = buf.missing                    # a reader that trusts missing never over-reads
        buf.add(blob[pos:pos + n])
        pos += n
        while buf.next_frame() is not None:
            got += 1
    assert got == len(frames) and buf.pending == 0


@given(prefix=frames, cap=st.integers(0, 1000), over=st.integers(1, 2**32 - 1001),
       split=st.integers(0, 4))
def test_an_oversized_header_is_refused_before_its_payload(prefix, cap, over, split):
    head = struct.pack("<IB", cap + over, int(Req.PROGRAM))
    ok = b"".join(bp.frame(t, p) for t, p in prefix if len(p) <= cap)
    buf = bp.FrameBuffer(max_frame_bytes=cap)
    buf.add(ok + head[:split])
    while buf.next_frame() is not None:
        pass
    buf.add(head[split:])
    with pytest.raises(bp.FrameTooLarge, match=f"over the {cap}-byte cap"):
        buf.next_frame()

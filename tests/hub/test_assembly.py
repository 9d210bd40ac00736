"""hub/assembly.py: a result assembled from its chunks, as the hub receives them."""

from __future__ import annotations

import hashlib
import os

from hypothesis import given
from hypothesis import strategies as st

from cpushare_mq.hub.assembly import ResultAssembly
from cpushare_mq.protocol import compress_chunk

KEY = ("w-1", 7, 0)


def end(data: bytes, chunks: int) -> dict:
    return {"chunks": chunks, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@given(st.binary(max_size=4096), st.lists(st.integers(1, 600), max_size=12))
def test_any_chunking_of_a_result_assembles_to_it(data, cuts):
    pieces, at = [], 0
    for n in cuts:
        pieces.append(data[at:at + n])
        at += n
    pieces.append(data[at:])
    a = ResultAssembly(1 << 20, 1 << 30)
    for seq, piece in enumerate(pieces[:-1]):
        a.chunk(KEY, seq, compress_chunk(piece), 1 << 20)
    v = a.finish(KEY, end(data, len(pieces)), compress_chunk(pieces[-1]), 1 << 20)
    assert v.invalid == "" and not v.handed_back and len(v.chunks) == len(pieces)
    assert a.held_bytes == 0 and len(a) == 0


def test_a_wrong_digest_size_count_or_order_is_invalid():
    a = ResultAssembly(1 << 20, 1 << 30)
    a.chunk(KEY, 0, compress_chunk(b"abc"), 1000)
    assert "sha256" in a.finish(KEY, {**end(b"abc", 1), "sha256": "0" * 64}, None, 1000).invalid
    a.chunk(KEY, 0, compress_chunk(b"abc"), 1000)
    assert "bytes" in a.finish(KEY, end(b"abcd", 1), None, 1000).invalid
    a.chunk(KEY, 0, compress_chunk(b"abc"), 1000)
    assert "chunks" in a.finish(KEY, end(b"abc", 2), None, 1000).invalid
    a.chunk(KEY, 1, compress_chunk(b"abc"), 1000)
    assert "expected" in a.finish(KEY, end(b"abc", 1), None, 1000).invalid
    assert a.held_bytes == 0


def test_a_worker_over_its_budget_is_handed_back_and_others_are_not_touched():
    a = ResultAssembly(per_worker_bytes=64 << 10, total_bytes=1 << 30)
    other, second, third = ("w-2", 8, 0), ("w-1", 9, 0), ("w-1", 10, 0)
    a.chunk(other, 0, compress_chunk(b"x" * 100), 60 << 10)
    big = compress_chunk(os.urandom(50 << 10))
    a.chunk(KEY, 0, big, 60 << 10)         # one whole result always fits
    a.chunk(second, 0, big, 60 << 10)      # (the budget is at least one whole result: 125 KiB)
    a.chunk(third, 0, big, 60 << 10)       # a third passes the worker's budget
    v = a.finish(third, end(b"", 1), None, 60 << 10)
    assert v.handed_back and "max_partial_bytes_per_worker" in v.invalid
    assert a.finish(other, end(b"x" * 100, 1), None, 60 << 10).invalid == ""
    a.drop_where(lambda k: k[0] == "w-1")
    assert a.held_bytes == 0


def test_dropping_a_worker_frees_its_budget():
    a = ResultAssembly(1 << 20, 1 << 30)
    a.chunk(KEY, 0, compress_chunk(b"abc"), 1000)
    a.chunk(("w-2", 1, 0), 0, compress_chunk(b"abc"), 1000)
    a.drop_where(lambda k: k[0] == "w-1")
    assert len(a) == 1
    a.drop(("w-2", 1, 0))
    assert a.held_bytes == 0 and len(a) == 0


def test_more_chunks_than_the_cap_is_invalid():
    from cpushare_mq.hub.budgets import chunk_cap
    a = ResultAssembly(1 << 20, 1 << 30)
    cap = chunk_cap(1 << 20)
    for seq in range(cap + 5):
        a.chunk(KEY, seq, compress_chunk(b""), 1 << 20)
    v = a.finish(KEY, end(b"x", cap + 6), compress_chunk(b"x"), 1 << 20)
    assert f"more than {cap} chunks" in v.invalid and not v.handed_back and not v.chunks
    assert a.held_bytes == 0


PRESET = compress_chunk(os.urandom(100 << 10))     # a worker's or another's held result


@given(data=st.binary(max_size=3000), max_output=st.sampled_from([0, 10, 2000, 1 << 20]),
       chunks=st.integers(0, 3), size_delta=st.sampled_from([0, 0, 1, -1]),
       bad_digest=st.booleans(), corrupt=st.booleans(),
       full=st.sampled_from(["", "", "worker", "hub"]))
def test_a_result_in_one_message_gets_the_verdict_of_the_same_chunk_sent_apart(
        data, max_output, chunks, size_delta, bad_digest, corrupt, full):
    """The one-message path of finish() (no Partial) checks exactly what the general path
    checks: lease cap, worker and hub budgets, decompression, chunk count, size, digest."""
    blob = compress_chunk(data)
    if corrupt:
        blob = blob[:-1] + bytes([blob[-1] ^ 0xFF]) + b"\x00"
    body = {**end(data, chunks), "size": len(data) + size_delta}
    if bad_digest:
        body["sha256"] = "0" * 64
    verdicts = []
    for apart in (False, True):
        room = len(PRESET) + 5      # the budget left after the preset: 5 bytes
        a = ResultAssembly(per_worker_bytes=room, total_bytes=room if full == "hub" else 1 << 30)
        if full:
            a.chunk(("w-1" if full == "worker" else "w-9", 1, 0), 0, PRESET, 1 << 20)
        held, partials = a.held_bytes, len(a)
        if apart:
            a.chunk(KEY, 0, blob, max_output)
            verdicts.append(a.finish(KEY, body, None, max_output))
        else:
            verdicts.append(a.finish(KEY, body, blob, max_output))
        assert a.held_bytes == held and len(a) == partials
    assert verdicts[0] == verdicts[1]
    if full == "hub":
        assert verdicts[0].handed_back and "max_partial_bytes " in verdicts[0].invalid

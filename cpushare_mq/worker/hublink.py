"""The worker's DEALER socket to one hub, and its flow control (an I/O shell piece).

Messages the socket will not take (its high-water mark is reached: slow hub link) wait in a
small outbox; large messages are tracked until ZeroMQ has written them out, so the bytes
queued inside the socket stay bounded. While the link is behind (:meth:`HubLink.congested`)
the agent stops taking slot events, which in turn stops the slots reading their sandboxes'
output: memory stays bounded whatever the result size.
"""

from __future__ import annotations

import logging
import time
from collections import deque

import zmq

from ..errors import ConfigError
from ..protocol import Limits as WireLimits

log = logging.getLogger(__name__)

TRACK_BYTES = 64 << 10      # messages at least this big are tracked until written out


class HubLink:
    """``connect()`` / ``close()`` the socket; ``queue(frames)`` never blocks."""

    def __init__(self, ctx: zmq.Context, hub: str, *, sndhwm: int, outbox_limit: int,
                 inflight_limit_bytes: int, trust=None):
        self.ctx, self.hub, self.trust = ctx, hub, trust
        self.sndhwm = sndhwm
        self.outbox_limit = outbox_limit
        self.inflight_limit_bytes = inflight_limit_bytes
        self.dealer: zmq.Socket | None = None
        self.outbox: deque[list] = deque()
        self.inflight: deque[tuple[zmq.MessageTracker, int]] = deque()
        self.inflight_bytes = 0
        self.messages_sent = 0
        self.bytes_sent = 0
        self.handshake_said: dict[str, float] = {}   # handshake errors logged (plain TCP)

    def connect(self) -> None:
        self.close()
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, self.sndhwm)
        sock.setsockopt(zmq.RCVHWM, 10000)
        sock.setsockopt(zmq.MAXMSGSIZE, WireLimits.MAX_MESSAGE_BYTES)
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
        if "[" in self.hub:
            sock.setsockopt(zmq.IPV6, 1)
        if self.trust is not None:
            self.trust.secure_socket(sock)      # CURVE client options (with --hub-key)
        else:   # plain TCP: a CURVE hub refuses the handshake; say so instead of "not answering"
            from ..trust.workerside import watch_handshakes

            watch_handshakes(sock, curve=False, said_at=self.handshake_said)
        try:
            sock.connect(self.hub)
        except zmq.ZMQError as exc:
            sock.close(0)
            raise ConfigError(f"cannot connect to hub {self.hub!r}: {exc}") from exc
        log.debug("connecting to %s", self.hub)
        self.dealer = sock

    def close(self) -> None:
        """Close the socket, dropping whatever still waits in it (the core replays results
        after the next WELCOME)."""
        self.outbox.clear()
        self.inflight.clear()
        self.inflight_bytes = 0
        if self.dealer is not None:
            self.dealer.close(0)
            self.dealer = None

    def queue(self, frames: list) -> None:
        """Send one encoded message, or keep it in the outbox behind the others."""
        self.messages_sent += 1
        self.bytes_sent += sum(len(f) for f in frames)
        if self.outbox or not self._send_frames(frames):
            self.outbox.append(frames)

    def _send_frames(self, frames: list) -> bool:
        """Hand one message to ZeroMQ without blocking; False if its queue is full."""
        size = len(frames[-1]) if len(frames) > 2 else 0
        try:
            if size >= TRACK_BYTES:
                tracker = self.dealer.send_multipart(frames, zmq.NOBLOCK, copy=False, track=True)
                self.inflight.append((tracker, size))
                self.inflight_bytes += size
            else:
                self.dealer.send_multipart(frames, zmq.NOBLOCK)   # small: copying is cheaper
        except zmq.Again:
            return False
        return True

    def congested(self) -> bool:
        """True while the hub link is behind: the loop then stops taking slot events."""
        while self.inflight and self.inflight[0][0].done:
            self.inflight_bytes -= self.inflight.popleft()[1]
        return (len(self.outbox) >= self.outbox_limit
                or self.inflight_bytes > self.inflight_limit_bytes)

    def flush(self) -> None:
        """Send what waits in the outbox, as far as the socket takes it."""
        while self.outbox and self.dealer is not None:
            if not self._send_frames(self.outbox[0]):
                return
            self.outbox.popleft()

    def receive(self) -> list | None:
        """One message's frames, or None when none is waiting (or no socket)."""
        if self.dealer is None:
            return None
        try:
            return self.dealer.recv_multipart(zmq.NOBLOCK, copy=True)
        except zmq.Again:
            return None

    def linger_close(self, timeout_s: float = 2.0) -> None:
        """At exit: let the last messages (results, RELEASE, BYE) leave, then close."""
        if self.dealer is None:
            return
        deadline = time.monotonic() + timeout_s
        while self.outbox and time.monotonic() < deadline:
            if self.dealer.poll(100, zmq.POLLOUT):
                self.flush()
        self.dealer.setsockopt(zmq.LINGER, int(timeout_s * 1000))
        self.dealer.close()
        self.dealer = None


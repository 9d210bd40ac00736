"""The worker socket: the hub's ZeroMQ ROUTER (CURVE and ZAP through the trust layer), the
monitor that reports closed connections and refused handshakes, and the two things a loop
turn does with it: read a bounded batch of messages, send one message to one peer.

Loop thread only: the thread that serves opens it, uses it and closes it.
"""

from __future__ import annotations

import logging
import time

import zmq
from zmq.utils.monitor import parse_monitor_message

from ..errors import ConfigError
from . import handshakes
from .limits import MAX_WORKER_FRAME_BYTES, TURN_BYTES_MAX, WORKER_RCVHWM, recv_bounded
from .router_ids import router_socket

__all__ = ["WorkerSocket", "PeerKey", "peer_curve_key", "peer_address"]

log = logging.getLogger(__name__)


def peer_curve_key(frame) -> str | None:
    """The CURVE key the peer authenticated with (``User-Id`` of a received frame)."""
    try:
        return frame.get("User-Id") or None
    except (zmq.ZMQError, AttributeError, UnicodeDecodeError):
        return None


def peer_address(frame) -> str | None:
    """The network address of the peer that sent ``frame`` (``Peer-Address``), if known."""
    try:
        return frame.get("Peer-Address") or None
    except (zmq.ZMQError, AttributeError, UnicodeDecodeError):
        return None


class PeerKey:
    """Rides at the end of a received frame list: the peer's authenticated CURVE key, and a
    frame of the message (a HELLO's admission reads its ``Peer-Address``, hub/admission.py)."""

    __slots__ = ("key", "frame")

    def __init__(self, key: str | None, frame=None):
        self.key = key
        self.frame = frame

    @property
    def address(self) -> str | None:
        return peer_address(self.frame) if self.frame is not None else None


class WorkerSocket:
    """The ROUTER workers dial, bound to ``bind``; ``trust`` (HubTrust or None) secures it."""

    def __init__(self, bind: str, *, insecure: bool, trust=None):
        self.bind = bind
        self.insecure = insecure
        self.trust = trust
        self.endpoint = ""
        self._ctx: zmq.Context | None = None
        self._sock: zmq.Socket | None = None
        self._monitor: zmq.Socket | None = None    # disconnects and refused handshakes
        self._refused = handshakes.RefusedHandshakes(secure=not insecure)

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    @property
    def secure(self) -> bool:
        """Peers authenticate with CURVE keys (the trust layer is on and not insecure)."""
        return self.trust is not None and not self.trust.insecure

    # -- open and close ---------------------------------------------------------------
    def open(self) -> str:
        """Make, secure and bind the ROUTER; returns the endpoint it listens on."""
        self._ctx = zmq.Context()
        s = router_socket(self._ctx)     # automatic routing ids a peer cannot predict
        s.setsockopt(zmq.ROUTER_MANDATORY, 1)
        s.setsockopt(zmq.MAXMSGSIZE, MAX_WORKER_FRAME_BYTES)   # per frame, before buffering
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 100_000)
        s.setsockopt(zmq.RCVHWM, WORKER_RCVHWM)
        self._configure_security(s)
        try:
            s.bind(self.bind)
        except zmq.ZMQError as exc:
            s.close(0)
            raise ConfigError(f"cannot bind the worker socket to {self.bind!r}: {exc}") from exc
        self._sock = s
        self.endpoint = s.getsockopt_string(zmq.LAST_ENDPOINT)
        self._monitor = s.get_monitor_socket(zmq.EVENT_DISCONNECTED | handshakes.FAILED_EVENTS)
        return self.endpoint

    def _configure_security(self, s: zmq.Socket) -> None:
        """CURVE + ZAP via the trust layer; socket options must be set before bind."""
        if self.trust is not None:
            self.trust.secure_socket(self._ctx, s)
        elif not self.insecure:
            raise ConfigError("a secure hub needs the trust layer (cpushare_mq.trust)")

    def close(self) -> None:
        if self._monitor is not None:
            try:
                self._sock.disable_monitor()
            except zmq.ZMQError as exc:   # closing anyway
                log.debug("cannot stop the worker socket's monitor: %s", exc)
            self._monitor.close(0)
            self._monitor = None
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None
        if self.trust is not None:
            try:
                self.trust.close()          # the ZAP handler must stop before ctx.term()
            except Exception:  # noqa: BLE001 - shutting down anyway
                log.exception("trust layer failed to close")
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None

    # -- a turn -----------------------------------------------------------------------
    def register(self, poller: zmq.Poller) -> None:
        poller.register(self._sock, zmq.POLLIN)
        if self._monitor is not None:
            poller.register(self._monitor, zmq.POLLIN)

    def has_messages(self, events: dict) -> bool:
        return self._sock in events

    def has_monitor_events(self, events: dict) -> bool:
        return self._monitor is not None and self._monitor in events

    def receive(self, max_messages: int, group_commit_s: float) -> list[list]:
        """What is waiting, up to ``max_messages`` and ``TURN_BYTES_MAX`` bytes, waiting up
        to ``group_commit_s`` for more. Each message is its frame list (routing id first; an
        oversized one is an ``Oversize`` marker), with a :class:`PeerKey` last on a secure
        socket and after every HELLO."""
        sock = self._sock
        batch: list[list] = []
        t_end = time.monotonic() + group_commit_s
        batch_bytes = 0
        secure = self.secure
        while len(batch) < max_messages and batch_bytes < TURN_BYTES_MAX:
            try:
                frames, size, first = recv_bounded(sock, secure)
                batch_bytes += size
                if first is not None:   # the CURVE key the peer authenticated with
                    frames.append(PeerKey(peer_curve_key(first) if secure else None, first))
                batch.append(frames)
            except zmq.Again:
                if time.monotonic() >= t_end or not sock.poll(
                        max(0, int((t_end - time.monotonic()) * 1000))):
                    break
        return batch

    def closed_connections(self) -> bool:
        """Drain the monitor: True if a connection closed. A refused handshake is said in
        the log (rate-limited), with why."""
        seen = False
        while True:
            try:
                ev = parse_monitor_message(self._monitor.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                break
            except zmq.ZMQError as exc:
                log.debug("cannot read the worker socket's monitor: %s", exc)
                break
            if ev["event"] != zmq.EVENT_DISCONNECTED:
                line = self._refused.on_event(ev["event"], ev["value"], time.monotonic())
                if line:
                    log.warning("%s", line)
                continue
            seen = True
        return seen

    def send(self, ident: bytes, frames: list) -> int:
        """Send one message to the peer ``ident`` without blocking: 0, or the errno of the
        failed send (``zmq.EHOSTUNREACH``: the ROUTER no longer knows the peer)."""
        try:
            self._sock.send_multipart([ident, *frames], zmq.NOBLOCK, copy=False)
        except zmq.ZMQError as exc:
            log.debug("cannot send to peer %s: %s", ident.hex(), exc)
            return exc.errno
        return 0

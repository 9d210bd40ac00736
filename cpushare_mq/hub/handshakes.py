"""Refused worker handshakes, told clearly and rate-limited: a pure core fed with the worker
socket's monitor events (event, value, time) that returns the log lines to write.

The hub sees a failed ZMTP handshake as ``EVENT_HANDSHAKE_FAILED_PROTOCOL`` with the reason
as value: a mechanism mismatch (a plain-TCP worker on a CURVE hub, or a CURVE worker on an
``--insecure`` hub) or a cryptographic error (a worker with the wrong ``--hub-key``). Refusals
by the allow-list or ban list are logged by ZAP (``trust/zap.py``). The first refusal of each
kind is logged at once; more of the same kind within ``interval_s`` are counted and reported
with the next one logged after the interval, so a worker retrying every second cannot flood
the log (libzmq's handshake events do not name the peer, so the count is per kind).
"""

from __future__ import annotations

import zmq

from ..logthrottle import LogThrottle

MECHANISM_MISMATCH = zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
CRYPTOGRAPHIC = zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
FAILED_EVENTS = zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL   # (NO_DETAIL comes with it, or from non-workers)


def explain(event: int, value: int, secure: bool) -> tuple[str, str] | None:
    """(kind, message) for a refused handshake on the hub's worker socket, or None."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL and value == MECHANISM_MISMATCH:
        if secure:
            return "plain", ("refused a worker connection: the worker does not use CURVE (started without "
                             "--hub-key, or with --insecure); give it this hub's public key: "
                             "cpushare-worker --hub-key KEYS_DIR/hub.pub")
        return "curve", ("refused a worker connection: the worker uses CURVE (--hub-key) but this hub runs "
                         "--insecure; drop the worker's --hub-key, or start the hub without --insecure")
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL and value == CRYPTOGRAPHIC:
        return "key", ("refused a worker connection: its CURVE handshake failed, so it has the wrong "
                       "--hub-key; give it this hub's hub.pub (the key printed at start)")
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        return f"protocol-{value}", f"refused a worker connection: handshake protocol error {value:#x}"
    if event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        return "other", "refused a worker connection: the handshake failed (wrong key or security mode?)"
    return None   # EVENT_HANDSHAKE_FAILED_AUTH: ZAP logged why


class RefusedHandshakes:
    """The line to log for each refused handshake, one per kind per ``interval_s``."""

    def __init__(self, secure: bool, interval_s: float = 60.0):
        self.secure = secure
        self._throttle = LogThrottle(interval_s, counted=" ({n} more like it since {s:.0f} s ago)")

    def on_event(self, event: int, value: int, now: float) -> str | None:
        """The line to log for this monitor event, or None (not a refusal, or rate-limited)."""
        got = explain(event, value, self.secure)
        if got is None:
            return None
        kind, message = got
        return self._throttle.line(kind, message, now)

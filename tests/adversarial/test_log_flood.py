"""Issue 14 (smaller): refused handshakes are not logged at WARNING once per attempt (a log
flood for anyone who can connect): ZAP refusals are rate-limited per kind (logthrottle.py),
the first at once, the rest counted."""

from __future__ import annotations

import time

import zmq
from hubproc import HubProcess
from zmq.utils.monitor import recv_monitor_message

from cpushare_mq.logthrottle import LogThrottle


def test_the_throttle():
    t = LogThrottle(interval_s=60)
    assert t.line("key", "refused", 0.0) == "refused"
    assert t.line("key", "refused", 1.0) is None and t.line("key", "refused", 2.0) is None
    assert t.line("mechanism", "other", 3.0) == "other"
    assert t.line("key", "refused", 61.0) == "refused (2 more like it in the last 61 s)"


def test_fifty_refused_keys_log_one_line(tmp_path):
    """50 strangers with self-made keys connect at once; each is refused by the hub's ZAP
    handler (its socket monitor reports the failed authentication, and the hub logs before
    it answers), and the log has one line for all of them."""
    allowed = tmp_path / "sellers.txt"
    allowed.write_text(zmq.curve_keypair()[0].decode() + "\n")
    hub = HubProcess(tmp_path, insecure=False, extra=("--allow-workers", str(allowed)))
    ctx = zmq.Context()
    pending: dict[zmq.Socket, zmq.Socket] = {}      # monitor -> its socket, until refused
    try:
        for _ in range(50):                       # 50 strangers with self-made keys
            public, secret = zmq.curve_keypair()
            s = ctx.socket(zmq.DEALER)
            s.linger = 0
            s.curve_serverkey, s.curve_publickey, s.curve_secretkey = (
                hub.public_key.encode(), public, secret)
            pending[s.get_monitor_socket()] = s
            s.connect(hub.endpoint)
            s.send(b"x")
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for monitor in [m for m in pending if m.poll(0)]:
                event = recv_monitor_message(monitor)["event"]
                assert event != zmq.EVENT_HANDSHAKE_SUCCEEDED
                if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                    s = pending.pop(monitor)
                    s.disable_monitor()
                    monitor.close(0)
                    s.close(0)
            time.sleep(0.01)
        assert not pending, f"{len(pending)} of 50 strangers were not refused by the hub"
        assert hub.alive()
        refusals = hub.log.read_text().count("ZAP: refused worker key")
        assert refusals == 1, hub.log.read_text()[-3000:]
    finally:
        for monitor, s in pending.items():
            monitor.close(0)
            s.close(0)
        ctx.term()
        hub.stop()

"""Issue 14 (smaller): refused handshakes are not logged at WARNING once per attempt (a log
flood for anyone who can connect): ZAP refusals are rate-limited per kind (logthrottle.py),
the first at once, the rest counted."""

from __future__ import annotations

import time

import zmq
from hubproc import HubProcess

from cpushare_mq.logthrottle import LogThrottle


def test_the_throttle():
    t = LogThrottle(interval_s=60)
    assert t.line("key", "refused", 0.0) == "refused"
    assert t.line("key", "refused", 1.0) is None and t.line("key", "refused", 2.0) is None
    assert t.line("mechanism", "other", 3.0) == "other"
    assert t.line("key", "refused", 61.0) == "refused (2 more like it in the last 61 s)"


def test_fifty_refused_keys_log_one_line(tmp_path):
    allowed = tmp_path / "sellers.txt"
    allowed.write_text(zmq.curve_keypair()[0].decode() + "\n")
    hub = HubProcess(tmp_path, insecure=False, extra=("--allow-workers", str(allowed)))
    ctx = zmq.Context()
    try:
        for _ in range(50):                       # 50 strangers with self-made keys
            public, secret = zmq.curve_keypair()
            s = ctx.socket(zmq.DEALER)
            s.linger = 0
            s.curve_serverkey, s.curve_publickey, s.curve_secretkey = (
                hub.public_key.encode(), public, secret)
            s.connect(hub.endpoint)
            s.send(b"x")
            s.poll(200)
            s.close(0)
        deadline = time.monotonic() + 30
        while "ZAP: refused worker key" not in hub.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        assert hub.alive()
        refusals = hub.log.read_text().count("ZAP: refused worker key")
        assert refusals == 1, hub.log.read_text()[-3000:]
    finally:
        ctx.term()
        hub.stop()

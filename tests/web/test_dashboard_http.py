"""The dashboard without a browser: bad requests, the cost when nobody (and somebody) watches."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from cpushare_mq.errors import ConfigError
from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub
from cpushare_mq.hub.web.access import parse_web_address


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", web="127.0.0.1:0").start()
    yield h
    h.close()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_bad_requests_get_a_clear_answer_and_the_hub_carries_on(hub):
    job = hub.submit_job(JobSpec(program=b"\x7fELF-not-tiles", fragments=[b"a", b"b"]))
    base, tok = hub.web.base, hub.web.token
    cases = {
        f"/job/{job}/result/abc": (400, b"index must be a number"),
        f"/job/{job}/result/0": (404, b"has no accepted result"),
        f"/job/{job}/image.png": (404, b"not an image"),
        "/api/job/j-nope": (404, b"no job"),
        "/events/job/j-nope": (404, b"no job"),
        "/api/worker/w-nope": (404, b"no worker"),
        "/static/../server.py": (404, b""),
        "/static/dash.py": (404, b"no static file"),
        "/nothing/here": (404, b""),
    }
    for path, (code, text) in cases.items():
        status, body = get(f"{base}{path}?token={tok}")
        assert status == code and text in body, (path, status, body)
    status, body = get(f"{base}/api/job/{job}?token={tok}")
    assert status == 200 and b'"image": null' in body
    assert hub.job_progress(job)["total"] == 2          # the hub is fine


def test_nothing_runs_while_nobody_watches_and_viewers_share_one_update(hub, monkeypatch):
    calls = []
    real = hub.status
    monkeypatch.setattr(hub, "status", lambda: calls.append(time.monotonic()) or real())
    time.sleep(2.5)
    assert calls == [], "the dashboard asked the hub for data while nobody watched"
    u = urlsplit(hub.web.base)
    stop = threading.Event()
    events = [0, 0, 0]

    def watch(i):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request("GET", f"/events/overview?token={hub.web.token}")
        r = c.getresponse()
        assert r.status == 200
        while not stop.is_set():
            events[i] += r.fp.read1(1 << 16).count(b"event: overview")
        c.close()
    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(3)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(4.0)
    stop.set()
    for t in threads:
        t.join(10)
    elapsed = time.monotonic() - t0
    assert all(n >= 2 for n in events), events            # each page got live updates
    # three pages, one push per second each, but one hub snapshot serves them all
    assert len(calls) <= elapsed / 0.9 + 2, (len(calls), elapsed)


@pytest.mark.parametrize("text, host, port", [
    ("127.0.0.1:8080", "127.0.0.1", 8080), (":0", "127.0.0.1", 0), ("9000", "127.0.0.1", 9000),
    ("[::1]:80", "::1", 80), ("localhost:1", "localhost", 1)])
def test_web_address(text, host, port):
    a = parse_web_address(text)
    assert (a.host, a.port, a.loopback) == (host, port, True)


@pytest.mark.parametrize("text", ["host:", "h:99999", "h:x", ""])
def test_bad_web_address(text):
    with pytest.raises(ConfigError, match="--web"):
        parse_web_address(text)


def test_overview_shows_a_paused_worker_and_why(hub):
    import json

    from fakeworker import FakeWorker

    from cpushare_mq.protocol import MsgType
    w = FakeWorker(hub.worker_endpoint, name="pausing-seller")
    try:
        w.hello()
        w.send(MsgType.STATUS, {"paused": True, "busy": 0})
        deadline = time.monotonic() + 30
        while True:
            w.heartbeat()
            _s, body = get(f"{hub.web.base}/api/overview?token={hub.web.token}")
            rows = [x for x in json.loads(body)["workers"] if x["name"] == "pausing-seller"]
            if rows and rows[0]["state"] == "paused":
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.3)
        assert rows[0]["paused"] and rows[0]["paused_why"] == "paused by its owner"
    finally:
        w.close()


def test_worker_line_states():
    from cpushare_mq.hub.web.views import worker_line
    base = {"worker_id": "w", "slots": 2, "busy": 5, "alive": True}
    line = worker_line(base, {"w": 3.0})
    assert (line["state"], line["running"], line["prefetched"], line["lease_s"]) == \
        ("alive", 2, 3, 3.0)
    held = worker_line({**base, "held": "its sandbox keeps failing"}, {})
    assert held["state"] == "held" and held["paused_why"] == "its sandbox keeps failing"
    assert worker_line({**base, "alive": False}, {})["state"] == "silent"

"""Issue 15: key and mode mismatches between a worker and a hub are told on both sides, as
users start them (cpushare-hub serve, cpushare-worker), and the hub's lines are rate-limited."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import zmq
from waiting import wait_for

from cpushare_mq.hub.handshakes import CRYPTOGRAPHIC, MECHANISM_MISMATCH, RefusedHandshakes

from .buyercli import clean_env as _env

BIN = Path(sys.executable).parent


def _start(args: list[str], log: Path) -> subprocess.Popen:
    out = open(log, "wb")  # noqa: SIM115 - closed right after the start
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
    out.close()
    return p


def _hub(root: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    log = root / "hub.log"
    p = _start([str(BIN / "cpushare-hub"), "serve", "--db", str(root / "hub.db"), "--bind", "tcp://127.0.0.1:0",
                "--api", "", *extra], log)
    m = wait_for(lambda: re.search(r"serving workers on (tcp://\S+)", log.read_text()), 60, "the hub's endpoint")
    return p, m[1]


def _stop(*procs: subprocess.Popen) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def _worker(root: Path, name: str, endpoint: str, *extra: str) -> tuple[subprocess.Popen, Path]:
    log = root / f"{name}.log"
    return _start([str(BIN / "cpushare-worker"), "--hub", endpoint, "--slots", "1", "--cache-dir",
                   str(root / f"cache-{name}"), "--config-dir", str(root / f"id-{name}"), *extra], log), log


def test_secure_hub_and_workers_without_or_with_a_wrong_key(short_tmp):
    subprocess.run([str(BIN / "cpushare-hub"), "keygen", "--keys", str(short_tmp / "other")], check=True,
                   capture_output=True, env=_env())
    hub, endpoint = _hub(short_tmp)
    plain, plain_log = _worker(short_tmp, "plain", endpoint)                 # loopback: no key needed to start
    wrong, wrong_log = _worker(short_tmp, "wrong", endpoint, "--hub-key", str(short_tmp / "other" / "hub.pub"))
    try:
        wait_for(lambda: "the hub uses CURVE and this worker does not; pass the hub's public key with --hub-key"
                 in plain_log.read_text(), 60, "the key-less worker's explanation")
        wait_for(lambda: "handshake with the hub failed: wrong --hub-key" in wrong_log.read_text(), 60,
                 "the wrong-key worker's explanation")
        hub_log = short_tmp / "hub.log"
        wait_for(lambda: "the worker does not use CURVE (started without --hub-key" in hub_log.read_text(), 60,
                 "the hub's line about the key-less worker")
        wait_for(lambda: "so it has the wrong --hub-key" in hub_log.read_text(), 60,
                 "the hub's line about the wrong-key worker")
        # both workers keep retrying (several handshakes a second): the hub said each once
        wait_for(lambda: plain_log.read_text().count("hub not answering") >= 3, 60, "a few retries")
        text = hub_log.read_text()
        assert text.count("does not use CURVE") == 1 and text.count("wrong --hub-key") == 1, text
        assert plain_log.read_text().count("the hub uses CURVE and this worker does not") == 1
    finally:
        _stop(plain, wrong, hub)


def test_insecure_hub_and_a_curve_worker(short_tmp):
    subprocess.run([str(BIN / "cpushare-hub"), "keygen", "--keys", str(short_tmp / "k")], check=True,
                   capture_output=True, env=_env())
    hub, endpoint = _hub(short_tmp, "--insecure")
    w, w_log = _worker(short_tmp, "curve", endpoint, "--hub-key", str(short_tmp / "k" / "hub.pub"))
    try:
        wait_for(lambda: "the hub runs --insecure (plain TCP) and this worker uses CURVE" in w_log.read_text(),
                 60, "the worker's explanation")
        wait_for(lambda: "the worker uses CURVE (--hub-key) but this hub runs --insecure"
                 in (short_tmp / "hub.log").read_text(), 60, "the hub's explanation")
    finally:
        _stop(w, hub)


def test_refused_handshake_lines_are_rate_limited_per_kind():
    r = RefusedHandshakes(secure=True, interval_s=60)
    mismatch = (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, MECHANISM_MISMATCH)
    assert "does not use CURVE" in r.on_event(*mismatch, now=0)
    assert all(r.on_event(*mismatch, now=t) is None for t in range(1, 60))      # 59 refusals counted
    assert "wrong --hub-key" in r.on_event(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, CRYPTOGRAPHIC, now=5)
    line = r.on_event(*mismatch, now=61)
    assert "does not use CURVE" in line and "(59 more like it since 61 s ago)" in line
    assert r.on_event(zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400, now=200) is None     # ZAP logs those itself
    insecure = RefusedHandshakes(secure=False)
    assert "this hub runs --insecure" in insecure.on_event(*mismatch, now=0)

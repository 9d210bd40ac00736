"""The worker's side: identity + CURVE socket options, the handshake watcher's log lines,
signed RESULT_END bodies and the test-only cheat hook."""

from __future__ import annotations

import logging
import time

import zmq

from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.trust.keys import generate_curve_keypair, parse_worker_key
from cpushare_mq.trust.signing import verify_result
from cpushare_mq.trust.workerside import CHEAT_ENV, WorkerTrust, cheat_factory


def connect_until_logged(trust: WorkerTrust, endpoint: str, caplog, text: str) -> None:
    """Connect a DEALER secured by ``trust`` to ``endpoint`` and wait (10 s at most) until
    the workerside logger has said ``text``; the socket is closed again."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    try:
        with caplog.at_level(logging.ERROR, logger="cpushare_mq.trust.workerside"):
            trust.secure_socket(sock)
            sock.connect(endpoint)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and text not in caplog.text:
                time.sleep(0.05)
    finally:
        sock.close(0)
        time.sleep(0.1)                                       # let the watcher see MONITOR_STOPPED
        ctx.term()


def test_wrong_hub_key_is_logged_clearly(curve_server, tmp_path, caplog):
    wrong = generate_curve_keypair().public.decode()
    w = WorkerTrust.load(tmp_path / "w", wrong)
    connect_until_logged(w, curve_server.endpoint, caplog, "wrong --hub-key")
    assert "wrong --hub-key" in caplog.text
    assert caplog.text.count("wrong --hub-key") == 1          # said once, not per retry


def test_refusal_by_allow_list_is_logged_clearly(curve_server, tmp_path, caplog):
    curve_server.policy.set_allow([])
    w = WorkerTrust.load(tmp_path / "w", curve_server.keys.public.decode())
    connect_until_logged(w, curve_server.endpoint, caplog, "refused this worker's key")
    assert "allow-list" in caplog.text


def test_result_end_body_is_signed_for_both_outcome_forms(tmp_path):
    w = WorkerTrust.load(tmp_path / "w", None)
    pub = parse_worker_key(w.hello_key).sign_public
    sha = "ab" * 32
    for outcome in (OutcomeRecord(Outcome.OK), {"outcome": "ok", "exit_code": 0}):
        body = {"fragment_id": 9, "attempt": 4, "sha256": sha, "outcome": outcome}
        w.sign_result_end(body)
        verify_result(pub, body["signature"], 9, 4, sha, Outcome.OK)


class EchoSandbox:
    def __init__(self, *args):
        self.args = args
        self.closed = False

    def run(self, data, on_chunk=None):
        on_chunk(data)
        return "ok"

    def close(self):
        self.closed = True


def test_cheat_hook_only_when_the_variable_is_set(monkeypatch):
    monkeypatch.delenv(CHEAT_ENV, raising=False)
    assert cheat_factory(EchoSandbox) is EchoSandbox
    monkeypatch.setenv(CHEAT_ENV, "1")
    factory = cheat_factory(EchoSandbox)
    sb = factory("prog", "shared")
    got = []
    assert sb.run(b"pixels", on_chunk=got.append) == "ok"
    assert got and got[0] != b"pixels" and len(got[0]) == 6
    sb.close()
    assert sb.closed and sb.args == ("prog", "shared")      # everything else passes through

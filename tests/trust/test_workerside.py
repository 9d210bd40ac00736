"""The worker's side: identity + CURVE socket options, the handshake watcher's log lines,
signed RESULT_END bodies and the test-only cheat hook."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import zmq

from cpushare_mq.outcome import Outcome, OutcomeRecord
from cpushare_mq.trust.keys import generate_curve_keypair, parse_worker_key
from cpushare_mq.trust.signing import verify_result
from cpushare_mq.trust.workerside import WorkerTrust


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


def test_the_shipped_worker_has_no_way_to_cheat():
    """No environment switch in the package turns a worker into a cheater (the tests make
    cheaters from the outside, tests/trust/cheaters.py)."""
    import cpushare_mq
    root = Path(cpushare_mq.__file__).parent
    hooks = [p for p in root.rglob("*.py") if "CPUSHARE_TEST" in p.read_text()]
    assert hooks == []


def test_the_outside_cheater_lies_with_a_valid_abi(tmp_path):
    from cpushare_mq.native import find_binary
    from cpushare_mq.sandbox import Sandbox, SandboxLimits
    from trust.cheaters import cheating_native_dir

    liar = cheating_native_dir(tmp_path / "liar") / "cpushare-loader"
    with Sandbox(find_binary("examples/echo.elf"), limits=SandboxLimits(cpu_s=5, wall_s=30),
                 loader=liar) as sb:
        rec = sb.run(b"pixels")
        assert rec.outcome == "ok"
        assert sb.last_output == bytes(b ^ 0x5A for b in b"pixels")

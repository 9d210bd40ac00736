"""Fixtures of the trust tests: a CURVE ROUTER with its own context and ZAP handler."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

from cpushare_mq.trust.keys import CurveKeyPair, generate_curve_keypair
from cpushare_mq.trust.zap import KeyPolicy, ZapHandler, make_curve_client, make_curve_server


@dataclass
class CurveServer:
    ctx: zmq.Context
    router: zmq.Socket
    keys: CurveKeyPair
    policy: KeyPolicy
    zap: ZapHandler
    endpoint: str


@pytest.fixture
def curve_server() -> Iterator[CurveServer]:
    ctx = zmq.Context()
    keys = generate_curve_keypair()
    policy = KeyPolicy()
    zap = ZapHandler(ctx, policy).start()
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    make_curve_server(router, keys)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    try:
        yield CurveServer(ctx, router, keys, policy, zap, f"tcp://127.0.0.1:{port}")
    finally:
        router.close(0)
        zap.stop()
        ctx.term()


class Client:
    """A DEALER with a socket monitor, in its own context."""

    def __init__(self, endpoint: str, keys: CurveKeyPair | None, server_public: bytes | None):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        if keys is not None and server_public is not None:
            make_curve_client(self.sock, keys, server_public)
        self.monitor = self.sock.get_monitor_socket()
        self.sock.connect(endpoint)

    def wait_event(self, wanted: set[int], timeout_s: float = 10.0) -> dict | None:
        """The first monitor event in ``wanted`` (None if none came in time)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.monitor.poll(100):
                ev = recv_monitor_message(self.monitor)
                if ev["event"] in wanted:
                    return ev
        return None

    def close(self) -> None:
        self.sock.disable_monitor()
        self.monitor.close(0)
        self.sock.close(0)
        self.ctx.term()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    made: list[Client] = []
    try:
        yield made
    finally:
        for c in made:
            c.close()


@pytest.fixture
def made() -> Iterator[list]:
    """Things with close() to close after the test, last made first."""
    things: list = []
    yield things
    for t in reversed(things):
        t.close()


@pytest.fixture
def procs() -> Iterator[list]:
    """Processes to kill (SIGKILL) and reap after the test."""
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
    for p in started:
        p.wait(10)

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cpushare_mq.hub.api import BuyerApiServer
from cpushare_mq.native import find_binary

from .fakehub import FakeHub, FakeSpec

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def short_tmp():
    """A short temporary directory (Unix socket paths must stay under 108 bytes)."""
    d = tempfile.mkdtemp(prefix="cpsb-")
    try:
        yield Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def fake_hub():
    return FakeHub()


@pytest.fixture
def fake_server(fake_hub, short_tmp):
    """A BuyerApiServer on a Unix socket, serving the in-memory FakeHub."""
    srv = BuyerApiServer(fake_hub, f"unix:{short_tmp}/hub.db.sock", job_spec_factory=FakeSpec).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def real_hub(short_tmp):
    """A real embedded Hub (worker socket on a free loopback port, buyer socket <db>.sock)."""
    from cpushare_mq.hub.server import Hub

    hub = Hub(short_tmp / "hub.db", bind="tcp://127.0.0.1:0").start()
    try:
        yield hub
    finally:
        hub.close()


def start_worker(endpoint: str, cache_dir: Path, slots: int = 1) -> subprocess.Popen:
    log = open(cache_dir.parent / f"worker-{os.getpid()}-{time.monotonic_ns()}.log", "wb")
    return subprocess.Popen([str(VENV_BIN / "cpushare-worker"), "--hub", endpoint, "--insecure",
                             "--slots", str(slots), "--cache-dir", str(cache_dir), "--grace-s", "1"],
                            stdout=log, stderr=subprocess.STDOUT)


def stop_process(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


@pytest.fixture
def worker(real_hub, short_tmp):
    """One real cpushare-worker (2 slots) attached to real_hub."""
    p = start_worker(real_hub.worker_endpoint, short_tmp / "cache", slots=2)
    try:
        yield p
    finally:
        stop_process(p)


@pytest.fixture(scope="session")
def echo_elf() -> Path:
    return find_binary("examples/echo.elf")


@pytest.fixture(scope="session")
def buyer_test() -> Path:
    return find_binary("buyer-test")

"""``cpushare-worker`` as a user types it."""

from __future__ import annotations

import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cpushare_mq.protocol import MsgType
from cpushare_mq.worker.cli import _is_local, parse_size

from .fakes import FakeHub

BIN = Path(sys.executable).parent


def run_cli(*args, timeout=30):
    return subprocess.run([str(BIN / "cpushare-worker"), *args], capture_output=True, text=True,
                          timeout=timeout)


def test_help_has_examples_and_every_option():
    out = run_cli("--help").stdout
    assert "examples:" in out
    for opt in ("--hub", "--slots", "--cache-dir", "--cache-size", "--max-memory", "--when-idle",
                "--idle-threshold", "--json-log", "--insecure", "--status-interval-s", "--grace-s",
                "--hub-key", "--config-dir", "--no-result-batch", "--batch-delay-ms"):
        assert opt in out


@pytest.mark.parametrize("args, needle", [
    (["--hub", "tcp://10.1.2.3:5555"], "--hub-key"),
    (["--hub", "tcp://127.0.0.1:5555", "--hub-key", "not-a-key"], "--hub-key"),
    (["--hub", "tcp://127.0.0.1:5555", "--slots", "0"], "--slots"),
    (["--hub", "tcp://127.0.0.1:5555", "--cache-size", "12X"], "--cache-size"),
    (["--hub", "tcp://127.0.0.1:5555", "--idle-threshold", "150"], "--idle-threshold"),
    (["--hub", "tcp://127.0.0.1:5555", "--grace-s", "-1"], "--grace-s"),
    (["--hub", "tcp://127.0.0.1:5555", "--batch-delay-ms", "-1"], "--batch-delay-ms"),
    (["--hub", "tcp://127.0.0.1:5555", "--batch-delay-ms", "nan"], "--batch-delay-ms"),
    (["--hub", "http://127.0.0.1:5555"], "tcp://HOST:PORT"),
    ([], "--hub"),
])
def test_bad_arguments_are_named(args, needle):
    p = run_cli(*args)
    assert p.returncode == 2
    assert needle in p.stderr


def test_sizes_and_local_endpoints():
    assert parse_size("1048576") == 1 << 20
    assert parse_size("512M") == 512 << 20
    assert parse_size("2GiB") == 2 << 30
    assert parse_size("1.5k") == 1536
    assert _is_local("tcp://127.0.0.1:5555") and _is_local("tcp://[::1]:1") and _is_local("ipc:///x")
    assert not _is_local("tcp://192.168.1.2:5555") and not _is_local("tcp://127.0.0.1.evil:1")


def test_second_signal_forces_exit_and_hands_everything_back(tmp_path, spin_elf):
    long_frag = struct.pack("<I", 4_000_000_000) + b"forever"      # minutes of CPU
    hub = FakeHub([long_frag, long_frag], program=spin_elf.read_bytes())
    hub.start()
    p = subprocess.Popen([str(BIN / "cpushare-worker"), "--hub", hub.endpoint, "--slots", "2",
                          "--prefetch", "0", "--cache-dir", str(tmp_path / "c"), "--grace-s", "60"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert hub.wait(lambda: len(hub.leased) == 2, timeout=20)
        # both fragments running, in sandboxes at idle priority
        def sandboxes():
            return [c for c in psutil.Process(p.pid).children(recursive=True)]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
                len(sandboxes()) == 2 and all(c.nice() == 19 for c in sandboxes())):
            time.sleep(0.05)
        assert len(sandboxes()) == 2 and all(c.nice() == 19 for c in sandboxes())
        kids = sandboxes()
        p.send_signal(signal.SIGINT)                  # warm: keeps running within the grace
        time.sleep(1.0)
        assert p.poll() is None and not hub.released
        p.send_signal(signal.SIGINT)                  # forced
        assert p.wait(15) == 1
        assert hub.wait(lambda: len(hub.released) == 2 and hub.messages(MsgType.BYE))
        gone, alive = psutil.wait_procs(kids, timeout=5)
        assert not alive, "sandboxes survived the forced shutdown"
        assert "Traceback" not in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
        hub.stop()

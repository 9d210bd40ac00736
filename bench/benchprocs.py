"""Worker processes for the benchmarks: start N real `cpushare-worker`s against a hub, wait
until they joined, stop them (warm, then forced)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def start_workers(endpoint: str, tmp: Path, n: int, slots: int, extra=(),
                  identities: bool = False) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        log = open(tmp / f"worker-{i}.log", "ab")
        ident = ["--config-dir", str(tmp / f"id-{i}")] if identities else []
        procs.append(subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", endpoint, "--slots", str(slots),
             "--name", f"w{i}", "--cache-dir", str(tmp / f"cache-{i}"), *ident, *extra],
            stdout=log, stderr=subprocess.STDOUT))
        log.close()
    return procs


def stop_all(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_workers(hub, n: int, timeout_s: float = 20):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sum(1 for w in hub.status()["workers"] if w["alive"]) >= n:
            return
        time.sleep(0.05)
    raise SystemExit(f"workers did not join within {timeout_s:g} s")

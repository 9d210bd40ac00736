"""A hub and workers started exactly as the README says (keys on, no test-only switches),
and the buyer's CLI, for end-to-end trust tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from waiting import wait_for

BIN = Path(sys.executable).parent


class CliHub:
    """``cpushare-hub serve`` on loopback with its keys, plus ``cpushare-worker`` processes."""

    def __init__(self, root: Path):
        self.root = root
        self.db = root / "hub.db"
        self.sock = root / "hub.db.sock"
        self.procs: list[subprocess.Popen] = []
        log = open(root / "hub.log", "wb")  # noqa: SIM115 - closed with the process
        self.hub = subprocess.Popen(
            [str(BIN / "cpushare-hub"), "serve", "--db", str(self.db),
             "--bind", "tcp://127.0.0.1:0", "--api", f"unix:{self.sock}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append(self.hub)
        wait_for(lambda: re.search(rb"serving workers on (tcp://\S+)", self.log()), 30,
                 "the hub's endpoint in its log")
        self.endpoint = re.search(rb"serving workers on (tcp://\S+)", self.log())[1].decode()
        self.hub_pub = root / "hub.keys" / "hub.pub"   # the hub makes its keys on first start
        self.workers: dict[str, subprocess.Popen] = {}

    def log(self) -> bytes:
        return (self.root / "hub.log").read_bytes()

    def start_worker(self, name: str, env: dict | None = None) -> subprocess.Popen:
        out = open(self.root / f"{name}.log", "wb")  # noqa: SIM115
        p = subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", self.endpoint, "--hub-key", str(self.hub_pub),
             "--slots", "1", "--name", name, "--cache-dir", str(self.root / f"cache-{name}"),
             "--config-dir", str(self.root / f"id-{name}")],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        out.close()
        self.procs.append(p)
        self.workers[name] = p
        return p

    def cli(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "cpushare"), *args, "--api", str(self.sock)],
                              capture_output=True, text=True, timeout=timeout_s)

    def status(self) -> dict:
        proc = self.cli("status", "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def alive(self) -> set[str]:
        return {w["name"] for w in self.status()["workers"] if w["alive"]}

    def wait_workers(self, names: set[str]) -> None:
        def connected() -> bool:
            for name in names:
                if self.workers[name].poll() is not None:
                    log = (self.root / f"{name}.log").read_text(errors="replace")
                    raise AssertionError(f"worker {name} exited:\n{log[-2000:]}")
            return names <= self.alive()
        wait_for(connected, 60, f"workers {sorted(names)} connected")

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)

"""A real ``cpushare-hub serve`` process on loopback, as a user starts it, plus helpers to
watch it from the outside (alive, RSS)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
ATTACKER = Path(__file__).with_name("attacker.py")


class HubProcess:
    def __init__(self, tmp: Path, *, insecure: bool, extra: tuple[str, ...] = ()):
        self.db = tmp / "hub.db"
        self.log = tmp / "hub.log"
        args = [str(BIN / "cpushare-hub"), "serve", "--db", str(self.db),
                "--bind", "tcp://127.0.0.1:0", "--api", str(tmp / "api.sock"), *extra]
        if insecure:
            args.append("--insecure")
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=logf)
        self.endpoint, self.public_key = self._wait_ready(insecure)
        self.api = str(tmp / "api.sock")

    def _wait_ready(self, insecure: bool) -> tuple[str, str | None]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            ep = re.findall(r"serving workers on (tcp://\S+)", text)
            key = re.findall(r"hub public key \(give it to workers\): (\S+)", text)
            if ep and (insecure or key):
                return ep[-1], (None if insecure else key[-1])
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited at start: {text}")
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"hub did not start: {self.log.read_text()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_bytes(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def run_attack(name: str, hub: HubProcess, *args: str, timeout_s: float = 120) -> None:
    cmd = [sys.executable, str(ATTACKER), name, hub.endpoint, hub.public_key or "", *args]
    subprocess.run(cmd, timeout=timeout_s, check=True)

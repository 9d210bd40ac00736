"""`cpushare-hub serve --web` as a user starts it, for the dashboard tests."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

EXE = Path(sys.executable).parent / "cpushare-hub"


def start_hub(tmp: Path, web: bool = True) -> tuple[subprocess.Popen, Path, str]:
    db = tmp / "hub.db"
    log = tmp / "hub.log"
    with open(log, "ab") as logf:
        proc = subprocess.Popen([str(EXE), "serve", "--db", str(db), "--bind",
                                 "tcp://127.0.0.1:0", "--insecure", *(["--web", "127.0.0.1:0"] if web else []),
                                 # the fake worker is silent while the browser works: a
                                 # minute of silence before it counts as dead
                                 "--heartbeat-interval-s", "5", "--liveness", "12"],
                                stdout=subprocess.DEVNULL, stderr=logf)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        ep = re.findall(r"serving workers on (tcp://\S+)", text)
        url = re.findall(r"dashboard at (http://\S+)", text)
        if ep and (url or not web):
            return proc, db, ep[-1]
        if proc.poll() is not None:
            raise AssertionError(f"hub exited: {text}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"hub did not start: {log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def status_of(url: str, method: str = "GET", headers: dict | None = None) -> int:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code



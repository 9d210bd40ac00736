"""Helpers of the chaos tests: real hub / worker / buyer processes, signals, the hub's
database read back, and cleanup that leaves nothing running.

Everything here drives the programs as a user would (``cpushare-hub serve``,
``cpushare-worker``, the Python :class:`cpushare_mq.Client`); nothing reaches inside them.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psutil
from waiting import wait_for  # noqa: F401 (re-exported to the chaos tests)

HERE = Path(__file__).resolve().parent
PY = sys.executable
HUB_CMD = [PY, "-c", "import sys; from cpushare_mq.hub.cli import main; sys.exit(main())"]
WORKER_CMD = [PY, "-c", "import sys; from cpushare_mq.worker.cli import main; sys.exit(main())"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack("<I", len(payload)) + kind + payload


def slow_fragment(iters: int, tag: bytes) -> bytes:
    return struct.pack("<Q", iters) + tag


def native_results(elf: Path, fragments: list[bytes], shared: bytes = b"") -> list[bytes]:
    """Run the (static, freestanding) program natively on every fragment: the reference."""
    stream = frame(b"S", shared) + b"".join(frame(b"F", f) for f in fragments)
    out = subprocess.run([str(elf)], input=stream, capture_output=True, check=True, timeout=120).stdout
    results, cur, pos = [], b"", 0
    while pos < len(out):
        (n,), kind = struct.unpack_from("<I", out, pos), out[pos + 4:pos + 5]
        payload = out[pos + 5:pos + 5 + n]
        pos += 5 + n
        if kind == b"D":
            cur += payload
        elif kind == b"E":
            results.append(cur)
            cur = b""
        else:
            raise RuntimeError(f"unexpected frame {kind!r} from {elf}")
    return results


class Procs:
    """Every process a test starts; :meth:`cleanup` kills them and their descendants
    (sandboxes included, even those orphaned by a SIGKILLed worker)."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[subprocess.Popen] = []
        self.extra: set[int] = set()

    def start(self, cmd: list[str], name: str, netns: str | None = None, **kw) -> subprocess.Popen:
        if netns is not None:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        log = open(self.logdir / f"{name}.log", "ab")
        kw.setdefault("cwd", str(self.logdir))
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **kw)
        log.close()
        p.name = name  # type: ignore[attr-defined]
        self.procs.append(p)
        return p

    def log(self, name: str) -> str:
        try:
            return (self.logdir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def remember_tree(self, p: subprocess.Popen) -> list[psutil.Process]:
        try:
            kids = psutil.Process(p.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        self.extra.update(k.pid for k in kids)
        return kids

    def signal(self, p: subprocess.Popen, sig: int, tree: bool = False) -> None:
        kids = self.remember_tree(p)
        targets = [p.pid] + ([k.pid for k in kids] if tree else [])
        for pid in targets:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def cleanup(self) -> None:
        for p in self.procs:
            self.remember_tree(p)
        pids = [p.pid for p in self.procs if p.poll() is None] + sorted(self.extra)
        for pid in pids:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass


def start_hub(procs: Procs, db: Path, bind: str, api: str, name: str = "hub",
              netns: str | None = None, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    p = procs.start([*HUB_CMD, "serve", "--db", str(db), "--bind", bind, "--api", api,
                     "--insecure", *extra], name, netns)
    wait_for(lambda: _api_up(api) or p.poll() is not None, 30, "hub API socket")
    if p.poll() is not None:
        raise RuntimeError(f"hub exited {p.returncode}: {procs.log(name)[-2000:]}")
    return p


def _api_up(api: str) -> bool:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(api)
        return True
    except OSError:
        return False
    finally:
        s.close()


def start_worker(procs: Procs, endpoint: str, name: str, cache: Path, netns: str | None = None,
                 slots: int = 1) -> subprocess.Popen:
    return procs.start([*WORKER_CMD, "--hub", endpoint, "--insecure", "--slots", str(slots),
                        "--name", name, "--cache-dir", str(cache), "--nice", "0",
                        "--grace-s", "5"], name, netns)



def db_report(db: Path, job_id: str) -> dict:
    """What the hub's database says about one job (read-only connection)."""
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        frags = c.execute("SELECT id, idx, state, seq, result_attempt FROM fragments "
                          "WHERE job_id=?", (job_id,)).fetchall()
        attempts = c.execute("SELECT fragment_id, attempt, worker_id, end FROM attempts "
                             "WHERE job_id=?", (job_id,)).fetchall()
        result_rows = c.execute(
            "SELECT DISTINCT r.fragment_id, r.attempt FROM results r JOIN fragments f "
            "ON f.id = r.fragment_id WHERE f.job_id=?", (job_id,)).fetchall()
    finally:
        c.close()
    votes = Counter(fid for fid, _a, _w, end in attempts if end == "vote")
    ends = Counter(end for *_x, end in attempts)
    seqs = [s for _i, _x, _st, s, _r in frags if s is not None]
    stored = Counter(fid for fid, _a in result_rows)
    return {
        "total": len(frags),
        "states": Counter(st for _i, _x, st, _s, _r in frags),
        "seq_unique": len(seqs) == len(set(seqs)),
        "accepted_once": all(votes[fid] == 1 for fid, *_x in frags),
        "votes_per_fragment": Counter(votes[fid] for fid, *_x in frags),
        "stored_result_attempts": Counter(stored[fid] for fid, *_x in frags),
        "result_attempt_matches": all(
            (fid, ra) in set(result_rows) for fid, _i, st, _s, ra in frags if st == "DONE"),
        "attempt_ends": ends,
        # runs that may have executed: everything but leases handed back unrun
        "executions": sum(n for end, n in ends.items() if end != "released"),
    }

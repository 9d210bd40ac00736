#!/usr/bin/env python3
"""1,000 simulated workers against one real hub: heartbeat load, dispatch rate, reassignment.

The hub is a real ``cpushare-hub serve`` process (SQLite, synchronous FULL). The workers are
lightweight: a few processes, each driving many ZeroMQ DEALER sockets from one poll loop
and speaking the real protocol (``cpushare_mq.protocol`` encode/decode, with validation):
HELLO, READY, HEARTBEAT, RESULT_END with a zstd chunk, ACK, CANCEL. A simulated worker
"runs" a fragment instantly (its result is its input) unless the input starts with b"HOLD",
which it keeps until cancelled -- that is how the reassignment phase holds leases.

Phases:
  1. join + idle: every worker joins, then the hub carries only heartbeats for --idle-s:
     hub CPU, RSS and messages per second.
  2. dispatch: a job of --fragments tiny fragments spread over all workers: fragments/s.
  3. reassignment: --hold fragments held by workers, then one simulator process (1/--procs
     of the workers) gets SIGKILL: time until every fragment it held is leased again.

examples:
  .venv/bin/python bench/sim_1000_workers.py                      # 1,000 workers, 4 processes
  .venv/bin/python bench/sim_1000_workers.py --workers 200 --procs 2 --fragments 20000
  .venv/bin/python bench/sim_1000_workers.py --json sim.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- child
def child(endpoint: str, first: int, count: int, report_every_s: float) -> None:
    """Run ``count`` simulated workers (names sim<first>...) until killed or stdin closes."""
    import zmq

    from cpushare_mq.outcome import Outcome, OutcomeRecord
    from cpushare_mq.protocol import MsgType, compress_chunk, decode, encode

    ctx = zmq.Context(io_threads=1)
    ctx.setsockopt(zmq.MAX_SOCKETS, count + 64)
    ok = OutcomeRecord(Outcome.OK, exit_code=0, cpu_s=0.0, wall_s=0.0).to_dict()
    poller = zmq.Poller()
    socks: list = []
    by_sock: dict = {}
    interval = [0.5] * count
    last_sent = [0.0] * count
    held: list[dict] = [dict() for _ in range(count)]   # (fid, attempt) -> True
    stats = {"sent": 0, "recv": 0, "leases": 0, "results": 0, "heartbeats": 0, "errors": 0}

    def send(i: int, mtype, body=None, blobs=()):
        socks[i].send_multipart(encode(mtype, body or {}, blobs), copy=False)
        last_sent[i] = time.monotonic()
        stats["sent"] += 1

    def hello(i: int):
        send(i, MsgType.HELLO, {"worker_version": "sim-1", "abi_version": 1, "slots": 1,
                                "name": f"sim{first + i}", "held": []})

    for i in range(count):
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 10000)
        s.connect(endpoint)
        socks.append(s)
        by_sock[s] = i
        poller.register(s, zmq.POLLIN)
        hello(i)
    out = sys.stdout
    next_report = time.monotonic() + report_every_s
    stdin_closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stdin_closed.set()), daemon=True).start()
    while not stdin_closed.is_set():
        for s, _ in poller.poll(50):
            i = by_sock[s]
            while True:
                try:
                    frames = s.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                stats["recv"] += 1
                try:
                    msg = decode(frames)
                except Exception:   # noqa: BLE001 - count, keep going
                    stats["errors"] += 1
                    continue
                t = msg.type
                if t is MsgType.WELCOME:
                    interval[i] = msg["heartbeat_interval_s"]
                    send(i, MsgType.READY, {"credit": 1})
                elif t is MsgType.LEASE:
                    now = time.time()
                    for lease, data in zip(msg["leases"], msg.blobs, strict=True):
                        stats["leases"] += 1
                        fid, att = lease["fragment_id"], lease["attempt"]
                        if data.startswith(b"HOLD"):
                            held[i][(fid, att)] = True
                            out.write(json.dumps({"ev": "lease", "t": now, "idx": lease["index"],
                                                  "attempt": att, "w": first + i}) + "\n")
                            continue
                        send(i, MsgType.RESULT_END, {
                            "fragment_id": fid, "attempt": att, "chunks": 1,
                            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                            "outcome": ok}, [compress_chunk(data)])
                        stats["results"] += 1
                    out.flush()
                elif t is MsgType.ACK:
                    send(i, MsgType.READY, {"credit": len(msg["results"])})
                elif t is MsgType.CANCEL:
                    n = 0
                    for fid, att in msg["leases"]:
                        if held[i].pop((fid, att), None):
                            n += 1
                    if n:
                        send(i, MsgType.READY, {"credit": n})
                elif t is MsgType.ERROR:
                    stats["errors"] += 1
                    if msg["code"] == "unknown_worker":
                        hello(i)
        now = time.monotonic()
        for i in range(count):
            if now - last_sent[i] >= interval[i]:
                send(i, MsgType.HEARTBEAT)
                stats["heartbeats"] += 1
        if now >= next_report:
            next_report = now + report_every_s
            out.write(json.dumps({"ev": "stats", "t": time.time(), **stats}) + "\n")
            out.flush()
    for s in socks:
        s.close(0)
    ctx.term()


# ----------------------------------------------------------------------------- parent
class Sim:
    def __init__(self, endpoint: str, workers: int, procs: int):
        self.procs: list[subprocess.Popen] = []
        self.events: list[dict] = []
        self.stats: dict[int, dict] = {}
        self.lock = threading.Lock()
        per = [workers // procs + (1 if k < workers % procs else 0) for k in range(procs)]
        first = 0
        for k, n in enumerate(per):
            p = subprocess.Popen([sys.executable, __file__, "--child", endpoint, str(first), str(n)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 cwd=str(REPO))
            p.first, p.count = first, n  # type: ignore[attr-defined]
            threading.Thread(target=self._read, args=(k, p), daemon=True).start()
            self.procs.append(p)
            first += n

    def _read(self, k: int, p: subprocess.Popen) -> None:
        for line in p.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                if ev["ev"] == "stats":
                    self.stats[k] = ev
                else:
                    self.events.append(ev)

    def total(self, key: str) -> int:
        with self.lock:
            return sum(s.get(key, 0) for s in self.stats.values())

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout_s: float, what: str, poll_s: float = 0.1):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(poll_s)
    raise TimeoutError(f"{what} did not happen within {timeout_s:g} s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=4, help="simulator processes")
    ap.add_argument("--idle-s", type=float, default=10.0)
    ap.add_argument("--fragments", type=int, default=50_000)
    ap.add_argument("--hold", type=int, default=500,
                    help="fragments held in phase 3 (at most half the workers: the rest take over)")
    ap.add_argument("--join-rate-per-s", type=float, default=1000.0,
                    help="the hub's --join-rate-per-s (all simulated workers share one "
                         "address; the hub's default of 10 would make joining take minutes)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child[0], int(a.child[1]), int(a.child[2]), 1.0)
        return 0

    import psutil

    from cpushare_mq import Client

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"sim1000-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    api = str(tmp / "hub.sock")
    hub = subprocess.Popen([sys.executable, "-c", "import sys; from cpushare_mq.hub.cli import main; "
                            "sys.exit(main())", "serve", "--db", str(tmp / "hub.db"), "--bind", endpoint,
                            "--api", api, "--insecure", "-q",
                            "--join-rate-per-s", str(a.join_rate_per_s)], cwd=str(tmp),
                           stderr=open(tmp / "hub.log", "w"))
    res: dict = {"workers": a.workers, "sim_processes": a.procs,
                 "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "machine": f"{os.cpu_count()}-core, load before {os.getloadavg()[0]:.2f}"}
    sim = None
    try:
        wait_for(lambda: os.path.exists(api), 30, "hub start")
        hp = psutil.Process(hub.pid)
        client = Client(api)
        rss_empty = hp.memory_info().rss
        t0 = time.monotonic()
        sim = Sim(endpoint, a.workers, a.procs)

        def alive():
            return sum(w["alive"] for w in client.status()["workers"])

        wait_for(lambda: alive() >= a.workers, 120, f"{a.workers} workers joining", 0.5)
        res["join_s"] = round(time.monotonic() - t0, 2)
        time.sleep(2.0)
        # 1. heartbeats only
        hp.cpu_percent()
        sent0, recv0 = sim.total("sent"), sim.total("recv")
        time.sleep(a.idle_s)
        cpu = hp.cpu_percent()
        sent1, recv1 = sim.total("sent"), sim.total("recv")
        res["idle"] = {"seconds": a.idle_s, "hub_cpu_percent": round(cpu, 1),
                       "worker_to_hub_msgs_per_s": round((sent1 - sent0) / a.idle_s),
                       "hub_to_worker_msgs_per_s": round((recv1 - recv0) / a.idle_s),
                       "hub_rss_bytes": hp.memory_info().rss,
                       "hub_rss_per_worker_bytes": round((hp.memory_info().rss - rss_empty) / a.workers),
                       "workers_alive": alive()}
        print("idle:", res["idle"], file=sys.stderr, flush=True)
        # 2. dispatch
        frags = [b"%08d" % i + b"x" * 92 for i in range(a.fragments)]
        hp.cpu_percent()
        t0 = time.monotonic()
        job = client.submit(b"\x7fELF-sim", frags, name="sim-dispatch")
        t_sub = time.monotonic() - t0
        wait_for(lambda: client.progress(job.id)["done"] >= a.fragments, 300, "dispatch job", 0.05)
        dt = time.monotonic() - t0
        cpu = hp.cpu_percent()
        per_worker = [w["done"] for w in client.status()["workers"] if w["alive"]]
        res["dispatch"] = {"fragments": a.fragments, "submit_s": round(t_sub, 2), "seconds": round(dt, 2),
                           "fragments_per_s": round(a.fragments / dt), "hub_cpu_percent": round(cpu, 1),
                           "workers_used": sum(1 for d in per_worker if d > 0),
                           "per_worker_min_max": [min(per_worker), max(per_worker)]}
        print("dispatch:", res["dispatch"], file=sys.stderr, flush=True)
        job.cancel()
        job.close()
        # 3. reassignment: hold fragments, kill one simulator process
        a.hold = min(a.hold, a.workers // 2)
        job = client.submit(b"\x7fELF-sim", [b"HOLD%06d" % i for i in range(a.hold)],
                            name="sim-hold", max_attempts=10)
        wait_for(lambda: client.progress(job.id)["leased"] >= a.hold, 60, "hold leases", 0.1)
        time.sleep(1.0)
        victim = sim.procs[0]
        with sim.lock:
            lost = {e["idx"] for e in sim.events
                    if e["ev"] == "lease" and victim.first <= e["w"] < victim.first + victim.count}
        t_kill = time.time()
        victim.kill()
        victim.wait()

        def reassigned():
            with sim.lock:
                got = {e["idx"]: e["t"] for e in sim.events
                       if e["ev"] == "lease" and e["attempt"] > 0 and e["t"] >= t_kill}
            return got if lost <= set(got) else None

        got = wait_for(reassigned, 60, "reassignment of the killed workers' fragments", 0.05)
        delays = sorted(got[i] - t_kill for i in lost)
        res["reassignment"] = {"killed_workers": victim.count, "fragments_held": len(lost),
                               "first_s": round(delays[0], 3), "median_s": round(statistics.median(delays), 3),
                               "last_s": round(delays[-1], 3),
                               "liveness_limit_s": 1.5}
        print("reassignment:", res["reassignment"], file=sys.stderr, flush=True)
        job.cancel()
        job.close()
        client.close()
        res["hub_log_errors"] = [ln for ln in (tmp / "hub.log").read_text().splitlines()
                                 if "ERROR" in ln][:5]
    finally:
        if sim is not None:
            sim.close()
        hub.terminate()
        try:
            hub.wait(15)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    print(json.dumps(res, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

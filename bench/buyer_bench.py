#!/usr/bin/env python3
"""Buyer API benchmark: how fast the buyer socket takes jobs in and hands results out.

    .venv/bin/python bench/buyer_bench.py            # all parts (~1 min on 2 cores)
    .venv/bin/python bench/buyer_bench.py --quick

Parts:
  submit   Python Client.submit of N small fragments to the buyer socket (in-memory hub,
           so only the protocol + socket + server are measured)
  deliver  results/s handed out by the buyer socket to the Python client (batches of 64)
           and to the C client (c/build/buyer-test: one result per round trip)
  stream   MB/s of one big result streamed in 1 MiB chunks
  e2e      real Hub + 1 real cpushare-worker (2 slots), echo.elf: submit -> all results in
The goal: the buyer API must not be the bottleneck of a hub built for >= 20,000
fragments/s (hub issue), so submit and deliver should each exceed that.
"""

from __future__ import annotations

import argparse
import bisect
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchprocs import start_workers, stop_all  # noqa: E402

from cpushare_mq.client import Client  # noqa: E402
from cpushare_mq.hub.api import BuyerApiServer  # noqa: E402
from cpushare_mq.native import find_binary  # noqa: E402


@dataclass(frozen=True)
class Spec:
    program: bytes
    fragments: list
    shared_input: bytes = b""
    redundancy: int = 1
    quorum: int | None = None
    cpu_s: float = 60.0
    wall_s: float = 300.0
    max_attempts: int = 5
    max_output_bytes: int = 1 << 30
    priority: int = 0
    name: str = ""


@dataclass(frozen=True)
class Fin:
    """The fields of the hub's FinishedFragment the buyer socket reads."""

    seq: int
    index: int
    fragment_id: int
    ok: bool
    size: int
    reason: str
    data: bytes | None = None    # the result itself (None: read result_chunks)
    name: str = ""


class InstantHub:
    """Every fragment is finished (echoed) the moment the job is submitted."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs, self.results, self.cursors = {}, {}, {}
        self.seq = 0
        self.big: bytes | None = None   # when set, every result is this (a big-result test)

    def submit_job(self, spec):
        with self.lock:
            jid = f"j{len(self.jobs)}"
            fins, seqs = [], []
            for i, f in enumerate(spec.fragments):
                self.seq += 1
                self.results[(jid, i)] = self.big if self.big is not None else bytes(f)
                fins.append(Fin(self.seq, i, i, True, len(self.results[(jid, i)]), ""))
                seqs.append(self.seq)
            self.jobs[jid] = (spec, fins, seqs)
            self.cursors[jid] = 0
            self._last = jid
            return jid

    def job_progress(self, jid):
        spec, fins, _ = self.jobs[jid]
        n = len(spec.fragments)
        return {"job_id": jid, "name": spec.name, "state": "done", "total": n, "pending": 0, "leased": 0,
                "voting": 0, "done": n, "failed": 0, "failures": []}

    def job_ended(self, jid):
        return True                      # every fragment finished at submission

    def fragment_seq(self, fid):
        return None                      # never re-verified here

    def finished(self, jid, after, limit=1000):
        _, fins, seqs = self.jobs[jid]
        i = bisect.bisect_right(seqs, after)
        return fins[i:i + limit]

    def wait_for_change(self, jid, after, timeout_s):
        return self.jobs[jid][2][-1]

    def result_chunks(self, fid):
        # fragment ids are per job here; benchmark uses one job per server
        yield self.results[(self._last, fid)]

    def get_cursor(self, jid):
        return self.cursors[jid]

    def set_cursor(self, jid, seq):
        self.cursors[jid] = seq

    def cancel_job(self, jid):
        pass

    def status(self):
        return {"jobs": [], "workers": [], "throughput_per_s": 0.0}


def with_server(fn):
    d = tempfile.mkdtemp(prefix="cpsb-bench-")
    hub = InstantHub()
    srv = BuyerApiServer(hub, f"unix:{d}/hub.sock", job_spec_factory=Spec).start()
    try:
        return fn(hub, srv.address, Path(d))
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)


def bench_submit(n):
    frags = [os.urandom(100) for _ in range(n)]

    def run(hub, addr, d):
        with Client(addr) as c:
            t = time.perf_counter()
            c.submit(b"\x7fELF", frags)
            return time.perf_counter() - t
    dt = with_server(run)
    print(f"submit   {n} x 100 B fragments: {dt:.3f} s = {n / dt:,.0f} fragments/s")
    return n / dt


def bench_deliver_python(n):
    frags = [os.urandom(100) for _ in range(n)]

    def run(hub, addr, d):
        with Client(addr) as c:
            job = c.submit(b"\x7fELF", frags)
            t = time.perf_counter()
            k = sum(1 for _ in job.results())
            dt = time.perf_counter() - t
            assert k == n
            return dt
    dt = with_server(run)
    print(f"deliver  Python client, {n} x 100 B results: {dt:.3f} s = {n / dt:,.0f} results/s")
    return n / dt


def bench_deliver_c(n):
    frags = [os.urandom(100) for _ in range(n)]
    exe = find_binary("buyer-test")

    def run(hub, addr, d):
        with Client(addr) as c:
            job = c.submit(b"\x7fELF", frags)
        t = time.perf_counter()
        p = subprocess.run([str(exe), "-a", addr, "-j", job.id], capture_output=True, text=True, timeout=600)
        dt = time.perf_counter() - t
        assert p.returncode == 0 and f"finished {n}" in p.stdout, p.stderr
        return dt
    dt = with_server(run)
    print(f"deliver  C client (up to 64 results per NEXT), {n} results: {dt:.3f} s = {n / dt:,.0f} results/s")
    return n / dt


def bench_stream(mb):
    big = os.urandom(mb << 20)

    def run(hub, addr, d):
        hub.big = big
        with Client(addr) as c:
            job = c.submit(b"\x7fELF", [b"x"])
            t = time.perf_counter()
            total = 0
            for _i, chunks in job.results_stream():
                for ch in chunks:
                    total += len(ch)
            dt = time.perf_counter() - t
            assert total == len(big)
            return dt
    dt = with_server(run)
    print(f"stream   one {mb} MiB result: {dt:.3f} s = {mb / dt:,.0f} MiB/s")
    return mb / dt


def bench_e2e(n):
    from cpushare_mq.hub.server import Hub

    d = Path(tempfile.mkdtemp(prefix="cpsb-e2e-"))
    hub = Hub(d / "hub.db", bind="tcp://127.0.0.1:0").start()
    w = start_workers(hub.worker_endpoint, d, 1, 2, ["--insecure"])
    try:
        prog = find_binary("examples/echo.elf").read_bytes()
        with Client(hub.api_address) as c:
            frags = [f"fragment {i}".encode() for i in range(n)]
            t = time.perf_counter()
            job = c.submit(prog, frags)
            first = None
            k = 0
            for _ in job.results():
                k += 1
                if first is None:
                    first = time.perf_counter() - t
            dt = time.perf_counter() - t
        assert k == n
        print(f"e2e      real hub + 1 worker (2 slots), {n} echo fragments: {dt:.2f} s = {n / dt:,.0f} "
              f"fragments/s; first result after {first * 1000:.0f} ms")
        return n / dt
    finally:
        stop_all(w)
        hub.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    args = ap.parse_args()
    n = 20_000 if args.quick else 100_000
    bench_submit(n)
    bench_deliver_python(n)
    bench_deliver_c(n // 5)
    bench_stream(64 if args.quick else 256)
    bench_e2e(500 if args.quick else 2000)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Hub memory per queued fragment: RSS of a hub serving a job of N queued fragments, minus
the RSS of the same hub serving a job of 1 fragment. Each hub runs in a fresh process; the
jobs are written by another process first, so the buyer's own copy of the fragments is
not counted. Goal: <= 200 bytes of RSS per queued fragment.

    .venv/bin/python bench/hub_memory.py                 # 1,000,000 fragments
    .venv/bin/python bench/hub_memory.py -n 200000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time, psutil
from cpushare_mq.hub.server import Hub
from cpushare_mq.protocol import MsgType, encode, decode
import zmq
hub = Hub(sys.argv[1], bind="tcp://127.0.0.1:0", api="").start()
# a worker joins and takes a few leases, so the pending window is really loaded
ctx = zmq.Context(); s = ctx.socket(zmq.DEALER); s.connect(hub.worker_endpoint)
s.send_multipart(encode(MsgType.HELLO, {"worker_version": "m", "abi_version": 1, "slots": 8}))
decode(s.recv_multipart())
s.send_multipart(encode(MsgType.READY, {"credit": 8}))
while decode(s.recv_multipart()).type is not MsgType.LEASE:
    pass
time.sleep(0.5)
rss = psutil.Process().memory_info().rss
jobs = hub.status()["jobs"]
s.close(0); ctx.term(); hub.close()
print(json.dumps({"rss": rss, "jobs": jobs}))
"""


def make_db(path: str, n: int) -> float:
    code = (
        "import sys, time\n"
        "from cpushare_mq.hub.store import Store\n"
        "from cpushare_mq.hub.scheduler import JobSpec\n"
        "class Frags:\n"
        "    def __init__(self, n): self.n = n\n"
        "    def __len__(self): return self.n\n"
        "    def __iter__(self): return (b'%012d' % i for i in range(self.n))\n"
        "s = Store(sys.argv[1], synchronous='NORMAL')\n"
        "t = time.perf_counter()\n"
        f"s.add_job(JobSpec(program=b'prog', fragments=Frags({n})), time.time())\n"
        "print(time.perf_counter() - t)\n")
    out = subprocess.run([sys.executable, "-c", code, path], check=True, capture_output=True, text=True)
    return float(out.stdout)


def hub_rss(path: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, path], check=True, capture_output=True,
                         text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--fragments", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        small, big = os.path.join(d, "small.db"), os.path.join(d, "big.db")
        make_db(small, 1)
        t_submit = make_db(big, args.fragments)
        base = hub_rss(small)
        t0 = time.perf_counter()
        loaded = hub_rss(big)
        t_start = time.perf_counter() - t0
    per = (loaded["rss"] - base["rss"]) / args.fragments
    print(json.dumps({
        "fragments": args.fragments, "rss_small_job_bytes": base["rss"],
        "rss_big_job_bytes": loaded["rss"], "bytes_per_queued_fragment": round(per, 1),
        "goal_bytes": 200, "ratio_to_goal": round(per / 200, 3),
        "store_submit_s": round(t_submit, 2), "hub_start_and_first_lease_s": round(t_start, 2),
        "pending_seen_by_hub": loaded["jobs"][0]["pending"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Hub dispatch throughput: fragments leased, resulted and committed per second.

A real Hub (ROUTER loop, scheduler, SQLite store with the chosen durability) serves one job
of N tiny fragments to fake workers that answer every lease at once with a fixed result.
The fake workers run in a separate process (so the figure is the hub's, not the workers'),
speak the real protocol and build their frames cheaply.

    .venv/bin/python bench/hub_bench.py                      # 100,000 fragments, FULL sync
    .venv/bin/python bench/hub_bench.py -n 200000 --durability NORMAL --workers 8
    .venv/bin/python bench/hub_bench.py --dashboard 3   # 3 pairs: without / with the dashboard
    .venv/bin/python bench/hub_bench.py -n 20000 --ledger   # with signed receipts (issue 19)

With ``--dashboard PAIRS`` the job is a picture (each fragment a 1x1 tile of a 400x250 image,
each result 3 RGB bytes) and the same run alternates hubs without and with the web dashboard,
with two pages open on it in a separate "browser" process (the overview's and the job's
event streams, read as fast as they come: the live image receives every tile).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time

import zmq

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub, HubConfig
from cpushare_mq.protocol import MAGIC, PROTOCOL_VERSION, MsgType, compress_chunk, decode, encode

RESULT = b"ok"


def worker_proc(endpoint: str, n_workers: int, credit: int, stop_evt, result: bytes = RESULT) -> None:
    ctx = zmq.Context()
    socks = []
    for i in range(n_workers):
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 0)
        s.setsockopt(zmq.RCVHWM, 0)
        s.connect(endpoint)
        s.send_multipart(encode(MsgType.HELLO, {"worker_version": "bench", "abi_version": 1,
                                                "slots": credit, "name": f"bench{i}"}))
        socks.append(s)
    for s in socks:
        decode(s.recv_multipart())                   # WELCOME
        s.send_multipart(encode(MsgType.READY, {"credit": credit}))
    end_header = MAGIC + bytes([PROTOCOL_VERSION, int(MsgType.RESULT_END)])
    hb = encode(MsgType.HEARTBEAT)
    chunk = compress_chunk(result)
    tail = (f',"chunks":1,"sha256":"{hashlib.sha256(result).hexdigest()}","size":{len(result)},'
            '"outcome":{"outcome":"ok"}}').encode()
    ready_header = MAGIC + bytes([PROTOCOL_VERSION, int(MsgType.READY)])
    poller = zmq.Poller()
    for s in socks:
        poller.register(s, zmq.POLLIN)
    last_hb = time.monotonic()
    while not stop_evt.is_set():
        for s, _ev in poller.poll(100):
            while True:
                try:
                    frames = s.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if frames[0][5] != MsgType.LEASE:
                    continue
                leases = json.loads(frames[1])["leases"]
                for lease in leases:
                    body = b'{"fragment_id":%d,"attempt":%d' % (lease["fragment_id"], lease["attempt"])
                    s.send_multipart([end_header, body + tail, chunk])
                s.send_multipart([ready_header, b'{"credit":%d}' % len(leases)])
        if time.monotonic() - last_hb > 0.2:
            for s in socks:
                s.send_multipart(hb)
            last_hb = time.monotonic()
    for s in socks:
        s.close(0)
    ctx.term()


def run(n: int, n_workers: int, credit: int, durability: str, procs: int,
        in_process: bool = False, image: bool = False, dashboard: bool = False,
        ledger: bool = False) -> dict:
    result = PIXEL if image else RESULT
    with tempfile.TemporaryDirectory() as d:
        hub = Hub(os.path.join(d, "bench.db"), bind="tcp://127.0.0.1:0", api="",
                  config=HubConfig(), durability=durability,
                  web="127.0.0.1:0" if dashboard else None).start()
        if ledger:      # issue 19: a signed receipt per accepted result, as cpushare-hub serve
            from cpushare_mq.market.ledger import DEFAULT_PRICE, HubLedger
            hub.ledger = HubLedger(hub.db_path, DEFAULT_PRICE)
        viewer = None
        try:
            t0 = time.perf_counter()
            frags = tile_fragments(n) if image else [b"%08d" % i for i in range(n)]
            job = hub.submit_job(JobSpec(program=b"bench", fragments=frags))
            t_submit = time.perf_counter() - t0
            if dashboard:
                viewer = Viewer(hub.web.base, hub.web.token, job)
            if in_process:      # fake workers as threads of the hub's own process (shared GIL)
                stop = threading.Event()
                workers = [threading.Thread(target=worker_proc, daemon=True,
                                            args=(hub.worker_endpoint, n_workers, credit, stop,
                                                  result))
                           for _ in range(procs)]
            else:
                stop = mp.Event()
                workers = [mp.Process(target=worker_proc,
                                      args=(hub.worker_endpoint, n_workers, credit, stop, result))
                           for _ in range(procs)]
            cpu0 = os.times()
            t1 = time.perf_counter()
            for p in workers:
                p.start()
            seq = 0
            first = None
            while True:
                seq = hub.wait_for_change(job, seq, 1.0)
                if first is None and seq > 0:
                    first = time.perf_counter()
                p = hub.job_progress(job)
                if p["state"] != "running":
                    break
            t2 = time.perf_counter()
            cpu1 = os.times()
            hub_cpu_s = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
            stop.set()
            for w in workers:
                w.join(10)
            assert p["done"] == n, p
            fin = hub.finished(job, 0, 1)
            assert b"".join(hub.result_chunks(fin[0].fragment_id)) == result
            seen = viewer.stop() if viewer is not None else None
            return {"dashboard": seen,"fragments": n, "workers": n_workers * procs, "credit": credit,
                    "fake_workers": "threads in the hub process" if in_process else "separate process",
                    "durability": durability, "submit_s": round(t_submit, 3),
                    "run_s": round(t2 - t1, 3), "per_s": round(n / (t2 - t1)),
                    "steady_per_s": round((n - 1) / (t2 - first)) if first else None,
                    "hub_cpu_s": round(hub_cpu_s, 3),
                    "per_hub_cpu_s": round(n / hub_cpu_s) if hub_cpu_s else None}
        finally:
            if viewer is not None:
                viewer.stop()
            hub.close()


PIXEL = b"\x30\x90\xe0"
IMAGE_W = 400


def tile_fragments(n: int) -> list[bytes]:
    """n 1x1 tiles of a 400-pixel-wide image (the povray tile format): a picture job."""
    from cpushare_mq.povray.tiles import Tile
    h = -(-n // IMAGE_W)
    return [Tile(IMAGE_W, h, i % IMAGE_W, i // IMAGE_W, 1, 1).encode() for i in range(n)]


def viewer_proc(base: str, token: str, job: str, stop_evt, counts) -> None:
    """A browser with the overview and the job page open: reads both event streams."""
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(base)
    conns = []
    for i, path in enumerate((f"/events/overview?token={token}", f"/events/job/{job}?token={token}")):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        c.request("GET", path)
        r = c.getresponse()
        assert r.status == 200, (path, r.status)
        conns.append((i, c, r))

    def read(i, r):
        while not stop_evt.is_set():
            data = r.fp.read1(1 << 16)
            if not data:
                return
            counts[2 * i] += data.count(b"event: ")
            counts[2 * i + 1] += data.count(b'"state": "done"')
    threads = [threading.Thread(target=read, args=(i, r), daemon=True) for i, _c, r in conns]
    for t in threads:
        t.start()
    stop_evt.wait()
    for _i, c, _r in conns:
        c.close()


class Viewer:
    def __init__(self, base: str, token: str, job: str):
        self.stop_evt = mp.Event()
        self.counts = mp.Array("q", 4)
        self.proc = mp.Process(target=viewer_proc, args=(base, token, job, self.stop_evt,
                                                         self.counts), daemon=True)
        self.proc.start()
        self.result = None

    def stop(self) -> dict:
        if self.result is None:
            self.stop_evt.set()
            self.proc.join(10)
            c = list(self.counts)
            self.result = {"overview_events": c[0], "job_events": c[2], "tiles_drawn": c[3]}
        return self.result


def compare_dashboard(args) -> dict:
    """Pairs of runs without and with the dashboard open (which goes first alternates);
    the ratio of each pair and their median."""
    pairs = []
    for i in range(args.dashboard):
        res = {}
        for with_dash in ((False, True) if i % 2 == 0 else (True, False)):  # order alternates
            res[with_dash] = run(args.fragments, args.workers, args.credit, args.durability,
                                 args.procs, image=True, dashboard=with_dash)
        base, dash = res[False], res[True]
        pairs.append({"without_per_s": base["per_s"], "with_per_s": dash["per_s"],
                      "ratio": round(dash["per_s"] / base["per_s"], 3),
                      "hub_cpu_ratio": round(dash["hub_cpu_s"] / base["hub_cpu_s"], 3),
                      "dashboard": dash["dashboard"]})
    ratios = sorted(p["ratio"] for p in pairs)
    return {"fragments": args.fragments, "pairs": pairs,
            "median_ratio": ratios[len(ratios) // 2],
            "loadavg_1m": os.getloadavg()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--fragments", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=4, help="fake worker sockets per process")
    ap.add_argument("--procs", type=int, default=1, help="fake worker processes")
    ap.add_argument("--credit", type=int, default=256, help="credit per worker")
    ap.add_argument("--durability", choices=["FULL", "NORMAL"], default="FULL")
    ap.add_argument("--in-process", action="store_true",
                    help="run the fake workers as threads of the hub's process (they then share "
                         "its GIL and CPU time: hub_cpu_s includes them)")
    ap.add_argument("--dashboard", type=int, default=0, metavar="PAIRS",
                    help="compare PAIRS runs without / with the dashboard open (picture job)")
    ap.add_argument("--ledger", action="store_true",
                    help="with the market ledger (signed receipts), as cpushare-hub serve runs")
    args = ap.parse_args(argv)
    if args.dashboard:
        print(json.dumps(compare_dashboard(args)))
        return 0
    res = run(args.fragments, args.workers, args.credit, args.durability, args.procs,
              args.in_process, ledger=args.ledger)
    res["goal_per_s"] = 20_000
    res["ratio_to_goal"] = round(res["per_s"] / 20_000, 2)
    res["cpu_ratio_to_goal"] = round(res["per_hub_cpu_s"] / 20_000, 2)
    res["loadavg_1m"] = os.getloadavg()[0]
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What does CURVE cost? Fragment throughput with and without encryption.

    .venv/bin/python bench/trust_curve.py                    # both modes, defaults
    .venv/bin/python bench/trust_curve.py --only wire --fragments 200000
    .venv/bin/python bench/trust_curve.py --only e2e --fragments 20000 --workers 2 --slots 2

wire: the protocol alone. A ROUTER (the hub's side, this process) leases fragments of
100 bytes to worker processes (DEALER, one per --workers) in windows of --credit; each
worker answers every LEASE with a RESULT_END carrying a compressed 100-byte chunk and a
signature-sized field, exactly the messages of docs/protocol.md. Plain TCP vs CURVE (with
the ZAP handler admitting every key). Goal: CURVE costs <= 10 %.

e2e: the real hub (embedded) + real `cpushare-worker` processes running c/build/examples/echo.elf
in the sandbox, plain (--insecure) vs CURVE (keys dir + --hub-key). Throughput from submit to
the last fragment DONE.

redundancy: what voting costs. One CURVE hub with the default trust policy, --workers keyed
workers (one slot each, their own identities), jobs of --fragments spin.elf fragments
(--spin-iters iterations each, CPU-bound) at k=1 (default spot checks), k=2 m=2 and k=3 m=2,
interleaved --repeat times. CPU = the workers' process trees (sandboxes included); ratios
against k=1 in the same run. Expected: about 2x and 3x, not more (at k=3 m=2 the third copy
is cancelled when two agree, so it can be less).

    .venv/bin/python bench/trust_curve.py --only redundancy --workers 3 --fragments 150
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import zmq  # noqa: E402
from benchprocs import start_workers, stop_all, wait_workers  # noqa: E402

from cpushare_mq import protocol  # noqa: E402
from cpushare_mq.protocol import MsgType  # noqa: E402
from cpushare_mq.trust.keys import generate_curve_keypair  # noqa: E402
from cpushare_mq.trust.zap import KeyPolicy, ZapHandler, make_curve_client, make_curve_server  # noqa: E402

BIN = Path(sys.executable).parent
LEASE = {"job_id": "j", "fragment_id": 0, "index": 0, "attempt": 0, "lease_s": 30.0,
         "program_sha256": "a" * 64, "shared_sha256": "b" * 64, "cpu_s": 1.0, "wall_s": 2.0,
         "max_output_bytes": 1000}


def wire_worker(endpoint: str, hub_public: bytes | None, stop_evt) -> None:
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    if hub_public is not None:
        make_curve_client(s, generate_curve_keypair(), hub_public)
    s.connect(endpoint)
    s.send_multipart(protocol.encode(MsgType.HELLO, {"worker_version": "b", "abi_version": 1,
                                                     "slots": 1}))
    chunk = protocol.compress_chunk(os.urandom(100))
    while not stop_evt.is_set():
        if not s.poll(100):
            continue
        msg = protocol.decode(s.recv_multipart())
        if msg.type is not MsgType.LEASE:
            continue
        for lease in msg["leases"]:
            s.send_multipart(protocol.encode(MsgType.RESULT_END, {
                "fragment_id": lease["fragment_id"], "attempt": 0, "chunks": 1,
                "sha256": "c" * 64, "size": 100, "outcome": {"outcome": "ok"},
                "signature": "d" * 128}, [chunk]))
    s.close(0)
    ctx.term()


def wire(fragments: int, workers: int, credit: int, curve: bool) -> float:
    ctx = zmq.Context()
    keys = generate_curve_keypair()
    zap = ZapHandler(ctx, KeyPolicy()).start() if curve else None
    r = ctx.socket(zmq.ROUTER)
    r.linger = 0
    if curve:
        make_curve_server(r, keys)
    port = r.bind_to_random_port("tcp://127.0.0.1")
    stop = mp.Event()
    procs = [mp.Process(target=wire_worker, args=(f"tcp://127.0.0.1:{port}",
                                                  keys.public if curve else None, stop))
             for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        peers = []
        while len(peers) < workers:
            rid, *frames = r.recv_multipart()
            if protocol.decode(frames).type is MsgType.HELLO:
                peers.append(rid)
        payload = os.urandom(100)
        sent = done = 0
        t0 = time.perf_counter()

        def lease_to(rid: bytes, n: int) -> int:
            nonlocal sent
            n = min(n, fragments - sent)
            if n <= 0:
                return 0
            body = [dict(LEASE, fragment_id=sent + i) for i in range(n)]
            r.send_multipart([rid, *protocol.encode(MsgType.LEASE, {"leases": body},
                                                    [payload] * n, validate=False)])
            sent += n
            return n
        for rid in peers:
            lease_to(rid, credit)
        while done < fragments:
            rid, *frames = r.recv_multipart()
            msg = protocol.decode(frames)
            if msg.type is MsgType.RESULT_END:
                protocol.decompress_chunk(msg.blobs[0], 1 << 20)
                done += 1
                lease_to(rid, 1)
        return fragments / (time.perf_counter() - t0)
    finally:
        stop.set()
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
        r.close(0)
        if zap:
            zap.stop()
        ctx.term()


def e2e(fragments: int, workers: int, slots: int, mode: str) -> float:
    """mode: "plain" (--insecure), "curve" (CURVE + signed results, no spot checks) or
    "spot" (CURVE + signed results + the default adaptive spot checks)."""
    from cpushare_mq.hub.scheduler import JobSpec
    from cpushare_mq.hub.server import Hub
    from cpushare_mq.native import find_binary
    from cpushare_mq.trust.hubside import HubTrust
    from cpushare_mq.trust.reputation import TrustPolicy

    tmp = Path(tempfile.mkdtemp(prefix="cpmq-trust-bench-"))
    trust = None
    if mode != "plain":
        policy = TrustPolicy() if mode == "spot" else TrustPolicy(
            spot_check_share=0.0, probation_share=0.0, trusted_share=0.0)
        trust = HubTrust(tmp / "hub.db", policy=policy)
    hub = Hub(tmp / "hub.db", bind="tcp://127.0.0.1:0", api="", insecure=mode == "plain",
              trust=trust).start()
    extra = ["--hub-key", str(tmp / "hub.keys" / "hub.pub")] if mode != "plain" else ["--insecure"]
    procs = []
    try:
        procs = start_workers(hub.worker_endpoint, tmp, workers, slots, extra, identities=True)
        wait_workers(hub, workers, 30)
        program = Path(find_binary("examples/echo.elf")).read_bytes()
        frags = [i.to_bytes(4, "little") * 25 for i in range(fragments)]
        t0 = time.perf_counter()
        job = hub.submit_job(JobSpec(program=program, fragments=frags, name="bench"))
        while hub.job_progress(job)["done"] < fragments:
            if time.perf_counter() - t0 > 600:
                raise SystemExit("e2e run did not finish within 600 s")
            time.sleep(0.02)
        rate = fragments / (time.perf_counter() - t0)
        if mode == "spot":
            with sqlite3.connect(tmp / "hub.db") as db:   # every run of a fragment, checks too
                runs = db.execute("SELECT COUNT(*) FROM attempts WHERE sha256 IS NOT NULL "
                                  "AND sha256 != ''").fetchone()[0]
            print(f"      spot checks: {runs} results for {fragments} fragments = "
                  f"{(runs / fragments - 1) * 100:.1f} % extra runs", flush=True)
        return rate
    finally:
        stop_all(procs)
        hub.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _tree_cpu_s(procs) -> float:
    """CPU seconds of the worker processes, their reaped children and live descendants."""
    import psutil

    total = 0.0
    for p in procs:
        try:
            ps = psutil.Process(p.pid)
            t = ps.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
            for c in ps.children(recursive=True):
                try:
                    ct = c.cpu_times()
                    total += ct.user + ct.system
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
    return total


def redundancy(fragments: int, workers: int, iters: int, repeat: int) -> None:
    """k=1 / k=2 m=2 / k=3 m=2 on one keyed hub: CPU and sandbox runs per fragment."""
    import struct

    from cpushare_mq.hub.scheduler import JobSpec
    from cpushare_mq.hub.server import Hub
    from cpushare_mq.native import find_binary

    if workers < 3:
        raise SystemExit("--only redundancy needs --workers >= 3 (k=3 needs 3 distinct keys)")
    tmp = Path(tempfile.mkdtemp(prefix="cpmq-redundancy-bench-"))
    hub = Hub(tmp / "hub.db", bind="tcp://127.0.0.1:0", api="", insecure=False).start()
    procs = []
    try:
        procs = start_workers(hub.worker_endpoint, tmp, workers, 1,
                              ["--hub-key", str(tmp / "hub.keys" / "hub.pub")], identities=True)
        wait_workers(hub, workers, 60)
        program = Path(find_binary("examples/spin.elf")).read_bytes()
        cpu: dict[int, list[float]] = {}
        runs: dict[int, list[float]] = {}
        for rnd in range(repeat):
            for k, m in ((1, 1), (2, 2), (3, 2)):
                frags = [struct.pack("<Q", iters + i) + b"r%d-%d" % (rnd, i)
                         for i in range(fragments)]
                c0, t0 = _tree_cpu_s(procs), time.perf_counter()
                job = hub.submit_job(JobSpec(program=program, fragments=frags, redundancy=k,
                                             quorum=m, name=f"k{k}"))
                while hub.job_progress(job)["state"] == "running":
                    if time.perf_counter() - t0 > 900:
                        raise SystemExit("a redundancy run did not finish within 900 s")
                    time.sleep(0.05)
                time.sleep(0.5)        # let cancelled copies' sandboxes be reaped
                used = _tree_cpu_s(procs) - c0
                with sqlite3.connect(tmp / "hub.db") as db:
                    n = db.execute("SELECT COUNT(*) FROM attempts WHERE job_id = ? AND sha256 "
                                   "IS NOT NULL AND sha256 != ''", (job,)).fetchone()[0]
                cpu.setdefault(k, []).append(used / fragments)
                runs.setdefault(k, []).append(n / fragments)
                print(f"redundancy k={k} m={m}: {used:7.2f} s CPU for {fragments} fragments "
                      f"({used / fragments * 1000:.1f} ms each), {n / fragments:.2f} results per "
                      f"fragment, {time.perf_counter() - t0:.1f} s wall", flush=True)
        med = {k: sorted(v)[len(v) // 2] for k, v in cpu.items()}
        rmed = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}
        print(f"redundancy (medians of {repeat}): CPU per fragment k=1 {med[1] * 1000:.1f} ms, "
              f"k=2 {med[2] / med[1]:.2f}x, k=3 m=2 {med[3] / med[1]:.2f}x of k=1; results per "
              f"fragment {rmed[1]:.2f} / {rmed[2]:.2f} / {rmed[3]:.2f}", flush=True)
    finally:
        stop_all(procs)
        hub.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["wire", "e2e", "redundancy"])
    ap.add_argument("--spin-iters", type=int, default=8_000_000,
                    help="redundancy: spin.elf iterations per fragment (default %(default)s)")
    ap.add_argument("--fragments", type=int, default=0, help="default: 100000 wire, 10000 e2e")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--credit", type=int, default=64, help="wire: fragments in flight per worker")
    ap.add_argument("--repeat", type=int, default=3, help="runs per mode; the best is reported")
    a = ap.parse_args(argv)
    if a.only in (None, "wire"):
        n = a.fragments or 100_000
        best = {}
        for curve in [False, True] * max(1, a.repeat):   # interleaved: load drifts
            rate = wire(n, a.workers, a.credit, curve)
            best[curve] = max(best.get(curve, 0.0), rate)
            print(f"wire {'curve' if curve else 'plain':5s} {n} fragments: {rate:10.0f} /s",
                  flush=True)
        print(f"wire: plain {best[False]:.0f}/s, curve {best[True]:.0f}/s, "
              f"CURVE costs {(1 - best[True] / best[False]) * 100:.1f} % (goal <= 10 %)", flush=True)
    if a.only in (None, "e2e"):
        n = a.fragments or 10_000
        best = {}
        for mode in ["plain", "curve", "spot"] * max(1, a.repeat):
            rate = e2e(n, a.workers, a.slots, mode)
            best[mode] = max(best.get(mode, 0.0), rate)
            print(f"e2e  {mode:5s} {n} fragments: {rate:10.0f} /s", flush=True)
        print(f"e2e: plain {best['plain']:.0f}/s, CURVE + signatures {best['curve']:.0f}/s "
              f"(costs {(1 - best['curve'] / best['plain']) * 100:.1f} %, goal <= 10 %), "
              f"+ spot checks {best['spot']:.0f}/s", flush=True)
    if a.only == "redundancy":
        redundancy(a.fragments or 150, max(3, a.workers), a.spin_iters, max(1, a.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())

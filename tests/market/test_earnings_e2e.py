"""Issue 19, the seller's side, from the command line with the defaults (keys on): the hub
(``cpushare-hub serve --price``) sends each signed receipt to the worker that earned it, the
worker keeps it in its own SQLite file (``cpushare-worker earnings``), and the two sides
reconcile exactly per worker — across a hub killed with SIGKILL and restarted, and a worker
killed and restarted (a reconnect with the same identity) while receipts were owed to it."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import struct
from collections import defaultdict
from decimal import Decimal

from waiting import wait_for

from cpushare_mq.client import Client
from cpushare_mq.native import find_binary

from .test_ledger_e2e import BIN, ledger_json


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def earnings(root, ident: str, *args: str) -> list[dict]:
    import subprocess

    r = subprocess.run([str(BIN / "cpushare-worker"), "earnings", "--config-dir", ident,
                        "--json", *args], capture_output=True, text=True, timeout=120, cwd=root)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def per_worker(receipts: list[dict]) -> dict[str, tuple[int, int, Decimal]]:
    out: dict[str, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for r in receipts:
        t = out[r["worker_key"]]
        t[0] += 1
        t[1] += r["cpu_us"]
        t[2] += Decimal(r["amount"])
    return {k: tuple(v) for k, v in out.items()}


def fragments(n: int, tag: str) -> list[bytes]:
    return [struct.pack("<Q", 60_000_000) + f"{tag}{i}".encode() for i in range(n)]


def done(root, job: str) -> int:
    import sqlite3

    db = sqlite3.connect(f"file:{root / 'hub.db'}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM fragments WHERE job_id=? AND state='DONE'",
                          (job,)).fetchone()[0]
    finally:
        db.close()


def test_ledger_and_earnings_reconcile_across_kill9_and_reconnect(ledger_procs):
    root = ledger_procs.root
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    hub = ledger_procs.hub("hub", endpoint)
    assert hub == endpoint

    def worker(name: str):
        return ledger_procs.worker(name, endpoint, slots=1)

    worker("w1")
    w2 = worker("w2")
    spin = find_binary("examples/spin.elf").read_bytes()
    n = 30
    job = Client(str(root / "hub.db.sock")).submit(spin, fragments(n, "a")).id
    wait_for(lambda: done(root, job) >= 4, 120, "a few fragments done",
             explain=lambda: ledger_procs.log("hub")[-3000:])
    assert done(root, job) < n
    os.killpg(ledger_procs.procs[0].pid, signal.SIGKILL)     # the hub dies mid-job
    ledger_procs.procs[0].wait(30)
    ledger_procs.hub("hub2", endpoint)                        # and comes back on its database
    wait_for(lambda: done(root, job) >= 10, 120, "the job going on after the restart",
             explain=lambda: ledger_procs.log("hub2")[-3000:])
    assert done(root, job) < n
    os.killpg(w2.pid, signal.SIGKILL)                  # a worker dies while being paid
    w2.wait(30)
    wait_for(lambda: done(root, job) >= 15, 120, "more fragments done without w2",
             explain=lambda: ledger_procs.log("hub2")[-3000:])
    assert done(root, job) < n
    worker("w2")             # the same identity reconnects: owed receipts come now
    wait_for(lambda: done(root, job) == n, 240, "the job to finish",
             explain=lambda: ledger_procs.log("hub2")[-3000:])

    ledger = ledger_json(root)
    ids = [r["fragment_id"] for r in ledger]
    assert len(ids) == len(set(ids)) == n          # one receipt per fragment, ever
    hub_side = per_worker(ledger)
    mine = {}

    def delivered() -> bool:
        mine.clear()
        for ident in ("id-w1", "id-w2"):
            mine[ident] = earnings(root, ident)
        seller_side = per_worker([r for got in mine.values() for r in got])
        return seller_side == hub_side

    wait_for(delivered, 60, "every receipt at its worker",
             explain=lambda: f"hub {hub_side}\nworkers {[per_worker(m) for m in mine.values()]}")
    # the same signed records on both sides, each kept once
    seller = sorted((r for got in mine.values() for r in got), key=lambda r: r["fragment_id"])
    assert seller == sorted(ledger, key=lambda r: r["fragment_id"])
    assert {r["worker_key"] for r in mine["id-w2"]} != {r["worker_key"] for r in mine["id-w1"]}
    # fresh receipts came a batch (one signature) at a time, as columns (feature
    # receipt_columns: one hash a batch); those signed while a worker was away (the restarted
    # hub pays what its store accepted before it signed) came as rows, resent one by one
    for ident in ("id-w1", "id-w2"):
        db = sqlite3.connect(f"file:{root / ident / 'earnings.db'}?mode=ro", uri=True)
        kept = [json.loads(text) for (text,) in db.execute("SELECT wire FROM receipt_batches")]
        assert kept and all(list(body) == ["columns"] for body in kept)
        alone = db.execute("SELECT count(*) FROM receipts").fetchone()[0]
        assert alone < sum(len(body["columns"][0]["columns"][0]) for body in kept)
        db.close()
    # the table's totals: what the seller sees, per hub
    r = earnings_table(root, "id-w1")
    total = sum(Decimal(x["amount"]) for x in mine["id-w1"])
    assert f"{len(mine['id-w1'])} receipts" in r and f"{total} EUR" in r


def earnings_table(root, ident: str) -> str:
    import subprocess

    r = subprocess.run([str(BIN / "cpushare-worker"), "earnings", "--config-dir", ident],
                       capture_output=True, text=True, timeout=120, cwd=root)
    assert r.returncode == 0, r.stderr
    return r.stdout

"""Issue 19 as an attacker would try it, from the command line with the defaults (keys on):
a seller whose sandbox returns wrong answers (``tests/loader_proxy.c`` in its "liar" mode,
behind the shipped ``cpushare-worker``) joins a paying hub (``cpushare-hub serve --price``)
first, so its copies of a redundant job's fragments are counted before anyone else's. It
must not be paid for any of them: the hub pays each fragment once, at acceptance, to the
copy the fragment was accepted with."""

from __future__ import annotations

import os
import sqlite3
import struct
import subprocess

from proxied_loader import proxied_native_dir
from waiting import wait_for

from cpushare_mq.client import Client
from cpushare_mq.native import find_binary

from .test_earnings_e2e import done
from .test_ledger_e2e import BIN, ledger_json

N = 8


def liar_votes(root) -> int:
    db = sqlite3.connect(f"file:{root / 'hub.db'}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM attempts a JOIN workers w ON w.id = a.worker_id"
                          " WHERE w.name = 'liar' AND a.end = 'vote'").fetchone()[0]
    finally:
        db.close()


def key_of(root, name: str) -> str:
    db = sqlite3.connect(f"file:{root / 'hub.db'}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT worker_key FROM workers WHERE name = ?", (name,)).fetchone()[0]
    finally:
        db.close()


def accepted_copies(root) -> dict[int, int]:
    """fragment -> the attempt it was accepted with (hub store)."""
    db = sqlite3.connect(f"file:{root / 'hub.db'}?mode=ro", uri=True, timeout=30)
    try:
        return dict(db.execute("SELECT id, result_attempt FROM fragments WHERE state = 'DONE'"))
    finally:
        db.close()


def test_a_liar_counted_first_is_never_paid_and_each_fragment_is_paid_once(ledger_procs):
    root = ledger_procs.root
    endpoint = ledger_procs.hub("hub")

    def worker(name: str, slots: int, native=None):
        env = {**os.environ, **({"CPUSHARE_NATIVE_DIR": str(native)} if native else {})}
        with open(root / f"{name}.log", "ab") as log:
            ledger_procs.procs.append(subprocess.Popen(
                [str(BIN / "cpushare-worker"), "--hub", endpoint, "--hub-key",
                 "hub.keys/hub.pub", "--slots", str(slots), "--name", name, "--cache-dir",
                 f"cache-{name}", "--config-dir", f"id-{name}"], stdout=log,
                stderr=subprocess.STDOUT, cwd=root, start_new_session=True, env=env))

    worker("liar", 2, proxied_native_dir(root / "native-liar", "liar", 0))
    wait_for(lambda: "joined (" in ledger_procs.log("hub"), 120, "the liar joined",
             explain=lambda: ledger_procs.log("hub")[-3000:])
    spin = find_binary("examples/spin.elf").read_bytes()
    frags = [struct.pack("<Q", 5_000_000) + b"v%d" % i for i in range(N)]
    job = Client(str(root / "hub.db.sock")).submit(spin, frags, redundancy=2).id
    # alone on the hub, the liar's copies are the first ones counted
    wait_for(lambda: liar_votes(root) >= 2, 120, "two of the liar's copies counted",
             explain=lambda: ledger_procs.log("hub")[-3000:])
    worker("a", 1)
    worker("b", 1)
    wait_for(lambda: done(root, job) == N, 300, "the job to finish",
             explain=lambda: ledger_procs.log("hub")[-3000:])

    liar = key_of(root, "liar")
    receipts = ledger_json(root)
    assert liar not in {r["worker_key"] for r in receipts}, receipts
    paid = {r["fragment_id"]: r["attempt"] for r in receipts}
    assert len(paid) == len(receipts) == N                # one receipt per fragment
    assert paid == accepted_copies(root)                  # to the copy accepted

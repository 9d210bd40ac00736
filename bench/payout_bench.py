#!/usr/bin/env python3
"""The hub's side of paying, through its payout hooks, in one process (issue 19).

    .venv/bin/python bench/payout_bench.py                  # 1000 turns of 17 results
    .venv/bin/python bench/payout_bench.py --turns 2000 --per-turn 40

Each turn, as the hub's loop does with a price: ``--per-turn`` ok results counted as votes
(``on_copy``: claims, metering) from two worker keys, their fragments accepted
(``settle``: receipts issued and stored), then what goes out (``outgoing``: signed as the
hub signs, encoded as ``RECEIPTS``) and the workers' ``RECEIPT_ACK`` recorded (``on_ack``).
The job is stored with its terms, as the hub stores a job it is given (the hub's price). A
turn is 3 ms of the loop's clock, with 10 leases out. Reported: this thread's CPU time per
receipt (``time.thread_time``). Runs against older trees too (``PYTHONPATH=<tree>``): where
``outgoing`` took no clock it is called without one; where the payout did not follow the
hub's store, it is made without one and settles before the store would commit.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from cpushare_mq.hub.scheduler import JobSpec  # noqa: E402
from cpushare_mq.hub.scheduler.effects import Effects  # noqa: E402
from cpushare_mq.hub.store import Store  # noqa: E402
from cpushare_mq.market.ledger import HubLedger  # noqa: E402
from cpushare_mq.market.money import parse_price  # noqa: E402
from cpushare_mq.market.payout import Payout, job_terms  # noqa: E402
from cpushare_mq.protocol import Feature, MsgType, decode, encode, encode_trusted  # noqa: E402

TURN_S = 0.003


def run(turns: int, per_turn: int) -> float:
    db = os.path.join(tempfile.mkdtemp(prefix="cpmq-payout-"), "hub.db")
    ledger = HubLedger(db, parse_price("0.05"))
    following = "store" in inspect.signature(Payout).parameters   # the ledger follows the
    pay = Payout(ledger, Store(db)) if following else Payout(ledger)      # store (or not yet)
    keys = [Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex() for _ in "ab"]
    features = [f.value for f in Feature if f.value.startswith("receipt")]   # all it knows
    for i, key in enumerate(keys):
        pay.on_hello(f"w-{i}", key, features)
    clocked = len(inspect.signature(pay.outgoing).parameters) > 0
    core = SimpleNamespace(leases_out=lambda: 10)     # the hub's scheduler: leases out
    pay.on_job("j-1", job_terms(pay, JobSpec(program=b"p", fragments=[b""])), core)  # stored
    fid, now, spent = 0, 1000.0, 0.0
    for turn in range(turns + turns // 10):          # the first tenth warms up
        t0 = time.thread_time()
        accepted = []
        for _ in range(per_turn):
            fid += 1
            pay.on_copy("j-1", keys[fid % 2], fid, 1, 0.000123, 60.0)
            accepted.append((fid, "j-1", 1))
        if following:       # settled once the store committed them, up to acceptance fid
            pay.settle(Effects(accepted=accepted), fid)
        else:
            pay.settle(Effects(accepted=accepted))
        now += TURN_S
        for wid, body in pay.outgoing(now, core) if clocked else pay.outgoing():
            encode_trusted(MsgType.RECEIPTS, body)
            acked = [row[1] for b in body.get("batches", ()) for row in b["rows"]]
            acked += [fid for b in body.get("columns", ()) for fid in b["columns"][0]]
            acked += [r["fragment_id"] for r in body.get("receipts", ())]
            pay.on_ack(wid, decode(encode(MsgType.RECEIPT_ACK, {"fragment_ids": acked}))[
                "fragment_ids"])
        if turn >= turns // 10:
            spent += time.thread_time() - t0
    pay.close()
    return spent / (turns * per_turn) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=1000)
    ap.add_argument("--per-turn", type=int, default=17, help="results accepted a turn")
    args = ap.parse_args()
    print(f"{run(args.turns, args.per_turn):.1f} us of the hub's CPU per receipt")


if __name__ == "__main__":
    main()

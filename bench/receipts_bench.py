#!/usr/bin/env python3
"""The receipt path of one paid result, stage by stage, in one process (issue 19).

    .venv/bin/python bench/receipts_bench.py                   # 300 turns of 30 receipts
    .venv/bin/python bench/receipts_bench.py --turns 1000 --per-turn 60
    .venv/bin/python bench/receipts_bench.py --per-turn 600 --rows      # row batches

Each turn: the hub's ledger issues ``--per-turn`` receipts for one worker, stores them (one
transaction) and signs them (one signature, one transaction: a running hub signs every
0.25 s, so ``--per-turn 600`` is nearer a loaded hub: batches of up to 256 receipts), each
batch is encoded as the hub sends it (``RECEIPTS``),
decoded and checked as the worker does and stored in its earnings file, and the worker's
``RECEIPT_ACK`` is decoded and recorded by the hub. Reported: this thread's CPU time per
receipt for each stage (``time.thread_time``: steady on a busy machine, unlike wall time).
The end-to-end figure is ``bench/e2e_throughput.py --secure`` with and without ``--price``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from cpushare_mq.market.ledger import HubLedger  # noqa: E402
from cpushare_mq.market.money import parse_price  # noqa: E402
from cpushare_mq.protocol import MsgType, decode, encode_trusted  # noqa: E402
from cpushare_mq.worker.earnings import Earnings  # noqa: E402

STAGES = ("issue", "commit", "encode", "decode", "take", "ack")


def take(earnings: Earnings, msg, frames) -> list[int]:
    """The worker's check and store, as its agent calls it (with the message's text where
    this tree's worker keeps it)."""
    batches = [*msg["batches"], *msg.body.get("columns", ())]
    if "body" in inspect.signature(earnings.take).parameters:
        return earnings.take("HUBCURVE", msg["receipts"], batches, bytes(frames[1]))
    return earnings.take("HUBCURVE", msg["receipts"], batches)


def sign(ledger: HubLedger, rows: bool):
    """The ledger's signing: as column batches where this tree has them, unless ``rows``."""
    if "as_columns" in inspect.signature(ledger.sign).parameters:
        return ledger.sign(lambda key: not rows)
    return ledger.sign()


def run(turns: int, per_turn: int, rows: bool = False) -> dict[str, float]:
    tmp = tempfile.mkdtemp(prefix="cpmq-receipts-")
    ledger = HubLedger(os.path.join(tmp, "hub.db"), parse_price("0.05"))
    worker_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    earnings = Earnings(tmp, worker_key)
    spent = dict.fromkeys(STAGES, 0.0)
    fid = 0
    clock = time.thread_time
    #: 123 us, as issue_many takes it (older trees: in seconds, with the job's limit)
    claim = 123 if hasattr(ledger, "issue_many") and "limit_cpu_s" not in inspect.signature(
        ledger.issue_many).parameters else 0.000123
    for _ in range(turns):
        t0 = clock()
        if hasattr(ledger, "issue_many"):     # a turn's results of one job, as the hub does
            ledger.issue_many("job-1", [(worker_key, f, 1, claim)
                                        for f in range(fid + 1, fid + per_turn + 1)])
            fid += per_turn
        else:
            for _ in range(per_turn):
                fid += 1
                ledger.issue("job-1", worker_key, fid, 1, 0.000123)
        t1 = clock()
        ledger.commit()
        signed = sign(ledger, rows)
        batches = [b for b, _ in getattr(signed, "batches", signed)]   # (older trees: a list)
        t2 = clock()
        sent = [encode_trusted(MsgType.RECEIPTS, {getattr(b, "WIRE_FIELD", "batches"): [
            b.to_wire()]}) for b in batches]
        t3 = clock()
        got = [(decode(frames), frames) for frames in sent]
        t4 = clock()
        acked = [take(earnings, msg, frames) for msg, frames in got]
        t5 = clock()
        for fids in acked:          # one RECEIPT_ACK a message, as sent
            ack = decode(encode_trusted(MsgType.RECEIPT_ACK, {"fragment_ids": fids}))
            ledger.delivered(worker_key, ack["fragment_ids"])
        t6 = clock()
        if sum(map(len, acked)) != per_turn:
            raise SystemExit(f"the worker kept {sum(map(len, acked))} of {per_turn} receipts")
        for stage, a, b in zip(STAGES, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6),
                               strict=True):
            spent[stage] += b - a
    earnings.close()
    ledger.close()
    n = turns * per_turn
    return {stage: s / n * 1e6 for stage, s in spent.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--per-turn", type=int, default=30, help="receipts per turn (one worker)")
    ap.add_argument("--rows", action="store_true",
                    help="sign row batches, as for a worker without 'receipt_columns'")
    args = ap.parse_args()
    us = run(args.turns, args.per_turn, args.rows)
    print(" ".join(f"{k} {v:.1f}" for k, v in us.items()),
          f"total {sum(us.values()):.1f} us of CPU per receipt")


if __name__ == "__main__":
    main()
